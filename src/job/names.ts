// Environment variable names from SSM keys: `<slug>/env/access-token` becomes
// ACCESS_TOKEN, as in the original hook. Names are validated before they can
// reach shell code, and names that would let a secret steer the hooks, the
// agent, git or the dynamic linker are refused.
import { isShellIdentifier } from "../core/shell.ts";

/** The original hook's mapping: upper-case, `-` to `_`. */
export function envNameForKey(key: string): string {
  return key.toUpperCase().replaceAll("-", "_");
}

/**
 * Names a secret may not set, and why: each would let whoever can write a
 * parameter take over something the job relies on.
 */
const PROTECTED_EXACT: Record<string, string> = {
  SSH_AUTH_SOCK: "the hooks manage the job's ssh-agent",
  SSH_AGENT_PID: "the hooks manage the job's ssh-agent",
  GIT_CONFIG_PARAMETERS: "the hooks register git's credential helper there",
  BASH_ENV: "bash would run the file it names in every script",
  ENV: "sh would run the file it names",
  PROMPT_COMMAND: "bash would run it",
  SHELLOPTS: "it changes how every bash script runs",
  BASHOPTS: "it changes how every bash script runs",
  IFS: "it changes how every shell script splits words",
  PATH: "it decides which programs the job runs",
  _: "bash overwrites it after every command",
};

const PROTECTED_PREFIXES: Array<[string, string]> = [
  ["ORIG_SSH_", "the hooks save the job's ssh-agent there"],
  ["AWS_PARAMSTORE_SECRETS_", "it configures these hooks"],
  ["AWS_SSM_SECRETS_", "it configures these hooks"],
  ["BK_SSM_SECRETS_", "it configures these hooks"],
  ["BUILDKITE_AGENT_", "it steers the Buildkite agent"],
  ["LD_", "it steers the dynamic linker"],
];

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** Map a key to its variable name and say whether a secret may set it. */
export function checkEnvKey(key: string): NameCheck {
  const name = envNameForKey(key);
  if (!isShellIdentifier(name)) {
    return { ok: false, reason: `${JSON.stringify(name)} is not a valid environment variable name (use letters, digits and _ and do not start with a digit)` };
  }
  const exact = PROTECTED_EXACT[name];
  if (exact) return { ok: false, reason: `${name} may not be set from a secret: ${exact}` };
  const prefix = PROTECTED_PREFIXES.find(([start]) => name.startsWith(start));
  if (prefix) return { ok: false, reason: `${name} may not be set from a secret: ${prefix[1]}` };
  return { ok: true, name };
}
