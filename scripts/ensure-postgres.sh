#!/usr/bin/env bash
# The PostgreSQL store's tests start a throwaway cluster of their own (test/helpers/postgres.ts)
# with initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin. Install Debian's
# postgresql when they are missing and we are root; otherwise stop with what to install. Never
# skip: a missing PostgreSQL is a failed test run. (The harness does the same when mocha is run
# directly on a subset.)
set -euo pipefail
found() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
if found; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: initdb missing; installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y postgresql >/dev/null || { apt-get update >/dev/null && apt-get install -y postgresql >/dev/null; }
  if found; then exit 0; fi
fi
echo "ensure-postgres: no initdb/pg_ctl found. The PostgreSQL store tests need them: run 'apt-get update && apt-get install -y postgresql' as root (Debian/Ubuntu), or put initdb and pg_ctl on PATH." >&2
exit 1
