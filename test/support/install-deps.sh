#!/usr/bin/env bash
# Installs the Debian packages the tests run for real (shellcheck, git and its
# http-backend, openssl for a test certificate, the OpenSSH programs, `script`
# for a pseudo-terminal, qemu for the arm64 binary), only those missing.
# Shared by `make test`, `make demo` and CI so a fresh machine needs nothing by hand.
set -euo pipefail

declare -A wanted=(
  [shellcheck]=shellcheck
  [git]=git
  [script]=bsdutils
  [/usr/lib/git-core/git-http-backend]=git
  [openssl]=openssl
  [ssh-agent]=openssh-client
  [sshd]=openssh-server
  [qemu-aarch64]=qemu-user
  [readelf]=binutils # the binaries' glibc needs (test/glibc.e2e.test.ts)
  [curl]=curl        # the install script's downloads
  [strace]=strace    # every execve of a whole job (test/hygiene.e2e.test.ts)
  [/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1]=libc6-arm64-cross
)

missing=()
for program in "${!wanted[@]}"; do
  if [[ "$program" == /* ]]; then [[ -e "$program" ]] && continue
  else PATH="$PATH:/usr/sbin" command -v "$program" >/dev/null && continue
  fi
  missing+=("${wanted[$program]}")
done

if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
