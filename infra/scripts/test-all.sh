#!/usr/bin/env bash
# Sets up and runs every test: what the tests need from Debian (PostgreSQL, Chromium, sqlite3, python3), the
# pinned pnpm and the locked dependencies, then lint, typecheck and all test suites.
set -euo pipefail
cd "$(dirname "$0")/../.."

export TURBO_TELEMETRY_DISABLED=1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
PNPM=(npx -y pnpm@10.34.9)

echo "==> PostgreSQL"
TEST_DATABASE_URL="$(bash infra/scripts/ensure-postgres.sh)"
export TEST_DATABASE_URL
echo "    tests use $TEST_DATABASE_URL"

echo "==> Chromium"
bash infra/scripts/ensure-chromium.sh

echo "==> sqlite3"
bash infra/scripts/ensure-sqlite.sh

echo "==> python3"
bash infra/scripts/ensure-debian-package.sh python3 python3 "the console test runs its Python snippet as pasted"

# The tests' scratch files (control planes' PGlite stores, instances' Chroma data, blobs) go to a
# tmpfs when there is one with room (an explicit TMPDIR wins): on these machines' disk, copying the
# 40 MB PGlite template a test store starts from took 0.8 s of kernel time, on /dev/shm 0.08 s.
if [ -z "${TMPDIR:-}" ] && [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
  [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -ge $((4 * 1024 * 1024)) ]; then
  export TMPDIR=/dev/shm/vdb-tests
  mkdir -p "$TMPDIR"
  echo "==> Test scratch files in $TMPDIR (tmpfs)"
fi

# The same install step as `npm start`'s (`pnpm install --frozen-lockfile` when the lockfile or a
# package.json changed since the last one), with its stamp: the start-script test's `npm start`
# then installs nothing while other test files run.
echo "==> Dependencies"
node infra/scripts/start.mjs --install-only

echo "==> Lint (one Biome config for the repo)"
"${PNPM[@]}" exec biome check .

# Two tasks (type-checks and the builds they need) at a time: measured on 2 cores with
# TypeScript 5.9, builds included, 4 min 38 s one at a time against 3 min 26 s two at a time.
# Each is `tsgo -b` (TypeScript 7, README "Developing"): a package reads the declarations of the
# packages it references (their own check wrote them) instead of checking their sources again.
#
# Every build too, the console's and the widget's included (nothing type-checked needs them): the
# start-script test would otherwise make them itself, where here they fill the second lane (that
# test in CI, when it ran alone at the control plane's suite's end: 24–27 s before, ~19 s after;
# this stage stayed at 34 s). With every build current it now runs first, beside the others
# (apps/control-plane/vitest.config.ts).
echo "==> Typecheck and build (every package)"
"${PNPM[@]}" exec turbo run typecheck build --concurrency=2 --output-logs=full

# Tests one package at a time: the suites are CPU-bound, and each runs its own files two at a time.
# Measured on 2 cores, same machine, one run each: two packages' suites at a time (turbo
# --concurrency=2), or the control plane's suite in a lane of its own beside all the others, took
# the same wall time as this (11 min 27–30 s against 11 min 28 s) and 7–10 % more CPU.
echo "==> Tests (every package; stores: PGlite, and PostgreSQL where they differ)"
"${PNPM[@]}" exec turbo run test --concurrency=1 --output-logs=full
