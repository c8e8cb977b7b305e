/* SPDX-License-Identifier: MIT
 * alloc.h - the only allocation entry points (raw malloc is not used).
 * Role: lets tests fail the N-th allocation to exercise every NOMEM path.
 * Threading: any thread. The failure countdown is a process-wide test hook,
 * atomic, and inert unless a test arms it. */
#ifndef WMQ_COMMON_ALLOC_H
#define WMQ_COMMON_ALLOC_H
#include <stddef.h>

void *wmq_malloc(size_t n);
void *wmq_calloc(size_t nmemb, size_t size);
void *wmq_realloc(void *p, size_t n);
/* Overflow-checked realloc of an array of |nmemb| elements of |size|. */
void *wmq_reallocarray(void *p, size_t nmemb, size_t size);
void wmq_free(void *p);
char *wmq_strdup(const char *s);
/* Copy of |len| bytes plus a NUL terminator. */
char *wmq_strndup(const char *s, size_t len);
void *wmq_memdup(const void *p, size_t len);

/* Test hook: the |n|-th allocation from now fails (n >= 1); 0 disarms. */
void wmq_alloc_fail_after(long n);

#endif
