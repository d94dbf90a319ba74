// Trust boundaries around the agent's settings, the job's record and the git
// helper, tried as an attacker would, through the installed hooks in real
// bash and the compiled binary: a pipeline's `env:` naming another slug's
// deploy key, the git helper asked for a parameter the job was not granted or
// run after a secret replaced AWS_REGION or AWS_ACCESS_KEY_ID, and secret-file
// bases another user could tamper with or that lead into the checkout.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { generateKey } from "./support/git-ssh-server.ts";
import { envChanges, runBinary, runHook, type Env } from "./support/job.ts";
import { agentsUnder, plantKey } from "./support/ssh-job.ts";

const DEPLOYER_KEY = generateKey("trust-deployer");
const TOKEN = "trust-git-token-4b1d9e";
const OTHER_TOKEN = "trust-other-token-77c0a2";
const HOST = "git.trust.example";

interface Context {
  fixture: JobFixture;
  scratch: string;
}

const Trust = suite<Context>("trust: settings, state and the git helper", {} as Context);

Trust.before(async (context) => {
  plantKey(DEPLOYER_KEY);
  context.scratch = mkdtempSync("/tmp/bk-trust-");
  context.fixture = await startJobFixture({
    // A slug only the deployer pipeline may read.
    [`${BASE}/deployer/ssh/key`]: DEPLOYER_KEY.privateKey,
    [`${BASE}/deployer/allowed_pipelines`]: { value: "deployer\n", type: "String" },
    [`${BASE}/deployer/git-credentials`]: `https://ci:${OTHER_TOKEN}@${HOST}`,
    [`${BASE}/app/git-credentials`]: `https://ci:${TOKEN}@${HOST}`,
    [`${BASE}/app/file/kubeconfig`]: "trust-kubeconfig-content",
    // Ordinary CI secrets that happen to be AWS settings.
    [`${BASE}/app/env/AWS_REGION`]: { value: "ap-south-9", type: "String" },
    [`${BASE}/app/env/AWS_DEFAULT_REGION`]: { value: "ap-south-9", type: "String" },
    [`${BASE}/keyed/git-credentials`]: `https://ci:${TOKEN}@${HOST}`,
    [`${BASE}/keyed/env/AWS_ACCESS_KEY_ID`]: "AKIDFROMAPIPELINESECRET",
  });
});
Trust.after(async (context) => {
  await context.fixture.close();
  rmSync(context.scratch, { recursive: true, force: true });
});
Trust.before.each((context) => context.fixture.server.resetCalls());

function job(context: Context, extra: Env = {}): Env {
  const tmp = mkdtempSync(join(context.scratch, "tmp-"));
  return context.fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "https://github.com/acme/app.git", TMPDIR: tmp, ...extra });
}

/** Every SSM name the endpoint was asked about, by path or by name. */
function namesAsked(fixture: JobFixture): string[] {
  return fixture.server.requests.flatMap((request) => {
    const body = request.body as { Path?: string; Names?: string[] };
    return [...(body.Path ? [body.Path] : []), ...(body.Names ?? [])];
  });
}

const warnings = (log: string) => log.split("\n").filter((line) => line.includes(":warning:"));

Trust("a pipeline's AWS_PARAMSTORE_SECRETS_GLOBAL_SSH cannot load an access-listed slug's deploy key: one warning, the key is never read", async (context) => {
  const env = job(context, { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/deployer/ssh/key` });
  const run = await runHook("environment", env, { agent: {} });
  assert.is(run.status, 0, run.stderr);
  const refused = warnings(run.stderr).filter((line) => line.includes("AWS_PARAMSTORE_SECRETS_GLOBAL_SSH"));
  assert.equal(refused.length, 1, run.stderr);
  assert.match(refused[0]!, /AWS_PARAMSTORE_SECRETS_GLOBAL_SSH in the job's environment is ignored: the agent's default value is used/);
  assert.not.ok(namesAsked(context.fixture).some((name) => name.startsWith(`${BASE}/deployer`)), "nothing of the deployer slug was read");
  assert.is(run.env.SSH_AUTH_SOCK, undefined, "no ssh-agent");
  assert.equal(agentsUnder(env.TMPDIR!), []);
  assert.is((await runHook("pre-exit", run.env, { agent: {} })).status, 0);
});

Trust("the git helper answers only for what the environment hook granted, with its AWS region, whatever the job's AWS_REGION now says", async (context) => {
  const environment = await runHook("environment", job(context), { agent: {} });
  assert.is(environment.status, 0, environment.stderr);
  const env = environment.env;
  assert.equal([env.AWS_REGION, env.AWS_DEFAULT_REGION], ["ap-south-9", "ap-south-9"], "the job got its secrets");
  const request = `protocol=https\nhost=${HOST}\n\n`;

  context.fixture.server.resetCalls();
  const ungranted = await runBinary(["git-credential", "--parameter", `${BASE}/deployer/git-credentials`, "get"], env, request);
  assert.equal([ungranted.status, ungranted.stdout], [0, ""]);
  assert.equal(warnings(ungranted.stderr).length, 1, ungranted.stderr);
  assert.ok(warnings(ungranted.stderr)[0]!.endsWith(`:warning: git-credential: ${BASE}/deployer/git-credentials was not granted to this job by the environment hook: not read`));
  assert.is(context.fixture.server.callCount(), 0, "SSM was not asked");

  const granted = await runBinary(["git-credential", "--parameter", `${BASE}/deployer/git-credentials`, "--parameter", `${BASE}/app/git-credentials`, "get"], env, request);
  assert.equal([granted.status, granted.stdout], [0, `username=ci\npassword=${TOKEN}\n`], granted.stderr);
  assert.equal(namesAsked(context.fixture), [`${BASE}/app/git-credentials`], "only the granted parameter, signed for the agent's region");

  const otherJob = await runBinary(["git-credential", "--parameter", `${BASE}/app/git-credentials`, "get"], { ...env, BUILDKITE_JOB_ID: crypto.randomUUID() }, request);
  assert.equal([otherJob.status, otherJob.stdout], [0, ""], "another job id has no grant");
  assert.is((await runHook("pre-exit", env, { agent: {} })).status, 0);
  const afterJob = await runBinary(["git-credential", "--parameter", `${BASE}/app/git-credentials`, "get"], env, request);
  assert.equal([afterJob.status, afterJob.stdout], [0, ""], "the grant ends with the job");
});

Trust("a secret named AWS_ACCESS_KEY_ID does not become the git helper's credentials: it reads nothing and says why", async (context) => {
  const environment = await runHook("environment", job(context, { BUILDKITE_PIPELINE_SLUG: "keyed" }), { agent: {} });
  assert.is(environment.status, 0, environment.stderr);
  assert.is(environment.env.AWS_ACCESS_KEY_ID, "AKIDFROMAPIPELINESECRET");
  context.fixture.server.resetCalls();
  const run = await runBinary(["git-credential", "--parameter", `${BASE}/keyed/git-credentials`, "get"], environment.env, `protocol=https\nhost=${HOST}\n\n`);
  assert.equal([run.status, run.stdout], [0, ""]);
  assert.equal(warnings(run.stderr).length, 1, run.stderr);
  assert.match(warnings(run.stderr)[0]!, /AWS_ACCESS_KEY_ID is no longer the one the environment hook read SSM with/);
  assert.not.match(run.stderr, /AKIDFROMAPIPELINESECRET/);
  assert.is(context.fixture.server.callCount(), 0, "no request signed with the job's key");
  await runHook("pre-exit", environment.env, { agent: {} });
});

/** The environment hook of an agent whose secret files go to `filesDir` fails with one line matching `pattern`, and applies nothing. */
async function refusesFilesDir(context: Context, filesDir: string, pattern: RegExp, extra: Env = {}) {
  const env = job(context, extra);
  const agent = { AWS_PARAMSTORE_SECRETS_FILES_DIR: filesDir };
  const run = await runHook("environment", env, { agent });
  assert.is(run.status, 1, run.stderr);
  const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.is(errors.length, 1, run.stderr);
  assert.match(errors[0]!, pattern);
  assert.equal(envChanges(env, run.env), {}, "nothing exported");
  assert.equal(readdirSync(env.TMPDIR!), [], "no directory made");
  assert.is((await runHook("pre-exit", run.env, { agent })).status, 0);
}

Trust("a secret-files base another user made (world-writable, no sticky bit) is refused before anything is written", async (context) => {
  const base = join(context.scratch, "shm", "bk-ssm-secrets");
  mkdirSync(base, { recursive: true });
  chmodSync(base, 0o777);
  chownSync(base, 65534, 65534);
  await refusesFilesDir(context, base, new RegExp(`refusing to write secret files under ${base} \\(AWS_PARAMSTORE_SECRETS_FILES_DIR\\): ${base} belongs to user 65534`));
  assert.equal(readdirSync(base), []);

  chownSync(base, process.getuid!(), process.getgid!());
  await refusesFilesDir(context, base, /others may write to .* \(mode 777\) and it has no sticky bit/);
  chmodSync(base, 0o1777);
  const sticky = await runHook("environment", job(context), { agent: { AWS_PARAMSTORE_SECRETS_FILES_DIR: base } });
  assert.is(sticky.status, 0, `a sticky world-writable directory of the agent's user (like /tmp) is fine: ${sticky.stderr}`);
  assert.ok(sticky.env.KUBECONFIG?.startsWith(`${base}/bk-ssm-secrets-`));
  assert.is((await runHook("pre-exit", sticky.env, { agent: { AWS_PARAMSTORE_SECRETS_FILES_DIR: base } })).status, 0);
  assert.equal(readdirSync(base), []);
});

Trust("a secret-files directory that is a symlink into the checkout is refused", async (context) => {
  const checkout = join(context.scratch, "builds", "agent", "acme", "app");
  mkdirSync(join(checkout, "secrets"), { recursive: true });
  const link = join(context.scratch, "files-link");
  symlinkSync(join(checkout, "secrets"), link);
  await refusesFilesDir(context, link, /refusing to write secret files inside the checkout/, { BUILDKITE_BUILD_CHECKOUT_PATH: checkout });
  assert.equal(readdirSync(join(checkout, "secrets")), []);
});

Trust.run();
