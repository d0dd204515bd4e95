# Sourced by scripts/test-services.sh (so by `make test` and .ci/run): start a private PostgreSQL 15
# cluster for the storage tests and export TEST_DATABASE_URL. Nothing is installed: the Debian
# server binaries must be in /usr/lib/postgresql/15/bin (or PG_BIN). Without them the PostgreSQL
# tests skip and say so. The cluster lives in .pgtest/ (git-ignored), listens on 127.0.0.1 only,
# on PGTEST_PORT (default 54329), and is stopped when the shell that sourced this file exits.

_pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
_pg_dir="${PGTEST_DIR:-$PWD/.pgtest}"
# As root the server runs as the postgres user, who may not be able to reach a checkout under a
# private home directory: then keep the cluster in a directory of its own under /tmp.
if [ -z "${PGTEST_DIR:-}" ] && [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 \
    && ! runuser -u postgres -- test -x "$PWD"; then
  _pg_dir="$(mktemp -d /tmp/utomlans-pgtest.XXXXXX)"
  _pg_remove_dir=1
fi
_pg_port="${PGTEST_PORT:-54329}"

_pg_as_owner() {
  # The server refuses to run as root: run it as the postgres user when we are root.
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "test setup: TEST_DATABASE_URL already set; not starting PostgreSQL" >&2
elif [ ! -x "$_pg_bin/pg_ctl" ]; then
  echo "test setup: no PostgreSQL server in $_pg_bin; the PostgreSQL storage tests will skip" >&2
else
  mkdir -p "$_pg_dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$_pg_dir"; fi
  if [ ! -f "$_pg_dir/data/PG_VERSION" ]; then
    _pg_as_owner "$_pg_bin/initdb" -D "$_pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >"$_pg_dir/initdb.log" 2>&1 \
      || echo "test setup: initdb failed, see $_pg_dir/initdb.log" >&2
  fi
  if _pg_as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" status >/dev/null 2>&1; then
    echo "test setup: PostgreSQL in $_pg_dir already running" >&2
    _pg_started=0
  elif _pg_as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 30 \
      -o "-p $_pg_port -k $_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
    _pg_started=1
  else
    echo "test setup: PostgreSQL did not start, see $_pg_dir/server.log; its tests will skip" >&2
    _pg_started=-1
  fi
  if [ "$_pg_started" != -1 ]; then
    _pg_as_owner "$_pg_bin/psql" -h 127.0.0.1 -p "$_pg_port" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'utomlans_test'" | grep -q 1 \
      || _pg_as_owner "$_pg_bin/createdb" -h 127.0.0.1 -p "$_pg_port" -U postgres utomlans_test
    export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$_pg_port/utomlans_test"
    echo "test setup: PostgreSQL 15 on port $_pg_port (TEST_DATABASE_URL=$TEST_DATABASE_URL)" >&2
    if [ "$_pg_started" = 1 ]; then
      # Stop the server we started when `make test` (the sourcing shell) is done.
      trap '_pg_as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m fast stop >/dev/null 2>&1;
            [ "${_pg_remove_dir:-0}" = 1 ] && rm -rf "$_pg_dir"' EXIT
    fi
  fi
fi
