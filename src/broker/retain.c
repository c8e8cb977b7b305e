/* SPDX-License-Identifier: MIT
 * retain.c - retained messages in a topic trie, so that a wildcard
 * subscription finds its retained messages without scanning all of them.
 * Ownership: the trie holds one reference per retained message. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"

static struct wmq_retain_node *rnode_new(struct wmq_retain_node *parent, struct wmq_bytes level)
{
	struct wmq_retain_node *n = wmq_calloc(1, sizeof *n);
	if (n && wmq_tnode_init(&n->t, parent ? &parent->t : NULL, level) != WMQ_OK) {
		wmq_free(n);
		n = NULL;
	}
	return n;
}

static void rnode_free(struct wmq_retain_node *n)
{
	size_t it = 0;
	struct wmq_hent *e;
	while ((e = wmq_hmap_next(&n->t.children, &it)) != NULL)
		rnode_free(e->val);
	wmq_msg_unref(n->msg);
	wmq_tnode_cleanup(&n->t);
	wmq_free(n);
}

wmq_err wmq_retained_init(struct wmq_retained *rt)
{
	memset(rt, 0, sizeof *rt);
	rt->root = rnode_new(NULL, (struct wmq_bytes){(const uint8_t *)"", 0});
	WMQ_ENSURE(rt->root != NULL, WMQ_ERR_NOMEM);
	return WMQ_OK;
}

void wmq_retained_cleanup(struct wmq_retained *rt)
{
	if (rt->root)
		rnode_free(rt->root);
	rt->root = NULL;
}

static void rprune(struct wmq_retain_node *n)
{
	while (n && n->t.parent && !n->msg && n->t.children.n == 0) {
		struct wmq_retain_node *p = (struct wmq_retain_node *)(void *)n->t.parent;
		wmq_tnode_detach(&n->t);
		wmq_tnode_cleanup(&n->t);
		wmq_free(n);
		n = p;
	}
}

wmq_err wmq_retained_set(struct wmq_retained *rt, struct wmq_msg *msg)
{
	struct wmq_bytes topic = {(const uint8_t *)msg->topic, msg->topic_len}, level;
	struct wmq_retain_node *n = rt->root;
	size_t pos = 0;
	bool del = msg->payload_len == 0;
	while (wmq_topic_next_level(topic, &pos, &level)) {
		struct wmq_retain_node *c = wmq_tnode_child(&n->t, level);
		if (!c) {
			if (del)
				return WMQ_OK; /* nothing retained there */
			c = rnode_new(n, level);
			if (!c) {
				rprune(n);
				WMQ_BAIL(WMQ_ERR_NOMEM);
			}
			if (wmq_tnode_attach(&c->t, c) != WMQ_OK) {
				rnode_free(c);
				rprune(n);
				WMQ_BAIL(WMQ_ERR_NOMEM);
			}
		}
		n = c;
	}
	if (n->msg) {
		rt->count--;
		rt->bytes -= wmq_msg_size(n->msg);
		wmq_msg_unref(n->msg);
		n->msg = NULL;
	}
	/* [MQTT-3.3.1-6] an empty payload removes the retained message and
	 * [MQTT-3.3.1-7] is not stored itself. */
	if (del) {
		rprune(n);
		return WMQ_OK;
	}
	n->msg = wmq_msg_ref(msg);
	rt->count++;
	rt->bytes += wmq_msg_size(msg);
	return WMQ_OK;
}

struct rwalk {
	wmq_retained_fn fn;
	void *arg;
	size_t left;
	bool stop;
};

static void visit(struct rwalk *w, struct wmq_msg *m)
{
	if (w->stop || !m)
		return;
	if (w->left == 0 || !w->fn(w->arg, m)) {
		w->stop = true;
		return;
	}
	w->left--;
}

static bool is_dollar(const struct wmq_retain_node *c)
{
	return c->t.level_len && c->t.level[0] == '$';
}

static void visit_all(struct rwalk *w, struct wmq_retain_node *n)
{
	size_t it = 0;
	struct wmq_hent *e;
	visit(w, n->msg);
	while (!w->stop && (e = wmq_hmap_next(&n->t.children, &it)) != NULL)
		visit_all(w, e->val);
}

static void rmatch(struct rwalk *w, struct wmq_retain_node *n, struct wmq_bytes rest, bool more,
		   bool first)
{
	if (w->stop)
		return;
	if (!more) {
		visit(w, n->msg);
		return;
	}
	struct wmq_bytes level, next;
	bool more_after = wmq_topic_split_first(rest, &level, &next);
	if (level.len == 1 && level.p[0] == '#') {
		/* [MQTT-4.7.1-2] '#' matches the parent level and everything
		 * below; [MQTT-4.7.2-1] not '$' topics at the first level. */
		if (!first)
			visit(w, n->msg);
		size_t it = 0;
		struct wmq_hent *e;
		while (!w->stop && (e = wmq_hmap_next(&n->t.children, &it)) != NULL) {
			if (!(first && is_dollar(e->val)))
				visit_all(w, e->val);
		}
		return;
	}
	if (level.len == 1 && level.p[0] == '+') {
		size_t it = 0;
		struct wmq_hent *e;
		while (!w->stop && (e = wmq_hmap_next(&n->t.children, &it)) != NULL) {
			if (!(first && is_dollar(e->val)))
				rmatch(w, e->val, next, more_after, false);
		}
		return;
	}
	struct wmq_retain_node *c = wmq_tnode_child(&n->t, level);
	if (c)
		rmatch(w, c, next, more_after, false);
}

void wmq_retained_match(struct wmq_retained *rt, struct wmq_bytes filter, size_t limit,
			wmq_retained_fn fn, void *arg)
{
	struct rwalk w = {fn, arg, limit, false};
	rmatch(&w, rt->root, filter, true, true);
}
