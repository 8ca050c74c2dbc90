#!/usr/bin/env bash
# A pool reads Chroma's SQLite (read-only) with Debian's sqlite3 to find the index directories
# Chroma 1.0 leaves behind when a collection is deleted (apps/instance/src/pool/purge-tenant.ts).
set -euo pipefail
if command -v sqlite3 >/dev/null 2>&1; then exit 0; fi
if [[ "$(id -u)" != "0" ]]; then
  echo "sqlite3 is missing: install Debian's sqlite3 package (pool tenant deletion tests need it)." >&2
  exit 1
fi
echo "Installing sqlite3 from Debian…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
