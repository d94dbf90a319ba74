// The pure parts of the operator commands: targets, kinds and their value
// checks, the private-key passphrase test, tiers, tables, and doctor's report.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jobIdentity } from "../src/job/acl.ts";
import { imagineJob } from "../src/commands/doctor.ts";
import { editedList, tierFor } from "../src/commands/put.ts";
import { editDistance, nearest } from "../src/core/closest.ts";
import { resolveConfig } from "../src/job/config.ts";
import { jobCredentials } from "../src/secrets/gitcredentials.ts";
import { isPassphraseProtected, planJobKeys } from "../src/ssh/keys.ts";
import type { MachineFacts } from "../src/commands/doctor/machine.ts";
import { buildReport, credentialSource, renderReport, withoutCredentials } from "../src/commands/doctor/report.ts";
import { asRow, renderJson, renderTable } from "../src/commands/output.ts";
import { printable } from "../src/core/log.ts";
import { planJob } from "../src/job/plan.ts";
import { entryFor, valueFor } from "../src/secrets/secret-kinds.ts";
import type { Slug } from "../src/job/slug.ts";
import { resolveTarget } from "../src/job/target.ts";

const config = resolveConfig({});
const pipeline: Slug = { kind: "pipeline", name: "app" };
const global: Slug = { kind: "default", name: "global" };

/** The UsageError message `run` throws; fails when it does not throw. */
function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.is((error as Error).name, "UsageError");
    return (error as Error).message;
  }
  throw new assert.Assertion({ message: "expected a UsageError", operator: "throws", generated: false, actual: undefined, expects: undefined });
}

test("target: exactly one of --pipeline, --repo, --global, by the job's slug rules", () => {
  assert.equal(resolveTarget({ pipeline: "app" }, config), { slug: pipeline, path: "/vendors/buildkite/app" });
  assert.equal(resolveTarget({ repo: "git@github.com:acme/app.git" }, config), {
    slug: { kind: "repository", name: "github.com_acme_app.git" },
    path: "/vendors/buildkite/github.com_acme_app.git",
  });
  assert.equal(resolveTarget({ global: true }, resolveConfig({ AWS_PARAMSTORE_SECRETS_DEFAULT_KEY: "shared" })).path, "/vendors/buildkite/shared");
  assert.match(usageError(() => resolveTarget({}, config)), /exactly one of --pipeline SLUG, --repo URL or --global/);
  assert.match(usageError(() => resolveTarget({ pipeline: "app", global: true }, config)), /exactly one/);
  assert.match(usageError(() => resolveTarget({ pipeline: "a/b" }, config)), /not a pipeline slug/);
  const bad = usageError(() => resolveTarget({ repo: "https://user:hunter2@" }, config));
  assert.match(bad, /not a repository URL/);
  assert.not.match(bad, /hunter2/, "a URL that may carry a token is not repeated");
});

test("kinds: where each lives below the slug", () => {
  const relative = (kind: string, name?: string, slug = pipeline) => entryFor(kind, name, slug).relative;
  assert.is(relative("env", "access-token"), "env/access-token");
  assert.match(entryFor("env", "access-token", pipeline).effect, /ACCESS_TOKEN/);
  assert.is(relative("ssh-key"), "ssh/key");
  assert.is(relative("git-credentials"), "git-credentials");
  assert.is(relative("file", "kubeconfig"), "file/kubeconfig");
  assert.is(relative("allowed-pipelines"), "allowed_pipelines");
  assert.is(relative("allowed-teams", undefined, global), "allowed_teams");
});

test("kinds: each effect says what a job really gets", () => {
  assert.match(entryFor("ssh-key", undefined, pipeline).effect, /ssh-agent.*offered before the repository's key/);
  assert.match(entryFor("file", "kubeconfig", pipeline).effect, /0600.*path in KUBECONFIG/);
  assert.match(entryFor("git-credentials", undefined, pipeline).effect, /credential helper/);
});

test("kinds: names are checked as a job would check them", () => {
  assert.match(usageError(() => entryFor("env", "ssh-auth-sock", pipeline)), /SSH_AUTH_SOCK may not be set/);
  assert.match(usageError(() => entryFor("env", "has.dot", pipeline)), /not a valid environment variable name/);
  assert.match(usageError(() => entryFor("env", undefined, pipeline)), /needs a NAME/);
  // A file reaches the job as a variable holding its path: the variable rules apply.
  assert.match(usageError(() => entryFor("file", "../etc", pipeline)), /cannot use file "\.\.\/etc"/);
  assert.match(usageError(() => entryFor("file", "ca.pem", pipeline)), /not a valid environment variable name/);
  assert.match(usageError(() => entryFor("git-credentials", "extra", pipeline)), /takes no NAME argument: values are read from stdin/);
  assert.not.match(usageError(() => entryFor("git-credentials", "https://u:tok@host", pipeline)), /tok/, "the argument may be the value: never repeated");
  assert.match(usageError(() => entryFor("secret", undefined, pipeline)), /unknown kind "secret" \(did you mean secretsmanager\?\): the kinds are env, ssh-key/);
  assert.match(usageError(() => entryFor("allowed_teams", undefined, pipeline)), /unknown kind "allowed_teams" \(did you mean allowed-teams\?\)/);
  assert.match(usageError(() => entryFor("ssh-key", undefined, global)), /AWS_PARAMSTORE_SECRETS_GLOBAL_SSH/);
});

test("values: stored byte for byte, except access lists, which are normalised", () => {
  const tricky = "line one\r\nline 'two' \"three\" $(four) `five` \\six\n\nünïcødé 🔑\n";
  assert.is(valueFor("env", tricky), tricky);
  assert.is(valueFor("file", tricky), tricky);
  assert.is(valueFor("allowed-teams", "  ops\n\ndev\r\nops\n"), "ops\ndev");
  assert.match(usageError(() => valueFor("env", "")), /empty/);
  assert.match(usageError(() => valueFor("file", "x".repeat(8193))), /8193 characters: SSM holds at most 8192/);
  assert.match(usageError(() => valueFor("allowed-teams", "\n \n")), /would admit nobody; to lift the restriction, bk-ssm-secrets rm allowed-teams/);
});

test("values: bad lines are reported by number, never by content", () => {
  const secretish = "not a slug at all";
  const message = usageError(() => valueFor("allowed-pipelines", `app\n${secretish}\nother\nbad/one\n`));
  assert.match(message, /allowed-pipelines on stdin, lines 2, 4: not a pipeline slug/);
  assert.not.match(message, /not a slug at all|bad\/one/);

  const credentials = "https://x-access-token:s3cr3t-token@github.com\n\nhttps://git.example.com/org\nhttps://user:pa%40ss@git.example.com:8443/org/repo.git\nftp://u:p@host\n";
  const bad = usageError(() => valueFor("git-credentials", credentials));
  assert.match(bad, /git-credentials on line 3 of stdin: it is not of the form.*; line 5 of stdin: only https:\/\//);
  assert.not.match(bad, /s3cr3t|example|ftp/);
  assert.is(valueFor("git-credentials", "https://u:t@github.com\n"), "https://u:t@github.com\n");
  assert.match(usageError(() => valueFor("git-credentials", "\n")), /no credentials on stdin/);
  assert.is(valueFor("git-credentials", "http://u:t@localhost:8080"), "http://u:t@localhost:8080");
  for (const line of ["https://github.com", "https://u@github.com", "https://:t@github.com", "https://u:t@github.com extra", "u:t@github.com"]) {
    assert.match(usageError(() => valueFor("git-credentials", line)), /line 1 of stdin/, line);
  }
});

test("private keys: passphrase protection is recognised in every format ssh-keygen writes", () => {
  const dir = mkdtempSync(join(tmpdir(), "bk-keys-"));
  try {
    const key = (name: string, args: string[]) => {
      const result = Bun.spawnSync(["ssh-keygen", "-q", ...args, "-C", "test", "-f", join(dir, name)], { stderr: "pipe" });
      assert.is(result.exitCode, 0, result.stderr.toString());
      return readFileSync(join(dir, name), "utf8");
    };
    assert.not.ok(isPassphraseProtected(key("plain-ed25519", ["-t", "ed25519", "-N", ""])));
    assert.ok(isPassphraseProtected(key("locked-ed25519", ["-t", "ed25519", "-N", "passphrase"])));
    assert.not.ok(isPassphraseProtected(key("plain-pem", ["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", ""])));
    assert.ok(isPassphraseProtected(key("locked-pem", ["-t", "rsa", "-b", "1024", "-m", "PEM", "-N", "passphrase"])));
    assert.ok(isPassphraseProtected(key("locked-pkcs8", ["-t", "ecdsa", "-m", "PKCS8", "-N", "passphrase"])));
    assert.not.ok(isPassphraseProtected("not a key"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("nearest: a typo gets the closest name; a wild guess gets nothing", () => {
  assert.is(editDistance("pipelin", "pipeline"), 1);
  assert.is(editDistance("evn", "env"), 1, "a swap of neighbours is one edit");
  const commands = ["doctor", "ls", "put", "rm", "install", "environment", "pre-exit"];
  assert.equal(["lss", "doctr", "PUT", "instal", "pre", "frobnicate", "x", ""].map((typed) => nearest(typed, commands)), ["ls", "doctor", "put", "install", "pre-exit", undefined, undefined, undefined]);
});

test("access lists: --add and --remove keep order, add at the end, never duplicate", () => {
  assert.equal(editedList(["app", "deploy"], ["qa", "app", "qa"], []), { list: ["app", "deploy", "qa"], absent: [] });
  assert.equal(editedList(["app", "deploy"], ["x"], ["app", "ghost"]), { list: ["deploy", "x"], absent: ["ghost"] });
  assert.equal(editedList(["app"], [], ["app"]), { list: [], absent: [] });
  assert.equal(editedList([], ["app"], ["app"]), { list: [], absent: ["app"] }, "added and removed at once: removed");
});

test("tier: Advanced only past 4096 bytes of UTF-8", () => {
  assert.is(tierFor("x".repeat(4096)), undefined);
  assert.is(tierFor("x".repeat(4097)), "Advanced");
  assert.is(tierFor("é".repeat(2049)), "Advanced", "2049 characters, 4098 bytes");
});

test("tables: aligned on the widest cell, plain without colour, last column unpadded", () => {
  const table = renderTable(
    [
      { key: "name", title: "NAME" },
      { key: "version", title: "VERSION" },
      { key: "detail", title: "DETAIL" },
    ],
    [asRow({ name: "/a/long/name", version: 12, detail: "x" }), asRow({ name: "/b", version: null, detail: "" })],
    { color: false },
  );
  assert.is(table, "NAME          VERSION  DETAIL\n/a/long/name  12       x\n/b\n");
  const colored = renderTable([{ key: "status", title: "STATUS" }], [{ status: "fail" }], { color: true });
  assert.match(colored, /\x1b\[31mfail/);
});

test("tables show what a terminal would act on written out: escapes, controls, bidirectional overrides", () => {
  // An access list entry or a recorded path that would erase its line and write "ok" in its place.
  const hostile = "dev\x1b[2K\rok\u202eevil\x9b\u2066\x7f";
  const table = renderTable([{ key: "entries", title: "ENTRIES" }, { key: "detail", title: "DETAIL" }], [{ entries: hostile, detail: "tab\there" }], { color: false });
  const shown = "dev\\u{1b}[2K\\u{d}ok\\u{202e}evil\\u{9b}\\u{2066}\\u{7f}";
  assert.is(table, `ENTRIES${" ".repeat(shown.length - "ENTRIES".length)}  DETAIL\n${shown}  tab\\u{9}here\n`, "aligned on the text as shown");
  assert.is(printable("plain /vendors/buildkite/app é ✓"), "plain /vendors/buildkite/app é ✓");
  // Invisible ones too: an entry "dev" + a zero-width space looks like dev and admits nobody.
  assert.is(printable("dev\u200b\u00ad\u{e0041}\u2028"), "dev\\u{200b}\\u{ad}\\u{e0041}\\u{2028}");
});

test("doctor's report and every JSON output show the same characters written out; JSON keeps their values", () => {
  const hostile = "x\x1b[2K\r\x9b\u202e\u200b";
  const report = renderReport({ ok: false, verdict: `a job ${hostile}`, problems: [hostile], causes: [{ cause: "this machine", problems: [`problem ${hostile}`] }], sections: [] }, { color: false });
  assert.not.match(report, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e\u200b]/, "nothing raw but the lines' own ends");
  assert.match(report, "FAIL: a job x\\u{1b}[2K\\u{d}\\u{9b}\\u{202e}\\u{200b}");
  assert.match(report, "  - problem x\\u{1b}[2K");
  const json = renderJson({ entry: hostile, astral: "\u{e0041}" });
  assert.not.match(json, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e\u200b]|\u{e0041}/u);
  assert.equal(JSON.parse(json), { entry: hostile, astral: "\u{e0041}" });
});

test("doctor's job: flags override the job's variables, each saying where it came from", () => {
  const env = { BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_BUILD_CREATOR_TEAMS: "dev", BUILDKITE_UNBLOCKER_TEAMS: "ops", BUILDKITE_SOURCE: "ui" };
  const fromEnv = imagineJob(env, {});
  assert.equal(fromEnv.facts.pipeline, { value: "app", from: "BUILDKITE_PIPELINE_SLUG" });
  assert.equal(fromEnv.facts.teams.value, ["dev", "ops"]);
  assert.equal(fromEnv.facts.repository, { value: "", from: "BUILDKITE_REPO not set" });
  const flagged = imagineJob(env, { pipeline: "other", teams: "qa:release", source: "schedule", repo: "git@h:o/r.git" });
  assert.equal(flagged.facts.pipeline, { value: "other", from: "--pipeline" });
  assert.equal(jobIdentity(flagged.env), { pipeline: "other", teams: ["qa", "release"], source: "schedule" });
  assert.is(flagged.facts.repository.from, "--repo");
  assert.is(env.BUILDKITE_PIPELINE_SLUG, "app", "the caller's environment is not changed");
});

const healthyMachine: MachineFacts = {
  region: "us-east-1",
  regionFrom: "AWS_REGION",
  credentialFeatures: ["CREDENTIALS_IMDS"],
  profile: "",
  programs: { git: "/usr/bin/git", "ssh-agent": "/usr/bin/ssh-agent", "ssh-add": "/usr/bin/ssh-add" },
  enabled: true,
  binary: "/usr/local/bin/bk-ssm-secrets",
  hooksDir: "/etc/buildkite-agent/hooks",
  hooks: [{ name: "environment", state: "installed", script: "/usr/local/lib/bk-ssm-secrets/environment", oldHookLines: [] }],
};

/** doctor's report of a job of pipeline app; `extra` parameters go under the pipeline slug. */
function report(machine: Partial<MachineFacts> = {}, repository = "git@github.com:acme/app.git", extra: Array<[string, string]> = []) {
  const slugs: Slug[] = [global, pipeline];
  const reads = slugs.map((slug) => ({
    slug,
    path: `/vendors/buildkite/${slug.name}`,
    parameters: [
      { name: `/vendors/buildkite/${slug.name}/env/TOKEN`, value: "v", type: "SecureString" },
      ...(slug === pipeline ? extra.map(([relative, value]) => ({ name: `/vendors/buildkite/app/${relative}`, value, type: "SecureString" })) : []),
    ],
  }));
  const facts = imagineJob({}, { pipeline: "app", repo: repository, teams: "dev" }).facts;
  const plan = planJob(reads, jobIdentity({ BUILDKITE_PIPELINE_SLUG: "app" }));
  return buildReport({
    config,
    defaultsFile: { path: "/etc/bk-ssm-secrets/defaults.env", present: false, old: false },
    unknownVariables: [],
    job: facts,
    outcomes: reads.map(({ slug, path }) => ({ slug, path })),
    plan,
    keys: planJobKeys(config, slugs, repository, plan.sshKeys, { names: [], found: [], missing: [] }),
    credentials: jobCredentials(plan.gitCredentials),
    machine: { ...healthyMachine, ...machine },
  });
}

test("doctor's report: a healthy job succeeds, and says which slug each variable overrides", () => {
  const result = report();
  assert.ok(result.ok, result.problems.join("; "));
  assert.is(result.verdict, "a job of pipeline app would succeed and get 1 variable from 2 slugs (1 warning)");
  const keys = result.sections.find((section) => section.title.startsWith("Deploy keys"))!;
  assert.match(keys.items.map((entry) => entry.detail).join("\n"), /^no SSH deploy key found for this job's repository: put one at/);
  const variables = result.sections.find((section) => section.title.startsWith("Variables"))!;
  assert.equal(variables.items, [{ status: "ok", name: "TOKEN", slug: "app", parameter: "/vendors/buildkite/app/env/TOKEN", detail: "overrides slug global" }]);
  const machine = result.sections.find((section) => section.title === "This machine")!;
  assert.match(machine.items.find((entry) => entry.check === "AWS credentials")!.detail, /EC2 instance profile/);
});

const DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n";

test("doctor's report: missing programs fail the job only where a job needs them", () => {
  const noSsh = { programs: { git: "/usr/bin/git", "ssh-agent": undefined, "ssh-add": undefined } };
  const withKey = report(noSsh, "git@github.com:acme/app.git", [["ssh/key", DEPLOY_KEY]]);
  assert.not.ok(withKey.ok, "a job with a deploy key needs ssh-agent");
  assert.equal(withKey.problems, [
    "ssh-agent is not on PATH (the job has deploy keys to load): install the OpenSSH client on the agent",
    "ssh-add is not on PATH (the job has deploy keys to load): install the OpenSSH client on the agent",
  ]);
  assert.ok(report(noSsh).ok, "an ssh repository without keys does not: the agent's own ssh configuration checks it out");
  assert.ok(report(noSsh, "https://github.com/acme/app.git").ok, "an https repository does not");
  const noGit = report({ programs: { ...healthyMachine.programs, git: undefined } }, "https://github.com/acme/app.git");
  assert.equal(noGit.problems, ["git is not on PATH: the job cannot check out; install git on the agent"]);
  assert.equal(report({ binary: undefined }).problems, ["not on PATH and BK_SSM_SECRETS_BIN is not set: the hooks cannot find the binary; install it (see the README)"]);
  assert.ok(report({ binary: undefined, enabled: false }).ok, "hooks that are not enabled never look for it");
  const noCredentials = report({ credentialFeatures: undefined, credentialsError: "no AWS credentials found for reading the job's slugs: attach an instance profile" });
  assert.equal(noCredentials.problems, ["no AWS credentials found for reading the job's slugs: attach an instance profile"]);
});

test("doctor's report: deploy keys with their agent, secret files, git credential hosts; names only", () => {
  const result = report({}, "git@github.com:acme/app.git", [
    ["ssh/key", DEPLOY_KEY],
    ["file/kubeconfig", "file-content-value"],
    ["git-credentials", "https://bot:tok-value@github.com\nnot a line\n"],
  ]);
  assert.ok(result.ok, result.problems.join("; "));
  assert.is(result.verdict, "a job of pipeline app would succeed and get 1 variable, 1 secret file, 1 deploy key and git credentials for 1 host from 2 slugs (1 warning)");
  const rows = (title: string, ...keys: string[]) =>
    result.sections.find((section) => section.title.startsWith(title))!.items.map((entry) => [entry.status, ...keys.map((key) => entry[key])]);
  assert.equal(rows("Deploy keys", "parameter", "origin", "agent"), [["ok", "/vendors/buildkite/app/ssh/key", "pipeline", "slug agent"]]);
  assert.equal(rows("Secret files", "name", "parameter", "detail"), [["ok", "KUBECONFIG", "/vendors/buildkite/app/file/kubeconfig", "a 0600 file, its path in KUBECONFIG"]]);
  assert.equal(rows("Git credentials", "host", "parameter", "detail"), [
    ["warn", "", "", "skipping line 2 of /vendors/buildkite/app/git-credentials: it is not of the form https://user:token@host[:port][/path]"],
    ["ok", "https://github.com", "/vendors/buildkite/app/git-credentials", "git's credential helper answers for it"],
  ]);
  assert.not.match(JSON.stringify(result), /tok-value|file-content-value|b3BlbnNzaC/);

  const locked = report({}, "git@github.com:acme/app.git", [["ssh/key", "not a key"]]);
  assert.not.ok(locked.ok);
  assert.match(locked.problems[0]!, /^the deploy key \/vendors\/buildkite\/app\/ssh\/key is not an SSH private key/);
});

test("doctor's report: credential sources and repository URLs as an operator reads them", () => {
  assert.is(credentialSource(["CREDENTIALS_ENV_VARS"], ""), "environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  assert.is(credentialSource(["CREDENTIALS_PROFILE", "CREDENTIALS_STS_ASSUME_ROLE"], "ci"), "profile ci in the AWS config files");
  assert.is(credentialSource(["CREDENTIALS_PROFILE_SSO"], ""), "AWS IAM Identity Center (SSO) through profile default");
  assert.is(credentialSource([], ""), "the AWS SDK's default credential chain");
  assert.is(withoutCredentials("https://x-access-token:ghp_secret@github.com/a/b.git"), "https://github.com/a/b.git");
  assert.is(withoutCredentials("git@github.com:a/b.git"), "git@github.com:a/b.git");
  assert.is(withoutCredentials("https://user:p@ss@github.com/a/b@c.git"), "https://github.com/a/b@c.git");
});

test.run();
