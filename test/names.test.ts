import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isShellIdentifier } from "../src/core/shell.ts";
import { Random } from "./support/random.ts";
import { ALLOWED_NAMES_SETTING, checkEnvKey, envNameForKey, JOB_CREDENTIALS, parseAllowedNames, protectedNames, protectionOf, splitList } from "../src/job/names.ts";

test("the original mapping: upper-case, - to _", () => {
  assert.is(envNameForKey("access-token"), "ACCESS_TOKEN");
  assert.is(envNameForKey("Mixed_Case-name"), "MIXED_CASE_NAME");
});

test("invalid shell names are refused", () => {
  for (const key of ["1abc", "a.b", "", "with space"]) {
    const check = checkEnvKey(key);
    assert.not.ok(check.ok, key);
  }
  // The original mapping turns a leading "-" into "_", which bash accepts;
  // but "_" alone is bash's own, overwritten after every command.
  assert.equal(checkEnvKey("-lead"), { ok: true, name: "_LEAD" });
  assert.not.ok(checkEnvKey("-").ok);
});

test("a bash name is exactly what bash's own pattern accepts, for 20,000 random strings", () => {
  const bash = /^[A-Za-z_][A-Za-z0-9_]*$/;
  const random = new Random();
  const alphabet = [..."aZ_09-.$ \u00e9\u0130\u212a"];
  for (const fixed of ["", "_", "A", "a1", "1a", "A-B", "\u212a", "A\u0000", "ŝ", "Z9_", "_1"]) assert.is(isShellIdentifier(fixed), bash.test(fixed), JSON.stringify(fixed));
  for (let i = 0; i < 20_000; i++) {
    const length = random.int(6);
    const name = Array.from({ length }, () => (random.next() < 0.8 ? random.pick(alphabet) : random.char())).join("");
    assert.is(isShellIdentifier(name), bash.test(name), `${JSON.stringify(name)} (seed ${random.seed})`);
  }
});

test("a list setting splits exactly as on runs of spaces, tabs, commas and colons, for 20,000 random strings", () => {
  const separators = /[ \t,:]+/;
  const random = new Random();
  const alphabet = [..."a_B ,:\t\n;-"];
  for (const fixed of ["", " ", ",,a", "a,,b", "a b:c\td", " a ", "all", "::"]) assert.equal(splitList(fixed), fixed.split(separators).filter(Boolean), JSON.stringify(fixed));
  for (let i = 0; i < 20_000; i++) {
    const value = Array.from({ length: random.int(8) }, () => random.pick(alphabet)).join("");
    assert.equal(splitList(value), value.split(separators).filter(Boolean), `${JSON.stringify(value)} (seed ${random.seed})`);
  }
});

test("names that steer the hooks, agent, git, ssh, bash or the linker are refused, with the reason", () => {
  const refused = [
    "ssh_auth_sock", "SSH_AGENT_PID", "orig-ssh-auth-sock", "AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "aws-ssm-secrets-plugin-enabled", "BK_SSM_SECRETS_ALLOWED_NAMES",
    "git-ssh-command", "GIT_SSH", "GIT_SSH_VARIANT", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_12", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG", "GIT_ASKPASS", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "GIT_PROXY_COMMAND", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR",
    "GIT_DIR", "GIT_WORK_TREE", "GIT_EXTERNAL_DIFF", "GIT_PAGER", "PAGER", "GIT_EDITOR", "EDITOR", "GIT_TRACE", "GIT_TRACE_CURL", "GIT_TRACE2_EVENT",
    "GIT_CURL_VERBOSE", "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO", "GIT_ALLOW_PROTOCOL", "git-config-parameters", "BUN_OPTIONS",
    "ld-preload", "LD_LIBRARY_PATH", "BASH_ENV", "PATH", "IFS", "PS4", "UID", "EUID", "PPID", "FUNCNAME", "GROUPS", "BASH_XTRACEFD",
  ];
  for (const key of refused) {
    const check = checkEnvKey(key);
    assert.not.ok(check.ok, key);
    if (!check.ok) assert.match(check.reason, new RegExp(`^${envNameForKey(key)} may not be set from a secret: \\w`));
  }
  for (const key of ["NPM_TOKEN", "GITHUB_TOKEN", "GIT_TOKEN", "GIT_AUTHOR_NAME", "SSH_PRIVATE_KEY", "AWS_ACCESS_KEY_ID", "AWS_REGION", "NODE_OPTIONS", "BASHFUL"]) {
    assert.ok(checkEnvKey(key).ok, key);
  }
});

// BEHAVIOUR.md's list, from the agent's env/protected.go: the agent itself
// refuses to let secrets set these, and re-reads several after each hook.
const AGENT_PROTECTED = `BUILDKITE_AGENT_ACCESS_TOKEN BUILDKITE_AGENT_DEBUG BUILDKITE_AGENT_ENDPOINT BUILDKITE_AGENT_JOB_TIMEOUT_FILE BUILDKITE_AGENT_PID
BUILDKITE_ARTIFACT_PATHS BUILDKITE_ARTIFACT_UPLOAD_DESTINATION BUILDKITE_BIN_PATH BUILDKITE_BUILD_PATH BUILDKITE_CHECKOUT_OVERRIDE_MODE BUILDKITE_COMMAND_EVAL
BUILDKITE_CONFIG_PATH BUILDKITE_CONTAINER_COUNT BUILDKITE_GIT_CLONE_MIRROR_FLAGS BUILDKITE_GIT_MIRRORS_LOCK_TIMEOUT BUILDKITE_GIT_MIRRORS_PATH
BUILDKITE_GIT_MIRRORS_SKIP_UPDATE BUILDKITE_GIT_MIRROR_CHECKOUT_MODE BUILDKITE_GIT_REMOTE_MIRROR_URL BUILDKITE_GIT_SUBMODULE_CLONE_CONFIG BUILDKITE_HOOKS_PATH
BUILDKITE_HOOKS_SHELL BUILDKITE_JOB_CONTEXT_DIR BUILDKITE_KUBERNETES_EXEC BUILDKITE_LOCAL_HOOKS_ENABLED BUILDKITE_PLUGINS_ALWAYS_CLONE_FRESH
BUILDKITE_PLUGINS_ENABLED BUILDKITE_PLUGINS_PATH BUILDKITE_REFSPEC BUILDKITE_REPO BUILDKITE_SHELL BUILDKITE_SSH_KEYSCAN BUILDKITE_GIT_CHECKOUT_FLAGS
BUILDKITE_GIT_CHECKOUT_TIMEOUT BUILDKITE_GIT_CLEAN_FLAGS BUILDKITE_GIT_CLONE_FLAGS BUILDKITE_GIT_COMMIT_VERIFICATION BUILDKITE_GIT_FETCH_FLAGS
BUILDKITE_GIT_SKIP_FETCH_EXISTING_COMMITS BUILDKITE_GIT_SPARSE_CHECKOUT_MODE BUILDKITE_GIT_SPARSE_CHECKOUT_PATHS BUILDKITE_GIT_SUBMODULES BUILDKITE_SKIP_CHECKOUT
BUILDKITE_COMMAND BUILDKITE_PIPELINE_SLUG`.split(/\s+/);

test("every BUILDKITE_* name the agent protects is refused; the job's own Buildkite credentials are not", () => {
  for (const name of AGENT_PROTECTED) assert.not.ok(checkEnvKey(name).ok, name);
  for (const name of JOB_CREDENTIALS) assert.ok(checkEnvKey(name).ok, name);
});

test("an operator can allow a protected name by its exact name, but not one that cannot work", () => {
  const allowed = parseAllowedNames("git_ssl_cainfo, BUILDKITE_GIT_CLONE_FLAGS:UID  ssh_auth_sock");
  assert.equal([...allowed], ["GIT_SSL_CAINFO", "BUILDKITE_GIT_CLONE_FLAGS", "UID", "SSH_AUTH_SOCK"]);
  assert.equal(checkEnvKey("git-ssl-cainfo", allowed), { ok: true, name: "GIT_SSL_CAINFO" });
  assert.equal(checkEnvKey("BUILDKITE_GIT_CLONE_FLAGS", allowed), { ok: true, name: "BUILDKITE_GIT_CLONE_FLAGS" });
  // A prefix entry is allowed name by name.
  assert.not.ok(checkEnvKey("GIT_SSL_NO_VERIFY", allowed).ok);
  const refused = checkEnvKey("GIT_SSL_NO_VERIFY");
  assert.ok(!refused.ok && refused.reason.includes(`list GIT_SSL_NO_VERIFY in ${ALLOWED_NAMES_SETTING}`));
  for (const name of ["UID", "SSH_AUTH_SOCK"]) {
    const check = checkEnvKey(name, allowed);
    assert.ok(!check.ok && !check.reason.includes(ALLOWED_NAMES_SETTING), name);
  }
  assert.throws(() => parseAllowedNames("GOOD, not.a.name"), /"not\.a\.name"/);
});

/** Run `script` in a clean bash, as the hooks run. */
function bash(script: string, ...args: string[]): string {
  const run = Bun.spawnSync(["bash", "--noprofile", "--norc", "-c", script, "bash", ...args], { env: { PATH: process.env.PATH! } });
  return run.stdout.toString();
}

test("every variable real bash will not let an export set (read-only, or kept by bash itself) is refused, and cannot be allowed", () => {
  // For each variable bash defines, export a value the way a hook's eval does, then read it back.
  const probe = `for name in $(compgen -v); do
    ( eval "export $name='probe-value'" 2>/dev/null && [[ "$(eval "printf %s \\"\\\${$name}\\"")" == probe-value ]] ) || echo "$name"
  done`;
  const misbehaving = bash(probe).split("\n").filter(Boolean);
  for (const name of ["UID", "EUID", "PPID", "BASHOPTS", "SHELLOPTS", "BASH_VERSINFO", "GROUPS", "RANDOM", "SECONDS", "LINENO"]) {
    assert.ok(misbehaving.includes(name), `bash ${name} expected to refuse or ignore an export`);
  }
  for (const name of misbehaving) {
    const protection = protectionOf(name);
    assert.ok(protection && !protection.allowable, `${name} misbehaves in bash but is not protected for good`);
  }
  const readonly = bash("readonly -p").split("\n").map((line) => /^declare -[a-zA-Z]*r[a-zA-Z]* (\w+)/.exec(line)?.[1]).filter(Boolean);
  assert.ok(readonly.length >= 5, readonly.join(" "));
  for (const name of readonly) assert.ok(protectionOf(name!)?.allowable === false, name);
});

test("docs/protected-names.md lists every entry of the table with its reason, and the open credentials", () => {
  const doc = readFileSync(join(import.meta.dir, "..", "docs", "protected-names.md"), "utf8");
  for (const entry of protectedNames()) {
    const row = doc.split("\n").find((line) => line.startsWith("|") && line.includes(`\`${entry.name}\``));
    assert.ok(row, `${entry.name} is not in docs/protected-names.md`);
    assert.ok(row!.includes(entry.reason), `the docs give another reason for ${entry.name}`);
    assert.ok(row!.includes(entry.allowable ? "yes" : "no"), `the docs do not say whether ${entry.name} can be allowed`);
  }
  for (const name of JOB_CREDENTIALS) assert.ok(doc.includes(`\`${name}\``), name);
});

test.run();
