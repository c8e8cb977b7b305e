/* SPDX-License-Identifier: MIT
 * encode.h - hex and base64 (RFC 4648 §4, standard alphabet) codecs.
 * Role: the text forms of salts, hashes and MACs (PHC strings use base64
 * without padding, mosquitto_passwd files base64 with padding, the audit
 * chain lowercase hex). Decoders are strict: no whitespace, no characters
 * outside the alphabet, canonical trailing bits, padding only where RFC 4648
 * puts it; a failed decode writes nothing useful and returns MALFORMED.
 * Threading: reentrant. Ownership: caller's buffers. */
#ifndef WMQ_CRYPTO_ENCODE_H
#define WMQ_CRYPTO_ENCODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Lowercase hex of |n| bytes into |out| (2n chars + NUL). LIMIT if cap is
 * less than 2n + 1. */
WMQ_MUST_USE wmq_err wmq_crypto_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/* Decode |len| hex chars (either case) into |out|; *outlen = len / 2.
 * MALFORMED on odd length or a non-hex char, LIMIT if cap is too small. */
WMQ_MUST_USE wmq_err wmq_crypto_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap,
					   size_t *outlen);

/* Characters base64 needs for |n| bytes, without the NUL. */
size_t wmq_crypto_b64_len(size_t n, bool pad);
/* Encode |n| bytes into |out| (NUL-terminated). LIMIT if cap is too small. */
WMQ_MUST_USE wmq_err wmq_crypto_b64_encode(const uint8_t *in, size_t n, bool pad, char *out, size_t cap);
/* Decode |len| chars, with or without '=' padding. MALFORMED on any
 * deviation from the canonical encoding, LIMIT if cap is too small. */
WMQ_MUST_USE wmq_err wmq_crypto_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
					   size_t *outlen);

#endif
