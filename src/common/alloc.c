/* SPDX-License-Identifier: MIT
 * alloc.c - allocation wrappers with fault injection for tests. */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Test-only fault injection countdown; 0 = disarmed. Not broker state. */
static atomic_long fail_countdown;

void wmq_alloc_fail_after(long n)
{
	atomic_store(&fail_countdown, n);
}

static int should_fail(void)
{
	long v = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
	if (v <= 0)
		return 0;
	return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void *wmq_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *wmq_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *wmq_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void *wmq_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	return wmq_realloc(p, nmemb * size);
}

void wmq_free(void *p)
{
	free(p);
}

void *wmq_memdup(const void *p, size_t len)
{
	void *q = wmq_malloc(len);
	if (q && len)
		memcpy(q, p, len);
	return q;
}

char *wmq_strndup(const char *s, size_t len)
{
	char *q = wmq_malloc(len + 1);
	if (!q)
		return NULL;
	if (len)
		memcpy(q, s, len);
	q[len] = '\0';
	return q;
}

char *wmq_strdup(const char *s)
{
	return wmq_strndup(s, strlen(s));
}
