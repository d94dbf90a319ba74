// Secret files: `<slug>/file/<NAME>` is written into a directory of its own
// for this job (0700, files 0600), under AWS_PARAMSTORE_SECRETS_FILES_DIR or
// TMPDIR and never inside the checkout, and NAME is exported with the file's
// path. The directory's path travels to pre-exit in FILES_DIR_VARIABLE, and
// pre-exit removes it.
import type { CleanupWork } from "../job/cleanup.ts";
import { closeSync, fchmodSync, lstatSync, mkdirSync, openSync, realpathSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "../core/paths.ts";
import type { Env } from "../core/env.ts";
import type { Config } from "../job/config.ts";
import { undoOnInterrupt } from "../core/interrupt.ts";
import { JobError } from "../job/context.ts";
import type { Logger } from "../core/log.ts";
import type { FileAssignment } from "../job/plan.ts";
import type { JobRecord } from "../job/record.ts";
import { newDirectoryPath } from "../job/state.ts";
import { exportStatement, isShellIdentifier, unsetStatement } from "../core/shell.ts";
import { FILES_DIR_VARIABLE } from "./kinds.ts";

const DIR_PREFIX = "bk-ssm-secrets-";

/** Whether `path` is `dir` or under it: its way from `dir` neither climbs out ("..", "../…") nor starts elsewhere. A name that only begins with dots (`..tmp`) is inside. */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel));
}

/** `path` with every symlink resolved: the part that exists by realpath, the rest as written. */
function resolveExisting(path: string): string {
  const absolute = resolve(path);
  for (let existing = absolute; ; existing = dirname(existing)) {
    try {
      return join(realpathSync(existing), relative(existing, absolute));
    } catch {
      if (existing === dirname(existing)) return absolute;
    }
  }
}

/**
 * Why a directory on the way to the base is unsafe to make private files
 * under, or undefined: another user (not root) owns it, or others may write
 * to it without the sticky bit, and so could rename our directory away and
 * put theirs in its place.
 */
function unsafeDirectory(dir: string): string | undefined {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  if (stat.uid !== 0 && stat.uid !== process.getuid?.()) return `${dir} belongs to user ${stat.uid}, not to the agent's user`;
  // Group write is the operator's choice of who shares the agent's directories; world write is anyone's.
  if (stat.mode & 0o002 && !(stat.mode & 0o1000)) return `others may write to ${dir} (mode ${(stat.mode & 0o7777).toString(8)}) and it has no sticky bit`;
  return undefined;
}

/**
 * Where the job's directory is made: the configured directory, else TMPDIR,
 * else /tmp, with symlinks resolved; never inside the checkout, and only under
 * directories no other user can change.
 */
export function secretFilesBase(env: Env, config: Pick<Config, "filesDir">): string {
  const source = config.filesDir ? "AWS_PARAMSTORE_SECRETS_FILES_DIR" : "TMPDIR";
  const base = resolveExisting(config.filesDir || env.TMPDIR || "/tmp");
  const checkout = env.BUILDKITE_BUILD_CHECKOUT_PATH;
  if (checkout && isInside(base, resolveExisting(checkout))) {
    throw new JobError(`refusing to write secret files inside the checkout (${source} is ${base}): set AWS_PARAMSTORE_SECRETS_FILES_DIR to a directory outside ${checkout}`);
  }
  for (let dir = base; ; dir = dirname(dir)) {
    const problem = unsafeDirectory(dir);
    if (problem) throw new JobError(`refusing to write secret files under ${base} (${source}): ${problem}; set AWS_PARAMSTORE_SECRETS_FILES_DIR to a directory of the agent's user`);
    if (dir === dirname(dir)) return base;
  }
}

/** The path the job's directory of secret files will have under `base`: recorded before it is made. */
export function secretFilesDirectory(base: string, jobId?: string): string {
  const label = jobId && /^[A-Za-z0-9-]{1,64}$/.test(jobId) ? `${jobId}-` : "";
  return newDirectoryPath(base, `${DIR_PREFIX}${label}`);
}

export interface WrittenFiles {
  /** Undefined when the job has no file, and then nothing was created. */
  dir?: string;
  /** Exports each file's variable and the directory's. */
  statements: string;
  /** Remove what was written: for a phase that fails after writing. */
  remove(): void;
}

function writePrivateFile(path: string, content: string): void {
  // O_EXCL: the directory is new, so anything already there is not ours.
  const fd = openSync(path, "wx", 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    const bytes = Buffer.from(content, "utf8");
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
  } finally {
    closeSync(fd);
  }
}

/** Write the job's files into `dir`, a new private directory (see secretFilesDirectory). All or nothing: on failure nothing is left behind. */
export function writeSecretFiles(files: FileAssignment[], dir: string | undefined): WrittenFiles {
  if (files.length === 0 || !dir) return { statements: "", remove: () => {} };
  const base = dirname(dir);
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    throw cannotWrite(base, error);
  }
  const remove = () => rmSync(dir, { recursive: true, force: true });
  undoOnInterrupt(remove);
  try {
    let statements = "";
    for (const file of files) {
      const path = join(dir, file.name);
      writePrivateFile(path, file.content);
      statements += exportStatement(file.name, path);
    }
    return { dir, statements: statements + exportStatement(FILES_DIR_VARIABLE, dir), remove };
  } catch (error) {
    remove();
    throw cannotWrite(base, error);
  }
}

function cannotWrite(base: string, error: unknown): JobError {
  const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new JobError(`cannot write the job's secret files under ${base} (${cause}): check that the directory is writable and has space, or set AWS_PARAMSTORE_SECRETS_FILES_DIR`);
}

/** Why `dir` is not a directory this hook made for the job, or undefined when it is. */
function notOurs(dir: string): string | undefined {
  if (!isAbsolute(dir) || !basename(dir).startsWith(DIR_PREFIX)) return "it is not a bk-ssm-secrets directory";
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat) return undefined; // already gone
  if (!stat.isDirectory()) return "it is not a directory";
  if (stat.uid !== process.getuid?.()) return "another user owns it";
  return undefined;
}

/**
 * For pre-exit: remove the job's secret files, the directory the variables
 * name and any the job's record names (an environment phase killed before it
 * printed anything), and return shell code that unsets the variables pointing
 * into them, and the directory's own. Safe to run when nothing was written or
 * an earlier phase failed.
 */
function removeSecretFiles(env: Env, record: JobRecord, log: Logger): string {
  const named = env[FILES_DIR_VARIABLE];
  let script = named ? unsetStatement(FILES_DIR_VARIABLE) : "";
  for (const dir of new Set([...(named ? [named] : []), ...record.filesDirectories])) {
    const refusal = notOurs(dir);
    if (refusal) {
      log.warn(`not removing the secret-files directory ${dir}: ${refusal}`);
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
    log.debug(`removed the job's secret files in ${dir}`);
    script += Object.entries(env)
      .filter(([name, value]) => value?.startsWith(`${dir}/`) && isShellIdentifier(name))
      .map(([name]) => unsetStatement(name))
      .join("");
  }
  return script;
}

/** pre-exit: remove the job's secret files and forget the variables that point into them. */
export const removeJobSecretFiles: CleanupWork = async ({ env, log }, record) => removeSecretFiles(env, record, log);
