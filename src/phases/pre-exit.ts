// The pre-exit phase: remove what the job was given on disk. Runs even when
// an earlier phase failed, so every step here must cope with nothing to do.
import type { PhaseContext } from "../context.ts";
import { removeSecretFiles } from "../secretfiles.ts";

export async function run({ env, log }: PhaseContext): Promise<string> {
  return removeSecretFiles(env, log);
}
