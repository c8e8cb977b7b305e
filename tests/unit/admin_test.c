/* SPDX-License-Identifier: MIT
 * admin_test.c - the admin module (src/admin): the wire codec round-trips
 * every request field and a reply with warnings, text and a value tree
 * (table columns included); the decoders refuse truncation, trailing
 * bytes, repeated tags, unknown versions/ops/tags, NUL bytes in strings,
 * over-deep trees and out-of-range values, each with a message;
 * ctl_req_check() refuses missing fields and bad kinds; ctl_op_changes()
 * maps ops to what they change. */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "common/alloc.h"
#include "test.h"

static const char *const COLS[] = {"name", "n", NULL};

/* Encode |q| and decode the frame body into |out|. */
static void req_roundtrip(const struct ctl_req *q, struct ctl_wire_req *out)
{
	struct wmq_dbuf d;
	char why[256];
	wmq_dbuf_init(&d, (size_t)CTL_WIRE_MAX + 4);
	ASSERT_EQ(ctl_wire_req_encode(q, &d), WMQ_OK);
	ASSERT(d.len > 4);
	ASSERT_EQ((size_t)((uint32_t)d.p[0] << 24 | (uint32_t)d.p[1] << 16 | (uint32_t)d.p[2] << 8 | d.p[3]),
		  d.len - 4);
	wmq_err e = ctl_wire_req_decode(d.p + 4, d.len - 4, out, why, sizeof why);
	wmq_dbuf_cleanup(&d);
	if (e != WMQ_OK)
		TEST_FAIL_("decode: %s", why);
}

TEST(request_roundtrip)
{
	struct wmq_audit_field f[] = {
		{.key = "users", .num = 3, .is_num = true},
		{.key = "file", .str = WMQ_BYTES_STR("pw.txt")},
		{.key = "none"},
	};
	static const uint8_t key[] = {0, 1, 2, 0xff};
	struct ctl_req q = {
		.op = CTL_OP_PSK_ADD, .a = "dev-1", .b = "alice", .kind = -1, .flag = true,
		.verifier = "$argon2id$x", .secret = "pw\0with nul", .secret_len = 11, .id = 1ull << 40,
		.expires_at = -5, .reason = "r", .key = key, .key_len = sizeof key, .action = 2,
		.topic = "a/b", .qos = 2, .audit_event = "import.mosquitto", .audit_fields = f,
		.naudit_fields = 3,
	};
	q.rule = (struct wmq_store_id_rule){.kind = WMQ_STORE_ID_ROLE, .name = "ops", .allow = true,
					    .actions = 5, .filter = "x/%u/#", .subst = true, .max_qos = -1,
					    .priority = -7, .origin = "acl:3"};
	struct ctl_wire_req r;
	req_roundtrip(&q, &r);
	const struct ctl_req *p = &r.req;
	ASSERT_EQ(p->op, CTL_OP_PSK_ADD);
	ASSERT_STREQ(p->a, "dev-1");
	ASSERT_STREQ(p->b, "alice");
	ASSERT_EQ(p->kind, -1);
	ASSERT(p->flag);
	ASSERT_STREQ(p->verifier, "$argon2id$x");
	ASSERT_EQ(p->secret_len, 11u);
	ASSERT_MEMEQ(p->secret, "pw\0with nul", 11);
	ASSERT_EQ(p->id, 1ull << 40);
	ASSERT_EQ(p->expires_at, -5);
	ASSERT_STREQ(p->reason, "r");
	ASSERT_EQ(p->key_len, sizeof key);
	ASSERT_MEMEQ(p->key, key, sizeof key);
	ASSERT_EQ(p->action, 2);
	ASSERT_STREQ(p->topic, "a/b");
	ASSERT_EQ(p->qos, 2);
	ASSERT_EQ(p->rule.kind, WMQ_STORE_ID_ROLE);
	ASSERT_STREQ(p->rule.name, "ops");
	ASSERT(p->rule.allow && p->rule.subst);
	ASSERT_EQ(p->rule.actions, 5u);
	ASSERT_STREQ(p->rule.filter, "x/%u/#");
	ASSERT_EQ(p->rule.max_qos, -1);
	ASSERT_EQ(p->rule.priority, -7);
	ASSERT_STREQ(p->rule.origin, "acl:3");
	ASSERT_STREQ(p->audit_event, "import.mosquitto");
	ASSERT_EQ(p->naudit_fields, 3u);
	ASSERT(p->audit_fields[0].is_num && p->audit_fields[0].num == 3);
	ASSERT(wmq_bytes_eq_cstr(p->audit_fields[1].str, "pw.txt"));
	ASSERT(!p->audit_fields[2].is_num && p->audit_fields[2].str.p == NULL);
	ctl_wire_req_cleanup(&r);

	/* an empty request: only the op */
	struct ctl_req e = {.op = CTL_OP_USER_LIST};
	req_roundtrip(&e, &r);
	ASSERT_EQ(r.req.op, CTL_OP_USER_LIST);
	ASSERT(!r.req.a && !r.req.secret && !r.req.rule.filter);
	ctl_wire_req_cleanup(&r);
}

TEST(reply_roundtrip)
{
	struct ctl_res res, out;
	struct wmq_dbuf d;
	char why[256];
	ctl_res_init(&res);
	ctl_res_init(&out);
	ctl_res_msg(&res, CTL_EXIT_NO, "deny: %s", "publish");
	ctl_res_warn(&res, "w1");
	ctl_res_warn(&res, "w2");
	res.text = wmq_strdup("line 1\nline 2\n");
	res.data = ctl_obj();
	struct ctl_val *arr = ctl_arr(), *row = ctl_obj();
	ctl_arr_columns(arr, COLS);
	ctl_set_str(row, "name", "alice");
	ctl_set_int(row, "n", -9);
	ctl_set_bool(row, "b", true);
	ctl_set_str(row, "nothing", NULL);
	ctl_push(arr, row);
	ctl_set(res.data, "users", arr);
	ctl_set(res.data, "empty", ctl_arr());
	wmq_dbuf_init(&d, (size_t)CTL_WIRE_MAX + 4);
	ASSERT_EQ(ctl_wire_res_encode(&res, &d), WMQ_OK);
	if (ctl_wire_res_decode(d.p + 4, d.len - 4, &out, why, sizeof why) != WMQ_OK)
		TEST_FAIL_("decode: %s", why);
	ASSERT_EQ(out.status, CTL_EXIT_NO);
	ASSERT_STREQ(out.msg, "deny: publish");
	ASSERT_EQ(out.nwarn, 2u);
	ASSERT_STREQ(out.warn[1], "w2");
	ASSERT_STREQ(out.text, "line 1\nline 2\n");
	const struct ctl_val *u = ctl_get(out.data, "users");
	ASSERT(u && u->t == CTL_V_ARR && u->n == 1);
	ASSERT(u->cols && !strcmp(u->cols[0], "name") && !strcmp(u->cols[1], "n") && !u->cols[2]);
	ASSERT_STREQ(ctl_get(u->items[0], "name")->s, "alice");
	ASSERT_EQ(ctl_get(u->items[0], "n")->i, -9);
	ASSERT(ctl_get(u->items[0], "b")->b);
	ASSERT_EQ(ctl_get(u->items[0], "nothing")->t, CTL_V_NULL);
	ASSERT(ctl_get(out.data, "empty")->cols == NULL);
	wmq_dbuf_cleanup(&d);
	ctl_res_cleanup(&res);
	ctl_res_cleanup(&out);
}

/* Decoding |body| as a request fails with a message containing |words|. */
static void req_bad(const uint8_t *body, size_t len, const char *words)
{
	struct ctl_wire_req r;
	char why[256];
	ASSERT_NE(ctl_wire_req_decode(body, len, &r, why, sizeof why), WMQ_OK);
	if (!strstr(why, words))
		TEST_FAIL_("\"%s\" does not say \"%s\"", why, words);
	ctl_wire_req_cleanup(&r);
}

TEST(request_decoder_refuses)
{
	req_bad((const uint8_t *)"", 0, "truncated version");
	req_bad((const uint8_t *)"\x02\x00", 2, "protocol version 2");
	req_bad((const uint8_t *)"\x01\xee", 2, "unknown operation");
	req_bad((const uint8_t *)"\x01\x00\x63", 3, "unknown field tag 99");
	req_bad((const uint8_t *)"\x01\x00\x01\x00\x00\x00\x05" "ab", 9, "truncated field a");
	req_bad((const uint8_t *)"\x01\x00\x01\x00\x00\x00\x03" "a\0b", 10, "NUL byte");
	req_bad((const uint8_t *)"\x01\x00\x01\x00\x00\x00\x01" "a" "\x01\x00\x00\x00\x01" "b", 15, "repeated");
	req_bad((const uint8_t *)"\x01\x00\x04\x02", 4, "not a boolean");
	req_bad((const uint8_t *)"\x01\x00\x0e\x03", 4, "qos 3");
	req_bad((const uint8_t *)"\x01\x00\x03\x00\x00\x01\x00", 7, "kind 256");
	req_bad((const uint8_t *)"\x01\x00\x01\x7f\xff\xff\xff", 7, "too long");
	/* a rule with no actions */
	req_bad((const uint8_t *)"\x01\x14\x07\x00\x00\x01\x00", 7, "actions 0");
}

TEST(reply_decoder_refuses)
{
	struct ctl_res r;
	char why[256];
	uint8_t deep[256];
	size_t n = 0;
	/* version, status, empty message, no warnings, data: 40 nested arrays */
	memcpy(deep, "\x01\x00\x00\x00\x00\x00\x00\x01", 8);
	n = 8;
	for (int i = 0; i < 40; i++) {
		memcpy(deep + n, "\x04\x00\x00\x00\x01\x00", 6);
		n += 6;
	}
	ctl_res_init(&r);
	ASSERT_NE(ctl_wire_res_decode(deep, n, &r, why, sizeof why), WMQ_OK);
	ASSERT(strstr(why, "deeper") != NULL);
	ctl_res_cleanup(&r);
	ctl_res_init(&r);
	ASSERT_NE(ctl_wire_res_decode((const uint8_t *)"\x01\x09\x00\x00\x00\x00\x00\x00\x00", 9, &r, why,
				      sizeof why), WMQ_OK);
	ASSERT(strstr(why, "status 9") != NULL);
	ctl_res_cleanup(&r);
	ctl_res_init(&r);
	ASSERT_NE(ctl_wire_res_decode((const uint8_t *)"\x01\x00\x00\x00\x00\x00\x00\x00\x00\x07", 10, &r, why,
				      sizeof why), WMQ_OK);
	ASSERT(strstr(why, "after the reply") != NULL);
	ctl_res_cleanup(&r);
}

TEST(request_check)
{
	char why[200];
	struct ctl_req q = {.op = CTL_OP_USER_ADD};
	ASSERT_EQ(ctl_req_check(&q, why, sizeof why), WMQ_ERR_INVAL);
	ASSERT(strstr(why, "user.add needs a name") != NULL);
	q.a = "alice";
	ASSERT_EQ(ctl_req_check(&q, why, sizeof why), WMQ_OK);
	struct ctl_req g = {.op = CTL_OP_ROLE_GRANT, .a = "r", .b = "x", .kind = 5};
	ASSERT_EQ(ctl_req_check(&g, why, sizeof why), WMQ_ERR_INVAL);
	g.kind = WMQ_STORE_ID_GRANT_GROUP;
	ASSERT_EQ(ctl_req_check(&g, why, sizeof why), WMQ_OK);
	struct ctl_req b = {.op = CTL_OP_BAN_ADD, .a = "10.0.0.300", .kind = WMQ_STORE_ID_BAN_ADDRESS};
	ASSERT_EQ(ctl_req_check(&b, why, sizeof why), WMQ_ERR_INVAL);
	b.a = "10.0.0.0/8";
	ASSERT_EQ(ctl_req_check(&b, why, sizeof why), WMQ_OK);
	/* a lock-out is only deleted, of one address (no range), with an
	 * optional username */
	b.kind = CTL_BAN_LOCKOUT;
	ASSERT_EQ(ctl_req_check(&b, why, sizeof why), WMQ_ERR_INVAL);
	ASSERT(strstr(why, "ban kind") != NULL);
	struct ctl_req lo = {.op = CTL_OP_BAN_DEL, .a = "10.0.0.0/8", .kind = CTL_BAN_LOCKOUT};
	ASSERT_EQ(ctl_req_check(&lo, why, sizeof why), WMQ_ERR_INVAL);
	ASSERT(strstr(why, "lock-out address") != NULL);
	lo.a = "2001:db8::1";
	ASSERT_EQ(ctl_req_check(&lo, why, sizeof why), WMQ_OK);
	lo.b = "alice";
	ASSERT_EQ(ctl_req_check(&lo, why, sizeof why), WMQ_OK);
	lo.kind = CTL_BAN_LOCKOUT + 1;
	ASSERT_EQ(ctl_req_check(&lo, why, sizeof why), WMQ_ERR_INVAL);
	struct ctl_req c = {.op = CTL_OP_USER_CHECK, .a = "alice"};
	ASSERT_EQ(ctl_req_check(&c, why, sizeof why), WMQ_ERR_INVAL);
	struct ctl_req x = {.op = CTL_OP_ACL_EXPLAIN, .b = "c", .topic = "t", .action = 9};
	ASSERT_EQ(ctl_req_check(&x, why, sizeof why), WMQ_ERR_INVAL);
	struct ctl_req bad = {.op = CTL_OP__COUNT};
	ASSERT_EQ(ctl_req_check(&bad, why, sizeof why), WMQ_ERR_INVAL);
}

TEST(op_changes)
{
	ASSERT_EQ(ctl_op_changes(CTL_OP_USER_PASSWD), (unsigned)CTL_CHG_USERS);
	ASSERT_EQ(ctl_op_changes(CTL_OP_CLIENT_BIND), (unsigned)CTL_CHG_USERS);
	ASSERT_EQ(ctl_op_changes(CTL_OP_RULE_ADD), (unsigned)CTL_CHG_POLICY);
	ASSERT_EQ(ctl_op_changes(CTL_OP_MEMBER_DEL), (unsigned)CTL_CHG_POLICY);
	ASSERT_EQ(ctl_op_changes(CTL_OP_BAN_PURGE), (unsigned)CTL_CHG_BANS);
	ASSERT_EQ(ctl_op_changes(CTL_OP_PSK_DEL), (unsigned)CTL_CHG_PSK);
	/* read-only requests and transaction markers change nothing themselves */
	static const enum ctl_op ro[] = {CTL_OP_USER_LIST, CTL_OP_USER_SHOW, CTL_OP_USER_CHECK, CTL_OP_RULE_LIST,
					 CTL_OP_ACL_EXPLAIN, CTL_OP_POLICY_VERSION, CTL_OP_TXN_COMMIT};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(ro); i++)
		ASSERT_EQ(ctl_op_changes(ro[i]), 0u);
	for (int op = 0; op < CTL_OP__COUNT; op++)
		ASSERT(strcmp(ctl_op_name(op), "?") != 0); /* every op has a name */
	ASSERT_STREQ(ctl_op_name(CTL_OP__COUNT), "?");
}

static const struct wmq_test tests[] = {
	{"request_roundtrip", request_roundtrip},
	{"reply_roundtrip", reply_roundtrip},
	{"request_decoder_refuses", request_decoder_refuses},
	{"reply_decoder_refuses", reply_decoder_refuses},
	{"request_check", request_check},
	{"op_changes", op_changes},
};

WMQ_TEST_MAIN(tests)
