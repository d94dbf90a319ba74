// Job clean-up for pre-exit: a list of independent steps, each undoing one
// thing earlier phases left behind (agents, files...). pre-exit runs after any
// phase, failed ones included, so a step works from whatever state it finds,
// and one step's failure does not stop the others.
import type { Env } from "../core/env.ts";
import type { HookContext } from "./context.ts";
import type { JobRecord } from "./record.ts";

/** A step's work: undo it, from the job's variables and its record, and return shell code that forgets it in the job's environment. */
export type CleanupWork = (context: HookContext, record: JobRecord) => Promise<string>;

export interface CleanupStep {
  /** What it cleans up, for the log. */
  name: string;
  /**
   * Whether the job's variables or record name anything for it, answered
   * without loading its code: most jobs got no deploy key and no secret file,
   * and their pre-exit loads none of it.
   */
  applies(env: Env, record: JobRecord): boolean;
  load(): Promise<CleanupWork>;
}

/** Run every step that applies; a failed step is reported and its shell code dropped, the others still apply. */
export async function runCleanup(steps: CleanupStep[], context: HookContext, record: JobRecord): Promise<string> {
  const due = steps.filter((step) => step.applies(context.env, record));
  const results = await Promise.allSettled(due.map(async (step) => (await step.load())(context, record)));
  return results
    .map((result, i) => {
      if (result.status === "fulfilled") return result.value;
      const message = result.reason instanceof Error ? result.reason.message : String(result.reason);
      context.log.warn(`clean-up of ${due[i]!.name} failed: ${message}`);
      return "";
    })
    .join("");
}
