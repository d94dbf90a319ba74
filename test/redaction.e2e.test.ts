// Redaction end to end: the environment phase registers every value the job
// receives with the agent, through a Job API server on a Unix socket that
// checks the token like the agent, or through a `buildkite-agent` on PATH
// that records what it is given.
import { mkdtempSync, rmSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, CANARY, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { makeFakeAgent, type FakeAgent } from "./support/fake-buildkite-agent.ts";
import { startJobApiServer } from "./support/job-api-server.ts";
import { assertNoSecretIn, envChanges, runHook, type Env } from "./support/job.ts";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

/** What the job receives, as the agent must learn it: each string once. */
const EXPECTED = [
  CANARY,
  "app-api-token-4567",
  "line-one-secret\nline-two-secret",
  "line-one-secret",
  "line-two-secret",
  KEY.trim(),
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
  "-----END OPENSSH PRIVATE KEY-----",
  "ghp-git-token-7890",
  "tok2-abcdefgh",
].sort();

const Redaction = suite<{ fixture: JobFixture }>("redaction", {} as { fixture: JobFixture });
// The jobs' secret files go here, removed with it at the end.
const TMPDIR = mkdtempSync("/tmp/bk-redaction-e2e-");

Redaction.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/API_TOKEN`]: "global-api-token-overridden",
    [`${BASE}/app/env/API_TOKEN`]: "app-api-token-4567",
    [`${BASE}/app/env/SAME_AS_API_TOKEN`]: "app-api-token-4567",
    [`${BASE}/app/env/SHORT`]: "abc",
    [`${BASE}/app/env/BLANK`]: "   ",
    [`${BASE}/app/env/MULTI`]: "line-one-secret\nline-two-secret\n",
    [`${BASE}/app/file/deploy-key`]: KEY,
    [`${BASE}/app/git-credentials`]: "https://x-access-token:ghp-git-token-7890@github.com\nhttps://user2:tok2-abcdefgh@gitlab.example.com/group/proj\n",
  });
});
Redaction.after(async (context) => {
  await context.fixture.close();
  rmSync(TMPDIR, { recursive: true, force: true });
});

const job = (fixture: JobFixture, extra: Env = {}) => fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", TMPDIR, ...extra });

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith(":warning:"));
}

/** Every value sent to the fake agent, from the JSON objects on its stdin. */
function registeredThroughCli(agent: FakeAgent): string[] {
  return agent
    .calls()
    .filter((call) => call.argv[0] === "redactor")
    .flatMap((call) => Object.values(JSON.parse(call.stdin) as Record<string, string>));
}

/** Run the environment hook with a fake buildkite-agent first on the job's PATH, then check what happened. */
async function withAgent(
  fixture: JobFixture,
  options: Parameters<typeof makeFakeAgent>[0],
  extra: Env,
  check: (run: Awaited<ReturnType<typeof runHook>>, agent: FakeAgent, env: Env) => void,
): Promise<void> {
  const agent = makeFakeAgent(options);
  try {
    const env = job(fixture, { ...extra, PATH: `${agent.dir}:${process.env.PATH}` });
    check(await runHook("environment", env), agent, env);
  } finally {
    agent.close();
  }
}

Redaction("through the Job API: every value the job receives, each once, before the phase ends; the CLI is not used", async ({ fixture }) => {
  const api = startJobApiServer();
  try {
    await withAgent(fixture, {}, api.jobEnv(), (run, agent) => {
      assert.is(run.status, 0, run.stderr);
      assert.equal([...api.redactions].sort(), EXPECTED);
      assert.equal(agent.calls(), []);
      assert.equal(warnings(run.stderr), []);
      assert.match(run.stderr, /1 value is shorter than 6 characters and not registered for redaction/);
    });
  } finally {
    api.close();
  }
});

Redaction("a Job API that refuses the token fails the phase and exports nothing", async ({ fixture }) => {
  const api = startJobApiServer();
  try {
    const env = job(fixture, { ...api.jobEnv(), BUILDKITE_AGENT_JOB_API_TOKEN: "not-the-token" });
    const run = await runHook("environment", env);
    assert.is.not(run.status, 0);
    assert.equal(envChanges(env, run.env), {});
    assert.equal(api.redactions, []);
    assert.match(run.stderr, /:no_entry: .*Job API answered HTTP 401 .*BUILDKITE_AGENT_JOB_API_TOKEN/);
  } finally {
    api.close();
  }
});

Redaction("through buildkite-agent redactor add: values on stdin as JSON, never in argv, each once", async ({ fixture }) => {
  await withAgent(fixture, {}, {}, (run, agent) => {
    assert.is(run.status, 0, run.stderr);
    const calls = agent.calls();
    assert.equal(calls.map((call) => call.argv), [["redactor", "add", "--format", "json"]]);
    for (const call of calls) assertNoSecretIn(call.argv.join(" "), "buildkite-agent's argv");
    assert.equal(registeredThroughCli(agent).sort(), EXPECTED);
    assert.equal(warnings(run.stderr), []);
  });
});

Redaction("many values go in batches of 100", async ({ fixture }) => {
  fixture.seed(Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`${BASE}/many/env/VALUE_${i}`, `many-values-secret-${i}`])));
  await withAgent(fixture, {}, { BUILDKITE_PIPELINE_SLUG: "many" }, (run, agent) => {
    assert.is(run.status, 0, run.stderr);
    assert.equal(agent.calls().map((call) => Object.keys(JSON.parse(call.stdin)).length), [100, 52]);
    // This job's slugs are global and many: the global API_TOKEN is not overridden here.
    assert.equal(registeredThroughCli(agent).sort(), [CANARY, "global-api-token-overridden", ...Array.from({ length: 150 }, (_, i) => `many-values-secret-${i}`)].sort());
  });
});

Redaction("an agent older than 3.67 has no redactor: one warning naming its version and 3.67, and the job goes on", async ({ fixture }) => {
  await withAgent(fixture, { version: "3.66.2", redactorExit: 1 }, {}, (run, agent, env) => {
    assert.is(run.status, 0, run.stderr);
    assert.is(envChanges(env, run.env).API_TOKEN, "app-api-token-4567");
    assert.equal(agent.calls().map((call) => call.argv[0]), ["redactor", "--version"]);
    const [warning, ...others] = warnings(run.stderr);
    assert.equal(others, []);
    assert.match(warning!, /will not be redacted.*buildkite-agent 3\.66\.2 has no redactor; agent 3\.67 or later/);
  });
});

Redaction("a recent agent whose redactor fails stops the phase", async ({ fixture }) => {
  await withAgent(fixture, { version: "3.90.0", redactorExit: 1 }, {}, (run, _agent, env) => {
    assert.is.not(run.status, 0);
    assert.equal(envChanges(env, run.env), {});
    assert.match(run.stderr, /redactor add failed \(exit status 1\)/);
  });
});

Redaction("neither the Job API nor buildkite-agent: exactly one warning naming agent 3.67", async ({ fixture }) => {
  const env = job(fixture, { PATH: "/usr/bin:/bin" });
  assert.is(Bun.which("buildkite-agent", { PATH: env.PATH }), null);
  const run = await runHook("environment", env);
  assert.is(run.status, 0, run.stderr);
  assert.equal(warnings(run.stderr).length, 1);
  assert.match(warnings(run.stderr)[0]!, /will not be redacted.*Job API.*not on PATH; agent 3\.67 or later redacts them/);
});

Redaction.run();
