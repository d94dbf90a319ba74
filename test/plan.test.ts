import { test } from "uvu";
import * as assert from "uvu/assert";
import { jobIdentity } from "../src/job/acl.ts";
import { planJob, withoutNulValues, type SlugRead } from "../src/job/plan.ts";
import type { Slug } from "../src/job/slug.ts";

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

test("files are planned like variables: same names, same checks, later slugs override", () => {
  const plan = planJob(
    [
      read(global, { "file/kubeconfig": "g-kube", "file/only-global": "og", "env/NPMRC": "was a variable" }),
      read(pipeline, { "file/kubeconfig": "p-kube", "file/npmrc": "p-npmrc", "file/bad.name": "x", "file/deep/er": "y", "file/path": "z" }),
    ],
    appJob,
  );
  assert.equal(
    plan.files.map((f) => [f.name, f.content, f.slug.kind, f.overrides?.kind]),
    [
      ["KUBECONFIG", "p-kube", "pipeline", "default"],
      ["ONLY_GLOBAL", "og", "default", undefined],
      ["NPMRC", "p-npmrc", "pipeline", "default"],
    ],
  );
  assert.equal(plan.env, [], "a file replaces a variable of the same name from an earlier slug");
  assert.equal(plan.warnings.map((w) => w.split(":")[0]), [`skipping ${base}/app/file/bad.name`, `skipping ${base}/app/file/deep/er`, `skipping ${base}/app/file/path`]);
  assert.match(plan.warnings[1]!, /files live directly under \/vendors\/buildkite\/app\/file\/, not deeper/);
});

test("a variable from a later slug replaces a file; in one slug the file wins, with a warning, in either order", () => {
  const later = planJob([read(global, { "file/token": "file" }), read(pipeline, { "env/TOKEN": "variable" })], appJob);
  assert.equal([later.env.map((a) => [a.name, a.value, a.overrides?.kind]), later.files], [[["TOKEN", "variable", "default"]], []]);

  for (const entries of [{ "env/TOKEN": "variable", "file/token": "file" }, { "file/token": "file", "env/TOKEN": "variable" }]) {
    const plan = planJob([read(global, { "env/TOKEN": "older" }), read(pipeline, entries)], appJob);
    assert.equal(plan.env, []);
    assert.equal(plan.files.map((f) => [f.name, f.content, f.overrides?.kind]), [["TOKEN", "file", "default"]]);
    assert.equal(plan.warnings, [`${base}/app/file/token and ${base}/app/env/TOKEN both set TOKEN: using the file`]);
  }
});

test("git-credentials of every slug are kept, the latest slug first", () => {
  const plan = planJob([read(global, { "git-credentials": "g" }), read(repo, { "env/A": "1" }), read(pipeline, { "git-credentials": "p" })], appJob);
  assert.equal(plan.gitCredentials.map((g) => [g.path, g.slug.kind, g.value]), [
    [`${base}/app/git-credentials`, "pipeline", "p"],
    [`${base}/global/git-credentials`, "default", "g"],
  ]);
  assert.equal(plan.ignored, []);
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

test("a protected name is skipped as a variable and as a file, unless the operator allows it", () => {
  const entries = { "env/GIT_SSH_COMMAND": "sh -c evil", "file/GIT_CONFIG_GLOBAL": "[core]\n\tsshCommand = evil", "env/BUILDKITE_REPO": "x", "env/UID": "0", "env/KEPT": "kept" };
  const plan = planJob([read(repo, entries)], appJob);
  assert.equal([plan.env.map((a) => a.name), plan.files], [["KEPT"], []]);
  assert.equal(plan.warnings.map((w) => w.split(": ")[0]), ["GIT_SSH_COMMAND", "file/GIT_CONFIG_GLOBAL", "BUILDKITE_REPO", "UID"].map((rel) => `skipping ${base}/github.com_a_b.git/${rel.includes("/") ? rel : `env/${rel}`}`));
  assert.not.ok(plan.warnings.some((w) => w.includes("evil")));

  const allowed = planJob([read(repo, entries)], appJob, new Set(["GIT_CONFIG_GLOBAL", "UID"]));
  assert.equal([allowed.env.map((a) => a.name), allowed.files.map((f) => f.name)], [["KEPT"], ["GIT_CONFIG_GLOBAL"]]);
  assert.match(allowed.warnings.find((w) => w.includes("env/UID"))!, /read-only in bash/);
});

test("a parameter the store returns from outside the slug is ignored before any name is cut from it", () => {
  const stray = { name: `${base}/application/env/X`, value: "x", type: "SecureString" };
  const shifted = { name: `${base}/app`, value: "y", type: "SecureString" };
  const plan = planJob([{ ...read(pipeline, { "env/OK": "1" }), parameters: [stray, shifted, ...read(pipeline, { "env/OK": "1" }).parameters] }], appJob);
  assert.equal(plan.env.map((a) => a.name), ["OK"]);
  assert.equal(plan.warnings, [stray.name, shifted.name].map((name) => `ignoring ${name}: SSM returned it for ${base}/app, but it is not under that path`));
});

test("a near-miss access list is not an access list: it restricts nobody, and the plan says so by name", () => {
  for (const [relative, expected] of [["allowed-pipelines", "allowed_pipelines"], ["Allowed_Pipelines", "allowed_pipelines"], ["allowed_pipeline", "allowed_pipelines"], ["allowed_teams/x", "allowed_teams"], ["ALLOWED-TEAMS", "allowed_teams"], ["allowedTeam", "allowed_teams"]] as const) {
    const plan = planJob([read(pipeline, { [relative]: "somebody-else", "env/X": "1" })], appJob);
    assert.is(plan.denial, undefined, relative);
    assert.equal(plan.misnamedAccessLists, [`${base}/app/${relative} is not an access list, so it restricts nobody: an access list must be named exactly ${base}/app/${expected}`]);
    assert.equal(plan.ignored, []);
  }
  const exact = planJob([read(pipeline, { allowed_pipelines: "app", notes: "x", constructor: "y", "env/allowed-pipelines": "1" })], appJob);
  assert.equal([exact.misnamedAccessLists, exact.ignored, exact.access[0]?.decision.reason], [[], [`${base}/app/notes`, `${base}/app/constructor`], "pipeline app is in allowed_pipelines"]);
});

test("a variable whose value holds a NUL byte is left out, with one warning naming its parameter, and a lower slug's value is not used instead", () => {
  const plan = withoutNulValues(
    planJob([read(global, { "env/SHARED": "from-global", "env/KEPT": "kept" }), read(pipeline, { "env/SHARED": "before\0after", "file/BLOB": "file\0bytes" })], appJob),
  );
  assert.equal(plan.env.map(({ name, value }) => [name, value]), [["KEPT", "kept"]]);
  assert.equal(plan.files.map(({ name, content }) => [name, content]), [["BLOB", "file\0bytes"]], "a secret file keeps every byte");
  assert.equal(plan.warnings, [`${base}/app/env/SHARED holds a NUL byte, which no environment variable can hold: SHARED is not exported (a secret file, <slug>/file/<NAME>, keeps every byte)`]);
  // A value from Secrets Manager: the warning names the reference's parameter and the secret, never the value.
  const resolved = planJob([read(pipeline, { "secretsmanager/TOKEN": "prod/token" })], appJob);
  const fromSecret = withoutNulValues({ ...resolved, env: resolved.env.map((assignment) => ({ ...assignment, value: "a\0b", secret: "Secrets Manager secret prod/token" })) });
  assert.equal(fromSecret.env, []);
  assert.equal(fromSecret.warnings, [`${base}/app/secretsmanager/TOKEN names Secrets Manager secret prod/token, whose value holds a NUL byte, which no environment variable can hold: TOKEN is not exported`]);
  // Nothing to leave out: the same plan.
  const clean = planJob([read(global, { "env/A": "1" })], appJob);
  assert.is(withoutNulValues(clean), clean);
});

test.run();
