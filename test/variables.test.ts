// The check for variables of the hooks' prefixes that the hooks do not know,
// and the guard that keeps its list in step with the code: every such name
// the sources or the hook scripts use must be known to it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { closest, editDistance } from "../src/core/closest.ts";
import { SETTINGS } from "../src/job/config.ts";
import { knownVariables, unknownVariables } from "../src/job/variables.ts";

const ROOT = join(import.meta.dir, "..");
const noDefaults = { path: "/etc/bk-ssm-secrets/defaults.env", values: {} };

test("edit distance counts insertions, deletions, substitutions and swapped neighbours as one each", () => {
  assert.is(editDistance("SECRETS_PATH", "SECRETS_PATH"), 0);
  assert.is(editDistance("SECRET_PATH", "SECRETS_PATH"), 1);
  assert.is(editDistance("SECRETS_PAHT", "SECRETS_PATH"), 1);
  assert.is(editDistance("", "abc"), 3);
  assert.is(closest("DEFAULT_KYE", ["VERBOSE", "DEFAULT_KEY", "GLOBAL_SSH"]), "DEFAULT_KEY");
  assert.is(closest("x", []), undefined);
});

test("every setting and hook variable is known; other names of the prefixes are not, from either source", () => {
  const env = Object.fromEntries(knownVariables().map((name) => [name, "1"]));
  assert.equal(unknownVariables({ ...env, PATH: "/bin", AWS_REGION: "eu-west-1", BUILDKITE_REPO: "x" }, noDefaults), []);
  const found = unknownVariables({ AWS_PARAMSTORE_SECRETS_VERBOS: "1", UNSET_ONE: undefined }, { path: "/etc/d.env", values: { BK_SSM_SECRETS_BINARY: "/x" } });
  assert.equal(
    found.map((entry) => [entry.variable, entry.where]),
    [
      ["AWS_PARAMSTORE_SECRETS_VERBOS", "the job's environment"],
      ["BK_SSM_SECRETS_BINARY", "/etc/d.env"],
    ],
  );
  assert.match(found[0]!.message, "did you mean AWS_PARAMSTORE_SECRETS_VERBOSE?");
  assert.match(found[1]!.message, "did you mean BK_SSM_SECRETS_BIN?");
});

test("a setting added to SETTINGS is known without another list to edit", () => {
  for (const { variable } of Object.values(SETTINGS)) assert.ok(knownVariables().includes(variable), variable);
});

test("names only the Python hook read get advice instead of a guess", () => {
  const [path, early] = unknownVariables({ AWS_PARAMSTORE_SECRETS_PATH: "/v/", AWS_SSM_SECRETS_RUN_SSH_AGENT_DURING_COMMAND: "1" }, noDefaults).map((entry) => entry.message);
  assert.match(early!, "set AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND=1");
  assert.match(path!, "`bk-ssm-secrets install --base-path` writes it to the defaults file");
});

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());

test("every variable of the prefixes that src/ and hooks/ use is known, or is one the Python hook read", () => {
  const used = new Set<string>();
  for (const dir of ["src", "hooks"]) {
    for (const path of filesUnder(join(ROOT, dir))) {
      for (const match of readFileSync(path, "utf8").matchAll(/\b(?:AWS_PARAMSTORE_SECRETS|AWS_SSM_SECRETS|BK_SSM_SECRETS)_[A-Z0-9_]*[A-Z0-9]\b/g)) used.add(match[0]);
    }
  }
  assert.ok(used.has("BK_SSM_SECRETS_BIN") && used.has("AWS_SSM_SECRETS_PLUGIN_ENABLED"), "the scan sees the hook scripts");
  const unknown = unknownVariables(Object.fromEntries([...used].map((name) => [name, "1"])), noDefaults).filter((entry) => !entry.message.includes("is not read by bk-ssm-secrets"));
  assert.equal(unknown.map((entry) => entry.variable), []);
});

test.run();
