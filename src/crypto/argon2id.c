/* SPDX-License-Identifier: MIT
 * argon2id.c - Argon2id via libargon2's argon2_ctx(), PHC string codec.
 * Role: see argon2id.h. libargon2's own encoder/decoder is not used: ours is
 * strict (field order, no leading zeros, bounded parameters) and writes only
 * the subset we verify.
 * Threading: reentrant; threads = 1 per call. */
#include "crypto/argon2id.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "crypto/crypto.h"
#include "crypto/encode.h"

#define PHC_PREFIX "$argon2id$v=19$"

/* libargon2 allocation hooks: route the matrix through wmq_malloc. */
static int a2_alloc(uint8_t **memory, size_t bytes)
{
	*memory = wmq_malloc(bytes);
	return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

static void a2_free(uint8_t *memory, size_t bytes)
{
	WMQ_UNUSED(bytes); /* libargon2 has already wiped it (secure_wipe_memory) */
	wmq_free(memory);
}

static bool params_ok(const struct wmq_argon2id_params *prm)
{
	return prm->t >= 1 && prm->t <= WMQ_ARGON2_MAX_T && prm->p >= 1 && prm->p <= WMQ_ARGON2_MAX_P &&
	       prm->m_kib >= WMQ_ARGON2_MIN_M_KIB && prm->m_kib <= WMQ_ARGON2_MAX_M_KIB &&
	       prm->m_kib >= 8 * prm->p;
}

wmq_err wmq_crypto_argon2id(const struct wmq_argon2id_params *prm, const void *pw, size_t pwlen,
			    const void *salt, size_t saltlen, const void *secret, size_t secretlen,
			    const void *ad, size_t adlen, uint8_t *tag, size_t taglen)
{
	WMQ_ENSURE(prm != NULL && tag != NULL && params_ok(prm), WMQ_ERR_INVAL);
	WMQ_ENSURE(taglen >= WMQ_ARGON2_MIN_TAG && taglen <= WMQ_ARGON2_MAX_TAG, WMQ_ERR_INVAL);
	WMQ_ENSURE(saltlen >= WMQ_ARGON2_MIN_SALT && saltlen <= WMQ_ARGON2_MAX_SALT && salt, WMQ_ERR_INVAL);
	WMQ_ENSURE(pwlen <= UINT32_MAX && secretlen <= UINT32_MAX && adlen <= UINT32_MAX, WMQ_ERR_INVAL);
	WMQ_ENSURE((pw || !pwlen) && (secret || !secretlen) && (ad || !adlen), WMQ_ERR_INVAL);
	/* libargon2 takes non-const pointers but reads them only (the
	 * CLEAR_PASSWORD/CLEAR_SECRET flags, which would write, are not set). */
	argon2_context c = {
		.out = tag,
		.outlen = (uint32_t)taglen,
		.pwd = (uint8_t *)(uintptr_t)pw,
		.pwdlen = (uint32_t)pwlen,
		.salt = (uint8_t *)(uintptr_t)salt,
		.saltlen = (uint32_t)saltlen,
		.secret = (uint8_t *)(uintptr_t)secret,
		.secretlen = (uint32_t)secretlen,
		.ad = (uint8_t *)(uintptr_t)ad,
		.adlen = (uint32_t)adlen,
		.t_cost = prm->t,
		.m_cost = prm->m_kib,
		.lanes = prm->p,
		.threads = 1,
		.version = ARGON2_VERSION_13,
		.allocate_cbk = a2_alloc,
		.free_cbk = a2_free,
		.flags = ARGON2_DEFAULT_FLAGS,
	};
	int r = argon2_ctx(&c, Argon2_id);
	if (r == ARGON2_MEMORY_ALLOCATION_ERROR)
		WMQ_BAIL(WMQ_ERR_NOMEM);
	WMQ_ENSURE(r == ARGON2_OK, WMQ_ERR_INTERNAL);
	return WMQ_OK;
}

wmq_err wmq_crypto_argon2id_phc_encode(const struct wmq_argon2id_phc *phc, char *out, size_t cap)
{
	WMQ_ENSURE(phc != NULL && out != NULL && params_ok(&phc->prm), WMQ_ERR_INVAL);
	WMQ_ENSURE(phc->salt_len >= WMQ_ARGON2_MIN_SALT && phc->salt_len <= WMQ_ARGON2_MAX_SALT, WMQ_ERR_INVAL);
	WMQ_ENSURE(phc->hash_len >= WMQ_ARGON2_MIN_TAG && phc->hash_len <= WMQ_ARGON2_MAX_TAG, WMQ_ERR_INVAL);
	int n = snprintf(out, cap, PHC_PREFIX "m=%u,t=%u,p=%u$", (unsigned)phc->prm.m_kib,
			 (unsigned)phc->prm.t, (unsigned)phc->prm.p);
	WMQ_ENSURE(n > 0 && (size_t)n < cap, WMQ_ERR_LIMIT);
	size_t o = (size_t)n;
	WMQ_TRY(wmq_crypto_b64_encode(phc->salt, phc->salt_len, false, out + o, cap - o));
	o += wmq_crypto_b64_len(phc->salt_len, false);
	WMQ_ENSURE(cap - o >= 2, WMQ_ERR_LIMIT);
	out[o++] = '$';
	WMQ_TRY(wmq_crypto_b64_encode(phc->hash, phc->hash_len, false, out + o, cap - o));
	return WMQ_OK;
}

/* Strict decimal: digits only, no leading zero (except "0"), fits uint32. */
static wmq_err parse_u32(const char *s, size_t len, uint32_t *out)
{
	WMQ_ENSURE(len >= 1 && len <= 10, WMQ_ERR_MALFORMED);
	WMQ_ENSURE(!(s[0] == '0' && len > 1), WMQ_ERR_MALFORMED);
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		WMQ_ENSURE(s[i] >= '0' && s[i] <= '9', WMQ_ERR_MALFORMED);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	WMQ_ENSURE(v <= UINT32_MAX, WMQ_ERR_MALFORMED);
	*out = (uint32_t)v;
	return WMQ_OK;
}

/* Expect "key=" at s[*pos], then a number ended by |end|. */
static wmq_err parse_field(const char *s, size_t len, size_t *pos, char key, char end, uint32_t *out)
{
	size_t i = *pos;
	WMQ_ENSURE(len - i >= 2 && s[i] == key && s[i + 1] == '=', WMQ_ERR_MALFORMED);
	i += 2;
	size_t start = i;
	while (i < len && s[i] != end)
		i++;
	WMQ_ENSURE(i < len, WMQ_ERR_MALFORMED);
	WMQ_TRY(parse_u32(s + start, i - start, out));
	*pos = i + 1;
	return WMQ_OK;
}

wmq_err wmq_crypto_argon2id_phc_parse(const char *s, size_t len, struct wmq_argon2id_phc *out)
{
	const size_t plen = sizeof(PHC_PREFIX) - 1;
	WMQ_ENSURE(s != NULL && out != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(len < WMQ_ARGON2_PHC_MAX, WMQ_ERR_MALFORMED);
	if (len < plen || memcmp(s, PHC_PREFIX, plen) != 0) {
		/* well-formed but another variant or version: INVAL, not MALFORMED */
		WMQ_ENSURE(len >= 7 && memcmp(s, "$argon2", 7) == 0, WMQ_ERR_MALFORMED);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	struct wmq_argon2id_phc p;
	memset(&p, 0, sizeof p);
	size_t pos = plen;
	WMQ_TRY(parse_field(s, len, &pos, 'm', ',', &p.prm.m_kib));
	WMQ_TRY(parse_field(s, len, &pos, 't', ',', &p.prm.t));
	WMQ_TRY(parse_field(s, len, &pos, 'p', '$', &p.prm.p));
	const char *salt = s + pos;
	const char *dollar = memchr(salt, '$', len - pos);
	WMQ_ENSURE(dollar != NULL, WMQ_ERR_MALFORMED);
	size_t salt_chars = (size_t)(dollar - salt);
	const char *hash = dollar + 1;
	size_t hash_chars = len - pos - salt_chars - 1;
	WMQ_ENSURE(memchr(hash, '$', hash_chars) == NULL, WMQ_ERR_MALFORMED);
	/* PHC strings carry no '=' padding */
	WMQ_ENSURE(!memchr(salt, '=', salt_chars) && !memchr(hash, '=', hash_chars), WMQ_ERR_MALFORMED);
	wmq_err rc = wmq_crypto_b64_decode(salt, salt_chars, p.salt, sizeof p.salt, &p.salt_len);
	WMQ_ENSURE(rc != WMQ_ERR_LIMIT, WMQ_ERR_INVAL);
	WMQ_TRY(rc);
	rc = wmq_crypto_b64_decode(hash, hash_chars, p.hash, sizeof p.hash, &p.hash_len);
	WMQ_ENSURE(rc != WMQ_ERR_LIMIT, WMQ_ERR_INVAL);
	WMQ_TRY(rc);
	WMQ_ENSURE(params_ok(&p.prm), WMQ_ERR_INVAL);
	WMQ_ENSURE(p.salt_len >= WMQ_ARGON2_MIN_SALT && p.hash_len >= WMQ_ARGON2_MIN_TAG, WMQ_ERR_INVAL);
	*out = p;
	return WMQ_OK;
}

wmq_err wmq_crypto_argon2id_verify(const struct wmq_argon2id_phc *phc, const void *pw, size_t pwlen, bool *ok)
{
	uint8_t tag[WMQ_ARGON2_MAX_TAG];
	WMQ_ENSURE(phc != NULL && ok != NULL, WMQ_ERR_INVAL);
	*ok = false;
	wmq_err rc = wmq_crypto_argon2id(&phc->prm, pw, pwlen, phc->salt, phc->salt_len, NULL, 0, NULL, 0,
					 tag, phc->hash_len);
	if (rc == WMQ_OK)
		*ok = wmq_crypto_memeq(tag, phc->hash, phc->hash_len);
	wmq_crypto_wipe(tag, sizeof tag);
	return rc;
}
