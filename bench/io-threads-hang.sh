#!/usr/bin/env bash
# Hang hunt: many short pgbench -S runs against a pgbalancer with listen.io_threads 2 in front of the demo's primary;
# a run that does not finish within 20 s is reported (the lost-query race of BENCHMARKS.md, "Lost query with
# io_threads > 1"). Usage: bench/io-threads-hang.sh [RUNS=120] [JAR=pgbalancer/target/pgbalancer.jar]
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-120}; JAR=${2:-pgbalancer/target/pgbalancer.jar}; PORT=${PORT:-18460}
[ -f pgbalancer/target/pgbalancer.jar ] || ./mvnw -q -B package -DskipTests
W=$(mktemp -d /tmp/pgbalancer-hang.XXXXXX); chmod 755 "$W"
cleanup() { kill "${RP:-}" "${DEMO:-}" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
java -jar pgbalancer/target/pgbalancer.jar demo --port "$PORT" --replicas 0 --pool-size 8 --data-dir "$W/cluster" \
  >"$W/demo.out" 2>"$W/demo.err" </dev/null &
DEMO=$!
for _ in $(seq 1 90); do grep -q listening "$W/demo.err" && break; sleep 1; done
# shellcheck disable=SC1091
source "$W/cluster/cluster.env"
cfg=$(sed -n 's/^ *config: \([^ ]*\).*/\1/p' "$W/demo.out")
sed -e "s/port: $PORT\b/port: $((PORT + 1))/" "$cfg" > "$W/r.yaml"
sed -i 's/^listen: {\(.*\)}/listen: {\1, io_threads: 2}/' "$W/r.yaml"
APP_PASSWORD=app-password java -jar "$JAR" run --config "$W/r.yaml" > "$W/r.out" 2>&1 &
RP=$!
for _ in $(seq 1 60); do grep -q listening "$W/r.out" && break; sleep 1; done
export PGPASSWORD=app-password
"$PG_BIN/pgbench" -i -q -s 2 -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >/dev/null 2>&1
hung=0
for r in $(seq 1 "$RUNS"); do
  if ! timeout 20 "$PG_BIN/pgbench" -S -n -T 2 -c 16 -j 2 -h 127.0.0.1 -p $((PORT + 1)) -U app app > "$W/pgb.out" 2>&1; then
    echo "run $r hung or failed: $(tail -2 "$W/pgb.out")"; hung=$((hung + 1))
  fi
done
echo "hangs: $hung of $RUNS"
