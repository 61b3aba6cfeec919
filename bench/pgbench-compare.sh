#!/usr/bin/env bash
# Benchmark: pgbench -S through direct PostgreSQL, pgbalancer and PgBouncer (transaction pooling, same pool size; both
# proxies log clients in with SCRAM-SHA-256, as PostgreSQL does), in one run. Prints the tps table per mode, then one
# table with every figure (direct, pgbalancer, PgBouncer side by side) and a table of the targets: ratio, goal, met.
#
# What it measures, each target in turn (direct, pgbalancer, PgBouncer[, baseline]):
#   1. tps per mode (-M simple, extended, prepared; -c CLIENTS -j THREADS -T DURATION), and each proxy's CPU time per
#      transaction: utime+stime of the proxy process itself, all its threads (/proc/PID/stat fields 14 and 15; not
#      cutime/cstime, which count the children it reaped: the demo's java process runs pg_ctl and initdb), read before
#      and after the run, in µs (CLK_TCK ticks), divided by the transactions pgbench processed. The PostgreSQL servers
#      are not its children (pg_ctl daemonizes them). A pgbench run that hangs is killed and shows as FAIL.
#   2. One client (-c 1 -j 1, simple): average latency, and the latency each proxy adds over direct, in µs.
#   3. -C, a new connection (SCRAM-SHA-256 login) per transaction, -c CLIENTS: tps and proxy CPU µs per transaction.
#   4. SCALE_TEST: for each CPU set in SCALE_CPUSETS, a pgbalancer instance started under `taskset -c SET` with
#      listen.io_threads = the set's CPU count, and the PgBouncer process (one thread) moved to the same set with
#      `taskset -apc`: tps and CPU µs per transaction of -S simple -c CLIENTS. pgbench and PostgreSQL are not pinned;
#      they share those CPUs. The JVM sizes itself (GC, compiler threads) to the CPU set it starts on.
#   5. MEMORY_TEST: fresh instances of both proxies (clients log in with MEMORY_AUTH; each warmed up with pgbench
#      for MEMORY_WARMUP seconds first), then MEMORY_CLIENTS idle logged-in clients (bench/pg-clients.py, python3
#      asyncio): resident memory (VmRSS) growth per client; then all of them running SELECT 1 in a loop for
#      MEMORY_ACTIVE seconds: peak RSS growth per client, and whether RSS stays bounded (peak of the second half
#      <= 1.1 x peak of the first half).
#      A JVM's RSS growth depends on how much of its heap the warm-up left touched (G1 puts the clients' objects in
#      regions used before): one build read 3.21 and 1.32 KB/client in two runs. The live heap per idle client
#      (MEMORY_HISTOGRAM) is the stable figure to compare builds by.
#
# Usage: bench/pgbench-compare.sh, configured by environment variables:
#   DURATION=10        seconds of each measured pgbench run
#   WARMUP=5           seconds of each JIT warm-up run. Each pgbalancer (the demo's, the baseline, part 4's) first runs
#                      -S simple, at least 4 times, until its CPU µs per transaction of two runs in a row differ by
#                      less than 10% and its JIT compiler threads took under 3% of the last run's
#                      (WARMUP_RUNS=18 at most; the figures are printed), then the demo's and the baseline run each
#                      -C and each mode, in passes, until every mode's run of a pass (not -C's) has the JIT compiler
#                      threads under 3% of its CPU (WARMUP_PASSES=4 at most; a pass's figures are printed). Each
#                      measured pgbalancer run prints what the JIT compiler threads took of its CPU µs/txn (they
#                      count in the process's CPU)
#   CLIENTS=16 THREADS=2  pgbench -c / -j of every run but the one-client latency run
#   ROUNDS=1           runs of each measurement of parts 1-3 per target, the targets' order turned each round; the
#                      tables show the medians (tps, latency, CPU µs/txn each on its own). Single runs on a shared VM
#                      swing by 10-20%; ROUNDS=3 or more is what the ratio targets near 1.0 need
#   POOL_SIZE=8        server connections per pool, for both proxies
#   SCALE=10           pgbench -i scale
#   MODES="simple extended prepared"  pgbench -M protocols measured in part 1
#   REPLICAS=0         0: pgbalancer in front of the primary alone, as PgBouncer is; 2 lets pgbalancer spread the
#                      reads over two streaming replicas (parts 1-4)
#   BASELINE_JAR=      another pgbalancer build (e.g. old/pgbalancer.jar) in front of the same servers: adds a column
#                      for before/after figures (parts 1-3)
#   SCALE_TEST=        1 runs part 4, 0 skips it; default 1 when taskset is installed
#   SCALE_CPUSETS="0 0,1"  CPU sets of part 4 (taskset -c lists); pgbalancer gets as many IO threads as CPUs
#   MEMORY_TEST=0      1 runs part 5 (slow)
#   PARTS="1 2 3 4 5"  the parts to run (and report); part 4 also needs SCALE_TEST=1 and part 5 MEMORY_TEST=1, e.g.
#                      PARTS=5 MEMORY_TEST=1 measures memory alone (no JIT warm-up of the demo's pgbalancer then)
#   MEMORY_CLIENTS=10000  clients of part 5; the open-files limit is raised to fit them
#   MEMORY_AUTH=trust  how part 5's clients log in to both proxies: trust, md5 or scram-sha-256
#   MEMORY_ACTIVE=10   seconds of part 5's active phase
#   MEMORY_SETTLE=3    seconds to wait after the logins before reading RSS
#   MEMORY_GC=0        1: part 5's pgbalancer runs with -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10 and each of its
#                      RSS readings follows a full collection (`jcmd PID GC.run`, then MEMORY_SETTLE s), so the growth
#                      is what the clients keep, not garbage or heap the collector left touched (PgBouncer as always)
#   MEMORY_HISTOGRAM=  a directory: part 5 writes pgbalancer's `jcmd PID GC.class_histogram` there before the clients
#                      (histogram-base.txt) and once they are idle (histogram-idle.txt). Each forces a full GC, which
#                      changes the heap's size: use a run of its own, its RSS figures are not comparable. The
#                      run then also reports pgbalancer's live heap per idle client (the histograms' totals).
#                      native-base.txt and native-idle.txt: `jcmd PID VM.native_memory summary`, which says more
#                      than "not enabled" when JAVA_OPTS has -XX:NativeMemoryTracking=summary
#   MEMORY_WARMUP=10   seconds of pgbench through each fresh proxy before its baseline RSS: a JVM's resident memory
#                      grows while its heap is first touched, which is not per-client memory
#   PROXY_PORT=16432 BOUNCER_PORT=16433 BASELINE_PORT=16434 SCALE_PORT=16435 MEMORY_PROXY_PORT=16436
#   MEMORY_BOUNCER_PORT=16437   ports of pgbalancer (demo), PgBouncer, the baseline, and parts 4 and 5's instances
#   JAVA_OPTS=         options for every JVM started (demo, baseline, parts 4 and 5)
# Needs: the PostgreSQL server binaries (pgbench) and Debian's pgbouncer package (installed if missing and root);
# taskset (util-linux) for part 4, python3 for part 5. As root, PgBouncer runs as the cluster's server user.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}; WARMUP=${WARMUP:-5}; WARMUP_RUNS=${WARMUP_RUNS:-18}; WARMUP_PASSES=${WARMUP_PASSES:-4}
CLIENTS=${CLIENTS:-16}; THREADS=${THREADS:-2}; POOL_SIZE=${POOL_SIZE:-8}; ROUNDS=${ROUNDS:-1}
SCALE=${SCALE:-10}; MODES=${MODES:-"simple extended prepared"}; REPLICAS=${REPLICAS:-0}
PROXY_PORT=${PROXY_PORT:-16432}; BOUNCER_PORT=${BOUNCER_PORT:-16433}; BASELINE_PORT=${BASELINE_PORT:-16434}
SCALE_PORT=${SCALE_PORT:-16435}; MEMORY_PROXY_PORT=${MEMORY_PROXY_PORT:-16436}
MEMORY_BOUNCER_PORT=${MEMORY_BOUNCER_PORT:-16437}
BASELINE_JAR=${BASELINE_JAR:-}
if command -v taskset >/dev/null 2>&1; then SCALE_TEST=${SCALE_TEST:-1}; else SCALE_TEST=${SCALE_TEST:-0}; fi
SCALE_CPUSETS=${SCALE_CPUSETS:-"0 0,1"}
MEMORY_TEST=${MEMORY_TEST:-0}; MEMORY_CLIENTS=${MEMORY_CLIENTS:-10000}; MEMORY_AUTH=${MEMORY_AUTH:-trust}
MEMORY_ACTIVE=${MEMORY_ACTIVE:-10}; MEMORY_SETTLE=${MEMORY_SETTLE:-3}; MEMORY_WARMUP=${MEMORY_WARMUP:-10}
MEMORY_HISTOGRAM=${MEMORY_HISTOGRAM:-}; MEMORY_GC=${MEMORY_GC:-0}
PARTS=${PARTS:-"1 2 3 4 5"}
part() { [[ " $PARTS " == *" $1 "* ]]; } # part N: whether part N runs
part 1 || MODES=""
part 4 || SCALE_TEST=0
part 5 || MEMORY_TEST=0
read -r -a JAVA_OPTS_ARGS <<<"${JAVA_OPTS:-}"
JAR=pgbalancer/target/pgbalancer.jar
CLK_TCK=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/pgbalancer-bench.XXXXXX); chmod 755 "$WORK"
export PGPASSWORD=app-password

case "$MEMORY_AUTH" in trust | md5 | scram-sha-256) ;; *) echo "MEMORY_AUTH: trust, md5 or scram-sha-256" >&2; exit 2 ;; esac
if [ "$SCALE_TEST" = 1 ] && ! command -v taskset >/dev/null 2>&1; then echo "SCALE_TEST=1 needs taskset" >&2; exit 2; fi
if [ "$MEMORY_TEST" = 1 ] && ! command -v python3 >/dev/null 2>&1; then echo "MEMORY_TEST=1 needs python3" >&2; exit 2; fi
if ! command -v pgbouncer >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "pgbouncer is not installed (apt-get install pgbouncer)"; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
[ -f "$JAR" ] || ./mvnw -q -B package -DskipTests

# ---- processes ------------------------------------------------------------------------------------------------------
declare -A SVC_PID # name -> pid of every proxy started after the demo
stop_pid() { # pid: SIGTERM, up to 15 s, then SIGKILL
  kill -0 "$1" 2>/dev/null || return 0
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then kill -KILL "$1" 2>/dev/null || true; fi
  wait "$1" 2>/dev/null || true
}
stop_svc() { # name
  if [ -n "${SVC_PID[$1]:-}" ]; then stop_pid "${SVC_PID[$1]}"; unset "SVC_PID[$1]"; fi
}
cleanup() {
  set +e
  if [ -n "${PGC_PID:-}" ]; then stop_pid "$PGC_PID"; fi
  for name in "${!SVC_PID[@]}"; do stop_svc "$name"; done
  if [ -n "${DEMO_PID:-}" ]; then kill "$DEMO_PID" 2>/dev/null && wait "$DEMO_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_pgbalancer() { # name config [command prefix, e.g. taskset -c 0]: `pgbalancer run`, waits until it listens
  local name=$1 config=$2; shift 2
  APP_PASSWORD=app-password "$@" java "${JAVA_OPTS_ARGS[@]}" -jar "${JARS[$name]:-$JAR}" run --config "$config" \
    >"$WORK/$name.out" 2>&1 </dev/null &
  SVC_PID[$name]=$!
  for _ in $(seq 1 60); do grep -q "listening" "$WORK/$name.out" 2>/dev/null && break; sleep 1; done
  grep -q "listening" "$WORK/$name.out" || { cat "$WORK/$name.out"; exit 1; }
}
declare -A JARS # name -> jar, when not $JAR

# PgBouncer refuses to run as root; run it as the cluster's server user when we are root.
RUN_AS=()
[ "$(id -u)" = 0 ] && RUN_AS=(setpriv --reuid="$(id -u pgbalancer-pg)" --regid="$(id -g pgbalancer-pg)" --clear-groups --)
start_pgbouncer() { # name port auth_type max_client_conn: PgBouncer in front of the primary, waits until it answers
  local name=$1 port=$2
  cat >"$WORK/$name.ini" <<INI
[databases]
app = host=127.0.0.1 port=$PRIMARY_PORT dbname=app
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = $3
auth_file = $WORK/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = $4
logfile =
pidfile =
INI
  echo '"app" "app-password"' >"$WORK/userlist.txt" # plain text: PgBouncer logs in to the server with it too
  chmod 644 "$WORK/$name.ini" "$WORK/userlist.txt"
  "${RUN_AS[@]}" pgbouncer "$WORK/$name.ini" >"$WORK/$name.out" 2>&1 </dev/null & # setpriv execs: same pid
  SVC_PID[$name]=$!
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.2; done
  cat "$WORK/$name.out"; exit 1
}

echo "starting the test cluster and pgbalancer (pool size $POOL_SIZE) ..."
java "${JAVA_OPTS_ARGS[@]}" -jar "$JAR" demo --port "$PROXY_PORT" --pool-size "$POOL_SIZE" --replicas "$REPLICAS" \
  --data-dir "$WORK/cluster" >"$WORK/demo.out" 2>"$WORK/demo.err" </dev/null &
DEMO_PID=$! # the java process, pgbalancer itself (PostgreSQL runs in processes of its own)
for _ in $(seq 1 120); do grep -q "listening" "$WORK/demo.err" 2>/dev/null && break; sleep 1; done
grep -q "listening" "$WORK/demo.err" || { cat "$WORK/demo.err"; exit 1; }
# shellcheck disable=SC1091
source "$WORK/cluster/cluster.env"
PGBENCH="$PG_BIN/pgbench"
DEMO_CONFIG=$(sed -n 's/^ *config: \([^ ]*\).*/\1/p' "$WORK/demo.out")
derive_config() { # file sed-expressions...: the demo's pgbalancer configuration, edited
  local file=$1; shift
  sed "$@" "$DEMO_CONFIG" >"$file"
}

start_pgbouncer pgbouncer "$BOUNCER_PORT" scram-sha-256 1000
BOUNCER_PID=${SVC_PID[pgbouncer]}

TARGETS="direct:$PRIMARY_PORT pgbalancer:$PROXY_PORT pgbouncer:$BOUNCER_PORT"
declare -A PID=([direct]="" [pgbalancer]=$DEMO_PID [pgbouncer]=$BOUNCER_PID)
if [ -n "$BASELINE_JAR" ]; then
  # the same configuration as the demo's pgbalancer, on another port
  derive_config "$WORK/baseline.yaml" -e "s/port: $PROXY_PORT\b/port: $BASELINE_PORT/"
  JARS[baseline]=$BASELINE_JAR
  start_pgbalancer baseline "$WORK/baseline.yaml"
  TARGETS="$TARGETS baseline:$BASELINE_PORT"
  PID[baseline]=${SVC_PID[baseline]}
fi

echo "initializing pgbench data (scale $SCALE) ..."
"$PGBENCH" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >/dev/null 2>&1

# ---- measuring ------------------------------------------------------------------------------------------------------
cpu_ticks() { # pid -> "utime stime" of the process itself (all its threads, not its children), in clock ticks
  local stat f
  stat=$(<"/proc/$1/stat")
  read -r -a f <<<"${stat##*) }" # after "pid (comm) ": f[0] is field 3, so utime (field 14) is f[11], stime f[12]
  echo "${f[11]} ${f[12]}"
}
jit_ticks() { # pid -> utime+stime of its JIT compiler threads (comm "C1 CompilerThre", "C2 CompilerThre"); 0 if none
  local t=0 f stat comm
  local -a x
  for f in /proc/"$1"/task/*; do
    comm=$(cat "$f/comm" 2>/dev/null) || continue
    case "$comm" in C1\ Compiler* | C2\ Compiler*) ;; *) continue ;; esac
    stat=$(cat "$f/stat" 2>/dev/null) || continue
    read -r -a x <<<"${stat##*) }"
    t=$((t + x[11] + x[12]))
  done
  echo "$t"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# a pgbench run that hangs is killed after this many seconds and reported as failed
PGBENCH_TIMEOUT=$(((DURATION > WARMUP ? DURATION : WARMUP) + MEMORY_WARMUP + 60))
# pgb port pid pgbench-options...: one pgbench -S run. Sets TPS (whole number, or FAIL(reason)), LAT (average latency,
# ms), TXNS (transactions processed), US_TXN (CPU µs of process pid per transaction; empty without a pid) and
# SPLIT_TXN (the same as "user / system" µs) and JIT_TXN (of those µs, what the JVM's JIT compiler threads took; 0.0
# for PgBouncer).
pgb() {
  local port=$1 pid=$2 before="0 0" after="0 0" jit0=0 jit1=0 out failed rc=0
  shift 2
  if [ -n "$pid" ]; then before=$(cpu_ticks "$pid"); jit0=$(jit_ticks "$pid"); fi
  out=$(timeout -k 10 "$PGBENCH_TIMEOUT" "$PGBENCH" -S -n "$@" -h 127.0.0.1 -p "$port" -U app app 2>&1) || rc=$?
  if [ -n "$pid" ]; then after=$(cpu_ticks "$pid"); jit1=$(jit_ticks "$pid"); fi
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then out="$out"$'\n'"error: pgbench hung, killed after $PGBENCH_TIMEOUT s"; fi
  TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | tail -1)
  LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' <<<"$out")
  TXNS=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")
  US_TXN=""; SPLIT_TXN=""; JIT_TXN=""
  if [ -z "$TPS" ] || [ "${failed:-0}" != 0 ] || grep -qi "error" <<<"$out"; then
    TPS="FAIL($({ grep -i -m1 "error\|abort\|fatal" <<<"$out" || tail -1 <<<"$out"; } | cut -c1-60))"; LAT=""
    { grep -i -m3 "error\|abort\|fatal" <<<"$out" || tail -3 <<<"$out"; } | sed 's/^/      pgbench: /' >&2 || true
  else
    TPS=$(printf '%.0f' "$TPS")
    if [ -n "$pid" ] && [ "${TXNS:-0}" -gt 0 ]; then
      read -r US_TXN SPLIT_TXN JIT_TXN < <(awk -v b="$before" -v a="$after" -v hz="$CLK_TCK" -v n="$TXNS" \
        -v j="$((jit1 - jit0))" 'BEGIN {
        split(b, x, " "); split(a, y, " "); u = (y[1] - x[1]) * 1e6 / hz / n; s = (y[2] - x[2]) * 1e6 / hz / n
        printf "%.1f %.1f/%.1f %.1f\n", u + s, u, s, j * 1e6 / hz / n }')
    fi
  fi
}

declare -A R U S L # R: tps, U: proxy CPU µs per transaction, S: the same as user/system, L: latency (ms); keyed
# "measurement,target"
measure() { # key label pgbench-options...: runs them against every target, ROUNDS times (the order of the targets
  # turned by one each round); keeps each target's median tps and latency and its median CPU µs/txn (with that run's
  # user/system split); a target with a failed run shows the failure
  local key=$1 label=$2 target name round i
  shift 2
  local -a order
  read -r -a order <<<"$TARGETS"
  local -A runs=() failure=()
  for ((round = 0; round < ROUNDS; round++)); do
    for ((i = 0; i < ${#order[@]}; i++)); do
      target=${order[(i + round) % ${#order[@]}]}
      name=${target%%:*}
      pgb "${target#*:}" "${PID[$name]}" "$@"
      echo "  $label $name: $TPS tps${LAT:+, latency $LAT ms}${US_TXN:+, $US_TXN µs CPU/txn}$(jit_note)"
      if [[ "$TPS" == FAIL* ]]; then failure[$name]=$TPS; continue; fi
      runs[$name]+="$TPS ${LAT:--} ${US_TXN:--} ${SPLIT_TXN:--}"$'\n'
    done
  done
  for target in $TARGETS; do
    name=${target%%:*}
    if [ -n "${failure[$name]:-}" ]; then
      R[$key,$name]=${failure[$name]}; U[$key,$name]=""; S[$key,$name]=""; L[$key,$name]=""
      continue
    fi
    R[$key,$name]=$(median 1 "${runs[$name]}"); L[$key,$name]=$(median 2 "${runs[$name]}")
    read -r U[$key,$name] S[$key,$name] < <(printf '%s' "${runs[$name]}" | sort -g -k3,3 |
      awk '{line[NR] = $3 " " $4} END {print line[int((NR + 1) / 2)]}')
    [ "${U[$key,$name]}" = - ] && U[$key,$name]="" && S[$key,$name]=""
    [ "${L[$key,$name]}" = - ] && L[$key,$name]=""
    if [ "$ROUNDS" -gt 1 ]; then
      echo "  $label $name, median of $ROUNDS: ${R[$key,$name]} tps${U[$key,$name]:+, ${U[$key,$name]} µs CPU/txn}"
    fi
  done
}
jit_note() { # after pgb: what the JIT compiler threads took of the CPU figure, when a JVM's were measured
  case "${JIT_TXN:-0.0}" in 0.0 | "") ;; *) echo " (JIT compiler threads: $JIT_TXN of them)" ;; esac
}
median() { # field lines: the median of that whitespace-separated field over the lines
  printf '%s' "$2" | sort -g -k"$1,$1" | awk -v f="$1" '{v[NR] = $f} END {print v[int((NR + 1) / 2)]}'
}

settle() { # port pid label: JIT warm-up, WARMUP-second -S simple runs, at least 4, until the proxy's CPU µs per
  # transaction of two runs in a row differ by less than 10% and the JIT compiler threads took under 3% of the
  # last one (C2 compiles for 20-60 s on a slow 2-CPU VM, with plateaus, and its threads' CPU counts in the
  # process's; WARMUP_RUNS at most)
  local port=$1 pid=$2 label=$3 i last="" seen=()
  for ((i = 1; i <= WARMUP_RUNS; i++)); do
    pgb "$port" "$pid" -T "$WARMUP" -c "$CLIENTS" -j "$THREADS" -M simple
    seen+=("${US_TXN:-?}${JIT_TXN:+ (JIT $JIT_TXN)}")
    if [ "$i" -ge 4 ] && [ -n "$last" ] && [ -n "$US_TXN" ] && awk -v a="$last" -v b="$US_TXN" -v j="$JIT_TXN" \
      'BEGIN {exit !(b < 1.1 * a && a < 1.1 * b && j < 0.03 * b)}'; then
      break
    fi
    last=$US_TXN
  done
  local IFS=,
  echo "  $label warm-up, CPU µs/txn of each $WARMUP s run (of which the JIT compiler threads'): ${seen[*]}"
}

jit_quiet() { # after pgb: whether the JIT compiler threads took under 3% of the run's CPU µs/txn
  [ -n "$US_TXN" ] && awk -v t="$US_TXN" -v j="${JIT_TXN:-0}" 'BEGIN {exit !(j < 0.03 * t)}'
}

warm_up() {
  echo "warming up pgbalancer's JIT (until its CPU µs/txn settles; then passes of $WARMUP s of -C and of each" \
    "mode, until the JIT compiler threads are quiet in every mode's run of a pass, $WARMUP_PASSES passes at most) ..."
  local port m name pass quiet seen
  for name in pgbalancer ${BASELINE_JAR:+baseline}; do
    if [ "$name" = pgbalancer ]; then port=$PROXY_PORT; else port=$BASELINE_PORT; fi
    settle "$port" "${PID[$name]}" "$name"
    # each mode compiles code of its own, and running another mode afterwards can make C2 compile the first one's
    # code again: a measured simple run right after the other modes' warm-up once included 7 µs/txn of JIT work
    for ((pass = 1; pass <= WARMUP_PASSES; pass++)); do
      # -C first, and not waited for: a few hundred logins per run reach C2's thresholds slowly (its JIT share falls
      # from half to a tenth over a minute of -C alone), its target is met by far either way, and the compilations
      # it queues run on into the next run, which is a mode's, which must then be quiet
      pgb "$port" "${PID[$name]}" -C -T "$WARMUP" -c "$CLIENTS" -j "$THREADS" -M simple
      quiet=1; seen=" -C ${US_TXN:-?} (JIT ${JIT_TXN:-?})"
      for m in $MODES; do
        pgb "$port" "${PID[$name]}" -T "$WARMUP" -c "$CLIENTS" -j "$THREADS" -M "$m"
        jit_quiet || quiet=0
        seen+=", $m ${US_TXN:-?} (JIT ${JIT_TXN:-?})"
      done
      echo "  $name warm-up pass $pass, CPU µs/txn (of which the JIT compiler threads'):$seen"
      if [ "$quiet" = 1 ]; then break; fi
    done
    if [ "$quiet" = 0 ]; then
      echo "  warning: $name's JIT still compiled after $WARMUP_PASSES passes; its CPU figures include that work"
    fi
  done
}

measure_modes() { # part 1
  local m
  for m in $MODES; do measure "$m" "$m" -T "$DURATION" -c "$CLIENTS" -j "$THREADS" -M "$m"; done
}

measure_one_client() { # part 2
  measure c1 "c=1 simple" -T "$DURATION" -c 1 -j 1 -M simple
}

measure_connect() { # part 3
  measure connect "-C simple" -C -T "$DURATION" -c "$CLIENTS" -j "$THREADS" -M simple
}

cpu_count() { # taskset CPU list (0,2-3) -> number of CPUs
  local n=0 part parts
  IFS=, read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ "$part" == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
  done
  echo "$n"
}

measure_scale() { # part 4
  local set n original
  echo "scale: each proxy on the same CPU set; pgbench and PostgreSQL are not pinned and share those CPUs ..."
  original=$(taskset -pc "$BOUNCER_PID" | sed 's/.*: //')
  for set in $SCALE_CPUSETS; do
    n=$(cpu_count "$set")
    derive_config "$WORK/scale-$n.yaml" \
      -e "s/^listen: {.*}/listen: {host: 127.0.0.1, port: $SCALE_PORT, io_threads: $n}/"
    start_pgbalancer "scale-$n" "$WORK/scale-$n.yaml" taskset -c "$set"
    settle "$SCALE_PORT" "${SVC_PID[scale-$n]}" "taskset -c $set pgbalancer"
    pgb "$SCALE_PORT" "${SVC_PID[scale-$n]}" -T "$DURATION" -c "$CLIENTS" -j "$THREADS" -M simple
    R[scale:$set,pgbalancer]=$TPS; U[scale:$set,pgbalancer]=$US_TXN; S[scale:$set,pgbalancer]=$SPLIT_TXN
    echo "  taskset -c $set, pgbalancer io_threads $n: $TPS tps${US_TXN:+, $US_TXN µs CPU/txn}"
    stop_svc "scale-$n"
    taskset -apc "$set" "$BOUNCER_PID" >/dev/null
    pgb "$BOUNCER_PORT" "$BOUNCER_PID" -T "$DURATION" -c "$CLIENTS" -j "$THREADS" -M simple
    R[scale:$set,pgbouncer]=$TPS; U[scale:$set,pgbouncer]=$US_TXN; S[scale:$set,pgbouncer]=$SPLIT_TXN
    echo "  taskset -c $set, pgbouncer (1 thread): $TPS tps${US_TXN:+, $US_TXN µs CPU/txn}"
  done
  taskset -apc "$original" "$BOUNCER_PID" >/dev/null
}

declare -A M # memory figures, keyed "figure,target"
per_client() { # rss-before rss-after clients -> KB per client
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {if (n > 0) printf "%.2f", (b - a) / n; else print "n/a"}'
}
histogram() { # name pid label: MEMORY_HISTOGRAM/histogram-label.txt, for pgbalancer
  if [ -n "$MEMORY_HISTOGRAM" ] && [ "$1" = pgbalancer ]; then
    mkdir -p "$MEMORY_HISTOGRAM" && jcmd "$2" GC.class_histogram >"$MEMORY_HISTOGRAM/histogram-$3.txt"
    # with -XX:NativeMemoryTracking=summary in JAVA_OPTS: where the rest of the resident memory is
    jcmd "$2" VM.native_memory summary >"$MEMORY_HISTOGRAM/native-$3.txt" 2>&1 || true
  fi
}
collect() { # name pid: with MEMORY_GC=1, a full collection in pgbalancer before an RSS reading
  if [ "$MEMORY_GC" = 1 ] && [ "$1" = pgbalancer ]; then jcmd "$2" GC.run >/dev/null && sleep "$MEMORY_SETTLE"; fi
}
memory_one() { # name port pid: idle then active clients against one proxy
  local name=$1 port=$2 pid=$3 base idle after word ok failed err queries errors lost line rc i
  local -a samples=()
  pgb "$port" "" -T "$MEMORY_WARMUP" -c "$CLIENTS" -j "$THREADS" -M simple # JIT, and the heap gets touched
  echo "  $name: warm-up $TPS tps"
  sleep "$MEMORY_SETTLE"
  collect "$name" "$pid"
  base=$(rss_kb "$pid")
  histogram "$name" "$pid" base
  coproc PGC {
    exec python3 bench/pg-clients.py --port "$port" --count "$MEMORY_CLIENTS" 2>"$WORK/pg-clients-$name.err"
  }
  local from=${PGC[0]} to=${PGC[1]}
  read -r word ok failed err <&"$from" || true
  [ "$word" = ready ] || { cat "$WORK/pg-clients-$name.err"; exit 1; }
  sleep "$MEMORY_SETTLE"
  collect "$name" "$pid"
  idle=$(rss_kb "$pid")
  histogram "$name" "$pid" idle
  M[base,$name]=$base; M[idle,$name]=$idle; M[logins,$name]=$ok
  M[idle_kb,$name]=$(per_client "$base" "$idle" "$ok")
  [ "$failed" = 0 ] && err="" || err=": $err"
  echo "  $name: $ok idle clients logged in ($failed failed$err); RSS $base -> $idle KB," \
    "${M[idle_kb,$name]} KB per client"
  if [ -n "$MEMORY_HISTOGRAM" ] && [ "$name" = pgbalancer ]; then # live heap: the histograms' Total lines
    M[heap_b,$name]=$(awk -v n="$ok" '/^Total/ {t[++i] = $3} END {if (n > 0) printf "%.0f", (t[2] - t[1]) / n}' \
      "$MEMORY_HISTOGRAM/histogram-base.txt" "$MEMORY_HISTOGRAM/histogram-idle.txt")
    echo "  $name: live heap ${M[heap_b,$name]} B per idle client (class histograms in $MEMORY_HISTOGRAM)"
  fi
  echo "active $MEMORY_ACTIVE" >&"$to"
  for ((i = 0; i < MEMORY_ACTIVE + 120; i++)); do
    rc=0; read -r -t 1 line <&"$from" || rc=$?
    [ "$rc" = 0 ] && break
    [ "$rc" -gt 128 ] || { cat "$WORK/pg-clients-$name.err"; exit 1; } # not a timeout: pg-clients.py died
    samples+=("$(rss_kb "$pid")")
  done
  read -r word queries errors lost err <<<"$line"
  [ "$word" = "done" ] || { cat "$WORK/pg-clients-$name.err"; exit 1; }
  echo quit >&"$to"
  wait "$PGC_PID" 2>/dev/null || true
  unset PGC_PID
  sleep "$MEMORY_SETTLE"
  after=$(rss_kb "$pid")
  M[active,$name]=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
  M[active_kb,$name]=$(per_client "$base" "${M[active,$name]}" "$ok")
  M[bounded,$name]=$(printf '%s\n' "${samples[@]}" | awk '{s[NR] = $1} END {
    for (i = 1; i <= NR; i++) if (i <= NR / 2) { if (s[i] > a) a = s[i] } else if (s[i] > b) b = s[i]
    print (NR >= 2 && b <= 1.1 * a) ? "✓" : "✗" }')
  [ "$err" = - ] && err="" || err=" (first: $err)"
  echo "  $name: $ok active clients for $MEMORY_ACTIVE s: $queries queries, $errors errors, $lost connections" \
    "lost$err; peak RSS ${M[active,$name]} KB, ${M[active_kb,$name]} KB per client over the RSS before;" \
    "RSS samples (KB): ${samples[*]}; after the clients left: $after KB"
}

measure_memory() { # part 5
  local want=$((MEMORY_CLIENTS + 2000))
  if [ "$(ulimit -n)" -lt "$want" ]; then ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; fi
  [ "$(ulimit -n)" -ge "$want" ] || echo "  warning: open files limited to $(ulimit -n), $MEMORY_CLIENTS clients need $want"
  echo "memory: $MEMORY_CLIENTS clients (login: $MEMORY_AUTH), fresh proxies ..."
  derive_config "$WORK/memory.yaml" \
    -e "s/^listen: {.*}/listen: {host: 127.0.0.1, port: $MEMORY_PROXY_PORT}/" \
    -e "s/^  method: .*/  method: $MEMORY_AUTH/" \
    -e "s/checkout_timeout: [^,}]*/checkout_timeout: 120s/" \
    -e "\$a limits: {max_client_connections: $((MEMORY_CLIENTS + 100))}" # 120 s: PgBouncer's query_wait_timeout
  local saved=("${JAVA_OPTS_ARGS[@]}")
  if [ "$MEMORY_GC" = 1 ]; then JAVA_OPTS_ARGS+=(-XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=10); fi
  start_pgbalancer memory-pgbalancer "$WORK/memory.yaml"
  JAVA_OPTS_ARGS=("${saved[@]}")
  memory_one pgbalancer "$MEMORY_PROXY_PORT" "${SVC_PID[memory-pgbalancer]}"
  stop_svc memory-pgbalancer
  start_pgbouncer memory-pgbouncer "$MEMORY_BOUNCER_PORT" "$MEMORY_AUTH" $((MEMORY_CLIENTS + 100))
  memory_one pgbouncer "$MEMORY_BOUNCER_PORT" "${SVC_PID[memory-pgbouncer]}"
  stop_svc memory-pgbouncer
}

if part 1 || part 2 || part 3; then warm_up; fi
measure_modes
if part 2; then measure_one_client; fi
if part 3; then measure_connect; fi
if [ "$SCALE_TEST" = 1 ]; then measure_scale; fi
if [ "$MEMORY_TEST" = 1 ]; then measure_memory; fi

# ---- report ---------------------------------------------------------------------------------------------------------
ratio() { # a b -> a/b with 2 decimals, or n/a
  if [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]] && awk "BEGIN {exit !($2 > 0)}"; then
    awk "BEGIN {printf \"%.2f\", $1 / $2}"
  else echo "n/a"; fi
}
added_us() { # proxy-latency direct-latency (ms) -> µs added
  if [[ "$1" =~ ^[0-9.]+$ && "$2" =~ ^[0-9.]+$ ]]; then awk "BEGIN {printf \"%.0f\", ($1 - $2) * 1000}"; else echo "n/a"; fi
}
met() { # value op goal -> ✓ or ✗, or ? when either is not a number (a run failed)
  if ! [[ "$1" =~ ^-?[0-9.]+$ && "$3" =~ ^-?[0-9.]+$ ]]; then echo "?"
  elif awk "BEGIN {exit !($1 $2 $3)}"; then echo "✓"; else echo "✗"; fi
}
vislen() { # text -> characters it shows (UTF-8 continuation bytes do not count)
  local LC_ALL=C
  local s=$1
  local cont=${s//[^$'\x80'-$'\xbf']/}
  echo $((${#s} - ${#cont}))
}
md_row() { # width:text...: one Markdown table row; a negative width aligns left
  local arg w t n
  printf '|'
  for arg in "$@"; do
    w=${arg%%:*}; t=${arg#*:}; n=$((${w#-} - $(vislen "$t")))
    if [ "$n" -lt 0 ]; then n=0; fi
    if [ "${w:0:1}" = - ]; then printf ' %s%*s |' "$t" "$n" ''; else printf ' %*s%s |' "$n" '' "$t"; fi
  done
  echo
}
md_rule() { # widths...
  local w
  printf '|'
  for w in "$@"; do printf '%s|' "$(printf '%*s' $((${w#-} + 2)) '' | tr ' ' -)"; done
  echo
}
NAMES=$(for t in $TARGETS; do printf '%s ' "${t%%:*}"; done)
FAILURES=() # "target, measurement: reason" of each failed run, listed under the figures table
row() { # label array key: a row of the figures table, a column per target ("—" where there is no figure)
  local -n values=$2
  local name value cells=("-50:$1")
  for name in $NAMES; do
    value=${values[$3,$name]:-—}
    if [[ "$value" == FAIL* ]]; then FAILURES+=("$name, ${1%%:*}: ${value#FAIL}"); value=FAIL; fi
    cells+=("12:$value")
  done
  md_row "${cells[@]}"
}
target() { # label shown-value value op goal goal-text [pgbalancer's figures]: a row of the targets table, met when
  # "value op goal" holds; missed when one of pgbalancer's own figures is missing (its run failed)
  local verdict figure
  verdict=$(met "$3" "$4" "$5")
  for figure in "${@:7}"; do [[ "$figure" =~ ^[0-9.]+$ ]] || verdict="✗"; done
  md_row "-58:$1" "20:$2" "18:$6" "-3:$verdict"
}

echo
echo "pgbench -S -c $CLIENTS -j $THREADS -T $DURATION, scale $SCALE, pool size $POOL_SIZE, $REPLICAS replicas behind pgbalancer, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$MODES" ]; then
  printf '| %-8s | %10s | %10s | %10s | %14s | %14s |\n' mode direct pgbalancer pgbouncer "pgb/pgbouncer" "pgb/direct"
  printf '|%s|%s|%s|%s|%s|%s|\n' ---------- ------------ ------------ ------------ ---------------- ----------------
fi
for m in $MODES; do
  printf '| %-8s | %10s | %10s | %10s | %14s | %14s |\n' "$m" "${R[$m,direct]}" "${R[$m,pgbalancer]}" \
    "${R[$m,pgbouncer]}" "$(ratio "${R[$m,pgbalancer]}" "${R[$m,pgbouncer]}")" \
    "$(ratio "${R[$m,pgbalancer]}" "${R[$m,direct]}")"
done

declare -A ADD # µs of latency a proxy adds over direct, one client
for name in $NAMES; do
  if [ "$name" != direct ]; then ADD[c1,$name]=$(added_us "${L[c1,$name]:-}" "${L[c1,direct]:-}"); fi
done
echo
echo "All figures. CPU µs/txn: the proxy process's utime+stime (all its threads, not its children; $CLK_TCK ticks/s)"
echo "over the transactions of the same run. -C: a new connection, with a SCRAM-SHA-256 login, per transaction."
header=("-50:measurement"); widths=(-50)
for name in $NAMES; do header+=("12:$name"); widths+=(12); done
md_row "${header[@]}"; md_rule "${widths[@]}"
for m in $MODES; do
  row "$m: tps (-c $CLIENTS)" R "$m"
  row "$m: proxy CPU µs/txn" U "$m"
  row "$m: proxy CPU µs/txn, user/system" S "$m"
done
if part 2; then
  row "c=1 simple: latency average, ms" L c1
  row "c=1 simple: latency added over direct, µs" ADD c1
fi
if part 3; then
  row "-C simple: tps (-c $CLIENTS)" R connect
  row "-C simple: proxy CPU µs/txn" U connect
fi
if [ "$SCALE_TEST" = 1 ]; then
  for set in $SCALE_CPUSETS; do
    row "taskset -c $set, $(cpu_count "$set") io_threads: tps" R "scale:$set"
    row "taskset -c $set, $(cpu_count "$set") io_threads: proxy CPU µs/txn" U "scale:$set"
    row "taskset -c $set, $(cpu_count "$set") io_threads: user/system" S "scale:$set"
  done
fi
if [ "$MEMORY_TEST" = 1 ]; then
  row "$MEMORY_CLIENTS idle clients: RSS growth$([ "$MEMORY_GC" = 1 ] && echo " (GC)"), KB/client" M idle_kb
  if [ -n "$MEMORY_HISTOGRAM" ]; then row "$MEMORY_CLIENTS idle clients: live heap, B/client" M heap_b; fi
  row "$MEMORY_CLIENTS active clients: peak RSS growth, KB/client" M active_kb
  row "$MEMORY_CLIENTS active clients: RSS bounded" M bounded
fi
if [ "$SCALE_TEST" = 1 ]; then
  echo "taskset rows: only the proxy is pinned; pgbench and PostgreSQL run on every CPU and share the proxy's."
fi
for f in "${FAILURES[@]}"; do echo "FAIL $f"; done

echo
echo "Targets: pgbalancer's figures from the table above against PgBouncer's and direct's."
md_row "-58:target" "20:value" "18:goal" "-3:met"; md_rule -58 20 18 -3
for m in $MODES; do
  v=$(ratio "${R[$m,pgbalancer]}" "${R[$m,pgbouncer]}")
  case "$m" in
    simple | extended) target "$m: tps pgbalancer / PgBouncer" "$v" "$v" ">=" 1.10 "≥ 1.10" "${R[$m,pgbalancer]}" ;;
    *) md_row "-58:$m: tps pgbalancer / PgBouncer" "20:$v" "18:—" "-3:" ;;
  esac
  if [ "$m" = simple ]; then
    v=$(ratio "${R[$m,pgbalancer]}" "${R[$m,direct]}")
    target "simple: tps pgbalancer / direct" "$v" "$v" ">=" 0.70 "≥ 0.70" "${R[$m,pgbalancer]}"
  fi
  v=$(ratio "${U[$m,pgbalancer]}" "${U[$m,pgbouncer]}")
  target "$m: CPU µs/txn pgbalancer / PgBouncer" "$v" "$v" "<=" 0.90 "≤ 0.90" "${R[$m,pgbalancer]}"
done
if part 2; then
  a=${ADD[c1,pgbalancer]}; b=${ADD[c1,pgbouncer]}
  target "c=1: added latency µs, pgbalancer (PgBouncer)" "$a ($b)" "$a" "<=" "$b" "≤ PgBouncer's" "${R[c1,pgbalancer]}"
fi
if part 3; then
  v=$(ratio "${R[connect,pgbalancer]}" "${R[connect,pgbouncer]}")
  target "-C: tps pgbalancer / PgBouncer" "$v" "$v" ">=" 1.00 "≥ 1.00" "${R[connect,pgbalancer]}"
fi
if [ "$SCALE_TEST" = 1 ]; then
  first=${SCALE_CPUSETS%% *}; last=${SCALE_CPUSETS##* }
  a=$(ratio "${R[scale:$last,pgbalancer]}" "${R[scale:$first,pgbalancer]}")
  b=$(ratio "${R[scale:$last,pgbouncer]}" "${R[scale:$first,pgbouncer]}")
  goal=$(if [[ "$b" =~ ^[0-9.]+$ ]]; then awk "BEGIN {print ($b > 1 ? $b : 1)}"; else echo n/a; fi)
  target "scale: tps on CPUs $last / CPUs $first, pgbalancer (PgBouncer)" "$a ($b)" "$a" ">" "$goal" \
    "> 1, > PgBouncer's" "${R[scale:$first,pgbalancer]}" "${R[scale:$last,pgbalancer]}"
  a=$(ratio "${U[scale:$last,pgbalancer]}" "${U[scale:$first,pgbalancer]}")
  b=$(ratio "${U[scale:$last,pgbouncer]}" "${U[scale:$first,pgbouncer]}")
  md_row "-58:scale: µs/txn on CPUs $last / CPUs $first, pgbalancer (PgBouncer)" "20:$a ($b)" "18:—" "-3:"
fi
if [ "$MEMORY_TEST" = 1 ]; then
  a=${M[idle_kb,pgbalancer]}; b=${M[idle_kb,pgbouncer]}
  target "memory: $MEMORY_CLIENTS idle, KB/client pgbalancer (PgBouncer)" "$a ($b)" "$a" "<=" 1.6 "≤ 1.6" "$a"
  md_row "-58:memory: $MEMORY_CLIENTS active, RSS bounded" "20:${M[bounded,pgbalancer]}" "18:bounded" \
    "-3:${M[bounded,pgbalancer]}"
fi

echo "✓ met, ✗ missed, ? not comparable (a run failed)"

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
