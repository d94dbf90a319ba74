// SIGTERM to the environment phase (the agent cancelling a job) at known
// points: while it reads SSM, after an ssh-agent started but before the binary
// learned its pid, and while keys load into the agents. Each time the binary
// undoes what it had done and exits with one line, and pre-exit then finds
// nothing left of the job: no file, no socket, no ssh-agent, no helper
// process. Held points come from a delayed SSM answer and from ssh-agent and
// ssh-add wrappers that stop and wait.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { generateKey } from "./support/git-ssh-server.ts";
import { recordsDirectory } from "../src/job/record.ts";
import { assertNoSecretIn, compiledBinary, installedAgent, runHook, type Env } from "./support/job.ts";
import { agentsUnder, assertJobLeftNothing, jobScratch, plantKey, socketsUnder } from "./support/ssh-job.ts";

const REPO_KEY = generateKey("interrupt-repo");
const GLOBAL_KEY = generateKey("interrupt-global");
const GLOBAL_KEY_PATH = `${BASE}/keys/interrupt`;
const AGENT = { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: GLOBAL_KEY_PATH };

const Interrupt = suite<{ fixture: JobFixture }>("interrupt", {} as { fixture: JobFixture });

Interrupt.before(async (context) => {
  plantKey(REPO_KEY);
  plantKey(GLOBAL_KEY);
  context.fixture = await startJobFixture({
    [`${BASE}/app/env/APP_TOKEN`]: "interrupt-app-token",
    [`${BASE}/app/file/kubeconfig`]: "interrupt-kubeconfig-content",
    [`${BASE}/github.com_acme_app.git/ssh/key`]: REPO_KEY.privateKey,
    [GLOBAL_KEY_PATH]: GLOBAL_KEY.privateKey,
  });
});
Interrupt.after(({ fixture }) => fixture.close());
Interrupt.before.each(({ fixture }) => fixture.server.clearFaults());

const real = (program: string) => Bun.which(program, { PATH: "/usr/bin:/bin" })!;

/**
 * Where the wrapper stops: `ssh-agent` after the real agent started (its
 * output held back), `ssh-add` before loading a key. Each touches `reached`
 * and sleeps; the phase is signalled then.
 */
function holdingTools(hold: "ssh-agent" | "ssh-add"): { dir: string; reached: string } {
  const dir = mkdtempSync(join(tmpdir(), "bk-hold-"));
  const reached = join(dir, "reached");
  const scripts = {
    "ssh-agent": `out="$(${real("ssh-agent")} "$@")"; touch '${reached}'; sleep 30; printf '%s\\n' "$out"`,
    "ssh-add": `touch '${reached}'; sleep 30; exec ${real("ssh-add")} "$@"`,
  };
  writeFileSync(join(dir, hold), `#!/bin/bash\n${scripts[hold]}\n`, { mode: 0o755 });
  return { dir, reached };
}

/** Processes whose command line mentions `text`: a wrapper still sleeping would show here. */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

async function interruptAt(fixture: JobFixture, point: "reading SSM" | "ssh-agent" | "ssh-add", signal: "SIGTERM" | "SIGINT" = "SIGTERM") {
  const scratch = jobScratch();
  const tools = point === "reading SSM" ? undefined : holdingTools(point);
  try {
    const env: Env = fixture.jobEnv({
      ...scratch.env(),
      PATH: `${tools ? `${tools.dir}:` : ""}${process.env.PATH}`,
      BUILDKITE_REPO: "git@github.com:acme/app.git",
      BUILDKITE_PIPELINE_SLUG: "app",
    });
    if (point === "reading SSM") fixture.server.inject({ kind: "delay", delayMs: 20_000, times: 1 });
    const calls = fixture.server.callCount();
    const proc = Bun.spawn([compiledBinary(), "environment", "--defaults-file", installedAgent(AGENT).defaultsFile], { env, stdout: "pipe", stderr: "pipe" });
    const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    // Loading keys: both agents are up once both ssh-add wrappers are waiting.
    if (tools) await until(() => existsSync(tools.reached) && (point !== "ssh-add" || processesMentioning(tools.dir).length === 2), `the ${point} wrapper`);
    else await until(() => fixture.server.callCount() > calls, "the SSM request");
    const during = { agents: agentsUnder(scratch.root).length, entries: readdirSync(scratch.tmp).length };
    const started = performance.now();
    proc.kill(signal);
    const status = await proc.exited;
    const ms = performance.now() - started;
    const [stdout, stderr] = await output;
    assertNoSecretIn(stderr, "the interrupted phase's log");
    assert.is(status, 128 + (signal === "SIGTERM" ? 15 : 2), stderr);
    assert.is(stdout, "", "nothing to eval");
    const errors = stderr.split("\n").filter((line) => line.includes(":no_entry:"));
    assert.equal(errors.length, 1, stderr);
    assert.match(errors[0]!, new RegExp(`interrupted by ${signal}`));
    // What the phase itself left: nothing, before pre-exit even runs.
    const left = { agents: agentsUnder(scratch.root).length, entries: readdirSync(scratch.tmp), sockets: socketsUnder(scratch.root) };
    const preExit = await runHook("pre-exit", env, { agent: AGENT });
    assert.is(preExit.status, 0, preExit.stderr);
    assertJobLeftNothing(scratch, [REPO_KEY, GLOBAL_KEY]);
    assert.equal(readdirSync(scratch.tmp), [], "no secret-files or agent directory");
    if (tools) assert.equal(processesMentioning(tools.dir), [], "no wrapper (and so no ssh-agent parent or ssh-add) still running");
    console.log(
      `interrupt: ${signal} ${point === "reading SSM" ? "while reading SSM" : `in ${point}`}: ${during.agents} agents and ${during.entries} directories before, ` +
        `${left.agents} agents, ${left.entries.length} directories and ${left.sockets.length} sockets after the phase exited (${ms.toFixed(0)} ms), nothing after pre-exit`,
    );
    return { during, left };
  } finally {
    if (tools) rmSync(tools.dir, { recursive: true, force: true });
    scratch.remove();
  }
}

Interrupt("SIGTERM while the SSM read is outstanding: exits at once, nothing was started", async ({ fixture }) => {
  const { during, left } = await interruptAt(fixture, "reading SSM");
  assert.equal(during, { agents: 0, entries: 0 });
  assert.equal(left, { agents: 0, entries: [], sockets: [] });
});

Interrupt("SIGTERM after ssh-agent started but before its pid reached the binary: the agent is found by its socket and stopped", async ({ fixture }) => {
  const { during, left } = await interruptAt(fixture, "ssh-agent");
  assert.ok(during.agents >= 1, "an agent was running when the signal came");
  assert.is(during.entries, 2, "the secret-files and agent directories existed");
  assert.equal(left, { agents: 0, entries: [], sockets: [] });
});

Interrupt("SIGTERM while keys load: both agents stopped, files and sockets removed, ssh-add killed", async ({ fixture }) => {
  const { during, left } = await interruptAt(fixture, "ssh-add");
  assert.is(during.agents, 2, "both agents were running");
  assert.equal(left, { agents: 0, entries: [], sockets: [] });
});

Interrupt("SIGINT while keys load is undone the same way", async ({ fixture }) => {
  const { left } = await interruptAt(fixture, "ssh-add", "SIGINT");
  assert.equal(left, { agents: 0, entries: [], sockets: [] });
});

Interrupt("SIGKILL while keys load: the phase undoes nothing and prints nothing, and pre-exit stops both agents and removes every directory from the job's record alone", async ({ fixture }) => {
  const scratch = jobScratch();
  const tools = holdingTools("ssh-add");
  try {
    const env: Env = fixture.jobEnv({ ...scratch.env(), PATH: `${tools.dir}:${process.env.PATH}`, BUILDKITE_REPO: "git@github.com:acme/app.git", BUILDKITE_PIPELINE_SLUG: "app" });
    const record = join(recordsDirectory(), `${env.BUILDKITE_JOB_ID}.json`);
    const proc = Bun.spawn([compiledBinary(), "environment", "--defaults-file", installedAgent(AGENT).defaultsFile], { env, stdout: "pipe", stderr: "pipe" });
    const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await until(() => processesMentioning(tools.dir).length === 2, "both ssh-add wrappers");
    proc.kill("SIGKILL");
    assert.is(await proc.exited, 137);
    const [stdout, stderr] = await output;
    assertNoSecretIn(stderr, "the killed phase's log");
    assert.is(stdout, "", "nothing to eval: the job's variables name nothing");
    const left = { agents: agentsUnder(scratch.root).length, sockets: socketsUnder(scratch.root).length, entries: readdirSync(scratch.tmp).length };
    assert.equal(left, { agents: 2, sockets: 2, entries: 2 }, "both agents, their sockets, the agent and secret-files directories");
    assert.ok(existsSync(record), "the record was written before anything started");
    assert.is(statSync(record).mode & 0o777, 0o600);
    assert.is(statSync(recordsDirectory()).mode & 0o777, 0o700);
    // The test's own holding wrappers, not the job's: nothing the hook started.
    for (const pid of processesMentioning(tools.dir)) process.kill(pid, "SIGKILL");

    const preExit = await runHook("pre-exit", env, { agent: AGENT });
    assert.is(preExit.status, 0, preExit.stderr);
    assertJobLeftNothing(scratch, [REPO_KEY, GLOBAL_KEY]);
    assert.equal(readdirSync(scratch.tmp), [], "no secret-files or agent directory");
    assert.not.ok(existsSync(record), "pre-exit removed the record");
    console.log(`interrupt: SIGKILL while keys load: ${left.agents} agents, ${left.sockets} sockets and ${left.entries} directories after the kill, nothing after pre-exit`);
  } finally {
    rmSync(tools.dir, { recursive: true, force: true });
    scratch.remove();
  }
});

Interrupt.run();
