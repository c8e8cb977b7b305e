/* SPDX-License-Identifier: MIT
 * tls_openssl.c - the TLS engine (net/tls.h) on OpenSSL 3.
 *
 * Role: the only file in WardMQ that includes <openssl/ssl.h>. A context
 * wraps one SSL_CTX built from listener options; a connection's engine
 * wraps one SSL whose I/O goes through a small socket BIO of our own (send
 * with MSG_NOSIGNAL, so no SIGPIPE even when the process does not ignore
 * it). The handshake is driven lazily by the transport's read and write (or
 * by wmq_tls_handshake()), never blocks, and records what the engine waits
 * for so the owner can watch the right socket events.
 *
 * Failure classification: a verify callback records the first certificate
 * error (code, depth, subject); after a failed handshake that record, the
 * OpenSSL error queue and a peek at the first byte (0x10 = plain MQTT
 * CONNECT, anything but 0x16 = not TLS) decide the enum wmq_tls_fail and the
 * one-line text behind wmq_tls_last_error().
 *
 * Threading: a context is immutable after wmq_tls_ctx_new() and reference
 * counted with an atomic; the OpenSSL error queue is per thread and cleared
 * before each call. Ownership: see tls.h; secrets (PSK bytes) are wiped with
 * OPENSSL_cleanse as soon as OpenSSL has copied them. */
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/utf8.h"
#include "net/ev.h"

/* Type of our socket BIO: a source/sink with a private index (not taken
 * from BIO_get_new_index(), whose process-wide counter would run out after
 * a couple of hundred reloads). */
#define WMQ_BIO_TYPE (0x7a | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR)
#define EXPIRY_WARN_DAYS 14
#define MAX_CRLS 4096 /* CRLs read from one crlfile */

struct wmq_tls_ctx {
	SSL_CTX *ssl;
	BIO_METHOD *bio_meth;  /* our socket BIO; lives as long as the context */
	atomic_uint refs;
	bool verify;           /* cafile/capath given: client certificates verified */
	bool psk;              /* psk_hint given */
	wmq_tls_psk_fn psk_fn;
	void *psk_arg;
};

/* Per-connection engine state (conn->engine). */
struct tls_conn {
	SSL *ssl;
	struct wmq_tls_ctx *ctx;  /* one reference */
	bool checked_first;       /* first byte seen to be a TLS record */
	bool done;                /* handshake complete */
	uint32_t wants;           /* WMQ_EV_* the last EAGAIN waits for */
	enum wmq_tls_fail fail;
	int verify_err;           /* first X509_V_ERR_* from the verify callback */
	int verify_depth;
	char verify_subject[192];
	bool psk_found;           /* the PSK callback found a key */
	bool psk_unknown;         /* ... or was asked for an identity it lacks */
	char psk_identity[WMQ_TLS_PSK_MAX_IDENTITY + 1];
	char err[384];
};

static const char *const fail_names[WMQ_TLS_FAIL__COUNT] = {
	[WMQ_TLS_FAIL_NONE] = "none",
	[WMQ_TLS_FAIL_EXPIRED] = "expired",
	[WMQ_TLS_FAIL_NOT_YET_VALID] = "not-yet-valid",
	[WMQ_TLS_FAIL_UNKNOWN_CA] = "unknown-ca",
	[WMQ_TLS_FAIL_REVOKED] = "revoked",
	[WMQ_TLS_FAIL_KEY_USAGE] = "key-usage",
	[WMQ_TLS_FAIL_CRL] = "crl",
	[WMQ_TLS_FAIL_BAD_CERT] = "bad-certificate",
	[WMQ_TLS_FAIL_NO_CERT] = "no-certificate",
	[WMQ_TLS_FAIL_PSK_UNKNOWN] = "psk-unknown",
	[WMQ_TLS_FAIL_PEER_ALERT] = "peer-alert",
	[WMQ_TLS_FAIL_PROTOCOL] = "protocol",
	[WMQ_TLS_FAIL_PLAIN_MQTT] = "plain-mqtt",
	[WMQ_TLS_FAIL_NOT_TLS] = "not-tls",
	[WMQ_TLS_FAIL_CLOSED] = "closed",
	[WMQ_TLS_FAIL_IO] = "io",
	[WMQ_TLS_FAIL_INTERNAL] = "internal",
};

const char *wmq_tls_fail_name(enum wmq_tls_fail f)
{
	return (unsigned)f < WMQ_TLS_FAIL__COUNT ? fail_names[f] : "?";
}

/* ---- small helpers ------------------------------------------------------ */

static void put(char *buf, size_t len, const char *fmt, ...) WMQ_PRINTF(3, 4);
static void put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Append "; text" (or "text" when empty) to a warning buffer. */
static void warn_add(char *buf, size_t len, const char *fmt, ...) WMQ_PRINTF(3, 4);
static void warn_add(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (!buf || !len)
		return;
	size_t used = strnlen(buf, len);
	if (used > 0 && used + 2 < len) {
		memcpy(buf + used, "; ", 3);
		used += 2;
	}
	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* The reason text of the most specific queued OpenSSL error, or "unknown
 * error"; the queue is cleared. */
static const char *ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		snprintf(buf, len, "OpenSSL error %lu", e);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
	return buf;
}

/* Render an X509_NAME as RFC 2253 ("CN=a,O=b") keeping UTF-8 as is. */
static bool name_str(const X509_NAME *nm, char *out, size_t cap)
{
	unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
	bool ok = false;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b || cap == 0)
		goto out;
	if (X509_NAME_print_ex(b, nm, 0, flags) < 0)
		goto out;
	char *p;
	long n = BIO_get_mem_data(b, &p);
	if (n < 0 || (size_t)n >= cap)
		goto out;
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	ok = true;
out:
	if (!ok && cap)
		out[0] = '\0';
	BIO_free(b);
	return ok;
}

/* "2021-01-01 00:00:00 UTC" */
static void time_str(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(out, cap, "(unreadable date)");
}

/* Open |path| to learn whether it can be read; a message on failure. */
static wmq_err check_path(const char *opt, const char *path, bool dir, char *err, size_t errlen)
{
	struct stat st;
	char eb[128];
	int fd;
	if (stat(path, &st) != 0) {
		put(err, errlen, "%s %s: %s", opt, path, strerror_r(errno, eb, sizeof eb));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	if (dir && !S_ISDIR(st.st_mode)) {
		put(err, errlen, "%s %s: not a directory", opt, path);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (!dir && S_ISDIR(st.st_mode)) {
		put(err, errlen, "%s %s: is a directory, not a file", opt, path);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (dir ? O_DIRECTORY : 0));
	if (fd < 0) {
		put(err, errlen, "%s %s: cannot read: %s", opt, path,
		    strerror_r(errno, eb, sizeof eb));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	close(fd);
	return WMQ_OK;
}

/* ---- our socket BIO ------------------------------------------------------ */

static int bio_fd(BIO *b)
{
	return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *buf, int len)
{
	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	ssize_t k = send(bio_fd(b), buf, (size_t)len, MSG_NOSIGNAL);
	if (k < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_write(b);
		return -1;
	}
	return (int)k;
}

static int bio_read(BIO *b, char *buf, int len)
{
	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	ssize_t k = recv(bio_fd(b), buf, (size_t)len, 0);
	if (k < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			BIO_set_retry_read(b);
		return -1;
	}
	if (k == 0)
		BIO_set_flags(b, BIO_FLAGS_IN_EOF);
	return (int)k;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	WMQ_UNUSED(num);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return BIO_test_flags(b, BIO_FLAGS_IN_EOF) ? 1 : 0;
	case BIO_C_GET_FD:
		if (ptr)
			*(int *)ptr = bio_fd(b);
		return bio_fd(b);
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_data(b, (void *)(intptr_t)-1);
	return 1;
}

/* ---- callbacks ----------------------------------------------------------- */

static struct tls_conn *conn_of(SSL *ssl)
{
	return SSL_get_app_data(ssl);
}

/* Record the first verification error; the decision stays OpenSSL's. */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *t = ssl ? conn_of(ssl) : NULL;
	if (!ok && t && t->verify_err == 0) {
		X509 *cert = X509_STORE_CTX_get_current_cert(xs);
		t->verify_err = X509_STORE_CTX_get_error(xs);
		t->verify_depth = X509_STORE_CTX_get_error_depth(xs);
		if (!cert || !name_str(X509_get_subject_name(cert), t->verify_subject,
				       sizeof t->verify_subject))
			snprintf(t->verify_subject, sizeof t->verify_subject, "?");
		if (t->verify_err == 0)
			t->verify_err = X509_V_ERR_UNSPECIFIED;
	}
	return ok;
}

/* ALPN: pick "mqtt" when the client offers it; otherwise carry on without
 * ALPN (clients that do not speak ALPN, or offer only other names, are not
 * refused for it). */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	WMQ_UNUSED(ssl);
	WMQ_UNUSED(arg);
	unsigned int i = 0;
	while (i < inlen) {
		unsigned int n = in[i];
		if (n == 0 || n > inlen - i - 1)
			break; /* malformed list: OpenSSL checks it too */
		if (n == 4 && memcmp(in + i + 1, "mqtt", 4) == 0) {
			*out = in + i + 1;
			*outlen = 4;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* TLS 1.2 PSK, and TLS 1.3 external PSK through OpenSSL's compatibility path
 * (a session with TLS_AES_128_GCM_SHA256, as the 1.3 spec says for PSKs of
 * unknown hash; that is what OpenSSL-based clients such as mosquitto_pub
 * send). In TLS 1.3 OpenSSL also calls this with resumption-ticket bytes as
 * the "identity": those are not valid identities and are silently skipped. */
static unsigned int psk_cb(SSL *ssl, const char *identity, unsigned char *psk,
			   unsigned int max_psk_len)
{
	struct tls_conn *t = conn_of(ssl);
	uint8_t key[WMQ_TLS_PSK_MAX_KEY];
	size_t klen = 0, idlen;
	unsigned int ret = 0;
	/* Once a key was found the identity is settled: never overwrite it. */
	if (!t || !identity || !t->ctx->psk_fn || t->psk_found)
		return 0;
	idlen = strnlen(identity, WMQ_TLS_PSK_MAX_IDENTITY + 1);
	if (idlen == 0 || idlen > WMQ_TLS_PSK_MAX_IDENTITY ||
	    !wmq_utf8_valid((const uint8_t *)identity, idlen))
		return 0;
	memcpy(t->psk_identity, identity, idlen + 1);
	if (t->ctx->psk_fn(t->ctx->psk_arg, identity, key, sizeof key, &klen) != WMQ_OK ||
	    klen == 0 || klen > sizeof key || klen > max_psk_len) {
		t->psk_unknown = true;
		goto out;
	}
	memcpy(psk, key, klen);
	ret = (unsigned int)klen;
	t->psk_found = true;
	t->psk_unknown = false;
	/* A TLS 1.3 ticket would not carry the PSK identity: PSK clients
	 * reconnect with their PSK, which is as cheap. */
	SSL_set_num_tickets(ssl, 0);
out:
	OPENSSL_cleanse(key, sizeof key);
	return ret;
}

static int no_password_cb(char *buf, int size, int rwflag, void *u)
{
	WMQ_UNUSED(buf);
	WMQ_UNUSED(size);
	WMQ_UNUSED(rwflag);
	WMQ_UNUSED(u);
	return 0; /* encrypted keys are refused instead of prompting on a tty */
}

/* ---- context ------------------------------------------------------------- */

/* Warn about a server certificate outside its validity period or close to
 * its end. */
static void check_server_dates(const struct wmq_tls_opts *o, SSL_CTX *ssl, char *warn,
			       size_t wlen)
{
	X509 *cert = SSL_CTX_get0_certificate(ssl);
	char when[64];
	int days = 0, secs = 0;
	if (!cert)
		return;
	const ASN1_TIME *nb = X509_get0_notBefore(cert), *na = X509_get0_notAfter(cert);
	if (X509_cmp_current_time(na) <= 0) {
		time_str(na, when, sizeof when);
		warn_add(warn, wlen,
			 "certfile %s: the server certificate expired on %s; clients will refuse "
			 "it",
			 o->certfile, when);
	} else if (X509_cmp_current_time(nb) >= 0) {
		time_str(nb, when, sizeof when);
		warn_add(warn, wlen,
			 "certfile %s: the server certificate is not valid before %s; clients "
			 "will refuse it",
			 o->certfile, when);
	} else if (ASN1_TIME_diff(&days, &secs, NULL, na) == 1 && days < EXPIRY_WARN_DAYS) {
		time_str(na, when, sizeof when);
		warn_add(warn, wlen, "certfile %s: the server certificate expires on %s (%d days)",
			 o->certfile, when, days);
	}
}

static wmq_err load_cert_and_key(const struct wmq_tls_opts *o, SSL_CTX *ssl, char *err,
				 size_t errlen)
{
	char rb[160];
	WMQ_TRY(check_path("certfile", o->certfile, false, err, errlen));
	WMQ_TRY(check_path("keyfile", o->keyfile, false, err, errlen));
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ssl, o->certfile) != 1) {
		put(err, errlen, "certfile %s: no usable PEM certificate in it (%s)", o->certfile,
		    ossl_reason(rb, sizeof rb));
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (SSL_CTX_use_PrivateKey_file(ssl, o->keyfile, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();
		if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
			ERR_clear_error();
			put(err, errlen, "keyfile %s does not match certfile %s", o->keyfile,
			    o->certfile);
		} else {
			put(err, errlen,
			    "keyfile %s: no usable PEM private key in it (encrypted keys are not "
			    "supported) (%s)",
			    o->keyfile, ossl_reason(rb, sizeof rb));
		}
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (SSL_CTX_check_private_key(ssl) != 1) {
		ERR_clear_error();
		put(err, errlen, "keyfile %s does not match certfile %s", o->keyfile, o->certfile);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	return WMQ_OK;
}

static wmq_err load_cas(const struct wmq_tls_opts *o, SSL_CTX *ssl, char *err, size_t errlen)
{
	char rb[160];
	if (o->cafile)
		WMQ_TRY(check_path("cafile", o->cafile, false, err, errlen));
	if (o->capath)
		WMQ_TRY(check_path("capath", o->capath, true, err, errlen));
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ssl, o->cafile, o->capath) != 1) {
		if (o->cafile)
			put(err, errlen, "cafile %s: no usable PEM CA certificate in it (%s)",
			    o->cafile, ossl_reason(rb, sizeof rb));
		else
			put(err, errlen, "capath %s: cannot be used (%s)", o->capath,
			    ossl_reason(rb, sizeof rb));
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (o->cafile) {
		/* Tell clients which CAs we accept (CertificateRequest). */
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->cafile);
		if (names)
			SSL_CTX_set_client_CA_list(ssl, names);
		ERR_clear_error();
	}
	SSL_CTX_set_verify(ssl,
			   SSL_VERIFY_PEER |
				   (o->require_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
			   verify_cb);
	return WMQ_OK;
}

static wmq_err load_crls(const struct wmq_tls_opts *o, SSL_CTX *ssl, char *err, size_t errlen,
			 char *warn, size_t wlen)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ssl);
	wmq_err rc = WMQ_OK;
	char rb[160], when[64], issuer[160];
	int n = 0;
	WMQ_TRY(check_path("crlfile", o->crlfile, false, err, errlen));
	BIO *in = BIO_new_file(o->crlfile, "r");
	if (!in) {
		put(err, errlen, "crlfile %s: cannot open (%s)", o->crlfile, ossl_reason(rb, sizeof rb));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	ERR_clear_error();
	for (; n < MAX_CRLS; n++) {
		X509_CRL *crl = PEM_read_bio_X509_CRL(in, NULL, no_password_cb, NULL);
		if (!crl)
			break;
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
		if (next && X509_cmp_current_time(next) <= 0) {
			time_str(next, when, sizeof when);
			name_str(X509_CRL_get_issuer(crl), issuer, sizeof issuer);
			warn_add(warn, wlen,
				 "crlfile %s: the CRL of %s expired on %s; certificates from that "
				 "CA will be refused until it is renewed",
				 o->crlfile, issuer, when);
		}
		int ok = X509_STORE_add_crl(st, crl);
		X509_CRL_free(crl);
		if (ok != 1) {
			put(err, errlen, "crlfile %s: CRL %d cannot be added (%s)", o->crlfile, n + 1,
			    ossl_reason(rb, sizeof rb));
			rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
			goto out;
		}
	}
	/* The loop ends on "no start line" at the end of the file; anything
	 * else is a damaged CRL. */
	unsigned long e = ERR_peek_last_error();
	if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		put(err, errlen, "crlfile %s: CRL %d is damaged (%s)", o->crlfile, n + 1,
		    ossl_reason(rb, sizeof rb));
		rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
		goto out;
	}
	ERR_clear_error();
	if (n == 0) {
		put(err, errlen, "crlfile %s: no PEM CRL in it", o->crlfile);
		rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
		goto out;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
out:
	BIO_free(in);
	return rc;
}

static wmq_err check_opts(const struct wmq_tls_opts *o, char *err, size_t errlen)
{
	if (!o->certfile != !o->keyfile) {
		put(err, errlen, "%s is set without %s: give both certfile and keyfile",
		    o->certfile ? "certfile" : "keyfile", o->certfile ? "keyfile" : "certfile");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (!o->certfile && !o->psk_hint) {
		put(err, errlen, "a TLS listener needs certfile and keyfile, or psk_hint");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (o->psk_hint && !o->psk_fn) {
		put(err, errlen, "psk_hint is set but no PSK key lookup is available");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (o->require_certificate && !o->cafile && !o->capath) {
		put(err, errlen, "require_certificate needs cafile or capath");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (o->crlfile && !o->cafile && !o->capath) {
		put(err, errlen, "crlfile needs cafile or capath");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (o->min_version != WMQ_TLS_V1_2 && o->min_version != WMQ_TLS_V1_3) {
		put(err, errlen, "tls_version: unsupported value");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	return WMQ_OK;
}

wmq_err wmq_tls_ctx_new(const struct wmq_tls_opts *o, struct wmq_tls_ctx **out, char *err,
			size_t errlen)
{
	struct wmq_tls_ctx *x = NULL;
	char rb[160], warn[512] = "";
	wmq_err rc = WMQ_OK;
	*out = NULL;
	put(err, errlen, "%s", "");
	WMQ_TRY(check_opts(o, err, errlen));
	if (!(x = wmq_calloc(1, sizeof *x))) {
		put(err, errlen, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	atomic_init(&x->refs, 1u);
	ERR_clear_error();
	x->ssl = SSL_CTX_new(TLS_server_method());
	x->bio_meth = BIO_meth_new(WMQ_BIO_TYPE, "wardmq socket");
	if (!x->ssl || !x->bio_meth || !BIO_meth_set_write(x->bio_meth, bio_write) ||
	    !BIO_meth_set_read(x->bio_meth, bio_read) || !BIO_meth_set_ctrl(x->bio_meth, bio_ctrl) ||
	    !BIO_meth_set_create(x->bio_meth, bio_create)) {
		put(err, errlen, "TLS library: %s", ossl_reason(rb, sizeof rb));
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	SSL_CTX_set_min_proto_version(x->ssl,
				      o->min_version == WMQ_TLS_V1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
	SSL_CTX_set_options(x->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(x->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
					 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_passwd_cb(x->ssl, no_password_cb);
	if (o->ciphers && SSL_CTX_set_cipher_list(x->ssl, o->ciphers) != 1) {
		put(err, errlen, "ciphers '%s': no cipher matches (%s)", o->ciphers,
		    ossl_reason(rb, sizeof rb));
		rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
		goto out;
	}
	/* TLS 1.3 PSKs from OpenSSL-style clients are SHA-256 keys, and OpenSSL
	 * picks the suite before it looks at the PSK: with a certificate on the
	 * same listener, prefer SHA-256 suites or the PSK would be ignored. */
	if (o->psk_hint && !o->ciphers_tls13 &&
	    SSL_CTX_set_ciphersuites(x->ssl, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
					     "TLS_AES_256_GCM_SHA384") != 1) {
		put(err, errlen, "TLS library: %s", ossl_reason(rb, sizeof rb));
		rc = wmq_err_note(WMQ_ERR_INTERNAL, __FILE__, __LINE__);
		goto out;
	}
	if (o->ciphers_tls13 && SSL_CTX_set_ciphersuites(x->ssl, o->ciphers_tls13) != 1) {
		put(err, errlen, "ciphers_tls1.3 '%s': not a valid TLS 1.3 ciphersuite list (%s)",
		    o->ciphers_tls13, ossl_reason(rb, sizeof rb));
		rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
		goto out;
	}
	if (o->certfile) {
		if ((rc = load_cert_and_key(o, x->ssl, err, errlen)) != WMQ_OK)
			goto out;
		check_server_dates(o, x->ssl, warn, sizeof warn);
	}
	if (o->cafile || o->capath) {
		if ((rc = load_cas(o, x->ssl, err, errlen)) != WMQ_OK)
			goto out;
		x->verify = true;
	}
	if (o->crlfile && (rc = load_crls(o, x->ssl, err, errlen, warn, sizeof warn)) != WMQ_OK)
		goto out;
	/* Resumption: tickets (stateless) and a bounded server cache; the id
	 * context is required when client certificates are verified. */
	SSL_CTX_set_session_id_context(x->ssl, (const unsigned char *)"wardmq", 6);
	SSL_CTX_set_session_cache_mode(x->ssl, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(x->ssl, 1024);
	SSL_CTX_set_alpn_select_cb(x->ssl, alpn_cb, NULL);
	if (o->psk_hint) {
		if (SSL_CTX_use_psk_identity_hint(x->ssl, o->psk_hint) != 1) {
			put(err, errlen, "psk_hint: cannot be used (%s)", ossl_reason(rb, sizeof rb));
			rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
			goto out;
		}
		SSL_CTX_set_psk_server_callback(x->ssl, psk_cb);
		x->psk = true;
		x->psk_fn = o->psk_fn;
		x->psk_arg = o->psk_arg;
	}
	ERR_clear_error();
	put(err, errlen, "%s", warn);
	*out = x;
	x = NULL;
out:
	wmq_tls_ctx_free(x);
	return rc;
}

void wmq_tls_ctx_ref(struct wmq_tls_ctx *ctx)
{
	atomic_fetch_add_explicit(&ctx->refs, 1u, memory_order_relaxed);
}

void wmq_tls_ctx_free(struct wmq_tls_ctx *ctx)
{
	if (!ctx || atomic_fetch_sub_explicit(&ctx->refs, 1u, memory_order_acq_rel) != 1u)
		return;
	SSL_CTX_free(ctx->ssl);
	BIO_meth_free(ctx->bio_meth);
	wmq_free(ctx);
}

bool wmq_tls_ctx_verifies_clients(const struct wmq_tls_ctx *ctx)
{
	return ctx->verify;
}

/* ---- connection ---------------------------------------------------------- */

static struct tls_conn *tc(const struct wmq_conn *c)
{
	return c->ops == &wmq_transport_tls ? c->engine : NULL;
}

bool wmq_tls_is_tls(const struct wmq_conn *c)
{
	return tc(c) != NULL;
}

static enum wmq_tls_fail classify_verify(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return WMQ_TLS_FAIL_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return WMQ_TLS_FAIL_NOT_YET_VALID;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return WMQ_TLS_FAIL_UNKNOWN_CA;
	case X509_V_ERR_CERT_REVOKED:
		return WMQ_TLS_FAIL_REVOKED;
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		return WMQ_TLS_FAIL_KEY_USAGE;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
		return WMQ_TLS_FAIL_CRL;
	default:
		return WMQ_TLS_FAIL_BAD_CERT;
	}
}

static const char *verify_hint(enum wmq_tls_fail f)
{
	switch (f) {
	case WMQ_TLS_FAIL_UNKNOWN_CA:
		return "; not issued by a CA in cafile/capath";
	case WMQ_TLS_FAIL_KEY_USAGE:
		return "; the certificate is not for TLS client authentication (extended key "
		       "usage clientAuth)";
	case WMQ_TLS_FAIL_CRL:
		return "; check crlfile: every CA in the chain needs a current CRL";
	case WMQ_TLS_FAIL_NOT_YET_VALID:
		return "; check the clocks";
	default:
		return "";
	}
}

wmq_err wmq_tls_peer_recheck(const struct wmq_tls_ctx *ctx, struct wmq_conn *c,
			     enum wmq_tls_fail *why)
{
	struct tls_conn *t = tc(c);
	wmq_err rc = WMQ_OK;
	char subject[192];
	if (why)
		*why = WMQ_TLS_FAIL_NONE;
	if (!t || !wmq_tls_peer_verified(c))
		return WMQ_ERR_NOTFOUND;
	X509 *leaf = SSL_get0_peer_certificate(t->ssl);
	/* Server side: the chain the client sent, without its leaf. */
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(t->ssl);
	X509_STORE_CTX *xs = X509_STORE_CTX_new();
	ERR_clear_error();
	if (!xs || X509_STORE_CTX_init(xs, SSL_CTX_get_cert_store(ctx->ssl), leaf, chain) != 1 ||
	    X509_STORE_CTX_set_default(xs, "ssl_client") != 1) {
		ERR_clear_error();
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	if (X509_verify_cert(xs) != 1) {
		int e = X509_STORE_CTX_get_error(xs);
		X509 *bad = X509_STORE_CTX_get_current_cert(xs);
		enum wmq_tls_fail f = classify_verify(e ? e : X509_V_ERR_UNSPECIFIED);
		if (!bad || !name_str(X509_get_subject_name(bad), subject, sizeof subject))
			snprintf(subject, sizeof subject, "?");
		snprintf(t->err, sizeof t->err,
			 "client certificate no longer valid: %s (subject %s, depth %d, X509 error "
			 "%d%s)",
			 X509_verify_cert_error_string(e), subject, X509_STORE_CTX_get_error_depth(xs),
			 e, verify_hint(f));
		if (why)
			*why = f;
		ERR_clear_error();
		rc = wmq_err_note(WMQ_ERR_DENIED, __FILE__, __LINE__);
	}
out:
	X509_STORE_CTX_free(xs);
	return rc;
}

/* Set the failure state with a message; returns WMQ_ERR_TLS. */
static wmq_err fail_with(struct tls_conn *t, enum wmq_tls_fail f, const char *fmt, ...)
	WMQ_PRINTF(3, 4);
static wmq_err fail_with(struct tls_conn *t, enum wmq_tls_fail f, const char *fmt, ...)
{
	va_list ap;
	t->fail = f;
	t->wants = 0;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof t->err, fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return wmq_err_note(WMQ_ERR_TLS, __FILE__, __LINE__);
}

/* Turn a failed SSL call (SSL_get_error() == |e|) into a classification. */
static wmq_err classify(struct tls_conn *t, int e, int saved_errno)
{
	char rb[160];
	char eb[128];
	if (t->verify_err) {
		enum wmq_tls_fail f = classify_verify(t->verify_err);
		return fail_with(t, f,
				 "client certificate rejected: %s (subject %s, depth %d, X509 error "
				 "%d%s)",
				 X509_verify_cert_error_string(t->verify_err), t->verify_subject,
				 t->verify_depth, t->verify_err, verify_hint(f));
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return fail_with(t, WMQ_TLS_FAIL_CLOSED,
				 "the client closed the connection during the TLS handshake");
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE)
			return fail_with(t, WMQ_TLS_FAIL_CLOSED,
					 "the client closed the connection during the TLS handshake%s%s",
					 saved_errno ? ": " : "",
					 saved_errno ? strerror_r(saved_errno, eb, sizeof eb) : "");
		return fail_with(t, WMQ_TLS_FAIL_IO, "socket error during the TLS handshake: %s",
				 strerror_r(saved_errno, eb, sizeof eb));
	}
	unsigned long first = ERR_peek_error();
	int lib = ERR_GET_LIB(first), reason = ERR_GET_REASON(first);
	const char *text = ossl_reason(rb, sizeof rb); /* clears the queue */
	if (lib == ERR_LIB_SSL && (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE ||
				   reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED))
		return fail_with(t, WMQ_TLS_FAIL_NO_CERT,
				 "the client sent no certificate and require_certificate is on");
	if (t->psk_unknown && !t->psk_found) {
		char id[96];
		wmq_log_escape(wmq_bytes_cstr(t->psk_identity), id, sizeof id);
		return fail_with(t, WMQ_TLS_FAIL_PSK_UNKNOWN, "unknown PSK identity \"%s\" (%s)", id,
				 text);
	}
	if (lib == ERR_LIB_SSL && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return fail_with(t, WMQ_TLS_FAIL_CLOSED,
				 "the client closed the connection during the TLS handshake");
	if (lib == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
		bool cert = reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
			    reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
			    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED ||
			    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN;
		return fail_with(t, WMQ_TLS_FAIL_PEER_ALERT, "the client aborted the handshake: %s%s",
				 text,
				 cert ? " (it does not accept the server certificate: check "
					"certfile and the client's CA file)"
				      : "");
	}
	return fail_with(t, WMQ_TLS_FAIL_PROTOCOL, "TLS handshake failed: %s", text);
}

/* Before OpenSSL reads anything: is the first byte a TLS handshake record?
 * WMQ_OK when it is, AGAIN when nothing arrived yet, TLS otherwise. */
static wmq_err check_first_byte(struct tls_conn *t, int fd)
{
	uint8_t b;
	char eb[128];
	ssize_t k;
	do
		k = recv(fd, &b, 1, MSG_PEEK);
	while (k < 0 && errno == EINTR);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		t->wants = WMQ_EV_READ;
		return WMQ_ERR_AGAIN;
	}
	if (k < 0)
		return fail_with(t, errno == ECONNRESET ? WMQ_TLS_FAIL_CLOSED : WMQ_TLS_FAIL_IO,
				 "socket error before the TLS handshake: %s",
				 strerror_r(errno, eb, sizeof eb));
	if (k == 0)
		return fail_with(t, WMQ_TLS_FAIL_CLOSED,
				 "the client closed the connection before the TLS handshake");
	if (b == 0x10)
		return fail_with(t, WMQ_TLS_FAIL_PLAIN_MQTT,
				 "plain MQTT sent to a TLS port (first byte 0x10, an MQTT CONNECT): the "
				 "client must connect with TLS (mqtts, --cafile)");
	if (b != 0x16)
		return fail_with(t, WMQ_TLS_FAIL_NOT_TLS,
				 "not a TLS handshake (first byte 0x%02x, a TLS ClientHello starts with "
				 "0x16)",
				 (unsigned)b);
	t->checked_first = true;
	return WMQ_OK;
}

static wmq_err drive(struct wmq_conn *c, struct tls_conn *t)
{
	if (t->fail != WMQ_TLS_FAIL_NONE)
		WMQ_BAIL(WMQ_ERR_TLS);
	if (t->done)
		return WMQ_OK;
	if (!t->checked_first)
		WMQ_TRY(check_first_byte(t, c->fd));
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		t->done = true;
		t->wants = 0;
		return WMQ_OK;
	}
	int saved = errno;
	int e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		t->wants = WMQ_EV_READ;
		return WMQ_ERR_AGAIN;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		t->wants = WMQ_EV_WRITE;
		return WMQ_ERR_AGAIN;
	}
	return classify(t, e, saved);
}

wmq_err wmq_tls_handshake(struct wmq_conn *c)
{
	struct tls_conn *t = tc(c);
	WMQ_ENSURE(t != NULL, WMQ_ERR_INVAL);
	return drive(c, t);
}

bool wmq_tls_handshake_done(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	return t && t->done && t->fail == WMQ_TLS_FAIL_NONE;
}

/* Map a drive() result to the read(2)-style return of the transport. */
static ssize_t drive_errno(wmq_err e)
{
	errno = e == WMQ_ERR_AGAIN ? EAGAIN : EPROTO;
	return -1;
}

/* After SSL_read/SSL_write returned |r| <= 0. */
static ssize_t io_error(struct tls_conn *t, int r, int saved, bool reading)
{
	int e = SSL_get_error(t->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		t->wants = WMQ_EV_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		t->wants = WMQ_EV_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		t->wants = 0;
		if (reading)
			return 0; /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
		errno = EPIPE;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			char eb[128];
			t->fail = WMQ_TLS_FAIL_IO;
			t->wants = 0;
			snprintf(t->err, sizeof t->err, "socket error: %s",
				 saved ? strerror_r(saved, eb, sizeof eb) : "connection closed");
			errno = saved ? saved : EPIPE;
			return -1;
		}
		break;
	default:
		break;
	}
	char rb[160];
	t->fail = WMQ_TLS_FAIL_PROTOCOL;
	t->wants = 0;
	snprintf(t->err, sizeof t->err, "TLS error: %s", ossl_reason(rb, sizeof rb));
	errno = EPROTO;
	return -1;
}

static ssize_t tls_read(struct wmq_conn *c, void *buf, size_t len)
{
	struct tls_conn *t = c->engine;
	size_t n = 0;
	wmq_err e = drive(c, t);
	if (e != WMQ_OK)
		return drive_errno(e);
	ERR_clear_error();
	errno = 0;
	int r = SSL_read_ex(t->ssl, buf, len, &n);
	if (r == 1) {
		t->wants = 0;
		return (ssize_t)n;
	}
	return io_error(t, r, errno, true);
}

static ssize_t tls_write(struct wmq_conn *c, const void *buf, size_t len)
{
	struct tls_conn *t = c->engine;
	size_t n = 0;
	wmq_err e = drive(c, t);
	if (e != WMQ_OK)
		return drive_errno(e);
	ERR_clear_error();
	errno = 0;
	int r = SSL_write_ex(t->ssl, buf, len, &n);
	if (r == 1) {
		t->wants = 0;
		return (ssize_t)n;
	}
	return io_error(t, r, errno, false);
}

static void tls_close(struct wmq_conn *c)
{
	struct tls_conn *t = c->engine;
	if (t) {
		if (t->done && t->fail == WMQ_TLS_FAIL_NONE) {
			/* close_notify, best effort: one non-blocking attempt. */
			ERR_clear_error();
			if (SSL_shutdown(t->ssl) < 0) {
				/* the peer is gone or the socket is full: fine */
			}
		}
		ERR_clear_error();
		SSL_free(t->ssl);
		wmq_tls_ctx_free(t->ctx);
		wmq_free(t);
		c->engine = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const struct wmq_transport_ops wmq_transport_tls = {"tls", tls_read, tls_write, tls_close};

wmq_err wmq_tls_server_start(struct wmq_tls_ctx *ctx, struct wmq_conn *c)
{
	struct tls_conn *t = NULL;
	BIO *bio = NULL;
	wmq_err rc = WMQ_OK;
	WMQ_ENSURE(ctx && c->ops == &wmq_transport_tcp && c->engine == NULL && c->fd >= 0,
		   WMQ_ERR_INVAL);
	if (!(t = wmq_calloc(1, sizeof *t)))
		WMQ_BAIL(WMQ_ERR_NOMEM);
	ERR_clear_error();
	if (!(t->ssl = SSL_new(ctx->ssl)) || !(bio = BIO_new(ctx->bio_meth))) {
		ERR_clear_error();
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	BIO_set_data(bio, (void *)(intptr_t)c->fd);
	BIO_set_init(bio, 1);
	SSL_set_bio(t->ssl, bio, bio); /* the SSL owns the BIO now */
	bio = NULL;
	SSL_set_accept_state(t->ssl);
	SSL_set_app_data(t->ssl, t);
	wmq_tls_ctx_ref(ctx);
	t->ctx = ctx;
	c->engine = t;
	c->ops = &wmq_transport_tls;
	t = NULL;
out:
	BIO_free(bio);
	if (t) {
		SSL_free(t->ssl);
		wmq_free(t);
	}
	return rc;
}

uint32_t wmq_tls_wants(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	return t ? t->wants : 0;
}

bool wmq_tls_pending(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	/* Decrypted bytes only: SSL_has_pending() would also report a partial
	 * record, whose rest must come from the socket (a busy loop). */
	return t && t->done && SSL_pending(t->ssl) > 0;
}

enum wmq_tls_fail wmq_tls_failure(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	return t ? t->fail : WMQ_TLS_FAIL_NONE;
}

const char *wmq_tls_last_error(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	return t ? t->err : "";
}

bool wmq_tls_session_resumed(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	return t && t->done && SSL_session_reused(t->ssl) == 1 && !t->psk_found;
}

/* Whether the session authenticated with a PSK; *id gets the identity. */
static bool psk_used(const struct tls_conn *t, const char **id)
{
	if (!t->done || !t->ctx->psk)
		return false;
	if (SSL_version(t->ssl) >= TLS1_3_VERSION) {
		*id = t->psk_identity;
		return t->psk_found && SSL_session_reused(t->ssl) == 1;
	}
	const SSL_CIPHER *ci = SSL_get_current_cipher(t->ssl);
	int kx = ci ? SSL_CIPHER_get_kx_nid(ci) : NID_undef;
	if (kx != NID_kx_psk && kx != NID_kx_ecdhe_psk && kx != NID_kx_dhe_psk &&
	    kx != NID_kx_rsa_psk)
		return false;
	*id = SSL_get_psk_identity(t->ssl);
	return *id != NULL;
}

void wmq_tls_describe(const struct wmq_conn *c, char *out, size_t cap)
{
	const struct tls_conn *t = tc(c);
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;
	const char *id = NULL;
	if (!cap)
		return;
	if (!t || !t->done) {
		snprintf(out, cap, "%s", t ? "TLS handshake not complete" : "no TLS");
		return;
	}
	const SSL_CIPHER *ci = SSL_get_current_cipher(t->ssl);
	SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
	snprintf(out, cap, "%s %s%s%s%s", SSL_get_version(t->ssl), ci ? SSL_CIPHER_get_name(ci) : "?",
		 wmq_tls_session_resumed(c) ? ", resumed" : "", psk_used(t, &id) ? ", psk" : "",
		 alen == 4 ? ", alpn mqtt" : "");
}

bool wmq_tls_peer_verified(const struct wmq_conn *c)
{
	const struct tls_conn *t = tc(c);
	return t && t->done && t->fail == WMQ_TLS_FAIL_NONE && t->ctx->verify &&
	       SSL_get0_peer_certificate(t->ssl) != NULL &&
	       SSL_get_verify_result(t->ssl) == X509_V_OK;
}

/* Validate |p|/|len| as an MQTT identity and copy it out. */
static wmq_err take_identity(struct tls_conn *t, const char *what, const unsigned char *p,
			     size_t len, char *out, size_t cap)
{
	char shown[128];
	const char *why = NULL;
	if (cap)
		out[0] = '\0';
	if (len == 0)
		why = "it is empty";
	else if (memchr(p, '\0', len))
		why = "it contains a NUL byte";
	else if (!wmq_utf8_valid(p, len))
		why = "it is not valid UTF-8";
	else if (memchr(p, '+', len) || memchr(p, '#', len))
		why = "it contains '+' or '#', which would act as topic wildcards";
	if (why) {
		wmq_log_escape((struct wmq_bytes){p, len}, shown, sizeof shown);
		snprintf(t->err, sizeof t->err, "%s \"%s\" refused as identity: %s", what, shown, why);
		WMQ_BAIL(WMQ_ERR_DENIED);
	}
	if (len >= cap) {
		snprintf(t->err, sizeof t->err, "%s refused as identity: longer than %zu bytes", what,
			 cap ? cap - 1 : 0);
		WMQ_BAIL(WMQ_ERR_LIMIT);
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return WMQ_OK;
}

static wmq_err identity_cn(struct tls_conn *t, X509 *x, char *out, size_t cap)
{
	const X509_NAME *nm = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
	unsigned char *u = NULL;
	wmq_err rc;
	if (i < 0)
		return WMQ_ERR_NOTFOUND;
	if (X509_NAME_get_index_by_NID(nm, NID_commonName, i) >= 0) {
		snprintf(t->err, sizeof t->err,
			 "client certificate CN refused as identity: the subject has several CNs");
		WMQ_BAIL(WMQ_ERR_DENIED);
	}
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
	int n = ASN1_STRING_to_UTF8(&u, s);
	if (n < 0) {
		ERR_clear_error();
		snprintf(t->err, sizeof t->err,
			 "client certificate CN refused as identity: cannot be converted to UTF-8");
		WMQ_BAIL(WMQ_ERR_DENIED);
	}
	rc = take_identity(t, "client certificate CN", u, (size_t)n, out, cap);
	OPENSSL_free(u);
	return rc;
}

static wmq_err identity_subject(struct tls_conn *t, X509 *x, char *out, size_t cap)
{
	unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
	wmq_err rc;
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		WMQ_BAIL(WMQ_ERR_NOMEM);
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, flags) < 0) {
		BIO_free(b);
		ERR_clear_error();
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	char *p;
	long n = BIO_get_mem_data(b, &p);
	rc = take_identity(t, "client certificate subject", (const unsigned char *)p,
			   n > 0 ? (size_t)n : 0, out, cap);
	BIO_free(b);
	return rc;
}

static wmq_err identity_san(struct tls_conn *t, X509 *x, int type, const char *what, char *out,
			    size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	wmq_err rc = WMQ_ERR_NOTFOUND;
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != type)
			continue;
		const ASN1_IA5STRING *s = g->d.ia5;
		int len = ASN1_STRING_length(s);
		rc = take_identity(t, what, ASN1_STRING_get0_data(s), len > 0 ? (size_t)len : 0, out,
				   cap);
		break;
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return rc;
}

wmq_err wmq_tls_peer_identity(struct wmq_conn *c, enum wmq_tls_identity which, char *out,
			      size_t cap)
{
	struct tls_conn *t = tc(c);
	if (cap)
		out[0] = '\0';
	if (!t || !wmq_tls_peer_verified(c))
		return WMQ_ERR_NOTFOUND;
	X509 *x = SSL_get0_peer_certificate(t->ssl);
	switch (which) {
	case WMQ_TLS_ID_CN:
		return identity_cn(t, x, out, cap);
	case WMQ_TLS_ID_SUBJECT_DN:
		return identity_subject(t, x, out, cap);
	case WMQ_TLS_ID_SAN_DNS:
		return identity_san(t, x, GEN_DNS, "client certificate SAN DNS name", out, cap);
	case WMQ_TLS_ID_SAN_EMAIL:
		return identity_san(t, x, GEN_EMAIL, "client certificate SAN email", out, cap);
	case WMQ_TLS_ID_SAN_URI:
		return identity_san(t, x, GEN_URI, "client certificate SAN URI", out, cap);
	}
	WMQ_BAIL(WMQ_ERR_INVAL);
}

wmq_err wmq_tls_psk_identity(struct wmq_conn *c, char *out, size_t cap)
{
	struct tls_conn *t = tc(c);
	const char *id = NULL;
	if (cap)
		out[0] = '\0';
	if (!t || t->fail != WMQ_TLS_FAIL_NONE || !psk_used(t, &id) || !id)
		return WMQ_ERR_NOTFOUND;
	return take_identity(t, "PSK identity", (const unsigned char *)id, strlen(id), out, cap);
}

bool wmq_tls_looks_like_client_hello(const uint8_t *p, size_t len)
{
	/* TLS record: content type 22 (handshake), legacy version 3.x */
	return len >= 2 && p[0] == 0x16 && p[1] == 0x03;
}
