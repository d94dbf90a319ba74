// Shell code for the hooks to `eval`. Values are single-quoted, the only bash
// quoting in which no character is special, so any value (newlines, `$`,
// backticks, backslashes, unicode) round-trips byte for byte.

/** Quote a value as one bash word. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * True when `name` can be used as a bash variable name: an ASCII letter or
 * `_`, then letters, digits or `_`. Written out rather than as a regular
 * expression: the phases that only read their settings then compile none
 * (the first one costs a phase ~0.5 ms of start-up).
 */
export function isShellIdentifier(name: string): boolean {
  if (name === "") return false;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    const letter = (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
    const digit = code >= 48 && code <= 57;
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
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
