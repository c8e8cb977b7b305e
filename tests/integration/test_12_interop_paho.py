# SPDX-License-Identifier: MIT
"""12 - interoperability with python3-paho-mqtt 1.6 (a client we did not
write), MQTT 3.1.1 and 5: pub/sub at every QoS, retained, will, session
resume, MQTT 5 properties."""
import queue
import threading

import pytest

paho = pytest.importorskip("paho.mqtt.client")
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

import mqttraw as m  # noqa: E402
from mqttraw import V311, V5, client  # noqa: E402

WAIT = 5.0


class Paho:
    """A paho client running its network loop in a thread, with bounded waits."""

    def __init__(self, port, cid, v5=False, clean=True, session_expiry=None, will=None,
                 keepalive=30):
        self.port, self.v5, self.clean = port, v5, clean
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        if v5:
            self.c = paho.Client(client_id=cid, protocol=paho.MQTTv5, reconnect_on_failure=False)
        else:
            self.c = paho.Client(client_id=cid, clean_session=clean, protocol=paho.MQTTv311,
                                 reconnect_on_failure=False)
        if will:
            self.c.will_set(**will)
        self.msgs = queue.Queue()
        self.connack = None
        self.connected = threading.Event()
        self.acks = {}
        self.lock = threading.Lock()
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, msg: self.msgs.put(msg)
        self.c.on_subscribe = self._on_ack
        self.c.on_unsubscribe = self._on_ack

    def _on_connect(self, c, u, flags, rc, properties=None):
        self.connack = (flags, rc, properties)
        self.connected.set()

    def _on_ack(self, c, u, mid, *rest):
        with self.lock:
            self.acks.setdefault(mid, threading.Event()).set()

    def _wait_ack(self, mid):
        with self.lock:
            ev = self.acks.setdefault(mid, threading.Event())
        assert ev.wait(WAIT), f"no ack for mid {mid}"

    def connect(self):
        if self.v5:
            props = Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            self.c.connect("127.0.0.1", self.port, self.keepalive, clean_start=self.clean,
                           properties=props)
        else:
            self.c.connect("127.0.0.1", self.port, self.keepalive)
        self.c.loop_start()
        assert self.connected.wait(WAIT), "paho: no CONNACK"
        flags, rc, _ = self.connack
        assert rc == 0, f"paho CONNACK rc {rc}"
        return flags

    def subscribe(self, topic, qos=0, **kw):
        rc, mid = self.c.subscribe(topic, qos, **kw)
        assert rc == paho.MQTT_ERR_SUCCESS
        self._wait_ack(mid)

    def unsubscribe(self, topic):
        rc, mid = self.c.unsubscribe(topic)
        assert rc == paho.MQTT_ERR_SUCCESS
        self._wait_ack(mid)

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        info = self.c.publish(topic, payload, qos, retain, properties)
        info.wait_for_publish(WAIT)
        assert info.is_published(), "paho: publish not completed"

    def get(self, timeout=WAIT):
        try:
            return self.msgs.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("paho: no message") from None

    def none(self, timeout=0.5):
        try:
            msg = self.msgs.get(timeout=timeout)
        except queue.Empty:
            return
        raise AssertionError(f"paho: unexpected message on {msg.topic}")

    def disconnect(self):
        self.c.disconnect()
        self.c.loop_stop()

    def kill(self):
        """Drop the TCP connection without DISCONNECT."""
        self.c.loop_stop()
        self.c.socket().close()


@pytest.fixture
def mk(port):
    made = []

    def make(cid, **kw):
        p = Paho(port, cid, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        try:
            p.c.disconnect()
        except Exception:
            pass
        p.c.loop_stop()


@pytest.mark.parametrize("v5", [False, True], ids=["v311", "v5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_paho_pubsub(mk, v5, qos):
    sub = mk("12-sub", v5=v5)
    sub.connect()
    sub.subscribe("12/t/#", qos)
    pub = mk("12-pub", v5=v5)
    pub.connect()
    for i in range(5):
        pub.publish(f"12/t/{i}", b"m%d" % i, qos)
    got = [sub.get() for _ in range(5)]
    assert [(g.topic, g.payload, g.qos) for g in got] == \
        [(f"12/t/{i}", b"m%d" % i, qos) for i in range(5)]


@pytest.mark.parametrize("v5", [False, True], ids=["v311", "v5"])
def test_paho_retained(mk, v5):
    pub = mk("12-rp", v5=v5)
    pub.connect()
    pub.publish("12/ret", b"kept", 1, retain=True)
    sub = mk("12-rs", v5=v5)
    sub.connect()
    sub.subscribe("12/ret", 1)
    msg = sub.get()
    assert msg.payload == b"kept" and msg.retain


@pytest.mark.parametrize("v5", [False, True], ids=["v311", "v5"])
def test_paho_will(mk, v5, port):
    watch = client(port, "12-ww", v=V5)
    watch.subscribe("12/will", qos=1)
    kw = dict(topic="12/will", payload=b"paho-gone", qos=1, retain=False)
    if v5:
        wp = Properties(PacketTypes.WILLMESSAGE)
        wp.ContentType = "text/plain"
        kw["properties"] = wp
    dying = mk("12-w", v5=v5, will=kw)
    dying.connect()
    dying.kill()
    p = watch.recv_publish()
    assert p.payload == b"paho-gone" and p.qos == 1
    if v5:
        assert p.prop(m.CONTENT_TYPE) == "text/plain"


def test_paho_v311_session_resume(mk, port):
    s = mk("12-sess", clean=False)
    assert s.connect()["session present"] == 0
    s.subscribe("12/sess", 1)
    s.disconnect()
    pub = client(port, "12-sessp", v=V311)
    pub.publish("12/sess", b"while-away", qos=1)
    s2 = mk("12-sess", clean=False)
    assert s2.connect()["session present"] == 1
    assert s2.get().payload == b"while-away"


def test_paho_v5_session_resume(mk, port):
    s = mk("12-sess5", v5=True, clean=False, session_expiry=60)
    s.connect()
    s.subscribe("12/sess5", 2)
    s.disconnect()
    pub = client(port, "12-sess5p", v=V5)
    pub.publish("12/sess5", b"while-away", qos=2)
    s2 = mk("12-sess5", v5=True, clean=False, session_expiry=60)
    assert s2.connect()["session present"] == 1
    msg = s2.get()
    assert msg.payload == b"while-away" and msg.qos == 2


def test_paho_v5_properties_roundtrip(mk):
    sub = mk("12-ps", v5=True)
    sub.connect()
    sub.subscribe("12/props", 1)
    pub = mk("12-pp", v5=True)
    pub.connect()
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("a", "1"), ("b", "2"), ("a", "3")]
    props.ResponseTopic = "12/reply"
    props.CorrelationData = b"\x01\x02"
    props.ContentType = "application/octet-stream"
    props.MessageExpiryInterval = 120
    pub.publish("12/props", b"p", 1, properties=props)
    msg = sub.get()
    assert msg.properties.UserProperty == [("a", "1"), ("b", "2"), ("a", "3")]
    assert msg.properties.ResponseTopic == "12/reply"
    assert msg.properties.CorrelationData == b"\x01\x02"
    assert msg.properties.ContentType == "application/octet-stream"
    assert 0 < msg.properties.MessageExpiryInterval <= 120


def test_paho_v5_subscription_identifier(mk):
    sub = mk("12-sid", v5=True)
    sub.connect()
    sp = Properties(PacketTypes.SUBSCRIBE)
    sp.SubscriptionIdentifier = 42
    sub.subscribe("12/sid/#", 0, properties=sp)
    pub = mk("12-sidp", v5=True)
    pub.connect()
    pub.publish("12/sid/x", b"x", 0)
    assert sub.get().properties.SubscriptionIdentifier == [42]


def test_paho_unsubscribe(mk):
    sub = mk("12-un")
    sub.connect()
    sub.subscribe("12/un", 1)
    sub.unsubscribe("12/un")
    pub = mk("12-unp")
    pub.connect()
    pub.publish("12/un", b"x", 1)
    sub.none()


def test_paho_many_qos1_in_order(mk):
    sub = mk("12-many", v5=True)
    sub.connect()
    sub.subscribe("12/many", 1)
    pub = mk("12-manyp", v5=True)
    pub.connect()
    infos = [pub.c.publish("12/many", b"%d" % i, 1) for i in range(300)]
    for info in infos:
        info.wait_for_publish(WAIT)
    got = [int(sub.get().payload) for _ in range(300)]
    assert got == list(range(300))


def test_paho_and_raw_client_cross_version(mk, port):
    raw = client(port, "12-raw", v=V311)
    raw.subscribe("12/x", qos=1)
    pub = mk("12-x5", v5=True)
    pub.connect()
    pub.publish("12/x", b"from-paho-v5", 1)
    assert raw.recv_publish().payload == b"from-paho-v5"
