#!/usr/bin/env bash
# tls_vs_mosquitto.sh [BUILD_DIR] - wardmq_pub / wardmq_sub over TLS against
# a real mosquitto broker.
#
# Makes a test PKI with tests/fixtures/make_test_ca.sh (plus one server
# certificate for a foreign host name), starts mosquitto with four loopback
# listeners: certificate (CA only), certificate with require_certificate,
# TLS-PSK, and one whose certificate names "other.example". Checks: CA-only
# round trip, IP address SAN, client certificate, missing / expired / wrong-CA
# client certificates refused, wrong CA on our side refused with the verify
# result, hostname mismatch refused and accepted with --insecure, PSK (right
# and wrong key), mqtts:// URLs, --tls-version, mosquitto_sub receiving from
# wardmq_pub over TLS; and, if the build has a TLS-capable wardmq broker,
# the same against its certificate listener. Prints "ok"/"FAIL" per check and "N passed, M failed";
# exit 1 on failure, 77 if mosquitto or openssl is missing.
set -u
. "$(dirname "$0")/lib.sh"
require_bins "$PUB" "$SUB" "$MOSQ" "$(command -v mosquitto_sub)" "$(command -v openssl)"
make_pki
# a server certificate that does not name localhost / 127.0.0.1
(
  cd "$pki" &&
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
    -subj /CN=other.example -out other.csr 2>/dev/null &&
  printf 'subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n' >other.ext &&
  openssl x509 -req -in other.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
    -extfile other.ext -out server-other.crt 2>/dev/null
) || { echo "cannot make server-other.crt"; exit 1; }
# mosquitto started as root drops to its own user: let it read the PKI
chmod -R a+rX "$tmp"

P_CA=$(free_port); P_REQ=$(free_port); P_PSK=$(free_port); P_OTHER=$(free_port)
PSK_KEY=0123456789abcdef0123456789abcdef
printf 'dev1:%s\n' "$PSK_KEY" >"$tmp/psk.txt"
chmod a+r "$tmp/psk.txt"
cat >"$tmp/mosquitto.conf" <<EOF
per_listener_settings true
persistence false
listener $P_CA 127.0.0.1
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
allow_anonymous true
listener $P_REQ 127.0.0.1
cafile $pki/ca.crt
certfile $pki/server.crt
keyfile $pki/server.key
require_certificate true
allow_anonymous true
listener $P_PSK 127.0.0.1
psk_hint wardmq-test
psk_file $tmp/psk.txt
allow_anonymous true
listener $P_OTHER 127.0.0.1
cafile $pki/ca.crt
certfile $pki/server-other.crt
keyfile $pki/other.key
allow_anonymous true
EOF
start_mosquitto $P_OTHER

T="timeout 20"
CA="--cafile $pki/ca.crt"


for V in 311 5; do
  roundtrip "v$V CA only, host localhost" "hello-$V" -V $V -h localhost -p $P_CA $CA -t t/ca \
    -- -V $V -h localhost -p $P_CA $CA -t t/ca
  roundtrip "v$V client certificate (require_certificate)" "cert-$V" \
    -V $V -h localhost -p $P_REQ $CA --cert "$pki/client.crt" --key "$pki/client.key" -t t/req \
    -- -V $V -h localhost -p $P_REQ $CA --cert "$pki/client.crt" --key "$pki/client.key" -t t/req
  roundtrip "v$V PSK" "psk-$V" -V $V -h 127.0.0.1 -p $P_PSK --psk $PSK_KEY --psk-identity dev1 -t t/psk \
    -- -V $V -h 127.0.0.1 -p $P_PSK --psk $PSK_KEY --psk-identity dev1 -t t/psk
done

roundtrip "IP address 127.0.0.1 matches the IP SAN" "ip" -h 127.0.0.1 -p $P_CA $CA -t t/ip \
  -- -h 127.0.0.1 -p $P_CA $CA -t t/ip
roundtrip "mqtts:// URL with port" "url" -L "mqtts://localhost:$P_CA/t/url" $CA \
  -- -L "mqtts://localhost:$P_CA/t/url" $CA
roundtrip "--tls-version tlsv1.3" "v13" -h localhost -p $P_CA $CA --tls-version tlsv1.3 -t t/v13 \
  -- -h localhost -p $P_CA $CA --tls-version tlsv1.3 -t t/v13
roundtrip "--insecure accepts a hostname mismatch" "insecure" \
  -h localhost -p $P_OTHER $CA --insecure -t t/ins -- -h localhost -p $P_OTHER $CA --insecure -t t/ins
roundtrip "PSK with --ciphers" "psk12" \
  -h 127.0.0.1 -p $P_PSK --psk $PSK_KEY --psk-identity dev1 -t t/psk12 \
  -- -h 127.0.0.1 -p $P_PSK --psk $PSK_KEY --psk-identity dev1 --ciphers PSK-AES128-GCM-SHA256 -t t/psk12

refused "hostname mismatch refused" "hostname mismatch" -h localhost -p $P_OTHER $CA
refused "wrong CA refused with the verify result" \
  "certificate verify failed: " -h localhost -p $P_CA \
  --cafile "$pki/other-ca.crt"
refused "mqtts:// with the system CAs refuses the test CA" "certificate verify failed" \
  -L "mqtts://localhost:$P_CA/t/x"
refused "no client certificate refused" "TLS error" -h localhost -p $P_REQ $CA
refused "expired client certificate refused" "certificate expired\|TLS error" -h localhost -p $P_REQ $CA \
  --cert "$pki/client-expired.crt" --key "$pki/client-expired.key"
refused "client certificate of another CA refused" "unknown ca\|TLS error" -h localhost -p $P_REQ $CA \
  --cert "$pki/client-wrongca.crt" --key "$pki/client-wrongca.key"
refused "wrong PSK refused" "TLS error" -h 127.0.0.1 -p $P_PSK --psk 00112233 --psk-identity dev1
refused "missing CA file reported" "Problem setting TLS options\|cannot load the CA" \
  -h localhost -p $P_CA --cafile "$tmp/nonexistent.crt"
refused "TLS to a plain-text expectation mismatch (PSK port, certificate client)" "TLS error" \
  -h localhost -p $P_PSK $CA

# mosquitto_sub receives what wardmq_pub sends over TLS with a client cert
$T mosquitto_sub -h localhost -p $P_REQ $CA --cert "$pki/client.crt" --key "$pki/client.key" \
  -t t/mix -C 1 -W 10 >"$tmp/ms.out" 2>&1 &
msp=$!
sleep 0.7
$T "$PUB" -h localhost -p $P_REQ $CA --cert "$pki/client.crt" --key "$pki/client.key" \
  -t t/mix -q 1 -m mixed >"$tmp/p.out" 2>&1
wait $msp
if [ "$(cat "$tmp/ms.out")" = mixed ]; then ok "mosquitto_sub receives wardmq_pub over TLS"
else bad "mosquitto_sub receives wardmq_pub over TLS" "$(cat "$tmp/ms.out" "$tmp/p.out")"; fi

# TLS 1.2 PSK (mosquitto negotiates 1.3): openssl s_server limited to 1.2
P_S=$(free_port)
(sleep 8 | timeout 10 openssl s_server -tls1_2 -psk $PSK_KEY -psk_identity dev1 -nocert \
  -accept $P_S >"$tmp/s_server.log" 2>&1 &)
for _ in $(seq 1 30); do grep -q ACCEPT "$tmp/s_server.log" 2>/dev/null && break; sleep 0.1; done
timeout 5 "$PUB" -d -h 127.0.0.1 -p $P_S --psk $PSK_KEY --psk-identity dev1 -t t -m x \
  -k 5 >"$tmp/p12.out" 2>&1
if grep -q "TLS handshake done: TLSv1.2, .*PSK" "$tmp/p12.out"; then ok "TLS 1.2 PSK handshake (openssl s_server)"
else bad "TLS 1.2 PSK handshake (openssl s_server)" "$(cat "$tmp/p12.out")"; fi

# our own broker's certificate listener, when this build has one
WARDMQ=$build/bin/wardmq
if [ -x "$WARDMQ" ]; then
  P_W=$(free_port)
  cat >"$tmp/wardmq.conf" <<EOF
listener $P_W 127.0.0.1
certfile $pki/server.crt
keyfile $pki/server.key
cafile $pki/ca.crt
allow_anonymous true
EOF
  timeout 120 "$WARDMQ" -c "$tmp/wardmq.conf" >"$tmp/wardmq.log" 2>&1 &
  wpid=$!
  for _ in $(seq 1 50); do grep -q "running" "$tmp/wardmq.log" 2>/dev/null && break; sleep 0.1; done
  if grep -q "mqtt+tls" "$tmp/wardmq.log"; then
    roundtrip "wardmq broker: CA only, v5" "own" -V 5 -h localhost -p $P_W $CA -t t/own \
      -- -V 5 -h localhost -p $P_W $CA -t t/own -q 1
    roundtrip "wardmq broker: client certificate" "owncert" -h localhost -p $P_W $CA \
      --cert "$pki/client.crt" --key "$pki/client.key" -t t/oc \
      -- -h localhost -p $P_W $CA --cert "$pki/client.crt" --key "$pki/client.key" -t t/oc
    refused "wardmq broker: wrong CA refused" "certificate verify failed" -h localhost -p $P_W \
      --cafile "$pki/other-ca.crt"
  else
    echo "skip wardmq broker checks (no TLS listener in this build)"
  fi
  kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
fi

finish
