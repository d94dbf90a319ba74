import { test } from "uvu";
import * as assert from "uvu/assert";
import { decideAccess, jobIdentity, parseAccessList } from "../src/job/acl.ts";

const job = (env: Record<string, string>) => jobIdentity(env);

test("no lists: allowed", () => {
  assert.ok(decideAccess({}, job({ BUILDKITE_PIPELINE_SLUG: "app" })).allowed);
});

test("allowed_pipelines", () => {
  const lists = { allowedPipelines: ["app", "web"] };
  assert.ok(decideAccess(lists, job({ BUILDKITE_PIPELINE_SLUG: "web" })).allowed);
  const denied = decideAccess(lists, job({ BUILDKITE_PIPELINE_SLUG: "other" }));
  assert.not.ok(denied.allowed);
  assert.match(denied.reason, /"other" is not in allowed_pipelines/);
  assert.not.ok(decideAccess(lists, job({})).allowed);
});

test("allowed_teams: union of creator and unblocker teams, empty entries dropped", () => {
  const lists = { allowedTeams: ["ops"] };
  assert.ok(decideAccess(lists, job({ BUILDKITE_BUILD_CREATOR_TEAMS: "dev::", BUILDKITE_UNBLOCKER_TEAMS: ":ops" })).allowed);
  assert.ok(decideAccess(lists, job({ BUILDKITE_BUILD_CREATOR_TEAMS: "ops:dev" })).allowed);
  const denied = decideAccess(lists, job({ BUILDKITE_BUILD_CREATOR_TEAMS: "dev:qa" }));
  assert.not.ok(denied.allowed);
  assert.match(denied.reason, /dev, qa/);
  assert.not.ok(decideAccess(lists, job({})).allowed);
});

test("scheduled builds without teams pass allowed_teams; with teams they are judged by them", () => {
  const lists = { allowedTeams: ["ops"] };
  assert.ok(decideAccess(lists, job({ BUILDKITE_SOURCE: "schedule" })).allowed);
  assert.not.ok(decideAccess(lists, job({ BUILDKITE_SOURCE: "schedule", BUILDKITE_BUILD_CREATOR_TEAMS: "dev" })).allowed);
  assert.not.ok(decideAccess(lists, job({ BUILDKITE_SOURCE: "ui" })).allowed);
  // The schedule exception is about teams only: a pipeline list still applies.
  assert.not.ok(decideAccess({ ...lists, allowedPipelines: ["app"] }, job({ BUILDKITE_SOURCE: "schedule", BUILDKITE_PIPELINE_SLUG: "x" })).allowed);
});

test("both lists must pass", () => {
  const lists = { allowedPipelines: ["app"], allowedTeams: ["ops"] };
  assert.ok(decideAccess(lists, job({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_BUILD_CREATOR_TEAMS: "ops" })).allowed);
  assert.not.ok(decideAccess(lists, job({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_BUILD_CREATOR_TEAMS: "dev" })).allowed);
  assert.not.ok(decideAccess(lists, job({ BUILDKITE_PIPELINE_SLUG: "web", BUILDKITE_BUILD_CREATOR_TEAMS: "ops" })).allowed);
});

test("an empty list exists and so denies everyone", () => {
  assert.not.ok(decideAccess({ allowedPipelines: parseAccessList("\n \n", "String") }, job({ BUILDKITE_PIPELINE_SLUG: "app" })).allowed);
});

test("list parsing: lines, StringList commas, whitespace", () => {
  assert.equal(parseAccessList(" app \nweb\r\n\n", "String"), ["app", "web"]);
  assert.equal(parseAccessList("app, web ,ops", "StringList"), ["app", "web", "ops"]);
  assert.equal(parseAccessList("a,b", "String"), ["a,b"]);
});

test.run();
