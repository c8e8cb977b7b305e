/* SPDX-License-Identifier: MIT
 * ws.c - RFC 6455 server side: upgrade parser, framing, transport. See ws.h. */
#include "net/ws.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/alloc.h"
#include "common/utf8.h"

/* RFC 6455 §1.3 / §4.2.2: the GUID appended to the key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ---- small helpers --------------------------------------------------------- */

static int lower(int ch)
{
	return (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
}

static bool ieq(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != lower((unsigned char)s[i]))
			return false;
	return true;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(uint8_t ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static bool is_ows(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

static struct wmq_bytes trim(const uint8_t *p, size_t n)
{
	while (n && is_ows(p[0]))
		p++, n--;
	while (n && is_ows(p[n - 1]))
		n--;
	return (struct wmq_bytes){p, n};
}

/* Walk a comma-separated list (RFC 9110 §5.6.1): next non-empty element,
 * trimmed. Returns false at the end. */
static bool list_next(struct wmq_bytes v, size_t *pos, struct wmq_bytes *el)
{
	while (*pos < v.len) {
		size_t s = *pos, e = s;
		while (e < v.len && v.p[e] != ',')
			e++;
		*pos = e < v.len ? e + 1 : e;
		*el = trim(v.p + s, e - s);
		if (el->len)
			return true;
	}
	return false;
}

static bool list_has_ci(struct wmq_bytes v, const char *tok)
{
	size_t pos = 0;
	struct wmq_bytes el;
	while (list_next(v, &pos, &el))
		if (ieq(el.p, el.len, tok))
			return true;
	return false;
}

static bool list_has(struct wmq_bytes v, const char *tok)
{
	size_t pos = 0;
	struct wmq_bytes el;
	while (list_next(v, &pos, &el))
		if (wmq_bytes_eq_cstr(el, tok))
			return true;
	return false;
}

static int b64val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* RFC 6455 §4.1 item 7 / §11.3.1: the key is a base64-encoded 16-byte
 * value: 22 alphabet characters then "==", canonical (unused bits zero). */
static bool key_valid(struct wmq_bytes k)
{
	if (k.len != WMQ_WS_KEY_LEN || k.p[22] != '=' || k.p[23] != '=')
		return false;
	for (size_t i = 0; i < 22; i++)
		if (b64val(k.p[i]) < 0)
			return false;
	return (b64val(k.p[21]) & 0x0f) == 0;
}

/* ---- upgrade parser (RFC 6455 §4.2.1) -------------------------------------- */

enum hdr_id { H_HOST, H_UPGRADE, H_CONNECTION, H_KEY, H_VERSION, H_PROTOCOL, H_ORIGIN, H_XFF,
	      H__COUNT, H_OTHER = H__COUNT };

static const char *const hdr_names[H__COUNT] = {
	"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
	"sec-websocket-protocol", "origin", "x-forwarded-for",
};
/* Headers that are lists may repeat (RFC 9110 §5.3); the others may not. */
static const bool hdr_list[H__COUNT] = {false, true, true, false, false, true, false, false};

static wmq_err refuse(struct wmq_ws_upgrade *out, wmq_err e, int status, const char *why)
{
	out->status = status;
	out->reason = why;
	return wmq_err_note(e, __FILE__, __LINE__);
}

static const uint8_t *find_crlf(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return p + i;
	return NULL;
}

wmq_err wmq_ws_upgrade_parse(const uint8_t *buf, size_t len, const struct wmq_ws_opts *opts,
			     struct wmq_ws_upgrade *out)
{
	size_t max = opts && opts->max_request ? opts->max_request : WMQ_WS_DEFAULT_MAX_REQUEST;
	struct wmq_bytes h[H__COUNT] = {0};
	bool seen[H__COUNT] = {false};
	memset(out, 0, sizeof *out);
	out->reason = "";
	WMQ_ENSURE(buf || len == 0, WMQ_ERR_INVAL);

	/* Fail early on what cannot become a GET request. */
	static const char get[] = "GET ";
	if (len && memcmp(buf, get, len < 4 ? len : 4) != 0)
		return refuse(out, WMQ_ERR_MALFORMED, 400, "not a GET request");

	/* Find the blank line that ends the header block. */
	size_t end = 0;
	for (size_t i = 0; i + 3 < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
			end = i + 4;
			break;
		}
	}
	if (end == 0 || end > max) {
		if (end > max || len >= max)
			return refuse(out, WMQ_ERR_LIMIT, 431, "upgrade request too large");
		return WMQ_ERR_AGAIN;
	}
	out->consumed = end;

	/* Request line: "GET" SP request-target SP "HTTP/1.1" CRLF
	 * (RFC 9112 §3; RFC 6455 §4.1 item 2: GET, HTTP/1.1 or higher — only
	 * 1.1 exists in this syntax). */
	const uint8_t *p = buf, *lim = buf + end;
	const uint8_t *eol = find_crlf(p, (size_t)(lim - p));
	size_t ll = (size_t)(eol - p);
	static const char ver[] = " HTTP/1.1";
	if (ll < 4 + 1 + sizeof ver - 1 || memcmp(eol - (sizeof ver - 1), ver, sizeof ver - 1) != 0)
		return refuse(out, WMQ_ERR_MALFORMED, 400, "bad request line");
	const uint8_t *tgt = p + 4;
	size_t tlen = ll - 4 - (sizeof ver - 1);
	if (tlen == 0 || tgt[0] != '/')
		return refuse(out, WMQ_ERR_MALFORMED, 400, "bad request target");
	for (size_t i = 0; i < tlen; i++)
		if (tgt[i] <= 0x20 || tgt[i] >= 0x7f)
			return refuse(out, WMQ_ERR_MALFORMED, 400, "bad request target");
	size_t plen = 0;
	while (plen < tlen && tgt[plen] != '?' && tgt[plen] != '#')
		plen++;
	p = eol + 2;

	/* Header fields: field-name ":" OWS field-value OWS CRLF (RFC 9112 §5). */
	while (p < lim) {
		eol = find_crlf(p, (size_t)(lim - p));
		ll = (size_t)(eol - p);
		if (ll == 0)
			break; /* the blank line */
		/* RFC 9112 §5.2: obsolete line folding is refused (400). */
		if (is_ows(p[0]))
			return refuse(out, WMQ_ERR_MALFORMED, 400, "folded header line");
		size_t nl = 0;
		while (nl < ll && is_tchar(p[nl]))
			nl++;
		/* RFC 9112 §5.1: no whitespace between name and colon. */
		if (nl == 0 || nl == ll || p[nl] != ':')
			return refuse(out, WMQ_ERR_MALFORMED, 400, "bad header name");
		for (size_t i = nl + 1; i < ll; i++) {
			uint8_t ch = p[i];
			/* RFC 9110 §5.5: VCHAR, SP, HTAB, obs-text; no CTLs (a
			 * bare CR or LF included). */
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return refuse(out, WMQ_ERR_MALFORMED, 400, "bad header value");
		}
		struct wmq_bytes v = trim(p + nl + 1, ll - nl - 1);
		size_t id = H_OTHER;
		for (size_t k = 0; k < H__COUNT; k++)
			if (ieq(p, nl, hdr_names[k]))
				id = k;
		if (id != H_OTHER) {
			if (seen[id] && !hdr_list[id])
				return refuse(out, WMQ_ERR_MALFORMED, 400, "duplicate header");
			if (id == H_PROTOCOL && seen[id]) {
				/* a second Sec-WebSocket-Protocol line adds to the
				 * list: keep the first that names mqtt */
				if (!list_has(h[id], "mqtt") && !list_has(h[id], "mqttv3.1"))
					h[id] = v;
			} else if (!seen[id]) {
				h[id] = v;
			} else if (id == H_UPGRADE || id == H_CONNECTION) {
				/* keep whichever line carries the token */
				if (!list_has_ci(h[id], id == H_UPGRADE ? "websocket" : "upgrade"))
					h[id] = v;
			}
			seen[id] = true;
		}
		p = eol + 2;
	}

	/* Path (RFC 6455 §4.2.1 item 2 leaves the resource to the server). */
	if (opts && opts->path && !(plen == strlen(opts->path) &&
				    memcmp(tgt, opts->path, plen) == 0))
		return refuse(out, WMQ_ERR_NOTFOUND, 404, "unknown path");
	/* §4.2.1 item 2: a Host header field. */
	if (!seen[H_HOST] || h[H_HOST].len == 0)
		return refuse(out, WMQ_ERR_MALFORMED, 400, "missing Host");
	/* §4.2.1 item 3: Upgrade contains "websocket" (case-insensitive). */
	if (!seen[H_UPGRADE] || !list_has_ci(h[H_UPGRADE], "websocket"))
		return refuse(out, WMQ_ERR_MALFORMED, 400, "missing Upgrade: websocket");
	/* §4.2.1 item 4: Connection includes the token "Upgrade". */
	if (!seen[H_CONNECTION] || !list_has_ci(h[H_CONNECTION], "upgrade"))
		return refuse(out, WMQ_ERR_MALFORMED, 400, "missing Connection: Upgrade");
	/* §4.2.1 item 6 and §4.4: version 13, else 426 with our version. */
	if (!seen[H_VERSION] || !wmq_bytes_eq_cstr(h[H_VERSION], "13"))
		return refuse(out, WMQ_ERR_PROTOCOL, 426, "unsupported Sec-WebSocket-Version");
	/* §4.2.1 item 5: a base64 16-byte nonce. */
	if (!seen[H_KEY] || !key_valid(h[H_KEY]))
		return refuse(out, WMQ_ERR_MALFORMED, 400, "bad Sec-WebSocket-Key");
	memcpy(out->key, h[H_KEY].p, WMQ_WS_KEY_LEN);
	out->key[WMQ_WS_KEY_LEN] = '\0';
	/* §4.2.2 item 4 / §10.2: the origin check is the server's choice. */
	if (opts && opts->origins) {
		bool ok = false;
		if (!seen[H_ORIGIN]) {
			ok = !opts->origin_required;
		} else {
			for (const char *const *o = opts->origins; *o && !ok; o++)
				ok = ieq(h[H_ORIGIN].p, h[H_ORIGIN].len, *o);
		}
		if (!ok)
			return refuse(out, WMQ_ERR_DENIED, 403, "origin not allowed");
	}
	/* §4.2.2 item 5.4 (subprotocol); MQTT 5.0 §6 / 3.1.1 §6: "mqtt";
	 * mosquitto also accepts the pre-standard "mqttv3.1". Subprotocol
	 * tokens are compared case-sensitively. */
	if (seen[H_PROTOCOL] && list_has(h[H_PROTOCOL], "mqtt"))
		out->subprotocol = "mqtt";
	else if (seen[H_PROTOCOL] && list_has(h[H_PROTOCOL], "mqttv3.1"))
		out->subprotocol = "mqttv3.1";
	else
		return refuse(out, WMQ_ERR_MALFORMED, 400, "subprotocol mqtt not offered");
	/* X-Forwarded-For: the first (client-most) element, only if trusted
	 * and a valid IPv4/IPv6 literal; otherwise ignored. */
	if (opts && opts->trust_xff && seen[H_XFF]) {
		size_t pos = 0;
		struct wmq_bytes el;
		if (list_next(h[H_XFF], &pos, &el) && el.len < sizeof out->xff) {
			char tmp[sizeof out->xff];
			uint8_t addr[16];
			memcpy(tmp, el.p, el.len);
			tmp[el.len] = '\0';
			if (inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1)
				memcpy(out->xff, tmp, el.len + 1);
		}
	}
	out->status = 101;
	return WMQ_OK;
}

wmq_err wmq_ws_accept_key(const char *key, char out[WMQ_WS_ACCEPT_LEN + 1])
{
	uint8_t cat[WMQ_WS_KEY_LEN + sizeof ws_guid - 1];
	uint8_t md[SHA_DIGEST_LENGTH];
	WMQ_ENSURE(key && strlen(key) == WMQ_WS_KEY_LEN, WMQ_ERR_INVAL);
	memcpy(cat, key, WMQ_WS_KEY_LEN);
	memcpy(cat + WMQ_WS_KEY_LEN, ws_guid, sizeof ws_guid - 1);
	/* §4.2.2 item 5.4: base64(SHA-1(key || GUID)). */
	SHA1(cat, sizeof cat, md);
	int k = EVP_EncodeBlock((unsigned char *)out, md, (int)sizeof md);
	WMQ_ENSURE(k == WMQ_WS_ACCEPT_LEN, WMQ_ERR_INTERNAL);
	return WMQ_OK;
}

wmq_err wmq_ws_accept_response(const char *key, const char *subprotocol, uint8_t *out,
			       size_t cap, size_t *n)
{
	char acc[WMQ_WS_ACCEPT_LEN + 1];
	WMQ_TRY(wmq_ws_accept_key(key, acc));
	int k = snprintf((char *)out, cap,
			 "HTTP/1.1 101 Switching Protocols\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\n"
			 "Sec-WebSocket-Protocol: %s\r\n"
			 "\r\n",
			 acc, subprotocol ? subprotocol : "mqtt");
	WMQ_ENSURE(k > 0 && (size_t)k < cap, WMQ_ERR_LIMIT);
	*n = (size_t)k;
	return WMQ_OK;
}

wmq_err wmq_ws_error_response(int status, uint8_t *out, size_t cap, size_t *n)
{
	const char *text = "Bad Request", *extra = "";
	switch (status) {
	case 403: text = "Forbidden"; break;
	case 404: text = "Not Found"; break;
	case 426:
		text = "Upgrade Required";
		/* §4.4: tell the client the version we speak. */
		extra = "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n";
		break;
	case 431: text = "Request Header Fields Too Large"; break;
	default: status = 400; break;
	}
	int k = snprintf((char *)out, cap,
			 "HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
			 status, text, extra);
	WMQ_ENSURE(k > 0 && (size_t)k < cap, WMQ_ERR_LIMIT);
	*n = (size_t)k;
	return WMQ_OK;
}

/* ---- framing ------------------------------------------------------------- */

size_t wmq_ws_frame_header(uint8_t hdr[WMQ_WS_FRAME_HDR_MAX], uint8_t opcode, uint64_t len)
{
	/* §5.2: FIN, no RSV bits, opcode; MASK clear (§5.1: server frames
	 * are not masked); minimal 7, 7+16 or 7+64 bit length. */
	hdr[0] = (uint8_t)(0x80 | (opcode & 0x0f));
	if (len <= 125) {
		hdr[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		hdr[1] = 126;
		hdr[2] = (uint8_t)(len >> 8);
		hdr[3] = (uint8_t)len;
		return 4;
	}
	hdr[1] = 127;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (uint8_t)(len >> (56 - 8 * i));
	return 10;
}

static wmq_err encode(uint8_t opcode, const uint8_t *p, size_t len, uint8_t *out, size_t cap,
		      size_t *n)
{
	uint8_t hdr[WMQ_WS_FRAME_HDR_MAX];
	size_t hl = wmq_ws_frame_header(hdr, opcode, len);
	WMQ_ENSURE(cap >= hl && cap - hl >= len, WMQ_ERR_LIMIT);
	memcpy(out, hdr, hl);
	if (len)
		memcpy(out + hl, p, len);
	*n = hl + len;
	return WMQ_OK;
}

wmq_err wmq_ws_encode_binary(const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	return encode(WMQ_WS_OP_BINARY, p, len, out, cap, n);
}

wmq_err wmq_ws_encode_pong(const uint8_t *p, size_t len, uint8_t *out, size_t cap, size_t *n)
{
	/* §5.5: control frames carry at most 125 payload bytes. */
	WMQ_ENSURE(len <= WMQ_WS_CTL_MAX, WMQ_ERR_INVAL);
	return encode(WMQ_WS_OP_PONG, p, len, out, cap, n);
}

wmq_err wmq_ws_encode_close(uint16_t code, uint8_t *out, size_t cap, size_t *n)
{
	/* §5.5.1: an optional 2-byte status code in network order. */
	uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};
	return encode(WMQ_WS_OP_CLOSE, b, code ? 2 : 0, out, cap, n);
}

void wmq_ws_dec_init(struct wmq_ws_dec *d, size_t max_frame)
{
	memset(d, 0, sizeof *d);
	d->max_frame = max_frame ? max_frame : WMQ_WS_DEFAULT_MAX_FRAME;
	d->reason = "";
}

static void queue_close(struct wmq_ws_dec *d, uint16_t code)
{
	size_t n = 0;
	if (d->close_sent)
		return;
	if (wmq_ws_encode_close(code, d->close, sizeof d->close, &n) == WMQ_OK) {
		d->close_len = n;
		d->close_code = code;
		d->close_sent = true;
	}
}

static wmq_err fail(struct wmq_ws_dec *d, uint16_t code, const char *why)
{
	queue_close(d, code);
	d->reason = why;
	d->state = code == WMQ_WS_CLOSE_TOO_BIG ? WMQ_ERR_LIMIT : WMQ_ERR_PROTOCOL;
	return wmq_err_note(d->state, __FILE__, __LINE__);
}

/* §7.4.1/§7.4.2: codes a peer may send in a close frame. */
static bool close_code_ok(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/* UTF-8 check of a close reason. wmq_utf8_valid() follows MQTT and refuses
 * U+0000, which is valid in a WebSocket text, so check between NULs. */
static bool reason_utf8(const uint8_t *p, size_t n)
{
	size_t s = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == 0) {
			if (!wmq_utf8_valid(p + s, i - s))
				return false;
			s = i + 1;
		}
	}
	return true;
}

/* A complete control frame arrived (payload in d->ctl). */
static wmq_err control_done(struct wmq_ws_dec *d)
{
	if (d->opcode == WMQ_WS_OP_PING) {
		/* §5.5.2: answer with a pong carrying the same data; §5.5.3: a
		 * pong still queued is replaced by the newer one. */
		size_t n = 0;
		if (wmq_ws_encode_pong(d->ctl, d->ctl_len, d->pong, sizeof d->pong, &n) == WMQ_OK)
			d->pong_len = n;
		return WMQ_OK;
	}
	if (d->opcode == WMQ_WS_OP_PONG)
		return WMQ_OK; /* §5.5.3: an unsolicited pong needs no reply */
	/* close, §5.5.1: body is empty or a 2-byte code plus UTF-8 reason. */
	if (d->ctl_len == 1)
		return fail(d, WMQ_WS_CLOSE_PROTOCOL, "close frame with 1-byte payload");
	uint16_t code = WMQ_WS_CLOSE_NORMAL;
	if (d->ctl_len >= 2) {
		code = (uint16_t)(d->ctl[0] << 8 | d->ctl[1]);
		if (!close_code_ok(code))
			return fail(d, WMQ_WS_CLOSE_PROTOCOL, "invalid close code");
		if (!reason_utf8(d->ctl + 2, d->ctl_len - 2))
			return fail(d, WMQ_WS_CLOSE_BAD_DATA, "close reason not UTF-8");
	}
	/* §5.5.1: reply with a close frame, echoing the status code. */
	queue_close(d, code);
	d->reason = "closed by peer";
	d->state = WMQ_ERR_CLOSED;
	return WMQ_ERR_CLOSED;
}

/* The frame header in d->hdr is complete: validate it. */
static wmq_err header_done(struct wmq_ws_dec *d)
{
	uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
	d->fin = (b0 & 0x80) != 0;
	d->opcode = b0 & 0x0f;
	/* §5.2: RSV1-3 MUST be 0 unless an extension was negotiated (none). */
	if (b0 & 0x70)
		return fail(d, WMQ_WS_CLOSE_PROTOCOL, "reserved bits set");
	/* §5.1: a server MUST close on an unmasked client frame (1002). */
	if (!(b1 & 0x80))
		return fail(d, WMQ_WS_CLOSE_PROTOCOL, "unmasked client frame");
	uint64_t len = b1 & 0x7f;
	size_t mpos = 2;
	if (len == 126) {
		len = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
		mpos = 4;
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | d->hdr[2 + i];
		/* §5.2: the most significant bit MUST be 0. */
		if (len >> 63)
			return fail(d, WMQ_WS_CLOSE_PROTOCOL, "64-bit length with high bit set");
		mpos = 10;
	}
	/* Non-minimal length encodings are accepted (robustness). */
	memcpy(d->mask, d->hdr + mpos, 4);
	switch (d->opcode) {
	case WMQ_WS_OP_CONT:
		/* §5.4: a continuation only inside a fragmented message. */
		if (!d->in_message)
			return fail(d, WMQ_WS_CLOSE_PROTOCOL, "continuation without a message");
		break;
	case WMQ_WS_OP_BINARY:
		/* §5.4: no new data message inside a fragmented one. */
		if (d->in_message)
			return fail(d, WMQ_WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
		break;
	case WMQ_WS_OP_TEXT:
		/* §7.4.1 1003: a data type we cannot accept (MQTT is binary;
		 * MQTT 5.0 §6: text frames are a protocol error). */
		return fail(d, WMQ_WS_CLOSE_UNSUPPORTED, "text frame");
	case WMQ_WS_OP_CLOSE:
	case WMQ_WS_OP_PING:
	case WMQ_WS_OP_PONG:
		/* §5.5: control frames are short and never fragmented. */
		if (!d->fin)
			return fail(d, WMQ_WS_CLOSE_PROTOCOL, "fragmented control frame");
		if (len > WMQ_WS_CTL_MAX)
			return fail(d, WMQ_WS_CLOSE_PROTOCOL, "control frame over 125 bytes");
		d->ctl_len = 0;
		break;
	default:
		/* §5.2: reserved opcodes -> fail the connection. */
		return fail(d, WMQ_WS_CLOSE_PROTOCOL, "reserved opcode");
	}
	if (d->opcode < 0x8) {
		if (len > d->max_frame)
			return fail(d, WMQ_WS_CLOSE_TOO_BIG, "frame over max_frame");
		d->in_message = !d->fin;
	}
	d->left = len;
	d->off = 0;
	d->in_payload = true;
	return WMQ_OK;
}

/* Bytes of header needed so far, given what has been collected. */
static size_t header_need(const struct wmq_ws_dec *d)
{
	if (d->hdr_len < 2)
		return 2;
	size_t n = (d->hdr[1] & 0x80) ? 2 + 4 : 2; /* §5.2 masking key if MASK */
	if ((d->hdr[1] & 0x7f) == 126)
		n += 2;
	else if ((d->hdr[1] & 0x7f) == 127)
		n += 8;
	return n;
}

wmq_err wmq_ws_dec_feed(struct wmq_ws_dec *d, const uint8_t *in, size_t len, size_t *used,
			uint8_t *out, size_t cap, size_t *produced)
{
	size_t i = 0, o = 0;
	wmq_err rc = WMQ_OK;
	*used = 0;
	*produced = 0;
	if (d->state != WMQ_OK)
		return d->state;
	while (i < len) {
		if (!d->in_payload) {
			size_t need = header_need(d);
			while (d->hdr_len < need && i < len) {
				d->hdr[d->hdr_len++] = in[i++];
				need = header_need(d);
			}
			if (d->hdr_len < need)
				break;
			d->hdr_len = 0;
			if ((rc = header_done(d)) != WMQ_OK)
				break;
		}
		/* payload */
		bool ctl = d->opcode >= 0x8;
		uint64_t take = d->left;
		if (take > len - i)
			take = len - i;
		if (!ctl && take > cap - o)
			take = cap - o;
		for (uint64_t k = 0; k < take; k++) {
			/* §5.3: j-th byte XOR masking-key octet (j MOD 4). */
			uint8_t b = (uint8_t)(in[i + k] ^ d->mask[(d->off + k) & 3]);
			if (ctl)
				d->ctl[d->ctl_len++] = b;
			else
				out[o + k] = b;
		}
		i += (size_t)take;
		if (!ctl)
			o += (size_t)take;
		d->off += take;
		d->left -= take;
		if (d->left == 0) {
			d->in_payload = false;
			if (ctl && (rc = control_done(d)) != WMQ_OK)
				break;
		} else if (!ctl && o == cap) {
			break; /* output full */
		}
	}
	*used = i;
	*produced = o;
	return rc;
}

size_t wmq_ws_dec_take_control(struct wmq_ws_dec *d, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (d->pong_len && d->pong_len <= cap) {
		memcpy(out, d->pong, d->pong_len);
		n = d->pong_len;
		d->pong_len = 0;
	}
	/* §5.5.1: nothing is sent after the close frame; it goes last. */
	if (d->close_len && !d->pong_len && d->close_len <= cap - n) {
		memcpy(out + n, d->close, d->close_len);
		n += d->close_len;
		d->close_len = 0;
	}
	return n;
}

/* ---- transport ----------------------------------------------------------- */

#define WS_RAW_MAX (64u * 1024u)
#define WS_TX_MAX (WMQ_WS_DEFAULT_MAX_REQUEST + 256u * 1024u)
#define WS_WRITE_CHUNK (64u * 1024u) /* payload bytes per frame written */

enum ws_phase {
	WS_HANDSHAKE, /* collecting the upgrade request */
	WS_SENDING_101,
	WS_REFUSING,  /* HTTP error queued; fail once it is sent */
	WS_OPEN,
	WS_DONE,      /* close handshake or failure: no more data */
};

struct ws_conn {
	const struct wmq_transport_ops *inner_ops;
	void *inner_engine;
	const struct wmq_ws_opts *opts; /* borrowed */
	enum ws_phase phase;
	struct wmq_ws_upgrade up;
	int status;
	const char *reason;
	struct wmq_dbuf hs;  /* upgrade request bytes */
	struct wmq_dbuf raw; /* received, not yet decoded */
	struct wmq_ws_dec dec;
	struct wmq_dbuf tx;  /* framed bytes to send; tx_off already sent */
	size_t tx_off;
	size_t u_begin, u_end; /* unacknowledged user payload within tx */
	size_t acked;          /* user bytes acknowledged by the last flush */
	bool eof;            /* inner transport reported EOF */
	int err;             /* sticky errno of a failed session, or 0 */
};

static struct ws_conn *wc(const struct wmq_conn *c)
{
	return c && c->ops == &wmq_transport_ws ? c->engine : NULL;
}

static void enter(struct wmq_conn *c, struct ws_conn *w)
{
	c->ops = w->inner_ops;
	c->engine = w->inner_engine;
}

static void leave(struct wmq_conn *c, struct ws_conn *w)
{
	w->inner_engine = c->engine;
	c->ops = &wmq_transport_ws;
	c->engine = w;
}

static ssize_t inner_read(struct wmq_conn *c, struct ws_conn *w, void *b, size_t n)
{
	enter(c, w);
	ssize_t k = w->inner_ops->read(c, b, n);
	int e = errno;
	leave(c, w);
	errno = e;
	return k;
}

static ssize_t inner_write(struct wmq_conn *c, struct ws_conn *w, const void *b, size_t n)
{
	enter(c, w);
	ssize_t k = w->inner_ops->write(c, b, n);
	int e = errno;
	leave(c, w);
	errno = e;
	return k;
}

/* Append control replies from the decoder to tx. */
static void tx_control(struct ws_conn *w)
{
	uint8_t tmp[2 + WMQ_WS_CTL_MAX + 4];
	size_t n = wmq_ws_dec_take_control(&w->dec, tmp, sizeof tmp);
	if (n && wmq_dbuf_append(&w->tx, tmp, n) != WMQ_OK) {
		/* tx full of unsent data: the peer does not read. Drop the
		 * reply; the session fails on the next write anyway. */
	}
}

/* Send tx. WMQ_OK: all sent; AGAIN; IO (errno set). */
static wmq_err tx_flush(struct wmq_conn *c, struct ws_conn *w)
{
	int spins = 0;
	while (w->tx_off < w->tx.len) {
		ssize_t k = inner_write(c, w, w->tx.p + w->tx_off, w->tx.len - w->tx_off);
		if (k > 0) {
			w->tx_off += (size_t)k;
			/* user payload now on the wire is acknowledged */
			if (w->u_begin < w->u_end && w->tx_off > w->u_begin) {
				size_t nb = w->tx_off < w->u_end ? w->tx_off : w->u_end;
				w->acked += nb - w->u_begin;
				w->u_begin = nb;
			}
			continue;
		}
		if (k < 0 && errno == EINTR && ++spins < 16)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return WMQ_ERR_AGAIN;
		if (k == 0)
			errno = EIO;
		return WMQ_ERR_IO;
	}
	wmq_dbuf_reset(&w->tx);
	w->tx_off = w->u_begin = w->u_end = 0;
	return WMQ_OK;
}

static ssize_t fail_errno(int e)
{
	errno = e;
	return -1;
}

/* Drive the opening handshake. Returns 1 when open, 0 with errno EAGAIN,
 * or -1 with errno (EPROTO refused, or the inner error); 0 may also mean EOF
 * when w->eof is set. */
static int handshake(struct wmq_conn *c, struct ws_conn *w)
{
	while (w->phase == WS_HANDSHAKE) {
		size_t max = w->opts->max_request ? w->opts->max_request : WMQ_WS_DEFAULT_MAX_REQUEST;
		uint8_t *area;
		size_t want = max + 1 - w->hs.len; /* one more shows an over-size */
		if (want > 4096)
			want = 4096;
		if (wmq_dbuf_reserve(&w->hs, want, &area) != WMQ_OK)
			return (int)fail_errno(ENOMEM);
		ssize_t k = inner_read(c, w, area, want);
		if (k == 0) {
			w->eof = true;
			return 0;
		}
		if (k < 0)
			return errno == EINTR ? (int)fail_errno(EAGAIN) : -1;
		w->hs.len += (size_t)k;
		wmq_err e = wmq_ws_upgrade_parse(w->hs.p, w->hs.len, w->opts, &w->up);
		if (e == WMQ_ERR_AGAIN)
			continue;
		uint8_t resp[512];
		size_t n = 0;
		if (e == WMQ_OK) {
			if (wmq_ws_accept_response(w->up.key, w->up.subprotocol, resp, sizeof resp,
						   &n) != WMQ_OK)
				return (int)fail_errno(EPROTO);
			/* bytes after the request are already frames */
			/* (never append 0 bytes: wmq_dbuf_reserve() forms NULL + 0
			 * on an empty buffer, which UBSan reports) */
			if (w->hs.len > w->up.consumed &&
			    wmq_dbuf_append(&w->raw, w->hs.p + w->up.consumed,
					    w->hs.len - w->up.consumed) != WMQ_OK)
				return (int)fail_errno(ENOMEM);
			w->phase = WS_SENDING_101;
		} else {
			if (wmq_ws_error_response(w->up.status, resp, sizeof resp, &n) != WMQ_OK)
				n = 0;
			w->reason = w->up.reason;
			w->phase = WS_REFUSING;
		}
		w->status = w->up.status;
		wmq_dbuf_cleanup(&w->hs);
		if (n && wmq_dbuf_append(&w->tx, resp, n) != WMQ_OK)
			return (int)fail_errno(ENOMEM);
	}
	if (w->phase == WS_SENDING_101 || w->phase == WS_REFUSING) {
		wmq_err e = tx_flush(c, w);
		if (e == WMQ_ERR_AGAIN)
			return (int)fail_errno(EAGAIN);
		if (e != WMQ_OK)
			return -1;
		if (w->phase == WS_REFUSING) {
			w->phase = WS_DONE;
			w->err = EPROTO;
			return (int)fail_errno(EPROTO);
		}
		w->phase = WS_OPEN;
	}
	if (w->phase == WS_DONE)
		return (int)fail_errno(w->err ? w->err : EPIPE);
	return 1;
}

static ssize_t ws_read(struct wmq_conn *c, void *buf, size_t len)
{
	struct ws_conn *w = c->engine;
	if (w->phase != WS_OPEN) {
		if (w->phase == WS_DONE && w->err == 0)
			return 0;
		int h = handshake(c, w);
		if (h <= 0)
			return h;
	}
	(void)tx_flush(c, w); /* queued pongs, best effort */
	size_t got = 0;
	while (got < len) {
		if (w->raw.len == 0) {
			if (w->eof)
				break;
			uint8_t *area;
			if (wmq_dbuf_reserve(&w->raw, 16384, &area) != WMQ_OK)
				return fail_errno(ENOMEM);
			ssize_t k = inner_read(c, w, area, 16384);
			if (k == 0) {
				w->eof = true;
				break;
			}
			if (k < 0) {
				if (got)
					break; /* report the error on the next call */
				return -1;
			}
			w->raw.len += (size_t)k;
		}
		size_t used = 0, produced = 0;
		wmq_err e = wmq_ws_dec_feed(&w->dec, w->raw.p, w->raw.len, &used,
					    (uint8_t *)buf + got, len - got, &produced);
		wmq_dbuf_consume(&w->raw, used);
		got += produced;
		if (e != WMQ_OK) {
			tx_control(w);
			(void)tx_flush(c, w);
			w->phase = WS_DONE;
			w->reason = w->dec.reason;
			w->err = e == WMQ_ERR_CLOSED ? 0 : EPROTO;
			if (got)
				return (ssize_t)got;
			return w->err ? fail_errno(w->err) : 0;
		}
		if (w->dec.pong_len) {
			tx_control(w);
			(void)tx_flush(c, w);
		}
	}
	if (got)
		return (ssize_t)got;
	if (w->eof) {
		w->phase = WS_DONE;
		w->reason = "connection closed without a close frame";
		return 0;
	}
	return fail_errno(EAGAIN);
}

static ssize_t ws_write(struct wmq_conn *c, const void *buf, size_t len)
{
	struct ws_conn *w = c->engine;
	if (w->phase != WS_OPEN) {
		if (w->phase == WS_DONE)
			return fail_errno(EPIPE);
		int h = handshake(c, w);
		if (h <= 0)
			return h == 0 ? fail_errno(EPIPE) : -1;
	}
	if (len == 0)
		return 0;
	size_t pending = w->u_end - w->u_begin;
	if (pending == 0) {
		/* A new frame for (a prefix of) the caller's bytes. */
		size_t n = len < WS_WRITE_CHUNK ? len : WS_WRITE_CHUNK;
		uint8_t hdr[WMQ_WS_FRAME_HDR_MAX];
		size_t hl = wmq_ws_frame_header(hdr, WMQ_WS_OP_BINARY, n);
		if (w->tx_off && w->tx.cap - w->tx.len < hl + n) {
			wmq_dbuf_consume(&w->tx, w->tx_off);
			w->tx_off = 0;
		}
		if (wmq_dbuf_append(&w->tx, hdr, hl) != WMQ_OK)
			return fail_errno(EAGAIN); /* control bytes fill tx: retry */
		if (wmq_dbuf_append(&w->tx, buf, n) != WMQ_OK) {
			w->tx.len -= hl;
			return fail_errno(EAGAIN);
		}
		w->u_end = w->tx.len;
		w->u_begin = w->u_end - n;
	} else if (len < pending) {
		/* The caller must retry with the same bytes (ws.h). */
		return fail_errno(EINVAL);
	}
	w->acked = 0;
	wmq_err e = tx_flush(c, w);
	int saved = errno;
	size_t acked = w->acked;
	if (acked)
		return (ssize_t)acked;
	if (e == WMQ_ERR_IO)
		return fail_errno(saved);
	return fail_errno(EAGAIN);
}

static void ws_close(struct wmq_conn *c)
{
	struct ws_conn *w = c->engine;
	if (w) {
		if (w->phase == WS_OPEN && !w->dec.close_sent) {
			/* §7.1.2: start the closing handshake; best effort. */
			queue_close(&w->dec, WMQ_WS_CLOSE_NORMAL);
			tx_control(w);
		}
		if (w->phase != WS_HANDSHAKE)
			(void)tx_flush(c, w);
		c->ops = w->inner_ops;
		c->engine = w->inner_engine;
		wmq_dbuf_cleanup(&w->hs);
		wmq_dbuf_cleanup(&w->raw);
		wmq_dbuf_cleanup(&w->tx);
		wmq_free(w);
	}
	if (c->ops && c->ops != &wmq_transport_ws)
		c->ops->close(c);
}

const struct wmq_transport_ops wmq_transport_ws = {"ws", ws_read, ws_write, ws_close};

wmq_err wmq_ws_server_start(struct wmq_conn *c, const struct wmq_ws_opts *opts)
{
	WMQ_ENSURE(c && c->ops && c->ops != &wmq_transport_ws && opts, WMQ_ERR_INVAL);
	struct ws_conn *w = wmq_calloc(1, sizeof *w);
	if (!w)
		WMQ_BAIL(WMQ_ERR_NOMEM);
	w->inner_ops = c->ops;
	w->inner_engine = c->engine;
	w->opts = opts;
	w->phase = WS_HANDSHAKE;
	w->reason = "";
	size_t max = opts->max_request ? opts->max_request : WMQ_WS_DEFAULT_MAX_REQUEST;
	wmq_dbuf_init(&w->hs, max + 1);
	wmq_dbuf_init(&w->raw, WS_RAW_MAX);
	wmq_dbuf_init(&w->tx, WS_TX_MAX);
	wmq_ws_dec_init(&w->dec, opts->max_frame);
	c->ops = &wmq_transport_ws;
	c->engine = w;
	return WMQ_OK;
}

bool wmq_ws_is_ws(const struct wmq_conn *c)
{
	return wc(c) != NULL;
}

bool wmq_ws_is_open(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w && w->phase == WS_OPEN;
}

int wmq_ws_http_status(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w ? w->status : 0;
}

uint16_t wmq_ws_close_code(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w ? w->dec.close_code : 0;
}

const char *wmq_ws_reason(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w && w->reason ? w->reason : "";
}

const char *wmq_ws_forwarded_for(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w && w->status == 101 && w->up.xff[0] ? w->up.xff : NULL;
}

const char *wmq_ws_subprotocol(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w && w->status == 101 ? w->up.subprotocol : NULL;
}

bool wmq_ws_buffered(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w && w->phase == WS_OPEN && w->raw.len > 0;
}

bool wmq_ws_pending(const struct wmq_conn *c)
{
	const struct ws_conn *w = wc(c);
	return w && (w->tx_off < w->tx.len || w->dec.pong_len || w->dec.close_len);
}

wmq_err wmq_ws_flush(struct wmq_conn *c)
{
	struct ws_conn *w = wc(c);
	if (!w)
		return WMQ_OK;
	if (w->phase == WS_SENDING_101 || w->phase == WS_REFUSING) {
		/* the handshake completes on the next read() */
		wmq_err e = tx_flush(c, w);
		return e == WMQ_ERR_IO ? wmq_err_note(e, __FILE__, __LINE__) : e;
	}
	tx_control(w);
	wmq_err e = tx_flush(c, w);
	if (e == WMQ_ERR_IO)
		WMQ_BAIL(e);
	return e;
}

void wmq_ws_with_inner(struct wmq_conn *c, void (*fn)(struct wmq_conn *c, void *arg), void *arg)
{
	struct ws_conn *w = wc(c);
	if (!w) {
		fn(c, arg);
		return;
	}
	enter(c, w);
	fn(c, arg);
	leave(c, w);
}
