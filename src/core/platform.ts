// The binary is built for operators' Macs too (put, ls, doctor, history...),
// but hooks only ever run on Linux agents: on another system a hook command
// says so instead of starting ssh-agents or writing hooks it was not built for.

/** The commands that belong to an agent: the hook phases, git's credential helper and install. */
export const AGENT_COMMANDS = ["environment", "pre-checkout", "post-checkout", "post-command", "pre-exit", "git-credential", "install"];

/** Why `command` does not run on `platform`, or undefined when it does. */
export function platformRefusal(command: string, platform: string): string | undefined {
  if (platform === "linux" || !AGENT_COMMANDS.includes(command)) return undefined;
  return `${command} is for Buildkite agents on Linux, not ${platform}: on a workstation use the operator commands (doctor, ls, put, rm, history, rollback)`;
}
