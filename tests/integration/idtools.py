# SPDX-License-Identifier: MIT
"""Helpers shared by the identity-store integration tests (test_20_auth,
test_21_defence, test_22_admin, test_23_revocation): running wardmq_ctl,
python3-paho-mqtt (None when not installed) and a paho CONNECT that returns
the CONNACK reason code. Not a test module."""

import os
import queue
import subprocess

from conftest import wardmq_bin

try:
    import paho.mqtt.client as paho
except ImportError:  # pragma: no cover
    paho = None


def ctl_path():
    """The wardmq_ctl next to the wardmq under test."""
    return os.path.join(os.path.dirname(wardmq_bin()), "wardmq_ctl")


def ctl(target, *args, pw=None, check=True, opt="--db", stdin=None):
    """wardmq_ctl OPT TARGET ARGS (OPT --db or --socket); PW (plus a newline)
    on stdin, else STDIN (None: inherited). With CHECK, exit status 0 is
    asserted. Returns the subprocess.CompletedProcess."""
    r = subprocess.run([ctl_path(), opt, target, *args], input=(pw + "\n") if pw is not None else stdin,
                       capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, f"wardmq_ctl {args}: {r.returncode} {r.stdout} {r.stderr}"
    return r


def paho_connect(port, user, pw, *, v5=True, host="127.0.0.1", client_id=""):
    """CONNECT with paho (MQTT v5, or 3.1.1 when not V5) as USER/PW: the
    CONNACK reason code (return code for 3.1.1) as an int."""
    got = queue.Queue()
    proto = paho.MQTTv5 if v5 else paho.MQTTv311
    c = paho.Client(client_id=client_id, protocol=proto, reconnect_on_failure=False)
    c.username_pw_set(user, pw)
    c.on_connect = lambda cl, u, f, rc, p=None: got.put(rc)
    c.connect(host, port, 30)
    c.loop_start()
    try:
        rc = got.get(timeout=10)
    finally:
        c.disconnect()
        c.loop_stop()
    return int(rc.value) if hasattr(rc, "value") else int(rc)


def users_db(path):
    """A new identity store at PATH with users alice/alice-pw and bob/bob-pw;
    returns PATH."""
    ctl(path, "user", "add", "alice", pw="alice-pw")
    ctl(path, "user", "add", "bob", pw="bob-pw")
    return path
