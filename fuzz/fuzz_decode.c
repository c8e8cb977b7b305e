/* SPDX-License-Identifier: MIT
 * fuzz_decode.c - libFuzzer target for the MQTT packet codec.
 *
 * Input: byte 0 selects the connection (bits 1-0: protocol version 3, 4 or 5
 * as 0/1/2, 3 meaning 5; bit 2: packets come from the server; bits 7-3 pick
 * a property drop mask for wmq_props_filter), the rest is a byte stream that
 * is framed and decoded packet by packet, as a connection would. A decoded
 * CONNECT switches the version for the packets after it.
 *
 * For every packet that decodes, the target checks properties of the codec
 * that must hold for any input (a failure aborts, which libFuzzer reports):
 *   - the error result and *rc_out agree (MALFORMED <-> 0x81, PROTOCOL ->
 *     0x82/0x83/0x84/0x85), and success leaves *rc_out 0;
 *   - entry and property iterators visit exactly |count|/n_user/n_sub_ids
 *     items;
 *   - re-encoding (properties forwarded as raw blocks) writes exactly
 *     wmq_mqtt_encoded_len() bytes, decodes again, and re-encodes to the same
 *     bytes; the same holds encoding from the parsed fields (user properties
 *     and subscription ids through the |user| / |sub_ids| arrays) instead of
 *     the raw block; SUBSCRIBE entries re-encode to the same bytes;
 *   - wmq_props_filter() output is a valid block for the same packet type.
 * Each packet body is copied to a heap buffer of its exact size so ASan sees
 * any read past it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "protocol/mqtt.h"
#include "fuzz.h"

struct blocks {
	struct wmq_props *p[2];
	int ptype[2];
	size_t n;
};

static void blocks_of(struct wmq_pkt *pkt, struct blocks *b)
{
	b->n = 0;
	switch (pkt->type) {
	case WMQ_CONNECT:
		b->p[0] = &pkt->u.connect.props;
		b->ptype[0] = WMQ_CONNECT;
		b->p[1] = &pkt->u.connect.will_props;
		b->ptype[1] = WMQ_PTYPE_WILL;
		b->n = 2;
		return;
	case WMQ_CONNACK:
		b->p[0] = &pkt->u.connack.props;
		break;
	case WMQ_PUBLISH:
		b->p[0] = &pkt->u.publish.props;
		break;
	case WMQ_PUBACK:
	case WMQ_PUBREC:
	case WMQ_PUBREL:
	case WMQ_PUBCOMP:
		b->p[0] = &pkt->u.ack.props;
		break;
	case WMQ_SUBSCRIBE:
		b->p[0] = &pkt->u.subscribe.props;
		break;
	case WMQ_SUBACK:
	case WMQ_UNSUBACK:
		b->p[0] = &pkt->u.suback.props;
		break;
	case WMQ_UNSUBSCRIBE:
		b->p[0] = &pkt->u.unsubscribe.props;
		break;
	case WMQ_DISCONNECT:
		b->p[0] = &pkt->u.disconnect.props;
		break;
	case WMQ_AUTH:
		b->p[0] = &pkt->u.auth.props;
		break;
	default:
		return;
	}
	b->ptype[0] = pkt->type;
	b->n = 1;
}

static void check_props(const struct wmq_props *p, int ptype, bool from_server, uint64_t drop)
{
	size_t pos = 0, n = 0;
	struct wmq_bytes k, v;
	/* bounded: an iterator step consumes at least one byte of raw */
	while (n <= p->raw.len && wmq_props_next_user(p, &pos, &k, &v))
		n++;
	CHECK(n == p->n_user);
	uint32_t id;
	pos = 0;
	n = 0;
	while (n <= p->raw.len && wmq_props_next_sub_id(p, &pos, &id)) {
		CHECK(id != 0);
		if (n == 0)
			CHECK(id == p->sub_id);
		n++;
	}
	CHECK(n == p->n_sub_ids);

	/* filtering a valid block leaves a valid block */
	size_t flen = wmq_props_filter(p->raw, drop, NULL);
	CHECK(flen <= p->raw.len);
	uint8_t *buf = wmq_malloc(flen + 4);
	CHECK(buf != NULL);
	struct wmq_wr w = wmq_wr_make(buf, flen + 4);
	wmq_wr_varint(&w, (uint32_t)flen);
	CHECK(wmq_props_filter(p->raw, drop, &w) == flen);
	CHECK(wmq_wr_finish(&w) == WMQ_OK);
	struct wmq_rd r = wmq_rd_make(buf, w.pos);
	struct wmq_props q;
	uint8_t rc;
	CHECK(wmq_props_decode(&r, ptype, from_server, &q, &rc) == WMQ_OK);
	CHECK(wmq_rd_left(&r) == 0);
	CHECK((q.present & drop) == 0);
	CHECK((q.present | drop) == (p->present | drop));
	wmq_free(buf);
}

static void check_entries(uint8_t ver, const struct wmq_pkt *pkt)
{
	size_t pos = 0, n = 0;
	struct wmq_bytes f;
	if (pkt->type == WMQ_SUBSCRIBE) {
		struct wmq_subopts o;
		/* re-encoding every entry gives back the same bytes */
		size_t cap = pkt->u.subscribe.entries.len;
		uint8_t *buf = wmq_malloc(cap ? cap : 1);
		CHECK(buf != NULL);
		struct wmq_wr w = wmq_wr_make(buf, cap);
		while (n <= pkt->u.subscribe.entries.len &&
		       wmq_subscribe_next(&pkt->u.subscribe, &pos, &f, &o)) {
			CHECK(o.qos < 3 && o.retain_handling < 3);
			if (ver != WMQ_V5)
				CHECK(!o.no_local && !o.retain_as_published && !o.retain_handling);
			(void)wmq_topic_filter_valid(f);
			wmq_subscribe_entry_encode(&w, ver, f, &o);
			n++;
		}
		CHECK(n == pkt->u.subscribe.count && n > 0);
		CHECK(wmq_wr_finish(&w) == WMQ_OK && w.pos == cap);
		CHECK(memcmp(buf, pkt->u.subscribe.entries.p, cap) == 0);
		wmq_free(buf);
	} else if (pkt->type == WMQ_UNSUBSCRIBE) {
		while (n <= pkt->u.unsubscribe.entries.len &&
		       wmq_unsubscribe_next(&pkt->u.unsubscribe, &pos, &f)) {
			(void)wmq_topic_filter_valid(f);
			n++;
		}
		CHECK(n == pkt->u.unsubscribe.count && n > 0);
	} else if (pkt->type == WMQ_PUBLISH && pkt->u.publish.topic.len) {
		CHECK(wmq_topic_name_valid(pkt->u.publish.topic));
	}
}

/* Encode |pkt|, check the size, decode it back into |out| (whose slices
 * point into the returned buffer; the caller frees it). */
static uint8_t *reencode(uint8_t ver, bool from_server, const struct wmq_pkt *pkt,
			 struct wmq_pkt *out, size_t *len_out)
{
	size_t len = wmq_mqtt_encoded_len(ver, pkt);
	CHECK(len >= 2);
	uint8_t *buf = wmq_malloc(len);
	CHECK(buf != NULL);
	struct wmq_wr w = wmq_wr_make(buf, len);
	CHECK(wmq_mqtt_encode(&w, ver, pkt) == WMQ_OK);
	CHECK(w.pos == len);
	uint8_t first, rc = 0xff;
	uint32_t body;
	size_t hdr;
	CHECK(wmq_mqtt_frame(buf, len, &first, &body, &hdr) == WMQ_OK);
	CHECK(hdr + body == len);
	CHECK(wmq_mqtt_decode(ver, from_server, first, buf + hdr, body, out, &rc) == WMQ_OK);
	CHECK(rc == 0);
	CHECK(out->type == pkt->type);
	*len_out = len;
	return buf;
}

#define MAX_ARR 64

/* Arrays for the fields form of one property block. */
struct arrays {
	struct wmq_user_prop up[MAX_ARR];
	uint32_t ids[MAX_ARR];
};

/* Rewrite decoded |p| into an encodable form: raw only, or fields with the
 * user properties and subscription ids copied into |a|. False when there are
 * too many of them for |a|. */
static bool to_form(struct wmq_props *p, bool fields, struct arrays *a)
{
	if (!fields) {
		struct wmq_bytes raw = p->raw;
		memset(p, 0, sizeof *p);
		p->raw = raw;
		return true;
	}
	if (p->n_user > MAX_ARR || p->n_sub_ids > MAX_ARR)
		return false;
	size_t pos = 0, n = 0;
	while (n < p->n_user && wmq_props_next_user(p, &pos, &a->up[n].key, &a->up[n].value))
		n++;
	CHECK(n == p->n_user);
	pos = 0;
	n = 0;
	while (n < p->n_sub_ids && wmq_props_next_sub_id(p, &pos, &a->ids[n]))
		n++;
	CHECK(n == p->n_sub_ids);
	p->user = p->n_user ? a->up : NULL;
	p->sub_ids = p->n_sub_ids ? a->ids : NULL;
	p->raw = (struct wmq_bytes){NULL, 0};
	return true;
}

/* Encode twice through decode and compare: encode(decode(encode(x))) ==
 * encode(x). |fields| selects the fields form, otherwise the raw form. */
static void check_roundtrip(uint8_t ver, bool from_server, const struct wmq_pkt *orig, bool fields)
{
	struct arrays arr[2][2]; /* [pass][block] */
	struct wmq_pkt a = *orig, b, c;
	struct blocks bl;
	blocks_of(&a, &bl);
	for (size_t i = 0; i < bl.n; i++)
		if (!to_form(bl.p[i], fields, &arr[0][i]))
			return;
	size_t l1, l2;
	uint8_t *e1 = reencode(ver, from_server, &a, &b, &l1);
	/* same form again from the decoded copy */
	blocks_of(&b, &bl);
	for (size_t i = 0; i < bl.n; i++)
		CHECK(to_form(bl.p[i], fields, &arr[1][i]));
	uint8_t *e2 = reencode(ver, from_server, &b, &c, &l2);
	CHECK(l1 == l2 && memcmp(e1, e2, l1) == 0);
	/* the properties survived */
	struct blocks bo, bc;
	struct wmq_pkt o = *orig;
	blocks_of(&o, &bo);
	blocks_of(&c, &bc);
	CHECK(bo.n == bc.n);
	for (size_t i = 0; i < bo.n; i++) {
		CHECK(bo.p[i]->present == bc.p[i]->present);
		CHECK(bo.p[i]->n_user == bc.p[i]->n_user);
		CHECK(bo.p[i]->n_sub_ids == bc.p[i]->n_sub_ids);
	}
	wmq_free(e1);
	wmq_free(e2);
}

static void check_packet(uint8_t ver, bool from_server, struct wmq_pkt *pkt, uint64_t drop)
{
	struct blocks bl;
	uint8_t enc_ver = pkt->type == WMQ_CONNECT ? pkt->u.connect.version : ver;
	check_entries(enc_ver, pkt);
	blocks_of(pkt, &bl);
	for (size_t i = 0; i < bl.n; i++) {
		bool fs = pkt->type == WMQ_CONNECT ? false : from_server;
		check_props(bl.p[i], bl.ptype[i], fs, drop);
	}
	check_roundtrip(enc_ver, from_server, pkt, false);
	check_roundtrip(enc_ver, from_server, pkt, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const uint8_t versions[4] = {WMQ_V31, WMQ_V311, WMQ_V5, WMQ_V5};
	uint8_t sel = data[0];
	uint8_t ver = versions[sel & 3];
	bool from_server = (sel & 4) != 0;
	/* five selectable properties to drop in the filter check */
	static const uint8_t drop_ids[5] = {WMQ_PROP_TOPIC_ALIAS, WMQ_PROP_SUB_ID, WMQ_PROP_USER,
					    WMQ_PROP_REASON_STRING, WMQ_PROP_AUTH_DATA};
	uint64_t drop = 0;
	for (unsigned i = 0; i < 5; i++)
		if (sel & (8u << i))
			drop |= WMQ_PROP_BIT(drop_ids[i]);

	const uint8_t *p = data + 1;
	size_t left = size - 1;
	/* bounded: each packet consumes at least two bytes */
	while (left > 0) {
		uint8_t first;
		uint32_t body_len;
		size_t hdr;
		if (wmq_mqtt_frame(p, left, &first, &body_len, &hdr) != WMQ_OK)
			break;
		CHECK(hdr >= 2 && hdr <= 5);
		if (body_len > left - hdr)
			break;
		uint8_t *body = wmq_malloc(body_len ? body_len : 1);
		CHECK(body != NULL);
		memcpy(body, p + hdr, body_len);
		struct wmq_pkt pkt;
		uint8_t rc = 0xee;
		wmq_err e = wmq_mqtt_decode(ver, from_server, first, body, body_len, &pkt, &rc);
		if (e == WMQ_OK) {
			CHECK(rc == 0);
			CHECK(pkt.type == first >> 4);
			check_packet(ver, from_server, &pkt, drop);
			if (pkt.type == WMQ_CONNECT)
				ver = pkt.u.connect.version;
		} else if (e == WMQ_ERR_MALFORMED) {
			CHECK(rc == WMQ_RC_MALFORMED);
		} else {
			CHECK(e == WMQ_ERR_PROTOCOL);
			CHECK(rc == WMQ_RC_PROTOCOL_ERROR || rc == WMQ_RC_IMPL_SPECIFIC ||
			      rc == WMQ_RC_UNSUPPORTED_VERSION || rc == WMQ_RC_CLIENT_ID_INVALID);
		}
		wmq_free(body);
		p += hdr + body_len;
		left -= hdr + body_len;
	}
	return 0;
}
