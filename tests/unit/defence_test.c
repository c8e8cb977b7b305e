/* SPDX-License-Identifier: MIT
 * defence_test.c - addresses and CIDR (IPv4/IPv6), exponential back-off with
 * cap and decay, lock-outs per (address, username) and per address, IPv6 /64
 * grouping, administrative bans with expiry, connection token bucket, LRU
 * memory bound, lifting one lock-out (wmq_defence_lift). Time is passed in; nothing sleeps. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/alloc.h"
#include "security/defence.h"
#include "test.h"

#define B(s) wmq_bytes_cstr(s)
#define NONE ((struct wmq_bytes){NULL, 0})
#define T0 1714564800000LL

static struct wmq_addr A(const char *s)
{
	struct wmq_addr a;
	if (wmq_addr_parse(s, &a) != WMQ_OK)
		TEST_FAIL_("bad address %s", s);
	return a;
}

static struct wmq_defence *mk(void (*tweak)(struct wmq_defence_opts *))
{
	struct wmq_defence_opts o;
	wmq_defence_opts_default(&o);
	if (tweak)
		tweak(&o);
	struct wmq_defence *d = NULL;
	ASSERT_EQ(wmq_defence_new(&o, &d), WMQ_OK);
	return d;
}

TEST(addresses_and_cidr)
{
	struct wmq_addr a = A("192.0.2.1");
	ASSERT_EQ(a.family, 4);
	ASSERT_MEMEQ(a.b, "\xc0\x00\x02\x01", 4);
	struct wmq_addr m = A("::ffff:192.0.2.1");
	ASSERT_EQ(m.family, 4);
	ASSERT_MEMEQ(&m, &a, sizeof a);
	struct wmq_addr v6 = A("2001:db8::1");
	ASSERT_EQ(v6.family, 6);
	char s[64];
	wmq_addr_format(&v6, s, sizeof s);
	ASSERT_STREQ(s, "2001:db8::1");
	struct wmq_addr x;
	ASSERT_EQ(wmq_addr_parse("192.0.2", &x), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_addr_parse("host.example", &x), WMQ_ERR_INVAL);
	/* from socket addresses */
	struct sockaddr_in sin = {.sin_family = AF_INET};
	memcpy(&sin.sin_addr, "\x0a\x00\x00\x07", 4);
	ASSERT_EQ(wmq_addr_from_sockaddr((const struct sockaddr *)&sin, sizeof sin, &x), WMQ_OK);
	wmq_addr_format(&x, s, sizeof s);
	ASSERT_STREQ(s, "10.0.0.7");
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	memcpy(&sin6.sin6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x07", 16);
	ASSERT_EQ(wmq_addr_from_sockaddr((const struct sockaddr *)&sin6, sizeof sin6, &x), WMQ_OK);
	ASSERT_EQ(x.family, 4);
	ASSERT_EQ(wmq_addr_from_sockaddr((const struct sockaddr *)&sin6, 4, &x), WMQ_ERR_INVAL);

	static const struct {
		const char *cidr, *addr;
		bool in;
	} c[] = {
		{"10.0.0.0/8", "10.1.2.3", true},       {"10.0.0.0/8", "11.0.0.1", false},
		{"10.1.2.3/8", "10.200.0.1", true},     {"192.0.2.128/25", "192.0.2.200", true},
		{"192.0.2.128/25", "192.0.2.127", false}, {"0.0.0.0/0", "203.0.113.9", true},
		{"203.0.113.9", "203.0.113.9", true},   {"203.0.113.9", "203.0.113.10", false},
		{"2001:db8::/32", "2001:db8:1::1", true}, {"2001:db8::/32", "2001:db9::1", false},
		{"2001:db8::/32", "10.0.0.1", false},   {"10.0.0.0/8", "2001:db8::1", false},
		{"::/0", "2001:db8::1", true},          {"::ffff:10.0.0.0/104", "10.9.9.9", true},
		{"2001:db8::1", "2001:db8::1", true},   {"2001:db8:0:1::/63", "2001:db8:0:0:ffff::1", true},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(c); i++) {
		struct wmq_cidr r;
		ASSERT_EQ(wmq_cidr_parse(c[i].cidr, &r), WMQ_OK);
		struct wmq_addr ad = A(c[i].addr);
		if (wmq_cidr_contains(&r, &ad) != c[i].in)
			TEST_FAIL_("%s contains %s: want %d", c[i].cidr, c[i].addr, c[i].in);
	}
	static const char *const bad[] = {"10.0.0.0/33", "::/129", "abc", "10.0.0.0/", "10.0.0.0/-1",
					  "10.0.0.0/8x", "", "/8", "::ffff:10.0.0.0/8"};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		struct wmq_cidr r;
		if (wmq_cidr_parse(bad[i], &r) != WMQ_ERR_INVAL)
			TEST_FAIL_("accepted bad CIDR \"%s\"", bad[i]);
	}
}

static void fast(struct wmq_defence_opts *o)
{
	o->pair_free = 1;
	o->pair_base_ms = 1000;
	o->pair_cap_ms = 8000;
	o->pair_ban_after = 0;
	o->addr_ban_after = 0;
	o->addr_free = 100;
	o->decay_ms = 60000;
}

TEST(backoff_exponential_cap_decay)
{
	struct wmq_defence *d = mk(fast);
	struct wmq_addr a = A("198.51.100.7");
	struct wmq_defence_failure f;
	struct wmq_defence_hit hit;
	static const uint64_t want[] = {0, 1000, 2000, 4000, 8000, 8000};
	int64_t t = T0;
	for (size_t i = 0; i < WMQ_ARRAY_LEN(want); i++) {
		ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("alice"), t, &hit), WMQ_DEFENCE_OK);
		wmq_defence_login_failed(d, &a, B("alice"), t, &f);
		ASSERT_EQ(f.pair_failures, i + 1);
		ASSERT_EQ(f.next_wait_ms, want[i]);
		if (want[i]) {
			ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("alice"), t + 1, &hit), WMQ_DEFENCE_BACKOFF);
			ASSERT_EQ(hit.wait_ms, want[i] - 1);
			ASSERT_EQ(hit.kind, WMQ_BAN_LOCKOUT_PAIR);
		}
		t += (int64_t)want[i];
	}
	/* another username from the same address is not slowed by alice's pair */
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("bob"), t - 1, NULL), WMQ_DEFENCE_OK);
	/* decay: one failure forgotten per 60 s of quiet */
	t += 3 * 60000;
	wmq_defence_login_failed(d, &a, B("alice"), t, &f);
	ASSERT_EQ(f.pair_failures, 4); /* 6 - 3 + 1 */
	ASSERT_EQ(f.next_wait_ms, 4000);
	t += 60LL * 60000; /* long quiet: all forgotten */
	wmq_defence_login_failed(d, &a, B("alice"), t, &f);
	ASSERT_EQ(f.pair_failures, 1);
	ASSERT_EQ(f.next_wait_ms, 0);
	/* success clears the pair */
	wmq_defence_login_failed(d, &a, B("alice"), t, &f);
	ASSERT_EQ(f.next_wait_ms, 1000);
	wmq_defence_login_succeeded(d, &a, B("alice"));
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("alice"), t, NULL), WMQ_DEFENCE_OK);
	wmq_defence_login_failed(d, &a, B("alice"), t, &f);
	ASSERT_EQ(f.pair_failures, 1);
	wmq_defence_free(d);
}

struct lcount {
	int kind;
	char last[128];
};

static void count_ban(void *arg, enum wmq_ban_kind kind, const char *value, int64_t until, const char *reason)
{
	struct lcount *c = arg;
	WMQ_UNUSED(until);
	WMQ_UNUSED(reason);
	c->kind = (int)kind;
	snprintf(c->last, sizeof c->last, "%s", value);
}

static void lockouts(struct wmq_defence_opts *o)
{
	o->pair_free = 100; /* no delays: look at lock-outs only */
	o->addr_free = 100;
	o->pair_ban_after = 5;
	o->pair_ban_ms = 10000;
	o->addr_ban_after = 20;
	o->addr_ban_ms = 30000;
}

TEST(lockouts_pair_and_address)
{
	struct wmq_defence *d = mk(lockouts);
	struct wmq_addr a = A("198.51.100.7"), other = A("198.51.100.8");
	struct wmq_defence_failure f;
	struct wmq_defence_hit hit;
	for (int i = 1; i <= 5; i++) {
		wmq_defence_login_failed(d, &a, B("alice"), T0, &f);
		ASSERT_EQ(f.locked_out, i == 5);
	}
	ASSERT_EQ(f.lockout_kind, WMQ_BAN_LOCKOUT_PAIR);
	ASSERT_EQ(f.lockout_until_ms, T0 + 10000);
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("alice"), T0 + 1, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(hit.kind, WMQ_BAN_LOCKOUT_PAIR);
	ASSERT_EQ(hit.until_ms, T0 + 10000);
	/* the same user from elsewhere, and another user from here: fine */
	ASSERT_EQ(wmq_defence_check_login(d, &other, B("c"), B("alice"), T0 + 1, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("bob"), T0 + 1, NULL), WMQ_DEFENCE_OK);
	/* expiry */
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("alice"), T0 + 10000, NULL), WMQ_DEFENCE_OK);
	/* spraying usernames from one address locks the address */
	bool addr_locked = false;
	for (int i = 0; i < 15; i++) {
		char u[16];
		snprintf(u, sizeof u, "user%d", i);
		wmq_defence_login_failed(d, &a, B(u), T0 + 20000, &f);
		if (f.locked_out && f.lockout_kind == WMQ_BAN_LOCKOUT_ADDR)
			addr_locked = true;
	}
	ASSERT(addr_locked);
	ASSERT_EQ(f.addr_failures, 20);
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("carol"), T0 + 20001, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(hit.kind, WMQ_BAN_LOCKOUT_ADDR);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 20001, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(wmq_defence_on_connect(d, &other, T0 + 20001, &hit), WMQ_DEFENCE_OK);
	/* a success does not reset the address counter */
	wmq_defence_login_succeeded(d, &a, B("carol"));
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("carol"), T0 + 20002, NULL), WMQ_DEFENCE_BANNED);
	/* the lock-outs are listed: the address and the (address, alice) pair
	 * (expired at T0 + 10000, so not listed) */
	struct lcount lc = {0, {0}};
	ASSERT_EQ(wmq_defence_ban_list(d, T0 + 20002, count_ban, &lc), 1);
	ASSERT_STREQ(lc.last, "198.51.100.7");
	ASSERT_EQ(lc.kind, WMQ_BAN_LOCKOUT_ADDR);
	/* administrator lifts it */
	wmq_defence_unlock(d, &a, B("carol"));
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("carol"), T0 + 20002, NULL), WMQ_DEFENCE_OK);
	wmq_defence_free(d);
}

TEST(ipv6_grouping)
{
	struct wmq_defence *d = mk(lockouts);
	struct wmq_defence_failure f;
	/* 20 failures from 20 different hosts of one /64 lock the /64 */
	for (int i = 0; i < 20; i++) {
		char s[64];
		snprintf(s, sizeof s, "2001:db8:1:2::%x", i + 1);
		struct wmq_addr a = A(s);
		wmq_defence_login_failed(d, &a, B("root"), T0, &f);
	}
	ASSERT(f.locked_out);
	ASSERT_EQ(f.lockout_kind, WMQ_BAN_LOCKOUT_ADDR);
	struct wmq_addr same = A("2001:db8:1:2:ffff::9"), next = A("2001:db8:1:3::1");
	ASSERT_EQ(wmq_defence_on_connect(d, &same, T0 + 1, NULL), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(wmq_defence_on_connect(d, &next, T0 + 1, NULL), WMQ_DEFENCE_OK);
	wmq_defence_free(d);
}

/* wmq_defence_lift: exactly the listed lock-out goes, nothing else. */
TEST(lift_one_lockout)
{
	struct wmq_defence *d = mk(lockouts);
	struct wmq_addr a = A("198.51.100.7"), v6 = A("2001:db8:1:2::5");
	struct wmq_defence_failure f;
	/* nothing locked yet: nothing to lift */
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &a, B("alice"), T0));
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_ADDR, &a, NONE, T0));
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_USERNAME, &a, B("alice"), T0));
	for (int i = 0; i < 5; i++)
		wmq_defence_login_failed(d, &a, B("alice"), T0, &f);
	ASSERT(f.locked_out);
	/* a failure count without a lock-out is not lifted */
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_ADDR, &a, NONE, T0 + 1));
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &a, B("alic"), T0 + 1));
	/* an expired lock-out is not lifted either */
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &a, B("alice"), T0 + 10000));
	ASSERT(wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &a, B("alice"), T0 + 1));
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("c"), B("alice"), T0 + 1, NULL), WMQ_DEFENCE_OK);
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &a, B("alice"), T0 + 1)); /* gone */
	/* the failures went with it: four more do not lock alice out again */
	for (int i = 0; i < 4; i++)
		wmq_defence_login_failed(d, &a, B("alice"), T0 + 2, &f);
	ASSERT(!f.locked_out);
	ASSERT_EQ(f.pair_failures, 4);
	ASSERT_EQ(f.addr_failures, 9); /* the address entry was left alone */
	/* address lock-out: lifting a pair leaves it, lifting the address ends it */
	for (int i = 0; i < 11; i++) {
		char u[16];
		snprintf(u, sizeof u, "u%d", i);
		wmq_defence_login_failed(d, &a, B(u), T0 + 3, &f);
	}
	ASSERT(f.locked_out);
	ASSERT_EQ(f.lockout_kind, WMQ_BAN_LOCKOUT_ADDR);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 4, NULL), WMQ_DEFENCE_BANNED);
	ASSERT(!wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &a, B("u0"), T0 + 4));
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 4, NULL), WMQ_DEFENCE_BANNED);
	ASSERT(wmq_defence_lift(d, WMQ_BAN_LOCKOUT_ADDR, &a, B("ignored"), T0 + 4));
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 4, NULL), WMQ_DEFENCE_OK);
	struct lcount lc = {0, {0}};
	ASSERT_EQ(wmq_defence_ban_list(d, T0 + 4, count_ban, &lc), 0);
	/* IPv6: the /64 group as listed, from any address inside it */
	for (int i = 0; i < 20; i++)
		wmq_defence_login_failed(d, &v6, B("root"), T0, &f);
	ASSERT_EQ(wmq_defence_ban_list(d, T0 + 1, count_ban, &lc), 2);
	struct wmq_addr grp = A("2001:db8:1:2::");
	ASSERT(wmq_defence_lift(d, WMQ_BAN_LOCKOUT_ADDR, &grp, NONE, T0 + 1));
	ASSERT(wmq_defence_lift(d, WMQ_BAN_LOCKOUT_PAIR, &grp, B("root"), T0 + 1));
	ASSERT_EQ(wmq_defence_check_login(d, &v6, B("c"), B("root"), T0 + 1, NULL), WMQ_DEFENCE_OK);
	wmq_defence_free(d);
}

struct listed {
	char items[8][160];
	size_t n;
};

static void on_ban(void *arg, enum wmq_ban_kind kind, const char *value, int64_t until, const char *reason)
{
	struct listed *l = arg;
	if (l->n < 8)
		snprintf(l->items[l->n++], sizeof l->items[0], "%d %s %lld %s", (int)kind, value, (long long)until,
			 reason);
}

TEST(admin_bans)
{
	struct wmq_defence *d = mk(NULL);
	struct wmq_addr a = A("203.0.113.5"), b = A("198.51.100.1"), v6 = A("2001:db8::5");
	struct wmq_defence_hit hit;
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_CLIENT_ID, "evil-device", 0, "stolen", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_USERNAME, "mallory", T0 + 5000, "abuse", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_ADDRESS, "203.0.113.0/24", 0, "bad net", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_ADDRESS, "2001:db8::/48", 0, "bad net6", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_ADDRESS, "203.0.113.0/99", 0, "x", T0), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_USERNAME, "", 0, "x", T0), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_LOCKOUT_PAIR, "x", 0, "x", T0), WMQ_ERR_INVAL);

	ASSERT_EQ(wmq_defence_check_login(d, &b, B("evil-device"), B("alice"), T0, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(hit.kind, WMQ_BAN_CLIENT_ID);
	ASSERT_STREQ(hit.reason, "stolen");
	ASSERT_EQ(wmq_defence_check_login(d, &b, B("ok-device"), B("mallory"), T0, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(hit.kind, WMQ_BAN_USERNAME);
	ASSERT_EQ(hit.until_ms, T0 + 5000);
	ASSERT_EQ(wmq_defence_check_login(d, &b, B("ok-device"), B("mallory"), T0 + 5000, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_check_login(d, &b, B("ok-device"), NONE, T0, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(hit.kind, WMQ_BAN_ADDRESS);
	ASSERT_STREQ(hit.reason, "bad net");
	ASSERT_EQ(wmq_defence_check_login(d, &a, B("ok-device"), B("alice"), T0, NULL), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(wmq_defence_on_connect(d, &v6, T0, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_EQ(wmq_defence_on_connect(d, &b, T0, NULL), WMQ_DEFENCE_OK);
	/* list (mallory's ban has expired by T0 + 6000) */
	struct listed l;
	memset(&l, 0, sizeof l);
	ASSERT_EQ(wmq_defence_ban_list(d, T0 + 6000, on_ban, &l), 3);
	bool seen_net = false;
	for (size_t i = 0; i < l.n; i++)
		seen_net |= strcmp(l.items[i], "2 203.0.113.0/24 0 bad net") == 0;
	ASSERT(seen_net);
	/* delete, with a normalised CIDR */
	ASSERT_EQ(wmq_defence_ban_del(d, WMQ_BAN_ADDRESS, "203.0.113.77/24"), WMQ_OK);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_ban_del(d, WMQ_BAN_ADDRESS, "203.0.113.0/24"), WMQ_ERR_NOTFOUND);
	ASSERT_EQ(wmq_defence_ban_del(d, WMQ_BAN_CLIENT_ID, "evil-device"), WMQ_OK);
	ASSERT_EQ(wmq_defence_check_login(d, &b, B("evil-device"), B("alice"), T0, NULL), WMQ_DEFENCE_OK);
	/* re-adding replaces */
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_USERNAME, "eve", 0, "first", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_USERNAME, "eve", 0, "second", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_check_login(d, &b, B("x"), B("eve"), T0, &hit), WMQ_DEFENCE_BANNED);
	ASSERT_STREQ(hit.reason, "second");
	struct wmq_defence_stats st;
	wmq_defence_get_stats(d, &st);
	ASSERT_EQ(st.bans, 2); /* eve and the IPv6 net */
	wmq_defence_free(d);
}

static void two_bans(struct wmq_defence_opts *o)
{
	o->max_bans = 2;
}

TEST(ban_limit)
{
	struct wmq_defence *d = mk(two_bans);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_USERNAME, "a", T0 + 10, "", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_ADDRESS, "10.0.0.1", 0, "", T0), WMQ_OK);
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_CLIENT_ID, "c", 0, "", T0), WMQ_ERR_LIMIT);
	/* once the first has expired there is room again */
	ASSERT_EQ(wmq_defence_ban_add(d, WMQ_BAN_CLIENT_ID, "c", 0, "", T0 + 10), WMQ_OK);
	wmq_defence_free(d);
}

static void rate(struct wmq_defence_opts *o)
{
	o->conn_rate_per_s = 2;
	o->conn_burst = 3;
}

TEST(connection_rate)
{
	struct wmq_defence *d = mk(rate);
	struct wmq_addr a = A("192.0.2.50"), b = A("192.0.2.51");
	struct wmq_defence_hit hit;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, &hit), WMQ_DEFENCE_RATE_LIMITED);
	ASSERT_EQ(hit.wait_ms, 500);
	ASSERT_EQ(wmq_defence_on_connect(d, &b, T0, NULL), WMQ_DEFENCE_OK); /* per address */
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 499, NULL), WMQ_DEFENCE_RATE_LIMITED);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 500, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 500, NULL), WMQ_DEFENCE_RATE_LIMITED);
	/* a long pause refills to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 100000, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0 + 100000, NULL), WMQ_DEFENCE_RATE_LIMITED);
	wmq_defence_free(d);
}

TEST(set_opts_applies_to_later_calls)
{
	struct wmq_defence *d = mk(rate);
	struct wmq_addr a = A("192.0.2.60");
	struct wmq_defence_opts o;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, NULL), WMQ_DEFENCE_OK);
	ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, NULL), WMQ_DEFENCE_RATE_LIMITED);
	/* the limit switched off: the same address gets through at once */
	wmq_defence_opts_default(&o);
	o.conn_rate_per_s = 0;
	o.max_tracked = 1; /* ignored: the tables keep their size */
	ASSERT_EQ(wmq_defence_set_opts(d, &o), WMQ_OK);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, NULL), WMQ_DEFENCE_OK);
	o.decay_ms = 0;
	ASSERT_EQ(wmq_defence_set_opts(d, &o), WMQ_ERR_INVAL);
	/* a lower lock-out threshold applies to the next failure */
	wmq_defence_opts_default(&o);
	o.pair_ban_after = 2;
	ASSERT_EQ(wmq_defence_set_opts(d, &o), WMQ_OK);
	struct wmq_defence_failure f;
	wmq_defence_login_failed(d, &a, B("u"), T0, &f);
	ASSERT(!f.locked_out);
	wmq_defence_login_failed(d, &a, B("u"), T0, &f);
	ASSERT(f.locked_out);
	wmq_defence_free(d);
}

static void tiny(struct wmq_defence_opts *o)
{
	o->max_tracked = 8;
}

TEST(memory_bound)
{
	struct wmq_defence *d = mk(tiny);
	struct wmq_defence_failure f;
	for (int i = 0; i < 1000; i++) {
		char s[32], u[16];
		snprintf(s, sizeof s, "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
		snprintf(u, sizeof u, "u%d", i);
		struct wmq_addr a = A(s);
		wmq_defence_login_failed(d, &a, B(u), T0, &f);
		ASSERT_EQ(wmq_defence_on_connect(d, &a, T0, NULL), WMQ_DEFENCE_OK);
	}
	struct wmq_defence_stats st;
	wmq_defence_get_stats(d, &st);
	ASSERT_EQ(st.pairs, 8);
	ASSERT_EQ(st.addrs, 8);
	ASSERT_EQ(st.buckets, 8);
	ASSERT_EQ(st.evictions, 3 * (1000 - 8));
	/* an attacker who keeps trying stays resident (most recently used) */
	wmq_defence_free(d);
	d = mk(tiny);
	struct wmq_addr att = A("192.0.2.66");
	for (int i = 0; i < 100; i++) {
		char s[32];
		snprintf(s, sizeof s, "10.0.%d.%d", i >> 8, i & 255);
		struct wmq_addr a = A(s);
		wmq_defence_login_failed(d, &a, B("x"), T0, &f);
		wmq_defence_login_failed(d, &att, B("root"), T0, &f);
	}
	ASSERT_EQ(f.addr_failures, 100);
	ASSERT_EQ(f.pair_failures, 100);
	wmq_defence_free(d);
}

TEST(oom_is_safe)
{
	for (long n = 1; n < 30; n++) {
		struct wmq_defence_opts o;
		wmq_defence_opts_default(&o);
		struct wmq_defence *d = NULL;
		wmq_alloc_fail_after(n);
		if (wmq_defence_new(&o, &d) == WMQ_OK) {
			struct wmq_addr a = A("192.0.2.1");
			struct wmq_defence_failure f;
			wmq_err rc = wmq_defence_ban_add(d, WMQ_BAN_ADDRESS, "192.0.2.0/24", 0, "x", T0);
			wmq_defence_login_failed(d, &a, B("u"), T0, &f);
			enum wmq_defence_verdict v = wmq_defence_on_connect(d, &a, T0, NULL);
			/* banned, or refused for lack of memory: never let through */
			if (rc == WMQ_OK)
				ASSERT_EQ(v, WMQ_DEFENCE_BANNED);
		}
		wmq_alloc_fail_after(0);
		wmq_defence_free(d);
	}
}

static const struct wmq_test tests[] = {
	{"addresses_and_cidr", addresses_and_cidr},
	{"backoff_exponential_cap_decay", backoff_exponential_cap_decay},
	{"lockouts_pair_and_address", lockouts_pair_and_address},
	{"ipv6_grouping", ipv6_grouping},
	{"lift_one_lockout", lift_one_lockout},
	{"admin_bans", admin_bans},
	{"ban_limit", ban_limit},
	{"connection_rate", connection_rate},
	{"set_opts_applies_to_later_calls", set_opts_applies_to_later_calls},
	{"memory_bound", memory_bound},
	{"oom_is_safe", oom_is_safe},
};
WMQ_TEST_MAIN(tests)
