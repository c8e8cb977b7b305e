/* SPDX-License-Identifier: MIT
 * session.c - client session state: the outgoing QoS 1/2 queue with its
 * in-flight window, packet identifiers, the incoming QoS 2 id set, pending
 * SUBSCRIBE/UNSUBSCRIBE requests and topic aliases.
 *
 * Outgoing messages stay in one FIFO list in publish order. A message is
 * QUEUED until the window (server Receive Maximum, our max_inflight) and the
 * output cap let it go; then WAIT_PUBACK / WAIT_PUBREC / WAIT_PUBCOMP.
 * Spec: MQTT 5.0 §4.3 (QoS flows), §4.4 (redelivery: [MQTT-4.4.0-1] resend
 * unacknowledged PUBLISH with DUP and PUBREL on a resumed session), §4.9
 * (flow control [MQTT-4.9.0-2]), §3.3.2.3.4 (topic aliases).
 * Threading: the client's thread. */
#include <string.h>

#include "client_int.h"
#include "common/alloc.h"

/* ---- packet identifiers ------------------------------------------------- */

static bool mid_used(const struct wmq_client *c, uint16_t mid)
{
	return (c->mid_used[mid / 64] >> (mid % 64)) & 1u;
}

wmq_err wmq_sess_mid_alloc(struct wmq_client *c, uint16_t *mid)
{
	uint16_t m = c->last_mid;
	/* bounded: at most 65535 candidates */
	for (uint32_t i = 0; i < 65535; i++) {
		m = (uint16_t)(m == 65535 ? 1 : m + 1);
		if (!mid_used(c, m)) {
			c->mid_used[m / 64] |= (uint64_t)1 << (m % 64);
			c->last_mid = m;
			*mid = m;
			return WMQ_OK;
		}
	}
	WMQ_BAIL(WMQ_ERR_LIMIT);
}

void wmq_sess_mid_free(struct wmq_client *c, uint16_t mid)
{
	c->mid_used[mid / 64] &= ~((uint64_t)1 << (mid % 64));
}

/* ---- outgoing queue ----------------------------------------------------- */

struct wmq_out_msg *wmq_sess_find(struct wmq_client *c, uint16_t mid)
{
	/* acknowledgements normally arrive in order: the head is the usual hit */
	for (struct wmq_out_msg *m = c->om_head; m; m = m->next)
		if (m->mid == mid)
			return m;
	return NULL;
}

void wmq_sess_append(struct wmq_client *c, struct wmq_out_msg *m)
{
	m->next = NULL;
	m->prev = c->om_tail;
	if (c->om_tail)
		c->om_tail->next = m;
	else
		c->om_head = m;
	c->om_tail = m;
	c->om_count++;
	if (!c->om_cursor)
		c->om_cursor = m;
}

void wmq_sess_msg_free(struct wmq_out_msg *m)
{
	if (!m)
		return;
	wmq_free(m->topic);
	wmq_free(m->payload);
	wmq_properties_free(m->props);
	wmq_free(m);
}

void wmq_sess_remove(struct wmq_client *c, struct wmq_out_msg *m)
{
	if (c->om_cursor == m)
		c->om_cursor = m->next;
	if (m->prev)
		m->prev->next = m->next;
	else
		c->om_head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		c->om_tail = m->prev;
	c->om_count--;
	if (m->state != OM_QUEUED)
		c->om_inflight--;
	wmq_sess_mid_free(c, m->mid);
	wmq_sess_msg_free(m);
}

/* Outgoing topic alias for |topic|: 0 = none; *known = the server has it. */
static uint16_t alias_for(struct wmq_client *c, const char *topic, size_t len, bool *known)
{
	*known = false;
	if (!c->opt_alias_out || c->version != WMQ_V5 || c->srv_alias_max == 0)
		return 0;
	void *v = wmq_hmap_get(&c->alias_out, topic, len);
	if (v) {
		*known = true;
		return (uint16_t)(uintptr_t)v;
	}
	if (c->alias_out_n >= c->srv_alias_max)
		return 0;
	if (!c->alias_out_topic) {
		c->alias_out_topic = wmq_calloc((size_t)c->srv_alias_max + 1, sizeof(char *));
		if (!c->alias_out_topic)
			return 0;
	}
	uint16_t a = (uint16_t)(c->alias_out_n + 1);
	char *key = wmq_strndup(topic, len);
	if (!key)
		return 0;
	if (wmq_hmap_put(&c->alias_out, key, len, (void *)(uintptr_t)a) != WMQ_OK) {
		wmq_free(key);
		return 0;
	}
	c->alias_out_topic[a] = key;
	c->alias_out_n = a;
	return a;
}

void wmq_sess_alias_reset(struct wmq_client *c)
{
	if (c->alias_out_topic) {
		for (size_t i = 0; i <= c->alias_out_n; i++)
			wmq_free(c->alias_out_topic[i]);
		wmq_free(c->alias_out_topic);
		c->alias_out_topic = NULL;
	}
	wmq_hmap_cleanup(&c->alias_out);
	wmq_hmap_init(&c->alias_out);
	c->alias_out_n = 0;
	if (c->alias_in) {
		for (size_t i = 0; i <= c->cfg.alias_max; i++)
			wmq_free(c->alias_in[i]);
		wmq_free(c->alias_in);
		c->alias_in = NULL;
	}
}

wmq_err wmq_sess_send_publish(struct wmq_client *c, struct wmq_out_msg *m)
{
	struct wmq_pkt pkt = {.type = WMQ_PUBLISH};
	struct wmq_publish *p = &pkt.u.publish;
	p->qos = m->qos;
	p->retain = m->retain;
	p->dup = m->sent && m->qos > 0;
	p->packet_id = m->mid;
	p->topic = (struct wmq_bytes){(const uint8_t *)m->topic, m->topic_len};
	p->payload = (struct wmq_bytes){m->payload, m->payload_len};
	p->props = *wmq_cprops_wire(m->props);
	bool known = false;
	uint16_t alias = 0;
	if (!(p->props.present & WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS)))
		alias = alias_for(c, m->topic, m->topic_len, &known);
	if (alias) {
		p->props.present |= WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
		p->props.topic_alias = alias;
		if (known)
			p->topic = (struct wmq_bytes){NULL, 0};
	}
	WMQ_TRY(wmq_client_send(c, &pkt));
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending PUBLISH (d%d, q%d, r%d, m%u, '%s', ... (%zu bytes))",
	     wmq_client_log_id(c), p->dup ? 1 : 0, m->qos, m->retain ? 1 : 0, m->mid, m->topic,
	     m->payload_len);
	m->sent = true;
	return WMQ_OK;
}

static size_t window(const struct wmq_client *c)
{
	size_t w = c->version == WMQ_V5 ? c->srv_receive_max : 65535;
	if (c->opt_max_inflight && c->opt_max_inflight < w)
		w = c->opt_max_inflight;
	return w;
}

void wmq_sess_pump(struct wmq_client *c)
{
	uint32_t gen = c->conn_gen;
	/* bounded: every restart of the outer loop removes one message */
	for (;;) {
		if (c->state != CS_CONNECTED || c->conn_gen != gen)
			return;
		size_t w = window(c);
		struct wmq_out_msg *bad = NULL;
		wmq_err bad_e = WMQ_OK;
		/* FIFO: stop at the first message the window or the output
		 * cannot take; it becomes the cursor */
		struct wmq_out_msg *m = c->om_cursor;
		for (; m; m = m->next) {
			if (m->state != OM_QUEUED)
				continue;
			if (c->om_inflight >= w)
				break;
			wmq_err e = wmq_sess_send_publish(c, m);
			if (c->conn_gen != gen)
				return;
			if (e == WMQ_ERR_LIMIT)
				break; /* output full: retried when it drains */
			if (e != WMQ_OK) {
				bad = m;
				bad_e = e;
				break;
			}
			m->state = m->qos == 1 ? OM_WAIT_PUBACK : OM_WAIT_PUBREC;
			c->om_inflight++;
		}
		c->om_cursor = m;
		if (!bad)
			return;
		/* it can never be sent (e.g. larger than the server's Maximum
		 * Packet Size): complete it with a failure */
		uint16_t mid = bad->mid;
		CLOG(c, WMQ_LL_WARNING, "Client %s dropping message %u: %s", wmq_client_log_id(c),
		     mid, wmq_err_str(bad_e));
		wmq_sess_remove(c, bad);
		if (c->on_publish)
			c->on_publish(c, c->userdata, mid, WMQ_RC_PACKET_TOO_LARGE, NULL);
	}
}

static wmq_err send_pubrel(struct wmq_client *c, uint16_t mid)
{
	struct wmq_pkt pkt = {.type = WMQ_PUBREL};
	pkt.u.ack.packet_id = mid;
	WMQ_TRY(wmq_client_send(c, &pkt));
	CLOG(c, WMQ_LL_DEBUG, "Client %s sending PUBREL (m%u)", wmq_client_log_id(c), mid);
	return WMQ_OK;
}

void wmq_sess_resume(struct wmq_client *c, bool session_present)
{
	uint32_t gen = c->conn_gen;
	if (!session_present) {
		/* [MQTT-3.2.2-5] (v5) / 3.1.1 §3.2.2.2: no session on the server,
		 * so no QoS 2 exchange is half done there. Our incoming ids are
		 * void; our own messages are sent again from scratch, except
		 * those whose PUBREC arrived (the server had them already). */
		c->in_qos2_n = 0;
		struct wmq_out_msg *m = c->om_head;
		while (m) {
			struct wmq_out_msg *next = m->next;
			if (m->state == OM_WAIT_PUBCOMP) {
				uint16_t mid = m->mid;
				wmq_sess_remove(c, m);
				if (c->on_publish)
					c->on_publish(c, c->userdata, mid, WMQ_RC_SUCCESS, NULL);
				if (c->conn_gen != gen)
					return;
				/* the callback may have published: rescan is not
				 * needed, new messages are appended as QUEUED */
			} else {
				if (m->state != OM_QUEUED)
					c->om_inflight--;
				m->state = OM_QUEUED;
				m->sent = false;
			}
			m = next;
		}
		c->om_cursor = c->om_head;
	} else {
		/* [MQTT-4.4.0-1] resend unacknowledged PUBLISH (DUP) and PUBREL
		 * in their original order */
		for (struct wmq_out_msg *m = c->om_head; m; m = m->next) {
			wmq_err e = WMQ_OK;
			if (m->state == OM_WAIT_PUBACK || m->state == OM_WAIT_PUBREC)
				e = wmq_sess_send_publish(c, m);
			else if (m->state == OM_WAIT_PUBCOMP)
				e = send_pubrel(c, m->mid);
			if (c->conn_gen != gen)
				return;
			if (e == WMQ_ERR_LIMIT) {
				/* not even room to resend: treat as not sent; it
				 * goes out again when the queue drains */
				if (m->state != OM_WAIT_PUBCOMP) {
					m->state = OM_QUEUED;
					c->om_inflight--;
					c->om_cursor = c->om_head;
				}
			}
		}
	}
	wmq_sess_pump(c);
}

void wmq_sess_clear(struct wmq_client *c)
{
	struct wmq_out_msg *m = c->om_head;
	while (m) {
		struct wmq_out_msg *next = m->next;
		wmq_sess_msg_free(m);
		m = next;
	}
	c->om_head = c->om_tail = c->om_cursor = NULL;
	c->om_count = c->om_inflight = 0;
	memset(c->mid_used, 0, sizeof c->mid_used);
	wmq_sess_req_clear(c);
	wmq_free(c->in_qos2);
	c->in_qos2 = NULL;
	c->in_qos2_n = c->in_qos2_cap = 0;
	wmq_sess_alias_reset(c);
}

/* ---- incoming QoS 2 ------------------------------------------------------- */

bool wmq_sess_in_has(const struct wmq_client *c, uint16_t mid)
{
	for (size_t i = 0; i < c->in_qos2_n; i++)
		if (c->in_qos2[i] == mid)
			return true;
	return false;
}

wmq_err wmq_sess_in_add(struct wmq_client *c, uint16_t mid)
{
	if (c->in_qos2_n == c->in_qos2_cap) {
		size_t cap = c->in_qos2_cap ? c->in_qos2_cap * 2 : 16;
		uint16_t *n = wmq_reallocarray(c->in_qos2, cap, sizeof *n);
		WMQ_ENSURE(n != NULL, WMQ_ERR_NOMEM);
		c->in_qos2 = n;
		c->in_qos2_cap = cap;
	}
	c->in_qos2[c->in_qos2_n++] = mid;
	return WMQ_OK;
}

bool wmq_sess_in_del(struct wmq_client *c, uint16_t mid)
{
	for (size_t i = 0; i < c->in_qos2_n; i++) {
		if (c->in_qos2[i] == mid) {
			c->in_qos2[i] = c->in_qos2[--c->in_qos2_n];
			return true;
		}
	}
	return false;
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------- */

wmq_err wmq_sess_req_add(struct wmq_client *c, uint16_t mid, uint8_t type, uint16_t count)
{
	struct wmq_req *r = wmq_calloc(1, sizeof *r);
	WMQ_ENSURE(r != NULL, WMQ_ERR_NOMEM);
	r->mid = mid;
	r->type = type;
	r->count = count;
	r->next = c->reqs;
	c->reqs = r;
	return WMQ_OK;
}

struct wmq_req *wmq_sess_req_take(struct wmq_client *c, uint16_t mid, uint8_t type)
{
	for (struct wmq_req **pp = &c->reqs; *pp; pp = &(*pp)->next) {
		struct wmq_req *r = *pp;
		if (r->mid == mid && r->type == type) {
			*pp = r->next;
			wmq_sess_mid_free(c, mid);
			return r;
		}
	}
	return NULL;
}

void wmq_sess_req_clear(struct wmq_client *c)
{
	struct wmq_req *r = c->reqs;
	while (r) {
		struct wmq_req *next = r->next;
		wmq_sess_mid_free(c, r->mid);
		wmq_free(r);
		r = next;
	}
	c->reqs = NULL;
}
