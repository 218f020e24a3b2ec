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

# shellcheck source=apt.sh
source "$(dirname "$0")/apt.sh"

echo "ensure-chromium: $browser not found; installing the Debian package chromium" >&2
apt_install chromium

[ -x "$browser" ] || fail "chromium was installed but $browser is not there."
echo "ensure-chromium: $("$browser" --version 2>/dev/null || echo installed)" >&2
