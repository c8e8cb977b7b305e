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
 * Threading: the worker's thread only (the pool threads touch jobs only).
 * Ownership: b->authpool, b->policy and b->audit belong to the broker;
 * c->authz to its connection. */
#include <string.h>

#include "broker/broker.h"
#include "common/alloc.h"
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

wmq_err wmq_security_open(struct wmq_broker *b)
{
	wmq_hmap_init(&b->auth_waiting);
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
	WMQ_TRY(wmq_authpool_new(b->cfg.persistence_file, &po, &b->log, &b->authpool));
	WMQ_TRY(wmq_ev_add(b->ev, &b->authpool_h, wmq_authpool_fd(b->authpool), WMQ_EV_READ, on_pool, b));
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

void wmq_security_reload(struct wmq_broker *b)
{
	wmq_security_changed(b, WMQ_SEC_CHG_POLICY | WMQ_SEC_CHG_USERS);
}

/* ---- live revocation ------------------------------------------------------
 * An administrative change reaches connected clients at once:
 *   - every subscription is checked again (SUBSCRIBE action, the filter as
 *     subscribed); a denied one is removed (and from the store), a lowered
 *     max_qos lowers its granted QoS. Queued messages need nothing here:
 *     every message is checked (RECEIVE) again when it is sent.
 *   - with a store, each client is re-examined on the auth pool like a
 *     CONNECT without password: its user must still exist (if it logged in
 *     with a password) and be enabled, its client id must not be bound to
 *     another user, and its password must be the one it logged in with
 *     (cred_tag). If not, it is disconnected with 0x98 Administrative
 *     action (MQTT 5.0 §3.14.2.1; 3.1.1: closed). Otherwise its groups and
 *     roles are read again and its subscriptions re-checked with them. */

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
	if (j->failed) {
		/* the store could not answer: keep the client (its rules were
		 * re-checked already) and say so */
		WMQ_LOG(&b->log, WMQ_LOG_WARNING, "client %s: could not re-check its user after a change",
			c->client_id);
	} else if (!j->ok) {
		why = j->bound_elsewhere ? "client id bound to another user" : "user removed or disabled";
	} else if (c->pw_authenticated && j->cred_tag != c->cred_tag) {
		why = "password changed";
	}
	if (why) {
		b->stats.clients_revoked++;
		audit_line(c, WMQ_AUDIT_AUTHN, "revoke", why, NULL, 0);
		WMQ_LOG(&b->log, WMQ_LOG_NOTICE, "client %s disconnected: %s", c->client_id, why);
		wmq_client_close(c, WMQ_RC_ADMIN_ACTION, why);
		return;
	}
	if (j->ok) {
		if (wmq_security_principal(c, j) != WMQ_OK) {
			wmq_client_close(c, WMQ_RC_SERVER_BUSY, "out of memory re-checking the client");
			return;
		}
		reeval_subs(c);
	}
	if (c->recheck_again) {
		c->recheck_again = false;
		recheck(c);
	}
}

void wmq_security_resumed(struct wmq_client *c)
{
	reeval_subs(c);
}

void wmq_security_changed(struct wmq_broker *b, unsigned what)
{
	if (!b->store || !(what & (WMQ_SEC_CHG_POLICY | WMQ_SEC_CHG_USERS)))
		return;
	if (!reload_policy(b))
		return;
	wmq_authpool_forget_all(b->authpool); /* passwords may have changed */
	for (struct wmq_client *c = b->clients; c; c = c->next) {
		if (c->state != WMQ_CL_CONNECTED)
			continue;
		reeval_subs(c); /* the new rules for the groups it has now */
		if (c->state == WMQ_CL_CONNECTED)
			recheck(c); /* then its user, password and groups */
	}
}

bool wmq_security_submit(struct wmq_client *c, const char *username, struct wmq_bytes password,
			 bool has_password, bool anonymous)
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
	c->auth_token = token;
	c->state = WMQ_CL_AUTH;
	wmq_authpool_submit(b->authpool, j);
	return true;
}

void wmq_security_forget(struct wmq_client *c)
{
	if (c->auth_token) {
		(void)wmq_hmap_del(&c->b->auth_waiting, &c->auth_token, sizeof c->auth_token);
		c->auth_token = 0;
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
