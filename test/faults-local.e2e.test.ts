// Faults on the agent itself rather than on the way to SSM: the secret-files
// directory on a full disk or a read-only filesystem (tmpfs mounts, so the
// test runs as root), ssh-agent or git missing from PATH. Each gives one clear
// line; the environment phase applies nothing (no variable, no file, no
// agent), and pre-exit still leaves nothing of the job. Outcomes are printed
// for RELIABILITY.md.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { generateKey } from "./support/git-ssh-server.ts";
import { envChanges, runHook, type Env } from "./support/job.ts";
import { assertJobLeftNothing, jobScratch, plantKey, type JobScratch } from "./support/ssh-job.ts";

const KEY = generateKey("faults-local");
const BIG_FILE = `big-file-${"x".repeat(6000)}`;

const Local = suite<{ fixture: JobFixture }>("local faults", {} as { fixture: JobFixture });

Local.before(async (context) => {
  plantKey(KEY);
  context.fixture = await startJobFixture({
    [`${BASE}/app/env/APP_TOKEN`]: "local-fault-app-token",
    [`${BASE}/app/file/kubeconfig`]: { value: BIG_FILE, tier: "Advanced" },
    [`${BASE}/github.com_acme_app.git/ssh/key`]: KEY.privateKey,
  });
});
Local.after(({ fixture }) => fixture.close());

// Outside the job's scratch directory, whose checks walk it: PATH entries hold symlink loops (/usr/bin/X11).
const toolDirs: string[] = [];
Local.after(() => {
  for (const dir of toolDirs) rmSync(dir, { recursive: true, force: true });
});

/** A PATH with every program of the test's PATH but `missing`. */
function pathWithout(missing: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bk-path-"));
  toolDirs.push(dir);
  for (const source of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    let entries: string[] = [];
    try {
      entries = readdirSync(source);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry === missing) continue;
      try {
        symlinkSync(join(source, entry), join(dir, entry));
      } catch {
        // An earlier PATH entry already provides it.
      }
    }
  }
  return dir;
}

/** A tmpfs of `size` mounted at a new directory; `ro` for a read-only one. */
function mountTmpfs(scratch: JobScratch, options: string): string {
  const dir = join(scratch.root, "mnt");
  mkdirSync(dir);
  const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir], { stderr: "pipe" });
  if (mount.exitCode !== 0) throw new Error(`this test needs root to mount a tmpfs: ${mount.stderr.toString()}`);
  return dir;
}

function unmount(dir: string): void {
  Bun.spawnSync(["umount", dir]);
}

function jobEnv(fixture: JobFixture, scratch: JobScratch, extra: Env = {}): Env {
  return fixture.jobEnv({ ...scratch.env(), BUILDKITE_REPO: "git@github.com:acme/app.git", BUILDKITE_PIPELINE_SLUG: "app", ...extra });
}

/** The environment phase (of an agent whose secret files go to `filesDir`, if given) failed with one line matching `pattern`, applied nothing, and pre-exit leaves nothing. */
async function assertFailsWholly(fault: string, scratch: JobScratch, env: Env, pattern: RegExp, filesDir?: string) {
  const started = performance.now();
  const run = await runHook("environment", env, filesDir ? { agent: { AWS_PARAMSTORE_SECRETS_FILES_DIR: filesDir } } : {});
  const ms = performance.now() - started;
  assert.is.not(run.status, 0);
  assert.equal(envChanges(env, run.env), {}, "nothing exported");
  const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.is(errors.length, 1, run.stderr);
  assert.match(errors[0]!, pattern);
  assert.equal(readdirSync(scratch.tmp), [], "no secret-files or agent directory");
  if (filesDir) assert.equal(readdirSync(filesDir), [], "nothing in the secret-files directory");
  const preExit = await runHook("pre-exit", run.env);
  assert.is(preExit.status, 0, preExit.stderr);
  assertJobLeftNothing(scratch, [KEY]);
  console.log(`fault: ${fault} -> failed cleanly in ${ms.toFixed(0)} ms (${errors[0]!.replace(/^.*bk-ssm-secrets: /, "").slice(0, 90)}...)`);
}

Local("disk full under the secret-files directory: one line, no variable, no file, no agent", async ({ fixture }) => {
  const scratch = jobScratch();
  const mount = mountTmpfs(scratch, "size=4k");
  try {
    await assertFailsWholly("a 6 KB secret file on a full 4 KB tmpfs", scratch, jobEnv(fixture, scratch), /cannot write the job's secret files under .*\(ENOSPC\).*writable and has space/, mount);
  } finally {
    unmount(mount);
    scratch.remove();
  }
});

Local("a read-only secret-files directory: one line, nothing applied", async ({ fixture }) => {
  const scratch = jobScratch();
  const mount = mountTmpfs(scratch, "ro,size=64k");
  try {
    await assertFailsWholly("secret files on a read-only filesystem", scratch, jobEnv(fixture, scratch), /secret files under .*\(EROFS\)/, mount);
  } finally {
    unmount(mount);
    scratch.remove();
  }
});

Local("ssh-agent missing from PATH: one line naming the package, and the secret files already written are removed", async ({ fixture }) => {
  const scratch = jobScratch();
  try {
    const env = jobEnv(fixture, scratch, { PATH: pathWithout("ssh-agent") });
    await assertFailsWholly("ssh-agent missing from PATH", scratch, env, /ssh-agent is not on PATH: install OpenSSH's client tools/);
  } finally {
    scratch.remove();
  }
});

Local("git missing from PATH: the pre-checkout probe warns once, the checkout keeps the default agent, pre-exit cleans up", async ({ fixture }) => {
  const scratch = jobScratch();
  try {
    const env = jobEnv(fixture, scratch, { PATH: pathWithout("git") });
    const environment = await runHook("environment", env);
    assert.is(environment.status, 0, environment.stderr);
    const started = performance.now();
    const preCheckout = await runHook("pre-checkout", environment.env);
    const ms = performance.now() - started;
    assert.is(preCheckout.status, 0, preCheckout.stderr);
    const warnings = preCheckout.stderr.split("\n").filter((line) => line.includes(":warning:"));
    assert.is(warnings.length, 1, preCheckout.stderr);
    assert.match(warnings[0]!, /git is not on PATH.*the checkout uses the default agent/);
    assert.is(preCheckout.env.SSH_AUTH_SOCK, undefined, "not switched to the slug agent");
    const preExit = await runHook("pre-exit", preCheckout.env);
    assert.is(preExit.status, 0, preExit.stderr);
    assertJobLeftNothing(scratch, [KEY]);
    assert.equal(readdirSync(scratch.tmp), []);
    console.log(`fault: git missing from PATH (pre-checkout probe) -> warned, checkout keeps the default agent, in ${ms.toFixed(0)} ms`);
  } finally {
    scratch.remove();
  }
});

Local.run();
