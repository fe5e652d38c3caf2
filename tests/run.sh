#!/usr/bin/env bash
# The test command: installs what the tests drive (as root, from Debian's packages) and runs
# every test through JBang. Root runs everything; another user skips, with the reason, what
# needs root (OS users, other users' tmux servers, a container).
set -euo pipefail
cd "$(dirname "$0")/.."
# useradd, setpriv, systemd-nspawn and friends live in sbin, which a bare PATH lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v mvn >/dev/null || command -v jbang >/dev/null || missing+=(maven)
command -v systemd-analyze >/dev/null || missing+=(systemd)
# Root only: throwaway OS users, and the reboot test's systemd container.
if [ "$(id -u)" = 0 ]; then
  command -v useradd >/dev/null || missing+=(passwd)
  command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  # The real assistant CLIs (Codex, ...) come from the npm registry, pinned, into the test cache.
  command -v npm >/dev/null || missing+=(npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "tests: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

exec ./jbang --quiet tests/run.java "$@"
