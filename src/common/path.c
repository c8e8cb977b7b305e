/* SPDX-License-Identifier: MIT
 * path.c - file system path text helpers. */
#include "common/path.h"

#include <string.h>

bool wmq_path_dir(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	const char *dir = path;
	size_t n;
	if (!slash) {
		dir = ".";
		n = 1;
	} else if (slash == path) {
		n = 1;
	} else {
		n = (size_t)(slash - path);
	}
	if (cap == 0)
		return false;
	bool fits = n < cap;
	if (!fits)
		n = cap - 1;
	memcpy(out, dir, n);
	out[n] = '\0';
	return fits;
}
