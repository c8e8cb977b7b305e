/* SPDX-License-Identifier: MIT
 * ws_test.c - the WebSocket layer (net/ws.h): upgrade parsing and
 * responses, frame decoding/encoding (RFC 6455 examples), MQTT byte-stream
 * reassembly, control frames, failures with their close codes, and the
 * transport end to end over a non-blocking socketpair against a client
 * written here. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "net/conn.h"
#include "net/ws.h"
#include "test.h"

static const struct wmq_ws_opts opts_mqtt = {.path = "/mqtt"};

/* A Chromium + mqtt.js style request; |extra| lines are inserted before
 * the blank line. */
static size_t req(char *out, size_t cap, const char *path, const char *extra)
{
	int n = snprintf(out, cap,
			 "GET %s HTTP/1.1\r\n"
			 "Host: localhost:8083\r\n"
			 "Connection: Upgrade\r\n"
			 "Pragma: no-cache\r\n"
			 "Cache-Control: no-cache\r\n"
			 "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0\r\n"
			 "Upgrade: websocket\r\n"
			 "Origin: http://localhost:8080\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "Accept-Encoding: gzip, deflate, br\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
			 "Sec-WebSocket-Protocol: mqtt\r\n"
			 "%s\r\n",
			 path, extra ? extra : "");
	if (n < 0 || (size_t)n >= cap)
		TEST_FAIL_("request too long");
	return (size_t)n;
}

static wmq_err parse_str(const char *s, const struct wmq_ws_opts *o, struct wmq_ws_upgrade *u)
{
	return wmq_ws_upgrade_parse((const uint8_t *)s, strlen(s), o, u);
}

/* Replace the first occurrence of |from| in s by |to| (in place). */
static void subst(char *s, size_t cap, const char *from, const char *to)
{
	char *at = strstr(s, from);
	char tmp[4096];
	if (!at)
		TEST_FAIL_("'%s' not in request", from);
	snprintf(tmp, sizeof tmp, "%s%s", to, at + strlen(from));
	if ((size_t)(at - s) + strlen(tmp) >= cap)
		TEST_FAIL_("subst overflow");
	memcpy(at, tmp, strlen(tmp) + 1);
}

/* ---- upgrade ------------------------------------------------------------- */

TEST(upgrade_valid_chromium)
{
	char r[2048];
	size_t n = req(r, sizeof r, "/mqtt", NULL);
	struct wmq_ws_upgrade u;
	ASSERT_EQ(wmq_ws_upgrade_parse((uint8_t *)r, n, &opts_mqtt, &u), WMQ_OK);
	ASSERT_EQ(u.consumed, n);
	ASSERT_EQ(u.status, 101);
	ASSERT_STREQ(u.key, "dGhlIHNhbXBsZSBub25jZQ==");
	ASSERT_STREQ(u.subprotocol, "mqtt");
	ASSERT_STREQ(u.xff, "");
}

TEST(upgrade_rfc_accept_key)
{
	/* RFC 6455 §1.3 example. */
	char acc[WMQ_WS_ACCEPT_LEN + 1];
	ASSERT_EQ(wmq_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc), WMQ_OK);
	ASSERT_STREQ(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	uint8_t out[512];
	size_t n = 0;
	ASSERT_EQ(wmq_ws_accept_response("dGhlIHNhbXBsZSBub25jZQ==", "mqtt", out, sizeof out, &n),
		  WMQ_OK);
	out[n] = 0;
	ASSERT(strncmp((char *)out, "HTTP/1.1 101 Switching Protocols\r\n", 34) == 0);
	ASSERT(strstr((char *)out, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	ASSERT(strstr((char *)out, "\r\nSec-WebSocket-Protocol: mqtt\r\n"));
	ASSERT(strstr((char *)out, "\r\nUpgrade: websocket\r\n"));
	ASSERT(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
	ASSERT_EQ(wmq_ws_accept_response("dGhlIHNhbXBsZSBub25jZQ==", "mqtt", out, 20, &n),
		  WMQ_ERR_LIMIT);
}

TEST(upgrade_case_insensitive_and_lists)
{
	const char *r = "GET /mqtt?x=1 HTTP/1.1\r\n"
			"HOST: broker\r\n"
			"uPgRaDe: WebSocket\r\n"
			"connection: keep-alive, UPGRADE\r\n"
			"sec-websocket-version:13\r\n"
			"SEC-WEBSOCKET-KEY:   AAAAAAAAAAAAAAAAAAAAAA==  \r\n"
			"Sec-WebSocket-Protocol: foo\r\n"
			"Sec-WebSocket-Protocol: bar , mqttv3.1\r\n"
			"\r\n";
	struct wmq_ws_upgrade u;
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_OK);
	ASSERT_STREQ(u.key, "AAAAAAAAAAAAAAAAAAAAAA==");
	ASSERT_STREQ(u.subprotocol, "mqttv3.1");
}

TEST(upgrade_mqtt_preferred_over_v31)
{
	char r[2048];
	req(r, sizeof r, "/mqtt", NULL);
	subst(r, sizeof r, "Protocol: mqtt", "Protocol: mqttv3.1, mqtt");
	struct wmq_ws_upgrade u;
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_OK);
	ASSERT_STREQ(u.subprotocol, "mqtt");
}

TEST(upgrade_split_across_reads)
{
	char r[2048];
	size_t n = req(r, sizeof r, "/mqtt", NULL);
	struct wmq_ws_upgrade u;
	for (size_t k = 0; k < n; k++)
		ASSERT_EQ(wmq_ws_upgrade_parse((uint8_t *)r, k, &opts_mqtt, &u), WMQ_ERR_AGAIN);
	/* bytes after the request (frames) are not consumed */
	memcpy(r + n, "\x82\x80", 2);
	ASSERT_EQ(wmq_ws_upgrade_parse((uint8_t *)r, n + 2, &opts_mqtt, &u), WMQ_OK);
	ASSERT_EQ(u.consumed, n);
}

TEST(upgrade_oversize)
{
	struct wmq_ws_opts o = {.path = "/mqtt", .max_request = 256};
	char r[2048];
	size_t n = req(r, sizeof r, "/mqtt", NULL); /* > 256 bytes */
	struct wmq_ws_upgrade u;
	ASSERT(n > 256);
	ASSERT_EQ(wmq_ws_upgrade_parse((uint8_t *)r, 255, &o, &u), WMQ_ERR_AGAIN);
	ASSERT_EQ(wmq_ws_upgrade_parse((uint8_t *)r, 256, &o, &u), WMQ_ERR_LIMIT);
	ASSERT_EQ(u.status, 431);
	ASSERT_EQ(wmq_ws_upgrade_parse((uint8_t *)r, n, &o, &u), WMQ_ERR_LIMIT);
	/* default cap: 8 KiB of headers without an end */
	static uint8_t big[9000];
	memcpy(big, "GET /mqtt HTTP/1.1\r\n", 20);
	memset(big + 20, 'a', sizeof big - 20);
	ASSERT_EQ(wmq_ws_upgrade_parse(big, sizeof big, &opts_mqtt, &u), WMQ_ERR_LIMIT);
}

TEST(upgrade_status_404_path)
{
	char r[2048];
	req(r, sizeof r, "/other", NULL);
	struct wmq_ws_upgrade u;
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_ERR_NOTFOUND);
	ASSERT_EQ(u.status, 404);
	req(r, sizeof r, "/mqttx", NULL);
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_ERR_NOTFOUND);
	struct wmq_ws_opts any = {0};
	ASSERT_EQ(parse_str(r, &any, &u), WMQ_OK);
}

TEST(upgrade_status_426_version)
{
	char r[2048];
	struct wmq_ws_upgrade u;
	req(r, sizeof r, "/mqtt", NULL);
	subst(r, sizeof r, "Version: 13", "Version: 8");
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(u.status, 426);
	req(r, sizeof r, "/mqtt", NULL);
	subst(r, sizeof r, "Sec-WebSocket-Version: 13\r\n", "");
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(u.status, 426);
	uint8_t out[512];
	size_t n = 0;
	ASSERT_EQ(wmq_ws_error_response(426, out, sizeof out - 1, &n), WMQ_OK);
	out[n] = 0;
	ASSERT(strncmp((char *)out, "HTTP/1.1 426 Upgrade Required\r\n", 31) == 0);
	ASSERT(strstr((char *)out, "\r\nSec-WebSocket-Version: 13\r\n"));
}

TEST(upgrade_status_403_origin)
{
	static const char *const allow[] = {"https://app.example", "http://localhost:8080", NULL};
	struct wmq_ws_opts o = {.path = "/mqtt", .origins = allow};
	char r[2048];
	struct wmq_ws_upgrade u;
	req(r, sizeof r, "/mqtt", NULL);
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_OK);
	subst(r, sizeof r, "localhost:8080", "evil.example");
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_ERR_DENIED);
	ASSERT_EQ(u.status, 403);
	/* no Origin (a non-browser client): allowed unless required */
	req(r, sizeof r, "/mqtt", NULL);
	subst(r, sizeof r, "Origin: http://localhost:8080\r\n", "");
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_OK);
	o.origin_required = true;
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_ERR_DENIED);
	uint8_t out[256];
	size_t n = 0;
	ASSERT_EQ(wmq_ws_error_response(403, out, sizeof out - 1, &n), WMQ_OK);
	out[n] = 0;
	ASSERT(strncmp((char *)out, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
}

TEST(upgrade_status_400_cases)
{
	static const struct {
		const char *from, *to;
	} cases[] = {
		{"GET /mqtt HTTP/1.1", "POST /mqtt HTTP/1.1"},
		{"GET /mqtt HTTP/1.1", "GET /mqtt HTTP/1.0"},
		{"GET /mqtt HTTP/1.1", "GET  /mqtt HTTP/1.1"},
		{"GET /mqtt HTTP/1.1", "GET mqtt HTTP/1.1"},
		{"Host: localhost:8083\r\n", ""},
		{"Upgrade: websocket", "Upgrade: h2c"},
		{"Connection: Upgrade", "Connection: keep-alive"},
		{"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""},
		{"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"},   /* not 16 bytes */
		{"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZR=="}, /* non-canonical */
		{"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub2*jZQ=="},
		{"Protocol: mqtt", "Protocol: MQTT"},
		{"Sec-WebSocket-Protocol: mqtt\r\n", ""},
		{"Pragma: no-cache", "Pragma : no-cache"},    /* space before colon */
		{"Pragma: no-cache\r\n", "Pragma: no\r\n -cache\r\n"}, /* obs-fold */
		{"Pragma: no-cache", "Pragma: no\x01" "cache"}, /* CTL */
		{"Pragma: no-cache", "Pragma: no\ncache"},     /* bare LF */
		{"Pragma: no-cache", "Host: again"},           /* duplicate Host */
		{"Pragma: no-cache", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		char r[2048];
		struct wmq_ws_upgrade u;
		req(r, sizeof r, "/mqtt", NULL);
		subst(r, sizeof r, cases[i].from, cases[i].to);
		wmq_err e = parse_str(r, &opts_mqtt, &u);
		if (e != WMQ_ERR_MALFORMED || u.status != 400)
			TEST_FAIL_("case %zu: got %d status %d (%s)", i, (int)e, u.status, u.reason);
	}
	struct wmq_ws_upgrade u;
	ASSERT_EQ(parse_str("HELLO", &opts_mqtt, &u), WMQ_ERR_MALFORMED); /* early */
	ASSERT_EQ(parse_str("\x10\x0c\x00\x04MQTT", &opts_mqtt, &u), WMQ_ERR_MALFORMED);
	uint8_t out[256];
	size_t n = 0;
	ASSERT_EQ(wmq_ws_error_response(400, out, sizeof out - 1, &n), WMQ_OK);
	out[n] = 0;
	ASSERT(strncmp((char *)out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	ASSERT_EQ(wmq_ws_error_response(404, out, sizeof out - 1, &n), WMQ_OK);
	ASSERT_EQ(wmq_ws_error_response(404, out, 10, &n), WMQ_ERR_LIMIT);
}

TEST(upgrade_xff)
{
	char r[2048];
	struct wmq_ws_upgrade u;
	struct wmq_ws_opts o = {.path = "/mqtt", .trust_xff = true};
	req(r, sizeof r, "/mqtt", "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n");
	ASSERT_EQ(parse_str(r, &opts_mqtt, &u), WMQ_OK);
	ASSERT_STREQ(u.xff, ""); /* not trusted */
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_OK);
	ASSERT_STREQ(u.xff, "203.0.113.7");
	req(r, sizeof r, "/mqtt", "x-forwarded-for:  2001:db8::1 \r\n");
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_OK);
	ASSERT_STREQ(u.xff, "2001:db8::1");
	req(r, sizeof r, "/mqtt", "X-Forwarded-For: not-an-ip\r\n");
	ASSERT_EQ(parse_str(r, &o, &u), WMQ_OK);
	ASSERT_STREQ(u.xff, "");
}

/* ---- frames -------------------------------------------------------------- */

static const uint8_t mkey[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A client frame: b0 (FIN/RSV/opcode), masked with mkey if |mask|. */
static size_t cframe(uint8_t *out, uint8_t b0, const void *pl, size_t n, int mask)
{
	size_t h = 0;
	const uint8_t *p = pl;
	out[h++] = b0;
	uint8_t m = mask ? 0x80 : 0;
	if (n <= 125) {
		out[h++] = (uint8_t)(m | n);
	} else if (n <= 0xffff) {
		out[h++] = (uint8_t)(m | 126);
		out[h++] = (uint8_t)(n >> 8);
		out[h++] = (uint8_t)n;
	} else {
		out[h++] = (uint8_t)(m | 127);
		for (int i = 0; i < 8; i++)
			out[h++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	if (mask) {
		memcpy(out + h, mkey, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		out[h + i] = mask ? (uint8_t)(p[i] ^ mkey[i & 3]) : p[i];
	return h + n;
}

/* Feed in[0..n) in chunks of |step| bytes, collecting output. */
static wmq_err feed(struct wmq_ws_dec *d, const uint8_t *in, size_t n, size_t step, uint8_t *out,
		    size_t cap, size_t *olen)
{
	size_t i = 0;
	*olen = 0;
	while (i < n) {
		size_t chunk = n - i < step ? n - i : step, used = 0, prod = 0;
		wmq_err e = wmq_ws_dec_feed(d, in + i, chunk, &used, out + *olen, cap - *olen, &prod);
		*olen += prod;
		i += used;
		if (e != WMQ_OK)
			return e;
		if (used == 0 && prod == 0)
			TEST_FAIL_("decoder stalled");
	}
	return WMQ_OK;
}

TEST(frame_rfc_hello_text_refused)
{
	/* RFC 6455 §5.7: a single-frame masked text message "Hello". */
	uint8_t f[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct wmq_ws_dec d;
	uint8_t out[64], ctl[16];
	size_t n;
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, f, sizeof f, sizeof f, out, sizeof out, &n), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(n, 0);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1003);
	size_t k = wmq_ws_dec_take_control(&d, ctl, sizeof ctl);
	ASSERT_EQ(k, 4);
	ASSERT_MEMEQ(ctl, "\x88\x02\x03\xeb", 4);
	/* sticky */
	size_t used, prod;
	ASSERT_EQ(wmq_ws_dec_feed(&d, f, sizeof f, &used, out, sizeof out, &prod), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(used, 0);
}

TEST(frame_rfc_hello_binary_accepted)
{
	uint8_t f[] = {0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	for (size_t step = 1; step <= sizeof f; step++) {
		struct wmq_ws_dec d;
		uint8_t out[64];
		size_t n;
		wmq_ws_dec_init(&d, 0);
		ASSERT_EQ(feed(&d, f, sizeof f, step, out, sizeof out, &n), WMQ_OK);
		ASSERT_EQ(n, 5);
		ASSERT_MEMEQ(out, "Hello", 5);
	}
}

TEST(frame_unmasked_refused)
{
	/* RFC 6455 §5.7 unmasked "Hello" - from a client: §5.1 -> 1002. */
	uint8_t f[] = {0x82, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
	struct wmq_ws_dec d;
	uint8_t out[16];
	size_t n;
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, f, sizeof f, 1, out, sizeof out, &n), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1002);
}

TEST(frame_fragmented_reassembled)
{
	/* §5.7 fragmented "Hel" + "lo", masked, binary then continuation,
	 * with a ping between the fragments (§5.4 allows it). */
	uint8_t b[128];
	size_t n = 0;
	n += cframe(b + n, 0x02, "Hel", 3, 1);
	n += cframe(b + n, 0x89, "hi", 2, 1);
	n += cframe(b + n, 0x80, "lo", 2, 1);
	struct wmq_ws_dec d;
	uint8_t out[16], ctl[32];
	size_t k;
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, 3, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(k, 5);
	ASSERT_MEMEQ(out, "Hello", 5);
	ASSERT_EQ(wmq_ws_dec_take_control(&d, ctl, sizeof ctl), 4);
	ASSERT_MEMEQ(ctl, "\x8a\x02hi", 4);
}

TEST(frame_fragment_errors)
{
	uint8_t b[64];
	struct wmq_ws_dec d;
	uint8_t out[16];
	size_t n, k;
	/* continuation without a message */
	n = cframe(b, 0x80, "x", 1, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1002);
	/* a new binary message inside a fragmented one */
	n = cframe(b, 0x02, "x", 1, 1);
	n += cframe(b + n, 0x82, "y", 1, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(k, 1);
	/* fragmented ping */
	n = cframe(b, 0x09, "x", 1, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	/* reserved opcode and RSV bits */
	n = cframe(b, 0x83, "x", 1, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	n = cframe(b, 0xc2, "x", 1, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1002);
}

TEST(frame_mqtt_split_across_frames)
{
	/* CONNECT of 14 bytes split in 3 frames of one message each. */
	uint8_t pkt[] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00};
	uint8_t b[128];
	size_t n = 0;
	n += cframe(b + n, 0x82, pkt, 1, 1);
	n += cframe(b + n, 0x82, pkt + 1, 7, 1);
	n += cframe(b + n, 0x82, pkt + 8, 6, 1);
	struct wmq_ws_dec d;
	uint8_t out[64];
	size_t k;
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, 5, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(k, sizeof pkt);
	ASSERT_MEMEQ(out, pkt, sizeof pkt);
}

TEST(frame_several_packets_one_frame)
{
	/* PINGREQ, PUBLISH "a/b" "hi", PINGREQ in one frame */
	uint8_t pk[] = {0xc0, 0x00, 0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i', 0xc0, 0x00};
	uint8_t b[64];
	size_t n = cframe(b, 0x82, pk, sizeof pk, 1);
	struct wmq_ws_dec d;
	uint8_t out[64];
	size_t k;
	wmq_ws_dec_init(&d, 0);
	/* a small output buffer: the decoder stops and resumes */
	size_t i = 0, got = 0;
	while (i < n) {
		size_t used, prod;
		ASSERT_EQ(wmq_ws_dec_feed(&d, b + i, n - i, &used, out + got, 4 < sizeof out - got ? 4 : 0,
					  &prod),
			  WMQ_OK);
		ASSERT(prod <= 4);
		i += used;
		got += prod;
	}
	ASSERT_EQ(got, sizeof pk);
	ASSERT_MEMEQ(out, pk, sizeof pk);
	(void)k;
}

TEST(frame_lengths_16_64_and_nonminimal)
{
	static uint8_t pl[70000], b[70100], out[70000];
	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)(i * 7);
	struct wmq_ws_dec d;
	size_t n, k;
	/* 16-bit length */
	n = cframe(b, 0x82, pl, 300, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, 1000, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(k, 300);
	ASSERT_MEMEQ(out, pl, 300);
	/* 64-bit length */
	n = cframe(b, 0x82, pl, sizeof pl, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, 4096, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(k, sizeof pl);
	ASSERT_MEMEQ(out, pl, sizeof pl);
	/* non-minimal: 3 bytes in a 64-bit length, and in a 16-bit one */
	uint8_t nm[] = {0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 'a', 'b', 'c',
			0x82, 0xfe, 0, 2, 0, 0, 0, 0, 'd', 'e'};
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, nm, sizeof nm, 1, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(k, 5);
	ASSERT_MEMEQ(out, "abcde", 5);
	/* 64-bit length with the high bit set: §5.2 -> 1002 */
	uint8_t hb[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, hb, sizeof hb, sizeof hb, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1002);
}

TEST(frame_oversize_1009)
{
	uint8_t b[300], pl[200] = {0}, out[300];
	size_t n = cframe(b, 0x82, pl, 200, 1), k;
	struct wmq_ws_dec d;
	wmq_ws_dec_init(&d, 100);
	/* refused at the header, before the payload arrives */
	ASSERT_EQ(feed(&d, b, 8, 8, out, sizeof out, &k), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1009);
	wmq_ws_dec_init(&d, 200);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_OK);
	/* a 130-byte ping is over the control limit: 1002 */
	n = cframe(b, 0x89, pl, 130, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1002);
}

TEST(frame_ping_pong)
{
	uint8_t b[512], out[16], ctl[256], pl[125];
	memset(pl, 'p', sizeof pl);
	size_t n = 0, k;
	n += cframe(b + n, 0x89, "one", 3, 1);
	n += cframe(b + n, 0x8a, "unsolicited", 11, 1); /* pong: ignored */
	n += cframe(b + n, 0x89, pl, sizeof pl, 1);     /* the latest wins */
	struct wmq_ws_dec d;
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, 7, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(k, 0);
	ASSERT_EQ(wmq_ws_dec_take_control(&d, ctl, 10), 0); /* does not fit: stays */
	size_t c = wmq_ws_dec_take_control(&d, ctl, sizeof ctl);
	ASSERT_EQ(c, 127);
	ASSERT_EQ(ctl[0], 0x8a);
	ASSERT_EQ(ctl[1], 125); /* unmasked (§5.1) */
	ASSERT_MEMEQ(ctl + 2, pl, 125);
	ASSERT_EQ(wmq_ws_dec_take_control(&d, ctl, sizeof ctl), 0);
	/* empty ping */
	n = cframe(b, 0x89, "", 0, 1);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_OK);
	ASSERT_EQ(wmq_ws_dec_take_control(&d, ctl, sizeof ctl), 2);
	ASSERT_MEMEQ(ctl, "\x8a\x00", 2);
}

TEST(frame_close_handshake)
{
	uint8_t b[256], out[16], ctl[64];
	size_t n = 0, k;
	struct wmq_ws_dec d;
	/* data then close 1001 "bye": the data is delivered, reply echoes */
	n += cframe(b + n, 0x82, "ab", 2, 1);
	n += cframe(b + n, 0x88, "\x03\xe9" "bye", 5, 1);
	n += cframe(b + n, 0x82, "zz", 2, 1); /* after close: ignored */
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_CLOSED);
	ASSERT_EQ(k, 2);
	ASSERT_EQ(wmq_ws_dec_take_control(&d, ctl, sizeof ctl), 4);
	ASSERT_MEMEQ(ctl, "\x88\x02\x03\xe9", 4);
	/* empty close -> 1000 */
	n = cframe(b, 0x88, "", 0, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_CLOSED);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 1000);
	/* bad closes */
	static const struct {
		const char *p;
		size_t n;
		uint16_t code;
	} bad[] = {
		{"\x03", 1, 1002},           /* one byte */
		{"\x03\xed", 2, 1002},       /* 1005 may not be sent */
		{"\x00\x64", 2, 1002},       /* 100 */
		{"\x03\xe8\xc3\x28", 4, 1007}, /* bad UTF-8 reason */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		n = cframe(b, 0x88, bad[i].p, bad[i].n, 1);
		wmq_ws_dec_init(&d, 0);
		ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_PROTOCOL);
		ASSERT_EQ(wmq_ws_dec_close_code(&d), bad[i].code);
	}
	/* codes 3000-4999 are fine, NUL in a reason is valid UTF-8 */
	n = cframe(b, 0x88, "\x0f\xa0" "a\0b", 5, 1);
	wmq_ws_dec_init(&d, 0);
	ASSERT_EQ(feed(&d, b, n, n, out, sizeof out, &k), WMQ_ERR_CLOSED);
	ASSERT_EQ(wmq_ws_dec_close_code(&d), 4000);
}

TEST(encode_frames)
{
	uint8_t out[70010];
	static uint8_t pl[70000];
	size_t n;
	ASSERT_EQ(wmq_ws_encode_binary((const uint8_t *)"Hello", 5, out, sizeof out, &n), WMQ_OK);
	ASSERT_EQ(n, 7);
	ASSERT_MEMEQ(out, "\x82\x05Hello", 7);
	ASSERT_EQ(wmq_ws_encode_binary(pl, 256, out, sizeof out, &n), WMQ_OK);
	ASSERT_EQ(n, 260);
	ASSERT_MEMEQ(out, "\x82\x7e\x01\x00", 4); /* §5.7 256 bytes */
	ASSERT_EQ(wmq_ws_encode_binary(pl, 65536, out, sizeof out, &n), WMQ_OK);
	ASSERT_MEMEQ(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10); /* §5.7 64 KiB */
	ASSERT_EQ(n, 65546);
	ASSERT_EQ(wmq_ws_encode_binary(pl, 126, out, 100, &n), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_ws_encode_pong((const uint8_t *)"Hello", 5, out, sizeof out, &n), WMQ_OK);
	ASSERT_MEMEQ(out, "\x8a\x05Hello", 7);
	ASSERT_EQ(wmq_ws_encode_pong(pl, 126, out, sizeof out, &n), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_ws_encode_close(1000, out, sizeof out, &n), WMQ_OK);
	ASSERT_EQ(n, 4);
	ASSERT_MEMEQ(out, "\x88\x02\x03\xe8", 4);
	ASSERT_EQ(wmq_ws_encode_close(0, out, sizeof out, &n), WMQ_OK);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(wmq_ws_encode_close(1000, out, 3, &n), WMQ_ERR_LIMIT);
}

/* ---- transport over a socketpair ------------------------------------------ */

struct pair {
	struct wmq_conn c; /* server side */
	int cli;           /* client side fd (non-blocking) */
};

static void pair_open(struct pair *p, const struct wmq_ws_opts *o)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_EQ(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ASSERT_EQ(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	wmq_conn_init(&p->c, sv[0], &wmq_transport_tcp, "test", 1 << 20, 1 << 20);
	p->cli = sv[1];
	ASSERT_EQ(wmq_ws_server_start(&p->c, o), WMQ_OK);
	ASSERT(wmq_ws_is_ws(&p->c));
	ASSERT_EQ(wmq_ws_server_start(&p->c, o), WMQ_ERR_INVAL);
}

static void pair_close(struct pair *p)
{
	wmq_conn_cleanup(&p->c);
	if (p->cli >= 0)
		close(p->cli);
}

static void cli_send(struct pair *p, const void *b, size_t n)
{
	ASSERT_EQ(write(p->cli, b, n), (ssize_t)n);
}

/* Read what the client has (up to cap) after the server acted. */
static size_t cli_recv(struct pair *p, uint8_t *b, size_t cap)
{
	ssize_t k = read(p->cli, b, cap);
	return k > 0 ? (size_t)k : 0;
}

static void do_upgrade(struct pair *p)
{
	char r[2048];
	uint8_t resp[1024];
	size_t n = req(r, sizeof r, "/mqtt", NULL);
	/* split in two writes; read() says EAGAIN in between */
	cli_send(p, r, 40);
	ASSERT_EQ(wmq_conn_fill(&p->c, 65536), WMQ_OK);
	ASSERT_EQ(p->c.in.len, 0);
	ASSERT(!wmq_ws_is_open(&p->c));
	ASSERT_EQ(wmq_ws_http_status(&p->c), 0);
	cli_send(p, r + 40, n - 40);
	ASSERT_EQ(wmq_conn_fill(&p->c, 65536), WMQ_OK);
	ASSERT_EQ(p->c.in.len, 0);
	ASSERT(wmq_ws_is_open(&p->c));
	ASSERT_EQ(wmq_ws_http_status(&p->c), 101);
	ASSERT_STREQ(wmq_ws_subprotocol(&p->c), "mqtt");
	size_t k = cli_recv(p, resp, sizeof resp - 1);
	resp[k] = 0;
	ASSERT(strncmp((char *)resp, "HTTP/1.1 101 ", 13) == 0);
	ASSERT(strstr((char *)resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

TEST(transport_end_to_end)
{
	struct pair p;
	pair_open(&p, &opts_mqtt);
	do_upgrade(&p);
	ASSERT_EQ(wmq_ws_forwarded_for(&p.c), NULL);

	/* CONNECT split across two frames, then two packets in one frame */
	uint8_t pkt[] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00};
	uint8_t b[256], rx[256];
	size_t n = 0;
	n += cframe(b + n, 0x82, pkt, 5, 1);
	n += cframe(b + n, 0x82, pkt + 5, sizeof pkt - 5, 1);
	cli_send(&p, b, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_OK);
	ASSERT_EQ(p.c.in.len, sizeof pkt);
	ASSERT_MEMEQ(p.c.in.p, pkt, sizeof pkt);
	wmq_dbuf_consume(&p.c.in, p.c.in.len);

	/* server -> client: CONNACK as one unmasked binary frame */
	ASSERT_EQ(wmq_conn_queue(&p.c, "\x20\x02\x00\x00", 4), WMQ_OK);
	ASSERT_EQ(wmq_conn_flush(&p.c), WMQ_OK);
	ASSERT(!wmq_ws_pending(&p.c));
	size_t k = cli_recv(&p, rx, sizeof rx);
	ASSERT_EQ(k, 6);
	ASSERT_MEMEQ(rx, "\x82\x04\x20\x02\x00\x00", 6);

	/* ping -> pong, answered during read */
	n = cframe(b, 0x89, "png", 3, 1);
	n += cframe(b + n, 0x82, "\xc0\x00", 2, 1);
	cli_send(&p, b, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_OK);
	ASSERT_EQ(p.c.in.len, 2);
	k = cli_recv(&p, rx, sizeof rx);
	ASSERT_EQ(k, 5);
	ASSERT_MEMEQ(rx, "\x8a\x03png", 5);

	/* client close -> reply 1000, conn_fill says CLOSED */
	n = cframe(b, 0x88, "\x03\xe8", 2, 1);
	cli_send(&p, b, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_ERR_CLOSED);
	k = cli_recv(&p, rx, sizeof rx);
	ASSERT_EQ(k, 4);
	ASSERT_MEMEQ(rx, "\x88\x02\x03\xe8", 4);
	ASSERT_EQ(wmq_ws_close_code(&p.c), 1000);
	/* no data after the close */
	ASSERT_EQ(wmq_conn_queue(&p.c, "x", 1), WMQ_OK);
	ASSERT_EQ(wmq_conn_flush(&p.c), WMQ_ERR_IO);
	pair_close(&p);
}

TEST(transport_refused_upgrade)
{
	static const struct {
		const char *path;
		const char *needle;
	} cases[] = {{"/nope", "HTTP/1.1 404 "}, {"/mqtt", "HTTP/1.1 426 "}};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		struct pair p;
		char r[2048];
		uint8_t resp[512];
		pair_open(&p, &opts_mqtt);
		size_t n = req(r, sizeof r, cases[i].path, NULL);
		if (i == 1) {
			subst(r, sizeof r, "Version: 13", "Version: 7");
			n = strlen(r);
		}
		cli_send(&p, r, n);
		ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_ERR_IO);
		ASSERT_EQ(errno, EPROTO);
		size_t k = cli_recv(&p, resp, sizeof resp - 1);
		resp[k] = 0;
		ASSERT(strncmp((char *)resp, cases[i].needle, strlen(cases[i].needle)) == 0);
		ASSERT(wmq_ws_http_status(&p.c) == (i == 0 ? 404 : 426));
		ASSERT(wmq_ws_reason(&p.c)[0] != '\0');
		pair_close(&p);
	}
}

TEST(transport_protocol_error_closes)
{
	struct pair p;
	uint8_t b[64], rx[64];
	pair_open(&p, &opts_mqtt);
	do_upgrade(&p);
	size_t n = cframe(b, 0x82, "ab", 2, 0); /* unmasked */
	cli_send(&p, b, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_ERR_IO);
	ASSERT_EQ(wmq_ws_close_code(&p.c), 1002);
	ASSERT_STREQ(wmq_ws_reason(&p.c), "unmasked client frame");
	size_t k = cli_recv(&p, rx, sizeof rx);
	ASSERT_EQ(k, 4);
	ASSERT_MEMEQ(rx, "\x88\x02\x03\xea", 4);
	pair_close(&p);
}

TEST(transport_frames_with_request_and_xff)
{
	/* the client pipelines a frame right behind the request */
	struct wmq_ws_opts o = {.path = "/mqtt", .trust_xff = true};
	struct pair p;
	char r[2048];
	uint8_t resp[1024];
	pair_open(&p, &o);
	size_t n = req(r, sizeof r, "/mqtt", "X-Forwarded-For: 198.51.100.9\r\n");
	n += cframe((uint8_t *)r + n, 0x82, "\xc0\x00", 2, 1);
	cli_send(&p, r, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_OK);
	ASSERT_EQ(p.c.in.len, 2);
	ASSERT_MEMEQ(p.c.in.p, "\xc0\x00", 2);
	ASSERT_STREQ(wmq_ws_forwarded_for(&p.c), "198.51.100.9");
	(void)cli_recv(&p, resp, sizeof resp);
	pair_close(&p);
}

TEST(transport_big_write_partial)
{
	/* 600 KB through a socketpair: write() sees EAGAIN and short writes;
	 * the client reassembles the frames and gets every byte in order. */
	struct pair p;
	pair_open(&p, &opts_mqtt);
	do_upgrade(&p);
	size_t total = 600 * 1024;
	uint8_t *src = wmq_malloc(total), *got = wmq_malloc(total), *raw = wmq_malloc(1 << 20);
	ASSERT(src && got && raw);
	for (size_t i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 8));
	ASSERT_EQ(wmq_conn_queue(&p.c, src, total), WMQ_OK);
	size_t rawlen = 0, glen = 0, spins = 0;
	wmq_err e;
	while ((e = wmq_conn_flush(&p.c)) == WMQ_ERR_AGAIN || rawlen || glen < total) {
		ASSERT(e == WMQ_OK || e == WMQ_ERR_AGAIN);
		ASSERT(++spins < 100000);
		ssize_t k = read(p.cli, raw + rawlen, (1 << 20) - rawlen);
		if (k > 0)
			rawlen += (size_t)k;
		/* parse complete unmasked server frames */
		for (;;) {
			if (rawlen < 2)
				break;
			ASSERT_EQ(raw[0], 0x82);
			ASSERT((raw[1] & 0x80) == 0);
			size_t h = 2, len = raw[1] & 0x7f;
			if (len == 126) {
				if (rawlen < 4)
					break;
				len = (size_t)raw[2] << 8 | raw[3];
				h = 4;
			} else if (len == 127) {
				if (rawlen < 10)
					break;
				len = 0;
				for (int i = 0; i < 8; i++)
					len = len << 8 | raw[2 + i];
				h = 10;
			}
			if (rawlen < h + len)
				break;
			ASSERT(glen + len <= total);
			memcpy(got + glen, raw + h, len);
			glen += len;
			memmove(raw, raw + h + len, rawlen - h - len);
			rawlen -= h + len;
		}
		if (e == WMQ_OK && glen == total && rawlen == 0)
			break;
	}
	ASSERT_EQ(glen, total);
	ASSERT_MEMEQ(got, src, total);
	ASSERT(!wmq_ws_pending(&p.c));
	wmq_free(src);
	wmq_free(got);
	wmq_free(raw);
	pair_close(&p);
}

TEST(transport_close_sends_close_frame)
{
	struct pair p;
	uint8_t rx[64];
	pair_open(&p, &opts_mqtt);
	do_upgrade(&p);
	int cli = p.cli;
	p.cli = -1;
	pair_close(&p);
	ASSERT_EQ(read(cli, rx, sizeof rx), 4);
	ASSERT_MEMEQ(rx, "\x88\x02\x03\xe8", 4);
	ASSERT_EQ(read(cli, rx, sizeof rx), 0); /* and the socket is closed */
	close(cli);
}

TEST(transport_eof_during_handshake)
{
	struct pair p;
	pair_open(&p, &opts_mqtt);
	cli_send(&p, "GET /mq", 7);
	shutdown(p.cli, SHUT_WR);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_ERR_CLOSED);
	pair_close(&p);
}

TEST(transport_buffered_budget)
{
	/* a read budget smaller than the frame leaves bytes in the layer */
	struct pair p;
	uint8_t pl[100], b[128];
	for (size_t i = 0; i < sizeof pl; i++)
		pl[i] = (uint8_t)i;
	pair_open(&p, &opts_mqtt);
	do_upgrade(&p);
	ASSERT(!wmq_ws_buffered(&p.c));
	size_t n = cframe(b, 0x82, pl, sizeof pl, 1);
	cli_send(&p, b, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 30), WMQ_OK);
	ASSERT_EQ(p.c.in.len, 30);
	ASSERT(wmq_ws_buffered(&p.c));
	while (wmq_ws_buffered(&p.c))
		ASSERT_EQ(wmq_conn_fill(&p.c, 30), WMQ_OK);
	ASSERT_EQ(p.c.in.len, sizeof pl);
	ASSERT_MEMEQ(p.c.in.p, pl, sizeof pl);
	pair_close(&p);
}

TEST(transport_oversize_request)
{
	struct wmq_ws_opts o = {.path = "/mqtt", .max_request = 200};
	struct pair p;
	char r[2048];
	uint8_t resp[512];
	pair_open(&p, &o);
	size_t n = req(r, sizeof r, "/mqtt", NULL);
	cli_send(&p, r, n);
	ASSERT_EQ(wmq_conn_fill(&p.c, 65536), WMQ_ERR_IO);
	ASSERT_EQ(wmq_ws_http_status(&p.c), 431);
	size_t k = cli_recv(&p, resp, sizeof resp - 1);
	resp[k] = 0;
	ASSERT(strncmp((char *)resp, "HTTP/1.1 431 ", 13) == 0);
	pair_close(&p);
}

static void count_inner(struct wmq_conn *c, void *arg)
{
	*(int *)arg = c->ops == &wmq_transport_tcp;
}

TEST(transport_with_inner_and_nomem)
{
	struct pair p;
	int is_tcp = 0;
	pair_open(&p, &opts_mqtt);
	wmq_ws_with_inner(&p.c, count_inner, &is_tcp);
	ASSERT_EQ(is_tcp, 1);
	ASSERT(p.c.ops == &wmq_transport_ws);
	pair_close(&p);
	/* allocation failure leaves the conn unchanged */
	struct wmq_conn c;
	wmq_conn_init(&c, -1, &wmq_transport_tcp, "x", 16, 16);
	wmq_alloc_fail_after(1);
	ASSERT_EQ(wmq_ws_server_start(&c, &opts_mqtt), WMQ_ERR_NOMEM);
	wmq_alloc_fail_after(0);
	ASSERT(c.ops == &wmq_transport_tcp && c.engine == NULL);
	wmq_conn_cleanup(&c);
}

static const struct wmq_test tests[] = {
	{"upgrade_valid_chromium", upgrade_valid_chromium},
	{"upgrade_rfc_accept_key", upgrade_rfc_accept_key},
	{"upgrade_case_insensitive_and_lists", upgrade_case_insensitive_and_lists},
	{"upgrade_mqtt_preferred_over_v31", upgrade_mqtt_preferred_over_v31},
	{"upgrade_split_across_reads", upgrade_split_across_reads},
	{"upgrade_oversize", upgrade_oversize},
	{"upgrade_status_404_path", upgrade_status_404_path},
	{"upgrade_status_426_version", upgrade_status_426_version},
	{"upgrade_status_403_origin", upgrade_status_403_origin},
	{"upgrade_status_400_cases", upgrade_status_400_cases},
	{"upgrade_xff", upgrade_xff},
	{"frame_rfc_hello_text_refused", frame_rfc_hello_text_refused},
	{"frame_rfc_hello_binary_accepted", frame_rfc_hello_binary_accepted},
	{"frame_unmasked_refused", frame_unmasked_refused},
	{"frame_fragmented_reassembled", frame_fragmented_reassembled},
	{"frame_fragment_errors", frame_fragment_errors},
	{"frame_mqtt_split_across_frames", frame_mqtt_split_across_frames},
	{"frame_several_packets_one_frame", frame_several_packets_one_frame},
	{"frame_lengths_16_64_and_nonminimal", frame_lengths_16_64_and_nonminimal},
	{"frame_oversize_1009", frame_oversize_1009},
	{"frame_ping_pong", frame_ping_pong},
	{"frame_close_handshake", frame_close_handshake},
	{"encode_frames", encode_frames},
	{"transport_end_to_end", transport_end_to_end},
	{"transport_refused_upgrade", transport_refused_upgrade},
	{"transport_protocol_error_closes", transport_protocol_error_closes},
	{"transport_frames_with_request_and_xff", transport_frames_with_request_and_xff},
	{"transport_big_write_partial", transport_big_write_partial},
	{"transport_close_sends_close_frame", transport_close_sends_close_frame},
	{"transport_eof_during_handshake", transport_eof_during_handshake},
	{"transport_buffered_budget", transport_buffered_budget},
	{"transport_oversize_request", transport_oversize_request},
	{"transport_with_inner_and_nomem", transport_with_inner_and_nomem},
};

WMQ_TEST_MAIN(tests)
