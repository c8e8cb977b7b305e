#!/usr/bin/env bash
# ws_vs_mosquitto.sh [BUILD_DIR] - wardmq_pub / wardmq_sub over WebSockets
# (ws:// and wss://) against a real mosquitto broker.
#
# Starts mosquitto with three loopback listeners: websockets, websockets
# with a certificate (wss) from tests/fixtures/make_test_ca.sh, and plain
# MQTT. Checks: round trips over ws for MQTT 3.1.1 and 5 at QoS 0/1/2,
# -L ws:// and wss:// URLs, --ws-path, a 300 KB payload both ways (frames
# with 64-bit lengths), mosquitto_sub on TCP receiving what wardmq_pub sent
# over ws (and mosquitto_pub on TCP to wardmq_sub over ws), wss with the
# test CA, and clear errors for --ws against a plain MQTT port and for a
# wrong CA over wss. Prints "ok"/"FAIL" per check and "N passed, M failed";
# exit 1 on failure, 77 if mosquitto or openssl is missing.
set -u
. "$(dirname "$0")/lib.sh"
require_bins "$PUB" "$SUB" "$MOSQ" "$(command -v mosquitto_sub)" "$(command -v mosquitto_pub)" \
  "$(command -v openssl)"
make_pki

P_WS=$(free_port); P_WSS=$(free_port); P_TCP=$(free_port)
cat >"$tmp/mosquitto.conf" <<EOF
per_listener_settings true
persistence false
listener $P_WS 127.0.0.1
protocol websockets
allow_anonymous true
listener $P_WSS 127.0.0.1
protocol websockets
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
allow_anonymous true
listener $P_TCP 127.0.0.1
allow_anonymous true
EOF
start_mosquitto $P_TCP

T="timeout 30"
CA="--cafile $pki/ca.crt"


for V in 311 5; do
  for Q in 0 1 2; do
    roundtrip "ws v$V QoS $Q" "ws-$V-$Q" --ws -V $V -q $Q -h 127.0.0.1 -p $P_WS -t t/ws$V$Q \
      -- --ws -V $V -q $Q -h 127.0.0.1 -p $P_WS -t t/ws$V$Q
  done
done
roundtrip "-L ws:// URL with a path" "url" -L "ws://127.0.0.1:$P_WS/mqtt" -t t/url \
  -- -L "ws://127.0.0.1:$P_WS/mqtt" -t t/url -q 1
roundtrip "--ws-path" "path" --ws-path /mqtt -p $P_WS -t t/path \
  -- --ws --ws-path /mqtt -p $P_WS -t t/path -q 2
roundtrip "wss:// URL with the test CA, v5" "wss" -V 5 -L "wss://localhost:$P_WSS/mqtt" $CA -t t/wss \
  -- -V 5 -L "wss://localhost:$P_WSS/mqtt" $CA -t t/wss -q 1
roundtrip "--ws with --cafile (wss), QoS 2" "wss2" --ws -h localhost -p $P_WSS $CA -t t/wss2 -q 2 \
  -- --ws -h localhost -p $P_WSS $CA -t t/wss2 -q 2

# a 300 KB payload (frames with 64-bit lengths) over ws both ways, and
# across transports: ws publisher -> TCP subscriber, TCP publisher -> ws
head -c 300000 /dev/urandom | base64 -w0 >"$tmp/big"
big_check() {
  local name=$1 got=$2
  if cmp -s <(head -c "$(wc -c <"$tmp/big")" "$got") "$tmp/big"; then ok "$name"
  else bad "$name" "received $(wc -c <"$got") bytes; $(cat "$tmp/b.err" 2>/dev/null)"; fi
}
for V in 311 5; do
  $T "$SUB" --ws -V $V -p $P_WS -t t/big$V -q 1 -C 1 -W 20 >"$tmp/b.out" 2>"$tmp/b.err" &
  sp=$!
  sleep 0.7
  $T "$PUB" --ws -V $V -p $P_WS -t t/big$V -q 1 -f "$tmp/big" >>"$tmp/b.err" 2>&1
  wait $sp
  big_check "ws v$V: 400 KB message wardmq_pub -> wardmq_sub" "$tmp/b.out"
done

$T mosquitto_sub -p $P_TCP -t t/mix -C 2 -W 20 >"$tmp/ms.out" 2>"$tmp/b.err" &
msp=$!
sleep 0.7
$T "$PUB" --ws -p $P_WS -t t/mix -q 2 -m small >>"$tmp/b.err" 2>&1
$T "$PUB" --ws -p $P_WS -t t/mix -q 1 -f "$tmp/big" >>"$tmp/b.err" 2>&1
wait $msp
if [ "$(head -1 "$tmp/ms.out")" = small ]; then ok "mosquitto_sub (TCP) receives wardmq_pub over ws"
else bad "mosquitto_sub (TCP) receives wardmq_pub over ws" "$(head -c 300 "$tmp/ms.out")"; fi
tail -n +2 "$tmp/ms.out" >"$tmp/ms2.out"
big_check "mosquitto_sub (TCP) receives a 400 KB message from wardmq_pub over ws" "$tmp/ms2.out"

$T "$SUB" --ws -V 5 -p $P_WS -t t/rev -q 2 -C 1 -W 20 >"$tmp/r.out" 2>"$tmp/b.err" &
sp=$!
sleep 0.7
mosquitto_pub -p $P_TCP -t t/rev -q 1 -f "$tmp/big" >>"$tmp/b.err" 2>&1
wait $sp
big_check "wardmq_sub over ws receives a 400 KB message from mosquitto_pub (TCP)" "$tmp/r.out"

$T "$SUB" --ws -V 5 -L "wss://localhost:$P_WSS" $CA -t t/bigs -q 1 -C 1 -W 20 >"$tmp/bs.out" \
  2>"$tmp/b.err" &
sp=$!
sleep 0.7
$T "$PUB" --ws -V 5 -h localhost -p $P_WSS $CA -t t/bigs -q 1 -f "$tmp/big" >>"$tmp/b.err" 2>&1
wait $sp
big_check "wss: 400 KB message both ways (default path)" "$tmp/bs.out"

refused "--ws against a plain MQTT port fails clearly" "WebSocket" --ws -p $P_TCP
refused "wss with the wrong CA refused" "certificate verify failed" --ws -h localhost -p $P_WSS \
  --cafile "$pki/other-ca.crt"
refused "--ws-path must start with /" "Invalid WebSocket path" --ws-path mqtt -p $P_WS
refused "bad ws:// URL path" "bad path" -L "ws://127.0.0.1:$P_WS/a b"

finish
