# shellcheck shell=bash
# Shared by every bk-ssm-secrets hook. The agent sources hooks in bash, so this
# defines two functions and sets nothing else: the phase's effect on the job's
# environment is exactly the shell code the binary prints.

# bk_ssm_secrets_whole SCRIPT
# Whether SCRIPT arrived whole (hookPayload in src/core/shell.ts): its first
# line holds a random nonce (a UUID), and its last line the same nonce and
# the number of bytes before that line. ${#...} counts bytes under the C
# locale, which is local to this function. (No =~: it would leave
# BASH_REMATCH set in the agent's shell.) Only the length is counted: a
# payload cut short, extended, or with a part repeated fails; one with a part
# lost and another part of the same size repeated would not, which no known
# write failure makes.
bk_ssm_secrets_whole() {
  local LC_ALL=C
  local first="${1%%$'\n'*}" last="${1##*$'\n'}"
  local nonce="${first#"# bk-ssm-secrets payload "}"
  [[ "$first" != "$nonce" && ${#nonce} -eq 36 && "$last" == "# bk-ssm-secrets payload ${nonce}: $((${#1} - ${#last})) bytes above" ]]
}

# bk_ssm_secrets_phase PHASE
# Runs `bk-ssm-secrets PHASE` and evaluates what it prints. Does nothing unless
# AWS_SSM_SECRETS_PLUGIN_ENABLED is 1. Fails (so the job fails) when the
# binary fails, and then evaluates nothing: a phase is all or nothing. What it
# printed is evaluated only when it arrived whole: a payload cut short, or with
# a part of it twice, could turn part of a quoted secret into code.
bk_ssm_secrets_phase() {
  [[ "${AWS_SSM_SECRETS_PLUGIN_ENABLED:-}" == "1" ]] || return 0
  # `bk-ssm-secrets install` records here the absolute paths of the binary and
  # of the agent's defaults file, so that nothing in the job's environment can
  # choose either. Empty in the source tree.
  local bin='' defaults_file=''
  local script
  if [[ -z "$bin" ]]; then
    bin="${BK_SSM_SECRETS_BIN:-}"
    if [[ -z "$bin" ]]; then
      bin="$(command -v bk-ssm-secrets)" || {
        # Buildkite's convention for a failure inside a group: open the group, then one line.
        printf '%s\n' "^^^ +++" ":no_entry: bk-ssm-secrets: the binary is not on PATH: install it with \`bk-ssm-secrets install\` (see the README) or set BK_SSM_SECRETS_BIN" >&2
        return 1
      }
    fi
  fi
  # The binary runs in a subshell without the variables the Bun runtime reads
  # at start-up, which the job's environment (and so the pipeline's `env:`)
  # could otherwise set: BUN_* (BUN_OPTIONS preloads code, BUN_JSC_* set
  # engine options, BUN_BYTECODE_ORDER_OUT writes a file), MIMALLOC_* (its
  # allocator's options) and NODE_OPTIONS (today's Bun ignores it; the binary
  # has no use for it if a later one reads it). TLS and proxy settings
  # (NODE_EXTRA_CA_CERTS, HTTPS_PROXY, ...) stay: operators need them, and a
  # job could only turn them against its own reads. The job's shell keeps
  # every variable for its own tools. Git's credential helper runs the binary
  # the same way (src/secrets/gitcredentials.ts). BK_SSM_SECRETS_BIN tells
  # the binary how it was run, for that helper.
  script="$(
    unset -v "${!BUN_@}" "${!MIMALLOC_@}" NODE_OPTIONS || exit 1
    BK_SSM_SECRETS_BIN="$bin" exec "$bin" "$1" ${defaults_file:+--defaults-file "$defaults_file"}
  )" || return 1
  # Its stderr is dropped: an LC_ALL naming a locale this machine lacks draws a
  # warning when the function's C locale is undone.
  if [[ -n "$script" ]] && ! bk_ssm_secrets_whole "$script" 2>/dev/null; then
    printf '%s\n' "^^^ +++" ":no_entry: bk-ssm-secrets: what \`$bin $1\` printed did not arrive whole (it must begin and end with the binary's nonce, its last line counting the bytes before it), so none of it was applied: retry the job; if it fails again, install the hooks again with this binary (\`bk-ssm-secrets install\`), so that both come from one release" >&2
    return 1
  fi
  eval "$script"
}
