/* SPDX-License-Identifier: MIT
 * conn.c - buffered, non-blocking connection I/O over a transport. */
#include "net/conn.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t tcp_read(struct wmq_conn *c, void *buf, size_t len)
{
	return read(c->fd, buf, len);
}

static ssize_t tcp_write(struct wmq_conn *c, const void *buf, size_t len)
{
	return send(c->fd, buf, len, MSG_NOSIGNAL);
}

static void tcp_close(struct wmq_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const struct wmq_transport_ops wmq_transport_tcp = {"tcp", tcp_read, tcp_write, tcp_close};

void wmq_conn_init(struct wmq_conn *c, int fd, const struct wmq_transport_ops *ops,
		   const char *peer, size_t in_max, size_t out_max)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->ops = ops;
	snprintf(c->peer, sizeof c->peer, "%s", peer ? peer : "?");
	wmq_dbuf_init(&c->in, in_max);
	wmq_dbuf_init(&c->out, out_max);
}

void wmq_conn_cleanup(struct wmq_conn *c)
{
	if (c->ops)
		c->ops->close(c);
	wmq_dbuf_cleanup(&c->in);
	wmq_dbuf_cleanup(&c->out);
}

wmq_err wmq_conn_fill(struct wmq_conn *c, size_t budget)
{
	size_t got = 0;
	/* Bounded: at most |budget| bytes per call, so one fast sender cannot
	 * monopolise the worker. */
	while (got < budget) {
		size_t room = c->in.max - c->in.len;
		size_t want = budget - got < 16384 ? budget - got : 16384;
		uint8_t *area;
		if (room == 0)
			WMQ_BAIL(WMQ_ERR_LIMIT);
		if (want > room)
			want = room;
		WMQ_TRY(wmq_dbuf_reserve(&c->in, want, &area));
		ssize_t k = c->ops->read(c, area, want);
		if (k > 0) {
			c->in.len += (size_t)k;
			c->bytes_in += (uint64_t)k;
			got += (size_t)k;
			if ((size_t)k < want)
				break; /* drained for now */
			continue;
		}
		if (k == 0)
			return got ? WMQ_OK : WMQ_ERR_CLOSED;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		WMQ_BAIL(WMQ_ERR_IO);
	}
	return WMQ_OK;
}

static void compact(struct wmq_conn *c)
{
	if (c->out_off == 0)
		return;
	wmq_dbuf_consume(&c->out, c->out_off);
	c->out_off = 0;
}

wmq_err wmq_conn_reserve(struct wmq_conn *c, size_t n, uint8_t **area)
{
	/* Reclaim sent bytes before growing. */
	if (c->out_off && c->out.cap - c->out.len < n)
		compact(c);
	return wmq_dbuf_reserve(&c->out, n, area);
}

void wmq_conn_commit(struct wmq_conn *c, size_t n)
{
	c->out.len += n;
}

wmq_err wmq_conn_queue(struct wmq_conn *c, const void *p, size_t n)
{
	uint8_t *area;
	WMQ_TRY(wmq_conn_reserve(c, n, &area));
	memcpy(area, p, n);
	wmq_conn_commit(c, n);
	return WMQ_OK;
}

wmq_err wmq_conn_flush(struct wmq_conn *c)
{
	int spins = 0;
	while (c->out_off < c->out.len) {
		ssize_t k = c->ops->write(c, c->out.p + c->out_off, c->out.len - c->out_off);
		if (k > 0) {
			c->out_off += (size_t)k;
			c->bytes_out += (uint64_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR && ++spins < 16)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->out_off > c->out.len / 2)
				compact(c);
			return WMQ_ERR_AGAIN;
		}
		WMQ_BAIL(WMQ_ERR_IO);
	}
	c->out.len = 0;
	c->out_off = 0;
	/* An idle connection keeps no output buffer; a busy one pays one
	 * small allocation per loop turn that writes to it. */
	wmq_dbuf_shrink(&c->out, 0);
	return WMQ_OK;
}
