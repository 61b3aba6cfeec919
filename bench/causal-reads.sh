#!/usr/bin/env bash
# Benchmark: what causal reads cost, per routing.consistency, with reads routed over streaming replicas; prints Markdown.
#
#   1. pgbench -S -c CLIENTS: tps per consistency mode, and the share of transactions that ran on replicas.
#   2. Writers beside readers, same user: pgbench tpcb-like -c WRITERS and pgbench -S -c READERS at once: the readers'
#      share on replicas, their p50/p99 latency, and the writers' tps, per consistency mode.
#   3. tpcb-like alone (-c CLIENTS): tps per mode (the cost of learning commit positions).
# Every mode is a separate pgbalancer process (same jar, same cluster), started from the demo's config with only
# routing.consistency changed; the proxy's CPU time per run comes from /proc (utime+stime, includes its monitor).
#
# Usage: bench/causal-reads.sh   env: MODES="user eventual session global" REPLICAS=3 DURATION=15 CLIENTS=16
#        WRITERS=2 READERS=8 POOL_SIZE=16 SCALE=10 SECTIONS="1 2 3" ROUNDS=3 JAVA_OPTS=...
#        EXTRA_YAML="monitor: {fast_interval: 5ms}" (added to every mode's config)
# Each figure is the median of ROUNDS runs; each round runs the modes in a rotated order, so no mode always goes first.
# Needs: the PostgreSQL server binaries (pgbench); loads 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
MODES=${MODES:-"user eventual session global"}; REPLICAS=${REPLICAS:-3}; DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-16}; WRITERS=${WRITERS:-2}; READERS=${READERS:-8}; POOL_SIZE=${POOL_SIZE:-16}; SCALE=${SCALE:-10}
SECTIONS=${SECTIONS:-"1 2 3"}; DEMO_PORT=${DEMO_PORT:-17400}; ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d /tmp/pgbalancer-causal.XXXXXX); chmod 755 "$WORK"
export PGPASSWORD=app-password APP_PASSWORD=app-password
JAR=pgbalancer/target/pgbalancer.jar
[ -f "$JAR" ] || ./mvnw -q -B package -DskipTests
declare -A PID PORT MPORT

cleanup() {
  for m in "${!PID[@]}"; do kill "${PID[$m]}" 2>/dev/null && wait "${PID[$m]}" 2>/dev/null || true; done
  [ -n "${DEMO_PID:-}" ] && kill "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "starting a primary + $REPLICAS replicas ..." >&2
java ${JAVA_OPTS:-} -jar "$JAR" demo --port "$DEMO_PORT" --pool-size "$POOL_SIZE" --replicas "$REPLICAS" \
  --data-dir "$WORK/cluster" >"$WORK/demo.out" 2>"$WORK/demo.err" </dev/null &
DEMO_PID=$!
for _ in $(seq 1 120); do grep -q "listening" "$WORK/demo.err" 2>/dev/null && break; sleep 1; done
grep -q "listening" "$WORK/demo.err" || { cat "$WORK/demo.err"; exit 1; }
# shellcheck disable=SC1091
source "$WORK/cluster/cluster.env"
PGBENCH="$PG_BIN/pgbench"
"$PGBENCH" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >/dev/null 2>&1

i=0
for m in $MODES; do
  PORT[$m]=$((DEMO_PORT + 1 + i)); MPORT[$m]=$((DEMO_PORT + 50 + i)); i=$((i + 1))
  sed -e "s/^listen: .*/listen: {host: 127.0.0.1, port: ${PORT[$m]}}/" \
      -e "s/^routing: {\(.*\)}/routing: {\1, consistency: $m}/" "$WORK/cluster/pgbalancer-demo.yaml" >"$WORK/$m.yaml"
  echo "http: {host: 127.0.0.1, port: ${MPORT[$m]}}" >>"$WORK/$m.yaml"
  [ -z "${EXTRA_YAML:-}" ] || echo "$EXTRA_YAML" >>"$WORK/$m.yaml"
  java ${JAVA_OPTS:-} -jar "$JAR" run --config "$WORK/$m.yaml" >"$WORK/$m.out" 2>"$WORK/$m.err" </dev/null &
  PID[$m]=$!
done
for m in $MODES; do
  for _ in $(seq 1 60); do grep -q "listening" "$WORK/$m.err" 2>/dev/null && break; sleep 1; done
  grep -q "listening" "$WORK/$m.err" || { cat "$WORK/$m.err"; exit 1; }
done
# the demo keeps the servers (and its own idle pgbalancer) running until this script exits

metric() { # mode name label-filter -> summed value
  curl -s "http://127.0.0.1:${MPORT[$1]}/metrics" | grep "^$2{" | grep -- "$3" | awk '{s += $NF} END {printf "%.0f", s}'
}
cpu() { # mode -> proxy CPU seconds so far
  awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/${PID[$1]}/stat"
}
tps() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -1 | xargs printf '%.0f'; }
share() { awk "BEGIN{ if ($2 > 0) printf \"%.1f%%\", 100 * $1 / $2; else print \"n/a\" }"; }
pct() { # file percentile -> latency ms from pgbench --log files (column 3 is µs)
  sort -n -k3,3 "$1" | awk -v p="$2" '{a[NR] = $3} END {i = int(NR * p); if (i < 1) i = 1; printf "%.2f", a[i] / 1000}'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
rotated() { # round -> the modes, rotated by round
  local -a m=($MODES); local n=${#m[@]} r=$1 k
  for ((k = 0; k < n; k++)); do echo -n "${m[$(((k + r) % n))]} "; done
}
declare -A V   # "section,mode,column" -> space-separated values of all rounds

echo "warming up ..." >&2
for m in $MODES; do "$PGBENCH" -S -n -T 5 -c "$CLIENTS" -j 2 -h 127.0.0.1 -p "${PORT[$m]}" -U app app >/dev/null 2>&1; done

for ((round = 0; round < ROUNDS; round++)); do
  for m in $(rotated $round); do
    echo "round $((round + 1))/$ROUNDS: $m" >&2
    if [[ " $SECTIONS " == *" 1 "* ]]; then
      r0=$(metric "$m" pgbalancer_backend_transactions_total 'role="replica"'); a0=$(metric "$m" pgbalancer_backend_transactions_total ''); c0=$(cpu "$m")
      t=$("$PGBENCH" -S -n -T "$DURATION" -c "$CLIENTS" -j 2 -h 127.0.0.1 -p "${PORT[$m]}" -U app app 2>&1 | tps)
      r1=$(metric "$m" pgbalancer_backend_transactions_total 'role="replica"'); a1=$(metric "$m" pgbalancer_backend_transactions_total ''); c1=$(cpu "$m")
      V[1,$m,tps]+="$t "; V[1,$m,share]+="$(awk "BEGIN{printf \"%.1f\", 100 * ($r1 - $r0) / ($a1 - $a0)}") "
      V[1,$m,cpu]+="$(awk "BEGIN{printf \"%.1f\", 1e6 * ($c1 - $c0) / ($t * $DURATION)}") "
    fi
    if [[ " $SECTIONS " == *" 2 "* ]]; then
      rr0=$(metric "$m" pgbalancer_reads_total 'target="replica"'); ra0=$(metric "$m" pgbalancer_reads_total '')
      w0=$(metric "$m" pgbalancer_reads_total 'reason="after_wait"'); c0=$(cpu "$m")
      rm -rf "$WORK/log"; mkdir -p "$WORK/log"
      ( cd "$WORK/log" && "$PGBENCH" -S -n -T "$DURATION" -c "$READERS" -j 1 -l --log-prefix=r -h 127.0.0.1 -p "${PORT[$m]}" -U app app >"$WORK/readers.out" 2>&1 ) &
      rp=$!
      wt=$("$PGBENCH" -n -T "$DURATION" -c "$WRITERS" -j 1 -h 127.0.0.1 -p "${PORT[$m]}" -U app app 2>&1 | tps)
      wait "$rp"
      cat "$WORK/log"/r.* >"$WORK/lat"
      rr1=$(metric "$m" pgbalancer_reads_total 'target="replica"'); ra1=$(metric "$m" pgbalancer_reads_total '')
      w1=$(metric "$m" pgbalancer_reads_total 'reason="after_wait"'); c1=$(cpu "$m")
      V[2,$m,cpu]+="$(awk "BEGIN{printf \"%.2f\", ($c1 - $c0) / $DURATION}") "
      V[2,$m,rtps]+="$(tps <"$WORK/readers.out") "; V[2,$m,wtps]+="$wt "
      V[2,$m,share]+="$(awk "BEGIN{printf \"%.1f\", 100 * ($rr1 - $rr0) / ($ra1 - $ra0)}") "
      V[2,$m,p50]+="$(pct "$WORK/lat" 0.5) "; V[2,$m,p99]+="$(pct "$WORK/lat" 0.99) "
      V[2,$m,waited]+="$(awk "BEGIN{printf \"%.1f\", ($rr1 > $rr0) ? 100 * ($w1 - $w0) / ($rr1 - $rr0) : 0}") "
    fi
    if [[ " $SECTIONS " == *" 3 "* ]]; then
      c0=$(cpu "$m")
      t=$("$PGBENCH" -n -T "$DURATION" -c "$CLIENTS" -j 2 -h 127.0.0.1 -p "${PORT[$m]}" -U app app 2>&1 | tps)
      c1=$(cpu "$m")
      V[3,$m,tps]+="$t "; V[3,$m,cpu]+="$(awk "BEGIN{printf \"%.1f\", 1e6 * ($c1 - $c0) / ($t * $DURATION)}") "
    fi
  done
done

med() { echo "${V[$1]}" | median; }
echo "$REPLICAS replicas, pool size $POOL_SIZE, scale $SCALE, ${DURATION}s per run, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%Y-%m-%d)"
if [[ " $SECTIONS " == *" 1 "* ]]; then
  echo; echo "1. pgbench -S -c $CLIENTS -j 2 (simple protocol)"
  echo "| consistency | tps | on replicas | proxy CPU µs/txn | tps of each round |"; echo "|---|---|---|---|---|"
  for m in $MODES; do echo "| $m | $(med 1,$m,tps) | $(med 1,$m,share)% | $(med 1,$m,cpu) | ${V[1,$m,tps]}|"; done
fi
if [[ " $SECTIONS " == *" 2 "* ]]; then
  echo; echo "2. writers beside readers: tpcb-like -c $WRITERS and -S -c $READERS at once, same user"
  echo "| consistency | readers tps | readers on replicas | readers p50 ms | readers p99 ms | writers tps | replica reads that waited | proxy CPU (cores) |"
  echo "|---|---|---|---|---|---|---|---|"
  for m in $MODES; do
    echo "| $m | $(med 2,$m,rtps) | $(med 2,$m,share)% | $(med 2,$m,p50) | $(med 2,$m,p99) | $(med 2,$m,wtps) | $(med 2,$m,waited)% | $(med 2,$m,cpu) |"
  done
fi
if [[ " $SECTIONS " == *" 3 "* ]]; then
  echo; echo "3. tpcb-like alone, -c $CLIENTS -j 2"
  echo "| consistency | tps | proxy CPU µs/txn | tps of each round |"; echo "|---|---|---|---|"
  for m in $MODES; do echo "| $m | $(med 3,$m,tps) | $(med 3,$m,cpu) | ${V[3,$m,tps]}|"; done
fi
