/* SPDX-License-Identifier: MIT
 * wardmq/client.h - the MQTT 3.1 / 3.1.1 / 5.0 client handle.
 *
 * Model. A wmq_client is one logical MQTT client: one server connection at a
 * time, the session state that outlives it (unacknowledged QoS 1/2 messages
 * in both directions), callbacks, and an optional automatic reconnect with
 * exponential back-off. Nothing runs in the background: the application
 * drives the client either
 *   - from its own event loop: watch wmq_client_fd() for reading (and for
 *     writing while wmq_client_want_write() is true), wake after
 *     wmq_client_next_timeout_ms(), and call wmq_client_on_readable(),
 *     wmq_client_on_writable() and wmq_client_on_timeout(); or
 *   - with the blocking helpers wmq_client_loop(), wmq_client_loop_forever(),
 *     wmq_client_connect_blocking(), wmq_client_wait_published() and
 *     wmq_client_disconnect_blocking(), which run poll(2) internally.
 * The file descriptor changes across reconnects: re-read it after every
 * call (libuv users: compare it with the one being watched).
 *
 * Threading. A client is not thread-safe: every call on one client,
 * including from callbacks, must come from one thread at a time. Different
 * clients are independent and may live on different threads. Callbacks run
 * on the thread that called into the library, never asynchronously; they may
 * call publish/subscribe/unsubscribe/disconnect/loop_stop on the same
 * client, but must not call wmq_client_destroy() or the blocking helpers.
 *
 * Errors. Functions return WMQ_E_OK or a negative WMQ_E_* code (wardmq/err.h).
 * Reason codes in callbacks are MQTT 5 codes (wardmq/reason.h).
 *
 * Logging. The library never writes to stdout/stderr; diagnostics go only to
 * the on_log callback (if set). Debug lines describe every packet sent and
 * received in the style "Client ID sending PUBLISH (d0, q1, r0, m1, 'a/b',
 * ... (5 bytes))"; passwords and authentication data are never logged.
 *
 * Transports. Plain TCP (IPv4 and IPv6, non-blocking connect), and TLS 1.2 /
 * 1.3 over it (OpenSSL 3; set wmq_connect_opts.tls, see wmq_tls_opts). The
 * TLS handshake is non-blocking and driven by the same event-loop calls.
 * WebSockets plug in later behind the same handle. */
#ifndef WARDMQ_CLIENT_H
#define WARDMQ_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wardmq/err.h"
#include "wardmq/props.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wmq_client wmq_client;

/* Log levels of on_log lines (lower is more important). */
enum wmq_loglevel {
	WMQ_LL_ERROR = 0,
	WMQ_LL_WARNING = 1,
	WMQ_LL_NOTICE = 2,
	WMQ_LL_INFO = 3,
	WMQ_LL_DEBUG = 4,
};

/* Protocol versions: the CONNECT protocol level byte. */
enum wmq_protocol {
	WMQ_PROTOCOL_V31 = 3,  /* MQTT 3.1 ("MQIsdp") */
	WMQ_PROTOCOL_V311 = 4, /* MQTT 3.1.1 */
	WMQ_PROTOCOL_V5 = 5,   /* MQTT 5.0 */
};

/* TLS settings (wmq_connect_opts.tls). Initialise with wmq_tls_opts_init();
 * every field NULL/false means "TLS with the system's default CA paths,
 * TLS 1.2 minimum, hostname verification on". Copied by
 * wmq_client_connect(). The server name is wmq_connect_opts.host: it is
 * sent as SNI (unless it is an IP address) and the server certificate must
 * match it (DNS name, or IP address SAN for an address).
 * Compatibility: the names and meanings follow mosquitto_pub's --cafile,
 * --capath, --cert, --key, --insecure, --tls-version, --ciphers, --psk,
 * --psk-identity and --tls-alpn. */
typedef struct wmq_tls_opts {
	const char *cafile;   /* PEM file of trusted CA certificates */
	const char *capath;   /* directory of hashed CA certificates (c_rehash) */
	/* Neither cafile nor capath (and no psk): OpenSSL's default paths. */
	const char *certfile; /* client certificate chain (PEM); needs keyfile */
	const char *keyfile;  /* its private key (PEM, unencrypted) */
	/* Skip the hostname check only (the chain is still verified), like
	 * mosquitto's --insecure. Never use in production. */
	bool insecure;
	/* Minimum version: "tlsv1.2" (default) or "tlsv1.3"; "tlsv1.1" is
	 * accepted for old servers. */
	const char *tls_version;
	/* OpenSSL cipher list for TLS <= 1.2 (TLS 1.3 suites keep OpenSSL's
	 * defaults). NULL = default ("PSK" when psk is set). */
	const char *ciphers;
	/* Pre-shared key in hex (e.g. "deadbeef") and its identity. TLS 1.2
	 * PSK cipher suites and TLS 1.3 external PSK (SHA-256 suites), as
	 * mosquitto --psk/--psk-identity. Certificates are then verified only
	 * if cafile/capath is set. */
	const char *psk;
	const char *psk_identity;
	const char *alpn; /* one ALPN protocol name to offer, NULL = none */
} wmq_tls_opts;

/* Fill |t| with the defaults documented above (all NULL/false). */
WMQ_API void wmq_tls_opts_init(wmq_tls_opts *t);

/* Everything one connection attempt needs. Initialise with
 * wmq_connect_opts_init() and override fields. wmq_client_connect() copies
 * all of it (strings, buffers, property lists), so the caller may free its
 * own data when the call returns; the copy is reused by reconnects. */
typedef struct wmq_connect_opts {
	const char *host;      /* name or address; default "localhost" */
	uint16_t port;         /* default 1883 */
	int protocol_version;  /* enum wmq_protocol; default WMQ_PROTOCOL_V311 */
	/* Client identifier. NULL or "" lets the server assign one (3.1.1 and 5;
	 * MQTT 3.1 requires an identifier). After CONNACK the id in use, also a
	 * server-assigned one, is returned by wmq_client_id(). */
	const char *client_id;
	bool clean_start;   /* 3.1.1 "clean session" / 5 "clean start"; default true */
	uint16_t keepalive; /* seconds, 0 disables; default 60 */
	const char *username;  /* NULL = none */
	const void *password;  /* NULL = none; binary allowed */
	size_t password_len;

	/* Will: published by the server if the connection ends without a
	 * normal DISCONNECT. NULL topic = no will. */
	const char *will_topic;
	const void *will_payload;
	size_t will_payload_len;
	int will_qos;
	bool will_retain;
	/* MQTT 5 will properties (will-delay-interval, message-expiry-interval,
	 * content-type, response-topic, correlation-data, payload-format,
	 * user properties). Borrowed for the duration of the call. */
	const wmq_properties *will_props;

	/* MQTT 5 CONNECT properties. A field left at its "not sent" default
	 * leaves the property as given in |props| (if any); a set field wins. */
	uint32_t session_expiry_interval; /* seconds; 0 = not sent (session ends with the connection) */
	uint16_t receive_maximum;         /* 0 = not sent (65535) */
	uint32_t maximum_packet_size;     /* 0 = not sent (no limit); also caps what we accept */
	uint16_t topic_alias_maximum;     /* 0 = not sent (server sends no aliases) */
	int request_response_information; /* -1 = not sent, 0 or 1 */
	int request_problem_information;  /* -1 = not sent, 0 or 1 */
	const char *auth_method;          /* enhanced authentication method, NULL = none */
	const void *auth_data;            /* initial authentication data */
	size_t auth_data_len;
	const wmq_properties *props;      /* further CONNECT properties, e.g. user properties */

	/* Added in 0.2 (zeroed by wmq_connect_opts_init(), so older callers
	 * keep plain TCP). Non-NULL: connect over TLS with these settings
	 * (copied; also used by reconnects). The port is not changed: set
	 * port 8883 for the usual MQTT-over-TLS port. */
	const wmq_tls_opts *tls;

	/* Added in 0.3 (zeroed by wmq_connect_opts_init()). true: MQTT over
	 * WebSockets (RFC 6455, subprotocol "mqtt", binary frames), over TLS
	 * when |tls| is set too (wss://). The port is not changed. */
	bool websocket;
	/* Request path of the upgrade, e.g. "/mqtt" (the default when NULL);
	 * must start with '/' and hold visible ASCII only. */
	const char *ws_path;
} wmq_connect_opts;

/* Fill |o| with the defaults documented above. */
WMQ_API void wmq_connect_opts_init(wmq_connect_opts *o);

/* A received application message, lent to on_message. Everything in it is
 * valid only until the callback returns. */
typedef struct wmq_message {
	const char *topic;  /* NUL-terminated (topic aliases already resolved) */
	size_t topic_len;
	const void *payload; /* not NUL-terminated; NULL when payload_len == 0 */
	size_t payload_len;
	int qos;
	bool retain;
	bool dup;
	uint16_t mid; /* packet identifier, 0 for QoS 0 */
	/* MQTT 5 properties (message expiry, content type, payload format,
	 * response topic, correlation data, user properties, every
	 * subscription identifier); an empty list on 3.1.1. Never NULL. */
	const wmq_properties *props;
} wmq_message;

/* Why a connection ended, lent to on_disconnect. */
typedef struct wmq_disconnect_info {
	/* WMQ_E_OK: wmq_client_disconnect() finished. Otherwise the cause:
	 * WMQ_E_SERVER_DISCONNECT (server sent DISCONNECT), WMQ_E_CONN_REFUSED
	 * (CONNACK failure), WMQ_E_CONN_LOST, WMQ_E_KEEPALIVE, WMQ_E_PROTOCOL,
	 * WMQ_E_CONNECT_FAILED, WMQ_E_TIMEOUT (no CONNACK in time), WMQ_E_AUTH,
	 * WMQ_E_TLS (handshake / verification; see wmq_client_tls_error()),
	 * WMQ_E_IO ... */
	int error;
	/* MQTT 5 reason code: the server's (by_server), the CONNACK's (refused),
	 * or the one we sent in our DISCONNECT. 0 for a plain socket loss. */
	int reason_code;
	bool by_server;
	const wmq_properties *props; /* server's DISCONNECT properties, or NULL */
	bool will_reconnect;         /* an automatic reconnect is scheduled */
	uint32_t reconnect_delay_ms; /* ... after this delay */
} wmq_disconnect_info;

/* ---- callbacks --------------------------------------------------------- */

/* CONNACK received. |reason_code| 0 = accepted; >= 0x80 refused (the
 * connection is then closed and on_disconnect follows). |props|: CONNACK
 * properties (borrowed; empty on 3.1.1). */
typedef void (*wmq_on_connect_cb)(wmq_client *c, void *userdata, int reason_code,
				  bool session_present, const wmq_properties *props);
/* The connection ended (or a connection attempt failed). */
typedef void (*wmq_on_disconnect_cb)(wmq_client *c, void *userdata,
				     const wmq_disconnect_info *info);
/* An application message arrived. For QoS 1 the PUBACK and for QoS 2 the
 * PUBREC are sent after the callback returns; a QoS 2 message is delivered
 * once even if the server resends it before PUBREL. */
typedef void (*wmq_on_message_cb)(wmq_client *c, void *userdata, const wmq_message *msg);
/* A QoS 1 or 2 PUBLISH of ours completed: PUBACK (QoS 1) or PUBCOMP (QoS 2)
 * received, or PUBACK/PUBREC with a failure reason (>= 0x80), which ends the
 * flow. |mid| is the id wmq_client_publish() returned. Not called for QoS 0. */
typedef void (*wmq_on_publish_cb)(wmq_client *c, void *userdata, uint16_t mid,
				  int reason_code, const wmq_properties *props);
/* SUBACK received: one reason code per requested filter, in order (granted
 * QoS 0..2 or a failure code >= 0x80). */
typedef void (*wmq_on_subscribe_cb)(wmq_client *c, void *userdata, uint16_t mid, size_t count,
				    const int *reason_codes, const wmq_properties *props);
/* UNSUBACK received: one reason code per filter (all 0 on 3.1.1, which
 * carries none). */
typedef void (*wmq_on_unsubscribe_cb)(wmq_client *c, void *userdata, uint16_t mid, size_t count,
				      const int *reason_codes, const wmq_properties *props);
/* A log line (NUL-terminated, no trailing newline). */
typedef void (*wmq_on_log_cb)(wmq_client *c, void *userdata, int level, const char *line);

/* Enhanced authentication (MQTT 5 §4.12). The library calls the handler when
 *   - the server sends AUTH with reason 0x18 (continue): |step->reason_code|
 *     is 0x18 and the handler writes the next authentication data to reply;
 *   - authentication succeeds (CONNACK 0 or AUTH 0x00 after a
 *     re-authentication) and carries authentication data the client may want
 *     to verify (e.g. a SCRAM server signature): |step->reason_code| is 0.
 * Return 0 to continue / accept, or an MQTT reason code >= 0x80 to abort:
 * the library then sends DISCONNECT with that code and reports WMQ_E_AUTH. */
typedef struct wmq_auth_step {
	const char *method; /* NUL-terminated authentication method */
	const void *data;   /* server's authentication data (may be NULL) */
	size_t data_len;
	int reason_code;    /* 0x18 continue, 0x00 success */
	const wmq_properties *props; /* the whole AUTH / CONNACK property list */
} wmq_auth_step;
typedef struct wmq_auth_reply {
	uint8_t *data; /* library-owned buffer to write into */
	size_t cap;    /* its size (65535) */
	size_t len;    /* set by the handler: bytes written (0 = no data) */
} wmq_auth_reply;
typedef int (*wmq_auth_cb)(wmq_client *c, void *userdata, const wmq_auth_step *step,
			   wmq_auth_reply *reply);

/* ---- lifetime ---------------------------------------------------------- */

/* A new disconnected client. |userdata| is passed to every callback.
 * Returns NULL when out of memory. Ownership: caller; wmq_client_destroy(). */
WMQ_API wmq_client *wmq_client_new(void *userdata);
/* Close the socket (without DISCONNECT: the server publishes the will),
 * drop all session state and free the client. NULL-safe. Must not be called
 * from a callback. */
WMQ_API void wmq_client_destroy(wmq_client *c);
/* The pointer passed to every callback (borrowed; never dereferenced by
 * the library). */
WMQ_API void *wmq_client_userdata(const wmq_client *c);
WMQ_API void wmq_client_set_userdata(wmq_client *c, void *userdata);

/* Install (or, with NULL, remove) a callback. Take effect at once, also
 * from inside a callback. The library keeps only the function pointer. */
WMQ_API void wmq_client_on_connect(wmq_client *c, wmq_on_connect_cb cb);
WMQ_API void wmq_client_on_disconnect(wmq_client *c, wmq_on_disconnect_cb cb);
WMQ_API void wmq_client_on_message(wmq_client *c, wmq_on_message_cb cb);
WMQ_API void wmq_client_on_publish(wmq_client *c, wmq_on_publish_cb cb);
WMQ_API void wmq_client_on_subscribe(wmq_client *c, wmq_on_subscribe_cb cb);
WMQ_API void wmq_client_on_unsubscribe(wmq_client *c, wmq_on_unsubscribe_cb cb);
/* Log lines up to WMQ_OPT_LOG_LEVEL (default WMQ_LL_INFO; set
 * WMQ_LL_DEBUG for one line per packet). */
WMQ_API void wmq_client_on_log(wmq_client *c, wmq_on_log_cb cb);
/* The enhanced-authentication handler (see wmq_auth_cb). Without one, an
 * AUTH continue from the server aborts the connection (WMQ_E_AUTH). */
WMQ_API void wmq_client_on_auth(wmq_client *c, wmq_auth_cb cb);

/* Tunables for wmq_client_set_option(). */
enum wmq_client_option {
	/* Automatic reconnect after an unexpected connection loss (0/1, default
	 * 0). Not after wmq_client_disconnect(), nor after a CONNACK refusal
	 * that retrying cannot fix (0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C). */
	WMQ_OPT_RECONNECT = 1,
	WMQ_OPT_RECONNECT_MIN_MS = 2, /* first back-off delay, default 1000 */
	WMQ_OPT_RECONNECT_MAX_MS = 3, /* back-off cap, default 60000 */
	/* Our own cap on outgoing QoS 1/2 messages in flight, on top of the
	 * server's Receive Maximum; 0 = only the server's. Default 20. */
	WMQ_OPT_MAX_INFLIGHT = 4,
	/* Cap of the output buffer in bytes (default 64 MiB); a QoS 0 publish
	 * that does not fit fails with WMQ_E_QUEUE_FULL, QoS 1/2 messages wait
	 * in the session queue instead. */
	WMQ_OPT_OUT_BUFFER_MAX = 5,
	/* Use topic aliases for outgoing PUBLISH (MQTT 5, up to the server's
	 * Topic Alias Maximum). 0/1, default 0. */
	WMQ_OPT_TOPIC_ALIAS_OUT = 6,
	/* Time allowed from TCP connect to CONNACK, ms (default 30000). */
	WMQ_OPT_CONNECT_TIMEOUT_MS = 7,
	/* Lines above this level are not formatted (default WMQ_LL_INFO). */
	WMQ_OPT_LOG_LEVEL = 8,
	/* Maximum number of queued outgoing QoS 1/2 messages (in flight plus
	 * waiting), default 0 = unlimited. Beyond it publish gives
	 * WMQ_E_QUEUE_FULL. */
	WMQ_OPT_MAX_QUEUED = 9,
	/* TCP_NODELAY on the socket (0/1, default 1). */
	WMQ_OPT_TCP_NODELAY = 10,
};
/* Set a tunable; WMQ_E_INVAL for an unknown option or a bad value. Takes
 * effect at the next occasion (e.g. the next connection for TCP_NODELAY). */
WMQ_API int wmq_client_set_option(wmq_client *c, enum wmq_client_option opt, long value);

/* ---- connection -------------------------------------------------------- */

/* Start connecting (non-blocking): resolve |opts->host| (getaddrinfo; this
 * one step may block on DNS), start a non-blocking TCP connect to the first
 * address and queue CONNECT. Progress is made by the loop functions;
 * on_connect reports the CONNACK, on_disconnect a failure. Returns
 * WMQ_E_OK, WMQ_E_INVAL (bad options), WMQ_E_TLS (TLS files or settings
 * unusable; wmq_client_tls_error()), WMQ_E_LOOKUP, WMQ_E_CONNECT_FAILED
 * (no address could be tried), WMQ_E_STATE (already connected or
 * connecting), WMQ_E_NOMEM. The options are copied (see wmq_connect_opts).
 * Session state from a previous connection is kept and resumed if the
 * server reports a present session. */
WMQ_API int wmq_client_connect(wmq_client *c, const wmq_connect_opts *opts);
/* Graceful disconnect: queue DISCONNECT with |reason_code| (0 = normal;
 * 0x04 = ask the server to publish the will) and MQTT 5 |props| (e.g. a new
 * session-expiry-interval), flush it, close. Cancels automatic reconnect.
 * on_disconnect follows with error WMQ_E_OK once the socket is closed.
 * WMQ_E_NO_CONN if there is no connection (a pending reconnect is still
 * cancelled). */
WMQ_API int wmq_client_disconnect(wmq_client *c, int reason_code, const wmq_properties *props);
/* Is the client connected (CONNACK accepted and not disconnecting)? */
WMQ_API bool wmq_client_is_connected(const wmq_client *c);
/* Client identifier in use: the configured one, or the server-assigned one
 * after CONNACK; "" before. Valid until the next connect/destroy. */
WMQ_API const char *wmq_client_id(const wmq_client *c);
/* The errno behind the last WMQ_E_CONNECT_FAILED or WMQ_E_IO (e.g.
 * ECONNREFUSED), 0 if none. */
WMQ_API int wmq_client_sys_errno(const wmq_client *c);
/* Detail of the last WMQ_E_TLS failure, e.g. "certificate verify failed:
 * unable to get local issuer certificate" or "tlsv1 alert unknown ca",
 * or of a WebSocket failure (WMQ_E_PROTOCOL), e.g. "WebSocket upgrade
 * refused: "HTTP/1.1 404 Not Found"";
 * "" when there was none. Valid until the next connect attempt. */
WMQ_API const char *wmq_client_tls_error(const wmq_client *c);
/* Protocol version of the current / last connection. */
WMQ_API int wmq_client_protocol_version(const wmq_client *c);
/* The last CONNACK's properties (server limits, assigned id, response
 * information, ...); an empty list before the first CONNACK. Borrowed,
 * valid until the next CONNACK or destroy. */
WMQ_API const wmq_properties *wmq_client_connack_properties(const wmq_client *c);
/* Start re-authentication (MQTT 5 §4.12.1): send AUTH 0x19 with the
 * connection's authentication method and |data|. The exchange continues
 * through the on_auth handler. WMQ_E_NOT_SUPPORTED if the connection did
 * not use enhanced authentication or is not MQTT 5. */
WMQ_API int wmq_client_reauthenticate(wmq_client *c, const void *data, size_t len,
				      const wmq_properties *props);

/* ---- messaging ---------------------------------------------------------- */

/* Publish |len| bytes of |payload| (copied) to |topic| at |qos| 0..2.
 * MQTT 5 options travel in |props|: payload-format-indicator,
 * message-expiry-interval, content-type, response-topic, correlation-data,
 * user properties, and topic-alias (sent as given, with the topic; for
 * automatic aliases see WMQ_OPT_TOPIC_ALIAS_OUT). On success *mid (if
 * non-NULL) receives the packet identifier used to match on_publish (0 for
 * QoS 0).
 * QoS 0 needs a connection (WMQ_E_NO_CONN otherwise) and room in the output
 * buffer (WMQ_E_QUEUE_FULL). QoS 1/2 messages are accepted also while
 * connecting or waiting to reconnect: they queue in the session, are sent
 * as the server's Receive Maximum allows, and are redelivered (DUP) after a
 * reconnect until acknowledged.
 * WMQ_E_INVAL: bad topic/QoS/properties; WMQ_E_TOO_LARGE: exceeds the
 * server's Maximum Packet Size; WMQ_E_NOT_SUPPORTED: QoS or retain above
 * what the server announced. */
WMQ_API int wmq_client_publish(wmq_client *c, uint16_t *mid, const char *topic,
			       const void *payload, size_t len, int qos, bool retain,
			       const wmq_properties *props);

/* Subscription request entry for wmq_client_subscribe_many(). */
typedef struct wmq_subscription {
	const char *filter;       /* topic filter, may include + and #, or $share/... */
	int qos;                  /* maximum QoS 0..2 */
	bool no_local;            /* MQTT 5: not my own messages */
	bool retain_as_published; /* MQTT 5: keep the retain flag as published */
	int retain_handling;      /* MQTT 5: 0 send retained, 1 only if new, 2 never */
} wmq_subscription;

/* Subscribe to one filter (options 0 except QoS). See subscribe_many. */
WMQ_API int wmq_client_subscribe(wmq_client *c, uint16_t *mid, const char *filter, int qos,
				 const wmq_properties *props);
/* Subscribe to |n| filters in one SUBSCRIBE. |props| may carry a
 * subscription-identifier and user properties (MQTT 5). Requires a
 * connection (WMQ_E_NO_CONN). on_subscribe reports the SUBACK. Requests
 * not acknowledged when the connection drops are not resent. */
WMQ_API int wmq_client_subscribe_many(wmq_client *c, uint16_t *mid, const wmq_subscription *subs,
				      size_t n, const wmq_properties *props);
/* Unsubscribe from |n| filters in one UNSUBSCRIBE; on_unsubscribe reports
 * the UNSUBACK. */
WMQ_API int wmq_client_unsubscribe(wmq_client *c, uint16_t *mid, const char *const *filters,
				   size_t n, const wmq_properties *props);
/* Outgoing QoS 1/2 messages not yet completed (in flight or queued). */
WMQ_API size_t wmq_client_pending_count(const wmq_client *c);

/* ---- event-loop integration --------------------------------------------- */

/* The socket to watch, or -1 when there is none. Always readable-interest;
 * writable-interest while wmq_client_want_write() is true. */
WMQ_API int wmq_client_fd(const wmq_client *c);
/* True while a connect is in progress or output is buffered. */
WMQ_API bool wmq_client_want_write(const wmq_client *c);
/* Milliseconds until wmq_client_on_timeout() must be called (keepalive,
 * ping timeout, connect timeout, reconnect back-off); 0 = now; -1 = no
 * timer pending. */
WMQ_API int wmq_client_next_timeout_ms(const wmq_client *c);
/* The socket is readable: read and process every complete packet. */
WMQ_API int wmq_client_on_readable(wmq_client *c);
/* The socket is writable: finish a pending connect and flush output. */
WMQ_API int wmq_client_on_writable(wmq_client *c);
/* Run due timers. Harmless to call early or often. */
WMQ_API int wmq_client_on_timeout(wmq_client *c);
/* These three return WMQ_E_OK while the client is alive; when the
 * connection ended during the call they return the cause (as in
 * wmq_disconnect_info.error) after on_disconnect has run. */

/* ---- blocking helpers ---------------------------------------------------- */

/* One poll(2) round of at most |timeout_ms| (-1 = until something happens;
 * 0 = do not wait), handling I/O and timers. Returns WMQ_E_OK, the error
 * that ended a connection during the call, WMQ_E_NO_CONN when there is
 * neither a connection nor a pending reconnect, or WMQ_E_IO if poll failed
 * (EINTR is reported as WMQ_E_OK so signal handlers can act). */
WMQ_API int wmq_client_loop(wmq_client *c, int timeout_ms);
/* Loop until wmq_client_loop_stop() is called or the client ends up with no
 * connection and no pending reconnect. Returns WMQ_E_OK after a stop or a
 * graceful disconnect, otherwise the error that ended the last connection. */
WMQ_API int wmq_client_loop_forever(wmq_client *c);
/* Make wmq_client_loop_forever() return after the current round. Call from
 * a callback (same thread). */
WMQ_API void wmq_client_loop_stop(wmq_client *c);
/* wmq_client_connect() and loop until CONNACK or |timeout_ms|. Returns
 * WMQ_E_OK when accepted; WMQ_E_CONN_REFUSED with *reason_code (if
 * non-NULL) set to the CONNACK reason; WMQ_E_TIMEOUT; or the connect error. */
WMQ_API int wmq_client_connect_blocking(wmq_client *c, const wmq_connect_opts *opts,
					int timeout_ms, int *reason_code);
/* Loop until every outgoing QoS 1/2 message has completed and the output
 * buffer is flushed, or |timeout_ms| (-1 = no limit). WMQ_E_OK,
 * WMQ_E_TIMEOUT, or the error that ended the connection. */
WMQ_API int wmq_client_wait_published(wmq_client *c, int timeout_ms);
/* wmq_client_disconnect() and loop until the socket is closed (or
 * |timeout_ms|, after which it is closed anyway). */
WMQ_API int wmq_client_disconnect_blocking(wmq_client *c, int reason_code,
					   const wmq_properties *props, int timeout_ms);

#ifdef __cplusplus
}
#endif
#endif
