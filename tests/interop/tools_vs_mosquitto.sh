#!/usr/bin/env bash
# tools_vs_mosquitto.sh [BUILD_DIR] - wardmq_pub / wardmq_sub (and the
# libwardmq example) against a real mosquitto broker, side by side with
# mosquitto_pub / mosquitto_sub where output must be byte-identical.
#
# Starts its own mosquitto on free loopback ports (one anonymous listener,
# one that refuses anonymous clients), runs every check for MQTT 3.1.1 and
# 5, stops the broker. Each command is bounded by `timeout`. Prints one
# "ok"/"FAIL" line per check and "N passed, M failed"; exit status 1 if
# anything failed, 77 if mosquitto is not installed.
set -u
. "$(dirname "$0")/lib.sh"
EXAMPLE=$build/bin/wardmq_example_minimal
require_bins "$PUB" "$SUB" "$MOSQ" "$(command -v mosquitto_pub)" "$(command -v mosquitto_sub)"

PORT=$(free_port)
PORT2=$(free_port)
PORT6=
v6=
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
  PORT6=$(free_port)
  v6="listener $PORT6 ::1
allow_anonymous true"
fi
cat >"$tmp/mosquitto.conf" <<EOF
per_listener_settings true
persistence false
# The -l check streams 2000 QoS 1 messages to a sanitizer-built subscriber:
# no queue limit, so a slow machine cannot make mosquitto drop any.
max_queued_messages 0
listener $PORT 127.0.0.1
allow_anonymous true
listener $PORT2 127.0.0.1
allow_anonymous false
$v6
EOF
start_mosquitto $PORT2 0.2

# check NAME EXPECTED-FILE ACTUAL-FILE
check_files() {
  if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "expected: $(od -c "$2" | head -5)
actual:   $(od -c "$3" | head -5)"; fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
  if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "expected: [$2]
actual:   [$3]"; fi
}
n=0
# unique client id in $ID (no subshell, so the counter advances)
newid() { n=$((n + 1)); ID="c$$x$n"; }
# wait until the broker has seen a SUBSCRIBE from client id $1 (max 5 s)
wait_sub() {
  for _ in $(seq 1 100); do
    grep -q "Received SUBSCRIBE from $1\$" "$LOG" && return 0
    sleep 0.05
  done
  echo "       (no SUBSCRIBE from $1 seen)"
  return 1
}
T="timeout 15"
H="-h 127.0.0.1 -p $PORT"

for V in 311 5; do
  echo "== MQTT $V"
  # --- QoS 0/1/2 round trips, wardmq on both ends and crossed with mosquitto
  for q in 0 1 2; do
    newid; id=$ID
    $T $SUB $H -V $V -i "$id" -q $q -t "rt/$V/$q" -C 1 -F '%q %p' >"$tmp/o" &
    sp=$!; wait_sub "$id"
    $T $PUB $H -V $V -q $q -t "rt/$V/$q" -m "hello$q"; prc=$?
    wait $sp; src=$?
    check_eq "v$V qos$q wardmq_pub -> wardmq_sub (rc $prc/$src)" "$q hello$q" "$(cat "$tmp/o")"

    newid; id=$ID
    $T mosquitto_sub $H -V $V -i "$id" -q $q -t "x/$V/$q" -C 1 -F '%q %p' >"$tmp/o" &
    sp=$!; wait_sub "$id"
    $T $PUB $H -V $V -q $q -t "x/$V/$q" -m "cross$q"
    wait $sp
    check_eq "v$V qos$q wardmq_pub -> mosquitto_sub" "$q cross$q" "$(cat "$tmp/o")"

    newid; id=$ID
    $T $SUB $H -V $V -i "$id" -q $q -t "y/$V/$q" -C 1 -F '%q %p' >"$tmp/o" &
    sp=$!; wait_sub "$id"
    $T mosquitto_pub $H -V $V -q $q -t "y/$V/$q" -m "cross$q"
    wait $sp
    check_eq "v$V qos$q mosquitto_pub -> wardmq_sub" "$q cross$q" "$(cat "$tmp/o")"
  done

  # --- output formats byte-identical to mosquitto_sub
  fmts=("" "-v" "-N" "-v -N"
        "-F %t|%p|%q|%r|%l|%m|%x|%X|%%|\\t|\\\\|@@"
        "-F %-8t|%8t|%08l|%-6l|%.3p|%7p|%-7p|%8x|%-3.1t|%5q")
  [ "$V" = 5 ] && fmts+=("-F %P|%C|%E|%F|%R|%D|%S|%10C|%-4E|%05F")
  k=0
  for f in "${fmts[@]}"; do
    k=$((k + 1)); topic="fmt/$V/$k"
    newid; ida=$ID; newid; idb=$ID
    # shellcheck disable=SC2086
    $T mosquitto_sub $H -V $V -i "$ida" -t "$topic" -C 4 $f >"$tmp/m" &
    ma=$!
    # shellcheck disable=SC2086
    $T $SUB $H -V $V -i "$idb" -t "$topic" -C 4 $f >"$tmp/w" &
    wa=$!
    wait_sub "$ida"; wait_sub "$idb"
    props=()
    [ "$V" = 5 ] && props=(-D publish user-property k v -D publish user-property k2 v2
                           -D publish content-type text/x -D publish message-expiry-interval 90
                           -D publish payload-format-indicator 1 -D publish response-topic re/sp
                           -D publish correlation-data cd1)
    $T $PUB $H -V $V -t "$topic" -m "hello world" "${props[@]}"
    $T $PUB $H -V $V -t "$topic" -n
    $T $PUB $H -V $V -t "$topic" -m "é \\ % @" -q 1
    $T mosquitto_pub $H -V $V -t "$topic" -m "from mosquitto" -q 2
    wait $ma; wait $wa
    check_files "v$V output '${f:-default}' same as mosquitto_sub" "$tmp/m" "$tmp/w"
  done
  # time conversions: same shape as mosquitto_sub
  newid; id=$ID
  $T $SUB $H -V $V -i "$id" -t "time/$V" -C 1 -F '%I|%U|@Y-@m-@dT@H:@M:@S' >"$tmp/w" &
  sp=$!; wait_sub "$id"; $T $PUB $H -V $V -t "time/$V" -m t; wait $sp
  if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{4}\|[0-9]+\.[0-9]{9}\|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}$' "$tmp/w"; then
    ok "v$V -F %I %U @-codes"
  else bad "v$V -F %I %U @-codes" "$(cat "$tmp/w")"; fi

  # --- retained messages, -R, --retained-only, --remove-retained
  $T $PUB $H -V $V -t "ret/$V/a" -m keep -r
  $T $PUB $H -V $V -t "ret/$V/b" -m keep2 -r -q 1
  out=$($T $SUB $H -V $V -t "ret/$V/a" -C 1 -F '%r %p')
  check_eq "v$V retained delivered with retain flag" "1 keep" "$out"
  $T $SUB $H -V $V -t "ret/$V/#" -R -W 1 >"$tmp/o" 2>"$tmp/e"; rc=$?
  check_eq "v$V -R drops retained, -W exits 27" "27||Timed out" "$rc|$(cat "$tmp/o")|$(cat "$tmp/e")"
  newid; id=$ID
  $T $SUB $H -V $V -i "$id" -t "ret/$V/#" --retained-only -F '%t' >"$tmp/o" &
  sp=$!; wait_sub "$id"
  $T $PUB $H -V $V -t "ret/$V/live" -m notretained
  wait $sp; rc=$?
  check_eq "v$V --retained-only prints retained, exits on live" "0|ret/$V/a ret/$V/b" \
    "$rc|$(sort "$tmp/o" | tr '\n' ' ' | sed 's/ $//')"
  $T $SUB $H -V $V -t "ret/$V/#" --remove-retained -T "ret/$V/b" -W 1 >/dev/null 2>&1
  out=$($T $SUB $H -V $V -t "ret/$V/#" -W 1 -F '%t' 2>/dev/null)
  check_eq "v$V --remove-retained with -T keeps the filtered one" "ret/$V/b" "$out"
  $T $PUB $H -V $V -t "ret/$V/b" -n -r

  # --- will message on an unexpected disconnect
  newid; idw=$ID; newid; idm=$ID
  $T mosquitto_sub $H -V $V -i "$idm" -q 1 -t "will/$V" -C 1 -F '%t %p %q %r' >"$tmp/o" &
  mp=$!; wait_sub "$idm"
  # not under timeout(1): the SIGKILL must reach wardmq_sub itself
  $SUB $H -V $V -i "$idw" -t "dummy/$V" --will-topic "will/$V" --will-payload gone --will-qos 1 >/dev/null &
  wp=$!; kids="$kids $wp"; wait_sub "$idw"
  kill -9 $wp; wait $wp 2>/dev/null
  wait $mp
  check_eq "v$V will published on connection loss" "will/$V gone 1 0" "$(cat "$tmp/o")"
  newid; idw=$ID; newid; idm=$ID
  $T mosquitto_sub $H -V $V -i "$idm" -t "will2/$V" -W 2 >"$tmp/o" 2>/dev/null &
  mp=$!; wait_sub "$idm"
  $T $PUB $H -V $V -i "$idw" -t "any/$V" -m x --will-topic "will2/$V" --will-payload no
  wait $mp
  check_eq "v$V no will after a normal DISCONNECT" "" "$(cat "$tmp/o")"

  # --- -C / -W / -E
  $T $SUB $H -V $V -t "none/$V" -W 1 >/dev/null 2>"$tmp/e"; rc=$?
  check_eq "v$V -W timeout exit status and message" "27 Timed out" "$rc $(cat "$tmp/e")"
  $T $SUB $H -V $V -t "e/$V" -E; rc=$?
  check_eq "v$V -E exits after SUBACK" "0" "$rc"
  newid; id=$ID
  $T $SUB $H -V $V -i "$id" -t "cnt/$V" -C 3 >"$tmp/o" &
  sp=$!; wait_sub "$id"
  $T $PUB $H -V $V -t "cnt/$V" -m r -q 1 --repeat 5; wait $sp; rc=$?
  check_eq "v$V --repeat 5 / -C 3 stops after three" "0 3" "$rc $(wc -l <"$tmp/o")"

  # --- session resume: messages queued while offline, QoS 1 and 2
  sid="sess$V$$"
  $T $SUB $H -V $V -c -i "$sid" -q 2 -t "sess/$V" -E
  $T mosquitto_pub $H -V $V -t "sess/$V" -q 1 -m one
  $T $PUB $H -V $V -t "sess/$V" -q 2 -m two
  out=$($T $SUB $H -V $V -c -i "$sid" -q 2 -t "sess/$V" -C 2 -F '%q %p' | tr '\n' ' ')
  check_eq "v$V persistent session delivers queued QoS 1/2" "1 one 2 two " "$out"
  $T $SUB $H -V $V -i "$sid" -t "sess/$V" -E  # clean up the session

  # --- large payload both ways (1 MiB)
  head -c 1048576 /dev/urandom >"$tmp/big"
  newid; id=$ID
  $T mosquitto_sub $H -V $V -i "$id" -t "big/$V" -C 1 -N >"$tmp/o" &
  sp=$!; wait_sub "$id"; $T $PUB $H -V $V -t "big/$V" -q 1 -f "$tmp/big"; wait $sp
  check_files "v$V 1 MiB wardmq_pub -> mosquitto_sub" "$tmp/big" "$tmp/o"
  newid; id=$ID
  $T $SUB $H -V $V -i "$id" -t "big2/$V" -C 1 -N -q 2 >"$tmp/o" &
  sp=$!; wait_sub "$id"; $T mosquitto_pub $H -V $V -t "big2/$V" -q 2 -f "$tmp/big"; wait $sp
  check_files "v$V 1 MiB mosquitto_pub -> wardmq_sub" "$tmp/big" "$tmp/o"

  # --- -l line mode and -s stdin, compared with mosquitto_pub doing the same
  for tool in wardmq mosquitto; do
    newid; id=$ID
    $T mosquitto_sub $H -V $V -i "$id" -t "lines/$V" -C 4 -v >"$tmp/l.$tool" &
    sp=$!; wait_sub "$id"
    if [ $tool = wardmq ]; then P=$PUB; else P=mosquitto_pub; fi
    printf 'a\n\nb c\r\nlast' | $T $P $H -V $V -t "lines/$V" -l -q 1
    wait $sp
  done
  check_files "v$V -l line mode same as mosquitto_pub" "$tmp/l.mosquitto" "$tmp/l.wardmq"
  newid; id=$ID
  $T $SUB $H -V $V -i "$id" -t "stdin/$V" -C 1 -N >"$tmp/o" &
  sp=$!; wait_sub "$id"
  printf 'x y\nz\0end' >"$tmp/in"
  $T $PUB $H -V $V -t "stdin/$V" -s <"$tmp/in"; wait $sp
  check_files "v$V -s sends all of stdin" "$tmp/in" "$tmp/o"
  seq 1 2000 >"$tmp/seq"
  newid; id=$ID
  $T $SUB $H -V $V -i "$id" -t "many/$V" -C 2000 -q 1 >"$tmp/o" &
  sp=$!; wait_sub "$id"
  $T $PUB $H -V $V -t "many/$V" -q 1 -l <"$tmp/seq"; wait $sp
  check_files "v$V -l 2000 lines at QoS 1 in order" "$tmp/seq" "$tmp/o"

  # --- refused connections: message and exit status as mosquitto's
  for tool in wardmq mosquitto; do
    if [ $tool = wardmq ]; then S=$SUB; else S=mosquitto_sub; fi
    $T $S -h 127.0.0.1 -p $PORT2 -V $V -t a -W 2 >/dev/null 2>"$tmp/e.$tool"
    echo "rc=$?" >>"$tmp/e.$tool"
  done
  check_files "v$V refused CONNACK: stderr and exit status as mosquitto_sub" "$tmp/e.mosquitto" "$tmp/e.wardmq"

  # --- -L URL, several -t, -T, -U, -D subscription identifier
  newid; id=$ID
  $T $SUB -L "mqtt://127.0.0.1:$PORT/url/$V" -V $V -i "$id" -t "multi/$V/#" -T "multi/$V/skip" -C 3 -F '%t %p' \
    -U "nothing/$V" >"$tmp/o" &
  sp=$!; wait_sub "$id"
  $T $PUB -L "mqtt://127.0.0.1:$PORT/url/$V" -V $V -m u
  $T $PUB $H -V $V -t "multi/$V/skip" -m s
  $T $PUB $H -V $V -t "multi/$V/a" -m a
  $T $PUB $H -V $V -t "multi/$V/b" -m b
  wait $sp
  check_eq "v$V -L, several -t, -T filter, -U" "url/$V u|multi/$V/a a|multi/$V/b b" "$(tr '\n' '|' <"$tmp/o" | sed 's/|$//')"
  if [ "$V" = 5 ]; then
    newid; id=$ID
    $T $SUB $H -V 5 -i "$id" -t "sid/#" -D subscribe subscription-identifier 42 -D connect user-property a b \
      -D connect session-expiry-interval 0 -C 1 -F '%S %p' >"$tmp/o" &
    sp=$!; wait_sub "$id"; $T $PUB $H -V 5 -t "sid/x" -m withid; wait $sp
    check_eq "v5 -D subscribe subscription-identifier reaches %S" "42 withid" "$(cat "$tmp/o")"
  fi
done

echo "== other"
# MQTT 3.1 ("MQIsdp"), with the generated client id it needs
newid; id=$ID
$T $SUB $H -V 31 -i "$id" -t v31 -q 1 -C 1 -F '%q %p' >"$tmp/o" &
sp=$!; wait_sub "$id"; $T $PUB $H -V mqttv31 -t v31 -q 1 -m old; wait $sp
check_eq "MQTT 3.1 round trip" "1 old" "$(cat "$tmp/o")"
# "localhost" may resolve to ::1 first: the connect falls back along the
# address list to the IPv4 listener
out=$($T $SUB -h localhost -p $PORT -t lh -E 2>&1); rc=$?
check_eq "-h localhost tries every address" "0 " "$rc $out"
if [ -n "$PORT6" ]; then
  newid; id=$ID
  $T $SUB -h ::1 -p "$PORT6" -i "$id" -t v6 -C 1 >"$tmp/o" &
  sp=$!; wait_sub "$id"; $T $PUB -h ::1 -p "$PORT6" -t v6 -m six; wait $sp
  check_eq "IPv6 (::1) round trip" "six" "$(cat "$tmp/o")"
fi
# SIGINT / SIGTERM: clean DISCONNECT (no will) and exit status 0
newid; idw=$ID; newid; idm=$ID
$T mosquitto_sub $H -i "$idm" -t sigwill -W 2 >"$tmp/o" 2>/dev/null &
mp=$!; wait_sub "$idm"
$SUB $H -i "$idw" -t sig --will-topic sigwill --will-payload bad >/dev/null &
wp=$!; kids="$kids $wp"; wait_sub "$idw"
kill -INT $wp; wait $wp; rc=$?
wait $mp
check_eq "SIGINT: exit 0 and no will" "0 " "$rc $(cat "$tmp/o")"
# no broker listening
cp=$(free_port)
$T $PUB -h 127.0.0.1 -p "$cp" -t a -m x 2>"$tmp/e"; rc=$?
check_eq "no server: exit 1 and 'Error: Connection refused'" "1 Error: Connection refused" "$rc $(cat "$tmp/e")"
# argument errors: the first line equals mosquitto's
for args in "-t a/# -m x" "-t a -m x -q 3" "-t a -m x -V 6" "-m x" "-t a -m x -k 3" "-t a -m x -c" \
            "-t a -m x -D publsh content-type t" "-t a -m x -D connect topic-alias 3" "-t a -m x -z"; do
  # shellcheck disable=SC2086
  $T $PUB $args >/dev/null 2>"$tmp/ew"; rw=$?
  # shellcheck disable=SC2086
  $T mosquitto_pub $args >/dev/null 2>"$tmp/em"; rm_=$?
  check_eq "pub $args: same error and status" "$rm_ $(head -1 "$tmp/em")" "$rw $(head -1 "$tmp/ew")"
done
for args in "-t a/#/b" "-t a -C 0" "-t a -W 0" "-F %z -t a" "-t a -R --retained-only" "-V 5 -c -t a"; do
  # shellcheck disable=SC2086
  $T $SUB -p "$cp" $args >/dev/null 2>"$tmp/ew"; rw=$?
  # shellcheck disable=SC2086
  $T mosquitto_sub -p "$cp" $args >/dev/null 2>"$tmp/em"; rm_=$?
  check_eq "sub $args: same error and status" "$rm_ $(grep -m1 . "$tmp/em")" "$rw $(grep -m1 . "$tmp/ew")"
done
$T $PUB --version >"$tmp/o"; rc=$?
check_eq "--version" "0 wardmq_pub version" "$rc $(cut -d' ' -f1-2 "$tmp/o")"
$T $SUB --help >"$tmp/o"; rc=$?
if [ $rc = 0 ] && grep -q -- '--remove-retained' "$tmp/o"; then ok "--help"; else bad "--help" "rc=$rc"; fi
# the library example from docs/CLIENT.md: the guide shows the file verbatim
awk '/^## 3\./{s=1} s&&/^```c$/{c=1;next} c&&/^```$/{exit} c' "$root/docs/CLIENT.md" >"$tmp/doc.c"
sed -n '/^#include <stdio.h>/,$p' "$root/tools/examples/minimal.c" >"$tmp/ex.c"
check_files "docs/CLIENT.md example is tools/examples/minimal.c" "$tmp/ex.c" "$tmp/doc.c"
if [ -x "$EXAMPLE" ]; then
  $T "$EXAMPLE" 127.0.0.1 "$PORT" >"$tmp/o" 2>&1; rc=$?
  if [ $rc = 0 ] && grep -q "example/hello hi there (qos 1)" "$tmp/o"; then ok "docs example runs"
  else bad "docs example runs" "$(cat "$tmp/o")"; fi
else
  bad "docs example built" "$EXAMPLE missing"
fi

finish
