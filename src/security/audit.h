/* SPDX-License-Identifier: MIT
 * audit.h - the tamper-evident audit log (DESIGN.md §5 "Audit").
 *
 * Role: one JSON object per line for every denied authentication, denied
 * authorization, ban and administrative change:
 *   {"prev":"<sha256 hex of the previous line>","seq":N,
 *    "time":"2024-05-01T12:00:00.123Z","kind":"authz","event":"publish",
 *    "listener":"...","peer":"...","client_id":"...","username":"...",
 *    "mechanism":"...","decision":"deny","reason":"...", <extra fields>}
 * "prev" is the SHA-256 of the previous line's bytes (without its newline);
 * the first line of a log carries 64 '0' (genesis) or, after rotation, the
 * head of the previous file. "seq" increases by one per line. Changing,
 * inserting or deleting a line breaks the chain at the next line; the last
 * line can only be protected by keeping the head (wmq_audit_head()) apart
 * from the file (for example in $SYS or the store).
 * Client-supplied values (client id, username, topics) are JSON-escaped:
 * '"', '\\', control characters and U+2028/2029 as escapes, invalid UTF-8
 * as U+FFFD; values longer than WMQ_AUDIT_MAX_VALUE bytes are cut and end
 * with "...". There is no field for secrets: the API cannot log a password.
 * Denials a client can trigger (kinds AUTHN, AUTHZ and CONN with decision DENY)
 * pass a token bucket per kind; lines over the rate are counted, not
 * written, and a summary line {"event":"suppressed","count":N,...} is
 * written before the next line of that kind or by wmq_audit_flush().
 *
 * Threading: a struct wmq_audit is shared by all workers; every call takes
 * its mutex. Writes are one write(2) per line on an O_APPEND descriptor.
 * Ownership: the event and its strings are borrowed for the call. */
#ifndef WMQ_SECURITY_AUDIT_H
#define WMQ_SECURITY_AUDIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define WMQ_AUDIT_MAX_VALUE 1024 /* bytes of one value kept */
#define WMQ_AUDIT_MAX_FIELDS 16
#define WMQ_AUDIT_HASH_HEX 65 /* 64 hex + NUL */

enum wmq_audit_kind {
	WMQ_AUDIT_AUTHN = 0, /* authentication (CONNECT, AUTH) */
	WMQ_AUDIT_AUTHZ = 1, /* authorization (publish, subscribe, receive, will) */
	WMQ_AUDIT_BAN = 2,   /* ban added, expired, removed; back-off ban */
	WMQ_AUDIT_ADMIN = 3, /* administrative change (users, rules, roles...) */
	WMQ_AUDIT_CONN = 4,  /* connection refused before CONNECT (rate limit, ban) */
	WMQ_AUDIT__KINDS
};

enum wmq_audit_decision {
	WMQ_AUDIT_NONE = 0, /* not a decision (admin change, summary) */
	WMQ_AUDIT_ALLOW = 1,
	WMQ_AUDIT_DENY = 2,
};

/* An event-specific field: key must match [a-z0-9_]+ and not be one of the
 * standard keys; the value is a string (escaped) or a number. */
struct wmq_audit_field {
	const char *key;
	struct wmq_bytes str; /* used when !is_num; p == NULL writes null */
	int64_t num;
	bool is_num;
};

struct wmq_audit_event {
	enum wmq_audit_kind kind;
	int64_t time_ms;  /* wall clock, ms since the epoch; 0 = now */
	const char *event; /* short name: "connect", "publish", "ban.add", "user.passwd" */
	/* client-supplied or peer values; p == NULL omits the field */
	struct wmq_bytes listener, peer, client_id, username, mechanism;
	enum wmq_audit_decision decision;
	const char *reason; /* NULL omits */
	const struct wmq_audit_field *fields;
	size_t nfields;
};

typedef void (*wmq_audit_sink_fn)(void *arg, const char *line, size_t len);

struct wmq_audit_opts {
	const char *path;           /* append here (created 0600); NULL: sink only */
	wmq_audit_sink_fn sink;     /* optional: every line (no newline), e.g. a store mirror */
	void *sink_arg;
	const char *initial_prev;   /* 64 hex: chain a new, empty file to the previous
				     * file's head; NULL = genesis */
	uint32_t deny_rate_per_s;   /* bucket refill per kind; default 20; 0 = no limit */
	uint32_t deny_burst;        /* bucket size; default 100 */
	bool fsync_each;            /* fdatasync after every line; default false */
};

void wmq_audit_opts_default(struct wmq_audit_opts *o);

struct wmq_audit; /* opaque */

/* Open (or create) the log and resume its chain from the last line. IO if
 * the file cannot be opened or read, INVAL on bad options. */
WMQ_MUST_USE wmq_err wmq_audit_open(const struct wmq_audit_opts *o, struct wmq_audit **out);
/* Writes a pending suppression summary, then closes. NULL-safe. */
void wmq_audit_close(struct wmq_audit *a);
/* Log rotation (SIGHUP): open the path again. When it now names another
 * file (the old one was moved away), lines go there, and its first line
 * continues the chain from the old file's head ("prev" = that head, "seq"
 * goes on; verify it with that head as initial prev); *rotated (may be
 * NULL) says so. The same file: nothing changes. On failure the old file
 * stays in use. IO, NOMEM. */
WMQ_MUST_USE wmq_err wmq_audit_reopen(struct wmq_audit *a, bool *rotated);

/* Append one event (or count it as suppressed). WMQ_OK also when
 * suppressed; INVAL for a bad field key; IO if the write failed (the chain
 * then continues from the last line actually written). */
WMQ_MUST_USE wmq_err wmq_audit_write(struct wmq_audit *a, const struct wmq_audit_event *ev);
/* Write pending suppression summaries (call from a periodic timer).
 * now_ms as for time_ms (0 = now). */
WMQ_MUST_USE wmq_err wmq_audit_flush(struct wmq_audit *a, int64_t now_ms);
/* Hex SHA-256 of the last line written (the "prev" of the next line). */
void wmq_audit_head(struct wmq_audit *a, char out[WMQ_AUDIT_HASH_HEX]);

struct wmq_audit_stats {
	uint64_t written;    /* lines written, summaries included */
	uint64_t suppressed; /* events dropped by the rate limiter, total */
	uint64_t next_seq;
};
void wmq_audit_get_stats(struct wmq_audit *a, struct wmq_audit_stats *st);

/* ---- verification (wardmq_ctl audit verify) ---------------------------- */

struct wmq_audit_verify {
	uint64_t lines;    /* lines examined */
	uint64_t bad_line; /* first broken line (1-based), 0 if intact */
	char why[128];     /* what was wrong with it */
	char head[WMQ_AUDIT_HASH_HEX]; /* hash of the last intact line */
};

/* Check a whole log: every line well-formed (starts with "prev" and "seq",
 * ends with '}'), "prev" equal to the SHA-256 of the line before (line 1:
 * |initial_prev| or genesis when NULL), "seq" one more than the line
 * before. WMQ_OK when intact; MALFORMED with res->bad_line otherwise; IO if
 * the file cannot be read. */
WMQ_MUST_USE wmq_err wmq_audit_verify_file(const char *path, const char *initial_prev,
					   struct wmq_audit_verify *res);
/* The same over |len| bytes in memory. */
WMQ_MUST_USE wmq_err wmq_audit_verify_buf(const char *text, size_t len, const char *initial_prev,
					  struct wmq_audit_verify *res);

/* JSON string body of |v| (no quotes) into |b|: the escaping used for
 * every value. LIMIT if b's cap is exceeded. */
WMQ_MUST_USE wmq_err wmq_audit_json_escape(struct wmq_dbuf *b, struct wmq_bytes v);

#endif
