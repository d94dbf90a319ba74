// What an agent's installed hooks record, read back from their files for
// doctor's report: the script each agent hook's install block sources, and
// the binary and the defaults file recorded in the hook library those
// scripts share. Read, never run, and never trusted to choose what an
// operator's command reads or writes: on the Elastic CI Stack the agent's
// hooks directory belongs to the agent's user, so a job can rewrite what it
// records (docs/threat-model.md).
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from "node:fs";
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

/** Far more than any hook script or defaults file; a larger file is not one. */
const MAX_BYTES = 1024 * 1024;

const decoder = new TextDecoder();

function notRegular(path: string, what: string): Error {
  return Object.assign(new Error(`${path} is ${what}`), { code: "ENOTREGULAR" });
}

/**
 * The text of a file in the agent's hooks or install directory, which the
 * agent's user may be able to replace: a regular file of at most MAX_BYTES,
 * or an error. Anything else is refused before it is opened (opening a
 * device can act on it), checked again on the descriptor, opened without
 * blocking (a FIFO swapped in would hang the reader) and read no further
 * than the limit (a /proc file reports a size of 0). Without `followLinks`,
 * a link is refused too: what root reads there, it may write back. Errors as
 * node:fs gives them (ENOENT for a missing file).
 */
export function readRegularFile(path: string, { followLinks = true } = {}): string {
  if (!followLinks && lstatSync(path).isSymbolicLink()) {
    throw notRegular(path, "a symbolic link: install does not write through links where the agent's user may make them; replace it with a copy of the file it points to, then run install again");
  }
  if (!statSync(path).isFile()) throw notRegular(path, "not a regular file, as install writes");
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | (followLinks ? 0 : constants.O_NOFOLLOW));
  try {
    if (!fstatSync(fd).isFile()) throw notRegular(path, "not a regular file, as install writes");
    const bytes = new Uint8Array(MAX_BYTES + 1);
    let length = 0;
    while (length <= MAX_BYTES) {
      const read = readSync(fd, bytes, length, bytes.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > MAX_BYTES) throw notRegular(path, `larger than ${MAX_BYTES} bytes`);
    return decoder.decode(bytes.subarray(0, length));
  } finally {
    closeSync(fd);
  }
}

/** readRegularFile's text, or undefined when the file is missing or refused. */
export function readIfPresent(path: string): string | undefined {
  try {
    return readRegularFile(path);
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
