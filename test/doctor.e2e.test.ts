// doctor end to end: the compiled binary against the SSM test endpoint with
// the real AWS SDK, checked against what the real environment hook does for
// the same job. doctor prints names and reasons, never a value.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { generateKey, type TestKey } from "./support/git-ssh-server.ts";
import { baseJobEnv, compiledBinary, envChanges, runBinary, runHook, type Env } from "./support/job.ts";
import { runOperator, tableCells } from "./support/operator.ts";
import { jobScratch, plantKey } from "./support/ssh-job.ts";

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
  causes: Array<{ cause: string; problems: string[] }>;
  sections: Array<{ title: string; columns: Array<{ key: string; title: string }>; items: Item[]; empty: string }>;
}

interface Context {
  fixture: JobFixture;
  /** A scratch directory holding an agent's hooks directory and the hook scripts, as `bk-ssm-secrets install` leaves them. */
  agent: string;
  hooks: string;
  keys: { repository: TestKey; global: TestKey };
}

const GLOBAL_KEY = `${BASE}/keys/deploy`;
const ABSENT_GLOBAL_KEY = `${BASE}/keys/absent`;

/** `bk-ssm-secrets install` (the compiled binary) into `root`: returns the hooks directory. */
async function install(root: string): Promise<{ hooks: string; scripts: string }> {
  const [hooks, scripts] = [join(root, "hooks"), join(root, "lib")];
  mkdirSync(hooks, { recursive: true });
  const run = await runBinary(["install", "--hooks-dir", hooks, "--install-dir", scripts, "--defaults-file", join(root, "defaults.env")], baseJobEnv());
  assert.is(run.status, 0, run.stderr);
  return { hooks, scripts };
}

const Doctor = suite<Context>("doctor", {} as Context);

Doctor.before(async (context) => {
  context.keys = { repository: generateKey(`${BASE}/${REPO_SLUG}/ssh/key`), global: generateKey(GLOBAL_KEY) };
  for (const key of Object.values(context.keys)) plantKey(key);
  context.fixture = await startJobFixture({
    [`${BASE}/${REPO_SLUG}/ssh/key`]: context.keys.repository.privateKey,
    [GLOBAL_KEY]: context.keys.global.privateKey,
    [`${BASE}/app/file/kubeconfig`]: "kubeconfig-file-content",
    [`${BASE}/${REPO_SLUG}/git-credentials`]: "https://bot:ghs_doctorCredentialToken@github.com\nnot a credential\n",
    [`${BASE}/global/env/SHARED`]: "shared-from-global",
    [`${BASE}/${REPO_SLUG}/env/SHARED`]: "shared-from-repo",
    [`${BASE}/${REPO_SLUG}/env/access-token`]: "repo-access-token",
    [`${BASE}/app/env/SHARED`]: "shared-from-pipeline",
    [`${BASE}/app/env/has.dot`]: "skipped-dotted-value",
    [`${BASE}/app/allowed_teams`]: "dev\nops",
    [`${BASE}/app/notes`]: "unused-notes-value",
  });
  context.agent = mkdtempSync(join(tmpdir(), "bk-doctor-agent-"));
  context.hooks = (await install(context.agent)).hooks;
});
Doctor.after(async (context) => {
  rmSync(context.agent, { recursive: true, force: true });
  await context.fixture.close();
});
Doctor.before.each((context) => context.fixture.server.clearFaults());

const JOB: Env = {
  BUILDKITE_PIPELINE_SLUG: "app",
  BUILDKITE_REPO: REPO,
  BUILDKITE_BUILD_CREATOR_TEAMS: "dev",
  BUILDKITE_SOURCE: "ui",
  AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${GLOBAL_KEY}:${ABSENT_GLOBAL_KEY}`,
};

// The defaults file the hooks were installed with, as an operator of such an agent names it to doctor.
const agentEnv = (context: Context, extra: Env = {}) =>
  context.fixture.jobEnv({ BUILDKITE_HOOKS_PATH: context.hooks, BK_SSM_SECRETS_DEFAULTS_FILE: join(context.agent, "defaults.env"), ...JOB, ...extra });

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
  assert.is(report.verdict, "a job of pipeline app would succeed and get 3 variables, 1 secret file, 2 deploy keys and git credentials for 1 host from 3 slugs (3 warnings)");
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
  const files = section(report, "Secret files").items;
  assert.equal(files.map((item) => [item.name, item.slug, item.parameter]), [["KUBECONFIG", "app", `${BASE}/app/file/kubeconfig`]]);
  const keys = section(report, "Deploy keys").items;
  assert.equal(
    keys.map((item) => [item.status, item.parameter, item.origin, item.agent]),
    [
      ["warn", "", "", ""],
      ["ok", `${BASE}/${REPO_SLUG}/ssh/key`, "repository", "slug agent"],
      ["ok", GLOBAL_KEY, "global", "default agent"],
    ],
  );
  assert.match(keys[0]!.detail, `AWS_PARAMSTORE_SECRETS_GLOBAL_SSH lists ${ABSENT_GLOBAL_KEY}, which does not exist`);
  const credentials = section(report, "Git credentials").items;
  assert.equal(
    credentials.map((item) => [item.status, item.host, item.parameter, item.slug, item.detail]),
    [
      ["warn", "", "", "", `skipping line 2 of ${BASE}/${REPO_SLUG}/git-credentials: it is not of the form https://user:token@host[:port][/path]`],
      ["ok", "https://github.com", `${BASE}/${REPO_SLUG}/git-credentials`, REPO_SLUG, "git's credential helper answers for it"],
    ],
  );
  assert.not.match(table + JSON.stringify(report), /ghs_doctorCredentialToken|kubeconfig-file-content/);

  // The same job through the real hook: exactly these variables and files, these keys in these agents, a helper for these hosts.
  const scratch = jobScratch();
  try {
    const before = { ...agentEnv(context, { AWS_SSM_SECRETS_PLUGIN_ENABLED: "1" }), ...scratch.env() };
    // The hook takes the global keys from its agent's defaults file; doctor, an operator's command, from the environment.
    const hook = await runHook("environment", before, { agent: { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: JOB.AWS_PARAMSTORE_SECRETS_GLOBAL_SSH! } });
    assert.is(hook.status, 0, hook.stderr);
    const changed = envChanges(before, hook.env);
    const agentVariables = ["SSH_AUTH_SOCK", "SSH_AGENT_PID", "AWS_PARAMSTORE_SECRETS_AUTH_SOCK", "AWS_PARAMSTORE_SECRETS_AGENT_PID", "GIT_CONFIG_PARAMETERS"];
    const exported = Object.keys(changed).filter((name) => !agentVariables.includes(name) && !name.startsWith("BK_SSM_SECRETS_"));
    assert.equal(exported.sort(), [...variables, ...files].map((item) => item.name).sort());
    const loaded = (socket: string | undefined) =>
      Bun.spawnSync(["ssh-add", "-l"], { env: { SSH_AUTH_SOCK: socket ?? "", PATH: before.PATH! } }).stdout.toString().trim().split("\n").map((line) => line.split(" ")[2]);
    const agents = { "slug agent": loaded(changed.AWS_PARAMSTORE_SECRETS_AUTH_SOCK), "default agent": loaded(changed.SSH_AUTH_SOCK) };
    for (const key of keys.filter((item) => item.status === "ok")) assert.ok(agents[key.agent as keyof typeof agents].includes(key.parameter), `${key.parameter} in the ${key.agent}`);
    assert.is(agents["slug agent"].length + agents["default agent"].length, 2);
    assert.match(changed.GIT_CONFIG_PARAMETERS!, `credential.${credentials[1]!.host}.helper=`);
    const exit = await runHook("pre-exit", { ...before, ...changed });
    assert.is(exit.status, 0, exit.stderr);
  } finally {
    scratch.remove();
  }

  assert.equal(
    section(report, "Parameters the job would skip").items.map((item) => [item.status, item.detail]),
    [
      ["warn", `skipping ${BASE}/app/env/has.dot: "HAS.DOT" is not a valid environment variable name (use letters, digits and _ and do not start with a digit)`],
      ["info", `${BASE}/app/notes: not a variable, file, deploy key, git-credentials or access list, so the hooks do not use it`],
    ],
  );
  const machine = Object.fromEntries(section(report, "This machine").items.map((item) => [item.check, item]));
  assert.equal([machine["AWS region"]!.value, machine["AWS region"]!.detail], ["us-east-1", "from AWS_REGION"]);
  assert.match(machine["AWS credentials"]!.detail, /environment variables/);
  for (const hook of ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit"]) {
    assert.equal([machine[`${hook} hook`]!.status, machine[`${hook} hook`]!.detail], ["ok", `runs ${join(context.agent, "lib", hook)}`]);
  }
  assert.is(machine["bk-ssm-secrets"]!.status, "ok");
  assert.is(machine.git!.status, "ok");
});

Doctor("the configuration in force, each setting with where it came from", async (context) => {
  const defaults = join(context.hooks, "defaults.env");
  writeFileSync(defaults, 'export AWS_PARAMSTORE_SECRETS_DEFAULT_KEY="shared"\nexport AWS_PARAMSTORE_SECRETS_TIMEOUT="12"\nBK_SSM_SECRETS_ALLOWED_NAMES="git-ssl-cainfo"\n');
  const { report } = await doctor(context, [], { BK_SSM_SECRETS_DEFAULTS_FILE: defaults, AWS_PARAMSTORE_SECRETS_TIMEOUT: "20" });
  const settings = Object.fromEntries(section(report, "Configuration").items.map((item) => [item.setting, [item.value, item.detail]]));
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_DEFAULT_KEY, ["shared", "defaults file"]);
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_TIMEOUT, ["20 s", "environment"]);
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_SECRETS_PATH, ["/vendors/buildkite", "default"]);
  // Not the file the agent's hooks read: doctor reads it, as asked, and says so.
  const defaultsRow = section(report, "Configuration").items.find((item) => item.setting === "defaults file")!;
  assert.equal([defaultsRow.status, defaultsRow.value], ["warn", defaults]);
  assert.match(defaultsRow.detail, `the agent's hooks record ${join(context.agent, "defaults.env")} as the defaults file they read, not this one`);
  assert.equal(settings.BK_SSM_SECRETS_ALLOWED_NAMES, ["GIT_SSL_CAINFO", "defaults file: secrets may set these protected names"]);
  assert.is(section(report, "Slugs").items[0]!.path, `${BASE}/shared`);
});

Doctor("an agent whose hooks read another defaults file fails until doctor reads that one; the hooks' record steers no operator command", async (context) => {
  const root = mkdtempSync(join(tmpdir(), "bk-doctor-defaults-"));
  try {
    const { hooks } = await install(root);
    const recorded = join(root, "defaults.env");
    writeFileSync(recorded, 'export AWS_PARAMSTORE_SECRETS_DEFAULT_KEY="shared"\n');
    const agent = { BUILDKITE_HOOKS_PATH: hooks, BK_SSM_SECRETS_DEFAULTS_FILE: "" };
    const unset = await doctor(context, [], agent);
    assert.is(unset.status, 1);
    const row = section(unset.report, "Configuration").items.find((item) => item.setting === "defaults file")!;
    assert.equal([row.status, row.value], ["fail", "/etc/bk-ssm-secrets/defaults.env"]);
    assert.is(
      row.detail,
      `the agent's hooks record ${recorded} as the defaults file they read, not this one: if only root can write that file and the agent's hooks, set BK_SSM_SECRETS_DEFAULTS_FILE to it to check the agent's settings (doctor does not follow the record, which the agent's user may be able to change)`,
    );
    assert.is(unset.report.verdict, `a job of pipeline app was not checked: doctor read another defaults file than the agent's hooks, which read ${recorded}`);
    // The record is only reported: doctor read the default location, and so does ls.
    assert.is(section(unset.report, "Slugs").items[0]!.path, `${BASE}/global`);
    const ls = await runOperator(["ls", "--global"], agentEnv(context, agent));
    assert.is(ls.status, 0, ls.stderr);
    assert.not.match(ls.stderr, "Nothing under");
    // Pointed at the hooks' file, doctor checks the agent's settings.
    const named = await doctor(context, [], { ...agent, BK_SSM_SECRETS_DEFAULTS_FILE: recorded });
    assert.is(named.status, 0);
    const configuration = Object.fromEntries(section(named.report, "Configuration").items.map((item) => [item.setting, item]));
    assert.equal([configuration["defaults file"]!.status, configuration["defaults file"]!.detail], ["ok", "present"]);
    assert.equal([configuration.AWS_PARAMSTORE_SECRETS_DEFAULT_KEY!.value, configuration.AWS_PARAMSTORE_SECRETS_DEFAULT_KEY!.detail], ["shared", "defaults file"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
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
  assert.is(section(denied.report, "Variables").empty, "none: the job would fail before exporting anything (see the problems below)");

  context.fixture.server.clearFaults();
  context.fixture.server.inject({ kind: "kms", pathPrefix: `${BASE}/${REPO_SLUG}` });
  const kms = await doctor(context);
  assert.is(kms.status, 1);
  assert.match(kms.report.problems[0]!, /cannot decrypt the SecureString parameters under \/vendors\/buildkite\/github\.com_acme_app\.git .*kms:Decrypt.*: grant kms:Decrypt on the parameters' KMS key to the agent's role/);
});

Doctor("missing programs: no git, or no ssh-agent for a job with deploy keys, fails the job", async (context) => {
  const empty = mkdtempSync(join(tmpdir(), "bk-doctor-path-"));
  try {
    const { status, table, report } = await doctor(context, [], { PATH: empty });
    assert.is(status, 1);
    assertTableMatchesJson(table, report);
    assert.equal(report.problems, [
      "git is not on PATH: the job cannot check out; install git on the agent",
      "ssh-agent is not on PATH (the job has deploy keys to load): install the OpenSSH client on the agent",
      "ssh-add is not on PATH (the job has deploy keys to load): install the OpenSSH client on the agent",
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

Doctor("an install whose hook scripts are gone fails: the agent's hooks would fail every job", async (context) => {
  const root = mkdtempSync(join(tmpdir(), "bk-doctor-broken-"));
  try {
    const { hooks, scripts } = await install(root);
    unlinkSync(join(scripts, "lib", "run-phase.bash"));
    writeFileSync(join(hooks, "pre-exit"), "#!/bin/bash\necho the agent's own hook\n");
    const { status, report } = await doctor(context, [], { BUILDKITE_HOOKS_PATH: hooks });
    assert.is(status, 1);
    const machine = Object.fromEntries(section(report, "This machine").items.map((item) => [item.check, item]));
    assert.equal(machine["environment hook"]!.status, "fail");
    assert.match(machine["environment hook"]!.detail, `${join(scripts, "lib", "run-phase.bash")} does not exist: run bk-ssm-secrets install again, with the flags it was installed with (it rewrites the defaults file from them)`);
    assert.equal([machine["pre-exit hook"]!.status, machine["pre-exit hook"]!.detail.split(":")[0]], ["warn", "has no bk-ssm-secrets block"]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

Doctor("the binary the hooks run is the one install recorded, whatever PATH and BK_SSM_SECRETS_BIN say; gone, it fails every job", async (context) => {
  const root = mkdtempSync(join(tmpdir(), "bk-doctor-recorded-"));
  try {
    const { hooks, scripts } = await install(root);
    // Off PATH and without BK_SSM_SECRETS_BIN, as an install with --bin-dir elsewhere leaves an agent.
    const offPath = { BUILDKITE_HOOKS_PATH: hooks, BK_SSM_SECRETS_BIN: "", PATH: "/usr/bin:/bin" };
    const binaryRow = async (extra: Env) => {
      const { status, report } = await doctor(context, [], extra);
      return { status, row: section(report, "This machine").items.find((item) => item.check === "bk-ssm-secrets")! };
    };
    const found = await binaryRow(offPath);
    assert.equal([found.row.status, found.row.value, found.row.detail], ["ok", compiledBinary(), "the binary the hooks run, as bk-ssm-secrets install recorded it"]);
    assert.equal((await binaryRow({ ...offPath, BK_SSM_SECRETS_BIN: join(root, "elsewhere") })).row.value, compiledBinary(), "the recorded binary wins, as in run-phase.bash");
    const library = join(scripts, "lib", "run-phase.bash");
    const gone = join(root, "moved away", "bk-ssm-secrets");
    writeFileSync(library, readFileSync(library, "utf8").replace(`local bin='${compiledBinary()}'`, `local bin='${gone}'`));
    const missing = await binaryRow(offPath);
    assert.is(missing.status, 1);
    assert.equal([missing.row.status, missing.row.value], ["fail", gone]);
    assert.match(missing.row.detail, "as bk-ssm-secrets install recorded it, and it does not exist");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
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

Doctor("problems are grouped by cause: one heading for what one fix solves", async (context) => {
  const empty = mkdtempSync(join(tmpdir(), "bk-doctor-path-"));
  try {
    const { status, table, report } = await doctor(context, [], { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", PATH: empty });
    assert.is(status, 1);
    assertTableMatchesJson(table, report);
    assert.equal(report.causes.map((group) => [group.cause, group.problems.length]), [
      ["AWS credentials and region", 5],
      ["this machine (programs, binary, hooks)", 1],
    ]);
    assert.equal(report.causes.flatMap((group) => group.problems).sort(), [...report.problems].sort(), "every problem in exactly one group");
    assert.ok(report.causes[0]!.problems.every((problem) => problem.startsWith("no AWS credentials found")), report.causes[0]!.problems.join("\n"));
    assert.is(report.verdict, "a job of pipeline app would fail: 6 problems from 2 causes");
    const tail = table.slice(table.indexOf(`FAIL: ${report.verdict}`)).split("\n");
    assert.equal(tail[1], "  AWS credentials and region:");
    assert.equal(tail[7], "  this machine (programs, binary, hooks):");
    assert.equal(tail[8], `  - ${report.causes[1]!.problems[0]}`);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

Doctor("workstation mode: off an agent (or with --short) no hook or program checks; --full brings them back", async (context) => {
  const empty = mkdtempSync(join(tmpdir(), "bk-doctor-path-"));
  try {
    // A workstation: no Buildkite job, no agent hooks or defaults file, and neither git nor ssh on PATH.
    const { BUILDKITE: _, BUILDKITE_JOB_ID: _job, ...workstation } = context.fixture.jobEnv({ ...JOB, PATH: empty });
    const run = async (args: string[]) => {
      const table = await runOperator(["doctor", ...args], workstation);
      const json = await runOperator(["doctor", ...args, "--json"], workstation);
      return { status: table.status, table: table.stdout, report: JSON.parse(json.stdout) as Report };
    };
    const short = await run([]);
    assert.is(short.status, 0, short.table);
    assertTableMatchesJson(short.table, short.report);
    const machine = section(short.report, "This machine");
    assert.match(machine.title, /workstation mode: the agent's hooks, programs and binary are not checked; doctor --full checks them/);
    assert.equal(machine.items.map((item) => item.check), ["AWS region", "AWS credentials", "SSM endpoint"]);
    assert.equal(section(short.report, "Variables").items.map((item) => item.name), [CANARY_VARIABLE, "SHARED", "ACCESS_TOKEN"], "the job is still checked");

    const full = await run(["--full"]);
    assert.is(full.status, 1);
    assert.ok(full.report.problems.includes("git is not on PATH: the job cannot check out; install git on the agent"), full.report.problems.join("\n"));
    assert.ok(section(full.report, "This machine").items.some((item) => item.check === "environment hook"));

    // On an agent (here: a job's environment), --short is asked for explicitly.
    const agentShort = await doctor(context, ["--short"], { PATH: empty });
    assert.is(agentShort.status, 0, agentShort.table);
    assert.equal(section(agentShort.report, "This machine").items.map((item) => item.check), ["AWS region", "AWS credentials", "SSM endpoint"]);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

Doctor("--base-path: doctor reads the tree there, and says the setting came from the command line", async (context) => {
  context.fixture.seed({ "/moved/tree/app/env/MOVED": "moved-tree-value" });
  const { status, report } = await doctor(context, ["--base-path", "/moved/tree/"]);
  assert.is(status, 0);
  const settings = Object.fromEntries(section(report, "Configuration").items.map((item) => [item.setting, [item.value, item.detail]]));
  assert.equal(settings.AWS_PARAMSTORE_SECRETS_SECRETS_PATH, ["/moved/tree", "command line"]);
  assert.equal(section(report, "Variables").items.map((item) => [item.name, item.parameter]), [["MOVED", "/moved/tree/app/env/MOVED"]]);
});

Doctor.run();
