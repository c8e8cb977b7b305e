/* SPDX-License-Identifier: MIT
 * encode.c - strict hex and base64 codecs (RFC 4648).
 * Role: see encode.h. Table-free decoding by character class; every length
 * is checked before the first write (subtract, never add past cap).
 * Threading: reentrant. */
#include "crypto/encode.h"

static const char HEX[] = "0123456789abcdef";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

wmq_err wmq_crypto_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	WMQ_ENSURE(out != NULL && (in != NULL || n == 0), WMQ_ERR_INVAL);
	WMQ_ENSURE(n <= (SIZE_MAX - 1) / 2 && cap >= 2 * n + 1, WMQ_ERR_LIMIT);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = HEX[in[i] >> 4];
		out[2 * i + 1] = HEX[in[i] & 15];
	}
	out[2 * n] = '\0';
	return WMQ_OK;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

wmq_err wmq_crypto_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	WMQ_ENSURE(in != NULL || len == 0, WMQ_ERR_INVAL);
	WMQ_ENSURE(len % 2 == 0, WMQ_ERR_MALFORMED);
	WMQ_ENSURE(cap >= len / 2, WMQ_ERR_LIMIT);
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(in[i]), lo = hexval(in[i + 1]);
		WMQ_ENSURE(hi >= 0 && lo >= 0, WMQ_ERR_MALFORMED);
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return WMQ_OK;
}

size_t wmq_crypto_b64_len(size_t n, bool pad)
{
	if (pad)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

wmq_err wmq_crypto_b64_encode(const uint8_t *in, size_t n, bool pad, char *out, size_t cap)
{
	WMQ_ENSURE(out != NULL && (in != NULL || n == 0), WMQ_ERR_INVAL);
	WMQ_ENSURE(n <= SIZE_MAX / 2 && cap > wmq_crypto_b64_len(n, pad), WMQ_ERR_LIMIT);
	size_t o = 0, i = 0;
	for (; n - i >= 3; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
		out[o++] = B64[v >> 6 & 63];
		out[o++] = B64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
		out[o++] = B64[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return WMQ_OK;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

wmq_err wmq_crypto_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	WMQ_ENSURE(in != NULL || len == 0, WMQ_ERR_INVAL);
	/* padding is all-or-nothing: with '=', the length is a multiple of 4 */
	size_t npad = 0;
	if (len && in[len - 1] == '=') {
		WMQ_ENSURE(len % 4 == 0, WMQ_ERR_MALFORMED);
		npad = in[len - 2] == '=' ? 2 : 1;
	}
	size_t body = len - npad;
	WMQ_ENSURE(body % 4 != 1, WMQ_ERR_MALFORMED); /* 6 bits cannot end a byte */
	size_t n = body / 4 * 3 + (body % 4 ? body % 4 - 1 : 0);
	if (npad)
		WMQ_ENSURE(body % 4 == 4 - npad, WMQ_ERR_MALFORMED);
	WMQ_ENSURE(cap >= n, WMQ_ERR_LIMIT);
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;
	for (size_t i = 0; i < body; i++) {
		int v = b64val(in[i]);
		WMQ_ENSURE(v >= 0, WMQ_ERR_MALFORMED);
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* canonical: the unused low bits of the last character are zero */
	WMQ_ENSURE((acc & ((1u << bits) - 1)) == 0, WMQ_ERR_MALFORMED);
	*outlen = o;
	return WMQ_OK;
}
