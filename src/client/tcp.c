/* SPDX-License-Identifier: MIT
 * tcp.c - the plain TCP transport: non-blocking connect over the
 * getaddrinfo list (IPv4 and IPv6), read/write/close ops.
 * Role: the only file of the client that makes socket system calls apart
 * from poll(2) in loop.c. A TLS or WebSocket transport provides its own
 * struct wmq_transport_ops and reuses wmq_tcp_start()/wmq_tcp_finish().
 * Threading: the client's thread. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_int.h"

wmq_err wmq_tcp_start(struct wmq_client *c)
{
	c->tcp_done = false;
	/* bounded by the length of the address list */
	while (c->ai_next) {
		struct addrinfo *ai = c->ai_next;
		c->ai_next = ai->ai_next;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0) {
			c->tcp_errno = errno;
			continue;
		}
		if (c->opt_nodelay) {
			int one = 1;
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			c->fd = fd;
			c->tcp_done = true;
			return WMQ_OK;
		}
		if (errno == EINPROGRESS || errno == EINTR) {
			c->fd = fd;
			return WMQ_OK;
		}
		c->tcp_errno = errno;
		close(fd);
	}
	errno = c->tcp_errno;
	WMQ_BAIL(WMQ_ERR_IO);
}

wmq_err wmq_tcp_finish(struct wmq_client *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return WMQ_ERR_AGAIN;
	if (err != 0) {
		c->tcp_errno = err;
		close(c->fd);
		c->fd = -1;
		errno = err;
		WMQ_BAIL(WMQ_ERR_IO);
	}
	c->tcp_done = true;
	return WMQ_OK;
}

static wmq_err tcp_read(struct wmq_client *c, void *buf, size_t cap, size_t *got)
{
	for (int tries = 0; tries < 16; tries++) {
		ssize_t n = recv(c->fd, buf, cap, 0);
		if (n > 0) {
			*got = (size_t)n;
			return WMQ_OK;
		}
		if (n == 0)
			return WMQ_ERR_CLOSED;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return WMQ_ERR_AGAIN;
		if (errno == ECONNRESET)
			return WMQ_ERR_CLOSED;
		WMQ_BAIL(WMQ_ERR_IO);
	}
	return WMQ_ERR_AGAIN;
}

static wmq_err tcp_write(struct wmq_client *c, const void *buf, size_t len, size_t *sent)
{
	for (int tries = 0; tries < 16; tries++) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			*sent = (size_t)n;
			return WMQ_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return WMQ_ERR_AGAIN;
		if (errno == EPIPE || errno == ECONNRESET)
			return WMQ_ERR_CLOSED;
		WMQ_BAIL(WMQ_ERR_IO);
	}
	return WMQ_ERR_AGAIN;
}

static void tcp_shutdown(struct wmq_client *c)
{
	if (c->fd >= 0)
		(void)shutdown(c->fd, SHUT_WR);
}

static void tcp_close(struct wmq_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const struct wmq_transport_ops wmq_tcp_ops = {
	.name = "tcp",
	.read = tcp_read,
	.write = tcp_write,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
};
