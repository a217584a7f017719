#!/usr/bin/env bash
# Runs the whole test suite: unit tests, metastore contract tests against the embedded store and a
# real etcd, the PostgreSQL sink against a real PostgreSQL, multi-node tests, and the process-level
# tests of the fat jar.
# Extra arguments go to Maven, e.g. scripts/test.sh -Dtest=FenceTest -Dfeedline.seed=42
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests start their own etcd (Debian's etcd-server) and PostgreSQL 15 clusters on free loopback ports.
MISSING=""
[ -x /usr/bin/etcd ] || MISSING="$MISSING etcd-server"
[ -x /usr/lib/postgresql/15/bin/initdb ] || MISSING="$MISSING postgresql-15"
if [ -n "$MISSING" ]; then
  echo "test.sh: installing$MISSING (the metastore and PostgreSQL tests run the real servers)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi

started=$(mktemp)
trap 'rm -f "$started"' EXIT
status=0
mvn -B -ntp verify "$@" || status=$?
# The deterministic simulator's figures (its seeds, seeds/s and what they exercised), kept in surefire's report.
report=simulation/target/surefire-reports/io.feedline.simulation.ThousandSeedsTest-output.txt
if [ "$report" -nt "$started" ]; then
  grep '^simulate:' "$report" || true
fi
exit "$status"
