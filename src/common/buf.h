/* SPDX-License-Identifier: MIT
 * buf.h - borrowed byte slices, the bounded reader, the sticky-overflow
 * writer, and a capped growable buffer.
 *
 * Reader invariants (s2n stuffer style):
 *   - 0 <= pos <= len at all times; a failed read leaves pos unchanged;
 *   - bounds are checked by subtraction (len - pos >= n), never addition;
 *   - the reader never allocates; strings come back as borrowed slices that
 *     are valid only while the underlying buffer lives.
 * Writer invariants:
 *   - writes past cap set the sticky |overflow| flag and write nothing;
 *   - wmq_wr_finish() fails if overflow was ever set (checked in release).
 * Ownership: all functions borrow; see wmq_dbuf for the owning buffer. */
#ifndef WMQ_COMMON_BUF_H
#define WMQ_COMMON_BUF_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* A borrowed byte slice. p may be NULL only when len == 0. */
struct wmq_bytes {
	const uint8_t *p;
	size_t len;
};

#define WMQ_BYTES_STR(s) ((struct wmq_bytes){(const uint8_t *)(s), sizeof(s) - 1})
struct wmq_bytes wmq_bytes_cstr(const char *s);
bool wmq_bytes_eq(struct wmq_bytes a, struct wmq_bytes b);
bool wmq_bytes_eq_cstr(struct wmq_bytes a, const char *s);

struct wmq_rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static inline struct wmq_rd wmq_rd_make(const uint8_t *p, size_t len)
{
	return (struct wmq_rd){p, len, 0};
}
static inline size_t wmq_rd_left(const struct wmq_rd *r)
{
	return r->len - r->pos;
}

WMQ_MUST_USE wmq_err wmq_rd_u8(struct wmq_rd *r, uint8_t *out);
WMQ_MUST_USE wmq_err wmq_rd_u16(struct wmq_rd *r, uint16_t *out);
WMQ_MUST_USE wmq_err wmq_rd_u32(struct wmq_rd *r, uint32_t *out);
/* MQTT Variable Byte Integer: at most 4 bytes. An over-long (non-minimal)
 * encoding is accepted as the spec only requires the minimal form from
 * senders; a fifth continuation byte is MALFORMED. */
WMQ_MUST_USE wmq_err wmq_rd_varint(struct wmq_rd *r, uint32_t *out);
/* |n| raw bytes as a borrowed slice. */
WMQ_MUST_USE wmq_err wmq_rd_bytes(struct wmq_rd *r, size_t n, struct wmq_bytes *out);
/* u16-length-prefixed binary data. */
WMQ_MUST_USE wmq_err wmq_rd_bin(struct wmq_rd *r, struct wmq_bytes *out);
/* u16-length-prefixed UTF-8 string, validated by the MQTT rules
 * ([MQTT-1.5.4-1], [MQTT-1.5.4-2]): MALFORMED on bad UTF-8, U+0000 or a
 * surrogate code point. */
WMQ_MUST_USE wmq_err wmq_rd_utf8(struct wmq_rd *r, struct wmq_bytes *out);
/* A sub-reader over the next |n| bytes; advances r past them. */
WMQ_MUST_USE wmq_err wmq_rd_sub(struct wmq_rd *r, size_t n, struct wmq_rd *sub);
/* MALFORMED if bytes remain. */
WMQ_MUST_USE wmq_err wmq_rd_end(const struct wmq_rd *r);

struct wmq_wr {
	uint8_t *p;
	size_t cap;
	size_t pos;
	bool overflow;
};

static inline struct wmq_wr wmq_wr_make(uint8_t *p, size_t cap)
{
	return (struct wmq_wr){p, cap, 0, false};
}
void wmq_wr_u8(struct wmq_wr *w, uint8_t v);
void wmq_wr_u16(struct wmq_wr *w, uint16_t v);
void wmq_wr_u32(struct wmq_wr *w, uint32_t v);
/* Writes a Variable Byte Integer; values above 268435455 set overflow. */
void wmq_wr_varint(struct wmq_wr *w, uint32_t v);
void wmq_wr_bytes(struct wmq_wr *w, const void *p, size_t n);
/* u16 length prefix + bytes; a length above 65535 sets overflow. */
void wmq_wr_bin(struct wmq_wr *w, struct wmq_bytes b);
/* LIMIT if any write overflowed, else WMQ_OK. */
WMQ_MUST_USE wmq_err wmq_wr_finish(const struct wmq_wr *w);

/* Number of bytes the Variable Byte Integer encoding of v takes (1..4), or 0
 * if v is too large. */
size_t wmq_varint_len(uint32_t v);

/* Capped growable buffer (curl dynbuf). Appends beyond |max| fail with LIMIT
 * and leave the contents unchanged. */
struct wmq_dbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
};

void wmq_dbuf_init(struct wmq_dbuf *b, size_t max);
void wmq_dbuf_cleanup(struct wmq_dbuf *b);
WMQ_MUST_USE wmq_err wmq_dbuf_append(struct wmq_dbuf *b, const void *p, size_t n);
/* Ensure room for |n| more bytes; returns pointer to the free area. */
WMQ_MUST_USE wmq_err wmq_dbuf_reserve(struct wmq_dbuf *b, size_t n, uint8_t **area);
/* Drop the first |n| bytes. */
void wmq_dbuf_consume(struct wmq_dbuf *b, size_t n);
void wmq_dbuf_reset(struct wmq_dbuf *b);
/* Release memory if empty and larger than |keep| (idle connections stay small). */
void wmq_dbuf_shrink(struct wmq_dbuf *b, size_t keep);

#endif
