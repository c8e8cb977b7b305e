/* SPDX-License-Identifier: MIT
 * control.c - the wardmq_bench controller: moves the run through its
 * phases when every worker has finished the current one (or when it
 * times out), keeps the timestamps the summary needs, samples the
 * broker's memory, and prints the progress line once a second.
 * Runs on worker 0's thread (called from its loop every 50 ms); other
 * workers see the phase through b->phase and an eventfd wake-up.
 * Threading: worker 0 only; reads other workers' counters atomically. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define NS 1000000000ull
#define QUIET_DRAIN_NS (NS)      /* DRAIN ends after 1 s without progress */
#define QUIET_BACKLOG_NS (2 * NS) /* BACKLOG ends after 2 s without progress */

uint64_t wmq_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

int wmq_bench_expand(const char *tmpl, uint32_t idx, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = tmpl; *p; p++) {
		char num[16];
		const char *add = num;
		size_t n;
		if (p[0] == '%' && p[1] == 'n') {
			n = (size_t)snprintf(num, sizeof num, "%u", (unsigned)idx);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			add = "%";
			n = 1;
			p++;
		} else {
			add = p;
			n = 1;
		}
		if (o + n >= cap)
			return -1;
		memcpy(out + o, add, n);
		o += n;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

const char *wmq_bench_phase_name(int phase)
{
	static const char *const names[WMQ_BENCH_PH__COUNT] = {
		"init", "connect", "subscribe", "offline", "connect", "run", "drain",
		"reconnect", "backlog", "hold", "churn", "close", "cleanup", "done",
	};
	return phase >= 0 && phase < WMQ_BENCH_PH__COUNT ? names[phase] : "?";
}

long wmq_bench_rss_kb(long pid)
{
	char path[64], line[256];
	long kb = 0;
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	/* bounded by the file */
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			if (sscanf(line + 6, "%ld", &kb) != 1)
				kb = 0;
			break;
		}
	}
	fclose(f);
	return kb;
}

double wmq_bench_cpu_s(long pid)
{
	char path[64], buf[1024];
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the command name, which may hold spaces: "pid (comm) S ..." */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long utime = 0, stime = 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		   &stime) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	return (double)(utime + stime) / (double)(hz > 0 ? hz : 100);
}

static uint64_t sum(const struct wmq_bench *b, size_t offset)
{
	uint64_t s = 0;
	for (int i = 0; i < b->nw; i++) {
		const _Atomic uint64_t *a =
			(const _Atomic uint64_t *)(const void *)((const char *)&b->w[i] + offset);
		s += atomic_load_explicit(a, memory_order_relaxed);
	}
	return s;
}
#define SUM(b, field) sum((b), offsetof(struct wmq_bench_worker, field))

static void sample_rss(struct wmq_bench *b, long *slot)
{
	long kb = wmq_bench_rss_kb(b->cfg.broker_pid);
	if (slot)
		*slot = kb;
	if (kb > b->rss_peak)
		b->rss_peak = kb;
}

void wmq_bench_set_phase(struct wmq_bench *b, int phase, uint64_t now)
{
	int old = atomic_load(&b->phase);
	if (old == WMQ_BENCH_PH_CONNECT_SUBS || old == WMQ_BENCH_PH_CONNECT ||
	    old == WMQ_BENCH_PH_RECONNECT) {
		uint64_t done = atomic_load(&b->ph_done), fail = atomic_load(&b->ph_fail);
		/* up to the last CONNACK, not to the controller's 50 ms tick */
		uint64_t last = 0;
		for (int i = 0; i < b->nw; i++) {
			uint64_t t = atomic_load(&b->w[i].last_connack_ns);
			if (t > last)
				last = t;
		}
		b->connect_ns_total += (last > b->t_phase_ns ? last : now) - b->t_phase_ns;
		b->connect_ok_total += done > fail ? done - fail : 0;
	}
	if (old == WMQ_BENCH_PH_RUN)
		b->t_run_end = now;
	if (old == WMQ_BENCH_PH_CHURN)
		b->t_churn_end = now;
	if (phase == WMQ_BENCH_PH_CLOSE && b->rss_end == 0) {
		sample_rss(b, &b->rss_end);
		b->cpu_end = wmq_bench_cpu_s(b->cfg.broker_pid);
	}
	/* broker CPU is counted from the start of the load to CLOSE */
	if (phase == WMQ_BENCH_PH_RUN ||
	    (phase == WMQ_BENCH_PH_CONNECT && b->cfg.scenario == WMQ_BENCH_CONN))
		b->cpu_start = wmq_bench_cpu_s(b->cfg.broker_pid);
	atomic_store(&b->ph_done, 0);
	atomic_store(&b->ph_fail, 0);
	atomic_store(&b->ph_target, 0);
	atomic_store(&b->ph_entered, 0);
	b->t_phase_ns = now;
	b->quiet_since_ns = now;
	b->last_rx_seen = SUM(b, received) + SUM(b, acked);
	if (phase == WMQ_BENCH_PH_RUN)
		b->t_run_start = now;
	if (phase == WMQ_BENCH_PH_RECONNECT)
		b->t_backlog_start = now;
	if (phase == WMQ_BENCH_PH_CHURN) {
		b->churn_connects_before = SUM(b, connects);
		b->t_churn_start = now;
	}
	atomic_store(&b->phase, phase);
	for (int i = 1; i < b->nw; i++)
		wmq_bench_worker_wake(&b->w[i]);
}

void wmq_bench_abort(struct wmq_bench *b, const char *why, uint64_t now)
{
	int ph = atomic_load(&b->phase);
	if (!b->aborted) {
		b->aborted = true;
		snprintf(b->abort_reason, sizeof b->abort_reason, "%s", why);
	}
	if (ph < WMQ_BENCH_PH_CLOSE)
		wmq_bench_set_phase(b, WMQ_BENCH_PH_CLOSE, now);
	else if (ph != WMQ_BENCH_PH_DONE)
		wmq_bench_set_phase(b, WMQ_BENCH_PH_DONE, now);
}

static bool any_persistent(const struct wmq_bench *b)
{
	return (b->nsubs > 0 && (b->cfg.offline || b->cfg.persistent)) ||
	       (b->cfg.persistent && (b->npubs > 0 || b->nconn > 0));
}

static int next_phase(const struct wmq_bench *b, int cur)
{
	bool conn = b->cfg.scenario == WMQ_BENCH_CONN;
	switch (cur) {
	case WMQ_BENCH_PH_INIT:
		return b->nsubs > 0 ? WMQ_BENCH_PH_CONNECT_SUBS : WMQ_BENCH_PH_CONNECT;
	case WMQ_BENCH_PH_CONNECT_SUBS:
		return WMQ_BENCH_PH_SUBSCRIBE;
	case WMQ_BENCH_PH_SUBSCRIBE:
		if (b->cfg.offline)
			return WMQ_BENCH_PH_OFFLINE;
		return b->npubs > 0 ? WMQ_BENCH_PH_CONNECT : WMQ_BENCH_PH_RUN;
	case WMQ_BENCH_PH_OFFLINE:
		return b->npubs > 0 ? WMQ_BENCH_PH_CONNECT : WMQ_BENCH_PH_RUN;
	case WMQ_BENCH_PH_CONNECT:
		if (conn)
			return b->cfg.churn ? WMQ_BENCH_PH_CHURN : WMQ_BENCH_PH_HOLD;
		return WMQ_BENCH_PH_RUN;
	case WMQ_BENCH_PH_RUN:
		return WMQ_BENCH_PH_DRAIN;
	case WMQ_BENCH_PH_DRAIN:
		return b->cfg.offline ? WMQ_BENCH_PH_RECONNECT : WMQ_BENCH_PH_CLOSE;
	case WMQ_BENCH_PH_RECONNECT:
		return WMQ_BENCH_PH_BACKLOG;
	case WMQ_BENCH_PH_BACKLOG:
	case WMQ_BENCH_PH_HOLD:
	case WMQ_BENCH_PH_CHURN:
		return WMQ_BENCH_PH_CLOSE;
	case WMQ_BENCH_PH_CLOSE:
		return any_persistent(b) ? WMQ_BENCH_PH_CLEANUP : WMQ_BENCH_PH_DONE;
	default:
		return WMQ_BENCH_PH_DONE;
	}
}

static void describe_failure(const struct wmq_bench *b, char *out, size_t cap, const char *what,
			     uint64_t fail, uint64_t total)
{
	const struct wmq_bench_err_note *n = NULL;
	for (int i = 0; i < b->nw && !n; i++)
		if (b->w[i].first_connect_error.client[0])
			n = &b->w[i].first_connect_error;
	if (n)
		snprintf(out, cap, "%llu of %llu %s failed (first: %s: %s, reason 0x%02x)",
			 (unsigned long long)fail, (unsigned long long)total, what, n->client,
			 wmq_strerror(n->error), (unsigned)n->reason);
	else
		snprintf(out, cap, "%llu of %llu %s failed", (unsigned long long)fail,
			 (unsigned long long)total, what);
}

static uint64_t expected_now(const struct wmq_bench *b)
{
	uint64_t base = b->cfg.qos == 0 ? SUM(b, sent) : SUM(b, acked);
	if (b->cfg.offline && b->cfg.qos == 0)
		return 0;
	return base * b->factor;
}

/* Has the current phase finished? May abort the run. */
static bool phase_done(struct wmq_bench *b, int ph, uint64_t now)
{
	const struct wmq_bench_cfg *cfg = &b->cfg;
	uint64_t elapsed = now - b->t_phase_ns;
	uint64_t timeout = (uint64_t)(cfg->phase_timeout * 1e9);
	uint64_t done = atomic_load(&b->ph_done), fail = atomic_load(&b->ph_fail);
	char why[160];

	/* progress watch for the drain phases */
	uint64_t activity = SUM(b, received) + SUM(b, acked);
	if (activity != b->last_rx_seen) {
		b->last_rx_seen = activity;
		b->quiet_since_ns = now;
	}
	uint64_t quiet = now - b->quiet_since_ns;

	switch (ph) {
	case WMQ_BENCH_PH_INIT:
		return true;
	case WMQ_BENCH_PH_CONNECT_SUBS:
	case WMQ_BENCH_PH_CONNECT:
	case WMQ_BENCH_PH_RECONNECT: {
		uint64_t target = ph == WMQ_BENCH_PH_CONNECT ? (uint64_t)(b->npubs + b->nconn)
							     : (uint64_t)b->nsubs;
		if (done >= target) {
			if (fail > 0 && cfg->scenario != WMQ_BENCH_CONN) {
				describe_failure(b, why, sizeof why, "connections", fail, target);
				wmq_bench_abort(b, why, now);
				return false;
			}
			if (ph != WMQ_BENCH_PH_RECONNECT)
				sample_rss(b, &b->rss_connected);
			return true;
		}
		if (elapsed > timeout) {
			snprintf(why, sizeof why, "connect phase timed out: %llu of %llu done",
				 (unsigned long long)done, (unsigned long long)target);
			wmq_bench_abort(b, why, now);
		}
		return false;
	}
	case WMQ_BENCH_PH_SUBSCRIBE:
		if (done >= (uint64_t)b->nsubs) {
			if (fail > 0) {
				snprintf(why, sizeof why, "%llu of %ld subscriptions refused",
					 (unsigned long long)fail, b->nsubs);
				wmq_bench_abort(b, why, now);
				return false;
			}
			return true;
		}
		if (elapsed > timeout)
			wmq_bench_abort(b, "subscribe phase timed out", now);
		return false;
	case WMQ_BENCH_PH_OFFLINE:
		if (SUM(b, open_conns) == 0)
			return true;
		if (elapsed > timeout)
			wmq_bench_abort(b, "subscribers did not disconnect in time", now);
		return false;
	case WMQ_BENCH_PH_RUN:
	case WMQ_BENCH_PH_HOLD:
	case WMQ_BENCH_PH_CHURN:
		return elapsed >= (uint64_t)(cfg->duration * 1e9);
	case WMQ_BENCH_PH_DRAIN: {
		uint64_t exp = expected_now(b);
		bool acks_in = cfg->qos == 0 || SUM(b, inflight) == 0;
		bool rx_in = cfg->offline || exp == 0 || SUM(b, unique) >= exp;
		return (acks_in && rx_in) || quiet >= QUIET_DRAIN_NS ||
		       elapsed >= (uint64_t)(cfg->drain_timeout * 1e9);
	}
	case WMQ_BENCH_PH_BACKLOG: {
		uint64_t exp = expected_now(b);
		return (exp > 0 && SUM(b, unique) >= exp) || quiet >= QUIET_BACKLOG_NS ||
		       elapsed >= (uint64_t)(cfg->drain_timeout * 1e9);
	}
	case WMQ_BENCH_PH_CLOSE:
		return SUM(b, open_conns) == 0 || elapsed > timeout;
	case WMQ_BENCH_PH_CLEANUP:
		return (atomic_load(&b->ph_entered) >= b->nw &&
			done >= atomic_load(&b->ph_target) && SUM(b, open_conns) == 0) ||
		       elapsed > timeout;
	default:
		return false;
	}
}

static void progress(struct wmq_bench *b, uint64_t now)
{
	uint64_t sent = SUM(b, sent), recv = SUM(b, received), acked = SUM(b, acked);
	uint64_t conns = SUM(b, connects);
	double dt = (double)(now - (b->next_progress_ns - NS)) / 1e9;
	if (dt <= 0)
		dt = 1;
	int ph = atomic_load(&b->phase);
	char rss[48] = "";
	if (b->cfg.broker_pid > 0) {
		long kb = wmq_bench_rss_kb(b->cfg.broker_pid);
		if (kb > b->rss_peak)
			b->rss_peak = kb;
		snprintf(rss, sizeof rss, "  broker %.1f MiB", (double)kb / 1024.0);
	}
	if (!b->cfg.quiet) {
		fprintf(stderr,
			"[%6.1fs] %-9s sent %8.0f/s  acked %8.0f/s  recv %8.0f/s  inflight %6llu"
			"  conns %6llu (+%.0f/s)%s%s\n",
			(double)(now - b->t_start_ns) / 1e9, wmq_bench_phase_name(ph),
			(double)(sent - b->prev_sent) / dt, (double)(acked - b->prev_acked) / dt,
			(double)(recv - b->prev_recv) / dt,
			(unsigned long long)SUM(b, inflight), (unsigned long long)SUM(b, open_conns),
			(double)(conns - b->prev_conn) / dt, rss,
			SUM(b, disconnects) ? "  DISCONNECTS" : "");
	}
	b->prev_sent = sent;
	b->prev_recv = recv;
	b->prev_acked = acked;
	b->prev_conn = conns;
}

void wmq_bench_control_tick(struct wmq_bench *b, uint64_t now)
{
	int ph = atomic_load(&b->phase);
	if (ph == WMQ_BENCH_PH_INIT) {
		b->t_start_ns = now;
		b->next_progress_ns = now + NS;
		sample_rss(b, &b->rss_before);
	}
	if (now >= b->next_progress_ns) {
		progress(b, now);
		b->next_progress_ns += NS;
		if (b->next_progress_ns <= now)
			b->next_progress_ns = now + NS;
	}
	/* bounded: a phase transition happens at most once per phase kind */
	for (int i = 0; i < WMQ_BENCH_PH__COUNT; i++) {
		ph = atomic_load(&b->phase);
		if (ph == WMQ_BENCH_PH_DONE || !phase_done(b, ph, now))
			break;
		if (atomic_load(&b->phase) != ph)
			continue; /* phase_done aborted */
		if (ph != WMQ_BENCH_PH_INIT && atomic_load(&b->ph_entered) < b->nw)
			break; /* a worker has not even started this phase yet */
		wmq_bench_set_phase(b, next_phase(b, ph), now);
		break; /* let the workers enter it before judging it */
	}
}
