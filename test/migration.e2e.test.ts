// Moving an agent over from the Python hook, and back, with the compiled
// binary: `install` switches the blocks the Python hook's configure.sh
// appended off (or refuses, in one line, a form it does not recognise),
// carries its settings over, and a whole job then runs the new hooks only;
// `install --uninstall` gives back every byte; doctor flags a Python hook
// block still running. Uninstall removes only what its blocks point to.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { snapshot, type Agent } from "./support/agent-machine.ts";
import { runBinary, type Env } from "./support/job.ts";
import { runLifecycle } from "./support/lifecycle.ts";
import { runOperator } from "./support/operator.ts";
import { PYTHON_HOOK_BLOCKS, pythonHookDefaults } from "./support/python-hook.ts";
import { jobScratch } from "./support/ssh-job.ts";


/**
 * An agent the Python hook was installed on, its configure.sh run twice (it
 * appended its blocks again each time): the operator's environment hook with
 * two environment blocks, the other hooks created by configure.sh.
 */
function pythonHookAgent(): Agent & { oldDefaults: string } {
  const root = mkdtempSync(join(tmpdir(), "bk-migrate-"));
  chmodSync(root, 0o755);
  const hooksDir = join(root, "etc/buildkite-agent/hooks");
  mkdirSync(hooksDir, { recursive: true });
  writeFileSync(join(hooksDir, "environment"), "#!/bin/bash\nexport FROM_OPERATOR=1\n", { mode: 0o755 });
  for (const [hook, block] of Object.entries(PYTHON_HOOK_BLOCKS)) {
    const path = join(hooksDir, hook);
    let content = "";
    try {
      content = readFileSync(path, "utf8");
    } catch {
      // configure.sh's `cat >>` created it.
    }
    writeFileSync(path, content + block + block, { mode: 0o755 });
  }
  const oldDefaults = join(root, "usr/local/buildkite-aws-stack/plugins/aws-paramstore-secrets/custom-defaults");
  mkdirSync(join(oldDefaults, ".."), { recursive: true });
  writeFileSync(oldDefaults, pythonHookDefaults({ basePath: "/vendors/migrated/" }));
  // As on a real machine, /usr/local/lib is there before the install.
  mkdirSync(join(root, "usr/local/lib"));
  const installDir = join(root, "usr/local/lib/bk-ssm-secrets");
  const defaultsFile = join(root, "etc/bk-ssm-secrets/defaults.env");
  return { root, hooksDir, installDir, defaultsFile, oldDefaults, flags: ["--hooks-dir", hooksDir, "--install-dir", installDir, "--defaults-file", defaultsFile] };
}


interface Context {
  fixture: JobFixture;
}

const Migration = suite<Context>("migration", {} as Context);

Migration.before(async (context) => {
  context.fixture = await startJobFixture({ "/vendors/migrated/global/env/FROM_MIGRATED_BASE": "migrated-base-value", [`${BASE}/app/env/UNUSED`]: "not-on-this-base" });
});
Migration.after((context) => context.fixture.close());

const installEnv = (agent: { oldDefaults: string }, extra: Env = {}): Env => ({ PATH: process.env.PATH!, HOME: tmpdir(), BK_SSM_SECRETS_OLD_DEFAULTS_FILE: agent.oldDefaults, ...extra });

/** doctor on this agent, as JSON. */
async function doctor(context: Context, agent: Agent & { oldDefaults: string }) {
  const env = context.fixture.jobEnv({ BUILDKITE_HOOKS_PATH: agent.hooksDir, BK_SSM_SECRETS_DEFAULTS_FILE: agent.defaultsFile, BK_SSM_SECRETS_OLD_DEFAULTS_FILE: agent.oldDefaults, BUILDKITE_PIPELINE_SLUG: "app" });
  const run = await runOperator(["doctor", "--json"], env);
  const report = JSON.parse(run.stdout) as { problems: string[]; sections: Array<{ title: string; items: Array<Record<string, string>> }> };
  const machine = report.sections.find((section) => section.title === "This machine")!.items;
  return { status: run.status, problems: report.problems, pythonHook: machine.filter((item) => item.check!.startsWith("Python hook in ")) };
}

Migration("install switches the Python hook's blocks off and carries its settings over; a job runs the new hooks only; uninstall gives back every byte", async (context) => {
  const agent = pythonHookAgent();
  const scratch = jobScratch();
  try {
    const original = snapshot(agent.root);
    const before = await doctor(context, agent);
    assert.is(before.status, 1);
    assert.equal(
      before.pythonHook.map((item) => [item.check, item.status]),
      ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit"].map((hook) => [`Python hook in ${hook}`, "fail"]),
    );
    assert.match(before.pythonHook[0]!.value!, `${agent.hooksDir}/environment lines 4, 9, 21, 23, 28, 40`);

    const installed = await runBinary(["install", ...agent.flags], installEnv(agent));
    assert.is(installed.status, 0, installed.stderr);
    assert.match(installed.stdout, `updated ${agent.hooksDir}/environment to run the bk-ssm-secrets environment hook, switching off the Python hook's 2 blocks there (--uninstall puts them back)\n`);
    assert.match(installed.stdout, `carried AWS_PARAMSTORE_SECRETS_SECRETS_PATH, AWS_PARAMSTORE_SECRETS_DEFAULT_KEY, AWS_PARAMSTORE_SECRETS_VERBOSE over from the Python hook's ${agent.oldDefaults}\n`);
    assert.match(readFileSync(agent.defaultsFile, "utf8"), 'export AWS_PARAMSTORE_SECRETS_SECRETS_PATH="/vendors/migrated/"\n');
    // The operator's line stays first; the old blocks stay visible, commented out.
    const hook = readFileSync(join(agent.hooksDir, "environment"), "utf8");
    assert.ok(hook.startsWith("#!/bin/bash\nexport FROM_OPERATOR=1\n# >>> bk-ssm-secrets: the Python hook's block, switched off >>>\n"), hook);
    assert.match(hook, "#| # --- Start AWS paramstore secrets plugin ---\n");
    const again = await runBinary(["install", ...agent.flags], installEnv(agent));
    assert.is(again.stdout, "bk-ssm-secrets is installed and up to date: nothing to change\n");

    const after = await doctor(context, agent);
    assert.equal(after.pythonHook, []);
    assert.is(after.status, 0, after.problems.join("\n"));

    // A whole job through the agent's hooks: the Python hook's scripts (absent here) are never sourced.
    const repository = join(scratch.root, "repo.git");
    Bun.spawnSync(["git", "init", "-q", "--bare", repository]);
    const job = await runLifecycle({
      env: context.fixture.jobEnv({ ...scratch.env(), BK_SSM_SECRETS_DEFAULTS_FILE: agent.defaultsFile, BUILDKITE_REPO: repository, BUILDKITE_PIPELINE_SLUG: "app" }),
      command: 'echo "migrated=$FROM_MIGRATED_BASE operator=$FROM_OPERATOR unused=${UNUSED:-none}"',
      buildDir: scratch.build,
      hooksDir: agent.hooksDir,
    });
    assert.is(job.runs.command?.status, 0, job.log);
    assert.match(job.runs.command!.stdout, "migrated=migrated-base-value operator=1 unused=none");
    assert.not.match(job.log, "aws-paramstore-secrets");

    const removed = await runBinary(["install", ...agent.flags, "--uninstall"], installEnv(agent));
    assert.is(removed.status, 0, removed.stderr);
    assert.match(removed.stdout, `removed the bk-ssm-secrets block from ${agent.hooksDir}/pre-exit and put the Python hook's block back\n`);
    assert.equal(snapshot(agent.root), original);
    assert.is((await doctor(context, agent)).pythonHook.length, 5);
  } finally {
    scratch.remove();
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Migration("a Python hook line install does not recognise: one line saying where and what to do, and nothing changes", async () => {
  const agent = pythonHookAgent();
  try {
    const edited = join(agent.hooksDir, "pre-exit");
    writeFileSync(edited, "#!/bin/bash\nsource /usr/local/buildkite-aws-stack/plugins/aws-paramstore-secrets/hooks/pre-exit\n");
    const original = snapshot(agent.root);
    const run = await runBinary(["install", ...agent.flags], installEnv(agent));
    assert.is(run.status, 1);
    assert.is(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, `${edited} line 2 runs the Python hook (aws-paramstore-secrets) in a form install does not recognise: remove those lines by hand (keep a copy to roll back), then run install again`);
    assert.equal(snapshot(agent.root), original);
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Migration("flags win over the Python hook's settings", async () => {
  const agent = pythonHookAgent();
  try {
    const run = await runBinary(["install", ...agent.flags, "--base-path", "/vendors/flag"], installEnv(agent));
    assert.is(run.status, 0, run.stderr);
    const defaults = readFileSync(agent.defaultsFile, "utf8");
    assert.match(defaults, 'export AWS_PARAMSTORE_SECRETS_SECRETS_PATH="/vendors/flag"\n');
    assert.not.match(defaults, "migrated");
    assert.match(run.stdout, "carried AWS_PARAMSTORE_SECRETS_DEFAULT_KEY, AWS_PARAMSTORE_SECRETS_VERBOSE over");
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Migration("uninstall removes what its blocks point to, and stops when the flags name another install: never what only the flags or defaults name", async () => {
  const agent = pythonHookAgent();
  try {
    const installed = await runBinary(["install", ...agent.flags], installEnv(agent));
    assert.is(installed.status, 0, installed.stderr);
    // Another install's scripts and defaults file, which this uninstall did not write.
    const other = join(agent.root, "opt/other-install");
    cpSync(agent.installDir, other, { recursive: true });
    const otherDefaults = join(agent.root, "etc/other.env");
    writeFileSync(otherDefaults, readFileSync(agent.defaultsFile, "utf8").replace(agent.installDir, other));
    const untouched = () => Object.entries(snapshot(agent.root)).filter(([path]) => path.startsWith("opt/") || path === "etc/other.env");
    const kept = untouched();

    const refused = await runBinary(["install", "--uninstall", "--hooks-dir", agent.hooksDir, "--install-dir", other, "--defaults-file", otherDefaults], installEnv(agent));
    assert.is(refused.status, 1);
    assert.match(refused.stderr, `block runs the scripts in ${agent.installDir}, not in the install directory ${other}`);
    assert.equal(untouched(), kept);
    const removed = await runBinary(["install", "--uninstall", "--hooks-dir", agent.hooksDir, "--install-dir", agent.installDir, "--defaults-file", otherDefaults], installEnv(agent));
    assert.is(removed.status, 0, removed.stderr);
    assert.match(removed.stdout, `removed ${agent.installDir}/environment\n`);
    assert.not.match(removed.stdout, other);
    assert.equal(untouched(), kept);
    assert.equal(readdirSync(join(agent.root, "usr/local/lib")), []);
    // The defaults file the install wrote was not named, so it stays.
    assert.ok(readFileSync(agent.defaultsFile, "utf8").startsWith("# bk-ssm-secrets defaults"));
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Migration.run();
