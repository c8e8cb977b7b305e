# SPDX-License-Identifier: MIT
"""20 - authentication and authorization from the identity store: users,
passwords, client-id bindings and rules made with the real `wardmq_ctl --db
FILE`, enforced by a broker started with `--db FILE` and anonymous access
off. Password checks run on the broker's auth pool (the CONNECT waits for
the verdict); unknown users cost one verification like a wrong password
and get the same answer (0x86 / return code 4). Rules are checked for
publish (PUBACK/PUBREC 0x87), subscribe (SUBACK 0x87 / 0x80, QoS capped),
receive (not delivered) and the will (CONNACK 0x87 / 5); `deny_action
disconnect` closes instead. Denials go to the hash-chained audit_file."""
import json
import os
import shutil
import subprocess
import time

import pytest

import mqttraw as m
from conftest import wardmq_bin
from idtools import ctl, ctl_path, paho, paho_connect, users_db
from mqttraw import V311, V5, client

pytestmark = pytest.mark.wardmq_only("WardMQ identity store, wardmq_ctl and policy")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
BAD = {V5: 0x86, V311: 4}
NOT_AUTH = {V5: 0x87, V311: 5}


@pytest.fixture
def db(tmp_path):
    return users_db(str(tmp_path / "id.db"))


def add_rules(db, *rules):
    for r in rules:
        ctl(db, "rule", "add", *r)


def start(broker_factory, db, *lines, listener=()):
    return broker_factory(*lines, args=("--db", db), anonymous=False, verbose=True, listener=listener)


# ---- authentication ---------------------------------------------------------

@pytest.mark.parametrize("v", [V5, V311])
def test_good_password_accepted_bad_refused_alike(broker_factory, db, v):
    b = start(broker_factory, db)
    client(b.port, "c1", v=v, username="alice", password=b"alice-pw").disconnect()
    client(b.port, "c2", v=v, rc=BAD[v], username="alice", password=b"wrong").expect_closed()
    client(b.port, "c3", v=v, rc=BAD[v], username="nobody", password=b"alice-pw").expect_closed()
    client(b.port, "c4", v=v, rc=BAD[v], username="alice").expect_closed()      # no password
    client(b.port, "c5", v=v, rc=NOT_AUTH[v]).expect_closed()                  # anonymous off
    log = b.log_text()
    # the same wording for an unknown user and a wrong password
    assert log.count("bad username or password") >= 3


def test_pipelined_packets_wait_for_the_verdict(broker_factory, db):
    """Packets sent right after CONNECT are handled after authentication."""
    b = start(broker_factory, db)
    sub = client(b.port, "sub", username="bob", password=b"bob-pw")
    sub.subscribe("p/#")
    c = m.Conn(b.port)
    c.send(m.connect("pub", username="alice", password=b"alice-pw") + m.publish("p/x", b"early", 0))
    c.expect_connack(0)
    assert sub.recv_publish().payload == b"early"


def test_unknown_user_costs_a_verification(broker_factory, db):
    b = start(broker_factory, db, "sys_interval 1")
    sub = client(b.port, "watch", username="bob", password=b"bob-pw")
    sub.subscribe("$SYS/broker/auth/verifications")

    def latest():
        time.sleep(1.6)
        val = None
        while True:
            try:
                val = int(sub.recv_publish(timeout=0.3).payload)
            except m.NoPacket:
                return val

    latest()
    v0 = latest()  # settled: the watcher's own login is counted
    for i in range(3):
        client(b.port, f"w{i}", rc=0x86, username="alice", password=b"wrong").expect_closed()
    v1 = latest()
    for i in range(3):
        client(b.port, f"u{i}", rc=0x86, username=f"ghost{i}", password=b"wrong").expect_closed()
    v2 = latest()
    assert v0 is not None and v1 is not None and v2 is not None
    assert v1 - v0 == 3, (v0, v1, v2)
    assert v2 - v1 == 3, (v0, v1, v2)


def test_client_id_binding(broker_factory, db):
    ctl(db, "client", "bind", "dev-1", "alice")
    b = start(broker_factory, db)
    client(b.port, "dev-1", username="alice", password=b"alice-pw").disconnect()
    client(b.port, "dev-1", rc=0x86, username="bob", password=b"bob-pw").expect_closed()
    client(b.port, "dev-1", v=V311, rc=4, username="bob", password=b"bob-pw").expect_closed()
    client(b.port, "dev-2", username="bob", password=b"bob-pw").disconnect()


def test_no_takeover_before_authentication(broker_factory, db):
    b = start(broker_factory, db)
    a = client(b.port, "same", username="alice", password=b"alice-pw")
    client(b.port, "same", rc=0x86, username="alice", password=b"nope").expect_closed()
    assert a.is_open()


def test_closed_while_verifying(broker_factory, db):
    """A connection that goes away during its verification is dropped safely."""
    b = start(broker_factory, db)
    for i in range(5):
        c = m.Conn(b.port)
        c.send(m.connect(f"gone{i}", username="alice", password=b"alice-pw"))
        c.close()
    client(b.port, "after", username="alice", password=b"alice-pw").disconnect()


# ---- authorization -----------------------------------------------------------

RULES = (
    ("user:alice", "allow", "publish,retain", "a/#"),
    ("user:alice", "allow", "read", "a/#"),
    ("user:alice", "allow", "read", "q/#", "--qos", "1"),
    ("user:bob", "allow", "read", "#"),
    ("user:bob", "deny", "receive", "secret/#"),
    ("user:alice", "allow", "publish", "secret/#"),
    ("user:alice", "allow", "publish", "public/#"),
)


@pytest.mark.parametrize("v", [V5, V311])
def test_publish_allowed_and_denied(broker_factory, db, v):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    sub = client(b.port, "s", username="bob", password=b"bob-pw")
    sub.subscribe("a/#", "b/#")
    pub = client(b.port, "p", v=v, username="alice", password=b"alice-pw")
    ack = pub.publish("a/ok", b"1", qos=1)
    assert v == V311 or ack.rc in (0, None)
    ack = pub.publish("b/no", b"2", qos=1)
    if v == V5:
        assert ack.rc == 0x87
    ack = pub.publish("b/no", b"3", qos=2)
    if v == V5:
        assert ack.rc == 0x87
    pub.publish("b/no", b"4", qos=0)
    assert sub.recv_publish().payload == b"1"
    sub.expect_nothing()
    assert pub.is_open()


@pytest.mark.parametrize("v", [V5, V311])
def test_subscribe_per_filter(broker_factory, db, v):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    c = client(b.port, "s", v=v, username="alice", password=b"alice-pw")
    deny = 0x87 if v == V5 else 0x80
    c.subscribe(("a/#", 1), ("b/#", 1), ("q/x", 2), expect=[1, deny, 1])


def test_receive_denied(broker_factory, db):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    sub = client(b.port, "s", username="bob", password=b"bob-pw")
    sub.subscribe("#")
    pub = client(b.port, "p", username="alice", password=b"alice-pw")
    pub.publish("secret/x", b"hidden", qos=1)
    pub.publish("public/x", b"shown", qos=1)
    assert sub.recv_publish().payload == b"shown"
    sub.expect_nothing()


@pytest.mark.parametrize("v", [V5, V311])
def test_will_denied_at_connect(broker_factory, db, v):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    client(b.port, "w", v=v, rc=NOT_AUTH[v], username="alice", password=b"alice-pw",
           will=dict(topic="b/will", payload=b"x")).expect_closed()
    client(b.port, "w2", v=v, username="alice", password=b"alice-pw",
           will=dict(topic="a/will", payload=b"x")).disconnect()


def test_deny_action_disconnect(broker_factory, db):
    add_rules(db, *RULES)
    b = start(broker_factory, db, listener=("deny_action disconnect",))
    c = client(b.port, "p", username="alice", password=b"alice-pw")
    c.send(m.publish("b/no", b"x", qos=1, pid=1))
    c.expect_disconnect(0x87)
    c = client(b.port, "p3", v=V311, username="alice", password=b"alice-pw")
    c.send(m.publish("b/no", b"x", qos=1, pid=1, v=V311))
    c.expect_closed()
    c = client(b.port, "s", username="alice", password=b"alice-pw")
    c.send(m.subscribe(1, ("b/#", 0)))
    c.expect_disconnect(0x87)


def test_import_mosquitto_enforced(broker_factory, tmp_path):
    db = str(tmp_path / "imp.db")
    r = ctl(db, "import-mosquitto", "--passwd", os.path.join(FIXTURES, "mosquitto_passwd.txt"),
            "--acl", os.path.join(FIXTURES, "mosquitto_acl.txt"), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    b = start(broker_factory, db)
    a = client(b.port, "a1", username="alice", password="correct horse".encode())
    client(b.port, "a2", rc=0x86, username="alice", password=b"wrong").expect_closed()
    client(b.port, "c1", v=V311, username="carol", password=b"hunter2").disconnect()
    assert a.publish("cmd/x", b"1", qos=1).rc in (0, 0x10)
    assert a.publish("cmd/reactor", b"1", qos=1).rc == 0x87
    a.subscribe(("alice/#", 1), ("cmd/#", 1), expect=[1, 0x87])
    # the imported PBKDF2 verifier was upgraded to Argon2id at login
    show = ctl(db, "user", "show", "alice").stdout
    assert "argon2id" in show.lower(), show


def test_audit_file(broker_factory, db, tmp_path):
    add_rules(db, *RULES)
    audit = str(tmp_path / "audit.log")
    b = start(broker_factory, db, f"audit_file {audit}")
    client(b.port, "x", rc=0x86, username="alice", password=b"wrong").expect_closed()
    c = client(b.port, "p", username="alice", password=b"alice-pw")
    assert c.publish("b/no", b"x", qos=1).rc == 0x87
    c.subscribe(("b/#", 0), expect=[0x87])
    c.disconnect()
    b.stop()
    text = open(audit).read()
    lines = text.splitlines()
    assert any('"kind":"authn"' in ln and "bad username or password" in ln for ln in lines), text
    assert any('"kind":"authz"' in ln and '"event":"publish"' in ln for ln in lines), text
    assert any('"kind":"authz"' in ln and '"event":"subscribe"' in ln for ln in lines), text
    assert "alice-pw" not in text and "wrong" not in text.replace("wrong_", "")
    r = subprocess.run([ctl_path(), "audit", "verify", audit], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- other clients ------------------------------------------------------------

@pytest.mark.skipif(paho is None, reason="python3-paho-mqtt not installed")
@pytest.mark.parametrize("v5", [False, True])
def test_paho(broker_factory, db, v5):
    b = start(broker_factory, db)

    def try_connect(user, pw):
        return paho_connect(b.port, user, pw, v5=v5, client_id=f"paho-{user}-{pw}")

    good = try_connect("alice", "alice-pw")
    assert good == 0
    bad = try_connect("alice", "nope")
    unknown = try_connect("nobody", "nope")
    assert bad == unknown == (0x86 if v5 else 4)


@pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="mosquitto clients not installed")
@pytest.mark.parametrize("ver", ["mqttv311", "mqttv5"])
def test_mosquitto_clients(broker_factory, db, ver):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(b.port), "-h", "127.0.0.1", "-V", ver,
                            "-u", "bob", "-P", "bob-pw", "-t", "a/#", "-C", "1", "-W", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    ok = subprocess.run(["mosquitto_pub", "-p", str(b.port), "-h", "127.0.0.1", "-V", ver,
                         "-u", "alice", "-P", "alice-pw", "-t", "a/m", "-m", "hello", "-q", "1"],
                        capture_output=True, text=True, timeout=20)
    assert ok.returncode == 0, ok.stderr
    out, _ = sub.communicate(timeout=15)
    assert out.strip() == "hello"
    bad = subprocess.run(["mosquitto_pub", "-p", str(b.port), "-h", "127.0.0.1", "-V", ver,
                          "-u", "alice", "-P", "wrong", "-t", "a/m", "-m", "x"],
                         capture_output=True, text=True, timeout=20)
    assert bad.returncode != 0
    assert "bad user name or password" in (bad.stderr + bad.stdout).lower()


def test_sighup_reloads_the_policy(broker_factory, db):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    c = client(b.port, "p", username="alice", password=b"alice-pw")
    assert c.publish("z/1", b"x", qos=1).rc == 0x87
    ctl(db, "rule", "add", "user:alice", "allow", "publish", "z/#")
    n = len(b.log_text())
    b.sighup()
    b.wait_log("policy reloaded", start=n)
    assert c.publish("z/1", b"x", qos=1).rc in (0, 0x10)


def test_receive_denied_for_messages_queued_offline(broker_factory, db):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    expiry = m.props((m.SESSION_EXPIRY, 3600))
    sub = client(b.port, "bob-p", username="bob", password=b"bob-pw", clean=False, properties=expiry)
    sub.subscribe(("#", 1))
    sub.disconnect()
    pub = client(b.port, "p", username="alice", password=b"alice-pw")
    pub.publish("secret/x", b"hidden", qos=1)
    pub.publish("public/x", b"shown", qos=1)
    sub = client(b.port, "bob-p", username="bob", password=b"bob-pw", clean=False, properties=expiry,
                 session_present=True)
    assert sub.recv_publish().payload == b"shown"
    sub.expect_nothing()


def test_will_checked_again_when_sent(broker_factory, db):
    add_rules(db, *RULES)
    b = start(broker_factory, db)
    sub = client(b.port, "s", username="bob", password=b"bob-pw")
    sub.subscribe("a/#")
    w = client(b.port, "w", username="alice", password=b"alice-pw",
               will=dict(topic="a/will", payload=b"gone"))
    ctl(db, "rule", "add", "user:alice", "deny", "publish", "a/will")
    n = len(b.log_text())
    b.sighup()
    b.wait_log("policy reloaded", start=n)
    w.close()  # no DISCONNECT: the will would be sent
    sub.expect_nothing(timeout=1.0)
    w2 = client(b.port, "w2", username="alice", password=b"alice-pw",
                will=dict(topic="a/other", payload=b"gone2"))
    w2.close()
    assert sub.recv_publish().payload == b"gone2"


def test_import_passwd_made_by_mosquitto_passwd_now(broker_factory, tmp_path):
    """A password file written by the real mosquitto_passwd during the test
    and an acl_file: imported users keep their passwords, the rules keep
    mosquitto's meaning, and SUBSCRIBE is checked as well."""
    if not shutil.which("mosquitto_passwd"):
        pytest.skip("mosquitto_passwd not installed")
    pw = str(tmp_path / "passwd")
    for i, (user, secret) in enumerate((("dave", "d@ve pw"), ("erin", "erin-pw"))):
        args = ["mosquitto_passwd", "-b", pw, user, secret]
        if i == 0:
            args.insert(1, "-c")
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    acl = tmp_path / "acl"
    acl.write_text("user dave\ntopic readwrite dave/#\ntopic read public/#\n"
                   "user erin\ntopic write public/#\n"
                   "pattern read devices/%u/in\n")
    db = str(tmp_path / "fresh.db")
    r = ctl(db, "import-mosquitto", "--passwd", pw, "--acl", str(acl), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    b = start(broker_factory, db)
    client(b.port, "x", rc=0x86, username="dave", password=b"wrong").expect_closed()
    d = client(b.port, "d", username="dave", password="d@ve pw".encode())
    e = client(b.port, "e", v=V311, username="erin", password=b"erin-pw")
    d.subscribe(("public/#", 1), ("devices/dave/in", 0), ("devices/erin/in", 0),
                expect=[1, 0, 0x87])
    e.publish("public/news", b"hello", qos=1)
    assert d.recv_publish().payload == b"hello"
    assert d.publish("public/x", b"no", qos=1).rc == 0x87     # dave may only read public/#
    assert d.publish("dave/state", b"ok", qos=1).rc in (0, 0x10)
    e.subscribe(("dave/#", 0), expect=[0x80])                  # 3.1.1 failure code


def test_auth_threads(broker_factory, db, tmp_path):
    b = start(broker_factory, db, "auth_threads 1")
    b.wait_log("auth pool: 1 threads")
    for i in range(3):
        client(b.port, f"t{i}", username="alice", password=b"alice-pw").disconnect()
    conf = tmp_path / "bad.conf"
    conf.write_text("listener 0 127.0.0.1\nauth_threads 33\n")
    r = subprocess.run([wardmq_bin(), "-c", str(conf), "--test-config"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert f"{conf}:2" in r.stderr and "auth_threads" in r.stderr, r.stderr


def test_audit_file_reopened_on_sighup(broker_factory, db, tmp_path):
    """logrotate: move the audit file, SIGHUP; new lines go to a new file
    whose chain continues from the old file's head."""
    audit = str(tmp_path / "audit.log")
    b = start(broker_factory, db, f"audit_file {audit}")
    client(b.port, "x1", rc=0x86, username="alice", password=b"wrong").expect_closed()
    b.wait_log("bad username or password")
    os.rename(audit, audit + ".1")
    n = len(b.log_text())
    b.sighup()
    b.wait_log("audit_file reopened", start=n)
    client(b.port, "x2", rc=0x86, username="bob", password=b"wrong").expect_closed()
    b.stop()
    old, new = open(audit + ".1").read(), open(audit).read()
    assert '"client_id":"x1"' in old and '"client_id":"x2"' in new
    r = subprocess.run([ctl_path(), "--json", "audit", "verify", audit + ".1"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    head = json.loads(r.stdout)["head"]
    r = subprocess.run([ctl_path(), "audit", "verify", audit, "--prev", head], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([ctl_path(), "audit", "verify", audit], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1  # without the old head the first line does not chain
