/* SPDX-License-Identifier: MIT
 * pub.c - wardmq_pub: publish one message (-m, -f, -s, -n, optionally
 * --repeat) or one message per stdin line (-l), flag-compatible with
 * mosquitto_pub.
 *
 * The single-message modes use the blocking helpers; -l runs its own
 * poll(2) loop over stdin and the client socket through the event-loop API
 * (wmq_client_fd / want_write / next_timeout_ms / on_*), so the connection
 * is served (acks, keepalive) while stdin is idle, and stdin is not read
 * while the client's queue is full (back-pressure).
 * Exit status: 0, 1 on errors, the CONNACK code on a refused connection. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/time.h"
#include "tool.h"

#define MAX_INPUT ((size_t)268435455u) /* largest MQTT payload possible */

/* Set by the signal handler: the one piece of process-wide state. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct pub {
	struct wmq_tool_cfg *cfg;
	int failures;
};

static void pub_on_publish(wmq_client *c, void *ud, uint16_t mid, int rc,
			   const wmq_properties *props)
{
	struct pub *p = ud;
	(void)c;
	(void)props;
	if (rc >= 0x80) {
		p->failures++;
		if (!p->cfg->quiet)
			fprintf(stderr, "Warning: Publish %u failed: %s.\n", mid, wmq_reason_string(rc));
	}
}

static void setup(wmq_client *c, void *ud)
{
	struct pub *p = ud;
	wmq_client_on_publish(c, pub_on_publish);
	/* -l back-pressure: stop reading input while this many wait */
	(void)wmq_client_set_option(c, WMQ_OPT_MAX_QUEUED, (long)p->cfg->max_inflight * 2);
}

/* Read all of |fd| into |b|. 0, or -1 with errno. */
static int slurp(int fd, struct wmq_dbuf *b)
{
	/* bounded by MAX_INPUT (the buffer cap) */
	for (;;) {
		uint8_t *area;
		if (wmq_dbuf_reserve(b, 65536, &area) != WMQ_OK) {
			errno = EFBIG;
			return -1;
		}
		ssize_t n = read(fd, area, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
	}
}

/* Publish, waiting while the client's queue or output buffer is full. */
static int publish_wait(wmq_client *c, const struct wmq_tool_cfg *cfg, const void *payload,
			size_t len)
{
	/* bounded by the connection: a lost one ends the wait */
	for (;;) {
		int r = wmq_client_publish(c, NULL, cfg->topic, payload, len, cfg->qos, cfg->retain,
					   cfg->props[WMQ_CMD_PUBLISH]);
		if (r != WMQ_E_QUEUE_FULL)
			return r;
		int lr = wmq_client_loop(c, 100);
		if (got_signal)
			return WMQ_E_CONN_LOST;
		if (lr != WMQ_E_OK && !wmq_client_is_connected(c))
			return lr;
	}
}

static void report(const struct wmq_tool_cfg *cfg, int r)
{
	if (!cfg->quiet)
		fprintf(stderr, "Error: %s\n", wmq_strerror(r));
}

/* -l: one message per line, '\n' stripped (a '\r' before it is kept, as
 * mosquitto_pub does); a last line without newline is sent too. */
static int run_lines(wmq_client *c, const struct wmq_tool_cfg *cfg)
{
	struct wmq_dbuf in;
	size_t off = 0;
	bool eof = false;
	int rc = 0;
	wmq_dbuf_init(&in, MAX_INPUT);
	/* bounded by end of input, a signal or the connection's end */
	while (!got_signal) {
		bool blocked = false;
		/* publish every complete line we have */
		while (off < in.len) {
			uint8_t *nl = memchr(in.p + off, '\n', in.len - off);
			if (!nl && !eof)
				break;
			size_t n = nl ? (size_t)(nl - (in.p + off)) : in.len - off;
			int r = wmq_client_publish(c, NULL, cfg->topic, in.p + off, n, cfg->qos,
						   cfg->retain, cfg->props[WMQ_CMD_PUBLISH]);
			if (r == WMQ_E_QUEUE_FULL) {
				blocked = true;
				break;
			}
			if (r != WMQ_E_OK) {
				report(cfg, r);
				rc = 1;
				goto out;
			}
			off += n + (nl ? 1 : 0);
		}
		if (off > 65536 || off == in.len) {
			wmq_dbuf_consume(&in, off);
			off = 0;
		}
		if (eof && off >= in.len)
			break;
		int fd = wmq_client_fd(c);
		if (fd < 0) {
			report(cfg, WMQ_E_CONN_LOST);
			rc = 1;
			goto out;
		}
		struct pollfd pfd[2] = {
			{.fd = fd, .events = POLLIN},
			{.fd = (!eof && !blocked) ? STDIN_FILENO : -1, .events = POLLIN},
		};
		if (wmq_client_want_write(c))
			pfd[0].events |= POLLOUT;
		int t = wmq_client_next_timeout_ms(c);
		if (t < 0 || t > 1000)
			t = 1000;
		if (blocked && t > 50)
			t = 50;
		int n = poll(pfd, 2, t);
		if (n < 0 && errno != EINTR) {
			rc = 1;
			goto out;
		}
		if (n > 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint8_t *area;
			if (wmq_dbuf_reserve(&in, 65536, &area) != WMQ_OK) {
				report(cfg, WMQ_E_TOO_LARGE);
				rc = 1;
				goto out;
			}
			ssize_t k = read(STDIN_FILENO, area, 65536);
			if (k > 0)
				in.len += (size_t)k;
			else if (k == 0 || errno != EINTR)
				eof = true;
		}
		int r = WMQ_E_OK;
		if (n > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			r = wmq_client_on_readable(c);
		if (r == WMQ_E_OK && wmq_client_fd(c) == fd && n > 0 &&
		    (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)))
			r = wmq_client_on_writable(c);
		if (r == WMQ_E_OK)
			r = wmq_client_on_timeout(c);
		if (r != WMQ_E_OK && !wmq_client_is_connected(c)) {
			report(cfg, r);
			rc = 1;
			goto out;
		}
	}
out:
	wmq_dbuf_cleanup(&in);
	return rc;
}

static int run_single(wmq_client *c, const struct wmq_tool_cfg *cfg, const uint8_t *payload,
		      size_t len)
{
	for (long i = 0; i < cfg->repeat && !got_signal; i++) {
		int r = publish_wait(c, cfg, payload, len);
		if (r != WMQ_E_OK) {
			report(cfg, r);
			return 1;
		}
		if (cfg->repeat_delay > 0 && i + 1 < cfg->repeat) {
			/* keep serving the connection while waiting */
			uint64_t until = wmq_now_ms() + (uint64_t)(cfg->repeat_delay * 1000.0);
			while (!got_signal && wmq_now_ms() < until) {
				uint64_t left = until - wmq_now_ms();
				int lr = wmq_client_loop(c, left > 100 ? 100 : (int)left);
				if (lr != WMQ_E_OK && !wmq_client_is_connected(c)) {
					report(cfg, lr);
					return 1;
				}
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct wmq_tool_cfg cfg;
	struct pub p = {0};
	struct wmq_dbuf msg;
	wmq_client *c = NULL;
	int code = 0;

	wmq_dbuf_init(&msg, MAX_INPUT);
	int prc = wmq_tool_start(&cfg, WMQ_TOOL_PUB, argc, argv);
	if (prc >= 0)
		return prc;
	p.cfg = &cfg;

	/* load the message before connecting, as mosquitto_pub does */
	if (cfg.src == WMQ_SRC_MESSAGE) {
		if (wmq_dbuf_append(&msg, cfg.message, strlen(cfg.message)) != WMQ_OK) {
			code = 1;
			goto out;
		}
	} else if (cfg.src == WMQ_SRC_FILE) {
		FILE *f = fopen(cfg.file, "rb");
		if (!f || slurp(fileno(f), &msg) != 0) {
			if (!cfg.quiet)
				fprintf(stderr, "Error: Unable to open file \"%s\".\nError loading input file \"%s\".\n",
					cfg.file, cfg.file);
			if (f)
				fclose(f);
			code = 1;
			goto out;
		}
		fclose(f);
	} else if (cfg.src == WMQ_SRC_STDIN) {
		if (slurp(STDIN_FILENO, &msg) != 0 || msg.len == 0) {
			if (!cfg.quiet)
				fprintf(stderr, "Error: Zero length input.\nError loading input from stdin.\n");
			code = 1;
			goto out;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	code = wmq_tool_connect(&cfg, &p, setup, &c);
	if (code != 0)
		goto out;
	if (cfg.src == WMQ_SRC_LINES)
		code = run_lines(c, &cfg);
	else
		code = run_single(c, &cfg, msg.p, msg.len);
	/* wait for the acknowledgements in short rounds so a signal stops it */
	while (code == 0 && !got_signal) {
		int r = wmq_client_wait_published(c, 200);
		if (r == WMQ_E_OK)
			break;
		if (r != WMQ_E_TIMEOUT) {
			report(&cfg, r);
			code = 1;
		}
	}
	if (wmq_client_is_connected(c))
		(void)wmq_client_disconnect_blocking(c, 0, cfg.props[WMQ_CMD_DISCONNECT], 5000);
out:
	wmq_client_destroy(c);
	wmq_dbuf_cleanup(&msg);
	wmq_tool_cfg_cleanup(&cfg);
	return code;
}
