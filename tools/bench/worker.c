/* SPDX-License-Identifier: MIT
 * worker.c - one wardmq_bench worker: an epoll loop that drives its share
 * of the connections through the libwardmq event-loop API, the client
 * callbacks (CONNACK, SUBACK, PUBACK/PUBCOMP, messages, disconnects), the
 * publishing pump with its window and rate limit, and the per-phase
 * actions (connect, subscribe, go offline, close, ...).
 *
 * epoll and the library. After every call into a client the worker
 * re-reads wmq_client_fd() and wmq_client_want_write() and brings the
 * epoll registration in step (sync_client). The library may replace the
 * socket while connecting (next address) and closes it before
 * on_disconnect runs, so a client that is not yet connected is always
 * re-registered and on_disconnect forgets the registration. Callbacks
 * only touch their own client; work on other clients (reconnects) is
 * queued and done by the loop, so no socket changes under a callback.
 * Timers: each client's next library deadline is cached at every sync and
 * scanned every 50 ms.
 * Threading: everything here runs on the worker's own thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bench.h"
#include "common/alloc.h"

#define SCAN_NS 50000000ull   /* timer scan and controller period */
#define MAX_EVENTS 512
#define CATCHUP_S 0.1         /* a rate-limited run forgets backlog beyond this */

#define RELAXED memory_order_relaxed

static void inc(_Atomic uint64_t *a)
{
	atomic_fetch_add_explicit(a, 1, RELAXED);
}

static void dec(_Atomic uint64_t *a)
{
	atomic_fetch_sub_explicit(a, 1, RELAXED);
}

/* ---- rings ------------------------------------------------------------------ */

static int ring_init(struct wmq_bench_ring *r, size_t cap)
{
	r->cap = cap ? cap : 1;
	r->head = r->len = 0;
	r->v = wmq_calloc(r->cap, sizeof *r->v);
	return r->v ? 0 : -1;
}

static void ring_push(struct wmq_bench_ring *r, struct wmq_bench_client *cl)
{
	if (r->len == r->cap)
		return; /* cannot happen: each client is in a ring at most once */
	r->v[(r->head + r->len) % r->cap] = cl;
	r->len++;
}

static struct wmq_bench_client *ring_pop(struct wmq_bench_ring *r)
{
	if (r->len == 0)
		return NULL;
	struct wmq_bench_client *cl = r->v[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return cl;
}

/* ---- notes -------------------------------------------------------------------- */

static void note_err(struct wmq_bench_err_note *n, const struct wmq_bench_client *cl, int error,
		     int reason, bool by_server)
{
	if (n->error != 0 || n->reason != 0 || n->client[0])
		return;
	n->error = error;
	n->reason = reason;
	n->by_server = by_server;
	snprintf(n->client, sizeof n->client, "%s", cl->id);
}

/* ---- epoll registration -------------------------------------------------------- */

static bool can_publish(const struct wmq_bench_client *cl)
{
	const struct wmq_bench_cfg *cfg = &cl->w->b->cfg;
	if (cl->role != WMQ_BENCH_ROLE_PUB || !cl->connected || cl->closing)
		return false;
	if (wmq_client_want_write(cl->c))
		return false;
	if (cfg->qos > 0 && wmq_client_pending_count(cl->c) >= cfg->window)
		return false;
	return true;
}

static void ep_set(struct wmq_bench_worker *w, struct wmq_bench_client *cl, int fd, uint32_t ev)
{
	struct epoll_event e;
	memset(&e, 0, sizeof e);
	e.events = ev;
	e.data.ptr = cl;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) != 0 && errno == EEXIST)
		(void)epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &e);
	cl->reg_fd = fd;
	cl->reg_ev = ev;
}

/* Bring epoll, the timer cache and the ready ring in step with the client
 * after a call into it. */
static void sync_client(struct wmq_bench_client *cl)
{
	struct wmq_bench_worker *w = cl->w;
	int fd = wmq_client_fd(cl->c);
	uint32_t ev = EPOLLIN | (wmq_client_want_write(cl->c) ? (uint32_t)EPOLLOUT : 0u);

	if (fd != cl->reg_fd || (fd >= 0 && !cl->connected)) {
		/* the old number, if different, was closed by the library
		 * during the call we just made: nobody else can own it yet */
		if (cl->reg_fd >= 0 && cl->reg_fd != fd)
			(void)epoll_ctl(w->ep, EPOLL_CTL_DEL, cl->reg_fd, NULL);
		cl->reg_fd = -1;
		cl->reg_ev = 0;
		if (fd >= 0)
			ep_set(w, cl, fd, ev);
	} else if (fd >= 0 && ev != cl->reg_ev) {
		struct epoll_event e;
		memset(&e, 0, sizeof e);
		e.events = ev;
		e.data.ptr = cl;
		if (epoll_ctl(w->ep, EPOLL_CTL_MOD, fd, &e) != 0 && errno == ENOENT)
			(void)epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e);
		cl->reg_ev = ev;
	}
	int t = wmq_client_next_timeout_ms(cl->c);
	cl->deadline_ns = t < 0 ? UINT64_MAX : w->now_ns + (uint64_t)t * 1000000u;
	if (w->phase == WMQ_BENCH_PH_RUN && !cl->in_ready && can_publish(cl)) {
		cl->in_ready = true;
		ring_push(&w->ready, cl);
	}
}

/* ---- callbacks ------------------------------------------------------------------ */

static void cb_connect(wmq_client *c, void *ud, int rc, bool session_present,
		       const wmq_properties *props)
{
	struct wmq_bench_client *cl = ud;
	struct wmq_bench_worker *w = cl->w;
	struct wmq_bench *b = w->b;
	(void)props;
	if (rc != 0)
		return; /* a refusal: on_disconnect follows */
	uint64_t now = wmq_bench_now_ns();
	if (cl->connecting) {
		cl->connecting = false;
		w->handshakes--;
		wmq_bench_hist_add(w->hs, now - cl->connect_ns);
	}
	atomic_store_explicit(&w->last_connack_ns, now, RELAXED);
	cl->connected = true;
	inc(&w->connects);
	if (cl->cleanup) {
		/* only there to drop the persistent session: leave at once */
		cl->closing = true;
		(void)wmq_client_disconnect(c, 0, NULL);
		return;
	}
	int ph = atomic_load(&b->phase);
	if (ph == WMQ_BENCH_PH_CHURN && cl->role == WMQ_BENCH_ROLE_CONN) {
		cl->closing = true;
		cl->churn = true;
		(void)wmq_client_disconnect(c, 0, NULL);
		return;
	}
	if (ph == WMQ_BENCH_PH_RECONNECT && cl->role == WMQ_BENCH_ROLE_SUB && !session_present)
		inc(&w->session_lost);
	atomic_fetch_add(&b->ph_done, 1);
}

static void cb_disconnect(wmq_client *c, void *ud, const wmq_disconnect_info *info)
{
	struct wmq_bench_client *cl = ud;
	struct wmq_bench_worker *w = cl->w;
	struct wmq_bench *b = w->b;
	(void)c;
	/* the library closed the socket before calling us: epoll forgot it */
	cl->reg_fd = -1;
	cl->reg_ev = 0;
	if (cl->open)
		dec(&w->open_conns);
	cl->open = false;
	cl->connected = false;
	if (cl->connecting) {
		cl->connecting = false;
		w->handshakes--;
		if (!cl->closing) {
			inc(&w->connect_failed);
			note_err(&w->first_connect_error, cl, info->error, info->reason_code,
				 info->by_server);
			atomic_fetch_add(&b->ph_fail, 1);
			atomic_fetch_add(&b->ph_done, 1);
			cl->cleanup = false;
			return;
		}
	}
	if (cl->closing) {
		cl->closing = false;
		if (cl->churn) {
			cl->churn = false;
			if (atomic_load(&b->phase) == WMQ_BENCH_PH_CHURN)
				ring_push(&w->connq, cl);
			return;
		}
		if (cl->cleanup) {
			cl->cleanup = false;
			atomic_fetch_add(&b->ph_done, 1);
		}
		return;
	}
	/* not asked for: the broker (or the network) ended it */
	inc(&w->disconnects);
	note_err(&w->first_disconnect, cl, info->error, info->reason_code, info->by_server);
}

static void cb_subscribe(wmq_client *c, void *ud, uint16_t mid, size_t count,
			 const int *reason_codes, const wmq_properties *props)
{
	struct wmq_bench_client *cl = ud;
	struct wmq_bench_worker *w = cl->w;
	(void)c;
	(void)mid;
	(void)props;
	bool ok = count > 0;
	for (size_t i = 0; i < count; i++)
		if (reason_codes[i] >= 0x80)
			ok = false;
	if (!ok) {
		inc(&w->sub_failed);
		atomic_fetch_add(&w->b->ph_fail, 1);
	}
	atomic_fetch_add(&w->b->ph_done, 1);
}

static void cb_publish(wmq_client *c, void *ud, uint16_t mid, int reason,
		       const wmq_properties *props)
{
	struct wmq_bench_client *cl = ud;
	struct wmq_bench_worker *w = cl->w;
	unsigned win = w->b->cfg.window;
	uint64_t now = wmq_bench_now_ns();
	(void)c;
	(void)props;
	if (cl->slots) {
		/* acknowledgements come in order: the hint is the usual hit */
		for (unsigned k = 0; k < win; k++) {
			unsigned i = (cl->slot_hint + k) % win;
			if (cl->slots[i].mid == mid) {
				wmq_bench_hist_add(w->ack, now - cl->slots[i].t_ns);
				cl->slots[i].mid = 0;
				cl->slot_hint = (i + 1) % win;
				break;
			}
		}
	}
	if (reason >= 0x80) {
		inc(&w->pub_failed);
		if (!w->first_pub_error)
			w->first_pub_error = reason;
	} else {
		inc(&w->acked);
	}
	if (atomic_load_explicit(&w->inflight, RELAXED) > 0)
		dec(&w->inflight);
	atomic_store_explicit(&w->last_ack_ns, now, RELAXED);
}

static void cb_message(wmq_client *c, void *ud, const wmq_message *m)
{
	struct wmq_bench_client *cl = ud;
	struct wmq_bench_worker *w = cl->w;
	uint64_t now = wmq_bench_now_ns();
	(void)c;
	inc(&w->received);
	if (atomic_load_explicit(&w->first_rx_ns, RELAXED) == 0)
		atomic_store_explicit(&w->first_rx_ns, now, RELAXED);
	atomic_store_explicit(&w->last_rx_ns, now, RELAXED);
	if (m->payload_len < WMQ_BENCH_HDR) {
		inc(&w->unique); /* no header: cannot tell duplicates */
		return;
	}
	uint32_t magic, pub, seq;
	uint64_t t;
	const uint8_t *p = m->payload;
	memcpy(&magic, p, 4);
	memcpy(&pub, p + 4, 4);
	memcpy(&seq, p + 8, 4);
	memcpy(&t, p + 12, 8);
	if (magic != WMQ_BENCH_MAGIC) {
		inc(&w->foreign);
		return;
	}
	if (t <= now)
		wmq_bench_hist_add(w->lat, now - t);
	if (!cl->last_seq) {
		inc(&w->unique);
		return;
	}
	if (pub - cl->pub_lo >= cl->pub_n) {
		inc(&w->foreign);
		return;
	}
	uint32_t *last = &cl->last_seq[pub - cl->pub_lo];
	if (seq <= *last) {
		inc(&w->dups);
	} else {
		*last = seq;
		inc(&w->unique);
	}
}

/* ---- actions ---------------------------------------------------------------------- */

static void start_connect(struct wmq_bench_client *cl, bool clean)
{
	struct wmq_bench_worker *w = cl->w;
	struct wmq_bench *b = w->b;
	const struct wmq_bench_cfg *cfg = &b->cfg;
	wmq_connect_opts o;
	wmq_tls_opts tls;
	char user[256], pass[256];

	wmq_connect_opts_init(&o);
	o.host = cfg->host;
	o.port = cfg->port;
	o.protocol_version = cfg->version;
	o.client_id = cl->id;
	o.clean_start = clean;
	o.keepalive = (uint16_t)cfg->keepalive;
	/* per-client credentials: "%n" is the index within the role, so
	 * publisher i and subscriber i of a pair share a user */
	if (cfg->username) {
		(void)wmq_bench_expand(cfg->username, cl->idx, user, sizeof user);
		o.username = user;
	}
	if (cfg->password) {
		(void)wmq_bench_expand(cfg->password, cl->idx, pass, sizeof pass);
		o.password = pass;
		o.password_len = strlen(pass);
	}
	if (cfg->cafile) {
		wmq_tls_opts_init(&tls);
		tls.cafile = cfg->cafile;
		tls.certfile = cfg->certfile;
		tls.keyfile = cfg->keyfile;
		tls.tls_version = "tlsv1.3";
		o.tls = &tls;
	}
	if (cfg->version == WMQ_PROTOCOL_V5 && cl->persistent && !cl->cleanup)
		o.session_expiry_interval = cfg->session_expiry;

	/* state first: a failure inside the call reports through on_disconnect */
	cl->open = true;
	cl->connecting = true;
	cl->connected = false;
	cl->closing = false;
	cl->connect_ns = wmq_bench_now_ns();
	w->handshakes++;
	inc(&w->open_conns);
	int rc = wmq_client_connect(cl->c, &o);
	if (rc != WMQ_E_OK && cl->connecting) {
		cl->open = false;
		cl->connecting = false;
		w->handshakes--;
		dec(&w->open_conns);
		inc(&w->connect_failed);
		note_err(&w->first_connect_error, cl, rc, 0, false);
		atomic_fetch_add(&b->ph_fail, 1);
		atomic_fetch_add(&b->ph_done, 1);
		cl->cleanup = false;
		return;
	}
	sync_client(cl);
}

static void begin_close(struct wmq_bench_client *cl)
{
	const struct wmq_bench_cfg *cfg = &cl->w->b->cfg;
	wmq_properties *props = NULL;
	if (!cl->open)
		return;
	cl->closing = true;
	cl->churn = false;
	if (cl->persistent && cfg->version == WMQ_PROTOCOL_V5 && cl->connected) {
		/* end the session with the connection: nothing is left behind */
		props = wmq_properties_new();
		if (props &&
		    wmq_properties_add_int(props, WMQ_PROPERTY_SESSION_EXPIRY_INTERVAL, 0) ==
			    WMQ_E_OK)
			cl->session_ended = true;
	}
	(void)wmq_client_disconnect(cl->c, 0, props);
	wmq_properties_free(props);
	sync_client(cl);
}

static void publish_one(struct wmq_bench_client *cl)
{
	struct wmq_bench_worker *w = cl->w;
	const struct wmq_bench_cfg *cfg = &w->b->cfg;
	uint64_t now = wmq_bench_now_ns();
	uint16_t mid = 0;

	cl->seq++;
	if (cfg->size >= WMQ_BENCH_HDR) {
		uint32_t magic = WMQ_BENCH_MAGIC, pub = cl->idx, seq = cl->seq;
		memcpy(w->payload, &magic, 4);
		memcpy(w->payload + 4, &pub, 4);
		memcpy(w->payload + 8, &seq, 4);
		memcpy(w->payload + 12, &now, 8);
	}
	int rc = wmq_client_publish(cl->c, &mid, cl->topic, w->payload, cfg->size, cfg->qos, false,
				    NULL);
	if (rc != WMQ_E_OK) {
		cl->seq--;
		inc(&w->pub_errors);
		if (!w->first_pub_error)
			w->first_pub_error = rc;
		return;
	}
	inc(&w->sent);
	w->rate_sent++;
	if (cfg->qos == 0)
		return;
	inc(&w->inflight);
	if (cl->slots) {
		for (unsigned k = 0; k < cfg->window; k++) {
			unsigned i = (cl->slot_hint + k) % cfg->window;
			if (cl->slots[i].mid == 0) {
				cl->slots[i].mid = mid;
				cl->slots[i].t_ns = now;
				break;
			}
		}
	}
}

/* Publish from the ready ring: one pass over it, at most |burst| messages
 * per publisher (one when rate-limited), within the rate budget. */
static void pub_step(struct wmq_bench_worker *w)
{
	const struct wmq_bench_cfg *cfg = &w->b->cfg;
	uint64_t budget = UINT64_MAX;
	if (cfg->rate > 0) {
		double due = (double)(w->now_ns - w->rate_base_ns) / 1e9 * w->rate_w;
		double cap = w->rate_w * CATCHUP_S + 1.0;
		if (due - (double)w->rate_sent > cap)
			w->rate_sent = (uint64_t)(due - cap);
		budget = due > (double)w->rate_sent ? (uint64_t)(due - (double)w->rate_sent) : 0;
	}
	size_t n = w->ready.len; /* bounded: one pass over the ring */
	unsigned per = cfg->burst;
	if (cfg->rate > 0 && budget / n + 1 < per)
		per = (unsigned)(budget / n + 1); /* spread the budget over the ring */
	for (size_t i = 0; i < n && budget > 0; i++) {
		struct wmq_bench_client *cl = ring_pop(&w->ready);
		cl->in_ready = false;
		for (unsigned k = 0; k < per && budget > 0 && can_publish(cl); k++) {
			uint64_t before = w->rate_sent;
			publish_one(cl);
			if (w->rate_sent == before)
				break; /* failed: counted, try again next turn */
			budget--;
		}
		sync_client(cl);
	}
}

static void drain_connq(struct wmq_bench_worker *w)
{
	/* bounded by the queue length */
	while (w->connq.len > 0 && w->handshakes < w->conn_window) {
		struct wmq_bench_client *cl = ring_pop(&w->connq);
		bool clean = cl->cleanup ? true : !cl->persistent;
		if (w->phase == WMQ_BENCH_PH_RECONNECT)
			clean = false;
		start_connect(cl, clean);
	}
}

static void scan_timers(struct wmq_bench_worker *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct wmq_bench_client *cl = w->cl[i];
		if (cl->deadline_ns <= w->now_ns) {
			(void)wmq_client_on_timeout(cl->c);
			sync_client(cl);
		}
	}
}

static void clear_ready(struct wmq_bench_worker *w)
{
	struct wmq_bench_client *cl;
	while ((cl = ring_pop(&w->ready)) != NULL)
		cl->in_ready = false;
}

/* Actions on entering |ph|. A worker that missed a phase in between only
 * runs the latest one's: the controller never skips a phase that needs
 * an action from every worker (it waits for its completion). */
static void enter_phase(struct wmq_bench_worker *w, int ph)
{
	const struct wmq_bench_cfg *cfg = &w->b->cfg;
	w->phase = ph;
	switch (ph) {
	case WMQ_BENCH_PH_CONNECT_SUBS:
	case WMQ_BENCH_PH_RECONNECT:
		for (size_t i = 0; i < w->n; i++)
			if (w->cl[i]->role == WMQ_BENCH_ROLE_SUB)
				ring_push(&w->connq, w->cl[i]);
		break;
	case WMQ_BENCH_PH_SUBSCRIBE:
		for (size_t i = 0; i < w->n; i++) {
			struct wmq_bench_client *cl = w->cl[i];
			if (cl->role != WMQ_BENCH_ROLE_SUB || !cl->connected)
				continue;
			int rc = wmq_client_subscribe(cl->c, NULL, cl->topic, cfg->qos, NULL);
			if (rc != WMQ_E_OK) {
				inc(&w->sub_failed);
				atomic_fetch_add(&w->b->ph_fail, 1);
				atomic_fetch_add(&w->b->ph_done, 1);
			}
			sync_client(cl);
		}
		break;
	case WMQ_BENCH_PH_OFFLINE:
		for (size_t i = 0; i < w->n; i++) {
			struct wmq_bench_client *cl = w->cl[i];
			if (cl->role != WMQ_BENCH_ROLE_SUB || !cl->open)
				continue;
			/* a plain DISCONNECT: the session (expiry from CONNECT) stays */
			cl->closing = true;
			(void)wmq_client_disconnect(cl->c, 0, NULL);
			sync_client(cl);
		}
		break;
	case WMQ_BENCH_PH_CONNECT:
		for (size_t i = 0; i < w->n; i++)
			if (w->cl[i]->role != WMQ_BENCH_ROLE_SUB)
				ring_push(&w->connq, w->cl[i]);
		break;
	case WMQ_BENCH_PH_RUN:
		w->rate_base_ns = w->now_ns;
		w->rate_sent = 0;
		for (size_t i = 0; i < w->n; i++)
			if (w->cl[i]->role == WMQ_BENCH_ROLE_PUB)
				sync_client(w->cl[i]);
		break;
	case WMQ_BENCH_PH_DRAIN:
		clear_ready(w);
		break;
	case WMQ_BENCH_PH_CHURN:
		for (size_t i = 0; i < w->n; i++) {
			struct wmq_bench_client *cl = w->cl[i];
			if (cl->role != WMQ_BENCH_ROLE_CONN || !cl->connected)
				continue;
			cl->closing = true;
			cl->churn = true;
			(void)wmq_client_disconnect(cl->c, 0, NULL);
			sync_client(cl);
		}
		break;
	case WMQ_BENCH_PH_CLOSE:
		clear_ready(w);
		while (ring_pop(&w->connq) != NULL)
			;
		for (size_t i = 0; i < w->n; i++)
			begin_close(w->cl[i]);
		break;
	case WMQ_BENCH_PH_CLEANUP:
		for (size_t i = 0; i < w->n; i++) {
			struct wmq_bench_client *cl = w->cl[i];
			if (cl->persistent && !cl->session_ended && !cl->open) {
				cl->cleanup = true;
				ring_push(&w->connq, cl);
				atomic_fetch_add(&w->b->ph_target, 1);
			}
		}
		break;
	default:
		break;
	}
	atomic_fetch_add(&w->b->ph_entered, 1);
}

/* ---- loop --------------------------------------------------------------------------- */

static void client_event(struct wmq_bench_client *cl, uint32_t events)
{
	int fd = wmq_client_fd(cl->c);
	if (fd < 0 || fd != cl->reg_fd) {
		sync_client(cl); /* stale event for a socket already replaced */
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		(void)wmq_client_on_readable(cl->c);
	if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && wmq_client_fd(cl->c) == fd)
		(void)wmq_client_on_writable(cl->c);
	sync_client(cl);
}

static int loop_timeout_ms(const struct wmq_bench_worker *w)
{
	const struct wmq_bench_cfg *cfg = &w->b->cfg;
	if (w->connq.len > 0 && w->handshakes < w->conn_window)
		return 0;
	if (w->ready.len > 0) {
		if (cfg->rate <= 0)
			return 0;
		double next = (double)w->rate_base_ns + ((double)w->rate_sent + 1.0) / w->rate_w * 1e9;
		double wait = (next - (double)w->now_ns) / 1e6;
		if (wait <= 0)
			return 0;
		if (wait < 50)
			return (int)wait + 1;
	}
	uint64_t left = w->next_timer_scan_ns > w->now_ns ? w->next_timer_scan_ns - w->now_ns : 0;
	return (int)(left / 1000000u) + 1;
}

static void drain_fd(int fd)
{
	uint64_t v;
	(void)!read(fd, &v, sizeof v);
}

void wmq_bench_worker_run(struct wmq_bench_worker *w)
{
	struct wmq_bench *b = w->b;
	struct epoll_event ev[MAX_EVENTS];

	w->now_ns = wmq_bench_now_ns();
	w->next_timer_scan_ns = w->now_ns + SCAN_NS;
	/* bounded: the controller times out every phase and ends in DONE */
	for (;;) {
		int ph = atomic_load(&b->phase);
		if (ph != w->phase)
			enter_phase(w, ph);
		if (ph == WMQ_BENCH_PH_DONE)
			break;
		int n = epoll_wait(w->ep, ev, MAX_EVENTS, loop_timeout_ms(w));
		w->now_ns = wmq_bench_now_ns();
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			if (p == &w->evfd) {
				drain_fd(w->evfd);
			} else if (p == &b->sigfd) {
				struct signalfd_siginfo si;
				if (read(b->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
					if (++b->interrupts == 1)
						wmq_bench_abort(b, "interrupted", w->now_ns);
					else
						wmq_bench_set_phase(b, WMQ_BENCH_PH_DONE, w->now_ns);
				}
			} else {
				client_event(p, ev[i].events);
			}
		}
		drain_connq(w);
		if (w->phase == WMQ_BENCH_PH_RUN && w->ready.len > 0)
			pub_step(w);
		if (w->now_ns >= w->next_timer_scan_ns) {
			scan_timers(w);
			w->next_timer_scan_ns = w->now_ns + SCAN_NS;
			if (w->id == 0)
				wmq_bench_control_tick(b, w->now_ns);
		}
	}
}

void *wmq_bench_worker_thread(void *arg)
{
	wmq_bench_worker_run(arg);
	return NULL;
}

void wmq_bench_worker_wake(struct wmq_bench_worker *w)
{
	uint64_t one = 1;
	(void)!write(w->evfd, &one, sizeof one);
}

/* ---- setup -------------------------------------------------------------------------- */

int wmq_bench_worker_init(struct wmq_bench_worker *w)
{
	struct wmq_bench *b = w->b;
	struct epoll_event e;

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->evfd < 0) {
		perror("wardmq_bench: epoll/eventfd");
		return -1;
	}
	memset(&e, 0, sizeof e);
	e.events = EPOLLIN;
	e.data.ptr = &w->evfd;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &e) != 0) {
		perror("wardmq_bench: epoll_ctl");
		return -1;
	}
	if (w->id == 0 && b->sigfd >= 0) {
		e.data.ptr = &b->sigfd;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, b->sigfd, &e) != 0) {
			perror("wardmq_bench: epoll_ctl");
			return -1;
		}
	}
	w->payload = wmq_calloc(1, b->cfg.size ? b->cfg.size : 1);
	w->lat = wmq_bench_hist_new();
	w->ack = wmq_bench_hist_new();
	w->hs = wmq_bench_hist_new();
	if (!w->payload || !w->lat || !w->ack || !w->hs || ring_init(&w->ready, w->npubs) != 0 ||
	    ring_init(&w->connq, w->n) != 0) {
		fprintf(stderr, "wardmq_bench: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < b->cfg.size; i++)
		w->payload[i] = (uint8_t)('a' + i % 26);
	for (size_t i = 0; i < w->n; i++) {
		struct wmq_bench_client *cl = w->cl[i];
		cl->c = wmq_client_new(cl);
		if (!cl->c) {
			fprintf(stderr, "wardmq_bench: out of memory\n");
			return -1;
		}
		wmq_client_on_connect(cl->c, cb_connect);
		wmq_client_on_disconnect(cl->c, cb_disconnect);
		wmq_client_on_subscribe(cl->c, cb_subscribe);
		wmq_client_on_publish(cl->c, cb_publish);
		wmq_client_on_message(cl->c, cb_message);
		(void)wmq_client_set_option(cl->c, WMQ_OPT_RECONNECT, 0);
		(void)wmq_client_set_option(cl->c, WMQ_OPT_CONNECT_TIMEOUT_MS,
					    (long)(b->cfg.phase_timeout * 1000.0));
		if (cl->role == WMQ_BENCH_ROLE_PUB)
			(void)wmq_client_set_option(cl->c, WMQ_OPT_MAX_INFLIGHT, (long)b->cfg.window);
	}
	return 0;
}

void wmq_bench_worker_cleanup(struct wmq_bench_worker *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct wmq_bench_client *cl = w->cl[i];
		if (!cl)
			continue;
		wmq_client_destroy(cl->c);
		wmq_free(cl->topic);
		wmq_free(cl->slots);
		wmq_free(cl->last_seq);
		wmq_free(cl);
	}
	wmq_free(w->cl);
	wmq_free(w->ready.v);
	wmq_free(w->connq.v);
	wmq_free(w->payload);
	wmq_bench_hist_free(w->lat);
	wmq_bench_hist_free(w->ack);
	wmq_bench_hist_free(w->hs);
	if (w->ep >= 0)
		close(w->ep);
	if (w->evfd >= 0)
		close(w->evfd);
}
