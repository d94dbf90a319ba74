// Secret files end to end: hooks/environment writes them, a command reads
// them, hooks/pre-exit removes them, all through the compiled binary in bash.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, CANARY, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { startJobApiServer } from "./support/job-api-server.ts";
import { assertNoSecretIn, compiledBinary, envChanges, runHook, type Env } from "./support/job.ts";

const KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://k8s.example.com\n  name: prod\nkind: Config\n";
const NPMRC_GLOBAL = "//npm.example.com/:_authToken=global-npm-token\n";
const NPMRC_APP = "//npm.example.com/:_authToken=app-npm-token-'quoted'-$HOME-`tick`-\\-ünïcødé";
const CERT = "-----BEGIN CERTIFICATE-----\r\nMIIBszCCAVmgAwIBAgIU\r\n-----END CERTIFICATE-----\r\n\r\n";

const Files = suite<{ fixture: JobFixture; scratch: string }>("secret files", {} as { fixture: JobFixture; scratch: string });

Files.before(async (context) => {
  context.scratch = mkdtempSync("/tmp/bk-files-e2e-");
  context.fixture = await startJobFixture({
    [`${BASE}/global/file/npmrc`]: NPMRC_GLOBAL,
    [`${BASE}/global/env/SERVICE_TOKEN`]: "global-service-token",
    [`${BASE}/app/file/npmrc`]: NPMRC_APP,
    [`${BASE}/app/file/kubeconfig`]: KUBECONFIG,
    [`${BASE}/app/file/ca-cert`]: { value: CERT, type: "String" },
    [`${BASE}/app/file/service-token`]: "service-token-as-a-file",
    [`${BASE}/app/file/bad.name`]: "never-written-1",
    [`${BASE}/app/file/ld-preload`]: "never-written-2",
  });
});
Files.after(async (context) => {
  await context.fixture.close();
  rmSync(context.scratch, { recursive: true, force: true });
});

function job(context: { fixture: JobFixture; scratch: string }, extra: Env = {}) {
  const tmp = mkdtempSync(join(context.scratch, "tmp-"));
  return { tmp, env: context.fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_JOB_ID: "0190b6a0-0000-4000-8000-000000000001", TMPDIR: tmp, ...extra }) };
}

Files("files are written byte for byte, 0600 in a 0700 directory under TMPDIR; later slugs override; bad names are skipped", async (context) => {
  const { tmp, env } = job(context);
  const run = await runHook("environment", env);
  assert.is(run.status, 0, run.stderr);
  const changes = envChanges(env, run.env);
  const dir = changes.BK_SSM_SECRETS_FILES_DIR!;
  assert.ok(dir.startsWith(join(tmp, "bk-ssm-secrets-0190b6a0-0000-4000-8000-000000000001-")), dir);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  assert.equal(readdirSync(dir).sort(), ["CA_CERT", "KUBECONFIG", "NPMRC", "SERVICE_TOKEN"]);
  const expected = { NPMRC: NPMRC_APP, KUBECONFIG, CA_CERT: CERT, SERVICE_TOKEN: "service-token-as-a-file" };
  for (const [name, content] of Object.entries(expected)) {
    assert.is(changes[name], join(dir, name));
    assert.ok(readFileSync(changes[name]!).equals(Buffer.from(content, "utf8")), `${name} byte for byte`);
    assert.is(statSync(changes[name]!).mode & 0o777, 0o600);
  }
  assert.match(run.stderr, /skipping \/vendors\/buildkite\/app\/file\/bad\.name/);
  assert.match(run.stderr, /skipping \/vendors\/buildkite\/app\/file\/ld-preload: LD_PRELOAD may not be set/);
  assert.match(run.stderr, /\nfile     SERVICE_TOKEN from app \(\/vendors\/buildkite\/app\/file\/service-token\), overriding global\n/);
  assert.not.match(run.stderr, /never-written/);
  assert.match(run.stderr, /Wrote 4 secret files to /);
});

Files("pre-exit removes the directory and unsets the variables, also after the command failed", async (context) => {
  const { tmp, env } = job(context);
  const environment = await runHook("environment", env);
  assert.is(environment.status, 0, environment.stderr);
  const dir = environment.env.BK_SSM_SECRETS_FILES_DIR!;
  // The command reads a file and fails; the agent still runs pre-exit.
  const command = Bun.spawn(["bash", "-c", 'grep -q "kind: Config" "$KUBECONFIG" && exit 3'], { env: environment.env });
  assert.is(await command.exited, 3);
  const preExit = await runHook("pre-exit", environment.env);
  assert.is(preExit.status, 0, preExit.stderr);
  assert.not.ok(existsSync(dir));
  assert.equal(readdirSync(tmp), []);
  for (const name of ["BK_SSM_SECRETS_FILES_DIR", "KUBECONFIG", "NPMRC", "CA_CERT", "SERVICE_TOKEN"]) assert.is(preExit.env[name], undefined, name);
  assert.is(preExit.env.CANARY_SECRET, CANARY, "variables stay");
});

Files("pre-exit still cleans up when the agent's settings broke after environment ran", async (context) => {
  const { env } = job(context);
  const environment = await runHook("environment", env);
  assert.is(environment.status, 0, environment.stderr);
  const dir = environment.env.BK_SSM_SECRETS_FILES_DIR!;
  assert.ok(existsSync(dir));
  // An operator rewrites the defaults file mid-job with a base path no phase could read from.
  const broken = { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "not/absolute", AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "no-leading-slash" };
  const preExit = await runHook("pre-exit", environment.env, { agent: broken });
  assert.is(preExit.status, 0, preExit.stderr);
  assert.not.ok(existsSync(dir));
  assert.is(preExit.env.BK_SSM_SECRETS_FILES_DIR, undefined);
  // environment itself, whose reads the settings decide, refuses them with one line.
  const again = await runHook("environment", env, { agent: broken });
  assert.is(again.status, 1);
  assert.match(again.stderr, /AWS_PARAMSTORE_SECRETS_(SECRETS_PATH|GLOBAL_SSH)/);
});

Files("pre-exit with nothing to remove prints nothing and succeeds", async (context) => {
  const { env } = job(context);
  const run = await runHook("pre-exit", env);
  assert.equal([run.status, run.stdout], [0, ""]);
  assert.equal(envChanges(env, run.env), {});
});

Files("a phase that fails after writing the files leaves no directory and exports nothing", async (context) => {
  const api = startJobApiServer();
  try {
    api.failWith(500);
    const { tmp, env } = job(context, api.jobEnv());
    const run = await runHook("environment", env);
    assert.is.not(run.status, 0);
    assert.equal(envChanges(env, run.env), {});
    assert.equal(readdirSync(tmp), [], "the directory written before the failure is gone");
    assert.match(run.stderr, /Job API answered HTTP 500/);
  } finally {
    api.close();
  }
});

Files("AWS_PARAMSTORE_SECRETS_FILES_DIR chooses the directory; one inside the checkout is refused before anything is written", async (context) => {
  const chosen = join(context.scratch, "shm", "bk");
  const { tmp, env } = job(context);
  const run = await runHook("environment", env, { agent: { AWS_PARAMSTORE_SECRETS_FILES_DIR: chosen } });
  assert.is(run.status, 0, run.stderr);
  assert.ok(run.env.KUBECONFIG?.startsWith(`${chosen}/bk-ssm-secrets-`));
  assert.equal(readdirSync(tmp), []);
  assert.is((await runHook("pre-exit", run.env)).status, 0);
  assert.equal(readdirSync(chosen), []);

  const checkout = join(context.scratch, "builds", "app");
  mkdirSync(checkout, { recursive: true });
  const inside = job(context, { BUILDKITE_BUILD_CHECKOUT_PATH: checkout });
  const refused = await runHook("environment", inside.env, { agent: { AWS_PARAMSTORE_SECRETS_FILES_DIR: join(checkout, "secrets") } });
  assert.is.not(refused.status, 0);
  assert.match(refused.stderr, /refusing to write secret files inside the checkout .*AWS_PARAMSTORE_SECRETS_FILES_DIR/);
  assert.equal(envChanges(inside.env, refused.env), {});
  assert.equal(readdirSync(checkout), []);
});

Files("modes hold whatever the umask", async (context) => {
  const { env } = job(context);
  const proc = Bun.spawn(["bash", "-c", 'umask 000; exec "$0" environment', compiledBinary()], { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  assertNoSecretIn(stderr, "the environment log");
  assert.is(status, 0, stderr);
  const dir = /export BK_SSM_SECRETS_FILES_DIR='([^']+)'/.exec(stdout)![1]!;
  assert.is(statSync(dir).mode & 0o777, 0o700);
  for (const name of readdirSync(dir)) assert.is(statSync(join(dir, name)).mode & 0o777, 0o600, name);
  rmSync(dir, { recursive: true });
});

Files.run();
