/* SPDX-License-Identifier: MIT
 * handle.c - what the client does with each packet the server sends.
 *
 * Every handler may run application callbacks, which may disconnect (state
 * changes) or even reconnect from on_disconnect (conn_gen changes): after a
 * callback a handler re-checks before it touches the connection again.
 * Spec: MQTT 5.0 §3.2 CONNACK, §3.3 PUBLISH (topic aliases §3.3.2.3.4),
 * §3.4-3.7 acknowledgements, §3.9/3.11 SUBACK/UNSUBACK, §3.14 DISCONNECT,
 * §3.15 + §4.12 AUTH; §4.3.3 QoS 2 receiver "method B" bookkeeping
 * (deliver once, remember the id until PUBREL). Threading: client thread. */
#include <string.h>

#include "client_int.h"
#include "common/alloc.h"

static void send_ack(struct wmq_client *c, uint8_t type, uint16_t mid, uint8_t rc)
{
	static const char *const names[] = {[WMQ_PUBACK] = "PUBACK", [WMQ_PUBREC] = "PUBREC",
					    [WMQ_PUBREL] = "PUBREL", [WMQ_PUBCOMP] = "PUBCOMP"};
	struct wmq_pkt pkt = {.type = type};
	pkt.u.ack.packet_id = mid;
	pkt.u.ack.rc = rc;
	if (wmq_client_send(c, &pkt) != WMQ_OK) {
		wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
		return;
	}
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending %s (m%u, rc%u)", wmq_client_log_id(c), names[type],
	     mid, rc);
}

static bool ensure_topic_buf(struct wmq_client *c, size_t len)
{
	if (c->topic_buf_cap > len)
		return true;
	size_t cap = len + 1 < 256 ? 256 : len + 1;
	char *n = wmq_realloc(c->topic_buf, cap);
	if (!n)
		return false;
	c->topic_buf = n;
	c->topic_buf_cap = cap;
	return true;
}

static void handle_publish(struct wmq_client *c, const struct wmq_publish *p)
{
	struct wmq_bytes topic = p->topic;
	uint32_t gen = c->conn_gen;

	if (c->state != CS_CONNECTED) {
		wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
		return;
	}
	if (c->version == WMQ_V5 && wmq_props_has(&p->props, WMQ_PROP_TOPIC_ALIAS)) {
		uint16_t a = p->props.topic_alias;
		/* [MQTT-3.3.2-9]/§3.3.2.3.4: an alias above the Topic Alias
		 * Maximum we sent (0 if none) is invalid */
		if (a == 0 || a > c->cfg.alias_max) {
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_TOPIC_ALIAS_INVALID);
			return;
		}
		if (!c->alias_in) {
			c->alias_in = wmq_calloc((size_t)c->cfg.alias_max + 1, sizeof(char *));
			if (!c->alias_in) {
				wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
				return;
			}
		}
		if (topic.len) {
			char *t = wmq_strndup((const char *)topic.p, topic.len);
			if (!t) {
				wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
				return;
			}
			wmq_free(c->alias_in[a]);
			c->alias_in[a] = t;
		} else if (c->alias_in[a]) {
			topic = wmq_bytes_cstr(c->alias_in[a]);
		} else {
			/* an alias never set on this connection */
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
			return;
		}
	}
	if (!ensure_topic_buf(c, topic.len)) {
		wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
		return;
	}
	memcpy(c->topic_buf, topic.p, topic.len);
	c->topic_buf[topic.len] = '\0';
	CLOG(c, WMQ_LL_DEBUG, "Client %s received PUBLISH (d%d, q%u, r%d, m%u, '%s', ... (%zu bytes))",
	     wmq_client_log_id(c), p->dup ? 1 : 0, p->qos, p->retain ? 1 : 0, p->packet_id,
	     c->topic_buf, p->payload.len);

	if (p->qos == 2) {
		if (wmq_sess_in_has(c, p->packet_id)) {
			/* a resend of a message already delivered: only the
			 * PUBREC is repeated (§4.3.3) */
			send_ack(c, WMQ_PUBREC, p->packet_id, 0);
			return;
		}
		/* [MQTT-3.3.4-9]-style check on our Receive Maximum */
		if (c->version == WMQ_V5 && c->in_qos2_n >= c->cfg.receive_max) {
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_RECEIVE_MAX_EXCEEDED);
			return;
		}
		if (wmq_sess_in_add(c, p->packet_id) != WMQ_OK) {
			wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
			return;
		}
	}
	if (c->on_message) {
		struct wmq_properties view;
		wmq_cprops_view(&view, c->version == WMQ_V5 ? &p->props : NULL);
		wmq_message msg = {
			.topic = c->topic_buf,
			.topic_len = topic.len,
			.payload = p->payload.len ? p->payload.p : NULL,
			.payload_len = p->payload.len,
			.qos = p->qos,
			.retain = p->retain,
			.dup = p->dup,
			.mid = p->packet_id,
			.props = &view,
		};
		c->on_message(c, c->userdata, &msg);
		if (c->conn_gen != gen || c->state != CS_CONNECTED)
			return;
	}
	if (p->qos == 1)
		send_ack(c, WMQ_PUBACK, p->packet_id, 0);
	else if (p->qos == 2)
		send_ack(c, WMQ_PUBREC, p->packet_id, 0);
}

/* Our message |m| finished with |rc|. */
static void complete(struct wmq_client *c, struct wmq_out_msg *m, uint8_t rc,
		     const struct wmq_props *props)
{
	uint16_t mid = m->mid;
	uint32_t gen = c->conn_gen;
	wmq_sess_remove(c, m);
	if (c->on_publish) {
		struct wmq_properties view;
		wmq_cprops_view(&view, c->version == WMQ_V5 ? props : NULL);
		c->on_publish(c, c->userdata, mid, rc, &view);
	}
	if (c->conn_gen == gen)
		wmq_sess_pump(c);
}

static void handle_ack(struct wmq_client *c, uint8_t type, const struct wmq_ack *a)
{
	static const char *const names[] = {[WMQ_PUBACK] = "PUBACK", [WMQ_PUBREC] = "PUBREC",
					    [WMQ_PUBREL] = "PUBREL", [WMQ_PUBCOMP] = "PUBCOMP"};
	CLOG(c, WMQ_LL_DEBUG, "Client %s received %s (Mid: %u, RC:%u)", wmq_client_log_id(c),
	     names[type], a->packet_id, a->rc);
	if (c->state != CS_CONNECTED) {
		wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
		return;
	}
	struct wmq_out_msg *m;
	switch (type) {
	case WMQ_PUBACK:
		m = wmq_sess_find(c, a->packet_id);
		if (m && m->state == OM_WAIT_PUBACK)
			complete(c, m, a->rc, &a->props);
		else
			CLOG(c, WMQ_LL_WARNING, "Client %s: PUBACK for unknown message %u",
			     wmq_client_log_id(c), a->packet_id);
		return;
	case WMQ_PUBREC:
		m = wmq_sess_find(c, a->packet_id);
		if (!m || (m->state != OM_WAIT_PUBREC && m->state != OM_WAIT_PUBCOMP)) {
			/* §4.3.3: answer with PUBREL "packet identifier not found" */
			send_ack(c, WMQ_PUBREL, a->packet_id,
				 c->version == WMQ_V5 ? WMQ_RC_PACKET_ID_NOT_FOUND : 0);
			return;
		}
		/* §4.3.3: a PUBREC with a failure code ends the flow */
		if (a->rc >= 0x80) {
			complete(c, m, a->rc, &a->props);
			return;
		}
		m->state = OM_WAIT_PUBCOMP;
		send_ack(c, WMQ_PUBREL, a->packet_id, 0);
		return;
	case WMQ_PUBREL: {
		bool found = wmq_sess_in_del(c, a->packet_id);
		send_ack(c, WMQ_PUBCOMP, a->packet_id,
			 found || c->version != WMQ_V5 ? 0 : WMQ_RC_PACKET_ID_NOT_FOUND);
		return;
	}
	case WMQ_PUBCOMP:
		m = wmq_sess_find(c, a->packet_id);
		if (m && m->state == OM_WAIT_PUBCOMP)
			complete(c, m, a->rc, &a->props);
		else
			CLOG(c, WMQ_LL_WARNING, "Client %s: PUBCOMP for unknown message %u",
			     wmq_client_log_id(c), a->packet_id);
		return;
	default:
		return;
	}
}

static void handle_suback(struct wmq_client *c, uint8_t type, const struct wmq_suback *a)
{
	CLOG(c, WMQ_LL_DEBUG, "Client %s received %s", wmq_client_log_id(c),
	     type == WMQ_SUBACK ? "SUBACK" : "UNSUBACK");
	uint8_t reqtype = type == WMQ_SUBACK ? WMQ_SUBSCRIBE : WMQ_UNSUBSCRIBE;
	struct wmq_req *r = wmq_sess_req_take(c, a->packet_id, reqtype);
	if (!r) {
		CLOG(c, WMQ_LL_WARNING, "Client %s: acknowledgement for unknown request %u",
		     wmq_client_log_id(c), a->packet_id);
		return;
	}
	size_t n = a->count;
	/* 3.1.1 UNSUBACK has no payload: one success per requested filter */
	if (type == WMQ_UNSUBACK && c->version != WMQ_V5)
		n = r->count;
	int stack[16];
	int *codes = n <= WMQ_ARRAY_LEN(stack) ? stack : wmq_calloc(n, sizeof(int));
	if (!codes) {
		wmq_free(r);
		wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
		return;
	}
	for (size_t i = 0; i < n; i++)
		codes[i] = (a->rcs && i < a->count) ? a->rcs[i] : 0;
	struct wmq_properties view;
	wmq_cprops_view(&view, c->version == WMQ_V5 ? &a->props : NULL);
	if (type == WMQ_SUBACK && c->on_subscribe)
		c->on_subscribe(c, c->userdata, a->packet_id, n, codes, &view);
	else if (type == WMQ_UNSUBACK && c->on_unsubscribe)
		c->on_unsubscribe(c, c->userdata, a->packet_id, n, codes, &view);
	if (codes != stack)
		wmq_free(codes);
	wmq_free(r);
}

/* Call the application's auth handler; returns 0 or a reason >= 0x80. */
static int run_auth(struct wmq_client *c, const struct wmq_props *p, uint8_t rc, size_t *out_len)
{
	*out_len = 0;
	if (!c->on_auth)
		return rc == WMQ_RC_SUCCESS ? 0 : WMQ_RC_UNSPECIFIED;
	if (!c->auth_buf && !(c->auth_buf = wmq_malloc(65535)))
		return WMQ_RC_UNSPECIFIED;
	struct wmq_properties view;
	wmq_cprops_view(&view, p);
	wmq_auth_step step = {
		.method = c->cfg.auth_method,
		.data = wmq_props_has(p, WMQ_PROP_AUTH_DATA) ? p->auth_data.p : NULL,
		.data_len = wmq_props_has(p, WMQ_PROP_AUTH_DATA) ? p->auth_data.len : 0,
		.reason_code = rc,
		.props = &view,
	};
	wmq_auth_reply reply = {.data = c->auth_buf, .cap = 65535, .len = 0};
	int r = c->on_auth(c, c->userdata, &step, &reply);
	if (r != 0)
		return r >= 0x80 && r <= 0xff ? r : WMQ_RC_UNSPECIFIED;
	if (reply.len > reply.cap)
		return WMQ_RC_UNSPECIFIED;
	*out_len = reply.len;
	return 0;
}

/* A client may send only a few failure codes in DISCONNECT (§3.14.2.1). */
static uint8_t client_disconnect_rc(int r)
{
	return (r >= 0x80 && r <= 0x83) ? (uint8_t)r : WMQ_RC_UNSPECIFIED;
}

static bool method_matches(const struct wmq_client *c, const struct wmq_props *p)
{
	/* [MQTT-4.12.0-5] the method stays the one of CONNECT */
	return c->cfg.auth_method && wmq_props_has(p, WMQ_PROP_AUTH_METHOD) &&
	       wmq_bytes_eq_cstr(p->auth_method, c->cfg.auth_method);
}

static void handle_auth(struct wmq_client *c, const struct wmq_auth *a)
{
	size_t len = 0;
	uint32_t gen = c->conn_gen;
	CLOG(c, WMQ_LL_DEBUG, "Client %s received AUTH (rc%u)", wmq_client_log_id(c), a->rc);
	bool ok_state = c->state == CS_MQTT_CONNECTING || (c->state == CS_CONNECTED && c->in_reauth);
	if (c->version != WMQ_V5 || !ok_state || !method_matches(c, &a->props)) {
		wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
		return;
	}
	if (a->rc == WMQ_RC_CONTINUE_AUTH) {
		int r = run_auth(c, &a->props, a->rc, &len);
		if (c->conn_gen != gen)
			return;
		if (r != 0) {
			wmq_client_fail(c, WMQ_E_AUTH, client_disconnect_rc(r));
			return;
		}
		if (wmq_client_send_auth(c, WMQ_RC_CONTINUE_AUTH, c->auth_buf, len, NULL) != WMQ_OK)
			wmq_client_fail(c, WMQ_E_NOMEM, WMQ_RC_UNSPECIFIED);
		return;
	}
	if (a->rc == WMQ_RC_SUCCESS && c->state == CS_CONNECTED) {
		/* re-authentication finished; let the handler verify */
		c->in_reauth = false;
		int r = run_auth(c, &a->props, a->rc, &len);
		if (c->conn_gen != gen)
			return;
		if (r != 0)
			wmq_client_fail(c, WMQ_E_AUTH, client_disconnect_rc(r));
		return;
	}
	wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
}

static void handle_connack(struct wmq_client *c, const struct wmq_connack *ca)
{
	uint32_t gen = c->conn_gen;
	if (c->state != CS_MQTT_CONNECTING) {
		/* [MQTT-3.2.0-2] one CONNACK per connection */
		wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
		return;
	}
	struct wmq_properties view;
	wmq_cprops_view(&view, c->version == WMQ_V5 ? &ca->props : NULL);
	if (ca->rc != WMQ_RC_SUCCESS) {
		CLOG(c, WMQ_LL_DEBUG, "Client %s received CONNACK (%u)", wmq_client_log_id(c),
		     c->version == WMQ_V5 ? ca->rc : wmq_rc_to_v311_connack(ca->rc));
		c->connack_rc = ca->rc;
		c->connect_outcome = WMQ_E_CONN_REFUSED;
		if (c->on_connect)
			c->on_connect(c, c->userdata, ca->rc, false, &view);
		if (c->conn_gen != gen)
			return;
		wmq_client_close(c, WMQ_E_CONN_REFUSED, ca->rc, false, &view);
		return;
	}
	if (c->version == WMQ_V5 && c->cfg.auth_method) {
		/* §4.12: CONNACK ends the exchange; it may carry the server's
		 * final authentication data for the client to check */
		if (wmq_props_has(&ca->props, WMQ_PROP_AUTH_METHOD) && !method_matches(c, &ca->props)) {
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
			return;
		}
		size_t len;
		int r = run_auth(c, &ca->props, WMQ_RC_SUCCESS, &len);
		if (c->conn_gen != gen)
			return;
		if (r != 0) {
			wmq_client_fail(c, WMQ_E_AUTH, client_disconnect_rc(r));
			return;
		}
	}
	wmq_client_connected(c, ca);
}

void wmq_client_handle(struct wmq_client *c, const struct wmq_pkt *pkt)
{
	switch (pkt->type) {
	case WMQ_CONNACK:
		handle_connack(c, &pkt->u.connack);
		return;
	case WMQ_PUBLISH:
		handle_publish(c, &pkt->u.publish);
		return;
	case WMQ_PUBACK:
	case WMQ_PUBREC:
	case WMQ_PUBREL:
	case WMQ_PUBCOMP:
		handle_ack(c, pkt->type, &pkt->u.ack);
		return;
	case WMQ_SUBACK:
	case WMQ_UNSUBACK:
		if (c->state != CS_CONNECTED) {
			wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
			return;
		}
		handle_suback(c, pkt->type, &pkt->u.suback);
		return;
	case WMQ_PINGRESP:
		CLOG(c, WMQ_LL_DEBUG, "Client %s received PINGRESP", wmq_client_log_id(c));
		c->ping_outstanding = false;
		return;
	case WMQ_DISCONNECT: {
		const struct wmq_disconnect *d = &pkt->u.disconnect;
		struct wmq_properties view;
		wmq_cprops_view(&view, c->version == WMQ_V5 ? &d->props : NULL);
		CLOG(c, WMQ_LL_DEBUG, "Client %s received DISCONNECT (%u)", wmq_client_log_id(c),
		     d->rc);
		if (c->state == CS_MQTT_CONNECTING && c->connect_outcome == 0)
			c->connack_rc = d->rc;
		wmq_client_close(c, WMQ_E_SERVER_DISCONNECT, d->rc, true, &view);
		return;
	}
	case WMQ_AUTH:
		handle_auth(c, &pkt->u.auth);
		return;
	default:
		/* CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ: never from a server */
		wmq_client_fail(c, WMQ_E_PROTOCOL, WMQ_RC_PROTOCOL_ERROR);
		return;
	}
}
