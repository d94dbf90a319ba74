import { test } from "uvu";
import * as assert from "uvu/assert";
import { checkEnvKey, envNameForKey } from "../src/job/names.ts";

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

test("names that steer the hooks, agent, git or linker are refused", () => {
  for (const key of ["ssh_auth_sock", "SSH_AGENT_PID", "orig-ssh-auth-sock", "AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "aws-ssm-secrets-plugin-enabled", "buildkite-agent-access-token", "ld-preload", "LD_LIBRARY_PATH", "git-config-parameters", "BASH_ENV", "PATH"]) {
    const check = checkEnvKey(key);
    assert.not.ok(check.ok, key);
    if (!check.ok) assert.match(check.reason, /may not be set from a secret/);
  }
  assert.ok(checkEnvKey("BUILDKITE_API_TOKEN").ok);
  assert.ok(checkEnvKey("NPM_TOKEN").ok);
});

test.run();
