/* SPDX-License-Identifier: MIT
 * fuzz_policy.c - libFuzzer target for the native policy text parser.
 * Role: feeds arbitrary bytes to wmq_policy_parse(). On success it checks
 * the text round trip: every rule formatted with wmq_policy_rule_format()
 * and the lines parsed again must give the same number of rules, each
 * formatting to the same line (the native form means the same thing).
 * Then a few decisions on fixed topics and filters (publish, subscribe with
 * wildcards and $share, receive on a $SYS topic) for a user principal with
 * groups and roles, and for an anonymous one with an unsafe client id, must
 * not crash, and a decision answered from the cache must equal the first.
 * Any difference aborts.
 * Threading: single-threaded. Ownership: everything is freed per input.
 * Corpus: fuzz/corpus/policy/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *format_all(const struct wmq_policy *p, size_t *len)
{
	char *s = NULL;
	char line[8192];
	FILE *f = open_memstream(&s, len);
	if (!f)
		abort();
	for (size_t i = 0; i < wmq_policy_count(p); i++) {
		if (wmq_policy_rule_format(wmq_policy_rule_at(p, i), line, sizeof line) != WMQ_OK) {
			fprintf(stderr, "rule %zu does not format\n", i);
			abort();
		}
		fprintf(f, "%s\n", line);
	}
	if (fclose(f) != 0)
		abort();
	return s;
}

static void decide(struct wmq_policy *p, const struct wmq_principal *pr)
{
	static const struct {
		enum wmq_policy_action act;
		const char *topic;
	} probes[] = {
		{WMQ_ACT_PUBLISH, "a/b"},
		{WMQ_ACT_PUBLISH, "devices/alice/out"},
		{WMQ_ACT_RETAIN, "devices/c1/in"},
		{WMQ_ACT_RECEIVE, "$SYS/broker/load"},
		{WMQ_ACT_SUBSCRIBE, "a/+/c"},
		{WMQ_ACT_SUBSCRIBE, "#"},
		{WMQ_ACT_SUBSCRIBE, "$share/g/devices/#"},
		{WMQ_ACT_SUBSCRIBE, "+/+/+"},
		{WMQ_ACT_PUBLISH, "bad/#/topic"},
	};
	struct wmq_authz *z = NULL;
	if (wmq_authz_new(pr, 16, &z) != WMQ_OK)
		return;
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		struct wmq_policy_decision d1, d2;
		struct wmq_bytes t = {(const uint8_t *)probes[i].topic, strlen(probes[i].topic)};
		bool a1 = wmq_authz_check(z, p, probes[i].act, t, 2, &d1);
		bool a2 = wmq_authz_check(z, p, probes[i].act, t, 2, &d2);
		if (a1 != a2 || d1.qos != d2.qos || d1.rule != d2.rule) {
			fprintf(stderr, "cached decision differs on %s\n", probes[i].topic);
			abort();
		}
	}
	wmq_authz_free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wmq_policy *a = NULL, *b = NULL;
	char err[512];
	if (wmq_policy_new(1, &a) != WMQ_OK)
		abort();
	if (wmq_policy_parse(a, (const char *)data, size, "fuzz.policy", err, sizeof err) != WMQ_OK) {
		if (wmq_policy_count(a) != 0) { /* all-or-nothing */
			fprintf(stderr, "failed parse left %zu rules\n", wmq_policy_count(a));
			abort();
		}
		wmq_policy_unref(a);
		return 0;
	}
	size_t n1 = 0, n2 = 0;
	char *t1 = format_all(a, &n1);
	if (wmq_policy_new(2, &b) != WMQ_OK)
		abort();
	if (wmq_policy_parse(b, t1, n1, "formatted", err, sizeof err) != WMQ_OK) {
		fprintf(stderr, "formatted policy does not parse: %s\n%s", err, t1);
		abort();
	}
	char *t2 = format_all(b, &n2);
	if (wmq_policy_count(a) != wmq_policy_count(b) || n1 != n2 || memcmp(t1, t2, n1) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n----\n%s", t1, t2);
		abort();
	}
	free(t1);
	free(t2);
	wmq_policy_unref(b);

	static const char *const groups[] = {"ops", "g1"};
	static const char *const roles[] = {"admin"};
	struct wmq_principal user = {"alice", "c1", groups, 2, roles, 1};
	struct wmq_principal anon = {NULL, "+bad/#", NULL, 0, NULL, 0};
	decide(a, &user);
	decide(a, &anon);
	wmq_policy_unref(a);
	return 0;
}
