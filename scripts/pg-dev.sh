#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for test/postgres.test.ts (the same way CI does, through
# .ci/setup.d/postgres.sh) and prints the variables the tests read, so that
#
#   eval "$(scripts/pg-dev.sh)" && bun test test/postgres.test.ts
#
# runs them. The server keeps running; the last line printed is the command that stops it and
# deletes its data. Works as root (the server then runs as the postgres user) or as any user
# with PostgreSQL installed (Debian: apt-get install postgresql).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset GEECACHE_TEST_PG_URL GEECACHE_TEST_PG_CTL
CLEANUP=()
# Its progress goes to stderr: stdout is only what eval should run.
# shellcheck source=../.ci/setup.d/postgres.sh
source .ci/setup.d/postgres.sh >&2
if [ -z "${GEECACHE_TEST_PG_URL:-}" ]; then
  echo "pg-dev: no PostgreSQL server was started (see above)" >&2
  exit 1
fi
printf 'export GEECACHE_TEST_PG_URL=%q\n' "$GEECACHE_TEST_PG_URL"
printf 'export GEECACHE_TEST_PG_CTL=%q\n' "$GEECACHE_TEST_PG_CTL"
echo "# stop it with: ${CLEANUP[*]}"
echo "pg-dev: stop it with: ${CLEANUP[*]}" >&2
