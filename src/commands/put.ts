// `bk-ssm-secrets put KIND [NAME] --pipeline SLUG|--repo URL|--global`:
// store one value where a job will look for it. The value comes from stdin
// (or, for an ssh key, a file), never from argv; every check that can refuse
// runs before the SSM name is printed as "Writing …" and anything is written.
import { readFileSync } from "node:fs";
import type { PhaseContext } from "../job/context.ts";
import { parseAccessList } from "../job/acl.ts";
import { isSlugName } from "../job/config.ts";
import { envNameForKey } from "../job/names.ts";
import { publicKeyOf } from "../ssh/private-key.ts";
import { valueOnStdinHint } from "../secrets/kinds.ts";
import { entryFor, referenceSummary, STANDARD_TIER_LIMIT, valueFor, type Entry } from "../secrets/secret-kinds.ts";
import type { ParameterInfo, PutRequest } from "../ssm/store.ts";
import { resolveTarget, type Target, type TargetFlags } from "../job/target.ts";
import { UsageError } from "../core/errors.ts";
import { confirm, decodeValue, listSlug, readValueFromStdin, withStore, type CommandResult } from "./operator.ts";

export interface PutFlags extends TargetFlags {
  kmsKey?: string;
  overwrite?: boolean;
  yes?: boolean;
  /** Entries to add to an access list, read-modify-write. */
  add?: string[];
  /** Entries to remove from an access list. */
  remove?: string[];
}

/** `put ssh-key` takes the key's file as its argument; the other kinds take a NAME. */
export async function run(context: PhaseContext, kind: string, argument: string | undefined, flags: PutFlags): Promise<CommandResult> {
  const { env, config, log } = context;
  const target = resolveTarget(flags, config);
  if (flags.add?.length || flags.remove?.length) return editAccessList(context, target, kind, argument, flags);
  const keyFile = kind === "ssh-key" ? argument : undefined;
  // A key pasted where its file's name belongs: the argument is not repeated.
  if (keyFile !== undefined && /-----BEGIN|\n/.test(keyFile)) throw new UsageError(`put ssh-key takes the key's FILE, not the key: ${valueOnStdinHint(kind)}`);
  const entry = entryFor(kind, keyFile === undefined ? argument : undefined, target.slug, { allowedNames: config.allowedNames });
  const name = `${target.path}/${entry.relative}`;
  if (flags.kmsKey !== undefined && !flags.kmsKey) throw new UsageError("--kms-key needs a key id, ARN or alias/NAME");

  const value = valueFor(entry.kind, decodeValue(await readValue(entry, keyFile), `the ${entry.kind} value`));
  const publicKey = entry.kind === "ssh-key" ? await publicKeyOf(value, keyFile ? `in ${keyFile}` : "on stdin", env) : undefined;
  if (entry.kind === "env" && value.endsWith("\n")) {
    log.warn(`the value for ${name} ends with a newline, and is stored with it: to leave it out, use printf '%s' rather than echo`);
  }

  const slug = await withStore(context, (store) => listSlug(store, target, log));
  const existing = slug?.find((parameter) => parameter.name === name);
  if (existing && !flags.overwrite) throw new UsageError(`${name} already exists: pass --overwrite to replace it`);
  if (slug) for (const warning of sameVariable(entry, name, target, slug)) log.warn(warning);

  const tier = tierFor(value);
  // A Secrets Manager reference names a secret without holding it: a plain String, shown in full.
  const reference = entry.kind === "secretsmanager";
  if (reference && flags.kmsKey !== undefined) throw new UsageError("--kms-key is for values: a secretsmanager reference is stored as a String, and the secret keeps its own key");
  const key = flags.kmsKey ?? "the account's default key, alias/aws/ssm";
  const writing = existing ? `Replacing ${name} (version ${existing.version ?? "?"})` : flags.overwrite && !slug ? `Writing (replacing if present) ${name}` : `Writing ${name}`;
  const how = reference ? `a String naming ${referenceSummary(value)}` : `SecureString encrypted with ${key}${tier ? `, ${tier} tier` : ""}`;
  log.info(`${writing}: ${how}; ${entry.effect}`);
  confirm(`write ${name}`, flags.yes);

  const stored = await withStore(context, (store) =>
    store.put({ name, value, type: reference ? "String" : "SecureString", overwrite: Boolean(flags.overwrite), ...(flags.kmsKey ? { keyId: flags.kmsKey } : {}), ...(tier ? { tier } : {}) }),
  );
  log.info(`Stored ${name}, version ${stored.version} (${stored.tier} tier)`);
  // The public half is not secret; on stdout it can go straight to the git host's deploy keys.
  return { output: publicKey ? `${publicKey}\n` : "", status: 0 };
}

/**
 * Other parameters of the slug that set the same variable as `name` once
 * names are mapped (upper-case, `-` to `_`): `env/name` and `env/NAME`, or a
 * file and a variable. A job gets only one of them. Pure.
 */
export function sameVariable(entry: Entry, name: string, target: Target, slug: ParameterInfo[]): string[] {
  if (entry.kind !== "env" && entry.kind !== "file") return [];
  const variable = envNameForKey(entry.relative.slice(entry.kind.length + 1));
  return slug
    .map((parameter) => parameter.name)
    .filter((other) => other !== name)
    .flatMap((other) => {
      const match = /^(env|file)\/([^/]+)$/.exec(other.slice(target.path.length + 1));
      if (!match || envNameForKey(match[2]!) !== variable) return [];
      const outcome = match[1] === entry.kind ? "a job gets only one of them" : "a job gets the file, not the variable";
      return [`${other} already sets ${variable}, as ${name} would (names are upper-cased and - becomes _): ${outcome}; delete one with bk-ssm-secrets rm`];
    });
}

async function readValue(entry: Entry, keyFile: string | undefined): Promise<Uint8Array> {
  if (keyFile === undefined) return readValueFromStdin(`the ${entry.kind} value`);
  try {
    return readFileSync(keyFile);
  } catch (error) {
    throw new UsageError(`cannot read the ssh key file ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Values over the standard tier's 4 KB need the advanced tier; counted in UTF-8 bytes, which is never fewer than characters. */
export function tierFor(value: string): "Advanced" | undefined {
  return Buffer.byteLength(value, "utf8") > STANDARD_TIER_LIMIT ? "Advanced" : undefined;
}

/** The list after adding and removing entries: no duplicates, order kept, additions at the end. Pure. */
export function editedList(current: string[], add: string[], remove: string[]): { list: string[]; absent: string[] } {
  const list = current.filter((entry) => !remove.includes(entry));
  for (const entry of add) if (!list.includes(entry) && !remove.includes(entry)) list.push(entry);
  return { list, absent: remove.filter((entry) => !current.includes(entry)) };
}

/**
 * `put allowed-pipelines|allowed-teams --add X --remove Y`: read the list,
 * change it, write it back. Access lists are not secret, so the entries are
 * logged. Removing the last entry is refused rather than deleting the list:
 * no list lets every pipeline in, the opposite of what removing asks for.
 */
async function editAccessList(context: PhaseContext, target: Target, kind: string, argument: string | undefined, flags: PutFlags): Promise<CommandResult> {
  const { log } = context;
  if (kind !== "allowed-pipelines" && kind !== "allowed-teams") throw new UsageError("--add and --remove edit an access list: use them with put allowed-pipelines or put allowed-teams");
  const entry = entryFor(kind, argument, target.slug);
  const name = `${target.path}/${entry.relative}`;
  const [add, remove] = [flags.add ?? [], flags.remove ?? []];
  const what = kind === "allowed-pipelines" ? "pipeline slug" : "team slug";
  for (const slug of [...add, ...remove]) {
    if (!isSlugName(slug)) throw new UsageError(`${JSON.stringify(slug)} is not a ${what} (letters, digits, _ . -)`);
  }

  const { found } = await withStore(context, (store) => store.readNames([name]));
  const current = found[0];
  if (!current && remove.length) throw new UsageError(`${name} does not exist: there is nothing to remove; without a list, every ${kind === "allowed-pipelines" ? "pipeline" : "team"} may read slug ${target.slug.name}`);
  const before = current ? parseAccessList(current.value, current.type) : [];
  const { list, absent } = editedList(before, add, remove);
  for (const entry of absent) log.warn(`${entry} is not on ${name}: nothing to remove`);
  if (list.length === 0) {
    throw new UsageError(
      `removing ${remove.join(", ")} would leave ${name} empty, and an empty list admits nobody: --add the ${what}s to keep first, or, to let everyone read slug ${target.slug.name}, delete the list with bk-ssm-secrets rm ${kind}`,
    );
  }
  if (current && list.join("\n") === before.join("\n")) {
    log.info(`${name} is unchanged: ${list.join(", ")}`);
    return { output: "", status: 0 };
  }

  // The list keeps its type; a StringList is comma-separated, the others one entry per line.
  const type: PutRequest["type"] = current?.type === "String" || current?.type === "StringList" ? current.type : "SecureString";
  log.info(`${current ? `Updating ${name} (version ${current.version ?? "?"})` : `Creating ${name}`}: ${list.join(", ")}; ${entry.effect}`);
  confirm(`write ${name}`, flags.yes);
  const stored = await withStore(context, (store) => store.put({ name, value: list.join(type === "StringList" ? "," : "\n"), type, overwrite: Boolean(current) }));
  // SSM has no compare-and-swap: a version other than the next one means someone else wrote in between.
  if (current?.version !== undefined && stored.version !== current.version + 1) {
    log.warn(`${name} went from version ${current.version} to ${stored.version}: someone else changed it at the same time; check it with bk-ssm-secrets ls`);
  }
  log.info(`Stored ${name}, version ${stored.version}`);
  return { output: "", status: 0 };
}
