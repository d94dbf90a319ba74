// What the operator commands (`doctor`, `ls`, `put`, `rm`) share: their
// result, usage errors, and the two ways they talk to a person: a value on
// stdin and a confirmation on the terminal.
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { ConfigError, normaliseBasePath } from "../job/config.ts";
import { withDeadline, type PhaseContext } from "../job/context.ts";
import type { Logger } from "../core/log.ts";
import { createParameterAdmin } from "../ssm/admin.ts";
import { StoreError, type ParameterInfo } from "../ssm/store.ts";
import { UsageError } from "../core/errors.ts";
import type { Config } from "../job/config.ts";
import { resolveTarget, type Target, type TargetFlags } from "../job/target.ts";
import { entryFor } from "../secrets/secret-kinds.ts";

/** What a command prints on stdout, and its exit status. */
export interface CommandResult {
  output: string;
  status: number;
}

/**
 * The value to store, byte for byte, from stdin. A terminal is refused: typing
 * a secret there would echo it, and the shell's history or scrollback keeps it.
 */
export async function readValueFromStdin(what: string): Promise<Uint8Array> {
  if (process.stdin.isTTY) {
    throw new UsageError(
      `${what} is read from stdin, not typed on the terminal: pipe or redirect it, for example \`printf '%s' "$VALUE" | bk-ssm-secrets put ...\` or \`... < file\``,
    );
  }
  return new Uint8Array(await Bun.stdin.arrayBuffer());
}

/** Decode as UTF-8, refusing bytes that are not: SSM stores text, and a lossy decode would change the value. */
export function decodeValue(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UsageError(`${what} is not UTF-8 text: SSM stores text; base64-encode binary data first`);
  }
}

/**
 * Ask whether to `action` ("write /vendors/buildkite/app/env/TOKEN") on the
 * terminal, and stop unless the answer is yes.
 * stdin may be carrying the value, so the answer is read from /dev/tty; when
 * there is no terminal (a script, CI) the command must say `--yes` instead.
 */
export function confirm(action: string, yes: boolean | undefined): void {
  if (yes) return;
  let tty: number | undefined;
  try {
    if (process.stderr.isTTY) tty = openSync("/dev/tty", "r");
  } catch {
    // No controlling terminal: handled below like a pipe.
  }
  if (tty === undefined) throw new UsageError(`no terminal to confirm on: pass --yes to ${action} without asking`);
  try {
    writeSync(2, `${action.charAt(0).toUpperCase()}${action.slice(1)}? [y/N] `);
    const answer = readLine(tty);
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError("not confirmed: nothing changed");
  } finally {
    closeSync(tty);
  }
}

function readLine(fd: number): string {
  const byte = new Uint8Array(1);
  const bytes: number[] = [];
  while (readSync(fd, byte, 0, 1, null) === 1 && byte[0] !== 0x0a) bytes.push(byte[0]!);
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The context with `--base-path`, when given, in place of the configured base path; a bad one is bad usage. */
export function withBasePath(context: PhaseContext, flag: string | undefined): PhaseContext {
  if (flag === undefined) return context;
  let basePath: string;
  try {
    basePath = normaliseBasePath(flag, "--base-path");
  } catch (error) {
    throw error instanceof ConfigError ? new UsageError(error.message) : error;
  }
  const { config } = context;
  return { ...context, config: { ...config, basePath, sources: { ...config.sources, basePath: "command line" } } };
}

type Store = Awaited<ReturnType<typeof createParameterAdmin>>;

/** One piece of SSM work under the configured deadline. Confirmation happens between two of them, never inside one. */
export function withStore<T>({ env, config, log }: PhaseContext, work: (store: Store) => Promise<T>): Promise<T> {
  return withDeadline(config.timeoutMs, async (signal) => work(await createParameterAdmin({ signal, timeoutMs: config.timeoutMs, log, env })));
}

/**
 * What the slug holds (names only), to refuse or warn before writing. Without
 * ssm:DescribeParameters the checks are skipped: SSM itself still refuses to
 * replace a parameter without --overwrite.
 */
export async function listSlug(store: Store, target: Target, log: Logger): Promise<ParameterInfo[] | undefined> {
  try {
    return await store.listTree(target.path);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    log.info(`Cannot list ${target.path} to check the parameter first (${error.code}): continuing; SSM itself refuses what cannot be done`);
    return undefined;
  }
}

/** The slug the flags pick, and the full SSM name of the parameter `KIND [NAME]` in it, by the rules `put` stores it under. */
export function namedParameter(kind: string, name: string | undefined, flags: TargetFlags, config: Pick<Config, "basePath" | "defaultKey">): { target: Target; parameter: string } {
  const target = resolveTarget(flags, config);
  // It names a parameter that exists: one a job refuses must still be deleted, inspected or rolled back.
  return { target, parameter: `${target.path}/${entryFor(kind, name, target.slug, { existing: true }).relative}` };
}

/** A version flag's value (`--to-version 3`) as a number, or a usage error saying what is expected. */
export function versionNumber(text: string | undefined, flag: string): number {
  if (text === undefined || !/^[1-9]\d*$/.test(text)) throw new UsageError(`${flag} needs a version number such as 3 (got ${JSON.stringify(text ?? "")}): bk-ssm-secrets history lists them`);
  return Number(text);
}
