# SPDX-License-Identifier: MIT
"""21 - brute-force defences in the broker (docs/SECURITY.md): the
per-address connection rate (CONNACK 0x9F in MQTT 5, close without CONNACK
in 3.1.1), the failed-login back-off per (address, username) (a CONNECT
during the back-off is held and then verified, or refused unverified with
0x86 / 4 when the wait is longer than auth_max_hold_ms), lock-outs (0x8A /
5 even with the right password, an audit line), and administrative bans
made with the real `wardmq_ctl --db FILE ban ...`, loaded on SIGHUP:
refused with 0x8A / 5 at CONNECT, live sessions they match closed (MQTT 5
DISCONNECT 0x98), and lock-outs listed and lifted through the admin
socket (`wardmq_ctl --socket S ban list` / `ban del lockout ADDR [USER]`).
Small parameters keep every test to a few seconds; every wait is
bounded."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

import mqttraw as m
from conftest import free_port
from idtools import ctl, ctl_path, paho, paho_connect, users_db
from mqttraw import V311, V5, client

pytestmark = pytest.mark.wardmq_only("WardMQ brute-force defence, identity store and wardmq_ctl")

BAD = {V5: 0x86, V311: 4}
BANNED = {V5: 0x8A, V311: 5}


@pytest.fixture
def db(tmp_path):
    return users_db(str(tmp_path / "id.db"))


def start(broker_factory, db, *lines):
    return broker_factory(*lines, args=("--db", db), anonymous=False, verbose=True)


class SysWatch:
    """Latest values of some $SYS topics (published every second)."""

    def __init__(self, port, *topics):
        self.c = client(port, "sys-watch", username="bob", password=b"bob-pw")
        self.c.subscribe(*[(t, 0) for t in topics])
        self.values = {}

    def settle(self):
        """Wait for the next publication round; returns {topic: int}."""
        time.sleep(1.3)
        while True:
            try:
                p = self.c.recv_publish(timeout=0.4)
            except m.NoPacket:
                return dict(self.values)
            self.values[p.topic] = int(p.payload)


def wait_rate_bucket_full(seconds):
    # The start-up probes of the fixture used tokens of 127.0.0.1.
    time.sleep(seconds)


# ---- connection rate ---------------------------------------------------------

@pytest.mark.parametrize("v", [V5, V311])
def test_connection_rate(broker_factory, v):
    b = broker_factory("max_connection_rate 2", "connection_burst 3", verbose=True)
    wait_rate_bucket_full(1.6)
    ok = [client(b.port, f"r{i}", v=v) for i in range(3)]
    c = m.Conn(b.port, v=v)
    c.send(m.connect("r-over", v=v))
    if v == V5:
        p = c.expect_connack(0x9F)                   # Connection rate exceeded
        assert p.prop(m.REASON_STRING) == "connection rate exceeded"
        c.expect_closed()
    else:
        c.expect_closed()                            # 3.1.1 has no code for it
    for x in ok:
        assert x.is_open(0.1)
    time.sleep(0.7)                                  # one token back at 2/s
    client(b.port, "r-after", v=v).disconnect()
    b.wait_log(r"over max_connection_rate")


@pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="mosquitto clients not installed")
def test_connection_rate_mosquitto_pub(broker_factory):
    b = broker_factory("max_connection_rate 1", "connection_burst 1")

    def pub():
        return subprocess.run(["mosquitto_pub", "-p", str(b.port), "-h", "127.0.0.1", "-V", "mqttv5",
                               "-t", "x", "-m", "y"], capture_output=True, text=True, timeout=20)

    wait_rate_bucket_full(1.2)
    assert pub().returncode == 0
    r = pub()
    assert r.returncode != 0, r.stdout + r.stderr
    time.sleep(1.2)
    assert pub().returncode == 0


def test_rate_option_reloads_on_sighup(broker_factory):
    b = broker_factory("max_connection_rate 1", "connection_burst 1", verbose=True)
    wait_rate_bucket_full(1.2)
    client(b.port, "s1").disconnect()
    client(b.port, "s2", rc=0x9F).expect_closed()
    b.write_config(["max_connection_rate 0"])
    n = len(b.log_text())
    b.sighup()
    b.wait_log("configuration reloaded", start=n)
    for i in range(6):
        client(b.port, f"s3-{i}").disconnect()


MAKE_CA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "make_test_ca.sh")


def test_tls_listener_closes_over_the_rate_before_the_handshake(broker_factory, tmp_path):
    pki = str(tmp_path / "pki")
    os.mkdir(pki)
    subprocess.run(["sh", MAKE_CA, pki], check=True, capture_output=True, timeout=120)
    b = broker_factory("max_connection_rate 1", "connection_burst 2", verbose=True,
                       listener=(f"certfile {pki}/server.crt", f"keyfile {pki}/server.key"))
    wait_rate_bucket_full(2.2)
    socks = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", b.port), timeout=3)
        socks.append(s)
    try:
        # the third is closed at once: nothing sent, no handshake started
        assert socks[2].recv(1) == b""
        for s in socks[:2]:
            s.settimeout(0.3)
            with pytest.raises(socket.timeout):
                s.recv(1)            # still open, waiting for a ClientHello
    finally:
        for s in socks:
            s.close()
    b.wait_log(r"over max_connection_rate")


# ---- back-off ------------------------------------------------------------------

BACKOFF_REFUSE = ("sys_interval 1", "auth_backoff_free 1", "auth_backoff_base_ms 3000",
                  "auth_backoff_max_ms 3000", "auth_max_hold_ms 0", "auth_lockout_after 0",
                  "auth_addr_backoff_base_ms 0")
VERIF = "$SYS/broker/auth/verifications"
REFUSED = "$SYS/broker/defence/backoff/refused"


@pytest.mark.parametrize("v", [V5, V311])
@pytest.mark.parametrize("user", ["alice", "ghost"])   # unknown user: the same back-off
def test_backoff_refuses_without_verification(broker_factory, db, v, user):
    b = start(broker_factory, db, *BACKOFF_REFUSE)
    w = SysWatch(b.port, VERIF, REFUSED)
    w.settle()
    s0 = w.settle()  # settled: the watcher's own login is counted
    # two failures: the first is free, the second starts a 3 s back-off
    for i in range(2):
        client(b.port, f"w{i}", v=v, rc=BAD[v], username=user, password=b"wrong").expect_closed()
    t_fail = time.monotonic()
    # during the back-off: refused at once, not verified (any password)
    for i in range(3):
        t = time.monotonic()
        client(b.port, f"b{i}", v=v, rc=BAD[v], username=user, password=b"alice-pw").expect_closed()
        assert time.monotonic() - t < 1.0
    s1 = w.settle()
    assert s1[VERIF] - s0[VERIF] == 2, (s0, s1)
    assert s1[REFUSED] - s0.get(REFUSED, 0) == 3, (s0, s1)
    assert time.monotonic() - t_fail < 3.0, "the test machine is too slow for this test"
    # after the back-off an attempt is verified again
    time.sleep(max(0.0, 3.3 - (time.monotonic() - t_fail)))
    if user == "alice":
        client(b.port, "good", v=v, username="alice", password=b"alice-pw").disconnect()
        # the success cleared the pair: a new failure is free again
        client(b.port, "w3", v=v, rc=BAD[v], username=user, password=b"wrong").expect_closed()
        client(b.port, "w4", v=v, rc=BAD[v], username=user, password=b"wrong").expect_closed()
        expect = 3
    else:
        client(b.port, "w3", v=v, rc=BAD[v], username=user, password=b"wrong").expect_closed()
        expect = 1
    s2 = w.settle()
    assert s2[VERIF] - s1[VERIF] == expect, (s1, s2)
    assert s2[REFUSED] == s1[REFUSED], (s1, s2)
    # other users from the same address are not held back by alice's pair
    client(b.port, "bob2", v=v, username="bob", password=b"bob-pw").disconnect()


def start_backing_off(broker_factory, db, backoff_ms, hold_ms):
    """A broker with a fixed per-user back-off of |backoff_ms|, CONNECTs held
    up to |hold_ms|, and alice already backing off after two wrong passwords
    from this address."""
    b = start(broker_factory, db, "auth_backoff_free 1", f"auth_backoff_base_ms {backoff_ms}",
              f"auth_backoff_max_ms {backoff_ms}", f"auth_max_hold_ms {hold_ms}",
              "auth_lockout_after 0", "auth_addr_backoff_base_ms 0")
    for i in range(2):
        client(b.port, f"w{i}", rc=0x86, username="alice", password=b"wrong").expect_closed()
    return b


def test_backoff_holds_then_verifies(broker_factory, db):
    b = start_backing_off(broker_factory, db, 1500, 4000)
    t = time.monotonic()
    held = m.Conn(b.port)
    held.send(m.connect("held", username="alice", password=b"alice-pw"))
    time.sleep(0.2)
    # one CONNECT per address is held at a time: a parallel one is refused
    other = m.Conn(b.port)
    other.send(m.connect("other", username="alice", password=b"alice-pw"))
    other.expect_connack(0x86)
    other.expect_closed()
    assert time.monotonic() - t < 1.0
    held.expect_connack(0, timeout=5)
    assert time.monotonic() - t >= 1.2        # answered only after the back-off
    b.wait_log(r"new client connected from .* as held")


def test_ban_during_verification_answers_connack(broker_factory, db):
    """A CONNECT held for a back-off (state: authenticating) that a new ban
    names gets CONNACK 0x8A, not a bare close."""
    b = start_backing_off(broker_factory, db, 3000, 5000)
    held = m.Conn(b.port)
    held.send(m.connect("held-dev", username="alice", password=b"alice-pw"))
    time.sleep(0.2)
    ctl(db, "ban", "add", "clientid", "held-dev")
    n = len(b.log_text())
    b.sighup()
    b.wait_log(r"\d+ bans in force", start=n)
    held.expect_connack(0x8A, timeout=2)
    held.expect_closed()


def test_held_connect_closed_by_the_client(broker_factory, db):
    """A client that goes away while its CONNECT is held is forgotten safely
    (the broker keeps running; ASan checks the teardown)."""
    b = start_backing_off(broker_factory, db, 2000, 5000)
    held = m.Conn(b.port)
    held.send(m.connect("gone", username="alice", password=b"alice-pw"))
    time.sleep(0.3)
    held.close()
    time.sleep(2.5)  # past the hold: nothing left to release
    client(b.port, "after", username="alice", password=b"alice-pw").disconnect()


# ---- lock-out ---------------------------------------------------------------------

@pytest.mark.parametrize("v", [V5, V311])
def test_lockout(broker_factory, db, tmp_path, v):
    audit = str(tmp_path / "audit.log")
    b = start(broker_factory, db, "auth_backoff_base_ms 0", "auth_addr_backoff_base_ms 0",
              "auth_lockout_after 3", "auth_lockout_seconds 2", f"audit_file {audit}")
    for i in range(3):
        client(b.port, f"w{i}", v=v, rc=BAD[v], username="alice", password=b"wrong").expect_closed()
    t = time.monotonic()
    b.wait_log(r"username 'alice' from 127\.0\.0\.1 locked out for 2 s after 3 failed logins")
    # locked out: even the right password is refused, without a verdict
    client(b.port, "l1", v=v, rc=BANNED[v], username="alice", password=b"alice-pw").expect_closed()
    client(b.port, "bob", v=v, username="bob", password=b"bob-pw").disconnect()   # others are fine
    time.sleep(max(0.0, 2.3 - (time.monotonic() - t)))
    client(b.port, "l2", v=v, username="alice", password=b"alice-pw").disconnect()
    b.stop()
    text = open(audit).read()
    assert "wrong" not in text and "alice-pw" not in text
    lines = text.splitlines()
    assert any('"kind":"ban"' in ln and '"event":"lockout"' in ln and "alice" in ln for ln in lines), text
    assert any('"kind":"authn"' in ln and '"reason":"banned"' in ln for ln in lines), text
    exe = ctl_path()
    r = subprocess.run([exe, "audit", "verify", audit], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_lockout_listed_and_lifted_online(broker_factory, db, tmp_path):
    """A lock-out is listed by `wardmq_ctl --socket S ban list` and lifted by
    `ban del lockout ADDR USER`: the right password works at once, long
    before the 60 s lock-out would end. Offline the same is refused."""
    audit = str(tmp_path / "audit.log")
    sock = str(tmp_path / "admin.sock")
    b = start(broker_factory, db, "auth_backoff_base_ms 0", "auth_addr_backoff_base_ms 0",
              "auth_lockout_after 3", "auth_lockout_seconds 60", f"admin_socket {sock}",
              f"audit_file {audit}")
    for i in range(3):
        client(b.port, f"w{i}", rc=BAD[V5], username="alice", password=b"wrong").expect_closed()
    b.wait_log(r"username 'alice' from 127\.0\.0\.1 locked out for 60 s after 3 failed logins")
    client(b.port, "l1", rc=BANNED[V5], username="alice", password=b"alice-pw").expect_closed()
    t = time.monotonic()
    ctl(db, "ban", "add", "username", "mallory", "--reason", "stored")
    # listed online, with the stored ban, in the table and in JSON
    r = ctl(sock, "ban", "list", opt="--socket", stdin="")
    assert "127.0.0.1 alice" in r.stdout and "lockout" in r.stdout and "mallory" in r.stdout, r.stdout
    assert "too many failed logins" in r.stdout, r.stdout
    r = ctl(sock, "--json", "ban", "list", opt="--socket", stdin="")
    rows = json.loads(r.stdout)["bans"]
    lo = [x for x in rows if x["source"] == "lockout"]
    assert [(x["kind"], x["value"], x["address"], x["username"]) for x in lo] == \
        [("lockout", "127.0.0.1 alice", "127.0.0.1", "alice")], rows
    assert lo[0]["expires"] is not None
    assert [x["value"] for x in rows if x["source"] == "store"] == ["mallory"], rows
    # offline: no lock-outs (they live in the broker), and no lifting
    r = ctl(db, "--json", "ban", "list", stdin="")
    assert "alice" not in r.stdout and "running broker" in r.stderr, r.stderr
    r = ctl(db, "ban", "del", "lockout", "127.0.0.1", "alice", check=False, stdin="")
    assert r.returncode == 2 and "lock-outs live in the running broker: use --socket" in r.stderr, r.stderr
    client(b.port, "l2", rc=BANNED[V5], username="alice", password=b"alice-pw").expect_closed()
    # no address lock-out to lift; a username that is not locked out
    r = ctl(sock, "ban", "del", "lockout", "127.0.0.1", check=False, opt="--socket", stdin="")
    assert r.returncode == 3 and "no lock-out of address 127.0.0.1" in r.stderr, r.stderr
    r = ctl(sock, "ban", "del", "lockout", "127.0.0.1", "bob", check=False, opt="--socket", stdin="")
    assert r.returncode == 3, r.stderr
    r = ctl(sock, "ban", "del", "lockout", "127.0.0.1", "alice", opt="--socket", stdin="")
    assert "lock-out of 127.0.0.1 alice lifted" in r.stdout + r.stderr, r.stdout + r.stderr
    client(b.port, "ok", username="alice", password=b"alice-pw").disconnect()
    assert time.monotonic() - t < 30
    r = ctl(sock, "--json", "ban", "list", opt="--socket", stdin="")
    assert [x["source"] for x in json.loads(r.stdout)["bans"]] == ["store"], r.stdout
    r = ctl(sock, "ban", "del", "lockout", "127.0.0.1", "alice", check=False, opt="--socket", stdin="")
    assert r.returncode == 3, r.stderr
    b.stop()
    lines = open(audit).read().splitlines()
    assert any('"event":"ban.del"' in ln and '"ban_kind":"lockout"' in ln and "127.0.0.1 alice" in ln
               for ln in lines), lines
    r = subprocess.run([ctl_path(), "audit", "verify", audit], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_address_lockout_lifted_online(broker_factory, db, tmp_path):
    """An address lock-out (many usernames from one address) is lifted by
    `ban del lockout ADDR`; lifting a username's lock-out alone leaves it
    (with a warning)."""
    sock = str(tmp_path / "admin.sock")
    b = start(broker_factory, db, "auth_backoff_base_ms 0", "auth_addr_backoff_base_ms 0",
              "auth_lockout_after 3", "auth_addr_lockout_after 5", "auth_lockout_seconds 60",
              "auth_addr_lockout_seconds 60", f"admin_socket {sock}")
    for u in ("alice", "alice", "alice", "u1", "u2"):
        client(b.port, "w", rc=BAD[V5], username=u, password=b"wrong").expect_closed()
    b.wait_log(r"127\.0\.0\.1 locked out for 60 s after 5 failed logins")
    r = ctl(sock, "--json", "ban", "list", opt="--socket", stdin="")
    vals = sorted(x["value"] for x in json.loads(r.stdout)["bans"] if x["source"] == "lockout")
    assert vals == ["127.0.0.1", "127.0.0.1 alice"], r.stdout
    r = ctl(sock, "ban", "del", "lockout", "127.0.0.1", "alice", opt="--socket", stdin="")
    assert "still locked out as a whole" in r.stderr, r.stderr
    client(b.port, "l1", rc=BANNED[V5], username="bob", password=b"bob-pw").expect_closed()
    ctl(sock, "ban", "del", "lockout", "127.0.0.1", opt="--socket", stdin="")
    client(b.port, "ok", username="bob", password=b"bob-pw").disconnect()
    client(b.port, "ok2", username="alice", password=b"alice-pw").disconnect()


# ---- bans ------------------------------------------------------------------------

def reload_bans(b):
    n = len(b.log_text())
    b.sighup()
    b.wait_log(r"\d+ bans in force", start=n)


def test_ban_client_id(broker_factory, db, tmp_path):
    audit = str(tmp_path / "audit.log")
    b = start(broker_factory, db, f"audit_file {audit}")
    live5 = client(b.port, "victim", username="alice", password=b"alice-pw")
    ok = client(b.port, "bystander", username="alice", password=b"alice-pw")
    ctl(db, "ban", "add", "clientid", "victim", "--reason", "test ban")
    reload_bans(b)
    live5.expect_disconnect(0x98)                      # Administrative action
    assert ok.is_open(0.2)
    client(b.port, "victim", rc=0x8A, username="alice", password=b"alice-pw").expect_closed()
    client(b.port, "victim", v=V311, rc=5, username="alice", password=b"alice-pw").expect_closed()
    client(b.port, "other", username="alice", password=b"alice-pw").disconnect()
    ctl(db, "ban", "del", "clientid", "victim")
    reload_bans(b)
    client(b.port, "victim", username="alice", password=b"alice-pw").disconnect()
    b.stop()
    text = open(audit).read()
    assert any('"event":"ban.disconnect"' in ln and "test ban" in ln for ln in text.splitlines()), text


@pytest.mark.parametrize("v", [V5, V311])
def test_ban_username(broker_factory, db, v):
    b = start(broker_factory, db)
    live = client(b.port, "a-live", v=v, username="alice", password=b"alice-pw")
    ctl(db, "ban", "add", "username", "alice")
    reload_bans(b)
    if v == V5:
        live.expect_disconnect(0x98)
    else:
        live.expect_closed()
    client(b.port, "a2", v=v, rc=BANNED[v], username="alice", password=b"alice-pw").expect_closed()
    client(b.port, "b2", v=v, username="bob", password=b"bob-pw").disconnect()


def test_ban_address_cidr(broker_factory, db):
    b = start(broker_factory, db)
    live = client(b.port, "live", username="bob", password=b"bob-pw")
    ctl(db, "ban", "add", "address", "127.1.2.3/8", "--reason", "loopback")
    assert "127.0.0.0/8" in ctl(db, "ban", "list").stdout
    reload_bans(b)
    live.expect_disconnect(0x98)
    client(b.port, "n5", rc=0x8A, username="bob", password=b"bob-pw").expect_closed()
    client(b.port, "n3", v=V311, rc=5, username="bob", password=b"bob-pw").expect_closed()
    b.wait_log(r"connection from 127\.0\.0\.1:\d+ refused: address")
    ctl(db, "ban", "del", "address", "127.0.0.0/8")
    reload_bans(b)
    client(b.port, "n6", username="bob", password=b"bob-pw").disconnect()


def test_ban_expires(broker_factory, db):
    b = start(broker_factory, db)
    ctl(db, "ban", "add", "username", "bob", "--for", "2s")
    t = time.monotonic()
    reload_bans(b)
    client(b.port, "b1", rc=0x8A, username="bob", password=b"bob-pw").expect_closed()
    time.sleep(max(0.0, 2.4 - (time.monotonic() - t)))
    client(b.port, "b2", username="bob", password=b"bob-pw").disconnect()   # no reload needed


def test_ban_loaded_at_start(broker_factory, db):
    ctl(db, "ban", "add", "clientid", "early")
    b = start(broker_factory, db)
    b.wait_log(r"1 bans in force")
    client(b.port, "early", rc=0x8A, username="bob", password=b"bob-pw").expect_closed()


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(paho is None, reason="python3-paho-mqtt not installed")
@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
@pytest.mark.parametrize("v5", [False, True])
def test_ban_ipv6_with_paho(broker_factory, db, v5):
    p6 = free_port()
    b = broker_factory(f"listener {p6} ::1", args=("--db", db), anonymous=False, verbose=True)

    def try_connect(host, port, cid):
        return paho_connect(port, "bob", "bob-pw", v5=v5, host=host, client_id=cid)

    assert try_connect("::1", p6, "p6-a") == 0
    ctl(db, "ban", "add", "address", "::1")
    reload_bans(b)
    assert try_connect("::1", p6, "p6-b") == (0x8A if v5 else 5)
    assert try_connect("127.0.0.1", b.port, "p4") == 0        # other addresses are fine


@pytest.mark.skipif(not shutil.which("mosquitto_pub"), reason="mosquitto clients not installed")
@pytest.mark.parametrize("ver", ["mqttv311", "mqttv5"])
def test_ban_mosquitto_pub(broker_factory, db, ver):
    b = start(broker_factory, db)

    def pub(user, pw):
        return subprocess.run(["mosquitto_pub", "-p", str(b.port), "-h", "127.0.0.1", "-V", ver,
                               "-u", user, "-P", pw, "-t", "x", "-m", "y"],
                              capture_output=True, text=True, timeout=20)

    assert pub("alice", "alice-pw").returncode == 0
    ctl(db, "ban", "add", "username", "alice")
    reload_bans(b)
    r = pub("alice", "alice-pw")
    assert r.returncode != 0, r.stdout + r.stderr
    assert pub("bob", "bob-pw").returncode == 0
