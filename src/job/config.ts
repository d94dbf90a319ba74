// Configuration: the environment variables of the original hook, with its
// defaults, plus the defaults file an install step writes. The job's own
// environment wins over the file, the file over the built-in default.
import { readFileSync } from "node:fs";
import type { Env } from "../core/env.ts";

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

export interface Config {
  /** The root of the tree, without a trailing slash ("" for the root itself). */
  basePath: string;
  defaultKey: string;
  verbose: boolean;
  /** Full SSM names of the deploy keys every job gets. */
  globalSshKeys: string[];
  runSshAgentDuringCommand: boolean;
  /** No warning when an SSH repository has no deploy key anywhere. */
  skipSshKeyNotFoundWarning: boolean;
  /** Overall deadline for a phase's network work: its SSM reads, or the pre-checkout probe of the repository. */
  timeoutMs: number;
  /** Where the per-job directory of secret files is made ("" for TMPDIR). */
  filesDir: string;
  /** List what the job received (names and slugs, never values). */
  dumpEnv: boolean;
  /** Where each setting's value came from, for `doctor` and verbose logs. */
  sources: Record<SettingName, SettingSource>;
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
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const [, name, rawValue] = match as unknown as [string, string, string];
    values[name] = unquote(rawValue);
  }
  return values;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
  }
  return value;
}

const SSM_PATH = /^\/[A-Za-z0-9_.\-/]*$/;
/** The characters a slug may hold: one level of an SSM name. */
export const SLUG_NAME = /^[A-Za-z0-9_.-]+$/;

function truthy(value: string): boolean {
  return /^(1|true|yes|on)$/i.test(value.trim());
}

/** Normalise and validate BASE_PATH: absolute, SSM's characters, no trailing slash. */
export function normaliseBasePath(value: string, variable: string): string {
  const path = value.trim();
  const trimmed = path.replace(/\/+$/, "");
  if (!SSM_PATH.test(path) || trimmed.includes("//")) {
    throw new ConfigError(
      `${variable}=${JSON.stringify(path)} is not an absolute SSM path: use a path such as /vendors/buildkite (letters, digits, _ . - and /)`,
    );
  }
  if (/^\/(aws|ssm)(\/|$)/i.test(trimmed)) {
    throw new ConfigError(`${variable}=${JSON.stringify(path)} starts with a prefix SSM reserves (/aws, /ssm): choose another base path`);
  }
  return trimmed;
}

/** Resolve the configuration from the job environment and the defaults file. Pure. */
export function resolveConfig(env: Env, defaults: Record<string, string> = {}): Config {
  const sources = {} as Record<SettingName, SettingSource>;
  const raw = {} as Record<SettingName, string>;
  for (const [name, setting] of Object.entries(SETTINGS) as Array<[SettingName, (typeof SETTINGS)[SettingName]]>) {
    const fromEnv = env[setting.variable];
    const fromFile = defaults[setting.variable];
    if (fromEnv !== undefined && fromEnv !== "") [raw[name], sources[name]] = [fromEnv, "environment"];
    else if (fromFile !== undefined && fromFile !== "") [raw[name], sources[name]] = [fromFile, "defaults file"];
    else [raw[name], sources[name]] = [setting.fallback, "default"];
  }

  const defaultKey = raw.defaultKey.trim();
  if (!SLUG_NAME.test(defaultKey)) {
    throw new ConfigError(`${SETTINGS.defaultKey.variable}=${JSON.stringify(defaultKey)} is not a valid slug: use letters, digits, _ . or -`);
  }
  const globalSshKeys = raw.globalSsh.split(":").map((name) => name.trim()).filter(Boolean);
  for (const name of globalSshKeys) {
    if (!SSM_PATH.test(name) || name.endsWith("/")) {
      throw new ConfigError(`${SETTINGS.globalSsh.variable} holds ${JSON.stringify(name)}, which is not a full SSM parameter name: list names such as /vendors/buildkite/keys/deploy, separated by ':'`);
    }
  }
  const timeoutSeconds = Number(raw.timeoutSeconds);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new ConfigError(`${SETTINGS.timeoutSeconds.variable}=${JSON.stringify(raw.timeoutSeconds)} is not a positive number of seconds`);
  }

  const filesDir = raw.filesDir.trim();
  if (filesDir !== "" && !filesDir.startsWith("/")) {
    throw new ConfigError(`${SETTINGS.filesDir.variable}=${JSON.stringify(filesDir)} is not an absolute path: name a directory such as /dev/shm/bk-ssm-secrets`);
  }

  return {
    basePath: normaliseBasePath(raw.basePath, SETTINGS.basePath.variable),
    defaultKey,
    verbose: truthy(raw.verbose),
    globalSshKeys,
    runSshAgentDuringCommand: raw.runSshAgentDuringCommand.trim() === "1",
    skipSshKeyNotFoundWarning: raw.skipSshKeyNotFoundWarning.trim() === "1",
    timeoutMs: Math.round(timeoutSeconds * 1000),
    filesDir,
    dumpEnv: truthy(raw.dumpEnv),
    sources,
  };
}

/** The defaults file's path: `BK_SSM_SECRETS_DEFAULTS_FILE` or the installed location. */
export function defaultsFilePath(env: Env): string {
  return env.BK_SSM_SECRETS_DEFAULTS_FILE || DEFAULTS_FILE;
}

/** Read the defaults file; a missing file is an empty one (nothing was installed). */
export function readDefaultsFile(path: string): Record<string, string> {
  try {
    return parseDefaultsFile(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new ConfigError(`cannot read the defaults file ${path}: ${(error as Error).message}`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  return resolveConfig(env, readDefaultsFile(defaultsFilePath(env)));
}

/** The SSM path of a slug: `<BASE_PATH>/<slug>`. */
export function slugPath(config: Pick<Config, "basePath">, slug: string): string {
  return `${config.basePath}/${slug}`;
}
