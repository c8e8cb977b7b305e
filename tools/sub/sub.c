/* SPDX-License-Identifier: MIT
 * sub.c - wardmq_sub: subscribe to topics and print the messages, flag- and
 * output-compatible with mosquitto_sub (see tools/common/opts.c for the
 * flags and tools/common/format.c for -F / -v / -N output).
 *
 * Flow: parse, connect (on_connect subscribes and unsubscribes, so a
 * reconnecting client would do it again), then run the blocking loop in
 * short rounds so that -W and signals are noticed. Exit status: 0, 1 on
 * errors, the CONNACK code on a refused connection, 27 on -W timeout. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/time.h"
#include "tool.h"

#define EXIT_TIMEOUT 27

/* Set by the signal handler: the one piece of process-wide state, as a
 * signal handler can reach nothing else. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

struct sub {
	struct wmq_tool_cfg *cfg;
	long count;
	bool done;     /* stop after pending removals are acknowledged */
	bool failed;   /* a subscription request could not be sent */
	struct wmq_dbuf out;
};

static void sub_on_connect(wmq_client *c, void *ud, int rc, bool sp, const wmq_properties *props)
{
	struct sub *s = ud;
	struct wmq_tool_cfg *cfg = s->cfg;
	(void)sp;
	(void)props;
	if (rc != 0)
		return; /* reported by wmq_tool_connect() */
	if (cfg->n_topics) {
		wmq_subscription *subs = wmq_calloc(cfg->n_topics, sizeof *subs);
		if (!subs) {
			s->failed = true;
			return;
		}
		for (size_t i = 0; i < cfg->n_topics; i++) {
			subs[i].filter = cfg->topics[i];
			subs[i].qos = cfg->qos;
		}
		int r = wmq_client_subscribe_many(c, NULL, subs, cfg->n_topics,
						  cfg->props[WMQ_CMD_SUBSCRIBE]);
		wmq_free(subs);
		if (r != WMQ_E_OK) {
			if (!cfg->quiet)
				fprintf(stderr, "Error: %s\n", wmq_strerror(r));
			s->failed = true;
			return;
		}
	}
	for (size_t i = 0; i < cfg->n_unsub_topics; i++) {
		const char *t = cfg->unsub_topics[i];
		int r = wmq_client_unsubscribe(c, NULL, &t, 1, cfg->props[WMQ_CMD_UNSUBSCRIBE]);
		if (r != WMQ_E_OK) {
			if (!cfg->quiet)
				fprintf(stderr, "Error: %s\n", wmq_strerror(r));
			s->failed = true;
			return;
		}
	}
}

static void sub_on_subscribe(wmq_client *c, void *ud, uint16_t mid, size_t n, const int *codes,
			     const wmq_properties *props)
{
	struct sub *s = ud;
	(void)c;
	(void)props;
	if (s->cfg->debug && !s->cfg->quiet) {
		printf("Subscribed (mid: %u): %d", mid, n ? codes[0] : 0);
		for (size_t i = 1; i < n; i++)
			printf(", %d", codes[i]);
		printf("\n");
		fflush(stdout);
	}
	if (s->cfg->exit_after_sub)
		s->done = true;
}

static void sub_on_message(wmq_client *c, void *ud, const wmq_message *m)
{
	struct sub *s = ud;
	struct wmq_tool_cfg *cfg = s->cfg;
	struct timespec now;

	if (s->done)
		return;
	if (cfg->retained_only && !m->retain) {
		s->done = true;
		return;
	}
	if (m->retain && cfg->no_retain)
		return;
	for (size_t i = 0; i < cfg->n_filter_outs; i++)
		if (wmq_topic_matches(cfg->filter_outs[i], m->topic))
			return;
	if (cfg->remove_retained && m->retain)
		(void)wmq_client_publish(c, NULL, m->topic, NULL, 0, 1, true, NULL);

	clock_gettime(CLOCK_REALTIME, &now);
	struct wmq_tool_msg tm = {
		.topic = m->topic,
		.payload = m->payload,
		.payload_len = m->payload_len,
		.qos = m->qos,
		.retain = m->retain,
		.mid = m->mid,
		.props = m->props,
	};
	wmq_dbuf_reset(&s->out);
	wmq_err e = cfg->format ? wmq_tool_format(&s->out, cfg->format, &tm, &now, cfg->eol)
				: wmq_tool_format_default(&s->out, &tm, cfg->verbose, cfg->eol);
	if (e == WMQ_OK && s->out.len) {
		fwrite(s->out.p, 1, s->out.len, stdout);
		fflush(stdout);
	}
	wmq_dbuf_shrink(&s->out, 1 << 16);
	if (cfg->msg_count > 0 && ++s->count >= cfg->msg_count)
		s->done = true;
}

static void setup(wmq_client *c, void *ud)
{
	wmq_client_on_connect(c, sub_on_connect);
	wmq_client_on_subscribe(c, sub_on_subscribe);
	wmq_client_on_message(c, sub_on_message);
	(void)ud;
}

int main(int argc, char **argv)
{
	struct wmq_tool_cfg cfg;
	struct sub s;
	wmq_client *c = NULL;
	int code = 0;

	memset(&s, 0, sizeof s);
	int prc = wmq_tool_start(&cfg, WMQ_TOOL_SUB, argc, argv);
	if (prc >= 0)
		return prc;
	s.cfg = &cfg;
	wmq_dbuf_init(&s.out, (size_t)512 << 20);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	code = wmq_tool_connect(&cfg, &s, setup, &c);
	if (code != 0)
		goto out;

	uint64_t deadline = cfg.timeout ? wmq_now_ms() + (uint64_t)cfg.timeout * 1000u : 0;
	/* bounded by -W, -C, -E, a signal or the connection's end */
	for (;;) {
		if (s.failed) {
			code = 1;
			break;
		}
		if (got_signal)
			break;
		if (deadline && wmq_now_ms() >= deadline) {
			if (!cfg.quiet)
				fprintf(stderr, "Timed out\n");
			code = EXIT_TIMEOUT;
			break;
		}
		if (s.done && wmq_client_pending_count(c) == 0)
			break;
		int wait = 100;
		if (deadline) {
			uint64_t now = wmq_now_ms();
			if (deadline - now < (uint64_t)wait)
				wait = (int)(deadline - now);
		}
		int r = wmq_client_loop(c, wait);
		if (!wmq_client_is_connected(c) && wmq_client_fd(c) < 0) {
			if (!cfg.quiet)
				fprintf(stderr, "Error: %s\n",
					wmq_strerror(r != WMQ_E_OK ? r : WMQ_E_CONN_LOST));
			code = 1;
			goto out;
		}
	}
	(void)wmq_client_disconnect_blocking(c, 0, cfg.props[WMQ_CMD_DISCONNECT], 5000);
out:
	wmq_client_destroy(c);
	wmq_dbuf_cleanup(&s.out);
	wmq_tool_cfg_cleanup(&cfg);
	return code;
}
