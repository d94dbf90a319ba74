// Odd and hostile job input: what the agent hands the hook is not always
// well-formed, and the tree may be large or strange.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { envChanges, runHook, type Env } from "./support/job.ts";

const Hostile = suite<{ fixture: JobFixture }>("hostile input", {} as { fixture: JobFixture });

const TEAMS = Array.from({ length: 400 }, (_, i) => `team-${i}`);

Hostile.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/SHARED`]: "global-value",
    [`${BASE}/app/env/APP`]: "app-value",
    [`${BASE}/blank-list/allowed_pipelines`]: " \n \n",
    [`${BASE}/blank-list/env/NEVER`]: "never-value",
    [`${BASE}/huge-list/allowed_teams`]: TEAMS.join("\n"),
    [`${BASE}/huge-list/env/HUGE`]: "huge-list-value",
    [`${BASE}/unicode-teams/allowed_teams`]: "équipe-données\nチーム\nplatform",
    [`${BASE}/unicode-teams/env/UNICODE`]: "unicode-value",
    ...Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`${BASE}/thousand/env/P_${String(i).padStart(4, "0")}`, `thousand-${i}`])),
  });
});
Hostile.after((context) => context.fixture.close());

async function job(fixture: JobFixture, extra: Env) {
  const before = fixture.jobEnv({ BUILDKITE_SOURCE: "ui", ...extra });
  const run = await runHook("environment", before);
  return { ...run, changes: envChanges(before, run.env) };
}

Hostile("a malformed BUILDKITE_REPO skips the repository slug with a warning and never logs the URL", async ({ fixture }) => {
  for (const repo of ["not a url at all", "https://", "git@:", "ssh://user:hunter2secret@/nohost"]) {
    const run = await job(fixture, { BUILDKITE_REPO: repo, BUILDKITE_PIPELINE_SLUG: "app" });
    assert.is(run.status, 0, run.stderr);
    assert.equal(run.changes, { [CANARY_VARIABLE]: run.changes[CANARY_VARIABLE]!, SHARED: "global-value", APP: "app-value" });
    assert.match(run.stderr, /BUILDKITE_REPO is not a repository URL/);
    assert.not.ok(run.stderr.includes("hunter2secret"));
  }
});

Hostile("a missing BUILDKITE_PIPELINE_SLUG reads the other slugs only", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_REPO: "" });
  assert.is(run.status, 0, run.stderr);
  assert.equal(Object.keys(run.changes).sort(), [CANARY_VARIABLE, "SHARED"]);
  assert.is((fixture.server.requests.at(-1)?.body as { Path?: string }).Path, `${BASE}/global`);
});

Hostile("an access list that exists but is blank admits nobody", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "blank-list" });
  assert.is.not(run.status, 0);
  assert.equal(run.changes, {});
  assert.match(run.stderr, /slug blank-list .*allowed_pipelines/);
});

Hostile("a huge access list (400 teams) is read whole", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "huge-list", BUILDKITE_BUILD_CREATOR_TEAMS: "nobody:team-399" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.HUGE, "huge-list-value");
  const denied = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "huge-list", BUILDKITE_BUILD_CREATOR_TEAMS: "team-400" });
  assert.is.not(denied.status, 0);
});

Hostile("non-ASCII team names match exactly", async ({ fixture }) => {
  for (const teams of ["équipe-données", "dev:チーム"]) {
    const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "unicode-teams", BUILDKITE_BUILD_CREATOR_TEAMS: teams });
    assert.is(run.status, 0, run.stderr);
    assert.is(run.changes.UNICODE, "unicode-value");
  }
  const near = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "unicode-teams", BUILDKITE_BUILD_CREATOR_TEAMS: "equipe-donnees" });
  assert.is.not(near.status, 0);
});

Hostile("1,000 parameters in one slug: 100 pages, all exported", async ({ fixture }) => {
  fixture.server.resetCalls();
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "thousand" });
  assert.is(run.status, 0, run.stderr);
  for (let i = 0; i < 1000; i++) assert.is(run.changes[`P_${String(i).padStart(4, "0")}`], `thousand-${i}`);
  assert.is(fixture.server.callCount("GetParametersByPath"), 100 + 1);
});

Hostile.run();
