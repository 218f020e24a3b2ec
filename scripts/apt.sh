# Shared by the ensure-*.sh scripts (sourced, not run): root, or sudo that never waits for a password
# without a terminal (CI), and an apt-get install that updates the package lists once when a fresh
# machine has none. The caller defines `fail MESSAGE` first.

# Runs a command as root: directly when root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif [ -t 0 ]; then
    sudo "$@"
  else
    sudo -n "$@"
  fi
}

# Installs Debian packages without their recommendations; `fail`s with what went wrong.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || fail "$1 is not installed and apt-get is not available here."
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    fail "$1 is not installed, and installing it needs root (no sudo found)."
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends "$@"; then
    as_root apt-get update || fail "apt-get update failed."
    as_root apt-get install -y --no-install-recommends "$@" || fail "apt-get install $* failed."
  fi
}
