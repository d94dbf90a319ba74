// Job clean-up for pre-exit: a list of independent steps, each undoing one
// thing earlier phases left behind (agents, files...). pre-exit runs after any
// phase, failed ones included, so a step works from whatever state it finds,
// and one step's failure does not stop the others.
import type { HookContext } from "./context.ts";
import type { JobRecord } from "./state.ts";

export interface CleanupStep {
  /** What it cleans up, for the log. */
  name: string;
  /** Undo it, from the job's variables and its record, and return shell code that forgets it in the job's environment. */
  run(context: HookContext, record: JobRecord): Promise<string>;
}

/** Run every step; a failed step is reported and its shell code dropped, the others still apply. */
export async function runCleanup(steps: CleanupStep[], context: HookContext, record: JobRecord): Promise<string> {
  const results = await Promise.allSettled(steps.map((step) => step.run(context, record)));
  return results
    .map((result, i) => {
      if (result.status === "fulfilled") return result.value;
      const message = result.reason instanceof Error ? result.reason.message : String(result.reason);
      context.log.warn(`clean-up of ${steps[i]!.name} failed: ${message}`);
      return "";
    })
    .join("");
}
