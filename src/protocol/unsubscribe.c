/* SPDX-License-Identifier: MIT
 * unsubscribe.c - UNSUBSCRIBE: decode, encode, entry iteration. (UNSUBACK
 * shares SUBACK's shape and lives in subscribe.c.)
 *
 * Layout (MQTT 5.0 §3.10, 3.1.1 §3.10):
 *   Variable Header: Packet Identifier, Properties (v5)
 *   Payload:         one or more Topic Filters (UTF-8)
 * Decode validates every filter's UTF-8 and counts them; filter syntax is
 * the caller's (wmq_topic_filter_valid) so it can answer per filter.
 * No filters: Protocol Error [MQTT-3.10.3-2]. Threading: reentrant. */
#include "protocol/codec.h"
#include "protocol/mqtt.h"

wmq_err wmq_mqtt_dec_unsubscribe(struct wmq_rd *r, bool v5, struct wmq_unsubscribe *u,
				 uint8_t *rc)
{
	WMQ_RD(wmq_rd_u16(r, &u->packet_id), rc);
	/* [MQTT-2.2.1-3] a non-zero Packet Identifier */
	if (u->packet_id == 0)
		WMQ_PROTO(rc);
	if (v5)
		WMQ_TRY_RC(wmq_props_decode(r, WMQ_UNSUBSCRIBE, false, &u->props, rc));
	size_t start = r->pos;
	/* bounded: every entry consumes at least two bytes */
	while (wmq_rd_left(r) > 0) {
		struct wmq_bytes f;
		/* [MQTT-3.10.3-1] Topic Filters are UTF-8 Encoded Strings */
		WMQ_RD(wmq_rd_utf8(r, &f), rc);
		if (u->count == UINT16_MAX)
			WMQ_FAIL_RC(rc, WMQ_ERR_PROTOCOL, WMQ_RC_IMPL_SPECIFIC);
		u->count++;
	}
	/* [MQTT-3.10.3-2] at least one Topic Filter */
	if (u->count == 0)
		WMQ_PROTO(rc);
	u->entries = (struct wmq_bytes){r->p + start, r->pos - start};
	return WMQ_OK;
}

bool wmq_unsubscribe_next(const struct wmq_unsubscribe *u, size_t *pos, struct wmq_bytes *filter)
{
	struct wmq_rd r = wmq_rd_make(u->entries.p, u->entries.len);
	struct wmq_bytes f;
	if (*pos >= u->entries.len)
		return false;
	r.pos = *pos;
	if (wmq_rd_bin(&r, &f) != WMQ_OK) {
		*pos = u->entries.len;
		return false;
	}
	*filter = f;
	*pos = r.pos;
	return true;
}

void wmq_mqtt_emit_unsubscribe(struct wmq_sink *s, bool v5, const struct wmq_unsubscribe *u)
{
	wmq_sink_u16(s, u->packet_id);
	if (v5)
		wmq_props_emit(s, &u->props);
	wmq_sink_bytes(s, u->entries.p, u->entries.len);
}
