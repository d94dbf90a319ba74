// Shell code for the hooks to `eval`. Values are single-quoted, the only bash
// quoting in which no character is special, so any value (newlines, `$`,
// backticks, backslashes, unicode) round-trips byte for byte.

/** Quote a value as one bash word. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` can be used as a bash variable name. */
export function isShellIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
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
