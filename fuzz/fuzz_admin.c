/* SPDX-License-Identifier: MIT
 * fuzz_admin.c - libFuzzer target for the admin socket's wire codec
 * (src/admin/wire.c), the bytes a local process sends to the broker.
 *
 * Input: one request body (the frame without its u32 length). The target
 * decodes it as a request; when that succeeds it encodes the request again
 * and checks that the new frame decodes to the same request (op, strings,
 * numbers, rule, audit fields). The same bytes are also decoded as a reply
 * (what wardmq_ctl reads), re-encoded and decoded again, which must agree
 * on status, message and the rendering-relevant shape of the value tree.
 * A decoded request also goes through ctl_req_check(), the executor's
 * guard against missing fields and out-of-range enumerations.
 * Every path must end without a leak (LSan) or undefined behaviour. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "fuzz.h"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool val_eq(const struct ctl_val *a, const struct ctl_val *b)
{
	if (!a || !b)
		return a == b;
	if (a->t != b->t || a->n != b->n || a->i != b->i || a->b != b->b || !str_eq(a->s, b->s))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->keys && !str_eq(a->keys[i], b->keys[i]))
			return false;
		if (!val_eq(a->items[i], b->items[i]))
			return false;
	}
	return true;
}

static void check_req(const uint8_t *data, size_t size)
{
	struct ctl_wire_req r1, r2;
	char why[256];
	if (ctl_wire_req_decode(data, size, &r1, why, sizeof why) != WMQ_OK) {
		CHECK(why[0] != '\0'); /* every failure says why */
		ctl_wire_req_cleanup(&r1);
		return;
	}
	/* the executor's first check must cope with whatever decodes */
	char chk[256];
	if (ctl_req_check(&r1.req, chk, sizeof chk) != WMQ_OK)
		CHECK(chk[0] != '\0');
	struct wmq_dbuf d;
	wmq_dbuf_init(&d, (size_t)CTL_WIRE_MAX + 4);
	if (ctl_wire_req_encode(&r1.req, &d) == WMQ_OK) {
		CHECK(d.len >= 4);
		CHECK(ctl_wire_req_decode(d.p + 4, d.len - 4, &r2, why, sizeof why) == WMQ_OK);
		const struct ctl_req *a = &r1.req, *b = &r2.req;
		CHECK(a->op == b->op && str_eq(a->a, b->a) && str_eq(a->b, b->b) && a->kind == b->kind);
		CHECK(a->flag == b->flag && str_eq(a->verifier, b->verifier) && a->id == b->id);
		CHECK(a->expires_at == b->expires_at && str_eq(a->reason, b->reason) && str_eq(a->topic, b->topic));
		CHECK(a->secret_len == b->secret_len && a->key_len == b->key_len);
		CHECK(a->secret_len == 0 || memcmp(a->secret, b->secret, a->secret_len) == 0);
		CHECK(a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0);
		CHECK(str_eq(a->audit_event, b->audit_event) && a->naudit_fields == b->naudit_fields);
		if (a->op == CTL_OP_RULE_ADD) {
			CHECK(a->rule.kind == b->rule.kind && str_eq(a->rule.name, b->rule.name));
			CHECK(str_eq(a->rule.filter, b->rule.filter) && a->rule.max_qos == b->rule.max_qos);
			CHECK(a->rule.priority == b->rule.priority && a->rule.actions == b->rule.actions);
		}
		if (a->op == CTL_OP_ACL_EXPLAIN)
			CHECK(a->action == b->action && a->qos == b->qos);
		ctl_wire_req_cleanup(&r2);
	}
	wmq_dbuf_cleanup(&d);
	ctl_wire_req_cleanup(&r1);
}

static void check_res(const uint8_t *data, size_t size)
{
	struct ctl_res r1, r2;
	char why[256];
	ctl_res_init(&r1);
	if (ctl_wire_res_decode(data, size, &r1, why, sizeof why) == WMQ_OK) {
		struct wmq_dbuf d;
		wmq_dbuf_init(&d, (size_t)CTL_WIRE_MAX + 4);
		if (ctl_wire_res_encode(&r1, &d) == WMQ_OK) {
			ctl_res_init(&r2);
			CHECK(ctl_wire_res_decode(d.p + 4, d.len - 4, &r2, why, sizeof why) == WMQ_OK);
			CHECK(r1.status == r2.status && strcmp(r1.msg, r2.msg) == 0 && r1.nwarn == r2.nwarn);
			CHECK(val_eq(r1.data, r2.data) && str_eq(r1.text, r2.text));
			ctl_res_cleanup(&r2);
		}
		wmq_dbuf_cleanup(&d);
	}
	ctl_res_cleanup(&r1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CTL_WIRE_MAX)
		return 0;
	check_req(data, size);
	check_res(data, size);
	return 0;
}
