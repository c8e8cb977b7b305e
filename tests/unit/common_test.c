/* SPDX-License-Identifier: MIT
 * common_test.c - reader/writer bounds, varints, UTF-8 rules, capped buffer,
 * path helpers. */
#include "common/alloc.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/path.h"
#include "common/utf8.h"
#include "test.h"

TEST(varint_roundtrip)
{
	static const struct {
		uint32_t v;
		const char *hex;
	} cases[] = {
		{0, "00"},           {127, "7f"},           {128, "80 01"},
		{16383, "ff 7f"},    {16384, "80 80 01"},   {2097151, "ff ff 7f"},
		{2097152, "80 80 80 01"}, {268435455, "ff ff ff 7f"},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		uint8_t want[8], got[8];
		size_t n = test_hex(cases[i].hex, want, sizeof want);
		struct wmq_wr w = wmq_wr_make(got, sizeof got);
		wmq_wr_varint(&w, cases[i].v);
		ASSERT_EQ(wmq_wr_finish(&w), WMQ_OK);
		ASSERT_EQ(w.pos, n);
		ASSERT_EQ(wmq_varint_len(cases[i].v), n);
		ASSERT_MEMEQ(got, want, n);
		struct wmq_rd r = wmq_rd_make(want, n);
		uint32_t v = 0;
		ASSERT_EQ(wmq_rd_varint(&r, &v), WMQ_OK);
		ASSERT_EQ(v, cases[i].v);
		ASSERT_EQ(wmq_rd_end(&r), WMQ_OK);
	}
}

TEST(varint_bad)
{
	uint8_t five[] = {0xff, 0xff, 0xff, 0xff, 0x01};
	uint8_t trunc[] = {0x80, 0x80};
	struct wmq_rd r = wmq_rd_make(five, sizeof five);
	uint32_t v;
	ASSERT_EQ(wmq_rd_varint(&r, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(r.pos, 0);
	r = wmq_rd_make(trunc, sizeof trunc);
	ASSERT_EQ(wmq_rd_varint(&r, &v), WMQ_ERR_MALFORMED);
	ASSERT_EQ(r.pos, 0);
	uint8_t buf[4];
	struct wmq_wr w = wmq_wr_make(buf, sizeof buf);
	wmq_wr_varint(&w, 268435456u);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_ERR_LIMIT);
	ASSERT_EQ(wmq_varint_len(268435456u), 0);
}

TEST(reader_failed_read_keeps_pos)
{
	uint8_t b[] = {0x00, 0x05, 'a', 'b'};
	struct wmq_rd r = wmq_rd_make(b, sizeof b);
	struct wmq_bytes s;
	uint32_t u32;
	ASSERT_EQ(wmq_rd_bin(&r, &s), WMQ_ERR_MALFORMED);
	ASSERT_EQ(r.pos, 0);
	ASSERT_EQ(wmq_rd_u32(&r, &u32), WMQ_OK);
	ASSERT_EQ(u32, 0x00056162u);
	ASSERT_EQ(wmq_rd_u32(&r, &u32), WMQ_ERR_MALFORMED);
	ASSERT_EQ(wmq_rd_end(&r), WMQ_OK);
}

TEST(utf8_rules)
{
	static const struct {
		const char *hex;
		int ok;
	} cases[] = {
		{"61 62 63", 1},
		{"", 1},
		{"00", 0},                /* U+0000 [MQTT-1.5.4-2] */
		{"61 00 62", 0},
		{"c3 a9", 1},             /* e-acute */
		{"c0 80", 0},             /* over-long NUL */
		{"c1 bf", 0},             /* over-long */
		{"e0 80 80", 0},          /* over-long */
		{"ed a0 80", 0},          /* U+D800 surrogate [MQTT-1.5.4-1] */
		{"ed bf bf", 0},          /* U+DFFF surrogate */
		{"ef bf bf", 1},          /* U+FFFF is allowed (a non-character) */
		{"f0 9f 98 80", 1},       /* U+1F600 */
		{"f4 90 80 80", 0},       /* above U+10FFFF */
		{"f8 88 80 80 80", 0},    /* 5-byte form */
		{"e2 82", 0},             /* truncated */
		{"80", 0},                /* lone continuation */
		{"c3 28", 0},             /* bad continuation */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		uint8_t b[16];
		size_t n = test_hex(cases[i].hex, b, sizeof b);
		if (wmq_utf8_valid(b, n) != (cases[i].ok != 0))
			TEST_FAIL_("case %zu (%s): expected %s", i, cases[i].hex,
				   cases[i].ok ? "valid" : "invalid");
	}
}

TEST(rd_utf8_rejects_nul)
{
	uint8_t b[] = {0x00, 0x03, 'a', 0x00, 'b'};
	struct wmq_rd r = wmq_rd_make(b, sizeof b);
	struct wmq_bytes s;
	ASSERT_EQ(wmq_rd_utf8(&r, &s), WMQ_ERR_MALFORMED);
	ASSERT_EQ(r.pos, 0);
}

TEST(writer_sticky_overflow)
{
	uint8_t b[3];
	struct wmq_wr w = wmq_wr_make(b, sizeof b);
	wmq_wr_u16(&w, 0x1234);
	wmq_wr_u16(&w, 0x5678); /* does not fit: nothing written */
	wmq_wr_u8(&w, 0x9a);    /* would fit, but overflow is sticky */
	ASSERT_EQ(w.pos, 2);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_ERR_LIMIT);
}

TEST(dbuf_cap)
{
	struct wmq_dbuf d;
	wmq_dbuf_init(&d, 1000);
	uint8_t chunk[300] = {0};
	ASSERT_EQ(wmq_dbuf_append(&d, chunk, 300), WMQ_OK);
	ASSERT_EQ(wmq_dbuf_append(&d, chunk, 300), WMQ_OK);
	ASSERT_EQ(wmq_dbuf_append(&d, chunk, 300), WMQ_OK);
	ASSERT_EQ(wmq_dbuf_append(&d, chunk, 300), WMQ_ERR_LIMIT);
	ASSERT_EQ(d.len, 900);
	wmq_dbuf_consume(&d, 850);
	ASSERT_EQ(d.len, 50);
	ASSERT_EQ(wmq_dbuf_append(&d, chunk, 300), WMQ_OK);
	wmq_dbuf_cleanup(&d);
}

TEST(dbuf_nomem)
{
	struct wmq_dbuf d;
	wmq_dbuf_init(&d, 1 << 20);
	wmq_alloc_fail_after(1);
	ASSERT_EQ(wmq_dbuf_append(&d, "abc", 3), WMQ_ERR_NOMEM);
	ASSERT_EQ(d.len, 0);
	ASSERT_EQ(wmq_dbuf_append(&d, "abc", 3), WMQ_OK);
	wmq_dbuf_cleanup(&d);
}

TEST(log_escape)
{
	char out[32];
	uint8_t raw[] = {'a', '"', 0x01, 'b', 0xff};
	wmq_log_escape((struct wmq_bytes){raw, sizeof raw}, out, sizeof out);
	ASSERT_STREQ(out, "a\\x22\\x01b\\xff");
	char small[8];
	wmq_log_escape(WMQ_BYTES_STR("abcdefghijkl"), small, sizeof small);
	ASSERT_STREQ(small, "abcd..."); /* 7 chars + NUL fill 8 */
}

TEST(siphash_vector)
{
	/* Reference vector from the SipHash paper (Aumasson & Bernstein),
	 * appendix A: key 00..0f, message 00..0e, result a129ca6149be45e5. */
	uint8_t msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	ASSERT_EQ(wmq_siphash(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, msg, 15),
		  (long long)0xa129ca6149be45e5ULL);
}

TEST(hmap_put_get_del_many)
{
	struct wmq_hmap m;
	static char keys[2000][16];
	wmq_hmap_init(&m);
	for (int i = 0; i < 2000; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		ASSERT_EQ(wmq_hmap_put(&m, keys[i], strlen(keys[i]), &keys[i]), WMQ_OK);
	}
	ASSERT_EQ(m.n, 2000);
	for (int i = 0; i < 2000; i += 2)
		ASSERT(wmq_hmap_del(&m, keys[i], strlen(keys[i])) == &keys[i]);
	ASSERT_EQ(m.n, 1000);
	for (int i = 0; i < 2000; i++) {
		void *v = wmq_hmap_get(&m, keys[i], strlen(keys[i]));
		if (i % 2)
			ASSERT(v == &keys[i]);
		else
			ASSERT(v == NULL);
	}
	size_t it = 0, seen = 0;
	while (wmq_hmap_next(&m, &it))
		seen++;
	ASSERT_EQ(seen, 1000);
	ASSERT(wmq_hmap_del(&m, "nope", 4) == NULL);
	wmq_hmap_cleanup(&m);
}

TEST(dbuf_empty_zero_append)
{
	/* A zero-length append to a buffer with no storage is fine (and does
	 * no pointer arithmetic on NULL, which UBSan under clang reports). */
	struct wmq_dbuf d;
	uint8_t *area = (uint8_t *)&d;
	wmq_dbuf_init(&d, 16);
	ASSERT_EQ(wmq_dbuf_reserve(&d, 0, &area), WMQ_OK);
	ASSERT(area == NULL);
	ASSERT_EQ(wmq_dbuf_append(&d, NULL, 0), WMQ_OK);
	ASSERT_EQ(d.len, 0);
	wmq_dbuf_cleanup(&d);
}

TEST(path_dir)
{
	char d[8];
	ASSERT(wmq_path_dir("/run/wardmq/adm.sock", d, sizeof d) == false); /* "/run/wa" */
	ASSERT_STREQ(d, "/run/wa");
	char big[64];
	ASSERT(wmq_path_dir("/run/wardmq/adm.sock", big, sizeof big));
	ASSERT_STREQ(big, "/run/wardmq");
	ASSERT(wmq_path_dir("w.db", big, sizeof big));
	ASSERT_STREQ(big, ".");
	ASSERT(wmq_path_dir("/w.db", big, sizeof big));
	ASSERT_STREQ(big, "/");
	ASSERT(wmq_path_dir("a/b/", big, sizeof big));
	ASSERT_STREQ(big, "a/b");
	ASSERT(wmq_path_dir("./x", big, sizeof big));
	ASSERT_STREQ(big, ".");
	ASSERT(wmq_path_dir("", big, sizeof big));
	ASSERT_STREQ(big, ".");
	char one[1] = {'x'};
	ASSERT(wmq_path_dir("a/b", one, sizeof one) == false);
	ASSERT_EQ(one[0], '\0');
	char two[2];
	ASSERT(wmq_path_dir("ab/c", two, sizeof two) == false);
	ASSERT_STREQ(two, "a");
	ASSERT(wmq_path_dir("/", two, sizeof two));
	ASSERT_STREQ(two, "/");
	ASSERT(wmq_path_dir("a/b", d, 0) == false);
}

static const struct wmq_test tests[] = {
	{"path_dir", path_dir},
	{"dbuf_empty_zero_append", dbuf_empty_zero_append},
	{"siphash_vector", siphash_vector},
	{"hmap_put_get_del_many", hmap_put_get_del_many},
	{"varint_roundtrip", varint_roundtrip},
	{"varint_bad", varint_bad},
	{"reader_failed_read_keeps_pos", reader_failed_read_keeps_pos},
	{"utf8_rules", utf8_rules},
	{"rd_utf8_rejects_nul", rd_utf8_rejects_nul},
	{"writer_sticky_overflow", writer_sticky_overflow},
	{"dbuf_cap", dbuf_cap},
	{"dbuf_nomem", dbuf_nomem},
	{"log_escape", log_escape},
};
WMQ_TEST_MAIN(tests)
