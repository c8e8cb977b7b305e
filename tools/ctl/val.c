/* SPDX-License-Identifier: MIT
 * val.c - wardmq_ctl's result values: a small JSON-like tree, rendered as
 * one line of JSON (--json) or as "key: value" lines and aligned tables.
 *
 * Role: every command builds its result as a tree once; the two renderers
 * make the human and machine forms agree by construction, and the same tree
 * is what an online backend would receive from the broker.
 * Builders record allocation failures in a sticky |oom| flag on the
 * container instead of returning errors at every call site; the renderers
 * refuse a tree with the flag set (NOMEM), so output is never silently
 * incomplete. Terminal safety: human output escapes control characters, so
 * a user name read from an imported file cannot move the cursor.
 * Threading: single-threaded. Ownership: see ctl.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/utf8.h"
#include "ctl.h"

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

static bool any_oom(const struct ctl_val *v, int depth)
{
	if (!v || v->oom || depth > 32)
		return true;
	for (size_t i = 0; i < v->n; i++)
		if (any_oom(v->items[i], depth + 1))
			return true;
	return false;
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_str(FILE *fp, const char *s)
{
	size_t len = strlen(s);
	bool valid = wmq_utf8_valid((const uint8_t *)s, len);
	fputc('"', fp);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", fp);
		else if (c == '\t')
			fputs("\\t", fp);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else if (c >= 0x80 && !valid)
			fputs("\\ufffd", fp); /* never emit invalid UTF-8 */
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static void json_val(FILE *fp, const struct ctl_val *v)
{
	switch (v->t) {
	case CTL_V_NULL:
		fputs("null", fp);
		break;
	case CTL_V_STR:
		json_str(fp, v->s);
		break;
	case CTL_V_INT:
		fprintf(fp, "%" PRId64, v->i);
		break;
	case CTL_V_BOOL:
		fputs(v->b ? "true" : "false", fp);
		break;
	case CTL_V_ARR:
	case CTL_V_OBJ:
		fputc(v->t == CTL_V_ARR ? '[' : '{', fp);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', fp);
			if (v->t == CTL_V_OBJ) {
				json_str(fp, v->keys[i]);
				fputc(':', fp);
			}
			json_val(fp, v->items[i]);
		}
		fputc(v->t == CTL_V_ARR ? ']' : '}', fp);
		break;
	}
}

wmq_err ctl_render_json(const struct ctl_val *v, void *fpv)
{
	FILE *fp = fpv;
	WMQ_ENSURE(!any_oom(v, 0), WMQ_ERR_NOMEM);
	json_val(fp, v);
	fputc('\n', fp);
	WMQ_ENSURE(!ferror(fp), WMQ_ERR_IO);
	return WMQ_OK;
}

/* ---- Human form -------------------------------------------------------------- */

void ctl_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		if (c == '\n') {
			snprintf(tmp, sizeof tmp, "\\n");
		} else if (c == '\t') {
			snprintf(tmp, sizeof tmp, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof tmp, "\\x%02x", c);
		} else if (c == 0xc2 && ((unsigned char)s[i + 1] & 0xe0) == 0x80) {
			/* C1 controls U+0080..U+009F (a one-character CSI on some terminals) */
			snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned char)s[i + 1]);
			i++;
		} else {
			tmp[0] = (char)c;
			tmp[1] = '\0';
		}
		size_t n = strlen(tmp);
		if (o + n >= cap)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
}

/* A cell under construction: the first failed append sticks. */
struct sbuf {
	struct wmq_dbuf d;
	bool fail;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (!b->fail && wmq_dbuf_append(&b->d, s, n) != WMQ_OK)
		b->fail = true;
}

/* Append the text of a value to |b|. */
static void cell(const struct ctl_val *v, struct sbuf *b, int depth)
{
	char tmp[64] = "";
	const char *s = tmp;
	if (depth > 8)
		return;
	switch (v->t) {
	case CTL_V_NULL:
		s = "-";
		break;
	case CTL_V_STR: {
		size_t cap = strlen(v->s) * 4 + 1;
		char *e = wmq_malloc(cap);
		if (!e) {
			b->fail = true;
			return;
		}
		ctl_escape(v->s, e, cap);
		put(b, e, strlen(e));
		wmq_free(e);
		return;
	}
	case CTL_V_INT:
		snprintf(tmp, sizeof tmp, "%" PRId64, v->i);
		break;
	case CTL_V_BOOL:
		s = v->b ? "yes" : "no";
		break;
	case CTL_V_ARR:
		if (v->n == 0) {
			s = "-";
			break;
		}
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				put(b, ", ", 2);
			cell(v->items[i], b, depth + 1);
		}
		return;
	case CTL_V_OBJ:
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				put(b, " ", 1);
			put(b, v->keys[i], strlen(v->keys[i]));
			put(b, "=", 1);
			cell(v->items[i], b, depth + 1);
		}
		return;
	}
	put(b, s, strlen(s));
}

/* Cell text as a NUL-terminated string (owned) or NULL (out of memory). */
static char *cell_str(const struct ctl_val *v)
{
	struct sbuf b = {.fail = false};
	wmq_dbuf_init(&b.d, 1u << 20);
	cell(v, &b, 0);
	char *s = b.fail ? NULL : wmq_strndup(b.d.p ? (const char *)b.d.p : "", b.d.len);
	wmq_dbuf_cleanup(&b.d);
	return s;
}

/* Display width: code points (good enough for names and topics). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Arrays of objects marked with ctl_arr_columns() render as tables. */
static bool is_table(const struct ctl_val *v)
{
	return v->t == CTL_V_ARR && v->cols != NULL;
}

static void upper(const char *s, char *out, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : (s[i] == '_' ? ' ' : s[i]);
	out[i] = '\0';
}

#define MAX_COLS 16

static wmq_err table(FILE *fp, const struct ctl_val *a)
{
	const char *cols[MAX_COLS];
	size_t ncols = 0;
	if (a->n == 0) {
		fputs("(none)\n", fp);
		return WMQ_OK;
	}
	for (; ncols < MAX_COLS && a->cols[ncols]; ncols++)
		cols[ncols] = a->cols[ncols];
	size_t ncells = a->n * ncols;
	char **cells = wmq_calloc(ncells ? ncells : 1, sizeof *cells);
	WMQ_ENSURE(cells, WMQ_ERR_NOMEM);
	size_t w[MAX_COLS];
	char head[MAX_COLS][64];
	wmq_err rc = WMQ_OK;
	for (size_t c = 0; c < ncols; c++) {
		upper(cols[c], head[c], sizeof head[c]);
		w[c] = width(head[c]);
	}
	static const struct ctl_val null_val = {.t = CTL_V_NULL};
	for (size_t r = 0; r < a->n && rc == WMQ_OK; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const struct ctl_val *v = ctl_get(a->items[r], cols[c]);
			char *s = cell_str(v ? v : &null_val);
			if (!s) {
				rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
				break;
			}
			cells[r * ncols + c] = s;
			size_t cw = width(s);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (size_t r = 0; rc == WMQ_OK && r <= a->n; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const char *s = r == 0 ? head[c] : cells[(r - 1) * ncols + c];
			fputs(s, fp);
			if (c + 1 < ncols)
				for (size_t pad = width(s); pad < w[c] + 2; pad++)
					fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	for (size_t i = 0; i < ncells; i++)
		wmq_free(cells[i]);
	wmq_free(cells);
	return rc;
}

wmq_err ctl_render_human(const struct ctl_val *v, void *fpv)
{
	FILE *fp = fpv;
	WMQ_ENSURE(!any_oom(v, 0), WMQ_ERR_NOMEM);
	if (is_table(v)) {
		WMQ_TRY(table(fp, v));
	} else if (v->t != CTL_V_OBJ) {
		char *s = cell_str(v);
		WMQ_ENSURE(s, WMQ_ERR_NOMEM);
		fprintf(fp, "%s\n", s);
		wmq_free(s);
	} else {
		size_t kw = 0, tables = 0;
		for (size_t i = 0; i < v->n; i++) {
			if (is_table(v->items[i]))
				tables++;
			else if (width(v->keys[i]) > kw)
				kw = width(v->keys[i]);
		}
		if (v->n == 1 && tables == 1)
			return table(fp, v->items[0]);
		for (size_t i = 0; i < v->n; i++) {
			if (is_table(v->items[i]))
				continue;
			char *s = cell_str(v->items[i]);
			WMQ_ENSURE(s, WMQ_ERR_NOMEM);
			fprintf(fp, "%s:", v->keys[i]);
			for (size_t pad = width(v->keys[i]); pad < kw + 1; pad++)
				fputc(' ', fp);
			fprintf(fp, "%s\n", s);
			wmq_free(s);
		}
		for (size_t i = 0; i < v->n; i++) {
			if (!is_table(v->items[i]))
				continue;
			fprintf(fp, "\n%s:\n", v->keys[i]);
			WMQ_TRY(table(fp, v->items[i]));
		}
	}
	WMQ_ENSURE(!ferror(fp), WMQ_ERR_IO);
	return WMQ_OK;
}
