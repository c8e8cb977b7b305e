/* SPDX-License-Identifier: MIT
 * messaging.c - the public PUBLISH / SUBSCRIBE / UNSUBSCRIBE calls:
 * argument validation, copying into the session, encoding.
 * Spec: MQTT 5.0 §3.3 (PUBLISH; [MQTT-3.3.2-2] no wildcards in a Topic
 * Name), §3.8 (SUBSCRIBE options), §3.10 (UNSUBSCRIBE), §4.7 (topics).
 * Threading: client thread. */
#include <string.h>

#include "client_int.h"
#include "common/alloc.h"
#include "common/utf8.h"

static bool topic_ok(const char *t, size_t *len, bool filter)
{
	if (!t)
		return false;
	size_t n = strlen(t);
	if (n == 0 || n > 65535 || !wmq_utf8_valid((const uint8_t *)t, n))
		return false;
	struct wmq_bytes b = {(const uint8_t *)t, n};
	if (filter ? !wmq_topic_filter_valid(b) : !wmq_topic_name_valid(b))
		return false;
	*len = n;
	return true;
}

/* An owned copy of |p| for sending (views are copied; NULL stays NULL). */
static int own_props(const wmq_properties *p, int cmd, wmq_properties **out)
{
	*out = NULL;
	if (!p)
		return WMQ_E_OK;
	if (wmq_cprops_check(p, cmd) != WMQ_E_OK)
		return WMQ_E_INVAL;
	return wmq_properties_copy(p, out);
}

static int map_send_err(wmq_err e)
{
	switch (e) {
	case WMQ_OK:
		return WMQ_E_OK;
	case WMQ_ERR_LIMIT:
		return WMQ_E_QUEUE_FULL;
	case WMQ_ERR_PROTOCOL:
		return WMQ_E_TOO_LARGE;
	case WMQ_ERR_CLOSED:
		return WMQ_E_NO_CONN;
	default:
		return wmq_client_err_public(e);
	}
}

int wmq_client_publish(wmq_client *c, uint16_t *mid, const char *topic, const void *payload,
		       size_t len, int qos, bool retain, const wmq_properties *props)
{
	int rc;
	size_t tlen = 0;
	struct wmq_out_msg *m = NULL;
	wmq_properties *own = NULL;

	if (mid)
		*mid = 0;
	if (!c || !topic_ok(topic, &tlen, false) || qos < 0 || qos > 2 || (len && !payload) ||
	    len > 268435455u)
		return WMQ_E_INVAL;
	if (c->version == WMQ_V5 || !c->have_cfg || c->cfg.version == WMQ_V5) {
		rc = own_props(props, WMQ_CMD_PUBLISH, &own);
		if (rc != WMQ_E_OK)
			return rc;
	}
	if (c->state == CS_CONNECTED) {
		/* §3.2.2.3.4 / §3.2.2.3.5: stay within what the server offers */
		if ((uint8_t)qos > c->srv_max_qos || (retain && !c->srv_retain)) {
			rc = WMQ_E_NOT_SUPPORTED;
			goto out;
		}
	}
	if (qos == 0) {
		if (c->state != CS_CONNECTED) {
			rc = WMQ_E_NO_CONN;
			goto out;
		}
		struct wmq_out_msg tmp = {
			.qos = 0,
			.retain = retain,
			.topic = (char *)(uintptr_t)topic,
			.topic_len = tlen,
			.payload = (uint8_t *)(uintptr_t)payload,
			.payload_len = len,
			.props = own,
		};
		rc = map_send_err(wmq_sess_send_publish(c, &tmp));
		goto out;
	}
	if (!c->have_cfg) {
		rc = WMQ_E_NO_CONN;
		goto out;
	}
	if (c->opt_max_queued && c->om_count >= c->opt_max_queued) {
		rc = WMQ_E_QUEUE_FULL;
		goto out;
	}
	if (c->state == CS_CONNECTED) {
		struct wmq_pkt pkt = {.type = WMQ_PUBLISH};
		pkt.u.publish.qos = (uint8_t)qos;
		pkt.u.publish.packet_id = 1;
		pkt.u.publish.topic = (struct wmq_bytes){(const uint8_t *)topic, tlen};
		pkt.u.publish.payload = (struct wmq_bytes){payload, len};
		pkt.u.publish.props = *wmq_cprops_wire(own);
		size_t n = wmq_mqtt_encoded_len(c->version, &pkt);
		if ((c->srv_max_packet && n > c->srv_max_packet) || n > c->out.max) {
			rc = WMQ_E_TOO_LARGE;
			goto out;
		}
	}
	rc = WMQ_E_NOMEM;
	m = wmq_calloc(1, sizeof *m);
	if (!m)
		goto out;
	m->topic = wmq_strndup(topic, tlen);
	m->payload = wmq_memdup(len ? payload : "", len);
	if (!m->topic || !m->payload)
		goto out;
	m->topic_len = tlen;
	m->payload_len = len;
	m->qos = (uint8_t)qos;
	m->retain = retain;
	m->props = own;
	own = NULL;
	if (wmq_sess_mid_alloc(c, &m->mid) != WMQ_OK) {
		rc = WMQ_E_QUEUE_FULL;
		goto out;
	}
	if (mid)
		*mid = m->mid;
	wmq_sess_append(c, m);
	m = NULL;
	rc = WMQ_E_OK;
	wmq_sess_pump(c);
out:
	wmq_sess_msg_free(m);
	wmq_properties_free(own);
	return rc;
}

int wmq_client_subscribe(wmq_client *c, uint16_t *mid, const char *filter, int qos,
			 const wmq_properties *props)
{
	wmq_subscription s = {.filter = filter, .qos = qos};
	return wmq_client_subscribe_many(c, mid, &s, 1, props);
}

/* Send a SUBSCRIBE or UNSUBSCRIBE whose |n| entries are already encoded in
 * |entries|, and remember it until its acknowledgement. On failure the
 * packet id is given back. Ownership: everything borrowed. */
static int send_sub_request(wmq_client *c, uint8_t type, struct wmq_bytes entries, uint16_t n,
			    const wmq_properties *own, uint16_t *out_id)
{
	uint16_t id;
	struct wmq_pkt pkt = {.type = type};
	if (wmq_sess_mid_alloc(c, &id) != WMQ_OK)
		return WMQ_E_QUEUE_FULL;
	if (type == WMQ_SUBSCRIBE)
		pkt.u.subscribe = (struct wmq_subscribe){.packet_id = id,
							 .props = *wmq_cprops_wire(own),
							 .count = n,
							 .entries = entries};
	else
		pkt.u.unsubscribe = (struct wmq_unsubscribe){.packet_id = id,
							     .props = *wmq_cprops_wire(own),
							     .count = n,
							     .entries = entries};
	int rc = map_send_err(wmq_client_send(c, &pkt));
	if (rc == WMQ_E_OK && wmq_sess_req_add(c, id, type, n) != WMQ_OK)
		rc = WMQ_E_NOMEM;
	if (rc != WMQ_E_OK) {
		wmq_sess_mid_free(c, id);
		return rc;
	}
	*out_id = id;
	return WMQ_E_OK;
}

int wmq_client_subscribe_many(wmq_client *c, uint16_t *mid, const wmq_subscription *subs,
			      size_t n, const wmq_properties *props)
{
	int rc;
	uint8_t *buf = NULL;
	wmq_properties *own = NULL;
	size_t total = 0, flen;
	uint16_t id = 0;

	if (mid)
		*mid = 0;
	if (!c || !subs || n == 0 || n > 65535)
		return WMQ_E_INVAL;
	for (size_t i = 0; i < n; i++) {
		const wmq_subscription *s = &subs[i];
		if (!topic_ok(s->filter, &flen, true) || s->qos < 0 || s->qos > 2 ||
		    s->retain_handling < 0 || s->retain_handling > 2)
			return WMQ_E_INVAL;
		total += 2 + flen + 1;
	}
	if (c->state != CS_CONNECTED)
		return WMQ_E_NO_CONN;
	if (c->version == WMQ_V5) {
		rc = own_props(props, WMQ_CMD_SUBSCRIBE, &own);
		if (rc != WMQ_E_OK)
			return rc;
	}
	rc = WMQ_E_NOMEM;
	buf = wmq_malloc(total);
	if (!buf)
		goto out;
	struct wmq_wr w = wmq_wr_make(buf, total);
	for (size_t i = 0; i < n; i++) {
		struct wmq_subopts o = {
			.qos = (uint8_t)subs[i].qos,
			.no_local = subs[i].no_local,
			.retain_as_published = subs[i].retain_as_published,
			.retain_handling = (uint8_t)subs[i].retain_handling,
		};
		wmq_subscribe_entry_encode(&w, c->version, wmq_bytes_cstr(subs[i].filter), &o);
	}
	if (wmq_wr_finish(&w) != WMQ_OK) {
		rc = WMQ_E_INTERNAL;
		goto out;
	}
	rc = send_sub_request(c, WMQ_SUBSCRIBE, (struct wmq_bytes){buf, w.pos}, (uint16_t)n, own, &id);
	if (rc != WMQ_E_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		unsigned opts = (unsigned)subs[i].qos | (subs[i].no_local ? 4u : 0u) |
				(subs[i].retain_as_published ? 8u : 0u) |
				(unsigned)subs[i].retain_handling << 4;
		CLOG(c, WMQ_LL_DEBUG,
		     "Client %s sending SUBSCRIBE (Mid: %u, Topic: %s, QoS: %d, Options: 0x%02x)",
		     wmq_client_log_id(c), id, subs[i].filter, subs[i].qos,
		     c->version == WMQ_V5 ? opts & ~3u : 0u);
	}
	if (mid)
		*mid = id;
out:
	wmq_free(buf);
	wmq_properties_free(own);
	return rc;
}

int wmq_client_unsubscribe(wmq_client *c, uint16_t *mid, const char *const *filters, size_t n,
			   const wmq_properties *props)
{
	int rc;
	uint8_t *buf = NULL;
	wmq_properties *own = NULL;
	size_t total = 0, flen;
	uint16_t id = 0;

	if (mid)
		*mid = 0;
	if (!c || !filters || n == 0 || n > 65535)
		return WMQ_E_INVAL;
	for (size_t i = 0; i < n; i++) {
		if (!topic_ok(filters[i], &flen, true))
			return WMQ_E_INVAL;
		total += 2 + flen;
	}
	if (c->state != CS_CONNECTED)
		return WMQ_E_NO_CONN;
	if (c->version == WMQ_V5) {
		rc = own_props(props, WMQ_CMD_UNSUBSCRIBE, &own);
		if (rc != WMQ_E_OK)
			return rc;
	}
	rc = WMQ_E_NOMEM;
	buf = wmq_malloc(total);
	if (!buf)
		goto out;
	struct wmq_wr w = wmq_wr_make(buf, total);
	for (size_t i = 0; i < n; i++)
		wmq_wr_bin(&w, wmq_bytes_cstr(filters[i]));
	if (wmq_wr_finish(&w) != WMQ_OK) {
		rc = WMQ_E_INTERNAL;
		goto out;
	}
	rc = send_sub_request(c, WMQ_UNSUBSCRIBE, (struct wmq_bytes){buf, w.pos}, (uint16_t)n, own, &id);
	if (rc != WMQ_E_OK)
		goto out;
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending UNSUBSCRIBE (Mid: %u, Topic: %s)",
	     wmq_client_log_id(c), id, filters[0]);
	if (mid)
		*mid = id;
out:
	wmq_free(buf);
	wmq_properties_free(own);
	return rc;
}
