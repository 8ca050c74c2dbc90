#!/usr/bin/env bash
# ensure-debian-package.sh COMMAND PACKAGE WHY: installs Debian's PACKAGE unless COMMAND is on the
# PATH (as root; otherwise says what is missing, and WHY it is needed, and fails).
set -euo pipefail
command="$1" package="$2" why="$3"
if command -v "$command" >/dev/null 2>&1; then exit 0; fi
if [[ "$(id -u)" != "0" ]]; then
  echo "$command is missing: install Debian's $package package ($why)." >&2
  exit 1
fi
echo "Installing $package from Debian…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
