/* SPDX-License-Identifier: MIT
 * fuzz_wsc.c - libFuzzer target for the pure parts of libwardmq's WebSocket
 * client (src/client/ws.c): the upgrade-response check and the frame
 * header codec.
 *
 * The whole input is used three ways:
 *   1. as the server's upgrade response for wmq_wsc_check_response() (the
 *      expected accept is the RFC 6455 §1.3 example): every prefix is
 *      AGAIN or gives the full input's verdict once the head is complete,
 *      the head length stays within the input, and a refusal has a reason;
 *   2. as a frame header for wmq_wsc_parse_header(): a parsed header lies
 *      within the input, and encoding it again parses back to the same
 *      fields;
 *   3. as a payload masked twice with a key from the input (involution,
 *      also when split at an offset).
 * Threading: single-threaded. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "fuzz.h"

static const char accept_ex[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static void check_response(const uint8_t *data, size_t size)
{
	char why[200];
	size_t head = 0;
	wmq_err full = wmq_wsc_check_response(data, size, accept_ex, &head, why, sizeof why);
	CHECK(full == WMQ_OK || full == WMQ_ERR_AGAIN || full == WMQ_ERR_PROTOCOL);
	if (full == WMQ_ERR_AGAIN)
		return;
	CHECK(head >= 4 && head <= size);
	CHECK(!memcmp(data + head - 4, "\r\n\r\n", 4));
	if (full == WMQ_ERR_PROTOCOL)
		CHECK(why[0] != '\0' && strlen(why) < sizeof why);
	/* prefixes: incomplete before the head ends, the same verdict after */
	size_t step = size > 64 ? size / 64 : 1;
	for (size_t n = 0; n <= size; n += step) {
		size_t h2 = 0;
		wmq_err e = wmq_wsc_check_response(data, n, accept_ex, &h2, why, sizeof why);
		if (n < head)
			CHECK(e == WMQ_ERR_AGAIN);
		else
			CHECK(e == full && h2 == head);
	}
}

static void check_header(const uint8_t *data, size_t size)
{
	struct wmq_wsc_hdr h, h2;
	uint8_t enc[WMQ_WSC_HDR_MAX];
	wmq_err e = wmq_wsc_parse_header(data, size, &h);
	CHECK(e == WMQ_OK || e == WMQ_ERR_AGAIN || e == WMQ_ERR_PROTOCOL);
	if (e != WMQ_OK)
		return;
	CHECK(h.hdr_len >= 2 && h.hdr_len <= WMQ_WSC_HDR_MAX && h.hdr_len <= size);
	CHECK((h.len >> 63) == 0);
	size_t n = wmq_wsc_frame_header(enc, h.opcode, h.fin, h.len, h.masked ? h.mask : NULL);
	CHECK(n >= 2 && n <= h.hdr_len); /* minimal form: never longer */
	CHECK(wmq_wsc_parse_header(enc, n, &h2) == WMQ_OK);
	CHECK(h2.fin == h.fin && h2.opcode == h.opcode && h2.masked == h.masked &&
	      h2.len == h.len && h2.hdr_len == n);
	if (h.masked)
		CHECK(!memcmp(h2.mask, h.mask, 4));
}

static void check_mask(const uint8_t *data, size_t size)
{
	uint8_t key[4] = {0, 0, 0, 0};
	if (size < 4)
		return;
	memcpy(key, data, 4);
	size_t n = size - 4 > 4096 ? 4096 : size - 4;
	uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
	CHECK(a && b);
	memcpy(a, data + 4, n);
	memcpy(b, data + 4, n);
	size_t cut = n ? data[0] % (n + 1) : 0;
	wmq_wsc_mask(a, n, key, 0);
	wmq_wsc_mask(b, cut, key, 0);
	wmq_wsc_mask(b + cut, n - cut, key, cut);
	CHECK(!memcmp(a, b, n));
	wmq_wsc_mask(a, n, key, 0);
	CHECK(!memcmp(a, data + 4, n));
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_response(data, size);
	check_header(data, size);
	check_mask(data, size);
	return 0;
}
