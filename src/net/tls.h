/* SPDX-License-Identifier: MIT
 * tls.h - the TLS engine: server contexts built from listener options, and a
 * per-connection TLS session behind the same struct wmq_transport_ops as
 * plain TCP (NNG tls_engine style).
 *
 * Role: src/net/tls_openssl.c is the only code that includes libssl headers;
 * nothing else in WardMQ sees an SSL or SSL_CTX. Callers see:
 *   - struct wmq_tls_ctx: certificates, key, CA, CRL, versions, ciphers,
 *     client-certificate policy and PSK lookup of one listener. Immutable
 *     once built. Reloading (SIGHUP) means building a new one from the same
 *     options and swapping it in for new connections; a build that fails
 *     leaves the caller's current context untouched.
 *   - wmq_tls_server_start(): puts a TLS session in conn->engine and installs
 *     wmq_transport_tls as conn->ops. From then on wmq_conn_fill() and
 *     wmq_conn_flush() read and write plaintext; the handshake is driven by
 *     those calls (or explicitly by wmq_tls_handshake()) and never blocks.
 *   - the verified client identity (certificate field or PSK identity),
 *     UTF-8 validated and refused when it holds '+' or '#'.
 *   - a classification of every handshake failure (expired, unknown CA,
 *     revoked, plain MQTT sent to a TLS port, ...) and a one-line reason.
 *
 * Threading: a context is immutable and reference counted (atomically), so
 * it may be shared by worker threads; a connection belongs to its worker.
 * No global state beyond OpenSSL's own library initialisation.
 * Ownership: wmq_tls_ctx_new() returns one reference; every connection
 * started on a context holds another until the connection is closed, so a
 * caller may drop its reference after a reload while old connections live
 * on. Handshake deadlines are the caller's (connect_timeout).
 * Spec: RFC 8446 (TLS 1.3), RFC 5246 (TLS 1.2), RFC 4279 (TLS-PSK), RFC 7301
 * (ALPN, protocol id "mqtt"), RFC 5280 (certificates and CRLs). */
#ifndef WMQ_NET_TLS_H
#define WMQ_NET_TLS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "net/conn.h"

struct wmq_tls_ctx; /* opaque */

/* Minimum protocol version (same order as the config words tlsv1.2, tlsv1.3). */
enum wmq_tls_version {
	WMQ_TLS_V1_2 = 0,
	WMQ_TLS_V1_3 = 1,
};

/* Which field of the client certificate names the client (same order as
 * the config words cn, subject, san_dns, san_email, san_uri). */
enum wmq_tls_identity {
	WMQ_TLS_ID_CN = 0,         /* subject commonName (exactly one allowed) */
	WMQ_TLS_ID_SUBJECT_DN = 1, /* full subject, RFC 2253 form as mosquitto's
				    * use_subject_as_username: "CN=a,O=b" */
	WMQ_TLS_ID_SAN_DNS = 2,    /* first subjectAltName dNSName */
	WMQ_TLS_ID_SAN_EMAIL = 3,  /* first subjectAltName rfc822Name */
	WMQ_TLS_ID_SAN_URI = 4,    /* first subjectAltName URI (SPIFFE ids...) */
};

/* Why a handshake failed (or why a session ended with a TLS error). */
enum wmq_tls_fail {
	WMQ_TLS_FAIL_NONE = 0,
	WMQ_TLS_FAIL_EXPIRED,       /* client certificate (or one in its chain) expired */
	WMQ_TLS_FAIL_NOT_YET_VALID, /* client certificate not valid yet (clock?) */
	WMQ_TLS_FAIL_UNKNOWN_CA,    /* not issued by a CA in cafile/capath, or self-signed */
	WMQ_TLS_FAIL_REVOKED,       /* listed in the CRL */
	WMQ_TLS_FAIL_KEY_USAGE,     /* key usage / extended key usage forbid client auth */
	WMQ_TLS_FAIL_CRL,           /* CRL missing for an issuer, expired, or bad signature */
	WMQ_TLS_FAIL_BAD_CERT,      /* any other certificate verification failure */
	WMQ_TLS_FAIL_NO_CERT,       /* require_certificate and the client sent none */
	WMQ_TLS_FAIL_PSK_UNKNOWN,   /* PSK identity not known / no key */
	WMQ_TLS_FAIL_PEER_ALERT,    /* the client refused us (e.g. our certificate) */
	WMQ_TLS_FAIL_PROTOCOL,      /* no common version or cipher, malformed TLS */
	WMQ_TLS_FAIL_PLAIN_MQTT,    /* a plain MQTT CONNECT arrived on the TLS port */
	WMQ_TLS_FAIL_NOT_TLS,       /* some other non-TLS bytes arrived */
	WMQ_TLS_FAIL_CLOSED,        /* the peer closed during the handshake */
	WMQ_TLS_FAIL_IO,            /* socket error */
	WMQ_TLS_FAIL_INTERNAL,      /* out of memory or a library error */
	WMQ_TLS_FAIL__COUNT
};

/* Look up the pre-shared key of |identity| (NUL-terminated, at most 256
 * bytes, may be any bytes a client sent: treat it as untrusted). Write the
 * key to |key| (at most |cap| bytes) and its length to *len. Return WMQ_OK,
 * or WMQ_ERR_NOTFOUND for an unknown identity. Called on the worker during
 * the handshake: it must not block (serve it from memory). */
typedef wmq_err (*wmq_tls_psk_fn)(void *arg, const char *identity, uint8_t *key, size_t cap,
				  size_t *len);

/* Options of one server context. Strings are borrowed for the duration of
 * wmq_tls_ctx_new() only. NULL means "not set". */
struct wmq_tls_opts {
	const char *certfile;       /* PEM server certificate (chain); needs keyfile */
	const char *keyfile;        /* PEM private key (unencrypted) */
	const char *cafile;         /* PEM CAs that issue client certificates */
	const char *capath;         /* directory of hashed CA files (c_rehash) */
	const char *crlfile;        /* PEM CRL(s); needs cafile or capath */
	enum wmq_tls_version min_version;
	const char *ciphers;        /* TLS 1.2 cipher list (OpenSSL syntax) */
	const char *ciphers_tls13;  /* TLS 1.3 ciphersuites (OpenSSL syntax) */
	bool require_certificate;   /* fail the handshake without a valid client cert */
	const char *psk_hint;       /* enables TLS-PSK; sent as identity hint (TLS 1.2) */
	wmq_tls_psk_fn psk_fn;      /* key lookup, required with psk_hint */
	void *psk_arg;
};

#define WMQ_TLS_PSK_MAX_IDENTITY 256 /* bytes (OpenSSL's PSK_MAX_IDENTITY_LEN) */
#define WMQ_TLS_PSK_MAX_KEY 256      /* bytes */

/* Build a server context. On failure returns WMQ_ERR_INVAL (bad option or
 * file), WMQ_ERR_IO (a file cannot be read) or WMQ_ERR_NOMEM, and writes one
 * line into |err| naming the option, the file and the problem (e.g.
 * "keyfile /etc/k.pem does not match certfile /etc/c.pem"). On success |err|
 * holds warnings for the log ("" if none), e.g. an expired server
 * certificate or CRL. Ownership: *out to the caller (one reference). */
WMQ_MUST_USE wmq_err wmq_tls_ctx_new(const struct wmq_tls_opts *opts, struct wmq_tls_ctx **out,
				     char *err, size_t errlen);
/* Take one more reference. */
void wmq_tls_ctx_ref(struct wmq_tls_ctx *ctx);
/* Drop one reference; frees on the last. NULL-safe. */
void wmq_tls_ctx_free(struct wmq_tls_ctx *ctx);
/* Whether the context verifies client certificates (cafile/capath given). */
bool wmq_tls_ctx_verifies_clients(const struct wmq_tls_ctx *ctx);

/* The transport installed by wmq_tls_server_start(). read/write behave like
 * read(2)/write(2) on plaintext: -1 with errno EAGAIN while the engine needs
 * the socket (see wmq_tls_wants()), EPROTO after a TLS failure (see
 * wmq_tls_failure()), EPIPE/ECONNRESET on socket errors; read returns 0 on
 * close_notify or on EOF. close sends close_notify (best effort), frees the
 * session, drops the context reference and closes the fd. */
extern const struct wmq_transport_ops wmq_transport_tls;

/* Start a server-side TLS session on the accepted, non-blocking |c| (which
 * must use wmq_transport_tcp and have sent/received nothing yet): c->engine
 * gets the session, c->ops becomes &wmq_transport_tls. No I/O happens here.
 * Returns WMQ_OK or WMQ_ERR_NOMEM / WMQ_ERR_TLS (c unchanged on error).
 * Ownership: the session holds a reference to |ctx|. */
WMQ_MUST_USE wmq_err wmq_tls_server_start(struct wmq_tls_ctx *ctx, struct wmq_conn *c);

/* Whether |c| runs over the TLS engine. */
bool wmq_tls_is_tls(const struct wmq_conn *c);

/* Advance the handshake as far as the socket allows. WMQ_OK: done (also
 * when it was already done). WMQ_ERR_AGAIN: call again when the socket is
 * ready for wmq_tls_wants(c). WMQ_ERR_TLS: failed; wmq_tls_failure() and
 * wmq_tls_last_error() say why. Never blocks. */
WMQ_MUST_USE wmq_err wmq_tls_handshake(struct wmq_conn *c);
bool wmq_tls_handshake_done(const struct wmq_conn *c);

/* Events (WMQ_EV_READ | WMQ_EV_WRITE from net/ev.h) the engine waits for
 * since its last call returned EAGAIN; 0 if it is not waiting. A read may
 * need writability (handshake flight, key update) and a write may need
 * readability: the owner must watch what this says, and retry the call that
 * blocked when it comes. */
uint32_t wmq_tls_wants(const struct wmq_conn *c);

/* Whether the engine holds decrypted bytes that a read would return at once,
 * although the socket may not become readable again: after a read stopped
 * by its budget (wmq_conn_fill), the owner must read again without waiting
 * for the event loop while this is true. */
bool wmq_tls_pending(const struct wmq_conn *c);

/* The failure classification (WMQ_TLS_FAIL_NONE while all is well) and its
 * short name ("expired", "unknown-ca", ...; never NULL). */
enum wmq_tls_fail wmq_tls_failure(const struct wmq_conn *c);
const char *wmq_tls_fail_name(enum wmq_tls_fail f);

/* One line explaining the last failure or refusal on |c|, with the OpenSSL
 * verify result text and the certificate subject where there is one, e.g.
 * "client certificate rejected: certificate has expired (subject
 * CN=expired,O=WardMQ Test, depth 0)". "" if there was none. Borrowed,
 * valid until the next call on |c|. */
const char *wmq_tls_last_error(const struct wmq_conn *c);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384[, resumed][, psk][, alpn mqtt]" for logs. */
void wmq_tls_describe(const struct wmq_conn *c, char *out, size_t cap);

/* Whether the handshake is done and the client presented a certificate
 * that passed verification. */
bool wmq_tls_peer_verified(const struct wmq_conn *c);
bool wmq_tls_session_resumed(const struct wmq_conn *c);

/* Verify the client certificate that |c| presented at its handshake again,
 * against the CAs and CRLs of |ctx| (normally a context just rebuilt on
 * SIGHUP): for crl_disconnect. WMQ_OK: still valid. WMQ_ERR_DENIED: not
 * valid any more; *why (if not NULL) gets the classification (e.g.
 * WMQ_TLS_FAIL_REVOKED) and wmq_tls_last_error() the reason. The
 * connection itself is not changed. WMQ_ERR_NOTFOUND: |c| has no verified
 * certificate (PSK, or none presented). WMQ_ERR_NOMEM. */
WMQ_MUST_USE wmq_err wmq_tls_peer_recheck(const struct wmq_tls_ctx *ctx, struct wmq_conn *c,
					  enum wmq_tls_fail *why);

/* The identity named by |which| from the verified client certificate, as
 * UTF-8 into |out| (NUL-terminated). WMQ_OK; WMQ_ERR_NOTFOUND: no verified
 * certificate, or it lacks that field; WMQ_ERR_DENIED: the value is empty,
 * not valid UTF-8 (by the MQTT rules, so no U+0000), holds '+' or '#'
 * (they would act as wildcards in ACL substitution, CVE-2017-7650), or the
 * subject has several CNs; WMQ_ERR_LIMIT: it does not fit in |cap|. A
 * refusal also sets wmq_tls_last_error(). */
WMQ_MUST_USE wmq_err wmq_tls_peer_identity(struct wmq_conn *c, enum wmq_tls_identity which,
					   char *out, size_t cap);
/* The PSK identity the handshake authenticated with, same rules and codes
 * (WMQ_ERR_NOTFOUND when the session did not use a PSK). */
WMQ_MUST_USE wmq_err wmq_tls_psk_identity(struct wmq_conn *c, char *out, size_t cap);

/* Whether |p| starts like a TLS handshake record (0x16 0x03 ...): for a
 * plain MQTT listener to log "TLS sent to a plain MQTT port" instead of a
 * malformed-packet error. Needs only 2 bytes; pure, no OpenSSL. */
bool wmq_tls_looks_like_client_hello(const uint8_t *p, size_t len);

#endif
