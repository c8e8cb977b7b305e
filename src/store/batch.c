/* SPDX-License-Identifier: MIT
 * batch.c - the op log of one tick: ops encoded as (statement, parameters)
 * with bytes copied into an arena.
 *
 * Role: lets the broker record writes without touching SQLite and without
 * waiting. An op is a statement id plus its bound parameters in order, so
 * applying a batch (commit.c) is a generic bind-step loop. Slices are arena
 * offsets, resolved to pointers only when applied.
 * Invariants: after any op call, either the op is fully recorded or nothing
 * of it is (counts are rolled back to the marks); the first failure is kept
 * in |err| and every later op and the submit return it.
 * Threading: a batch belongs to one thread until submitted. */
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "store/store_int.h"

#define MAX_ITEM ((size_t)INT32_MAX) /* sqlite3_bind_* take an int length */

void wmq_store__batch_free(struct wmq_store_batch *b)
{
	if (!b)
		return;
	wmq_free(b->ops);
	wmq_free(b->params);
	wmq_free(b->data);
	wmq_free(b);
}

void wmq_store__batch_reset(struct wmq_store_batch *b)
{
	b->next = NULL;
	b->ticket = 0;
	b->submitted_ms = 0;
	b->nops = b->nparams = b->len = 0;
	b->mark_params = b->mark_len = 0;
	b->op_err = b->err = WMQ_OK;
}

size_t wmq_store__batch_bytes(const struct wmq_store_batch *b)
{
	return sizeof *b + b->cap_ops * sizeof *b->ops + b->cap_params * sizeof *b->params + b->cap;
}

/* Grow |*arr| (element size |el|) to hold |need| elements. */
static wmq_err grow(void **arr, size_t *cap, size_t need, size_t el, size_t min)
{
	if (need <= *cap)
		return WMQ_OK;
	size_t n = *cap ? *cap : min;
	while (n < need) {
		WMQ_ENSURE(n <= SIZE_MAX / 2, WMQ_ERR_LIMIT);
		n *= 2;
	}
	void *p = wmq_reallocarray(*arr, n, el);
	WMQ_ENSURE(p, WMQ_ERR_NOMEM);
	*arr = p;
	*cap = n;
	return WMQ_OK;
}

static void op_begin(struct wmq_store_batch *b)
{
	b->mark_params = b->nparams;
	b->mark_len = b->len;
	b->op_err = WMQ_OK;
}

static struct wmq_store_param *p_new(struct wmq_store_batch *b)
{
	if (b->op_err)
		return NULL;
	wmq_err e = grow((void **)&b->params, &b->cap_params, b->nparams + 1, sizeof *b->params, 16);
	if (e) {
		b->op_err = e;
		return NULL;
	}
	struct wmq_store_param *p = &b->params[b->nparams++];
	memset(p, 0, sizeof *p);
	return p;
}

static void p_int(struct wmq_store_batch *b, int64_t v)
{
	struct wmq_store_param *p = p_new(b);
	if (p) {
		p->type = P_INT;
		p->v = v;
	}
}

/* |nullable|: p == NULL binds NULL; otherwise NULL binds an empty value. */
static void p_bytes(struct wmq_store_batch *b, uint8_t type, struct wmq_bytes x, bool nullable)
{
	if (!b->op_err && x.len && !x.p)
		b->op_err = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
	if (!b->op_err && x.len > MAX_ITEM)
		b->op_err = wmq_err_note(WMQ_ERR_LIMIT, __FILE__, __LINE__);
	struct wmq_store_param *p = p_new(b);
	if (!p)
		return;
	if (!x.p && nullable) {
		p->type = P_NULL;
		return;
	}
	wmq_err e = grow((void **)&b->data, &b->cap, b->len + x.len, 1, 256);
	if (e) {
		b->op_err = e;
		return;
	}
	if (x.len)
		memcpy(b->data + b->len, x.p, x.len);
	p->type = type;
	p->len = (uint32_t)x.len;
	p->v = (int64_t)b->len;
	b->len += x.len;
}

static void p_text(struct wmq_store_batch *b, struct wmq_bytes x)
{
	p_bytes(b, P_TEXT, x, true);
}

static void p_text_req(struct wmq_store_batch *b, struct wmq_bytes x)
{
	p_bytes(b, P_TEXT, x, false);
}

static void p_blob(struct wmq_store_batch *b, struct wmq_bytes x)
{
	p_bytes(b, P_BLOB, x, true);
}

/* Nullable wall time: 0 = NULL. */
static void p_time(struct wmq_store_batch *b, int64_t t)
{
	if (t == 0) {
		struct wmq_store_param *p = p_new(b);
		if (p)
			p->type = P_NULL;
	} else {
		p_int(b, t);
	}
}

static wmq_err op_end(struct wmq_store_batch *b, enum wmq_store_stmt stmt)
{
	if (!b->op_err) {
		size_t n = b->nparams - b->mark_params;
		if (n > UINT16_MAX || b->mark_params > UINT32_MAX)
			b->op_err = wmq_err_note(WMQ_ERR_LIMIT, __FILE__, __LINE__);
		else
			b->op_err = grow((void **)&b->ops, &b->cap_ops, b->nops + 1, sizeof *b->ops, 16);
		if (!b->op_err)
			b->ops[b->nops++] = (struct wmq_store_op){(uint16_t)stmt, (uint16_t)n,
								   (uint32_t)b->mark_params};
	}
	if (b->op_err) {
		b->nparams = b->mark_params;
		b->len = b->mark_len;
		b->err = b->op_err;
		return wmq_err_note(b->op_err, __FILE__, __LINE__);
	}
	return WMQ_OK;
}

/* Refuse an op on a poisoned batch, or poison it for an invalid record. */
static wmq_err check(struct wmq_store_batch *b, bool valid)
{
	if (b->err)
		return b->err;
	if (!valid) {
		b->err = WMQ_ERR_INVAL;
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	return WMQ_OK;
}

static bool bytes_ok(struct wmq_bytes x)
{
	return x.p || !x.len;
}

wmq_err wmq_store_session_put(struct wmq_store_batch *b, const struct wmq_store_session *s)
{
	WMQ_TRY(check(b, s && s->client_id.p && (s->protocol >= 3 && s->protocol <= 5) &&
				 s->will.qos <= 2 && bytes_ok(s->will.topic)));
	bool will = s->will.topic.p != NULL;
	op_begin(b);
	p_text_req(b, s->client_id);
	p_int(b, s->protocol);
	p_int(b, s->expiry_interval);
	p_time(b, s->expiry_at);
	p_text(b, s->will.topic);
	p_blob(b, will ? (s->will.payload.p ? s->will.payload : WMQ_BYTES_STR("")) : (struct wmq_bytes){0});
	p_blob(b, will ? s->will.props : (struct wmq_bytes){0});
	p_int(b, will ? s->will.qos : 0);
	p_int(b, will && s->will.retain);
	p_int(b, will ? s->will.delay : 0);
	p_int(b, s->created_at);
	p_int(b, s->updated_at);
	p_text(b, s->username);
	return op_end(b, STMT_SESSION_PUT);
}

wmq_err wmq_store_session_del(struct wmq_store_batch *b, struct wmq_bytes client_id)
{
	WMQ_TRY(check(b, client_id.p != NULL));
	op_begin(b);
	p_text_req(b, client_id);
	return op_end(b, STMT_SESSION_DEL);
}

wmq_err wmq_store_session_set_expiry(struct wmq_store_batch *b, struct wmq_bytes client_id, int64_t expiry_at,
				     int64_t now)
{
	WMQ_TRY(check(b, client_id.p != NULL));
	op_begin(b);
	p_text_req(b, client_id);
	p_time(b, expiry_at);
	p_int(b, now);
	return op_end(b, STMT_SESSION_EXPIRY);
}

wmq_err wmq_store_sub_put(struct wmq_store_batch *b, const struct wmq_store_sub *s)
{
	WMQ_TRY(check(b, s && s->client_id.p && s->filter.p && bytes_ok(s->share) &&
				 s->sub_id <= 268435455u));
	op_begin(b);
	p_text_req(b, s->client_id);
	p_text_req(b, s->share);
	p_text_req(b, s->filter);
	p_int(b, s->options);
	p_int(b, s->sub_id);
	return op_end(b, STMT_SUB_PUT);
}

wmq_err wmq_store_sub_del(struct wmq_store_batch *b, struct wmq_bytes client_id, struct wmq_bytes share,
			  struct wmq_bytes filter)
{
	WMQ_TRY(check(b, client_id.p && filter.p && bytes_ok(share)));
	op_begin(b);
	p_text_req(b, client_id);
	p_text_req(b, share);
	p_text_req(b, filter);
	return op_end(b, STMT_SUB_DEL);
}

wmq_err wmq_store_msg_put(struct wmq_store_batch *b, const struct wmq_store_msg *m)
{
	WMQ_TRY(check(b, m && m->topic.p && m->qos <= 2 && bytes_ok(m->payload)));
	op_begin(b);
	p_int(b, (int64_t)m->id);
	p_text_req(b, m->topic);
	p_bytes(b, P_BLOB, m->payload, false);
	p_blob(b, m->props);
	p_int(b, m->qos);
	p_int(b, m->retain);
	p_int(b, m->received_at);
	p_time(b, m->expiry_at);
	p_text(b, m->publisher_id);
	p_text(b, m->publisher_user);
	return op_end(b, STMT_MSG_PUT);
}

wmq_err wmq_store_queue_put(struct wmq_store_batch *b, const struct wmq_store_qentry *q)
{
	WMQ_TRY(check(b, q && q->client_id.p && q->qos <= 2 && q->state <= WMQ_STORE_Q_WAIT_PUBCOMP &&
				 q->seq <= (uint64_t)INT64_MAX));
	op_begin(b);
	p_text_req(b, q->client_id);
	p_int(b, (int64_t)q->seq);
	p_int(b, (int64_t)q->msg_id);
	p_int(b, q->qos);
	p_int(b, q->state);
	p_int(b, q->packet_id);
	p_int(b, q->dup);
	p_int(b, q->retain);
	p_blob(b, q->props);
	return op_end(b, STMT_QUEUE_PUT);
}

wmq_err wmq_store_queue_update_state(struct wmq_store_batch *b, struct wmq_bytes client_id, uint64_t seq,
				     enum wmq_store_qstate state, uint16_t packet_id, bool dup)
{
	WMQ_TRY(check(b, client_id.p && (unsigned)state <= WMQ_STORE_Q_WAIT_PUBCOMP &&
				 seq <= (uint64_t)INT64_MAX));
	op_begin(b);
	p_text_req(b, client_id);
	p_int(b, (int64_t)seq);
	p_int(b, state);
	p_int(b, packet_id);
	p_int(b, dup);
	return op_end(b, STMT_QUEUE_UPDATE);
}

wmq_err wmq_store_queue_del(struct wmq_store_batch *b, struct wmq_bytes client_id, uint64_t seq)
{
	WMQ_TRY(check(b, client_id.p && seq <= (uint64_t)INT64_MAX));
	op_begin(b);
	p_text_req(b, client_id);
	p_int(b, (int64_t)seq);
	return op_end(b, STMT_QUEUE_DEL);
}

wmq_err wmq_store_inflight_in_put(struct wmq_store_batch *b, struct wmq_bytes client_id, uint16_t packet_id)
{
	WMQ_TRY(check(b, client_id.p && packet_id != 0));
	op_begin(b);
	p_text_req(b, client_id);
	p_int(b, packet_id);
	return op_end(b, STMT_INFL_PUT);
}

wmq_err wmq_store_inflight_in_del(struct wmq_store_batch *b, struct wmq_bytes client_id, uint16_t packet_id)
{
	WMQ_TRY(check(b, client_id.p && packet_id != 0));
	op_begin(b);
	p_text_req(b, client_id);
	p_int(b, packet_id);
	return op_end(b, STMT_INFL_DEL);
}

wmq_err wmq_store_retained_put(struct wmq_store_batch *b, struct wmq_bytes topic, uint64_t msg_id)
{
	WMQ_TRY(check(b, topic.p != NULL));
	op_begin(b);
	p_text_req(b, topic);
	p_int(b, (int64_t)msg_id);
	return op_end(b, STMT_RET_PUT);
}

wmq_err wmq_store_retained_del(struct wmq_store_batch *b, struct wmq_bytes topic)
{
	WMQ_TRY(check(b, topic.p != NULL));
	op_begin(b);
	p_text_req(b, topic);
	return op_end(b, STMT_RET_DEL);
}

wmq_err wmq_store_msg_gc(struct wmq_store_batch *b)
{
	WMQ_TRY(check(b, true));
	op_begin(b);
	return op_end(b, STMT_GC_ALL);
}
