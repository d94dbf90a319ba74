// `make bench`: how long each phase takes and how the fleet fares, measured
// on the compiled binaries against the SSM test endpoint on 127.0.0.1, side by
// side with the AWS CLI and the old hook's access pattern. Writes
// BENCHMARKS.md. `--smoke` runs every section briefly (for `make test`) and
// writes nothing unless --out is given; `--floor-only` runs section 1 alone.
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { binaryPath, compile, DIST } from "../../build.ts";
import { retryDelay } from "../../src/ssm/client.ts";
import { captureAwsSettings } from "../../src/ssm/settings.ts";
import { jobRecordPath } from "../../src/job/record.ts";
import { addToJobRecord } from "../../src/job/state.ts";
import { makeCertificate } from "../support/git-http-server.ts";
import { startImdsServer } from "../support/imds-server.ts";
import { Random } from "../support/random.ts";
import { startJobApiServer } from "../support/job-api-server.ts";
import { sdkEnv, startSsmServer, type SeedParam, type SsmServer } from "../support/ssm-server.ts";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const outIndex = args.indexOf("--out");
const outFile = outIndex >= 0 ? args[outIndex + 1] : smoke ? undefined : join(import.meta.dir, "../../BENCHMARKS.md");

const RUNS = smoke ? 3 : 25;
// Section 1's verdicts sit within a few percent of their targets: 25 rounds gave `environment` 1.27 to 1.34 × the floor, IMDSv2 1.39 to 1.53 and the Job API's cost 2.7 to 6.2 ms in three runs of one day on the same code.
const FLOOR_ROUNDS = smoke ? 3 : 100;
const LATENCY_RUNS = smoke ? 2 : 10;
const COMPARE_RUNS = smoke ? 2 : 10;
const FLEET_SIZES = smoke ? [10] : [50, 200];
const FLEET_RPS = 40;
const FLEET_DEADLINE_MS = 120_000;
/** SSM's higher-throughput setting: GetParametersByPath at 100 requests/s. */
const HIGH_THROUGHPUT_RPS = 100;
/** 7 + 7 + 6 variables (and the access list): 20 values for the redactor. */
const REDACTED_PER_SLUG = 7;

const ARCH = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
/**
 * Every program measured runs from a copy made as the benchmark starts. The
 * same executable's start-up was seen to depend on its file's state in the
 * page cache: a binary written half an hour before took 24 ms where a fresh
 * copy of the same bytes took 20 ms (35 more page faults). Copies made
 * together start alike, whenever each program was built.
 */
const FRESH = mkdtempSync(join(tmpdir(), "bk-bench-bin-"));
// Removed however the run ends: the copies are over 100 MB each.
process.on("exit", () => rmSync(FRESH, { recursive: true, force: true }));
function freshCopy(path: string): string {
  const copy = join(FRESH, basename(path));
  copyFileSync(path, copy);
  chmodSync(copy, 0o755);
  return copy;
}
const BIN = freshCopy(binaryPath(ARCH));
const JOB_ID = crypto.randomUUID();
/** The phases' agent settings: a defaults file that lets each run choose its tree's base path. */
const AGENT = ["--defaults-file", join(mkdtempSync(join(tmpdir(), "bk-bench-")), "defaults.env")];
writeFileSync(AGENT[1]!, "export BK_SSM_SECRETS_PIPELINE_OVERRIDES=AWS_PARAMSTORE_SECRETS_SECRETS_PATH\n");
const BASE = "/bench";
const REPO = "git@github.com:acme/widgets.git";
const REPO_SLUG = "github.com_acme_widgets.git";
const PIPELINE = "widgets";
const SLUGS = ["global", REPO_SLUG, PIPELINE];

// ---------------------------------------------------------------------------
// Fixture: 3 slugs x N parameters plus an access list, under /bench/n<N>.

/** Each slug holds exactly `perSlug` parameters; the pipeline slug's access list is one of them. */
function tree(perSlug: number): SeedParam[] {
  const base = `${BASE}/n${perSlug}`;
  const params: SeedParam[] = SLUGS.flatMap((slug) =>
    Array.from({ length: slug === PIPELINE ? perSlug - 1 : perSlug }, (_, i) => ({
      name: `${base}/${slug}/env/${slug.slice(0, 6).toUpperCase().replace(/\W/g, "_")}_VAR_${i}`,
      value: `secret-${slug}-${i}-${"x".repeat(32)}`,
      type: "SecureString" as const,
    })),
  );
  params.push({ name: `${base}/${PIPELINE}/allowed_pipelines`, value: `${PIPELINE}\nother`, type: "String" });
  params.push({ name: gitCredentials(perSlug), value: "https://x-access-token:bench-token-0123456789@github.com\n", type: "SecureString" });
  return params;
}

/** Outside the slugs' env trees, so the 3 × N fixture stays as documented. */
function gitCredentials(perSlug: number): string {
  return `${BASE}/credentials-n${perSlug}/git-credentials`;
}

function jobEnv(server: SsmServer, perSlug = 10): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    ...sdkEnv(server),
    AWS_SSM_SECRETS_PLUGIN_ENABLED: "1",
    // Allowed by the bench's defaults file (AGENT): one agent, trees of several sizes.
    AWS_PARAMSTORE_SECRETS_SECRETS_PATH: `${BASE}/n${perSlug}`,
    BUILDKITE_JOB_ID: JOB_ID,
    BUILDKITE_REPO: REPO,
    BUILDKITE_PIPELINE_SLUG: PIPELINE,
    BUILDKITE_SOURCE: "ui",
    BENCH_SLUGS: SLUGS.join(","),
  };
}

// ---------------------------------------------------------------------------
// Measuring.

interface Stats { median: number; min: number; max: number; p99?: number }

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, p99: at(0.99) };
}

async function runOnce(command: string[], env: Record<string, string>, stdin?: string): Promise<{ ms: number; ok: boolean }> {
  const started = performance.now();
  const proc = Bun.spawn(command, { env, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "ignore", stderr: "ignore" });
  const code = await proc.exited;
  return { ms: performance.now() - started, ok: code === 0 };
}

/** Wall time over `runs` runs after warm-up, and peak RSS over as many runs through GNU time. */
async function measure(command: string[], env: Record<string, string>, runs: number, stdin?: string) {
  for (let i = 0; i < 3; i++) await runOnce(command, env, stdin);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runOnce(command, env, stdin);
    if (!run.ok) throw new Error(`${command.join(" ")} failed during the benchmark`);
    times.push(run.ms);
  }
  return { time: stats(times), rss: await peakRss(command, env, runs, stdin) };
}

/** Peak RSS in MiB over `runs` runs, through GNU time. */
async function peakRss(command: string[], env: Record<string, string>, runs: number, stdin?: string): Promise<Stats> {
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const proc = Bun.spawn(["/usr/bin/time", "-f", "%M", ...command], { env, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "ignore", stderr: "pipe" });
    const text = await new Response(proc.stderr).text();
    await proc.exited;
    rss.push(Number(text.trim().split("\n").pop()) / 1024);
  }
  return stats(rss);
}

interface Contender {
  label: string;
  command: string[];
  env: Record<string, string>;
}

/**
 * Each contender once per round, round after round, so that whatever the
 * shared machine does meanwhile falls on all of them alike: only ratios
 * within one such run are compared. The order is shuffled every round (a
 * fixed seed, so runs are alike), so that no program always follows the
 * same one: a precaution, as no effect of the order was measured apart from
 * the stale-file one below.
 * Returns each contender's times in round order, so that they can be
 * compared round by round.
 */
async function interleaved(contenders: Contender[], rounds: number): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(contenders.map((contender) => [contender.label, []]));
  const random = new Random(20261202);
  for (let round = -2; round < rounds; round++) {
    const order = [...contenders];
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const contender of order) {
      const run = await runOnce(contender.command, contender.env);
      if (!run.ok) throw new Error(`${contender.label} failed during the benchmark`);
      if (round >= 0) times.get(contender.label)!.push(run.ms);
    }
  }
  return times;
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const mib = (value: number) => `${value.toFixed(1)} MiB`;

async function calls(server: SsmServer, run: () => Promise<unknown>): Promise<number> {
  server.resetCalls();
  await run();
  return server.callCount();
}

/**
 * The fleet as a discrete-event simulation: `size` jobs of 3 reads at once, a
 * shared token bucket, each throttled read retried after retryDelay, as the
 * binary does. What the backoff achieves when CPU is not the limit.
 */
function simulateFleet(size: number, rps = FLEET_RPS, roundTripMs = 2, maxAttempts = 30) {
  let tokens = rps;
  let last = 0;
  let calls = 0;
  const pending = Array.from({ length: size * 3 }, (_, i) => ({ at: 0, job: Math.floor(i / 3), attempt: 0 }));
  const served = new Array<number>(size).fill(0);
  const finished: number[] = [];
  while (pending.length) {
    pending.sort((a, b) => a.at - b.at);
    const request = pending.shift()!;
    calls++;
    tokens = Math.min(rps, tokens + ((request.at - last) / 1000) * rps);
    last = request.at;
    if (tokens >= 1) {
      tokens -= 1;
      if (++served[request.job]! === 3) finished.push(request.at + roundTripMs);
    } else if (request.attempt + 1 < maxAttempts) {
      pending.push({ at: request.at + roundTripMs + retryDelay(request.attempt + 1), job: request.job, attempt: request.attempt + 1 });
    }
  }
  const times = stats(finished);
  return { ok: finished.length, p50: times.median, p99: times.p99!, calls };
}

// ---------------------------------------------------------------------------

const report: string[] = [];
const say = (line = "") => {
  report.push(line);
  console.log(line);
};

mkdirSync(join(DIST, "bench"), { recursive: true });
const hello = freshCopy(await compile(join(import.meta.dir, "hello.ts"), join(DIST, "bench/hello"), ARCH));
const floor = freshCopy(await compile(join(import.meta.dir, "floor.ts"), join(DIST, "bench/floor"), ARCH));
const oldPattern = freshCopy(await compile(join(import.meta.dir, "old-pattern.ts"), join(DIST, "bench/old-pattern"), ARCH));

// One set of credentials, an EC2 instance profile's: in the environment for
// most rows, served over IMDSv2 for the instance-profile row.
const imds = await startImdsServer();
const server = await startSsmServer({ params: [...tree(10), ...tree(100), ...tree(REDACTED_PER_SLUG)], credentials: imds.credentials });
const env = jobEnv(server);
const certificateDir = mkdtempSync(join(tmpdir(), "bk-bench-"));
const certificate = makeCertificate(certificateDir);
const tlsServer = await startSsmServer({ params: tree(10), credentials: imds.credentials, tls: certificate });
const jobApi = startJobApiServer();

const cpu = cpus()[0]?.model ?? "unknown CPU";
say("# Benchmarks");
say();
say(`Generated by \`make bench\` (\`bun test/bench/bench.ts\`) on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}-${process.arch}, Bun ${Bun.version}. The SSM endpoint is the project's test server on 127.0.0.1 (SigV4 checked); times are wall-clock for a cold process, as a hook pays them. Fixture: 3 slugs (global, repository, pipeline) × 10 parameters (SecureStrings, and the pipeline slug's access list), so each slug is one page.`);
say();

// 1. Against the floor, interleaved.
/** The job's environment with no static keys: credentials come from the instance profile over IMDSv2. */
function instanceProfile(jobEnvironment: Record<string, string>): Record<string, string> {
  const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, AWS_SESSION_TOKEN: _token, AWS_EC2_METADATA_DISABLED: _disabled, ...rest } = jobEnvironment;
  return { ...rest, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url };
}
const httpsEnv = { ...jobEnv(tlsServer), AWS_CA_BUNDLE: certificate.certFile };
const twentyValues = jobEnv(server, REDACTED_PER_SLUG);
const phaseEnv = { ...env, BUILDKITE_REPO: "https://github.com/acme/widgets.git" };
const LABELS = {
  hello: "bare Bun executable (`hello`)",
  floor: "**floor**: the same 3 reads, SigV4 on Bun's crypto + fetch, env credentials",
  environment: "**`environment`**, env credentials",
  imds: "`environment`, IMDSv2 credentials",
  floorTls: "floor over HTTPS (AWS_CA_BUNDLE)",
  environmentTls: "`environment` over HTTPS (AWS_CA_BUNDLE)",
  noRedactor: `\`environment\`, 20 values, no redactor`,
  jobApi: `\`environment\`, 20 values redacted through the Job API`,
  version: "`--version`",
  preCheckout: "`pre-checkout` (HTTPS repository: no probe)",
  postCheckout: "`post-checkout`",
  postCommand: "`post-command`",
  preExit: "`pre-exit` (nothing left to clean)",
};
const NON_AWS = [LABELS.version, LABELS.preCheckout, LABELS.postCheckout, LABELS.postCommand, LABELS.preExit];
const againstFloor: Contender[] = [
  { label: LABELS.hello, command: [hello], env },
  { label: LABELS.floor, command: [floor], env },
  { label: LABELS.environment, command: [BIN, "environment", ...AGENT], env },
  { label: LABELS.imds, command: [BIN, "environment", ...AGENT], env: instanceProfile(env) },
  { label: LABELS.floorTls, command: [floor], env: httpsEnv },
  { label: LABELS.environmentTls, command: [BIN, "environment", ...AGENT], env: httpsEnv },
  { label: LABELS.noRedactor, command: [BIN, "environment", ...AGENT], env: twentyValues },
  { label: LABELS.jobApi, command: [BIN, "environment", ...AGENT], env: { ...twentyValues, ...jobApi.jobEnv() } },
  { label: LABELS.version, command: [BIN, "--version"], env: phaseEnv },
  { label: LABELS.preCheckout, command: [BIN, "pre-checkout", ...AGENT], env: phaseEnv },
  { label: LABELS.postCheckout, command: [BIN, "post-checkout", ...AGENT], env: phaseEnv },
  { label: LABELS.postCommand, command: [BIN, "post-command", ...AGENT], env: phaseEnv },
  { label: LABELS.preExit, command: [BIN, "pre-exit", ...AGENT], env: phaseEnv },
];
const [load1, load5] = loadavg();
say(`## 1. Against the floor, interleaved (${FLOOR_ROUNDS} rounds, each program once a round in a shuffled order, after 2 warm-up rounds)`);
say();
say(
  `The floor program (test/bench/floor.ts) does only what \`environment\` must: the same three GetParametersByPath walks at once, signed by src/ssm/sigv4.ts and sent with fetch, credentials from the environment; it is compiled by build.ts's compile() like the binary, and every program runs from a copy made as the run starts (section 7). Load average when this section started: ${load1!.toFixed(1)} (1 min), ${load5!.toFixed(1)} (5 min) on ${cpus().length} cores: the machine is shared, so read the ratios, which are taken within each round's conditions.`,
);
say();
const roundTimes = await interleaved(againstFloor, FLOOR_ROUNDS);
const versus = new Map([...roundTimes].map(([label, values]) => [label, stats(values)]));
/**
 * The median, over the rounds, of `label`'s time against `base`'s in the same
 * round: a slow spell of the shared machine falls on both runs of a round,
 * and cancels out of their ratio (or difference) where it would not out of
 * the two medians.
 */
const paired = (label: string, base: string, combine = (time: number, baseTime: number) => time / baseTime) =>
  stats(roundTimes.get(label)!.map((time, round) => combine(time, roundTimes.get(base)![round]!))).median;
say("| program | median | min – max | vs floor | vs hello |");
say("| --- | --- | --- | --- | --- |");
for (const { label } of againstFloor) {
  const result = versus.get(label)!;
  say(`| ${label} | ${fmt(result.median)} | ${fmt(result.min)} – ${fmt(result.max)} | ${paired(label, LABELS.floor).toFixed(2)}× | ${paired(label, LABELS.hello).toFixed(2)}× |`);
}
say();
say("The ratios are medians of each round's ratio (the program's time over the floor's, or over `hello`'s, in the same round), not ratios of the medians: a slow spell of the shared machine falls on both runs of a round.");
say();
const perJob = async (target: SsmServer, jobEnvironment: Record<string, string>) => {
  target.resetCalls();
  await runOnce([BIN, "environment", ...AGENT], jobEnvironment);
  return `${target.callCount()} requests over ${target.connectionCount()} connections`;
};
jobApi.redactions.length = 0;
await runOnce([BIN, "environment", ...AGENT], { ...twentyValues, ...jobApi.jobEnv() });
say(`Per job: over HTTP ${await perJob(server, env)}; over HTTPS ${await perJob(tlsServer, httpsEnv)} (one per slug read at once; pages after the first reuse them). The Job API rows register ${jobApi.redactions.length} values.`);
const floorRss = await peakRss([floor], env, RUNS);
const environmentRss = await peakRss([BIN, "environment", ...AGENT], env, RUNS);
const imdsRss = await peakRss([BIN, "environment", ...AGENT], instanceProfile(env), RUNS);
say(`Peak RSS (median of ${RUNS}): floor ${mib(floorRss.median)}, \`environment\` ${mib(environmentRss.median)} (max ${mib(environmentRss.max)}), with IMDSv2 credentials ${mib(imdsRss.median)} (max ${mib(imdsRss.max)}).`);
say();
// `--floor-only`: section 1 alone, for working on start-up; writes nothing.
if (args.includes("--floor-only")) {
  await Promise.all([server.close(), tlsServer.close(), imds.close()]);
  jobApi.close();
  rmSync(certificateDir, { recursive: true, force: true });
  process.exit(0);
}

// 2. Per phase, cold process.
say(`## 2. Per phase, cold process (${RUNS} runs each, after 3 warm-up runs)`);
say();
say("| command | median | min – max | peak RSS median | RSS max |");
say("| --- | --- | --- | --- | --- |");
const phases: Array<{ label: string; command: string[]; stdin?: string }> = [
  { label: "bare Bun executable (`hello`)", command: [hello] },
  { label: "`--version`", command: [BIN, "--version"] },
  { label: "`environment`", command: [BIN, "environment", ...AGENT] },
  {
    label: "`git-credential get` (one GetParameters call)",
    command: [BIN, "git-credential", "--parameter", gitCredentials(10), "get"],
    stdin: "protocol=https\nhost=github.com\n\n",
  },
  // The non-AWS phases with an HTTPS repository: no probe, so this is the
  // binary's own cost (the probe's is git's and the network's).
  { label: "`pre-checkout` (HTTPS repository: no probe)", command: [BIN, "pre-checkout", ...AGENT] },
  { label: "`post-checkout`", command: [BIN, "post-checkout", ...AGENT] },
  { label: "`post-command`", command: [BIN, "post-command", ...AGENT] },
  { label: "`pre-exit` (nothing left to clean)", command: [BIN, "pre-exit", ...AGENT] },
];
// The git helper answers only for what the environment phase granted the job: grant it as that phase does.
addToJobRecord(jobRecordPath(JOB_ID)!, { grant: { parameters: [gitCredentials(10)], aws: captureAwsSettings(env) } });
const phaseResults = new Map<string, Awaited<ReturnType<typeof measure>>>();
for (const phase of phases) {
  const result = await measure(phase.command, { ...env, BUILDKITE_REPO: "https://github.com/acme/widgets.git" }, RUNS, phase.stdin);
  phaseResults.set(phase.label, result);
  say(`| ${phase.label} | ${fmt(result.time.median)} | ${fmt(result.time.min)} – ${fmt(result.time.max)} | ${mib(result.rss.median)} | ${mib(result.rss.max)} |`);
}
say();

// Where environment's time goes, from its own verbose timings.
const breakdown = { reads: [] as number[], total: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  const proc = Bun.spawn([BIN, "environment", ...AGENT], { env: { ...env, AWS_PARAMSTORE_SECRETS_VERBOSE: "1" }, stdout: "ignore", stderr: "pipe" });
  const log = await new Response(proc.stderr).text();
  await proc.exited;
  breakdown.total.push(performance.now() - started);
  breakdown.reads.push(Math.max(...[...log.matchAll(/parameters in (\d+) ms/g)].map((m) => Number(m[1]))));
}
const helloMs = phaseResults.get("bare Bun executable (`hello`)")!.time.median;
const versionMs = phaseResults.get("`--version`")!.time.median;
say("Where `environment`'s time goes (medians; the phase's own verbose timings):");
say();
say(`- Bun runtime start (\`hello\`): ${fmt(helloMs)}`);
say(`- our CLI's module evaluation (\`--version\` minus \`hello\`): ${fmt(versionMs - helloMs)}`);
say("- loading the AWS SDK: none on the direct route (src/ssm/direct.ts); it loads only when a request is handed over");
say(`- the slowest slug's read, credentials and signing included (all slugs read at once): ${fmt(stats(breakdown.reads).median)}`);
say(`- the whole phase, verbose: ${fmt(stats(breakdown.total).median)}`);
say();

// 2. Latency.
say(`## 3. \`environment\` under injected latency (${LATENCY_RUNS} runs each)`);
say();
say("| latency per request | parameters per slug | median | min – max | SSM calls per job |");
say("| --- | --- | --- | --- | --- |");
const latency = new Map<string, number>();
for (const perSlug of [10, 100]) {
  for (const latencyMs of [0, 20, 50]) {
    server.configure({ latencyMs });
    const jobEnvN = jobEnv(server, perSlug);
    const result = await measure([BIN, "environment", ...AGENT], jobEnvN, LATENCY_RUNS);
    const perJob = await calls(server, () => runOnce([BIN, "environment", ...AGENT], jobEnvN));
    latency.set(`${latencyMs}/${perSlug}`, result.time.median);
    say(`| ${latencyMs} ms | ${perSlug} | ${fmt(result.time.median)} | ${fmt(result.time.min)} – ${fmt(result.time.max)} | ${perJob} |`);
  }
}
server.configure({ latencyMs: 0 });
say();

// 3. Side by side.
say(`## 4. Side by side, same fixture (${COMPARE_RUNS} runs each)`);
say();
const aws = Bun.which("aws", { PATH: "/usr/bin" });
const awsScript = SLUGS.map((slug) => `aws ssm get-parameters-by-path --endpoint-url "$AWS_ENDPOINT_URL_SSM" --path ${BASE}/n10/${slug} --recursive --with-decryption --output json >/dev/null`).join(" && ");
const contenders: Array<{ label: string; command: string[] }> = [
  { label: "bk-ssm-secrets `environment`", command: [BIN, "environment", ...AGENT] },
  { label: "old hook's pattern (DescribeParameters + GetParameter each, same SDK, compiled the same way)", command: [oldPattern] },
];
if (aws && !smoke) contenders.push({ label: "`aws ssm get-parameters-by-path`, one process per slug (Debian awscli)", command: ["bash", "-c", awsScript] });
say("| reader | median | min – max | SSM calls per job | vs bk-ssm-secrets |");
say("| --- | --- | --- | --- | --- |");
let ours = 0;
// Debian's aws first on PATH; and no AWS_PROFILE at all: the CLI reads an empty one as a profile named "".
const compareEnv: Record<string, string> = { ...env, PATH: `/usr/bin:${env.PATH}` };
delete compareEnv.AWS_PROFILE;
for (const contender of contenders) {
  const result = await measure(contender.command, compareEnv, COMPARE_RUNS);
  const perJob = await calls(server, () => runOnce(contender.command, compareEnv));
  ours ||= result.time.median;
  say(`| ${contender.label} | ${fmt(result.time.median)} | ${fmt(result.time.min)} – ${fmt(result.time.max)} | ${perJob} | ${(result.time.median / ours).toFixed(1)}× |`);
}
if (!aws && !smoke) say("\n(The AWS CLI was not installed: `make bench` installs Debian's awscli.)");
say();

// 4. Fleet.
say(`## 5. Fleet: jobs started at once against a shared ${FLEET_RPS} requests/s token bucket`);
say();
say(`Throttled requests are answered with SSM's ThrottlingException. A job that has not finished after ${FLEET_DEADLINE_MS / 1000} s is counted as failed.`);
say();
say("| jobs | reader | succeeded | p50 time-to-environment | p99 | SSM requests (incl. throttled) |");
say("| --- | --- | --- | --- | --- | --- |");
const fleet = new Map<number, { ok: number; p99: number }>();
const simulatedP99 = new Map<number, number>();
/** When the last of `jobs` jobs' 3 reads can be served at `rps`, after the bucket's first second of burst. */
const quotaFloor = (jobs: number, rps: number) => Math.max(0, (3 * jobs - rps) / rps) * 1000;
for (const size of FLEET_SIZES) {
  const readers: Array<[string, string[], Record<string, string>, number | null]> = [
    ["bk-ssm-secrets", [BIN, "environment", ...AGENT], {}, FLEET_RPS],
    ["bk-ssm-secrets, retries capped at the SDK's default 3 attempts", [BIN, "environment", ...AGENT], { AWS_MAX_ATTEMPTS: "3" }, FLEET_RPS],
    ["old pattern (SDK defaults)", [oldPattern], {}, FLEET_RPS],
    // What this machine alone costs: every job's process on 2 shared cores, no quota at all.
    ["bk-ssm-secrets, no rate limit (this machine's CPU floor)", [BIN, "environment", ...AGENT], {}, null],
  ];
  for (const [label, command, extra, rps] of readers) {
    server.configure({ rateLimit: rps ? { requestsPerSecond: rps } : null });
    await Bun.sleep(1100); // let the bucket refill between runs
    server.resetCalls();
    const runs = await Promise.all(
      Array.from({ length: size }, async () => {
        const started = performance.now();
        const proc = Bun.spawn(command, { env: { ...env, ...extra }, stdout: "ignore", stderr: "ignore" });
        const timer = setTimeout(() => proc.kill("SIGKILL"), FLEET_DEADLINE_MS);
        const code = await proc.exited;
        clearTimeout(timer);
        return { ok: code === 0, ms: performance.now() - started };
      }),
    );
    server.configure({ rateLimit: null });
    const ok = runs.filter((run) => run.ok);
    const times = stats(ok.length ? ok.map((run) => run.ms) : [Number.NaN]);
    if (label === "bk-ssm-secrets") fleet.set(size, { ok: ok.length, p99: times.p99! });
    say(`| ${size} | ${label} | ${ok.length}/${size} (${((100 * ok.length) / size).toFixed(0)}%) | ${fmt(times.median)} | ${fmt(times.p99!)} | ${server.callCount()} |`);
  }
  for (const rps of [FLEET_RPS, HIGH_THROUGHPUT_RPS]) {
    const simulated = simulateFleet(size, rps);
    if (rps === FLEET_RPS) simulatedP99.set(size, simulated.p99);
    const bucket = rps === FLEET_RPS ? "bucket" : `bucket at ${rps}/s (SSM's higher-throughput setting)`;
    say(`| ${size} | simulated: the same backoff (\`retryDelay\` from src/ssm/client.ts) and ${bucket}, 2 ms round trips, no CPU contention | ${simulated.ok}/${size} | ${fmt(simulated.p50)} | ${fmt(simulated.p99)} | ${simulated.calls} |`);
  }
}
say();
say(
  `The quota alone sets a floor: ${FLEET_SIZES.map((n) => `${n} jobs × 3 reads at ${FLEET_RPS}/s, less the first second's burst, cannot all finish before ${fmt(quotaFloor(n, FLEET_RPS))}`).join("; ")}. ` +
    "On this machine all the jobs' processes and the endpoint also share 2 cores (the no-rate-limit row), which a real fleet of agents does not; the simulated row is the backoff's own result without that contention.",
);
say();
say(
  `For large fleets: Parameter Store's higher-throughput setting (\`aws ssm update-service-setting --setting-id arn:aws:ssm:REGION:ACCOUNT:servicesetting/ssm/parameter-store/high-throughput-enabled --setting-value true\`, charged per API interaction) raises GetParametersByPath to ${HIGH_THROUGHPUT_RPS} requests/s and GetParameter(s) to 3,000/s per account and region. ` +
    `With it the quota's floor falls to ${FLEET_SIZES.map((n) => `${fmt(quotaFloor(n, HIGH_THROUGHPUT_RPS))} for ${n} jobs`).join(" and ")} (the simulated ${HIGH_THROUGHPUT_RPS}/s rows). Each job reads its slugs with one GetParametersByPath each, so it is that quota that counts.`,
);
say();

const TRIED = `## 7. What was tried

- **Kept: one \`GetParametersByPath\` walk per slug, all slugs at once** (section 3): three calls and one round trip per job, against the old pattern's DescribeParameters walk and one GetParameter per parameter in sequence.
- **Kept: \`bun build --compile --splitting\`.** Each lazily imported module is a chunk loaded only when a phase imports it, so the phases that never talk to AWS do not load the SDK's bytecode; with a single bundle they all paid for it at start-up. Compare \`--version\` and the non-AWS phases with the floor in section 1.
- **Kept: \`--compile-jit-policy=10\`**: a phase lives for tens of milliseconds, so JIT tiers that pay off later only cost CPU; tiering up ten times later cuts \`environment\`'s CPU, which matters most when a fleet's jobs share machines.
- **Kept: \`--bytecode\`**, which stores the SDK's compiled bytecode in the binary so \`environment\` does not parse it at every start.
- **Kept: retrying until the phase deadline with full-jitter backoff capped at 2 s** (\`retryDelay\` in src/ssm/client.ts, through the SDK's own ConfiguredRetryStrategy). The fleet rows "retries capped at the SDK's default 3 attempts" show what giving up early costs when a fleet shares one quota.
- **Tried, not kept: shorter backoff caps (1 s, 0.5 s).** More throttled requests competed for the same two cores and the fleet finished later, and at 0.5 s a job ran out of attempts.
- **Kept: the direct route for reads** (src/ssm/direct.ts): each GetParametersByPath and GetParameters is signed by src/ssm/sigv4.ts on Bun's crypto (checked byte for byte against the SDK's SignatureV4 by test/sigv4.test.ts) and sent with fetch; the SDK loads only when a request is handed over (any answer but 2xx, any network error) or the configuration is one the route does not reproduce (a profile, shared config files, FIPS, dual-stack, another partition). What each step bought, measured once with copies of the binary at each step (20 interleaved rounds in one run, env credentials, load average about 21 on 2 shared cores; medians): before, 708 ms, 3.46 × the floor's 204 ms; the direct route with credentials still from the SDK's whole chain, 364 ms (1.78×); one credential provider, 292 ms (1.43×); the logger below, 301 ms (1.47×: within the noise for \`environment\`); cac skipped, 288 ms (1.41×). \`--version\` went 201 → 154 (logger) → 144 ms (cac), 1.52 → 1.09 × \`hello\`; \`post-command\` 233 → 175 → 162 ms, 1.76 → 1.23 × \`hello\`.
- **Kept: only the credential provider the environment calls for** (src/ssm/credentials.ts): static keys need none; the instance profile is three fetches to IMDSv2 when all is well (the SDK's own IMDS provider for anything else: no answer, a refusal, the IPv6 endpoint mode, a proxy); anything else, the SDK's whole default chain.
- **Kept: a logger without picocolors and without \`process.stderr\`** (an fstat check for a terminal): the first touch of either loads Bun's stream modules.
- **Kept: phases and \`--version\` called alone skip cac**, loaded only for the operator commands, help and anything with options.
- **Kept, changed: the SDK's fetch-based request handler** for requests the SDK sends: now run through the whole fault matrix, and it goes through HTTPS_PROXY/HTTP_PROXY (NO_PROXY excepted) and trusts AWS_CA_BUNDLE as the direct route does, which the node:http handler did not.
- **Kept: no \`node:crypto\` on a phase's path.** It alone cost 7-12 ms and 6 MiB at start-up in a compiled probe, and src/job/state.ts brought it into \`environment\`, \`pre-exit\` and git's helper for six random bytes and a fingerprint: now Web Crypto's getRandomValues and \`Bun.CryptoHasher\`. One interleaved run (25 rounds): \`environment\` 60.4 → 55.0 ms, \`pre-exit\` 40.8 → 36.0 ms, peak RSS 43.3 → 41.8 MiB. test/imports.test.ts now fails when a phase's static imports reach any Node module but node:fs, node:path and node:os.
- **Kept: main.ts is only the hooks' fast path**; cac's command table moved to src/cli/commands.ts, which loads only off the fast path: \`--version\` 1.33 → 1.25 × \`hello\` (p25 of one run).
- **Kept: the phases after \`environment\` resolve only the settings a job may set** (\`hookContext\`, \`resolveJobSettings\`): not the agent-only settings, their checks or the protected-names list (now built on first lookup). \`post-command\` 1.65 → 1.53, \`pre-exit\` 1.77 → 1.49, \`pre-checkout\` 1.61 → 1.37 × \`hello\` in one run; and a broken defaults file no longer stops \`pre-exit\`'s clean-up.
- **Kept: fewer first-use costs on those paths**: the defaults file parsed without a regular expression, \`isShellIdentifier\` written out (checked against bash's pattern on 20,000 random strings), \`TextEncoder\` instead of \`Buffer\`, list settings split on ASCII blanks (the first \`\\s\` costs ~0.3 ms, the first regular expression ~0.5 ms, the first \`Buffer.from\` ~0.4 ms, each measured in a compiled probe): \`post-command\` 1.46 → 1.26 × \`hello\` in one run.
- **Kept: IMDS asked before the configuration is read** (\`PhaseEntry.early\`): the IMDSv2 requests start with the phase instead of after its start-up, and the provider takes that answer (test/faults.e2e.test.ts asserts IMDS is asked once per job). \`runPhase\` also returns to the event loop between its start-up steps when a phase has such work, so that all three round trips can progress: \`environment\` with IMDSv2 credentials 78.1 → 75.0 ms in one A/B run, and, unexpectedly, 81.0 → 76.1 ms with static keys (50 rounds). The same yields made the phases without early work slower (\`pre-checkout\` 32.1 → 37.2 ms), so they have none. Since 2026-12-02 a job with static keys, the credential chain's first link, has no early work either: it loads no provider module early and takes no event-loop turn for it (a process's first turn alone costs 0.4 to 0.6 ms in a compiled probe): \`environment\` 1.293 → 1.257 × the floor in one run of 40 shuffled rounds, together with the region check written out as a loop (src/ssm/direct.ts); the static-keys figure above was taken before the fresh-copy fix.
- **Measured, the floor of any phase: \`node:fs\`** costs 3 ms and 5.4 MiB to load (compiled probe). Until 2026-12-02 every phase loaded it, for the terminal check (an fstat) and the agent's defaults file; since then only the phases that write do (next item). A program that does only that (fstat, read the file, print) runs at 1.09-1.19 × \`hello\`.
- **Kept (2026-12-02, later): the phases after \`environment\` load node:fs and node:path only when they need them.** In compiled probes node:fs costs 3.5 to 4 ms to load (a program that writes one line with it: 1.17-1.22 × \`hello\`; loaded first through \`import.meta.require\`: 1.36 ×, so the code imports it), and node:path about 1.3 ms (1.07 ×). The terminal check is now Bun's native isatty (\`process.binding("tty_wrap")\`; node:tty would load the stream modules, 1.49 ×); the defaults file is read by mapping it (\`Bun.mmap\`: the first stat, mapping and decoding about 0.5 ms together, against 3.8 ms to load node:fs and read; \`Bun.file().text()\` costs about 4.5 ms, as it starts a thread); pre-exit loads the module that reads and checks a job's record only when a record is there; src/core/paths.ts has the basename, dirname and isAbsolute they used (checked against node:path's POSIX functions). A phase that prints on every job (\`environment\`, and \`pre-checkout\`, which always prints the agent it saves, until the next item) loads node:fs first, by import, and reads the defaults file with it. Fresh copies, shuffled rounds against the code before: \`post-checkout\` 1.390 → 1.213, \`post-command\` 1.380 → 1.209, \`pre-exit\` 1.424 → 1.226, \`--version\` 1.301 → 1.278 × \`hello\` (50 rounds, stdout a pipe); \`pre-checkout\` 1.544 → 1.487 (100 rounds, stdout to /dev/null as this file's rows send it; 1.476 → 1.417 to a pipe, 120 rounds, as a hook's \`$(…)\` gives it); \`environment\` unchanged (1.302 → 1.299 × the floor, IMDSv2 1.378 → 1.401, 60 rounds: it loads node:fs in any case, for its log).
- **Kept (2026-12-02, a later session): a payload of up to PIPE_BUF (4 KiB) written with one \`Bun.write\` when node:fs is not loaded already, and every hook payload checked by its hook.** \`pre-checkout\`, which prints the agent it saves on every job, and \`--version\` no longer load node:fs (\`writeOnce\` in src/core/stdio.ts, \`handOver\` in src/cli/run.ts). A first try had been dropped: \`Bun.write\` sent part of a 2.6 KB payload twice to a non-blocking socket whose buffer was nearly full and reported every byte written, and a review reproduced it again (4 runs of 20: 2,240 bytes twice, status 0). To a pipe, which is what a hook's \`$(…)\` gives the binary, a write of at most PIPE_BUF bytes is atomic (pipe(7)): never short, so that path is never taken. For any other stdout, each hook payload now begins with a comment holding a random nonce (a Web Crypto UUID) and ends with one holding the nonce and the count of the bytes before it, and the hook evaluates nothing that fails the check (hooks/lib/run-phase.bash, test/payload.e2e.test.ts). The nonce is drawn only for a payload: drawn for every phase, it cost the phases that print nothing about 1.2 ms (\`post-command\` 1.269 → 1.209 × \`hello\` once drawn only for a payload, 100 shuffled rounds); and 16 hex digits built from \`getRandomValues\` cost \`pre-checkout\` 1.2 ms more than \`randomUUID\` in a compiled probe. Fresh copies, 60 shuffled rounds against the code before: \`pre-checkout\` 1.539 → 1.312 × \`hello\` with stdout to /dev/null (as this file's rows send it), 1.464 → 1.324 to a pipe; \`--version\` 1.317 → 1.164 and 1.359 → 1.198; \`post-checkout\`, \`post-command\` and \`pre-exit\` within ±0.02. \`environment\` loads node:fs for its log in any case and writes with it, as the floor does: 1.358 → 1.342 × the floor, IMDSv2 1.459 → 1.440 (50 rounds, within the noise). What the check costs it: about 0.45 ms from its last line to its write (marks in a copy of the binary, medians of 40: 0.25 ms for the UUID, Web Crypto's first use; 0.1 ms to count the bytes) and 0.2 MiB of peak RSS (38.66 → 38.84 MiB, medians of 15); the payload is counted and then encoded once, since encoding its parts into one buffer cost 0.4 MiB more.
- **Measured, while \`pre-checkout\` still loaded node:fs to write (before the item above): where stdout goes changed it, the one phase after \`environment\` that prints on every job.** This file's rows send each program's stdout to /dev/null; a hook's \`$(…)\` gives it a pipe. The same binary: 1.49 to 1.55 × \`hello\` to /dev/null, 1.42 to 1.47 to a pipe (runs of 60 to 120 shuffled rounds). Marks in a copy of the binary put the JavaScript from its first line to its exit at the same time either way (17.1 and 17.8 ms, medians of 40), so the difference lies in the runtime's start or exit; \`hello\` and the phases that print nothing do not show it. The table keeps /dev/null, as every earlier figure in this file used it.
- **Measured, not kept: \`process.reallyExit\`** instead of \`process.exit\` (0.98 × against 0.99 × \`hello\`: the same).
- **Fixed in the method, again: compare fresh copies only.** An A/B run by a probe that did not copy its binaries showed \`environment\` 1.327 → 1.154 × the floor for this session's changes; fresh copies of the same binaries gave 1.302 → 1.299. The older binary had been written an hour before (section 7's stale-file effect). \`make bench\` copies every program as the run starts.
- **Kept, after a first try that failed: \`environment\` sends its requests first** (src/phases/environment.ts), as soon as the slugs are known, then returns to the event loop once so that they are signed and sent; its checks and warnings, and loading the code that decides and applies what the job gets (src/phases/environment-apply.ts, the planner with it), run while SSM answers. The first try (61.2 → 63.5 ms; 73.5 → 73.8 ms with 20 ms of latency) started the reads without that turn: a request is only signed and sent when the phase next awaits, which was after the loading, so nothing overlapped. Measured on 2026-12-02 with fresh copies of each binary, 40 shuffled rounds: with 20 ms of latency per request 68.9 → 68.1 ms (1.232 → 1.202 × the floor) and with IMDSv2 credentials 72.4 → 70.8 ms; without latency within the noise (1.346 vs 1.364 × the floor, 50 rounds).
- **Tried, not kept: \`--bytecode-order\`** (a profile of each phase's functions laid out first): \`environment\` 54.1 vs 53.6 ms, \`post-command\` 34.0 vs 34.4 ms: within the noise.
- **Tried, not kept: loading the phase's module while the configuration is read** (started before it): no change (\`environment\` 67.6 vs 67.3 ms).
- **Tried, not kept: \`bun build --aot\`** (experimental ahead-of-time compilation): \`environment\` 122.7 ms against 56.1 ms, and it cannot cross-compile the arm64 build.
- **Tried, not kept: \`--compile-jit-policy=100\`**: the same wall time as 10, 4 ms less CPU and 0.3 MiB less RSS for \`environment\`; and 32 Job API requests at once instead of 8 (+4.4 ms for 20 values in one run, +5.2 ms with 8 in another: within the noise).
- **Tried, not kept: Bun's \`--smol\` runtime flag** (no lower peak RSS for \`environment\`).
- **Kept: the checks before the first request written out as loops** (src/core/chars.ts): the base path, the key list and list settings (src/job/config.ts), the repository and pipeline slugs (src/job/slug.ts), job ids and shell names, each checked against the regular expressions they replace on 20,000-50,000 random inputs (test/config.test.ts, test/names.test.ts, test/slug.test.ts). In a compiled probe \`jobSlugs\` went 1.7 → 0.3 ms and a job's 30 name checks 0.7 → 0.1 ms cold; in wall time, within the noise.
- **Kept: src/cli/run.ts imports the job context statically**: one chunk fewer loaded on every phase's way. One shuffled run each: \`pre-exit\` 1.56 → 1.49, \`post-checkout\` 1.49 → 1.45 × \`hello\`, \`--version\` 1.29 → 1.29.
- **Fixed in the method (2026-12-02): each program runs from a fresh copy, and section 1's order is shuffled every round.** The same executable's start-up depended on its file's state in the page cache: two byte-identical \`hello\` binaries took 24.2 and 19.3 ms (699 and 668 page faults), the slow one written by \`bun build\` half an hour earlier; a copy of it was fast again. The shuffle is a precaution: a 5-8% effect of a program's place in the round, seen first, went away with fresh copies (it was the stale-file effect), and none was measured after. The IMDS test server answered through \`setTimeout(0)\` even without a delay, a millisecond or more on each of its three answers that EC2's service does not add; it now answers at once. Figures in the bullets above dated before this fix were taken without it.
- **Measured, not kept: JavaScriptCore without its JIT** (\`BUN_JSC_useJIT=0\`): \`environment\` 50.5 → 46.2 ms, the floor 36.8 → 35.8 ms, \`hello\` 21.9 → 21.4 ms (40 shuffled rounds), and with 100 parameters per slug 74.4 → 68.2 ms. A compiled binary cannot turn its JIT off itself (\`Bun.unsafe.setJITPolicy\` only scales the tier-up thresholds, which is \`--compile-jit-policy\`), only its environment can, and the hooks clear \`BUN_*\` from it (a pipeline's \`env:\` must not configure the runtime); setting one there would make the hooks' environment part of how fast the binary is, and Bun calls \`BUN_JSC_*\` unstable, for debugging only: it exits 1 on an option its JavaScriptCore does not know, so a Bun upgrade could fail every job. Likewise JSC's warm-up thread (\`JSCWarmUp\`), which starts once a process has allocated 64 MarkedBlocks (16 KiB each) and keeps 32 more resident ahead of need: \`hello\` allocates about 30, \`post-checkout\` and the floor just under 64 (the thread starts when the threshold is set to 56, not at 64), \`environment\` about 90 (it starts at 80, not at 96). For \`environment\` it costs about 6 ms of CPU on the other core and 200 page faults (\`BUN_JSC_useWarmUpMarkedBlocks=0\`: 60.0 → 51.6 ms of task-clock, 1881 → 1685 faults, 59.7 → 55.3 ms wall; \`perf stat\`, 25 runs). At exit \`environment\` holds about 7,400 cells against \`post-checkout\`'s 4,700: more functions run (212 code blocks against 50), more modules (28 against 12), more strings. Where the blocks go (the threshold as a probe, stopping a copy of the binary at each step): \`node:fs\` alone about 16 (a program that only imports it and writes a line: 40-47), the CLI and the job context up to the first phase step about 60, \`environment\`'s requests about 15 more (the direct route, signing, three fetches), its checks and the apply module about 4, the answers and the plan about 8. Under 64 would take a third of that away, \`node:fs\` included, which no phase can do without (see above): measured, not pursued.
- **Kept (2026-12-02, a third session), after first tries each within the noise: less before \`environment\`'s first request.** Its group header is written once the requests are out, with its first line (src/core/log.ts holds a group's header until the group's first line or \`flush()\`); its settings checks and their modules (variables.ts, nothing-found.ts, record.ts, closest.ts) load with environment-apply.ts while SSM answers; and no hook phase loads node:path any more (src/core/paths.ts has \`normalize\`, \`join\`, \`resolve\` and \`relative\`, checked against node:path's POSIX functions on random paths of 1 to 4 parts from three working directories, \`/\` among them). node:path alone: a compiled probe that joins two names with it against one that does not, 1.221 vs 1.184 × \`hello\` (40 rounds), about 0.7 ms. Together, fresh copies against the code before (b515a45), 100 shuffled rounds in one run: \`environment\` 1.304 → 1.294 × the floor, IMDSv2 1.420 → 1.402, the Job API's cost for the probe's 29 values 6.0 → 5.3 ms; with 20 ms of latency per request (60 rounds) 1.210 → 1.192 and IMDSv2 1.270 → 1.270. Each part alone moved less than one run differs from the next.
- **Tried, not kept: \`environment\`'s signal handlers set once its requests are out** (about 0.2 to 0.5 ms before the first request in marks). A review's endpoint that sends SIGTERM as each request arrives killed 8 of 100 runs of that build with no line, before the handlers were set; set before the first request again, 0 of 100 (docs/lifecycle.md).
- **Tried, not kept: registering the redactions while the listing and the variables' statements are prepared** (src/phases/environment-apply.ts): the Job API's cost 6.0 → 5.8 ms for 29 values (60 shuffled rounds), within the noise; the order stays: register, then write, then start agents.
- **Tried, not kept: the direct route's check for shared AWS config files through \`Bun.file().size\`** instead of node:fs's \`statSync\`: the decision took 0.48 and 0.57 ms in marks (medians of 30), no change.
- **Measured (marks in a copy of the binary and of the floor, medians of 40, one run): where \`environment\` is behind the floor now.** Its requests go out about 6 ms after the floor's: choosing the phase 0.4 ms, its configuration 1.25, loading its chunks 1.5, the slugs 0.5, and the route to SSM set up (deadline, store, the direct route's decision, the credentials) about 2.7; \`node:fs\`, the first signature (2.1 to 2.9 ms) and the first \`fetch\` (1.2 to 1.7 ms) cost both alike. SSM answers both in the same time. After its last answer it works 2.8 ms more than the floor (planning 1.3, applying and logging 1.0, the payload 0.5), and it starts and exits about 1 ms slower. No part is above 2.7 ms: the 1.25 target would take a third of this away.
- **Tried, not kept: more turns of the event loop while \`environment\` waits** (after its checks and after loading the apply module), so that IMDS's second and third answers would be taken sooner: IMDSv2 1.454 → 1.452, env credentials 1.333 → 1.335 × the floor (50 shuffled rounds): within the noise.
- **Tried, not kept: other build flags**, each against the shipped flags in one run: \`--bytecode-depth\` 0 to 3 and \`--no-optimize-bytecode\` (within the noise), \`--compile-jit-policy=10000\` (1.283 vs 1.308 × the floor: within the noise), \`--compile-exec-argv=--smol\` (within the noise), no \`--bytecode\` (first calls faster, module loading slower: \`post-checkout\` 32.5 → 37.7 ms), no \`--splitting\` (\`post-checkout\` 31.5 → 55.3 ms, \`environment\` 50.5 → 73.6 ms).
- **Measured: where a phase's time goes now** (marks in a copy of the binary, fresh copies, medians of 40): from \`exec\` to the runtime's first JavaScript about 10.7 ms for every program here; from the phase's last line to its exit 4.9 ms for \`environment\`, 4.7 ms for the floor, 3.7 ms for \`hello\` (more memory to give back); each chunk a phase loads about 0.2 ms; each function's first call about 10 µs with \`--bytecode\` (50 small functions: 0.45-0.6 ms, 0.9-1.1 ms without); \`node:fs\` 3.4 ms and 140 page faults (\`writeSync\` against \`console.log\`). \`environment\`'s CPU is about 10 ms above the floor's, spread over configuration, checks, planning and applying, none above 2.2 ms.
- **Kept: a job's phases read through a read-only store** (\`createSsmStore\`); the operations that list, write, remove and label parameters are built only for the operator commands (src/ssm/admin.ts): \`environment\` 1.304 → 1.277 and 1.323 → 1.289 × the floor (two runs of 60 shuffled rounds). Not because of the closures themselves: twelve unused async methods cost 0.025 ms in a compiled probe, and 200 unused functions (35 KB) in a loaded module cost nothing measurable (27.9 vs 27.3 ms); with JSC's warm-up thread turned off both builds measure 1.24 ×. What moved is when \`environment\` crosses that thread's threshold (next item).
- **Measured: JSC's warm-up thread is now the largest single gap to the floor.** Turned off (\`BUN_JSC_useWarmUpMarkedBlocks=0\`), \`environment\` goes 1.262 → 1.233 × the floor (80 shuffled rounds) and 61.0 → 51.3 ms of task-clock (\`perf stat\`, 30 runs); the floor never starts it. \`environment\` allocates about 97 MarkedBlocks; the runtime, \`node:fs\` and the CLI hold 55 to 60 when the phase's first line runs, and the thread starts as the phase's own modules load, before the first request (the threshold as a probe at each step: under 64 when the defaults file is read, over 64 once \`environment\`'s chunks are loaded, 80 to 90 when the requests are signed, 95 to 100 once the answers are in). At exit the heap holds 206 code blocks (185 KB), 27 module records (150 KB) and 478 function executables (\`--heap-prof\`, on a build without \`--minify\`): what the phase loads and runs, not its data, so staying under the threshold would take a third of the phase away. The hooks do not turn it off: Bun answers an unknown \`BUN_JSC_\` option with exit status 1 and "options change between releases of Bun and WebKit without notice. This is not a stable API, you should not rely on it beyond debugging something".
- **Tried first alone: the settings checks and their modules loaded while SSM answers** (the warnings moved into environment-apply.ts, with variables.ts, closest.ts and state.ts): 1.281 → 1.291 × the floor (100 shuffled rounds); kept later with the group header and node:path (above). With no latency on two cores the wait is not idle: the SSM endpoint and Bun's HTTP thread use the cores, so moving work into the wait buys nothing there; only less work does. (With latency it does: see the reads-first item above.)
- **Tried, not kept: \`--compile-jit-policy=10000\`**, the binary and the floor alike: 1.276 → 1.290 × the floor (60 shuffled rounds).
- **Measured: the bundler's chunks.** \`environment\` loads 25 chunks, the floor one: the bundler makes one chunk per set of entry points that reach a module, and every lazily loaded operator command and phase that shares a module with \`environment\` splits another off. Folding the operator commands into one entry would remove 3 of the 25; twenty chunks cost 1.2 ms against one in a compiled probe: not pursued.
- **Measured, not kept (2026-12-02, a fourth session): fewer chunks on \`environment\`'s way.** Importing the phase and its apply module statically from src/cli/run.ts puts its whole way in 15 chunks instead of 25: \`environment\` 1.292 → 1.296 × the floor (60 shuffled rounds, fresh copies: no change), and every other phase then loads them: \`post-command\` 1.247 → 1.625 × \`hello\`. What the chunks hold costs, not how many there are.
- **Measured, not kept: the first use of the runtime's own builtins.** In compiled probes, a process's first call of a builtin that JavaScriptCore implements in JavaScript (\`Array.prototype.find\`, \`some\`, \`filter\`, \`reduce\`, \`Array.from\`...) costs 0.25 to 0.5 ms, each further one 0.05 to 0.15 ms, where a written-out loop costs about 0.005 ms; the first \`new Promise(executor)\` about 0.4 ms, where \`Promise.withResolvers\` costs 0.03 ms. The floor pays for its first builtin too (its \`map\` and \`Promise.all\`). Against the code as it is, fresh copies: \`environment\`'s turn of the event loop built on \`Promise.withResolvers\` measured 1.322 → 1.287 × the floor in one run (80 rounds) and 1.306 → 1.308 in the next (150 rounds); with the slugs, the phase table and the paths also written out without \`some\`, \`filter\`, \`replaceAll\`, \`find\` and \`at\`, 1.322 → 1.300 (80 rounds): within the noise. A copy of the binary that called 25 builtins once before the phase ran its own steps 1.3 ms faster (marks, medians of 40) and had spent 2.4 ms on calling them: about 0.03 × the floor in all, if every builtin on the way were written out.
- **Measured: the runtime's options, applied to both programs alike** (100 shuffled rounds, one run). \`BUN_JSC_useJIT=0\`, which also keeps JSC's warm-up thread from starting, takes \`environment\` 1.294 → 1.210 × the floor as the floor runs now; but the floor gains too (0.951 ×), so with both run so the ratio is 1.272. \`BUN_JSC_useWarmUpMarkedBlocks=0\` for both: 1.266. Neither reaches 1.25, and both would have to be set by the hooks in the binary's environment, which they do not do (above).
- **Fixed in the method (2026-12-02, a fourth session): section 1 takes 100 rounds, where it took 25.** Three regenerations of this file on the same code that day, with 25 rounds, gave \`environment\` 1.29, 1.27 and 1.34 × the floor, IMDSv2 1.53, 1.45 and 1.39, and the Job API's cost 2.7, 5.7 and 6.2 ms (load averages 3.7, 9.8 and 0.9 as section 1 started): verdicts that flip within one run's spread. The rounds add about a minute to \`make bench\`.
- **Measured: what 2026-12-02's changes bought, and how far one run is from the next.** The final code against the code before them, 100 shuffled rounds in one run: \`environment\` 1.299 → 1.274 × the floor with env credentials, 1.372 → 1.376 with IMDSv2 credentials; \`post-command\` 1.474 → 1.447 × \`hello\` and \`--version\` 1.324 → 1.304 (40 rounds; no change was aimed at them). Two regenerations of this file on the same final code, twenty minutes apart, gave \`environment\` 1.25 and 1.29 × the floor, IMDSv2 1.33 and 1.43, and the slowest non-AWS phase 1.60 and 1.55 × \`hello\`: a single run's verdict on a target within a few percent of the figure is not a measurement of the code.
- **The fleet's measured p99 is not the quota's floor on this machine**, not because of the backoff: the simulation of the same backoff without CPU contention lands within 1.1 × the floor, and the measured run adds the cost of starting 200 processes and thousands of signed retries on 2 shared cores (the no-rate-limit row), which a real fleet spreads over 200 agents. On a machine shared as this one is (other developers' test suites; a load average of 20 to 48 while this was generated), a fleet row can fail jobs on the phase's 30 s deadline before the quota matters: a requests count of 3 a job means no request was throttled at all, and the no-rate-limit row shows what starting the jobs alone cost.
`;

// 6. The issue's targets, judged on the figures above.
const ratio = (label: string, base: string) => paired(label, base);
const jobApiCost = paired(LABELS.jobApi, LABELS.noRedactor, (time, without) => time - without);
const slowestNonAws = Math.max(...NON_AWS.map((label) => ratio(label, LABELS.hello)));
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
const times = (value: number) => `${value.toFixed(2)}×`;
const targets: Array<[string, string, boolean]> = [
  ["`environment` ≤ 1.25 × the floor, env credentials (section 1)", times(ratio(LABELS.environment, LABELS.floor)), ratio(LABELS.environment, LABELS.floor) <= 1.25],
  ["`environment` ≤ 1.4 × the floor, IMDSv2 credentials", times(ratio(LABELS.imds, LABELS.floor)), ratio(LABELS.imds, LABELS.floor) <= 1.4],
  ["redaction through the Job API adds ≤ 5 ms for 20 values (median of each round's difference)", fmt(jobApiCost), jobApiCost <= 5],
  ["non-AWS phases and `--version` ≤ 1.5 × bare hello", `slowest ${times(slowestNonAws)}`, slowestNonAws <= 1.5],
  ["peak RSS of `environment` ≤ 40 MiB (median)", `${mib(environmentRss.median)}, max ${mib(environmentRss.max)} (IMDSv2: ${mib(imdsRss.median)}, max ${mib(imdsRss.max)})`, Math.max(environmentRss.median, imdsRss.median) <= 40],
];
const largest = Math.max(...FLEET_SIZES);
const big = fleet.get(largest)!;
targets.push([`fleet of ${largest}: every job succeeds under the ${FLEET_RPS} requests/s bucket`, `${big.ok}/${largest}`, big.ok === largest]);
const simulated = simulatedP99.get(largest)!;
targets.push([`fleet of ${largest}: the simulation's p99 within 1.1 × the quota's floor (${fmt(quotaFloor(largest, FLEET_RPS))})`, fmt(simulated), simulated <= 1.1 * quotaFloor(largest, FLEET_RPS)]);
say("## 6. Targets");
say();
say("| target | measured | |");
say("| --- | --- | --- |");
for (const [target, measured, ok] of targets) say(`| ${target} | ${measured} | ${verdict(ok)} |`);
say();
say(TRIED);
say(`Reproduce: \`make build && make bench\`.`);

await Promise.all([server.close(), tlsServer.close(), imds.close()]);
jobApi.close();
rmSync(certificateDir, { recursive: true, force: true });
if (outFile) writeFileSync(outFile, report.join("\n") + "\n");
