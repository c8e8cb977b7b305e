# SPDX-License-Identifier: MIT
"""05 - sessions: clean start / clean session, Session Expiry Interval,
queued messages for offline sessions, session take-over."""
import time

import pytest

import mqttraw as m
from mqttraw import V311, V5, client


def v5_persistent(port, cid, expiry=60, session_present=None, **kw):
    return client(port, cid, v=V5, clean=False, session_present=session_present,
                  properties=m.props((m.SESSION_EXPIRY, expiry)), **kw)


# ---------------------------------------------------------------- 3.1.1

def test_v311_clean_session_has_no_session_present(port):
    client(port, "05-c", v=V311, clean=True, session_present=False)
    client(port, "05-c", v=V311, clean=True, session_present=False)   # [MQTT-3.2.2-1]


def test_v311_persistent_session_present_on_reconnect(port):
    c = client(port, "05-p", v=V311, clean=False, session_present=False)  # [MQTT-3.2.2-3]
    c.disconnect()
    client(port, "05-p", v=V311, clean=False, session_present=True)   # [MQTT-3.2.2-2]


def test_v311_persistent_session_queues_qos1_and_qos2(port):
    c = client(port, "05-q", v=V311, clean=False)
    c.subscribe("05/q/#", qos=2)
    c.disconnect()
    pub = client(port, "05-qp", v=V311)
    pub.publish("05/q/1", b"one", qos=1)
    pub.publish("05/q/2", b"two", qos=2)
    pub.publish("05/q/0", b"zero", qos=0)
    pub.publish("05/q/3", b"three", qos=1)
    c = client(port, "05-q", v=V311, clean=False, session_present=True)
    got = [(p.payload, p.qos) for p in (c.recv_publish() for _ in range(3))]
    assert got == [(b"one", 1), (b"two", 2), (b"three", 1)]
    assert c.ping() == [], "QoS 0 message was queued for an offline session"


def test_v311_clean_session_discards_previous_session(port):
    c = client(port, "05-d", v=V311, clean=False)
    c.subscribe("05/d", qos=1)
    c.disconnect()
    c = client(port, "05-d", v=V311, clean=True, session_present=False)  # [MQTT-3.1.2-6]
    c.disconnect()
    pub = client(port, "05-dp", v=V311)
    pub.publish("05/d", b"x", qos=1)
    c = client(port, "05-d", v=V311, clean=False, session_present=False)
    assert c.ping() == []


def test_v311_persistent_session_after_abrupt_close(port):
    c = client(port, "05-ab", v=V311, clean=False)
    c.subscribe("05/ab", qos=1)
    c.close()                                   # no DISCONNECT
    time.sleep(0.2)
    pub = client(port, "05-abp", v=V311)
    pub.publish("05/ab", b"x", qos=1)
    c = client(port, "05-ab", v=V311, clean=False, session_present=True)
    assert c.recv_publish().payload == b"x"


# ---------------------------------------------------------------- MQTT 5 session expiry

def test_v5_clean_start_0_with_expiry_resumes_session(port):
    c = v5_persistent(port, "05-r", session_present=False)
    c.subscribe("05/r", qos=1)
    c.disconnect()
    c = v5_persistent(port, "05-r", session_present=True)
    pub = client(port, "05-rp", v=V5)
    pub.publish("05/r", b"resumed", qos=1)
    assert c.recv_publish().payload == b"resumed"


def test_v5_default_expiry_zero_ends_session_at_disconnect(port):
    c = client(port, "05-z", v=V5, clean=False)
    c.subscribe("05/z", qos=1)
    c.disconnect()
    c = client(port, "05-z", v=V5, clean=False, session_present=False)  # [MQTT-3.1.2-23]
    pub = client(port, "05-zp", v=V5)
    pub.publish("05/z", b"x", qos=1)
    assert c.ping() == []


def test_v5_session_expires_after_interval(port):
    c = v5_persistent(port, "05-e", expiry=1)
    c.subscribe("05/e", qos=1)
    c.disconnect()
    time.sleep(2.2)
    c = client(port, "05-e", v=V5, clean=False, session_present=False)
    pub = client(port, "05-ep", v=V5)
    pub.publish("05/e", b"x", qos=1)
    assert c.ping() == []


def test_v5_session_alive_before_expiry(port):
    c = v5_persistent(port, "05-a", expiry=5)
    c.disconnect()
    time.sleep(1.0)
    v5_persistent(port, "05-a", expiry=5, session_present=True)


def test_v5_clean_start_discards_existing_session(port):
    c = v5_persistent(port, "05-cs")
    c.subscribe("05/cs", qos=1)
    c.disconnect()
    c = client(port, "05-cs", v=V5, clean=True, session_present=False)  # [MQTT-3.1.2-4]
    pub = client(port, "05-csp", v=V5)
    pub.publish("05/cs", b"x", qos=1)
    assert c.ping() == []


def test_v5_disconnect_can_set_expiry_to_zero(port):
    c = v5_persistent(port, "05-dz", expiry=60)
    c.disconnect(0, m.props((m.SESSION_EXPIRY, 0)))
    time.sleep(0.2)
    client(port, "05-dz", v=V5, clean=False, session_present=False)


def test_v5_disconnect_can_extend_nonzero_expiry(port):
    c = v5_persistent(port, "05-dx", expiry=1)
    c.disconnect(0, m.props((m.SESSION_EXPIRY, 30)))
    time.sleep(1.8)
    client(port, "05-dx", v=V5, clean=False, session_present=True)


def test_v5_disconnect_cannot_set_expiry_after_zero(port):
    c = client(port, "05-d0", v=V5, clean=False)
    c.send(m.disconnect(0, m.props((m.SESSION_EXPIRY, 30))))
    c.expect_disconnect(0x82)                   # [MQTT-3.14.2-2]


def test_v5_disconnect_expiry_after_zero_not_persistent(port):
    c = client(port, "05-d0b", v=V5, clean=False)
    c.send(m.disconnect(0, m.props((m.SESSION_EXPIRY, 30))))
    c.expect_closed_after_any()
    time.sleep(0.2)
    client(port, "05-d0b", v=V5, clean=False, session_present=False)


def test_v5_queued_messages_delivered_on_reconnect(port):
    c = v5_persistent(port, "05-vq")
    c.subscribe("05/vq", qos=2)
    c.disconnect()
    pub = client(port, "05-vqp", v=V5)
    for i, q in enumerate([1, 0, 2, 1]):
        pub.publish("05/vq", b"%d" % i, qos=q)
    c = v5_persistent(port, "05-vq", session_present=True)
    got = [(p.payload, p.qos) for p in (c.recv_publish() for _ in range(3))]
    assert got == [(b"0", 1), (b"2", 2), (b"3", 1)]
    assert c.ping() == []


def test_queue_qos0_messages_option(broker_factory):
    b = broker_factory("queue_qos0_messages true")
    c = v5_persistent(b.port, "05-q0")
    c.subscribe("05/q0", qos=1)
    c.disconnect()
    pub = client(b.port, "05-q0p", v=V5)
    pub.publish("05/q0", b"zero", qos=0)
    pub.ping()
    c = v5_persistent(b.port, "05-q0", session_present=True)
    p = c.recv_publish()
    assert p.payload == b"zero" and p.qos == 0


def test_v5_queued_messages_dropped_when_session_expires(port):
    c = v5_persistent(port, "05-qe", expiry=1)
    c.subscribe("05/qe", qos=1)
    c.disconnect()
    pub = client(port, "05-qep", v=V5)
    pub.publish("05/qe", b"x", qos=1)
    time.sleep(2.2)
    c = v5_persistent(port, "05-qe", session_present=False)
    assert c.ping() == []


def test_v5_session_survives_abrupt_close(port):
    c = v5_persistent(port, "05-abr")
    c.subscribe("05/abr", qos=1)
    c.close()
    time.sleep(0.2)
    pub = client(port, "05-abrp", v=V5)
    pub.publish("05/abr", b"x", qos=1)
    c = v5_persistent(port, "05-abr", session_present=True)
    assert c.recv_publish().payload == b"x"


# ---------------------------------------------------------------- take-over

@pytest.mark.wardmq_only("mosquitto 2.0.11 closes the old connection without DISCONNECT 0x8E")
def test_takeover_v5_old_connection_gets_0x8e(port):
    old = client(port, "05-to", v=V5)
    client(port, "05-to", v=V5)
    old.expect_disconnect(0x8E)                 # [MQTT-3.1.4-3]


def test_takeover_v5_old_connection_closed(port):
    old = client(port, "05-to5", v=V5)
    new = client(port, "05-to5", v=V5)
    got = old.expect_closed_after_any()
    assert all(p.type == m.DISCONNECT and p.rc == 0x8E for p in got), got
    assert new.ping() == []


def test_takeover_v311_old_connection_closed(port):
    old = client(port, "05-to3", v=V311)
    new = client(port, "05-to3", v=V311)
    old.expect_closed()                         # [MQTT-3.1.4-2]
    assert new.ping() == []


def test_takeover_keeps_persistent_session(port):
    old = client(port, "05-tk", v=V311, clean=False)
    old.subscribe("05/tk", qos=1)
    new = client(port, "05-tk", v=V311, clean=False, session_present=True)
    old.expect_closed()
    pub = client(port, "05-tkp", v=V311)
    pub.publish("05/tk", b"x", qos=1)
    assert new.recv_publish().payload == b"x"


def test_takeover_with_clean_start_discards_session(port):
    old = v5_persistent(port, "05-tc")
    old.subscribe("05/tc", qos=1)
    new = client(port, "05-tc", v=V5, clean=True, session_present=False)
    old.expect_closed_after_any()
    pub = client(port, "05-tcp", v=V5)
    pub.publish("05/tc", b"x", qos=1)
    assert new.ping() == []


def test_takeover_then_old_socket_is_really_gone(port):
    old = client(port, "05-tg", v=V311)
    client(port, "05-tg", v=V311)
    old.expect_closed()
    old.send_ignoring_errors(m.PINGREQ_PKT)     # writing to it gets nothing back
    with pytest.raises(AssertionError):
        old.recv_packet(0.3)
