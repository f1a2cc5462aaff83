# Starts a throwaway PostgreSQL server for test/postgres.test.ts. Sourced by .ci/run (bash): it
# exports GEECACHE_TEST_PG_URL (postgres://postgres:PASSWORD@127.0.0.1:PORT/geecache_test) and
# GEECACHE_TEST_PG_CTL (an executable that runs pg_ctl on this server: `$GEECACHE_TEST_PG_CTL stop -m fast`,
# `$GEECACHE_TEST_PG_CTL start`), and pushes the stop and the removal of its folder onto CLEANUP.
# It installs Debian's postgresql package when no initdb is found (root only) and never fails CI:
# when it cannot start a server it says why, and the PostgreSQL tests skip.
# Developers: scripts/pg-dev.sh runs this and prints the variables.

_geecache_pg_setup() {
  local bin dir user port password i
  _geecache_pg_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
      dirname "$(readlink -f "$(command -v pg_ctl)")"
      return 0
    fi
    # Debian keeps the server binaries off PATH, one folder per major version.
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
  }

  bin=$(_geecache_pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      echo "postgres: no initdb found and cannot apt-get install postgresql (needs root and apt); the PostgreSQL tests will skip"
      return 0
    fi
    echo "postgres: installing Debian's postgresql package"
    # Only the binaries are wanted: a policy-rc.d that says 101 keeps the package's own cluster
    # (port 5432) from starting and outliving this run; our server is started below with pg_ctl.
    local policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=/usr/sbin/policy-rc.d
      CLEANUP+=("rm -f /usr/sbin/policy-rc.d")
    fi
    if ! { timeout 300 apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=120 postgresql >/dev/null; }; then
      [ -n "$policy" ] && rm -f "$policy"
      echo "postgres: apt-get install postgresql failed; the PostgreSQL tests will skip"
      return 0
    fi
    [ -n "$policy" ] && rm -f "$policy"
    bin=$(_geecache_pg_bin)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
      echo "postgres: postgresql installed but no initdb under /usr/lib/postgresql/*/bin; the PostgreSQL tests will skip"
      return 0
    fi
  fi

  # initdb and postgres refuse to run as root: as root the server runs as the postgres user.
  user=""
  if [ "$(id -u)" -eq 0 ]; then
    user=postgres
    if ! id "$user" >/dev/null 2>&1; then
      useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$user" || { echo "postgres: cannot create the postgres user"; return 0; }
    fi
  fi

  dir=$(mktemp -d "${TMPDIR:-/tmp}/geecache-pg.XXXXXX") || { echo "postgres: mktemp failed"; return 0; }
  chmod 755 "$dir"
  mkdir "$dir/data" "$dir/sock"
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s\n' "$password" >"$dir/pwfile"
  [ -n "$user" ] && chown -R "$user" "$dir"

  # $dir/pg_ctl runs pg_ctl on this data folder as the right user; the tests stop and start the server with it.
  {
    echo '#!/usr/bin/env bash'
    echo 'cd / || exit 1' # the server user may not be allowed into the caller's folder
    if [ -n "$user" ]; then
      printf 'exec runuser -u %q -- %q -D %q -l %q -w "$@"\n' "$user" "$bin/pg_ctl" "$dir/data" "$dir/server.log"
    else
      printf 'exec %q -D %q -l %q -w "$@"\n' "$bin/pg_ctl" "$dir/data" "$dir/server.log"
    fi
  } >"$dir/pg_ctl"
  chmod 755 "$dir/pg_ctl"

  _geecache_pg_as() { if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }
  # TCP logins need the password (scram-sha-256), so the tests see a real password to keep out of messages.
  if ! (cd / && _geecache_pg_as "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth-host=scram-sha-256 --auth-local=trust \
    --locale=C -E UTF8) >"$dir/initdb.log" 2>&1; then
    echo "postgres: initdb failed; the PostgreSQL tests will skip:"
    cat "$dir/initdb.log"
    rm -rf "$dir"
    return 0
  fi
  rm -f "$dir/pwfile"

  # A free loopback port: try a few random ones until the server starts on one.
  for i in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    {
      echo "port = $port"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$dir/sock'"
      echo "fsync = off" # a throwaway server: speed over durability
    } >"$dir/data/postgresql.auto.conf"
    [ -n "$user" ] && chown "$user" "$dir/data/postgresql.auto.conf"
    if "$dir/pg_ctl" start -t 60 >/dev/null 2>&1; then break; fi
    port=""
  done
  if [ -z "$port" ]; then
    echo "postgres: the server did not start; the PostgreSQL tests will skip. Its log:"
    tail -n 20 "$dir/server.log" 2>/dev/null
    rm -rf "$dir"
    return 0
  fi
  CLEANUP+=("$(printf '%q stop -m fast >/dev/null; rm -rf %q' "$dir/pg_ctl" "$dir")")

  if ! "$bin/psql" -h "$dir/sock" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE geecache_test" >/dev/null; then
    echo "postgres: CREATE DATABASE failed; the PostgreSQL tests will skip"
    return 0
  fi
  export GEECACHE_TEST_PG_URL="postgres://postgres:$password@127.0.0.1:$port/geecache_test"
  export GEECACHE_TEST_PG_CTL="$dir/pg_ctl"
  echo "postgres: PostgreSQL $("$bin/postgres" -V | grep -Eo '[0-9]+(\.[0-9]+)*' | head -n 1) on 127.0.0.1:$port, data in $dir/data"
}

_geecache_pg_setup
unset -f _geecache_pg_setup _geecache_pg_bin _geecache_pg_as
return 0 2>/dev/null || true
