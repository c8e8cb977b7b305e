/* SPDX-License-Identifier: MIT
 * log.h - leveled logging to a stream or an application callback.
 * Role: the broker owns one struct wmq_log in its context (no global logger);
 * libraries report through the callback and never write to stderr themselves.
 * Client-supplied strings must go through wmq_log_escape() before logging, and
 * secrets are never passed here. Threading: a struct wmq_log may be shared by
 * threads; each line is written with one fwrite. */
#ifndef WMQ_COMMON_LOG_H
#define WMQ_COMMON_LOG_H
#include <stdarg.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/err.h"

enum wmq_log_level {
	WMQ_LOG_ERROR = 0,
	WMQ_LOG_WARNING = 1,
	WMQ_LOG_NOTICE = 2,
	WMQ_LOG_INFO = 3,
	WMQ_LOG_DEBUG = 4,
};

typedef void (*wmq_log_fn)(void *arg, enum wmq_log_level level, const char *line);

struct wmq_log {
	enum wmq_log_level level; /* lines above this level are dropped */
	FILE *fp;                 /* stream (borrowed), or NULL */
	int timestamps;           /* prefix lines with an ISO-8601 UTC time */
	wmq_log_fn fn;            /* optional callback, called in addition */
	void *fn_arg;
};

void wmq_log_init(struct wmq_log *lg, FILE *fp, enum wmq_log_level level);
void wmq_log_write(const struct wmq_log *lg, enum wmq_log_level level, const char *fmt, ...)
	WMQ_PRINTF(3, 4);
void wmq_log_vwrite(const struct wmq_log *lg, enum wmq_log_level level, const char *fmt, va_list ap)
	WMQ_PRINTF(3, 0);
const char *wmq_log_level_name(enum wmq_log_level level);
/* Parse "error", "warning", "notice", "info", "debug"; -1 if unknown. */
int wmq_log_level_parse(const char *s);

#define WMQ_LOG(lg, lvl, ...)                                                  \
	do {                                                                   \
		if ((lg) && (int)(lvl) <= (int)(lg)->level)                    \
			wmq_log_write((lg), (lvl), __VA_ARGS__);               \
	} while (0)

/* Render |b| printable into |out| (always NUL-terminated): printable ASCII
 * is copied, '"' and '\\' and everything else become \xNN; truncated with
 * "..." if it does not fit. Returns out. */
char *wmq_log_escape(struct wmq_bytes b, char *out, size_t cap);

#endif
