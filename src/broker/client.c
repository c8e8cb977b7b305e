/* SPDX-License-Identifier: MIT
 * client.c - one network connection: framing, limits, the CONNECT state
 * machine and the handlers of every packet a client may send.
 * Limits apply before authentication: a small packet limit and a deadline
 * until CONNECT has completed, then the configured maximum packet size.
 * Closing is deferred: wmq_client_close() takes the connection out of the
 * event loop at once, and wmq_client_free() runs after the loop turn, where
 * the will is published and the session detached (deliver.c is not
 * reentrant). On `protocol websockets` listeners the conn's transport is the
 * WebSocket layer (net/ws.h) over TCP or TLS: the upgrade runs inside the
 * first reads (state NEW, under connect_timeout), refusals and framing
 * violations are logged here, and TLS queries go through
 * wmq_ws_with_inner(). Threading: the owning worker. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "common/rand.h"
#include "common/time.h"
#include "common/utf8.h"
#include "security/authn.h"

#define READ_BUDGET (64u * 1024u)
#define RC_NONE 0xff /* close without sending anything */

static const char *cid_or_dash(const struct wmq_client *c)
{
	return c->client_id ? c->client_id : "-";
}

void wmq_client_mark_dirty(struct wmq_client *c)
{
	if (c->dirty || c->state == WMQ_CL_CLOSED)
		return;
	c->dirty = true;
	c->dirty_next = c->b->dirty_head;
	c->b->dirty_head = c;
}

wmq_err wmq_client_send(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	if (c->state == WMQ_CL_CLOSED)
		return WMQ_OK;
	size_t len = wmq_mqtt_encoded_len(c->version ? c->version : WMQ_V311, pkt);
	uint8_t *area;
	WMQ_TRY(wmq_conn_reserve(&c->conn, len, &area));
	struct wmq_wr w = wmq_wr_make(area, len);
	WMQ_TRY(wmq_mqtt_encode(&w, c->version ? c->version : WMQ_V311, pkt));
	WMQ_ENSURE(w.pos == len, WMQ_ERR_INTERNAL);
	wmq_conn_commit(&c->conn, len);
	if (pkt->type == WMQ_PUBLISH)
		c->b->stats.pub_sent++;
	wmq_client_mark_dirty(c);
	return WMQ_OK;
}

void wmq_client_flush(struct wmq_client *c)
{
	if (c->state == WMQ_CL_CLOSED)
		return;
	uint64_t before = c->conn.bytes_out;
	wmq_err rc = wmq_conn_flush(&c->conn);
	/* WebSocket: the layer's own replies (pong, close) count as output */
	if (rc == WMQ_OK && c->listener->ws && wmq_ws_pending(&c->conn))
		rc = wmq_ws_flush(&c->conn);
	c->b->stats.bytes_sent += c->conn.bytes_out - before;
	if (rc == WMQ_OK) {
		if (c->want_write) {
			c->want_write = false;
			if (wmq_ev_mod(c->b->ev, &c->h, WMQ_EV_READ) != WMQ_OK) {
				wmq_client_close(c, RC_NONE, "event loop error");
				return;
			}
		}
		if (c->closing_sent) {
			wmq_client_close(c, RC_NONE, NULL);
			return;
		}
		/* The socket took everything: continue the session's queue
		 * (messages that waited because the buffer was full). What the
		 * pump writes is flushed in the next round of the turn. */
		if (c->state == WMQ_CL_CONNECTED && c->session && c->session->queue.head)
			wmq_session_pump(c->b, c->session);
	} else if (rc == WMQ_ERR_AGAIN) {
		if (!c->want_write) {
			c->want_write = true;
			if (wmq_ev_mod(c->b->ev, &c->h, WMQ_EV_READ | WMQ_EV_WRITE) != WMQ_OK)
				wmq_client_close(c, RC_NONE, "event loop error");
		}
	} else {
		wmq_client_close(c, RC_NONE, "write error");
	}
}

/* Send a v5 DISCONNECT (with a reason string unless the client asked for no
 * problem information, [MQTT-3.1.2-29] allows it on DISCONNECT anyway). */
static void send_disconnect(struct wmq_client *c, uint8_t rc, const char *why)
{
	struct wmq_pkt pkt;
	memset(&pkt, 0, sizeof pkt);
	pkt.type = WMQ_DISCONNECT;
	pkt.u.disconnect.rc = rc;
	if (why) {
		pkt.u.disconnect.props.present |= WMQ_PROP_BIT(WMQ_PROP_REASON_STRING);
		pkt.u.disconnect.props.reason_string = wmq_bytes_cstr(why);
		/* [MQTT-3.14.2-3] drop it if the packet would exceed the limit */
		if (wmq_mqtt_encoded_len(WMQ_V5, &pkt) > c->peer_max_packet)
			pkt.u.disconnect.props.present = 0;
	}
	if (wmq_client_send(c, &pkt) != WMQ_OK) {
		/* the connection is being closed anyway */
	}
}

void wmq_client_close(struct wmq_client *c, uint8_t rc, const char *why)
{
	struct wmq_broker *b = c->b;
	if (c->state == WMQ_CL_CLOSED)
		return;
	if (why)
		WMQ_LOG(&b->log, rc == WMQ_RC_SUCCESS || rc == RC_NONE ? WMQ_LOG_INFO : WMQ_LOG_NOTICE,
			"client %s [%s] disconnected: %s", cid_or_dash(c), c->conn.peer, why);
	/* [MQTT-4.13.1-1] a v5 server may send DISCONNECT with a reason code
	 * before closing, but only after CONNACK. */
	if (rc != RC_NONE && c->version == WMQ_V5 && c->state == WMQ_CL_CONNECTED)
		send_disconnect(c, rc, why);
	/* Best effort: push out what is pending (the DISCONNECT) now. */
	if (wmq_conn_pending(&c->conn) && wmq_conn_flush(&c->conn) != WMQ_OK) {
		/* whatever did not fit is lost with the connection */
	}
	wmq_ev_del(b->ev, &c->h);
	if (c->state == WMQ_CL_CONNECTED && b->nconnected)
		b->nconnected--;
	c->state = WMQ_CL_CLOSED;
	c->dead_next = b->dead_head;
	b->dead_head = c;
}


/* The will is checked again when it is sent (DESIGN.md §5): the policy may
 * have changed since CONNECT. */
static bool will_allowed(struct wmq_client *c)
{
	struct wmq_policy_decision d;
	struct wmq_bytes wt = wmq_bytes_cstr(c->will->topic);
	return wmq_security_check(c, WMQ_ACT_PUBLISH, wt, c->will->qos, "will", &d) &&
	       (!c->will->retain || wmq_security_check(c, WMQ_ACT_RETAIN, wt, c->will->qos, "will", &d));
}

void wmq_client_free(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	uint64_t now = wmq_now_ms();
	struct wmq_session *s = c->session;
	if (s && s->client == c) {
		if (c->will) {
			if (c->will_delay == 0) {
				/* [MQTT-3.1.2-8] published when the connection
				 * closes without DISCONNECT 0x00 */
				if (will_allowed(c))
					wmq_broker_publish_will(b, c->will);
			} else {
				/* [MQTT-3.1.3-9] delayed: kept in the session */
				s->will = c->will;
				c->will = NULL;
				/* checked again with this principal when sent */
				wmq_authz_free(s->will_authz);
				s->will_authz = c->authz;
				c->authz = NULL;
				s->will_at = now + (uint64_t)c->will_delay * 1000u;
			}
		}
		wmq_session_detach(b, s, now);
	} else if (c->taken_over && c->will && c->will_delay == 0) {
		/* Taken over: the new connection exists, so only an
		 * undelayed will goes out ([MQTT-3.1.3-9]). */
		if (will_allowed(c))
			wmq_broker_publish_will(b, c->will);
	}
	/* unlink from the all-clients list */
	if (c->prev)
		c->prev->next = c->next;
	else if (b->clients == c)
		b->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	b->nclients--;
	if (c->listener)
		c->listener->nconn--;
	wmq_persist_held_unlink(b, c);
	wmq_security_forget(c);
	wmq_authz_free(c->authz);
	wmq_free(c->held);
	wmq_msg_unref(c->will);
	if (!c->session)
		wmq_free(c->client_id);
	wmq_free(c->username);
	if (c->alias_in) {
		for (size_t i = 0; i <= b->cfg.max_topic_alias && i <= c->alias_in_n; i++)
			wmq_free(c->alias_in[i]);
		wmq_free(c->alias_in);
	}
	for (size_t i = 0; i < c->alias_out_n; i++)
		wmq_free(c->alias_out_topics[i]);
	wmq_free(c->alias_out_topics);
	if (c->alias_out) {
		wmq_hmap_cleanup(c->alias_out);
		wmq_free(c->alias_out);
	}
	wmq_conn_cleanup(&c->conn);
	wmq_free(c);
}

void wmq_client_accept(struct wmq_listener *l, int fd, const char *peer, const struct wmq_addr *addr,
		       enum wmq_defence_verdict refuse)
{
	struct wmq_broker *b = l->b;
	struct wmq_client *c = wmq_calloc(1, sizeof *c);
	if (!c) {
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "out of memory accepting %s", peer);
		close(fd);
		return;
	}
	c->b = b;
	c->listener = l;
	c->accepted_at = c->last_rx = wmq_now_ms();
	c->peer_receive_max = 65535;
	c->peer_max_packet = 268435455u + 5u;
	if (addr) {
		c->addr = *addr;
		c->has_addr = true;
	}
	c->refuse = (uint8_t)refuse;
	/* Until CONNECT completes only a small packet is accepted. */
	wmq_conn_init(&c->conn, fd, &wmq_transport_tcp, peer,
		      (size_t)b->cfg.max_packet_size_pre_connect + 5u,
		      (size_t)b->cfg.max_write_buffer + (size_t)b->cfg.max_packet_size + 65536u);
	if (l->tls && wmq_tls_server_start(l->tls, &c->conn) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "cannot start TLS for %s", peer);
		wmq_conn_cleanup(&c->conn);
		wmq_free(c);
		return;
	}
	/* wss: the WebSocket layer wraps the TLS transport (ws.h). */
	if (l->ws && wmq_ws_server_start(&c->conn, &l->ws_opts) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "cannot start WebSocket for %s", peer);
		wmq_conn_cleanup(&c->conn);
		wmq_free(c);
		return;
	}
	if (wmq_ev_add(b->ev, &c->h, fd, WMQ_EV_READ, wmq_client_on_event, c) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "cannot watch connection from %s", peer);
		wmq_conn_cleanup(&c->conn);
		wmq_free(c);
		return;
	}
	if (b->cfg.set_tcp_nodelay)
		wmq_sock_nodelay(fd, true);
	c->next = b->clients;
	if (b->clients)
		b->clients->prev = c;
	b->clients = c;
	b->nclients++;
	l->nconn++;
	WMQ_LOG(&b->log, WMQ_LOG_DEBUG, "new connection from %s on port %u", peer, l->bound_port);
}

/* ---- CONNECT ------------------------------------------------------------ */

/* Refuse a CONNECT: v5 CONNACK with the reason code, 3.1.1/3.1 CONNACK with
 * the mapped return code, then close. */
static void connack_fail(struct wmq_client *c, uint8_t rc, const char *why)
{
	struct wmq_pkt pkt;
	memset(&pkt, 0, sizeof pkt);
	pkt.type = WMQ_CONNACK;
	pkt.u.connack.rc = rc;
	if (c->version == WMQ_V5 && why) {
		pkt.u.connack.props.present |= WMQ_PROP_BIT(WMQ_PROP_REASON_STRING);
		pkt.u.connack.props.reason_string = wmq_bytes_cstr(why);
	}
	c->b->stats.connects_refused++;
	if (wmq_client_send(c, &pkt) != WMQ_OK) {
		/* the connection is being closed anyway */
	}
	WMQ_LOG(&c->b->log, WMQ_LOG_NOTICE, "connection from %s refused (client %s): %s (0x%02x)",
		c->conn.peer, cid_or_dash(c), why ? why : wmq_rc_str(rc), rc);
	wmq_client_close(c, RC_NONE, NULL);
}

void wmq_client_refuse(struct wmq_client *c, uint8_t rc, const char *why)
{
	connack_fail(c, rc, why);
}

static bool topic_within_limits(const struct wmq_broker *b, struct wmq_bytes t)
{
	return t.len <= b->cfg.max_topic_length && wmq_topic_levels(t) <= b->cfg.max_topic_levels;
}

static wmq_err assign_client_id(struct wmq_client *c)
{
	uint8_t rnd[12];
	char id[128];
	WMQ_TRY(wmq_rand_bytes(rnd, sizeof rnd));
	int n = snprintf(id, sizeof id, "%s", c->b->cfg.auto_id_prefix ? c->b->cfg.auto_id_prefix : "");
	for (size_t i = 0; i < sizeof rnd && n > 0 && (size_t)n + 2 < sizeof id; i++)
		n += snprintf(id + n, sizeof id - (size_t)n, "%02x", rnd[i]);
	c->client_id = wmq_strdup(id);
	WMQ_ENSURE(c->client_id != NULL, WMQ_ERR_NOMEM);
	return WMQ_OK;
}

static void finish_connect(struct wmq_client *c);
static void process_input(struct wmq_client *c);
static void ws_opened(struct wmq_client *c);

/* TLS queries run on the TLS transport; on wss it sits under the WebSocket
 * layer, so they go through wmq_ws_with_inner() (plain call otherwise). */
struct tls_identity_call {
	enum wmq_tls_identity which;
	bool psk;      /* PSK listener: the PSK identity first */
	bool from_psk; /* out: |id| is a PSK identity */
	wmq_err rc;
	const char *err;
	char id[1024];
};

static void tls_identity_fn(struct wmq_conn *conn, void *arg)
{
	struct tls_identity_call *q = arg;
	q->rc = WMQ_ERR_NOTFOUND;
	if (q->psk) {
		q->rc = wmq_tls_psk_identity(conn, q->id, sizeof q->id);
		q->from_psk = q->rc == WMQ_OK;
	}
	if (q->rc == WMQ_ERR_NOTFOUND)
		q->rc = wmq_tls_peer_identity(conn, q->which, q->id, sizeof q->id);
	q->err = q->rc == WMQ_OK ? "" : wmq_tls_last_error(conn);
}

struct tls_view {
	bool done, pending;
	uint32_t wants;
	enum wmq_tls_fail fail;
	const char *err;
};

static void tls_view_fn(struct wmq_conn *conn, void *arg)
{
	struct tls_view *v = arg;
	v->done = wmq_tls_handshake_done(conn);
	v->pending = wmq_tls_pending(conn);
	v->wants = wmq_tls_wants(conn);
	v->fail = wmq_tls_failure(conn);
	v->err = wmq_tls_last_error(conn);
}

static struct tls_view tls_view(struct wmq_client *c)
{
	struct tls_view v;
	memset(&v, 0, sizeof v);
	wmq_ws_with_inner(&c->conn, tls_view_fn, &v);
	return v;
}

static void handle_connect(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	struct wmq_broker *b = c->b;
	const struct wmq_connect *con = &pkt->u.connect;
	bool assigned = false;
	uint16_t server_keepalive = 0;

	c->version = con->version;
	if (c->refuse == WMQ_DEFENCE_RATE_LIMITED) {
		/* Found at accept. [MQTT-3.2.2-6]/[MQTT-3.2.2-7] a v5 CONNACK
		 * with a reason code >= 0x80, then close: 0x9F (Connection rate
		 * exceeded). 3.1.1 has no return code for it ([MQTT-3.2.2-4]
		 * lists the only ones), so the connection is closed without
		 * CONNACK ([MQTT-3.2.2-5] permits closing). */
		if (c->version == WMQ_V5) {
			connack_fail(c, WMQ_RC_CONNECTION_RATE_EXCEEDED, "connection rate exceeded");
		} else {
			c->b->stats.connects_refused++;
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "connection from %s refused: connection rate exceeded",
				c->conn.peer);
			wmq_client_close(c, RC_NONE, NULL);
		}
		return;
	}
	if (c->refuse == WMQ_DEFENCE_BANNED) {
		/* address ban or lock-out found at accept: v5 0x8A (Banned),
		 * 3.1.1 return code 5 (Not authorized) */
		connack_fail(c, WMQ_RC_BANNED, "banned");
		return;
	}
	if (c->listener->cfg.use_identity_as_username && c->listener->tls) {
		/* The verified certificate (or the PSK identity on a PSK
		 * connection) names the client; the CONNECT username is
		 * ignored (mosquitto's use_identity_as_username). The identity
		 * is UTF-8 without '+' or '#' (checked by the TLS engine). */
		struct tls_identity_call q = {
			.which = (enum wmq_tls_identity)c->listener->cfg.identity_source,
			.psk = c->listener->cfg.psk_hint != NULL,
			.rc = WMQ_ERR_INTERNAL,
		};
		char *id = q.id;
		/* wss: the TLS functions see the wrapped transport (ws.h) */
		wmq_ws_with_inner(&c->conn, tls_identity_fn, &q);
		if (q.rc == WMQ_OK && q.from_psk) {
			/* an identity added with a user (wardmq_ctl psk add
			 * --user) logs in as that user */
			const char *pu = wmq_security_psk_user(b, id);
			if (pu && strlen(pu) < sizeof q.id)
				memmove(id, pu, strlen(pu) + 1);
		}
		if (q.rc != WMQ_OK) {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
				"connection from %s: no usable certificate or PSK identity: %s", c->conn.peer, q.err);
			connack_fail(c, WMQ_RC_NOT_AUTHORIZED, "certificate identity refused");
			return;
		}
		c->username = wmq_strdup(id);
		c->cert_authenticated = true;
	} else if (con->has_username) {
		c->username = wmq_strndup((const char *)con->username.p, con->username.len);
	}
	if ((c->cert_authenticated || con->has_username) && !c->username) {
		connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
		return;
	}
	if (con->props.n_user > b->cfg.max_user_properties ||
	    con->will_props.n_user > b->cfg.max_user_properties) {
		connack_fail(c, WMQ_RC_QUOTA_EXCEEDED, "too many user properties");
		return;
	}
	if (con->client_id.len == 0) {
		/* [MQTT-3.1.3-8] 3.1.1: a zero-length id needs clean session;
		 * [MQTT-3.1.3-6] otherwise the server assigns one. */
		if (c->version != WMQ_V5 && !con->clean) {
			connack_fail(c, WMQ_RC_CLIENT_ID_INVALID,
				     "zero-length client id requires clean session");
			return;
		}
		if (!b->cfg.allow_zero_length_clientid) {
			connack_fail(c, WMQ_RC_CLIENT_ID_INVALID, "zero-length client id not allowed");
			return;
		}
		if (assign_client_id(c) != WMQ_OK) {
			connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
			return;
		}
		assigned = true;
	} else {
		c->client_id = wmq_strndup((const char *)con->client_id.p, con->client_id.len);
		if (!c->client_id) {
			connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
			return;
		}
	}
	/* Bans (client id as sent, username, address), lock-outs and the
	 * back-off: before any credential is verified. */
	struct wmq_defence_hit hit;
	uint64_t backoff_ms = 0;
	switch (wmq_security_check_login(c, con->client_id, &hit)) {
	case WMQ_DEFENCE_BANNED:
		connack_fail(c, WMQ_RC_BANNED, "banned");
		return;
	case WMQ_DEFENCE_BACKOFF:
		backoff_ms = hit.wait_ms ? hit.wait_ms : 1;
		break;
	default:
		break;
	}
	c->keepalive = con->keepalive;
	c->pend.clean = con->clean;
	c->pend.assigned = assigned;
	if (con->version == WMQ_V5 && wmq_props_has(&con->props, WMQ_PROP_SESSION_EXPIRY)) {
		c->pend.has_session_expiry = true;
		c->pend.session_expiry = con->props.session_expiry;
	}
	if (con->keepalive > b->cfg.max_keepalive) {
		if (c->version == WMQ_V5) {
			/* [MQTT-3.2.2-21] the client must use Server Keep Alive */
			server_keepalive = b->cfg.max_keepalive;
			c->keepalive = server_keepalive;
		} else {
			/* 3.1.1 cannot tell the client: refuse, as mosquitto does */
			connack_fail(c, WMQ_RC_CLIENT_ID_INVALID, "keepalive above max_keepalive");
			return;
		}
	}
	if (c->version == WMQ_V5) {
		const struct wmq_props *p = &con->props;
		if (wmq_props_has(p, WMQ_PROP_RECEIVE_MAX))
			c->peer_receive_max = p->receive_max;
		if (wmq_props_has(p, WMQ_PROP_MAX_PACKET_SIZE))
			c->peer_max_packet = p->max_packet_size;
		if (wmq_props_has(p, WMQ_PROP_TOPIC_ALIAS_MAX))
			c->peer_alias_max = p->topic_alias_max;
		/* [MQTT-3.1.2-28] default 1: problem information wanted */
		c->req_problem_info = !wmq_props_has(p, WMQ_PROP_REQUEST_PROBLEM_INFO) ||
				      p->request_problem_info;
		c->req_response_info = wmq_props_has(p, WMQ_PROP_REQUEST_RESPONSE_INFO) &&
				       p->request_response_info;
		if (wmq_props_has(p, WMQ_PROP_AUTH_METHOD)) {
			/* Enhanced authentication: routed to the mechanism
			 * registry; no mechanism is registered in this build. */
			const struct wmq_authn_mech *m =
				wmq_authn_find(&b->authn, p->auth_method.p, p->auth_method.len);
			if (!m) {
				connack_fail(c, WMQ_RC_BAD_AUTH_METHOD,
					     "authentication method not supported");
				return;
			}
		}
	}
	if (con->will) {
		struct wmq_bytes wt = con->will_topic;
		if (con->will_qos > b->cfg.max_qos) {
			/* [MQTT-3.2.2-12] */
			connack_fail(c, WMQ_RC_QOS_NOT_SUPPORTED, "will QoS above maximum QoS");
			return;
		}
		if (con->will_retain && !b->cfg.retain_available) {
			/* [MQTT-3.2.2-13] */
			connack_fail(c, WMQ_RC_RETAIN_NOT_SUPPORTED, "retain not available");
			return;
		}
		if (!topic_within_limits(b, wt)) {
			connack_fail(c, WMQ_RC_TOPIC_NAME_INVALID, "will topic exceeds limits");
			return;
		}
		if (c->version == WMQ_V5 && wmq_props_has(&con->will_props, WMQ_PROP_PAYLOAD_FORMAT) &&
		    con->will_props.payload_format == 1 &&
		    !wmq_utf8_valid(con->will_payload.p, con->will_payload.len)) {
			connack_fail(c, WMQ_RC_PAYLOAD_FORMAT_INVALID, "will payload is not UTF-8");
			return;
		}
		if (wmq_msg_new(wt, con->will_payload, c->version == WMQ_V5 ? &con->will_props : NULL,
				con->will_qos, con->will_retain, c->client_id, c->username,
				wmq_now_ms(), wmq_broker_next_id(b), &c->will) != WMQ_OK) {
			connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
			return;
		}
		/* The will's Message Expiry counts from when it is published
		 * (set again in wmq_broker_publish_will). */
		c->will->expire_at = 0;
		if (c->version == WMQ_V5 && wmq_props_has(&con->will_props, WMQ_PROP_WILL_DELAY))
			c->will_delay = con->will_props.will_delay;
	}
	c->pend.server_keepalive = server_keepalive;
	if (c->cert_authenticated) {
		/* The TLS handshake authenticated the client; with a store,
		 * the pool still reads its groups, roles and binding. */
		if (!b->authpool)
			finish_connect(c);
		else if (!wmq_security_submit(c, c->username, (struct wmq_bytes){NULL, 0}, false, true, 0))
			connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
		return;
	}
	/* Authentication. With a store, a username or password is verified on
	 * the auth pool (DESIGN.md §4: never on the worker) and the
	 * connection waits in CL_AUTH; anonymous clients go there too when
	 * allowed, for the client-id binding and their principal. Without a
	 * store only anonymous access exists (a username is not checked). */
	bool creds = con->has_username || con->has_password;
	if (!creds && !c->listener->cfg.allow_anonymous) {
		wmq_security_audit_authn(c, "anonymous access not allowed");
		connack_fail(c, WMQ_RC_NOT_AUTHORIZED, "not authorized");
		return;
	}
	if (!b->authpool) {
		if (!c->listener->cfg.allow_anonymous) {
			connack_fail(c, WMQ_RC_NOT_AUTHORIZED, "not authorized");
			return;
		}
		finish_connect(c);
		return;
	}
	uint64_t hold = 0;
	if (creds && backoff_ms) {
		/* Back-off after failed logins: hold the CONNECT until it ends
		 * (verified then), or refuse it unverified when the wait is
		 * longer than auth_max_hold_ms (or half the connect timeout),
		 * or another CONNECT from this address is already held. The
		 * answer is the same as for a wrong password: no oracle. */
		uint64_t limit = b->cfg.auth_max_hold_ms;
		if (limit > b->cfg.connect_timeout_ms / 2u)
			limit = b->cfg.connect_timeout_ms / 2u;
		if (backoff_ms > limit || wmq_security_holding(c)) {
			wmq_security_backoff_refused(c, backoff_ms);
			connack_fail(c, WMQ_RC_BAD_USER_OR_PASSWORD, "bad username or password");
			return;
		}
		hold = backoff_ms;
		b->stats.backoff_held++;
	}
	c->pw_attempt = creds;
	if (!wmq_security_submit(c, creds ? c->username : NULL, con->password, con->has_password, !creds, hold))
		connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
}

void wmq_client_auth_done(struct wmq_client *c, const struct wmq_authpool_job *j)
{
	struct wmq_broker *b = c->b;
	if (!j->ok) {
		/* No oracle (DESIGN.md §5): an unknown user, a disabled user, a
		 * wrong password and a client id bound to someone else all get
		 * the same code and the same words. */
		b->stats.auth_refused++;
		if (!j->failed) /* a store error is not the client's failure */
			wmq_security_login_result(c, false);
		wmq_security_audit_authn(c, j->failed ? "error" : "bad username or password");
		connack_fail(c, WMQ_RC_BAD_USER_OR_PASSWORD, "bad username or password");
		return;
	}
	if (c->pw_attempt)
		wmq_security_login_result(c, true);
	if (wmq_security_principal(c, j) != WMQ_OK) {
		connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
		return;
	}
	c->pw_authenticated = !j->anonymous; /* live revocation (security.c) */
	c->cred_tag = j->cred_tag;
	if (c->will) {
		/* The will is checked when registered (and again when sent). */
		struct wmq_policy_decision d;
		struct wmq_bytes wt = wmq_bytes_cstr(c->will->topic);
		if (!wmq_security_check(c, WMQ_ACT_PUBLISH, wt, c->will->qos, "will", &d) ||
		    (c->will->retain && !wmq_security_check(c, WMQ_ACT_RETAIN, wt, c->will->qos, "will", &d))) {
			connack_fail(c, WMQ_RC_NOT_AUTHORIZED, "will not authorized");
			return;
		}
	}
	finish_connect(c);
	/* Packets the client sent after CONNECT waited in the buffer. */
	if (c->state == WMQ_CL_CONNECTED && c->conn.in.len)
		process_input(c);
}

/* Authentication succeeded: only now may this connection take over an
 * existing session (DESIGN.md §5: an unauthenticated peer can never kick a
 * client by reusing its id). */
static void finish_connect(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	const struct wmq_connect_pend *con = &c->pend;
	bool assigned = con->assigned;
	uint16_t server_keepalive = con->server_keepalive;
	struct wmq_session *s = wmq_hmap_get(&b->sessions, c->client_id, strlen(c->client_id));
	bool present = false;

	if (s && s->client) {
		/* [MQTT-3.1.4-3] take-over: the old connection gets 0x8E */
		struct wmq_client *old = s->client;
		s->client = NULL;
		/* The old connection lets go of the session now: the session
		 * may end below (clean start) before the old one is freed. */
		old->session = NULL;
		old->client_id = wmq_strdup(s->client_id);
		old->taken_over = true;
		wmq_client_close(old, WMQ_RC_SESSION_TAKEN_OVER, "session taken over");
		if (old->will && old->will_delay > 0) {
			if (con->clean) {
				/* clean start ends the old session, and the
				 * will goes out when the session ends
				 * ([MQTT-3.1.2-8]) */
				old->will_delay = 0;
			} else {
				/* a new connection arrived before the delay
				 * ended: no will ([MQTT-3.1.3-9]) */
				wmq_msg_unref(old->will);
				old->will = NULL;
			}
		}
	}
	if (s && con->clean) {
		/* [MQTT-3.1.2-4] clean start discards the existing session */
		wmq_session_end(b, s);
		s = NULL;
	}
	if (!s) {
		if (wmq_session_new(b, c->client_id, &s) != WMQ_OK) {
			connack_fail(c, WMQ_RC_SERVER_BUSY, "out of memory");
			return;
		}
	} else {
		present = true; /* [MQTT-3.2.2-2] */
	}
	s->version = c->version;
	if (c->version == WMQ_V5) {
		s->expiry_interval = con->has_session_expiry ? con->session_expiry : 0;
	} else if (con->clean) {
		s->expiry_interval = 0;
	} else {
		int64_t e = b->cfg.persistent_client_expiration;
		s->expiry_interval = e < 0 ? WMQ_EXPIRY_NEVER
					   : (e >= (int64_t)WMQ_EXPIRY_NEVER ? WMQ_EXPIRY_NEVER - 1
									     : (uint32_t)e);
	}
	wmq_free(s->username);
	s->username = c->username ? wmq_strdup(c->username) : NULL;
	wmq_session_attach(b, s, c);
	wmq_persist_session(b, s); /* stores it, or deletes a stored one now expiry 0 */
	wmq_free(c->client_id);
	c->client_id = s->client_id;
	c->session = s;
	c->state = WMQ_CL_CONNECTED;
	b->nconnected++;
	b->stats.clients_total_connected_ever++;
	c->conn.in.max = (size_t)b->cfg.max_packet_size + 5u;

	if (c->peer_alias_max) {
		size_t n = c->peer_alias_max < 256 ? c->peer_alias_max : 256;
		c->alias_out_topics = wmq_calloc(n, sizeof(char *));
		if (!c->alias_out_topics)
			c->peer_alias_max = 0;
	}

	struct wmq_pkt pkt;
	char resp[300];
	memset(&pkt, 0, sizeof pkt);
	pkt.type = WMQ_CONNACK;
	pkt.u.connack.session_present = present;
	if (c->version == WMQ_V5) {
		struct wmq_props *p = &pkt.u.connack.props;
		if (assigned) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_ASSIGNED_CLIENT_ID);
			p->assigned_client_id = wmq_bytes_cstr(c->client_id);
		}
		if (server_keepalive) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_SERVER_KEEP_ALIVE);
			p->server_keep_alive = server_keepalive;
		}
		if (b->cfg.max_inflight_messages < 65535) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_RECEIVE_MAX);
			p->receive_max = b->cfg.max_inflight_messages;
		}
		if (b->cfg.max_packet_size < 268435455u) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_MAX_PACKET_SIZE);
			p->max_packet_size = b->cfg.max_packet_size;
		}
		if (b->cfg.max_topic_alias) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS_MAX);
			p->topic_alias_max = b->cfg.max_topic_alias;
		}
		if (!b->cfg.retain_available) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_RETAIN_AVAILABLE);
			p->retain_available = 0;
		}
		if (b->cfg.max_qos < 2) {
			p->present |= WMQ_PROP_BIT(WMQ_PROP_MAX_QOS);
			p->max_qos = b->cfg.max_qos;
		}
		if (c->req_response_info) {
			/* Response Information: a topic prefix the client may
			 * use for response topics (MQTT 5.0 §4.10). */
			snprintf(resp, sizeof resp, "response/%s", c->client_id);
			p->present |= WMQ_PROP_BIT(WMQ_PROP_RESPONSE_INFO);
			p->response_info = wmq_bytes_cstr(resp);
		}
	}
	if (wmq_client_send(c, &pkt) != WMQ_OK) {
		wmq_client_close(c, RC_NONE, "cannot queue CONNACK");
		return;
	}
	WMQ_LOG(&b->log, WMQ_LOG_INFO, "new client connected from %s as %s (p%u, c%d, k%u%s%s%s)",
		c->conn.peer, c->client_id, c->version, con->clean ? 1 : 0, c->keepalive,
		c->username ? ", u'" : "", c->username ? c->username : "", c->username ? "'" : "");
	if (present) {
		wmq_security_resumed(c); /* rules may have changed while away */
		wmq_session_resend(b, s);
		wmq_session_pump(b, s);
	}
}

/* Peek at the protocol name and level of a CONNECT body that failed to
 * decode, to answer in the right version. Returns 0 if unknown. */
static uint8_t peek_version(const uint8_t *body, size_t len)
{
	if (len >= 7 && body[0] == 0 && body[1] == 4 && memcmp(body + 2, "MQTT", 4) == 0)
		return body[6];
	if (len >= 9 && body[0] == 0 && body[1] == 6 && memcmp(body + 2, "MQIsdp", 6) == 0)
		return body[8];
	return 0;
}

/* ---- PUBLISH and acknowledgements -------------------------------------- */

static void send_ack(struct wmq_client *c, uint8_t type, uint16_t pid, uint8_t rc)
{
	struct wmq_pkt pkt;
	memset(&pkt, 0, sizeof pkt);
	pkt.type = type;
	pkt.u.ack.packet_id = pid;
	pkt.u.ack.rc = c->version == WMQ_V5 ? rc : 0;
	if (wmq_client_send(c, &pkt) != WMQ_OK)
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
}

/* Send an acknowledgement now, or queue it behind held ones: acks of one
 * connection go out in order ([MQTT-4.6.0-2]); |durable| ones wait for the
 * store commit of this turn (persist.c). */
static void ack_or_hold(struct wmq_client *c, uint8_t type, uint16_t pid, uint8_t rc, bool durable)
{
	if (!durable && c->nheld == 0) {
		send_ack(c, type, pid, rc);
		return;
	}
	if (wmq_persist_hold_ack(c->b, c, type, pid, rc, durable) != WMQ_OK)
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "out of memory");
}

/* A protocol violation after CONNACK: v5 DISCONNECT with |rc|, 3.1.1 close. */
static void violation(struct wmq_client *c, uint8_t rc, const char *why)
{
	c->b->stats.malformed += rc == WMQ_RC_MALFORMED;
	wmq_client_close(c, rc, why);
}

/* The listener's deny action for a PUBLISH the policy refuses. */
static void deny_publish(struct wmq_client *c, const struct wmq_publish *p)
{
	if (c->listener->cfg.deny_action == WMQ_DENY_DISCONNECT) {
		/* v5: DISCONNECT 0x87 (MQTT 5.0 §3.14.2.1); 3.1.1: close */
		wmq_client_close(c, WMQ_RC_NOT_AUTHORIZED, "publish not authorized");
		return;
	}
	/* v5: 0x87 ends the QoS 1/2 flow ([MQTT-4.3.3-4]: a PUBREC with a
	 * reason code >= 0x80 needs no PUBREL); 3.1.1 has no reason codes:
	 * the message is acknowledged and dropped. QoS 0: dropped. */
	if (p->qos == 1)
		ack_or_hold(c, WMQ_PUBACK, p->packet_id, WMQ_RC_NOT_AUTHORIZED, false);
	else if (p->qos == 2)
		ack_or_hold(c, WMQ_PUBREC, p->packet_id, WMQ_RC_NOT_AUTHORIZED, false);
}

static void handle_publish(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	struct wmq_broker *b = c->b;
	const struct wmq_publish *p = &pkt->u.publish;
	struct wmq_bytes topic = p->topic;
	uint8_t ackrc = WMQ_RC_SUCCESS;

	b->stats.pub_received++;
	b->stats.msgs_received++;
	if (p->qos > b->cfg.max_qos) {
		/* [MQTT-3.2.2-11] QoS above Maximum QoS */
		violation(c, WMQ_RC_QOS_NOT_SUPPORTED, "QoS not supported");
		return;
	}
	if (p->retain && !b->cfg.retain_available) {
		/* [MQTT-3.3.1-... ] MQTT 5.0 §3.2.2.3.5: 0x9A */
		violation(c, WMQ_RC_RETAIN_NOT_SUPPORTED, "retain not supported");
		return;
	}
	if (c->version == WMQ_V5 && wmq_props_has(&p->props, WMQ_PROP_TOPIC_ALIAS)) {
		uint16_t a = p->props.topic_alias;
		/* [MQTT-3.3.2-9] 0 or above our Topic Alias Maximum */
		if (a == 0 || a > b->cfg.max_topic_alias) {
			violation(c, WMQ_RC_TOPIC_ALIAS_INVALID, "topic alias invalid");
			return;
		}
		if (!c->alias_in) {
			/* allocated on first use: most connections never
			 * use aliases, and idle ones should stay small */
			c->alias_in = wmq_calloc((size_t)b->cfg.max_topic_alias + 1, sizeof(char *));
			if (!c->alias_in) {
				violation(c, WMQ_RC_SERVER_BUSY, "out of memory");
				return;
			}
			c->alias_in_n = b->cfg.max_topic_alias;
		}
		if (topic.len) {
			if (!topic_within_limits(b, topic)) {
				violation(c, WMQ_RC_TOPIC_NAME_INVALID, "topic exceeds limits");
				return;
			}
			char *t = wmq_strndup((const char *)topic.p, topic.len);
			if (!t) {
				violation(c, WMQ_RC_SERVER_BUSY, "out of memory");
				return;
			}
			wmq_free(c->alias_in[a]);
			c->alias_in[a] = t;
		} else if (!c->alias_in[a]) {
			/* MQTT 5.0 §3.3.2.3.4: an alias not yet mapped */
			violation(c, WMQ_RC_PROTOCOL_ERROR, "topic alias not set");
			return;
		} else {
			topic = wmq_bytes_cstr(c->alias_in[a]);
		}
	}
	if (topic.len == 0) {
		/* [MQTT-3.3.2-1] a topic name is required without an alias */
		violation(c, c->version == WMQ_V5 ? WMQ_RC_PROTOCOL_ERROR : WMQ_RC_MALFORMED,
			  "empty topic");
		return;
	}
	if (!topic_within_limits(b, topic)) {
		violation(c, WMQ_RC_TOPIC_NAME_INVALID, "topic exceeds limits");
		return;
	}
	if (p->props.n_user > b->cfg.max_user_properties) {
		violation(c, WMQ_RC_QUOTA_EXCEEDED, "too many user properties");
		return;
	}
	if (c->version == WMQ_V5 && wmq_props_has(&p->props, WMQ_PROP_PAYLOAD_FORMAT) &&
	    p->props.payload_format == 1 && !wmq_utf8_valid(p->payload.p, p->payload.len)) {
		/* MQTT 5.0 §3.3.2.3.2: the receiver may check; 0x99 */
		if (p->qos == 0)
			violation(c, WMQ_RC_PAYLOAD_FORMAT_INVALID, "payload is not UTF-8");
		else
			send_ack(c, p->qos == 1 ? WMQ_PUBACK : WMQ_PUBREC, p->packet_id,
				 WMQ_RC_PAYLOAD_FORMAT_INVALID);
		return;
	}
	/* Authorization (DESIGN.md §5): publish, and retain for RETAIN=1. */
	struct wmq_policy_decision d;
	if (!wmq_security_check(c, WMQ_ACT_PUBLISH, topic, p->qos, "publish", &d) ||
	    (p->retain && !wmq_security_check(c, WMQ_ACT_RETAIN, topic, p->qos, "retain", &d))) {
		deny_publish(c, p);
		return;
	}
	bool known_qos2 = false;
	if (p->qos == 2) {
		known_qos2 = wmq_session_in_qos2_has(c->session, p->packet_id);
		if (known_qos2 && p->dup) {
			/* [MQTT-4.3.3-9] a resent QoS 2 PUBLISH is not
			 * delivered again; acknowledge it again. Without DUP
			 * it is a new message reusing an id whose PUBREL-
			 * removal may not have reached the store before a
			 * restart ([MQTT-3.3.1-1]: resends carry DUP). */
			ack_or_hold(c, WMQ_PUBREC, p->packet_id, WMQ_RC_SUCCESS, false);
			return;
		}
		if (!known_qos2 && c->session->n_in_qos2 >= b->cfg.max_inflight_messages) {
			/* MQTT 5.0 §3.3.4: more than Receive Maximum
			 * unacknowledged QoS 2 publications: 0x93 */
			violation(c, WMQ_RC_RECEIVE_MAX_EXCEEDED, "receive maximum exceeded");
			return;
		}
	}
	struct wmq_msg *msg = NULL;
	if (wmq_msg_new(topic, p->payload, c->version == WMQ_V5 ? &p->props : NULL, p->qos,
			p->retain, c->client_id, c->username, b->now, wmq_broker_next_id(b),
			&msg) != WMQ_OK) {
		if (p->qos)
			send_ack(c, p->qos == 1 ? WMQ_PUBACK : WMQ_PUBREC, p->packet_id,
				 WMQ_RC_QUOTA_EXCEEDED);
		return;
	}
	uint64_t ops_before = b->persist_ops;
	size_t n = wmq_broker_publish(b, msg);
	wmq_msg_unref(msg);
	if (c->state != WMQ_CL_CONNECTED)
		return;
	/* MQTT 5.0 §3.4.2.1: 0x10 when nobody matched */
	if (n == 0)
		ackrc = WMQ_RC_NO_MATCHING_SUBSCRIBERS;
	if (p->qos == 1) {
		ack_or_hold(c, WMQ_PUBACK, p->packet_id, ackrc, wmq_persist_must_hold(b, ops_before));
	} else if (p->qos == 2) {
		if (!known_qos2) {
			if (wmq_session_in_qos2_add(c->session, p->packet_id) != WMQ_OK) {
				violation(c, WMQ_RC_SERVER_BUSY, "out of memory");
				return;
			}
			wmq_persist_in_qos2(b, c->session, p->packet_id, true);
		}
		ack_or_hold(c, WMQ_PUBREC, p->packet_id, ackrc, wmq_persist_must_hold(b, ops_before));
	}
}

static void handle_ack(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	const struct wmq_ack *a = &pkt->u.ack;
	struct wmq_session *s = c->session;
	if (pkt->type == WMQ_PUBREL) {
		/* [MQTT-4.3.3-11] answer PUBREL with PUBCOMP; 0x92 if the id
		 * is unknown (MQTT 5.0 §3.7.2.1) */
		bool known = wmq_session_in_qos2_del(s, a->packet_id);
		if (known)
			wmq_persist_in_qos2(c->b, s, a->packet_id, false);
		ack_or_hold(c, WMQ_PUBCOMP, a->packet_id,
			    known ? WMQ_RC_SUCCESS : WMQ_RC_PACKET_ID_NOT_FOUND, false);
		return;
	}
	if (!wmq_session_ack(c->b, s, pkt->type, a->packet_id, a->rc)) {
		if (pkt->type == WMQ_PUBREC)
			send_ack(c, WMQ_PUBREL, a->packet_id, WMQ_RC_PACKET_ID_NOT_FOUND);
		WMQ_LOG(&c->b->log, WMQ_LOG_DEBUG, "client %s: %s for unknown packet id %u",
			c->client_id, pkt->type == WMQ_PUBACK ? "PUBACK"
				      : pkt->type == WMQ_PUBREC ? "PUBREC"
								 : "PUBCOMP",
			a->packet_id);
	}
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------- */

static void handle_subscribe(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	struct wmq_broker *b = c->b;
	const struct wmq_subscribe *sp = &pkt->u.subscribe;
	struct wmq_session *s = c->session;
	uint32_t sub_id = 0;
	uint8_t *rcs = NULL;
	bool *send_ret = NULL;
	size_t pos = 0, i = 0;
	struct wmq_bytes filter;
	struct wmq_subopts o;
	struct wmq_policy_decision d;

	if (sp->props.n_user > b->cfg.max_user_properties) {
		violation(c, WMQ_RC_QUOTA_EXCEEDED, "too many user properties");
		return;
	}
	if (wmq_props_has(&sp->props, WMQ_PROP_SUB_ID))
		sub_id = sp->props.sub_id;
	rcs = wmq_calloc(sp->count, 1);
	send_ret = wmq_calloc(sp->count, sizeof *send_ret);
	if (!rcs || !send_ret) {
		violation(c, WMQ_RC_SERVER_BUSY, "out of memory");
		goto out;
	}
	while (i < sp->count && wmq_subscribe_next(sp, &pos, &filter, &o)) {
		struct wmq_bytes group, real = filter;
		bool shared = wmq_topic_shared_split(filter, &group, &real);
		bool existed = false;
		uint8_t rc;
		if (!wmq_topic_filter_valid(filter) || !topic_within_limits(b, real)) {
			rc = WMQ_RC_TOPIC_FILTER_INVALID; /* [MQTT-3.8.4-... ] per filter */
		} else if (shared && o.no_local) {
			/* [MQTT-3.8.3-4] No Local on a shared subscription */
			violation(c, WMQ_RC_PROTOCOL_ERROR, "no local on a shared subscription");
			goto out;
		} else if (!wmq_security_check(c, WMQ_ACT_SUBSCRIBE, filter, o.qos, "subscribe", &d)) {
			if (c->listener->cfg.deny_action == WMQ_DENY_DISCONNECT) {
				wmq_client_close(c, WMQ_RC_NOT_AUTHORIZED, "subscribe not authorized");
				goto out;
			}
			/* v5 0x87; 3.1.1 0x80 Failure ([MQTT-3.9.3-2]) */
			rc = c->version == WMQ_V5 ? WMQ_RC_NOT_AUTHORIZED : WMQ_RC_UNSPECIFIED;
		} else if (b->cfg.max_subscriptions_per_client &&
			   wmq_session_nsubs(s) >= b->cfg.max_subscriptions_per_client &&
			   !wmq_session_find_sub(s, filter)) {
			rc = WMQ_RC_QUOTA_EXCEEDED;
		} else {
			/* [MQTT-3.2.2-9]/[MQTT-3.8.4-8] grant at most max_qos,
			 * and at most what the policy grants */
			if (o.qos > d.qos)
				o.qos = d.qos;
			if (o.qos > b->cfg.max_qos)
				o.qos = b->cfg.max_qos;
			if (wmq_session_subscribe(b, s, filter, &o, sub_id, &existed) != WMQ_OK) {
				rc = WMQ_RC_UNSPECIFIED;
			} else {
				rc = o.qos;
				/* [MQTT-3.3.1-9..11] retain handling; shared
				 * subscriptions get no retained messages
				 * (MQTT 5.0 §4.8.2) */
				send_ret[i] = !shared && (o.retain_handling == 0 ||
							  (o.retain_handling == 1 && !existed));
			}
		}
		rcs[i++] = rc;
	}
	struct wmq_pkt ack;
	memset(&ack, 0, sizeof ack);
	ack.type = WMQ_SUBACK;
	ack.u.suback.packet_id = sp->packet_id;
	ack.u.suback.count = (uint16_t)i;
	ack.u.suback.rcs = rcs;
	/* [MQTT-3.8.4-1] SUBACK first, then the retained messages */
	if (wmq_client_send(c, &ack) != WMQ_OK) {
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
		goto out;
	}
	pos = 0;
	for (size_t k = 0; k < i && wmq_subscribe_next(sp, &pos, &filter, &o); k++) {
		if (!send_ret[k] || c->state != WMQ_CL_CONNECTED)
			continue;
		o.qos = rcs[k];
		wmq_broker_send_retained(b, s, filter, &o, sub_id);
	}
out:
	wmq_free(rcs);
	wmq_free(send_ret);
}

static void handle_unsubscribe(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	const struct wmq_unsubscribe *u = &pkt->u.unsubscribe;
	uint8_t *rcs = wmq_calloc(u->count, 1);
	size_t pos = 0, i = 0;
	struct wmq_bytes filter;
	if (!rcs) {
		violation(c, WMQ_RC_SERVER_BUSY, "out of memory");
		return;
	}
	while (i < u->count && wmq_unsubscribe_next(u, &pos, &filter)) {
		/* MQTT 5.0 §3.11.2.2: 0x11 if there was no such subscription */
		rcs[i++] = wmq_session_unsubscribe(c->b, c->session, filter)
				   ? WMQ_RC_SUCCESS
				   : WMQ_RC_NO_SUBSCRIPTION_EXISTED;
	}
	struct wmq_pkt ack;
	memset(&ack, 0, sizeof ack);
	ack.type = WMQ_UNSUBACK;
	ack.u.suback.packet_id = u->packet_id;
	ack.u.suback.count = (uint16_t)i;
	ack.u.suback.rcs = rcs;
	if (wmq_client_send(c, &ack) != WMQ_OK)
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
	wmq_free(rcs);
}

static void handle_disconnect(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	const struct wmq_disconnect *d = &pkt->u.disconnect;
	struct wmq_session *s = c->session;
	if (c->version == WMQ_V5 && wmq_props_has(&d->props, WMQ_PROP_SESSION_EXPIRY)) {
		/* [MQTT-3.14.2-2] cannot turn a 0 expiry into non-zero */
		if (s->expiry_interval == 0 && d->props.session_expiry != 0) {
			violation(c, WMQ_RC_PROTOCOL_ERROR, "session expiry changed from 0");
			return;
		}
		s->expiry_interval = d->props.session_expiry;
	}
	/* [MQTT-3.14.4-3] only reason code 0x00 discards the will (3.1.1 has
	 * no reason code: its DISCONNECT always does); 0x04 and error codes
	 * keep it. */
	if (c->version != WMQ_V5 || d->rc == WMQ_RC_SUCCESS) {
		wmq_msg_unref(c->will);
		c->will = NULL;
	}
	wmq_client_close(c, RC_NONE, "client disconnected");
}

/* ---- dispatch ------------------------------------------------------------ */

static void dispatch(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	switch (pkt->type) {
	case WMQ_CONNECT:
		/* [MQTT-3.1.0-2] a second CONNECT is a protocol violation */
		violation(c, WMQ_RC_PROTOCOL_ERROR, "second CONNECT");
		break;
	case WMQ_PUBLISH:
		handle_publish(c, pkt);
		break;
	case WMQ_PUBACK:
	case WMQ_PUBREC:
	case WMQ_PUBREL:
	case WMQ_PUBCOMP:
		handle_ack(c, pkt);
		break;
	case WMQ_SUBSCRIBE:
		handle_subscribe(c, pkt);
		break;
	case WMQ_UNSUBSCRIBE:
		handle_unsubscribe(c, pkt);
		break;
	case WMQ_PINGREQ: {
		struct wmq_pkt r;
		memset(&r, 0, sizeof r);
		r.type = WMQ_PINGRESP;
		if (wmq_client_send(c, &r) != WMQ_OK)
			wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
		break;
	}
	case WMQ_DISCONNECT:
		handle_disconnect(c, pkt);
		break;
	case WMQ_AUTH:
		/* MQTT 5.0 §4.12: AUTH is only valid within an exchange that
		 * CONNECT started with an Authentication Method; none can be
		 * in progress without a registered mechanism. */
		violation(c, WMQ_RC_PROTOCOL_ERROR, "unexpected AUTH");
		break;
	default:
		violation(c, WMQ_RC_PROTOCOL_ERROR, "unexpected packet");
		break;
	}
}

/* Handle one complete packet. */
static void on_packet(struct wmq_client *c, uint8_t first, const uint8_t *body, size_t len)
{
	struct wmq_broker *b = c->b;
	struct wmq_pkt pkt;
	uint8_t rc = WMQ_RC_MALFORMED;
	uint8_t type = (uint8_t)(first >> 4);
	char esc[64];

	if (c->state == WMQ_CL_NEW) {
		if (type != WMQ_CONNECT) {
			/* [MQTT-3.1.0-1] the first packet must be CONNECT */
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
				"connection from %s closed: first packet type %u is not CONNECT",
				c->conn.peer, type);
			wmq_client_close(c, RC_NONE, NULL);
			return;
		}
		wmq_err e = wmq_mqtt_decode(0, false, first, body, len, &pkt, &rc);
		if (e != WMQ_OK) {
			uint8_t v = peek_version(body, len);
			b->stats.malformed++;
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "bad CONNECT from %s: %s (0x%02x)",
				c->conn.peer, wmq_err_str(e), rc);
			if (v == WMQ_V5) {
				c->version = WMQ_V5;
				connack_fail(c, rc, wmq_rc_str(rc));
			} else if (v && (rc == WMQ_RC_UNSUPPORTED_VERSION ||
					 rc == WMQ_RC_CLIENT_ID_INVALID)) {
				/* [MQTT-3.1.2-2] unsupported level: return code
				 * 1; [MQTT-3.1.3-8] client id rejected: 2 */
				c->version = v == WMQ_V31 ? WMQ_V31 : WMQ_V311;
				connack_fail(c, rc, NULL);
			} else {
				wmq_client_close(c, RC_NONE, NULL);
			}
			return;
		}
		handle_connect(c, &pkt);
		return;
	}
	wmq_err e = wmq_mqtt_decode(c->version, false, first, body, len, &pkt, &rc);
	if (e != WMQ_OK) {
		b->stats.malformed++;
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "malformed packet (type %u) from %s as %s: %s",
			type, c->conn.peer, wmq_log_escape(wmq_bytes_cstr(c->client_id), esc, sizeof esc),
			wmq_err_str(e));
		wmq_client_close(c, rc, rc == WMQ_RC_PROTOCOL_ERROR ? "protocol error" : "malformed packet");
		return;
	}
	dispatch(c, &pkt);
}

/* Handle every complete packet in |buf|; returns the bytes consumed (the
 * rest is an incomplete packet). */
static size_t process_bytes(struct wmq_client *c, const uint8_t *buf, size_t len)
{
	struct wmq_broker *b = c->b;
	size_t off = 0;
	if (c->listener->ws && !c->ws_opened)
		ws_opened(c); /* bytes arrive only once the upgrade is done */
	if (c->state == WMQ_CL_NEW && !c->listener->tls && !c->listener->ws &&
	    wmq_tls_looks_like_client_hello(buf, len)) {
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "connection from %s on port %u: TLS sent to a plain MQTT port",
			c->conn.peer, c->listener->bound_port);
		wmq_client_close(c, RC_NONE, NULL);
		return len;
	}
	/* Bounded by the bytes in the buffer: each turn consumes a packet. */
	/* CL_AUTH: what follows CONNECT waits until the verdict. */
	while (c->state != WMQ_CL_CLOSED && c->state != WMQ_CL_AUTH && off < len) {
		uint8_t first;
		uint32_t body_len;
		size_t hdr;
		const uint8_t *p = buf + off;
		size_t avail = len - off;
		wmq_err e = wmq_mqtt_frame(p, avail, &first, &body_len, &hdr);
		if (e == WMQ_ERR_AGAIN)
			break;
		if (e != WMQ_OK) {
			b->stats.malformed++;
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "malformed remaining length from %s",
				c->conn.peer);
			wmq_client_close(c, WMQ_RC_MALFORMED, "malformed remaining length");
			break;
		}
		/* The size limit is checked before the body is buffered. */
		uint32_t limit = c->state == WMQ_CL_CONNECTED ? b->cfg.max_packet_size
							      : b->cfg.max_packet_size_pre_connect;
		if ((uint64_t)body_len + hdr > limit) {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
				"packet of %zu bytes from %s exceeds the limit of %u",
				(size_t)body_len + hdr, c->conn.peer, limit);
			/* [MQTT-3.2.2-15]/MQTT 5.0 §4.13: 0x95 */
			wmq_client_close(c, WMQ_RC_PACKET_TOO_LARGE, "packet too large");
			break;
		}
		if (avail - hdr < body_len)
			break; /* wait for the rest */
		c->last_rx = b->now;
		on_packet(c, first, p + hdr, body_len);
		off += hdr + body_len;
	}
	return off;
}

static void process_input(struct wmq_client *c)
{
	size_t off = process_bytes(c, c->conn.in.p, c->conn.in.len);
	wmq_dbuf_consume(&c->conn.in, off);
	/* An idle connection keeps no input buffer (reads go to the
	 * broker's scratch buffer while nothing is pending). */
	if (c->conn.in.len == 0)
		wmq_dbuf_shrink(&c->conn.in, 0);
}

/* Fast path when nothing is pending: read into the broker's scratch buffer,
 * handle the complete packets there, keep only a partial tail. */
static wmq_err read_direct(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	ssize_t k;
	int spins = 0;
	do {
		k = c->conn.ops->read(&c->conn, b->rxbuf, WMQ_RXBUF);
	} while (k < 0 && errno == EINTR && ++spins < 16);
	if (k == 0)
		return WMQ_ERR_CLOSED;
	if (k < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? WMQ_OK : WMQ_ERR_IO;
	c->conn.bytes_in += (uint64_t)k;
	b->stats.bytes_received += (uint64_t)k;
	size_t used = process_bytes(c, b->rxbuf, (size_t)k);
	if (c->state != WMQ_CL_CLOSED && used < (size_t)k)
		WMQ_TRY(wmq_dbuf_append(&c->conn.in, b->rxbuf + used, (size_t)k - used));
	return WMQ_OK;
}

/* The upgrade of a WebSocket connection completed: log it, and take the
 * client's address from X-Forwarded-For when the listener trusts it (it
 * then names the client in every later log and audit line). */
static void ws_opened(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	const char *xff = wmq_ws_forwarded_for(&c->conn);
	c->ws_opened = true;
	if (xff) {
		WMQ_LOG(&b->log, WMQ_LOG_INFO,
			"WebSocket connection from %s on port %u forwarded for %s (X-Forwarded-For)",
			c->conn.peer, c->listener->bound_port, xff);
		snprintf(c->conn.peer, sizeof c->conn.peer, "%s", xff);
	}
	WMQ_LOG(&b->log, WMQ_LOG_DEBUG, "WebSocket upgrade from %s on port %u (subprotocol %s)",
		c->conn.peer, c->listener->bound_port, wmq_ws_subprotocol(&c->conn));
}

/* A WebSocket read failed with EPROTO: a refused upgrade or a framing
 * violation (ws.h). Log why with the peer. */
static void ws_log_failure(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	int st = wmq_ws_http_status(&c->conn);
	if (st != 0 && st != 101)
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
			"WebSocket upgrade from %s on port %u refused: HTTP %d, %s", c->conn.peer,
			c->listener->bound_port, st, wmq_ws_reason(&c->conn));
	else if (wmq_ws_close_code(&c->conn))
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
			"WebSocket connection from %s (client %s) closed: close code %u, %s",
			c->conn.peer, cid_or_dash(c), wmq_ws_close_code(&c->conn), wmq_ws_reason(&c->conn));
	else
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "WebSocket connection from %s failed: %s",
			c->conn.peer, wmq_ws_reason(&c->conn));
}

void wmq_client_on_event(struct wmq_ev_handle *h, uint32_t events)
{
	struct wmq_client *c = h->arg;
	struct wmq_broker *b = c->b;
	bool tls = c->listener->tls != NULL;
	bool ws = c->listener->ws;
	/* A TLS read may wait for writability (handshake flights): a write
	 * event then drives the read side. */
	if (tls && (events & WMQ_EV_WRITE)) {
		struct tls_view v = tls_view(c);
		if (!v.done || (v.wants & WMQ_EV_WRITE))
			events |= WMQ_EV_READ;
	}
	if (ws && (events & WMQ_EV_WRITE)) {
		/* The layer's own bytes (101, pong, close); once the 101 is
		 * out, the handshake completes on a read (ws.h). */
		wmq_err we = wmq_ws_flush(&c->conn);
		if (we == WMQ_ERR_IO) {
			wmq_client_close(c, RC_NONE, c->state == WMQ_CL_CONNECTED ? "write error" : NULL);
			return;
		}
		if (!wmq_ws_is_open(&c->conn))
			events |= WMQ_EV_READ;
	}
	if ((events & WMQ_EV_WRITE) && (c->want_write || (!tls && !ws))) {
		wmq_client_flush(c);
		if (c->state == WMQ_CL_CONNECTED && !c->want_write && c->session)
			wmq_session_pump(b, c->session);
	}
	if ((events & (WMQ_EV_READ | WMQ_EV_ERROR)) && c->state != WMQ_CL_CLOSED) {
		wmq_err e;
		int rounds = 0;
		bool again;
		/* Bounded: decrypted bytes the TLS engine still holds, and
		 * decoded bytes the WebSocket layer still holds, do not make
		 * the socket readable again, so drain them now. */
		do {
			if (c->conn.in.len == 0) {
				e = read_direct(c);
			} else {
				uint64_t before = c->conn.bytes_in;
				e = wmq_conn_fill(&c->conn, READ_BUDGET);
				b->stats.bytes_received += c->conn.bytes_in - before;
				if (c->conn.in.len)
					process_input(c);
			}
			again = false;
			if (e == WMQ_OK && c->state != WMQ_CL_CLOSED) {
				if (tls && tls_view(c).pending)
					again = true;
				if (ws && wmq_ws_buffered(&c->conn))
					again = true;
			}
		} while (again && ++rounds < 256);
		if (tls && e != WMQ_OK && e != WMQ_ERR_LIMIT && c->state != WMQ_CL_CLOSED) {
			struct tls_view v = tls_view(c);
			if (v.fail != WMQ_TLS_FAIL_NONE) {
				WMQ_LOG(&b->log, v.fail == WMQ_TLS_FAIL_CLOSED ? WMQ_LOG_DEBUG : WMQ_LOG_NOTICE,
					"TLS handshake from %s on port %u failed (%s): %s", c->conn.peer,
					c->listener->bound_port, wmq_tls_fail_name(v.fail), v.err);
				wmq_client_close(c, RC_NONE, NULL);
				return;
			}
		}
		if (c->state == WMQ_CL_CLOSED)
			return;
		if (ws && !c->ws_opened && wmq_ws_is_open(&c->conn))
			ws_opened(c); /* upgraded, no MQTT bytes yet */
		int st = ws ? wmq_ws_http_status(&c->conn) : 0;
		if (ws && e == WMQ_ERR_IO &&
		    ((st != 0 && st != 101) || wmq_ws_close_code(&c->conn) != 0)) {
			ws_log_failure(c);
			wmq_client_close(c, RC_NONE, NULL);
		} else if (e == WMQ_ERR_CLOSED) {
			wmq_client_close(c, RC_NONE, c->state == WMQ_CL_CONNECTED
							     ? "connection closed by peer"
							     : NULL);
		} else if (e == WMQ_ERR_LIMIT) {
			wmq_client_close(c, WMQ_RC_PACKET_TOO_LARGE, "packet too large");
		} else if (e != WMQ_OK) {
			wmq_client_close(c, RC_NONE, "socket error");
		}
	}
	if ((tls || ws) && c->state != WMQ_CL_CLOSED) {
		uint32_t want = WMQ_EV_READ;
		if (c->want_write || (tls && (tls_view(c).wants & WMQ_EV_WRITE)) ||
		    (ws && wmq_ws_pending(&c->conn)))
			want |= WMQ_EV_WRITE;
		if (wmq_ev_mod(b->ev, &c->h, want) != WMQ_OK)
			wmq_client_close(c, RC_NONE, "event loop error");
	}
}

void wmq_client_housekeeping(struct wmq_client *c, uint64_t now)
{
	struct wmq_broker *b = c->b;
	if (c->state == WMQ_CL_NEW || c->state == WMQ_CL_AUTH) {
		if (now - c->accepted_at > b->cfg.connect_timeout_ms) {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "connection from %s: no CONNECT within %u ms",
				c->conn.peer, b->cfg.connect_timeout_ms);
			wmq_client_close(c, RC_NONE, NULL);
		}
		return;
	}
	/* [MQTT-3.1.2-24] nothing within 1.5 x keepalive: close (0x8D) */
	if (c->state == WMQ_CL_CONNECTED && c->keepalive &&
	    now - c->last_rx > (uint64_t)c->keepalive * 1500u)
		wmq_client_close(c, WMQ_RC_KEEP_ALIVE_TIMEOUT, "keepalive timeout");
}
