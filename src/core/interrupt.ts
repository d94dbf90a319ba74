// Undoing a phase's changes when it is interrupted. The agent sends SIGTERM to
// a hook when the job is cancelled or times out; by default the binary would
// die between starting an ssh-agent (or writing a secret file) and printing
// it, and pre-exit, which works from the job's variables, would never hear of
// it. So the environment phase records how to undo each change as it makes
// it, and SIGTERM, SIGINT or SIGHUP undo them all, newest first, and exit
// non-zero with one line, printing nothing for the hook to evaluate. Once the
// phase has checked for a signal one last time (src/cli/run.ts), it hands
// its payload over and exits: a signal that arrives during that write is
// ignored, and the job keeps everything it was given.
import type { Logger } from "./log.ts";

type Undo = () => void | Promise<void>;

const pending = new Set<Undo>();
let undoing: Promise<never> | undefined;
let handingOver = false;
const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** Record how to undo a change; the returned function forgets it (for a change that undid itself, such as a child that exited). */
export function undoOnInterrupt(undo: Undo): () => void {
  pending.add(undo);
  return () => pending.delete(undo);
}

async function interrupted(signal: keyof typeof SIGNALS, log: Logger): Promise<never> {
  const undos = [...pending].reverse();
  pending.clear();
  for (const undo of undos) {
    try {
      await undo();
    } catch (error) {
      log.warn(`while undoing after ${signal}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  log.error(`interrupted by ${signal}: nothing was exported, and the files and ssh-agents this phase had started are removed`);
  process.exit(128 + SIGNALS[signal]);
}

/** From now on, an interrupting signal undoes every recorded change and exits; repeated signals do not cut the undoing short. */
export function undoChangesOnInterrupt(log: Logger): void {
  for (const signal of Object.keys(SIGNALS) as Array<keyof typeof SIGNALS>) {
    process.on(signal, () => {
      if (!handingOver) undoing ??= interrupted(signal, log);
    });
  }
}

/**
 * Resolves at once, unless an interruption is being undone; then never, as
 * the undoing ends the process. The phase's own outcome waits on it: killing
 * a child makes the phase fail on its own, and that must not print a second
 * error or exit before the undoing is done.
 */
export async function unlessInterrupted(): Promise<void> {
  if (undoing) await undoing;
}

/**
 * The last check for a signal: resolves unless an interruption is being
 * undone, and from then on a signal changes nothing. The payload is being
 * written: undoing now would take away agents and files that the job may
 * already have been told about.
 */
export async function handOverUnlessInterrupted(): Promise<void> {
  await unlessInterrupted();
  handingOver = true;
}
