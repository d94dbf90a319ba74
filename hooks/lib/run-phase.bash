# shellcheck shell=bash
# Shared by every bk-ssm-secrets hook. The agent sources hooks in bash, so this
# defines one function and sets nothing else: the phase's effect on the job's
# environment is exactly the shell code the binary prints.

# bk_ssm_secrets_phase PHASE
# Runs `bk-ssm-secrets PHASE` and evaluates what it prints. Does nothing unless
# AWS_SSM_SECRETS_PLUGIN_ENABLED is 1. Fails (so the job fails) when the
# binary fails, and then evaluates nothing: a phase is all or nothing.
bk_ssm_secrets_phase() {
  [[ "${AWS_SSM_SECRETS_PLUGIN_ENABLED:-}" == "1" ]] || return 0
  local bin="${BK_SSM_SECRETS_BIN:-}" script
  if [[ -z "$bin" ]]; then
    bin="$(command -v bk-ssm-secrets)" || {
      # Buildkite's convention for a failure inside a group: open the group, then one line.
      printf '%s\n' "^^^ +++" ":no_entry: bk-ssm-secrets: the binary is not on PATH: install it (see the README) or set BK_SSM_SECRETS_BIN" >&2
      return 1
    }
  fi
  script="$("$bin" "$1")" || return 1
  eval "$script"
}
