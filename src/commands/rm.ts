// `bk-ssm-secrets rm KIND [NAME] --pipeline SLUG|--repo URL|--global`:
// delete one parameter, named by the same rules as `put`.
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { entryFor } from "../secrets/secret-kinds.ts";
import { createSsmStore } from "../ssm/client.ts";
import { resolveTarget, type TargetFlags } from "../job/target.ts";
import { confirm, type CommandResult } from "./operator.ts";

export interface RmFlags extends TargetFlags {
  yes?: boolean;
}

export async function run({ env, config, log }: PhaseContext, kind: string, name: string | undefined, flags: RmFlags): Promise<CommandResult> {
  const target = resolveTarget(flags, config);
  const parameter = `${target.path}/${entryFor(kind, name, target.slug, { removing: true }).relative}`;
  log.info(`Deleting ${parameter}`);
  confirm(`delete ${parameter}`, flags.yes);
  await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    await store.remove(parameter);
  });
  log.info(`Deleted ${parameter}`);
  return { output: "", status: 0 };
}
