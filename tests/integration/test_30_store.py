# SPDX-License-Identifier: MIT
"""30 - durable state: sessions, queued messages and retained messages survive
SIGTERM restarts and kill -9; expired state does not come back; a store that
cannot work gives a clear error and no false acknowledgement.

The broker runs with `--db FILE` (persistence on, durability strict unless a
test says otherwise). A PUBACK/PUBCOMP the publisher received is a promise:
after any restart the persistent subscriber must receive that message."""
import os
import random
import resource
import signal
import subprocess
import time

import pytest

import mqttraw as m
from conftest import free_port, wardmq_bin, SANITIZER_MARKERS
from mqttraw import V311, V5, client

pytestmark = pytest.mark.wardmq_only("WardMQ persistence (--db) semantics")

EXPIRY = m.props((m.SESSION_EXPIRY, 3600))


def persistent(port, cid, v=V5, **kw):
    if v == V5:
        return client(port, cid, v=V5, clean=False, properties=EXPIRY, **kw)
    return client(port, cid, v=V311, clean=False, **kw)


def drain(c, quiet=1.5, limit=100000):
    """Receive PUBLISHes (acknowledging them) until none arrives for |quiet| s."""
    got = []
    for _ in range(limit):
        try:
            got.append(c.recv_publish(timeout=quiet))
        except m.NoPacket:
            return got
    return got


def crashed(b):
    """Forget a broker we killed on purpose (teardown must not blame it)."""
    b.proc.wait(10)
    b.proc = None


@pytest.mark.parametrize("v", [V5, V311], ids=["v5", "v311"])
def test_restart_delivers_every_acknowledged_message(broker_factory, tmp_path, v):
    db = str(tmp_path / "w.db")
    b1 = broker_factory(args=("--db", db))
    sub = persistent(b1.port, "30-sub", v=v)
    sub.subscribe(("30/q1", 1), ("30/q2", 2))
    sub.disconnect()
    pub = client(b1.port, "30-pub", v=v)
    n = 40
    for i in range(n):
        assert pub.publish("30/q1", b"a%d" % i, qos=1).rc in (0, None)
        assert pub.publish("30/q2", b"b%d" % i, qos=2).rc in (0, None)
    pub.disconnect()
    assert b1.stop() == []
    b2 = broker_factory(args=("--db", db))
    b2.wait_log(r"loaded 2 sessions|loaded 1 sessions")
    sub = persistent(b2.port, "30-sub", v=v, session_present=True)
    got = drain(sub)
    q1 = [p.payload for p in got if p.topic == "30/q1"]
    q2 = [p.payload for p in got if p.topic == "30/q2"]
    assert sorted(q1) == sorted(b"a%d" % i for i in range(n))
    assert q2 == [b"b%d" % i for i in range(n)]          # QoS 2: once each, in order
    assert all(p.qos == 2 for p in got if p.topic == "30/q2")


def test_subscriptions_and_session_survive_restart(broker_factory, tmp_path):
    db = str(tmp_path / "w.db")
    b1 = broker_factory(args=("--db", db))
    sub = persistent(b1.port, "30-keep")
    sub.subscribe(("30/k/+", 1), properties=m.props((m.SUBSCRIPTION_ID, 7)))
    sub.disconnect()
    assert b1.stop() == []
    b2 = broker_factory(args=("--db", db))
    sub = persistent(b2.port, "30-keep", session_present=True)
    pub = client(b2.port, "30-kp")
    pub.publish("30/k/x", b"live", qos=1)
    p = sub.recv_publish()
    assert p.payload == b"live" and p.prop(m.SUBSCRIPTION_ID) == 7


def test_retained_set_and_delete_survive_restart(broker_factory, tmp_path):
    db = str(tmp_path / "w.db")
    b1 = broker_factory(args=("--db", db))
    pub = client(b1.port, "30-rp")
    pub.publish("30/r/keep", b"kept", qos=1, retain=True)
    pub.publish("30/r/gone", b"soon gone", qos=1, retain=True)
    pub.publish("30/r/gone", b"", qos=1, retain=True)          # delete
    pub.disconnect()
    assert b1.stop() == []
    b2 = broker_factory(args=("--db", db))
    sub = client(b2.port, "30-rs")
    sub.subscribe("30/r/#")
    got = drain(sub, quiet=1.0)
    assert [(p.topic, p.payload, p.retain) for p in got] == [("30/r/keep", b"kept", True)]


def test_expired_session_does_not_come_back(broker_factory, tmp_path):
    db = str(tmp_path / "w.db")
    b1 = broker_factory(args=("--db", db))
    short = client(b1.port, "30-short", clean=False, properties=m.props((m.SESSION_EXPIRY, 1)))
    short.subscribe("30/e")
    short.disconnect()
    long_ = persistent(b1.port, "30-long")
    long_.disconnect()
    assert b1.stop() == []
    time.sleep(2.2)
    b2 = broker_factory(args=("--db", db))
    b2.wait_log(r"dropped 1 expired sessions")
    client(b2.port, "30-short", clean=False, properties=EXPIRY, session_present=False)
    persistent(b2.port, "30-long", session_present=True)


def test_expired_message_does_not_come_back(broker_factory, tmp_path):
    db = str(tmp_path / "w.db")
    b1 = broker_factory(args=("--db", db))
    sub = persistent(b1.port, "30-mx")
    sub.subscribe(("30/mx", 1))
    sub.disconnect()
    pub = client(b1.port, "30-mxp")
    pub.publish("30/mx", b"short-lived", qos=1, properties=m.props((m.MESSAGE_EXPIRY, 1)))
    pub.publish("30/mx", b"long-lived", qos=1, properties=m.props((m.MESSAGE_EXPIRY, 600)))
    pub.publish("30/mx/r", b"short retained", qos=1, retain=True,
                properties=m.props((m.MESSAGE_EXPIRY, 1)))
    pub.disconnect()
    assert b1.stop() == []
    time.sleep(2.2)
    b2 = broker_factory(args=("--db", db))
    sub = persistent(b2.port, "30-mx", session_present=True)
    got = drain(sub, quiet=1.0)
    assert [p.payload for p in got] == [b"long-lived"]
    left = got[0].prop(m.MESSAGE_EXPIRY)
    assert left is not None and 590 <= left <= 600      # the time left, not the original
    sub.subscribe("30/mx/r")
    assert drain(sub, quiet=0.7) == []


def stream_and_kill(port, rng, qos, total=300):
    """Pipeline QoS 1/2 PUBLISHes, answer PUBREC with PUBREL, and stop the
    stream at a random moment. Returns (sent payloads, acknowledged payloads)
    where acknowledged = PUBACK (QoS 1) or PUBCOMP (QoS 2) received."""
    pub = client(port, "30-cpub")
    # MQTT 5.0 3.3.4: never more unacknowledged QoS 1/2 PUBLISHes than the
    # server's Receive Maximum (WardMQ disconnects with 0x93 otherwise).
    window = pub.connack.prop(m.RECEIVE_MAXIMUM) or 65535
    kill_at = rng.randint(5, total - 1)
    sent, acked, by_pid, open_pids = set(), set(), {}, set()
    for n in range(total):
        pid = n + 1
        payload = b"m%05d" % n
        pub.send(m.publish("30/c", payload, qos=qos, pid=pid))
        sent.add(payload)
        by_pid[pid] = payload
        open_pids.add(pid)
        if n == kill_at:
            return pub, sent, acked, by_pid
        # collect whatever acks are there; wait while the window is full
        while True:
            full = len(open_pids) >= window
            try:
                p = pub.recv_packet(timeout=5.0 if full else (0.0005 if n % 8 else 0.01))
            except m.NoPacket:
                assert not full, "no acknowledgement within 5 s with a full window"
                break
            if p.type == m.PUBACK or p.type == m.PUBCOMP:
                acked.add(by_pid[p.pid])
                open_pids.discard(p.pid)
            elif p.type == m.PUBREC:
                pub.send(m.pubrel(p.pid))
    return pub, sent, acked, by_pid


CRASH_ITERATIONS = int(os.environ.get("WMQ_CRASH_ITERATIONS", "20"))


@pytest.mark.timeout_s(max(240, CRASH_ITERATIONS * 12))
def test_kill9_during_stream_loses_no_acknowledged_message(broker_factory, tmp_path):
    rng = random.Random(int(os.environ.get("WMQ_CRASH_SEED", "30")))
    for it in range(CRASH_ITERATIONS):
        qos = 1 if it % 2 == 0 else 2
        db = str(tmp_path / f"crash{it}.db")
        b1 = broker_factory(args=("--db", db))
        sub = persistent(b1.port, "30-csub")
        sub.subscribe(("30/c", qos))
        sub.disconnect()
        pub, sent, acked, by_pid = stream_and_kill(b1.port, rng, qos)
        b1.proc.send_signal(signal.SIGKILL)
        # acks already on their way still count as promises
        for _ in range(10000):
            try:
                p = pub.recv_packet(timeout=0.3)
            except (m.NoPacket, m.Closed):
                break
            if p.type == m.PUBACK:
                acked.add(by_pid[p.pid])
            elif p.type == m.PUBCOMP:
                acked.add(by_pid[p.pid])
        pub.close()
        crashed(b1)
        b2 = broker_factory(args=("--db", db))
        sub = persistent(b2.port, "30-csub", session_present=True)
        got = drain(sub, quiet=1.0)
        payloads = [p.payload for p in got]
        missing = acked - set(payloads)
        assert not missing, f"iteration {it} (QoS {qos}): acknowledged but lost: {sorted(missing)[:5]}"
        assert set(payloads) <= sent
        if qos == 2:
            assert len(payloads) == len(set(payloads)), f"iteration {it}: QoS 2 duplicate"
        else:
            seen = set()
            for p in got:
                assert p.payload not in seen or p.dup, f"iteration {it}: duplicate without DUP"
                seen.add(p.payload)
        sub.disconnect()
        assert b2.stop() == []


def run_raw(args, preexec=None, timeout=20):
    """Run the broker binary directly; returns (returncode, stderr text)."""
    p = subprocess.run([wardmq_bin()] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, preexec_fn=preexec)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def test_corrupt_database_is_refused_with_a_clear_error(tmp_path):
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    rc, err = run_raw(["-p", str(free_port()), "--db", str(db)])
    assert rc != 0
    assert str(db) in err, err
    assert not any(s in err for s in SANITIZER_MARKERS), err
    db2 = tmp_path / "text.db"
    db2.write_bytes(b"this is not a database\n" * 100)
    rc, err = run_raw(["-p", str(free_port()), "--db", str(db2)])
    assert rc != 0 and str(db2) in err, err


def test_missing_directory_is_refused_with_a_clear_error(tmp_path):
    db = tmp_path / "no" / "such" / "dir" / "w.db"
    rc, err = run_raw(["-p", str(free_port()), "--db", str(db)])
    assert rc != 0 and str(db) in err, err


def test_read_only_database_is_refused_with_a_clear_error(broker_factory, tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    db = d / "w.db"
    b = broker_factory(args=("--db", str(db)))            # create it
    assert b.stop() == []
    os.chmod(d, 0o755)
    os.chmod(tmp_path, 0o755)
    os.chmod(db, 0o444)
    for extra in ("-wal", "-shm"):
        if os.path.exists(str(db) + extra):
            os.chmod(str(db) + extra, 0o444)
    drop = None
    if os.geteuid() == 0:
        def drop():                                        # root ignores file modes
            os.setgid(65534)
            os.setuid(65534)
    rc, err = run_raw(["-p", str(free_port()), "--db", str(db)], preexec=drop)
    assert rc != 0, err
    assert str(db) in err and ("read-only" in err or "readonly" in err or "permission" in err.lower()), err


@pytest.mark.timeout_s(120)
def test_disk_full_holds_acks_and_loses_nothing_acknowledged(broker_factory, tmp_path):
    db = str(tmp_path / "full.db")
    b0 = broker_factory(args=("--db", db))                 # schema created without a limit
    sub = persistent(b0.port, "30-fsub")
    sub.subscribe(("30/f", 1))
    sub.disconnect()
    assert b0.stop() == []
    port = free_port()
    limit = os.path.getsize(db) + 96 * 1024

    def fsize():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    proc = subprocess.Popen([wardmq_bin(), "-p", str(port), "--db", db], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=fsize)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                pub = client(port, "30-fpub")
                break
            except (OSError, AssertionError):
                assert time.monotonic() < deadline, "broker did not start"
                time.sleep(0.05)
        acked, refused = [], None
        for i in range(400):
            payload = b"%04d" % i + b"x" * 2000
            try:
                pub.publish("30/f", payload, qos=1)
                acked.append(payload)
            except m.NoPacket:
                refused = i                                # ack withheld: store full
                break
        assert refused is not None, "the store never filled up"
        assert len(acked) > 0
        probe = client(port, "30-probe")                   # still serving
        assert probe.ping() == []
        probe.disconnect()
        pub.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail("broker did not stop after SIGTERM with a full disk")
    err = err.decode("utf-8", "replace")
    assert proc.returncode == 0, err[-2000:]
    assert "store" in err and db in err, err[-2000:]
    assert not any(s in err for s in SANITIZER_MARKERS), err[-3000:]
    # Without the limit everything that was acknowledged is there.
    b2 = broker_factory(args=("--db", db))
    sub = persistent(b2.port, "30-fsub", session_present=True)
    got = {p.payload for p in drain(sub, quiet=1.0)}
    assert set(acked) <= got
