# SPDX-License-Identifier: MIT
"""03 - SUBSCRIBE / UNSUBSCRIBE: topic matching end to end, $-topics,
overlapping subscriptions, subscription identifiers, No Local, Retain As
Published, Retain Handling, invalid filters, subscription limit."""
import pytest

import mqttraw as m
from mqttraw import V311, V5, client

SENTINEL = "03-sentinel"


def both_v5_wardmq_only(why):
    return pytest.mark.parametrize("v", [
        pytest.param(V5, id="v5", marks=pytest.mark.wardmq_only(why)),
        pytest.param(V311, id="v311")])


BOTH = pytest.mark.parametrize("v", [V5, V311], ids=["v5", "v311"])


def delivered(sub, topic):
    """Payloads of PUBLISHes received on |topic| before the sentinel arrives."""
    got = []
    while True:
        p = sub.recv_publish()
        if p.topic == SENTINEL:
            return got
        assert p.topic == topic, f"unexpected delivery {p!r}"
        got.append(p.payload)


# (filter, topic, matches) - [MQTT-4.7.1-*], [MQTT-4.7.2-1]
MATCH_TABLE = [
    ("a/b/c", "a/b/c", True),
    ("a/b/c", "a/b", False),
    ("a/b", "a/b/c", False),
    ("a/b", "a/b/", False),
    ("a/+/c", "a/b/c", True),
    ("a/+/c", "a/b/d", False),
    ("a/+/c", "a/b/x/c", False),
    ("a/+", "a/", True),              # '+' matches an empty level
    ("+/+", "/a", True),
    ("+", "/a", False),
    ("+", "a", True),
    ("a/#", "a", True),               # '#' includes the parent level
    ("a/#", "a/b/c/d", True),
    ("a/#", "ab/c", False),
    ("#", "x/y/z", True),
    ("a/+/#", "a/b", True),
    ("+/b", "a/b/c", False),
    ("/#", "/a", True),
    ("/+", "a", False),
    ("a//b", "a//b", True),
    ("a/+/b", "a//b", True),
    ("A/b", "a/b", False),            # case sensitive
    ("a/b ", "a/b", False),           # spaces are significant
    ("\u00fc/+", "\u00fc/x", True),
    ("#", "$test/x", False),          # [MQTT-4.7.2-1]
    ("+/x", "$test/x", False),
    ("+/#", "$test/x", False),
    ("$test/#", "$test/x", True),
    ("$test/+", "$test/x", True),
    ("$test", "$test", True),
]


@pytest.mark.parametrize("filt,topic,matches", MATCH_TABLE,
                         ids=[f"{f}|{t}" for f, t, _ in MATCH_TABLE])
def test_topic_matching(port, filt, topic, matches):
    sub = client(port, "03-match", v=V311)
    sub.subscribe(filt, SENTINEL, qos=0)
    pub = client(port, "03-matchp", v=V311)
    pub.publish(topic, b"m")
    pub.publish(SENTINEL, b"s")
    got = delivered(sub, topic)
    assert got == ([b"m"] if matches else []), f"{filt!r} vs {topic!r}"


# ---------------------------------------------------------------- SUBACK / UNSUBACK

def test_suback_v311_exact_bytes_multiple_filters(port):
    c = client(port, "03-sa", v=V311)
    c.send(m.subscribe(0x1234, ("03/a", 0), ("03/b", 1), ("03/c", 2), v=V311))
    c.expect_raw(bytes.fromhex("90 05 12 34 00 01 02"))       # [MQTT-3.9.3-1] order kept


def test_suback_v5_multiple_filters(port):
    c = client(port, "03-sa5", v=V5)
    c.subscribe(("03/a", 2), ("03/b", 0), ("03/c", 1), expect=[2, 0, 1])


def test_unsuback_v311_exact_bytes(port):
    c = client(port, "03-ua", v=V311)
    c.subscribe("03/u")
    c.send(m.unsubscribe(0x0102, "03/u", v=V311))
    c.expect_raw(bytes.fromhex("b0 02 01 02"))


def test_unsubscribe_stops_delivery(port):
    c = client(port, "03-un", v=V5)
    c.subscribe("03/un/+")
    p = c.unsubscribe("03/un/+")
    assert p.codes == [0x00], p
    pub = client(port, "03-unp", v=V5)
    pub.publish("03/un/x", b"x", qos=1)
    assert c.ping() == []


def test_unsubscribe_unknown_filter_v5_reports_0x11(port):
    c = client(port, "03-un11", v=V5)
    c.subscribe("03/yes")
    p = c.unsubscribe("03/no", "03/yes")
    assert p.codes == [0x11, 0x00], p                         # 3.11.3 No subscription existed


def test_unsubscribe_only_the_named_filter(port):
    c = client(port, "03-unpart", v=V311)
    c.subscribe("03/p/a", "03/p/b")
    c.unsubscribe("03/p/a")
    pub = client(port, "03-unpartp", v=V311)
    pub.publish("03/p/a", b"a", qos=1)
    pub.publish("03/p/b", b"b", qos=1)
    assert c.recv_publish().topic == "03/p/b"
    assert c.ping() == []


def test_resubscribe_replaces_qos(port):
    c = client(port, "03-rep", v=V5)
    c.subscribe("03/rep", qos=0)
    c.subscribe("03/rep", qos=1)
    pub = client(port, "03-repp", v=V5)
    pub.publish("03/rep", b"x", qos=1)
    p = c.recv_publish()
    assert p.qos == 1, p                                       # [MQTT-3.8.4-3]
    assert c.ping() == [], "replaced subscription delivered twice"


# ---------------------------------------------------------------- overlapping subscriptions

def _collect(c):
    return [p for p in c.ping() if p.type == m.PUBLISH]


def _deliveries(c):
    out = [c.expect(m.PUBLISH)]
    out += _collect(c)
    return out


def test_overlapping_subscriptions_identifiers_union(port):
    c = client(port, "03-ovu", v=V5)
    c.subscribe("03/ovu/+", properties=m.props((m.SUBSCRIPTION_ID, 1)))
    c.subscribe("03/ovu/#", properties=m.props((m.SUBSCRIPTION_ID, 2)))
    pub = client(port, "03-ovup", v=V5)
    pub.publish("03/ovu/x", b"x")
    copies = _deliveries(c)
    ids = set()
    for p in copies:
        assert p.props_all(m.SUBSCRIPTION_ID), p
        ids |= set(p.props_all(m.SUBSCRIPTION_ID))
    assert ids == {1, 2}, copies                               # [MQTT-3.3.4-3..5]


@pytest.mark.wardmq_only("WardMQ sends one copy per session for overlapping subscriptions")
def test_overlapping_subscriptions_single_copy_with_both_ids(port):
    c = client(port, "03-ov1", v=V5)
    c.subscribe("03/ov1/+", properties=m.props((m.SUBSCRIPTION_ID, 1)))
    c.subscribe("03/ov1/#", properties=m.props((m.SUBSCRIPTION_ID, 2)))
    pub = client(port, "03-ov1p", v=V5)
    pub.publish("03/ov1/x", b"x")
    copies = _deliveries(c)
    assert len(copies) == 1, copies
    assert sorted(copies[0].props_all(m.SUBSCRIPTION_ID)) == [1, 2], copies[0]


def test_overlapping_subscriptions_max_qos(port):
    c = client(port, "03-ovq", v=V5)
    c.subscribe("03/ovq/+", qos=0)
    c.subscribe("03/ovq/#", qos=2)
    pub = client(port, "03-ovqp", v=V5)
    pub.publish("03/ovq/x", b"x", qos=2)
    first = c.recv_publish()
    rest = [p for p in c.ping() if p.type == m.PUBLISH]
    for p in rest:
        if p.qos == 1:
            c.send(m.puback(p.pid))
        elif p.qos == 2:
            c.send(m.pubrec(p.pid))
            c.complete_pubrel(p.pid)
    assert max(p.qos for p in [first] + rest) == 2             # [MQTT-3.3.4-2]


def test_subscription_identifier_delivered(port):
    c = client(port, "03-sid", v=V5)
    c.subscribe("03/sid/#", properties=m.props((m.SUBSCRIPTION_ID, 268435455)))
    c.subscribe("03/nosid")
    pub = client(port, "03-sidp", v=V5)
    pub.publish("03/sid/a", b"1")
    pub.publish("03/nosid", b"2")
    a = c.recv_publish()
    b = c.recv_publish()
    assert a.props_all(m.SUBSCRIPTION_ID) == [268435455], a
    assert not b.has(m.SUBSCRIPTION_ID), b


def test_subscription_identifier_updated_on_resubscribe(port):
    c = client(port, "03-sidu", v=V5)
    c.subscribe("03/sidu", properties=m.props((m.SUBSCRIPTION_ID, 5)))
    c.subscribe("03/sidu", properties=m.props((m.SUBSCRIPTION_ID, 6)))
    pub = client(port, "03-sidup", v=V5)
    pub.publish("03/sidu", b"x")
    assert c.recv_publish().props_all(m.SUBSCRIPTION_ID) == [6]


def test_subscription_identifier_zero_is_an_error(port):
    c = client(port, "03-sid0", v=V5)
    c.send(m.subscribe(1, ("03/sid0", 0), properties=m.props((m.SUBSCRIPTION_ID, 0))))
    got = c.expect_closed_after_any()
    assert len(got) <= 1 and all(p.type == m.DISCONNECT and p.rc in (0x81, 0x82) for p in got), got


# ---------------------------------------------------------------- subscription options

def test_no_local(port):
    c = client(port, "03-nl", v=V5)
    c.subscribe(("03/nl", m.subopts(qos=1, nl=True)))
    other = client(port, "03-nlo", v=V5)
    other.subscribe("03/nl", qos=1)
    c.publish("03/nl", b"mine", qos=1)
    assert other.recv_publish().payload == b"mine"
    assert c.ping() == []                                      # [MQTT-3.8.3-3]


def test_without_no_local_own_messages_are_delivered(port):
    c = client(port, "03-nl0", v=V5)
    c.subscribe(("03/nl0", m.subopts(qos=1)))
    c.publish("03/nl0", b"mine", qos=1)
    assert c.recv_publish().payload == b"mine"


def test_retain_as_published(port):
    rap = client(port, "03-rap1", v=V5)
    rap.subscribe(("03/rap", m.subopts(rap=True)))
    norm = client(port, "03-rap0", v=V5)
    norm.subscribe(("03/rap", m.subopts(rap=False)))
    pub = client(port, "03-rapp", v=V5)
    pub.publish("03/rap", b"x", qos=1, retain=True)
    assert rap.recv_publish().retain is True                   # [MQTT-3.3.1-13]
    assert norm.recv_publish().retain is False                 # [MQTT-3.3.1-12]
    pub.publish("03/rap", b"", qos=1, retain=True)             # clean up


def _retained(port, topic):
    pub = client(port, "03-retp", v=V5)
    pub.publish(topic, b"kept", qos=1, retain=True)
    pub.disconnect()


def test_retain_handling_0_sends_on_every_subscribe(port):
    _retained(port, "03/rh0")
    c = client(port, "03-rh0", v=V5)
    c.subscribe(("03/rh0", m.subopts(rh=0)))
    p = c.recv_publish()
    assert p.retain and p.payload == b"kept", p
    c.subscribe(("03/rh0", m.subopts(rh=0)))
    assert c.recv_publish().retain                             # [MQTT-3.3.1-9]


def test_retain_handling_1_only_for_new_subscription(port):
    _retained(port, "03/rh1")
    c = client(port, "03-rh1", v=V5)
    c.subscribe(("03/rh1", m.subopts(rh=1)))
    assert c.recv_publish().payload == b"kept"
    c.subscribe(("03/rh1", m.subopts(rh=1)))
    assert c.ping() == []                                      # [MQTT-3.3.1-10]


def test_retain_handling_2_never_sends(port):
    _retained(port, "03/rh2")
    c = client(port, "03-rh2", v=V5)
    c.subscribe(("03/rh2", m.subopts(rh=2)))
    assert c.ping() == []                                      # [MQTT-3.3.1-11]


# ---------------------------------------------------------------- invalid SUBSCRIBE / filters

INVALID_FILTERS = ["03/#/x", "03/a#", "03/a+", "03/+a/b", "#/", ""]


@pytest.mark.wardmq_only("mosquitto disconnects on an invalid filter")
@pytest.mark.parametrize("filt", INVALID_FILTERS, ids=[repr(f) for f in INVALID_FILTERS])
@BOTH
def test_invalid_filter_gets_failure_code(port, filt, v):
    c = client(port, "03-bad", v=v)
    fail = 0x8F if v == V5 else 0x80
    c.subscribe(("03/ok", 1), (filt, 1), ("03/ok2", 0), expect=[1, fail, 0])
    pub = client(port, "03-badp", v=V311)
    pub.publish("03/ok", b"still", qos=1)
    assert c.recv_publish().payload == b"still"


@pytest.mark.parametrize("filt", ["03/#/x", "03/a#", "03/a+"])
def test_invalid_filter_is_refused(port, filt):
    # Whatever the broker does (failure code or disconnect), nothing is subscribed.
    c = client(port, "03-badr", v=V5)
    c.send(m.subscribe(1, (filt, 0)))
    try:
        got = c.recv_packet()
    except m.Closed:
        return
    if got.type == m.SUBACK:
        assert got.codes[0] >= 0x80, got
    else:
        assert got.type == m.DISCONNECT and got.rc >= 0x80, got


@BOTH
def test_subscribe_without_filters(port, v):
    c = client(port, "03-nof", v=v)
    c.send(m.subscribe(1, v=v))
    got = c.expect_closed_after_any()                          # [MQTT-3.8.3-3]
    assert all(p.type == m.DISCONNECT and p.rc in (0x81, 0x82) for p in got), got


@BOTH
def test_unsubscribe_without_filters(port, v):
    c = client(port, "03-nouf", v=v)
    c.send(m.unsubscribe(1, v=v))
    got = c.expect_closed_after_any()                          # [MQTT-3.10.3-2]
    assert all(p.type == m.DISCONNECT and p.rc in (0x81, 0x82) for p in got), got


@both_v5_wardmq_only("mosquitto closes without DISCONNECT")
def test_subscribe_wrong_fixed_header_flags(port, v):
    c = client(port, "03-flg", v=v)
    body = m.u16(1) + (b"\x00" if v == V5 else b"") + m.s("03/f") + b"\x00"
    c.send(m.packet(0x80, body))
    c.expect_violation(0x81)                                   # [MQTT-3.8.1-1]


@both_v5_wardmq_only("mosquitto closes without DISCONNECT")
def test_unsubscribe_wrong_fixed_header_flags(port, v):
    c = client(port, "03-uflg", v=v)
    body = m.u16(1) + (b"\x00" if v == V5 else b"") + m.s("03/f")
    c.send(m.packet(0xA0, body))
    c.expect_violation(0x81)                                   # [MQTT-3.10.1-1]


@both_v5_wardmq_only("mosquitto closes without DISCONNECT")
def test_subscribe_reserved_option_bits(port, v):
    c = client(port, "03-res", v=v)
    c.send(m.subscribe(1, ("03/r", 0xC0 if v == V5 else 0x04), v=v))
    c.expect_violation(0x81)                                   # [MQTT-3.8.3-5], 3.1.1 [MQTT-3-8.3-4]


@both_v5_wardmq_only("mosquitto closes without DISCONNECT")
def test_subscribe_qos_3(port, v):
    c = client(port, "03-q3", v=v)
    c.send(m.subscribe(1, ("03/q3", 3), v=v))
    c.expect_violation(0x82)                                   # 3.8.3.1: Protocol Error in v5


@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_subscribe_retain_handling_3(port):
    c = client(port, "03-rh3", v=V5)
    c.send(m.subscribe(1, ("03/rh3", 0x30)))
    c.expect_disconnect(0x82)                                  # 3.8.3.1 Protocol Error


@both_v5_wardmq_only("mosquitto closes without DISCONNECT")
def test_subscribe_packet_id_zero(port, v):
    c = client(port, "03-pid0", v=v)
    c.send(m.subscribe(0, ("03/p0", 0), v=v))
    c.expect_violation(0x82)                                   # [MQTT-2.2.1-3]


@both_v5_wardmq_only("mosquitto closes without DISCONNECT")
def test_subscribe_bad_utf8_filter(port, v):
    c = client(port, "03-u8", v=v)
    c.send(m.subscribe(1, (b"03/\xc0\x80", 0), v=v))
    c.expect_violation(0x81)                                   # [MQTT-1.5.4-1]


# ---------------------------------------------------------------- subscription limit

@pytest.mark.wardmq_only("max_subscriptions_per_client option")
@BOTH
def test_subscription_limit(broker_factory, v):
    b = broker_factory("max_subscriptions_per_client 2")
    c = client(b.port, "03-lim", v=v)
    c.subscribe("03/l/1", "03/l/2", expect=[0, 0])
    c.subscribe("03/l/3", expect=[0x97 if v == V5 else 0x80])
    c.subscribe("03/l/1", qos=1, expect=[1])                   # replacing is not a new one
    c.unsubscribe("03/l/2")
    c.subscribe("03/l/3", expect=[0])
