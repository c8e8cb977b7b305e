/* SPDX-License-Identifier: MIT
 * audit_test.c - audit log: line format and JSON escaping, hash chain across
 * restarts and rotation, tamper detection with the first broken line,
 * torn last line, rate limiting with suppression summaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "security/audit.h"
#include "test.h"
#define SCRATCH_PREFIX "audit"
#include "scratch.h"

#define B(s) wmq_bytes_cstr(s)
#define T0 1714564800000LL /* 2024-05-01T12:00:00.000Z */

/* scratch_path() / scratch_clear(): tests/support/scratch.h */

static char *slurp(const char *path, size_t *len)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "rb");
	ASSERT(f != NULL);
	*len = fread(buf, 1, sizeof buf - 1, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	ASSERT(f != NULL);
	ASSERT_EQ(fwrite(text, 1, len, f), len);
	fclose(f);
}

static struct wmq_audit *open_at(const char *path, uint32_t rate, uint32_t burst)
{
	struct wmq_audit_opts o;
	wmq_audit_opts_default(&o);
	o.path = path;
	o.deny_rate_per_s = rate;
	o.deny_burst = burst;
	struct wmq_audit *a = NULL;
	ASSERT_EQ(wmq_audit_open(&o, &a), WMQ_OK);
	return a;
}

static void deny_pub(struct wmq_audit *a, int64_t t, const char *cid)
{
	struct wmq_audit_field f[] = {{"topic", B("a/b"), 0, false}, {"qos", {NULL, 0}, 1, true}};
	struct wmq_audit_event ev = {.kind = WMQ_AUDIT_AUTHZ, .time_ms = t, .event = "publish",
				     .listener = B("mqtt"), .peer = B("192.0.2.1:5000"), .client_id = B(cid),
				     .username = B("alice"), .mechanism = B("password"), .decision = WMQ_AUDIT_DENY,
				     .reason = "not authorized", .fields = f, .nfields = 2};
	ASSERT_EQ(wmq_audit_write(a, &ev), WMQ_OK);
}

TEST(line_format)
{
	char path[128];
	scratch_path(path, sizeof path, "format.log");
	unlink(path);
	struct wmq_audit *a = open_at(path, 0, 1);
	deny_pub(a, T0 + 5, "c1");
	struct wmq_audit_event admin = {.kind = WMQ_AUDIT_ADMIN, .time_ms = T0 + 6, .event = "user.add",
					.username = B("root"), .reason = "by wardmq_ctl"};
	ASSERT_EQ(wmq_audit_write(a, &admin), WMQ_OK);
	char head[WMQ_AUDIT_HASH_HEX];
	wmq_audit_head(a, head);
	wmq_audit_close(a);
	size_t len;
	char *text = slurp(path, &len);
	static const char want1[] =
		"{\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"seq\":0,"
		"\"time\":\"2024-05-01T12:00:00.005Z\",\"kind\":\"authz\",\"event\":\"publish\",\"listener\":\"mqtt\","
		"\"peer\":\"192.0.2.1:5000\",\"client_id\":\"c1\",\"username\":\"alice\",\"mechanism\":\"password\","
		"\"decision\":\"deny\",\"reason\":\"not authorized\",\"topic\":\"a/b\",\"qos\":1}\n";
	ASSERT(strncmp(text, want1, sizeof want1 - 1) == 0);
	const char *l2 = text + sizeof want1 - 1;
	static const char want2[] = ",\"seq\":1,\"time\":\"2024-05-01T12:00:00.006Z\",\"kind\":\"admin\","
				    "\"event\":\"user.add\",\"username\":\"root\",\"reason\":\"by wardmq_ctl\"}\n";
	ASSERT(strncmp(l2 + 74, want2, sizeof want2 - 1) == 0);
	struct wmq_audit_verify v;
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &v), WMQ_OK);
	ASSERT_EQ(v.lines, 2);
	ASSERT_EQ(v.bad_line, 0);
	ASSERT_STREQ(v.head, head);
	/* bad field keys are refused: reserved, or not [a-z0-9_] */
	a = open_at(path, 0, 1);
	struct wmq_audit_field bad[] = {{"prev", B("x"), 0, false}};
	struct wmq_audit_event ev = {.kind = WMQ_AUDIT_ADMIN, .fields = bad, .nfields = 1};
	ASSERT_EQ(wmq_audit_write(a, &ev), WMQ_ERR_INVAL);
	bad[0].key = "Topic";
	ASSERT_EQ(wmq_audit_write(a, &ev), WMQ_ERR_INVAL);
	bad[0].key = "a\"b";
	ASSERT_EQ(wmq_audit_write(a, &ev), WMQ_ERR_INVAL);
	wmq_audit_close(a);
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &v), WMQ_OK);
	ASSERT_EQ(v.lines, 2);
	scratch_clear();
}

TEST(json_escaping)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} v[] = {
		{"plain", 5, "plain"},
		{"q\"b\\s", 5, "q\\\"b\\\\s"},
		{"nl\nx\ry\tz", 8, "nl\\nx\\ry\\tz"},
		{"\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f"},
		{"\xc3\xbc", 2, "\xc3\xbc"},                 /* valid UTF-8 kept */
		{"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"}, /* 4-byte */
		{"\xff\xfe", 2, "\\ufffd\\ufffd"},           /* invalid bytes */
		{"\xc3", 1, "\\ufffd"},                      /* truncated sequence */
		{"\xc0\xaf", 2, "\\ufffd\\ufffd"},           /* overlong '/' */
		{"\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd"}, /* surrogate */
		{"a\xe2\x80\xa8" "b", 5, "a\\u2028b"},
		{"\"}\n{\"prev\":\"", 12, "\\\"}\\n{\\\"prev\\\":\\\""}, /* line injection */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(v); i++) {
		struct wmq_dbuf b;
		wmq_dbuf_init(&b, 4096);
		ASSERT_EQ(wmq_audit_json_escape(&b, (struct wmq_bytes){(const uint8_t *)v[i].in, v[i].len}), WMQ_OK);
		ASSERT_EQ(b.len, strlen(v[i].out));
		ASSERT_MEMEQ(b.p, v[i].out, b.len);
		wmq_dbuf_cleanup(&b);
	}
	/* long values are cut */
	static char big[3000];
	memset(big, 'x', sizeof big);
	struct wmq_dbuf b;
	wmq_dbuf_init(&b, 8192);
	ASSERT_EQ(wmq_audit_json_escape(&b, (struct wmq_bytes){(const uint8_t *)big, sizeof big}), WMQ_OK);
	ASSERT_EQ(b.len, WMQ_AUDIT_MAX_VALUE + 3);
	ASSERT_MEMEQ(b.p + WMQ_AUDIT_MAX_VALUE, "...", 3);
	wmq_dbuf_cleanup(&b);
	/* a hostile client id cannot break the line structure */
	char path[128];
	scratch_path(path, sizeof path, "inject.log");
	unlink(path);
	struct wmq_audit *a = open_at(path, 0, 1);
	deny_pub(a, T0, "\"}\n{\"prev\":\"0000\",\"seq\":9}");
	deny_pub(a, T0, "ok");
	wmq_audit_close(a);
	size_t len;
	char *text = slurp(path, &len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	ASSERT_EQ(lines, 2);
	struct wmq_audit_verify vr;
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &vr), WMQ_OK);
	scratch_clear();
}

static void write_n(const char *path, int n, int64_t t)
{
	struct wmq_audit *a = open_at(path, 0, 1);
	for (int i = 0; i < n; i++) {
		char cid[16];
		snprintf(cid, sizeof cid, "c%d", i);
		deny_pub(a, t + i, cid);
	}
	wmq_audit_close(a);
}

TEST(chain_resume_and_tamper)
{
	char path[128];
	scratch_path(path, sizeof path, "chain.log");
	unlink(path);
	write_n(path, 3, T0);
	write_n(path, 3, T0 + 100); /* reopen: the chain continues */
	struct wmq_audit_verify v;
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &v), WMQ_OK);
	ASSERT_EQ(v.lines, 6);
	size_t len;
	char *orig = slurp(path, &len);
	ASSERT(strstr(orig, "\"seq\":5,") != NULL);
	static char copy[1 << 16];
	memcpy(copy, orig, len + 1);
	size_t orig_len = len;

	/* change one character in line 3: line 4's prev no longer matches */
	char *l3 = copy;
	for (int i = 0; i < 2; i++)
		l3 = strchr(l3, '\n') + 1;
	char *c = strstr(l3, "\"c2\"");
	ASSERT(c != NULL);
	c[2] = '9';
	ASSERT_EQ(wmq_audit_verify_buf(copy, orig_len, NULL, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 4);
	spit(path, copy, orig_len);
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 4);
	ASSERT(strstr(v.why, "prev does not match") != NULL);

	/* delete line 2 */
	memcpy(copy, orig, orig_len + 1);
	char *l2 = strchr(copy, '\n') + 1;
	char *l3b = strchr(l2, '\n') + 1;
	memmove(l2, l3b, strlen(l3b) + 1);
	ASSERT_EQ(wmq_audit_verify_buf(copy, strlen(copy), NULL, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 2);

	/* delete line 1: the first line no longer starts the chain */
	ASSERT_EQ(wmq_audit_verify_buf(strchr(orig, '\n') + 1, orig_len - (size_t)(strchr(orig, '\n') + 1 - orig),
				       NULL, &v),
		  WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 1);

	/* swap two lines */
	memcpy(copy, orig, orig_len + 1);
	l2 = strchr(copy, '\n') + 1;
	l3b = strchr(l2, '\n') + 1;
	char *l4 = strchr(l3b, '\n') + 1;
	size_t n2 = (size_t)(l3b - l2), n3 = (size_t)(l4 - l3b);
	char tmp[4096];
	memcpy(tmp, l2, n2);
	memmove(l2, l3b, n3);
	memcpy(l2 + n3, tmp, n2);
	ASSERT_EQ(wmq_audit_verify_buf(copy, orig_len, NULL, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 2);

	/* a torn last line (crash mid-write) is reported, and a reopened log
	 * continues after it */
	spit(path, orig, orig_len - 10);
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 6);
	write_n(path, 1, T0 + 200);
	ASSERT_EQ(wmq_audit_verify_file(path, NULL, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v.bad_line, 6);
	ASSERT(strstr(v.why, "torn") != NULL);
	scratch_clear();
}

TEST(rotation_chains_files)
{
	char p1[128], p2[128];
	scratch_path(p1, sizeof p1, "rot1.log");
	scratch_path(p2, sizeof p2, "rot2.log");
	unlink(p1);
	unlink(p2);
	write_n(p1, 2, T0);
	struct wmq_audit_verify v1, v2;
	ASSERT_EQ(wmq_audit_verify_file(p1, NULL, &v1), WMQ_OK);
	struct wmq_audit_opts o;
	wmq_audit_opts_default(&o);
	o.path = p2;
	o.initial_prev = v1.head;
	struct wmq_audit *a = NULL;
	ASSERT_EQ(wmq_audit_open(&o, &a), WMQ_OK);
	deny_pub(a, T0 + 10, "x");
	wmq_audit_close(a);
	ASSERT_EQ(wmq_audit_verify_file(p2, v1.head, &v2), WMQ_OK);
	ASSERT_EQ(wmq_audit_verify_file(p2, NULL, &v2), WMQ_ERR_MALFORMED);
	ASSERT_EQ(v2.bad_line, 1);
	o.initial_prev = "not hex";
	ASSERT_EQ(wmq_audit_open(&o, &a), WMQ_ERR_INVAL);
	scratch_clear();
}

/* SIGHUP after logrotate: the same path, a new file; the chain goes on. */
TEST(reopen_after_rotation)
{
	char p1[128], moved[128];
	scratch_path(p1, sizeof p1, "live.log");
	scratch_path(moved, sizeof moved, "live.log.1");
	unlink(p1);
	unlink(moved);
	struct wmq_audit_opts o;
	wmq_audit_opts_default(&o);
	o.path = p1;
	struct wmq_audit *a = NULL;
	bool rotated = true;
	ASSERT_EQ(wmq_audit_open(&o, &a), WMQ_OK);
	deny_pub(a, T0, "one");
	/* not rotated: reopening changes nothing */
	ASSERT_EQ(wmq_audit_reopen(a, &rotated), WMQ_OK);
	ASSERT(!rotated);
	deny_pub(a, T0 + 1, "two");
	ASSERT_EQ(rename(p1, moved), 0);
	deny_pub(a, T0 + 2, "three"); /* still into the moved file */
	ASSERT_EQ(wmq_audit_reopen(a, &rotated), WMQ_OK);
	ASSERT(rotated);
	deny_pub(a, T0 + 3, "four");
	wmq_audit_close(a);
	struct wmq_audit_verify v1, v2;
	ASSERT_EQ(wmq_audit_verify_file(moved, NULL, &v1), WMQ_OK);
	ASSERT_EQ(v1.lines, 3);
	ASSERT_EQ(wmq_audit_verify_file(p1, v1.head, &v2), WMQ_OK); /* continues the old head */
	ASSERT_EQ(v2.lines, 1);
	ASSERT_EQ(wmq_audit_verify_file(p1, NULL, &v2), WMQ_ERR_MALFORMED);
	scratch_clear();
}

struct sinkbuf {
	size_t lines;
	char last[1024];
};

static void sink(void *arg, const char *line, size_t len)
{
	struct sinkbuf *s = arg;
	s->lines++;
	snprintf(s->last, sizeof s->last, "%.*s", (int)len, line);
}

TEST(rate_limit_and_summary)
{
	struct sinkbuf sb;
	memset(&sb, 0, sizeof sb);
	struct wmq_audit_opts o;
	wmq_audit_opts_default(&o);
	o.sink = sink;
	o.sink_arg = &sb;
	o.deny_rate_per_s = 10;
	o.deny_burst = 5;
	struct wmq_audit *a = NULL;
	ASSERT_EQ(wmq_audit_open(&o, &a), WMQ_OK);
	/* a flood of 1000 denials within one millisecond */
	for (int i = 0; i < 1000; i++)
		deny_pub(a, T0, "flood");
	ASSERT_EQ(sb.lines, 5);
	/* administrative events are never limited */
	struct wmq_audit_event admin = {.kind = WMQ_AUDIT_ADMIN, .time_ms = T0, .event = "rule.add"};
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(wmq_audit_write(a, &admin), WMQ_OK);
	ASSERT_EQ(sb.lines, 15);
	/* 250 ms later: 2.5 tokens; the next denial first writes the summary */
	deny_pub(a, T0 + 250, "later");
	ASSERT_EQ(sb.lines, 17);
	struct wmq_audit_stats st;
	wmq_audit_get_stats(a, &st);
	ASSERT_EQ(st.suppressed, 995);
	ASSERT(strstr(sb.last, "\"client_id\":\"later\"") != NULL);
	/* 50 ms later 1.5 + 0.5 tokens: two more lines, then a timer flush
	 * writes the pending summary */
	for (int i = 0; i < 100; i++)
		deny_pub(a, T0 + 300, "flood2");
	ASSERT_EQ(sb.lines, 19);
	ASSERT_EQ(wmq_audit_flush(a, T0 + 400), WMQ_OK);
	ASSERT_EQ(sb.lines, 20);
	ASSERT(strstr(sb.last, "\"kind\":\"authz\",\"event\":\"suppressed\"") != NULL);
	ASSERT(strstr(sb.last, "\"count\":98,\"first\":\"2024-05-01T12:00:00.300Z\"") != NULL);
	ASSERT_EQ(wmq_audit_flush(a, T0 + 500), WMQ_OK); /* nothing pending */
	ASSERT_EQ(sb.lines, 20);
	/* authentication failures have their own bucket */
	struct wmq_audit_event authn = {.kind = WMQ_AUDIT_AUTHN, .time_ms = T0 + 500, .event = "connect",
					.decision = WMQ_AUDIT_DENY, .reason = "bad username or password"};
	ASSERT_EQ(wmq_audit_write(a, &authn), WMQ_OK);
	ASSERT_EQ(sb.lines, 21);
	wmq_audit_close(a);
}

static const struct wmq_test tests[] = {
	{"line_format", line_format},
	{"json_escaping", json_escaping},
	{"chain_resume_and_tamper", chain_resume_and_tamper},
	{"rotation_chains_files", rotation_chains_files},
	{"reopen_after_rotation", reopen_after_rotation},
	{"rate_limit_and_summary", rate_limit_and_summary},
};

WMQ_TEST_MAIN(tests)
