/* SPDX-License-Identifier: MIT
 * hmap.h - open-addressing hash map from byte strings to pointers.
 * Role: session table, topic-trie children, topic aliases. Keys are
 * attacker-controlled (client ids, topic levels), so hashing is SipHash-2-4
 * keyed with a process-wide secret drawn from the kernel once: no
 * hash-flooding, and no system call per map.
 * Ownership: keys are borrowed; the caller keeps each key alive (normally
 * the value object owns its key) until it is deleted from the map. Values are
 * the caller's. Threading: none; one owner. */
#ifndef WMQ_COMMON_HMAP_H
#define WMQ_COMMON_HMAP_H
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct wmq_hent {
	const uint8_t *key; /* NULL = empty slot */
	void *val;
	uint32_t klen;      /* keys are MQTT strings: < 2^32 bytes */
	uint32_t hash;      /* low bits of the SipHash value */
};

struct wmq_hmap {
	struct wmq_hent *tab;
	size_t cap; /* power of two, or 0 */
	size_t n;
	uint64_t k0, k1; /* SipHash key */
};

void wmq_hmap_init(struct wmq_hmap *m);
void wmq_hmap_cleanup(struct wmq_hmap *m);
void *wmq_hmap_get(const struct wmq_hmap *m, const void *key, size_t klen);
/* Insert or replace. The key must stay valid while it is in the map. */
WMQ_MUST_USE wmq_err wmq_hmap_put(struct wmq_hmap *m, const void *key, size_t klen, void *val);
/* Remove; returns the value or NULL. */
void *wmq_hmap_del(struct wmq_hmap *m, const void *key, size_t klen);
/* Iterate: *i starts at 0; returns the next entry or NULL. Do not modify the
 * map while iterating (collect first). */
struct wmq_hent *wmq_hmap_next(const struct wmq_hmap *m, size_t *i);

uint64_t wmq_siphash(uint64_t k0, uint64_t k1, const void *p, size_t len);

#endif
