// put and rm end to end: the compiled binary writing to the SSM test endpoint
// with the real AWS SDK, and jobs reading what it wrote through the real
// environment hook. Every value is planted, so any run that prints one, or
// passes one in argv, fails.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { assertNoSecretIn, envChanges, plantSecret, runHook, type Env } from "./support/job.ts";
import { failureLine, runOperator } from "./support/operator.ts";
import { Random } from "./support/random.ts";

const REPO = "git@github.com:acme/app.git";
const REPO_PATH = `${BASE}/github.com_acme_app.git`;

interface Context {
  fixture: JobFixture;
  env: Env;
  keys: string;
}

const Put = suite<Context>("put and rm", {} as Context);

Put.before(async (context) => {
  context.fixture = await startJobFixture();
  context.env = context.fixture.jobEnv();
  context.keys = mkdtempSync(join(tmpdir(), "bk-put-keys-"));
});
Put.after(async (context) => {
  rmSync(context.keys, { recursive: true, force: true });
  await context.fixture.close();
});
Put.before.each((context) => {
  context.fixture.server.clearFaults();
  context.fixture.server.resetCalls();
});

/** `put` with the value on stdin; the value is planted first, so it may appear nowhere. */
function put(context: Context, args: string[], value: string | Uint8Array) {
  if (typeof value === "string") plantSecret(value);
  return runOperator(["put", ...args], context.env, value);
}

async function jobEnvironment(context: Context, extra: Env) {
  const before = context.fixture.jobEnv({ BUILDKITE_REPO: "", BUILDKITE_SOURCE: "ui", ...extra });
  const run = await runHook("environment", before);
  return { ...run, changes: envChanges(before, run.env) };
}

const TRICKY_VALUES: Record<string, string> = {
  QUOTES: "tok$en'with\"quotes`and`\\back$(whoami)",
  NEWLINES: "line one\nline two\n\n",
  CRLF: "first\r\nsecond\r\n",
  UNICODE: "ünïcødé 🔑 值 \u200b zero-width",
  FLAGS: "--overwrite --yes --pipeline other",
  SPACES: "   padded on both sides   ",
};

Put("put env: any value is stored byte for byte as a SecureString, and a job exports it exactly", async (context) => {
  for (const [name, value] of Object.entries(TRICKY_VALUES)) {
    const run = await put(context, ["env", name, "--pipeline", "tricky", "--yes"], value);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Writing ${BASE}/tricky/env/${name}: SecureString`), "the SSM name is printed before writing");
    const stored = context.fixture.server.get(`${BASE}/tricky/env/${name}`)!;
    assert.is(stored.value, value, name);
    assert.is(stored.type, "SecureString");
    assert.is(stored.keyId, "alias/aws/ssm");
    assert.is(stored.tier, "Standard");
  }
  const job = await jobEnvironment(context, { BUILDKITE_PIPELINE_SLUG: "tricky" });
  assert.is(job.status, 0, job.stderr);
  for (const [name, value] of Object.entries(TRICKY_VALUES)) assert.is(job.changes[name], value, name);
});

const random = new Random();

Put(`put file: random values of any content are stored byte for byte (seed ${random.seed})`, async (context) => {
  const values = Array.from({ length: 20 }, () => random.value());
  const runs = await Promise.all(values.map((value, i) => put(context, ["file", `fuzz_${i}`, "--pipeline", "fuzz", "--yes"], value)));
  runs.forEach((run, i) => assert.is(run.status, 0, `value ${i}: ${run.stderr}`));
  const mismatches = values.filter((value, i) => context.fixture.server.get(`${BASE}/fuzz/file/fuzz_${i}`)?.value !== value);
  assert.is(mismatches.length, 0, `${mismatches.length} values did not round-trip (seed ${random.seed})`);
});

Put("put env: a trailing newline is kept, with a warning that names the parameter", async (context) => {
  const run = await put(context, ["env", "ECHOED", "--pipeline", "app", "--yes"], "echoed-token-value\n");
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /:warning: the value for \/vendors\/buildkite\/app\/env\/ECHOED ends with a newline/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/ECHOED`)!.value, "echoed-token-value\n");
});

Put("put: values over 4 KB go to the Advanced tier; over 8 KB are refused before any call", async (context) => {
  const large = "L".repeat(6000);
  const run = await put(context, ["file", "LARGE_FILE", "--pipeline", "app", "--yes"], large);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /Advanced tier/);
  assert.equal([context.fixture.server.get(`${BASE}/app/file/LARGE_FILE`)!.value, context.fixture.server.get(`${BASE}/app/file/LARGE_FILE`)!.tier], [large, "Advanced"]);

  const tooLarge = await put(context, ["file", "HUGE_FILE", "--pipeline", "app", "--yes"], "H".repeat(8193));
  assert.is(tooLarge.status, 2);
  assert.match(failureLine(tooLarge.stderr), /8193 characters: SSM holds at most 8192/);
  assert.is(context.fixture.server.callCount("PutParameter"), 1);
});

Put("put: an existing parameter is replaced only with --overwrite", async (context) => {
  const name = `${BASE}/app/env/ROTATED`;
  assert.is((await put(context, ["env", "ROTATED", "--pipeline", "app", "--yes"], "first-rotated-value")).status, 0);
  context.fixture.server.resetCalls();
  const refused = await put(context, ["env", "ROTATED", "--pipeline", "app", "--yes"], "second-rotated-value");
  assert.is(refused.status, 2);
  assert.is(failureLine(refused.stderr), `:no_entry: bk-ssm-secrets: ${name} already exists: pass --overwrite to replace it`);
  assert.not.match(refused.stderr, /Writing/, "refused before anything is announced");
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
  assert.equal([context.fixture.server.get(name)!.value, context.fixture.server.get(name)!.version], ["first-rotated-value", 1]);

  const replaced = await put(context, ["env", "ROTATED", "--pipeline", "app", "--yes", "--overwrite"], "second-rotated-value");
  assert.is(replaced.status, 0, replaced.stderr);
  assert.match(replaced.stderr, new RegExp(`Replacing ${name} \\(version 1\\): SecureString`));
  assert.match(replaced.stderr, /Stored \/vendors\/buildkite\/app\/env\/ROTATED, version 2/);
  assert.is(context.fixture.server.get(name)!.value, "second-rotated-value");
});

Put("put --kms-key encrypts with that key; a KMS refusal is explained with the actions to grant", async (context) => {
  const key = "alias/buildkite-secrets";
  const run = await put(context, ["env", "KEYED", "--pipeline", "app", "--yes", "--kms-key", key], "keyed-secret-value");
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /encrypted with alias\/buildkite-secrets/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/KEYED`)!.keyId, key);

  context.fixture.server.inject({ kind: "kms", action: "PutParameter", pathPrefix: `${BASE}/app/env/UNKEYED` });
  const refused = await put(context, ["env", "UNKEYED", "--pipeline", "app", "--yes", "--kms-key", "alias/missing"], "never-stored-value");
  assert.is(refused.status, 1);
  const line = failureLine(refused.stderr);
  assert.match(line, /cannot encrypt \/vendors\/buildkite\/app\/env\/UNKEYED \(InvalidKeyId: /);
  assert.match(line, /grant kms:Encrypt and kms:GenerateDataKey/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/UNKEYED`), undefined);
});

Put("put, rm and ls: AccessDenied names the action to grant", async (context) => {
  context.fixture.server.inject({ kind: "access-denied", pathPrefix: `${BASE}/locked` });
  // IAM cannot scope DescribeParameters to a path: it is allowed or denied as a whole.
  context.fixture.server.inject({ kind: "access-denied", action: "DescribeParameters" });
  const cases: Array<[string[], string]> = [
    [["put", "env", "X", "--pipeline", "locked", "--yes"], "ssm:PutParameter on this path"],
    [["rm", "env", "X", "--pipeline", "locked", "--yes"], "ssm:DeleteParameter on this path"],
    [["ls", "--pipeline", "locked"], 'ssm:DescribeParameters on Resource "\\*" \\(IAM cannot scope it to a path\\)'],
  ];
  for (const [args, grant] of cases) {
    const run = await runOperator(args, context.env, "denied-value-never-stored");
    assert.is(run.status, 1, args.join(" "));
    assert.match(failureLine(run.stderr), new RegExp(`access denied \\w+ ${BASE}/locked\\S* \\(AccessDeniedException: .*\\): grant ${grant} to your IAM identity$`));
  }
  assert.is(context.fixture.server.get(`${BASE}/locked/env/X`), undefined);
});

Put("put and rm ask for confirmation, and without a terminal need --yes", async (context) => {
  const run = await put(context, ["env", "UNCONFIRMED", "--pipeline", "app"], "unconfirmed-value");
  assert.is(run.status, 2);
  assert.match(failureLine(run.stderr), /no terminal to confirm on: pass --yes to write \/vendors\/buildkite\/app\/env\/UNCONFIRMED without asking/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/UNCONFIRMED`), undefined);

  context.fixture.seed({ [`${BASE}/app/env/KEPT`]: "kept-value-here" });
  const rm = await runOperator(["rm", "env", "KEPT", "--pipeline", "app"], context.env);
  assert.is(rm.status, 2);
  assert.ok(context.fixture.server.get(`${BASE}/app/env/KEPT`));
  assert.is(context.fixture.server.callCount("PutParameter") + context.fixture.server.callCount("DeleteParameter"), 0, "nothing was changed in SSM");
});

/** Run `put` under a pseudo-terminal (util-linux `script`), answering the prompt with `answer`; the value still comes from a pipe. */
async function putOnTerminal(context: Context, name: string, value: string, answer: string) {
  plantSecret(value);
  const command = `printf '%s' "$PUT_VALUE" | "$BK_SSM_SECRETS_BIN" put env ${name} --pipeline app`;
  const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], {
    env: { ...context.env, PUT_VALUE: value, SHELL: "/bin/sh" },
    stdin: new TextEncoder().encode(answer),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [output, , status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  assertNoSecretIn(output, "the terminal");
  return { output, status };
}

Put("on a terminal, put asks before writing: yes writes, anything else does not", async (context) => {
  const yes = await putOnTerminal(context, "ON_TERMINAL", "typed-confirmation-value", "y\n");
  assert.is(yes.status, 0, yes.output);
  assert.match(yes.output, /Write \/vendors\/buildkite\/app\/env\/ON_TERMINAL\? \[y\/N\]/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/ON_TERMINAL`)!.value, "typed-confirmation-value");

  const no = await putOnTerminal(context, "DECLINED", "declined-confirmation-value", "n\n");
  assert.is(no.status, 2, no.output);
  assert.match(no.output, /not confirmed: nothing changed/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/DECLINED`), undefined);
});

function sshKey(context: Context, name: string, passphrase = ""): { key: string; path: string; publicKey: string } {
  const path = join(context.keys, name);
  const made = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", path], { stderr: "pipe" });
  assert.is(made.exitCode, 0, made.stderr.toString());
  const key = readFileSync(path, "utf8");
  plantSecret(key);
  // The base64 body alone, too: a key must not leak in pieces either.
  plantSecret(key.split("\n")[1]!);
  return { key, path, publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
}

Put("put ssh-key: from a file or stdin, checked with ssh-keygen, public half on stdout", async (context) => {
  const deploy = sshKey(context, "deploy");
  const fromFile = await runOperator(["put", "ssh-key", "--repo", REPO, deploy.path, "--yes"], context.env);
  assert.is(fromFile.status, 0, fromFile.stderr);
  assert.is(fromFile.stdout, `${deploy.publicKey}\n`);
  assert.is(context.fixture.server.get(`${REPO_PATH}/ssh/key`)!.value, deploy.key);
  assert.is(context.fixture.server.get(`${REPO_PATH}/ssh/key`)!.type, "SecureString");

  const rotated = sshKey(context, "rotated");
  const fromStdin = await put(context, ["ssh-key", "--repo", REPO, "--yes", "--overwrite"], rotated.key);
  assert.is(fromStdin.status, 0, fromStdin.stderr);
  assert.is(fromStdin.stdout, `${rotated.publicKey}\n`);
  assert.is(context.fixture.server.get(`${REPO_PATH}/ssh/key`)!.value, rotated.key);
});

Put("put ssh-key: a passphrase, a public key or garbage is refused in one line, and nothing is written", async (context) => {
  const locked = sshKey(context, "locked", "a passphrase");
  const cases: Array<[string[], string | undefined, RegExp]> = [
    [[locked.path], undefined, /the ssh key in \S+locked is protected by a passphrase, which a job cannot type/],
    [[], locked.key, /the ssh key on stdin is protected by a passphrase/],
    [[], readFileSync(`${locked.path}.pub`, "utf8"), /the ssh key on stdin is not a private key OpenSSH can read: give the private half/],
    [[], "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n", /not a private key OpenSSH can read/],
    [[join(context.keys, "absent")], undefined, /cannot read the ssh key file \S+absent: ENOENT/],
  ];
  for (const [extra, stdin, message] of cases) {
    const run = await runOperator(["put", "ssh-key", "--pipeline", "keyless", "--yes", ...extra], context.env, stdin);
    assert.is(run.status, 2, run.stderr);
    assert.match(failureLine(run.stderr), message);
  }
  const global = await put(context, ["ssh-key", "--global", "--yes"], sshKey(context, "global").key);
  assert.is(global.status, 2);
  assert.match(failureLine(global.stderr), /AWS_PARAMSTORE_SECRETS_GLOBAL_SSH/);
  assert.is(context.fixture.server.callCount(), 0);
});

Put("put git-credentials and file: shapes checked by line number, content stored exactly", async (context) => {
  const credentials = "https://x-access-token:ghs_credential0001@github.com\nhttps://ci:p%40ss-credential@git.example.com:8443/org\n";
  const good = await put(context, ["git-credentials", "--pipeline", "app", "--yes"], credentials);
  assert.is(good.status, 0, good.stderr);
  assert.is(context.fixture.server.get(`${BASE}/app/git-credentials`)!.value, credentials);

  const bad = await put(context, ["git-credentials", "--pipeline", "app", "--yes", "--overwrite"], `${credentials}github.com token-without-url\n`);
  assert.is(bad.status, 2);
  assert.match(failureLine(bad.stderr), /git-credentials on line 3 of stdin: it is not of the form/);
  assert.is(context.fixture.server.get(`${BASE}/app/git-credentials`)!.version, 1);

  const file = '{\n  "token": "file-secret-json",\n  "ü": "\\u00fc"\n}\n';
  const stored = await put(context, ["file", "APP_CONFIG", "--pipeline", "app", "--yes"], file);
  assert.is(stored.status, 0, stored.stderr);
  assert.is(context.fixture.server.get(`${BASE}/app/file/APP_CONFIG`)!.value, file);

  const binary = await runOperator(["put", "file", "BLOB", "--pipeline", "app", "--yes"], context.env, new Uint8Array([0x89, 0x50, 0xff, 0xfe]));
  assert.is(binary.status, 2);
  assert.match(failureLine(binary.stderr), /not UTF-8 text: SSM stores text; base64-encode binary data first/);
});

Put("put allowed-teams and allowed-pipelines: one slug per line, and jobs are judged by them", async (context) => {
  const seeded = `${BASE}/guarded/env/GUARDED`;
  context.fixture.seed({ [seeded]: "guarded-secret-value" });
  const teams = await runOperator(["put", "allowed-teams", "--pipeline", "guarded", "--yes"], context.env, "  ops\n\ndev\nops\n");
  assert.is(teams.status, 0, teams.stderr);
  assert.is(context.fixture.server.get(`${BASE}/guarded/allowed_teams`)!.value, "ops\ndev");

  const denied = await jobEnvironment(context, { BUILDKITE_PIPELINE_SLUG: "guarded", BUILDKITE_BUILD_CREATOR_TEAMS: "qa" });
  assert.is.not(denied.status, 0);
  const allowed = await jobEnvironment(context, { BUILDKITE_PIPELINE_SLUG: "guarded", BUILDKITE_BUILD_CREATOR_TEAMS: "dev" });
  assert.is(allowed.status, 0, allowed.stderr);
  assert.is(allowed.changes.GUARDED, "guarded-secret-value");

  const pipelines = await runOperator(["put", "allowed-pipelines", "--global", "--yes"], context.env, "app\nnot a slug\n");
  assert.is(pipelines.status, 2);
  assert.match(failureLine(pipelines.stderr), /allowed-pipelines on stdin, line 2: not a pipeline slug/);
});

Put("rm: every kind, named as put names it; what is not there is an error", async (context) => {
  const kinds: Array<[string[], string]> = [
    [["env", "GONE"], "env/GONE"],
    [["ssh-key"], "ssh/key"],
    [["git-credentials"], "git-credentials"],
    [["file", "GONE"], "file/GONE"],
    [["allowed-pipelines"], "allowed_pipelines"],
    [["allowed-teams"], "allowed_teams"],
  ];
  context.fixture.seed(Object.fromEntries(kinds.map(([, relative]) => [`${BASE}/doomed/${relative}`, `doomed-${relative}`])));
  for (const [args, relative] of kinds) {
    const run = await runOperator(["rm", ...args, "--pipeline", "doomed", "--yes"], context.env);
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Deleted ${BASE}/doomed/${relative}`));
    assert.is(context.fixture.server.get(`${BASE}/doomed/${relative}`), undefined, relative);
  }
  context.fixture.server.resetCalls();
  const again = await runOperator(["rm", "env", "GONE", "--pipeline", "doomed", "--yes"], context.env);
  assert.is(again.status, 1);
  assert.is(failureLine(again.stderr), `:no_entry: bk-ssm-secrets: ${BASE}/doomed/env/GONE does not exist: nothing to delete (bk-ssm-secrets ls shows what is there)`);
  assert.not.match(again.stderr, /Deleting/, "refused before the Deleting line");
  assert.is(context.fixture.server.callCount("DeleteParameter"), 0);
  // Without ssm:DescribeParameters, rm goes ahead and SSM's own answer says the same.
  context.fixture.server.inject({ kind: "access-denied", action: "DescribeParameters" });
  const unlisted = await runOperator(["rm", "env", "GONE", "--pipeline", "doomed", "--yes"], context.env);
  assert.is(unlisted.status, 1);
  assert.match(unlisted.stderr, /Cannot list \/vendors\/buildkite\/doomed to check the parameter first \(AccessDeniedException\)/);
  assert.match(failureLine(unlisted.stderr), /GONE does not exist: nothing to delete/);
});

Put("a command that prints nothing leaves a file its stdout is redirected to as it was", async (context) => {
  const dir = mkdtempSync(join(tmpdir(), "bk-put-stdout-"));
  try {
    const log = join(dir, "log");
    const script = `{ echo before; printf '%s' quiet-put-value | "$BK_SSM_SECRETS_BIN" put env QUIET --pipeline app --yes 2>/dev/null; echo after; } > "$0"`;
    const proc = Bun.spawn(["bash", "-c", script, log], { env: context.env, stdout: "pipe", stderr: "pipe" });
    assert.is(await proc.exited, 0);
    assert.is(readFileSync(log, "utf8"), "before\nafter\n");
    assert.is(context.fixture.server.get(`${BASE}/app/env/QUIET`)!.value, "quiet-put-value");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Put("bad usage: one line and exit status 2, before anything is read or sent", async (context) => {
  const cases: Array<[string[], RegExp]> = [
    [["put", "env", "X", "--yes"], /exactly one of --pipeline SLUG, --repo URL or --global/],
    [["put", "env", "X", "--pipeline", "app", "--global", "--yes"], /exactly one of/],
    [["put", "password", "--pipeline", "app", "--yes"], /unknown kind "password"/],
    [["put", "env", "--pipeline", "app", "--yes"], /env needs a NAME, as in `env NAME`/],
    [["put", "env", "PATH", "--pipeline", "app", "--yes"], /PATH may not be set from a secret/],
    [["rm", "env", "X", "--repo", "not a url", "--yes"], /--repo is not a repository URL/],
    [["put", "env", "X", "--pipeline", "app", "--yes", "--bogus"], /unknown option --bogus: run bk-ssm-secrets put --help for the options$/],
    [["put", "env", "X", "--pipline", "app", "--yes"], /unknown option --pipline \(did you mean --pipeline\?\)/],
    [["put", "env", "X", "--base-path", "vendors", "--pipeline", "app", "--yes"], /--base-path="vendors" is not an absolute SSM path/],
    [["put", "evn", "X", "--pipeline", "app", "--yes"], /unknown kind "evn" \(did you mean env\?\): the kinds are env, ssh-key, git-credentials, file, allowed-pipelines, allowed-teams/],
  ];
  for (const [args, message] of cases) {
    const run = await runOperator(args, context.env, "usage-error-value");
    assert.is(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.match(failureLine(run.stderr), message);
  }
  const empty = await runOperator(["put", "env", "EMPTY", "--pipeline", "app", "--yes"], context.env, "");
  assert.is(empty.status, 2);
  assert.match(failureLine(empty.stderr), /the env value is empty: nothing to store/);
  assert.is(context.fixture.server.callCount(), 0);
});

/** A stand-in for a secret typed on the command line: not planted, since the point is that argv is where it must not be. */
const TYPED = "typed-on-the-command-line-9f3k";

Put("a value given as an argument is refused with why values come from stdin, and never repeated", async (context) => {
  const cases: string[][] = [
    ["put", "env", "API_TOKEN", TYPED, "--pipeline", "app", "--yes"],
    ["put", "env", `API_TOKEN=${TYPED}`, "--pipeline", "app", "--yes"],
    ["put", "git-credentials", `https://ci:${TYPED}@github.com`, "--pipeline", "app", "--yes"],
    ["put", "allowed-teams", TYPED, "--pipeline", "app", "--yes"],
    ["put", "env", "API_TOKEN", "--value", TYPED, "--pipeline", "app", "--yes"],
    ["put", "ssh-key", `-----BEGIN OPENSSH PRIVATE KEY-----\n${TYPED}`, "--pipeline", "app", "--yes"],
  ];
  for (const args of cases) {
    const run = await runOperator(args, context.env, "");
    assert.is(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
    const line = failureLine(run.stderr);
    assert.match(line, /^:no_entry: bk-ssm-secrets: /, args.join(" "));
    assert.match(line, /values are read from stdin, never from the command line: every local user can read a command line \(ps, \/proc\/PID\/cmdline\) and your shell keeps it in its history/, line);
    assert.match(line, /printf '%s' "\$VALUE" \| bk-ssm-secrets put/);
    assert.not.ok(run.stderr.includes(TYPED), `the argument is repeated: ${run.stderr}`);
  }
  assert.is(context.fixture.server.callCount(), 0);
});

Put("refusals come before the Writing line: a protected name, a bad key, an existing parameter", async (context) => {
  context.fixture.seed({ [`${BASE}/refusing/env/EXISTING`]: "existing-refusal-value" });
  const cases: Array<[string[], string, RegExp]> = [
    [["env", "BASH_ENV"], "protected-name-value", /BASH_ENV may not be set from a secret/],
    [["env", "9LIVES"], "bad-name-value", /is not a valid environment variable name/],
    [["ssh-key"], "not-a-key-at-all-value", /not a private key OpenSSH can read/],
    [["env", "EXISTING"], "replacement-refusal-value", /already exists: pass --overwrite to replace it/],
  ];
  for (const [args, value, message] of cases) {
    const run = await put(context, [...args, "--pipeline", "refusing", "--yes"], value);
    assert.is(run.status, 2, run.stderr);
    assert.match(failureLine(run.stderr), message);
    assert.not.match(run.stderr, /Writing|Replacing/, `${args.join(" ")} announced a write it refused:\n${run.stderr}`);
  }
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
});

Put("storing NAME when name or a file of the same variable exists warns, naming both parameters", async (context) => {
  context.fixture.seed({ [`${BASE}/cased/env/api-key`]: "lower-case-value", [`${BASE}/cased/file/DB_URL`]: "file-case-value" });
  const upper = await put(context, ["env", "API_KEY", "--pipeline", "cased", "--yes"], "upper-case-value");
  assert.is(upper.status, 0, upper.stderr);
  const warnings = upper.stderr.split("\n").filter((line) => line.startsWith(":warning:"));
  assert.equal(warnings, [
    `:warning: ${BASE}/cased/env/api-key already sets API_KEY, as ${BASE}/cased/env/API_KEY would (names are upper-cased and - becomes _): a job gets only one of them; delete one with bk-ssm-secrets rm`,
  ]);
  assert.ok(upper.stderr.indexOf(":warning:") < upper.stderr.indexOf("Writing"), "warned before writing");
  const variable = await put(context, ["env", "db-url", "--pipeline", "cased", "--yes"], "variable-case-value");
  assert.match(variable.stderr, new RegExp(`:warning: ${BASE}/cased/file/DB_URL already sets DB_URL, as ${BASE}/cased/env/db-url would .*: a job gets the file, not the variable`));
  const unrelated = await put(context, ["env", "OTHER_KEY", "--pipeline", "cased", "--yes"], "unrelated-case-value");
  assert.not.match(unrelated.stderr, /:warning:/);
});

Put("put allowed-pipelines --add/--remove: read-modify-write, no duplicates, the last entry stays", async (context) => {
  const list = `${BASE}/github.com_acme_shared.git/allowed_pipelines`;
  const edit = (...args: string[]) => runOperator(["put", "allowed-pipelines", "--repo", "https://github.com/acme/shared.git", "--yes", ...args], context.env);
  const created = await edit("--add", "app", "--add", "deploy", "--add", "app");
  assert.is(created.status, 0, created.stderr);
  assert.match(created.stderr, new RegExp(`Creating ${list}: app, deploy; only the listed pipelines may read slug github.com_acme_shared.git`));
  assert.equal([context.fixture.server.get(list)!.value, context.fixture.server.get(list)!.type], ["app\ndeploy", "SecureString"]);

  const edited = await edit("--add", "007", "--remove", "app", "--remove", "ghost", "--add", "deploy");
  assert.is(edited.status, 0, edited.stderr);
  assert.match(edited.stderr, new RegExp(`:warning: ghost is not on ${list}: nothing to remove`));
  assert.match(edited.stderr, new RegExp(`Updating ${list} \\(version 1\\): deploy, 007;`));
  assert.equal([context.fixture.server.get(list)!.value, context.fixture.server.get(list)!.version], ["deploy\n007", 2]);

  const unchanged = await edit("--add", "deploy");
  assert.is(unchanged.status, 0);
  assert.match(unchanged.stderr, /is unchanged: deploy, 007/);
  assert.is(context.fixture.server.get(list)!.version, 2);

  const emptied = await edit("--remove", "deploy", "--remove", "007");
  assert.is(emptied.status, 2);
  assert.match(failureLine(emptied.stderr), new RegExp(`removing deploy, 007 would leave ${list} empty, and an empty list admits nobody: .*delete the list with bk-ssm-secrets rm allowed-pipelines`));
  assert.is(context.fixture.server.get(list)!.value, "deploy\n007");

  // A list kept as a comma-separated StringList stays one.
  context.fixture.seed({ [`${BASE}/legacy/allowed_teams`]: { value: "ops,dev", type: "StringList" } });
  const legacy = await runOperator(["put", "allowed-teams", "--pipeline", "legacy", "--yes", "--add", "qa", "--remove", "ops"], context.env);
  assert.is(legacy.status, 0, legacy.stderr);
  assert.equal([context.fixture.server.get(`${BASE}/legacy/allowed_teams`)!.value, context.fixture.server.get(`${BASE}/legacy/allowed_teams`)!.type], ["dev,qa", "StringList"]);

  const wrong = await Promise.all([
    runOperator(["put", "env", "X", "--pipeline", "legacy", "--yes", "--add", "qa"], context.env),
    runOperator(["put", "allowed-teams", "--pipeline", "nolist", "--yes", "--remove", "qa"], context.env),
    runOperator(["put", "allowed-teams", "--pipeline", "legacy", "--yes", "--add", "not a team"], context.env),
  ]);
  assert.equal(wrong.map((run) => run.status), [2, 2, 2]);
  assert.match(failureLine(wrong[0]!.stderr), /--add and --remove edit an access list/);
  assert.match(failureLine(wrong[1]!.stderr), /\/nolist\/allowed_teams does not exist: there is nothing to remove/);
  assert.match(failureLine(wrong[2]!.stderr), /"not a team" is not a team slug/);

  // What a job makes of the edited list: the pipelines on it read the slug, others are refused.
  context.fixture.seed({ [`${BASE}/github.com_acme_shared.git/env/SHARED_TOKEN`]: "shared-list-value" });
  const allowed = await jobEnvironment(context, { BUILDKITE_PIPELINE_SLUG: "007", BUILDKITE_REPO: "https://github.com/acme/shared.git" });
  assert.is(allowed.status, 0, allowed.stderr);
  assert.is(allowed.changes.SHARED_TOKEN, "shared-list-value");
  const refused = await jobEnvironment(context, { BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "https://github.com/acme/shared.git" });
  assert.is.not(refused.status, 0);
});

Put("help: each command says what it does; put lists the kinds; unknown commands suggest the nearest", async (context) => {
  for (const [command, description] of [
    ["put", /Store a value from stdin/],
    ["rm", /Delete a parameter, named as for put/],
    ["ls", /List the tree/],
    ["doctor", /Show what a job would get/],
  ] as const) {
    const help = await runOperator([command, "--help"], context.env);
    assert.is(help.status, 0);
    assert.match(help.stdout, description, command);
    assert.match(help.stdout, /--base-path <path>/, `${command} takes --base-path`);
  }
  const put = await runOperator(["put", "--help"], context.env);
  const kinds = put.stdout.slice(put.stdout.indexOf("Kinds:"));
  for (const kind of ["env NAME", "file NAME", "ssh-key [FILE]", "git-credentials", "allowed-pipelines", "allowed-teams"]) assert.match(kinds, new RegExp(`\\n  ${kind.replace(/[[\]]/g, "\\$&")} `));
  const typo = await runOperator(["lss", "--pipeline", "app"], context.env);
  assert.is(typo.status, 2);
  assert.match(failureLine(typo.stderr), /unknown command "lss" \(did you mean ls\?\): run bk-ssm-secrets --help for the list/);
  const far = await runOperator(["frobnicate"], context.env);
  assert.not.match(failureLine(far.stderr), /did you mean/);
});

Put("outside a job (no BUILDKITE), errors and warnings are plain lines for a terminal", async (context) => {
  const { BUILDKITE: _, ...terminal } = context.env;
  const refused = await runOperator(["put", "env", "PATH", "--pipeline", "app", "--yes"], terminal, "terminal-refusal-value");
  assert.is(refused.status, 2);
  assert.is(refused.stderr, 'error: cannot use env "PATH": PATH may not be set from a secret: it decides which programs the job runs\n');
  plantSecret("terminal-warning-value\n");
  const warned = await runOperator(["put", "env", "NEWLINE_ENDED", "--pipeline", "app", "--yes"], terminal, "terminal-warning-value\n");
  assert.is(warned.status, 0, warned.stderr);
  assert.match(warned.stderr, /^warning: the value for \S+NEWLINE_ENDED ends with a newline/m);
  assert.not.match(warned.stderr, /\^\^\^|\+\+\+|:warning:|~~~/);
});

Put("colour: on a terminal, warning: and error: are coloured; never with NO_COLOR", async (context) => {
  const { BUILDKITE: _, NO_COLOR: __, ...terminal } = context.env;
  plantSecret("coloured-warning-value\n");
  const onTerminal = async (env: Env) => {
    const command = `printf '%s\\n' coloured-warning-value | "$BK_SSM_SECRETS_BIN" put env COLOURED --pipeline app --yes --overwrite; "$BK_SSM_SECRETS_BIN" put env PATH --pipeline app --yes < /dev/null`;
    const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], { env: { ...env, SHELL: "/bin/sh" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [output] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    assertNoSecretIn(output, "the terminal");
    return output;
  };
  const coloured = await onTerminal(terminal);
  assert.match(coloured, /\x1b\[33mwarning:\x1b\[39m the value for \S+COLOURED ends with a newline/);
  assert.match(coloured, /\x1b\[31merror:\x1b\[39m cannot use env "PATH"/);
  const plain = await onTerminal({ ...terminal, NO_COLOR: "1" });
  assert.match(plain, /warning: the value for \S+COLOURED ends with a newline/);
  assert.match(plain, /error: cannot use env "PATH"/);
  assert.not.match(plain, /\x1b\[/);
});

Put.run();
