// The post-checkout phase: back to the agent the job had before pre-checkout
// switched, unless AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND=1 keeps
// the slug agent through the command.
import { restoreAfter } from "../ssh/agents.ts";
import type { HookContext } from "../job/context.ts";

export async function run({ env, config }: HookContext): Promise<string> {
  return restoreAfter("post-checkout", env, config.runSshAgentDuringCommand);
}
