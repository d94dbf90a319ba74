// ls end to end: the compiled binary listing the SSM test endpoint with the
// real AWS SDK. Names and metadata only: no value may reach the output, and
// the only values read are the access lists' entries, which are not secret.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BASE, CANARY_VARIABLE, startJobFixture } from "./support/fixture.ts";
import { failureLine, runOperator, tableCells } from "./support/operator.ts";
import type { SlugSummary } from "../src/commands/ls.ts";

const REPO = "https://github.com/acme/app.git";
const REPO_SLUG = "github.com_acme_app.git";

const fixture = await startJobFixture({
  [`${BASE}/app/env/TOKEN`]: "app-token-value",
  [`${BASE}/app/env/nested/DEEP`]: "deep-value-here",
  [`${BASE}/app/allowed_teams`]: { value: "ops\ndev", type: "String" },
  [`${BASE}/app/file/big.pem`]: { value: "B".repeat(5000), tier: "Advanced" },
  // A sibling whose name starts like the slug's: never part of its listing.
  [`${BASE}/app-other/env/OTHER`]: "other-app-value",
  [`${BASE}/${REPO_SLUG}/ssh/key`]: "repository-key-value",
  [`${BASE}/${REPO_SLUG}/env/LIST`]: { value: "a,b,c", type: "StringList" },
  [`${BASE}/007/env/AGENT`]: "numeric-slug-value",
  ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`${BASE}/paged/env/VAR_${String(i).padStart(2, "0")}`, `paged-value-${i}`])),
});
// A second version, so versions are not all 1.
fixture.seed({ [`${BASE}/app/env/TOKEN`]: "app-token-value-2" });
const env = fixture.jobEnv();

interface Listed {
  name: string;
  type: string;
  tier: string | null;
  version: number | null;
  lastModified: string;
  /** Access lists only. */
  entries?: string[];
}

async function ls(...target: string[]) {
  const table = await runOperator(["ls", ...target], env);
  const json = await runOperator(["ls", ...target, "--json"], env);
  assert.is(table.status, 0, table.stderr);
  assert.is(json.status, 0, json.stderr);
  return { table: table.stdout, items: JSON.parse(json.stdout) as Listed[], stderr: table.stderr };
}

/** The table and the JSON say the same thing, row for row. */
function assertSameListing(table: string, items: Listed[]) {
  const [header, ...rows] = tableCells(table);
  assert.equal(header, ["NAME", "TYPE", "TIER", "VERSION", "LAST MODIFIED", "ENTRIES"]);
  assert.equal(
    rows,
    items.map((item) => [item.name, item.type, item.tier ?? "", String(item.version ?? ""), item.lastModified, ...(item.entries ? [item.entries.join(",")] : [])]),
  );
}

test("ls --pipeline: the slug's tree, recursively, with types, tiers, versions and dates, and its access lists' entries", async () => {
  fixture.server.resetCalls();
  const { table, items } = await ls("--pipeline", "app");
  assertSameListing(table, items);
  assert.equal(
    items.map((item) => [item.name, item.type, item.tier, item.version]),
    [
      [`${BASE}/app/allowed_teams`, "String", "Standard", 1],
      [`${BASE}/app/env/TOKEN`, "SecureString", "Standard", 2],
      [`${BASE}/app/env/nested/DEEP`, "SecureString", "Standard", 1],
      [`${BASE}/app/file/big.pem`, "SecureString", "Advanced", 1],
    ],
  );
  for (const item of items) {
    const stored = fixture.server.get(item.name)!;
    assert.is(item.lastModified, new Date(stored.lastModifiedDate * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"));
  }
  assert.equal(items[0]!.entries, ["ops", "dev"]);
  assert.is(fixture.server.callCount("DescribeParameters"), 2, "one call per listing");
  assert.is(fixture.server.callCount("GetParameters"), 2, "the access list, once per listing");
  assert.is(fixture.server.callCount(), 4, "nothing else that returns a value is called");
});

test("ls --repo and --global: the slug is computed as a job computes it", async () => {
  const repository = await ls("--repo", REPO);
  assertSameListing(repository.table, repository.items);
  assert.equal(
    repository.items.map((item) => [item.name, item.type]),
    [
      [`${BASE}/${REPO_SLUG}/env/LIST`, "StringList"],
      [`${BASE}/${REPO_SLUG}/ssh/key`, "SecureString"],
    ],
  );
  const global = await ls("--global");
  assertSameListing(global.table, global.items);
  assert.equal(
    global.items.map((item) => item.name),
    [`${BASE}/global/env/${CANARY_VARIABLE}`],
  );
});

test("a slug that looks like a number is still text: --pipeline 007, --pipeline=007", async () => {
  for (const flag of [["--pipeline", "007"], ["--pipeline=007"]]) {
    const run = await runOperator(["ls", ...flag, "--json"], env);
    assert.equal((JSON.parse(run.stdout) as Listed[]).map((item) => item.name), [`${BASE}/007/env/AGENT`], flag.join(" "));
  }
});

test("ls pages through DescribeParameters: 60 parameters in two calls", async () => {
  fixture.server.resetCalls();
  const run = await runOperator(["ls", "--pipeline", "paged", "--json"], env);
  const items = JSON.parse(run.stdout) as Listed[];
  assert.equal(
    items.map((item) => item.name),
    Array.from({ length: 60 }, (_, i) => `${BASE}/paged/env/VAR_${String(i).padStart(2, "0")}`),
  );
  assert.is(fixture.server.callCount("DescribeParameters"), 2);
});

test("ls of an empty slug: no table, a note on stderr, exit 0; JSON is an empty list", async () => {
  const { table, items, stderr } = await ls("--pipeline", "nothing-here");
  assert.is(table, "");
  assert.equal(items, []);
  assert.match(stderr, /Nothing under \/vendors\/buildkite\/nothing-here \(pipeline slug nothing-here\)/);
});

test("ls output is plain text on a pipe, even without NO_COLOR", async () => {
  const run = await runOperator(["ls", "--pipeline", "app"], { ...env, NO_COLOR: "" });
  assert.is(run.status, 0);
  assert.not.match(run.stdout, /\x1b\[/);
});

test("ls with a base path from the environment or --base-path, and usage errors", async () => {
  const moved = await runOperator(["ls", "--pipeline", "app", "--json"], { ...env, AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/elsewhere/" });
  assert.equal(JSON.parse(moved.stdout), []);
  const flagged = await runOperator(["ls", "--pipeline", "app", "--json", "--base-path", "/elsewhere"], env);
  assert.equal(JSON.parse(flagged.stdout), []);
  // The flag wins over the variable, as typed on the command line.
  const back = await runOperator(["ls", "--pipeline", "app", "--json", `--base-path=${BASE}/`], { ...env, AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/elsewhere" });
  assert.is((JSON.parse(back.stdout) as Listed[]).length, 4);
  const two = await runOperator(["ls", "--pipeline", "app", "--global"], env);
  assert.is(two.status, 2);
  assert.match(failureLine(two.stderr), /say which slug: exactly one of --pipeline SLUG, --repo URL or --global/);
  for (const [args, message] of [
    [["ls", "--base-path", "vendors"], /--base-path="vendors" is not an absolute SSM path/],
    [["ls", "--base-pth", "/vendors"], /unknown option --base-pth \(did you mean --base-path\?\)/],
    [["ls", "--base-path"], /--base-path <path>` value is missing/],
  ] as const) {
    const run = await runOperator([...args], env);
    assert.is(run.status, 2, run.stderr);
    assert.match(failureLine(run.stderr), message);
    assert.not.match(run.stderr, /basePath|basePth/, "cac's camelCase never reaches the user");
  }
});


test("ls with no slug: every slug of the tree, its parameters counted by kind, its access lists' entries", async () => {
  const tree = startJobFixture({
    [`${BASE}/global/env/SHARED`]: "tree-shared-value",
    [`${BASE}/app/env/ONE`]: "tree-one-value",
    [`${BASE}/app/env/two`]: "tree-two-value",
    [`${BASE}/app/file/kubeconfig`]: "tree-kubeconfig-value",
    [`${BASE}/app/allowed_teams`]: "ops\ndev",
    [`${BASE}/app/notes`]: "tree-notes-value",
    [`${BASE}/${REPO_SLUG}/ssh/key`]: "tree-key-value",
    [`${BASE}/${REPO_SLUG}/git-credentials`]: "https://ci:tree-credential@github.com",
    [`${BASE}/keys/deploy`]: "tree-global-key-value",
    [`${BASE}/stray`]: "tree-stray-value",
    ["/elsewhere/app/env/NOT_IN_TREE"]: "tree-elsewhere-value",
  });
  const fixture = await tree;
  // Access lists are not secret, so not planted: ls shows their entries.
  fixture.server.put(`${BASE}/${REPO_SLUG}/allowed_pipelines`, "app,deploy", { type: "StringList" });
  try {
    const treeEnv = fixture.jobEnv({ AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/keys/deploy` });
    const json = await runOperator(["ls", "--json"], treeEnv);
    assert.is(json.status, 0, json.stderr);
    const slugs = JSON.parse(json.stdout) as SlugSummary[];
    const none = { env: 0, files: 0, sshKeys: 0, gitCredentials: 0, other: 0, allowedPipelines: null, allowedTeams: null };
    assert.equal(slugs, [
      { slug: "app", path: `${BASE}/app`, ...none, env: 2, files: 1, other: 1, allowedTeams: ["ops", "dev"] },
      { slug: REPO_SLUG, path: `${BASE}/${REPO_SLUG}`, ...none, sshKeys: 1, gitCredentials: 1, allowedPipelines: ["app", "deploy"] },
      { slug: "global", path: `${BASE}/global`, ...none, env: 2 },
      { slug: "keys", path: `${BASE}/keys`, ...none, sshKeys: 1 },
    ]);
    assert.match(json.stderr, new RegExp(`${BASE}/stray is directly under the base path, not in a slug: no job reads it`));

    const table = await runOperator(["ls"], treeEnv);
    assert.equal(tableCells(table.stdout), [
      ["SLUG", "ENV", "FILES", "SSH KEYS", "GIT CREDENTIALS", "OTHER", "ALLOWED PIPELINES", "ALLOWED TEAMS"],
      ["app", "2", "1", "-", "-", "1", "-", "ops,dev"],
      [REPO_SLUG, "-", "-", "1", "1", "-", "app,deploy", "-"],
      ["global", "2", "-", "-", "-", "-", "-", "-"],
      ["keys", "-", "-", "1", "-", "-", "-", "-"],
    ]);
    const moved = await runOperator(["ls", "--base-path", "/elsewhere", "--json"], treeEnv);
    assert.equal((JSON.parse(moved.stdout) as SlugSummary[]).map((slug) => [slug.slug, slug.env]), [["app", 1]]);
    const empty = await runOperator(["ls", "--base-path", "/nothing/here"], treeEnv);
    assert.is(empty.status, 0);
    assert.is(empty.stdout, "");
    assert.match(empty.stderr, /Nothing under \/nothing\/here: no slugs \(the base path comes from --base-path\)/);
  } finally {
    await fixture.close();
  }
});

test.after(() => fixture.close());
test.run();
