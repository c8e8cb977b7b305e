/* SPDX-License-Identifier: MIT
 * err.h - internal error codes and the three error macros.
 * Role: every fallible internal function returns wmq_err. MQTT wire reason
 * codes are a different thing (protocol/mqtt.h, enum wmq_rc); the broker maps
 * between them in one place.
 * Threading: wmq_err_note() records the origin in a thread-local slot. */
#ifndef WMQ_COMMON_ERR_H
#define WMQ_COMMON_ERR_H

#define WMQ_MUST_USE __attribute__((warn_unused_result))
#define WMQ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define WMQ_UNUSED(x) ((void)(x))
#define WMQ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef enum wmq_err {
	WMQ_OK = 0,
	WMQ_ERR_NOMEM,     /* allocation failed */
	WMQ_ERR_MALFORMED, /* bytes violate the wire format */
	WMQ_ERR_PROTOCOL,  /* well-formed but violates a protocol rule */
	WMQ_ERR_LIMIT,     /* a configured or structural limit was exceeded */
	WMQ_ERR_DENIED,    /* refused by policy */
	WMQ_ERR_IO,        /* system call failed (errno is meaningful) */
	WMQ_ERR_TLS,       /* TLS engine failure */
	WMQ_ERR_STORE,     /* persistent store failure */
	WMQ_ERR_INVAL,     /* invalid argument or configuration value */
	WMQ_ERR_INTERNAL,  /* broken invariant */
	WMQ_ERR_AGAIN,     /* not enough data yet / would block */
	WMQ_ERR_NOTFOUND,  /* lookup found nothing */
	WMQ_ERR_CLOSED,    /* peer closed the connection */
	WMQ_ERR__COUNT
} wmq_err;

/* Human-readable name of |e| ("malformed packet", ...). Never NULL. */
const char *wmq_err_str(wmq_err e);

/* Record where |e| was raised (thread-local, last one wins). Returns |e|. */
wmq_err wmq_err_note(wmq_err e, const char *file, int line);
/* The last noted origin on this thread, "file:line", or "" if none. */
const char *wmq_err_origin(void);

#define WMQ_BAIL(e)                                                            \
	do {                                                                   \
		return wmq_err_note((e), __FILE__, __LINE__);                  \
	} while (0)
#define WMQ_ENSURE(c, e)                                                       \
	do {                                                                   \
		if (!(c))                                                      \
			WMQ_BAIL(e);                                           \
	} while (0)
#define WMQ_TRY(x)                                                             \
	do {                                                                   \
		wmq_err e_ = (x);                                              \
		if (e_ != WMQ_OK)                                              \
			return e_;                                             \
	} while (0)

#endif
