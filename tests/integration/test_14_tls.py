# SPDX-License-Identifier: MIT
"""14 - TLS listeners with real clients: mosquitto_pub/mosquitto_sub and
python3-paho-mqtt over TLS, with and without client certificates, the
certificate as identity, each refusal logged with its reason, plain MQTT on
the TLS port and TLS on the plain port, and CRL reload on SIGHUP.

The test PKI is made at run time by tests/fixtures/make_test_ca.sh."""
import os
import re
import socket
import ssl
import subprocess
import time

import pytest

import mqttraw as m
from mqttraw import V5, client

pytestmark = pytest.mark.wardmq_only("WardMQ TLS listener wiring and log lines")

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CA = os.path.join(HERE, "..", "fixtures", "make_test_ca.sh")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("pki"))
    subprocess.run(["sh", MAKE_CA, d], check=True, capture_output=True, timeout=120)
    return d


def tls_lines(pki, *extra, crl=None):
    lines = [f"certfile {pki}/server.crt", f"keyfile {pki}/server.key", f"cafile {pki}/ca.crt"]
    if crl:
        lines.append(f"crlfile {crl}")
    return lines + list(extra)


def start_tls(broker_factory, pki, *extra, crl=None, anonymous=True):
    """A broker whose only listener speaks TLS."""
    return broker_factory(anonymous=anonymous, verbose=True,
                          listener=tls_lines(pki, *extra, crl=crl))


def mosq(tool, port, pki, *args, cert=None, timeout=10):
    cmd = [tool, "-h", "localhost", "-p", str(port), "--cafile", f"{pki}/ca.crt"]
    if cert:
        cmd += ["--cert", f"{pki}/{cert}.crt", "--key", f"{pki}/{cert}.key"]
    return subprocess.run(cmd + list(args), capture_output=True, timeout=timeout)


def test_mosquitto_clients_over_tls_without_client_certificate(broker_factory, pki):
    b = start_tls(broker_factory, pki)
    sub = subprocess.Popen(["mosquitto_sub", "-h", "localhost", "-p", str(b.port), "--cafile",
                            f"{pki}/ca.crt", "-t", "14/t", "-C", "1", "-W", "10", "-V", "5"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.8)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/t", "-m", "over tls", "-q", "1")
    assert r.returncode == 0, r.stderr
    out, err = sub.communicate(timeout=15)
    assert out == b"over tls\n", err


def test_client_certificate_identity_is_the_username(broker_factory, pki):
    b = start_tls(broker_factory, pki, "require_certificate true", "use_identity_as_username true",
                  anonymous=False, )
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/id", "-m", "x", "-d", cert="client")
    assert r.returncode == 0, r.stderr
    b.wait_log(r"as \S+ \(p4, c1, k60, u'client1'\)")


def test_client_certificate_san_uri_identity(broker_factory, pki):
    b = start_tls(broker_factory, pki, "require_certificate true", "use_identity_as_username true",
                  "identity_source san_uri", anonymous=False)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/u", "-m", "x", cert="client")
    assert r.returncode == 0, r.stderr
    b.wait_log(r"u'spiffe://example.org/device/1'")


def test_certificate_identity_with_wildcard_is_refused(broker_factory, pki):
    b = start_tls(broker_factory, pki, "require_certificate true", "use_identity_as_username true",
                  anonymous=False)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/p", "-m", "x", "-V", "5", cert="client-plus")
    assert r.returncode != 0
    b.wait_log(r"no usable certificate or PSK identity")


def test_without_certificate_anonymous_off_is_refused(broker_factory, pki):
    b = start_tls(broker_factory, pki, "use_identity_as_username true", anonymous=False)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/n", "-m", "x", "-V", "5")
    assert r.returncode != 0


@pytest.mark.parametrize("cert,reason", [
    ("client-expired", "expired"),
    ("client-notyet", "not-yet-valid"),
    ("client-wrongca", "unknown-ca"),
    ("client-noclientauth", "key-usage"),
])
def test_bad_client_certificates_are_refused_with_the_reason(broker_factory, pki, cert, reason):
    b = start_tls(broker_factory, pki, "require_certificate true")
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/bad", "-m", "x", cert=cert)
    assert r.returncode != 0
    # (the fixture's readiness probe shows up as a "closed" handshake first)
    line = b.wait_log(r"TLS handshake from 127\.0\.0\.1:\d+ on port \d+ failed \((?!closed)([a-z-]+)\)")
    assert line.group(1) == reason, b.log_text()[-1500:]


def test_revoked_certificate_refused_and_crl_reload_without_restart(broker_factory, pki, tmp_path):
    crl = str(tmp_path / "crl.pem")
    with open(f"{pki}/crl-empty.pem", "rb") as f, open(crl, "wb") as g:
        g.write(f.read())
    b = start_tls(broker_factory, pki, "require_certificate true", "crl_disconnect true", crl=crl)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/r", "-m", "x", cert="client-revoked")
    assert r.returncode == 0, r.stderr                         # not revoked yet
    # a live session of the soon-revoked certificate
    live = subprocess.Popen(["mosquitto_sub", "-h", "localhost", "-p", str(b.port), "--cafile",
                             f"{pki}/ca.crt", "--cert", f"{pki}/client-revoked.crt", "--key",
                             f"{pki}/client-revoked.key", "-t", "14/live", "-V", "5", "-W", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    b.wait_log(r"p5, c1")
    with open(f"{pki}/crl.pem", "rb") as f, open(crl, "wb") as g:
        g.write(f.read())
    mark = len(b.log_text())
    b.sighup()
    b.wait_log(r"TLS material reloaded", start=mark)
    b.wait_log(r"certificate no longer valid \(revoked\)", start=mark)
    live.wait(15)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/r", "-m", "x", cert="client-revoked")
    assert r.returncode != 0
    b.wait_log(r"failed \(revoked\)", start=mark)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/r", "-m", "x", cert="client")
    assert r.returncode == 0, r.stderr                         # others still fine


def test_invalid_new_certificate_on_reload_keeps_the_old(broker_factory, pki, tmp_path):
    cert = str(tmp_path / "server.crt")
    with open(f"{pki}/server.crt", "rb") as f, open(cert, "wb") as g:
        g.write(f.read())
    b = broker_factory(listener=(f"certfile {cert}", f"keyfile {pki}/server.key",
                                 f"cafile {pki}/ca.crt"))
    with open(cert, "wb") as g:
        g.write(b"-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    mark = len(b.log_text())
    b.sighup()
    b.wait_log(r"keeps its TLS material", start=mark)
    r = mosq("mosquitto_pub", b.port, pki, "-t", "14/k", "-m", "still works")
    assert r.returncode == 0, r.stderr


def test_plain_mqtt_to_tls_port_is_logged(broker_factory, pki):
    b = start_tls(broker_factory, pki)
    s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
    s.sendall(m.connect("14-plain", v=V5))
    s.settimeout(5)
    try:
        assert s.recv(100) == b""                              # closed, no MQTT answer
    except ConnectionResetError:
        pass
    s.close()
    b.wait_log(r"failed \(plain-mqtt\)")


def test_tls_to_plain_port_is_logged(broker):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", broker.port), timeout=5)
    with pytest.raises((ssl.SSLError, OSError)):
        ctx.wrap_socket(raw, server_hostname="localhost").do_handshake()
    raw.close()
    broker.wait_log(r"TLS sent to a plain MQTT port")


def test_paho_over_tls_with_client_certificate(broker_factory, pki):
    import paho.mqtt.client as mqtt
    b = start_tls(broker_factory, pki, "require_certificate true")
    got = []
    c = mqtt.Client(client_id="14-paho", protocol=mqtt.MQTTv5)
    c.tls_set(ca_certs=f"{pki}/ca.crt", certfile=f"{pki}/client.crt", keyfile=f"{pki}/client.key")
    c.on_message = lambda cl, ud, msg: got.append(msg.payload)
    c.connect("localhost", b.port)
    c.loop_start()
    try:
        c.subscribe("14/paho", qos=1)
        time.sleep(0.5)
        c.publish("14/paho", b"paho over tls", qos=1)
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        c.disconnect()
        c.loop_stop()
    assert got == [b"paho over tls"]
