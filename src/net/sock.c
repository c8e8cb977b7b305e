/* SPDX-License-Identifier: MIT
 * sock.c - listening and accepted TCP sockets. */
#include "net/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void wmq_sock_addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	WMQ_UNUSED(len);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
		snprintf(out, outlen, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
		/* Show v4-mapped addresses in their IPv4 form. */
		if (strncmp(host, "::ffff:", 7) == 0 && strchr(host + 7, '.'))
			snprintf(out, outlen, "%s:%u", host + 7, port);
		else
			snprintf(out, outlen, "[%s]:%u", host, port);
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(out, outlen, "unix");
	} else {
		snprintf(out, outlen, "?");
	}
}

static int listen_one(const struct addrinfo *ai, char *errbuf, size_t errlen, const char *label)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1;
	if (fd < 0) {
		snprintf(errbuf, errlen, "listener %s: socket: %s", label, strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
		snprintf(errbuf, errlen, "listener %s: %s", label, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

wmq_err wmq_sock_listen(const char *address, uint16_t port, int *fds, size_t max, size_t *n,
			char *errbuf, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	char portstr[8], label[300];
	*n = 0;
	snprintf(portstr, sizeof portstr, "%u", port);
	snprintf(label, sizeof label, "%s:%u", address ? address : "*", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int rc = getaddrinfo(address, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(errbuf, errlen, "listener %s: %s", label, gai_strerror(rc));
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		/* With an ephemeral port, every family must share the port the
		 * first bind got. */
		if (port == 0 && *n > 0) {
			uint16_t p = wmq_sock_local_port(fds[0]);
			if (ai->ai_family == AF_INET)
				((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port = htons(p);
			else
				((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_port = htons(p);
		}
		int fd = listen_one(ai, errbuf, errlen, label);
		if (fd < 0) {
			/* All interfaces on a host without IPv6 is fine with IPv4
			 * alone; a named address must bind. */
			if (!address && ai->ai_family == AF_INET6 && errno == EAFNOSUPPORT)
				continue;
			for (size_t i = 0; i < *n; i++)
				close(fds[i]);
			*n = 0;
			freeaddrinfo(res);
			WMQ_BAIL(WMQ_ERR_IO);
		}
		fds[(*n)++] = fd;
	}
	freeaddrinfo(res);
	if (*n == 0) {
		snprintf(errbuf, errlen, "listener %s: no usable address", label);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	return WMQ_OK;
}

int wmq_sock_accept(int lfd, char *peer, size_t peerlen, struct sockaddr_storage *ss_out, socklen_t *sl_out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		wmq_sock_addr_str((struct sockaddr *)&ss, sl, peer, peerlen);
		if (ss_out && sl_out) {
			*ss_out = ss;
			*sl_out = sl;
		}
	}
	return fd;
}

uint16_t wmq_sock_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

void wmq_sock_nodelay(int fd, bool on)
{
	int v = on ? 1 : 0;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}

int wmq_sock_connect(const char *host, uint16_t port)
{
	struct addrinfo hints = {0}, *res = NULL;
	char portstr[8];
	int fd = -1, err = ECONNREFUSED;
	snprintf(portstr, sizeof portstr, "%u", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, portstr, &hints, &res) != 0) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = err;
	return fd;
}
