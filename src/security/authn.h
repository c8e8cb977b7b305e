/* SPDX-License-Identifier: MIT
 * authn.h - the authentication mechanism interface (DESIGN.md §5).
 * Role: MQTT 5 enhanced authentication routes CONNECT/AUTH data by
 * Authentication Method name to a mechanism. A mechanism is a state machine
 * fed the client's auth data, answering continue (with data for an AUTH
 * packet), success (with optional final data) or failure; it never blocks
 * the worker (slow steps are handed to the auth pool by the caller).
 * The registry is per broker (no globals). This build registers no
 * mechanism: a CONNECT naming any method is refused with 0x8C. SCRAM,
 * AugPAKE, MARAS, ACE and authChallenge register here in later work.
 * Threading: the registry is read-only after start-up. */
#ifndef WMQ_SECURITY_AUTHN_H
#define WMQ_SECURITY_AUTHN_H
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

enum wmq_authn_verdict {
	WMQ_AUTHN_CONTINUE = 0, /* send AUTH 0x18 with *out, wait for the next step */
	WMQ_AUTHN_SUCCESS = 1,  /* authenticated; *out (if any) goes in CONNACK/AUTH */
	WMQ_AUTHN_FAILURE = 2,  /* refuse: CONNACK/DISCONNECT with *reason */
};

struct wmq_authn_step {
	struct wmq_bytes in;     /* client's Authentication Data */
	uint8_t out[1024];       /* server's Authentication Data to send */
	size_t out_len;
	uint8_t reason;          /* failure reason code (0x86, 0x87, 0x8C...) */
	char username[256];      /* identity established on success, or "" */
};

struct wmq_authn_mech {
	const char *name; /* Authentication Method, e.g. "SCRAM-SHA-256" */
	/* Allocate per-connection state. */
	WMQ_MUST_USE wmq_err (*start)(void *mech_arg, void **state);
	/* One exchange step. */
	enum wmq_authn_verdict (*step)(void *state, struct wmq_authn_step *st);
	void (*finish)(void *state); /* free state (NULL-safe) */
	void *mech_arg;
};

#define WMQ_AUTHN_MAX_MECHS 16

struct wmq_authn_registry {
	const struct wmq_authn_mech *mechs[WMQ_AUTHN_MAX_MECHS];
	size_t n;
};

void wmq_authn_registry_init(struct wmq_authn_registry *r);
/* Register |m| (borrowed; must outlive the registry). LIMIT when full,
 * INVAL if the name is already registered. */
WMQ_MUST_USE wmq_err wmq_authn_register(struct wmq_authn_registry *r,
					const struct wmq_authn_mech *m);
/* Look a method up by name (exact, case-sensitive as in MQTT 5.0 §4.12). */
const struct wmq_authn_mech *wmq_authn_find(const struct wmq_authn_registry *r,
					    const uint8_t *name, size_t len);

#endif
