/* SPDX-License-Identifier: MIT
 * msg.c - refcounted application messages, decoded once and shared by every
 * receiver (fan-out by reference). */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"

/* Properties that are per-delivery or rewritten: not stored with the
 * message. [MQTT-3.3.2-7] topic aliases are per connection; [MQTT-3.3.4-6]
 * subscription ids are the receiver's; [MQTT-3.3.2-6] the expiry sent on is
 * the time left. */
#define DROP_PROPS                                                             \
	(WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS) | WMQ_PROP_BIT(WMQ_PROP_SUB_ID) |  \
	 WMQ_PROP_BIT(WMQ_PROP_MESSAGE_EXPIRY) | WMQ_PROP_BIT(WMQ_PROP_WILL_DELAY))

wmq_err wmq_msg_new(struct wmq_bytes topic, struct wmq_bytes payload, const struct wmq_props *props,
		    uint8_t qos, bool retain, const char *origin_cid, const char *origin_user,
		    uint64_t now_ms, uint64_t id, struct wmq_msg **out)
{
	size_t props_len = 0, cid_len = origin_cid ? strlen(origin_cid) + 1 : 0;
	size_t user_len = origin_user ? strlen(origin_user) + 1 : 0;
	WMQ_ENSURE(topic.len <= UINT16_MAX && payload.len <= UINT32_MAX, WMQ_ERR_LIMIT);
	if (props && props->raw.len) {
		struct wmq_wr probe = wmq_wr_make(NULL, 0);
		props_len = wmq_props_filter(props->raw, DROP_PROPS, &probe);
	}
	size_t total = sizeof(struct wmq_msg) + topic.len + 1 + payload.len + props_len + cid_len +
		       user_len;
	struct wmq_msg *m = wmq_malloc(total);
	WMQ_ENSURE(m != NULL, WMQ_ERR_NOMEM);
	memset(m, 0, sizeof *m);
	uint8_t *p = (uint8_t *)(m + 1);
	m->refs = 1;
	m->qos = qos;
	m->retain = retain;
	m->id = id;
	m->topic = (char *)p;
	m->topic_len = (uint16_t)topic.len;
	if (topic.len)
		memcpy(p, topic.p, topic.len);
	p[topic.len] = '\0';
	p += topic.len + 1;
	m->payload = p;
	m->payload_len = (uint32_t)payload.len;
	if (payload.len)
		memcpy(p, payload.p, payload.len);
	p += payload.len;
	m->props = p;
	if (props_len) {
		struct wmq_wr w = wmq_wr_make(p, props_len);
		m->props_len = (uint32_t)wmq_props_filter(props->raw, DROP_PROPS, &w);
	}
	p += props_len;
	if (cid_len) {
		m->origin_cid = (char *)p;
		memcpy(p, origin_cid, cid_len);
		p += cid_len;
	}
	if (user_len) {
		m->origin_user = (char *)p;
		memcpy(p, origin_user, user_len);
	}
	/* [MQTT-3.3.2-5] expiry counts from receipt. */
	m->expiry_interval = UINT32_MAX;
	if (props && wmq_props_has(props, WMQ_PROP_MESSAGE_EXPIRY)) {
		m->expiry_interval = props->message_expiry;
		m->expire_at = now_ms + (uint64_t)props->message_expiry * 1000u;
	}
	*out = m;
	return WMQ_OK;
}

void wmq_msg_unref(struct wmq_msg *m)
{
	if (m && --m->refs == 0)
		wmq_free(m);
}

uint32_t wmq_msg_expiry_left(const struct wmq_msg *m, uint64_t now_ms, bool *expired)
{
	*expired = false;
	if (!m->expire_at)
		return UINT32_MAX;
	if (now_ms >= m->expire_at) {
		*expired = true;
		return 0;
	}
	uint64_t left = (m->expire_at - now_ms + 999u) / 1000u;
	return left > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)left;
}

size_t wmq_msg_size(const struct wmq_msg *m)
{
	return (size_t)m->topic_len + m->payload_len + m->props_len;
}
