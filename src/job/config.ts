// Configuration: the environment variables of the original hook, with its
// defaults, plus the defaults file an install step writes. For an operator's
// command the environment wins over the file, the file over the built-in
// default. For a job, the settings that decide what it may read (AGENT_ONLY)
// come from the defaults file alone: the job's environment carries the
// pipeline's `env:`, which the hooks cannot tell apart from the agent's own
// variables, so the file the agent's hooks name is the authority, and only it
// can let the job's environment override one of them (PIPELINE_OVERRIDES).
import type { Env } from "../core/env.ts";
import { readSmallFile } from "../core/files.ts";
import { onlyLettersDigitsAnd } from "../core/chars.ts";
import { isShellIdentifier } from "../core/shell.ts";
import { ALLOWED_NAMES_SETTING, parseAllowedNames, splitList } from "./names.ts";

export const DEFAULTS_FILE = "/etc/bk-ssm-secrets/defaults.env";

/** Every setting, the variable that sets it, and its built-in default. */
export const SETTINGS = {
  basePath: { variable: "AWS_PARAMSTORE_SECRETS_SECRETS_PATH", fallback: "/vendors/buildkite" },
  defaultKey: { variable: "AWS_PARAMSTORE_SECRETS_DEFAULT_KEY", fallback: "global" },
  verbose: { variable: "AWS_PARAMSTORE_SECRETS_VERBOSE", fallback: "0" },
  globalSsh: { variable: "AWS_PARAMSTORE_SECRETS_GLOBAL_SSH", fallback: "" },
  runSshAgentDuringCommand: { variable: "AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND", fallback: "0" },
  timeoutSeconds: { variable: "AWS_PARAMSTORE_SECRETS_TIMEOUT", fallback: "30" },
  filesDir: { variable: "AWS_PARAMSTORE_SECRETS_FILES_DIR", fallback: "" },
  dumpEnv: { variable: "AWS_PARAMSTORE_SECRETS_DUMP_ENV", fallback: "0" },
  skipSshKeyNotFoundWarning: { variable: "AWS_PARAMSTORE_SECRETS_SKIP_SSH_KEY_NOT_FOUND_WARNING", fallback: "0" },
} as const;

export type SettingName = keyof typeof SETTINGS;
export type SettingSource = "environment" | "defaults file" | "default" | "command line";

/**
 * The settings that decide what a job may read or where its secrets go: taken
 * from the defaults file, never from a job's environment unless that file
 * allows it. The others (verbose, dump-env, timeout, the missing-key warning,
 * run-during-command) only change what the job itself sees, so a pipeline may
 * still set them.
 */
const AGENT_ONLY_NAMES: readonly SettingName[] = ["basePath", "defaultKey", "globalSsh", "filesDir"];
export const AGENT_ONLY: ReadonlySet<SettingName> = new Set(AGENT_ONLY_NAMES);

// The loops below resolve a job's settings before its first request, in code
// that runs once and cold: plain indexed loops over arrays, without
// iterators, array spreads or array callbacks, cost it ~0.5 ms less (resolveConfig
// cold in a compiled probe: 1.1-1.3 -> 0.6-0.7 ms).
const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
const AGENT_ONLY_VARIABLES = AGENT_ONLY_NAMES.map((name) => SETTINGS[name].variable);

/**
 * In the defaults file only: the agent-only variables a job's environment may
 * override, separated by spaces, commas or ':', or `all`. For fleets that set
 * them per pipeline, as the original hook allowed.
 */
export const PIPELINE_OVERRIDES = "BK_SSM_SECRETS_PIPELINE_OVERRIDES";
/** Names the defaults file for operator commands; the hooks name it on the command line and a job's value is refused. */
export const DEFAULTS_FILE_VARIABLE = "BK_SSM_SECRETS_DEFAULTS_FILE";

/** Whose environment the settings are read from: an operator's shell, or a job's. */
export type Trust = "operator" | "job";

/** A job's variable that tried to change an agent-only setting and was ignored. */
export interface RefusedOverride {
  variable: string;
  /** Why, for the job's log: what was used instead and how the operator could allow it. */
  reason: string;
}

/**
 * The settings a job may set for itself (none is AGENT_ONLY): all that the
 * phases after `environment` use, so they resolve only these.
 */
export interface JobSettings {
  verbose: boolean;
  runSshAgentDuringCommand: boolean;
  /** No warning when an SSH repository has no deploy key anywhere. */
  skipSshKeyNotFoundWarning: boolean;
  /** Overall deadline for a phase's network work: its SSM reads, or the pre-checkout probe of the repository. */
  timeoutMs: number;
  /** List what the job received (names and slugs, never values). */
  dumpEnv: boolean;
}

export interface Config extends JobSettings {
  /** The root of the tree, without a trailing slash ("" for the root itself). */
  basePath: string;
  defaultKey: string;
  /** Full SSM names of the deploy keys every job gets. */
  globalSshKeys: string[];
  /** Where the per-job directory of secret files is made ("" for TMPDIR). */
  filesDir: string;
  /** Where each setting's value came from, for `doctor` and verbose logs. */
  sources: Record<SettingName, SettingSource>;
  /** A job's variables that tried to change an agent-only setting, for the environment phase to report. */
  refused: RefusedOverride[];
  /** Protected names the operator lets secrets set (ALLOWED_NAMES_SETTING, from the defaults file only). */
  allowedNames: ReadonlySet<string>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Read a defaults file of `export NAME="value"` / `NAME=value` lines, as the
 * original install step wrote it. Only assignments are understood: the file
 * is data, never executed.
 */
export function parseDefaultsFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("export") && isBlank(line[6])) line = line.slice(6).trimStart();
    const equals = line.indexOf("=");
    const name = line.slice(0, equals);
    if (equals < 1 || !isShellIdentifier(name)) continue;
    values[name] = unquote(line.slice(equals + 1));
  }
  return values;
}

const isBlank = (character: string | undefined) => character === " " || character === "\t";

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
  }
  return value;
}

/** Absolute, and only SSM's characters: letters, digits, `_ . - /` (written out: see core/chars.ts). */
function isSsmPath(path: string): boolean {
  return path.startsWith("/") && onlyLettersDigitsAnd(path, "_.-/", 1);
}

/** The first levels SSM keeps for itself (/aws, /ssm), in any case. */
const RESERVED_FIRST_LEVELS = new Set(["aws", "ssm"]);
/** Whether `name` can be a slug: one level of an SSM name, letters, digits, `_ . -`. */
export function isSlugName(name: string): boolean {
  return name !== "" && onlyLettersDigitsAnd(name, "_.-");
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);

function truthy(value: string): boolean {
  return TRUE_WORDS.has(value.trim().toLowerCase());
}

/** Normalise and validate BASE_PATH: absolute, SSM's characters, no trailing slash. */
export function normaliseBasePath(value: string, variable: string): string {
  const path = value.trim();
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  const trimmed = path.slice(0, end);
  if (!isSsmPath(path) || trimmed.includes("//")) {
    throw new ConfigError(
      `${variable}=${JSON.stringify(path)} is not an absolute SSM path: use a path such as /vendors/buildkite (letters, digits, _ . - and /)`,
    );
  }
  const firstLevel = trimmed.slice(1).split("/", 1)[0]!;
  if (RESERVED_FIRST_LEVELS.has(firstLevel.toLowerCase())) {
    throw new ConfigError(`${variable}=${JSON.stringify(path)} starts with a prefix SSM reserves (/aws, /ssm): choose another base path`);
  }
  return trimmed;
}

/** The agent-only variables the defaults file lets a job's environment override. */
export function allowedOverrides(defaults: Record<string, string>): Set<string> {
  const listed = splitList(defaults[PIPELINE_OVERRIDES] ?? "");
  let all = false;
  for (let i = 0; i < listed.length; i++) if (listed[i]!.toLowerCase() === "all") all = true;
  const allowed = new Set<string>();
  for (let i = 0; i < AGENT_ONLY_VARIABLES.length; i++) {
    const variable = AGENT_ONLY_VARIABLES[i]!;
    if (all || listed.indexOf(variable) >= 0) allowed.add(variable);
  }
  return allowed;
}

type JobSettingName = "verbose" | "runSshAgentDuringCommand" | "skipSshKeyNotFoundWarning" | "timeoutSeconds" | "dumpEnv";

/** The settings a job may set for itself, from their variables' raw values. */
function jobSettings(raw: Pick<Record<SettingName, string>, JobSettingName>): JobSettings {
  const timeoutSeconds = Number(raw.timeoutSeconds);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new ConfigError(`${SETTINGS.timeoutSeconds.variable}=${JSON.stringify(raw.timeoutSeconds)} is not a positive number of seconds`);
  }
  return {
    verbose: truthy(raw.verbose),
    runSshAgentDuringCommand: raw.runSshAgentDuringCommand.trim() === "1",
    skipSshKeyNotFoundWarning: raw.skipSshKeyNotFoundWarning.trim() === "1",
    timeoutMs: Math.round(timeoutSeconds * 1000),
    dumpEnv: truthy(raw.dumpEnv),
  };
}

/** Each setting's value: the defaults file's, else the built-in default; then the environment's, where `trust` allows. */
function rawSettings(env: Env, defaults: Record<string, string>, trust: Trust) {
  const sources = {} as Record<SettingName, SettingSource>;
  const raw = {} as Record<SettingName, string>;
  const refused: RefusedOverride[] = [];
  const allowed = allowedOverrides(defaults);
  for (let i = 0; i < SETTING_NAMES.length; i++) {
    const name = SETTING_NAMES[i]!;
    const setting = SETTINGS[name];
    const fromEnv = env[setting.variable];
    const fromFile = defaults[setting.variable];
    const fileHasIt = fromFile !== undefined && fromFile !== "";
    raw[name] = fileHasIt ? fromFile : setting.fallback;
    sources[name] = fileHasIt ? "defaults file" : "default";
    if (fromEnv === undefined || fromEnv === "") continue;
    if (trust === "operator" || !AGENT_ONLY.has(name) || allowed.has(setting.variable)) {
      raw[name] = fromEnv;
      sources[name] = "environment";
    } else if (fromEnv.trim() !== raw[name].trim()) {
      refused.push({
        variable: setting.variable,
        reason: `the agent's ${sources[name] === "default" ? "default" : "defaults file's"} value is used; an operator can allow this override with ${PIPELINE_OVERRIDES} in the defaults file`,
      });
    }
  }
  return { raw, sources, refused };
}

/**
 * The settings a job may set for itself, and nothing else: the phases after
 * `environment` neither read the tree nor start anything from it, so the
 * agent-only settings and the protected-names list are not theirs to check. Pure.
 */
export function resolveJobSettings(env: Env, defaults: Record<string, string> = {}): JobSettings {
  // None of these is AGENT_ONLY, so the job's value wins over the file's, as in rawSettings.
  const value = (name: JobSettingName) => env[SETTINGS[name].variable] || defaults[SETTINGS[name].variable] || SETTINGS[name].fallback;
  return jobSettings({
    verbose: value("verbose"),
    runSshAgentDuringCommand: value("runSshAgentDuringCommand"),
    skipSshKeyNotFoundWarning: value("skipSshKeyNotFoundWarning"),
    timeoutSeconds: value("timeoutSeconds"),
    dumpEnv: value("dumpEnv"),
  });
}

/** Resolve the configuration from the environment and the defaults file. Pure. */
export function resolveConfig(env: Env, defaults: Record<string, string> = {}, trust: Trust = "operator"): Config {
  const { raw, sources, refused } = rawSettings(env, defaults, trust);
  const defaultKey = raw.defaultKey.trim();
  if (!isSlugName(defaultKey)) {
    throw new ConfigError(`${SETTINGS.defaultKey.variable}=${JSON.stringify(defaultKey)} is not a valid slug: use letters, digits, _ . or -`);
  }
  const globalSshKeys: string[] = [];
  const listedKeys = raw.globalSsh.split(":");
  for (let i = 0; i < listedKeys.length; i++) {
    const name = listedKeys[i]!.trim();
    if (name === "") continue;
    if (!isSsmPath(name) || name.endsWith("/")) {
      throw new ConfigError(`${SETTINGS.globalSsh.variable} holds ${JSON.stringify(name)}, which is not a full SSM parameter name: list names such as /vendors/buildkite/keys/deploy, separated by ':'`);
    }
    globalSshKeys.push(name);
  }
  const settings = jobSettings(raw);

  const filesDir = raw.filesDir.trim();
  if (filesDir !== "" && !filesDir.startsWith("/")) {
    throw new ConfigError(`${SETTINGS.filesDir.variable}=${JSON.stringify(filesDir)} is not an absolute path: name a directory such as /dev/shm/bk-ssm-secrets`);
  }

  return {
    ...settings,
    basePath: normaliseBasePath(raw.basePath, SETTINGS.basePath.variable),
    defaultKey,
    globalSshKeys,
    filesDir,
    sources,
    refused,
    allowedNames: allowedNames(defaults[ALLOWED_NAMES_SETTING] ?? ""),
  };
}

/** Read from the defaults file only: a pipeline's env must not widen what its own secrets may set. */
function allowedNames(value: string): Set<string> {
  try {
    return parseAllowedNames(value);
  } catch (error) {
    throw new ConfigError(`${ALLOWED_NAMES_SETTING} in the defaults file holds ${(error as Error).message}: list variable names such as GIT_SSL_CAINFO, separated by spaces or commas`);
  }
}

/** The defaults file's path for an operator's command: `BK_SSM_SECRETS_DEFAULTS_FILE` or the installed location. */
export function defaultsFilePath(env: Env): string {
  return env[DEFAULTS_FILE_VARIABLE] || DEFAULTS_FILE;
}

/** Where the Python hook's install script (configure.sh) wrote its settings. */
export const OLD_DEFAULTS_FILE = "/usr/local/buildkite-aws-stack/plugins/aws-paramstore-secrets/custom-defaults";

const OLD_DEFAULTS_FILE_VARIABLE = "BK_SSM_SECRETS_OLD_DEFAULTS_FILE";

/** The Python hook's settings file for an operator's command: `BK_SSM_SECRETS_OLD_DEFAULTS_FILE` or where its install script put it. */
export function oldDefaultsFilePath(env: Env): string {
  return env[OLD_DEFAULTS_FILE_VARIABLE] || OLD_DEFAULTS_FILE;
}

/** Read a defaults file; undefined when there is none. */
export function readDefaultsFile(path: string): Record<string, string> | undefined {
  try {
    const text = readSmallFile(path);
    return text === undefined ? undefined : parseDefaultsFile(text);
  } catch (error) {
    throw new ConfigError(`cannot read the defaults file ${path}: ${(error as Error).message}`);
  }
}

/** The defaults in force and the file they came from. */
export interface Defaults {
  path: string;
  /** False when there is no defaults file at all: only the environment and built-in defaults apply. */
  present: boolean;
  values: Record<string, string>;
}

/**
 * The defaults file; when there is none, the Python hook's custom-defaults,
 * so that an agent moving over keeps its base path and keys until
 * `bk-ssm-secrets install` writes a defaults file of its own. A job's phases
 * read the file the hooks name (`--defaults-file`, recorded by `install`),
 * else the installed location, and never one the job's environment names.
 */
function loadDefaults(env: Env, job?: { defaultsFile?: string }): Defaults {
  const path = job ? job.defaultsFile || DEFAULTS_FILE : defaultsFilePath(env);
  for (const candidate of [path, job ? OLD_DEFAULTS_FILE : oldDefaultsFilePath(env)]) {
    const values = readDefaultsFile(candidate);
    if (values) return { path: candidate, present: true, values };
  }
  return { path, present: false, values: {} };
}

/** The configuration in force, and the defaults it was resolved from. */
export function loadConfig(env: Env = process.env, job?: { defaultsFile?: string }): { config: Config; defaults: Defaults } {
  const defaults = loadDefaults(env, job);
  if (!job) return { config: resolveConfig(env, defaults.values), defaults };
  const config = resolveConfig(env, defaults.values, "job");
  const hooksRead = job.defaultsFile || DEFAULTS_FILE;
  for (const variable of [DEFAULTS_FILE_VARIABLE, OLD_DEFAULTS_FILE_VARIABLE]) {
    if (env[variable] && env[variable] !== hooksRead) config.refused.push({ variable, reason: `the hooks read ${hooksRead}` });
  }
  if (env[PIPELINE_OVERRIDES]) config.refused.push({ variable: PIPELINE_OVERRIDES, reason: "only the defaults file can allow overrides" });
  return { config, defaults };
}

/** The settings a job may set for itself, for the phases after `environment` (see resolveJobSettings). */
export function loadJobSettings(env: Env, job: { defaultsFile?: string }): JobSettings {
  return resolveJobSettings(env, loadDefaults(env, job).values);
}

/** The SSM path of a slug: `<BASE_PATH>/<slug>`. */
export function slugPath(config: Pick<Config, "basePath">, slug: string): string {
  return `${config.basePath}/${slug}`;
}
