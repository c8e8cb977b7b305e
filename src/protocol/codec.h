/* SPDX-License-Identifier: MIT
 * codec.h - private to src/protocol: the per-packet decoders and body
 * emitters that frame.c dispatches to, the size-counting sink, and the
 * reason-code validity tables.
 *
 * Role: every packet family file (connect.c, publish.c, ...) exports one
 * decoder and one emitter through this header; nothing outside the module
 * includes it. Emitters write through a struct wmq_sink, which either counts
 * bytes (w == NULL) or counts and writes, so wmq_mqtt_encoded_len() and
 * wmq_mqtt_encode() run the very same code and cannot disagree.
 * Threading: reentrant, no state. */
#ifndef WMQ_PROTOCOL_CODEC_H
#define WMQ_PROTOCOL_CODEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "protocol/mqtt.h"

/* Fail the current decoder with internal error |e| and wire reason |rc|. */
#define WMQ_FAIL_RC(rcp, e, rc)                                                                    \
	do {                                                                                       \
		*(rcp) = (uint8_t)(rc);                                                            \
		WMQ_BAIL(e);                                                                       \
	} while (0)
#define WMQ_MALFORMED(rcp) WMQ_FAIL_RC(rcp, WMQ_ERR_MALFORMED, WMQ_RC_MALFORMED)
#define WMQ_PROTO(rcp) WMQ_FAIL_RC(rcp, WMQ_ERR_PROTOCOL, WMQ_RC_PROTOCOL_ERROR)
/* A reader call that fails means the bytes do not parse: Malformed Packet. */
#define WMQ_RD(x, rcp)                                                                             \
	do {                                                                                       \
		if ((x) != WMQ_OK) {                                                               \
			*(rcp) = WMQ_RC_MALFORMED;                                                 \
			return WMQ_ERR_MALFORMED;                                                  \
		}                                                                                  \
	} while (0)
/* Propagate an error whose *rc_out is already set. */
#define WMQ_TRY_RC(x) WMQ_TRY(x)

/* A byte sink: counts always, writes when |w| is non-NULL. */
struct wmq_sink {
	struct wmq_wr *w; /* NULL: count only */
	size_t n;         /* bytes emitted so far */
};

static inline void wmq_sink_u8(struct wmq_sink *s, uint8_t v)
{
	s->n += 1;
	if (s->w)
		wmq_wr_u8(s->w, v);
}
static inline void wmq_sink_u16(struct wmq_sink *s, uint16_t v)
{
	s->n += 2;
	if (s->w)
		wmq_wr_u16(s->w, v);
}
static inline void wmq_sink_u32(struct wmq_sink *s, uint32_t v)
{
	s->n += 4;
	if (s->w)
		wmq_wr_u32(s->w, v);
}
/* Values above 268435455 count as 4 bytes and make the writer overflow. */
static inline void wmq_sink_varint(struct wmq_sink *s, uint32_t v)
{
	size_t n = wmq_varint_len(v);
	s->n += n ? n : 4;
	if (s->w)
		wmq_wr_varint(s->w, v);
}
static inline void wmq_sink_bytes(struct wmq_sink *s, const void *p, size_t n)
{
	s->n += n;
	if (s->w)
		wmq_wr_bytes(s->w, p, n);
}
/* Two Byte Integer length + bytes; a length above 65535 overflows the writer. */
static inline void wmq_sink_bin(struct wmq_sink *s, struct wmq_bytes b)
{
	s->n += 2 + b.len;
	if (s->w)
		wmq_wr_bin(s->w, b);
}

/* Property block (length prefix included) through a sink. */
void wmq_props_emit(struct wmq_sink *s, const struct wmq_props *p);

/* Decoders: |r| spans exactly the packet body; |flags| is the low nibble of
 * the fixed header, already checked by the dispatcher except for PUBLISH.
 * Each sets *rc on failure. */
WMQ_MUST_USE wmq_err wmq_mqtt_dec_connect(struct wmq_rd *r, struct wmq_connect *out, uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_connack(struct wmq_rd *r, bool v5, struct wmq_connack *out,
					  uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_publish(struct wmq_rd *r, bool v5, bool from_server,
					  uint8_t flags, struct wmq_publish *out, uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_ack(struct wmq_rd *r, bool v5, bool from_server, uint8_t type,
				      struct wmq_ack *out, uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_subscribe(struct wmq_rd *r, bool v5, struct wmq_subscribe *out,
					    uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_suback(struct wmq_rd *r, bool v5, struct wmq_suback *out,
					 uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_unsubscribe(struct wmq_rd *r, bool v5,
					      struct wmq_unsubscribe *out, uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_unsuback(struct wmq_rd *r, bool v5, struct wmq_suback *out,
					   uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_disconnect(struct wmq_rd *r, bool v5, bool from_server,
					     struct wmq_disconnect *out, uint8_t *rc);
WMQ_MUST_USE wmq_err wmq_mqtt_dec_auth(struct wmq_rd *r, bool from_server, struct wmq_auth *out,
				       uint8_t *rc);

/* Body emitters (fixed header excluded). */
void wmq_mqtt_emit_connect(struct wmq_sink *s, uint8_t version, const struct wmq_connect *c);
void wmq_mqtt_emit_connack(struct wmq_sink *s, bool v5, const struct wmq_connack *c);
void wmq_mqtt_emit_publish(struct wmq_sink *s, bool v5, const struct wmq_publish *p);
void wmq_mqtt_emit_ack(struct wmq_sink *s, bool v5, const struct wmq_ack *a);
void wmq_mqtt_emit_subscribe(struct wmq_sink *s, bool v5, const struct wmq_subscribe *sub);
void wmq_mqtt_emit_suback(struct wmq_sink *s, bool v5, const struct wmq_suback *a);
void wmq_mqtt_emit_unsubscribe(struct wmq_sink *s, bool v5, const struct wmq_unsubscribe *u);
void wmq_mqtt_emit_unsuback(struct wmq_sink *s, bool v5, const struct wmq_suback *a);
/* DISCONNECT and AUTH share a shape: rc + properties, short forms. */
void wmq_mqtt_emit_rc_props(struct wmq_sink *s, bool v5, uint8_t rc, const struct wmq_props *p);

/* Is |rc| a reason code that packet |type| may carry, sent in this direction
 * (the "Sent by" columns of §3.14.2.1 and §3.15.2.1)? v5 only. */
bool wmq_mqtt_rc_valid(uint8_t type, uint8_t rc, bool from_server);

#endif
