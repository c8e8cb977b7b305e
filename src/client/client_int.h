/* SPDX-License-Identifier: MIT
 * client_int.h - private to src/client: the client handle, the session
 * queues, the transport ops table and the helpers the client files share.
 *
 * Files:
 *   client.c     handle lifetime, options, connect/disconnect state machine,
 *                packet output, timers, I/O entry points (on_readable ...)
 *   session.c    outgoing QoS 1/2 queue, packet identifiers, incoming QoS 2
 *                ids, redelivery on reconnect
 *   handle.c     one handler per received packet type
 *   loop.c       poll(2)-based blocking helpers
 *   tcp.c        the plain TCP transport (non-blocking connect, read/write)
 *   tls.c        TLS over TCP (OpenSSL)
 *   ws.c         WebSockets over TCP or TLS (RFC 6455 client side)
 *   props.c      public property lists over struct wmq_props
 *   misc.c       error/reason strings, version
 *   backoff.c    reconnect delay computation
 *
 * Connection states (enum wmq_cstate):
 *   IDLE --connect()--> TCP_CONNECTING --writable/SO_ERROR 0--> MQTT_CONNECTING
 *   (CONNECT queued; AUTH exchanges happen here) --CONNACK 0--> CONNECTED
 *   --disconnect()--> DISCONNECTING (DISCONNECT queued, closes when flushed)
 *   Any failure closes the socket (conn_close) and goes to WAIT_RECONNECT
 *   if automatic reconnect applies, IDLE otherwise.
 * Threading: one thread at a time per client (see wardmq/client.h). */
#ifndef WMQ_CLIENT_INT_H
#define WMQ_CLIENT_INT_H
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hmap.h"
#include "protocol/mqtt.h"
#include "wardmq/wardmq.h"

/* Public property list: a borrowed view of a decoded block, or owned. */
struct wmq_properties {
	const struct wmq_props *view; /* non-NULL: borrowed, read-only */
	struct wmq_props own;         /* owned values (strings heap-allocated) */
	struct wmq_user_prop *users;  /* own.user points here */
	size_t users_cap;
	uint32_t *subids; /* own.sub_ids points here */
	size_t subids_cap;
};

/* Make |p| a read-only view of |dec| (NULL = empty). No allocation. */
void wmq_cprops_view(struct wmq_properties *p, const struct wmq_props *dec);
/* WMQ_E_INVAL if |p| holds a property a client may not send in |cmd|. */
int wmq_cprops_check(const wmq_properties *p, int cmd);
/* The encoder form of an OWNED list (empty block for NULL). Views must be
 * copied first (wmq_properties_copy) since their raw block would be
 * appended verbatim. */
const struct wmq_props *wmq_cprops_wire(const wmq_properties *p);

/* ---- transport ----------------------------------------------------------- */

struct wmq_client;

/* Byte transport under MQTT. Plain TCP now; TLS and WebSockets add their
 * own ops (and may buffer internally and ask for writability). */
struct wmq_transport_ops {
	const char *name;
	/* Read up to |cap| bytes: OK with *got > 0, AGAIN, CLOSED or IO. */
	wmq_err (*read)(struct wmq_client *c, void *buf, size_t cap, size_t *got);
	/* Write up to |len| bytes: OK with *sent (may be short), AGAIN or IO. */
	wmq_err (*write)(struct wmq_client *c, const void *buf, size_t len, size_t *sent);
	/* Optional: push bytes the transport buffered itself (WebSocket
	 * frames); OK (maybe still pending), CLOSED, IO or TLS. */
	wmq_err (*flush)(struct wmq_client *c);
	/* Half-close: no more writes (TCP FIN, TLS close_notify). */
	void (*shutdown)(struct wmq_client *c);
	/* Release transport state and close the socket. */
	void (*close)(struct wmq_client *c);
};

extern const struct wmq_transport_ops wmq_tcp_ops;
extern const struct wmq_transport_ops wmq_tls_ops;
extern const struct wmq_transport_ops wmq_wsc_ops;

/* ---- ws.c -----------------------------------------------------------------
 * WebSockets (RFC 6455 client side) layered over the connected transport.
 * After TCP (ws://) or the TLS handshake (wss://), wmq_wsc_start() queues
 * the upgrade request and switches c->tp to wmq_wsc_ops (the inner ops are
 * kept); wmq_wsc_handshake() runs on every event until it returns WMQ_OK.
 * Failures record a readable text in c->tls_err (the transport error) and
 * return WMQ_ERR_PROTOCOL. Prefix wmq_wsc_: the broker's server side
 * (src/net/ws.h, not linked into libwardmq) owns wmq_ws_. */

#define WMQ_WSC_HDR_MAX 14u
/* A parsed frame header. */
struct wmq_wsc_hdr {
	bool fin, masked;
	uint8_t opcode;
	uint8_t mask[4];
	uint64_t len;   /* payload length */
	size_t hdr_len; /* bytes of the header incl. the mask key */
};
/* Pure helpers (exposed for unit tests). Encode a frame header: the
 * shortest length form (RFC 6455 §5.2); |mask| NULL = unmasked. Returns
 * its size (2..14). */
size_t wmq_wsc_frame_header(uint8_t out[WMQ_WSC_HDR_MAX], uint8_t opcode, bool fin, uint64_t len,
			   const uint8_t mask[4]);
/* XOR |n| bytes with |mask|, |off| = position of p[0] in the payload. */
void wmq_wsc_mask(uint8_t *p, size_t n, const uint8_t mask[4], size_t off);
/* OK, AGAIN (incomplete) or PROTOCOL (reserved bits, 64-bit MSB). */
WMQ_MUST_USE wmq_err wmq_wsc_parse_header(const uint8_t *p, size_t n, struct wmq_wsc_hdr *h);
/* Sec-WebSocket-Accept for |key| (28 chars + NUL). false on failure. */
bool wmq_wsc_accept_for(const char *key, char out[32]);
/* Check an upgrade response in |p|: AGAIN (no complete head yet), OK with
 * *head_len, or PROTOCOL with a reason in |why|. */
WMQ_MUST_USE wmq_err wmq_wsc_check_response(const uint8_t *p, size_t n, const char *accept,
					   size_t *head_len, char *why, size_t why_cap);

WMQ_MUST_USE wmq_err wmq_wsc_start(struct wmq_client *c);
/* WMQ_OK done, WMQ_ERR_AGAIN (wmq_wsc_want_write says the direction),
 * else failed. */
WMQ_MUST_USE wmq_err wmq_wsc_handshake(struct wmq_client *c);
bool wmq_wsc_handshaking(const struct wmq_client *c);
/* Framed bytes wait to be written. */
bool wmq_wsc_want_write(const struct wmq_client *c);
/* Buffered input can make progress without a socket event. */
bool wmq_wsc_pending(const struct wmq_client *c);

/* ---- tls.c ----------------------------------------------------------------
 * TLS over the TCP socket (the only client file that includes OpenSSL).
 * Sequence: wmq_tls_prepare() builds the SSL_CTX when a connect starts (so
 * bad files fail wmq_client_connect() at once); after the TCP connect,
 * wmq_tls_start() attaches an SSL to c->fd and switches c->tp to
 * wmq_tls_ops; wmq_tls_handshake() is then called on every readable /
 * writable event until it returns WMQ_OK. Failures record a readable text
 * in c->tls_err (also logged) and return WMQ_ERR_TLS. */

/* Deep copy of wmq_tls_opts (with the PSK decoded from hex). */
struct wmq_tls_cfg {
	bool on;
	char *cafile, *capath, *certfile, *keyfile, *ciphers, *psk_identity, *alpn;
	bool insecure;
	int min_version; /* OpenSSL TLS1_x_VERSION */
	uint8_t *psk;
	size_t psk_len;
};
/* Validate and copy |o| into |g| (zeroed first). WMQ_E_OK, WMQ_E_INVAL
 * (bad hex, unknown version, cert without key, ...) or WMQ_E_NOMEM. */
int wmq_tls_cfg_copy(struct wmq_tls_cfg *g, const wmq_tls_opts *o);
void wmq_tls_cfg_free(struct wmq_tls_cfg *g);
/* Hex PSK to bytes: the byte count, or 0 for a malformed or empty string
 * or one longer than |cap| bytes. Pure (exposed for unit tests). */
size_t wmq_tls_psk_decode(const char *hex, uint8_t *out, size_t cap);
/* Build c->tls_ctx from c->cfg.tls. WMQ_OK or WMQ_ERR_TLS. */
WMQ_MUST_USE wmq_err wmq_tls_prepare(struct wmq_client *c);
/* Attach TLS to the connected c->fd. WMQ_OK or WMQ_ERR_TLS. */
WMQ_MUST_USE wmq_err wmq_tls_start(struct wmq_client *c);
/* One handshake step: WMQ_OK done, WMQ_ERR_AGAIN (c->tls_hs_want_write
 * says which direction), WMQ_ERR_TLS failed. */
WMQ_MUST_USE wmq_err wmq_tls_handshake(struct wmq_client *c);
/* Decrypted bytes are waiting inside the SSL object (no socket event will
 * announce them). */
bool wmq_tls_pending(const struct wmq_client *c);
/* Free the SSL_CTX (destroy). */
void wmq_tls_ctx_free(struct wmq_client *c);

/* Start a non-blocking TCP connect to the next address of c->ai_next.
 * WMQ_OK with c->fd set (c->tcp_done true if already connected), or
 * WMQ_ERR_IO when no address remains (errno of the last attempt kept). */
WMQ_MUST_USE wmq_err wmq_tcp_start(struct wmq_client *c);
/* After writability during connect: WMQ_OK connected, WMQ_ERR_AGAIN still
 * in progress, WMQ_ERR_IO failed (fd closed; try wmq_tcp_start again). */
WMQ_MUST_USE wmq_err wmq_tcp_finish(struct wmq_client *c);

/* ---- session ------------------------------------------------------------- */

enum wmq_om_state {
	OM_QUEUED = 0,    /* accepted, not yet sent on this connection */
	OM_WAIT_PUBACK,   /* QoS 1 PUBLISH sent */
	OM_WAIT_PUBREC,   /* QoS 2 PUBLISH sent */
	OM_WAIT_PUBCOMP,  /* QoS 2 PUBREL sent */
};

/* One outgoing QoS 1/2 message (owned copies of everything). */
struct wmq_out_msg {
	struct wmq_out_msg *next, *prev;
	uint16_t mid;
	uint8_t qos;
	bool retain;
	bool sent; /* transmitted at least once: a resend carries DUP */
	uint8_t state; /* enum wmq_om_state */
	char *topic;
	size_t topic_len;
	uint8_t *payload;
	size_t payload_len;
	wmq_properties *props; /* owned copy or NULL */
};

/* A SUBSCRIBE or UNSUBSCRIBE waiting for its acknowledgement. */
struct wmq_req {
	struct wmq_req *next;
	uint16_t mid;
	uint8_t type; /* WMQ_SUBSCRIBE or WMQ_UNSUBSCRIBE */
	uint16_t count;
};

enum wmq_cstate {
	CS_IDLE = 0,
	CS_TCP_CONNECTING,
	CS_MQTT_CONNECTING,
	CS_CONNECTED,
	CS_DISCONNECTING,
	CS_WAIT_RECONNECT,
};

/* The deep copy of wmq_connect_opts a client reconnects with. */
struct wmq_conn_cfg {
	char *host;
	char port[8];
	uint8_t version;
	char *client_id; /* configured id ("" = server assigns) */
	bool clean;
	uint16_t keepalive;
	char *username; /* NULL = none */
	uint8_t *password;
	size_t password_len;
	bool has_password;
	char *will_topic; /* NULL = no will */
	uint8_t *will_payload;
	size_t will_payload_len;
	uint8_t will_qos;
	bool will_retain;
	wmq_properties *will_props;    /* owned, never NULL after connect */
	wmq_properties *connect_props; /* merged, owned, never NULL after connect */
	char *auth_method;             /* NULL = no enhanced auth */
	/* effective values of our own limits */
	uint32_t session_expiry;
	uint16_t receive_max;   /* what the server may have in flight to us */
	uint32_t max_packet;    /* largest packet we accept */
	uint16_t alias_max;     /* aliases the server may use */
	struct wmq_tls_cfg tls; /* tls.on false = plain TCP */
	bool ws;                /* MQTT over WebSockets */
	char *ws_path;          /* request target (NULL = "/mqtt") */
};

struct wmq_client {
	void *userdata;
	wmq_on_connect_cb on_connect;
	wmq_on_disconnect_cb on_disconnect;
	wmq_on_message_cb on_message;
	wmq_on_publish_cb on_publish;
	wmq_on_subscribe_cb on_subscribe;
	wmq_on_unsubscribe_cb on_unsubscribe;
	wmq_on_log_cb on_log;
	wmq_auth_cb on_auth;

	/* options */
	bool opt_reconnect;
	uint32_t opt_rc_min_ms, opt_rc_max_ms;
	uint16_t opt_max_inflight;
	size_t opt_out_max;
	bool opt_alias_out;
	uint32_t opt_connect_timeout_ms;
	int opt_log_level;
	size_t opt_max_queued;
	bool opt_nodelay;

	struct wmq_conn_cfg cfg;
	bool have_cfg;

	/* connection */
	enum wmq_cstate state;
	int fd;
	const struct wmq_transport_ops *tp;
	struct addrinfo *ai_list, *ai_next;
	bool tcp_done;
	int tcp_errno;
	int sys_errno; /* for wmq_client_sys_errno() */
	uint32_t conn_gen; /* bumped on every close: stale-state guard */
	struct wmq_dbuf in, out;
	size_t out_off;  /* bytes of |out| already written */
	bool wr_shut;    /* DISCONNECTING: DISCONNECT flushed, write side shut */
	uint8_t version; /* of the current / last connection */
	/* TLS (tls.c); opaque OpenSSL objects */
	struct ssl_ctx_st *tls_ctx; /* per connect() call, reused by reconnects */
	struct ssl_st *ssl;         /* per connection */
	bool tls_hs;                /* handshake in progress (state TCP_CONNECTING) */
	bool tls_hs_want_write;     /* ... and it waits for writability */
	bool tls_wr_want_read;      /* SSL_write needs the socket readable */
	bool tls_rd_want_write;     /* SSL_read needs the socket writable */
	char tls_err[256];          /* wmq_client_tls_error(): TLS or WebSocket failure */
	struct wmq_wsc *ws;          /* WebSocket layer of this connection (ws.c) */
	bool clean_sent; /* clean flag of the CONNECT in flight */
	uint64_t last_out_ms;
	uint64_t ping_sent_ms;
	bool ping_outstanding;
	uint64_t deadline_ms;     /* connect / disconnect deadline (0 = none) */
	uint64_t reconnect_at_ms; /* WAIT_RECONNECT timer */
	uint32_t reconnect_attempt;
	uint16_t keepalive; /* effective (Server Keep Alive wins) */
	int deferred_err;   /* a write failed outside the I/O entry points */
	uint8_t disconnect_rc; /* what our DISCONNECT carried */
	bool user_disconnect;  /* wmq_client_disconnect() was called */
	bool session_known;    /* a CONNACK accepted since the last clean start */
	bool in_reauth;        /* a client-initiated re-authentication runs */

	/* server limits from CONNACK */
	uint16_t srv_receive_max;
	uint32_t srv_max_packet; /* 0 = no limit */
	uint16_t srv_alias_max;
	uint8_t srv_max_qos;
	bool srv_retain;

	/* session */
	struct wmq_out_msg *om_head, *om_tail;
	/* Every message before the cursor is in flight; NULL = none queued.
	 * Keeps wmq_sess_pump() O(1) per message with a large window. */
	struct wmq_out_msg *om_cursor;
	size_t om_count;    /* all queued messages */
	size_t om_inflight; /* those not in OM_QUEUED */
	uint64_t mid_used[65536 / 64];
	uint16_t last_mid;
	struct wmq_req *reqs;
	uint16_t *in_qos2; /* incoming QoS 2 ids awaiting PUBREL */
	size_t in_qos2_n, in_qos2_cap;

	/* topic aliases of the current connection */
	char **alias_in; /* [1..cfg.alias_max], owned strings */
	char **alias_out_topic; /* [1..srv_alias_max], owned, keys of alias_out */
	struct wmq_hmap alias_out;
	uint16_t alias_out_n;

	char *client_id; /* in use ("" before CONNACK if assigned) */
	wmq_properties *connack_props;
	uint8_t *auth_buf; /* 65535-byte scratch for the auth handler */
	char *topic_buf;   /* NUL-terminated topic for on_message */
	size_t topic_buf_cap;

	/* blocking helpers / entry points */
	bool stop;
	int call_err;    /* error that ended a connection during this call */
	int last_close_err;
	int connect_outcome; /* 1 accepted, 0 pending, < 0 failed */
	int connack_rc;
};

/* ---- client.c ------------------------------------------------------------ */

void wmq_client_log(struct wmq_client *c, int level, const char *fmt, ...) WMQ_PRINTF(3, 4);
#define CLOG(c, lvl, ...)                                                                          \
	do {                                                                                       \
		if ((c)->on_log && (int)(lvl) <= (c)->opt_log_level)                               \
			wmq_client_log((c), (lvl), __VA_ARGS__);                                   \
	} while (0)
/* "(null)" style id for log lines. */
const char *wmq_client_log_id(const struct wmq_client *c);

/* Encode |pkt| into the output buffer and try to write it out.
 * WMQ_ERR_LIMIT: does not fit the output cap; WMQ_ERR_PROTOCOL: larger than
 * the server's Maximum Packet Size; WMQ_ERR_INVAL: cannot be encoded. */
WMQ_MUST_USE wmq_err wmq_client_send(struct wmq_client *c, const struct wmq_pkt *pkt);
/* Send DISCONNECT |rc| (v5) best-effort and close as a protocol failure. */
void wmq_client_fail(struct wmq_client *c, int err, uint8_t rc);
/* Close the connection and report it (see the state diagram above). */
void wmq_client_close(struct wmq_client *c, int err, int reason, bool by_server,
		      const wmq_properties *props);
/* Mark the connection accepted, apply CONNACK, resume the session. */
void wmq_client_connected(struct wmq_client *c, const struct wmq_connack *ca);
/* Send an AUTH packet (reason |rc|) with the configured method and |data|. */
WMQ_MUST_USE wmq_err wmq_client_send_auth(struct wmq_client *c, uint8_t rc, const void *data,
					  size_t len, const wmq_properties *props);

/* ---- handle.c ------------------------------------------------------------ */

/* Handle one decoded packet. May close the connection (check conn_gen). */
void wmq_client_handle(struct wmq_client *c, const struct wmq_pkt *pkt);

/* ---- session.c ----------------------------------------------------------- */

WMQ_MUST_USE wmq_err wmq_sess_mid_alloc(struct wmq_client *c, uint16_t *mid);
void wmq_sess_mid_free(struct wmq_client *c, uint16_t mid);
struct wmq_out_msg *wmq_sess_find(struct wmq_client *c, uint16_t mid);
void wmq_sess_append(struct wmq_client *c, struct wmq_out_msg *m);
/* Unlink, release its id and free. */
void wmq_sess_remove(struct wmq_client *c, struct wmq_out_msg *m);
void wmq_sess_msg_free(struct wmq_out_msg *m);
/* Send queued messages while the in-flight window allows. */
void wmq_sess_pump(struct wmq_client *c);
/* (Re)transmit |m| as PUBLISH (DUP if it was sent before). */
WMQ_MUST_USE wmq_err wmq_sess_send_publish(struct wmq_client *c, struct wmq_out_msg *m);
/* After CONNACK: resend or reset in-flight messages. */
void wmq_sess_resume(struct wmq_client *c, bool session_present);
/* Drop everything (destroy). */
void wmq_sess_clear(struct wmq_client *c);
/* Incoming QoS 2 id set. */
bool wmq_sess_in_has(const struct wmq_client *c, uint16_t mid);
WMQ_MUST_USE wmq_err wmq_sess_in_add(struct wmq_client *c, uint16_t mid);
bool wmq_sess_in_del(struct wmq_client *c, uint16_t mid);
/* Pending SUBSCRIBE/UNSUBSCRIBE requests. */
WMQ_MUST_USE wmq_err wmq_sess_req_add(struct wmq_client *c, uint16_t mid, uint8_t type,
				      uint16_t count);
/* Unlink and return the request (caller frees), or NULL. */
struct wmq_req *wmq_sess_req_take(struct wmq_client *c, uint16_t mid, uint8_t type);
void wmq_sess_req_clear(struct wmq_client *c);
/* Topic aliases. */
void wmq_sess_alias_reset(struct wmq_client *c);

/* ---- backoff.c ----------------------------------------------------------- */

/* Reconnect delay for attempt |attempt| (0 = first retry): an exponential
 * base min_ms * 2^attempt capped at max_ms, with "equal jitter" taken from
 * |rnd|: the result lies in [max(base/2, min_ms), base]. Pure. */
uint32_t wmq_backoff_delay_ms(uint32_t min_ms, uint32_t max_ms, uint32_t attempt, uint32_t rnd);

/* ---- misc.c -------------------------------------------------------------- */

/* Map an internal error to a public code. */
int wmq_client_err_public(wmq_err e);

#endif
