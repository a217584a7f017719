#!/usr/bin/env bash
# Starts one Feedline node on the embedded metastore (state under ./data), building the fat jar first
# if it is missing or older than the sources. Extra arguments go to `feedline server`.
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=node-runtime/target/feedline.jar
if [ ! -f "$JAR" ] || [ -n "$(find pom.xml */pom.xml */src conf -newer "$JAR" -type f -print -quit 2>/dev/null)" ]; then
  echo "run.sh: building $JAR" >&2
  mvn -B -ntp -q -DskipTests package
fi

exec java -jar "$JAR" server --config conf/node.yaml "$@"
