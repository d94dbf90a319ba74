// import s3-secrets-hooks end to end: a directory laid out like a synced S3
// secrets bucket, imported by the compiled binary into the SSM test endpoint,
// then a job of each pipeline reading it through the real environment hook.
// What the job gets is compared with what the S3 hooks' own mechanism gives
// the same files: bash evaluating them with allexport, as their hook does.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { secretFileValue } from "../src/secrets/s3-secrets-hooks.ts";
import { BASE, CANARY_VARIABLE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { envChanges, plantSecret, runHook, type Env } from "./support/job.ts";
import { failureLine, runOperator, tableCells } from "./support/operator.ts";

interface Context {
  fixture: JobFixture;
  env: Env;
  bucket: string;
  keys: Record<string, string>;
}

const Import = suite<Context>("import s3-secrets-hooks", {} as Context);

function sshKey(dir: string, name: string): string {
  const file = join(dir, name);
  const made = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  assert.is(made.exitCode, 0, made.stderr.toString());
  const key = readFileSync(file, "utf8");
  plantSecret(key);
  return key;
}

/** The bucket, file by file; every value is planted so no output may show it. */
function bucketFiles(keys: Record<string, string>): Record<string, string> {
  const files: Record<string, string> = {
    env: 'export GLOBAL_TOKEN="global token value one"\nSHARED_SECRET=from-root-env\n# a comment\nlower_name=skipped-value-1\nPATH=/tmp/evil-path-value\n',
    environment: "SHARED_SECRET='from-root-environment wins'\nNOW=$(date)\nQUOTED=\"say \\\"hi\\\" \\$HOME\"\nHOMEDIR=\"$HOME/x\"\n",
    "git-credentials": "https://ci-user:git-password-value-77@git.example.com\n",
    private_ssh_key: keys.global!,
    "secret-files/DB_PASSWORD": "db-password-value-42\n",
    "secret-files/README": "not a secret, no suffix: skipped by the S3 hooks\n",
    "secret-files/COST_TOKEN": "costs $5 at least\n",
    "app/env": "APP_TOKEN=app-token-value-9\nSHARED_SECRET=\"pipeline wins\nover two lines\"\n",
    "app/private_ssh_key": keys.app!,
    "app/id_rsa_github": keys.second!,
    "app/secret-files/API_ACCESS_KEY": "tab\there ünï \u200b end",
    "Not A Slug/env": "IGNORED_TOKEN=ignored-value-3\n",
    // A directory name a bucket's writer chose, that would clear the operator's terminal line.
    "evil\x1b[2K/env": "IGNORED_TOKEN=ignored-value-4\n",
  };
  for (const value of Object.values(files)) for (const line of value.split("\n")) if (line.length >= 8) plantSecret(line.replace(/^.*?=/, "").replace(/^["']|["']$/g, ""));
  return files;
}

Import.before(async (context) => {
  context.fixture = await startJobFixture();
  context.env = context.fixture.jobEnv();
  context.bucket = mkdtempSync(join(tmpdir(), "bk-s3-bucket-"));
  const keyDir = mkdtempSync(join(tmpdir(), "bk-s3-keys-"));
  context.keys = { global: sshKey(keyDir, "global"), app: sshKey(keyDir, "app"), second: sshKey(keyDir, "second") };
  rmSync(keyDir, { recursive: true, force: true });
  for (const [path, content] of Object.entries(bucketFiles(context.keys))) {
    mkdirSync(dirname(join(context.bucket, path)), { recursive: true });
    writeFileSync(join(context.bucket, path), content);
  }
});
Import.after(async (context) => {
  rmSync(context.bucket, { recursive: true, force: true });
  await context.fixture.close();
});

const importRun = (context: Context, ...flags: string[]) => runOperator(["import", "s3-secrets-hooks", context.bucket, ...flags], context.env);

Import("the plan names every parameter and its source file, the refusals name file and line, and nothing is written without --yes", async (context) => {
  const run = await importRun(context);
  assert.is(run.status, 2, run.stderr);
  assert.match(failureLine(run.stderr), /no terminal to confirm on: pass --yes/);
  const rows = tableCells(run.stdout);
  assert.equal(rows[0], ["PARAMETER", "FROM"]);
  assert.equal(
    rows.slice(1).map((row) => row.join(" <- ")).sort(),
    [
      `${BASE}/app/env/API_ACCESS_KEY <- app/secret-files/API_ACCESS_KEY`,
      `${BASE}/app/env/APP_TOKEN <- app/env line 1`,
      `${BASE}/app/env/SHARED_SECRET <- app/env line 2`,
      `${BASE}/app/ssh/key <- app/id_rsa_github`,
      `${BASE}/global/env/DB_PASSWORD <- secret-files/DB_PASSWORD`,
      `${BASE}/global/env/GLOBAL_TOKEN <- env line 1`,
      `${BASE}/global/env/QUOTED <- environment line 3`,
      `${BASE}/global/env/SHARED_SECRET <- environment line 1`,
      `${BASE}/global/git-credentials <- git-credentials`,
      `${BASE}/keys/private_ssh_key <- private_ssh_key`,
    ].sort(),
  );
  for (const reason of [
    /not imported: app\/private_ssh_key: the slug's deploy key is app\/id_rsa_github already \(one key per slug\)/,
    /not imported: env line 2: SHARED_SECRET is set again by environment line 1, which wins as it did in the S3 hooks/,
    /not imported: env line 4: jobs here get variables upper-cased, so lower_name would arrive as LOWER_NAME/,
    /not imported: env line 5: PATH may not be set from a secret/,
    /not imported: environment line 2: the unquoted value holds "\$", which bash would interpret/,
    /not imported: environment line 4: the value expands a variable or runs a command/,
    /not imported: secret-files\/README: the S3 hooks load only secret files named \*_SECRET/,
    /not imported: secret-files\/COST_TOKEN: holds \$ or a backquote/,
    /not imported: Not A Slug\/: not a pipeline slug/,
    /not imported: evil\\u\{1b\}\[2K\/: not a pipeline slug/,
    /secret-files\/DB_PASSWORD: the S3 hooks exported it with its control characters as escapes/,
    new RegExp(`list ${BASE}/keys/private_ssh_key in AWS_PARAMSTORE_SECRETS_GLOBAL_SSH`),
  ]) {
    assert.match(run.stderr, reason);
  }
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
});

Import("with --yes every parameter is written as a SecureString, and the jobs get what the S3 hooks gave them", async (context) => {
  const run = await importRun(context, "--yes");
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stderr, /Imported 10 parameters from the S3 secrets bucket/);
  const { server } = context.fixture;
  assert.is(server.get(`${BASE}/app/ssh/key`)!.value, context.keys.second);
  assert.is(server.get(`${BASE}/keys/private_ssh_key`)!.value, context.keys.global);
  assert.is(server.get(`${BASE}/global/git-credentials`)!.type, "SecureString");

  // The S3 hooks' mechanism for the same files: their hook evals them in bash with allexport, root first, then the
  // pipeline's prefix (the lines the import refused are left out: they are checked above).
  const files = bucketFiles(context.keys);
  const scratch = mkdtempSync(join(tmpdir(), "bk-s3-eval-"));
  const sources = ["env", "environment", "app/env"].map((file, i) => {
    const path = join(scratch, String(i));
    writeFileSync(path, files[file]!.split("\n").filter((line) => !/NOW=|HOMEDIR=|PATH=|lower_name=/.test(line)).join("\n"));
    return path;
  });
  const s3 = Bun.spawnSync(["bash", "--noprofile", "--norc", "-c", 'set -o allexport; for f in "$@"; do eval "$(cat "$f")"; done; env -0', "bash", ...sources], { env: { HOME: "/nonexistent" } });
  rmSync(scratch, { recursive: true, force: true });
  const s3Env = Object.fromEntries(s3.stdout.toString().split("\0").filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));

  const before = context.fixture.jobEnv({ BUILDKITE_PIPELINE_SLUG: "app", BUILDKITE_REPO: "" });
  const job = await runHook("environment", before);
  assert.is(job.status, 0, job.stderr);
  const changes = envChanges(before, job.env);
  for (const name of ["GLOBAL_TOKEN", "SHARED_SECRET", "APP_TOKEN", "QUOTED"]) assert.is(changes[name], s3Env[name], name);
  assert.is(changes.QUOTED, 'say "hi" $HOME');
  assert.is(changes.SHARED_SECRET, "pipeline wins\nover two lines");
  assert.is(changes.DB_PASSWORD, "db-password-value-42\\n", "a secret file's newline arrives as the S3 hooks gave it");
  assert.is(changes.API_ACCESS_KEY, "\\there ünï \\u200b end".replace(/^/, "tab"));
  assert.ok(changes[CANARY_VARIABLE], "what was there before stays");
  assert.not.ok("LOWER_NAME" in changes || "NOW" in changes || "HOMEDIR" in changes || "PATH" in changes);
});

Import("a second import refuses to replace parameters unless --overwrite, before writing anything", async (context) => {
  context.fixture.server.resetCalls();
  const refused = await importRun(context, "--yes");
  assert.is(refused.status, 2);
  assert.match(failureLine(refused.stderr), /10 of these parameters exist already \(.*\): pass --overwrite to replace them/);
  assert.not.match(refused.stderr, /Writing/);
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
  const replaced = await importRun(context, "--yes", "--overwrite");
  assert.is(replaced.status, 0, replaced.stderr);
  assert.match(replaced.stderr, /Writing \(replacing 10\) 10 parameters/);
  assert.is(context.fixture.server.get(`${BASE}/app/env/APP_TOKEN`)!.version, 2);
});

Import("a bad key, an unknown source or an empty directory is one line, and nothing is written", async (context) => {
  context.fixture.server.resetCalls();
  const broken = mkdtempSync(join(tmpdir(), "bk-s3-broken-"));
  writeFileSync(join(broken, "private_ssh_key"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key at all, really\n-----END OPENSSH PRIVATE KEY-----\n");
  const empty = mkdtempSync(join(tmpdir(), "bk-s3-empty-"));
  try {
    symlinkSync("/etc/hostname", join(broken, "env"));
  writeFileSync(join(broken, "environment"), Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x0a]));
  const skipped = await runOperator(["import", "s3-secrets-hooks", broken, "--yes"], context.env);
  assert.match(skipped.stderr, /not imported: env: not a regular file \(links are not followed\)/);
  assert.match(skipped.stderr, /not imported: environment is not UTF-8 text/);
  const cases: Array<[string[], RegExp]> = [
      [["import", "s3-secrets-hooks", broken, "--yes"], /the ssh key in private_ssh_key is not a private key OpenSSH can read/],
      [["import", "vault", broken, "--yes"], /unknown source "vault": bk-ssm-secrets imports from s3-secrets-hooks/],
      [["import", "s3-secrets-hooks", empty, "--yes"], /nothing to import from .*: no file there is one the S3 secrets hooks read/],
      [["import", "s3-secrets-hooks", join(empty, "missing"), "--yes"], /cannot read .*missing: ENOENT/],
    ];
    for (const [args, message] of cases) {
      const run = await runOperator(args, context.env);
      assert.is(run.status, 2, run.stderr);
      assert.match(failureLine(run.stderr), message);
    }
  } finally {
    rmSync(broken, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
  assert.is(context.fixture.server.callCount("PutParameter"), 0);
});

Import("a secret file's value is what bash makes of Go's quoting: checked against real bash", () => {
  const samples = ["plain", "trailing newline\n", 'quote " and backslash \\ here', "tab\tbell\x07 del\x7f c1\u0085", "nbsp\u00a0 zero\u200b emoji 🔑 \u{e0001}", "ünïcødé 值"];
  for (const sample of samples) {
    // Go's strconv.Quote, written out by hand for these samples; bash then evaluates it exactly as the S3 hook does.
    const goQuoted = JSON.stringify(sample)
      .replace(/\\u0007/g, "\\a")
      .replace(/\x7f/g, "\\x7f")
      .replace(/\u0085/g, "\\u0085")
      .replace(/\u00a0/g, "\\u00a0")
      .replace(/\u200b/g, "\\u200b")
      .replace(/\u{e0001}/gu, "\\U000e0001");
    const bash = Bun.spawnSync(["bash", "-c", `eval "X=$0"; printf %s "$X"`, goQuoted]);
    assert.is(secretFileValue(sample), bash.stdout.toString(), JSON.stringify(sample));
  }
  assert.is(secretFileValue("costs $5"), undefined);
  assert.is(secretFileValue("run `id`"), undefined);
});

Import.run();
