/* SPDX-License-Identifier: MIT
 * wardmq/err.h - public error codes of libwardmq and the export macro.
 *
 * Every libwardmq function that can fail returns an int: WMQ_E_OK (0) on
 * success or one of the negative WMQ_E_* codes below (libuv style). MQTT
 * reason codes sent by the server are a different thing: they are reported
 * through callbacks as plain integers 0..255 (see wardmq/reason.h).
 * Threading: every function here is thread-safe (pure). */
#ifndef WARDMQ_ERR_H
#define WARDMQ_ERR_H

#if defined(WMQ_BUILDING_LIB)
#define WMQ_API __attribute__((visibility("default")))
#else
#define WMQ_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum wmq_error {
	WMQ_E_OK = 0,
	WMQ_E_NOMEM = -1,          /* out of memory */
	WMQ_E_INVAL = -2,          /* invalid argument (bad topic, QoS, property...) */
	WMQ_E_NO_CONN = -3,        /* not connected to a server */
	WMQ_E_CONN_REFUSED = -4,   /* the server refused the connection (CONNACK reason >= 0x80) */
	WMQ_E_CONN_LOST = -5,      /* the connection closed unexpectedly */
	WMQ_E_PROTOCOL = -6,       /* the server violated the protocol or sent a malformed packet */
	WMQ_E_IO = -7,             /* a system call failed; errno holds the cause */
	WMQ_E_LOOKUP = -8,         /* the host name could not be resolved */
	WMQ_E_TIMEOUT = -9,        /* an operation did not finish in time */
	WMQ_E_KEEPALIVE = -10,     /* the server did not answer PINGREQ in time */
	WMQ_E_QUEUE_FULL = -11,    /* the capped output buffer or message queue is full; retry later */
	WMQ_E_TOO_LARGE = -12,     /* the packet exceeds the server's (or MQTT's) maximum size */
	WMQ_E_NOT_SUPPORTED = -13, /* not available with this protocol version or build */
	WMQ_E_STATE = -14,         /* not allowed in the client's current state */
	WMQ_E_SERVER_DISCONNECT = -15, /* the server sent DISCONNECT (reason code in the callback) */
	WMQ_E_AUTH = -16,          /* enhanced authentication failed on the client side */
	WMQ_E_CONNECT_FAILED = -17, /* the TCP connection could not be established; errno holds the cause */
	WMQ_E_INTERNAL = -18,      /* a broken invariant inside the library (a bug) */
	WMQ_E_TLS = -19,           /* TLS failed: options/files, handshake or certificate
				    * verification; wmq_client_tls_error() has the detail */
};

/* A short English description of |code| ("out of memory"). Never NULL;
 * unknown codes give "unknown error". */
WMQ_API const char *wmq_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
