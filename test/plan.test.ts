import { test } from "uvu";
import * as assert from "uvu/assert";
import { jobIdentity } from "../src/acl.ts";
import { planJob, type SlugRead } from "../src/plan.ts";
import type { Slug } from "../src/slug.ts";

const base = "/vendors/buildkite";
const global: Slug = { kind: "default", name: "global" };
const repo: Slug = { kind: "repository", name: "github.com_a_b.git" };
const pipeline: Slug = { kind: "pipeline", name: "app" };

function read(slug: Slug, entries: Record<string, string>, types: Record<string, string> = {}): SlugRead {
  const path = `${base}/${slug.name}`;
  return {
    slug,
    path,
    parameters: Object.entries(entries).map(([rel, value]) => ({ name: `${path}/${rel}`, value, type: types[rel] ?? "SecureString" })),
  };
}

const appJob = jobIdentity({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_BUILD_CREATOR_TEAMS: "dev" });

test("later slugs override earlier ones; the plan records where each came from", () => {
  const plan = planJob(
    [
      read(global, { "env/shared": "g", "env/only-global": "1" }),
      read(repo, { "env/shared": "r", "env/REPO_ONLY": "2" }),
      read(pipeline, { "env/shared": "p" }),
    ],
    appJob,
  );
  assert.equal(
    plan.env.map((a) => [a.name, a.value, a.slug.kind, a.overrides?.kind]),
    [
      ["SHARED", "p", "pipeline", "repository"],
      ["ONLY_GLOBAL", "1", "default", undefined],
      ["REPO_ONLY", "2", "repository", undefined],
    ],
  );
  assert.is(plan.env[0]?.path, `${base}/app/env/shared`);
  assert.is(plan.denial, undefined);
});

test("invalid, protected and nested names are skipped with a warning naming the path, never the value", () => {
  const plan = planJob([read(pipeline, { "env/1BAD": "v1", "env/a.b": "v2", "env/ssh_auth_sock": "v3", "env/deep/er": "v4", "env/GOOD": "ok" })], appJob);
  assert.equal(plan.env.map((a) => a.name), ["GOOD"]);
  assert.is(plan.warnings.length, 4);
  for (const warning of plan.warnings) {
    assert.match(warning, new RegExp(`^skipping ${base}/app/env/`));
    assert.not.match(warning, /v[1-4]/);
  }
});

test("a denial at any slug denies the job and names the slug", () => {
  const plan = planJob(
    [read(global, { "env/A": "1" }), read(repo, { allowed_pipelines: "web\nother" }), read(pipeline, { "env/B": "2" })],
    appJob,
  );
  assert.ok(plan.denial);
  assert.match(plan.denial!, /github\.com_a_b\.git/);
  assert.match(plan.denial!, /allowed_pipelines/);
  assert.equal(plan.access.map((a) => a.decision.allowed), [true, false, true]);
});

test("access lists are not variables; other entries are ignored", () => {
  const plan = planJob([read(pipeline, { allowed_pipelines: "app", allowed_teams: "dev", "ssh/other": "x", notes: "y", "env/X": "1" })], appJob);
  assert.is(plan.denial, undefined);
  assert.equal(plan.env.map((a) => a.name), ["X"]);
  assert.equal(plan.ignored, [`${base}/app/ssh/other`, `${base}/app/notes`]);
});

test("StringList values are exported as stored", () => {
  const plan = planJob([read(pipeline, { "env/LIST": "a,b, c" }, { "env/LIST": "StringList" })], appJob);
  assert.is(plan.env[0]?.value, "a,b, c");
});

test("deploy keys of the repository and pipeline slugs are collected; one under the default slug is ignored with a warning", () => {
  const plan = planJob(
    [read(global, { "ssh/key": "global-key-value" }), read(repo, { "ssh/key": "repo-key-value" }), read(pipeline, { "ssh/key": "pipeline-key-value", "ssh/key2": "x" })],
    appJob,
  );
  assert.equal(
    plan.sshKeys.map((key) => [key.path, key.value, key.slug.kind]),
    [
      [`${base}/github.com_a_b.git/ssh/key`, "repo-key-value", "repository"],
      [`${base}/app/ssh/key`, "pipeline-key-value", "pipeline"],
    ],
  );
  assert.equal(plan.warnings, [
    `ignoring ${base}/global/ssh/key: a deploy key under the default slug is not used; list keys for every job in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH instead`,
  ]);
  assert.equal(plan.ignored, [`${base}/app/ssh/key2`]);
  assert.equal(plan.env, []);
});

test.run();
