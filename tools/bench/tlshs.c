/* SPDX-License-Identifier: MIT
 * tlshs.c - wardmq_tlshs: TLS handshake rate of an MQTT broker.
 *
 *   wardmq_tlshs -p PORT --cafile CA [--cert C --key K] [--resume] [-n N] [-t T]
 *
 * Role: a benchmark tool (not part of the broker). Each of T threads runs
 * N/T sequential connections: TCP connect, TLS 1.3 handshake (verifying the
 * server against --cafile, optionally presenting a client certificate),
 * MQTT 3.1.1 CONNECT, CONNACK, DISCONNECT, close_notify, close. With
 * --resume every thread offers the session (TLS 1.3 ticket) it got from its
 * previous connection, and the summary counts how many handshakes the
 * server resumed (SSL_session_reused). It uses OpenSSL directly (not
 * libwardmq) so that it can keep and reuse SSL_SESSION objects.
 * Every socket has 10 s send/receive timeouts, so a stuck broker ends the
 * run with failures instead of hanging. Reports handshakes/s, the
 * connect -> CONNACK latency (p50/p99) and, with --broker-pid, the broker's
 * CPU time per handshake; --json prints one flat JSON object on stdout.
 * Exit status: 0 = every connection completed, 1 = some failed, 2 = usage.
 * Threading: T worker threads, each with its own SSL objects and counters;
 * the SSL_CTX is shared (read-only after setup, which OpenSSL allows).
 * Ownership: main() owns the context and the per-thread arrays. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench.h"
#include "common/alloc.h"

struct hs_cfg {
	const char *host;
	uint16_t port;
	const char *cafile, *certfile, *keyfile;
	const char *username, *password;
	bool resume;
	long n;
	int threads;
	long broker_pid;
	bool json;
};

struct hs_thread {
	const struct hs_cfg *cfg;
	SSL_CTX *ctx;
	int index;
	long todo;
	pthread_t tid;
	long ok, failed, resumed;
	struct wmq_bench_hist *lat;
	char first_error[160];
};

static void note(struct hs_thread *t, const char *what)
{
	if (t->first_error[0])
		return;
	unsigned long e = ERR_peek_last_error();
	char buf[120] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	snprintf(t->first_error, sizeof t->first_error, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

static int tcp_connect(const struct hs_cfg *cfg)
{
	struct sockaddr_in sa;
	struct timeval tv = {10, 0};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(cfg->port);
	if (inet_pton(AF_INET, cfg->host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* MQTT 3.1.1 CONNECT (clean session, keepalive 60) into |out|; length. */
static size_t mqtt_connect(const struct hs_cfg *cfg, const char *id, uint8_t *out, size_t cap)
{
	size_t idl = strlen(id), ul = cfg->username ? strlen(cfg->username) : 0;
	size_t pl = cfg->password ? strlen(cfg->password) : 0;
	size_t rem = 10 + 2 + idl + (cfg->username ? 2 + ul : 0) + (cfg->password ? 2 + pl : 0);
	size_t o = 0;
	if (rem > 127 || rem + 2 > cap)
		return 0;
	out[o++] = 0x10;
	out[o++] = (uint8_t)rem;
	static const uint8_t vh[] = {0, 4, 'M', 'Q', 'T', 'T', 4};
	memcpy(out + o, vh, sizeof vh);
	o += sizeof vh;
	out[o++] = (uint8_t)(0x02 | (cfg->username ? 0x80 : 0) | (cfg->password ? 0x40 : 0));
	out[o++] = 0;
	out[o++] = 60;
	out[o++] = 0;
	out[o++] = (uint8_t)idl;
	memcpy(out + o, id, idl);
	o += idl;
	if (cfg->username) {
		out[o++] = 0;
		out[o++] = (uint8_t)ul;
		memcpy(out + o, cfg->username, ul);
		o += ul;
	}
	if (cfg->password) {
		out[o++] = 0;
		out[o++] = (uint8_t)pl;
		memcpy(out + o, cfg->password, pl);
		o += pl;
	}
	return o;
}

/* One connection; returns 0 and updates *sess (resumption) or -1. */
static int one(struct hs_thread *t, long i, SSL_SESSION **sess)
{
	const struct hs_cfg *cfg = t->cfg;
	uint8_t pkt[256], ack[4];
	char id[64];
	int rc = -1;
	uint64_t t0 = wmq_bench_now_ns();
	int fd = tcp_connect(cfg);
	if (fd < 0) {
		note(t, "TCP connect failed");
		return -1;
	}
	SSL *ssl = SSL_new(t->ctx);
	if (!ssl) {
		close(fd);
		note(t, "SSL_new");
		return -1;
	}
	SSL_set_fd(ssl, fd);
	/* the broker's certificate names 127.0.0.1 (and localhost) */
	X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), cfg->host);
	if (cfg->resume && *sess)
		SSL_set_session(ssl, *sess);
	if (SSL_connect(ssl) != 1) {
		note(t, "TLS handshake failed");
		goto out;
	}
	snprintf(id, sizeof id, "tlshs-%d-%ld", t->index, i);
	size_t n = mqtt_connect(cfg, id, pkt, sizeof pkt);
	if (n == 0 || SSL_write(ssl, pkt, (int)n) != (int)n) {
		note(t, "CONNECT not sent");
		goto out;
	}
	/* reading CONNACK also processes the TLS 1.3 NewSessionTicket messages */
	size_t got = 0;
	while (got < sizeof ack) {
		int r = SSL_read(ssl, ack + got, (int)(sizeof ack - got));
		if (r <= 0) {
			note(t, "no CONNACK");
			goto out;
		}
		got += (size_t)r;
	}
	if (ack[0] != 0x20 || ack[1] != 2 || ack[3] != 0) {
		char m[64];
		snprintf(m, sizeof m, "CONNACK refused (return code %u)", ack[3]);
		note(t, m);
		goto out;
	}
	wmq_bench_hist_add(t->lat, wmq_bench_now_ns() - t0);
	if (SSL_session_reused(ssl))
		t->resumed++;
	static const uint8_t disc[] = {0xe0, 0x00};
	(void)SSL_write(ssl, disc, sizeof disc);
	if (cfg->resume) {
		SSL_SESSION *s = SSL_get1_session(ssl);
		if (s && SSL_SESSION_is_resumable(s)) {
			SSL_SESSION_free(*sess);
			*sess = s;
		} else {
			SSL_SESSION_free(s);
		}
	}
	(void)SSL_shutdown(ssl);
	rc = 0;
out:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return rc;
}

static void *run(void *arg)
{
	struct hs_thread *t = arg;
	SSL_SESSION *sess = NULL;
	for (long i = 0; i < t->todo; i++) {
		if (one(t, i, &sess) == 0)
			t->ok++;
		else
			t->failed++;
	}
	SSL_SESSION_free(sess);
	return NULL;
}

static void usage(FILE *f)
{
	fputs("Usage: wardmq_tlshs -p PORT --cafile CA [options]\n"
	      "  TLS 1.3 handshake rate: connect, handshake, MQTT CONNECT/CONNACK,\n"
	      "  DISCONNECT, close; repeated -n times over -t threads.\n"
	      "  -h HOST          IPv4 address (default 127.0.0.1), checked against the\n"
	      "                   server certificate's IP SAN\n"
	      "  -p PORT          broker TLS port\n"
	      "  -n N             connections in total (default 1000)\n"
	      "  -t T             threads, each connecting sequentially (default 4)\n"
	      "      --cafile F   CA certificates that issue the server certificate\n"
	      "      --cert F, --key F  present a client certificate\n"
	      "      --resume     offer the previous connection's session (TLS 1.3 ticket)\n"
	      "  -u USER, -P PASS MQTT credentials\n"
	      "      --broker-pid PID  broker CPU per handshake from /proc/PID/stat\n"
	      "      --json       one JSON object on stdout\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"cafile", required_argument, NULL, 'A'}, {"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},    {"resume", no_argument, NULL, 'R'},
		{"broker-pid", required_argument, NULL, 'B'}, {"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'H'},         {NULL, 0, NULL, 0},
	};
	struct hs_cfg cfg = {.host = "127.0.0.1", .n = 1000, .threads = 4};
	long port = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h:p:n:t:u:P:", longs, NULL)) != -1) {
		char *end = NULL;
		switch (opt) {
		case 'h': cfg.host = optarg; break;
		case 'p': port = strtol(optarg, &end, 10); break;
		case 'n': cfg.n = strtol(optarg, &end, 10); break;
		case 't': cfg.threads = (int)strtol(optarg, &end, 10); break;
		case 'u': cfg.username = optarg; break;
		case 'P': cfg.password = optarg; break;
		case 'A': cfg.cafile = optarg; break;
		case 'C': cfg.certfile = optarg; break;
		case 'K': cfg.keyfile = optarg; break;
		case 'R': cfg.resume = true; break;
		case 'B': cfg.broker_pid = strtol(optarg, &end, 10); break;
		case 'J': cfg.json = true; break;
		case 'H': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (end && *end) {
			fprintf(stderr, "wardmq_tlshs: bad number '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc || port <= 0 || port > 65535 || !cfg.cafile || cfg.n <= 0 || cfg.n > 10000000 ||
	    cfg.threads <= 0 || cfg.threads > 256 || (cfg.certfile != NULL) != (cfg.keyfile != NULL)) {
		usage(stderr);
		return 2;
	}
	cfg.port = (uint16_t)port;

	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, cfg.cafile, NULL) != 1 ||
	    (cfg.certfile && (SSL_CTX_use_certificate_chain_file(ctx, cfg.certfile) != 1 ||
			      SSL_CTX_use_PrivateKey_file(ctx, cfg.keyfile, SSL_FILETYPE_PEM) != 1))) {
		fprintf(stderr, "wardmq_tlshs: TLS setup failed: ");
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return 2;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* sessions are kept by hand (SSL_get1_session), not in a client cache */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);

	struct hs_thread *th = wmq_calloc((size_t)cfg.threads, sizeof *th);
	if (!th) {
		SSL_CTX_free(ctx);
		return 2;
	}
	double cpu0 = wmq_bench_cpu_s(cfg.broker_pid);
	uint64_t t0 = wmq_bench_now_ns();
	int started = 0;
	for (int i = 0; i < cfg.threads; i++) {
		th[i].cfg = &cfg;
		th[i].ctx = ctx;
		th[i].index = i;
		th[i].todo = cfg.n / cfg.threads + (i < cfg.n % cfg.threads ? 1 : 0);
		th[i].lat = wmq_bench_hist_new();
		if (!th[i].lat || pthread_create(&th[i].tid, NULL, run, &th[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	double secs = (double)(wmq_bench_now_ns() - t0) / 1e9;
	double cpu1 = wmq_bench_cpu_s(cfg.broker_pid);

	struct wmq_bench_hist *all = wmq_bench_hist_new();
	long ok = 0, failed = 0, resumed = 0;
	const char *err = "";
	for (int i = 0; i < cfg.threads; i++) {
		ok += th[i].ok;
		failed += th[i].failed + (i >= started ? th[i].todo : 0);
		resumed += th[i].resumed;
		if (all && th[i].lat)
			wmq_bench_hist_merge(all, th[i].lat);
		if (!err[0] && th[i].first_error[0])
			err = th[i].first_error;
	}
	double rate = secs > 0 ? (double)ok / secs : 0;
	double cpu_us = (cpu0 >= 0 && cpu1 >= 0 && ok > 0) ? (cpu1 - cpu0) * 1e6 / (double)ok : 0;
	double p50 = all ? (double)wmq_bench_hist_pct(all, 50) / 1e6 : 0;
	double p99 = all ? (double)wmq_bench_hist_pct(all, 99) / 1e6 : 0;
	FILE *o = cfg.json ? stderr : stdout;
	fprintf(o, "wardmq_tlshs: %ld ok, %ld failed, %ld resumed in %.2f s: %.1f handshakes/s, "
		   "p50 %.2f ms, p99 %.2f ms, broker CPU %.1f us/handshake%s%s\n",
		ok, failed, resumed, secs, rate, p50, p99, cpu_us, err[0] ? "; first error: " : "", err);
	if (cfg.json)
		printf("{\"scenario\": \"tls-handshake\", \"connections\": %ld, \"threads\": %d, "
		       "\"client_cert\": %s, \"resume\": %s, \"ok\": %ld, \"failed\": %ld, "
		       "\"resumed\": %ld, \"duration_s\": %.3f, \"hs_p50_ms\": %.3f, "
		       "\"hs_p99_ms\": %.3f, \"broker_cpu_us_per_unit\": %.3f, \"rate\": %.1f}\n",
		       cfg.n, cfg.threads, cfg.certfile ? "true" : "false", cfg.resume ? "true" : "false", ok,
		       failed, resumed, secs, p50, p99, cpu_us, rate);
	for (int i = 0; i < cfg.threads; i++)
		wmq_bench_hist_free(th[i].lat);
	wmq_bench_hist_free(all);
	wmq_free(th);
	SSL_CTX_free(ctx);
	return failed ? 1 : 0;
}
