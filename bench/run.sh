#!/usr/bin/env bash
# bench/run.sh - WardMQ side by side with mosquitto (called by `make bench`).
#
# Usage: bench/run.sh BUILD_DIR
#   BUILD_DIR/bin must hold wardmq and wardmq_bench (this script builds
#   nothing). Starts its own wardmq and mosquitto on free loopback ports with
#   temporary configuration files (never the system service), runs every
#   scenario against each broker in turn (wardmq, mosquitto, wardmq, ...)
#   with the same parameters, takes the median per broker, and prints
#   Markdown tables; the same report goes to bench/results/latest.md, the
#   raw JSON summaries to bench/results/latest.jsonl and the broker logs to
#   bench/results/latest-logs/.
#
# Knobs (environment):
#   BENCH_ROUNDS=2         runs per broker and scenario (median of them)
#   BENCH_SECONDS=5        duration of each throughput run
#   BENCH_QUICK=1          tiny run for smoke testing (1 round, 1 s, few clients)
#   BENCH_IDLE_CONNS=2000  connections for the memory-per-idle-connection row
#   BENCH_THREADS=1        wardmq_bench -t
#   BENCH_DUR_PUBS="10"    publisher counts for the durability rows ("1 10": both)
#   BENCH_ONLY="conn fanin"  run only rows whose scenario name is listed
#                          (conn, mem, fanin, fanout, pairs, durability)
#   MOSQUITTO=/usr/sbin/mosquitto
# Exit status: 0 when every run completed, 1 when one failed (the tables
# then show n/a for it), 2 on usage errors.
set -uo pipefail

BUILD=${1:-}
if [ -z "$BUILD" ] || [ ! -d "$BUILD" ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
WARDMQ=$BUILD/bin/wardmq
BENCH=$BUILD/bin/wardmq_bench
MOSQ=${MOSQUITTO:-/usr/sbin/mosquitto}
for f in "$WARDMQ" "$BENCH"; do
  if [ ! -x "$f" ]; then
    echo "run.sh: $f is missing: build first (make, or cmake --build $BUILD)" >&2
    exit 2
  fi
done
HAVE_MOSQ=1
if [ ! -x "$MOSQ" ]; then
  echo "run.sh: $MOSQ not found: mosquitto columns will be n/a (apt-get install mosquitto)" >&2
  HAVE_MOSQ=0
fi

ROUNDS=${BENCH_ROUNDS:-2}
SECS=${BENCH_SECONDS:-5}
QUICK=${BENCH_QUICK:-0}
IDLE=${BENCH_IDLE_CONNS:-2000}
THREADS=${BENCH_THREADS:-1}
ONLY=${BENCH_ONLY:-}
# client counts per scenario
N_CHURN=100; N_FANIN=10; N_FANOUT=50; N_PAIRS=50; DRAIN=5; FIXED_RATE=10000
DUR_PUBS=${BENCH_DUR_PUBS:-10}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${BENCH_ROUNDS:-1}; SECS=${BENCH_SECONDS:-1}; IDLE=${BENCH_IDLE_CONNS:-200}
  N_CHURN=20; N_FANIN=2; N_FANOUT=5; N_PAIRS=5; DRAIN=2; FIXED_RATE=2000
  DUR_PUBS=${BENCH_DUR_PUBS:-2}
fi
case "$ROUNDS$SECS$IDLE$THREADS${DUR_PUBS// /}" in *[!0-9.]*)
  echo "run.sh: BENCH_ROUNDS, BENCH_SECONDS, BENCH_IDLE_CONNS and BENCH_THREADS are numbers" >&2
  exit 2 ;;
esac

# ---- file descriptors: brokers and the bench each hold one per connection ----
need=$((IDLE * 2 + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then need=$hard; fi
ulimit -Sn "$need" 2>/dev/null || true
soft=$(ulimit -Sn)
if [ "$soft" != unlimited ] && [ "$soft" -lt $((IDLE + 256)) ]; then
  IDLE=$((soft - 256))
  echo "run.sh: file descriptor limit $soft: measuring idle memory with $IDLE connections" >&2
fi

RESULTS=$HERE/results
LOGS=$RESULTS/latest-logs
mkdir -p "$RESULTS"
rm -rf "$LOGS"
mkdir -p "$LOGS"
JSONL=$RESULTS/latest.jsonl
: >"$JSONL"
TMP=$(mktemp -d /tmp/wardmq-bench.XXXXXX)
# mosquitto started as root drops to the "mosquitto" user: it must be able
# to reach its configuration and persistence directory (nothing secret here)
chmod 755 "$TMP"
STATUS=0

# ---- broker processes (only the ones this script started) --------------------
PIDS=()
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ports below the kernel's ephemeral range, so that no outgoing connection
# holds them; a broker that still finds its port taken is started again on
# another one.
read -r EPH_LO _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPH_LO=32768
[ "${EPH_LO:-0}" -gt 11000 ] 2>/dev/null || EPH_LO=32768
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((10000 + (RANDOM * 32768 + RANDOM) % (EPH_LO - 10000)))
    if ! port_open "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

# start_broker KIND NAME EXTRA_CONFIG -> sets BROKER_PID and BROKER_PORT
start_broker() {
  local attempt
  for attempt in 1 2 3 4 5; do
    start_broker_once "$@" && return 0
    [ "$START_RETRY" = 1 ] || return 1
    echo "run.sh: $2: port $BROKER_PORT taken, trying another (attempt $attempt)" >&2
  done
  return 1
}

start_broker_once() {
  local kind=$1 name=$2 extra=$3 conf=$TMP/$2.conf log=$LOGS/$2.log port
  START_RETRY=0
  port=$(free_port) || { echo "run.sh: no free port" >&2; return 1; }
  if [ "$kind" = wardmq ]; then
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_level warning\n%b' \
      "$port" "$extra" >"$conf"
    "$WARDMQ" -c "$conf" >>"$log" 2>&1 &
  else
    printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type error\nlog_type warning\n%b' \
      "$port" "$extra" >"$conf"
    "$MOSQ" -c "$conf" >>"$log" 2>&1 &
  fi
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  BROKER_PORT=$port
  for _ in $(seq 1 100); do
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      if grep -qi 'in use' "$log"; then START_RETRY=1; return 1; fi
      echo "run.sh: $name did not start:" >&2; tail -5 "$log" >&2; return 1
    fi
    port_open "$port" && return 0
    sleep 0.05
  done
  echo "run.sh: $name is not listening on $port" >&2
  return 1
}

stop_broker() {
  local p=$1
  kill -TERM "$p" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 0
}

# bench LABEL PORT PID ARGS... -> prints the JSON summary line (empty on failure)
bench() {
  local label=$1 port=$2 pid=$3 out err rc lim
  shift 3
  lim=$(awk -v s="$SECS" 'BEGIN { printf "%d", s * 3 + 120 }')
  err=$LOGS/bench-$label.stderr
  echo "== $label: wardmq_bench $* -p $port" >>"$err"
  out=$(timeout -k 10 "$lim" "$BENCH" "$@" -h 127.0.0.1 -p "$port" --broker-pid "$pid" \
        -t "$THREADS" --json -Q 2>>"$err")
  rc=$?
  out=$(printf '%s\n' "$out" | grep '^{' | tail -1)
  if [ -n "$out" ]; then
    printf '{"label": "%s", "bench": %s}\n' "$label" "$out" >>"$JSONL"
  fi
  if [ $rc -ne 0 ] || [ -z "$out" ]; then
    echo "run.sh: $label failed (exit $rc): $(grep -h 'ABORTED\|error\|wardmq_bench:' "$err" | tail -2 | tr '\n' ' ')" >&2
    : >"$TMP/failed" # (a subshell: STATUS cannot be set from here)
    # an aborted run still reports what happened, but its numbers are not used
    return 0
  fi
  printf '%s\n' "$out"
}

# jget KEY JSON -> the value (numbers, true/false, or a string without quotes)
jget() {
  printf '%s\n' "$2" | sed -n "s/.*\"$1\": \"\{0,1\}\([^,\"}]*\).*/\1/p" | head -1
}

# median of the arguments (n/a when none)
median() {
  if [ $# -eq 0 ]; then echo n/a; return; fi
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.6g\n", m }'
}

fmt_int() { if [ "$1" = n/a ]; then echo n/a; else awk -v v="$1" 'BEGIN { printf "%.0f", v }'; fi; }
fmt_ms() { if [ "$1" = n/a ]; then echo n/a; else awk -v v="$1" 'BEGIN { printf "%.2f", v }'; fi; }
fmt_pct() { if [ "$1" = n/a ]; then echo n/a; else awk -v v="$1" 'BEGIN { printf "%.2f%%", v }'; fi; }
ratio() {
  if [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

positive() { awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }'; }

want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

REPORT=$TMP/report.md
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }

START=$(date +%s)
say "# WardMQ vs mosquitto - $(date -u '+%Y-%m-%d %H:%M UTC')"
say ""
say "- host: $(nproc) CPUs, $(uname -sr), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
say "- wardmq: $("$WARDMQ" --version 2>&1 | head -1), commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$HERE/.." diff --quiet HEAD 2>/dev/null || echo ' (+ local changes)')"
if [ $HAVE_MOSQ = 1 ]; then
  say "- mosquitto: $("$MOSQ" -h 2>&1 | head -1 | sed 's/^mosquitto //')"
fi
say "- rounds: $ROUNDS per broker, alternating wardmq / mosquitto, median shown; run duration ${SECS} s; 64-byte payloads; MQTT 3.1.1 unless noted; wardmq_bench -t $THREADS; loopback"
say "- both brokers run with their defaults (max_inflight_messages 20, max_queued_messages 1000; TCP_NODELAY: wardmq on, mosquitto off) except where a section says otherwise"
say "- msg/s = messages delivered to subscribers per second (conn: connections/s); lost = expected deliveries (fan-out counted) not received within ${DRAIN} s after the run; p99 = end-to-end latency (conn: CONNECT -> CONNACK)"
say ""

# ---- core: throughput and connection rate -----------------------------------------
CORE_ROWS=()
core_row() { # NAME PARAMS-TEXT ARGS...
  local name=$1 text=$2 r j kind p99key rate p99 lost cpu
  local w_rate=() m_rate=() w_p99=() m_p99=() w_lost=() m_lost=() w_cpu=() m_cpu=()
  shift 2
  p99key=lat_p99_ms
  [ "$name" = conn ] && p99key=hs_p99_ms
  echo "run.sh: $name $text" >&2
  for r in $(seq 1 "$ROUNDS"); do
    for kind in wardmq mosquitto; do
      if [ $kind = wardmq ]; then
        j=$(bench "$name-wardmq-r$r" "$W_PORT" "$W_PID" "$@")
      else
        [ $HAVE_MOSQ = 1 ] || continue
        j=$(bench "$name-mosquitto-r$r" "$M_PORT" "$M_PID" "$@")
      fi
      [ -n "$j" ] || continue
      rate=$(jget rate "$j"); p99=$(jget $p99key "$j"); lost=$(jget loss_pct "$j")
      cpu=$(jget broker_cpu_us_per_unit "$j")
      if [ $kind = wardmq ]; then
        w_rate+=("$rate"); w_p99+=("$p99"); w_lost+=("$lost")
        positive "$cpu" && w_cpu+=("$cpu")
      else
        m_rate+=("$rate"); m_p99+=("$p99"); m_lost+=("$lost")
        positive "$cpu" && m_cpu+=("$cpu")
      fi
    done
  done
  local wr mr wl ml wc mc
  wr=$(median "${w_rate[@]}"); mr=$(median "${m_rate[@]}")
  wc=$(median "${w_cpu[@]}"); mc=$(median "${m_cpu[@]}")
  wl=$(fmt_pct "$(median "${w_lost[@]}")"); ml=$(fmt_pct "$(median "${m_lost[@]}")")
  [ "$name" = conn ] && wl=- && ml=-
  CORE_ROWS+=("| $name | $text | $(fmt_int "$wr") | $(fmt_int "$mr") | $(ratio "$wr" "$mr") | $(fmt_ms "$wc") | $(fmt_ms "$mc") | $(fmt_ms "$(median "${w_p99[@]}")") | $(fmt_ms "$(median "${m_p99[@]}")") | $wl | $ml |")
}

if want conn || want fanin || want fanout || want pairs; then
  start_broker wardmq wardmq-core "persistence false\n" || exit 1
  W_PID=$BROKER_PID; W_PORT=$BROKER_PORT
  M_PID=0; M_PORT=0
  if [ $HAVE_MOSQ = 1 ]; then
    start_broker mosquitto mosquitto-core "persistence false\n" || exit 1
    M_PID=$BROKER_PID; M_PORT=$BROKER_PORT
  fi
  common=(-s 64 -d "$SECS" --drain-timeout "$DRAIN")
  if want conn; then
    core_row conn "$N_CHURN clients, connect+disconnect churn" conn -c "$N_CHURN" --churn -d "$SECS"
  fi
  for q in 0 1; do
    if want fanin; then
      core_row fanin "$N_FANIN pubs -> 1 sub, QoS $q" fanin -c "$N_FANIN" -q $q "${common[@]}"
    fi
    if want fanout; then
      core_row fanout "1 pub -> $N_FANOUT subs, QoS $q" fanout -c "$N_FANOUT" -q $q "${common[@]}"
    fi
    if want pairs; then
      core_row pairs "$N_PAIRS pub/sub pairs, QoS $q" pairs -c "$N_PAIRS" -q $q "${common[@]}"
    fi
  done
  if want pairs; then
    # latency at a load both brokers sustain (the rows above measure overload)
    core_row pairs "$N_PAIRS pairs, QoS 1, fixed $FIXED_RATE msg/s" pairs -c "$N_PAIRS" -q 1 -r "$FIXED_RATE" "${common[@]}"
  fi
  stop_broker "$W_PID"
  [ $HAVE_MOSQ = 1 ] && stop_broker "$M_PID"
  say "## Throughput and connection rate"
  say ""
  say "| scenario | parameters | wardmq msg/s | mosquitto msg/s | ratio | wardmq CPU µs/msg | mosquitto CPU µs/msg | wardmq p99 ms | mosquitto p99 ms | wardmq lost | mosquitto lost |"
  say "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for row in "${CORE_ROWS[@]}"; do say "$row"; done
  say ""
  say "ratio = wardmq / mosquitto (higher is better for wardmq). CPU µs/msg = broker CPU time (user + system, /proc/PID/stat) from the start of the run to the end of the drain, per delivered message (conn: per connect); lower is better, and it is steadier than msg/s when other processes share the CPUs. Rows without a fixed rate publish as fast as each broker accepts (QoS 1: 20 unacknowledged per publisher), so their p99 includes queueing in an overloaded broker; a single QoS 1 subscriber (fanin) is bounded by its own window of 20 and the broker drops beyond max_queued_messages."
  say ""
fi

# ---- memory per idle connection: a fresh broker per measurement ------------------
if want mem; then
  echo "run.sh: memory with $IDLE idle connections" >&2
  w_mem=(); m_mem=(); w_cps=(); m_cps=()
  for r in $(seq 1 "$ROUNDS"); do
    for kind in wardmq mosquitto; do
      [ $kind = mosquitto ] && [ $HAVE_MOSQ = 0 ] && continue
      start_broker $kind "$kind-mem-r$r" "persistence false\n" || { STATUS=1; continue; }
      sleep 0.3 # let the broker settle before the baseline
      j=$(bench "mem-$kind-r$r" "$BROKER_PORT" "$BROKER_PID" conn -c "$IDLE" -d 1)
      stop_broker "$BROKER_PID"
      [ -n "$j" ] || continue
      if [ $kind = wardmq ]; then
        w_mem+=("$(jget mem_per_conn_bytes "$j")"); w_cps+=("$(jget conn_per_s "$j")")
      else
        m_mem+=("$(jget mem_per_conn_bytes "$j")"); m_cps+=("$(jget conn_per_s "$j")")
      fi
    done
  done
  wm=$(median "${w_mem[@]}"); mm=$(median "${m_mem[@]}")
  say "## Memory per idle connection"
  say ""
  say "| idle connections | wardmq bytes/conn | mosquitto bytes/conn | wardmq / mosquitto | wardmq conn/s (ramp) | mosquitto conn/s (ramp) |"
  say "| ---: | ---: | ---: | ---: | ---: | ---: |"
  say "| $IDLE | $(fmt_int "$wm") | $(fmt_int "$mm") | $(ratio "$wm" "$mm") | $(fmt_int "$(median "${w_cps[@]}")") | $(fmt_int "$(median "${m_cps[@]}")") |"
  say ""
  say "VmRSS of the broker after $IDLE CONNECTs (held idle 1 s) minus VmRSS before, divided by $IDLE; a fresh broker for every measurement. Lower is better."
  say ""
fi

# ---- durability: QoS 1 into an offline persistent session --------------------------
if want durability; then
  echo "run.sh: durability" >&2
  declare -A D_PID D_PORT
  modes=(strict batched none)
  for m in "${modes[@]}"; do
    start_broker wardmq "wardmq-$m" "persistence true\npersistence_file $TMP/wardmq-$m.db\ndurability $m\nmax_queued_messages 0\n" || exit 1
    D_PID[$m]=$BROKER_PID; D_PORT[$m]=$BROKER_PORT
  done
  if [ $HAVE_MOSQ = 1 ]; then
    mkdir -p "$TMP/mosq-db"
    chmod 777 "$TMP/mosq-db"
    start_broker mosquitto mosquitto-persist "persistence true\npersistence_location $TMP/mosq-db/\nmax_queued_messages 0\n" || exit 1
    D_PID[mosq]=$BROKER_PID; D_PORT[mosq]=$BROKER_PORT
    modes+=(mosq)
  fi
  declare -A D_RATE D_ACK D_DRAIN D_LOST D_CPU
  for np in $DUR_PUBS; do
    dargs=(fanin -c "$np" -q 1 -V 5 --offline -s 64 -d "$SECS")
    for r in $(seq 1 "$ROUNDS"); do
      for m in "${modes[@]}"; do
        j=$(bench "durability-$np-$m-r$r" "${D_PORT[$m]}" "${D_PID[$m]}" "${dargs[@]}")
        [ -n "$j" ] || continue
        k=$np:$m
        D_RATE[$k]+=" $(jget acked_per_s "$j")"
        D_ACK[$k]+=" $(jget ack_p99_ms "$j")"
        D_DRAIN[$k]+=" $(jget recv_per_s "$j")"
        D_LOST[$k]+=" $(jget lost "$j")"
        cpu=$(jget broker_cpu_us_per_unit "$j")
        positive "$cpu" && D_CPU[$k]+=" $cpu"
      done
    done
  done
  for m in "${modes[@]}"; do stop_broker "${D_PID[$m]}"; done
  say "## Durability: QoS 1 stream into an offline persistent session"
  say ""
  say "N publishers (MQTT 5, QoS 1, window 20, 64 B) -> 1 subscriber whose persistent session is offline for ${SECS} s; then it reconnects and drains the queue. msg/s = PUBACKed publishes per second; lost = PUBACKed but never delivered after the reconnect (worst round; must be 0). CPU µs/msg = broker CPU from the first publish until the queue is drained, per PUBACKed message. max_queued_messages 0 (no limit) on both brokers."
  say ""
  say "| publishers | broker | durability | msg/s | vs mosquitto | CPU µs/msg | PUBACK p99 ms | drain msg/s | lost |"
  say "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for np in $DUR_PUBS; do
    mq=n/a
    # shellcheck disable=SC2086
    [ $HAVE_MOSQ = 1 ] && mq=$(median ${D_RATE[$np:mosq]:-})
    for m in "${modes[@]}"; do
      k=$np:$m
      # (word splitting wanted: the values are space-separated numbers)
      # shellcheck disable=SC2086
      rate=$(median ${D_RATE[$k]:-})
      # shellcheck disable=SC2086
      ack=$(median ${D_ACK[$k]:-})
      # shellcheck disable=SC2086
      drain=$(median ${D_DRAIN[$k]:-})
      # shellcheck disable=SC2086
      cpu=$(median ${D_CPU[$k]:-})
      # shellcheck disable=SC2086
      lost=$(printf '%s\n' ${D_LOST[$k]:-} | sort -g | tail -1); [ -n "$lost" ] || lost=n/a
      if [ "$m" = mosq ]; then
        say "| $np | mosquitto | persistence true (snapshot on exit) | $(fmt_int "$rate") | 1.00 | $(fmt_ms "$cpu") | $(fmt_ms "$ack") | $(fmt_int "$drain") | $lost |"
      else
        say "| $np | wardmq | $m | $(fmt_int "$rate") | $(ratio "$rate" "$mq") | $(fmt_ms "$cpu") | $(fmt_ms "$ack") | $(fmt_int "$drain") | $lost |"
      fi
    done
  done
  say ""
  say "In strict mode a PUBACK waits for the SQLite commit of the batch its message joined (one batch per broker loop turn, committed by the store thread), so one publisher with a window of 20 gets at most 20 acknowledgements per commit; more publishers (or a larger window / max_inflight_messages) share each commit. BENCH_DUR_PUBS=\"1 10\" adds the single-publisher case."
  say ""
fi

# ---- what the brokers logged ----------------------------------------------------------
say "## Broker logs"
say ""
for f in "$LOGS"/*.log; do
  [ -e "$f" ] || continue
  n=$(grep -ciE 'error|warn|crit|fatal|sanitizer' "$f")
  say "- $(basename "$f" .log): $(wc -l <"$f") lines, $n at warning level or above"
done
say ""
say "Finished in $(( $(date +%s) - START )) s. Raw summaries: bench/results/latest.jsonl; logs: bench/results/latest-logs/."
if [ "$(cut -d' ' -f1 /proc/loadavg | cut -d. -f1)" -ge "$(nproc)" ]; then
  say ""
  say "**Note:** the load average was $(cut -d' ' -f1-3 /proc/loadavg) at the end: other processes competed for the CPUs, so absolute numbers are low and noisy; the ratios are the figures to read."
fi
cp "$REPORT" "$RESULTS/latest.md"
[ -e "$TMP/failed" ] && STATUS=1
exit $STATUS
