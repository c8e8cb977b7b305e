/* SPDX-License-Identifier: MIT
 * fuzz_ws.c - libFuzzer target for the WebSocket layer (net/ws.h).
 *
 * Input byte 0 picks the knobs (chunk size, output size, options); the rest
 * is used three ways:
 *   1. as an HTTP upgrade request for wmq_ws_upgrade_parse() (with a
 *      checked prefix walk: a complete request parses the same way with
 *      trailing bytes, and every prefix is AGAIN or the same verdict);
 *   2. as client frames for the decoder, fed in chunks into a small
 *      output buffer (used/produced stay in bounds, errors are sticky and
 *      carry a close code, control replies are well-formed frames);
 *   3. behind a synthetic valid upgrade through the whole transport
 *      (wmq_transport_ws over an in-memory inner transport that reads in
 *      chunks and accepts short writes), reading and echoing until EOF. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "net/conn.h"
#include "net/ws.h"
#include "fuzz.h"

static const char *const origins[] = {"http://localhost:8080", NULL};

static void fuzz_upgrade(const uint8_t *p, size_t n, const struct wmq_ws_opts *o)
{
	struct wmq_ws_upgrade u, v;
	wmq_err e = wmq_ws_upgrade_parse(p, n, o, &u);
	if (e == WMQ_OK) {
		CHECK(u.status == 101 && u.consumed <= n && u.consumed >= 4);
		CHECK(strlen(u.key) == WMQ_WS_KEY_LEN && u.subprotocol);
		CHECK(memcmp(p + u.consumed - 4, "\r\n\r\n", 4) == 0);
		/* the verdict depends only on the request bytes */
		CHECK(wmq_ws_upgrade_parse(p, u.consumed, o, &v) == WMQ_OK);
		CHECK(v.consumed == u.consumed && strcmp(v.key, u.key) == 0);
		uint8_t resp[512];
		size_t rn = 0;
		CHECK(wmq_ws_accept_response(u.key, u.subprotocol, resp, sizeof resp, &rn) == WMQ_OK);
	} else if (e != WMQ_ERR_AGAIN) {
		CHECK(u.status == 400 || u.status == 403 || u.status == 404 || u.status == 426 ||
		      u.status == 431);
		CHECK(u.reason && u.reason[0]);
		uint8_t resp[512];
		size_t rn = 0;
		CHECK(wmq_ws_error_response(u.status, resp, sizeof resp, &rn) == WMQ_OK);
	}
}

static void check_control(const uint8_t *c, size_t n)
{
	size_t i = 0;
	while (i < n) {
		CHECK(n - i >= 2);
		CHECK(c[i] == 0x8a || c[i] == 0x88);
		CHECK((c[i + 1] & 0x80) == 0 && (c[i + 1] & 0x7f) <= 125);
		i += 2 + (size_t)(c[i + 1] & 0x7f);
	}
	CHECK(i == n);
}

static void fuzz_frames(const uint8_t *p, size_t n, size_t step, size_t cap, size_t max_frame)
{
	struct wmq_ws_dec d;
	uint8_t out[64], ctl[256];
	size_t i = 0;
	wmq_ws_dec_init(&d, max_frame);
	CHECK(cap <= sizeof out);
	while (i < n) {
		size_t chunk = n - i < step ? n - i : step, used = 9999, prod = 9999;
		wmq_err e = wmq_ws_dec_feed(&d, p + i, chunk, &used, out, cap, &prod);
		CHECK(used <= chunk && prod <= cap);
		check_control(ctl, wmq_ws_dec_take_control(&d, ctl, sizeof ctl));
		i += used;
		if (e != WMQ_OK) {
			CHECK(e == WMQ_ERR_CLOSED || e == WMQ_ERR_PROTOCOL || e == WMQ_ERR_LIMIT);
			uint16_t code = wmq_ws_dec_close_code(&d);
			CHECK(code >= 1000 && code <= 4999);
			if (e == WMQ_ERR_LIMIT)
				CHECK(code == WMQ_WS_CLOSE_TOO_BIG);
			CHECK(wmq_ws_dec_feed(&d, p + i, n - i, &used, out, cap, &prod) == e);
			CHECK(used == 0 && prod == 0);
			return;
		}
		CHECK(used || prod || cap == 0);
		if (cap == 0 && used == 0)
			return;
	}
}

/* ---- in-memory inner transport --------------------------------------------- */

struct mem {
	const uint8_t *in;
	size_t len, pos, step;
	size_t wrote, wstep, wcalls;
};

static ssize_t mem_read(struct wmq_conn *c, void *buf, size_t len)
{
	struct mem *m = c->engine;
	if (m->pos == m->len)
		return 0;
	size_t n = m->len - m->pos;
	if (n > m->step)
		n = m->step;
	if (n > len)
		n = len;
	memcpy(buf, m->in + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static ssize_t mem_write(struct wmq_conn *c, const void *buf, size_t len)
{
	struct mem *m = c->engine;
	(void)buf;
	/* every third call says EAGAIN, others take at most wstep bytes */
	if (++m->wcalls % 3 == 0) {
		errno = EAGAIN;
		return -1;
	}
	size_t n = len < m->wstep ? len : m->wstep;
	m->wrote += n;
	return (ssize_t)n;
}

static void mem_close(struct wmq_conn *c)
{
	c->engine = NULL;
}

static const struct wmq_transport_ops mem_ops = {"mem", mem_read, mem_write, mem_close};

static void fuzz_transport(const uint8_t *p, size_t n, size_t step, const struct wmq_ws_opts *o)
{
	static const char rq[] = "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
				 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				 "Sec-WebSocket-Protocol: mqtt\r\n\r\n";
	uint8_t *buf = wmq_malloc(sizeof rq - 1 + n + 1);
	CHECK(buf);
	memcpy(buf, rq, sizeof rq - 1);
	if (n)
		memcpy(buf + sizeof rq - 1, p, n);
	struct mem m = {buf, sizeof rq - 1 + n, 0, step, 0, step + 3, 0};
	struct wmq_conn c;
	wmq_conn_init(&c, -1, &mem_ops, "fuzz", 4096, 1 << 16);
	c.engine = &m;
	CHECK(wmq_ws_server_start(&c, o) == WMQ_OK);
	for (int round = 0; round < 10000; round++) {
		wmq_err e = wmq_conn_fill(&c, 1024);
		if (e == WMQ_ERR_LIMIT || c.in.len > 512) {
			/* echo what arrived, like a broker answering */
			if (wmq_conn_queue(&c, c.in.p, c.in.len) == WMQ_OK)
				wmq_dbuf_consume(&c.in, c.in.len);
			else
				break;
		}
		if (e != WMQ_OK && e != WMQ_ERR_LIMIT)
			break;
		wmq_err f = wmq_conn_flush(&c);
		CHECK(f == WMQ_OK || f == WMQ_ERR_AGAIN || f == WMQ_ERR_IO);
		wmq_err g = wmq_ws_flush(&c);
		CHECK(g == WMQ_OK || g == WMQ_ERR_AGAIN || g == WMQ_ERR_IO);
		if (m.pos == m.len && c.in.len == 0 && wmq_conn_pending(&c) == 0)
			break;
	}
	CHECK(wmq_ws_is_open(&c) || wmq_ws_http_status(&c) != 0 || m.pos == m.len);
	wmq_conn_cleanup(&c);
	wmq_free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t k = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	struct wmq_ws_opts o = {
		.path = (k & 1) ? "/mqtt" : NULL,
		.origins = (k & 2) ? origins : NULL,
		.origin_required = (k & 4) != 0,
		.trust_xff = (k & 8) != 0,
		.max_request = (k & 16) ? 300 : 0,
		.max_frame = (k & 32) ? 100 : 0,
	};
	size_t step = 1 + (size_t)(k >> 4) * 7;
	fuzz_upgrade(p, n, &o);
	fuzz_frames(p, n, step, 1 + (size_t)(k % 64), o.max_frame);
	fuzz_frames(p, n, n ? n : 1, 64, o.max_frame);
	fuzz_transport(p, n, step, &o);
	return 0;
}
