/* SPDX-License-Identifier: MIT
 * router.c - the subscription trie.
 * One node per topic level; '+' and '#' are children like any other level,
 * with shortcuts. Matching walks the topic's levels once: each trie node can
 * be reached only at one depth, so a match visits at most the nodes on
 * matching paths — never the unrelated subscriptions ([MQTT-4.7]).
 * Shared subscriptions hang at the node of their real filter as groups.
 * Ownership: nodes belong to the router; struct wmq_sub belongs to its
 * session, the trie only points at it. Threading: the owning worker. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"

static struct wmq_rnode *node_new(struct wmq_rnode *parent, struct wmq_bytes level)
{
	struct wmq_rnode *n = wmq_calloc(1, sizeof *n);
	if (n && wmq_tnode_init(&n->t, parent ? &parent->t : NULL, level) != WMQ_OK) {
		wmq_free(n);
		n = NULL;
	}
	return n;
}

/* Free |n| alone (its children are gone or freed by the caller). */
static void node_release(struct wmq_rnode *n)
{
	for (size_t i = 0; i < n->nshares; i++) {
		wmq_free(n->shares[i]->members);
		wmq_free(n->shares[i]->group);
		wmq_free(n->shares[i]);
	}
	wmq_free(n->shares);
	wmq_free(n->subs);
	wmq_tnode_cleanup(&n->t);
	wmq_free(n);
}

static void node_free(struct wmq_rnode *n)
{
	size_t it = 0;
	struct wmq_hent *e;
	while ((e = wmq_hmap_next(&n->t.children, &it)) != NULL)
		node_free(e->val);
	node_release(n);
}

wmq_err wmq_router_init(struct wmq_router *r)
{
	r->count = 0;
	r->root = node_new(NULL, (struct wmq_bytes){(const uint8_t *)"", 0});
	WMQ_ENSURE(r->root != NULL, WMQ_ERR_NOMEM);
	return WMQ_OK;
}

void wmq_router_cleanup(struct wmq_router *r)
{
	if (r->root)
		node_free(r->root);
	r->root = NULL;
}

/* Remove empty nodes from |n| upwards. */
static void prune(struct wmq_rnode *n)
{
	while (n && n->t.parent && n->nsubs == 0 && n->nshares == 0 && n->t.children.n == 0) {
		struct wmq_rnode *p = (struct wmq_rnode *)(void *)n->t.parent;
		wmq_tnode_detach(&n->t);
		if (p->plus == n)
			p->plus = NULL;
		if (p->hash == n)
			p->hash = NULL;
		node_release(n);
		n = p;
	}
}

static wmq_err grow_ptrs(void ***arr, size_t *cap, size_t need)
{
	if (need <= *cap)
		return WMQ_OK;
	size_t ncap = *cap ? *cap * 2 : 4;
	while (ncap < need)
		ncap *= 2;
	void **q = wmq_reallocarray(*arr, ncap, sizeof **arr);
	WMQ_ENSURE(q != NULL, WMQ_ERR_NOMEM);
	*arr = q;
	*cap = ncap;
	return WMQ_OK;
}

wmq_err wmq_router_add(struct wmq_router *r, struct wmq_sub *sub)
{
	struct wmq_bytes full = {(const uint8_t *)sub->filter, sub->filter_len};
	struct wmq_bytes filter = full, group = {0};
	bool shared = wmq_topic_shared_split(full, &group, &filter);
	struct wmq_rnode *n = r->root, *created = NULL;
	size_t pos = 0;
	struct wmq_bytes level;
	wmq_err rc = WMQ_OK;

	while (wmq_topic_next_level(filter, &pos, &level)) {
		struct wmq_rnode *c = wmq_tnode_child(&n->t, level);
		if (!c) {
			c = node_new(n, level);
			if (!c) {
				rc = WMQ_ERR_NOMEM;
				goto fail;
			}
			if ((rc = wmq_tnode_attach(&c->t, c)) != WMQ_OK) {
				node_release(c);
				goto fail;
			}
			if (level.len == 1 && level.p[0] == '+')
				n->plus = c;
			else if (level.len == 1 && level.p[0] == '#')
				n->hash = c;
			if (!created)
				created = c;
		}
		n = c;
	}
	if (!shared) {
		if ((rc = grow_ptrs((void ***)&n->subs, &n->capsubs, n->nsubs + 1)) != WMQ_OK)
			goto fail;
		sub->idx = n->nsubs;
		n->subs[n->nsubs++] = sub;
	} else {
		struct wmq_share *sh = NULL;
		for (size_t i = 0; i < n->nshares; i++)
			if (n->shares[i]->group_len == group.len &&
			    memcmp(n->shares[i]->group, group.p, group.len) == 0)
				sh = n->shares[i];
		if (!sh) {
			if ((rc = grow_ptrs((void ***)&n->shares, &n->capshares, n->nshares + 1)) !=
			    WMQ_OK)
				goto fail;
			sh = wmq_calloc(1, sizeof *sh);
			if (!sh || !(sh->group = wmq_strndup((const char *)group.p, group.len))) {
				wmq_free(sh);
				rc = WMQ_ERR_NOMEM;
				goto fail;
			}
			sh->group_len = group.len;
			n->shares[n->nshares++] = sh;
		}
		if ((rc = grow_ptrs((void ***)&sh->members, &sh->cap, sh->n + 1)) != WMQ_OK)
			goto fail;
		sub->idx = sh->n;
		sh->members[sh->n++] = sub;
		sub->share = sh;
	}
	sub->node = n;
	r->count++;
	return WMQ_OK;
fail:
	prune(n);
	return rc;
}

void wmq_router_remove(struct wmq_router *r, struct wmq_sub *sub)
{
	struct wmq_rnode *n = sub->node;
	if (!n)
		return;
	if (!sub->share) {
		/* swap-remove keeps the array dense */
		n->subs[sub->idx] = n->subs[--n->nsubs];
		n->subs[sub->idx]->idx = sub->idx;
	} else {
		struct wmq_share *sh = sub->share;
		sh->members[sub->idx] = sh->members[--sh->n];
		sh->members[sub->idx]->idx = sub->idx;
		if (sh->rr >= sh->n)
			sh->rr = 0;
		if (sh->n == 0) {
			for (size_t i = 0; i < n->nshares; i++)
				if (n->shares[i] == sh) {
					n->shares[i] = n->shares[--n->nshares];
					break;
				}
			wmq_free(sh->members);
			wmq_free(sh->group);
			wmq_free(sh);
		}
		sub->share = NULL;
	}
	sub->node = NULL;
	r->count--;
	prune(n);
}

struct match_ctx {
	wmq_router_fn fn;
	void *arg;
};

static void emit(struct match_ctx *mc, struct wmq_rnode *n)
{
	for (size_t i = 0; i < n->nsubs; i++)
		mc->fn(mc->arg, n->subs[i], false);
	for (size_t i = 0; i < n->nshares; i++) {
		struct wmq_share *sh = n->shares[i];
		struct wmq_sub *pick = NULL;
		/* [MQTT-4.8.2] one member of the group gets each message;
		 * round-robin, preferring members that are connected. */
		for (size_t k = 0; k < sh->n && !pick; k++) {
			struct wmq_sub *cand = sh->members[(sh->rr + k) % sh->n];
			if (cand->session->client) {
				pick = cand;
				sh->rr = (sh->rr + k + 1) % sh->n;
			}
		}
		if (!pick && sh->n) {
			pick = sh->members[sh->rr % sh->n];
			sh->rr = (sh->rr + 1) % sh->n;
		}
		if (pick)
			mc->fn(mc->arg, pick, true);
	}
}

/* |rest| is what is left of the topic after the levels |n| stands for;
 * |more| says whether a level remains (distinguishes "a" from "a/"). */
static void match(struct match_ctx *mc, struct wmq_rnode *n, struct wmq_bytes rest, bool more,
		  bool first)
{
	if (!more) {
		emit(mc, n);
		/* [MQTT-4.7.1-2] "sport/#" also matches "sport" */
		if (n->hash)
			emit(mc, n->hash);
		return;
	}
	/* [MQTT-4.7.2-1] wildcards at the first level do not match '$' topics */
	bool wild_ok = !(first && rest.len > 0 && rest.p[0] == '$');
	struct wmq_bytes level, next;
	bool more_after = wmq_topic_split_first(rest, &level, &next);
	if (n->hash && wild_ok)
		emit(mc, n->hash);
	struct wmq_rnode *c = wmq_tnode_child(&n->t, level);
	if (c && c != n->plus && c != n->hash)
		match(mc, c, next, more_after, false);
	if (n->plus && wild_ok)
		match(mc, n->plus, next, more_after, false);
}

void wmq_router_match(struct wmq_router *r, struct wmq_bytes topic, wmq_router_fn fn, void *arg)
{
	struct match_ctx mc = {fn, arg};
	match(&mc, r->root, topic, true, true);
}
