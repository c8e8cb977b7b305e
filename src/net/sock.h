/* SPDX-License-Identifier: MIT
 * sock.h - TCP listening sockets and accepted sockets (non-blocking).
 * Threading: plain system calls; no state. */
#ifndef WMQ_NET_SOCK_H
#define WMQ_NET_SOCK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

#define WMQ_ADDRSTRLEN 64 /* "[ffff:...:ffff]:65535" fits */

/* Bind and listen on |address| (NULL = all interfaces) and |port| (0 =
 * ephemeral). Fills fds[] with up to |max| sockets (one per address family
 * when binding all interfaces) and *n. On error writes a message naming the
 * address and the errno text into errbuf. */
WMQ_MUST_USE wmq_err wmq_sock_listen(const char *address, uint16_t port, int *fds, size_t max,
				     size_t *n, char *errbuf, size_t errlen);
/* Accept one connection, non-blocking and close-on-exec. Returns the fd, or
 * -1 with errno (EAGAIN when none is pending). Writes "ip:port" to peer and,
 * when |ss| is not NULL, the peer's address to *ss and its length to *sl. */
int wmq_sock_accept(int lfd, char *peer, size_t peerlen, struct sockaddr_storage *ss, socklen_t *sl);
/* The local port a listening socket is bound to (for port 0). */
uint16_t wmq_sock_local_port(int fd);
/* Render a socket address as "ip:port" / "[ipv6]:port". */
void wmq_sock_addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen);
/* TCP_NODELAY on/off; errors are ignored (best effort). */
void wmq_sock_nodelay(int fd, bool on);
/* Non-blocking connect to host:port (client side); returns fd or -1 with
 * errno, EINPROGRESS counts as success. */
int wmq_sock_connect(const char *host, uint16_t port);

#endif
