# SPDX-License-Identifier: MIT
"""23 - live revocation: an administrative change to the identity store
(made with the real `wardmq_ctl --db FILE`, then SIGHUP) reaches sessions
that are already connected. A subscription the new rules deny is removed
(messages stop mid-stream and do not come back when the rule returns until
the client subscribes again); a client whose user was deleted or disabled,
whose password changed or whose client id is now bound to someone else is
disconnected with 0x98 Administrative action (3.1.1: closed); a group
membership removed takes its rules away; queued messages and delayed wills
are checked again when sent. `authorization rules` refuses to start on an
empty policy, and a running broker whose rules were all deleted denies
everything instead of allowing it (CVE-2018-12550)."""
import json
import subprocess
import threading
import time

import pytest

import mqttraw as m
from mqttraw import V311, V5, client
from idtools import ctl, paho, users_db
from test_20_auth import start
from conftest import wardmq_bin

pytestmark = pytest.mark.wardmq_only("WardMQ identity store, wardmq_ctl and live revocation")

ADMIN = 0x98


@pytest.fixture
def db(tmp_path):
    path = users_db(str(tmp_path / "id.db"))
    ctl(path, "rule", "add", "user:alice", "allow", "publish", "#")
    return path


def rule_add(db, *args):
    """Add a rule; returns its id."""
    out = ctl(db, "rule", "add", *args).stdout
    # "rule #N added: ..."
    return out.split("#", 1)[1].split()[0]


def hup(b):
    n = len(b.log_text())
    b.sighup()
    b.wait_log("policy reloaded", start=n)
    # --db FILE still holds after the reload: no "need a restart" warning
    assert "need a restart" not in b.log_text()[n:]


def drain(c, timeout=0.5):
    got = []
    while True:
        try:
            got.append(c.recv_publish(timeout=timeout).payload)
        except m.NoPacket:
            return got


def test_subscription_revoked_mid_stream(broker_factory, db):
    rid = rule_add(db, "user:bob", "allow", "read", "feed/#")
    b = start(broker_factory, db)
    sub = client(b.port, "sub", username="bob", password=b"bob-pw")
    sub.subscribe(("feed/#", 1), expect=[1])
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")

    stop = threading.Event()
    sent = []

    def stream():
        i = 0
        while not stop.is_set() and i < 2000:
            pub.publish("feed/x", b"%d" % i, qos=1)
            sent.append(i)
            i += 1
            time.sleep(0.005)

    t = threading.Thread(target=stream)
    t.start()
    try:
        first = sub.recv_publish(timeout=5).payload
        assert first.isdigit()
        ctl(db, "rule", "del", rid)
        hup(b)
        # what was in flight before the revocation may still arrive; then nothing
        drain(sub, timeout=0.5)
        sub.expect_nothing(timeout=1.0)
    finally:
        stop.set()
        t.join(timeout=30)
    assert sent, "publisher sent nothing"
    # the subscription itself is gone: granting again does not revive it ...
    rule_add(db, "user:bob", "allow", "read", "feed/#")
    hup(b)
    pub.publish("feed/x", b"after", qos=1)
    sub.expect_nothing(timeout=1.0)
    # ... until the client subscribes again
    sub.subscribe(("feed/#", 1), expect=[1])
    pub.publish("feed/x", b"again", qos=1)
    assert sub.recv_publish().payload == b"again"
    assert "subscription feed/# revoked" in b.log_text()


def test_max_qos_lowered_on_live_subscription(broker_factory, db):
    rid = rule_add(db, "user:bob", "allow", "read", "q/#")
    b = start(broker_factory, db)
    sub = client(b.port, "sub", username="bob", password=b"bob-pw")
    sub.subscribe(("q/#", 2), expect=[2])
    ctl(db, "rule", "del", rid)
    rule_add(db, "user:bob", "allow", "read", "q/#", "--qos", "0")
    hup(b)
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")
    pub.publish("q/1", b"x", qos=2)
    p = sub.recv_publish()
    assert p.payload == b"x" and p.qos == 0


@pytest.mark.parametrize("v", [V5, V311])
@pytest.mark.parametrize("change", ["del", "disable", "passwd"])
def test_user_change_disconnects(broker_factory, db, v, change):
    b = start(broker_factory, db)
    c = client(b.port, "a", v=v, username="alice", password=b"alice-pw")
    other = client(b.port, "b", v=v, username="bob", password=b"bob-pw")
    if change == "del":
        ctl(db, "user", "del", "alice")
    elif change == "disable":
        ctl(db, "user", "disable", "alice")
    else:
        ctl(db, "user", "passwd", "alice", pw="new-pw")
    hup(b)
    if v == V5:
        c.expect_disconnect(ADMIN)
    else:
        c.expect_closed()
    assert other.is_open()  # nobody else is touched
    expected = {"del": "user removed or disabled", "disable": "user removed or disabled",
                "passwd": "password changed"}[change]
    b.wait_log("client a disconnected: " + expected)
    if change == "passwd":
        client(b.port, "a2", v=v, rc=0x86 if v == V5 else 4, username="alice",
               password=b"alice-pw").expect_closed()
        client(b.port, "a3", v=v, username="alice", password=b"new-pw").disconnect()


def test_unrelated_change_keeps_clients(broker_factory, db):
    b = start(broker_factory, db)
    c = client(b.port, "a", username="alice", password=b"alice-pw")
    ctl(db, "user", "passwd", "bob", pw="bob-new")
    ctl(db, "user", "add", "carol", pw="carol-pw")
    hup(b)
    time.sleep(0.3)
    assert c.is_open()
    assert c.publish("x/y", b"1", qos=1).rc in (0, 0x10)


def test_binding_to_another_user_disconnects(broker_factory, db):
    b = start(broker_factory, db)
    c = client(b.port, "dev-7", username="alice", password=b"alice-pw")
    ctl(db, "client", "bind", "dev-7", "bob")
    hup(b)
    c.expect_disconnect(ADMIN)
    b.wait_log("client id bound to another user")


def test_group_membership_removed(broker_factory, db):
    ctl(db, "group", "add", "ops")
    ctl(db, "group", "member", "add", "ops", "bob")
    rule_add(db, "group:ops", "allow", "read", "ops/#")
    b = start(broker_factory, db)
    sub = client(b.port, "sub", username="bob", password=b"bob-pw")
    sub.subscribe(("ops/#", 1), expect=[1])
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")
    pub.publish("ops/1", b"before", qos=1)
    assert sub.recv_publish().payload == b"before"
    ctl(db, "group", "member", "del", "ops", "bob")
    hup(b)
    b.wait_log("subscription ops/# revoked")
    pub.publish("ops/1", b"after", qos=1)
    sub.expect_nothing(timeout=1.0)
    assert sub.is_open()  # bob may still connect: only the group's rules went


def test_grant_moved_to_a_new_group_keeps_the_subscription(broker_factory, db):
    """One change moves bob's grant from his user to a group he joins: the
    subscription is checked with his new groups, so it stays."""
    rid = rule_add(db, "user:bob", "allow", "read", "ops/#")
    b = start(broker_factory, db)
    sub = client(b.port, "sub", username="bob", password=b"bob-pw")
    sub.subscribe(("ops/#", 1), expect=[1])
    ctl(db, "group", "add", "ops")
    ctl(db, "group", "member", "add", "ops", "bob")
    rule_add(db, "group:ops", "allow", "read", "ops/#")
    ctl(db, "rule", "del", rid)
    hup(b)
    time.sleep(0.5)  # the re-check on the auth pool
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")
    pub.publish("ops/1", b"still", qos=1)
    assert sub.recv_publish().payload == b"still"
    assert "revoked" not in b.log_text()


def test_queued_messages_checked_after_revocation(broker_factory, db):
    rid = rule_add(db, "user:bob", "allow", "read", "inbox/#")
    b = start(broker_factory, db)
    expiry = m.props((m.SESSION_EXPIRY, 3600))
    sub = client(b.port, "bob-p", username="bob", password=b"bob-pw", clean=False, properties=expiry)
    sub.subscribe(("inbox/#", 1), expect=[1])
    sub.disconnect()
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")
    for i in range(3):
        pub.publish("inbox/x", b"q%d" % i, qos=1)
    ctl(db, "rule", "del", rid)
    hup(b)
    sub = client(b.port, "bob-p", username="bob", password=b"bob-pw", clean=False, properties=expiry,
                 session_present=True)
    sub.expect_nothing(timeout=1.0)
    # the resumed session lost the subscription too
    rule_add(db, "user:bob", "allow", "read", "inbox/#")
    hup(b)
    pub.publish("inbox/x", b"new", qos=1)
    sub.expect_nothing(timeout=1.0)


def test_retained_after_revocation(broker_factory, db):
    ctl(db, "rule", "add", "user:alice", "allow", "retain", "#")
    rid = rule_add(db, "user:bob", "allow", "receive", "r/#")
    rule_add(db, "user:bob", "allow", "subscribe", "r/#")
    b = start(broker_factory, db)
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")
    pub.publish("r/1", b"kept", qos=1, retain=True)
    s1 = client(b.port, "s1", username="bob", password=b"bob-pw")
    s1.subscribe(("r/#", 1), expect=[1])
    assert s1.recv_publish().payload == b"kept"
    ctl(db, "rule", "del", rid)
    hup(b)
    s2 = client(b.port, "s2", username="bob", password=b"bob-pw")
    s2.subscribe(("r/#", 1), expect=[1])  # subscribe still allowed, receive no longer
    s2.expect_nothing(timeout=1.0)


def test_delayed_will_checked_when_sent(broker_factory, db):
    rule_add(db, "user:bob", "allow", "read,publish", "w/#")
    b = start(broker_factory, db)
    sub = client(b.port, "sub", username="bob", password=b"bob-pw")
    sub.subscribe(("w/#", 0), expect=[0])
    will = dict(topic="w/alice", payload=b"bye", properties=m.props((m.WILL_DELAY, 1)))
    expiry = m.props((m.SESSION_EXPIRY, 60))
    w = client(b.port, "wd", username="alice", password=b"alice-pw", will=will, properties=expiry)
    w.close()  # the will waits 1 s
    rule_add(db, "user:alice", "deny", "publish", "w/#")
    hup(b)
    sub.expect_nothing(timeout=2.5)
    b.wait_log("delayed will of wd not published")
    # control: without the deny rule the delayed will arrives
    w2 = client(b.port, "wd2", username="bob", password=b"bob-pw",
                will=dict(topic="w/bob", payload=b"bye2", properties=m.props((m.WILL_DELAY, 1))),
                properties=expiry)
    w2.close()
    assert sub.recv_publish(timeout=4).payload == b"bye2"


def test_rules_mode_refuses_empty_policy(tmp_path):
    db = str(tmp_path / "empty.db")
    ctl(db, "user", "add", "alice", pw="alice-pw")
    conf = tmp_path / "w.conf"
    conf.write_text("listener 0 127.0.0.1\nauthorization rules\n")
    r = subprocess.run([wardmq_bin(), "-c", str(conf), "--db", db], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "holds no ACL rule" in r.stderr, r.stderr


def test_deleting_every_rule_denies_everything(broker_factory, db):
    rule_add(db, "user:bob", "allow", "read", "#")
    b = start(broker_factory, db)
    c = client(b.port, "a", username="alice", password=b"alice-pw")
    assert c.publish("t/1", b"x", qos=1).rc in (0, 0x10)
    data = json.loads(ctl(db, "--json", "rule", "list").stdout)
    assert data["rules"]
    for r in data["rules"]:
        ctl(db, "rule", "del", str(r["id"]))
    hup(b)
    b.wait_log("no rules left: everything is denied")
    assert c.publish("t/1", b"x", qos=1).rc == 0x87
    client(b.port, "s", username="bob", password=b"bob-pw").subscribe(("#", 0), expect=[0x87])


@pytest.mark.skipif(paho is None, reason="python3-paho-mqtt not installed")
@pytest.mark.parametrize("v5", [False, True])
def test_paho_live_subscriber_revoked(broker_factory, db, v5):
    """A python3-paho-mqtt subscriber receiving a stream: its rule is deleted
    (messages stop), then its user (v5: DISCONNECT 0x98; 3.1.1: closed)."""
    import queue
    rid = rule_add(db, "user:bob", "allow", "read", "s/#")
    b = start(broker_factory, db)
    msgs, events = queue.Queue(), queue.Queue()
    proto = paho.MQTTv5 if v5 else paho.MQTTv311
    c = paho.Client(client_id="paho-bob", protocol=proto, reconnect_on_failure=False)
    c.username_pw_set("bob", "bob-pw")
    c.on_connect = lambda cl, u, f, rc, p=None: (events.put(("connect", rc)), cl.subscribe("s/#", 1))
    c.on_subscribe = lambda *a: events.put(("suback", a[-1]))
    c.on_message = lambda cl, u, msg: msgs.put(msg.payload)
    c.on_disconnect = lambda cl, u, rc, p=None: events.put(("disconnect", rc))
    c.connect("127.0.0.1", b.port, 30)
    c.loop_start()
    try:
        kinds = [events.get(timeout=10)[0] for _ in range(2)]
        assert kinds == ["connect", "suback"]
        pub = client(b.port, "pub", username="alice", password=b"alice-pw")
        pub.publish("s/1", b"one", qos=1)
        assert msgs.get(timeout=5) == b"one"
        ctl(db, "rule", "del", rid)
        hup(b)
        pub.publish("s/1", b"two", qos=1)
        with pytest.raises(queue.Empty):
            msgs.get(timeout=1.0)
        ctl(db, "user", "del", "bob")
        hup(b)
        kind, rc = events.get(timeout=10)
        assert kind == "disconnect"
        if v5:
            assert int(rc.value if hasattr(rc, "value") else rc) == ADMIN
        else:
            assert rc != 0  # unexpected disconnection
    finally:
        c.loop_stop()
