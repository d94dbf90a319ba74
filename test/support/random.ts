// Seeded random input for fuzz tests, so a failure can be replayed from the
// seed the test prints (FUZZ_SEED=<seed>).

export const SHELL_SPECIALS = [..."$`'\"\\|&;<>(){}[]*?!~#%^=,:\n\r\t \u000b\u000c"];

/** Characters SSM allows in a parameter name segment. */
export const SSM_NAME_CHARS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"];

export class Random {
  private state: number;
  constructor(readonly seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) || 1) {
    this.state = seed;
  }

  /** Park–Miller: small, fast and good enough to spread test inputs. */
  next(): number {
    this.state = (this.state * 48271) % 2147483647;
    return this.state / 2147483647;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** One character: shell metacharacters, printable ASCII, control characters (never NUL), any Unicode scalar. */
  char(): string {
    const roll = this.next();
    if (roll < 0.35) return this.pick(SHELL_SPECIALS);
    if (roll < 0.7) return String.fromCharCode(0x20 + this.int(95));
    if (roll < 0.8) return String.fromCharCode(1 + this.int(31));
    let code: number;
    do code = 0x80 + this.int(0x10ffff - 0x80);
    while (code >= 0xd800 && code <= 0xdfff);
    return String.fromCodePoint(code);
  }

  /** A value SSM accepts in a standard parameter: 1 to ~1500 characters, mostly short. */
  value(): string {
    const length = this.next() < 0.02 ? 500 + this.int(1000) : 1 + this.int(120);
    let value = "";
    while ([...value].length < length) value += this.char();
    return value;
  }

  /** A parameter name segment of SSM's characters. */
  name(): string {
    return Array.from({ length: 1 + this.int(24) }, () => this.pick(SSM_NAME_CHARS)).join("");
  }
}
