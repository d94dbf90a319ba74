// Logging for the hooks. Everything goes to stderr: a phase's stdout is shell
// code that the hook evaluates, so nothing else may ever be written there.
// In a Buildkite job the lines follow its log conventions
// (https://buildkite.com/docs/pipelines/managing-log-output): `~~~` opens a
// collapsed group, warnings and errors are lines inside it, and `^^^ +++`
// expands the group so the operator sees them without opening a new section.
// On a terminal (no Buildkite job) they are plain `warning:`/`error:` lines.
//
// No colour library and no process.stderr here: the first touch of either
// loads Bun's stream modules, which cost a phase more than its own work.
import { isTerminal, writeAll } from "./stdio.ts";

export interface Logger {
  /**
   * A collapsed group header (`~~~`), held back until the group's first line
   * or flush(), and written with it: opening a group costs nothing before
   * there is something to put in it.
   */
  group(title: string): void;
  /** Write a group header that group() holds back, if any, with no line under it yet. */
  flush(): void;
  info(message: string): void;
  /** Only in verbose mode. Never pass a secret value here. */
  debug(message: string): void;
  /** A `:warning:` line, and the group expanded so the operator sees it; `warning:` on a terminal. */
  warn(message: string): void;
  /** One clear line saying what failed and what to do, its group expanded; `error:` on a terminal. */
  error(message: string): void;
  /** Open the current group (`^^^ +++`) in a job's log; nothing on a terminal. */
  expand(): void;
  readonly verbose: boolean;
}

export interface LoggerOptions {
  verbose: boolean;
  color: boolean;
  write: (text: string) => void;
  /** Written into a Buildkite job's log (see inJob), rather than for a person at a terminal. */
  job?: boolean;
}

/** Whether this process runs inside a Buildkite job, whose log is rendered by Buildkite: the agent sets BUILDKITE=true. */
export function inJob(env: NodeJS.ProcessEnv): boolean {
  return env.BUILDKITE === "true" || Boolean(env.BUILDKITE_JOB_ID);
}

/** Buildkite's marker that expands the group the lines above belong to. */
export const EXPAND_GROUP = "^^^ +++";

// What a terminal acts on rather than shows, or shows as nothing: controls
// (C0, DEL, C1), the line and paragraph separators, and format characters
// (zero-width ones, soft hyphens, the marks and overrides that reorder
// bidirectional text). Made on first use: a phase's first regular
// expression costs it ~0.5 ms, and phases print none of this.
let unprintable: RegExp | undefined;

/**
 * `text` for a person's terminal, with those characters written out as
 * `\u{1b}`. Operator output shows text that others can write (access list
 * entries, the paths an agent's hooks record): an escape sequence in one
 * could recolour a line, move the cursor over a "fail" or set the clipboard.
 */
export function printable(text: string): string {
  return text.replace((unprintable ??= /[\p{Cc}\p{Cf}\u2028\u2029]/gu), (character) => `\\u{${character.codePointAt(0)!.toString(16)}}`);
}

/** `text`'s lines kept, and what is in them shown as text (printable): for an error whose paths may come from files others write. */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}

/** A failure as its own line(s): the group expanded and a `:no_entry:` line in a job, `error: …` on a terminal. */
export function errorText(message: string, options: { job: boolean; color: boolean }): string {
  const c = createColors(options.color);
  return options.job ? `${EXPAND_GROUP}\n:no_entry: ${c.red(`bk-ssm-secrets: ${message}`)}\n` : `${c.red("error:")} ${message}\n`;
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  return isTTY && !env.NO_COLOR;
}

/** picocolors' codes, and its way with a nested style (each inner close turned into `reopen`), so the bytes are the same. */
const style = (enabled: boolean, open: string, close: string, reopen = open) => (text: string) => (enabled ? `${open}${text.replaceAll(close, reopen)}${close}` : text);

/** The styles the logger uses, as picocolors' createColors(enabled) gives them. */
function createColors(enabled: boolean) {
  return {
    bold: style(enabled, "\x1b[1m", "\x1b[22m", "\x1b[22m\x1b[1m"),
    dim: style(enabled, "\x1b[2m", "\x1b[22m", "\x1b[22m\x1b[2m"),
    yellow: style(enabled, "\x1b[33m", "\x1b[39m"),
    red: style(enabled, "\x1b[31m", "\x1b[39m"),
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const c = createColors(options.color);
  let header = "";
  const write = (text: string) => {
    options.write(header + text);
    header = "";
  };
  const line = (text: string) => write(text + "\n");
  const job = options.job ?? false;
  // A group is expanded once, at its first warning.
  let expanded = false;
  const expand = () => {
    if (job && !expanded) line(EXPAND_GROUP);
    expanded = true;
  };
  return {
    verbose: options.verbose,
    group: (title) => {
      expanded = false;
      header += `${job ? `~~~ ${c.bold(title)}` : c.bold(title)}\n`;
    },
    flush: () => {
      if (header) write("");
    },
    info: (message) => line(message),
    debug: (message) => {
      if (options.verbose) line(c.dim(`[bk-ssm-secrets] ${message}`));
    },
    warn: (message) => {
      if (!job) return line(`${c.yellow("warning:")} ${message}`);
      expand();
      line(`:warning: ${c.yellow(message)}`);
    },
    expand,
    error: (message) => write(errorText(message, { job, color: options.color })),
  };
}

/** The logger every command uses: stderr, verbose when the configuration says so. */
export function stderrLogger(verbose: boolean, env: NodeJS.ProcessEnv = process.env): Logger {
  return createLogger({
    verbose,
    color: colorWanted(env, isTerminal(2)),
    job: inJob(env),
    // Synchronous, so no log line is lost when a phase exits right after it.
    write: (text) => writeAll(2, text),
  });
}
