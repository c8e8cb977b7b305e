/* SPDX-License-Identifier: MIT
 * misc.c - public error strings, reason strings and the version query.
 * Threading: reentrant (const tables). */
#include <stddef.h>
#include <string.h>

#include "client_int.h"
#include "common/utf8.h"

const char *wmq_strerror(int code)
{
	switch (code) {
	case WMQ_E_OK:
		return "success";
	case WMQ_E_NOMEM:
		return "out of memory";
	case WMQ_E_INVAL:
		return "invalid argument";
	case WMQ_E_NO_CONN:
		return "not connected";
	case WMQ_E_CONN_REFUSED:
		return "connection refused by the server";
	case WMQ_E_CONN_LOST:
		return "connection lost";
	case WMQ_E_PROTOCOL:
		return "protocol error";
	case WMQ_E_IO:
		return "i/o error";
	case WMQ_E_LOOKUP:
		return "host name lookup failed";
	case WMQ_E_TIMEOUT:
		return "timed out";
	case WMQ_E_KEEPALIVE:
		return "keepalive timeout";
	case WMQ_E_QUEUE_FULL:
		return "queue full";
	case WMQ_E_TOO_LARGE:
		return "packet too large";
	case WMQ_E_NOT_SUPPORTED:
		return "not supported";
	case WMQ_E_STATE:
		return "not allowed in the current state";
	case WMQ_E_SERVER_DISCONNECT:
		return "disconnected by the server";
	case WMQ_E_AUTH:
		return "authentication failed";
	case WMQ_E_CONNECT_FAILED:
		return "connection failed";
	case WMQ_E_INTERNAL:
		return "internal error";
	case WMQ_E_TLS:
		return "TLS error";
	default:
		return "unknown error";
	}
}

/* MQTT 5.0 §2.4 Table 2-6, names as the specification capitalises them. */
static const char *const reason_names[256] = {
	[0x00] = "Success",
	[0x01] = "Granted QoS 1",
	[0x02] = "Granted QoS 2",
	[0x04] = "Disconnect with Will Message",
	[0x10] = "No matching subscribers",
	[0x11] = "No subscription existed",
	[0x18] = "Continue authentication",
	[0x19] = "Re-authenticate",
	[0x80] = "Unspecified error",
	[0x81] = "Malformed Packet",
	[0x82] = "Protocol Error",
	[0x83] = "Implementation specific error",
	[0x84] = "Unsupported Protocol Version",
	[0x85] = "Client Identifier not valid",
	[0x86] = "Bad User Name or Password",
	[0x87] = "Not authorized",
	[0x88] = "Server unavailable",
	[0x89] = "Server busy",
	[0x8A] = "Banned",
	[0x8B] = "Server shutting down",
	[0x8C] = "Bad authentication method",
	[0x8D] = "Keep Alive timeout",
	[0x8E] = "Session taken over",
	[0x8F] = "Topic Filter invalid",
	[0x90] = "Topic Name invalid",
	[0x91] = "Packet Identifier in use",
	[0x92] = "Packet Identifier not found",
	[0x93] = "Receive Maximum exceeded",
	[0x94] = "Topic Alias invalid",
	[0x95] = "Packet too large",
	[0x96] = "Message rate too high",
	[0x97] = "Quota exceeded",
	[0x98] = "Administrative action",
	[0x99] = "Payload format invalid",
	[0x9A] = "Retain not supported",
	[0x9B] = "QoS not supported",
	[0x9C] = "Use another server",
	[0x9D] = "Server moved",
	[0x9E] = "Shared Subscriptions not supported",
	[0x9F] = "Connection rate exceeded",
	[0xA0] = "Maximum connect time",
	[0xA1] = "Subscription Identifiers not supported",
	[0xA2] = "Wildcard Subscriptions not supported",
};

const char *wmq_reason_string(int reason_code)
{
	if (reason_code < 0 || reason_code > 255 || !reason_names[reason_code])
		return "Unknown reason";
	return reason_names[reason_code];
}

const char *wmq_lib_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = WMQ_LIB_VERSION_MAJOR;
	if (minor)
		*minor = WMQ_LIB_VERSION_MINOR;
	if (patch)
		*patch = WMQ_LIB_VERSION_PATCH;
	return WMQ_VERSION;
}

int wmq_client_err_public(wmq_err e)
{
	switch (e) {
	case WMQ_OK:
		return WMQ_E_OK;
	case WMQ_ERR_NOMEM:
		return WMQ_E_NOMEM;
	case WMQ_ERR_MALFORMED:
	case WMQ_ERR_PROTOCOL:
		return WMQ_E_PROTOCOL;
	case WMQ_ERR_LIMIT:
		return WMQ_E_QUEUE_FULL;
	case WMQ_ERR_IO:
		return WMQ_E_IO;
	case WMQ_ERR_INVAL:
		return WMQ_E_INVAL;
	case WMQ_ERR_CLOSED:
		return WMQ_E_CONN_LOST;
	case WMQ_ERR_AGAIN:
		return WMQ_E_QUEUE_FULL;
	case WMQ_ERR_TLS:
		return WMQ_E_TLS;
	default:
		return WMQ_E_INTERNAL;
	}
}

static bool topic_bytes(const char *s, struct wmq_bytes *out)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	if (n == 0 || n > 65535 || !wmq_utf8_valid((const uint8_t *)s, n))
		return false;
	*out = (struct wmq_bytes){(const uint8_t *)s, n};
	return true;
}

bool wmq_topic_name_is_valid(const char *topic)
{
	struct wmq_bytes b;
	return topic_bytes(topic, &b) && wmq_topic_name_valid(b);
}

bool wmq_topic_filter_is_valid(const char *filter)
{
	struct wmq_bytes b;
	return topic_bytes(filter, &b) && wmq_topic_filter_valid(b);
}

bool wmq_topic_matches(const char *filter, const char *topic)
{
	struct wmq_bytes f, t;
	if (!topic_bytes(filter, &f) || !topic_bytes(topic, &t))
		return false;
	if (!wmq_topic_filter_valid(f) || !wmq_topic_name_valid(t))
		return false;
	return wmq_topic_match(f, t);
}
