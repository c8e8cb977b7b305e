/* SPDX-License-Identifier: MIT
 * defence.c - back-off and lock-out tables, administrative bans, connection
 * token buckets. See defence.h for the model.
 * Threading: d->lock guards everything; no call does I/O. */
#include "security/defence.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/alloc.h"
#include "common/hmap.h"
#include "security/lru.h"

#define ADDR_KEY_LEN 17 /* family + 16 bytes */

/* ---- addresses ----------------------------------------------------------- */

static const uint8_t V4MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void from_v6(const uint8_t b[16], struct wmq_addr *out)
{
	memset(out, 0, sizeof *out);
	if (memcmp(b, V4MAPPED, 12) == 0) {
		out->family = 4;
		memcpy(out->b, b + 12, 4);
	} else {
		out->family = 6;
		memcpy(out->b, b, 16);
	}
}

wmq_err wmq_addr_parse(const char *s, struct wmq_addr *out)
{
	WMQ_ENSURE(s != NULL && out != NULL, WMQ_ERR_INVAL);
	uint8_t b[16];
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, b) == 1) {
		out->family = 4;
		memcpy(out->b, b, 4);
		return WMQ_OK;
	}
	WMQ_ENSURE(inet_pton(AF_INET6, s, b) == 1, WMQ_ERR_INVAL);
	from_v6(b, out);
	return WMQ_OK;
}

wmq_err wmq_addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct wmq_addr *out)
{
	WMQ_ENSURE(sa != NULL && out != NULL, WMQ_ERR_INVAL);
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in in;
		memcpy(&in, sa, sizeof in);
		out->family = 4;
		memcpy(out->b, &in.sin_addr, 4);
		return WMQ_OK;
	}
	WMQ_ENSURE(sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6), WMQ_ERR_INVAL);
	struct sockaddr_in6 in6;
	memcpy(&in6, sa, sizeof in6);
	from_v6(in6.sin6_addr.s6_addr, out);
	return WMQ_OK;
}

void wmq_addr_format(const struct wmq_addr *a, char *out, size_t cap)
{
	if (!cap)
		return;
	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

static void mask_bits(uint8_t *b, size_t nbytes, unsigned prefix)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= prefix)
			b[i] = 0;
		else if (prefix - bit < 8)
			b[i] &= (uint8_t)(0xff << (8 - (prefix - bit)));
	}
}

wmq_err wmq_cidr_parse(const char *s, struct wmq_cidr *out)
{
	char buf[64];
	WMQ_ENSURE(s != NULL && out != NULL, WMQ_ERR_INVAL);
	size_t n = strlen(s);
	WMQ_ENSURE(n > 0 && n < sizeof buf, WMQ_ERR_INVAL);
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		*slash = '\0';
		char *end = NULL;
		const char *ps = slash + 1;
		WMQ_ENSURE(*ps >= '0' && *ps <= '9' && strlen(ps) <= 3, WMQ_ERR_INVAL);
		prefix = strtol(ps, &end, 10);
		WMQ_ENSURE(*end == '\0', WMQ_ERR_INVAL);
	}
	struct wmq_addr a;
	WMQ_TRY(wmq_addr_parse(buf, &a));
	long max = a.family == 4 ? 32 : 128;
	if (slash && a.family == 4 && strchr(buf, ':')) {
		/* "::ffff:10.0.0.0/104" style: an IPv4-mapped prefix */
		WMQ_ENSURE(prefix >= 96, WMQ_ERR_INVAL);
		prefix -= 96;
	}
	if (prefix < 0)
		prefix = max;
	WMQ_ENSURE(prefix <= max, WMQ_ERR_INVAL);
	mask_bits(a.b, a.family == 4 ? 4 : 16, (unsigned)prefix);
	out->net = a;
	out->prefix = (uint8_t)prefix;
	return WMQ_OK;
}

bool wmq_cidr_contains(const struct wmq_cidr *c, const struct wmq_addr *a)
{
	if (c->net.family != a->family)
		return false;
	struct wmq_addr m = *a;
	mask_bits(m.b, a->family == 4 ? 4 : 16, c->prefix);
	return memcmp(m.b, c->net.b, 16) == 0;
}

static void cidr_format(const struct wmq_cidr *c, char *out, size_t cap)
{
	char a[64];
	wmq_addr_format(&c->net, a, sizeof a);
	snprintf(out, cap, "%s/%u", a, (unsigned)c->prefix);
}

/* ---- tables -------------------------------------------------------------- */

/* Back-off entry: (address group) or (address group, username). */
struct track {
	struct wmq_lru_node node;
	uint32_t failures;
	int64_t last_fail_ms;
	int64_t next_ok_ms;   /* back-off: attempts before this are refused */
	int64_t locked_until; /* lock-out; 0 = none */
	size_t klen;
	uint8_t key[]; /* ADDR_KEY_LEN [+ username] */
};

struct bucket {
	struct wmq_lru_node node;
	uint64_t milli; /* tokens x 1000 */
	int64_t last_ms;
	uint8_t key[ADDR_KEY_LEN];
};

struct ban {
	enum wmq_ban_kind kind;
	char *value; /* client id / username / normalised CIDR text; map key */
	struct wmq_cidr cidr;
	int64_t expires_ms;
	char reason[128];
};

struct wmq_defence {
	pthread_mutex_t lock;
	struct wmq_defence_opts o;
	struct wmq_lru pairs, addrs, buckets;
	struct wmq_hmap ban_cid, ban_user;
	struct ban **ban_addr; /* linear: CIDR containment */
	size_t n_addr_bans, cap_addr_bans;
	size_t nbans;
	uint64_t evictions;
};

void wmq_defence_opts_default(struct wmq_defence_opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_tracked = 65536;
	o->pair_free = 1;
	o->pair_base_ms = 1000;
	o->pair_cap_ms = 60000;
	o->pair_ban_after = 10;
	o->pair_ban_ms = 15 * 60 * 1000;
	o->addr_free = 5;
	o->addr_base_ms = 500;
	o->addr_cap_ms = 30000;
	o->addr_ban_after = 50;
	o->addr_ban_ms = 60 * 60 * 1000;
	o->decay_ms = 60000;
	o->conn_rate_per_s = 10;
	o->conn_burst = 20;
	o->ipv6_prefix = 64;
	o->max_bans = 10000;
}

static void drop_node(struct wmq_lru_node *n)
{
	/* struct track and struct bucket both start with the node */
	wmq_free(n);
}

static void ban_free(struct ban *b)
{
	if (b) {
		wmq_free(b->value);
		wmq_free(b);
	}
}

wmq_err wmq_defence_new(const struct wmq_defence_opts *o, struct wmq_defence **out)
{
	WMQ_ENSURE(o != NULL && out != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(o->max_tracked > 0 && o->ipv6_prefix <= 128 && o->decay_ms > 0, WMQ_ERR_INVAL);
	struct wmq_defence *d = wmq_calloc(1, sizeof *d);
	WMQ_ENSURE(d != NULL, WMQ_ERR_NOMEM);
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		wmq_free(d);
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	}
	d->o = *o;
	wmq_lru_init(&d->pairs, o->max_tracked);
	wmq_lru_init(&d->addrs, o->max_tracked);
	wmq_lru_init(&d->buckets, o->max_tracked);
	wmq_hmap_init(&d->ban_cid);
	wmq_hmap_init(&d->ban_user);
	*out = d;
	return WMQ_OK;
}

wmq_err wmq_defence_set_opts(struct wmq_defence *d, const struct wmq_defence_opts *o)
{
	WMQ_ENSURE(d != NULL && o != NULL && o->decay_ms > 0, WMQ_ERR_INVAL);
	pthread_mutex_lock(&d->lock);
	size_t max_tracked = d->o.max_tracked, max_bans = d->o.max_bans;
	uint8_t prefix = d->o.ipv6_prefix;
	d->o = *o;
	d->o.max_tracked = max_tracked;
	d->o.max_bans = max_bans;
	d->o.ipv6_prefix = prefix;
	pthread_mutex_unlock(&d->lock);
	return WMQ_OK;
}

static void free_ban_map(struct wmq_hmap *m)
{
	size_t i = 0;
	struct wmq_hent *e;
	while ((e = wmq_hmap_next(m, &i)) != NULL)
		ban_free(e->val);
	wmq_hmap_cleanup(m);
}

void wmq_defence_free(struct wmq_defence *d)
{
	if (!d)
		return;
	wmq_lru_cleanup(&d->pairs, drop_node);
	wmq_lru_cleanup(&d->addrs, drop_node);
	wmq_lru_cleanup(&d->buckets, drop_node);
	free_ban_map(&d->ban_cid);
	free_ban_map(&d->ban_user);
	for (size_t i = 0; i < d->n_addr_bans; i++)
		ban_free(d->ban_addr[i]);
	wmq_free(d->ban_addr);
	pthread_mutex_destroy(&d->lock);
	wmq_free(d);
}

/* Key of an address group: IPv6 cut to ipv6_prefix bits. */
static void addr_key(const struct wmq_defence *d, const struct wmq_addr *a, uint8_t k[ADDR_KEY_LEN])
{
	memset(k, 0, ADDR_KEY_LEN);
	k[0] = a->family;
	memcpy(k + 1, a->b, a->family == 4 ? 4 : 16);
	if (a->family == 6)
		mask_bits(k + 1, 16, d->o.ipv6_prefix);
}

/* Find or create a back-off entry. NULL only when out of memory. */
static struct track *track_get(struct wmq_defence *d, struct wmq_lru *t, const uint8_t *key, size_t klen,
			       bool create)
{
	struct wmq_lru_node *n = wmq_lru_get(t, key, klen);
	if (n || !create)
		return (struct track *)(void *)n;
	struct track *tr = wmq_calloc(1, sizeof *tr + klen);
	if (!tr)
		return NULL;
	memcpy(tr->key, key, klen);
	tr->klen = klen;
	tr->node.key = tr->key;
	tr->node.klen = klen;
	struct wmq_lru_node *ev = NULL;
	if (wmq_lru_put(t, &tr->node, &ev) != WMQ_OK) {
		wmq_free(tr);
		return NULL;
	}
	if (ev) {
		d->evictions++;
		drop_node(ev);
	}
	return tr;
}

static uint8_t *pair_key(const uint8_t ak[ADDR_KEY_LEN], struct wmq_bytes user, size_t *klen, uint8_t *stackbuf,
			 size_t cap)
{
	size_t n = ADDR_KEY_LEN + user.len;
	uint8_t *k = n <= cap ? stackbuf : wmq_malloc(n);
	if (!k)
		return NULL;
	memcpy(k, ak, ADDR_KEY_LEN);
	if (user.len)
		memcpy(k + ADDR_KEY_LEN, user.p, user.len);
	*klen = n;
	return k;
}

/* Failures left after decay at |now|. */
static uint32_t decayed(const struct wmq_defence *d, const struct track *t, int64_t now)
{
	if (now <= t->last_fail_ms)
		return t->failures;
	uint64_t gone = (uint64_t)(now - t->last_fail_ms) / d->o.decay_ms;
	return gone >= t->failures ? 0 : t->failures - (uint32_t)gone;
}

static uint64_t backoff(uint32_t failures, uint32_t free_n, uint32_t base, uint32_t cap)
{
	if (failures <= free_n)
		return 0;
	uint32_t e = failures - free_n - 1;
	uint64_t v = e >= 32 ? UINT64_MAX : (uint64_t)base << e;
	return v > cap ? cap : v;
}

/* ---- bans ---------------------------------------------------------------- */

static void set_hit(struct wmq_defence_hit *hit, enum wmq_ban_kind k, int64_t until, uint64_t wait, const char *why)
{
	if (!hit)
		return;
	hit->kind = k;
	hit->until_ms = until;
	hit->wait_ms = wait;
	snprintf(hit->reason, sizeof hit->reason, "%s", why ? why : "");
}

static bool expired(const struct ban *b, int64_t now)
{
	return b->expires_ms && now >= b->expires_ms;
}

static void addr_ban_remove_at(struct wmq_defence *d, size_t i)
{
	ban_free(d->ban_addr[i]);
	d->ban_addr[i] = d->ban_addr[--d->n_addr_bans];
	d->nbans--;
}

static const struct ban *match_addr_ban(struct wmq_defence *d, const struct wmq_addr *a, int64_t now)
{
	for (size_t i = 0; i < d->n_addr_bans;) {
		struct ban *b = d->ban_addr[i];
		if (expired(b, now)) {
			addr_ban_remove_at(d, i);
			continue;
		}
		if (wmq_cidr_contains(&b->cidr, a))
			return b;
		i++;
	}
	return NULL;
}

static const struct ban *match_map_ban(struct wmq_defence *d, struct wmq_hmap *m, struct wmq_bytes v, int64_t now)
{
	if (!v.p)
		return NULL;
	struct ban *b = wmq_hmap_get(m, v.p, v.len);
	if (b && expired(b, now)) {
		(void)wmq_hmap_del(m, b->value, strlen(b->value));
		ban_free(b);
		d->nbans--;
		return NULL;
	}
	return b;
}

/* Purge every expired ban (keeps the count honest before LIMIT). */
static void purge(struct wmq_defence *d, int64_t now)
{
	struct wmq_hmap *maps[2] = {&d->ban_cid, &d->ban_user};
	for (int m = 0; m < 2; m++) {
		for (;;) {
			size_t i = 0;
			struct wmq_hent *e;
			struct ban *victim = NULL;
			while ((e = wmq_hmap_next(maps[m], &i)) != NULL) {
				if (expired(e->val, now)) {
					victim = e->val;
					break;
				}
			}
			if (!victim)
				break;
			(void)wmq_hmap_del(maps[m], victim->value, strlen(victim->value));
			ban_free(victim);
			d->nbans--;
		}
	}
	for (size_t i = 0; i < d->n_addr_bans;) {
		if (expired(d->ban_addr[i], now))
			addr_ban_remove_at(d, i);
		else
			i++;
	}
}

wmq_err wmq_defence_ban_add(struct wmq_defence *d, enum wmq_ban_kind kind, const char *value, int64_t expires_ms,
			    const char *reason, int64_t now_ms)
{
	wmq_err rc = WMQ_OK;
	struct ban *b = NULL;
	WMQ_ENSURE(d != NULL && value != NULL && value[0] != '\0', WMQ_ERR_INVAL);
	WMQ_ENSURE(kind == WMQ_BAN_CLIENT_ID || kind == WMQ_BAN_USERNAME || kind == WMQ_BAN_ADDRESS, WMQ_ERR_INVAL);
	b = wmq_calloc(1, sizeof *b);
	WMQ_ENSURE(b != NULL, WMQ_ERR_NOMEM);
	b->kind = kind;
	b->expires_ms = expires_ms;
	snprintf(b->reason, sizeof b->reason, "%s", reason ? reason : "");
	if (kind == WMQ_BAN_ADDRESS) {
		char norm[80];
		if ((rc = wmq_cidr_parse(value, &b->cidr)) != WMQ_OK)
			goto out;
		cidr_format(&b->cidr, norm, sizeof norm);
		b->value = wmq_strdup(norm);
	} else {
		b->value = wmq_strdup(value);
	}
	if (!b->value) {
		rc = WMQ_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	if (kind == WMQ_BAN_ADDRESS) {
		for (size_t i = 0; i < d->n_addr_bans; i++) {
			if (strcmp(d->ban_addr[i]->value, b->value) == 0) {
				ban_free(d->ban_addr[i]);
				d->ban_addr[i] = b; /* replace */
				b = NULL;
				goto unlock;
			}
		}
	} else {
		struct wmq_hmap *m = kind == WMQ_BAN_CLIENT_ID ? &d->ban_cid : &d->ban_user;
		struct ban *old = wmq_hmap_get(m, b->value, strlen(b->value));
		if (old) {
			/* the map key is the entry's own string: delete, then insert
			 * the new entry (no growth after a delete, cannot fail) */
			(void)wmq_hmap_del(m, old->value, strlen(old->value));
			if ((rc = wmq_hmap_put(m, b->value, strlen(b->value), b)) == WMQ_OK)
				b = NULL;
			else
				d->nbans--;
			ban_free(old);
			goto unlock;
		}
	}
	if (d->nbans >= d->o.max_bans)
		purge(d, now_ms);
	if (d->nbans >= d->o.max_bans) {
		rc = WMQ_ERR_LIMIT;
		goto unlock;
	}
	if (kind == WMQ_BAN_ADDRESS) {
		if (d->n_addr_bans == d->cap_addr_bans) {
			size_t nc = d->cap_addr_bans ? d->cap_addr_bans * 2 : 16;
			struct ban **nv = wmq_reallocarray(d->ban_addr, nc, sizeof *nv);
			if (!nv) {
				rc = WMQ_ERR_NOMEM;
				goto unlock;
			}
			d->ban_addr = nv;
			d->cap_addr_bans = nc;
		}
		d->ban_addr[d->n_addr_bans++] = b;
	} else {
		struct wmq_hmap *m = kind == WMQ_BAN_CLIENT_ID ? &d->ban_cid : &d->ban_user;
		if ((rc = wmq_hmap_put(m, b->value, strlen(b->value), b)) != WMQ_OK)
			goto unlock;
	}
	d->nbans++;
	b = NULL;
unlock:
	pthread_mutex_unlock(&d->lock);
out:
	ban_free(b);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

wmq_err wmq_defence_ban_del(struct wmq_defence *d, enum wmq_ban_kind kind, const char *value)
{
	wmq_err rc = WMQ_ERR_NOTFOUND;
	char norm[80];
	WMQ_ENSURE(d != NULL && value != NULL, WMQ_ERR_INVAL);
	if (kind == WMQ_BAN_ADDRESS) {
		struct wmq_cidr c;
		WMQ_TRY(wmq_cidr_parse(value, &c));
		cidr_format(&c, norm, sizeof norm);
		value = norm;
	} else {
		WMQ_ENSURE(kind == WMQ_BAN_CLIENT_ID || kind == WMQ_BAN_USERNAME, WMQ_ERR_INVAL);
	}
	pthread_mutex_lock(&d->lock);
	if (kind == WMQ_BAN_ADDRESS) {
		for (size_t i = 0; i < d->n_addr_bans; i++) {
			if (strcmp(d->ban_addr[i]->value, value) == 0) {
				addr_ban_remove_at(d, i);
				rc = WMQ_OK;
				break;
			}
		}
	} else {
		struct wmq_hmap *m = kind == WMQ_BAN_CLIENT_ID ? &d->ban_cid : &d->ban_user;
		struct ban *b = wmq_hmap_del(m, value, strlen(value));
		if (b) {
			ban_free(b);
			d->nbans--;
			rc = WMQ_OK;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* ---- checks -------------------------------------------------------------- */

/* Lock-out or back-off of one entry; returns a verdict other than OK when
 * it stops the attempt. */
static enum wmq_defence_verdict entry_verdict(struct track *t, enum wmq_ban_kind k, int64_t now,
					      struct wmq_defence_hit *hit)
{
	if (!t)
		return WMQ_DEFENCE_OK;
	if (t->locked_until && now < t->locked_until) {
		set_hit(hit, k, t->locked_until, (uint64_t)(t->locked_until - now), "too many failed logins");
		return WMQ_DEFENCE_BANNED;
	}
	if (now < t->next_ok_ms) {
		set_hit(hit, k, 0, (uint64_t)(t->next_ok_ms - now), "failed-login back-off");
		return WMQ_DEFENCE_BACKOFF;
	}
	return WMQ_DEFENCE_OK;
}

enum wmq_defence_verdict wmq_defence_on_connect(struct wmq_defence *d, const struct wmq_addr *a, int64_t now_ms,
						struct wmq_defence_hit *hit)
{
	enum wmq_defence_verdict v = WMQ_DEFENCE_OK;
	uint8_t k[ADDR_KEY_LEN];
	if (!d || !a)
		return WMQ_DEFENCE_BANNED; /* fail closed on misuse */
	addr_key(d, a, k);
	pthread_mutex_lock(&d->lock);
	const struct ban *b = match_addr_ban(d, a, now_ms);
	if (b) {
		set_hit(hit, WMQ_BAN_ADDRESS, b->expires_ms, 0, b->reason);
		v = WMQ_DEFENCE_BANNED;
		goto out;
	}
	struct track *t = track_get(d, &d->addrs, k, ADDR_KEY_LEN, false);
	if (t && t->locked_until && now_ms < t->locked_until) {
		v = entry_verdict(t, WMQ_BAN_LOCKOUT_ADDR, now_ms, hit);
		goto out;
	}
	if (d->o.conn_rate_per_s) {
		struct wmq_lru_node *n = wmq_lru_get(&d->buckets, k, ADDR_KEY_LEN);
		struct bucket *bk = (struct bucket *)(void *)n;
		uint64_t cap = (uint64_t)(d->o.conn_burst ? d->o.conn_burst : 1) * 1000u;
		if (!bk) {
			bk = wmq_calloc(1, sizeof *bk);
			if (!bk) {
				/* no memory to track this source: refuse rather than
				 * let an untracked flood through */
				v = WMQ_DEFENCE_RATE_LIMITED;
				set_hit(hit, WMQ_BAN_ADDRESS, 0, 0, "connection rate");
				goto out;
			}
			memcpy(bk->key, k, ADDR_KEY_LEN);
			bk->node.key = bk->key;
			bk->node.klen = ADDR_KEY_LEN;
			bk->milli = cap;
			bk->last_ms = now_ms;
			struct wmq_lru_node *ev = NULL;
			if (wmq_lru_put(&d->buckets, &bk->node, &ev) != WMQ_OK) {
				wmq_free(bk);
				v = WMQ_DEFENCE_RATE_LIMITED;
				set_hit(hit, WMQ_BAN_ADDRESS, 0, 0, "connection rate");
				goto out;
			}
			if (ev) {
				d->evictions++;
				drop_node(ev);
			}
		}
		if (now_ms > bk->last_ms) {
			uint64_t add = (uint64_t)(now_ms - bk->last_ms) * d->o.conn_rate_per_s;
			bk->milli = bk->milli + add > cap ? cap : bk->milli + add;
			bk->last_ms = now_ms;
		}
		if (bk->milli < 1000) {
			uint64_t wait = (1000 - bk->milli + d->o.conn_rate_per_s - 1) / d->o.conn_rate_per_s;
			set_hit(hit, WMQ_BAN_ADDRESS, 0, wait, "connection rate");
			v = WMQ_DEFENCE_RATE_LIMITED;
			goto out;
		}
		bk->milli -= 1000;
	}
out:
	pthread_mutex_unlock(&d->lock);
	return v;
}

enum wmq_defence_verdict wmq_defence_check_login(struct wmq_defence *d, const struct wmq_addr *a,
						 struct wmq_bytes client_id, struct wmq_bytes username,
						 int64_t now_ms, struct wmq_defence_hit *hit)
{
	enum wmq_defence_verdict v = WMQ_DEFENCE_OK;
	uint8_t ak[ADDR_KEY_LEN], kbuf[256];
	size_t klen = 0;
	if (!d || !a)
		return WMQ_DEFENCE_BANNED;
	addr_key(d, a, ak);
	uint8_t *pk = pair_key(ak, username, &klen, kbuf, sizeof kbuf);
	pthread_mutex_lock(&d->lock);
	const struct ban *b;
	if ((b = match_map_ban(d, &d->ban_cid, client_id, now_ms)) != NULL) {
		set_hit(hit, WMQ_BAN_CLIENT_ID, b->expires_ms, 0, b->reason);
		v = WMQ_DEFENCE_BANNED;
	} else if ((b = match_map_ban(d, &d->ban_user, username, now_ms)) != NULL) {
		set_hit(hit, WMQ_BAN_USERNAME, b->expires_ms, 0, b->reason);
		v = WMQ_DEFENCE_BANNED;
	} else if ((b = match_addr_ban(d, a, now_ms)) != NULL) {
		set_hit(hit, WMQ_BAN_ADDRESS, b->expires_ms, 0, b->reason);
		v = WMQ_DEFENCE_BANNED;
	} else if (!pk) {
		set_hit(hit, WMQ_BAN_LOCKOUT_PAIR, 0, 1000, "out of memory");
		v = WMQ_DEFENCE_BACKOFF; /* cannot consult the pair: fail closed */
	} else {
		struct track *ta = track_get(d, &d->addrs, ak, ADDR_KEY_LEN, false);
		struct track *tp = track_get(d, &d->pairs, pk, klen, false);
		enum wmq_defence_verdict va = entry_verdict(ta, WMQ_BAN_LOCKOUT_ADDR, now_ms, NULL);
		enum wmq_defence_verdict vp = entry_verdict(tp, WMQ_BAN_LOCKOUT_PAIR, now_ms, NULL);
		/* the stronger answer wins: BANNED over BACKOFF; between two
		 * back-offs the longer wait */
		if (va == WMQ_DEFENCE_BANNED)
			v = entry_verdict(ta, WMQ_BAN_LOCKOUT_ADDR, now_ms, hit);
		else if (vp == WMQ_DEFENCE_BANNED)
			v = entry_verdict(tp, WMQ_BAN_LOCKOUT_PAIR, now_ms, hit);
		else if (va == WMQ_DEFENCE_BACKOFF && (vp != WMQ_DEFENCE_BACKOFF || ta->next_ok_ms >= tp->next_ok_ms))
			v = entry_verdict(ta, WMQ_BAN_LOCKOUT_ADDR, now_ms, hit);
		else if (vp == WMQ_DEFENCE_BACKOFF)
			v = entry_verdict(tp, WMQ_BAN_LOCKOUT_PAIR, now_ms, hit);
	}
	pthread_mutex_unlock(&d->lock);
	if (pk && pk != kbuf)
		wmq_free(pk);
	return v;
}

/* One more failure on |t|; returns true when it starts a lock-out. */
static bool fail_one(const struct wmq_defence *d, struct track *t, int64_t now, uint32_t free_n, uint32_t base,
		     uint32_t cap, uint32_t ban_after, uint32_t ban_ms)
{
	uint32_t f = decayed(d, t, now);
	if (f < UINT32_MAX)
		f++;
	t->failures = f;
	t->last_fail_ms = now;
	int64_t next = now + (int64_t)backoff(f, free_n, base, cap);
	if (next > t->next_ok_ms)
		t->next_ok_ms = next;
	if (ban_after && f >= ban_after && !(t->locked_until && now < t->locked_until)) {
		t->locked_until = now + ban_ms;
		return true;
	}
	return false;
}

void wmq_defence_login_failed(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username,
			      int64_t now_ms, struct wmq_defence_failure *out)
{
	struct wmq_defence_failure r;
	uint8_t ak[ADDR_KEY_LEN], kbuf[256];
	size_t klen = 0;
	memset(&r, 0, sizeof r);
	if (!d || !a) {
		if (out)
			*out = r;
		return;
	}
	addr_key(d, a, ak);
	uint8_t *pk = pair_key(ak, username, &klen, kbuf, sizeof kbuf);
	pthread_mutex_lock(&d->lock);
	struct track *ta = track_get(d, &d->addrs, ak, ADDR_KEY_LEN, true);
	struct track *tp = pk ? track_get(d, &d->pairs, pk, klen, true) : NULL;
	const struct wmq_defence_opts *o = &d->o;
	if (tp) {
		if (fail_one(d, tp, now_ms, o->pair_free, o->pair_base_ms, o->pair_cap_ms, o->pair_ban_after,
			     o->pair_ban_ms)) {
			r.locked_out = true;
			r.lockout_kind = WMQ_BAN_LOCKOUT_PAIR;
			r.lockout_until_ms = tp->locked_until;
		}
		r.pair_failures = tp->failures;
		r.next_wait_ms = (uint64_t)(tp->next_ok_ms - now_ms);
	}
	if (ta) {
		if (fail_one(d, ta, now_ms, o->addr_free, o->addr_base_ms, o->addr_cap_ms, o->addr_ban_after,
			     o->addr_ban_ms)) {
			r.locked_out = true; /* the address lock-out is the wider one */
			r.lockout_kind = WMQ_BAN_LOCKOUT_ADDR;
			r.lockout_until_ms = ta->locked_until;
		}
		r.addr_failures = ta->failures;
		if ((uint64_t)(ta->next_ok_ms - now_ms) > r.next_wait_ms)
			r.next_wait_ms = (uint64_t)(ta->next_ok_ms - now_ms);
	}
	pthread_mutex_unlock(&d->lock);
	if (pk && pk != kbuf)
		wmq_free(pk);
	if (out)
		*out = r;
}

static void forget_pair(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username, bool addr_too)
{
	uint8_t ak[ADDR_KEY_LEN], kbuf[256];
	size_t klen = 0;
	if (!d || !a)
		return;
	addr_key(d, a, ak);
	uint8_t *pk = pair_key(ak, username, &klen, kbuf, sizeof kbuf);
	pthread_mutex_lock(&d->lock);
	struct wmq_lru_node *n = pk ? wmq_lru_peek(&d->pairs, pk, klen) : NULL;
	if (n) {
		wmq_lru_remove(&d->pairs, n);
		drop_node(n);
	}
	if (addr_too && (n = wmq_lru_peek(&d->addrs, ak, ADDR_KEY_LEN)) != NULL) {
		wmq_lru_remove(&d->addrs, n);
		drop_node(n);
	}
	pthread_mutex_unlock(&d->lock);
	if (pk && pk != kbuf)
		wmq_free(pk);
}

void wmq_defence_login_succeeded(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username)
{
	forget_pair(d, a, username, false);
}

void wmq_defence_unlock(struct wmq_defence *d, const struct wmq_addr *a, struct wmq_bytes username)
{
	forget_pair(d, a, username, true);
}

bool wmq_defence_lift(struct wmq_defence *d, enum wmq_ban_kind kind, const struct wmq_addr *a,
		      struct wmq_bytes username, int64_t now_ms)
{
	uint8_t ak[ADDR_KEY_LEN], kbuf[256];
	size_t klen = ADDR_KEY_LEN;
	bool lifted = false;
	if (!d || !a || (kind != WMQ_BAN_LOCKOUT_PAIR && kind != WMQ_BAN_LOCKOUT_ADDR))
		return false;
	addr_key(d, a, ak);
	uint8_t *k = ak;
	if (kind == WMQ_BAN_LOCKOUT_PAIR && (k = pair_key(ak, username, &klen, kbuf, sizeof kbuf)) == NULL)
		return false;
	struct wmq_lru *t = kind == WMQ_BAN_LOCKOUT_PAIR ? &d->pairs : &d->addrs;
	pthread_mutex_lock(&d->lock);
	struct wmq_lru_node *n = wmq_lru_peek(t, k, klen);
	const struct track *tr = (const struct track *)(const void *)n;
	if (tr && tr->locked_until && now_ms < tr->locked_until) {
		wmq_lru_remove(t, n);
		drop_node(n);
		lifted = true;
	}
	pthread_mutex_unlock(&d->lock);
	if (k != ak && k != kbuf)
		wmq_free(k);
	return lifted;
}

/* ---- listing and stats ----------------------------------------------------- */

static void track_label(const struct track *t, bool pair, char *out, size_t cap)
{
	struct wmq_addr a;
	char as[64];
	memset(&a, 0, sizeof a);
	a.family = t->key[0];
	memcpy(a.b, t->key + 1, 16);
	wmq_addr_format(&a, as, sizeof as);
	if (pair)
		snprintf(out, cap, "%s %.*s", as, (int)(t->klen - ADDR_KEY_LEN), (const char *)t->key + ADDR_KEY_LEN);
	else
		snprintf(out, cap, "%s", as);
}

size_t wmq_defence_ban_list(struct wmq_defence *d, int64_t now_ms, wmq_defence_ban_fn fn, void *arg)
{
	size_t n = 0;
	char label[512];
	if (!d || !fn)
		return 0;
	pthread_mutex_lock(&d->lock);
	purge(d, now_ms);
	struct wmq_hmap *maps[2] = {&d->ban_cid, &d->ban_user};
	for (int m = 0; m < 2; m++) {
		size_t i = 0;
		struct wmq_hent *e;
		while ((e = wmq_hmap_next(maps[m], &i)) != NULL) {
			const struct ban *b = e->val;
			fn(arg, b->kind, b->value, b->expires_ms, b->reason);
			n++;
		}
	}
	for (size_t i = 0; i < d->n_addr_bans; i++) {
		const struct ban *b = d->ban_addr[i];
		fn(arg, b->kind, b->value, b->expires_ms, b->reason);
		n++;
	}
	struct wmq_lru *tabs[2] = {&d->addrs, &d->pairs};
	for (int t = 0; t < 2; t++) {
		for (struct wmq_lru_node *x = wmq_lru_next(tabs[t], NULL); x; x = wmq_lru_next(tabs[t], x)) {
			const struct track *tr = (const struct track *)(const void *)x;
			if (!tr->locked_until || now_ms >= tr->locked_until)
				continue;
			track_label(tr, t == 1, label, sizeof label);
			fn(arg, t == 1 ? WMQ_BAN_LOCKOUT_PAIR : WMQ_BAN_LOCKOUT_ADDR, label, tr->locked_until,
			   "too many failed logins");
			n++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

void wmq_defence_get_stats(struct wmq_defence *d, struct wmq_defence_stats *st)
{
	pthread_mutex_lock(&d->lock);
	st->pairs = d->pairs.n;
	st->addrs = d->addrs.n;
	st->buckets = d->buckets.n;
	st->bans = d->nbans;
	st->evictions = d->evictions;
	pthread_mutex_unlock(&d->lock);
}
