// The pre-exit phase: the job's clean-up. It runs after every job, also when
// an earlier phase failed half-way, never ran, or was killed before it could
// print anything: then the job's record says what it had started.
import { runCleanup, type CleanupStep } from "../job/cleanup.ts";
import type { HookContext } from "../job/context.ts";
import { EMPTY_RECORD, jobRecordPath, mayHaveJobRecord, type JobRecord } from "../job/record.ts";
import { FILES_DIR_VARIABLE } from "../secrets/kinds.ts";
import { namesAnyAgent } from "../ssh/agents.ts";

/** Everything a job may leave behind; a feature that leaves something adds its step here. */
const STEPS: CleanupStep[] = [
  {
    name: "the job's ssh-agents",
    applies: namesAnyAgent,
    load: async () => (await import("../ssh/sshagent.ts")).stopJobAgents,
  },
  {
    name: "the job's secret files",
    applies: (env, record) => env[FILES_DIR_VARIABLE] !== undefined || record.filesDirectories.length > 0,
    load: async () => (await import("../secrets/secretfiles.ts")).removeJobSecretFiles,
  },
];

export async function run(context: HookContext): Promise<string> {
  const path = jobRecordPath(context.env.BUILDKITE_JOB_ID);
  // The module that reads and checks a record (and node:fs with it) loads only for the jobs that wrote one.
  const state = path && mayHaveJobRecord(path) ? await import("../job/state.ts") : undefined;
  let record: JobRecord | undefined;
  try {
    if (path && state) record = state.readJobRecord(path);
  } catch (error) {
    // A record that is not ours names nothing to act on; the variables still do.
    context.log.warn((error as Error).message);
  }
  const script = await runCleanup(STEPS, context, record ?? EMPTY_RECORD);
  if (path && state && record) state.removeJobRecord(path);
  return script;
}
