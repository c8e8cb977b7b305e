#!/usr/bin/env bash
# bench/run.sh - WardMQ side by side with mosquitto (called by `make bench`).
#
# Usage: bench/run.sh BUILD_DIR
#   BUILD_DIR/bin must hold wardmq, wardmq_bench, wardmq_ctl and wardmq_tlshs
#   (the security rows also need python3 and mosquitto_passwd; this script builds
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
#                          (conn, mem, fanin, fanout, pairs, durability,
#                          authz, connect-auth, tls)
#   BENCH_AUTHZ_RULES=10000  ACL rules for the authz rows
#   BENCH_AUTH_DEVICES=1000  devices (users) for the connect-auth rows
#   BENCH_AUTH_ROUNDS=1    rounds of the connect-auth rows (each is long)
#   BENCH_TLS_HANDSHAKES=2000  connections per TLS handshake run
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
CTL=$BUILD/bin/wardmq_ctl
TLSHS=$BUILD/bin/wardmq_tlshs
MOSQ=${MOSQUITTO:-/usr/sbin/mosquitto}
for f in "$WARDMQ" "$BENCH" "$CTL"; do
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
# security and TLS sections
N_AUTHZ_RULES=${BENCH_AUTHZ_RULES:-10000}
N_DEV=${BENCH_AUTH_DEVICES:-1000}
AUTH_ROUNDS=${BENCH_AUTH_ROUNDS:-1}
N_HS=${BENCH_TLS_HANDSHAKES:-2000}
if [ "$QUICK" = 1 ]; then
  N_DEV=${BENCH_AUTH_DEVICES:-100}; N_HS=${BENCH_TLS_HANDSHAKES:-200}
fi
case "$ROUNDS$SECS$IDLE$THREADS${DUR_PUBS// /}x$N_AUTHZ_RULES$N_DEV$AUTH_ROUNDS$N_HS" in *[!0-9.x]*|*x|x*)
  echo "run.sh: BENCH_ROUNDS, BENCH_SECONDS, BENCH_IDLE_CONNS, BENCH_THREADS and the BENCH_AUTH*/BENCH_TLS* knobs are numbers" >&2
  exit 2 ;;
esac

# ---- file descriptors: brokers and the bench each hold one per connection ----
need=$((IDLE * 2 + 1024))
if [ -z "$ONLY" ] || [[ " $ONLY " == *" connect-auth "* ]]; then
  [ $((N_DEV * 2 + 1024)) -gt "$need" ] && need=$((N_DEV * 2 + 1024))
fi
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

# start_broker KIND NAME EXTRA_CONFIG [WARDMQ_ARGS] -> sets BROKER_PID and BROKER_PORT
# (EXTRA_CONFIG with "allow_anonymous false" replaces the default "true")
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
  local kind=$1 name=$2 extra=$3 args=${4:-} conf=$TMP/$2.conf log=$LOGS/$2.log port anon
  START_RETRY=0
  port=$(free_port) || { echo "run.sh: no free port" >&2; return 1; }
  anon='allow_anonymous true\n'
  [[ $extra == *"allow_anonymous false"* ]] && anon=
  if [ "$kind" = wardmq ]; then
    printf 'listener %s 127.0.0.1\n%blog_level warning\n%b' \
      "$port" "$anon" "$extra" >"$conf"
    # shellcheck disable=SC2086  # args: extra command-line words (--db FILE)
    "$WARDMQ" -c "$conf" $args >>"$log" 2>&1 &
  else
    printf 'listener %s 127.0.0.1\n%blog_dest stderr\nlog_type error\nlog_type warning\n%b' \
      "$port" "$anon" "$extra" >"$conf"
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
  lim=${BENCH_LIM:-$(awk -v s="$SECS" 'BEGIN { printf "%d", s * 3 + 120 }')}
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

# tlsbench LABEL PORT PID ARGS... -> wardmq_tlshs's JSON line (empty on failure)
tlsbench() {
  local label=$1 port=$2 pid=$3 out err rc
  shift 3
  err=$LOGS/bench-$label.stderr
  echo "== $label: wardmq_tlshs $* -p $port" >>"$err"
  out=$(timeout -k 10 600 "$TLSHS" "$@" -h 127.0.0.1 -p "$port" --broker-pid "$pid" --json 2>>"$err")
  rc=$?
  out=$(printf '%s\n' "$out" | grep '^{' | tail -1)
  [ -n "$out" ] && printf '{"label": "%s", "bench": %s}\n' "$label" "$out" >>"$JSONL"
  if [ $rc -ne 0 ] || [ -z "$out" ]; then
    echo "run.sh: $label failed (exit $rc): $(grep -h 'wardmq_tlshs' "$err" | tail -1)" >&2
    : >"$TMP/failed"
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

# ---- security: authentication + 10 000 ACL rules, connect rate with passwords ----
# Password files. Every user gets the same password: WardMQ's users all share
# one Argon2id verifier (made once by wardmq_ctl with the default parameters,
# m=19456 KiB t=2 p=1), so that setting up thousands of users costs one hash;
# the broker cannot tell (its verification cache is keyed by user, password
# and verifier, so every user's first login still runs one Argon2id).
# mosquitto gets a $7$ (PBKDF2-SHA512, 101 iterations) file made by
# mosquitto_passwd -U from the same user list.
BENCH_PW=bench-pw
make_users() { # FILE-PREFIX COUNT NAME-PREFIX -> FILE-PREFIX.wardmq, FILE-PREFIX.mosq
  local out=$1 n=$2 pre=$3 v db=$TMP/verifier.db
  if [ ! -s "$TMP/verifier" ]; then
    rm -f "$db"
    printf '%s\n' "$BENCH_PW" | "$CTL" --db "$db" user add probe >/dev/null || return 1
    python3 -c 'import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("select verifier from users where name = ?", ("probe",)).fetchone()[0])' \
      "$db" >"$TMP/verifier" || return 1
  fi
  v=$(cat "$TMP/verifier")
  awk -v n="$n" -v p="$pre" -v v="$v" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d:%s\n", p, i, v }' >"$out.wardmq"
  if [ $HAVE_MOSQ = 1 ]; then
    awk -v n="$n" -v p="$pre" -v pw="$BENCH_PW" 'BEGIN { for (i = 0; i < n; i++) printf "%s%d:%s\n", p, i, pw }' >"$out.mosq"
    mosquitto_passwd -U "$out.mosq" || return 1
    chmod 644 "$out.mosq"
  fi
}

# The acl_file both brokers use (mosquitto syntax; WardMQ imports it with
# wardmq_ctl import-mosquitto): one pattern rule, then RULES per-user topic
# rules spread over users u0..u(U-1); user ui's first rule grants the pairs
# topic it publishes / subscribes to, the others name distinct topics of the
# same fleet (read, write, readwrite), so every check walks a realistic list.
make_acl() { # FILE USERS RULES PREFIX
  awk -v u="$2" -v r="$3" -v px="$4" 'BEGIN {
    print "# wardmq bench: " r " topic rules over " u " users"
    print "pattern readwrite devices/%u/#"
    per = int((r + u - 1) / u); done = 0
    split("read write readwrite", acc, " ")
    for (i = 0; i < u && done < r; i++) {
      printf "user u%d\ntopic readwrite %s/pairs/%d\n", i, px, i; done++
      for (j = 1; j < per && done < r; j++) {
        printf "topic %s fleet/site%d/dev%d/%s\n", acc[j % 3 + 1], i, j, (j % 2 ? "telemetry/+" : "cmd/#"); done++
      }
    }
  }' >"$1"
}

if want authz; then
  echo "run.sh: authz: pairs with authentication and $N_AUTHZ_RULES ACL rules" >&2
  ok=1
  make_users "$TMP/authz" "$N_PAIRS" u || ok=0
  make_acl "$TMP/authz.acl" "$N_PAIRS" "$N_AUTHZ_RULES" wardmq-bench
  chmod 644 "$TMP/authz.acl"
  rm -f "$TMP/authz.db" "$TMP/plain.db"
  if [ $ok = 1 ] && "$CTL" --db "$TMP/authz.db" import-mosquitto --passwd "$TMP/authz.wardmq" \
       --acl "$TMP/authz.acl" >"$LOGS/authz-import.log" 2>&1; then
    declare -A A_PID A_PORT
    # the same --db (SQLite persistence, durability strict) on both WardMQ
    # sides: the only difference is authentication and the rules
    start_broker wardmq wardmq-noauth "persistence true\npersistence_file $TMP/plain.db\n" &&
      { A_PID[wnoauth]=$BROKER_PID; A_PORT[wnoauth]=$BROKER_PORT; }
    start_broker wardmq wardmq-authz "allow_anonymous false\n" "--db $TMP/authz.db" &&
      { A_PID[wauthz]=$BROKER_PID; A_PORT[wauthz]=$BROKER_PORT; }
    akinds=(wnoauth wauthz)
    if [ $HAVE_MOSQ = 1 ]; then
      start_broker mosquitto mosquitto-noauth "persistence false\n" &&
        { A_PID[mnoauth]=$BROKER_PID; A_PORT[mnoauth]=$BROKER_PORT; }
      start_broker mosquitto mosquitto-authz "persistence false\nallow_anonymous false\npassword_file $TMP/authz.mosq\nacl_file $TMP/authz.acl\n" &&
        { A_PID[mauthz]=$BROKER_PID; A_PORT[mauthz]=$BROKER_PORT; }
      akinds+=(mnoauth mauthz)
    fi
    declare -A A_RATE A_CPU A_P99 A_LOST
    for q in 0 1; do
      for r in $(seq 1 "$ROUNDS"); do
        for k in "${akinds[@]}"; do
          [ -n "${A_PID[$k]:-}" ] || continue
          creds=()
          case $k in *authz) creds=(-u 'u%n' -P "$BENCH_PW") ;; esac
          j=$(bench "authz-q$q-$k-r$r" "${A_PORT[$k]}" "${A_PID[$k]}" pairs -c "$N_PAIRS" -q $q \
                -s 64 -d "$SECS" --drain-timeout "$DRAIN" "${creds[@]}")
          [ -n "$j" ] || continue
          A_RATE[$q:$k]+=" $(jget rate "$j")"; A_P99[$q:$k]+=" $(jget lat_p99_ms "$j")"
          A_LOST[$q:$k]+=" $(jget loss_pct "$j")"
          cpu=$(jget broker_cpu_us_per_unit "$j"); positive "$cpu" && A_CPU[$q:$k]+=" $cpu"
        done
      done
    done
    for k in "${akinds[@]}"; do [ -n "${A_PID[$k]:-}" ] && stop_broker "${A_PID[$k]}"; done
    say "## Authentication and $N_AUTHZ_RULES ACL rules"
    say ""
    say "$N_PAIRS pub/sub pairs (64 B, ${SECS} s runs). *auth+ACL*: every client logs in with a username and password (users u0..u$((N_PAIRS - 1)), one per pair), and every PUBLISH, SUBSCRIBE and delivery is checked against an acl_file of $N_AUTHZ_RULES \`topic\` rules spread over those users (one of each user's rules grants its pairs topic, the rest name other topics) plus one \`pattern readwrite devices/%u/#\`. WardMQ loads users and rules with \`wardmq_ctl --db FILE import-mosquitto --passwd --acl\` and runs with \`--db FILE\`; its *no auth* side uses an empty SQLite database as well (persistence on, same durability), so the only difference is the security. mosquitto reads the same acl_file and a \`mosquitto_passwd -U\` password_file."
    say ""
    say "| QoS | broker | configuration | msg/s | vs no auth | CPU µs/msg | p99 ms | lost |"
    say "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    for q in 0 1; do
      for k in "${akinds[@]}"; do
        # shellcheck disable=SC2086
        rate=$(median ${A_RATE[$q:$k]:-})
        base=${k%authz}; base=${base%noauth}noauth
        # shellcheck disable=SC2086
        brate=$(median ${A_RATE[$q:$base]:-})
        case $k in w*) bn=wardmq ;; *) bn=mosquitto ;; esac
        case $k in *noauth) conf="no auth (anonymous)"; vs=1.00 ;; *) conf="auth+ACL ($N_AUTHZ_RULES rules)"; vs=$(ratio "$rate" "$brate") ;; esac
        # shellcheck disable=SC2086
        say "| $q | $bn | $conf | $(fmt_int "$rate") | $vs | $(fmt_ms "$(median ${A_CPU[$q:$k]:-})") | $(fmt_ms "$(median ${A_P99[$q:$k]:-})") | $(fmt_pct "$(median ${A_LOST[$q:$k]:-})") |"
      done
    done
    say ""
    say "vs no auth = msg/s with auth+ACL / msg/s of the same broker without (1.00 = no cost). CPU µs/msg is the figure to compare when the machine is noisy."
    say ""
  else
    echo "run.sh: authz: could not prepare users and rules (see $LOGS/authz-import.log)" >&2
    : >"$TMP/failed"
  fi
fi

if want connect-auth; then
  echo "run.sh: connect-auth: $N_DEV devices, two waves, $AUTH_ROUNDS round(s)" >&2
  # every connection stays open until its wave is complete: two descriptors each
  soft=$(ulimit -Sn)
  if [ "$soft" != unlimited ] && [ "$soft" -lt $((N_DEV + 256)) ]; then
    N_DEV=$((soft - 256))
    echo "run.sh: file descriptor limit $soft: $N_DEV devices" >&2
  fi
  rm -f "$TMP/devices.db"
  if make_users "$TMP/devices" "$N_DEV" dev &&
     "$CTL" --db "$TMP/devices.db" import-mosquitto --passwd "$TMP/devices.wardmq" >"$LOGS/devices-import.log" 2>&1; then
    declare -A C_RATE C_CPU C_P99 C_FAIL
    ckinds=(wardmq)
    [ $HAVE_MOSQ = 1 ] && ckinds+=(mosquitto)
    for r in $(seq 1 "$AUTH_ROUNDS"); do
      for k in "${ckinds[@]}"; do
        # a fresh broker per round: its verification cache starts empty
        if [ "$k" = wardmq ]; then
          start_broker wardmq "wardmq-devices-r$r" "allow_anonymous false\n" "--db $TMP/devices.db" || { : >"$TMP/failed"; continue; }
        else
          start_broker mosquitto "mosquitto-devices-r$r" "persistence false\nallow_anonymous false\npassword_file $TMP/devices.mosq\n" || { : >"$TMP/failed"; continue; }
        fi
        for wave in 1 2; do
          # all devices connect (at most 100 handshakes in flight), then all disconnect
          # (BENCH_LIM: wave 1 of thousands of Argon2id logins takes minutes)
          j=$(BENCH_LIM=1000 bench "connect-auth-w$wave-$k-r$r" "$BROKER_PORT" "$BROKER_PID" conn -c "$N_DEV" -d 0 \
                -u 'dev%n' -P "$BENCH_PW" --phase-timeout 900)
          [ -n "$j" ] || continue
          C_RATE[$wave:$k]+=" $(jget conn_per_s "$j")"; C_P99[$wave:$k]+=" $(jget hs_p99_ms "$j")"
          C_FAIL[$wave:$k]+=" $(jget connect_failed "$j")"
          cpu=$(jget broker_cpu_us_per_unit "$j"); positive "$cpu" && C_CPU[$wave:$k]+=" $cpu"
        done
        stop_broker "$BROKER_PID"
      done
    done
    say "## Connect rate with password authentication"
    say ""
    say "$N_DEV devices (users dev0..dev$((N_DEV - 1)), client id = one per device, MQTT 3.1.1, at most 100 CONNECTs in flight). Wave 1: every device connects once to a freshly started broker (fresh logins), then all disconnect; wave 2: all reconnect at once (a reconnect storm of known devices). WardMQ stores Argon2id verifiers (m=19456 KiB, t=2, p=1, the default) and verifies on its auth pool (auth_threads: CPUs - 1, at least 2); a successful verification is remembered (keyed MAC of user, password and verifier, 1 h), so wave 2 costs no hashing. mosquitto checks its \`\$7\$\` PBKDF2-SHA512 password_file (101 iterations) on every CONNECT. Median of $AUTH_ROUNDS round(s)."
    say ""
    say "| wave | devices | wardmq conn/s | mosquitto conn/s | ratio | wardmq CPU µs/conn | mosquitto CPU µs/conn | wardmq p99 ms | mosquitto p99 ms | failed (w / m) |"
    say "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for wave in 1 2; do
      # shellcheck disable=SC2086
      wr=$(median ${C_RATE[$wave:wardmq]:-})
      # shellcheck disable=SC2086
      mr=$(median ${C_RATE[$wave:mosquitto]:-})
      name="1: fresh logins"; [ $wave = 2 ] && name="2: reconnect storm"
      # shellcheck disable=SC2086
      say "| $name | $N_DEV | $(fmt_int "$wr") | $(fmt_int "$mr") | $(ratio "$wr" "$mr") | $(fmt_ms "$(median ${C_CPU[$wave:wardmq]:-})") | $(fmt_ms "$(median ${C_CPU[$wave:mosquitto]:-})") | $(fmt_ms "$(median ${C_P99[$wave:wardmq]:-})") | $(fmt_ms "$(median ${C_P99[$wave:mosquitto]:-})") | $(median ${C_FAIL[$wave:wardmq]:-}) / $(median ${C_FAIL[$wave:mosquitto]:-}) |"
    done
    say ""
    say "Argon2id is deliberately expensive (memory-hard, tens of ms of CPU per verification): wave 1 is bounded by the auth pool, and the CONNECT latency grows with the queue of logins waiting for it. BENCH_AUTH_DEVICES=5000 gives the 5 000-device storm (about 2-4 minutes for wave 1 on 2 shared cores)."
    say ""
  else
    echo "run.sh: connect-auth: could not prepare the users (see $LOGS/devices-import.log)" >&2
    : >"$TMP/failed"
  fi
fi

# ---- TLS 1.3: handshake rate and throughput ----------------------------------------
if want tls; then
  echo "run.sh: tls: $N_HS handshakes per run" >&2
  PKI=$TMP/pki
  if [ ! -x "$TLSHS" ]; then
    echo "run.sh: $TLSHS is missing: TLS rows skipped" >&2
    : >"$TMP/failed"
  elif ! sh "$HERE/../tests/fixtures/make_test_ca.sh" "$PKI" >"$LOGS/pki.log" 2>&1; then
    echo "run.sh: tls: could not make the test certificates (see $LOGS/pki.log)" >&2
    : >"$TMP/failed"
  else
    # test keys, nothing secret: mosquitto (running as its own user) must read them
    chmod 755 "$PKI"; chmod 644 "$PKI"/*.crt "$PKI"/*.key
    tls_srv="certfile $PKI/server.crt\nkeyfile $PKI/server.key\ntls_version tlsv1.3\n"
    tls_mut="${tls_srv}cafile $PKI/ca.crt\nrequire_certificate true\n"
    declare -A T_PID T_PORT
    tkinds=(wardmq)
    [ $HAVE_MOSQ = 1 ] && tkinds+=(mosquitto)
    for k in "${tkinds[@]}"; do
      pers="persistence false\n"
      # mosquitto's default (Nagle on) holds its CONNACK behind the TLS 1.3
      # session tickets for a delayed ACK (~40 ms): 80 handshakes/s instead
      # of ~400 here. Its own option turns that off, as WardMQ always does.
      [ "$k" = mosquitto ] && pers+="set_tcp_nodelay true\n"
      start_broker "$k" "$k-tls" "$pers$tls_srv" && { T_PID[$k]=$BROKER_PID; T_PORT[$k]=$BROKER_PORT; }
      start_broker "$k" "$k-mtls" "$pers$tls_mut" && { T_PID[$k-m]=$BROKER_PID; T_PORT[$k-m]=$BROKER_PORT; }
    done
    ca=(--cafile "$PKI/ca.crt"); cc=(--cert "$PKI/client.crt" --key "$PKI/client.key")
    TLS_ROWS=()
    tls_row() { # NAME TEXT MTLS(0|1) TOOL(hs|bench) ARGS...
      local name=$1 text=$2 mut=$3 tool=$4 r k key j cpu
      local -A R C P S
      shift 4
      echo "run.sh: tls $name $text" >&2
      for r in $(seq 1 "$ROUNDS"); do
        for k in "${tkinds[@]}"; do
          key=$k; [ "$mut" = 1 ] && key=$k-m
          [ -n "${T_PID[$key]:-}" ] || continue
          if [ "$tool" = hs ]; then
            j=$(tlsbench "tls-$name-$k-r$r" "${T_PORT[$key]}" "${T_PID[$key]}" "$@")
          else
            j=$(bench "tls-$name-$k-r$r" "${T_PORT[$key]}" "${T_PID[$key]}" "$@")
          fi
          [ -n "$j" ] || continue
          R[$k]+=" $(jget rate "$j")"
          cpu=$(jget broker_cpu_us_per_unit "$j"); positive "$cpu" && C[$k]+=" $cpu"
          if [ "$tool" = hs ]; then
            P[$k]+=" $(jget hs_p99_ms "$j")"; S[$k]+=" $(jget resumed "$j")/$(jget ok "$j")"
          else
            P[$k]+=" $(jget lat_p99_ms "$j")"; S[$k]+=" -"
          fi
        done
      done
      local wr mr
      # shellcheck disable=SC2086
      wr=$(median ${R[wardmq]:-})
      # shellcheck disable=SC2086
      mr=$(median ${R[mosquitto]:-})
      # shellcheck disable=SC2086
      TLS_ROWS+=("| $name | $text | $(fmt_int "$wr") | $(fmt_int "$mr") | $(ratio "$wr" "$mr") | $(fmt_ms "$(median ${C[wardmq]:-})") | $(fmt_ms "$(median ${C[mosquitto]:-})") | $(fmt_ms "$(median ${P[wardmq]:-})") | $(fmt_ms "$(median ${P[mosquitto]:-})") | $(echo ${S[wardmq]:-n/a} | awk '{print $NF}') / $(echo ${S[mosquitto]:-n/a} | awk '{print $NF}') |")
    }
    tls_row handshake "full handshake, server certificate only" 0 hs -n "$N_HS" "${ca[@]}"
    tls_row handshake "resumed (TLS 1.3 session ticket)" 0 hs -n "$N_HS" --resume "${ca[@]}"
    tls_row handshake "full handshake, client certificate required" 1 hs -n "$N_HS" "${ca[@]}" "${cc[@]}"
    tls_row handshake "resumed, client certificate required" 1 hs -n "$N_HS" --resume "${ca[@]}" "${cc[@]}"
    for q in 0 1; do
      tls_row pairs "$N_PAIRS pub/sub pairs over TLS, QoS $q" 0 bench pairs -c "$N_PAIRS" -q $q -s 64 \
        -d "$SECS" --drain-timeout "$DRAIN" "${ca[@]}"
    done
    for k in "${!T_PID[@]}"; do stop_broker "${T_PID[$k]}"; done
    say "## TLS 1.3"
    say ""
    say "Both brokers use the same EC P-256 certificates (tests/fixtures/make_test_ca.sh) with \`tls_version tlsv1.3\`. handshake rows: wardmq_tlshs (OpenSSL, 4 threads, $N_HS connections per run) does TCP connect, TLS 1.3 handshake (verifying the server), MQTT CONNECT, CONNACK, DISCONNECT, close; rate = completed connections/s, p99 = connect -> CONNACK. *resumed*: each thread offers the session ticket from its previous connection; the last column shows resumed/completed handshakes. *client certificate required*: \`cafile\` + \`require_certificate true\`, the client presents an EC certificate. mosquitto runs with \`set_tcp_nodelay true\` here (with its default, Nagle holds the CONNACK behind the session tickets for a delayed ACK and caps it near 80 handshakes/s). pairs rows: wardmq_bench over TLS (libwardmq's TLS client)."
    say ""
    say "| scenario | parameters | wardmq /s | mosquitto /s | ratio | wardmq CPU µs/op | mosquitto CPU µs/op | wardmq p99 ms | mosquitto p99 ms | resumed (w / m) |"
    say "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for row in "${TLS_ROWS[@]}"; do say "$row"; done
    say ""
    say "CPU µs/op = broker CPU per completed connection (handshake rows) or per delivered message (pairs rows). The client (OpenSSL in wardmq_tlshs) does about as much work per handshake as the broker and shares the same CPUs."
    say ""
  fi
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
