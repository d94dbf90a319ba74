// Trust boundaries, tried as an attacker would (docs/threat-model.md): a
// writer of a shared slug, a pipeline's env, a hostile repository URL or
// pipeline slug. The compiled binary through the installed hooks in real
// bash, pre-checkout's real `git ls-remote` probe and a real checkout over
// ssh from a real sshd.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { makeCertificate, makeRepository, startGitHttpServer } from "./support/git-http-server.ts";
import { generateKey, startGitSshServer, type GitSshServer } from "./support/git-ssh-server.ts";
import { envChanges, installedAgent, plantSecret, runHook, type Env } from "./support/job.ts";
import { runLifecycle } from "./support/lifecycle.ts";
import { failureLine, runOperator } from "./support/operator.ts";
import { assertJobLeftNothing, jobScratch, plantKey } from "./support/ssh-job.ts";

interface Context {
  fixture: JobFixture;
  git: GitSshServer;
  /** Where an attack that ran would leave its sentinel files. */
  traps: string;
}

const Trust = suite<Context>("trust boundaries", {} as Context);

Trust.before(async (context) => {
  context.fixture = await startJobFixture();
  context.git = await startGitSshServer();
  context.traps = mkdtempSync(join(tmpdir(), "bk-traps-"));
});
Trust.after(async ({ fixture, git, traps }) => {
  await Promise.all([fixture.close(), git.close()]);
  rmSync(traps, { recursive: true, force: true });
});

/** A command that, if anything ever runs it, leaves `<traps>/<name>` holding the environment it saw. */
const trap = (context: Context, name: string) => `sh -c "env > ${join(context.traps, name)}" #`;

/** The `:warning:` lines of a job log, but for the one about the redactor, which these jobs have none of. */
const warnings = (log: string) => log.split("\n").filter((line) => line.startsWith(":warning: ") && !line.includes("will not be redacted"));

/** The environment hook; with `agent`, an installed agent's, whose defaults file holds those settings. */
async function environment(context: Context, extra: Env, agent?: Env) {
  const before = context.fixture.jobEnv({ BUILDKITE_REPO: "", BUILDKITE_SOURCE: "ui", AWS_PARAMSTORE_SECRETS_VERBOSE: "0", ...extra });
  const run = await runHook("environment", before, agent ? { agent } : {});
  return { ...run, changes: envChanges(before, run.env) };
}

Trust("a shared repository slug cannot run code in pre-checkout's probe or the checkout, nor change the agent's checkout settings", async (context) => {
  const repository = "acme/trapped.git";
  const slug = `${BASE}/127.0.0.1_acme_trapped.git`;
  const key = generateKey("trapped");
  plantKey(key);
  context.git.createRepository(repository);
  context.git.authorize(key, [repository]);
  const attacks: Record<string, string> = {
    "env/GIT_SSH_COMMAND": trap(context, "ssh-command"),
    "env/GIT_SSH": join(context.traps, "missing-program"),
    "env/GIT_CONFIG_COUNT": "1",
    "env/GIT_CONFIG_KEY_0": "core.sshCommand",
    "env/GIT_CONFIG_VALUE_0": trap(context, "config-count"),
    "file/GIT_CONFIG_GLOBAL": `[core]\n\tsshCommand = ${trap(context, "config-global")}\n`,
    "env/GIT_ASKPASS": trap(context, "askpass"),
    "env/BUN_OPTIONS": `--preload ${join(context.traps, "preload.ts")}`,
    "env/BUILDKITE_REPO": "git@evil.example:acme/other.git",
    "env/BUILDKITE_GIT_CLONE_FLAGS": "--upload-pack=touch",
    "env/BUILDKITE_HOOKS_PATH": context.traps,
  };
  writeFileSync(join(context.traps, "preload.ts"), `require("node:fs").writeFileSync(${JSON.stringify(join(context.traps, "preloaded"))}, "ran");\n`);
  context.fixture.seed({
    [`${slug}/ssh/key`]: key.privateKey,
    [`${slug}/env/REPO_SECRET`]: "repository-secret-value",
    ...Object.fromEntries(Object.entries(attacks).map(([relative, value]) => [`${slug}/${relative}`, value])),
    // The victim pipeline keeps its own secrets behind an access list.
    [`${BASE}/victim/allowed_pipelines`]: "victim",
    [`${BASE}/victim/env/VICTIM_SECRET`]: "victim-secret-value",
  });
  const scratch = jobScratch();
  try {
    const env = context.fixture.jobEnv({
      ...context.git.gitEnv(),
      ...scratch.env(),
      BUILDKITE_REPO: context.git.url(repository),
      BUILDKITE_PIPELINE_SLUG: "victim",
      BUILDKITE_SOURCE: "ui",
    });
    const job = await runLifecycle({ env, command: 'printf "%s\\n" "$VICTIM_SECRET" "$REPO_SECRET"; cat README.md', buildDir: scratch.build });

    assert.equal(readdirSync(context.traps).sort(), ["preload.ts"], "no trap ever ran");
    assert.equal(job.ran, ["environment", "pre-checkout", "checkout", "post-checkout", "command", "post-command", "pre-exit"], job.log);
    assert.ok(job.ran.every((phase) => job.runs[phase]!.status === 0), job.log);
    // The probe and the clone both went through the slug's deploy key, with the agent's own ssh command.
    assert.equal(context.git.requests().filter((request) => request.repository === repository).map((request) => request.allowed), [true, true]);
    assert.match(job.log, /Checking out with the slug's deploy key/);
    assert.equal(job.runs.command!.stdout.split("\n").slice(0, 3), ["victim-secret-value", "repository-secret-value", repository]);
    for (const name of ["GIT_SSH_COMMAND", "BUILDKITE_REPO", "BUILDKITE_HOOKS_PATH"]) assert.is(job.commandEnv![name], env[name], name);
    for (const name of ["GIT_SSH", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_CONFIG_GLOBAL", "GIT_ASKPASS", "BUN_OPTIONS", "BUILDKITE_GIT_CLONE_FLAGS"]) {
      assert.is(job.commandEnv![name], undefined, name);
    }
    // One warning per refused parameter, naming its path.
    const refused = warnings(job.runs.environment!.stderr);
    assert.is(refused.length, Object.keys(attacks).length, refused.join("\n"));
    for (const relative of Object.keys(attacks)) assert.is(refused.filter((line) => line.includes(`skipping ${slug}/${relative}: `)).length, 1, relative);
    assertJobLeftNothing(scratch, [key]);
  } finally {
    scratch.remove();
  }
});

Trust("a pipeline's env cannot configure the hooks' Bun binary, in any phase or in git's credential helper; the job keeps those variables", async (context) => {
  const scratch = jobScratch();
  const https = mkdtempSync(join(tmpdir(), "bk-bun-env-"));
  // Where the binary would leave a sign of a preload it ran, or of BUN_BYTECODE_ORDER_OUT.
  const traps = join(https, "traps");
  mkdirSync(traps);
  const preload = join(https, "preload.js");
  writeFileSync(preload, `require("node:fs").writeFileSync(${JSON.stringify(join(traps, "preloaded"))}, process.argv.slice(2).join(" "));\n`);
  const token = `ghp_bunEnv${crypto.randomUUID().replaceAll("-", "")}`;
  plantSecret(token);
  const certificate = makeCertificate(https);
  makeRepository(join(https, "repositories"), "app.git", "checked out over https\n");
  const server = startGitHttpServer({ root: join(https, "repositories"), username: "ci", password: token, certificate, hostname: "127.0.0.1" });
  context.fixture.seed({
    [`${BASE}/bun-env/git-credentials`]: `https://ci:${token}@${server.url.slice("https://".length)}\n`,
    [`${BASE}/bun-env/env/SHIELDED_SECRET`]: "shielded-secret-value",
  });
  try {
    const fromPipeline = { BUN_OPTIONS: `--preload=${preload}`, BUN_BYTECODE_ORDER_OUT: join(traps, "bytecode-order") };
    const env = context.fixture.jobEnv({
      ...scratch.env(),
      ...fromPipeline,
      BUILDKITE_REPO: `${server.url}/app.git`,
      BUILDKITE_PIPELINE_SLUG: "bun-env",
      BUILDKITE_SOURCE: "ui",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_SSL_CAINFO: certificate.certFile,
      GIT_TERMINAL_PROMPT: "0",
    });
    const job = await runLifecycle({ env, command: 'printf "%s\\n" "$SHIELDED_SECRET" "$BUN_OPTIONS"; cat README', buildDir: scratch.build, hooksDir: installedAgent().hooksDir });

    assert.equal(job.ran, ["environment", "pre-checkout", "checkout", "post-checkout", "command", "post-command", "pre-exit"], job.log);
    assert.ok(job.ran.every((phase) => job.runs[phase]!.status === 0), job.log);
    assert.equal(readdirSync(traps), [], "no phase and no credential helper ran the preload or wrote the bytecode order");
    // The checkout needed the token: git's credential helper ran, with the pipeline's BUN_* in git's environment.
    assert.ok(server.authorized > 0 && server.refused > 0, "git asked, then the helper answered");
    assert.equal(job.runs.command!.stdout.split("\n"), ["shielded-secret-value", fromPipeline.BUN_OPTIONS, "checked out over https", ""]);
    for (const [name, value] of Object.entries(fromPipeline)) assert.is(job.commandEnv![name], value, name);
  } finally {
    server.close();
    scratch.remove();
    rmSync(https, { recursive: true, force: true });
  }
});

Trust("bash's read-only and self-kept names are refused one by one; the hook succeeds and exports the rest", async (context) => {
  const names = ["UID", "EUID", "PPID", "BASHOPTS", "SHELLOPTS", "BASH_VERSINFO", "GROUPS", "SECONDS", "PS4", "BASH_ENV"];
  context.fixture.seed({ ...Object.fromEntries(names.map((name) => [`${BASE}/bash-names/env/${name}`, "0"])), [`${BASE}/bash-names/env/AFTER`]: "after-value" });
  const run = await environment(context, { BUILDKITE_PIPELINE_SLUG: "bash-names" });
  assert.is(run.status, 0, run.stderr);
  assert.equal(Object.keys(run.changes).sort(), ["AFTER", CANARY_VARIABLE]);
  const lines = warnings(run.stderr);
  assert.is(lines.length, names.length, run.stderr);
  for (const name of names) assert.ok(lines.some((line) => line.includes(`skipping ${BASE}/bash-names/env/${name}: ${name} may not be set from a secret`)), name);
});

Trust("an operator allows a protected name in the defaults file; a pipeline's env cannot", async (context) => {
  context.fixture.seed({ [`${BASE}/allowing/env/BUILDKITE_GIT_CLONE_FLAGS`]: "--depth=1", [`${BASE}/allowing/file/GIT_SSL_CAINFO`]: "-----BEGIN CERTIFICATE-----\nallowed-ca\n" });
  const allowed = await environment(context, { BUILDKITE_PIPELINE_SLUG: "allowing" }, { BK_SSM_SECRETS_ALLOWED_NAMES: "BUILDKITE_GIT_CLONE_FLAGS GIT_SSL_CAINFO" });
  assert.is(allowed.status, 0, allowed.stderr);
  assert.is(allowed.changes.BUILDKITE_GIT_CLONE_FLAGS, "--depth=1");
  assert.ok(existsSync(allowed.changes.GIT_SSL_CAINFO!));
  assert.equal(warnings(allowed.stderr), []);
  await runHook("pre-exit", allowed.env);

  const fromEnv = await environment(context, { BUILDKITE_PIPELINE_SLUG: "allowing", BK_SSM_SECRETS_ALLOWED_NAMES: "BUILDKITE_GIT_CLONE_FLAGS GIT_SSL_CAINFO" });
  assert.is(fromEnv.status, 0, fromEnv.stderr);
  assert.equal(Object.keys(fromEnv.changes).filter((name) => !name.startsWith("BK_SSM_SECRETS_")), [CANARY_VARIABLE]);
  assert.match(warnings(fromEnv.stderr).join("\n"), /list BUILDKITE_GIT_CLONE_FLAGS in BK_SSM_SECRETS_ALLOWED_NAMES in the agent's defaults file/);
});

Trust("git-credentials lines git cannot carry (= in a host, %0a in a token) are skipped by line number; git keeps working", async (context) => {
  const parameter = `${BASE}/credentials/git-credentials`;
  context.fixture.seed({ [parameter]: "https://bot:ghp_equalsHostToken@git=hub.example\nhttps://bot:ghp_injected%0aprotocol=http@github.com\nhttps://bot:ghp_goodToken1234@gitlab.example\n" });
  const run = await environment(context, { BUILDKITE_PIPELINE_SLUG: "credentials", GIT_TERMINAL_PROMPT: "0" });
  assert.is(run.status, 0, run.stderr);
  assert.equal(warnings(run.stderr).map((line) => line.replace(/^.*skipping (line \d+ of \S+): .*$/, "$1")), [`line 1 of ${parameter}`, `line 2 of ${parameter}`]);
  // Every git command reads GIT_CONFIG_PARAMETERS: with a = in a host, each would fail.
  const config = Bun.spawnSync(["git", "config", "--list"], { env: run.env });
  assert.is(config.exitCode, 0, config.stderr.toString());
  assert.equal(config.stdout.toString().match(/^credential\.https:\/\/[^.]*\.example\.\w+/gm), ["credential.https://gitlab.example.helper", "credential.https://gitlab.example.helper"]);
  // Asynchronously: the helper asks the SSM endpoint, which runs in this process.
  const fill = Bun.spawn(["git", "credential", "fill"], { env: run.env, stdin: new TextEncoder().encode("protocol=https\nhost=gitlab.example\n\n"), stdout: "pipe", stderr: "pipe" });
  assert.is(await new Response(fill.stdout).text(), "protocol=https\nhost=gitlab.example\nusername=bot\npassword=ghp_goodToken1234\n");
  assert.is(await fill.exited, 0);
});

Trust("put git-credentials refuses the same lines, by line number, and stores nothing", async (context) => {
  const env = context.fixture.jobEnv();
  for (const [value, problem] of [
    ["https://bot:ghp_putEqualsHost@git=hub.example\n", /line 1 of stdin: its host is not a host name/],
    ["https://bot:ghp_putGoodToken@github.com\nhttps://bot:ghp_putInjected%0apassword=x@github.com\n", /line 2 of stdin: its user or token holds a control character/],
  ] as const) {
    const put = await runOperator(["put", "git-credentials", "--pipeline", "put-credentials", "--yes"], env, value);
    assert.is(put.status, 2, put.stderr);
    assert.match(failureLine(put.stderr), problem);
    assert.not.ok(put.stderr.includes("ghp_"));
  }
  assert.is(context.fixture.server.get(`${BASE}/put-credentials/git-credentials`), undefined);
});

Trust("put refuses a protected name and says how to allow it; rm deletes one a job refuses", async (context) => {
  const env = context.fixture.jobEnv();
  const put = await runOperator(["put", "env", "GIT_SSH_COMMAND", "--pipeline", "cleanup", "--yes"], env, "ssh -o ProxyCommand=evil");
  assert.is(put.status, 2, put.stderr);
  assert.match(failureLine(put.stderr), /cannot use env "GIT_SSH_COMMAND": GIT_SSH_COMMAND may not be set from a secret: git runs it to connect over ssh \(to let secrets set it, list GIT_SSH_COMMAND in BK_SSM_SECRETS_ALLOWED_NAMES/);
  const readOnly = await runOperator(["put", "env", "uid", "--pipeline", "cleanup", "--yes"], env, "0");
  assert.match(failureLine(readOnly.stderr), /UID may not be set from a secret: it is read-only in bash: exporting it fails/);
  context.fixture.seed({ [`${BASE}/cleanup/env/GIT_SSH_COMMAND`]: "left from before the upgrade" });
  const rm = await runOperator(["rm", "env", "GIT_SSH_COMMAND", "--pipeline", "cleanup", "--yes"], env);
  assert.is(rm.status, 0, rm.stderr);
  assert.is(context.fixture.server.get(`${BASE}/cleanup/env/GIT_SSH_COMMAND`), undefined);
});

Trust("a password with an unencoded @ never reaches a slug or a log: the repository slug is the original's", async (context) => {
  context.fixture.seed({ [`${BASE}/github.com_acme_x.git/env/FROM_REPO`]: "repository-value" });
  const run = await environment(context, { BUILDKITE_REPO: "https://user:p@ss@github.com/acme/x.git", AWS_PARAMSTORE_SECRETS_VERBOSE: "1" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.FROM_REPO, "repository-value");
  assert.match(run.stderr, /slugs: global \(default\), github\.com_acme_x\.git \(repository\)/);
  assert.not.ok(run.stderr.includes("p@ss") || run.stderr.includes("ss@"));
});

Trust("a pipeline slug outside Buildkite's alphabet fails the job with one line, before reading anything", async (context) => {
  context.fixture.seed({ [`${BASE}/deployer/allowed_pipelines`]: "release-pipeline", [`${BASE}/deployer/env/DEPLOY`]: "deploy-secret-value" });
  for (const pipeline of ["deployer/", "../deployer", "deployer_2"]) {
    context.fixture.server.resetCalls();
    const run = await environment(context, { BUILDKITE_PIPELINE_SLUG: pipeline });
    assert.is(run.status, 1, run.stderr);
    assert.equal(run.changes, {});
    assert.match(failureLine(run.stderr), new RegExp(`BUILDKITE_PIPELINE_SLUG=${JSON.stringify(pipeline).replace(/[.\\/]/g, "\\$&")} is not a Buildkite pipeline slug`));
    assert.is(context.fixture.server.requests.length, 0);
  }
});

Trust("a near-miss access list warns in the job log, verbose or not, and doctor counts it as a problem", async (context) => {
  context.fixture.seed({ [`${BASE}/near-miss/allowed-pipelines`]: "somebody-else", [`${BASE}/near-miss/Allowed_Teams`]: "ops", [`${BASE}/near-miss/env/OPEN`]: "open-value" });
  const run = await environment(context, { BUILDKITE_PIPELINE_SLUG: "near-miss" });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.changes.OPEN, "open-value");
  assert.equal(warnings(run.stderr).map((line) => line.replace(/^:warning: /, "")), [
    // SSM lists names in byte order.
    `${BASE}/near-miss/Allowed_Teams is not an access list, so it restricts nobody: an access list must be named exactly ${BASE}/near-miss/allowed_teams`,
    `${BASE}/near-miss/allowed-pipelines is not an access list, so it restricts nobody: an access list must be named exactly ${BASE}/near-miss/allowed_pipelines`,
  ]);
  const doctor = await runOperator(["doctor", "--pipeline", "near-miss", "--json"], context.fixture.jobEnv({ BUILDKITE_SOURCE: "ui" }));
  assert.is(doctor.status, 1, doctor.stderr);
  const report = JSON.parse(doctor.stdout) as { problems: string[]; verdict: string };
  assert.match(report.verdict, /^a job of pipeline near-miss would get 2 variables from 2 slugs, but 2 misnamed access lists restrict nobody: fix them$/);
  assert.equal(report.problems.map((problem) => problem.split(" ")[0]), [`${BASE}/near-miss/Allowed_Teams`, `${BASE}/near-miss/allowed-pipelines`]);
});

Trust.run();
