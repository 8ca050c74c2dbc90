#!/usr/bin/env bash
# A pool reads Chroma's SQLite (read-only) with Debian's sqlite3 to find the index directories
# Chroma 1.0 leaves behind when a collection is deleted (apps/instance/src/pool/purge-tenant.ts).
set -euo pipefail
exec bash "$(dirname "$0")/ensure-debian-package.sh" sqlite3 sqlite3 "pool tenant deletion tests need it"
