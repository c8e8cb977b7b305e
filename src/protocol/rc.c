/* SPDX-License-Identifier: MIT
 * rc.c - MQTT reason codes: names, the MQTT 3.1.1 CONNACK mapping, and which
 * codes each packet may carry.
 *
 * Role: const tables only. Spec: MQTT 5.0 §2.4 Table 2-6 and the per-packet
 * tables §3.2.2.2 (CONNACK), §3.4.2.1 (PUBACK), §3.5.2.1 (PUBREC), §3.6.2.1
 * (PUBREL), §3.7.2.1 (PUBCOMP), §3.9.3 (SUBACK), §3.11.3 (UNSUBACK),
 * §3.14.2.1 (DISCONNECT), §3.15.2.1 (AUTH); MQTT 3.1.1 §3.2.2.3 Table 3.1.
 * Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

static const char *const names[256] = {
	[0x00] = "success",
	[0x01] = "granted qos 1",
	[0x02] = "granted qos 2",
	[0x04] = "disconnect with will message",
	[0x10] = "no matching subscribers",
	[0x11] = "no subscription existed",
	[0x18] = "continue authentication",
	[0x19] = "re-authenticate",
	[0x80] = "unspecified error",
	[0x81] = "malformed packet",
	[0x82] = "protocol error",
	[0x83] = "implementation specific error",
	[0x84] = "unsupported protocol version",
	[0x85] = "client identifier not valid",
	[0x86] = "bad user name or password",
	[0x87] = "not authorized",
	[0x88] = "server unavailable",
	[0x89] = "server busy",
	[0x8A] = "banned",
	[0x8B] = "server shutting down",
	[0x8C] = "bad authentication method",
	[0x8D] = "keep alive timeout",
	[0x8E] = "session taken over",
	[0x8F] = "topic filter invalid",
	[0x90] = "topic name invalid",
	[0x91] = "packet identifier in use",
	[0x92] = "packet identifier not found",
	[0x93] = "receive maximum exceeded",
	[0x94] = "topic alias invalid",
	[0x95] = "packet too large",
	[0x96] = "message rate too high",
	[0x97] = "quota exceeded",
	[0x98] = "administrative action",
	[0x99] = "payload format invalid",
	[0x9A] = "retain not supported",
	[0x9B] = "qos not supported",
	[0x9C] = "use another server",
	[0x9D] = "server moved",
	[0x9E] = "shared subscriptions not supported",
	[0x9F] = "connection rate exceeded",
	[0xA0] = "maximum connect time",
	[0xA1] = "subscription identifiers not supported",
	[0xA2] = "wildcard subscriptions not supported",
};

const char *wmq_rc_str(uint8_t rc)
{
	return names[rc] ? names[rc] : "unknown reason code";
}

/* MQTT 3.1.1 §3.2.2.3 Table 3.1: 0 accepted, 1 unacceptable protocol
 * version, 2 identifier rejected, 3 server unavailable, 4 bad user name or
 * password, 5 not authorized. v5 codes without an equivalent map to the
 * nearest: authentication problems to 4, policy refusals to 5, everything
 * else (overload, errors, redirection) to 3. */
uint8_t wmq_rc_to_v311_connack(uint8_t rc)
{
	switch (rc) {
	case WMQ_RC_SUCCESS:
		return 0;
	case WMQ_RC_UNSUPPORTED_VERSION:
		return 1;
	case WMQ_RC_CLIENT_ID_INVALID:
		return 2;
	case WMQ_RC_BAD_USER_OR_PASSWORD:
	case WMQ_RC_BAD_AUTH_METHOD:
		return 4;
	case WMQ_RC_NOT_AUTHORIZED:
	case WMQ_RC_BANNED:
		return 5;
	default:
		return rc < 0x80 ? 0 : 3;
	}
}

/* Bits of the validity table: which direction may send the code. */
#define BY_C 1u /* sent by the Client */
#define BY_S 2u /* sent by the Server */
#define BY_B 3u /* either */

/* One row per code; a column per packet. CONNACK/SUBACK/UNSUBACK are only
 * sent by the Server and PUBACK..PUBCOMP by either, so only DISCONNECT and
 * AUTH need directions. */
struct rc_row {
	uint8_t rc;
	uint8_t connack, puback, pubrel, suback, unsuback, disconnect, auth;
};

static const struct rc_row rows[] = {
	/*  rc  CONNACK PUBACK/REC PUBREL/COMP SUBACK UNSUBACK DISCONNECT AUTH */
	{0x00, 1, 1, 1, 1, 1, BY_B, BY_S},
	{0x01, 0, 0, 0, 1, 0, 0, 0},
	{0x02, 0, 0, 0, 1, 0, 0, 0},
	{0x04, 0, 0, 0, 0, 0, BY_C, 0},
	{0x10, 0, 1, 0, 0, 0, 0, 0},
	{0x11, 0, 0, 0, 0, 1, 0, 0},
	{0x18, 0, 0, 0, 0, 0, 0, BY_B},
	{0x19, 0, 0, 0, 0, 0, 0, BY_C},
	{0x80, 1, 1, 0, 1, 1, BY_B, 0},
	{0x81, 1, 0, 0, 0, 0, BY_B, 0},
	{0x82, 1, 0, 0, 0, 0, BY_B, 0},
	{0x83, 1, 1, 0, 1, 1, BY_B, 0},
	{0x84, 1, 0, 0, 0, 0, 0, 0},
	{0x85, 1, 0, 0, 0, 0, 0, 0},
	{0x86, 1, 0, 0, 0, 0, 0, 0},
	{0x87, 1, 1, 0, 1, 1, BY_S, 0},
	{0x88, 1, 0, 0, 0, 0, 0, 0},
	{0x89, 1, 0, 0, 0, 0, BY_S, 0},
	{0x8A, 1, 0, 0, 0, 0, 0, 0},
	{0x8B, 0, 0, 0, 0, 0, BY_S, 0},
	{0x8C, 1, 0, 0, 0, 0, 0, 0},
	{0x8D, 0, 0, 0, 0, 0, BY_S, 0},
	{0x8E, 0, 0, 0, 0, 0, BY_S, 0},
	{0x8F, 0, 0, 0, 1, 1, BY_S, 0},
	{0x90, 1, 1, 0, 0, 0, BY_B, 0},
	{0x91, 0, 1, 0, 1, 1, 0, 0},
	{0x92, 0, 0, 1, 0, 0, 0, 0},
	{0x93, 0, 0, 0, 0, 0, BY_B, 0},
	{0x94, 0, 0, 0, 0, 0, BY_B, 0},
	{0x95, 1, 0, 0, 0, 0, BY_B, 0},
	{0x96, 0, 0, 0, 0, 0, BY_B, 0},
	{0x97, 1, 1, 0, 1, 0, BY_B, 0},
	{0x98, 0, 0, 0, 0, 0, BY_B, 0},
	{0x99, 1, 1, 0, 0, 0, BY_B, 0},
	{0x9A, 1, 0, 0, 0, 0, BY_S, 0},
	{0x9B, 1, 0, 0, 0, 0, BY_S, 0},
	{0x9C, 1, 0, 0, 0, 0, BY_S, 0},
	{0x9D, 1, 0, 0, 0, 0, BY_S, 0},
	{0x9E, 0, 0, 0, 1, 0, BY_S, 0},
	{0x9F, 1, 0, 0, 0, 0, BY_S, 0},
	{0xA0, 0, 0, 0, 0, 0, BY_S, 0},
	{0xA1, 0, 0, 0, 1, 0, BY_S, 0},
	{0xA2, 0, 0, 0, 1, 0, BY_S, 0},
};

bool wmq_mqtt_rc_valid(uint8_t type, uint8_t rc, bool from_server)
{
	unsigned dir = from_server ? BY_S : BY_C;
	for (size_t i = 0; i < WMQ_ARRAY_LEN(rows); i++) {
		const struct rc_row *row = &rows[i];
		if (row->rc != rc)
			continue;
		switch (type) {
		case WMQ_CONNACK:
			return row->connack != 0;
		case WMQ_PUBACK:
		case WMQ_PUBREC:
			return row->puback != 0;
		case WMQ_PUBREL:
		case WMQ_PUBCOMP:
			return row->pubrel != 0;
		case WMQ_SUBACK:
			return row->suback != 0;
		case WMQ_UNSUBACK:
			return row->unsuback != 0;
		case WMQ_DISCONNECT:
			return (row->disconnect & dir) != 0;
		case WMQ_AUTH:
			return (row->auth & dir) != 0;
		default:
			return false;
		}
	}
	return false;
}
