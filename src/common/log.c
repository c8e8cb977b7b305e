/* SPDX-License-Identifier: MIT
 * log.c - leveled logging. */
#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {"error", "warning", "notice", "info", "debug"};

void wmq_log_init(struct wmq_log *lg, FILE *fp, enum wmq_log_level level)
{
	memset(lg, 0, sizeof *lg);
	lg->fp = fp;
	lg->level = level;
	lg->timestamps = 1;
}

const char *wmq_log_level_name(enum wmq_log_level level)
{
	if ((unsigned)level < WMQ_ARRAY_LEN(level_names))
		return level_names[level];
	return "?";
}

int wmq_log_level_parse(const char *s)
{
	for (size_t i = 0; i < WMQ_ARRAY_LEN(level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void wmq_log_vwrite(const struct wmq_log *lg, enum wmq_log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n = 0;
	if (!lg || (int)level > (int)lg->level)
		return;
	if (lg->timestamps) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
		int k = snprintf(line + n, sizeof line - n, ".%03ldZ ", ts.tv_nsec / 1000000L);
		if (k > 0)
			n += (size_t)k;
	}
	int k = snprintf(line + n, sizeof line - n, "%s: ", wmq_log_level_name(level));
	if (k > 0)
		n += (size_t)k;
	if (n < sizeof line) {
		k = vsnprintf(line + n, sizeof line - n, fmt, ap);
		if (k > 0)
			n += (size_t)k;
	}
	if (n >= sizeof line - 1)
		n = sizeof line - 2;
	if (lg->fn) {
		line[n] = '\0';
		lg->fn(lg->fn_arg, level, line);
	}
	if (lg->fp) {
		line[n] = '\n';
		fwrite(line, 1, n + 1, lg->fp);
		fflush(lg->fp);
	}
}

void wmq_log_write(const struct wmq_log *lg, enum wmq_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wmq_log_vwrite(lg, level, fmt, ap);
	va_end(ap);
}

char *wmq_log_escape(struct wmq_bytes b, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0)
		return out;
	for (size_t i = 0; i < b.len; i++) {
		uint8_t c = b.p[i];
		int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		size_t need = plain ? 1 : 4;
		if (cap - o < need + 4) { /* keep room for "..." and NUL */
			if (cap >= 4) {
				o = o > cap - 4 ? cap - 4 : o;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o < cap ? o : cap - 1] = '\0';
	return out;
}
