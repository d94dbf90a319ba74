// What every phase starts from: the job's environment, the configuration in
// force, and a logger set up from it.
import { loadConfig, loadJobSettings, type Config, type Defaults, type JobSettings } from "./config.ts";
import { stderrLogger, type Logger } from "../core/log.ts";

/** What the phases after `environment` start from: they read no secrets, so the settings a job may set are all they need. */
export interface HookContext {
  env: Record<string, string | undefined>;
  config: JobSettings;
  log: Logger;
}

/** What `environment`, git's helper and the operator commands start from: the whole configuration. */
export interface PhaseContext extends HookContext {
  config: Config;
  /** The defaults file the configuration read, for the checks that name it. */
  defaults: Defaults;
}

/** A failure the operator can act on: reported as one line, exit status 1. */
export class JobError extends Error {
  override name = "JobError";
}

/** `job` for a hook phase: its settings follow the agent's defaults file (`defaultsFile`, as the hooks name it). */
export function phaseContext(env: Record<string, string | undefined> = process.env, job?: { defaultsFile?: string }): PhaseContext {
  const { config, defaults } = loadConfig(env, job);
  return { env, config, defaults, log: stderrLogger(config.verbose, env) };
}

/** A hook phase's context when it needs only the job's own settings (see HookContext). */
export function hookContext(env: Record<string, string | undefined>, job: { defaultsFile?: string }): HookContext {
  const config = loadJobSettings(env, job);
  return { env, config, log: stderrLogger(config.verbose, env) };
}

/** Run `work` with an AbortSignal that fires after the configured deadline. */
export async function withDeadline<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
