/* SPDX-License-Identifier: MIT
 * tnode.c - the part of a topic-trie node that the subscription trie and the
 * retained trie share: one topic level, a parent link, children by level.
 * Ownership: a node owns its level string; children are owned by whoever
 * embeds the node (router.c, retain.c) and only indexed here. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"

wmq_err wmq_tnode_init(struct wmq_tnode *n, struct wmq_tnode *parent, struct wmq_bytes level)
{
	n->parent = parent;
	n->level = wmq_strndup((const char *)level.p, level.len);
	WMQ_ENSURE(n->level != NULL, WMQ_ERR_NOMEM);
	n->level_len = level.len;
	wmq_hmap_init(&n->children);
	return WMQ_OK;
}

void wmq_tnode_cleanup(struct wmq_tnode *n)
{
	wmq_hmap_cleanup(&n->children);
	wmq_free(n->level);
	n->level = NULL;
}

void *wmq_tnode_child(const struct wmq_tnode *n, struct wmq_bytes level)
{
	return wmq_hmap_get(&n->children, level.p, level.len);
}

wmq_err wmq_tnode_attach(struct wmq_tnode *child, void *owner)
{
	return wmq_hmap_put(&child->parent->children, child->level, child->level_len, owner);
}

void wmq_tnode_detach(struct wmq_tnode *child)
{
	if (child->parent)
		(void)wmq_hmap_del(&child->parent->children, child->level, child->level_len);
}

bool wmq_topic_split_first(struct wmq_bytes rest, struct wmq_bytes *level, struct wmq_bytes *next)
{
	const uint8_t *slash = rest.len ? memchr(rest.p, '/', rest.len) : NULL;
	level->p = rest.p;
	level->len = slash ? (size_t)(slash - rest.p) : rest.len;
	next->p = slash ? slash + 1 : rest.p + rest.len;
	next->len = slash ? rest.len - level->len - 1 : 0;
	return slash != NULL;
}
