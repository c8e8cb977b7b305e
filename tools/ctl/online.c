/* SPDX-License-Identifier: MIT
 * online.c - wardmq_ctl's online backend: requests go to a running broker
 * over its admin unix socket (--socket PATH or $WARDMQ_SOCKET).
 *
 * Role: one connection per wardmq_ctl run; each exec() sends one request
 * frame (admin/wire.c) and waits for its reply frame, which carries the
 * same status, message, warnings and value tree the offline executor would
 * have produced, so main.c renders both alike. A transaction
 * (TXN_BEGIN..COMMIT, the imports) lives on the connection: if this
 * process dies, the broker rolls it back. The broker answers only after it
 * applied a change, so when wardmq_ctl returns the change is in force.
 * Failures of the channel itself (cannot connect, broker closed the
 * connection, malformed reply) give exit 6 with a message naming the
 * socket.
 * Threading: single-threaded. Ownership: the backend owns its socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/alloc.h"
#include "crypto/crypto.h"
#include "ctl.h"

#define REPLY_TIMEOUT_S 120 /* a busy broker may take a while (SQLite locks, Argon2id) */

struct online {
	struct ctl_backend base; /* first */
	int fd;
	char path[108];
	bool dead; /* the connection failed: later requests fail at once */
};

static bool write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) { /* bounded: each round writes at least one byte or fails */
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* 1 = read, 0 = EOF before any byte, -1 = error or EOF in the middle. */
static int read_all(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;
	while (got < n) { /* bounded: each round reads at least one byte or ends */
		ssize_t k = recv(fd, p + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)k;
	}
	return 1;
}

static void online_exec(struct ctl_backend *bk, const struct ctl_req *req, struct ctl_res *res)
{
	struct online *o = (struct online *)bk;
	struct wmq_dbuf d;
	uint8_t hdr[4];
	char why[256];
	res->status = CTL_EXIT_OK;
	if (o->dead) {
		ctl_res_msg(res, CTL_EXIT_ERROR, "admin socket %s: the connection is gone", o->path);
		return;
	}
	wmq_dbuf_init(&d, (size_t)CTL_WIRE_MAX + 4);
	wmq_err e = ctl_wire_req_encode(req, &d);
	if (e != WMQ_OK) {
		wmq_dbuf_cleanup(&d);
		ctl_res_msg(res, e == WMQ_ERR_LIMIT ? CTL_EXIT_USAGE : CTL_EXIT_ERROR, "request cannot be sent: %s",
			    e == WMQ_ERR_LIMIT ? "too large" : wmq_err_str(e));
		return;
	}
	bool sent = write_all(o->fd, d.p, d.len);
	if (req->secret && d.p)
		wmq_crypto_wipe(d.p, d.len);
	wmq_dbuf_cleanup(&d);
	/* Even when sending failed, the broker may have written a refusal
	 * (another uid) before closing: read it. */
	int r = read_all(o->fd, hdr, 4);
	if (r <= 0) {
		o->dead = true;
		ctl_res_msg(res, CTL_EXIT_ERROR, "admin socket %s: %s", o->path,
			    r == 0 ? "the broker closed the connection"
				   : (errno == EAGAIN || errno == EWOULDBLOCK) ? "no reply in time"
									     : strerror(errno));
		if (!sent)
			ctl_res_warn(res, "the request was not sent completely");
		return;
	}
	uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > CTL_WIRE_MAX) {
		o->dead = true;
		ctl_res_msg(res, CTL_EXIT_ERROR, "admin socket %s: reply of %u bytes refused", o->path, (unsigned)len);
		return;
	}
	uint8_t *body = wmq_malloc(len);
	if (!body) {
		o->dead = true;
		ctl_res_msg(res, CTL_EXIT_ERROR, "out of memory");
		return;
	}
	if (read_all(o->fd, body, len) != 1) {
		o->dead = true;
		wmq_free(body);
		ctl_res_msg(res, CTL_EXIT_ERROR, "admin socket %s: the reply was cut short", o->path);
		return;
	}
	e = ctl_wire_res_decode(body, len, res, why, sizeof why);
	wmq_free(body);
	if (e != WMQ_OK) {
		o->dead = true;
		ctl_val_free(res->data);
		res->data = NULL;
		wmq_free(res->text);
		res->text = NULL;
		res->nwarn = 0;
		ctl_res_msg(res, CTL_EXIT_ERROR, "admin socket %s: malformed reply: %s", o->path,
			    why[0] ? why : wmq_err_str(e));
	}
}

static void online_close(struct ctl_backend *bk)
{
	struct online *o = (struct online *)bk;
	if (!o)
		return;
	if (o->fd >= 0)
		close(o->fd);
	wmq_free(o);
}

static const struct ctl_backend_ops online_ops = {"online", online_exec, online_close};

void ctl_online_open(const char *path, struct ctl_backend **out, struct ctl_res *res)
{
	struct sockaddr_un sa;
	*out = NULL;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof sa.sun_path) {
		ctl_res_msg(res, CTL_EXIT_USAGE, "admin socket path \"%s\" is empty or too long (at most %zu bytes)",
			    path, sizeof sa.sun_path - 1);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path));
	struct online *o = wmq_calloc(1, sizeof *o);
	if (!o) {
		ctl_res_msg(res, CTL_EXIT_ERROR, "out of memory");
		return;
	}
	o->base.ops = &online_ops;
	snprintf(o->path, sizeof o->path, "%s", path);
	o->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (o->fd < 0 || connect(o->fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
		int err = errno;
		ctl_res_msg(res, CTL_EXIT_ERROR, "admin socket %s: cannot connect: %s%s", path, strerror(err),
			    err == ENOENT || err == ECONNREFUSED ? " (is the broker running with admin_socket?)"
			    : err == EACCES ? " (only the broker's user and root may use it)"
					    : "");
		online_close(&o->base);
		return;
	}
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
	(void)setsockopt(o->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(o->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	*out = &o->base;
}
