// Secret hygiene across whole jobs, through the real hooks, the compiled
// binary, real ssh-agents and a real sshd:
// - one job (variables, a secret file, git credentials, a repository key and a
//   global key) runs every phase under `strace -f`: no planted secret is in the
//   argv of any process it started, the canary is in no file but the job's
//   secret files while they exist, and nowhere after pre-exit;
// - two jobs at once on one machine see neither each other's agents, files
//   nor variables, and one's pre-exit leaves the other's agent working.
// Every hook's log is audited by the lifecycle harness.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BASE, CANARY, startJobFixture, type JobFixture } from "./support/fixture.ts";
import { generateKey, startGitSshServer, type GitSshServer, type TestKey } from "./support/git-ssh-server.ts";
import { assertNoSecretIn, installedAgent, type Env, type TestAgent } from "./support/job.ts";
import { runLifecycle, type Lifecycle, type Phase } from "./support/lifecycle.ts";
import { assertJobLeftNothing, jobScratch, plantKey, socketsUnder, type JobScratch } from "./support/ssh-job.ts";

interface Context {
  fixture: JobFixture;
  git: GitSshServer;
}

const Hygiene = suite<Context>("hygiene", {} as Context);

Hygiene.before(async (context) => {
  context.fixture = await startJobFixture();
  context.git = await startGitSshServer();
});
Hygiene.after(async ({ fixture, git }) => {
  await Promise.all([fixture.close(), git.close()]);
});

interface JobSpec {
  name: string;
  command: string;
  wrap?: (phase: Phase) => string[];
}

interface Job {
  spec: JobSpec;
  scratch: JobScratch;
  keys: TestKey[];
  variable: string;
  fileContent: string;
  token: string;
  env: Env;
  /** Its agent: the global key is an agent setting. */
  agent: TestAgent;
}

/** Seed one job's tree: a variable and a file in its pipeline slug, git credentials, a repository key and a global key. */
function prepareJob({ fixture, git }: Context, spec: JobSpec): Job {
  const repository = `acme/${spec.name}.git`;
  const slug = `127.0.0.1_acme_${spec.name}.git`;
  git.createRepository(repository);
  const repoKey = generateKey(`${spec.name}-repo`);
  const globalKey = generateKey(`${spec.name}-global`);
  git.authorize(repoKey, [repository]);
  git.authorize(globalKey, []);
  for (const key of [repoKey, globalKey]) plantKey(key);
  const variable = `${spec.name}-variable-${crypto.randomUUID()}`;
  const fileContent = `${spec.name}-file-${crypto.randomUUID()}`;
  const token = `${spec.name}-token-${crypto.randomUUID()}`;
  fixture.seed({
    [`${BASE}/${spec.name}/env/JOB_SECRET`]: variable,
    [`${BASE}/${spec.name}/file/job-file`]: fileContent,
    [`${BASE}/${spec.name}/git-credentials`]: `https://ci:${token}@git.${spec.name}.example`,
    [`${BASE}/${slug}/ssh/key`]: repoKey.privateKey,
    [`${BASE}/keys/${spec.name}`]: globalKey.privateKey,
  });
  const scratch = jobScratch();
  const env = fixture.jobEnv({
    ...git.gitEnv(),
    ...scratch.env(),
    BUILDKITE_REPO: git.url(repository),
    BUILDKITE_PIPELINE_SLUG: spec.name,
    BUILDKITE_JOB_ID: crypto.randomUUID(),
  });
  const agent = installedAgent({ AWS_PARAMSTORE_SECRETS_GLOBAL_SSH: `${BASE}/keys/${spec.name}` });
  return { spec, scratch, keys: [repoKey, globalKey], variable, fileContent, token, env, agent };
}

async function runJob(job: Job): Promise<Lifecycle> {
  const lifecycle = await runLifecycle({ env: job.env, command: job.spec.command, buildDir: job.scratch.build, wrap: job.spec.wrap, hooksDir: job.agent.hooksDir });
  for (const phase of lifecycle.ran) assert.is(lifecycle.runs[phase]!.status, 0, `${phase}: ${lifecycle.runs[phase]!.stderr}`);
  assert.equal(lifecycle.ran, ["environment", "pre-checkout", "checkout", "post-checkout", "command", "post-command", "pre-exit"]);
  return lifecycle;
}

/** Every file under `dir` whose content holds `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((entry) => join(dir, entry))
    .filter((path) => {
      try {
        return statSync(path).isFile() && readFileSync(path, "latin1").includes(needle);
      } catch {
        return false;
      }
    });
}

/**
 * Run a phase under `strace -f` that attaches to it just before it starts.
 * strace follows the ssh-agents the environment phase leaves running, so it
 * lives until pre-exit stops them: it runs in the background with its own
 * stdio, so the phase's output ends when the phase does.
 */
function tracedBy(file: string): string[] {
  const script =
    `strace -f -qq -v -s 65535 -e trace=execve -o '${file}' -p $$ </dev/null >/dev/null 2>&1 & echo $! > '${file}.pid'\n` +
    'until grep -q "^TracerPid:[[:space:]]*[1-9]" /proc/$$/status; do sleep 0.01; done\nexec "$@"';
  return ["bash", "-c", script, "traced"];
}

/** Wait for each phase's strace to finish writing: it ends when the last process it follows does. */
async function tracesComplete(files: string[]): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (const file of files) {
    const pid = Number(readFileSync(`${file}.pid`, "utf8"));
    while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z")) {
      if (performance.now() > deadline) throw new Error(`strace ${pid} did not end after pre-exit: a process of the job is still running`);
      await Bun.sleep(10);
    }
  }
}

/** The argv of each execve in an `strace -f -v -s 65535` log (the environment array after it is left out). */
function execveArgvs(log: string): string[] {
  return log
    .split("\n")
    .map((line) => /execve\("(?:[^"\\]|\\.)*", \[(.*?)\], \[/.exec(line)?.[1])
    .filter((argv): argv is string => argv !== undefined);
}

// The command proves the job works (its key reaches the agent, the credential
// helper answers, the file is there), then lists the files under HOME and
// TMPDIR that hold the canary. Values travel through printenv and stdin, never argv.
const HYGIENE_COMMAND = [
  'test -s "$JOB_FILE" || exit 10',
  "ssh-add -l >/dev/null || exit 11",
  'printf "protocol=https\\nhost=git.%s.example\\n\\n" "$BUILDKITE_PIPELINE_SLUG" | git credential fill | grep -c "^password=" || exit 12',
  'echo "files-dir=$BK_SSM_SECRETS_FILES_DIR"',
  'grep -rlF -f <(printenv CANARY_SECRET; printenv JOB_SECRET) "$HOME" "$TMPDIR" | sed "s/^/holds: /"',
  "true",
].join("\n");

Hygiene("a whole job under strace: no secret in any argv, the canary only in the job's secret files, nothing after pre-exit", async (context) => {
  const traces: string[] = [];
  const job = prepareJob(context, {
    name: "traced",
    command: HYGIENE_COMMAND,
    wrap: (phase) => {
      const file = join(job.scratch.root, `strace-${phase}.log`);
      traces.push(file);
      return tracedBy(file);
    },
  });
  // The canary and the job's variable are planted in the secret file too, so the scan must find that file.
  context.fixture.seed({ [`${BASE}/traced/file/canary-file`]: `${CANARY}\n${job.variable}\n` });
  try {
    const lifecycle = await runJob(job);
    const report = lifecycle.runs.command!.stdout.split("\n");
    assert.ok(report.includes("1"), "the git credential helper answered with a password");
    const filesDir = report.find((line) => line.startsWith("files-dir="))!.slice("files-dir=".length);
    assert.ok(filesDir.startsWith(`${job.scratch.tmp}/bk-ssm-secrets-`), filesDir);
    const holders = report.filter((line) => line.startsWith("holds: ")).map((line) => line.slice("holds: ".length));
    assert.equal(holders, [join(filesDir, "CANARY_FILE")], "during the command, only the secret file holds the canary or a variable");

    await tracesComplete(traces);
    const logs = traces.filter(existsSync).map((file) => readFileSync(file, "utf8"));
    assert.is(logs.length, 7, "every phase was traced");
    const argvs = logs.flatMap(execveArgvs);
    const programs = new Set(argvs.map((argv) => /^"([^"]*)"/.exec(argv)?.[1]?.split("/").pop()));
    for (const program of ["bk-ssm-secrets-linux-x64", "ssh-agent", "ssh-add", "git", "ssh"]) assert.ok(programs.has(program), `${program} ran under strace`);
    assertNoSecretIn(argvs.join("\n"), "the argv of a process of the job");
    for (const value of [CANARY, job.variable, job.fileContent, job.token]) assert.not.ok(argvs.some((argv) => argv.includes(value)), "a secret in an argv");
    console.log(`hygiene: ${argvs.length} execve calls in ${logs.length} traced phases (${[...programs].length} distinct programs), no planted secret in any argv`);

    assertJobLeftNothing(job.scratch, job.keys);
    for (const value of [CANARY, job.variable, job.fileContent]) {
      const left = filesHolding(job.scratch.root, value).filter((path) => !path.includes("/strace-"));
      assert.equal(left, [], "no file of the job holds a secret after pre-exit");
    }
    assert.equal(readdirSync(job.scratch.tmp), [], "TMPDIR is empty after pre-exit");
  } finally {
    job.scratch.remove();
  }
});

Hygiene("the argv check sees a secret that a process does pass on its command line", async () => {
  const scratch = jobScratch();
  try {
    const file = join(scratch.root, "strace.log");
    const proc = Bun.spawn([...tracedBy(file), "bash", "-c", '/bin/true "$CANARY_SECRET"'], { env: { PATH: process.env.PATH!, CANARY_SECRET: CANARY } });
    assert.is(await proc.exited, 0);
    await tracesComplete([file]);
    const argvs = execveArgvs(readFileSync(file, "utf8"));
    assert.ok(argvs.some((argv) => argv.startsWith('"/bin/true", ') && argv.includes(CANARY)), argvs.join("\n"));
    assert.not.ok(argvs.some((argv) => argv.startsWith('"bash", ') && argv.includes(CANARY)), "the environment array is not read as argv");
  } finally {
    scratch.remove();
  }
});

Hygiene("two jobs at once: neither sees the other's agents, files or variables; one's pre-exit leaves the other working", async (context) => {
  // Job "first" waits in its command until "second" finished, pre-exit included, then uses its agent again.
  const second = prepareJob(context, { name: "second", command: 'ssh-add -l | cut -d" " -f2; env | cut -d= -f1 | sort' });
  const release = join(second.scratch.root, "released");
  const first = prepareJob(context, {
    name: "first",
    command: `ssh-add -l | cut -d" " -f2; env | cut -d= -f1 | sort; while [ ! -e '${release}' ]; do sleep 0.05; done; ssh-add -l >/dev/null && echo agent-still-works`,
  });
  try {
    const [firstRun, secondRun] = await Promise.all([
      runJob(first),
      runJob(second).then((run) => {
        writeFileSync(release, "");
        return run;
      }),
    ]);
    for (const [job, run, other] of [
      [first, firstRun, second],
      [second, secondRun, first],
    ] as const) {
      const env = run.commandEnv!;
      assert.is(env.JOB_SECRET, job.variable);
      const values = Object.values(env).join("\n");
      for (const value of [other.variable, other.fileContent, other.token, other.scratch.root]) assert.not.ok(values.includes(value), `${job.spec.name} sees nothing of ${other.spec.name}`);
      for (const name of ["AWS_PARAMSTORE_SECRETS_AUTH_SOCK", "SSH_AUTH_SOCK", "BK_SSM_SECRETS_FILES_DIR", "JOB_FILE"]) {
        assert.ok(env[name]!.startsWith(`${job.scratch.tmp}/`), `${job.spec.name}'s ${name} is its own`);
      }
      const fingerprints = run.runs.command!.stdout.split("\n").filter((line) => line.startsWith("SHA256:"));
      assert.equal(fingerprints, [job.keys[1]!.fingerprint], `${job.spec.name}'s command agent holds its own global key only`);
      assertJobLeftNothing(job.scratch, job.keys);
      assert.equal(socketsUnder(job.scratch.root), []);
    }
    assert.ok(firstRun.runs.command!.stdout.includes("agent-still-works"), "the second job's pre-exit left the first job's agent alone");
    console.log("concurrency: 2 jobs at once, each with 2 agents, 1 secret-files directory and its own variables; no crossing, both cleaned up");
  } finally {
    first.scratch.remove();
    second.scratch.remove();
  }
});

Hygiene.run();
