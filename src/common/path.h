/* SPDX-License-Identifier: MIT
 * path.h - file system path text helpers (no system calls). Pure functions:
 * no state, safe from any thread; the caller owns every buffer. */
#ifndef WMQ_COMMON_PATH_H
#define WMQ_COMMON_PATH_H
#include <stdbool.h>
#include <stddef.h>

/* The directory part of PATH, written NUL-terminated to OUT (CAP > 0
 * bytes): everything before the last '/', "/" when that slash is the first
 * character, "." when PATH has no slash. Truncated to CAP - 1 bytes if
 * longer; returns false then, true when it fit. */
bool wmq_path_dir(const char *path, char *out, size_t cap);

#endif
