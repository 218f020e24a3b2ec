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

command -v apt-get >/dev/null 2>&1 || fail "redis-server is not installed and apt-get is not available here."

# Root runs apt-get directly; anyone else through sudo, which without a terminal (CI) must not wait
# for a password prompt.
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  fail "redis-server is not installed, and installing it needs root (no sudo found)."
fi
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif [ -t 0 ]; then
    sudo "$@"
  else
    sudo -n "$@"
  fi
}

export DEBIAN_FRONTEND=noninteractive
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

install() {
  as_root apt-get install -y --no-install-recommends redis-server
}
# A fresh machine may have no package lists yet: update once and try again.
if ! install; then
  as_root apt-get update || fail "apt-get update failed."
  install || fail "apt-get install redis-server failed."
fi

command -v redis-server >/dev/null 2>&1 || fail "redis-server was installed but is not on PATH."
echo "ensure-redis: $(redis-server --version)" >&2
