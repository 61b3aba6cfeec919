#!/usr/bin/env bash
# Benchmark: pgbench -S through direct PostgreSQL, pgbalancer and PgBouncer (transaction pooling, same pool size),
# in simple, extended and prepared modes, in one run; prints a table of tps and ratios.
#
# Usage: bench/pgbench-compare.sh            (env: DURATION=10 CLIENTS=16 THREADS=2 POOL_SIZE=8 SCALE=10 MODES="simple extended prepared"
#                                              REPLICAS=0: pgbalancer in front of the primary alone, as PgBouncer is;
#                                              REPLICAS=2 lets pgbalancer spread the reads over two streaming replicas;
#                                              BASELINE_JAR=old/pgbalancer.jar adds a column for another build of
#                                              pgbalancer in front of the same servers, for before/after figures)
# Needs: the PostgreSQL server binaries (pgbench) and Debian's pgbouncer package (installed if missing and root).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}; CLIENTS=${CLIENTS:-16}; THREADS=${THREADS:-2}; POOL_SIZE=${POOL_SIZE:-8}; SCALE=${SCALE:-10}
MODES=${MODES:-"simple extended prepared"}; REPLICAS=${REPLICAS:-0}
PROXY_PORT=${PROXY_PORT:-16432}; BOUNCER_PORT=${BOUNCER_PORT:-16433}; BASELINE_PORT=${BASELINE_PORT:-16434}
BASELINE_JAR=${BASELINE_JAR:-}
WORK=$(mktemp -d /tmp/pgbalancer-bench.XXXXXX); chmod 755 "$WORK"
export PGPASSWORD=app-password

if ! command -v pgbouncer >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "pgbouncer is not installed (apt-get install pgbouncer)"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
[ -f pgbalancer/target/pgbalancer.jar ] || ./mvnw -q -B package -DskipTests

cleanup() {
  [ -n "${BOUNCER_PID:-}" ] && kill "$BOUNCER_PID" 2>/dev/null || true
  [ -n "${BASELINE_PID:-}" ] && kill "$BASELINE_PID" 2>/dev/null && wait "$BASELINE_PID" 2>/dev/null || true
  [ -n "${DEMO_PID:-}" ] && kill "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "starting the test cluster and pgbalancer (pool size $POOL_SIZE) ..."
java ${JAVA_OPTS:-} -jar pgbalancer/target/pgbalancer.jar demo --port "$PROXY_PORT" --pool-size "$POOL_SIZE" --replicas "$REPLICAS" \
  --data-dir "$WORK/cluster" >"$WORK/demo.out" 2>"$WORK/demo.err" </dev/null &
DEMO_PID=$!
for _ in $(seq 1 120); do grep -q "listening" "$WORK/demo.err" 2>/dev/null && break; sleep 1; done
grep -q "listening" "$WORK/demo.err" || { cat "$WORK/demo.err"; exit 1; }
# shellcheck disable=SC1091
source "$WORK/cluster/cluster.env"
PGBENCH="$PG_BIN/pgbench"

# PgBouncer refuses to run as root; run it as the cluster's server user when we are root.
cat >"$WORK/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$PRIMARY_PORT dbname=app
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = plain
auth_file = $WORK/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 1000
logfile =
pidfile =
INI
echo '"app" "app-password"' >"$WORK/userlist.txt"
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(setpriv --reuid="$(id -u pgbalancer-pg)" --regid="$(id -g pgbalancer-pg)" --clear-groups --)
chmod 644 "$WORK/pgbouncer.ini" "$WORK/userlist.txt"
"${RUN_AS[@]}" pgbouncer "$WORK/pgbouncer.ini" >"$WORK/pgbouncer.out" 2>&1 &
BOUNCER_PID=$!
sleep 1

TARGETS="direct:$PRIMARY_PORT pgbalancer:$PROXY_PORT pgbouncer:$BOUNCER_PORT"
if [ -n "$BASELINE_JAR" ]; then
  # the same configuration as the demo's pgbalancer, on another port
  demo_config=$(sed -n 's/^ *config: \([^ ]*\).*/\1/p' "$WORK/demo.out")
  sed "s/port: $PROXY_PORT\b/port: $BASELINE_PORT/" "$demo_config" >"$WORK/baseline.yaml"
  APP_PASSWORD=app-password java ${JAVA_OPTS:-} -jar "$BASELINE_JAR" run --config "$WORK/baseline.yaml" >"$WORK/baseline.out" 2>&1 </dev/null &
  BASELINE_PID=$!
  for _ in $(seq 1 60); do grep -q "listening" "$WORK/baseline.out" 2>/dev/null && break; sleep 1; done
  grep -q "listening" "$WORK/baseline.out" || { cat "$WORK/baseline.out"; exit 1; }
  TARGETS="$TARGETS baseline:$BASELINE_PORT"
fi

echo "initializing pgbench data (scale $SCALE) ..."
"$PGBENCH" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >/dev/null 2>&1

run() { # port mode seconds -> tps or FAIL(reason)
  local out
  out=$("$PGBENCH" -S -n -T "$3" -c "$CLIENTS" -j "$THREADS" -M "$2" -h 127.0.0.1 -p "$1" -U app app 2>&1) || true
  local tps; tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -1)
  local failed; failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  if [ -z "$tps" ] || [ "${failed:-0}" != 0 ] || echo "$out" | grep -q "error"; then
    echo "FAIL($(echo "$out" | grep -m1 -i error | cut -c1-60))"
  else
    printf '%.0f' "$tps"
  fi
}

echo "warming up pgbalancer's JIT ..."
for m in $MODES; do
  run "$PROXY_PORT" "$m" 5 >/dev/null
  [ -n "$BASELINE_JAR" ] && run "$BASELINE_PORT" "$m" 5 >/dev/null
done

declare -A R
for m in $MODES; do
  for target in $TARGETS; do
    R[$m,${target%%:*}]=$(run "${target#*:}" "$m" "$DURATION")
    echo "  $m ${target%%:*}: ${R[$m,${target%%:*}]}"
  done
done

ratio() { if [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]]; then awk "BEGIN{printf \"%.2f\", $1/$2}"; else echo "n/a"; fi; }
echo
echo "pgbench -S -c $CLIENTS -j $THREADS -T $DURATION, scale $SCALE, pool size $POOL_SIZE, $REPLICAS replicas behind pgbalancer, $(nproc) cores, $(date -u +%Y-%m-%d)"
printf '| %-8s | %10s | %10s | %10s | %14s | %14s |\n' mode direct pgbalancer pgbouncer "pgb/pgbouncer" "pgb/direct"
printf '|%s|%s|%s|%s|%s|%s|\n' ---------- ------------ ------------ ------------ ---------------- ----------------
for m in $MODES; do
  printf '| %-8s | %10s | %10s | %10s | %14s | %14s |\n' "$m" "${R[$m,direct]}" "${R[$m,pgbalancer]}" \
    "${R[$m,pgbouncer]}" "$(ratio "${R[$m,pgbalancer]}" "${R[$m,pgbouncer]}")" \
    "$(ratio "${R[$m,pgbalancer]}" "${R[$m,direct]}")"
done
if [ -n "$BASELINE_JAR" ]; then
  echo
  echo "baseline: $BASELINE_JAR"
  printf '| %-8s | %10s | %10s | %16s | %16s |\n' mode pgbalancer baseline "pgb/baseline" "baseline/pgbouncer"
  printf '|%s|%s|%s|%s|%s|\n' ---------- ------------ ------------ ------------------ ------------------
  for m in $MODES; do
    printf '| %-8s | %10s | %10s | %16s | %16s |\n' "$m" "${R[$m,pgbalancer]}" "${R[$m,baseline]}" \
      "$(ratio "${R[$m,pgbalancer]}" "${R[$m,baseline]}")" "$(ratio "${R[$m,baseline]}" "${R[$m,pgbouncer]}")"
  done
fi
