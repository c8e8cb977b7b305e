# SPDX-License-Identifier: MIT
"""02 - PUBLISH and the QoS 0/1/2 flows in both directions: exact bytes for
3.1.1, downgrade, exactly-once, redelivery with DUP after reconnect, PUBREL
resend, packet id reuse, Receive Maximum both ways, 0x10 no matching
subscribers, and malformed PUBLISH / PUBREL."""
import pytest

import mqttraw as m
from mqttraw import V311, V5, Conn, client

BOTH = pytest.mark.parametrize("v", [V5, V311], ids=["v5", "v311"])


def both_v5_wardmq_only(why):
    """Both versions; the v5 case is WardMQ-specific (mosquitto differs)."""
    return pytest.mark.parametrize("v", [
        pytest.param(V5, id="v5", marks=pytest.mark.wardmq_only(why)),
        pytest.param(V311, id="v311")])


# ---------------------------------------------------------------- 3.1.1 exact bytes

def test_qos0_v311_exact_bytes(port):
    sub = client(port, "02-s0", v=V311)
    sub.send(bytes.fromhex("82 09 00 01 00 04 30 32 2f 61 00"))     # SUBSCRIBE 1 "02/a" QoS 0
    sub.expect_raw(bytes.fromhex("90 03 00 01 00"))                 # SUBACK granted 0
    pub = client(port, "02-p0", v=V311)
    pub.send(bytes.fromhex("30 08 00 04 30 32 2f 61 68 69"))        # PUBLISH "02/a" "hi"
    sub.expect_raw(bytes.fromhex("30 08 00 04 30 32 2f 61 68 69"))


def test_qos1_v311_exact_bytes(port):
    sub = client(port, "02-s1", v=V311)
    sub.send(bytes.fromhex("82 09 00 01 00 04 30 32 2f 61 01"))
    sub.expect_raw(bytes.fromhex("90 03 00 01 01"))
    pub = client(port, "02-p1", v=V311)
    pub.send(bytes.fromhex("32 0a 00 04 30 32 2f 61 00 07 68 69"))  # QoS 1 pid 7
    pub.expect_raw(bytes.fromhex("40 02 00 07"))                    # PUBACK 7
    p = sub.expect(m.PUBLISH)
    assert p.raw[0] == 0x32 and p.topic == "02/a" and p.payload == b"hi" and p.pid != 0, p
    sub.send(m.puback(p.pid, v=V311))
    assert sub.ping() == []  # acknowledged: no redelivery


def test_qos2_v311_publisher_exact_bytes(port):
    pub = client(port, "02-p2", v=V311)
    pub.send(bytes.fromhex("34 0a 00 04 30 32 2f 61 00 08 68 69"))  # QoS 2 pid 8
    pub.expect_raw(bytes.fromhex("50 02 00 08"))                    # PUBREC
    pub.send(bytes.fromhex("62 02 00 08"))                          # PUBREL
    pub.expect_raw(bytes.fromhex("70 02 00 08"))                    # PUBCOMP


def test_qos2_v311_subscriber_exact_bytes(port):
    sub = client(port, "02-s2", v=V311)
    sub.send(bytes.fromhex("82 09 00 01 00 04 30 32 2f 61 02"))
    sub.expect_raw(bytes.fromhex("90 03 00 01 02"))
    pub = client(port, "02-p2b", v=V311)
    pub.publish("02/a", b"hi", qos=2)
    p = sub.expect(m.PUBLISH)
    assert p.raw[0] == 0x34 and p.payload == b"hi", p
    sub.send(m.pubrec(p.pid, v=V311))
    sub.expect_raw(b"\x62\x02" + m.u16(p.pid))  # [MQTT-3.6.1-1] flags 0010
    sub.send(m.pubcomp(p.pid, v=V311))
    assert sub.ping() == []


# ---------------------------------------------------------------- v5 flows

@pytest.mark.parametrize("qos", [0, 1, 2])
def test_v5_roundtrip(port, qos):
    sub = client(port, "02-v5s", v=V5)
    sub.subscribe("02/v5", qos=qos)
    pub = client(port, "02-v5p", v=V5)
    ack = pub.publish("02/v5", b"payload-%d" % qos, qos=qos)
    if qos:
        assert ack.rc == 0x00, ack
    p = sub.recv_publish()
    assert (p.topic, p.qos, p.payload, p.retain, p.dup) == ("02/v5", qos, b"payload-%d" % qos, False, False)
    assert sub.ping() == []


@pytest.mark.parametrize("pub_qos,sub_qos", [(1, 0), (2, 0), (2, 1), (0, 2), (1, 2)])
def test_delivery_qos_is_min_of_publish_and_subscription(port, pub_qos, sub_qos):
    sub = client(port, "02-dg", v=V5)
    sub.subscribe("02/dg", qos=sub_qos)
    pub = client(port, "02-dgp", v=V5)
    pub.publish("02/dg", b"x", qos=pub_qos)
    p = sub.recv_publish()
    assert p.qos == min(pub_qos, sub_qos), p      # [MQTT-3.8.4-8]
    assert (p.pid is not None) == (p.qos > 0)


def test_v311_publisher_to_v5_subscriber(port):
    sub = client(port, "02-x5", v=V5)
    sub.subscribe("02/x", qos=1)
    pub = client(port, "02-x3", v=V311)
    pub.publish("02/x", b"cross", qos=1)
    p = sub.recv_publish()
    assert p.payload == b"cross" and p.props == [], p


def test_zero_length_payload(port):
    sub = client(port, "02-z", v=V311)
    sub.subscribe("02/z", qos=1)
    pub = client(port, "02-zp", v=V311)
    pub.publish("02/z", b"", qos=1)
    assert sub.recv_publish().payload == b""


def test_large_payload(port):
    body = bytes(range(256)) * 400  # 100 KiB
    sub = client(port, "02-L", v=V5)
    sub.subscribe("02/L", qos=1)
    pub = client(port, "02-Lp", v=V5)
    pub.publish("02/L", body, qos=1)
    assert sub.recv_publish().payload == body


def test_qos1_order_preserved(port):
    sub = client(port, "02-ord", v=V5)
    sub.subscribe("02/ord", qos=1)
    pub = client(port, "02-ordp", v=V5)
    for i in range(20):
        pub.publish("02/ord", b"%d" % i, qos=1)
    got = [sub.recv_publish().payload for _ in range(20)]
    assert got == [b"%d" % i for i in range(20)]     # [MQTT-4.6.0-6]


# ---------------------------------------------------------------- exactly once

def test_qos2_duplicate_publish_delivered_once(port):
    sub = client(port, "02-eo", v=V5)
    sub.subscribe("02/eo", qos=2)
    pub = client(port, "02-eop", v=V5)
    pub.send(m.publish("02/eo", b"once", qos=2, pid=11))
    assert pub.expect(m.PUBREC).pid == 11
    pub.send(m.publish("02/eo", b"once", qos=2, pid=11, dup=True))  # resend before PUBREL
    assert pub.expect(m.PUBREC).pid == 11
    pub.send(m.pubrel(11))
    assert pub.expect(m.PUBCOMP).pid == 11
    p = sub.recv_publish()
    assert p.payload == b"once"
    assert sub.ping() == [], "QoS 2 message delivered twice"   # [MQTT-4.3.3-...] exactly once


def test_qos1_packet_id_reuse_after_puback(port):
    sub = client(port, "02-r1", v=V5)
    sub.subscribe("02/r1", qos=1)
    pub = client(port, "02-r1p", v=V5)
    pub.publish("02/r1", b"first", qos=1, pid=1)
    pub.publish("02/r1", b"second", qos=1, pid=1)   # [MQTT-2.2.1-3] id free again after PUBACK
    assert sub.recv_publish().payload == b"first"
    assert sub.recv_publish().payload == b"second"


def test_qos2_packet_id_reuse_after_pubcomp(port):
    sub = client(port, "02-r2", v=V5)
    sub.subscribe("02/r2", qos=2)
    pub = client(port, "02-r2p", v=V5)
    pub.publish("02/r2", b"first", qos=2, pid=7)
    pub.publish("02/r2", b"second", qos=2, pid=7)
    assert sub.recv_publish().payload == b"first"
    assert sub.recv_publish().payload == b"second"


# ---------------------------------------------------------------- redelivery after reconnect

def _persistent(port, cid, v, session_present=None):
    if v == V5:
        return client(port, cid, v=V5, clean=False, session_present=session_present,
                      properties=m.props((m.SESSION_EXPIRY, 60)))
    return client(port, cid, v=V311, clean=False, session_present=session_present)


@BOTH
def test_qos1_redelivered_with_dup_after_reconnect(port, v):
    sub = _persistent(port, "02-dup1", v)
    sub.subscribe("02/dup1", qos=1)
    pub = client(port, "02-dup1p", v=v)
    pub.publish("02/dup1", b"m1", qos=1)
    first = sub.recv_publish(ack=False)
    assert not first.dup
    sub.close()                                          # no PUBACK
    sub = _persistent(port, "02-dup1", v, session_present=True)
    again = sub.expect(m.PUBLISH)
    assert again.dup and again.pid == first.pid and again.payload == b"m1", again  # [MQTT-4.4.0-1]
    assert again.qos == 1
    sub.send(m.puback(again.pid, v=v))
    assert sub.ping() == []


@BOTH
def test_qos2_publish_redelivered_with_dup_after_reconnect(port, v):
    sub = _persistent(port, "02-dup2", v)
    sub.subscribe("02/dup2", qos=2)
    pub = client(port, "02-dup2p", v=v)
    pub.publish("02/dup2", b"m2", qos=2)
    first = sub.recv_publish(ack=False)
    sub.close()                                          # no PUBREC
    sub = _persistent(port, "02-dup2", v, session_present=True)
    again = sub.expect(m.PUBLISH)
    assert again.dup and again.qos == 2 and again.pid == first.pid, again
    sub.send(m.pubrec(again.pid, v=v))
    assert sub.expect(m.PUBREL).pid == again.pid
    sub.send(m.pubcomp(again.pid, v=v))
    assert sub.ping() == []


@BOTH
def test_pubrel_resent_after_reconnect(port, v):
    sub = _persistent(port, "02-rel", v)
    sub.subscribe("02/rel", qos=2)
    pub = client(port, "02-relp", v=v)
    pub.publish("02/rel", b"m3", qos=2)
    p = sub.recv_publish(ack=False)
    sub.send(m.pubrec(p.pid, v=v))
    assert sub.expect(m.PUBREL).pid == p.pid
    sub.close()                                          # no PUBCOMP
    sub = _persistent(port, "02-rel", v, session_present=True)
    rel = sub.expect(m.PUBREL)                           # not the PUBLISH again
    assert rel.pid == p.pid and rel.flags == 0x02, rel
    sub.send(m.pubcomp(p.pid, v=v))
    assert sub.ping() == []


@BOTH
def test_acked_message_not_redelivered(port, v):
    sub = _persistent(port, "02-ack", v)
    sub.subscribe("02/ack", qos=1)
    pub = client(port, "02-ackp", v=v)
    pub.publish("02/ack", b"m4", qos=1)
    sub.recv_publish(ack=True)
    sub.ping()
    sub.close()
    sub = _persistent(port, "02-ack", v, session_present=True)
    assert sub.ping() == []


# ---------------------------------------------------------------- receive maximum / inflight

@pytest.mark.wardmq_only("mosquitto 2.0.11 sends more than Receive Maximum after a PUBACK")
def test_receive_maximum_of_client_limits_broker(port):
    sub = client(port, "02-rm", v=V5, properties=m.props((m.RECEIVE_MAXIMUM, 2)))
    sub.subscribe("02/rm", qos=1)
    pub = client(port, "02-rmp", v=V5)
    for i in range(5):
        pub.publish("02/rm", b"%d" % i, qos=1)
    a = sub.expect(m.PUBLISH)
    b = sub.expect(m.PUBLISH)
    sub.expect_nothing()                                 # [MQTT-3.3.4-9] at most 2 unacked
    sub.send(m.puback(a.pid))
    c = sub.expect(m.PUBLISH)
    sub.expect_nothing()
    for p in (b, c):
        sub.send(m.puback(p.pid))
    d = sub.recv_publish()
    e = sub.recv_publish()
    assert [x.payload for x in (a, b, c, d, e)] == [b"0", b"1", b"2", b"3", b"4"]


def test_max_inflight_limits_v311_delivery(broker_factory):
    b = broker_factory("max_inflight_messages 2")
    sub = client(b.port, "02-if", v=V311)
    sub.subscribe("02/if", qos=2)
    pub = client(b.port, "02-ifp", v=V311)
    for i in range(4):
        pub.publish("02/if", b"%d" % i, qos=2)
    x = sub.expect(m.PUBLISH)
    y = sub.expect(m.PUBLISH)
    sub.expect_nothing()
    sub.send(m.pubrec(x.pid, v=V311))
    sub.expect(m.PUBREL)
    sub.send(m.pubcomp(x.pid, v=V311))
    z = sub.expect(m.PUBLISH)
    assert [p.payload for p in (x, y, z)] == [b"0", b"1", b"2"]


@pytest.mark.wardmq_only("mosquitto answers PUBREC 0x97 instead of DISCONNECT 0x93")
def test_receive_maximum_exceeded_by_client(broker_factory):
    b = broker_factory("max_inflight_messages 2")
    c = client(b.port, "02-rmx", v=V5)
    assert c.connack.prop(m.RECEIVE_MAXIMUM) == 2
    for pid in (1, 2):
        c.send(m.publish("02/rmx", b"x", qos=2, pid=pid))
        assert c.expect(m.PUBREC).pid == pid
    c.send(m.publish("02/rmx", b"x", qos=2, pid=3))       # third unreleased QoS 2
    c.expect_disconnect(0x93)                             # [MQTT-3.3.4-8]


def test_receive_maximum_respected_sequentially_is_fine(broker_factory):
    b = broker_factory("max_inflight_messages 2")
    c = client(b.port, "02-rmok", v=V5)
    for i in range(6):
        c.publish("02/rmok", b"x", qos=2)
    assert c.ping() == []


# ---------------------------------------------------------------- reason codes on acks

def test_puback_no_matching_subscribers(port):
    c = client(port, "02-nm1", v=V5)
    ack = c.publish("02/nobody", b"x", qos=1)
    assert ack.rc == 0x10, ack


@pytest.mark.wardmq_only("mosquitto 2.0.11 sends 0x10 on PUBACK only")
def test_pubrec_no_matching_subscribers(port):
    c = client(port, "02-nm2", v=V5)
    ack = c.publish("02/nobody", b"x", qos=2)
    assert ack.rc == 0x10, ack


def test_puback_success_when_matched(port):
    sub = client(port, "02-nm3s", v=V5)
    sub.subscribe("02/some/+", qos=0)
    c = client(port, "02-nm3", v=V5)
    assert c.publish("02/some/one", b"x", qos=1).rc == 0x00


def test_v5_client_ack_with_reason_and_properties_accepted(port):
    sub = client(port, "02-ackrc", v=V5)
    sub.subscribe("02/ackrc", qos=1)
    pub = client(port, "02-ackrcp", v=V5)
    pub.publish("02/ackrc", b"x", qos=1)
    p = sub.expect(m.PUBLISH)
    sub.send(m.puback(p.pid, rc=0x10, properties=m.props((m.REASON_STRING, "fine"))))
    assert sub.ping() == []


def test_pubrel_for_unknown_packet_id(port):
    c = client(port, "02-relx", v=V5)
    c.send(m.pubrel(77))
    p = c.expect(m.PUBCOMP)
    assert p.pid == 77 and p.rc in (0x00, 0x92), p


def test_pubrel_for_unknown_packet_id_v311(port):
    c = client(port, "02-relx3", v=V311)
    c.send(m.pubrel(77, v=V311))
    c.expect_raw(bytes.fromhex("70 02 00 4d"))


def test_unexpected_puback_is_ignored(port):
    c = client(port, "02-pax", v=V311)
    c.send(m.puback(99, v=V311))
    assert c.ping() == []


# ---------------------------------------------------------------- malformed / forbidden PUBLISH

@BOTH
def test_publish_qos3_is_malformed(port, v):
    c = client(port, "02-q3", v=v)
    c.send(m.packet(0x36, m.s("02/q3") + m.u16(1) + (b"\x00" if v == V5 else b"") + b"x"))
    c.expect_violation(0x81)                               # [MQTT-3.3.1-4]


@pytest.mark.wardmq_only("mosquitto accepts DUP on QoS 0")
@BOTH
def test_publish_qos0_with_dup_is_malformed(port, v):
    c = client(port, "02-dup0", v=v)
    c.send(m.publish("02/dup0", b"x", qos=0, dup=True, v=v))
    c.expect_violation(0x81)                               # [MQTT-3.3.1-2]


@both_v5_wardmq_only("mosquitto 2.0.11 ignores packet id 0 from a v5 client")
def test_publish_packet_id_zero_is_a_protocol_error(port, v):
    # The encoding is fine; the value breaks a rule: Protocol Error (0x82),
    # as mosquitto answers too.
    c = client(port, "02-pid0", v=v)
    c.send(m.publish("02/pid0", b"x", qos=1, pid=0, v=v))
    c.expect_violation(0x82)                               # [MQTT-2.2.1-3]


@pytest.mark.wardmq_only("mosquitto ignores PUBREL flags")
@BOTH
def test_pubrel_with_wrong_flags_is_malformed(port, v):
    c = client(port, "02-relf", v=v)
    c.send(m.publish("02/relf", b"x", qos=2, pid=3, v=v))
    c.expect(m.PUBREC)
    c.send(b"\x60\x02\x00\x03")                            # PUBREL must have flags 0010
    c.expect_violation(0x81)                               # [MQTT-3.6.1-1]


@BOTH
@pytest.mark.parametrize("topic", ["02/+/x", "02/#", "#", "+"])
def test_publish_wildcard_topic(port, v, topic):
    watch = client(port, "02-wcw", v=V311)
    watch.subscribe("#")
    c = client(port, "02-wc", v=v)
    c.send(m.publish(topic, b"x", v=v))
    c.expect_violation(0x82)                               # [MQTT-3.3.2-2]
    assert watch.ping() == [], "a PUBLISH with a wildcard topic was forwarded"


@BOTH
def test_publish_empty_topic_without_alias(port, v):
    c = client(port, "02-empty", v=v)
    c.send(m.publish("", b"x", v=v))
    c.expect_violation(0x82)                               # [MQTT-4.7.3-1], 3.3.2.3.4


@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT 0x82")
def test_publish_with_subscription_identifier_is_protocol_error(port):
    c = client(port, "02-sid", v=V5)
    c.send(m.publish("02/sid", b"x", properties=m.props((m.SUBSCRIPTION_ID, 3))))
    c.expect_disconnect(0x82)                              # 3.3.2.3.8


@BOTH
@pytest.mark.parametrize("raw_topic", [b"\xc0\x80", b"02/\xff", b"02/a\x00b", b"\xed\xa0\x80"],
                         ids=["overlong", "ff", "nul", "surrogate"])
def test_publish_invalid_utf8_topic(port, v, raw_topic):
    watch = client(port, "02-u8w", v=V311)
    watch.subscribe("#")
    c = client(port, "02-u8", v=v)
    c.send(m.publish(raw_topic, b"x", v=v))
    c.expect_violation(0x81)                               # [MQTT-1.5.4-1], [MQTT-1.5.4-2]
    assert watch.ping() == []


@BOTH
def test_publish_topic_length_overruns_packet(port, v):
    c = client(port, "02-ovr", v=v)
    c.send(m.packet(0x30, b"\x00\x20abc"))                 # says 32 bytes, has 3
    c.expect_violation(0x81)


def test_publish_qos_above_max_qos(broker_factory):
    b = broker_factory("max_qos 1")
    c = client(b.port, "02-mq", v=V5)
    assert c.connack.prop(m.MAXIMUM_QOS) == 1
    c.send(m.publish("02/mq", b"x", qos=2, pid=1))
    c.expect_disconnect(0x9B)                              # [MQTT-3.2.2-11]


def test_subscribe_qos_capped_by_max_qos(broker_factory):
    b = broker_factory("max_qos 1")
    c = client(b.port, "02-mqs", v=V5)
    c.subscribe("02/mqs", qos=2, expect=[1])
