// The phases that never talk to AWS must not load the AWS SDK: walk the
// import graph of each from its source, following static imports and dynamic
// import() alike, and check that neither src/ssm/client.ts nor any @aws-sdk package
// is reachable. main.ts is walked by its static imports only: its dynamic
// imports are the subcommands, and only the one that runs is taken.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SRC = join(ROOT, "src");
const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every module reachable from `entry`: project files by path, packages by name. Type-only imports are not imports. */
function reachable(entry: string, followDynamic = true): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { path, kind } of transpiler.scanImports(readFileSync(file, "utf8"))) {
      if (!followDynamic && kind === "dynamic-import") continue;
      if (!path.startsWith(".")) seen.add(path);
      else if (path.endsWith(".ts")) visit(resolve(dirname(file), path));
      else seen.add(resolve(dirname(file), path));
    }
  };
  visit(entry);
  return seen;
}

const awsModules = (modules: Set<string>) => [...modules].filter((name) => name.startsWith("@aws-sdk/") || name === join(SRC, "ssm", "client.ts")).map((name) => (name.startsWith("/") ? relative(ROOT, name) : name));

// What runs before any phase: the CLI's static imports, and the context every phase gets.
const common = new Set([...reachable(join(SRC, "main.ts"), false), ...reachable(join(SRC, "job", "context.ts"))]);

for (const phase of ["pre-checkout", "post-checkout", "post-command", "pre-exit"]) {
  test(`the ${phase} phase cannot reach the AWS SDK`, () => {
    const modules = new Set([...common, ...reachable(join(SRC, "phases", `${phase}.ts`))]);
    assert.equal(awsModules(modules), []);
    assert.ok(modules.has(join(SRC, "phases", `${phase}.ts`)));
  });
}

test("the walk does find the SDK where it is: the environment phase, through src/ssm/client.ts's dynamic import", () => {
  assert.equal(awsModules(reachable(join(SRC, "phases", "environment.ts"))).sort(), ["@aws-sdk/client-ssm", "@aws-sdk/credential-provider-node", "src/ssm/client.ts"]);
  // A type-only import is not an import: client.ts imports SSMClient's type statically.
  assert.ok(readFileSync(join(SRC, "ssm", "client.ts"), "utf8").includes('import type { SSMClient } from "@aws-sdk/client-ssm"'));
});

test("the environment phase's hot path loads no SDK package: the client, the chain and IMDS only when needed", () => {
  const staticOnly = reachable(join(SRC, "phases", "environment.ts"), false);
  assert.ok(staticOnly.has(join(SRC, "ssm", "client.ts")));
  assert.equal([...staticOnly].filter((name) => name.startsWith("@aws-sdk/") || name.startsWith("@smithy/")), []);
});

// Bun's node: modules cost a phase at start-up: node:fs about 3 ms, node:crypto
// 7 to 12 ms and 6 MiB (measured with compiled probes; BENCHMARKS.md). A
// phase's static imports may reach only these.
const CHEAP_BUILTINS = ["node:fs", "node:path", "node:os"];
const builtins = (modules: Set<string>) => [...modules].filter((name) => name.startsWith("node:") || name.startsWith("bun:"));

for (const phase of ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit", "git-credential"]) {
  test(`the ${phase} phase loads no Node module but ${CHEAP_BUILTINS.join(", ")} before it needs one`, () => {
    const modules = new Set([...common, ...reachable(join(SRC, "phases", `${phase}.ts`), false)]);
    assert.equal(builtins(modules).filter((name) => !CHEAP_BUILTINS.includes(name)), []);
  });
}

// node:fs alone costs a phase about 4 ms (src/core/files.ts): the phases
// after environment load it only when they log, print more than one atomic
// write (src/core/stdio.ts), or find a job record. (pre-checkout always
// prints the job's agent: a few hundred bytes, written natively.)
test("the phases after environment import node:fs only when they need it, and no phase imports node:path", () => {
  const staticCommon = [...reachable(join(SRC, "main.ts"), false), ...reachable(join(SRC, "job", "context.ts"), false)];
  for (const phase of ["pre-checkout", "post-checkout", "post-command", "pre-exit"]) {
    const modules = new Set([...staticCommon, ...reachable(join(SRC, "phases", `${phase}.ts`), false)]);
    assert.not.ok(modules.has("node:fs"), phase);
  }
  // Nor node:path (~1.3 ms): src/core/paths.ts has what they use of it. For
  // environment that is before its first request, and again for the module
  // that applies the answers, which loads while SSM answers.
  for (const phase of ["environment", "environment-apply", "git-credential", "pre-checkout", "post-checkout", "post-command", "pre-exit"]) {
    assert.not.ok(new Set([...staticCommon, ...reachable(join(SRC, "phases", `${phase}.ts`), false)]).has("node:path"), phase);
  }
  // pre-exit reads a job's record only when there is one, with the module that checks it,
  assert.not.ok(reachable(join(SRC, "phases", "pre-exit.ts"), false).has(join(SRC, "job", "state.ts")));
  assert.ok(reachable(join(SRC, "phases", "pre-exit.ts")).has(join(SRC, "job", "state.ts")));
  // and the walk does see node:fs where a module imports it.
  assert.ok(reachable(join(SRC, "job", "state.ts"), false).has("node:fs"));
});

test("pre-exit loads the code that stops agents and removes files only when a step applies", () => {
  const staticOnly = reachable(join(SRC, "phases", "pre-exit.ts"), false);
  for (const heavy of [join(SRC, "ssh", "sshagent.ts"), join(SRC, "secrets", "secretfiles.ts")]) assert.not.ok(staticOnly.has(heavy), relative(ROOT, heavy));
  // and it does reach them, lazily.
  assert.ok(reachable(join(SRC, "phases", "pre-exit.ts")).has(join(SRC, "ssh", "sshagent.ts")));
});

test("environment loads the code that applies SSM's answers only after its requests are out", () => {
  const staticOnly = reachable(join(SRC, "phases", "environment.ts"), false);
  const later = [
    "phases/environment-apply.ts", "secrets/secretsmanager.ts", "secrets/redact.ts", "secrets/secretfiles.ts", "ssh/sshagent.ts", "secrets/gitcredentials.ts",
    // The checks of the job's settings, logged while SSM answers.
    "job/variables.ts", "job/nothing-found.ts", "job/record.ts", "core/closest.ts",
  ];
  for (const module of later) assert.not.ok(staticOnly.has(join(SRC, module)), module);
  // and it does reach them, lazily.
  for (const module of later) assert.ok(reachable(join(SRC, "phases", "environment.ts")).has(join(SRC, module)), module);
});

test("a job's phases read through a store that cannot write: the operations that manage the tree are not even loaded", () => {
  const admin = join(SRC, "ssm", "admin.ts");
  for (const phase of ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit", "git-credential"]) {
    assert.not.ok(new Set([...common, ...reachable(join(SRC, "phases", `${phase}.ts`))]).has(admin), phase);
  }
  // and the operator commands that manage the tree do reach them.
  assert.ok(reachable(join(SRC, "commands", "put.ts")).has(admin));
});

test("the builtins check sees a Node module where one is imported", () => {
  assert.ok(builtins(reachable(join(SRC, "commands", "put.ts"), false)).length > 0);
});

test("main.ts loads every subcommand lazily, so its static imports stay small", () => {
  const staticOnly = reachable(join(SRC, "main.ts"), false);
  assert.equal(awsModules(staticOnly), []);
  assert.not.ok([...staticOnly].some((name) => name.includes("/phases/")));
  // Nor the CLI framework or a colour library: a phase called alone needs neither.
  assert.not.ok(common.has("cac") || common.has("picocolors"), [...common].join(", "));
});

test.run();
