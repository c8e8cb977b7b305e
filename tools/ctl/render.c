/* SPDX-License-Identifier: MIT
 * render.c - wardmq_ctl's output: a result value tree (admin/admin.h)
 * rendered as one line of JSON (--json) or as "key: value" lines and
 * aligned tables.
 *
 * Role: every command builds its result as a tree once (offline in this
 * process, online in the broker); the two renderers make the human and
 * machine forms agree by construction, whichever backend ran the request.
 * The renderers refuse a tree with an |oom| flag anywhere (NOMEM).
 * Terminal safety: human output escapes control characters, so a user name
 * read from an imported file cannot move the cursor.
 * Threading: single-threaded. Ownership: nothing kept. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/utf8.h"
#include "ctl.h"

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
