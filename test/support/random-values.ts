// Random values of any content for round-trip tests: shell specials, control
// characters (never NUL, which no environment variable can hold) and Unicode
// of every UTF-8 length. Seeded, so a failure can be replayed from the printed seed.

export const SHELL_SPECIALS = [..."$`'\"\\|&;<>(){}[]*?!~#%^=,:\n\r\t \u000b\u000c"];

export function randomValues(seed: number) {
  let state = seed || 1;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;

  function randomChar(): string {
    const roll = random();
    if (roll < 0.35) return pick(SHELL_SPECIALS);
    if (roll < 0.7) return String.fromCharCode(0x20 + Math.floor(random() * 95));
    if (roll < 0.8) return String.fromCharCode(1 + Math.floor(random() * 31)); // control characters, never NUL
    // Any Unicode scalar value outside the surrogates: two-, three- and four-byte UTF-8.
    let code: number;
    do code = 0x80 + Math.floor(random() * (0x10ffff - 0x80));
    while (code >= 0xd800 && code <= 0xdfff);
    return String.fromCodePoint(code);
  }

  /** Mostly short values, now and then one of 500 to 1500 characters. */
  return function randomValue(): string {
    const length = random() < 0.02 ? 500 + Math.floor(random() * 1000) : 1 + Math.floor(random() * 120);
    let value = "";
    while ([...value].length < length) value += randomChar();
    return value;
  };
}

/** FUZZ_SEED, or one from the clock. */
export function fuzzSeed(): number {
  return Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
}
