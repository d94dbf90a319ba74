// `bk-ssm-secrets rm KIND [NAME] --pipeline SLUG|--repo URL|--global`:
// delete one parameter, named by the same rules as `put`. A parameter that is
// not there is refused before the "Deleting …" line and the confirmation.
import type { PhaseContext } from "../job/context.ts";
import { entryFor } from "../secrets/secret-kinds.ts";
import { parameterNotFound } from "../ssm/store.ts";
import { resolveTarget, type TargetFlags } from "../job/target.ts";
import { confirm, listSlug, withStore, type CommandResult } from "./operator.ts";

export interface RmFlags extends TargetFlags {
  yes?: boolean;
}

export async function run(context: PhaseContext, kind: string, name: string | undefined, flags: RmFlags): Promise<CommandResult> {
  const { config, log } = context;
  const target = resolveTarget(flags, config);
  const parameter = `${target.path}/${entryFor(kind, name, target.slug).relative}`;
  const slug = await withStore(context, (store) => listSlug(store, target, log));
  if (slug && !slug.some((listed) => listed.name === parameter)) {
    throw parameterNotFound(parameter, "delete");
  }
  log.info(`Deleting ${parameter}`);
  confirm(`delete ${parameter}`, flags.yes);
  await withStore(context, (store) => store.remove(parameter));
  log.info(`Deleted ${parameter}`);
  return { output: "", status: 0 };
}
