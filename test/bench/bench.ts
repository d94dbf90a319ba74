// `make bench`: how long each phase takes and how the fleet fares, measured
// on the compiled binaries against the SSM test endpoint on 127.0.0.1, side by
// side with the AWS CLI and the old hook's access pattern. Writes
// BENCHMARKS.md. `--smoke` runs every section briefly (for `make test`) and
// writes nothing unless --out is given.
import { cpus, tmpdir, totalmem } from "node:os";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryPath, compile, DIST } from "../../build.ts";
import { retryDelay } from "../../src/ssm/client.ts";
import { captureAwsSettings } from "../../src/ssm/settings.ts";
import { addToJobRecord, jobRecordPath } from "../../src/job/state.ts";
import { sdkEnv, startSsmServer, type SeedParam, type SsmServer } from "../support/ssm-server.ts";

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const outIndex = args.indexOf("--out");
const outFile = outIndex >= 0 ? args[outIndex + 1] : smoke ? undefined : join(import.meta.dir, "../../BENCHMARKS.md");

const RUNS = smoke ? 3 : 25;
const LATENCY_RUNS = smoke ? 2 : 10;
const COMPARE_RUNS = smoke ? 2 : 10;
const FLEET_SIZES = smoke ? [10] : [50, 200];
const FLEET_RPS = 40;
const FLEET_DEADLINE_MS = 120_000;

const ARCH = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
const BIN = binaryPath(ARCH);
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
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const proc = Bun.spawn(["/usr/bin/time", "-f", "%M", ...command], { env, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "ignore", stderr: "pipe" });
    const text = await new Response(proc.stderr).text();
    await proc.exited;
    rss.push(Number(text.trim().split("\n").pop()) / 1024);
  }
  return { time: stats(times), rss: stats(rss) };
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
function simulateFleet(size: number, roundTripMs = 2, maxAttempts = 30) {
  let tokens = FLEET_RPS;
  let last = 0;
  let calls = 0;
  const pending = Array.from({ length: size * 3 }, (_, i) => ({ at: 0, job: Math.floor(i / 3), attempt: 0 }));
  const served = new Array<number>(size).fill(0);
  const finished: number[] = [];
  while (pending.length) {
    pending.sort((a, b) => a.at - b.at);
    const request = pending.shift()!;
    calls++;
    tokens = Math.min(FLEET_RPS, tokens + ((request.at - last) / 1000) * FLEET_RPS);
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
const floor = await compile(join(import.meta.dir, "hello.ts"), join(DIST, "bench/hello"), ARCH);
const oldPattern = await compile(join(import.meta.dir, "old-pattern.ts"), join(DIST, "bench/old-pattern"), ARCH);

const server = await startSsmServer({ params: [...tree(10), ...tree(100)] });
const env = jobEnv(server);

const cpu = cpus()[0]?.model ?? "unknown CPU";
say("# Benchmarks");
say();
say(`Generated by \`make bench\` (\`bun test/bench/bench.ts\`) on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}-${process.arch}, Bun ${Bun.version}. The SSM endpoint is the project's test server on 127.0.0.1 (SigV4 checked); times are wall-clock for a cold process, as a hook pays them. Fixture: 3 slugs (global, repository, pipeline) × 10 parameters (SecureStrings, and the pipeline slug's access list), so each slug is one page.`);
say();

// 1. Per phase, cold process.
say(`## 1. Per phase, cold process (${RUNS} runs each, after 3 warm-up runs)`);
say();
say("| command | median | min – max | peak RSS median | RSS max |");
say("| --- | --- | --- | --- | --- |");
const phases: Array<{ label: string; command: string[]; stdin?: string }> = [
  { label: "bare Bun executable (floor)", command: [floor] },
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
const breakdown = { sdk: [] as number[], reads: [] as number[], total: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  const proc = Bun.spawn([BIN, "environment", ...AGENT], { env: { ...env, AWS_PARAMSTORE_SECRETS_VERBOSE: "1" }, stdout: "ignore", stderr: "pipe" });
  const log = await new Response(proc.stderr).text();
  await proc.exited;
  breakdown.total.push(performance.now() - started);
  breakdown.sdk.push(Number(/AWS SDK loaded in (\d+) ms/.exec(log)?.[1]));
  breakdown.reads.push(Math.max(...[...log.matchAll(/parameters in (\d+) ms/g)].map((m) => Number(m[1]))));
}
const floorMs = phaseResults.get("bare Bun executable (floor)")!.time.median;
const versionMs = phaseResults.get("`--version`")!.time.median;
say("Where `environment`'s time goes (medians; the phase's own verbose timings):");
say();
say(`- Bun runtime start (the floor): ${fmt(floorMs)}`);
say(`- our CLI's module evaluation (\`--version\` minus the floor): ${fmt(versionMs - floorMs)}`);
say(`- loading the AWS SDK and constructing the client: ${fmt(stats(breakdown.sdk).median)}`);
say(`- the slowest slug's read, credentials and signing included (all slugs read at once): ${fmt(stats(breakdown.reads).median)}`);
say(`- the whole phase, verbose: ${fmt(stats(breakdown.total).median)}`);
say();

// 2. Latency.
say(`## 2. \`environment\` under injected latency (${LATENCY_RUNS} runs each)`);
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
say(`## 3. Side by side, same fixture (${COMPARE_RUNS} runs each)`);
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
say(`## 4. Fleet: jobs started at once against a shared ${FLEET_RPS} requests/s token bucket`);
say();
say(`Throttled requests are answered with SSM's ThrottlingException. A job that has not finished after ${FLEET_DEADLINE_MS / 1000} s is counted as failed.`);
say();
say("| jobs | reader | succeeded | p50 time-to-environment | p99 | SSM requests (incl. throttled) |");
say("| --- | --- | --- | --- | --- | --- |");
const fleet = new Map<number, { ok: number; p99: number }>();
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
  const simulated = simulateFleet(size);
  say(`| ${size} | simulated: the same backoff (\`retryDelay\` from src/ssm/client.ts) and bucket, 2 ms round trips, no CPU contention | ${simulated.ok}/${size} | ${fmt(simulated.p50)} | ${fmt(simulated.p99)} | ${simulated.calls} |`);
}
say();
say(
  `The quota alone sets a floor: ${FLEET_SIZES.map((n) => `${n} jobs × 3 reads at ${FLEET_RPS}/s, less the first second's burst, cannot all finish before ${fmt(Math.max(0, (3 * n - FLEET_RPS) / FLEET_RPS) * 1000)}`).join("; ")}. ` +
    "On this machine all the jobs' processes and the endpoint also share 2 cores (the no-rate-limit row), which a real fleet of agents does not; the simulated row is the backoff's own result without that contention.",
);
say();

const TRIED = `## 6. What was tried

- **Kept: one \`GetParametersByPath\` walk per slug, all slugs at once** (section 3): three calls and one round trip per job, against the old pattern's DescribeParameters walk and one GetParameter per parameter in sequence.
- **Kept: \`bun build --compile --splitting\`.** Each lazily imported module is a chunk loaded only when a phase imports it, so the phases that never talk to AWS do not load the SDK's bytecode; with a single bundle they all paid for it at start-up. Compare \`--version\` and the non-AWS phases with the floor in section 1.
- **Kept: \`--compile-jit-policy=10\`**: a phase lives for tens of milliseconds, so JIT tiers that pay off later only cost CPU; tiering up ten times later cuts \`environment\`'s CPU, which matters most when a fleet's jobs share machines.
- **Kept: \`--bytecode\`**, which stores the SDK's compiled bytecode in the binary so \`environment\` does not parse it at every start.
- **Kept: retrying until the phase deadline with full-jitter backoff capped at 2 s** (\`retryDelay\` in src/ssm/client.ts, through the SDK's own ConfiguredRetryStrategy). The fleet rows "retries capped at the SDK's default 3 attempts" show what giving up early costs when a fleet shares one quota.
- **Tried, not kept: shorter backoff caps (1 s, 0.5 s).** More throttled requests competed for the same two cores and the fleet finished later, and at 0.5 s a job ran out of attempts.
- **Tried, not kept: Bun's \`--smol\` runtime flag** (no lower peak RSS for \`environment\`), and **the SDK's fetch-based request handler** (a few milliseconds faster and lighter in one trial, but not yet run through the fault tests, so the handler the SDK picks for Node stays).
- **The fleet p99 target is missed on this machine**, not by the backoff: the quota's own floor for 200 jobs is 14 s, the simulation of the same backoff without CPU contention lands just above it, and the measured run adds the cost of starting 200 processes and thousands of signed retries on 2 shared cores (the no-rate-limit row), which a real fleet spreads over 200 agents.
`;

// 5. The issue's targets, judged on the figures above.
const NON_AWS = ["`--version`", "`pre-checkout` (HTTPS repository: no probe)", "`post-checkout`", "`post-command`", "`pre-exit` (nothing left to clean)"];
const envMedian = phaseResults.get("`environment`")!.time.median;
const slowestNonAws = Math.max(...NON_AWS.map((label) => phaseResults.get(label)!.time.median));
const peakRss = Math.max(...[...phaseResults.entries()].filter(([label]) => !label.startsWith("bare")).map(([, result]) => result.rss.max));
const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
const targets: Array<[string, string, boolean]> = [
  ["`environment` median ≤ 60 ms (no injected latency)", fmt(envMedian), envMedian <= 60],
  ...[20, 50].map((ms): [string, string, boolean] => [`\`environment\` ≤ ${ms} + 60 ms at ${ms} ms per request, 10 per slug`, fmt(latency.get(`${ms}/10`)!), latency.get(`${ms}/10`)! <= ms + 60]),
  ["every non-AWS phase ≤ 25 ms median", `slowest ${fmt(slowestNonAws)}`, slowestNonAws <= 25],
  ["peak RSS ≤ 64 MiB for every phase", `largest ${mib(peakRss)}`, peakRss <= 64],
];
const largest = Math.max(...FLEET_SIZES);
const big = fleet.get(largest)!;
targets.push([`fleet of ${largest}: every job succeeds`, `${big.ok}/${largest}`, big.ok === largest]);
if (largest >= 200) targets.push([`fleet of ${largest}: p99 time-to-environment ≤ 15 s`, fmt(big.p99), big.p99 <= 15_000]);
say("## 5. Targets");
say();
say("| target | measured | |");
say("| --- | --- | --- |");
for (const [target, measured, ok] of targets) say(`| ${target} | ${measured} | ${verdict(ok)} |`);
say();
say(TRIED);
say(`Reproduce: \`make build && make bench\`.`);

await server.close();
if (outFile) writeFileSync(outFile, report.join("\n") + "\n");
