/* SPDX-License-Identifier: MIT
 * broker_test.c - the subscription trie and the retained trie, checked
 * against the codec's wmq_topic_match() as an oracle on generated filters
 * and topics, plus shared-group round-robin and pruning. */
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "test.h"

#define NSUB 400
#define NTOPIC 300

static const char *const words[] = {"a", "b", "c", "$SYS", "", "dev", "x"};

/* Deterministic PRNG so a failure reproduces. */
static uint32_t rng(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void gen_topic(uint32_t *s, char *out, size_t cap, bool filter)
{
	size_t levels = 1 + rng(s) % 4, o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < levels; i++) {
		const char *w;
		uint32_t r = rng(s) % 10;
		if (filter && r == 0)
			w = "+";
		else if (filter && r == 1 && i == levels - 1)
			w = "#";
		else
			w = words[rng(s) % (i == 0 ? 7 : 6)];
		int k = snprintf(out + o, cap - o, "%s%s", i ? "/" : "", w);
		if (k < 0 || (size_t)k >= cap - o)
			break;
		o += (size_t)k;
	}
}

struct collect {
	struct wmq_sub *hits[NSUB];
	size_t n;
};

static void on_hit(void *arg, struct wmq_sub *sub, bool shared)
{
	struct collect *c = arg;
	WMQ_UNUSED(shared);
	if (c->n < NSUB)
		c->hits[c->n++] = sub;
}

TEST(router_matches_like_oracle)
{
	struct wmq_router r;
	static struct wmq_session sess[NSUB];
	static struct wmq_sub subs[NSUB];
	static char filters[NSUB][64];
	uint32_t seed = 12345;
	ASSERT_EQ(wmq_router_init(&r), WMQ_OK);
	for (size_t i = 0; i < NSUB; i++) {
		do {
			gen_topic(&seed, filters[i], sizeof filters[i], true);
		} while (!wmq_topic_filter_valid(wmq_bytes_cstr(filters[i])));
		memset(&subs[i], 0, sizeof subs[i]);
		subs[i].session = &sess[i];
		subs[i].filter = filters[i];
		subs[i].filter_len = strlen(filters[i]);
		ASSERT_EQ(wmq_router_add(&r, &subs[i]), WMQ_OK);
	}
	ASSERT_EQ(r.count, NSUB);
	size_t total_hits = 0;
	for (int t = 0; t < NTOPIC; t++) {
		char topic[64];
		do { /* only valid topic names reach the router */
			gen_topic(&seed, topic, sizeof topic, false);
		} while (!wmq_topic_name_valid(wmq_bytes_cstr(topic)));
		struct wmq_bytes tb = wmq_bytes_cstr(topic);
		struct collect c = {.n = 0};
		wmq_router_match(&r, tb, on_hit, &c);
		size_t expect = 0;
		for (size_t i = 0; i < NSUB; i++) {
			bool want = wmq_topic_match(wmq_bytes_cstr(filters[i]), tb);
			bool got = false;
			for (size_t k = 0; k < c.n; k++)
				got = got || c.hits[k] == &subs[i];
			if (want != got)
				TEST_FAIL_("filter '%s' topic '%s': oracle %d trie %d", filters[i],
					   topic, want, got);
			expect += want;
		}
		ASSERT_EQ(c.n, expect); /* no duplicates */
		total_hits += expect;
	}
	ASSERT(total_hits > 50); /* the generator really exercised matching */
	/* remove every other subscription, match again */
	for (size_t i = 0; i < NSUB; i += 2)
		wmq_router_remove(&r, &subs[i]);
	ASSERT_EQ(r.count, NSUB / 2);
	struct collect c = {.n = 0};
	wmq_router_match(&r, WMQ_BYTES_STR("a/b"), on_hit, &c);
	for (size_t k = 0; k < c.n; k++)
		ASSERT(((size_t)(c.hits[k] - subs)) % 2 == 1);
	for (size_t i = 1; i < NSUB; i += 2)
		wmq_router_remove(&r, &subs[i]);
	ASSERT_EQ(r.count, 0);
	/* everything pruned: the root has no children left */
	ASSERT_EQ(r.root->t.children.n, 0);
	wmq_router_cleanup(&r);
}

TEST(router_dollar_and_hash_parent)
{
	struct wmq_router r;
	struct wmq_session s = {0};
	struct wmq_sub a = {.session = &s, .filter = "#", .filter_len = 1};
	struct wmq_sub b = {.session = &s, .filter = "sport/#", .filter_len = 7};
	struct wmq_sub d = {.session = &s, .filter = "$SYS/#", .filter_len = 6};
	ASSERT_EQ(wmq_router_init(&r), WMQ_OK);
	ASSERT_EQ(wmq_router_add(&r, &a), WMQ_OK);
	ASSERT_EQ(wmq_router_add(&r, &b), WMQ_OK);
	ASSERT_EQ(wmq_router_add(&r, &d), WMQ_OK);
	struct collect c = {.n = 0};
	wmq_router_match(&r, WMQ_BYTES_STR("sport"), on_hit, &c);
	ASSERT_EQ(c.n, 2); /* '#' and 'sport/#' [MQTT-4.7.1-2] */
	c.n = 0;
	wmq_router_match(&r, WMQ_BYTES_STR("$SYS/broker/uptime"), on_hit, &c);
	ASSERT_EQ(c.n, 1); /* only $SYS/#, not '#' [MQTT-4.7.2-1] */
	ASSERT(c.hits[0] == &d);
	wmq_router_cleanup(&r);
}

TEST(router_shared_round_robin)
{
	struct wmq_router r;
	struct wmq_client cl = {0};
	struct wmq_session s[3] = {{0}};
	struct wmq_sub m[3];
	ASSERT_EQ(wmq_router_init(&r), WMQ_OK);
	for (int i = 0; i < 3; i++) {
		memset(&m[i], 0, sizeof m[i]);
		s[i].client = &cl; /* all connected */
		m[i].session = &s[i];
		m[i].filter = "$share/g/t/+";
		m[i].filter_len = strlen(m[i].filter);
		ASSERT_EQ(wmq_router_add(&r, &m[i]), WMQ_OK);
	}
	int counts[3] = {0, 0, 0};
	for (int k = 0; k < 30; k++) {
		struct collect c = {.n = 0};
		wmq_router_match(&r, WMQ_BYTES_STR("t/x"), on_hit, &c);
		ASSERT_EQ(c.n, 1); /* one member per message */
		counts[c.hits[0] - m]++;
	}
	ASSERT_EQ(counts[0], 10);
	ASSERT_EQ(counts[1], 10);
	ASSERT_EQ(counts[2], 10);
	/* an offline member is skipped while others are connected */
	s[1].client = NULL;
	for (int k = 0; k < 10; k++) {
		struct collect c = {.n = 0};
		wmq_router_match(&r, WMQ_BYTES_STR("t/y"), on_hit, &c);
		ASSERT_EQ(c.n, 1);
		ASSERT(c.hits[0] != &m[1]);
	}
	for (int i = 0; i < 3; i++)
		wmq_router_remove(&r, &m[i]);
	ASSERT_EQ(r.root->t.children.n, 0);
	wmq_router_cleanup(&r);
}

struct rcollect {
	const char *topics[64];
	size_t n;
};

static bool on_ret(void *arg, struct wmq_msg *m)
{
	struct rcollect *c = arg;
	if (c->n < 64)
		c->topics[c->n++] = m->topic;
	return true;
}

static struct wmq_msg *mk(const char *topic, const char *payload)
{
	struct wmq_msg *m = NULL;
	if (wmq_msg_new(wmq_bytes_cstr(topic), wmq_bytes_cstr(payload), NULL, 1, true, NULL, NULL, 0,
			1, &m) != WMQ_OK)
		return NULL;
	return m;
}

TEST(retained_match_like_oracle)
{
	static const char *const topics[] = {"a",     "a/b",     "a/b/c", "b/c", "$SYS/x",
					     "$SYS/y/z", "/a",   "a/",    "dev/1/t"};
	static const char *const filters[] = {"#",   "a/#",  "+",     "+/b",   "a/+/c", "$SYS/#",
					      "+/+", "/+",   "a/b/c", "$SYS/+", "+/#",   "dev/+/t"};
	struct wmq_retained rt;
	ASSERT_EQ(wmq_retained_init(&rt), WMQ_OK);
	for (size_t i = 0; i < WMQ_ARRAY_LEN(topics); i++) {
		struct wmq_msg *m = mk(topics[i], "v");
		ASSERT(m != NULL);
		ASSERT_EQ(wmq_retained_set(&rt, m), WMQ_OK);
		wmq_msg_unref(m);
	}
	ASSERT_EQ(rt.count, WMQ_ARRAY_LEN(topics));
	for (size_t f = 0; f < WMQ_ARRAY_LEN(filters); f++) {
		struct rcollect c = {.n = 0};
		wmq_retained_match(&rt, wmq_bytes_cstr(filters[f]), 1000, on_ret, &c);
		size_t expect = 0;
		for (size_t i = 0; i < WMQ_ARRAY_LEN(topics); i++) {
			bool want = wmq_topic_match(wmq_bytes_cstr(filters[f]),
						    wmq_bytes_cstr(topics[i]));
			bool got = false;
			for (size_t k = 0; k < c.n; k++)
				got = got || strcmp(c.topics[k], topics[i]) == 0;
			if (want != got)
				TEST_FAIL_("filter '%s' topic '%s': oracle %d retained %d",
					   filters[f], topics[i], want, got);
			expect += want;
		}
		ASSERT_EQ(c.n, expect);
	}
	/* delete with an empty payload [MQTT-3.3.1-6], and the limit */
	struct wmq_msg *del = mk("a/b", "");
	ASSERT_EQ(wmq_retained_set(&rt, del), WMQ_OK);
	wmq_msg_unref(del);
	ASSERT_EQ(rt.count, WMQ_ARRAY_LEN(topics) - 1);
	struct rcollect c = {.n = 0};
	wmq_retained_match(&rt, WMQ_BYTES_STR("#"), 2, on_ret, &c);
	ASSERT_EQ(c.n, 2);
	wmq_retained_cleanup(&rt);
}

TEST(msg_strips_per_delivery_props)
{
	/* properties: message expiry 60, topic alias 3, user ("k","v") */
	static const uint8_t raw[] = {0x02, 0, 0, 0, 60, 0x23, 0, 3, 0x26, 0, 1, 'k', 0, 1, 'v'};
	struct wmq_props p;
	memset(&p, 0, sizeof p);
	p.present = WMQ_PROP_BIT(WMQ_PROP_MESSAGE_EXPIRY) | WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
	p.message_expiry = 60;
	p.topic_alias = 3;
	p.n_user = 1;
	p.raw = (struct wmq_bytes){raw, sizeof raw};
	struct wmq_msg *m = NULL;
	ASSERT_EQ(wmq_msg_new(WMQ_BYTES_STR("t"), WMQ_BYTES_STR("p"), &p, 1, false, "cid", "u", 1000,
			      7, &m),
		  WMQ_OK);
	ASSERT_EQ(m->props_len, 7); /* only the user property is kept */
	ASSERT_MEMEQ(m->props, raw + 8, 7);
	ASSERT_EQ(m->expire_at, 61000);
	bool expired;
	ASSERT_EQ(wmq_msg_expiry_left(m, 31000, &expired), 30);
	ASSERT(!expired);
	(void)wmq_msg_expiry_left(m, 61000, &expired);
	ASSERT(expired);
	ASSERT_STREQ(m->origin_cid, "cid");
	ASSERT_STREQ(m->origin_user, "u");
	wmq_msg_unref(m);
}

static const struct wmq_test tests[] = {
	{"router_matches_like_oracle", router_matches_like_oracle},
	{"router_dollar_and_hash_parent", router_dollar_and_hash_parent},
	{"router_shared_round_robin", router_shared_round_robin},
	{"retained_match_like_oracle", retained_match_like_oracle},
	{"msg_strips_per_delivery_props", msg_strips_per_delivery_props},
};
WMQ_TEST_MAIN(tests)
