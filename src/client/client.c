/* SPDX-License-Identifier: MIT
 * client.c - the client handle: lifetime, options, the connection state
 * machine (see client_int.h), packet output through the capped buffer,
 * timers (connect deadline, keepalive, reconnect back-off) and the
 * event-loop entry points.
 * Spec: MQTT 5.0 §3.1 (CONNECT), §3.14 (DISCONNECT), §3.1.2.10 / 3.1.1
 * §3.1.2.10 (Keep Alive), §4.9 (flow control), §4.12 (enhanced auth).
 * Threading: one thread at a time per client. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client_int.h"
#include "common/alloc.h"
#include "common/rand.h"
#include "common/time.h"
#include "common/utf8.h"

#define OUT_MAX_DEFAULT ((size_t)64 << 20)
#define MQTT_MAX_PACKET (268435455u + 5u)
#define READ_CHUNK 65536u
#define DISCONNECT_LINGER_MS 2000u

/* ---- logging ------------------------------------------------------------- */

void wmq_client_log(struct wmq_client *c, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (!c->on_log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->on_log(c, c->userdata, level, line);
}

const char *wmq_client_log_id(const struct wmq_client *c)
{
	return (c->client_id && c->client_id[0]) ? c->client_id : "(null)";
}

/* ---- lifetime ------------------------------------------------------------ */

wmq_client *wmq_client_new(void *userdata)
{
	struct wmq_client *c = wmq_calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->userdata = userdata;
	c->fd = -1;
	c->tp = &wmq_tcp_ops;
	c->opt_rc_min_ms = 1000;
	c->opt_rc_max_ms = 60000;
	c->opt_max_inflight = 20;
	c->opt_out_max = OUT_MAX_DEFAULT;
	c->opt_connect_timeout_ms = 30000;
	c->opt_log_level = WMQ_LL_INFO;
	c->opt_nodelay = true;
	c->srv_receive_max = 65535;
	c->srv_max_qos = 2;
	c->srv_retain = true;
	c->version = WMQ_V311;
	wmq_dbuf_init(&c->in, MQTT_MAX_PACKET + READ_CHUNK);
	wmq_dbuf_init(&c->out, OUT_MAX_DEFAULT);
	wmq_hmap_init(&c->alias_out);
	c->client_id = wmq_strdup("");
	c->connack_props = wmq_properties_new();
	if (!c->client_id || !c->connack_props) {
		wmq_free(c->client_id);
		wmq_properties_free(c->connack_props);
		wmq_free(c);
		return NULL;
	}
	return c;
}

static void cfg_free(struct wmq_conn_cfg *g)
{
	wmq_free(g->host);
	wmq_free(g->client_id);
	wmq_free(g->username);
	if (g->password && g->password_len)
		memset(g->password, 0, g->password_len);
	wmq_free(g->password);
	wmq_free(g->will_topic);
	wmq_free(g->will_payload);
	wmq_properties_free(g->will_props);
	wmq_properties_free(g->connect_props);
	wmq_free(g->auth_method);
	wmq_tls_cfg_free(&g->tls);
	wmq_free(g->ws_path);
	memset(g, 0, sizeof *g);
}

void wmq_client_destroy(wmq_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		c->tp->close(c);
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	wmq_tls_ctx_free(c);
	wmq_sess_clear(c);
	wmq_hmap_cleanup(&c->alias_out);
	cfg_free(&c->cfg);
	wmq_dbuf_cleanup(&c->in);
	wmq_dbuf_cleanup(&c->out);
	wmq_free(c->client_id);
	wmq_properties_free(c->connack_props);
	wmq_free(c->auth_buf);
	wmq_free(c->topic_buf);
	wmq_free(c);
}

void *wmq_client_userdata(const wmq_client *c)
{
	return c ? c->userdata : NULL;
}

void wmq_client_set_userdata(wmq_client *c, void *userdata)
{
	if (c)
		c->userdata = userdata;
}

void wmq_client_on_connect(wmq_client *c, wmq_on_connect_cb cb)
{
	c->on_connect = cb;
}
void wmq_client_on_disconnect(wmq_client *c, wmq_on_disconnect_cb cb)
{
	c->on_disconnect = cb;
}
void wmq_client_on_message(wmq_client *c, wmq_on_message_cb cb)
{
	c->on_message = cb;
}
void wmq_client_on_publish(wmq_client *c, wmq_on_publish_cb cb)
{
	c->on_publish = cb;
}
void wmq_client_on_subscribe(wmq_client *c, wmq_on_subscribe_cb cb)
{
	c->on_subscribe = cb;
}
void wmq_client_on_unsubscribe(wmq_client *c, wmq_on_unsubscribe_cb cb)
{
	c->on_unsubscribe = cb;
}
void wmq_client_on_log(wmq_client *c, wmq_on_log_cb cb)
{
	c->on_log = cb;
}
void wmq_client_on_auth(wmq_client *c, wmq_auth_cb cb)
{
	c->on_auth = cb;
}

int wmq_client_set_option(wmq_client *c, enum wmq_client_option opt, long value)
{
	if (!c || value < 0)
		return WMQ_E_INVAL;
	switch (opt) {
	case WMQ_OPT_RECONNECT:
		c->opt_reconnect = value != 0;
		return WMQ_E_OK;
	case WMQ_OPT_RECONNECT_MIN_MS:
		if (value < 1 || value > 86400000L)
			return WMQ_E_INVAL;
		c->opt_rc_min_ms = (uint32_t)value;
		return WMQ_E_OK;
	case WMQ_OPT_RECONNECT_MAX_MS:
		if (value < 1 || value > 86400000L)
			return WMQ_E_INVAL;
		c->opt_rc_max_ms = (uint32_t)value;
		return WMQ_E_OK;
	case WMQ_OPT_MAX_INFLIGHT:
		if (value > 65535)
			return WMQ_E_INVAL;
		c->opt_max_inflight = (uint16_t)value;
		return WMQ_E_OK;
	case WMQ_OPT_OUT_BUFFER_MAX:
		if (value < 1024)
			return WMQ_E_INVAL;
		c->opt_out_max = (size_t)value;
		c->out.max = (size_t)value;
		return WMQ_E_OK;
	case WMQ_OPT_TOPIC_ALIAS_OUT:
		c->opt_alias_out = value != 0;
		return WMQ_E_OK;
	case WMQ_OPT_CONNECT_TIMEOUT_MS:
		if (value < 1 || value > 86400000L)
			return WMQ_E_INVAL;
		c->opt_connect_timeout_ms = (uint32_t)value;
		return WMQ_E_OK;
	case WMQ_OPT_LOG_LEVEL:
		if (value > WMQ_LL_DEBUG)
			return WMQ_E_INVAL;
		c->opt_log_level = (int)value;
		return WMQ_E_OK;
	case WMQ_OPT_MAX_QUEUED:
		c->opt_max_queued = (size_t)value;
		return WMQ_E_OK;
	case WMQ_OPT_TCP_NODELAY:
		c->opt_nodelay = value != 0;
		return WMQ_E_OK;
	}
	return WMQ_E_INVAL;
}

/* ---- connect options -------------------------------------------------------- */

void wmq_connect_opts_init(wmq_connect_opts *o)
{
	memset(o, 0, sizeof *o);
	o->host = "localhost";
	o->port = 1883;
	o->protocol_version = WMQ_PROTOCOL_V311;
	o->clean_start = true;
	o->keepalive = 60;
	o->request_response_information = -1;
	o->request_problem_information = -1;
}

static bool utf8_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n <= max && wmq_utf8_valid((const uint8_t *)s, n);
}

static int dup_bytes(const void *p, size_t len, uint8_t **out)
{
	*out = wmq_memdup(len ? p : "", len);
	return *out ? WMQ_E_OK : WMQ_E_NOMEM;
}

/* Deep-copy and validate |o| into |g|. */
/* RFC 6455 §3 / RFC 3986 origin-form: "/" then visible ASCII, bounded. */
static bool ws_path_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 1024 || p[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7F)
			return false;
	return true;
}

static int cfg_from_opts(struct wmq_conn_cfg *g, const wmq_connect_opts *o)
{
	int rc = WMQ_E_INVAL;
	bool v5 = o->protocol_version == WMQ_PROTOCOL_V5;
	const char *host = o->host && o->host[0] ? o->host : "localhost";
	const char *id = o->client_id ? o->client_id : "";

	memset(g, 0, sizeof *g);
	if (o->protocol_version < WMQ_PROTOCOL_V31 || o->protocol_version > WMQ_PROTOCOL_V5)
		goto out;
	g->version = (uint8_t)o->protocol_version;
	if (o->port == 0 || !utf8_ok(id, 65535))
		goto out;
	/* MQTT 3.1 §3.1: the identifier is 1..23 characters */
	if (g->version == WMQ_V31 && (id[0] == '\0' || strlen(id) > 23))
		goto out;
	/* [MQTT-3.1.3-7] 3.1.1: an empty identifier needs CleanSession 1 */
	if (g->version == WMQ_V311 && id[0] == '\0' && !o->clean_start)
		goto out;
	if (o->username && !utf8_ok(o->username, 65535))
		goto out;
	if (o->password && o->password_len > 65535)
		goto out;
	/* [MQTT-3.1.2-22] 3.1.1 forbids a password without a user name */
	if (!v5 && o->password && !o->username)
		goto out;
	if (o->will_topic) {
		if (!utf8_ok(o->will_topic, 65535) ||
		    !wmq_topic_name_valid(wmq_bytes_cstr(o->will_topic)))
			goto out;
		if (o->will_qos < 0 || o->will_qos > 2 || o->will_payload_len > 65535 ||
		    (o->will_payload_len && !o->will_payload))
			goto out;
	}
	if (o->request_problem_information > 1 || o->request_response_information > 1)
		goto out;
	if (o->auth_data_len > 65535 || (o->auth_method && !utf8_ok(o->auth_method, 65535)))
		goto out;
	if (wmq_cprops_check(o->props, WMQ_CMD_CONNECT) != WMQ_E_OK ||
	    wmq_cprops_check(o->will_props, WMQ_CMD_WILL) != WMQ_E_OK)
		goto out;

	if (o->ws_path && !ws_path_ok(o->ws_path))
		goto out;
	if (o->tls && (rc = wmq_tls_cfg_copy(&g->tls, o->tls)) != WMQ_E_OK)
		goto out;
	rc = WMQ_E_NOMEM;
	g->ws = o->websocket;
	if (o->websocket && o->ws_path && !(g->ws_path = wmq_strdup(o->ws_path)))
		goto out;
	snprintf(g->port, sizeof g->port, "%u", (unsigned)o->port);
	g->host = wmq_strdup(host);
	g->client_id = wmq_strdup(id);
	if (!g->host || !g->client_id)
		goto out;
	g->clean = o->clean_start;
	g->keepalive = o->keepalive;
	if (o->username && !(g->username = wmq_strdup(o->username)))
		goto out;
	if (o->password) {
		g->has_password = true;
		g->password_len = o->password_len;
		if ((rc = dup_bytes(o->password, o->password_len, &g->password)) != WMQ_E_OK)
			goto out;
	}
	rc = o->will_props ? wmq_properties_copy(o->will_props, &g->will_props) : WMQ_E_OK;
	if (rc != WMQ_E_OK)
		goto out;
	rc = WMQ_E_NOMEM;
	if (!g->will_props && !(g->will_props = wmq_properties_new()))
		goto out;
	if (o->will_topic) {
		g->will_qos = (uint8_t)o->will_qos;
		g->will_retain = o->will_retain;
		g->will_payload_len = o->will_payload_len;
		if (!(g->will_topic = wmq_strdup(o->will_topic)))
			goto out;
		if ((rc = dup_bytes(o->will_payload, o->will_payload_len, &g->will_payload)) !=
		    WMQ_E_OK)
			goto out;
	}

	/* merged CONNECT properties: |props| first, set fields override */
	rc = o->props ? wmq_properties_copy(o->props, &g->connect_props) : WMQ_E_OK;
	if (rc != WMQ_E_OK)
		goto out;
	rc = WMQ_E_NOMEM;
	if (!g->connect_props && !(g->connect_props = wmq_properties_new()))
		goto out;
	wmq_properties *cp = g->connect_props;
	rc = WMQ_E_OK;
	if (o->session_expiry_interval)
		rc = wmq_properties_add_int(cp, WMQ_PROP_SESSION_EXPIRY, o->session_expiry_interval);
	if (rc == WMQ_E_OK && o->receive_maximum)
		rc = wmq_properties_add_int(cp, WMQ_PROP_RECEIVE_MAX, o->receive_maximum);
	if (rc == WMQ_E_OK && o->maximum_packet_size)
		rc = wmq_properties_add_int(cp, WMQ_PROP_MAX_PACKET_SIZE, o->maximum_packet_size);
	if (rc == WMQ_E_OK && o->topic_alias_maximum)
		rc = wmq_properties_add_int(cp, WMQ_PROP_TOPIC_ALIAS_MAX, o->topic_alias_maximum);
	if (rc == WMQ_E_OK && o->request_response_information >= 0)
		rc = wmq_properties_add_int(cp, WMQ_PROP_REQUEST_RESPONSE_INFO,
					    (uint32_t)o->request_response_information);
	if (rc == WMQ_E_OK && o->request_problem_information >= 0)
		rc = wmq_properties_add_int(cp, WMQ_PROP_REQUEST_PROBLEM_INFO,
					    (uint32_t)o->request_problem_information);
	if (rc == WMQ_E_OK && o->auth_method)
		rc = wmq_properties_add_string(cp, WMQ_PROP_AUTH_METHOD, o->auth_method);
	if (rc == WMQ_E_OK && o->auth_method && o->auth_data)
		rc = wmq_properties_add_binary(cp, WMQ_PROP_AUTH_DATA, o->auth_data,
					       o->auth_data_len);
	if (rc != WMQ_E_OK)
		goto out;
	/* authentication data without a method is a Protocol Error (§3.1.2.11.10) */
	if (wmq_properties_has(cp, WMQ_PROP_AUTH_DATA) && !wmq_properties_has(cp, WMQ_PROP_AUTH_METHOD)) {
		rc = WMQ_E_INVAL;
		goto out;
	}

	uint32_t v;
	g->session_expiry = wmq_properties_get_int(cp, WMQ_PROP_SESSION_EXPIRY, &v) ? v : 0;
	g->receive_max = wmq_properties_get_int(cp, WMQ_PROP_RECEIVE_MAX, &v) ? (uint16_t)v : 65535;
	g->max_packet = wmq_properties_get_int(cp, WMQ_PROP_MAX_PACKET_SIZE, &v) ? v : 0;
	g->alias_max = wmq_properties_get_int(cp, WMQ_PROP_TOPIC_ALIAS_MAX, &v) ? (uint16_t)v : 0;
	if (!v5) {
		g->session_expiry = 0;
		g->receive_max = 65535;
		g->max_packet = 0;
		g->alias_max = 0;
	}
	const void *m;
	size_t ml;
	if (v5 && wmq_properties_get_bytes(cp, WMQ_PROP_AUTH_METHOD, &m, &ml)) {
		if (!(g->auth_method = wmq_strndup(m, ml))) {
			rc = WMQ_E_NOMEM;
			goto out;
		}
	}
	rc = WMQ_E_OK;
out:
	if (rc != WMQ_E_OK)
		cfg_free(g);
	return rc;
}

/* ---- output -------------------------------------------------------------- */

/* Write buffered output until the socket would block. Errors are deferred
 * to the next entry point so that no callback runs from inside an API
 * call. */
static void flush(struct wmq_client *c)
{
	if (c->fd < 0 || !c->tcp_done || c->deferred_err)
		return;
	/* bytes the transport framed earlier go first (WebSocket) */
	wmq_err fe = c->tp->flush ? c->tp->flush(c) : WMQ_OK;
	if (fe != WMQ_OK) {
		c->deferred_err = fe == WMQ_ERR_CLOSED ? WMQ_E_CONN_LOST
			       : fe == WMQ_ERR_TLS   ? WMQ_E_TLS
						     : WMQ_E_IO;
		return;
	}
	/* bounded: each round writes bytes or stops */
	for (int i = 0; i < 1024 && c->out.len > c->out_off; i++) {
		size_t n = 0;
		wmq_err e = c->tp->write(c, c->out.p + c->out_off, c->out.len - c->out_off, &n);
		if (e == WMQ_ERR_AGAIN)
			break;
		if (e != WMQ_OK) {
			c->deferred_err = e == WMQ_ERR_CLOSED ? WMQ_E_CONN_LOST
				       : e == WMQ_ERR_TLS   ? WMQ_E_TLS
							    : WMQ_E_IO;
			break;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out.len) {
		wmq_dbuf_reset(&c->out);
		c->out_off = 0;
		wmq_dbuf_shrink(&c->out, (size_t)1 << 20);
	}
}

wmq_err wmq_client_send(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	uint8_t *area;
	size_t len = wmq_mqtt_encoded_len(c->version, pkt);
	WMQ_ENSURE(len > 0, WMQ_ERR_INVAL);
	WMQ_ENSURE(c->fd >= 0, WMQ_ERR_CLOSED);
	/* [MQTT-3.1.2-24] never send a packet larger than the server's
	 * Maximum Packet Size */
	if (pkt->type != WMQ_CONNECT && c->srv_max_packet && len > c->srv_max_packet)
		WMQ_BAIL(WMQ_ERR_PROTOCOL);
	if (c->out_off) {
		wmq_dbuf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	/* only PUBLISH is subject to the output cap: acknowledgements and
	 * control packets must never be dropped */
	size_t cap = c->out.max;
	if (pkt->type == WMQ_PUBLISH) {
		WMQ_ENSURE(len <= cap, WMQ_ERR_PROTOCOL);
	} else {
		c->out.max = SIZE_MAX;
	}
	wmq_err e = wmq_dbuf_reserve(&c->out, len, &area);
	c->out.max = cap;
	WMQ_TRY(e);
	struct wmq_wr w = wmq_wr_make(area, len);
	e = wmq_mqtt_encode(&w, c->version, pkt);
	WMQ_ENSURE(e == WMQ_OK && w.pos == len, WMQ_ERR_INVAL);
	c->out.len += len;
	c->last_out_ms = wmq_now_ms();
	flush(c);
	return WMQ_OK;
}

/* ---- closing and reconnecting ----------------------------------------------- */

static bool permanent_refusal(int err, int reason)
{
	if (err == WMQ_E_AUTH || err == WMQ_E_INVAL)
		return true;
	if (err != WMQ_E_CONN_REFUSED)
		return false;
	switch (reason) {
	case WMQ_RC_UNSUPPORTED_VERSION:
	case WMQ_RC_CLIENT_ID_INVALID:
	case WMQ_RC_BAD_USER_OR_PASSWORD:
	case WMQ_RC_NOT_AUTHORIZED:
	case WMQ_RC_BANNED:
	case WMQ_RC_BAD_AUTH_METHOD:
		return true;
	default:
		return false;
	}
}

void wmq_client_close(struct wmq_client *c, int err, int reason, bool by_server,
		      const wmq_properties *props)
{
	int saved_errno = errno;
	if (err == WMQ_E_IO)
		c->sys_errno = saved_errno;
	if (c->fd >= 0)
		c->tp->close(c);
	c->fd = -1;
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai_next = NULL;
	c->tcp_done = false;
	/* |in| keeps its memory: |props| may borrow from it during
	 * on_disconnect (it is given back in process_input) */
	wmq_dbuf_reset(&c->in);
	wmq_dbuf_reset(&c->out);
	wmq_dbuf_shrink(&c->out, 0);
	c->out_off = 0;
	c->wr_shut = false;
	c->ping_outstanding = false;
	c->deadline_ms = 0;
	c->deferred_err = 0;
	c->in_reauth = false;
	wmq_sess_req_clear(c);
	wmq_sess_alias_reset(c);
	c->conn_gen++;
	if (c->connect_outcome == 0)
		c->connect_outcome = err ? err : WMQ_E_CONN_LOST;

	wmq_disconnect_info info = {
		.error = err,
		.reason_code = reason,
		.by_server = by_server,
		.props = props,
	};
	if (!c->user_disconnect && c->opt_reconnect && c->have_cfg &&
	    !permanent_refusal(err, reason)) {
		uint32_t delay = wmq_backoff_delay_ms(c->opt_rc_min_ms, c->opt_rc_max_ms,
						      c->reconnect_attempt, wmq_rand_below(UINT32_MAX));
		if (c->reconnect_attempt < 64)
			c->reconnect_attempt++;
		c->state = CS_WAIT_RECONNECT;
		c->reconnect_at_ms = wmq_now_ms() + delay;
		info.will_reconnect = true;
		info.reconnect_delay_ms = delay;
	} else {
		c->state = CS_IDLE;
	}
	c->call_err = err;
	c->last_close_err = err;
	if (err == WMQ_E_OK)
		CLOG(c, WMQ_LL_DEBUG, "Client %s disconnected", wmq_client_log_id(c));
	else
		CLOG(c, WMQ_LL_NOTICE, "Client %s connection ended: %s (reason %d)%s",
		     wmq_client_log_id(c), wmq_strerror(err), reason,
		     info.will_reconnect ? ", reconnecting" : "");
	if (c->on_disconnect)
		c->on_disconnect(c, c->userdata, &info);
	/* nothing borrows from |in| any more (callers return at once) */
	if (c->in.len == 0)
		wmq_dbuf_shrink(&c->in, 0);
	errno = saved_errno;
}

void wmq_client_fail(struct wmq_client *c, int err, uint8_t rc)
{
	if (c->version == WMQ_V5 && c->fd >= 0 && c->tcp_done && !c->wr_shut &&
	    (c->state == CS_MQTT_CONNECTING || c->state == CS_CONNECTED)) {
		struct wmq_pkt pkt = {.type = WMQ_DISCONNECT};
		pkt.u.disconnect.rc = rc;
		if (wmq_client_send(c, &pkt) == WMQ_OK)
			CLOG(c, WMQ_LL_DEBUG, "Client %s sending DISCONNECT (%d)", wmq_client_log_id(c),
			     rc);
	}
	wmq_client_close(c, err, rc, false, NULL);
}

/* ---- connecting ------------------------------------------------------------ */

static wmq_err send_connect(struct wmq_client *c)
{
	const struct wmq_conn_cfg *g = &c->cfg;
	struct wmq_pkt pkt = {.type = WMQ_CONNECT};
	struct wmq_connect *k = &pkt.u.connect;
	k->version = g->version;
	/* A resumed session: after the first accepted CONNACK, reconnects ask
	 * the server to keep the session whenever it can outlive a
	 * connection (3.1.1 clean session 0, or v5 session expiry > 0). */
	k->clean = g->clean;
	if (g->version == WMQ_V5 && c->session_known && g->session_expiry > 0)
		k->clean = false;
	c->clean_sent = k->clean;
	k->keepalive = g->keepalive;
	/* a server-assigned id is reused so that the session can resume */
	k->client_id = wmq_bytes_cstr(g->client_id[0] ? g->client_id : c->client_id);
	k->props = *wmq_cprops_wire(g->connect_props);
	if (g->will_topic) {
		k->will = true;
		k->will_qos = g->will_qos;
		k->will_retain = g->will_retain;
		k->will_props = *wmq_cprops_wire(g->will_props);
		k->will_topic = wmq_bytes_cstr(g->will_topic);
		k->will_payload = (struct wmq_bytes){g->will_payload, g->will_payload_len};
	}
	if (g->username) {
		k->has_username = true;
		k->username = wmq_bytes_cstr(g->username);
	}
	if (g->has_password) {
		k->has_password = true;
		k->password = (struct wmq_bytes){g->password, g->password_len};
	}
	WMQ_TRY(wmq_client_send(c, &pkt));
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending CONNECT", wmq_client_log_id(c));
	return WMQ_OK;
}

/* TCP is up: queue CONNECT and wait for CONNACK. */
static void tcp_connected(struct wmq_client *c)
{
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai_next = NULL;
	c->state = CS_MQTT_CONNECTING;
	c->in.max = (c->cfg.max_packet ? c->cfg.max_packet : MQTT_MAX_PACKET) + READ_CHUNK;
	if (send_connect(c) != WMQ_OK)
		wmq_client_close(c, WMQ_E_INVAL, 0, false, NULL);
}

/* A WebSocket upgrade step; on completion CONNECT is queued. */
static void ws_step(struct wmq_client *c)
{
	wmq_err e = wmq_wsc_handshake(c);
	if (e == WMQ_OK)
		tcp_connected(c);
	else if (e != WMQ_ERR_AGAIN)
		wmq_client_close(c, e == WMQ_ERR_TLS ? WMQ_E_TLS : WMQ_E_PROTOCOL, 0, false, NULL);
}

/* The byte stream is up (TCP, or TLS over it): start the WebSocket
 * upgrade if configured, else queue CONNECT. */
static void stream_up(struct wmq_client *c)
{
	if (!c->cfg.ws) {
		tcp_connected(c);
		return;
	}
	if (wmq_wsc_start(c) != WMQ_OK) {
		wmq_client_close(c, WMQ_E_NOMEM, 0, false, NULL);
		return;
	}
	ws_step(c);
}

/* A TLS handshake step; on completion the next layer starts. */
static void tls_step(struct wmq_client *c)
{
	wmq_err e = wmq_tls_handshake(c);
	if (e == WMQ_OK)
		stream_up(c);
	else if (e != WMQ_ERR_AGAIN)
		wmq_client_close(c, WMQ_E_TLS, 0, false, NULL);
}

/* TCP is up: start TLS if configured, else the next layer. */
static void transport_up(struct wmq_client *c)
{
	if (!c->cfg.tls.on) {
		stream_up(c);
		return;
	}
	if (wmq_tls_start(c) != WMQ_OK) {
		wmq_client_close(c, WMQ_E_TLS, 0, false, NULL);
		return;
	}
	tls_step(c);
}

/* Resolve and start the TCP connect. Returns a public code; on failure
 * nothing is open. */
static int start_connect(struct wmq_client *c)
{
	struct addrinfo hints, *list = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	int g = getaddrinfo(c->cfg.host, c->cfg.port, &hints, &list);
	if (g != 0 || !list) {
		CLOG(c, WMQ_LL_ERROR, "Client %s cannot resolve %s: %s", wmq_client_log_id(c),
		     c->cfg.host, gai_strerror(g));
		if (list)
			freeaddrinfo(list);
		return WMQ_E_LOOKUP;
	}
	if (c->ai_list)
		freeaddrinfo(c->ai_list);
	c->ai_list = c->ai_next = list;
	c->version = c->cfg.version;
	c->srv_receive_max = 65535;
	c->srv_max_packet = 0;
	c->srv_alias_max = 0;
	c->srv_max_qos = 2;
	c->srv_retain = true;
	c->keepalive = c->cfg.keepalive;
	c->deferred_err = 0;
	c->wr_shut = false;
	c->tcp_errno = 0;
	wmq_dbuf_reset(&c->in);
	if (wmq_tcp_start(c) != WMQ_OK) {
		int saved = errno;
		freeaddrinfo(c->ai_list);
		c->ai_list = c->ai_next = NULL;
		c->sys_errno = saved;
		CLOG(c, WMQ_LL_ERROR, "Client %s cannot connect to %s:%s: %s", wmq_client_log_id(c),
		     c->cfg.host, c->cfg.port, strerror(saved));
		errno = saved;
		return WMQ_E_CONNECT_FAILED;
	}
	c->state = CS_TCP_CONNECTING;
	c->deadline_ms = wmq_now_ms() + c->opt_connect_timeout_ms;
	if (c->tcp_done)
		transport_up(c);
	return WMQ_E_OK;
}

int wmq_client_connect(wmq_client *c, const wmq_connect_opts *opts)
{
	struct wmq_conn_cfg g;
	if (!c || !opts)
		return WMQ_E_INVAL;
	if (c->state != CS_IDLE && c->state != CS_WAIT_RECONNECT)
		return WMQ_E_STATE;
	int rc = cfg_from_opts(&g, opts);
	if (rc != WMQ_E_OK)
		return rc;
	char *id = wmq_strdup(g.client_id);
	if (!id) {
		cfg_free(&g);
		return WMQ_E_NOMEM;
	}
	/* a different client identity starts a different session */
	if (c->have_cfg && strcmp(g.client_id, c->cfg.client_id) != 0)
		c->session_known = false;
	if (g.clean)
		c->session_known = false;
	cfg_free(&c->cfg);
	c->cfg = g;
	c->have_cfg = true;
	wmq_free(c->client_id);
	c->client_id = id;
	c->user_disconnect = false;
	c->reconnect_attempt = 0;
	c->connect_outcome = 0;
	c->connack_rc = 0;
	c->state = CS_IDLE;
	c->tls_err[0] = '\0';
	wmq_tls_ctx_free(c);
	if (c->cfg.tls.on && wmq_tls_prepare(c) != WMQ_OK) {
		c->connect_outcome = WMQ_E_TLS;
		return WMQ_E_TLS;
	}
	rc = start_connect(c);
	if (rc != WMQ_E_OK)
		c->connect_outcome = rc;
	return rc;
}

void wmq_client_connected(struct wmq_client *c, const struct wmq_connack *ca)
{
	const struct wmq_props *p = &ca->props;
	struct wmq_properties view;
	wmq_cprops_view(&view, c->version == WMQ_V5 ? p : NULL);
	uint32_t gen = c->conn_gen;

	c->state = CS_CONNECTED;
	c->deadline_ms = 0;
	c->reconnect_attempt = 0;
	if (c->version == WMQ_V5) {
		c->srv_receive_max = wmq_props_has(p, WMQ_PROP_RECEIVE_MAX) ? p->receive_max : 65535;
		c->srv_max_packet = wmq_props_has(p, WMQ_PROP_MAX_PACKET_SIZE) ? p->max_packet_size : 0;
		c->srv_alias_max = wmq_props_has(p, WMQ_PROP_TOPIC_ALIAS_MAX) ? p->topic_alias_max : 0;
		c->srv_max_qos = wmq_props_has(p, WMQ_PROP_MAX_QOS) ? p->max_qos : 2;
		c->srv_retain = wmq_props_has(p, WMQ_PROP_RETAIN_AVAILABLE) ? p->retain_available != 0
									   : true;
		/* [MQTT-3.2.2-21] the Server Keep Alive replaces ours */
		if (wmq_props_has(p, WMQ_PROP_SERVER_KEEP_ALIVE))
			c->keepalive = p->server_keep_alive;
		if (wmq_props_has(p, WMQ_PROP_ASSIGNED_CLIENT_ID)) {
			char *id = wmq_strndup((const char *)p->assigned_client_id.p,
					       p->assigned_client_id.len);
			if (id) {
				wmq_free(c->client_id);
				c->client_id = id;
			}
		}
	}
	wmq_properties *copy = NULL;
	if (wmq_properties_copy(&view, &copy) == WMQ_E_OK) {
		wmq_properties_free(c->connack_props);
		c->connack_props = copy;
	}
	c->session_known = true;
	c->connect_outcome = 1;
	CLOG(c, WMQ_LL_DEBUG, "Client %s received CONNACK (%d)", wmq_client_log_id(c), ca->rc);
	wmq_sess_resume(c, ca->session_present);
	if (c->conn_gen != gen)
		return;
	if (c->on_connect)
		c->on_connect(c, c->userdata, 0, ca->session_present, &view);
}

wmq_err wmq_client_send_auth(struct wmq_client *c, uint8_t rc, const void *data, size_t len,
			     const wmq_properties *props)
{
	struct wmq_pkt pkt = {.type = WMQ_AUTH};
	pkt.u.auth.rc = rc;
	pkt.u.auth.props = *wmq_cprops_wire(props);
	struct wmq_props *p = &pkt.u.auth.props;
	WMQ_ENSURE(c->cfg.auth_method != NULL, WMQ_ERR_INVAL);
	p->present |= WMQ_PROP_BIT(WMQ_PROP_AUTH_METHOD);
	p->auth_method = wmq_bytes_cstr(c->cfg.auth_method);
	if (len) {
		p->present |= WMQ_PROP_BIT(WMQ_PROP_AUTH_DATA);
		p->auth_data = (struct wmq_bytes){data, len};
	} else {
		p->present &= ~WMQ_PROP_BIT(WMQ_PROP_AUTH_DATA);
	}
	WMQ_TRY(wmq_client_send(c, &pkt));
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending AUTH (rc%d, %zu bytes)", wmq_client_log_id(c), rc,
	     len);
	return WMQ_OK;
}

/* ---- public connection calls ------------------------------------------------ */

static void begin_disconnect_close(struct wmq_client *c)
{
	/* DISCONNECT is out: half-close and wait (briefly) for the server to
	 * close, so that unread data on our side cannot turn the close into
	 * a reset that might discard the DISCONNECT at the server */
	if (c->tp->shutdown)
		c->tp->shutdown(c);
	c->wr_shut = true;
	c->deadline_ms = wmq_now_ms() + DISCONNECT_LINGER_MS;
}

int wmq_client_disconnect(wmq_client *c, int reason_code, const wmq_properties *props)
{
	if (!c || reason_code < 0 || reason_code > 255)
		return WMQ_E_INVAL;
	c->user_disconnect = true;
	switch (c->state) {
	case CS_IDLE:
		return WMQ_E_NO_CONN;
	case CS_WAIT_RECONNECT:
		c->state = CS_IDLE;
		return WMQ_E_NO_CONN;
	case CS_DISCONNECTING:
		return WMQ_E_OK;
	case CS_TCP_CONNECTING:
	case CS_MQTT_CONNECTING:
		wmq_client_close(c, WMQ_E_OK, reason_code, false, NULL);
		return WMQ_E_OK;
	case CS_CONNECTED:
		break;
	}
	wmq_properties *tmp = NULL;
	if (props && c->version == WMQ_V5) {
		if (wmq_cprops_check(props, WMQ_CMD_DISCONNECT) != WMQ_E_OK)
			return WMQ_E_INVAL;
		int rc = wmq_properties_copy(props, &tmp);
		if (rc != WMQ_E_OK)
			return rc;
	}
	struct wmq_pkt pkt = {.type = WMQ_DISCONNECT};
	pkt.u.disconnect.rc = (uint8_t)reason_code;
	if (c->version == WMQ_V5)
		pkt.u.disconnect.props = *wmq_cprops_wire(tmp);
	wmq_err e = wmq_client_send(c, &pkt);
	wmq_properties_free(tmp);
	c->disconnect_rc = (uint8_t)reason_code;
	c->state = CS_DISCONNECTING;
	/* time to flush what is queued before DISCONNECT; the linger for
	 * the server's close starts when it is out (begin_disconnect_close) */
	c->deadline_ms = wmq_now_ms() + c->opt_connect_timeout_ms;
	if (e != WMQ_OK) {
		wmq_client_close(c, WMQ_E_OK, reason_code, false, NULL);
		return WMQ_E_OK;
	}
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending DISCONNECT", wmq_client_log_id(c));
	if (c->out.len == c->out_off && !wmq_wsc_want_write(c) && !c->deferred_err)
		begin_disconnect_close(c);
	return WMQ_E_OK;
}

bool wmq_client_is_connected(const wmq_client *c)
{
	return c && c->state == CS_CONNECTED;
}

const char *wmq_client_id(const wmq_client *c)
{
	return c && c->client_id ? c->client_id : "";
}

int wmq_client_sys_errno(const wmq_client *c)
{
	return c ? c->sys_errno : 0;
}

const char *wmq_client_tls_error(const wmq_client *c)
{
	return c ? c->tls_err : "";
}

int wmq_client_protocol_version(const wmq_client *c)
{
	return c ? c->version : 0;
}

const wmq_properties *wmq_client_connack_properties(const wmq_client *c)
{
	return c ? c->connack_props : NULL;
}

int wmq_client_reauthenticate(wmq_client *c, const void *data, size_t len,
			      const wmq_properties *props)
{
	if (!c || len > 65535 || (len && !data))
		return WMQ_E_INVAL;
	if (c->state != CS_CONNECTED)
		return WMQ_E_NO_CONN;
	if (c->version != WMQ_V5 || !c->cfg.auth_method)
		return WMQ_E_NOT_SUPPORTED;
	if (c->in_reauth)
		return WMQ_E_STATE;
	wmq_properties *tmp = NULL;
	if (props) {
		if (wmq_cprops_check(props, WMQ_CMD_AUTH) != WMQ_E_OK)
			return WMQ_E_INVAL;
		int rc = wmq_properties_copy(props, &tmp);
		if (rc != WMQ_E_OK)
			return rc;
	}
	/* §4.12.1: re-authentication starts with AUTH 0x19 */
	wmq_err e = wmq_client_send_auth(c, WMQ_RC_REAUTHENTICATE, data, len, tmp);
	wmq_properties_free(tmp);
	if (e != WMQ_OK)
		return wmq_client_err_public(e);
	c->in_reauth = true;
	return WMQ_E_OK;
}

size_t wmq_client_pending_count(const wmq_client *c)
{
	return c ? c->om_count : 0;
}

/* ---- event-loop entry points ------------------------------------------------ */

int wmq_client_fd(const wmq_client *c)
{
	return c ? c->fd : -1;
}

bool wmq_client_want_write(const wmq_client *c)
{
	if (!c || c->fd < 0)
		return false;
	if (c->deferred_err)
		return true;
	if (c->state == CS_TCP_CONNECTING) {
		if (c->tls_hs)
			return c->tls_hs_want_write;
		if (wmq_wsc_handshaking(c))
			return wmq_wsc_want_write(c) || c->tls_rd_want_write;
		return true;
	}
	if (c->tls_rd_want_write)
		return true;
	if (c->tls_wr_want_read)
		return false; /* SSL_write waits for readability */
	return c->out.len > c->out_off || wmq_wsc_want_write(c);
}

static int64_t due_in(uint64_t at, uint64_t now)
{
	return at > now ? (int64_t)(at - now) : 0;
}

int wmq_client_next_timeout_ms(const wmq_client *c)
{
	if (!c)
		return -1;
	uint64_t now = wmq_now_ms();
	int64_t t = -1;
	if (c->deferred_err || wmq_tls_pending(c) || wmq_wsc_pending(c))
		return 0;
	switch (c->state) {
	case CS_IDLE:
		return -1;
	case CS_WAIT_RECONNECT:
		t = due_in(c->reconnect_at_ms, now);
		break;
	case CS_TCP_CONNECTING:
	case CS_MQTT_CONNECTING:
	case CS_DISCONNECTING:
		if (c->deadline_ms)
			t = due_in(c->deadline_ms, now);
		break;
	case CS_CONNECTED:
		if (c->keepalive) {
			uint64_t ka = (uint64_t)c->keepalive * 1000u;
			t = c->ping_outstanding ? due_in(c->ping_sent_ms + ka, now)
						: due_in(c->last_out_ms + ka, now);
		}
		break;
	}
	if (t > INT32_MAX)
		t = INT32_MAX;
	return (int)t;
}

/* The error for a connection that closed under us. A TLS 1.3 server checks
 * our certificate after our side of the handshake is done, and its alert
 * can be lost in a reset when CONNECT crosses it: a close before CONNACK
 * over certificate TLS is then reported as the TLS refusal it most likely
 * is. */
static int lost_err(struct wmq_client *c)
{
	if (c->state != CS_MQTT_CONNECTING || !c->cfg.tls.on || c->cfg.tls.psk)
		return WMQ_E_CONN_LOST;
	snprintf(c->tls_err, sizeof c->tls_err,
		 "connection closed by the server before CONNACK (client certificate %s?)",
		 c->cfg.tls.certfile ? "refused" : "required");
	CLOG(c, WMQ_LL_ERROR, "Client %s TLS error: %s", wmq_client_log_id(c), c->tls_err);
	return WMQ_E_TLS;
}

/* Run the packets now complete in the input buffer. */
static void process_input(struct wmq_client *c)
{
	uint32_t gen = c->conn_gen;
	size_t off = 0;
	/* bounded: each round consumes one whole packet or stops */
	while (off < c->in.len) {
		uint8_t first;
		uint32_t body;
		size_t hdr;
		wmq_err e = wmq_mqtt_frame(c->in.p + off, c->in.len - off, &first, &body, &hdr);
		if (e == WMQ_ERR_AGAIN)
			break;
		if (e != WMQ_OK) {
			CLOG(c, WMQ_LL_ERROR, "Client %s received a malformed packet",
			     wmq_client_log_id(c));
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_MALFORMED);
			return;
		}
		size_t total = hdr + body;
		/* [MQTT-3.2.2-15]-style guard on our side: a packet above our
		 * Maximum Packet Size is refused before it is buffered */
		if (c->cfg.max_packet && total > c->cfg.max_packet) {
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PACKET_TOO_LARGE);
			return;
		}
		if (c->in.len - off < total)
			break;
		if (c->state == CS_DISCONNECTING) {
			off += total; /* we are leaving: input is discarded */
			continue;
		}
		struct wmq_pkt pkt;
		uint8_t rc = 0;
		memset(&pkt, 0, sizeof pkt);
		e = wmq_mqtt_decode(c->version, true, first, c->in.p + off + hdr, body, &pkt, &rc);
		if (e != WMQ_OK) {
			CLOG(c, WMQ_LL_ERROR, "Client %s received an invalid packet (type %u): %s",
			     wmq_client_log_id(c), first >> 4, wmq_rc_str(rc));
			wmq_client_fail(c, WMQ_E_PROTOCOL, rc ? rc : WMQ_RC_PROTOCOL_ERROR);
			return;
		}
		wmq_client_handle(c, &pkt);
		if (c->conn_gen != gen)
			return;
		off += total;
	}
	wmq_dbuf_consume(&c->in, off);
	/* no packet borrows from |in| here: give back a buffer a large
	 * packet left behind */
	if (c->in.len == 0)
		wmq_dbuf_shrink(&c->in, 2 * READ_CHUNK);
}

static void do_readable(struct wmq_client *c)
{
	uint32_t gen = c->conn_gen;
	if (c->fd < 0)
		return;
	if (c->state == CS_TCP_CONNECTING) {
		if (c->tls_hs)
			tls_step(c);
		else if (wmq_wsc_handshaking(c))
			ws_step(c);
		return;
	}
	/* bounded: at most 64 reads per call keep other work fair */
	for (int i = 0; i < 64; i++) {
		uint8_t *area;
		size_t room = c->in.max - c->in.len;
		if (room > READ_CHUNK)
			room = READ_CHUNK;
		if (room == 0 || wmq_dbuf_reserve(&c->in, room, &area) != WMQ_OK) {
			wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
			return;
		}
		size_t got = 0;
		wmq_err e = c->tp->read(c, area, room, &got);
		if (e == WMQ_ERR_AGAIN)
			return;
		if (e == WMQ_ERR_CLOSED) {
			if (c->state == CS_DISCONNECTING)
				wmq_client_close(c, WMQ_E_OK, c->disconnect_rc, false, NULL);
			else
				wmq_client_close(c, lost_err(c), 0, false, NULL);
			return;
		}
		if (e == WMQ_ERR_TLS && c->state != CS_DISCONNECTING) {
			wmq_client_close(c, WMQ_E_TLS, 0, false, NULL);
			return;
		}
		if (e == WMQ_ERR_PROTOCOL && c->state != CS_DISCONNECTING) {
			/* a WebSocket framing error (text in c->tls_err) */
			wmq_client_close(c, WMQ_E_PROTOCOL, 0, false, NULL);
			return;
		}
		if (e != WMQ_OK) {
			wmq_client_close(c, c->state == CS_DISCONNECTING ? WMQ_E_OK : WMQ_E_IO,
					 c->state == CS_DISCONNECTING ? c->disconnect_rc : 0, false,
					 NULL);
			return;
		}
		c->in.len += got;
		process_input(c);
		if (c->conn_gen != gen || c->fd < 0)
			return;
		if (got < room)
			return; /* drained the socket */
	}
}

static void do_writable(struct wmq_client *c)
{
	if (c->fd < 0)
		return;
	if (c->state == CS_TCP_CONNECTING && c->tls_hs) {
		tls_step(c);
		if (c->fd < 0 || c->state == CS_TCP_CONNECTING)
			return;
	} else if (c->state == CS_TCP_CONNECTING && wmq_wsc_handshaking(c)) {
		ws_step(c);
		if (c->fd < 0 || c->state == CS_TCP_CONNECTING)
			return;
	} else if (c->state == CS_TCP_CONNECTING) {
		wmq_err e = wmq_tcp_finish(c);
		if (e == WMQ_ERR_AGAIN)
			return;
		if (e != WMQ_OK) {
			/* next address of the list, if any */
			CLOG(c, WMQ_LL_INFO, "Client %s connect attempt failed: %s",
			     wmq_client_log_id(c), strerror(c->tcp_errno));
			if (wmq_tcp_start(c) != WMQ_OK) {
				c->sys_errno = c->tcp_errno;
				wmq_client_close(c, WMQ_E_CONNECT_FAILED, 0, false, NULL);
				return;
			}
			if (!c->tcp_done)
				return;
		}
		transport_up(c);
		if (c->fd < 0 || c->state == CS_TCP_CONNECTING)
			return;
	}
	if (c->tls_rd_want_write) {
		/* SSL_read was waiting for writability: read again */
		uint32_t gen = c->conn_gen;
		do_readable(c);
		if (c->conn_gen != gen || c->fd < 0)
			return;
	}
	flush(c);
	if (c->deferred_err) {
		int err = c->deferred_err;
		if (c->state == CS_DISCONNECTING)
			wmq_client_close(c, WMQ_E_OK, c->disconnect_rc, false, NULL);
		else
			wmq_client_close(c, err == WMQ_E_CONN_LOST ? lost_err(c) : err, 0, false,
					 NULL);
		return;
	}
	if (c->state == CS_DISCONNECTING) {
		if (c->out.len == c->out_off && !wmq_wsc_want_write(c) && !c->wr_shut)
			begin_disconnect_close(c);
		return;
	}
	if (c->state == CS_CONNECTED && c->out.len == c->out_off)
		wmq_sess_pump(c);
}

static void do_timeout(struct wmq_client *c)
{
	uint64_t now = wmq_now_ms();
	if (c->deferred_err && c->fd >= 0) {
		do_writable(c);
		return;
	}
	if (wmq_tls_pending(c) || wmq_wsc_pending(c)) {
		uint32_t gen = c->conn_gen;
		do_readable(c);
		if (c->conn_gen != gen)
			return;
	}
	switch (c->state) {
	case CS_IDLE:
		return;
	case CS_WAIT_RECONNECT:
		if (now >= c->reconnect_at_ms) {
			CLOG(c, WMQ_LL_INFO, "Client %s reconnecting (attempt %u)", wmq_client_log_id(c),
			     c->reconnect_attempt);
			c->connect_outcome = 0;
			int rc = start_connect(c);
			if (rc != WMQ_E_OK)
				wmq_client_close(c, rc, 0, false, NULL);
		}
		return;
	case CS_TCP_CONNECTING:
	case CS_MQTT_CONNECTING:
		if (c->deadline_ms && now >= c->deadline_ms)
			wmq_client_close(c, WMQ_E_TIMEOUT, 0, false, NULL);
		return;
	case CS_DISCONNECTING:
		if (c->deadline_ms && now >= c->deadline_ms)
			wmq_client_close(c, WMQ_E_OK, c->disconnect_rc, false, NULL);
		return;
	case CS_CONNECTED:
		break;
	}
	if (!c->keepalive)
		return;
	uint64_t ka = (uint64_t)c->keepalive * 1000u;
	if (c->ping_outstanding) {
		/* no PINGRESP within another keepalive period: the server or
		 * the path is gone ([MQTT-3.1.2-24]'s client-side counterpart) */
		if (now - c->ping_sent_ms >= ka)
			wmq_client_close(c, WMQ_E_KEEPALIVE, 0, false, NULL);
		return;
	}
	if (now - c->last_out_ms >= ka) {
		struct wmq_pkt pkt = {.type = WMQ_PINGREQ};
		if (wmq_client_send(c, &pkt) == WMQ_OK) {
			CLOG(c, WMQ_LL_DEBUG, "Client %s sending PINGREQ", wmq_client_log_id(c));
			c->ping_outstanding = true;
			c->ping_sent_ms = now;
		}
	}
}

int wmq_client_on_readable(wmq_client *c)
{
	if (!c)
		return WMQ_E_INVAL;
	c->call_err = WMQ_E_OK;
	uint32_t gen = c->conn_gen;
	do_readable(c);
	/* SSL_write was waiting for readability: flush now */
	if (c->conn_gen == gen && c->fd >= 0 && c->tls_wr_want_read)
		do_writable(c);
	return c->call_err;
}

int wmq_client_on_writable(wmq_client *c)
{
	if (!c)
		return WMQ_E_INVAL;
	c->call_err = WMQ_E_OK;
	do_writable(c);
	return c->call_err;
}

int wmq_client_on_timeout(wmq_client *c)
{
	if (!c)
		return WMQ_E_INVAL;
	c->call_err = WMQ_E_OK;
	do_timeout(c);
	return c->call_err;
}
