/* SPDX-License-Identifier: MIT
 * wire.c - the admin socket's wire codec: requests (struct ctl_req) and
 * replies (struct ctl_res with its value tree) as length-prefixed binary
 * frames (docs/CTL.md "Admin socket protocol").
 *
 * Role: wardmq_ctl encodes requests and decodes replies; the broker's admin
 * thread decodes requests and encodes replies. Decoding is strict and
 * bounded, since the request decoder faces whatever a local process sends
 * (fuzz/fuzz_admin.c): a frame is at most CTL_WIRE_MAX bytes, every length
 * is checked against what is left, the value tree is at most
 * CTL_WIRE_MAX_DEPTH deep with at most CTL_WIRE_MAX_ITEMS values, each
 * request field appears at most once, enumerations are range-checked, and
 * strings hold no NUL byte (binary fields excepted). Every failure says
 * what was wrong in |why|.
 * Layout: integers big-endian; str = u32 length + bytes; opt-str = u8
 * present + str.
 * Threading: none (pure functions). Ownership: see admin.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "common/alloc.h"
#include "crypto/crypto.h"

/* Request field tags. */
enum tag {
	T_A = 1,
	T_B,
	T_KIND,
	T_FLAG,
	T_VERIFIER,
	T_SECRET,
	T_RULE,
	T_ID,
	T_EXPIRES,
	T_REASON,
	T_KEY,
	T_ACTION,
	T_TOPIC,
	T_QOS,
	T_AUDIT_EVENT,
	T_AUDIT_FIELDS,
	T__COUNT
};

enum vtag { V_NULL = 0, V_STR, V_INT, V_BOOL, V_ARR, V_OBJ };

#define MAX_COLS 32
#define MAX_STR (64u * 1024u) /* one string in a request */

/* ---- Writer: a dbuf with a sticky error ------------------------------------- */

struct w {
	struct wmq_dbuf *d;
	wmq_err rc;
};

static void w_raw(struct w *w, const void *p, size_t n)
{
	if (w->rc == WMQ_OK && n)
		w->rc = wmq_dbuf_append(w->d, p, n);
}

static void w_u8(struct w *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	w_raw(w, &b, 1);
}

static void w_u32(struct w *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	w_raw(w, b, 4);
}

static void w_u64(struct w *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}

static void w_bin(struct w *w, const void *p, size_t n)
{
	if (n > CTL_WIRE_MAX) {
		if (w->rc == WMQ_OK)
			w->rc = WMQ_ERR_LIMIT;
		return;
	}
	w_u32(w, (uint32_t)n);
	w_raw(w, p, n);
}

static void w_str(struct w *w, const char *s)
{
	w_bin(w, s, strlen(s));
}

static void w_optstr(struct w *w, const char *s)
{
	w_u8(w, s != NULL);
	if (s)
		w_str(w, s);
}

/* Start a frame: room for the length, patched by frame_end. */
static size_t frame_begin(struct w *w)
{
	size_t at = w->d->len;
	w_u32(w, 0);
	w_u8(w, CTL_WIRE_VERSION);
	return at;
}

static wmq_err frame_end(struct w *w, size_t at)
{
	WMQ_TRY(w->rc);
	size_t body = w->d->len - at - 4;
	WMQ_ENSURE(body <= CTL_WIRE_MAX, WMQ_ERR_LIMIT);
	uint8_t *p = w->d->p + at;
	p[0] = (uint8_t)(body >> 24);
	p[1] = (uint8_t)(body >> 16);
	p[2] = (uint8_t)(body >> 8);
	p[3] = (uint8_t)body;
	return WMQ_OK;
}

/* ---- Requests ------------------------------------------------------------------- */

wmq_err ctl_wire_req_encode(const struct ctl_req *q, struct wmq_dbuf *out)
{
	struct w w = {out, WMQ_OK};
	size_t at = frame_begin(&w);
	w_u8(&w, (unsigned)q->op);
	if (q->a) {
		w_u8(&w, T_A);
		w_str(&w, q->a);
	}
	if (q->b) {
		w_u8(&w, T_B);
		w_str(&w, q->b);
	}
	if (q->kind) {
		w_u8(&w, T_KIND);
		w_u32(&w, (uint32_t)q->kind);
	}
	if (q->flag) {
		w_u8(&w, T_FLAG);
		w_u8(&w, 1);
	}
	if (q->verifier) {
		w_u8(&w, T_VERIFIER);
		w_str(&w, q->verifier);
	}
	if (q->secret) {
		w_u8(&w, T_SECRET);
		w_bin(&w, q->secret, q->secret_len);
	}
	if (q->rule.filter) { /* RULE_ADD */
		const struct wmq_store_id_rule *r = &q->rule;
		w_u8(&w, T_RULE);
		w_u8(&w, (unsigned)r->kind);
		w_optstr(&w, r->name);
		w_u8(&w, r->allow);
		w_u8(&w, r->actions);
		w_str(&w, r->filter ? r->filter : "");
		w_u8(&w, r->subst);
		w_u8(&w, (unsigned)(r->max_qos < 0 ? 0xff : r->max_qos));
		w_u32(&w, (uint32_t)r->priority);
		w_optstr(&w, r->origin);
	}
	if (q->id) {
		w_u8(&w, T_ID);
		w_u64(&w, q->id);
	}
	if (q->expires_at) {
		w_u8(&w, T_EXPIRES);
		w_u64(&w, (uint64_t)q->expires_at);
	}
	if (q->reason) {
		w_u8(&w, T_REASON);
		w_str(&w, q->reason);
	}
	if (q->key) {
		w_u8(&w, T_KEY);
		w_bin(&w, q->key, q->key_len);
	}
	if (q->action || q->op == CTL_OP_ACL_EXPLAIN) {
		w_u8(&w, T_ACTION);
		w_u8(&w, (unsigned)q->action);
	}
	if (q->qos || q->op == CTL_OP_ACL_EXPLAIN) {
		w_u8(&w, T_QOS);
		w_u8(&w, (unsigned)q->qos);
	}
	if (q->topic) {
		w_u8(&w, T_TOPIC);
		w_str(&w, q->topic);
	}
	if (q->audit_event) {
		w_u8(&w, T_AUDIT_EVENT);
		w_str(&w, q->audit_event);
	}
	if (q->naudit_fields) {
		WMQ_ENSURE(q->naudit_fields <= WMQ_AUDIT_MAX_FIELDS, WMQ_ERR_LIMIT);
		w_u8(&w, T_AUDIT_FIELDS);
		w_u8(&w, (unsigned)q->naudit_fields);
		for (size_t i = 0; i < q->naudit_fields; i++) {
			const struct wmq_audit_field *f = &q->audit_fields[i];
			w_str(&w, f->key);
			w_u8(&w, f->is_num ? 1 : f->str.p ? 2 : 0);
			if (f->is_num)
				w_u64(&w, (uint64_t)f->num);
			else if (f->str.p)
				w_bin(&w, f->str.p, f->str.len);
		}
	}
	return frame_end(&w, at);
}

/* ---- Reader ------------------------------------------------------------------------- */

struct r {
	struct wmq_rd rd;
	char *why;
	size_t whycap;
	char *arena; /* request decoding: NUL-terminated copies */
	size_t apos, acap;
	size_t items;
};

static wmq_err fail(struct r *r, const char *fmt, ...) WMQ_PRINTF(2, 3);
static wmq_err fail(struct r *r, const char *fmt, ...)
{
	va_list ap;
	if (r->why && r->whycap) {
		va_start(ap, fmt);
		vsnprintf(r->why, r->whycap, fmt, ap);
		va_end(ap);
	}
	return WMQ_ERR_MALFORMED;
}

static wmq_err r_u8(struct r *r, uint8_t *v, const char *what)
{
	if (wmq_rd_u8(&r->rd, v) != WMQ_OK)
		return fail(r, "truncated %s", what);
	return WMQ_OK;
}

static wmq_err r_u32(struct r *r, uint32_t *v, const char *what)
{
	if (wmq_rd_u32(&r->rd, v) != WMQ_OK)
		return fail(r, "truncated %s", what);
	return WMQ_OK;
}

static wmq_err r_u64(struct r *r, uint64_t *v, const char *what)
{
	uint32_t hi, lo;
	WMQ_TRY(r_u32(r, &hi, what));
	WMQ_TRY(r_u32(r, &lo, what));
	*v = (uint64_t)hi << 32 | lo;
	return WMQ_OK;
}

static wmq_err r_bin(struct r *r, struct wmq_bytes *b, size_t max, const char *what)
{
	uint32_t n;
	WMQ_TRY(r_u32(r, &n, what));
	if (n > max)
		return fail(r, "%s too long (%u bytes, at most %zu)", what, (unsigned)n, max);
	if (wmq_rd_bytes(&r->rd, n, b) != WMQ_OK)
		return fail(r, "truncated %s", what);
	return WMQ_OK;
}

/* A string without NUL bytes, copied NUL-terminated into the arena. */
static wmq_err r_str(struct r *r, const char **out, const char *what)
{
	struct wmq_bytes b;
	WMQ_TRY(r_bin(r, &b, MAX_STR, what));
	if (b.len && memchr(b.p, 0, b.len))
		return fail(r, "%s contains a NUL byte", what);
	if (r->apos + b.len + 1 > r->acap)
		return fail(r, "%s: out of room", what); /* cannot happen: arena sized by the body */
	char *s = r->arena + r->apos;
	if (b.len)
		memcpy(s, b.p, b.len);
	s[b.len] = '\0';
	r->apos += b.len + 1;
	*out = s;
	return WMQ_OK;
}

static wmq_err r_optstr(struct r *r, const char **out, const char *what)
{
	uint8_t present;
	*out = NULL;
	WMQ_TRY(r_u8(r, &present, what));
	if (present > 1)
		return fail(r, "%s: bad presence flag %u", what, present);
	return present ? r_str(r, out, what) : WMQ_OK;
}

static wmq_err r_bool(struct r *r, bool *out, const char *what)
{
	uint8_t v;
	WMQ_TRY(r_u8(r, &v, what));
	if (v > 1)
		return fail(r, "%s: %u is not a boolean", what, v);
	*out = v != 0;
	return WMQ_OK;
}

static wmq_err r_rule(struct r *r, struct wmq_store_id_rule *ru)
{
	uint8_t kind, actions, mq;
	uint32_t prio;
	memset(ru, 0, sizeof *ru);
	WMQ_TRY(r_u8(r, &kind, "rule kind"));
	if (kind > WMQ_STORE_ID_ROLE)
		return fail(r, "rule kind %u out of range", kind);
	ru->kind = (enum wmq_store_id_kind)kind;
	WMQ_TRY(r_optstr(r, &ru->name, "rule name"));
	WMQ_TRY(r_bool(r, &ru->allow, "rule effect"));
	WMQ_TRY(r_u8(r, &actions, "rule actions"));
	if (actions == 0 || actions > 15)
		return fail(r, "rule actions %u out of range 1..15", actions);
	ru->actions = actions;
	WMQ_TRY(r_str(r, &ru->filter, "rule filter"));
	WMQ_TRY(r_bool(r, &ru->subst, "rule substitution flag"));
	WMQ_TRY(r_u8(r, &mq, "rule max_qos"));
	if (mq > 2 && mq != 0xff)
		return fail(r, "rule max_qos %u out of range", mq);
	ru->max_qos = mq == 0xff ? -1 : mq;
	WMQ_TRY(r_u32(r, &prio, "rule priority"));
	ru->priority = (int32_t)prio;
	WMQ_TRY(r_optstr(r, &ru->origin, "rule origin"));
	return WMQ_OK;
}

static wmq_err r_fields(struct r *r, struct ctl_wire_req *out)
{
	uint8_t n;
	WMQ_TRY(r_u8(r, &n, "audit field count"));
	if (n > WMQ_AUDIT_MAX_FIELDS)
		return fail(r, "%u audit fields (at most %d)", n, WMQ_AUDIT_MAX_FIELDS);
	for (size_t i = 0; i < n; i++) {
		struct wmq_audit_field *f = &out->fields[i];
		uint8_t t;
		memset(f, 0, sizeof *f);
		WMQ_TRY(r_str(r, &f->key, "audit field key"));
		if (!*f->key)
			return fail(r, "empty audit field key");
		WMQ_TRY(r_u8(r, &t, "audit field type"));
		if (t == 1) {
			uint64_t v;
			WMQ_TRY(r_u64(r, &v, "audit field number"));
			f->num = (int64_t)v;
			f->is_num = true;
		} else if (t == 2) {
			const char *s;
			WMQ_TRY(r_str(r, &s, "audit field value"));
			f->str = wmq_bytes_cstr(s);
		} else if (t != 0) {
			return fail(r, "audit field type %u unknown", t);
		}
	}
	out->req.audit_fields = out->fields;
	out->req.naudit_fields = n;
	return WMQ_OK;
}

wmq_err ctl_wire_req_decode(const uint8_t *body, size_t len, struct ctl_wire_req *out, char *why, size_t whycap)
{
	struct r r = {.rd = wmq_rd_make(body, len), .why = why, .whycap = whycap};
	uint8_t ver, op;
	uint32_t seen = 0;
	memset(out, 0, sizeof *out);
	if (why && whycap)
		why[0] = '\0';
	if (len > CTL_WIRE_MAX)
		return fail(&r, "request of %zu bytes (at most %u)", len, CTL_WIRE_MAX);
	/* every string has a 4-byte length prefix, so len + 1 per 4 bytes covers
	 * the terminating NULs */
	r.acap = len + len / 4 + 1;
	r.arena = out->strs = wmq_malloc(r.acap);
	out->strs_cap = r.acap;
	if (!r.arena) {
		fail(&r, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	WMQ_TRY(r_u8(&r, &ver, "version"));
	if (ver != CTL_WIRE_VERSION)
		return fail(&r, "protocol version %u (this side speaks %d)", ver, CTL_WIRE_VERSION);
	WMQ_TRY(r_u8(&r, &op, "operation"));
	if (op >= CTL_OP__COUNT)
		return fail(&r, "unknown operation %u", op);
	struct ctl_req *q = &out->req;
	q->op = (enum ctl_op)op;
	while (wmq_rd_left(&r.rd) > 0) { /* bounded: each round consumes bytes */
		uint8_t tag, u8;
		uint32_t u32;
		uint64_t u64;
		struct wmq_bytes bin;
		WMQ_TRY(r_u8(&r, &tag, "field tag"));
		if (tag == 0 || tag >= T__COUNT)
			return fail(&r, "unknown field tag %u", tag);
		if (seen & (1u << tag))
			return fail(&r, "field tag %u repeated", tag);
		seen |= 1u << tag;
		switch ((enum tag)tag) {
		case T_A: WMQ_TRY(r_str(&r, &q->a, "field a")); break;
		case T_B: WMQ_TRY(r_str(&r, &q->b, "field b")); break;
		case T_KIND:
			WMQ_TRY(r_u32(&r, &u32, "kind"));
			if ((int32_t)u32 < -1 || (int32_t)u32 > 16)
				return fail(&r, "kind %d out of range", (int)(int32_t)u32);
			q->kind = (int32_t)u32;
			break;
		case T_FLAG: WMQ_TRY(r_bool(&r, &q->flag, "flag")); break;
		case T_VERIFIER: WMQ_TRY(r_str(&r, &q->verifier, "verifier")); break;
		case T_SECRET:
			/* copied into the arena, which cleanup wipes */
			WMQ_TRY(r_bin(&r, &bin, CTL_WIRE_SECRET_MAX, "secret"));
			if (bin.len)
				memcpy(r.arena + r.apos, bin.p, bin.len);
			r.arena[r.apos + bin.len] = '\0';
			q->secret = r.arena + r.apos;
			q->secret_len = bin.len;
			r.apos += bin.len + 1;
			break;
		case T_RULE: WMQ_TRY(r_rule(&r, &q->rule)); break;
		case T_ID: WMQ_TRY(r_u64(&r, &q->id, "id")); break;
		case T_EXPIRES:
			WMQ_TRY(r_u64(&r, &u64, "expires_at"));
			q->expires_at = (int64_t)u64;
			break;
		case T_REASON: WMQ_TRY(r_str(&r, &q->reason, "reason")); break;
		case T_KEY:
			/* copied too: a decoded request does not borrow the frame */
			WMQ_TRY(r_bin(&r, &bin, CTL_WIRE_SECRET_MAX, "key"));
			if (bin.len)
				memcpy(r.arena + r.apos, bin.p, bin.len);
			q->key = (const uint8_t *)r.arena + r.apos;
			q->key_len = bin.len;
			r.apos += bin.len + 1;
			break;
		case T_ACTION:
			WMQ_TRY(r_u8(&r, &u8, "action"));
			if (u8 >= WMQ_ACT__COUNT)
				return fail(&r, "action %u out of range", u8);
			q->action = u8;
			break;
		case T_TOPIC: WMQ_TRY(r_str(&r, &q->topic, "topic")); break;
		case T_QOS:
			WMQ_TRY(r_u8(&r, &u8, "qos"));
			if (u8 > 2)
				return fail(&r, "qos %u out of range", u8);
			q->qos = u8;
			break;
		case T_AUDIT_EVENT: WMQ_TRY(r_str(&r, &q->audit_event, "audit event")); break;
		case T_AUDIT_FIELDS: WMQ_TRY(r_fields(&r, out)); break;
		case T__COUNT: break;
		}
	}
	return WMQ_OK;
}

void ctl_wire_req_cleanup(struct ctl_wire_req *r)
{
	if (!r)
		return;
	if (r->strs)
		wmq_crypto_wipe(r->strs, r->strs_cap); /* a USER_CHECK password may be in it */
	wmq_free(r->strs);
	memset(r, 0, sizeof *r);
}

/* ---- Replies -------------------------------------------------------------------------- */

static void w_val(struct w *w, const struct ctl_val *v, int depth)
{
	if (w->rc != WMQ_OK)
		return;
	if (!v || v->oom || depth > CTL_WIRE_MAX_DEPTH) {
		w->rc = v && !v->oom ? WMQ_ERR_LIMIT : WMQ_ERR_NOMEM;
		return;
	}
	switch (v->t) {
	case CTL_V_NULL: w_u8(w, V_NULL); break;
	case CTL_V_STR:
		w_u8(w, V_STR);
		w_str(w, v->s);
		break;
	case CTL_V_INT:
		w_u8(w, V_INT);
		w_u64(w, (uint64_t)v->i);
		break;
	case CTL_V_BOOL:
		w_u8(w, V_BOOL);
		w_u8(w, v->b);
		break;
	case CTL_V_ARR:
	case CTL_V_OBJ:
		w_u8(w, v->t == CTL_V_ARR ? V_ARR : V_OBJ);
		w_u32(w, (uint32_t)v->n);
		if (v->t == CTL_V_ARR) {
			size_t nc = 0;
			while (v->cols && v->cols[nc] && nc < MAX_COLS)
				nc++;
			w_u8(w, (unsigned)nc);
			for (size_t i = 0; i < nc; i++)
				w_str(w, v->cols[i]);
		}
		for (size_t i = 0; i < v->n; i++) {
			if (v->t == CTL_V_OBJ)
				w_str(w, v->keys[i]);
			w_val(w, v->items[i], depth + 1);
		}
		break;
	}
}

wmq_err ctl_wire_res_encode(const struct ctl_res *res, struct wmq_dbuf *out)
{
	struct w w = {out, WMQ_OK};
	size_t at = frame_begin(&w);
	w_u8(&w, (unsigned)res->status);
	w_str(&w, res->msg);
	w_u8(&w, (unsigned)res->nwarn);
	for (size_t i = 0; i < res->nwarn; i++)
		w_str(&w, res->warn[i]);
	w_u8(&w, res->data != NULL);
	if (res->data)
		w_val(&w, res->data, 0);
	w_u8(&w, res->text != NULL);
	if (res->text)
		w_str(&w, res->text);
	return frame_end(&w, at);
}

/* A string from a reply, NUL-terminated in a fresh allocation. */
static wmq_err r_dup(struct r *r, char **out, const char *what)
{
	struct wmq_bytes b;
	*out = NULL;
	WMQ_TRY(r_bin(r, &b, CTL_WIRE_MAX, what));
	if (b.len && memchr(b.p, 0, b.len))
		return fail(r, "%s contains a NUL byte", what);
	*out = wmq_strndup(b.len ? (const char *)b.p : "", b.len);
	WMQ_ENSURE(*out, WMQ_ERR_NOMEM);
	return WMQ_OK;
}

static wmq_err r_val(struct r *r, struct ctl_val **out, int depth)
{
	uint8_t t;
	*out = NULL;
	if (depth > CTL_WIRE_MAX_DEPTH)
		return fail(r, "value tree deeper than %d", CTL_WIRE_MAX_DEPTH);
	if (++r->items > CTL_WIRE_MAX_ITEMS)
		return fail(r, "more than %d values", CTL_WIRE_MAX_ITEMS);
	WMQ_TRY(r_u8(r, &t, "value type"));
	struct ctl_val *v = wmq_calloc(1, sizeof *v);
	WMQ_ENSURE(v, WMQ_ERR_NOMEM);
	*out = v; /* the caller frees it on failure */
	switch (t) {
	case V_NULL: v->t = CTL_V_NULL; return WMQ_OK;
	case V_STR: v->t = CTL_V_STR; return r_dup(r, &v->s, "string value");
	case V_INT: {
		uint64_t i;
		v->t = CTL_V_INT;
		WMQ_TRY(r_u64(r, &i, "integer value"));
		v->i = (int64_t)i;
		return WMQ_OK;
	}
	case V_BOOL: v->t = CTL_V_BOOL; return r_bool(r, &v->b, "boolean value");
	case V_ARR:
	case V_OBJ: break;
	default: return fail(r, "value type %u unknown", t);
	}
	uint32_t n;
	v->t = t == V_ARR ? CTL_V_ARR : CTL_V_OBJ;
	WMQ_TRY(r_u32(r, &n, "item count"));
	if (n > wmq_rd_left(&r->rd))
		return fail(r, "item count %u larger than the frame", (unsigned)n);
	if (v->t == CTL_V_ARR) {
		uint8_t nc;
		WMQ_TRY(r_u8(r, &nc, "column count"));
		if (nc > MAX_COLS)
			return fail(r, "%u table columns (at most %d)", nc, MAX_COLS);
		if (nc) {
			v->owned_cols = wmq_calloc((size_t)nc + 1, sizeof *v->owned_cols);
			WMQ_ENSURE(v->owned_cols, WMQ_ERR_NOMEM);
			for (size_t i = 0; i < nc; i++)
				WMQ_TRY(r_dup(r, &v->owned_cols[i], "column name"));
			v->cols = (const char *const *)v->owned_cols;
		}
	}
	if (n) {
		v->items = wmq_calloc(n, sizeof *v->items);
		WMQ_ENSURE(v->items, WMQ_ERR_NOMEM);
		if (v->t == CTL_V_OBJ) {
			v->keys = wmq_calloc(n, sizeof *v->keys);
			WMQ_ENSURE(v->keys, WMQ_ERR_NOMEM);
		}
		v->cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		char *key = NULL;
		struct ctl_val *child = NULL;
		if (v->t == CTL_V_OBJ)
			WMQ_TRY(r_dup(r, &key, "object key"));
		wmq_err rc = r_val(r, &child, depth + 1);
		/* keep what was read so that ctl_val_free releases it */
		if (v->keys)
			v->keys[v->n] = key;
		v->items[v->n++] = child;
		if (!child) {
			v->n--;
			wmq_free(key);
			if (v->keys)
				v->keys[v->n] = NULL;
		}
		WMQ_TRY(rc);
	}
	return WMQ_OK;
}

wmq_err ctl_wire_res_decode(const uint8_t *body, size_t len, struct ctl_res *res, char *why, size_t whycap)
{
	struct r r = {.rd = wmq_rd_make(body, len), .why = why, .whycap = whycap};
	uint8_t ver, status, nwarn, has;
	char *s = NULL;
	if (why && whycap)
		why[0] = '\0';
	WMQ_TRY(r_u8(&r, &ver, "version"));
	if (ver != CTL_WIRE_VERSION)
		return fail(&r, "protocol version %u (this side speaks %d)", ver, CTL_WIRE_VERSION);
	WMQ_TRY(r_u8(&r, &status, "status"));
	if (status > CTL_EXIT_ERROR)
		return fail(&r, "status %u unknown", status);
	res->status = status;
	WMQ_TRY(r_dup(&r, &s, "message"));
	snprintf(res->msg, sizeof res->msg, "%s", s);
	wmq_free(s);
	WMQ_TRY(r_u8(&r, &nwarn, "warning count"));
	if (nwarn > CTL_MAX_WARN)
		return fail(&r, "%u warnings (at most %d)", nwarn, CTL_MAX_WARN);
	for (size_t i = 0; i < nwarn; i++) {
		WMQ_TRY(r_dup(&r, &s, "warning"));
		snprintf(res->warn[i], sizeof res->warn[i], "%s", s);
		wmq_free(s);
		res->nwarn = i + 1;
	}
	WMQ_TRY(r_u8(&r, &has, "data flag"));
	if (has > 1)
		return fail(&r, "bad data flag %u", has);
	if (has) {
		wmq_err rc = r_val(&r, &res->data, 0);
		if (rc != WMQ_OK) {
			ctl_val_free(res->data);
			res->data = NULL;
			return rc;
		}
	}
	WMQ_TRY(r_u8(&r, &has, "text flag"));
	if (has > 1)
		return fail(&r, "bad text flag %u", has);
	if (has)
		WMQ_TRY(r_dup(&r, &res->text, "text"));
	if (wmq_rd_left(&r.rd) != 0)
		return fail(&r, "%zu bytes after the reply", wmq_rd_left(&r.rd));
	return WMQ_OK;
}
