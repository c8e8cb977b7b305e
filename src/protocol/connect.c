/* SPDX-License-Identifier: MIT
 * connect.c - CONNECT: decode (server side) and encode (client side).
 *
 * Layout (MQTT 5.0 §3.1, 3.1.1 §3.1):
 *   Variable Header: Protocol Name (UTF-8: "MQTT", or "MQIsdp" for 3.1)
 *                    Protocol Level (3, 4 or 5)
 *                    Connect Flags  (bit 7 user name, 6 password, 5 will
 *                                    retain, 4-3 will QoS, 2 will, 1 clean
 *                                    start, 0 reserved)
 *                    Keep Alive     (Two Byte Integer)
 *                    Properties     (v5 only)
 *   Payload:         Client Identifier (UTF-8)
 *                    [Will Properties (v5)] [Will Topic (UTF-8)]
 *                    [Will Payload (Binary Data)]
 *                    [User Name (UTF-8)] [Password (Binary Data)]
 *
 * Protocol name and level: "MQTT" with level 4 or 5, "MQIsdp" with level 3.
 * Any other combination, including an unknown name, is WMQ_ERR_PROTOCOL with
 * rc 0x84 (Unsupported Protocol Version): [MQTT-3.1.2-1] allows exactly this
 * answer to a wrong name, and a 3.1.1 server answers a wrong level with
 * return code 1 [MQTT-3.1.2-2 (3.1.1)], which 0x84 maps to.
 * Threading: reentrant. */
#include <string.h>

#include "protocol/codec.h"
#include "protocol/mqtt.h"

enum {
	CF_RESERVED = 0x01,
	CF_CLEAN = 0x02,
	CF_WILL = 0x04,
	CF_WILL_QOS_SHIFT = 3,
	CF_WILL_RETAIN = 0x20,
	CF_PASSWORD = 0x40,
	CF_USERNAME = 0x80,
};

wmq_err wmq_mqtt_dec_connect(struct wmq_rd *r, struct wmq_connect *c, uint8_t *rc)
{
	uint8_t level, flags;

	WMQ_RD(wmq_rd_utf8(r, &c->proto_name), rc);
	WMQ_RD(wmq_rd_u8(r, &level), rc);
	if (wmq_bytes_eq_cstr(c->proto_name, "MQTT")) {
		/* [MQTT-3.1.2-2] a level this server does not speak */
		if (level != WMQ_V311 && level != WMQ_V5)
			WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_UNSUPPORTED_VERSION);
	} else if (wmq_bytes_eq_cstr(c->proto_name, "MQIsdp")) {
		if (level != WMQ_V31)
			WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_UNSUPPORTED_VERSION);
	} else {
		/* [MQTT-3.1.2-1] the protocol name must be "MQTT" */
		WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_UNSUPPORTED_VERSION);
	}
	c->version = level;
	bool v5 = level == WMQ_V5;

	WMQ_RD(wmq_rd_u8(r, &flags), rc);
	/* [MQTT-3.1.2-3] the reserved flag must be 0: Malformed Packet */
	if (flags & CF_RESERVED)
		WMQ_MALFORMED(rc);
	c->clean = (flags & CF_CLEAN) != 0;
	c->will = (flags & CF_WILL) != 0;
	c->will_qos = (uint8_t)((flags >> CF_WILL_QOS_SHIFT) & 3);
	c->will_retain = (flags & CF_WILL_RETAIN) != 0;
	c->has_password = (flags & CF_PASSWORD) != 0;
	c->has_username = (flags & CF_USERNAME) != 0;
	if (c->will) {
		/* [MQTT-3.1.2-12] Will QoS 3 is a Malformed Packet */
		if (c->will_qos == 3)
			WMQ_MALFORMED(rc);
	} else {
		/* [MQTT-3.1.2-11] no will: Will QoS must be 0 */
		if (c->will_qos != 0)
			WMQ_MALFORMED(rc);
		/* [MQTT-3.1.2-13] no will: Will Retain must be 0 */
		if (c->will_retain)
			WMQ_MALFORMED(rc);
	}
	/* [MQTT-3.1.2-22] (3.1.1 id) a password needs a user name; MQTT 5
	 * allows a password alone (§3.1.2.9) */
	if (!v5 && c->has_password && !c->has_username)
		WMQ_PROTO(rc);

	WMQ_RD(wmq_rd_u16(r, &c->keepalive), rc);
	if (v5)
		WMQ_TRY_RC(wmq_props_decode(r, WMQ_CONNECT, false, &c->props, rc));

	/* [MQTT-3.1.3-4] the Client Identifier is a UTF-8 Encoded String */
	WMQ_RD(wmq_rd_utf8(r, &c->client_id), rc);
	/* [MQTT-3.1.3-8] (3.1.1 id) an empty client id needs a clean session:
	 * CONNACK return code 2, identifier rejected. (MQTT 5 lets the server
	 * assign one either way, §3.1.3.1.) */
	if (!v5 && c->client_id.len == 0 && !c->clean)
		WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_CLIENT_ID_INVALID);

	if (c->will) {
		/* [MQTT-3.1.2-9] Will Properties, Topic and Payload present */
		if (v5)
			WMQ_TRY_RC(wmq_props_decode(r, WMQ_PTYPE_WILL, false, &c->will_props, rc));
		/* [MQTT-3.1.3-11] the Will Topic is a UTF-8 Encoded String */
		WMQ_RD(wmq_rd_utf8(r, &c->will_topic), rc);
		WMQ_RD(wmq_rd_bin(r, &c->will_payload), rc);
		/* [MQTT-3.3.2-2] [MQTT-4.7.3-1] it is a Topic Name: non-empty,
		 * no wildcards */
		if (!wmq_topic_name_valid(c->will_topic))
			WMQ_PROTO(rc);
	}
	/* [MQTT-3.1.2-16] [MQTT-3.1.2-17] User Name present iff flagged;
	 * [MQTT-3.1.3-12] it is a UTF-8 Encoded String */
	if (c->has_username)
		WMQ_RD(wmq_rd_utf8(r, &c->username), rc);
	/* [MQTT-3.1.2-18] [MQTT-3.1.2-19] Password present iff flagged; it is
	 * Binary Data (§3.1.3.6) */
	if (c->has_password)
		WMQ_RD(wmq_rd_bin(r, &c->password), rc);
	return WMQ_OK;
}

void wmq_mqtt_emit_connect(struct wmq_sink *s, uint8_t version, const struct wmq_connect *c)
{
	bool v5 = version == WMQ_V5;
	uint8_t flags = 0;
	if (version == WMQ_V31)
		wmq_sink_bin(s, WMQ_BYTES_STR("MQIsdp"));
	else
		wmq_sink_bin(s, WMQ_BYTES_STR("MQTT"));
	wmq_sink_u8(s, version);
	if (c->has_username)
		flags |= CF_USERNAME;
	if (c->has_password)
		flags |= CF_PASSWORD;
	if (c->will) {
		flags |= CF_WILL;
		flags |= (uint8_t)((c->will_qos & 3) << CF_WILL_QOS_SHIFT);
		if (c->will_retain)
			flags |= CF_WILL_RETAIN;
	}
	if (c->clean)
		flags |= CF_CLEAN;
	wmq_sink_u8(s, flags);
	wmq_sink_u16(s, c->keepalive);
	if (v5)
		wmq_props_emit(s, &c->props);
	wmq_sink_bin(s, c->client_id);
	if (c->will) {
		if (v5)
			wmq_props_emit(s, &c->will_props);
		wmq_sink_bin(s, c->will_topic);
		wmq_sink_bin(s, c->will_payload);
	}
	if (c->has_username)
		wmq_sink_bin(s, c->username);
	if (c->has_password)
		wmq_sink_bin(s, c->password);
}
