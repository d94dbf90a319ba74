// The ssh-agent edge: start agents bound to sockets in a per-job 0700
// directory, load keys into them through stdin, and stop them again once
// /proc confirms a pid still belongs to the agent on our socket.
import type { Env } from "../core/env.ts";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename } from "../core/paths.ts";
import { AGENT_DIRECTORY_PREFIX, agentDirectoryParent, planAgentCleanup, socketPath, type AgentRef, type RunningAgent } from "./agents.ts";
import type { CleanupWork } from "../job/cleanup.ts";
import { JobError } from "../job/context.ts";
import { newDirectoryPath } from "../job/state.ts";
import { normaliseKey, type AgentPlan, type DeployKey } from "./keys.ts";
import { undoOnInterrupt } from "../core/interrupt.ts";
import type { Logger } from "../core/log.ts";

/** ssh-agent forks as soon as its socket is bound, and ssh-add talks to a local socket: both are quick or broken. */
const TOOL_TIMEOUT_MS = 10_000;
const STOP_WAIT_MS = 1_000;

function findProgram(name: string, env: Env): string {
  const path = Bun.which(name, { PATH: env.PATH ?? "/usr/bin:/bin" });
  if (!path) throw new JobError(`${name} is not on PATH: install OpenSSH's client tools (Debian: openssh-client) on the agent`);
  return path;
}

/**
 * What ssh-agent and ssh-add run with: none of the job's variables (they may
 * hold secrets, and /proc shows a process's environment), and no way to ask
 * for a passphrase: no askpass program, no DISPLAY, no terminal.
 */
function toolEnv(env: Env, socket?: string): Record<string, string> {
  return {
    PATH: env.PATH ?? "/usr/bin:/bin",
    SSH_ASKPASS_REQUIRE: "never",
    ...(socket ? { SSH_AUTH_SOCK: socket } : {}),
  };
}

async function runTool(argv: string[], env: Record<string, string>, stdin?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(argv, {
    env,
    // A stream, not a buffer: Bun would hand a buffer over as an in-memory file.
    stdin: stdin === undefined ? "ignore" : "pipe",
    stdout: "pipe",
    stderr: "pipe",
    // A new session has no controlling terminal, so nothing can prompt on
    // /dev/tty, not even in a job that runs in a PTY.
    detached: true,
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), TOOL_TIMEOUT_MS);
  // Its own session (detached), so its process group is its pid: an
  // interruption kills it before ssh-agent can fork an agent nobody knows of.
  const forget = undoOnInterrupt(async () => {
    // The child itself too: until it has called setsid() its process group
    // does not exist yet, and it would go on to start an agent after the
    // clean-up looked for one.
    for (const target of [proc.pid, -proc.pid]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // It exited between the signal and here: nothing to stop.
      }
    }
    // A killed process is listed until the kernel has torn it down: the
    // clean-up that follows, and whoever looks next, must not find it.
    await waitUntil(() => isGone(proc.pid) && !groupAlive(proc.pid));
  });
  if (proc.stdin) {
    proc.stdin.write(stdin!);
    await proc.stdin.end();
  }
  try {
    const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { status, stdout, stderr };
  } finally {
    clearTimeout(timer);
    forget();
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop()?.trim() || "no message";
}

/** Where this job's agent sockets will live, a 0700 directory of its own: chosen, and recorded, before it is made. */
export function agentDirectory(env: Env): string {
  return newDirectoryPath(agentDirectoryParent(env.TMPDIR), AGENT_DIRECTORY_PREFIX);
}

async function startAgent(directory: string, role: AgentPlan["role"], env: Env): Promise<RunningAgent> {
  const socket = socketPath(directory, role);
  const run = await runTool([findProgram("ssh-agent", env), "-a", socket, "-s"], toolEnv(env));
  const pid = /SSH_AGENT_PID=(\d+);/.exec(run.stdout)?.[1];
  if (run.status !== 0 || !pid) throw new JobError(`cannot start ssh-agent (${lastLine(run.stderr)}): check that OpenSSH's ssh-agent works on this agent`);
  return { role, socket, pid: Number(pid) };
}

async function addKey(agent: RunningAgent, key: DeployKey, env: Env): Promise<void> {
  // The key goes through stdin ("-"): never argv, never a file.
  const run = await runTool([findProgram("ssh-add", env), "-q", "-"], toolEnv(env, agent.socket), normaliseKey(key.value));
  if (run.status !== 0) {
    // ssh-add names the key "(stdin)" and never prints its content. A key it
    // cannot check asks for a passphrase, which fails without a terminal.
    const reason = /passphrase/i.test(run.stderr) ? "it asks for a passphrase, so it is encrypted or corrupt" : lastLine(run.stderr).replace(/^Error loading key "\(stdin\)": /, "");
    throw new JobError(`the deploy key ${key.path} could not be loaded (ssh-add: ${reason}): store a complete OpenSSH private key without a passphrase`);
  }
}

/**
 * Start one agent per plan and load its keys, in order. All or nothing: when
 * a key fails, every agent started here is stopped before the error goes on.
 */
export async function startAgents(plans: AgentPlan[], directory: string, env: Env, log: Logger): Promise<RunningAgent[]> {
  if (plans.length === 0) return [];
  mkdirSync(directory, { mode: 0o700 });
  // Interrupted half-way, an agent may be running before its pid is known: find each by its socket.
  undoOnInterrupt(async () => {
    await Promise.all(plans.map((plan) => stopAgent({ socket: socketPath(directory, plan.role) })));
    removeAgentDirectory(directory, log);
  });
  const started: RunningAgent[] = [];
  const results = await Promise.allSettled(
    plans.map(async (plan) => {
      const agent = await startAgent(directory, plan.role, env);
      started.push(agent);
      for (const key of plan.keys) await addKey(agent, key, env);
      log.debug(`${plan.role} ssh-agent (pid ${agent.pid}) holds ${plan.keys.map((key) => key.path).join(", then ")}`);
      return agent;
    }),
  );
  const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure) {
    await Promise.all(started.map((agent) => stopAgent(agent)));
    removeAgentDirectory(directory, log);
    throw failure.reason;
  }
  return results.map((result) => (result as PromiseFulfilledResult<RunningAgent>).value);
}

/** True when `pid` is an ssh-agent, alive, bound to `socket` (`ssh-agent -a <socket>`). */
function isAgentBoundTo(pid: number, socket: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return basename(argv[0] ?? "") === "ssh-agent" && argv.some((arg, i) => arg === "-a" && argv[i + 1] === socket);
  } catch {
    return false;
  }
}

/** The agent on `socket` when its pid variable was lost or is stale: a walk of /proc, only on that rare path. */
function findAgentBoundTo(socket: string): number | undefined {
  const pid = readdirSync("/proc").find((entry) => /^\d+$/.test(entry) && isAgentBoundTo(Number(entry), socket));
  return pid === undefined ? undefined : Number(pid);
}

/** A process's state letter and process group, from /proc; undefined once it is gone. */
function processStat(pid: number): { state: string; group: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the command name in parentheses: state, ppid, pgrp.
    const [state = "", , group = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, group: Number(group) };
  } catch {
    return undefined;
  }
}

function isGone(pid: number): boolean {
  // A zombie has exited; only its parent's wait is missing.
  const stat = processStat(pid);
  return !stat || stat.state === "Z";
}

/** True while a live process is left in process group `group`: a walk of /proc, only when undoing an interrupted phase. */
function groupAlive(group: number): boolean {
  return readdirSync("/proc").some((entry) => {
    const stat = /^\d+$/.test(entry) ? processStat(Number(entry)) : undefined;
    return stat?.group === group && stat.state !== "Z";
  });
}

/** Wait, a millisecond at a time, until `done()` or STOP_WAIT_MS have passed; true when it is done. */
async function waitUntil(done: () => boolean): Promise<boolean> {
  const deadline = performance.now() + STOP_WAIT_MS;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(1);
  }
  return true;
}

export type StopResult = "stopped" | "not running";

/** Stop the agent on `ref.socket`, but only after /proc confirms which process that is. */
export async function stopAgent(ref: AgentRef): Promise<StopResult> {
  const pid = ref.pid !== undefined && isAgentBoundTo(ref.pid, ref.socket) ? ref.pid : findAgentBoundTo(ref.socket);
  if (pid === undefined) return "not running";
  process.kill(pid, "SIGTERM");
  if (!(await waitUntil(() => isGone(pid)))) {
    process.kill(pid, "SIGKILL");
    await waitUntil(() => isGone(pid));
  }
  return "stopped";
}

/** Remove a job's agent directory, sockets included, after checking it is one this program made for this user. */
export function removeAgentDirectory(directory: string, log: Logger): void {
  let stat;
  try {
    stat = lstatSync(directory);
  } catch {
    return;
  }
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || !basename(directory).startsWith(AGENT_DIRECTORY_PREFIX)) {
    log.warn(`not removing ${directory}: it is not an agent directory this user created`);
    return;
  }
  rmSync(directory, { recursive: true, force: true });
}

/** pre-exit: stop every agent this job started, and only those, then remove their directories and forget them. */
export const stopJobAgents: CleanupWork = async ({ env, log }, record) => {
  const cleanup = planAgentCleanup(env, record);
  for (const agent of cleanup.agents) {
    log.debug(`ssh-agent on ${agent.socket}: ${await stopAgent(agent)}`);
  }
  for (const directory of cleanup.directories) removeAgentDirectory(directory, log);
  return cleanup.script;
};
