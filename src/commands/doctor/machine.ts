// The facts doctor gathers about the agent machine: AWS region and
// credentials as the SDK resolves them, the programs a job runs, the binary
// and the agent hooks. Reading only; the report judges them.
import type { Env } from "../../core/env.ts";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { EMBEDDED_HOOKS } from "../../install/embedded-hooks.ts";
import { sourcedByBlock } from "../../install/install.ts";
import { AGENT_HOOKS, agentHooksDir, installedPaths, readIfPresent } from "../../install/installed.ts";
import { oldHookLines } from "../../install/old-hook.ts";
import type { Logger } from "../../core/log.ts";
import { resolveAwsSetup } from "../../ssm/client.ts";

export interface MachineFacts {
  region?: string;
  /** Where the region came from: AWS_REGION, AWS_DEFAULT_REGION or the AWS config file. */
  regionFrom: string;
  regionError?: string;
  /** The SDK's record of the credential providers that answered, e.g. CREDENTIALS_ENV_VARS. */
  credentialFeatures?: string[];
  credentialsError?: string;
  /** AWS_PROFILE, "" for the default profile. */
  profile: string;
  /** AWS_ENDPOINT_URL_SSM, when set. */
  endpoint?: string;
  /** Each program a job runs, and where PATH finds it. */
  programs: Record<"git" | "ssh-agent" | "ssh-add", string | undefined>;
  /** AWS_SSM_SECRETS_PLUGIN_ENABLED is 1. */
  enabled: boolean;
  /** The binary the hooks would run, when it exists. */
  binary?: string;
  /** The binary the installed hook library records: the hooks run it, whatever BK_SSM_SECRETS_BIN and PATH say. */
  recordedBinary?: string;
  /** The defaults file the installed hook library records: the one the hooks read. */
  recordedDefaultsFile?: string;
  /** BK_SSM_SECRETS_BIN, when set: the hooks run it instead of looking on PATH. */
  binaryVariable?: string;
  hooksDir: string;
  hooks: HookFact[];
}

/**
 * One agent hook: missing, without the block `bk-ssm-secrets install` writes (foreign), with
 * it but not the scripts it runs (broken), or installed; and its lines that run the Python hook.
 */
export type HookFact = (
  | { name: string; state: "missing" | "foreign" }
  | { name: string; state: "installed"; script: string }
  | { name: string; state: "broken"; script: string; absent: string[] }) & { oldHookLines: number[] };

/** The libraries our hooks source. */
const LIBRARIES = EMBEDDED_HOOKS.filter((file) => !file.isHook).map((file) => file.name);

export async function gatherMachineFacts(env: Env, options: { signal: AbortSignal; timeoutMs: number; log: Logger }): Promise<MachineFacts> {
  const aws = await resolveAwsSetup({ ...options, env });
  const which = (program: string) => Bun.which(program, { PATH: env.PATH ?? "" }) ?? undefined;
  const hooksDir = agentHooksDir(env);
  const hooks = AGENT_HOOKS.map((name) => hookFact(name, join(hooksDir, name)));
  const recorded = installedPaths(hooksDir);
  // As hooks/lib/run-phase.bash chooses: the recorded binary, else BK_SSM_SECRETS_BIN, else PATH's.
  const named = recorded.binary || env.BK_SSM_SECRETS_BIN;
  return {
    region: aws.region,
    regionFrom: env.AWS_REGION ? "AWS_REGION" : env.AWS_DEFAULT_REGION ? "AWS_DEFAULT_REGION" : "the AWS config file",
    regionError: aws.regionError?.message,
    credentialFeatures: aws.credentialFeatures,
    credentialsError: aws.credentialsError?.message,
    profile: env.AWS_PROFILE ?? "",
    endpoint: env.AWS_ENDPOINT_URL_SSM || undefined,
    programs: { git: which("git"), "ssh-agent": which("ssh-agent"), "ssh-add": which("ssh-add") },
    enabled: env.AWS_SSM_SECRETS_PLUGIN_ENABLED === "1",
    binary: named ? (existsSync(named) ? named : undefined) : which("bk-ssm-secrets"),
    ...(recorded.binary ? { recordedBinary: recorded.binary } : {}),
    ...(recorded.defaultsFile ? { recordedDefaultsFile: recorded.defaultsFile } : {}),
    binaryVariable: env.BK_SSM_SECRETS_BIN || undefined,
    hooksDir,
    hooks,
  };
}

/** Whether the agent hook has the install's block, and whether the scripts the block runs are in place. */
function hookFact(name: string, path: string): HookFact {
  const content = readIfPresent(path);
  if (content === undefined) return { name, state: "missing", oldHookLines: [] };
  const oldHook = oldHookLines(content);
  const script = sourcedByBlock(content);
  if (script === undefined) return { name, state: "foreign", oldHookLines: oldHook };
  const needed = [script, ...LIBRARIES.map((library) => join(dirname(script), library))];
  const absent = needed.filter((file) => !existsSync(file));
  return absent.length ? { name, state: "broken", script, absent, oldHookLines: oldHook } : { name, state: "installed", script, oldHookLines: oldHook };
}
