/* SPDX-License-Identifier: MIT
 * fuzz_aclimport.c - libFuzzer target for the mosquitto acl_file importer.
 * Role: feeds arbitrary bytes to wmq_policy_import_mosquitto(). Checks the
 * all-or-nothing contract (a failed import adds no rule; a successful one
 * adds exactly stats.rules rules, at least one, with lines >= rules) and
 * that every imported rule formats to native text that wmq_policy_parse()
 * accepts. Any difference aborts.
 * Threading: single-threaded. Ownership: everything is freed per input.
 * Corpus: fuzz/corpus/aclimport/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "security/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_report(void *arg, const char *where_and_why)
{
	size_t *n = arg;
	if (!where_and_why || !where_and_why[0])
		abort();
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wmq_policy *p = NULL;
	struct wmq_policy_import_stats st;
	size_t reports = 0;
	if (wmq_policy_new(1, &p) != WMQ_OK)
		abort();
	memset(&st, 0, sizeof st);
	wmq_err rc = wmq_policy_import_mosquitto(p, (const char *)data, size, "fuzz.acl", count_report, &reports,
						 &st);
	if (rc != WMQ_OK) {
		if (wmq_policy_count(p) != 0) {
			fprintf(stderr, "failed import left %zu rules\n", wmq_policy_count(p));
			abort();
		}
		wmq_policy_unref(p);
		return 0;
	}
	if (wmq_policy_count(p) != st.rules || st.rules == 0 || reports != st.skipped) {
		fprintf(stderr, "stats: count %zu rules %zu skipped %zu reports %zu\n", wmq_policy_count(p),
			st.rules, st.skipped, reports);
		abort();
	}
	char line[8192], err[512];
	struct wmq_policy *q = NULL;
	if (wmq_policy_new(2, &q) != WMQ_OK)
		abort();
	for (size_t i = 0; i < wmq_policy_count(p); i++) {
		if (wmq_policy_rule_format(wmq_policy_rule_at(p, i), line, sizeof line) != WMQ_OK)
			abort();
		if (wmq_policy_parse(q, line, strlen(line), "formatted", err, sizeof err) != WMQ_OK) {
			fprintf(stderr, "imported rule does not parse as native: %s\n%s\n", err, line);
			abort();
		}
	}
	if (wmq_policy_count(q) != wmq_policy_count(p))
		abort();
	wmq_policy_unref(q);
	wmq_policy_unref(p);
	return 0;
}
