// What every subcommand shares: how a phase or an operator command runs, how
// its output and errors are written, and how exits are chosen. main.ts's fast
// path and the full command line (commands.ts) both go through here.
import type { CommandResult } from "../commands/operator.ts";
import type { Env } from "../core/env.ts";
// Static, unlike the phases: every phase needs its context, and one chunk
// loaded with the CLI costs less than one more loaded on the way (measured:
// pre-exit 1.56 -> 1.49x hello, --version unchanged).
import { hookContext, phaseContext, type HookContext, type PhaseContext } from "../job/context.ts";
import { handOverUnlessInterrupted, unlessInterrupted } from "../core/interrupt.ts";
import { colorWanted, errorText, inJob, printableLines } from "../core/log.ts";
import { loadNodeFs, nodeFsLoaded } from "../core/files.ts";
import { hookPayload } from "../core/shell.ts";
import { isTerminal, PIPE_BUF, utf8, writeAll, writeOnce } from "../core/stdio.ts";

export interface Phase<Context> {
  run(context: Context): Promise<string>;
}

/**
 * A hook phase and what it starts from: the whole configuration (`environment`
 * and git's helper read secrets), or only the settings a job may set, which
 * is all the later phases use and is cheaper to resolve.
 */
export type PhaseEntry = {
  name: string;
  description: string;
  /**
   * Work that needs only the job's environment, started before the
   * configuration is read so that it overlaps it; undefined when this job has
   * none, which spares it the event-loop turns that let such work progress.
   * It must not throw: a failure rejects its promise, which is ignored.
   */
  early?: (env: Env) => Promise<void> | undefined;
  /**
   * It logs on every job, so node:fs is loaded before anything else, by
   * import, and reads the defaults file too (see ../core/files.ts).
   */
  logsEveryJob?: true;
  /** Its payload is credential lines for git, not shell code for a hook: no byte count at its end. */
  forGit?: true;
} & (
  | { context: "configuration"; load: () => Promise<Phase<PhaseContext>> }
  | { context: "job settings"; load: () => Promise<Phase<HookContext>> }
);

/**
 * Write the payload, all of it, and exit. A stdout that cannot take it (a
 * full disk, a reader gone) fails the command with one line, not a stack.
 */
export function emit(payload: string | Uint8Array, status = 0): never {
  try {
    writeAll(1, payload);
  } catch (error) {
    stdoutFailed(error);
  }
  process.exit(status);
}

function stdoutFailed(error: unknown): never {
  fail(`cannot write to stdout: ${(error as Error).message}`, 1);
}

/**
 * The hooks' fast path: a hook's payload, or the bare version, written and
 * the process exited with status 0. Through node:fs's loop when the process
 * loaded it already (environment, for its log) or the payload is larger than
 * PIPE_BUF; otherwise in one native write, which spares loading it
 * (writeOnce). An empty payload is not written at all: Bun.write of no
 * bytes truncates a stdout that is a file, even one opened for appending.
 */
export async function handOver(payload: Uint8Array): Promise<never> {
  if (payload.length === 0) process.exit(0);
  if (payload.length > PIPE_BUF || nodeFsLoaded()) {
    await loadNodeFs();
    emit(payload);
  }
  try {
    await writeOnce(payload);
  } catch (error) {
    stdoutFailed(error);
  }
  process.exit(0);
}

/** Errors the operator can act on from their message alone; anything else is a bug, and its stack helps. */
const EXPECTED_ERRORS = ["JobError", "ConfigError", "StoreError", "CACError", "UsageError"];

export function fail(error: unknown, code: number): never {
  // Shown as text: a path in it may come from a file others can write (install reads the agent's hooks).
  const message = printableLines(error instanceof Error ? error.message : String(error));
  writeAll(2, errorText(message, { job: inJob(process.env), color: colorWanted(process.env, isTerminal(2)) }));
  if (error instanceof Error && !EXPECTED_ERRORS.includes(error.name) && error.stack) writeAll(2, `${error.stack}\n`);
  process.exit(code);
}

/**
 * A hook command's stdout is shell code holding secret values, for a hook to
 * eval: never for a person's terminal. Refused before anything is read.
 */
function refuseTerminal(command: string): void {
  if (!isTerminal(1)) return;
  writeAll(2, `bk-ssm-secrets ${command} is for the agent's hooks and prints nothing to a terminal: to see what a job would get, without values, run bk-ssm-secrets doctor\n`);
  process.exit(2);
}

export async function runPhase(phase: PhaseEntry): Promise<void> {
  refuseTerminal(phase.name);
  try {
    // Only a head start: whatever it would have answered is asked again when needed.
    const early = phase.early?.(process.env)?.catch(() => {});
    // Its requests go on only when this process returns to the event loop:
    // once between the start-up steps, so they overlap them.
    const letEarlyWorkOn = () => (early ? new Promise((resolve) => setImmediate(resolve)) : undefined);
    await letEarlyWorkOn();
    if (phase.logsEveryJob) await loadNodeFs();
    // The hooks name the agent's defaults file; the job's environment never does.
    const job = { defaultsFile: textOption("defaults-file") };
    const script =
      phase.context === "configuration"
        ? await run(phaseContext(process.env, job), phase.load, letEarlyWorkOn)
        : await run(hookContext(process.env, job), phase.load, letEarlyWorkOn);
    await handOverUnlessInterrupted();
    await handOver(utf8(phase.forGit ? script : hookPayload(script)));
  } catch (error) {
    await unlessInterrupted();
    fail(error, 1);
  }
}

/** Run an operator command: its output on stdout, its status as the exit status; bad usage exits 2. */
export async function runCommand(run: (context: PhaseContext) => Promise<CommandResult>): Promise<void> {
  try {
    const { withBasePath } = await import("../commands/operator.ts");
    const result = await run(withBasePath(phaseContext(), textOption("base-path")));
    // By import: a first load by emit's require costs more (../core/files.ts).
    if (result.output) await loadNodeFs();
    emit(result.output, result.status);
  } catch (error) {
    fail(error, error instanceof Error && error.name === "UsageError" ? 2 : 1);
  }
}

/**
 * Every value given for `--name`, as typed. cac's parser turns values that
 * look like numbers into numbers ("007" into 7, "" into 0), which would change
 * a pipeline slug or empty a team list, so text options are read here; cac
 * still declares and validates them.
 */
export function textOptions(name: string): string[] {
  const args = process.argv.slice(2);
  const values: string[] = [];
  for (let i = 0; i < args.length && args[i] !== "--"; i++) {
    const arg = args[i]!;
    if (arg === `--${name}` && i + 1 < args.length) values.push(args[++i]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}

/** The last value given for `--name`, as typed. */
export function textOption(name: string): string | undefined {
  return textOptions(name).at(-1);
}

/** The hook phases: each prints shell code for its hook to eval. */
export const PHASES: PhaseEntry[] = [
  {
    name: "environment",
    description: "Load the job's secrets and deploy keys from SSM (environment hook)",
    context: "configuration",
    logsEveryJob: true,
    // On EC2 every job pays three IMDS round trips for its credentials. Static
    // keys, the credential chain's first link, need none: nothing to load or
    // wait for (the first turn of the event loop alone costs ~0.5 ms). The
    // test is credentialSource's first (test/direct.test.ts keeps them in step).
    early: (env) => (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? undefined : import("../ssm/credentials.ts").then((credentials) => credentials.fetchInstanceProfileEarly(env))),
    load: () => import("../phases/environment.ts"),
  },
  // It always prints the agent it saves (ORIG_SSH_AUTH_SOCK), even when that is none: a few hundred bytes, written without node:fs (handOver).
  { name: "pre-checkout", description: "Switch to the slug's ssh-agent when its key reaches the repository (pre-checkout hook)", context: "job settings", load: () => import("../phases/pre-checkout.ts") },
  { name: "post-checkout", description: "Go back to the job's previous ssh-agent (post-checkout hook)", context: "job settings", load: () => import("../phases/post-checkout.ts") },
  { name: "post-command", description: "Go back to the job's previous ssh-agent when it was kept through the command (post-command hook)", context: "job settings", load: () => import("../phases/post-command.ts") },
  { name: "pre-exit", description: "Stop the job's ssh-agents and clean up (pre-exit hook)", context: "job settings", load: () => import("../phases/pre-exit.ts") },
];

/** The context first, so a configuration error stops the phase before its module loads. */
async function run<Context>(context: Context, load: () => Promise<Phase<Context>>, between: () => unknown): Promise<string> {
  const phase = await load();
  await between();
  return phase.run(context);
}
