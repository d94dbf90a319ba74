// Git credentials end to end: the compiled binary's environment phase run by
// hooks/environment in bash registers itself as git's credential helper, and
// real git clones over HTTPS from two `git http-backend` servers that each
// require their own token, which the helper reads from the SSM test endpoint
// at the moment git asks.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { makeCertificate, makeRepository, startGitHttpServer, type GitHttpServer, type TestCertificate } from "./support/git-http-server.ts";
import { assertNoSecretIn, compiledBinary, plantSecret, runBinary, runHook, type Env } from "./support/job.ts";

const TOKEN_A = `tokA-${randomBytes(10).toString("hex")}`;
const TOKEN_B = `tokB-${randomBytes(10).toString("hex")}`;
const WRONG = `wrong-${randomBytes(10).toString("hex")}`;
const BAD_LINE = `not-a-url-${randomBytes(10).toString("hex")}`;
for (const secret of [TOKEN_A, TOKEN_B, WRONG, BAD_LINE]) plantSecret(secret);

interface Context {
  fixture: JobFixture;
  scratch: string;
  certificate: TestCertificate;
  hostA: GitHttpServer;
  hostB: GitHttpServer;
  /** The compiled binary reached through a directory whose name has spaces and a quote. */
  spacedBinary: string;
}

const Git = suite<Context>("git credentials", {} as Context);

/** The pipeline slug's git-credentials for two hosts; the global slug holds a wrong token for host B that the pipeline overrides. */
function credentials(context: Context, tokenA = TOKEN_A): Record<string, string> {
  return {
    [`${BASE}/global/git-credentials`]: `https://bob:${WRONG}@${context.hostB.url.slice("https://".length)}\n`,
    [`${BASE}/app/git-credentials`]: `# CI tokens\nhttps://alice:${tokenA}@${context.hostA.url.slice("https://".length)}/one.git\nhttps://bob:${TOKEN_B}@${context.hostB.url.slice("https://".length)}`,
  };
}

Git.before(async (context) => {
  context.scratch = mkdtempSync("/tmp/bk-git-e2e-");
  context.certificate = makeCertificate(context.scratch);
  makeRepository(join(context.scratch, "host-a"), "one.git", "repository one on host A\n");
  makeRepository(join(context.scratch, "host-a"), "two.git", "repository two on host A\n");
  makeRepository(join(context.scratch, "host-b"), "b.git", "repository b on host B\n");
  context.hostA = startGitHttpServer({ root: join(context.scratch, "host-a"), username: "alice", password: TOKEN_A, certificate: context.certificate, hostname: "127.0.0.1" });
  context.hostB = startGitHttpServer({ root: join(context.scratch, "host-b"), username: "bob", password: TOKEN_B, certificate: context.certificate, hostname: "localhost" });
  const binDir = join(context.scratch, "bin dir with spaces and a 'quote'");
  mkdirSync(binDir);
  context.spacedBinary = join(binDir, "bk-ssm-secrets");
  symlinkSync(compiledBinary(), context.spacedBinary);
  context.fixture = await startJobFixture();
  context.fixture.seed(credentials(context));
});

Git.after(async (context) => {
  context.hostA.close();
  context.hostB.close();
  await context.fixture.close();
  rmSync(context.scratch, { recursive: true, force: true });
});

/** A fresh HOME, TMPDIR and checkout area for one job. */
function jobDirs(context: Context) {
  const root = mkdtempSync(join(context.scratch, "job-"));
  for (const dir of ["home", "tmp", "builds"]) mkdirSync(join(root, dir));
  return { root, home: join(root, "home"), tmp: join(root, "tmp"), builds: join(root, "builds") };
}

function jobEnv(context: Context, dirs: ReturnType<typeof jobDirs>, extra: Env = {}): Env {
  return context.fixture.jobEnv({
    BUILDKITE_PIPELINE_SLUG: "app",
    BUILDKITE_REPO: `${context.hostA.url}/one.git`,
    BK_SSM_SECRETS_BIN: context.spacedBinary,
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_SSL_CAINFO: context.certificate.certFile,
    GIT_TERMINAL_PROMPT: "0",
    ...extra,
  });
}

async function git(args: string[], env: Env, cwd: string) {
  const proc = Bun.spawn(["git", ...args], { env, cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  // The helper logs through git's stderr: it is part of the job's log.
  assertNoSecretIn(stderr, `the log of git ${args[0]}`);
  return { status, stdout, stderr };
}

async function clone(env: Env, url: string, into: string) {
  const run = await git(["clone", "-q", url, into], env, "/");
  return { ...run, readme: run.status === 0 ? readFileSync(join(into, "README"), "utf8") : undefined };
}

/** Files under `dir` holding a planted token or anything shaped like a URL with a password. */
function credentialShapedFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).flatMap((entry) => {
    const path = join(dir, entry);
    if (!statSync(path).isFile()) return [];
    const text = readFileSync(path, "latin1");
    const shaped = /[a-z]+:\/\/[^\s/:@]+:[^\s/@]+@/i.test(text) || [TOKEN_A, TOKEN_B, WRONG].some((token) => text.includes(token));
    return shaped || entry.endsWith(".git-credentials") ? [path] : [];
  });
}

Git("clones from two hosts with their own tokens; helper path with spaces; existing GIT_CONFIG_PARAMETERS kept; nothing written", async (context) => {
  const dirs = jobDirs(context);
  const existing = "'user.name'='Existing User' 'core.abbrev=12'";
  const environment = await runHook("environment", jobEnv(context, dirs, { GIT_CONFIG_PARAMETERS: existing }));
  assert.is(environment.status, 0, environment.stderr);
  assert.ok(environment.env.GIT_CONFIG_PARAMETERS?.startsWith(`${existing} `), "appended to the existing value");
  // Each credential is named once, by its line and slug; the summary only counts them.
  const [urlA, urlB] = [context.hostA.url, context.hostB.url];
  assert.equal(environment.stderr.split("\n").filter((line) => line.includes(urlA) || line.includes(urlB)), [
    `git credential for ${urlA}/one.git from app (line 2 of ${BASE}/app/git-credentials)`,
    `git credential for ${urlB} from app (line 3 of ${BASE}/app/git-credentials)`,
    `git credential for ${urlB} from global (line 1 of ${BASE}/global/git-credentials)`,
  ]);
  assert.match(environment.stderr, /Loaded 1 variable and 3 git credentials from 3 slugs in \d+ ms/);

  const a = await clone(environment.env, `${context.hostA.url}/one.git`, join(dirs.builds, "one"));
  assert.is(a.status, 0, a.stderr);
  assert.is(a.readme, "repository one on host A\n");
  const b = await clone(environment.env, `${context.hostB.url}/b.git`, join(dirs.builds, "b"));
  assert.is(b.status, 0, b.stderr);
  assert.is(b.readme, "repository b on host B\n");
  assert.ok(context.hostA.authorized > 0 && context.hostB.authorized > 0);

  const config = await git(["config", "--get-all", "user.name"], environment.env, join(dirs.builds, "one"));
  assert.is(config.stdout, "Existing User\n");
  assert.is((await git(["config", "--get", "core.abbrev"], environment.env, join(dirs.builds, "one"))).stdout, "12\n");

  for (const dir of [dirs.home, dirs.tmp, dirs.builds]) assert.equal(credentialShapedFiles(dir), [], `nothing credential-shaped under ${dir}`);
});

Git("a path-specific credential answers only for its repository", async (context) => {
  const dirs = jobDirs(context);
  const environment = await runHook("environment", jobEnv(context, dirs));
  assert.is(environment.status, 0, environment.stderr);
  const refused = context.hostA.refused;
  const two = await clone(environment.env, `${context.hostA.url}/two.git`, join(dirs.builds, "two"));
  assert.is.not(two.status, 0, "host A has a credential for one.git only");
  assert.ok(context.hostA.refused > refused);
  assert.equal(credentialShapedFiles(dirs.root), []);
});

Git("for the hosts in SSM, the agent user's own credential store is not consulted, nor written", async (context) => {
  const dirs = jobDirs(context);
  const { writeFileSync } = await import("node:fs");
  const stale = `https://alice:${WRONG}@${context.hostA.url.slice("https://".length)}\n`;
  writeFileSync(join(dirs.home, ".gitconfig"), "[credential]\n\thelper = store\n");
  writeFileSync(join(dirs.home, ".git-credentials"), stale);
  const environment = await runHook("environment", jobEnv(context, dirs));
  assert.is(environment.status, 0, environment.stderr);
  const one = await clone(environment.env, `${context.hostA.url}/one.git`, join(dirs.builds, "one"));
  assert.is(one.status, 0, one.stderr);
  assert.is(readFileSync(join(dirs.home, ".git-credentials"), "utf8"), stale, "the store helper was neither asked nor told");
});

Git("a wrong token fails the clone; the helper reads SSM when git asks, so fixing SSM fixes the next clone", async (context) => {
  context.fixture.seed(credentials(context, WRONG));
  try {
    const dirs = jobDirs(context);
    const environment = await runHook("environment", jobEnv(context, dirs));
    assert.is(environment.status, 0, environment.stderr);
    const refused = context.hostA.refused;
    const failed = await clone(environment.env, `${context.hostA.url}/one.git`, join(dirs.builds, "wrong"));
    assert.is.not(failed.status, 0);
    assert.match(failed.stderr, /Authentication failed/);
    assert.ok(context.hostA.refused > refused, "host A refused the wrong token");

    context.fixture.seed(credentials(context));
    const fixed = await clone(environment.env, `${context.hostA.url}/one.git`, join(dirs.builds, "fixed"));
    assert.is(fixed.status, 0, fixed.stderr);
    assert.equal(credentialShapedFiles(dirs.root), []);
  } finally {
    context.fixture.seed(credentials(context));
  }
});

Git("malformed lines are skipped with a warning naming the parameter and line, never the content", async (context) => {
  const path = `${BASE}/bad-lines/git-credentials`;
  context.fixture.seed({ [path]: `https://alice:${TOKEN_A}@${context.hostA.url.slice(8)}/one.git\n${BAD_LINE}\nhttps://bob@localhost\n` });
  const dirs = jobDirs(context);
  const environment = await runHook("environment", jobEnv(context, dirs, { BUILDKITE_PIPELINE_SLUG: "bad-lines" }));
  assert.is(environment.status, 0, environment.stderr);
  assert.match(environment.stderr, new RegExp(`:warning: skipping line 2 of ${path}: it is not of the form`));
  assert.match(environment.stderr, new RegExp(`:warning: skipping line 3 of ${path}: it has no password`));
  const one = await clone(environment.env, `${context.hostA.url}/one.git`, join(dirs.builds, "one"));
  assert.is(one.status, 0, one.stderr);
});

/** The job's environment after its environment hook granted it the slugs' git-credentials. */
async function grantedEnv(context: Context): Promise<Env> {
  const environment = await runHook("environment", jobEnv(context, jobDirs(context)));
  assert.is(environment.status, 0, environment.stderr);
  return environment.env;
}

Git("git-credential answers get from SSM; store and erase do nothing and never call AWS", async (context) => {
  const env = await grantedEnv(context);
  const parameters = ["--parameter", `${BASE}/app/git-credentials`, "--parameter", `${BASE}/global/git-credentials`];
  const host = context.hostB.url.slice("https://".length);
  context.fixture.server.resetCalls();

  const get = await runBinary(["git-credential", ...parameters, "get"], env, `protocol=https\nhost=${host}\npath=b.git\n\n`);
  assert.equal([get.status, get.stdout], [0, `username=bob\npassword=${TOKEN_B}\n`]);
  assert.is(context.fixture.server.callCount("GetParameters"), 1, "one call for every parameter");
  assert.is(context.fixture.server.callCount(), 1);

  const unknown = await runBinary(["git-credential", ...parameters, "get"], env, "protocol=https\nhost=elsewhere.example.com\n\n");
  assert.equal([unknown.status, unknown.stdout], [0, ""]);

  context.fixture.server.resetCalls();
  for (const operation of ["store", "erase", "some-future-operation"]) {
    const run = await runBinary(["git-credential", ...parameters, operation], env, `protocol=https\nhost=${host}\nusername=bob\npassword=${TOKEN_B}\n\n`);
    assert.equal([run.status, run.stdout], [0, ""], operation);
  }
  assert.is(context.fixture.server.callCount(), 0);
});

Git("a failing SSM read is one line naming the parameter, and git goes on without the helper's answer", async (context) => {
  const env = await grantedEnv(context);
  context.fixture.server.inject({ kind: "access-denied", action: "GetParameters" });
  try {
    const run = await runBinary(["git-credential", "--parameter", `${BASE}/app/git-credentials`, "get"], env, "protocol=https\nhost=127.0.0.1\n\n");
    assert.is(run.status, 1);
    assert.is(run.stdout, "");
    const errors = run.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
    assert.is(errors.length, 1);
    assert.match(errors[0]!, /app\/git-credentials/);
    assert.match(errors[0]!, /ssm:GetParameters/);
  } finally {
    context.fixture.server.clearFaults();
  }
});

Git.run();
