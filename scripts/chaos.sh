#!/usr/bin/env bash
# Process-level chaos: a real etcd and 3 `feedline server` processes on loopback replicate datagen → file
# while random nodes are killed with SIGKILL and restarted; then every changefeed is paused and checked
# against the datagen replay, and the recovery time after every kill is printed.
#
#   scripts/chaos.sh [--duration 120] [--changefeeds 3] [--tables 20] [--rate 50] [--interval 8] [--seed N]
#
# Recovery: the seconds from the kill until every changefeed is normal with a checkpoint past the kill's
# instant (every span written up to it). Exit status: 0 when every changefeed recovered after every kill
# and every check found no difference. Everything it starts is stopped on any exit (trap), and its
# files stay under target/chaos-<time>/. CHAOS_RECOVERY_LIMIT (default 90) bounds a recovery in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=120 changefeeds=3 tables=20 rate=50 interval=8 seed=$RANDOM
recovery_limit=${CHAOS_RECOVERY_LIMIT:-90}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --changefeeds) changefeeds=$2; shift 2 ;;
    --tables) tables=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "chaos.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
RANDOM=$seed
echo "chaos.sh: seed $seed (replay: scripts/chaos.sh --duration $duration --changefeeds $changefeeds --tables $tables --rate $rate --interval $interval --seed $seed)"

JAR=node-runtime/target/feedline.jar
if [ ! -f "$JAR" ] || [ -n "$(find pom.xml */pom.xml */src/main conf -newer "$JAR" -type f -print -quit 2>/dev/null)" ]; then
  echo "chaos.sh: building $JAR" >&2
  mvn -B -ntp -q -DskipTests package
fi
ETCD=${ETCD:-/usr/bin/etcd}
[ -x "$ETCD" ] || { echo "chaos.sh: $ETCD missing (apt-get install etcd-server)" >&2; exit 2; }

work=$PWD/target/chaos-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$work"
cluster_id=chaos-$seed-$$
declare -A node_pid node_port
etcd_pid=""
run_start=$SECONDS

# SIGKILL: nothing it started needs a graceful end, and a process that ignores SIGTERM must not outlive us.
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${node_pid[@]}" $etcd_pid; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "chaos.sh: stopped everything it started ($((SECONDS - run_start)) s); logs and sinks under $work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() {
  [ -n "${node_pid[$1]:-}" ] && kill -0 "${node_pid[$1]}" 2>/dev/null
}

# The admin JSON API of any live node (each forwards to the coordinator's node), tried until $1 seconds
# have passed: a node may be down, or the coordinator moving (503). Extra arguments go to curl. Prints the
# body of the first 2xx answer; a 409 (already exists) counts as done too, for a create that is retried
# after an answer that got lost.
api() {
  local within=$1 method=$2 path=$3; shift 3
  local deadline=$((SECONDS + within)) i out code
  while :; do
    for i in 1 2 3; do
      alive "$i" || continue
      out=$(curl -sS --max-time 10 -X "$method" -w '\n%{http_code}' "$@" \
        "http://127.0.0.1:${node_port[$i]}/api/v1$path" 2>/dev/null) || continue
      code=${out##*$'\n'}
      case $code in 2??|409) printf '%s\n' "${out%$'\n'*}"; return 0 ;; esac
    done
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

start_node() {
  local i=$1
  node_port[$i]=${node_port[$i]:-$(free_port)}
  FEEDLINE_TIMINGS_SESSION_TTL=5s java -Dhazelcast.wait.seconds.before.join=0 -Dhazelcast.max.wait.seconds.before.join=1 \
    -jar "$JAR" server --etcd "http://127.0.0.1:$etcd_client" --cluster --cluster-id "$cluster_id" \
    --port "${node_port[$i]}" --data-dir "$work/node$i" >>"$work/node$i.log" 2>&1 &
  node_pid[$i]=$!
}

await_healthy() {
  local i=$1 deadline=$((SECONDS + 90))
  until curl -fsS --max-time 5 "http://127.0.0.1:${node_port[$i]}/health" >/dev/null 2>&1; do
    alive "$i" || { echo "chaos.sh: node $i exited at start, see $work/node$i.log" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { echo "chaos.sh: node $i not healthy in 90 s" >&2; return 1; }
    sleep 0.2
  done
}

# As a service manager would: a node that exited on its own starts again (a node that loses its metastore
# session rejoins in its own process, so this is reported: it should not happen). etcd is not chaos here:
# if it exits, the run fails at once.
supervise() {
  local i code
  kill -0 "$etcd_pid" 2>/dev/null || { echo "chaos.sh: etcd exited, see $work/etcd.log" >&2; exit 1; }
  for i in 1 2 3; do
    if ! alive "$i"; then
      wait "${node_pid[$i]}" 2>/dev/null && code=0 || code=$?
      echo "chaos.sh: node $i exited by itself (code $code); restarting it" | tee -a "$work/events.txt"
      start_node "$i"
    fi
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
for i in 1 2 3; do await_healthy "$i"; done
echo "chaos.sh: etcd on 127.0.0.1:$etcd_client, nodes on ports ${node_port[1]} ${node_port[2]} ${node_port[3]} (cluster $cluster_id, started in $((SECONDS - run_start)) s)"

for c in $(seq 1 "$changefeeds"); do
  mkdir -p "$work/sink-$c"
  api 60 POST /changefeeds -d "{\"id\":\"chaos-$c\",\"sourceUri\":\"datagen://?tables=$tables&seed=$((seed + c))&rate=$rate\",\"sinkUri\":\"file://$work/sink-$c\"}" \
    >/dev/null || { echo "chaos.sh: cannot create chaos-$c" >&2; exit 1; }
done

# Prints the smallest checkpoint over all changefeeds if every one is normal and without error, else nothing.
min_checkpoint_if_all_normal() {
  local feeds
  feeds=$(api 5 GET /changefeeds) || return 1
  python3 -c '
import json, sys
feeds = json.loads(sys.argv[1])
if len(feeds) == int(sys.argv[2]) and all(f["state"] == "NORMAL" and not f.get("error") for f in feeds):
    print(min(int(f["checkpointTs"]) for f in feeds))' "$feeds" "$changefeeds"
}

# After a recovery that timed out: every changefeed that is not normal, has an error, or has its checkpoint
# at or below $1, with what `changefeed query -o json` says of it (its blockers, once the API reports them)
# and how far its checkpoint is behind the kill's instant.
print_lagging() {
  local floor=$1 feeds id
  feeds=$(api 5 GET /changefeeds) || { echo "chaos.sh:   no node answered the changefeed list"; return 0; }
  for id in $(python3 -c '
import json, sys
floor = int(sys.argv[2])
for f in json.loads(sys.argv[1]):
    if f["state"] != "NORMAL" or f.get("error") or int(f["checkpointTs"]) <= floor:
        print(f["id"])' "$feeds" "$floor"); do
    api 5 GET "/changefeeds/$id" | python3 -c '
import json, sys
q = json.load(sys.stdin)
behind = (int(sys.argv[1]) - int(q["checkpointTs"])) / (1 << 18) / 1000
print("chaos.sh:   lagging %s: checkpoint %.1f s before the kill; query: %s" % (q["id"], behind, json.dumps(q, sort_keys=True)))' "$floor" \
      || echo "chaos.sh:   lagging $id: no answer to its query"
  done
}

# The TSO timestamp of now (physical milliseconds << 18), which datagen's commit timestamps follow.
tso_now() {
  echo $(( $(date +%s%3N) << 18 ))
}

# Waits (restarting nodes that exit by themselves) until every changefeed is normal with a checkpoint
# above $1, for at most $recovery_limit s from $2 (a $SECONDS value); sets `recovered_at` ($SECONDS).
await_checkpoint_beyond() {
  local floor=$1 from=$2 current
  while [ $((SECONDS - from)) -lt "$recovery_limit" ]; do
    supervise
    current=$(min_checkpoint_if_all_normal || true)
    if [ -n "$current" ] && [ "$current" -gt "$floor" ]; then
      recovered_at=$SECONDS
      return 0
    fi
    sleep 0.5
  done
  return 1
}

echo "chaos.sh: waiting for every changefeed to checkpoint past its creation"
await_checkpoint_beyond "$(tso_now)" $SECONDS || { echo "chaos.sh: changefeeds never caught up with the present" >&2; exit 1; }

failures=0
kills=0
recoveries=()
end=$((SECONDS + duration))
printf '%-5s %-5s %-9s %s\n' kill node "at (s)" "recovered after (s)" >"$work/recovery.txt"
while [ $SECONDS -lt "$end" ]; do
  victim=$((RANDOM % 3 + 1))
  killed_at=$SECONDS
  floor=$(tso_now)
  kill -9 "${node_pid[$victim]}" 2>/dev/null || true
  wait "${node_pid[$victim]}" 2>/dev/null || true
  kills=$((kills + 1))
  sleep $((RANDOM % 3 + 1))
  start_node "$victim"
  if await_checkpoint_beyond "$floor" "$killed_at"; then
    took=$((recovered_at - killed_at))
    recoveries+=("$took")
    printf '%-5s %-5s %-9s %s\n' "$kills" "$victim" "$((killed_at - run_start))" "$took" | tee -a "$work/recovery.txt"
  else
    printf '%-5s %-5s %-9s %s\n' "$kills" "$victim" "$((killed_at - run_start))" "NOT RECOVERED in ${recovery_limit}s" | tee -a "$work/recovery.txt"
    print_lagging "$floor" | tee -a "$work/events.txt"
    failures=$((failures + 1))
  fi
  # The next kill finds every node up (a victim that is still starting would just be killed again).
  for i in 1 2 3; do await_healthy "$i" || { supervise; await_healthy "$i"; }; done
  sleep $((interval / 2 + RANDOM % (interval / 2 + 1)))
done

# Pause, and wait until no dispatcher is left, so that nothing writes while the checker reads; the
# checkpoint each sink records is then final.
for c in $(seq 1 "$changefeeds"); do
  api 60 POST "/changefeeds/chaos-$c/pause" >/dev/null || { echo "chaos.sh: cannot pause chaos-$c" >&2; failures=$((failures + 1)); }
done
deadline=$((SECONDS + 60))
until [ "$(api 5 GET /nodes | python3 -c 'import json, sys; print(sum(int(n.get("dispatchers", 0)) for n in json.load(sys.stdin)))' 2>/dev/null)" = 0 ]; do
  [ $SECONDS -lt $deadline ] || { echo "chaos.sh: dispatchers still running 60 s after the pause" >&2; failures=$((failures + 1)); break; }
  sleep 0.5
done
for i in 1 2 3; do kill -9 "${node_pid[$i]}" 2>/dev/null || true; wait "${node_pid[$i]}" 2>/dev/null || true; done

stats=$(printf '%s\n' "${recoveries[@]:-}" | python3 -c '
import statistics, sys
v = sorted(int(x) for x in sys.stdin.read().split())
print(f"min {v[0]} s, median {statistics.median(v):g} s, max {v[-1]} s over {len(v)} recoveries" if v else "no recovery measured")')
echo "chaos.sh: $kills kills in ${duration} s; recovery times (from the kill): $stats"
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
echo "chaos.sh: total $((SECONDS - run_start)) s"
[ "$failures" -eq 0 ] || { echo "chaos.sh: $failures failure(s); replay with seed $seed" >&2; exit 1; }
echo "chaos.sh: passed"
