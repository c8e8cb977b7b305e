/* SPDX-License-Identifier: MIT
 * audit.c - JSON-lines audit log with a SHA-256 hash chain, per-kind token
 * buckets for client-triggered denials, and the chain verifier.
 * See audit.h. Threading: a->lock guards everything mutable. */
#include "security/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/time.h"
#include "common/utf8.h"
#include "crypto/crypto.h"
#include "crypto/encode.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define LINE_MAX_BYTES (256u * 1024u)
#define TAIL_READ (LINE_MAX_BYTES + 1)

static const char *const KIND_NAMES[WMQ_AUDIT__KINDS] = {"authn", "authz", "ban", "admin", "conn"};

struct bucket {
	uint64_t milli; /* tokens x 1000 */
	int64_t last_ms;
	uint64_t suppressed; /* pending, not yet summarized */
	int64_t first_ms, last_supp_ms;
};

struct wmq_audit {
	pthread_mutex_t lock;
	int fd; /* -1: sink only */
	char *path; /* for wmq_audit_reopen(); NULL: sink only */
	wmq_audit_sink_fn sink;
	void *sink_arg;
	bool fsync_each;
	uint32_t rate, burst;
	char prev[WMQ_AUDIT_HASH_HEX];
	uint64_t seq;
	struct bucket b[WMQ_AUDIT__KINDS];
	struct wmq_audit_stats st;
};

void wmq_audit_opts_default(struct wmq_audit_opts *o)
{
	memset(o, 0, sizeof *o);
	o->deny_rate_per_s = 20;
	o->deny_burst = 100;
}

/* ---- JSON ---------------------------------------------------------------- */

static wmq_err put(struct wmq_dbuf *b, const char *s)
{
	return wmq_dbuf_append(b, s, strlen(s));
}

static size_t utf8_seq_len(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

wmq_err wmq_audit_json_escape(struct wmq_dbuf *b, struct wmq_bytes v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = v.len > WMQ_AUDIT_MAX_VALUE ? WMQ_AUDIT_MAX_VALUE : v.len;
	for (size_t i = 0; i < n;) {
		uint8_t c = v.p[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			WMQ_TRY(wmq_dbuf_append(b, esc, 2));
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			const char *s = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
			if (s) {
				WMQ_TRY(put(b, s));
			} else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				WMQ_TRY(wmq_dbuf_append(b, esc, 6));
			}
			i++;
		} else if (c < 0x80) {
			WMQ_TRY(wmq_dbuf_append(b, &v.p[i], 1));
			i++;
		} else {
			size_t k = utf8_seq_len(c);
			if (k && n - i >= k && wmq_utf8_valid(v.p + i, k)) {
				/* U+2028 / U+2029 break naive line-oriented JSON readers */
				if (k == 3 && c == 0xe2 && v.p[i + 1] == 0x80 && (v.p[i + 2] == 0xa8 || v.p[i + 2] == 0xa9))
					WMQ_TRY(put(b, v.p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029"));
				else
					WMQ_TRY(wmq_dbuf_append(b, v.p + i, k));
				i += k;
			} else {
				WMQ_TRY(put(b, "\\ufffd")); /* invalid UTF-8 byte */
				i++;
			}
		}
	}
	if (n < v.len)
		WMQ_TRY(put(b, "..."));
	return WMQ_OK;
}

static wmq_err kv_str(struct wmq_dbuf *b, const char *key, struct wmq_bytes v)
{
	WMQ_TRY(put(b, ",\""));
	WMQ_TRY(put(b, key));
	if (!v.p)
		return put(b, "\":null");
	WMQ_TRY(put(b, "\":\""));
	WMQ_TRY(wmq_audit_json_escape(b, v));
	return put(b, "\"");
}

static wmq_err kv_num(struct wmq_dbuf *b, const char *key, int64_t v)
{
	char num[48];
	snprintf(num, sizeof num, ",\"%s\":%" PRId64, key, v);
	return put(b, num);
}

#define TIME_LEN 64

static void iso_time(int64_t ms, char out[TIME_LEN])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&s, &tm)) {
		snprintf(out, TIME_LEN, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static bool key_ok(const char *k)
{
	static const char *const reserved[] = {"prev", "seq", "time", "kind", "event", "listener", "peer",
					       "client_id", "username", "mechanism", "decision", "reason"};
	if (!k || !*k || strlen(k) > 64)
		return false;
	for (const char *s = k; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	for (size_t i = 0; i < WMQ_ARRAY_LEN(reserved); i++)
		if (strcmp(k, reserved[i]) == 0)
			return false;
	return true;
}

/* ---- writing ------------------------------------------------------------- */

static wmq_err write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			WMQ_BAIL(WMQ_ERR_IO);
		}
		p += k;
		n -= (size_t)k;
	}
	return WMQ_OK;
}

/* Finish the line in |b| (which holds everything after "seq"), chain it,
 * write it. Called with the lock held. */
static wmq_err emit(struct wmq_audit *a, const struct wmq_dbuf *body)
{
	struct wmq_dbuf line;
	char head[96];
	uint8_t h[WMQ_SHA256_LEN];
	wmq_err rc;
	wmq_dbuf_init(&line, LINE_MAX_BYTES);
	snprintf(head, sizeof head, "{\"prev\":\"%s\",\"seq\":%" PRIu64, a->prev, a->seq);
	if ((rc = put(&line, head)) != WMQ_OK || (rc = wmq_dbuf_append(&line, body->p, body->len)) != WMQ_OK ||
	    (rc = put(&line, "}\n")) != WMQ_OK)
		goto out;
	size_t len = line.len - 1; /* without '\n' */
	if (a->fd >= 0) {
		if ((rc = write_all(a->fd, line.p, line.len)) != WMQ_OK)
			goto out;
		if (a->fsync_each && fdatasync(a->fd) != 0) {
			rc = WMQ_ERR_IO;
			goto out;
		}
	}
	if (a->sink)
		a->sink(a->sink_arg, (const char *)line.p, len);
	if ((rc = wmq_crypto_sha256(line.p, len, h)) != WMQ_OK)
		goto out;
	rc = wmq_crypto_hex_encode(h, sizeof h, a->prev, sizeof a->prev);
	a->seq++;
	a->st.written++;
	a->st.next_seq = a->seq;
out:
	wmq_dbuf_cleanup(&line);
	return rc;
}

static wmq_err summary(struct wmq_audit *a, int k, int64_t now_ms)
{
	struct bucket *bk = &a->b[k];
	if (!bk->suppressed)
		return WMQ_OK;
	struct wmq_dbuf b;
	char t[TIME_LEN], t1[TIME_LEN], t2[TIME_LEN];
	wmq_err rc;
	wmq_dbuf_init(&b, LINE_MAX_BYTES);
	iso_time(now_ms, t);
	iso_time(bk->first_ms, t1);
	iso_time(bk->last_supp_ms, t2);
	if ((rc = kv_str(&b, "time", wmq_bytes_cstr(t))) == WMQ_OK &&
	    (rc = kv_str(&b, "kind", wmq_bytes_cstr(KIND_NAMES[k]))) == WMQ_OK &&
	    (rc = kv_str(&b, "event", WMQ_BYTES_STR("suppressed"))) == WMQ_OK &&
	    (rc = kv_str(&b, "reason", WMQ_BYTES_STR("rate limit for denied events"))) == WMQ_OK &&
	    (rc = kv_num(&b, "count", (int64_t)bk->suppressed)) == WMQ_OK &&
	    (rc = kv_str(&b, "first", wmq_bytes_cstr(t1))) == WMQ_OK &&
	    (rc = kv_str(&b, "last", wmq_bytes_cstr(t2))) == WMQ_OK && (rc = emit(a, &b)) == WMQ_OK)
		bk->suppressed = 0;
	wmq_dbuf_cleanup(&b);
	return rc;
}

/* Token bucket: may an event of kind |k| at |now| be written? */
static bool bucket_take(struct wmq_audit *a, struct bucket *bk, int64_t now_ms)
{
	uint64_t cap = (uint64_t)a->burst * 1000u;
	if (now_ms > bk->last_ms) {
		uint64_t add = (uint64_t)(now_ms - bk->last_ms) * a->rate;
		bk->milli = bk->milli + add > cap ? cap : bk->milli + add;
		bk->last_ms = now_ms;
	}
	if (bk->milli >= 1000) {
		bk->milli -= 1000;
		return true;
	}
	return false;
}

wmq_err wmq_audit_write(struct wmq_audit *a, const struct wmq_audit_event *ev)
{
	wmq_err rc = WMQ_OK;
	WMQ_ENSURE(a != NULL && ev != NULL && (unsigned)ev->kind < WMQ_AUDIT__KINDS, WMQ_ERR_INVAL);
	WMQ_ENSURE(ev->nfields <= WMQ_AUDIT_MAX_FIELDS && (ev->nfields == 0 || ev->fields), WMQ_ERR_INVAL);
	for (size_t i = 0; i < ev->nfields; i++)
		WMQ_ENSURE(key_ok(ev->fields[i].key), WMQ_ERR_INVAL);
	int64_t now = ev->time_ms ? ev->time_ms : wmq_wall_ms();
	int k = (int)ev->kind;
	struct wmq_dbuf b;
	wmq_dbuf_init(&b, LINE_MAX_BYTES);
	pthread_mutex_lock(&a->lock);
	struct bucket *bk = &a->b[k];
	/* connections refused at accept (rate, address ban) are client
	 * triggered too: a flood of them must not fill the disk */
	bool limited = a->rate && ev->decision == WMQ_AUDIT_DENY &&
		       (ev->kind == WMQ_AUDIT_AUTHN || ev->kind == WMQ_AUDIT_AUTHZ || ev->kind == WMQ_AUDIT_CONN);
	if (limited && !bucket_take(a, bk, now)) {
		if (!bk->suppressed++)
			bk->first_ms = now;
		bk->last_supp_ms = now;
		a->st.suppressed++;
		goto out;
	}
	if ((rc = summary(a, k, now)) != WMQ_OK)
		goto out;
	char t[TIME_LEN];
	iso_time(now, t);
	static const char *const dec[] = {NULL, "allow", "deny"};
	if ((rc = kv_str(&b, "time", wmq_bytes_cstr(t))) != WMQ_OK ||
	    (rc = kv_str(&b, "kind", wmq_bytes_cstr(KIND_NAMES[k]))) != WMQ_OK)
		goto out;
	if (ev->event && (rc = kv_str(&b, "event", wmq_bytes_cstr(ev->event))) != WMQ_OK)
		goto out;
	const struct {
		const char *key;
		struct wmq_bytes v;
	} std[] = {
		{"listener", ev->listener}, {"peer", ev->peer}, {"client_id", ev->client_id},
		{"username", ev->username}, {"mechanism", ev->mechanism},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(std); i++)
		if (std[i].v.p && (rc = kv_str(&b, std[i].key, std[i].v)) != WMQ_OK)
			goto out;
	if ((unsigned)ev->decision <= WMQ_AUDIT_DENY && dec[ev->decision] &&
	    (rc = kv_str(&b, "decision", wmq_bytes_cstr(dec[ev->decision]))) != WMQ_OK)
		goto out;
	if (ev->reason && (rc = kv_str(&b, "reason", wmq_bytes_cstr(ev->reason))) != WMQ_OK)
		goto out;
	for (size_t i = 0; i < ev->nfields; i++) {
		const struct wmq_audit_field *f = &ev->fields[i];
		rc = f->is_num ? kv_num(&b, f->key, f->num) : kv_str(&b, f->key, f->str);
		if (rc != WMQ_OK)
			goto out;
	}
	rc = emit(a, &b);
out:
	pthread_mutex_unlock(&a->lock);
	wmq_dbuf_cleanup(&b);
	return rc;
}

wmq_err wmq_audit_flush(struct wmq_audit *a, int64_t now_ms)
{
	wmq_err rc = WMQ_OK;
	WMQ_ENSURE(a != NULL, WMQ_ERR_INVAL);
	if (!now_ms)
		now_ms = wmq_wall_ms();
	pthread_mutex_lock(&a->lock);
	for (int k = 0; k < WMQ_AUDIT__KINDS && rc == WMQ_OK; k++)
		rc = summary(a, k, now_ms);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void wmq_audit_head(struct wmq_audit *a, char out[WMQ_AUDIT_HASH_HEX])
{
	pthread_mutex_lock(&a->lock);
	memcpy(out, a->prev, WMQ_AUDIT_HASH_HEX);
	pthread_mutex_unlock(&a->lock);
}

void wmq_audit_get_stats(struct wmq_audit *a, struct wmq_audit_stats *st)
{
	pthread_mutex_lock(&a->lock);
	*st = a->st;
	pthread_mutex_unlock(&a->lock);
}

/* ---- open / close -------------------------------------------------------- */

static bool is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "seq" value of a line, or false. */
static bool line_seq(const char *p, size_t n, uint64_t *seq)
{
	static const char pre[] = "{\"prev\":\"";
	static const char mid[] = "\",\"seq\":";
	size_t off = sizeof pre - 1 + 64;
	if (n < off + sizeof mid || memcmp(p, pre, sizeof pre - 1) != 0 || !is_hex64(p + sizeof pre - 1, 64) ||
	    memcmp(p + off, mid, sizeof mid - 1) != 0)
		return false;
	size_t i = off + sizeof mid - 1, start = i;
	uint64_t v = 0;
	while (i < n && p[i] >= '0' && p[i] <= '9' && i - start < 19)
		v = v * 10 + (uint64_t)(p[i++] - '0');
	if (i == start || i >= n || p[i] != ',')
		return false;
	*seq = v;
	return true;
}

/* Resume the chain from the file's last line, read through |rfd| (the
 * append descriptor cannot pread). */
static wmq_err resume(struct wmq_audit *a, int rfd)
{
	struct stat sb;
	WMQ_ENSURE(fstat(rfd, &sb) == 0, WMQ_ERR_IO);
	if (sb.st_size == 0)
		return WMQ_OK;
	size_t size = (size_t)sb.st_size;
	size_t want = size < TAIL_READ ? size : TAIL_READ;
	uint8_t *buf = wmq_malloc(want);
	WMQ_ENSURE(buf != NULL, WMQ_ERR_NOMEM);
	wmq_err rc = WMQ_ERR_IO;
	ssize_t got = pread(rfd, buf, want, (off_t)(size - want));
	if (got != (ssize_t)want)
		goto out;
	size_t end = want;
	bool torn = buf[end - 1] != '\n';
	if (!torn)
		end--;
	size_t start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (torn) {
		/* a crash cut the last line: terminate it so the next line starts
		 * clean; verify will report it (it does not end with '}') */
		if ((rc = write_all(a->fd, (const uint8_t *)"\n", 1)) != WMQ_OK)
			goto out;
	}
	uint8_t h[WMQ_SHA256_LEN];
	if ((rc = wmq_crypto_sha256(buf + start, end - start, h)) != WMQ_OK)
		goto out;
	if ((rc = wmq_crypto_hex_encode(h, sizeof h, a->prev, sizeof a->prev)) != WMQ_OK)
		goto out;
	uint64_t seq = 0;
	a->seq = line_seq((const char *)buf + start, end - start, &seq) ? seq + 1 : 0;
	rc = WMQ_OK;
out:
	wmq_free(buf);
	return rc;
}

wmq_err wmq_audit_open(const struct wmq_audit_opts *o, struct wmq_audit **out)
{
	wmq_err rc;
	WMQ_ENSURE(o != NULL && out != NULL && (o->path || o->sink), WMQ_ERR_INVAL);
	WMQ_ENSURE(!o->initial_prev || is_hex64(o->initial_prev, strlen(o->initial_prev)), WMQ_ERR_INVAL);
	struct wmq_audit *a = wmq_calloc(1, sizeof *a);
	WMQ_ENSURE(a != NULL, WMQ_ERR_NOMEM);
	a->fd = -1;
	if (pthread_mutex_init(&a->lock, NULL) != 0) {
		wmq_free(a);
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	}
	a->sink = o->sink;
	a->sink_arg = o->sink_arg;
	a->fsync_each = o->fsync_each;
	a->rate = o->deny_rate_per_s;
	a->burst = o->deny_burst ? o->deny_burst : 1;
	memcpy(a->prev, o->initial_prev ? o->initial_prev : GENESIS, WMQ_AUDIT_HASH_HEX);
	for (int k = 0; k < WMQ_AUDIT__KINDS; k++)
		a->b[k].milli = (uint64_t)a->burst * 1000u;
	if (o->path) {
		a->fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (a->fd < 0) {
			rc = WMQ_ERR_IO;
			goto out;
		}
		int rfd = open(o->path, O_RDONLY | O_CLOEXEC);
		if (rfd < 0) {
			rc = WMQ_ERR_IO;
			goto out;
		}
		rc = resume(a, rfd);
		close(rfd);
		if (rc != WMQ_OK)
			goto out;
		a->path = wmq_strdup(o->path);
		if (!a->path) {
			rc = WMQ_ERR_NOMEM;
			goto out;
		}
	}
	a->st.next_seq = a->seq;
	*out = a;
	a = NULL;
	rc = WMQ_OK;
out:
	if (a) {
		if (a->fd >= 0)
			close(a->fd);
		pthread_mutex_destroy(&a->lock);
		wmq_free(a->path);
		wmq_free(a);
		wmq_err_note(rc, __FILE__, __LINE__);
	}
	return rc;
}

wmq_err wmq_audit_reopen(struct wmq_audit *a, bool *rotated)
{
	struct stat now_sb, path_sb;
	wmq_err rc = WMQ_OK;
	if (rotated)
		*rotated = false;
	if (!a->path)
		return WMQ_OK;
	pthread_mutex_lock(&a->lock);
	int nfd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (nfd < 0) {
		rc = WMQ_ERR_IO;
		goto out;
	}
	if (fstat(a->fd, &now_sb) == 0 && fstat(nfd, &path_sb) == 0 && now_sb.st_dev == path_sb.st_dev &&
	    now_sb.st_ino == path_sb.st_ino) {
		close(nfd); /* the same file: nothing was rotated */
		goto out;
	}
	/* A new file (the old one was moved away): continue the chain from
	 * the old head, unless the new file already has lines of its own. */
	int old = a->fd;
	a->fd = nfd;
	int rfd = open(a->path, O_RDONLY | O_CLOEXEC);
	rc = rfd < 0 ? WMQ_ERR_IO : resume(a, rfd);
	if (rfd >= 0)
		close(rfd);
	if (rc != WMQ_OK) { /* keep writing to the old file */
		a->fd = old;
		close(nfd);
		goto out;
	}
	close(old);
	if (rotated)
		*rotated = true;
out:
	pthread_mutex_unlock(&a->lock);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

void wmq_audit_close(struct wmq_audit *a)
{
	if (!a)
		return;
	wmq_err rc = wmq_audit_flush(a, 0);
	WMQ_UNUSED(rc); /* nothing more can be done at close */
	if (a->fd >= 0)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	wmq_free(a->path);
	wmq_free(a);
}

/* ---- verification -------------------------------------------------------- */

struct vstate {
	char expect[WMQ_AUDIT_HASH_HEX];
	uint64_t seq;
	struct wmq_audit_verify *res;
};

static bool fail(struct vstate *v, const char *why)
{
	v->res->bad_line = v->res->lines;
	snprintf(v->res->why, sizeof v->res->why, "%s", why);
	return false;
}

static bool verify_line(struct vstate *v, const char *p, size_t n)
{
	uint64_t seq;
	v->res->lines++;
	if (!line_seq(p, n, &seq) || p[n - 1] != '}')
		return fail(v, "not an audit line (torn or edited)");
	if (memcmp(p + 9, v->expect, 64) != 0)
		return fail(v, v->res->lines == 1 ? "first line does not start the chain"
						   : "prev does not match the line before: this or the previous line was altered");
	if (v->res->lines > 1 && seq != v->seq + 1)
		return fail(v, "sequence number out of order");
	v->seq = seq;
	uint8_t h[WMQ_SHA256_LEN];
	if (wmq_crypto_sha256(p, n, h) != WMQ_OK ||
	    wmq_crypto_hex_encode(h, sizeof h, v->expect, sizeof v->expect) != WMQ_OK)
		return fail(v, "hash failed");
	memcpy(v->res->head, v->expect, WMQ_AUDIT_HASH_HEX);
	return true;
}

static void vinit(struct vstate *v, const char *initial_prev, struct wmq_audit_verify *res)
{
	memset(res, 0, sizeof *res);
	memcpy(v->expect, initial_prev ? initial_prev : GENESIS, 64);
	v->expect[64] = '\0';
	memcpy(res->head, v->expect, WMQ_AUDIT_HASH_HEX);
	v->seq = 0;
	v->res = res;
}

/* Verify complete lines in [p, p+n); returns bytes consumed or SIZE_MAX on
 * a bad line. |final|: the rest is the last (unterminated) line. */
static size_t verify_chunk(struct vstate *v, const char *p, size_t n, bool final)
{
	size_t pos = 0;
	while (pos < n) {
		const char *nl = memchr(p + pos, '\n', n - pos);
		if (!nl && !final)
			break;
		size_t len = nl ? (size_t)(nl - (p + pos)) : n - pos;
		if (!verify_line(v, p + pos, len))
			return SIZE_MAX;
		pos += len + (nl ? 1 : 0);
	}
	return pos;
}

wmq_err wmq_audit_verify_buf(const char *text, size_t len, const char *initial_prev, struct wmq_audit_verify *res)
{
	struct vstate v;
	WMQ_ENSURE(res != NULL && (text != NULL || len == 0), WMQ_ERR_INVAL);
	WMQ_ENSURE(!initial_prev || is_hex64(initial_prev, strlen(initial_prev)), WMQ_ERR_INVAL);
	vinit(&v, initial_prev, res);
	WMQ_ENSURE(verify_chunk(&v, text, len, true) != SIZE_MAX, WMQ_ERR_MALFORMED);
	return WMQ_OK;
}

wmq_err wmq_audit_verify_file(const char *path, const char *initial_prev, struct wmq_audit_verify *res)
{
	struct vstate v;
	struct wmq_dbuf b;
	wmq_err rc = WMQ_OK;
	WMQ_ENSURE(path != NULL && res != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(!initial_prev || is_hex64(initial_prev, strlen(initial_prev)), WMQ_ERR_INVAL);
	vinit(&v, initial_prev, res);
	FILE *f = fopen(path, "rb");
	WMQ_ENSURE(f != NULL, WMQ_ERR_IO);
	wmq_dbuf_init(&b, 2 * LINE_MAX_BYTES);
	for (;;) {
		uint8_t *area;
		if ((rc = wmq_dbuf_reserve(&b, 65536, &area)) != WMQ_OK) {
			/* a line longer than we ever write */
			v.res->lines++;
			fail(&v, "line too long");
			rc = WMQ_ERR_MALFORMED;
			break;
		}
		size_t got = fread(area, 1, 65536, f);
		b.len += got;
		bool eof = got == 0;
		if (eof && ferror(f)) {
			rc = WMQ_ERR_IO;
			break;
		}
		size_t used = verify_chunk(&v, (const char *)b.p, b.len, eof);
		if (used == SIZE_MAX) {
			rc = WMQ_ERR_MALFORMED;
			break;
		}
		wmq_dbuf_consume(&b, used);
		if (eof)
			break;
	}
	wmq_dbuf_cleanup(&b);
	fclose(f);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}
