# SPDX-License-Identifier: MIT
"""07 - MQTT 5 features: topic aliases both ways, Maximum Packet Size both
ways, message expiry, pass-through of PUBLISH properties, Request Problem
Information, Request Response Information, property errors."""
import time

import pytest

import mqttraw as m
from mqttraw import V311, V5, client


def alias(n):
    return m.props((m.TOPIC_ALIAS, n))


# ---------------------------------------------------------------- topic alias client -> broker

def test_topic_alias_set_then_used(port):
    sub = client(port, "07-tas", v=V5)
    sub.subscribe("07/ta")
    pub = client(port, "07-ta", v=V5)
    assert pub.connack.prop(m.TOPIC_ALIAS_MAXIMUM, 0) >= 1
    pub.send(m.publish("07/ta", b"1", properties=alias(1)))
    pub.send(m.publish("", b"2", properties=alias(1)))          # 3.3.2.3.4
    a, b = sub.recv_publish(), sub.recv_publish()
    assert (a.topic, a.payload, b.topic, b.payload) == ("07/ta", b"1", "07/ta", b"2")
    assert not a.has(m.TOPIC_ALIAS) and not b.has(m.TOPIC_ALIAS), "subscriber set no Topic Alias Maximum"


def test_topic_alias_remapped(port):
    sub = client(port, "07-trs", v=V5)
    sub.subscribe("07/tr/+")
    pub = client(port, "07-tr", v=V5)
    pub.send(m.publish("07/tr/a", b"1", properties=alias(1)))
    pub.send(m.publish("07/tr/b", b"2", properties=alias(1)))
    pub.send(m.publish("", b"3", properties=alias(1)))
    got = [(p.topic, p.payload) for p in (sub.recv_publish() for _ in range(3))]
    assert got == [("07/tr/a", b"1"), ("07/tr/b", b"2"), ("07/tr/b", b"3")]


def test_topic_alias_with_qos1(port):
    sub = client(port, "07-tqs", v=V5)
    sub.subscribe("07/tq", qos=1)
    pub = client(port, "07-tq", v=V5)
    pub.publish("07/tq", b"1", qos=1, properties=alias(2))
    pub.publish("", b"2", qos=1, properties=alias(2))
    assert [sub.recv_publish().topic for _ in range(2)] == ["07/tq", "07/tq"]


@pytest.mark.wardmq_only("mosquitto sends 0x81 instead of 0x94")
def test_topic_alias_zero_is_invalid(port):
    c = client(port, "07-t0", v=V5)
    c.send(m.publish("07/t0", b"x", properties=alias(0)))
    c.expect_disconnect(0x94)                                   # [MQTT-3.3.2-8]


def test_topic_alias_above_maximum_is_invalid(broker_factory):
    b = broker_factory("max_topic_alias 5")
    c = client(b.port, "07-tmax", v=V5)
    assert c.connack.prop(m.TOPIC_ALIAS_MAXIMUM) == 5
    c.send(m.publish("07/tm", b"x", properties=alias(5)))
    c.send(m.publish("07/tm", b"x", properties=alias(6)))
    c.expect_disconnect(0x94)                                   # [MQTT-3.3.2-9]


@pytest.mark.wardmq_only("mosquitto with max_topic_alias 0 closes without DISCONNECT")
def test_topic_alias_when_disabled(broker_factory):
    b = broker_factory("max_topic_alias 0")
    c = client(b.port, "07-toff", v=V5)
    assert c.connack.prop(m.TOPIC_ALIAS_MAXIMUM, 0) == 0
    c.send(m.publish("07/toff", b"x", properties=alias(1)))
    c.expect_disconnect(0x94)                                   # [MQTT-3.2.2-18]


@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_topic_alias_unknown_with_empty_topic(port):
    c = client(port, "07-tun", v=V5)
    c.send(m.publish("", b"x", properties=alias(3)))
    c.expect_disconnect(0x82)                                   # 3.3.2.3.4 Protocol Error


def test_topic_alias_is_per_connection(port):
    a = client(port, "07-tpa", v=V5)
    a.send(m.publish("07/tp", b"x", properties=alias(1)))
    a.ping()
    b = client(port, "07-tpb", v=V5)
    b.send(m.publish("", b"x", properties=alias(1)))
    got = b.expect_closed_after_any()
    assert all(p.type == m.DISCONNECT and p.rc >= 0x80 for p in got), got


# ---------------------------------------------------------------- topic alias broker -> client

def test_no_outgoing_alias_without_client_maximum(port):
    sub = client(port, "07-noa", v=V5)
    sub.subscribe("07/noa/#")
    pub = client(port, "07-noap", v=V5)
    for _ in range(3):
        pub.publish("07/noa/x", b"x")
    for _ in range(3):
        p = sub.recv_publish()
        assert p.topic == "07/noa/x" and not p.has(m.TOPIC_ALIAS), p   # [MQTT-3.3.2-10]


def test_outgoing_aliases_within_client_maximum(port):
    sub = client(port, "07-oa", v=V5, properties=m.props((m.TOPIC_ALIAS_MAXIMUM, 2)))
    sub.subscribe("07/oa/#")
    pub = client(port, "07-oap", v=V5)
    topics = ["07/oa/a", "07/oa/b", "07/oa/c", "07/oa/d"]
    sent = [t for _ in range(3) for t in topics]
    for i, t in enumerate(sent):
        pub.publish(t, b"%d" % i)
    amap = {}
    for i, t in enumerate(sent):
        p = sub.recv_publish()
        a = p.prop(m.TOPIC_ALIAS)
        topic = p.topic
        if a is not None:
            assert 1 <= a <= 2, p                               # [MQTT-3.3.2-10]
            if topic:
                amap[a] = topic
            else:
                assert a in amap, f"alias {a} used before being set: {p!r}"
                topic = amap[a]
        else:
            assert topic, p
        assert (topic, p.payload) == (t, b"%d" % i)


# ---------------------------------------------------------------- Maximum Packet Size

def test_client_maximum_packet_size_drops_large_message(port):
    sub = client(port, "07-mps", v=V5, properties=m.props((m.MAXIMUM_PACKET_SIZE, 200)))
    sub.subscribe("07/mps", qos=1)
    pub = client(port, "07-mpsp", v=V5)
    pub.publish("07/mps", b"x" * 1000, qos=1)
    pub.publish("07/mps", b"small", qos=1)
    p = sub.recv_publish()
    assert p.payload == b"small", p                             # [MQTT-3.1.2-24], [MQTT-3.1.2-25]
    assert len(p.raw) <= 200
    assert sub.ping() == []


@pytest.mark.wardmq_only("mosquitto 2.0.11 miscounts the size by a few bytes")
def test_client_maximum_packet_size_exact_boundary(port):
    # PUBLISH QoS 0 "07/b" to this client: 1 + 1 + (2+4) + 1 (no properties) + payload
    sub = client(port, "07-mpb", v=V5, properties=m.props((m.MAXIMUM_PACKET_SIZE, 100)))
    sub.subscribe("07/b")
    pub = client(port, "07-mpbp", v=V5)
    pub.publish("07/b", b"a" * 91)                              # 100 bytes: fits
    pub.publish("07/b", b"b" * 92)                              # 101 bytes: dropped
    pub.publish("07/b", b"c")
    p = sub.recv_publish()
    assert p.payload == b"a" * 91 and len(p.raw) == 100, p
    assert sub.recv_publish().payload == b"c"


def test_client_maximum_packet_size_applies_to_retained(port):
    pub = client(port, "07-mprp", v=V5)
    pub.publish("07/mpr/big", b"x" * 500, retain=True, qos=1)
    pub.publish("07/mpr/small", b"y", retain=True, qos=1)
    sub = client(port, "07-mpr", v=V5, properties=m.props((m.MAXIMUM_PACKET_SIZE, 100)))
    sub.subscribe("07/mpr/+")
    p = sub.recv_publish()
    assert p.topic == "07/mpr/small", p
    assert sub.ping() == []


def _max_packet_broker(broker_factory):
    b = broker_factory("max_packet_size 1000")
    c = client(b.port, "07-bmp", v=V5)
    assert c.connack.prop(m.MAXIMUM_PACKET_SIZE) == 1000
    # QoS 1 PUBLISH "07/bm": 1 + 2 (remaining length) + (2+5) + 2 (packet id) + 1 + payload
    fits = m.publish("07/bm", b"x" * 987, qos=1, pid=1)
    assert len(fits) == 1000
    c.send(fits)
    assert c.expect(m.PUBACK).pid == 1                          # exactly the limit: accepted
    return c


def test_broker_maximum_packet_size_v5(broker_factory):
    c = _max_packet_broker(broker_factory)
    c.send_ignoring_errors(m.publish("07/bm", b"x" * 1500, qos=1, pid=2))
    c.expect_disconnect(0x95)                                   # [MQTT-3.2.2-15]


@pytest.mark.wardmq_only("mosquitto 2.0.11 accepts a packet a few bytes over the limit")
def test_broker_maximum_packet_size_one_byte_over(broker_factory):
    c = _max_packet_broker(broker_factory)
    too_big = m.publish("07/bm", b"x" * 988, qos=1, pid=2)
    assert len(too_big) == 1001
    c.send_ignoring_errors(too_big)
    c.expect_disconnect(0x95)


# ---------------------------------------------------------------- message expiry

def test_message_expiry_forwarded(port):
    sub = client(port, "07-mx", v=V5)
    sub.subscribe("07/mx")
    pub = client(port, "07-mxp", v=V5)
    pub.publish("07/mx", b"x", properties=m.props((m.MESSAGE_EXPIRY, 60)))
    pub.publish("07/mx", b"y")
    p = sub.recv_publish()
    assert 0 < p.prop(m.MESSAGE_EXPIRY) <= 60, p
    assert not sub.recv_publish().has(m.MESSAGE_EXPIRY)


def test_message_expiry_in_offline_queue(port):
    kw = dict(v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 60)))
    sub = client(port, "07-mq", **kw)
    sub.subscribe("07/mq", qos=1)
    sub.disconnect()
    pub = client(port, "07-mqp", v=V5)
    pub.publish("07/mq", b"short", qos=1, properties=m.props((m.MESSAGE_EXPIRY, 1)))
    pub.publish("07/mq", b"long", qos=1, properties=m.props((m.MESSAGE_EXPIRY, 60)))
    time.sleep(2.2)
    sub = client(port, "07-mq", session_present=True, **kw)
    p = sub.recv_publish()
    assert p.payload == b"long", "expired message delivered"     # [MQTT-3.3.2-5]
    assert 0 < p.prop(m.MESSAGE_EXPIRY) <= 58, p                 # [MQTT-3.3.2-6]
    assert sub.ping() == []


def test_message_expiry_of_retained(port):
    pub = client(port, "07-mr", v=V5)
    pub.publish("07/mr/short", b"s", qos=1, retain=True, properties=m.props((m.MESSAGE_EXPIRY, 1)))
    pub.publish("07/mr/long", b"l", qos=1, retain=True, properties=m.props((m.MESSAGE_EXPIRY, 60)))
    time.sleep(2.2)
    sub = client(port, "07-mrs", v=V5)
    sub.subscribe("07/mr/+")
    p = sub.recv_publish()
    assert p.topic == "07/mr/long", p
    assert 0 < p.prop(m.MESSAGE_EXPIRY) <= 58, p
    assert sub.ping() == []


# ---------------------------------------------------------------- pass-through properties

def _roundtrip(port, properties, payload=b"x"):
    sub = client(port, "07-pt", v=V5)
    sub.subscribe("07/pt")
    pub = client(port, "07-ptp", v=V5)
    pub.publish("07/pt", payload, properties=properties)
    return sub.recv_publish()


def test_payload_format_indicator_passed(port):
    p = _roundtrip(port, m.props((m.PAYLOAD_FORMAT, 1)), "héllo".encode())
    assert p.prop(m.PAYLOAD_FORMAT) == 1                        # [MQTT-3.3.2-4]


def test_content_type_passed(port):
    assert _roundtrip(port, m.props((m.CONTENT_TYPE, "application/json"))) \
        .prop(m.CONTENT_TYPE) == "application/json"


def test_response_topic_and_correlation_data_passed(port):
    p = _roundtrip(port, m.props((m.RESPONSE_TOPIC, "07/reply/1"), (m.CORRELATION_DATA, b"\x00\xff\x10")))
    assert p.prop(m.RESPONSE_TOPIC) == "07/reply/1"             # [MQTT-3.3.2-15]
    assert p.prop(m.CORRELATION_DATA) == b"\x00\xff\x10"        # [MQTT-3.3.2-16]


def test_user_properties_passed_in_order(port):
    pairs = [("z", "1"), ("a", "2"), ("z", "3"), ("ключ", "значение"), ("", "")]
    p = _roundtrip(port, m.props(*m.user_props(*pairs)))
    assert p.props_all(m.USER_PROPERTY) == pairs                # [MQTT-3.3.2-17], [MQTT-3.3.2-18]


def test_properties_not_sent_to_v311_subscriber(port):
    sub = client(port, "07-p3", v=V311)
    sub.subscribe("07/p3")
    pub = client(port, "07-p3p", v=V5)
    pub.publish("07/p3", b"plain", properties=m.props((m.CONTENT_TYPE, "t"), (m.USER_PROPERTY, ("k", "v"))))
    p = sub.expect(m.PUBLISH)
    assert p.raw == m.publish("07/p3", b"plain", v=V311), p


# ---------------------------------------------------------------- request problem / response information

def test_request_problem_information_0_suppresses_reason_strings(port):
    c = client(port, "07-rpi", v=V5, properties=m.props((m.REQUEST_PROBLEM_INFO, 0)))
    acks = [c.publish("07/nobody", b"x", qos=1), c.publish("07/nobody", b"x", qos=2)]
    acks.append(c.unsubscribe("07/never"))
    assert acks[0].rc == 0x10 and acks[2].codes[0] >= 0x11
    for p in acks:                                               # [MQTT-3.1.2-29]
        assert not p.has(m.REASON_STRING) and not p.has(m.USER_PROPERTY), p


def test_request_response_information_absent_means_none(port):
    c = client(port, "07-rri0", v=V5)
    assert not c.connack.has(m.RESPONSE_INFO), c.connack         # [MQTT-3.1.2-28]


def test_request_response_information_0_means_none(port):
    c = client(port, "07-rri00", v=V5, properties=m.props((m.REQUEST_RESPONSE_INFO, 0)))
    assert not c.connack.has(m.RESPONSE_INFO), c.connack


def test_request_response_information_1_accepted(port):
    c = client(port, "07-rri1", v=V5, properties=m.props((m.REQUEST_RESPONSE_INFO, 1)))
    info = c.connack.prop(m.RESPONSE_INFO)
    assert info is None or (isinstance(info, str) and info), c.connack
    assert c.ping() == []


# ---------------------------------------------------------------- property errors after CONNECT

@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_publish_duplicate_property_is_protocol_error(port):
    c = client(port, "07-dup", v=V5)
    c.send(m.publish("07/dup", b"x", properties=m.props((m.PAYLOAD_FORMAT, 0), (m.PAYLOAD_FORMAT, 1))))
    c.expect_disconnect(0x82)


@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_publish_property_not_allowed(port):
    c = client(port, "07-na", v=V5)
    c.send(m.publish("07/na", b"x", properties=m.props((m.SESSION_EXPIRY, 5))))
    c.expect_disconnect(0x81)


@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_publish_user_property_bad_utf8(port):
    c = client(port, "07-u8", v=V5)
    c.send(m.publish("07/u8", b"x", properties=m.props(raw=b"\x26" + m.s(b"\xc3") + m.s("v"))))
    c.expect_disconnect(0x81)


@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_publish_property_length_overrun(port):
    c = client(port, "07-ovr", v=V5)
    c.send(m.packet(0x30, m.s("07/o") + b"\x10\x01\x00"))
    c.expect_disconnect(0x81)


def test_auth_after_connect_without_method_is_protocol_error(port):
    c = client(port, "07-auth", v=V5)
    c.send(m.auth(0x19))
    got = c.expect_closed_after_any()
    assert all(p.type == m.DISCONNECT and p.rc == 0x82 for p in got), got


def test_client_disconnect_with_reason_string(port):
    c = client(port, "07-dr", v=V5)
    c.send(m.disconnect(0, m.props((m.REASON_STRING, "bye"), (m.USER_PROPERTY, ("k", "v")))))
    c.expect_closed()
