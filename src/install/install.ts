// What `bk-ssm-secrets install` changes on an agent, as a pure plan: the hook
// scripts (embedded in the binary) into their own directory, the defaults
// file, and a marked block in each of the agent's hooks that sources ours.
// Planning from the files' current contents makes running it again a no-op
// and `--uninstall` an exact undo: only the block is removed, and a file the
// install created is deleted.
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError, resolveConfig, SETTINGS } from "../job/config.ts";
import { shellQuote } from "../core/shell.ts";
import { oldHookLines, restoreOldBlocks, switchOffOldBlocks } from "./old-hook.ts";

export const DEFAULT_HOOKS_DIR = "/etc/buildkite-agent/hooks";
export const DEFAULT_INSTALL_DIR = "/usr/local/lib/bk-ssm-secrets";

/** A file of this project's hooks/ directory, as embedded in the binary. */
export interface EmbeddedFile {
  /** Relative to hooks/: `environment`, `lib/run-phase.bash`. */
  name: string;
  content: string;
  /** True for a hook the agent runs (as opposed to a library it sources). */
  isHook: boolean;
}

export interface InstallRequest {
  /** The agent's hooks directory, which must exist. */
  hooksDir: string;
  /** Where this project's hooks go; a directory of their own. */
  installDir: string;
  defaultsFile: string;
  /** The binary the hooks run, recorded in them with the defaults file; undefined to find it on PATH (running from source). */
  binary?: string;
  /** Values for the defaults file, by flag name, as given. */
  settings: { basePath?: string; defaultKey?: string; globalSsh?: string };
  uninstall: boolean;
}

export interface FileState {
  content: string;
  mode: number;
}

export type Change =
  | { kind: "write"; path: string; content: string; mode: number; before?: FileState; summary: string }
  | { kind: "delete"; path: string; before: FileState; summary: string }
  | { kind: "remove-directory-if-empty"; path: string }
  /** A file left in place, and why: the operator hears of it in the summary. */
  | { kind: "keep"; path: string; summary: string };

const HOOK_MODE = 0o755;
const DATA_MODE = 0o644;

const BEGIN = "# >>> bk-ssm-secrets >>>";
// When the agent's hook did not end with a newline, the install added one
// before its block; this marker says so, so that uninstalling removes it too.
const BEGIN_JOINED = "# >>> bk-ssm-secrets >>> (the install added the line break before this block)";
const END = "# <<< bk-ssm-secrets <<<";
const BLOCK = /^# >>> bk-ssm-secrets >>>.*\n[\s\S]*?^# <<< bk-ssm-secrets <<<(?:\n|$)/m;
/** The start of an agent hook the install had to create; deleted again when only this is left. */
const CREATED_HOOK = "#!/usr/bin/env bash\n# Created by `bk-ssm-secrets install`; `bk-ssm-secrets install --uninstall` deletes it.\n";
/** How a defaults file the install wrote starts (older installs went on with another sentence on the same line). */
const DEFAULTS_MARK = "# bk-ssm-secrets defaults, written by `bk-ssm-secrets install`.";
const DEFAULTS_HEADER = `${DEFAULTS_MARK} A job's environment cannot change the base path, default key, global SSH keys or files dir unless BK_SSM_SECRETS_PIPELINE_OVERRIDES lists them.\n`;

function block(ourHook: string, joined: boolean): string {
  return [
    joined ? BEGIN_JOINED : BEGIN,
    "# Added by `bk-ssm-secrets install`; `bk-ssm-secrets install --uninstall` removes it.",
    // `|| return`: a failed phase fails the agent's hook even when more of it follows.
    `source ${shellQuote(ourHook)} || return`,
    END,
    "",
  ].join("\n");
}

/** An agent hook with our block: added at the end, or replacing the one already there in place. */
export function withBlock(existing: string | undefined, ourHook: string): string {
  if (existing === undefined) return CREATED_HOOK + block(ourHook, false);
  const match = BLOCK.exec(existing);
  if (match) {
    const joined = match[0].startsWith(BEGIN_JOINED);
    const rest = existing.slice(match.index + match[0].length).replace(new RegExp(BLOCK.source, "gm"), "");
    return existing.slice(0, match.index) + block(ourHook, joined) + rest;
  }
  if (existing === "" || existing.endsWith("\n")) return existing + block(ourHook, false);
  return `${existing}\n${block(ourHook, true)}`;
}

/** An agent hook without our block, byte for byte as before the install; undefined when the install created it. */
export function withoutBlock(existing: string): string | undefined {
  let content = existing;
  for (let match = BLOCK.exec(content); match; match = BLOCK.exec(content)) {
    // The line break the install added goes too, unless something now
    // follows the block: that must still start on a line of its own.
    const end = match.index + match[0].length;
    const start = match[0].startsWith(BEGIN_JOINED) && end === content.length && content[match.index - 1] === "\n" ? match.index - 1 : match.index;
    content = content.slice(0, start) + content.slice(end);
  }
  return content === CREATED_HOOK ? undefined : content;
}

/** A word shellQuote wrote: in single quotes, each one inside written '\''. */
const QUOTED_WORD = "('(?:[^']|'\\\\'')*')";
const SOURCE_LINE = new RegExp(`^source ${QUOTED_WORD} \\|\\| return$`, "m");
const RECORDED_PATHS_LINE = new RegExp(`^  local bin=${QUOTED_WORD} defaults_file=${QUOTED_WORD}$`, "m");

/** The value of a word shellQuote wrote. */
function shellUnquote(quoted: string): string {
  return quoted.slice(1, -1).replaceAll("'\\''", "'");
}

/** The hook script an agent hook's install block sources, or undefined when the hook has no block. */
export function sourcedByBlock(content: string): string | undefined {
  const quoted = SOURCE_LINE.exec(BLOCK.exec(content)?.[0] ?? "")?.[1];
  return quoted === undefined ? undefined : shellUnquote(quoted);
}

/** The line of hooks/lib/run-phase.bash where the install records the binary's and the defaults file's absolute paths. */
const RECORDED_PATHS = "  local bin='' defaults_file=''\n";

/** An embedded file as installed: the shared hook library gets the paths recorded. */
export function installedContent(file: EmbeddedFile, request: Pick<InstallRequest, "binary" | "defaultsFile">): string {
  if (file.name !== "lib/run-phase.bash") return file.content;
  if (!file.content.includes(RECORDED_PATHS)) throw new Error("hooks/lib/run-phase.bash has no line for the recorded paths");
  const bin = request.binary ? resolve(request.binary) : "";
  return file.content.replace(RECORDED_PATHS, `  local bin=${shellQuote(bin)} defaults_file=${shellQuote(resolve(request.defaultsFile))}\n`);
}

/** Whether `content` is what installedContent writes for `file`, whatever paths it recorded. */
function isInstalledContent(file: EmbeddedFile, content: string): boolean {
  return (file.name === "lib/run-phase.bash" ? content.replace(RECORDED_PATHS_LINE, RECORDED_PATHS.slice(0, -1)) : content) === file.content;
}

/** The paths an installed hook library runs with, as installedContent recorded them. */
export interface RecordedPaths {
  /** Undefined when it records none (installed from source: the hooks then use BK_SSM_SECRETS_BIN or PATH). */
  binary?: string;
  defaultsFile?: string;
}

export function recordedPaths(library: string): RecordedPaths {
  const match = RECORDED_PATHS_LINE.exec(library);
  const binary = match && shellUnquote(match[1]!);
  const defaultsFile = match && shellUnquote(match[2]!);
  return { ...(binary ? { binary } : {}), ...(defaultsFile ? { defaultsFile } : {}) };
}

/** `export NAME="value"` lines, as the original install wrote and config.ts reads, after a header naming the hook scripts they are for. */
function defaultsFile(settings: Array<[string, string]>, installDir: string): string {
  const quote = (value: string) => `"${value.replace(/(["\\$`])/g, "\\$1")}"`;
  return `${DEFAULTS_HEADER}# For the hook scripts in ${installDir}\n${settings.map(([name, value]) => `export ${name}=${quote(value)}\n`).join("")}`;
}

/**
 * The defaults file's settings from the flags, validated as the hooks will
 * read them. AWS_PARAMSTORE_SECRETS_PATH in the installer's environment is
 * the original install step's way to set the base path. A setting no flag
 * gives is carried over from the Python hook's settings file, when there is
 * one (`old`), so that moving an agent over keeps its base path and keys.
 */
export function defaultsSettings(request: InstallRequest, env: Record<string, string | undefined>, old?: { path: string; values: Record<string, string> }): Array<[string, string]> {
  const basePath = request.settings.basePath ?? env.AWS_PARAMSTORE_SECRETS_PATH;
  const flags: Record<string, [flag: string, value: string | undefined]> = {
    [SETTINGS.basePath.variable]: ["--base-path", basePath],
    [SETTINGS.defaultKey.variable]: ["--default-key", request.settings.defaultKey],
    [SETTINGS.globalSsh.variable]: ["--global-ssh", request.settings.globalSsh],
  };
  const settings: Array<[string, string]> = [];
  for (const { variable } of Object.values(SETTINGS)) {
    const [flag, given] = flags[variable] ?? [];
    const [source, value] = given !== undefined && given.trim() !== "" ? [flag, given] : [`${variable} in ${old?.path}`, old?.values[variable]];
    if (value === undefined || value.trim() === "") continue;
    try {
      resolveConfig({ [variable]: value });
    } catch (error) {
      throw new ConfigError(`${source}: ${(error as Error).message}`);
    }
    settings.push([variable, value.trim()]);
  }
  return settings;
}

/** The install directory a defaults file was written for, from its header; undefined for one written before installs said. */
function defaultsOwner(content: string): string | undefined {
  return /^# For the hook scripts in (.*)\n/m.exec(content)?.[1];
}

/** The changes that bring the agent to the requested state; none when it is there already. */
export function planInstall(
  request: InstallRequest,
  files: EmbeddedFile[],
  settings: Array<[string, string]>,
  current: (path: string) => FileState | undefined,
): Change[] {
  if (resolve(request.installDir) === resolve(request.hooksDir)) {
    throw new ConfigError(`--install-dir and --hooks-dir are both ${request.hooksDir}: the hook scripts need a directory of their own, such as ${DEFAULT_INSTALL_DIR}`);
  }
  const changes: Change[] = [];
  const write = (path: string, content: string, mode: number, summary: string) => {
    const before = current(path);
    if (before?.content !== content || before.mode !== mode) changes.push({ kind: "write", path, content, mode, before, summary });
  };
  const remove = (path: string, summary: string) => {
    const before = current(path);
    if (before) changes.push({ kind: "delete", path, before, summary });
  };
  if (request.uninstall) planUninstall(request, files, current, write, remove, changes);
  else {
    const installDir = resolve(request.installDir);
    for (const file of files) {
      const path = join(installDir, file.name);
      write(path, installedContent(file, request), file.isHook ? HOOK_MODE : DATA_MODE, `wrote ${path}`);
    }
    for (const file of files.filter((entry) => entry.isHook)) {
      const path = join(request.hooksDir, file.name);
      const before = current(path);
      const migrated = before && switchOffOldBlocks(before.content);
      const left = migrated ? oldHookLines(migrated.content) : [];
      if (left.length) {
        throw new ConfigError(`${path} line ${left[0]} runs the Python hook (aws-paramstore-secrets) in a form install does not recognise: remove those lines by hand (keep a copy to roll back), then run install again`);
      }
      const switchedOff = migrated?.blocks ? `, switching off the Python hook's ${migrated.blocks === 1 ? "block" : `${migrated.blocks} blocks`} there (--uninstall puts ${migrated.blocks === 1 ? "it" : "them"} back)` : "";
      write(path, withBlock(migrated?.content, join(installDir, file.name)), before?.mode ?? HOOK_MODE, `${before ? "updated" : "created"} ${path} to run the bk-ssm-secrets ${file.name} hook${switchedOff}`);
    }
    write(request.defaultsFile, defaultsFile(settings, installDir), DATA_MODE, `wrote ${request.defaultsFile}`);
  }
  return changes;
}

/**
 * Uninstall removes the blocks from this hooks directory, and the hook
 * scripts they run, which must be in the install directory the operator
 * names (--install-dir, or the default): the blocks sit in a directory the
 * agent's user may write (the Elastic CI Stack gives it to them), so a block
 * could name any directory. A block that runs scripts elsewhere stops the
 * uninstall before anything changes. Scripts the agent's default hooks
 * directory still runs stay, so that uninstalling from another directory
 * cannot break the machine's own install.
 */
function planUninstall(
  request: InstallRequest,
  files: EmbeddedFile[],
  current: (path: string) => FileState | undefined,
  write: (path: string, content: string, mode: number, summary: string) => void,
  remove: (path: string, summary: string) => void,
  changes: Change[],
): void {
  const hooks = files.filter((entry) => entry.isHook);
  const pointedTo = (hooksDir: string) =>
    hooks.flatMap((file) => {
      const script = sourcedByBlock(current(join(hooksDir, file.name))?.content ?? "");
      return script ? [{ hook: join(hooksDir, file.name), dir: resolve(dirname(script)) }] : [];
    });
  const installDir = resolve(request.installDir);
  const blocks = pointedTo(request.hooksDir);
  const elsewhere = blocks.find((block) => block.dir !== installDir);
  if (elsewhere) {
    throw new ConfigError(`${elsewhere.hook}'s bk-ssm-secrets block runs the scripts in ${elsewhere.dir}, not in the install directory ${installDir}; nothing was changed. A job may be able to rewrite that block: if it is this install's own, run the uninstall with --install-dir ${elsewhere.dir}`);
  }
  // Every block runs the scripts in installDir: they go, unless the agent's default hooks directory still runs them.
  const stillUsed = resolve(request.hooksDir) !== resolve(DEFAULT_HOOKS_DIR) && pointedTo(DEFAULT_HOOKS_DIR).some((block) => block.dir === installDir);
  const removeScripts = blocks.length > 0 && !stillUsed;

  for (const file of hooks) {
    const path = join(request.hooksDir, file.name);
    const before = current(path);
    if (!before) continue;
    const after = withoutBlock(before.content);
    if (after === undefined) {
      remove(path, `removed ${path}, which the install had created`);
      continue;
    }
    const restored = restoreOldBlocks(after);
    write(path, restored, before.mode, `removed the bk-ssm-secrets block from ${path}${restored !== after ? " and put the Python hook's block back" : ""}`);
  }
  if (removeScripts) {
    for (const file of files) {
      // Another release's file, or one changed since, is not this install's to remove.
      const path = join(installDir, file.name);
      const before = current(path);
      if (!before || isInstalledContent(file, before.content)) remove(path, `removed ${path}`);
      else changes.push({ kind: "keep", path, summary: `left ${path}: not the file this release of bk-ssm-secrets installs there (another release's, or changed since): remove it by hand if it is that install's` });
    }
    const directories = new Set(files.map((file) => dirname(join(installDir, file.name))));
    for (const directory of [...directories].sort((a, b) => b.length - a.length)) changes.push({ kind: "remove-directory-if-empty", path: directory });
  }
  // Only a defaults file an install wrote for the hook scripts removed here: one an operator wrote by hand stays.
  const defaults = current(request.defaultsFile)?.content;
  if (defaults?.startsWith(DEFAULTS_MARK)) {
    const owner = defaultsOwner(defaults);
    if (removeScripts && (owner === undefined || owner === installDir)) {
      remove(request.defaultsFile, `removed ${request.defaultsFile}`);
      // The default /etc/bk-ssm-secrets is ours; a directory of another name may hold more than this file.
      if (basename(dirname(request.defaultsFile)) === "bk-ssm-secrets") changes.push({ kind: "remove-directory-if-empty", path: dirname(request.defaultsFile) });
    }
  }
}
