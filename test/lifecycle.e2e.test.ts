// Deploy keys across a job's whole lifecycle: the compiled binary through the
// real hooks, run as buildkite-agent runs them, checking out over SSH from a
// real sshd with real ssh-agents, and cleaning up after itself.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, startJobFixture, type JobFixture, type Tree } from "./support/fixture.ts";
import { generateKey, startGitSshServer, type GitSshServer, type TestKey } from "./support/git-ssh-server.ts";
import type { Env } from "./support/job.ts";
import { runLifecycle, type Lifecycle } from "./support/lifecycle.ts";
import { agentsUnder, assertJobLeftNothing, jobScratch, plantKey, toolWrappers, type JobScratch, type ToolWrappers } from "./support/ssh-job.ts";

interface Context {
  fixture: JobFixture;
  git: GitSshServer;
  tools: ToolWrappers;
}

const Lifecycle = suite<Context>("lifecycle", {} as Context);

Lifecycle.before(async (context) => {
  context.fixture = await startJobFixture();
  context.git = await startGitSshServer();
  context.tools = toolWrappers();
});
Lifecycle.after(async ({ fixture, git, tools }) => {
  await Promise.all([fixture.close(), git.close()]);
  tools.close();
});

/** What the command reports: the agent it has and the keys in it, then the checkout's README. */
const REPORT = 'echo "sock=${SSH_AUTH_SOCK:-}"; ssh-add -l 2>&1 | sed "s/^/key: /"; cat README.md';

interface JobSpec {
  /** Repository path on the git server; created here. */
  repository: string;
  pipeline: string;
  keys: Record<string, { key: TestKey; repositories: string[] }>;
  tree?: Tree;
  env?: Env;
  command?: string;
  url?: string;
}

interface JobResult extends Lifecycle {
  scratch: JobScratch;
  keys: TestKey[];
  /** Lines of the command's stdout. */
  report: string[];
}

const slugOf = (repository: string) => `127.0.0.1_${repository.replaceAll("/", "_")}`;

/** Where a job's repository key and global key go, and the variable that lists the global one. */
function repositoryAndGlobalKey(repository: string, keys: Record<string, { key: TestKey }>, extraEnv: Env = {}): Pick<JobSpec, "tree" | "env"> {
  const global = `${BASE}/keys/${slugOf(repository)}`;
  return {
    tree: { [`${BASE}/${slugOf(repository)}/ssh/key`]: keys.repo!.key.privateKey, [global]: keys.global!.key.privateKey },
    env: { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: global, ...extraEnv },
  };
}

/** Generate and authorise keys; they are planted so the audit fails on any leak. */
function keysFor(git: GitSshServer, names: Record<string, string[] | null>): Record<string, { key: TestKey; repositories: string[] }> {
  return Object.fromEntries(
    Object.entries(names).map(([name, repositories]) => {
      const key = generateKey(`${name}-${Math.random().toString(36).slice(2, 8)}`);
      plantKey(key);
      // null: a key the server does not know at all.
      if (repositories) git.authorize(key, repositories);
      return [name, { key, repositories: repositories ?? [] }];
    }),
  );
}

async function runJob({ fixture, git, tools }: Context, spec: JobSpec): Promise<JobResult> {
  git.createRepository(spec.repository);
  fixture.seed(spec.tree ?? {});
  const scratch = jobScratch();
  const before = agentsUnder(scratch.root).length;
  const env = fixture.jobEnv({
    ...git.gitEnv(),
    ...scratch.env(tools),
    BUILDKITE_REPO: spec.url ?? git.url(spec.repository),
    BUILDKITE_PIPELINE_SLUG: spec.pipeline,
    BUILDKITE_BUILD_CREATOR_TEAMS: "dev",
    BUILDKITE_SOURCE: "ui",
    ...spec.env,
  });
  try {
    const lifecycle = await runLifecycle({ env, command: spec.command ?? REPORT, buildDir: scratch.build });
    const keys = Object.values(spec.keys).map((entry) => entry.key);
    assert.is(before, 0);
    assertJobLeftNothing(scratch, keys, tools);
    const report = (lifecycle.runs.command?.stdout ?? "").split("\n").filter(Boolean);
    return { ...lifecycle, scratch, keys, report };
  } finally {
    scratch.remove();
  }
}

function assertCheckedOut(job: JobResult, repository: string) {
  assert.is(job.runs.checkout?.status, 0, job.log + (job.runs.checkout?.stderr ?? ""));
  assert.ok(job.report.includes(repository), `the command sees the checkout of ${repository}`);
  assert.is(job.runs["pre-exit"]?.status, 0, job.log);
}

/** The fingerprints `ssh-add -l` listed in the command, in order. */
const keysSeen = (job: JobResult) => job.report.filter((line) => line.startsWith("key: ")).map((line) => line.split(" ")[2]);

const servedBy = (git: GitSshServer, repository: string) => git.requests().filter((request) => request.repository === repository);

Lifecycle("repository key only: pre-checkout switches to the slug agent, the checkout uses it, then the job goes back", async (context) => {
  const repository = "acme/repo-key.git";
  const keys = keysFor(context.git, { repo: [repository] });
  // Stored without its final newline, as a paste into the SSM console often is.
  const job = await runJob(context, { repository, pipeline: "repo-key", keys, tree: { [`${BASE}/${slugOf(repository)}/ssh/key`]: keys.repo!.key.privateKey.trimEnd() } });
  assertCheckedOut(job, repository);
  const served = { key: keys.repo!.key.name, repository, allowed: true };
  assert.equal(servedBy(context.git, repository), [served, served], "the probe, then the clone");
  assert.match(job.log, /Checking out with the slug's deploy key/);
  const environment = job.runs.environment!.env;
  assert.match(environment.AWS_PARAMSTORE_SECRETS_AUTH_SOCK!, /\/bk-ssm-secrets-agents-[^/]+\/slug\.sock$/);
  assert.match(environment.AWS_PARAMSTORE_SECRETS_AGENT_PID!, /^\d+$/);
  assert.is(environment.SSH_AUTH_SOCK, undefined, "no global keys: no default agent");
  assert.is(job.runs["pre-checkout"]!.env.SSH_AUTH_SOCK, environment.AWS_PARAMSTORE_SECRETS_AUTH_SOCK);
  // The job had no agent before, so post-checkout goes back to none.
  assert.is(job.commandEnv!.SSH_AUTH_SOCK, undefined);
  assert.is(job.commandEnv!.ORIG_SSH_AUTH_SOCK, undefined);
  assert.is(job.commandEnv!.AWS_PARAMSTORE_SECRETS_AUTH_SOCK, environment.AWS_PARAMSTORE_SECRETS_AUTH_SOCK);
  const after = job.runs["pre-exit"]!.env;
  for (const name of ["AWS_PARAMSTORE_SECRETS_AUTH_SOCK", "AWS_PARAMSTORE_SECRETS_AGENT_PID", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "ORIG_SSH_AUTH_SOCK"]) {
    assert.is(after[name], undefined, name);
  }
});

Lifecycle("pipeline key: with a repository key too, the pipeline key is offered first and used", async (context) => {
  const repository = "acme/pipeline-key.git";
  const keys = keysFor(context.git, { repo: [repository], pipeline: [repository] });
  const job = await runJob(context, {
    repository,
    pipeline: "pipeline-key",
    keys,
    tree: { [`${BASE}/${slugOf(repository)}/ssh/key`]: keys.repo!.key.privateKey, [`${BASE}/pipeline-key/ssh/key`]: keys.pipeline!.key.privateKey },
    env: { AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND: "1" },
  });
  assertCheckedOut(job, repository);
  assert.equal(servedBy(context.git, repository).map((request) => request.key), [keys.pipeline!.key.name, keys.pipeline!.key.name], "probe and clone");
  assert.equal(keysSeen(job), [keys.pipeline!.key.fingerprint, keys.repo!.key.fingerprint], "one slug agent, the pipeline key first");
});

Lifecycle("pipeline key unknown to the host: ssh goes on to the repository key in the same agent", async (context) => {
  const repository = "acme/pipeline-unknown.git";
  const keys = keysFor(context.git, { repo: [repository], pipeline: null });
  const job = await runJob(context, {
    repository,
    pipeline: "pipeline-unknown",
    keys,
    tree: { [`${BASE}/${slugOf(repository)}/ssh/key`]: keys.repo!.key.privateKey, [`${BASE}/pipeline-unknown/ssh/key`]: keys.pipeline!.key.privateKey },
  });
  assertCheckedOut(job, repository);
  assert.ok(servedBy(context.git, repository).every((request) => request.key === keys.repo!.key.name && request.allowed));
});

Lifecycle("global key only: the default agent holds it and the checkout uses it", async (context) => {
  const repository = "acme/global-only.git";
  const keys = keysFor(context.git, { global: [repository] });
  const job = await runJob(context, {
    repository,
    pipeline: "global-only",
    keys,
    tree: { [`${BASE}/keys/global-only`]: keys.global!.key.privateKey },
    env: { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/keys/global-only` },
  });
  assertCheckedOut(job, repository);
  assert.equal(servedBy(context.git, repository).map((request) => request.key), [keys.global!.key.name]);
  assert.match(job.log, /checkout keeps the current ssh-agent: no deploy key in the repository or pipeline slug/);
  assert.match(job.commandEnv!.SSH_AUTH_SOCK!, /\/default\.sock$/);
  assert.is(job.commandEnv!.AWS_PARAMSTORE_SECRETS_AUTH_SOCK, undefined);
  assert.equal(keysSeen(job), [keys.global!.key.fingerprint]);
  assert.is(job.runs["pre-exit"]!.env.SSH_AUTH_SOCK, undefined, "the job's default agent is forgotten");
});

Lifecycle("repository and global keys, only the repository key authorised: the checkout uses the slug agent; the command gets the default one", async (context) => {
  const repository = "acme/both-slug-wins.git";
  // The global key authenticates but may only read another repository: had
  // the checkout used the default agent, the host would have refused it.
  const keys = keysFor(context.git, { repo: [repository], global: ["acme/elsewhere.git"] });
  const job = await runJob(context, {
    repository,
    pipeline: "both-slug-wins",
    keys,
    ...repositoryAndGlobalKey(repository, keys),
  });
  assertCheckedOut(job, repository);
  assert.equal(servedBy(context.git, repository), [
    { key: keys.repo!.key.name, repository, allowed: true },
    { key: keys.repo!.key.name, repository, allowed: true },
  ]);
  // Run-during-command is off: the command has the default agent back.
  assert.equal(keysSeen(job), [keys.global!.key.fingerprint]);
  assert.is(job.commandEnv!.SSH_AUTH_SOCK, job.runs.environment!.env.SSH_AUTH_SOCK);
  assert.is(job.commandEnv!.SSH_AGENT_PID, job.runs.environment!.env.SSH_AGENT_PID);
});

Lifecycle("global key authorised, slug key not: pre-checkout says why and the checkout falls back to the default agent", async (context) => {
  const repository = "acme/fallback.git";
  const keys = keysFor(context.git, { repo: ["acme/elsewhere.git"], global: [repository] });
  const job = await runJob(context, {
    repository,
    pipeline: "fallback",
    keys,
    ...repositoryAndGlobalKey(repository, keys),
  });
  assertCheckedOut(job, repository);
  assert.equal(servedBy(context.git, repository), [
    { key: keys.repo!.key.name, repository, allowed: false },
    { key: keys.global!.key.name, repository, allowed: true },
  ]);
  assert.match(job.log, /:warning: the slug's deploy key cannot reach the repository \(git ls-remote failed: ERROR: the key \S+ is not allowed to read acme\/fallback\.git\): the checkout uses the default agent/);
  assert.is(job.runs["pre-checkout"]!.env.SSH_AUTH_SOCK, job.runs.environment!.env.SSH_AUTH_SOCK, "no switch");
});

Lifecycle("run-during-command: the command keeps the slug agent, post-command goes back to the default one", async (context) => {
  const repository = "acme/during-command.git";
  const keys = keysFor(context.git, { repo: [repository], global: ["acme/elsewhere.git"] });
  const job = await runJob(context, {
    repository,
    pipeline: "during-command",
    keys,
    ...repositoryAndGlobalKey(repository, keys, { AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND: "1" }),
    // The command can use the repository key itself, as a build that fetches its own repository would.
    command: `${REPORT}; git ls-remote -q "$BUILDKITE_REPO" && echo fetched-in-command`,
  });
  assertCheckedOut(job, repository);
  const environment = job.runs.environment!.env;
  assert.is(job.commandEnv!.SSH_AUTH_SOCK, environment.AWS_PARAMSTORE_SECRETS_AUTH_SOCK);
  assert.is(job.commandEnv!.ORIG_SSH_AUTH_SOCK, environment.SSH_AUTH_SOCK);
  assert.equal(keysSeen(job), [keys.repo!.key.fingerprint]);
  assert.ok(job.report.includes("fetched-in-command"));
  const afterCommand = job.runs["post-command"]!.env;
  assert.is(afterCommand.SSH_AUTH_SOCK, environment.SSH_AUTH_SOCK);
  assert.is(afterCommand.SSH_AGENT_PID, environment.SSH_AGENT_PID);
  assert.is(afterCommand.ORIG_SSH_AUTH_SOCK, undefined);
});

Lifecycle("an HTTPS repository: no probe, no switch, the slug agent is still cleaned up", async (context) => {
  const repository = "acme/https.git";
  const keys = keysFor(context.git, { repo: [repository] });
  const url = "https://git.example.test/acme/https.git";
  const job = await runJob(context, {
    repository,
    pipeline: "https",
    keys,
    url,
    tree: { [`${BASE}/git.example.test_acme_https.git/ssh/key`]: keys.repo!.key.privateKey },
    // git fetches the HTTPS URL from the server's directory instead, so the
    // checkout works without an HTTP server and any SSH use would show.
    env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: `url.${context.git.repositoryPath(repository)}.insteadOf`, GIT_CONFIG_VALUE_0: url },
  });
  assertCheckedOut(job, repository);
  assert.equal(servedBy(context.git, repository), [], "nothing reached the SSH server");
  assert.match(job.log, /checkout keeps the current ssh-agent: BUILDKITE_REPO is not an SSH URL/);
  assert.ok(job.runs.environment!.env.AWS_PARAMSTORE_SECRETS_AUTH_SOCK, "the slug agent was started");
  assert.is(job.commandEnv!.SSH_AUTH_SOCK, undefined);
  assert.not.match(job.log, /no SSH deploy key found/);
});

Lifecycle("a failure in environment after agents started: nothing exported, nothing left, and pre-exit is clean", async (context) => {
  const repository = "acme/env-fails.git";
  const keys = keysFor(context.git, { global: [repository] });
  const repo = generateKey("truncated");
  plantKey(repo);
  // Looks like an OpenSSH key, but ssh-add finds the body cut short: the
  // default agent is already up with the global key when this fails.
  const lines = repo.privateKey.trim().split("\n");
  const truncated = [lines[0], lines[1], lines.at(-1)].join("\n");
  const job = await runJob(context, {
    repository,
    pipeline: "env-fails",
    keys: { ...keys, repo: { key: repo, repositories: [] } },
    tree: { [`${BASE}/${slugOf(repository)}/ssh/key`]: truncated, [`${BASE}/keys/env-fails`]: keys.global!.key.privateKey },
    env: { AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/keys/env-fails` },
  });
  assert.equal(job.ran, ["environment", "pre-exit"]);
  assert.is.not(job.runs.environment!.status, 0);
  const errors = job.runs.environment!.stderr.split("\n").filter((line) => line.includes(":no_entry:"));
  assert.equal(errors, [`:no_entry: bk-ssm-secrets: the deploy key ${BASE}/${slugOf(repository)}/ssh/key could not be loaded (ssh-add: error in libcrypto): store a complete OpenSSH private key without a passphrase`]);
  assert.is(job.runs.environment!.env.SSH_AUTH_SOCK, undefined);
  assert.is(job.runs["pre-exit"]!.status, 0);
  assert.is(job.runs["pre-exit"]!.stderr, "");
});

Lifecycle("half-failed: the slug agent died and its socket is gone before pre-exit, which still stops the rest", async (context) => {
  const repository = "acme/half-failed.git";
  const keys = keysFor(context.git, { repo: [repository], global: [repository] });
  const job = await runJob(context, {
    repository,
    pipeline: "half-failed",
    keys,
    ...repositoryAndGlobalKey(repository, keys),
    command: 'kill -KILL "$AWS_PARAMSTORE_SECRETS_AGENT_PID"; rm -f "$AWS_PARAMSTORE_SECRETS_AUTH_SOCK"; exit 3',
  });
  assert.equal(job.ran, ["environment", "pre-checkout", "checkout", "post-checkout", "command", "post-command", "pre-exit"]);
  assert.is(job.runs.command!.status, 3);
  assert.is(job.runs["pre-exit"]!.status, 0, job.log);
  assert.is(job.runs["pre-exit"]!.env.SSH_AUTH_SOCK, undefined);
  assert.is(job.runs["pre-exit"]!.env.AWS_PARAMSTORE_SECRETS_AGENT_PID, undefined);
});

Lifecycle("two jobs at once on one machine see only their own agents", async (context) => {
  const specs = ["acme/concurrent-a.git", "acme/concurrent-b.git"].map((repository, i): JobSpec => {
    const keys = keysFor(context.git, { repo: [repository] });
    return {
      repository,
      pipeline: `concurrent-${i}`,
      keys,
      tree: { [`${BASE}/${slugOf(repository)}/ssh/key`]: keys.repo!.key.privateKey },
      env: { AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND: "1" },
      // Long enough for both jobs' agents to be alive at the same time.
      command: `${REPORT}; sleep 0.5`,
    };
  });
  const [a, b] = await Promise.all(specs.map((spec) => runJob(context, spec)));
  for (const [job, spec] of [
    [a!, specs[0]!],
    [b!, specs[1]!],
  ] as const) {
    assertCheckedOut(job, spec.repository);
    assert.equal(keysSeen(job), [spec.keys.repo!.key.fingerprint]);
    assert.ok(job.commandEnv!.SSH_AUTH_SOCK!.startsWith(`${job.scratch.tmp}/`), "the job's agent lives in the job's TMPDIR");
  }
  assert.is.not(a!.commandEnv!.SSH_AUTH_SOCK, b!.commandEnv!.SSH_AUTH_SOCK);
});

Lifecycle("every lifecycle above called ssh-add with the key on stdin and never in argv", ({ tools }) => {
  const adds = tools.calls().filter((call) => call.program === "ssh-add" && call.args === "-q -");
  assert.ok(adds.length >= 10, `${adds.length} ssh-add calls recorded`);
  assert.ok(adds.every((call) => call.stdin === "stream"));
  const agents = tools.calls().filter((call) => call.program === "ssh-agent");
  assert.ok(agents.every((call) => /^-a \/\S+\/bk-ssm-secrets-agents-\w+\/(slug|default)\.sock -s$/.test(call.args)), JSON.stringify(agents));
});

Lifecycle.run();

