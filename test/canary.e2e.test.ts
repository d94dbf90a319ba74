// Secret hygiene: a planted canary reaches the eval payload and nothing else.
// (Every run in the suite is also audited by test/support/job.ts.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { BASE, CANARY, CANARY_VARIABLE, startJobFixture } from "./support/fixture.ts";
import { assertNoSecretIn, runBinary, runHook } from "./support/job.ts";

function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) return filesContaining(path, needle);
    return stat.isFile() && readFileSync(path, "latin1").includes(needle) ? [path] : [];
  });
}

test("the canary is in the payload only: not in stderr, not on disk", async () => {
  const fixture = await startJobFixture({ [`${BASE}/app/env/OTHER`]: "other-secret-value" });
  const scratch = mkdtempSync("/tmp/bk-canary-");
  try {
    const env = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", HOME: scratch, TMPDIR: scratch });
    const direct = await runBinary(["environment"], env);
    assert.is(direct.status, 0, direct.stderr);
    assert.ok(direct.stdout.includes(`export ${CANARY_VARIABLE}='${CANARY}'\n`));
    assert.not.ok(direct.stderr.includes(CANARY));
    // Every line of stdout is an export statement, but the first and the last, the comments the hook checks: nothing but shell code for eval.
    const lines = direct.stdout.split("\n").filter(Boolean);
    assert.match(lines.shift()!, /^# bk-ssm-secrets payload [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(lines.pop()!, /^# bk-ssm-secrets payload [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}: \d+ bytes above$/);
    assert.ok(lines.every((line) => /^export [A-Z_][A-Z0-9_]*='/.test(line)));

    const hooked = await runHook("environment", env, { cwd: scratch });
    assert.is(hooked.env[CANARY_VARIABLE], CANARY);
    assert.not.ok(hooked.stderr.includes(CANARY));
    assert.equal(filesContaining(scratch, CANARY), []);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await fixture.close();
  }
});

test("the canary stays out of the log when the job fails", async () => {
  const fixture = await startJobFixture({ [`${BASE}/app/allowed_pipelines`]: "someone-else" });
  try {
    const run = await runBinary(["environment"], fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app" }));
    assert.is(run.status, 1);
    assert.is(run.stdout, "", "a denied job gets no payload at all");
    assert.not.ok(run.stderr.includes(CANARY));
  } finally {
    await fixture.close();
  }
});

test("the audit itself catches a leak", () => {
  assert.throws(() => assertNoSecretIn(`log line ${CANARY}`, "a test log"), /leaked into a test log/);
});

test.run();
