# SPDX-License-Identifier: MIT
"""mqttraw.py - hand-written MQTT packets and a blocking test client.

Role: the integration tests talk to the broker in raw bytes. Packets are
either spelled out in the tests (bytes.fromhex) or built by the tiny,
explicit helpers below, which follow the spec field by field (MQTT 3.1.1
section 3, MQTT 5.0 section 3). Nothing here uses WardMQ's own encoder.

Conn wraps a socket: recv_packet(timeout) reads one fixed header, the
remaining length and the body and decodes the fields the tests assert on;
expect_*() helpers fail the test (AssertionError) with a readable message.
Every wait is bounded.
"""
import socket
import struct
import time

# Packet types (MQTT 5.0 2.1.2).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP = 8, 9, 10, 11, 12, 13
DISCONNECT, AUTH = 14, 15
TYPE_NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
              7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
              12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}

# Protocol levels.
V31, V311, V5 = 3, 4, 5

# Property identifiers (MQTT 5.0 2.2.2.2) and their wire types.
PAYLOAD_FORMAT = 0x01
MESSAGE_EXPIRY = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_ID = 0x0B
SESSION_EXPIRY = 0x11
ASSIGNED_CLIENT_ID = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTH_METHOD = 0x15
AUTH_DATA = 0x16
REQUEST_PROBLEM_INFO = 0x17
WILL_DELAY = 0x18
REQUEST_RESPONSE_INFO = 0x19
RESPONSE_INFO = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUB_AVAILABLE = 0x28
SUB_ID_AVAILABLE = 0x29
SHARED_SUB_AVAILABLE = 0x2A

PROP_TYPES = {
    PAYLOAD_FORMAT: "byte", MESSAGE_EXPIRY: "u32", CONTENT_TYPE: "str", RESPONSE_TOPIC: "str",
    CORRELATION_DATA: "bin", SUBSCRIPTION_ID: "varint", SESSION_EXPIRY: "u32",
    ASSIGNED_CLIENT_ID: "str", SERVER_KEEP_ALIVE: "u16", AUTH_METHOD: "str", AUTH_DATA: "bin",
    REQUEST_PROBLEM_INFO: "byte", WILL_DELAY: "u32", REQUEST_RESPONSE_INFO: "byte",
    RESPONSE_INFO: "str", SERVER_REFERENCE: "str", REASON_STRING: "str",
    RECEIVE_MAXIMUM: "u16", TOPIC_ALIAS_MAXIMUM: "u16", TOPIC_ALIAS: "u16", MAXIMUM_QOS: "byte",
    RETAIN_AVAILABLE: "byte", USER_PROPERTY: "pair", MAXIMUM_PACKET_SIZE: "u32",
    WILDCARD_SUB_AVAILABLE: "byte", SUB_ID_AVAILABLE: "byte", SHARED_SUB_AVAILABLE: "byte",
}

# Every Conn stays referenced here until close_all() (called by the test
# fixture at teardown), so a connection a test does not keep in a variable
# is not closed early by garbage collection.
OPEN = []

DEFAULT_TIMEOUT = 5.0   # seconds to wait for a packet that must arrive
QUIET_TIME = 0.5        # seconds of silence that count as "nothing was sent"


class Closed(AssertionError):
    """The broker closed the connection while a packet was expected."""


class NoPacket(AssertionError):
    """No (complete) packet arrived within the timeout."""


# ---------------------------------------------------------------- encoders

def varint(n):
    """Variable Byte Integer (MQTT 5.0 1.5.5)."""
    assert 0 <= n <= 268435455
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            return bytes(out)


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u32(n):
    return struct.pack("!I", n)


def s(x):
    """UTF-8 Encoded String: 2-byte length + bytes (x may be str or raw bytes)."""
    if isinstance(x, str):
        x = x.encode("utf-8")
    return u16(len(x)) + x


binary = s  # Binary Data has the same shape


def prop(pid, value):
    """One property: identifier + value encoded per PROP_TYPES."""
    t = PROP_TYPES[pid]
    if t == "byte":
        return u8(pid) + u8(value)
    if t == "u16":
        return u8(pid) + u16(value)
    if t == "u32":
        return u8(pid) + u32(value)
    if t == "varint":
        return u8(pid) + varint(value)
    if t in ("str", "bin"):
        return u8(pid) + s(value)
    if t == "pair":
        return u8(pid) + s(value[0]) + s(value[1])
    raise ValueError(pid)


def props(*items, raw=b""):
    """Property block: Property Length + properties in the order given.
    items are (identifier, value) pairs; raw bytes are appended verbatim."""
    data = b"".join(prop(pid, v) for pid, v in items) + raw
    return varint(len(data)) + data


def user_props(*pairs):
    return [(USER_PROPERTY, p) for p in pairs]


def packet(first_byte, body):
    """Fixed header (type+flags, Remaining Length) + body."""
    return u8(first_byte) + varint(len(body)) + body


def connect(cid="", v=V5, clean=True, keepalive=60, properties=None, will=None,
            username=None, password=None, proto_name=None, flags_extra=0):
    """CONNECT (3.1). will = dict(topic=, payload=, qos=0, retain=False, properties=None)."""
    if proto_name is None:
        proto_name = b"MQIsdp" if v == V31 else b"MQTT"
    flags = flags_extra
    if clean:
        flags |= 0x02
    payload = s(cid)
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
        if v == V5:
            payload += will.get("properties") or b"\x00"
        payload += s(will["topic"]) + binary(will.get("payload", b""))
    if username is not None:
        flags |= 0x80
        payload += s(username)
    if password is not None:
        flags |= 0x40
        payload += binary(password)
    var = s(proto_name) + u8(v) + u8(flags) + u16(keepalive)
    if v == V5:
        var += properties if properties is not None else b"\x00"
    return packet(0x10, var + payload)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None, v=V5,
            properties=None):
    """PUBLISH (3.3). pid defaults to 1 for QoS > 0."""
    if isinstance(payload, str):
        payload = payload.encode()
    fb = 0x30 | (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = s(topic)
    if qos > 0:
        body += u16(1 if pid is None else pid)
    if v == V5:
        body += properties if properties is not None else b"\x00"
    return packet(fb, body + payload)


def _ack(first_byte, pid, rc, v, properties):
    body = u16(pid)
    if v == V5 and (rc is not None or properties is not None):
        body += u8(rc or 0)
        if properties is not None:
            body += properties
    return packet(first_byte, body)


def puback(pid, rc=None, v=V5, properties=None):
    return _ack(0x40, pid, rc, v, properties)


def pubrec(pid, rc=None, v=V5, properties=None):
    return _ack(0x50, pid, rc, v, properties)


def pubrel(pid, rc=None, v=V5, properties=None):
    return _ack(0x62, pid, rc, v, properties)


def pubcomp(pid, rc=None, v=V5, properties=None):
    return _ack(0x70, pid, rc, v, properties)


def subopts(qos=0, nl=False, rap=False, rh=0):
    """Subscription Options byte (3.8.3.1)."""
    return qos | (0x04 if nl else 0) | (0x08 if rap else 0) | (rh << 4)


def subscribe(pid, *filters, v=V5, properties=None):
    """SUBSCRIBE (3.8). filters are (filter, options byte) pairs."""
    body = u16(pid)
    if v == V5:
        body += properties if properties is not None else b"\x00"
    for f, o in filters:
        body += s(f) + u8(o)
    return packet(0x82, body)


def unsubscribe(pid, *filters, v=V5, properties=None):
    body = u16(pid)
    if v == V5:
        body += properties if properties is not None else b"\x00"
    for f in filters:
        body += s(f)
    return packet(0xA2, body)


PINGREQ_PKT = b"\xc0\x00"


def disconnect(rc=None, properties=None):
    if rc is None and properties is None:
        return b"\xe0\x00"
    body = u8(rc or 0)
    if properties is not None:
        body += properties
    return packet(0xE0, body)


def auth(rc=0, properties=None):
    return packet(0xF0, u8(rc) + (properties if properties is not None else b"\x00"))


# ---------------------------------------------------------------- decoder

class Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def left(self):
        return len(self.d) - self.i

    def take(self, n):
        assert self.left() >= n, f"truncated field: need {n} bytes, have {self.left()}"
        out = self.d[self.i:self.i + n]
        self.i += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def u32(self):
        return struct.unpack("!I", self.take(4))[0]

    def varint(self):
        mult, val = 1, 0
        for _ in range(4):
            b = self.u8()
            val += (b & 0x7F) * mult
            if not b & 0x80:
                return val
            mult *= 128
        raise AssertionError("variable byte integer longer than 4 bytes")

    def bin(self):
        return self.take(self.u16())

    def str(self):
        return self.bin().decode("utf-8")

    def rest(self):
        return self.take(self.left())


def parse_props(r):
    """Property list as [(id, value), ...] in wire order."""
    n = r.varint()
    sub = Reader(r.take(n))
    out = []
    while sub.left():
        pid = sub.varint()
        assert pid in PROP_TYPES, f"unknown property id 0x{pid:02x}"
        t = PROP_TYPES[pid]
        if t == "byte":
            val = sub.u8()
        elif t == "u16":
            val = sub.u16()
        elif t == "u32":
            val = sub.u32()
        elif t == "varint":
            val = sub.varint()
        elif t == "str":
            val = sub.str()
        elif t == "bin":
            val = sub.bin()
        else:
            val = (sub.str(), sub.str())
        out.append((pid, val))
    return out


class Packet:
    """One received packet. Decoded fields depend on the type:
    CONNACK: session_present, rc; PUBLISH: dup, qos, retain, topic, pid, payload;
    acks: pid, rc; SUBACK/UNSUBACK: pid, codes; DISCONNECT/AUTH: rc.
    props is a list of (id, value) in wire order (v5 only, else [])."""

    def __init__(self, raw, v):
        self.raw = raw
        self.type = raw[0] >> 4
        self.flags = raw[0] & 0x0F
        r = Reader(raw)
        r.u8()
        r.varint()
        self.body = raw[r.i:]
        self.props = []
        self.rc = None
        self.pid = None
        t = self.type
        if t == CONNACK:
            self.session_present = bool(r.u8() & 1)
            self.rc = r.u8()
            if v == V5 and r.left():
                self.props = parse_props(r)
        elif t == PUBLISH:
            self.dup = bool(self.flags & 0x08)
            self.qos = (self.flags >> 1) & 3
            self.retain = bool(self.flags & 1)
            self.topic = r.str()
            if self.qos:
                self.pid = r.u16()
            if v == V5:
                self.props = parse_props(r)
            self.payload = r.rest()
        elif t in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.pid = r.u16()
            self.rc = 0
            if v == V5 and r.left():
                self.rc = r.u8()
                if r.left():
                    self.props = parse_props(r)
        elif t in (SUBACK, UNSUBACK):
            self.pid = r.u16()
            if v == V5:
                self.props = parse_props(r)
            self.codes = list(r.rest())
        elif t in (DISCONNECT, AUTH):
            self.rc = 0
            if r.left():
                self.rc = r.u8()
                if r.left():
                    self.props = parse_props(r)

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, f"type{self.type}")

    def prop(self, pid, default=None):
        for k, val in self.props:
            if k == pid:
                return val
        return default

    def props_all(self, pid):
        return [val for k, val in self.props if k == pid]

    def has(self, pid):
        return any(k == pid for k, _ in self.props)

    def __repr__(self):
        extra = ""
        if self.type == PUBLISH:
            extra = f" topic={self.topic!r} qos={self.qos} retain={self.retain} dup={self.dup}"
            extra += f" pid={self.pid} payload={self.payload[:40]!r}"
        elif self.rc is not None:
            extra = f" rc=0x{self.rc:02x}"
        if self.props:
            extra += f" props={self.props}"
        return f"<{self.name}{extra} raw={self.raw[:48].hex()}>"


# ---------------------------------------------------------------- connection

class Conn:
    """A test client on one TCP connection. v is the protocol level used to
    decode what the broker sends (set by connect())."""

    def __init__(self, port, v=V5, timeout=DEFAULT_TIMEOUT, rcvbuf=None):
        self.v = v
        self.port = port
        self.buf = b""
        self.pending = []  # packets read ahead by a helper, returned first
        self.closed = False
        self._pid = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.local_port = self.sock.getsockname()[1]
        OPEN.append(self)

    # -- raw I/O
    def send(self, data):
        self.sock.sendall(data)

    def send_ignoring_errors(self, data):
        """Send where the broker may already have closed the connection."""
        try:
            self.sock.sendall(data)
        except OSError:
            pass

    def _fill(self, deadline):
        """Read more bytes into buf. Returns False on EOF. Raises NoPacket at deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NoPacket("timed out")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise NoPacket("timed out") from None
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def _complete(self):
        """Length of the first complete packet in buf, or 0."""
        if len(self.buf) < 2:
            return 0
        mult, val, i = 1, 0, 1
        while True:
            if i >= len(self.buf):
                return 0
            b = self.buf[i]
            val += (b & 0x7F) * mult
            i += 1
            if not b & 0x80:
                break
            mult *= 128
            assert i <= 4, "broker sent a remaining length longer than 4 bytes"
        total = i + val
        return total if len(self.buf) >= total else 0

    def recv_packet(self, timeout=DEFAULT_TIMEOUT):
        if self.pending:
            return self.pending.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            n = self._complete()
            if n:
                raw, self.buf = self.buf[:n], self.buf[n:]
                return Packet(raw, self.v)
            if self.closed:
                raise Closed(f"connection closed by broker (pending {self.buf.hex()})")
            try:
                if not self._fill(deadline):
                    continue
            except NoPacket:
                raise NoPacket(f"no packet within {timeout}s (pending {self.buf[:32].hex()})") from None

    # -- expectations
    def expect(self, ptype, timeout=DEFAULT_TIMEOUT):
        p = self.recv_packet(timeout)
        assert p.type == ptype, f"expected {TYPE_NAMES[ptype]}, got {p!r}"
        return p

    def expect_raw(self, raw, timeout=DEFAULT_TIMEOUT):
        """The next packet must be exactly these bytes."""
        p = self.recv_packet(timeout)
        assert p.raw == raw, f"expected {raw.hex()}, got {p!r}"
        return p

    def expect_connack(self, rc=0, session_present=None, timeout=DEFAULT_TIMEOUT):
        p = self.expect(CONNACK, timeout)
        assert p.rc == rc, f"CONNACK rc 0x{p.rc:02x}, expected 0x{rc:02x}: {p!r}"
        if session_present is not None:
            assert p.session_present == session_present, f"session present: {p!r}"
        return p

    def expect_closed(self, timeout=DEFAULT_TIMEOUT):
        """The broker must close the connection without sending anything more."""
        try:
            p = self.recv_packet(timeout)
        except Closed:
            return
        except NoPacket:
            raise AssertionError(f"connection not closed within {timeout}s") from None
        raise AssertionError(f"expected close, got {p!r}")

    def expect_closed_after_any(self, timeout=DEFAULT_TIMEOUT):
        """Closed, possibly after some packets; returns them."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                got.append(self.recv_packet(max(0.01, deadline - time.monotonic())))
            except Closed:
                return got
            except NoPacket:
                raise AssertionError(f"connection not closed within {timeout}s; got {got}") from None

    def expect_disconnect(self, rc, timeout=DEFAULT_TIMEOUT):
        """v5: DISCONNECT with reason code rc (an int or a set), then close."""
        p = self.expect(DISCONNECT, timeout)
        ok = p.rc in rc if isinstance(rc, (set, frozenset, tuple, list)) else p.rc == rc
        assert ok, f"DISCONNECT rc 0x{p.rc:02x}, expected {rc}: {p!r}"
        self.expect_closed(timeout)
        return p

    def expect_violation(self, rc, timeout=DEFAULT_TIMEOUT):
        """A protocol violation: DISCONNECT rc then close in v5, plain close in 3.1.1."""
        if self.v == V5:
            return self.expect_disconnect(rc, timeout)
        self.expect_closed(timeout)
        return None

    def expect_nothing(self, timeout=QUIET_TIME):
        """No packet for |timeout| seconds and the connection stays open."""
        try:
            p = self.recv_packet(timeout)
        except NoPacket:
            return
        raise AssertionError(f"expected no packet, got {p!r}")

    def is_open(self, timeout=QUIET_TIME):
        try:
            self.recv_packet(timeout)
        except NoPacket:
            return True
        except Closed:
            return False
        return True

    # -- protocol helpers
    def next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    def connect(self, cid="", rc=0, session_present=None, **kw):
        kw.setdefault("v", self.v)
        self.v = kw["v"]
        self.send(connect(cid, **kw))
        return self.expect_connack(rc, session_present)

    def ping(self, timeout=DEFAULT_TIMEOUT):
        """Round trip: everything sent before has been processed by the broker.
        Packets that arrive before the PINGRESP are returned."""
        self.send(PINGREQ_PKT)
        got = []
        while True:
            p = self.recv_packet(timeout)
            if p.type == PINGRESP:
                return got
            got.append(p)

    def subscribe(self, *filters, qos=0, pid=None, properties=None, expect=None):
        """Subscribe to filters (str, or (str, options) pairs); returns SUBACK codes.
        expect: list of expected codes (default: the requested QoS values)."""
        fl = [(f, qos) if isinstance(f, str) else f for f in filters]
        pid = pid or self.next_pid()
        self.send(subscribe(pid, *fl, v=self.v, properties=properties))
        p = self.expect(SUBACK)
        assert p.pid == pid, f"SUBACK pid {p.pid} != {pid}"
        if expect is None:
            expect = [o & 3 for _, o in fl]
        assert p.codes == list(expect), f"SUBACK codes {p.codes}, expected {expect}"
        return p

    def unsubscribe(self, *filters, pid=None, properties=None):
        pid = pid or self.next_pid()
        self.send(unsubscribe(pid, *filters, v=self.v, properties=properties))
        p = self.expect(UNSUBACK)
        assert p.pid == pid
        return p

    def publish(self, topic, payload=b"", qos=0, retain=False, pid=None, properties=None,
                dup=False):
        """Send a PUBLISH and complete its QoS flow; returns the PUBACK/PUBREC (or None)."""
        if qos and pid is None:
            pid = self.next_pid()
        self.send(publish(topic, payload, qos, retain, dup, pid, self.v, properties))
        if qos == 1:
            return self.await_ack(PUBACK, pid)
        if qos == 2:
            p = self.await_ack(PUBREC, pid)
            if p.rc < 0x80:
                self.send(pubrel(pid, v=self.v))
                self.await_ack(PUBCOMP, pid)
            return p
        return None

    def await_ack(self, ptype, pid, timeout=DEFAULT_TIMEOUT):
        """Wait for the ack |ptype| for |pid|; other packets that arrive first
        (e.g. our own message coming back) are kept for later reads."""
        ahead = []
        while True:
            q = self.recv_packet(timeout)
            if q.type == ptype and q.pid == pid:
                self.pending = ahead + self.pending
                return q
            assert q.type not in (DISCONNECT, CONNACK), f"waiting for {TYPE_NAMES[ptype]} {pid}, got {q!r}"
            ahead.append(q)

    def recv_publish(self, timeout=DEFAULT_TIMEOUT, ack=True):
        """Expect a PUBLISH; with ack, complete the receiver side of QoS 1/2."""
        p = self.expect(PUBLISH, timeout)
        if ack and p.qos == 1:
            self.send(puback(p.pid, v=self.v))
        elif ack and p.qos == 2:
            self.send(pubrec(p.pid, v=self.v))
            self.complete_pubrel(p.pid, timeout)
        return p

    def complete_pubrel(self, pid, timeout=DEFAULT_TIMEOUT):
        """Wait for PUBREL pid and answer PUBCOMP; packets that arrive first
        (the broker may send further PUBLISHes meanwhile) are kept for later."""
        self.await_ack(PUBREL, pid, timeout)
        self.send(pubcomp(pid, v=self.v))

    def disconnect(self, rc=None, properties=None):
        self.send_ignoring_errors(disconnect(rc, properties))
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def close_all():
    while OPEN:
        OPEN.pop().close()


def client(port, cid="", v=V5, rc=0, session_present=None, rcvbuf=None, **kw):
    """Open a connection, send CONNECT, expect CONNACK rc; returns the Conn
    (with .connack set)."""
    c = Conn(port, v=v, rcvbuf=rcvbuf)
    c.connack = c.connect(cid, rc=rc, session_present=session_present, v=v, **kw)
    return c
