/* SPDX-License-Identifier: MIT
 * ack.c - PUBACK, PUBREC, PUBREL, PUBCOMP: decode and encode.
 *
 * Layout (MQTT 5.0 §3.4-§3.7, 3.1.1 §3.4-§3.7):
 *   3.1.1: Packet Identifier only (Remaining Length 2).
 *   v5:    Packet Identifier, Reason Code, Properties, with short forms
 *          (§3.4.2.1, §3.4.2.2.1): Remaining Length 2 means reason 0x00 and
 *          no properties, 3 means a reason code and no properties.
 * Encoding uses the shortest form: 2 bytes when rc == 0 and there are no
 * properties, 3 when only rc != 0.
 * Errors: a reason code the packet type may not carry ([MQTT-3.4.2-1],
 * [MQTT-3.5.2-1], [MQTT-3.6.2-1], [MQTT-3.7.2-1]) and packet id 0 are
 * Protocol Errors: the packet parses, the value is not allowed (§4.13).
 * Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

wmq_err wmq_mqtt_dec_ack(struct wmq_rd *r, bool v5, bool from_server, uint8_t type,
			 struct wmq_ack *a, uint8_t *rc)
{
	WMQ_RD(wmq_rd_u16(r, &a->packet_id), rc);
	/* [MQTT-2.2.1-3] Packet Identifiers are non-zero */
	if (a->packet_id == 0)
		WMQ_PROTO(rc);
	a->rc = WMQ_RC_SUCCESS;
	if (!v5 || wmq_rd_left(r) == 0)
		return WMQ_OK; /* 3.1.1, or the v5 short form */
	WMQ_RD(wmq_rd_u8(r, &a->rc), rc);
	/* [MQTT-3.4.2-1] and the like: one of this packet's reason codes */
	if (!wmq_mqtt_rc_valid(type, a->rc, from_server))
		WMQ_PROTO(rc);
	/* §3.4.2.2.1: below Remaining Length 4 there is no Property Length */
	if (wmq_rd_left(r) > 0)
		WMQ_TRY_RC(wmq_props_decode(r, type, from_server, &a->props, rc));
	return WMQ_OK;
}

void wmq_mqtt_emit_ack(struct wmq_sink *s, bool v5, const struct wmq_ack *a)
{
	wmq_sink_u16(s, a->packet_id);
	if (!v5)
		return;
	bool props = wmq_props_len(&a->props) > 0;
	if (a->rc == WMQ_RC_SUCCESS && !props)
		return;
	wmq_sink_u8(s, a->rc);
	if (props)
		wmq_props_emit(s, &a->props);
}
