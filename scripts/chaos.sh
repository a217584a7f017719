#!/usr/bin/env bash
# Process-level chaos: a real etcd and 3 `feedline server` processes on loopback replicate datagen → file
# while random nodes are killed with SIGKILL and restarted; then every changefeed is paused and checked
# against the datagen replay, and the recovery time after every kill is printed.
#
#   scripts/chaos.sh [--duration 120] [--changefeeds 3] [--tables 20] [--rate 50] [--interval 8] [--seed N]
#
# Exit status: 0 when every changefeed recovered after every kill and every check found no difference.
# Everything it starts is stopped on any exit (trap), and its files stay under target/chaos-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=120 changefeeds=3 tables=20 rate=50 interval=8 seed=$RANDOM
recovery_limit=${CHAOS_RECOVERY_LIMIT:-90} # seconds a recovery may take before the run counts it as failed
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --changefeeds) changefeeds=$2; shift 2 ;;
    --tables) tables=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chaos.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
RANDOM=$seed
echo "chaos.sh: seed $seed (replay: scripts/chaos.sh --duration $duration --changefeeds $changefeeds --tables $tables --rate $rate --interval $interval --seed $seed)"

JAR=node-runtime/target/feedline.jar
if [ ! -f "$JAR" ] || [ -n "$(find pom.xml */pom.xml */src conf -newer "$JAR" -type f -print -quit 2>/dev/null)" ]; then
  echo "chaos.sh: building $JAR" >&2
  mvn -B -ntp -q -DskipTests package
fi
ETCD=${ETCD:-/usr/bin/etcd}
[ -x "$ETCD" ] || { echo "chaos.sh: $ETCD missing (apt-get install etcd-server)" >&2; exit 2; }

work=$PWD/target/chaos-$(date +%Y%m%d-%H%M%S)
mkdir -p "$work"
cluster_id=chaos-$seed-$$
declare -A node_pid node_port
etcd_pid=""

cleanup() {
  local rc=$?
  for i in "${!node_pid[@]}"; do kill -9 "${node_pid[$i]}" 2>/dev/null || true; done
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "chaos.sh: stopped everything; logs and sinks under $work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}


# Any live node answers admin calls (followers forward to the coordinator).
cli_any() {
  local i
  for i in 1 2 3; do
    if kill -0 "${node_pid[$i]}" 2>/dev/null && java -jar "$JAR" cli --server "127.0.0.1:${node_port[$i]}" "$@" 2>/dev/null; then
      return 0
    fi
  done
  return 1
}

start_node() {
  local i=$1
  node_port[$i]=${node_port[$i]:-$(free_port)}
  FEEDLINE_TIMINGS_SESSION_TTL=5s java -Dhazelcast.wait.seconds.before.join=0 -Dhazelcast.max.wait.seconds.before.join=1 \
    -jar "$JAR" server --etcd "http://127.0.0.1:$etcd_client" --cluster --cluster-id "$cluster_id" \
    --port "${node_port[$i]}" --data-dir "$work/node$i" >>"$work/node$i.log" 2>&1 &
  node_pid[$i]=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS "http://127.0.0.1:${node_port[$i]}/health" >/dev/null 2>&1; do
    kill -0 "${node_pid[$i]}" 2>/dev/null || { echo "chaos.sh: node $i exited at start, see $work/node$i.log" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { echo "chaos.sh: node $i not healthy in 60 s" >&2; return 1; }
    sleep 0.2
  done
}

etcd_client=$(free_port)
etcd_peer=$(free_port)
"$ETCD" --name chaos --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "chaos=http://127.0.0.1:$etcd_peer" >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for i in 1 2 3; do start_node "$i"; done
echo "chaos.sh: etcd on 127.0.0.1:$etcd_client, nodes on ports ${node_port[1]} ${node_port[2]} ${node_port[3]}"

for c in $(seq 1 "$changefeeds"); do
  mkdir -p "$work/sink-$c"
  cli_any changefeed create --id "chaos-$c" --source "datagen://?tables=$tables&seed=$((seed + c))&rate=$rate" \
    --sink "file://$work/sink-$c" >/dev/null
done

# Prints the smallest checkpoint over all changefeeds if every one is normal, else nothing.
min_checkpoint_if_all_normal() {
  cli_any changefeed list --output json | python3 -c '
import json, sys
feeds = json.load(sys.stdin)
if feeds and all(f["state"].lower() == "normal" and not f.get("error") for f in feeds):
    print(min(int(f["checkpointTs"]) for f in feeds))'
}

# Waits until every changefeed is normal with a checkpoint above $1; prints the seconds it took.
await_progress_beyond() {
  local floor=$1 start=$SECONDS current
  while [ $((SECONDS - start)) -lt $recovery_limit ]; do
    current=$(min_checkpoint_if_all_normal || true)
    if [ -n "$current" ] && python3 -c "import sys; sys.exit(0 if $current > $floor else 1)"; then
      echo $((SECONDS - start))
      return 0
    fi
    sleep 0.5
  done
  return 1
}

echo "chaos.sh: waiting for the first checkpoints"
await_progress_beyond 0 >/dev/null || { echo "chaos.sh: changefeeds never reached a checkpoint" >&2; exit 1; }

failures=0
kills=0
end=$((SECONDS + duration))
printf '%-6s %-6s %-22s %s\n' kill node "checkpoint at kill" "recovered after (s)" >"$work/recovery.txt"
while [ $SECONDS -lt "$end" ]; do
  victim=$((RANDOM % 3 + 1))
  floor=$(min_checkpoint_if_all_normal || echo 0)
  kill -9 "${node_pid[$victim]}" 2>/dev/null || true
  wait "${node_pid[$victim]}" 2>/dev/null || true
  kills=$((kills + 1))
  sleep $((RANDOM % 3 + 1))
  start_node "$victim"
  if took=$(await_progress_beyond "${floor:-0}"); then
    printf '%-6s %-6s %-22s %s\n' "$kills" "$victim" "${floor:-0}" "$took" | tee -a "$work/recovery.txt"
  else
    printf '%-6s %-6s %-22s %s\n' "$kills" "$victim" "${floor:-0}" "NOT RECOVERED in ${recovery_limit}s" | tee -a "$work/recovery.txt"
    failures=$((failures + 1))
  fi
  sleep $((interval / 2 + RANDOM % (interval / 2 + 1)))
done

# Pause so that nothing is written while the checker reads; the checkpoint each sink records is final.
for c in $(seq 1 "$changefeeds"); do cli_any changefeed pause --id "chaos-$c" >/dev/null; done
sleep 2
echo "chaos.sh: $kills kills in ${duration}s; recovery times (s, from the kill):"
cat "$work/recovery.txt"
for c in $(seq 1 "$changefeeds"); do
  if java -jar "$JAR" check --source "datagen://?tables=$tables&seed=$((seed + c))&rate=$rate" --sink "file://$work/sink-$c" \
      >"$work/check-$c.txt" 2>&1; then
    echo "chaos.sh: chaos-$c consistent: $(tail -1 "$work/check-$c.txt")"
  else
    echo "chaos.sh: chaos-$c INCONSISTENT (see $work/check-$c.txt):" >&2
    head -20 "$work/check-$c.txt" >&2
    failures=$((failures + 1))
  fi
done
[ "$failures" -eq 0 ] || { echo "chaos.sh: $failures failure(s); replay with seed $seed" >&2; exit 1; }
echo "chaos.sh: passed"
