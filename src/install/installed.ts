// What an agent's installed hooks record, read back from their files for
// doctor's report: the script each agent hook's install block sources, and
// the binary and the defaults file recorded in the hook library those
// scripts share. Read, never run, and never trusted to choose what an
// operator's command reads or writes: on the Elastic CI Stack the agent's
// hooks directory belongs to the agent's user, so a job can rewrite what it
// records (docs/threat-model.md).
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
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

/** Far more than any hook script; a larger file is not one. */
const MAX_HOOK_BYTES = 1024 * 1024;

/**
 * A hook file's text, or undefined when it is missing, unreadable, or not a
 * regular file of at most MAX_HOOK_BYTES: opened without blocking and checked
 * on the open descriptor, so that a FIFO or a device put in its place cannot
 * hang doctor, even if swapped in after a check.
 */
export function readIfPresent(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    return stat.isFile() && stat.size <= MAX_HOOK_BYTES ? readFileSync(fd, "utf8") : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
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
