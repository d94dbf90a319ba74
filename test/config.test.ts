import { test } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, loadConfig, normaliseBasePath, parseDefaultsFile, resolveConfig, resolveJobSettings } from "../src/job/config.ts";
import { Random } from "./support/random.ts";

test("the later phases' settings resolve as the whole configuration does, for every combination of job, file and default", () => {
  const values = { verbose: ["", "1", "yes", "0"], run: ["", "1", "0"], timeout: ["", "5", "0.5"] };
  for (const fromEnv of [false, true]) {
    for (const verbose of values.verbose) {
      for (const run of values.run) {
        for (const timeout of values.timeout) {
          const settings = { AWS_PARAMSTORE_SECRETS_VERBOSE: verbose, AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND: run, AWS_PARAMSTORE_SECRETS_TIMEOUT: timeout };
          const [env, file] = fromEnv ? [settings, { AWS_PARAMSTORE_SECRETS_VERBOSE: "1", AWS_PARAMSTORE_SECRETS_TIMEOUT: "9" }] : [{}, settings];
          const whole = resolveConfig(env, file, "job");
          const job = resolveJobSettings(env, file);
          assert.equal(job, { verbose: whole.verbose, runSshAgentDuringCommand: whole.runSshAgentDuringCommand, skipSshKeyNotFoundWarning: whole.skipSshKeyNotFoundWarning, timeoutMs: whole.timeoutMs, dumpEnv: whole.dumpEnv }, JSON.stringify({ env, file }));
        }
      }
    }
  }
  // Broken agent-only settings are not theirs to check; a broken timeout is.
  assert.is(resolveJobSettings({}, { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "relative" }).timeoutMs, 30_000);
  assert.throws(() => resolveJobSettings({ AWS_PARAMSTORE_SECRETS_TIMEOUT: "soon" }), (error: Error) => error instanceof ConfigError && /AWS_PARAMSTORE_SECRETS_TIMEOUT/.test(error.message));
});

test("defaults of the original hook", () => {
  const config = resolveConfig({});
  assert.is(config.basePath, "/vendors/buildkite");
  assert.is(config.defaultKey, "global");
  assert.is(config.verbose, false);
  assert.equal(config.globalSshKeys, []);
  assert.is(config.runSshAgentDuringCommand, false);
  assert.is(config.timeoutMs, 30_000);
  assert.is(config.skipSshKeyNotFoundWarning, false);
  assert.is(config.sources.basePath, "default");
});

test("the job environment overrides the defaults file, which overrides the default", () => {
  const file = { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/from/file", AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "shared" };
  const config = resolveConfig({ AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/from/env/" }, file);
  assert.is(config.basePath, "/from/env");
  assert.is(config.sources.basePath, "environment");
  assert.is(config.defaultKey, "shared");
  assert.is(config.sources.defaultKey, "defaults file");
  assert.is(config.sources.verbose, "default");
});

test("protected names an operator allows come from the defaults file only, never the job's environment", () => {
  assert.equal([...resolveConfig({}).allowedNames], []);
  const fromFile = resolveConfig({ BK_SSM_SECRETS_ALLOWED_NAMES: "GIT_SSH_COMMAND" }, { BK_SSM_SECRETS_ALLOWED_NAMES: "git-ssl-cainfo, BUILDKITE_GIT_CLONE_FLAGS" });
  assert.equal([...fromFile.allowedNames], ["GIT_SSL_CAINFO", "BUILDKITE_GIT_CLONE_FLAGS"]);
  assert.equal([...resolveConfig({ BK_SSM_SECRETS_ALLOWED_NAMES: "GIT_SSH_COMMAND" }).allowedNames], []);
  assert.throws(
    () => resolveConfig({}, { BK_SSM_SECRETS_ALLOWED_NAMES: "GOOD bad.name" }),
    (error: Error) => error instanceof ConfigError && error.message.startsWith('BK_SSM_SECRETS_ALLOWED_NAMES in the defaults file holds "bad.name"'),
  );
});

test("an empty variable does not override the file", () => {
  const config = resolveConfig({ AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "" }, { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/x" });
  assert.is(config.basePath, "/x");
});

test("base path normalisation and validation", () => {
  assert.is(resolveConfig({ AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/vendors/buildkite///" }).basePath, "/vendors/buildkite");
  assert.is(resolveConfig({ AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/" }).basePath, "");
  for (const bad of ["vendors/buildkite", "/vendors//buildkite", "/with space", "/aws/x", "/ssm", "/a$b"]) {
    assert.throws(() => resolveConfig({ AWS_PARAMSTORE_SECRETS_SECRETS_PATH: bad }), (e: Error) => e instanceof ConfigError && e.message.includes("AWS_PARAMSTORE_SECRETS_SECRETS_PATH"), bad);
  }
});

test("a base path is accepted and trimmed exactly as the original patterns did, for 20,000 random paths", () => {
  // The checks as they were written with regular expressions.
  const expected = (value: string) => {
    const path = value.trim();
    const trimmed = path.replace(/\/+$/, "");
    if (!/^\/[A-Za-z0-9_.\-/]*$/.test(path) || trimmed.includes("//") || /^\/(aws|ssm)(\/|$)/i.test(trimmed)) return "refused";
    return trimmed;
  };
  const actual = (value: string) => {
    try {
      return normaliseBasePath(value, "AWS_PARAMSTORE_SECRETS_SECRETS_PATH");
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return "refused";
    }
  };
  const random = new Random();
  const pieces = ["/", "/", "aws", "AwS", "ssm", "Ssm", "awsx", "x", "b-1", "_", ".", " ", "$", "é", "\t"];
  for (const fixed of ["", "/", "//", "/aws", "/AWS/", "/awsx", "/ssm/x", "/x/aws", " /a/ ", "/a//"]) assert.is(actual(fixed), expected(fixed), JSON.stringify(fixed));
  for (let i = 0; i < 20_000; i++) {
    const value = Array.from({ length: random.int(6) }, () => random.pick(pieces)).join("");
    assert.is(actual(value), expected(value), `${JSON.stringify(value)} (seed ${random.seed})`);
  }
});

test("global ssh list, verbose, run-during-command, timeout, the missing-key warning switch", () => {
  const config = resolveConfig({
    AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "/keys/a::/keys/b:",
    AWS_PARAMSTORE_SECRETS_VERBOSE: "1",
    AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND: "1",
    AWS_PARAMSTORE_SECRETS_TIMEOUT: "2.5",
    AWS_PARAMSTORE_SECRETS_SKIP_SSH_KEY_NOT_FOUND_WARNING: "1",
  });
  assert.equal(config.globalSshKeys, ["/keys/a", "/keys/b"]);
  assert.is(config.verbose, true);
  assert.is(config.runSshAgentDuringCommand, true);
  assert.is(config.timeoutMs, 2500);
  assert.is(config.skipSshKeyNotFoundWarning, true);
  assert.throws(() => resolveConfig({ AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "relative/key" }), /GLOBAL_SSH/);
  assert.throws(() => resolveConfig({ AWS_PARAMSTORE_SECRETS_TIMEOUT: "soon" }), /TIMEOUT/);
  assert.throws(() => resolveConfig({ AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "a/b" }), /DEFAULT_KEY/);
});

test("defaults file: export lines, quotes, comments; never executed", () => {
  const parsed = parseDefaultsFile(
    [
      "# written by bk-ssm-secrets install",
      'export AWS_PARAMSTORE_SECRETS_SECRETS_PATH="/vendors/buildkite"',
      "AWS_PARAMSTORE_SECRETS_DEFAULT_KEY='global'",
      'export AWS_PARAMSTORE_SECRETS_GLOBAL_SSH="/a:/b"',
      'OTHER="say \\"hi\\" \\$HOME"',
      "export AWS_PARAMSTORE_SECRETS_VERBOSE=$(touch /tmp/never)",
      "not an assignment",
      "",
    ].join("\n"),
  );
  assert.equal(parsed, {
    AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/vendors/buildkite",
    AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "global",
    AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "/a:/b",
    OTHER: 'say "hi" $HOME',
    AWS_PARAMSTORE_SECRETS_VERBOSE: "$(touch /tmp/never)",
  });
  // The odd verbose value is read as text and simply is not "1".
  assert.is(resolveConfig({}, parsed).verbose, false);
});

test("secret files directory and the env-dump switch", () => {
  const defaults = resolveConfig({});
  assert.equal([defaults.filesDir, defaults.dumpEnv], ["", false]);
  const set = resolveConfig({ AWS_PARAMSTORE_SECRETS_FILES_DIR: " /dev/shm/bk ", AWS_PARAMSTORE_SECRETS_DUMP_ENV: "1" });
  assert.equal([set.filesDir, set.dumpEnv], ["/dev/shm/bk", true]);
  assert.throws(() => resolveConfig({ AWS_PARAMSTORE_SECRETS_FILES_DIR: "relative/dir" }), (e: Error) => e instanceof ConfigError && e.message.includes("AWS_PARAMSTORE_SECRETS_FILES_DIR"));
});


test("for a job, the agent-only settings come from the defaults file: a different value in its environment is refused, an equal one is not", () => {
  const file = { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/agent/base", AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "/agent/keys/deploy" };
  const env = {
    AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/pipeline/base",
    AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "other-pipeline",
    AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: "/agent/keys/deploy",
    AWS_PARAMSTORE_SECRETS_FILES_DIR: "relative/is/never/even/validated",
    AWS_PARAMSTORE_SECRETS_VERBOSE: "1",
    AWS_PARAMSTORE_SECRETS_TIMEOUT: "5",
  };
  const config = resolveConfig(env, file, "job");
  assert.equal([config.basePath, config.defaultKey, config.globalSshKeys, config.filesDir], ["/agent/base", "global", ["/agent/keys/deploy"], ""]);
  assert.equal([config.verbose, config.timeoutMs], [true, 5000], "settings that only change what the job itself sees");
  assert.equal(config.refused.map((refused) => refused.variable), ["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "AWS_PARAMSTORE_SECRETS_DEFAULT_KEY", "AWS_PARAMSTORE_SECRETS_FILES_DIR"]);
  assert.match(config.refused[0]!.reason, /defaults file's value is used; .*BK_SSM_SECRETS_PIPELINE_OVERRIDES/);
  assert.match(config.refused[1]!.reason, /the agent's default value is used/);
  assert.is(resolveConfig({ AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/pipeline/base" }, file).basePath, "/pipeline/base", "an operator's own environment still wins");
});

test("BK_SSM_SECRETS_PIPELINE_OVERRIDES in the defaults file lets the job override what it lists, or all of them; never from the job itself", () => {
  const env = { AWS_PARAMSTORE_SECRETS_SECRETS_PATH: "/pipeline/base", AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "shared" };
  const some = resolveConfig(env, { BK_SSM_SECRETS_PIPELINE_OVERRIDES: "AWS_PARAMSTORE_SECRETS_DEFAULT_KEY, PATH" }, "job");
  assert.equal([some.basePath, some.defaultKey, some.sources.defaultKey], ["/vendors/buildkite", "shared", "environment"]);
  assert.equal(some.refused.map((refused) => refused.variable), ["AWS_PARAMSTORE_SECRETS_SECRETS_PATH"]);
  const all = resolveConfig(env, { BK_SSM_SECRETS_PIPELINE_OVERRIDES: "all" }, "job");
  assert.equal([all.basePath, all.defaultKey, all.refused], ["/pipeline/base", "shared", []]);
  const { config: fromJob } = loadConfig({ ...env, BK_SSM_SECRETS_PIPELINE_OVERRIDES: "all", BK_SSM_SECRETS_DEFAULTS_FILE: "/dev/null" }, { defaultsFile: "/nonexistent/defaults.env" });
  assert.is(fromJob.basePath, "/vendors/buildkite");
  assert.equal(fromJob.refused.map((refused) => refused.variable), ["AWS_PARAMSTORE_SECRETS_SECRETS_PATH", "AWS_PARAMSTORE_SECRETS_DEFAULT_KEY", "BK_SSM_SECRETS_DEFAULTS_FILE", "BK_SSM_SECRETS_PIPELINE_OVERRIDES"]);
});

test.run();
