/* SPDX-License-Identifier: MIT
 * cmds.c - wardmq_ctl's commands: the command table and one function per
 * command that checks its arguments, reads secrets, and hands a request to
 * the backend.
 *
 * Role: everything that must happen on the administrator's side whichever
 * backend runs the request: argument syntax, Argon2id hashing of a new
 * password (the password is wiped right after; only the verifier string is
 * sent), hex decoding of a PSK key, CIDR normalisation of an address ban,
 * durations. `audit verify` needs no backend at all.
 * Threading: single-threaded. Ownership: requests borrow argv and locals. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/time.h"
#include "crypto/crypto.h"
#include "crypto/encode.h"
#include "ctl.h"
#include "security/audit.h"
#include "security/defence.h"
#include "security/password.h"
#include "security/policy.h"

#define PSK_MIN 16 /* bytes: 128 bits */
#define PSK_GEN 32 /* bytes of a --generate key: 256 bits */

/* ---- Small parsers ---------------------------------------------------------- */

wmq_err ctl_parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0;
	const int64_t max = 100LL * 366 * 86400; /* a century */
	size_t i = 0, len = strlen(s);
	*out = 0;
	WMQ_ENSURE(len > 0 && len <= 64, WMQ_ERR_INVAL);
	while (i < len) { /* bounded by len: every round consumes digits and a unit */
		int64_t n = 0;
		size_t digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 12) {
			n = n * 10 + (s[i] - '0');
			i++;
			digits++;
		}
		WMQ_ENSURE(digits > 0 && !(i < len && s[i] >= '0' && s[i] <= '9'), WMQ_ERR_INVAL);
		int64_t mul = 1;
		if (i < len) {
			switch (s[i]) {
			case 's': mul = 1; break;
			case 'm': mul = 60; break;
			case 'h': mul = 3600; break;
			case 'd': mul = 86400; break;
			case 'w': mul = 7 * 86400; break;
			default: WMQ_BAIL(WMQ_ERR_INVAL);
			}
			i++;
		} else if (total != 0) {
			WMQ_BAIL(WMQ_ERR_INVAL); /* "1h30": the unit of 30 is missing */
		}
		WMQ_ENSURE(n <= max / mul, WMQ_ERR_INVAL);
		total += n * mul;
		WMQ_ENSURE(total <= max, WMQ_ERR_INVAL);
	}
	WMQ_ENSURE(total > 0, WMQ_ERR_INVAL);
	*out = total;
	return WMQ_OK;
}

static const char *const ACT_NAMES[] = {"publish", "subscribe", "receive", "retain"};

wmq_err ctl_parse_actions(const char *s, unsigned *out)
{
	unsigned m = 0;
	const char *p = s;
	*out = 0;
	WMQ_ENSURE(*s, WMQ_ERR_INVAL);
	for (;;) { /* bounded by the string: each round consumes one item */
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		bool ok = false;
		for (int a = 0; a < WMQ_ACT__COUNT; a++) {
			if (strlen(ACT_NAMES[a]) == n && strncmp(p, ACT_NAMES[a], n) == 0) {
				m |= WMQ_ACT_BIT(a);
				ok = true;
			}
		}
		if (n == 4 && strncmp(p, "read", 4) == 0) {
			m |= WMQ_ACT_BIT(WMQ_ACT_SUBSCRIBE) | WMQ_ACT_BIT(WMQ_ACT_RECEIVE);
			ok = true;
		} else if (n == 5 && strncmp(p, "write", 5) == 0) {
			m |= WMQ_ACT_BIT(WMQ_ACT_PUBLISH);
			ok = true;
		} else if (n == 3 && strncmp(p, "all", 3) == 0) {
			m |= WMQ_ACT_ALL;
			ok = true;
		}
		WMQ_ENSURE(ok, WMQ_ERR_INVAL);
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = m;
	return WMQ_OK;
}

static bool parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !end || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static void usage(struct ctl_res *res, const char *fmt, const char *arg)
{
	char esc[256];
	ctl_escape(arg ? arg : "", esc, sizeof esc);
	ctl_res_msg(res, CTL_EXIT_USAGE, "%s: \"%s\"", fmt, esc);
}

/* End the current command with a usage error / a message. */
#define USAGE(...)                                                                   \
	do {                                                                         \
		usage(__VA_ARGS__);                                                  \
		return;                                                              \
	} while (0)
#define RES_MSG(...)                                                                 \
	do {                                                                         \
		ctl_res_msg(__VA_ARGS__);                                            \
		return;                                                              \
	} while (0)

static void exec(struct ctl_ctx *x, const struct ctl_req *req, struct ctl_res *res)
{
	x->b->ops->exec(x->b, req, res);
}

/* ---- Secrets ------------------------------------------------------------------ */

/* Read a password for |user| and turn it into an Argon2id verifier string.
 * The password is wiped before returning. */
static bool make_verifier(const char *user, char *out, size_t cap, struct ctl_res *res)
{
	char pw[CTL_SECRET_MAX + 1], why[160], prompt[160], esc[96];
	size_t len = 0;
	struct wmq_pw_params prm;
	struct wmq_pw_verifier v;
	bool ok = false;

	ctl_escape(user, esc, sizeof esc);
	snprintf(prompt, sizeof prompt, "Password for %s: ", esc);
	wmq_err rc = ctl_read_secret(prompt, true, pw, sizeof pw, &len, why, sizeof why);
	if (rc != WMQ_OK) {
		ctl_res_msg(res, rc == WMQ_ERR_INVAL ? CTL_EXIT_USAGE : CTL_EXIT_ERROR, "password: %s", why);
		return false;
	}
	wmq_pw_params_default(&prm);
	rc = wmq_pw_verifier_create(&prm, (struct wmq_bytes){(const uint8_t *)pw, len}, &v);
	wmq_crypto_wipe(pw, sizeof pw);
	if (rc == WMQ_OK)
		rc = wmq_pw_verifier_encode(&v, out, cap);
	wmq_pw_verifier_wipe(&v);
	if (rc != WMQ_OK)
		ctl_res_msg(res, CTL_EXIT_ERROR, "cannot hash the password: %s", wmq_err_str(rc));
	else
		ok = true;
	return ok;
}

/* ---- Users ------------------------------------------------------------------- */

static void user_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	char verifier[WMQ_PW_ENCODED_MAX];
	if (!x->o.no_password && !make_verifier(a[0], verifier, sizeof verifier, res))
		return;
	struct ctl_req r = {.op = CTL_OP_USER_ADD, .a = a[0], .flag = x->o.disabled,
			    .verifier = x->o.no_password ? NULL : verifier};
	exec(x, &r, res);
}

static void user_passwd(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	char verifier[WMQ_PW_ENCODED_MAX];
	if (!x->o.no_password && !make_verifier(a[0], verifier, sizeof verifier, res))
		return;
	struct ctl_req r = {.op = CTL_OP_USER_PASSWD, .a = a[0], .verifier = x->o.no_password ? NULL : verifier};
	exec(x, &r, res);
}

static void simple(struct ctl_ctx *x, enum ctl_op op, const char *a, const char *b, struct ctl_res *res)
{
	struct ctl_req r = {.op = op, .a = a, .b = b, .kind = -1};
	exec(x, &r, res);
}

static void user_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_USER_DEL, a[0], NULL, res);
}

static void user_disable(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	struct ctl_req r = {.op = CTL_OP_USER_DISABLE, .a = a[0], .flag = true};
	exec(x, &r, res);
}

static void user_enable(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	struct ctl_req r = {.op = CTL_OP_USER_DISABLE, .a = a[0], .flag = false};
	exec(x, &r, res);
}

static void user_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	simple(x, CTL_OP_USER_LIST, NULL, NULL, res);
}

static void user_check(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	char pw[CTL_SECRET_MAX + 1], why[160], prompt[160], esc[96];
	size_t len = 0;
	ctl_escape(a[0], esc, sizeof esc);
	snprintf(prompt, sizeof prompt, "Password for %s: ", esc);
	wmq_err rc = ctl_read_secret(prompt, false, pw, sizeof pw, &len, why, sizeof why);
	if (rc != WMQ_OK)
		RES_MSG(res, rc == WMQ_ERR_INVAL ? CTL_EXIT_USAGE : CTL_EXIT_ERROR, "password: %s", why);
	struct ctl_req r = {.op = CTL_OP_USER_CHECK, .a = a[0], .secret = pw, .secret_len = len};
	exec(x, &r, res);
	wmq_crypto_wipe(pw, sizeof pw);
}

static void user_show(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_USER_SHOW, a[0], NULL, res);
}

/* ---- Groups and roles ------------------------------------------------------------ */

static void group_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_GROUP_ADD, a[0], NULL, res);
}

static void group_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_GROUP_DEL, a[0], NULL, res);
}

static void group_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	simple(x, CTL_OP_GROUP_LIST, NULL, NULL, res);
}

static void group_show(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_GROUP_SHOW, a[0], NULL, res);
}

static void member_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_MEMBER_ADD, a[0], a[1], res);
}

static void member_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_MEMBER_DEL, a[0], a[1], res);
}

static void role_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_ROLE_ADD, a[0], NULL, res);
}

static void role_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_ROLE_DEL, a[0], NULL, res);
}

static void role_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	simple(x, CTL_OP_ROLE_LIST, NULL, NULL, res);
}

static void role_show(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_ROLE_SHOW, a[0], NULL, res);
}

static void role_grant_revoke(struct ctl_ctx *x, char **a, enum ctl_op op, struct ctl_res *res)
{
	int kind;
	if (strcmp(a[1], "user") == 0)
		kind = WMQ_STORE_ID_GRANT_USER;
	else if (strcmp(a[1], "group") == 0)
		kind = WMQ_STORE_ID_GRANT_GROUP;
	else
		USAGE(res, "expected \"user\" or \"group\"", a[1]);
	struct ctl_req r = {.op = op, .a = a[0], .kind = kind, .b = a[2]};
	exec(x, &r, res);
}

static void role_grant(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	role_grant_revoke(x, a, CTL_OP_ROLE_GRANT, res);
}

static void role_revoke(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	role_grant_revoke(x, a, CTL_OP_ROLE_REVOKE, res);
}

/* ---- Rules ---------------------------------------------------------------------- */

static int parse_kind(const char *s)
{
	for (int k = WMQ_STORE_ID_ALL; k <= WMQ_STORE_ID_ROLE; k++)
		if (strcmp(s, wmq_store_id_kind_str((enum wmq_store_id_kind)k)) == 0)
			return k;
	return -1;
}

static bool kind_named(int k)
{
	return k == WMQ_STORE_ID_USER || k == WMQ_STORE_ID_GROUP || k == WMQ_STORE_ID_ROLE;
}

/* KIND NAME, KIND:NAME, or all / anonymous with an optional "-": the
 * principal at a[0..]; *used = how many arguments it took. */
static bool parse_principal(char **a, int n, int *kind, const char **name, int *used, char *buf, size_t cap,
			    struct ctl_res *res)
{
	const char *colon = strchr(a[0], ':');
	*name = NULL;
	if (colon) {
		snprintf(buf, cap, "%.*s", (int)(colon - a[0]), a[0]);
		*kind = parse_kind(buf);
		*name = colon + 1;
		*used = 1;
		if (!kind_named(*kind) || !**name) {
			usage(res, "expected user:NAME, group:NAME or role:NAME", a[0]);
			return false;
		}
		return true;
	}
	*kind = parse_kind(a[0]);
	if (*kind < 0) {
		usage(res, "expected a principal kind (all, anonymous, user, group, role)", a[0]);
		return false;
	}
	if (kind_named(*kind)) {
		if (n < 2) {
			usage(res, "a name must follow", a[0]);
			return false;
		}
		*name = a[1];
		*used = 2;
		return true;
	}
	*used = (n > 1 && strcmp(a[1], "-") == 0) ? 2 : 1;
	return true;
}

static void rule_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	int kind, used;
	const char *name;
	char kbuf[32];
	if (!parse_principal(a, n, &kind, &name, &used, kbuf, sizeof kbuf, res))
		return;
	if (n - used != 3)
		USAGE(res, "expected PRINCIPAL allow|deny ACTIONS FILTER after", "rule add");
	char **r = a + used;
	struct wmq_store_id_rule rule = {.kind = (enum wmq_store_id_kind)kind, .name = name, .subst = !x->o.literal,
					 .max_qos = -1};
	if (strcmp(r[0], "allow") == 0)
		rule.allow = true;
	else if (strcmp(r[0], "deny") != 0)
		USAGE(res, "expected allow or deny", r[0]);
	if (ctl_parse_actions(r[1], &rule.actions) != WMQ_OK)
		USAGE(res, "expected actions: publish,subscribe,receive,retain (comma list), read, write or all",
			     r[1]);
	rule.filter = r[2];
	int64_t v;
	if (x->o.qos) {
		if (!parse_i64(x->o.qos, 0, 2, &v))
			USAGE(res, "--qos takes 0, 1 or 2", x->o.qos);
		rule.max_qos = (int)v;
	}
	if (x->o.priority) {
		if (!parse_i64(x->o.priority, INT32_MIN, INT32_MAX, &v))
			USAGE(res, "--priority takes a 32-bit integer", x->o.priority);
		rule.priority = (int32_t)v;
	}
	struct ctl_req req = {.op = CTL_OP_RULE_ADD, .rule = rule};
	exec(x, &req, res);
}

static void rule_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	int64_t id;
	const char *s = a[0][0] == '#' ? a[0] + 1 : a[0];
	if (!parse_i64(s, 1, INT64_MAX, &id))
		USAGE(res, "expected a rule id (see rule list)", a[0]);
	struct ctl_req r = {.op = CTL_OP_RULE_DEL, .id = (uint64_t)id};
	exec(x, &r, res);
}

static void rule_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	struct ctl_req r = {.op = CTL_OP_RULE_LIST, .kind = -1};
	if (n >= 1) {
		int used;
		char kbuf[32];
		if (!parse_principal(a, n, &r.kind, &r.a, &used, kbuf, sizeof kbuf, res))
			return;
		if (used != n)
			USAGE(res, "unexpected argument", a[used]);
	}
	exec(x, &r, res);
}

static void rule_import(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	struct ctl_import_opts o = {.policy = a[0], .replace = x->o.replace};
	ctl_import(x->b, &o, res);
}

/* ---- Bans ----------------------------------------------------------------------- */

static int parse_ban_kind(const char *s)
{
	for (int k = WMQ_STORE_ID_BAN_CLIENT_ID; k <= WMQ_STORE_ID_BAN_ADDRESS; k++)
		if (strcmp(s, wmq_store_id_ban_kind_str((enum wmq_store_id_ban_kind)k)) == 0)
			return k;
	return -1;
}

/* The ban value as stored: an address becomes "net/prefix" (host bits
 * cleared) or a plain address for /32 and /128. */
static bool ban_value(int kind, const char *in, char *out, size_t cap, struct ctl_res *res)
{
	if (kind != WMQ_STORE_ID_BAN_ADDRESS) {
		snprintf(out, cap, "%s", in);
		return true;
	}
	struct wmq_cidr c;
	if (wmq_cidr_parse(in, &c) != WMQ_OK) {
		usage(res, "expected an IPv4 or IPv6 address or CIDR range", in);
		return false;
	}
	char addr[64];
	wmq_addr_format(&c.net, addr, sizeof addr);
	if (c.prefix == (c.net.family == 4 ? 32 : 128))
		snprintf(out, cap, "%s", addr);
	else
		snprintf(out, cap, "%s/%u", addr, (unsigned)c.prefix);
	return true;
}

static void ban_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	int kind = parse_ban_kind(a[0]);
	char value[128];
	if (kind < 0)
		USAGE(res, "expected clientid, username or address", a[0]);
	if (!ban_value(kind, a[1], value, sizeof value, res))
		return;
	struct ctl_req r = {.op = CTL_OP_BAN_ADD, .kind = kind, .a = kind == WMQ_STORE_ID_BAN_ADDRESS ? value : a[1],
			    .reason = x->o.reason};
	if (x->o.for_) {
		int64_t d;
		if (ctl_parse_duration(x->o.for_, &d) != WMQ_OK)
			USAGE(res, "--for takes a duration such as 90s, 15m, 2h, 7d, 1w or 1h30m", x->o.for_);
		r.expires_at = wmq_wall_s() + d;
	}
	if (x->o.reason && strlen(x->o.reason) > 127)
		USAGE(res, "--reason is limited to 127 bytes", "...");
	exec(x, &r, res);
}

static void ban_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	if (strcmp(a[0], "lockout") == 0) {
		/* an automatic lock-out, named as ban list shows it: ADDRESS
		 * (the address lock-out) or ADDRESS USERNAME */
		struct wmq_addr ad;
		if (wmq_addr_parse(a[1], &ad) != WMQ_OK)
			USAGE(res, "expected an IPv4 or IPv6 address (no range: a lock-out is of one address)", a[1]);
		struct ctl_req r = {.op = CTL_OP_BAN_DEL, .kind = CTL_BAN_LOCKOUT, .a = a[1], .b = n > 2 ? a[2] : NULL};
		exec(x, &r, res);
		return;
	}
	int kind = parse_ban_kind(a[0]);
	char value[128];
	if (kind < 0)
		USAGE(res, "expected clientid, username, address or lockout", a[0]);
	if (n > 2)
		USAGE(res, "unexpected argument (only a lock-out takes a username)", a[2]);
	if (!ban_value(kind, a[1], value, sizeof value, res))
		return;
	struct ctl_req r = {.op = CTL_OP_BAN_DEL, .kind = kind, .a = kind == WMQ_STORE_ID_BAN_ADDRESS ? value : a[1]};
	exec(x, &r, res);
}

static void ban_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	struct ctl_req r = {.op = CTL_OP_BAN_LIST, .flag = x->o.all};
	exec(x, &r, res);
}

static void ban_purge(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	simple(x, CTL_OP_BAN_PURGE, NULL, NULL, res);
}

/* ---- Client bindings and PSK identities ------------------------------------------- */

static void client_bind(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_CLIENT_BIND, a[0], a[1], res);
}

static void client_unbind(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_CLIENT_UNBIND, a[0], NULL, res);
}

static void client_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	simple(x, CTL_OP_CLIENT_LIST, n > 0 ? a[0] : NULL, NULL, res);
}

static void psk_add(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	char hex[CTL_SECRET_MAX + 1], why[160], prompt[160], esc[96];
	uint8_t key[WMQ_STORE_ID_PSK_MAX];
	size_t len = 0, klen = 0;
	wmq_err rc;
	if (x->o.generate) {
		/* a fresh key from the CSPRNG, shown once below */
		if (wmq_crypto_random(key, PSK_GEN) != WMQ_OK)
			RES_MSG(res, CTL_EXIT_ERROR, "key: the random generator failed");
		klen = PSK_GEN;
		goto add;
	}
	ctl_escape(a[0], esc, sizeof esc);
	snprintf(prompt, sizeof prompt, "PSK key for %s (hex): ", esc);
	rc = ctl_read_secret(prompt, true, hex, sizeof hex, &len, why, sizeof why);
	if (rc != WMQ_OK)
		RES_MSG(res, rc == WMQ_ERR_INVAL ? CTL_EXIT_USAGE : CTL_EXIT_ERROR, "key: %s", why);
	rc = wmq_crypto_hex_decode(hex, len, key, sizeof key, &klen);
	wmq_crypto_wipe(hex, sizeof hex);
	if (rc != WMQ_OK || klen < PSK_MIN) {
		wmq_crypto_wipe(key, sizeof key);
		RES_MSG(res, CTL_EXIT_USAGE,
				   "key: expected %d to %d bytes as hex digits (%d to %d digits, even count)", PSK_MIN,
				   WMQ_STORE_ID_PSK_MAX, 2 * PSK_MIN, 2 * WMQ_STORE_ID_PSK_MAX);
	}
add:;
	struct ctl_req r = {.op = CTL_OP_PSK_ADD, .a = a[0], .b = x->o.user, .key = key, .key_len = klen};
	exec(x, &r, res);
	if (x->o.generate && res->status == CTL_EXIT_OK &&
	    wmq_crypto_hex_encode(key, klen, hex, sizeof hex) == WMQ_OK) {
		/* the only time the key is shown (never stored in the audit
		 * log, never listed) */
		size_t ml = strlen(res->msg);
		snprintf(res->msg + ml, sizeof res->msg - ml, "; key (shown once): %s", hex);
		wmq_crypto_wipe(hex, sizeof hex);
	}
	wmq_crypto_wipe(key, sizeof key);
}

static void psk_del(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	simple(x, CTL_OP_PSK_DEL, a[0], NULL, res);
}

static void psk_list(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	simple(x, CTL_OP_PSK_LIST, NULL, NULL, res);
}

/* ---- acl explain, policy version, audit verify, import ------------------------------ */

static void acl_explain(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	struct ctl_req r = {.op = CTL_OP_ACL_EXPLAIN, .a = strcmp(a[0], "-") == 0 ? NULL : a[0],
			    .b = strcmp(a[1], "-") == 0 ? "" : a[1], .topic = a[3], .action = -1};
	for (int i = 0; i < WMQ_ACT__COUNT; i++)
		if (strcmp(a[2], ACT_NAMES[i]) == 0)
			r.action = i;
	if (r.action < 0)
		USAGE(res, "expected publish, subscribe, receive or retain", a[2]);
	if (n > 4) {
		int64_t q;
		if (!parse_i64(a[4], 0, 2, &q))
			USAGE(res, "QOS is 0, 1 or 2", a[4]);
		r.qos = (int)q;
	}
	exec(x, &r, res);
}

static void policy_version(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	simple(x, CTL_OP_POLICY_VERSION, NULL, NULL, res);
}

static void audit_verify(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(n);
	struct wmq_audit_verify v;
	memset(&v, 0, sizeof v);
	if (x->o.prev && (strlen(x->o.prev) != 64 || strspn(x->o.prev, "0123456789abcdef") != 64))
		USAGE(res, "--prev takes the 64 lowercase hex digits of the previous file's head", x->o.prev);
	wmq_err rc = wmq_audit_verify_file(a[0], x->o.prev, &v);
	char esc[512];
	ctl_escape(a[0], esc, sizeof esc);
	if (rc != WMQ_OK && rc != WMQ_ERR_MALFORMED)
		RES_MSG(res, CTL_EXIT_ERROR, "%s: cannot read it (%s)", esc, wmq_err_str(rc));
	res->data = ctl_obj();
	ctl_set_str(res->data, "file", a[0]);
	ctl_set_bool(res->data, "intact", rc == WMQ_OK);
	ctl_set_int(res->data, "lines", (int64_t)v.lines);
	if (rc == WMQ_OK) {
		ctl_set_str(res->data, "head", v.head);
		ctl_res_msg(res, CTL_EXIT_OK, "%s: intact, %" PRIu64 " line%s", esc, v.lines, v.lines == 1 ? "" : "s");
	} else {
		ctl_set_int(res->data, "bad_line", (int64_t)v.bad_line);
		ctl_set_str(res->data, "why", v.why);
		ctl_set_str(res->data, "last_intact_head", v.head);
		ctl_res_msg(res, CTL_EXIT_NO, "%s:%" PRIu64 ": %s", esc, v.bad_line, v.why);
	}
}

static void import_mosquitto(struct ctl_ctx *x, char **a, int n, struct ctl_res *res)
{
	WMQ_UNUSED(a);
	WMQ_UNUSED(n);
	if (!x->o.passwd && !x->o.acl)
		USAGE(res, "give --passwd FILE, --acl FILE or both", "import-mosquitto");
	struct ctl_import_opts o = {.passwd = x->o.passwd, .acl = x->o.acl, .replace = x->o.replace};
	ctl_import(x->b, &o, res);
}

/* ---- The table ------------------------------------------------------------------------- */

#define W true  /* writes */
#define R false /* reads */

const struct ctl_cmd ctl_cmds[] = {
	{"user", "add", "NAME", 1, 1, CTL_O_NO_PASSWORD | CTL_O_DISABLED, W, false, user_add,
	 "add a user; the password is read from the terminal (twice) or one line of stdin"},
	{"user", "del", "NAME", 1, 1, 0, W, false, user_del,
	 "delete a user with its memberships, role grants, client bindings and PSK identities"},
	{"user", "passwd", "NAME", 1, 1, CTL_O_NO_PASSWORD, W, false, user_passwd,
	 "set a new password (--no-password: remove password login)"},
	{"user", "disable", "NAME", 1, 1, 0, W, false, user_disable, "refuse the user's logins"},
	{"user", "enable", "NAME", 1, 1, 0, W, false, user_enable, "accept the user's logins again"},
	{"user", "list", "", 0, 0, 0, R, false, user_list, "list users"},
	{"user", "show", "NAME", 1, 1, 0, R, false, user_show,
	 "a user's password scheme, groups, roles, client ids and rules"},
	{"user", "check", "NAME", 1, 1, 0, R, false, user_check,
	 "test a password (read like the others) against the stored one; exit 0 right, 1 wrong"},
	{"group", "add", "NAME", 1, 1, 0, W, false, group_add, "add a group"},
	{"group", "del", "NAME", 1, 1, 0, W, false, group_del, "delete a group (its memberships and grants)"},
	{"group", "list", "", 0, 0, 0, R, false, group_list, "list groups with their member counts"},
	{"group", "show", "NAME", 1, 1, 0, R, false, group_show, "a group's members, roles and rules"},
	{"group", "member add", "GROUP USER", 2, 2, 0, W, false, member_add, "put a user into a group"},
	{"group", "member del", "GROUP USER", 2, 2, 0, W, false, member_del, "take a user out of a group"},
	{"role", "add", "NAME", 1, 1, 0, W, false, role_add, "add a role"},
	{"role", "del", "NAME", 1, 1, 0, W, false, role_del, "delete a role (and its grants)"},
	{"role", "list", "", 0, 0, 0, R, false, role_list, "list roles with their holder counts"},
	{"role", "show", "NAME", 1, 1, 0, R, false, role_show, "who holds a role, and its rules"},
	{"role", "grant", "ROLE user|group NAME", 3, 3, 0, W, false, role_grant, "grant a role to a user or group"},
	{"role", "revoke", "ROLE user|group NAME", 3, 3, 0, W, false, role_revoke, "revoke a granted role"},
	{"rule", "add", "PRINCIPAL allow|deny ACTIONS FILTER", 4, 5, CTL_O_QOS | CTL_O_PRIORITY | CTL_O_LITERAL, W,
	 false, rule_add,
	 "add an ACL rule; PRINCIPAL is all, anonymous, user NAME, group NAME or role NAME (or KIND:NAME)"},
	{"rule", "del", "ID", 1, 1, 0, W, false, rule_del, "delete rule ID"},
	{"rule", "list", "[PRINCIPAL]", 0, 2, 0, R, false, rule_list, "list rules (of one principal)"},
	{"rule", "import", "FILE", 1, 1, CTL_O_REPLACE, W, false, rule_import,
	 "add the rules of a native policy file, all or nothing (--replace: instead of every rule)"},
	{"ban", "add", "clientid|username|address VALUE", 2, 2, CTL_O_FOR | CTL_O_REASON, W, false, ban_add,
	 "ban a client id, user name or address/CIDR (--for DURATION: expires)"},
	{"ban", "del", "clientid|username|address VALUE | lockout ADDRESS [USERNAME]", 2, 3, 0, W, false, ban_del,
	 "lift a ban; online (--socket) also an automatic lock-out of an address, or of a username from it"},
	{"ban", "list", "", 0, 0, CTL_O_ALL, R, false, ban_list,
	 "list bans in force (--all: expired ones too); online also the automatic lock-outs"},
	{"ban", "purge", "", 0, 0, 0, W, false, ban_purge, "delete expired bans"},
	{"client", "bind", "CLIENTID USER", 2, 2, 0, W, false, client_bind,
	 "only USER may connect with CLIENTID"},
	{"client", "unbind", "CLIENTID", 1, 1, 0, W, false, client_unbind, "remove a client id binding"},
	{"client", "list", "[USER]", 0, 1, 0, R, false, client_list, "list client id bindings"},
	{"psk", "add", "IDENTITY", 1, 1, CTL_O_USER | CTL_O_GENERATE, W, false, psk_add,
	 "add a TLS PSK identity; the key (hex, 16..256 bytes) is read like a password, or "
	 "--generate makes a random 32-byte key and prints it once"},
	{"psk", "del", "IDENTITY", 1, 1, 0, W, false, psk_del, "delete a TLS PSK identity"},
	{"psk", "list", "", 0, 0, 0, R, false, psk_list, "list TLS PSK identities (never their keys)"},
	{"acl", "explain", "USER CLIENTID ACTION TOPIC [QOS]", 4, 5, 0, R, false, acl_explain,
	 "decide as the broker would and show the deciding rule (USER or CLIENTID \"-\": none); exit 0 allow, 1 deny"},
	{"policy", "version", "", 0, 0, 0, R, false, policy_version,
	 "the policy version (grows with every change)"},
	{"audit", "verify", "FILE", 1, 1, CTL_O_PREV, R, true, audit_verify,
	 "check an audit log's hash chain; exit 0 intact, 1 with the first broken line"},
	{"import-mosquitto", NULL, "", 0, 0, CTL_O_PASSWD | CTL_O_ACL | CTL_O_REPLACE, W, false, import_mosquitto,
	 "import a mosquitto_passwd file (hashes kept) and an acl_file (rules translated), all or nothing"},
};

const size_t ctl_ncmds = WMQ_ARRAY_LEN(ctl_cmds);
