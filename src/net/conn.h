/* SPDX-License-Identifier: MIT
 * conn.h - a byte-stream connection: socket, transport ops, capped input and
 * output buffers.
 * Role: the transport seam. Plain TCP is one ops table; TLS and WebSocket
 * framing plug in as further tables (NNG tls_engine style) without the
 * broker noticing. Threading: owned by one worker.
 * Ownership: the connection owns its fd and buffers; wmq_conn_cleanup()
 * closes and frees them. */
#ifndef WMQ_NET_CONN_H
#define WMQ_NET_CONN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"
#include "net/sock.h"

struct wmq_conn;

struct wmq_transport_ops {
	const char *name; /* "tcp", later "tls", "ws", "wss" */
	/* Like read(2)/write(2): >0 bytes, 0 = orderly close (read only), -1
	 * with errno (EAGAIN when it would block). */
	ssize_t (*read)(struct wmq_conn *c, void *buf, size_t len);
	ssize_t (*write)(struct wmq_conn *c, const void *buf, size_t len);
	void (*close)(struct wmq_conn *c);
};

extern const struct wmq_transport_ops wmq_transport_tcp;

struct wmq_conn {
	int fd;
	const struct wmq_transport_ops *ops;
	void *engine;               /* transport state (TLS session...), or NULL */
	char peer[WMQ_ADDRSTRLEN];  /* "ip:port" of the remote end */
	struct wmq_dbuf in;         /* bytes received, not yet parsed */
	struct wmq_dbuf out;        /* bytes to send; out_off already sent */
	size_t out_off;
	uint64_t bytes_in, bytes_out;
};

/* Take ownership of |fd|. |in_max|/|out_max| cap the buffers. */
void wmq_conn_init(struct wmq_conn *c, int fd, const struct wmq_transport_ops *ops,
		   const char *peer, size_t in_max, size_t out_max);
void wmq_conn_cleanup(struct wmq_conn *c);

/* Read what is available, at most |budget| bytes, into c->in.
 * WMQ_OK: some bytes arrived (or none were pending: check in.len).
 * WMQ_ERR_CLOSED: the peer closed. WMQ_ERR_IO: socket error.
 * WMQ_ERR_LIMIT: the input buffer is full (caller's packet limit failed). */
WMQ_MUST_USE wmq_err wmq_conn_fill(struct wmq_conn *c, size_t budget);
/* Bytes waiting to be sent. */
static inline size_t wmq_conn_pending(const struct wmq_conn *c)
{
	return c->out.len - c->out_off;
}
/* Append bytes to the output buffer (LIMIT if it would exceed its cap). */
WMQ_MUST_USE wmq_err wmq_conn_queue(struct wmq_conn *c, const void *p, size_t n);
/* Reserve |n| bytes at the end of the output buffer for an in-place write
 * (for encoders); commit with wmq_conn_commit(). */
WMQ_MUST_USE wmq_err wmq_conn_reserve(struct wmq_conn *c, size_t n, uint8_t **area);
void wmq_conn_commit(struct wmq_conn *c, size_t n);
/* Write as much as the socket takes. WMQ_OK: everything was sent.
 * WMQ_ERR_AGAIN: some is left (wait for writability). WMQ_ERR_IO: error. */
WMQ_MUST_USE wmq_err wmq_conn_flush(struct wmq_conn *c);

#endif
