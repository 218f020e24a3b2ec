#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH for the tests, which start their own servers on free loopback
# ports. Installs the Debian package with apt-get when it is missing (sudo only when not root), without
# starting Redis as a system service. Safe to run repeatedly: it does nothing when Redis is installed.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

fail() {
  echo "ensure-redis: $1" >&2
  echo "ensure-redis: the tests need redis-server on PATH; install it (Debian/Ubuntu: apt-get install redis-server) and run again." >&2
  exit 1
}

# shellcheck source=apt.sh
source "$(dirname "$0")/apt.sh"

echo "ensure-redis: redis-server not found; installing the Debian package redis-server" >&2

# policy-rc.d answering 101 tells the package scripts not to start the service: the tests start their own.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  if printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod 755 "$policy"; then
    added_policy=1
  fi
fi
cleanup() {
  if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy" || true; fi
}
trap cleanup EXIT

apt_install redis-server

command -v redis-server >/dev/null 2>&1 || fail "redis-server was installed but is not on PATH."
echo "ensure-redis: $(redis-server --version)" >&2
