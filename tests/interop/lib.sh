# SPDX-License-Identifier: MIT
# lib.sh - shared helpers of the tests/interop/*_vs_mosquitto.sh scripts;
# sourced (`. "$(dirname "$0")/lib.sh"`), never run: it is not executable,
# so tests/run.sh, which runs every executable tests/interop/*.sh, skips it.
#
# On sourcing, with the script's arguments still in "$@": sets root (the
# source tree), build (BUILD_DIR, $1, default build-client), PUB, SUB, MOSQ
# (mosquitto, $MOSQUITTO or /usr/sbin/mosquitto), tmp (a temporary
# directory), mpid and kids (process ids cleaned up at exit), pass and fail
# (the check counters). The caller sets T (the timeout command prefix) before
# using roundtrip / refused. Functions:
#   require_bins BIN...       exit 77 unless every BIN is executable
#   make_pki                  the test PKI of tests/fixtures/make_test_ca.sh
#                             in $pki, readable by mosquitto's user
#   free_port                 a free loopback TCP port
#   start_mosquitto PORT [S]  run $MOSQ on $tmp/mosquitto.conf, log in $LOG,
#                             wait (max 5 s) until it listens on PORT, then S
#                             seconds more (default 0.3); exit 1 if it died
#   ok NAME / bad NAME [DETAIL]   count and print one check
#   roundtrip NAME MSG SUB-ARGS -- PUB-ARGS / refused NAME PATTERN PUB-ARGS
#   finish                    the closing "N passed, M failed" line; its
#                             status is 1 if anything failed
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-client}" && pwd)
PUB=$build/bin/wardmq_pub
SUB=$build/bin/wardmq_sub
MOSQ=${MOSQUITTO:-/usr/sbin/mosquitto}

require_bins() {
  for b in "$@"; do
    if [ ! -x "$b" ]; then echo "missing: $b"; exit 77; fi
  done
}

tmp=$(mktemp -d)
mpid=
kids=
cleanup() {
  for k in $kids; do kill -9 "$k" 2>/dev/null; done
  [ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

make_pki() {
  pki=$tmp/pki
  if ! sh "$root/tests/fixtures/make_test_ca.sh" "$pki" >"$tmp/pki.log" 2>&1; then
    echo "make_test_ca.sh failed"; cat "$tmp/pki.log"; exit 1
  fi
  # mosquitto started as root drops to its own user: let it read the PKI
  chmod -R a+rX "$tmp"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

LOG=$tmp/mosquitto.log
start_mosquitto() {
  "$MOSQ" -c "$tmp/mosquitto.conf" -v >"$LOG" 2>&1 &
  mpid=$!
  for _ in $(seq 1 50); do
    grep -q "Opening ipv4 listen socket on port $1" "$LOG" 2>/dev/null && break
    sleep 0.1
  done
  sleep "${2:-0.3}"
  if ! kill -0 "$mpid" 2>/dev/null; then echo "mosquitto did not start"; cat "$LOG"; exit 1; fi
}

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
  fail=$((fail + 1)); echo "FAIL $1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -20 | sed 's/^/       /'; fi
}

# roundtrip NAME MSG SUB-ARGS -- PUB-ARGS: a subscriber receives what the
# publisher sends (both over the given options)
roundtrip() {
  local name=$1 msg=$2; shift 2
  local sargs=() pargs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do sargs+=("$1"); shift; done
  shift
  pargs=("$@")
  $T "$SUB" "${sargs[@]}" -C 1 -W 10 >"$tmp/sub.out" 2>"$tmp/sub.err" &
  local sp=$!
  sleep 0.7
  $T "$PUB" "${pargs[@]}" -m "$msg" >"$tmp/pub.out" 2>&1; local prc=$?
  wait "$sp"; local src=$?
  if [ $prc = 0 ] && [ $src = 0 ] && [ "$(cat "$tmp/sub.out")" = "$msg" ]; then ok "$name"
  else bad "$name" "pub rc=$prc sub rc=$src
pub: $(cat "$tmp/pub.out")
sub: $(cat "$tmp/sub.out" "$tmp/sub.err")"; fi
}

# refused NAME PATTERN PUB-ARGS...: the publish fails with PATTERN on stderr.
# The topic is t/refused unless an -L mqtt:// or mqtts:// URL names one.
refused() {
  local name=$1 pat=$2; shift 2
  local topic=(-t t/refused)
  case " $* " in *" -L mqtt"*) topic=() ;; esac
  $T "$PUB" "$@" "${topic[@]}" -m x >"$tmp/r.out" 2>&1; local rc=$?
  if [ $rc != 0 ] && [ $rc != 124 ] && grep -qi -- "$pat" "$tmp/r.out"; then ok "$name"
  else bad "$name" "rc=$rc, expected /$pat/: $(cat "$tmp/r.out")"; fi
}

finish() {
  echo
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
