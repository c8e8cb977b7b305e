/* SPDX-License-Identifier: MIT
 * policy.h - the authorization engine: rules, precedence, %u/%c
 * substitution, per-principal compilation into a topic trie, a
 * per-connection decision cache, subscription containment checks, the
 * decision explainer, and the native and mosquitto ACL text formats.
 *
 * Model (docs/SECURITY.md has the full text and examples):
 *   rule      = effect (allow|deny) x actions (publish, subscribe, receive,
 *               retain) x subject (all, anonymous, user, group, role) x topic
 *               filter (with %u / %c) [x max_qos] [x priority]
 *   principal = username (or anonymous), client id, groups, roles
 * Precedence among the rules that apply to the principal and match the topic:
 *   1. higher priority wins (default 0);
 *   2. at equal priority the most specific filter wins: filters are compared
 *      level by level from the left, a literal level beats '+', '+' beats
 *      "filter ends here", which beats '#';
 *   3. at equal priority and specificity, deny beats allow (and of two
 *      allows the lower max_qos wins).
 * No matching rule: deny. A policy with no rules is an error (fail closed,
 * CVE-2018-12550); the broker must refuse to start with it.
 * '$' topics: a wildcard in the first level of a rule never matches a topic
 * beginning with '$' [MQTT-4.7.2-1], so "#" does not grant $SYS; rules for
 * $-topics name them ("$SYS/#").
 * Substitution: %u = username, %c = client id, only in rules marked subst.
 * An identity that is empty, contains '+', '#' or '/', or starts with '$'
 * is never substituted (CVE-2017-7650): an allow rule needing it is
 * dropped for that principal, a deny rule is widened to "<levels before the
 * substituted one>/#", so substitution can never widen an allow. An
 * anonymous principal drops every %u rule; an empty client id every %c rule.
 * Actions: publish is checked on PUBLISH (and for the will, at CONNECT and
 * when sent); retain additionally for a PUBLISH with RETAIN=1; subscribe on
 * SUBSCRIBE (the filter, or f in "$share/g/f"); receive on every delivery
 * (live, queued, retained). max_qos caps: publish/retain above the cap is
 * denied; subscribe/receive is granted at min(requested, cap).
 * Subscribe: a filter is allowed only if every topic it can match is
 * allowed for subscribe ("a/+" granted by rule "a/+" or "a/#"; "a/#" not
 * granted by "a/+"); the granted QoS is the lowest cap over those topics.
 *
 * Threading and ownership:
 *   struct wmq_policy is built by one thread (new/add/parse/import), then
 *   published and from then on immutable: any number of threads may read it
 *   (its only mutable part, a cache of compiled tries shared by principals
 *   with the same groups and roles, has its own mutex).
 *   It is reference-counted (atomic); a change means building a new policy
 *   with a higher version and swapping it in; connections notice the new
 *   version at their next check and recompile.
 *   struct wmq_authz belongs to one connection (one worker thread); it holds
 *   a reference to the policy it was compiled from.
 *   Decisions point at rules (borrowed, valid while the policy lives). */
#ifndef WMQ_SECURITY_POLICY_H
#define WMQ_SECURITY_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

enum wmq_policy_action {
	WMQ_ACT_PUBLISH = 0,
	WMQ_ACT_SUBSCRIBE = 1,
	WMQ_ACT_RECEIVE = 2,
	WMQ_ACT_RETAIN = 3,
	WMQ_ACT__COUNT
};
#define WMQ_ACT_BIT(a) (1u << (a))
#define WMQ_ACT_ALL 0xfu

enum wmq_policy_effect {
	WMQ_POLICY_DENY = 0,
	WMQ_POLICY_ALLOW = 1,
};

enum wmq_policy_subject {
	WMQ_SUBJ_ALL = 0,       /* every principal, anonymous included */
	WMQ_SUBJ_ANONYMOUS = 1, /* principals without a username */
	WMQ_SUBJ_USER = 2,
	WMQ_SUBJ_GROUP = 3,
	WMQ_SUBJ_ROLE = 4,
};

/* Levels allowed in a rule filter (bounds the compiled trie's depth). */
#define WMQ_POLICY_MAX_LEVELS 128
/* Work budget of one subscription containment check (see docs). */
#define WMQ_POLICY_SUB_BUDGET 200000

/* Input to wmq_policy_add(); strings are copied. */
struct wmq_policy_rule_spec {
	enum wmq_policy_effect effect;
	unsigned actions;             /* WMQ_ACT_BIT() mask, non-empty */
	enum wmq_policy_subject subject;
	const char *subject_name;     /* USER/GROUP/ROLE: non-empty; else NULL */
	const char *filter;           /* a valid, non-shared topic filter */
	bool subst;                   /* %u and %c are substitutions */
	int max_qos;                  /* -1: no cap; else 0..2 */
	int32_t priority;
	uint64_t id;                  /* caller's id (database row); 0: next free */
	const char *origin;           /* where it came from ("acl.txt:12"), or NULL */
};

/* A rule as stored (read-only for callers). */
struct wmq_policy_rule {
	uint64_t id;
	enum wmq_policy_effect effect;
	unsigned actions;
	enum wmq_policy_subject subject;
	const char *subject_name; /* NULL for ALL / ANONYMOUS */
	const char *filter;
	bool subst;
	int max_qos;
	int32_t priority;
	const char *origin; /* may be NULL */
};

struct wmq_policy; /* opaque */

/* An empty policy with |version| (the broker bumps it for every change). */
WMQ_MUST_USE wmq_err wmq_policy_new(uint64_t version, struct wmq_policy **out);
/* Take / drop a reference; the last unref frees. NULL-safe. */
struct wmq_policy *wmq_policy_ref(struct wmq_policy *p);
void wmq_policy_unref(struct wmq_policy *p);
/* Add a rule (only before the policy is published). INVAL with no change on
 * a bad spec (empty actions, bad filter, '$share' filter, missing subject
 * name, max_qos out of range), LIMIT beyond WMQ_POLICY_MAX_LEVELS levels.
 * *id_out (may be NULL) receives the rule id. */
WMQ_MUST_USE wmq_err wmq_policy_add(struct wmq_policy *p, const struct wmq_policy_rule_spec *spec,
				    uint64_t *id_out);
/* Copy every rule of |p| into a new policy with |version|, except the rule
 * with id |except_id| (0: none) - a building block for "rule del". */
WMQ_MUST_USE wmq_err wmq_policy_clone(const struct wmq_policy *p, uint64_t version, uint64_t except_id,
				      struct wmq_policy **out);
uint64_t wmq_policy_version(const struct wmq_policy *p);
size_t wmq_policy_count(const struct wmq_policy *p);
/* Rule |i| in insertion order (i < count), borrowed. */
const struct wmq_policy_rule *wmq_policy_rule_at(const struct wmq_policy *p, size_t i);
/* INVAL if the policy has no rules (an empty policy is a configuration
 * error, never "allow everything"). */
WMQ_MUST_USE wmq_err wmq_policy_validate(const struct wmq_policy *p);

/* The native text form of |r| (one line, parseable by wmq_policy_parse).
 * LIMIT if cap is too small. */
WMQ_MUST_USE wmq_err wmq_policy_rule_format(const struct wmq_policy_rule *r, char *out, size_t cap);

/* ---- text formats ------------------------------------------------------ */

/* Native policy text, one rule per line:
 *   allow|deny ACTIONS SUBJECT FILTER [qos=0|1|2] [priority=N] [id=N]
 *   ACTIONS  publish,subscribe,receive,retain (comma list) or read
 *            (subscribe,receive), write (publish), all
 *   SUBJECT  all | anonymous | user:NAME | group:NAME | role:NAME
 * Blank lines and lines whose first non-blank character is '#' are
 * comments. A token may be double-quoted ("a b", user:"bob smith") with \"
 * and \\ escapes. %u / %c are substitutions in native rules.
 * All-or-nothing: on the first error nothing is added and |err| gets
 * "source:line: message". An input without any rule is an error. Returns
 * WMQ_OK, INVAL (syntax, empty), LIMIT, NOMEM. */
WMQ_MUST_USE wmq_err wmq_policy_parse(struct wmq_policy *p, const char *text, size_t len, const char *source,
				      char *err, size_t errcap);

/* One message per line that could not be translated: "source:line: why". */
typedef void (*wmq_policy_report_fn)(void *arg, const char *where_and_why);

struct wmq_policy_import_stats {
	size_t lines;   /* lines read */
	size_t rules;   /* rules added */
	size_t skipped; /* directives not translated (each reported) */
};

/* Translate a mosquitto acl_file (mosquitto 2.0 semantics):
 *   user NAME                          following topic lines belong to NAME
 *                                      (topic lines before any user line
 *                                      apply to anonymous clients)
 *   topic [read|write|readwrite|deny] FILTER    literal filter (no %u/%c)
 *   pattern [read|write|readwrite|deny] FILTER  every client, %u/%c
 * read = subscribe+receive, write = publish+retain, readwrite = all four,
 * deny = deny all four. mosquitto checks a user's own lines first (deny
 * before allow) and patterns after (deny before allow); this is reproduced
 * with priorities: user deny 300, user allow 200, pattern deny 100,
 * pattern allow 0. Differences from mosquitto, by design: SUBSCRIBE is
 * checked (mosquitto's acl_file does not); a client whose id/username is
 * unsafe for a pattern loses only the pattern rules rather than all access.
 * Untranslatable lines are reported and skipped; if any of them was a deny
 * line, or no rule results, the import fails with INVAL (fail closed) and
 * nothing is added. */
WMQ_MUST_USE wmq_err wmq_policy_import_mosquitto(struct wmq_policy *p, const char *text, size_t len,
						 const char *source, wmq_policy_report_fn report, void *arg,
						 struct wmq_policy_import_stats *stats);

/* ---- decisions --------------------------------------------------------- */

struct wmq_principal {
	const char *username;  /* NULL = anonymous */
	const char *client_id; /* may be NULL or "" (then %c rules never apply) */
	const char *const *groups;
	size_t ngroups;
	const char *const *roles;
	size_t nroles;
};

enum wmq_policy_reason {
	WMQ_POLICY_BY_RULE = 0,       /* a rule decided (rule != NULL) */
	WMQ_POLICY_BY_DEFAULT = 1,    /* no rule matched: deny */
	WMQ_POLICY_BY_QOS = 2,        /* allowed by rule, but QoS above its max_qos */
	WMQ_POLICY_BY_INVALID = 3,    /* not a valid topic name / filter */
	WMQ_POLICY_BY_COMPLEXITY = 4, /* subscription analysis over budget: deny */
	WMQ_POLICY_BY_ERROR = 5,      /* out of memory while compiling: deny */
};

struct wmq_policy_decision {
	bool allow;
	uint8_t qos;                        /* granted QoS (subscribe/receive), else requested */
	enum wmq_policy_reason reason;
	const struct wmq_policy_rule *rule; /* deciding rule or NULL (borrowed) */
	bool cached;                        /* answered from the decision cache */
};

const char *wmq_policy_reason_str(enum wmq_policy_reason r);
const char *wmq_policy_action_str(enum wmq_policy_action a);

struct wmq_authz; /* opaque, one per connection */

/* Per-connection authorizer for |pr| (copied). |cache_cap| decisions are
 * cached (0: no cache); the cache is dropped when full and whenever the
 * policy version changes. */
WMQ_MUST_USE wmq_err wmq_authz_new(const struct wmq_principal *pr, size_t cache_cap, struct wmq_authz **out);
void wmq_authz_free(struct wmq_authz *z); /* NULL-safe; drops its policy reference */

/* Decide |action| on |topic| (a topic name; for SUBSCRIBE a topic filter,
 * possibly "$share/g/f") at |qos| under |policy| (the broker's current one;
 * NULL behaves like an empty policy: deny). Recompiles when policy or its
 * version differs from the last call. Never fails open: any internal error
 * is a deny with reason BY_ERROR. Returns d->allow. */
bool wmq_authz_check(struct wmq_authz *z, struct wmq_policy *policy, enum wmq_policy_action action,
		     struct wmq_bytes topic, uint8_t qos, struct wmq_policy_decision *d);

struct wmq_authz_stats {
	uint64_t compiles, checks, cache_hits;
	size_t rules;          /* rules compiled for this principal */
	size_t shared_rules;   /* of which in the trie shared with every principal
				* that has the same groups and roles */
	size_t dropped_unsafe; /* allow rules dropped: unsafe identity */
	size_t widened_unsafe; /* deny rules widened: unsafe identity */
};
void wmq_authz_get_stats(const struct wmq_authz *z, struct wmq_authz_stats *st);

/* `wardmq_ctl acl explain`: decide as wmq_authz_check() would, uncached, and
 * write a human-readable account into |out| (always NUL-terminated): the
 * decision, the deciding rule in native syntax with its id and origin, the
 * filter it became after substitution, for a denied subscription a topic
 * the filter can match that is not allowed, and notes about rules dropped
 * for an unsafe identity. Returns WMQ_OK or NOMEM (d is then a deny). */
WMQ_MUST_USE wmq_err wmq_policy_explain(struct wmq_policy *policy, const struct wmq_principal *pr,
					enum wmq_policy_action action, struct wmq_bytes topic, uint8_t qos,
					struct wmq_policy_decision *d, char *out, size_t cap);

#endif
