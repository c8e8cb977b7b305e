/* SPDX-License-Identifier: MIT
 * fuzz_topic.c - libFuzzer target for topic validation and matching.
 *
 * Input: "filter\0name"; without a NUL byte the whole input is both. The
 * target calls every topic function and checks them against each other and
 * against a slow, obviously-correct reference matcher over split levels:
 *   - a valid name matches itself and, unless it starts with '$', "#";
 *   - a valid name is a valid filter unless it begins with "$share/";
 *   - wmq_topic_match() agrees with the reference for every valid filter
 *     and valid name (up to 64 levels each);
 *   - level iteration yields wmq_topic_levels() levels whose lengths add
 *     up to the input; shared_split() splits without losing bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mqtt.h"
#include "fuzz.h"

#define MAX_LEVELS 64

/* Split into levels; false if there are more than MAX_LEVELS. */
static bool split(struct wmq_bytes t, struct wmq_bytes *lv, size_t *n)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= t.len; i++) {
		if (i == t.len || t.p[i] == '/') {
			if (k == MAX_LEVELS)
				return false;
			lv[k].p = t.p + start;
			lv[k].len = i - start;
			k++;
			start = i + 1;
		}
	}
	*n = k;
	return true;
}

static bool is(struct wmq_bytes b, char c)
{
	return b.len == 1 && b.p[0] == (uint8_t)c;
}

/* MQTT 5.0 §4.7 straight from the text, for valid filter and name. */
static bool ref_match(struct wmq_bytes f, struct wmq_bytes n)
{
	struct wmq_bytes fl[MAX_LEVELS], nl[MAX_LEVELS];
	size_t fn, nn;
	CHECK(split(f, fl, &fn) && split(n, nl, &nn));
	if (n.p[0] == '$' && (is(fl[0], '#') || is(fl[0], '+')))
		return false;
	for (size_t i = 0; i < fn; i++) {
		if (is(fl[i], '#'))
			return true; /* matches the parent and any number of children */
		if (i >= nn)
			return false;
		if (is(fl[i], '+'))
			continue;
		if (!wmq_bytes_eq(fl[i], nl[i]))
			return false;
	}
	return fn == nn;
}

static void check_levels(struct wmq_bytes t)
{
	size_t levels = wmq_topic_levels(t), pos = 0, k = 0, sum = 0;
	struct wmq_bytes lv;
	CHECK(levels >= 1 && levels <= t.len + 1);
	while (k <= t.len + 1 && wmq_topic_next_level(t, &pos, &lv)) {
		CHECK(lv.len <= t.len);
		CHECK(lv.len == 0 || memchr(lv.p, '/', lv.len) == NULL);
		sum += lv.len;
		k++;
	}
	CHECK(k == levels);
	CHECK(sum + levels - 1 == t.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wmq_bytes f, n;
	const uint8_t *z = size ? memchr(data, 0, size) : NULL;
	if (z) {
		f = (struct wmq_bytes){data, (size_t)(z - data)};
		n = (struct wmq_bytes){z + 1, size - f.len - 1};
	} else {
		f = n = (struct wmq_bytes){data, size};
	}
	bool fv = wmq_topic_filter_valid(f);
	bool nv = wmq_topic_name_valid(n);
	bool m = wmq_topic_match(f, n);

	struct wmq_bytes g, sub;
	if (wmq_topic_shared_split(f, &g, &sub)) {
		CHECK(g.len + sub.len + 8 == f.len);
		/* the part after the group is a plain filter, even one that
		 * itself starts with "$share/" */
		if (fv)
			CHECK(g.len > 0 && (wmq_topic_filter_valid(sub) ||
					    (sub.len >= 7 && memcmp(sub.p, "$share/", 7) == 0)));
	}
	check_levels(f);
	check_levels(n);

	if (nv) {
		CHECK(wmq_topic_match(n, n));
		CHECK(wmq_topic_match(WMQ_BYTES_STR("#"), n) == (n.p[0] != '$'));
		struct wmq_bytes g2, s2;
		if (!wmq_topic_shared_split(n, &g2, &s2) &&
		    !(n.len >= 7 && memcmp(n.p, "$share/", 7) == 0))
			CHECK(wmq_topic_filter_valid(n));
	}
	if (fv && nv && !wmq_topic_shared_split(f, &g, &sub)) {
		struct wmq_bytes tmp[MAX_LEVELS];
		size_t a, b;
		if (split(f, tmp, &a) && split(n, tmp, &b))
			CHECK(m == ref_match(f, n));
	}
	return 0;
}
