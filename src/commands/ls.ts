// `bk-ssm-secrets ls [--pipeline SLUG|--repo URL|--global] [--json]`:
// without a slug, the tree: which slugs exist and how many parameters of each
// kind each holds; with one, its parameters: names, types, tiers, versions and
// dates. Never a value, except the entries of access lists, which are not secret.
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { parseAccessList } from "../job/acl.ts";
import { classify } from "../job/plan.ts";
import { asRow, formatDate, renderJson, renderTable, stdoutColor, type Column } from "./output.ts";
import { StoreError, type ParameterInfo } from "../ssm/store.ts";
import { createParameterAdmin } from "../ssm/admin.ts";
import { resolveTarget, type TargetFlags } from "../job/target.ts";
import type { Logger } from "../core/log.ts";
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
  { key: "entries", title: "ENTRIES" },
];

const TREE_COLUMNS: Column[] = [
  { key: "slug", title: "SLUG" },
  { key: "env", title: "ENV" },
  { key: "files", title: "FILES" },
  { key: "sshKeys", title: "SSH KEYS" },
  { key: "gitCredentials", title: "GIT CREDENTIALS" },
  { key: "other", title: "OTHER" },
  { key: "allowedPipelines", title: "ALLOWED PIPELINES" },
  { key: "allowedTeams", title: "ALLOWED TEAMS" },
];

/** An access list's entries by parameter name, or why they could not be read. */
type ListEntries = { entries: Map<string, string[]>; error?: string };

/** One item per parameter; the table shows the same fields as the JSON. Access lists carry their entries. */
function listing(parameters: ParameterInfo[], lists: ListEntries) {
  return parameters.map((parameter) => ({
    name: parameter.name,
    type: parameter.type,
    tier: parameter.tier ?? null,
    version: parameter.version ?? null,
    lastModified: formatDate(parameter.lastModified),
    ...(isAccessList(parameter.name) ? { entries: lists.entries.get(parameter.name) ?? [] } : {}),
  }));
}

function isAccessList(name: string): boolean {
  return /\/allowed_(pipelines|teams)$/.test(name);
}

export interface SlugSummary {
  slug: string;
  path: string;
  env: number;
  files: number;
  /** The slug's deploy key, and keys of AWS_PARAMSTORE_SECRETS_GLOBAL_SSH stored below it. */
  sshKeys: number;
  gitCredentials: number;
  /** Parameters no job uses. */
  other: number;
  /** The access lists' entries; null when the slug has no such list (everyone may read it), empty when unreadable. */
  allowedPipelines: string[] | null;
  allowedTeams: string[] | null;
}

/** The tree below `base`, slug by slug, counted by kind. Pure. */
export function summarise(base: string, parameters: ParameterInfo[], globalSshKeys: string[], lists: ListEntries): { slugs: SlugSummary[]; outside: string[] } {
  const slugs = new Map<string, SlugSummary>();
  const outside: string[] = [];
  for (const parameter of parameters) {
    const relative = parameter.name.slice(base.length + 1);
    const slash = relative.indexOf("/");
    if (slash < 0) {
      outside.push(parameter.name);
      continue;
    }
    const slug = relative.slice(0, slash);
    const summary = slugs.get(slug) ?? { slug, path: `${base}/${slug}`, env: 0, files: 0, sshKeys: 0, gitCredentials: 0, other: 0, allowedPipelines: null, allowedTeams: null };
    slugs.set(slug, summary);
    const entry = classify(relative.slice(slash + 1));
    if (globalSshKeys.includes(parameter.name)) summary.sshKeys++;
    else if (entry.kind === "access-list") summary[entry.list] = lists.entries.get(parameter.name) ?? [];
    else if (entry.kind === "variable") summary.env++;
    else if (entry.kind === "file") summary.files++;
    else if (entry.kind === "ssh-key") summary.sshKeys++;
    else if (entry.kind === "git-credentials") summary.gitCredentials++;
    else summary.other++;
  }
  return { slugs: [...slugs.values()], outside };
}

/** The entries of the access lists among `parameters`: one GetParameters call per 10 lists. */
async function readAccessLists(read: (names: string[]) => Promise<{ found: Array<ParameterInfo & { value: string }> }>, parameters: ParameterInfo[]): Promise<ListEntries> {
  const names = parameters.map((parameter) => parameter.name).filter(isAccessList);
  if (names.length === 0) return { entries: new Map() };
  try {
    const { found } = await read(names);
    return { entries: new Map(found.map((list) => [list.name, parseAccessList(list.value, list.type)])) };
  } catch (error) {
    if (error instanceof StoreError) return { entries: new Map(), error: error.message };
    throw error;
  }
}

export async function run({ env, config, log }: PhaseContext, flags: LsFlags): Promise<CommandResult> {
  const tree = flags.pipeline === undefined && flags.repo === undefined && !flags.global;
  const target = tree ? undefined : resolveTarget(flags, config);
  const path = target?.path ?? (config.basePath || "/");
  const [parameters, lists] = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createParameterAdmin({ signal, timeoutMs: config.timeoutMs, log, env });
    const parameters = await store.listTree(path);
    return [parameters, await readAccessLists((names) => store.readNames(names), parameters)] as const;
  });
  if (lists.error) log.warn(`the access lists' entries are not shown: ${lists.error}`);
  const color = stdoutColor(env);
  if (!target) return treeResult(config.basePath, parameters, config.globalSshKeys, lists, { json: Boolean(flags.json), color, log, source: config.sources.basePath });

  const items = listing(parameters, lists);
  if (flags.json) return { output: renderJson(items), status: 0 };
  if (items.length === 0) {
    log.info(`Nothing under ${target.path} (${target.slug.kind} slug ${target.slug.name})`);
    return { output: "", status: 0 };
  }
  const rows = items.map((item) => asRow({ ...item, entries: "entries" in item ? listCell(item.entries, lists) : "" }));
  return { output: renderTable(LS_COLUMNS, rows, { color }), status: 0 };
}

/** An access list in a table cell: its entries, `-` for no list; unreadable ones were warned about. */
function listCell(entries: string[] | null | undefined, lists: ListEntries): string {
  if (!entries) return "-";
  return entries.join(",") || (lists.error ? "(unreadable)" : "(empty)");
}

function treeResult(
  base: string,
  parameters: ParameterInfo[],
  globalSshKeys: string[],
  lists: ListEntries,
  options: { json: boolean; color: boolean; log: Logger; source: string },
): CommandResult {
  const { slugs, outside } = summarise(base, parameters, globalSshKeys, lists);
  for (const name of outside) options.log.warn(`${name} is directly under the base path, not in a slug: no job reads it`);
  if (options.json) return { output: renderJson(slugs), status: 0 };
  if (slugs.length === 0) {
    options.log.info(`Nothing under ${base || "/"}: no slugs (the base path comes from ${options.source === "command line" ? "--base-path" : options.source === "default" ? "the built-in default" : `the ${options.source}`})`);
    return { output: "", status: 0 };
  }
  const count = (n: number) => (n ? String(n) : "-");
  const rows = slugs.map((slug) =>
    asRow({
      slug: slug.slug,
      env: count(slug.env),
      files: count(slug.files),
      sshKeys: count(slug.sshKeys),
      gitCredentials: count(slug.gitCredentials),
      other: count(slug.other),
      allowedPipelines: listCell(slug.allowedPipelines, lists),
      allowedTeams: listCell(slug.allowedTeams, lists),
    }),
  );
  return { output: renderTable(TREE_COLUMNS, rows, { color: options.color }), status: 0 };
}
