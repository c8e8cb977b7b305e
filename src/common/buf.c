/* SPDX-License-Identifier: MIT
 * buf.c - bounded reader, sticky writer, capped dynamic buffer. */
#include "common/buf.h"

#include <string.h>

#include "common/alloc.h"
#include "common/utf8.h"

struct wmq_bytes wmq_bytes_cstr(const char *s)
{
	return (struct wmq_bytes){(const uint8_t *)s, s ? strlen(s) : 0};
}

bool wmq_bytes_eq(struct wmq_bytes a, struct wmq_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool wmq_bytes_eq_cstr(struct wmq_bytes a, const char *s)
{
	return wmq_bytes_eq(a, wmq_bytes_cstr(s));
}

wmq_err wmq_rd_u8(struct wmq_rd *r, uint8_t *out)
{
	WMQ_ENSURE(r->len - r->pos >= 1, WMQ_ERR_MALFORMED);
	*out = r->p[r->pos];
	r->pos += 1;
	return WMQ_OK;
}

wmq_err wmq_rd_u16(struct wmq_rd *r, uint16_t *out)
{
	WMQ_ENSURE(r->len - r->pos >= 2, WMQ_ERR_MALFORMED);
	*out = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
	r->pos += 2;
	return WMQ_OK;
}

wmq_err wmq_rd_u32(struct wmq_rd *r, uint32_t *out)
{
	WMQ_ENSURE(r->len - r->pos >= 4, WMQ_ERR_MALFORMED);
	const uint8_t *q = r->p + r->pos;
	*out = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	r->pos += 4;
	return WMQ_OK;
}

wmq_err wmq_rd_varint(struct wmq_rd *r, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;
	/* [MQTT-1.5.5] at most four bytes; the fourth must not continue. */
	for (i = 0; i < 4; i++) {
		WMQ_ENSURE(r->len - r->pos > i, WMQ_ERR_MALFORMED);
		uint8_t b = r->p[r->pos + i];
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			r->pos += i + 1;
			*out = v;
			return WMQ_OK;
		}
	}
	WMQ_BAIL(WMQ_ERR_MALFORMED);
}

wmq_err wmq_rd_bytes(struct wmq_rd *r, size_t n, struct wmq_bytes *out)
{
	WMQ_ENSURE(r->len - r->pos >= n, WMQ_ERR_MALFORMED);
	out->p = r->p + r->pos;
	out->len = n;
	r->pos += n;
	return WMQ_OK;
}

wmq_err wmq_rd_bin(struct wmq_rd *r, struct wmq_bytes *out)
{
	size_t save = r->pos;
	uint16_t n;
	WMQ_TRY(wmq_rd_u16(r, &n));
	if (wmq_rd_bytes(r, n, out) != WMQ_OK) {
		r->pos = save;
		WMQ_BAIL(WMQ_ERR_MALFORMED);
	}
	return WMQ_OK;
}

wmq_err wmq_rd_utf8(struct wmq_rd *r, struct wmq_bytes *out)
{
	size_t save = r->pos;
	struct wmq_bytes b;
	WMQ_TRY(wmq_rd_bin(r, &b));
	if (!wmq_utf8_valid(b.p, b.len)) {
		r->pos = save;
		WMQ_BAIL(WMQ_ERR_MALFORMED);
	}
	*out = b;
	return WMQ_OK;
}

wmq_err wmq_rd_sub(struct wmq_rd *r, size_t n, struct wmq_rd *sub)
{
	WMQ_ENSURE(r->len - r->pos >= n, WMQ_ERR_MALFORMED);
	*sub = wmq_rd_make(r->p + r->pos, n);
	r->pos += n;
	return WMQ_OK;
}

wmq_err wmq_rd_end(const struct wmq_rd *r)
{
	WMQ_ENSURE(r->pos == r->len, WMQ_ERR_MALFORMED);
	return WMQ_OK;
}

void wmq_wr_bytes(struct wmq_wr *w, const void *p, size_t n)
{
	if (w->overflow || w->cap - w->pos < n) {
		w->overflow = true;
		return;
	}
	if (n)
		memcpy(w->p + w->pos, p, n);
	w->pos += n;
}

void wmq_wr_u8(struct wmq_wr *w, uint8_t v)
{
	wmq_wr_bytes(w, &v, 1);
}

void wmq_wr_u16(struct wmq_wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wmq_wr_bytes(w, b, 2);
}

void wmq_wr_u32(struct wmq_wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	wmq_wr_bytes(w, b, 4);
}

size_t wmq_varint_len(uint32_t v)
{
	if (v < 128u)
		return 1;
	if (v < 16384u)
		return 2;
	if (v < 2097152u)
		return 3;
	if (v <= 268435455u)
		return 4;
	return 0;
}

void wmq_wr_varint(struct wmq_wr *w, uint32_t v)
{
	uint8_t b[4];
	size_t n = 0;
	if (v > 268435455u) {
		w->overflow = true;
		return;
	}
	do {
		uint8_t d = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			d |= 0x80;
		b[n++] = d;
	} while (v);
	wmq_wr_bytes(w, b, n);
}

void wmq_wr_bin(struct wmq_wr *w, struct wmq_bytes b)
{
	if (b.len > 65535) {
		w->overflow = true;
		return;
	}
	wmq_wr_u16(w, (uint16_t)b.len);
	wmq_wr_bytes(w, b.p, b.len);
}

wmq_err wmq_wr_finish(const struct wmq_wr *w)
{
	WMQ_ENSURE(!w->overflow, WMQ_ERR_LIMIT);
	return WMQ_OK;
}

void wmq_dbuf_init(struct wmq_dbuf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void wmq_dbuf_cleanup(struct wmq_dbuf *b)
{
	wmq_free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

wmq_err wmq_dbuf_reserve(struct wmq_dbuf *b, size_t n, uint8_t **area)
{
	WMQ_ENSURE(b->max - b->len >= n && b->len <= b->max, WMQ_ERR_LIMIT);
	if (b->cap - b->len < n) {
		size_t want = b->cap ? b->cap : 256;
		while (want - b->len < n)
			want = (want > b->max / 2) ? b->max : want * 2;
		if (want > b->max)
			want = b->max;
		uint8_t *q = wmq_realloc(b->p, want);
		WMQ_ENSURE(q != NULL, WMQ_ERR_NOMEM);
		b->p = q;
		b->cap = want;
	}
	/* An empty buffer may have no storage: NULL + 0 is undefined in C. */
	*area = b->p ? b->p + b->len : NULL;
	return WMQ_OK;
}

wmq_err wmq_dbuf_append(struct wmq_dbuf *b, const void *p, size_t n)
{
	uint8_t *area;
	WMQ_TRY(wmq_dbuf_reserve(b, n, &area));
	if (n)
		memcpy(area, p, n);
	b->len += n;
	return WMQ_OK;
}

void wmq_dbuf_consume(struct wmq_dbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

void wmq_dbuf_reset(struct wmq_dbuf *b)
{
	b->len = 0;
}

void wmq_dbuf_shrink(struct wmq_dbuf *b, size_t keep)
{
	if (b->len == 0 && b->cap > keep) {
		wmq_free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}
