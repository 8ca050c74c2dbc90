#!/usr/bin/env bash
# Makes sure a PostgreSQL server runs for the tests and prints its admin URL on stdout.
# Uses TEST_DATABASE_URL when set; otherwise, as root on Debian, installs PostgreSQL if missing,
# starts the newest local cluster and creates a `vdb` role that may create databases.
set -euo pipefail

if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  echo "$TEST_DATABASE_URL"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "PostgreSQL tests need TEST_DATABASE_URL=postgres://user:pass@host:port/db (a user that may CREATE DATABASE)," >&2
  echo "or run this as root on Debian to install and start one." >&2
  exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]]; then
  echo "Installing PostgreSQL from Debian…" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  pg_ctlcluster "$version" main start >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')"

for _ in $(seq 1 30); do
  su postgres -c "psql -p $port -tAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qc \"
  do \\\$\\\$ begin
    if not exists (select from pg_roles where rolname = 'vdb') then
      create role vdb login createdb password 'vdb';
    end if;
  end \\\$\\\$;
  grant pg_signal_backend to vdb;\"" >&2

echo "postgres://vdb:vdb@127.0.0.1:${port}/postgres"
