// doctor end to end: the compiled binary against the SSM test endpoint with
// the real AWS SDK, checked against what the real environment hook does for
// the same job. doctor prints names and reasons, never a value.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { envChanges, HOOKS_DIR, runHook, type Env } from "./support/job.ts";
import { runOperator, tableCells } from "./support/operator.ts";

const REPO = "git@github.com:acme/app.git";
const REPO_SLUG = "github.com_acme_app.git";

interface Item {
  status: string;
  detail: string;
  [field: string]: string;
}
interface Report {
  ok: boolean;
  verdict: string;
  problems: string[];
  sections: Array<{ title: string; columns: Array<{ key: string; title: string }>; items: Item[]; empty: string }>;
}

interface Context {
  fixture: JobFixture;
  hooks: string;
}

const Doctor = suite<Context>("doctor", {} as Context);

Doctor.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/SHARED`]: "shared-from-global",
    [`${BASE}/${REPO_SLUG}/env/SHARED`]: "shared-from-repo",
    [`${BASE}/${REPO_SLUG}/env/access-token`]: "repo-access-token",
    [`${BASE}/app/env/SHARED`]: "shared-from-pipeline",
    [`${BASE}/app/env/has.dot`]: "skipped-dotted-value",
    [`${BASE}/app/allowed_teams`]: "dev\nops",
    [`${BASE}/app/notes`]: "unused-notes-value",
  });
  // An agent hooks directory as an install leaves it: the project's hook in place.
  context.hooks = mkdtempSync(join(tmpdir(), "bk-doctor-hooks-"));
  copyFileSync(join(HOOKS_DIR, "environment"), join(context.hooks, "environment"));
});
Doctor.after(async (context) => {
  rmSync(context.hooks, { recursive: true, force: true });
  await context.fixture.close();
});
Doctor.before.each((context) => context.fixture.server.clearFaults());

const JOB: Env = { BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: REPO, BUILDKITE_BUILD_CREATOR_TEAMS: "dev", BUILDKITE_SOURCE: "ui" };

const agentEnv = (context: Context, extra: Env = {}) => context.fixture.jobEnv({ BUILDKITE_HOOKS_PATH: context.hooks, ...JOB, ...extra });

/** doctor as a table and as JSON; both runs must agree on the exit status. */
async function doctor(context: Context, args: string[] = [], extra: Env = {}) {
  const table = await runOperator(["doctor", ...args], agentEnv(context, extra));
  const json = await runOperator(["doctor", ...args, "--json"], agentEnv(context, extra));
  assert.is(json.status, table.status, `${table.stderr}\n${json.stderr}`);
  return { status: table.status, table: table.stdout, report: JSON.parse(json.stdout) as Report };
}

function section(report: Report, title: string) {
  const found = report.sections.find((entry) => entry.title.startsWith(title));
  if (!found) throw new Error(`no section ${title}`);
  return found;
}

/** Every JSON item appears in the table as one line with the same cells in the same order. */
function assertTableMatchesJson(table: string, report: Report) {
  const lines = tableCells(table);
  for (const entry of report.sections) {
    assert.ok(lines.some((cells) => cells.length === 1 && cells[0] === entry.title), `title ${entry.title}`);
    if (entry.items.length === 0) assert.ok(lines.some((cells) => cells[0] === entry.empty), entry.empty);
    for (const item of entry.items) {
      const expected = [item.status, ...entry.columns.map((column) => item[column.key]!), item.detail].filter((cell) => cell !== "");
      assert.ok(
        lines.some((cells) => JSON.stringify(cells) === JSON.stringify(expected)),
        `no line ${JSON.stringify(expected)} in\n${table}`,
      );
    }
  }
  assert.ok(table.includes(report.verdict));
}

Doctor("an allowed job: exit 0, every slug allowed, the variables the hook would export, with their slugs", async (context) => {
  const { status, table, report } = await doctor(context);
  assert.is(status, 0, table);
  assert.ok(report.ok);
  assert.is(report.verdict, "a job of pipeline app would succeed and get 3 variables from 3 slugs (1 warning)");
  assertTableMatchesJson(table, report);

  assert.equal(
    section(report, "Slugs").items.map((item) => [item.kind, item.slug, item.path, item.access, item.detail]),
    [
      ["default", "global", `${BASE}/global`, "allowed", "no access list"],
      ["repository", REPO_SLUG, `${BASE}/${REPO_SLUG}`, "allowed", "no access list"],
      ["pipeline", "app", `${BASE}/app`, "allowed", "team dev is in allowed_teams"],
    ],
  );
  const variables = section(report, "Variables").items;
  assert.equal(
    variables.map((item) => [item.name, item.slug, item.parameter, item.detail]),
    [
      [CANARY_VARIABLE, "global", `${BASE}/global/env/${CANARY_VARIABLE}`, ""],
      ["SHARED", "app", `${BASE}/app/env/SHARED`, "overrides slug github.com_acme_app.git"],
      ["ACCESS_TOKEN", REPO_SLUG, `${BASE}/${REPO_SLUG}/env/access-token`, ""],
    ],
  );
  // The same job through the real hook exports exactly these names.
  const before = agentEnv(context, { AWS_SSM_SECRETS_PLUGIN_ENABLED: "1" });
  const hook = await runHook("environment", before);
  assert.is(hook.status, 0, hook.stderr);
  assert.equal(Object.keys(envChanges(before, hook.env)).sort(), variables.map((item) => item.name).sort());

  assert.equal(
    section(report, "Parameters the job would skip").items.map((item) => [item.status, item.detail]),
    [
      ["warn", `skipping ${BASE}/app/env/has.dot: "HAS.DOT" is not a valid environment variable name (use letters, digits and _ and do not start with a digit)`],
      ["info", `${BASE}/app/notes: not used by the hooks`],
    ],
  );
  const machine = Object.fromEntries(section(report, "This machine").items.map((item) => [item.check, item]));
  assert.equal([machine["AWS region"]!.value, machine["AWS region"]!.detail], ["us-east-1", "from AWS_REGION"]);
  assert.match(machine["AWS credentials"]!.detail, /environment variables/);
  assert.is(machine["environment hook"]!.status, "ok");
  assert.is(machine["bk-ssm-secrets"]!.status, "ok");
  assert.is(machine.git!.status, "ok");
});

Doctor("the configuration in force, each setting with where it came from", async (context) => {
  const defaults = join(context.hooks, "defaults.env");
  writeFileSync(defaults, 'export AWS_PARAMSTORE_SECRETS_DEFAULT_KEY="shared"\nexport AWS_PARAMSTORE_SECRETS_TIMEOUT="12"\n');
  const { report } = await doctor(context, [], { BK_SSM_SECRETS_DEFAULTS_FILE: defaults, AWS_PARAMSTORE_SECRETS_TIMEOUT: "20" });
  const settings = Object.fromEntries(section(report, "Configuration").items.map((item) => [item.setting, [item.value, item.detail]]));
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_DEFAULT_KEY, ["shared", "defaults file"]);
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_TIMEOUT, ["20 s", "environment"]);
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_SECRETS_PATH, ["/vendors/buildkite", "default"]);
  assert.equal(settings["defaults file"], [defaults, "present"]);
  assert.is(section(report, "Slugs").items[0]!.path, `${BASE}/shared`);
});

Doctor("flags override the job's variables; a denied job exits 1 and would get nothing", async (context) => {
  const { status, table, report } = await doctor(context, ["--teams", "qa:release"]);
  assert.is(status, 1);
  assert.not.ok(report.ok);
  assertTableMatchesJson(table, report);
  const app = section(report, "Slugs").items[2]!;
  assert.equal([app.status, app.access], ["fail", "denied"]);
  assert.equal(report.problems, ["access to slug app denied: none of the build's teams (qa, release) is in allowed_teams"]);
  assert.equal(section(report, "Variables").items, []);
  assert.match(table, /FAIL: a job of pipeline app would fail: 1 problem\n/);
  const job = Object.fromEntries(section(report, "Job").items.map((item) => [item.field, [item.value, item.detail]]));
  assert.equal(job.teams, ["qa:release", "--teams"]);
  assert.equal(job.pipeline, ["app", "BUILDKITE_PIPELINE_SLUG"]);

  const scheduled = await doctor(context, ["--teams", "", "--source", "schedule"]);
  assert.is(scheduled.status, 0, scheduled.table);
  assert.is(section(scheduled.report, "Slugs").items[2]!.detail, "scheduled build without teams");
});

Doctor("an unreadable slug: AccessDenied and KMS failures are explained with what to grant", async (context) => {
  context.fixture.server.inject({ kind: "access-denied", pathPrefix: `${BASE}/app` });
  const denied = await doctor(context);
  assert.is(denied.status, 1);
  assertTableMatchesJson(denied.table, denied.report);
  const slugs = section(denied.report, "Slugs").items;
  assert.equal(slugs.map((item) => item.access), ["allowed", "allowed", "unreadable"], "the other slugs are still reported");
  assert.match(slugs[2]!.detail, new RegExp(`^access denied reading ${BASE}/app \\(AccessDeniedException: .*\\): grant ssm:GetParametersByPath on this path to the agent's IAM role$`));
  assert.is(section(denied.report, "Variables").empty, "none: the job would fail before exporting anything (see Slugs)");

  context.fixture.server.clearFaults();
  context.fixture.server.inject({ kind: "kms", pathPrefix: `${BASE}/${REPO_SLUG}` });
  const kms = await doctor(context);
  assert.is(kms.status, 1);
  assert.match(kms.report.problems[0]!, /cannot decrypt the SecureString parameters under \/vendors\/buildkite\/github\.com_acme_app\.git .*kms:Decrypt.*: grant kms:Decrypt on the parameters' KMS key to the agent's role/);
});

Doctor("missing programs: no git or ssh-agent on PATH fails a job that checks out over ssh", async (context) => {
  const empty = mkdtempSync(join(tmpdir(), "bk-doctor-path-"));
  try {
    const { status, table, report } = await doctor(context, [], { PATH: empty });
    assert.is(status, 1);
    assertTableMatchesJson(table, report);
    assert.equal(report.problems, [
      "git is not on PATH: the job cannot check out; install git on the agent",
      "ssh-agent is not on PATH (the job checks out over ssh): install the OpenSSH client on the agent",
      "ssh-add is not on PATH (the job checks out over ssh): install the OpenSSH client on the agent",
    ]);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

Doctor("hooks not installed, the binary missing and the plugin not enabled are warnings, not failures", async (context) => {
  const missingBinary = join(context.hooks, "no-such-binary");
  const { status, report } = await doctor(context, [], {
    BUILDKITE_HOOKS_PATH: join(context.hooks, "absent"),
    AWS_SSM_SECRETS_PLUGIN_ENABLED: "",
    BK_SSM_SECRETS_BIN: missingBinary,
  });
  assert.is(status, 0);
  const machine = Object.fromEntries(section(report, "This machine").items.map((item) => [item.check, item]));
  assert.equal([machine["bk-ssm-secrets"]!.status, machine["bk-ssm-secrets"]!.value], ["warn", missingBinary]);
  assert.match(machine["bk-ssm-secrets"]!.detail, /BK_SSM_SECRETS_BIN names a file that does not exist/);
  assert.equal([machine["environment hook"]!.status, machine["environment hook"]!.value], ["warn", join(context.hooks, "absent", "environment")]);
  assert.match(machine["environment hook"]!.detail, /does not exist/);
  assert.equal(machine["hooks enabled"]!.status, "warn");
});

Doctor("no AWS credentials or region: explained, and the job would fail", async (context) => {
  const noCredentials = await doctor(context, [], { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" });
  assert.is(noCredentials.status, 1);
  const machine = Object.fromEntries(section(noCredentials.report, "This machine").items.map((item) => [item.check, item]));
  assert.equal(machine["AWS credentials"]!.status, "fail");
  assert.match(machine["AWS credentials"]!.detail, /^no AWS credentials found .*: attach an instance profile to the agent, or set AWS_PROFILE/);

  const noRegion = await doctor(context, [], { AWS_REGION: "", AWS_DEFAULT_REGION: "" });
  assert.is(noRegion.status, 1);
  assert.ok(noRegion.report.problems.every((problem) => /AWS region/.test(problem)), noRegion.report.problems.join("\n"));
});

Doctor("a repository URL with a token is shown without it", async (context) => {
  const url = "https://x-access-token:ghs_doctorTokenValue@github.com/acme/app.git";
  const { report, table } = await doctor(context, ["--repo", url]);
  assert.not.match(table, /ghs_doctorTokenValue/);
  assert.not.match(JSON.stringify(report), /ghs_doctorTokenValue/);
  const repository = section(report, "Job").items.find((item) => item.field === "repository")!;
  assert.is(repository.value, "https://github.com/acme/app.git");
});

Doctor.run();
