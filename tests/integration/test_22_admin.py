# SPDX-License-Identifier: MIT
"""22 - online administration through the broker's admin socket
(`admin_socket PATH`, `wardmq_ctl --socket PATH`): changes take effect at
once, without a restart or SIGHUP. A rule added online denies the very next
publish (0x87); `user passwd` online makes the next CONNECT with the old
password fail (paho v5, 0x86) and the new one work; `user add` online lets
the user in at once. Imports run as a transaction on the connection: a
dropped connection rolls back. The socket is 0600, malformed frames get a
clear error, read-only requests reload nothing, and a broker without a store
refuses admin_socket at start."""
import json
import os
import socket
import stat
import struct
import subprocess
import time

import pytest

import idtools
from conftest import wardmq_bin
from idtools import paho
from mqttraw import client

pytestmark = pytest.mark.wardmq_only("WardMQ admin socket and wardmq_ctl")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")

OP_USER_IMPORT, OP_USER_SHOW, OP_TXN_BEGIN = 1, 6, 36


def ctl(target, *args, pw=None, check=True, online=True):
    """wardmq_ctl on the admin socket TARGET (on the database TARGET when
    not ONLINE), with an empty stdin unless PW is given."""
    return idtools.ctl(target, *args, pw=pw, check=check, opt="--socket" if online else "--db", stdin="")


@pytest.fixture
def setup(broker_factory, tmp_path):
    """A broker with a store, anonymous off, alice/alice-pw, a rule allowing
    everything, and its admin socket. Returns (broker, socket path, db)."""
    db = str(tmp_path / "id.db")
    ctl(db, "user", "add", "alice", pw="alice-pw", online=False)
    ctl(db, "rule", "add", "all", "allow", "all", "#", online=False)
    sock = str(tmp_path / "admin.sock")
    b = broker_factory(f"admin_socket {sock}", f"audit_file {tmp_path / 'audit.log'}",
                       args=("--db", db), anonymous=False, verbose=True)
    return b, sock, db


def paho_connect(port, user, pw):
    """CONNECT with paho (MQTT v5): the CONNACK reason code."""
    return idtools.paho_connect(port, user, pw, client_id=f"paho-{user}-{time.monotonic_ns()}")


def frame(op, *fields):
    body = bytes([1, op]) + b"".join(fields)
    return struct.pack(">I", len(body)) + body


def sfield(tag, s):
    b = s.encode()
    return bytes([tag]) + struct.pack(">I", len(b)) + b


def read_reply(s):
    """(status, message) of one reply frame, or None when closed."""
    def read_n(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    hdr = read_n(4)
    if hdr is None:
        return None
    body = read_n(struct.unpack(">I", hdr)[0])
    assert body is not None and body[0] == 1
    mlen = struct.unpack(">I", body[2:6])[0]
    return body[1], body[6:6 + mlen].decode()


def raw_conn(sock):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    return s


def test_rule_added_online_denies_the_next_publish(setup):
    b, sock, _ = setup
    c = client(b.port, "p", username="alice", password=b"alice-pw")
    assert c.publish("t/1", b"x", qos=1).rc in (0, 0x10, None)
    n = len(b.log_text())
    r = ctl(sock, "rule", "add", "user:alice", "deny", "publish", "t/#", "--priority", "10")
    assert "rule #" in r.stdout
    # no SIGHUP, no reconnect: the same connection's next publish
    assert c.publish("t/1", b"x", qos=1).rc == 0x87
    assert "policy reloaded" in b.log_text()[n:]
    # and back
    rid = r.stdout.split("#")[1].split()[0]
    ctl(sock, "rule", "del", rid)
    assert c.publish("t/1", b"x", qos=1).rc in (0, 0x10, None)
    assert c.is_open()


@pytest.mark.skipif(paho is None, reason="python3-paho-mqtt not installed")
def test_passwd_and_user_add_online_take_effect_at_once(setup):
    b, sock, _ = setup
    assert paho_connect(b.port, "alice", "alice-pw") == 0
    ctl(sock, "user", "passwd", "alice", pw="new-pw")
    assert paho_connect(b.port, "alice", "alice-pw") == 0x86     # old password: refused now
    assert paho_connect(b.port, "alice", "new-pw") == 0
    assert paho_connect(b.port, "carol", "carol-pw") == 0x86
    ctl(sock, "user", "add", "carol", pw="carol-pw")
    assert paho_connect(b.port, "carol", "carol-pw") == 0         # no SIGHUP
    ctl(sock, "user", "disable", "carol")
    assert paho_connect(b.port, "carol", "carol-pw") != 0
    # user check sends the password over the socket, never into the log
    r = ctl(sock, "user", "check", "alice", pw="new-pw")
    assert "right" in r.stdout
    r = ctl(sock, "user", "check", "alice", pw="not-it", check=False)
    assert r.returncode == 1
    assert "not-it" not in b.log_text() and "new-pw" not in b.log_text()


def test_results_and_exit_codes_match_offline(setup):
    b, sock, db = setup
    ctl(sock, "group", "add", "ops")
    ctl(sock, "group", "member", "add", "ops", "alice")
    on = ctl(sock, "--json", "user", "show", "alice").stdout
    off = ctl(db, "--json", "user", "show", "alice", online=False).stdout
    assert on == off and '"groups":["ops"]' in on
    on = ctl(sock, "rule", "list").stdout
    assert on == ctl(db, "rule", "list", online=False).stdout and "PRIORITY" in on
    for args, code in ((("user", "add", "alice", "--no-password"), 4), (("user", "show", "zed"), 3),
                       (("acl", "explain", "alice", "c", "publish", "a/b"), 0)):
        assert ctl(sock, *args, check=False).returncode == code
        assert ctl(db, *args, check=False, online=False).returncode == code
    # read-only requests reload nothing
    n = len(b.log_text())
    ctl(sock, "user", "list")
    ctl(sock, "rule", "list")
    time.sleep(0.3)
    assert "policy reloaded" not in b.log_text()[n:]
    # the change is audited as made through the socket
    audit = open(os.path.join(os.path.dirname(sock), "audit.log")).read()
    assert '"event":"group.member.add"' in audit and '"via":"socket"' in audit
    assert ctl(sock, "audit", "verify", os.path.join(os.path.dirname(sock), "audit.log")).returncode == 0


def test_import_online_and_rollback_on_a_dropped_connection(setup):
    b, sock, _ = setup
    # a transaction left open by a client that goes away is rolled back
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(frame(OP_TXN_BEGIN))
    assert read_reply(s)[0] == 0
    s.sendall(frame(OP_USER_IMPORT, sfield(1, "ghost")))
    assert read_reply(s)[0] == 0
    s.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:       # the broker notices the close
        r = ctl(sock, "user", "show", "ghost", check=False)
        if r.returncode == 3:
            break
        time.sleep(0.1)
    assert r.returncode == 3, r.stdout + r.stderr
    # import-mosquitto works online, in force at once
    r = ctl(sock, "import-mosquitto", "--passwd", os.path.join(FIXTURES, "mosquitto_passwd.txt"),
            check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    client(b.port, "a1", username="carol", password=b"hunter2").disconnect()


def test_socket_mode_and_malformed_frames(setup):
    b, sock, _ = setup
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    for bad in (b"\x00\x00\x00\x02\x09\x00",            # unknown version
                b"\x00\x00\x00\x02\x01\xee",            # unknown op
                b"\x00\x00\x00\x03\x01\x05\x63",        # unknown field tag
                b"\xff\xff\xff\xff"):                   # frame too long
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(sock)
        s.sendall(bad)
        rep = read_reply(s)
        assert rep is not None and rep[0] == 2 and "malformed request" in rep[1], rep
        assert read_reply(s) is None                   # then closed
        s.close()
    # well-formed but incomplete or out-of-range requests: refused, the connection stays
    s = raw_conn(sock)
    for req, words in ((frame(0), "user.add needs a name"),                      # USER_ADD, no name
                       (frame(24, bytes([3]) + struct.pack(">i", 2), sfield(1, "10.0.0.300")),
                        "invalid address"),                                        # BAN_ADD address
                       (frame(18, sfield(1, "r"), sfield(2, "x"), bytes([3]) + struct.pack(">i", 7)),
                        "invalid grantee kind")):                                  # ROLE_GRANT
        s.sendall(req)
        rep = read_reply(s)
        assert rep is not None and rep[0] == 2 and words in rep[1], rep
    s.sendall(frame(OP_USER_SHOW, sfield(1, "alice")))
    assert read_reply(s)[0] == 0
    s.close()
    # and the broker still answers
    assert "alice" in ctl(sock, "user", "list").stdout


def test_admin_socket_needs_a_store(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(f"listener 0 127.0.0.1\nadmin_socket {tmp_path / 'a.sock'}\n")
    r = subprocess.run([wardmq_bin(), "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "admin_socket" in r.stderr and "store" in r.stderr
    assert not os.path.exists(tmp_path / "a.sock")


def test_admin_socket_path_taken_by_a_file(tmp_path):
    db = str(tmp_path / "id.db")
    (tmp_path / "a.sock").write_text("not a socket")
    conf = tmp_path / "c.conf"
    conf.write_text(f"listener 0 127.0.0.1\nadmin_socket {tmp_path / 'a.sock'}\n")
    r = subprocess.run([wardmq_bin(), "-c", str(conf), "--db", db], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "not a socket" in r.stderr
    assert (tmp_path / "a.sock").read_text() == "not a socket"


def test_stale_socket_replaced(broker_factory, tmp_path):
    db = str(tmp_path / "id.db")
    sock = str(tmp_path / "s.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(sock)
    stale.close()                                      # left behind, nobody listens
    b = broker_factory(f"admin_socket {sock}", args=("--db", db), anonymous=False)
    assert "stale socket replaced" in b.log_text()
    assert ctl(sock, "user", "list").returncode == 0


def test_a_transaction_makes_other_connections_wait(setup):
    _, sock, _ = setup
    a = raw_conn(sock)
    a.sendall(frame(OP_TXN_BEGIN))
    assert read_reply(a)[0] == 0
    b = raw_conn(sock)
    b.sendall(frame(OP_USER_SHOW, sfield(1, "alice")))
    b.settimeout(0.7)
    with pytest.raises(socket.timeout):
        b.recv(1)                                     # queued behind a's transaction
    a.close()                                         # dropped: rolled back, b goes on
    b.settimeout(10)
    rep = read_reply(b)
    assert rep is not None and rep[0] == 0
    b.close()


def test_connection_limit(setup):
    _, sock, _ = setup
    held = []
    for _ in range(4):
        c = raw_conn(sock)
        c.sendall(frame(OP_USER_SHOW, sfield(1, "alice")))
        assert read_reply(c)[0] == 0                  # accepted and served
        held.append(c)
    extra = raw_conn(sock)
    rep = read_reply(extra)
    assert rep is not None and rep[0] == 6 and "busy" in rep[1]
    extra.close()
    held.pop().close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:                # a slot frees up
        if ctl(sock, "user", "list", check=False).returncode == 0:
            break
        time.sleep(0.1)
    assert ctl(sock, "user", "list", check=False).returncode == 0
    for c in held:
        c.close()


def test_online_ban_and_revocation_reach_live_sessions(setup):
    """A ban, a deleted user and a revoked rule made through the socket
    reach connected clients before wardmq_ctl returns: no SIGHUP."""
    b, sock, _ = setup
    ctl(sock, "user", "add", "bob", pw="bob-pw")
    victim = client(b.port, "dev-9", username="bob", password=b"bob-pw")
    sub = client(b.port, "watch", username="alice", password=b"alice-pw")
    sub.subscribe(("feed/#", 1), expect=[1])
    # a ban by client id closes the live session (0x98) and refuses a new one (0x8A)
    ctl(sock, "ban", "add", "clientid", "dev-9")
    victim.expect_disconnect(0x98)
    client(b.port, "dev-9", rc=0x8A, username="bob", password=b"bob-pw").expect_closed()
    ctl(sock, "ban", "del", "clientid", "dev-9")
    other = client(b.port, "dev-9", username="bob", password=b"bob-pw")
    # deleting the user disconnects it
    ctl(sock, "user", "del", "bob")
    other.expect_disconnect(0x98)
    # replacing the allow-all rule by one without feed/# revokes the subscription
    rules = json.loads(ctl(sock, "--json", "rule", "list").stdout)["rules"]
    ctl(sock, "rule", "add", "all", "allow", "publish", "#")
    for r in rules:
        ctl(sock, "rule", "del", str(r["id"]))
    pub = client(b.port, "pub", username="alice", password=b"alice-pw")
    pub.publish("feed/1", b"x", qos=1)
    sub.expect_nothing(timeout=1.0)
    assert "subscription feed/# revoked" in b.log_text()
