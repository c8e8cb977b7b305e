/* SPDX-License-Identifier: MIT
 * url.c - the -L URL: mqtt://[username[:password]@]host[:port]/topic, with
 * "[v6addr]" hosts; mqtts:// is the same over TLS (default port 8883, set
 * by the caller). ws://[username[:password]@]host[:port][/path] and wss://
 * select WebSockets (plain / over TLS): the path is the upgrade's request
 * path (default "/mqtt") and the topic comes from -t. Ownership: out strings are heap copies (wmq_tool_url_cleanup).
 * Threading: reentrant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "tool.h"

void wmq_tool_url_cleanup(struct wmq_tool_url *u)
{
	wmq_free(u->username);
	wmq_free(u->password);
	wmq_free(u->host);
	wmq_free(u->topic);
	wmq_free(u->path);
	memset(u, 0, sizeof *u);
}

int wmq_tool_url_parse(const char *url, struct wmq_tool_url *u, char *errbuf, size_t errcap)
{
	const char *p, *slash, *at, *hend;
	memset(u, 0, sizeof *u);
	if (strncmp(url, "mqtt://", 7) == 0) {
		p = url + 7;
	} else if (strncmp(url, "mqtts://", 8) == 0) {
		p = url + 8;
		u->tls = true;
	} else if (strncmp(url, "ws://", 5) == 0) {
		p = url + 5;
		u->ws = true;
	} else if (strncmp(url, "wss://", 6) == 0) {
		p = url + 6;
		u->ws = true;
		u->tls = true;
	} else {
		snprintf(errbuf, errcap, "Unsupported URL scheme.");
		return -1;
	}
	slash = strchr(p, '/');
	if (u->ws && !slash)
		slash = p + strlen(p); /* no path: the default one */
	if (!u->ws && (!slash || slash[1] == '\0')) {
		snprintf(errbuf, errcap, "Invalid URL for -L argument specified - topic missing.");
		return -1;
	}
	/* the last '@' before the path separates the credentials */
	at = NULL;
	for (const char *q = p; q < slash; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon) {
			u->username = wmq_strndup(p, (size_t)(colon - p));
			u->password = wmq_strndup(colon + 1, (size_t)(at - colon - 1));
			if (!u->password)
				goto nomem;
		} else {
			u->username = wmq_strndup(p, (size_t)(at - p));
		}
		if (!u->username)
			goto nomem;
		p = at + 1;
	}
	const char *port = NULL;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(slash - p));
		if (!rb) {
			snprintf(errbuf, errcap, "Invalid URL for -L argument specified - bad host.");
			goto fail;
		}
		u->host = wmq_strndup(p + 1, (size_t)(rb - p - 1));
		hend = rb + 1;
		if (hend < slash) {
			if (*hend != ':') {
				snprintf(errbuf, errcap, "Invalid URL for -L argument specified - bad host.");
				goto fail;
			}
			port = hend + 1;
		}
	} else {
		const char *colon = memchr(p, ':', (size_t)(slash - p));
		hend = colon ? colon : slash;
		u->host = wmq_strndup(p, (size_t)(hend - p));
		if (colon)
			port = colon + 1;
	}
	if (!u->host)
		goto nomem;
	if (u->host[0] == '\0') {
		snprintf(errbuf, errcap, "Invalid URL for -L argument specified - host missing.");
		goto fail;
	}
	if (port) {
		long v = 0;
		if (port == slash) {
			snprintf(errbuf, errcap, "Invalid URL for -L argument specified - bad port.");
			goto fail;
		}
		for (const char *q = port; q < slash; q++) {
			if (*q < '0' || *q > '9' || v > 65535) {
				v = -1;
				break;
			}
			v = v * 10 + (*q - '0');
		}
		if (v < 1 || v > 65535) {
			snprintf(errbuf, errcap, "Invalid URL for -L argument specified - bad port.");
			goto fail;
		}
		u->port = (int)v;
	}
	if (u->ws) {
		if (*slash) {
			for (const char *q = slash; *q; q++) {
				if (*q <= 0x20 || *q >= 0x7F) {
					snprintf(errbuf, errcap,
						 "Invalid URL for -L argument specified - bad path.");
					goto fail;
				}
			}
			u->path = wmq_strdup(slash);
			if (!u->path)
				goto nomem;
		}
		return 0;
	}
	u->topic = wmq_strdup(slash + 1);
	if (!u->topic)
		goto nomem;
	return 0;
nomem:
	snprintf(errbuf, errcap, "Out of memory.");
fail:
	wmq_tool_url_cleanup(u);
	return -1;
}
