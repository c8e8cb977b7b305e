/* SPDX-License-Identifier: MIT
 * identity_test.c - the identity repository (store/identity.h): migration
 * 2 -> 3 of an existing database, users, groups, roles, the principal
 * lookup, rules, client-id bindings, bans, PSK identities, the policy
 * version (one bump per change, none on failure or on a login upgrade),
 * transactions (all-or-nothing, a failed call undoes only itself), a
 * shared handle across threads, the handle beside the broker's store thread
 * on the same file, read-only opens, and out-of-memory injection.
 *
 * Lists are rendered as text lines so that a mismatch prints both sides. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/time.h"
#include "store/identity.h"
#include "store/store.h"
#include "store/testing.h"
#include "test.h"
#define SCRATCH_PREFIX "ident"
#include "scratch.h"

/* ---- Scratch directory ---------------------------------------------------- */

/* scratch_path() / scratch_clear(): tests/support/scratch.h */

#define ASSERT_HAS(hay, needle)                                                      \
	do {                                                                         \
		const char *h_ = (hay), *n_ = (needle);                              \
		if (!strstr(h_, n_))                                                 \
			TEST_FAIL_("\"%s\" does not contain \"%s\"", h_, n_);        \
	} while (0)

#define OK(h, call)                                                                  \
	do {                                                                         \
		wmq_err e_ = (call);                                                 \
		if (e_ != WMQ_OK)                                                    \
			TEST_FAIL_("%s: %s: %s", #call, wmq_err_str(e_), wmq_store_id_errmsg(h)); \
	} while (0)

/* Expect |err|; returns the message. */
#define FAILS(h, call, err)                                                          \
	do {                                                                         \
		wmq_err e_ = (call);                                                 \
		if (e_ != (err))                                                     \
			TEST_FAIL_("%s: expected %s, got %s (%s)", #call, wmq_err_str(err), \
				   wmq_err_str(e_), wmq_store_id_errmsg(h));         \
	} while (0)

/* NOSYNC keeps the many small transactions of these tests fast. */
static struct wmq_store_id *id_open(const char *path)
{
	struct wmq_store_id_opts o = {.flags = WMQ_STORE_CREATE | WMQ_STORE_NOSYNC};
	struct wmq_store_id *h = NULL;
	wmq_err e = wmq_store_id_open(path, &o, &h);
	if (e != WMQ_OK)
		TEST_FAIL_("open %s: %s: %s", path, wmq_err_str(e), wmq_store_id_errmsg(h));
	return h;
}

static uint64_t version(struct wmq_store_id *h)
{
	uint64_t v = 0;
	OK(h, wmq_store_id_policy_version(h, &v));
	return v;
}

/* ---- Text rendering of lists ---------------------------------------------- */

struct text {
	char s[8192];
	size_t n;
	int stop_after; /* return LIMIT from the n-th callback (1-based), 0 = never */
	int calls;
};

static void ap(struct text *t, const char *fmt, ...) WMQ_PRINTF(2, 3);
static void ap(struct text *t, const char *fmt, ...)
{
	va_list a;
	va_start(a, fmt);
	int n = vsnprintf(t->s + t->n, sizeof t->s - t->n, fmt, a);
	va_end(a);
	if (n > 0 && (size_t)n < sizeof t->s - t->n)
		t->n += (size_t)n;
}

static wmq_err stop_check(struct text *t)
{
	t->calls++;
	return t->stop_after && t->calls >= t->stop_after ? WMQ_ERR_LIMIT : WMQ_OK;
}

static wmq_err on_user(void *arg, const struct wmq_store_id_user *u)
{
	struct text *t = arg;
	ap(t, "%s %s%s\n", u->name, u->verifier ? u->verifier : "-", u->disabled ? " disabled" : "");
	return stop_check(t);
}

static wmq_err on_name(void *arg, const char *name)
{
	struct text *t = arg;
	ap(t, "%s\n", name);
	return stop_check(t);
}

static wmq_err on_entry(void *arg, const char *name, int64_t created_at, uint64_t count)
{
	struct text *t = arg;
	ASSERT(created_at > 0);
	ap(t, "%s %llu\n", name, (unsigned long long)count);
	return stop_check(t);
}

static wmq_err on_holder(void *arg, enum wmq_store_id_grantee kind, const char *name)
{
	struct text *t = arg;
	ap(t, "%s:%s\n", kind == WMQ_STORE_ID_GRANT_USER ? "user" : "group", name);
	return stop_check(t);
}

static wmq_err on_rule(void *arg, const struct wmq_store_id_rule *r)
{
	struct text *t = arg;
	ap(t, "#%llu %s %s%s%s %s a=%u %s q=%d p=%d%s o=%s\n", (unsigned long long)r->id, r->allow ? "allow" : "deny",
	   wmq_store_id_kind_str(r->kind), r->name ? ":" : "", r->name ? r->name : "", r->filter, r->actions,
	   r->subst ? "subst" : "literal", r->max_qos, (int)r->priority, "", r->origin ? r->origin : "-");
	return stop_check(t);
}

static wmq_err on_binding(void *arg, const char *cid, const char *user, int64_t created_at)
{
	struct text *t = arg;
	ASSERT(created_at > 0);
	ap(t, "%s=%s\n", cid, user ? user : "-");
	return stop_check(t);
}

static wmq_err on_ban(void *arg, const struct wmq_store_id_ban *b)
{
	struct text *t = arg;
	ap(t, "%s %s exp=%lld r=%s\n", wmq_store_id_ban_kind_str(b->kind), b->value, (long long)b->expires_at,
	   b->reason ? b->reason : "-");
	return stop_check(t);
}

static const char *users(struct wmq_store_id *h)
{
	static struct text t;
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_user_list(h, on_user, &t));
	return t.s;
}

static const char *rules(struct wmq_store_id *h)
{
	static struct text t;
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_rules(h, on_rule, &t, NULL));
	return t.s;
}

static const char *bans(struct wmq_store_id *h, int64_t now)
{
	static struct text t;
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_ban_list(h, now, on_ban, &t));
	return t.s;
}

/* "g1,g2|r1,r2|bound" */
static const char *principal(struct wmq_store_id *h, const char *user, const char *cid)
{
	static char buf[512];
	struct wmq_store_id_auth a;
	OK(h, wmq_store_id_auth_lookup(h, user, cid, &a));
	size_t n = 0;
	buf[0] = '\0';
	n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s:", a.user_exists ? "U" : "-", a.user_disabled ? "D" : "");
	for (size_t i = 0; i < a.ngroups; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "", a.groups[i]);
	n += (size_t)snprintf(buf + n, sizeof buf - n, "|");
	for (size_t i = 0; i < a.nroles; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "", a.roles[i]);
	snprintf(buf + n, sizeof buf - n, "|%s", a.bound_user ? a.bound_user : "-");
	ASSERT(a.policy_version >= 1);
	wmq_store_id_auth_cleanup(&a);
	wmq_store_id_auth_cleanup(&a); /* idempotent */
	return buf;
}

/* ---- Opening and migration ------------------------------------------------- */

TEST(fresh_database_is_version_3)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "a.db"));
	ASSERT_EQ(version(h), 1);
	ASSERT_STREQ(users(h), "");
	ASSERT_STREQ(rules(h), "");
	wmq_store_id_close(h);
	/* the broker's store opens it as the current version */
	struct wmq_store *st = NULL;
	struct wmq_store_opts o = {.flags = WMQ_STORE_INLINE};
	ASSERT_EQ(wmq_store_open(p, &o, &st), WMQ_OK);
	wmq_store_close(st);
	st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(p, 3, &st), WMQ_OK);
	int64_t v = 0;
	ASSERT_EQ(wmq_store_test_query_i64(st, "PRAGMA user_version", &v), WMQ_OK);
	ASSERT_EQ(v, 3);
	ASSERT_EQ(WMQ_STORE_SCHEMA_VERSION, 3);
	wmq_store_close(st);
	/* missing file without CREATE, missing directory */
	struct wmq_store_id_opts ro = {.flags = 0};
	h = NULL;
	ASSERT_EQ(wmq_store_id_open(scratch_path(p, sizeof p, "missing.db"), &ro, &h), WMQ_ERR_STORE);
	ASSERT_HAS(wmq_store_id_errmsg(h), "missing.db");
	wmq_store_id_close(h);
	h = NULL;
	ASSERT_EQ(wmq_store_id_open(scratch_path(p, sizeof p, "nodir/x.db"), NULL, &h), WMQ_ERR_STORE);
	ASSERT_HAS(wmq_store_id_errmsg(h), "mkdir -p");
	wmq_store_id_close(h);
	h = (struct wmq_store_id *)1;
	ASSERT_EQ(wmq_store_id_open("", NULL, &h), WMQ_ERR_INVAL);
	ASSERT(h == NULL);
	wmq_store_id_close(NULL);
	ASSERT_STREQ(wmq_store_id_errmsg(NULL), "");
	scratch_clear();
}

TEST(migration_from_version_2)
{
	char p[300];
	struct wmq_store *st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(scratch_path(p, sizeof p, "v2.db"), 2, &st), WMQ_OK);
	/* what a version-2 broker left: a session with an owner, a retained
	 * message with its publisher */
	ASSERT_EQ(wmq_store_test_exec(st,
		"INSERT INTO sessions (client_id, protocol, expiry_interval, created_at, updated_at, username) "
		"  VALUES ('dev-1', 5, 3600, 10, 20, 'alice');"
		"INSERT INTO messages (id, topic, payload, qos, retain, received_at, publisher_id, publisher_user) "
		"  VALUES (7, 'a/b', x'6869', 1, 1, 5, 'dev-1', 'alice');"
		"INSERT INTO retained (topic, msg_id) VALUES ('a/b', 7);"), WMQ_OK);
	ASSERT_EQ(wmq_store_test_exec(st, "SELECT name FROM users"), WMQ_ERR_STORE); /* no such table yet */
	wmq_store_close(st);

	/* a read-only identity open of a version-2 file asks for an upgrade */
	struct wmq_store_id_opts ro = {.flags = WMQ_STORE_READONLY};
	struct wmq_store_id *h = NULL;
	ASSERT_EQ(wmq_store_id_open(p, &ro, &h), WMQ_ERR_STORE);
	ASSERT_HAS(wmq_store_id_errmsg(h), "older");
	wmq_store_id_close(h);

	/* a read-write open migrates */
	h = id_open(p);
	ASSERT_EQ(version(h), 1);
	OK(h, wmq_store_id_user_add(h, "alice", "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", false));
	OK(h, wmq_store_id_client_bind(h, "dev-1", "alice"));
	ASSERT_STREQ(principal(h, "alice", "dev-1"), "U:||alice");
	wmq_store_id_close(h);

	/* the old rows are intact and the schema is consistent */
	st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(p, 3, &st), WMQ_OK);
	int64_t v = -1;
	ASSERT_EQ(wmq_store_test_query_i64(st, "PRAGMA user_version", &v), WMQ_OK);
	ASSERT_EQ(v, 3);
	ASSERT_EQ(wmq_store_test_query_i64(st, "SELECT count(*) FROM sessions WHERE username = 'alice' "
					       "AND created_at = 10", &v), WMQ_OK);
	ASSERT_EQ(v, 1);
	ASSERT_EQ(wmq_store_test_query_i64(st, "SELECT count(*) FROM retained r JOIN messages m ON m.id = r.msg_id "
					       "WHERE m.publisher_user = 'alice'", &v), WMQ_OK);
	ASSERT_EQ(v, 1);
	ASSERT_EQ(wmq_store_test_query_i64(st, "SELECT count(*) FROM pragma_foreign_key_check", &v), WMQ_OK);
	ASSERT_EQ(v, 0);
	ASSERT_EQ(wmq_store_test_query_i64(st, "SELECT count(*) FROM users", &v), WMQ_OK);
	ASSERT_EQ(v, 1);
	wmq_store_close(st);

	/* and the broker's store loads it */
	struct wmq_store_opts o = {.flags = WMQ_STORE_INLINE};
	st = NULL;
	ASSERT_EQ(wmq_store_open(p, &o, &st), WMQ_OK);
	struct wmq_store_load_stats ls;
	struct wmq_store_loader l = {0};
	ASSERT_EQ(wmq_store_load(st, 1, &l, &ls), WMQ_OK);
	ASSERT_EQ(ls.sessions, 1);
	ASSERT_EQ(ls.retained, 1);
	wmq_store_close(st);

	/* a read-only identity open of the migrated file reads */
	h = NULL;
	ASSERT_EQ(wmq_store_id_open(p, &ro, &h), WMQ_OK);
	ASSERT_HAS(users(h), "alice $argon2id$");
	FAILS(h, wmq_store_id_group_add(h, "g"), WMQ_ERR_STORE);
	ASSERT_HAS(wmq_store_id_errmsg(h), "read");
	wmq_store_id_close(h);
	scratch_clear();
}

/* ---- Users ------------------------------------------------------------------ */

TEST(users_crud)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "u.db"));
	OK(h, wmq_store_id_user_add(h, "bob", "$7$101$c2FsdA==$aGFzaA==", false));
	OK(h, wmq_store_id_user_add(h, "alice", "$argon2id$v=19$x", false));
	OK(h, wmq_store_id_user_add(h, "kim lee", NULL, true)); /* no password, disabled */
	OK(h, wmq_store_id_user_add(h, "\xc3\xa9mile", "v", false));
	ASSERT_STREQ(users(h), "alice $argon2id$v=19$x\nbob $7$101$c2FsdA==$aGFzaA==\nkim lee - disabled\n"
			       "\xc3\xa9mile v\n");
	uint64_t v0 = version(h);

	/* duplicates and bad names change nothing */
	FAILS(h, wmq_store_id_user_add(h, "alice", "x", false), WMQ_ERR_DENIED);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "user \"alice\" exists");
	FAILS(h, wmq_store_id_user_add(h, "", "x", false), WMQ_ERR_INVAL);
	FAILS(h, wmq_store_id_user_add(h, NULL, "x", false), WMQ_ERR_INVAL);
	FAILS(h, wmq_store_id_user_add(h, "bad\xff", "x", false), WMQ_ERR_INVAL);
	FAILS(h, wmq_store_id_user_add(h, "x", "", false), WMQ_ERR_INVAL);
	ASSERT_EQ(version(h), v0);

	struct wmq_store_id_user u;
	OK(h, wmq_store_id_user_get(h, "bob", &u));
	ASSERT_STREQ(u.name, "bob");
	ASSERT_STREQ(u.verifier, "$7$101$c2FsdA==$aGFzaA==");
	ASSERT(!u.disabled);
	ASSERT(u.created_at > 1600000000 && u.updated_at >= u.created_at);
	wmq_store_id_user_cleanup(&u);
	wmq_store_id_user_cleanup(&u);
	FAILS(h, wmq_store_id_user_get(h, "nobody", &u), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "no user \"nobody\"");
	ASSERT(u.name == NULL);

	OK(h, wmq_store_id_user_set_verifier(h, "bob", "$argon2id$new"));
	OK(h, wmq_store_id_user_set_disabled(h, "alice", true));
	OK(h, wmq_store_id_user_set_verifier(h, "kim lee", "$argon2id$kim"));
	OK(h, wmq_store_id_user_set_verifier(h, "\xc3\xa9mile", NULL));
	ASSERT_EQ(version(h), v0 + 4);
	FAILS(h, wmq_store_id_user_set_verifier(h, "nobody", "x"), WMQ_ERR_NOTFOUND);
	FAILS(h, wmq_store_id_user_set_disabled(h, "nobody", true), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(users(h), "alice $argon2id$v=19$x disabled\nbob $argon2id$new\nkim lee $argon2id$kim disabled\n"
			       "\xc3\xa9mile -\n");

	OK(h, wmq_store_id_user_del(h, "\xc3\xa9mile"));
	FAILS(h, wmq_store_id_user_del(h, "\xc3\xa9mile"), WMQ_ERR_NOTFOUND);
	ASSERT_EQ(version(h), v0 + 5);

	/* a callback error stops the walk and is returned */
	struct text t = {.stop_after = 2};
	FAILS(h, wmq_store_id_user_list(h, on_user, &t), WMQ_ERR_LIMIT);
	ASSERT_EQ(t.calls, 2);
	/* the handle is still usable after a stopped walk */
	ASSERT_HAS(users(h), "bob");
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(login_upgrade_is_compare_and_swap_without_version_bump)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "up.db"));
	OK(h, wmq_store_id_user_add(h, "alice", "$7$old", false));
	uint64_t v0 = version(h);
	bool replaced = true;
	/* an administrator changed the password meanwhile: the upgrade loses */
	OK(h, wmq_store_id_user_upgrade_verifier(h, "alice", "$7$stale", "$argon2id$up", &replaced));
	ASSERT(!replaced);
	OK(h, wmq_store_id_user_upgrade_verifier(h, "alice", "$7$old", "$argon2id$up", &replaced));
	ASSERT(replaced);
	OK(h, wmq_store_id_user_upgrade_verifier(h, "nobody", "$7$old", "$argon2id$up", &replaced));
	ASSERT(!replaced);
	ASSERT_EQ(version(h), v0);
	ASSERT_STREQ(users(h), "alice $argon2id$up\n");
	wmq_store_id_close(h);
	scratch_clear();
}

/* ---- Groups, roles and the principal ------------------------------------------ */

TEST(groups_roles_and_principal)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "g.db"));
	OK(h, wmq_store_id_user_add(h, "alice", "va", false));
	OK(h, wmq_store_id_user_add(h, "bob", NULL, false));
	OK(h, wmq_store_id_group_add(h, "ops"));
	OK(h, wmq_store_id_group_add(h, "devs"));
	FAILS(h, wmq_store_id_group_add(h, "ops"), WMQ_ERR_DENIED);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "group \"ops\" exists");
	OK(h, wmq_store_id_role_add(h, "reader"));
	OK(h, wmq_store_id_role_add(h, "writer"));
	OK(h, wmq_store_id_role_add(h, "admin"));
	FAILS(h, wmq_store_id_role_add(h, "admin"), WMQ_ERR_DENIED);

	OK(h, wmq_store_id_group_member_add(h, "ops", "alice"));
	OK(h, wmq_store_id_group_member_add(h, "devs", "alice"));
	OK(h, wmq_store_id_group_member_add(h, "devs", "bob"));
	FAILS(h, wmq_store_id_group_member_add(h, "ops", "alice"), WMQ_ERR_DENIED);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "user \"alice\" is already in group \"ops\"");
	FAILS(h, wmq_store_id_group_member_add(h, "ops", "carol"), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "no user \"carol\"");
	FAILS(h, wmq_store_id_group_member_add(h, "nogroup", "bob"), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "no group \"nogroup\"");

	OK(h, wmq_store_id_role_grant(h, "reader", WMQ_STORE_ID_GRANT_GROUP, "devs"));
	OK(h, wmq_store_id_role_grant(h, "reader", WMQ_STORE_ID_GRANT_USER, "alice")); /* also through devs */
	OK(h, wmq_store_id_role_grant(h, "writer", WMQ_STORE_ID_GRANT_GROUP, "ops"));
	OK(h, wmq_store_id_role_grant(h, "admin", WMQ_STORE_ID_GRANT_USER, "bob"));
	FAILS(h, wmq_store_id_role_grant(h, "admin", WMQ_STORE_ID_GRANT_USER, "bob"), WMQ_ERR_DENIED);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "role \"admin\" is already granted to user \"bob\"");
	FAILS(h, wmq_store_id_role_grant(h, "nope", WMQ_STORE_ID_GRANT_USER, "bob"), WMQ_ERR_NOTFOUND);
	FAILS(h, wmq_store_id_role_grant(h, "admin", WMQ_STORE_ID_GRANT_GROUP, "nogroup"), WMQ_ERR_NOTFOUND);
	FAILS(h, wmq_store_id_role_grant(h, "admin", (enum wmq_store_id_grantee)7, "bob"), WMQ_ERR_INVAL);

	/* groups sorted, roles deduplicated and sorted */
	ASSERT_STREQ(principal(h, "alice", NULL), "U:devs,ops|reader,writer|-");
	ASSERT_STREQ(principal(h, "bob", ""), "U:devs|admin,reader|-");
	ASSERT_STREQ(principal(h, "nobody", "c"), "-:||-");
	ASSERT_STREQ(principal(h, NULL, NULL), "-:||-");

	struct text t = {0};
	OK(h, wmq_store_id_group_list(h, on_entry, &t));
	ASSERT_STREQ(t.s, "devs 2\nops 1\n");
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_role_list(h, on_entry, &t));
	ASSERT_STREQ(t.s, "admin 1\nreader 2\nwriter 1\n");
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_group_members(h, "devs", on_name, &t));
	ASSERT_STREQ(t.s, "alice\nbob\n");
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_group_roles(h, "devs", on_name, &t));
	ASSERT_STREQ(t.s, "reader\n");
	FAILS(h, wmq_store_id_group_members(h, "nogroup", on_name, &t), WMQ_ERR_NOTFOUND);
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_role_holders(h, "reader", on_holder, &t));
	ASSERT_STREQ(t.s, "user:alice\ngroup:devs\n");
	FAILS(h, wmq_store_id_role_holders(h, "nope", on_holder, &t), WMQ_ERR_NOTFOUND);

	/* revocations */
	uint64_t v0 = version(h);
	OK(h, wmq_store_id_role_revoke(h, "reader", WMQ_STORE_ID_GRANT_USER, "alice"));
	ASSERT_STREQ(principal(h, "alice", NULL), "U:devs,ops|reader,writer|-"); /* still through devs */
	OK(h, wmq_store_id_group_member_del(h, "devs", "alice"));
	ASSERT_STREQ(principal(h, "alice", NULL), "U:ops|writer|-");
	FAILS(h, wmq_store_id_group_member_del(h, "devs", "alice"), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "user \"alice\" is not in group \"devs\"");
	FAILS(h, wmq_store_id_role_revoke(h, "reader", WMQ_STORE_ID_GRANT_USER, "alice"), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "role \"reader\" is not granted to user \"alice\"");
	ASSERT_EQ(version(h), v0 + 2);

	/* deleting a group or role removes its links; deleting a user too */
	OK(h, wmq_store_id_group_del(h, "ops"));
	ASSERT_STREQ(principal(h, "alice", NULL), "U:||-");
	OK(h, wmq_store_id_role_del(h, "admin"));
	ASSERT_STREQ(principal(h, "bob", NULL), "U:devs|reader|-");
	OK(h, wmq_store_id_user_del(h, "bob"));
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_group_members(h, "devs", on_name, &t));
	ASSERT_STREQ(t.s, "");
	FAILS(h, wmq_store_id_group_del(h, "ops"), WMQ_ERR_NOTFOUND);
	FAILS(h, wmq_store_id_role_del(h, "admin"), WMQ_ERR_NOTFOUND);
	wmq_store_id_close(h);
	scratch_clear();
}

/* ---- Rules ------------------------------------------------------------------- */

static struct wmq_store_id_rule rule(enum wmq_store_id_kind kind, const char *name, bool allow, unsigned actions,
				     const char *filter)
{
	return (struct wmq_store_id_rule){.kind = kind, .name = name, .allow = allow, .actions = actions,
					  .filter = filter, .subst = true, .max_qos = -1};
}

struct one_rule {
	struct wmq_store_id_rule r;
	char filter[64];
	int calls;
};

static wmq_err keep_rule(void *arg, const struct wmq_store_id_rule *r)
{
	struct one_rule *o = arg;
	o->r = *r;
	snprintf(o->filter, sizeof o->filter, "%s", r->filter);
	o->r.filter = o->filter;
	o->r.name = NULL;
	o->r.origin = NULL;
	o->calls++;
	return WMQ_OK;
}

TEST(rules_crud)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "r.db"));
	uint64_t id1 = 0, id2 = 0, id3 = 0, id4 = 0;
	struct wmq_store_id_rule r = rule(WMQ_STORE_ID_USER, "alice", true, 0xf, "sensors/alice/#");
	OK(h, wmq_store_id_rule_add(h, &r, &id1));
	r = rule(WMQ_STORE_ID_ALL, NULL, true, 0x1, "devices/%c/out");
	r.max_qos = 1;
	r.origin = "acl.txt:12";
	OK(h, wmq_store_id_rule_add(h, &r, &id2));
	r = rule(WMQ_STORE_ID_GROUP, "ops", false, 0x6, "metrics/secret/#");
	r.priority = -5;
	r.subst = false;
	OK(h, wmq_store_id_rule_add(h, &r, &id3));
	r = rule(WMQ_STORE_ID_ANONYMOUS, NULL, true, 0x6, "public/#");
	r.priority = INT32_MAX;
	r.max_qos = 0;
	OK(h, wmq_store_id_rule_add(h, &r, &id4));
	ASSERT(id1 >= 1 && id2 == id1 + 1 && id3 == id2 + 1 && id4 == id3 + 1);
	ASSERT_STREQ(rules(h), "#1 allow user:alice sensors/alice/# a=15 subst q=-1 p=0 o=-\n"
			       "#2 allow all devices/%c/out a=1 subst q=1 p=0 o=acl.txt:12\n"
			       "#3 deny group:ops metrics/secret/# a=6 literal q=-1 p=-5 o=-\n"
			       "#4 allow anonymous public/# a=6 subst q=0 p=2147483647 o=-\n");

	/* invalid records change nothing */
	uint64_t v0 = version(h), bad = 99;
	struct wmq_store_id_rule b = rule(WMQ_STORE_ID_USER, NULL, true, 1, "a");
	FAILS(h, wmq_store_id_rule_add(h, &b, &bad), WMQ_ERR_INVAL); /* user without a name */
	ASSERT_EQ(bad, 0);
	b = rule(WMQ_STORE_ID_ALL, "x", true, 1, "a");
	FAILS(h, wmq_store_id_rule_add(h, &b, NULL), WMQ_ERR_INVAL); /* all with a name */
	b = rule(WMQ_STORE_ID_ALL, NULL, true, 0, "a");
	FAILS(h, wmq_store_id_rule_add(h, &b, NULL), WMQ_ERR_INVAL);
	b = rule(WMQ_STORE_ID_ALL, NULL, true, 16, "a");
	FAILS(h, wmq_store_id_rule_add(h, &b, NULL), WMQ_ERR_INVAL);
	b = rule(WMQ_STORE_ID_ALL, NULL, true, 1, "");
	FAILS(h, wmq_store_id_rule_add(h, &b, NULL), WMQ_ERR_INVAL);
	b = rule(WMQ_STORE_ID_ALL, NULL, true, 1, "a");
	b.max_qos = 3;
	FAILS(h, wmq_store_id_rule_add(h, &b, NULL), WMQ_ERR_INVAL);
	b = rule((enum wmq_store_id_kind)9, "x", true, 1, "a");
	FAILS(h, wmq_store_id_rule_add(h, &b, NULL), WMQ_ERR_INVAL);
	ASSERT_EQ(version(h), v0);

	struct one_rule o = {0};
	OK(h, wmq_store_id_rule_get(h, id3, keep_rule, &o));
	ASSERT_EQ(o.calls, 1);
	ASSERT_EQ(o.r.id, id3);
	ASSERT(!o.r.allow && o.r.kind == WMQ_STORE_ID_GROUP && o.r.priority == -5 && !o.r.subst);
	ASSERT(o.r.created_at > 1600000000);
	FAILS(h, wmq_store_id_rule_get(h, 1000, keep_rule, &o), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "no rule #1000");

	/* ids are never reused */
	OK(h, wmq_store_id_rule_del(h, id4));
	FAILS(h, wmq_store_id_rule_del(h, id4), WMQ_ERR_NOTFOUND);
	FAILS(h, wmq_store_id_rule_del(h, UINT64_MAX), WMQ_ERR_NOTFOUND);
	uint64_t id5 = 0;
	r = rule(WMQ_STORE_ID_ROLE, "writer", true, 0x9, "retained/#");
	OK(h, wmq_store_id_rule_add(h, &r, &id5));
	ASSERT_EQ(id5, id4 + 1);

	/* the whole policy comes with its version from one snapshot */
	uint64_t ver = 0;
	struct text t = {0};
	OK(h, wmq_store_id_rules(h, on_rule, &t, &ver));
	ASSERT_EQ(ver, version(h));
	ASSERT_HAS(t.s, "#5 allow role:writer retained/# a=9");

	uint64_t n = 0;
	OK(h, wmq_store_id_rule_del_all(h, &n));
	ASSERT_EQ(n, 4);
	ASSERT_STREQ(rules(h), "");
	wmq_store_id_close(h);
	scratch_clear();
}

/* ---- Client bindings, bans, PSK identities ------------------------------------- */

TEST(client_bindings)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "c.db"));
	OK(h, wmq_store_id_user_add(h, "alice", "v", false));
	OK(h, wmq_store_id_user_add(h, "bob", "v", false));
	OK(h, wmq_store_id_client_bind(h, "dev-1", "alice"));
	OK(h, wmq_store_id_client_bind(h, "dev-2", "alice"));
	OK(h, wmq_store_id_client_bind(h, "b-1", "bob"));
	FAILS(h, wmq_store_id_client_bind(h, "dev-1", "bob"), WMQ_ERR_DENIED);
	ASSERT_HAS(wmq_store_id_errmsg(h), "bound already");
	FAILS(h, wmq_store_id_client_bind(h, "x", "carol"), WMQ_ERR_NOTFOUND);
	char *u = NULL;
	OK(h, wmq_store_id_client_get(h, "dev-1", &u));
	ASSERT_STREQ(u, "alice");
	wmq_free(u);
	FAILS(h, wmq_store_id_client_get(h, "nope", &u), WMQ_ERR_NOTFOUND);
	ASSERT(u == NULL);
	ASSERT_STREQ(principal(h, "bob", "dev-2"), "U:||alice");
	struct text t = {0};
	OK(h, wmq_store_id_client_list(h, NULL, on_binding, &t));
	ASSERT_STREQ(t.s, "b-1=bob\ndev-1=alice\ndev-2=alice\n");
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_client_list(h, "alice", on_binding, &t));
	ASSERT_STREQ(t.s, "dev-1=alice\ndev-2=alice\n");
	OK(h, wmq_store_id_client_unbind(h, "dev-2"));
	FAILS(h, wmq_store_id_client_unbind(h, "dev-2"), WMQ_ERR_NOTFOUND);
	OK(h, wmq_store_id_user_del(h, "alice")); /* cascades */
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_client_list(h, NULL, on_binding, &t));
	ASSERT_STREQ(t.s, "b-1=bob\n");
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(bans_crud)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "b.db"));
	bool replaced = true;
	struct wmq_store_id_ban b = {WMQ_STORE_ID_BAN_ADDRESS, "10.0.0.0/8", 0, "scanner", 0};
	OK(h, wmq_store_id_ban_add(h, &b, &replaced));
	ASSERT(!replaced);
	b = (struct wmq_store_id_ban){WMQ_STORE_ID_BAN_USERNAME, "mallory", 1000, NULL, 0};
	OK(h, wmq_store_id_ban_add(h, &b, NULL));
	b = (struct wmq_store_id_ban){WMQ_STORE_ID_BAN_CLIENT_ID, "bad-dev", 2000, "loops", 0};
	OK(h, wmq_store_id_ban_add(h, &b, NULL));
	ASSERT_STREQ(bans(h, 0), "address 10.0.0.0/8 exp=0 r=scanner\nclientid bad-dev exp=2000 r=loops\n"
				 "username mallory exp=1000 r=-\n");
	/* expired ones are hidden at |now| */
	ASSERT_STREQ(bans(h, 1000), "address 10.0.0.0/8 exp=0 r=scanner\nclientid bad-dev exp=2000 r=loops\n");
	ASSERT_STREQ(bans(h, 5000), "address 10.0.0.0/8 exp=0 r=scanner\n");
	/* re-adding replaces expiry and reason */
	uint64_t v0 = version(h);
	b = (struct wmq_store_id_ban){WMQ_STORE_ID_BAN_USERNAME, "mallory", 9000, "again", 0};
	OK(h, wmq_store_id_ban_add(h, &b, &replaced));
	ASSERT(replaced);
	ASSERT_EQ(version(h), v0 + 1);
	ASSERT_STREQ(bans(h, 5000), "address 10.0.0.0/8 exp=0 r=scanner\nusername mallory exp=9000 r=again\n");
	uint64_t n = 0;
	OK(h, wmq_store_id_ban_purge(h, 5000, &n));
	ASSERT_EQ(n, 1); /* bad-dev */
	ASSERT_STREQ(bans(h, 0), "address 10.0.0.0/8 exp=0 r=scanner\nusername mallory exp=9000 r=again\n");
	OK(h, wmq_store_id_ban_del(h, WMQ_STORE_ID_BAN_USERNAME, "mallory"));
	FAILS(h, wmq_store_id_ban_del(h, WMQ_STORE_ID_BAN_USERNAME, "mallory"), WMQ_ERR_NOTFOUND);
	ASSERT_STREQ(wmq_store_id_errmsg(h), "no username ban \"mallory\"");
	b = (struct wmq_store_id_ban){(enum wmq_store_id_ban_kind)5, "x", 0, NULL, 0};
	FAILS(h, wmq_store_id_ban_add(h, &b, NULL), WMQ_ERR_INVAL);
	b = (struct wmq_store_id_ban){WMQ_STORE_ID_BAN_CLIENT_ID, "", 0, NULL, 0};
	FAILS(h, wmq_store_id_ban_add(h, &b, NULL), WMQ_ERR_INVAL);
	ASSERT_STREQ(wmq_store_id_ban_kind_str(WMQ_STORE_ID_BAN_CLIENT_ID), "clientid");
	ASSERT(wmq_store_id_ban_kind_str((enum wmq_store_id_ban_kind)3) == NULL);
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(psk_identities)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "psk.db"));
	static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	OK(h, wmq_store_id_user_add(h, "alice", NULL, false));
	OK(h, wmq_store_id_psk_add(h, "dev-1", key, sizeof key, "alice"));
	OK(h, wmq_store_id_psk_add(h, "dev-2", key, 1, NULL));
	FAILS(h, wmq_store_id_psk_add(h, "dev-1", key, sizeof key, NULL), WMQ_ERR_DENIED);
	FAILS(h, wmq_store_id_psk_add(h, "dev-3", key, sizeof key, "carol"), WMQ_ERR_NOTFOUND);
	FAILS(h, wmq_store_id_psk_add(h, "dev-3", key, 0, NULL), WMQ_ERR_INVAL);
	FAILS(h, wmq_store_id_psk_add(h, "dev-3", key, WMQ_STORE_ID_PSK_MAX + 1, NULL), WMQ_ERR_INVAL);
	struct wmq_store_id_psk k;
	OK(h, wmq_store_id_psk_get(h, "dev-1", &k));
	ASSERT_STREQ(k.identity, "dev-1");
	ASSERT_EQ(k.key_len, 16);
	ASSERT_MEMEQ(k.key, key, 16);
	ASSERT_STREQ(k.username, "alice");
	wmq_store_id_psk_cleanup(&k);
	ASSERT(k.key == NULL && k.key_len == 0);
	OK(h, wmq_store_id_psk_get(h, "dev-2", &k));
	ASSERT(k.username == NULL && k.key_len == 1);
	wmq_store_id_psk_cleanup(&k);
	FAILS(h, wmq_store_id_psk_get(h, "nope", &k), WMQ_ERR_NOTFOUND);
	struct text t = {0};
	OK(h, wmq_store_id_psk_list(h, on_binding, &t));
	ASSERT_STREQ(t.s, "dev-1=alice\ndev-2=-\n");
	OK(h, wmq_store_id_user_del(h, "alice")); /* takes its PSK identity with it */
	memset(&t, 0, sizeof t);
	OK(h, wmq_store_id_psk_list(h, on_binding, &t));
	ASSERT_STREQ(t.s, "dev-2=-\n");
	OK(h, wmq_store_id_psk_del(h, "dev-2"));
	FAILS(h, wmq_store_id_psk_del(h, "dev-2"), WMQ_ERR_NOTFOUND);
	wmq_store_id_close(h);
	scratch_clear();
}

/* ---- Policy version and transactions -------------------------------------------- */

TEST(policy_version_counts_every_change_once)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "v.db"));
	uint64_t v = version(h);
	static const uint8_t key[4] = {1, 2, 3, 4};
	struct wmq_store_id_rule r = rule(WMQ_STORE_ID_ALL, NULL, true, 1, "a");
	struct wmq_store_id_ban b = {WMQ_STORE_ID_BAN_CLIENT_ID, "c", 0, NULL, 0};
#define STEP(call)                                                                           \
	do {                                                                                 \
		OK(h, call);                                                                 \
		ASSERT_EQ(version(h), ++v);                                                  \
	} while (0)
	STEP(wmq_store_id_user_add(h, "u", "v", false));
	STEP(wmq_store_id_user_set_verifier(h, "u", "w"));
	STEP(wmq_store_id_user_set_disabled(h, "u", true));
	STEP(wmq_store_id_group_add(h, "g"));
	STEP(wmq_store_id_group_member_add(h, "g", "u"));
	STEP(wmq_store_id_role_add(h, "r"));
	STEP(wmq_store_id_role_grant(h, "r", WMQ_STORE_ID_GRANT_GROUP, "g"));
	STEP(wmq_store_id_rule_add(h, &r, NULL));
	STEP(wmq_store_id_client_bind(h, "c", "u"));
	STEP(wmq_store_id_ban_add(h, &b, NULL));
	STEP(wmq_store_id_psk_add(h, "i", key, sizeof key, "u"));
	STEP(wmq_store_id_psk_del(h, "i"));
	STEP(wmq_store_id_ban_del(h, WMQ_STORE_ID_BAN_CLIENT_ID, "c"));
	STEP(wmq_store_id_client_unbind(h, "c"));
	STEP(wmq_store_id_role_revoke(h, "r", WMQ_STORE_ID_GRANT_GROUP, "g"));
	STEP(wmq_store_id_group_member_del(h, "g", "u"));
	STEP(wmq_store_id_role_del(h, "r"));
	STEP(wmq_store_id_group_del(h, "g"));
	STEP(wmq_store_id_user_del(h, "u"));
#undef STEP
	/* nothing to do: no bump */
	uint64_t n = 9;
	OK(h, wmq_store_id_rule_del_all(h, &n));
	ASSERT_EQ(n, 1);
	ASSERT_EQ(version(h), ++v);
	OK(h, wmq_store_id_rule_del_all(h, &n));
	ASSERT_EQ(n, 0);
	OK(h, wmq_store_id_ban_purge(h, 100, &n));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(version(h), v);
	wmq_store_id_close(h);

	/* a second handle (the broker's auth pool) sees the new version */
	struct wmq_store_id *h2 = id_open(p);
	ASSERT_EQ(version(h2), v);
	wmq_store_id_close(h2);
	scratch_clear();
}

TEST(transactions_are_all_or_nothing)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "t.db"));
	uint64_t v0 = version(h);
	OK(h, wmq_store_id_begin(h));
	FAILS(h, wmq_store_id_begin(h), WMQ_ERR_INVAL);
	OK(h, wmq_store_id_user_add(h, "a", "v", false));
	OK(h, wmq_store_id_user_add(h, "b", "v", false));
	struct wmq_store_id_rule r = rule(WMQ_STORE_ID_USER, "a", true, 1, "x");
	OK(h, wmq_store_id_rule_add(h, &r, NULL));
	/* the transaction sees its own writes */
	ASSERT_STREQ(users(h), "a v\nb v\n");
	wmq_store_id_rollback(h);
	ASSERT_STREQ(users(h), "");
	ASSERT_STREQ(rules(h), "");
	ASSERT_EQ(version(h), v0);
	wmq_store_id_rollback(h); /* no transaction: no-op */
	FAILS(h, wmq_store_id_commit(h), WMQ_ERR_INVAL);

	/* a failing call inside a transaction undoes only itself */
	OK(h, wmq_store_id_begin(h));
	OK(h, wmq_store_id_user_add(h, "a", "v", false));
	FAILS(h, wmq_store_id_user_add(h, "a", "w", false), WMQ_ERR_DENIED);
	FAILS(h, wmq_store_id_group_member_add(h, "nogroup", "a"), WMQ_ERR_NOTFOUND);
	OK(h, wmq_store_id_user_add(h, "c", NULL, false));
	OK(h, wmq_store_id_commit(h));
	ASSERT_STREQ(users(h), "a v\nc -\n");
	ASSERT_EQ(version(h), v0 + 2);

	/* another connection does not see uncommitted writes */
	struct wmq_store_id *h2 = id_open(p);
	OK(h, wmq_store_id_begin(h));
	OK(h, wmq_store_id_user_add(h, "d", NULL, false));
	ASSERT_STREQ(users(h2), "a v\nc -\n");
	OK(h, wmq_store_id_commit(h));
	ASSERT_STREQ(users(h2), "a v\nc -\nd -\n");
	wmq_store_id_close(h2);

	/* closing with an open transaction rolls it back */
	OK(h, wmq_store_id_begin(h));
	OK(h, wmq_store_id_user_add(h, "e", NULL, false));
	wmq_store_id_close(h);
	h = id_open(p);
	ASSERT_STREQ(users(h), "a v\nc -\nd -\n");
	wmq_store_id_close(h);
	scratch_clear();
}

/* ---- Threads and the broker's store beside the handle ------------------------------ */

struct adder {
	struct wmq_store_id *h;
	atomic_bool done;
	wmq_err rc;
};

static void *add_user_thread(void *arg)
{
	struct adder *a = arg;
	a->rc = wmq_store_id_user_add(a->h, "from-thread", NULL, false);
	atomic_store(&a->done, true);
	return NULL;
}

TEST(shared_handle_waits_for_a_transaction)
{
	char p[300];
	struct wmq_store_id *h = id_open(scratch_path(p, sizeof p, "th.db"));
	struct adder a = {.h = h};
	atomic_init(&a.done, false);
	OK(h, wmq_store_id_begin(h));
	OK(h, wmq_store_id_user_add(h, "main", NULL, false));
	pthread_t t;
	ASSERT_EQ(pthread_create(&t, NULL, add_user_thread, &a), 0);
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	ASSERT(!atomic_load(&a.done)); /* blocked by the open transaction */
	wmq_store_id_rollback(h);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	ASSERT_EQ(a.rc, WMQ_OK);
	ASSERT_STREQ(users(h), "from-thread -\n");
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(beside_the_brokers_store_thread)
{
	char p[300];
	scratch_path(p, sizeof p, "both.db");
	struct wmq_store *st = NULL;
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE | WMQ_STORE_NOSYNC};
	ASSERT_EQ(wmq_store_open(p, &o, &st), WMQ_OK);
	struct wmq_store_id *h = id_open(p);
	char cid[32], name[32];
	for (int i = 0; i < 50; i++) {
		struct wmq_store_batch *b = NULL;
		ASSERT_EQ(wmq_store_begin(st, &b), WMQ_OK);
		snprintf(cid, sizeof cid, "c%d", i);
		struct wmq_store_session s = {.client_id = wmq_bytes_cstr(cid), .protocol = 5,
					      .expiry_interval = 60, .created_at = 1, .updated_at = 1};
		ASSERT_EQ(wmq_store_session_put(b, &s), WMQ_OK);
		uint64_t ticket = 0;
		ASSERT_EQ(wmq_store_submit(b, &ticket), WMQ_OK);
		snprintf(name, sizeof name, "u%02d", i);
		OK(h, wmq_store_id_user_add(h, name, NULL, false));
	}
	ASSERT_EQ(wmq_store_flush(st, 10000), WMQ_OK);
	ASSERT(!wmq_store_failed(st));
	struct wmq_store_stats ss;
	wmq_store_stats(st, &ss);
	ASSERT_EQ(ss.ops, 50);
	ASSERT_EQ(ss.ops_rejected, 0);
	struct text t = {0};
	OK(h, wmq_store_id_user_list(h, on_user, &t));
	ASSERT_EQ(t.calls, 50);
	wmq_store_id_close(h);
	wmq_store_close(st);
	scratch_clear();
}

/* ---- Out of memory ------------------------------------------------------------------ */

/* Every allocation failure during open and a sequence of calls is reported
 * (NOMEM, or STORE when SQLite turned it into an I/O-level failure), never
 * a crash or a leak, and the file stays usable. */
TEST(oom_never_corrupts)
{
	char p[300];
	scratch_path(p, sizeof p, "oom.db");
	struct wmq_store_id *h = id_open(p);
	OK(h, wmq_store_id_user_add(h, "alice", "v", false));
	OK(h, wmq_store_id_group_add(h, "ops"));
	wmq_store_id_close(h);
	int failures = 0, ok_run = 0;
	for (long n = 1; n < 20000 && ok_run < 3; n += n < 150 ? 1 : n / 20) {
		struct wmq_store_id_opts o = {.flags = WMQ_STORE_NOSYNC};
		h = NULL;
		wmq_alloc_fail_after(n);
		wmq_err e = wmq_store_id_open(p, &o, &h);
		struct wmq_store_id_auth a;
		memset(&a, 0, sizeof a);
		if (e == WMQ_OK)
			e = wmq_store_id_begin(h);
		if (e == WMQ_OK) {
			e = wmq_store_id_user_add(h, "bob", "vb", false);
			if (e == WMQ_OK)
				e = wmq_store_id_group_member_add(h, "ops", "bob");
			if (e == WMQ_OK)
				e = wmq_store_id_commit(h);
			else
				wmq_store_id_rollback(h);
		}
		if (e == WMQ_OK)
			e = wmq_store_id_auth_lookup(h, "bob", "c", &a);
		wmq_alloc_fail_after(0);
		if (e != WMQ_OK && e != WMQ_ERR_NOMEM && e != WMQ_ERR_STORE)
			TEST_FAIL_("n=%ld: %s: %s", n, wmq_err_str(e), wmq_store_id_errmsg(h));
		if (e == WMQ_OK) {
			ASSERT_EQ(a.ngroups, 1);
			ok_run++;
		} else {
			failures++;
			ok_run = 0;
		}
		wmq_store_id_auth_cleanup(&a);
		wmq_store_id_close(h);
		/* undo for the next round: bob either fully exists or not at all */
		h = id_open(p);
		ASSERT_STREQ(principal(h, "alice", NULL), "U:||-");
		const char *pb = principal(h, "bob", NULL);
		if (strcmp(pb, "-:||-") != 0) {
			ASSERT_STREQ(pb, "U:ops||-");
			OK(h, wmq_store_id_user_del(h, "bob"));
		}
		wmq_store_id_close(h);
	}
	ASSERT(failures > 50);
	ASSERT_EQ(ok_run, 3);
	scratch_clear();
}

static const struct wmq_test tests[] = {
	{"fresh_database_is_version_3", fresh_database_is_version_3},
	{"migration_from_version_2", migration_from_version_2},
	{"users_crud", users_crud},
	{"login_upgrade_is_compare_and_swap_without_version_bump",
	 login_upgrade_is_compare_and_swap_without_version_bump},
	{"groups_roles_and_principal", groups_roles_and_principal},
	{"rules_crud", rules_crud},
	{"client_bindings", client_bindings},
	{"bans_crud", bans_crud},
	{"psk_identities", psk_identities},
	{"policy_version_counts_every_change_once", policy_version_counts_every_change_once},
	{"transactions_are_all_or_nothing", transactions_are_all_or_nothing},
	{"shared_handle_waits_for_a_transaction", shared_handle_waits_for_a_transaction},
	{"beside_the_brokers_store_thread", beside_the_brokers_store_thread},
	{"oom_never_corrupts", oom_never_corrupts},
};

WMQ_TEST_MAIN(tests)
