/* SPDX-License-Identifier: MIT
 * disconnect_auth.c - DISCONNECT and AUTH: decode and encode.
 *
 * Layout (MQTT 5.0 §3.14, §3.15): Reason Code, Properties; no payload.
 *   Remaining Length 0: reason 0x00, no properties (§3.14.2.1, §3.15.2.1);
 *   Remaining Length 1: a reason code, no properties (§3.14.2.2.1 "If the
 *   Remaining Length is less than 2, a value of 0 is used"; AUTH has the
 *   same shape and is read the same way).
 * MQTT 3.1.1 DISCONNECT (§3.14) has Remaining Length 0; AUTH does not exist
 * (frame.c rejects it).
 * Reason codes are checked against the packet's table including its "Sent
 * by" column: a code the sender may not use is a Protocol Error
 * ([MQTT-3.14.2-1], [MQTT-3.15.2-1]). Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

static wmq_err dec_rc_props(struct wmq_rd *r, uint8_t type, bool from_server, uint8_t *code,
			    struct wmq_props *props, uint8_t *rc)
{
	*code = WMQ_RC_SUCCESS;
	if (wmq_rd_left(r) == 0)
		return WMQ_OK;
	WMQ_RD(wmq_rd_u8(r, code), rc);
	if (!wmq_mqtt_rc_valid(type, *code, from_server))
		WMQ_PROTO(rc);
	if (wmq_rd_left(r) > 0)
		WMQ_TRY_RC(wmq_props_decode(r, type, from_server, props, rc));
	return WMQ_OK;
}

wmq_err wmq_mqtt_dec_disconnect(struct wmq_rd *r, bool v5, bool from_server,
				struct wmq_disconnect *d, uint8_t *rc)
{
	if (!v5) {
		/* 3.1.1 §3.14: no variable header, no payload */
		if (wmq_rd_left(r) != 0)
			WMQ_MALFORMED(rc);
		return WMQ_OK;
	}
	WMQ_TRY_RC(dec_rc_props(r, WMQ_DISCONNECT, from_server, &d->rc, &d->props, rc));
	/* [MQTT-3.14.2-2] the Server never sends a Session Expiry Interval */
	if (from_server && wmq_props_has(&d->props, WMQ_PROP_SESSION_EXPIRY))
		WMQ_PROTO(rc);
	return WMQ_OK;
}

wmq_err wmq_mqtt_dec_auth(struct wmq_rd *r, bool from_server, struct wmq_auth *a, uint8_t *rc)
{
	return dec_rc_props(r, WMQ_AUTH, from_server, &a->rc, &a->props, rc);
}

void wmq_mqtt_emit_rc_props(struct wmq_sink *s, bool v5, uint8_t code, const struct wmq_props *p)
{
	if (!v5)
		return;
	bool props = wmq_props_len(p) > 0;
	/* short forms: nothing at all for 0x00 without properties, the reason
	 * code alone when there are no properties */
	if (code == WMQ_RC_SUCCESS && !props)
		return;
	wmq_sink_u8(s, code);
	if (props)
		wmq_props_emit(s, p);
}
