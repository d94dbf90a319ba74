// Character classes written out as loops. The checks that run before a
// phase's first request (settings, slugs, job ids) use these rather than
// regular expressions: a phase's first regular expression costs it ~0.5 ms,
// and each new one more (measured in compiled probes; BENCHMARKS.md §7).

export const isAsciiLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
export const isAsciiDigit = (code: number) => code >= 48 && code <= 57;
export const isLowerAsciiLetter = (code: number) => code >= 97 && code <= 122;

/** Whether every character of `text` passes `test` (by character code); true for "". For short strings: a call per character. */
export function everyCharacter(text: string, test: (code: number) => boolean): boolean {
  for (let i = 0; i < text.length; i++) if (!test(text.charCodeAt(i))) return false;
  return true;
}

/** Whether every character of `text` (from `from` on) is an ASCII letter, an ASCII digit, or one of `others`. */
export function onlyLettersDigitsAnd(text: string, others: string, from = 0): boolean {
  // Character codes only, and no call per character: this runs cold, in the
  // interpreter, for every name a job gets (measured 4x faster than
  // isAsciiLetter() and others.includes(text[i])).
  next: for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) continue;
    for (let j = 0; j < others.length; j++) if (others.charCodeAt(j) === code) continue next;
    return false;
  }
  return true;
}

/** What JavaScript's `\s` matches (and `trim()` removes). */
const WHITESPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff]);

/** Whether `text` holds any character `\s` matches. */
export function hasWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (WHITESPACE.has(code) || (code >= 0x2000 && code <= 0x200a)) return true;
  }
  return false;
}

/**
 * The number of bytes TextEncoder writes for `text`: UTF-8, with a lone
 * surrogate written as U+FFFD (3 bytes). Counted rather than encoded, so that
 * a payload is encoded once (src/core/shell.ts).
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: one code point of four bytes.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
