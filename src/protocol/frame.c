/* SPDX-License-Identifier: MIT
 * frame.c - the Fixed Header: framing a stream into packets, the checks that
 * apply to every packet type, and dispatch to the per-packet decoders and
 * emitters.
 *
 * Fixed Header (MQTT 5.0 §2.1.1):
 *   byte 0     bits 7-4 packet type, bits 3-0 flags
 *   byte 1..4  Remaining Length, Variable Byte Integer (§1.5.5), 1-4 bytes
 *
 * Decoding rules enforced here, before the body is looked at:
 *   - type 0 is reserved: Malformed Packet; type 15 (AUTH) exists only in
 *     MQTT 5: in 3.1/3.1.1 it is a reserved type, Malformed Packet;
 *   - direction: a Client never sends CONNACK, SUBACK, UNSUBACK, PINGRESP and
 *     a Server never sends CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ:
 *     Protocol Error;
 *   - [MQTT-2.1.3-1] reserved flag bits: 0x2 for PUBREL, SUBSCRIBE and
 *     UNSUBSCRIBE, 0 for the others except PUBLISH: Malformed Packet.
 * Any |version| other than WMQ_V5 decodes with the 3.1.1 rules.
 * Threading: reentrant. */
#include <string.h>

#include "protocol/codec.h"
#include "protocol/mqtt.h"

wmq_err wmq_mqtt_frame(const uint8_t *p, size_t len, uint8_t *first, uint32_t *body_len,
		       size_t *hdr_len)
{
	uint32_t v = 0;
	if (len < 2)
		return WMQ_ERR_AGAIN; /* not an error: wait for more bytes */
	/* §1.5.5 Remaining Length: at most four bytes, the fourth must not
	 * have its continuation bit set */
	for (size_t i = 0; i < 4; i++) {
		if (len - 1 <= i)
			return WMQ_ERR_AGAIN;
		uint8_t b = p[1 + i];
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*first = p[0];
			*body_len = v;
			*hdr_len = i + 2;
			return WMQ_OK;
		}
	}
	WMQ_BAIL(WMQ_ERR_MALFORMED);
}

/* Expected low nibble for every type but PUBLISH. */
static uint8_t fixed_flags(uint8_t type)
{
	switch (type) {
	case WMQ_PUBREL:
	case WMQ_SUBSCRIBE:
	case WMQ_UNSUBSCRIBE:
		return 0x2;
	default:
		return 0;
	}
}

wmq_err wmq_mqtt_decode(uint8_t version, bool from_server, uint8_t first, const uint8_t *body,
			size_t len, struct wmq_pkt *out, uint8_t *rc_out)
{
	static const uint8_t empty[1];
	uint8_t type = (uint8_t)(first >> 4);
	uint8_t flags = (uint8_t)(first & 0x0f);
	bool v5 = version == WMQ_V5;
	wmq_err e;

	memset(out, 0, sizeof *out);
	*rc_out = WMQ_RC_SUCCESS;
	out->type = type;
	out->flags = flags;
	if (!body) {
		if (len)
			WMQ_FAIL_RC(rc_out, WMQ_ERR_INVAL, WMQ_RC_IMPL_SPECIFIC);
		body = empty;
	}
	struct wmq_rd r = wmq_rd_make(body, len);

	/* reserved packet types */
	if (type == 0 || (type == WMQ_AUTH && !v5))
		WMQ_MALFORMED(rc_out);
	/* who may send what (§2.1.2 Table 2-1 "Direction of flow") */
	if (!from_server && (type == WMQ_CONNACK || type == WMQ_SUBACK || type == WMQ_UNSUBACK ||
			     type == WMQ_PINGRESP))
		WMQ_PROTO(rc_out);
	if (from_server && (type == WMQ_CONNECT || type == WMQ_SUBSCRIBE ||
			    type == WMQ_UNSUBSCRIBE || type == WMQ_PINGREQ))
		WMQ_PROTO(rc_out);
	/* [MQTT-2.1.3-1] reserved flags must have the listed values */
	if (type != WMQ_PUBLISH && flags != fixed_flags(type))
		WMQ_MALFORMED(rc_out);

	switch (type) {
	case WMQ_CONNECT:
		e = wmq_mqtt_dec_connect(&r, &out->u.connect, rc_out);
		break;
	case WMQ_CONNACK:
		e = wmq_mqtt_dec_connack(&r, v5, &out->u.connack, rc_out);
		break;
	case WMQ_PUBLISH:
		e = wmq_mqtt_dec_publish(&r, v5, from_server, flags, &out->u.publish, rc_out);
		break;
	case WMQ_PUBACK:
	case WMQ_PUBREC:
	case WMQ_PUBREL:
	case WMQ_PUBCOMP:
		e = wmq_mqtt_dec_ack(&r, v5, from_server, type, &out->u.ack, rc_out);
		break;
	case WMQ_SUBSCRIBE:
		e = wmq_mqtt_dec_subscribe(&r, v5, &out->u.subscribe, rc_out);
		break;
	case WMQ_SUBACK:
		e = wmq_mqtt_dec_suback(&r, v5, &out->u.suback, rc_out);
		break;
	case WMQ_UNSUBSCRIBE:
		e = wmq_mqtt_dec_unsubscribe(&r, v5, &out->u.unsubscribe, rc_out);
		break;
	case WMQ_UNSUBACK:
		e = wmq_mqtt_dec_unsuback(&r, v5, &out->u.suback, rc_out);
		break;
	case WMQ_PINGREQ:
	case WMQ_PINGRESP:
		/* §3.12.1 / §3.13.1: no variable header, no payload */
		if (len != 0)
			WMQ_MALFORMED(rc_out);
		e = WMQ_OK;
		break;
	case WMQ_DISCONNECT:
		e = wmq_mqtt_dec_disconnect(&r, v5, from_server, &out->u.disconnect, rc_out);
		break;
	case WMQ_AUTH:
		e = wmq_mqtt_dec_auth(&r, from_server, &out->u.auth, rc_out);
		break;
	default:
		WMQ_MALFORMED(rc_out);
	}
	if (e != WMQ_OK)
		return e;
	/* no trailing bytes after the last field */
	if (wmq_rd_end(&r) != WMQ_OK)
		WMQ_MALFORMED(rc_out);
	*rc_out = WMQ_RC_SUCCESS;
	return WMQ_OK;
}

/* Emit the body of |pkt| and return the fixed header's first byte, or false
 * when |pkt| cannot be encoded for |version|. */
static bool emit_body(struct wmq_sink *s, uint8_t version, const struct wmq_pkt *pkt,
		      uint8_t *first)
{
	bool v5 = version == WMQ_V5;
	uint8_t type = pkt->type;
	switch (type) {
	case WMQ_CONNECT:
		wmq_mqtt_emit_connect(s, version, &pkt->u.connect);
		break;
	case WMQ_CONNACK:
		wmq_mqtt_emit_connack(s, v5, &pkt->u.connack);
		break;
	case WMQ_PUBLISH: {
		const struct wmq_publish *p = &pkt->u.publish;
		*first = (uint8_t)(WMQ_PUBLISH << 4 | (p->dup ? 0x8 : 0) | (p->qos & 3) << 1 |
				   (p->retain ? 1 : 0));
		wmq_mqtt_emit_publish(s, v5, p);
		return true;
	}
	case WMQ_PUBACK:
	case WMQ_PUBREC:
	case WMQ_PUBREL:
	case WMQ_PUBCOMP:
		wmq_mqtt_emit_ack(s, v5, &pkt->u.ack);
		break;
	case WMQ_SUBSCRIBE:
		wmq_mqtt_emit_subscribe(s, v5, &pkt->u.subscribe);
		break;
	case WMQ_SUBACK:
		wmq_mqtt_emit_suback(s, v5, &pkt->u.suback);
		break;
	case WMQ_UNSUBSCRIBE:
		wmq_mqtt_emit_unsubscribe(s, v5, &pkt->u.unsubscribe);
		break;
	case WMQ_UNSUBACK:
		wmq_mqtt_emit_unsuback(s, v5, &pkt->u.suback);
		break;
	case WMQ_PINGREQ:
	case WMQ_PINGRESP:
		break;
	case WMQ_DISCONNECT:
		wmq_mqtt_emit_rc_props(s, v5, pkt->u.disconnect.rc, &pkt->u.disconnect.props);
		break;
	case WMQ_AUTH:
		if (!v5)
			return false;
		wmq_mqtt_emit_rc_props(s, v5, pkt->u.auth.rc, &pkt->u.auth.props);
		break;
	default:
		return false;
	}
	*first = (uint8_t)(type << 4 | fixed_flags(type));
	return true;
}

size_t wmq_mqtt_encoded_len(uint8_t version, const struct wmq_pkt *pkt)
{
	struct wmq_sink s = {NULL, 0};
	uint8_t first;
	if (!emit_body(&s, version, pkt, &first))
		return 0;
	size_t vl = s.n <= 268435455u ? wmq_varint_len((uint32_t)s.n) : 4;
	return 1 + vl + s.n;
}

wmq_err wmq_mqtt_encode(struct wmq_wr *w, uint8_t version, const struct wmq_pkt *pkt)
{
	struct wmq_sink count = {NULL, 0};
	uint8_t first = 0;
	if (!emit_body(&count, version, pkt, &first))
		WMQ_BAIL(WMQ_ERR_INVAL);
	/* the Remaining Length is at most 268435455 (§1.5.5) */
	if (count.n > 268435455u) {
		w->overflow = true;
		WMQ_BAIL(WMQ_ERR_LIMIT);
	}
	wmq_wr_u8(w, first);
	wmq_wr_varint(w, (uint32_t)count.n);
	struct wmq_sink s = {w, 0};
	(void)emit_body(&s, version, pkt, &first);
	return wmq_wr_finish(w);
}
