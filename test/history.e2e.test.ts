// history, rollback and label end to end: the compiled binary against the SSM
// test endpoint's GetParameterHistory, GetParameter (with a version selector),
// LabelParameterVersion and PutParameter, and a job reading the rolled-back
// value through the real environment hook. Every value is planted, so any run
// that prints one, or passes one in argv, fails.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { envChanges, plantSecret, runHook, type Env } from "./support/job.ts";
import { failureLine, runOperator, tableCells } from "./support/operator.ts";
import { SEED_USER_ARN } from "./support/ssm-server.ts";

const NAME = `${BASE}/app/env/API_TOKEN`;
const VALUES = ["token-version-one-1111", "token-version-two-2222", "token-version-three-3333"];

interface Context {
  fixture: JobFixture;
  env: Env;
}

const History = suite<Context>("history, rollback and label", {} as Context);

History.before(async (context) => {
  context.fixture = await startJobFixture();
  context.env = context.fixture.jobEnv();
  for (const value of VALUES) plantSecret(value);
});
History.after(async (context) => {
  await context.fixture.close();
});
History.before.each((context) => {
  const { server } = context.fixture;
  server.delete(NAME);
  for (const value of VALUES) server.put(NAME, value, { type: "SecureString", keyId: "alias/team-key" });
  server.clearFaults();
  server.resetCalls();
});

const run = (context: Context, args: string[]) => runOperator(args, context.env);

History("history lists every version, newest first, with its date, who wrote it and its labels, and no value", async (context) => {
  const listed = await run(context, ["history", "env", "API_TOKEN", "--pipeline", "app"]);
  assert.is(listed.status, 0, listed.stderr);
  const [header, ...rows] = tableCells(listed.stdout);
  assert.equal(header, ["VERSION", "DATE", "CHANGED BY", "LABELS"]);
  assert.equal(rows.map((row) => row[0]), ["3", "2", "1"]);
  assert.equal(rows[0]!.slice(2), [SEED_USER_ARN, "current"]);
  for (const row of rows) assert.match(row[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(listed.stderr, new RegExp(`${NAME}: 3 versions kept by SSM`));
  assert.is(context.fixture.server.callCount("GetParameterHistory"), 1);
  assert.is(context.fixture.server.callCount(), 1, "history reads nothing but the history");

  const json = await run(context, ["history", "env", "API_TOKEN", "--pipeline", "app", "--json"]);
  const items = JSON.parse(json.stdout) as Array<{ version: number; changedBy: string; labels: string; current: boolean }>;
  assert.equal(items.map((item) => [item.version, item.current]), [[3, true], [2, false], [1, false]]);
});

History("history pages through a long history: 60 versions take two calls", async (context) => {
  for (let i = 4; i <= 60; i++) context.fixture.server.put(NAME, `value-${i}-xxxxxxxx`, { type: "SecureString" });
  context.fixture.server.resetCalls();
  const listed = await run(context, ["history", "env", "API_TOKEN", "--pipeline", "app", "--json"]);
  assert.is(listed.status, 0, listed.stderr);
  const items = JSON.parse(listed.stdout) as Array<{ version: number }>;
  assert.equal(items.map((item) => item.version), Array.from({ length: 60 }, (_, i) => 60 - i));
  assert.is(context.fixture.server.callCount("GetParameterHistory"), 2);
});

History("label names a version, history shows it, and SSM moves it when it is put on another version", async (context) => {
  const first = await run(context, ["label", "env", "API_TOKEN", "--pipeline", "app", "--on-version", "1", "--label", "known-good", "--label", "before-rotation"]);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`Labelled version 1 of ${NAME}: known-good, before-rotation`));
  const moved = await run(context, ["label", "env", "API_TOKEN", "--pipeline", "app", "--on-version", "2", "--label", "known-good"]);
  assert.is(moved.status, 0, moved.stderr);
  const items = JSON.parse((await run(context, ["history", "env", "API_TOKEN", "--pipeline", "app", "--json"])).stdout) as Array<{ version: number; labels: string }>;
  assert.equal(items.map((item) => [item.version, item.labels]), [[3, ""], [2, "known-good"], [1, "before-rotation"]]);

  const refused = await run(context, ["label", "env", "API_TOKEN", "--pipeline", "app", "--on-version", "2", "--label", "aws-reserved", "--label", "ok-label"]);
  assert.is(refused.status, 1, "a refused label is a failure");
  assert.match(refused.stderr, /SSM refused the labels aws-reserved/);
  assert.match(refused.stderr, /Labelled version 2 of .*: ok-label/);
});

History("rollback writes version N's value back as a new version with the same key, printing no value, and a job gets it", async (context) => {
  const rolled = await run(context, ["rollback", "env", "API_TOKEN", "--pipeline", "app", "--to-version", "1", "--yes"]);
  assert.is(rolled.status, 0, rolled.stderr);
  assert.match(rolled.stderr, new RegExp(`Rolling back ${NAME} to version 1 \\(written \\S+ by ${SEED_USER_ARN}\\): its value becomes version 4`));
  assert.match(rolled.stderr, new RegExp(`Stored ${NAME}, version 4: the value of version 1`));
  assert.is(rolled.stdout, "");
  const stored = context.fixture.server.get(NAME)!;
  assert.equal([stored.version, stored.value, stored.type, stored.keyId], [4, VALUES[0], "SecureString", "alias/team-key"]);
  assert.match(stored.lastModifiedUser, /assumed-role/, "written through the API, by the caller");

  const before = context.fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "" });
  const job = await runHook("environment", before);
  assert.is(job.status, 0, job.stderr);
  assert.is(envChanges(before, job.env).API_TOKEN, VALUES[0]);
});

History("rollback refuses what it cannot do before writing anything", async (context) => {
  const cases: Array<[string[], RegExp, number]> = [
    [["--to-version", "9", "--yes"], new RegExp(`${NAME} has no version 9: SSM keeps versions 1, 2, 3`), 2],
    [["--to-version", "two", "--yes"], /--to-version needs a version number such as 3 \(got "two"\)/, 2],
    [["--to-version", "1"], /no terminal to confirm on: pass --yes/, 2],
  ];
  for (const [flags, message, status] of cases) {
    const refused = await run(context, ["rollback", "env", "API_TOKEN", "--pipeline", "app", ...flags]);
    assert.is(refused.status, status, refused.stderr);
    assert.match(failureLine(refused.stderr), message);
  }
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
  assert.is(context.fixture.server.callCount("GetParameter"), 0, "no value was read for a rollback that was not confirmed");
  assert.is(context.fixture.server.get(NAME)!.version, 3);

  const current = await run(context, ["rollback", "env", "API_TOKEN", "--pipeline", "app", "--to-version", "3", "--yes"]);
  assert.is(current.status, 0, current.stderr);
  assert.match(current.stderr, /is at version 3 already: nothing to do/);
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
});

History("history of a parameter that does not exist is one line naming it", async (context) => {
  const missing = await run(context, ["history", "env", "NOPE", "--pipeline", "app"]);
  assert.is(missing.status, 1);
  assert.match(failureLine(missing.stderr), new RegExp(`${BASE}/app/env/NOPE does not exist`));
});

History.run();
