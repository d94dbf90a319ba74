// AWS_PARAMSTORE_SECRETS_DUMP_ENV=1: a collapsed group naming what the job
// received and where each came from, never a value (the audit in
// support/job.ts fails the run if a planted value shows up).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture } from "./support/fixture.ts";
import { runHook } from "./support/job.ts";

test("the dump lists variables, files and git credentials with their slugs, by name only; off by default", async () => {
  const fixture = await startJobFixture({
    [`${BASE}/global/env/DEPLOY_TOKEN`]: "global-deploy-token",
    [`${BASE}/git.example.com_acme_app.git/env/DEPLOY_TOKEN`]: "repo-deploy-token",
    [`${BASE}/app/file/kubeconfig`]: "kube-config-content",
    [`${BASE}/app/git-credentials`]: "https://ci:git-token-value@git.example.com/acme/app.git\n",
  });
  try {
    const env = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "https://git.example.com/acme/app.git", AWS_PARAMSTORE_SECRETS_VERBOSE: "0" });
    const dumped = await runHook("environment", { ...env, AWS_PARAMSTORE_SECRETS_DUMP_ENV: "1" });
    assert.is(dumped.status, 0, dumped.stderr);
    const lines = dumped.stderr.split("\n");
    const start = lines.indexOf("~~~ What this job received from SSM (AWS_PARAMSTORE_SECRETS_DUMP_ENV; names only)");
    assert.ok(start >= 0, dumped.stderr);
    assert.equal(lines.slice(start + 1).filter(Boolean), [
      `variable CANARY_SECRET from global (${BASE}/global/env/CANARY_SECRET)`,
      `variable DEPLOY_TOKEN from git.example.com_acme_app.git (${BASE}/git.example.com_acme_app.git/env/DEPLOY_TOKEN), overriding global`,
      `file     KUBECONFIG from app (${BASE}/app/file/kubeconfig)`,
      `git credential for https://git.example.com/acme/app.git from line 1 of ${BASE}/app/git-credentials`,
    ]);
    await runHook("pre-exit", dumped.env);

    const quiet = await runHook("environment", env);
    assert.is(quiet.status, 0, quiet.stderr);
    assert.not.match(quiet.stderr, /What this job received/);
    await runHook("pre-exit", quiet.env);
  } finally {
    await fixture.close();
  }
});

test.run();
