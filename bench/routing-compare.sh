#!/usr/bin/env bash
# Benchmark: how reads are spread over streaming replicas, pgbalancer vs HAProxy (TCP) vs pgpool-II; prints Markdown tables.
#
#   1. Long-lived connections: LONG_CLIENTS (2) persistent pgbench -S clients through pgbalancer (least-outstanding),
#      HAProxy (mode tcp, balance roundrobin over the replicas: what a Kubernetes Service does) and pgpool-II
#      (streaming replication mode, statement-level load balancing). Each server's share of the transactions is read
#      from the servers themselves (pg_stat_database.xact_commit of db app, before/after, as superuser).
#   2. One slow replica: replica 1's processes get SLOW_CPU_PCT % of one core (cgroup cpu quota; SIGSTOP/SIGCONT duty
#      cycle when cgroups are not writable); pgbench -S -c CLIENTS --log through pgbalancer with balance
#      least-outstanding and with round-robin (separate instances, same cluster): tps, p50/p99 latency, ratio.
#   3. Throughput vs pgpool-II: pgbench -S -c CLIENTS (simple protocol) through pgbalancer and pgpool-II, both in front
#      of the primary and the first 2 replicas: tps and ratio.
#
# Usage: bench/routing-compare.sh
#   env: SECTIONS="1 2 3" REPLICAS=3 DURATION=10 WARMUP=5 CLIENTS=16 THREADS=2 LONG_CLIENTS=2 POOL_SIZE=8 SCALE=10
#        SLOW_CPU_PCT=20 SLOW_METHOD=auto|cgroup|sigstop PGPOOL_CHILDREN=$CLIENTS PGPOOL_STATEMENT_LB=on
#        ROUNDS=3 (section 3: measured rounds, alternating which target goes first; the table shows the median)
#        WAIT_IDLE=300 (before each section, wait up to this many seconds for other processes' CPU use to drop under 15 %;
#                       the report says when the machine was busy anyway)
#        FOREIGN_MAX=10 BUSY_RETRIES=2 (a measured run during which processes that are not ours used >= FOREIGN_MAX % of
#                       the machine's CPU is repeated, after waiting for quiet, up to BUSY_RETRIES times; then flagged)
#        STATS_WAIT=11 (seconds to let idle backends flush their statistics before each pg_stat_database snapshot)
#        PGB_IO_THREADS= (pgbalancer listen.io_threads; default auto)
#        KEEP_WORK=1 (keep the temp dir with all configs and logs) JAVA_OPTS=...
# Needs (root): PostgreSQL server binaries (pgbench, psql), Debian packages haproxy and pgpool2, the `pgbalancer-pg`
# user (created by pgbalancer demo) to run HAProxy/pgpool-II unprivileged. Loads 127.0.0.1 only; stops everything
# it started on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SECTIONS=${SECTIONS:-"1 2 3"}; REPLICAS=${REPLICAS:-3}; DURATION=${DURATION:-10}; WARMUP=${WARMUP:-5}
CLIENTS=${CLIENTS:-16}; THREADS=${THREADS:-2}; LONG_CLIENTS=${LONG_CLIENTS:-2}; POOL_SIZE=${POOL_SIZE:-8}
SCALE=${SCALE:-10}; SLOW_CPU_PCT=${SLOW_CPU_PCT:-20}; SLOW_METHOD=${SLOW_METHOD:-auto}
PGPOOL_CHILDREN=${PGPOOL_CHILDREN:-$CLIENTS}; PGPOOL_STATEMENT_LB=${PGPOOL_STATEMENT_LB:-on}
ROUNDS=${ROUNDS:-3}; WAIT_IDLE=${WAIT_IDLE:-300}; FOREIGN_MAX=${FOREIGN_MAX:-10}; BUSY_RETRIES=${BUSY_RETRIES:-2}; STATS_WAIT=${STATS_WAIT:-11} # PostgreSQL 15 backends that went idle flush their pending statistics within 10 s
CMDLINE="$0${*:+ $*}"
for s in $SECTIONS; do [[ "$s" =~ ^[123]$ ]] || { echo "SECTIONS: unknown section '$s' (expected 1, 2 and/or 3)" >&2; exit 2; }; done
[ "$REPLICAS" -ge 1 ] || { echo "REPLICAS must be >= 1" >&2; exit 2; }
[[ " $SECTIONS " == *" 3 "* && "$REPLICAS" -lt 2 ]] && { echo "section 3 needs REPLICAS >= 2" >&2; exit 2; }
[[ " $SECTIONS " == *" 2 "* && "$REPLICAS" -lt 2 ]] && { echo "section 2 needs REPLICAS >= 2" >&2; exit 2; }
[ "$PGPOOL_CHILDREN" -ge "$CLIENTS" ] || { echo "PGPOOL_CHILDREN must be >= CLIENTS (a pgpool child serves one client)" >&2; exit 2; }

WORK=""
export PGPASSWORD=app-password PGCONNECT_TIMEOUT=10
JAR=pgbalancer/target/pgbalancer.jar
log() { echo "$*" >&2; }
die() { echo "ERROR: $*" >&2; exit 1; }

RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id pgbalancer-pg >/dev/null 2>&1 || die "user pgbalancer-pg does not exist (run pgbalancer demo once, or create it)"
  RUN_AS=(setpriv --reuid="$(id -u pgbalancer-pg)" --regid="$(id -g pgbalancer-pg)" --clear-groups --)
fi
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy); PGPOOL=$(command -v pgpool || echo /usr/sbin/pgpool)
if [[ " $SECTIONS " == *" 1 "* ]]; then [ -x "$HAPROXY" ] || die "haproxy not found (apt-get install haproxy)"; fi
if [[ " $SECTIONS " == *" 1 "* || " $SECTIONS " == *" 3 "* ]]; then [ -x "$PGPOOL" ] || die "pgpool not found (apt-get install pgpool2)"; fi
[ -f "$JAR" ] || ./mvnw -q -B package -DskipTests

# ---- process bookkeeping and cleanup -------------------------------------------------------------------------------
declare -A SVC_PID SVC_LOG   # name -> pid / log file of every service we start (besides the demo)
SLOW_CGROUP=""; SLOW_CGROUP_PARENT=""; DUTY_PID=""; SLOW_PIDS=()

stop_pid() { # pid signal seconds: signal, wait up to seconds, then SIGKILL
  local pid=$1 sig=$2 secs=$3
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_svc() { # name
  local pid=${SVC_PID[$1]:-}; [ -n "$pid" ] || return 0
  case "$1" in *pgpool*) stop_pid "$pid" INT 10 ;; *) stop_pid "$pid" TERM 10 ;; esac
  unset "SVC_PID[$1]"
}
unslow() {
  if [ -n "$DUTY_PID" ]; then stop_pid "$DUTY_PID" TERM 2; DUTY_PID=""; fi
  if [ ${#SLOW_PIDS[@]} -gt 0 ]; then kill -CONT "${SLOW_PIDS[@]}" 2>/dev/null || true; fi
  if [ -n "$SLOW_CGROUP" ] && [ -d "$SLOW_CGROUP" ]; then
    local p
    for p in $(cat "$SLOW_CGROUP/cgroup.procs" 2>/dev/null); do echo "$p" >"$SLOW_CGROUP_PARENT/cgroup.procs" 2>/dev/null || true; done
    rmdir "$SLOW_CGROUP" 2>/dev/null || log "warning: could not remove cgroup $SLOW_CGROUP"
  fi
  SLOW_CGROUP=""; SLOW_PIDS=()
}
cleanup() {
  local rc=$?
  set +e
  unslow
  for name in "${!SVC_PID[@]}"; do stop_svc "$name"; done
  if [ -n "${DEMO_PID:-}" ]; then stop_pid "$DEMO_PID" TERM 60; fi
  if [ -n "$WORK" ]; then
    if [ "${KEEP_WORK:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
WORK=$(mktemp -d /tmp/pgbalancer-routing.XXXXXX); chmod 755 "$WORK" # PostgreSQL runs as pgbalancer-pg and must enter it
cp "$JAR" "$WORK/pgbalancer.jar"; JAR="$WORK/pgbalancer.jar" # a rebuild during the run must not pull the jar from under the JVMs

tail_log() { echo "---- last lines of $1 ----" >&2; tail -n "${2:-30}" "$1" >&2 2>/dev/null || true; echo "----" >&2; }

# ---- ports ----------------------------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=$((20000 + RANDOM % 9000))
alloc_port() { # varname
  while ! port_free "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  printf -v "$1" '%s' "$NEXT_PORT"; NEXT_PORT=$((NEXT_PORT + 1))
}

# ---- cluster --------------------------------------------------------------------------------------------------------
alloc_port DEMO_PORT
log "starting PostgreSQL primary + $REPLICAS replicas (pgbalancer demo) ..."
java ${JAVA_OPTS:-} -jar "$JAR" demo --port "$DEMO_PORT" --pool-size "$POOL_SIZE" --replicas "$REPLICAS" \
  --data-dir "$WORK/cluster" >"$WORK/demo.out" 2>"$WORK/demo.err" </dev/null &
DEMO_PID=$!
for _ in $(seq 1 180); do
  grep -q "listening" "$WORK/demo.err" 2>/dev/null && break
  kill -0 "$DEMO_PID" 2>/dev/null || break
  sleep 1
done
grep -q "listening" "$WORK/demo.err" 2>/dev/null || { tail_log "$WORK/demo.err" 40; die "the test cluster did not start"; }
# shellcheck disable=SC1091
source "$WORK/cluster/cluster.env"
PGBENCH="$PG_BIN/pgbench"; PSQL="$PG_BIN/psql"
IFS=, read -r -a RPORTS <<<"$REPLICA_PORTS"
[ "${#RPORTS[@]}" = "$REPLICAS" ] || die "cluster.env lists ${#RPORTS[@]} replicas, expected $REPLICAS"
ALL_PORTS=("${RPORTS[@]}" "$PRIMARY_PORT")

su_sql() { # port sql  (superuser, database postgres, straight to the server)
  "$PSQL" -X -q -At -h 127.0.0.1 -p "$1" -U "${PG_SUPERUSER:-postgres}" -d postgres -c "$2"
}

log "initializing pgbench data (scale $SCALE) and waiting for the replicas to replay it ..."
"$PGBENCH" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PRIMARY_PORT" -U app app >"$WORK/pgbench-init.log" 2>&1 \
  || { tail_log "$WORK/pgbench-init.log"; die "pgbench -i failed"; }
LSN=$(su_sql "$PRIMARY_PORT" "select pg_current_wal_lsn()")
for p in "${RPORTS[@]}"; do
  ok=0
  for _ in $(seq 1 120); do
    [ "$(su_sql "$p" "select pg_last_wal_replay_lsn() >= '$LSN'::pg_lsn")" = t ] && { ok=1; break; }
    sleep 0.5
  done
  [ $ok = 1 ] || die "replica on port $p did not replay up to $LSN within 60 s"
done
# The cluster's pgbalancer (demo) stays up but idle; every measurement below goes through its own instance.

# ---- starting proxies -----------------------------------------------------------------------------------------------
wait_ready() { # name port: psql "select 1" through the proxy until it answers (60 s)
  local name=$1 port=$2 pid=${SVC_PID[$1]}
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { tail_log "${SVC_LOG[$name]}"; die "$name exited during startup"; }
    "$PSQL" -X -q -At -h 127.0.0.1 -p "$port" -U app -d app -c "select 1" >/dev/null 2>>"$WORK/$name.ready.err" && return 0
    sleep 0.5
  done
  tail_log "$WORK/$name.ready.err" 5; tail_log "${SVC_LOG[$name]}"; die "$name did not answer on port $port within 60 s"
}

start_pgbalancer() { # name port balance replica-ports...
  local name=$1 port=$2 balance=$3; shift 3
  local cfg="$WORK/$name.yaml"
  {
    echo "listen: {host: 127.0.0.1, port: $port${PGB_IO_THREADS:+, io_threads: $PGB_IO_THREADS}}"
    echo "pool: {mode: transaction, size: $POOL_SIZE, checkout_timeout: 30s}"
    echo "auth:"
    echo "  method: scram-sha-256"
    echo "  users:"
    echo "    - {name: app, password: \"\${APP_PASSWORD}\"}"
    echo "backends:"
    echo "  - {host: 127.0.0.1, port: $PRIMARY_PORT, role: primary}"
    for p in "$@"; do echo "  - {host: 127.0.0.1, port: $p, role: replica}"; done
    echo "routing: {balance: $balance, primary_reads: fallback}"
    echo "shutdown: {grace_period: 2s}"
  } >"$cfg"
  SVC_LOG[$name]="$WORK/$name.log"
  APP_PASSWORD=app-password java ${JAVA_OPTS:-} -jar "$JAR" run --config "$cfg" >"${SVC_LOG[$name]}" 2>&1 </dev/null &
  SVC_PID[$name]=$!
  wait_ready "$name" "$port"
}

start_haproxy() { # name port replica-ports...
  local name=$1 port=$2; shift 2
  local cfg="$WORK/$name.cfg" i=0
  {
    printf 'global\n  maxconn 2000\n  nbthread 1\n\n'
    printf 'defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n\n'
    printf 'frontend pg\n  bind 127.0.0.1:%s\n  default_backend replicas\n\n' "$port"
    printf 'backend replicas\n  balance roundrobin\n'
    for p in "$@"; do i=$((i + 1)); printf '  server replica%s 127.0.0.1:%s\n' "$i" "$p"; done
  } >"$cfg"
  chmod 644 "$cfg"
  SVC_LOG[$name]="$WORK/$name.log"
  "${RUN_AS[@]}" "$HAPROXY" -db -f "$cfg" >"${SVC_LOG[$name]}" 2>&1 </dev/null &
  SVC_PID[$name]=$!
  wait_ready "$name" "$port"
}

start_pgpool() { # name port replica-ports...
  local name=$1 port=$2; shift 2
  local dir="$WORK/$name" pcp_port i=1
  alloc_port pcp_port
  mkdir -p "$dir"; chmod 755 "$dir"
  {
    cat <<CONF
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = $port
socket_dir = '$dir'
pcp_listen_addresses = ''
pcp_port = $pcp_port
pcp_socket_dir = '$dir'
pid_file_name = '$dir/pgpool.pid'
logdir = '$dir'
log_destination = 'stderr'
log_min_messages = warning
use_watchdog = off
num_init_children = $PGPOOL_CHILDREN
max_pool = 1
child_life_time = 0
connection_life_time = 0
client_idle_limit = 0
enable_pool_hba = on
pool_passwd = '$dir/pool_passwd'
load_balance_mode = on
statement_level_load_balance = $PGPOOL_STATEMENT_LB
disable_load_balance_on_write = 'transaction'
sr_check_period = 0
sr_check_user = '${PG_SUPERUSER:-postgres}'
health_check_period = 0
failover_on_backend_error = off
memory_cache_enabled = off
backend_hostname0 = '127.0.0.1'
backend_port0 = $PRIMARY_PORT
backend_weight0 = 0
backend_flag0 = 'ALWAYS_PRIMARY|DISALLOW_TO_FAILOVER'
CONF
    for p in "$@"; do
      printf "backend_hostname%s = '127.0.0.1'\nbackend_port%s = %s\nbackend_weight%s = 1\nbackend_flag%s = 'DISALLOW_TO_FAILOVER'\n" \
        "$i" "$i" "$p" "$i" "$i"
      i=$((i + 1))
    done
  } >"$dir/pgpool.conf"
  printf 'local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$dir/pool_hba.conf"
  echo "app:TEXTapp-password" >"$dir/pool_passwd"
  : >"$dir/pcp.conf"
  chmod 644 "$dir"/*.conf; chmod 600 "$dir/pool_passwd"
  [ "$(id -u)" = 0 ] && chown -R pgbalancer-pg: "$dir"
  SVC_LOG[$name]="$WORK/$name.log"
  "${RUN_AS[@]}" "$PGPOOL" -n -D -f "$dir/pgpool.conf" -a "$dir/pool_hba.conf" -F "$dir/pcp.conf" \
    >"${SVC_LOG[$name]}" 2>&1 </dev/null &
  SVC_PID[$name]=$!
  wait_ready "$name" "$port"
}

# ---- measuring ------------------------------------------------------------------------------------------------------
BENCH_OUT=""; BENCH_XACTS=0
bench() { # port clients seconds label [extra pgbench args...] -> sets BENCH_TPS, BENCH_OUT (file); dies on failure
  local port=$1 clients=$2 secs=$3 label=$4; shift 4
  local threads=$THREADS; [ "$clients" -lt "$threads" ] && threads=$clients
  BENCH_OUT="$WORK/pgbench-$label.out"
  local rc=0
  timeout -k 5 $((secs + 60)) "$PGBENCH" -S -n -M simple -c "$clients" -j "$threads" -T "$secs" "$@" \
    -h 127.0.0.1 -p "$port" -U app app >"$BENCH_OUT" 2>&1 || rc=$?
  BENCH_TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$BENCH_OUT" | tail -1)
  local failed; failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$BENCH_OUT")
  if [ $rc != 0 ] || [ -z "$BENCH_TPS" ] || [ "${failed:-0}" != 0 ]; then
    tail_log "$BENCH_OUT" 15
    die "pgbench ($label, port $port) failed (exit $rc)"
  fi
  BENCH_TPS=$(printf '%.0f' "$BENCH_TPS")
  BENCH_XACTS=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$BENCH_OUT")
}
# CPU used during a run by processes that are not part of this benchmark (other jobs sharing the machine).
our_pids() { # descendants of this script and of the cluster's postmasters (pg_ctl detaches them)
  local roots="$$" d
  for d in "$DATA_DIR"/primary "$DATA_DIR"/replica*; do [ -f "$d/postmaster.pid" ] && roots+=" $(head -1 "$d/postmaster.pid")"; done
  ps -e -o pid=,ppid= | awk -v roots="$roots" '{ p[$1] = $2 }
    END { n = split(roots, r, " "); for (i = 1; i <= n; i++) ours[r[i]] = 1
          do { changed = 0; for (x in p) if (!(x in ours) && (p[x] in ours)) { ours[x] = 1; changed = 1 } } while (changed)
          for (x in ours) print x }'
}
# Other work = CPU time the whole machine spent on user and system work (/proc/stat) minus what our processes (and the
# children they reaped) used. Per-process accounting of the others would miss their short-lived processes or
# count a reaped long-lived child all at once.
foreign_sample() { # file: "total <busy jiffies>" then "<pid> <jiffies incl. reaped children>" for each of our processes
  local pid line rest a
  read -r -a a < <(grep '^cpu ' /proc/stat)
  echo "total $((a[1] + a[2] + a[3]))" >"$1"
  for pid in $(our_pids); do
    { read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue # gone already (e.g. the ps above)
    rest=${line##*) }; read -r -a a <<<"$rest"
    echo "$pid $((a[11] + a[12] + a[13] + a[14]))"
  done >>"$1"
}
foreign_pct() { # before-file after-file elapsed-ms -> % of all cores used by other processes in between
  awk -v ms="$3" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" 'NR == FNR { b[$1] = $2; next }
    $1 == "total" { busy = $2 - b["total"]; next }
    { d = ($1 in b) ? $2 - b[$1] : $2; if (d > 0) ours += d }
    END { f = busy - ours; if (f < 0 || ms <= 0) f = 0; printf "%d", 100 * (f / hz) / (ms / 1000.0 * cores) }' "$1" "$2"
}
BENCH_FOREIGN=0; BENCH_FLAG=""
measured() { # snapshot-tag|"" port clients seconds label [pgbench args...]: bench, repeated while other jobs load the machine
  local tag=$1; shift
  local attempt t0 t1
  BENCH_FLAG=""
  for attempt in $(seq 0 "$BUSY_RETRIES"); do
    rm -f "$WORK"/pgblog.*
    [ -n "$tag" ] && settled_snapshot "$tag-before"
    foreign_sample "$WORK/foreign.before"; t0=$(date +%s%3N)
    bench "$@"
    t1=$(date +%s%3N); foreign_sample "$WORK/foreign.after"
    BENCH_FOREIGN=$(foreign_pct "$WORK/foreign.before" "$WORK/foreign.after" $((t1 - t0)))
    if [ -n "$tag" ]; then settled_snapshot "$tag-after"; shares "$tag-before" "$tag-after"; fi
    [ "$BENCH_FOREIGN" -lt "$FOREIGN_MAX" ] && return 0
    log "  other processes used ${BENCH_FOREIGN}% of the machine's CPU during run $4"
    if [ "$attempt" -lt "$BUSY_RETRIES" ]; then wait_quiet "$4"; log "  repeating run $4"; fi
  done
  BENCH_FLAG=" (!)"
  BUSY_NOTES+=("run $4 (marked (!)) shared the machine with other processes using ${BENCH_FOREIGN}% of its CPU even after $BUSY_RETRIES retries: its numbers are noisy")
}
warmup() { # name port
  log "  warming up $1 (${WARMUP} s) ..."
  bench "$2" "$CLIENTS" "$WARMUP" "warmup-$1"
}

declare -A SNAP
snapshot() { # tag: xact_commit of db app on every server
  local p v
  for p in "${ALL_PORTS[@]}"; do
    v=$(su_sql "$p" "select xact_commit from pg_stat_database where datname = 'app'") || die "cannot read pg_stat_database on port $p"
    SNAP[$1,$p]=$v
  done
}
# A backend flushes its statistics at most once a second and, once idle, within PGSTAT_IDLE_INTERVAL (10 s);
# pooled connections stay open, so wait that long before every snapshot.
settled_snapshot() { sleep "$STATS_WAIT"; snapshot "$1"; }
SHARES=(); COUNTED=0
shares() { # before after -> SHARES: "x.x" per replica then primary; COUNTED: total transactions counted
  local total=0 p d
  declare -A D
  for p in "${ALL_PORTS[@]}"; do d=$(( ${SNAP[$2,$p]} - ${SNAP[$1,$p]} )); D[$p]=$d; total=$((total + d)); done
  COUNTED=$total; SHARES=()
  for p in "${ALL_PORTS[@]}"; do
    if [ $total -gt 0 ]; then SHARES+=("$(awk "BEGIN{printf \"%.1f\", 100*${D[$p]}/$total}")"); else SHARES+=("n/a"); fi
  done
}
latency_ms() { # quantile files... -> latency (ms) at the quantile, from pgbench --log column 3 (µs)
  local q=$1; shift
  cat "$@" | awk '{print $3}' | sort -n | awk -v q="$q" '{a[NR]=$1} END{if(NR==0){print "n/a"; exit} i=int(NR*q+0.999999); if(i<1)i=1; if(i>NR)i=NR; printf "%.2f", a[i]/1000}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a/b; else print "n/a" }'; }

# ---- slowing replica 1 ----------------------------------------------------------------------------------------------
replica_pids() { # data dir -> postmaster pid and its children
  local pm; pm=$(head -1 "$1/postmaster.pid" 2>/dev/null) || return 1
  echo "$pm"; ps -o pid= --ppid "$pm" | tr -d ' '
}
SLOW_DESC=""
slow_replica() { # data dir of the replica to slow down
  local dir=$1 quota=$((SLOW_CPU_PCT * 1000)) p
  local pids; pids=$(replica_pids "$dir") || die "cannot read $dir/postmaster.pid"
  if [ "$SLOW_METHOD" != sigstop ]; then
    if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers && [ -w /sys/fs/cgroup ]; then
      SLOW_CGROUP_PARENT=/sys/fs/cgroup; SLOW_CGROUP=/sys/fs/cgroup/pgbalancer-slow-$$
      grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
      if mkdir "$SLOW_CGROUP" 2>/dev/null && echo "$quota 100000" >"$SLOW_CGROUP/cpu.max" 2>/dev/null; then
        SLOW_DESC="cgroup v2 cpu.max \"$quota 100000\" ($SLOW_CPU_PCT % of one core) on all of replica 1's processes"
      else rmdir "$SLOW_CGROUP" 2>/dev/null || true; SLOW_CGROUP=""; fi
    fi
    if [ -z "$SLOW_CGROUP" ] && [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
      SLOW_CGROUP_PARENT=/sys/fs/cgroup/cpu; SLOW_CGROUP=/sys/fs/cgroup/cpu/pgbalancer-slow-$$
      if mkdir "$SLOW_CGROUP" 2>/dev/null && echo 100000 >"$SLOW_CGROUP/cpu.cfs_period_us" && echo "$quota" >"$SLOW_CGROUP/cpu.cfs_quota_us"; then
        SLOW_DESC="cgroup v1 cpu.cfs_quota_us=$quota per 100000 µs ($SLOW_CPU_PCT % of one core) on all of replica 1's processes"
      else rmdir "$SLOW_CGROUP" 2>/dev/null || true; SLOW_CGROUP=""; fi
    fi
    if [ -n "$SLOW_CGROUP" ]; then
      for p in $pids; do echo "$p" >"$SLOW_CGROUP/cgroup.procs" || die "cannot move pid $p into $SLOW_CGROUP"; done
      return 0 # backends forked later by the postmaster inherit its cgroup
    fi
    [ "$SLOW_METHOD" = cgroup ] && die "no writable cgroup cpu controller (SLOW_METHOD=cgroup)"
  fi
  # Fallback: SIGSTOP/SIGCONT duty cycle on the replica's processes (re-listed each cycle to catch new backends).
  local run_ms=$((SLOW_CPU_PCT * 50 / 100)) stop_ms=$((50 - SLOW_CPU_PCT * 50 / 100))
  SLOW_DESC="SIGSTOP/SIGCONT duty cycle on replica 1's processes: running ${run_ms} ms of every 50 ms"
  local pm; pm=$(head -1 "$dir/postmaster.pid")
  (
    trap 'kill -CONT $pm $(ps -o pid= --ppid $pm) 2>/dev/null; exit 0' TERM
    while :; do
      ps_list="$pm $(ps -o pid= --ppid "$pm" | tr '\n' ' ')"
      # shellcheck disable=SC2086
      kill -STOP $ps_list 2>/dev/null; sleep "0.0$(printf '%02d' "$stop_ms")"
      # shellcheck disable=SC2086
      kill -CONT $ps_list 2>/dev/null; sleep "0.0$(printf '%02d' "$run_ms")"
    done
  ) &
  DUTY_PID=$!
  read -r -a SLOW_PIDS <<<"$(echo $pids)"
}

# ---- other load on the machine ----------------------------------------------------------------------------------------
cpu_busy_pct() { # CPU busy % over 2 s, all cores (our own idle cluster included, which is ~0)
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat); sleep 2; read -r -a b < <(grep '^cpu ' /proc/stat)
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  [ "$total" -gt 0 ] && echo $(( 100 * (total - idle) / total )) || echo 0
}
BUSY_NOTES=()
wait_quiet() { # section
  local busy waited=0
  busy=$(cpu_busy_pct)
  while [ "$busy" -ge 15 ] && [ "$waited" -lt "$WAIT_IDLE" ]; do
    [ "$waited" = 0 ] && log "  the machine is ${busy}% busy with other work; waiting up to ${WAIT_IDLE} s for it to calm down ..."
    sleep 8; waited=$((waited + 10)); busy=$(cpu_busy_pct)
  done
  if [ "$busy" -ge 15 ]; then
    log "  WARNING: ${busy}% CPU busy with other work before $1"
  else
    log "  machine quiet (${busy}% CPU busy) before $1"
  fi
}

# ---- header ---------------------------------------------------------------------------------------------------------
REPORT="$WORK/report.md"
{
  echo "## pgbalancer routing comparison"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- memory (free -g):"
  echo '```'
  free -g
  echo '```'
  echo "- command: \`SECTIONS=\"$SECTIONS\" REPLICAS=$REPLICAS DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS CLIENTS=$CLIENTS THREADS=$THREADS LONG_CLIENTS=$LONG_CLIENTS POOL_SIZE=$POOL_SIZE${PGB_IO_THREADS:+ PGB_IO_THREADS=$PGB_IO_THREADS} SCALE=$SCALE SLOW_CPU_PCT=$SLOW_CPU_PCT PGPOOL_CHILDREN=$PGPOOL_CHILDREN PGPOOL_STATEMENT_LB=$PGPOOL_STATEMENT_LB $CMDLINE\`"
  echo "- software: PostgreSQL $PG_VERSION, $("$PGBENCH" --version), $("$HAPROXY" -v 2>/dev/null | head -1 | cut -d' ' -f1-3), $("$PGPOOL" --version 2>&1 | head -1), $(java -jar "$JAR" --version 2>/dev/null | head -1), $(java -version 2>&1 | head -1)"
  echo "- cluster: primary + $REPLICAS streaming replicas (PostgreSQL $PG_VERSION) on 127.0.0.1, pgbench scale $SCALE; every pgbench run uses -S -n -M simple"
} >"$REPORT"
cat "$REPORT"

# ---- section 1 ------------------------------------------------------------------------------------------------------
section1() {
  log; log "== 1. long-lived connections: $LONG_CLIENTS persistent clients =="
  local pb hp pp name port
  alloc_port pb; alloc_port hp; alloc_port pp
  start_pgbalancer s1-pgbalancer "$pb" least-outstanding "${RPORTS[@]}"
  start_haproxy s1-haproxy "$hp" "${RPORTS[@]}"
  start_pgpool s1-pgpool "$pp" "${RPORTS[@]}"
  warmup pgbalancer "$pb"
  local out=() labels=("pgbalancer (least-outstanding)" "HAProxy (mode tcp, balance roundrobin)" "pgpool-II (statement_level_load_balance = $PGPOOL_STATEMENT_LB)")
  local ports=("$pb" "$hp" "$pp") names=(pgbalancer haproxy pgpool) i
  for i in 0 1 2; do
    measured "s1-$i" "${ports[$i]}" "$LONG_CLIENTS" "$DURATION" "s1-${names[$i]}"
    local row="| ${labels[$i]} |"
    for s in "${SHARES[@]}"; do row+=" $s |"; done
    row+=" $BENCH_TPS$BENCH_FLAG |"
    out+=("$row")
    log "  ${names[$i]}: ${SHARES[*]} (replicas..., primary) % of transactions, $BENCH_TPS tps; servers counted $COUNTED transactions for pgbench's $BENCH_XACTS; others used ${BENCH_FOREIGN}% CPU"
  done
  stop_svc s1-pgbalancer; stop_svc s1-haproxy; stop_svc s1-pgpool
  {
    echo
    echo "### 1. Long-lived connections: where $LONG_CLIENTS persistent clients' reads run"
    echo
    echo "\`pgbench -S -n -c $LONG_CLIENTS -j $((LONG_CLIENTS < THREADS ? LONG_CLIENTS : THREADS)) -T $DURATION\` (each client keeps its connection for the whole run);"
    echo "share of committed transactions in database app counted on each server (pg_stat_database.xact_commit delta)."
    echo
    local h="| target |" sep="|---|"
    for i in $(seq 1 "$REPLICAS"); do h+=" replica $i % |"; sep+="---:|"; done
    echo "$h primary % | tps |"; echo "$sep---:|---:|"
    printf '%s\n' "${out[@]}"
  } | tee -a "$REPORT"
}

# ---- section 2 ------------------------------------------------------------------------------------------------------
section2() {
  log; log "== 2. one slow replica: least-outstanding vs round-robin =="
  local lo rr
  alloc_port lo; alloc_port rr
  start_pgbalancer s2-least-outstanding "$lo" least-outstanding "${RPORTS[@]}"
  start_pgbalancer s2-round-robin "$rr" round-robin "${RPORTS[@]}"
  warmup least-outstanding "$lo"; warmup round-robin "$rr"
  slow_replica "$DATA_DIR/replica0"
  log "  replica 1 slowed: $SLOW_DESC"
  local bal port tps=() p50=() p99=() rows=() s
  for bal in least-outstanding round-robin; do
    [ $bal = least-outstanding ] && port=$lo || port=$rr
    measured "s2-$bal" "$port" "$CLIENTS" "$DURATION" "s2-$bal" --log --log-prefix="$WORK/pgblog"
    tps+=("$BENCH_TPS"); p50+=("$(latency_ms 0.50 "$WORK"/pgblog.*)"); p99+=("$(latency_ms 0.99 "$WORK"/pgblog.*)")
    local row="| $bal | $BENCH_TPS$BENCH_FLAG | ${p50[-1]} | ${p99[-1]} |"
    for s in "${SHARES[@]}"; do row+=" $s |"; done
    rows+=("$row")
    log "  $bal: $BENCH_TPS tps, p50 ${p50[-1]} ms, p99 ${p99[-1]} ms, shares ${SHARES[*]}; servers counted $COUNTED transactions for pgbench's $BENCH_XACTS; others used ${BENCH_FOREIGN}% CPU"
    rm -f "$WORK"/pgblog.*
  done
  unslow
  stop_svc s2-least-outstanding; stop_svc s2-round-robin
  {
    echo
    echo "### 2. One slow replica: least-outstanding vs round-robin"
    echo
    echo "Replica 1 slowed by $SLOW_DESC. \`pgbench -S -n -c $CLIENTS -j $THREADS -T $DURATION --log\` through pgbalancer"
    echo "(pool size $POOL_SIZE per server, primary + $REPLICAS replicas), one instance per balance mode on the same cluster;"
    echo "latency percentiles from the per-transaction log; shares from pg_stat_database.xact_commit on each server."
    echo
    local h="| balance | tps | p50 ms | p99 ms |" sep="|---|---:|---:|---:|" i
    for i in $(seq 1 "$REPLICAS"); do h+=" replica $i % |"; sep+="---:|"; done
    echo "$h primary % |"; echo "$sep---:|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "least-outstanding / round-robin: throughput **$(ratio "${tps[0]}" "${tps[1]}")×**, p99 latency round-robin / least-outstanding **$(ratio "${p99[1]}" "${p99[0]}")×** (target ≥ 1.3× throughput)"
  } | tee -a "$REPORT"
}

# ---- section 3 ------------------------------------------------------------------------------------------------------
section3() {
  log; log "== 3. throughput: pgbalancer vs pgpool-II, primary + 2 replicas =="
  local pb pp
  alloc_port pb; alloc_port pp
  start_pgbalancer s3-pgbalancer "$pb" least-outstanding "${RPORTS[0]}" "${RPORTS[1]}"
  start_pgpool s3-pgpool "$pp" "${RPORTS[0]}" "${RPORTS[1]}"
  warmup pgbalancer "$pb"; warmup pgpool "$pp"
  local r all_pb=() all_pp=() t; S3_FLAG=""
  for r in $(seq 1 "$ROUNDS"); do
    for t in $([ $((r % 2)) = 1 ] && echo "pgbalancer pgpool" || echo "pgpool pgbalancer"); do
      if [ "$t" = pgbalancer ]; then
        measured "" "$pb" "$CLIENTS" "$DURATION" "s3-pgbalancer-$r"; all_pb+=("$BENCH_TPS")
      else
        measured "" "$pp" "$CLIENTS" "$DURATION" "s3-pgpool-$r"; all_pp+=("$BENCH_TPS")
      fi
      [ -n "$BENCH_FLAG" ] && S3_FLAG=" (!)"
      log "  round $r $t: $BENCH_TPS tps; others used ${BENCH_FOREIGN}% CPU"
    done
  done
  local t_pb t_pp
  t_pb=$(median "${all_pb[@]}"); t_pp=$(median "${all_pp[@]}")
  stop_svc s3-pgbalancer; stop_svc s3-pgpool
  {
    echo
    echo "### 3. Throughput vs pgpool-II (primary + 2 replicas)"
    echo
    echo "\`pgbench -S -n -M simple -c $CLIENTS -j $THREADS -T $DURATION\`. pgbalancer: transaction pooling, pool size $POOL_SIZE per server,"
    echo "least-outstanding. pgpool-II: streaming_replication mode, load_balance_mode on, statement_level_load_balance $PGPOOL_STATEMENT_LB,"
    echo "primary weight 0, num_init_children $PGPOOL_CHILDREN, max_pool 1 (one process and one server connection per client: pgpool-II has no"
    echo "transaction pooling, so pool sizes are not comparable). Both warmed up for $WARMUP s first."
    echo
    if [ "$ROUNDS" = 1 ]; then
      echo "| target | tps | pgbalancer / pgpool-II |"
      echo "|---|---:|---:|"
      echo "| pgbalancer | $t_pb$S3_FLAG | $(ratio "$t_pb" "$t_pp")× |"
      echo "| pgpool-II | $t_pp$S3_FLAG | |"
    else
      echo "| target | tps (median of $ROUNDS) | all rounds | pgbalancer / pgpool-II |"
      echo "|---|---:|---|---:|"
      echo "| pgbalancer | $t_pb$S3_FLAG | ${all_pb[*]} | $(ratio "$t_pb" "$t_pp")× |"
      echo "| pgpool-II | $t_pp$S3_FLAG | ${all_pp[*]} | |"
    fi
  } | tee -a "$REPORT"
}

for s in $SECTIONS; do wait_quiet "section $s"; "section$s"; done
if [ ${#BUSY_NOTES[@]} -gt 0 ]; then echo; for n in "${BUSY_NOTES[@]}"; do echo "**Warning:** $n."; done; fi | tee -a "$REPORT"
echo
echo "(finished $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$REPORT"
