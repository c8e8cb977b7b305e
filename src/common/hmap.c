/* SPDX-License-Identifier: MIT
 * hmap.c - linear-probing hash map with backward-shift deletion. */
#include "common/hmap.h"

#include <pthread.h>
#include <string.h>

#include "common/alloc.h"
#include "common/rand.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = ROTL(v1, 13);                                             \
		v1 ^= v0;                                                      \
		v0 = ROTL(v0, 32);                                             \
		v2 += v3;                                                      \
		v3 = ROTL(v3, 16);                                             \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = ROTL(v3, 21);                                             \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = ROTL(v1, 17);                                             \
		v1 ^= v2;                                                      \
		v2 = ROTL(v2, 32);                                             \
	} while (0)

uint64_t wmq_siphash(uint64_t k0, uint64_t k1, const void *p, size_t len)
{
	const uint8_t *in = p;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t left = len & 7, end = len - left;
	for (size_t i = 0; i < end; i += 8) {
		uint64_t m;
		memcpy(&m, in + i, 8); /* little-endian hosts only (x86-64, arm64) */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)in[end + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* One SipHash key for the process, drawn from the kernel once: a constant
 * after initialisation (like Python's hash randomisation), so creating a map
 * costs no system call. The key stays secret from peers, which is what
 * defeats hash flooding. */
static uint64_t process_key[2];
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void process_key_init(void)
{
	uint64_t k[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	if (wmq_rand_bytes(k, sizeof k) != WMQ_OK) {
		/* getrandom cannot fail on Linux >= 3.17 with a valid buffer;
		 * keep the fixed key rather than fail init. */
	}
	process_key[0] = k[0];
	process_key[1] = k[1];
}

void wmq_hmap_init(struct wmq_hmap *m)
{
	memset(m, 0, sizeof *m);
	(void)pthread_once(&process_key_once, process_key_init);
	m->k0 = process_key[0];
	m->k1 = process_key[1];
}

void wmq_hmap_cleanup(struct wmq_hmap *m)
{
	wmq_free(m->tab);
	m->tab = NULL;
	m->cap = m->n = 0;
}

static struct wmq_hent *find(const struct wmq_hmap *m, const void *key, size_t klen, uint32_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask, probes = 0; probes < m->cap; i = (i + 1) & mask, probes++) {
		struct wmq_hent *e = &m->tab[i];
		if (!e->key)
			return NULL;
		if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	}
	return NULL;
}

void *wmq_hmap_get(const struct wmq_hmap *m, const void *key, size_t klen)
{
	if (!m->n)
		return NULL;
	struct wmq_hent *e = find(m, key, klen, (uint32_t)wmq_siphash(m->k0, m->k1, key, klen));
	return e ? e->val : NULL;
}

static void insert_fresh(struct wmq_hent *tab, size_t cap, const struct wmq_hent *src)
{
	size_t mask = cap - 1;
	size_t i = (size_t)src->hash & mask;
	while (tab[i].key)
		i = (i + 1) & mask;
	tab[i] = *src;
}

static wmq_err grow(struct wmq_hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 8;
	struct wmq_hent *nt = wmq_calloc(ncap, sizeof *nt);
	WMQ_ENSURE(nt != NULL, WMQ_ERR_NOMEM);
	for (size_t i = 0; i < m->cap; i++)
		if (m->tab[i].key)
			insert_fresh(nt, ncap, &m->tab[i]);
	wmq_free(m->tab);
	m->tab = nt;
	m->cap = ncap;
	return WMQ_OK;
}

wmq_err wmq_hmap_put(struct wmq_hmap *m, const void *key, size_t klen, void *val)
{
	WMQ_ENSURE(klen <= UINT32_MAX, WMQ_ERR_LIMIT);
	uint32_t h = (uint32_t)wmq_siphash(m->k0, m->k1, key, klen);
	struct wmq_hent *e = find(m, key, klen, h);
	if (e) {
		e->key = key; /* the new value may own a new copy of the key */
		e->val = val;
		return WMQ_OK;
	}
	if ((m->n + 1) * 4 > m->cap * 3) /* load factor <= 0.75 */
		WMQ_TRY(grow(m));
	struct wmq_hent ne = {key, val, (uint32_t)klen, h};
	insert_fresh(m->tab, m->cap, &ne);
	m->n++;
	return WMQ_OK;
}

void *wmq_hmap_del(struct wmq_hmap *m, const void *key, size_t klen)
{
	if (!m->n)
		return NULL;
	struct wmq_hent *e = find(m, key, klen, (uint32_t)wmq_siphash(m->k0, m->k1, key, klen));
	if (!e)
		return NULL;
	void *val = e->val;
	size_t mask = m->cap - 1;
	size_t i = (size_t)(e - m->tab);
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
		if (!m->tab[j].key)
			break;
		size_t home = (size_t)m->tab[j].hash & mask;
		/* Move j into the hole at i if its home is not in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->tab[i] = m->tab[j];
			i = j;
		}
	}
	memset(&m->tab[i], 0, sizeof m->tab[i]);
	m->n--;
	return val;
}

struct wmq_hent *wmq_hmap_next(const struct wmq_hmap *m, size_t *i)
{
	while (*i < m->cap) {
		struct wmq_hent *e = &m->tab[(*i)++];
		if (e->key)
			return e;
	}
	return NULL;
}
