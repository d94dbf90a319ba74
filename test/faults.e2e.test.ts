// Faults on the way to SSM, injected at the test endpoint (and an IMDSv2
// endpoint for instance-profile credentials), through the compiled binary and
// the real hook. Each either recovers or fails the job with one clear line and
// nothing exported. Outcomes and timings are printed for RELIABILITY.md.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { startImdsServer } from "./support/imds-server.ts";
import { envChanges, runHook, type Env } from "./support/job.ts";
import { startSsmServer } from "./support/ssm-server.ts";

const Faults = suite<{ fixture: JobFixture }>("faults", {} as { fixture: JobFixture });

Faults.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/SHARED`]: "global-value",
    [`${BASE}/app/env/APP_TOKEN`]: "app-token-value",
    [`${BASE}/app/env/DB_PASSWORD`]: "db-password-value",
  });
});
Faults.after((context) => context.fixture.close());
Faults.before.each(({ fixture }) => {
  fixture.server.clearFaults();
  fixture.server.resetCalls();
});

async function job(fixture: JobFixture, extra: Env = {}, replace?: (env: Env) => Env) {
  const env = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", ...extra });
  const before = replace ? replace(env) : env;
  const started = performance.now();
  const run = await runHook("environment", before);
  return { ...run, ms: performance.now() - started, changes: envChanges(before, run.env) };
}

function record(fault: string, run: { status: number; ms: number }, detail = "") {
  console.log(`fault: ${fault} -> ${run.status === 0 ? "recovered" : "failed cleanly"} in ${run.ms.toFixed(0)} ms${detail ? ` (${detail})` : ""}`);
}

function assertRecovered(run: Awaited<ReturnType<typeof job>>) {
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.APP_TOKEN, "app-token-value");
  assert.is(run.changes.SHARED, "global-value");
}

function assertFailedCleanly(run: Awaited<ReturnType<typeof job>>, ...patterns: RegExp[]) {
  assert.is.not(run.status, 0);
  assert.equal(run.changes, {}, "nothing exported");
  const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.is(errors.length, 1, run.stderr);
  for (const pattern of patterns) assert.match(errors[0]!, pattern);
}

Faults("a throttling burst on every action is retried with backoff", async ({ fixture }) => {
  fixture.server.inject({ kind: "throttle", times: 6 });
  const run = await job(fixture);
  assertRecovered(run);
  const calls = fixture.server.callCount();
  assert.is(calls, 2 + 6);
  record("6 ThrottlingExceptions across both slugs", run, `${calls} requests`);
});

Faults("5xx answers are retried", async ({ fixture }) => {
  fixture.server.inject({ kind: "server-error", times: 2 });
  fixture.server.inject({ kind: "server-error", status: 503, times: 1 });
  const run = await job(fixture);
  assertRecovered(run);
  record("2 × 500 InternalServerError + 1 × 503", run, `${fixture.server.callCount()} requests`);
});

Faults("connection resets are retried", async ({ fixture }) => {
  fixture.server.inject({ kind: "reset", times: 2 });
  const run = await job(fixture);
  assertRecovered(run);
  record("2 connection resets", run);
});

Faults("5xx on every try is retried until the deadline, then fails naming the path and SSM's last answer", async ({ fixture }) => {
  fixture.server.inject({ kind: "server-error", pathPrefix: `${BASE}/app` });
  const run = await job(fixture, { AWS_PARAMSTORE_SECRETS_TIMEOUT: "3" });
  assertFailedCleanly(run, new RegExp(`${BASE}/app`), /did not finish within 3 s/, /last answer: InternalServerError/);
  assert.ok(run.ms < 4000, `took ${run.ms} ms`);
  record("500 on every request for one slug, 3 s deadline", run, `${fixture.server.callCount("GetParametersByPath")} requests`);
});

Faults("AWS_MAX_ATTEMPTS bounds the retries", async ({ fixture }) => {
  fixture.server.inject({ kind: "server-error", pathPrefix: `${BASE}/app` });
  const run = await job(fixture, { AWS_MAX_ATTEMPTS: "3" });
  assertFailedCleanly(run, new RegExp(`${BASE}/app`), /InternalServerError/);
  assert.is(fixture.server.callCount("GetParametersByPath"), 1 + 3);
});

Faults("a response slower than the deadline fails within deadline + 1 s", async ({ fixture }) => {
  fixture.server.inject({ kind: "delay", delayMs: 10_000, pathPrefix: `${BASE}/app` });
  const run = await job(fixture, { AWS_PARAMSTORE_SECRETS_TIMEOUT: "2" });
  assertFailedCleanly(run, new RegExp(`${BASE}/app`), /did not finish within 2 s/, /AWS_PARAMSTORE_SECRETS_TIMEOUT/);
  assert.ok(run.ms < 3000, `took ${run.ms} ms`);
  record("10 s response, 2 s deadline", run);
});

Faults("a SecureString KMS cannot decrypt names the path and kms:Decrypt", async ({ fixture }) => {
  fixture.server.inject({ kind: "kms", pathPrefix: `${BASE}/app/env/DB_PASSWORD` });
  const run = await job(fixture);
  assertFailedCleanly(run, new RegExp(`${BASE}/app`), /kms:Decrypt/, /AWSKMS|KMS/);
  record("KMS decrypt denied", run);
});

Faults("a wrong secret key is rejected by the signature check: one line naming what to check", async ({ fixture }) => {
  const run = await job(fixture, { AWS_SECRET_ACCESS_KEY: "not-the-secret" });
  assertFailedCleanly(run, /InvalidSignatureException/, /AWS_SECRET_ACCESS_KEY/);
  record("wrong secret key", run);
});

Faults("an unknown access key id names the credentials to check", async ({ fixture }) => {
  const run = await job(fixture, { AWS_ACCESS_KEY_ID: "AKIDUNKNOWN" });
  assertFailedCleanly(run, /UnrecognizedClientException/, /AWS_ACCESS_KEY_ID/);
  record("unknown access key", run);
});

Faults("an expired session token says to refresh it", async () => {
  const server = await startSsmServer({ expiredToken: "expired-session-token" });
  try {
    const { sdkEnv } = await import("./support/ssm-server.ts");
    const { baseJobEnv } = await import("./support/job.ts");
    const env = baseJobEnv({ ...sdkEnv(server), AWS_SESSION_TOKEN: "expired-session-token", BUILDKITE_PIPELINE_SLUG: "app" });
    const started = performance.now();
    const run = { ...(await runHook("environment", env)), ms: 0 };
    run.ms = performance.now() - started;
    assertFailedCleanly({ ...run, changes: envChanges(env, run.env) }, /ExpiredTokenException/, /AWS_SESSION_TOKEN/);
    record("expired session token", run);
  } finally {
    await server.close();
  }
});

Faults("no region configured says to set AWS_REGION", async ({ fixture }) => {
  const run = await job(fixture, { AWS_REGION: "", AWS_DEFAULT_REGION: "" });
  assertFailedCleanly(run, /no AWS region configured/, /AWS_REGION/);
  assert.is(fixture.server.callCount(), 0);
  record("no region", run);
});

Faults("AWS_DEFAULT_REGION alone is enough, as it was for the old hook", async ({ fixture }) => {
  const run = await job(fixture, { AWS_REGION: "", AWS_DEFAULT_REGION: "us-east-1" });
  assertRecovered(run);
});

/** The job's environment with no static keys: credentials must come from the instance profile. */
function instanceProfileEnv(imdsUrl: string) {
  return (env: Env): Env => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, AWS_SESSION_TOKEN: _token, AWS_EC2_METADATA_DISABLED: _disabled, ...rest } = env;
    return { ...rest, AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsUrl };
  };
}

Faults("credentials from the instance profile over IMDSv2", async () => {
  const imds = await startImdsServer();
  const server = await startSsmServer({ credentials: imds.credentials, params: [{ name: `${BASE}/app/env/FROM_PROFILE`, value: "profile-value", type: "SecureString" }] });
  try {
    const { sdkEnv } = await import("./support/ssm-server.ts");
    const { baseJobEnv } = await import("./support/job.ts");
    const env = instanceProfileEnv(imds.url)(baseJobEnv({ ...sdkEnv(server), BUILDKITE_PIPELINE_SLUG: "app" }));
    const run = await runHook("environment", env);
    assert.is(run.status, 0, run.stderr);
    assert.is(run.env.FROM_PROFILE, "profile-value");
    // Asked once, early (before the configuration is read), and that answer used: no second round of requests.
    assert.equal(imds.requests, ["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/", `GET /latest/meta-data/iam/security-credentials/${imds.role}`]);
  } finally {
    await server.close();
    await imds.close();
  }
});

Faults("IMDS down: one clear line about credentials", async ({ fixture }) => {
  const imds = await startImdsServer();
  const url = imds.url;
  await imds.close(); // nothing listens there now
  const run = await job(fixture, {}, instanceProfileEnv(url));
  assertFailedCleanly(run, /no AWS credentials found/, /instance profile/);
  record("instance metadata service down", run);
});

Faults("IMDS hung: fails within the metadata timeout, not the phase deadline", async ({ fixture }) => {
  const imds = await startImdsServer();
  imds.setDelay(30_000);
  try {
    const run = await job(fixture, { AWS_PARAMSTORE_SECRETS_TIMEOUT: "20" }, instanceProfileEnv(imds.url));
    assertFailedCleanly(run, /no AWS credentials found/);
    assert.ok(run.ms < 6000, `took ${run.ms} ms`);
    record("instance metadata service hung", run);
  } finally {
    await imds.close();
  }
});

Faults.run();
