// Environment variable names from SSM keys: `<slug>/env/access-token` becomes
// ACCESS_TOKEN, as in the original hook. Names are validated before they can
// reach shell code, and a name that changes how the hooks, git, ssh, bash or
// the agent behave is refused: whoever can write a parameter in a shared slug
// must not be able to take over the job through it (docs/threat-model.md).
import { isShellIdentifier } from "../core/shell.ts";

/** The original hook's mapping: upper-case, `-` to `_`. */
export function envNameForKey(key: string): string {
  return key.toUpperCase().replaceAll("-", "_");
}

/** The defaults-file setting that lets secrets set protected names the operator lists. */
export const ALLOWED_NAMES_SETTING = "BK_SSM_SECRETS_ALLOWED_NAMES";

export interface ProtectedName {
  /** An exact name, or a prefix when it ends in `*`. */
  name: string;
  /** What a secret setting it could do. */
  reason: string;
  /** False when setting it cannot work or would break the hooks themselves: no setting lets it through. */
  allowable: boolean;
}

interface Group {
  allowable: boolean;
  reason: string;
  names: string[];
}

const names = (allowable: boolean, reason: string, list: string[]): Group => ({ allowable, reason, names: list });

/**
 * Every name a secret may not set, and why. One table: the hooks check it,
 * `put` checks it, and docs/protected-names.md documents it (a test keeps
 * them in step). Built on first use: the phases that only read settings
 * import this module and never look a name up.
 */
const groups = (): Group[] => [
  // The hooks' own state and settings.
  names(false, "the hooks manage the job's ssh-agents through it", ["SSH_AUTH_SOCK", "SSH_AGENT_PID", "ORIG_SSH_*"]),
  names(false, "the hooks register their git credential helper there", ["GIT_CONFIG_PARAMETERS"]),
  names(false, "it configures these hooks", ["BK_SSM_SECRETS_*", "AWS_PARAMSTORE_SECRETS_*", "AWS_SSM_SECRETS_*"]),
  names(true, "every Bun program the job runs reads it at start-up (BUN_OPTIONS preloads code into it); the hooks remove it for their own binary", ["BUN_*"]),
  names(true, "it changes which TLS servers the hooks' later SSM reads trust", ["NODE_TLS_REJECT_UNAUTHORIZED", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"]),
  // The agent.
  names(true, "the Buildkite agent reads its settings from BUILDKITE_* variables, and re-reads several after each hook (BUILDKITE_REPO, BUILDKITE_GIT_CLONE_FLAGS, ...)", ["BUILDKITE_*"]),
  // Programs git and ssh run.
  names(true, "git runs it to connect over ssh", ["GIT_SSH", "GIT_SSH_COMMAND"]),
  names(true, "it changes the options git passes to its ssh command", ["GIT_SSH_VARIANT"]),
  names(true, "git or ssh runs it to ask for a password", ["GIT_ASKPASS", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE"]),
  names(true, "ssh loads or runs it for security keys", ["SSH_SK_PROVIDER", "SSH_SK_HELPER"]),
  names(true, "git runs it to connect over git://", ["GIT_PROXY_COMMAND"]),
  names(true, "git runs its sub-commands from there", ["GIT_EXEC_PATH"]),
  names(true, "git copies hooks from there into every new repository, then runs them", ["GIT_TEMPLATE_DIR"]),
  names(true, "git runs it to show a diff", ["GIT_EXTERNAL_DIFF"]),
  names(true, "git runs it as its pager", ["GIT_PAGER", "PAGER", "LESSOPEN", "LESSCLOSE"]),
  names(true, "git runs it as its editor", ["GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "EDITOR", "VISUAL"]),
  // git's configuration, which can name programs to run (core.sshCommand, core.fsmonitor, ...).
  names(true, "it changes git's configuration, which can name programs git runs", [
    "GIT_CONFIG",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_KEY_*",
    "GIT_CONFIG_VALUE_*",
  ]),
  names(true, "git reads its global configuration from there", ["HOME", "XDG_CONFIG_HOME"]),
  // Which repository git works on.
  names(true, "it changes which repository, objects or refs git works on", [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_QUARANTINE_PATH",
  ]),
  // What git trusts and how it connects.
  names(true, "it changes how git checks the server it sends credentials to", ["GIT_SSL_*"]),
  names(true, "it changes which transports git may use (ext:: runs commands)", ["GIT_ALLOW_PROTOCOL", "GIT_PROTOCOL_FROM_USER"]),
  names(true, "git writes its traffic, authorization headers included, to the job's log", ["GIT_TRACE*", "GIT_CURL_VERBOSE"]),
  // The dynamic linker and the C library.
  names(true, "it steers the dynamic linker", ["LD_*"]),
  names(true, "the C library loads code from it", ["GCONV_PATH"]),
  // bash: read-only variables, an export of which fails and stops the hook half-way.
  names(false, "it is read-only in bash: exporting it fails", ["UID", "EUID", "PPID", "BASHOPTS", "SHELLOPTS", "BASH_VERSINFO"]),
  // bash: variables bash keeps itself, where an assignment is ignored or changes bash's own state.
  names(false, "bash keeps it itself", [
    "BASH",
    "BASHPID",
    "BASH_*",
    "DIRSTACK",
    "EPOCHREALTIME",
    "EPOCHSECONDS",
    "FUNCNAME",
    "GROUPS",
    "HISTCMD",
    "LINENO",
    "OPTIND",
    "RANDOM",
    "SRANDOM",
    "SECONDS",
    "_",
  ]),
  // bash: variables that change how every later script runs.
  names(false, "bash runs the file it names in every script", ["BASH_ENV", "ENV"]),
  names(false, "bash runs it before each prompt", ["PROMPT_COMMAND"]),
  names(false, "bash expands it, command substitutions included, before every command it traces", ["PS4"]),
  names(false, "it changes how every bash script splits words, expands names or runs", ["IFS", "CDPATH", "GLOBIGNORE", "POSIXLY_CORRECT", "FUNCNEST", "TMOUT", "EXECIGNORE"]),
  names(true, "it decides which programs the hooks and the job run", ["PATH"]),
];

/** A prefix entry with its stem (the name without the `*`), cut once rather than at every name checked. */
type Prefix = { stem: string; entry: ProtectedName };

let table: { all: readonly ProtectedName[]; exact: Map<string, ProtectedName>; prefixes: Prefix[] } | undefined;

// Plain loops: spreading, mapping and sorting the table cost a job ~1.5 ms
// of first-use work in the compiled binary (measured), for 150 names.
function protectedTable() {
  if (table) return table;
  const all: ProtectedName[] = [];
  const exact = new Map<string, ProtectedName>();
  const prefixes: Prefix[] = [];
  for (const group of groups()) {
    for (const name of group.names) {
      const entry = { name, reason: group.reason, allowable: group.allowable };
      all.push(entry);
      if (name.endsWith("*")) prefixes.push({ stem: name.slice(0, -1), entry });
      else exact.set(name, entry);
    }
  }
  return (table = { all, exact, prefixes });
}

/** The whole table, in its order. */
export function protectedNames(): readonly ProtectedName[] {
  return protectedTable().all;
}

/**
 * Names under a protected prefix that stay open: credentials for Buildkite's
 * own tools that the job runs (test collectors, the bk CLI). The agent never
 * reads them.
 */
export const JOB_CREDENTIALS = new Set(["BUILDKITE_API_TOKEN", "BUILDKITE_ANALYTICS_TOKEN"]);

/** The table's entry for `name`, or undefined when a secret may set it. */
export function protectionOf(name: string): ProtectedName | undefined {
  if (JOB_CREDENTIALS.has(name)) return undefined;
  const { exact, prefixes } = protectedTable();
  const found = exact.get(name);
  if (found) return found;
  // The longest matching prefix, the most specific, gives the reason.
  let longest: Prefix | undefined;
  for (const prefix of prefixes) {
    if (name.startsWith(prefix.stem) && prefix.stem.length > (longest?.stem.length ?? -1)) longest = prefix;
  }
  return longest?.entry;
}

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/**
 * Map a key to its variable name and say whether a secret may set it.
 * `allowed` holds the protected names the operator let through (ALLOWED_NAMES_SETTING).
 */
export function checkEnvKey(key: string, allowed: ReadonlySet<string> = new Set()): NameCheck {
  const name = envNameForKey(key);
  if (!isShellIdentifier(name)) {
    return { ok: false, reason: `${JSON.stringify(name)} is not a valid environment variable name (use letters, digits and _ and do not start with a digit)` };
  }
  const protection = protectionOf(name);
  if (!protection || (protection.allowable && allowed.has(name))) return { ok: true, name };
  const how = protection.allowable ? ` (to let secrets set it, list ${name} in ${ALLOWED_NAMES_SETTING} in the agent's defaults file)` : "";
  return { ok: false, reason: `${name} may not be set from a secret: ${protection.reason}${how}` };
}

/** How a setting lists names: spaces, tabs, commas or colons (not \s, whose Unicode table costs a phase's start-up). */
const isListSeparator = (character: string) => character === " " || character === "\t" || character === "," || character === ":";

/**
 * The entries of a list setting, separated by runs of spaces, tabs, commas or
 * colons. Written out rather than split on a regular expression: the
 * environment phase reads two such settings before its first request, and a
 * first regular expression costs ~0.5 ms.
 */
export function splitList(value: string): string[] {
  const entries: string[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && !isListSeparator(value[i]!)) continue;
    if (i > start) entries.push(value.slice(start, i));
    start = i + 1;
  }
  return entries;
}

/** Read ALLOWED_NAMES_SETTING: names separated by spaces, commas or colons, mapped as keys are. Throws on a name that is not one. */
export function parseAllowedNames(value: string): Set<string> {
  const allowed = new Set<string>();
  for (const entry of splitList(value)) {
    const name = envNameForKey(entry);
    if (!isShellIdentifier(name)) throw new Error(`${JSON.stringify(entry)} is not a variable name`);
    allowed.add(name);
  }
  return allowed;
}
