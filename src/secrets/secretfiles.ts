// Secret files: `<slug>/file/<NAME>` is written into a directory of its own
// for this job (0700, files 0600), under AWS_PARAMSTORE_SECRETS_FILES_DIR or
// TMPDIR and never inside the checkout, and NAME is exported with the file's
// path. The directory's path travels to pre-exit in FILES_DIR_VARIABLE, and
// pre-exit removes it.
import type { CleanupStep } from "../job/cleanup.ts";
import { closeSync, fchmodSync, lstatSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import type { Env } from "../core/env.ts";
import type { Config } from "../job/config.ts";
import { undoOnInterrupt } from "../core/interrupt.ts";
import { JobError } from "../job/context.ts";
import type { Logger } from "../core/log.ts";
import type { FileAssignment } from "../job/plan.ts";
import { exportStatement, isShellIdentifier, unsetStatement } from "../core/shell.ts";

/** Exported to the job so pre-exit knows what to remove; the protected prefix keeps secrets from setting it. */
export const FILES_DIR_VARIABLE = "BK_SSM_SECRETS_FILES_DIR";
const DIR_PREFIX = "bk-ssm-secrets-";

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Where the job's directory is made: the configured directory, else TMPDIR, else /tmp; never inside the checkout. */
export function secretFilesBase(env: Env, config: Pick<Config, "filesDir">): string {
  const base = resolve(config.filesDir || env.TMPDIR || "/tmp");
  const checkout = env.BUILDKITE_BUILD_CHECKOUT_PATH;
  if (checkout && isInside(base, resolve(checkout))) {
    const source = config.filesDir ? "AWS_PARAMSTORE_SECRETS_FILES_DIR" : "TMPDIR";
    throw new JobError(`refusing to write secret files inside the checkout (${source} is ${base}): set AWS_PARAMSTORE_SECRETS_FILES_DIR to a directory outside ${checkout}`);
  }
  return base;
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

/** Write the job's files into a new private directory under `base`. All or nothing: on failure nothing is left behind. */
export function writeSecretFiles(files: FileAssignment[], base: string, jobId?: string): WrittenFiles {
  if (files.length === 0) return { statements: "", remove: () => {} };
  const label = jobId && /^[A-Za-z0-9-]{1,64}$/.test(jobId) ? `${jobId}-` : "";
  let dir: string;
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    dir = mkdtempSync(join(base, `${DIR_PREFIX}${label}`));
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
 * For pre-exit: remove the job's secret files and return shell code that
 * unsets the variables pointing into the directory, and the directory's own.
 * Safe to run when nothing was written or an earlier phase failed.
 */
function removeSecretFiles(env: Env, log: Logger): string {
  const dir = env[FILES_DIR_VARIABLE];
  if (!dir) return "";
  const refusal = notOurs(dir);
  if (refusal) {
    log.warn(`not removing ${FILES_DIR_VARIABLE}=${dir}: ${refusal}`);
    return unsetStatement(FILES_DIR_VARIABLE);
  }
  rmSync(dir, { recursive: true, force: true });
  log.debug(`removed the job's secret files in ${dir}`);
  const pointing = Object.entries(env)
    .filter(([name, value]) => value?.startsWith(`${dir}/`) && isShellIdentifier(name))
    .map(([name]) => unsetStatement(name));
  return pointing.join("") + unsetStatement(FILES_DIR_VARIABLE);
}

/** pre-exit: remove the job's secret files and forget the variables that point into them. */
export const removeJobSecretFiles: CleanupStep = {
  name: "the job's secret files",
  run: async ({ env, log }) => removeSecretFiles(env, log),
};
