// `bk-ssm-secrets put KIND [NAME] --pipeline SLUG|--repo URL|--global`:
// store one value where a job will look for it. The value comes from stdin
// (or, for an ssh key, a file), never from argv; the SSM name is computed from
// the slug rules and printed before anything is written.
import { readFileSync } from "node:fs";
import { withDeadline, type PhaseContext } from "../job/context.ts";
import { publicKeyOf } from "../ssh/private-key.ts";
import { entryFor, STANDARD_TIER_LIMIT, valueFor, type Entry } from "../secrets/secret-kinds.ts";
import { createSsmStore } from "../ssm/client.ts";
import { resolveTarget, type TargetFlags } from "../job/target.ts";
import { UsageError } from "../core/errors.ts";
import { confirm, decodeValue, readValueFromStdin, type CommandResult } from "./operator.ts";

export interface PutFlags extends TargetFlags {
  kmsKey?: string;
  overwrite?: boolean;
  yes?: boolean;
}

/** `put ssh-key` takes the key's file as its argument; the other kinds take a NAME. */
export async function run({ env, config, log }: PhaseContext, kind: string, argument: string | undefined, flags: PutFlags): Promise<CommandResult> {
  const target = resolveTarget(flags, config);
  const keyFile = kind === "ssh-key" ? argument : undefined;
  const entry = entryFor(kind, keyFile === undefined ? argument : undefined, target.slug, { allowedNames: config.allowedNames });
  const name = `${target.path}/${entry.relative}`;
  if (flags.kmsKey !== undefined && !flags.kmsKey) throw new UsageError("--kms-key needs a key id, ARN or alias/NAME");

  const value = valueFor(entry.kind, decodeValue(await readValue(entry, keyFile), `the ${entry.kind} value`));
  const publicKey = entry.kind === "ssh-key" ? await publicKeyOf(value, keyFile ? `in ${keyFile}` : "on stdin", env) : undefined;
  if (entry.kind === "env" && value.endsWith("\n")) {
    log.warn(`the value for ${name} ends with a newline, and is stored with it: to leave it out, use printf '%s' rather than echo`);
  }

  const tier = tierFor(value);
  const key = flags.kmsKey ?? "the account's default key, alias/aws/ssm";
  log.info(`${flags.overwrite ? "Writing (replacing if present)" : "Writing"} ${name}: SecureString encrypted with ${key}${tier ? `, ${tier} tier` : ""}; ${entry.effect}`);
  confirm(`write ${name}`, flags.yes);

  const stored = await withDeadline(config.timeoutMs, async (signal) => {
    const store = await createSsmStore({ signal, timeoutMs: config.timeoutMs, log, env });
    return store.put({ name, value, type: "SecureString", overwrite: Boolean(flags.overwrite), ...(flags.kmsKey ? { keyId: flags.kmsKey } : {}), ...(tier ? { tier } : {}) });
  });
  log.info(`Stored ${name}, version ${stored.version} (${stored.tier} tier)`);
  // The public half is not secret; on stdout it can go straight to the git host's deploy keys.
  return { output: publicKey ? `${publicKey}\n` : "", status: 0 };
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
