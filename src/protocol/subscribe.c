/* SPDX-License-Identifier: MIT
 * subscribe.c - SUBSCRIBE and SUBACK: decode, encode, entry iteration.
 *
 * SUBSCRIBE (MQTT 5.0 §3.8, 3.1.1 §3.8):
 *   Variable Header: Packet Identifier, Properties (v5)
 *   Payload:         one or more { Topic Filter (UTF-8), options byte }
 *   Options (v5):    bits 1-0 Maximum QoS, 2 No Local, 3 Retain As
 *                    Published, 5-4 Retain Handling, 7-6 reserved;
 *   Options (3.1.1): bits 1-0 Requested QoS, 7-2 reserved.
 * Decode walks every entry once (UTF-8, options) and counts them, so that
 * wmq_subscribe_next() can then walk the same bytes without failing.
 * Error classes follow the spec text: v5 reserved option bits are Malformed
 * [MQTT-3.8.3-5] but QoS 3 and Retain Handling 3 are Protocol Errors
 * (§3.8.3.1 "It is a Protocol Error ..."), as is No Local on a shared
 * subscription [MQTT-3.8.3-4]; in 3.1.1 reserved bits and QoS 3 are both
 * malformed [MQTT-3-8.3-4]. No entries at all: Protocol Error
 * [MQTT-3.8.3-2] (3.1.1 [MQTT-3.8.3-3]).
 *
 * SUBACK (§3.9): Packet Identifier, Properties (v5), one reason code per
 * filter. 3.1.1 return codes are 0x00, 0x01, 0x02, 0x80 [MQTT-3.9.3-2]; the
 * encoder maps any v5 failure code (>= 0x80) to 0x80.
 * Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

enum {
	SO_QOS = 0x03,
	SO_NO_LOCAL = 0x04,
	SO_RAP = 0x08,
	SO_RH_SHIFT = 4,
	SO_V5_RESERVED = 0xc0,
	SO_V311_RESERVED = 0xfc,
};

static void opts_from_byte(uint8_t b, struct wmq_subopts *o)
{
	o->qos = (uint8_t)(b & SO_QOS);
	o->no_local = (b & SO_NO_LOCAL) != 0;
	o->retain_as_published = (b & SO_RAP) != 0;
	o->retain_handling = (uint8_t)((b >> SO_RH_SHIFT) & 3);
}

wmq_err wmq_mqtt_dec_subscribe(struct wmq_rd *r, bool v5, struct wmq_subscribe *sub, uint8_t *rc)
{
	WMQ_RD(wmq_rd_u16(r, &sub->packet_id), rc);
	/* [MQTT-2.2.1-3] a non-zero Packet Identifier */
	if (sub->packet_id == 0)
		WMQ_PROTO(rc);
	if (v5)
		WMQ_TRY_RC(wmq_props_decode(r, WMQ_SUBSCRIBE, false, &sub->props, rc));
	size_t start = r->pos;
	/* bounded: every entry consumes at least three bytes */
	while (wmq_rd_left(r) > 0) {
		struct wmq_bytes f, g, plain;
		uint8_t b;
		/* [MQTT-3.8.3-1] Topic Filters are UTF-8 Encoded Strings */
		WMQ_RD(wmq_rd_utf8(r, &f), rc);
		WMQ_RD(wmq_rd_u8(r, &b), rc);
		if (v5) {
			/* [MQTT-3.8.3-5] reserved bits 7-6 must be 0 */
			if (b & SO_V5_RESERVED)
				WMQ_MALFORMED(rc);
			struct wmq_subopts o;
			opts_from_byte(b, &o);
			/* §3.8.3.1: Maximum QoS 3 and Retain Handling 3 are
			 * Protocol Errors */
			if (o.qos == 3 || o.retain_handling == 3)
				WMQ_PROTO(rc);
			/* [MQTT-3.8.3-4] No Local on a shared subscription */
			if (o.no_local && wmq_topic_shared_split(f, &g, &plain))
				WMQ_PROTO(rc);
		} else {
			/* [MQTT-3-8.3-4] reserved bits 7-2 must be 0, QoS 0..2 */
			if ((b & SO_V311_RESERVED) || (b & SO_QOS) == 3)
				WMQ_MALFORMED(rc);
		}
		if (sub->count == UINT16_MAX)
			WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_IMPL_SPECIFIC);
		sub->count++;
	}
	/* [MQTT-3.8.3-2] at least one Topic Filter / options pair */
	if (sub->count == 0)
		WMQ_PROTO(rc);
	sub->entries = (struct wmq_bytes){r->p + start, r->pos - start};
	return WMQ_OK;
}

bool wmq_subscribe_next(const struct wmq_subscribe *s, size_t *pos, struct wmq_bytes *filter,
			struct wmq_subopts *opts)
{
	struct wmq_rd r = wmq_rd_make(s->entries.p, s->entries.len);
	struct wmq_bytes f;
	uint8_t b;
	if (*pos >= s->entries.len)
		return false;
	r.pos = *pos;
	/* validated at decode time; a caller-built buffer that does not parse
	 * simply ends the iteration */
	if (wmq_rd_bin(&r, &f) != WMQ_OK || wmq_rd_u8(&r, &b) != WMQ_OK) {
		*pos = s->entries.len;
		return false;
	}
	*filter = f;
	opts_from_byte(b, opts);
	*pos = r.pos;
	return true;
}

void wmq_subscribe_entry_encode(struct wmq_wr *w, uint8_t version, struct wmq_bytes filter,
				const struct wmq_subopts *opts)
{
	uint8_t b = (uint8_t)(opts->qos & SO_QOS);
	if (version == WMQ_V5) {
		if (opts->no_local)
			b |= SO_NO_LOCAL;
		if (opts->retain_as_published)
			b |= SO_RAP;
		b |= (uint8_t)((opts->retain_handling & 3) << SO_RH_SHIFT);
	}
	wmq_wr_bin(w, filter);
	wmq_wr_u8(w, b);
}

void wmq_mqtt_emit_subscribe(struct wmq_sink *s, bool v5, const struct wmq_subscribe *sub)
{
	wmq_sink_u16(s, sub->packet_id);
	if (v5)
		wmq_props_emit(s, &sub->props);
	wmq_sink_bytes(s, sub->entries.p, sub->entries.len);
}

/* Shared by SUBACK and UNSUBACK: packet id, properties, reason codes. */
static wmq_err dec_ack_list(struct wmq_rd *r, bool v5, uint8_t type, struct wmq_suback *a,
			    uint8_t *rc)
{
	struct wmq_bytes codes;
	WMQ_RD(wmq_rd_u16(r, &a->packet_id), rc);
	/* [MQTT-2.2.1-3] a non-zero Packet Identifier */
	if (a->packet_id == 0)
		WMQ_PROTO(rc);
	if (v5)
		WMQ_TRY_RC(wmq_props_decode(r, type, true, &a->props, rc));
	WMQ_RD(wmq_rd_bytes(r, wmq_rd_left(r), &codes), rc);
	/* §2.4: SUBACK and UNSUBACK carry one or more reason codes */
	if (codes.len == 0)
		WMQ_PROTO(rc);
	if (codes.len > UINT16_MAX)
		WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_IMPL_SPECIFIC);
	for (size_t i = 0; i < codes.len; i++) {
		uint8_t c = codes.p[i];
		if (v5) {
			/* [MQTT-3.9.3-1] / [MQTT-3.11.3-1]: this packet's codes */
			if (!wmq_mqtt_rc_valid(type, c, true))
				WMQ_PROTO(rc);
		} else if (c > 2 && c != 0x80) {
			/* [MQTT-3.9.3-2] (3.1.1) other return codes are reserved */
			WMQ_PROTO(rc);
		}
	}
	a->count = (uint16_t)codes.len;
	a->rcs = codes.p;
	return WMQ_OK;
}

wmq_err wmq_mqtt_dec_suback(struct wmq_rd *r, bool v5, struct wmq_suback *a, uint8_t *rc)
{
	return dec_ack_list(r, v5, WMQ_SUBACK, a, rc);
}

wmq_err wmq_mqtt_dec_unsuback(struct wmq_rd *r, bool v5, struct wmq_suback *a, uint8_t *rc)
{
	if (v5)
		return dec_ack_list(r, v5, WMQ_UNSUBACK, a, rc);
	/* 3.1.1 §3.11: Packet Identifier only, no payload */
	WMQ_RD(wmq_rd_u16(r, &a->packet_id), rc);
	if (a->packet_id == 0)
		WMQ_PROTO(rc);
	return WMQ_OK;
}

void wmq_mqtt_emit_suback(struct wmq_sink *s, bool v5, const struct wmq_suback *a)
{
	wmq_sink_u16(s, a->packet_id);
	if (v5) {
		wmq_props_emit(s, &a->props);
		wmq_sink_bytes(s, a->rcs, a->rcs ? a->count : 0);
		return;
	}
	for (size_t i = 0; a->rcs && i < a->count; i++) {
		uint8_t c = a->rcs[i];
		/* 3.1.1 §3.9.3: 0x00, 0x01, 0x02 granted QoS, 0x80 failure */
		wmq_sink_u8(s, c >= 0x80 ? 0x80 : c);
	}
}

void wmq_mqtt_emit_unsuback(struct wmq_sink *s, bool v5, const struct wmq_suback *a)
{
	wmq_sink_u16(s, a->packet_id);
	if (!v5)
		return; /* 3.1.1 UNSUBACK has no payload */
	wmq_props_emit(s, &a->props);
	wmq_sink_bytes(s, a->rcs, a->rcs ? a->count : 0);
}
