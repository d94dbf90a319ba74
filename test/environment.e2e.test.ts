// The environment phase end to end: the compiled binary, run by
// hooks/environment in real bash, reading the SSM test endpoint with the
// real AWS SDK.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, CANARY, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { auditedRuns, envChanges, runHook, type Env } from "./support/job.ts";

const REPO = "git@github.com:acme/app.git";
const REPO_SLUG = "github.com_acme_app.git";

const job = (fixture: JobFixture, extra: Env = {}) =>
  fixture.jobEnv({ BUILDKITE_REPO: REPO, BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_BUILD_CREATOR_TEAMS: "dev", BUILDKITE_SOURCE: "ui", ...extra });

/** Run the environment hook (of an agent with `agent` in its defaults file, if given) and return exactly what it added or changed. */
async function environment(fixture: JobFixture, extra: Env = {}, agent?: Env) {
  const before = job(fixture, extra);
  const run = await runHook("environment", before, { agent });
  return { ...run, changes: envChanges(before, run.env) };
}

const Env = suite<{ fixture: JobFixture }>("environment", {} as { fixture: JobFixture });

Env.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/SHARED`]: "from-global",
    [`${BASE}/global/env/GLOBAL_ONLY`]: "g-only",
    [`${BASE}/${REPO_SLUG}/env/SHARED`]: "from-repo",
    [`${BASE}/${REPO_SLUG}/env/access-token`]: "tok$en'with\"quotes`and`\\back",
    [`${BASE}/app/env/SHARED`]: "from-pipeline",
    [`${BASE}/app/env/MULTI`]: "line one\nline two\n\n",
    [`${BASE}/app/env/LIST`]: { value: "a,b , c", type: "StringList" },
    [`${BASE}/app/env/PLAIN`]: { value: "plain string", type: "String" },
    [`${BASE}/app/env/1INVALID`]: "never-exported-1",
    [`${BASE}/app/env/has.dot`]: "never-exported-2",
    [`${BASE}/app/env/nested/DEEP`]: "never-exported-3",
    [`${BASE}/app/env/ssh-auth-sock`]: "never-exported-4",
  });
});
Env.after((context) => context.fixture.close());
Env.before.each((context) => {
  context.fixture.server.clearFaults();
  context.fixture.server.resetCalls();
});

Env("exports every slug's variables, later slugs overriding earlier ones", async ({ fixture }) => {
  const run = await environment(fixture);
  assert.is(run.status, 0, run.stderr);
  assert.equal(run.changes, {
    [CANARY_VARIABLE]: CANARY,
    SHARED: "from-pipeline",
    GLOBAL_ONLY: "g-only",
    ACCESS_TOKEN: "tok$en'with\"quotes`and`\\back",
    MULTI: "line one\nline two\n\n",
    LIST: "a,b , c",
    PLAIN: "plain string",
  });
  assert.match(run.stderr, /~~~ Loading secrets from SSM/);
});

Env("invalid, nested and protected names are skipped with a warning naming the path", async ({ fixture }) => {
  const run = await environment(fixture);
  for (const path of ["app/env/1INVALID", "app/env/has.dot", "app/env/nested/DEEP", "app/env/ssh-auth-sock"]) {
    assert.match(run.stderr, new RegExp(`:warning: skipping ${BASE}/${path}`.replaceAll(".", "\\.")));
  }
  assert.not.match(run.stderr, /never-exported/);
  assert.not.ok(Object.values(run.changes).some((value) => value.startsWith("never-exported")));
});

Env("one GetParametersByPath call per slug, all slugs read, nothing else called", async ({ fixture }) => {
  const run = await environment(fixture);
  assert.is(run.status, 0);
  assert.is(fixture.server.callCount("GetParametersByPath"), 3);
  assert.is(fixture.server.callCount(), 3);
});

Env("one call per page: a slug of 25 parameters takes three pages", async ({ fixture }) => {
  const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`${BASE}/paged/env/VAR_${String(i).padStart(2, "0")}`, `value-${i}`]));
  fixture.seed(many);
  const run = await environment(fixture, { BUILDKITE_PIPELINE_SLUG: "paged", BUILDKITE_REPO: "" });
  assert.is(run.status, 0, run.stderr);
  assert.is(fixture.server.callCount("GetParametersByPath"), 1 + 3);
  for (let i = 0; i < 25; i++) assert.is(run.changes[`VAR_${String(i).padStart(2, "0")}`], `value-${i}`);
});

Env("a slug with nothing under it is not an error", async ({ fixture }) => {
  const run = await environment(fixture, { BUILDKITE_PIPELINE_SLUG: "empty-pipeline", BUILDKITE_REPO: "https://example.com/none.git" });
  assert.is(run.status, 0, run.stderr);
  assert.equal(Object.keys(run.changes).sort(), [CANARY_VARIABLE, "GLOBAL_ONLY", "SHARED"]);
  assert.is(run.changes.SHARED, "from-global");
});

Env("a read failure on one slug exports nothing and names the path and the IAM action", async ({ fixture }) => {
  fixture.server.inject({ kind: "access-denied", pathPrefix: `${BASE}/app` });
  const run = await environment(fixture);
  assert.is.not(run.status, 0);
  assert.equal(run.changes, {});
  const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.is(errors.length, 1);
  assert.match(errors[0]!, new RegExp(`${BASE}/app`));
  assert.match(errors[0]!, /ssm:GetParametersByPath/);
});

Env("a throttled request is retried by the SDK and the job succeeds", async ({ fixture }) => {
  fixture.server.inject({ kind: "throttle", action: "GetParametersByPath", times: 2 });
  const run = await environment(fixture);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.SHARED, "from-pipeline");
  assert.is(fixture.server.callCount("GetParametersByPath"), 5);
});

Env("the deadline bounds the phase", async ({ fixture }) => {
  fixture.server.inject({ kind: "delay", delayMs: 5000, pathPrefix: `${BASE}/global` });
  const started = performance.now();
  const run = await environment(fixture, { AWS_PARAMSTORE_SECRETS_TIMEOUT: "1" });
  const seconds = (performance.now() - started) / 1000;
  assert.is.not(run.status, 0);
  assert.equal(run.changes, {});
  assert.ok(seconds < 2.5, `took ${seconds}s`);
  assert.match(run.stderr, /did not finish within 1 s/);
});

Env("the hook does nothing unless AWS_SSM_SECRETS_PLUGIN_ENABLED is 1", async ({ fixture }) => {
  for (const enabled of ["", "0", "true"]) {
    const run = await environment(fixture, { AWS_SSM_SECRETS_PLUGIN_ENABLED: enabled, BK_SSM_SECRETS_BIN: "/nonexistent/bk-ssm-secrets" });
    assert.is(run.status, 0);
    assert.equal(run.changes, {});
    assert.is(run.stderr, "");
  }
  assert.is(fixture.server.callCount(), 0);
});

Env("the hook finds the binary on PATH, and says so when it is missing", async ({ fixture }) => {
  const binary = job(fixture).BK_SSM_SECRETS_BIN!;
  const { mkdtempSync, symlinkSync, rmSync } = await import("node:fs");
  const dir = mkdtempSync("/tmp/bk-path-");
  symlinkSync(binary, `${dir}/bk-ssm-secrets`);
  try {
    const found = await environment(fixture, { BK_SSM_SECRETS_BIN: "", PATH: `${dir}:/usr/bin:/bin` });
    assert.is(found.status, 0, found.stderr);
    assert.is(found.changes.SHARED, "from-pipeline");
    const missing = await environment(fixture, { BK_SSM_SECRETS_BIN: "", PATH: "/usr/bin:/bin" });
    assert.is.not(missing.status, 0);
    assert.match(missing.stderr, /not on PATH/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

Env("a bad base path is one clear line and a failed job", async ({ fixture }) => {
  const run = await environment(fixture, {}, { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "vendors/buildkite" });
  assert.is.not(run.status, 0);
  assert.equal(run.changes, {});
  assert.equal(run.stderr.trim().split("\n").slice(0, 1), ["^^^ +++"]);
  assert.is(run.stderr.trim().split("\n").length, 2);
  assert.match(run.stderr, /\n:no_entry: bk-ssm-secrets: AWS_PARAMSTORE_SECRETS_SECRETS_PATH/);
  assert.is(fixture.server.callCount(), 0);
});

Env("a pipeline slug Buildkite could not have made fails the job in its group, after the warnings about its other settings", async ({ fixture }) => {
  const run = await environment(fixture, { BUILDKITE_PIPELINE_SLUG: "../deployer", AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/other", BK_SSM_SECRETS_SECRET_PATH: "/x" });
  assert.is.not(run.status, 0);
  assert.equal(run.changes, {});
  const lines = run.stderr.trim().split("\n");
  assert.is(lines[0], "~~~ Loading secrets from SSM", run.stderr);
  const refused = lines.findIndex((line) => line.includes("AWS_PARAMSTORE_SECRETS_SECRETS_PATH in the job's environment is ignored"));
  const unknown = lines.findIndex((line) => line.includes("BK_SSM_SECRETS_SECRET_PATH"));
  const failure = lines.findIndex((line) => line.startsWith(":no_entry:") && line.includes('BUILDKITE_PIPELINE_SLUG="../deployer" is not a Buildkite pipeline slug'));
  assert.ok(refused > 0 && unknown > 0 && failure > Math.max(refused, unknown), run.stderr);
  assert.is(fixture.server.callCount(), 0);
});

Env("the agent's defaults file configures the hook; the job's environment changes neither it nor the base path, unless the file allows that", async ({ fixture }) => {
  fixture.seed({ "/other/base/global/env/FROM_OTHER_BASE": "other-base-value" });
  const agent = { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/other/base/" };
  const fromFile = await environment(fixture, {}, agent);
  assert.is(fromFile.status, 0, fromFile.stderr);
  assert.equal(fromFile.changes, { FROM_OTHER_BASE: "other-base-value" });
  assert.not.match(fromFile.stderr, /is ignored/);

  const attempt = await environment(fixture, { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: BASE, BK_SSM_SECRETS_DEFAULTS_FILE: "/dev/null" }, agent);
  assert.is(attempt.status, 0, attempt.stderr);
  assert.equal(attempt.changes, { FROM_OTHER_BASE: "other-base-value" }, "the agent's base path, from the agent's defaults file");
  const warnings = attempt.stderr.split("\n").filter((line) => line.includes("in the job's environment is ignored"));
  assert.equal(warnings.length, 2, attempt.stderr);
  assert.match(warnings[0]!, /AWS_PARAMSTORE_SECRETS_SECRETS_PATH in the job's environment is ignored: the agent's defaults file's value is used; .*BK_SSM_SECRETS_PIPELINE_OVERRIDES/);
  assert.match(warnings[1]!, /BK_SSM_SECRETS_DEFAULTS_FILE in the job's environment is ignored: the hooks read \/.*defaults\.env/);

  const allowed = await environment(fixture, { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: BASE }, { ...agent, BK_SSM_SECRETS_PIPELINE_OVERRIDES: "AWS_PARAMSTORE_SECRETS_SECRETS_PATH" });
  assert.is(allowed.status, 0, allowed.stderr);
  assert.is(allowed.changes.SHARED, "from-pipeline", "an override the defaults file allows");
  assert.not.match(allowed.stderr, /is ignored/);
});

Env("verbose mode logs paths, names and counts but no value; stdout carries only the payload", async ({ fixture }) => {
  const run = await environment(fixture);
  assert.match(run.stderr, /read \/vendors\/buildkite\/app \(pipeline slug\): \d+ parameters/);
  assert.match(run.stderr, /\nvariable SHARED from app \(\/vendors\/buildkite\/app\/env\/SHARED\), overriding github\.com_acme_app\.git\n/);
  // The requests go out before the group opens; what they answered is logged inside it, after the phase's checks.
  const lines = run.stderr.split("\n");
  const group = lines.indexOf("~~~ Loading secrets from SSM");
  const checks = lines.findIndex((line) => line.includes("base path /vendors/buildkite; slugs: global (default)"));
  const firstRead = lines.findIndex((line) => line.includes("] read /vendors/buildkite/"));
  assert.ok(group >= 0 && group < checks && checks < firstRead, run.stderr);
  // Through the SDK (one attempt leaves the direct route no request to hand over), its lines are in the group too.
  const viaSdk = await environment(fixture, { AWS_MAX_ATTEMPTS: "1" });
  assert.is(viaSdk.status, 0, viaSdk.stderr);
  assert.match(viaSdk.stderr, /reading through the AWS SDK/);
  assert.is(viaSdk.stderr.split("\n")[0], "~~~ Loading secrets from SSM", viaSdk.stderr);
  assert.not.ok(run.stderr.includes(CANARY));
  assert.is(run.stdout, "");
  assert.ok(auditedRuns() > 0);
});

Env.run();
