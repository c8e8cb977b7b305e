/* SPDX-License-Identifier: MIT
 * mqtt.h - MQTT 3.1, 3.1.1 and 5.0 packet codec: types, decode, encode.
 *
 * Role: pure codec shared by the broker and the client library. No I/O, no
 * allocation: decoded packets hold borrowed slices (struct wmq_bytes) into the
 * caller's packet buffer and are valid only while that buffer lives.
 * Threading: reentrant. Spec: OASIS MQTT 3.1.1 (2014) and MQTT 5.0 (2019);
 * rule ids like [MQTT-3.1.2-4] are cited at the code that enforces them.
 *
 * Decoding: first wmq_mqtt_frame() on the stream buffer to find one complete
 * packet, then wmq_mqtt_decode() on its body. Errors: WMQ_ERR_MALFORMED
 * (reason 0x81) or WMQ_ERR_PROTOCOL (reason 0x82); *rc_out says which reason
 * code a DISCONNECT/CONNACK should carry (it may be more specific, e.g. 0x84
 * unsupported protocol version, 0x85 client identifier not valid).
 * The codec returns exactly these combinations:
 *   WMQ_ERR_MALFORMED + 0x81: the bytes do not parse (truncation, bad UTF-8,
 *     reserved bits/flags, unknown property id or one not valid for the
 *     packet type, trailing bytes, QoS 3, DUP on QoS 0, ...);
 *   WMQ_ERR_PROTOCOL + 0x82: the packet parses but carries a value the
 *     protocol forbids (duplicate property, value out of range, packet id 0,
 *     a reason code the packet may not carry, wildcard in a Topic Name, no
 *     SUBSCRIBE/UNSUBSCRIBE entries, a packet the sender may not send, ...);
 *   WMQ_ERR_PROTOCOL + 0x84: CONNECT with an unknown protocol name or a
 *     level that does not go with it (answer with CONNACK 0x84 / 3.1.1
 *     return code 1);
 *   WMQ_ERR_PROTOCOL + 0x85: 3.1.1 CONNECT with an empty client id and
 *     clean session 0 [MQTT-3.1.3-8] (CONNACK return code 2);
 *   WMQ_ERR_PROTOCOL + 0x83: more than 65535 entries, user properties or
 *     subscription identifiers (our 16-bit counters).
 *
 * Encoding: wmq_mqtt_encode() writes one whole packet (fixed header included)
 * into a wmq_wr; wmq_mqtt_encoded_len() gives its exact size first. Fields the
 * protocol version does not have (properties and reason codes in 3.1.1) are
 * left out by the encoder, so callers can fill one struct for both versions. */
#ifndef WMQ_PROTOCOL_MQTT_H
#define WMQ_PROTOCOL_MQTT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/* Protocol level byte of CONNECT. */
enum wmq_ver {
	WMQ_V31 = 3,  /* "MQIsdp" */
	WMQ_V311 = 4, /* "MQTT" */
	WMQ_V5 = 5,   /* "MQTT" */
};

enum wmq_ptype {
	WMQ_CONNECT = 1,
	WMQ_CONNACK = 2,
	WMQ_PUBLISH = 3,
	WMQ_PUBACK = 4,
	WMQ_PUBREC = 5,
	WMQ_PUBREL = 6,
	WMQ_PUBCOMP = 7,
	WMQ_SUBSCRIBE = 8,
	WMQ_SUBACK = 9,
	WMQ_UNSUBSCRIBE = 10,
	WMQ_UNSUBACK = 11,
	WMQ_PINGREQ = 12,
	WMQ_PINGRESP = 13,
	WMQ_DISCONNECT = 14,
	WMQ_AUTH = 15,
};

/* MQTT 5 reason codes (§2.4). MQTT 3.1.1 CONNACK return codes are mapped by
 * wmq_rc_to_v311_connack(). */
enum wmq_rc {
	WMQ_RC_SUCCESS = 0x00, /* also: normal disconnection, granted QoS 0 */
	WMQ_RC_GRANTED_QOS1 = 0x01,
	WMQ_RC_GRANTED_QOS2 = 0x02,
	WMQ_RC_DISCONNECT_WITH_WILL = 0x04,
	WMQ_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
	WMQ_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
	WMQ_RC_CONTINUE_AUTH = 0x18,
	WMQ_RC_REAUTHENTICATE = 0x19,
	WMQ_RC_UNSPECIFIED = 0x80,
	WMQ_RC_MALFORMED = 0x81,
	WMQ_RC_PROTOCOL_ERROR = 0x82,
	WMQ_RC_IMPL_SPECIFIC = 0x83,
	WMQ_RC_UNSUPPORTED_VERSION = 0x84,
	WMQ_RC_CLIENT_ID_INVALID = 0x85,
	WMQ_RC_BAD_USER_OR_PASSWORD = 0x86,
	WMQ_RC_NOT_AUTHORIZED = 0x87,
	WMQ_RC_SERVER_UNAVAILABLE = 0x88,
	WMQ_RC_SERVER_BUSY = 0x89,
	WMQ_RC_BANNED = 0x8A,
	WMQ_RC_SERVER_SHUTTING_DOWN = 0x8B,
	WMQ_RC_BAD_AUTH_METHOD = 0x8C,
	WMQ_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
	WMQ_RC_SESSION_TAKEN_OVER = 0x8E,
	WMQ_RC_TOPIC_FILTER_INVALID = 0x8F,
	WMQ_RC_TOPIC_NAME_INVALID = 0x90,
	WMQ_RC_PACKET_ID_IN_USE = 0x91,
	WMQ_RC_PACKET_ID_NOT_FOUND = 0x92,
	WMQ_RC_RECEIVE_MAX_EXCEEDED = 0x93,
	WMQ_RC_TOPIC_ALIAS_INVALID = 0x94,
	WMQ_RC_PACKET_TOO_LARGE = 0x95,
	WMQ_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
	WMQ_RC_QUOTA_EXCEEDED = 0x97,
	WMQ_RC_ADMIN_ACTION = 0x98,
	WMQ_RC_PAYLOAD_FORMAT_INVALID = 0x99,
	WMQ_RC_RETAIN_NOT_SUPPORTED = 0x9A,
	WMQ_RC_QOS_NOT_SUPPORTED = 0x9B,
	WMQ_RC_USE_ANOTHER_SERVER = 0x9C,
	WMQ_RC_SERVER_MOVED = 0x9D,
	WMQ_RC_SHARED_SUB_NOT_SUPPORTED = 0x9E,
	WMQ_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
	WMQ_RC_MAX_CONNECT_TIME = 0xA0,
	WMQ_RC_SUB_IDS_NOT_SUPPORTED = 0xA1,
	WMQ_RC_WILDCARD_SUBS_NOT_SUPPORTED = 0xA2,
};

/* Short English name of a reason code ("not authorized"); never NULL. */
const char *wmq_rc_str(uint8_t rc);
/* MQTT 3.1.1 CONNACK return code (0..5) for a v5 CONNACK reason code. */
uint8_t wmq_rc_to_v311_connack(uint8_t rc);

/* Property identifiers (§2.2.2.2). */
enum wmq_prop_id {
	WMQ_PROP_PAYLOAD_FORMAT = 0x01,
	WMQ_PROP_MESSAGE_EXPIRY = 0x02,
	WMQ_PROP_CONTENT_TYPE = 0x03,
	WMQ_PROP_RESPONSE_TOPIC = 0x08,
	WMQ_PROP_CORRELATION_DATA = 0x09,
	WMQ_PROP_SUB_ID = 0x0B,
	WMQ_PROP_SESSION_EXPIRY = 0x11,
	WMQ_PROP_ASSIGNED_CLIENT_ID = 0x12,
	WMQ_PROP_SERVER_KEEP_ALIVE = 0x13,
	WMQ_PROP_AUTH_METHOD = 0x15,
	WMQ_PROP_AUTH_DATA = 0x16,
	WMQ_PROP_REQUEST_PROBLEM_INFO = 0x17,
	WMQ_PROP_WILL_DELAY = 0x18,
	WMQ_PROP_REQUEST_RESPONSE_INFO = 0x19,
	WMQ_PROP_RESPONSE_INFO = 0x1A,
	WMQ_PROP_SERVER_REFERENCE = 0x1C,
	WMQ_PROP_REASON_STRING = 0x1F,
	WMQ_PROP_RECEIVE_MAX = 0x21,
	WMQ_PROP_TOPIC_ALIAS_MAX = 0x22,
	WMQ_PROP_TOPIC_ALIAS = 0x23,
	WMQ_PROP_MAX_QOS = 0x24,
	WMQ_PROP_RETAIN_AVAILABLE = 0x25,
	WMQ_PROP_USER = 0x26,
	WMQ_PROP_MAX_PACKET_SIZE = 0x27,
	WMQ_PROP_WILDCARD_SUB_AVAILABLE = 0x28,
	WMQ_PROP_SUB_ID_AVAILABLE = 0x29,
	WMQ_PROP_SHARED_SUB_AVAILABLE = 0x2A,
};

/* "Will properties" are decoded with this pseudo packet type. */
#define WMQ_PTYPE_WILL 16

/* Bit for property |id| in wmq_props.present (ids are < 64). */
#define WMQ_PROP_BIT(id) ((uint64_t)1 << (id))

struct wmq_user_prop {
	struct wmq_bytes key;
	struct wmq_bytes value;
};

/* An MQTT 5 property block.
 *
 * Decoded: |present| has WMQ_PROP_BIT(id) set for each property seen, the
 * scalar/slice fields hold the values, |raw| is the whole block (without its
 * length prefix), |n_user| counts user properties and |n_sub_ids| counts
 * subscription identifiers (|sub_id| is the first); iterate them with
 * wmq_props_next_user() / wmq_props_next_sub_id(). |user| and |sub_ids| are
 * NULL after decoding.
 *
 * Encoding: set |present| bits and values; user properties come from
 * |user|[0..n_user) and subscription identifiers from |sub_ids|[0..n_sub_ids)
 * (their present bits are ignored; a NULL array encodes nothing whatever
 * the count); |raw| bytes, if non-empty, are appended verbatim after them (a
 * pre-encoded block, e.g. a forwarded message's properties). Order on the
 * wire: present properties by ascending id, subscription ids, user
 * properties, raw. Zero-initialise for "no properties".
 *
 * A decoded block is not re-encodable as it is (present bits and raw would
 * both be written). Either keep only |raw| (present = n_user = n_sub_ids =
 * 0: byte-exact forward) or clear |raw| (encode from the fields; user
 * properties and subscription ids are then lost unless arrays are set). */
struct wmq_props {
	uint64_t present;
	uint8_t payload_format;
	uint32_t message_expiry;
	struct wmq_bytes content_type;
	struct wmq_bytes response_topic;
	struct wmq_bytes correlation_data;
	uint32_t sub_id;
	uint32_t session_expiry;
	struct wmq_bytes assigned_client_id;
	uint16_t server_keep_alive;
	struct wmq_bytes auth_method;
	struct wmq_bytes auth_data;
	uint8_t request_problem_info;
	uint32_t will_delay;
	uint8_t request_response_info;
	struct wmq_bytes response_info;
	struct wmq_bytes server_reference;
	struct wmq_bytes reason_string;
	uint16_t receive_max;
	uint16_t topic_alias_max;
	uint16_t topic_alias;
	uint8_t max_qos;
	uint8_t retain_available;
	uint32_t max_packet_size;
	uint8_t wildcard_sub_available;
	uint8_t sub_id_available;
	uint8_t shared_sub_available;

	uint16_t n_user;
	const struct wmq_user_prop *user;
	uint16_t n_sub_ids;
	const uint32_t *sub_ids;
	struct wmq_bytes raw;
};

static inline bool wmq_props_has(const struct wmq_props *p, enum wmq_prop_id id)
{
	return (p->present & WMQ_PROP_BIT(id)) != 0;
}

/* Iterate user properties of a decoded block (walks |raw|; the |user| array
 * is not consulted). |*pos| starts at 0. Returns true and fills k/v while
 * there are more. */
bool wmq_props_next_user(const struct wmq_props *p, size_t *pos, struct wmq_bytes *k,
			 struct wmq_bytes *v);
/* Iterate subscription identifiers of a decoded block (same protocol). */
bool wmq_props_next_sub_id(const struct wmq_props *p, size_t *pos, uint32_t *id);

/* Decode a property block (length prefix included) from |r| for packet type
 * |ptype| (or WMQ_PTYPE_WILL). Enforces: known ids only, each property valid
 * for the packet type, no duplicates (except user properties, and
 * subscription ids when |ptype| is PUBLISH and |from_server|), value ranges
 * (payload format 0/1, request_* 0/1, max_qos 0/1, *_available 0/1,
 * receive_max != 0, max_packet_size != 0, sub_id 1..268435455, topic_alias
 * != 0, response_topic a valid Topic Name [MQTT-3.3.2-14], auth_data only
 * with auth_method in CONNECT and AUTH), UTF-8 validity of string
 * properties. MALFORMED (unknown id, id not valid for |ptype|, bad value
 * encoding, block longer than |r|) or PROTOCOL (duplicate, range) on
 * violation (rc in *rc_out). |out| is zeroed first; |r| is advanced past
 * the block on success. */
WMQ_MUST_USE wmq_err wmq_props_decode(struct wmq_rd *r, int ptype, bool from_server,
				      struct wmq_props *out, uint8_t *rc_out);
/* Encoded size of the block, length prefix excluded. */
size_t wmq_props_len(const struct wmq_props *p);
/* Write length prefix + block. */
void wmq_props_encode(struct wmq_wr *w, const struct wmq_props *p);
/* Copy the properties in |raw| (a decoded block body) to |w| leaving out
 * those whose id bit is set in |drop_mask|; no length prefix is written.
 * Used to forward a PUBLISH without its topic alias and subscription ids.
 * Returns the number of bytes that were (or would be) written; |w| may be
 * NULL to only compute that size. Stops at the first property that does not
 * parse (never the case for a block from wmq_props_decode). */
size_t wmq_props_filter(struct wmq_bytes raw, uint64_t drop_mask, struct wmq_wr *w);

/* ---- packets ---------------------------------------------------------- */

struct wmq_connect {
	uint8_t version;            /* WMQ_V31, WMQ_V311, WMQ_V5 */
	struct wmq_bytes proto_name; /* "MQTT" or "MQIsdp" */
	bool clean;                 /* clean session (3.1.1) / clean start (5) */
	uint16_t keepalive;
	struct wmq_bytes client_id; /* may be empty */
	struct wmq_props props;
	bool will;
	uint8_t will_qos;
	bool will_retain;
	struct wmq_props will_props;
	struct wmq_bytes will_topic;
	struct wmq_bytes will_payload;
	bool has_username;
	struct wmq_bytes username;
	bool has_password;
	struct wmq_bytes password;
};

struct wmq_connack {
	bool session_present;
	uint8_t rc; /* v5 reason code; the encoder maps it for 3.1.1 */
	struct wmq_props props;
};

struct wmq_publish {
	uint8_t qos;
	bool dup;
	bool retain;
	struct wmq_bytes topic; /* may be empty in v5 when a topic alias is used */
	uint16_t packet_id;     /* QoS > 0 only */
	struct wmq_props props;
	struct wmq_bytes payload;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
struct wmq_ack {
	uint16_t packet_id;
	uint8_t rc;
	struct wmq_props props;
};

/* Subscription options byte (§3.8.3.1). */
struct wmq_subopts {
	uint8_t qos;
	bool no_local;
	bool retain_as_published;
	uint8_t retain_handling; /* 0, 1, 2 */
};

struct wmq_subscribe {
	uint16_t packet_id;
	struct wmq_props props;
	uint16_t count;           /* number of topic filters (>= 1) */
	struct wmq_bytes entries; /* raw payload; iterate with wmq_subscribe_next */
};

struct wmq_suback {
	uint16_t packet_id;
	struct wmq_props props;
	uint16_t count;
	const uint8_t *rcs; /* count reason codes (decode: borrowed; encode: caller's) */
};

struct wmq_unsubscribe {
	uint16_t packet_id;
	struct wmq_props props;
	uint16_t count;
	struct wmq_bytes entries; /* iterate with wmq_unsubscribe_next */
};

/* UNSUBACK has the same shape as SUBACK (3.1.1 carries no reason codes). */
#define wmq_unsuback wmq_suback

struct wmq_disconnect {
	uint8_t rc;
	struct wmq_props props;
};

struct wmq_auth {
	uint8_t rc;
	struct wmq_props props;
};

struct wmq_pkt {
	uint8_t type;  /* enum wmq_ptype */
	uint8_t flags; /* low nibble of the fixed header as received */
	union {
		struct wmq_connect connect;
		struct wmq_connack connack;
		struct wmq_publish publish;
		struct wmq_ack ack;
		struct wmq_subscribe subscribe;
		struct wmq_suback suback; /* also UNSUBACK */
		struct wmq_unsubscribe unsubscribe;
		struct wmq_disconnect disconnect;
		struct wmq_auth auth;
	} u;
};

/* Iterate SUBSCRIBE entries. |*pos| starts at 0. The filter is UTF-8
 * validated at decode time already; options are validated too: reserved
 * bits 0 (v5 [MQTT-3.8.3-5], 3.1.1 [MQTT-3-8.3-4]: Malformed), QoS != 3 and
 * retain handling != 3 (v5: Protocol Error per §3.8.3.1; 3.1.1 QoS 3:
 * Malformed), no No Local on a "$share/" filter (v5 [MQTT-3.8.3-4]). */
bool wmq_subscribe_next(const struct wmq_subscribe *s, size_t *pos, struct wmq_bytes *filter,
			struct wmq_subopts *opts);
bool wmq_unsubscribe_next(const struct wmq_unsubscribe *u, size_t *pos, struct wmq_bytes *filter);
/* Encode-side helpers: write one SUBSCRIBE / UNSUBSCRIBE entry into a
 * caller buffer that then becomes |entries| (version-aware options byte). */
void wmq_subscribe_entry_encode(struct wmq_wr *w, uint8_t version, struct wmq_bytes filter,
				const struct wmq_subopts *opts);

/* Find one packet at the start of |p|. On WMQ_OK: *first = type/flags byte,
 * *body_len = Remaining Length, *hdr_len = bytes of fixed header (2..5); the
 * packet occupies hdr_len + body_len bytes. WMQ_ERR_AGAIN: need more bytes
 * (never more than 5 to decide the size). WMQ_ERR_MALFORMED: bad Remaining
 * Length encoding. The size limit is the caller's to check, before it
 * buffers the body. WMQ_OK only needs the fixed header: the caller still
 * checks len >= hdr_len + body_len before decoding. Over-long (non-minimal)
 * Remaining Length encodings are accepted, as wmq_rd_varint() does. */
WMQ_MUST_USE wmq_err wmq_mqtt_frame(const uint8_t *p, size_t len, uint8_t *first,
				    uint32_t *body_len, size_t *hdr_len);

/* Decode one packet body. |version| is the connection's protocol version
 * (ignored for CONNECT, which carries its own; any value other than WMQ_V5
 * gets the 3.1.1 rules, AUTH then being a reserved type). |body| may be NULL
 * only when |len| is 0. |from_server| selects the
 * direction rules (which packets and properties a sender may use).
 * Checks: fixed header flags [MQTT-2.1.3-1] (PUBREL/SUBSCRIBE/UNSUBSCRIBE
 * must be 0x2, others 0, PUBLISH QoS 3 malformed [MQTT-3.3.1-4], DUP with
 * QoS 0 [MQTT-3.3.1-2]), packet id != 0 where present [MQTT-2.2.1-3],
 * CONNECT: protocol name/level, reserved flag [MQTT-3.1.2-3], will flags
 * [MQTT-3.1.2-11..15], username/password flags ([MQTT-3.1.2-22] in 3.1.1),
 * SUBSCRIBE/UNSUBSCRIBE non-empty [MQTT-3.8.3-3]/[MQTT-3.10.3-2], wildcard-free
 * PUBLISH topic [MQTT-3.3.2-2], no trailing bytes, and everything in
 * wmq_props_decode(). Topic filter syntax is checked by the caller with
 * wmq_topic_filter_valid() so it can answer per filter.
 * On error *rc_out holds the reason code to send; on success it is 0 and
 * |out| is fully initialised (fields the packet lacks are zero). */
WMQ_MUST_USE wmq_err wmq_mqtt_decode(uint8_t version, bool from_server, uint8_t first,
				     const uint8_t *body, size_t len, struct wmq_pkt *out,
				     uint8_t *rc_out);

/* Exact encoded size (fixed header included) of |pkt| for |version|; 0 when
 * the packet cannot be encoded (unknown type, AUTH before MQTT 5). */
size_t wmq_mqtt_encoded_len(uint8_t version, const struct wmq_pkt *pkt);
/* Write one whole packet. PINGREQ/PINGRESP need only type. DISCONNECT and
 * AUTH in v5 use the short forms when rc == 0 and there are no properties
 * (§3.14.2.1, §3.15.2.1). PUBACK..PUBCOMP likewise (§3.4.2.1). Returns LIMIT
 * if the writer overflowed (also for strings over 65535 bytes or a Remaining
 * Length over 268435455), INVAL for a packet the version cannot carry.
 * pkt->flags is ignored: PUBLISH flags come from qos/dup/retain, the others
 * are fixed. CONNECT is written for |version| (protocol name "MQIsdp" for
 * WMQ_V31, "MQTT" otherwise, level = |version|); connect.version and
 * proto_name are not used, and the flag byte follows will/will_qos/
 * will_retain/has_username/has_password/clean. No field is validated:
 * encoding is the sender's responsibility. */
WMQ_MUST_USE wmq_err wmq_mqtt_encode(struct wmq_wr *w, uint8_t version, const struct wmq_pkt *pkt);

/* ---- topics ----------------------------------------------------------- */

/* Topic Name rules: 1..65535 bytes, no '+' or '#' [MQTT-4.7.1-1], no
 * U+0000 (already guaranteed by UTF-8 decoding). */
bool wmq_topic_name_valid(struct wmq_bytes t);
/* Topic Filter rules: non-empty; '#' only as the whole last level
 * [MQTT-4.7.1-2]; '+' only as a whole level [MQTT-4.7.1-3]. A shared
 * subscription "$share/{group}/{filter}" is valid when group is non-empty
 * and has no '+', '#' or '/' and filter is valid [MQTT-4.8.2-1/2]. */
bool wmq_topic_filter_valid(struct wmq_bytes f);
/* Does |filter| (plain, not $share) match |name|? Wildcards at the first
 * level do not match names beginning with '$' [MQTT-4.7.2-1]. An empty
 * filter or name matches nothing; a '#' that is not the last level never
 * matches. O(length), no recursion. */
bool wmq_topic_match(struct wmq_bytes filter, struct wmq_bytes name);
/* Split "$share/group/filter". Returns true and fills group and filter if
 * |f| is a shared subscription, false otherwise (outputs untouched). True
 * means only the shape "$share/" .. '/' ..: the group may be empty and the
 * filter invalid; wmq_topic_filter_valid() says whether it is acceptable. */
bool wmq_topic_shared_split(struct wmq_bytes f, struct wmq_bytes *group, struct wmq_bytes *filter);
/* Number of levels in a topic or filter ("a/b" = 2, "" = 1, "/" = 2). */
size_t wmq_topic_levels(struct wmq_bytes t);
/* Iterate levels: |*pos| starts at 0; returns false after the last level. */
bool wmq_topic_next_level(struct wmq_bytes t, size_t *pos, struct wmq_bytes *level);

#endif
