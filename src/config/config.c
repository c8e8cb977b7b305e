/* SPDX-License-Identifier: MIT
 * config.c - the configuration parser, defaults, -p override, reload
 * classification and cleanup, all driven by the option table
 * (config_table.c).
 *
 * Role: turns "key value" lines into a struct wmq_config. The parser is a
 * single pass over the buffer: each line is checked (length, NUL, control
 * characters), split into key and value, looked up in the table, checked
 * for scope and duplicates, then parsed by the option's type into the field
 * the table points at. Defaults are strings in file syntax applied through
 * the same code before the first line is read.
 * Threading: reentrant; no shared state. Ownership: a struct wmq_config owns
 * its strings and listener array; wmq_config_cleanup() frees them. On any
 * error the config is cleaned up (all zero), so cleanup is always safe. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/utf8.h"
#include "config/config_int.h"

struct parser {
	const char *name;             /* file name for messages */
	struct wmq_config *cfg;
	char *err;                    /* caller's buffer, may be NULL */
	size_t errlen;
	int line;                     /* current line, 1-based; 0 = not in a file */
	bool in_listener;             /* a listener line has been seen */
	int gline[WMQ_CONFIG_N_OPTIONS]; /* line an option was set on at global scope */
	int lline[WMQ_CONFIG_N_OPTIONS]; /* same, in the current listener section */
};

static wmq_err perr(struct parser *p, const char *fmt, ...) WMQ_PRINTF(2, 3);

/* Format "NAME:LINE: message" (or "NAME: message" outside a line, or just
 * the message when NAME is empty) into the caller's buffer. Returns WMQ_ERR_INVAL (noted). */
static wmq_err perr(struct parser *p, const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int n;
		if (p->line > 0)
			n = snprintf(p->err, p->errlen, "%s:%d: ", p->name, p->line);
		else if (p->name[0])
			n = snprintf(p->err, p->errlen, "%s: ", p->name);
		else
			n = 0;
		if (n >= 0 && (size_t)n < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
}

/* Printable rendering of user text for messages (escaped, truncated). */
static const char *show(const char *s, char *buf, size_t cap)
{
	return wmq_log_escape(wmq_bytes_cstr(s), buf, cap);
}

/* The value as shown in an error message: escaped, or hidden for secrets. */
static const char *showv(const struct wmq_opt *o, const char *val, char *buf, size_t cap)
{
	if (o->flags & WMQ_OPT_SECRET)
		return "<redacted>";
	return show(val, buf, cap);
}

static bool is_signed_opt(const struct wmq_opt *o)
{
	return o->min < 0 || o->type == WMQ_OPT_DURATION;
}

static bool is_string_type(enum wmq_opt_type t)
{
	return t == WMQ_OPT_STRING || t == WMQ_OPT_PATH || t == WMQ_OPT_LOG_DEST;
}

int64_t wmq_config_field_get(const struct wmq_opt *o, const void *field, size_t size)
{
	bool sgn = is_signed_opt(o);
	switch (size) {
	case 1: {
		uint8_t u;
		memcpy(&u, field, 1);
		return sgn ? (int64_t)(int8_t)u : (int64_t)u;
	}
	case 2: {
		uint16_t u;
		memcpy(&u, field, 2);
		return sgn ? (int64_t)(int16_t)u : (int64_t)u;
	}
	case 4: {
		uint32_t u;
		memcpy(&u, field, 4);
		return sgn ? (int64_t)(int32_t)u : (int64_t)u;
	}
	case 8: {
		int64_t v;
		memcpy(&v, field, 8);
		return v;
	}
	default:
		return 0;
	}
}

void wmq_config_field_set(const struct wmq_opt *o, void *field, size_t size, int64_t v)
{
	WMQ_UNUSED(o); /* two's complement: the low bytes are the same either way */
	switch (size) {
	case 1: {
		uint8_t u = (uint8_t)(uint64_t)v;
		memcpy(field, &u, 1);
		break;
	}
	case 2: {
		uint16_t u = (uint16_t)(uint64_t)v;
		memcpy(field, &u, 2);
		break;
	}
	case 4: {
		uint32_t u = (uint32_t)(uint64_t)v;
		memcpy(field, &u, 4);
		break;
	}
	case 8:
		memcpy(field, &v, 8);
		break;
	default:
		break;
	}
}

/* Strict decimal: optional '-', digits only. 0 ok, 1 not a number,
 * 2 does not fit in int64_t. */
static int parse_i64(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0, lim;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s == '\0')
		return 1;
	lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
	bool over = false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 1;
		unsigned d = (unsigned)(*s - '0');
		if (over || v > (lim - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		return 2;
	*out = neg ? (v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return 0;
}

static wmq_err set_number(struct parser *p, const struct wmq_opt *o, void *field, size_t size,
			  const char *val)
{
	char sb[80];
	int64_t v = 0;
	int r = parse_i64(val, &v);
	if (r == 1)
		return perr(p, "%s: '%s' is not an integer", o->name, showv(o, val, sb, sizeof sb));
	if (r == 2 || v < o->min || v > o->max)
		return perr(p, "%s: '%s' is out of range %" PRId64 "..%" PRId64, o->name,
			    showv(o, val, sb, sizeof sb), o->min, o->max);
	int64_t unit = o->unit > 0 ? o->unit : 1;
	if (v != 0 && (v > INT64_MAX / unit || v < INT64_MIN / unit))
		return perr(p, "%s: '%s' is out of range", o->name, showv(o, val, sb, sizeof sb));
	wmq_config_field_set(o, field, size, v * unit);
	return WMQ_OK;
}

/* mosquitto's persistent_client_expiration syntax: a positive integer and one
 * of s h d w m y (m = 30 days, y = 365 days), or "never". */
static wmq_err set_duration(struct parser *p, const struct wmq_opt *o, void *field, size_t size,
			    const char *val)
{
	static const struct {
		char c;
		int64_t mult;
	} units[] = {{'s', 1}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}, {'m', 30 * 86400},
		     {'y', 365 * 86400}};
	char sb[80], num[32];
	if (strcmp(val, "never") == 0) {
		wmq_config_field_set(o, field, size, -1);
		return WMQ_OK;
	}
	size_t n = strlen(val);
	int64_t mult = 0;
	for (size_t i = 0; n > 0 && i < WMQ_ARRAY_LEN(units); i++)
		if (val[n - 1] == units[i].c)
			mult = units[i].mult;
	if (mult == 0)
		return perr(p,
			    "%s: '%s' needs a unit: an integer followed by s, h, d, w, m (30 days) "
			    "or y, or 'never'",
			    o->name, showv(o, val, sb, sizeof sb));
	/* The number: one or more digits before the unit (no sign). */
	int64_t v = 0;
	int r = n > 1 && strspn(val, "0123456789") == n - 1 ? 0 : 1;
	if (r == 0 && n - 1 >= sizeof num) {
		r = 2;
	} else if (r == 0) {
		memcpy(num, val, n - 1);
		num[n - 1] = '\0';
		r = parse_i64(num, &v);
	}
	if (r == 1)
		return perr(p, "%s: '%s' is not a duration (an integer followed by s, h, d, w, m or y)",
			    o->name, showv(o, val, sb, sizeof sb));
	if (r == 2 || v < o->min || v > INT64_MAX / mult)
		return perr(p, "%s: '%s' is out of range (1s up to about 292 billion years)", o->name,
			    showv(o, val, sb, sizeof sb));
	wmq_config_field_set(o, field, size, v * mult);
	return WMQ_OK;
}

static wmq_err set_string(struct parser *p, const struct wmq_opt *o, void *field, const char *val)
{
	char *dup;
	if (o->type == WMQ_OPT_STRING && !wmq_utf8_valid((const uint8_t *)val, strlen(val)))
		return perr(p, "%s: value is not valid UTF-8", o->name);
	if (o->type == WMQ_OPT_LOG_DEST) {
		char sb[80];
		size_t w = strcspn(val, " \t");
		if (strcmp(val, "stderr") == 0 || strcmp(val, "stdout") == 0 ||
		    strcmp(val, "none") == 0) {
			dup = wmq_strdup(val);
		} else if (w == 4 && strncmp(val, "file", 4) == 0 && val[4] != '\0') {
			const char *path = val + 4 + strspn(val + 4, " \t");
			size_t plen = strlen(path);
			dup = wmq_malloc(plen + 6);
			if (dup) {
				memcpy(dup, "file:", 5);
				memcpy(dup + 5, path, plen + 1);
			}
		} else if (strcmp(val, "file") == 0) {
			return perr(p, "log_dest file needs a path: 'log_dest file PATH'");
		} else if ((w == 6 && strncmp(val, "syslog", 6) == 0) ||
			   (w == 5 && strncmp(val, "topic", 5) == 0) ||
			   (w == 3 && strncmp(val, "dlt", 3) == 0)) {
			return perr(p,
				    "log_dest %.*s is a mosquitto destination not supported by WardMQ: "
				    "use stderr, stdout, none or file PATH",
				    (int)w, val);
		} else {
			return perr(p, "log_dest: '%s' is not one of stderr, stdout, none, file PATH",
				    showv(o, val, sb, sizeof sb));
		}
	} else {
		dup = wmq_strdup(val);
	}
	if (!dup)
		WMQ_BAIL(WMQ_ERR_NOMEM);
	char *old;
	memcpy(&old, field, sizeof old);
	wmq_free(old);
	memcpy(field, &dup, sizeof dup);
	return WMQ_OK;
}

static wmq_err set_enum(struct parser *p, const struct wmq_opt *o, void *field, size_t size,
			const char *val)
{
	char sb[80], list[160];
	size_t used = 0;
	for (size_t i = 0; o->words[i]; i++) {
		if (strcmp(val, o->words[i]) == 0) {
			wmq_config_field_set(o, field, size, (int64_t)i);
			return WMQ_OK;
		}
	}
	list[0] = '\0';
	for (size_t i = 0; o->words[i] && used < sizeof list; i++) {
		int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", o->words[i]);
		if (k < 0)
			break;
		used += (size_t)k;
	}
	return perr(p, "%s: '%s' is not one of %s", o->name, showv(o, val, sb, sizeof sb), list);
}

/* Parse |val| by the type of |o| into |field| (|size| bytes). */
static wmq_err opt_set(struct parser *p, const struct wmq_opt *o, void *field, size_t size,
		       const char *val)
{
	char sb[80];
	switch (o->type) {
	case WMQ_OPT_BOOL: {
		bool b;
		if (strcmp(val, "true") == 0)
			b = true;
		else if (strcmp(val, "false") == 0)
			b = false;
		else
			return perr(p, "%s: '%s' is not a boolean (true or false)", o->name,
				    showv(o, val, sb, sizeof sb));
		memcpy(field, &b, sizeof b);
		return WMQ_OK;
	}
	case WMQ_OPT_INT:
	case WMQ_OPT_SIZE:
	case WMQ_OPT_SECONDS:
	case WMQ_OPT_MILLIS:
		return set_number(p, o, field, size, val);
	case WMQ_OPT_DURATION:
		return set_duration(p, o, field, size, val);
	case WMQ_OPT_STRING:
	case WMQ_OPT_PATH:
	case WMQ_OPT_LOG_DEST:
		return set_string(p, o, field, val);
	case WMQ_OPT_ENUM:
		return set_enum(p, o, field, size, val);
	case WMQ_OPT_LISTENER:
		break;
	}
	WMQ_BAIL(WMQ_ERR_INTERNAL);
}

static void parser_init(struct parser *p, const char *name, struct wmq_config *cfg, char *err,
			size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	p->cfg = cfg;
	p->err = err;
	p->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
}

wmq_err wmq_config_set_value(const struct wmq_opt *o, void *field, size_t size, const char *val,
			     char *errbuf, size_t errlen)
{
	struct parser p;
	parser_init(&p, "", NULL, errbuf, errlen);
	return opt_set(&p, o, field, size, val);
}

/* Copy the value of a BOTH option from the global field to a listener. */
static wmq_err copy_to_listener(const struct wmq_opt *o, const struct wmq_config *cfg,
				struct wmq_listener_cfg *l)
{
	const char *src = (const char *)cfg + o->goff;
	char *dst = (char *)l + o->loff;
	if (o->type == WMQ_OPT_BOOL) {
		memcpy(dst, src, sizeof(bool));
	} else if (is_string_type(o->type)) {
		const char *s;
		char *dup = NULL, *old;
		memcpy(&s, src, sizeof s);
		if (s && !(dup = wmq_strdup(s)))
			WMQ_BAIL(WMQ_ERR_NOMEM);
		memcpy(&old, dst, sizeof old);
		wmq_free(old);
		memcpy(dst, &dup, sizeof dup);
	} else {
		wmq_config_field_set(o, dst, o->lsize, wmq_config_field_get(o, src, o->gsize));
	}
	return WMQ_OK;
}

static void listener_free_fields(struct wmq_listener_cfg *l)
{
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if ((o->scope & WMQ_SCOPE_LISTENER) && is_string_type(o->type)) {
			char *s;
			memcpy(&s, (char *)l + o->loff, sizeof s);
			wmq_free(s);
		}
	}
	wmq_free(l->address);
	wmq_free(l->mount_point);
	memset(l, 0, sizeof *l);
}

/* Fill the zeroed |l|: BOTH options inherit the global value, LISTENER
 * options take their default. On error |l| holds nothing. */
static wmq_err listener_fill(struct parser *p, struct wmq_listener_cfg *l, uint16_t port,
			     const char *address, int line)
{
	wmq_err rc = WMQ_OK;
	l->port = port;
	l->line = line;
	if (address && !(l->address = wmq_strdup(address))) {
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if (o->scope == WMQ_SCOPE_BOTH)
			rc = copy_to_listener(o, p->cfg, l);
		else if (o->scope == WMQ_SCOPE_LISTENER && o->def)
			rc = opt_set(p, o, (char *)l + o->loff, o->lsize, o->def);
		if (rc != WMQ_OK)
			goto out;
	}
out:
	if (rc != WMQ_OK)
		listener_free_fields(l);
	return rc;
}

/* Append a listener to p->cfg (after the caller's conflict checks). */
static wmq_err listener_add(struct parser *p, uint16_t port, const char *address, int line)
{
	struct wmq_config *cfg = p->cfg;
	struct wmq_listener_cfg l = {0};
	if (cfg->n_listeners >= WMQ_CONFIG_MAX_LISTENERS)
		return perr(p, "more than %d listeners", WMQ_CONFIG_MAX_LISTENERS);
	WMQ_TRY(listener_fill(p, &l, port, address, line));
	struct wmq_listener_cfg *arr =
		wmq_reallocarray(cfg->listeners, cfg->n_listeners + 1, sizeof *arr);
	if (!arr) {
		listener_free_fields(&l);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	arr[cfg->n_listeners] = l;
	cfg->listeners = arr;
	cfg->n_listeners++;
	return WMQ_OK;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-', 1..63
 * bytes each, not starting or ending with '-', at most 253 bytes; the last
 * label is not all digits (so "1.2.3" is not taken for a name). */
static bool valid_hostname(const char *s)
{
	size_t n = strlen(s), label = 0;
	bool digits_only = true;
	if (n == 0 || n > 253)
		return false;
	if (s[n - 1] == '.')
		n--; /* fully qualified "host.example." */
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			if (i == n && digits_only)
				return false;
			label = 0;
			digits_only = true;
			continue;
		}
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool digit = c >= '0' && c <= '9';
		if (!alpha && !digit && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (!digit)
			digits_only = false;
		if (++label > 63)
			return false;
	}
	return true;
}

static bool valid_address(const char *s)
{
	unsigned char tmp[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1 ||
	       valid_hostname(s);
}

/* Checks across the options of the last listener section, once it is
 * complete (at the next listener line or the end of the file). Errors name
 * the line of the listener statement. */
static wmq_err listener_check(struct parser *p)
{
	if (!p->in_listener || p->cfg->n_listeners == 0)
		return WMQ_OK;
	const struct wmq_listener_cfg *l = &p->cfg->listeners[p->cfg->n_listeners - 1];
	unsigned port = l->port;
	bool ca = l->cafile || l->capath;
	int saved = p->line;
	p->line = l->line;
	if (!l->certfile != !l->keyfile)
		return perr(p, "listener %u: %s is set without %s: give both certfile and keyfile",
			    port, l->certfile ? "certfile" : "keyfile",
			    l->certfile ? "keyfile" : "certfile");
	if (l->require_certificate && !ca)
		return perr(p, "listener %u: require_certificate needs cafile or capath", port);
	if (l->crlfile && !ca)
		return perr(p, "listener %u: crlfile needs cafile or capath", port);
	if (l->use_identity_as_username && !ca && !l->psk_hint)
		return perr(p,
			    "listener %u: use_identity_as_username needs cafile or capath (to verify "
			    "client certificates) or psk_hint",
			    port);
	if (l->protocol != WMQ_LISTENER_WEBSOCKETS) {
		/* WebSocket options on an MQTT listener are a mistake too. */
		const char *bad = l->ws_origins            ? "websockets_origin"
				  : l->ws_trust_forwarded  ? "websockets_trust_forwarded"
				  : l->ws_path && strcmp(l->ws_path, "/mqtt") != 0 ? "websockets_path"
									       : NULL;
		if (bad)
			return perr(p, "listener %u: %s is set but the listener is not 'protocol websockets'",
				    port, bad);
	} else {
		if (l->ws_path && strcmp(l->ws_path, "*") != 0 &&
		    (l->ws_path[0] != '/' || strpbrk(l->ws_path, " \t?#")))
			return perr(p, "listener %u: websockets_path must be '*' or start with '/' "
				    "(no spaces, '?' or '#')", port);
		for (const char *s = l->ws_origins; s && *s;) {
			size_t w = strcspn(s, " \t");
			bool http = w > 7 && strncasecmp(s, "http://", 7) == 0;
			bool https = w > 8 && strncasecmp(s, "https://", 8) == 0;
			if (!http && !https)
				return perr(p, "listener %u: websockets_origin '%.*s' is not an "
					    "http:// or https:// origin", port, (int)(w > 60 ? 60 : w), s);
			s += w;
			s += strspn(s, " \t");
		}
	}
	if (!wmq_listener_is_tls(l)) {
		/* A TLS option on a plain listener is a mistake, not a no-op.
		 * Defaults (as --test-config -v prints them) are fine. */
		const char *bad = l->cafile                       ? "cafile"
				  : l->capath                     ? "capath"
				  : l->crlfile                    ? "crlfile"
				  : l->ciphers                    ? "ciphers"
				  : l->ciphers_tls13              ? "ciphers_tls1.3"
				  : l->require_certificate        ? "require_certificate"
				  : l->use_identity_as_username   ? "use_identity_as_username"
				  : l->crl_disconnect             ? "crl_disconnect"
				  : l->tls_version != WMQ_TLS_MIN_V1_2 ? "tls_version"
				  : l->identity_source != WMQ_IDSRC_CN ? "identity_source"
								       : NULL;
		if (bad)
			return perr(p,
				    "listener %u: %s is set but the listener does not use TLS: give "
				    "certfile and keyfile, or psk_hint",
				    port, bad);
	}
	p->line = saved;
	return WMQ_OK;
}

/* "listener PORT [ADDRESS]" (|val| is the part after the key). */
static wmq_err do_listener(struct parser *p, const struct wmq_opt *o, char *val)
{
	char sb[80];
	char *port_s = val, *addr = NULL;
	size_t w = strcspn(val, " \t");
	if (val[w] != '\0') {
		val[w] = '\0';
		addr = val + w + 1;
		addr += strspn(addr, " \t");
		size_t aw = strcspn(addr, " \t");
		if (addr[aw] != '\0')
			return perr(p, "listener: too many values; expected 'listener PORT [ADDRESS]'");
	}
	int64_t port = 0;
	int r = parse_i64(port_s, &port);
	if (r == 1)
		return perr(p, "listener: port '%s' is not an integer", show(port_s, sb, sizeof sb));
	if (r == 2 || port < o->min || port > o->max)
		return perr(p, "listener: port '%s' is out of range 0..65535",
			    show(port_s, sb, sizeof sb));
	if (addr && !valid_address(addr))
		return perr(p, "listener: '%s' is not an IPv4 or IPv6 address or a host name",
			    show(addr, sb, sizeof sb));
	for (size_t i = 0; port != 0 && i < p->cfg->n_listeners; i++) {
		const struct wmq_listener_cfg *l = &p->cfg->listeners[i];
		if (l->port != port)
			continue;
		if (!addr && !l->address)
			return perr(p, "listener %" PRId64 " duplicates the listener on line %d", port,
				    l->line);
		if (addr && l->address && strcasecmp(addr, l->address) == 0)
			return perr(p, "listener %" PRId64 " %s duplicates the listener on line %d",
				    port, addr, l->line);
		if (!addr || !l->address)
			return perr(p,
				    "listener %" PRId64 "%s%s conflicts with the listener on line %d "
				    "(same port, one of them on every interface)",
				    port, addr ? " " : "", addr ? addr : "", l->line);
	}
	WMQ_TRY(listener_check(p));
	WMQ_TRY(listener_add(p, (uint16_t)port, addr, p->line));
	p->in_listener = true;
	memset(p->lline, 0, sizeof p->lline);
	return WMQ_OK;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line (without its '\n'), |n| bytes. */
static wmq_err parse_line(struct parser *p, const char *s, size_t n)
{
	char buf[WMQ_CONFIG_MAX_LINE + 1], sb[80];
	if (n > WMQ_CONFIG_MAX_LINE)
		return perr(p, "line longer than %d bytes", WMQ_CONFIG_MAX_LINE);
	if (memchr(s, '\0', n))
		return perr(p, "NUL byte in line");
	memcpy(buf, s, n);
	while (n > 0 && (is_blank(buf[n - 1]) || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	char *key = buf + strspn(buf, " \t");
	if (*key == '\0' || *key == '#')
		return WMQ_OK;
	for (const char *c = key; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return perr(p, "control character 0x%02x in line", (unsigned)(unsigned char)*c);
	char *val = key + strcspn(key, " \t");
	if (*val) {
		*val++ = '\0';
		val += strspn(val, " \t");
	}

	const struct wmq_opt *o = wmq_config_find(key);
	if (!o) {
		const struct wmq_opt_unsupported *u = wmq_config_find_unsupported(key);
		if (u)
			return perr(p, "mosquitto option '%s' is not supported by WardMQ: %s",
				    show(key, sb, sizeof sb), u->hint);
		return perr(p, "unknown option '%s'", show(key, sb, sizeof sb));
	}
	if (*val == '\0')
		return perr(p, "option '%s' needs a value", o->name);
	size_t idx = (size_t)(o - wmq_config_options);
	if (o->type == WMQ_OPT_LISTENER)
		return do_listener(p, o, val);

	bool to_listener;
	if (o->scope == WMQ_SCOPE_LISTENER) {
		if (!p->in_listener)
			return perr(p,
				    "'%s' is a listener option: it must follow a 'listener PORT' line",
				    o->name);
		to_listener = true;
	} else {
		to_listener = o->scope == WMQ_SCOPE_BOTH && p->in_listener;
	}
	int *seen = to_listener ? &p->lline[idx] : &p->gline[idx];
	if (*seen && !(o->flags & WMQ_OPT_REPEATABLE))
		return perr(p, "'%s' given twice in the same %s (first on line %d)", o->name,
			    to_listener ? "listener section" : "scope", *seen);
	void *field;
	size_t size;
	if (to_listener) {
		struct wmq_listener_cfg *l = &p->cfg->listeners[p->cfg->n_listeners - 1];
		field = (char *)l + o->loff;
		size = o->lsize;
	} else {
		field = (char *)p->cfg + o->goff;
		size = o->gsize;
	}
	const char *prev = NULL;
	if (*seen && is_string_type(o->type))
		memcpy(&prev, field, sizeof prev);
	if (prev) {
		/* A repeated list option (websockets_origin) appends: the
		 * value is a space-separated list. */
		size_t a = strlen(prev), vn = strlen(val);
		char *joined = wmq_malloc(a + 1 + vn + 1);
		if (!joined)
			WMQ_BAIL(WMQ_ERR_NOMEM);
		memcpy(joined, prev, a);
		joined[a] = ' ';
		memcpy(joined + a + 1, val, vn + 1);
		wmq_err rc = opt_set(p, o, field, size, joined);
		wmq_free(joined);
		WMQ_TRY(rc);
	} else {
		WMQ_TRY(opt_set(p, o, field, size, val));
	}
	*seen = p->line;
	return WMQ_OK;
}

/* Zero |cfg| and apply every global (and BOTH) default. */
static wmq_err apply_defaults(struct parser *p)
{
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if ((o->scope & WMQ_SCOPE_GLOBAL) && o->def)
			WMQ_TRY(opt_set(p, o, (char *)p->cfg + o->goff, o->gsize, o->def));
	}
	return WMQ_OK;
}


wmq_err wmq_config_default(struct wmq_config *cfg)
{
	struct parser p;
	wmq_err rc;
	memset(cfg, 0, sizeof *cfg);
	parser_init(&p, "built-in configuration", cfg, NULL, 0);
	if ((rc = apply_defaults(&p)) != WMQ_OK)
		goto out;
	cfg->allow_anonymous = true; /* no file: loopback only, anonymous allowed */
	rc = listener_add(&p, 1883, "127.0.0.1", 0);
out:
	if (rc != WMQ_OK)
		wmq_config_cleanup(cfg);
	return rc;
}

wmq_err wmq_config_parse(const char *name, const char *text, size_t len, struct wmq_config *cfg,
			 char *errbuf, size_t errlen)
{
	struct parser p;
	wmq_err rc;
	size_t pos = 0;
	memset(cfg, 0, sizeof *cfg);
	parser_init(&p, name, cfg, errbuf, errlen);
	if ((rc = apply_defaults(&p)) != WMQ_OK)
		goto out;
	if (!(cfg->path = wmq_strdup(name))) {
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* UTF-8 byte order mark */
	/* Each pass consumes at least one byte, so this ends within len passes. */
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		p.line++;
		if ((rc = parse_line(&p, text + pos, end - pos)) != WMQ_OK)
			goto out;
		pos = nl ? end + 1 : len;
	}
	if ((rc = listener_check(&p)) != WMQ_OK)
		goto out;
	if (cfg->n_listeners == 0) {
		p.line = 0;
		rc = listener_add(&p, 1883, NULL, 0);
	}
out:
	if (rc == WMQ_ERR_NOMEM && errbuf && errlen)
		snprintf(errbuf, errlen, "%s: out of memory", name);
	if (rc != WMQ_OK)
		wmq_config_cleanup(cfg);
	return rc;
}

wmq_err wmq_config_load(const char *path, struct wmq_config *cfg, char *errbuf, size_t errlen)
{
	struct wmq_dbuf b;
	struct stat st;
	char eb[128];
	wmq_err rc = WMQ_OK;
	int fd;
	memset(cfg, 0, sizeof *cfg);
	wmq_dbuf_init(&b, (size_t)WMQ_CONFIG_MAX_FILE + 1);
	if (errbuf && errlen)
		errbuf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: cannot open: %s", path,
				 strerror_r(e, eb, sizeof eb));
		rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
		goto out;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: is a directory", path);
		rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
		goto out;
	}
	/* Read until EOF; the buffer refuses to grow beyond MAX_FILE + 1. */
	for (;;) {
		uint8_t *area;
		size_t want = 65536;
		if (want > b.max - b.len)
			want = b.max - b.len;
		if (want == 0) {
			if (errbuf && errlen)
				snprintf(errbuf, errlen, "%s: larger than %d bytes", path,
					 WMQ_CONFIG_MAX_FILE);
			rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
			goto out;
		}
		if ((rc = wmq_dbuf_reserve(&b, want, &area)) != WMQ_OK) {
			if (errbuf && errlen)
				snprintf(errbuf, errlen, "%s: out of memory", path);
			goto out;
		}
		ssize_t n = read(fd, area, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			if (errbuf && errlen)
				snprintf(errbuf, errlen, "%s: cannot read: %s", path,
					 strerror_r(e, eb, sizeof eb));
			rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
			goto out;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	rc = wmq_config_parse(path, (const char *)b.p, b.len, cfg, errbuf, errlen);
out:
	if (fd >= 0)
		close(fd);
	wmq_dbuf_cleanup(&b);
	return rc;
}

wmq_err wmq_config_set_port(struct wmq_config *cfg, uint16_t port)
{
	struct parser p;
	struct wmq_listener_cfg l = {0};
	parser_init(&p, cfg->path ? cfg->path : "command line", cfg, NULL, 0);
	WMQ_TRY(listener_fill(&p, &l, port, cfg->path ? NULL : "127.0.0.1", 0));
	struct wmq_listener_cfg *arr = wmq_calloc(1, sizeof *arr);
	if (!arr) {
		listener_free_fields(&l);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	for (size_t i = 0; i < cfg->n_listeners; i++)
		listener_free_fields(&cfg->listeners[i]);
	wmq_free(cfg->listeners);
	arr[0] = l;
	cfg->listeners = arr;
	cfg->n_listeners = 1;
	return WMQ_OK;
}

static bool field_equal(const struct wmq_opt *o, const void *a, const void *b, size_t size)
{
	if (is_string_type(o->type)) {
		const char *x, *y;
		memcpy(&x, a, sizeof x);
		memcpy(&y, b, sizeof y);
		if (!x || !y)
			return x == y;
		return strcmp(x, y) == 0;
	}
	return memcmp(a, b, size) == 0;
}

static bool str_equal(const char *a, const char *b)
{
	return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

/* Comma-separated names in a caller's buffer; once a name does not fit, no
 * later one is written either (the list is a prefix), but all are counted. */
struct namelist {
	char *buf;
	size_t len, used, count;
	bool full;
};

static void namelist_add(struct namelist *nl, const char *name)
{
	size_t need = strlen(name) + (nl->count ? 2 : 0);
	if (!nl->full && nl->buf && nl->len > 0 && nl->len - nl->used > need) {
		snprintf(nl->buf + nl->used, nl->len - nl->used, "%s%s", nl->count ? ", " : "", name);
		nl->used += need;
	} else {
		nl->full = true;
	}
	nl->count++;
}

size_t wmq_config_nonreloadable_changes(const struct wmq_config *old,
					const struct wmq_config *new_cfg, char *buf, size_t len)
{
	struct namelist nl = {buf, len, 0, 0, false};
	bool same_count = old->n_listeners == new_cfg->n_listeners;
	if (buf && len)
		buf[0] = '\0';
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		bool changed = false;
		if (o->type == WMQ_OPT_LISTENER) {
			changed = !same_count;
			for (size_t k = 0; !changed && k < old->n_listeners; k++) {
				const struct wmq_listener_cfg *a = &old->listeners[k];
				const struct wmq_listener_cfg *b = &new_cfg->listeners[k];
				/* Turning TLS on or off changes what the port speaks:
				 * a restart, like a new port. */
				changed = a->port != b->port || !str_equal(a->address, b->address) ||
					  !str_equal(a->mount_point, b->mount_point) ||
					  wmq_listener_is_tls(a) != wmq_listener_is_tls(b);
			}
		} else if (!(o->flags & WMQ_OPT_RELOADABLE)) {
			if (o->scope & WMQ_SCOPE_GLOBAL)
				changed = !field_equal(o, (const char *)old + o->goff,
						       (const char *)new_cfg + o->goff, o->gsize);
			for (size_t k = 0; !changed && same_count && (o->scope & WMQ_SCOPE_LISTENER) &&
					   k < old->n_listeners;
			     k++)
				changed = !field_equal(o, (const char *)&old->listeners[k] + o->loff,
						       (const char *)&new_cfg->listeners[k] + o->loff,
						       o->lsize);
		}
		if (changed)
			namelist_add(&nl, o->name);
	}
	return nl.count;
}

void wmq_config_cleanup(struct wmq_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if ((o->scope & WMQ_SCOPE_GLOBAL) && is_string_type(o->type)) {
			char *s;
			memcpy(&s, (char *)cfg + o->goff, sizeof s);
			wmq_free(s);
		}
	}
	for (size_t i = 0; i < cfg->n_listeners; i++)
		listener_free_fields(&cfg->listeners[i]);
	wmq_free(cfg->listeners);
	wmq_free(cfg->path);
	memset(cfg, 0, sizeof *cfg);
}
