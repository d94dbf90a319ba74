// `bk-ssm-secrets install`: read the files the plan needs, apply the plan,
// and undo what was applied when a write fails, so a failed install leaves
// the agent as it found it.
import { closeSync, constants, fchmodSync, fchownSync, lstatSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, defaultsFilePath, oldDefaultsFilePath, readDefaultsFile } from "../job/config.ts";
import { EMBEDDED_HOOKS } from "../install/embedded-hooks.ts";
import { DEFAULT_HOOKS_DIR, DEFAULT_INSTALL_DIR, defaultsSettings, planInstall, type Change, type FileState, type InstallRequest } from "../install/install.ts";
import { readRegularFile } from "../install/installed.ts";
import { printable } from "../core/log.ts";

export interface InstallOptions {
  hooksDir?: string;
  installDir?: string;
  defaultsFile?: string;
  basePath?: string;
  defaultKey?: string;
  globalSsh?: string;
  uninstall?: boolean;
  /** This binary's absolute path, for the hooks to run; undefined when running from source. */
  binary?: string;
}

/**
 * A file install may rewrite or remove. Never through a link: in the agent's
 * hooks directory, which the agent's user may write, one could point at any
 * file of root's, whose content and mode would end up in a hook that user owns.
 */
function readState(path: string): FileState | undefined {
  try {
    // Never the setuid, setgid or sticky bit: the agent's user sets a hook's mode, and root writes the file.
    return { content: readRegularFile(path, { followLinks: false }), mode: lstatSync(path).mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw explain(error, path, "read");
  }
}

function explain(error: unknown, path: string, action: string): Error {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (["EACCES", "EPERM", "EROFS"].includes(code)) {
    return new ConfigError(`cannot ${action} ${path} (${code}): run the install as root, or choose directories this user may change with --hooks-dir, --install-dir and --defaults-file`);
  }
  return new ConfigError(`cannot ${action} ${path}: ${(error as Error).message}`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch (error) {
    throw explain(error, path, "read");
  }
}

/**
 * Write through a temporary file and a rename: the agent never runs a
 * half-written hook. Keeps an existing file's owner. The temporary file has a
 * random name and is created, never opened: the agent's hooks directory may
 * be the agent user's (it is on the Elastic CI Stack), and a link planted at
 * a name root would write through, then chown, would hand that user the file
 * it points to.
 */
function writeFile(path: string, content: string, mode: number): void {
  const owner = lstatSync(path, { throwIfNoEntry: false });
  const temporary = `${path}.bk-ssm-secrets-${crypto.randomUUID()}`;
  let fd: number | undefined;
  try {
    fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    writeFileSync(fd, content);
    fchmodSync(fd, mode & 0o777);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Create `directory` and its missing parents (0755); returns those it created, outermost first. */
function makeDirectories(directory: string): string[] {
  const missing: string[] = [];
  for (let dir = directory; !statSync(dir, { throwIfNoEntry: false }); dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) mkdirSync(dir, { mode: 0o755 });
  return missing;
}

interface Applied {
  change: Change;
  /** Directories a write had to create, outermost first. */
  createdDirectories: string[];
  /** False for a directory left in place because it was not empty (or not there). */
  effective: boolean;
}

function apply(change: Change): Applied {
  switch (change.kind) {
    case "write": {
      const createdDirectories = makeDirectories(dirname(change.path));
      try {
        writeFile(change.path, change.content, change.mode);
      } catch (error) {
        for (const dir of createdDirectories.reverse()) rmdirSync(dir);
        throw error;
      }
      return { change, createdDirectories, effective: true };
    }
    case "delete":
      unlinkSync(change.path);
      return { change, createdDirectories: [], effective: true };
    case "keep":
      return { change, createdDirectories: [], effective: true };
    case "remove-directory-if-empty":
      try {
        rmdirSync(change.path);
        return { change, createdDirectories: [], effective: true };
      } catch (error) {
        if (["ENOENT", "ENOTEMPTY", "EEXIST"].includes((error as NodeJS.ErrnoException).code ?? "")) return { change, createdDirectories: [], effective: false };
        throw error;
      }
  }
}

/** Put back what `applied` changed, best effort: the error that started the undo is what the operator sees. */
function undo({ change, createdDirectories, effective }: Applied): void {
  if (!effective || change.kind === "keep") return;
  try {
    if (change.kind === "remove-directory-if-empty") mkdirSync(change.path, { mode: 0o755 });
    else if (change.before) writeFile(change.path, change.before.content, change.before.mode);
    else unlinkSync(change.path);
    for (const dir of [...createdDirectories].reverse()) rmdirSync(dir);
  } catch {
    // Keep undoing the rest.
  }
}

export function install(options: InstallOptions, env: Record<string, string | undefined>): string {
  const request: InstallRequest = {
    hooksDir: options.hooksDir ?? DEFAULT_HOOKS_DIR,
    installDir: options.installDir ?? DEFAULT_INSTALL_DIR,
    defaultsFile: options.defaultsFile ?? defaultsFilePath(env),
    binary: options.binary,
    settings: { basePath: options.basePath, defaultKey: options.defaultKey, globalSsh: options.globalSsh },
    uninstall: Boolean(options.uninstall),
  };
  if (!isDirectory(request.hooksDir)) {
    throw new ConfigError(`the agent's hooks directory ${request.hooksDir} does not exist: install buildkite-agent first, or point --hooks-dir at its hooks directory`);
  }
  const oldDefaults = oldDefaultsFilePath(env);
  const old = request.uninstall ? undefined : readDefaultsFile(oldDefaults);
  const settings = request.uninstall ? [] : defaultsSettings(request, env, old && { path: oldDefaults, values: old });
  // Each file is read once, when the plan first asks for it: which ones depends on the blocks found.
  const states = new Map<string, FileState | undefined>();
  const current = (path: string) => {
    if (!states.has(path)) states.set(path, readState(path));
    return states.get(path);
  };
  const changes = planInstall(request, EMBEDDED_HOOKS, settings, current);

  const applied: Applied[] = [];
  for (const change of changes) {
    try {
      applied.push(apply(change));
    } catch (error) {
      for (const done of applied.reverse()) undo(done);
      throw explain(error, change.path, change.kind === "write" ? "write" : "remove");
    }
  }
  // Paths from the agent's hooks, which its user may write, shown as text.
  const summary = applied.filter((done) => done.effective).map(({ change }) => printable("summary" in change ? change.summary : `removed ${change.path}`));
  if (old && summary.length) {
    const fromFlags = new Set(defaultsSettings(request, env).map(([variable]) => variable));
    const carried = settings.map(([variable]) => variable).filter((variable) => !fromFlags.has(variable));
    if (carried.length) summary.push(`carried ${carried.join(", ")} over from the Python hook's ${oldDefaults}`);
  }
  if (summary.length === 0) return request.uninstall ? "bk-ssm-secrets is not installed: nothing to remove\n" : "bk-ssm-secrets is installed and up to date: nothing to change\n";
  return summary.map((line) => `${line}\n`).join("");
}
