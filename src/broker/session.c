/* SPDX-License-Identifier: MIT
 * session.c - MQTT sessions: subscriptions, the outgoing queue and in-flight
 * window, inbound QoS 2 state, delayed wills and session expiry.
 * Spec: MQTT 5.0 §4.1 (session state), §4.3 (QoS flows), §4.4 (redelivery),
 * §3.1.2.5 (will delay), §3.1.2.11.2 (session expiry).
 * Ownership: the broker's session map owns sessions; a session owns its
 * subscriptions and queue entries; queue entries hold message references. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "common/time.h"

static void qlist_push(struct wmq_qlist *l, struct wmq_qent *e)
{
	e->next = NULL;
	e->prev = l->tail;
	if (l->tail)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
	l->count++;
	l->bytes += wmq_msg_size(e->msg);
}

static void qlist_unlink(struct wmq_qlist *l, struct wmq_qent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->next = e->prev = NULL;
	l->count--;
	l->bytes -= wmq_msg_size(e->msg);
}

static void qent_free(struct wmq_qent *e)
{
	if (!e)
		return;
	wmq_msg_unref(e->msg);
	wmq_free(e);
}

static void qlist_clear(struct wmq_qlist *l)
{
	struct wmq_qent *e = l->head;
	while (e) {
		struct wmq_qent *n = e->next;
		qent_free(e);
		e = n;
	}
	memset(l, 0, sizeof *l);
}

static void offline_add(struct wmq_broker *b, struct wmq_session *s)
{
	if (s->on_offline_list)
		return;
	s->off_prev = NULL;
	s->off_next = b->offline_head;
	if (b->offline_head)
		b->offline_head->off_prev = s;
	b->offline_head = s;
	s->on_offline_list = true;
}

static void offline_del(struct wmq_broker *b, struct wmq_session *s)
{
	if (!s->on_offline_list)
		return;
	if (s->off_prev)
		s->off_prev->off_next = s->off_next;
	else
		b->offline_head = s->off_next;
	if (s->off_next)
		s->off_next->off_prev = s->off_prev;
	s->off_prev = s->off_next = NULL;
	s->on_offline_list = false;
}

wmq_err wmq_session_new(struct wmq_broker *b, const char *cid, struct wmq_session **out)
{
	size_t len = strlen(cid);
	/* [MQTT-1.5.4] a client id is an MQTT string: at most 65535 bytes */
	WMQ_ENSURE(len <= UINT16_MAX, WMQ_ERR_INVAL);
	struct wmq_session *s = wmq_calloc(1, sizeof *s);
	WMQ_ENSURE(s != NULL, WMQ_ERR_NOMEM);
	s->cid_len = (uint32_t)len;
	s->client_id = wmq_strndup(cid, s->cid_len);
	if (!s->client_id) {
		wmq_free(s);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	s->next_pid = 1;
	if (wmq_hmap_put(&b->sessions, s->client_id, s->cid_len, s) != WMQ_OK) {
		wmq_free(s->client_id);
		wmq_free(s);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	*out = s;
	return WMQ_OK;
}

static void sub_free(struct wmq_broker *b, struct wmq_sub *sub)
{
	wmq_router_remove(&b->router, sub);
	wmq_free(sub->filter);
	wmq_free(sub);
}

static void publish_pending_will(struct wmq_broker *b, struct wmq_session *s)
{
	struct wmq_msg *w = s->will;
	if (!w)
		return;
	bool ok = wmq_security_will_ok(b, s); /* the policy may have changed */
	s->will = NULL;
	s->will_at = 0;
	if (ok)
		wmq_broker_publish_will(b, w);
	wmq_msg_unref(w);
}

void wmq_session_end(struct wmq_broker *b, struct wmq_session *s)
{
	size_t it = 0;
	struct wmq_hent *e;
	/* [MQTT-3.1.2-8] the will is published at the latest when the session
	 * ends. Take the session out of the map first so that the will cannot
	 * be routed back into this dying session. */
	(void)wmq_hmap_del(&b->sessions, s->client_id, s->cid_len);
	offline_del(b, s);
	publish_pending_will(b, s);
	wmq_persist_session_del(b, s); /* cascades to subscriptions and queue */
	if (s->subs) {
		while ((e = wmq_hmap_next(s->subs, &it)) != NULL)
			sub_free(b, e->val);
		wmq_hmap_cleanup(s->subs);
		wmq_free(s->subs);
	}
	qlist_clear(&s->queue);
	qlist_clear(&s->inflight);
	wmq_free(s->in_qos2);
	wmq_free(s->username);
	wmq_free(s->client_id);
	wmq_authz_free(s->will_authz);
	wmq_free(s);
}

void wmq_session_detach(struct wmq_broker *b, struct wmq_session *s, uint64_t now)
{
	s->client = NULL;
	/* [MQTT-3.1.2-23] expiry 0: the session ends with the connection. */
	if (s->expiry_interval == 0) {
		wmq_session_end(b, s);
		return;
	}
	s->expire_at = s->expiry_interval == WMQ_EXPIRY_NEVER
			       ? 0
			       : now + (uint64_t)s->expiry_interval * 1000u;
	if (s->expire_at || s->will)
		offline_add(b, s);
	wmq_persist_session(b, s); /* expiry deadline and delayed will */
}

void wmq_session_set_offline(struct wmq_broker *b, struct wmq_session *s)
{
	if (s->expire_at || s->will)
		offline_add(b, s);
}

void wmq_session_load_qent(struct wmq_session *s, struct wmq_qent *e)
{
	qlist_push(e->state == WMQ_Q_QUEUED ? &s->queue : &s->inflight, e);
	if (e->seq > s->next_seq)
		s->next_seq = e->seq;
}

void wmq_session_housekeeping(struct wmq_broker *b, uint64_t now)
{
	struct wmq_session *s = b->offline_head;
	while (s) {
		struct wmq_session *next = s->off_next;
		if (s->will && now >= s->will_at) {
			publish_pending_will(b, s);
			wmq_persist_session(b, s); /* the will is gone */
		}
		if (s->expire_at && now >= s->expire_at) {
			WMQ_LOG(&b->log, WMQ_LOG_INFO, "session %s expired", s->client_id);
			wmq_session_end(b, s);
		} else if (!s->expire_at && !s->will) {
			offline_del(b, s);
		}
		s = next;
	}
}

void wmq_session_attach(struct wmq_broker *b, struct wmq_session *s, struct wmq_client *c)
{
	offline_del(b, s);
	s->client = c;
	s->expire_at = 0;
	/* [MQTT-3.1.3-9] a new connection before the will delay elapsed
	 * cancels the delayed will. */
	if (s->will) {
		wmq_msg_unref(s->will);
		s->will = NULL;
		s->will_at = 0;
		wmq_authz_free(s->will_authz);
		s->will_authz = NULL;
	}
}

void wmq_session_free_all(struct wmq_broker *b)
{
	size_t it = 0;
	struct wmq_hent *e;
	struct wmq_session **all = NULL;
	size_t n = 0;
	if (b->sessions.n) {
		all = wmq_calloc(b->sessions.n, sizeof *all);
		if (!all)
			return; /* process is exiting; the OS reclaims memory */
	}
	while ((e = wmq_hmap_next(&b->sessions, &it)) != NULL)
		all[n++] = e->val;
	for (size_t i = 0; i < n; i++) {
		/* Process exit, not session end: keep the stored copy. */
		all[i]->stored = false;
		/* Shutdown keeps wills unsent: the sessions would survive a
		 * restart with persistence, and without it they end anyway. */
		wmq_msg_unref(all[i]->will);
		all[i]->will = NULL;
		wmq_authz_free(all[i]->will_authz);
		all[i]->will_authz = NULL;
		wmq_session_end(b, all[i]);
	}
	wmq_free(all);
}

/* ---- inbound QoS 2 ------------------------------------------------------ */

bool wmq_session_in_qos2_has(const struct wmq_session *s, uint16_t pid)
{
	for (size_t i = 0; i < s->n_in_qos2; i++)
		if (s->in_qos2[i] == pid)
			return true;
	return false;
}

wmq_err wmq_session_in_qos2_add(struct wmq_session *s, uint16_t pid)
{
	if (s->n_in_qos2 == s->cap_in_qos2) {
		/* bounded: at most 65535 packet ids */
		uint32_t ncap = s->cap_in_qos2 ? s->cap_in_qos2 * 2 : 8;
		uint16_t *q = wmq_reallocarray(s->in_qos2, ncap, sizeof *q);
		WMQ_ENSURE(q != NULL, WMQ_ERR_NOMEM);
		s->in_qos2 = q;
		s->cap_in_qos2 = ncap;
	}
	s->in_qos2[s->n_in_qos2++] = pid;
	return WMQ_OK;
}

bool wmq_session_in_qos2_del(struct wmq_session *s, uint16_t pid)
{
	for (size_t i = 0; i < s->n_in_qos2; i++)
		if (s->in_qos2[i] == pid) {
			s->in_qos2[i] = s->in_qos2[--s->n_in_qos2];
			return true;
		}
	return false;
}

/* ---- outgoing ----------------------------------------------------------- */

static bool pid_in_use(const struct wmq_session *s, uint16_t pid)
{
	for (const struct wmq_qent *e = s->inflight.head; e; e = e->next)
		if (e->pid == pid)
			return true;
	return false;
}

static uint16_t next_pid(struct wmq_session *s)
{
	/* [MQTT-2.2.1-3] non-zero, and not in use by an unacknowledged
	 * exchange. The window is far below 65535, so this terminates. */
	for (unsigned tries = 0; tries < 65535u; tries++) {
		uint16_t p = s->next_pid;
		s->next_pid = (uint16_t)(p == 65535 ? 1 : p + 1);
		if (!pid_in_use(s, p))
			return p;
	}
	return 0;
}

/* Encode one PUBLISH for |e| on the attached connection. Returns false if
 * the packet was dropped because it exceeds the client's Maximum Packet
 * Size ([MQTT-3.1.2-24]: the server behaves as if it had been sent). */
static bool send_publish(struct wmq_broker *b, struct wmq_client *c, struct wmq_msg *m,
			 uint8_t qos, bool retain, uint16_t pid, const uint32_t *ids, uint16_t nids,
			 bool dup, uint64_t now)
{
	struct wmq_pkt pkt;
	bool expired = false;
	memset(&pkt, 0, sizeof pkt);
	pkt.type = WMQ_PUBLISH;
	struct wmq_publish *p = &pkt.u.publish;
	p->qos = qos;
	p->dup = dup;
	p->retain = retain;
	p->packet_id = qos ? pid : 0;
	p->topic = (struct wmq_bytes){(const uint8_t *)m->topic, m->topic_len};
	p->payload = (struct wmq_bytes){m->payload, m->payload_len};
	if (c->version == WMQ_V5) {
		p->props.raw = (struct wmq_bytes){m->props, m->props_len};
		p->props.sub_ids = ids;
		p->props.n_sub_ids = nids;
		uint32_t left = wmq_msg_expiry_left(m, now, &expired);
		if (left != UINT32_MAX) {
			/* [MQTT-3.3.2-6] forward the time that is left */
			p->props.present |= WMQ_PROP_BIT(WMQ_PROP_MESSAGE_EXPIRY);
			p->props.message_expiry = left;
		}
		/* Size with the full topic (and an alias if the client takes
		 * aliases): an upper bound of what is sent. */
		if (c->peer_alias_max) {
			p->props.present |= WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
			p->props.topic_alias = 1;
		}
		size_t worst = wmq_mqtt_encoded_len(c->version, &pkt);
		p->props.present &= ~WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
		if (worst > c->peer_max_packet) {
			/* [MQTT-3.1.2-25] discard without sending */
			b->stats.msgs_dropped++;
			WMQ_LOG(&b->log, WMQ_LOG_DEBUG,
				"dropped message for %s: %zu bytes exceed its maximum packet size",
				c->client_id, worst);
			return false;
		}
		if (c->peer_alias_max) {
			if (!c->alias_out && (c->alias_out = wmq_malloc(sizeof *c->alias_out)))
				wmq_hmap_init(c->alias_out);
			uintptr_t a = c->alias_out ? (uintptr_t)wmq_hmap_get(c->alias_out, m->topic,
									       m->topic_len)
						   : 0;
			if (a) {
				p->props.present |= WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
				p->props.topic_alias = (uint16_t)a;
				p->topic = (struct wmq_bytes){NULL, 0};
			} else if (c->alias_out && c->alias_out_n < c->peer_alias_max &&
				   c->alias_out_n < 256) {
				char *key = wmq_strndup(m->topic, m->topic_len);
				uint16_t na = (uint16_t)(c->alias_out_n + 1);
				if (key && wmq_hmap_put(c->alias_out, key, m->topic_len,
							(void *)(uintptr_t)na) == WMQ_OK) {
					c->alias_out_topics[c->alias_out_n++] = key;
					p->props.present |= WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
					p->props.topic_alias = na;
				} else {
					wmq_free(key);
				}
			}
		}
	} else if (wmq_mqtt_encoded_len(c->version, &pkt) > c->peer_max_packet) {
		b->stats.msgs_dropped++;
		return false;
	}
	if (wmq_client_send(c, &pkt) != WMQ_OK) {
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
		return false;
	}
	b->stats.msgs_sent++;
	return true;
}

static size_t window(const struct wmq_broker *b, const struct wmq_client *c)
{
	size_t w = b->cfg.max_inflight_messages;
	/* [MQTT-3.3.4-9] never more unacknowledged QoS 1/2 than the client's
	 * Receive Maximum */
	if (c->peer_receive_max < w)
		w = c->peer_receive_max;
	return w ? w : 1;
}

static bool socket_has_room(const struct wmq_broker *b, const struct wmq_client *c)
{
	return wmq_conn_pending(&c->conn) < b->cfg.max_write_buffer;
}

void wmq_session_pump(struct wmq_broker *b, struct wmq_session *s)
{
	struct wmq_client *c = s->client;
	uint64_t now = b->now;
	if (!c || c->state != WMQ_CL_CONNECTED)
		return;
	/* Bounded by the queue length; each turn removes the head. */
	while (s->queue.head && socket_has_room(b, c) && c->state == WMQ_CL_CONNECTED) {
		struct wmq_qent *e = s->queue.head;
		bool expired = false;
		(void)wmq_msg_expiry_left(e->msg, now, &expired);
		if (expired) {
			qlist_unlink(&s->queue, e);
			wmq_persist_qdel(b, s, e);
			qent_free(e);
			continue;
		}
		/* receive again at send time: the message may have been
		 * queued while the session was offline or under an older
		 * policy (DESIGN.md §5). Denied: dropped, counted. */
		struct wmq_policy_decision d;
		if (!wmq_security_check(c, WMQ_ACT_RECEIVE, wmq_bytes_cstr(e->msg->topic), e->qos, "receive",
					&d)) {
			qlist_unlink(&s->queue, e);
			wmq_persist_qdel(b, s, e);
			qent_free(e);
			continue;
		}
		if (d.qos < e->qos)
			e->qos = d.qos;
		if (e->qos > 0 && s->inflight.count >= window(b, c))
			break;
		qlist_unlink(&s->queue, e);
		if (e->qos == 0) {
			(void)send_publish(b, c, e->msg, 0, e->retain, 0, e->ids, e->nids, false, now);
			wmq_persist_qdel(b, s, e);
			qent_free(e);
			continue;
		}
		e->pid = next_pid(s);
		e->state = e->qos == 1 ? WMQ_Q_WAIT_PUBACK : WMQ_Q_WAIT_PUBREC;
		if (!send_publish(b, c, e->msg, e->qos, e->retain, e->pid, e->ids, e->nids, false,
				  now)) {
			wmq_persist_qdel(b, s, e);
			qent_free(e); /* dropped as if delivered */
			continue;
		}
		qlist_push(&s->inflight, e);
		wmq_persist_qstate(b, s, e);
	}
}

void wmq_session_resend(struct wmq_broker *b, struct wmq_session *s)
{
	struct wmq_client *c = s->client;
	uint64_t now = b->now;
	struct wmq_qent *e = s->inflight.head;
	/* [MQTT-4.4.0-1] on a resumed session resend unacknowledged PUBLISH
	 * packets with DUP set, and PUBREL packets, in the original order. */
	while (e && c && c->state == WMQ_CL_CONNECTED) {
		struct wmq_qent *next = e->next;
		if (e->state == WMQ_Q_WAIT_PUBCOMP) {
			struct wmq_pkt pkt;
			memset(&pkt, 0, sizeof pkt);
			pkt.type = WMQ_PUBREL;
			pkt.u.ack.packet_id = e->pid;
			if (wmq_client_send(c, &pkt) != WMQ_OK) {
				wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
				return;
			}
		} else if (!send_publish(b, c, e->msg, e->qos, e->retain, e->pid, e->ids, e->nids,
					 true, now)) {
			qlist_unlink(&s->inflight, e);
			wmq_persist_qdel(b, s, e);
			qent_free(e);
		}
		e = next;
	}
}

bool wmq_session_ack(struct wmq_broker *b, struct wmq_session *s, uint8_t type, uint16_t pid,
		     uint8_t rc)
{
	struct wmq_qent *e;
	for (e = s->inflight.head; e; e = e->next)
		if (e->pid == pid)
			break;
	if (!e)
		return false;
	switch (type) {
	case WMQ_PUBACK:
		if (e->state != WMQ_Q_WAIT_PUBACK)
			return false;
		break;
	case WMQ_PUBREC:
		if (e->state != WMQ_Q_WAIT_PUBREC)
			return false;
		if (rc < 0x80) {
			/* [MQTT-4.3.3-5] answer PUBREC with PUBREL */
			struct wmq_pkt pkt;
			memset(&pkt, 0, sizeof pkt);
			pkt.type = WMQ_PUBREL;
			pkt.u.ack.packet_id = pid;
			e->state = WMQ_Q_WAIT_PUBCOMP;
			wmq_persist_qstate(b, s, e);
			if (s->client && wmq_client_send(s->client, &pkt) != WMQ_OK)
				wmq_client_close(s->client, WMQ_RC_SERVER_BUSY, "output buffer overflow");
			return true;
		}
		/* A failure reason code ends the exchange ([MQTT-4.3.3]). */
		break;
	case WMQ_PUBCOMP:
		if (e->state != WMQ_Q_WAIT_PUBCOMP)
			return false;
		break;
	default:
		return false;
	}
	qlist_unlink(&s->inflight, e);
	wmq_persist_qdel(b, s, e);
	qent_free(e);
	wmq_session_pump(b, s);
	return true;
}

void wmq_session_deliver(struct wmq_broker *b, struct wmq_session *s, struct wmq_msg *msg,
			 uint8_t qos, bool retain, const uint32_t *ids, uint16_t nids, bool queue_qos0)
{
	struct wmq_client *c = s->client;
	bool online = c && c->state == WMQ_CL_CONNECTED;
	bool expired = false;
	(void)wmq_msg_expiry_left(msg, b->now, &expired);
	if (expired)
		return;
	if (online) {
		/* receive is checked at every delivery (live and retained);
		 * the policy may lower the QoS. Queued messages are checked
		 * again when wmq_session_pump() sends them. */
		struct wmq_policy_decision d;
		if (!wmq_security_check(c, WMQ_ACT_RECEIVE, wmq_bytes_cstr(msg->topic), qos, "receive", &d))
			return;
		if (d.qos < qos)
			qos = d.qos;
	}
	if (qos == 0 && !online && !b->cfg.queue_qos0_messages) {
		/* QoS 0 is not kept for offline sessions unless configured */
		return;
	}
	if (qos == 0 && online && !s->queue.head) {
		/* Fast path: write it now, or drop it if the subscriber is
		 * not keeping up (a slow consumer never stalls others). */
		if (socket_has_room(b, c)) {
			(void)send_publish(b, c, msg, 0, retain, 0, ids, nids, false, b->now);
			return;
		}
		if (!queue_qos0) {
			b->stats.msgs_dropped++;
			c->dropped++;
			return;
		}
		/* else: wait in the (bounded) queue like QoS 1/2 */
	}
	/* Queue limits (count and bytes) per session; beyond them the
	 * message is dropped and counted. */
	if ((b->cfg.max_queued_messages && s->queue.count >= b->cfg.max_queued_messages) ||
	    (b->cfg.max_queued_bytes && s->queue.bytes + wmq_msg_size(msg) > b->cfg.max_queued_bytes)) {
		b->stats.msgs_dropped++;
		if (c)
			c->dropped++;
		return;
	}
	struct wmq_qent *e = wmq_malloc(sizeof *e + (size_t)nids * sizeof(uint32_t));
	if (!e) {
		b->stats.msgs_dropped++;
		return;
	}
	memset(e, 0, sizeof *e);
	e->msg = wmq_msg_ref(msg);
	e->qos = qos;
	e->retain = retain;
	e->state = WMQ_Q_QUEUED;
	e->nids = nids;
	if (nids)
		memcpy(e->ids, ids, (size_t)nids * sizeof *ids);
	qlist_push(&s->queue, e);
	wmq_persist_enqueue(b, s, e);
	if (online)
		wmq_session_pump(b, s);
}

static wmq_err subscribe(struct wmq_broker *b, struct wmq_session *s, struct wmq_bytes filter,
			 const struct wmq_subopts *o, uint32_t sub_id, bool *existed, bool persist)
{
	struct wmq_sub *sub = wmq_session_find_sub(s, filter);
	if (sub) {
		/* [MQTT-3.8.4-3] replace the existing subscription's options */
		*existed = true;
		sub->opts = *o;
		sub->sub_id = sub_id;
		if (persist)
			wmq_persist_sub(b, s, sub);
		return WMQ_OK;
	}
	*existed = false;
	if (!s->subs) {
		s->subs = wmq_malloc(sizeof *s->subs);
		WMQ_ENSURE(s->subs != NULL, WMQ_ERR_NOMEM);
		wmq_hmap_init(s->subs);
	}
	sub = wmq_calloc(1, sizeof *sub);
	WMQ_ENSURE(sub != NULL, WMQ_ERR_NOMEM);
	sub->filter = wmq_strndup((const char *)filter.p, filter.len);
	if (!sub->filter) {
		wmq_free(sub);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	sub->filter_len = filter.len;
	sub->session = s;
	sub->opts = *o;
	sub->sub_id = sub_id;
	wmq_err rc = wmq_router_add(&b->router, sub);
	if (rc == WMQ_OK && (rc = wmq_hmap_put(s->subs, sub->filter, sub->filter_len, sub)) != WMQ_OK)
		wmq_router_remove(&b->router, sub);
	if (rc != WMQ_OK) {
		wmq_free(sub->filter);
		wmq_free(sub);
		return rc;
	}
	if (persist)
		wmq_persist_sub(b, s, sub);
	return WMQ_OK;
}

wmq_err wmq_session_subscribe(struct wmq_broker *b, struct wmq_session *s, struct wmq_bytes filter,
			      const struct wmq_subopts *o, uint32_t sub_id, bool *existed)
{
	return subscribe(b, s, filter, o, sub_id, existed, true);
}

wmq_err wmq_session_subscribe_loaded(struct wmq_broker *b, struct wmq_session *s,
				     struct wmq_bytes filter, const struct wmq_subopts *o,
				     uint32_t sub_id, bool *existed)
{
	return subscribe(b, s, filter, o, sub_id, existed, false);
}

struct wmq_sub *wmq_session_find_sub(const struct wmq_session *s, struct wmq_bytes filter)
{
	return s->subs ? wmq_hmap_get(s->subs, filter.p, filter.len) : NULL;
}

size_t wmq_session_nsubs(const struct wmq_session *s)
{
	return s->subs ? s->subs->n : 0;
}

bool wmq_session_unsubscribe(struct wmq_broker *b, struct wmq_session *s, struct wmq_bytes filter)
{
	struct wmq_sub *sub = s->subs ? wmq_hmap_del(s->subs, filter.p, filter.len) : NULL;
	if (!sub)
		return false;
	wmq_persist_sub_del(b, s, sub);
	sub_free(b, sub);
	return true;
}
