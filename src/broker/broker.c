/* SPDX-License-Identifier: MIT
 * broker.c - the broker context: listeners, the event loop turn, periodic
 * housekeeping, signals (signalfd: no handlers, no globals), reload and
 * clean shutdown.
 * One loop turn: wait for events (at most until the next housekeeping tick)
 * -> handlers parse and route, writing into per-connection buffers -> every
 * connection written to this turn is flushed once (batched writes) ->
 * connections closed this turn are freed, their wills published.
 * Threading: one worker thread runs wmq_broker_run(). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "common/time.h"

#define HOUSEKEEPING_MS 1000u
#define ACCEPT_BATCH 64

uint64_t wmq_broker_next_id(struct wmq_broker *b)
{
	return ++b->next_msg_id;
}

uint16_t wmq_broker_port(const struct wmq_broker *b, size_t i)
{
	return i < b->n_listeners ? b->listeners[i].bound_port : 0;
}

static wmq_err open_log(struct wmq_broker *b)
{
	const char *d = b->cfg.log_dest ? b->cfg.log_dest : "stderr";
	FILE *fp = stderr;
	if (strcmp(d, "stdout") == 0) {
		fp = stdout;
	} else if (strcmp(d, "none") == 0) {
		fp = NULL;
	} else if (strncmp(d, "file:", 5) == 0) {
		fp = fopen(d + 5, "a");
		if (!fp) {
			fprintf(stderr, "wardmq: cannot open log file %s: %s\n", d + 5, strerror(errno));
			WMQ_BAIL(WMQ_ERR_IO);
		}
	}
	if (b->log_file)
		fclose(b->log_file);
	b->log_file = (fp && fp != stderr && fp != stdout) ? fp : NULL;
	wmq_log_init(&b->log, fp, (enum wmq_log_level)b->cfg.log_level);
	b->log.timestamps = b->cfg.log_timestamp;
	return WMQ_OK;
}

wmq_err wmq_broker_new(struct wmq_config *cfg, struct wmq_broker **out)
{
	struct wmq_broker *b = wmq_calloc(1, sizeof *b);
	WMQ_ENSURE(b != NULL, WMQ_ERR_NOMEM);
	b->cfg = *cfg; /* ownership of the config moves to the broker */
	memset(cfg, 0, sizeof *cfg);
	b->sigfd = -1;
	wmq_hmap_init(&b->sessions);
	wmq_authn_registry_init(&b->authn);
	wmq_err rc;
	b->rxbuf = wmq_malloc(WMQ_RXBUF);
	if (!b->rxbuf) {
		wmq_broker_free(b);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	if ((rc = open_log(b)) != WMQ_OK || (rc = wmq_router_init(&b->router)) != WMQ_OK ||
	    (rc = wmq_retained_init(&b->retained)) != WMQ_OK || (rc = wmq_ev_new(&b->ev)) != WMQ_OK) {
		wmq_broker_free(b);
		return rc;
	}
	b->started_at = b->now = wmq_now_ms();
	b->started_wall = wmq_wall_s();
	*out = b;
	return WMQ_OK;
}

static void on_accept(struct wmq_ev_handle *h, uint32_t events)
{
	struct wmq_listener *l = h->arg;
	struct wmq_broker *b = l->b;
	WMQ_UNUSED(events);
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		char peer[WMQ_ADDRSTRLEN];
		struct sockaddr_storage ss;
		socklen_t sl = 0;
		int fd = wmq_sock_accept(h->fd, peer, sizeof peer, &ss, &sl);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				WMQ_LOG(&b->log, WMQ_LOG_WARNING, "accept on port %u: %s",
					l->bound_port, strerror(errno));
			return;
		}
		/* Connection limits are applied before anything is read. */
		if ((b->cfg.max_connections >= 0 && (long)b->nclients >= b->cfg.max_connections) ||
		    (l->cfg.max_connections >= 0 && l->nconn >= l->cfg.max_connections)) {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
				"connection from %s refused: max_connections reached", peer);
			b->stats.connects_refused++;
			close(fd);
			continue;
		}
		/* Bans, lock-outs and the connection rate, also before anything
		 * is read. The answer waits for CONNECT (it names the protocol
		 * version, and so the reason code); a TLS listener closes at
		 * once rather than pay for a handshake to refuse. */
		struct wmq_addr addr;
		bool has_addr = wmq_addr_from_sockaddr((const struct sockaddr *)&ss, sl, &addr) == WMQ_OK;
		enum wmq_defence_verdict v = has_addr ? wmq_security_on_accept(b, l, &addr, peer) : WMQ_DEFENCE_OK;
		if (v != WMQ_DEFENCE_OK && l->tls) {
			b->stats.connects_refused++;
			close(fd);
			continue;
		}
		wmq_client_accept(l, fd, peer, has_addr ? &addr : NULL, v);
	}
}

static void on_signal(struct wmq_ev_handle *h, uint32_t events)
{
	struct wmq_broker *b = h->arg;
	struct signalfd_siginfo si;
	WMQ_UNUSED(events);
	for (int i = 0; i < 16; i++) {
		ssize_t k = read(h->fd, &si, sizeof si);
		if (k != (ssize_t)sizeof si)
			return;
		if (si.ssi_signo == SIGHUP) {
			b->reload_requested = true;
		} else {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "signal %u received, shutting down",
				si.ssi_signo);
			b->stop = true;
		}
	}
}

/* TLS-PSK keys come from the identity store, cached in memory by
 * security.c (RFC 4279 §5.1: an unknown identity fails the handshake). */
static wmq_err psk_lookup(void *arg, const char *identity, uint8_t *key, size_t cap, size_t *len)
{
	return wmq_security_psk_key(arg, identity, key, cap, len);
}

static wmq_err listener_tls(struct wmq_broker *b, const struct wmq_listener_cfg *lc,
			    struct wmq_tls_ctx **out, char *err, size_t errlen)
{
	struct wmq_tls_opts o;
	memset(&o, 0, sizeof o);
	o.certfile = lc->certfile;
	o.keyfile = lc->keyfile;
	o.cafile = lc->cafile;
	o.capath = lc->capath;
	o.crlfile = lc->crlfile;
	o.min_version = (enum wmq_tls_version)lc->tls_version;
	o.ciphers = lc->ciphers;
	o.ciphers_tls13 = lc->ciphers_tls13;
	o.require_certificate = lc->require_certificate;
	o.psk_hint = lc->psk_hint;
	o.psk_fn = psk_lookup;
	o.psk_arg = b;
	return wmq_tls_ctx_new(&o, out, err, errlen);
}

/* The WebSocket options of a `protocol websockets` listener (RFC 6455
 * §4.2): they borrow l->cfg's strings, which live as long as the listener
 * (reload keeps the listener configuration). */
static wmq_err listener_ws(struct wmq_broker *b, struct wmq_listener *l)
{
	struct wmq_ws_opts *o = &l->ws_opts;
	memset(o, 0, sizeof *o);
	l->ws = true;
	o->path = l->cfg.ws_path && strcmp(l->cfg.ws_path, "*") != 0 ? l->cfg.ws_path : NULL;
	o->trust_xff = l->cfg.ws_trust_forwarded;
	o->max_request = b->cfg.websockets_headers_size; /* 0 = the default */
	/* The limit of one frame follows the largest MQTT packet: a client
	 * may put a whole packet in one frame. */
	o->max_frame = (size_t)b->cfg.max_packet_size + 16u;
	if (o->max_frame < WMQ_WS_DEFAULT_MAX_FRAME)
		o->max_frame = WMQ_WS_DEFAULT_MAX_FRAME;
	if (!l->cfg.ws_origins)
		return WMQ_OK;
	/* "a b c" -> {"a", "b", "c", NULL} */
	size_t n = 1;
	for (const char *p = l->cfg.ws_origins; *p; p++)
		n += *p == ' ' || *p == '\t';
	l->ws_origin_buf = wmq_strdup(l->cfg.ws_origins);
	l->ws_origin_list = wmq_calloc(n + 1, sizeof *l->ws_origin_list);
	WMQ_ENSURE(l->ws_origin_buf && l->ws_origin_list, WMQ_ERR_NOMEM);
	size_t k = 0;
	for (char *p = l->ws_origin_buf; *p && k < n;) {
		size_t w = strcspn(p, " \t");
		l->ws_origin_list[k++] = p;
		p += w;
		if (*p) {
			*p++ = '\0';
			p += strspn(p, " \t");
		}
	}
	o->origins = l->ws_origin_list;
	return WMQ_OK;
}

wmq_err wmq_broker_start(struct wmq_broker *b)
{
	char err[512];
	sigset_t set;
	/* Signals are blocked before any thread exists (the store thread
	 * inherits the mask) and read through a signalfd in the loop. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	WMQ_ENSURE(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, WMQ_ERR_IO);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit must surface as a store error, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	/* Durable state first: a store that cannot be opened stops the start
	 * before any client can connect. */
	WMQ_TRY(wmq_persist_open(b));
	/* Users, rules and the audit log: before any client can connect. */
	WMQ_TRY(wmq_security_open(b));
	/* The admin socket: after the policy, so requests see a running broker. */
	WMQ_TRY(wmq_admin_start(b));
	b->listeners = wmq_calloc(b->cfg.n_listeners ? b->cfg.n_listeners : 1, sizeof *b->listeners);
	WMQ_ENSURE(b->listeners != NULL, WMQ_ERR_NOMEM);
	for (size_t i = 0; i < b->cfg.n_listeners; i++) {
		struct wmq_listener *l = &b->listeners[i];
		l->b = b;
		l->cfg = b->cfg.listeners[i];
		b->n_listeners = i + 1; /* freed by wmq_broker_free from here on */
		if (wmq_listener_is_tls(&l->cfg)) {
			char terr[512];
			if (l->cfg.psk_hint && !b->store) {
				WMQ_LOG(&b->log, WMQ_LOG_ERROR,
					"%s:%d: listener %u: psk_hint needs the identity store, where "
					"the keys live (persistence true or --db; keys are added with "
					"wardmq_ctl psk add)",
					b->cfg.path ? b->cfg.path : "config", l->cfg.line, l->cfg.port);
				WMQ_BAIL(WMQ_ERR_INVAL);
			}
			if (listener_tls(b, &l->cfg, &l->tls, terr, sizeof terr) != WMQ_OK) {
				WMQ_LOG(&b->log, WMQ_LOG_ERROR, "%s:%d: listener %u: %s",
					b->cfg.path ? b->cfg.path : "config", l->cfg.line, l->cfg.port,
					terr);
				WMQ_BAIL(WMQ_ERR_INVAL);
			}
			if (terr[0])
				WMQ_LOG(&b->log, WMQ_LOG_WARNING, "listener %u: %s", l->cfg.port, terr);
		}
		if (l->cfg.protocol == WMQ_LISTENER_WEBSOCKETS)
			WMQ_TRY(listener_ws(b, l));
		if (wmq_sock_listen(l->cfg.address, l->cfg.port, l->fds, 2, &l->nfds, err,
				    sizeof err) != WMQ_OK) {
			WMQ_LOG(&b->log, WMQ_LOG_ERROR, "%s", err);
			WMQ_BAIL(WMQ_ERR_IO);
		}
		l->bound_port = wmq_sock_local_port(l->fds[0]);
		for (size_t k = 0; k < l->nfds; k++)
			WMQ_TRY(wmq_ev_add(b->ev, &l->h[k], l->fds[k], WMQ_EV_READ, on_accept, l));
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "listening on %s port %u (%s%s%s%s)",
			l->cfg.address ? l->cfg.address : "all interfaces", l->bound_port,
			l->ws ? (l->tls ? "wss" : "ws") : "mqtt", l->ws ? "" : l->tls ? "+tls" : "",
			l->cfg.allow_anonymous ? ", anonymous allowed" : "",
			l->ws ? (l->cfg.ws_trust_forwarded ? ", X-Forwarded-For trusted" : "") : "");
	}
	b->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	WMQ_ENSURE(b->sigfd >= 0, WMQ_ERR_IO);
	WMQ_TRY(wmq_ev_add(b->ev, &b->sig_h, b->sigfd, WMQ_EV_READ, on_signal, b));
	wmq_ev_set_clock(b->ev, &b->now);
	b->next_housekeeping = wmq_now_ms() + HOUSEKEEPING_MS;
	b->next_sys = b->cfg.sys_interval ? wmq_now_ms() : 0;
	return WMQ_OK;
}

/* Flush what this turn wrote, then free what it closed; freeing publishes
 * wills, which may write again: repeat a bounded number of times. */
static void end_of_turn(struct wmq_broker *b)
{
	for (int round = 0; round < 8 && (b->dirty_head || b->dead_head || b->batch); round++) {
		/* group commit: this turn's store ops in one batch */
		wmq_persist_end_of_turn(b);
		while (b->dirty_head) {
			struct wmq_client *c = b->dirty_head;
			b->dirty_head = c->dirty_next;
			c->dirty = false;
			c->dirty_next = NULL;
			wmq_client_flush(c);
		}
		struct wmq_client *dead = b->dead_head;
		b->dead_head = NULL;
		while (dead) {
			struct wmq_client *next = dead->dead_next;
			if (dead->dirty) {
				/* still on the dirty list: unlink first */
				struct wmq_client **pp = &b->dirty_head;
				while (*pp && *pp != dead)
					pp = &(*pp)->dirty_next;
				if (*pp)
					*pp = dead->dirty_next;
			}
			wmq_client_free(dead);
			dead = next;
		}
	}
}

static void housekeeping(struct wmq_broker *b, uint64_t now)
{
	for (struct wmq_client *c = b->clients; c; c = c->next)
		wmq_client_housekeeping(c, now);
	wmq_session_housekeeping(b, now);
}

struct recheck_call {
	const struct wmq_tls_ctx *ctx;
	enum wmq_tls_fail why;
	wmq_err rc;
	const char *err;
};

static void recheck_fn(struct wmq_conn *conn, void *arg)
{
	struct recheck_call *q = arg;
	q->rc = wmq_tls_peer_recheck(q->ctx, conn, &q->why);
	q->err = wmq_tls_last_error(conn);
}

/* SIGHUP for a TLS listener: certificates, key, CA and CRL are read again
 * for new connections; an invalid new file keeps the old material. The new
 * option strings move into |kept| (the listener array that stays), the old
 * ones into |fresh| (freed with the new configuration). With crl_disconnect,
 * live sessions whose certificate the new CA/CRL rejects are closed. */
static void reload_tls(struct wmq_broker *b, struct wmq_listener *l, struct wmq_listener_cfg *kept,
		       struct wmq_listener_cfg *fresh)
{
	struct wmq_tls_ctx *nt = NULL;
	char terr[512];
	if (!l->tls || !wmq_listener_is_tls(fresh))
		return; /* switching TLS on or off needs a restart (logged) */
	if (listener_tls(b, fresh, &nt, terr, sizeof terr) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "reload: listener %u keeps its TLS material: %s",
			l->cfg.port, terr);
		return;
	}
	if (terr[0])
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "listener %u: %s", l->cfg.port, terr);
	wmq_tls_ctx_free(l->tls); /* live connections hold their own reference */
	l->tls = nt;
#define SWAP_STR(f)                                                            \
	do {                                                                   \
		char *t_ = kept->f;                                            \
		kept->f = fresh->f;                                            \
		fresh->f = t_;                                                 \
	} while (0)
	SWAP_STR(certfile);
	SWAP_STR(keyfile);
	SWAP_STR(cafile);
	SWAP_STR(capath);
	SWAP_STR(crlfile);
	SWAP_STR(ciphers);
	SWAP_STR(ciphers_tls13);
	SWAP_STR(psk_hint);
#undef SWAP_STR
	kept->tls_version = fresh->tls_version;
	kept->require_certificate = fresh->require_certificate;
	kept->use_identity_as_username = fresh->use_identity_as_username;
	kept->identity_source = fresh->identity_source;
	kept->crl_disconnect = fresh->crl_disconnect;
	kept->allow_anonymous = l->cfg.allow_anonymous;
	kept->max_connections = l->cfg.max_connections;
	l->cfg = *kept;
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "listener %u: TLS material reloaded", l->cfg.port);
	if (!l->cfg.crl_disconnect)
		return;
	for (struct wmq_client *c = b->clients; c; c = c->next) {
		struct recheck_call q = {.ctx = l->tls, .why = WMQ_TLS_FAIL_NONE, .rc = WMQ_OK, .err = ""};
		if (c->listener != l || c->state == WMQ_CL_CLOSED)
			continue;
		/* wss: the TLS session sits under the WebSocket layer */
		wmq_ws_with_inner(&c->conn, recheck_fn, &q);
		if (q.rc == WMQ_ERR_DENIED) {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "client %s [%s]: certificate no longer valid (%s): %s",
				c->client_id ? c->client_id : "-", c->conn.peer, wmq_tls_fail_name(q.why),
				q.err);
			wmq_client_close(c, WMQ_RC_ADMIN_ACTION, "certificate revoked");
		}
	}
}

/* SIGHUP: re-read the file; keep the old configuration if the new one is
 * invalid; apply what can change at run time. */
static void reload(struct wmq_broker *b)
{
	struct wmq_config nc;
	char err[512], changed[512];
	b->reload_requested = false;
	wmq_security_reopen_audit(b); /* logrotate moves it, then sends SIGHUP */
	if (!b->cfg.path) {
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "reload requested, but no configuration file in use");
		wmq_security_reload(b);
		return;
	}
	if (wmq_config_load(b->cfg.path, &nc, err, sizeof err) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "reload failed, keeping the running configuration: %s",
			err);
		wmq_security_reload(b);
		return;
	}
	if (b->cfg.db_from_cli) { /* --db FILE wins over the file, as at start */
		nc.persistence = true;
		nc.db_from_cli = true;
		if (nc.durability == WMQ_DURABILITY_NONE)
			nc.durability = WMQ_DURABILITY_STRICT;
		char *dup = wmq_strdup(b->cfg.persistence_file);
		if (dup) {
			wmq_free(nc.persistence_file);
			nc.persistence_file = dup;
		}
	}
	if (wmq_config_nonreloadable_changes(&b->cfg, &nc, changed, sizeof changed))
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "reload: changes to %s need a restart", changed);
	/* Per-listener settings that can change live, matched by port. */
	for (size_t i = 0; i < b->n_listeners; i++) {
		struct wmq_listener *l = &b->listeners[i];
		for (size_t k = 0; k < nc.n_listeners; k++) {
			if (nc.listeners[k].port == l->cfg.port) {
				l->cfg.allow_anonymous = nc.listeners[k].allow_anonymous;
				l->cfg.max_connections = nc.listeners[k].max_connections;
				l->cfg.deny_action = nc.listeners[k].deny_action;
				reload_tls(b, l, &b->cfg.listeners[i], &nc.listeners[k]);
				break;
			}
		}
	}
	/* Keep what cannot change: listeners and persistence. Swapping the
	 * owned pointers lets wmq_config_cleanup free the right ones. */
	struct wmq_listener_cfg *tl = nc.listeners;
	size_t tn = nc.n_listeners;
	nc.listeners = b->cfg.listeners;
	nc.n_listeners = b->cfg.n_listeners;
	b->cfg.listeners = tl;
	b->cfg.n_listeners = tn;
	char *ta = nc.admin_socket; /* the socket stays where it was created */
	nc.admin_socket = b->cfg.admin_socket;
	b->cfg.admin_socket = ta;
	char *tp = nc.persistence_file;
	nc.persistence_file = b->cfg.persistence_file;
	b->cfg.persistence_file = tp;
	nc.persistence = b->cfg.persistence;
	nc.durability = b->cfg.durability;
	nc.durability_interval_ms = b->cfg.durability_interval_ms;
	char *tpath = nc.path;
	nc.path = b->cfg.path;
	b->cfg.path = tpath;
	struct wmq_config old = b->cfg;
	b->cfg = nc;
	wmq_config_cleanup(&old);
	/* listener cfg copies borrow strings from b->cfg.listeners, which
	 * are the same (swapped back) objects. */
	if (open_log(b) != WMQ_OK)
		wmq_log_init(&b->log, stderr, (enum wmq_log_level)b->cfg.log_level);
	if (b->cfg.sys_interval && !b->next_sys)
		b->next_sys = wmq_now_ms();
	wmq_security_reconfigure(b);
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "configuration reloaded from %s", b->cfg.path);
	/* the store's users and rules, under the new 'authorization' */
	wmq_security_reload(b);
}

wmq_err wmq_broker_run(struct wmq_broker *b)
{
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "wardmq %s running", WMQ_VERSION);
	WMQ_TRY(wmq_admin_launch(b)); /* here: threads do not survive daemon()'s fork */
	while (!b->stop) {
		uint64_t now = wmq_now_ms();
		int timeout = 0;
		uint64_t wake = b->next_housekeeping;
		if (b->next_hold_at && b->next_hold_at < wake)
			wake = b->next_hold_at; /* a CONNECT held for a back-off */
		if (wake > now && !b->dirty_head)
			timeout = (int)(wake - now); /* else: output waits */
		if (wmq_ev_poll(b->ev, timeout) < 0) {
			WMQ_LOG(&b->log, WMQ_LOG_ERROR, "event loop: %s", strerror(errno));
			WMQ_BAIL(WMQ_ERR_IO);
		}
		end_of_turn(b);
		now = wmq_now_ms();
		wmq_security_release_held(b, now);
		if (now >= b->next_housekeeping) {
			housekeeping(b, now);
			b->next_housekeeping = now + HOUSEKEEPING_MS;
		}
		if (b->cfg.sys_interval && b->next_sys && now >= b->next_sys) {
			wmq_sys_publish(b, now);
			b->next_sys = now + (uint64_t)b->cfg.sys_interval * 1000u;
		}
		if (b->reload_requested)
			reload(b);
		end_of_turn(b);
	}
	/* Clean stop: tell v5 clients (0x8B), publish wills of the
	 * connections being closed, keep sessions until the process ends. */
	for (struct wmq_client *c = b->clients; c; c = c->next)
		wmq_client_close(c, WMQ_RC_SERVER_SHUTTING_DOWN, "server shutting down");
	end_of_turn(b);
	wmq_admin_stop(b);
	wmq_persist_close(b);
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "wardmq stopped");
	return WMQ_OK;
}

void wmq_broker_free(struct wmq_broker *b)
{
	if (!b)
		return;
	while (b->clients) {
		struct wmq_client *c = b->clients;
		if (c->state != WMQ_CL_CLOSED)
			wmq_client_close(c, 0xff, NULL);
		b->dead_head = NULL;
		wmq_client_free(c);
	}
	wmq_session_free_all(b);
	wmq_admin_stop(b);
	wmq_security_close(b);
	if (b->batch) {
		wmq_store_abort(b->batch);
		b->batch = NULL;
	}
	wmq_persist_close(b);
	for (size_t i = 0; i < b->n_listeners; i++)
		for (size_t k = 0; k < b->listeners[i].nfds; k++) {
			wmq_ev_del(b->ev, &b->listeners[i].h[k]);
			close(b->listeners[i].fds[k]);
		}
	for (size_t i = 0; i < b->n_listeners; i++) {
		wmq_tls_ctx_free(b->listeners[i].tls);
		wmq_free(b->listeners[i].ws_origin_buf);
		wmq_free(b->listeners[i].ws_origin_list);
	}
	wmq_free(b->listeners);
	if (b->sigfd >= 0)
		close(b->sigfd);
	wmq_ev_free(b->ev);
	wmq_router_cleanup(&b->router);
	wmq_retained_cleanup(&b->retained);
	wmq_hmap_cleanup(&b->sessions);
	wmq_free(b->matches);
	wmq_free(b->match_ids);
	wmq_free(b->shared_picks);
	wmq_free(b->rxbuf);
	wmq_config_cleanup(&b->cfg);
	if (b->log_file)
		fclose(b->log_file);
	wmq_free(b);
}
