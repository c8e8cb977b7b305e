/* SPDX-License-Identifier: MIT
 * opts.c - command-line options of wardmq_pub and wardmq_sub.
 *
 * Role: one table lists every flag (short and long spelling, argument
 * count, which tools accept it, the noun used in "no X specified"
 * messages); one switch applies them; one validation pass checks the
 * combinations. Flags, defaults and messages follow mosquitto_pub /
 * mosquitto_sub 2.0 so scripts written for them keep working.
 * Ownership: every string is copied into the cfg. Threading: none. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "tool.h"

enum opt_id {
	O_HOST, O_PORT, O_TOPIC, O_USER, O_PASS, O_ID, O_ID_PREFIX, O_KEEPALIVE, O_NOCLEAN,
	O_EXPIRY, O_VERSION_ARG, O_QOS, O_DEBUG, O_PROPERTY, O_URL, O_WILL_TOPIC, O_WILL_PAYLOAD,
	O_WILL_QOS, O_WILL_RETAIN, O_QUIET, O_HELP, O_VERSION, O_NODELAY, O_MAX_INFLIGHT,
	O_MESSAGE, O_FILE, O_LINES, O_NULL, O_STDIN, O_RETAIN, O_REPEAT, O_REPEAT_DELAY,
	O_COUNT, O_EXIT_AFTER_SUB, O_FORMAT, O_NO_EOL, O_NO_RETAIN, O_FILTER_OUT, O_UNSUB,
	O_VERBOSE, O_TIMEOUT, O_RETAINED_ONLY, O_REMOVE_RETAINED,
	O_CAFILE, O_CAPATH, O_CERT, O_KEY, O_INSECURE, O_TLS_VERSION, O_CIPHERS, O_PSK,
	O_PSK_IDENTITY, O_ALPN, O_WS, O_WS_PATH,
};

#define P WMQ_TOOL_PUB
#define S WMQ_TOOL_SUB
#define PS (WMQ_TOOL_PUB | WMQ_TOOL_SUB)

struct opt {
	const char *s; /* short form or NULL */
	const char *l; /* long form or NULL */
	int id;
	int nargs;
	unsigned kinds;
	const char *what; /* noun for "no ... specified" */
};

static const struct opt opts[] = {
	{"-h", "--host", O_HOST, 1, PS, "host"},
	{"-p", "--port", O_PORT, 1, PS, "port"},
	{"-t", "--topic", O_TOPIC, 1, PS, "topic"},
	{"-u", "--username", O_USER, 1, PS, "username"},
	{"-P", "--pw", O_PASS, 1, PS, "password"},
	{"-i", "--id", O_ID, 1, PS, "id"},
	{"-I", "--id-prefix", O_ID_PREFIX, 1, PS, "id prefix"},
	{"-k", "--keepalive", O_KEEPALIVE, 1, PS, "keepalive"},
	{"-c", "--disable-clean-session", O_NOCLEAN, 0, PS, NULL},
	{"-x", "--session-expiry-interval", O_EXPIRY, 1, PS, "expiry interval"},
	{"-V", "--protocol-version", O_VERSION_ARG, 1, PS, "protocol version"},
	{"-q", "--qos", O_QOS, 1, PS, "QoS"},
	{"-d", "--debug", O_DEBUG, 0, PS, NULL},
	{"-D", "--property", O_PROPERTY, 3, PS, NULL},
	{"-L", "--url", O_URL, 1, PS, "URL"},
	{NULL, "--will-topic", O_WILL_TOPIC, 1, PS, "will topic"},
	{NULL, "--will-payload", O_WILL_PAYLOAD, 1, PS, "will payload"},
	{NULL, "--will-qos", O_WILL_QOS, 1, PS, "will QoS"},
	{NULL, "--will-retain", O_WILL_RETAIN, 0, PS, NULL},
	{NULL, "--quiet", O_QUIET, 0, PS, NULL},
	{NULL, "--help", O_HELP, 0, PS, NULL},
	{NULL, "--version", O_VERSION, 0, PS, NULL},
	{NULL, "--nodelay", O_NODELAY, 0, PS, NULL},
	{NULL, "--cafile", O_CAFILE, 1, PS, "certificate authority file"},
	{NULL, "--capath", O_CAPATH, 1, PS, "certificate authority path"},
	{NULL, "--cert", O_CERT, 1, PS, "client certificate"},
	{NULL, "--key", O_KEY, 1, PS, "client key"},
	{NULL, "--insecure", O_INSECURE, 0, PS, NULL},
	{NULL, "--tls-version", O_TLS_VERSION, 1, PS, "TLS version"},
	{NULL, "--ciphers", O_CIPHERS, 1, PS, "ciphers"},
	{NULL, "--psk", O_PSK, 1, PS, "key"},
	{NULL, "--psk-identity", O_PSK_IDENTITY, 1, PS, "identity"},
	{NULL, "--tls-alpn", O_ALPN, 1, PS, "protocol"},
	{NULL, "--ws", O_WS, 0, PS, NULL},
	{NULL, "--ws-path", O_WS_PATH, 1, PS, "path"},
	{"-M", NULL, O_MAX_INFLIGHT, 1, P, "max inflight"},
	{"-m", "--message", O_MESSAGE, 1, P, "message"},
	{"-f", "--file", O_FILE, 1, P, "file"},
	{"-l", "--stdin-line", O_LINES, 0, P, NULL},
	{"-n", "--null-message", O_NULL, 0, P, NULL},
	{"-s", "--stdin-file", O_STDIN, 0, P, NULL},
	{"-r", "--retain", O_RETAIN, 0, P, NULL},
	{NULL, "--repeat", O_REPEAT, 1, P, "count"},
	{NULL, "--repeat-delay", O_REPEAT_DELAY, 1, P, "time"},
	{"-C", NULL, O_COUNT, 1, S, "count"},
	{"-E", NULL, O_EXIT_AFTER_SUB, 0, S, NULL},
	{"-F", NULL, O_FORMAT, 1, S, "format"},
	{"-N", NULL, O_NO_EOL, 0, S, NULL},
	{"-R", NULL, O_NO_RETAIN, 0, S, NULL},
	{"-T", "--filter-out", O_FILTER_OUT, 1, S, "topic filter"},
	{"-U", "--unsubscribe", O_UNSUB, 1, S, "unsubscribe topic"},
	{"-v", "--verbose", O_VERBOSE, 0, S, NULL},
	{"-W", NULL, O_TIMEOUT, 1, S, "timeout"},
	{NULL, "--retained-only", O_RETAINED_ONLY, 0, S, NULL},
	{NULL, "--remove-retained", O_REMOVE_RETAINED, 0, S, NULL},
};

static const struct opt *find_opt(const char *arg, int kind)
{
	for (size_t i = 0; i < WMQ_ARRAY_LEN(opts); i++) {
		const struct opt *o = &opts[i];
		if (!(o->kinds & (unsigned)kind))
			continue;
		if ((o->s && strcmp(o->s, arg) == 0) || (o->l && strcmp(o->l, arg) == 0))
			return o;
	}
	return NULL;
}

WMQ_PRINTF(2, 3) static void perr(FILE *err, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
}

/* Decimal integer in [lo, hi]; false on junk or range. */
static bool parse_long(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool set_str(char **dst, const char *s)
{
	char *n = wmq_strdup(s);
	if (!n)
		return false;
	wmq_free(*dst);
	*dst = n;
	return true;
}

static bool push_str(char ***arr, size_t *n, const char *s)
{
	char **a = wmq_reallocarray(*arr, *n + 1, sizeof(char *));
	if (!a)
		return false;
	*arr = a;
	if (!(a[*n] = wmq_strdup(s)))
		return false;
	(*n)++;
	return true;
}

static void init_cfg(struct wmq_tool_cfg *cfg, int kind, const char *prog)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->kind = kind;
	cfg->prog = prog;
	cfg->version = WMQ_PROTOCOL_V311;
	cfg->keepalive = 60;
	cfg->clean = true;
	cfg->session_expiry = -1;
	cfg->eol = true;
	cfg->repeat = 1;
	cfg->max_inflight = 20;
}

void wmq_tool_cfg_cleanup(struct wmq_tool_cfg *cfg)
{
	wmq_free(cfg->host);
	wmq_free(cfg->id);
	wmq_free(cfg->id_prefix);
	wmq_free(cfg->username);
	if (cfg->password)
		memset(cfg->password, 0, strlen(cfg->password));
	wmq_free(cfg->password);
	wmq_free(cfg->will_topic);
	wmq_free(cfg->will_payload);
	for (size_t i = 0; i < WMQ_TOOL_NPROPS; i++)
		wmq_properties_free(cfg->props[i]);
	wmq_free(cfg->topic);
	wmq_free(cfg->message);
	wmq_free(cfg->file);
	for (size_t i = 0; i < cfg->n_topics; i++)
		wmq_free(cfg->topics[i]);
	wmq_free(cfg->topics);
	for (size_t i = 0; i < cfg->n_filter_outs; i++)
		wmq_free(cfg->filter_outs[i]);
	wmq_free(cfg->filter_outs);
	for (size_t i = 0; i < cfg->n_unsub_topics; i++)
		wmq_free(cfg->unsub_topics[i]);
	wmq_free(cfg->unsub_topics);
	wmq_free(cfg->format);
	wmq_free(cfg->cafile);
	wmq_free(cfg->capath);
	wmq_free(cfg->certfile);
	wmq_free(cfg->keyfile);
	wmq_free(cfg->tls_version);
	wmq_free(cfg->ciphers);
	if (cfg->psk)
		memset(cfg->psk, 0, strlen(cfg->psk));
	wmq_free(cfg->psk);
	wmq_free(cfg->psk_identity);
	wmq_free(cfg->alpn);
	wmq_free(cfg->ws_path);
	memset(cfg, 0, sizeof *cfg);
}

static int add_topic(struct wmq_tool_cfg *cfg, const char *t, FILE *err)
{
	if (cfg->kind == WMQ_TOOL_PUB) {
		if (cfg->topic) {
			perr(err, "Error: Duplicate topic argument given.\n\n");
			return -1;
		}
		if (!wmq_topic_name_is_valid(t)) {
			perr(err, "Error: Invalid publish topic '%s', does it contain '+' or '#'?\n", t);
			return -1;
		}
		return set_str(&cfg->topic, t) ? 0 : -1;
	}
	if (!wmq_topic_filter_is_valid(t)) {
		perr(err, "Error: Invalid subscription topic '%s', are all '+' and '#' wildcards correct?\n",
		     t);
		return -1;
	}
	return push_str(&cfg->topics, &cfg->n_topics, t) ? 0 : -1;
}

static int set_src(struct wmq_tool_cfg *cfg, int src, FILE *err)
{
	if (cfg->src != WMQ_SRC_NONE) {
		perr(err, "Error: Only one type of message can be sent at once.\n\n");
		return -1;
	}
	cfg->src = src;
	return 0;
}

static int apply_url(struct wmq_tool_cfg *cfg, const char *url, FILE *err)
{
	struct wmq_tool_url u;
	char ebuf[160];
	int rc = -1;
	if (wmq_tool_url_parse(url, &u, ebuf, sizeof ebuf) != 0) {
		perr(err, "Error: %s\n", ebuf);
		return -1;
	}
	if (u.username && !set_str(&cfg->username, u.username))
		goto out;
	if (u.password && !set_str(&cfg->password, u.password))
		goto out;
	if (!set_str(&cfg->host, u.host))
		goto out;
	if (u.port)
		cfg->port = u.port;
	else if (u.ws)
		cfg->port = u.tls ? 443 : 80;
	else if (u.tls)
		cfg->port = 8883;
	if (u.tls)
		cfg->url_tls = true;
	if (u.ws) {
		cfg->ws = true;
		if (u.path && !set_str(&cfg->ws_path, u.path))
			goto out;
	} else if (add_topic(cfg, u.topic, err) != 0) {
		goto out;
	}
	rc = 0;
out:
	wmq_tool_url_cleanup(&u);
	return rc;
}

/* Apply option |o| with its arguments |a|. */
static int apply(struct wmq_tool_cfg *cfg, const struct opt *o, char **a, FILE *err)
{
	long long v;
	char ebuf[200];
	switch (o->id) {
	case O_HOST:
		return set_str(&cfg->host, a[0]) ? 0 : -1;
	case O_PORT:
		if (!parse_long(a[0], 1, 65535, &v)) {
			perr(err, "Error: Invalid port given: %s\n", a[0]);
			return -1;
		}
		cfg->port = (int)v;
		return 0;
	case O_TOPIC:
		return add_topic(cfg, a[0], err);
	case O_USER:
		return set_str(&cfg->username, a[0]) ? 0 : -1;
	case O_PASS:
		return set_str(&cfg->password, a[0]) ? 0 : -1;
	case O_ID:
		if (cfg->id_prefix) {
			perr(err, "Error: -i and -I argument cannot be used together.\n\n");
			return -1;
		}
		return set_str(&cfg->id, a[0]) ? 0 : -1;
	case O_ID_PREFIX:
		if (cfg->id) {
			perr(err, "Error: -i and -I argument cannot be used together.\n\n");
			return -1;
		}
		return set_str(&cfg->id_prefix, a[0]) ? 0 : -1;
	case O_KEEPALIVE:
		if (!parse_long(a[0], 0, 65535, &v) || (v > 0 && v < 5)) {
			perr(err, "Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.\n\n");
			return -1;
		}
		cfg->keepalive = (int)v;
		return 0;
	case O_NOCLEAN:
		cfg->clean = false;
		return 0;
	case O_EXPIRY:
		if (strcmp(a[0], "\xe2\x88\x9e") == 0 || strcmp(a[0], "-1") == 0) {
			cfg->session_expiry = UINT32_MAX; /* never expires */
			return 0;
		}
		if (!parse_long(a[0], 0, UINT32_MAX, &v)) {
			perr(err, "Error: session-expiry-interval not between 0 and 4294967295.\n\n");
			return -1;
		}
		cfg->session_expiry = v;
		return 0;
	case O_VERSION_ARG:
		if (!strcmp(a[0], "mqttv31") || !strcmp(a[0], "31")) {
			cfg->version = WMQ_PROTOCOL_V31;
		} else if (!strcmp(a[0], "mqttv311") || !strcmp(a[0], "311")) {
			cfg->version = WMQ_PROTOCOL_V311;
		} else if (!strcmp(a[0], "mqttv5") || !strcmp(a[0], "5")) {
			cfg->version = WMQ_PROTOCOL_V5;
		} else {
			perr(err, "Error: Invalid protocol version argument given.\n\n");
			return -1;
		}
		return 0;
	case O_QOS:
	case O_WILL_QOS:
		if (!parse_long(a[0], 0, 2, &v)) {
			perr(err, "Error: Invalid %s given: %s\n", o->id == O_QOS ? "QoS" : "will QoS",
			     a[0]);
			return -1;
		}
		if (o->id == O_QOS)
			cfg->qos = (int)v;
		else
			cfg->will_qos = (int)v;
		return 0;
	case O_DEBUG:
		cfg->debug = true;
		return 0;
	case O_PROPERTY: {
		/* user-property takes a name and a value: a fourth argument */
		const char *v2 = NULL;
		if (strcmp(a[1], "user-property") == 0)
			v2 = a[3];
		if (wmq_tool_property_add(cfg, a[0], a[1], a[2], v2, ebuf, sizeof ebuf) != 0) {
			perr(err, "Error: %s\n\n", ebuf);
			return -1;
		}
		return 0;
	}
	case O_URL:
		return apply_url(cfg, a[0], err);
	case O_WILL_TOPIC:
		if (!wmq_topic_name_is_valid(a[0])) {
			perr(err, "Error: Invalid will topic '%s', does it contain '+' or '#'?\n", a[0]);
			return -1;
		}
		return set_str(&cfg->will_topic, a[0]) ? 0 : -1;
	case O_WILL_PAYLOAD:
		return set_str(&cfg->will_payload, a[0]) ? 0 : -1;
	case O_WILL_RETAIN:
		cfg->will_retain = true;
		return 0;
	case O_QUIET:
		cfg->quiet = true;
		return 0;
	case O_NODELAY:
		cfg->nodelay = true;
		return 0;
	case O_MAX_INFLIGHT:
		if (!parse_long(a[0], 1, 65535, &v)) {
			perr(err, "Error: Maximum inflight messages must be greater than 0.\n\n");
			return -1;
		}
		cfg->max_inflight = (int)v;
		return 0;
	case O_MESSAGE:
		if (set_src(cfg, WMQ_SRC_MESSAGE, err) != 0)
			return -1;
		return set_str(&cfg->message, a[0]) ? 0 : -1;
	case O_FILE:
		if (set_src(cfg, WMQ_SRC_FILE, err) != 0)
			return -1;
		return set_str(&cfg->file, a[0]) ? 0 : -1;
	case O_LINES:
		return set_src(cfg, WMQ_SRC_LINES, err);
	case O_NULL:
		return set_src(cfg, WMQ_SRC_NULL, err);
	case O_STDIN:
		return set_src(cfg, WMQ_SRC_STDIN, err);
	case O_RETAIN:
		cfg->retain = true;
		return 0;
	case O_REPEAT:
		if (!parse_long(a[0], 1, INT32_MAX, &v)) {
			perr(err, "Error: --repeat argument must be >0.\n\n");
			return -1;
		}
		cfg->repeat = (long)v;
		return 0;
	case O_REPEAT_DELAY: {
		char *end;
		errno = 0;
		double d = strtod(a[0], &end);
		if (errno || end == a[0] || *end || !(d >= 0.0) || d > 86400.0) {
			perr(err, "Error: --repeat-delay argument must be >=0.0.\n\n");
			return -1;
		}
		cfg->repeat_delay = d;
		return 0;
	}
	case O_COUNT:
		if (!parse_long(a[0], 1, INT32_MAX, &v)) {
			perr(err, "Error: Invalid message count \"%s\".\n\n", a[0]);
			return -1;
		}
		cfg->msg_count = (long)v;
		return 0;
	case O_EXIT_AFTER_SUB:
		cfg->exit_after_sub = true;
		return 0;
	case O_FORMAT:
		if (wmq_tool_format_check(a[0], ebuf, sizeof ebuf) != 0) {
			perr(err, "Error: %s\n", ebuf);
			return -1;
		}
		return set_str(&cfg->format, a[0]) ? 0 : -1;
	case O_NO_EOL:
		cfg->eol = false;
		return 0;
	case O_NO_RETAIN:
		cfg->no_retain = true;
		return 0;
	case O_FILTER_OUT:
		if (!wmq_topic_filter_is_valid(a[0])) {
			perr(err, "Error: Invalid filter topic '%s', are all '+' and '#' wildcards correct?\n",
			     a[0]);
			return -1;
		}
		return push_str(&cfg->filter_outs, &cfg->n_filter_outs, a[0]) ? 0 : -1;
	case O_UNSUB:
		if (!wmq_topic_filter_is_valid(a[0])) {
			perr(err, "Error: Invalid unsubscribe topic '%s', are all '+' and '#' wildcards correct?\n",
			     a[0]);
			return -1;
		}
		return push_str(&cfg->unsub_topics, &cfg->n_unsub_topics, a[0]) ? 0 : -1;
	case O_VERBOSE:
		cfg->verbose = true;
		return 0;
	case O_TIMEOUT:
		if (!parse_long(a[0], 1, 3600 * 24 * 365, &v)) {
			perr(err, "Error: Invalid timeout \"%s\".\n\n", a[0]);
			return -1;
		}
		cfg->timeout = (long)v;
		return 0;
	case O_RETAINED_ONLY:
		cfg->retained_only = true;
		return 0;
	case O_CAFILE:
		return set_str(&cfg->cafile, a[0]) ? 0 : -1;
	case O_CAPATH:
		return set_str(&cfg->capath, a[0]) ? 0 : -1;
	case O_CERT:
		return set_str(&cfg->certfile, a[0]) ? 0 : -1;
	case O_KEY:
		return set_str(&cfg->keyfile, a[0]) ? 0 : -1;
	case O_INSECURE:
		cfg->insecure = true;
		return 0;
	case O_TLS_VERSION:
		if (strcmp(a[0], "tlsv1.3") != 0 && strcmp(a[0], "tlsv1.2") != 0 &&
		    strcmp(a[0], "tlsv1.1") != 0) {
			perr(err, "Error: Invalid TLS version '%s' (tlsv1.3, tlsv1.2 or tlsv1.1).\n\n",
			     a[0]);
			return -1;
		}
		return set_str(&cfg->tls_version, a[0]) ? 0 : -1;
	case O_CIPHERS:
		return set_str(&cfg->ciphers, a[0]) ? 0 : -1;
	case O_PSK: {
		size_t n = strlen(a[0]);
		bool hex = n > 0 && n <= 512;
		for (size_t i = 0; hex && i < n; i++)
			hex = (a[0][i] >= '0' && a[0][i] <= '9') || (a[0][i] >= 'a' && a[0][i] <= 'f') ||
			      (a[0][i] >= 'A' && a[0][i] <= 'F');
		if (!hex) {
			perr(err, "Error: Invalid PSK '%s', it must be given in hexadecimal.\n\n", a[0]);
			return -1;
		}
		return set_str(&cfg->psk, a[0]) ? 0 : -1;
	}
	case O_PSK_IDENTITY:
		return set_str(&cfg->psk_identity, a[0]) ? 0 : -1;
	case O_WS:
		cfg->ws = true;
		return 0;
	case O_WS_PATH:
		if (a[0][0] != '/' || strlen(a[0]) > 1024 || strpbrk(a[0], " \t\r\n")) {
			perr(err, "Error: Invalid WebSocket path '%s' (must start with '/').\n\n", a[0]);
			return -1;
		}
		return set_str(&cfg->ws_path, a[0]) ? 0 : -1;
	case O_ALPN:
		if (strlen(a[0]) == 0 || strlen(a[0]) > 255) {
			perr(err, "Error: Invalid ALPN protocol '%s'.\n\n", a[0]);
			return -1;
		}
		return set_str(&cfg->alpn, a[0]) ? 0 : -1;
	case O_REMOVE_RETAINED:
		cfg->remove_retained = true;
		return 0;
	default:
		return -1;
	}
}

/* TLS flag combinations, as mosquitto's client_shared.c checks them. */
static int validate_tls(struct wmq_tool_cfg *cfg, FILE *err)
{
	if ((cfg->certfile && !cfg->keyfile) || (cfg->keyfile && !cfg->certfile)) {
		perr(err, "Error: Both certfile and keyfile must be provided if one of them is set.\n");
		return -1;
	}
	if (cfg->psk && (cfg->cafile || cfg->capath)) {
		perr(err, "Error: Only one of --psk or --cafile/--capath may be used at once.\n");
		return -1;
	}
	if (cfg->psk && !cfg->psk_identity) {
		perr(err, "Error: --psk-identity required if --psk used.\n");
		return -1;
	}
	if (cfg->psk_identity && !cfg->psk) {
		perr(err, "Error: --psk required if --psk-identity used.\n");
		return -1;
	}
	cfg->use_tls = cfg->cafile || cfg->capath || cfg->certfile || cfg->psk || cfg->url_tls;
	if (cfg->ws_path && !cfg->ws)
		cfg->ws = true; /* --ws-path implies --ws */
	if (cfg->ws && cfg->port == 0)
		cfg->port = cfg->use_tls ? 443 : 80;
	if (!cfg->use_tls)
		return 0;
	if (cfg->port == 0)
		cfg->port = 8883;
	wmq_tls_opts *t = &cfg->tls_opts;
	wmq_tls_opts_init(t);
	t->cafile = cfg->cafile;
	t->capath = cfg->capath;
	t->certfile = cfg->certfile;
	t->keyfile = cfg->keyfile;
	t->insecure = cfg->insecure;
	t->tls_version = cfg->tls_version;
	t->ciphers = cfg->ciphers;
	t->psk = cfg->psk;
	t->psk_identity = cfg->psk_identity;
	t->alpn = cfg->alpn;
	return 0;
}

/* Checks that need every option seen. */
static int validate(struct wmq_tool_cfg *cfg, FILE *err)
{
	if (cfg->will_payload && !cfg->will_topic) {
		perr(err, "Error: Will payload given, but no will topic given.\n");
		return -1;
	}
	if (cfg->will_retain && !cfg->will_topic) {
		perr(err, "Error: Will retain given, but no will topic given.\n");
		return -1;
	}
	bool have_id = cfg->id && !cfg->id_prefix;
	if (cfg->version == WMQ_PROTOCOL_V5) {
		/* -c without -x: a session that never expires */
		if (!cfg->clean && cfg->session_expiry == -1)
			cfg->session_expiry = UINT32_MAX;
		if (cfg->session_expiry == UINT32_MAX && !have_id) {
			perr(err, "Error: You must provide a client id if you are using an infinite session expiry interval.\n");
			return -1;
		}
	} else if (!cfg->clean && !have_id) {
		perr(err, "Error: You must provide a client id if you are using the -c option.\n");
		return -1;
	}
	if (cfg->version == WMQ_PROTOCOL_V31 && cfg->id && strlen(cfg->id) > 23) {
		perr(err, "Error: Client id must be at most 23 characters with MQTT v3.1.\n");
		return -1;
	}
	if (cfg->kind == WMQ_TOOL_PUB) {
		if (!cfg->topic || cfg->src == WMQ_SRC_NONE) {
			perr(err, "Error: Both topic and message must be supplied.\n");
			return -1;
		}
	} else {
		if (cfg->n_topics == 0 && cfg->n_unsub_topics == 0) {
			perr(err, "Error: You must specify a topic to subscribe to (-t) or unsubscribe from (-U).\n");
			return -1;
		}
		if (cfg->no_retain && cfg->retained_only) {
			perr(err, "\nError: Combining '-R' and '--retained-only' makes no sense.\n");
			return -1;
		}
	}
	if (validate_tls(cfg, err) != 0)
		return -1;
	if (!cfg->host && !set_str(&cfg->host, "localhost"))
		return -1;
	return 0;
}

int wmq_tool_parse(struct wmq_tool_cfg *cfg, int kind, int argc, char **argv, FILE *err)
{
	const char *prog = kind == WMQ_TOOL_PUB ? "wardmq_pub" : "wardmq_sub";
	init_cfg(cfg, kind, prog);
	/* bounded by argc */
	for (int i = 1; i < argc; i++) {
		const struct opt *o = find_opt(argv[i], kind);
		if (!o) {
			perr(err, "Error: Unknown option '%s'.\n", argv[i]);
			goto fail;
		}
		if (o->id == O_HELP)
			return WMQ_TOOL_HELP;
		if (o->id == O_VERSION)
			return WMQ_TOOL_VERSION;
		int need = o->nargs;
		if (o->id == O_PROPERTY && i + 2 < argc && strcmp(argv[i + 2], "user-property") == 0)
			need = 4;
		if (argc - 1 - i < need) {
			if (o->id == O_PROPERTY)
				perr(err, "Error: %s argument given but not enough arguments specified.\n\n",
				     argv[i]);
			else
				perr(err, "Error: %s argument given but no %s specified.\n\n", argv[i],
				     o->what);
			goto fail;
		}
		if (apply(cfg, o, &argv[i + 1], err) != 0)
			goto fail;
		i += need;
	}
	if (validate(cfg, err) != 0)
		goto fail;
	return WMQ_TOOL_RUN;
fail:
	perr(err, "\nUse '%s --help' to see usage.\n", prog);
	return WMQ_TOOL_ERROR;
}

int wmq_tool_start(struct wmq_tool_cfg *cfg, int kind, int argc, char **argv)
{
	int prc = wmq_tool_parse(cfg, kind, argc, argv, stderr);
	if (prc == WMQ_TOOL_RUN)
		return -1;
	if (prc == WMQ_TOOL_HELP)
		wmq_tool_usage(kind, stdout);
	else if (prc == WMQ_TOOL_VERSION)
		printf("%s version %s running on libwardmq %s.\n", kind == WMQ_TOOL_PUB ? "wardmq_pub" : "wardmq_sub",
		       WMQ_VERSION, wmq_lib_version(NULL, NULL, NULL));
	wmq_tool_cfg_cleanup(cfg);
	return prc == WMQ_TOOL_HELP || prc == WMQ_TOOL_VERSION ? 0 : 1;
}

void wmq_tool_usage(int kind, FILE *out)
{
	bool pub = kind == WMQ_TOOL_PUB;
	const char *prog = pub ? "wardmq_pub" : "wardmq_sub";
	fprintf(out, "%s is a simple MQTT client that will %s.\n", prog,
		pub ? "publish a message on a single topic and exit"
		    : "subscribe to a set of topics and print all messages it receives");
	fprintf(out, "%s version %s running on libwardmq %s.\n\n", prog, WMQ_VERSION,
		wmq_lib_version(NULL, NULL, NULL));
	if (pub) {
		fprintf(out,
			"Usage: wardmq_pub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL}\n"
			"                  {-f file | -l | -n | -m message | -s}\n"
			"                  [-c] [-k keepalive] [-q qos] [-r] [--repeat N] [--repeat-delay time]\n"
			"                  [-x session-expiry] [-i id] [-I id_prefix] [-M max_inflight]\n");
	} else {
		fprintf(out,
			"Usage: wardmq_sub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL [-t topic]}\n"
			"                  [-c] [-k keepalive] [-q qos] [-x session-expiry]\n"
			"                  [-C msg_count] [-E] [-R] [--retained-only] [--remove-retained]\n"
			"                  [-T filter_out] [-U topic] [-F format] [-W timeout_secs]\n"
			"                  [-i id] [-I id_prefix] [-N] [-v]\n");
	}
	fprintf(out,
		"                  [-d] [--quiet] [--nodelay] [-V protocol-version]\n"
		"                  [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]\n"
		"                  [-D command identifier value]\n"
		"                  [{--cafile file | --capath dir} [--cert file] [--key file]\n"
		"                    [--ciphers ciphers] [--insecure] [--tls-alpn protocol]\n"
		"                    [--tls-version version]]\n"
		"                  [--psk hex-key --psk-identity identity [--ciphers ciphers]]\n"
		"                  [--ws [--ws-path path]]\n"
		"       %s --help | --version\n\n",
		prog);
	fprintf(out, " -c : disable clean session / keep the session (MQTT 5: session expiry -1 unless -x).\n");
	if (!pub) {
		fprintf(out, " -C : disconnect and exit after receiving 'msg_count' messages.\n");
	}
	fprintf(out, " -d : enable debug messages.\n"
		     " -D : define an MQTT v5 property: -D command name value, e.g.\n"
		     "      -D publish content-type text/plain, -D connect user-property key value.\n");
	if (!pub)
		fprintf(out, " -E : exit once all subscriptions have been acknowledged by the broker.\n"
			     " -F : output format (%%t topic, %%p payload, %%q qos, %%r retain, %%l length,\n"
			     "      %%m message id, %%x/%%X hex payload, %%I ISO-8601 time, %%U unix time,\n"
			     "      %%P user properties, %%C %%D %%E %%F %%R %%S %%A v5 properties, @X strftime).\n");
	else
		fprintf(out, " -f : send the contents of a file as the message.\n");
	fprintf(out, " -h : mqtt host to connect to. Defaults to localhost.\n"
		     " -i : id to use for this client. Defaults to a server-assigned id.\n"
		     " -I : define the client id as id_prefix appended with the process id.\n"
		     " -k : keep alive in seconds for this client. Defaults to 60.\n"
		     " -L : specify user, password, hostname, port and topic as a URL in the form:\n"
		     "      mqtt(s)://[username[:password]@]host[:port]/topic\n"
		     "      (mqtts: TLS, port 8883 by default, CA from --cafile or the system's),\n"
		     "      or ws(s)://[username[:password]@]host[:port][/path] for WebSockets\n"
		     "      (wss: over TLS; ports 80 / 443 by default; the path defaults to /mqtt\n"
		     "      and the topic is given with -t).\n");
	if (pub)
		fprintf(out, " -l : read messages from stdin, sending a separate message for each line.\n"
			     " -m : message payload to send.\n"
			     " -M : the maximum inflight messages for QoS 1/2.\n"
			     " -n : send a null (zero length) message.\n");
	else
		fprintf(out, " -N : do not add an end of line character when printing the payload.\n");
	fprintf(out, " -p : network port to connect to. Defaults to 1883.\n"
		     " -P : provide a password\n"
		     " -q : quality of service level to use. Defaults to 0.\n");
	if (pub)
		fprintf(out, " -r : message should be retained.\n"
			     " -s : read message from stdin, sending the entire input as a message.\n"
			     " -t : mqtt topic to publish to.\n");
	else
		fprintf(out, " -R : do not print stale messages (those with retain set).\n"
			     " -t : mqtt topic to subscribe to. May be repeated multiple times.\n"
			     " -T : topic string to filter out of results. May be repeated.\n"
			     " -U : unsubscribe from a topic. May be repeated.\n"
			     " -v : print published messages verbosely.\n");
	fprintf(out, " -u : provide a username\n"
		     " -V : protocol version: mqttv5, mqttv311 or mqttv31 (5, 311, 31). Defaults to mqttv311.\n");
	if (!pub)
		fprintf(out, " -W : timeout in seconds after which to stop (exit status 27).\n");
	fprintf(out, " -x : session-expiry-interval property (MQTT v5): 0-4294967294, or -1 for never.\n"
		     " --help : display this message.\n"
		     " --nodelay : disable Nagle's algorithm.\n"
		     " --quiet : don't print error messages.\n");
	if (pub)
		fprintf(out, " --repeat : repeat the publish N times (-f, -m, -n, -s).\n"
			     " --repeat-delay : seconds to wait between repeats. Defaults to 0.\n");
	else
		fprintf(out, " --retained-only : only handle retained messages, exit at the first other one.\n"
			     " --remove-retained : clear the retained messages received (use -T to spare some).\n");
	fprintf(out, " --cafile : path to a file containing trusted CA certificates to enable encrypted\n"
		     "            communication (TLS; the default port becomes 8883).\n"
		     " --capath : path to a directory containing trusted CA certificates to enable encrypted\n"
		     "            communication.\n"
		     " --cert : client certificate for authentication, if required by server.\n"
		     " --key : client private key for authentication, if required by server.\n"
		     " --ciphers : openssl compatible list of TLS ciphers to support in the client.\n"
		     " --insecure : do not check that the server certificate hostname matches the remote\n"
		     "              hostname. Using this option means that you cannot be sure that the\n"
		     "              remote host is the server you wish to connect to and so is insecure.\n"
		     "              Do not use this option in a production environment.\n"
		     " --tls-alpn : TLS application layer protocol negotiation (ALPN) protocol to offer.\n"
		     " --tls-version : minimum TLS protocol version: tlsv1.3, tlsv1.2 (default) or tlsv1.1.\n"
		     " --psk : pre-shared-key in hexadecimal (no leading 0x) to enable TLS-PSK mode.\n"
		     " --psk-identity : client identity string for TLS-PSK mode.\n"
		     " --ws : connect with MQTT over WebSockets (subprotocol mqtt; over TLS when a TLS\n"
		     "        option is given). The default port becomes 80 (443 with TLS).\n"
		     " --ws-path : request path of the WebSocket upgrade. Defaults to /mqtt.\n");
	fprintf(out, " --version : print the version and exit.\n"
		     " --will-payload : payload for the client Will.\n"
		     " --will-qos : QoS level for the client Will.\n"
		     " --will-retain : make the client Will retained.\n"
		     " --will-topic : the topic on which to publish the client Will.\n\n"
		     "See docs/CLIENT.md for more information.\n");
}
