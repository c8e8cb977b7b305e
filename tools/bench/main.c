/* SPDX-License-Identifier: MIT
 * main.c - wardmq_bench: an MQTT load generator.
 *
 *   wardmq_bench SCENARIO [options]
 *
 * Scenarios: conn (connection rate, idle memory), pub, sub, fanin, fanout,
 * pairs (see usage() and bench/README.md). This file parses the options,
 * lays out the clients over the workers, starts the worker threads (worker
 * 0 is the main thread), and prints the summary (text, or one line of flat
 * JSON with --json) once the controller has reached DONE.
 * Exit status: 0 = the run completed, 1 = it was aborted (connect or
 * subscribe failures, timeouts, interrupted), 2 = bad usage.
 * Threading: main thread; see bench.h for the workers. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bench.h"
#include "common/alloc.h"

static void usage(FILE *f)
{
	fputs("Usage: wardmq_bench SCENARIO [options]\n"
	      "\n"
	      "Scenarios (-c N sets the connection count as shown):\n"
	      "  conn     open N connections (CONNECT/CONNACK); connects/s and handshake\n"
	      "           latency; then keep them idle for -d s (broker memory per idle\n"
	      "           connection with --broker-pid), or with --churn close and reopen\n"
	      "           them for -d s (sustained connects/s)\n"
	      "  pub      N publishers, no subscriber (broker ingest)\n"
	      "  sub      N subscribers on --filter (default PREFIX/#); publish from\n"
	      "           another wardmq_bench pub for end-to-end latency\n"
	      "  fanin    N publishers -> 1 subscriber (PREFIX/fanin/+)\n"
	      "  fanout   1 publisher -> N subscribers (PREFIX/fanout)\n"
	      "  pairs    N publisher/subscriber pairs on separate topics (2N connections)\n"
	      "\n"
	      "Options:\n"
	      "  -h HOST            broker address (default 127.0.0.1)\n"
	      "  -p PORT            broker port (default 1883)\n"
	      "  -c N               connections (default 10; conn: 100, sub: 1)\n"
	      "      --pubs N       override the number of publishers\n"
	      "      --subs N       override the number of subscribers\n"
	      "  -q QOS             0, 1 or 2 (default 0), for PUBLISH and SUBSCRIBE\n"
	      "  -s BYTES           payload size (default 64; >= 20 carries a timestamp for\n"
	      "                     latency and a sequence number for duplicate detection)\n"
	      "  -d SECONDS         run (or hold) duration (default 5)\n"
	      "  -r RATE            total target msg/s over all publishers (default 0 = as\n"
	      "                     fast as the window and the socket allow)\n"
	      "  -w N               QoS 1/2 messages in flight per publisher (default 20)\n"
	      "  -V 311|5           MQTT version (default 311; also mqttv311, mqttv5)\n"
	      "  -k SECONDS         keepalive (default 60)\n"
	      "  -t N               worker threads, one epoll loop each (default 1)\n"
	      "  -u USER, -P PASS   credentials; %n is replaced by the client's index in\n"
	      "                     its role (pairs: publisher i and subscriber i share\n"
	      "                     it), e.g. -u 'dev%n' -P 'pw-%n': one user per client\n"
	      "      --cafile F     TLS 1.3, trusting the CA certificates in F (the\n"
	      "                     broker's name is not checked: loopback)\n"
	      "      --cert F, --key F  client certificate and key for TLS\n"
	      "      --persistent   clean start 0 and a session expiry for every client\n"
	      "      --offline      subscribers subscribe with persistent sessions, go\n"
	      "                     offline while the publishers send, then reconnect and\n"
	      "                     drain the queued messages (fanin, fanout, pairs)\n"
	      "      --session-expiry S  session expiry for persistent sessions, MQTT 5\n"
	      "                     (default 600)\n"
	      "      --churn        conn: close and reopen connections for -d seconds\n"
	      "      --conn-window N  handshakes in progress at once (default 100)\n"
	      "      --burst N      messages per publisher per loop turn at -r 0 (default 64)\n"
	      "      --drain-timeout S  wait for in-transit/queued messages (default 10;\n"
	      "                     60 with --offline)\n"
	      "      --phase-timeout S  connect/subscribe/close phases (default 30)\n"
	      "      --topic-prefix P  topic prefix (default wardmq-bench)\n"
	      "      --filter F     subscription filter for the sub scenario\n"
	      "      --id-prefix P  client id prefix (default wb<pid>-)\n"
	      "      --broker-pid PID  sample the broker's VmRSS and CPU time from /proc/PID\n"
	      "      --json         print the summary as one JSON object on stdout\n"
	      "  -Q, --quiet        no progress line\n"
	      "      --help         this text\n"
	      "\n"
	      "Progress goes to stderr once a second. The summary reports msg/s sent,\n"
	      "acknowledged and received, losses (expected deliveries, counting fan-out,\n"
	      "minus unique messages received), duplicates, end-to-end latency\n"
	      "p50/p99/max (CLOCK_MONOTONIC timestamp in the payload), PUBACK/PUBCOMP\n"
	      "latency, and connects/s. Exit status 0 = completed, 1 = aborted, 2 = usage.\n",
	      f);
}

enum {
	OPT_PUBS = 256,
	OPT_SUBS,
	OPT_PERSISTENT,
	OPT_OFFLINE,
	OPT_EXPIRY,
	OPT_CHURN,
	OPT_CONN_WINDOW,
	OPT_BURST,
	OPT_DRAIN,
	OPT_PHASE,
	OPT_PREFIX,
	OPT_FILTER,
	OPT_ID_PREFIX,
	OPT_BROKER_PID,
	OPT_JSON,
	OPT_CAFILE,
	OPT_CERT,
	OPT_KEY,
	OPT_HELP,
};

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "wardmq_bench: bad value for %s: '%s' (see --help)\n", opt, val);
	return 2;
}

/* Parse argv into |cfg|. Returns 0, 2 on a usage error, or -1 for --help. */
static int parse_args(int argc, char **argv, struct wmq_bench_cfg *cfg)
{
	static const struct option longs[] = {
		{"pubs", required_argument, NULL, OPT_PUBS},
		{"subs", required_argument, NULL, OPT_SUBS},
		{"persistent", no_argument, NULL, OPT_PERSISTENT},
		{"offline", no_argument, NULL, OPT_OFFLINE},
		{"session-expiry", required_argument, NULL, OPT_EXPIRY},
		{"churn", no_argument, NULL, OPT_CHURN},
		{"conn-window", required_argument, NULL, OPT_CONN_WINDOW},
		{"burst", required_argument, NULL, OPT_BURST},
		{"drain-timeout", required_argument, NULL, OPT_DRAIN},
		{"phase-timeout", required_argument, NULL, OPT_PHASE},
		{"topic-prefix", required_argument, NULL, OPT_PREFIX},
		{"filter", required_argument, NULL, OPT_FILTER},
		{"id-prefix", required_argument, NULL, OPT_ID_PREFIX},
		{"broker-pid", required_argument, NULL, OPT_BROKER_PID},
		{"json", no_argument, NULL, OPT_JSON},
		{"cafile", required_argument, NULL, OPT_CAFILE},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{"quiet", no_argument, NULL, 'Q'},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	long v;
	double d;
	bool drain_set = false, conns_set = false;
	int opt;

	memset(cfg, 0, sizeof *cfg);
	cfg->host = "127.0.0.1";
	cfg->port = 1883;
	cfg->conns = 10;
	cfg->pubs = -1;
	cfg->subs = -1;
	cfg->size = 64;
	cfg->duration = 5;
	cfg->version = WMQ_PROTOCOL_V311;
	cfg->threads = 1;
	cfg->window = 20;
	cfg->conn_window = 100;
	cfg->burst = 64;
	cfg->keepalive = 60;
	cfg->session_expiry = 600;
	cfg->drain_timeout = 10;
	cfg->phase_timeout = 30;
	cfg->prefix = "wardmq-bench";

	if (argc >= 2 && strcmp(argv[1], "--help") == 0)
		return -1;
	if (argc < 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	const char *sc = argv[1];
	if (strcmp(sc, "conn") == 0)
		cfg->scenario = WMQ_BENCH_CONN;
	else if (strcmp(sc, "pub") == 0)
		cfg->scenario = WMQ_BENCH_PUB;
	else if (strcmp(sc, "sub") == 0)
		cfg->scenario = WMQ_BENCH_SUB;
	else if (strcmp(sc, "fanin") == 0)
		cfg->scenario = WMQ_BENCH_FANIN;
	else if (strcmp(sc, "fanout") == 0)
		cfg->scenario = WMQ_BENCH_FANOUT;
	else if (strcmp(sc, "pairs") == 0)
		cfg->scenario = WMQ_BENCH_PAIRS;
	else {
		fprintf(stderr, "wardmq_bench: unknown scenario '%s' (see --help)\n", sc);
		return 2;
	}

	optind = 2;
	/* bounded by argc */
	while ((opt = getopt_long(argc, argv, "h:p:c:q:s:d:r:w:V:k:t:u:P:Q", longs, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cfg->host = optarg;
			break;
		case 'p':
			if (!parse_long(optarg, 1, 65535, &v))
				return bad("-p", optarg);
			cfg->port = (uint16_t)v;
			break;
		case 'c':
			if (!parse_long(optarg, 1, 1000000, &v))
				return bad("-c", optarg);
			cfg->conns = v;
			conns_set = true;
			break;
		case 'q':
			if (!parse_long(optarg, 0, 2, &v))
				return bad("-q", optarg);
			cfg->qos = (int)v;
			break;
		case 's':
			if (!parse_long(optarg, 0, 268435455L - 65536L, &v))
				return bad("-s", optarg);
			cfg->size = (size_t)v;
			break;
		case 'd':
			if (!parse_double(optarg, 0, 86400, &d))
				return bad("-d", optarg);
			cfg->duration = d;
			break;
		case 'r':
			if (!parse_double(optarg, 0, 1e9, &d))
				return bad("-r", optarg);
			cfg->rate = d;
			break;
		case 'w':
			if (!parse_long(optarg, 1, 65535, &v))
				return bad("-w", optarg);
			cfg->window = (unsigned)v;
			break;
		case 'V':
			if (!strcmp(optarg, "311") || !strcmp(optarg, "mqttv311") || !strcmp(optarg, "4"))
				cfg->version = WMQ_PROTOCOL_V311;
			else if (!strcmp(optarg, "5") || !strcmp(optarg, "mqttv5"))
				cfg->version = WMQ_PROTOCOL_V5;
			else if (!strcmp(optarg, "31") || !strcmp(optarg, "mqttv31"))
				cfg->version = WMQ_PROTOCOL_V31;
			else
				return bad("-V", optarg);
			break;
		case 'k':
			if (!parse_long(optarg, 0, 65535, &v))
				return bad("-k", optarg);
			cfg->keepalive = (unsigned)v;
			break;
		case 't':
			if (!parse_long(optarg, 1, 64, &v))
				return bad("-t", optarg);
			cfg->threads = (int)v;
			break;
		case 'u':
			cfg->username = optarg;
			break;
		case 'P':
			cfg->password = optarg;
			break;
		case 'Q':
			cfg->quiet = true;
			break;
		case OPT_PUBS:
			if (!parse_long(optarg, 0, 1000000, &v))
				return bad("--pubs", optarg);
			cfg->pubs = v;
			break;
		case OPT_SUBS:
			if (!parse_long(optarg, 0, 1000000, &v))
				return bad("--subs", optarg);
			cfg->subs = v;
			break;
		case OPT_PERSISTENT:
			cfg->persistent = true;
			break;
		case OPT_OFFLINE:
			cfg->offline = true;
			break;
		case OPT_EXPIRY:
			if (!parse_long(optarg, 1, 4294967295L, &v))
				return bad("--session-expiry", optarg);
			cfg->session_expiry = (uint32_t)v;
			break;
		case OPT_CHURN:
			cfg->churn = true;
			break;
		case OPT_CONN_WINDOW:
			if (!parse_long(optarg, 1, 1000000, &v))
				return bad("--conn-window", optarg);
			cfg->conn_window = (unsigned)v;
			break;
		case OPT_BURST:
			if (!parse_long(optarg, 1, 100000, &v))
				return bad("--burst", optarg);
			cfg->burst = (unsigned)v;
			break;
		case OPT_DRAIN:
			if (!parse_double(optarg, 0, 86400, &d))
				return bad("--drain-timeout", optarg);
			cfg->drain_timeout = d;
			drain_set = true;
			break;
		case OPT_PHASE:
			if (!parse_double(optarg, 0.1, 86400, &d))
				return bad("--phase-timeout", optarg);
			cfg->phase_timeout = d;
			break;
		case OPT_PREFIX:
			cfg->prefix = optarg;
			break;
		case OPT_FILTER:
			cfg->filter = optarg;
			break;
		case OPT_ID_PREFIX:
			cfg->id_prefix = optarg;
			break;
		case OPT_BROKER_PID:
			if (!parse_long(optarg, 1, LONG_MAX, &v))
				return bad("--broker-pid", optarg);
			cfg->broker_pid = v;
			break;
		case OPT_JSON:
			cfg->json = true;
			break;
		case OPT_CAFILE:
			cfg->cafile = optarg;
			break;
		case OPT_CERT:
			cfg->certfile = optarg;
			break;
		case OPT_KEY:
			cfg->keyfile = optarg;
			break;
		case OPT_HELP:
			return -1;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wardmq_bench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!conns_set && cfg->scenario == WMQ_BENCH_CONN)
		cfg->conns = 100;
	if (!conns_set && cfg->scenario == WMQ_BENCH_SUB)
		cfg->conns = 1;
	if (cfg->offline && !drain_set)
		cfg->drain_timeout = 60;
	if (cfg->offline && cfg->scenario != WMQ_BENCH_FANIN && cfg->scenario != WMQ_BENCH_FANOUT &&
	    cfg->scenario != WMQ_BENCH_PAIRS) {
		fprintf(stderr, "wardmq_bench: --offline needs fanin, fanout or pairs\n");
		return 2;
	}
	if (cfg->churn && cfg->scenario != WMQ_BENCH_CONN) {
		fprintf(stderr, "wardmq_bench: --churn is for the conn scenario\n");
		return 2;
	}
	char tmp[256];
	if ((cfg->username && wmq_bench_expand(cfg->username, UINT32_MAX, tmp, sizeof tmp) != 0) ||
	    (cfg->password && wmq_bench_expand(cfg->password, UINT32_MAX, tmp, sizeof tmp) != 0)) {
		fprintf(stderr, "wardmq_bench: -u / -P too long\n");
		return 2;
	}
	if ((cfg->certfile != NULL) != (cfg->keyfile != NULL) || (cfg->certfile && !cfg->cafile)) {
		fprintf(stderr, "wardmq_bench: --cert and --key go together, with --cafile\n");
		return 2;
	}
	if (strlen(cfg->prefix) > 200 || strchr(cfg->prefix, '+') || strchr(cfg->prefix, '#')) {
		fprintf(stderr, "wardmq_bench: bad --topic-prefix\n");
		return 2;
	}
	return 0;
}

/* Counts of each role from the scenario, -c and the overrides. */
static int layout(struct wmq_bench *b)
{
	const struct wmq_bench_cfg *cfg = &b->cfg;
	long n = cfg->conns;
	b->npubs = b->nsubs = b->nconn = 0;
	switch (cfg->scenario) {
	case WMQ_BENCH_CONN:
		b->nconn = n;
		break;
	case WMQ_BENCH_PUB:
		b->npubs = n;
		break;
	case WMQ_BENCH_SUB:
		b->nsubs = n;
		break;
	case WMQ_BENCH_FANIN:
		b->npubs = n;
		b->nsubs = 1;
		break;
	case WMQ_BENCH_FANOUT:
		b->npubs = 1;
		b->nsubs = n;
		break;
	case WMQ_BENCH_PAIRS:
		b->npubs = b->nsubs = n;
		break;
	}
	if (cfg->scenario != WMQ_BENCH_CONN) {
		if (cfg->pubs >= 0 && cfg->scenario != WMQ_BENCH_SUB)
			b->npubs = cfg->pubs;
		if (cfg->subs >= 0 && cfg->scenario != WMQ_BENCH_PUB)
			b->nsubs = cfg->subs;
	}
	if (cfg->scenario == WMQ_BENCH_PAIRS && b->npubs != b->nsubs) {
		fprintf(stderr, "wardmq_bench: pairs needs as many publishers as subscribers\n");
		return 2;
	}
	if (b->npubs + b->nsubs + b->nconn == 0) {
		fprintf(stderr, "wardmq_bench: no connections to make\n");
		return 2;
	}
	if (cfg->offline && (b->npubs == 0 || b->nsubs == 0)) {
		fprintf(stderr, "wardmq_bench: --offline needs publishers and subscribers\n");
		return 2;
	}
	/* deliveries per published message */
	switch (cfg->scenario) {
	case WMQ_BENCH_FANIN:
	case WMQ_BENCH_FANOUT:
		b->factor = (uint64_t)b->nsubs;
		break;
	case WMQ_BENCH_PAIRS:
		b->factor = 1;
		break;
	default:
		b->factor = 0;
		break;
	}
	return 0;
}

/* Make sure there are file descriptors for every connection. */
static int raise_nofile(long needed)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < needed &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < needed) {
		fprintf(stderr,
			"wardmq_bench: %ld connections need about %ld file descriptors but the "
			"limit is %llu (raise it with ulimit -n)\n",
			needed - 64, needed, (unsigned long long)rl.rlim_cur);
		return 2;
	}
	return 0;
}

/* "PREFIX/KIND/I" (i >= 0), "PREFIX/KIND" (i < 0), or "PREFIX/KIND/+" (i == -2) */
static char *make_topic(const char *prefix, const char *kind, long i)
{
	char buf[320];
	if (i >= 0)
		snprintf(buf, sizeof buf, "%s/%s/%ld", prefix, kind, i);
	else if (i == -2)
		snprintf(buf, sizeof buf, "%s/%s/+", prefix, kind);
	else
		snprintf(buf, sizeof buf, "%s/%s", prefix, kind);
	return wmq_strdup(buf);
}

/* Create the clients and deal them out to the workers. */
static int make_clients(struct wmq_bench *b)
{
	const struct wmq_bench_cfg *cfg = &b->cfg;
	long total = b->npubs + b->nsubs + b->nconn;
	char idp[48];
	if (cfg->id_prefix)
		snprintf(idp, sizeof idp, "%.40s", cfg->id_prefix);
	else
		snprintf(idp, sizeof idp, "wb%ld-", (long)getpid());

	for (int i = 0; i < b->nw; i++) {
		struct wmq_bench_worker *w = &b->w[i];
		size_t cap = (size_t)(total / b->nw + 1);
		w->cl = wmq_calloc(cap, sizeof *w->cl);
		if (!w->cl)
			return -1;
	}
	/* subscribers first, so that each worker gets a share of each role */
	long k = 0;
	for (int pass = 0; pass < 3; pass++) {
		enum wmq_bench_role role = pass == 0   ? WMQ_BENCH_ROLE_SUB
					   : pass == 1 ? WMQ_BENCH_ROLE_PUB
						       : WMQ_BENCH_ROLE_CONN;
		long count = pass == 0 ? b->nsubs : pass == 1 ? b->npubs : b->nconn;
		for (long i = 0; i < count; i++, k++) {
			struct wmq_bench_worker *w = &b->w[k % b->nw];
			struct wmq_bench_client *cl = wmq_calloc(1, sizeof *cl);
			if (!cl)
				return -1;
			w->cl[w->n++] = cl;
			cl->w = w;
			cl->role = role;
			cl->idx = (uint32_t)i;
			cl->reg_fd = -1;
			cl->deadline_ns = UINT64_MAX;
			snprintf(cl->id, sizeof cl->id, "%s%c%ld", idp,
				 role == WMQ_BENCH_ROLE_SUB   ? 's'
				 : role == WMQ_BENCH_ROLE_PUB ? 'p'
							      : 'c',
				 i);
			cl->persistent = cfg->persistent ||
					 (role == WMQ_BENCH_ROLE_SUB && cfg->offline);
			const char *P = cfg->prefix;
			switch (cfg->scenario) {
			case WMQ_BENCH_CONN:
				break;
			case WMQ_BENCH_PUB:
				cl->topic = make_topic(P, "pub", i);
				break;
			case WMQ_BENCH_SUB:
				cl->topic = cfg->filter ? wmq_strdup(cfg->filter)
							: make_topic(P, "#", -1);
				break;
			case WMQ_BENCH_FANIN:
				cl->topic = role == WMQ_BENCH_ROLE_PUB
						    ? make_topic(P, "fanin", i)
						    : make_topic(P, "fanin", -2);
				cl->pub_lo = 0;
				cl->pub_n = (uint32_t)b->npubs;
				break;
			case WMQ_BENCH_FANOUT:
				cl->topic = make_topic(P, "fanout", -1);
				cl->pub_lo = 0;
				cl->pub_n = (uint32_t)b->npubs;
				break;
			case WMQ_BENCH_PAIRS:
				cl->topic = make_topic(P, "pairs", i);
				cl->pub_lo = (uint32_t)i;
				cl->pub_n = 1;
				break;
			}
			if (cfg->scenario != WMQ_BENCH_CONN && !cl->topic)
				return -1;
			if (role == WMQ_BENCH_ROLE_PUB) {
				w->npubs++;
				if (cfg->qos > 0) {
					cl->slots = wmq_calloc(cfg->window, sizeof *cl->slots);
					if (!cl->slots)
						return -1;
				}
			}
			if (role == WMQ_BENCH_ROLE_SUB && cl->pub_n > 0) {
				cl->last_seq = wmq_calloc(cl->pub_n, sizeof *cl->last_seq);
				if (!cl->last_seq)
					return -1;
			}
		}
	}
	for (int i = 0; i < b->nw; i++) {
		struct wmq_bench_worker *w = &b->w[i];
		w->rate_w = b->npubs > 0 ? cfg->rate * (double)w->npubs / (double)b->npubs : 0;
		w->conn_window = cfg->conn_window / (unsigned)b->nw;
		if (w->conn_window == 0)
			w->conn_window = 1;
	}
	return 0;
}

/* ---- summary ------------------------------------------------------------------ */

struct totals {
	uint64_t sent, acked, pub_failed, pub_errors, received, unique, dups, foreign;
	uint64_t disconnects, sub_failed, connects, connect_failed, session_lost;
	uint64_t first_rx_ns, last_rx_ns, last_ack_ns;
	struct wmq_bench_hist *lat, *ack, *hs;
	const struct wmq_bench_err_note *disc, *conn_err;
	int pub_err;
};

#define LD(x) atomic_load(&(x))

static void add_totals(struct totals *t, const struct wmq_bench_worker *w)
{
	t->sent += LD(w->sent);
	t->acked += LD(w->acked);
	t->pub_failed += LD(w->pub_failed);
	t->pub_errors += LD(w->pub_errors);
	t->received += LD(w->received);
	t->unique += LD(w->unique);
	t->dups += LD(w->dups);
	t->foreign += LD(w->foreign);
	t->disconnects += LD(w->disconnects);
	t->sub_failed += LD(w->sub_failed);
	t->connects += LD(w->connects);
	t->connect_failed += LD(w->connect_failed);
	t->session_lost += LD(w->session_lost);
	uint64_t f = LD(w->first_rx_ns);
	if (f && (t->first_rx_ns == 0 || f < t->first_rx_ns))
		t->first_rx_ns = f;
	if (LD(w->last_rx_ns) > t->last_rx_ns)
		t->last_rx_ns = LD(w->last_rx_ns);
	if (LD(w->last_ack_ns) > t->last_ack_ns)
		t->last_ack_ns = LD(w->last_ack_ns);
	wmq_bench_hist_merge(t->lat, w->lat);
	wmq_bench_hist_merge(t->ack, w->ack);
	wmq_bench_hist_merge(t->hs, w->hs);
	if (!t->disc && w->first_disconnect.client[0])
		t->disc = &w->first_disconnect;
	if (!t->conn_err && w->first_connect_error.client[0])
		t->conn_err = &w->first_connect_error;
	if (!t->pub_err)
		t->pub_err = w->first_pub_error;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double per_s(uint64_t n, uint64_t ns)
{
	return ns ? (double)n / ((double)ns / 1e9) : 0.0;
}

static const char *scenario_name(enum wmq_bench_scenario s)
{
	static const char *const n[] = {"conn", "pub", "sub", "fanin", "fanout", "pairs"};
	return n[s];
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void err_text(char *out, size_t cap, const struct wmq_bench_err_note *n)
{
	snprintf(out, cap, "%s: %s, reason 0x%02x%s", n->client, wmq_strerror(n->error),
		 (unsigned)n->reason, n->by_server ? " (server DISCONNECT)" : "");
}

/* Everything the summary reports, derived from the totals and the
 * controller's timestamps. */
struct results {
	bool conn;             /* conn scenario */
	bool per_publish;      /* the headline counts publishes (pub, --offline) */
	double sent_ps, acked_ps, recv_ps, conn_ps, churn_ps, rate;
	uint64_t churn, churn_ns, expected, lost;
	double loss_pct;
	long mem_per_conn;     /* bytes, 0 = not measured */
	double cpu_s, cpu_us;  /* broker CPU under load, per unit; < 0 = unknown */
	const char *ver;
	char disc[160], cerr[160], perr[96];
};

static uint64_t span(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

static void compute(const struct wmq_bench *b, const struct totals *t, struct results *r)
{
	const struct wmq_bench_cfg *cfg = &b->cfg;
	memset(r, 0, sizeof *r);
	r->conn = cfg->scenario == WMQ_BENCH_CONN;
	r->per_publish = cfg->scenario == WMQ_BENCH_PUB || cfg->offline;
	r->ver = cfg->version == WMQ_PROTOCOL_V5 ? "5" : cfg->version == 4 ? "3.1.1" : "3.1";

	/* received/s runs to the last delivery, so late delivery is not flattered */
	uint64_t rx_end = t->last_rx_ns > b->t_run_end ? t->last_rx_ns : b->t_run_end;
	uint64_t ack_end = t->last_ack_ns > b->t_run_end ? t->last_ack_ns : b->t_run_end;
	r->sent_ps = per_s(t->sent, span(b->t_run_start, b->t_run_end));
	r->acked_ps = per_s(t->acked, span(b->t_run_start, ack_end));
	if (cfg->offline)
		r->recv_ps = per_s(t->received, span(b->t_backlog_start, t->last_rx_ns));
	else if (cfg->scenario == WMQ_BENCH_SUB) /* publishers elsewhere: first to last */
		r->recv_ps = per_s(t->received, span(t->first_rx_ns, t->last_rx_ns));
	else
		r->recv_ps = per_s(t->received, span(b->t_run_start, rx_end));

	r->expected = (cfg->qos == 0 ? t->sent : t->acked) * b->factor;
	if (cfg->offline && cfg->qos == 0)
		r->expected = 0; /* brokers do not queue QoS 0 for offline sessions by default */
	r->lost = r->expected > t->unique ? r->expected - t->unique : 0;
	r->loss_pct = r->expected ? 100.0 * (double)r->lost / (double)r->expected : 0.0;

	r->conn_ps = per_s(b->connect_ok_total, b->connect_ns_total);
	if (cfg->churn && t->connects > b->churn_connects_before)
		r->churn = t->connects - b->churn_connects_before;
	r->churn_ns = span(b->t_churn_start, b->t_churn_end);
	r->churn_ps = per_s(r->churn, r->churn_ns);
	if (r->conn && !cfg->churn && b->rss_before > 0 && b->rss_end > 0 && b->nconn > 0)
		r->mem_per_conn = (b->rss_end - b->rss_before) * 1024L / b->nconn;

	if (r->conn)
		r->rate = cfg->churn ? r->churn_ps : r->conn_ps;
	else if (r->per_publish)
		r->rate = cfg->qos == 0 ? r->sent_ps : r->acked_ps;
	else
		r->rate = r->recv_ps;

	/* broker CPU per unit of work: connect, publish, or delivery */
	uint64_t units = r->conn          ? t->connects
			 : r->per_publish ? (cfg->qos ? t->acked : t->sent)
					  : t->received;
	r->cpu_s = b->cpu_start >= 0 && b->cpu_end >= b->cpu_start ? b->cpu_end - b->cpu_start
								   : -1;
	r->cpu_us = r->cpu_s >= 0 && units ? r->cpu_s * 1e6 / (double)units : -1;

	if (t->disc)
		err_text(r->disc, sizeof r->disc, t->disc);
	if (t->conn_err)
		err_text(r->cerr, sizeof r->cerr, t->conn_err);
	if (t->pub_err)
		snprintf(r->perr, sizeof r->perr, "%s",
			 t->pub_err < 0 ? wmq_strerror(t->pub_err) : wmq_reason_string(t->pub_err));
}

#define ULL(x) ((unsigned long long)(x))
#define PCT(h, p) ms(wmq_bench_hist_pct((h), (p)))

static void print_text(FILE *o, const struct wmq_bench *b, const struct totals *t,
		       const struct results *r)
{
	const struct wmq_bench_cfg *cfg = &b->cfg;
	fprintf(o, "\nwardmq_bench %s: %ld publishers, %ld subscribers, %ld connections; QoS %d, "
		   "%zu B, %.1f s, rate %s, window %u, MQTT %s%s%s, %d thread%s\n",
		scenario_name(cfg->scenario), b->npubs, b->nsubs, b->nconn, cfg->qos, cfg->size,
		cfg->duration, cfg->rate > 0 ? "limited" : "max", cfg->window, r->ver,
		cfg->persistent ? ", persistent" : "", cfg->offline ? ", offline" : "", b->nw,
		b->nw == 1 ? "" : "s");
	fprintf(o, "  connect   %llu ok, %llu failed, %.0f conn/s; handshake p50 %.3f ms  "
		   "p99 %.3f ms  max %.3f ms\n",
		ULL(t->connects), ULL(t->connect_failed), r->conn_ps, PCT(t->hs, 50), PCT(t->hs, 99),
		ms(t->hs->max));
	if (cfg->churn)
		fprintf(o, "  churn     %llu connects in %.2f s: %.0f conn/s\n", ULL(r->churn),
			(double)r->churn_ns / 1e9, r->churn_ps);
	if (!r->conn) {
		fprintf(o, "  sent      %llu (%.0f msg/s)", ULL(t->sent), r->sent_ps);
		if (cfg->qos > 0)
			fprintf(o, ", acked %llu (%.0f msg/s), refused %llu", ULL(t->acked),
				r->acked_ps, ULL(t->pub_failed));
		if (t->pub_errors)
			fprintf(o, ", publish errors %llu (%s)", ULL(t->pub_errors), r->perr);
		fprintf(o, "\n  received  %llu (%.0f msg/s%s), unique %llu, duplicates %llu",
			ULL(t->received), r->recv_ps, cfg->offline ? " backlog drain" : "",
			ULL(t->unique), ULL(t->dups));
		if (t->foreign)
			fprintf(o, ", foreign %llu", ULL(t->foreign));
		fputc('\n', o);
		if (b->factor > 0)
			fprintf(o, "  expected  %llu, lost %llu (%.3f %%)\n", ULL(r->expected),
				ULL(r->lost), r->loss_pct);
		if (t->lat->count)
			fprintf(o, "  latency%s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%llu samples)\n",
				cfg->offline ? " (includes the time offline)" : "  ",
				PCT(t->lat, 50), PCT(t->lat, 99), ms(t->lat->max), ULL(t->lat->count));
		if (t->ack->count)
			fprintf(o, "  ack       p50 %.3f ms  p99 %.3f ms  max %.3f ms\n",
				PCT(t->ack, 50), PCT(t->ack, 99), ms(t->ack->max));
	}
	if (cfg->broker_pid > 0)
		fprintf(o, "  broker    VmRSS before %ld kB, connected %ld kB, end %ld kB, "
			   "peak %ld kB\n",
			b->rss_before, b->rss_connected, b->rss_end, b->rss_peak);
	if (r->cpu_s >= 0 && r->cpu_us >= 0)
		fprintf(o, "  broker    CPU %.2f s under load: %.2f us per %s\n", r->cpu_s, r->cpu_us,
			r->conn ? "connect" : r->per_publish ? "publish" : "delivery");
	else if (r->cpu_s >= 0)
		fprintf(o, "  broker    CPU %.2f s under load\n", r->cpu_s);
	if (r->mem_per_conn)
		fprintf(o, "  memory    %ld bytes per idle connection\n", r->mem_per_conn);
	if (t->disconnects || t->session_lost || t->sub_failed) {
		fprintf(o, "  problems  %llu unexpected disconnects, %llu sessions lost, "
			   "%llu subscriptions refused\n",
			ULL(t->disconnects), ULL(t->session_lost), ULL(t->sub_failed));
		if (t->disc)
			fprintf(o, "  first disconnect: %s\n", r->disc);
	}
	if (t->connect_failed && r->cerr[0])
		fprintf(o, "  first connect error: %s\n", r->cerr);
	if (b->aborted)
		fprintf(o, "  ABORTED: %s\n", b->abort_reason);
	fprintf(o, "  result    %.0f %s\n", r->rate, r->conn ? "conn/s" : "msg/s");
}

/* One flat JSON object on one line (flat so that shell scripts can pick
 * fields with sed). */
static void print_json(FILE *j, const struct wmq_bench *b, const struct totals *t,
		       const struct results *r)
{
	const struct wmq_bench_cfg *cfg = &b->cfg;
	fprintf(j, "{\"scenario\": \"%s\", \"host\": ", scenario_name(cfg->scenario));
	json_str(j, cfg->host);
	fprintf(j, ", \"port\": %u, \"version\": \"%s\", \"qos\": %d, \"size\": %zu, "
		   "\"duration_s\": %.3f, \"rate_target\": %.1f, \"window\": %u, \"threads\": %d, "
		   "\"publishers\": %ld, \"subscribers\": %ld, \"connections\": %ld, "
		   "\"persistent\": %s, \"offline\": %s, \"churn\": %s, ",
		(unsigned)cfg->port, r->ver, cfg->qos, cfg->size, cfg->duration, cfg->rate,
		cfg->window, b->nw, b->npubs, b->nsubs, b->nconn, cfg->persistent ? "true" : "false",
		cfg->offline ? "true" : "false", cfg->churn ? "true" : "false");
	fprintf(j, "\"connect_ok\": %llu, \"connect_failed\": %llu, \"conn_per_s\": %.1f, "
		   "\"hs_p50_ms\": %.3f, \"hs_p99_ms\": %.3f, \"hs_max_ms\": %.3f, "
		   "\"churn_connects\": %llu, \"churn_per_s\": %.1f, ",
		ULL(t->connects), ULL(t->connect_failed), r->conn_ps, PCT(t->hs, 50),
		PCT(t->hs, 99), ms(t->hs->max), ULL(r->churn), r->churn_ps);
	fprintf(j, "\"sent\": %llu, \"sent_per_s\": %.1f, \"acked\": %llu, \"acked_per_s\": %.1f, "
		   "\"pub_refused\": %llu, \"pub_errors\": %llu, ",
		ULL(t->sent), r->sent_ps, ULL(t->acked), r->acked_ps, ULL(t->pub_failed),
		ULL(t->pub_errors));
	fprintf(j, "\"received\": %llu, \"recv_per_s\": %.1f, \"unique\": %llu, "
		   "\"duplicates\": %llu, \"foreign\": %llu, \"expected\": %llu, \"lost\": %llu, "
		   "\"loss_pct\": %.4f, ",
		ULL(t->received), r->recv_ps, ULL(t->unique), ULL(t->dups), ULL(t->foreign),
		ULL(r->expected), ULL(r->lost), r->loss_pct);
	fprintf(j, "\"lat_p50_ms\": %.3f, \"lat_p99_ms\": %.3f, \"lat_max_ms\": %.3f, "
		   "\"lat_n\": %llu, \"ack_p50_ms\": %.3f, \"ack_p99_ms\": %.3f, "
		   "\"ack_max_ms\": %.3f, ",
		PCT(t->lat, 50), PCT(t->lat, 99), ms(t->lat->max), ULL(t->lat->count),
		PCT(t->ack, 50), PCT(t->ack, 99), ms(t->ack->max));
	fprintf(j, "\"disconnects\": %llu, \"session_lost\": %llu, \"sub_refused\": %llu, ",
		ULL(t->disconnects), ULL(t->session_lost), ULL(t->sub_failed));
	fprintf(j, "\"rss_before_kb\": %ld, \"rss_connected_kb\": %ld, \"rss_end_kb\": %ld, "
		   "\"rss_peak_kb\": %ld, \"mem_per_conn_bytes\": %ld, ",
		b->rss_before, b->rss_connected, b->rss_end, b->rss_peak, r->mem_per_conn);
	fprintf(j, "\"broker_cpu_s\": %.3f, \"broker_cpu_us_per_unit\": %.3f, ", r->cpu_s,
		r->cpu_us);
	fprintf(j, "\"rate\": %.1f, \"aborted\": %s, \"error\": ", r->rate,
		b->aborted ? "true" : "false");
	json_str(j, b->aborted ? b->abort_reason : "");
	fprintf(j, ", \"first_disconnect\": ");
	json_str(j, r->disc);
	fprintf(j, "}\n");
	fflush(j);
}

static void summary(struct wmq_bench *b)
{
	struct totals t;
	struct results r;
	memset(&t, 0, sizeof t);
	t.lat = wmq_bench_hist_new();
	t.ack = wmq_bench_hist_new();
	t.hs = wmq_bench_hist_new();
	if (!t.lat || !t.ack || !t.hs) {
		fprintf(stderr, "wardmq_bench: out of memory\n");
		goto out;
	}
	for (int i = 0; i < b->nw; i++)
		add_totals(&t, &b->w[i]);
	compute(b, &t, &r);
	/* with --json the text goes to stderr, the JSON alone to stdout */
	print_text(b->cfg.json ? stderr : stdout, b, &t, &r);
	if (b->cfg.json)
		print_json(stdout, b, &t, &r);
out:
	wmq_bench_hist_free(t.lat);
	wmq_bench_hist_free(t.ack);
	wmq_bench_hist_free(t.hs);
}

int main(int argc, char **argv)
{
	struct wmq_bench *b = wmq_calloc(1, sizeof *b);
	int rc = 1, started = 0;
	sigset_t sigs;

	if (!b) {
		fprintf(stderr, "wardmq_bench: out of memory\n");
		return 1;
	}
	b->sigfd = -1;
	b->cpu_start = b->cpu_end = -1;
	rc = parse_args(argc, argv, &b->cfg);
	if (rc == -1) {
		usage(stdout);
		rc = 0;
		goto out;
	}
	if (rc != 0 || (rc = layout(b)) != 0)
		goto out;
	long total = b->npubs + b->nsubs + b->nconn;
	if ((rc = raise_nofile(total + 64)) != 0)
		goto out;
	if (b->cfg.size < WMQ_BENCH_HDR && b->cfg.scenario != WMQ_BENCH_CONN)
		fprintf(stderr, "wardmq_bench: payloads under %u bytes carry no timestamp: no "
				"latency or duplicate figures\n",
			WMQ_BENCH_HDR);
	b->nw = b->cfg.threads < total ? b->cfg.threads : (int)total;
	b->w = wmq_calloc((size_t)b->nw, sizeof *b->w);
	rc = 1;
	if (!b->w)
		goto out;
	for (int i = 0; i < b->nw; i++) {
		b->w[i].b = b;
		b->w[i].id = (unsigned)i;
		b->w[i].ep = b->w[i].evfd = -1;
	}
	if (make_clients(b) != 0) {
		fprintf(stderr, "wardmq_bench: out of memory\n");
		goto out;
	}

	/* signals arrive through a signalfd in worker 0's loop */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	b->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);

	for (int i = 0; i < b->nw; i++)
		if (wmq_bench_worker_init(&b->w[i]) != 0)
			goto out;
	atomic_store(&b->phase, WMQ_BENCH_PH_INIT);
	for (int i = 1; i < b->nw; i++) {
		if (pthread_create(&b->w[i].thread, NULL, wmq_bench_worker_thread, &b->w[i]) != 0) {
			fprintf(stderr, "wardmq_bench: cannot start thread %d\n", i);
			wmq_bench_abort(b, "thread start failed", wmq_bench_now_ns());
			wmq_bench_set_phase(b, WMQ_BENCH_PH_DONE, wmq_bench_now_ns());
			break;
		}
		b->w[i].thread_started = true;
		started++;
	}
	wmq_bench_worker_run(&b->w[0]);
	for (int i = 1; i < b->nw; i++)
		if (b->w[i].thread_started)
			pthread_join(b->w[i].thread, NULL);
	summary(b);
	rc = b->aborted ? 1 : 0;
out:
	if (b->w) {
		for (int i = 0; i < b->nw; i++)
			wmq_bench_worker_cleanup(&b->w[i]);
		wmq_free(b->w);
	}
	if (b->sigfd >= 0)
		close(b->sigfd);
	wmq_free(b);
	(void)started;
	return rc;
}
