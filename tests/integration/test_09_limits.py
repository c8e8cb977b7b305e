# SPDX-License-Identifier: MIT
"""09 - limits: max_connections, max_packet_size, topic length and depth,
offline queue limits, user property limit, slow subscribers, fan-out."""
import threading
import time

import pytest

import mqttraw as m
from mqttraw import V311, V5, Conn, client

BOTH = pytest.mark.parametrize("v", [V5, V311], ids=["v5", "v311"])


# ---------------------------------------------------------------- connections

def test_max_connections(broker_factory):
    b = broker_factory("max_connections 2")
    time.sleep(0.2)                          # let the readiness probe's socket close
    a = client(b.port, "09-a", v=V5)
    client(b.port, "09-b", v=V5)
    c = Conn(b.port, v=V5)
    c.send_ignoring_errors(m.connect("09-c", v=V5))
    got = c.expect_closed_after_any()
    assert all(p.type == m.CONNACK and p.rc >= 0x80 for p in got), got
    a.disconnect()
    deadline = time.monotonic() + 3
    while True:                              # the freed slot becomes usable
        d = Conn(b.port, v=V5)
        d.send_ignoring_errors(m.connect("09-d", v=V5))
        try:
            p = d.recv_packet(2)
            if p.type == m.CONNACK and p.rc == 0:
                break
        except AssertionError:
            pass
        assert time.monotonic() < deadline, "slot not freed after a client left"
        time.sleep(0.1)


def test_many_concurrent_clients_fan_out(port):
    subs = [client(port, f"09-fan{i}", v=V311) for i in range(40)]
    for s in subs:
        s.subscribe("09/fan", qos=1)
    pub = client(port, "09-fanp", v=V5)
    pub.publish("09/fan", b"all", qos=1)
    for s in subs:
        assert s.recv_publish().payload == b"all"


def test_many_filters_in_one_subscribe(port):
    c = client(port, "09-manyf", v=V5)
    filters = [(f"09/f/{i}", i % 3) for i in range(200)]
    c.subscribe(*filters, expect=[i % 3 for i in range(200)])


# ---------------------------------------------------------------- packet size

def test_max_packet_size_v311_closes(broker_factory):
    b = broker_factory("max_packet_size 1000")
    w = client(b.port, "09-w", v=V311)
    w.subscribe("09/big")
    c = client(b.port, "09-big", v=V311)
    c.publish("09/big", b"x" * 500, qos=1)
    assert w.recv_publish().payload == b"x" * 500
    c.send_ignoring_errors(m.publish("09/big", b"y" * 2000, v=V311))
    c.expect_closed()
    assert w.ping() == [], "oversized packet forwarded"


def test_max_packet_size_v5_subscribe(broker_factory):
    b = broker_factory("max_packet_size 1000")
    c = client(b.port, "09-bigs", v=V5)
    c.send_ignoring_errors(m.subscribe(1, *[(f"09/{i:04d}/" + "x" * 40, 0) for i in range(40)]))
    c.expect_disconnect(0x95)


@pytest.mark.wardmq_only("the limit is enforced from the fixed header, before the body arrives")
def test_max_packet_size_checked_before_body(broker_factory):
    b = broker_factory("max_packet_size 1000")
    c = client(b.port, "09-hdr", v=V5)
    c.send(b"\x30" + m.varint(10_000_000))   # announce 10 MB, send nothing more
    c.expect_disconnect(0x95)


# ---------------------------------------------------------------- topic limits

@pytest.mark.wardmq_only("max_topic_length option")
@BOTH
def test_max_topic_length_publish(broker_factory, v):
    b = broker_factory("max_topic_length 20")
    c = client(b.port, "09-tl", v=v)
    c.publish("09/" + "a" * 17, b"x", qos=1)          # 20 bytes: fine
    c.send(m.publish("09/" + "a" * 18, b"x", v=v))   # 21 bytes
    c.expect_violation(0x90)


@pytest.mark.wardmq_only("max_topic_length option")
@BOTH
def test_max_topic_length_subscribe(broker_factory, v):
    b = broker_factory("max_topic_length 20")
    c = client(b.port, "09-tls", v=v)
    fail = 0x8F if v == V5 else 0x80
    c.subscribe(("09/" + "a" * 17, 0), ("09/" + "a" * 18, 0), expect=[0, fail])


@pytest.mark.wardmq_only("max_topic_levels option")
@BOTH
def test_max_topic_levels_publish(broker_factory, v):
    b = broker_factory("max_topic_levels 3")
    c = client(b.port, "09-lv", v=v)
    c.publish("09/b/c", b"x", qos=1)
    c.send(m.publish("09/b/c/d", b"x", v=v))
    c.expect_violation(0x90)


@pytest.mark.wardmq_only("max_topic_levels option")
@BOTH
def test_max_topic_levels_subscribe(broker_factory, v):
    b = broker_factory("max_topic_levels 3")
    c = client(b.port, "09-lvs", v=v)
    fail = 0x8F if v == V5 else 0x80
    c.subscribe(("09/+/c", 0), ("09/b/c/#", 0), expect=[0, fail])


# ---------------------------------------------------------------- offline queue limits

def _offline(port, cid, n, payload=b"x", qos=1):
    c = client(port, cid, v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 60)))
    c.subscribe("09/q", qos=1)
    c.disconnect()
    pub = client(port, "09-qp", v=V5)
    for i in range(n):
        pub.publish("09/q", payload + b"%d" % i, qos=qos)
    pub.ping()
    c = client(port, cid, v=V5, clean=False, session_present=True,
               properties=m.props((m.SESSION_EXPIRY, 60)))
    out = []
    while True:
        got = c.ping()
        if not got:
            return out
        for p in got:
            assert p.type == m.PUBLISH, p
            if p.qos:
                c.send(m.puback(p.pid))
            out.append(p.payload)


def test_max_queued_messages(broker_factory):
    b = broker_factory("max_queued_messages 3")
    got = _offline(b.port, "09-mq", 6)
    assert len(got) == 3, got
    assert got == sorted(got, key=lambda x: int(x[1:]))


def test_max_queued_bytes(broker_factory):
    b = broker_factory("max_queued_bytes 100")
    got = _offline(b.port, "09-mqb", 6, payload=b"p" * 39)      # 40-byte payloads
    assert 1 <= len(got) <= 3, [len(x) for x in got]     # 100 bytes: 2 fit, a 3rd may cross


def test_queue_limits_do_not_affect_online_delivery(broker_factory):
    b = broker_factory("max_queued_messages 2")
    s = client(b.port, "09-on", v=V5)
    s.subscribe("09/on", qos=1)
    pub = client(b.port, "09-onp", v=V5)
    for i in range(10):
        pub.publish("09/on", b"%d" % i, qos=1)
        assert s.recv_publish().payload == b"%d" % i


# ---------------------------------------------------------------- user properties

@pytest.mark.wardmq_only("max_user_properties option")
def test_max_user_properties(broker_factory):
    b = broker_factory("max_user_properties 3")
    w = client(b.port, "09-upw", v=V5)
    w.subscribe("09/up")
    c = client(b.port, "09-up", v=V5)
    three = m.props(*m.user_props(("a", "1"), ("b", "2"), ("c", "3")))
    c.publish("09/up", b"ok", qos=1, properties=three)
    assert len(w.recv_publish().props_all(m.USER_PROPERTY)) == 3
    four = m.props(*m.user_props(("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")))
    c.send(m.publish("09/up", b"too many", qos=1, pid=5, properties=four))
    c.expect_disconnect(0x97)                    # a limit: Quota exceeded
    assert w.ping() == [], "message with too many user properties was forwarded"


# ---------------------------------------------------------------- slow subscriber

FLOOD_N = 1000
FLOOD_PAYLOAD = b"f" * 8192


def _flood(port):
    """A subscriber that never reads, a fast one that does; returns the
    number of flood messages the fast one got and whether it got the end."""
    slow = Conn(port, v=V5, rcvbuf=4096)
    slow.connect("09-slow", v=V5)
    slow.subscribe("09/flood")
    fast = client(port, "09-fast", v=V5)
    fast.subscribe("09/flood", ("09/done", 1))
    result = {"n": 0, "done": False, "error": None}

    def reader():
        try:
            while True:
                p = fast.recv_publish(timeout=20)
                if p.topic == "09/done":
                    result["done"] = True
                    return
                result["n"] += 1
        except AssertionError as e:
            result["error"] = str(e)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    pub = client(port, "09-flood", v=V5)
    t0 = time.monotonic()
    for i in range(FLOOD_N):
        pub.send(m.publish("09/flood", FLOOD_PAYLOAD))
        if i % 50 == 49:
            pub.ping(timeout=5)          # the broker keeps serving the publisher
    pub.publish("09/done", b"end", qos=1)
    t.join(30)
    assert not t.is_alive(), "fast subscriber stalled"
    assert result["error"] is None, result["error"]
    slow.close()
    return result, time.monotonic() - t0


@pytest.mark.timeout_s(90)
def test_slow_subscriber_does_not_stall_others(broker_factory):
    b = broker_factory("max_write_buffer 65536")
    result, elapsed = _flood(b.port)
    assert result["done"], result
    assert result["n"] == FLOOD_N, f"fast subscriber lost messages: {result}"
    assert elapsed < 60


@pytest.mark.wardmq_only("messages/dropped counter and max_write_buffer")
@pytest.mark.timeout_s(90)
def test_slow_subscriber_drops_are_counted(broker_factory):
    b = broker_factory("max_write_buffer 65536", "sys_interval 1")
    _flood(b.port)
    w = client(b.port, "09-sys", v=V5)
    w.subscribe("$SYS/broker/messages/dropped")
    deadline = time.monotonic() + 5
    while True:
        p = w.recv_publish(timeout=5)
        if int(p.payload.split()[0]) > 0:
            break
        assert time.monotonic() < deadline, "messages/dropped stayed 0"
