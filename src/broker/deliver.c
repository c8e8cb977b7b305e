/* SPDX-License-Identifier: MIT
 * deliver.c - routing one published message to every matching session.
 * Overlapping subscriptions of one session yield one delivery at the highest
 * granted QoS carrying every matching subscription identifier
 * ([MQTT-3.3.4-2], [MQTT-3.3.4-3], [MQTT-3.3.4-5]); a shared subscription
 * yields one delivery to one member of the group ([MQTT-4.8.2]).
 * Threading: the owning worker; not reentrant (scratch arrays live in the
 * broker), which is why connection closes — and so wills — are deferred to
 * the end of the loop turn. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "common/time.h"

struct id_pair {
	uint32_t slot;
	uint32_t id;
};

struct route_ctx {
	struct wmq_broker *b;
	struct wmq_msg *msg;
	struct id_pair *pairs;
	size_t npairs, cappairs;
	bool oom;
};

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	void *q = wmq_reallocarray(*arr, ncap, elem);
	if (!q)
		return false;
	*arr = q;
	*cap = ncap;
	return true;
}

static uint8_t min_u8(uint8_t a, uint8_t b)
{
	return a < b ? a : b;
}

static void on_match(void *arg, struct wmq_sub *sub, bool shared)
{
	struct route_ctx *rc = arg;
	struct wmq_broker *b = rc->b;
	struct wmq_session *s = sub->session;
	if (shared) {
		if (!grow((void **)&b->shared_picks, &b->cappicks, b->npicks + 1, sizeof(void *))) {
			rc->oom = true;
			return;
		}
		b->shared_picks[b->npicks++] = sub;
		return;
	}
	/* [MQTT-3.8.3-3] No Local: not to the publisher's own connection */
	if (sub->opts.no_local && rc->msg->origin_cid &&
	    strcmp(rc->msg->origin_cid, s->client_id) == 0)
		return;
	uint8_t q = min_u8(rc->msg->qos, sub->opts.qos);
	if (s->match_gen != b->match_gen) {
		if (!grow((void **)&b->matches, &b->capmatches, b->nmatches + 1, sizeof *b->matches)) {
			rc->oom = true;
			return;
		}
		s->match_gen = b->match_gen;
		/* one slot per session: far below 2^32 */
		s->match_slot = (uint32_t)b->nmatches;
		b->matches[b->nmatches++] = (struct wmq_match){s, q, sub->opts.retain_as_published, 0, 0};
	} else {
		struct wmq_match *m = &b->matches[s->match_slot];
		if (q > m->qos)
			m->qos = q;
		m->rap = m->rap || sub->opts.retain_as_published;
	}
	if (sub->sub_id) {
		if (!grow((void **)&rc->pairs, &rc->cappairs, rc->npairs + 1, sizeof *rc->pairs)) {
			rc->oom = true;
			return;
		}
		rc->pairs[rc->npairs++] = (struct id_pair){(uint32_t)s->match_slot, sub->sub_id};
		b->matches[s->match_slot].nids++;
	}
}

size_t wmq_broker_publish(struct wmq_broker *b, struct wmq_msg *msg)
{
	struct route_ctx rc = {b, msg, NULL, 0, 0, false};
	size_t receivers = 0;
	struct wmq_bytes topic = {(const uint8_t *)msg->topic, msg->topic_len};

	if (msg->retain && b->cfg.retain_available) {
		if (wmq_retained_set(&b->retained, msg) != WMQ_OK)
			WMQ_LOG(&b->log, WMQ_LOG_WARNING, "out of memory storing retained message");
		else if (msg->origin_cid) /* $SYS values are not worth a commit */
			wmq_persist_retained(b, msg);
	}
	b->match_gen++;
	b->nmatches = 0;
	b->npicks = 0;
	wmq_router_match(&b->router, topic, on_match, &rc);
	if (rc.oom)
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "out of memory while routing; some deliveries lost");

	/* Group subscription ids by match slot (counting sort). */
	if (rc.npairs) {
		uint32_t off = 0;
		for (size_t i = 0; i < b->nmatches; i++) {
			b->matches[i].first_id_slot = off;
			off += b->matches[i].nids;
			b->matches[i].nids = 0;
		}
		if (grow((void **)&b->match_ids, &b->capmatch_ids, rc.npairs, sizeof(uint32_t))) {
			for (size_t i = 0; i < rc.npairs; i++) {
				struct wmq_match *m = &b->matches[rc.pairs[i].slot];
				b->match_ids[m->first_id_slot + m->nids++] = rc.pairs[i].id;
			}
		} else {
			for (size_t i = 0; i < b->nmatches; i++)
				b->matches[i].nids = 0;
		}
	}
	for (size_t i = 0; i < b->nmatches; i++) {
		struct wmq_match *m = &b->matches[i];
		/* [MQTT-3.3.1-12] RETAIN is 0 on normal delivery unless the
		 * subscription asked for Retain As Published [MQTT-3.3.1-13]. */
		bool retain = m->rap && msg->retain;
		const uint32_t *ids = m->nids ? &b->match_ids[m->first_id_slot] : NULL;
		wmq_session_deliver(b, m->s, msg, m->qos, retain, ids, m->nids, false);
		receivers++;
	}
	for (size_t i = 0; i < b->npicks; i++) {
		struct wmq_sub *sub = b->shared_picks[i];
		uint8_t q = min_u8(msg->qos, sub->opts.qos);
		uint32_t id = sub->sub_id;
		bool retain = sub->opts.retain_as_published && msg->retain;
		wmq_session_deliver(b, sub->session, msg, q, retain, id ? &id : NULL, id ? 1 : 0,
				    false);
		receivers++;
	}
	wmq_free(rc.pairs);
	return receivers;
}

void wmq_broker_publish_will(struct wmq_broker *b, struct wmq_msg *will)
{
	/* MQTT 5.0 §3.1.3.2.4: the will's Message Expiry Interval runs from
	 * the moment it is published. */
	if (will->expiry_interval != UINT32_MAX)
		will->expire_at = wmq_now_ms() + (uint64_t)will->expiry_interval * 1000u;
	(void)wmq_broker_publish(b, will);
}

struct retained_ctx {
	struct wmq_broker *b;
	struct wmq_session *s;
	const struct wmq_subopts *o;
	uint32_t sub_id;
};

static bool on_retained(void *arg, struct wmq_msg *msg)
{
	struct retained_ctx *rc = arg;
	uint8_t q = min_u8(msg->qos, rc->o->qos);
	/* [MQTT-3.3.1-9] retained messages sent because of a new subscription
	 * carry RETAIN = 1 */
	wmq_session_deliver(rc->b, rc->s, msg, q, true, rc->sub_id ? &rc->sub_id : NULL,
			    rc->sub_id ? 1 : 0, true);
	return rc->s->client != NULL || rc->s->queue.count < rc->b->cfg.max_queued_messages;
}

void wmq_broker_send_retained(struct wmq_broker *b, struct wmq_session *s, struct wmq_bytes filter,
			      const struct wmq_subopts *o, uint32_t sub_id)
{
	struct retained_ctx rc = {b, s, o, sub_id};
	/* Bounded: one subscription never pulls more than the session's queue
	 * could hold plus what the socket takes. */
	size_t limit = b->cfg.max_queued_messages ? (size_t)b->cfg.max_queued_messages * 4 : SIZE_MAX;
	wmq_retained_match(&b->retained, filter, limit, on_retained, &rc);
}
