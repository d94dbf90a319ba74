#!/usr/bin/env bash
# Installs or upgrades bk-ssm-secrets on a Buildkite agent instance, from an
# EC2 bootstrap script (the Elastic CI Stack's BootstrapScriptUrl). Every
# release carries a copy of this script with its version filled in; the
# README's Quick start shows how to fetch and run it (docs/install.md: the details).
#
# It downloads the binary for this machine and the release's SHA256SUMS,
# checks the binary against it, checks the binary runs here, moves it into
# place atomically, runs `bk-ssm-secrets install` (hooks and defaults file)
# and sets AWS_SSM_SECRETS_PLUGIN_ENABLED=1 in the agent's environment file.
# Any failure stops with one line on stderr and leaves the previous
# installation as it was. Running it again installs the same files again;
# running a newer release's copy upgrades in place.
#
# Needs bash, curl, sha256sum and coreutils; gzip if present (smaller download).
set -euo pipefail

# Filled in by `bun build.ts --release`; empty in the source tree, where --version is required.
release_version=""
readonly DEFAULT_RELEASES_URL="https://github.com/buildkite-ssm/bk-ssm-secrets/releases/download"
readonly ENABLE_LINE="export AWS_SSM_SECRETS_PLUGIN_ENABLED=1"

usage() {
  cat <<'EOF'
Usage: install.sh [--base-path PATH] [--default-key KEY] [--global-ssh LIST] [--hooks-dir DIR]
                  [--install-dir DIR] [--defaults-file FILE] [--version VERSION] [--releases-url URL] [--bin-dir DIR]
                  [--agent-env-file FILE] [--binary-only]

Passed to `bk-ssm-secrets install`:
  --base-path PATH       root of the SSM tree (AWS_PARAMSTORE_SECRETS_SECRETS_PATH)
  --default-key KEY      the slug every pipeline reads
  --global-ssh LIST      ':'-separated SSM names of deploy keys for every job
  --hooks-dir DIR        the agent's hooks directory
  --install-dir DIR      where the hook scripts go
  --defaults-file FILE   the defaults file

Used by this script:
  --version VERSION      version to install (default: the release this script came from)
  --releases-url URL     where releases live, as <URL>/v<VERSION>/<asset> (a mirror)
                         default: https://github.com/buildkite-ssm/bk-ssm-secrets/releases/download
  --bin-dir DIR          where the binary goes (default: /usr/local/bin)
  --agent-env-file FILE  the agent's environment file that gets the enable flag
                         (default: /var/lib/buildkite-agent/cfn-env, the Elastic CI Stack's)
  --binary-only          install or upgrade the binary only: no hooks, no enable flag
EOF
}

version=""
# Paths to remove if the script stops early; the exit trap removes them.
work_dir=""
staged=""
previous=""
env_tmp=""

cleanup() {
  [[ -z "$work_dir" ]] || rm -rf "$work_dir"
  rm -f ${staged:+"$staged"} ${previous:+"$previous"} ${env_tmp:+"$env_tmp"}
}

die() {
  echo "install.sh: $*" >&2
  exit 1
}

detect_target() {
  local os machine
  os="$(uname -s)"
  machine="$(uname -m)"
  if [[ "$os" == Darwin ]]; then
    die "this installs the agent hooks, which run on Linux: on a Mac, download bk-ssm-secrets-darwin-$( [[ "$machine" == x86_64 ]] && echo x64 || echo arm64) from the release for the operator commands (put, ls, doctor)"
  fi
  [[ "$os" == Linux ]] || die "unsupported operating system $os: bk-ssm-secrets runs on Linux"
  case "$machine" in
    x86_64 | amd64) echo linux-x64 ;;
    aarch64 | arm64) echo linux-arm64 ;;
    *) die "unsupported architecture $machine: releases are built for x86_64 and aarch64" ;;
  esac
}

# fetch URL FILE: download, following redirects (GitHub sends assets from another host).
fetch() {
  local err
  if ! err="$(curl --fail --silent --show-error --location --retry 3 --connect-timeout 10 --output "$2" "$1" 2>&1)"; then
    echo "${err//$'\n'/ }"
    return 1
  fi
}

# verify FILE ASSET: FILE's sha256 must be the one SHA256SUMS lists for ASSET.
verify() {
  local expected actual
  expected="$(awk -v name="$2" '$2 == name || $2 == "*" name { print $1; exit }' "$work_dir/SHA256SUMS")"
  [[ -n "$expected" ]] || die "SHA256SUMS of $version lists no $2: nothing was installed"
  actual="$(sha256sum "$1")"
  actual="${actual%% *}"
  [[ "$actual" == "$expected" ]] || die "checksum mismatch for $2: SHA256SUMS says $expected, the download is $actual; nothing was installed"
}

# enable_agent FILE: exactly one line setting the flag, other lines kept, written atomically.
enable_agent() {
  local file="$1" assignment='^[[:space:]]*(export[[:space:]]+)?AWS_SSM_SECRETS_PLUGIN_ENABLED='
  if [[ -f "$file" ]] && [[ "$(grep -cE "$assignment" "$file")" == 1 ]] && grep -qxF "$ENABLE_LINE" "$file"; then
    echo "The agent already has AWS_SSM_SECRETS_PLUGIN_ENABLED=1 in $file"
    return
  fi
  env_tmp="$(mktemp "$file.XXXXXX")"
  if [[ -f "$file" ]]; then
    chmod --reference="$file" "$env_tmp"
    chown --reference="$file" "$env_tmp"
    grep -vE "$assignment" "$file" >"$env_tmp" || [[ $? == 1 ]]
    # A last line without its newline would run into ours.
    if [[ -s "$env_tmp" && -n "$(tail -c 1 "$env_tmp")" ]]; then echo >>"$env_tmp"; fi
  else
    chmod 0644 "$env_tmp"
  fi
  echo "$ENABLE_LINE" >>"$env_tmp"
  mv -f "$env_tmp" "$file"
  env_tmp=""
  echo "Set AWS_SSM_SECRETS_PLUGIN_ENABLED=1 in $file"
}

# keep_python_hook_script FILE: the Python hook's `pip install` put a script
# of the same name here, which its hooks run. Keep a copy beside ours, so
# that rolling back to the Python hook (docs/migration.md) can put it back.
keep_python_hook_script() {
  local file="$1" kept="$1.python-hook"
  [[ -f "$file" && ! -e "$kept" ]] || return 0
  [[ "$(head -c 2 "$file")" == "#!" ]] && grep -q "bk_ssm_secrets" "$file" || return 0
  cp -p "$file" "$kept"
  echo "Kept the Python hook's $file as $kept (rolling back puts it back: see docs/migration.md)"
}

main() {
  version="$release_version"
  local releases_url="$DEFAULT_RELEASES_URL" bin_dir=/usr/local/bin binary_only=0
  local agent_env_file=/var/lib/buildkite-agent/cfn-env
  local -a install_args=()
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --binary-only) binary_only=1; shift; continue ;;
    esac
    [[ "$1" == --* ]] || die "unexpected argument $1 (see --help)"
    (($# >= 2)) || die "$1 needs a value (see --help)"
    case "$1" in
      --base-path | --default-key | --global-ssh | --hooks-dir | --install-dir | --defaults-file) install_args+=("$1" "$2") ;;
      --version) version="$2" ;;
      --releases-url) releases_url="${2%/}" ;;
      --bin-dir) bin_dir="${2%/}" ;;
      --agent-env-file) agent_env_file="$2" ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift 2
  done

  [[ -n "$version" ]] || die "no version to install: pass --version (this copy of install.sh is not from a release)"
  [[ "$version" =~ ^[0-9A-Za-z.+-]+$ ]] || die "--version $version is not a version number"
  if ((binary_only)) && ((${#install_args[@]})); then die "--binary-only installs no hooks: drop ${install_args[0]}"; fi
  command -v curl >/dev/null || die "curl is required: install it first"
  command -v sha256sum >/dev/null || die "sha256sum (coreutils) is required: install it first"
  local target
  target="$(detect_target)" || exit 1
  [[ -d "$bin_dir" && -w "$bin_dir" ]] || die "cannot write to $bin_dir: run as root, or pass --bin-dir"
  if ! ((binary_only)); then
    local env_dir
    env_dir="$(dirname "$agent_env_file")"
    [[ -d "$env_dir" && -w "$env_dir" ]] || die "cannot write to $env_dir for the agent's environment file: is the Buildkite agent installed? Pass --agent-env-file FILE, or --binary-only"
  fi

  local base="$releases_url/v$version" asset="bk-ssm-secrets-$target" installed="$bin_dir/bk-ssm-secrets" err
  echo "Installing bk-ssm-secrets $version ($target) from $base"
  trap cleanup EXIT
  work_dir="$(mktemp -d)"
  err="$(fetch "$base/SHA256SUMS" "$work_dir/SHA256SUMS")" || die "could not download $base/SHA256SUMS ($err): check the version and the releases URL; nothing was installed"

  # Staged beside its final name, so the move into place is one atomic rename;
  # and run from there, since /tmp may be mounted noexec.
  staged="$(mktemp "$bin_dir/.bk-ssm-secrets.XXXXXX")"
  if command -v gzip >/dev/null && fetch "$base/$asset.gz" "$work_dir/$asset.gz" >/dev/null; then
    verify "$work_dir/$asset.gz" "$asset.gz"
    gzip -dc "$work_dir/$asset.gz" >"$staged" || die "could not decompress $asset.gz: nothing was installed"
  else
    # A mirror may carry only the uncompressed binaries.
    err="$(fetch "$base/$asset" "$staged")" || die "could not download $base/$asset ($err): nothing was installed"
  fi
  verify "$staged" "$asset"
  chmod 0755 "$staged"
  local reported
  reported="$("$staged" --version 2>&1)" || die "the downloaded $asset does not run on this machine (${reported//$'\n'/ }): nothing was installed"
  [[ "$reported" == "$version" ]] || die "the downloaded $asset reports version ${reported//$'\n'/ }, not $version: nothing was installed"

  # Keep the current binary under a second name until the install step has
  # worked, so a failure can put it back.
  local was="none"
  keep_python_hook_script "$installed"
  if [[ -e "$installed" ]]; then
    was="$("$installed" --version 2>/dev/null || echo unknown)"
    previous="$bin_dir/.bk-ssm-secrets.previous.$$"
    ln -f "$installed" "$previous"
  fi
  mv -f "$staged" "$installed"
  staged=""
  echo "Installed $installed $version (was: $was)"
  if ((binary_only)); then return; fi

  if ! "$installed" install ${install_args[@]+"${install_args[@]}"}; then
    local restored="removed $installed again"
    if [[ -n "$previous" ]]; then
      mv -f "$previous" "$installed"
      previous=""
      restored="put the previous binary ($was) back"
    else
      rm -f "$installed"
    fi
    die "\`bk-ssm-secrets install\` failed (see above): $restored; the agent was not enabled"
  fi
  enable_agent "$agent_env_file"
}

# Everything runs from here, on the last line: a truncated download of this
# script does nothing at all.
main "$@"
