/* SPDX-License-Identifier: MIT
 * crypto.c - SHA-2, HMAC, PBKDF2, compare, random, wipe over OpenSSL 3.
 * Role: see crypto.h. Every libcrypto return value is checked; libcrypto
 * objects are freed on every path (one out: label).
 * Threading: reentrant (OpenSSL 3 is thread-safe; nothing here is shared). */
#include "crypto/crypto.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

static const EVP_MD *md_of(enum wmq_md md)
{
	switch (md) {
	case WMQ_MD_SHA256:
		return EVP_sha256();
	case WMQ_MD_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

static const char *md_name(enum wmq_md md)
{
	return md == WMQ_MD_SHA512 ? "SHA512" : "SHA256";
}

size_t wmq_crypto_md_len(enum wmq_md md)
{
	return md == WMQ_MD_SHA512 ? WMQ_SHA512_LEN : WMQ_SHA256_LEN;
}

wmq_err wmq_crypto_digest(enum wmq_md md, const struct wmq_bytes *parts, size_t nparts, uint8_t *out)
{
	wmq_err rc = WMQ_ERR_INTERNAL;
	const EVP_MD *m = md_of(md);
	WMQ_ENSURE(m != NULL && out != NULL && (nparts == 0 || parts != NULL), WMQ_ERR_INVAL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	WMQ_ENSURE(ctx != NULL, WMQ_ERR_NOMEM);
	if (EVP_DigestInit_ex(ctx, m, NULL) != 1)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].len && EVP_DigestUpdate(ctx, parts[i].p, parts[i].len) != 1)
			goto out;
	}
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != wmq_crypto_md_len(md))
		goto out;
	rc = WMQ_OK;
out:
	EVP_MD_CTX_free(ctx);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

wmq_err wmq_crypto_sha256(const void *p, size_t n, uint8_t out[WMQ_SHA256_LEN])
{
	struct wmq_bytes b = {p, n};
	return wmq_crypto_digest(WMQ_MD_SHA256, &b, 1, out);
}

wmq_err wmq_crypto_sha512(const void *p, size_t n, uint8_t out[WMQ_SHA512_LEN])
{
	struct wmq_bytes b = {p, n};
	return wmq_crypto_digest(WMQ_MD_SHA512, &b, 1, out);
}

wmq_err wmq_crypto_hmac(enum wmq_md md, const void *key, size_t klen, const struct wmq_bytes *parts,
			size_t nparts, uint8_t *out)
{
	wmq_err rc = WMQ_ERR_INTERNAL;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	static const uint8_t empty[1] = {0};
	WMQ_ENSURE(md_of(md) != NULL && out != NULL && (nparts == 0 || parts != NULL), WMQ_ERR_INVAL);
	WMQ_ENSURE(key != NULL || klen == 0, WMQ_ERR_INVAL);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx) {
		rc = WMQ_ERR_NOMEM;
		goto out;
	}
	OSSL_PARAM params[2];
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	/* OpenSSL refuses a NULL key even when empty (RFC 4231 allows any key) */
	if (EVP_MAC_init(ctx, klen ? key : empty, klen, params) != 1)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].len && EVP_MAC_update(ctx, parts[i].p, parts[i].len) != 1)
			goto out;
	}
	size_t n = 0;
	if (EVP_MAC_final(ctx, out, &n, wmq_crypto_md_len(md)) != 1 || n != wmq_crypto_md_len(md))
		goto out;
	rc = WMQ_OK;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

wmq_err wmq_crypto_pbkdf2(enum wmq_md md, const void *pw, size_t pwlen, const void *salt, size_t saltlen,
			  uint32_t iterations, uint8_t *out, size_t outlen)
{
	static const char empty[1] = {0};
	const EVP_MD *m = md_of(md);
	WMQ_ENSURE(m != NULL && out != NULL && outlen > 0, WMQ_ERR_INVAL);
	WMQ_ENSURE(iterations >= 1 && iterations <= INT32_MAX, WMQ_ERR_INVAL);
	WMQ_ENSURE(pwlen <= INT32_MAX && saltlen <= INT32_MAX && outlen <= INT32_MAX, WMQ_ERR_INVAL);
	WMQ_ENSURE((pw != NULL || pwlen == 0) && (salt != NULL || saltlen == 0), WMQ_ERR_INVAL);
	if (PKCS5_PBKDF2_HMAC(pwlen ? pw : empty, (int)pwlen, saltlen ? salt : (const void *)empty,
			      (int)saltlen, (int)iterations, m, (int)outlen, out) != 1)
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	return WMQ_OK;
}

bool wmq_crypto_memeq(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}

void wmq_crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

wmq_err wmq_crypto_random(void *out, size_t n)
{
	uint8_t *p = out;
	WMQ_ENSURE(out != NULL || n == 0, WMQ_ERR_INVAL);
	while (n) {
		int chunk = n > INT32_MAX ? INT32_MAX : (int)n;
		if (RAND_bytes(p, chunk) != 1)
			WMQ_BAIL(WMQ_ERR_INTERNAL);
		p += chunk;
		n -= (size_t)chunk;
	}
	return WMQ_OK;
}
