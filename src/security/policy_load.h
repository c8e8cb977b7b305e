/* SPDX-License-Identifier: MIT
 * policy_load.h - identity-store rows <-> policy-engine rules: load the
 * whole policy of a database, check a rule before it is stored, print a
 * rule in the native syntax. Used by the broker (start-up, SIGHUP) and by
 * wardmq_ctl.
 *
 * Fail closed: a row the engine refuses fails the whole load; the caller
 * must not fall back to an empty or partial policy.
 * Threading: reentrant (a store handle is used by one call at a time).
 * Ownership: specs and rows borrow the strings of what they were made
 * from; a loaded policy belongs to the caller (wmq_policy_unref). */
#ifndef WMQ_SECURITY_POLICY_LOAD_H
#define WMQ_SECURITY_POLICY_LOAD_H
#include <stddef.h>

#include "common/err.h"
#include "security/policy.h"
#include "store/identity.h"

/* A store row as a policy rule spec (strings borrowed from |r|). */
void wmq_policy_rule_from_store(const struct wmq_store_id_rule *r, struct wmq_policy_rule_spec *spec);
/* A policy rule as a store row (strings borrowed from |pr|). */
void wmq_policy_rule_to_store(const struct wmq_policy_rule *pr, struct wmq_store_id_rule *r);
/* Check a rule as wmq_policy_add would take it; "" or why not into |why|. */
WMQ_MUST_USE wmq_err wmq_policy_rule_check(const struct wmq_store_id_rule *r, char *why, size_t cap);
/* Every rule of the database as a policy with the database's policy
 * version (a policy without rules when the database has none: the caller
 * decides what that means; wmq_policy_count() tells). A row the engine
 * refuses fails the load (fail closed) with "rule #N: why" in |why|.
 * Ownership: *out to the caller (wmq_policy_unref). */
WMQ_MUST_USE wmq_err wmq_policy_load(struct wmq_store_id *h, struct wmq_policy **out, char *why, size_t cap);
/* One rule in the native policy syntax ("allow publish user:alice a/#"). */
void wmq_policy_rule_text(const struct wmq_store_id_rule *r, char *out, size_t cap);

#endif
