/* SPDX-License-Identifier: MIT
 * topic.c - Topic Name / Topic Filter validation, wildcard matching, shared
 * subscription splitting, level iteration.
 *
 * Role: pure functions over borrowed byte slices. Every function is a single
 * left-to-right pass, O(length), no recursion, no allocation: the matcher
 * compares the filter and the name level by level and never backtracks
 * ('#' can only end a filter, '+' consumes exactly one level).
 * Spec: MQTT 5.0 §4.7 (topic names and filters), §4.8.2 (shared
 * subscriptions); MQTT 3.1.1 §4.7. Threading: reentrant. */
#include <string.h>

#include "protocol/mqtt.h"

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)

bool wmq_topic_name_valid(struct wmq_bytes t)
{
	/* [MQTT-4.7.3-1] at least one character; [MQTT-1.5.4] at most 65535 bytes */
	if (t.len == 0 || t.len > 65535)
		return false;
	for (size_t i = 0; i < t.len; i++) {
		/* [MQTT-4.7.1-1] wildcards are for filters only; [MQTT-1.5.4-2] no U+0000 */
		if (t.p[i] == '+' || t.p[i] == '#' || t.p[i] == 0)
			return false;
	}
	return true;
}

/* Plain (not shared) filter syntax. */
static bool filter_plain_valid(const uint8_t *p, size_t len)
{
	if (len == 0 || len > 65535)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		bool at_level_start = i == 0 || p[i - 1] == '/';
		bool at_level_end = i + 1 == len || p[i + 1] == '/';
		if (c == 0)
			return false;
		if (c == '#') {
			/* [MQTT-4.7.1-2] '#' alone in the last level */
			if (!at_level_start || i + 1 != len)
				return false;
		} else if (c == '+') {
			/* [MQTT-4.7.1-3] '+' occupies an entire level */
			if (!at_level_start || !at_level_end)
				return false;
		}
	}
	return true;
}

bool wmq_topic_shared_split(struct wmq_bytes f, struct wmq_bytes *group, struct wmq_bytes *filter)
{
	if (f.len < SHARE_PREFIX_LEN || memcmp(f.p, SHARE_PREFIX, SHARE_PREFIX_LEN) != 0)
		return false;
	const uint8_t *g = f.p + SHARE_PREFIX_LEN;
	size_t rest = f.len - SHARE_PREFIX_LEN;
	const uint8_t *slash = rest ? memchr(g, '/', rest) : NULL;
	if (!slash)
		return false;
	size_t glen = (size_t)(slash - g);
	group->p = g;
	group->len = glen;
	filter->p = slash + 1;
	filter->len = rest - glen - 1;
	return true;
}

bool wmq_topic_filter_valid(struct wmq_bytes f)
{
	if (f.len == 0 || f.len > 65535)
		return false;
	if (f.len >= SHARE_PREFIX_LEN && memcmp(f.p, SHARE_PREFIX, SHARE_PREFIX_LEN) == 0) {
		struct wmq_bytes g, sub;
		/* [MQTT-4.8.2-1] "$share/" then a ShareName of at least one
		 * character, then '/' and a Topic Filter */
		if (!wmq_topic_shared_split(f, &g, &sub) || g.len == 0)
			return false;
		/* [MQTT-4.8.2-2] the ShareName has no '/', '+' or '#' */
		for (size_t i = 0; i < g.len; i++)
			if (g.p[i] == '+' || g.p[i] == '#' || g.p[i] == 0)
				return false;
		return filter_plain_valid(sub.p, sub.len);
	}
	return filter_plain_valid(f.p, f.len);
}

/* End of the level starting at |i| in |p| (index of '/' or len). */
static size_t level_end(const uint8_t *p, size_t len, size_t i)
{
	const uint8_t *s = i < len ? memchr(p + i, '/', len - i) : NULL;
	return s ? (size_t)(s - p) : len;
}

bool wmq_topic_match(struct wmq_bytes filter, struct wmq_bytes name)
{
	const uint8_t *f = filter.p, *n = name.p;
	size_t fl = filter.len, nl = name.len;
	size_t fi = 0, ni = 0;
	if (fl == 0 || nl == 0)
		return false;
	/* [MQTT-4.7.2-1] a filter starting with a wildcard does not match a
	 * name starting with '$' */
	if (n[0] == '$' && (f[0] == '#' || f[0] == '+'))
		return false;
	/* bounded: each pass consumes one level of each, fi and ni grow */
	for (;;) {
		size_t fe = level_end(f, fl, fi);
		size_t ne = level_end(n, nl, ni);
		size_t flev = fe - fi;
		if (flev == 1 && f[fi] == '#')
			return fe == fl; /* multi-level wildcard: rest of name */
		if (!(flev == 1 && f[fi] == '+')) {
			if (flev != ne - ni || memcmp(f + fi, n + ni, flev) != 0)
				return false;
		}
		if (fe == fl && ne == nl)
			return true;
		if (fe == fl)
			return false; /* name has more levels */
		if (ne == nl) {
			/* name ended: "sport/#" matches "sport" ([MQTT-4.7.1-2]
			 * '#' includes the parent level) */
			return fl - fe == 2 && f[fe + 1] == '#';
		}
		fi = fe + 1;
		ni = ne + 1;
	}
}

size_t wmq_topic_levels(struct wmq_bytes t)
{
	size_t n = 1;
	for (size_t i = 0; i < t.len; i++)
		n += t.p[i] == '/';
	return n;
}

bool wmq_topic_next_level(struct wmq_bytes t, size_t *pos, struct wmq_bytes *level)
{
	/* |*pos| is the start of the next level; len + 1 means "done" */
	if (*pos > t.len)
		return false;
	size_t e = level_end(t.p, t.len, *pos);
	level->p = t.len ? t.p + *pos : t.p;
	level->len = e - *pos;
	*pos = e + 1;
	return true;
}
