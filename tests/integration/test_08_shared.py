# SPDX-License-Identifier: MIT
"""08 - shared subscriptions ($share/GROUP/FILTER): one member per message,
round-robin, groups independent, no retained on subscribe, invalid filters,
No Local forbidden."""
import pytest

import mqttraw as m
from mqttraw import V5, client


def members(port, n, filt, qos=0, prefix="08-m"):
    out = []
    for i in range(n):
        c = client(port, f"{prefix}{i}", v=V5)
        c.subscribe(filt, qos=qos)
        out.append(c)
    return out


def publish_n(port, topic, n, qos=1):
    pub = client(port, "08-pub", v=V5)
    for i in range(n):
        pub.publish(topic, b"%d" % i, qos=qos)
    return pub


def drain(c):
    """PUBLISH payloads received (and acknowledged) until a PINGRESP."""
    out = []
    for p in c.ping():
        assert p.type == m.PUBLISH, p
        if p.qos == 1:
            c.send(m.puback(p.pid))
        out.append(p)
    return out


def test_shared_each_message_to_exactly_one_member(port):
    a, b = members(port, 2, "$share/g/08/s")
    publish_n(port, "08/s", 10)
    got_a, got_b = drain(a), drain(b)
    payloads = sorted(int(p.payload) for p in got_a + got_b)
    assert payloads == list(range(10)), (got_a, got_b)            # [MQTT-4.8.2-...] one member each
    assert got_a and got_b, "one member received nothing"
    assert all(p.topic == "08/s" for p in got_a + got_b)


def test_shared_round_robin_is_even(port):
    ms = members(port, 3, "$share/rr/08/rr")
    publish_n(port, "08/rr", 9)
    counts = [len(drain(c)) for c in ms]
    assert counts == [3, 3, 3], counts


def test_shared_and_normal_subscriber(port):
    a, b = members(port, 2, "$share/g/08/n")
    normal = client(port, "08-normal", v=V5)
    normal.subscribe("08/n")
    publish_n(port, "08/n", 6)
    assert len(drain(a)) + len(drain(b)) == 6
    assert sorted(int(p.payload) for p in drain(normal)) == list(range(6))


def test_two_groups_each_get_every_message(port):
    g1 = members(port, 2, "$share/one/08/two", prefix="08-g1-")
    g2 = members(port, 2, "$share/two/08/two", prefix="08-g2-")
    publish_n(port, "08/two", 6)
    for group in (g1, g2):
        got = sorted(int(p.payload) for c in group for p in drain(c))
        assert got == list(range(6))


@pytest.mark.wardmq_only("mosquitto 2.0.11 sends retained messages on a shared subscribe")
def test_shared_subscribe_gets_no_retained(port):
    pub = client(port, "08-ret", v=V5)
    pub.publish("08/ret", b"kept", qos=1, retain=True)
    c = client(port, "08-rs", v=V5)
    c.subscribe("$share/g/08/ret")
    assert c.ping() == []                                           # 4.8.2: no retained
    c.subscribe("08/ret")
    assert c.recv_publish().payload == b"kept"                      # but a normal one does


def test_shared_member_leaving(port):
    a, b = members(port, 2, "$share/g/08/leave")
    b.disconnect()
    a.ping()
    publish_n(port, "08/leave", 6)
    assert sorted(int(p.payload) for p in drain(a)) == list(range(6))


def test_shared_wildcard_filter(port):
    a, = members(port, 1, "$share/g/08/w/#")
    pub = client(port, "08-wp", v=V5)
    pub.publish("08/w/x/y", b"deep", qos=1)
    p = a.recv_publish()
    assert (p.topic, p.payload) == ("08/w/x/y", b"deep")


def test_shared_qos1_delivery(port):
    a, = members(port, 1, "$share/g/08/q", qos=1)
    publish_n(port, "08/q", 3)
    got = [a.recv_publish() for _ in range(3)]
    assert [p.qos for p in got] == [1, 1, 1]
    assert a.ping() == []


def test_shared_qos_downgrade(port):
    a, = members(port, 1, "$share/g/08/dq", qos=0)
    publish_n(port, "08/dq", 1, qos=2)
    assert a.recv_publish().qos == 0


def test_unsubscribe_shared(port):
    a, b = members(port, 2, "$share/g/08/u")
    p = a.unsubscribe("$share/g/08/u")
    assert p.codes == [0]
    publish_n(port, "08/u", 4)
    assert drain(a) == []
    assert len(drain(b)) == 4


def test_shared_subscription_identifier(port):
    c = client(port, "08-sid", v=V5)
    c.subscribe("$share/g/08/sid", properties=m.props((m.SUBSCRIPTION_ID, 77)))
    publish_n(port, "08/sid", 1)
    assert c.recv_publish().props_all(m.SUBSCRIPTION_ID) == [77]


@pytest.mark.wardmq_only("mosquitto 2.0.11 accepts No Local on a shared subscription")
def test_shared_with_no_local_is_protocol_error(port):
    c = client(port, "08-nl", v=V5)
    c.send(m.subscribe(1, ("$share/g/08/nl", m.subopts(nl=True))))
    got = c.expect_closed_after_any()
    assert all(p.type == m.DISCONNECT and p.rc == 0x82 for p in got), got   # [MQTT-3.8.3-4]


@pytest.mark.wardmq_only("mosquitto disconnects on an invalid shared filter")
@pytest.mark.parametrize("filt", ["$share/g", "$share/g/", "$share//08/t", "$share/g+/08/t",
                                  "$share/g#/08/t", "$share/", "$share/#"])
def test_invalid_shared_filter(port, filt):
    c = client(port, "08-bad", v=V5)
    c.subscribe((filt, 0), ("08/ok", 0), expect=[0x8F, 0])
