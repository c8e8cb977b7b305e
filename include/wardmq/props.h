/* SPDX-License-Identifier: MIT
 * wardmq/props.h - MQTT 5 property lists.
 *
 * A wmq_properties object is either
 *   - built by the application (wmq_properties_new() + wmq_properties_add_*),
 *     then passed to connect/publish/subscribe/... which copy what they need:
 *     the application keeps ownership and may free or reuse it right after
 *     the call returns; or
 *   - handed to a callback by the library (CONNACK, received PUBLISH,
 *     SUBACK, DISCONNECT, AUTH ...): borrowed, read-only, valid only until
 *     the callback returns. Copy with wmq_properties_copy() to keep it.
 * Strings and binary data read from a list are NOT NUL-terminated: use the
 * length. Properties are ignored on MQTT 3.1 / 3.1.1 connections.
 * Threading: an object may be used by one thread at a time; distinct
 * objects are independent. The name/type lookups are thread-safe. */
#ifndef WARDMQ_PROPS_H
#define WARDMQ_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wardmq/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Property identifiers (MQTT 5.0 §2.2.2.2): the wire values. */
enum wmq_property {
	WMQ_PROPERTY_PAYLOAD_FORMAT_INDICATOR = 0x01,   /* byte */
	WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL = 0x02,    /* u32 */
	WMQ_PROPERTY_CONTENT_TYPE = 0x03,               /* string */
	WMQ_PROPERTY_RESPONSE_TOPIC = 0x08,             /* string */
	WMQ_PROPERTY_CORRELATION_DATA = 0x09,           /* binary */
	WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER = 0x0B,    /* varint, may repeat in received PUBLISH */
	WMQ_PROPERTY_SESSION_EXPIRY_INTERVAL = 0x11,    /* u32 */
	WMQ_PROPERTY_ASSIGNED_CLIENT_IDENTIFIER = 0x12, /* string */
	WMQ_PROPERTY_SERVER_KEEP_ALIVE = 0x13,          /* u16 */
	WMQ_PROPERTY_AUTHENTICATION_METHOD = 0x15,      /* string */
	WMQ_PROPERTY_AUTHENTICATION_DATA = 0x16,        /* binary */
	WMQ_PROPERTY_REQUEST_PROBLEM_INFORMATION = 0x17, /* byte */
	WMQ_PROPERTY_WILL_DELAY_INTERVAL = 0x18,        /* u32 */
	WMQ_PROPERTY_REQUEST_RESPONSE_INFORMATION = 0x19, /* byte */
	WMQ_PROPERTY_RESPONSE_INFORMATION = 0x1A,       /* string */
	WMQ_PROPERTY_SERVER_REFERENCE = 0x1C,           /* string */
	WMQ_PROPERTY_REASON_STRING = 0x1F,              /* string */
	WMQ_PROPERTY_RECEIVE_MAXIMUM = 0x21,            /* u16 */
	WMQ_PROPERTY_TOPIC_ALIAS_MAXIMUM = 0x22,        /* u16 */
	WMQ_PROPERTY_TOPIC_ALIAS = 0x23,                /* u16 */
	WMQ_PROPERTY_MAXIMUM_QOS = 0x24,                /* byte */
	WMQ_PROPERTY_RETAIN_AVAILABLE = 0x25,           /* byte */
	WMQ_PROPERTY_USER_PROPERTY = 0x26,              /* string pair, may repeat */
	WMQ_PROPERTY_MAXIMUM_PACKET_SIZE = 0x27,        /* u32 */
	WMQ_PROPERTY_WILDCARD_SUB_AVAILABLE = 0x28,     /* byte */
	WMQ_PROPERTY_SUB_ID_AVAILABLE = 0x29,           /* byte */
	WMQ_PROPERTY_SHARED_SUB_AVAILABLE = 0x2A,       /* byte */
};

/* Value type of a property. */
enum wmq_property_type {
	WMQ_PROPTYPE_INVALID = 0,
	WMQ_PROPTYPE_BYTE,
	WMQ_PROPTYPE_U16,
	WMQ_PROPTYPE_U32,
	WMQ_PROPTYPE_VARINT,
	WMQ_PROPTYPE_STRING,
	WMQ_PROPTYPE_BINARY,
	WMQ_PROPTYPE_STRING_PAIR,
};

/* Packets a property may appear in (wmq_property_allowed()). The values are
 * the MQTT packet types; WMQ_CMD_WILL stands for the will properties. */
enum wmq_command {
	WMQ_CMD_CONNECT = 1,
	WMQ_CMD_CONNACK = 2,
	WMQ_CMD_PUBLISH = 3,
	WMQ_CMD_PUBACK = 4,
	WMQ_CMD_PUBREC = 5,
	WMQ_CMD_PUBREL = 6,
	WMQ_CMD_PUBCOMP = 7,
	WMQ_CMD_SUBSCRIBE = 8,
	WMQ_CMD_SUBACK = 9,
	WMQ_CMD_UNSUBSCRIBE = 10,
	WMQ_CMD_UNSUBACK = 11,
	WMQ_CMD_DISCONNECT = 14,
	WMQ_CMD_AUTH = 15,
	WMQ_CMD_WILL = 16,
};

typedef struct wmq_properties wmq_properties;

/* ---- names and types (thread-safe) ------------------------------------- */

/* Property id for a name as used by mosquitto's -D option and the MQTT 5
 * specification in lower case with dashes ("message-expiry-interval",
 * "user-property"); -1 if unknown. */
WMQ_API int wmq_property_from_name(const char *name);
/* The dashed name of |id| ("content-type"), or NULL if unknown. */
WMQ_API const char *wmq_property_name(int id);
/* Value type of |id|, WMQ_PROPTYPE_INVALID if unknown. */
WMQ_API enum wmq_property_type wmq_property_type_of(int id);
/* May |id| appear in packet |cmd| (enum wmq_command) sent by a client?
 * Properties only a server sends (e.g. assigned-client-identifier) are
 * reported for the packets the server sends them in. */
WMQ_API bool wmq_property_allowed(int id, int cmd);
/* Packet for a -D command name ("connect", "publish", "subscribe",
 * "unsubscribe", "disconnect", "auth", "will", "puback", "pubrec",
 * "pubrel", "pubcomp"); -1 if unknown. */
WMQ_API int wmq_command_from_name(const char *name);

/* ---- building ----------------------------------------------------------- */

/* A new empty list, or NULL when out of memory. Ownership: caller; free
 * with wmq_properties_free(). */
WMQ_API wmq_properties *wmq_properties_new(void);
/* Free a list made by wmq_properties_new() or wmq_properties_copy().
 * NULL-safe. Never call on a list the library lent to a callback. */
WMQ_API void wmq_properties_free(wmq_properties *p);
/* Remove every property (the object stays usable). */
WMQ_API void wmq_properties_clear(wmq_properties *p);
/* A deep, owned copy of any list (built or borrowed) into *out.
 * Returns WMQ_E_OK, WMQ_E_NOMEM or WMQ_E_INVAL. */
WMQ_API int wmq_properties_copy(const wmq_properties *src, wmq_properties **out);

/* Add (or replace, for properties that may occur once) an integer property
 * (byte, u16, u32 or varint type). WMQ_E_INVAL if |id| is not an integer
 * property or |value| is out of its range (e.g. payload format > 1,
 * receive maximum 0, subscription identifier 0 or > 268435455). Adding a
 * subscription identifier more than once keeps every value. */
WMQ_API int wmq_properties_add_int(wmq_properties *p, int id, uint32_t value);
/* Add or replace a UTF-8 string property (NUL-terminated |s|, copied).
 * WMQ_E_INVAL if |id| is not a string property or |s| is not valid MQTT
 * UTF-8 or longer than 65535 bytes. */
WMQ_API int wmq_properties_add_string(wmq_properties *p, int id, const char *s);
/* Add or replace a binary property (correlation data, authentication
 * data); |len| <= 65535; copied. */
WMQ_API int wmq_properties_add_binary(wmq_properties *p, int id, const void *data, size_t len);
/* Append a user property (name, value: NUL-terminated UTF-8, copied). */
WMQ_API int wmq_properties_add_user(wmq_properties *p, const char *name, const char *value);
/* Remove every occurrence of |id|. Returns how many were removed. */
WMQ_API size_t wmq_properties_remove(wmq_properties *p, int id);

/* ---- reading (works on built and borrowed lists) ------------------------ */

/* Is |id| present at least once? */
WMQ_API bool wmq_properties_has(const wmq_properties *p, int id);
/* How many times |id| occurs (user properties and subscription identifiers
 * may repeat; 0 or 1 for the others). NULL |p| counts as empty. */
WMQ_API size_t wmq_properties_count(const wmq_properties *p, int id);
/* Read an integer property. Returns true and sets *value if present. For a
 * subscription identifier this is the first one. */
WMQ_API bool wmq_properties_get_int(const wmq_properties *p, int id, uint32_t *value);
/* Read a string or binary property as (pointer, length); the bytes are not
 * NUL-terminated and live as long as the list. Returns true if present. */
WMQ_API bool wmq_properties_get_bytes(const wmq_properties *p, int id, const void **data,
				      size_t *len);
/* The |index|-th user property (0-based, in wire order). */
WMQ_API bool wmq_properties_get_user(const wmq_properties *p, size_t index, const char **name,
				     size_t *name_len, const char **value, size_t *value_len);
/* The |index|-th subscription identifier (a received PUBLISH carries one
 * per matching subscription that had one). */
WMQ_API bool wmq_properties_get_sub_id(const wmq_properties *p, size_t index, uint32_t *id);

#ifdef __cplusplus
}
#endif
#endif
