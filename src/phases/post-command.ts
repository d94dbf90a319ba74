// The post-command phase: when AWS_SSM_SECRETS_PLUGIN_RUN_SSH_AGENT_DURING_COMMAND=1
// kept the slug agent through the command, go back to the agent the job had before.
import { restoreAfter } from "../ssh/agents.ts";
import type { HookContext } from "../job/context.ts";

export async function run({ env, config }: HookContext): Promise<string> {
  return restoreAfter("post-command", env, config.runSshAgentDuringCommand);
}
