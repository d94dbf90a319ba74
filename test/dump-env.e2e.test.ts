// The environment phase's log group, through the installed hook in real bash:
// by default it names every variable, file, deploy key and git host the job
// received, with the slug it came from, and never a value (the audit in
// support/job.ts fails the run if a planted value or key line shows up).
// Warnings are lines in the group, which is expanded for them; errors expand
// it too. AWS_PARAMSTORE_SECRETS_DUMP_ENV=1 expands it even without warnings.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture } from "./support/fixture.ts";
import { generateKey } from "./support/git-ssh-server.ts";
import { startJobApiServer } from "./support/job-api-server.ts";
import { runHook, type Env } from "./support/job.ts";
import { jobScratch, plantKey } from "./support/ssh-job.ts";

const REPO = "git@git.example.com:acme/app.git";
const REPO_SLUG = "git.example.com_acme_app.git";
const GLOBAL_KEY = `${BASE}/keys/deploy`;

const repoKey = generateKey("listed-repo");
const globalKey = generateKey("listed-global");
for (const key of [repoKey, globalKey]) plantKey(key);
const fixture = await startJobFixture({
  [`${BASE}/global/env/DEPLOY_TOKEN`]: "global-deploy-token",
  [`${BASE}/${REPO_SLUG}/env/DEPLOY_TOKEN`]: "repo-deploy-token",
  [`${BASE}/${REPO_SLUG}/ssh/key`]: repoKey.privateKey,
  [GLOBAL_KEY]: globalKey.privateKey,
  [`${BASE}/app/file/kubeconfig`]: "kube-config-content",
  [`${BASE}/app/git-credentials`]: "https://ci:git-token-value@git.example.com/acme/app.git\n",
  [`${BASE}/warned/env/has.dot`]: "warned-dotted-value",
  [`${BASE}/warned/env/FINE`]: "warned-fine-value",
  [`${BASE}/denied/allowed_pipelines`]: "someone-else",
});
// The agent's Job API takes the values for redaction: without it, every job would carry a redaction warning.
const api = startJobApiServer();

/** The job's log lines from the environment group's header on; non-verbose, as a job runs by default. */
async function environment(extra: Env, agent: Env = {}) {
  const scratch = jobScratch();
  try {
    const env = fixture.jobEnv({ ...scratch.env(), ...api.jobEnv(), AWS_PARAMSTORE_SECRETS_VERBOSE: "0", ...extra });
    const run = await runHook("environment", env, { agent });
    const exit = await runHook("pre-exit", { ...env, ...run.env });
    assert.is(exit.status, 0, exit.stderr);
    const lines = run.stderr.split("\n").filter(Boolean);
    const start = lines.indexOf("~~~ Loading secrets from SSM");
    assert.ok(start >= 0, run.stderr);
    return { status: run.status, lines: lines.slice(start + 1), stderr: run.stderr };
  } finally {
    scratch.remove();
  }
}

test("by default, the group names each variable, file, deploy key and git host with its slug; no value; not expanded", async () => {
  const { status, lines } = await environment({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: REPO }, { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: GLOBAL_KEY });
  assert.is(status, 0, lines.join("\n"));
  const items = lines.filter((line) => /^(variable|file|deploy key|git credential) /.test(line));
  assert.equal(items, [
    `variable CANARY_SECRET from global (${BASE}/global/env/CANARY_SECRET)`,
    `variable DEPLOY_TOKEN from ${REPO_SLUG} (${BASE}/${REPO_SLUG}/env/DEPLOY_TOKEN), overriding global`,
    `file     KUBECONFIG from app (${BASE}/app/file/kubeconfig)`,
    `deploy key from ${REPO_SLUG} (${BASE}/${REPO_SLUG}/ssh/key), in the slug agent`,
    `deploy key from AWS_PARAMSTORE_SECRETS_GLOBAL_SSH (${GLOBAL_KEY}), in the default agent`,
    `git credential for https://git.example.com/acme/app.git from app (line 1 of ${BASE}/app/git-credentials)`,
  ]);
  assert.match(lines.join("\n"), /Loaded 2 variables, 1 git credential and 2 deploy keys from 3 slugs/);
  // Nothing but the group: no new section, and without a warning it stays collapsed.
  assert.equal(lines.filter((line) => /^(~~~|---|\+\+\+|\^\^\^|:warning:)/.test(line)), []);
});

test("warnings are :warning: lines inside the group, which is expanded once; no new +++ section", async () => {
  const { status, lines } = await environment({ BUILDKITE_PIPELINE_SLUG: "warned", BUILDKITE_REPO: "" });
  assert.is(status, 0, lines.join("\n"));
  assert.equal(lines.filter((line) => line.startsWith("+++") || line.startsWith("---") || line.startsWith("~~~")), []);
  assert.equal(lines.filter((line) => line === "^^^ +++").length, 1);
  const expand = lines.indexOf("^^^ +++");
  const warning = lines.findIndex((line) => line.startsWith(`:warning: skipping ${BASE}/warned/env/has.dot`));
  assert.ok(expand >= 0 && warning > expand, lines.join("\n"));
  assert.ok(lines.includes(`variable FINE from warned (${BASE}/warned/env/FINE)`));
});

test("an error expands the group and is one :no_entry: line in it", async () => {
  const { status, lines } = await environment({ BUILDKITE_PIPELINE_SLUG: "denied", BUILDKITE_REPO: "" });
  assert.is.not(status, 0);
  const errors = lines.filter((line) => line.includes(":no_entry:"));
  assert.is(errors.length, 1, lines.join("\n"));
  assert.ok(errors[0]!.startsWith(":no_entry: bk-ssm-secrets: "), errors[0]);
  assert.is(lines[lines.indexOf(errors[0]!) - 1], "^^^ +++");
  assert.equal(lines.filter((line) => line.startsWith("+++") || line.startsWith("---")), []);
});

test("AWS_PARAMSTORE_SECRETS_DUMP_ENV=1 expands the group even without warnings", async () => {
  const quiet = await environment({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "" });
  const dumped = await environment({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "", AWS_PARAMSTORE_SECRETS_DUMP_ENV: "1" });
  assert.is(dumped.status, 0, dumped.stderr);
  const expanded = (lines: string[]) => lines.includes("^^^ +++");
  assert.equal([expanded(quiet.lines), expanded(dumped.lines)], [false, true]);
  assert.is(dumped.lines.at(-1), "^^^ +++", "after the listing");
  assert.equal(
    dumped.lines.filter((line) => line.startsWith("variable") || line.startsWith("file")),
    quiet.lines.filter((line) => line.startsWith("variable") || line.startsWith("file")),
    "the same listing, by default and with DUMP_ENV",
  );
});

test.after(async () => {
  api.close();
  await fixture.close();
});
test.run();
