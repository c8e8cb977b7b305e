/* SPDX-License-Identifier: MIT
 * tls_test.c - the TLS engine (net/tls.h) against a real OpenSSL client.
 *
 * A test PKI is made once per run by tests/fixtures/make_test_ca.sh (the
 * openssl command line) in a temporary directory. Each test connects a
 * server conn running our engine and an OpenSSL client written here over a
 * non-blocking socketpair, and drives both sides step by step in a bounded
 * poll loop (nothing may block: a blocking call would hang the loop, and an
 * alarm() watchdog ends the run). Covered: context errors and warnings,
 * handshakes with and without client certificates, each failure
 * classification (expired, not yet valid, unknown CA, revoked, key usage,
 * no certificate, plain MQTT, not TLS, client refusing us, version
 * mismatch, unknown PSK), identity extraction (CN, DN, SAN DNS/email/URI,
 * UTF-8, '+' refused), CRL reload by a new context and the recheck of a live
 * connection against it, TLS 1.2 and 1.3 PSK,
 * ALPN, resumption, bulk transfer with partial writes and read budgets,
 * and no SIGPIPE on writes to a closed peer. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/alloc.h"
#include "net/conn.h"
#include "net/ev.h"
#include "net/tls.h"
#include "test.h"

#define ERRLEN 512
#define LOOP_MAX 4000 /* poll rounds of at most 5 ms each */

/* ---- fixtures ------------------------------------------------------------ */

static char pki_dir[64];

static void pki_cleanup(void)
{
	char cmd[128];
	if (!pki_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", pki_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", pki_dir);
}

/* Path of fixture |name|, making the PKI on first use. Returns one of 64
 * rotating buffers (enough for the options a test holds at once). */
static const char *P(const char *name)
{
	static char bufs[64][160];
	static unsigned next;
	if (!pki_dir[0]) {
		char cmd[512];
		snprintf(pki_dir, sizeof pki_dir, "/tmp/wmq-tls-XXXXXX");
		if (!mkdtemp(pki_dir))
			TEST_FAIL_("mkdtemp: %s", strerror(errno));
		atexit(pki_cleanup);
		snprintf(cmd, sizeof cmd, "sh '%s/tests/fixtures/make_test_ca.sh' '%s' >/dev/null",
			 WMQ_SOURCE_DIR, pki_dir);
		if (system(cmd) != 0)
			TEST_FAIL_("make_test_ca.sh failed");
	}
	char *b = bufs[next++ % 64];
	snprintf(b, sizeof bufs[0], "%s/%s", pki_dir, name);
	return b;
}

static const uint8_t psk_key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static wmq_err psk_lookup(void *arg, const char *identity, uint8_t *key, size_t cap, size_t *len)
{
	int *calls = arg;
	if (calls)
		(*calls)++;
	if ((strcmp(identity, "dev1") != 0 && strcmp(identity, "dev+1") != 0) ||
	    cap < sizeof psk_key)
		return WMQ_ERR_NOTFOUND;
	memcpy(key, psk_key, sizeof psk_key);
	*len = sizeof psk_key;
	return WMQ_OK;
}

static struct wmq_tls_ctx *ctx_ok(const struct wmq_tls_opts *o)
{
	struct wmq_tls_ctx *ctx = NULL;
	char err[ERRLEN];
	wmq_err rc = wmq_tls_ctx_new(o, &ctx, err, sizeof err);
	if (rc != WMQ_OK)
		TEST_FAIL_("wmq_tls_ctx_new: %s: %s", wmq_err_str(rc), err);
	return ctx;
}

/* Server options with the test server certificate and, if |ca|, client
 * certificate verification against ca.crt. */
static struct wmq_tls_opts srv_opts(bool ca, bool require)
{
	struct wmq_tls_opts o;
	memset(&o, 0, sizeof o);
	o.certfile = P("server.crt");
	o.keyfile = P("server.key");
	if (ca)
		o.cafile = P("ca.crt");
	o.require_certificate = require;
	return o;
}

/* ---- the test client ----------------------------------------------------- */

struct cli_opts {
	const char *cert, *key;  /* client certificate, or NULL */
	const char *ca;          /* CA to verify the server with (default ca.crt) */
	int max_version;         /* 0 = library default */
	const char *ciphers;     /* TLS 1.2 list */
	const char *psk_id;      /* offer this PSK identity */
	const uint8_t *psk;
	size_t psk_len;
	const unsigned char *alpn; /* wire format */
	unsigned alpn_len;
	SSL_SESSION *session;    /* resume this */
};

static unsigned int cli_psk_cb(SSL *ssl, const char *hint, char *identity,
			       unsigned int max_identity_len, unsigned char *psk,
			       unsigned int max_psk_len)
{
	const struct cli_opts *o = SSL_get_app_data(ssl);
	(void)hint;
	if (!o || !o->psk_id || strlen(o->psk_id) >= max_identity_len || o->psk_len > max_psk_len)
		return 0;
	memcpy(identity, o->psk_id, strlen(o->psk_id) + 1);
	memcpy(psk, o->psk, o->psk_len);
	return (unsigned int)o->psk_len;
}

static SSL *client_new(const struct cli_opts *o, int fd)
{
	SSL_CTX *cx = SSL_CTX_new(TLS_client_method());
	ASSERT(cx != NULL);
	if (o->psk_id) {
		SSL_CTX_set_psk_client_callback(cx, cli_psk_cb);
	} else {
		SSL_CTX_set_verify(cx, SSL_VERIFY_PEER, NULL);
		ASSERT_EQ(SSL_CTX_load_verify_locations(cx, o->ca ? o->ca : P("ca.crt"), NULL), 1);
	}
	if (o->cert) {
		ASSERT_EQ(SSL_CTX_use_certificate_file(cx, o->cert, SSL_FILETYPE_PEM), 1);
		ASSERT_EQ(SSL_CTX_use_PrivateKey_file(cx, o->key, SSL_FILETYPE_PEM), 1);
	}
	if (o->max_version)
		ASSERT_EQ(SSL_CTX_set_max_proto_version(cx, o->max_version), 1);
	if (o->ciphers)
		ASSERT_EQ(SSL_CTX_set_cipher_list(cx, o->ciphers), 1);
	if (o->alpn)
		ASSERT_EQ(SSL_CTX_set_alpn_protos(cx, o->alpn, o->alpn_len), 0);
	SSL *s = SSL_new(cx);
	SSL_CTX_free(cx); /* the SSL keeps its own reference */
	ASSERT(s != NULL);
	SSL_set_app_data(s, (void *)o);
	ASSERT_EQ(SSL_set_fd(s, fd), 1);
	if (!o->psk_id)
		ASSERT_EQ(SSL_set1_host(s, "localhost"), 1);
	if (o->session)
		ASSERT_EQ(SSL_set_session(s, o->session), 1);
	SSL_set_connect_state(s);
	return s;
}

/* ---- a connected pair ---------------------------------------------------- */

struct pair {
	struct wmq_conn srv; /* our engine */
	int cfd;             /* client's socket */
	SSL *cli;
};

static void nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	ASSERT(fl >= 0);
	ASSERT_EQ(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* A socketpair: the server end runs |ctx| (plain TCP ops if NULL), the
 * client end gets an SSL object when |co| is given. */
static void pair_open(struct pair *p, struct wmq_tls_ctx *ctx, const struct cli_opts *co)
{
	int sv[2];
	memset(p, 0, sizeof *p);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	nonblock(sv[0]);
	nonblock(sv[1]);
	wmq_conn_init(&p->srv, sv[0], &wmq_transport_tcp, "test-peer", 1u << 20, 1u << 20);
	p->cfd = sv[1];
	if (ctx) {
		ASSERT_EQ(wmq_tls_server_start(ctx, &p->srv), WMQ_OK);
		ASSERT(wmq_tls_is_tls(&p->srv));
		ASSERT_STREQ(p->srv.ops->name, "tls");
	}
	if (co)
		p->cli = client_new(co, p->cfd);
}

static void pair_close(struct pair *p)
{
	wmq_conn_cleanup(&p->srv);
	if (p->cli) {
		/* no close_notify exchange, but keep the session resumable */
		SSL_set_shutdown(p->cli, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(p->cli);
	}
	if (p->cfd >= 0)
		close(p->cfd);
	ERR_clear_error();
	memset(p, 0, sizeof *p);
	p->cfd = -1;
}

static void wait_io(struct pair *p)
{
	struct pollfd f[2] = {{p->srv.fd, POLLIN, 0}, {p->cfd, POLLIN, 0}};
	if (poll(f, 2, 5) < 0 && errno != EINTR)
		TEST_FAIL_("poll: %s", strerror(errno));
}

struct hs {
	wmq_err srv;       /* WMQ_OK, WMQ_ERR_TLS, or WMQ_ERR_AGAIN if it never finished */
	bool cli_ok;       /* the client's handshake completed */
	int srv_again;     /* how often the server said AGAIN */
	uint32_t wants_seen; /* union of wmq_tls_wants() after AGAIN */
};

/* Drive both handshakes until the server has decided and the client has
 * finished or failed; bounded. */
static struct hs handshake(struct pair *p)
{
	struct hs r = {WMQ_ERR_AGAIN, false, 0, 0};
	bool sdone = false, cdone = false;
	for (int i = 0; i < LOOP_MAX && !(sdone && cdone); i++) {
		if (!sdone) {
			wmq_err e = wmq_tls_handshake(&p->srv);
			if (e == WMQ_ERR_AGAIN) {
				r.srv_again++;
				r.wants_seen |= wmq_tls_wants(&p->srv);
				ASSERT(wmq_tls_wants(&p->srv) != 0);
			} else {
				sdone = true;
				r.srv = e;
			}
		}
		if (!cdone) {
			ERR_clear_error();
			int k = SSL_do_handshake(p->cli);
			if (k == 1) {
				cdone = true;
				r.cli_ok = true;
			} else {
				int e = SSL_get_error(p->cli, k);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					cdone = true;
			}
		}
		if (sdone && !cdone && r.srv != WMQ_OK && i > 50)
			break; /* the server refused; the client may wait forever */
		if (!(sdone && cdone))
			wait_io(p);
	}
	ERR_clear_error();
	return r;
}

/* Plaintext both ways through the conn API and the client SSL. */
static void exchange(struct pair *p)
{
	char buf[64];
	size_t n = 0;
	int i;
	ASSERT_EQ(wmq_conn_queue(&p->srv, "hello", 5), WMQ_OK);
	ASSERT_EQ(wmq_conn_flush(&p->srv), WMQ_OK);
	for (i = 0; i < LOOP_MAX; i++) {
		if (SSL_read_ex(p->cli, buf, sizeof buf, &n) == 1)
			break;
		ASSERT_EQ(SSL_get_error(p->cli, 0), SSL_ERROR_WANT_READ);
		wait_io(p);
	}
	ASSERT(i < LOOP_MAX);
	ASSERT_EQ(n, 5);
	ASSERT_MEMEQ(buf, "hello", 5);
	ASSERT_EQ(SSL_write_ex(p->cli, "ping", 4, &n), 1);
	for (i = 0; i < LOOP_MAX && p->srv.in.len < 4; i++) {
		ASSERT_EQ(wmq_conn_fill(&p->srv, 65536), WMQ_OK);
		if (p->srv.in.len < 4)
			wait_io(p);
	}
	ASSERT_EQ(p->srv.in.len, 4);
	ASSERT_MEMEQ(p->srv.in.p, "ping", 4);
	wmq_dbuf_consume(&p->srv.in, 4);
}

/* Connect a client with |co| to |ctx| and expect the server to refuse it
 * with |want|; the last error must contain |text|. */
static void expect_refused(struct wmq_tls_ctx *ctx, const struct cli_opts *co,
			   enum wmq_tls_fail want, const char *text)
{
	struct pair p;
	pair_open(&p, ctx, co);
	struct hs r = handshake(&p);
	ASSERT_EQ(r.srv, WMQ_ERR_TLS);
	if (wmq_tls_failure(&p.srv) != want)
		TEST_FAIL_("failure %s, want %s: %s", wmq_tls_fail_name(wmq_tls_failure(&p.srv)),
			   wmq_tls_fail_name(want), wmq_tls_last_error(&p.srv));
	if (!strstr(wmq_tls_last_error(&p.srv), text))
		TEST_FAIL_("last error \"%s\" lacks \"%s\"", wmq_tls_last_error(&p.srv), text);
	ASSERT(!wmq_tls_handshake_done(&p.srv));
	/* reads after the failure fail too, without blocking */
	char b[8];
	errno = 0;
	ASSERT_EQ(p.srv.ops->read(&p.srv, b, sizeof b), -1);
	ASSERT_EQ(errno, EPROTO);
	ASSERT_EQ(wmq_tls_wants(&p.srv), 0);
	pair_close(&p);
}

static void expect_ok(struct wmq_tls_ctx *ctx, const struct cli_opts *co, struct pair *p)
{
	pair_open(p, ctx, co);
	struct hs r = handshake(p);
	if (r.srv != WMQ_OK)
		TEST_FAIL_("handshake failed: %s (%s)", wmq_tls_last_error(&p->srv),
			   wmq_tls_fail_name(wmq_tls_failure(&p->srv)));
	ASSERT(r.cli_ok);
	ASSERT(wmq_tls_handshake_done(&p->srv));
	ASSERT_EQ(wmq_tls_failure(&p->srv), WMQ_TLS_FAIL_NONE);
	exchange(p);
}

/* ---- tests --------------------------------------------------------------- */

TEST(setup_watchdog)
{
	alarm(600); /* a blocked call must not hang the suite */
	ASSERT(P("ca.crt") != NULL);
	ASSERT_EQ(access(P("crl.pem"), R_OK), 0);
}

TEST(ctx_errors_name_the_file)
{
	struct wmq_tls_ctx *ctx = (struct wmq_tls_ctx *)&ctx;
	char err[ERRLEN];
	struct wmq_tls_opts o = srv_opts(false, false);

	o.certfile = "/nonexistent/server.crt";
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_IO);
	ASSERT(ctx == NULL);
	ASSERT_STREQ(err, "certfile /nonexistent/server.crt: No such file or directory");

	o = srv_opts(false, false);
	o.keyfile = P("client.key");
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "does not match certfile") != NULL);
	ASSERT(strstr(err, "client.key") != NULL);

	o = srv_opts(false, false);
	o.certfile = P("ca.key"); /* a key where a certificate belongs */
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "no usable PEM certificate") != NULL);

	o = srv_opts(false, false);
	o.keyfile = P("server.crt"); /* a certificate where a key belongs */
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "no usable PEM private key") != NULL);

	o = srv_opts(false, false);
	o.keyfile = pki_dir;
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "is a directory") != NULL);

	o = srv_opts(false, false);
	o.keyfile = NULL;
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "certfile is set without keyfile: give both certfile and keyfile");

	memset(&o, 0, sizeof o);
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "a TLS listener needs certfile and keyfile, or psk_hint");

	o = srv_opts(false, true);
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "require_certificate needs cafile or capath");

	o = srv_opts(false, false);
	o.crlfile = P("crl.pem");
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "crlfile needs cafile or capath");

	o = srv_opts(true, false);
	o.crlfile = P("server.crt"); /* not a CRL */
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "no PEM CRL in it") != NULL);

	o = srv_opts(true, false);
	o.crlfile = "/nonexistent.crl";
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_IO);
	ASSERT_STREQ(err, "crlfile /nonexistent.crl: No such file or directory");

	o = srv_opts(false, false);
	o.cafile = P("server.key");
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "cafile") == err);

	o = srv_opts(false, false);
	o.capath = P("ca.crt");
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "not a directory") != NULL);

	o = srv_opts(false, false);
	o.ciphers = "NO-SUCH-CIPHER";
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "ciphers 'NO-SUCH-CIPHER'") == err);

	o = srv_opts(false, false);
	o.ciphers_tls13 = "TLS_NO_SUCH";
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "ciphers_tls1.3") == err);

	memset(&o, 0, sizeof o);
	o.psk_hint = "hint";
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "psk_hint") == err);
	ASSERT(ctx == NULL);
	ERR_clear_error();
}

TEST(ctx_warnings)
{
	struct wmq_tls_ctx *ctx = NULL;
	char err[ERRLEN];
	struct wmq_tls_opts o = srv_opts(true, true);
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_OK);
	ASSERT_STREQ(err, "");
	ASSERT(wmq_tls_ctx_verifies_clients(ctx));
	wmq_tls_ctx_free(ctx);

	o.certfile = P("server-expired.crt");
	o.keyfile = P("server-expired.key");
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_OK);
	ASSERT(strstr(err, "the server certificate expired on 2021-01-01 00:00:00 UTC") != NULL);
	ASSERT(strstr(err, "server-expired.crt") != NULL);
	ASSERT(wmq_tls_ctx_verifies_clients(ctx));
	wmq_tls_ctx_free(ctx);

	o = srv_opts(false, false);
	ASSERT_EQ(wmq_tls_ctx_new(&o, &ctx, err, sizeof err), WMQ_OK);
	ASSERT(!wmq_tls_ctx_verifies_clients(ctx));
	wmq_tls_ctx_ref(ctx);
	wmq_tls_ctx_free(ctx);
	wmq_tls_ctx_free(ctx);
	wmq_tls_ctx_free(NULL);
}

TEST(handshake_without_client_cert)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {0};
	struct pair p;
	char d[128];
	expect_ok(ctx, &co, &p);
	wmq_tls_describe(&p.srv, d, sizeof d);
	ASSERT(strstr(d, "TLSv1.3 TLS_") == d);
	ASSERT(!wmq_tls_peer_verified(&p.srv));
	char id[64];
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_ERR_NOTFOUND);
	ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_tls_last_error(&p.srv), "");
	pair_close(&p);

	/* TLS 1.2 too */
	co.max_version = TLS1_2_VERSION;
	expect_ok(ctx, &co, &p);
	wmq_tls_describe(&p.srv, d, sizeof d);
	ASSERT(strstr(d, "TLSv1.2 ") == d);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(client_cert_identities)
{
	struct wmq_tls_opts o = srv_opts(true, true);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {.cert = P("client.crt"), .key = P("client.key")};
	struct pair p;
	char id[128];
	for (int v = 0; v < 2; v++) {
		co.max_version = v ? TLS1_2_VERSION : 0;
		expect_ok(ctx, &co, &p);
		ASSERT(wmq_tls_peer_verified(&p.srv));
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_OK);
		ASSERT_STREQ(id, "client1");
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SUBJECT_DN, id, sizeof id),
			  WMQ_OK);
		ASSERT_STREQ(id, "CN=client1,O=WardMQ Test");
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SAN_DNS, id, sizeof id), WMQ_OK);
		ASSERT_STREQ(id, "client1.example.org");
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SAN_EMAIL, id, sizeof id),
			  WMQ_OK);
		ASSERT_STREQ(id, "client1@example.org");
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SAN_URI, id, sizeof id), WMQ_OK);
		ASSERT_STREQ(id, "spiffe://example.org/device/1");
		/* too small a buffer */
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SAN_URI, id, 10), WMQ_ERR_LIMIT);
		ASSERT_STREQ(id, "");
		ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_ERR_NOTFOUND);
		pair_close(&p);
	}

	/* a certificate without SANs */
	co.cert = P("client-revoked.crt"); /* no CRL on this context */
	co.key = P("client-revoked.key");
	co.max_version = 0;
	expect_ok(ctx, &co, &p);
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SAN_URI, id, sizeof id),
		  WMQ_ERR_NOTFOUND);
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "revoked");
	pair_close(&p);

	/* UTF-8 stays UTF-8 */
	co.cert = P("client-utf8.crt");
	co.key = P("client-utf8.key");
	expect_ok(ctx, &co, &p);
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "capteur-\xc3\xa9t\xc3\xa9");
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SUBJECT_DN, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "CN=capteur-\xc3\xa9t\xc3\xa9,O=WardMQ Test");
	pair_close(&p);

	/* '+' (and '#') are refused: they would be wildcards in %u rules */
	co.cert = P("client-plus.crt");
	co.key = P("client-plus.key");
	expect_ok(ctx, &co, &p);
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_ERR_DENIED);
	ASSERT_STREQ(id, "");
	ASSERT_STREQ(wmq_tls_last_error(&p.srv),
		     "client certificate CN \"dev+1\" refused as identity: it contains '+' or '#', "
		     "which would act as topic wildcards");
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_SUBJECT_DN, id, sizeof id),
		  WMQ_ERR_DENIED);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(optional_client_cert)
{
	struct wmq_tls_opts o = srv_opts(true, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {0};
	struct pair p;
	char id[64];
	expect_ok(ctx, &co, &p); /* no certificate: allowed */
	ASSERT(!wmq_tls_peer_verified(&p.srv));
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_ERR_NOTFOUND);
	pair_close(&p);
	co.cert = P("client.crt");
	co.key = P("client.key");
	expect_ok(ctx, &co, &p); /* a certificate, verified and usable */
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "client1");
	pair_close(&p);
	/* a bad certificate is refused even when none is required */
	co.cert = P("client-expired.crt");
	co.key = P("client-expired.key");
	expect_refused(ctx, &co, WMQ_TLS_FAIL_EXPIRED, "certificate has expired");
	wmq_tls_ctx_free(ctx);
}

TEST(certificate_failures_classified)
{
	struct wmq_tls_opts o = srv_opts(true, true);
	o.crlfile = P("crl.pem");
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	static const struct {
		const char *name;
		enum wmq_tls_fail want;
		const char *text;
	} cases[] = {
		{"client-expired", WMQ_TLS_FAIL_EXPIRED,
		 "client certificate rejected: certificate has expired (subject "
		 "CN=expired,O=WardMQ Test, depth 0"},
		{"client-notyet", WMQ_TLS_FAIL_NOT_YET_VALID, "certificate is not yet valid"},
		{"client-wrongca", WMQ_TLS_FAIL_UNKNOWN_CA, "not issued by a CA in cafile/capath"},
		{"client-revoked", WMQ_TLS_FAIL_REVOKED, "certificate revoked (subject CN=revoked"},
		{"client-noclientauth", WMQ_TLS_FAIL_KEY_USAGE, "unsuitable certificate purpose"},
	};
	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
			char crt[64], key[64];
			snprintf(crt, sizeof crt, "%s.crt", cases[i].name);
			snprintf(key, sizeof key, "%s.key", cases[i].name);
			struct cli_opts co = {.cert = P(crt), .key = P(key)};
			co.max_version = v ? TLS1_2_VERSION : 0;
			expect_refused(ctx, &co, cases[i].want, cases[i].text);
		}
		/* no certificate at all */
		struct cli_opts none = {.max_version = v ? TLS1_2_VERSION : 0};
		expect_refused(ctx, &none, WMQ_TLS_FAIL_NO_CERT,
			       "the client sent no certificate and require_certificate is on");
	}
	/* the good client passes the CRL check */
	struct cli_opts co = {.cert = P("client.crt"), .key = P("client.key")};
	struct pair p;
	expect_ok(ctx, &co, &p);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(crl_reload_by_new_context)
{
	struct wmq_tls_opts o = srv_opts(true, true);
	o.crlfile = P("crl-empty.pem");
	struct wmq_tls_ctx *old = ctx_ok(&o);
	struct cli_opts co = {.cert = P("client-revoked.crt"), .key = P("client-revoked.key")};
	struct pair live;
	expect_ok(old, &co, &live); /* accepted under the old CRL */

	/* "SIGHUP": a broken CRL keeps the old context... */
	struct wmq_tls_ctx *bad = NULL;
	char err[ERRLEN];
	o.crlfile = P("ca.crt");
	ASSERT_EQ(wmq_tls_ctx_new(&o, &bad, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(bad == NULL);
	ASSERT(strstr(err, "crlfile") == err);
	/* ...a good one replaces it for new connections */
	o.crlfile = P("crl.pem");
	struct wmq_tls_ctx *cur = ctx_ok(&o);
	wmq_tls_ctx_free(old); /* the caller's reference; the live conn keeps its own */
	expect_refused(cur, &co, WMQ_TLS_FAIL_REVOKED, "certificate revoked");

	/* the connection made before the reload still works, and a recheck
	 * against the new CRL finds it revoked (crl_disconnect) */
	exchange(&live);
	enum wmq_tls_fail why = WMQ_TLS_FAIL_NONE;
	ASSERT_EQ(wmq_tls_peer_recheck(cur, &live.srv, &why), WMQ_ERR_DENIED);
	ASSERT_EQ(why, WMQ_TLS_FAIL_REVOKED);
	ASSERT(strstr(wmq_tls_last_error(&live.srv),
		      "client certificate no longer valid: certificate revoked (subject "
		      "CN=revoked,O=WardMQ Test, depth 0") != NULL);
	ASSERT_EQ(wmq_tls_failure(&live.srv), WMQ_TLS_FAIL_NONE);
	exchange(&live); /* the recheck changed nothing on the connection */
	pair_close(&live);

	/* a good certificate passes the recheck; no certificate: NOTFOUND */
	struct cli_opts good = {.cert = P("client.crt"), .key = P("client.key")};
	expect_ok(cur, &good, &live);
	ASSERT_EQ(wmq_tls_peer_recheck(cur, &live.srv, &why), WMQ_OK);
	ASSERT_EQ(why, WMQ_TLS_FAIL_NONE);
	pair_close(&live);
	o.require_certificate = false;
	struct wmq_tls_ctx *opt = ctx_ok(&o);
	struct cli_opts none = {0};
	expect_ok(opt, &none, &live);
	ASSERT_EQ(wmq_tls_peer_recheck(cur, &live.srv, NULL), WMQ_ERR_NOTFOUND);
	pair_close(&live);
	wmq_tls_ctx_free(opt);
	wmq_tls_ctx_free(cur);
}

TEST(client_refuses_server)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {.ca = P("other-ca.crt")};
	expect_refused(ctx, &co, WMQ_TLS_FAIL_PEER_ALERT, "unknown ca");
	wmq_tls_ctx_free(ctx);
}

TEST(version_floor)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	o.min_version = WMQ_TLS_V1_3;
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {.max_version = TLS1_2_VERSION};
	expect_refused(ctx, &co, WMQ_TLS_FAIL_PROTOCOL, "unsupported protocol");
	struct cli_opts co13 = {0};
	struct pair p;
	expect_ok(ctx, &co13, &p);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(psk_tls12_and_tls13)
{
	int calls = 0;
	struct wmq_tls_opts o;
	memset(&o, 0, sizeof o);
	o.psk_hint = "wardmq";
	o.psk_fn = psk_lookup;
	o.psk_arg = &calls;
	o.ciphers = "PSK-AES128-GCM-SHA256:ECDHE-PSK-CHACHA20-POLY1305";
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {.psk_id = "dev1", .psk = psk_key, .psk_len = sizeof psk_key,
			      .max_version = TLS1_2_VERSION, .ciphers = "PSK-AES128-GCM-SHA256"};
	struct pair p;
	char id[64], d[128];
	expect_ok(ctx, &co, &p);
	ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "dev1");
	wmq_tls_describe(&p.srv, d, sizeof d);
	ASSERT_STREQ(d, "TLSv1.2 PSK-AES128-GCM-SHA256, psk");
	ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_ERR_NOTFOUND);
	pair_close(&p);
	ASSERT(calls >= 1);

	/* TLS 1.3 external PSK (OpenSSL's compatible callbacks, SHA-256) */
	co.max_version = 0;
	co.ciphers = NULL;
	expect_ok(ctx, &co, &p);
	ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "dev1");
	wmq_tls_describe(&p.srv, d, sizeof d);
	if (strstr(d, "TLSv1.3 TLS_") != d || !strstr(d, "_SHA256, psk"))
		TEST_FAIL_("describe: %s", d); /* a PSK of unknown hash means SHA-256 */
	ASSERT(strstr(d, ", psk") != NULL);
	ASSERT(!wmq_tls_session_resumed(&p.srv));
	pair_close(&p);

	/* unknown identity, wrong key */
	for (int v = 0; v < 2; v++) {
		struct cli_opts bad = co;
		bad.max_version = v ? TLS1_2_VERSION : 0;
		bad.ciphers = v ? "PSK-AES128-GCM-SHA256" : NULL;
		bad.psk_id = "nobody";
		expect_refused(ctx, &bad, WMQ_TLS_FAIL_PSK_UNKNOWN, "unknown PSK identity \"nobody\"");
		static const uint8_t wrong[16] = {9};
		bad.psk_id = "dev1";
		bad.psk = wrong;
		struct pair q;
		pair_open(&q, ctx, &bad);
		struct hs r = handshake(&q);
		ASSERT_EQ(r.srv, WMQ_ERR_TLS);
		ASSERT(wmq_tls_failure(&q.srv) == WMQ_TLS_FAIL_PROTOCOL ||
		       wmq_tls_failure(&q.srv) == WMQ_TLS_FAIL_PEER_ALERT);
		pair_close(&q);
	}

	/* a PSK identity with '+' is refused as identity */
	co.psk_id = "dev+1";
	expect_ok(ctx, &co, &p);
	ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_ERR_DENIED);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(psk_and_certificate_on_one_listener)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	o.psk_hint = "wardmq";
	o.psk_fn = psk_lookup;
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts cert = {0};
	struct cli_opts psk = {.psk_id = "dev1", .psk = psk_key, .psk_len = sizeof psk_key};
	struct pair p;
	char id[64];
	expect_ok(ctx, &cert, &p);
	ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_ERR_NOTFOUND);
	pair_close(&p);
	expect_ok(ctx, &psk, &p);
	ASSERT_EQ(wmq_tls_psk_identity(&p.srv, id, sizeof id), WMQ_OK);
	ASSERT_STREQ(id, "dev1");
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

/* Write raw bytes from the client side, then expect |want|. */
static void raw_first_bytes(struct wmq_tls_ctx *ctx, const char *hex, enum wmq_tls_fail want,
			    const char *text)
{
	struct pair p;
	uint8_t b[64];
	size_t n = test_hex(hex, b, sizeof b);
	pair_open(&p, ctx, NULL);
	/* nothing yet: the engine waits for readability */
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_ERR_AGAIN);
	ASSERT_EQ(wmq_tls_wants(&p.srv), WMQ_EV_READ);
	ASSERT_EQ(write(p.cfd, b, n), (ssize_t)n);
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_ERR_TLS);
	ASSERT_EQ(wmq_tls_failure(&p.srv), want);
	if (!strstr(wmq_tls_last_error(&p.srv), text))
		TEST_FAIL_("\"%s\" lacks \"%s\"", wmq_tls_last_error(&p.srv), text);
	/* through the transport the failure is EPROTO, i.e. WMQ_ERR_IO */
	ASSERT_EQ(wmq_conn_fill(&p.srv, 1024), WMQ_ERR_IO);
	pair_close(&p);
}

TEST(plain_mqtt_to_tls_port)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	/* MQTT 3.1.1 CONNECT */
	raw_first_bytes(ctx, "10 10 00 04 4d 51 54 54 04 02 00 3c 00 04 74 65 73 74",
			WMQ_TLS_FAIL_PLAIN_MQTT, "plain MQTT sent to a TLS port");
	raw_first_bytes(ctx, "47 45 54 20 2f 20", WMQ_TLS_FAIL_NOT_TLS, "first byte 0x47");
	/* a TLS record header with garbage after it: OpenSSL's verdict */
	raw_first_bytes(ctx, "16 03 01 00 05 ff ff ff ff ff", WMQ_TLS_FAIL_PROTOCOL,
			"TLS handshake failed");
	/* EOF before anything */
	struct pair p;
	pair_open(&p, ctx, NULL);
	close(p.cfd);
	p.cfd = -1;
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_ERR_TLS);
	ASSERT_EQ(wmq_tls_failure(&p.srv), WMQ_TLS_FAIL_CLOSED);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(client_hello_detector)
{
	static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00};
	static const uint8_t connect[] = {0x10, 0x0c};
	ASSERT(wmq_tls_looks_like_client_hello(hello, sizeof hello));
	ASSERT(wmq_tls_looks_like_client_hello(hello, 2));
	ASSERT(!wmq_tls_looks_like_client_hello(hello, 1));
	ASSERT(!wmq_tls_looks_like_client_hello(connect, sizeof connect));
	ASSERT(!wmq_tls_looks_like_client_hello(NULL, 0));

	/* a real ClientHello, captured from an OpenSSL client */
	struct cli_opts co = {0};
	struct pair p;
	pair_open(&p, NULL, &co);
	ASSERT_EQ(SSL_do_handshake(p.cli), -1);
	uint8_t b[16];
	ssize_t k = read(p.srv.fd, b, sizeof b);
	ASSERT(k >= 2);
	ASSERT(wmq_tls_looks_like_client_hello(b, (size_t)k));
	ASSERT(!wmq_tls_is_tls(&p.srv));
	ASSERT_EQ(wmq_tls_wants(&p.srv), 0);
	ASSERT_EQ(wmq_tls_failure(&p.srv), WMQ_TLS_FAIL_NONE);
	ASSERT_STREQ(wmq_tls_last_error(&p.srv), "");
	pair_close(&p);
}

TEST(nonblocking_step_by_step)
{
	struct wmq_tls_opts o = srv_opts(true, true);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {.cert = P("client.crt"), .key = P("client.key")};
	struct pair p;
	pair_open(&p, ctx, &co);
	/* one step at a time; each server step returns at once */
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_ERR_AGAIN); /* nothing sent yet */
	ASSERT_EQ(wmq_tls_wants(&p.srv), WMQ_EV_READ);
	ASSERT_EQ(SSL_do_handshake(p.cli), -1);             /* ClientHello */
	ASSERT_EQ(SSL_get_error(p.cli, -1), SSL_ERROR_WANT_READ);
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_ERR_AGAIN); /* ServerHello..Finished, wait */
	ASSERT_EQ(wmq_tls_wants(&p.srv), WMQ_EV_READ);
	ASSERT(!wmq_tls_handshake_done(&p.srv));
	struct hs r = handshake(&p);
	ASSERT_EQ(r.srv, WMQ_OK);
	ASSERT(r.srv_again < 10); /* woken only when there was something to do */
	ASSERT_EQ(r.wants_seen & ~(uint32_t)(WMQ_EV_READ | WMQ_EV_WRITE), 0);
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_OK); /* idempotent */
	ASSERT_EQ(wmq_tls_wants(&p.srv), 0);
	exchange(&p);
	pair_close(&p);

	/* the handshake driven by wmq_conn_fill/flush alone (no explicit call) */
	pair_open(&p, ctx, &co);
	bool cdone = false;
	int i;
	for (i = 0; i < LOOP_MAX && !(cdone && wmq_tls_handshake_done(&p.srv)); i++) {
		ASSERT_EQ(wmq_conn_fill(&p.srv, 65536), WMQ_OK);
		ASSERT_EQ(p.srv.in.len, 0);
		if (!cdone) {
			int k = SSL_do_handshake(p.cli);
			cdone = k == 1;
			if (!cdone)
				ASSERT_EQ(SSL_get_error(p.cli, k), SSL_ERROR_WANT_READ);
		}
		wait_io(&p);
	}
	ASSERT(i < LOOP_MAX);
	exchange(&p);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(alpn_mqtt)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	static const unsigned char mqtt[] = "\x02h2\x04mqtt";
	static const unsigned char other[] = "\x02h2";
	struct cli_opts co = {.alpn = mqtt, .alpn_len = sizeof mqtt - 1};
	struct pair p;
	char d[128];
	const unsigned char *sel = NULL;
	unsigned int slen = 0;
	expect_ok(ctx, &co, &p);
	SSL_get0_alpn_selected(p.cli, &sel, &slen);
	ASSERT_EQ(slen, 4);
	ASSERT_MEMEQ(sel, "mqtt", 4);
	wmq_tls_describe(&p.srv, d, sizeof d);
	ASSERT(strstr(d, ", alpn mqtt") != NULL);
	pair_close(&p);
	co.alpn = other;
	co.alpn_len = sizeof other - 1;
	expect_ok(ctx, &co, &p); /* not refused, just no ALPN */
	SSL_get0_alpn_selected(p.cli, &sel, &slen);
	ASSERT_EQ(slen, 0);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(session_resumption)
{
	struct wmq_tls_opts o = srv_opts(true, true);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	for (int v = 0; v < 2; v++) {
		struct cli_opts co = {.cert = P("client.crt"), .key = P("client.key")};
		co.max_version = v ? TLS1_2_VERSION : 0;
		struct pair p;
		char id[64], d[128];
		expect_ok(ctx, &co, &p); /* the client read data, so it has its ticket */
		SSL_SESSION *sess = SSL_get1_session(p.cli);
		ASSERT(sess != NULL);
		ASSERT_EQ(SSL_SESSION_is_resumable(sess), 1);
		ASSERT(!wmq_tls_session_resumed(&p.srv));
		pair_close(&p);

		co.session = sess;
		expect_ok(ctx, &co, &p);
		ASSERT_EQ(SSL_session_reused(p.cli), 1);
		ASSERT(wmq_tls_session_resumed(&p.srv));
		wmq_tls_describe(&p.srv, d, sizeof d);
		ASSERT(strstr(d, ", resumed") != NULL);
		/* the identity survives resumption */
		ASSERT_EQ(wmq_tls_peer_identity(&p.srv, WMQ_TLS_ID_CN, id, sizeof id), WMQ_OK);
		ASSERT_STREQ(id, "client1");
		pair_close(&p);

		/* a new context (reload) does not resume the old ticket */
		struct wmq_tls_ctx *fresh = ctx_ok(&o);
		expect_ok(fresh, &co, &p);
		ASSERT(!wmq_tls_session_resumed(&p.srv));
		pair_close(&p);
		wmq_tls_ctx_free(fresh);
		SSL_SESSION_free(sess);
	}
	wmq_tls_ctx_free(ctx);
}

TEST(bulk_transfer_partial_writes_and_budgets)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {0};
	struct pair p;
	expect_ok(ctx, &co, &p);
	int small = 4096;
	ASSERT_EQ(setsockopt(p.srv.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);

	/* server -> client: 300000 bytes through a small socket buffer */
	enum { N = 300000 };
	uint8_t *src = malloc(N), *dst = malloc(N);
	ASSERT(src && dst);
	for (size_t i = 0; i < N; i++)
		src[i] = (uint8_t)(i * 7 + i / 251);
	ASSERT_EQ(wmq_conn_queue(&p.srv, src, N), WMQ_OK);
	size_t got = 0;
	int again = 0, i;
	for (i = 0; i < 20 * LOOP_MAX && got < N; i++) {
		wmq_err fe = wmq_conn_flush(&p.srv);
		ASSERT(fe == WMQ_OK || fe == WMQ_ERR_AGAIN);
		if (fe == WMQ_ERR_AGAIN) {
			again++;
			ASSERT(wmq_tls_wants(&p.srv) & WMQ_EV_WRITE);
		}
		size_t n = 0;
		while (got < N && SSL_read_ex(p.cli, dst + got, N - got, &n) == 1)
			got += n;
	}
	ASSERT_EQ(got, N);
	ASSERT_MEMEQ(dst, src, N);
	ASSERT(again > 0); /* the small buffer forced partial writes */
	ASSERT_EQ(wmq_conn_flush(&p.srv), WMQ_OK);

	/* client -> server in big records, read with a small budget: the
	 * engine's buffered bytes are reported by wmq_tls_pending() */
	size_t sent = 0, recvd = 0;
	int pending_seen = 0;
	for (i = 0; i < 20 * LOOP_MAX && recvd < N; i++) {
		size_t n = 0;
		if (sent < N && SSL_write_ex(p.cli, src + sent, N - sent, &n) == 1)
			sent += n;
		ASSERT_EQ(wmq_conn_fill(&p.srv, 1000), WMQ_OK);
		if (p.srv.in.len) {
			ASSERT(recvd + p.srv.in.len <= N);
			ASSERT_MEMEQ(p.srv.in.p, src + recvd, p.srv.in.len);
			recvd += p.srv.in.len;
			wmq_dbuf_consume(&p.srv.in, p.srv.in.len);
		}
		if (wmq_tls_pending(&p.srv)) {
			pending_seen++;
			continue; /* the socket may be empty: do not wait for it */
		}
		if (sent == N)
			wait_io(&p);
	}
	ASSERT_EQ(recvd, N);
	ASSERT(pending_seen > 0);
	free(src);
	free(dst);

	/* orderly close by the client: read returns 0 -> WMQ_ERR_CLOSED */
	ASSERT(SSL_shutdown(p.cli) >= 0);
	wmq_err fe = WMQ_OK;
	for (i = 0; i < LOOP_MAX && fe == WMQ_OK; i++) {
		fe = wmq_conn_fill(&p.srv, 1024);
		if (fe == WMQ_OK)
			wait_io(&p);
	}
	ASSERT_EQ(fe, WMQ_ERR_CLOSED);
	pair_close(&p);
	wmq_tls_ctx_free(ctx);
}

TEST(no_sigpipe_on_closed_peer)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct cli_opts co = {0};
	struct pair p;
	void (*old)(int) = signal(SIGPIPE, SIG_DFL);
	expect_ok(ctx, &co, &p);
	SSL_free(p.cli);
	p.cli = NULL;
	close(p.cfd);
	p.cfd = -1;
	wmq_err fe = WMQ_OK;
	/* the first writes may still fit in the buffer; then EPIPE */
	for (int i = 0; i < 64 && fe == WMQ_OK; i++) {
		ASSERT_EQ(wmq_conn_queue(&p.srv, "x", 1), WMQ_OK);
		fe = wmq_conn_flush(&p.srv);
	}
	ASSERT_EQ(fe, WMQ_ERR_IO);
	ASSERT_EQ(wmq_tls_failure(&p.srv), WMQ_TLS_FAIL_IO);
	pair_close(&p); /* close_notify attempt on a dead socket: no signal */
	signal(SIGPIPE, old);
	wmq_tls_ctx_free(ctx);
}

TEST(start_errors_and_allocation_failure)
{
	struct wmq_tls_opts o = srv_opts(false, false);
	struct wmq_tls_ctx *ctx = ctx_ok(&o);
	struct pair p;
	pair_open(&p, ctx, NULL);
	/* twice on one conn: refused */
	ASSERT_EQ(wmq_tls_server_start(ctx, &p.srv), WMQ_ERR_INVAL);
	pair_close(&p);
	pair_open(&p, NULL, NULL);
	wmq_alloc_fail_after(1);
	ASSERT_EQ(wmq_tls_server_start(ctx, &p.srv), WMQ_ERR_NOMEM);
	wmq_alloc_fail_after(0);
	ASSERT(!wmq_tls_is_tls(&p.srv));
	ASSERT_EQ(wmq_tls_handshake(&p.srv), WMQ_ERR_INVAL);
	pair_close(&p);
	struct wmq_tls_ctx *none = NULL;
	char err[ERRLEN];
	wmq_alloc_fail_after(1);
	ASSERT_EQ(wmq_tls_ctx_new(&o, &none, err, sizeof err), WMQ_ERR_NOMEM);
	wmq_alloc_fail_after(0);
	ASSERT(none == NULL);
	wmq_tls_ctx_free(ctx);
}

static const struct wmq_test tests[] = {
	{"setup_watchdog", setup_watchdog},
	{"ctx_errors_name_the_file", ctx_errors_name_the_file},
	{"ctx_warnings", ctx_warnings},
	{"handshake_without_client_cert", handshake_without_client_cert},
	{"client_cert_identities", client_cert_identities},
	{"optional_client_cert", optional_client_cert},
	{"certificate_failures_classified", certificate_failures_classified},
	{"crl_reload_by_new_context", crl_reload_by_new_context},
	{"client_refuses_server", client_refuses_server},
	{"version_floor", version_floor},
	{"psk_tls12_and_tls13", psk_tls12_and_tls13},
	{"psk_and_certificate_on_one_listener", psk_and_certificate_on_one_listener},
	{"plain_mqtt_to_tls_port", plain_mqtt_to_tls_port},
	{"client_hello_detector", client_hello_detector},
	{"nonblocking_step_by_step", nonblocking_step_by_step},
	{"alpn_mqtt", alpn_mqtt},
	{"session_resumption", session_resumption},
	{"bulk_transfer_partial_writes_and_budgets", bulk_transfer_partial_writes_and_budgets},
	{"no_sigpipe_on_closed_peer", no_sigpipe_on_closed_peer},
	{"start_errors_and_allocation_failure", start_errors_and_allocation_failure},
};

WMQ_TEST_MAIN(tests)
