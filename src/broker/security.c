/* SPDX-License-Identifier: MIT
 * security.c - the broker's side of the security pipeline (DESIGN.md §4,
 * §5): the authentication pool for CONNECT, the policy loaded from the
 * identity store, per-connection authorizers, and the audit log.
 *
 * Role: everything here exists only when the broker has a store
 * (persistence true / --db): users, rules and client-id bindings live in
 * its identity tables (src/store/identity.h). Without a store the broker
 * knows anonymous access only, as before.
 * Authentication: handle_connect() queues a job (wmq_security_submit) and
 * leaves the connection in CL_AUTH; the pool's eventfd wakes this loop;
 * on_pool() finds the connection again by its token (b->auth_waiting) and
 * hands it the verdict (wmq_client_auth_done). A connection closed while
 * its job ran removed its token (wmq_security_forget), so its verdict is
 * dropped.
 * Authorization: b->policy is the store's policy when it has at least one
 * rule (loaded at start and on SIGHUP; a failed load keeps the old one, and
 * a failed load at start stops the broker: fail closed). Without rules
 * nothing is checked (phase 1: the store may hold users only).
 *
 * Brute-force defence (security/defence.h, docs/SECURITY.md): b->defence
 * exists with or without a store (connection rate, back-off, lock-outs);
 * administrative bans come from the store's bans table, loaded at start and
 * again on SIGHUP / wmq_security_changed(WMQ_SEC_CHG_BANS), and a ban then
 * closes the live connections it matches. A CONNECT that arrives during a
 * back-off is held (its job parked in c->held_job, no thread blocked) and
 * submitted when the back-off ends, one per address at a time; a longer
 * wait refuses it without verification.
 *
 * TLS-PSK keys: b->psk maps identity -> key, read from the store's
 * psk_identities at start, on SIGHUP and after wmq_security_changed(
 * WMQ_SEC_CHG_PSK / _USERS); a failed reload keeps the previous map. The TLS
 * engine asks for a key during a handshake (wmq_security_psk_key). Keys are
 * wiped when freed and never logged.
 *
 * Threading: the worker's thread only (the pool threads touch jobs only).
 * Ownership: b->authpool, b->policy, b->psk, b->audit and b->defence belong
 * to the broker; c->authz and c->held_job to its connection. */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "common/alloc.h"
#include "common/time.h"
#include "security/policy_load.h"
#include "store/identity.h"

#define AUTHZ_CACHE 256

static void recheck_done(struct wmq_client *c, const struct wmq_authpool_job *j);
static void audit_line(struct wmq_client *c, enum wmq_audit_kind kind, const char *event, const char *reason,
		       const struct wmq_audit_field *f, size_t nf);

static void on_pool(struct wmq_ev_handle *h, uint32_t events)
{
	struct wmq_broker *b = h->arg;
	WMQ_UNUSED(events);
	struct wmq_authpool_job *j = wmq_authpool_take(b->authpool);
	while (j) {
		struct wmq_authpool_job *next = j->next;
		struct wmq_client *c = wmq_hmap_del(&b->auth_waiting, &j->token, sizeof j->token);
		if (c) {
			c->auth_token = 0;
			if (j->recheck && c->state == WMQ_CL_CONNECTED)
				recheck_done(c, j);
			else if (!j->recheck && c->state == WMQ_CL_AUTH)
				wmq_client_auth_done(c, j);
		}
		wmq_authpool_job_free(j);
		j = next;
	}
}

static wmq_err load_policy(struct wmq_broker *b, struct wmq_policy **out)
{
	struct wmq_store_id_opts o = {.flags = WMQ_STORE_READONLY, .busy_timeout_ms = 5000, .log = &b->log};
	struct wmq_store_id *h = NULL;
	struct wmq_policy *p = NULL;
	char why[512];
	wmq_err rc;

	*out = NULL;
	rc = wmq_store_id_open(b->cfg.persistence_file, &o, &h);
	if (rc != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "policy: %s", h ? wmq_store_id_errmsg(h) : wmq_err_str(rc));
		wmq_store_id_close(h);
		return rc;
	}
	rc = wmq_policy_load(h, &p, why, sizeof why);
	wmq_store_id_close(h);
	if (rc != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "policy: %s", why);
		return rc;
	}
	if (wmq_policy_count(p) == 0 && b->cfg.authorization == WMQ_AUTHZ_RULES && !b->policy_enforced) {
		/* CVE-2018-12550: an empty policy is an error, never allow-all */
		WMQ_LOG(&b->log, WMQ_LOG_ERROR,
			"authorization rules: the store %s holds no ACL rule; add rules with "
			"wardmq_ctl rule add, or set authorization auto or off",
			b->cfg.persistence_file);
		wmq_policy_unref(p);
		return WMQ_ERR_INVAL;
	}
	if (wmq_policy_count(p) == 0 && !b->policy_enforced) { /* auto, no rule yet */
		wmq_policy_unref(p);
		return WMQ_OK;
	}
	/* Once enforced, an empty policy stays in force: it denies everything
	 * (deleting every rule never turns into allow-all). */
	*out = p;
	return WMQ_OK;
}

static void defence_opts(const struct wmq_config *cfg, struct wmq_defence_opts *o)
{
	wmq_defence_opts_default(o);
	o->pair_free = cfg->auth_backoff_free;
	o->pair_base_ms = cfg->auth_backoff_base_ms;
	o->pair_cap_ms = cfg->auth_backoff_max_ms;
	o->pair_ban_after = cfg->auth_lockout_after;
	o->pair_ban_ms = cfg->auth_lockout_ms;
	o->addr_free = cfg->auth_addr_backoff_free;
	o->addr_base_ms = cfg->auth_addr_backoff_base_ms;
	o->addr_cap_ms = cfg->auth_addr_backoff_max_ms;
	o->addr_ban_after = cfg->auth_addr_lockout_after;
	o->addr_ban_ms = cfg->auth_addr_lockout_ms;
	o->decay_ms = cfg->auth_failure_decay_ms ? cfg->auth_failure_decay_ms : 1000u;
	o->conn_rate_per_s = cfg->max_connection_rate;
	o->conn_burst = cfg->connection_burst;
}

/* One ban as read from the store. */
struct ban_row {
	enum wmq_ban_kind kind;
	char *value;
	char *reason;
	int64_t expires_ms;
};

struct ban_rows {
	struct ban_row *v;
	size_t n, cap;
	bool nomem;
};

static void ban_rows_free(struct ban_rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		wmq_free(r->v[i].value);
		wmq_free(r->v[i].reason);
	}
	wmq_free(r->v);
	memset(r, 0, sizeof *r);
}

static bool ban_rows_push(struct ban_rows *r, enum wmq_ban_kind kind, const char *value, const char *reason,
			  int64_t expires_ms)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct ban_row *nv = wmq_realloc(r->v, nc * sizeof *nv);
		if (!nv) {
			r->nomem = true;
			return false;
		}
		r->v = nv;
		r->cap = nc;
	}
	struct ban_row *row = &r->v[r->n];
	row->kind = kind;
	row->expires_ms = expires_ms;
	row->value = wmq_strdup(value);
	row->reason = reason ? wmq_strdup(reason) : NULL;
	if (!row->value || (reason && !row->reason)) {
		wmq_free(row->value);
		wmq_free(row->reason);
		r->nomem = true;
		return false;
	}
	r->n++;
	return true;
}

static wmq_err store_ban_fn(void *arg, const struct wmq_store_id_ban *sb)
{
	struct ban_rows *r = arg;
	int64_t exp = sb->expires_at > 0 ? sb->expires_at * 1000 : 0;
	WMQ_ENSURE(ban_rows_push(r, (enum wmq_ban_kind)sb->kind, sb->value, sb->reason, exp), WMQ_ERR_NOMEM);
	return WMQ_OK;
}

static void live_ban_fn(void *arg, enum wmq_ban_kind kind, const char *value, int64_t until_ms,
			const char *reason)
{
	WMQ_UNUSED(until_ms);
	WMQ_UNUSED(reason);
	if (kind == WMQ_BAN_CLIENT_ID || kind == WMQ_BAN_USERNAME || kind == WMQ_BAN_ADDRESS)
		(void)ban_rows_push(arg, kind, value, NULL, 0);
}

/* Make the defence's administrative bans those of the store (lock-outs
 * stay). A store that cannot be read keeps the bans in force. */
static wmq_err load_bans(struct wmq_broker *b, size_t *count)
{
	struct wmq_store_id_opts o = {.flags = WMQ_STORE_READONLY, .busy_timeout_ms = 5000, .log = &b->log};
	struct wmq_store_id *h = NULL;
	struct ban_rows rows = {0}, old = {0};
	int64_t now = wmq_wall_ms();
	wmq_err rc;

	*count = 0;
	rc = wmq_store_id_open(b->cfg.persistence_file, &o, &h);
	if (rc == WMQ_OK)
		rc = wmq_store_id_ban_list(h, now / 1000, store_ban_fn, &rows);
	if (rc != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "bans: %s", h ? wmq_store_id_errmsg(h) : wmq_err_str(rc));
		wmq_store_id_close(h);
		ban_rows_free(&rows);
		return rc;
	}
	wmq_store_id_close(h);
	/* Replace: drop every administrative ban, then add the store's. One
	 * thread runs this and every check, so no connection sees the gap. */
	(void)wmq_defence_ban_list(b->defence, now, live_ban_fn, &old);
	for (size_t i = 0; i < old.n; i++)
		if (wmq_defence_ban_del(b->defence, old.v[i].kind, old.v[i].value) != WMQ_OK) {
			/* expired in the meantime: gone anyway */
		}
	ban_rows_free(&old);
	for (size_t i = 0; i < rows.n; i++) {
		const struct ban_row *r = &rows.v[i];
		rc = wmq_defence_ban_add(b->defence, r->kind, r->value, r->expires_ms, r->reason, now);
		if (rc == WMQ_OK)
			(*count)++;
		else
			WMQ_LOG(&b->log, WMQ_LOG_WARNING, "ban %s %s not loaded: %s",
				wmq_store_id_ban_kind_str((enum wmq_store_id_ban_kind)r->kind), r->value,
				wmq_err_str(rc));
	}
	ban_rows_free(&rows);
	return WMQ_OK;
}

static const char *ban_kind_name(enum wmq_ban_kind k)
{
	switch (k) {
	case WMQ_BAN_CLIENT_ID:
		return "client id";
	case WMQ_BAN_USERNAME:
		return "username";
	case WMQ_BAN_ADDRESS:
		return "address";
	case WMQ_BAN_LOCKOUT_PAIR:
		return "lock-out of address and username";
	case WMQ_BAN_LOCKOUT_ADDR:
		return "lock-out of address";
	}
	return "ban";
}

static void audit_line(struct wmq_client *c, enum wmq_audit_kind kind, const char *event, const char *reason,
		       const struct wmq_audit_field *f, size_t nf);

/* Close the live connections a ban in force matches (client id, username,
 * address): [MQTT-4.13.1-1] MQTT 5 gets DISCONNECT 0x98 (Administrative
 * action; DISCONNECT has no Banned code). */
static void enforce_bans(struct wmq_broker *b)
{
	for (struct wmq_client *c = b->clients; c; c = c->next) {
		struct wmq_defence_hit hit;
		if (c->state != WMQ_CL_CONNECTED && c->state != WMQ_CL_AUTH)
			continue;
		if (!c->has_addr)
			continue;
		memset(&hit, 0, sizeof hit);
		struct wmq_bytes cid = wmq_bytes_cstr(c->client_id ? c->client_id : "");
		struct wmq_bytes user = c->username ? wmq_bytes_cstr(c->username) : (struct wmq_bytes){NULL, 0};
		enum wmq_defence_verdict v =
			wmq_defence_check_login(b->defence, &c->addr, cid, user, wmq_wall_ms(), &hit);
		if (v != WMQ_DEFENCE_BANNED || hit.kind > WMQ_BAN_ADDRESS)
			continue; /* back-offs and lock-outs do not end live sessions */
		b->stats.ban_disconnects++;
		struct wmq_audit_field f[1] = {{.key = "ban", .str = wmq_bytes_cstr(ban_kind_name(hit.kind))}};
		audit_line(c, WMQ_AUDIT_BAN, "ban.disconnect", hit.reason[0] ? hit.reason : "banned", f, 1);
		if (c->state == WMQ_CL_AUTH) /* not connected yet: refuse its CONNECT */
			wmq_client_refuse(c, WMQ_RC_BANNED, "banned");
		else
			wmq_client_close(c, WMQ_RC_ADMIN_ACTION, "banned");
	}
}

static void reload_bans(struct wmq_broker *b)
{
	size_t n = 0;
	if (!b->store || !b->defence)
		return;
	if (load_bans(b, &n) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "ban reload failed, keeping the bans in force");
		return;
	}
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "%zu bans in force", n);
	enforce_bans(b);
}

void wmq_security_reconfigure(struct wmq_broker *b)
{
	struct wmq_defence_opts dop;
	defence_opts(&b->cfg, &dop);
	if (b->defence && wmq_defence_set_opts(b->defence, &dop) != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "reload: brute-force defence settings not applied");
}
/* ---- TLS-PSK keys ------------------------------------------------------------- */

struct psk_ent {
	size_t key_len;
	uint8_t key[WMQ_STORE_ID_PSK_MAX]; /* secret */
	const char *user;                  /* attached user (in |identity|'s buffer) or NULL */
	char identity[];                   /* the map's key, then the user's name */
};

static void psk_ent_free(struct psk_ent *e)
{
	if (!e)
		return;
	/* volatile writes: the compiler may not drop the wipe before free */
	volatile uint8_t *k = e->key;
	for (size_t i = 0; i < sizeof e->key; i++)
		k[i] = 0;
	wmq_free(e);
}

static void psk_map_free(struct wmq_hmap *m)
{
	size_t i = 0;
	struct wmq_hent *he;
	while ((he = wmq_hmap_next(m, &i)) != NULL)
		psk_ent_free(he->val);
	wmq_hmap_cleanup(m);
}

struct psk_names {
	char **v;
	size_t n, cap;
};

static wmq_err psk_name_cb(void *arg, const char *identity, const char *user, int64_t created_at)
{
	struct psk_names *l = arg;
	WMQ_UNUSED(user);
	WMQ_UNUSED(created_at);
	if (l->n == l->cap) {
		size_t nc = l->cap ? 2 * l->cap : 16;
		char **nv = wmq_realloc(l->v, nc * sizeof *nv);
		WMQ_ENSURE(nv != NULL, WMQ_ERR_NOMEM);
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n] = wmq_strdup(identity);
	WMQ_ENSURE(l->v[l->n] != NULL, WMQ_ERR_NOMEM);
	l->n++;
	return WMQ_OK;
}

/* Read every PSK identity and key from the store into |m| (initialised
 * here; freed on failure). */
static wmq_err load_psk(struct wmq_broker *b, struct wmq_hmap *m)
{
	struct wmq_store_id_opts o = {.flags = WMQ_STORE_READONLY, .busy_timeout_ms = 5000, .log = &b->log};
	struct wmq_store_id *h = NULL;
	struct psk_names names = {0};
	wmq_err rc;

	wmq_hmap_init(m);
	rc = wmq_store_id_open(b->cfg.persistence_file, &o, &h);
	if (rc != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "psk: %s", h ? wmq_store_id_errmsg(h) : wmq_err_str(rc));
		goto out;
	}
	/* names first: no lookup while the listing statement runs */
	rc = wmq_store_id_psk_list(h, psk_name_cb, &names);
	for (size_t i = 0; rc == WMQ_OK && i < names.n; i++) {
		struct wmq_store_id_psk p;
		rc = wmq_store_id_psk_get(h, names.v[i], &p);
		if (rc == WMQ_ERR_NOTFOUND) { /* deleted meanwhile */
			rc = WMQ_OK;
			continue;
		}
		if (rc != WMQ_OK)
			break;
		size_t il = strlen(p.identity), ul = p.username ? strlen(p.username) + 1 : 0;
		struct psk_ent *e = p.key_len <= WMQ_STORE_ID_PSK_MAX && p.key_len > 0
					    ? wmq_calloc(1, sizeof *e + il + 1 + ul)
					    : NULL;
		if (e) {
			e->key_len = p.key_len;
			memcpy(e->key, p.key, p.key_len);
			memcpy(e->identity, p.identity, il + 1);
			if (ul) {
				memcpy(e->identity + il + 1, p.username, ul);
				e->user = e->identity + il + 1;
			}
		}
		wmq_store_id_psk_cleanup(&p);
		if (!e) {
			rc = WMQ_ERR_NOMEM;
			break;
		}
		psk_ent_free(wmq_hmap_get(m, e->identity, il)); /* cannot happen: PK */
		if ((rc = wmq_hmap_put(m, e->identity, il, e)) != WMQ_OK) {
			psk_ent_free(e);
			break;
		}
	}
	if (rc != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "psk: cannot read the PSK identities: %s",
			h ? wmq_store_id_errmsg(h) : wmq_err_str(rc));
out:
	wmq_store_id_close(h);
	for (size_t i = 0; i < names.n; i++)
		wmq_free(names.v[i]);
	wmq_free(names.v);
	if (rc != WMQ_OK)
		psk_map_free(m);
	return rc;
}

static void reload_psk(struct wmq_broker *b)
{
	struct wmq_hmap m;
	if (!b->store)
		return;
	if (load_psk(b, &m) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "PSK reload failed, keeping the running keys");
		return;
	}
	psk_map_free(&b->psk);
	b->psk = m;
	WMQ_LOG(&b->log, WMQ_LOG_INFO, "PSK identities reloaded: %zu", m.n);
}

wmq_err wmq_security_psk_key(struct wmq_broker *b, const char *identity, uint8_t *key, size_t cap,
			     size_t *len)
{
	*len = 0;
	const struct psk_ent *e = wmq_hmap_get(&b->psk, identity, strlen(identity));
	if (!e)
		return WMQ_ERR_NOTFOUND;
	WMQ_ENSURE(e->key_len <= cap, WMQ_ERR_LIMIT);
	memcpy(key, e->key, e->key_len);
	*len = e->key_len;
	return WMQ_OK;
}

const char *wmq_security_psk_user(struct wmq_broker *b, const char *identity)
{
	const struct psk_ent *e = wmq_hmap_get(&b->psk, identity, strlen(identity));
	return e ? e->user : NULL;
}

/* ---- open / close / reload ------------------------------------------------------ */

wmq_err wmq_security_open(struct wmq_broker *b)
{
	struct wmq_defence_opts dop;
	wmq_hmap_init(&b->auth_waiting);
	wmq_hmap_init(&b->held_addrs);
	defence_opts(&b->cfg, &dop);
	WMQ_TRY(wmq_defence_new(&dop, &b->defence));
	wmq_hmap_init(&b->psk);
	if (b->cfg.audit_file) {
		struct wmq_audit_opts ao;
		wmq_audit_opts_default(&ao);
		ao.path = b->cfg.audit_file;
		if (wmq_audit_open(&ao, &b->audit) != WMQ_OK) {
			WMQ_LOG(&b->log, WMQ_LOG_ERROR, "audit_file %s cannot be opened", b->cfg.audit_file);
			WMQ_BAIL(WMQ_ERR_IO);
		}
	}
	if (!b->store) {
		if (b->cfg.authorization == WMQ_AUTHZ_RULES) {
			WMQ_LOG(&b->log, WMQ_LOG_ERROR,
				"authorization rules needs a store for its rules: set persistence true "
				"or start with --db FILE");
			WMQ_BAIL(WMQ_ERR_INVAL);
		}
		return WMQ_OK;
	}
	struct wmq_pw_ctx_opts po;
	wmq_pw_ctx_opts_default(&po);
	size_t nthreads = b->cfg.auth_threads;
	if (nthreads == 0) { /* CPUs - 1, at least 2: a login storm leaves the worker a CPU */
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = ncpu > 3 ? (size_t)(ncpu - 1) : 2u;
		if (nthreads > WMQ_AUTHPOOL_MAX_THREADS)
			nthreads = WMQ_AUTHPOOL_MAX_THREADS;
	}
	WMQ_TRY(wmq_authpool_new(b->cfg.persistence_file, &po, nthreads, &b->log, &b->authpool));
	WMQ_LOG(&b->log, WMQ_LOG_INFO, "auth pool: %zu threads", nthreads);
	WMQ_TRY(wmq_ev_add(b->ev, &b->authpool_h, wmq_authpool_fd(b->authpool), WMQ_EV_READ, on_pool, b));
	size_t nbans = 0;
	WMQ_TRY(load_bans(b, &nbans)); /* fail closed: no start without the bans */
	if (nbans)
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "%zu bans in force", nbans);
	WMQ_TRY(load_psk(b, &b->psk)); /* fail closed, like the policy */
	if (b->psk.n)
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "%zu PSK identities", b->psk.n);
	if (b->cfg.authorization == WMQ_AUTHZ_OFF) {
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "authorization off: ACL rules are not enforced");
		return WMQ_OK;
	}
	WMQ_TRY(load_policy(b, &b->policy));
	if (b->policy) {
		b->policy_enforced = true;
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "policy version %llu: %zu rules",
			(unsigned long long)wmq_policy_version(b->policy), wmq_policy_count(b->policy));
	} else {
		WMQ_LOG(&b->log, WMQ_LOG_WARNING,
			"authorization auto: the store holds no ACL rule yet, so every authenticated "
			"client may publish and subscribe to everything (see 'authorization')");
	}
	return WMQ_OK;
}

void wmq_security_close(struct wmq_broker *b)
{
	if (b->authpool) {
		wmq_ev_del(b->ev, &b->authpool_h);
		wmq_authpool_free(b->authpool);
		b->authpool = NULL;
	}
	wmq_hmap_cleanup(&b->auth_waiting);
	wmq_hmap_cleanup(&b->held_addrs);
	wmq_defence_free(b->defence);
	b->defence = NULL;
	psk_map_free(&b->psk);
	wmq_policy_unref(b->policy);
	b->policy = NULL;
	if (b->audit) {
		if (wmq_audit_flush(b->audit, 0) != WMQ_OK) {
			/* nothing more can be done at exit */
		}
		wmq_audit_close(b->audit);
		b->audit = NULL;
	}
}

/* Load the policy again; false (old policy kept) on failure. */
static bool reload_policy(struct wmq_broker *b)
{
	struct wmq_policy *p = NULL;
	if (b->cfg.authorization == WMQ_AUTHZ_OFF) {
		wmq_policy_unref(b->policy); /* SIGHUP may have switched it off */
		b->policy = NULL;
		b->policy_enforced = false;
		return true;
	}
	if (load_policy(b, &p) != WMQ_OK) {
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "policy reload failed, keeping the running policy");
		return false;
	}
	wmq_policy_unref(b->policy);
	b->policy = p; /* authorizers recompile at their next check (version) */
	if (p)
		b->policy_enforced = true;
	WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "policy reloaded: %s",
		!p ? "no rules, nothing enforced"
		   : (wmq_policy_count(p) ? "rules in force" : "no rules left: everything is denied"));
	return true;
}

void wmq_security_reopen_audit(struct wmq_broker *b)
{
	bool rotated = false;
	if (!b->audit)
		return;
	if (wmq_audit_reopen(b->audit, &rotated) != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_ERROR, "audit_file %s cannot be opened again, still writing to the old file",
			b->cfg.audit_file ? b->cfg.audit_file : "?");
	else if (rotated)
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "audit_file reopened (rotated): the chain continues from the "
			"old file's head");
}

void wmq_security_reload(struct wmq_broker *b)
{
	wmq_security_changed(b, WMQ_SEC_CHG_POLICY | WMQ_SEC_CHG_USERS | WMQ_SEC_CHG_BANS | WMQ_SEC_CHG_PSK);
}

/* ---- live revocation ------------------------------------------------------
 * An administrative change reaches connected clients at once. Each client
 * is re-examined on the auth pool like a CONNECT without password: its user
 * must still exist (if it logged in with a password) and be enabled, its
 * client id must not be bound to another user, and its password must be the
 * one it logged in with (cred_tag). If not, it is disconnected with 0x98
 * Administrative action (MQTT 5.0 §3.14.2.1; 3.1.1: closed). Otherwise its
 * groups and roles are read again, and then every subscription is checked
 * again (SUBSCRIBE action, the filter as subscribed): a denied one is
 * removed (and from the store), a lowered max_qos lowers its granted QoS.
 * Queued messages need nothing here: every message is checked (RECEIVE)
 * again when it is sent. An answer that read the store before a later
 * change is dropped and the client asked about again. */

static void reeval_subs(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	struct wmq_session *s = c->session;
	struct wmq_policy_decision d;
	size_t n, k = 0, it = 0;
	struct wmq_hent *e;

	if (!b->policy || !s || !s->subs || s->subs->n == 0)
		return;
	n = s->subs->n;
	struct wmq_sub **v = wmq_malloc(n * sizeof *v);
	if (!v) { /* cannot check: never keep what may have been revoked */
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "out of memory re-checking subscriptions");
		return;
	}
	while (k < n && (e = wmq_hmap_next(s->subs, &it)) != NULL)
		v[k++] = e->val;
	for (size_t i = 0; i < k; i++) {
		struct wmq_sub *sub = v[i];
		struct wmq_bytes f = {(const uint8_t *)sub->filter, sub->filter_len};
		if (!wmq_security_check(c, WMQ_ACT_SUBSCRIBE, f, sub->opts.qos, "revoke", &d)) {
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "client %s: subscription %.*s revoked", c->client_id,
				(int)(f.len > 200 ? 200 : f.len), sub->filter);
			b->stats.subs_revoked++;
			(void)wmq_session_unsubscribe(b, s, f); /* frees sub (and f's bytes) */
		} else if (d.qos < sub->opts.qos) {
			struct wmq_subopts o = sub->opts;
			bool existed = false;
			o.qos = d.qos;
			if (wmq_session_subscribe(b, s, f, &o, sub->sub_id, &existed) != WMQ_OK)
				(void)wmq_session_unsubscribe(b, s, f);
		}
	}
	wmq_free(v);
}

static void recheck(struct wmq_client *c)
{
	struct wmq_broker *b = c->b;
	if (c->auth_token) { /* one in flight read the store before this change */
		c->recheck_again = true;
		return;
	}
	uint64_t token = ++b->next_auth_token;
	struct wmq_authpool_job *j = wmq_authpool_job_new(token, c->username, (struct wmq_bytes){NULL, 0}, false,
							  c->client_id, true);
	if (!j || wmq_hmap_put(&b->auth_waiting, &j->token, sizeof j->token, c) != WMQ_OK) {
		wmq_authpool_job_free(j);
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "out of memory re-checking the client");
		return;
	}
	j->recheck = true;
	j->need_user = c->pw_authenticated;
	c->auth_token = token;
	wmq_authpool_submit(b->authpool, j);
}

static void recheck_done(struct wmq_client *c, const struct wmq_authpool_job *j)
{
	struct wmq_broker *b = c->b;
	const char *why = NULL;
	if (c->recheck_again) { /* this answer read the store before the latest change */
		c->recheck_again = false;
		recheck(c);
		return;
	}
	if (j->failed) {
		/* the store could not answer: keep the client, check its
		 * subscriptions against the new rules with the groups it has */
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "client %s: could not re-check its user after a change",
			c->client_id);
		reeval_subs(c);
		return;
	}
	if (!j->ok)
		why = j->bound_elsewhere ? "client id bound to another user" : "user removed or disabled";
	else if (c->pw_authenticated && j->cred_tag != c->cred_tag)
		why = "password changed";
	if (why) {
		b->stats.clients_revoked++;
		audit_line(c, WMQ_AUDIT_AUTHN, "revoke", why, NULL, 0);
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "client %s disconnected: %s", c->client_id, why);
		wmq_client_close(c, WMQ_RC_ADMIN_ACTION, why);
		return;
	}
	if (wmq_security_principal(c, j) != WMQ_OK) {
		wmq_client_close(c, WMQ_RC_SERVER_BUSY, "out of memory re-checking the client");
		return;
	}
	reeval_subs(c); /* the new rules with its groups and roles as they are now */
}

void wmq_security_resumed(struct wmq_client *c)
{
	reeval_subs(c);
}

void wmq_security_changed(struct wmq_broker *b, unsigned what)
{
	if (!b->store)
		return;
	if (what & WMQ_SEC_CHG_BANS)
		reload_bans(b); /* and close the live sessions a new ban names */
	if (what & (WMQ_SEC_CHG_PSK | WMQ_SEC_CHG_USERS))
		reload_psk(b); /* deleting a user drops its keys */
	if (!(what & (WMQ_SEC_CHG_POLICY | WMQ_SEC_CHG_USERS)))
		return;
	/* Rules live in the policy; users, passwords, memberships and
	 * bindings are read by the auth pool, so a change of those alone
	 * needs no new policy. */
	if ((what & WMQ_SEC_CHG_POLICY) && !reload_policy(b) && !(what & WMQ_SEC_CHG_USERS))
		return; /* the old policy stays, and so do the clients */
	if (what & WMQ_SEC_CHG_USERS)
		wmq_authpool_forget_all(b->authpool); /* passwords may have changed */
	/* Subscriptions are re-checked when the pool has read each client's
	 * groups and roles again (recheck_done): checking them now, with the
	 * groups of its login, could revoke what a membership added in the
	 * same change grants, and a removed subscription does not come back. */
	for (struct wmq_client *c = b->clients; c; c = c->next)
		if (c->state == WMQ_CL_CONNECTED)
			recheck(c);
}

bool wmq_security_submit(struct wmq_client *c, const char *username, struct wmq_bytes password,
			 bool has_password, bool anonymous, uint64_t hold_ms)
{
	struct wmq_broker *b = c->b;
	uint64_t token = ++b->next_auth_token;
	struct wmq_authpool_job *j =
		wmq_authpool_job_new(token, username, password, has_password, c->client_id, anonymous);
	if (!j)
		return false;
	if (wmq_hmap_put(&b->auth_waiting, &j->token, sizeof j->token, c) != WMQ_OK) {
		wmq_authpool_job_free(j);
		return false;
	}
	if (hold_ms && c->has_addr) {
		if (wmq_hmap_put(&b->held_addrs, &c->addr, sizeof c->addr, c) != WMQ_OK) {
			(void)wmq_hmap_del(&b->auth_waiting, &j->token, sizeof j->token);
			wmq_authpool_job_free(j);
			return false;
		}
		c->held_job = j;
		c->hold_until = b->now + hold_ms;
		if (!b->next_hold_at || c->hold_until < b->next_hold_at)
			b->next_hold_at = c->hold_until;
		c->auth_token = token;
		c->state = WMQ_CL_AUTH;
		return true;
	}
	c->auth_token = token;
	c->state = WMQ_CL_AUTH;
	wmq_authpool_submit(b->authpool, j);
	return true;
}

bool wmq_security_holding(const struct wmq_client *c)
{
	return c->has_addr && wmq_hmap_get(&c->b->held_addrs, &c->addr, sizeof c->addr) != NULL;
}

static void unhold(struct wmq_client *c)
{
	if (wmq_hmap_get(&c->b->held_addrs, &c->addr, sizeof c->addr) == c)
		(void)wmq_hmap_del(&c->b->held_addrs, &c->addr, sizeof c->addr);
}

void wmq_security_release_held(struct wmq_broker *b, uint64_t now)
{
	uint64_t next = 0;
	if (!b->next_hold_at || now < b->next_hold_at)
		return;
	for (struct wmq_client *c = b->clients; c; c = c->next) {
		if (!c->held_job || c->state != WMQ_CL_AUTH)
			continue;
		if (c->hold_until <= now) {
			struct wmq_authpool_job *j = c->held_job;
			c->held_job = NULL;
			unhold(c);
			wmq_authpool_submit(b->authpool, j);
		} else if (!next || c->hold_until < next) {
			next = c->hold_until;
		}
	}
	b->next_hold_at = next;
}

void wmq_security_forget(struct wmq_client *c)
{
	/* The map's key is the job's own token field: take the entry out
	 * before a held job is freed. */
	if (c->auth_token) {
		(void)wmq_hmap_del(&c->b->auth_waiting, &c->auth_token, sizeof c->auth_token);
		c->auth_token = 0;
	}
	if (c->held_job) {
		unhold(c);
		wmq_authpool_job_free(c->held_job);
		c->held_job = NULL;
	}
}

wmq_err wmq_security_principal(struct wmq_client *c, const struct wmq_authpool_job *j)
{
	struct wmq_principal pr = {
		.username = c->username,
		.client_id = c->client_id,
		.groups = (const char *const *)j->groups,
		.ngroups = j->ngroups,
		.roles = (const char *const *)j->roles,
		.nroles = j->nroles,
	};
	wmq_authz_free(c->authz);
	c->authz = NULL;
	return wmq_authz_new(&pr, AUTHZ_CACHE, &c->authz);
}

static struct wmq_bytes opt_cstr(const char *s)
{
	return s ? wmq_bytes_cstr(s) : (struct wmq_bytes){NULL, 0};
}

static void audit_line(struct wmq_client *c, enum wmq_audit_kind kind, const char *event, const char *reason,
		       const struct wmq_audit_field *f, size_t nf)
{
	struct wmq_broker *b = c->b;
	char port[16];
	if (!b->audit)
		return;
	snprintf(port, sizeof port, "%u", c->listener ? c->listener->bound_port : 0u);
	struct wmq_audit_event ev = {
		.kind = kind,
		.event = event,
		.listener = wmq_bytes_cstr(port),
		.peer = wmq_bytes_cstr(c->conn.peer),
		.client_id = opt_cstr(c->client_id),
		.username = opt_cstr(c->username),
		.mechanism = wmq_bytes_cstr(c->cert_authenticated ? "certificate"
					    : (c->username ? "password" : "anonymous")),
		.decision = WMQ_AUDIT_DENY,
		.reason = reason,
		.fields = f,
		.nfields = nf,
	};
	if (wmq_audit_write(b->audit, &ev) != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "audit_file: a line could not be written");
}

bool wmq_security_will_ok(struct wmq_broker *b, struct wmq_session *s)
{
	struct wmq_authz *z = s->will_authz;
	struct wmq_policy_decision d;
	bool ok = true;
	s->will_authz = NULL;
	if (b->policy && s->will) {
		if (!z) { /* restored after a restart: its username and client id */
			struct wmq_principal pr = {.username = s->username, .client_id = s->client_id};
			if (wmq_authz_new(&pr, 8, &z) != WMQ_OK)
				z = NULL;
		}
		struct wmq_bytes wt = wmq_bytes_cstr(s->will->topic);
		ok = z && wmq_authz_check(z, b->policy, WMQ_ACT_PUBLISH, wt, s->will->qos, &d) &&
		     (!s->will->retain || wmq_authz_check(z, b->policy, WMQ_ACT_RETAIN, wt, s->will->qos, &d));
		if (!ok) {
			b->stats.authz_denied++;
			WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "delayed will of %s not published: not authorized",
				s->client_id);
			if (b->audit) {
				struct wmq_audit_field f = {.key = "topic", .str = wt};
				struct wmq_audit_event ev = {
					.kind = WMQ_AUDIT_AUTHZ,
					.event = "will",
					.client_id = wmq_bytes_cstr(s->client_id),
					.username = opt_cstr(s->username),
					.decision = WMQ_AUDIT_DENY,
					.reason = "delayed will no longer authorized",
					.fields = &f,
					.nfields = 1,
				};
				if (wmq_audit_write(b->audit, &ev) != WMQ_OK)
					WMQ_LOG(&b->log, WMQ_LOG_WARNING, "audit_file: a line could not be written");
			}
		}
	}
	wmq_authz_free(z);
	return ok;
}

void wmq_security_audit_authn(struct wmq_client *c, const char *reason)
{
	audit_line(c, WMQ_AUDIT_AUTHN, "connect", reason, NULL, 0);
}

/* An audit line for a connection refused at accept (no client yet). */
static void audit_conn(struct wmq_broker *b, struct wmq_listener *l, const char *peer, const char *event,
		       const char *reason)
{
	char port[16];
	if (!b->audit)
		return;
	snprintf(port, sizeof port, "%u", l ? l->bound_port : 0u);
	struct wmq_audit_event ev = {
		.kind = WMQ_AUDIT_CONN,
		.event = event,
		.listener = wmq_bytes_cstr(port),
		.peer = wmq_bytes_cstr(peer),
		.decision = WMQ_AUDIT_DENY,
		.reason = reason,
	};
	if (wmq_audit_write(b->audit, &ev) != WMQ_OK)
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "audit_file: a line could not be written");
}

enum wmq_defence_verdict wmq_security_on_accept(struct wmq_broker *b, struct wmq_listener *l,
						const struct wmq_addr *a, const char *peer)
{
	struct wmq_defence_hit hit;
	memset(&hit, 0, sizeof hit);
	enum wmq_defence_verdict v = wmq_defence_on_connect(b->defence, a, wmq_wall_ms(), &hit);
	if (v == WMQ_DEFENCE_RATE_LIMITED) {
		b->stats.refused_rate++;
		WMQ_LOG(&b->log, WMQ_LOG_INFO, "connection from %s over max_connection_rate", peer);
		audit_conn(b, l, peer, "connect.rate", "connection rate exceeded");
	} else if (v == WMQ_DEFENCE_BANNED) {
		b->stats.refused_banned++;
		WMQ_LOG(&b->log, WMQ_LOG_INFO, "connection from %s refused: %s", peer, ban_kind_name(hit.kind));
		audit_conn(b, l, peer, "connect.banned", ban_kind_name(hit.kind));
	}
	return v;
}

enum wmq_defence_verdict wmq_security_check_login(struct wmq_client *c, struct wmq_bytes cid,
						  struct wmq_defence_hit *hit)
{
	struct wmq_broker *b = c->b;
	memset(hit, 0, sizeof *hit);
	if (!c->has_addr)
		return WMQ_DEFENCE_OK;
	struct wmq_bytes user = c->username ? wmq_bytes_cstr(c->username) : (struct wmq_bytes){NULL, 0};
	enum wmq_defence_verdict v = wmq_defence_check_login(b->defence, &c->addr, cid, user, wmq_wall_ms(), hit);
	if (v == WMQ_DEFENCE_BANNED) {
		b->stats.refused_banned++;
		struct wmq_audit_field f[1] = {{.key = "ban", .str = wmq_bytes_cstr(ban_kind_name(hit->kind))}};
		audit_line(c, WMQ_AUDIT_AUTHN, "connect", "banned", f, 1);
	}
	return v;
}

void wmq_security_backoff_refused(struct wmq_client *c, uint64_t wait_ms)
{
	c->b->stats.backoff_refused++;
	struct wmq_audit_field f[1] = {{.key = "wait_ms", .num = (int64_t)wait_ms, .is_num = true}};
	audit_line(c, WMQ_AUDIT_AUTHN, "connect", "failed-login back-off", f, 1);
}

void wmq_security_login_result(struct wmq_client *c, bool ok)
{
	struct wmq_broker *b = c->b;
	struct wmq_bytes user = c->username ? wmq_bytes_cstr(c->username) : (struct wmq_bytes){NULL, 0};
	if (!c->has_addr)
		return;
	if (ok) {
		wmq_defence_login_succeeded(b->defence, &c->addr, user);
		return;
	}
	struct wmq_defence_failure r;
	wmq_defence_login_failed(b->defence, &c->addr, user, wmq_wall_ms(), &r);
	if (!r.locked_out)
		return;
	char addr[64], esc[96];
	wmq_addr_format(&c->addr, addr, sizeof addr);
	b->stats.lockouts++;
	int64_t secs = (r.lockout_until_ms - wmq_wall_ms() + 999) / 1000;
	if (r.lockout_kind == WMQ_BAN_LOCKOUT_ADDR)
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "address %s locked out for %" PRId64 " s after %u failed logins",
			addr, secs, r.addr_failures);
	else
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE,
			"username '%s' from %s locked out for %" PRId64 " s after %u failed logins",
			wmq_log_escape(user, esc, sizeof esc), addr, secs, r.pair_failures);
	struct wmq_audit_field f[3] = {
		{.key = "ban", .str = wmq_bytes_cstr(ban_kind_name(r.lockout_kind))},
		{.key = "until_ms", .num = r.lockout_until_ms, .is_num = true},
		{.key = "failures",
		 .num = r.lockout_kind == WMQ_BAN_LOCKOUT_ADDR ? r.addr_failures : r.pair_failures,
		 .is_num = true},
	};
	audit_line(c, WMQ_AUDIT_BAN, "lockout", "failed logins", f, 3);
}

bool wmq_security_check(struct wmq_client *c, enum wmq_policy_action action, struct wmq_bytes topic,
			uint8_t qos, const char *event, struct wmq_policy_decision *d)
{
	struct wmq_broker *b = c->b;
	memset(d, 0, sizeof *d);
	d->qos = qos;
	if (!b->policy) {
		d->allow = true;
		return true;
	}
	if (!c->authz) { /* never fail open */
		d->allow = false;
		d->reason = WMQ_POLICY_BY_ERROR;
	} else {
		(void)wmq_authz_check(c->authz, b->policy, action, topic, qos, d);
	}
	if (d->allow)
		return true;
	c->authz_denied++;
	if (action == WMQ_ACT_RECEIVE)
		b->stats.receive_denied++;
	else
		b->stats.authz_denied++;
	struct wmq_audit_field f[3];
	size_t nf = 0;
	f[nf++] = (struct wmq_audit_field){.key = "topic", .str = topic};
	f[nf++] = (struct wmq_audit_field){.key = "qos", .num = qos, .is_num = true};
	if (d->rule)
		f[nf++] = (struct wmq_audit_field){.key = "rule", .num = (int64_t)d->rule->id, .is_num = true};
	audit_line(c, WMQ_AUDIT_AUTHZ, event, wmq_policy_reason_str(d->reason), f, nf);
	return false;
}
