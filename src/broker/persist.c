/* SPDX-License-Identifier: MIT
 * persist.c - the broker side of durability: mirrors every change that must
 * survive a restart into one store batch per loop turn (group commit),
 * holds acknowledgements that promise durability until the commit that
 * holds their message, and rebuilds the broker state at start-up.
 *
 * What is stored: sessions with an expiry interval > 0 (persistent), their
 * subscriptions, their queued and in-flight outgoing messages, inbound QoS 2
 * packet ids, and retained messages (see docs/STORE.md).
 *
 * durability strict: a PUBACK/PUBREC (and PUBCOMP) whose message had to be
 * stored (queued for a persistent session or retained) waits in the
 * connection's held-ack FIFO until wmq_store_completed() reaches the ticket
 * of its batch. Acks of one connection stay in order ([MQTT-4.6.0-2]), so
 * an ack that needs nothing waits behind a held one. While the store cannot
 * commit, held acks stay held: the broker never acknowledges what it may
 * lose. durability batched: acks go out at once; the store commits every
 * durability_interval ms. durability none / persistence false: no store.
 * Threading: the owning worker; the store thread is behind the store API. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "common/time.h"

#define TICKET_READY 0
#define TICKET_THIS_TURN UINT64_MAX

static struct wmq_store_batch *batch(struct wmq_broker *b)
{
	if (!b->store)
		return NULL;
	if (!b->batch && wmq_store_begin(b->store, &b->batch) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "store: out of memory starting a batch");
		b->batch = NULL;
	}
	return b->batch;
}

/* An op failed to record: the batch is poisoned (sticky) and will be
 * reported at submit; nothing else to do here. */
static void note(struct wmq_broker *b, wmq_err rc, const char *what)
{
	if (rc != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "store: cannot record %s: %s", what, wmq_err_str(rc));
	else
		b->persist_ops++;
}

static struct wmq_bytes cid_of(const struct wmq_session *s)
{
	return (struct wmq_bytes){(const uint8_t *)s->client_id, s->cid_len};
}

static int64_t mono_to_wall(uint64_t mono_deadline)
{
	uint64_t now = wmq_now_ms();
	if (!mono_deadline)
		return 0;
	int64_t wall = wmq_wall_s();
	return mono_deadline <= now ? wall : wall + (int64_t)((mono_deadline - now + 999u) / 1000u);
}

static void msg_record(const struct wmq_msg *m, struct wmq_store_msg *r)
{
	memset(r, 0, sizeof *r);
	r->id = m->id;
	r->topic = (struct wmq_bytes){(const uint8_t *)m->topic, m->topic_len};
	r->payload = (struct wmq_bytes){m->payload, m->payload_len};
	if (m->props_len)
		r->props = (struct wmq_bytes){m->props, m->props_len};
	r->qos = m->qos;
	r->retain = m->retain;
	r->received_at = wmq_wall_s();
	r->expiry_at = mono_to_wall(m->expire_at);
	if (m->origin_cid)
		r->publisher_id = wmq_bytes_cstr(m->origin_cid);
	if (m->origin_user)
		r->publisher_user = wmq_bytes_cstr(m->origin_user);
}

/* Put |m| once per batch (the store ignores repeats, this saves work). */
static void put_msg(struct wmq_broker *b, struct wmq_store_batch *bt, struct wmq_msg *m)
{
	if (m->stored_gen == b->batch_gen)
		return;
	struct wmq_store_msg r;
	msg_record(m, &r);
	note(b, wmq_store_msg_put(bt, &r), "message");
	m->stored_gen = b->batch_gen;
}

bool wmq_persist_session_is_durable(const struct wmq_session *s)
{
	return s->expiry_interval != 0;
}

void wmq_persist_session(struct wmq_broker *b, struct wmq_session *s)
{
	struct wmq_store_batch *bt = batch(b);
	if (!bt)
		return;
	if (!wmq_persist_session_is_durable(s)) {
		if (s->stored) {
			note(b, wmq_store_session_del(bt, cid_of(s)), "session delete");
			s->stored = false;
		}
		return;
	}
	struct wmq_store_session r;
	memset(&r, 0, sizeof r);
	r.client_id = cid_of(s);
	r.protocol = s->version;
	r.expiry_interval = s->expiry_interval;
	r.expiry_at = s->client ? 0 : mono_to_wall(s->expire_at);
	if (s->username)
		r.username = wmq_bytes_cstr(s->username);
	/* The will that would go out if the broker stopped now: the connected
	 * client's, or the delayed one waiting in the session. */
	const struct wmq_msg *w = s->client ? s->client->will : s->will;
	if (w) {
		r.will.topic = (struct wmq_bytes){(const uint8_t *)w->topic, w->topic_len};
		r.will.payload = (struct wmq_bytes){w->payload, w->payload_len};
		if (w->props_len)
			r.will.props = (struct wmq_bytes){w->props, w->props_len};
		r.will.qos = w->qos;
		r.will.retain = w->retain;
		r.will.delay = s->client ? s->client->will_delay : 0;
	}
	r.created_at = r.updated_at = wmq_wall_s();
	note(b, wmq_store_session_put(bt, &r), "session");
	s->stored = true;
}

void wmq_persist_session_del(struct wmq_broker *b, struct wmq_session *s)
{
	struct wmq_store_batch *bt;
	if (!s->stored || !(bt = batch(b)))
		return;
	note(b, wmq_store_session_del(bt, cid_of(s)), "session delete");
	s->stored = false;
}

static void split_filter(const struct wmq_sub *sub, struct wmq_store_sub *r)
{
	struct wmq_bytes f = {(const uint8_t *)sub->filter, sub->filter_len}, g = {NULL, 0}, real = f;
	if (!wmq_topic_shared_split(f, &g, &real))
		g = (struct wmq_bytes){(const uint8_t *)"", 0};
	r->share = g;
	r->filter = real;
}

void wmq_persist_sub(struct wmq_broker *b, struct wmq_session *s, const struct wmq_sub *sub)
{
	struct wmq_store_batch *bt;
	if (!s->stored || !(bt = batch(b)))
		return;
	struct wmq_store_sub r;
	memset(&r, 0, sizeof r);
	r.client_id = cid_of(s);
	split_filter(sub, &r);
	r.options = (uint8_t)(sub->opts.qos | (sub->opts.no_local ? 0x04 : 0) |
			      (sub->opts.retain_as_published ? 0x08 : 0) |
			      (sub->opts.retain_handling << 4));
	r.sub_id = sub->sub_id;
	note(b, wmq_store_sub_put(bt, &r), "subscription");
}

void wmq_persist_sub_del(struct wmq_broker *b, struct wmq_session *s, const struct wmq_sub *sub)
{
	struct wmq_store_batch *bt;
	if (!s->stored || !(bt = batch(b)))
		return;
	struct wmq_store_sub r;
	memset(&r, 0, sizeof r);
	split_filter(sub, &r);
	note(b, wmq_store_sub_del(bt, cid_of(s), r.share, r.filter), "subscription delete");
}

/* Subscription ids of a queue entry, stored as big-endian u32s. */
static void qent_record(const struct wmq_session *s, const struct wmq_qent *e, uint8_t *idbuf,
			struct wmq_store_qentry *r)
{
	memset(r, 0, sizeof *r);
	r->client_id = cid_of(s);
	r->seq = e->seq;
	r->msg_id = e->msg->id;
	r->qos = e->qos;
	r->state = e->state;
	r->packet_id = e->pid;
	r->retain = e->retain;
	for (uint16_t i = 0; i < e->nids; i++) {
		idbuf[4 * i] = (uint8_t)(e->ids[i] >> 24);
		idbuf[4 * i + 1] = (uint8_t)(e->ids[i] >> 16);
		idbuf[4 * i + 2] = (uint8_t)(e->ids[i] >> 8);
		idbuf[4 * i + 3] = (uint8_t)e->ids[i];
	}
	if (e->nids)
		r->props = (struct wmq_bytes){idbuf, (size_t)e->nids * 4u};
}

void wmq_persist_enqueue(struct wmq_broker *b, struct wmq_session *s, struct wmq_qent *e)
{
	struct wmq_store_batch *bt;
	e->seq = ++s->next_seq;
	if (!s->stored || !(bt = batch(b)))
		return;
	uint8_t *idbuf = e->nids ? wmq_malloc((size_t)e->nids * 4u) : NULL;
	if (e->nids && !idbuf) {
		note(b, WMQ_ERR_NOMEM, "queue entry");
		return;
	}
	struct wmq_store_qentry r;
	put_msg(b, bt, e->msg);
	qent_record(s, e, idbuf, &r);
	note(b, wmq_store_queue_put(bt, &r), "queue entry");
	wmq_free(idbuf);
	e->stored = true;
}

void wmq_persist_qstate(struct wmq_broker *b, struct wmq_session *s, struct wmq_qent *e)
{
	struct wmq_store_batch *bt;
	if (!e->stored || !s->stored || !(bt = batch(b)))
		return;
	note(b, wmq_store_queue_update_state(bt, cid_of(s), e->seq, (enum wmq_store_qstate)e->state,
					     e->pid, e->state != WMQ_Q_QUEUED),
	     "queue state");
}

void wmq_persist_qdel(struct wmq_broker *b, struct wmq_session *s, struct wmq_qent *e)
{
	struct wmq_store_batch *bt;
	if (!e->stored || !s->stored || !(bt = batch(b)))
		return;
	note(b, wmq_store_queue_del(bt, cid_of(s), e->seq), "queue delete");
	e->stored = false;
}

void wmq_persist_in_qos2(struct wmq_broker *b, struct wmq_session *s, uint16_t pid, bool add)
{
	struct wmq_store_batch *bt;
	if (!s->stored || !(bt = batch(b)))
		return;
	if (add)
		note(b, wmq_store_inflight_in_put(bt, cid_of(s), pid), "inbound QoS 2 id");
	else
		note(b, wmq_store_inflight_in_del(bt, cid_of(s), pid), "inbound QoS 2 id delete");
}

void wmq_persist_retained(struct wmq_broker *b, struct wmq_msg *m)
{
	struct wmq_store_batch *bt = batch(b);
	struct wmq_bytes topic = {(const uint8_t *)m->topic, m->topic_len};
	if (!bt)
		return;
	if (m->payload_len == 0) {
		note(b, wmq_store_retained_del(bt, topic), "retained delete");
		return;
	}
	put_msg(b, bt, m);
	note(b, wmq_store_retained_put(bt, topic, m->id), "retained message");
}

/* ---- held acknowledgements ---------------------------------------------- */

static void held_list_add(struct wmq_broker *b, struct wmq_client *c)
{
	if (c->on_held_list)
		return;
	c->held_next = b->held_clients;
	b->held_clients = c;
	c->on_held_list = true;
}

void wmq_persist_held_unlink(struct wmq_broker *b, struct wmq_client *c)
{
	if (!c->on_held_list)
		return;
	struct wmq_client **pp = &b->held_clients;
	while (*pp && *pp != c)
		pp = &(*pp)->held_next;
	if (*pp)
		*pp = c->held_next;
	c->on_held_list = false;
}

bool wmq_persist_must_hold(const struct wmq_broker *b, uint64_t ops_before)
{
	return b->store && b->cfg.durability == WMQ_DURABILITY_STRICT && b->persist_ops != ops_before;
}

wmq_err wmq_persist_hold_ack(struct wmq_broker *b, struct wmq_client *c, uint8_t type, uint16_t pid,
			     uint8_t rc, bool durable)
{
	if (c->nheld == c->capheld) {
		/* bounded by the peer's window of unacknowledged publishes */
		WMQ_ENSURE(c->capheld < (UINT32_MAX >> 1), WMQ_ERR_LIMIT);
		uint32_t ncap = c->capheld ? c->capheld * 2 : 8;
		struct wmq_held_ack *q = wmq_reallocarray(c->held, ncap, sizeof *q);
		WMQ_ENSURE(q != NULL, WMQ_ERR_NOMEM);
		c->held = q;
		c->capheld = ncap;
	}
	c->held[c->nheld++] = (struct wmq_held_ack){durable ? TICKET_THIS_TURN : TICKET_READY, type,
						    rc, pid};
	held_list_add(b, c);
	return WMQ_OK;
}

/* Send the acks at the head of |c|'s FIFO whose batch is durable. */
static void release(struct wmq_client *c, uint64_t completed)
{
	uint32_t i = 0;
	while (i < c->nheld && c->state == WMQ_CL_CONNECTED) {
		struct wmq_held_ack *h = &c->held[i];
		if (h->ticket == TICKET_THIS_TURN || (h->ticket != TICKET_READY && h->ticket > completed))
			break;
		struct wmq_pkt pkt;
		memset(&pkt, 0, sizeof pkt);
		pkt.type = h->type;
		pkt.u.ack.packet_id = h->pid;
		pkt.u.ack.rc = c->version == WMQ_V5 ? h->rc : 0;
		if (wmq_client_send(c, &pkt) != WMQ_OK) {
			wmq_client_close(c, WMQ_RC_SERVER_BUSY, "output buffer overflow");
			break;
		}
		i++;
	}
	if (i) {
		memmove(c->held, c->held + i, (c->nheld - i) * sizeof *c->held);
		c->nheld -= i;
	}
}

static void release_all(struct wmq_broker *b)
{
	uint64_t completed = b->store ? wmq_store_completed(b->store) : UINT64_MAX - 1;
	struct wmq_client **pp = &b->held_clients;
	while (*pp) {
		struct wmq_client *c = *pp;
		release(c, completed);
		if (c->nheld == 0 || c->state != WMQ_CL_CONNECTED) {
			*pp = c->held_next;
			c->on_held_list = false;
		} else {
			pp = &c->held_next;
		}
	}
}

static void on_store_complete(struct wmq_ev_handle *h, uint32_t events)
{
	struct wmq_broker *b = h->arg;
	WMQ_UNUSED(events);
	bool failed = wmq_store_failed(b->store);
	if (failed != b->store_failed) {
		b->store_failed = failed;
		if (failed)
			WMQ_LOG(&b->log, WMQ_LOG_ERROR,
				"store: cannot commit (%s); acknowledgements that need durability are "
				"held until it recovers",
				wmq_store_errmsg(b->store));
		else
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "store: commits work again");
	}
	release_all(b);
}

void wmq_persist_end_of_turn(struct wmq_broker *b)
{
	if (b->batch) {
		uint64_t ticket = 0;
		wmq_err rc = wmq_store_submit(b->batch, &ticket);
		b->batch = NULL;
		b->batch_gen++;
		/* Tag this turn's held acks with the ticket, or fail them. */
		for (struct wmq_client *c = b->held_clients; c; c = c->held_next)
			for (size_t i = 0; i < c->nheld; i++)
				if (c->held[i].ticket == TICKET_THIS_TURN) {
					if (rc == WMQ_OK) {
						c->held[i].ticket = ticket;
					} else {
						/* Not durable: tell v5 publishers (0x83),
						 * 3.1.1 ones get no ack and resend. */
						c->held[i].ticket = TICKET_READY;
						c->held[i].rc = WMQ_RC_IMPL_SPECIFIC;
						if (c->version != WMQ_V5)
							c->held[i].type = 0;
					}
				}
		if (rc != WMQ_OK)
			WMQ_LOG(&b->log, WMQ_LOG_ERROR, "store: batch not written: %s", wmq_err_str(rc));
	}
	/* Acks that needed nothing (or whose batch failed) go out now. */
	if (b->held_clients)
		release_all(b);
}

/* ---- start-up and shutdown ------------------------------------------------ */

struct loader {
	struct wmq_broker *b;
	struct wmq_hmap msgs; /* id -> struct wmq_msg (one reference) */
	struct wmq_session *cur;
	uint64_t now;
	int64_t wall;
};

static uint64_t wall_to_mono(const struct loader *ld, int64_t wall_deadline)
{
	if (wall_deadline <= 0)
		return 0;
	if (wall_deadline <= ld->wall)
		return ld->now;
	return ld->now + (uint64_t)(wall_deadline - ld->wall) * 1000u;
}

static wmq_err load_msg(void *arg, const struct wmq_store_msg *r)
{
	struct loader *ld = arg;
	struct wmq_props p;
	struct wmq_msg *m = NULL;
	char *cid = NULL, *user = NULL;
	memset(&p, 0, sizeof p);
	p.raw = r->props;
	if (r->publisher_id.p)
		cid = wmq_strndup((const char *)r->publisher_id.p, r->publisher_id.len);
	if (r->publisher_user.p)
		user = wmq_strndup((const char *)r->publisher_user.p, r->publisher_user.len);
	wmq_err rc = wmq_msg_new(r->topic, r->payload, &p, r->qos, r->retain, cid, user, ld->now, r->id,
				 &m);
	wmq_free(cid);
	wmq_free(user);
	WMQ_TRY(rc);
	m->expire_at = wall_to_mono(ld, r->expiry_at);
	if (r->expiry_at > 0)
		m->expiry_interval = (uint32_t)((m->expire_at - ld->now) / 1000u);
	if ((rc = wmq_hmap_put(&ld->msgs, &m->id, sizeof m->id, m)) != WMQ_OK) {
		wmq_msg_unref(m);
		return rc;
	}
	return WMQ_OK;
}

static wmq_err load_session(void *arg, const struct wmq_store_session *r)
{
	struct loader *ld = arg;
	struct wmq_broker *b = ld->b;
	struct wmq_session *s = NULL;
	char *cid = wmq_strndup((const char *)r->client_id.p, r->client_id.len);
	WMQ_ENSURE(cid != NULL, WMQ_ERR_NOMEM);
	wmq_err rc = wmq_session_new(b, cid, &s);
	wmq_free(cid);
	WMQ_TRY(rc);
	ld->cur = s;
	s->stored = true;
	s->version = r->protocol;
	s->expiry_interval = r->expiry_interval;
	if (r->username.p)
		WMQ_ENSURE((s->username = wmq_strndup((const char *)r->username.p, r->username.len)),
			   WMQ_ERR_NOMEM);
	/* A session that was connected when the broker stopped is
	 * disconnected now: its expiry clock and will delay start. */
	if (r->expiry_interval == WMQ_EXPIRY_NEVER)
		s->expire_at = 0;
	else if (r->expiry_at > 0)
		s->expire_at = wall_to_mono(ld, r->expiry_at);
	else
		s->expire_at = ld->now + (uint64_t)r->expiry_interval * 1000u;
	if (r->will.topic.p) {
		struct wmq_props p;
		memset(&p, 0, sizeof p);
		p.raw = r->will.props;
		WMQ_TRY(wmq_msg_new(r->will.topic, r->will.payload, &p, r->will.qos, r->will.retain,
				    s->client_id, s->username, ld->now, wmq_broker_next_id(b), &s->will));
		s->will->expire_at = 0;
		s->will_at = ld->now + (uint64_t)r->will.delay * 1000u;
	}
	wmq_session_set_offline(b, s);
	return WMQ_OK;
}

static wmq_err load_sub(void *arg, const struct wmq_store_sub *r)
{
	struct loader *ld = arg;
	char buf[65536 + 64];
	size_t n = 0;
	struct wmq_subopts o;
	bool existed;
	WMQ_ENSURE(ld->cur != NULL, WMQ_ERR_INTERNAL);
	if (r->share.p && r->share.len) {
		WMQ_ENSURE(r->share.len + r->filter.len + 8 < sizeof buf, WMQ_ERR_LIMIT);
		memcpy(buf, "$share/", 7);
		memcpy(buf + 7, r->share.p, r->share.len);
		n = 7 + r->share.len;
		buf[n++] = '/';
	}
	WMQ_ENSURE(n + r->filter.len < sizeof buf, WMQ_ERR_LIMIT);
	memcpy(buf + n, r->filter.p, r->filter.len);
	n += r->filter.len;
	o.qos = r->options & 3u;
	o.no_local = (r->options & 0x04u) != 0;
	o.retain_as_published = (r->options & 0x08u) != 0;
	o.retain_handling = (uint8_t)((r->options >> 4) & 3u);
	return wmq_session_subscribe_loaded(ld->b, ld->cur, (struct wmq_bytes){(uint8_t *)buf, n}, &o,
					    r->sub_id, &existed);
}

static wmq_err load_queued(void *arg, const struct wmq_store_qentry *r)
{
	struct loader *ld = arg;
	WMQ_ENSURE(ld->cur != NULL, WMQ_ERR_INTERNAL);
	struct wmq_msg *m = wmq_hmap_get(&ld->msgs, &r->msg_id, sizeof r->msg_id);
	WMQ_ENSURE(m != NULL, WMQ_ERR_STORE);
	uint16_t nids = (uint16_t)(r->props.p ? r->props.len / 4u : 0u);
	struct wmq_qent *e = wmq_malloc(sizeof *e + (size_t)nids * sizeof(uint32_t));
	WMQ_ENSURE(e != NULL, WMQ_ERR_NOMEM);
	memset(e, 0, sizeof *e);
	e->msg = wmq_msg_ref(m);
	e->qos = r->qos;
	e->retain = r->retain;
	e->state = r->state;
	e->pid = r->packet_id;
	e->seq = r->seq;
	e->stored = true;
	e->nids = nids;
	for (uint16_t i = 0; i < nids; i++) {
		const uint8_t *q = r->props.p + 4 * i;
		e->ids[i] = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
	}
	wmq_session_load_qent(ld->cur, e);
	return WMQ_OK;
}

static wmq_err load_in_qos2(void *arg, struct wmq_bytes cid, uint16_t pid)
{
	struct loader *ld = arg;
	WMQ_UNUSED(cid);
	WMQ_ENSURE(ld->cur != NULL, WMQ_ERR_INTERNAL);
	return wmq_session_in_qos2_add(ld->cur, pid);
}

static wmq_err load_retained(void *arg, struct wmq_bytes topic, uint64_t msg_id)
{
	struct loader *ld = arg;
	WMQ_UNUSED(topic);
	struct wmq_msg *m = wmq_hmap_get(&ld->msgs, &msg_id, sizeof msg_id);
	WMQ_ENSURE(m != NULL, WMQ_ERR_STORE);
	return wmq_retained_set(&ld->b->retained, m);
}

static void on_store_event(struct wmq_ev_handle *h, uint32_t events)
{
	on_store_complete(h, events);
}

wmq_err wmq_persist_open(struct wmq_broker *b)
{
	const struct wmq_config *cfg = &b->cfg;
	struct wmq_store_opts o;
	struct loader ld;
	struct wmq_store_load_stats ls;
	wmq_err rc;

	if (!cfg->persistence || cfg->durability == WMQ_DURABILITY_NONE)
		return WMQ_OK;
	memset(&o, 0, sizeof o);
	o.flags = WMQ_STORE_CREATE;
	if (cfg->durability == WMQ_DURABILITY_BATCHED) {
		o.flags |= WMQ_STORE_BATCHED;
		o.commit_delay_ms = cfg->durability_interval_ms;
	}
	o.log = &b->log;
	rc = wmq_store_open(cfg->persistence_file, &o, &b->store);
	if (rc != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "%s",
			b->store ? wmq_store_errmsg(b->store) : "store: out of memory");
		wmq_store_close(b->store);
		b->store = NULL;
		return rc;
	}
	memset(&ld, 0, sizeof ld);
	ld.b = b;
	ld.now = wmq_now_ms();
	ld.wall = wmq_wall_s();
	wmq_hmap_init(&ld.msgs);
	struct wmq_store_loader cb = {&ld,	    load_msg,	  load_session, load_sub,
				      load_queued, load_in_qos2, load_retained};
	rc = wmq_store_load(b->store, ld.wall, &cb, &ls);
	size_t it = 0;
	struct wmq_hent *e;
	while ((e = wmq_hmap_next(&ld.msgs, &it)) != NULL)
		wmq_msg_unref(e->val);
	wmq_hmap_cleanup(&ld.msgs);
	if (rc != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "store: loading %s failed: %s %s", cfg->persistence_file,
			wmq_err_str(rc), wmq_store_errmsg(b->store));
		return rc;
	}
	if (ls.max_msg_id > b->next_msg_id)
		b->next_msg_id = ls.max_msg_id;
	WMQ_TRY(wmq_ev_add(b->ev, &b->store_h, wmq_store_completion_fd(b->store), WMQ_EV_READ,
			   on_store_event, b));
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
		"store %s: loaded %llu sessions, %llu subscriptions, %llu queued messages, %llu "
		"retained (dropped %llu expired sessions, %llu expired messages); durability %s",
		cfg->persistence_file, (unsigned long long)ls.sessions, (unsigned long long)ls.subs,
		(unsigned long long)ls.queued, (unsigned long long)ls.retained,
		(unsigned long long)ls.dropped_sessions,
		(unsigned long long)(ls.dropped_queued + ls.dropped_retained),
		cfg->durability == WMQ_DURABILITY_STRICT ? "strict" : "batched");
	return WMQ_OK;
}

void wmq_persist_close(struct wmq_broker *b)
{
	if (!b->store)
		return;
	if (b->batch) {
		uint64_t t;
		if (wmq_store_submit(b->batch, &t) != WMQ_OK)
			WMQ_LOG(&b->log, WMQ_LOG_ERROR, "store: last batch not written");
		b->batch = NULL;
	}
	if (wmq_store_flush(b->store, 10000) != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "store: final flush failed: %s",
			wmq_store_errmsg(b->store));
	wmq_ev_del(b->ev, &b->store_h);
	wmq_store_close(b->store);
	b->store = NULL;
}
