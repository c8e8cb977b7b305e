# SPDX-License-Identifier: MIT
"""17 - TLS-PSK listeners: keys added with the real `wardmq_ctl psk add` to
the identity store, served by a broker started with `--db FILE`, used by
mosquitto_pub/mosquitto_sub `--psk HEX --psk-identity ID` (TLS 1.3 external
PSK and TLS 1.2 PSK suites) and wardmq_pub --psk. Checks: success, unknown
identity and wrong key refused, the PSK identity (or the user attached with
--user) as the username under a rule-based policy, keys reloaded on SIGHUP,
no key in the log, and a psk_hint listener without a store refused at start."""
import os
import subprocess
import time

import pytest

from conftest import free_port, wardmq_bin

pytestmark = pytest.mark.wardmq_only("WardMQ TLS-PSK listeners and wardmq_ctl")

KEY1 = "00112233445566778899aabbccddeeff"
KEY2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa9988"
KEY3 = "0102030405060708090a0b0c0d0e0f10"


def tool(name):
    return os.path.join(os.path.dirname(wardmq_bin()), name)


def ctl(db, *args, secret=None):
    r = subprocess.run([tool("wardmq_ctl"), "--db", db, *args],
                       input=(secret + "\n") if secret is not None else None,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"wardmq_ctl {args}: {r.returncode} {r.stdout} {r.stderr}"
    return r


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "id.db")
    ctl(path, "user", "add", "alice", "--no-password")
    ctl(path, "psk", "add", "dev1", secret=KEY1)
    ctl(path, "psk", "add", "dev2", "--user", "alice", secret=KEY2)
    ctl(path, "psk", "add", "watch", secret=KEY3)
    return path


def start(broker_factory, db, *listener, anonymous=True):
    return broker_factory(args=("--db", db), anonymous=anonymous, verbose=True,
                          listener=["psk_hint wardmq-test", *listener])


def psk_args(identity, key):
    return ["--psk", key, "--psk-identity", identity]


def mpub(port, identity, key, topic, msg, *extra):
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                           "-m", msg, "-q", "1", *psk_args(identity, key), *extra],
                          capture_output=True, text=True, timeout=20)


def msub(port, identity, key, topic, count, *extra):
    p = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic,
                          "-C", str(count), "-W", "10", "-v", *psk_args(identity, key), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    return p


def test_psk_roundtrip_with_mosquitto_clients(broker_factory, db):
    b = start(broker_factory, db)
    sub = msub(b.port, "dev1", KEY1, "17/#", 2, "-V", "5")
    r = mpub(b.port, "dev1", KEY1, "17/a", "tls13")
    assert r.returncode == 0, r.stderr
    # TLS 1.2 PSK suite as well
    r = mpub(b.port, "dev2", KEY2, "17/b", "tls12", "--tls-version", "tlsv1.2", "--ciphers",
             "PSK-AES128-GCM-SHA256")
    assert r.returncode == 0, r.stderr
    out, err = sub.communicate(timeout=15)
    assert out.splitlines() == ["17/a tls13", "17/b tls12"], err
    log = b.log_text()
    # keys never reach the log
    for k in (KEY1, KEY2, KEY3):
        assert k not in log


def test_unknown_identity_and_wrong_key_are_refused(broker_factory, db):
    b = start(broker_factory, db)
    r = mpub(b.port, "nobody", KEY1, "17/x", "x")
    assert r.returncode != 0
    b.wait_log(r"failed \(psk-unknown\)")
    r = mpub(b.port, "dev1", KEY2[:32], "17/x", "x")
    assert r.returncode != 0
    # a wrong key fails the handshake's Finished check: nothing was accepted
    assert "u'dev1'" not in b.log_text()
    # the right key still works afterwards
    assert mpub(b.port, "dev1", KEY1, "17/x", "x").returncode == 0


def test_identity_as_username_follows_the_policy(broker_factory, db):
    ctl(db, "rule", "add", "user:dev1", "allow", "publish", "dev1/#")
    ctl(db, "rule", "add", "user:alice", "allow", "publish", "alice/#")
    ctl(db, "rule", "add", "user:watch", "allow", "subscribe,receive", "#")
    b = start(broker_factory, db, "use_identity_as_username true", anonymous=False)
    sub = msub(b.port, "watch", KEY3, "#", 2, "-V", "5")
    # dev1 may publish under dev1/ only; dev2 logs in as alice (psk add --user)
    assert mpub(b.port, "dev1", KEY1, "alice/no", "denied", "-V", "5").returncode in (0, 135)
    assert mpub(b.port, "dev1", KEY1, "dev1/ok", "allowed").returncode == 0
    assert mpub(b.port, "dev2", KEY2, "dev1/no", "denied", "-V", "5").returncode in (0, 135)
    assert mpub(b.port, "dev2", KEY2, "alice/ok", "allowed").returncode == 0
    out, err = sub.communicate(timeout=15)
    assert out.splitlines() == ["dev1/ok allowed", "alice/ok allowed"], (out, err)
    b.wait_log(r"u'dev1'")
    b.wait_log(r"u'alice'")
    # the CONNECT username is ignored on such a listener
    assert mpub(b.port, "dev1", KEY1, "dev1/u", "x", "-u", "alice").returncode == 0
    b.wait_log(r"u'dev1'\)")


def test_wardmq_pub_and_sub_with_psk(broker_factory, db):
    b = start(broker_factory, db)
    sub = subprocess.Popen([tool("wardmq_sub"), "-h", "127.0.0.1", "-p", str(b.port), "-t", "17/w",
                            "-C", "1", "-W", "10", *psk_args("watch", KEY3)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    r = subprocess.run([tool("wardmq_pub"), "-h", "127.0.0.1", "-p", str(b.port), "-t", "17/w",
                        "-m", "from wardmq_pub", "-q", "2", *psk_args("dev1", KEY1)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stderr
    out, err = sub.communicate(timeout=15)
    assert out == "from wardmq_pub\n", err
    r = subprocess.run([tool("wardmq_pub"), "-h", "127.0.0.1", "-p", str(b.port), "-t", "17/w",
                        "-m", "x", *psk_args("dev1", KEY3)],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "TLS error" in r.stderr


def test_keys_reloaded_on_sighup(broker_factory, db):
    b = start(broker_factory, db)
    assert mpub(b.port, "late", KEY1, "17/l", "x").returncode != 0
    ctl(db, "psk", "add", "late", secret=KEY1)
    ctl(db, "psk", "del", "dev1")
    at = len(b.log_text())
    b.sighup()
    b.wait_log(r"PSK identities reloaded: 3", start=at)
    assert mpub(b.port, "late", KEY1, "17/l", "x").returncode == 0
    assert mpub(b.port, "dev1", KEY1, "17/l", "x").returncode != 0


def test_psk_hint_without_store_is_refused_at_start(tmp_path):
    conf = tmp_path / "w.conf"
    port = free_port()
    conf.write_text(f"persistence false\nlog_dest stderr\nlistener {port} 127.0.0.1\n"
                    "psk_hint wardmq-test\n")
    r = subprocess.run([wardmq_bin(), "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "psk_hint needs the identity store" in r.stderr


def test_psk_added_and_deleted_online(broker_factory, db, tmp_path):
    """Through the admin socket a new PSK identity works at once and a
    deleted one is refused at once (no SIGHUP)."""
    sock = str(tmp_path / "admin.sock")
    b = broker_factory(f"admin_socket {sock}", args=("--db", db), anonymous=True, verbose=True,
                       listener=["psk_hint wardmq-test"])
    key = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert mpub(b.port, "late", key, "17/x", "m").returncode != 0
    r = subprocess.run([tool("wardmq_ctl"), "--socket", sock, "psk", "add", "late"], input=key + "\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    r = mpub(b.port, "late", key, "17/x", "m")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([tool("wardmq_ctl"), "--socket", sock, "psk", "del", "late"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert mpub(b.port, "late", key, "17/x", "m").returncode != 0
    assert key not in b.log_text()
