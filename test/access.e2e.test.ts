// Every access-list case of BEHAVIOUR.md through the compiled binary and the
// hook: a denial fails the job and exports nothing at all.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { envChanges, runHook, type Env } from "./support/job.ts";

const Access = suite<{ fixture: JobFixture }>("access lists", {} as { fixture: JobFixture });

Access.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/OPEN`]: "open-value",
    [`${BASE}/by-pipeline/env/P`]: "pipeline-value",
    [`${BASE}/by-pipeline/allowed_pipelines`]: "by-pipeline\nother-pipeline\n",
    [`${BASE}/by-team/env/T`]: "team-value",
    [`${BASE}/by-team/allowed_teams`]: "ops\nsecurity",
    [`${BASE}/both/env/B`]: "both-value",
    [`${BASE}/both/allowed_pipelines`]: "both",
    [`${BASE}/both/allowed_teams`]: { value: "ops,release", type: "StringList" },
    [`${BASE}/github.com_acme_locked.git/allowed_pipelines`]: "somebody-else",
    [`${BASE}/github.com_acme_locked.git/env/R`]: "repo-value",
  });
});
Access.after((context) => context.fixture.close());

async function job(fixture: JobFixture, vars: Env) {
  const before = fixture.jobEnv({ BUILDKITE_REPO: "", BUILDKITE_SOURCE: "ui", ...vars });
  const run = await runHook("environment", before);
  return { ...run, changes: envChanges(before, run.env) };
}

function assertDenied(run: Awaited<ReturnType<typeof job>>, slug: string, list: string) {
  assert.is.not(run.status, 0, "a denial fails the job");
  assert.equal(run.changes, {}, "nothing is exported");
  const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.is(errors.length, 1, run.stderr);
  assert.match(errors[0]!, new RegExp(`slug ${slug.replaceAll(".", "\\.")}`));
  assert.match(errors[0]!, new RegExp(list));
}

Access("allowed_pipelines: a listed pipeline gets the slug's secrets", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-pipeline" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.P, "pipeline-value");
  assert.is(run.changes.OPEN, "open-value");
});

Access("allowed_pipelines: an unlisted pipeline fails the whole job", async ({ fixture }) => {
  // The repository slug is locked to another pipeline.
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "git@github.com:acme/locked.git" });
  assertDenied(run, "github.com_acme_locked.git", "allowed_pipelines");
});

Access("allowed_teams: a creator team on the list is allowed", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team", BUILDKITE_BUILD_CREATOR_TEAMS: "dev:ops" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.T, "team-value");
});

Access("allowed_teams: an unblocker team on the list is allowed", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team", BUILDKITE_BUILD_CREATOR_TEAMS: "dev", BUILDKITE_UNBLOCKER_TEAMS: "security" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.T, "team-value");
});

Access("allowed_teams: no team in common is denied", async ({ fixture }) => {
  assertDenied(await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team", BUILDKITE_BUILD_CREATOR_TEAMS: "dev:qa" }), "by-team", "allowed_teams");
});

Access("allowed_teams: a build without teams is denied", async ({ fixture }) => {
  assertDenied(await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team" }), "by-team", "allowed_teams");
});

Access("allowed_teams: a scheduled build without teams is allowed", async ({ fixture }) => {
  const run = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team", BUILDKITE_SOURCE: "schedule" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.T, "team-value");
});

Access("allowed_teams: a scheduled build that carries teams is judged by them", async ({ fixture }) => {
  assertDenied(await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team", BUILDKITE_SOURCE: "schedule", BUILDKITE_BUILD_CREATOR_TEAMS: "dev" }), "by-team", "allowed_teams");
  const allowed = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "by-team", BUILDKITE_SOURCE: "schedule", BUILDKITE_BUILD_CREATOR_TEAMS: "ops" });
  assert.is(allowed.status, 0);
});

Access("both lists: each must pass", async ({ fixture }) => {
  const ok = await job(fixture, { BUILDKITE_PIPELINE_SLUG: "both", BUILDKITE_UNBLOCKER_TEAMS: "release" });
  assert.is(ok.status, 0, ok.stderr);
  assert.is(ok.changes.B, "both-value");
  assertDenied(await job(fixture, { BUILDKITE_PIPELINE_SLUG: "both", BUILDKITE_UNBLOCKER_TEAMS: "dev" }), "both", "allowed_teams");
});

Access.run();
