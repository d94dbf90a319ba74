// Hostile and random input through the compiled binary, the real hook and
// bash `eval`: values round-trip byte for byte, invalid names are skipped
// with a warning, and nothing in a value or a name is ever executed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BASE, startJobFixture, type Tree } from "./support/fixture.ts";
import { envChanges, runHook } from "./support/job.ts";
import { Random, SHELL_SPECIALS } from "./support/random.ts";
import { protectionOf } from "../src/job/names.ts";

const random = new Random();
const JOBS = 5;
const VALUES_PER_JOB = 2000;
const NAMES = 1000;

/** Run one job whose pipeline slug holds `tree` (relative to the slug) and return what it exported. */
async function exportedBy(tree: Tree, extra: Record<string, string> = {}) {
  const fixture = await startJobFixture(Object.fromEntries(Object.entries(tree).map(([rel, value]) => [`${BASE}/fuzz/${rel}`, value])));
  try {
    const before = fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "fuzz", AWS_PARAMSTORE_SECRETS_VERBOSE: "0", ...extra });
    const run = await runHook("environment", before);
    return { ...run, changes: envChanges(before, run.env) };
  } finally {
    await fixture.close();
  }
}

test(`${JOBS * VALUES_PER_JOB} random values round-trip exactly (seed ${random.seed})`, async () => {
  let mismatches = 0;
  for (let job = 0; job < JOBS; job++) {
    const values = new Map<string, string>();
    for (let i = 0; i < VALUES_PER_JOB; i++) values.set(`FUZZ_${i}`, random.value());
    const run = await exportedBy(Object.fromEntries([...values].map(([name, value]) => [`env/${name}`, value])));
    assert.is(run.status, 0, run.stderr);
    for (const [name, value] of values) if (run.changes[name] !== value) mismatches++;
    assert.is(Object.keys(run.changes).length, values.size + 1); // + the canary
  }
  assert.is(mismatches, 0, `${mismatches} values did not round-trip (seed ${random.seed})`);
});

test("the largest value SSM holds, an 8 KB advanced parameter, round-trips", async () => {
  const value = Array.from({ length: 8192 }, (_, i) => SHELL_SPECIALS[i % SHELL_SPECIALS.length]).join("");
  const run = await exportedBy({ "env/ADVANCED_8K": { value, tier: "Advanced" } });
  assert.is(run.changes.ADVANCED_8K, value);
});

// The naming rules the README documents: a shell identifier, and not in the
// table of protected names (whose own tests check it against real bash and git).
function expectedName(key: string): string | undefined {
  const name = key.toUpperCase().replaceAll("-", "_");
  return /^[A-Z_][A-Z0-9_]*$/.test(name) && !protectionOf(name) ? name : undefined;
}

test(`${NAMES} random parameter names: valid ones exported, the rest skipped with a warning (seed ${random.seed})`, async () => {
  const tree: Tree = {};
  const expected = new Map<string, string>();
  const skipped: string[] = [];
  const seen = new Set<string>();
  while (Object.keys(tree).length < NAMES) {
    const key = random.name();
    const mapped = key.toUpperCase().replaceAll("-", "_");
    if (seen.has(mapped) || mapped === "CANARY_SECRET") continue; // two keys for one variable would override each other
    seen.add(mapped);
    const value = `value of ${key}`;
    tree[`env/${key}`] = value;
    const name = expectedName(key);
    if (name) expected.set(name, value);
    else skipped.push(key);
  }
  const run = await exportedBy(tree);
  assert.is(run.status, 0, run.stderr);
  const { CANARY_SECRET: _, ...exported } = run.changes;
  assert.equal(exported, Object.fromEntries(expected));
  for (const key of skipped) assert.ok(run.stderr.includes(`skipping ${BASE}/fuzz/env/${key}:`), `no warning for ${key}`);
  assert.ok(skipped.length > 0 && expected.size > 0, "the sample holds both valid and invalid names");
});

test("values that try to run commands are only ever data", async () => {
  const dir = mkdtempSync("/tmp/bk-sentinel-");
  const sentinel = join(dir, "executed");
  const attacks = [
    `$(touch ${sentinel})`, `\`touch ${sentinel}\``, `'; touch ${sentinel}; '`, `"; touch ${sentinel}; "`,
    `'$(touch ${sentinel})'`, `\n touch ${sentinel}\n`, `x' && touch ${sentinel} && echo '`, `$'\\x27'; touch ${sentinel}`,
    `\\'; touch ${sentinel} #`, `\${IFS}touch\${IFS}${sentinel}`, `'"'"'; touch ${sentinel}; '"'"'`,
  ];
  try {
    const run = await exportedBy(Object.fromEntries(attacks.map((value, i) => [`env/ATTACK_${i}`, value])));
    assert.is(run.status, 0, run.stderr);
    attacks.forEach((value, i) => assert.is(run.changes[`ATTACK_${i}`], value));
    assert.not.ok(existsSync(sentinel), "a value was executed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
