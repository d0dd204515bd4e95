# Sourced by `make test`: make the services the tests need available on this machine.
# - Chromium for the browser tests (Debian package), installed when missing.
# - PostgreSQL 15 for the storage tests: started here; TEST_DATABASE_URL points at it.
# A service that cannot be had is reported; the tests that need it then skip and say so.

if ! command -v chromium >/dev/null 2>&1; then
  echo "test setup: installing Debian chromium for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "test setup: could not install chromium; browser tests will skip" >&2
  else
    echo "test setup: not root, cannot install chromium; browser tests will skip" >&2
  fi
fi

if [ -f scripts/start-postgres.sh ]; then
  . scripts/start-postgres.sh
fi
