/* SPDX-License-Identifier: MIT
 * props.c - MQTT 5 properties: decode with validation, iterate, encode,
 * filter.
 *
 * Role: one const table (MQTT 5.0 §2.2.2.2, Table 2-4) says for each
 * property identifier its data type, where its value lives in struct
 * wmq_props, which packets may carry it and which value-range rule applies.
 * Decoding, encoding, iterating and filtering are all driven by it.
 *
 * Error classes (MQTT 5.0 §2.2.2.2, §4.13):
 *   - unknown identifier, identifier not valid for the packet type, value not
 *     of its data type (bad UTF-8, truncated), block longer than the packet:
 *     WMQ_ERR_MALFORMED / 0x81;
 *   - a property included twice that may appear once, a value outside its
 *     range: WMQ_ERR_PROTOCOL / 0x82;
 *   - more than 65535 user properties or subscription identifiers (our
 *     counters are 16 bits): WMQ_ERR_PROTOCOL / 0x83 implementation specific.
 * Threading: reentrant. */
#include <stddef.h>
#include <string.h>

#include "protocol/codec.h"
#include "protocol/mqtt.h"

enum prop_kind {
	K_NONE = 0, /* not a property identifier */
	K_BYTE,
	K_U16,
	K_U32,
	K_VARINT,
	K_UTF8,
	K_BIN,
	K_PAIR, /* UTF-8 string pair */
};

enum prop_range {
	R_ANY = 0,
	R_BOOL,    /* 0 or 1 */
	R_NONZERO, /* != 0 */
	R_TOPIC,   /* a valid Topic Name */
};

struct prop_def {
	uint8_t kind;   /* enum prop_kind */
	uint8_t range;  /* enum prop_range */
	uint16_t off;   /* offset of the value in struct wmq_props */
	uint32_t where; /* bit (1 << ptype) per packet type, WMQ_PTYPE_WILL included */
};

#define W(t) ((uint32_t)1 << (t))
#define OFF(f) ((uint16_t)offsetof(struct wmq_props, f))
#define W_PUB_WILL (W(WMQ_PUBLISH) | W(WMQ_PTYPE_WILL))
#define W_ALL_BUT_PING                                                                             \
	(W(WMQ_CONNECT) | W(WMQ_CONNACK) | W(WMQ_PUBLISH) | W(WMQ_PTYPE_WILL) | W(WMQ_PUBACK) |    \
	 W(WMQ_PUBREC) | W(WMQ_PUBREL) | W(WMQ_PUBCOMP) | W(WMQ_SUBSCRIBE) | W(WMQ_SUBACK) |      \
	 W(WMQ_UNSUBSCRIBE) | W(WMQ_UNSUBACK) | W(WMQ_DISCONNECT) | W(WMQ_AUTH))

/* MQTT 5.0 §2.2.2.2 Table 2-4, "Name / Type / Packet / Will Properties". */
static const struct prop_def defs[64] = {
	[WMQ_PROP_PAYLOAD_FORMAT] = {K_BYTE, R_BOOL, OFF(payload_format), W_PUB_WILL},
	[WMQ_PROP_MESSAGE_EXPIRY] = {K_U32, R_ANY, OFF(message_expiry), W_PUB_WILL},
	[WMQ_PROP_CONTENT_TYPE] = {K_UTF8, R_ANY, OFF(content_type), W_PUB_WILL},
	/* [MQTT-3.3.2-14] the Response Topic must not contain wildcards */
	[WMQ_PROP_RESPONSE_TOPIC] = {K_UTF8, R_TOPIC, OFF(response_topic), W_PUB_WILL},
	[WMQ_PROP_CORRELATION_DATA] = {K_BIN, R_ANY, OFF(correlation_data), W_PUB_WILL},
	/* §3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error */
	[WMQ_PROP_SUB_ID] = {K_VARINT, R_NONZERO, OFF(sub_id), W(WMQ_PUBLISH) | W(WMQ_SUBSCRIBE)},
	[WMQ_PROP_SESSION_EXPIRY] = {K_U32, R_ANY, OFF(session_expiry),
				     W(WMQ_CONNECT) | W(WMQ_CONNACK) | W(WMQ_DISCONNECT)},
	[WMQ_PROP_ASSIGNED_CLIENT_ID] = {K_UTF8, R_ANY, OFF(assigned_client_id), W(WMQ_CONNACK)},
	[WMQ_PROP_SERVER_KEEP_ALIVE] = {K_U16, R_ANY, OFF(server_keep_alive), W(WMQ_CONNACK)},
	[WMQ_PROP_AUTH_METHOD] = {K_UTF8, R_ANY, OFF(auth_method),
				  W(WMQ_CONNECT) | W(WMQ_CONNACK) | W(WMQ_AUTH)},
	[WMQ_PROP_AUTH_DATA] = {K_BIN, R_ANY, OFF(auth_data),
				W(WMQ_CONNECT) | W(WMQ_CONNACK) | W(WMQ_AUTH)},
	/* §3.1.2.11.7: a value other than 0 or 1 is a Protocol Error */
	[WMQ_PROP_REQUEST_PROBLEM_INFO] = {K_BYTE, R_BOOL, OFF(request_problem_info),
					   W(WMQ_CONNECT)},
	[WMQ_PROP_WILL_DELAY] = {K_U32, R_ANY, OFF(will_delay), W(WMQ_PTYPE_WILL)},
	/* §3.1.2.11.6: a value other than 0 or 1 is a Protocol Error */
	[WMQ_PROP_REQUEST_RESPONSE_INFO] = {K_BYTE, R_BOOL, OFF(request_response_info),
					    W(WMQ_CONNECT)},
	[WMQ_PROP_RESPONSE_INFO] = {K_UTF8, R_ANY, OFF(response_info), W(WMQ_CONNACK)},
	[WMQ_PROP_SERVER_REFERENCE] = {K_UTF8, R_ANY, OFF(server_reference),
				       W(WMQ_CONNACK) | W(WMQ_DISCONNECT)},
	[WMQ_PROP_REASON_STRING] = {K_UTF8, R_ANY, OFF(reason_string),
				    W(WMQ_CONNACK) | W(WMQ_PUBACK) | W(WMQ_PUBREC) | W(WMQ_PUBREL) |
					    W(WMQ_PUBCOMP) | W(WMQ_SUBACK) | W(WMQ_UNSUBACK) |
					    W(WMQ_DISCONNECT) | W(WMQ_AUTH)},
	/* §3.1.2.11.3 / §3.2.2.3.3: a Receive Maximum of 0 is a Protocol Error */
	[WMQ_PROP_RECEIVE_MAX] = {K_U16, R_NONZERO, OFF(receive_max),
				  W(WMQ_CONNECT) | W(WMQ_CONNACK)},
	[WMQ_PROP_TOPIC_ALIAS_MAX] = {K_U16, R_ANY, OFF(topic_alias_max),
				      W(WMQ_CONNECT) | W(WMQ_CONNACK)},
	/* §3.3.2.3.4: a Topic Alias of 0 is not permitted */
	/* 0 is invalid, but the receiver answers it with 0x94 Topic Alias
	 * invalid (MQTT 5.0 §3.3.2.3.4), not 0x82: the packet handler checks it
	 * together with the Topic Alias Maximum. */
	[WMQ_PROP_TOPIC_ALIAS] = {K_U16, R_ANY, OFF(topic_alias), W(WMQ_PUBLISH)},
	/* §3.2.2.3.4: a Maximum QoS other than 0 or 1 is a Protocol Error */
	[WMQ_PROP_MAX_QOS] = {K_BYTE, R_BOOL, OFF(max_qos), W(WMQ_CONNACK)},
	[WMQ_PROP_RETAIN_AVAILABLE] = {K_BYTE, R_BOOL, OFF(retain_available), W(WMQ_CONNACK)},
	[WMQ_PROP_USER] = {K_PAIR, R_ANY, 0, W_ALL_BUT_PING},
	/* §3.1.2.11.4 / §3.2.2.3.6: a Maximum Packet Size of 0 is a Protocol Error */
	[WMQ_PROP_MAX_PACKET_SIZE] = {K_U32, R_NONZERO, OFF(max_packet_size),
				      W(WMQ_CONNECT) | W(WMQ_CONNACK)},
	[WMQ_PROP_WILDCARD_SUB_AVAILABLE] = {K_BYTE, R_BOOL, OFF(wildcard_sub_available),
					     W(WMQ_CONNACK)},
	[WMQ_PROP_SUB_ID_AVAILABLE] = {K_BYTE, R_BOOL, OFF(sub_id_available), W(WMQ_CONNACK)},
	[WMQ_PROP_SHARED_SUB_AVAILABLE] = {K_BYTE, R_BOOL, OFF(shared_sub_available),
					   W(WMQ_CONNACK)},
};

static const struct prop_def *def_of(uint32_t id)
{
	if (id >= WMQ_ARRAY_LEN(defs) || defs[id].kind == K_NONE)
		return NULL;
	return &defs[id];
}

/* Parse one property at |b|: its identifier and a sub-reader over its value.
 * Values are checked for shape only (lengths), not UTF-8. False when the
 * bytes do not parse; |b| is then left where it was. */
static bool prop_step(struct wmq_rd *b, uint32_t *id, struct wmq_rd *val)
{
	struct wmq_rd t = *b;
	uint32_t pid;
	size_t start;
	if (wmq_rd_varint(&t, &pid) != WMQ_OK)
		return false;
	const struct prop_def *d = def_of(pid);
	if (!d)
		return false;
	start = t.pos;
	switch (d->kind) {
	case K_BYTE:
		t.pos += 1;
		break;
	case K_U16:
		t.pos += 2;
		break;
	case K_U32:
		t.pos += 4;
		break;
	case K_VARINT: {
		uint32_t v;
		if (wmq_rd_varint(&t, &v) != WMQ_OK)
			return false;
		break;
	}
	case K_UTF8:
	case K_BIN:
	case K_PAIR: {
		struct wmq_bytes x;
		if (wmq_rd_bin(&t, &x) != WMQ_OK)
			return false;
		if (d->kind == K_PAIR && wmq_rd_bin(&t, &x) != WMQ_OK)
			return false;
		break;
	}
	default:
		return false;
	}
	/* fixed-size kinds advanced blindly: check they stayed in bounds */
	if (t.pos > t.len || t.pos < start)
		return false;
	*val = wmq_rd_make(t.p + start, t.pos - start);
	*id = pid;
	b->pos = t.pos;
	return true;
}

static void store_u8(struct wmq_props *p, uint16_t off, uint8_t v)
{
	memcpy((unsigned char *)p + off, &v, sizeof v);
}
static void store_u16(struct wmq_props *p, uint16_t off, uint16_t v)
{
	memcpy((unsigned char *)p + off, &v, sizeof v);
}
static void store_u32(struct wmq_props *p, uint16_t off, uint32_t v)
{
	memcpy((unsigned char *)p + off, &v, sizeof v);
}
static void store_bytes(struct wmq_props *p, uint16_t off, struct wmq_bytes v)
{
	memcpy((unsigned char *)p + off, &v, sizeof v);
}

wmq_err wmq_props_decode(struct wmq_rd *r, int ptype, bool from_server, struct wmq_props *out,
			 uint8_t *rc_out)
{
	uint32_t n;
	struct wmq_rd b;
	memset(out, 0, sizeof *out);
	*rc_out = WMQ_RC_SUCCESS;
	if (ptype < 0 || ptype > WMQ_PTYPE_WILL)
		WMQ_FAIL_RC(rc_out, WMQ_ERR_INVAL, WMQ_RC_IMPL_SPECIFIC);
	WMQ_RD(wmq_rd_varint(r, &n), rc_out);
	/* a Property Length running past the packet is a Malformed Packet */
	WMQ_RD(wmq_rd_sub(r, n, &b), rc_out);
	out->raw = (struct wmq_bytes){b.p, b.len};

	while (wmq_rd_left(&b) > 0) {
		uint32_t id;
		WMQ_RD(wmq_rd_varint(&b, &id), rc_out);
		const struct prop_def *d = def_of(id);
		/* §2.2.2.2: an identifier unknown or not valid for the packet
		 * type is a Malformed Packet */
		if (!d || !(d->where & W(ptype)))
			WMQ_MALFORMED(rc_out);
		bool dup = (out->present & WMQ_PROP_BIT(id)) != 0;
		/* §2.2.2.2 and each property's text: including it more than
		 * once is a Protocol Error, except User Property and (§3.3.2.3.8)
		 * Subscription Identifiers in a PUBLISH from the Server. */
		if (dup && id != WMQ_PROP_USER &&
		    !(id == WMQ_PROP_SUB_ID && ptype == WMQ_PUBLISH && from_server))
			WMQ_PROTO(rc_out);
		out->present |= WMQ_PROP_BIT(id);

		uint32_t num = 0;
		struct wmq_bytes s = {NULL, 0};
		switch (d->kind) {
		case K_BYTE: {
			uint8_t v;
			WMQ_RD(wmq_rd_u8(&b, &v), rc_out);
			num = v;
			store_u8(out, d->off, v);
			break;
		}
		case K_U16: {
			uint16_t v;
			WMQ_RD(wmq_rd_u16(&b, &v), rc_out);
			num = v;
			store_u16(out, d->off, v);
			break;
		}
		case K_U32:
			WMQ_RD(wmq_rd_u32(&b, &num), rc_out);
			store_u32(out, d->off, num);
			break;
		case K_VARINT: /* only the Subscription Identifier */
			WMQ_RD(wmq_rd_varint(&b, &num), rc_out);
			if (!dup)
				store_u32(out, d->off, num);
			if (out->n_sub_ids == UINT16_MAX)
				WMQ_FAIL_RC(rc_out, WMQ_ERR_PROTOCOL, WMQ_RC_IMPL_SPECIFIC);
			out->n_sub_ids++;
			break;
		case K_UTF8:
			/* [MQTT-1.5.4-1] [MQTT-1.5.4-2] well-formed UTF-8 */
			WMQ_RD(wmq_rd_utf8(&b, &s), rc_out);
			store_bytes(out, d->off, s);
			break;
		case K_BIN:
			WMQ_RD(wmq_rd_bin(&b, &s), rc_out);
			store_bytes(out, d->off, s);
			break;
		case K_PAIR: {
			struct wmq_bytes k, v;
			WMQ_RD(wmq_rd_utf8(&b, &k), rc_out);
			WMQ_RD(wmq_rd_utf8(&b, &v), rc_out);
			if (out->n_user == UINT16_MAX)
				WMQ_FAIL_RC(rc_out, WMQ_ERR_PROTOCOL, WMQ_RC_IMPL_SPECIFIC);
			out->n_user++;
			break;
		}
		default:
			WMQ_MALFORMED(rc_out);
		}

		switch (d->range) {
		case R_BOOL:
			if (num > 1)
				WMQ_PROTO(rc_out);
			break;
		case R_NONZERO:
			if (num == 0)
				WMQ_PROTO(rc_out);
			break;
		case R_TOPIC:
			if (!wmq_topic_name_valid(s))
				WMQ_PROTO(rc_out);
			break;
		default:
			break;
		}
	}
	/* §3.1.2.11.10, §3.15.2.2.3: Authentication Data without an
	 * Authentication Method is a Protocol Error */
	if ((ptype == WMQ_CONNECT || ptype == WMQ_AUTH) &&
	    wmq_props_has(out, WMQ_PROP_AUTH_DATA) && !wmq_props_has(out, WMQ_PROP_AUTH_METHOD))
		WMQ_PROTO(rc_out);
	return WMQ_OK;
}

bool wmq_props_next_user(const struct wmq_props *p, size_t *pos, struct wmq_bytes *k,
			 struct wmq_bytes *v)
{
	if (p->n_user == 0 || *pos >= p->raw.len)
		return false;
	struct wmq_rd b = wmq_rd_make(p->raw.p, p->raw.len);
	b.pos = *pos;
	/* bounded: every step consumes at least one byte of |raw| */
	while (wmq_rd_left(&b) > 0) {
		uint32_t id;
		struct wmq_rd val;
		if (!prop_step(&b, &id, &val))
			break;
		if (id != WMQ_PROP_USER)
			continue;
		struct wmq_bytes kk, vv;
		if (wmq_rd_bin(&val, &kk) != WMQ_OK || wmq_rd_bin(&val, &vv) != WMQ_OK)
			break;
		*k = kk;
		*v = vv;
		*pos = b.pos;
		return true;
	}
	*pos = p->raw.len;
	return false;
}

bool wmq_props_next_sub_id(const struct wmq_props *p, size_t *pos, uint32_t *id_out)
{
	if (p->n_sub_ids == 0 || *pos >= p->raw.len)
		return false;
	struct wmq_rd b = wmq_rd_make(p->raw.p, p->raw.len);
	b.pos = *pos;
	while (wmq_rd_left(&b) > 0) {
		uint32_t id, v;
		struct wmq_rd val;
		if (!prop_step(&b, &id, &val))
			break;
		if (id != WMQ_PROP_SUB_ID)
			continue;
		if (wmq_rd_varint(&val, &v) != WMQ_OK)
			break;
		*id_out = v;
		*pos = b.pos;
		return true;
	}
	*pos = p->raw.len;
	return false;
}

/* The property body (no length prefix) through a sink. */
static void props_body(struct wmq_sink *s, const struct wmq_props *p)
{
	for (uint32_t id = 1; id < WMQ_ARRAY_LEN(defs); id++) {
		const struct prop_def *d = &defs[id];
		if (d->kind == K_NONE || !(p->present & WMQ_PROP_BIT(id)))
			continue;
		/* user properties and subscription ids come from their arrays */
		if (id == WMQ_PROP_USER || id == WMQ_PROP_SUB_ID)
			continue;
		const unsigned char *f = (const unsigned char *)p + d->off;
		wmq_sink_u8(s, (uint8_t)id);
		switch (d->kind) {
		case K_BYTE: {
			uint8_t v;
			memcpy(&v, f, sizeof v);
			wmq_sink_u8(s, v);
			break;
		}
		case K_U16: {
			uint16_t v;
			memcpy(&v, f, sizeof v);
			wmq_sink_u16(s, v);
			break;
		}
		case K_U32: {
			uint32_t v;
			memcpy(&v, f, sizeof v);
			wmq_sink_u32(s, v);
			break;
		}
		case K_UTF8:
		case K_BIN: {
			struct wmq_bytes v;
			memcpy(&v, f, sizeof v);
			wmq_sink_bin(s, v);
			break;
		}
		default:
			break;
		}
	}
	if (p->sub_ids) {
		for (size_t i = 0; i < p->n_sub_ids; i++) {
			wmq_sink_u8(s, WMQ_PROP_SUB_ID);
			wmq_sink_varint(s, p->sub_ids[i]);
		}
	}
	if (p->user) {
		for (size_t i = 0; i < p->n_user; i++) {
			wmq_sink_u8(s, WMQ_PROP_USER);
			wmq_sink_bin(s, p->user[i].key);
			wmq_sink_bin(s, p->user[i].value);
		}
	}
	if (p->raw.len)
		wmq_sink_bytes(s, p->raw.p, p->raw.len);
}

size_t wmq_props_len(const struct wmq_props *p)
{
	struct wmq_sink s = {NULL, 0};
	props_body(&s, p);
	return s.n;
}

void wmq_props_emit(struct wmq_sink *s, const struct wmq_props *p)
{
	size_t n = wmq_props_len(p);
	/* a block too large for a Variable Byte Integer overflows the writer */
	wmq_sink_varint(s, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
	props_body(s, p);
}

void wmq_props_encode(struct wmq_wr *w, const struct wmq_props *p)
{
	struct wmq_sink s = {w, 0};
	wmq_props_emit(&s, p);
}

size_t wmq_props_filter(struct wmq_bytes raw, uint64_t drop_mask, struct wmq_wr *w)
{
	struct wmq_rd b = wmq_rd_make(raw.p, raw.len);
	size_t n = 0;
	if (raw.len == 0)
		return 0;
	/* bounded: each step consumes at least one byte; stops at the first
	 * property that does not parse (raw is normally a decoded block) */
	while (wmq_rd_left(&b) > 0) {
		size_t start = b.pos;
		uint32_t id;
		struct wmq_rd val;
		if (!prop_step(&b, &id, &val))
			break;
		if (id < 64 && (drop_mask & WMQ_PROP_BIT(id)))
			continue;
		n += b.pos - start;
		if (w)
			wmq_wr_bytes(w, raw.p + start, b.pos - start);
	}
	return n;
}
