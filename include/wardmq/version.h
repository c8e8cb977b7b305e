/* SPDX-License-Identifier: MIT
 * wardmq/version.h - compile-time and run-time version of libwardmq.
 * Threading: thread-safe (pure). */
#ifndef WARDMQ_VERSION_H
#define WARDMQ_VERSION_H

#include "wardmq/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WMQ_LIB_VERSION_MAJOR 0
#define WMQ_LIB_VERSION_MINOR 1
#define WMQ_LIB_VERSION_PATCH 0
/* Single number for #if comparisons: major * 10000 + minor * 100 + patch. */
#define WMQ_LIB_VERSION_NUMBER                                                 \
	(WMQ_LIB_VERSION_MAJOR * 10000 + WMQ_LIB_VERSION_MINOR * 100 + WMQ_LIB_VERSION_PATCH)

/* The version of the library actually loaded, as "major.minor.patch" (static
 * storage, never NULL). If |major|, |minor| or |patch| is non-NULL it receives
 * that part. Compare with WMQ_LIB_VERSION_* to detect a header/library skew. */
WMQ_API const char *wmq_lib_version(int *major, int *minor, int *patch);

#ifdef __cplusplus
}
#endif
#endif
