/* SPDX-License-Identifier: MIT
 * lru.c - hash map plus intrusive doubly-linked ring. All operations O(1)
 * except cleanup. See lru.h. Threading: none. */
#include "security/lru.h"

static void unlink_node(struct wmq_lru_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

static void link_front(struct wmq_lru *l, struct wmq_lru_node *n)
{
	n->next = l->head.next;
	n->prev = &l->head;
	l->head.next->prev = n;
	l->head.next = n;
}

void wmq_lru_init(struct wmq_lru *l, size_t cap)
{
	wmq_hmap_init(&l->map);
	l->head.prev = l->head.next = &l->head;
	l->head.key = NULL;
	l->head.klen = 0;
	l->n = 0;
	l->cap = cap ? cap : 1;
}

void wmq_lru_cleanup(struct wmq_lru *l, void (*drop)(struct wmq_lru_node *))
{
	while (l->head.next != &l->head) {
		struct wmq_lru_node *n = l->head.next;
		unlink_node(n);
		if (drop)
			drop(n);
	}
	l->n = 0;
	wmq_hmap_cleanup(&l->map);
}

struct wmq_lru_node *wmq_lru_peek(const struct wmq_lru *l, const void *key, size_t klen)
{
	return wmq_hmap_get(&l->map, key, klen);
}

struct wmq_lru_node *wmq_lru_get(struct wmq_lru *l, const void *key, size_t klen)
{
	struct wmq_lru_node *n = wmq_hmap_get(&l->map, key, klen);
	if (n && l->head.next != n) {
		unlink_node(n);
		link_front(l, n);
	}
	return n;
}

wmq_err wmq_lru_put(struct wmq_lru *l, struct wmq_lru_node *node, struct wmq_lru_node **evicted)
{
	*evicted = NULL;
	WMQ_TRY(wmq_hmap_put(&l->map, node->key, node->klen, node));
	link_front(l, node);
	l->n++;
	if (l->n > l->cap) {
		struct wmq_lru_node *old = l->head.prev;
		wmq_lru_remove(l, old);
		*evicted = old;
	}
	return WMQ_OK;
}

void wmq_lru_remove(struct wmq_lru *l, struct wmq_lru_node *node)
{
	(void)wmq_hmap_del(&l->map, node->key, node->klen);
	unlink_node(node);
	l->n--;
}

struct wmq_lru_node *wmq_lru_oldest(const struct wmq_lru *l)
{
	return l->head.prev == &l->head ? NULL : l->head.prev;
}

struct wmq_lru_node *wmq_lru_next(const struct wmq_lru *l, const struct wmq_lru_node *cur)
{
	const struct wmq_lru_node *n = cur ? cur->next : l->head.next;
	return n == &l->head ? NULL : (struct wmq_lru_node *)(uintptr_t)n;
}
