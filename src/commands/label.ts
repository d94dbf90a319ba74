// `bk-ssm-secrets label KIND [NAME] --pipeline SLUG|--repo URL|--global --on-version N --label L...`:
// name a version (e.g. `known-good` before a rotation) so `history` shows it
// and a rollback can find it. SSM moves a label from whichever version had it.
import { UsageError } from "../core/errors.ts";
import type { PhaseContext } from "../job/context.ts";
import type { TargetFlags } from "../job/target.ts";
import { type CommandResult, namedParameter, versionNumber, withStore } from "./operator.ts";

export interface LabelFlags extends TargetFlags {
  onVersion?: string;
}

export async function run(context: PhaseContext, kind: string, name: string | undefined, labels: string[], flags: LabelFlags): Promise<CommandResult> {
  const { config, log } = context;
  const { parameter } = namedParameter(kind, name, flags, config);
  const version = versionNumber(flags.onVersion, "--on-version");
  if (labels.length === 0) throw new UsageError("name at least one label, as in `label env TOKEN --pipeline app --on-version 3 --label known-good`");
  const refused = await withStore(context, (store) => store.label(parameter, version, labels));
  const applied = labels.filter((label) => !refused.includes(label));
  if (applied.length) log.info(`Labelled version ${version} of ${parameter}: ${applied.join(", ")}`);
  if (refused.length) {
    log.warn(`SSM refused the labels ${refused.join(", ")}: a label is letters, digits, . _ and -, at most 100 characters, and starts neither with a digit nor with aws or ssm`);
    return { output: "", status: 1 };
  }
  return { output: "", status: 0 };
}
