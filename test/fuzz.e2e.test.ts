// Random values of any content round-trip byte for byte through the compiled
// binary's shell payload and bash `eval` in the real hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture } from "./support/fixture.ts";
import { envChanges, runHook } from "./support/job.ts";

const COUNT = 2000;
const SHELL_SPECIALS = [..."$`'\"\\|&;<>(){}[]*?!~#%^=,:\n\r\t \u000b\u000c"];

// A seeded generator, so a failure can be replayed from the printed seed.
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
let state = seed || 1;
const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
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

function randomValue(): string {
  const length = random() < 0.02 ? 500 + Math.floor(random() * 1000) : 1 + Math.floor(random() * 120);
  let value = "";
  while ([...value].length < length) value += randomChar();
  return value;
}

test(`${COUNT} random values round-trip exactly (seed ${seed})`, async () => {
  const values = new Map<string, string>();
  for (let i = 0; i < COUNT; i++) values.set(`FUZZ_${i}`, randomValue());
  // The largest value SSM holds: an advanced parameter of 8 KB.
  values.set("ADVANCED_8K", Array.from({ length: 8192 }, (_, i) => SHELL_SPECIALS[i % SHELL_SPECIALS.length]).join(""));
  const tree = Object.fromEntries(
    [...values].map(([name, value]) => [`${BASE}/fuzz/env/${name}`, name === "ADVANCED_8K" ? { value, tier: "Advanced" as const } : value]),
  );
  const fixture = await startJobFixture(tree);
  try {
    const before = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "fuzz", AWS_PARAMSTORE_SECRETS_VERBOSE: "0" });
    const run = await runHook("environment", before);
    assert.is(run.status, 0, run.stderr);
    const changes = envChanges(before, run.env);
    let mismatches = 0;
    for (const [name, value] of values) if (changes[name] !== value) mismatches++;
    assert.is(mismatches, 0, `${mismatches} values did not round-trip (seed ${seed})`);
    assert.is(Object.keys(changes).length, values.size + 1); // + the canary
  } finally {
    await fixture.close();
  }
});

test.run();
