// `bk-ssm-secrets rollback KIND [NAME] --pipeline SLUG|--repo URL|--global --to-version N`:
// write an older version's value back as a new version, so the change is
// itself in the history and can be rolled back in turn. The value passes
// from SSM to SSM through this process and is never printed.
import { UsageError } from "../core/errors.ts";
import type { PhaseContext } from "../job/context.ts";
import type { TargetFlags } from "../job/target.ts";
import type { PutRequest } from "../ssm/store.ts";
import { type CommandResult, confirm, namedParameter, versionNumber, withStore } from "./operator.ts";
import { formatDate } from "./output.ts";
import { tierFor } from "./put.ts";

export interface RollbackFlags extends TargetFlags {
  toVersion?: string;
  yes?: boolean;
}

export async function run(context: PhaseContext, kind: string, name: string | undefined, flags: RollbackFlags): Promise<CommandResult> {
  const { config, log } = context;
  const { parameter } = namedParameter(kind, name, flags, config);
  const wanted = versionNumber(flags.toVersion, "--to-version");
  return withStore(context, async (store) => {
    const versions = await store.history(parameter);
    const current = Math.max(...versions.map((version) => version.version));
    const chosen = versions.find((version) => version.version === wanted);
    if (!chosen) {
      throw new UsageError(`${parameter} has no version ${wanted}: SSM keeps versions ${versions.map((version) => version.version).join(", ")} (bk-ssm-secrets history shows them)`);
    }
    if (wanted === current) {
      log.info(`${parameter} is at version ${wanted} already: nothing to do`);
      return { output: "", status: 0 };
    }
    const by = chosen.changedBy ? ` by ${chosen.changedBy}` : "";
    log.info(`Rolling back ${parameter} to version ${wanted} (written ${formatDate(chosen.lastModified)}${by}): its value becomes version ${current + 1}`);
    confirm(`write version ${wanted} of ${parameter} back as its current value`, flags.yes);
    const old = await store.readVersion(parameter, wanted);
    const tier = tierFor(old.value);
    const stored = await store.put({
      name: parameter,
      value: old.value,
      type: old.type as PutRequest["type"],
      overwrite: true,
      // The key that encrypted the old version encrypts the new one too.
      ...(old.type === "SecureString" && chosen.keyId ? { keyId: chosen.keyId } : {}),
      ...(tier ? { tier } : {}),
    });
    log.info(`Stored ${parameter}, version ${stored.version}: the value of version ${wanted}`);
    return { output: "", status: 0 };
  });
}
