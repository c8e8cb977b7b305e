/* SPDX-License-Identifier: MIT
 * policy_test.c - the authorization engine: a table of decisions
 * (precedence, %u/%c, injection, $-topics, shared subscriptions, QoS caps,
 * retain, subscription containment), the text formats, the mosquitto ACL
 * translator, empty/unparsable policies, revocation through the version,
 * the explainer, OOM paths, and a performance sanity run (timing printed,
 * never asserted). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "security/policy.h"
#include "security/policy_int.h"
#include "test.h"

#define B(s) wmq_bytes_cstr(s)
enum { PUB = WMQ_ACT_PUBLISH, SUB = WMQ_ACT_SUBSCRIBE, RCV = WMQ_ACT_RECEIVE, RET = WMQ_ACT_RETAIN };
enum { N = 0, Y = 1 };
#define ANY -1

static const char POLICY[] =
	"# the table's policy\n"
	"allow all        user:alice      sensors/alice/#\n"
	"allow publish    user:alice      cmd/+/set qos=1\n"
	"deny  publish    user:alice      cmd/reactor/set\n"
	"allow read       group:ops       $SYS/#\n"
	"allow read       group:ops       metrics/#\n"
	"deny  receive,subscribe group:ops metrics/secret/#\n"
	"allow all        all             public/#\n"
	"allow read       anonymous       anon/#\n"
	"allow all        all             devices/%c/#\n"
	"allow all        all             users/%u/#\n"
	"allow read       all             %u/inbox/#\n"
	"allow publish    all             drop/#\n"
	"deny  publish    all             drop/%u/x\n"
	"allow subscribe,receive role:viewer dash/+/status qos=0\n"
	"allow publish,retain role:writer retained/# qos=1\n"
	"allow publish    role:writer     noretain/#\n"
	"deny  all        user:bob        #\n"
	"allow read       user:bob        $SYS/broker/#\n"
	"allow read       user:carol      a/+\n"
	"allow read       user:dave       a/#\n"
	"deny  read       user:dave       a/b/secret\n"
	"allow read       user:erin       x/#\n"
	"deny  read       user:erin       x/+/y\n"
	"allow all        user:frank      p/#\n"
	"deny  all        user:frank      p/# priority=-1\n"
	"allow all        user:gina       q/# priority=5\n"
	"deny  all        user:gina       q/a/#\n"
	"allow all        user:henry      #\n"
	"allow all        user:ivan       t/x\n"
	"deny  all        group:g1        t/x\n"
	"allow receive    user:\"kim lee\" \"with space/+\" qos=1\n";

struct pcase {
	const char *user; /* NULL = anonymous */
	const char *cid;
	const char *group;
	const char *role;
	int action;
	const char *topic;
	int qos;
	int allow;
	int granted; /* ANY: not checked */
	int reason;  /* ANY: not checked */
	const char *why;
};

#define RULE WMQ_POLICY_BY_RULE
#define DEF WMQ_POLICY_BY_DEFAULT
#define QOS WMQ_POLICY_BY_QOS
#define INV WMQ_POLICY_BY_INVALID

static const struct pcase CASES[] = {
	/* plain grants and default deny */
	{"alice", "c1", NULL, NULL, PUB, "sensors/alice/temp", 1, Y, 1, RULE, "own subtree"},
	{"alice", "c1", NULL, NULL, PUB, "sensors/alice", 0, Y, 0, RULE, "'#' includes the parent level"},
	{"alice", "c1", NULL, NULL, PUB, "sensors/alice/", 0, Y, 0, RULE, "empty last level"},
	{"alice", "c1", NULL, NULL, PUB, "sensors/bob/temp", 0, N, ANY, DEF, "no rule: default deny"},
	/* QoS caps */
	{"alice", "c1", NULL, NULL, PUB, "cmd/pump/set", 1, Y, 1, RULE, "qos within max_qos"},
	{"alice", "c1", NULL, NULL, PUB, "cmd/pump/set", 2, N, ANY, QOS, "publish above max_qos is denied"},
	/* precedence: specificity, deny at equal specificity, priority */
	{"alice", "c1", NULL, NULL, PUB, "cmd/reactor/set", 0, N, ANY, RULE, "literal deny beats '+' allow"},
	{"alice", "c1", NULL, NULL, SUB, "cmd/+/set", 0, N, ANY, DEF, "publish right is not subscribe right"},
	{"olga", "c2", "ops", NULL, RCV, "metrics/cpu", 1, Y, 1, RULE, "group grant"},
	{"olga", "c2", "ops", NULL, RCV, "metrics/secret/key", 0, N, ANY, RULE, "longer deny beats shorter allow"},
	{"olga", "c2", "ops", NULL, SUB, "metrics/#", 0, N, ANY, RULE, "filter covers a denied subtree"},
	{"olga", "c2", "ops", NULL, SUB, "metrics/cpu/+", 2, Y, 2, RULE, "filter inside the grant"},
	{"olga", "c2", "ops", NULL, SUB, "metrics/+/x", 0, N, ANY, RULE, "'+' can be 'secret'"},
	{"frank", "c3", NULL, NULL, PUB, "p/q", 0, Y, 0, RULE, "same filter: higher priority allow wins"},
	{"gina", "c3", NULL, NULL, PUB, "q/a/b", 0, Y, 0, RULE, "priority beats specificity"},
	{"ivan", "c3", "g1", NULL, PUB, "t/x", 0, N, ANY, RULE, "equal priority and filter: deny wins"},
	{"ivan", "c3", NULL, NULL, PUB, "t/x", 0, Y, 0, RULE, "without the group the allow stands"},
	/* $-topics */
	{"olga", "c2", "ops", NULL, SUB, "$SYS/#", 0, Y, 0, RULE, "explicit $SYS rule"},
	{"henry", "c4", NULL, NULL, PUB, "anything/at/all", 2, Y, 2, RULE, "'#' grants ordinary topics"},
	{"henry", "c4", NULL, NULL, RCV, "$SYS/broker/load", 0, N, ANY, DEF, "'#' does not grant $SYS"},
	{"henry", "c4", NULL, NULL, SUB, "#", 0, Y, 0, RULE, "'#' subscription (matches no $ topic)"},
	{"henry", "c4", NULL, NULL, SUB, "+/+", 0, Y, 0, RULE, "'+/+' inside '#'"},
	{"henry", "c4", NULL, NULL, SUB, "$SYS/#", 0, N, ANY, DEF, "$SYS needs its own rule"},
	{"bob", "c5", NULL, NULL, RCV, "$SYS/broker/uptime", 0, Y, 0, RULE, "deny '#' does not cover $SYS"},
	{"bob", "c5", NULL, NULL, RCV, "news", 0, N, ANY, RULE, "deny '#'"},
	{"bob", "c5", NULL, NULL, SUB, "$SYS/#", 0, N, ANY, DEF, "only $SYS/broker/# granted"},
	{"bob", "c5", NULL, NULL, SUB, "$SYS/broker/+", 1, Y, 1, RULE, "inside the $SYS grant"},
	{NULL, "c6", NULL, NULL, RCV, "$SYS/x", 0, N, ANY, DEF, "anonymous and $SYS"},
	/* subscription containment */
	{"carol", "c7", NULL, NULL, SUB, "a/b", 1, Y, 1, RULE, "literal inside a/+"},
	{"carol", "c7", NULL, NULL, SUB, "a/+", 1, Y, 1, RULE, "same filter"},
	{"carol", "c7", NULL, NULL, SUB, "a/#", 0, N, ANY, DEF, "a/# matches a and a/b/c"},
	{"carol", "c7", NULL, NULL, SUB, "#", 0, N, ANY, DEF, "everything"},
	{"carol", "c7", NULL, NULL, SUB, "+/b", 0, N, ANY, DEF, "+/b matches x/b"},
	{"carol", "c7", NULL, NULL, SUB, "a/b/c", 0, N, ANY, DEF, "deeper than a/+"},
	{"dave", "c8", NULL, NULL, SUB, "a/#", 0, N, ANY, RULE, "contains a/b/secret"},
	{"dave", "c8", NULL, NULL, SUB, "a/c/#", 0, Y, 0, RULE, "avoids the deny"},
	{"dave", "c8", NULL, NULL, SUB, "a/+/secret", 0, N, ANY, RULE, "'+' can be b"},
	{"dave", "c8", NULL, NULL, RCV, "a", 0, Y, 0, RULE, "a/# matches a"},
	{"erin", "c9", NULL, NULL, SUB, "x/#", 0, N, ANY, RULE, "x/q/y is denied"},
	{"erin", "c9", NULL, NULL, SUB, "x/+/z", 0, Y, 0, RULE, "x/+/y deny is disjoint"},
	{"erin", "c9", NULL, NULL, SUB, "x/+/+", 0, N, ANY, RULE, "second '+' can be y"},
	/* shared subscriptions are checked against the real filter */
	{"carol", "c7", NULL, NULL, SUB, "$share/g1/a/+", 1, Y, 1, RULE, "$share/g/f checks f"},
	{"carol", "c7", NULL, NULL, SUB, "$share/g1/a/#", 0, N, ANY, DEF, "$share does not launder a/#"},
	{"olga", "c2", "ops", NULL, SUB, "$share/x/metrics/#", 0, N, ANY, RULE, "shared, deny inside"},
	/* roles, QoS caps on subscribe/receive, retain */
	{"vic", "c10", NULL, "viewer", SUB, "dash/a/status", 2, Y, 0, RULE, "subscribe granted at max_qos"},
	{"vic", "c10", NULL, "viewer", SUB, "dash/+/status", 1, Y, 0, RULE, "wildcard within grant, capped"},
	{"vic", "c10", NULL, "viewer", SUB, "dash/#", 0, N, ANY, DEF, "dash/a/other not granted"},
	{"vic", "c10", NULL, "viewer", RCV, "dash/a/status", 2, Y, 0, RULE, "delivery downgraded to max_qos"},
	{"wes", "c11", NULL, "writer", RET, "retained/x", 1, Y, 1, RULE, "retain right"},
	{"wes", "c11", NULL, "writer", RET, "retained/x", 2, N, ANY, QOS, "retain above max_qos"},
	{"wes", "c11", NULL, "writer", RET, "noretain/x", 0, N, ANY, DEF, "publish without retain right"},
	{"wes", "c11", NULL, "writer", PUB, "noretain/x", 2, Y, 2, RULE, "plain publish is fine"},
	/* %c and %u substitution */
	{"zed", "dev1", NULL, NULL, PUB, "devices/dev1/up", 1, Y, 1, RULE, "%c"},
	{"zed", "dev1", NULL, NULL, PUB, "devices/dev2/up", 0, N, ANY, DEF, "another device"},
	{"zed", "dev1", NULL, NULL, SUB, "users/zed/#", 0, Y, 0, RULE, "%u"},
	{"zed", "dev1", NULL, NULL, SUB, "users/+/#", 0, N, ANY, DEF, "other users' subtrees"},
	{"zed", "dev1", NULL, NULL, SUB, "zed/inbox/#", 0, Y, 0, RULE, "%u as the first level"},
	{"zed", "dev1", NULL, NULL, PUB, "drop/zed/x", 0, N, ANY, RULE, "deny with %u"},
	{"zed", "dev1", NULL, NULL, PUB, "drop/other/x", 0, Y, 0, RULE, "deny is about zed only"},
	{NULL, "dev1", NULL, NULL, PUB, "users/x/y", 0, N, ANY, DEF, "anonymous: no %u grant"},
	{NULL, "dev1", NULL, NULL, RCV, "anon/news", 0, Y, 0, RULE, "anonymous rule"},
	{NULL, "dev1", NULL, NULL, PUB, "anon/news", 0, N, ANY, DEF, "anonymous read only"},
	{"alice", "dev1", NULL, NULL, RCV, "anon/news", 0, N, ANY, DEF, "anonymous rules skip users"},
	{NULL, "", NULL, NULL, PUB, "devices//x", 0, N, ANY, DEF, "empty client id: no %c grant"},
	/* injection attempts (CVE-2017-7650 and friends) */
	{"zed", "+", NULL, NULL, PUB, "devices/victim/up", 0, N, ANY, DEF, "client id '+'"},
	{"zed", "#", NULL, NULL, SUB, "devices/#", 0, N, ANY, DEF, "client id '#'"},
	{"zed", "a/b", NULL, NULL, PUB, "devices/a/b/c", 0, N, ANY, DEF, "client id with '/'"},
	{"+", "c12", NULL, NULL, PUB, "users/victim/x", 0, N, ANY, DEF, "username '+'"},
	{"#", "c12", NULL, NULL, SUB, "users/#", 0, N, ANY, DEF, "username '#'"},
	{"a/b", "c12", NULL, NULL, PUB, "users/a/b/x", 0, N, ANY, DEF, "username with '/'"},
	{"$SYS", "c12", NULL, NULL, SUB, "$SYS/inbox/#", 0, N, ANY, DEF, "username '$SYS' via %u/inbox/#"},
	{"a/b", "c12", NULL, NULL, PUB, "drop/q/x", 0, N, ANY, RULE, "unsafe name: deny widened to drop/#"},
	{"a/b", "c12", NULL, NULL, PUB, "public/x", 0, Y, 0, RULE, "other rights are untouched"},
	/* invalid input is denied, never matched */
	{"alice", "c1", NULL, NULL, PUB, "sensors/alice/+", 0, N, ANY, INV, "wildcard in a topic name"},
	{"alice", "c1", NULL, NULL, SUB, "sensors/#/x", 0, N, ANY, INV, "'#' not last"},
	{"alice", "c1", NULL, NULL, PUB, "", 0, N, ANY, INV, "empty topic"},
	{"alice", "c1", NULL, NULL, SUB, "$share//a", 0, N, ANY, INV, "empty share name"},
	/* quoted names and filters with spaces */
	{"kim lee", "c13", NULL, NULL, RCV, "with space/x", 2, Y, 1, RULE, "quoted user and filter"},
};

static struct wmq_policy *load(const char *text)
{
	struct wmq_policy *p = NULL;
	char err[256];
	ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
	wmq_err rc = wmq_policy_parse(p, text, strlen(text), "table", err, sizeof err);
	if (rc != WMQ_OK)
		TEST_FAIL_("parse: %s", err);
	return p;
}

static void principal(const struct pcase *c, struct wmq_principal *pr, const char **g, const char **r)
{
	g[0] = c->group;
	r[0] = c->role;
	*pr = (struct wmq_principal){c->user, c->cid, g, c->group ? 1 : 0, r, c->role ? 1 : 0};
}

TEST(decision_table)
{
	struct wmq_policy *p = load(POLICY);
	ASSERT(WMQ_ARRAY_LEN(CASES) >= 40);
	for (size_t i = 0; i < WMQ_ARRAY_LEN(CASES); i++) {
		const struct pcase *c = &CASES[i];
		const char *g[1], *r[1];
		struct wmq_principal pr;
		principal(c, &pr, g, r);
		struct wmq_authz *z = NULL;
		ASSERT_EQ(wmq_authz_new(&pr, 64, &z), WMQ_OK);
		struct wmq_policy_decision d, d2, de;
		bool allow = wmq_authz_check(z, p, (enum wmq_policy_action)c->action, B(c->topic), (uint8_t)c->qos, &d);
		if ((int)allow != c->allow || (c->granted != ANY && d.qos != c->granted) ||
		    (c->reason != ANY && (int)d.reason != c->reason)) {
			char ex[2048];
			wmq_err erc = wmq_policy_explain(p, &pr, (enum wmq_policy_action)c->action, B(c->topic),
							 (uint8_t)c->qos, &de, ex, sizeof ex);
			WMQ_UNUSED(erc);
			TEST_FAIL_("case %zu (%s): %s %s %s q%d: got allow=%d qos=%u reason=%d\n%s", i, c->why,
				   c->user ? c->user : "(anon)", wmq_policy_action_str((enum wmq_policy_action)c->action),
				   c->topic, c->qos, allow, d.qos, d.reason, ex);
		}
		ASSERT(!d.cached);
		ASSERT((d.reason == RULE) == (d.rule != NULL) || (d.reason == QOS && d.rule != NULL));
		/* the cache answers the same */
		ASSERT_EQ(wmq_authz_check(z, p, (enum wmq_policy_action)c->action, B(c->topic), (uint8_t)c->qos, &d2),
			  allow);
		ASSERT(d2.cached);
		ASSERT_EQ(d2.qos, d.qos);
		ASSERT(d2.rule == d.rule);
		/* the explainer decides the same */
		char ex[2048];
		ASSERT_EQ(wmq_policy_explain(p, &pr, (enum wmq_policy_action)c->action, B(c->topic), (uint8_t)c->qos,
					     &de, ex, sizeof ex),
			  WMQ_OK);
		ASSERT_EQ(de.allow, d.allow);
		ASSERT_EQ(de.qos, d.qos);
		ASSERT(de.rule == d.rule);
		ASSERT(strncmp(ex, allow ? "allow: " : "deny: ", allow ? 7 : 6) == 0);
		wmq_authz_free(z);
	}
	printf("  %zu table cases\n", WMQ_ARRAY_LEN(CASES));
	wmq_policy_unref(p);
}

TEST(specificity_order)
{
	/* a > b */
	static const char *const more[][2] = {
		{"a/b", "a/+"}, {"a/+", "a/#"}, {"a/b", "a/b/#"}, {"a/#", "#"}, {"a/b/c", "a/+/c"},
		{"a/b/#", "a/+/c"}, {"+/b", "#"}, {"+", "#"}, {"a/+/#", "a/#"},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(more); i++) {
		if (wmq_policy_spec_cmp(more[i][0], more[i][1]) <= 0 || wmq_policy_spec_cmp(more[i][1], more[i][0]) >= 0)
			TEST_FAIL_("%s should be more specific than %s", more[i][0], more[i][1]);
	}
	ASSERT_EQ(wmq_policy_spec_cmp("a/b", "a/b"), 0);
	ASSERT_EQ(wmq_policy_spec_cmp("#", "#"), 0);
	ASSERT_EQ(wmq_policy_spec_cmp("x/+", "y/+"), 0);
	ASSERT(wmq_policy_identity_safe("alice"));
	ASSERT(wmq_policy_identity_safe("a-b.c@d"));
	static const char *const unsafe[] = {"", "+", "#", "a/b", "a+", "b#", "$SYS", "/"};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(unsafe); i++)
		ASSERT(!wmq_policy_identity_safe(unsafe[i]));
	ASSERT(!wmq_policy_identity_safe(NULL));
}

/* CVE-2018-12550: empty or unparsable policies are errors, never allow-all. */
TEST(empty_and_bad_policies)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
		{"", "p:0: policy has no rules"},
		{"# only a comment\n\n   \n", "p:3: policy has no rules"},
		{"allow all all a/#\nalow all all b\n", "p:2: expected allow or deny"},
		{"allow pubish all a\n", "p:1: unknown action"},
		{"allow all users:x a\n", "p:1: unknown subject"},
		{"allow all user: a\n", "p:1: unknown subject"},
		{"allow all all a/#/b\n", "p:1: invalid topic filter"},
		{"allow all all a+\n", "p:1: invalid topic filter"},
		{"allow all all $share/g/a\n", "p:1: rules name the filter"},
		{"allow all all a qos=3\n", "p:1: unknown option"},
		{"allow all all a priority=x\n", "p:1: unknown option"},
		{"allow all all\n", "p:1: expected: allow|deny"},
		{"allow all all \"a b\n", "p:1: unterminated quote"},
		{"allow all all a id=5\ndeny all all b id=5\n", "p:2: invalid rule"},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		struct wmq_policy *p = NULL;
		char err[256];
		ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
		wmq_err rc = wmq_policy_parse(p, bad[i].text, strlen(bad[i].text), "p", err, sizeof err);
		if (rc != WMQ_ERR_INVAL || strncmp(err, bad[i].err, strlen(bad[i].err)) != 0)
			TEST_FAIL_("case %zu: rc=%d err=\"%s\", want \"%s\"", i, rc, err, bad[i].err);
		ASSERT_EQ(wmq_policy_count(p), 0); /* all or nothing */
		ASSERT_EQ(wmq_policy_validate(p), WMQ_ERR_INVAL);
		/* and an empty policy denies everything */
		struct wmq_principal pr = {"root", "c", NULL, 0, NULL, 0};
		struct wmq_authz *z = NULL;
		ASSERT_EQ(wmq_authz_new(&pr, 0, &z), WMQ_OK);
		struct wmq_policy_decision d;
		ASSERT(!wmq_authz_check(z, p, WMQ_ACT_PUBLISH, B("a"), 0, &d));
		ASSERT_EQ(d.reason, WMQ_POLICY_BY_DEFAULT);
		ASSERT(!wmq_authz_check(z, NULL, WMQ_ACT_SUBSCRIBE, B("#"), 0, &d));
		wmq_authz_free(z);
		wmq_policy_unref(p);
	}
	/* API-level checks */
	struct wmq_policy *p = NULL;
	ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
	struct wmq_policy_rule_spec s = {.effect = WMQ_POLICY_ALLOW, .actions = WMQ_ACT_ALL, .filter = "a", .max_qos = -1};
	s.actions = 0;
	ASSERT_EQ(wmq_policy_add(p, &s, NULL), WMQ_ERR_INVAL);
	s.actions = WMQ_ACT_ALL;
	s.subject = WMQ_SUBJ_USER;
	ASSERT_EQ(wmq_policy_add(p, &s, NULL), WMQ_ERR_INVAL); /* no name */
	s.subject = WMQ_SUBJ_ALL;
	s.max_qos = 3;
	ASSERT_EQ(wmq_policy_add(p, &s, NULL), WMQ_ERR_INVAL);
	s.max_qos = -1;
	char deep[600] = "";
	for (int i = 0; i < 129; i++)
		strcat(deep, i ? "/x" : "x");
	s.filter = deep;
	ASSERT_EQ(wmq_policy_add(p, &s, NULL), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_policy_count(p), 0);
	wmq_policy_unref(p);
}

TEST(format_roundtrip)
{
	struct wmq_policy *p = load(POLICY), *q = NULL;
	char line[512], text[16384] = "";
	for (size_t i = 0; i < wmq_policy_count(p); i++) {
		const struct wmq_policy_rule *r = wmq_policy_rule_at(p, i);
		ASSERT_EQ(wmq_policy_rule_format(r, line, sizeof line), WMQ_OK);
		strcat(text, line);
		strcat(text, "\n");
	}
	ASSERT_EQ(wmq_policy_new(2, &q), WMQ_OK);
	char err[256];
	ASSERT_EQ(wmq_policy_parse(q, text, strlen(text), "again", err, sizeof err), WMQ_OK);
	ASSERT_EQ(wmq_policy_count(q), wmq_policy_count(p));
	for (size_t i = 0; i < wmq_policy_count(p); i++) {
		const struct wmq_policy_rule *a = wmq_policy_rule_at(p, i), *b = wmq_policy_rule_at(q, i);
		ASSERT_EQ(a->effect, b->effect);
		ASSERT_EQ(a->actions, b->actions);
		ASSERT_EQ(a->subject, b->subject);
		ASSERT_STREQ(a->filter, b->filter);
		ASSERT_EQ(a->max_qos, b->max_qos);
		ASSERT_EQ(a->priority, b->priority);
		if (a->subject_name)
			ASSERT_STREQ(a->subject_name, b->subject_name);
	}
	const struct wmq_policy_rule *kim = wmq_policy_rule_at(p, wmq_policy_count(p) - 1);
	ASSERT_EQ(wmq_policy_rule_format(kim, line, sizeof line), WMQ_OK);
	ASSERT_STREQ(line, "allow receive user:\"kim lee\" \"with space/+\" qos=1");
	ASSERT_STREQ(wmq_policy_rule_at(p, 0)->origin, "table:2");
	ASSERT_EQ(wmq_policy_rule_format(kim, line, 10), WMQ_ERR_LIMIT);
	wmq_policy_unref(p);
	wmq_policy_unref(q);
}

/* Revocation: a new policy version is seen at the next check. */
TEST(revocation_by_version)
{
	struct wmq_policy *p1 = load("allow all user:u a/#\n");
	struct wmq_principal pr = {"u", "c", NULL, 0, NULL, 0};
	struct wmq_authz *z = NULL;
	ASSERT_EQ(wmq_authz_new(&pr, 16, &z), WMQ_OK);
	struct wmq_policy_decision d;
	ASSERT(wmq_authz_check(z, p1, WMQ_ACT_RECEIVE, B("a/b"), 1, &d));
	ASSERT(wmq_authz_check(z, p1, WMQ_ACT_RECEIVE, B("a/b"), 1, &d));
	ASSERT(d.cached);
	/* the broker builds version 2 without the rule and swaps it in */
	struct wmq_policy *p2 = NULL;
	ASSERT_EQ(wmq_policy_clone(p1, 2, wmq_policy_rule_at(p1, 0)->id, &p2), WMQ_OK);
	ASSERT_EQ(wmq_policy_count(p2), 0);
	char err[128];
	ASSERT_EQ(wmq_policy_parse(p2, "allow all user:u b/#\n", 21, "v2", err, sizeof err), WMQ_OK);
	wmq_policy_unref(p1); /* the authorizer keeps its own reference until it recompiles */
	ASSERT(!wmq_authz_check(z, p2, WMQ_ACT_RECEIVE, B("a/b"), 1, &d));
	ASSERT(!d.cached);
	ASSERT(wmq_authz_check(z, p2, WMQ_ACT_RECEIVE, B("b/c"), 1, &d));
	struct wmq_authz_stats st;
	wmq_authz_get_stats(z, &st);
	ASSERT_EQ(st.compiles, 2);
	ASSERT_EQ(st.cache_hits, 1);
	wmq_authz_free(z);
	wmq_policy_unref(p2);
}

TEST(explain_output)
{
	struct wmq_policy *p = load(POLICY);
	const char *g[] = {"ops"};
	struct wmq_principal pr = {"olga", "c2", g, 1, NULL, 0};
	struct wmq_policy_decision d;
	char ex[2048];
	ASSERT_EQ(wmq_policy_explain(p, &pr, WMQ_ACT_SUBSCRIBE, B("metrics/#"), 1, &d, ex, sizeof ex), WMQ_OK);
	ASSERT(!d.allow);
	ASSERT(strstr(ex, "deny: subscribe metrics/# at QoS 1 by user olga") != NULL);
	ASSERT(strstr(ex, "deny subscribe,receive group:ops metrics/secret/#") != NULL);
	ASSERT(strstr(ex, "from table:7") != NULL);
	ASSERT(strstr(ex, "the filter can match \"metrics/secret") != NULL);
	printf("%s", ex);
	struct wmq_principal zed = {"zed", "dev1", NULL, 0, NULL, 0};
	ASSERT_EQ(wmq_policy_explain(p, &zed, WMQ_ACT_PUBLISH, B("devices/dev1/up"), 0, &d, ex, sizeof ex), WMQ_OK);
	ASSERT(d.allow);
	ASSERT(strstr(ex, "filter for this client: devices/dev1/#") != NULL);
	printf("%s", ex);
	struct wmq_principal evil = {"a/b", "+", NULL, 0, NULL, 0};
	ASSERT_EQ(wmq_policy_explain(p, &evil, WMQ_ACT_PUBLISH, B("devices/x/up"), 0, &d, ex, sizeof ex), WMQ_OK);
	ASSERT(!d.allow);
	ASSERT(strstr(ex, "no matching rule") != NULL);
	ASSERT(strstr(ex, "allow rules using %u/%c were not applied") != NULL);
	printf("%s", ex);
	/* truncation is safe */
	ASSERT_EQ(wmq_policy_explain(p, &pr, WMQ_ACT_SUBSCRIBE, B("metrics/#"), 1, &d, ex, 20), WMQ_OK);
	ASSERT_EQ(strlen(ex), 19);
	wmq_policy_unref(p);
}

struct reports {
	char msg[16][200];
	size_t n;
};

static void on_report(void *arg, const char *m)
{
	struct reports *r = arg;
	if (r->n < 16)
		snprintf(r->msg[r->n++], sizeof r->msg[0], "%s", m);
}

static bool decide(struct wmq_policy *p, const char *user, const char *cid, int action, const char *topic)
{
	struct wmq_principal pr = {user, cid, NULL, 0, NULL, 0};
	struct wmq_authz *z = NULL;
	ASSERT_EQ(wmq_authz_new(&pr, 0, &z), WMQ_OK);
	bool ok = wmq_authz_check(z, p, (enum wmq_policy_action)action, B(topic), 0, NULL);
	wmq_authz_free(z);
	return ok;
}

TEST(mosquitto_acl_import)
{
	FILE *f = fopen(WMQ_TEST_FIXTURES "/mosquitto_acl.txt", "rb");
	ASSERT(f != NULL);
	static char text[8192];
	size_t len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	struct wmq_policy *p = NULL;
	ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
	struct reports rep;
	memset(&rep, 0, sizeof rep);
	struct wmq_policy_import_stats st;
	ASSERT_EQ(wmq_policy_import_mosquitto(p, text, len, "mosquitto_acl.txt", on_report, &rep, &st), WMQ_OK);
	ASSERT_EQ(st.rules, 13);
	ASSERT_EQ(st.skipped, 3);
	ASSERT_EQ(rep.n, 3);
	ASSERT(strncmp(rep.msg[0], "mosquitto_acl.txt:23: unsupported directive: \"auth_plugin\"", 58) == 0);
	ASSERT(strncmp(rep.msg[1], "mosquitto_acl.txt:24: invalid access type: \"wrong\"", 50) == 0);
	ASSERT(strncmp(rep.msg[2], "mosquitto_acl.txt:25: invalid topic filter", 42) == 0);
	/* anonymous section */
	ASSERT(decide(p, NULL, "anon1", RCV, "public/news"));
	ASSERT(!decide(p, NULL, "anon1", SUB, "public/+")); /* can be public/secret */
	ASSERT(decide(p, NULL, "anon1", SUB, "public/news/#"));
	ASSERT(!decide(p, NULL, "anon1", RCV, "public/secret"));
	ASSERT(!decide(p, NULL, "anon1", SUB, "public/#")); /* would include public/secret */
	ASSERT(!decide(p, NULL, "anon1", PUB, "public/news"));
	ASSERT(!decide(p, "alice", "c", RCV, "public/news")); /* anonymous lines are not for users */
	/* alice: readwrite, write, deny, $SYS */
	ASSERT(decide(p, "alice", "c", PUB, "alice/x"));
	ASSERT(decide(p, "alice", "c", RET, "alice/x"));
	ASSERT(decide(p, "alice", "c", SUB, "alice/#"));
	ASSERT(decide(p, "alice", "c", PUB, "cmd/pump"));
	ASSERT(!decide(p, "alice", "c", SUB, "cmd/pump"));
	ASSERT(!decide(p, "alice", "c", PUB, "cmd/reactor"));
	ASSERT(decide(p, "alice", "c", RCV, "$SYS/broker/uptime"));
	ASSERT(decide(p, "alice", "c", RCV, "spaced/out"));
	/* "bob smith" (user names may contain spaces) and a literal %u */
	ASSERT(decide(p, "bob smith", "c", RCV, "bob/x"));
	ASSERT(decide(p, "bob smith", "c", RCV, "weird/%u/literal"));
	ASSERT(!decide(p, "bob smith", "c", RCV, "weird/bob smith/literal"));
	ASSERT(!decide(p, "bob", "c", RCV, "bob/x"));
	/* patterns for every client */
	ASSERT(decide(p, "carl", "dev7", RCV, "devices/dev7/in"));
	ASSERT(decide(p, NULL, "dev7", PUB, "devices/dev7/out"));
	ASSERT(!decide(p, NULL, "dev7", PUB, "devices/dev8/out"));
	ASSERT(!decide(p, NULL, "dev7", PUB, "devices/dev7/out/locked"));
	ASSERT(decide(p, "carl", "x", SUB, "users/carl/#"));
	ASSERT(!decide(p, NULL, "x", SUB, "users/carl/#"));
	ASSERT(!decide(p, "carl", "dev/7", RCV, "devices/dev/7/in")); /* '/' in client id */
	/* mosquitto order: a user's own allow beats a pattern deny */
	wmq_policy_unref(p);

	ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
	static const char prec[] = "user u\ntopic write devices/d1/out/locked\npattern deny devices/%c/out/locked\n"
				   "pattern write devices/%c/out/#\n";
	ASSERT_EQ(wmq_policy_import_mosquitto(p, prec, sizeof prec - 1, "prec", NULL, NULL, NULL), WMQ_OK);
	ASSERT(decide(p, "u", "d1", PUB, "devices/d1/out/locked"));
	ASSERT(!decide(p, "v", "d1", PUB, "devices/d1/out/locked"));
	ASSERT(decide(p, "v", "d1", PUB, "devices/d1/out/x"));
	wmq_policy_unref(p);

	/* fail closed: an untranslatable deny line, an empty file, "user" with no name */
	static const char *const bad[] = {"topic read a/#\ntopic deny a/#/b\n", "# nothing\n\n", "user\ntopic read a\n"};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
		memset(&rep, 0, sizeof rep);
		ASSERT_EQ(wmq_policy_import_mosquitto(p, bad[i], strlen(bad[i]), "bad", on_report, &rep, &st),
			  WMQ_ERR_INVAL);
		ASSERT_EQ(wmq_policy_count(p), 0);
		ASSERT(rep.n >= 1);
		wmq_policy_unref(p);
	}
}

/* Every allocation failure during parse, compile and check is reported
 * (or is a deny), never a crash, a leak or an allow. */
TEST(oom_never_allows)
{
	for (long n = 1; n < 400; n++) {
		struct wmq_policy *p = NULL;
		char err[256];
		wmq_alloc_fail_after(n);
		wmq_err rc = wmq_policy_new(1, &p);
		if (rc == WMQ_OK)
			rc = wmq_policy_parse(p, POLICY, strlen(POLICY), "t", err, sizeof err);
		struct wmq_authz *z = NULL;
		const char *g[] = {"ops"};
		struct wmq_principal pr = {"olga", "c2", g, 1, NULL, 0};
		if (rc == WMQ_OK)
			rc = wmq_authz_new(&pr, 8, &z);
		if (rc == WMQ_OK) {
			struct wmq_policy_decision d;
			/* denied in the table: must stay denied whatever fails */
			ASSERT(!wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("metrics/#"), 0, &d));
			ASSERT(!wmq_authz_check(z, p, WMQ_ACT_RECEIVE, B("metrics/secret/k"), 0, &d));
		}
		wmq_alloc_fail_after(0);
		wmq_authz_free(z);
		wmq_policy_unref(p);
	}
}

/* Principals with the same groups and roles share one compiled trie of the
 * substitution-free rules; their own and substituted rules stay private. */
TEST(shared_compilation)
{
	struct wmq_policy *p = load(POLICY);
	const char *ops[] = {"ops"}, *ops_g1[] = {"g1", "ops"}, *g1_ops[] = {"ops", "g1"};
	struct { const char *user; const char *const *g; size_t ng; } who[] = {
		{"olga", ops, 1}, {"oscar", ops, 1}, {"alice", NULL, 0}, {"bob", NULL, 0},
		{"x", ops_g1, 2}, {"y", g1_ops, 2}, {NULL, NULL, 0},
	};
	struct wmq_authz *z[WMQ_ARRAY_LEN(who)];
	for (size_t i = 0; i < WMQ_ARRAY_LEN(who); i++) {
		struct wmq_principal pr = {who[i].user, "cid", who[i].g, who[i].ng, NULL, 0};
		ASSERT_EQ(wmq_authz_new(&pr, 0, &z[i]), WMQ_OK);
		ASSERT(!wmq_authz_check(z[i], p, WMQ_ACT_PUBLISH, B("nowhere"), 0, NULL));
	}
	/* sets: {ops}, {}, {g1, ops} (order-independent), anonymous {} */
	ASSERT_EQ(wmq_policy_shared_count_int(p), 4);
	struct wmq_authz_stats st;
	wmq_authz_get_stats(z[0], &st);
	ASSERT_EQ(st.shared_rules, 5); /* 2 for all + 3 for ops, none with %u/%c */
	ASSERT_EQ(st.rules, 9);         /* + 4 substituted */
	/* olga's group rights, oscar's the same, alice's own rules are hers */
	ASSERT(wmq_authz_check(z[1], p, WMQ_ACT_RECEIVE, B("metrics/cpu"), 0, NULL));
	ASSERT(!wmq_authz_check(z[3], p, WMQ_ACT_PUBLISH, B("sensors/alice/x"), 0, NULL));
	ASSERT(wmq_authz_check(z[2], p, WMQ_ACT_PUBLISH, B("sensors/alice/x"), 0, NULL));
	for (size_t i = 0; i < WMQ_ARRAY_LEN(who); i++)
		wmq_authz_free(z[i]);
	wmq_policy_unref(p);
}

struct worker_arg {
	struct wmq_policy *p;
	int id, errors;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	const char *g[] = {"ops"};
	for (int i = 0; i < 200; i++) {
		char user[32];
		snprintf(user, sizeof user, "u%d_%d", w->id, i);
		struct wmq_principal pr = {user, user, g, (size_t)(i & 1), NULL, 0};
		struct wmq_authz *z = NULL;
		if (wmq_authz_new(&pr, 4, &z) != WMQ_OK) {
			w->errors++;
			continue;
		}
		char topic[64];
		snprintf(topic, sizeof topic, "users/%s/x", user);
		w->errors += !wmq_authz_check(z, w->p, WMQ_ACT_PUBLISH, B(topic), 0, NULL);
		w->errors += wmq_authz_check(z, w->p, WMQ_ACT_RECEIVE, B("metrics/cpu"), 0, NULL) != (bool)(i & 1);
		wmq_authz_free(z);
	}
	return NULL;
}

/* Connections on several workers compile against one published policy. */
TEST(concurrent_compilation)
{
	struct wmq_policy *p = load(POLICY);
	pthread_t th[4];
	struct worker_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct worker_arg){p, i, 0};
		ASSERT_EQ(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(pthread_join(th[i], NULL), 0);
		ASSERT_EQ(args[i].errors, 0);
	}
	ASSERT_EQ(wmq_policy_shared_count_int(p), 2);
	wmq_policy_unref(p);
}

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* 10 000 rules applying to one principal, 100 000 decisions. Prints the
 * time; asserts only correctness. */
TEST(perf_10k_rules)
{
	struct timespec t0, t1, t2, t3, t4, t5, t6;
	struct wmq_policy *p = NULL;
	ASSERT_EQ(wmq_policy_new(1, &p), WMQ_OK);
	char filter[96];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 10000; i++) {
		struct wmq_policy_rule_spec s = {.actions = WMQ_ACT_ALL, .subject = WMQ_SUBJ_GROUP,
						 .subject_name = "fleet", .filter = filter, .subst = true, .max_qos = -1};
		switch (i % 4) {
		case 0:
			snprintf(filter, sizeof filter, "fleet/%d/+/telemetry", i / 4);
			s.effect = WMQ_POLICY_ALLOW;
			break;
		case 1:
			snprintf(filter, sizeof filter, "fleet/%d/locked/telemetry", i / 4);
			s.effect = WMQ_POLICY_DENY;
			break;
		case 2:
			snprintf(filter, sizeof filter, "site/%d/#", i / 4);
			s.effect = WMQ_POLICY_ALLOW;
			s.actions = WMQ_ACT_BIT(WMQ_ACT_RECEIVE) | WMQ_ACT_BIT(WMQ_ACT_SUBSCRIBE);
			break;
		default:
			snprintf(filter, sizeof filter, "devices/%%c/%d/#", i / 4);
			s.effect = WMQ_POLICY_ALLOW;
			break;
		}
		ASSERT_EQ(wmq_policy_add(p, &s, NULL), WMQ_OK);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	const char *g[] = {"fleet"};
	struct wmq_principal pr = {"truck", "t1", g, 1, NULL, 0};
	struct wmq_authz *z = NULL, *zc = NULL;
	ASSERT_EQ(wmq_authz_new(&pr, 0, &z), WMQ_OK);
	ASSERT_EQ(wmq_authz_new(&pr, 4096, &zc), WMQ_OK);
	ASSERT(wmq_authz_check(z, p, WMQ_ACT_PUBLISH, B("fleet/1/x/telemetry"), 0, NULL)); /* compiles */
	clock_gettime(CLOCK_MONOTONIC, &t6);
	struct timespec t7, t8;
	clock_gettime(CLOCK_MONOTONIC, &t7);
	ASSERT(wmq_authz_check(zc, p, WMQ_ACT_PUBLISH, B("fleet/1/x/telemetry"), 0, NULL)); /* shares the trie */
	clock_gettime(CLOCK_MONOTONIC, &t8);
	/* topics are generated before the clock starts */
	enum { NDEC = 100000 };
	static char topics[NDEC][40];
	static bool expect[NDEC];
	unsigned seed = 12345, allowed = 0;
	for (int i = 0; i < NDEC; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned k = (seed >> 8) % 2600, kind = (seed >> 4) % 3;
		snprintf(topics[i], sizeof topics[i], "fleet/%u/%s/telemetry", k,
			 kind == 0 ? "locked" : kind == 1 ? "a" : "b");
		expect[i] = k < 2500 && kind != 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	for (int i = 0; i < NDEC; i++) {
		bool ok = wmq_authz_check(z, p, WMQ_ACT_PUBLISH, B(topics[i]), 0, NULL);
		if (ok != expect[i])
			TEST_FAIL_("decision %d (%s): %d", i, topics[i], ok);
		allowed += ok;
	}
	clock_gettime(CLOCK_MONOTONIC, &t3);
	/* the same with the per-connection cache (a device publishes to a few
	 * topics over and over) */
	for (int i = 0; i < NDEC; i++)
		ASSERT(wmq_authz_check(zc, p, WMQ_ACT_PUBLISH, B(topics[(i % 16) * 3 + 1]), 0, NULL) ==
		       expect[(i % 16) * 3 + 1]);
	clock_gettime(CLOCK_MONOTONIC, &t4);
	/* subscription checks against the same trie */
	ASSERT(!wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("fleet/#"), 0, NULL));
	ASSERT(!wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("fleet/+/+/telemetry"), 0, NULL));
	ASSERT(wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("fleet/7/+/telemetry"), 0, NULL) == false);
	ASSERT(wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("fleet/7/a/telemetry"), 0, NULL));
	ASSERT(wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("site/7/#"), 0, NULL));
	ASSERT(!wmq_authz_check(z, p, WMQ_ACT_SUBSCRIBE, B("site/#"), 0, NULL));
	ASSERT(wmq_authz_check(z, p, WMQ_ACT_PUBLISH, B("devices/t1/42/x"), 0, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t5);
	struct wmq_authz_stats st;
	wmq_authz_get_stats(z, &st);
	ASSERT_EQ(st.rules, 10000);
	printf("  10000 rules: add %.1f ms, compile+first check %.1f ms (next connection with the same groups: "
	       "%.3f ms); 100000 decisions %.1f ms uncached "
	       "(%.0f ns each, %u allowed), %.1f ms cached (%.0f ns each); 7 subscription checks %.1f ms\n",
	       secs(&t0, &t1) * 1e3, secs(&t1, &t6) * 1e3, secs(&t7, &t8) * 1e3, secs(&t2, &t3) * 1e3, secs(&t2, &t3) * 1e9 / NDEC,
	       allowed, secs(&t3, &t4) * 1e3, secs(&t3, &t4) * 1e9 / NDEC, secs(&t4, &t5) * 1e3);
	wmq_authz_free(z);
	wmq_authz_free(zc);
	wmq_policy_unref(p);
}

static const struct wmq_test tests[] = {
	{"decision_table", decision_table},
	{"specificity_order", specificity_order},
	{"empty_and_bad_policies", empty_and_bad_policies},
	{"format_roundtrip", format_roundtrip},
	{"revocation_by_version", revocation_by_version},
	{"explain_output", explain_output},
	{"mosquitto_acl_import", mosquitto_acl_import},
	{"oom_never_allows", oom_never_allows},
	{"shared_compilation", shared_compilation},
	{"concurrent_compilation", concurrent_compilation},
	{"perf_10k_rules", perf_10k_rules},
};
WMQ_TEST_MAIN(tests)
