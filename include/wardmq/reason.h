/* SPDX-License-Identifier: MIT
 * wardmq/reason.h - MQTT reason codes as reported by libwardmq callbacks.
 *
 * Every reason code the library hands to the application is in MQTT 5 space
 * (MQTT 5.0 §2.4), also on MQTT 3.1 / 3.1.1 connections: a 3.1.1 CONNACK
 * return code is mapped up (1 -> 0x84, 2 -> 0x85, 3 -> 0x88, 4 -> 0x86,
 * 5 -> 0x87), a 3.1.1 SUBACK failure 0x80 stays 0x80 and granted QoS values
 * 0..2 are the same numbers in both versions; 3.1.1 acknowledgements carry
 * no reason code and are reported as WMQ_REASON_SUCCESS.
 * Threading: thread-safe (pure). */
#ifndef WARDMQ_REASON_H
#define WARDMQ_REASON_H

#include "wardmq/err.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wmq_reason {
	WMQ_REASON_SUCCESS = 0x00, /* also "normal disconnection" and "granted QoS 0" */
	WMQ_REASON_GRANTED_QOS1 = 0x01,
	WMQ_REASON_GRANTED_QOS2 = 0x02,
	WMQ_REASON_DISCONNECT_WITH_WILL = 0x04,
	WMQ_REASON_NO_MATCHING_SUBSCRIBERS = 0x10,
	WMQ_REASON_NO_SUBSCRIPTION_EXISTED = 0x11,
	WMQ_REASON_CONTINUE_AUTH = 0x18,
	WMQ_REASON_REAUTHENTICATE = 0x19,
	WMQ_REASON_UNSPECIFIED = 0x80,
	WMQ_REASON_MALFORMED_PACKET = 0x81,
	WMQ_REASON_PROTOCOL_ERROR = 0x82,
	WMQ_REASON_IMPL_SPECIFIC = 0x83,
	WMQ_REASON_UNSUPPORTED_VERSION = 0x84,
	WMQ_REASON_CLIENT_ID_INVALID = 0x85,
	WMQ_REASON_BAD_USERNAME_OR_PASSWORD = 0x86,
	WMQ_REASON_NOT_AUTHORIZED = 0x87,
	WMQ_REASON_SERVER_UNAVAILABLE = 0x88,
	WMQ_REASON_SERVER_BUSY = 0x89,
	WMQ_REASON_BANNED = 0x8A,
	WMQ_REASON_SERVER_SHUTTING_DOWN = 0x8B,
	WMQ_REASON_BAD_AUTH_METHOD = 0x8C,
	WMQ_REASON_KEEP_ALIVE_TIMEOUT = 0x8D,
	WMQ_REASON_SESSION_TAKEN_OVER = 0x8E,
	WMQ_REASON_TOPIC_FILTER_INVALID = 0x8F,
	WMQ_REASON_TOPIC_NAME_INVALID = 0x90,
	WMQ_REASON_PACKET_ID_IN_USE = 0x91,
	WMQ_REASON_PACKET_ID_NOT_FOUND = 0x92,
	WMQ_REASON_RECEIVE_MAX_EXCEEDED = 0x93,
	WMQ_REASON_TOPIC_ALIAS_INVALID = 0x94,
	WMQ_REASON_PACKET_TOO_LARGE = 0x95,
	WMQ_REASON_MESSAGE_RATE_TOO_HIGH = 0x96,
	WMQ_REASON_QUOTA_EXCEEDED = 0x97,
	WMQ_REASON_ADMIN_ACTION = 0x98,
	WMQ_REASON_PAYLOAD_FORMAT_INVALID = 0x99,
	WMQ_REASON_RETAIN_NOT_SUPPORTED = 0x9A,
	WMQ_REASON_QOS_NOT_SUPPORTED = 0x9B,
	WMQ_REASON_USE_ANOTHER_SERVER = 0x9C,
	WMQ_REASON_SERVER_MOVED = 0x9D,
	WMQ_REASON_SHARED_SUBS_NOT_SUPPORTED = 0x9E,
	WMQ_REASON_CONNECTION_RATE_EXCEEDED = 0x9F,
	WMQ_REASON_MAX_CONNECT_TIME = 0xA0,
	WMQ_REASON_SUB_IDS_NOT_SUPPORTED = 0xA1,
	WMQ_REASON_WILDCARD_SUBS_NOT_SUPPORTED = 0xA2,
};

/* English name of an MQTT 5 reason code, capitalised as in the
 * specification ("Not authorized"). Never NULL; codes outside the
 * specification give "Unknown reason". */
WMQ_API const char *wmq_reason_string(int reason_code);

#ifdef __cplusplus
}
#endif
#endif
