// `bk-ssm-secrets ls --pipeline SLUG|--repo URL|--global [--json]`: what a
// slug holds: names, types, tiers, versions and dates, never a value.
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { asRow, formatDate, renderJson, renderTable, stdoutColor, type Column } from "./output.ts";
import type { ParameterInfo } from "../ssm/store.ts";
import { createSsmStore } from "../ssm/client.ts";
import { resolveTarget, type TargetFlags } from "../job/target.ts";
import type { CommandResult } from "./operator.ts";

export interface LsFlags extends TargetFlags {
  json?: boolean;
}

const LS_COLUMNS: Column[] = [
  { key: "name", title: "NAME" },
  { key: "type", title: "TYPE" },
  { key: "tier", title: "TIER" },
  { key: "version", title: "VERSION" },
  { key: "lastModified", title: "LAST MODIFIED" },
];

/** One item per parameter; the table shows the same fields as the JSON. */
function listing(parameters: ParameterInfo[]) {
  return parameters.map((parameter) => ({
    name: parameter.name,
    type: parameter.type,
    tier: parameter.tier ?? null,
    version: parameter.version ?? null,
    lastModified: formatDate(parameter.lastModified),
  }));
}

export async function run({ env, config, log }: PhaseContext, flags: LsFlags): Promise<CommandResult> {
  const target = resolveTarget(flags, config);
  const parameters = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    return store.listTree(target.path);
  });
  const items = listing(parameters);
  if (flags.json) return { output: renderJson(items), status: 0 };
  if (items.length === 0) {
    log.info(`Nothing under ${target.path} (${target.slug.kind} slug ${target.slug.name})`);
    return { output: "", status: 0 };
  }
  return { output: renderTable(LS_COLUMNS, items.map(asRow), { color: stdoutColor(env) }), status: 0 };
}
