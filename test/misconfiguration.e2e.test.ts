// Misconfiguration is loud: an unknown variable of the hooks' prefixes, a
// base path with nothing under it, and slugs that give a job nothing each
// warn in the job log without verbose mode (the compiled binary through
// hooks/environment in real bash), and doctor reports each as a problem and
// exits 1. A job that got parameters costs no request beyond its reads.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { envChanges, installedAgent, runHook, type Env } from "./support/job.ts";
import { runOperator } from "./support/operator.ts";
import { pythonHookDefaults } from "./support/python-hook.ts";

interface Context {
  fixture: JobFixture;
  scratch: string;
}

const Misconfigured = suite<Context>("misconfiguration", {} as Context);

Misconfigured.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/app/env/APP_TOKEN`]: "app-token-value",
    ["/vendors/old-base/app/env/FROM_OLD_BASE"]: "from-the-python-hooks-base",
  });
  context.scratch = mkdtempSync(join(tmpdir(), "bk-misconfigured-"));
});
Misconfigured.after(async (context) => {
  rmSync(context.scratch, { recursive: true, force: true });
  await context.fixture.close();
});
Misconfigured.before.each((context) => context.fixture.server.resetCalls());

/** A job of pipeline `app` with verbose mode off: what the operator sees by default. */
const job = (context: Context, extra: Env = {}) => context.fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", AWS_PARAMSTORE_SECRETS_VERBOSE: "0", ...extra });

/** The environment hook, of an agent whose defaults file holds `agent` when given (a job's environment cannot set the agent's settings). */
async function environment(context: Context, extra: Env = {}, agent?: Env) {
  const before = job(context, extra);
  const run = await runHook("environment", before, agent ? { agent } : {});
  assert.is(run.status, 0, run.stderr);
  return { ...run, changes: envChanges(before, run.env) };
}

/** doctor for the same job, as JSON: its exit status and problems. */
async function doctor(context: Context, extra: Env = {}) {
  const run = await runOperator(["doctor", "--json"], job(context, extra));
  const report = JSON.parse(run.stdout) as { ok: boolean; problems: string[] };
  assert.is(report.ok, run.status === 0, run.stderr);
  return { status: run.status, problems: report.problems };
}

/** The log's lines that mention `text`. */
const linesWith = (log: string, text: string) => log.split("\n").filter((line) => line.includes(text));

function defaultsFile(context: Context, name: string, text: string): string {
  const path = join(context.scratch, name);
  writeFileSync(path, text);
  return path;
}

Misconfigured("a mistyped setting in the job's environment: one warning naming it and the setting meant; doctor fails", async (context) => {
  const typo = { AWS_PARAMSTORE_SECRETS_SECRET_PATH: "/vendors/other" };
  const run = await environment(context, typo);
  assert.equal(linesWith(run.stderr, "AWS_PARAMSTORE_SECRETS_SECRET_PATH").length, 1, run.stderr);
  assert.match(
    run.stderr,
    "AWS_PARAMSTORE_SECRETS_SECRET_PATH (in the job's environment) is not a bk-ssm-secrets setting, so it changes nothing: did you mean AWS_PARAMSTORE_SECRETS_SECRETS_PATH?",
  );
  assert.not.match(run.stderr, "/vendors/other", "the value is not repeated");
  // The job itself is unchanged: the warning is only a warning.
  assert.is(run.changes.APP_TOKEN, "app-token-value");

  const checked = await doctor(context, typo);
  assert.is(checked.status, 1);
  assert.equal(checked.problems, [
    "AWS_PARAMSTORE_SECRETS_SECRET_PATH (in the job's environment) is not a bk-ssm-secrets setting, so it changes nothing: did you mean AWS_PARAMSTORE_SECRETS_SECRETS_PATH?",
  ]);
});

Misconfigured("each prefix is checked: AWS_SSM_SECRETS_* and BK_SSM_SECRETS_* typos get the nearest known name", async (context) => {
  const run = await environment(context, { AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMAND: "1", BK_SSM_SECRETS_DEFAULT_FILE: "/etc/x" });
  assert.match(run.stderr, "AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMAND (in the job's environment) is not a bk-ssm-secrets setting, so it changes nothing: did you mean AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND?");
  assert.match(run.stderr, "BK_SSM_SECRETS_DEFAULT_FILE (in the job's environment) is not a bk-ssm-secrets setting, so it changes nothing: did you mean BK_SSM_SECRETS_DEFAULTS_FILE?");
});

Misconfigured("the Python hook's install-time AWS_PARAMSTORE_SECRETS_PATH in the defaults file: named with the file and what to set instead", async (context) => {
  const settings = { AWS_PARAMSTORE_SECRETS_PATH: "/vendors/buildkite/" };
  const file = installedAgent(settings).defaultsFile;
  const run = await environment(context, {}, settings);
  const expected = `AWS_PARAMSTORE_SECRETS_PATH (in ${file}) is not read by bk-ssm-secrets: the Python hook's install script read it once to write AWS_PARAMSTORE_SECRETS_SECRETS_PATH; the hooks read AWS_PARAMSTORE_SECRETS_SECRETS_PATH`;
  assert.match(run.stderr, expected);
  const checked = await doctor(context, { BK_SSM_SECRETS_DEFAULTS_FILE: file });
  assert.is(checked.status, 1);
  assert.is(checked.problems.length, 1);
  assert.match(checked.problems[0]!, expected);
});

Misconfigured("a base path with nothing under it: a warning naming the setting and where it was set, after one cheap check; doctor fails", async (context) => {
  const wrong = { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/vendors/buildkit" };
  const run = await environment(context, {}, wrong);
  const expected = (where: string) =>
    `nothing exists under /vendors/buildkit in SSM, so no job here gets anything: check AWS_PARAMSTORE_SECRETS_SECRETS_PATH=/vendors/buildkit (set ${where}); it must name the root of the tree, such as /vendors/buildkite`;
  assert.match(run.stderr, expected(`in ${installedAgent(wrong).defaultsFile}`));
  assert.not.ok(CANARY_VARIABLE in run.changes);
  // The slugs' reads, then one GetParametersByPath of a single name, nothing decrypted.
  const reads = context.fixture.server.requests.filter((request) => request.action === "GetParametersByPath");
  assert.is(reads.length, 3, JSON.stringify(reads.map((request) => request.body)));
  assert.equal(reads.at(-1)!.body, { Path: "/vendors/buildkit", Recursive: true, WithDecryption: false, MaxResults: 1 });

  // An operator's doctor takes the setting from the shell's environment.
  const checked = await doctor(context, wrong);
  assert.is(checked.status, 1);
  assert.equal(checked.problems, [expected("in the environment")]);
});

Misconfigured("slugs that give the job nothing: a warning naming each slug and the settings to check; doctor fails and names a similar slug", async (context) => {
  const nowhere = { AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "no-such-default", BUILDKITE_PIPELINE_SLUG: "apps", BUILDKITE_REPO: "git@github.com:acme/none.git" };
  const { AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: defaultKey, ...jobOwn } = nowhere;
  const run = await environment(context, jobOwn, { AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: defaultKey });
  const expected =
    "no parameters under any of this job's slugs below /vendors/buildkite: no-such-default (default), github.com_acme_none.git (repository), apps (pipeline); the job gets no secrets: check the pipeline slug and repository, or AWS_PARAMSTORE_SECRETS_SECRETS_PATH=/vendors/buildkite (the built-in default)";
  assert.match(run.stderr, expected);
  // The job makes one cheap check only; doctor, an operator's command, also lists the slugs that exist.
  const checked = await doctor(context, nowhere);
  assert.is(checked.status, 1);
  assert.equal(checked.problems, [`${expected}; slugs that exist with a similar name: app for apps`]);
});

Misconfigured("a job that got parameters: no warning, and not one request beyond its slugs' reads", async (context) => {
  const run = await environment(context);
  assert.is(run.changes.APP_TOKEN, "app-token-value");
  assert.not.match(run.stderr, /not a bk-ssm-secrets setting|nothing exists under|no parameters under/, run.stderr);
  const requests = context.fixture.server.requests.map((request) => [request.action, (request.body as { Path: string }).Path]);
  assert.equal(requests.sort(), [
    ["GetParametersByPath", `${BASE}/app`],
    ["GetParametersByPath", `${BASE}/global`],
  ]);
  assert.is((await doctor(context)).status, 0);
});

Misconfigured("no defaults file yet: the Python hook's custom-defaults are read, and a name it knew that these hooks do not is named", async (context) => {
  // As the Python hook's configure.sh wrote it (the trailing slash included), from a version that also wrote an early name of an option.
  const old = defaultsFile(context, "custom-defaults", `${pythonHookDefaults({ basePath: "/vendors/old-base/" })}export AWS_PARAMSTORE_SECRETS_RUN_SSH_AGENT_DURING_COMMAND="1"\n`);
  const extra = { BK_SSM_SECRETS_OLD_DEFAULTS_FILE: old, BK_SSM_SECRETS_DEFAULTS_FILE: join(context.scratch, "absent.env") };
  // An operator's doctor reads the old file where the operator's shell says it is.
  const checked = await runOperator(["doctor", "--json"], job(context, extra));
  assert.match(checked.stdout, "FROM_OLD_BASE");
  assert.not.match(checked.stdout, "APP_TOKEN");
  assert.match(
    checked.stdout,
    `AWS_PARAMSTORE_SECRETS_RUN_SSH_AGENT_DURING_COMMAND (in ${old}) is not read by bk-ssm-secrets: an early name of AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND, which the Python hook itself stopped reading: set AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND=1`,
  );
  // A job's environment cannot point the hooks at a file of its choosing, old or new.
  const refused = await environment(context, extra);
  assert.match(refused.stderr, "BK_SSM_SECRETS_OLD_DEFAULTS_FILE in the job's environment is ignored");
  assert.not.ok("FROM_OLD_BASE" in refused.changes);
  // A defaults file of its own, once there is one, wins: the old file is not read at all.
  const own = defaultsFile(context, "own.env", `export AWS_PARAMSTORE_SECRETS_SECRETS_PATH="${BASE}"\n`);
  const after = await runOperator(["doctor", "--json"], job(context, { ...extra, BK_SSM_SECRETS_DEFAULTS_FILE: own }));
  assert.match(after.stdout, "APP_TOKEN");
  assert.not.match(after.stdout, "AWS_PARAMSTORE_SECRETS_RUN_SSH_AGENT_DURING_COMMAND (in");
});

Misconfigured.run();
