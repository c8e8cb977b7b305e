/* SPDX-License-Identifier: MIT
 * testing.h - test-only hooks of the store. Not for the broker: these run
 * raw SQL, which production code never does (every statement lives in
 * schema.c).
 * Threading: owner thread; they take the connection lock. */
#ifndef WMQ_STORE_TESTING_H
#define WMQ_STORE_TESTING_H
#include <stdint.h>

#include "common/err.h"
#include "store/store.h"

/* Create/open |path| inline and migrate only up to |version| (1..current):
 * builds the databases an older WardMQ would have left. No statements are
 * prepared, so only the hooks below and wmq_store_close() may be used.
 * Ownership: as wmq_store_open(). */
WMQ_MUST_USE wmq_err wmq_store_test_open_version(const char *path, int version, struct wmq_store **out);
/* Run |sql| (one or more statements, no rows expected). */
WMQ_MUST_USE wmq_err wmq_store_test_exec(struct wmq_store *st, const char *sql);
/* First column of the first row of |sql| as an integer (0 if no row). */
WMQ_MUST_USE wmq_err wmq_store_test_query_i64(struct wmq_store *st, const char *sql, int64_t *out);

#endif
