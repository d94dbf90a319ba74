// Random values of any content round-trip byte for byte through the compiled
// binary's shell payload and bash `eval` in the real hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture } from "./support/fixture.ts";
import { envChanges, runHook } from "./support/job.ts";
import { fuzzSeed, randomValues, SHELL_SPECIALS } from "./support/random-values.ts";

const COUNT = 2000;
const seed = fuzzSeed();
const randomValue = randomValues(seed);

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
