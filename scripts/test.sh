#!/usr/bin/env bash
# Runs the whole test suite: unit tests, metastore contract tests against the embedded store and a
# real etcd, multi-node tests, and the process-level tests of the fat jar.
# Extra arguments go to Maven, e.g. scripts/test.sh -Dtest=FenceTest -Dfeedline.seed=42
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests start their own etcd (Debian's etcd-server) on free loopback ports.
if [ ! -x /usr/bin/etcd ]; then
  echo "test.sh: installing etcd-server (needed by the metastore tests)" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq etcd-server >/dev/null
fi

exec mvn -B -ntp verify "$@"
