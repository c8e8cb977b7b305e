/* SPDX-License-Identifier: MIT
 * test.h - a tiny unit-test harness (libuv task.h style).
 * Each test is a function registered in a table; ASSERT_* print both sides
 * and abort the current test. main() comes from WMQ_TEST_MAIN(table).
 * Output: one "ok NAME" / "FAIL NAME" line per test and a closing
 * "N passed, M failed" line, exit status 1 if any failed. */
#ifndef WMQ_TEST_H
#define WMQ_TEST_H
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wmq_test {
	const char *name;
	void (*fn)(void);
};

extern jmp_buf wmq_test_jmp;
extern int wmq_test_failed;

#define TEST_FAIL_(...)                                                              \
	do {                                                                         \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                    \
		fprintf(stderr, __VA_ARGS__);                                        \
		fputc('\n', stderr);                                                 \
		longjmp(wmq_test_jmp, 1);                                            \
	} while (0)

#define ASSERT(c)                                                                    \
	do {                                                                         \
		if (!(c))                                                            \
			TEST_FAIL_("assertion failed: %s", #c);                      \
	} while (0)
#define ASSERT_EQ(a, b)                                                              \
	do {                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                  \
		if (a_ != b_)                                                        \
			TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);        \
	} while (0)
#define ASSERT_NE(a, b)                                                              \
	do {                                                                         \
		long long a_ = (long long)(a), b_ = (long long)(b);                  \
		if (a_ == b_)                                                        \
			TEST_FAIL_("%s != %s: both %lld", #a, #b, a_);               \
	} while (0)
#define ASSERT_STREQ(a, b)                                                           \
	do {                                                                         \
		const char *a_ = (a), *b_ = (b);                                     \
		if (strcmp(a_, b_) != 0)                                             \
			TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);    \
	} while (0)
#define ASSERT_MEMEQ(a, b, n)                                                        \
	do {                                                                         \
		const unsigned char *a_ = (const unsigned char *)(a);                \
		const unsigned char *b_ = (const unsigned char *)(b);                \
		size_t n_ = (n);                                                     \
		for (size_t i_ = 0; i_ < n_; i_++)                                   \
			if (a_[i_] != b_[i_])                                        \
				TEST_FAIL_("%s vs %s differ at byte %zu: %02x != %02x", \
					   #a, #b, i_, a_[i_], b_[i_]);              \
	} while (0)

#define TEST(name) static void name(void)

#define WMQ_TEST_MAIN(table)                                                         \
	jmp_buf wmq_test_jmp;                                                        \
	int wmq_test_failed;                                                         \
	int main(int argc, char **argv)                                              \
	{                                                                            \
		volatile int pass = 0, fail = 0;                                            \
		for (volatile size_t i = 0; i < sizeof(table) / sizeof((table)[0]); i++) {    \
			if (argc > 1 && strcmp(argv[1], (table)[i].name) != 0)       \
				continue;                                            \
			if (setjmp(wmq_test_jmp) == 0) {                             \
				(table)[i].fn();                                     \
				printf("ok %s\n", (table)[i].name);                  \
				pass++;                                              \
			} else {                                                     \
				printf("FAIL %s\n", (table)[i].name);                \
				fail++;                                              \
			}                                                            \
		}                                                                    \
		printf("%d passed, %d failed\n", pass, fail);                        \
		return fail ? 1 : 0;                                                 \
	}

/* Parse a hex string ("10 0c 00 04 ...", spaces ignored) into |out|.
 * Returns the byte count; aborts the test on bad input. */
static inline size_t test_hex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *s = hex; *s; s++) {
		int v;
		if (*s == ' ' || *s == '\n' || *s == ':')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			TEST_FAIL_("bad hex char '%c'", *s);
		if (hi < 0) {
			hi = v;
		} else {
			if (n >= cap)
				TEST_FAIL_("hex too long");
			out[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		TEST_FAIL_("odd hex length");
	return n;
}

#endif
