#!/usr/bin/env bash
# Makes sure a Chromium is installed for the dashboard's browser tests, which drive it headless through
# playwright-core (`/usr/bin/chromium`, or $AUTOMCP_CHROMIUM). Installs the Debian package with apt-get
# when it is missing (sudo only when not root). Safe to run repeatedly: it does nothing when it is there.
set -euo pipefail

browser="${AUTOMCP_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  exit 0
fi

fail() {
  echo "ensure-chromium: $1" >&2
  echo "ensure-chromium: the dashboard tests need Chromium at $browser; install it (Debian/Ubuntu: apt-get install chromium) or set AUTOMCP_CHROMIUM to its path." >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "Chromium is not installed and apt-get is not available here."
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  fail "Chromium is not installed, and installing it needs root (no sudo found)."
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
echo "ensure-chromium: $browser not found; installing the Debian package chromium" >&2
install() {
  as_root apt-get install -y --no-install-recommends chromium
}
# A fresh machine may have no package lists yet: update once and try again.
if ! install; then
  as_root apt-get update || fail "apt-get update failed."
  install || fail "apt-get install chromium failed."
fi

[ -x "$browser" ] || fail "chromium was installed but $browser is not there."
echo "ensure-chromium: $("$browser" --version 2>/dev/null || echo installed)" >&2
