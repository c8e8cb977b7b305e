/* SPDX-License-Identifier: MIT
 * ws.h - server-side WebSocket layer (RFC 6455) for MQTT over WebSockets:
 * a strict HTTP/1.1 upgrade parser, a frame decoder/encoder, and a
 * transport ops table that wraps plain TCP or TLS.
 *
 * Role: written here (no library) with its own fuzz target (fuzz/fuzz_ws.c).
 * Three layers, usable separately:
 *   1. wmq_ws_upgrade_parse() / wmq_ws_accept_response() /
 *      wmq_ws_error_response(): the opening handshake (RFC 6455 §4.2).
 *   2. struct wmq_ws_dec + wmq_ws_encode_*(): framing (RFC 6455 §5). The
 *      decoder turns client frames into the concatenated payload bytes of
 *      binary messages (MQTT is a byte stream: a packet may span frames and
 *      a frame may hold several packets), answers ping and close, refuses
 *      everything else with the close code the RFC names.
 *   3. wmq_transport_ws + wmq_ws_server_start(): a struct wmq_conn whose
 *      read() yields unmasked MQTT bytes and whose write() sends them as
 *      binary frames, over whatever ops the conn had (tcp or tls).
 *
 * Broker integration (one listener with `protocol websockets`):
 *   accept:   wmq_conn_init(c, fd, &wmq_transport_tcp, peer, ...);
 *             for wss first wmq_tls_server_start(ctx, c);
 *             then wmq_ws_server_start(c, &listener_ws_opts). The opts (and
 *             the strings/arrays they point to) are borrowed and must
 *             outlive the connection: keep them in the listener.
 *   reading:  unchanged. wmq_conn_fill() reads; while the upgrade is in
 *             progress it returns WMQ_OK with nothing in c->in (read() says
 *             EAGAIN), so the connect_timeout of the listener must cover
 *             the handshake exactly as for TLS. A refused upgrade (bad
 *             request, wrong path, origin, version, size) answers the HTTP
 *             error and then read() fails with EPROTO, i.e. conn_fill()
 *             returns WMQ_ERR_IO: close the conn and log
 *             wmq_ws_http_status(c) and wmq_ws_reason(c) with c->peer.
 *             A framing violation queues a close frame (1002/1003/1009),
 *             then read() fails with EPROTO (WMQ_ERR_IO): close and log
 *             wmq_ws_close_code(c) + wmq_ws_reason(c). A close frame from
 *             the client is answered and read() returns 0 (WMQ_ERR_CLOSED):
 *             an orderly disconnect (the will is published unless MQTT
 *             DISCONNECT came before, exactly as with TCP EOF).
 *             As with TLS, a read budget can leave decoded-ready bytes
 *             inside the layer: when wmq_conn_fill() stopped on its budget
 *             or c->in is full, or wmq_ws_buffered(c) is true, fill again
 *             before going back to epoll (level-triggered readability
 *             does not see them).
 *   writing:  unchanged. wmq_conn_flush() sends; each write() becomes one
 *             binary frame. Like OpenSSL's SSL_write, a write that returned
 *             EAGAIN or a short count must be retried with the same bytes
 *             (conn_flush does this: it resends from out_off).
 *   watching: the layer may hold bytes of its own (the 101 response,
 *             pong and close replies) that are not in c->out. Ask for
 *             writability while wmq_conn_pending(c) || wmq_ws_pending(c),
 *             and on writability call wmq_ws_flush(c) as well as
 *             wmq_conn_flush(c). (read() and write() also flush them.)
 *   identity: wmq_ws_forwarded_for(c) is the client address from
 *             X-Forwarded-For when the listener trusts it (use it instead
 *             of c->peer in logs and address-based rules), else NULL.
 *             wmq_ws_subprotocol(c) is "mqtt" or "mqttv3.1".
 *   tls:      functions of net/tls.h that take the conn (identity, peer
 *             certificate, is_tls) check c->ops; for wss call them through
 *             wmq_ws_with_inner(c, fn, arg), which shows the TLS ops/engine
 *             for the duration of fn.
 *   closing:  wmq_conn_cleanup(c) calls close(), which sends a close frame
 *             (1000) if none was sent, best effort (one non-blocking try),
 *             frees the WebSocket state and closes the inner transport.
 *
 * Threading: a conn belongs to one worker; the parser, decoder and encoder
 * are pure functions of their arguments. No global state.
 * Ownership: see each function. Spec: RFC 6455, RFC 9110/9112 (HTTP). */
#ifndef WMQ_NET_WS_H
#define WMQ_NET_WS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/conn.h"

#define WMQ_WS_DEFAULT_MAX_REQUEST 8192u   /* bytes of the upgrade request */
#define WMQ_WS_DEFAULT_MAX_FRAME (1u << 20) /* payload bytes of one frame */
#define WMQ_WS_KEY_LEN 24                   /* base64 of 16 bytes */
#define WMQ_WS_ACCEPT_LEN 28                /* base64 of a SHA-1 digest */
#define WMQ_WS_FRAME_HDR_MAX 14             /* 2 + 8 length + 4 mask */
#define WMQ_WS_CTL_MAX 125                  /* §5.5 control payload limit */

/* Listener options. All pointers are borrowed for the life of every
 * connection started with them. */
struct wmq_ws_opts {
	const char *path;           /* request path to accept ("/mqtt"); NULL = any.
				     * The query string is ignored. */
	const char *const *origins; /* NULL-terminated allow-list of Origin values
				     * (e.g. "https://example.com"), compared
				     * case-insensitively; NULL = any origin */
	bool origin_required;       /* with origins: refuse requests without an
				     * Origin header (non-browser clients send
				     * none; default false lets them in) */
	bool trust_xff;             /* expose X-Forwarded-For (behind a proxy) */
	size_t max_request;         /* 0 = WMQ_WS_DEFAULT_MAX_REQUEST */
	size_t max_frame;           /* 0 = WMQ_WS_DEFAULT_MAX_FRAME */
};

/* The result of parsing an upgrade request. */
struct wmq_ws_upgrade {
	size_t consumed;                  /* bytes of the request (through the
					   * blank line); bytes after it are frames */
	int status;                       /* 101, or the HTTP status to answer */
	const char *reason;               /* why it was refused (static), or "" */
	char key[WMQ_WS_KEY_LEN + 1];     /* Sec-WebSocket-Key, NUL-terminated */
	const char *subprotocol;          /* "mqtt" or "mqttv3.1" (static) */
	char xff[64];                     /* first X-Forwarded-For address if
					   * trusted and a valid IP, else "" */
};

/* Parse the client's opening handshake in buf[0..len).
 * WMQ_OK: complete and acceptable; out->consumed is its length.
 * WMQ_ERR_AGAIN: incomplete; call again with more bytes (same start).
 * WMQ_ERR_LIMIT: longer than opts->max_request (answer 431 or 400).
 * WMQ_ERR_MALFORMED: 400, WMQ_ERR_NOTFOUND: 404 (wrong path),
 * WMQ_ERR_DENIED: 403 (origin), WMQ_ERR_PROTOCOL: 426 (version).
 * On every error out->status and out->reason say what to answer and log.
 * Ownership: borrows everything; out holds copies. */
WMQ_MUST_USE wmq_err wmq_ws_upgrade_parse(const uint8_t *buf, size_t len,
					  const struct wmq_ws_opts *opts,
					  struct wmq_ws_upgrade *out);

/* Sec-WebSocket-Accept for |key| (RFC 6455 §4.2.2): base64(SHA-1(key ||
 * GUID)), 28 characters plus NUL into |out|. */
WMQ_MUST_USE wmq_err wmq_ws_accept_key(const char *key, char out[WMQ_WS_ACCEPT_LEN + 1]);
/* The "101 Switching Protocols" response for |key| choosing |subprotocol|
 * (NULL = "mqtt"). Writes into out[0..cap), *n = length. LIMIT if small. */
WMQ_MUST_USE wmq_err wmq_ws_accept_response(const char *key, const char *subprotocol,
					    uint8_t *out, size_t cap, size_t *n);
/* An HTTP error response (400, 403, 404, 426 with Sec-WebSocket-Version:
 * 13, 431; anything else is sent as 400), "Connection: close". */
WMQ_MUST_USE wmq_err wmq_ws_error_response(int status, uint8_t *out, size_t cap, size_t *n);

/* ---- framing (RFC 6455 §5) ----------------------------------------------- */

enum wmq_ws_opcode {
	WMQ_WS_OP_CONT = 0x0,
	WMQ_WS_OP_TEXT = 0x1,
	WMQ_WS_OP_BINARY = 0x2,
	WMQ_WS_OP_CLOSE = 0x8,
	WMQ_WS_OP_PING = 0x9,
	WMQ_WS_OP_PONG = 0xA,
};

/* Close status codes used here (§7.4.1). */
#define WMQ_WS_CLOSE_NORMAL 1000
#define WMQ_WS_CLOSE_GOING_AWAY 1001
#define WMQ_WS_CLOSE_PROTOCOL 1002
#define WMQ_WS_CLOSE_UNSUPPORTED 1003
#define WMQ_WS_CLOSE_BAD_DATA 1007
#define WMQ_WS_CLOSE_TOO_BIG 1009

/* Decoder of client frames. Embed it; wmq_ws_dec_init() before use, no
 * cleanup needed (it owns no memory). Fields are private. */
struct wmq_ws_dec {
	uint64_t max_frame;
	uint8_t hdr[WMQ_WS_FRAME_HDR_MAX]; /* header being collected */
	size_t hdr_len;
	bool in_payload;                   /* header done, payload follows */
	uint8_t opcode;
	bool fin;
	uint8_t mask[4];
	uint64_t left;                     /* payload bytes still to come */
	uint64_t off;                      /* payload offset (mask index) */
	bool in_message;                   /* a fragmented binary message is open */
	uint8_t ctl[WMQ_WS_CTL_MAX];       /* control payload being collected */
	size_t ctl_len;
	wmq_err state;                     /* OK, or the sticky CLOSED/PROTOCOL/LIMIT */
	uint16_t close_code;               /* code sent (or to send) in our close */
	const char *reason;                /* static text for logs, or "" */
	/* replies waiting to be sent: the latest pong (§5.5.3 allows
	 * answering only the most recent ping), then our close frame */
	uint8_t pong[2 + WMQ_WS_CTL_MAX];
	size_t pong_len;
	uint8_t close[4];
	size_t close_len;
	bool close_sent;                   /* a close frame has been queued once */
};

/* |max_frame| 0 = WMQ_WS_DEFAULT_MAX_FRAME. */
void wmq_ws_dec_init(struct wmq_ws_dec *d, size_t max_frame);

/* Decode in[0..len): *used bytes consumed, *produced payload bytes written
 * to out[0..cap). Stops early when out is full or at the end of a close.
 * WMQ_OK: continue. WMQ_ERR_CLOSED: the client sent a close frame; the
 * reply is queued (bytes produced before it are valid).
 * WMQ_ERR_PROTOCOL (close_code 1002, 1003 or 1007) / WMQ_ERR_LIMIT (1009):
 * the client violated the protocol; our close frame is queued. Errors are
 * sticky: later calls consume nothing and return the same code.
 * Ownership: borrows in/out. */
WMQ_MUST_USE wmq_err wmq_ws_dec_feed(struct wmq_ws_dec *d, const uint8_t *in, size_t len,
				     size_t *used, uint8_t *out, size_t cap, size_t *produced);
/* Move the queued control replies (pong, then close) into out[0..cap).
 * Returns the byte count; a reply that does not fit whole stays queued. */
size_t wmq_ws_dec_take_control(struct wmq_ws_dec *d, uint8_t *out, size_t cap);
/* Close code of the queued/sent close frame (0 if none). */
static inline uint16_t wmq_ws_dec_close_code(const struct wmq_ws_dec *d)
{
	return d->close_code;
}

/* Header of an unmasked server frame (§5.1: a server MUST NOT mask) with
 * FIN set, |opcode| and |len|, into hdr; returns its length (2, 4 or 10). */
size_t wmq_ws_frame_header(uint8_t hdr[WMQ_WS_FRAME_HDR_MAX], uint8_t opcode, uint64_t len);
/* One complete frame into out[0..cap), *n its length; LIMIT if small. */
WMQ_MUST_USE wmq_err wmq_ws_encode_binary(const uint8_t *p, size_t len, uint8_t *out,
					  size_t cap, size_t *n);
/* Pong with |len| <= 125 payload bytes (INVAL if larger, §5.5). */
WMQ_MUST_USE wmq_err wmq_ws_encode_pong(const uint8_t *p, size_t len, uint8_t *out, size_t cap,
					size_t *n);
/* Close frame carrying |code| (0 = no status code, empty payload). */
WMQ_MUST_USE wmq_err wmq_ws_encode_close(uint16_t code, uint8_t *out, size_t cap, size_t *n);

/* ---- transport ----------------------------------------------------------- */

extern const struct wmq_transport_ops wmq_transport_ws;

/* Wrap |c|'s current ops and engine (tcp, or tls for wss) in a WebSocket
 * server session; the conn first answers the HTTP upgrade. INVAL if c has
 * no ops or is already a WebSocket; NOMEM. On error c is unchanged.
 * Ownership: the session lives in c->engine until close(). */
WMQ_MUST_USE wmq_err wmq_ws_server_start(struct wmq_conn *c, const struct wmq_ws_opts *opts);

bool wmq_ws_is_ws(const struct wmq_conn *c);
/* The upgrade completed and the 101 response was sent. */
bool wmq_ws_is_open(const struct wmq_conn *c);
/* HTTP status of the handshake (0 while in progress, 101, or the error). */
int wmq_ws_http_status(const struct wmq_conn *c);
/* Close code we sent or will send (0 if none). */
uint16_t wmq_ws_close_code(const struct wmq_conn *c);
/* Why the handshake or the session failed (static), never NULL. */
const char *wmq_ws_reason(const struct wmq_conn *c);
/* Trusted X-Forwarded-For address, or NULL. */
const char *wmq_ws_forwarded_for(const struct wmq_conn *c);
/* Negotiated subprotocol, or NULL before the upgrade. */
const char *wmq_ws_subprotocol(const struct wmq_conn *c);
/* The layer holds bytes of its own not yet written. */
bool wmq_ws_pending(const struct wmq_conn *c);
/* Received bytes are buffered inside the layer (read() stopped because
 * the caller's buffer or budget was full): the socket will not signal them,
 * so call wmq_conn_fill() again without waiting for readability. */
bool wmq_ws_buffered(const struct wmq_conn *c);
/* Write those bytes: WMQ_OK all sent (or not a ws conn), WMQ_ERR_AGAIN some
 * left, WMQ_ERR_IO error. */
WMQ_MUST_USE wmq_err wmq_ws_flush(struct wmq_conn *c);
/* Call fn(c, arg) with c->ops/c->engine set to the wrapped transport (for
 * TLS queries on wss), then restore. Plain call if c is not a ws conn. */
void wmq_ws_with_inner(struct wmq_conn *c, void (*fn)(struct wmq_conn *c, void *arg), void *arg);

#endif
