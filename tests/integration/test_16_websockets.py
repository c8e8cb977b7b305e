# SPDX-License-Identifier: MIT
"""16 - MQTT over WebSockets (RFC 6455): `protocol websockets` listeners.

python3-paho-mqtt with transport="websockets" over ws:// and wss:// (also
with a client certificate), MQTT 3.1.1 and 5, QoS 0/1/2, retained
messages, a will on an abrupt close, and traffic between a WebSocket client
and a plain TCP client both ways. A raw WebSocket client written here
(sockets + struct, masking per RFC 6455 §5.3) checks the framing and the
handshake: packets split across (continuation) frames, several packets in
one frame, ping/pong, the close handshake, protocol violations (unmasked
frame -> 1002, text frame -> 1003), refused upgrades (431, 404, 400, 426,
403) each logged with the peer, and X-Forwarded-For honoured only when the
listener trusts it. After every refusal another client still works, and the
fixture checks at teardown that the broker stops cleanly with no sanitizer
report.

The WebSocket listener binds port 0; its port is read from the broker's
"listening on ... (ws" log line."""
import base64
import hashlib
import os
import queue
import re
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

paho = pytest.importorskip("paho.mqtt.client")

import mqttraw as m  # noqa: E402
from mqttraw import V311, V5  # noqa: E402

pytestmark = pytest.mark.wardmq_only("WardMQ WebSocket listener options and log lines")

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CA = os.path.join(HERE, "..", "fixtures", "make_test_ca.sh")
WAIT = 5.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    subprocess.run(["sh", MAKE_CA, d], check=True, capture_output=True, timeout=120)
    return d


def start_ws(broker_factory, *ws_lines, glob=(), tls=None):
    """A broker with a plain MQTT listener (b.port) and a WebSocket listener
    (returned as b.ws_port) configured with ws_lines."""
    lines = list(glob) + ["listener 0 127.0.0.1", "protocol websockets"]
    if tls:
        lines += [f"certfile {tls}/server.crt", f"keyfile {tls}/server.key"]
    lines += list(ws_lines)
    b = broker_factory(*lines, verbose=True)
    mt = b.wait_log(r"listening on 127\.0\.0\.1 port (\d+) \((ws|wss)[,)]")
    b.ws_port = int(mt.group(1))
    return b


# ---------------------------------------------------------------- paho

class Paho:
    """paho over WebSockets (or TCP), network loop in a thread, bounded waits."""

    def __init__(self, port, cid, v5=False, ws=True, tls=None, cert=None, will=None,
                 clean=True):
        kw = {"client_id": cid, "transport": "websockets" if ws else "tcp"}
        if v5:
            self.c = paho.Client(protocol=paho.MQTTv5, **kw)
        else:
            self.c = paho.Client(protocol=paho.MQTTv311, clean_session=clean, **kw)
        if ws:
            self.c.ws_set_options(path="/mqtt")
        if tls:
            self.c.tls_set(ca_certs=f"{tls}/ca.crt",
                           certfile=f"{tls}/{cert}.crt" if cert else None,
                           keyfile=f"{tls}/{cert}.key" if cert else None)
        if will:
            self.c.will_set(**will)
        self.port, self.v5 = port, v5
        self.msgs = queue.Queue()
        self.connected = threading.Event()
        self.rc = None
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, msg: self.msgs.put(msg)

    def _on_connect(self, c, u, flags, rc, properties=None):
        self.rc = rc
        self.connected.set()

    def connect(self):
        self.c.connect("localhost", self.port, keepalive=30)
        self.c.loop_start()
        assert self.connected.wait(WAIT), "no CONNACK over websockets"
        assert self.rc == 0, f"CONNACK {self.rc}"
        return self

    def subscribe(self, topic, qos):
        """Subscribe and wait for the SUBACK (on_subscribe)."""
        ev = threading.Event()
        self.c.on_subscribe = lambda *a: ev.set()
        rc, _mid = self.c.subscribe(topic, qos)
        assert rc == 0
        assert ev.wait(WAIT), f"no SUBACK for {topic}"

    def publish(self, topic, payload, qos=0, retain=False):
        info = self.c.publish(topic, payload, qos, retain)
        info.wait_for_publish(WAIT)
        assert info.is_published(), f"publish qos {qos} not completed"

    def get(self):
        try:
            return self.msgs.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError("no message arrived") from None

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()


@pytest.mark.parametrize("v5", [False, True], ids=["v311", "v5"])
def test_paho_ws_all_qos(broker_factory, v5):
    b = start_ws(broker_factory)
    sub = Paho(b.ws_port, f"wsub{v5}", v5=v5).connect()
    pub = Paho(b.ws_port, f"wpub{v5}", v5=v5).connect()
    sub.subscribe("16/q/#", 2)
    for qos in (0, 1, 2):
        pub.publish(f"16/q/{qos}", b"p" * (qos * 3000 + 5), qos)  # up to 6 KB: several frames
        msg = sub.get()
        assert (msg.topic, msg.qos, msg.payload) == (f"16/q/{qos}", qos, b"p" * (qos * 3000 + 5))
    pub.stop()
    sub.stop()
    b.wait_log(r"WebSocket upgrade from 127\.0\.0\.1:\d+ on port %d \(subprotocol mqtt\)" % b.ws_port)


def test_paho_wss_and_client_certificate(broker_factory, pki):
    b = start_ws(broker_factory, f"cafile {pki}/ca.crt", "require_certificate true",
                 "use_identity_as_username true", tls=pki)
    b.wait_log(r"port %d \(wss" % b.ws_port)
    sub = Paho(b.ws_port, "wss-sub", v5=True, tls=pki, cert="client").connect()
    pub = Paho(b.ws_port, "wss-pub", tls=pki, cert="client").connect()
    # the certificate named the client through TLS under the WebSocket layer
    b.wait_log(r"as wss-sub \(p5, c1, k30, u'client1'\)")
    sub.subscribe("16/s", 2)
    pub.publish("16/s", b"secure", 2)
    msg = sub.get()
    assert (msg.payload, msg.qos) == (b"secure", 2)
    pub.stop()
    sub.stop()
    # without a certificate the TLS handshake under the upgrade fails
    nocert = Paho(b.ws_port, "wss-nocert", tls=pki)
    with pytest.raises(Exception):
        nocert.c.connect("localhost", b.ws_port, keepalive=30)
        nocert.c.loop_start()
        assert nocert.connected.wait(3) and nocert.rc == 0
    nocert.c.loop_stop()
    b.wait_log(r"TLS handshake from 127\.0\.0\.1:\d+ on port %d failed" % b.ws_port)


def test_ws_and_tcp_clients_exchange_both_ways_with_retained(broker_factory):
    b = start_ws(broker_factory)
    ws = Paho(b.ws_port, "ws-side", v5=True).connect()
    tcp = Paho(b.port, "tcp-side", ws=False).connect()
    ws.subscribe("16/to-ws", 1)
    tcp.subscribe("16/to-tcp", 1)
    tcp.publish("16/to-ws", b"from tcp", 1)
    assert ws.get().payload == b"from tcp"
    ws.publish("16/to-tcp", b"from ws", 1)
    assert tcp.get().payload == b"from ws"
    # retained over ws, read by a new ws subscriber
    ws.publish("16/ret", b"kept", 1, retain=True)
    late = Paho(b.ws_port, "ws-late").connect()
    late.subscribe("16/ret", 0)
    msg = late.get()
    assert (msg.payload, msg.retain) == (b"kept", True)
    for c in (ws, tcp, late):
        c.stop()


@pytest.mark.parametrize("secure", [False, True], ids=["ws", "wss"])
def test_large_messages_both_ways(broker_factory, pki, secure):
    """Half a megabyte each way: many frames, partial socket writes."""
    b = start_ws(broker_factory, glob=["max_packet_size 2000000"], tls=pki if secure else None)
    ws = Paho(b.ws_port, "big-ws", v5=True, tls=pki if secure else None).connect()
    tcp = Paho(b.port, "big-tcp", ws=False).connect()
    ws.subscribe("16/big/in", 1)
    tcp.subscribe("16/big/out", 1)
    blob = bytes(range(256)) * 2048  # 512 KiB
    tcp.publish("16/big/in", blob, 1)
    assert ws.get().payload == blob
    ws.publish("16/big/out", blob[::-1], 1)
    assert tcp.get().payload == blob[::-1]
    ws.stop()
    tcp.stop()


def test_will_on_abrupt_close_of_a_ws_client(broker_factory):
    b = start_ws(broker_factory)
    watcher = Paho(b.port, "will-watch", ws=False).connect()
    watcher.subscribe("16/will", 1)
    # raw ws client with a will; the TCP connection is cut, no close frame
    w = WsRaw(b.ws_port)
    w.upgrade_ok()
    w.send_mqtt(m.connect("dying", v=V311, will={"topic": "16/will", "payload": b"gone", "qos": 1}))
    assert w.recv_mqtt(V311).type == m.CONNACK
    w.sock.close()
    msg = watcher.get()
    assert msg.payload == b"gone"
    watcher.stop()


# ---------------------------------------------------------------- raw WebSocket client

class WsRaw:
    """A minimal RFC 6455 client: the opening handshake, masked frames
    (§5.3), and MQTT packets carried in binary frames."""

    def __init__(self, port, timeout=WAIT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""      # raw bytes from the socket
        self.stream = b""   # binary message payload bytes (the MQTT stream)

    def request(self, path="/mqtt", key=None, version="13", protocol="mqtt", extra=(),
                omit=()):
        key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        hdr = {"Host": "127.0.0.1", "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": version,
               "Sec-WebSocket-Protocol": protocol}
        lines = [f"GET {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in hdr.items() if k not in omit]
        lines += list(extra)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return key

    def response(self):
        """(status, headers dict lower-case) of the HTTP response."""
        deadline = time.monotonic() + WAIT
        while b"\r\n\r\n" not in self.buf:
            assert time.monotonic() < deadline, "no HTTP response"
            d = self.sock.recv(4096)
            assert d, f"closed before an HTTP response: {self.buf!r}"
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs

    def upgrade_ok(self, **kw):
        key = self.request(**kw)
        st, h = self.response()
        assert st == 101, (st, h)
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        assert h["sec-websocket-accept"] == want
        assert h["sec-websocket-protocol"] == kw.get("protocol", "mqtt")
        return h

    def frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        b0 = (0x80 if fin else 0) | rsv | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if not mask:
            return hdr + payload
        key = os.urandom(4)
        return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))

    def send_frame(self, opcode, payload=b"", **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def send_mqtt(self, data):
        self.send_frame(0x2, data)

    def _need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise m.NoPacket("timed out waiting for a frame")
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                raise m.NoPacket("timed out waiting for a frame") from None
            if not d:
                raise m.Closed("connection closed")
            self.buf += d

    def recv_frame(self, timeout=WAIT):
        """(fin, opcode, payload) of the next server frame; servers never mask."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "server frame is masked (RFC 6455 §5.1)"
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4, deadline)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10, deadline)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_mqtt(self, v=V5, timeout=WAIT):
        """The next MQTT packet from the binary frames' byte stream."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.stream) >= 2:
                mult, n, i = 1, 0, 1
                while i < len(self.stream):
                    byte = self.stream[i]
                    n += (byte & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not byte & 0x80:
                        if len(self.stream) >= i + n:
                            raw, self.stream = self.stream[:i + n], self.stream[i + n:]
                            return m.Packet(raw, v)
                        break
            fin, op, payload = self.recv_frame(max(0.05, deadline - time.monotonic()))
            assert op in (0x0, 0x2), f"unexpected frame opcode {op}: {payload!r}"
            self.stream += payload

    def expect_close(self, code):
        """The server's close frame carries |code|, then the TCP connection ends."""
        while True:
            fin, op, payload = self.recv_frame()
            if op == 0x8:
                break
            assert op in (0x0, 0x2, 0xA), f"unexpected opcode {op}"
        assert len(payload) >= 2 and struct.unpack("!H", payload[:2])[0] == code, payload
        self.expect_eof()

    def expect_eof(self):
        deadline = time.monotonic() + WAIT
        self.sock.settimeout(WAIT)
        while time.monotonic() < deadline:
            try:
                d = self.sock.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                return
            if not d:
                return
        raise AssertionError("connection not closed")

    def close(self):
        self.sock.close()


def mqtt_client(b, cid, v=V5):
    w = WsRaw(b.ws_port)
    w.upgrade_ok()
    w.send_mqtt(m.connect(cid, v=v))
    p = w.recv_mqtt(v)
    assert p.type == m.CONNACK and p.rc == 0, p
    return w


def still_works(b):
    """Another WebSocket client connects and round-trips a PINGREQ."""
    w = mqtt_client(b, "")
    w.send_mqtt(m.PINGREQ_PKT)
    assert w.recv_mqtt().type == m.PINGRESP
    w.close()


def test_packet_split_across_frames_and_continuations(broker_factory):
    b = start_ws(broker_factory)
    tcp = m.client(b.port, "tcp-rx")
    tcp.subscribe("16/split", qos=1)
    w = WsRaw(b.ws_port)
    w.upgrade_ok()
    con = m.connect("splitter", v=V5)
    # CONNECT as one fragmented message: binary + 2 continuations
    w.send_frame(0x2, con[:3], fin=False)
    w.send_frame(0x0, con[3:7], fin=False)
    w.send_frame(0x0, con[7:], fin=True)
    assert w.recv_mqtt().type == m.CONNACK
    # a PUBLISH split over three complete binary messages (a packet may span
    # messages: MQTT over WebSocket is a byte stream)
    pub = m.publish("16/split", b"A" * 300, qos=1, pid=7, v=V5)
    w.send_frame(0x2, pub[:1])
    w.send_frame(0x2, pub[1:150])
    w.send_frame(0x2, pub[150:])
    ack = w.recv_mqtt()
    assert (ack.type, ack.pid) == (m.PUBACK, 7)
    assert tcp.recv_publish().payload == b"A" * 300
    # a control frame (ping) in the middle of a fragmented message (§5.4)
    w.send_frame(0x2, pub[:10], fin=False)
    w.send_frame(0x9, b"mid")
    w.send_frame(0x0, pub[10:], fin=True)
    assert w.recv_frame() == (True, 0xA, b"mid")
    assert w.recv_mqtt().type == m.PUBACK
    assert tcp.recv_publish().payload == b"A" * 300
    w.close()


def test_several_packets_in_one_frame(broker_factory):
    b = start_ws(broker_factory)
    w = WsRaw(b.ws_port)
    w.upgrade_ok()
    data = (m.connect("multi", v=V5) + m.subscribe(1, ("16/multi", 1), v=V5) +
            m.publish("16/multi", b"one", qos=1, pid=2, v=V5) + m.PINGREQ_PKT)
    w.send_mqtt(data)
    got = [w.recv_mqtt() for _ in range(5)]
    types = sorted(p.type for p in got)
    assert types == sorted([m.CONNACK, m.SUBACK, m.PUBACK, m.PUBLISH, m.PINGRESP]), got
    assert got[0].type == m.CONNACK and got[1].type == m.SUBACK
    w.close()


def test_ping_pong_and_close_handshake(broker_factory):
    b = start_ws(broker_factory)
    w = mqtt_client(b, "pinger")
    w.send_frame(0x9, b"hello ping")
    assert w.recv_frame() == (True, 0xA, b"hello ping")
    w.send_frame(0x9, b"")
    assert w.recv_frame() == (True, 0xA, b"")
    # close handshake: the broker answers with a close frame and ends TCP
    w.send_frame(0x8, struct.pack("!H", 1000) + b"bye")
    w.expect_close(1000)
    b.wait_log(r"client pinger \[127\.0\.0\.1:\d+\] disconnected: connection closed by peer")
    still_works(b)


def test_unmasked_frame_is_closed_1002(broker_factory):
    b = start_ws(broker_factory)
    w = WsRaw(b.ws_port)
    w.upgrade_ok()
    w.send_frame(0x2, m.connect("nomask", v=V5), mask=False)
    w.expect_close(1002)
    b.wait_log(r"WebSocket connection from 127\.0\.0\.1:\d+ \(client -\) closed: close code 1002")
    still_works(b)


def test_text_frame_is_closed_1003(broker_factory):
    b = start_ws(broker_factory)
    w = mqtt_client(b, "texter")
    w.send_frame(0x1, b"hello")
    w.expect_close(1003)
    b.wait_log(r"WebSocket connection from 127\.0\.0\.1:\d+ \(client texter\) closed: close code 1003")
    still_works(b)


def test_oversize_frame_is_closed_1009(broker_factory):
    # the frame limit is max_packet_size (+ header room), at least 1 MiB
    b = start_ws(broker_factory, glob=["max_packet_size 100000"])
    w = mqtt_client(b, "bigframe")
    # a header announcing 4 MiB (above max_packet_size and the 1 MiB floor);
    # the payload is never sent: the header alone is refused
    w.sock.sendall(struct.pack("!BBQ", 0x82, 0x80 | 127, 4 << 20) + os.urandom(4))
    w.expect_close(1009)
    b.wait_log(r"\(client bigframe\) closed: close code 1009")
    still_works(b)


def refused(b, status, **req):
    w = WsRaw(b.ws_port)
    w.request(**req)
    st, _h = w.response()
    assert st == status, st
    w.expect_eof()
    w.close()
    b.wait_log(r"WebSocket upgrade from 127\.0\.0\.1:\d+ on port %d refused: HTTP %d, "
               % (b.ws_port, status))


def test_refused_upgrades(broker_factory):
    b = start_ws(broker_factory, glob=["websockets_headers_size 2048"])
    refused(b, 404, path="/other")
    refused(b, 400, omit=("Sec-WebSocket-Key",))
    refused(b, 426, version="8")
    # a request larger than websockets_headers_size
    w = WsRaw(b.ws_port)
    w.request(extra=[f"X-Pad: {'p' * 3000}"])
    st, _ = w.response()
    assert st in (431, 400)
    w.expect_eof()
    b.wait_log(r"refused: HTTP (431|400), ")
    # the path's query string is ignored; "/" is not the path
    refused(b, 404, path="/")
    w = WsRaw(b.ws_port)
    w.upgrade_ok(path="/mqtt?x=1")
    w.close()
    still_works(b)


def test_any_path_and_mqttv31_subprotocol(broker_factory):
    b = start_ws(broker_factory, "websockets_path *")
    w = WsRaw(b.ws_port)
    w.upgrade_ok(path="/", protocol="mqttv3.1")
    w.send_mqtt(m.connect("anypath", v=V311))
    assert w.recv_mqtt(V311).type == m.CONNACK
    w.close()


def test_origin_allow_list(broker_factory):
    b = start_ws(broker_factory, "websockets_origin https://good.example",
                 "websockets_origin http://also.example:8080")
    refused(b, 403, extra=["Origin: https://evil.example"])
    for origin in ("https://good.example", "HTTP://ALSO.example:8080"):
        w = WsRaw(b.ws_port)
        w.upgrade_ok(extra=[f"Origin: {origin}"])
        w.close()
    # no Origin header (not a browser): accepted
    still_works(b)


def test_x_forwarded_for_only_when_trusted(broker_factory):
    b = start_ws(broker_factory)
    w = WsRaw(b.ws_port)
    w.upgrade_ok(extra=["X-Forwarded-For: 203.0.113.9, 10.0.0.1"])
    w.send_mqtt(m.connect("untrusted-xff", v=V5))
    assert w.recv_mqtt().type == m.CONNACK
    b.wait_log(r"new client connected from 127\.0\.0\.1:\d+ as untrusted-xff")
    assert "203.0.113.9" not in b.log_text()
    w.close()

    t = start_ws(broker_factory, "websockets_trust_forwarded true")
    w = WsRaw(t.ws_port)
    w.upgrade_ok(extra=["X-Forwarded-For: 203.0.113.9, 10.0.0.1"])
    w.send_mqtt(m.connect("trusted-xff", v=V5))
    assert w.recv_mqtt().type == m.CONNACK
    t.wait_log(r"WebSocket connection from 127\.0\.0\.1:\d+ on port %d forwarded for 203\.0\.113\.9"
               % t.ws_port)
    t.wait_log(r"new client connected from 203\.0\.113\.9 as trusted-xff")
    w.send_frame(0x8, struct.pack("!H", 1000))
    w.expect_close(1000)
    t.wait_log(r"client trusted-xff \[203\.0\.113\.9\] disconnected")


def test_handshake_covered_by_connect_timeout(broker_factory):
    b = start_ws(broker_factory, glob=["connect_timeout 1"])
    w = WsRaw(b.ws_port)
    w.sock.sendall(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n")  # never finished
    w.expect_eof()
    b.wait_log(r"connection from 127\.0\.0\.1:\d+: no CONNECT within 1000 ms")
    still_works(b)


def test_ws_config_errors(tmp_path):
    """WebSocket options on an MQTT listener are refused at start."""
    from conftest import wardmq_bin
    conf = tmp_path / "bad.conf"
    conf.write_text("listener 0 127.0.0.1\nwebsockets_origin https://x.example\n")
    r = subprocess.run([wardmq_bin(), "--test-config", "-c", str(conf)], capture_output=True,
                       timeout=20)
    assert r.returncode != 0
    assert re.search(rb"websockets_origin is set but the listener is not 'protocol websockets'",
                     r.stderr + r.stdout), r.stderr


def test_wss_crl_reload_disconnects_revoked_session(broker_factory, pki, tmp_path):
    """crl_disconnect reaches the TLS session under the WebSocket layer."""
    crl = str(tmp_path / "crl.pem")
    with open(f"{pki}/crl-empty.pem", "rb") as f, open(crl, "wb") as g:
        g.write(f.read())
    b = start_ws(broker_factory, f"cafile {pki}/ca.crt", f"crlfile {crl}",
                 "require_certificate true", "crl_disconnect true", tls=pki)
    live = Paho(b.ws_port, "soon-revoked", v5=True, tls=pki, cert="client-revoked").connect()
    gone = threading.Event()
    live.c.on_disconnect = lambda *a: gone.set()
    with open(f"{pki}/crl.pem", "rb") as f, open(crl, "wb") as g:
        g.write(f.read())
    mark = len(b.log_text())
    b.sighup()
    b.wait_log(r"TLS material reloaded", start=mark)
    b.wait_log(r"client soon-revoked \[127\.0\.0\.1:\d+\]: certificate no longer valid \(revoked\)",
               start=mark)
    assert gone.wait(WAIT), "revoked wss session still connected"
    live.c.loop_stop()
    still = Paho(b.ws_port, "valid", tls=pki, cert="client").connect()
    still.stop()
