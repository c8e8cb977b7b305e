/* SPDX-License-Identifier: MIT
 * rand.c - getrandom wrapper. */
#include "common/rand.h"

#include <errno.h>
#include <sys/random.h>

wmq_err wmq_rand_bytes(void *out, size_t n)
{
	unsigned char *p = out;
	size_t got = 0;
	int tries = 0;
	while (got < n) {
		ssize_t k = getrandom(p + got, n - got, 0);
		if (k < 0) {
			if (errno == EINTR && ++tries < 100)
				continue;
			WMQ_BAIL(WMQ_ERR_IO);
		}
		got += (size_t)k;
	}
	return WMQ_OK;
}

uint32_t wmq_rand_below(uint32_t bound)
{
	uint32_t v = 0;
	if (wmq_rand_bytes(&v, sizeof v) != WMQ_OK)
		return 0;
	return bound ? v % bound : 0;
}
