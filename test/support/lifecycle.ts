// A job's whole lifecycle, run the way buildkite-agent runs it: for each hook
// a wrapper records the environment, sources the hook, records the
// environment again, and the difference (additions, changes and removals) is
// applied to the job's environment for the next phase. The checkout is
// `git clone "$BUILDKITE_REPO"` and the command a bash script, both run with
// the job's environment at that point. pre-exit runs even when a phase failed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertNoSecretIn, HOOKS_DIR, parseEnvDump, type Env } from "./job.ts";

export const PHASES = ["environment", "pre-checkout", "checkout", "post-checkout", "command", "post-command", "pre-exit"] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseRun {
  status: number;
  stdout: string;
  stderr: string;
  /** The job's environment after the phase. */
  env: Env;
}

export interface LifecycleOptions {
  /** The job's environment when the agent starts the job. */
  env: Env;
  /** The command step's script. */
  command: string;
  /** Where the checkout goes (as `checkout/`); the command runs in it. */
  buildDir: string;
  /** The agent's hooks directory: every hook is optional, as for the agent. Default: this repository's hooks. */
  hooksDir?: string;
  /** A command every phase runs under (the hook's bash, the checkout, the command), e.g. strace. */
  wrap?: (phase: Phase) => string[];
}

export interface Lifecycle {
  /** The phases that ran, in order. */
  runs: Partial<Record<Phase, PhaseRun>>;
  ran: Phase[];
  /** The environment the command ran with (undefined when it did not run). */
  commandEnv?: Env;
  /** The checkout's directory. */
  checkout: string;
  /** Every phase's log, concatenated. */
  log: string;
}

function diffInto(job: Env, before: Env, after: Env): Env {
  const next = { ...job };
  for (const [name, value] of Object.entries(after)) if (before[name] !== value) next[name] = value;
  for (const name of Object.keys(before)) if (!(name in after)) delete next[name];
  return next;
}

async function spawn(argv: string[], env: Env, cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(argv, { env, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { status, stdout, stderr };
}

/** Source one hook as the agent's wrapper does; a hook that does not exist is skipped, as the agent skips it. */
async function runHookPhase(hook: string, env: Env, cwd: string, wrap: string[]): Promise<PhaseRun | undefined> {
  if (!existsSync(hook)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "bk-lifecycle-"));
  try {
    const wrapper = 'env -0 > "$1"; source "$0"; status=$?; env -0 > "$2"; exit "$status"';
    const run = await spawn([...wrap, "bash", "--noprofile", "--norc", "-c", wrapper, hook, join(dir, "before"), join(dir, "after")], env, cwd);
    assertNoSecretIn(run.stdout, `the output of ${hook}`);
    assertNoSecretIn(run.stderr, `the log of ${hook}`);
    const after = join(dir, "after");
    const next = existsSync(after) ? diffInto(env, parseEnvDump(readFileSync(join(dir, "before"), "utf8")), parseEnvDump(readFileSync(after, "utf8"))) : env;
    return { ...run, env: next };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runLifecycle(options: LifecycleOptions): Promise<Lifecycle> {
  const hooksDir = options.hooksDir ?? HOOKS_DIR;
  const checkout = join(options.buildDir, "checkout");
  const result: Lifecycle = { runs: {}, ran: [], checkout, log: "" };
  let env = options.env;
  let failed = false;
  const record = (phase: Phase, run: PhaseRun) => {
    result.runs[phase] = run;
    result.ran.push(phase);
    result.log += run.stderr;
    env = run.env;
    if (run.status !== 0) failed = true;
  };

  for (const phase of PHASES) {
    const wrap = options.wrap?.(phase) ?? [];
    // After a failure the agent skips to pre-exit, except that post-command
    // follows a command that ran, whatever its status.
    const runsAnyway = phase === "pre-exit" || (phase === "post-command" && result.ran.includes("command"));
    if (failed && !runsAnyway) continue;
    if (phase === "checkout") {
      const run = await spawn([...wrap, "bash", "--noprofile", "--norc", "-c", 'git clone -q "$BUILDKITE_REPO" checkout'], env, options.buildDir);
      record(phase, { ...run, env });
    } else if (phase === "command") {
      result.commandEnv = env;
      const run = await spawn([...wrap, "bash", "--noprofile", "--norc", "-c", options.command], env, checkout);
      record(phase, { ...run, env });
    } else {
      const run = await runHookPhase(join(hooksDir, phase), env, existsSync(checkout) ? checkout : options.buildDir, wrap);
      if (run) record(phase, run);
    }
  }
  return result;
}

