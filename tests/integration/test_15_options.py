# SPDX-License-Identifier: MIT
"""15 - options that shape client ids and 3.1.1 session lifetime:
allow_zero_length_clientid, auto_id_prefix, persistent_client_expiration."""
import re
import time

import pytest

import mqttraw as m
from mqttraw import V311, V5, client

pytestmark = pytest.mark.wardmq_only("WardMQ option semantics")


def test_zero_length_client_id_refused_when_not_allowed(broker_factory):
    b = broker_factory("allow_zero_length_clientid false")
    client(b.port, "", v=V5, rc=0x85)                        # client identifier not valid
    client(b.port, "", v=V311, clean=True, rc=2)             # identifier rejected
    client(b.port, "15-named", v=V5)                         # a named client is fine


def test_auto_id_prefix_names_assigned_ids(broker_factory):
    b = broker_factory("auto_id_prefix dev-")
    c = client(b.port, "", v=V5)
    assigned = c.connack.prop(m.ASSIGNED_CLIENT_ID)
    assert assigned is not None and re.fullmatch(r"dev-[0-9a-f]{24}", assigned), assigned
    other = client(b.port, "", v=V5).connack.prop(m.ASSIGNED_CLIENT_ID)
    assert other != assigned                                 # random, not a counter reused


@pytest.mark.timeout_s(30)
def test_persistent_client_expiration_ends_idle_311_sessions(broker_factory):
    b = broker_factory("persistent_client_expiration 2s")
    for cid in ("15-exp", "15-keep"):
        c = client(b.port, cid, v=V311, clean=False)
        c.subscribe("15/x")
        c.disconnect()
    client(b.port, "15-keep", v=V311, clean=False, session_present=True).disconnect()
    time.sleep(3.6)                                          # 2 s + a housekeeping tick
    client(b.port, "15-exp", v=V311, clean=False, session_present=False)
