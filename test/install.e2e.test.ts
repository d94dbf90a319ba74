// `bk-ssm-secrets install` with the compiled binary: into directories a test
// owns, idempotent, undone byte for byte, refusing bad input and unwritable
// directories without leaving anything half-done, and a job run through the
// hooks it installed.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startJobFixture } from "./support/fixture.ts";
import { generateKey } from "./support/git-ssh-server.ts";
import { snapshot, type Agent } from "./support/agent-machine.ts";
import { compiledBinary, runBinary, type Env } from "./support/job.ts";
import { runLifecycle } from "./support/lifecycle.ts";
import { assertJobLeftNothing, jobScratch, plantKey } from "./support/ssh-job.ts";


/** A fake agent machine: /etc with the agent's hooks directory holding some hooks of the operator's, /usr/local/lib. */
function agentMachine(): Agent {
  const root = mkdtempSync(join(tmpdir(), "bk-install-"));
  // Like / on a real machine: anyone may look inside.
  chmodSync(root, 0o755);
  const hooksDir = join(root, "etc/buildkite-agent/hooks");
  mkdirSync(hooksDir, { recursive: true });
  mkdirSync(join(root, "usr/local/lib"), { recursive: true });
  writeFileSync(join(hooksDir, "environment"), "#!/bin/bash\nexport FROM_OPERATOR=1", { mode: 0o700 });
  writeFileSync(join(hooksDir, "pre-exit"), "#!/bin/bash\necho operator pre-exit\n", { mode: 0o755 });
  writeFileSync(join(hooksDir, "post-command"), "", { mode: 0o644 });
  writeFileSync(join(hooksDir, "pre-command"), "#!/bin/bash\necho not ours\n", { mode: 0o755 });
  const installDir = join(root, "usr/local/lib/bk-ssm-secrets");
  const defaultsFile = join(root, "etc/bk-ssm-secrets/defaults.env");
  return { root, hooksDir, installDir, defaultsFile, flags: ["--hooks-dir", hooksDir, "--install-dir", installDir, "--defaults-file", defaultsFile] };
}


const env = (extra: Env = {}): Env => ({ PATH: process.env.PATH!, HOME: tmpdir(), ...extra });

const Install = suite("install");

Install("install twice gives the same files as once; --uninstall restores every byte, mode and directory", async () => {
  const agent = agentMachine();
  try {
    const original = snapshot(agent.root);
    const first = await runBinary(["install", ...agent.flags, "--base-path", "/vendors/buildkite", "--global-ssh", "/vendors/buildkite/keys/deploy"], env());
    assert.is(first.status, 0, first.stderr);
    const once = snapshot(agent.root);
    const second = await runBinary(["install", ...agent.flags, "--base-path", "/vendors/buildkite", "--global-ssh", "/vendors/buildkite/keys/deploy"], env());
    assert.is(second.status, 0, second.stderr);
    assert.is(second.stdout, "bk-ssm-secrets is installed and up to date: nothing to change\n");
    assert.equal(snapshot(agent.root), once);

    const removed = await runBinary(["install", ...agent.flags, "--uninstall"], env());
    assert.is(removed.status, 0, removed.stderr);
    assert.equal(snapshot(agent.root), original);
    const again = await runBinary(["install", ...agent.flags, "--uninstall"], env());
    assert.is(again.stdout, "bk-ssm-secrets is not installed: nothing to remove\n");
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install("the agent's user cannot turn root's install against other files: no link followed at a temporary name, no file removed that an install did not write", async () => {
  const agent = agentMachine();
  try {
    // A file of root's that a link planted in the (agent-writable) hooks directory would have had written through and chowned.
    const victim = join(agent.root, "victim");
    writeFileSync(victim, "root's own\n", { mode: 0o600 });
    symlinkSync(victim, join(agent.hooksDir, "environment.bk-ssm-secrets-new"));
    // A hook whose mode the agent's user set setuid: root's rewrite of it keeps its permissions, never that bit.
    chmodSync(join(agent.hooksDir, "pre-exit"), 0o4755);
    const installed = await runBinary(["install", ...agent.flags], env());
    assert.is(installed.status, 0, installed.stderr);
    assert.is(statSync(join(agent.hooksDir, "pre-exit")).mode & 0o7777, 0o755);
    assert.is(readFileSync(victim, "utf8"), "root's own\n");
    assert.is(statSync(victim).mode & 0o777, 0o600);
    // A block rewritten to source a script beside another file of root's: uninstall leaves that file, and says so.
    const elsewhere = join(agent.root, "etc");
    writeFileSync(join(elsewhere, "environment"), "PATH=/usr/bin\n");
    const hook = join(agent.hooksDir, "environment");
    writeFileSync(hook, readFileSync(hook, "utf8").replace(join(agent.installDir, "environment"), join(elsewhere, "environment")));
    const before = snapshot(agent.root);
    const refused = await runBinary(["install", ...agent.flags, "--uninstall"], env());
    assert.is(refused.status, 1);
    assert.match(refused.stderr, `${hook}'s bk-ssm-secrets block runs the scripts in ${elsewhere}, not in the install directory ${agent.installDir}`);
    assert.equal(snapshot(agent.root), before, "nothing changed");
    // The operator puts the block back; the uninstall then removes what the install wrote, and only that.
    writeFileSync(hook, readFileSync(hook, "utf8").replace(join(elsewhere, "environment"), join(agent.installDir, "environment")));
    const removed = await runBinary(["install", ...agent.flags, "--uninstall"], env());
    assert.is(removed.status, 0, removed.stderr);
    assert.is(readFileSync(join(elsewhere, "environment"), "utf8"), "PATH=/usr/bin\n");
    assert.not.match(readFileSync(hook, "utf8"), "bk-ssm-secrets");
    // A hook replaced by a link to a file of root's: refused with one line, nothing written; the file keeps its content and mode.
    rmSync(hook);
    symlinkSync(victim, hook);
    const linked = await runBinary(["install", ...agent.flags], env());
    assert.is(linked.status, 1);
    assert.match(linked.stderr, `${hook} is a symbolic link: install does not write through links where the agent's user may make them; replace it with a copy of the file it points to, then run install again`);
    assert.is(readFileSync(victim, "utf8"), "root's own\n");
    assert.is(statSync(victim).mode & 0o777, 0o600);
    assert.ok(lstatSync(hook).isSymbolicLink());
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install("what install writes: embedded hooks 0755, the library and defaults file 0644, directories 0755, the operator's hooks kept with a block", async () => {
  const agent = agentMachine();
  try {
    const run = await runBinary(["install", ...agent.flags, "--default-key", "shared"], env({ AWS_PARAMSTORE_SECRETS_PATH: "/legacy/base" }));
    assert.is(run.status, 0, run.stderr);
    const files = snapshot(agent.root);
    for (const hook of ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit"]) {
      assert.is(readFileSync(join(agent.installDir, hook), "utf8"), readFileSync(join(import.meta.dir, "../hooks", hook), "utf8"), `embedded ${hook}`);
      assert.ok(files[`usr/local/lib/bk-ssm-secrets/${hook}`]!.startsWith("file 755 "), hook);
    }
    assert.ok(files["usr/local/lib/bk-ssm-secrets/lib/run-phase.bash"]!.startsWith("file 644 "));
    assert.is(files["usr/local/lib/bk-ssm-secrets"], "dir 755");
    assert.is(files["etc/bk-ssm-secrets"], "dir 755");
    assert.is(
      readFileSync(agent.defaultsFile, "utf8"),
      "# bk-ssm-secrets defaults, written by `bk-ssm-secrets install`. A job's environment cannot change the base path, default key, global SSH keys or files dir unless BK_SSM_SECRETS_PIPELINE_OVERRIDES lists them.\n" +
        `# For the hook scripts in ${agent.installDir}\n` +
        'export AWS_PARAMSTORE_SECRETS_SECRETS_PATH="/legacy/base"\nexport AWS_PARAMSTORE_SECRETS_DEFAULT_KEY="shared"\n',
    );
    assert.ok(files["etc/bk-ssm-secrets/defaults.env"]!.startsWith("file 644 "));
    // The operator's hooks keep their content and mode; missing ones are created executable.
    assert.ok(files["etc/buildkite-agent/hooks/environment"]!.startsWith("file 700 "));
    assert.ok(readFileSync(join(agent.hooksDir, "environment"), "utf8").startsWith("#!/bin/bash\nexport FROM_OPERATOR=1\n# >>> bk-ssm-secrets >>>"));
    assert.ok(files["etc/buildkite-agent/hooks/pre-checkout"]!.startsWith("file 755 "));
    assert.is(readFileSync(join(agent.hooksDir, "pre-command"), "utf8"), "#!/bin/bash\necho not ours\n");
    const block = readFileSync(join(agent.hooksDir, "pre-exit"), "utf8");
    assert.ok(block.startsWith("#!/bin/bash\necho operator pre-exit\n# >>> bk-ssm-secrets >>>\n"));
    assert.ok(block.includes(`source '${agent.installDir}/pre-exit' || return\n# <<< bk-ssm-secrets <<<\n`));
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install("running it again elsewhere moves only its own block; lines the operator added after it stay", async () => {
  const agent = agentMachine();
  try {
    assert.is((await runBinary(["install", ...agent.flags], env())).status, 0);
    const hook = join(agent.hooksDir, "environment");
    writeFileSync(hook, `${readFileSync(hook, "utf8")}export AFTER_OURS=1\n`);
    const moved = join(agent.root, "opt/bk");
    const run = await runBinary(["install", ...agent.flags.slice(0, 2), "--install-dir", moved, ...agent.flags.slice(4)], env());
    assert.is(run.status, 0, run.stderr);
    const content = readFileSync(hook, "utf8");
    assert.ok(content.includes(`source '${moved}/environment' || return`));
    assert.not.ok(content.includes(agent.installDir));
    assert.ok(content.endsWith("# <<< bk-ssm-secrets <<<\nexport AFTER_OURS=1\n"));
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install("bad input is one line naming the flag, and nothing is written", async () => {
  const agent = agentMachine();
  try {
    const original = snapshot(agent.root);
    for (const [args, message] of [
      [["--base-path", "vendors/buildkite"], /^error: --base-path: AWS_PARAMSTORE_SECRETS_SECRETS_PATH="vendors\/buildkite" is not an absolute SSM path/],
      [["--global-ssh", "deploy-key"], /^error: --global-ssh: /],
      [["--install-dir", agent.hooksDir], /need a directory of their own/],
    ] as const) {
      const run = await runBinary(["install", ...agent.flags, ...args], env());
      assert.is(run.status, 1);
      assert.is(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(snapshot(agent.root), original);
    }
    const missing = await runBinary(["install", "--hooks-dir", join(agent.root, "nope"), "--install-dir", agent.installDir, "--defaults-file", agent.defaultsFile], env());
    assert.is(missing.status, 1);
    assert.match(missing.stderr, /the agent's hooks directory \S+\/nope does not exist: install buildkite-agent first, or point --hooks-dir at its hooks directory/);
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install("an unwritable hooks directory is one clear error, and what was already written is taken back", async () => {
  const agent = agentMachine();
  try {
    chmodSync(agent.hooksDir, 0o555);
    chmodSync(join(agent.hooksDir, "environment"), 0o755);
    // root may write anywhere: run the install as nobody, who may write the
    // install directory and the defaults file's directory but not the hooks.
    const asRoot = process.getuid?.() === 0;
    const prefix = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    if (asRoot) {
      mkdirSync(agent.installDir);
      mkdirSync(join(agent.root, "etc/bk-ssm-secrets"));
      for (const dir of [agent.installDir, join(agent.root, "etc/bk-ssm-secrets")]) chownSync(dir, 65534, 65534);
    }
    const before = snapshot(agent.root);
    const proc = Bun.spawn([...prefix, compiledBinary(), "install", ...agent.flags], { env: env(), stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    assert.is(status, 1, stderr);
    assert.is(stdout, "", stderr);
    assert.is(stderr.trim().split("\n").length, 1, stderr);
    assert.match(stderr, new RegExp(`^error: cannot write ${agent.hooksDir}/\\S+ \\(EACCES\\): run the install as root, or choose directories this user may change with --hooks-dir, --install-dir and --defaults-file`), stderr);
    assert.equal(snapshot(agent.root), before);
  } finally {
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install("a job through hooks installed at non-default paths, with nothing else set: the defaults file's base path and global key reach the job, and pre-exit cleans up", async () => {
  const agent = agentMachine();
  const key = generateKey("installed-global");
  plantKey(key);
  const fixture = await startJobFixture({ "/installed/base/global/env/FROM_INSTALLED_BASE": "yes-installed", "/installed/keys/deploy": key.privateKey });
  const scratch = jobScratch();
  try {
    const installed = await runBinary(["install", ...agent.flags, "--base-path", "/installed/base", "--global-ssh", "/installed/keys/deploy"], env());
    assert.is(installed.status, 0, installed.stderr);
    assert.ok(readFileSync(join(agent.installDir, "lib/run-phase.bash"), "utf8").includes(`  local bin='${compiledBinary()}' defaults_file='${agent.defaultsFile}'\n`), "both paths recorded");
    const repository = join(scratch.root, "repo.git");
    Bun.spawnSync(["git", "init", "-q", "--bare", repository]);
    // Neither the binary (not on PATH either) nor the defaults file is named anywhere but in the installed hooks.
    const { BK_SSM_SECRETS_BIN, ...jobEnv } = fixture.jobEnv({ ...scratch.env(), BUILDKITE_REPO: repository, BUILDKITE_PIPELINE_SLUG: "installed" });
    assert.ok(BK_SSM_SECRETS_BIN && !Bun.which("bk-ssm-secrets", { PATH: jobEnv.PATH! }) && !("BK_SSM_SECRETS_DEFAULTS_FILE" in jobEnv));
    const job = await runLifecycle({
      env: jobEnv,
      command: 'echo "from-base=$FROM_INSTALLED_BASE operator=$FROM_OPERATOR"; ssh-add -l',
      buildDir: scratch.build,
      hooksDir: agent.hooksDir,
    });
    assert.is(job.runs.command?.status, 0, job.log);
    assert.equal(job.ran, ["environment", "pre-checkout", "checkout", "post-checkout", "command", "post-command", "pre-exit"]);
    const report = job.runs.command!.stdout;
    assert.match(report, /from-base=yes-installed operator=1/);
    assert.ok(report.includes(key.fingerprint), report);
    assert.match(job.runs["pre-exit"]!.stdout, /operator pre-exit/);
    assert.is(job.runs["pre-exit"]!.status, 0);
    assertJobLeftNothing(scratch, [key]);
  } finally {
    scratch.remove();
    await fixture.close();
    rmSync(agent.root, { recursive: true, force: true });
  }
});

Install.run();
