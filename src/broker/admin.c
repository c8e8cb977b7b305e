/* SPDX-License-Identifier: MIT
 * admin.c - the broker's admin socket (config `admin_socket PATH`): the
 * online side of wardmq_ctl. Changes made through it take effect at once,
 * without a restart or SIGHUP.
 *
 * Role: a unix stream socket, created with mode 0600 in a directory owned
 * by the broker's user and not writable by others; a stale socket left by
 * a crash is replaced, anything else at the path stops the start.
 * Authentication: the file mode (only the broker's user and root can
 * connect) and SO_PEERCRED: a peer whose uid is neither the broker's nor 0
 * gets a refusal reply, an audit line and the connection closed.
 * Execution: a dedicated admin thread (so SQLite writes and USER_CHECK's
 * Argon2id never block the worker) polls the socket and at most
 * ADMIN_MAX_CONN connections; each connection has its own identity-store
 * handle and executor (admin/admin.h ctl_local_attach: audit actor "uid:N"
 * or the peer's login name, via "socket") and gets one reply frame per
 * request frame (admin/wire.c). The executor also reaches the brute-force
 * defence (b->defence, thread-safe: ctl_local_set_live) to list and lift
 * the automatic lock-outs, which live in memory only. A connection idle for ADMIN_IDLE_MS is
 * closed. A transaction (TXN_BEGIN..COMMIT, wardmq_ctl's imports) lives on
 * its connection: while it is open the other connections wait, and a
 * dropped connection rolls it back.
 * Taking effect: after a request that changed something (for a
 * transaction: after its COMMIT; read-only requests: nothing) the thread
 * adds the change flags (ctl_op_changes -> WMQ_SEC_CHG_*) to |pending|,
 * signals the worker's eventfd (registered on the broker's event loop) and
 * waits on a condition variable, at most ADMIN_APPLY_WAIT_MS, until the
 * worker has called wmq_security_changed() with them. Only then is the
 * reply sent, so when wardmq_ctl returns, new checks use the new state (a
 * reply sent after the wait timed out carries a warning).
 * Shutdown: wmq_admin_stop() (end of wmq_broker_run, and wmq_broker_free)
 * wakes the thread through a second eventfd, releases a waiting apply,
 * joins the thread (open transactions roll back) and unlinks the socket.
 *
 * Threading: the admin thread owns the listening socket, the connections
 * and their store handles; the worker owns the change eventfd's handle.
 * They share only |mu|-guarded fields (pending, posted, applied, stopping)
 * and the audit log (wmq_audit is thread-safe), the brute-force defence
 * (its own mutex) and log (one fwrite per line). Ownership: b->admin belongs to the broker. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "broker/broker.h"
#include "common/alloc.h"
#include "common/path.h"
#include "common/time.h"
#include "crypto/crypto.h"

#define ADMIN_MAX_CONN 4
#define ADMIN_IDLE_MS 30000u
#define ADMIN_APPLY_WAIT_MS 5000u
#define ADMIN_SEND_TIMEOUT_S 10

struct admin_conn {
	int fd;                  /* -1: free slot */
	uid_t uid;
	struct wmq_store_id *h;
	struct ctl_backend *be;
	struct wmq_dbuf in;      /* bytes of the frame being read */
	uint64_t last;           /* monotonic ms of the last activity */
	bool txn;                /* TXN_BEGIN seen, no COMMIT/ROLLBACK yet */
	unsigned txn_changes;    /* enum ctl_change of the open transaction */
	char actor[64];
};

struct wmq_admin {
	struct wmq_broker *b;    /* worker side only (on_change) */
	const struct wmq_log *log;
	struct wmq_audit *audit; /* borrowed, thread-safe, may be NULL */
	struct ctl_live live;    /* b->defence (thread-safe) for lock-outs */
	char *path;
	char *db;
	uid_t uid;               /* the broker's effective uid */
	int lfd;
	int stopfd;              /* worker -> admin thread: stop */
	int chgfd;               /* admin thread -> worker: changes pending */
	struct wmq_ev_handle chg_h;
	bool chg_registered;
	pthread_t th;
	bool started;
	struct admin_conn conns[ADMIN_MAX_CONN];
	/* shared, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pending;        /* enum ctl_change not applied yet */
	uint64_t posted, applied;
	bool stopping;
};

/* ---- Worker side ------------------------------------------------------------- */

static unsigned sec_flags(unsigned chg)
{
	unsigned f = 0;
	if (chg & CTL_CHG_USERS)
		f |= WMQ_SEC_CHG_USERS;
	if (chg & CTL_CHG_POLICY)
		f |= WMQ_SEC_CHG_POLICY;
	if (chg & CTL_CHG_BANS)
		f |= WMQ_SEC_CHG_BANS;
	if (chg & CTL_CHG_PSK)
		f |= WMQ_SEC_CHG_PSK;
	return f;
}

static void on_change(struct wmq_ev_handle *h, uint32_t events)
{
	struct wmq_admin *a = h->arg;
	uint64_t n;
	WMQ_UNUSED(events);
	if (read(a->chgfd, &n, sizeof n) < 0) {
		/* EAGAIN: already drained; the flags below are what counts */
	}
	pthread_mutex_lock(&a->mu);
	unsigned chg = a->pending;
	uint64_t seq = a->posted;
	a->pending = 0;
	pthread_mutex_unlock(&a->mu);
	if (chg)
		wmq_security_changed(a->b, sec_flags(chg));
	pthread_mutex_lock(&a->mu);
	a->applied = seq;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* ---- Admin thread: applying changes -------------------------------------------- */

/* Hand |chg| to the worker and wait until it applied them. false: not
 * confirmed in time (or the broker is stopping). */
static bool post_and_wait(struct wmq_admin *a, unsigned chg)
{
	struct timespec dl;
	uint64_t one = 1;
	bool ok = true;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ADMIN_APPLY_WAIT_MS / 1000u;
	pthread_mutex_lock(&a->mu);
	a->pending |= chg;
	uint64_t seq = ++a->posted;
	pthread_mutex_unlock(&a->mu);
	if (write(a->chgfd, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is saturated, the worker wakes anyway */
	}
	pthread_mutex_lock(&a->mu);
	while (a->applied < seq && !a->stopping) { /* bounded by the deadline */
		if (pthread_cond_timedwait(&a->cv, &a->mu, &dl) == ETIMEDOUT) {
			ok = a->applied >= seq;
			break;
		}
	}
	if (a->applied < seq)
		ok = false;
	pthread_mutex_unlock(&a->mu);
	return ok;
}

/* ---- Admin thread: connections ---------------------------------------------------- */

static void conn_close(struct admin_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->be)
		c->be->ops->close(c->be); /* rolls back an open transaction */
	wmq_store_id_close(c->h);
	if (c->in.p)
		wmq_crypto_wipe(c->in.p, c->in.cap); /* may hold a USER_CHECK password */
	wmq_dbuf_cleanup(&c->in);
	close(c->fd);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
	uint64_t deadline = wmq_now_ms() + ADMIN_SEND_TIMEOUT_S * 1000u;
	while (n > 0) { /* bounded by the deadline (SO_SNDTIMEO makes each send return) */
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || wmq_now_ms() > deadline)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

static bool send_res(struct wmq_admin *a, int fd, const struct ctl_res *res)
{
	struct wmq_dbuf d;
	bool ok;
	wmq_dbuf_init(&d, (size_t)CTL_WIRE_MAX + 4);
	wmq_err e = ctl_wire_res_encode(res, &d);
	if (e != WMQ_OK) {
		/* too large or out of memory: say so instead */
		struct ctl_res r2;
		ctl_res_init(&r2);
		ctl_res_msg(&r2, CTL_EXIT_ERROR, "the result cannot be sent (%s)%s", wmq_err_str(e),
			    res->status == CTL_EXIT_OK ? "; the request itself was executed" : "");
		wmq_dbuf_reset(&d);
		e = ctl_wire_res_encode(&r2, &d);
		ctl_res_cleanup(&r2);
		WMQ_LOG(a->log, WMQ_LOG_WARNING, "admin socket: a reply could not be encoded");
	}
	ok = e == WMQ_OK && send_all(fd, d.p, d.len);
	wmq_dbuf_cleanup(&d);
	return ok;
}

static void audit_refusal(struct wmq_admin *a, uid_t uid)
{
	char actor[32];
	if (!a->audit)
		return;
	snprintf(actor, sizeof actor, "uid:%u", (unsigned)uid);
	struct wmq_audit_field f[] = {
		{.key = "actor", .str = wmq_bytes_cstr(actor)},
		{.key = "via", .str = WMQ_BYTES_STR("socket")},
	};
	struct wmq_audit_event ev = {
		.kind = WMQ_AUDIT_ADMIN,
		.event = "admin.connect",
		.decision = WMQ_AUDIT_DENY,
		.reason = "peer uid is neither the broker's nor root",
		.fields = f,
		.nfields = WMQ_ARRAY_LEN(f),
	};
	if (wmq_audit_write(a->audit, &ev) != WMQ_OK)
		WMQ_LOG(a->log, WMQ_LOG_WARNING, "audit_file: a line could not be written");
}

static void accept_one(struct wmq_admin *a)
{
	int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct ucred cr;
	socklen_t crl = sizeof cr;
	struct ctl_res res;
	ctl_res_init(&res);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) != 0) {
		close(fd);
		return;
	}
	struct timeval tv = {.tv_sec = ADMIN_SEND_TIMEOUT_S};
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (cr.uid != a->uid && cr.uid != 0) {
		/* authentication: the file mode keeps others out; SO_PEERCRED
		 * makes sure even if the mode was loosened */
		WMQ_LOG(a->log, WMQ_LOG_WARNING, "admin socket: connection from uid %u (pid %d) refused",
			(unsigned)cr.uid, (int)cr.pid);
		audit_refusal(a, cr.uid);
		ctl_res_msg(&res, CTL_EXIT_ERROR, "permission denied: uid %u is neither the broker's user (uid %u) "
			    "nor root", (unsigned)cr.uid, (unsigned)a->uid);
		(void)send_res(a, fd, &res);
		close(fd);
		return;
	}
	struct admin_conn *c = NULL;
	for (size_t i = 0; i < ADMIN_MAX_CONN && !c; i++)
		if (a->conns[i].fd < 0)
			c = &a->conns[i];
	if (!c) {
		ctl_res_msg(&res, CTL_EXIT_ERROR, "the broker is busy: %d admin connections are open; try again",
			    ADMIN_MAX_CONN);
		(void)send_res(a, fd, &res);
		close(fd);
		return;
	}
	struct wmq_store_id_opts so = {.flags = 0, .busy_timeout_ms = 5000, .log = a->log};
	struct wmq_store_id *h = NULL;
	wmq_err e = wmq_store_id_open(a->db, &so, &h);
	if (e != WMQ_OK) {
		const char *m = h ? wmq_store_id_errmsg(h) : NULL;
		ctl_res_msg(&res, CTL_EXIT_STORE, "%s", m && *m ? m : wmq_err_str(e));
		wmq_store_id_close(h);
		(void)send_res(a, fd, &res);
		close(fd);
		return;
	}
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->uid = cr.uid;
	c->h = h;
	c->last = wmq_now_ms();
	wmq_dbuf_init(&c->in, (size_t)CTL_WIRE_MAX + 4);
	struct passwd pw, *pp = NULL;
	char pwbuf[1024];
	if (getpwuid_r(cr.uid, &pw, pwbuf, sizeof pwbuf, &pp) == 0 && pp && pp->pw_name)
		snprintf(c->actor, sizeof c->actor, "%s", pp->pw_name);
	else
		snprintf(c->actor, sizeof c->actor, "uid:%u", (unsigned)cr.uid);
	ctl_local_attach(h, a->audit, c->actor, "socket", &c->be);
	ctl_local_set_live(c->be, &a->live);
	if (!c->be) {
		ctl_res_msg(&res, CTL_EXIT_ERROR, "out of memory");
		(void)send_res(a, fd, &res);
		conn_close(c);
	}
}

/* Execute one request frame body; false: close the connection. */
static bool handle_frame(struct wmq_admin *a, struct admin_conn *c, const uint8_t *body, size_t len)
{
	struct ctl_wire_req wr;
	struct ctl_res res;
	char why[256];
	bool keep = true;
	ctl_res_init(&res);
	wmq_err e = ctl_wire_req_decode(body, len, &wr, why, sizeof why);
	if (e != WMQ_OK) {
		ctl_res_msg(&res, e == WMQ_ERR_NOMEM ? CTL_EXIT_ERROR : CTL_EXIT_USAGE, "malformed request: %s",
			    why[0] ? why : wmq_err_str(e));
		keep = false; /* the stream cannot be trusted any more */
		ctl_wire_req_cleanup(&wr);
	} else {
		const struct ctl_req *q = &wr.req;
		c->be->ops->exec(c->be, q, &res);
		unsigned chg = 0;
		bool done = res.status == CTL_EXIT_OK || res.status == CTL_EXIT_NO ||
			    res.status == CTL_EXIT_ERROR; /* ERROR: e.g. changed, audit line failed */
		switch (q->op) {
		case CTL_OP_TXN_BEGIN:
			if (res.status == CTL_EXIT_OK) {
				c->txn = true;
				c->txn_changes = 0;
			}
			break;
		case CTL_OP_TXN_COMMIT:
			if (res.status == CTL_EXIT_OK || res.status == CTL_EXIT_ERROR)
				chg = c->txn_changes;
			c->txn = false;
			c->txn_changes = 0;
			break;
		case CTL_OP_TXN_ROLLBACK:
			c->txn = false;
			c->txn_changes = 0;
			break;
		default:
			if (done && c->txn)
				c->txn_changes |= ctl_op_changes(q->op);
			else if (done)
				chg = ctl_op_changes(q->op);
			break;
		}
		if (res.status != CTL_EXIT_OK && res.status != CTL_EXIT_NO)
			WMQ_LOG(a->log, WMQ_LOG_INFO, "admin socket: %s by %s: %s", ctl_op_name((int)q->op), c->actor,
				q->op == CTL_OP_USER_CHECK ? "refused" : res.msg);
		if (chg && !post_and_wait(a, chg))
			ctl_res_warn(&res, "the broker has not confirmed that the change is in force yet");
		ctl_wire_req_cleanup(&wr);
	}
	if (!send_res(a, c->fd, &res))
		keep = false;
	ctl_res_cleanup(&res);
	return keep;
}

/* Data on |c|: read what is there and run every complete frame. */
static void conn_read(struct wmq_admin *a, struct admin_conn *c)
{
	uint8_t *area;
	size_t room = (size_t)CTL_WIRE_MAX + 4 - c->in.len; /* > 0: a longer frame is refused below */
	if (room > 64u * 1024u)
		room = 64u * 1024u;
	if (wmq_dbuf_reserve(&c->in, room, &area) != WMQ_OK) {
		conn_close(c);
		return;
	}
	ssize_t k = recv(c->fd, area, room, MSG_DONTWAIT);
	if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (k <= 0) {
		conn_close(c); /* EOF or error: an open transaction rolls back */
		return;
	}
	c->in.len += (size_t)k;
	c->last = wmq_now_ms();
	while (c->fd >= 0 && c->in.len >= 4) { /* bounded: each round consumes a frame */
		const uint8_t *p = c->in.p;
		uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (len == 0 || len > CTL_WIRE_MAX) {
			struct ctl_res res;
			ctl_res_init(&res);
			ctl_res_msg(&res, CTL_EXIT_USAGE, "malformed request: frame of %u bytes (1..%u)", (unsigned)len,
				    CTL_WIRE_MAX);
			(void)send_res(a, c->fd, &res);
			conn_close(c);
			return;
		}
		if (c->in.len - 4 < len)
			break;
		bool keep = handle_frame(a, c, p + 4, len);
		wmq_crypto_wipe(c->in.p, 4 + (size_t)len);
		wmq_dbuf_consume(&c->in, 4 + (size_t)len);
		c->last = wmq_now_ms();
		if (!keep)
			conn_close(c);
	}
}

/* The connection with an open transaction, or NULL. */
static struct admin_conn *txn_owner(struct wmq_admin *a)
{
	for (size_t i = 0; i < ADMIN_MAX_CONN; i++)
		if (a->conns[i].fd >= 0 && a->conns[i].txn)
			return &a->conns[i];
	return NULL;
}

static void *admin_main(void *arg)
{
	struct wmq_admin *a = arg;
	struct pollfd pfd[2 + ADMIN_MAX_CONN];
	struct admin_conn *who[2 + ADMIN_MAX_CONN];
	for (;;) { /* until the stop eventfd fires */
		size_t n = 0;
		struct admin_conn *owner = txn_owner(a);
		uint64_t now = wmq_now_ms();
		int timeout = -1;
		pfd[n] = (struct pollfd){.fd = a->stopfd, .events = POLLIN};
		who[n++] = NULL;
		pfd[n] = (struct pollfd){.fd = a->lfd, .events = POLLIN};
		who[n++] = NULL;
		for (size_t i = 0; i < ADMIN_MAX_CONN; i++) {
			struct admin_conn *c = &a->conns[i];
			if (c->fd < 0)
				continue;
			/* a connection queued behind another one's transaction is
			 * waiting for us, not idle */
			bool waiting = owner && owner != c;
			if (!waiting && now >= c->last + ADMIN_IDLE_MS) {
				WMQ_LOG(a->log, WMQ_LOG_INFO, "admin socket: idle connection of %s closed%s", c->actor,
					c->txn ? " (its transaction rolled back)" : "");
				conn_close(c);
				if (owner == c)
					owner = NULL;
				continue;
			}
			if (waiting) {
				c->last = now; /* a fresh idle window once the transaction ends */
				continue;      /* its bytes stay in the socket until then */
			}
			int left = (int)(c->last + ADMIN_IDLE_MS - now);
			if (timeout < 0 || left < timeout)
				timeout = left;
			pfd[n] = (struct pollfd){.fd = c->fd, .events = POLLIN};
			who[n++] = c;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin socket: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break;
		for (size_t i = 2; i < n; i++) {
			struct admin_conn *c = who[i], *o;
			/* a transaction begun in this round makes the others wait */
			if (pfd[i].revents && c->fd >= 0 && (!(o = txn_owner(a)) || o == c))
				conn_read(a, c);
		}
		if (pfd[1].revents & POLLIN)
			accept_one(a);
	}
	for (size_t i = 0; i < ADMIN_MAX_CONN; i++)
		conn_close(&a->conns[i]);
	return NULL;
}

/* ---- Start and stop (worker) ----------------------------------------------------------- */

/* The socket's directory must belong to the broker's user (or root) and
 * not be writable by anyone else, so that nobody can swap the socket. */
static wmq_err check_dir(struct wmq_admin *a, const char *path)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct stat st;
	wmq_path_dir(path, dir, sizeof dir);
	if (stat(dir, &st) != 0) {
		WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin_socket %s: directory %s: %s", path, dir, strerror(errno));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	if (!S_ISDIR(st.st_mode) || (st.st_uid != a->uid && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		WMQ_LOG(a->log, WMQ_LOG_ERROR,
			"admin_socket %s: directory %s must belong to the broker's user (uid %u) and must not be "
			"writable by group or others", path, dir, (unsigned)a->uid);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	return WMQ_OK;
}

static wmq_err make_socket(struct wmq_admin *a)
{
	struct sockaddr_un sa;
	struct stat st;
	const char *path = a->path;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin_socket %s: path too long (at most %zu bytes)", path,
			sizeof sa.sun_path - 1);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	memcpy(sa.sun_path, path, strlen(path));
	WMQ_TRY(check_dir(a, path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin_socket %s: exists and is not a socket; not replaced", path);
			WMQ_BAIL(WMQ_ERR_INVAL);
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		WMQ_ENSURE(probe >= 0, WMQ_ERR_IO);
		int rc = connect(probe, (const struct sockaddr *)&sa, sizeof sa);
		int err = errno;
		close(probe);
		if (rc == 0 || err != ECONNREFUSED) {
			WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin_socket %s: %s", path,
				rc == 0 ? "another process answers on it (a broker running already?)" : strerror(err));
			WMQ_BAIL(WMQ_ERR_INVAL);
		}
		if (unlink(path) != 0) { /* stale: nobody listens */
			WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin_socket %s: cannot remove the stale socket: %s", path,
				strerror(errno));
			WMQ_BAIL(WMQ_ERR_IO);
		}
		WMQ_LOG(a->log, WMQ_LOG_NOTICE, "admin_socket %s: stale socket replaced", path);
	}
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	WMQ_ENSURE(a->lfd >= 0, WMQ_ERR_IO);
	/* created 0600 (umask), then made sure of with chmod */
	mode_t old = umask(0177);
	int rc = bind(a->lfd, (const struct sockaddr *)&sa, sizeof sa);
	int err = errno;
	umask(old);
	if (rc != 0 || chmod(path, 0600) != 0 || listen(a->lfd, 8) != 0) {
		if (rc == 0)
			err = errno;
		WMQ_LOG(a->log, WMQ_LOG_ERROR, "admin_socket %s: %s", path, strerror(err));
		if (rc == 0)
			(void)unlink(path);
		WMQ_BAIL(WMQ_ERR_IO);
	}
	return WMQ_OK;
}

static void admin_free(struct wmq_admin *a)
{
	if (!a)
		return;
	if (a->lfd >= 0) {
		close(a->lfd);
		(void)unlink(a->path);
	}
	if (a->stopfd >= 0)
		close(a->stopfd);
	if (a->chgfd >= 0)
		close(a->chgfd);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	wmq_free(a->path);
	wmq_free(a->db);
	wmq_free(a);
}

wmq_err wmq_admin_start(struct wmq_broker *b)
{
	const char *path = b->cfg.admin_socket;
	if (!path)
		return WMQ_OK;
	if (!b->store) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR,
			"admin_socket %s: needs the store (persistence true or --db, durability not none): "
			"users and rules live there", path);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	struct wmq_admin *a = wmq_calloc(1, sizeof *a);
	WMQ_ENSURE(a, WMQ_ERR_NOMEM);
	a->lfd = a->stopfd = a->chgfd = -1;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (size_t i = 0; i < ADMIN_MAX_CONN; i++)
		a->conns[i].fd = -1;
	a->b = b;
	a->log = &b->log;
	a->audit = b->audit;
	a->live.defence = b->defence; /* lives until wmq_security_close, after wmq_admin_stop */
	a->uid = geteuid();
	a->path = wmq_strdup(path);
	a->db = wmq_strdup(b->cfg.persistence_file);
	b->admin = a;
	WMQ_ENSURE(a->path && a->db, WMQ_ERR_NOMEM);
	a->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	a->chgfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	WMQ_ENSURE(a->stopfd >= 0 && a->chgfd >= 0, WMQ_ERR_IO);
	WMQ_TRY(make_socket(a));
	WMQ_TRY(wmq_ev_add(b->ev, &a->chg_h, a->chgfd, WMQ_EV_READ, on_change, a));
	a->chg_registered = true;
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "admin socket %s (mode 0600, uid %u and root)", path, (unsigned)a->uid);
	return WMQ_OK;
}

wmq_err wmq_admin_launch(struct wmq_broker *b)
{
	struct wmq_admin *a = b->admin;
	if (!a || a->started)
		return WMQ_OK;
	if (pthread_create(&a->th, NULL, admin_main, a) != 0) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "admin_socket: cannot start the admin thread");
		WMQ_BAIL(WMQ_ERR_IO);
	}
	a->started = true;
	return WMQ_OK;
}

void wmq_admin_stop(struct wmq_broker *b)
{
	struct wmq_admin *a = b->admin;
	if (!a)
		return;
	if (a->started) {
		uint64_t one = 1;
		pthread_mutex_lock(&a->mu);
		a->stopping = true; /* a request waiting for on_change stops waiting */
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		if (write(a->stopfd, &one, sizeof one) < 0) {
			/* cannot fail: a fresh eventfd counter is far from overflow */
		}
		pthread_join(a->th, NULL);
		a->started = false;
	}
	if (a->chg_registered)
		wmq_ev_del(b->ev, &a->chg_h);
	admin_free(a);
	b->admin = NULL;
}
