/* SPDX-License-Identifier: MIT
 * argon2id.h - Argon2id (RFC 9106) through libargon2's raw context API, and
 * the PHC string format "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" (base64
 * without padding) used by the reference implementation, libsodium,
 * argon2-cffi and PHP.
 * Role: the password-hashing core of security/password. Memory for the
 * Argon2 matrix comes from wmq_malloc (fault-injectable) and is wiped by
 * libargon2 before it is freed.
 * Threading: reentrant; one call uses one thread (lanes are computed in turn,
 * threads = 1), the caller provides parallelism with its auth pool.
 * Ownership: caller's buffers. */
#ifndef WMQ_CRYPTO_ARGON2ID_H
#define WMQ_CRYPTO_ARGON2ID_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Bounds accepted for parameters, both when hashing and when parsing a
 * stored string (a stored string is trusted less than code: a hostile
 * import must not make one verification take gigabytes). */
#define WMQ_ARGON2_MIN_M_KIB 8u
#define WMQ_ARGON2_MAX_M_KIB (1u << 21) /* 2 GiB */
#define WMQ_ARGON2_MAX_T 1024u
#define WMQ_ARGON2_MAX_P 64u
#define WMQ_ARGON2_MIN_SALT 8u
#define WMQ_ARGON2_MAX_SALT 64u
#define WMQ_ARGON2_MIN_TAG 4u
#define WMQ_ARGON2_MAX_TAG 64u
/* Longest PHC string this module writes or accepts, with its NUL. */
#define WMQ_ARGON2_PHC_MAX 256u

struct wmq_argon2id_params {
	uint32_t m_kib; /* memory in KiB, >= 8 * p */
	uint32_t t;     /* passes, >= 1 */
	uint32_t p;     /* lanes, >= 1 */
};

/* Argon2id version 0x13 tag of |taglen| bytes. secret (K) and ad (X) may be
 * NULL with length 0. Returns WMQ_OK, INVAL (parameter out of bounds),
 * NOMEM, INTERNAL. */
WMQ_MUST_USE wmq_err wmq_crypto_argon2id(const struct wmq_argon2id_params *prm, const void *pw,
					 size_t pwlen, const void *salt, size_t saltlen,
					 const void *secret, size_t secretlen, const void *ad,
					 size_t adlen, uint8_t *tag, size_t taglen);

/* A parsed or to-be-written PHC string. */
struct wmq_argon2id_phc {
	struct wmq_argon2id_params prm;
	uint8_t salt[WMQ_ARGON2_MAX_SALT];
	size_t salt_len;
	uint8_t hash[WMQ_ARGON2_MAX_TAG];
	size_t hash_len;
};

/* Write |phc| as "$argon2id$v=19$m=..,t=..,p=..$salt$hash" into |out|.
 * LIMIT if cap is too small, INVAL if a field is out of bounds. */
WMQ_MUST_USE wmq_err wmq_crypto_argon2id_phc_encode(const struct wmq_argon2id_phc *phc, char *out,
						    size_t cap);
/* Parse |len| chars. Only argon2id version 19 with exactly the fields m, t, p
 * in that order is accepted; decimal numbers without leading zeros; salt and
 * hash lengths within the bounds above. MALFORMED on syntax, INVAL on
 * out-of-bounds parameters or another variant/version. */
WMQ_MUST_USE wmq_err wmq_crypto_argon2id_phc_parse(const char *s, size_t len,
						   struct wmq_argon2id_phc *out);
/* Recompute the tag for |pw| with phc's parameters and salt and compare in
 * constant time. *ok is false on mismatch (the return value is then WMQ_OK);
 * errors are NOMEM/INTERNAL/INVAL. */
WMQ_MUST_USE wmq_err wmq_crypto_argon2id_verify(const struct wmq_argon2id_phc *phc, const void *pw,
						size_t pwlen, bool *ok);

#endif
