// Variables of this project's prefixes that mean nothing to it: a typo of a
// setting (SECRET_PATH for SECRETS_PATH) or a name only the Python hook knew
// (AWS_PARAMSTORE_SECRETS_PATH) silently leaves a setting at its default, so
// each is named, with the nearest known name, in the job log and by doctor.
// Pure: the callers pass the job's environment and the defaults file.
import { closest } from "../core/closest.ts";
import type { Env } from "../core/env.ts";
import { SETTINGS, type Defaults } from "./config.ts";

const PREFIXES = ["AWS_PARAMSTORE_SECRETS_", "AWS_SSM_SECRETS_", "BK_SSM_SECRETS_"];

/** Variables of these prefixes that configure the hooks without being settings: suggested like settings. */
const HOOK_VARIABLES = [
  // The hooks do nothing unless it is 1 (hooks/lib/run-phase.bash).
  "AWS_SSM_SECRETS_PLUGIN_ENABLED",
  // The binary the hooks run instead of the one on PATH.
  "BK_SSM_SECRETS_BIN",
  "BK_SSM_SECRETS_DEFAULTS_FILE",
  "BK_SSM_SECRETS_OLD_DEFAULTS_FILE",
  // In the defaults file: which agent settings a pipeline's env may override,
  // and which protected names secrets may set.
  "BK_SSM_SECRETS_PIPELINE_OVERRIDES",
  "BK_SSM_SECRETS_ALLOWED_NAMES",
  // The README's install snippet: which release to install, and from where.
  "BK_SSM_SECRETS_VERSION",
  "BK_SSM_SECRETS_RELEASES_URL",
];

/** Variables the hooks export to the job themselves (or the Python hook did): known, never suggested. */
const EXPORTED_VARIABLES = [
  "BK_SSM_SECRETS_FILES_DIR",
  "AWS_PARAMSTORE_SECRETS_AUTH_SOCK",
  "AWS_PARAMSTORE_SECRETS_AGENT_PID",
  // The Python hook's agents before it had one slug agent.
  "AWS_PARAMSTORE_SECRETS_REPO_AUTH_SOCK",
  "AWS_PARAMSTORE_SECRETS_REPO_AGENT_PID",
  "AWS_PARAMSTORE_SECRETS_PROJECT_AUTH_SOCK",
  "AWS_PARAMSTORE_SECRETS_PROJECT_AGENT_PID",
];

const RUN_SSH_AGENT = SETTINGS.runSshAgentDuringCommand.variable;

/** Names the Python hook or its install script read, which these hooks do not: what to set instead. */
const OLD_NAMES: Record<string, string> = {
  AWS_PARAMSTORE_SECRETS_PATH: `the Python hook's install script read it once to write ${SETTINGS.basePath.variable}; the hooks read ${SETTINGS.basePath.variable} (\`bk-ssm-secrets install --base-path\` writes it to the defaults file)`,
  // Names the run-during-command option had in the Python hook's early 2021 versions.
  AWS_PARAMSTORE_SECRETS_RUN_SSH_AGENT_DURING_COMMAND: `an early name of ${RUN_SSH_AGENT}, which the Python hook itself stopped reading: set ${RUN_SSH_AGENT}=1 to keep the slug's ssh-agent through the command`,
  AWS_SSM_SECRETS_RUN_SSH_AGENT_DURING_COMMAND: `an early name of ${RUN_SSH_AGENT}, which the Python hook itself stopped reading: set ${RUN_SSH_AGENT}=1 to keep the slug's ssh-agent through the command`,
};

/** Every name of these prefixes the hooks know: the settings, then the other variables they use. */
export function knownVariables(): string[] {
  return [...Object.values(SETTINGS).map((setting) => setting.variable), ...HOOK_VARIABLES, ...EXPORTED_VARIABLES];
}

export interface UnknownVariable {
  variable: string;
  /** "the job's environment" or the defaults file's path. */
  where: string;
  /** One line: what the variable is and what to set instead. Never its value. */
  message: string;
}

function explain(variable: string, where: string): string {
  const old = OLD_NAMES[variable];
  if (old) return `${variable} (in ${where}) is not read by bk-ssm-secrets: ${old}`;
  const suggestion = closest(variable, [...Object.values(SETTINGS).map((setting) => setting.variable), ...HOOK_VARIABLES]);
  return `${variable} (in ${where}) is not a bk-ssm-secrets setting, so it changes nothing: did you mean ${suggestion}?`;
}

/** Each variable of the project's prefixes, in the environment or the defaults file, that the hooks do not know. */
export function unknownVariables(env: Env, defaults: Pick<Defaults, "path" | "values">): UnknownVariable[] {
  // Every job pays this check: names of other prefixes are passed over before
  // anything is built for them (a job's environment holds a hundred or more).
  const ours = (names: string[]) => names.filter((name) => PREFIXES.some((prefix) => name.startsWith(prefix)));
  const sources: Array<[string, string[]]> = [
    ["the job's environment", ours(Object.keys(env)).filter((name) => env[name] !== undefined)],
    [defaults.path, ours(Object.keys(defaults.values))],
  ];
  if (sources.every(([, names]) => names.length === 0)) return [];
  const known = new Set(knownVariables());
  return sources.flatMap(([where, names]) =>
    names
      .filter((name) => !known.has(name))
      .sort()
      .map((variable) => ({ variable, where, message: explain(variable, where) })),
  );
}
