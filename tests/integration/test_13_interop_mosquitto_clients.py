# SPDX-License-Identifier: MIT
"""13 - interoperability with the mosquitto_pub / mosquitto_sub command-line
clients (3.1.1 and 5): every QoS, -C counts, -v, retained, -n, QoS 2 with a
file payload, persistent sessions, MQTT 5 properties, refused CONNECT."""
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest

import mqttraw as m
from mqttraw import V5, client

PUB = shutil.which("mosquitto_pub")
SUB = shutil.which("mosquitto_sub")
STDBUF = shutil.which("stdbuf")
pytestmark = pytest.mark.skipif(not (PUB and SUB and STDBUF),
                                reason="mosquitto clients or stdbuf not installed")

VERSIONS = pytest.mark.parametrize("ver", ["mqttv311", "mqttv5"], ids=["v311", "v5"])


def pub(port, *args, check=True, inp=None):
    r = subprocess.run([PUB, "-h", "127.0.0.1", "-p", str(port)] + list(args),
                       input=inp, capture_output=True, timeout=15)
    if check:
        assert r.returncode == 0, r.stderr.decode()
    return r


class Sub:
    """mosquitto_sub run with -d, so that we know when its SUBACK arrived;
    payload lines are the output lines that are not debug lines."""

    def __init__(self, port, *args, wait_suback=True):
        # stdbuf -oL: line-buffered stdout, so the debug lines arrive as they happen
        self.p = subprocess.Popen([STDBUF, "-oL", SUB, "-h", "127.0.0.1", "-p", str(port), "-d"]
                                  + list(args),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.all = []
        threading.Thread(target=self._read, daemon=True).start()
        if wait_suback:
            self._until(lambda ln: "received SUBACK" in ln, 5)

    def _read(self):
        for raw in self.p.stdout:
            self.lines.put(raw.decode(errors="replace").rstrip("\n"))
        self.lines.put(None)

    def _until(self, pred, timeout):
        end = time.monotonic() + timeout
        while True:
            try:
                ln = self.lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                self.p.kill()
                raise AssertionError(f"mosquitto_sub: timed out; output so far {self.all}") from None
            if ln is None:
                raise AssertionError(f"mosquitto_sub exited early: {self.all} "
                                     f"{self.p.stderr.read().decode(errors='replace')}")
            self.all.append(ln)
            if pred(ln):
                return ln

    def finish(self, timeout=10):
        """Wait for exit (after -C N or -W); returns (status, payload lines)."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)
            raise AssertionError(f"mosquitto_sub did not exit; output {self.all}") from None
        while True:
            try:
                ln = self.lines.get(timeout=5)
            except queue.Empty:
                break
            if ln is None:
                break
            self.all.append(ln)
        data = [ln for ln in self.all
                if not ln.startswith("Client ") and not ln.startswith("Subscribed (mid")]
        return self.p.returncode, data


@pytest.fixture
def subs():
    made = []
    yield made
    for s in made:
        if s.p.poll() is None:
            s.p.kill()
            s.p.wait(5)


@VERSIONS
@pytest.mark.parametrize("qos", ["0", "1", "2"])
def test_pub_sub(port, subs, ver, qos):
    s = Sub(port, "-V", ver, "-q", qos, "-C", "1", "-t", "13/t")
    subs.append(s)
    pub(port, "-V", ver, "-q", qos, "-t", "13/t", "-m", "hello mosquitto")
    assert s.finish() == (0, ["hello mosquitto"])


@VERSIONS
def test_sub_count_and_pub_lines(port, subs, ver):
    s = Sub(port, "-V", ver, "-q", "1", "-C", "3", "-t", "13/l")
    subs.append(s)
    pub(port, "-V", ver, "-q", "1", "-t", "13/l", "-l", inp=b"one\ntwo\nthree\n")
    assert s.finish() == (0, ["one", "two", "three"])


def test_sub_verbose_wildcard(port, subs):
    s = Sub(port, "-v", "-C", "2", "-t", "13/v/#")
    subs.append(s)
    pub(port, "-t", "13/v/a", "-m", "A")
    pub(port, "-t", "13/v/b/c", "-m", "BC")
    assert s.finish() == (0, ["13/v/a A", "13/v/b/c BC"])


@VERSIONS
def test_retained(port, subs, ver):
    pub(port, "-V", ver, "-q", "1", "-r", "-t", "13/r", "-m", "kept")
    s = Sub(port, "-V", ver, "-C", "1", "-t", "13/r", wait_suback=False)
    subs.append(s)
    assert s.finish() == (0, ["kept"])


def test_retained_cleared_with_null_message(port, subs):
    pub(port, "-r", "-t", "13/n", "-m", "kept")
    pub(port, "-r", "-t", "13/n", "-n")
    s = Sub(port, "-W", "1", "-t", "13/n", wait_suback=False)
    subs.append(s)
    _, data = s.finish()
    assert [d for d in data if "kept" in d] == []


@VERSIONS
def test_qos2_file_payload(port, subs, tmp_path, ver):
    f = tmp_path / "payload.bin"
    f.write_bytes(os.urandom(100_000))
    s = Sub(port, "-V", ver, "-q", "2", "-C", "1", "-F", "%l", "-t", "13/f")
    subs.append(s)
    pub(port, "-V", ver, "-q", "2", "-t", "13/f", "-f", str(f))
    assert s.finish() == (0, ["100000"])


@VERSIONS
def test_persistent_session_with_mosquitto_sub(port, subs, ver):
    expiry = ["-x", "60"] if ver == "mqttv5" else []       # v5 sessions need an expiry
    args = ["-V", ver, "-c", "-i", "13-persist", "-q", "1", "-C", "1", "-t", "13/p"] + expiry
    s = Sub(port, *args)
    subs.append(s)
    pub(port, "-V", ver, "-q", "1", "-t", "13/p", "-m", "first")
    assert s.finish() == (0, ["first"])
    pub(port, "-V", ver, "-q", "1", "-t", "13/p", "-m", "while offline")
    s2 = Sub(port, *args, wait_suback=False)
    subs.append(s2)
    assert s2.finish() == (0, ["while offline"])


def test_v5_user_property_to_raw_client(port):
    raw = client(port, "13-raw", v=V5)
    raw.subscribe("13/up")
    pub(port, "-V", "mqttv5", "-t", "13/up", "-m", "x",
        "-D", "publish", "user-property", "color", "blue",
        "-D", "publish", "content-type", "text/plain")
    p = raw.recv_publish()
    assert p.props_all(m.USER_PROPERTY) == [("color", "blue")]
    assert p.prop(m.CONTENT_TYPE) == "text/plain"


def test_raw_v5_publish_to_mosquitto_sub_properties(port, subs):
    s = Sub(port, "-V", "mqttv5", "-C", "1", "-F", "%t|%p|%P", "-t", "13/rp")
    subs.append(s)
    raw = client(port, "13-rawp", v=V5)
    raw.publish("13/rp", b"body", properties=m.props((m.USER_PROPERTY, ("k", "v"))))
    rc, data = s.finish()
    assert rc == 0 and len(data) == 1, data
    topic, payload, props = data[0].split("|", 2)
    assert (topic, payload) == ("13/rp", "body")
    assert "k" in props and "v" in props


@VERSIONS
def test_refused_connect_reported(broker_factory, ver):
    b = broker_factory(anonymous=False)
    r = pub(b.port, "-V", ver, "-t", "13/no", "-m", "x", check=False)
    assert r.returncode != 0
    assert "not authori" in (r.stderr + r.stdout).decode().lower()
