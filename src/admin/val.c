/* SPDX-License-Identifier: MIT
 * val.c - the result value tree of administrative requests: a small
 * JSON-like tree built by the executor (exec.c), carried over the admin
 * socket (wire.c) and rendered by wardmq_ctl (tools/ctl/render.c).
 *
 * Builders record allocation failures in a sticky |oom| flag on the
 * container instead of returning errors at every call site; the renderers
 * and the encoder refuse a tree with the flag set (NOMEM), so output is
 * never silently incomplete.
 * Threading: a tree belongs to one thread. Ownership: see admin.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "common/alloc.h"

/* ---- Builders ---------------------------------------------------------------- */

static struct ctl_val *mk(enum ctl_vt t)
{
	struct ctl_val *v = wmq_calloc(1, sizeof *v);
	if (v)
		v->t = t;
	return v;
}

struct ctl_val *ctl_obj(void)
{
	return mk(CTL_V_OBJ);
}

struct ctl_val *ctl_arr(void)
{
	return mk(CTL_V_ARR);
}

void ctl_val_free(struct ctl_val *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		ctl_val_free(v->items[i]);
		if (v->keys)
			wmq_free(v->keys[i]);
	}
	wmq_free(v->items);
	wmq_free(v->keys);
	if (v->owned_cols) {
		for (size_t i = 0; v->owned_cols[i]; i++)
			wmq_free(v->owned_cols[i]);
		wmq_free(v->owned_cols);
	}
	wmq_free(v->s);
	wmq_free(v);
}

/* Append |child| (taken) under |key| (OBJ) or at the end (ARR). */
static void add(struct ctl_val *c, const char *key, struct ctl_val *child)
{
	if (!c) {
		ctl_val_free(child);
		return;
	}
	if (!child || child->oom) {
		c->oom = true;
		ctl_val_free(child);
		return;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct ctl_val **items = wmq_reallocarray(c->items, cap, sizeof *items);
		if (items)
			c->items = items;
		char **keys = NULL;
		if (items && c->t == CTL_V_OBJ) {
			keys = wmq_reallocarray(c->keys, cap, sizeof *keys);
			if (keys)
				c->keys = keys;
		}
		if (!items || (c->t == CTL_V_OBJ && !keys)) {
			c->oom = true;
			ctl_val_free(child);
			return;
		}
		c->cap = cap;
	}
	if (c->t == CTL_V_OBJ && !(c->keys[c->n] = wmq_strdup(key))) {
		c->oom = true;
		ctl_val_free(child);
		return;
	}
	c->items[c->n++] = child;
}

static struct ctl_val *str_val(const char *s)
{
	if (!s)
		return mk(CTL_V_NULL);
	struct ctl_val *v = mk(CTL_V_STR);
	if (v && !(v->s = wmq_strdup(s))) {
		wmq_free(v);
		return NULL;
	}
	return v;
}

void ctl_set(struct ctl_val *o, const char *key, struct ctl_val *child)
{
	add(o, key, child);
}

void ctl_set_str(struct ctl_val *o, const char *key, const char *s)
{
	add(o, key, str_val(s));
}

void ctl_set_int(struct ctl_val *o, const char *key, int64_t i)
{
	struct ctl_val *v = mk(CTL_V_INT);
	if (v)
		v->i = i;
	add(o, key, v);
}

void ctl_set_bool(struct ctl_val *o, const char *key, bool b)
{
	struct ctl_val *v = mk(CTL_V_BOOL);
	if (v)
		v->b = b;
	add(o, key, v);
}

void ctl_set_time(struct ctl_val *o, const char *key, int64_t t)
{
	if (t == 0) {
		add(o, key, mk(CTL_V_NULL));
		return;
	}
	char buf[40];
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof buf, "%" PRId64, t);
	add(o, key, str_val(buf));
}

void ctl_push(struct ctl_val *a, struct ctl_val *child)
{
	add(a, NULL, child);
}

void ctl_push_str(struct ctl_val *a, const char *s)
{
	add(a, NULL, str_val(s));
}

void ctl_arr_columns(struct ctl_val *a, const char *const *cols)
{
	if (a)
		a->cols = cols;
}

const struct ctl_val *ctl_get(const struct ctl_val *o, const char *key)
{
	if (!o || o->t != CTL_V_OBJ)
		return NULL;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], key) == 0)
			return o->items[i];
	return NULL;
}
