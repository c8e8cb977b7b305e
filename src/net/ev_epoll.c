/* SPDX-License-Identifier: MIT
 * ev_epoll.c - epoll backend of the event loop. Level-triggered: a handler
 * that does not drain its socket is called again next turn, which keeps one
 * busy connection from starving the others (reads are bounded per turn). */
#include "net/ev.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/time.h"

#define WMQ_EV_BATCH 256

struct wmq_ev {
	int epfd;
	struct wmq_ev_handle wake; /* eventfd for cross-thread wakeups */
	uint64_t *clock;           /* updated after each wait, or NULL */
	struct epoll_event events[WMQ_EV_BATCH];
};

static uint32_t to_epoll(uint32_t mask)
{
	return ((mask & WMQ_EV_READ) ? (uint32_t)EPOLLIN | (uint32_t)EPOLLRDHUP : 0u) |
	       ((mask & WMQ_EV_WRITE) ? (uint32_t)EPOLLOUT : 0u);
}

static void wake_drain(struct wmq_ev_handle *h, uint32_t events)
{
	uint64_t v;
	WMQ_UNUSED(events);
	if (read(h->fd, &v, sizeof v) < 0) {
		/* EAGAIN: another drain got it first; nothing to do. */
	}
}

wmq_err wmq_ev_new(struct wmq_ev **out)
{
	struct wmq_ev *ev = wmq_calloc(1, sizeof *ev);
	WMQ_ENSURE(ev != NULL, WMQ_ERR_NOMEM);
	ev->wake.fd = -1;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd < 0)
		goto fail;
	int wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wfd < 0)
		goto fail;
	if (wmq_ev_add(ev, &ev->wake, wfd, WMQ_EV_READ, wake_drain, ev) != WMQ_OK) {
		close(wfd);
		goto fail;
	}
	*out = ev;
	return WMQ_OK;
fail:
	wmq_ev_free(ev);
	WMQ_BAIL(WMQ_ERR_IO);
}

void wmq_ev_free(struct wmq_ev *ev)
{
	if (!ev)
		return;
	if (ev->wake.fd >= 0)
		close(ev->wake.fd);
	if (ev->epfd >= 0)
		close(ev->epfd);
	wmq_free(ev);
}

wmq_err wmq_ev_add(struct wmq_ev *ev, struct wmq_ev_handle *h, int fd, uint32_t mask, wmq_ev_fn fn,
		   void *arg)
{
	struct epoll_event e = {.events = to_epoll(mask), .data.ptr = h};
	h->fd = fd;
	h->mask = mask;
	h->fn = fn;
	h->arg = arg;
	WMQ_ENSURE(epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) == 0, WMQ_ERR_IO);
	return WMQ_OK;
}

wmq_err wmq_ev_mod(struct wmq_ev *ev, struct wmq_ev_handle *h, uint32_t mask)
{
	if (h->mask == mask)
		return WMQ_OK;
	struct epoll_event e = {.events = to_epoll(mask), .data.ptr = h};
	WMQ_ENSURE(epoll_ctl(ev->epfd, EPOLL_CTL_MOD, h->fd, &e) == 0, WMQ_ERR_IO);
	h->mask = mask;
	return WMQ_OK;
}

void wmq_ev_del(struct wmq_ev *ev, struct wmq_ev_handle *h)
{
	if (h->fd < 0)
		return;
	(void)epoll_ctl(ev->epfd, EPOLL_CTL_DEL, h->fd, NULL);
	/* Mark the handle dead so events already fetched in this batch for it
	 * are skipped by wmq_ev_poll. */
	h->fn = NULL;
}

int wmq_ev_poll(struct wmq_ev *ev, int timeout_ms)
{
	int n = epoll_wait(ev->epfd, ev->events, WMQ_EV_BATCH, timeout_ms);
	if (ev->clock)
		*ev->clock = wmq_now_ms();
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		struct wmq_ev_handle *h = ev->events[i].data.ptr;
		uint32_t e = ev->events[i].events, m = 0;
		if (!h->fn)
			continue; /* deleted earlier in this batch */
		if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
			m |= WMQ_EV_READ;
		if (e & EPOLLOUT)
			m |= WMQ_EV_WRITE;
		if (e & (EPOLLERR | EPOLLHUP))
			m |= WMQ_EV_ERROR;
		h->fn(h, m);
	}
	return n;
}

void wmq_ev_set_clock(struct wmq_ev *ev, uint64_t *clock)
{
	ev->clock = clock;
}

void wmq_ev_wake(struct wmq_ev *ev)
{
	uint64_t one = 1;
	if (write(ev->wake.fd, &one, sizeof one) < 0) {
		/* counter saturated: a wakeup is already pending */
	}
}
