// An agent as the Python hook (aws-paramstore-secrets) left it: its
// configure.sh appended a block to each agent hook with `cat >> … <<'EOF'`,
// again on every run, creating the hooks that did not exist. The blocks are
// reproduced from its published configure.sh (2021): the marked environment
// block after an empty line, and unmarked `if … then source … fi` blocks for
// the other hooks, post-checkout and post-command in their variant that also
// tests the run-during-command option.

const PLUGIN = "/usr/local/buildkite-aws-stack/plugins/aws-paramstore-secrets";
const ENABLED = '[[ -n "${AWS_SSM_SECRETS_PLUGIN_ENABLED:-}" && "${AWS_SSM_SECRETS_PLUGIN_ENABLED:-}" == "1" ]]';

const ENVIRONMENT = [
  "",
  "# --- Start AWS paramstore secrets plugin ---",
  "# AWS_SSM_SECRETS_PLUGIN_ENABLED is typically configured in /var/lib/buildkite-agent/cfn-env",
  "",
  `if ${ENABLED}`,
  "then",
  `  source ${PLUGIN}/hooks/environment`,
  "",
  "  # clean up",
  `  for name in $(export | grep "AWS_PARAMSTORE_SECRETS_" | sed "s/=/ /g" | awk '{print $3}')`,
  "  do",
  '    if [ $name = "AWS_PARAMSTORE_SECRETS_AUTH_SOCK" ] || [ $name = "AWS_PARAMSTORE_SECRETS_AGENT_PID" ]',
  "    then",
  "      continue",
  "    fi",
  "    unset $name",
  "  done",
  "fi",
  "# --- End AWS paramstore secrets plugin ---",
  "",
].join("\n");

const phase = (hook: string, condition = ENABLED) => `if ${condition}\nthen\n  source ${PLUGIN}/hooks/${hook}\nfi\n`;

/** What one run of configure.sh appended to each agent hook. */
export const PYTHON_HOOK_BLOCKS: Record<string, string> = {
  environment: ENVIRONMENT,
  "pre-exit": phase("pre-exit"),
  "pre-checkout": phase("pre-checkout"),
  "post-checkout": phase("post-checkout", '[[ "${AWS_SSM_SECRETS_PLUGIN_ENABLED:-}" == "1" && "${AWS_PARAMSTORE_SECRETS_RUN_SSH_AGENT_DURING_COMMAND:-}" != "1" ]]'),
  "post-command": phase("post-command", '[[ "${AWS_SSM_SECRETS_PLUGIN_ENABLED:-}" == "1" && "${AWS_PARAMSTORE_SECRETS_RUN_SSH_AGENT_DURING_COMMAND:-}" == "1" ]]'),
};

/** The settings file configure.sh wrote from AWS_PARAMSTORE_SECRETS_PATH and the other variables it was run with. */
export function pythonHookDefaults(values: { basePath: string; defaultKey?: string; globalSsh?: string; verbose?: string }): string {
  return [
    `export AWS_PARAMSTORE_SECRETS_VERBOSE="${values.verbose ?? "0"}"`,
    `export AWS_PARAMSTORE_SECRETS_DEFAULT_KEY="${values.defaultKey ?? "global"}"`,
    `export AWS_PARAMSTORE_SECRETS_SECRETS_PATH="${values.basePath}"`,
    `export AWS_PARAMSTORE_SECRETS_GLOBAL_SSH="${values.globalSsh ?? ""}"`,
    "",
  ].join("\n");
}
