# SPDX-License-Identifier: MIT
"""11 - configuration and command line: --test-config with FILE:LINE errors,
--config-doc, -h, -p, -v, anonymous default with a file, SIGHUP reload (bad
file keeps the old configuration, a changed reloadable limit applies),
SIGTERM exit status, log lines carrying the peer address."""
import os
import re
import signal
import subprocess
import time

import pytest

import mqttraw as m
from conftest import is_mosquitto, wardmq_bin
from mqttraw import V311, V5, Conn, client

wardmq_only = pytest.mark.wardmq_only


def run(args, timeout=15):
    r = subprocess.run([wardmq_bin()] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def conf(tmp_path, text, name="t.conf"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


# ---------------------------------------------------------------- --test-config

@wardmq_only("--test-config")
def test_test_config_valid(tmp_path):
    path = conf(tmp_path, "# comment\n\nallow_anonymous true\nmax_keepalive 30\n"
                          "max_packet_size 65536\nlistener 18999 127.0.0.1\n")
    rc, out, err = run(["--test-config", "-c", path])
    assert rc == 0, err
    assert "Sanitizer" not in err


BAD_CONFIGS = {
    # name: (file text, line number of the error)
    "unknown_key": ("allow_anonymous true\n# c\nno_such_option 1\n", 3),
    "out_of_range": ("max_qos 7\n", 1),
    "not_a_number": ("allow_anonymous true\nmax_inflight_messages 5\n\nmax_keepalive abc\n", 4),
    "bad_bool": ("retain_available maybe\n", 1),
    "duplicate": ("max_qos 1\nmax_qos 2\n", 2),
    "bad_port": ("listener 70000 127.0.0.1\n", 1),
    "missing_value": ("allow_anonymous true\nmax_packet_size\n", 2),
    "negative": ("max_queued_messages -5\n", 1),
}


@wardmq_only("--test-config")
@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_test_config_reports_file_and_line(tmp_path, name):
    text, line = BAD_CONFIGS[name]
    path = conf(tmp_path, text)
    rc, out, err = run(["--test-config", "-c", path])
    assert rc == 1, (rc, err)
    assert f"{path}:{line}:" in err, err
    assert "Sanitizer" not in err


@wardmq_only("--test-config")
def test_test_config_missing_file(tmp_path):
    path = str(tmp_path / "nope.conf")
    rc, out, err = run(["--test-config", "-c", path])
    assert rc != 0
    assert "nope.conf" in err


@wardmq_only("--config-doc")
def test_config_doc(tmp_path):
    rc, out, err = run(["--config-doc"])
    assert rc == 0, err
    for opt in ("max_packet_size", "max_keepalive", "listener", "allow_anonymous",
                "max_inflight_messages", "sys_interval", "connect_timeout"):
        assert opt in out, opt


@wardmq_only("wardmq help text")
def test_help(tmp_path):
    rc, out, err = run(["-h"])
    text = out + err
    assert "-c" in text and "-p" in text and "--test-config" in text


@wardmq_only("wardmq command line")
def test_unknown_option_fails(tmp_path):
    rc, out, err = run(["--no-such-flag"])
    assert rc != 0
    assert "no-such-flag" in err


@wardmq_only("FILE:LINE error at start")
def test_start_with_bad_config_fails(tmp_path):
    path = conf(tmp_path, "listener 1 127.0.0.1\nmax_qos banana\n")
    rc, out, err = run(["-c", path])
    assert rc != 0
    assert f"{path}:2:" in err


# ---------------------------------------------------------------- -p, -v, anonymous

def test_dash_p_listens_on_loopback_with_anonymous(broker_factory):
    b = broker_factory(config=False)
    c = client(b.port, "11-p", v=V5)
    assert c.ping() == []


def test_verbose_log_has_peer_address(broker_factory):
    b = broker_factory(config=False, verbose=True)
    c = client(b.port, "11-v", v=V311)
    c.ping()
    b.wait_log(re.escape(f"127.0.0.1:{c.local_port}"))


@wardmq_only("every connection log line carries the peer address")
def test_connection_log_lines_carry_peer_address(broker_factory):
    b = broker_factory(verbose=True)
    c = client(b.port, "11-peer-id", v=V5)
    c.subscribe("11/x")
    c.publish("11/x", b"x", qos=1)
    c.recv_publish()
    c.disconnect()
    addr = f"127.0.0.1:{c.local_port}"
    b.wait_log(re.escape(addr))
    time.sleep(0.3)
    lines = [ln for ln in b.log_text().splitlines() if "11-peer-id" in ln]
    assert lines, "client id never logged"
    for ln in lines:
        assert addr in ln, ln


def test_config_file_means_no_anonymous_by_default(broker_factory):
    b = broker_factory(anonymous=False)
    c5 = Conn(b.port, v=V5)
    c5.send(m.connect("11-anon", v=V5))
    c5.expect_connack(0x87)
    c5.expect_closed()
    c3 = Conn(b.port, v=V311)
    c3.send(m.connect("11-anon3", v=V311))
    c3.expect_raw(bytes.fromhex("20 02 00 05"))
    c3.expect_closed()


# ---------------------------------------------------------------- SIGHUP

def _ska(port):
    c = client(port, "11-ska", v=V5, keepalive=600)
    v = c.connack.prop(m.SERVER_KEEP_ALIVE)
    c.disconnect()
    return v


@wardmq_only("mosquitto 2.0.11 does not reload max_keepalive")
def test_sighup_applies_changed_limit(broker_factory):
    b = broker_factory("max_keepalive 10")
    assert _ska(b.port) == 10
    old = client(b.port, "11-old", v=V5)
    b.lines = ["max_keepalive 20"]
    b.write_config()
    b.sighup()
    deadline = time.monotonic() + 5
    while _ska(b.port) != 20:
        assert time.monotonic() < deadline, "reloaded max_keepalive not applied"
        time.sleep(0.1)
    assert old.ping() == [], "existing connection lost on reload"


def test_sighup_with_invalid_file_keeps_old_config(broker_factory):
    b = broker_factory("max_keepalive 10")
    old = client(b.port, "11-old", v=V5)
    with open(b.conf_path, "a") as f:
        f.write("max_keepalive 20\nthis_is_not_an_option 1\n")
    mark = len(b.log_text())
    b.sighup()
    if not is_mosquitto():
        b.wait_log(re.escape(b.conf_path) + r":\d+:", start=mark)
    else:
        time.sleep(0.5)
    assert b.alive()
    assert _ska(b.port) == 10, "invalid configuration was (partly) applied"
    assert old.ping() == []


@wardmq_only("mosquitto 2.0.11 does not reload max_keepalive")
def test_sighup_twice_then_valid(broker_factory):
    b = broker_factory("max_keepalive 10")
    with open(b.conf_path, "a") as f:
        f.write("max_keepalive oops\n")
    b.sighup()
    time.sleep(0.3)
    b.lines = ["max_keepalive 30"]
    b.write_config()
    b.sighup()
    deadline = time.monotonic() + 5
    while _ska(b.port) != 30:
        assert time.monotonic() < deadline
        time.sleep(0.1)


# ---------------------------------------------------------------- SIGTERM

def test_sigterm_with_busy_broker_exits_cleanly(broker_factory):
    b = broker_factory()
    subs = []
    for i in range(5):
        s = client(b.port, f"11-s{i}", v=V5 if i % 2 else V311, clean=False,
                   **({"properties": m.props((m.SESSION_EXPIRY, 300))} if i % 2 else {}))
        s.subscribe("11/busy/#", qos=2)
        subs.append(s)
    pub = client(b.port, "11-busy", v=V5, will=dict(topic="11/will", payload=b"w"))
    for i in range(20):
        pub.publish(f"11/busy/{i}", b"x" * 100, qos=i % 3, retain=(i % 4 == 0))
    pub.send(m.publish("11/busy/half", b"x", qos=2, pid=999))   # left unreleased
    subs[0].close()                                             # an offline session with a queue
    pub.publish("11/busy/q", b"queued", qos=1)
    problems = b.stop()
    assert problems == []
    assert b.returncode == 0


def test_sigterm_exit_status_zero(broker_factory):
    b = broker_factory()
    t0 = time.monotonic()
    assert b.stop() == []                       # SIGTERM, exit 0, no sanitizer report
    assert b.returncode == 0
    assert time.monotonic() - t0 < 10


def _pids_with(text):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(d))
        except OSError:
            pass
    return pids


@pytest.mark.wardmq_only("wardmq -d")
def test_daemon_mode_keeps_its_threads(tmp_path):
    """-d: the command returns once the broker has started (exit 1 when it
    could not), and the daemon
    still has its store thread (a QoS 1 PUBACK waits for the commit under
    durability strict) and its auth pool (password check)."""
    from conftest import free_port
    db = str(tmp_path / "d.db")
    ctlbin = os.path.join(os.path.dirname(wardmq_bin()), "wardmq_ctl")
    r = subprocess.run([ctlbin, "--db", db, "user", "add", "alice"], input="alice-pw\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    port = free_port()
    conf = tmp_path / "daemon.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nlog_dest file {tmp_path / 'd.log'}\n")
    r = subprocess.run([wardmq_bin(), "-d", "-c", str(conf), "--db", db], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pids = _pids_with(str(conf))
    assert len(pids) == 1, pids
    try:
        c = client(port, "d1", username="alice", password=b"alice-pw")
        assert c.publish("t/kept", b"x", qos=1, retain=True).rc in (0, 0x10, None)
        c.disconnect()
        # the same port again: the second daemon fails, and says so on the terminal
        r2 = subprocess.run([wardmq_bin(), "-d", "-c", str(conf), "--db", str(tmp_path / "e.db")],
                            capture_output=True, text=True, timeout=60)
        assert r2.returncode == 1  # the parent waited for the child's verdict
        log = (tmp_path / "d.log").read_text()
        assert f"listener 127.0.0.1:{port}: Address already in use" in log, log
    finally:
        for p in pids:
            os.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while _pids_with(str(conf)) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not _pids_with(str(conf))
