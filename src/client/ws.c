/* SPDX-License-Identifier: MIT
 * ws.c - the WebSocket transport of the client library (RFC 6455, client
 * side; MQTT 5.0 §6 / 3.1.1 §6): the HTTP/1.1 upgrade request and the
 * check of its 101 answer, masked binary frames out, a byte stream of the
 * binary frames in (fragmented messages, several packets per frame or a
 * packet over several frames), ping -> pong, the close handshake.
 * Role: a layer over the connected transport (plain TCP for ws://, TLS for
 * wss://): wmq_wsc_start() remembers the inner ops and puts wmq_wsc_ops in
 * c->tp. Uses libcrypto for SHA-1/base64 only (libssl stays in tls.c).
 * Buffers: |in| holds raw bytes read from the inner transport (the
 * response head, then frames), bounded; |out| holds framed bytes not yet
 * written (the request, control frames, one data frame at a time).
 * Ownership: c->ws is owned by the connection; ws_close frees it.
 * Threading: the client's thread. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "client_int.h"
#include "common/alloc.h"
#include "common/rand.h"

#define WS_IN_MAX (2u * 65536u + 14u) /* raw input buffered at once */
#define WS_HEAD_MAX 8192u            /* the 101 response head */
#define WS_FRAME_MAX (256u * 1024u)  /* payload of one outgoing frame */
#define WS_READ_CHUNK 65536u

enum {
	OP_CONT = 0x0,
	OP_TEXT = 0x1,
	OP_BINARY = 0x2,
	OP_CLOSE = 0x8,
	OP_PING = 0x9,
	OP_PONG = 0xA,
};

/* RFC 6455 §1.3: the GUID appended to the key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

struct wmq_wsc {
	const struct wmq_transport_ops *inner; /* tcp or tls */
	bool hs;                               /* upgrade in progress */
	char accept[32];                       /* expected Sec-WebSocket-Accept */
	struct wmq_dbuf in;                    /* raw input */
	struct wmq_dbuf out;                   /* framed output */
	size_t out_off;                        /* bytes of |out| written */
	bool in_data;       /* inside the payload of a data frame */
	uint64_t data_left; /* ... bytes of it still to deliver */
	bool msg_open;      /* a fragmented message waits for continuation */
	bool close_sent;
	bool close_rcvd;
};

/* ---- pure framing helpers ------------------------------------------------ */

size_t wmq_wsc_frame_header(uint8_t out[WMQ_WSC_HDR_MAX], uint8_t opcode, bool fin, uint64_t len,
			   const uint8_t mask[4])
{
	size_t n = 0;
	out[n++] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
	uint8_t m = mask ? 0x80 : 0;
	/* RFC 6455 §5.2: 7-bit length, 126 + 16-bit, or 127 + 64-bit
	 * (minimal encoding, most significant bit 0) */
	if (len <= 125) {
		out[n++] = (uint8_t)(m | len);
	} else if (len <= 0xFFFF) {
		out[n++] = (uint8_t)(m | 126);
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = (uint8_t)(m | 127);
		for (int i = 7; i >= 0; i--)
			out[n++] = (uint8_t)(len >> (8 * i));
	}
	if (mask) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

void wmq_wsc_mask(uint8_t *p, size_t n, const uint8_t mask[4], size_t off)
{
	/* RFC 6455 §5.3: octet i XOR mask[i mod 4] */
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(off + i) & 3];
}

wmq_err wmq_wsc_parse_header(const uint8_t *p, size_t n, struct wmq_wsc_hdr *h)
{
	if (n < 2)
		return WMQ_ERR_AGAIN;
	memset(h, 0, sizeof *h);
	h->fin = (p[0] & 0x80) != 0;
	h->opcode = p[0] & 0x0F;
	h->masked = (p[1] & 0x80) != 0;
	/* RFC 6455 §5.2: RSV1-3 must be 0 unless an extension was agreed
	 * (we offer none) */
	WMQ_ENSURE((p[0] & 0x70) == 0, WMQ_ERR_PROTOCOL);
	uint64_t len = p[1] & 0x7F;
	size_t need = 2;
	if (len == 126) {
		need = 4;
		if (n < need)
			return WMQ_ERR_AGAIN;
		len = (uint64_t)p[2] << 8 | p[3];
	} else if (len == 127) {
		need = 10;
		if (n < need)
			return WMQ_ERR_AGAIN;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		/* RFC 6455 §5.2: the most significant bit must be 0 */
		WMQ_ENSURE((len >> 63) == 0, WMQ_ERR_PROTOCOL);
	}
	if (h->masked) {
		if (n < need + 4)
			return WMQ_ERR_AGAIN;
		memcpy(h->mask, p + need, 4);
		need += 4;
	}
	h->len = len;
	h->hdr_len = need;
	return WMQ_OK;
}

bool wmq_wsc_accept_for(const char *key, char out[32])
{
	char buf[64];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int n = snprintf(buf, sizeof buf, "%s%s", key, ws_guid);
	if (n < 0 || (size_t)n >= sizeof buf)
		return false;
	/* RFC 6455 §4.2.2: base64(SHA-1(key + GUID)) */
	if (EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
		return false;
	return EVP_EncodeBlock((unsigned char *)out, md, 20) == 28;
}

/* ---- the upgrade response ------------------------------------------------- */

static int lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
}

static bool ieq_n(const char *a, size_t n, const char *b)
{
	if (strlen(b) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Does the comma-separated list |v| (|n| bytes) hold |tok| (any case)? */
static bool list_has(const char *v, size_t n, const char *tok)
{
	size_t i = 0;
	while (i < n) {
		size_t s = i;
		while (i < n && v[i] != ',')
			i++;
		size_t e = i;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (ieq_n(v + s, e - s, tok))
			return true;
		i++;
	}
	return false;
}

/* Copy a printable excerpt of |p| into |why| (for error texts). */
static void excerpt(char *dst, size_t cap, const char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++)
		dst[o++] = (p[i] >= 0x20 && p[i] < 0x7F) ? p[i] : '?';
	dst[o] = '\0';
}

wmq_err wmq_wsc_check_response(const uint8_t *p, size_t n, const char *accept, size_t *head_len,
			      char *why, size_t why_cap)
{
	const char *s = (const char *)p;
	size_t end = 0;
	why[0] = '\0';
	for (size_t i = 0; i + 3 < n; i++) {
		if (!memcmp(s + i, "\r\n\r\n", 4)) {
			end = i + 4;
			break;
		}
	}
	if (!end)
		return WMQ_ERR_AGAIN;
	*head_len = end;
	/* RFC 6455 §4.1: the status line must be 101 (anything else: the
	 * handshake failed; RFC 7230 status-line "HTTP/1.1 101 ...") */
	size_t le = 0;
	while (le < end && s[le] != '\r')
		le++;
	if (le < 12 || memcmp(s, "HTTP/1.1 ", 9) != 0 || memcmp(s + 9, "101", 3) != 0 ||
	    (le > 12 && s[12] != ' ')) {
		char line[96];
		excerpt(line, sizeof line, s, le);
		snprintf(why, why_cap, "WebSocket upgrade refused: \"%s\"", line);
		WMQ_BAIL(WMQ_ERR_PROTOCOL);
	}
	bool upgrade = false, connection = false, acc = false, proto = false;
	size_t pos = le + 2;
	/* bounded by |end|: each round consumes one header line */
	while (pos + 2 <= end) {
		size_t ls = pos, l = pos;
		while (l < end && s[l] != '\r')
			l++;
		pos = l + 2;
		if (l == ls)
			break; /* the empty line */
		size_t colon = ls;
		while (colon < l && s[colon] != ':')
			colon++;
		if (colon == l)
			continue;
		size_t vs = colon + 1, ve = l;
		while (vs < ve && (s[vs] == ' ' || s[vs] == '\t'))
			vs++;
		while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
			ve--;
		const char *name = s + ls, *v = s + vs;
		size_t nl = colon - ls, vl = ve - vs;
		if (ieq_n(name, nl, "upgrade"))
			upgrade = upgrade || ieq_n(v, vl, "websocket");
		else if (ieq_n(name, nl, "connection"))
			connection = connection || list_has(v, vl, "upgrade");
		else if (ieq_n(name, nl, "sec-websocket-accept"))
			acc = vl == strlen(accept) && !memcmp(v, accept, vl);
		else if (ieq_n(name, nl, "sec-websocket-protocol"))
			proto = ieq_n(v, vl, "mqtt");
	}
	/* RFC 6455 §4.1 client requirements 2-5 on the server's handshake */
	const char *bad = !upgrade      ? "no \"Upgrade: websocket\" header"
			  : !connection ? "no \"Connection: Upgrade\" header"
			  : !acc        ? "wrong or missing Sec-WebSocket-Accept"
			  /* MQTT 5.0 §6.0 [MQTT-6.0.0-3]/[MQTT-6.0.0-4]: the
			   * subprotocol must be "mqtt" */
			  : !proto ? "the server did not select the \"mqtt\" subprotocol"
				   : NULL;
	if (bad) {
		snprintf(why, why_cap, "WebSocket upgrade failed: %s", bad);
		WMQ_BAIL(WMQ_ERR_PROTOCOL);
	}
	return WMQ_OK;
}

/* ---- state ------------------------------------------------------------------- */

static void ws_fail(struct wmq_client *c, const char *why)
{
	snprintf(c->tls_err, sizeof c->tls_err, "%s", why);
	CLOG(c, WMQ_LL_ERROR, "Client %s WebSocket error: %s", wmq_client_log_id(c), why);
}

/* Queue one frame (masked with a fresh key, RFC 6455 §5.3) into |out|. */
static wmq_err queue_frame(struct wmq_wsc *w, uint8_t opcode, const void *p, size_t n)
{
	uint8_t hdr[WMQ_WSC_HDR_MAX], mask[4], *area;
	WMQ_TRY(wmq_rand_bytes(mask, sizeof mask));
	size_t hl = wmq_wsc_frame_header(hdr, opcode, true, n, mask);
	WMQ_TRY(wmq_dbuf_reserve(&w->out, hl + n, &area));
	memcpy(area, hdr, hl);
	if (n)
		memcpy(area + hl, p, n);
	wmq_wsc_mask(area + hl, n, mask, 0);
	w->out.len += hl + n;
	return WMQ_OK;
}

/* Write |out| through the inner transport until it would block. */
static wmq_err ws_flush(struct wmq_client *c)
{
	struct wmq_wsc *w = c->ws;
	/* bounded: every round writes bytes or stops */
	while (w->out_off < w->out.len) {
		size_t n = 0;
		wmq_err e = w->inner->write(c, w->out.p + w->out_off, w->out.len - w->out_off, &n);
		if (e == WMQ_ERR_AGAIN)
			return WMQ_OK;
		WMQ_TRY(e);
		if (n == 0)
			return WMQ_OK;
		w->out_off += n;
	}
	wmq_dbuf_reset(&w->out);
	w->out_off = 0;
	wmq_dbuf_shrink(&w->out, WS_READ_CHUNK);
	return WMQ_OK;
}

static void send_close(struct wmq_client *c, uint16_t code)
{
	struct wmq_wsc *w = c->ws;
	if (w->close_sent)
		return;
	uint8_t body[2] = {(uint8_t)(code >> 8), (uint8_t)code};
	w->close_sent = true;
	if (queue_frame(w, OP_CLOSE, body, sizeof body) == WMQ_OK)
		(void)ws_flush(c); /* best effort */
}

wmq_err wmq_wsc_start(struct wmq_client *c)
{
	struct wmq_wsc *w = wmq_calloc(1, sizeof *w);
	WMQ_ENSURE(w, WMQ_ERR_NOMEM);
	wmq_dbuf_init(&w->in, WS_HEAD_MAX);
	wmq_dbuf_init(&w->out, SIZE_MAX);
	w->inner = c->tp;
	w->hs = true;
	uint8_t raw[16];
	char key[32];
	/* RFC 6455 §4.1: a random 16-byte nonce, base64-encoded */
	if (wmq_rand_bytes(raw, sizeof raw) != WMQ_OK ||
	    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw) != 24 ||
	    !wmq_wsc_accept_for(key, w->accept))
		goto fail;
	const char *path = c->cfg.ws_path ? c->cfg.ws_path : "/mqtt";
	bool v6 = strchr(c->cfg.host, ':') != NULL;
	char req[1024 + 512];
	int n = snprintf(req, sizeof req,
			 "GET %s HTTP/1.1\r\n"
			 "Host: %s%s%s:%s\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "Sec-WebSocket-Protocol: mqtt\r\n"
			 "\r\n",
			 path, v6 ? "[" : "", c->cfg.host, v6 ? "]" : "", c->cfg.port, key);
	if (n < 0 || (size_t)n >= sizeof req || wmq_dbuf_append(&w->out, req, (size_t)n) != WMQ_OK)
		goto fail;
	c->ws = w;
	c->tp = &wmq_wsc_ops;
	return WMQ_OK;
fail:
	wmq_dbuf_cleanup(&w->in);
	wmq_dbuf_cleanup(&w->out);
	wmq_free(w);
	ws_fail(c, "cannot build the WebSocket upgrade request");
	WMQ_BAIL(WMQ_ERR_INTERNAL);
}

bool wmq_wsc_handshaking(const struct wmq_client *c)
{
	return c->ws && c->ws->hs;
}

bool wmq_wsc_want_write(const struct wmq_client *c)
{
	return c->ws && c->ws->out_off < c->ws->out.len;
}

wmq_err wmq_wsc_handshake(struct wmq_client *c)
{
	struct wmq_wsc *w = c->ws;
	WMQ_TRY(ws_flush(c));
	if (w->out_off < w->out.len)
		return WMQ_ERR_AGAIN;
	/* bounded by the head limit: every round reads bytes or returns */
	for (;;) {
		uint8_t *area;
		size_t room = w->in.max - w->in.len;
		if (room == 0) {
			ws_fail(c, "WebSocket upgrade failed: response head too large");
			WMQ_BAIL(WMQ_ERR_PROTOCOL);
		}
		WMQ_TRY(wmq_dbuf_reserve(&w->in, room, &area));
		size_t got = 0;
		wmq_err e = w->inner->read(c, area, room, &got);
		if (e == WMQ_ERR_AGAIN)
			return WMQ_ERR_AGAIN;
		if (e == WMQ_ERR_CLOSED) {
			ws_fail(c, "WebSocket upgrade failed: connection closed by the server "
				   "(is the port a WebSocket listener?)");
			WMQ_BAIL(WMQ_ERR_PROTOCOL);
		}
		WMQ_TRY(e);
		w->in.len += got;
		size_t head = 0;
		char why[200];
		e = wmq_wsc_check_response(w->in.p, w->in.len, w->accept, &head, why, sizeof why);
		if (e == WMQ_ERR_AGAIN)
			continue;
		if (e != WMQ_OK) {
			ws_fail(c, why);
			WMQ_BAIL(e);
		}
		/* bytes after the head are frames already */
		wmq_dbuf_consume(&w->in, head);
		w->in.max = WS_IN_MAX;
		w->hs = false;
		CLOG(c, WMQ_LL_DEBUG, "Client %s WebSocket upgrade done", wmq_client_log_id(c));
		return WMQ_OK;
	}
}

/* ---- ops ------------------------------------------------------------------- */

/* Decode frames from |in| into |buf|: data payload bytes are copied,
 * control frames answered. Returns OK (with *got, maybe 0 when more input
 * is needed), CLOSED (close frame) or PROTOCOL. */
static wmq_err decode(struct wmq_client *c, uint8_t *buf, size_t cap, size_t *got)
{
	struct wmq_wsc *w = c->ws;
	size_t off = 0, out = 0;
	wmq_err rc = WMQ_OK;
	/* bounded: each round consumes bytes of |in| or stops */
	while (off < w->in.len && out < cap) {
		if (w->in_data) {
			size_t n = w->in.len - off;
			if (n > cap - out)
				n = cap - out;
			if (n > w->data_left)
				n = (size_t)w->data_left;
			memcpy(buf + out, w->in.p + off, n);
			out += n;
			off += n;
			w->data_left -= n;
			if (w->data_left == 0)
				w->in_data = false;
			continue;
		}
		struct wmq_wsc_hdr h;
		wmq_err e = wmq_wsc_parse_header(w->in.p + off, w->in.len - off, &h);
		if (e == WMQ_ERR_AGAIN)
			break;
		const char *bad = e != WMQ_OK ? "reserved bits or a bad length in a frame" : NULL;
		/* RFC 6455 §5.1: a client must close on a masked server frame */
		if (!bad && h.masked)
			bad = "masked frame from the server";
		/* RFC 6455 §5.5: control frames are short and not fragmented */
		if (!bad && (h.opcode & 0x8) && (h.len > 125 || !h.fin))
			bad = "invalid control frame";
		/* [MQTT-6.0.0-1] MQTT travels in binary frames only */
		if (!bad && h.opcode == OP_TEXT)
			bad = "text frame (MQTT needs binary frames)";
		/* RFC 6455 §5.4: a continuation only inside a fragmented
		 * message, and no new message before it ends */
		if (!bad && h.opcode == OP_CONT && !w->msg_open)
			bad = "continuation frame without a message";
		if (!bad && h.opcode == OP_BINARY && w->msg_open)
			bad = "new message inside a fragmented one";
		if (!bad && h.opcode != OP_CONT && h.opcode != OP_BINARY && h.opcode != OP_CLOSE &&
		    h.opcode != OP_PING && h.opcode != OP_PONG)
			bad = "unknown opcode";
		if (bad) {
			char why[128];
			snprintf(why, sizeof why, "WebSocket protocol error: %s", bad);
			ws_fail(c, why);
			send_close(c, 1002); /* RFC 6455 §7.4.1 protocol error */
			rc = WMQ_ERR_PROTOCOL;
			break;
		}
		if (h.opcode == OP_CONT || h.opcode == OP_BINARY) {
			off += h.hdr_len;
			w->msg_open = !h.fin;
			w->in_data = h.len > 0;
			w->data_left = h.len;
			continue;
		}
		/* a control frame: only when complete */
		if (w->in.len - off < h.hdr_len + h.len)
			break;
		const uint8_t *body = w->in.p + off + h.hdr_len;
		size_t blen = (size_t)h.len;
		off += h.hdr_len + blen;
		if (h.opcode == OP_PING) {
			/* RFC 6455 §5.5.2: answer with a pong carrying the same
			 * application data */
			if (!w->close_sent && queue_frame(w, OP_PONG, body, blen) == WMQ_OK)
				(void)ws_flush(c);
		} else if (h.opcode == OP_CLOSE) {
			/* RFC 6455 §5.5.1: echo the status code, then the
			 * connection ends */
			uint16_t code = (uint16_t)(blen >= 2 ? (body[0] << 8 | body[1]) : 1000);
			CLOG(c, WMQ_LL_DEBUG, "Client %s WebSocket close from the server (%u)",
			     wmq_client_log_id(c), code);
			send_close(c, blen >= 2 ? code : 1000);
			w->close_rcvd = true;
			rc = WMQ_ERR_CLOSED;
			break;
		}
		/* pong: ignored (RFC 6455 §5.5.3 unsolicited pongs are fine) */
	}
	wmq_dbuf_consume(&w->in, off);
	*got = out;
	return rc;
}

bool wmq_wsc_pending(const struct wmq_client *c)
{
	const struct wmq_wsc *w = c->ws;
	if (!w || w->hs || w->in.len == 0 || w->close_rcvd)
		return false;
	if (w->in_data)
		return true;
	struct wmq_wsc_hdr h;
	if (wmq_wsc_parse_header(w->in.p, w->in.len, &h) != WMQ_OK)
		return true; /* an error to report */
	return (h.opcode & 0x8) == 0 || w->in.len >= h.hdr_len + h.len;
}

static wmq_err ws_read(struct wmq_client *c, void *buf, size_t cap, size_t *got)
{
	struct wmq_wsc *w = c->ws;
	size_t total = 0;
	if (w->close_rcvd)
		return WMQ_ERR_CLOSED;
	/* bounded: each round either delivers bytes, reads bytes or returns */
	for (int i = 0; i < 64 && total < cap; i++) {
		size_t n = 0;
		wmq_err e = decode(c, (uint8_t *)buf + total, cap - total, &n);
		total += n;
		if (e != WMQ_OK) {
			if (total) /* deliver first; the error comes back next time */
				break;
			return e;
		}
		if (total == cap)
			break;
		uint8_t *area;
		size_t room = w->in.max - w->in.len;
		if (room > WS_READ_CHUNK)
			room = WS_READ_CHUNK;
		if (room == 0) /* cannot happen: a frame header fits */
			WMQ_BAIL(WMQ_ERR_INTERNAL);
		WMQ_TRY(wmq_dbuf_reserve(&w->in, room, &area));
		size_t r = 0;
		e = w->inner->read(c, area, room, &r);
		if (e == WMQ_ERR_AGAIN)
			break;
		if (e != WMQ_OK) {
			if (total)
				break;
			return e;
		}
		w->in.len += r;
	}
	if (total == 0)
		return WMQ_ERR_AGAIN;
	*got = total;
	return WMQ_OK;
}

static wmq_err ws_write(struct wmq_client *c, const void *buf, size_t len, size_t *sent)
{
	struct wmq_wsc *w = c->ws;
	/* one frame at a time: the previous one goes out first */
	WMQ_TRY(ws_flush(c));
	if (w->out_off < w->out.len)
		return WMQ_ERR_AGAIN;
	size_t n = len > WS_FRAME_MAX ? WS_FRAME_MAX : len;
	/* MQTT 5.0 §6.0 [MQTT-6.0.0-1]: MQTT Control Packets go in binary
	 * data frames; a frame may hold several packets or part of one */
	WMQ_TRY(queue_frame(w, OP_BINARY, buf, n));
	*sent = n;
	return ws_flush(c);
}

static wmq_err ws_flush_op(struct wmq_client *c)
{
	return ws_flush(c);
}

static void ws_shutdown(struct wmq_client *c)
{
	/* RFC 6455 §7.1.2: start the closing handshake */
	if (c->ws && !c->ws->hs)
		send_close(c, 1000);
	if (c->ws && c->ws->inner->shutdown)
		c->ws->inner->shutdown(c);
}

static void ws_close(struct wmq_client *c)
{
	struct wmq_wsc *w = c->ws;
	if (!w)
		return;
	c->tp = w->inner;
	c->ws = NULL;
	wmq_dbuf_cleanup(&w->in);
	wmq_dbuf_cleanup(&w->out);
	wmq_free(w);
	c->tp->close(c);
}

const struct wmq_transport_ops wmq_wsc_ops = {
	.name = "ws",
	.read = ws_read,
	.write = ws_write,
	.flush = ws_flush_op,
	.shutdown = ws_shutdown,
	.close = ws_close,
};
