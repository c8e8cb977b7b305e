/* SPDX-License-Identifier: MIT
 * exec.c - the executor of administrative requests: wardmq_ctl's offline
 * backend (ctl_local_open, on the database file) and the broker's admin
 * socket (ctl_local_attach, on the broker's own identity handle), both
 * through store/identity.h with one audit line per change.
 *
 * Role: the only code that turns a struct ctl_req into store calls and a
 * result (message and value tree). A successful change writes one audit
 * line (kind "admin", or "ban" for bans; "actor" = the login name running
 * the tool or the admin socket's peer, "via" = "offline" or "socket"); a
 * change whose audit line cannot be written is reported as an error (exit
 * 6) because the change has happened and the log is incomplete. The audit
 * log is opened before anything changes, so a log that cannot be opened
 * stops the command first. Inside a transaction (imports) the per-request
 * lines are replaced by one summary line written after the commit.
 * USER_CHECK's password is used for one verification and never logged.
 * Online only (ctl_local_set_live: the broker's brute-force defence),
 * BAN_LIST adds the automatic lock-outs in force (source "lockout") and
 * BAN_DEL kind CTL_BAN_LOCKOUT lifts one; offline that is refused (exit 2).
 * Threading: a backend belongs to one thread (the tool, or the broker's
 * admin thread). Ownership: results own their values. */
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/time.h"
#include "admin/admin.h"
#include "security/defence.h"
#include "security/password.h"
#include "security/policy.h"

struct local {
	struct ctl_backend base;    /* first: the backend handle */
	struct wmq_store_id *h;
	struct wmq_audit *audit;    /* NULL without --audit */
	char actor[64];
	bool txn;                   /* inside TXN_BEGIN .. COMMIT/ROLLBACK */
	bool borrowed;              /* ctl_local_attach: h and audit belong to the caller */
	char via[16];               /* audit "via": "offline", or what the host says */
	const struct ctl_live *live; /* the running broker (admin socket), or NULL */
};

/* Run a void call and leave the (void) function: C forbids "return f();". */
#define RETURN(call)                                                                 \
	do {                                                                         \
		call;                                                                \
		return;                                                              \
	} while (0)

/* ---- Op metadata ------------------------------------------------------------- */

static const char *const ACT_NAMES[] = {"publish", "subscribe", "receive", "retain"};

void ctl_actions_str(unsigned actions, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	if (actions == WMQ_ACT_ALL) {
		snprintf(out, cap, "all");
		return;
	}
	for (int a = 0; a < WMQ_ACT__COUNT; a++) {
		if (!(actions & WMQ_ACT_BIT(a)))
			continue;
		int n = snprintf(out + o, cap - o, "%s%s", o ? "," : "", ACT_NAMES[a]);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
}

static const struct {
	const char *name;
	unsigned changes;
} OPS[] = {
	[CTL_OP_USER_ADD] = {"user.add", CTL_CHG_USERS},
	[CTL_OP_USER_IMPORT] = {"user.import", CTL_CHG_USERS},
	[CTL_OP_USER_DEL] = {"user.del", CTL_CHG_USERS | CTL_CHG_POLICY},
	[CTL_OP_USER_PASSWD] = {"user.passwd", CTL_CHG_USERS},
	[CTL_OP_USER_DISABLE] = {"user.disable", CTL_CHG_USERS},
	[CTL_OP_USER_LIST] = {"user.list", 0},
	[CTL_OP_USER_SHOW] = {"user.show", 0},
	[CTL_OP_USER_CHECK] = {"user.check", 0},
	[CTL_OP_GROUP_ADD] = {"group.add", CTL_CHG_POLICY},
	[CTL_OP_GROUP_DEL] = {"group.del", CTL_CHG_POLICY},
	[CTL_OP_GROUP_LIST] = {"group.list", 0},
	[CTL_OP_GROUP_SHOW] = {"group.show", 0},
	[CTL_OP_MEMBER_ADD] = {"group.member.add", CTL_CHG_POLICY},
	[CTL_OP_MEMBER_DEL] = {"group.member.del", CTL_CHG_POLICY},
	[CTL_OP_ROLE_ADD] = {"role.add", CTL_CHG_POLICY},
	[CTL_OP_ROLE_DEL] = {"role.del", CTL_CHG_POLICY},
	[CTL_OP_ROLE_LIST] = {"role.list", 0},
	[CTL_OP_ROLE_SHOW] = {"role.show", 0},
	[CTL_OP_ROLE_GRANT] = {"role.grant", CTL_CHG_POLICY},
	[CTL_OP_ROLE_REVOKE] = {"role.revoke", CTL_CHG_POLICY},
	[CTL_OP_RULE_ADD] = {"rule.add", CTL_CHG_POLICY},
	[CTL_OP_RULE_DEL] = {"rule.del", CTL_CHG_POLICY},
	[CTL_OP_RULE_DEL_ALL] = {"rule.del_all", CTL_CHG_POLICY},
	[CTL_OP_RULE_LIST] = {"rule.list", 0},
	[CTL_OP_BAN_ADD] = {"ban.add", CTL_CHG_BANS},
	[CTL_OP_BAN_DEL] = {"ban.del", CTL_CHG_BANS},
	[CTL_OP_BAN_LIST] = {"ban.list", 0},
	[CTL_OP_BAN_PURGE] = {"ban.purge", CTL_CHG_BANS},
	[CTL_OP_CLIENT_BIND] = {"client.bind", CTL_CHG_USERS},
	[CTL_OP_CLIENT_UNBIND] = {"client.unbind", CTL_CHG_USERS},
	[CTL_OP_CLIENT_LIST] = {"client.list", 0},
	[CTL_OP_PSK_ADD] = {"psk.add", CTL_CHG_PSK},
	[CTL_OP_PSK_DEL] = {"psk.del", CTL_CHG_PSK},
	[CTL_OP_PSK_LIST] = {"psk.list", 0},
	[CTL_OP_ACL_EXPLAIN] = {"acl.explain", 0},
	[CTL_OP_POLICY_VERSION] = {"policy.version", 0},
	[CTL_OP_TXN_BEGIN] = {"txn.begin", 0},
	[CTL_OP_TXN_COMMIT] = {"txn.commit", 0},
	[CTL_OP_TXN_ROLLBACK] = {"txn.rollback", 0},
};

unsigned ctl_op_changes(enum ctl_op op)
{
	return (unsigned)op < WMQ_ARRAY_LEN(OPS) ? OPS[op].changes : 0;
}

const char *ctl_op_name(int op)
{
	return op >= 0 && (size_t)op < WMQ_ARRAY_LEN(OPS) && OPS[op].name ? OPS[op].name : "?";
}

/* ---- Request validation -------------------------------------------------------- */

/* What each op needs (bits). */
enum { N_A = 1, N_B = 2, N_SECRET = 4, N_KEY = 8, N_RULE = 16, N_TOPIC = 32 };

static unsigned needs(enum ctl_op op)
{
	switch (op) {
	case CTL_OP_USER_ADD:
	case CTL_OP_USER_IMPORT:
	case CTL_OP_USER_DEL:
	case CTL_OP_USER_PASSWD:
	case CTL_OP_USER_DISABLE:
	case CTL_OP_USER_SHOW:
	case CTL_OP_GROUP_ADD:
	case CTL_OP_GROUP_DEL:
	case CTL_OP_GROUP_SHOW:
	case CTL_OP_ROLE_ADD:
	case CTL_OP_ROLE_DEL:
	case CTL_OP_ROLE_SHOW:
	case CTL_OP_BAN_ADD:
	case CTL_OP_BAN_DEL:
	case CTL_OP_CLIENT_UNBIND:
	case CTL_OP_PSK_DEL: return N_A;
	case CTL_OP_USER_CHECK: return N_A | N_SECRET;
	case CTL_OP_MEMBER_ADD:
	case CTL_OP_MEMBER_DEL:
	case CTL_OP_ROLE_GRANT:
	case CTL_OP_ROLE_REVOKE:
	case CTL_OP_CLIENT_BIND: return N_A | N_B;
	case CTL_OP_PSK_ADD: return N_A | N_KEY;
	case CTL_OP_RULE_ADD: return N_RULE;
	case CTL_OP_ACL_EXPLAIN: return N_B | N_TOPIC;
	default: return 0;
	}
}

wmq_err ctl_req_check(const struct ctl_req *q, char *why, size_t cap)
{
	unsigned n = needs(q->op);
	const char *miss = NULL;
	if ((unsigned)q->op >= CTL_OP__COUNT)
		miss = "a known operation";
	else if ((n & N_A) && !q->a)
		miss = "a name (field a)";
	else if ((n & N_B) && !q->b)
		miss = "a second name (field b)";
	else if ((n & N_SECRET) && !q->secret)
		miss = "the password to check";
	else if ((n & N_KEY) && (!q->key || !q->key_len))
		miss = "a key";
	else if ((n & N_RULE) && !q->rule.filter)
		miss = "a rule";
	else if ((n & N_TOPIC) && !q->topic)
		miss = "a topic";
	if (miss) {
		snprintf(why, cap, "%s needs %s", ctl_op_name((int)q->op), miss);
		return WMQ_ERR_INVAL;
	}
	switch (q->op) {
	case CTL_OP_ROLE_GRANT:
	case CTL_OP_ROLE_REVOKE:
		if (q->kind != WMQ_STORE_ID_GRANT_USER && q->kind != WMQ_STORE_ID_GRANT_GROUP)
			miss = "grantee kind";
		break;
	case CTL_OP_RULE_LIST:
		if (q->kind < -1 || q->kind > WMQ_STORE_ID_ROLE)
			miss = "principal kind";
		break;
	case CTL_OP_BAN_DEL:
		if (q->kind == CTL_BAN_LOCKOUT) {
			/* a lock-out is named as wmq_defence_ban_list shows it: the
			 * address and, for a (address, username) one, the username */
			if (wmq_addr_parse(q->a, &(struct wmq_addr){0}) != WMQ_OK)
				miss = "lock-out address (an IPv4 or IPv6 address)";
			/* MQTT 3.1.1 §1.5.3: a username is at most 65535 bytes */
			else if (q->b && strlen(q->b) > 65535)
				miss = "lock-out username (at most 65535 bytes)";
			break;
		}
		/* fall through */
	case CTL_OP_BAN_ADD:
		if (q->kind < WMQ_STORE_ID_BAN_CLIENT_ID || q->kind > WMQ_STORE_ID_BAN_ADDRESS)
			miss = "ban kind";
		else if (q->kind == WMQ_STORE_ID_BAN_ADDRESS && wmq_cidr_parse(q->a, &(struct wmq_cidr){0}) != WMQ_OK)
			miss = "address (an IPv4 or IPv6 address or CIDR range)";
		else if (q->reason && strlen(q->reason) > 127)
			miss = "reason (at most 127 bytes)";
		break;
	case CTL_OP_ACL_EXPLAIN:
		if (q->action < 0 || q->action >= WMQ_ACT__COUNT || q->qos < 0 || q->qos > 2)
			miss = "action or QoS";
		break;
	default: break;
	}
	if (miss) {
		snprintf(why, cap, "%s: invalid %s", ctl_op_name((int)q->op), miss);
		return WMQ_ERR_INVAL;
	}
	return WMQ_OK;
}

/* ---- Results ----------------------------------------------------------------- */

int ctl_exit_of(wmq_err e)
{
	switch (e) {
	case WMQ_OK: return CTL_EXIT_OK;
	case WMQ_ERR_NOTFOUND: return CTL_EXIT_NOTFOUND;
	case WMQ_ERR_DENIED: return CTL_EXIT_EXISTS;
	case WMQ_ERR_INVAL: return CTL_EXIT_USAGE;
	case WMQ_ERR_STORE: return CTL_EXIT_STORE;
	default: return CTL_EXIT_ERROR;
	}
}

void ctl_res_init(struct ctl_res *r)
{
	memset(r, 0, sizeof *r);
}

void ctl_res_cleanup(struct ctl_res *r)
{
	ctl_val_free(r->data);
	wmq_free(r->text);
	memset(r, 0, sizeof *r);
}

void ctl_res_msg(struct ctl_res *r, int status, const char *fmt, ...)
{
	va_list ap;
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
}

void ctl_res_warn(struct ctl_res *r, const char *fmt, ...)
{
	va_list ap;
	if (r->nwarn >= CTL_MAX_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warn[r->nwarn++], sizeof r->warn[0], fmt, ap);
	va_end(ap);
}

/* A failed store call: its message and the matching exit code. */
static void store_fail(struct local *l, struct ctl_res *res, wmq_err e)
{
	const char *m = wmq_store_id_errmsg(l->h);
	ctl_res_msg(res, ctl_exit_of(e), "%s", m && *m ? m : wmq_err_str(e));
}

/* ---- Audit ------------------------------------------------------------------- */

#define F_STR(k, v) ((struct wmq_audit_field){.key = (k), .str = wmq_bytes_cstr_or_null(v)})
#define F_NUM(k, v) ((struct wmq_audit_field){.key = (k), .num = (int64_t)(v), .is_num = true})

static struct wmq_bytes wmq_bytes_cstr_or_null(const char *s)
{
	return s ? wmq_bytes_cstr(s) : (struct wmq_bytes){NULL, 0};
}

/* One audit line for a change just made (skipped inside a transaction).
 * |user| / |client_id| fill the standard fields when the change concerns
 * them. */
static void audit(struct local *l, struct ctl_res *res, enum wmq_audit_kind kind, const char *event,
		  const char *user, const char *client_id, const struct wmq_audit_field *f, size_t n)
{
	if (!l->audit || l->txn)
		return;
	struct wmq_audit_field fields[WMQ_AUDIT_MAX_FIELDS];
	size_t nf = 0;
	fields[nf++] = F_STR("actor", l->actor);
	fields[nf++] = F_STR("via", l->via);
	for (size_t i = 0; i < n && nf < WMQ_AUDIT_MAX_FIELDS; i++)
		fields[nf++] = f[i];
	struct wmq_audit_event ev = {
		.kind = kind,
		.event = event,
		.username = wmq_bytes_cstr_or_null(user),
		.client_id = wmq_bytes_cstr_or_null(client_id),
		.decision = WMQ_AUDIT_NONE,
		.fields = fields,
		.nfields = nf,
	};
	wmq_err rc = wmq_audit_write(l->audit, &ev);
	if (rc != WMQ_OK) {
		size_t len = strlen(res->msg);
		snprintf(res->msg + len, sizeof res->msg - len, "; but the audit line could not be written (%s)",
			 wmq_err_str(rc));
		res->status = CTL_EXIT_ERROR;
	}
}

/* ---- Shared helpers ---------------------------------------------------------- */

/* Short and long descriptions of a stored verifier. */
static void describe_verifier(const char *v, char *shrt, size_t scap, char *lng, size_t lcap)
{
	struct wmq_pw_verifier pv;
	struct wmq_pw_params prm;
	if (!v) {
		snprintf(shrt, scap, "none");
		snprintf(lng, lcap, "none (no password login)");
		return;
	}
	if (wmq_pw_verifier_parse(v, strlen(v), &pv) != WMQ_OK) {
		snprintf(shrt, scap, "invalid");
		snprintf(lng, lcap, "invalid verifier: every login fails; set a new password");
		return;
	}
	wmq_pw_params_default(&prm);
	bool up = wmq_pw_verifier_needs_upgrade(&pv, &prm);
	switch (pv.scheme) {
	case WMQ_PW_ARGON2ID:
		snprintf(shrt, scap, "argon2id");
		snprintf(lng, lcap, "argon2id (m=%" PRIu32 " KiB, t=%" PRIu32 ", p=%" PRIu32 ")%s", pv.argon2.m_kib,
			 pv.argon2.t, pv.argon2.p,
			 up ? "; below the default parameters: upgraded at the next login" : "");
		break;
	case WMQ_PW_MOSQ_PBKDF2:
		snprintf(shrt, scap, "pbkdf2-sha512");
		snprintf(lng, lcap, "mosquitto $7$ PBKDF2-SHA512, %" PRIu32 " iterations; upgraded to argon2id at the "
			 "next login", pv.iterations);
		break;
	case WMQ_PW_MOSQ_SHA512:
		snprintf(shrt, scap, "sha512");
		snprintf(lng, lcap, "mosquitto $6$ salted SHA-512; upgraded to argon2id at the next login");
		break;
	}
	wmq_pw_verifier_wipe(&pv);
}

static const char *kind_name(int kind)
{
	const char *s = wmq_store_id_kind_str((enum wmq_store_id_kind)kind);
	return s ? s : "?";
}

/* "user:alice", "all", ... */
static void principal_str(const struct wmq_store_id_rule *r, char *out, size_t cap)
{
	if (r->name)
		snprintf(out, cap, "%s:%s", kind_name((int)r->kind), r->name);
	else
		snprintf(out, cap, "%s", kind_name((int)r->kind));
}

static const char *const RULE_COLS[] = {"id", "priority", "effect", "actions", "principal", "filter", "max_qos",
					"origin", NULL};

static struct ctl_val *rule_val(const struct wmq_store_id_rule *r)
{
	char acts[64], pr[256], text[1024];
	struct ctl_val *o = ctl_obj();
	ctl_actions_str(r->actions, acts, sizeof acts);
	principal_str(r, pr, sizeof pr);
	wmq_policy_rule_text(r, text, sizeof text);
	ctl_set_int(o, "id", (int64_t)r->id);
	ctl_set_int(o, "priority", r->priority);
	ctl_set_str(o, "effect", r->allow ? "allow" : "deny");
	ctl_set_str(o, "actions", acts);
	ctl_set_str(o, "principal", pr);
	ctl_set_str(o, "kind", kind_name((int)r->kind));
	ctl_set_str(o, "name", r->name);
	ctl_set_str(o, "filter", r->filter);
	if (r->max_qos >= 0)
		ctl_set_int(o, "max_qos", r->max_qos);
	else
		ctl_set_str(o, "max_qos", NULL);
	ctl_set_bool(o, "literal", !r->subst);
	ctl_set_str(o, "origin", r->origin);
	ctl_set_time(o, "created", r->created_at);
	ctl_set_str(o, "text", text);
	return o;
}

/* Rules naming one principal (kind < 0: all rules). */
struct rule_filter {
	int kind;
	const char *name;
	struct ctl_val *arr;
	size_t n;
};

static wmq_err collect_rule(void *arg, const struct wmq_store_id_rule *r)
{
	struct rule_filter *f = arg;
	if (f->kind >= 0 && ((int)r->kind != f->kind || (f->name && (!r->name || strcmp(r->name, f->name) != 0))))
		return WMQ_OK;
	f->n++;
	if (f->arr)
		ctl_push(f->arr, rule_val(r));
	return WMQ_OK;
}

static wmq_err count_rules(struct local *l, int kind, const char *name, size_t *n, uint64_t *total)
{
	struct rule_filter f = {kind, name, NULL, 0};
	struct rule_filter all = {-1, NULL, NULL, 0};
	*n = 0;
	WMQ_TRY(wmq_store_id_rules(l->h, collect_rule, &f, NULL));
	*n = f.n;
	if (total) {
		WMQ_TRY(wmq_store_id_rules(l->h, collect_rule, &all, NULL));
		*total = all.n;
	}
	return WMQ_OK;
}

static wmq_err push_name(void *arg, const char *name)
{
	ctl_push_str(arg, name);
	return WMQ_OK;
}

/* ---- Users --------------------------------------------------------------------- */

static void user_add(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_user_add(l->h, req->a, req->verifier, req->flag);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "user %s added%s%s", req->a, req->verifier ? "" : " without a password",
		    req->flag ? " (disabled)" : "");
	char s[32], lng[200];
	describe_verifier(req->verifier, s, sizeof s, lng, sizeof lng);
	struct wmq_audit_field f[] = {F_STR("password", s), F_NUM("disabled", req->flag)};
	audit(l, res, WMQ_AUDIT_ADMIN, "user.add", req->a, NULL, f, WMQ_ARRAY_LEN(f));
}

/* Import: add, or replace the verifier of an existing user with |flag|. */
static void user_import(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_user_add(l->h, req->a, req->verifier, false);
	if (e == WMQ_ERR_DENIED && req->flag) {
		e = wmq_store_id_user_set_verifier(l->h, req->a, req->verifier);
		if (e == WMQ_OK)
			RETURN(ctl_res_msg(res, CTL_EXIT_OK, "replaced"));
	}
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "added");
}

static void user_del(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_user_del(l->h, req->a);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "user %s deleted", req->a);
	size_t n = 0;
	if (count_rules(l, WMQ_STORE_ID_USER, req->a, &n, NULL) == WMQ_OK && n > 0)
		ctl_res_warn(res, "%zu rule(s) still name user %s and apply again if the name is reused "
			     "(wardmq_ctl rule list user %s)", n, req->a, req->a);
	audit(l, res, WMQ_AUDIT_ADMIN, "user.del", req->a, NULL, NULL, 0);
}

static void user_passwd(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_user_set_verifier(l->h, req->a, req->verifier);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, req->verifier ? "password of user %s changed" : "password of user %s removed",
		    req->a);
	char s[32], lng[200];
	describe_verifier(req->verifier, s, sizeof s, lng, sizeof lng);
	struct wmq_audit_field f[] = {F_STR("password", s)};
	audit(l, res, WMQ_AUDIT_ADMIN, "user.passwd", req->a, NULL, f, 1);
}

static void user_disable(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_user_set_disabled(l->h, req->a, req->flag);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "user %s %s", req->a, req->flag ? "disabled" : "enabled");
	audit(l, res, WMQ_AUDIT_ADMIN, req->flag ? "user.disable" : "user.enable", req->a, NULL, NULL, 0);
}

static const char *const USER_COLS[] = {"name", "password", "disabled", "created", NULL};

static wmq_err list_user(void *arg, const struct wmq_store_id_user *u)
{
	char s[32], lng[200];
	struct ctl_val *o = ctl_obj();
	describe_verifier(u->verifier, s, sizeof s, lng, sizeof lng);
	ctl_set_str(o, "name", u->name);
	ctl_set_str(o, "password", s);
	ctl_set_bool(o, "disabled", u->disabled);
	ctl_set_time(o, "created", u->created_at);
	ctl_set_time(o, "updated", u->updated_at);
	ctl_push(arg, o);
	return WMQ_OK;
}

static void user_list(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	WMQ_UNUSED(req);
	struct ctl_val *arr = ctl_arr();
	ctl_arr_columns(arr, USER_COLS);
	wmq_err e = wmq_store_id_user_list(l->h, list_user, arr);
	if (e != WMQ_OK) {
		ctl_val_free(arr);
		RETURN(store_fail(l, res, e));
	}
	res->data = ctl_obj();
	ctl_set(res->data, "users", arr);
}

static const char *const RULE_SHORT_COLS[] = {"id", "text", NULL};

static struct ctl_val *rules_of(struct local *l, int kind, const char *name, wmq_err *e)
{
	struct rule_filter f = {kind, name, ctl_arr(), 0};
	ctl_arr_columns(f.arr, RULE_SHORT_COLS);
	*e = wmq_store_id_rules(l->h, collect_rule, &f, NULL);
	return f.arr;
}

static wmq_err push_binding(void *arg, const char *cid, const char *user, int64_t created_at)
{
	WMQ_UNUSED(user);
	WMQ_UNUSED(created_at);
	ctl_push_str(arg, cid);
	return WMQ_OK;
}

static void user_show(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct wmq_store_id_user u;
	struct wmq_store_id_auth a;
	wmq_err e = wmq_store_id_user_get(l->h, req->a, &u);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	e = wmq_store_id_auth_lookup(l->h, req->a, NULL, &a);
	if (e != WMQ_OK) {
		wmq_store_id_user_cleanup(&u);
		RETURN(store_fail(l, res, e));
	}
	char s[32], lng[200];
	describe_verifier(u.verifier, s, sizeof s, lng, sizeof lng);
	struct ctl_val *o = ctl_obj(), *groups = ctl_arr(), *roles = ctl_arr(), *clients = ctl_arr();
	for (size_t i = 0; i < a.ngroups; i++)
		ctl_push_str(groups, a.groups[i]);
	for (size_t i = 0; i < a.nroles; i++)
		ctl_push_str(roles, a.roles[i]);
	ctl_set_str(o, "name", u.name);
	ctl_set_str(o, "password", lng);
	ctl_set_bool(o, "disabled", u.disabled);
	ctl_set_time(o, "created", u.created_at);
	ctl_set_time(o, "updated", u.updated_at);
	ctl_set(o, "groups", groups);
	ctl_set(o, "roles", roles);
	e = wmq_store_id_client_list(l->h, req->a, push_binding, clients);
	ctl_set(o, "client_ids", clients);
	if (e == WMQ_OK)
		ctl_set(o, "rules", rules_of(l, WMQ_STORE_ID_USER, req->a, &e));
	wmq_store_id_user_cleanup(&u);
	wmq_store_id_auth_cleanup(&a);
	if (e != WMQ_OK) {
		ctl_val_free(o);
		RETURN(store_fail(l, res, e));
	}
	res->data = o;
}

/* Verify a password against the stored verifier, as a login would (without
 * the broker's cache, dummy run or upgrade). */
static void user_check(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct wmq_store_id_user u;
	struct wmq_pw_verifier v;
	bool ok = false;
	wmq_err e = wmq_store_id_user_get(l->h, req->a, &u);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	if (!u.verifier) {
		ctl_res_msg(res, CTL_EXIT_NO, "user %s has no password", req->a);
	} else if (wmq_pw_verifier_parse(u.verifier, strlen(u.verifier), &v) != WMQ_OK) {
		ctl_res_msg(res, CTL_EXIT_NO, "user %s has an invalid verifier: no password matches", req->a);
	} else {
		e = wmq_pw_verifier_verify(&v, (struct wmq_bytes){(const uint8_t *)req->secret, req->secret_len}, &ok);
		wmq_pw_verifier_wipe(&v);
		if (e != WMQ_OK)
			ctl_res_msg(res, CTL_EXIT_ERROR, "cannot verify: %s", wmq_err_str(e));
		else
			ctl_res_msg(res, ok ? CTL_EXIT_OK : CTL_EXIT_NO, "password of user %s is %s%s", req->a,
				    ok ? "right" : "wrong", ok && u.disabled ? " (but the user is disabled)" : "");
	}
	res->data = ctl_obj();
	ctl_set_str(res->data, "user", req->a);
	ctl_set_bool(res->data, "match", ok);
	ctl_set_bool(res->data, "disabled", u.disabled);
	ctl_set_str(res->data, "message", res->msg);
	wmq_store_id_user_cleanup(&u);
}

/* ---- Groups and roles -------------------------------------------------------------- */

static void named(struct local *l, const struct ctl_req *req, struct ctl_res *res, bool group, bool add)
{
	wmq_err e;
	if (group)
		e = add ? wmq_store_id_group_add(l->h, req->a) : wmq_store_id_group_del(l->h, req->a);
	else
		e = add ? wmq_store_id_role_add(l->h, req->a) : wmq_store_id_role_del(l->h, req->a);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	const char *what = group ? "group" : "role";
	ctl_res_msg(res, CTL_EXIT_OK, "%s %s %s", what, req->a, add ? "added" : "deleted");
	if (!add) {
		size_t n = 0;
		if (count_rules(l, group ? WMQ_STORE_ID_GROUP : WMQ_STORE_ID_ROLE, req->a, &n, NULL) == WMQ_OK && n)
			ctl_res_warn(res, "%zu rule(s) still name %s %s (wardmq_ctl rule list %s %s)", n, what,
				     req->a, what, req->a);
	}
	char event[32];
	snprintf(event, sizeof event, "%s.%s", what, add ? "add" : "del");
	struct wmq_audit_field f[] = {F_STR(what, req->a)};
	audit(l, res, WMQ_AUDIT_ADMIN, event, NULL, NULL, f, 1);
}

static const char *const GROUP_COLS[] = {"name", "members", "created", NULL};
static const char *const ROLE_COLS[] = {"name", "holders", "created", NULL};

struct entry_ctx {
	struct ctl_val *arr;
	const char *count_key;
};

static wmq_err list_entry(void *arg, const char *name, int64_t created_at, uint64_t count)
{
	struct entry_ctx *c = arg;
	struct ctl_val *o = ctl_obj();
	ctl_set_str(o, "name", name);
	ctl_set_int(o, c->count_key, (int64_t)count);
	ctl_set_time(o, "created", created_at);
	ctl_push(c->arr, o);
	return WMQ_OK;
}

static void named_list(struct local *l, struct ctl_res *res, bool group)
{
	struct entry_ctx c = {ctl_arr(), group ? "members" : "holders"};
	ctl_arr_columns(c.arr, group ? GROUP_COLS : ROLE_COLS);
	wmq_err e = group ? wmq_store_id_group_list(l->h, list_entry, &c) : wmq_store_id_role_list(l->h, list_entry, &c);
	if (e != WMQ_OK) {
		ctl_val_free(c.arr);
		RETURN(store_fail(l, res, e));
	}
	res->data = ctl_obj();
	ctl_set(res->data, group ? "groups" : "roles", c.arr);
}

static void group_show(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct ctl_val *o = ctl_obj(), *members = ctl_arr(), *roles = ctl_arr();
	wmq_err e = wmq_store_id_group_members(l->h, req->a, push_name, members);
	if (e == WMQ_OK)
		e = wmq_store_id_group_roles(l->h, req->a, push_name, roles);
	ctl_set_str(o, "name", req->a);
	ctl_set(o, "members", members);
	ctl_set(o, "roles", roles);
	if (e == WMQ_OK)
		ctl_set(o, "rules", rules_of(l, WMQ_STORE_ID_GROUP, req->a, &e));
	if (e != WMQ_OK) {
		ctl_val_free(o);
		RETURN(store_fail(l, res, e));
	}
	res->data = o;
}

struct holders {
	struct ctl_val *users, *groups;
};

static wmq_err push_holder(void *arg, enum wmq_store_id_grantee kind, const char *name)
{
	struct holders *h = arg;
	ctl_push_str(kind == WMQ_STORE_ID_GRANT_USER ? h->users : h->groups, name);
	return WMQ_OK;
}

static void role_show(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct ctl_val *o = ctl_obj();
	struct holders hd = {ctl_arr(), ctl_arr()};
	wmq_err e = wmq_store_id_role_holders(l->h, req->a, push_holder, &hd);
	ctl_set_str(o, "name", req->a);
	ctl_set(o, "users", hd.users);
	ctl_set(o, "groups", hd.groups);
	if (e == WMQ_OK)
		ctl_set(o, "rules", rules_of(l, WMQ_STORE_ID_ROLE, req->a, &e));
	if (e != WMQ_OK) {
		ctl_val_free(o);
		RETURN(store_fail(l, res, e));
	}
	res->data = o;
}

static void member(struct local *l, const struct ctl_req *req, struct ctl_res *res, bool add)
{
	wmq_err e = add ? wmq_store_id_group_member_add(l->h, req->a, req->b)
			: wmq_store_id_group_member_del(l->h, req->a, req->b);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, add ? "user %s added to group %s" : "user %s removed from group %s", req->b,
		    req->a);
	struct wmq_audit_field f[] = {F_STR("group", req->a)};
	audit(l, res, WMQ_AUDIT_ADMIN, add ? "group.member.add" : "group.member.del", req->b, NULL, f, 1);
}

static void grant(struct local *l, const struct ctl_req *req, struct ctl_res *res, bool add)
{
	enum wmq_store_id_grantee k = (enum wmq_store_id_grantee)req->kind;
	wmq_err e = add ? wmq_store_id_role_grant(l->h, req->a, k, req->b) : wmq_store_id_role_revoke(l->h, req->a, k, req->b);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	bool user = k == WMQ_STORE_ID_GRANT_USER;
	ctl_res_msg(res, CTL_EXIT_OK, add ? "role %s granted to %s %s" : "role %s revoked from %s %s", req->a,
		    user ? "user" : "group", req->b);
	struct wmq_audit_field f[] = {F_STR("role", req->a), F_STR("group", user ? NULL : req->b)};
	audit(l, res, WMQ_AUDIT_ADMIN, add ? "role.grant" : "role.revoke", user ? req->b : NULL, NULL, f,
	      user ? 1 : 2);
}

/* ---- Rules ------------------------------------------------------------------------ */

static wmq_err noop_name(void *arg, const char *name)
{
	WMQ_UNUSED(arg);
	WMQ_UNUSED(name);
	return WMQ_OK;
}

static wmq_err noop_holder(void *arg, enum wmq_store_id_grantee kind, const char *name)
{
	WMQ_UNUSED(arg);
	WMQ_UNUSED(kind);
	WMQ_UNUSED(name);
	return WMQ_OK;
}

/* Warn when a rule names a principal that does not exist (yet). */
static void warn_unknown_principal(struct local *l, const struct wmq_store_id_rule *r, struct ctl_res *res)
{
	wmq_err e = WMQ_OK;
	if (r->kind == WMQ_STORE_ID_USER) {
		struct wmq_store_id_user u;
		e = wmq_store_id_user_get(l->h, r->name, &u);
		wmq_store_id_user_cleanup(&u);
	} else if (r->kind == WMQ_STORE_ID_GROUP) {
		e = wmq_store_id_group_members(l->h, r->name, noop_name, NULL);
	} else if (r->kind == WMQ_STORE_ID_ROLE) {
		e = wmq_store_id_role_holders(l->h, r->name, noop_holder, NULL);
	}
	if (e == WMQ_ERR_NOTFOUND)
		ctl_res_warn(res, "there is no %s %s yet: the rule applies once it exists", kind_name((int)r->kind),
			     r->name);
}

static void rule_add(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	char why[200], text[1024];
	uint64_t id = 0;
	if (wmq_policy_rule_check(&req->rule, why, sizeof why) != WMQ_OK)
		RETURN(ctl_res_msg(res, CTL_EXIT_USAGE, "invalid rule: %s: \"%s\"", why, req->rule.filter));
	wmq_err e = wmq_store_id_rule_add(l->h, &req->rule, &id);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	struct wmq_store_id_rule r = req->rule;
	r.id = id;
	wmq_policy_rule_text(&r, text, sizeof text);
	if (!l->txn)
		warn_unknown_principal(l, &r, res);
	ctl_res_msg(res, CTL_EXIT_OK, "rule #%" PRIu64 " added: %s", id, text);
	res->data = ctl_obj();
	ctl_set_int(res->data, "id", (int64_t)id);
	ctl_set_str(res->data, "rule", text);
	ctl_set_str(res->data, "message", res->msg);
	struct wmq_audit_field f[] = {F_NUM("rule_id", id), F_STR("rule", text)};
	audit(l, res, WMQ_AUDIT_ADMIN, "rule.add", NULL, NULL, f, 2);
}

struct rule_copy {
	char text[1024];
	bool found;
};

static wmq_err copy_rule_text(void *arg, const struct wmq_store_id_rule *r)
{
	struct rule_copy *c = arg;
	wmq_policy_rule_text(r, c->text, sizeof c->text);
	c->found = true;
	return WMQ_OK;
}

static void warn_if_empty(struct local *l, struct ctl_res *res)
{
	size_t n = 0;
	uint64_t total = 0;
	if (count_rules(l, -1, NULL, &n, &total) == WMQ_OK && total == 0)
		ctl_res_warn(res, "the database has no rules left: an empty policy allows nothing "
			     "(and a policy must not be empty: fail closed)");
}

static void rule_del(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct rule_copy c = {.found = false};
	wmq_err e = wmq_store_id_rule_get(l->h, req->id, copy_rule_text, &c);
	if (e == WMQ_OK)
		e = wmq_store_id_rule_del(l->h, req->id);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "rule #%" PRIu64 " deleted: %s", req->id, c.text);
	warn_if_empty(l, res);
	struct wmq_audit_field f[] = {F_NUM("rule_id", req->id), F_STR("rule", c.text)};
	audit(l, res, WMQ_AUDIT_ADMIN, "rule.del", NULL, NULL, f, 2);
}

static void rule_del_all(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	WMQ_UNUSED(req);
	uint64_t n = 0;
	wmq_err e = wmq_store_id_rule_del_all(l->h, &n);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "%" PRIu64 " rules deleted", n);
	struct wmq_audit_field f[] = {F_NUM("count", n)};
	audit(l, res, WMQ_AUDIT_ADMIN, "rule.del_all", NULL, NULL, f, 1);
}

static void rule_list(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct rule_filter f = {req->kind, req->a, ctl_arr(), 0};
	uint64_t version = 0;
	ctl_arr_columns(f.arr, RULE_COLS);
	wmq_err e = wmq_store_id_rules(l->h, collect_rule, &f, &version);
	if (e != WMQ_OK) {
		ctl_val_free(f.arr);
		RETURN(store_fail(l, res, e));
	}
	res->data = ctl_obj();
	ctl_set_int(res->data, "policy_version", (int64_t)version);
	ctl_set(res->data, "rules", f.arr);
}

/* ---- Bans --------------------------------------------------------------------------- */

static const char *ban_kind_name(int k)
{
	const char *s = wmq_store_id_ban_kind_str((enum wmq_store_id_ban_kind)k);
	return s ? s : "?";
}

static void ban_add(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct wmq_store_id_ban b = {(enum wmq_store_id_ban_kind)req->kind, req->a, req->expires_at, req->reason, 0};
	bool replaced = false;
	wmq_err e = wmq_store_id_ban_add(l->h, &b, &replaced);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	if (req->expires_at) {
		struct ctl_val *t = ctl_obj();
		ctl_set_time(t, "t", req->expires_at);
		const struct ctl_val *ts = ctl_get(t, "t");
		ctl_res_msg(res, CTL_EXIT_OK, "%s %s %s until %s", ban_kind_name(req->kind), req->a,
			    replaced ? "ban updated: banned" : "banned", ts && ts->s ? ts->s : "?");
		ctl_val_free(t);
	} else {
		ctl_res_msg(res, CTL_EXIT_OK, "%s %s %s", ban_kind_name(req->kind), req->a,
			    replaced ? "ban updated: banned permanently" : "banned permanently");
	}
	struct wmq_audit_field f[] = {F_STR("ban_kind", ban_kind_name(req->kind)), F_STR("value", req->a),
				      F_NUM("expires_at", req->expires_at), F_STR("ban_reason", req->reason)};
	audit(l, res, WMQ_AUDIT_BAN, "ban.add", NULL, NULL, f, WMQ_ARRAY_LEN(f));
}

/* Lift an automatic lock-out in the running broker (kind CTL_BAN_LOCKOUT). */
static void lockout_del(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct wmq_addr a;
	char addr[64], label[128];
	if (!l->live || !l->live->defence)
		RETURN(ctl_res_msg(res, CTL_EXIT_USAGE, "lock-outs live in the running broker: use --socket"));
	if (l->txn)
		RETURN(ctl_res_msg(res, CTL_EXIT_USAGE, "a lock-out cannot be lifted inside a transaction"));
	if (wmq_addr_parse(req->a, &a) != WMQ_OK) /* ctl_req_check has parsed it already */
		RETURN(ctl_res_msg(res, CTL_EXIT_USAGE, "invalid address"));
	wmq_addr_format(&a, addr, sizeof addr);
	if (req->b)
		snprintf(label, sizeof label, "%s %s", addr, req->b);
	else
		snprintf(label, sizeof label, "%s", addr);
	struct wmq_bytes user = wmq_bytes_cstr_or_null(req->b);
	int64_t now = wmq_wall_ms();
	if (!wmq_defence_lift(l->live->defence, req->b ? WMQ_BAN_LOCKOUT_PAIR : WMQ_BAN_LOCKOUT_ADDR, &a, user, now))
		RETURN(ctl_res_msg(res, CTL_EXIT_NOTFOUND, "no lock-out of %s%s%s in force", req->b ? "" : "address ",
				   label, req->b ? "" : " (for a username's lock-out, give the username too)"));
	ctl_res_msg(res, CTL_EXIT_OK, "lock-out of %s lifted", label);
	if (req->b) {
		/* the wider lock-out of the whole address stays in force */
		struct wmq_defence_hit hit;
		if (wmq_defence_check_login(l->live->defence, &a, (struct wmq_bytes){NULL, 0}, user, now, &hit) ==
			    WMQ_DEFENCE_BANNED &&
		    hit.kind == WMQ_BAN_LOCKOUT_ADDR)
			ctl_res_warn(res, "address %s is still locked out as a whole: ban del lockout %s", addr, addr);
	}
	struct wmq_audit_field f[] = {F_STR("ban_kind", "lockout"), F_STR("value", label)};
	audit(l, res, WMQ_AUDIT_BAN, "ban.del", req->b, NULL, f, 2);
}

static void ban_del(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	if (req->kind == CTL_BAN_LOCKOUT)
		RETURN(lockout_del(l, req, res));
	wmq_err e = wmq_store_id_ban_del(l->h, (enum wmq_store_id_ban_kind)req->kind, req->a);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "ban on %s %s lifted", ban_kind_name(req->kind), req->a);
	struct wmq_audit_field f[] = {F_STR("ban_kind", ban_kind_name(req->kind)), F_STR("value", req->a)};
	audit(l, res, WMQ_AUDIT_BAN, "ban.del", NULL, NULL, f, 2);
}

static const char *const BAN_COLS[] = {"kind", "value", "expires", "reason", "created", NULL};
static const char *const BAN_ALL_COLS[] = {"kind", "value", "expires", "expired", "reason", "created", NULL};
/* Online: the lock-outs of the running broker too, and where each row is from. */
static const char *const BAN_LIVE_COLS[] = {"source", "kind", "value", "expires", "reason", "created", NULL};
static const char *const BAN_LIVE_ALL_COLS[] = {"source",  "kind",   "value",   "expires",
						"expired", "reason", "created", NULL};

struct ban_ctx {
	struct ctl_val *arr;
	int64_t now;
	bool live; /* add "source" */
};

static wmq_err list_ban(void *arg, const struct wmq_store_id_ban *b)
{
	struct ban_ctx *c = arg;
	struct ctl_val *o = ctl_obj();
	if (c->live)
		ctl_set_str(o, "source", "store");
	ctl_set_str(o, "kind", ban_kind_name((int)b->kind));
	ctl_set_str(o, "value", b->value);
	ctl_set_time(o, "expires", b->expires_at);
	ctl_set_bool(o, "expired", b->expires_at != 0 && b->expires_at <= c->now);
	ctl_set_str(o, "reason", b->reason);
	ctl_set_time(o, "created", b->created_at);
	ctl_push(c->arr, o);
	return WMQ_OK;
}

/* wmq_defence_ban_list visitor: the automatic lock-outs only (the
 * administrative bans it holds are the store's, listed already). */
static void list_lockout(void *arg, enum wmq_ban_kind kind, const char *value, int64_t until_ms,
			 const char *reason)
{
	struct ban_ctx *c = arg;
	if (kind != WMQ_BAN_LOCKOUT_PAIR && kind != WMQ_BAN_LOCKOUT_ADDR)
		return;
	struct ctl_val *o = ctl_obj();
	ctl_set_str(o, "source", "lockout");
	ctl_set_str(o, "kind", "lockout");
	ctl_set_str(o, "value", value);
	ctl_set_time(o, "expires", until_ms > 0 ? (until_ms + 999) / 1000 : 0);
	ctl_set_bool(o, "expired", false);
	ctl_set_str(o, "reason", reason);
	ctl_set_time(o, "created", 0);
	/* the value's parts, for scripts: "ADDR" or "ADDR USERNAME" */
	const char *sp = strchr(value, ' ');
	char addr[64];
	snprintf(addr, sizeof addr, "%.*s", sp ? (int)(sp - value) : (int)strlen(value), value);
	ctl_set_str(o, "address", addr);
	ctl_set_str(o, "username", kind == WMQ_BAN_LOCKOUT_PAIR && sp ? sp + 1 : NULL);
	ctl_push(c->arr, o);
}

static void ban_list(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	bool live = l->live && l->live->defence;
	struct ban_ctx c = {ctl_arr(), wmq_wall_s(), live};
	ctl_arr_columns(c.arr, live ? (req->flag ? BAN_LIVE_ALL_COLS : BAN_LIVE_COLS)
				    : (req->flag ? BAN_ALL_COLS : BAN_COLS));
	wmq_err e = wmq_store_id_ban_list(l->h, req->flag ? 0 : c.now, list_ban, &c);
	if (e != WMQ_OK) {
		ctl_val_free(c.arr);
		RETURN(store_fail(l, res, e));
	}
	if (live)
		(void)wmq_defence_ban_list(l->live->defence, wmq_wall_ms(), list_lockout, &c);
	else if (!l->borrowed)
		ctl_res_warn(res, "automatic lock-outs are not listed offline: they live in the running broker "
			     "(ban list --socket PATH)");
	res->data = ctl_obj();
	ctl_set(res->data, "bans", c.arr);
}

static void ban_purge(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	WMQ_UNUSED(req);
	uint64_t n = 0;
	wmq_err e = wmq_store_id_ban_purge(l->h, wmq_wall_s(), &n);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "%" PRIu64 " expired ban(s) deleted", n);
	if (n) {
		struct wmq_audit_field f[] = {F_NUM("count", n)};
		audit(l, res, WMQ_AUDIT_BAN, "ban.purge", NULL, NULL, f, 1);
	}
}

/* ---- Client bindings and PSK identities ---------------------------------------------- */

static void client_bind(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_client_bind(l->h, req->a, req->b);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "client id %s bound to user %s", req->a, req->b);
	audit(l, res, WMQ_AUDIT_ADMIN, "client.bind", req->b, req->a, NULL, 0);
}

static void client_unbind(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_client_unbind(l->h, req->a);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "client id %s unbound", req->a);
	audit(l, res, WMQ_AUDIT_ADMIN, "client.unbind", NULL, req->a, NULL, 0);
}

static const char *const BINDING_COLS[] = {"client_id", "user", "created", NULL};
static const char *const PSK_COLS[] = {"identity", "user", "created", NULL};

struct pair_ctx {
	struct ctl_val *arr;
	const char *k1;
};

static wmq_err list_pair(void *arg, const char *id, const char *user, int64_t created_at)
{
	struct pair_ctx *c = arg;
	struct ctl_val *o = ctl_obj();
	ctl_set_str(o, c->k1, id);
	ctl_set_str(o, "user", user);
	ctl_set_time(o, "created", created_at);
	ctl_push(c->arr, o);
	return WMQ_OK;
}

static void client_list(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct pair_ctx c = {ctl_arr(), "client_id"};
	ctl_arr_columns(c.arr, BINDING_COLS);
	wmq_err e = wmq_store_id_client_list(l->h, req->a, list_pair, &c);
	if (e != WMQ_OK) {
		ctl_val_free(c.arr);
		RETURN(store_fail(l, res, e));
	}
	res->data = ctl_obj();
	ctl_set(res->data, "bindings", c.arr);
}

static void psk_add(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_psk_add(l->h, req->a, req->key, req->key_len, req->b);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "PSK identity %s added (%zu-byte key)%s%s", req->a, req->key_len,
		    req->b ? " for user " : "", req->b ? req->b : "");
	struct wmq_audit_field f[] = {F_STR("identity", req->a), F_NUM("key_bytes", req->key_len)};
	audit(l, res, WMQ_AUDIT_ADMIN, "psk.add", req->b, NULL, f, 2);
}

static void psk_del(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = wmq_store_id_psk_del(l->h, req->a);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "PSK identity %s deleted", req->a);
	struct wmq_audit_field f[] = {F_STR("identity", req->a)};
	audit(l, res, WMQ_AUDIT_ADMIN, "psk.del", NULL, NULL, f, 1);
}

static void psk_list(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	WMQ_UNUSED(req);
	struct pair_ctx c = {ctl_arr(), "identity"};
	ctl_arr_columns(c.arr, PSK_COLS);
	wmq_err e = wmq_store_id_psk_list(l->h, list_pair, &c);
	if (e != WMQ_OK) {
		ctl_val_free(c.arr);
		RETURN(store_fail(l, res, e));
	}
	res->data = ctl_obj();
	ctl_set(res->data, "psk_identities", c.arr);
}

/* ---- acl explain ------------------------------------------------------------------------ */

#define EXPLAIN_MAX 8192

static void acl_explain(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	struct wmq_store_id_auth a;
	struct wmq_policy *p = NULL;
	char why[512];
	wmq_err e = wmq_store_id_auth_lookup(l->h, req->a, req->b, &a);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	if ((e = wmq_policy_load(l->h, &p, why, sizeof why)) != WMQ_OK) {
		wmq_store_id_auth_cleanup(&a);
		RETURN(ctl_res_msg(res, e == WMQ_ERR_STORE ? CTL_EXIT_STORE : CTL_EXIT_ERROR, "cannot load the policy: %s",
				   why));
	}
	struct wmq_principal pr = {
		.username = req->a,
		.client_id = req->b,
		.groups = (const char *const *)a.groups,
		.ngroups = a.ngroups,
		.roles = (const char *const *)a.roles,
		.nroles = a.nroles,
	};
	struct wmq_policy_decision d;
	char *text = wmq_malloc(EXPLAIN_MAX);
	if (!text) {
		wmq_store_id_auth_cleanup(&a);
		wmq_policy_unref(p);
		RETURN(ctl_res_msg(res, CTL_EXIT_ERROR, "out of memory"));
	}
	e = wmq_policy_explain(p, &pr, (enum wmq_policy_action)req->action, wmq_bytes_cstr(req->topic),
			       (uint8_t)req->qos, &d, text, EXPLAIN_MAX);
	if (e != WMQ_OK) {
		wmq_free(text);
		wmq_store_id_auth_cleanup(&a);
		wmq_policy_unref(p);
		RETURN(ctl_res_msg(res, CTL_EXIT_ERROR, "cannot decide: %s", wmq_err_str(e)));
	}

	struct ctl_val *o = ctl_obj(), *notes = ctl_arr(), *groups = ctl_arr(), *roles = ctl_arr();
	char note[512];
	if (req->a && !a.user_exists) {
		snprintf(note, sizeof note, "user %s does not exist: the broker refuses the login before any rule "
			 "applies", req->a);
		ctl_push_str(notes, note);
	} else if (req->a && a.user_disabled) {
		snprintf(note, sizeof note, "user %s is disabled: the broker refuses the login", req->a);
		ctl_push_str(notes, note);
	}
	if (a.bound_user && (!req->a || strcmp(a.bound_user, req->a) != 0)) {
		snprintf(note, sizeof note, "client id %s is bound to user %s: this client cannot use it", req->b,
			 a.bound_user);
		ctl_push_str(notes, note);
	}
	if (wmq_policy_count(p) == 0) {
		snprintf(note, sizeof note, "the database has no rules: an empty policy allows nothing");
		ctl_push_str(notes, note);
	}
	for (size_t i = 0; i < a.ngroups; i++)
		ctl_push_str(groups, a.groups[i]);
	for (size_t i = 0; i < a.nroles; i++)
		ctl_push_str(roles, a.roles[i]);
	ctl_set_str(o, "decision", d.allow ? "allow" : "deny");
	ctl_set_str(o, "action", wmq_policy_action_str((enum wmq_policy_action)req->action));
	ctl_set_str(o, "topic", req->topic);
	ctl_set_int(o, "qos", req->qos);
	ctl_set_int(o, "granted_qos", d.qos);
	ctl_set_str(o, "reason", wmq_policy_reason_str(d.reason));
	if (d.rule) {
		struct ctl_val *r = ctl_obj();
		char rt[1024];
		if (wmq_policy_rule_format(d.rule, rt, sizeof rt) != WMQ_OK)
			snprintf(rt, sizeof rt, "(too long)");
		ctl_set_int(r, "id", (int64_t)d.rule->id);
		ctl_set_str(r, "text", rt);
		ctl_set_str(r, "origin", d.rule->origin);
		ctl_set(o, "rule", r);
	} else {
		ctl_set_str(o, "rule", NULL);
	}
	ctl_set_str(o, "user", req->a);
	ctl_set_str(o, "client_id", req->b);
	ctl_set(o, "groups", groups);
	ctl_set(o, "roles", roles);
	ctl_set_int(o, "policy_version", (int64_t)wmq_policy_version(p));
	ctl_set_int(o, "rules", (int64_t)wmq_policy_count(p));
	ctl_set(o, "notes", notes);
	ctl_set_str(o, "explanation", text);
	res->data = o;

	/* human form: the explainer's text, then the notes */
	size_t len = strlen(text);
	if (len && text[len - 1] != '\n' && len + 1 < EXPLAIN_MAX) {
		text[len++] = '\n';
		text[len] = '\0';
	}
	for (size_t i = 0; i < notes->n; i++) {
		int k = snprintf(text + len, EXPLAIN_MAX - len, "  note: %s\n", notes->items[i]->s);
		if (k < 0 || (size_t)k >= EXPLAIN_MAX - len)
			break;
		len += (size_t)k;
	}
	res->text = text;
	res->status = d.allow ? CTL_EXIT_OK : CTL_EXIT_NO;
	wmq_store_id_auth_cleanup(&a);
	wmq_policy_unref(p);
}

/* ---- Transactions and dispatch ----------------------------------------------------------- */

static void txn(struct local *l, const struct ctl_req *req, struct ctl_res *res)
{
	wmq_err e = WMQ_OK;
	switch (req->op) {
	case CTL_OP_TXN_BEGIN:
		if ((e = wmq_store_id_begin(l->h)) == WMQ_OK)
			l->txn = true;
		break;
	case CTL_OP_TXN_ROLLBACK:
		wmq_store_id_rollback(l->h);
		l->txn = false;
		break;
	default:
		e = wmq_store_id_commit(l->h);
		l->txn = false;
		if (e == WMQ_OK && req->audit_event) {
			ctl_res_msg(res, CTL_EXIT_OK, "committed");
			audit(l, res, WMQ_AUDIT_ADMIN, req->audit_event, NULL, NULL, req->audit_fields,
			      req->naudit_fields);
			return;
		}
		break;
	}
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	ctl_res_msg(res, CTL_EXIT_OK, "ok");
}

static void policy_version(struct local *l, struct ctl_res *res)
{
	uint64_t v = 0;
	wmq_err e = wmq_store_id_policy_version(l->h, &v);
	if (e != WMQ_OK)
		RETURN(store_fail(l, res, e));
	res->data = ctl_obj();
	ctl_set_int(res->data, "policy_version", (int64_t)v);
}

static void local_exec(struct ctl_backend *b, const struct ctl_req *req, struct ctl_res *res)
{
	struct local *l = (struct local *)b;
	char why[200];
	res->status = CTL_EXIT_OK;
	/* requests from the admin socket come from another process: never
	 * trust that a field is set or an enumeration in range */
	if (ctl_req_check(req, why, sizeof why) != WMQ_OK)
		RETURN(ctl_res_msg(res, CTL_EXIT_USAGE, "invalid request: %s", why));
	switch (req->op) {
	case CTL_OP_USER_ADD: user_add(l, req, res); break;
	case CTL_OP_USER_IMPORT: user_import(l, req, res); break;
	case CTL_OP_USER_DEL: user_del(l, req, res); break;
	case CTL_OP_USER_PASSWD: user_passwd(l, req, res); break;
	case CTL_OP_USER_DISABLE: user_disable(l, req, res); break;
	case CTL_OP_USER_LIST: user_list(l, req, res); break;
	case CTL_OP_USER_SHOW: user_show(l, req, res); break;
	case CTL_OP_USER_CHECK: user_check(l, req, res); break;
	case CTL_OP_GROUP_ADD: named(l, req, res, true, true); break;
	case CTL_OP_GROUP_DEL: named(l, req, res, true, false); break;
	case CTL_OP_GROUP_LIST: named_list(l, res, true); break;
	case CTL_OP_GROUP_SHOW: group_show(l, req, res); break;
	case CTL_OP_MEMBER_ADD: member(l, req, res, true); break;
	case CTL_OP_MEMBER_DEL: member(l, req, res, false); break;
	case CTL_OP_ROLE_ADD: named(l, req, res, false, true); break;
	case CTL_OP_ROLE_DEL: named(l, req, res, false, false); break;
	case CTL_OP_ROLE_LIST: named_list(l, res, false); break;
	case CTL_OP_ROLE_SHOW: role_show(l, req, res); break;
	case CTL_OP_ROLE_GRANT: grant(l, req, res, true); break;
	case CTL_OP_ROLE_REVOKE: grant(l, req, res, false); break;
	case CTL_OP_RULE_ADD: rule_add(l, req, res); break;
	case CTL_OP_RULE_DEL: rule_del(l, req, res); break;
	case CTL_OP_RULE_DEL_ALL: rule_del_all(l, req, res); break;
	case CTL_OP_RULE_LIST: rule_list(l, req, res); break;
	case CTL_OP_BAN_ADD: ban_add(l, req, res); break;
	case CTL_OP_BAN_DEL: ban_del(l, req, res); break;
	case CTL_OP_BAN_LIST: ban_list(l, req, res); break;
	case CTL_OP_BAN_PURGE: ban_purge(l, req, res); break;
	case CTL_OP_CLIENT_BIND: client_bind(l, req, res); break;
	case CTL_OP_CLIENT_UNBIND: client_unbind(l, req, res); break;
	case CTL_OP_CLIENT_LIST: client_list(l, req, res); break;
	case CTL_OP_PSK_ADD: psk_add(l, req, res); break;
	case CTL_OP_PSK_DEL: psk_del(l, req, res); break;
	case CTL_OP_PSK_LIST: psk_list(l, req, res); break;
	case CTL_OP_ACL_EXPLAIN: acl_explain(l, req, res); break;
	case CTL_OP_POLICY_VERSION: policy_version(l, res); break;
	case CTL_OP_TXN_BEGIN:
	case CTL_OP_TXN_COMMIT:
	case CTL_OP_TXN_ROLLBACK: txn(l, req, res); break;
	default: ctl_res_msg(res, CTL_EXIT_ERROR, "unknown request %d", (int)req->op); break;
	}
}

static void local_close(struct ctl_backend *b)
{
	struct local *l = (struct local *)b;
	if (!l)
		return;
	if (l->txn)
		wmq_store_id_rollback(l->h);
	if (!l->borrowed) {
		wmq_store_id_close(l->h);
		wmq_audit_close(l->audit);
	}
	wmq_free(l);
}

static const struct ctl_backend_ops local_ops = {"offline", local_exec, local_close};

void ctl_local_open(const struct ctl_local_opts *o, struct ctl_backend **out, struct ctl_res *res)
{
	*out = NULL;
	struct local *l = wmq_calloc(1, sizeof *l);
	if (!l)
		RETURN(ctl_res_msg(res, CTL_EXIT_ERROR, "out of memory"));
	l->base.ops = &local_ops;
	snprintf(l->via, sizeof l->via, "offline");

	struct passwd pw, *pp = NULL;
	char pwbuf[1024];
	if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &pp) == 0 && pp && pp->pw_name)
		snprintf(l->actor, sizeof l->actor, "%s", pp->pw_name);
	else
		snprintf(l->actor, sizeof l->actor, "uid:%u", (unsigned)geteuid());

	/* Changes create the file; reads never do, and fall back to a
	 * read-only open when the file is not writable for this user. */
	struct wmq_store_id_opts so = {.flags = o->write ? WMQ_STORE_CREATE : 0};
	if (!o->write && access(o->db, F_OK) == 0 && access(o->db, W_OK) != 0)
		so.flags |= WMQ_STORE_READONLY;
	wmq_err e = wmq_store_id_open(o->db, &so, &l->h);
	if (e != WMQ_OK) {
		const char *m = wmq_store_id_errmsg(l->h);
		ctl_res_msg(res, e == WMQ_ERR_NOMEM ? CTL_EXIT_ERROR : CTL_EXIT_STORE, "%s",
			    m && *m ? m : wmq_err_str(e));
		RETURN(local_close(&l->base));
	}
	if (o->write && o->audit) {
		struct wmq_audit_opts ao;
		wmq_audit_opts_default(&ao);
		ao.path = o->audit;
		ao.fsync_each = true; /* an administrative change is rare and must not be lost */
		if ((e = wmq_audit_open(&ao, &l->audit)) != WMQ_OK) {
			ctl_res_msg(res, CTL_EXIT_ERROR, "audit log %s: cannot open it (%s): nothing was changed",
				    o->audit, wmq_err_str(e));
			RETURN(local_close(&l->base));
		}
	}
	*out = &l->base;
}

void ctl_local_attach(struct wmq_store_id *h, struct wmq_audit *audit, const char *actor, const char *via,
		      struct ctl_backend **out)
{
	*out = NULL;
	struct local *l = wmq_calloc(1, sizeof *l);
	if (!l)
		return;
	l->base.ops = &local_ops;
	l->h = h;
	l->audit = audit;
	l->borrowed = true;
	snprintf(l->actor, sizeof l->actor, "%s", actor ? actor : "?");
	snprintf(l->via, sizeof l->via, "%s", via ? via : "offline");
	*out = &l->base;
}

void ctl_local_set_live(struct ctl_backend *b, const struct ctl_live *live)
{
	if (b && b->ops == &local_ops)
		((struct local *)b)->live = live;
}
