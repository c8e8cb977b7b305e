/* SPDX-License-Identifier: MIT
 * scratch.h - a scratch directory for unit tests that need files.
 *
 * scratch_path(out, cap, "x.db") returns "<dir>/x.db", making the directory
 * ($TMPDIR or /tmp, "wmq_<prefix>_XXXXXX") on first use; scratch_clear()
 * removes it with everything in it, so the next scratch_path() starts a
 * fresh one (call it at the end of a test). Define SCRATCH_PREFIX before
 * including to name the directory after the suite.
 * Header-only: one directory per test executable. */
#ifndef WMQ_TEST_SCRATCH_H
#define WMQ_TEST_SCRATCH_H
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#ifndef SCRATCH_PREFIX
#define SCRATCH_PREFIX "test"
#endif

static char scratch_dir[256];

static inline int scratch_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void scratch_clear(void)
{
	if (scratch_dir[0])
		(void)nftw(scratch_dir, scratch_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	scratch_dir[0] = '\0';
}

static inline const char *scratch_path(char *out, size_t cap, const char *name)
{
	if (!scratch_dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(scratch_dir, sizeof scratch_dir, "%s/wmq_" SCRATCH_PREFIX "_XXXXXX",
			 base && *base ? base : "/tmp");
		if (!mkdtemp(scratch_dir))
			TEST_FAIL_("mkdtemp: %s", strerror(errno));
	}
	int n = snprintf(out, cap, "%s/%s", scratch_dir, name);
	if (n < 0 || (size_t)n >= cap)
		TEST_FAIL_("scratch path %s/%s does not fit in %zu bytes", scratch_dir, name, cap);
	return out;
}

#endif
