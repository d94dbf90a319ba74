// Deploy keys in the environment phase, and pre-exit's care to stop only
// the job's own agents: the compiled binary through the real hooks, with real
// ssh-agent and ssh-add, against the SSM test endpoint.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { generateKey, type TestKey } from "./support/git-ssh-server.ts";
import { envChanges, runBinary, runHook, type Env } from "./support/job.ts";
import { agentsUnder, assertJobLeftNothing, jobScratch, plantKey, toolWrappers, type JobScratch, type ToolWrappers } from "./support/ssh-job.ts";

const REPO = "git@github.com:acme/keys.git";
const REPO_SLUG = "github.com_acme_keys.git";

interface Context {
  fixture: JobFixture;
  tools: ToolWrappers;
  scratch: JobScratch;
  repoKey: TestKey;
  pipelineKey: TestKey;
  globalKey: TestKey;
}

const Keys = suite<Context>("deploy keys", {} as Context);

Keys.before(async (context) => {
  context.repoKey = generateKey("repo");
  context.pipelineKey = generateKey("pipeline");
  context.globalKey = generateKey("global");
  for (const key of [context.repoKey, context.pipelineKey, context.globalKey]) plantKey(key);
  context.fixture = await startJobFixture({
    [`${BASE}/${REPO_SLUG}/ssh/key`]: context.repoKey.privateKey,
    [`${BASE}/keys-env/ssh/key`]: context.pipelineKey.privateKey,
    [`${BASE}/keys-env/env/FROM_PIPELINE`]: "pipeline-variable",
    [`${BASE}/shared/global-key`]: context.globalKey.privateKey,
  });
  context.tools = toolWrappers();
});
Keys.after(async ({ fixture, tools }) => {
  await fixture.close();
  tools.close();
});
Keys.before.each((context) => {
  context.scratch = jobScratch();
  context.fixture.server.resetCalls();
  context.fixture.server.configure({ latencyMs: 0 });
});
Keys.after.each(({ scratch }) => scratch.remove());

function job({ fixture, scratch, tools }: Context, extra: Env = {}): Env {
  return fixture.jobEnv({ ...scratch.env(tools), BUILDKITE_REPO: REPO, BUILDKITE_PIPELINE_SLUG: "keys", ...extra });
}

/** The fingerprints an agent holds, in order. */
function agentKeys(socket: string): string[] {
  const list = Bun.spawnSync(["ssh-add", "-l"], { env: { SSH_AUTH_SOCK: socket, PATH: process.env.PATH! } });
  return list.stdout.toString().split("\n").filter(Boolean).map((line) => line.split(" ")[1]!);
}

async function preExit(env: Env) {
  const run = await runHook("pre-exit", env);
  assert.is(run.status, 0, run.stderr);
  return run;
}

Keys("environment starts both agents; the keys reach them and nothing else: not the payload, not the environment", async (context) => {
  const env = job(context, { BUILDKITE_PIPELINE_SLUG: "keys-env", AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/shared/global-key` });
  const direct = await runBinary(["environment"], env);
  assert.is(direct.status, 0, direct.stderr);
  const keyLines = [context.repoKey, context.pipelineKey, context.globalKey].flatMap((key) => key.privateKey.split("\n").filter((line) => line.length > 20));
  assert.not.ok(keyLines.some((line) => direct.stdout.includes(line)), "no key in the eval payload");
  await preExit({ ...env, ...Object.fromEntries([...direct.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!])) });

  const run = await runHook("environment", env);
  assert.is(run.status, 0, run.stderr);
  const changes = envChanges(env, run.env);
  assert.equal(Object.keys(changes).sort(), ["AWS_PARAMSTORE_SECRETS_AGENT_PID", "AWS_PARAMSTORE_SECRETS_AUTH_SOCK", CANARY_VARIABLE, "FROM_PIPELINE", "SSH_AGENT_PID", "SSH_AUTH_SOCK"]);
  assert.equal(agentKeys(changes.AWS_PARAMSTORE_SECRETS_AUTH_SOCK!), [context.pipelineKey.fingerprint, context.repoKey.fingerprint]);
  assert.equal(agentKeys(changes.SSH_AUTH_SOCK!), [context.globalKey.fingerprint]);
  assert.match(run.stderr, /Loaded 2 variables and 3 deploy keys from 3 slugs/);
  assert.equal(agentsUnder(context.scratch.root).sort(), [Number(changes.SSH_AGENT_PID), Number(changes.AWS_PARAMSTORE_SECRETS_AGENT_PID)].sort());

  const after = await preExit(run.env);
  for (const name of ["SSH_AUTH_SOCK", "SSH_AGENT_PID", "AWS_PARAMSTORE_SECRETS_AUTH_SOCK", "AWS_PARAMSTORE_SECRETS_AGENT_PID"]) assert.is(after.env[name], undefined, name);
  assert.is(after.env.FROM_PIPELINE, "pipeline-variable");
  assertJobLeftNothing(context.scratch, [context.repoKey, context.pipelineKey, context.globalKey], context.tools);
});

Keys("slug walks and global keys are read at once: GetParameters ten names a call, all requests in one round trip", async (context) => {
  const names = [`${BASE}/shared/global-key`, ...Array.from({ length: 11 }, (_, i) => `${BASE}/shared/absent-${i}`)];
  const latencyMs = 1000;
  context.fixture.server.configure({ latencyMs });
  const run = await runHook("environment", job(context, { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: names.join(":") }));
  assert.is(run.status, 0, run.stderr);
  assert.is(context.fixture.server.callCount("GetParameters"), 2);
  assert.is(context.fixture.server.callCount("GetParametersByPath"), 3);
  assert.is(context.fixture.server.callCount(), 5);
  const arrivals = context.fixture.server.requests.map((request) => request.at);
  // Every request arrived before the first answer could have: none waited for another.
  assert.ok(Math.max(...arrivals) - Math.min(...arrivals) < latencyMs, JSON.stringify(arrivals));
  const warnings = run.stderr.split("\n").filter((line) => line.includes("AWS_PARAMSTORE_SECRETS_GLOBAL_SSH lists"));
  assert.is(warnings.length, 11);
  assert.equal(agentKeys(run.env.SSH_AUTH_SOCK!), [context.globalKey.fingerprint]);
  await preExit(run.env);
  assertJobLeftNothing(context.scratch, [context.globalKey]);
});

Keys("a passphrase-protected key fails the job with one line naming the parameter; no agent starts", async (context) => {
  const protectedKey = generateKey("protected", "a long passphrase");
  plantKey(protectedKey);
  context.fixture.seed({ [`${BASE}/keys-protected/ssh/key`]: protectedKey.privateKey });
  const env = job(context, { BUILDKITE_PIPELINE_SLUG: "keys-protected", AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/shared/global-key` });
  const run = await runHook("environment", env);
  assert.is(run.status, 1);
  assert.equal(envChanges(env, run.env), {});
  const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.equal(errors, [
    `:no_entry: bk-ssm-secrets: the deploy key ${BASE}/keys-protected/ssh/key is protected by a passphrase, which nobody can type during a job: store the key without one (ssh-keygen -p -N '' -f KEYFILE, then put the file in SSM)`,
  ]);
  assert.equal(context.tools.calls().filter((call) => call.args.includes(context.scratch.tmp)), [], "no agent was started");
  assertJobLeftNothing(context.scratch, [protectedKey, context.repoKey]);
});

Keys("a public key stored by mistake fails the job with one line naming the parameter", async (context) => {
  context.fixture.seed({ [`${BASE}/keys-public/ssh/key`]: context.pipelineKey.publicKey });
  const run = await runHook("environment", job(context, { BUILDKITE_PIPELINE_SLUG: "keys-public" }));
  assert.is(run.status, 1);
  assert.match(run.stderr, new RegExp(`:no_entry: bk-ssm-secrets: the deploy key ${BASE}/keys-public/ssh/key is not an SSH private key`));
  assert.is(run.stderr.split("\n").filter((line) => line.includes(":no_entry:")).length, 1);
  assertJobLeftNothing(context.scratch, [context.repoKey]);
});

Keys("an SSH repository without a key anywhere: one warning naming the exact SSM name, unless silenced", async (context) => {
  const env = job(context, { BUILDKITE_REPO: "git@github.com:acme/nokey.git", BUILDKITE_PIPELINE_SLUG: "nokey" });
  const warned = await runHook("environment", env);
  assert.is(warned.status, 0, warned.stderr);
  const warnings = warned.stderr.split("\n").filter((line) => line.includes("no SSH deploy key found"));
  assert.is(warnings.length, 1);
  assert.ok(warnings[0]!.startsWith(`:warning: no SSH deploy key found for this job's repository: put one at ${BASE}/github.com_acme_nokey.git/ssh/key, or ${BASE}/nokey/ssh/key`));
  const silenced = await runHook("environment", { ...env, AWS_PARAMSTORE_SECRETS_SKIP_SSH_KEY_NOT_FOUND_WARNING: "1" });
  assert.is(silenced.status, 0);
  assert.not.match(silenced.stderr, /no SSH deploy key found/);
  const https = await runHook("environment", { ...env, BUILDKITE_REPO: "https://github.com/acme/nokey.git" });
  assert.not.match(https.stderr, /no SSH deploy key found/);
});

Keys("a key under the default slug is ignored with a warning, as before", async (context) => {
  context.fixture.seed({ [`${BASE}/keys-default/ssh/key`]: context.globalKey.privateKey });
  const run = await runHook("environment", job(context, { AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "keys-default", BUILDKITE_REPO: "https://example.com/x.git" }));
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`:warning: ignoring ${BASE}/keys-default/ssh/key: a deploy key under the default slug is not used`));
  assert.is(run.env.SSH_AUTH_SOCK, undefined);
  assert.is(run.env.AWS_PARAMSTORE_SECRETS_AUTH_SOCK, undefined);
});

Keys("pre-exit with nothing to clean up prints nothing and changes nothing", async (context) => {
  const env = job(context);
  const run = await preExit(env);
  assert.equal(envChanges(env, run.env), {});
  assert.equal(envChanges(run.env, env), {});
  assert.is(run.stderr, "");
});

Keys("pre-exit leaves an agent that is not the job's alone", async (context) => {
  const socket = join(context.scratch.tmp, "host-agent.sock");
  const started = Bun.spawnSync(["ssh-agent", "-a", socket, "-s"]);
  const pid = /SSH_AGENT_PID=(\d+)/.exec(started.stdout.toString())![1]!;
  try {
    const env = job(context, { SSH_AUTH_SOCK: socket, SSH_AGENT_PID: pid });
    const run = await preExit(env);
    assert.is(run.env.SSH_AUTH_SOCK, socket);
    assert.is(run.env.SSH_AGENT_PID, pid);
    assert.equal(agentsUnder(context.scratch.root), [Number(pid)]);
  } finally {
    process.kill(Number(pid));
  }
});

Keys("pre-exit never signals a pid that is not the agent on the job's socket", async (context) => {
  const directory = join(context.scratch.tmp, "bk-ssm-secrets-agents-Fake01");
  mkdirSync(directory, { mode: 0o700 });
  const bystander = Bun.spawn(["sleep", "30"]);
  try {
    const run = await preExit(job(context, { AWS_PARAMSTORE_SECRETS_AUTH_SOCK: join(directory, "slug.sock"), AWS_PARAMSTORE_SECRETS_AGENT_PID: String(bystander.pid) }));
    assert.is(bystander.exitCode, null, "the bystander is still running");
    assert.ok(existsSync(`/proc/${bystander.pid}`));
    assert.is(run.env.AWS_PARAMSTORE_SECRETS_AUTH_SOCK, undefined);
    assert.not.ok(existsSync(directory));
  } finally {
    bystander.kill();
  }
});

Keys("pre-exit finds the job's agent by its socket when the pid variable is stale", async (context) => {
  const env = job(context);
  const run = await runHook("environment", env);
  assert.is(run.status, 0, run.stderr);
  const slugPid = Number(run.env.AWS_PARAMSTORE_SECRETS_AGENT_PID);
  assert.equal(agentsUnder(context.scratch.root), [slugPid]);
  await preExit({ ...run.env, AWS_PARAMSTORE_SECRETS_AGENT_PID: "1" });
  assertJobLeftNothing(context.scratch, [context.repoKey]);
});

Keys("pre-checkout's probe is bounded by the timeout, and nothing it started outlives it", async (context) => {
  const run = await runHook("environment", job(context));
  assert.is(run.status, 0, run.stderr);
  // An ssh that never answers, recording its pid.
  const ssh = join(context.scratch.root, "hanging-ssh");
  const pidFile = join(context.scratch.root, "hanging-ssh.pid");
  writeFileSync(ssh, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`, { mode: 0o755 });
  const started = performance.now();
  const probe = await runHook("pre-checkout", { ...run.env, GIT_SSH_COMMAND: ssh, AWS_PARAMSTORE_SECRETS_TIMEOUT: "1" });
  const seconds = (performance.now() - started) / 1000;
  assert.is(probe.status, 0, probe.stderr);
  assert.ok(seconds < 10, `took ${seconds} s`);
  assert.match(probe.stderr, /:warning: the slug's deploy key cannot reach the repository \(git ls-remote did not finish within 1 s\): the checkout uses the default agent/);
  assert.is(probe.env.SSH_AUTH_SOCK, undefined, "no switch");
  assert.is(probe.env.ORIG_SSH_AUTH_SOCK, "");
  const pid = readFileSync(pidFile, "utf8").trim();
  const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0] : "gone";
  assert.ok(state === "gone" || state === "Z", `the hanging ssh is ${state}`);
  await preExit(probe.env);
  assertJobLeftNothing(context.scratch, [context.repoKey]);
});

Keys("the new hooks do nothing unless AWS_SSM_SECRETS_PLUGIN_ENABLED is 1", async (context) => {
  for (const hook of ["pre-checkout", "post-checkout", "post-command", "pre-exit"]) {
    const env = job(context, { AWS_SSM_SECRETS_PLUGIN_ENABLED: "0", BK_SSM_SECRETS_BIN: "/nonexistent/bk-ssm-secrets", SSH_AUTH_SOCK: "/tmp/x/agent" });
    const run = await runHook(hook, env);
    assert.is(run.status, 0, hook);
    assert.equal(envChanges(env, run.env), {}, hook);
    assert.is(run.stderr, "", hook);
  }
});

Keys.run();
