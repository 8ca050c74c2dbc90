#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through playwright-core (never a downloaded browser).
set -euo pipefail
exec bash "$(dirname "$0")/ensure-debian-package.sh" chromium chromium "browser tests need /usr/bin/chromium"
