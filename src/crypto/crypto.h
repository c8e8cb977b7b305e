/* SPDX-License-Identifier: MIT
 * crypto.h - hashes, HMAC, PBKDF2, constant-time compare, secure random,
 * secret wiping.
 * Role: thin, checked wrappers over OpenSSL 3 (libcrypto). Nothing outside
 * src/crypto includes <openssl/...>; other modules call these.
 * Threading: every function is reentrant and may run on any thread (the
 * auth pool runs PBKDF2 and Argon2id).
 * Ownership: all buffers are the caller's; outputs are written in place.
 * Spec: FIPS 180-4 (SHA-2), RFC 2104 / RFC 4231 (HMAC), RFC 8018 §5.2
 * (PBKDF2). */
#ifndef WMQ_CRYPTO_CRYPTO_H
#define WMQ_CRYPTO_CRYPTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

enum wmq_md {
	WMQ_MD_SHA256 = 0,
	WMQ_MD_SHA512 = 1,
};

#define WMQ_SHA256_LEN 32
#define WMQ_SHA512_LEN 64
#define WMQ_MD_MAX_LEN 64

/* Output length of |md| in bytes (32 or 64). */
size_t wmq_crypto_md_len(enum wmq_md md);

/* Digest of the concatenation of |nparts| slices (nparts may be 0).
 * |out| must hold wmq_crypto_md_len(md) bytes. Returns WMQ_OK, INVAL, or
 * INTERNAL if libcrypto fails. */
WMQ_MUST_USE wmq_err wmq_crypto_digest(enum wmq_md md, const struct wmq_bytes *parts, size_t nparts,
				       uint8_t *out);
/* One-shot conveniences. */
WMQ_MUST_USE wmq_err wmq_crypto_sha256(const void *p, size_t n, uint8_t out[WMQ_SHA256_LEN]);
WMQ_MUST_USE wmq_err wmq_crypto_sha512(const void *p, size_t n, uint8_t out[WMQ_SHA512_LEN]);

/* HMAC-|md| keyed with |key| over the concatenation of |parts|. |out| must
 * hold wmq_crypto_md_len(md) bytes. Any key length is accepted (RFC 2104:
 * keys longer than the block size are hashed first). */
WMQ_MUST_USE wmq_err wmq_crypto_hmac(enum wmq_md md, const void *key, size_t klen,
				     const struct wmq_bytes *parts, size_t nparts, uint8_t *out);

/* PBKDF2 with HMAC-|md| (RFC 8018 §5.2): |outlen| bytes into |out|.
 * iterations >= 1 and <= INT32_MAX; pwlen, saltlen, outlen <= INT32_MAX.
 * Returns WMQ_OK, INVAL, INTERNAL. */
WMQ_MUST_USE wmq_err wmq_crypto_pbkdf2(enum wmq_md md, const void *pw, size_t pwlen, const void *salt,
				       size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen);

/* Constant-time equality of two |n|-byte buffers (CRYPTO_memcmp): the time
 * depends on n only, never on where the buffers differ. */
bool wmq_crypto_memeq(const void *a, const void *b, size_t n);

/* Overwrite |n| bytes so that the compiler cannot elide it (OPENSSL_cleanse).
 * NULL-safe when n == 0. */
void wmq_crypto_wipe(void *p, size_t n);

/* |n| bytes from OpenSSL's DRBG (seeded from the kernel), for keys, salts
 * and nonces. Returns WMQ_OK or INTERNAL. */
WMQ_MUST_USE wmq_err wmq_crypto_random(void *out, size_t n);

#endif
