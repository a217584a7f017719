#!/usr/bin/env bash
# Starts one Feedline node on the embedded metastore (state under ./data, or $FEEDLINE_DATA_DIR), building
# the fat jar first if it is missing or older than the sources. Extra arguments go to `feedline server`
# (e.g. --port 8400).
#
# When the node holds no changefeed yet, a demo one is created: generated rows (datagen) written as files
# under <data dir>/demo-sink, and the CLI commands to watch it are printed. FEEDLINE_DEMO=0 skips the demo.
# The server stays in the foreground: Ctrl-C (or SIGTERM to this script) stops it cleanly, and the
# script exits with the server's exit code. The node runs with an explicit heap, FEEDLINE_HEAP (default 1g):
# its memory quota of change events is a quarter of it unless --memory-quota says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

JAR=node-runtime/target/feedline.jar
HEAP=${FEEDLINE_HEAP:-1g}
if [ ! -f "$JAR" ] || [ -n "$(find pom.xml */pom.xml */src conf -newer "$JAR" -type f -print -quit 2>/dev/null)" ]; then
  echo "run.sh: building $JAR" >&2
  mvn -B -ntp -q -DskipTests package
fi

if [ "${FEEDLINE_DEMO:-1}" = "0" ]; then
  exec java -Xmx"$HEAP" -jar "$JAR" server --config conf/node.yaml "$@"
fi

DATA_DIR=${FEEDLINE_DATA_DIR:-data}
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$REPO/$DATA_DIR" ;; esac
DEMO_ID=demo
DEMO_SOURCE='datagen://?tables=8&seed=7&rate=50'
DEMO_SINK="file://$DATA_DIR/demo-sink"
mkdir -p "$DATA_DIR"
LOG="$DATA_DIR/run.log"
: > "$LOG"   # empty, and there before tee opens it: its started line must be this run's

# The server's output goes to the terminal and to $LOG (where the started line gives the admin address);
# tee ignores Ctrl-C so that it still shows what the server logs while stopping.
java -Xmx"$HEAP" -jar "$JAR" server --config conf/node.yaml "$@" > >(trap '' INT TERM; exec tee "$LOG") 2>&1 &
SERVER=$!
# A background job of a script ignores Ctrl-C, so the script passes it on as the SIGTERM the node expects.
stop() { kill -TERM "$SERVER" 2>/dev/null || true; }
trap stop INT TERM

cli() { java -jar "$JAR" cli --server "$ADMIN" "$@"; }

ADMIN=""
for _ in $(seq 1 600); do
  if ! kill -0 "$SERVER" 2>/dev/null; then
    break
  fi
  ADMIN=$(sed -n 's/.*event=node_started .*admin=\([^ ]*\).*/\1/p' "$LOG" | head -1)
  [ -n "$ADMIN" ] && break
  sleep 0.1
done

if [ -n "$ADMIN" ] && grep -q 'event=node_started .* tls=true' "$LOG"; then
  echo "run.sh: the admin port uses TLS; no demo changefeed (create one with: cli --tls --ca-cert FILE changefeed create ...)" >&2
elif [ -n "$ADMIN" ]; then
  # The API answers UNAVAILABLE until this node has won the coordinator election.
  existing=""
  for _ in $(seq 1 60); do
    if existing=$(cli changefeed list -o json 2>/dev/null); then
      break
    fi
    existing=""
    sleep 0.5
  done
  if [ "$existing" = "[]" ]; then
    cli changefeed create --id "$DEMO_ID" --source "$DEMO_SOURCE" --sink "$DEMO_SINK" >/dev/null \
      && echo "run.sh: created changefeed '$DEMO_ID': $DEMO_SOURCE -> $DEMO_SINK" >&2
  fi
  S=""
  [ "$ADMIN" = "127.0.0.1:8300" ] || S=" --server $ADMIN"
  cat >&2 <<EOF

run.sh: node up, admin API on $ADMIN (Ctrl-C stops it). The demo writes under $DATA_DIR/demo-sink.
Watch it with the CLI (alias feedline='java -jar $REPO/$JAR'):
  feedline cli$S changefeed list
  feedline cli$S changefeed query --id $DEMO_ID        # run it twice: CHECKPOINT_TS moves
  feedline cli$S changefeed pause --id $DEMO_ID
  feedline cli$S changefeed resume --id $DEMO_ID
  feedline cli$S changefeed remove --id $DEMO_ID
  feedline cli$S node list
  curl -s http://$ADMIN/metrics | grep ^feedline_changefeed

EOF
fi

# `wait` returns early when a trapped signal arrives: wait again until the server has exited, then once
# more for its own exit code (the shell keeps it).
while kill -0 "$SERVER" 2>/dev/null; do
  wait "$SERVER" || true
done
code=0
wait "$SERVER" || code=$?
exit "$code"
