/* SPDX-License-Identifier: MIT
 * format.c - wardmq_sub output: the -F format language and the default /
 * -v renderings, byte-compatible with mosquitto_sub 2.0.
 *
 * -F FORMAT: '%' [-] [0] [width] [.precision] CONV with CONV one of
 *   %% t p q r l m x X I U P  and the MQTT 5 properties A (topic alias),
 *   C (content type), D (correlation data), E (message expiry), F (payload
 *   format), R (response topic), S (subscription identifier);
 * '@' CHAR: strftime(3) conversion %CHAR of the receive time in local time,
 *   "@@" a literal '@', "@N" nanoseconds;
 * '\' escapes: \\ \0 \a \e \n \r \t \v.
 * Widths pad with spaces (or zeros with '0'), '-' aligns left; a width on
 * %p / %x truncates the payload as mosquitto_sub does.
 * Rendering appends to a capped wmq_dbuf so that the output is one write
 * and the code is testable without stdout. Threading: reentrant. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

struct spec {
	char align; /* '-' or 0 */
	char pad;   /* ' ' or '0' */
	int width;
	int prec; /* -1 = none */
};

static int conv_known(char c)
{
	return strchr("%ACDEFIlmPpqRSrtUxX", c) != NULL && c != '\0';
}

int wmq_tool_format_check(const char *fmt, char *errbuf, size_t errcap)
{
	size_t len = strlen(fmt);
	for (size_t i = 0; i < len; i++) {
		if (fmt[i] == '%') {
			size_t j = i + 1;
			if (j < len && (fmt[j] == '-' || fmt[j] == '0'))
				j++;
			if (j < len && (fmt[j] == '-' || fmt[j] == '0'))
				j++;
			while (j < len && fmt[j] >= '0' && fmt[j] <= '9')
				j++;
			if (j < len && fmt[j] == '.') {
				j++;
				while (j < len && fmt[j] >= '0' && fmt[j] <= '9')
					j++;
			}
			if (j >= len) {
				snprintf(errbuf, errcap, "Incomplete format specifier.");
				return -1;
			}
			if (!conv_known(fmt[j])) {
				snprintf(errbuf, errcap, "Invalid format specifier '%c'.", fmt[j]);
				return -1;
			}
			i = j;
		} else if (fmt[i] == '@') {
			if (i + 1 >= len) {
				snprintf(errbuf, errcap, "Incomplete format specifier.");
				return -1;
			}
			i++;
		} else if (fmt[i] == '\\') {
			if (i + 1 >= len) {
				snprintf(errbuf, errcap, "Incomplete escape specifier.");
				return -1;
			}
			if (!strchr("\\0aenrtv", fmt[i + 1])) {
				snprintf(errbuf, errcap, "Invalid escape specifier '%c'.", fmt[i + 1]);
				return -1;
			}
			i++;
		}
	}
	return 0;
}

/* ---- output helpers (sticky error) ---------------------------------------- */

struct out {
	struct wmq_dbuf *b;
	wmq_err e;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->e == WMQ_OK && n)
		o->e = wmq_dbuf_append(o->b, p, n);
}

static void putc_(struct out *o, char c)
{
	put(o, &c, 1);
}

static void putn(struct out *o, char c, int n)
{
	for (int i = 0; i < n; i++)
		putc_(o, c);
}

WMQ_PRINTF(2, 3) static void putf(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void put_int(struct out *o, long long v, const struct spec *s)
{
	if (s->width == 0)
		putf(o, "%lld", v);
	else if (s->align == '-')
		putf(o, "%-*lld", s->width, v);
	else if (s->pad == '0')
		putf(o, "%0*lld", s->width, v);
	else
		putf(o, "%*lld", s->width, v);
}

/* A string of known length with printf %-*.*s semantics. */
static void put_str(struct out *o, const char *v, size_t len, const struct spec *s)
{
	if (s->prec >= 0 && (size_t)s->prec < len)
		len = (size_t)s->prec;
	int pad = s->width > (int)len ? s->width - (int)len : 0;
	if (s->align != '-')
		putn(o, ' ', pad);
	put(o, v, len);
	if (s->align == '-')
		putn(o, ' ', pad);
}

/* mosquitto_sub write_payload(): a width truncates, hex halves it. */
static void put_payload(struct out *o, const uint8_t *p, size_t n, int hex, const struct spec *s)
{
	long long len = (long long)n, padlen;
	if (s->width > 0) {
		if (len > s->width)
			len = s->width;
		if (hex) {
			len /= 2;
			padlen = s->width - len * 2;
		} else {
			padlen = s->width - len;
		}
	} else {
		padlen = s->width - len;
	}
	if (s->align != '-')
		for (long long i = 0; i < padlen; i++)
			putc_(o, s->pad);
	if (!hex) {
		put(o, p, (size_t)len);
	} else {
		for (long long i = 0; i < len; i++)
			putf(o, hex == 1 ? "%02x" : "%02X", p[i]);
	}
	if (s->align == '-')
		for (long long i = 0; i < padlen; i++)
			putc_(o, ' ');
}

static const struct tm *local(const struct timespec *now, struct tm *tm)
{
	time_t t = now->tv_sec;
	return localtime_r(&t, tm);
}

static void conv(struct out *o, char c, const struct spec *s, const struct wmq_tool_msg *m,
		 const struct timespec *now)
{
	const wmq_properties *pr = m->props;
	uint32_t v;
	const void *b;
	size_t bl;
	char buf[100];
	struct tm tm;

	switch (c) {
	case '%':
		putc_(o, '%');
		return;
	case 't':
		put_str(o, m->topic, strlen(m->topic), s);
		return;
	case 'p':
		put_payload(o, m->payload, m->payload_len, 0, s);
		return;
	case 'x':
		put_payload(o, m->payload, m->payload_len, 1, s);
		return;
	case 'X':
		put_payload(o, m->payload, m->payload_len, 2, s);
		return;
	case 'q':
		putc_(o, (char)('0' + m->qos));
		return;
	case 'r':
		putc_(o, m->retain ? '1' : '0');
		return;
	case 'l':
		put_int(o, (long long)m->payload_len, s);
		return;
	case 'm':
		put_int(o, m->mid, s);
		return;
	case 'I':
		if (local(now, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm))
			put_str(o, buf, strlen(buf), s);
		else
			putn(o, ' ', s->width);
		return;
	case 'U':
		putf(o, "%lld.%09ld", (long long)now->tv_sec, (long)now->tv_nsec);
		return;
	case 'P': {
		const char *k, *val;
		size_t kl, vl;
		for (size_t i = 0; wmq_properties_get_user(pr, i, &k, &kl, &val, &vl); i++) {
			if (i)
				putc_(o, ' ');
			put(o, k, kl);
			putc_(o, ':');
			put(o, val, vl);
		}
		return;
	}
	case 'A':
	case 'E':
	case 'F':
	case 'S': {
		int id = c == 'A'   ? WMQ_PROPERTY_TOPIC_ALIAS
			 : c == 'E' ? WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL
			 : c == 'F' ? WMQ_PROPERTY_PAYLOAD_FORMAT_INDICATOR
				    : WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER;
		if (wmq_properties_get_int(pr, id, &v))
			put_int(o, (long long)(int32_t)v, s);
		else
			putn(o, s->pad, s->width);
		return;
	}
	case 'C':
		if (wmq_properties_get_bytes(pr, WMQ_PROPERTY_CONTENT_TYPE, &b, &bl))
			put_str(o, b, bl, s);
		else
			putn(o, ' ', s->width);
		return;
	case 'R':
		if (wmq_properties_get_bytes(pr, WMQ_PROPERTY_RESPONSE_TOPIC, &b, &bl))
			put_str(o, b, bl, s);
		return;
	case 'D':
		if (wmq_properties_get_bytes(pr, WMQ_PROPERTY_CORRELATION_DATA, &b, &bl))
			put(o, b, bl);
		return;
	default:
		return;
	}
}

wmq_err wmq_tool_format(struct wmq_dbuf *outb, const char *fmt, const struct wmq_tool_msg *m,
			const struct timespec *now, bool eol)
{
	struct out o = {outb, WMQ_OK};
	size_t len = strlen(fmt);
	struct tm tm;
	char buf[128];
	/* bounded by the format length */
	for (size_t i = 0; i < len; i++) {
		char ch = fmt[i];
		if (ch == '%') {
			struct spec s = {0, ' ', 0, -1};
			if (i + 1 >= len)
				break;
			i++;
			if (fmt[i] == '-') {
				s.align = '-';
				if (i + 1 < len)
					i++;
			}
			if (fmt[i] == '0') {
				s.pad = '0';
				if (i + 1 < len)
					i++;
			}
			while (i + 1 < len && fmt[i] >= '0' && fmt[i] <= '9') {
				if (s.width < 100000)
					s.width = s.width * 10 + (fmt[i] - '0');
				i++;
			}
			if (fmt[i] == '.' && i + 1 < len) {
				i++;
				s.prec = 0;
				while (i + 1 < len && fmt[i] >= '0' && fmt[i] <= '9') {
					if (s.prec < 100000)
						s.prec = s.prec * 10 + (fmt[i] - '0');
					i++;
				}
			}
			conv(&o, fmt[i], &s, m, now);
		} else if (ch == '@') {
			if (i + 1 >= len)
				break;
			i++;
			if (fmt[i] == '@') {
				putc_(&o, '@');
			} else if (fmt[i] == 'N') {
				putf(&o, "%09ld", (long)now->tv_nsec);
			} else if (local(now, &tm)) {
				char sf[3] = {'%', fmt[i], '\0'};
				/* the conversion is the user's by design (-F "@Y") */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				size_t n = strftime(buf, sizeof buf, sf, &tm);
#pragma GCC diagnostic pop
				put(&o, buf, n);
			}
		} else if (ch == '\\') {
			if (i + 1 >= len)
				break;
			i++;
			static const char from[] = "\\0aenrtv";
			static const char to[] = "\\\0\a\033\n\r\t\v";
			const char *q = strchr(from, fmt[i]);
			if (q && fmt[i])
				putc_(&o, to[q - from]);
		} else {
			putc_(&o, ch);
		}
	}
	if (eol)
		putc_(&o, '\n');
	return o.e;
}

wmq_err wmq_tool_format_default(struct wmq_dbuf *outb, const struct wmq_tool_msg *m, bool verbose,
				bool eol)
{
	struct out o = {outb, WMQ_OK};
	if (verbose) {
		if (m->payload_len) {
			put(&o, m->topic, strlen(m->topic));
			putc_(&o, ' ');
			put(&o, m->payload, m->payload_len);
			if (eol)
				putc_(&o, '\n');
		} else if (eol) {
			put(&o, m->topic, strlen(m->topic));
			put(&o, " (null)\n", 8);
		}
	} else if (m->payload_len) {
		put(&o, m->payload, m->payload_len);
		if (eol)
			putc_(&o, '\n');
	}
	return o.e;
}
