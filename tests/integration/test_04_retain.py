# SPDX-License-Identifier: MIT
"""04 - retained messages: set, replace, delete, QoS, wildcards, $-topics,
properties, retain_available false."""
import time

import pytest

import mqttraw as m
from mqttraw import V31, V311, V5, client


def set_retained(port, topic, payload, qos=0, v=V311, properties=None):
    pub = client(port, "04-setter", v=v)
    pub.publish(topic, payload, qos=qos, retain=True, properties=properties)
    pub.disconnect()


def test_retained_delivered_on_subscribe_v311_exact_bytes(port):
    pub = client(port, "04-p", v=V311)
    pub.send(bytes.fromhex("31 08 00 04 30 34 2f 72 68 69"))        # retained "04/r" "hi"
    pub.ping()
    sub = client(port, "04-s", v=V311)
    sub.send(bytes.fromhex("82 09 00 01 00 04 30 34 2f 72 00"))
    sub.expect_raw(bytes.fromhex("90 03 00 01 00"))
    sub.expect_raw(bytes.fromhex("31 08 00 04 30 34 2f 72 68 69"))  # [MQTT-3.3.1-8] retain 1


def test_retained_survives_publisher_disconnect(port):
    set_retained(port, "04/gone", b"still here", qos=1)
    sub = client(port, "04-s", v=V5)
    sub.subscribe("04/gone")
    p = sub.recv_publish()
    assert p.payload == b"still here" and p.retain


def test_retained_replaced_by_newer(port):
    set_retained(port, "04/rep", b"old")
    set_retained(port, "04/rep", b"new")
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/rep")
    assert sub.recv_publish().payload == b"new"
    assert sub.ping() == []


def test_retained_deleted_by_empty_payload(port):
    set_retained(port, "04/del", b"x", qos=1)
    set_retained(port, "04/del", b"", qos=1)                       # [MQTT-3.3.1-10]
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/del")
    assert sub.ping() == []                                         # [MQTT-3.3.1-11]


def test_deleting_unknown_retained_is_harmless(port):
    set_retained(port, "04/never", b"", qos=1)
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/#")
    assert sub.ping() == []


def test_empty_retained_forwarded_to_current_subscribers(port):
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/clr")
    set_retained(port, "04/clr", b"")
    p = sub.recv_publish()
    assert p.payload == b"" and not p.retain, p


def test_live_retained_publish_has_retain_0(port):
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/live")
    set_retained(port, "04/live", b"x")
    p = sub.expect(m.PUBLISH)
    assert p.raw[0] == 0x30, p                                      # [MQTT-3.3.1-9]


def test_non_retained_publish_keeps_retained(port):
    set_retained(port, "04/keep", b"retained")
    pub = client(port, "04-p", v=V311)
    pub.publish("04/keep", b"plain")
    pub.ping()
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/keep")
    assert sub.recv_publish().payload == b"retained"
    assert sub.ping() == []


@pytest.mark.parametrize("stored_qos,sub_qos", [(1, 0), (1, 2), (2, 2), (0, 2)])
def test_retained_qos_is_min_of_stored_and_subscription(port, stored_qos, sub_qos):
    set_retained(port, "04/q", b"q", qos=stored_qos)
    sub = client(port, "04-s", v=V5)
    sub.subscribe("04/q", qos=sub_qos)
    p = sub.recv_publish()
    assert p.qos == min(stored_qos, sub_qos) and p.retain, p


def test_retained_wildcard_subscribe_gets_every_match(port):
    for t in ("04/w/a", "04/w/b/c", "04/w", "04/x"):
        set_retained(port, t, t.encode())
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/w/#")
    got = {sub.recv_publish().topic for _ in range(3)}
    assert got == {"04/w/a", "04/w/b/c", "04/w"}
    assert sub.ping() == []


def test_many_retained_messages(port):
    pub = client(port, "04-many", v=V311)
    for i in range(60):
        pub.publish(f"04/many/{i}", b"%d" % i, retain=True)
    pub.ping()
    sub = client(port, "04-s", v=V311)
    sub.subscribe("04/many/+")
    got = {sub.recv_publish().topic for _ in range(60)}
    assert len(got) == 60
    assert sub.ping() == []


def test_retained_dollar_topic_not_sent_for_hash(port):
    set_retained(port, "$test/ret", b"hidden")
    sub = client(port, "04-s", v=V311)
    sub.subscribe("#")
    got = [p for p in sub.ping() if p.topic.startswith("$test")]
    assert got == []                                                # [MQTT-4.7.2-1]
    sub.subscribe("$test/#")
    assert sub.recv_publish().payload == b"hidden"


def test_retained_via_mqtt31(port):
    set_retained(port, "04/v31", b"old-proto", v=V31)
    sub = client(port, "04-s31", v=V31)
    sub.subscribe("04/v31")
    p = sub.recv_publish()
    assert p.payload == b"old-proto" and p.retain


def test_retained_flag_on_subscribe_even_without_rap(port):
    set_retained(port, "04/rap", b"x")
    sub = client(port, "04-s", v=V5)
    sub.subscribe(("04/rap", m.subopts(rap=False)))
    assert sub.recv_publish().retain                                # 3.3.1.3


def test_retained_v5_properties_preserved(port):
    props = m.props((m.PAYLOAD_FORMAT, 1), (m.CONTENT_TYPE, "text/plain"),
                    (m.RESPONSE_TOPIC, "04/reply"), (m.CORRELATION_DATA, b"\x00\x01"),
                    (m.USER_PROPERTY, ("k", "v1")), (m.USER_PROPERTY, ("k", "v2")))
    set_retained(port, "04/props", b"hello", v=V5, properties=props)
    sub = client(port, "04-s", v=V5)
    sub.subscribe("04/props")
    p = sub.recv_publish()
    assert p.prop(m.PAYLOAD_FORMAT) == 1
    assert p.prop(m.CONTENT_TYPE) == "text/plain"
    assert p.prop(m.RESPONSE_TOPIC) == "04/reply"
    assert p.prop(m.CORRELATION_DATA) == b"\x00\x01"
    assert p.props_all(m.USER_PROPERTY) == [("k", "v1"), ("k", "v2")]


def test_retain_not_available_v5(broker_factory):
    b = broker_factory("retain_available false")
    c = client(b.port, "04-na", v=V5)
    c.send(m.publish("04/na", b"x", retain=True))
    c.expect_disconnect(0x9A)                                       # [MQTT-3.3.1-14]


def test_retain_not_available_nothing_stored(broker_factory):
    b = broker_factory("retain_available false")
    c = client(b.port, "04-na", v=V5)
    c.send_ignoring_errors(m.publish("04/na", b"x", retain=True))
    c.expect_closed_after_any()
    sub = client(b.port, "04-nas", v=V5)
    sub.subscribe("04/na")
    assert sub.ping() == []


def test_retain_not_available_plain_publish_fine(broker_factory):
    b = broker_factory("retain_available false")
    sub = client(b.port, "04-nas", v=V5)
    sub.subscribe("04/na")
    c = client(b.port, "04-na", v=V5)
    c.publish("04/na", b"x", qos=1)
    assert sub.recv_publish().payload == b"x"


def test_retain_not_available_v311_closes(broker_factory):
    b = broker_factory("retain_available false")
    c = client(b.port, "04-na3", v=V311)
    c.send(m.publish("04/na", b"x", retain=True, v=V311))
    c.expect_closed()


@pytest.mark.wardmq_only("uses max_write_buffer")
def test_large_retained_set_is_delivered_whole_on_subscribe(broker_factory):
    # More retained bytes than the socket buffer limit: the rest must wait in
    # the session queue, not be dropped like live QoS 0 traffic.
    b = broker_factory("max_write_buffer 65536", "max_queued_messages 0")
    pub = client(b.port, "04-bigp", v=V5)
    n = 400
    for i in range(n):
        pub.publish("04/big/%03d" % i, b"x" * 1000, qos=1, retain=True)
    sub = client(b.port, "04-bigs", v=V5, rcvbuf=4096)
    sub.send(m.subscribe(1, ("04/big/+", 0)))
    time.sleep(0.5)                                   # let the broker hit its limit
    got = set()
    for _ in range(n + 1):
        try:
            p = sub.recv_packet(timeout=5)
        except m.NoPacket:
            break
        if p.type == m.PUBLISH:
            got.add(p.topic)
        if len(got) == n:
            break
    assert len(got) == n, f"{n - len(got)} retained messages lost"
