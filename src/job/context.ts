// What every phase starts from: the job's environment, the configuration in
// force, and a logger set up from it.
import { loadConfig, type Config } from "./config.ts";
import { stderrLogger, type Logger } from "../core/log.ts";

export interface PhaseContext {
  env: Record<string, string | undefined>;
  config: Config;
  log: Logger;
}

/** A failure the operator can act on: reported as one line, exit status 1. */
export class JobError extends Error {
  override name = "JobError";
}

/** `job` for a hook phase: its settings follow the agent's defaults file (`defaultsFile`, as the hooks name it). */
export function phaseContext(env: Record<string, string | undefined> = process.env, job?: { defaultsFile?: string }): PhaseContext {
  const config = loadConfig(env, job);
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
