/* SPDX-License-Identifier: MIT
 * policy_load.c - rows of the identity store <-> rules of the policy
 * engine: build a struct wmq_policy from the database, check a rule before
 * it is stored, and print a rule in the native policy syntax.
 *
 * Role: the glue between store/identity.h and security/policy.h, shared by
 * the broker (policy at start-up and on SIGHUP) and wardmq_ctl.
 * Fail closed: a row the engine refuses fails the whole load with the rule
 * id; the caller must not fall back to an empty or partial policy.
 * Threading: reentrant. Ownership: see policy_load.h. */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "protocol/mqtt.h"
#include "security/policy.h"
#include "security/policy_load.h"

/* The store keeps the engine's numbering; keep them in step. */
_Static_assert((int)WMQ_STORE_ID_ALL == (int)WMQ_SUBJ_ALL, "subject numbering");
_Static_assert((int)WMQ_STORE_ID_ANONYMOUS == (int)WMQ_SUBJ_ANONYMOUS, "subject numbering");
_Static_assert((int)WMQ_STORE_ID_USER == (int)WMQ_SUBJ_USER, "subject numbering");
_Static_assert((int)WMQ_STORE_ID_GROUP == (int)WMQ_SUBJ_GROUP, "subject numbering");
_Static_assert((int)WMQ_STORE_ID_ROLE == (int)WMQ_SUBJ_ROLE, "subject numbering");
_Static_assert(WMQ_ACT_ALL == 15u, "action bits");

void wmq_policy_rule_from_store(const struct wmq_store_id_rule *r, struct wmq_policy_rule_spec *spec)
{
	memset(spec, 0, sizeof *spec);
	spec->effect = r->allow ? WMQ_POLICY_ALLOW : WMQ_POLICY_DENY;
	spec->actions = r->actions;
	spec->subject = (enum wmq_policy_subject)r->kind;
	spec->subject_name = r->name;
	spec->filter = r->filter;
	spec->subst = r->subst;
	spec->max_qos = r->max_qos;
	spec->priority = r->priority;
	spec->id = r->id;
	spec->origin = r->origin;
}

void wmq_policy_rule_to_store(const struct wmq_policy_rule *pr, struct wmq_store_id_rule *r)
{
	memset(r, 0, sizeof *r);
	r->kind = (enum wmq_store_id_kind)pr->subject;
	r->name = pr->subject_name;
	r->allow = pr->effect == WMQ_POLICY_ALLOW;
	r->actions = pr->actions;
	r->filter = pr->filter;
	r->subst = pr->subst;
	r->max_qos = pr->max_qos;
	r->priority = pr->priority;
	r->origin = pr->origin;
}

wmq_err wmq_policy_rule_check(const struct wmq_store_id_rule *r, char *why, size_t cap)
{
	struct wmq_bytes f = wmq_bytes_cstr(r->filter ? r->filter : "");
	struct wmq_bytes group, inner;
	snprintf(why, cap, "%s", "");
	if (!r->filter || !wmq_topic_filter_valid(f)) {
		snprintf(why, cap, "invalid topic filter");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (wmq_topic_shared_split(f, &group, &inner)) {
		snprintf(why, cap, "a rule names the filter itself, not a $share/GROUP/ subscription");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (wmq_topic_levels(f) > WMQ_POLICY_MAX_LEVELS) {
		snprintf(why, cap, "the filter has more than %d levels", WMQ_POLICY_MAX_LEVELS);
		WMQ_BAIL(WMQ_ERR_LIMIT);
	}
	struct wmq_policy *p = NULL;
	struct wmq_policy_rule_spec spec;
	WMQ_TRY(wmq_policy_new(1, &p));
	wmq_policy_rule_from_store(r, &spec);
	spec.id = 0;
	wmq_err rc = wmq_policy_add(p, &spec, NULL);
	wmq_policy_unref(p);
	if (rc == WMQ_ERR_INVAL)
		snprintf(why, cap, "the policy engine refuses it (actions, principal name or max_qos)");
	else if (rc != WMQ_OK)
		snprintf(why, cap, "%s", wmq_err_str(rc));
	return rc;
}

struct load_ctx {
	struct wmq_policy *p;   /* made at the first row, with the store's version */
	const uint64_t *version; /* written by the store before the first row */
	char *why;
	size_t cap;
};

static wmq_err load_rule(void *arg, const struct wmq_store_id_rule *r)
{
	struct load_ctx *c = arg;
	struct wmq_policy_rule_spec spec;
	if (!c->p)
		WMQ_TRY(wmq_policy_new(*c->version, &c->p));
	wmq_policy_rule_from_store(r, &spec);
	wmq_err rc = wmq_policy_add(c->p, &spec, NULL);
	if (rc != WMQ_OK) {
		char text[512];
		wmq_policy_rule_text(r, text, sizeof text);
		snprintf(c->why, c->cap, "rule #%llu (%s) is refused by the policy engine: %s",
			 (unsigned long long)r->id, text, wmq_err_str(rc));
	}
	return rc;
}

wmq_err wmq_policy_load(struct wmq_store_id *h, struct wmq_policy **out, char *why, size_t cap)
{
	uint64_t version = 0;
	struct load_ctx c = {NULL, &version, why, cap};
	wmq_err rc;

	*out = NULL;
	snprintf(why, cap, "%s", "");
	rc = wmq_store_id_rules(h, load_rule, &c, &version);
	if (rc != WMQ_OK) {
		if (!why[0])
			snprintf(why, cap, "%s", rc == WMQ_ERR_NOMEM ? "out of memory" : wmq_store_id_errmsg(h));
		goto out;
	}
	if (!c.p && (rc = wmq_policy_new(version, &c.p)) != WMQ_OK) { /* no rules at all */
		snprintf(why, cap, "out of memory");
		goto out;
	}
	*out = c.p; /* ownership to the caller */
	c.p = NULL;
out:
	wmq_policy_unref(c.p);
	return rc;
}

void wmq_policy_rule_text(const struct wmq_store_id_rule *r, char *out, size_t cap)
{
	struct wmq_policy_rule pr = {
		.id = r->id,
		.effect = r->allow ? WMQ_POLICY_ALLOW : WMQ_POLICY_DENY,
		.actions = r->actions,
		.subject = (enum wmq_policy_subject)r->kind,
		.subject_name = r->name,
		.filter = r->filter,
		.subst = r->subst,
		.max_qos = r->max_qos,
		.priority = r->priority,
		.origin = r->origin,
	};
	if (wmq_policy_rule_format(&pr, out, cap) != WMQ_OK)
		snprintf(out, cap, "(rule #%llu: too long to show)", (unsigned long long)r->id);
}
