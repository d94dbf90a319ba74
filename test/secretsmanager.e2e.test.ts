// Secrets Manager references end to end: `<slug>/secretsmanager/<NAME>`
// parameters resolved through Parameter Store's bridge on the SSM test
// endpoint (signature-checked like every other call) by the compiled binary,
// reaching the job through the real environment hook in bash. Every secret
// is planted, so a run that logs one fails.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { startJobApiServer, type JobApiServer } from "./support/job-api-server.ts";
import { envChanges, plantSecret, runHook, type Env } from "./support/job.ts";
import { failureLine, runOperator, tableCells } from "./support/operator.ts";

const NPM_TOKEN = "npm-token-from-secrets-manager-0123";
const DB = { username: "db-user-alpha", password: "db-password-from-json-4567", port: 5432, "odd key #1": "odd-key-value-8910" };
const ROTATED_OLD = "rotated-value-previous-1111";
const ROTATED_NEW = "rotated-value-current-2222";
const SHARED_SECRET = "shared-from-secrets-manager-3333";
const NOT_JSON = "plain-text-secret-not-json-4444";

interface Context {
  fixture: JobFixture;
  jobApi: JobApiServer;
}

const Refs = suite<Context>("Secrets Manager references", {} as Context);

Refs.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/SHARED`]: "shared-from-global-env-5555",
    [`${BASE}/app/env/OVERRIDDEN`]: "from-the-pipeline-env-6666",
    [`${BASE}/locked/allowed_pipelines`]: "somebody-else",
  });
  // References name secrets without holding them, so they are not planted: logs may name them.
  const references: Record<string, string> = {
    [`${BASE}/app/secretsmanager/NPM_TOKEN`]: "ci/npm",
    [`${BASE}/app/secretsmanager/db-password`]: "ci/db#password",
    [`${BASE}/app/secretsmanager/DB_PORT`]: " ci/db#port\n",
    [`${BASE}/app/secretsmanager/ODD`]: "ci/db#odd key #1",
    [`${BASE}/app/secretsmanager/SHARED`]: "ci/shared",
    [`${BASE}/global/secretsmanager/OVERRIDDEN`]: "ci/global-only",
    [`${BASE}/app/secretsmanager/PATH`]: "ci/npm",
    [`${BASE}/app/secretsmanager/LD_PRELOAD`]: "ci/npm",
    [`${BASE}/rotation/secretsmanager/CURRENT`]: "ci/rotated",
    [`${BASE}/rotation/secretsmanager/PREVIOUS`]: "ci/rotated:AWSPREVIOUS",
    [`${BASE}/locked/secretsmanager/LOCKED`]: "ci/npm",
    [`${BASE}/missing-secret/secretsmanager/GONE`]: "ci/gone",
    [`${BASE}/missing-secret/secretsmanager/NPM_TOKEN`]: "ci/npm",
    [`${BASE}/missing-key/secretsmanager/NOPE`]: "ci/db#no-such-key",
    [`${BASE}/not-json/secretsmanager/KEYED`]: "ci/plain#password",
    [`${BASE}/missing-stage/secretsmanager/OLD`]: "ci/npm:AWSPREVIOUS",
    [`${BASE}/bad-reference/secretsmanager/ARN`]: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/npm-AbCdEf",
    [`${BASE}/many/secretsmanager/M0`]: "ci/npm",
  };
  for (let i = 1; i <= 11; i++) references[`${BASE}/many/secretsmanager/M${i}`] = `ci/many-${i}`;
  for (const [name, value] of Object.entries(references)) context.fixture.server.put(name, value, { type: "String" });
  const secrets: Array<[string, string]> = [
    ["ci/npm", NPM_TOKEN],
    ["ci/db", JSON.stringify(DB)],
    ["ci/shared", SHARED_SECRET],
    ["ci/global-only", "global-only-secret-7777"],
    ["ci/plain", NOT_JSON],
    ["ci/rotated", ROTATED_OLD],
    ["ci/rotated", ROTATED_NEW],
  ];
  for (let i = 1; i <= 11; i++) secrets.push([`ci/many-${i}`, `many-secret-value-${i}-abcdef`]);
  for (const [id, value] of secrets) {
    plantSecret(value);
    context.fixture.server.putSecret(id, value);
  }
  for (const value of [DB.username, DB.password, DB["odd key #1"]]) plantSecret(value);
  context.jobApi = startJobApiServer();
});
Refs.after(async (context) => {
  context.jobApi.close();
  await context.fixture.close();
});
Refs.before.each((context) => context.fixture.server.resetCalls());

async function job(context: Context, pipeline: string, extra: Env = {}) {
  const before = context.fixture.jobEnv({ BUILDKITE_REPO: "", BUILDKITE_SOURCE: "ui", BUILDKITE_PIPELINE_SLUG: pipeline, ...extra });
  const run = await runHook("environment", before);
  return { ...run, changes: envChanges(before, run.env) };
}

/** The names each GetParameters call asked for, in order. */
function bridgeCalls(context: Context): string[][] {
  return context.fixture.server.requests.filter((request) => request.action === "GetParameters").map((request) => (request.body as { Names: string[] }).Names);
}

function assertFailed(run: Awaited<ReturnType<typeof job>>, ...fragments: string[]) {
  assert.is.not(run.status, 0, "the job fails");
  assert.equal(run.changes, {}, "nothing is exported");
  const line = failureLine(run.stderr);
  for (const fragment of fragments) assert.ok(line.includes(fragment), `${JSON.stringify(fragment)} in: ${line}`);
}

Refs("a plain and a JSON-key reference reach the job, in one extra round trip with decryption", async (context) => {
  const run = await job(context, "app");
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.NPM_TOKEN, NPM_TOKEN);
  assert.is(run.changes.DB_PASSWORD, DB.password);
  assert.is(run.changes.DB_PORT, "5432", "a non-string JSON value arrives as its JSON text");
  assert.is(run.changes.ODD, DB["odd key #1"], "a key may hold # and spaces: only the first # separates");
  // One GetParametersByPath per slug (global, app), then one GetParameters for every reference.
  assert.is(context.fixture.server.callCount("GetParametersByPath"), 2);
  const calls = bridgeCalls(context);
  assert.is(calls.length, 1, JSON.stringify(calls));
  assert.equal(calls[0]!.sort(), ["/aws/reference/secretsmanager/ci/db", "/aws/reference/secretsmanager/ci/npm", "/aws/reference/secretsmanager/ci/shared"], "each secret once; the overridden reference not at all");
  const request = context.fixture.server.requests.find((r) => r.action === "GetParameters")!;
  assert.is((request.body as { WithDecryption?: boolean }).WithDecryption, true);
  assert.ok(request.at >= Math.max(...context.fixture.server.requests.filter((r) => r.action === "GetParametersByPath").map((r) => r.at)), "after the listings");
  assert.match(run.stderr, /variable DB_PASSWORD from app \(\/vendors\/buildkite\/app\/secretsmanager\/db-password\)/);
});

Refs("precedence: a later slug's reference overrides env/, a later env/ overrides a reference that is then never read", async (context) => {
  const run = await job(context, "app");
  assert.is(run.changes.SHARED, SHARED_SECRET);
  assert.is(run.changes.OVERRIDDEN, "from-the-pipeline-env-6666");
  assert.not.ok(bridgeCalls(context).flat().some((name) => name.includes("global-only")), "the overridden reference is not read");
});

Refs("protected names are refused from a reference as from env/", async (context) => {
  const run = await job(context, "app");
  assert.is(run.status, 0, run.stderr);
  assert.is.not(run.env.PATH, NPM_TOKEN);
  assert.not.ok("LD_PRELOAD" in run.changes);
  assert.match(run.stderr, /skipping \/vendors\/buildkite\/app\/secretsmanager\/PATH: PATH may not be set from a secret/);
  assert.match(run.stderr, /skipping \/vendors\/buildkite\/app\/secretsmanager\/LD_PRELOAD/);
});

Refs("version stages: AWSCURRENT by default, AWSPREVIOUS by label, in one round trip", async (context) => {
  const run = await job(context, "rotation");
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.CURRENT, ROTATED_NEW);
  assert.is(run.changes.PREVIOUS, ROTATED_OLD);
  // Two stages of one secret go in separate calls (SSM answers a labelled name without its label), sent together.
  const calls = bridgeCalls(context);
  assert.is(calls.length, 2, JSON.stringify(calls));
  const stages = ["/aws/reference/secretsmanager/ci/rotated", "/aws/reference/secretsmanager/ci/rotated:AWSPREVIOUS"];
  assert.ok(stages.every((name) => calls.filter((names) => names.includes(name)).length === 1), JSON.stringify(calls));
});

Refs("eleven references and more: ten names per call", async (context) => {
  const run = await job(context, "many");
  assert.is(run.status, 0, run.stderr);
  for (let i = 1; i <= 11; i++) assert.is(run.changes[`M${i}`], `many-secret-value-${i}-abcdef`);
  assert.is(run.changes.OVERRIDDEN, "global-only-secret-7777", "the default slug's reference, not overridden here");
  assert.is(run.changes.M0, NPM_TOKEN);
  assert.equal(bridgeCalls(context).map((names) => names.length).sort(), [10, 3]);
});

Refs("an access list that denies the job: nothing exported, no secret read", async (context) => {
  const run = await job(context, "locked");
  assertFailed(run, "slug locked", "allowed_pipelines");
  assert.equal(bridgeCalls(context), []);
});

Refs("a missing secret fails the job with one line naming the parameter and the secret", async (context) => {
  const run = await job(context, "missing-secret");
  assertFailed(run, `${BASE}/missing-secret/secretsmanager/GONE`, "ci/gone", "not found");
  assert.not.match(run.stderr, /NPM_TOKEN from/, "the other reference is not handed out either");
});

Refs("a missing version stage fails the job", async (context) => {
  assertFailed(await job(context, "missing-stage"), `${BASE}/missing-stage/secretsmanager/OLD`, "ci/npm (stage AWSPREVIOUS)");
});

Refs("a missing JSON key fails the job", async (context) => {
  assertFailed(await job(context, "missing-key"), `${BASE}/missing-key/secretsmanager/NOPE`, "ci/db", 'no key "no-such-key"');
});

Refs("a key into a secret that is not JSON fails the job", async (context) => {
  assertFailed(await job(context, "not-json"), `${BASE}/not-json/secretsmanager/KEYED`, "ci/plain", "not a JSON object");
});

Refs("a reference that is not one (an ARN) fails the job before any secret is read", async (context) => {
  assertFailed(await job(context, "bad-reference"), `${BASE}/bad-reference/secretsmanager/ARN`, "ARN");
  assert.equal(bridgeCalls(context), []);
});

Refs("access denied on the bridge: one line naming the references and the IAM they need", async (context) => {
  context.fixture.server.inject({ action: "GetParameters", pathPrefix: "/aws/reference/secretsmanager/", kind: "access-denied" });
  try {
    const run = await job(context, "app");
    assertFailed(run, "access denied", `${BASE}/app/secretsmanager/NPM_TOKEN`, "secretsmanager:GetSecretValue", "kms:Decrypt");
  } finally {
    context.fixture.server.clearFaults();
  }
});

Refs("the resolved values, not the references, are registered with the agent's redactor", async (context) => {
  context.jobApi.redactions.length = 0;
  const run = await job(context, "app", context.jobApi.jobEnv());
  assert.is(run.status, 0, run.stderr);
  for (const value of [NPM_TOKEN, DB.password, SHARED_SECRET, DB["odd key #1"]]) assert.ok(context.jobApi.redactions.includes(value), "registered");
  assert.not.ok(context.jobApi.redactions.some((value) => value.startsWith("ci/")), "no reference registered");
});

Refs("put secretsmanager stores the reference as a String; a job resolves it; ls and doctor show it", async (context) => {
  const env = context.fixture.jobEnv();
  const put = await runOperator(["put", "secretsmanager", "deploy-password", "--pipeline", "put-target", "--yes"], env, "ci/db#password\n");
  assert.is(put.status, 0, put.stderr);
  assert.match(put.stderr, /a String naming Secrets Manager secret ci\/db, key "password"/);
  const stored = context.fixture.server.get(`${BASE}/put-target/secretsmanager/deploy-password`)!;
  assert.equal([stored.type, stored.value], ["String", "ci/db#password"]);

  const run = await job(context, "put-target");
  assert.is(run.changes.DEPLOY_PASSWORD, DB.password);

  const ls = await runOperator(["ls", "--pipeline", "put-target"], env);
  assert.ok(tableCells(ls.stdout).some((cells) => cells[0] === `${BASE}/put-target/secretsmanager/deploy-password` && cells[1] === "String"), ls.stdout);

  const doctor = await runOperator(["doctor", "--pipeline", "put-target", "--repo", ""], env);
  assert.is(doctor.status, 0, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, /DEPLOY_PASSWORD.*from Secrets Manager secret ci\/db, key "password"/);
});

Refs("put refuses a value that is not a reference, and --kms-key for one", async (context) => {
  const env = context.fixture.jobEnv();
  const bad = await runOperator(["put", "secretsmanager", "X", "--pipeline", "put-target", "--yes"], env, "arn:aws:secretsmanager:us-east-1:1:secret:x");
  assert.is(bad.status, 2);
  assert.match(failureLine(bad.stderr), /not a reference/);
  const kms = await runOperator(["put", "secretsmanager", "X", "--pipeline", "put-target", "--yes", "--kms-key", "alias/x"], env, "ci/npm");
  assert.is(kms.status, 2);
  assert.equal(context.fixture.server.callCount("PutParameter"), 0);
});

Refs("doctor fails, naming the parameter and the secret, when a reference cannot be resolved", async (context) => {
  const doctor = await runOperator(["doctor", "--pipeline", "missing-key", "--repo", ""], context.fixture.jobEnv());
  assert.is(doctor.status, 1);
  assert.match(doctor.stdout, /missing-key\/secretsmanager\/NOPE: Secrets Manager secret ci\/db has no key "no-such-key"/);
});

Refs.run();
