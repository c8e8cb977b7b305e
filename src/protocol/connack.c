/* SPDX-License-Identifier: MIT
 * connack.c - CONNACK: decode (client side) and encode (server side).
 *
 * Layout (MQTT 5.0 §3.2, 3.1.1 §3.2):
 *   Variable Header: Connect Acknowledge Flags (bit 0 session present,
 *                    bits 7-1 reserved), Connect Reason Code (v5) or
 *                    Connect Return Code 0..5 (3.1.1), Properties (v5).
 * struct wmq_connack.rc always holds a v5 reason code: a 3.1.1 return code
 * is mapped up on decode and down (wmq_rc_to_v311_connack) on encode.
 * Errors: reserved flag bits: Malformed; a reason/return code the packet may
 * not carry, or Session Present with a failure code: Protocol Error.
 * Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

/* 3.1.1 return code -> v5 reason code (§3.2.2.3 Table 3.1). */
static const uint8_t v311_to_v5[6] = {
	WMQ_RC_SUCCESS,         WMQ_RC_UNSUPPORTED_VERSION,  WMQ_RC_CLIENT_ID_INVALID,
	WMQ_RC_SERVER_UNAVAILABLE, WMQ_RC_BAD_USER_OR_PASSWORD, WMQ_RC_NOT_AUTHORIZED,
};

wmq_err wmq_mqtt_dec_connack(struct wmq_rd *r, bool v5, struct wmq_connack *c, uint8_t *rc)
{
	uint8_t flags, code;
	WMQ_RD(wmq_rd_u8(r, &flags), rc);
	/* [MQTT-3.2.2-1] bits 7-1 of the acknowledge flags are reserved, 0 */
	if (flags & 0xfe)
		WMQ_MALFORMED(rc);
	c->session_present = (flags & 1) != 0;
	WMQ_RD(wmq_rd_u8(r, &code), rc);
	if (v5) {
		/* [MQTT-3.2.2-8] one of the Connect Reason Codes */
		if (!wmq_mqtt_rc_valid(WMQ_CONNACK, code, true))
			WMQ_PROTO(rc);
		c->rc = code;
		WMQ_TRY_RC(wmq_props_decode(r, WMQ_CONNACK, true, &c->props, rc));
	} else {
		/* 3.1.1 §3.2.2.3: return codes 6-255 are reserved */
		if (code >= WMQ_ARRAY_LEN(v311_to_v5))
			WMQ_PROTO(rc);
		c->rc = v311_to_v5[code];
	}
	/* [MQTT-3.2.2-6] (3.1.1: [MQTT-3.2.2-4]) a failed CONNACK has Session
	 * Present 0 */
	if (c->session_present && c->rc != WMQ_RC_SUCCESS)
		WMQ_PROTO(rc);
	return WMQ_OK;
}

void wmq_mqtt_emit_connack(struct wmq_sink *s, bool v5, const struct wmq_connack *c)
{
	wmq_sink_u8(s, c->session_present ? 1 : 0);
	if (v5) {
		wmq_sink_u8(s, c->rc);
		wmq_props_emit(s, &c->props);
	} else {
		wmq_sink_u8(s, wmq_rc_to_v311_connack(c->rc));
	}
}
