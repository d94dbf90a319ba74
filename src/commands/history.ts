// `bk-ssm-secrets history KIND [NAME] --pipeline SLUG|--repo URL|--global [--json]`:
// the versions SSM keeps of one parameter: when, by whom, with which labels.
// Never a value: SSM sends each version's value, and it is dropped on arrival.
import type { PhaseContext } from "../job/context.ts";
import type { TargetFlags } from "../job/target.ts";
import type { ParameterVersion } from "../ssm/store.ts";
import { type CommandResult, namedParameter, withStore } from "./operator.ts";
import { asRow, formatDate, renderJson, renderTable, stdoutColor, type Column } from "./output.ts";

export interface HistoryFlags extends TargetFlags {
  json?: boolean;
}

const HISTORY_COLUMNS: Column[] = [
  { key: "version", title: "VERSION" },
  { key: "lastModified", title: "DATE" },
  { key: "changedBy", title: "CHANGED BY" },
  { key: "labels", title: "LABELS" },
  { key: "current", title: "" },
];

/** One item per version, newest first: the version a job reads today heads the list. */
export function historyItems(versions: ParameterVersion[]) {
  const newest = Math.max(...versions.map((version) => version.version));
  return [...versions]
    .sort((a, b) => b.version - a.version)
    .map((version) => ({
      version: version.version,
      lastModified: formatDate(version.lastModified),
      changedBy: version.changedBy ?? "",
      labels: version.labels.join(", "),
      current: version.version === newest ? "current" : "",
    }));
}

export async function run(context: PhaseContext, kind: string, name: string | undefined, flags: HistoryFlags): Promise<CommandResult> {
  const { env, config, log } = context;
  const { parameter } = namedParameter(kind, name, flags, config);
  const versions = await withStore(context, (store) => store.history(parameter));
  const items = historyItems(versions);
  if (flags.json) return { output: renderJson(items.map(({ current, ...item }) => ({ ...item, current: current !== "" }))), status: 0 };
  log.info(`${parameter}: ${versions.length} version${versions.length === 1 ? "" : "s"} kept by SSM (bk-ssm-secrets rollback --to-version N writes an older one back)`);
  return { output: renderTable(HISTORY_COLUMNS, items.map(asRow), { color: stdoutColor(env) }), status: 0 };
}
