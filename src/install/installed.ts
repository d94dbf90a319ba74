// What an agent's installed hooks record, read back from their files: the
// script each agent hook's install block sources, and the binary and the
// defaults file recorded in the hook library those scripts share. Read, never
// run: doctor reports them, and the operator commands read the defaults file
// the hooks read.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Env } from "../core/env.ts";
import { EMBEDDED_HOOKS } from "./embedded-hooks.ts";
import { DEFAULT_HOOKS_DIR, recordedPaths, sourcedByBlock, type RecordedPaths } from "./install.ts";

/** The agent hooks `bk-ssm-secrets install` adds its block to. */
export const AGENT_HOOKS = EMBEDDED_HOOKS.filter((file) => file.isHook).map((file) => file.name);

/** The agent's hooks directory, as the agent itself finds it. */
export function agentHooksDir(env: Env): string {
  return env.BUILDKITE_HOOKS_PATH || DEFAULT_HOOKS_DIR;
}

/** A file's text, or undefined when it cannot be read. */
export function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The paths recorded in the hook library of the first agent hook whose
 * install block sources a script beside one; none when no hook has such a
 * block (doctor reports a block without its scripts as a broken install).
 */
export function installedPaths(hooksDir: string): RecordedPaths {
  for (const name of AGENT_HOOKS) {
    const script = sourcedByBlock(readIfPresent(join(hooksDir, name)) ?? "");
    const library = script === undefined ? undefined : readIfPresent(join(dirname(script), "lib", "run-phase.bash"));
    if (library !== undefined) return recordedPaths(library);
  }
  return {};
}
