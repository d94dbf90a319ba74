// exec end to end: the compiled binary running a command with what a job of
// a pipeline would get, against the SSM test endpoint. The command prints
// what it received on stdout (its own output, not exec's log); exec's log is
// audited for every planted secret, and no secret may reach an argv.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BASE, CANARY, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { assertNoSecretIn, compiledBinary, plantSecret, runBinary, type Env } from "./support/job.ts";
import { failureLine } from "./support/operator.ts";

const API_TOKEN = "exec-api-token-0123456789";
const CONFIG = "apiVersion: v1\ntoken: exec-file-secret-abcdef\n";
const FROM_SECRETS_MANAGER = "exec-secrets-manager-value-4242";

interface Context {
  fixture: JobFixture;
  /** TMPDIR for exec: its secret files go here, so the tests can see them come and go. */
  tmp: string;
}

const Exec = suite<Context>("exec", {} as Context);

Exec.before(async (context) => {
  context.fixture = await startJobFixture({
    [`${BASE}/global/env/API_TOKEN`]: "overridden-by-the-pipeline-000",
    [`${BASE}/app/env/API_TOKEN`]: API_TOKEN,
    [`${BASE}/app/file/kubeconfig`]: CONFIG,
    [`${BASE}/app/env/PATH`]: "/nonexistent-from-ssm",
    [`${BASE}/locked/allowed_teams`]: "release",
    [`${BASE}/locked/env/LOCKED`]: "locked-secret-value-5555",
  });
  context.fixture.server.putSecret("exec/secret", FROM_SECRETS_MANAGER);
  plantSecret(FROM_SECRETS_MANAGER);
  context.fixture.server.put(`${BASE}/app/secretsmanager/FROM_SM`, "exec/secret", { type: "String" });
  context.fixture.server.put(`${BASE}/broken/secretsmanager/GONE`, "exec/gone", { type: "String" });
  context.tmp = mkdtempSync("/tmp/bk-exec-e2e-");
});
Exec.after(async (context) => {
  await context.fixture.close();
  rmSync(context.tmp, { recursive: true, force: true });
});

/** An operator's shell: no Buildkite job variables. */
function operatorEnv(context: Context, extra: Env = {}): Env {
  const { BUILDKITE: _inJob, ...env } = context.fixture.jobEnv({ TMPDIR: context.tmp });
  return { ...env, ...extra };
}

function exec(context: Context, args: string[], extra: Env = {}) {
  assertNoSecretIn(args.join("\n"), "exec's argv");
  return runBinary(["exec", ...args], operatorEnv(context, extra));
}

const leftovers = (context: Context) => readdirSync(context.tmp).filter((entry) => entry.startsWith("bk-ssm-secrets-"));

Exec("the command gets the job's variables (precedence included) and secret files, through its environment", async (context) => {
  const script = 'printf "%s\\n" "$API_TOKEN" "$FROM_SM" "$CANARY_SECRET" "$KUBECONFIG" "$PATH"; cat "$KUBECONFIG"';
  const run = await exec(context, ["--pipeline", "app", "--", "bash", "-c", script]);
  assert.is(run.status, 0, run.stderr);
  const [token, sm, canary, kubeconfig, path, ...file] = run.stdout.split("\n");
  assert.is(token, API_TOKEN, "the pipeline's value overrides the default slug's");
  assert.is(sm, FROM_SECRETS_MANAGER);
  assert.is(canary, CANARY);
  assert.is(path, operatorEnv(context).PATH, "a protected name is refused as in a job");
  assert.match(run.stderr, /skipping \/vendors\/buildkite\/app\/env\/PATH/);
  assert.ok(kubeconfig!.startsWith(`${context.tmp}/bk-ssm-secrets-`), kubeconfig);
  assert.is(file.join("\n"), CONFIG);
  assert.not.ok(existsSync(kubeconfig!), "the secret files are removed when the command ends");
  assert.equal(leftovers(context), []);
});

Exec("the command's exit status is exec's, and a signal that ends it is 128+N", async (context) => {
  const exited = await exec(context, ["--pipeline", "app", "--", "bash", "-c", "exit 7"]);
  assert.is(exited.status, 7, exited.stderr);
  const killed = await exec(context, ["--pipeline", "app", "--", "bash", "-c", "kill -KILL $$"]);
  assert.is(killed.status, 137, killed.stderr);
  assert.equal(leftovers(context), []);
});

Exec("SIGTERM to exec reaches the command, and the files are removed", async (context) => {
  const proc = Bun.spawn([compiledBinary(), "exec", "--pipeline", "app", "--", "bash", "-c", 'echo "$KUBECONFIG"; exec sleep 60'], {
    env: operatorEnv(context),
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let printed = "";
  while (!printed.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    printed += new TextDecoder().decode(value);
  }
  const kubeconfig = printed.trim();
  assert.ok(existsSync(kubeconfig), `the file exists while the command runs: ${kubeconfig}`);
  proc.kill("SIGTERM");
  const status = await proc.exited;
  assertNoSecretIn(await new Response(proc.stderr).text(), "exec's log");
  assert.is(status, 143);
  assert.not.ok(existsSync(kubeconfig));
  assert.equal(leftovers(context), []);
});

Exec("inside a Buildkite job exec refuses with one line and runs nothing", async (context) => {
  context.fixture.server.resetCalls();
  for (const job of [{ BUILDKITE: "true" }, { BUILDKITE_JOB_ID: "0190-job" }] as Env[]) {
    const marker = join(context.tmp, "ran");
    const run = await exec(context, ["--pipeline", "app", "--", "touch", marker], job);
    assert.is.not(run.status, 0);
    assert.match(failureLine(run.stderr), /inside a Buildkite job/);
    assert.not.ok(existsSync(marker), "the command did not run");
    assert.is(context.fixture.server.callCount(), 0, "nothing was read");
  }
});

Exec("access lists are judged for the job described: --teams", async (context) => {
  const denied = await exec(context, ["--pipeline", "locked", "--teams", "dev", "--", "bash", "-c", 'echo "ran:$LOCKED"']);
  assert.is(denied.status, 1);
  assert.match(failureLine(denied.stderr), /slug locked .*allowed_teams/);
  assert.is(denied.stdout, "", "the command did not run");
  const allowed = await exec(context, ["--pipeline", "locked", "--teams", "dev:release", "--", "bash", "-c", 'printf %s "$LOCKED"']);
  assert.is(allowed.status, 0, allowed.stderr);
  assert.is(allowed.stdout, "locked-secret-value-5555");
});

Exec("a reference that cannot be resolved: one line, the command does not run", async (context) => {
  const run = await exec(context, ["--pipeline", "broken", "--", "bash", "-c", "echo ran"]);
  assert.is(run.status, 1);
  assert.match(failureLine(run.stderr), /broken\/secretsmanager\/GONE: Secrets Manager secret exec\/gone was not found/);
  assert.is(run.stdout, "");
});

Exec("usage: the command goes after --; a command that does not exist is 127", async (context) => {
  const bare = await exec(context, ["--pipeline", "app", "bash"]);
  assert.is(bare.status, 2);
  assert.match(failureLine(bare.stderr), /after --/);
  const missing = await exec(context, ["--pipeline", "app", "--", "no-such-command-here"]);
  assert.is(missing.status, 127);
  assert.match(failureLine(missing.stderr), /cannot run no-such-command-here/);
  assert.equal(leftovers(context), []);
});

Exec.run();
