# SPDX-License-Identifier: MIT
"""01 - CONNECT / CONNACK: versions, client ids, keepalive, malformed CONNECTs,
connect timeout, second CONNECT, packets before CONNECT, pre-connect limits."""
import time

import pytest

import mqttraw as m
from conftest import is_mosquitto
from mqttraw import V31, V311, V5, Conn, client

# WardMQ closes after 1.5 x keepalive; mosquitto's keepalive check is coarser.
KEEPALIVE_LIMIT = 10.0 if is_mosquitto() else 4.0

ONE_OF_MALFORMED_OR_PROTOCOL = {0x81, 0x82}


# ---------------------------------------------------------------- accepted CONNECTs

def test_connect_v311_accepted(port):
    # CONNECT "MQTT" level 4, clean session, keepalive 60, client id "01-ok"
    c = Conn(port, v=V311)
    c.send(bytes.fromhex("10 11 00 04 4d 51 54 54 04 02 00 3c 00 05 30 31 2d 6f 6b"))
    c.expect_raw(bytes.fromhex("20 02 00 00"))  # [MQTT-3.2.2-1] session present 0
    assert c.ping() == []


def test_connect_v31_mqisdp_accepted(port):
    # CONNECT "MQIsdp" level 3 (MQTT 3.1)
    c = Conn(port, v=V31)
    c.send(bytes.fromhex("10 13 00 06 4d 51 49 73 64 70 03 02 00 3c 00 05 30 31 2d 6f 6b"))
    c.expect_raw(bytes.fromhex("20 02 00 00"))
    assert c.ping() == []


def test_connect_v5_accepted(port):
    c = Conn(port, v=V5)
    c.send(bytes.fromhex("10 12 00 04 4d 51 54 54 05 02 00 3c 00 00 05 30 31 2d 6f 6b"))
    p = c.expect_connack(0, session_present=False)
    assert p.flags == 0
    ids = [k for k, _ in p.props if k != m.USER_PROPERTY]
    assert len(ids) == len(set(ids)), f"a property appears twice in CONNACK: {p!r}"
    assert not p.has(m.ASSIGNED_CLIENT_ID), "client id was given: nothing to assign"
    assert c.ping() == []


def test_connect_v5_connack_advertises_limits(broker_factory):
    b = broker_factory("max_inflight_messages 7", "max_topic_alias 5", "max_packet_size 4096")
    c = client(b.port, "01-adv", v=V5)
    p = c.connack
    assert p.prop(m.RECEIVE_MAXIMUM) == 7, p
    assert p.prop(m.TOPIC_ALIAS_MAXIMUM) == 5, p
    assert p.prop(m.MAXIMUM_PACKET_SIZE) == 4096, p
    assert p.prop(m.RETAIN_AVAILABLE, 1) == 1, p
    assert not p.has(m.MAXIMUM_QOS), f"Maximum QoS must be absent when 2 [MQTT-3.2.2-9]: {p!r}"
    for pid in (m.WILDCARD_SUB_AVAILABLE, m.SUB_ID_AVAILABLE, m.SHARED_SUB_AVAILABLE):
        assert p.prop(pid, 1) == 1, p


def test_connect_v5_connack_advertises_retain_and_qos_limits(broker_factory):
    b = broker_factory("retain_available false", "max_qos 1")
    c = client(b.port, "01-adv2", v=V5)
    assert c.connack.prop(m.RETAIN_AVAILABLE) == 0, c.connack
    assert c.connack.prop(m.MAXIMUM_QOS) == 1, c.connack


def test_connect_v5_password_without_username_accepted(port):
    # MQTT 5 allows a password without a user name (3.1.2.9); anonymous is on.
    c = client(port, "01-pw", v=V5, password=b"secret")
    assert c.ping() == []


def test_connect_long_client_id_accepted(port):
    cid = "x" * 200  # longer than the 23 bytes every server must accept
    c = client(port, cid, v=V311)
    assert c.ping() == []


# ---------------------------------------------------------------- protocol name / level

def test_connect_unsupported_protocol_level(port):
    # "MQTT" level 6: [MQTT-3.1.2-2] CONNACK 0x01 (3.1.1 form) or 0x84 (v5 form), then close
    c = Conn(port, v=V311)
    c.send(bytes.fromhex("10 0e 00 04 4d 51 54 54 06 02 00 3c 00 02 69 64"))
    p = c.expect(m.CONNACK)
    assert p.raw in (bytes.fromhex("20 02 00 01"), bytes.fromhex("20 03 00 84 00")), p
    c.expect_closed()


def test_connect_bad_protocol_name(port):
    # [MQTT-3.1.2-1] unknown protocol name: the server must not continue as MQTT
    c = Conn(port, v=V311)
    c.send(bytes.fromhex("10 0e 00 04 4d 51 54 58 04 02 00 3c 00 02 69 64"))
    got = c.expect_closed_after_any()
    assert all(p.type == m.CONNACK and p.rc != 0 for p in got), got


def test_connect_mqisdp_name_with_level_4_refused(port):
    c = Conn(port, v=V311)
    c.send(m.connect("01-mix", v=V311, proto_name=b"MQIsdp"))
    got = c.expect_closed_after_any()
    assert all(p.type == m.CONNACK and p.rc != 0 for p in got), got


# ---------------------------------------------------------------- client identifiers

def test_connect_v311_empty_id_clean_session_accepted(port):
    c = Conn(port, v=V311)
    c.send(bytes.fromhex("10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00"))
    c.expect_raw(bytes.fromhex("20 02 00 00"))  # [MQTT-3.1.3-6]
    assert c.ping() == []


def test_connect_v311_empty_id_persistent_session_rejected(port):
    c = Conn(port, v=V311)
    c.send(bytes.fromhex("10 0c 00 04 4d 51 54 54 04 00 00 3c 00 00"))
    c.expect_raw(bytes.fromhex("20 02 00 02"))  # [MQTT-3.1.3-8] identifier rejected
    c.expect_closed()


def test_connect_v5_empty_id_gets_assigned_id(port):
    c = client(port, "", v=V5)
    aid = c.connack.prop(m.ASSIGNED_CLIENT_ID)
    assert aid is not None, f"[MQTT-3.2.2-16] no Assigned Client Identifier: {c.connack!r}"
    assert aid.startswith("auto-") and len(aid) > 5, aid


def test_connect_v5_assigned_ids_are_unique(port):
    a = client(port, "", v=V5).connack.prop(m.ASSIGNED_CLIENT_ID)
    b = client(port, "", v=V5).connack.prop(m.ASSIGNED_CLIENT_ID)
    assert a and b and a != b


def test_connect_v5_assigned_id_is_the_session_id(port):
    # The assigned id names a real session: reconnecting with it takes it over.
    first = client(port, "", v=V5)
    aid = first.connack.prop(m.ASSIGNED_CLIENT_ID)
    client(port, aid, v=V5)
    got = first.expect_closed_after_any()
    assert all(p.type == m.DISCONNECT and p.rc == 0x8E for p in got), got


# ---------------------------------------------------------------- keepalive

@pytest.mark.wardmq_only("mosquitto 2.0.11 accepts a too-large keepalive from 3.1.1 clients")
def test_connect_v311_keepalive_above_max_rejected(broker_factory):
    b = broker_factory("max_keepalive 10")
    c = Conn(b.port, v=V311)
    c.send(m.connect("01-ka", v=V311, keepalive=60))
    c.expect_raw(bytes.fromhex("20 02 00 02"))
    c.expect_closed()


def test_connect_v311_keepalive_at_max_accepted(broker_factory):
    b = broker_factory("max_keepalive 10")
    client(b.port, "01-ka", v=V311, keepalive=10)


def test_connect_v5_keepalive_above_max_gets_server_keep_alive(broker_factory):
    b = broker_factory("max_keepalive 10")
    c = client(b.port, "01-ska", v=V5, keepalive=60)
    assert c.connack.prop(m.SERVER_KEEP_ALIVE) == 10, c.connack


@pytest.mark.wardmq_only("Server Keep Alive is only sent when the client's keepalive is too large")
def test_connect_v5_keepalive_within_max_no_server_keep_alive(broker_factory):
    b = broker_factory("max_keepalive 100")
    c = client(b.port, "01-ska2", v=V5, keepalive=30)
    assert c.connack.prop(m.SERVER_KEEP_ALIVE, 30) == 30, c.connack


def test_keepalive_timeout_v5_closes(port):
    c = client(port, "01-kat5", v=V5, keepalive=1)
    t0 = time.monotonic()
    got = c.expect_closed_after_any(timeout=KEEPALIVE_LIMIT)
    assert all(p.type == m.DISCONNECT and p.rc == 0x8D for p in got), got
    assert 1.0 <= time.monotonic() - t0 <= KEEPALIVE_LIMIT


@pytest.mark.wardmq_only("mosquitto 2.0.11 closes without DISCONNECT 0x8D")
def test_keepalive_timeout_v5_disconnects_with_0x8d(port):
    c = client(port, "01-kat", v=V5, keepalive=1)
    t0 = time.monotonic()
    c.expect_disconnect(0x8D, timeout=KEEPALIVE_LIMIT)  # [MQTT-3.1.2-22] 1.5 x keepalive
    assert 1.0 <= time.monotonic() - t0 <= KEEPALIVE_LIMIT


def test_keepalive_timeout_v311_closes(port):
    c = client(port, "01-kat3", v=V311, keepalive=1)
    t0 = time.monotonic()
    c.expect_closed(timeout=KEEPALIVE_LIMIT)
    assert 1.0 <= time.monotonic() - t0 <= KEEPALIVE_LIMIT


def test_keepalive_pingreq_keeps_connection(port):
    c = client(port, "01-kap", v=V5, keepalive=1)
    for _ in range(6):
        time.sleep(0.4)
        assert c.ping() == []


def test_keepalive_publish_also_counts_as_activity(port):
    c = client(port, "01-kapub", v=V311, keepalive=1)
    for i in range(6):
        time.sleep(0.4)
        c.publish("01/ka/act", b"x", qos=1)
    assert c.ping() == []


def test_keepalive_zero_means_no_timeout(port):
    c = client(port, "01-ka0", v=V311, keepalive=0)
    time.sleep(2.0)
    assert c.ping() == []


# ---------------------------------------------------------------- connect timeout

@pytest.mark.wardmq_only("connect_timeout option")
def test_connect_timeout_closes_idle_socket(broker_factory):
    b = broker_factory("connect_timeout 1")
    c = Conn(b.port)
    t0 = time.monotonic()
    c.expect_closed(timeout=5)
    assert 0.8 <= time.monotonic() - t0 <= 4.0


@pytest.mark.wardmq_only("connect_timeout option")
def test_connect_timeout_closes_partial_connect(broker_factory):
    b = broker_factory("connect_timeout 1")
    c = Conn(b.port)
    c.send(m.connect("01-partial", v=V5)[:7])
    c.expect_closed(timeout=5)


@pytest.mark.wardmq_only("connect_timeout option")
def test_connect_timeout_not_applied_after_connect(broker_factory):
    b = broker_factory("connect_timeout 1")
    c = client(b.port, "01-ct", v=V5, keepalive=60)
    time.sleep(1.6)
    assert c.ping() == []


# ---------------------------------------------------------------- second CONNECT, early packets

@pytest.mark.wardmq_only("mosquitto closes without DISCONNECT")
def test_second_connect_v5_is_protocol_error(port):
    c = client(port, "01-twice", v=V5)
    c.send(m.connect("01-twice", v=V5))
    c.expect_disconnect(0x82)  # [MQTT-3.1.0-2]


def test_second_connect_v311_closes(port):
    c = client(port, "01-twice3", v=V311)
    c.send(m.connect("01-twice3", v=V311))
    c.expect_closed()  # [MQTT-3.1.0-2]


def test_publish_before_connect_closes(port):
    c = Conn(port)
    c.send(m.publish("01/early", b"x", v=V311))
    c.expect_closed()  # [MQTT-3.1.0-1]


def test_pingreq_before_connect_closes(port):
    c = Conn(port)
    c.send(m.PINGREQ_PKT)
    c.expect_closed()


def test_subscribe_before_connect_closes(port):
    c = Conn(port)
    c.send(m.subscribe(1, ("#", 0), v=V311))
    c.expect_closed()


def test_reserved_packet_type_0_closes(port):
    c = Conn(port)
    c.send(b"\x00\x00")
    c.expect_closed()


def test_remaining_length_five_bytes_closes(port):
    c = Conn(port)
    c.send(b"\x10\xff\xff\xff\xff\x7f")
    c.expect_closed()


# ---------------------------------------------------------------- pre-connect packet size

@pytest.mark.wardmq_only("max_packet_size_pre_connect option")
def test_pre_connect_max_packet_size_v5(broker_factory):
    b = broker_factory("max_packet_size_pre_connect 256", "max_packet_size 100000")
    c = Conn(b.port, v=V5)
    c.send_ignoring_errors(m.connect("01-big", v=V5, will=dict(topic="w", payload=b"x" * 1000)))
    got = c.expect_closed_after_any()
    assert all(p.type == m.CONNACK and p.rc == 0x95 for p in got), got


@pytest.mark.wardmq_only("max_packet_size_pre_connect option")
def test_pre_connect_max_packet_size_v311(broker_factory):
    b = broker_factory("max_packet_size_pre_connect 256", "max_packet_size 100000")
    c = Conn(b.port, v=V311)
    c.send_ignoring_errors(m.connect("01-big", v=V311, will=dict(topic="w", payload=b"x" * 1000)))
    c.expect_closed()


@pytest.mark.wardmq_only("max_packet_size_pre_connect option")
def test_pre_connect_limit_lifted_after_connect(broker_factory):
    b = broker_factory("max_packet_size_pre_connect 256", "max_packet_size 100000")
    c = client(b.port, "01-big2", v=V5)
    c.subscribe("01/big", qos=0)
    c.publish("01/big", b"y" * 5000)
    p = c.recv_publish()
    assert p.payload == b"y" * 5000


# ---------------------------------------------------------------- malformed v5 CONNECT

def _raw_v5_connect(flags=0x02, props=b"\x00", payload=None):
    payload = m.s("01-bad") if payload is None else payload
    body = m.s("MQTT") + b"\x05" + bytes([flags]) + m.u16(60) + props + payload
    return m.packet(0x10, body)


V5_BAD_CONNECTS = {
    # name: (packet, expected CONNACK reason codes)
    "reserved_flag": (_raw_v5_connect(flags=0x03), {0x81}),                 # [MQTT-3.1.2-3]
    "utf8_overlong_client_id": (_raw_v5_connect(payload=m.s(b"\xc0\x80")), {0x81}),  # [MQTT-1.5.4-1]
    "nul_in_client_id": (_raw_v5_connect(payload=m.s(b"a\x00b")), {0x81}),  # [MQTT-1.5.4-2]
    "surrogate_in_client_id": (_raw_v5_connect(payload=m.s(b"\xed\xa0\x80")), {0x81}),
    "duplicate_session_expiry": (
        _raw_v5_connect(props=m.props((m.SESSION_EXPIRY, 10), (m.SESSION_EXPIRY, 20))), {0x82}),
    "unknown_property_id": (_raw_v5_connect(props=m.props(raw=b"\x7f\x00")), {0x81}),
    "property_not_for_connect": (_raw_v5_connect(props=m.props((m.TOPIC_ALIAS, 1))), {0x81}),
    "receive_maximum_zero": (_raw_v5_connect(props=m.props((m.RECEIVE_MAXIMUM, 0))), {0x82}),
    "maximum_packet_size_zero": (
        _raw_v5_connect(props=m.props((m.MAXIMUM_PACKET_SIZE, 0))), {0x82}),
    "request_problem_info_2": (
        _raw_v5_connect(props=m.props((m.REQUEST_PROBLEM_INFO, 2))), {0x82}),
    "request_response_info_2": (
        _raw_v5_connect(props=m.props((m.REQUEST_RESPONSE_INFO, 2))), {0x82}),
    "property_length_overruns_packet": (_raw_v5_connect(props=b"\x20"), {0x81}),
    "user_property_bad_utf8": (
        _raw_v5_connect(props=m.props(raw=b"\x26" + m.s(b"\xff") + m.s("v"))), {0x81}),
    "will_qos_without_will_flag": (_raw_v5_connect(flags=0x02 | 0x08), ONE_OF_MALFORMED_OR_PROTOCOL),
    "will_retain_without_will_flag": (_raw_v5_connect(flags=0x02 | 0x20), ONE_OF_MALFORMED_OR_PROTOCOL),
    "will_qos_3": (_raw_v5_connect(flags=0x02 | 0x04 | 0x18,
                                   payload=m.s("01-bad") + b"\x00" + m.s("w") + m.s("p")), {0x81}),
    "nul_in_will_topic": (_raw_v5_connect(flags=0x02 | 0x04,
                                          payload=m.s("01-bad") + b"\x00" + m.s(b"w\x00") + m.s("p")),
                          {0x81}),
    "trailing_bytes": (_raw_v5_connect(payload=m.s("01-bad") + b"\x00"), {0x81}),
    "username_flag_without_username": (_raw_v5_connect(flags=0x82), {0x81}),
    "auth_method_unknown": (_raw_v5_connect(props=m.props((m.AUTH_METHOD, "NOPE-1"))), {0x8C}),
    "auth_data_without_method": (_raw_v5_connect(props=m.props((m.AUTH_DATA, b"x"))), {0x82}),
}


@pytest.mark.wardmq_only("mosquitto answers some malformed CONNECTs by closing without CONNACK")
@pytest.mark.parametrize("name", sorted(V5_BAD_CONNECTS))
def test_connect_v5_malformed_gets_reason_code(port, name):
    pkt, codes = V5_BAD_CONNECTS[name]
    c = Conn(port, v=V5)
    c.send(pkt)
    p = c.expect(m.CONNACK)
    assert p.rc in codes, f"{name}: CONNACK rc 0x{p.rc:02x}, expected {sorted(codes)}"
    c.expect_closed()


def test_connect_v5_unknown_auth_method_refused(port):
    # Without any enhanced-auth mechanism configured: 0x8C Bad authentication method
    c = Conn(port, v=V5)
    c.send(m.connect("01-auth", v=V5, properties=m.props((m.AUTH_METHOD, "NOPE-1"))))
    c.expect_connack(0x8C)
    c.expect_closed()


# ---------------------------------------------------------------- malformed 3.1.1 CONNECT

def _raw_v311_connect(flags=0x02, payload=None, first=0x10):
    payload = m.s("01-bad") if payload is None else payload
    body = m.s("MQTT") + b"\x04" + bytes([flags]) + m.u16(60) + payload
    return m.packet(first, body)


V311_BAD_CONNECTS = {
    "reserved_flag": _raw_v311_connect(flags=0x03),                            # [MQTT-3.1.2-3]
    "fixed_header_flags": _raw_v311_connect(first=0x12),                       # [MQTT-2.2.2-2]
    "utf8_overlong_client_id": _raw_v311_connect(payload=m.s(b"\xc0\x80")),   # [MQTT-1.5.3-1]
    "nul_in_client_id": _raw_v311_connect(payload=m.s(b"a\x00b")),            # [MQTT-1.5.3-2]
    "password_without_username": _raw_v311_connect(
        flags=0x42, payload=m.s("01-bad") + m.s("pw")),                        # [MQTT-3.1.2-22]
    "will_qos_3": _raw_v311_connect(flags=0x02 | 0x04 | 0x18,
                                    payload=m.s("01-bad") + m.s("w") + m.s("p")),  # [MQTT-3.1.2-14]
    "will_qos_without_will_flag": _raw_v311_connect(flags=0x02 | 0x08),        # [MQTT-3.1.2-13]
    "username_flag_without_username": _raw_v311_connect(flags=0x82),          # [MQTT-3.1.2-19]
    "trailing_bytes": _raw_v311_connect(payload=m.s("01-bad") + b"\x00"),
    "truncated_client_id_length": _raw_v311_connect(payload=b"\x00\x10ab"),
}


@pytest.mark.parametrize("name", sorted(V311_BAD_CONNECTS))
def test_connect_v311_malformed_closes_without_connack(port, name):
    c = Conn(port, v=V311)
    c.send(V311_BAD_CONNECTS[name])
    c.expect_closed()
