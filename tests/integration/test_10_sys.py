# SPDX-License-Identifier: MIT
"""10 - $SYS/broker/... statistics (mosquitto names), published retained
every sys_interval seconds, not matched by '#'."""
import time

import pytest

import mqttraw as m
from conftest import is_mosquitto
from mqttraw import V311, V5, client

SYS = "$SYS/broker/"


@pytest.fixture
def sysb(broker_factory):
    return broker_factory("sys_interval 1")


def number(payload):
    return int(float(payload.split()[0]))


class SysWatch:
    """A client subscribed to $SYS/broker/#, remembering the latest values."""

    def __init__(self, port):
        self.c = client(port, "10-watch", v=V5)
        self.c.subscribe(SYS + "#")
        self.values = {}

    def pump(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                p = self.c.recv_publish(timeout=max(0.05, end - time.monotonic()))
            except m.NoPacket:
                return
            self.values[p.topic[len(SYS):]] = p.payload

    def wait(self, name, pred, timeout=5.0):
        """Wait until pred(number(value of name)) holds; returns the number."""
        end = time.monotonic() + timeout
        while True:
            v = self.values.get(name)
            if v is not None and pred(number(v)):
                return number(v)
            assert time.monotonic() < end, f"$SYS/broker/{name} = {v!r}, condition never met"
            try:
                p = self.c.recv_publish(timeout=max(0.05, end - time.monotonic()))
                self.values[p.topic[len(SYS):]] = p.payload
            except m.NoPacket:
                pass

    def get(self, name, timeout=5.0):
        return self.wait(name, lambda x: True, timeout)


def test_sys_version_is_retained(sysb):
    c = client(sysb.port, "10-v", v=V5)
    c.subscribe(SYS + "version")
    p = c.recv_publish(timeout=3)
    assert p.retain, p
    want = "mosquitto" if is_mosquitto() else "wardmq"
    assert want in p.payload.decode().lower(), p


def test_sys_uptime_increases(sysb):
    w = SysWatch(sysb.port)
    first = w.get("uptime")
    w.wait("uptime", lambda x: x > first, timeout=4)


def test_sys_published_every_interval(sysb):
    c = client(sysb.port, "10-iv", v=V5)
    c.subscribe(SYS + "uptime")
    c.recv_publish(timeout=3)                            # retained copy
    t0 = time.monotonic()
    c.recv_publish(timeout=3)
    c.recv_publish(timeout=3)
    assert time.monotonic() - t0 < 4.5


def test_sys_clients_connected(sysb):
    w = SysWatch(sysb.port)
    extra = [client(sysb.port, f"10-cc{i}", v=V311) for i in range(3)]
    w.wait("clients/connected", lambda x: x >= 4)
    for c in extra:
        c.disconnect()
    w.wait("clients/connected", lambda x: x <= 2)


def test_sys_clients_total_counts_offline_sessions(sysb):
    w = SysWatch(sysb.port)
    c = client(sysb.port, "10-tot", v=V311, clean=False)
    c.disconnect()
    w.wait("clients/connected", lambda x: x == 1)
    w.wait("clients/total", lambda x: x >= 2)


def test_sys_messages_received_and_sent(sysb):
    w = SysWatch(sysb.port)
    w.pump(1.2)
    r0 = w.get("messages/received")
    s0 = w.get("messages/sent")
    sub = client(sysb.port, "10-ms", v=V5)
    sub.subscribe("10/m")
    pub = client(sysb.port, "10-mp", v=V5)
    for _ in range(5):
        pub.publish("10/m", b"x", qos=1)
    for _ in range(5):
        sub.recv_publish()
    w.wait("messages/received", lambda x: x >= r0 + 5)
    w.wait("messages/sent", lambda x: x >= s0 + 5)


def test_sys_subscriptions_count(sysb):
    w = SysWatch(sysb.port)
    w.pump(1.2)
    n0 = w.get("subscriptions/count")
    c = client(sysb.port, "10-sc", v=V5)
    c.subscribe("10/a", "10/b", "10/c/#")
    peak = w.wait("subscriptions/count", lambda x: x >= n0 + 3)
    c.unsubscribe("10/a", "10/b", "10/c/#")
    w.wait("subscriptions/count", lambda x: x <= peak - 3)


def test_sys_retained_messages_count(sysb):
    # The count includes the $SYS topics themselves, whose number may still
    # grow by one or two meanwhile: hence the slack on the way down.
    w = SysWatch(sysb.port)
    w.pump(1.2)
    n0 = w.get("retained messages/count")
    pub = client(sysb.port, "10-rc", v=V5)
    topics = [f"10/r{i}" for i in range(5)]
    for t in topics:
        pub.publish(t, b"x", qos=1, retain=True)
    w.wait("retained messages/count", lambda x: x >= n0 + 5)
    w.pump(1.2)
    peak = w.get("retained messages/count")
    for t in topics:
        pub.publish(t, b"", qos=1, retain=True)
    w.wait("retained messages/count", lambda x: x <= peak - 3)


def test_sys_bytes_counters(sysb):
    w = SysWatch(sysb.port)
    w.pump(1.2)
    r0, s0 = w.get("bytes/received"), w.get("bytes/sent")
    c = client(sysb.port, "10-by", v=V5)
    c.subscribe("10/by")
    c.publish("10/by", b"z" * 5000, qos=1)
    c.recv_publish()
    w.wait("bytes/received", lambda x: x >= r0 + 5000)
    w.wait("bytes/sent", lambda x: x >= s0 + 5000)


@pytest.mark.wardmq_only("mosquitto 2.0 names it publish/messages/dropped")
def test_sys_messages_dropped_present(sysb):
    w = SysWatch(sysb.port)
    assert w.get("messages/dropped") >= 0


def test_sys_not_matched_by_hash(sysb):
    c = client(sysb.port, "10-hash", v=V5)
    c.subscribe("#", "+/broker/uptime")
    c.expect_nothing(1.6)                                # [MQTT-4.7.2-1]


@pytest.mark.wardmq_only("sys_interval 0 turns $SYS off entirely")
def test_sys_interval_zero_disables(broker_factory):
    b = broker_factory("sys_interval 0")
    c = client(b.port, "10-off", v=V5)
    c.subscribe(SYS + "#")
    c.expect_nothing(1.5)
