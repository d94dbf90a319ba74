// Logging for the hooks. Everything goes to stderr: a phase's stdout is shell
// code that the hook evaluates, so nothing else may ever be written there.
// Lines follow Buildkite's log conventions: `~~~` opens a collapsed group,
// `+++` an expanded one for what the operator must see.
//
// No colour library and no process.stderr here: the first touch of either
// loads Bun's stream modules, which cost a phase more than its own work.
import { isTerminal, writeAll } from "./stdio.ts";

export interface Logger {
  /** A collapsed group header (`~~~`). */
  group(title: string): void;
  info(message: string): void;
  /** Only in verbose mode. Never pass a secret value here. */
  debug(message: string): void;
  /** An expanded `+++ :warning:` group: the operator should see it. */
  warn(message: string): void;
  /** One clear line saying what failed and what to do. */
  error(message: string): void;
  readonly verbose: boolean;
}

export interface LoggerOptions {
  verbose: boolean;
  color: boolean;
  write: (text: string) => void;
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
  const line = (text: string) => options.write(text + "\n");
  return {
    verbose: options.verbose,
    group: (title) => line(`~~~ ${c.bold(title)}`),
    info: (message) => line(message),
    debug: (message) => {
      if (options.verbose) line(c.dim(`[bk-ssm-secrets] ${message}`));
    },
    warn: (message) => line(`+++ :warning: ${c.yellow(message)}`),
    error: (message) => line(`+++ :no_entry: ${c.red(`bk-ssm-secrets: ${message}`)}`),
  };
}

/** The logger every command uses: stderr, verbose when the configuration says so. */
export function stderrLogger(verbose: boolean, env: NodeJS.ProcessEnv = process.env): Logger {
  return createLogger({
    verbose,
    color: colorWanted(env, isTerminal(2)),
    // Synchronous, so no log line is lost when a phase exits right after it.
    write: (text) => writeAll(2, text),
  });
}
