# SPDX-License-Identifier: MIT
"""conftest.py - fixtures that run a real broker for each test.

broker_factory(*config_lines, ...) starts a broker on a free loopback port
with a temporary configuration file, waits (bounded) until it accepts TCP
connections and captures its stderr to a file. At teardown every broker the
test started gets SIGTERM; it must exit within STOP_TIMEOUT with status 0 and
without "Sanitizer" / "runtime error" in its stderr (this is how ASan, UBSan
and LeakSanitizer findings fail a test). A broker that does not stop is
killed and the test fails.

Target: WMQ_TARGET=wardmq (default) runs $WARDMQ_BIN/wardmq;
WMQ_TARGET=mosquitto runs /usr/sbin/mosquitto with the options translated,
to check the tests' own logic against a reference broker. Tests marked
@pytest.mark.wardmq_only("why") are skipped against mosquitto.

WMQ_RUN_ALL=1 runs the wardmq_only tests against mosquitto too (to see
where exactly it differs).

Every test is bounded by a SIGALRM guard (TEST_TIMEOUT seconds, or
@pytest.mark.timeout_s(N)) because pytest-timeout is not available.
"""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

import mqttraw

TARGET = os.environ.get("WMQ_TARGET", "wardmq")
HERE = os.path.dirname(os.path.abspath(__file__))
MOSQUITTO = os.environ.get("MOSQUITTO_BIN", "/usr/sbin/mosquitto")
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
TEST_TIMEOUT = 60
SANITIZER_MARKERS = ("Sanitizer", "runtime error", "AddressSanitizer", "LeakSanitizer")

# Options WardMQ has and mosquitto 2.0 does not: dropped from mosquitto
# configurations (tests depending on them are wardmq_only).
WARDMQ_ONLY_OPTIONS = {
    "max_packet_size_pre_connect", "max_topic_length", "max_topic_levels",
    "max_subscriptions_per_client", "max_user_properties", "connect_timeout",
    "max_write_buffer", "durability", "durability_interval", "log_timestamp",
    "log_level", "persistence_file",
}


def is_mosquitto():
    return TARGET == "mosquitto"


def wardmq_bin():
    d = os.environ.get("WARDMQ_BIN")
    if not d:
        d = os.path.join(HERE, "..", "..", "build-asan", "bin")
    return os.path.join(d, "wardmq")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _translate_for_mosquitto(lines):
    out = []
    for line in lines:
        words = line.split()
        if not words or words[0].startswith("#"):
            out.append(line)
            continue
        key = words[0]
        if key == "log_level":
            if len(words) > 1 and words[1] == "debug":
                out.append("log_type all")
            continue
        if key in WARDMQ_ONLY_OPTIONS:
            continue
        out.append(line)
    return out


class Broker:
    """One broker process. port, log_path, conf_path; stop() returns problems."""

    def __init__(self, workdir, index, lines, args, use_config, verbose, anonymous,
                 listener_lines=()):
        self.workdir = workdir
        self.index = index
        self.lines = list(lines)
        self.listener_lines = list(listener_lines)
        self.args = list(args)
        self.use_config = use_config
        self.verbose = verbose
        self.anonymous = anonymous
        self.port = None
        self.proc = None
        self.returncode = None
        self.conf_path = os.path.join(workdir, f"broker{index}.conf")
        self.log_path = os.path.join(workdir, f"broker{index}.stderr")
        self.out_path = os.path.join(workdir, f"broker{index}.stdout")

    def config_text(self, lines=None, port=None):
        lines = self.lines if lines is None else list(lines)
        port = self.port if port is None else port
        if is_mosquitto():
            body = [f"listener {port} 127.0.0.1"]
            if self.anonymous:
                body.append("allow_anonymous true")
            body += ["persistence false", "log_dest stderr"]
            if self.verbose:
                body.append("log_type all")
            body += _translate_for_mosquitto(lines)
        else:
            body = []
            if self.anonymous:
                body.append("allow_anonymous true")
            body += ["persistence false", "log_dest stderr"]
            if self.verbose:
                body.append("log_level debug")
            body += lines
            body.append(f"listener {port} 127.0.0.1")
            body += self.listener_lines     # options of this listener
        return "\n".join(body) + "\n"

    def write_config(self, lines=None):
        """(Re)write the configuration file, e.g. before SIGHUP."""
        with open(self.conf_path, "w") as f:
            f.write(self.config_text(lines))

    def command(self):
        exe = MOSQUITTO if is_mosquitto() else wardmq_bin()
        cmd = [exe]
        if self.use_config:
            cmd += ["-c", self.conf_path]
        else:
            cmd += ["-p", str(self.port)]
        if self.verbose and not self.use_config:
            cmd.append("-v")
        return cmd + self.args

    def start(self):
        exe = self.command()[0]
        if not os.access(exe, os.X_OK):
            pytest.fail(f"broker binary not found: {exe} (set WARDMQ_BIN or WMQ_TARGET=mosquitto)")
        for _attempt in range(3):
            self.port = free_port()
            if self.use_config:
                self.write_config()
            with open(self.log_path, "ab") as err, open(self.out_path, "ab") as out:
                self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                             stdout=out, stderr=err, cwd=self.workdir)
            if self._wait_ready():
                return self
            if self.proc.poll() is None:
                break
            # exited early: perhaps the port was taken between free_port() and bind
        log = self.log_text()
        self.kill()
        pytest.fail(f"broker did not start listening on 127.0.0.1:{self.port}\n{log[-3000:]}")

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if is_mosquitto():
                # mosquitto 2.0.11 miscounts max_connections after a socket
                # closed before CONNECT, so no TCP probe: wait for its log line.
                if re.search(r"mosquitto version \S+ running", self.log_text()):
                    return True
                time.sleep(0.02)
                continue
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def sighup(self):
        self.signal(signal.SIGHUP)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=5.0, start=0):
        """Wait until stderr (from offset start) matches regex; returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.log_text()[start:])
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"log never matched {pattern!r}:\n{self.log_text()[-2000:]}")
            time.sleep(0.05)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def stop(self):
        """SIGTERM, bounded wait; returns a list of problems (empty = clean)."""
        if self.proc is None:
            return []
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                problems.append(f"broker did not exit within {STOP_TIMEOUT}s of SIGTERM (killed)")
        else:
            problems.append(f"broker exited by itself during the test (status {self.proc.returncode})")
        self.returncode = self.proc.returncode
        if self.returncode != 0 and not problems:
            problems.append(f"broker exit status {self.returncode} after SIGTERM")
        log = self.log_text()
        for m in SANITIZER_MARKERS:
            if m in log:
                problems.append(f"sanitizer report in broker stderr ({m!r})")
                break
        self.proc = None
        return problems


@pytest.fixture
def broker_factory(tmp_path, request):
    """start(*config_lines, args=(), config=True, verbose=False, anonymous=True,
    listener=()) -> Broker. |listener| lines follow the listener line (TLS...)."""
    brokers = []

    def start(*lines, args=(), config=True, verbose=False, anonymous=True, listener=()):
        b = Broker(str(tmp_path), len(brokers), lines, args, config, verbose, anonymous, listener)
        brokers.append(b)
        return b.start()

    yield start
    problems = []
    # Stop the brokers while the test's clients are still connected (shutdown
    # with live sessions must be clean too), then close the client sockets.
    for b in brokers:
        for p in b.stop():
            problems.append(f"broker{b.index} (port {b.port}): {p}")
    mqttraw.close_all()
    rep = getattr(request.node, "rep_call", None)
    if problems or (rep is not None and rep.failed):
        for b in brokers:
            print(f"---- broker{b.index} stderr (tail) ----")
            print(b.log_text()[-6000:])
    assert not problems, "\n".join(problems)


@pytest.fixture
def broker(broker_factory):
    """A broker with the default test configuration (anonymous, loopback)."""
    return broker_factory()


@pytest.fixture
def port(broker):
    return broker.port


# ---------------------------------------------------------------- markers, guards

def pytest_configure(config):
    config.addinivalue_line("markers", "wardmq_only(reason): WardMQ behaviour mosquitto does not share")
    config.addinivalue_line("markers", "timeout_s(n): per-test time limit in seconds")


def pytest_collection_modifyitems(config, items):
    if not is_mosquitto() or os.environ.get("WMQ_RUN_ALL"):
        return
    for item in items:
        m = item.get_closest_marker("wardmq_only")
        if m is not None:
            why = m.args[0] if m.args else "WardMQ-specific behaviour"
            item.add_marker(pytest.mark.skip(reason=f"wardmq_only: {why}"))


class TestTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    m = item.get_closest_marker("timeout_s")
    secs = int(m.args[0]) if m else TEST_TIMEOUT

    def on_alarm(signum, frame):
        raise TestTimeout(f"test exceeded its {secs}s time limit")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(secs)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
