// The facts doctor gathers about the agent machine: AWS region and
// credentials as the SDK resolves them, the programs a job runs, the binary
// and the agent hooks. Reading only; the report judges them.
import { existsSync, readFileSync } from "node:fs";
import type { Logger } from "../log.ts";
import { resolveAwsSetup } from "../ssm.ts";
import type { MachineFacts } from "./report.ts";

type Env = Record<string, string | undefined>;

/** The agent's hooks directory when the agent does not say otherwise. */
const AGENT_HOOKS_DIR = "/etc/buildkite-agent/hooks";
/** The agent hooks that must run bk-ssm-secrets. */
const AGENT_HOOKS = ["environment"];
/** What an installed hook's text mentions: the binary or the shared hook library. */
const HOOK_MARKER = /bk-ssm-secrets|bk_ssm_secrets/;

export async function gatherMachineFacts(env: Env, options: { signal: AbortSignal; timeoutMs: number; log: Logger }): Promise<MachineFacts> {
  const aws = await resolveAwsSetup({ ...options, env });
  const which = (program: string) => Bun.which(program, { PATH: env.PATH ?? "" }) ?? undefined;
  const hooksDir = env.BUILDKITE_HOOKS_PATH || AGENT_HOOKS_DIR;
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
    binary: env.BK_SSM_SECRETS_BIN ? (existsSync(env.BK_SSM_SECRETS_BIN) ? env.BK_SSM_SECRETS_BIN : undefined) : which("bk-ssm-secrets"),
    binaryVariable: env.BK_SSM_SECRETS_BIN || undefined,
    hooksDir,
    hooks: AGENT_HOOKS.map((name) => ({ name, state: hookState(`${hooksDir}/${name}`) })),
  };
}

function hookState(path: string): "installed" | "missing" | "foreign" {
  try {
    return HOOK_MARKER.test(readFileSync(path, "utf8")) ? "installed" : "foreign";
  } catch {
    return "missing";
  }
}
