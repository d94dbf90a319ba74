// Running hooks the way buildkite-agent does, and the compiled binary
// directly, with every run audited for leaked secrets.
//
// The agent runs a shell hook through a wrapper script that sources it in
// bash, records the exported environment afterwards and applies the
// difference to the job; `runHook` does the same.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const HOOKS_DIR = join(ROOT, "hooks");

export type Env = Record<string, string>;

const ARCH = process.arch === "arm64" ? "arm64" : "x64";

type Target = "linux-x64" | "linux-arm64";

function distBinary(target: Target): string {
  const path = join(ROOT, "dist", `bk-ssm-secrets-${target}`);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make build\` first`);
  return path;
}

/** The compiled binary for this machine; the end-to-end tests never run the sources. */
export function compiledBinary(): string {
  return distBinary(`linux-${ARCH}`);
}

/** The arm64 binary under Debian's qemu-user, with the arm64 glibc from libc6-arm64-cross. */
export const QEMU_ARM64 = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"];

/**
 * How to run a target's compiled binary on this machine: directly when it is
 * this machine's architecture, the arm64 one under qemu on x64.
 */
export function binaryCommand(target: Target): string[] {
  const path = distBinary(target);
  if (target === `linux-${ARCH}`) return [path];
  if (target === "linux-arm64") return [...QEMU_ARM64, path];
  throw new Error(`cannot run ${target} on ${process.arch}`);
}

// Secret values the fixtures planted. Every run below checks that none of
// them reached a log; only the eval payload may carry them.
const planted = new Set<string>();
let audited = 0;

/** Register a value that must never appear outside an eval payload. Short values are too common to audit. */
export function plantSecret(value: string): void {
  if (value.length >= 8) planted.add(value);
}

/** How many runs were audited in this process. */
export function auditedRuns(): number {
  return audited;
}

export function assertNoSecretIn(text: string, where: string): void {
  for (const secret of planted) {
    if (text.includes(secret)) throw new Error(`a planted secret leaked into ${where}`);
  }
}

/** A job's environment as the agent would give it: nothing from the host leaks in. */
export function baseJobEnv(extra: Env = {}): Env {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? "/root",
    LANG: "C.UTF-8",
    TMPDIR: tmpdir(),
    NO_COLOR: "1",
    BK_SSM_SECRETS_BIN: compiledBinary(),
    // The host's installed defaults file must not change what a test sees.
    BK_SSM_SECRETS_DEFAULTS_FILE: "/nonexistent/defaults.env",
    AWS_SSM_SECRETS_PLUGIN_ENABLED: "1",
    AWS_PARAMSTORE_SECRETS_VERBOSE: "1",
    // The agent sets it in every job: the log is written for Buildkite (groups, :warning: lines).
    BUILDKITE: "true",
    ...extra,
  };
}

export interface HookRun {
  status: number;
  stdout: string;
  stderr: string;
  /** The job's environment after the hook, as the agent would carry it on. */
  env: Env;
}

// Variables bash maintains itself; the agent ignores them in its diff too.
const SHELL_OWN = new Set(["_", "SHLVL", "PWD", "OLDPWD"]);

export function parseEnvDump(dump: string): Env {
  const env: Env = {};
  for (const entry of dump.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0 && !SHELL_OWN.has(entry.slice(0, eq)) && !entry.startsWith("BASH_FUNC_")) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Source `hooks/<hook>` in bash with `env`, like the agent's hook wrapper, and return the resulting environment. */
export async function runHook(hook: string, env: Env, options: { cwd?: string; hookPath?: string } = {}): Promise<HookRun> {
  const dir = mkdtempSync(join(tmpdir(), "bk-hook-"));
  const dump = join(dir, "env");
  try {
    const wrapper = 'source "$0"; status=$?; env -0 > "$1"; exit "$status"';
    const proc = Bun.spawn(["bash", "--noprofile", "--norc", "-c", wrapper, options.hookPath ?? join(HOOKS_DIR, hook), dump], {
      env,
      cwd: options.cwd ?? dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    assertNoSecretIn(stdout, `the ${hook} hook's output`);
    assertNoSecretIn(stderr, `the ${hook} hook's log`);
    audited++;
    return { status, stdout, stderr, env: existsSync(dump) ? parseEnvDump(readFileSync(dump, "utf8")) : {} };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface BinaryRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the compiled binary directly (or `command`, another way to run one, see
 * binaryCommand). Its stdout may be an eval payload; its stderr is audited.
 */
export async function runBinary(args: string[], env: Env, stdin?: string | Uint8Array, command = [compiledBinary()]): Promise<BinaryRun> {
  const input = typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const proc = Bun.spawn([...command, ...args], { env, stdin: input ?? "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, status] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  assertNoSecretIn(stderr, `the log of bk-ssm-secrets ${args.join(" ")}`);
  audited++;
  return { status, stdout, stderr };
}

/** What a hook added or changed in the job's environment. */
export function envChanges(before: Env, after: Env): Env {
  return Object.fromEntries(Object.entries(after).filter(([name, value]) => before[name] !== value));
}
