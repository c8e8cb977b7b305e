/* SPDX-License-Identifier: MIT
 * err.c - error names and thread-local origin notes. */
#include "common/err.h"

#include <stdio.h>

static const char *const names[WMQ_ERR__COUNT] = {
	[WMQ_OK] = "success",
	[WMQ_ERR_NOMEM] = "out of memory",
	[WMQ_ERR_MALFORMED] = "malformed packet",
	[WMQ_ERR_PROTOCOL] = "protocol error",
	[WMQ_ERR_LIMIT] = "limit exceeded",
	[WMQ_ERR_DENIED] = "not authorized",
	[WMQ_ERR_IO] = "i/o error",
	[WMQ_ERR_TLS] = "tls error",
	[WMQ_ERR_STORE] = "store error",
	[WMQ_ERR_INVAL] = "invalid argument",
	[WMQ_ERR_INTERNAL] = "internal error",
	[WMQ_ERR_AGAIN] = "try again",
	[WMQ_ERR_NOTFOUND] = "not found",
	[WMQ_ERR_CLOSED] = "connection closed",
};

static _Thread_local char origin[96];

const char *wmq_err_str(wmq_err e)
{
	if ((unsigned)e >= WMQ_ERR__COUNT)
		return "unknown error";
	return names[e];
}

wmq_err wmq_err_note(wmq_err e, const char *file, int line)
{
	snprintf(origin, sizeof origin, "%s:%d", file, line);
	return e;
}

const char *wmq_err_origin(void)
{
	return origin;
}
