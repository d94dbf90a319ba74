// The pre-checkout probe: can git reach the repository with this ssh-agent?
// `git ls-remote` with no way to prompt, bounded by a deadline.
import type { Env } from "../core/env.ts";
import type { AgentRef } from "./agents.ts";

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** The job's environment, pointed at `agent`, with every prompt git or ssh could show turned off. */
function probeEnv(env: Env, agent: AgentRef): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name !== "DISPLAY" && name !== "SSH_ASKPASS") result[name] = value;
  }
  return {
    ...result,
    SSH_AUTH_SOCK: agent.socket,
    SSH_AGENT_PID: agent.pid === undefined ? "" : String(agent.pid),
    GIT_TERMINAL_PROMPT: "0",
    SSH_ASKPASS_REQUIRE: "never",
  };
}

export async function probeRepository(repository: string, env: Env, agent: AgentRef, timeoutMs: number): Promise<ProbeResult> {
  const git = Bun.which("git", { PATH: env.PATH ?? "/usr/bin:/bin" });
  if (!git) return { ok: false, reason: "git is not on PATH" };
  const proc = Bun.spawn([git, "ls-remote", "--", repository, "HEAD"], {
    env: probeEnv(env, agent),
    // Not the build directory: a previous checkout's .git/config must not
    // steer the probe.
    cwd: "/",
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    // A session of its own: no terminal for ssh to ask a question on (so a
    // prompt fails at once, as in BatchMode, whatever GIT_SSH_COMMAND says),
    // and a process group the deadline can kill whole, ssh included.
    detached: true,
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      // The group ended on its own meanwhile.
    }
  }, timeoutMs);
  try {
    const [stderr, status] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (timedOut) return { ok: false, reason: `git ls-remote did not finish within ${timeoutMs / 1000} s` };
    if (status === 0) return { ok: true };
    const lines = stderr.split("\n").map((line) => line.trim()).filter(Boolean);
    // git's own closing advice says nothing; ssh's or the host's line before it does.
    const telling = lines.find((line) => !/^fatal: Could not read from remote repository|^Please make sure you have the correct access rights|^and the repository exists/.test(line));
    return { ok: false, reason: `git ls-remote failed: ${(telling ?? `exit status ${status}`).slice(0, 200)}` };
  } finally {
    clearTimeout(timer);
  }
}
