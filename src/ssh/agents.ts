// The job's ssh-agents across the hook phases: the variables that name them,
// when the job switches to the slug agent and back, and which agents pre-exit
// may stop. Pure: sshagent.ts handles the processes, the phases the order.
import type { Env } from "../core/env.ts";
import { basename, dirname, isAbsolute } from "../core/paths.ts";
import type { AgentRole } from "./keys.ts";
import type { JobRecord } from "../job/record.ts";
import { exportStatement, unsetStatement } from "../core/shell.ts";

/** The variables of the original hook: the compatibility contract. */
export const AGENT_VARIABLES = {
  /** The default agent, holding AWS_PARAMSTORE_SECRETS_GLOBAL_SSH, and whatever agent the job uses now. */
  default: { socket: "SSH_AUTH_SOCK", pid: "SSH_AGENT_PID" },
  /** The agent holding the repository and pipeline keys. */
  slug: { socket: "AWS_PARAMSTORE_SECRETS_AUTH_SOCK", pid: "AWS_PARAMSTORE_SECRETS_AGENT_PID" },
  /** The agent pre-checkout switched away from. */
  saved: { socket: "ORIG_SSH_AUTH_SOCK", pid: "ORIG_SSH_AGENT_PID" },
} as const;

type AgentVariables = (typeof AGENT_VARIABLES)[keyof typeof AGENT_VARIABLES];

export interface RunningAgent {
  role: AgentRole;
  socket: string;
  pid: number;
}

/** An agent as the variables name it; the pid is only a claim until /proc confirms it. */
export interface AgentRef {
  socket: string;
  pid?: number;
}

/** Each job's agents live in their own 0700 directory: `<TMPDIR>/bk-ssm-secrets-agents-XXXXXX/<role>.sock`. */
export const AGENT_DIRECTORY_PREFIX = "bk-ssm-secrets-agents-";
const SOCKET_NAMES = new Set(["slug.sock", "default.sock"]);
// A Unix socket's path must fit sun_path (108 bytes on Linux, NUL included).
const SOCKET_PATH_MAX = 107;

/**
 * A socket's path in an agent directory, which newDirectoryPath made
 * (../job/state.ts) and so is normalised: no join needed. Also the length of
 * one, for agentDirectoryParent below.
 */
export function socketPath(directory: string, role: AgentRole): string {
  return `${directory}/${role}.sock`;
}

/** Where to create the agent directory: TMPDIR, unless a socket path there would be too long to bind. */
export function agentDirectoryParent(tmpdir: string | undefined): string {
  const parent = tmpdir && isAbsolute(tmpdir) ? tmpdir.replace(/\/+$/, "") || "/" : "/tmp";
  // As long as newDirectoryPath's join could make it, or longer (it also resolves `.` and `..`).
  const longest = socketPath(`${parent === "/" ? "" : parent}/${AGENT_DIRECTORY_PREFIX}XXXXXX`, "default");
  // sun_path counts bytes: a TMPDIR with é in it is longer than its length in characters.
  return new TextEncoder().encode(longest).length <= SOCKET_PATH_MAX ? parent : "/tmp";
}

/** True for a socket this program creates for a job's agent, by its name alone. */
export function isJobAgentSocket(path: string | undefined): path is string {
  return Boolean(path && isAbsolute(path) && SOCKET_NAMES.has(basename(path)) && basename(dirname(path)).startsWith(AGENT_DIRECTORY_PREFIX));
}

function parsePid(value: string | undefined): number | undefined {
  return value && /^[1-9][0-9]*$/.test(value) ? Number(value) : undefined;
}

function agentOf(env: Env, variables: AgentVariables): AgentRef | undefined {
  const socket = env[variables.socket];
  return socket ? { socket, pid: parsePid(env[variables.pid]) } : undefined;
}

function pointAt(variables: AgentVariables, socket: string | undefined, pid: string | number | undefined): string {
  const set = (name: string, value: string | number | undefined) => (value === undefined || value === "" ? unsetStatement(name) : exportStatement(name, String(value)));
  return set(variables.socket, socket) + set(variables.pid, pid);
}

/** environment: export the agents it started under the original hook's names. */
export function exportAgents(agents: RunningAgent[]): string {
  return agents.map((agent) => pointAt(AGENT_VARIABLES[agent.role], agent.socket, agent.pid)).join("");
}

/** pre-checkout: remember the agent in use, so post-checkout or post-command can go back to it. */
export function saveCurrentAgent(env: Env): string {
  const { default: current, saved } = AGENT_VARIABLES;
  return exportStatement(saved.socket, env[current.socket] ?? "") + exportStatement(saved.pid, env[current.pid] ?? "");
}

export type SwitchDecision = { probe: AgentRef } | { keep: string };

/**
 * pre-checkout: whether the slug agent is worth probing for the checkout, or
 * why the current agent stays. The repository's URL is read only when the
 * slug has an agent: most jobs have none, and that first read costs ~0.4 ms.
 */
export function decideSwitch(env: Env, repositoryUsesSsh: () => boolean): SwitchDecision {
  const slug = agentOf(env, AGENT_VARIABLES.slug);
  if (!slug) return { keep: "no deploy key in the repository or pipeline slug" };
  if (!repositoryUsesSsh()) return { keep: "BUILDKITE_REPO is not an SSH URL, so no deploy key is needed" };
  return { probe: slug };
}

export function switchTo(agent: AgentRef): string {
  return pointAt(AGENT_VARIABLES.default, agent.socket, agent.pid);
}

/**
 * post-checkout and post-command: go back to the saved agent when the switch
 * to the slug agent is still in effect, and forget the saved one. Returns
 * nothing to do otherwise, so running it twice is harmless.
 */
export function restoreSavedAgent(env: Env): string {
  const { default: current, slug, saved } = AGENT_VARIABLES;
  if (env[saved.socket] === undefined || !env[slug.socket] || env[current.socket] !== env[slug.socket]) return "";
  return pointAt(current, env[saved.socket], env[saved.pid]) + unsetStatement(saved.socket) + unsetStatement(saved.pid);
}

/**
 * What post-checkout and post-command print: the restore happens after the
 * checkout, or, with the original's run-during-command option, only after the
 * command.
 */
export function restoreAfter(phase: "post-checkout" | "post-command", env: Env, runDuringCommand: boolean): string {
  return phase === (runDuringCommand ? "post-command" : "post-checkout") ? restoreSavedAgent(env) : "";
}

/**
 * Whether planAgentCleanup would find anything to stop, remove or forget,
 * answered from the same variables and record without building the plan:
 * pre-exit loads the code that stops agents only when this is true.
 */
export function namesAnyAgent(env: Env, record: Pick<JobRecord, "sockets" | "agentDirectories">): boolean {
  const { default: current, slug, saved } = AGENT_VARIABLES;
  if (record.sockets.length > 0 || record.agentDirectories.length > 0 || isJobAgentSocket(env[current.socket])) return true;
  return env[slug.socket] !== undefined || env[slug.pid] !== undefined || env[saved.socket] !== undefined || env[saved.pid] !== undefined;
}

export interface AgentCleanup {
  /** Agents this job started, by the socket the variables name: each stopped only once /proc confirms it. */
  agents: AgentRef[];
  /** Their directories, to remove afterwards. */
  directories: string[];
  /** Shell code that forgets them. */
  script: string;
}

/**
 * pre-exit: which agents are this job's (their sockets are in a job agent
 * directory; any other agent, such as the host's, is left alone) and how the
 * variables look afterwards. Works from whatever is left after a phase failed
 * half-way: a variable may be missing, or name an agent that is gone.
 */
export function planAgentCleanup(env: Env, record: Pick<JobRecord, "sockets" | "agentDirectories"> = { sockets: [], agentDirectories: [] }): AgentCleanup {
  const { default: current, slug, saved } = AGENT_VARIABLES;
  const refs = [slug, current, saved].map((variables) => agentOf(env, variables)).filter((ref): ref is AgentRef => isJobAgentSocket(ref?.socket));
  const bySocket = new Map(refs.map((ref) => [ref.socket, ref]));
  // The record's sockets (an environment phase killed before it printed) have no pid: /proc is walked for them.
  for (const socket of record.sockets) if (isJobAgentSocket(socket) && !bySocket.has(socket)) bySocket.set(socket, { socket });
  const agents = [...bySocket.values()];

  let script = "";
  if (isJobAgentSocket(env[current.socket])) {
    // The job's default agent is about to stop; go back to the agent the job
    // had before, when that was not one of ours, or to none.
    const before = env[saved.socket];
    script += isJobAgentSocket(before) ? pointAt(current, undefined, undefined) : pointAt(current, before, env[saved.pid]);
  }
  for (const name of [slug.socket, slug.pid, saved.socket, saved.pid]) {
    if (env[name] !== undefined) script += unsetStatement(name);
  }
  return { agents, directories: [...new Set([...agents.map((agent) => dirname(agent.socket)), ...record.agentDirectories])], script };
}
