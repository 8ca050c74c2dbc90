#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (never a downloaded browser).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [[ "$(id -u)" != "0" ]]; then
  echo "Chromium is missing: install Debian's chromium package (browser tests need /usr/bin/chromium)." >&2
  exit 1
fi
echo "Installing Chromium from Debian…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
