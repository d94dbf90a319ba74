// The job's record: what the environment phase is about to start (ssh-agents,
// directories) and what it granted the git credential helper, written BEFORE
// it starts anything, so pre-exit can clean up even after a SIGKILL left no
// exported variable, and the helper answers only for this job's grant. One
// 0600 file per job, named by BUILDKITE_JOB_ID, in a 0700 directory of the
// agent user's that no job setting can move; both are checked before a
// record is read or written. pre-exit reads one only when a job has one
// (record.ts): then a records directory that is not private, with no record
// in it, goes without a warning until the environment phase refuses it.
import { lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync, closeSync, type Stats } from "node:fs";
import { join } from "../core/paths.ts";
import { JobError } from "./context.ts";
import { EMPTY_RECORD, type JobRecord } from "./record.ts";

/** Why what lstat found is not private to this user (a directory 0700, or a file 0600, that it owns), or undefined; nothing there is no objection. */
function notPrivate(stat: Stats | undefined, kind: "directory" | "file"): string | undefined {
  if (!stat) return undefined;
  if (kind === "directory" ? !stat.isDirectory() : !stat.isFile()) return `it is not a ${kind}`;
  if (stat.uid !== process.getuid?.()) return `user ${stat.uid} owns it`;
  if (stat.mode & 0o077) return `others may use it (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

function refuse(path: string, why: string): JobError {
  return new JobError(`refusing the job record ${path}: ${why}; remove it (this hook recreates it, private to the agent's user)`);
}

/** The job's record, or undefined when none was written; refused when it is not this user's private file. */
export function readJobRecord(path: string): JobRecord | undefined {
  const file = lstatSync(path, { throwIfNoEntry: false });
  const why = notPrivate(lstatSync(path.slice(0, path.lastIndexOf("/")), { throwIfNoEntry: false }), "directory") ?? notPrivate(file, "file");
  if (why) throw refuse(path, why);
  // Most jobs never write one: no read, and no error to build, for them.
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return { ...EMPTY_RECORD, ...(JSON.parse(text) as Partial<JobRecord>) };
  } catch {
    throw refuse(path, "it is not a job record");
  }
}

/** Add to the job's record, creating its directory (0700) and file (0600) when needed; written whole, then renamed into place. */
export function addToJobRecord(path: string, addition: Partial<JobRecord>): void {
  const directory = path.slice(0, path.lastIndexOf("/"));
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new JobError(`cannot create ${directory} for the job's record (${(error as NodeJS.ErrnoException).code}): check /tmp`);
  }
  const record = readJobRecord(path) ?? EMPTY_RECORD;
  const merged: JobRecord = {
    agentDirectories: [...record.agentDirectories, ...(addition.agentDirectories ?? [])],
    sockets: [...record.sockets, ...(addition.sockets ?? [])],
    filesDirectories: [...record.filesDirectories, ...(addition.filesDirectories ?? [])],
    grant: addition.grant ?? record.grant,
  };
  const temporary = `${path}.${process.pid}.new`;
  // Left by a process of the same pid that was killed half-way, if any.
  rmSync(temporary, { force: true });
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(merged));
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

export function removeJobRecord(path: string): void {
  // unlink, not rmSync: a record is one file, and rmSync costs pre-exit ~0.25 ms even when there is none.
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

const NAME_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A fresh path `<parent>/<prefix>XXXXXX`, as mkdtemp names it, for a
 * directory chosen first so it can be recorded before it is made; making it
 * (mkdir, not recursive) fails if it exists.
 */
export function newDirectoryPath(parent: string, prefix: string): string {
  // Web Crypto rather than node:crypto, which alone would add milliseconds to every phase that loads this module.
  return join(parent, `${prefix}${Array.from(crypto.getRandomValues(new Uint8Array(6)), (byte) => NAME_CHARACTERS[byte % NAME_CHARACTERS.length]).join("")}`);
}
