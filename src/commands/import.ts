// `bk-ssm-secrets import s3-secrets-hooks DIR [--overwrite] [--yes]`: write
// what a bucket of Buildkite's S3 secrets hooks held (synced to DIR with
// `aws s3 sync`) as parameters under the base path, so its jobs get the same
// secrets from here. The plan, names only, comes first; nothing is written
// until every check passed and the operator said yes.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { UsageError } from "../core/errors.ts";
import { printable } from "../core/log.ts";
import type { PhaseContext } from "../job/context.ts";
import { planS3Import, type SourceFile } from "../secrets/s3-secrets-hooks.ts";
import { publicKeyOf } from "../ssh/private-key.ts";
import { type CommandResult, confirm, decodeValue, withStore } from "./operator.ts";
import { asRow, renderTable, stdoutColor, type Column } from "./output.ts";
import { writeAll } from "../core/stdio.ts";
import { tierFor } from "./put.ts";

export const SOURCES = ["s3-secrets-hooks"];

export interface ImportFlags {
  kmsKey?: string;
  overwrite?: boolean;
  yes?: boolean;
}

const PLAN_COLUMNS: Column[] = [
  { key: "parameter", title: "PARAMETER" },
  { key: "source", title: "FROM" },
];

/**
 * Every regular file below `dir` by its path relative to it (the values stay
 * in memory), and why anything else is left out. Links are not followed: a
 * synced bucket has none, and one could pull in a file from elsewhere.
 */
function readTree(dir: string): { files: SourceFile[]; unreadable: string[] } {
  const files: SourceFile[] = [];
  const unreadable: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      const name = relative(dir, full);
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (!stat.isFile()) unreadable.push(`${name}: not a regular file (links are not followed)`);
      else {
        try {
          files.push({ path: name, content: decodeValue(readFileSync(full), name) });
        } catch (error) {
          unreadable.push((error as Error).message);
        }
      }
    }
  };
  try {
    walk(dir);
  } catch (error) {
    throw new UsageError(`cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (give the directory aws s3 sync wrote the bucket to)`);
  }
  return { files, unreadable };
}

export async function run(context: PhaseContext, source: string, dir: string, flags: ImportFlags): Promise<CommandResult> {
  const { env, config, log } = context;
  if (!SOURCES.includes(source)) throw new UsageError(`unknown source ${JSON.stringify(source)}: bk-ssm-secrets imports from ${SOURCES.join(", ")}`);
  const { files, unreadable } = readTree(dir);
  const plan = planS3Import(files, config);
  plan.skipped.unshift(...unreadable);
  // File and directory names are the bucket writers' text: shown as such.
  for (const line of plan.skipped) log.warn(printable(`not imported: ${line}`));
  for (const note of plan.notes) log.warn(printable(note));
  for (const write of plan.writes.filter((planned) => planned.kind === "ssh-key")) {
    // Checked as `put ssh-key` checks it: a key a job could not load is refused before anything is written.
    await publicKeyOf(write.value, `in ${write.source}`, env);
  }
  if (plan.writes.length === 0) throw new UsageError(`nothing to import from ${dir}: no file there is one the S3 secrets hooks read`);
  const where = config.basePath || "/";

  return withStore(context, async (store) => {
    const slugPaths = [...new Set(plan.writes.map((write) => write.name.slice(0, write.name.indexOf("/", config.basePath.length + 1))))];
    const existing = new Set((await Promise.all(slugPaths.map((path) => store.listTree(path)))).flat().map((info) => info.name));
    const clashes = plan.writes.filter((write) => existing.has(write.name)).map((write) => write.name);
    // The plan goes out now, before the confirmation it is the subject of.
    writeAll(1, renderTable(PLAN_COLUMNS, plan.writes.map((write) => asRow({ parameter: write.name, source: write.source })), { color: stdoutColor(env) }));
    if (clashes.length && !flags.overwrite) {
      throw new UsageError(`${clashes.length} of these parameters exist already (${clashes.slice(0, 3).join(", ")}${clashes.length > 3 ? ", ..." : ""}): pass --overwrite to replace them`);
    }
    log.info(`${clashes.length ? `Writing (replacing ${clashes.length})` : "Writing"} ${plan.writes.length} parameters under ${where} as SecureStrings`);
    confirm(`write ${plan.writes.length} parameters under ${where}`, flags.yes);
    // One at a time: SSM allows only a few writes a second per account.
    for (const [i, write] of plan.writes.entries()) {
      const tier = tierFor(write.value);
      try {
        await store.put({ name: write.name, value: write.value, type: "SecureString", overwrite: Boolean(flags.overwrite), ...(flags.kmsKey ? { keyId: flags.kmsKey } : {}), ...(tier ? { tier } : {}) });
      } catch (error) {
        log.warn(`wrote ${i} of ${plan.writes.length} parameters; ${write.name} failed: ${(error as Error).message}. Run the import again with --overwrite to finish`);
        return { output: "", status: 1 };
      }
    }
    log.info(`Imported ${plan.writes.length} parameters from the S3 secrets bucket in ${dir}${plan.notes.length ? ": mind the notes above" : ""}`);
    return { output: "", status: 0 };
  });
}
