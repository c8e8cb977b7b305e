/* SPDX-License-Identifier: MIT
 * lru.h - bounded least-recently-used index (internal to security/).
 * Role: the memory bound of every table an attacker can grow: the password
 * verification cache, failed-login back-off per (address, username) and per
 * address, the connection-rate buckets. An entry embeds a struct
 * wmq_lru_node (intrusive), so the index never allocates entries itself.
 * Ownership: keys are borrowed from the entry (node->key must stay valid
 * while the node is linked); entries are the caller's: wmq_lru_put() returns
 * the entry it evicted (if any) and the caller frees it.
 * Threading: none; the owning object locks around it. */
#ifndef WMQ_SECURITY_LRU_H
#define WMQ_SECURITY_LRU_H
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hmap.h"

struct wmq_lru_node {
	struct wmq_lru_node *prev, *next; /* ring through lru->head; newest first */
	const uint8_t *key;
	size_t klen;
};

struct wmq_lru {
	struct wmq_hmap map; /* key -> node */
	struct wmq_lru_node head;
	size_t n;
	size_t cap; /* >= 1 */
};

void wmq_lru_init(struct wmq_lru *l, size_t cap);
/* Unlinks everything; calls |drop| (may be NULL) on each node. */
void wmq_lru_cleanup(struct wmq_lru *l, void (*drop)(struct wmq_lru_node *));
/* Find by key and mark most recently used; NULL if absent. */
struct wmq_lru_node *wmq_lru_get(struct wmq_lru *l, const void *key, size_t klen);
/* Find without touching the recency order. */
struct wmq_lru_node *wmq_lru_peek(const struct wmq_lru *l, const void *key, size_t klen);
/* Insert |node| (its key must not be present) as most recent. If the index
 * is then over capacity, the least recent node is unlinked and returned in
 * *evicted (else NULL) for the caller to free. NOMEM leaves |node| unlinked. */
WMQ_MUST_USE wmq_err wmq_lru_put(struct wmq_lru *l, struct wmq_lru_node *node,
				 struct wmq_lru_node **evicted);
void wmq_lru_remove(struct wmq_lru *l, struct wmq_lru_node *node);
/* Least recently used node, or NULL when empty. */
struct wmq_lru_node *wmq_lru_oldest(const struct wmq_lru *l);
/* Iterate from newest to oldest: start with NULL; returns NULL at the end.
 * Removing the returned node is allowed if the caller saved the next one. */
struct wmq_lru_node *wmq_lru_next(const struct wmq_lru *l, const struct wmq_lru_node *cur);

/* Recover the containing entry from its embedded node. */
#define WMQ_LRU_ENTRY(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
