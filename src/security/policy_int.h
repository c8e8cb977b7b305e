/* SPDX-License-Identifier: MIT
 * policy_int.h - internals shared by policy.c and policy_text.c (and the
 * unit test). Not for other modules. */
#ifndef WMQ_SECURITY_POLICY_INT_H
#define WMQ_SECURITY_POLICY_INT_H
#include <stdbool.h>

#include "security/policy.h"

struct rule_int {
	struct wmq_policy_rule pub; /* first: &pub converts back */
	bool has_u, has_c;          /* subst and the filter contains %u / %c */
	bool id_explicit;           /* the spec named the id */
};

/* A substituted rule of one compiled principal. */
struct crule {
	const struct rule_int *src;
	char *filter; /* after substitution (owned by the compiled trie) */
};

/* Specificity order of two filters (>0: a more specific). */
int wmq_policy_spec_cmp(const char *a, const char *b);
/* Remove the rules added after the first |n| (rollback of a failed merge). */
void wmq_policy_truncate_int(struct wmq_policy *p, size_t n);
/* Number of subject sets whose compiled trie the policy caches. */
size_t wmq_policy_shared_count_int(struct wmq_policy *p);
/* May |id| be substituted for %u / %c? */
bool wmq_policy_identity_safe(const char *id);

#endif
