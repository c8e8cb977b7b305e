/* SPDX-License-Identifier: MIT
 * loop.c - the blocking API: one poll(2) round (wmq_client_loop) and the
 * helpers built on it (loop_forever, connect_blocking, wait_published,
 * disconnect_blocking). They use only the public event-loop entry points,
 * exactly as an application with its own loop would.
 * Threading: client thread. */
#include <errno.h>
#include <poll.h>

#include "client_int.h"
#include "common/time.h"

/* min of two poll timeouts where -1 means "infinite" */
static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int remaining(uint64_t deadline, int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	uint64_t now = wmq_now_ms();
	return deadline > now ? (int)(deadline - now) : 0;
}

int wmq_client_loop(wmq_client *c, int timeout_ms)
{
	int err = WMQ_E_OK, r;
	if (!c)
		return WMQ_E_INVAL;
	int wait = min_timeout(timeout_ms, wmq_client_next_timeout_ms(c));
	if (c->fd < 0) {
		if (c->state != CS_WAIT_RECONNECT)
			return WMQ_E_NO_CONN;
		if (poll(NULL, 0, wait) < 0 && errno != EINTR)
			return WMQ_E_IO;
		return wmq_client_on_timeout(c);
	}
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	if (wmq_client_want_write(c))
		pfd.events |= POLLOUT;
	int n = poll(&pfd, 1, wait);
	if (n < 0)
		return errno == EINTR ? WMQ_E_OK : WMQ_E_IO;
	int fd = c->fd;
	/* read first: a server DISCONNECT explains a failed write better */
	if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
		r = wmq_client_on_readable(c);
		if (r != WMQ_E_OK)
			err = r;
	}
	if (n > 0 && c->fd == fd && fd >= 0 && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
		r = wmq_client_on_writable(c);
		if (r != WMQ_E_OK && err == WMQ_E_OK)
			err = r;
	}
	r = wmq_client_on_timeout(c);
	if (r != WMQ_E_OK && err == WMQ_E_OK)
		err = r;
	return err;
}

void wmq_client_loop_stop(wmq_client *c)
{
	if (c)
		c->stop = true;
}

int wmq_client_loop_forever(wmq_client *c)
{
	if (!c)
		return WMQ_E_INVAL;
	c->stop = false;
	for (;;) {
		if (c->stop)
			return WMQ_E_OK;
		if (c->fd < 0 && c->state != CS_WAIT_RECONNECT)
			return c->last_close_err;
		int r = wmq_client_loop(c, 1000);
		if (r == WMQ_E_IO)
			return r;
	}
}

int wmq_client_connect_blocking(wmq_client *c, const wmq_connect_opts *opts, int timeout_ms,
				int *reason_code)
{
	if (reason_code)
		*reason_code = 0;
	int rc = wmq_client_connect(c, opts);
	if (rc != WMQ_E_OK)
		return rc;
	uint64_t deadline = wmq_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	/* bounded by the deadline (or by the connect timeout when -1) */
	while (c->connect_outcome == 0) {
		int left = remaining(deadline, timeout_ms);
		if (left == 0) {
			c->user_disconnect = true; /* no automatic retry */
			wmq_client_close(c, WMQ_E_TIMEOUT, 0, false, NULL);
			return WMQ_E_TIMEOUT;
		}
		if (wmq_client_loop(c, min_timeout(left, 1000)) == WMQ_E_NO_CONN)
			break;
	}
	if (c->connect_outcome == 1)
		return WMQ_E_OK;
	if (c->connect_outcome == WMQ_E_CONN_REFUSED && reason_code)
		*reason_code = c->connack_rc;
	if (c->connect_outcome == WMQ_E_SERVER_DISCONNECT && reason_code)
		*reason_code = c->connack_rc;
	return c->connect_outcome ? c->connect_outcome : WMQ_E_CONN_LOST;
}

int wmq_client_wait_published(wmq_client *c, int timeout_ms)
{
	if (!c)
		return WMQ_E_INVAL;
	uint64_t deadline = wmq_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	/* bounded by the deadline, or by the connection ending */
	while (c->om_count > 0 ||
	       (c->fd >= 0 && (c->out.len > c->out_off || wmq_wsc_want_write(c)))) {
		if (c->fd < 0 && c->state != CS_WAIT_RECONNECT)
			return c->last_close_err ? c->last_close_err : WMQ_E_NO_CONN;
		int left = remaining(deadline, timeout_ms);
		if (left == 0)
			return WMQ_E_TIMEOUT;
		int r = wmq_client_loop(c, min_timeout(left, 1000));
		if (r == WMQ_E_IO || r == WMQ_E_NO_CONN)
			return r;
	}
	return WMQ_E_OK;
}

int wmq_client_disconnect_blocking(wmq_client *c, int reason_code, const wmq_properties *props,
				   int timeout_ms)
{
	int rc = wmq_client_disconnect(c, reason_code, props);
	if (rc != WMQ_E_OK)
		return rc;
	uint64_t deadline = wmq_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
	while (c->fd >= 0) {
		int left = remaining(deadline, timeout_ms);
		if (left == 0) {
			wmq_client_close(c, WMQ_E_OK, reason_code, false, NULL);
			break;
		}
		if (wmq_client_loop(c, min_timeout(left, 1000)) == WMQ_E_IO)
			break;
	}
	return WMQ_E_OK;
}
