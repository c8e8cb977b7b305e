# SPDX-License-Identifier: MIT
"""06 - Will messages: when they are sent and when not, QoS and retain, MQTT 5
will properties, Will Delay Interval, DISCONNECT 0x04, take-over."""
import time

import pytest

import mqttraw as m
from conftest import is_mosquitto
from mqttraw import V31, V311, V5, client

KEEPALIVE_LIMIT = 10.0 if is_mosquitto() else 4.0


def watcher(port, topic="06/will", qos=2):
    w = client(port, "06-watch", v=V5)
    w.subscribe(topic, qos=qos)
    return w


def will(topic="06/will", payload=b"gone", qos=0, retain=False, properties=None):
    return dict(topic=topic, payload=payload, qos=qos, retain=retain, properties=properties)


# ---------------------------------------------------------------- when the will is sent

@pytest.mark.parametrize("v", [V311, V5, V31], ids=["v311", "v5", "v31"])
def test_will_on_abrupt_close(port, v):
    w = watcher(port)
    c = client(port, "06-c", v=v, will=will(qos=1))
    c.close()                                                   # [MQTT-3.1.2-8]
    p = w.recv_publish()
    assert (p.topic, p.payload, p.qos, p.retain) == ("06/will", b"gone", 1, False), p


@pytest.mark.parametrize("v", [V311, V5])
def test_no_will_after_normal_disconnect(port, v):
    w = watcher(port)
    c = client(port, "06-n", v=v, will=will())
    c.disconnect()                                              # [MQTT-3.1.2-10], [MQTT-3.14.4-3]
    time.sleep(0.3)
    assert w.ping() == []


def test_will_on_protocol_violation(port):
    w = watcher(port)
    c = client(port, "06-pv", v=V311, will=will(payload=b"violated"))
    c.send(m.packet(0x36, m.s("06/x") + m.u16(1) + b"x"))        # PUBLISH QoS 3
    c.expect_closed()
    assert w.recv_publish().payload == b"violated"


def test_will_on_keepalive_timeout(port):
    w = watcher(port)
    client(port, "06-ka", v=V311, keepalive=1, will=will(payload=b"timeout"))
    assert w.recv_publish(timeout=KEEPALIVE_LIMIT).payload == b"timeout"


def test_will_qos2(port):
    w = watcher(port)
    c = client(port, "06-q2", v=V311, will=will(qos=2))
    c.close()
    assert w.recv_publish().qos == 2


def test_will_retain_is_stored(port):
    w = watcher(port)
    c = client(port, "06-r", v=V311, will=will(payload=b"last", retain=True))
    c.close()
    p = w.recv_publish()
    assert p.payload == b"last" and not p.retain, p             # live delivery: retain 0
    late = client(port, "06-late", v=V5)
    late.subscribe("06/will")
    p = late.recv_publish()
    assert p.payload == b"last" and p.retain, p                 # [MQTT-3.1.2-17]


def test_will_without_retain_not_stored(port):
    w = watcher(port)
    c = client(port, "06-nr", v=V311, will=will(retain=False))
    c.close()
    w.recv_publish()
    late = client(port, "06-late", v=V5)
    late.subscribe("06/will")
    assert late.ping() == []


def test_will_empty_payload(port):
    w = watcher(port)
    c = client(port, "06-e", v=V5, will=will(payload=b""))
    c.close()
    assert w.recv_publish().payload == b""


# ---------------------------------------------------------------- MQTT 5 specifics

def test_v5_will_properties_passed_through(port):
    w = watcher(port)
    wp = m.props((m.PAYLOAD_FORMAT, 1), (m.MESSAGE_EXPIRY, 100), (m.CONTENT_TYPE, "text/x"),
                 (m.RESPONSE_TOPIC, "06/resp"), (m.CORRELATION_DATA, b"cd"),
                 (m.USER_PROPERTY, ("b", "2")), (m.USER_PROPERTY, ("a", "1")))
    c = client(port, "06-p", v=V5, will=will(payload=b"props", properties=wp))
    c.close()
    p = w.recv_publish()
    assert p.prop(m.PAYLOAD_FORMAT) == 1
    assert 0 < p.prop(m.MESSAGE_EXPIRY) <= 100
    assert p.prop(m.CONTENT_TYPE) == "text/x"
    assert p.prop(m.RESPONSE_TOPIC) == "06/resp"
    assert p.prop(m.CORRELATION_DATA) == b"cd"
    assert p.props_all(m.USER_PROPERTY) == [("b", "2"), ("a", "1")]   # [MQTT-3.3.2-18]


def test_v5_disconnect_0x04_sends_will(port):
    w = watcher(port)
    c = client(port, "06-d4", v=V5, will=will(payload=b"with-will"))
    c.disconnect(0x04)
    assert w.recv_publish().payload == b"with-will"


def test_v5_disconnect_0x00_suppresses_will(port):
    w = watcher(port)
    c = client(port, "06-d0", v=V5, will=will())
    c.disconnect(0x00)
    time.sleep(0.3)
    assert w.ping() == []


@pytest.mark.wardmq_only("mosquitto 2.0.11 drops the will on any DISCONNECT but 0x04")
def test_v5_disconnect_with_error_code_sends_will(port):
    # Only reason code 0x00 removes the will (3.1.2.5, 3.14.4)
    w = watcher(port)
    c = client(port, "06-d80", v=V5, will=will(payload=b"error"))
    c.disconnect(0x80)
    assert w.recv_publish().payload == b"error"


def test_v5_will_delay(port):
    w = watcher(port)
    c = client(port, "06-wd", v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 30)),
               will=will(payload=b"late", properties=m.props((m.WILL_DELAY, 2))))
    c.close()
    t0 = time.monotonic()
    w.expect_nothing(1.0)                                       # [MQTT-3.1.3-9]
    assert w.recv_publish(timeout=5).payload == b"late"
    assert time.monotonic() - t0 >= 1.5


def test_v5_will_delay_cancelled_by_reconnect(port):
    w = watcher(port)
    kw = dict(v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 30)))
    c = client(port, "06-wc", will=will(properties=m.props((m.WILL_DELAY, 2))), **kw)
    c.close()
    time.sleep(0.3)
    client(port, "06-wc", session_present=True, **kw)
    w.expect_nothing(2.7)                                       # [MQTT-3.1.3-9]


def test_v5_will_sent_when_session_ends_before_delay(port):
    w = watcher(port)
    c = client(port, "06-we", v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 1)),
               will=will(payload=b"session-end", properties=m.props((m.WILL_DELAY, 60))))
    c.close()
    assert w.recv_publish(timeout=5).payload == b"session-end"   # 3.1.3.2.2


def test_v5_will_delay_zero_is_immediate(port):
    w = watcher(port)
    c = client(port, "06-wz", v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 30)),
               will=will(payload=b"now", properties=m.props((m.WILL_DELAY, 0))))
    c.close()
    assert w.recv_publish(timeout=1.5).payload == b"now"


@pytest.mark.wardmq_only("mosquitto 2.0.11 waits for the will delay although the session has ended")
def test_v5_will_delay_and_session_expiry_zero(port):
    # No session to outlive the connection: the will goes out when it closes.
    w = watcher(port)
    c = client(port, "06-wz0", v=V5, will=will(payload=b"now", properties=m.props((m.WILL_DELAY, 30))))
    c.close()
    assert w.recv_publish(timeout=1.5).payload == b"now"


# ---------------------------------------------------------------- take-over

def test_will_on_takeover_v311(port):
    w = watcher(port)
    old = client(port, "06-to", v=V311, will=will(payload=b"taken"))
    client(port, "06-to", v=V311)
    old.expect_closed()
    assert w.recv_publish().payload == b"taken"


def test_v5_takeover_with_will_delay_and_resumed_session_no_will(port):
    w = watcher(port)
    kw = dict(v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 30)))
    old = client(port, "06-tod", will=will(properties=m.props((m.WILL_DELAY, 2))), **kw)
    client(port, "06-tod", session_present=True, **kw)
    old.expect_closed_after_any()
    w.expect_nothing(2.7)


@pytest.mark.wardmq_only("mosquitto 2.0.11 waits for the will delay although the session has ended")
def test_v5_takeover_clean_start_ends_session_and_sends_will(port):
    w = watcher(port)
    old = client(port, "06-toc", v=V5, clean=False, properties=m.props((m.SESSION_EXPIRY, 30)),
                 will=will(payload=b"ended", properties=m.props((m.WILL_DELAY, 30))))
    client(port, "06-toc", v=V5, clean=True)
    old.expect_closed_after_any()
    assert w.recv_publish(timeout=3).payload == b"ended"


# ---------------------------------------------------------------- invalid will

@pytest.mark.parametrize("v", [V311, V5])
def test_will_topic_with_wildcard_refused(port, v):
    c = m.Conn(port, v=v)
    c.send(m.connect("06-bad", v=v, will=will(topic="06/#")))
    got = c.expect_closed_after_any()
    assert all(p.type == m.CONNACK and p.rc != 0 for p in got), got
