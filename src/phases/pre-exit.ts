// The pre-exit phase: the job's clean-up. It runs after every job, also when
// an earlier phase failed half-way or never ran.
import { runCleanup, type CleanupStep } from "../job/cleanup.ts";
import type { PhaseContext } from "../job/context.ts";
import { removeJobSecretFiles } from "../secrets/secretfiles.ts";
import { stopJobAgents } from "../ssh/sshagent.ts";

/** Everything a job may leave behind; a feature that leaves something adds its step here. */
const STEPS: CleanupStep[] = [stopJobAgents, removeJobSecretFiles];

export function run(context: PhaseContext): Promise<string> {
  return runCleanup(STEPS, context);
}
