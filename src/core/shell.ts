// Shell code for the hooks to `eval`. Values are single-quoted, the only bash
// quoting in which no character is special, so any value (newlines, `$`,
// backticks, backslashes, unicode) round-trips byte for byte.
import { isAsciiDigit, onlyLettersDigitsAnd } from "./chars.ts";

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
