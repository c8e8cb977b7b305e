/* SPDX-License-Identifier: MIT
 * policy.c - rule store, per-principal compilation into a topic trie,
 * topic-name decisions, subscription containment, the per-connection
 * decision cache and the explainer. Text formats are in policy_text.c.
 *
 * Compiled form (struct compiled, one per connection and policy version):
 * two tries over filter levels. The shared one holds the rules of the
 * principal's subject set (all, anonymous, its groups and roles) that need
 * no substitution; it is built once per subject set and cached in the policy
 * (thousands of devices in one group compile once). The connection's own
 * trie holds the user's own rules and every rule with %u / %c. A node has
 * literal children (hash map keyed by the level), a '+' child and a '#'
 * child, and per action the best rule whose (substituted) filter ends at
 * that node. All rules at one node have the same filter, hence the same
 * specificity, so "best" there is by priority, then deny over allow, then
 * the lower max_qos. Walks start from both roots; candidates from either
 * trie compete under the one precedence order.
 *
 * Topic name check: depth-first walk of the trie along the topic (literal
 * and '+' branches; every '#' child met matches), keeping the best
 * candidate by the full precedence (priority, specificity, deny). The walk
 * uses an explicit stack sized from the trie depth (no recursion over
 * client-controlled input; rule filters are bounded by
 * WMQ_POLICY_MAX_LEVELS).
 *
 * Subscription check: symbolic walk of the subscription filter S over the
 * trie. For a literal level of S the topic level is that literal; for '+'
 * it is each literal the active trie nodes name plus one "other" level
 * (matched only by '+' / '#'); for '#' additionally "no more levels", and
 * the walk continues while trie nodes remain. Every topic S can match falls
 * in one of these classes, and all topics in a class get the same decision,
 * so checking one representative per class decides S exactly. The walk is
 * bounded by a work budget (deny beyond it).
 *
 * Threading: see policy.h. Ownership: the policy owns its rules; a compiled
 * trie owns its nodes and substituted filters and borrows rules. */
#include "security/policy.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/hmap.h"
#include "protocol/mqtt.h"
#include "security/policy_int.h"

#define END_POS SIZE_MAX

/* ---- rule store ---------------------------------------------------------- */

struct rule_list {
	uint8_t *key; /* subject kind char + name */
	size_t klen;
	struct rule_int **v;
	size_t n, cap;
};

struct shared;

struct wmq_policy {
	atomic_size_t refs;
	uint64_t version;
	struct rule_int **rules;
	size_t n, cap;
	uint64_t next_id;
	struct wmq_hmap by_subject; /* key -> struct rule_list */
	struct wmq_hmap by_id;      /* &rule->pub.id (8 bytes) -> struct rule_int */
	/* compiled tries shared by principals with the same groups and roles
	 * (the only mutable part of a published policy) */
	pthread_mutex_t cache_lock;
	struct wmq_hmap shared; /* subject-set key -> struct shared */
};

static void shared_unref(struct shared *sh);

static const char SUBJ_CH[] = {'*', 'A', 'u', 'g', 'r'};

/* Subject key into |buf| (caller frees if != stack). */
static uint8_t *subject_key(enum wmq_policy_subject s, const char *name, size_t *klen)
{
	size_t nl = name ? strlen(name) : 0;
	uint8_t *k = wmq_malloc(nl + 1);
	if (!k)
		return NULL;
	k[0] = (uint8_t)SUBJ_CH[s];
	if (nl)
		memcpy(k + 1, name, nl);
	*klen = nl + 1;
	return k;
}

wmq_err wmq_policy_new(uint64_t version, struct wmq_policy **out)
{
	WMQ_ENSURE(out != NULL, WMQ_ERR_INVAL);
	struct wmq_policy *p = wmq_calloc(1, sizeof *p);
	WMQ_ENSURE(p != NULL, WMQ_ERR_NOMEM);
	atomic_init(&p->refs, 1);
	p->version = version;
	p->next_id = 1;
	wmq_hmap_init(&p->by_subject);
	wmq_hmap_init(&p->by_id);
	wmq_hmap_init(&p->shared);
	if (pthread_mutex_init(&p->cache_lock, NULL) != 0) {
		wmq_free(p);
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	}
	*out = p;
	return WMQ_OK;
}

struct wmq_policy *wmq_policy_ref(struct wmq_policy *p)
{
	if (p)
		atomic_fetch_add(&p->refs, 1);
	return p;
}

static void rule_free(struct rule_int *r)
{
	if (!r)
		return;
	wmq_free((void *)(uintptr_t)r->pub.subject_name);
	wmq_free((void *)(uintptr_t)r->pub.filter);
	wmq_free((void *)(uintptr_t)r->pub.origin);
	wmq_free(r);
}

void wmq_policy_unref(struct wmq_policy *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	size_t i = 0;
	struct wmq_hent *e;
	/* the compiled tries: every authorizer holding one also holds a policy
	 * reference, so only the cache's references are left */
	while ((e = wmq_hmap_next(&p->shared, &i)) != NULL)
		shared_unref(e->val);
	wmq_hmap_cleanup(&p->shared);
	pthread_mutex_destroy(&p->cache_lock);
	i = 0;
	while ((e = wmq_hmap_next(&p->by_subject, &i)) != NULL) {
		struct rule_list *l = e->val;
		wmq_free(l->v);
		wmq_free(l->key);
		wmq_free(l);
	}
	wmq_hmap_cleanup(&p->by_subject);
	wmq_hmap_cleanup(&p->by_id);
	for (size_t k = 0; k < p->n; k++)
		rule_free(p->rules[k]);
	wmq_free(p->rules);
	wmq_free(p);
}

uint64_t wmq_policy_version(const struct wmq_policy *p)
{
	return p->version;
}

size_t wmq_policy_count(const struct wmq_policy *p)
{
	return p->n;
}

const struct wmq_policy_rule *wmq_policy_rule_at(const struct wmq_policy *p, size_t i)
{
	return i < p->n ? &p->rules[i]->pub : NULL;
}

wmq_err wmq_policy_validate(const struct wmq_policy *p)
{
	WMQ_ENSURE(p != NULL && p->n > 0, WMQ_ERR_INVAL);
	return WMQ_OK;
}

static bool has_seq(const char *s, const char *seq)
{
	return strstr(s, seq) != NULL;
}

wmq_err wmq_policy_add(struct wmq_policy *p, const struct wmq_policy_rule_spec *spec, uint64_t *id_out)
{
	wmq_err rc = WMQ_ERR_NOMEM;
	struct rule_int *r = NULL;
	uint8_t *key = NULL;
	struct rule_list *l = NULL;
	bool l_new = false;
	WMQ_ENSURE(p != NULL && spec != NULL && spec->filter != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(spec->actions != 0 && (spec->actions & ~WMQ_ACT_ALL) == 0, WMQ_ERR_INVAL);
	WMQ_ENSURE(spec->effect == WMQ_POLICY_ALLOW || spec->effect == WMQ_POLICY_DENY, WMQ_ERR_INVAL);
	WMQ_ENSURE(spec->max_qos >= -1 && spec->max_qos <= 2, WMQ_ERR_INVAL);
	WMQ_ENSURE((unsigned)spec->subject <= WMQ_SUBJ_ROLE, WMQ_ERR_INVAL);
	bool named = spec->subject >= WMQ_SUBJ_USER;
	WMQ_ENSURE(named == (spec->subject_name != NULL), WMQ_ERR_INVAL);
	WMQ_ENSURE(!named || spec->subject_name[0] != '\0', WMQ_ERR_INVAL);
	struct wmq_bytes f = wmq_bytes_cstr(spec->filter);
	struct wmq_bytes g, sub;
	WMQ_ENSURE(wmq_topic_filter_valid(f), WMQ_ERR_INVAL);
	WMQ_ENSURE(!wmq_topic_shared_split(f, &g, &sub), WMQ_ERR_INVAL);
	WMQ_ENSURE(wmq_topic_levels(f) <= WMQ_POLICY_MAX_LEVELS, WMQ_ERR_LIMIT);
	if (spec->id)
		WMQ_ENSURE(wmq_hmap_get(&p->by_id, &spec->id, sizeof spec->id) == NULL, WMQ_ERR_INVAL);

	r = wmq_calloc(1, sizeof *r);
	if (!r)
		goto out;
	r->pub.id = spec->id ? spec->id : p->next_id;
	r->pub.effect = spec->effect;
	r->pub.actions = spec->actions;
	r->pub.subject = spec->subject;
	r->pub.subst = spec->subst;
	r->pub.max_qos = spec->max_qos;
	r->pub.priority = spec->priority;
	r->pub.filter = wmq_strdup(spec->filter);
	if (!r->pub.filter)
		goto out;
	if (named && !(r->pub.subject_name = wmq_strdup(spec->subject_name)))
		goto out;
	if (spec->origin && !(r->pub.origin = wmq_strdup(spec->origin)))
		goto out;
	r->has_u = spec->subst && has_seq(spec->filter, "%u");
	r->has_c = spec->subst && has_seq(spec->filter, "%c");
	r->id_explicit = spec->id != 0;

	size_t klen = 0;
	key = subject_key(spec->subject, spec->subject_name, &klen);
	if (!key)
		goto out;
	l = wmq_hmap_get(&p->by_subject, key, klen);
	if (!l) {
		l = wmq_calloc(1, sizeof *l);
		if (!l)
			goto out;
		l_new = true;
		l->key = key;
		l->klen = klen;
		key = NULL;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 4;
		struct rule_int **nv = wmq_reallocarray(l->v, nc, sizeof *nv);
		if (!nv)
			goto out;
		l->v = nv;
		l->cap = nc;
	}
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		struct rule_int **nv = wmq_reallocarray(p->rules, nc, sizeof *nv);
		if (!nv)
			goto out;
		p->rules = nv;
		p->cap = nc;
	}
	if (wmq_hmap_put(&p->by_id, &r->pub.id, sizeof r->pub.id, r) != WMQ_OK)
		goto out;
	if (l_new && wmq_hmap_put(&p->by_subject, l->key, l->klen, l) != WMQ_OK) {
		(void)wmq_hmap_del(&p->by_id, &r->pub.id, sizeof r->pub.id);
		goto out;
	}
	l_new = false; /* owned by the map now */
	l->v[l->n++] = r;
	p->rules[p->n++] = r;
	if (r->pub.id >= p->next_id)
		p->next_id = r->pub.id + 1;
	if (id_out)
		*id_out = r->pub.id;
	r = NULL;
	rc = WMQ_OK;
out:
	if (l_new) {
		wmq_free(l->v);
		wmq_free(l->key);
		wmq_free(l);
	}
	wmq_free(key);
	rule_free(r);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

void wmq_policy_truncate_int(struct wmq_policy *p, size_t n)
{
	/* rules were appended to p->rules and to their subject list in the same
	 * order, so removing from the end pops each list's last element */
	while (p->n > n) {
		struct rule_int *r = p->rules[--p->n];
		size_t klen = 0;
		uint8_t *key = subject_key(r->pub.subject, r->pub.subject_name, &klen);
		struct rule_list *l = key ? wmq_hmap_get(&p->by_subject, key, klen) : NULL;
		if (l && l->n && l->v[l->n - 1] == r) {
			l->n--;
		} else {
			/* cannot happen unless out of memory for the key: search */
			size_t i = 0;
			struct wmq_hent *e;
			while ((e = wmq_hmap_next(&p->by_subject, &i)) != NULL) {
				struct rule_list *ll = e->val;
				if (ll->n && ll->v[ll->n - 1] == r)
					ll->n--;
			}
		}
		wmq_free(key);
		(void)wmq_hmap_del(&p->by_id, &r->pub.id, sizeof r->pub.id);
		rule_free(r);
	}
}

wmq_err wmq_policy_clone(const struct wmq_policy *p, uint64_t version, uint64_t except_id, struct wmq_policy **out)
{
	struct wmq_policy *np = NULL;
	wmq_err rc;
	WMQ_ENSURE(p != NULL && out != NULL, WMQ_ERR_INVAL);
	WMQ_TRY(wmq_policy_new(version, &np));
	for (size_t i = 0; i < p->n; i++) {
		const struct wmq_policy_rule *r = &p->rules[i]->pub;
		if (except_id && r->id == except_id)
			continue;
		struct wmq_policy_rule_spec s = {
			.effect = r->effect, .actions = r->actions, .subject = r->subject,
			.subject_name = r->subject_name, .filter = r->filter, .subst = r->subst,
			.max_qos = r->max_qos, .priority = r->priority, .id = r->id, .origin = r->origin,
		};
		if ((rc = wmq_policy_add(np, &s, NULL)) != WMQ_OK)
			goto out;
	}
	*out = np;
	np = NULL;
	rc = WMQ_OK;
out:
	wmq_policy_unref(np);
	return rc;
}

/* ---- precedence ---------------------------------------------------------- */

/* Rank of the level starting at s[*i] (or of the end of the filter), and
 * advance *i past it. literal 3 > '+' 2 > end 1 > '#' 0. */
static int level_rank(const char *s, size_t len, size_t *i)
{
	if (*i == END_POS)
		return 1;
	size_t b = *i;
	const char *slash = memchr(s + b, '/', len - b);
	size_t e = slash ? (size_t)(slash - s) : len;
	*i = slash ? e + 1 : END_POS;
	if (e - b == 1 && s[b] == '#')
		return 0;
	if (e - b == 1 && s[b] == '+')
		return 2;
	return 3;
}

/* >0 if filter a is more specific than b, <0 if less, 0 if equal rank
 * sequences. Meaningful for filters matching a common topic. */
int wmq_policy_spec_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), ia = 0, ib = 0;
	for (;;) {
		bool ea = ia == END_POS, eb = ib == END_POS;
		if (ea && eb)
			return 0;
		int ra = level_rank(a, la, &ia), rb = level_rank(b, lb, &ib);
		if (ra != rb)
			return ra > rb ? 1 : -1;
		if (ra == 0 || ra == 1)
			return 0; /* both '#', or both ended */
	}
}

static int qos_cap(const struct rule_int *r)
{
	return r->pub.max_qos < 0 ? 3 : r->pub.max_qos;
}

/* Does candidate |a| (with substituted filter fa) win over |b|? */
static bool cr_better(const struct crule *a, const struct crule *b)
{
	if (!b)
		return true;
	if (!a)
		return false;
	if (a->src->pub.priority != b->src->pub.priority)
		return a->src->pub.priority > b->src->pub.priority;
	int s = wmq_policy_spec_cmp(a->filter, b->filter);
	if (s)
		return s > 0;
	if (a->src->pub.effect != b->src->pub.effect)
		return a->src->pub.effect == WMQ_POLICY_DENY;
	return qos_cap(a->src) < qos_cap(b->src);
}

static const struct crule *cr_pick(const struct crule *cur, const struct crule *cand)
{
	return cand && cr_better(cand, cur) ? cand : cur;
}

/* ---- compilation ---------------------------------------------------------- */

struct node {
	struct wmq_hmap kids; /* level -> struct node */
	char *label;          /* owned, NUL-terminated; the key in the parent */
	size_t llen;
	struct node *plus, *hash;
	const struct crule *best[WMQ_ACT__COUNT];
};

/* One trie and the substituted rules it points at. */
struct part {
	uint64_t k0, k1; /* SipHash key shared by the trie's maps (one getrandom per part) */
	struct node *root;
	struct crule *rules; /* sized before the first insert: nodes point into it */
	size_t nrules;
	size_t max_depth; /* levels of the deepest filter */
};

/* The substitution-free rules of one subject set (all, anonymous or not,
 * groups, roles): the same for every principal with that set, compiled once
 * and cached in the policy (most devices share a few groups and roles). */
struct shared {
	atomic_size_t refs;
	uint8_t *key;
	size_t klen;
	struct part part;
};

/* What one connection uses: the shared trie plus its own (the user's own
 * rules and every rule with %u / %c). */
struct compiled {
	struct shared *sh; /* reference, or NULL */
	struct part own;
	size_t dropped, widened;
	size_t max_depth;
	struct mstack *stack; /* scratch for topic walks */
};

struct mstack {
	const struct node *n;
	size_t pos;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	size_t i = 0;
	struct wmq_hent *e;
	while ((e = wmq_hmap_next(&n->kids, &i)) != NULL)
		node_free(e->val); /* depth <= WMQ_POLICY_MAX_LEVELS + 1 */
	wmq_hmap_cleanup(&n->kids);
	node_free(n->plus);
	node_free(n->hash);
	wmq_free(n->label);
	wmq_free(n);
}

static struct node *node_new(const struct part *c, const uint8_t *label, size_t llen)
{
	struct node *n = wmq_calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->label = wmq_strndup((const char *)label, llen);
	if (!n->label) {
		wmq_free(n);
		return NULL;
	}
	n->llen = llen;
	/* wmq_hmap_init() draws a fresh key from the kernel per map; a trie
	 * has one map per node, so the part draws one key and shares it (an
	 * empty map, cap 0, is valid for every hmap call) */
	memset(&n->kids, 0, sizeof n->kids);
	n->kids.k0 = c->k0;
	n->kids.k1 = c->k1;
	return n;
}

static void part_cleanup(struct part *c)
{
	node_free(c->root);
	for (size_t i = 0; i < c->nrules; i++)
		wmq_free(c->rules[i].filter);
	wmq_free(c->rules);
	memset(c, 0, sizeof *c);
}

/* Room for |cap| rules and an empty root. */
static wmq_err part_init(struct part *c, size_t cap)
{
	struct wmq_hmap keysrc;
	memset(c, 0, sizeof *c);
	wmq_hmap_init(&keysrc); /* draws the part's SipHash key */
	c->k0 = keysrc.k0;
	c->k1 = keysrc.k1;
	if (cap && !(c->rules = wmq_calloc(cap, sizeof *c->rules)))
		WMQ_BAIL(WMQ_ERR_NOMEM);
	if (!(c->root = node_new(c, (const uint8_t *)"", 0))) {
		part_cleanup(c);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	return WMQ_OK;
}

static void shared_unref(struct shared *sh)
{
	if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
		return;
	part_cleanup(&sh->part);
	wmq_free(sh->key);
	wmq_free(sh);
}

static void compiled_free(struct compiled *c)
{
	if (!c)
		return;
	shared_unref(c->sh);
	part_cleanup(&c->own);
	wmq_free(c->stack);
	wmq_free(c);
}

/* Insert the rule c->rules[c->nrules - 1] (already filled in). */
static wmq_err trie_insert(struct part *c, const struct crule *cr)
{
	struct wmq_bytes f = wmq_bytes_cstr(cr->filter), lv;
	size_t pos = 0, depth = 0;
	struct node *n = c->root;
	while (wmq_topic_next_level(f, &pos, &lv)) {
		struct node **slot = NULL;
		depth++;
		if (lv.len == 1 && lv.p[0] == '+')
			slot = &n->plus;
		else if (lv.len == 1 && lv.p[0] == '#')
			slot = &n->hash;
		if (slot) {
			if (!*slot && !(*slot = node_new(c, lv.p, lv.len)))
				WMQ_BAIL(WMQ_ERR_NOMEM);
			n = *slot;
			continue;
		}
		struct node *k = wmq_hmap_get(&n->kids, lv.p, lv.len);
		if (!k) {
			k = node_new(c, lv.p, lv.len);
			WMQ_ENSURE(k != NULL, WMQ_ERR_NOMEM);
			if (wmq_hmap_put(&n->kids, k->label, k->llen, k) != WMQ_OK) {
				node_free(k);
				WMQ_BAIL(WMQ_ERR_NOMEM);
			}
		}
		n = k;
	}
	if (depth > c->max_depth)
		c->max_depth = depth;
	for (int a = 0; a < WMQ_ACT__COUNT; a++) {
		if (cr->src->pub.actions & WMQ_ACT_BIT(a))
			n->best[a] = cr_pick(n->best[a], cr);
	}
	return WMQ_OK;
}

/* Add |r| with its concrete filter |f| (taken) to |c|. */
static wmq_err part_add(struct part *c, const struct rule_int *r, char *f)
{
	struct crule *cr = &c->rules[c->nrules++];
	cr->src = r;
	cr->filter = f;
	return trie_insert(c, cr);
}

/* Safe to substitute: non-empty, no '+', '#', '/', not starting with '$'
 * (CVE-2017-7650 and $-topic injection). */
bool wmq_policy_identity_safe(const char *id)
{
	if (!id || !id[0] || id[0] == '$')
		return false;
	return strpbrk(id, "+#/") == NULL;
}

/* Build the concrete filter for |r| and |pr|. Returns WMQ_OK with *out set,
 * or WMQ_OK with *out NULL when the rule does not apply; *widened set when a
 * deny rule was widened. */
static wmq_err substitute(const struct rule_int *r, const struct wmq_principal *pr, char **out, bool *widened,
			  bool *dropped)
{
	*out = NULL;
	*widened = *dropped = false;
	const char *f = r->pub.filter;
	if (!r->has_u && !r->has_c) {
		*out = wmq_strdup(f);
		WMQ_ENSURE(*out != NULL, WMQ_ERR_NOMEM);
		return WMQ_OK;
	}
	const char *u = pr->username, *c = pr->client_id;
	/* no identity at all: the rule cannot be about this principal */
	if ((r->has_u && !u) || (r->has_c && (!c || !c[0])))
		return WMQ_OK;
	bool safe = (!r->has_u || wmq_policy_identity_safe(u)) && (!r->has_c || wmq_policy_identity_safe(c));
	if (!safe) {
		if (r->pub.effect == WMQ_POLICY_ALLOW) {
			*dropped = true;
			return WMQ_OK;
		}
		/* widen the deny: keep the levels before the first one holding
		 * a substitution, then '#' */
		const char *pu = r->has_u ? strstr(f, "%u") : NULL;
		const char *pc = r->has_c ? strstr(f, "%c") : NULL;
		const char *first = !pu ? pc : !pc ? pu : (pu < pc ? pu : pc);
		size_t cut = (size_t)(first - f);
		while (cut > 0 && f[cut - 1] != '/')
			cut--;
		char *w = wmq_malloc(cut + 2);
		WMQ_ENSURE(w != NULL, WMQ_ERR_NOMEM);
		memcpy(w, f, cut);
		w[cut] = '#';
		w[cut + 1] = '\0';
		*out = w;
		*widened = true;
		return WMQ_OK;
	}
	size_t ul = u ? strlen(u) : 0, cl = c ? strlen(c) : 0, n = 0;
	for (const char *s = f; *s; s++) {
		if (s[0] == '%' && s[1] == 'u' && r->has_u) {
			n += ul;
			s++;
		} else if (s[0] == '%' && s[1] == 'c' && r->has_c) {
			n += cl;
			s++;
		} else {
			n++;
		}
	}
	char *o = wmq_malloc(n + 1), *d = o;
	WMQ_ENSURE(o != NULL, WMQ_ERR_NOMEM);
	for (const char *s = f; *s; s++) {
		if (s[0] == '%' && s[1] == 'u' && r->has_u) {
			memcpy(d, u, ul);
			d += ul;
			s++;
		} else if (s[0] == '%' && s[1] == 'c' && r->has_c) {
			memcpy(d, c, cl);
			d += cl;
			s++;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
	*out = o;
	return WMQ_OK;
}

/* Look up the rule list of one subject; *l = NULL when it has none. */
static wmq_err list_for(const struct wmq_policy *p, enum wmq_policy_subject s, const char *name,
			const struct rule_list **l)
{
	size_t nl = name ? strlen(name) : 0;
	uint8_t stackbuf[256];
	uint8_t *k = nl + 1 <= sizeof stackbuf ? stackbuf : wmq_malloc(nl + 1);
	*l = NULL;
	WMQ_ENSURE(k != NULL, WMQ_ERR_NOMEM); /* never "no rules": a deny could be lost */
	k[0] = (uint8_t)SUBJ_CH[s];
	if (nl)
		memcpy(k + 1, name, nl);
	*l = wmq_hmap_get(&p->by_subject, k, nl + 1);
	if (k != stackbuf)
		wmq_free(k);
	return WMQ_OK;
}

static wmq_err add_list(const struct wmq_policy *p, enum wmq_policy_subject s, const char *name,
			const struct rule_list **out, size_t *n, size_t cap)
{
	const struct rule_list *l;
	WMQ_TRY(list_for(p, s, name, &l));
	if (l) {
		WMQ_ENSURE(*n < cap, WMQ_ERR_INTERNAL);
		out[(*n)++] = l;
	}
	return WMQ_OK;
}

/* Collect the rule lists that apply to |pr| (cap >= 2 + groups + roles). */
static wmq_err lists_for(const struct wmq_policy *p, const struct wmq_principal *pr, const struct rule_list **out,
			 size_t cap, size_t *n)
{
	*n = 0;
	WMQ_TRY(add_list(p, WMQ_SUBJ_ALL, NULL, out, n, cap));
	if (!pr->username)
		WMQ_TRY(add_list(p, WMQ_SUBJ_ANONYMOUS, NULL, out, n, cap));
	else
		WMQ_TRY(add_list(p, WMQ_SUBJ_USER, pr->username, out, n, cap));
	for (size_t i = 0; i < pr->ngroups; i++)
		if (pr->groups[i])
			WMQ_TRY(add_list(p, WMQ_SUBJ_GROUP, pr->groups[i], out, n, cap));
	for (size_t i = 0; i < pr->nroles; i++)
		if (pr->roles[i])
			WMQ_TRY(add_list(p, WMQ_SUBJ_ROLE, pr->roles[i], out, n, cap));
	return WMQ_OK;
}

/* May the rule go into the shared trie of its subject set? */
static bool shareable(const struct rule_int *r)
{
	return r->pub.subject != WMQ_SUBJ_USER && !r->has_u && !r->has_c;
}

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static uint8_t *put_names(uint8_t *o, const char *const *v, uint32_t n)
{
	memcpy(o, &n, sizeof n);
	o += sizeof n;
	for (uint32_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;
		memcpy(o, v[i], l);
		o += l;
	}
	return o;
}

/* Key of the principal's subject set, unambiguous: 'a'/'u' (anonymous or
 * not), group count, sorted NUL-terminated groups, role count, sorted
 * NUL-terminated roles. */
static uint8_t *set_key(const struct wmq_principal *pr, size_t *klen)
{
	size_t n = pr->ngroups + pr->nroles, len = 1 + 2 * sizeof(uint32_t);
	const char **v = n ? wmq_calloc(n, sizeof *v) : NULL;
	if (n && !v)
		return NULL;
	uint32_t ng = 0, nr = 0;
	for (size_t i = 0; i < pr->ngroups; i++)
		if (pr->groups[i])
			v[ng++] = pr->groups[i];
	for (size_t i = 0; i < pr->nroles; i++)
		if (pr->roles[i])
			v[ng + nr++] = pr->roles[i];
	if (ng > 1)
		qsort(v, ng, sizeof *v, str_cmp);
	if (nr > 1)
		qsort(v + ng, nr, sizeof *v, str_cmp);
	for (size_t i = 0; i < (size_t)ng + nr; i++)
		len += strlen(v[i]) + 1;
	uint8_t *k = wmq_malloc(len);
	if (k) {
		uint8_t *o = k;
		*o++ = pr->username ? 'u' : 'a';
		o = put_names(o, v, ng);
		o = put_names(o, ng ? v + ng : v, nr);
		*klen = (size_t)(o - k);
	}
	wmq_free(v);
	return k;
}

#define SHARED_MAX 1024 /* subject sets cached per policy */

/* The shared trie for |pr|'s subject set: from the cache, or built now
 * (outside the lock) and offered to the cache. */
static wmq_err get_shared(struct wmq_policy *p, const struct wmq_principal *pr, const struct rule_list *const *lists,
			  size_t nl, struct shared **out)
{
	size_t klen = 0;
	uint8_t *key = set_key(pr, &klen);
	struct shared *sh = NULL;
	wmq_err rc = WMQ_ERR_NOMEM;
	*out = NULL;
	WMQ_ENSURE(key != NULL, WMQ_ERR_NOMEM);
	pthread_mutex_lock(&p->cache_lock);
	sh = wmq_hmap_get(&p->shared, key, klen);
	if (sh)
		atomic_fetch_add(&sh->refs, 1);
	pthread_mutex_unlock(&p->cache_lock);
	if (sh) {
		wmq_free(key);
		*out = sh;
		return WMQ_OK;
	}
	size_t total = 0;
	for (size_t i = 0; i < nl; i++)
		for (size_t k = 0; k < lists[i]->n; k++)
			total += shareable(lists[i]->v[k]);
	if (!(sh = wmq_calloc(1, sizeof *sh)))
		goto out;
	atomic_init(&sh->refs, 1);
	sh->key = key;
	sh->klen = klen;
	key = NULL;
	if ((rc = part_init(&sh->part, total)) != WMQ_OK)
		goto out;
	for (size_t i = 0; i < nl; i++) {
		for (size_t k = 0; k < lists[i]->n; k++) {
			const struct rule_int *r = lists[i]->v[k];
			if (!shareable(r))
				continue;
			char *f = wmq_strdup(r->pub.filter);
			if (!f) {
				rc = WMQ_ERR_NOMEM;
				goto out;
			}
			if ((rc = part_add(&sh->part, r, f)) != WMQ_OK)
				goto out;
		}
	}
	/* offer it to the cache; another thread may have been quicker */
	pthread_mutex_lock(&p->cache_lock);
	struct shared *other = wmq_hmap_get(&p->shared, sh->key, sh->klen);
	if (other) {
		atomic_fetch_add(&other->refs, 1);
		shared_unref(sh);
		sh = other;
	} else if (p->shared.n < SHARED_MAX && wmq_hmap_put(&p->shared, sh->key, sh->klen, sh) == WMQ_OK) {
		atomic_fetch_add(&sh->refs, 1); /* the cache's reference */
	}
	pthread_mutex_unlock(&p->cache_lock);
	*out = sh;
	sh = NULL;
	rc = WMQ_OK;
out:
	shared_unref(sh);
	wmq_free(key);
	return rc;
}

static wmq_err compile(struct wmq_policy *p, const struct wmq_principal *pr, struct compiled **out)
{
	wmq_err rc = WMQ_ERR_NOMEM;
	const struct rule_list *lstack[16], **lists = lstack;
	size_t lcap = 3 + pr->ngroups + pr->nroles;
	struct compiled *c = wmq_calloc(1, sizeof *c);
	WMQ_ENSURE(c != NULL, WMQ_ERR_NOMEM);
	if (lcap > WMQ_ARRAY_LEN(lstack) && !(lists = wmq_calloc(lcap, sizeof *lists)))
		goto out;
	size_t nl = 0, own = 0;
	if (p && (rc = lists_for(p, pr, lists, lcap, &nl)) != WMQ_OK)
		goto out;
	if (p && (rc = get_shared(p, pr, lists, nl, &c->sh)) != WMQ_OK)
		goto out;
	for (size_t i = 0; i < nl; i++)
		for (size_t k = 0; k < lists[i]->n; k++)
			own += !shareable(lists[i]->v[k]);
	if ((rc = part_init(&c->own, own)) != WMQ_OK)
		goto out;
	for (size_t i = 0; i < nl; i++) {
		for (size_t k = 0; k < lists[i]->n; k++) {
			const struct rule_int *r = lists[i]->v[k];
			char *f = NULL;
			bool widened, dropped;
			if (shareable(r))
				continue;
			if ((rc = substitute(r, pr, &f, &widened, &dropped)) != WMQ_OK)
				goto out;
			c->dropped += dropped;
			c->widened += widened;
			if (f && (rc = part_add(&c->own, r, f)) != WMQ_OK)
				goto out;
		}
	}
	c->max_depth = c->own.max_depth;
	if (c->sh && c->sh->part.max_depth > c->max_depth)
		c->max_depth = c->sh->part.max_depth;
	/* two roots, then at most one pending sibling per level of each */
	c->stack = wmq_calloc(2 * (c->max_depth + 2), sizeof *c->stack);
	if (!c->stack) {
		rc = WMQ_ERR_NOMEM;
		goto out;
	}
	*out = c;
	c = NULL;
	rc = WMQ_OK;
out:
	if (lists != lstack)
		wmq_free(lists);
	compiled_free(c);
	return rc;
}

size_t wmq_policy_shared_count_int(struct wmq_policy *p)
{
	pthread_mutex_lock(&p->cache_lock);
	size_t n = p->shared.n;
	pthread_mutex_unlock(&p->cache_lock);
	return n;
}

static size_t compiled_rules(const struct compiled *c)
{
	return c->own.nrules + (c->sh ? c->sh->part.nrules : 0);
}

/* ---- topic-name decisions ---------------------------------------------- */

/* Level starting at |pos| of |t|; *next = start of the following level or
 * END_POS. */
static struct wmq_bytes level_at(struct wmq_bytes t, size_t pos, size_t *next)
{
	const uint8_t *s = pos < t.len ? memchr(t.p + pos, '/', t.len - pos) : NULL;
	size_t e = s ? (size_t)(s - t.p) : t.len;
	*next = s ? e + 1 : END_POS;
	return (struct wmq_bytes){t.p + pos, e - pos};
}

static const struct crule *match_name(const struct compiled *c, int a, struct wmq_bytes t)
{
	const struct crule *best = NULL;
	struct mstack *st = c->stack;
	size_t sp = 0;
	const bool dollar = t.len > 0 && t.p[0] == '$';
	st[sp++] = (struct mstack){c->own.root, 0};
	if (c->sh)
		st[sp++] = (struct mstack){c->sh->part.root, 0};
	while (sp) {
		struct mstack cur = st[--sp];
		const struct node *n = cur.n;
		/* [MQTT-4.7.2-1] no first-level wildcard matches a '$' topic */
		bool block = cur.pos == 0 && dollar;
		if (n->hash && !block)
			best = cr_pick(best, n->hash->best[a]);
		if (cur.pos == END_POS) {
			best = cr_pick(best, n->best[a]);
			continue;
		}
		size_t next;
		struct wmq_bytes lv = level_at(t, cur.pos, &next);
		const struct node *k = wmq_hmap_get(&n->kids, lv.p, lv.len);
		/* the stack holds at most one pending sibling per depth */
		if (k)
			st[sp++] = (struct mstack){k, next};
		if (n->plus && !block)
			st[sp++] = (struct mstack){n->plus, next};
	}
	return best;
}

/* ---- subscription containment ------------------------------------------ */

struct sub_state {
	const struct compiled *c;
	int a;
	size_t budget;
	bool over, denied, err;
	const struct crule *deny_by; /* NULL: default deny */
	int cap;                     /* lowest max_qos over allowed topics (3 = none) */
	const struct crule *cap_by;
	const struct crule *allow_by;
	/* current representative topic, for the explainer's witness */
	struct wmq_bytes path[WMQ_POLICY_MAX_LEVELS + 4];
	size_t depth;
	char witness[512];
};

static void sub_decide(struct sub_state *s, const struct crule *best)
{
	if (s->denied)
		return;
	if (!best || best->src->pub.effect == WMQ_POLICY_DENY) {
		s->denied = true;
		s->deny_by = best;
		size_t o = 0;
		s->witness[0] = '\0';
		for (size_t i = 0; i < s->depth && o + 1 < sizeof s->witness; i++) {
			int n = snprintf(s->witness + o, sizeof s->witness - o, "%s%.*s", i ? "/" : "",
					 s->path[i].p ? (int)s->path[i].len : 7,
					 s->path[i].p ? (const char *)s->path[i].p : "<other>");
			if (n < 0)
				break;
			o += (size_t)n;
		}
		if (o >= sizeof s->witness)
			s->witness[sizeof s->witness - 1] = '\0';
		return;
	}
	if (!s->allow_by)
		s->allow_by = best;
	if (qos_cap(best->src) < s->cap) {
		s->cap = qos_cap(best->src);
		s->cap_by = best;
	}
}

/* The topic ends after the levels consumed so far. */
static void sub_end(struct sub_state *s, const struct node *const *A, size_t nA, const struct crule *hb)
{
	const struct crule *best = hb;
	for (size_t i = 0; i < nA; i++) {
		best = cr_pick(best, A[i]->best[s->a]);
		if (A[i]->hash)
			best = cr_pick(best, A[i]->hash->best[s->a]); /* "a/#" matches "a" */
	}
	sub_decide(s, best);
}

static void sub_walk(struct sub_state *s, const struct node *const *A, size_t nA, const struct crule *hb,
		     struct wmq_bytes f, size_t fpos, bool first);

/* Consume one topic level (|lv|, or "other" when lv.p == NULL) and continue
 * with S at |fnext|. */
static void sub_step(struct sub_state *s, const struct node *const *A, size_t nA, const struct crule *hb,
		     struct wmq_bytes lv, bool first, struct wmq_bytes f, size_t fnext)
{
	const bool other = lv.p == NULL;
	const bool block = first && !other && lv.len > 0 && lv.p[0] == '$';
	const struct node *stackA[16], **B = stackA;
	if (2 * nA > WMQ_ARRAY_LEN(stackA) && !(B = wmq_calloc(2 * nA, sizeof *B))) {
		s->err = true;
		return;
	}
	size_t nB = 0;
	const struct crule *nh = hb;
	for (size_t i = 0; i < nA; i++) {
		if (A[i]->hash && !block)
			nh = cr_pick(nh, A[i]->hash->best[s->a]);
		if (!other) {
			const struct node *k = wmq_hmap_get(&A[i]->kids, lv.p, lv.len);
			if (k)
				B[nB++] = k;
		}
		if (A[i]->plus && !block)
			B[nB++] = A[i]->plus;
	}
	if (s->depth < WMQ_ARRAY_LEN(s->path)) {
		s->path[s->depth++] = lv;
		sub_walk(s, B, nB, nh, f, fnext, false);
		s->depth--;
	} else {
		s->err = true;
	}
	if (B != stackA)
		wmq_free(B);
}

static int label_cmp(const void *x, const void *y)
{
	const struct wmq_hent *a = *(const struct wmq_hent *const *)x, *b = *(const struct wmq_hent *const *)y;
	if (a->klen != b->klen)
		return a->klen < b->klen ? -1 : 1;
	return a->klen ? memcmp(a->key, b->key, a->klen) : 0;
}

/* S's level is '+' or '#': try every literal the active nodes name (not '$'
 * ones in the first level, which S cannot match), then "other". Literals are
 * visited in a fixed order (length, bytes) so that the reported rule and
 * witness do not depend on hash seeds. */
static void sub_wild(struct sub_state *s, const struct node *const *A, size_t nA, const struct crule *hb,
		     bool first, struct wmq_bytes f, size_t fnext)
{
	struct wmq_hmap seen;
	struct wmq_hent **labels = NULL;
	size_t n = 0, cap = 0;
	wmq_hmap_init(&seen);
	for (size_t i = 0; i < nA && !s->err; i++) {
		size_t it = 0;
		struct wmq_hent *e;
		while ((e = wmq_hmap_next(&A[i]->kids, &it)) != NULL) {
			if (first && e->klen > 0 && e->key[0] == '$')
				continue;
			if (nA > 1) {
				if (wmq_hmap_get(&seen, e->key, e->klen))
					continue;
				if (wmq_hmap_put(&seen, e->key, e->klen, e) != WMQ_OK) {
					s->err = true;
					break;
				}
			}
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 16;
				struct wmq_hent **nl = wmq_reallocarray(labels, nc, sizeof *nl);
				if (!nl) {
					s->err = true;
					break;
				}
				labels = nl;
				cap = nc;
			}
			labels[n++] = e;
		}
	}
	wmq_hmap_cleanup(&seen);
	if (n > 1)
		qsort(labels, n, sizeof *labels, label_cmp);
	for (size_t i = 0; i < n && !s->denied && !s->over && !s->err; i++)
		sub_step(s, A, nA, hb, (struct wmq_bytes){labels[i]->key, labels[i]->klen}, first, f, fnext);
	wmq_free(labels);
	if (!s->denied && !s->over && !s->err)
		sub_step(s, A, nA, hb, (struct wmq_bytes){NULL, 0}, first, f, fnext);
}

static void sub_walk(struct sub_state *s, const struct node *const *A, size_t nA, const struct crule *hb,
		     struct wmq_bytes f, size_t fpos, bool first)
{
	if (s->denied || s->over || s->err)
		return;
	if (s->budget == 0) {
		s->over = true;
		return;
	}
	s->budget--;
	if (nA == 0) {
		/* no rule node can match deeper: every remaining topic gets hb */
		sub_decide(s, hb);
		return;
	}
	if (fpos == END_POS) {
		sub_end(s, A, nA, hb);
		return;
	}
	size_t next;
	struct wmq_bytes lv = level_at(f, fpos, &next);
	if (lv.len == 1 && lv.p[0] == '#') {
		if (!first) /* "a/#" also matches "a" */
			sub_end(s, A, nA, hb);
		sub_wild(s, A, nA, hb, first, f, fpos); /* S stays at '#' */
	} else if (lv.len == 1 && lv.p[0] == '+') {
		sub_wild(s, A, nA, hb, first, f, next);
	} else {
		sub_step(s, A, nA, hb, lv, first, f, next);
	}
}

static void check_sub(const struct compiled *c, int a, struct wmq_bytes f, struct sub_state *s)
{
	memset(s, 0, sizeof *s);
	s->c = c;
	s->a = a;
	s->budget = WMQ_POLICY_SUB_BUDGET;
	s->cap = 3;
	const struct node *roots[2] = {c->own.root, c->sh ? c->sh->part.root : NULL};
	sub_walk(s, roots, c->sh ? 2 : 1, NULL, f, 0, true);
}

/* ---- decisions ----------------------------------------------------------- */

const char *wmq_policy_reason_str(enum wmq_policy_reason r)
{
	switch (r) {
	case WMQ_POLICY_BY_RULE:
		return "rule";
	case WMQ_POLICY_BY_DEFAULT:
		return "no matching rule (default deny)";
	case WMQ_POLICY_BY_QOS:
		return "QoS above the rule's max_qos";
	case WMQ_POLICY_BY_INVALID:
		return "invalid topic";
	case WMQ_POLICY_BY_COMPLEXITY:
		return "subscription too complex to verify";
	case WMQ_POLICY_BY_ERROR:
		return "internal error";
	}
	return "?";
}

const char *wmq_policy_action_str(enum wmq_policy_action a)
{
	static const char *const names[] = {"publish", "subscribe", "receive", "retain"};
	return (unsigned)a < WMQ_ACT__COUNT ? names[a] : "?";
}

static void deny(struct wmq_policy_decision *d, enum wmq_policy_reason why, const struct crule *by, uint8_t qos)
{
	d->allow = false;
	d->qos = qos;
	d->reason = why;
	d->rule = by ? &by->src->pub : NULL;
}

/* The decision itself, without cache. |s| (may be NULL) receives the
 * subscription analysis for the explainer. */
static void decide(const struct compiled *c, enum wmq_policy_action a, struct wmq_bytes topic, uint8_t qos,
		   struct wmq_policy_decision *d, struct sub_state *s, const struct crule **by_out)
{
	memset(d, 0, sizeof *d);
	*by_out = NULL;
	if ((unsigned)a >= WMQ_ACT__COUNT || qos > 2) {
		deny(d, WMQ_POLICY_BY_INVALID, NULL, qos);
		return;
	}
	if (a == WMQ_ACT_SUBSCRIBE) {
		struct wmq_bytes g, f = topic;
		if (!wmq_topic_filter_valid(topic)) {
			deny(d, WMQ_POLICY_BY_INVALID, NULL, qos);
			return;
		}
		/* "$share/g/f" is checked against f */
		if (!wmq_topic_shared_split(topic, &g, &f))
			f = topic;
		struct sub_state local, *st = s ? s : &local;
		check_sub(c, (int)a, f, st);
		if (st->err) {
			deny(d, WMQ_POLICY_BY_ERROR, NULL, qos);
		} else if (st->over) {
			deny(d, WMQ_POLICY_BY_COMPLEXITY, NULL, qos);
		} else if (st->denied) {
			deny(d, st->deny_by ? WMQ_POLICY_BY_RULE : WMQ_POLICY_BY_DEFAULT, st->deny_by, qos);
			*by_out = st->deny_by;
		} else {
			const struct crule *by = st->cap_by ? st->cap_by : st->allow_by;
			d->allow = true;
			d->reason = WMQ_POLICY_BY_RULE;
			d->rule = by ? &by->src->pub : NULL;
			d->qos = (uint8_t)(qos < st->cap ? qos : st->cap);
			*by_out = by;
		}
		return;
	}
	if (!wmq_topic_name_valid(topic)) {
		deny(d, WMQ_POLICY_BY_INVALID, NULL, qos);
		return;
	}
	const struct crule *best = match_name(c, (int)a, topic);
	*by_out = best;
	if (!best) {
		deny(d, WMQ_POLICY_BY_DEFAULT, NULL, qos);
		return;
	}
	if (best->src->pub.effect == WMQ_POLICY_DENY) {
		deny(d, WMQ_POLICY_BY_RULE, best, qos);
		return;
	}
	int cap = qos_cap(best->src);
	if (qos > cap && (a == WMQ_ACT_PUBLISH || a == WMQ_ACT_RETAIN)) {
		deny(d, WMQ_POLICY_BY_QOS, best, qos);
		return;
	}
	d->allow = true;
	d->reason = WMQ_POLICY_BY_RULE;
	d->rule = &best->src->pub;
	d->qos = (uint8_t)(qos < cap ? qos : cap);
}

/* ---- per-connection authorizer ------------------------------------------ */

struct cache_ent {
	uint8_t *key;
	size_t klen;
	struct wmq_policy_decision d;
};

struct wmq_authz {
	char *username, *client_id;
	char **groups, **roles;
	size_t ngroups, nroles;
	struct wmq_principal pr; /* views of the copies above */
	struct wmq_policy *policy; /* reference */
	uint64_t version;
	struct compiled *cc;
	struct wmq_hmap cache;
	size_t cache_cap;
	struct wmq_authz_stats st;
};

static void cache_clear(struct wmq_authz *z)
{
	size_t i = 0;
	struct wmq_hent *e;
	while ((e = wmq_hmap_next(&z->cache, &i)) != NULL) {
		struct cache_ent *ce = e->val;
		wmq_free(ce->key);
		wmq_free(ce);
	}
	wmq_hmap_cleanup(&z->cache);
}

static char **strv_dup(const char *const *v, size_t n, bool *ok)
{
	*ok = true;
	if (!n)
		return NULL;
	char **o = wmq_calloc(n, sizeof *o);
	if (!o) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] && !(o[i] = wmq_strdup(v[i])))
			*ok = false;
	}
	return o;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		wmq_free(v[i]);
	wmq_free(v);
}

void wmq_authz_free(struct wmq_authz *z)
{
	if (!z)
		return;
	cache_clear(z);
	compiled_free(z->cc);
	wmq_policy_unref(z->policy);
	wmq_free(z->username);
	wmq_free(z->client_id);
	strv_free(z->groups, z->ngroups);
	strv_free(z->roles, z->nroles);
	wmq_free(z);
}

wmq_err wmq_authz_new(const struct wmq_principal *pr, size_t cache_cap, struct wmq_authz **out)
{
	WMQ_ENSURE(pr != NULL && out != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE((pr->ngroups == 0 || pr->groups) && (pr->nroles == 0 || pr->roles), WMQ_ERR_INVAL);
	struct wmq_authz *z = wmq_calloc(1, sizeof *z);
	WMQ_ENSURE(z != NULL, WMQ_ERR_NOMEM);
	wmq_hmap_init(&z->cache);
	z->cache_cap = cache_cap;
	bool ok1 = true, ok2 = true;
	z->ngroups = pr->ngroups;
	z->nroles = pr->nroles;
	z->groups = strv_dup(pr->groups, pr->ngroups, &ok1);
	z->roles = strv_dup(pr->roles, pr->nroles, &ok2);
	bool ok = ok1 && ok2;
	if (pr->username && !(z->username = wmq_strdup(pr->username)))
		ok = false;
	if (pr->client_id && !(z->client_id = wmq_strdup(pr->client_id)))
		ok = false;
	if (!ok) {
		wmq_authz_free(z);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	z->pr = (struct wmq_principal){z->username, z->client_id, (const char *const *)z->groups, z->ngroups,
				       (const char *const *)z->roles, z->nroles};
	*out = z;
	return WMQ_OK;
}

static wmq_err authz_sync(struct wmq_authz *z, struct wmq_policy *p)
{
	if (z->cc && z->policy == p && (!p || z->version == p->version))
		return WMQ_OK;
	cache_clear(z);
	compiled_free(z->cc);
	z->cc = NULL;
	wmq_policy_unref(z->policy);
	z->policy = wmq_policy_ref(p);
	z->version = p ? p->version : 0;
	struct compiled *c = NULL;
	WMQ_TRY(compile(p, &z->pr, &c));
	z->cc = c;
	z->st.compiles++;
	z->st.rules = compiled_rules(c);
	z->st.shared_rules = c->sh ? c->sh->part.nrules : 0;
	z->st.dropped_unsafe = c->dropped;
	z->st.widened_unsafe = c->widened;
	return WMQ_OK;
}

bool wmq_authz_check(struct wmq_authz *z, struct wmq_policy *policy, enum wmq_policy_action action,
		     struct wmq_bytes topic, uint8_t qos, struct wmq_policy_decision *d)
{
	struct wmq_policy_decision tmp;
	if (!d)
		d = &tmp;
	memset(d, 0, sizeof *d);
	if (!z) {
		deny(d, WMQ_POLICY_BY_ERROR, NULL, qos);
		return false;
	}
	z->st.checks++;
	if (authz_sync(z, policy) != WMQ_OK) {
		deny(d, WMQ_POLICY_BY_ERROR, NULL, qos);
		return false;
	}
	uint8_t kbuf[256], *key = NULL;
	size_t klen = topic.len + 2;
	if (z->cache_cap && topic.len <= 65535) {
		key = klen <= sizeof kbuf ? kbuf : wmq_malloc(klen);
		if (key) {
			key[0] = (uint8_t)action;
			key[1] = qos;
			if (topic.len)
				memcpy(key + 2, topic.p, topic.len);
			struct cache_ent *ce = wmq_hmap_get(&z->cache, key, klen);
			if (ce) {
				*d = ce->d;
				d->cached = true;
				z->st.cache_hits++;
				if (key != kbuf)
					wmq_free(key);
				return d->allow;
			}
		}
	}
	const struct crule *by;
	decide(z->cc, action, topic, qos, d, NULL, &by);
	if (key && d->reason != WMQ_POLICY_BY_ERROR) {
		if (z->cache.n >= z->cache_cap)
			cache_clear(z); /* simple bound: start over */
		struct cache_ent *ce = wmq_calloc(1, sizeof *ce);
		uint8_t *kc = ce ? wmq_memdup(key, klen) : NULL;
		if (kc) {
			ce->key = kc;
			ce->klen = klen;
			ce->d = *d;
			if (wmq_hmap_put(&z->cache, ce->key, ce->klen, ce) != WMQ_OK) {
				wmq_free(kc);
				wmq_free(ce);
			}
		} else {
			wmq_free(ce);
		}
	}
	if (key && key != kbuf)
		wmq_free(key);
	return d->allow;
}

void wmq_authz_get_stats(const struct wmq_authz *z, struct wmq_authz_stats *st)
{
	*st = z->st;
}

/* ---- explain -------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t cap, len;
};

static void WMQ_PRINTF(2, 3) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->len + 1 >= b->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static void sb_rule(struct sbuf *b, const struct crule *cr)
{
	char line[1024];
	if (wmq_policy_rule_format(&cr->src->pub, line, sizeof line) != WMQ_OK)
		snprintf(line, sizeof line, "(rule too long to show)");
	sb_printf(b, "  rule #%llu: %s\n", (unsigned long long)cr->src->pub.id, line);
	if (cr->src->pub.origin)
		sb_printf(b, "  from %s\n", cr->src->pub.origin);
	if (strcmp(cr->filter, cr->src->pub.filter) != 0)
		sb_printf(b, "  filter for this client: %s\n", cr->filter);
}

wmq_err wmq_policy_explain(struct wmq_policy *policy, const struct wmq_principal *pr,
			   enum wmq_policy_action action, struct wmq_bytes topic, uint8_t qos,
			   struct wmq_policy_decision *d, char *out, size_t cap)
{
	struct compiled *c = NULL;
	struct sbuf b = {out, cap, 0};
	WMQ_ENSURE(pr != NULL && d != NULL && out != NULL && cap > 0, WMQ_ERR_INVAL);
	out[0] = '\0';
	memset(d, 0, sizeof *d);
	wmq_err rc = compile(policy, pr, &c);
	if (rc != WMQ_OK) {
		deny(d, WMQ_POLICY_BY_ERROR, NULL, qos);
		sb_printf(&b, "deny: %s\n", wmq_policy_reason_str(WMQ_POLICY_BY_ERROR));
		return rc;
	}
	struct sub_state *s = action == WMQ_ACT_SUBSCRIBE ? wmq_calloc(1, sizeof *s) : NULL;
	if (action == WMQ_ACT_SUBSCRIBE && !s) {
		compiled_free(c);
		deny(d, WMQ_POLICY_BY_ERROR, NULL, qos);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	const struct crule *by = NULL;
	decide(c, action, topic, qos, d, s, &by);
	sb_printf(&b, "%s: %s %.*s at QoS %u by %s%s\n", d->allow ? "allow" : "deny",
		  wmq_policy_action_str(action), (int)(topic.len > 400 ? 400 : topic.len),
		  topic.p ? (const char *)topic.p : "",
		  (unsigned)qos, pr->username ? "user " : "anonymous", pr->username ? pr->username : "");
	sb_printf(&b, "  policy version %llu, %zu rules apply to this client\n",
		  (unsigned long long)(policy ? policy->version : 0), compiled_rules(c));
	if (d->reason != WMQ_POLICY_BY_RULE)
		sb_printf(&b, "  reason: %s\n", wmq_policy_reason_str(d->reason));
	if (by)
		sb_rule(&b, by);
	if (s && s->denied)
		sb_printf(&b, "  the filter can match \"%s\", which this client may not subscribe to\n",
			  s->witness);
	if (d->allow && d->qos < qos)
		sb_printf(&b, "  granted QoS %u (max_qos)\n", (unsigned)d->qos);
	if (c->dropped || c->widened)
		sb_printf(&b,
			  "  note: the username or client id is empty, contains '+', '#' or '/', or starts with '$': "
			  "%zu allow rules using %%u/%%c were not applied, %zu deny rules were widened\n",
			  c->dropped, c->widened);
	wmq_free(s);
	compiled_free(c);
	return WMQ_OK;
}
