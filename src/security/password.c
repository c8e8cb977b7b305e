/* SPDX-License-Identifier: MIT
 * password.c - verifier codec, Argon2id creation and verification, mosquitto
 * formats, the dummy verifier, the keyed verification cache and the
 * mosquitto_passwd importer. See password.h for the model.
 * Threading: struct wmq_pw_ctx: counters are atomics, the cache is guarded by
 * ctx->lock, which is never held while hashing. */
#include "security/password.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "crypto/crypto.h"
#include "crypto/encode.h"
#include "security/lru.h"

#define CACHE_KEY_LEN 32
#define MOSQ_HASH_LEN 64 /* SHA-512 output, both mosquitto formats */

void wmq_pw_params_default(struct wmq_pw_params *p)
{
	p->m_kib = WMQ_PW_DEFAULT_M_KIB;
	p->t_cost = WMQ_PW_DEFAULT_T;
	p->parallelism = WMQ_PW_DEFAULT_P;
	p->salt_len = WMQ_PW_DEFAULT_SALT_LEN;
	p->tag_len = WMQ_PW_DEFAULT_TAG_LEN;
}

wmq_err wmq_pw_params_check(const struct wmq_pw_params *p)
{
	WMQ_ENSURE(p != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(p->t_cost >= 1 && p->t_cost <= WMQ_ARGON2_MAX_T, WMQ_ERR_INVAL);
	WMQ_ENSURE(p->parallelism >= 1 && p->parallelism <= WMQ_ARGON2_MAX_P, WMQ_ERR_INVAL);
	WMQ_ENSURE(p->m_kib >= WMQ_ARGON2_MIN_M_KIB && p->m_kib <= WMQ_ARGON2_MAX_M_KIB, WMQ_ERR_INVAL);
	WMQ_ENSURE(p->m_kib >= 8 * p->parallelism, WMQ_ERR_INVAL);
	WMQ_ENSURE(p->salt_len >= 8 && p->salt_len <= WMQ_ARGON2_MAX_SALT, WMQ_ERR_INVAL);
	WMQ_ENSURE(p->tag_len >= 16 && p->tag_len <= WMQ_ARGON2_MAX_TAG, WMQ_ERR_INVAL);
	return WMQ_OK;
}

/* ---- codec ------------------------------------------------------------- */

/* base64 field between s[*pos] and the next '$' (or the end if last). */
static wmq_err b64_field(const char *s, size_t len, size_t *pos, bool last, uint8_t *out, size_t cap,
			 size_t *outlen)
{
	size_t i = *pos;
	const char *d = memchr(s + i, '$', len - i);
	if (last)
		WMQ_ENSURE(d == NULL, WMQ_ERR_MALFORMED);
	else
		WMQ_ENSURE(d != NULL, WMQ_ERR_MALFORMED);
	size_t end = d ? (size_t)(d - s) : len;
	WMQ_ENSURE(end > i, WMQ_ERR_MALFORMED);
	wmq_err rc = wmq_crypto_b64_decode(s + i, end - i, out, cap, outlen);
	WMQ_ENSURE(rc != WMQ_ERR_LIMIT, WMQ_ERR_INVAL);
	WMQ_TRY(rc);
	*pos = d ? end + 1 : end;
	return WMQ_OK;
}

static wmq_err parse_mosq(const char *s, size_t len, struct wmq_pw_verifier *v)
{
	size_t pos = 3; /* after "$6$" or "$7$" */
	if (v->scheme == WMQ_PW_MOSQ_PBKDF2) {
		uint64_t it = 0;
		size_t start = pos;
		while (pos < len && s[pos] >= '0' && s[pos] <= '9' && pos - start < 10)
			it = it * 10 + (uint64_t)(s[pos++] - '0');
		WMQ_ENSURE(pos > start && pos < len && s[pos] == '$', WMQ_ERR_MALFORMED);
		WMQ_ENSURE(!(s[start] == '0' && pos - start > 1), WMQ_ERR_MALFORMED);
		WMQ_ENSURE(it >= 1 && it <= WMQ_PW_MAX_PBKDF2_ITER, WMQ_ERR_INVAL);
		v->iterations = (uint32_t)it;
		pos++;
	}
	WMQ_TRY(b64_field(s, len, &pos, false, v->salt, sizeof v->salt, &v->salt_len));
	WMQ_TRY(b64_field(s, len, &pos, true, v->hash, sizeof v->hash, &v->hash_len));
	WMQ_ENSURE(v->salt_len >= 1, WMQ_ERR_INVAL);
	WMQ_ENSURE(v->hash_len == MOSQ_HASH_LEN, WMQ_ERR_INVAL);
	return WMQ_OK;
}

wmq_err wmq_pw_verifier_parse(const char *s, size_t len, struct wmq_pw_verifier *out)
{
	struct wmq_pw_verifier v;
	wmq_err rc;
	WMQ_ENSURE(s != NULL && out != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(len < WMQ_PW_ENCODED_MAX, WMQ_ERR_MALFORMED);
	memset(&v, 0, sizeof v);
	if (len >= 3 && memcmp(s, "$6$", 3) == 0) {
		v.scheme = WMQ_PW_MOSQ_SHA512;
		rc = parse_mosq(s, len, &v);
	} else if (len >= 3 && memcmp(s, "$7$", 3) == 0) {
		v.scheme = WMQ_PW_MOSQ_PBKDF2;
		rc = parse_mosq(s, len, &v);
	} else if (len >= 1 && s[0] == '$') {
		struct wmq_argon2id_phc phc;
		v.scheme = WMQ_PW_ARGON2ID;
		rc = wmq_crypto_argon2id_phc_parse(s, len, &phc);
		if (rc == WMQ_OK) {
			v.argon2 = phc.prm;
			memcpy(v.salt, phc.salt, phc.salt_len);
			v.salt_len = phc.salt_len;
			memcpy(v.hash, phc.hash, phc.hash_len);
			v.hash_len = phc.hash_len;
		}
		wmq_crypto_wipe(&phc, sizeof phc);
	} else {
		rc = WMQ_ERR_MALFORMED; /* plain text or garbage */
	}
	if (rc == WMQ_OK)
		*out = v;
	wmq_crypto_wipe(&v, sizeof v);
	if (rc != WMQ_OK)
		WMQ_BAIL(rc);
	return WMQ_OK;
}

wmq_err wmq_pw_verifier_encode(const struct wmq_pw_verifier *v, char *out, size_t cap)
{
	WMQ_ENSURE(v != NULL && out != NULL && cap > 0, WMQ_ERR_INVAL);
	if (v->scheme == WMQ_PW_ARGON2ID) {
		struct wmq_argon2id_phc phc;
		WMQ_ENSURE(v->salt_len <= sizeof phc.salt && v->hash_len <= sizeof phc.hash, WMQ_ERR_INVAL);
		phc.prm = v->argon2;
		memcpy(phc.salt, v->salt, v->salt_len);
		phc.salt_len = v->salt_len;
		memcpy(phc.hash, v->hash, v->hash_len);
		phc.hash_len = v->hash_len;
		wmq_err rc = wmq_crypto_argon2id_phc_encode(&phc, out, cap);
		wmq_crypto_wipe(&phc, sizeof phc);
		return rc;
	}
	WMQ_ENSURE(v->scheme == WMQ_PW_MOSQ_SHA512 || v->scheme == WMQ_PW_MOSQ_PBKDF2, WMQ_ERR_INVAL);
	WMQ_ENSURE(v->hash_len == MOSQ_HASH_LEN && v->salt_len >= 1 && v->salt_len <= sizeof v->salt,
		   WMQ_ERR_INVAL);
	int n = v->scheme == WMQ_PW_MOSQ_SHA512 ? snprintf(out, cap, "$6$")
						: snprintf(out, cap, "$7$%u$", (unsigned)v->iterations);
	WMQ_ENSURE(n > 0 && (size_t)n < cap, WMQ_ERR_LIMIT);
	size_t o = (size_t)n;
	WMQ_TRY(wmq_crypto_b64_encode(v->salt, v->salt_len, true, out + o, cap - o));
	o += wmq_crypto_b64_len(v->salt_len, true);
	WMQ_ENSURE(cap - o >= 2, WMQ_ERR_LIMIT);
	out[o++] = '$';
	WMQ_TRY(wmq_crypto_b64_encode(v->hash, v->hash_len, true, out + o, cap - o));
	return WMQ_OK;
}

wmq_err wmq_pw_verifier_create(const struct wmq_pw_params *prm, struct wmq_bytes pw, struct wmq_pw_verifier *out)
{
	struct wmq_pw_verifier v;
	WMQ_TRY(wmq_pw_params_check(prm));
	WMQ_ENSURE(out != NULL, WMQ_ERR_INVAL);
	memset(&v, 0, sizeof v);
	v.scheme = WMQ_PW_ARGON2ID;
	v.argon2 = (struct wmq_argon2id_params){prm->m_kib, prm->t_cost, prm->parallelism};
	v.salt_len = prm->salt_len;
	v.hash_len = prm->tag_len;
	wmq_err rc = wmq_crypto_random(v.salt, v.salt_len);
	if (rc == WMQ_OK)
		rc = wmq_crypto_argon2id(&v.argon2, pw.p, pw.len, v.salt, v.salt_len, NULL, 0, NULL, 0, v.hash,
					 v.hash_len);
	if (rc == WMQ_OK)
		*out = v;
	wmq_crypto_wipe(&v, sizeof v);
	return rc;
}

/* Compute the legacy hash of |pw| with |v|'s salt into |out| (64 bytes). */
static wmq_err legacy_hash(const struct wmq_pw_verifier *v, struct wmq_bytes pw, uint8_t out[MOSQ_HASH_LEN])
{
	if (v->scheme == WMQ_PW_MOSQ_SHA512) {
		/* mosquitto 1.x pw__digest: SHA-512(password || salt) */
		struct wmq_bytes parts[2] = {pw, {v->salt, v->salt_len}};
		return wmq_crypto_digest(WMQ_MD_SHA512, parts, 2, out);
	}
	/* mosquitto 2.x: PKCS5_PBKDF2_HMAC(password, salt, iterations, sha512, 64) */
	return wmq_crypto_pbkdf2(WMQ_MD_SHA512, pw.p, pw.len, v->salt, v->salt_len, v->iterations, out,
				 MOSQ_HASH_LEN);
}

wmq_err wmq_pw_verifier_verify(const struct wmq_pw_verifier *v, struct wmq_bytes pw, bool *ok)
{
	uint8_t h[WMQ_ARGON2_MAX_TAG];
	wmq_err rc;
	WMQ_ENSURE(v != NULL && ok != NULL && v->hash_len <= sizeof h && v->hash_len > 0, WMQ_ERR_INVAL);
	*ok = false;
	if (v->scheme == WMQ_PW_ARGON2ID) {
		rc = wmq_crypto_argon2id(&v->argon2, pw.p, pw.len, v->salt, v->salt_len, NULL, 0, NULL, 0, h,
					 v->hash_len);
	} else if (v->scheme == WMQ_PW_MOSQ_SHA512 || v->scheme == WMQ_PW_MOSQ_PBKDF2) {
		rc = v->hash_len == MOSQ_HASH_LEN ? legacy_hash(v, pw, h) : WMQ_ERR_INVAL;
	} else {
		rc = WMQ_ERR_INVAL;
	}
	if (rc == WMQ_OK)
		*ok = wmq_crypto_memeq(h, v->hash, v->hash_len);
	wmq_crypto_wipe(h, sizeof h);
	return rc;
}

bool wmq_pw_verifier_needs_upgrade(const struct wmq_pw_verifier *v, const struct wmq_pw_params *prm)
{
	if (v->scheme != WMQ_PW_ARGON2ID)
		return true;
	return v->argon2.m_kib < prm->m_kib || v->argon2.t < prm->t_cost || v->hash_len < prm->tag_len ||
	       v->salt_len < 16;
}

void wmq_pw_verifier_wipe(struct wmq_pw_verifier *v)
{
	if (v)
		wmq_crypto_wipe(v, sizeof *v);
}

/* ---- context: dummy, counters, cache ----------------------------------- */

struct cache_ent {
	struct wmq_lru_node node; /* key = mac */
	uint8_t mac[WMQ_SHA256_LEN];
	uint8_t user_tag[WMQ_SHA256_LEN]; /* HMAC(K, "u" | user): forget_user */
	uint64_t expires_ms;
};

struct wmq_pw_ctx {
	struct wmq_pw_ctx_opts opts;
	struct wmq_pw_verifier dummy;
	uint8_t key[CACHE_KEY_LEN]; /* never leaves the process */
	pthread_mutex_t lock;       /* guards cache */
	struct wmq_lru cache;
	_Atomic uint64_t checks, argon2_runs, dummy_runs, legacy_runs, upgrades, cache_hits;
};

void wmq_pw_ctx_opts_default(struct wmq_pw_ctx_opts *o)
{
	memset(o, 0, sizeof *o);
	wmq_pw_params_default(&o->params);
	o->cache_entries = 10000;
	o->cache_ttl_ms = 3600u * 1000u;
	o->pad_legacy = true;
}

static void cache_drop(struct wmq_lru_node *n)
{
	struct cache_ent *e = WMQ_LRU_ENTRY(n, struct cache_ent, node);
	wmq_crypto_wipe(e, sizeof *e);
	wmq_free(e);
}

wmq_err wmq_pw_ctx_new(const struct wmq_pw_ctx_opts *o, struct wmq_pw_ctx **out)
{
	wmq_err rc;
	WMQ_ENSURE(o != NULL && out != NULL, WMQ_ERR_INVAL);
	WMQ_TRY(wmq_pw_params_check(&o->params));
	struct wmq_pw_ctx *c = wmq_calloc(1, sizeof *c);
	WMQ_ENSURE(c != NULL, WMQ_ERR_NOMEM);
	c->opts = *o;
	wmq_lru_init(&c->cache, o->cache_entries ? o->cache_entries : 1);
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		wmq_free(c);
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	}
	/* The dummy: configured parameters, random salt and random tag. Running
	 * Argon2id against it costs exactly what a real check costs and can
	 * never succeed (a 2^-256 chance aside). */
	c->dummy.scheme = WMQ_PW_ARGON2ID;
	c->dummy.argon2 = (struct wmq_argon2id_params){o->params.m_kib, o->params.t_cost, o->params.parallelism};
	c->dummy.salt_len = o->params.salt_len;
	c->dummy.hash_len = o->params.tag_len;
	if ((rc = wmq_crypto_random(c->dummy.salt, c->dummy.salt_len)) != WMQ_OK)
		goto out;
	if ((rc = wmq_crypto_random(c->dummy.hash, c->dummy.hash_len)) != WMQ_OK)
		goto out;
	if ((rc = wmq_crypto_random(c->key, sizeof c->key)) != WMQ_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	wmq_pw_ctx_free(c);
	return rc;
}

void wmq_pw_ctx_free(struct wmq_pw_ctx *ctx)
{
	if (!ctx)
		return;
	wmq_lru_cleanup(&ctx->cache, cache_drop);
	pthread_mutex_destroy(&ctx->lock);
	wmq_crypto_wipe(ctx, sizeof *ctx);
	wmq_free(ctx);
}

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* MAC = HMAC(K, len(user) | user | len(pw) | pw | scheme | salt | hash):
 * length-prefixed, so no two (user, password) pairs share an encoding, and
 * bound to the stored verifier. */
static wmq_err cache_mac(const struct wmq_pw_ctx *c, struct wmq_bytes user, struct wmq_bytes pw,
			 const struct wmq_pw_verifier *v, uint8_t mac[WMQ_SHA256_LEN])
{
	uint8_t ul[8], pl[8], sch = (uint8_t)v->scheme;
	be64(ul, user.len);
	be64(pl, pw.len);
	struct wmq_bytes parts[7] = {
		{ul, 8}, user, {pl, 8}, pw, {&sch, 1}, {v->salt, v->salt_len}, {v->hash, v->hash_len},
	};
	return wmq_crypto_hmac(WMQ_MD_SHA256, c->key, sizeof c->key, parts, 7, mac);
}

static wmq_err user_tag(const struct wmq_pw_ctx *c, struct wmq_bytes user, uint8_t tag[WMQ_SHA256_LEN])
{
	struct wmq_bytes parts[2] = {WMQ_BYTES_STR("u"), user};
	return wmq_crypto_hmac(WMQ_MD_SHA256, c->key, sizeof c->key, parts, 2, tag);
}

static bool cache_lookup(struct wmq_pw_ctx *c, const uint8_t mac[WMQ_SHA256_LEN], uint64_t now_ms)
{
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	struct wmq_lru_node *n = wmq_lru_get(&c->cache, mac, WMQ_SHA256_LEN);
	if (n) {
		struct cache_ent *e = WMQ_LRU_ENTRY(n, struct cache_ent, node);
		if (now_ms < e->expires_ms) {
			hit = true;
		} else {
			wmq_lru_remove(&c->cache, n);
			cache_drop(n);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Best effort: a failed insert only costs a future Argon2id run. */
static void cache_insert(struct wmq_pw_ctx *c, const uint8_t mac[WMQ_SHA256_LEN], struct wmq_bytes user,
			 uint64_t now_ms)
{
	struct cache_ent *e = wmq_calloc(1, sizeof *e);
	if (!e)
		return;
	memcpy(e->mac, mac, WMQ_SHA256_LEN);
	if (user_tag(c, user, e->user_tag) != WMQ_OK) {
		wmq_free(e);
		return;
	}
	e->expires_ms = now_ms + c->opts.cache_ttl_ms;
	e->node.key = e->mac;
	e->node.klen = WMQ_SHA256_LEN;
	struct wmq_lru_node *evicted = NULL;
	pthread_mutex_lock(&c->lock);
	struct wmq_lru_node *old = wmq_lru_peek(&c->cache, mac, WMQ_SHA256_LEN);
	if (old) {
		wmq_lru_remove(&c->cache, old);
		cache_drop(old);
	}
	if (wmq_lru_put(&c->cache, &e->node, &evicted) != WMQ_OK) {
		cache_drop(&e->node);
	} else if (evicted) {
		cache_drop(evicted);
	}
	pthread_mutex_unlock(&c->lock);
}

static void dummy_run(struct wmq_pw_ctx *c, struct wmq_bytes pw)
{
	bool ignored = false;
	/* the result is irrelevant; an error (NOMEM) is as good as a miss */
	wmq_err e = wmq_pw_verifier_verify(&c->dummy, pw, &ignored);
	WMQ_UNUSED(e);
	atomic_fetch_add(&c->argon2_runs, 1);
	atomic_fetch_add(&c->dummy_runs, 1);
}

wmq_err wmq_pw_check(struct wmq_pw_ctx *ctx, struct wmq_bytes username, const struct wmq_pw_verifier *stored,
		     struct wmq_bytes password, uint64_t now_ms, struct wmq_pw_outcome *out)
{
	uint8_t mac[WMQ_SHA256_LEN];
	wmq_err rc = WMQ_OK;
	bool ok = false;
	WMQ_ENSURE(ctx != NULL && out != NULL, WMQ_ERR_INVAL);
	memset(out, 0, sizeof *out);
	atomic_fetch_add(&ctx->checks, 1);
	const bool caching = ctx->opts.cache_entries > 0;
	/* the cache is consulted for unknown users too (bound to the dummy,
	 * which never gets an entry), so both paths do the same steps */
	const struct wmq_pw_verifier *v = stored ? stored : &ctx->dummy;
	if (caching) {
		if ((rc = cache_mac(ctx, username, password, v, mac)) != WMQ_OK)
			goto out;
		/* looked up for unknown users too (same steps); the dummy is
		 * never inserted, so that lookup cannot hit */
		if (cache_lookup(ctx, mac, now_ms) && stored) {
			atomic_fetch_add(&ctx->cache_hits, 1);
			out->ok = true;
			out->cache_hit = true;
			goto out;
		}
	}
	if (!stored) {
		dummy_run(ctx, password);
		goto out; /* ok stays false */
	}
	rc = wmq_pw_verifier_verify(stored, password, &ok);
	if (stored->scheme == WMQ_PW_ARGON2ID) {
		atomic_fetch_add(&ctx->argon2_runs, 1);
	} else {
		atomic_fetch_add(&ctx->legacy_runs, 1);
		if (ctx->opts.pad_legacy)
			dummy_run(ctx, password);
	}
	if (rc != WMQ_OK || !ok)
		goto out;
	out->ok = true;
	out->needs_upgrade = wmq_pw_verifier_needs_upgrade(stored, &ctx->opts.params);
	if (out->needs_upgrade) {
		/* rehash now, on the auth pool, while we hold the password */
		if (wmq_pw_verifier_create(&ctx->opts.params, password, &out->upgrade) == WMQ_OK) {
			out->upgraded = true;
			atomic_fetch_add(&ctx->argon2_runs, 1);
			atomic_fetch_add(&ctx->upgrades, 1);
			if (caching && cache_mac(ctx, username, password, &out->upgrade, mac) == WMQ_OK)
				cache_insert(ctx, mac, username, now_ms);
		}
	} else if (caching) {
		cache_insert(ctx, mac, username, now_ms);
	}
out:
	wmq_crypto_wipe(mac, sizeof mac);
	return rc;
}

void wmq_pw_forget_user(struct wmq_pw_ctx *ctx, struct wmq_bytes username)
{
	uint8_t tag[WMQ_SHA256_LEN];
	if (!ctx || user_tag(ctx, username, tag) != WMQ_OK) {
		/* cannot identify the entries: drop them all (fail safe) */
		wmq_pw_forget_all(ctx);
		return;
	}
	pthread_mutex_lock(&ctx->lock);
	struct wmq_lru_node *n = wmq_lru_next(&ctx->cache, NULL);
	while (n) {
		struct wmq_lru_node *next = wmq_lru_next(&ctx->cache, n);
		struct cache_ent *e = WMQ_LRU_ENTRY(n, struct cache_ent, node);
		if (wmq_crypto_memeq(e->user_tag, tag, sizeof tag)) {
			wmq_lru_remove(&ctx->cache, n);
			cache_drop(n);
		}
		n = next;
	}
	pthread_mutex_unlock(&ctx->lock);
}

void wmq_pw_forget_all(struct wmq_pw_ctx *ctx)
{
	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	size_t cap = ctx->cache.cap;
	wmq_lru_cleanup(&ctx->cache, cache_drop);
	wmq_lru_init(&ctx->cache, cap);
	pthread_mutex_unlock(&ctx->lock);
}

void wmq_pw_get_stats(struct wmq_pw_ctx *ctx, struct wmq_pw_stats *st)
{
	st->checks = atomic_load(&ctx->checks);
	st->argon2_runs = atomic_load(&ctx->argon2_runs);
	st->dummy_runs = atomic_load(&ctx->dummy_runs);
	st->legacy_runs = atomic_load(&ctx->legacy_runs);
	st->upgrades = atomic_load(&ctx->upgrades);
	st->cache_hits = atomic_load(&ctx->cache_hits);
	pthread_mutex_lock(&ctx->lock);
	st->cache_entries = ctx->cache.n;
	pthread_mutex_unlock(&ctx->lock);
}

/* ---- mosquitto_passwd import ------------------------------------------- */

static void reportf(wmq_pw_report_fn report, void *arg, const char *source, size_t line, const char *msg)
{
	char buf[512];
	if (!report)
		return;
	snprintf(buf, sizeof buf, "%s:%zu: %s", source ? source : "passwd", line, msg);
	report(arg, buf);
}

wmq_err wmq_pw_import_mosquitto(const char *text, size_t len, const char *source, wmq_pw_import_fn fn,
				wmq_pw_report_fn report, void *arg, size_t *imported, size_t *skipped)
{
	size_t nimp = 0, nskip = 0, lineno = 0, pos = 0;
	wmq_err rc = WMQ_OK;
	WMQ_ENSURE((text != NULL || len == 0) && fn != NULL, WMQ_ERR_INVAL);
	while (pos < len && rc == WMQ_OK) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;
		pos += llen + (nl ? 1 : 0);
		lineno++;
		while (llen && (line[llen - 1] == '\r' || line[llen - 1] == '\n'))
			llen--;
		if (llen == 0 || line[0] == '#')
			continue;
		const char *colon = memchr(line, ':', llen);
		if (!colon || colon == line) {
			reportf(report, arg, source, lineno, "expected \"username:hash\"");
			nskip++;
			continue;
		}
		size_t ulen = (size_t)(colon - line);
		const char *h = colon + 1;
		size_t hlen = llen - ulen - 1;
		if (memchr(line, '\0', llen)) {
			reportf(report, arg, source, lineno, "NUL byte in line");
			nskip++;
			continue;
		}
		struct wmq_pw_verifier v;
		wmq_err prc = wmq_pw_verifier_parse(h, hlen, &v);
		if (prc != WMQ_OK) {
			/* (an Argon2id PHC string, as mosquitto 2.1 can write, is
			 * accepted like the two SHA-512 formats) */
			const char *why = hlen && h[0] != '$' ? "not a hashed password (plain text? run mosquitto_passwd -U)"
				       : prc == WMQ_ERR_INVAL ? "unsupported hash scheme or parameters"
						       : "malformed hash";
			reportf(report, arg, source, lineno, why);
			nskip++;
			wmq_pw_verifier_wipe(&v);
			continue;
		}
		char *user = wmq_strndup(line, ulen);
		if (!user) {
			wmq_pw_verifier_wipe(&v);
			rc = WMQ_ERR_NOMEM;
			break;
		}
		rc = fn(arg, user, &v);
		if (rc == WMQ_OK)
			nimp++;
		wmq_free(user);
		wmq_pw_verifier_wipe(&v);
	}
	if (imported)
		*imported = nimp;
	if (skipped)
		*skipped = nskip;
	return rc;
}
