/* SPDX-License-Identifier: MIT
 * publish.c - PUBLISH: decode and encode, both directions.
 *
 * Layout (MQTT 5.0 §3.3, 3.1.1 §3.3):
 *   Fixed Header flags: bit 3 DUP, bits 2-1 QoS, bit 0 RETAIN
 *   Variable Header:    Topic Name (UTF-8), Packet Identifier (QoS > 0
 *                       only), Properties (v5)
 *   Payload:            the rest of the packet, may be empty
 * Errors: QoS 3 and DUP with QoS 0: Malformed; packet id 0, wildcards in
 * the topic, an empty topic (3.1.1; v5 without a Topic Alias), a
 * Subscription Identifier from a client: Protocol Error. Whether a Topic
 * Alias is known is the caller's to check. Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

wmq_err wmq_mqtt_dec_publish(struct wmq_rd *r, bool v5, bool from_server, uint8_t flags,
			     struct wmq_publish *p, uint8_t *rc)
{
	p->qos = (uint8_t)((flags >> 1) & 3);
	p->dup = (flags & 0x8) != 0;
	p->retain = (flags & 0x1) != 0;
	/* [MQTT-3.3.1-4] both QoS bits set: Malformed Packet */
	if (p->qos == 3)
		WMQ_MALFORMED(rc);
	/* [MQTT-3.3.1-2] DUP must be 0 for QoS 0 messages */
	if (p->dup && p->qos == 0)
		WMQ_MALFORMED(rc);

	/* [MQTT-3.3.2-1] the Topic Name is a UTF-8 Encoded String */
	WMQ_RD(wmq_rd_utf8(r, &p->topic), rc);
	if (p->qos > 0) {
		WMQ_RD(wmq_rd_u16(r, &p->packet_id), rc);
		/* [MQTT-2.2.1-3] a non-zero Packet Identifier */
		if (p->packet_id == 0)
			WMQ_PROTO(rc);
	}
	if (v5) {
		WMQ_TRY_RC(wmq_props_decode(r, WMQ_PUBLISH, from_server, &p->props, rc));
		/* [MQTT-3.3.4-6] a client never sends a Subscription Identifier */
		if (!from_server && wmq_props_has(&p->props, WMQ_PROP_SUB_ID))
			WMQ_PROTO(rc);
	}
	if (p->topic.len == 0) {
		/* §3.3.2.3.4: a zero-length Topic Name needs a Topic Alias;
		 * [MQTT-4.7.3-1] (3.1.1) topics are at least one character */
		if (!v5 || !wmq_props_has(&p->props, WMQ_PROP_TOPIC_ALIAS))
			WMQ_PROTO(rc);
	} else if (!wmq_topic_name_valid(p->topic)) {
		/* [MQTT-3.3.2-2] no wildcard characters in a Topic Name */
		WMQ_PROTO(rc);
	}
	WMQ_RD(wmq_rd_bytes(r, wmq_rd_left(r), &p->payload), rc);
	return WMQ_OK;
}

void wmq_mqtt_emit_publish(struct wmq_sink *s, bool v5, const struct wmq_publish *p)
{
	wmq_sink_bin(s, p->topic);
	if (p->qos > 0)
		wmq_sink_u16(s, p->packet_id);
	if (v5)
		wmq_props_emit(s, &p->props);
	wmq_sink_bytes(s, p->payload.p, p->payload.len);
}
