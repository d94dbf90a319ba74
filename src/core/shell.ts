// Shell code for the hooks to `eval`. Values are single-quoted, the only bash
// quoting in which no character is special, so any value (newlines, `$`,
// backticks, backslashes, unicode) round-trips byte for byte.
import { isAsciiDigit, onlyLettersDigitsAnd, utf8Length } from "./chars.ts";

/** Quote a value as one bash word. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * True when `name` can be used as a bash variable name: an ASCII letter or
 * `_`, then letters, digits or `_` (written out: see chars.ts).
 */
export function isShellIdentifier(name: string): boolean {
  return name !== "" && !isAsciiDigit(name.charCodeAt(0)) && onlyLettersDigitsAnd(name, "_");
}

function assertIdentifier(name: string): void {
  // Names reaching here were validated by the plan; this guards the invariant
  // that nothing but an identifier is ever spliced into shell code unquoted.
  if (!isShellIdentifier(name)) throw new Error(`refusing to write shell code for the invalid name ${JSON.stringify(name)}`);
}

export function exportStatement(name: string, value: string): string {
  assertIdentifier(name);
  return `export ${name}=${shellQuote(value)}\n`;
}

export function unsetStatement(name: string): string {
  assertIdentifier(name);
  return `unset ${name}\n`;
}

/**
 * A phase's script as its hook takes it: a first line with a random
 * nonce, the script, and a last line with the nonce again and the number of
 * bytes (UTF-8) before that line. The hook evaluates nothing that does not end with
 * the right count (hooks/lib/run-phase.bash), so a payload that was cut, or
 * that has a part of it twice, is never run (the count is of length only: a
 * part lost and another of the same size repeated would pass, which no known
 * write failure makes); and since no value can know the nonce, a value that
 * holds a line like the last cannot pass for the end of a payload cut just
 * after it. The nonce is a UUID from Web Crypto, 122 random bits: node:crypto
 * would cost a phase ~10 ms to load, and 16 hex digits built from
 * getRandomValues cost pre-checkout 1.2 ms more in a compiled probe. Empty
 * stays empty: there is nothing to evaluate. (Git's credential helper prints
 * credential lines for git, not shell code, and has none of this.)
 */
export function hookPayload(script: string, givenNonce?: string): string {
  if (script === "") return "";
  // Drawn only here, for a payload: a phase that prints nothing pays nothing.
  const nonce = givenNonce ?? crypto.randomUUID();
  const body = `${payloadFirstLine(nonce)}\n${script.endsWith("\n") ? script : `${script}\n`}`;
  // Counted, so that the payload is encoded once, whole: encoding its parts
  // into one buffer cost environment 0.4 MiB of peak RSS (39.2 against
  // 38.8 MiB, medians of 15).
  return `${body}${payloadLastLine(nonce, utf8Length(body))}\n`;
}

/** The first line of a hook's payload, as hooks/lib/run-phase.bash expects it. */
export function payloadFirstLine(nonce: string): string {
  return `# bk-ssm-secrets payload ${nonce}`;
}

/** The last line of a hook's payload: the nonce again, and the bytes before this line. */
export function payloadLastLine(nonce: string, bytes: number): string {
  return `# bk-ssm-secrets payload ${nonce}: ${bytes} bytes above`;
}
