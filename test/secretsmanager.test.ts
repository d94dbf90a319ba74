// Secrets Manager references as pure functions: parsing, the bridge's names,
// how they are split into calls, and how the plan treats them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jobIdentity } from "../src/job/acl.ts";
import { planJob } from "../src/job/plan.ts";
import { bridgeCalls, bridgeName, parseReference } from "../src/secrets/secretsmanager.ts";

test("a reference: secret id, optional stage after ':', optional JSON key after the first '#'", () => {
  assert.equal(parseReference("prod/db"), { secretId: "prod/db" });
  assert.equal(parseReference("  prod/db#password\n"), { secretId: "prod/db", jsonKey: "password" });
  assert.equal(parseReference("prod/db:AWSPREVIOUS"), { secretId: "prod/db", stage: "AWSPREVIOUS" });
  assert.equal(parseReference("a+b=c.d@e-f_g:AWSCURRENT#k#with:colon"), { secretId: "a+b=c.d@e-f_g", stage: "AWSCURRENT", jsonKey: "k#with:colon" });
});

test("what is not a reference, and why, without repeating it", () => {
  for (const [text, why] of [
    ["", /secret id/],
    ["has space", /secret id/],
    ["arn:aws:secretsmanager:us-east-1:1:secret:x", /ARN/],
    ["prod/db:", /version stage/],
    ["prod/db:bad/stage", /version stage/],
    ["prod/db#", /nothing follows the #/],
    ["x".repeat(513), /secret id/],
  ] as const) {
    const parsed = parseReference(text);
    assert.ok("problem" in parsed, text);
    assert.match((parsed as { problem: string }).problem, why);
  }
});

test("the bridge's name carries the stage as a ':' selector", () => {
  assert.is(bridgeName({ secretId: "prod/db" }), "/aws/reference/secretsmanager/prod/db");
  assert.is(bridgeName({ secretId: "prod/db", stage: "AWSPREVIOUS", jsonKey: "k" }), "/aws/reference/secretsmanager/prod/db:AWSPREVIOUS");
});

test("calls: ten names at most, never two stages of one secret together", () => {
  const names = Array.from({ length: 12 }, (_, i) => `/aws/reference/secretsmanager/s${i}`);
  assert.equal(bridgeCalls(names).map((call) => call.length), [10, 2]);
  const stages = bridgeCalls(["/aws/reference/secretsmanager/a", "/aws/reference/secretsmanager/a:AWSPREVIOUS", "/aws/reference/secretsmanager/b"]);
  assert.equal(stages, [["/aws/reference/secretsmanager/a", "/aws/reference/secretsmanager/b"], ["/aws/reference/secretsmanager/a:AWSPREVIOUS"]]);
});

const slug = { kind: "pipeline", name: "app" } as const;
const read = (entries: Record<string, string>) => ({
  slug,
  path: "/b/app",
  parameters: Object.entries(entries).map(([rel, value]) => ({ name: `/b/app/${rel}`, value, type: "String" })),
});

test("the plan: secretsmanager/<KEY> is a variable marked as a reference, named and checked like env/", () => {
  const plan = planJob([read({ "secretsmanager/db-password": "prod/db#password", "secretsmanager/PATH": "x", "secretsmanager/a/b": "x" })], jobIdentity({ BUILDKITE_PIPELINE_SLUG: "app" }));
  assert.equal(plan.env.map((a) => [a.name, a.value, a.secretsManager]), [["DB_PASSWORD", "prod/db#password", true]]);
  assert.is(plan.warnings.length, 2);
  assert.match(plan.warnings.join("\n"), /PATH may not be set from a secret/);
  assert.match(plan.warnings.join("\n"), /variables live directly under \/b\/app\/secretsmanager\//);
});

test("the plan: env/ and secretsmanager/ of one name in one slug warn, and the reference wins in either order", () => {
  for (const order of [["env/TOKEN", "secretsmanager/TOKEN"], ["secretsmanager/TOKEN", "env/TOKEN"]]) {
    const plan = planJob([read(Object.fromEntries(order.map((rel) => [rel, rel])))], jobIdentity({ BUILDKITE_PIPELINE_SLUG: "app" }));
    assert.equal(plan.env.map((a) => [a.name, a.value, a.secretsManager, a.overrides]), [["TOKEN", "secretsmanager/TOKEN", true, undefined]]);
    assert.equal(plan.warnings, ["/b/app/secretsmanager/TOKEN and /b/app/env/TOKEN both set TOKEN: using the Secrets Manager reference"]);
  }
});

test.run();
