// The GitHub workflows parse as YAML, run on the right events, and every
// `run:` step calls only entry points that exist: make targets in the
// Makefile, flags build.ts accepts, scripts and paths in the repository.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_OPTIONS, TARGETS } from "../build.ts";
import pkg from "../package.json" with { type: "json" };
import { ROOT } from "./support/job.ts";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  name: string;
  on: Record<string, { tags?: string[]; branches?: string[] } | null>;
  permissions?: Record<string, string>;
  jobs: Record<string, { "runs-on": string; steps: Step[] }>;
}

const WORKFLOWS_DIR = join(ROOT, ".github/workflows");
const workflows = Object.fromEntries(
  readdirSync(WORKFLOWS_DIR)
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => [file, Bun.YAML.parse(readFileSync(join(WORKFLOWS_DIR, file), "utf8")) as Workflow]),
);

/** Tools the runner image provides; anything else a step calls must be in the repository. */
const SYSTEM_TOOLS = new Set(["npm", "make", "bash", "cd", "sha256sum", "gh"]);
const MAKE_TARGETS = new Set([...readFileSync(join(ROOT, "Makefile"), "utf8").matchAll(/^([A-Za-z0-9_.-]+):(?!=)/gm)].map((m) => m[1]!));

/** Split a run script into simple commands of words, quotes removed; redirection targets are dropped. */
function commands(script: string): string[][] {
  const result: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  let redirect = false;
  const endWord = () => {
    if (word !== null && !redirect) words.push(word);
    if (word !== null) redirect = false;
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length) result.push(words);
    words = [];
  };
  const text = script.replace(/\\\n/g, " ");
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      assert.ok(close > i, `unterminated quote in: ${script}`);
      word = (word ?? "") + text.slice(i + 1, close);
      i = close;
    } else if (c === "#" && word === null) {
      while (i < text.length && text[i] !== "\n") i++;
      endCommand();
    } else if (c === "\n" || c === ";" || c === "&" || c === "|") {
      endCommand();
    } else if (c === ">" || c === "<") {
      endWord();
      redirect = true;
    } else if (c === " " || c === "\t") {
      endWord();
    } else {
      word = (word ?? "") + c;
    }
  }
  endCommand();
  return result;
}

/** What is wrong with one command of a job, given whether an earlier step built dist/. */
function problems(words: string[], built: boolean): string[] {
  const found: string[] = [];
  const [program = "", ...args] = words;
  const isPath = (word: string) => /^[\w.-]*\/[\w.\-/*]*$/.test(word) && !word.includes("://");
  const checkPath = (word: string) => {
    if (word.startsWith("dist/") || word === "dist") {
      if (!built) found.push(`${word} is used before any step builds dist/`);
    } else if (word.includes("*") || !existsSync(join(ROOT, word))) {
      found.push(`${word} does not exist in the repository`);
    }
  };

  if (isPath(program)) checkPath(program);
  else if (!SYSTEM_TOOLS.has(program)) found.push(`unknown program ${program}`);

  if (program === "make") {
    for (const target of args.filter((arg) => !arg.startsWith("-") && !arg.includes("="))) {
      if (!MAKE_TARGETS.has(target)) found.push(`make target ${target} is not in the Makefile`);
    }
  }
  if (program === "npm" && !(args[0] === "ci" || (args[0] === "run" && args[1]! in pkg.scripts))) found.push(`npm ${args.join(" ")} is not npm ci or a package.json script`);
  if (program === "cd" && args[0] !== "dist") checkPath(args[0] ?? "");

  const buildScript = args.indexOf("build.ts");
  if (buildScript >= 0) {
    for (let i = buildScript + 1; i < args.length; i++) {
      const flag = args[i]!.replace(/^--/, "");
      const option = CLI_OPTIONS[flag as keyof typeof CLI_OPTIONS];
      if (!args[i]!.startsWith("--") || !option) {
        found.push(`build.ts does not accept ${args[i]}`);
        continue;
      }
      if (option.type === "string") {
        const value = args[++i];
        if (value === undefined) found.push(`build.ts --${flag} needs a value`);
        else if (flag === "target" && !value.includes("$") && !(value in TARGETS)) found.push(`build.ts has no target ${value}`);
      }
    }
  }
  for (const arg of args) if (isPath(arg) && !arg.includes("$")) checkPath(arg);
  return found;
}

const runSteps = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps.filter((step) => step.run));

const Workflows = suite("workflows");

Workflows("there are a CI and a release workflow, and each parses as YAML", () => {
  assert.ok(workflows["ci.yml"]);
  assert.ok(workflows["release.yml"]);
  for (const [file, workflow] of Object.entries(workflows)) {
    assert.type(workflow.name, "string", file);
    for (const [name, job] of Object.entries(workflow.jobs)) assert.ok(job.steps.length > 0, `${file}: job ${name} has steps`);
  }
});

Workflows("every run step calls only entry points that exist", () => {
  let checked = 0;
  for (const [file, workflow] of Object.entries(workflows)) {
    for (const [name, job] of Object.entries(workflow.jobs)) {
      let built = false;
      for (const step of job.steps) {
        if (!step.run) continue;
        for (const words of commands(step.run)) {
          assert.equal(problems(words, built), [], `${file}, job ${name}: ${words.join(" ")}`);
          checked++;
        }
        built ||= /\bmake (build|test)\b|build\.ts/.test(step.run);
      }
      for (const step of job.steps.filter((s) => s.uses)) assert.match(step.uses!, /^[\w.-]+\/[\w.-]+@v\d+$/, `${file}: ${step.uses} is an action pinned to a major version`);
    }
  }
  assert.ok(checked >= 8, `checked ${checked} commands`);
});

Workflows("the checker itself rejects what does not exist", () => {
  assert.equal(commands('cd dist && sha256sum --check SHA256SUMS # sums\nfoo "a b" > out'), [["cd", "dist"], ["sha256sum", "--check", "SHA256SUMS"], ["foo", "a b"]]);
  assert.equal(problems(["make", "tset"], false), ["make target tset is not in the Makefile"]);
  assert.equal(problems(["node_modules/.bin/bun", "build.ts", "--relase"], false), ["build.ts does not accept --relase"]);
  assert.equal(problems(["node_modules/.bin/bun", "build.ts", "--target", "linux-riscv"], false), ["build.ts has no target linux-riscv"]);
  assert.equal(problems(["bash", "test/support/no-such.sh"], false), ["test/support/no-such.sh does not exist in the repository"]);
  assert.equal(problems(["gh", "release", "create", "v1", "dist/*"], false), ["dist/* is used before any step builds dist/"]);
  assert.equal(problems(["curl", "https://example.com/x"], false), ["unknown program curl"]);
});

Workflows("CI runs lint and the tests on every push and pull request, on Node 20", () => {
  const ci = workflows["ci.yml"]!;
  assert.ok("push" in ci.on && "pull_request" in ci.on);
  const runs = runSteps(ci).map((step) => step.run!.trim());
  for (const expected of ["npm ci --no-audit --no-fund", "bash test/support/install-deps.sh", "make lint", "make test"]) assert.ok(runs.includes(expected), expected);
  const node = ci.jobs.test!.steps.find((step) => step.uses?.startsWith("actions/setup-node@"));
  assert.is(node?.with?.["node-version"], 20);
});

Workflows("a v* tag tests, builds with build.ts --release and publishes every asset in dist/", () => {
  const release = workflows["release.yml"]!;
  assert.equal(release.on, { push: { tags: ["v*"] } });
  assert.equal(release.permissions, { contents: "write" });
  const script = runSteps(release).map((step) => step.run!).join("\n");
  const order = ["make test", "build.ts --release --tag", "sha256sum --check SHA256SUMS", "gh release create"].map((text) => script.indexOf(text));
  assert.ok(order.every((at) => at >= 0), `every stage is there: ${order}`);
  assert.equal([...order].sort((a, b) => a - b), order, "test, build, check, publish, in that order");
  assert.match(script, /gh release create "\$GITHUB_REF_NAME" dist\/\* /);
  // Flags live in build.ts only.
  assert.not.match(script, /--compile|--minify|--target=|bun build /);
});

Workflows.run();
