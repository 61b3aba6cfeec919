#!/usr/bin/env bash
# A/B benchmark: two pgbalancer builds (or two settings of one build) in front of the same demo primary, pgbench -S
# runs alternating between them (A B, then B A, ...), each line: tps, proxy CPU µs per transaction (utime+stime of
# that proxy's process over the run's transactions) and pgbench's average latency. Alternating on one cluster cancels
# most of the drift a shared VM shows between separate runs.
#
# Usage: bench/ab-compare.sh JAR_A JAR_B, configured by environment variables:
#   MODE=simple        pgbench -M
#   IOT=1              listen.io_threads of both
#   TRANSPORT=, TRANSPORT_B=   listen.transport of A, and of B (default: A's)
#   DUR=10 ROUNDS=3 C=16       seconds per run, rounds, pgbench clients (-j 2)
#   WARM=15            seconds of the JIT warm-up run of each side (on a slow 2-CPU VM C2 needs 30-60 s: use 40)
#   REPLICAS=0         streaming replicas of the demo cluster (reads routed to them)
#   JAVA_OPTS=, JAVA_OPTS_B=   JVM options of A, and of B (default: A's)
#   PORT=18450         the demo's pgbalancer port; A and B listen on PORT+1 and PORT+2
set -euo pipefail
cd "$(dirname "$0")/.."
A=$1; B=$2; MODE=${MODE:-simple}; IOT=${IOT:-1}; DUR=${DUR:-10}; ROUNDS=${ROUNDS:-3}; C=${C:-16}
PORT=${PORT:-18450}
JAR=pgbalancer/target/pgbalancer.jar
[ -f "$JAR" ] || ./mvnw -q -B package -DskipTests
W=$(mktemp -d /tmp/pgbalancer-ab.XXXXXX); chmod 755 "$W"
declare -A PID
cleanup() { kill "${PID[A]:-}" "${PID[B]:-}" "${DEMO:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
java -jar "$JAR" demo --port "$PORT" --replicas "${REPLICAS:-0}" --pool-size 8 --data-dir "$W/cluster" \
  >"$W/demo.out" 2>"$W/demo.err" </dev/null &
DEMO=$!
for _ in $(seq 1 90); do grep -q listening "$W/demo.err" && break; sleep 1; done
# shellcheck disable=SC1091
source "$W/cluster/cluster.env"
cfg=$(sed -n 's/^ *config: \([^ ]*\).*/\1/p' "$W/demo.out")
export PGPASSWORD=app-password
"$PG_BIN/pgbench" -i -q -s 10 -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >/dev/null 2>&1
for side in A B; do
  if [ $side = A ]; then port=$((PORT + 1)); jar=$A; t=${TRANSPORT:-}; o=${JAVA_OPTS:-}
  else port=$((PORT + 2)); jar=$B; t=${TRANSPORT_B:-${TRANSPORT:-}}; o=${JAVA_OPTS_B:-${JAVA_OPTS:-}}; fi
  sed -e "s/port: $PORT\b/port: $port/" "$cfg" > "$W/$side.yaml"
  sed -i "s/^listen: {\(.*\)}/listen: {\1, io_threads: $IOT}/" "$W/$side.yaml"
  [ -n "$t" ] && sed -i "s/^listen: {\(.*\)}/listen: {\1, transport: $t}/" "$W/$side.yaml"
  # shellcheck disable=SC2086
  APP_PASSWORD=app-password java $o -jar "$jar" run --config "$W/$side.yaml" > "$W/$side.out" 2>&1 &
  PID[$side]=$!
done
for _ in $(seq 1 60); do grep -q listening "$W/A.out" && grep -q listening "$W/B.out" && break; sleep 1; done
run() { # side seconds
  local port p t0 t1 tx tps
  if [ "$1" = A ]; then port=$((PORT + 1)); else port=$((PORT + 2)); fi
  p=${PID[$1]}
  t0=$(awk '{print $14+$15}' "/proc/$p/stat")
  "$PG_BIN/pgbench" -S -n -T "$2" -c "$C" -j 2 -M "$MODE" -h 127.0.0.1 -p $port -U app app > "$W/pgb.out" 2>&1
  t1=$(awk '{print $14+$15}' "/proc/$p/stat")
  tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$W/pgb.out")
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$W/pgb.out")
  printf "%s tps %7.0f  cpu %5.2f us/txn  avg latency %s\n" "$1" "$tps" \
    "$(echo "($t1-$t0)*1000000/$(getconf CLK_TCK)/$tx" | bc -l)" "$(sed -n 's/^latency average = //p' "$W/pgb.out")"
}
run A "${WARM:-15}" >/dev/null; run B "${WARM:-15}" >/dev/null # JIT warm-up
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run A "$DUR"; run B "$DUR"; else run B "$DUR"; run A "$DUR"; fi
done
