/* SPDX-License-Identifier: MIT
 * ev.h - the event loop API (Redis ae.h style); one backend per file
 * (ev_epoll.c now). Handles are caller-owned structs registered by pointer,
 * so no fd-indexed table and no global state.
 * Threading: a loop and its handles belong to one thread. wmq_ev_wake() is
 * the one call that is safe from other threads. */
#ifndef WMQ_NET_EV_H
#define WMQ_NET_EV_H
#include <stdint.h>

#include "common/err.h"

enum {
	WMQ_EV_READ = 1u,
	WMQ_EV_WRITE = 2u,
	WMQ_EV_ERROR = 4u, /* reported, never requested */
};

struct wmq_ev;
struct wmq_ev_handle;
typedef void (*wmq_ev_fn)(struct wmq_ev_handle *h, uint32_t events);

/* Embed in the owner's struct; the owner must wmq_ev_del() before freeing. */
struct wmq_ev_handle {
	int fd;
	uint32_t mask; /* WMQ_EV_READ | WMQ_EV_WRITE currently requested */
	wmq_ev_fn fn;
	void *arg;     /* owner */
};

WMQ_MUST_USE wmq_err wmq_ev_new(struct wmq_ev **out);
void wmq_ev_free(struct wmq_ev *ev); /* NULL-safe */
WMQ_MUST_USE wmq_err wmq_ev_add(struct wmq_ev *ev, struct wmq_ev_handle *h, int fd, uint32_t mask,
				wmq_ev_fn fn, void *arg);
/* Change the requested events; a no-op if unchanged. */
WMQ_MUST_USE wmq_err wmq_ev_mod(struct wmq_ev *ev, struct wmq_ev_handle *h, uint32_t mask);
void wmq_ev_del(struct wmq_ev *ev, struct wmq_ev_handle *h);
/* Wait up to |timeout_ms| (-1 = forever) and dispatch. Handles deleted during
 * dispatch must not be freed until wmq_ev_poll returns (owners defer frees).
 * Returns the number of events dispatched, or -1 with errno (EINTR = 0). */
int wmq_ev_poll(struct wmq_ev *ev, int timeout_ms);
/* Have wmq_ev_poll store wmq_now_ms() in *clock after each wait, before it
 * dispatches: one clock read per loop turn for the owner's hot path.
 * |clock| is borrowed; NULL turns it off. */
void wmq_ev_set_clock(struct wmq_ev *ev, uint64_t *clock);
/* Wake a thread blocked in wmq_ev_poll (any thread, async-signal-safe). */
void wmq_ev_wake(struct wmq_ev *ev);

#endif
