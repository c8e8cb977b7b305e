/* SPDX-License-Identifier: MIT
 * tls.c - the TLS transport of the client library (OpenSSL 3): SSL_CTX from
 * the copied wmq_tls_opts (CA file/path or the system defaults, client
 * certificate, minimum version, cipher list, PSK, ALPN), a non-blocking
 * handshake driven by the client's event-loop entry points, hostname / IP
 * verification and SNI, and the read/write/shutdown/close ops.
 * Role: the only file of the client that uses libssl (ws.c uses libcrypto's
 * SHA-1 and base64 only). The
 * library is linked with --exclude-libs,ALL and hidden visibility, so no
 * OpenSSL symbol is re-exported.
 * Want-read/want-write: SSL_read may need to write and SSL_write may need
 * to read (TLS 1.3 key updates, post-handshake messages); the flags
 * tls_rd_want_write / tls_wr_want_read tell client.c which event to wait
 * for. Decrypted bytes left inside SSL after a read are reported by
 * wmq_tls_pending() so the client processes them without a socket event.
 * Threading: the client's thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_int.h"
#include "common/alloc.h"

#define PSK_MAX 256u

/* ---- configuration --------------------------------------------------------- */

void wmq_tls_opts_init(wmq_tls_opts *t)
{
	if (t)
		memset(t, 0, sizeof *t);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

size_t wmq_tls_psk_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex);
	/* mosquitto accepts an odd length by assuming a leading zero */
	size_t bytes = (n + 1) / 2;
	if (n == 0 || bytes > cap)
		return 0;
	size_t i = 0, o = 0;
	if (n % 2) {
		int v = hexval(hex[0]);
		if (v < 0)
			return 0;
		out[o++] = (uint8_t)v;
		i = 1;
	}
	for (; i < n; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[o++] = (uint8_t)(hi << 4 | lo);
	}
	return o;
}

void wmq_tls_cfg_free(struct wmq_tls_cfg *g)
{
	wmq_free(g->cafile);
	wmq_free(g->capath);
	wmq_free(g->certfile);
	wmq_free(g->keyfile);
	wmq_free(g->ciphers);
	wmq_free(g->psk_identity);
	wmq_free(g->alpn);
	if (g->psk)
		OPENSSL_cleanse(g->psk, g->psk_len);
	wmq_free(g->psk);
	memset(g, 0, sizeof *g);
}

static bool dup_opt(char **dst, const char *s)
{
	if (!s || !s[0])
		return true;
	*dst = wmq_strdup(s);
	return *dst != NULL;
}

int wmq_tls_cfg_copy(struct wmq_tls_cfg *g, const wmq_tls_opts *o)
{
	memset(g, 0, sizeof *g);
	if (!o)
		return WMQ_E_OK;
	g->min_version = TLS1_2_VERSION;
	if (o->tls_version && o->tls_version[0]) {
		if (!strcmp(o->tls_version, "tlsv1.3"))
			g->min_version = TLS1_3_VERSION;
		else if (!strcmp(o->tls_version, "tlsv1.2"))
			g->min_version = TLS1_2_VERSION;
		else if (!strcmp(o->tls_version, "tlsv1.1"))
			g->min_version = TLS1_1_VERSION;
		else
			return WMQ_E_INVAL;
	}
	bool has_cert = o->certfile && o->certfile[0], has_key = o->keyfile && o->keyfile[0];
	if (has_cert != has_key)
		return WMQ_E_INVAL;
	bool has_psk = o->psk && o->psk[0];
	if (has_psk != (o->psk_identity && o->psk_identity[0]))
		return WMQ_E_INVAL;
	if (o->alpn && strlen(o->alpn) > 255)
		return WMQ_E_INVAL;
	if (has_psk) {
		uint8_t tmp[PSK_MAX];
		size_t n = wmq_tls_psk_decode(o->psk, tmp, sizeof tmp);
		if (n == 0 || strlen(o->psk_identity) > 128)
			return WMQ_E_INVAL;
		g->psk = wmq_memdup(tmp, n);
		OPENSSL_cleanse(tmp, sizeof tmp);
		if (!g->psk)
			return WMQ_E_NOMEM;
		g->psk_len = n;
	}
	g->on = true;
	g->insecure = o->insecure;
	if (!dup_opt(&g->cafile, o->cafile) || !dup_opt(&g->capath, o->capath) ||
	    !dup_opt(&g->certfile, o->certfile) || !dup_opt(&g->keyfile, o->keyfile) ||
	    !dup_opt(&g->ciphers, o->ciphers) || !dup_opt(&g->psk_identity, o->psk_identity) ||
	    !dup_opt(&g->alpn, o->alpn)) {
		wmq_tls_cfg_free(g);
		return WMQ_E_NOMEM;
	}
	return WMQ_E_OK;
}

/* ---- errors ------------------------------------------------------------------ */

/* Record (and log) why TLS failed: |what| plus the verify result or the
 * first queued OpenSSL error. Clears the OpenSSL error queue. */
static void tls_fail(struct wmq_client *c, const char *what)
{
	char detail[200] = "";
	unsigned long e = ERR_peek_last_error();
	/* the verify result explains only a verification failure */
	long vr = X509_V_OK;
	if (c->ssl && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
		vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK) {
		snprintf(detail, sizeof detail, "certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
	} else if (e && ERR_SYSTEM_ERROR(ERR_peek_error())) {
		/* a file that cannot be read: the errno is in the first entry */
		snprintf(detail, sizeof detail, "%s", strerror(ERR_GET_REASON(ERR_peek_error())));
	} else if (e) {
		const char *r = ERR_reason_error_string(e);
		if (r)
			snprintf(detail, sizeof detail, "%s", r);
		else
			ERR_error_string_n(e, detail, sizeof detail);
	} else if (errno) {
		snprintf(detail, sizeof detail, "%s", strerror(errno));
	} else {
		snprintf(detail, sizeof detail, "connection closed during the handshake");
	}
	ERR_clear_error();
	if (what)
		snprintf(c->tls_err, sizeof c->tls_err, "%s: %s", what, detail);
	else
		snprintf(c->tls_err, sizeof c->tls_err, "%s", detail);
	CLOG(c, WMQ_LL_ERROR, "Client %s TLS error: %s", wmq_client_log_id(c), c->tls_err);
}

/* ---- context ----------------------------------------------------------------- */

static unsigned int psk_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_id,
			   unsigned char *psk, unsigned int max_psk)
{
	struct wmq_client *c = SSL_get_app_data(ssl);
	(void)hint;
	if (!c || !c->cfg.tls.psk)
		return 0;
	const struct wmq_tls_cfg *t = &c->cfg.tls;
	size_t idlen = strlen(t->psk_identity);
	if (idlen + 1 > max_id || t->psk_len > max_psk)
		return 0;
	memcpy(identity, t->psk_identity, idlen + 1);
	memcpy(psk, t->psk, t->psk_len);
	return (unsigned int)t->psk_len;
}

void wmq_tls_ctx_free(struct wmq_client *c)
{
	SSL_CTX_free(c->tls_ctx);
	c->tls_ctx = NULL;
}

wmq_err wmq_tls_prepare(struct wmq_client *c)
{
	const struct wmq_tls_cfg *t = &c->cfg.tls;
	c->tls_err[0] = '\0';
	wmq_tls_ctx_free(c);
	ERR_clear_error();
	errno = 0;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const char *what = "cannot create the TLS context";
	if (!ctx)
		goto fail;
	what = "invalid TLS version";
	if (!SSL_CTX_set_min_proto_version(ctx, t->min_version))
		goto fail;
	if (t->min_version < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);
	if (t->cafile || t->capath) {
		what = "cannot load the CA certificates";
		if (!SSL_CTX_load_verify_locations(ctx, t->cafile, t->capath))
			goto fail;
	} else if (!t->psk) {
		what = "cannot load the default CA paths";
		if (!SSL_CTX_set_default_verify_paths(ctx))
			goto fail;
	}
	if (t->certfile) {
		what = "cannot load the client certificate";
		if (SSL_CTX_use_certificate_chain_file(ctx, t->certfile) != 1)
			goto fail;
		what = "cannot load the client key";
		if (SSL_CTX_use_PrivateKey_file(ctx, t->keyfile, SSL_FILETYPE_PEM) != 1)
			goto fail;
		what = "client certificate and key do not match";
		if (SSL_CTX_check_private_key(ctx) != 1)
			goto fail;
	}
	what = "invalid cipher list";
	if (t->ciphers && SSL_CTX_set_cipher_list(ctx, t->ciphers) != 1)
		goto fail;
	if (t->psk) {
		if (!t->ciphers && SSL_CTX_set_cipher_list(ctx, "PSK") != 1)
			goto fail;
		SSL_CTX_set_psk_client_callback(ctx, psk_cb);
	}
	if (t->alpn) {
		unsigned char wire[256];
		size_t n = strlen(t->alpn);
		wire[0] = (unsigned char)n;
		memcpy(wire + 1, t->alpn, n);
		what = "invalid ALPN protocol";
		/* returns 0 on success */
		if (SSL_CTX_set_alpn_protos(ctx, wire, (unsigned)(n + 1)) != 0)
			goto fail;
	}
	SSL_CTX_set_verify(ctx, (t->psk && !t->cafile && !t->capath) ? SSL_VERIFY_NONE
								       : SSL_VERIFY_PEER,
			   NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->tls_ctx = ctx;
	return WMQ_OK;
fail:
	tls_fail(c, what);
	SSL_CTX_free(ctx);
	WMQ_BAIL(WMQ_ERR_TLS);
}

/* ---- connection -------------------------------------------------------------- */

wmq_err wmq_tls_start(struct wmq_client *c)
{
	const struct wmq_tls_cfg *t = &c->cfg.tls;
	const char *host = c->cfg.host;
	const char *what = "cannot create the TLS session";
	unsigned char ip[16];
	ERR_clear_error();
	errno = 0;
	if (!c->tls_ctx && wmq_tls_prepare(c) != WMQ_OK)
		WMQ_BAIL(WMQ_ERR_TLS);
	SSL *ssl = SSL_new(c->tls_ctx);
	if (!ssl || !SSL_set_fd(ssl, c->fd))
		goto fail;
	SSL_set_app_data(ssl, c);
	bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
	if (!is_ip && !SSL_set_tlsext_host_name(ssl, host))
		goto fail;
	if (!t->insecure && !(t->psk && !t->cafile && !t->capath)) {
		what = "cannot set the expected host name";
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		if (is_ip) {
			if (!X509_VERIFY_PARAM_set1_ip_asc(vp, host))
				goto fail;
		} else {
			X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (!X509_VERIFY_PARAM_set1_host(vp, host, 0))
				goto fail;
		}
	}
	SSL_set_connect_state(ssl);
	c->ssl = ssl;
	c->tp = &wmq_tls_ops;
	c->tls_hs = true;
	c->tls_hs_want_write = true;
	c->tls_wr_want_read = c->tls_rd_want_write = false;
	return WMQ_OK;
fail:
	tls_fail(c, what);
	SSL_free(ssl);
	WMQ_BAIL(WMQ_ERR_TLS);
}

wmq_err wmq_tls_handshake(struct wmq_client *c)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->tls_hs = false;
		c->tls_hs_want_write = false;
		const unsigned char *alpn = NULL;
		unsigned alpn_len = 0;
		SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
		CLOG(c, WMQ_LL_DEBUG, "Client %s TLS handshake done: %s, %s%s%.*s",
		     wmq_client_log_id(c), SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
		     alpn_len ? ", ALPN " : "", (int)alpn_len, alpn ? (const char *)alpn : "");
		return WMQ_OK;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->tls_hs_want_write = false;
		return WMQ_ERR_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->tls_hs_want_write = true;
		return WMQ_ERR_AGAIN;
	default: {
		int why = ERR_GET_REASON(ERR_peek_last_error());
		tls_fail(c, why == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
					    why == SSL_R_WRONG_VERSION_NUMBER
				    ? "handshake failed (is the port a TLS listener?)"
				    : NULL);
		WMQ_BAIL(WMQ_ERR_TLS);
	}
	}
}

bool wmq_tls_pending(const struct wmq_client *c)
{
	/* also under a WebSocket layer (c->tp is then wmq_wsc_ops) */
	return c->ssl && !c->tls_hs && SSL_pending(c->ssl) > 0;
}

/* ---- ops --------------------------------------------------------------------- */

static wmq_err tls_read(struct wmq_client *c, void *buf, size_t cap, size_t *got)
{
	size_t total = 0;
	c->tls_rd_want_write = false;
	/* drain what SSL can give (records already inside SSL included), so
	 * that "less than asked" means the socket is empty; bounded by cap */
	while (total < cap) {
		size_t n = 0;
		ERR_clear_error();
		errno = 0;
		int r = SSL_read_ex(c->ssl, (uint8_t *)buf + total, cap - total, &n);
		if (r == 1) {
			total += n;
			continue;
		}
		int se = SSL_get_error(c->ssl, r);
		if (total) /* report what we have; the error comes back next time */
			break;
		switch (se) {
		case SSL_ERROR_WANT_READ:
			return WMQ_ERR_AGAIN;
		case SSL_ERROR_WANT_WRITE:
			c->tls_rd_want_write = true;
			return WMQ_ERR_AGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return WMQ_ERR_CLOSED;
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() == 0 && (errno == 0 || errno == ECONNRESET)) {
				ERR_clear_error();
				return WMQ_ERR_CLOSED;
			}
			tls_fail(c, NULL);
			WMQ_BAIL(WMQ_ERR_TLS);
		default:
			/* an alert from the server (e.g. our certificate refused
			 * after a TLS 1.3 handshake), or an unexpected EOF */
			if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				return WMQ_ERR_CLOSED;
			}
			tls_fail(c, NULL);
			WMQ_BAIL(WMQ_ERR_TLS);
		}
	}
	*got = total;
	return WMQ_OK;
}

static wmq_err tls_write(struct wmq_client *c, const void *buf, size_t len, size_t *sent)
{
	size_t n = 0;
	c->tls_wr_want_read = false;
	ERR_clear_error();
	errno = 0;
	int r = SSL_write_ex(c->ssl, buf, len, &n);
	if (r == 1) {
		*sent = n;
		return WMQ_OK;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		return WMQ_ERR_AGAIN;
	case SSL_ERROR_WANT_READ:
		c->tls_wr_want_read = true;
		return WMQ_ERR_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return WMQ_ERR_CLOSED;
	case SSL_ERROR_SYSCALL:
		if (errno == EPIPE || errno == ECONNRESET || errno == 0) {
			ERR_clear_error();
			return WMQ_ERR_CLOSED;
		}
		tls_fail(c, NULL);
		WMQ_BAIL(WMQ_ERR_TLS);
	default:
		tls_fail(c, NULL);
		WMQ_BAIL(WMQ_ERR_TLS);
	}
}

static void tls_shutdown(struct wmq_client *c)
{
	if (c->ssl && !c->tls_hs) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl); /* close_notify, best effort */
		ERR_clear_error();
	}
	if (c->fd >= 0)
		(void)shutdown(c->fd, SHUT_WR);
}

static void tls_close(struct wmq_client *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->tls_hs = c->tls_hs_want_write = false;
	c->tls_wr_want_read = c->tls_rd_want_write = false;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->tp = &wmq_tcp_ops;
}

const struct wmq_transport_ops wmq_tls_ops = {
	.name = "tls",
	.read = tls_read,
	.write = tls_write,
	.shutdown = tls_shutdown,
	.close = tls_close,
};
