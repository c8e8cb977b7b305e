/* SPDX-License-Identifier: MIT
 * protocol_test.c - the MQTT codec against hand-written byte vectors.
 *
 * Every packet type in MQTT 3.1.1 and 5.0 is decoded from hex written from
 * the spec (fields checked one by one), encoded from a struct (bytes checked
 * against the same hex) and round-tripped; then the error cases, property
 * table, topic rules and Remaining Length framing. */
#include <string.h>

#include "protocol/mqtt.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------ */

struct vec {
	uint8_t b[1024];
	size_t n;
};

static void vec_hex(struct vec *v, const char *hex)
{
	v->n = test_hex(hex, v->b, sizeof v->b);
}

/* Frame and decode the whole packet in |v|. The vector must frame exactly. */
static wmq_err dec(uint8_t ver, bool from_server, const struct vec *v, struct wmq_pkt *pkt,
		   uint8_t *rc)
{
	uint8_t first = 0;
	uint32_t body = 0;
	size_t hdr = 0;
	ASSERT_EQ(wmq_mqtt_frame(v->b, v->n, &first, &body, &hdr), WMQ_OK);
	ASSERT_EQ(hdr + body, v->n);
	return wmq_mqtt_decode(ver, from_server, first, v->b + hdr, body, pkt, rc);
}

static wmq_err dec_hex(uint8_t ver, bool from_server, struct vec *v, const char *hex,
		       struct wmq_pkt *pkt, uint8_t *rc)
{
	vec_hex(v, hex);
	return dec(ver, from_server, v, pkt, rc);
}

/* Decode must fail with |err| and reason |want_rc|. */
static void expect_fail(uint8_t ver, bool from_server, const char *hex, wmq_err err,
			uint8_t want_rc)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc = 0;
	wmq_err e = dec_hex(ver, from_server, &v, hex, &pkt, &rc);
	if (e != err || rc != want_rc)
		TEST_FAIL_("%s: got err %d rc 0x%02x, want err %d rc 0x%02x", hex, (int)e, rc,
			   (int)err, want_rc);
}

static void expect_ok(uint8_t ver, bool from_server, const char *hex)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc = 0xff;
	wmq_err e = dec_hex(ver, from_server, &v, hex, &pkt, &rc);
	if (e != WMQ_OK || rc != 0)
		TEST_FAIL_("%s: got err %d rc 0x%02x, want OK", hex, (int)e, rc);
}

/* Encode |pkt| and compare with |hex|; also checks encoded_len. */
static void expect_enc(uint8_t ver, const struct wmq_pkt *pkt, const char *hex)
{
	struct vec want;
	uint8_t got[1024];
	vec_hex(&want, hex);
	struct wmq_wr w = wmq_wr_make(got, sizeof got);
	ASSERT_EQ(wmq_mqtt_encode(&w, ver, pkt), WMQ_OK);
	ASSERT_EQ(wmq_mqtt_encoded_len(ver, pkt), w.pos);
	if (w.pos != want.n)
		TEST_FAIL_("encoded %zu bytes, want %zu (%s)", w.pos, want.n, hex);
	ASSERT_MEMEQ(got, want.b, want.n);
}

static bool bytes_is(struct wmq_bytes b, const char *s)
{
	return wmq_bytes_eq_cstr(b, s);
}

/* Turn decoded properties into the "pre-encoded block" form so that the
 * packet re-encodes byte for byte. */
static void raw_only(struct wmq_props *p)
{
	struct wmq_bytes raw = p->raw;
	memset(p, 0, sizeof *p);
	p->raw = raw;
}

static void pkt_raw_only(struct wmq_pkt *p)
{
	switch (p->type) {
	case WMQ_CONNECT:
		raw_only(&p->u.connect.props);
		raw_only(&p->u.connect.will_props);
		break;
	case WMQ_CONNACK:
		raw_only(&p->u.connack.props);
		break;
	case WMQ_PUBLISH:
		raw_only(&p->u.publish.props);
		break;
	case WMQ_PUBACK:
	case WMQ_PUBREC:
	case WMQ_PUBREL:
	case WMQ_PUBCOMP:
		raw_only(&p->u.ack.props);
		break;
	case WMQ_SUBSCRIBE:
		raw_only(&p->u.subscribe.props);
		break;
	case WMQ_SUBACK:
	case WMQ_UNSUBACK:
		raw_only(&p->u.suback.props);
		break;
	case WMQ_UNSUBSCRIBE:
		raw_only(&p->u.unsubscribe.props);
		break;
	case WMQ_DISCONNECT:
		raw_only(&p->u.disconnect.props);
		break;
	case WMQ_AUTH:
		raw_only(&p->u.auth.props);
		break;
	default:
		break;
	}
}

/* ---- hand-written vectors ---------------------------------------------- */

/* 3.1.1 CONNECT: user "u", password "pw", will QoS 1 retained "w/t"="bye",
 * clean session, keep alive 60, client id "abc". */
#define V311_CONNECT                                                                               \
	"10 20 00 04 4d 51 54 54 04 ee 00 3c 00 03 61 62 63 00 03 77 2f 74 00 03 62 79 65"         \
	" 00 01 75 00 02 70 77"
/* v5 CONNECT: flags user+password+will QoS 2+clean, keep alive 30,
 * properties session expiry 120, auth method "m", auth data 01 02, receive
 * max 10, user k=v; client id "c1"; will properties payload format 1,
 * content type "t", will delay 10; will topic "wt" payload ab cd; user "u";
 * password 00 (binary). */
#define V5_CONNECT                                                                                 \
	"10 41 00 04 4d 51 54 54 05 d6 00 1e 18 11 00 00 00 78 15 00 01 6d 16 00 02 01 02"         \
	" 21 00 0a 26 00 01 6b 00 01 76 00 02 63 31 0b 01 01 03 00 01 74 18 00 00 00 0a"           \
	" 00 02 77 74 00 02 ab cd 00 01 75 00 01 00"
#define V31_CONNECT "10 10 00 06 4d 51 49 73 64 70 03 02 00 3c 00 02 63 31"
/* v5 CONNACK carrying every CONNACK-only property, in identifier order. */
#define V5_CONNACK                                                                                 \
	"20 2d 00 00 2a 12 00 03 61 62 63 13 00 3c 1a 00 01 72 1c 00 01 73 1f 00 01 78"           \
	" 21 00 14 22 00 0a 24 01 25 00 27 00 00 04 00 28 01 29 00 2a 01"
/* v5 PUBLISH QoS 2 from the server with every PUBLISH property, two
 * subscription identifiers (5 and 128), payload "xy". */
#define V5_PUBLISH                                                                                 \
	"34 30 00 01 74 00 07 28 01 01 02 00 00 00 3c 03 00 04 6a 73 6f 6e 08 00 03 72 2f 73"     \
	" 09 00 02 01 02 23 00 01 0b 05 0b 80 01 26 00 01 61 00 01 62 78 79"
#define V5_SUBSCRIBE                                                                               \
	"82 18 00 0a 02 0b 2a 00 03 61 2f 2b 2d 00 0a 24 73 68 61 72 65 2f 67 2f 78 00"

/* ---- framing ------------------------------------------------------------ */

TEST(frame_remaining_length_sizes)
{
	static const struct {
		const char *hex;
		uint32_t body;
		size_t hdr;
	} cases[] = {
		{"30 00", 0, 2},
		{"30 7f", 127, 2},
		{"30 80 01", 128, 3},
		{"30 ff 7f", 16383, 3},
		{"30 80 80 01", 16384, 4},
		{"30 ff ff 7f", 2097151, 4},
		{"30 80 80 80 01", 2097152, 5},
		{"30 ff ff ff 7f", 268435455, 5},
		{"30 80 00", 0, 3}, /* non-minimal accepted, as wmq_rd_varint does */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		struct vec v;
		uint8_t first = 0;
		uint32_t body = 0;
		size_t hdr = 0;
		vec_hex(&v, cases[i].hex);
		ASSERT_EQ(wmq_mqtt_frame(v.b, v.n, &first, &body, &hdr), WMQ_OK);
		ASSERT_EQ(first, 0x30);
		ASSERT_EQ(body, cases[i].body);
		ASSERT_EQ(hdr, cases[i].hdr);
	}
}

TEST(frame_partial_is_again)
{
	struct vec v;
	uint8_t first = 0;
	uint32_t body = 0;
	size_t hdr = 0;
	vec_hex(&v, "30 ff ff ff 7f");
	/* every strict prefix of the header needs more bytes */
	for (size_t n = 0; n < v.n; n++)
		ASSERT_EQ(wmq_mqtt_frame(v.b, n, &first, &body, &hdr), WMQ_ERR_AGAIN);
	ASSERT_EQ(wmq_mqtt_frame(v.b, v.n, &first, &body, &hdr), WMQ_OK);
	ASSERT_EQ(wmq_mqtt_frame(NULL, 0, &first, &body, &hdr), WMQ_ERR_AGAIN);
	/* the header alone is enough: the body size is known before it arrives */
	vec_hex(&v, "30 0a 00");
	ASSERT_EQ(wmq_mqtt_frame(v.b, v.n, &first, &body, &hdr), WMQ_OK);
	ASSERT_EQ(body, 10);
	ASSERT_EQ(hdr, 2);
}

TEST(frame_fifth_byte_malformed)
{
	struct vec v;
	uint8_t first = 0;
	uint32_t body = 0;
	size_t hdr = 0;
	vec_hex(&v, "30 ff ff ff ff 01");
	ASSERT_EQ(wmq_mqtt_frame(v.b, v.n, &first, &body, &hdr), WMQ_ERR_MALFORMED);
	vec_hex(&v, "30 80 80 80 80");
	ASSERT_EQ(wmq_mqtt_frame(v.b, v.n, &first, &body, &hdr), WMQ_ERR_MALFORMED);
	/* only 5 bytes are ever needed to decide */
	ASSERT_EQ(wmq_mqtt_frame(v.b, 4, &first, &body, &hdr), WMQ_ERR_AGAIN);
}

TEST(frame_stream_of_packets)
{
	struct vec v;
	size_t off = 0, count = 0;
	uint8_t types[8];
	vec_hex(&v, "c0 00 30 03 00 01 61 e0 00 40 02 00 05");
	/* bounded: at most one packet per two bytes */
	while (off < v.n && count < WMQ_ARRAY_LEN(types)) {
		uint8_t first;
		uint32_t body;
		size_t hdr;
		struct wmq_pkt pkt;
		uint8_t rc;
		ASSERT_EQ(wmq_mqtt_frame(v.b + off, v.n - off, &first, &body, &hdr), WMQ_OK);
		ASSERT(v.n - off >= hdr + body);
		ASSERT_EQ(wmq_mqtt_decode(WMQ_V311, false, first, v.b + off + hdr, body, &pkt, &rc),
			  WMQ_OK);
		types[count++] = pkt.type;
		off += hdr + body;
	}
	ASSERT_EQ(count, 4);
	ASSERT_EQ(types[0], WMQ_PINGREQ);
	ASSERT_EQ(types[1], WMQ_PUBLISH);
	ASSERT_EQ(types[2], WMQ_DISCONNECT);
	ASSERT_EQ(types[3], WMQ_PUBACK);
}

TEST(large_remaining_length_roundtrip)
{
	static uint8_t payload[300];
	static uint8_t buf[400];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)i;
	struct wmq_pkt pkt = {.type = WMQ_PUBLISH};
	pkt.u.publish.topic = WMQ_BYTES_STR("a");
	pkt.u.publish.payload = (struct wmq_bytes){payload, sizeof payload};
	struct wmq_wr w = wmq_wr_make(buf, sizeof buf);
	ASSERT_EQ(wmq_mqtt_encode(&w, WMQ_V311, &pkt), WMQ_OK);
	/* body 3 + 300 = 303 = 0xaf 0x02 */
	ASSERT_EQ(w.pos, 1 + 2 + 303);
	ASSERT_EQ(buf[1], 0xaf);
	ASSERT_EQ(buf[2], 0x02);
	uint8_t first, rc;
	uint32_t body;
	size_t hdr;
	struct wmq_pkt out;
	ASSERT_EQ(wmq_mqtt_frame(buf, w.pos, &first, &body, &hdr), WMQ_OK);
	ASSERT_EQ(body, 303);
	ASSERT_EQ(wmq_mqtt_decode(WMQ_V311, false, first, buf + hdr, body, &out, &rc), WMQ_OK);
	ASSERT_EQ(out.u.publish.payload.len, 300);
	ASSERT_MEMEQ(out.u.publish.payload.p, payload, 300);
}

/* ---- CONNECT ------------------------------------------------------------ */

TEST(connect_v311_decode)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc = 0xff;
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, V311_CONNECT, &pkt, &rc), WMQ_OK);
	ASSERT_EQ(rc, 0);
	const struct wmq_connect *c = &pkt.u.connect;
	ASSERT_EQ(pkt.type, WMQ_CONNECT);
	ASSERT_EQ(c->version, WMQ_V311);
	ASSERT(bytes_is(c->proto_name, "MQTT"));
	ASSERT(c->clean);
	ASSERT_EQ(c->keepalive, 60);
	ASSERT(bytes_is(c->client_id, "abc"));
	ASSERT(c->will);
	ASSERT_EQ(c->will_qos, 1);
	ASSERT(c->will_retain);
	ASSERT(bytes_is(c->will_topic, "w/t"));
	ASSERT(bytes_is(c->will_payload, "bye"));
	ASSERT(c->has_username);
	ASSERT(bytes_is(c->username, "u"));
	ASSERT(c->has_password);
	ASSERT(bytes_is(c->password, "pw"));
	ASSERT_EQ(c->props.present, 0);
	ASSERT_EQ(c->will_props.present, 0);
}

TEST(connect_v311_encode)
{
	struct wmq_pkt pkt = {.type = WMQ_CONNECT};
	struct wmq_connect *c = &pkt.u.connect;
	c->clean = true;
	c->keepalive = 60;
	c->client_id = WMQ_BYTES_STR("abc");
	c->will = true;
	c->will_qos = 1;
	c->will_retain = true;
	c->will_topic = WMQ_BYTES_STR("w/t");
	c->will_payload = WMQ_BYTES_STR("bye");
	c->has_username = true;
	c->username = WMQ_BYTES_STR("u");
	c->has_password = true;
	c->password = WMQ_BYTES_STR("pw");
	/* properties set in a 3.1.1 packet are left out */
	c->props.present = WMQ_PROP_BIT(WMQ_PROP_SESSION_EXPIRY);
	c->props.session_expiry = 5;
	expect_enc(WMQ_V311, &pkt, V311_CONNECT);
}

TEST(connect_v5_decode)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc = 0xff;
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, V5_CONNECT, &pkt, &rc), WMQ_OK);
	const struct wmq_connect *c = &pkt.u.connect;
	ASSERT_EQ(c->version, WMQ_V5); /* from the packet, not the argument */
	ASSERT(c->clean);
	ASSERT_EQ(c->keepalive, 30);
	ASSERT_EQ(c->props.present,
		  WMQ_PROP_BIT(WMQ_PROP_SESSION_EXPIRY) | WMQ_PROP_BIT(WMQ_PROP_AUTH_METHOD) |
			  WMQ_PROP_BIT(WMQ_PROP_AUTH_DATA) | WMQ_PROP_BIT(WMQ_PROP_RECEIVE_MAX) |
			  WMQ_PROP_BIT(WMQ_PROP_USER));
	ASSERT_EQ(c->props.session_expiry, 120);
	ASSERT(bytes_is(c->props.auth_method, "m"));
	ASSERT_EQ(c->props.auth_data.len, 2);
	ASSERT_EQ(c->props.auth_data.p[0], 1);
	ASSERT_EQ(c->props.auth_data.p[1], 2);
	ASSERT_EQ(c->props.receive_max, 10);
	ASSERT_EQ(c->props.n_user, 1);
	ASSERT(c->props.user == NULL);
	size_t pos = 0;
	struct wmq_bytes k, val;
	ASSERT(wmq_props_next_user(&c->props, &pos, &k, &val));
	ASSERT(bytes_is(k, "k"));
	ASSERT(bytes_is(val, "v"));
	ASSERT(!wmq_props_next_user(&c->props, &pos, &k, &val));
	ASSERT(bytes_is(c->client_id, "c1"));
	ASSERT(c->will);
	ASSERT_EQ(c->will_qos, 2);
	ASSERT(!c->will_retain);
	ASSERT_EQ(c->will_props.present, WMQ_PROP_BIT(WMQ_PROP_PAYLOAD_FORMAT) |
						 WMQ_PROP_BIT(WMQ_PROP_CONTENT_TYPE) |
						 WMQ_PROP_BIT(WMQ_PROP_WILL_DELAY));
	ASSERT_EQ(c->will_props.payload_format, 1);
	ASSERT(bytes_is(c->will_props.content_type, "t"));
	ASSERT_EQ(c->will_props.will_delay, 10);
	ASSERT(bytes_is(c->will_topic, "wt"));
	ASSERT_EQ(c->will_payload.len, 2);
	ASSERT_EQ(c->will_payload.p[0], 0xab);
	ASSERT(bytes_is(c->username, "u"));
	ASSERT_EQ(c->password.len, 1);
	ASSERT_EQ(c->password.p[0], 0);
}

TEST(connect_v5_encode)
{
	const struct wmq_user_prop up[] = {{WMQ_BYTES_STR("k"), WMQ_BYTES_STR("v")}};
	static const uint8_t adata[] = {1, 2};
	static const uint8_t wp[] = {0xab, 0xcd};
	static const uint8_t pw[] = {0};
	struct wmq_pkt pkt = {.type = WMQ_CONNECT};
	struct wmq_connect *c = &pkt.u.connect;
	c->clean = true;
	c->keepalive = 30;
	c->props.present = WMQ_PROP_BIT(WMQ_PROP_SESSION_EXPIRY) |
			   WMQ_PROP_BIT(WMQ_PROP_AUTH_METHOD) | WMQ_PROP_BIT(WMQ_PROP_AUTH_DATA) |
			   WMQ_PROP_BIT(WMQ_PROP_RECEIVE_MAX);
	c->props.session_expiry = 120;
	c->props.auth_method = WMQ_BYTES_STR("m");
	c->props.auth_data = (struct wmq_bytes){adata, 2};
	c->props.receive_max = 10;
	c->props.user = up;
	c->props.n_user = 1;
	c->client_id = WMQ_BYTES_STR("c1");
	c->will = true;
	c->will_qos = 2;
	c->will_props.present = WMQ_PROP_BIT(WMQ_PROP_PAYLOAD_FORMAT) |
				WMQ_PROP_BIT(WMQ_PROP_CONTENT_TYPE) |
				WMQ_PROP_BIT(WMQ_PROP_WILL_DELAY);
	c->will_props.payload_format = 1;
	c->will_props.content_type = WMQ_BYTES_STR("t");
	c->will_props.will_delay = 10;
	c->will_topic = WMQ_BYTES_STR("wt");
	c->will_payload = (struct wmq_bytes){wp, 2};
	c->has_username = true;
	c->username = WMQ_BYTES_STR("u");
	c->has_password = true;
	c->password = (struct wmq_bytes){pw, 1};
	expect_enc(WMQ_V5, &pkt, V5_CONNECT);
}

TEST(connect_v31_roundtrip)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, V31_CONNECT, &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.connect.version, WMQ_V31);
	ASSERT(bytes_is(pkt.u.connect.proto_name, "MQIsdp"));
	ASSERT(pkt.u.connect.clean);
	ASSERT(!pkt.u.connect.will);
	ASSERT(!pkt.u.connect.has_username);
	ASSERT(bytes_is(pkt.u.connect.client_id, "c1"));
	expect_enc(WMQ_V31, &pkt, V31_CONNECT);
}

TEST(connect_minimal_v5_encode)
{
	/* client-side encode, empty properties, no will, password only */
	struct wmq_pkt pkt = {.type = WMQ_CONNECT};
	pkt.u.connect.keepalive = 10;
	pkt.u.connect.client_id = WMQ_BYTES_STR("x");
	pkt.u.connect.has_password = true;
	pkt.u.connect.password = WMQ_BYTES_STR("tok");
	expect_enc(WMQ_V5, &pkt,
		   "10 13 00 04 4d 51 54 54 05 40 00 0a 00 00 01 78 00 03 74 6f 6b");
	/* MQTT 5 allows a password without a user name (§3.1.2.9) */
	expect_ok(WMQ_V5, false, "10 13 00 04 4d 51 54 54 05 40 00 0a 00 00 01 78 00 03 74 6f 6b");
}

TEST(connect_bad_protocol)
{
	/* "MQTT" level 3 and 6: unsupported version */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 03 02 00 3c 00 00", WMQ_ERR_PROTOCOL, 0x84);
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 06 02 00 3c 00 00", WMQ_ERR_PROTOCOL, 0x84);
	/* "MQIsdp" with level 4 */
	expect_fail(0, false, "10 0e 00 06 4d 51 49 73 64 70 04 02 00 3c 00 00", WMQ_ERR_PROTOCOL,
		    0x84);
	/* unknown name "MQTX" and lower-case "mqtt" */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00", WMQ_ERR_PROTOCOL, 0x84);
	expect_fail(0, false, "10 0c 00 04 6d 71 74 74 04 02 00 3c 00 00", WMQ_ERR_PROTOCOL, 0x84);
	/* truncated name */
	expect_fail(0, false, "10 03 00 04 4d", WMQ_ERR_MALFORMED, 0x81);
	/* name not UTF-8 */
	expect_fail(0, false, "10 0c 00 04 4d ff 54 54 04 02 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
}

TEST(connect_reserved_flag)
{
	/* [MQTT-3.1.2-3] */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 04 03 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(0, false, "10 0d 00 04 4d 51 54 54 05 03 00 3c 00 00 00", WMQ_ERR_MALFORMED,
		    0x81);
	expect_ok(0, false, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00");
}

TEST(connect_will_flags)
{
	/* will QoS 3 [MQTT-3.1.2-12] */
	expect_fail(0, false,
		    "10 12 00 04 4d 51 54 54 04 1e 00 3c 00 01 63 00 01 74 00 00",
		    WMQ_ERR_MALFORMED, 0x81);
	/* no will flag but will QoS 1 [MQTT-3.1.2-11] */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 04 0a 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* no will flag but will retain [MQTT-3.1.2-13] */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 04 22 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* will flag set but no will topic/payload present [MQTT-3.1.2-9] */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 04 06 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* will QoS 2 with will: fine */
	expect_ok(0, false, "10 12 00 04 4d 51 54 54 04 16 00 3c 00 00 00 01 74 00 01 7a");
}

TEST(connect_password_without_username)
{
	/* [MQTT-3.1.2-22] in 3.1.1 */
	expect_fail(0, false, "10 10 00 04 4d 51 54 54 04 42 00 3c 00 00 00 02 70 77",
		    WMQ_ERR_PROTOCOL, 0x82);
	/* user name flag set but no user name */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 04 82 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* user name only is fine */
	expect_ok(0, false, "10 0f 00 04 4d 51 54 54 04 82 00 3c 00 00 00 01 75");
}

TEST(connect_strings_utf8)
{
	/* client id with U+0000 [MQTT-1.5.4-2] */
	expect_fail(0, false, "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 00", WMQ_ERR_MALFORMED,
		    0x81);
	/* client id with a surrogate (ed a0 80) [MQTT-1.5.4-1] */
	expect_fail(0, false, "10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 ed a0 80",
		    WMQ_ERR_MALFORMED, 0x81);
	/* user name with a bad byte */
	expect_fail(0, false, "10 0f 00 04 4d 51 54 54 04 82 00 3c 00 00 00 01 ff",
		    WMQ_ERR_MALFORMED, 0x81);
	/* will topic over-long UTF-8 */
	expect_fail(0, false, "10 12 00 04 4d 51 54 54 04 06 00 3c 00 00 00 02 c0 80 00 00",
		    WMQ_ERR_MALFORMED, 0x81);
	/* password is binary: any bytes, NUL and 0xff included */
	expect_ok(0, false, "10 13 00 04 4d 51 54 54 04 c2 00 3c 00 00 00 01 75 00 02 00 ff");
}

TEST(connect_will_topic_rules)
{
	/* wildcard in the will topic */
	expect_fail(0, false, "10 11 00 04 4d 51 54 54 04 06 00 3c 00 00 00 01 23 00 00",
		    WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(0, false, "10 13 00 04 4d 51 54 54 04 06 00 3c 00 00 00 03 61 2f 2b 00 00",
		    WMQ_ERR_PROTOCOL, 0x82);
	/* empty will topic */
	expect_fail(0, false, "10 10 00 04 4d 51 54 54 04 06 00 3c 00 00 00 00 00 00",
		    WMQ_ERR_PROTOCOL, 0x82);
	/* v5: will properties come before the will topic; a will property that
	 * is not a will property (topic alias) is malformed */
	expect_fail(0, false,
		    "10 16 00 04 4d 51 54 54 05 06 00 3c 00 00 00 03 23 00 01 00 01 74 00 00",
		    WMQ_ERR_MALFORMED, 0x81);
	expect_ok(0, false, "10 13 00 04 4d 51 54 54 05 06 00 3c 00 00 00 00 00 01 74 00 00");
}

TEST(connect_empty_client_id)
{
	/* 3.1.1 [MQTT-3.1.3-8]: empty id needs clean session -> rc 0x85 */
	expect_fail(0, false, "10 0c 00 04 4d 51 54 54 04 00 00 3c 00 00", WMQ_ERR_PROTOCOL, 0x85);
	expect_ok(0, false, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00");
	/* v5 lets the server assign one */
	expect_ok(0, false, "10 0d 00 04 4d 51 54 54 05 00 00 3c 00 00 00");
}

TEST(connect_trailing_and_truncated)
{
	expect_fail(0, false, "10 0d 00 04 4d 51 54 54 04 02 00 3c 00 00 99", WMQ_ERR_MALFORMED,
		    0x81);
	expect_fail(0, false, "10 0b 00 04 4d 51 54 54 04 02 00 3c 00", WMQ_ERR_MALFORMED, 0x81);
	/* v5 properties length running past the packet */
	expect_fail(0, false, "10 0d 00 04 4d 51 54 54 05 02 00 3c 05 00 00", WMQ_ERR_MALFORMED,
		    0x81);
	/* v5 CONNECT with a CONNACK-only property */
	expect_fail(0, false, "10 10 00 04 4d 51 54 54 05 02 00 3c 03 13 00 0a 00 00",
		    WMQ_ERR_MALFORMED, 0x81);
}

/* ---- CONNACK ------------------------------------------------------------ */

TEST(connack_v311)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, true, &v, "20 02 01 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_CONNACK);
	ASSERT(pkt.u.connack.session_present);
	ASSERT_EQ(pkt.u.connack.rc, 0);
	expect_enc(WMQ_V311, &pkt, "20 02 01 00");
	/* 3.1.1 return codes map to v5 reason codes and back */
	static const struct {
		const char *hex;
		uint8_t rc;
	} codes[] = {
		{"20 02 00 01", 0x84}, {"20 02 00 02", 0x85}, {"20 02 00 03", 0x88},
		{"20 02 00 04", 0x86}, {"20 02 00 05", 0x87},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(codes); i++) {
		ASSERT_EQ(dec_hex(WMQ_V311, true, &v, codes[i].hex, &pkt, &rc), WMQ_OK);
		ASSERT_EQ(pkt.u.connack.rc, codes[i].rc);
		ASSERT(!pkt.u.connack.session_present);
		expect_enc(WMQ_V311, &pkt, codes[i].hex);
	}
	/* a v5-only code goes out as the nearest 3.1.1 code */
	struct wmq_pkt b = {.type = WMQ_CONNACK};
	b.u.connack.rc = WMQ_RC_BANNED;
	expect_enc(WMQ_V311, &b, "20 02 00 05");
	b.u.connack.rc = WMQ_RC_SERVER_BUSY;
	expect_enc(WMQ_V311, &b, "20 02 00 03");
}

TEST(connack_v5_decode)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, V5_CONNACK, &pkt, &rc), WMQ_OK);
	const struct wmq_props *p = &pkt.u.connack.props;
	ASSERT(!pkt.u.connack.session_present);
	ASSERT_EQ(pkt.u.connack.rc, 0);
	ASSERT(bytes_is(p->assigned_client_id, "abc"));
	ASSERT_EQ(p->server_keep_alive, 60);
	ASSERT(bytes_is(p->response_info, "r"));
	ASSERT(bytes_is(p->server_reference, "s"));
	ASSERT(bytes_is(p->reason_string, "x"));
	ASSERT_EQ(p->receive_max, 20);
	ASSERT_EQ(p->topic_alias_max, 10);
	ASSERT_EQ(p->max_qos, 1);
	ASSERT_EQ(p->retain_available, 0);
	ASSERT_EQ(p->max_packet_size, 1024);
	ASSERT_EQ(p->wildcard_sub_available, 1);
	ASSERT_EQ(p->sub_id_available, 0);
	ASSERT_EQ(p->shared_sub_available, 1);
	ASSERT(wmq_props_has(p, WMQ_PROP_RETAIN_AVAILABLE));
	ASSERT(!wmq_props_has(p, WMQ_PROP_SESSION_EXPIRY));
	ASSERT_EQ(p->raw.len, 0x2a);
}

TEST(connack_v5_encode)
{
	struct wmq_pkt pkt = {.type = WMQ_CONNACK};
	struct wmq_props *p = &pkt.u.connack.props;
	p->present = WMQ_PROP_BIT(WMQ_PROP_ASSIGNED_CLIENT_ID) |
		     WMQ_PROP_BIT(WMQ_PROP_SERVER_KEEP_ALIVE) | WMQ_PROP_BIT(WMQ_PROP_RESPONSE_INFO) |
		     WMQ_PROP_BIT(WMQ_PROP_SERVER_REFERENCE) | WMQ_PROP_BIT(WMQ_PROP_REASON_STRING) |
		     WMQ_PROP_BIT(WMQ_PROP_RECEIVE_MAX) | WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS_MAX) |
		     WMQ_PROP_BIT(WMQ_PROP_MAX_QOS) | WMQ_PROP_BIT(WMQ_PROP_RETAIN_AVAILABLE) |
		     WMQ_PROP_BIT(WMQ_PROP_MAX_PACKET_SIZE) |
		     WMQ_PROP_BIT(WMQ_PROP_WILDCARD_SUB_AVAILABLE) |
		     WMQ_PROP_BIT(WMQ_PROP_SUB_ID_AVAILABLE) |
		     WMQ_PROP_BIT(WMQ_PROP_SHARED_SUB_AVAILABLE);
	p->assigned_client_id = WMQ_BYTES_STR("abc");
	p->server_keep_alive = 60;
	p->response_info = WMQ_BYTES_STR("r");
	p->server_reference = WMQ_BYTES_STR("s");
	p->reason_string = WMQ_BYTES_STR("x");
	p->receive_max = 20;
	p->topic_alias_max = 10;
	p->max_qos = 1;
	p->retain_available = 0;
	p->max_packet_size = 1024;
	p->wildcard_sub_available = 1;
	p->sub_id_available = 0;
	p->shared_sub_available = 1;
	expect_enc(WMQ_V5, &pkt, V5_CONNACK);
	struct wmq_pkt f = {.type = WMQ_CONNACK};
	f.u.connack.rc = WMQ_RC_NOT_AUTHORIZED;
	expect_enc(WMQ_V5, &f, "20 03 00 87 00");
}

TEST(connack_errors)
{
	/* [MQTT-3.2.2-1] reserved acknowledge flag bits */
	expect_fail(WMQ_V5, true, "20 03 02 00 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, true, "20 02 80 00", WMQ_ERR_MALFORMED, 0x81);
	/* [MQTT-3.2.2-6] session present with a failure code */
	expect_fail(WMQ_V5, true, "20 03 01 87 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V311, true, "20 02 01 05", WMQ_ERR_PROTOCOL, 0x82);
	/* reason codes a CONNACK may not carry */
	expect_fail(WMQ_V5, true, "20 03 00 04 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "20 03 00 8e 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V311, true, "20 02 00 06", WMQ_ERR_PROTOCOL, 0x82);
	/* missing property length in v5, trailing byte in 3.1.1 */
	expect_fail(WMQ_V5, true, "20 02 00 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, true, "20 03 00 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* a client never sends CONNACK */
	expect_fail(WMQ_V5, false, "20 03 00 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_ok(WMQ_V5, true, "20 03 00 9c 00");
}

/* ---- PUBLISH ------------------------------------------------------------ */

TEST(publish_v311_qos0)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, "30 0a 00 03 61 2f 62 68 65 6c 6c 6f", &pkt, &rc),
		  WMQ_OK);
	const struct wmq_publish *p = &pkt.u.publish;
	ASSERT_EQ(pkt.type, WMQ_PUBLISH);
	ASSERT_EQ(p->qos, 0);
	ASSERT(!p->dup);
	ASSERT(!p->retain);
	ASSERT(bytes_is(p->topic, "a/b"));
	ASSERT_EQ(p->packet_id, 0);
	ASSERT(bytes_is(p->payload, "hello"));
	expect_enc(WMQ_V311, &pkt, "30 0a 00 03 61 2f 62 68 65 6c 6c 6f");
}

TEST(publish_v311_qos1_dup_retain)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, true, &v, "3b 09 00 03 61 2f 62 12 34 68 69", &pkt, &rc),
		  WMQ_OK);
	ASSERT_EQ(pkt.flags, 0xb);
	ASSERT_EQ(pkt.u.publish.qos, 1);
	ASSERT(pkt.u.publish.dup);
	ASSERT(pkt.u.publish.retain);
	ASSERT_EQ(pkt.u.publish.packet_id, 0x1234);
	ASSERT(bytes_is(pkt.u.publish.payload, "hi"));
	struct wmq_pkt e = {.type = WMQ_PUBLISH};
	e.u.publish.qos = 1;
	e.u.publish.dup = true;
	e.u.publish.retain = true;
	e.u.publish.topic = WMQ_BYTES_STR("a/b");
	e.u.publish.packet_id = 0x1234;
	e.u.publish.payload = WMQ_BYTES_STR("hi");
	expect_enc(WMQ_V311, &e, "3b 09 00 03 61 2f 62 12 34 68 69");
	/* QoS 2, empty payload */
	e.u.publish.qos = 2;
	e.u.publish.dup = false;
	e.u.publish.retain = false;
	e.u.publish.payload = (struct wmq_bytes){NULL, 0};
	expect_enc(WMQ_V311, &e, "34 07 00 03 61 2f 62 12 34");
}

TEST(publish_v5_from_server)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, V5_PUBLISH, &pkt, &rc), WMQ_OK);
	const struct wmq_publish *p = &pkt.u.publish;
	ASSERT_EQ(p->qos, 2);
	ASSERT(bytes_is(p->topic, "t"));
	ASSERT_EQ(p->packet_id, 7);
	ASSERT_EQ(p->props.payload_format, 1);
	ASSERT_EQ(p->props.message_expiry, 60);
	ASSERT(bytes_is(p->props.content_type, "json"));
	ASSERT(bytes_is(p->props.response_topic, "r/s"));
	ASSERT_EQ(p->props.correlation_data.len, 2);
	ASSERT_EQ(p->props.topic_alias, 1);
	ASSERT_EQ(p->props.n_sub_ids, 2);
	ASSERT_EQ(p->props.sub_id, 5);
	ASSERT(p->props.sub_ids == NULL);
	uint32_t ids[4];
	size_t n = 0, pos = 0;
	while (n < 4 && wmq_props_next_sub_id(&p->props, &pos, &ids[n]))
		n++;
	ASSERT_EQ(n, 2);
	ASSERT_EQ(ids[0], 5);
	ASSERT_EQ(ids[1], 128);
	ASSERT_EQ(p->props.n_user, 1);
	struct wmq_bytes k, val;
	pos = 0;
	ASSERT(wmq_props_next_user(&p->props, &pos, &k, &val));
	ASSERT(bytes_is(k, "a"));
	ASSERT(bytes_is(val, "b"));
	ASSERT(bytes_is(p->payload, "xy"));
	/* the same bytes from a client: [MQTT-3.3.4-6] */
	expect_fail(WMQ_V5, false, V5_PUBLISH, WMQ_ERR_PROTOCOL, 0x82);
}

TEST(publish_v5_encode)
{
	static const uint8_t corr[] = {1, 2};
	static const uint32_t ids[] = {5, 128};
	const struct wmq_user_prop up[] = {{WMQ_BYTES_STR("a"), WMQ_BYTES_STR("b")}};
	struct wmq_pkt pkt = {.type = WMQ_PUBLISH};
	struct wmq_publish *p = &pkt.u.publish;
	p->qos = 2;
	p->topic = WMQ_BYTES_STR("t");
	p->packet_id = 7;
	p->props.present = WMQ_PROP_BIT(WMQ_PROP_PAYLOAD_FORMAT) |
			   WMQ_PROP_BIT(WMQ_PROP_MESSAGE_EXPIRY) |
			   WMQ_PROP_BIT(WMQ_PROP_CONTENT_TYPE) |
			   WMQ_PROP_BIT(WMQ_PROP_RESPONSE_TOPIC) |
			   WMQ_PROP_BIT(WMQ_PROP_CORRELATION_DATA) | WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS) |
			   WMQ_PROP_BIT(WMQ_PROP_SUB_ID); /* ignored: ids come from sub_ids */
	p->props.payload_format = 1;
	p->props.message_expiry = 60;
	p->props.content_type = WMQ_BYTES_STR("json");
	p->props.response_topic = WMQ_BYTES_STR("r/s");
	p->props.correlation_data = (struct wmq_bytes){corr, 2};
	p->props.topic_alias = 1;
	p->props.sub_id = 99;
	p->props.sub_ids = ids;
	p->props.n_sub_ids = 2;
	p->props.user = up;
	p->props.n_user = 1;
	p->payload = WMQ_BYTES_STR("xy");
	expect_enc(WMQ_V5, &pkt, V5_PUBLISH);
	/* in 3.1.1 the same struct loses its properties */
	expect_enc(WMQ_V311, &pkt, "34 07 00 01 74 00 07 78 79");
}

TEST(publish_errors)
{
	/* [MQTT-3.3.1-4] QoS 3 */
	expect_fail(WMQ_V311, false, "36 05 00 01 61 00 01", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V5, false, "37 06 00 01 61 00 01 00", WMQ_ERR_MALFORMED, 0x81);
	/* [MQTT-3.3.1-2] DUP with QoS 0 */
	expect_fail(WMQ_V311, false, "38 03 00 01 61", WMQ_ERR_MALFORMED, 0x81);
	/* [MQTT-2.2.1-3] packet id 0 with QoS 1 */
	expect_fail(WMQ_V311, false, "32 05 00 01 61 00 00", WMQ_ERR_PROTOCOL, 0x82);
	/* [MQTT-3.3.2-2] wildcards in the topic */
	expect_fail(WMQ_V311, false, "30 05 00 03 61 2f 2b", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "30 04 00 01 23 00", WMQ_ERR_PROTOCOL, 0x82);
	/* empty topic: 3.1.1 never, v5 only with a topic alias */
	expect_fail(WMQ_V311, false, "30 02 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "30 03 00 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_ok(WMQ_V5, false, "30 06 00 00 03 23 00 05");
	/* topic not UTF-8 */
	expect_fail(WMQ_V311, false, "30 03 00 01 80", WMQ_ERR_MALFORMED, 0x81);
	/* topic longer than the packet */
	expect_fail(WMQ_V311, false, "30 03 00 05 61", WMQ_ERR_MALFORMED, 0x81);
	/* QoS 1 without room for the packet id */
	expect_fail(WMQ_V311, false, "32 04 00 01 61 00", WMQ_ERR_MALFORMED, 0x81);
	/* v5 topic alias 0 */
	/* v5 a single subscription identifier from the client */
	expect_fail(WMQ_V5, false, "30 06 00 01 61 02 0b 01", WMQ_ERR_PROTOCOL, 0x82);
	expect_ok(WMQ_V5, true, "30 06 00 01 61 02 0b 01");
	/* v5 properties running past the packet */
	expect_fail(WMQ_V5, false, "30 05 00 01 61 09 01", WMQ_ERR_MALFORMED, 0x81);
	/* payload may be empty or anything */
	expect_ok(WMQ_V311, false, "30 03 00 01 61");
	expect_ok(WMQ_V311, false, "30 05 00 01 61 00 ff");
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP ------------------------------------ */

TEST(acks_v311)
{
	static const struct {
		const char *hex;
		uint8_t type;
	} cases[] = {
		{"40 02 00 01", WMQ_PUBACK},
		{"50 02 ab cd", WMQ_PUBREC},
		{"62 02 00 ff", WMQ_PUBREL},
		{"70 02 ff ff", WMQ_PUBCOMP},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		struct vec v;
		struct wmq_pkt pkt;
		uint8_t rc;
		ASSERT_EQ(dec_hex(WMQ_V311, i % 2 == 0, &v, cases[i].hex, &pkt, &rc), WMQ_OK);
		ASSERT_EQ(pkt.type, cases[i].type);
		ASSERT_EQ(pkt.u.ack.packet_id, (uint16_t)(v.b[2] << 8 | v.b[3]));
		ASSERT_EQ(pkt.u.ack.rc, 0);
		/* a v5-only reason code is dropped in 3.1.1 */
		pkt.u.ack.rc = WMQ_RC_NOT_AUTHORIZED;
		expect_enc(WMQ_V311, &pkt, cases[i].hex);
		/* 3.1.1 acks are exactly two bytes */
		char longer[32];
		snprintf(longer, sizeof longer, "%02x 03 %02x %02x 00", v.b[0], v.b[2], v.b[3]);
		expect_fail(WMQ_V311, false, longer, WMQ_ERR_MALFORMED, 0x81);
	}
}

TEST(acks_v5_forms)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	/* short form: rc 0, no properties */
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, "40 02 00 01", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.ack.rc, 0);
	ASSERT_EQ(pkt.u.ack.props.present, 0);
	expect_enc(WMQ_V5, &pkt, "40 02 00 01");
	/* reason code only */
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, "50 03 00 02 10", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_PUBREC);
	ASSERT_EQ(pkt.u.ack.rc, 0x10);
	expect_enc(WMQ_V5, &pkt, "50 03 00 02 10");
	/* reason code + empty property block: re-encodes short */
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, "40 04 00 01 87 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.ack.rc, 0x87);
	expect_enc(WMQ_V5, &pkt, "40 03 00 01 87");
	/* reason string */
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, "70 08 00 09 92 04 1f 00 01 78", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_PUBCOMP);
	ASSERT_EQ(pkt.u.ack.packet_id, 9);
	ASSERT_EQ(pkt.u.ack.rc, 0x92);
	ASSERT(bytes_is(pkt.u.ack.props.reason_string, "x"));
	pkt_raw_only(&pkt);
	expect_enc(WMQ_V5, &pkt, "70 08 00 09 92 04 1f 00 01 78");
	/* rc 0 with properties keeps the rc byte */
	struct wmq_pkt e = {.type = WMQ_PUBREL};
	e.u.ack.packet_id = 3;
	e.u.ack.props.present = WMQ_PROP_BIT(WMQ_PROP_REASON_STRING);
	e.u.ack.props.reason_string = WMQ_BYTES_STR("ok");
	expect_enc(WMQ_V5, &e, "62 09 00 03 00 05 1f 00 02 6f 6b");
	expect_ok(WMQ_V5, false, "62 09 00 03 00 05 1f 00 02 6f 6b");
}

TEST(acks_v5_reason_codes)
{
	/* PUBACK/PUBREC accept their table */
	static const uint8_t puback_ok[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(puback_ok); i++) {
		char hex[32];
		snprintf(hex, sizeof hex, "40 03 00 01 %02x", puback_ok[i]);
		expect_ok(WMQ_V5, false, hex);
		snprintf(hex, sizeof hex, "50 03 00 01 %02x", puback_ok[i]);
		expect_ok(WMQ_V5, true, hex);
	}
	/* [MQTT-3.4.2-1] ... codes outside the table */
	expect_fail(WMQ_V5, false, "40 03 00 01 92", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "40 03 00 01 01", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "50 03 00 01 81", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "62 03 00 01 10", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "70 03 00 01 80", WMQ_ERR_PROTOCOL, 0x82);
	expect_ok(WMQ_V5, false, "62 03 00 01 92");
	expect_ok(WMQ_V5, false, "70 03 00 01 00");
	/* a property an ack may not carry */
	expect_fail(WMQ_V5, false, "40 06 00 01 00 02 01 01", WMQ_ERR_MALFORMED, 0x81);
	/* packet id 0 */
	expect_fail(WMQ_V5, false, "40 02 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V311, false, "70 02 00 00", WMQ_ERR_PROTOCOL, 0x82);
	/* too short */
	expect_fail(WMQ_V5, false, "40 01 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, false, "40 00", WMQ_ERR_MALFORMED, 0x81);
}

/* ---- SUBSCRIBE / SUBACK ------------------------------------------------- */

TEST(subscribe_v311)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	const char *hex = "82 0c 00 0a 00 03 61 2f 62 01 00 01 23 02";
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, hex, &pkt, &rc), WMQ_OK);
	const struct wmq_subscribe *s = &pkt.u.subscribe;
	ASSERT_EQ(pkt.type, WMQ_SUBSCRIBE);
	ASSERT_EQ(s->packet_id, 10);
	ASSERT_EQ(s->count, 2);
	struct wmq_bytes f;
	struct wmq_subopts o;
	size_t pos = 0;
	ASSERT(wmq_subscribe_next(s, &pos, &f, &o));
	ASSERT(bytes_is(f, "a/b"));
	ASSERT_EQ(o.qos, 1);
	ASSERT(wmq_subscribe_next(s, &pos, &f, &o));
	ASSERT(bytes_is(f, "#"));
	ASSERT_EQ(o.qos, 2);
	ASSERT(!o.no_local);
	ASSERT(!wmq_subscribe_next(s, &pos, &f, &o));
	ASSERT(!wmq_subscribe_next(s, &pos, &f, &o));
	expect_enc(WMQ_V311, &pkt, hex);
}

TEST(subscribe_v5)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, V5_SUBSCRIBE, &pkt, &rc), WMQ_OK);
	const struct wmq_subscribe *s = &pkt.u.subscribe;
	ASSERT_EQ(s->packet_id, 10);
	ASSERT_EQ(s->props.sub_id, 42);
	ASSERT_EQ(s->props.n_sub_ids, 1);
	ASSERT_EQ(s->count, 2);
	struct wmq_bytes f;
	struct wmq_subopts o;
	size_t pos = 0;
	ASSERT(wmq_subscribe_next(s, &pos, &f, &o));
	ASSERT(bytes_is(f, "a/+"));
	ASSERT_EQ(o.qos, 1);
	ASSERT(o.no_local);
	ASSERT(o.retain_as_published);
	ASSERT_EQ(o.retain_handling, 2);
	ASSERT(wmq_subscribe_next(s, &pos, &f, &o));
	ASSERT(bytes_is(f, "$share/g/x"));
	ASSERT_EQ(o.qos, 0);
	ASSERT(!o.no_local);
	ASSERT(!o.retain_as_published);
	ASSERT_EQ(o.retain_handling, 0);
	ASSERT(!wmq_subscribe_next(s, &pos, &f, &o));
}

TEST(subscribe_encode)
{
	uint8_t ent[64];
	struct wmq_wr w = wmq_wr_make(ent, sizeof ent);
	struct wmq_subopts o1 = {1, true, true, 2}, o2 = {0, false, false, 0};
	wmq_subscribe_entry_encode(&w, WMQ_V5, WMQ_BYTES_STR("a/+"), &o1);
	wmq_subscribe_entry_encode(&w, WMQ_V5, WMQ_BYTES_STR("$share/g/x"), &o2);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_OK);
	static const uint32_t id[] = {42};
	struct wmq_pkt pkt = {.type = WMQ_SUBSCRIBE};
	pkt.u.subscribe.packet_id = 10;
	pkt.u.subscribe.props.sub_ids = id;
	pkt.u.subscribe.props.n_sub_ids = 1;
	pkt.u.subscribe.count = 2;
	pkt.u.subscribe.entries = (struct wmq_bytes){ent, w.pos};
	expect_enc(WMQ_V5, &pkt, V5_SUBSCRIBE);
	/* 3.1.1 entries carry only the QoS bits */
	w = wmq_wr_make(ent, sizeof ent);
	o1.qos = 2;
	wmq_subscribe_entry_encode(&w, WMQ_V311, WMQ_BYTES_STR("a/b"), &o1);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_OK);
	pkt.u.subscribe.count = 1;
	pkt.u.subscribe.entries = (struct wmq_bytes){ent, w.pos};
	expect_enc(WMQ_V311, &pkt, "82 08 00 0a 00 03 61 2f 62 02");
}

TEST(subscribe_v5_option_errors)
{
	/* [MQTT-3.8.3-5] reserved bits 7-6 */
	expect_fail(WMQ_V5, false, "82 07 00 01 00 00 01 61 40", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V5, false, "82 07 00 01 00 00 01 61 80", WMQ_ERR_MALFORMED, 0x81);
	/* §3.8.3.1 QoS 3 and Retain Handling 3: Protocol Errors */
	expect_fail(WMQ_V5, false, "82 07 00 01 00 00 01 61 03", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "82 07 00 01 00 00 01 61 30", WMQ_ERR_PROTOCOL, 0x82);
	/* [MQTT-3.8.3-4] No Local on a shared subscription */
	expect_fail(WMQ_V5, false, "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 78 04",
		    WMQ_ERR_PROTOCOL, 0x82);
	/* an error in the second entry is still found */
	expect_fail(WMQ_V5, false, "82 0b 00 01 00 00 01 61 01 00 01 62 c0", WMQ_ERR_MALFORMED,
		    0x81);
	/* options byte missing */
	expect_fail(WMQ_V5, false, "82 06 00 01 00 00 01 61", WMQ_ERR_MALFORMED, 0x81);
	/* filter not UTF-8 */
	expect_fail(WMQ_V5, false, "82 07 00 01 00 00 01 ff 00", WMQ_ERR_MALFORMED, 0x81);
	/* every valid option combination decodes */
	for (unsigned b = 0; b < 0x30; b++) {
		char hex[40];
		if ((b & 3) == 3)
			continue;
		snprintf(hex, sizeof hex, "82 07 00 01 00 00 01 61 %02x", b);
		expect_ok(WMQ_V5, false, hex);
	}
}

TEST(subscribe_v311_option_errors)
{
	/* [MQTT-3-8.3-4] bits 7-2 reserved, QoS 3 */
	expect_fail(WMQ_V311, false, "82 06 00 01 00 01 61 04", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, false, "82 06 00 01 00 01 61 80", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, false, "82 06 00 01 00 01 61 03", WMQ_ERR_MALFORMED, 0x81);
	expect_ok(WMQ_V311, false, "82 06 00 01 00 01 61 02");
	/* wrong fixed header flags [MQTT-2.1.3-1] */
	expect_fail(WMQ_V311, false, "80 06 00 01 00 01 61 02", WMQ_ERR_MALFORMED, 0x81);
	/* packet id 0 */
	expect_fail(WMQ_V311, false, "82 06 00 00 00 01 61 02", WMQ_ERR_PROTOCOL, 0x82);
}

TEST(subscribe_empty)
{
	/* [MQTT-3.8.3-2] (3.1.1 [MQTT-3.8.3-3]) */
	expect_fail(WMQ_V311, false, "82 02 00 01", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "82 03 00 01 00", WMQ_ERR_PROTOCOL, 0x82);
	/* a server never sends SUBSCRIBE */
	expect_fail(WMQ_V311, true, "82 06 00 01 00 01 61 02", WMQ_ERR_PROTOCOL, 0x82);
}

TEST(suback_both_versions)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, true, &v, "90 04 00 0a 01 80", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_SUBACK);
	ASSERT_EQ(pkt.u.suback.packet_id, 10);
	ASSERT_EQ(pkt.u.suback.count, 2);
	ASSERT_EQ(pkt.u.suback.rcs[0], 1);
	ASSERT_EQ(pkt.u.suback.rcs[1], 0x80);
	expect_enc(WMQ_V311, &pkt, "90 04 00 0a 01 80");
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, "90 07 00 0a 00 01 02 80 a2", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.suback.count, 4);
	ASSERT_EQ(pkt.u.suback.rcs[3], 0xa2);
	expect_enc(WMQ_V5, &pkt, "90 07 00 0a 00 01 02 80 a2");
	/* 3.1.1 maps every failure code to 0x80 */
	static const uint8_t rcs[] = {1, 0x87, 2, 0x9e, 0};
	struct wmq_pkt e = {.type = WMQ_SUBACK};
	e.u.suback.packet_id = 10;
	e.u.suback.count = 5;
	e.u.suback.rcs = rcs;
	expect_enc(WMQ_V311, &e, "90 07 00 0a 01 80 02 80 00");
	expect_enc(WMQ_V5, &e, "90 08 00 0a 00 01 87 02 9e 00");
}

TEST(suback_errors)
{
	/* [MQTT-3.9.3-2] (3.1.1) reserved return codes */
	expect_fail(WMQ_V311, true, "90 03 00 0a 03", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V311, true, "90 03 00 0a 87", WMQ_ERR_PROTOCOL, 0x82);
	/* v5 codes outside the SUBACK table */
	expect_fail(WMQ_V5, true, "90 04 00 0a 00 11", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "90 04 00 0a 00 03", WMQ_ERR_PROTOCOL, 0x82);
	/* no reason codes */
	expect_fail(WMQ_V5, true, "90 03 00 0a 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V311, true, "90 02 00 0a", WMQ_ERR_PROTOCOL, 0x82);
	/* from a client */
	expect_fail(WMQ_V311, false, "90 03 00 0a 00", WMQ_ERR_PROTOCOL, 0x82);
	/* reason string allowed, a PUBLISH property is not */
	expect_ok(WMQ_V5, true, "90 08 00 0a 04 1f 00 01 78 00");
	expect_fail(WMQ_V5, true, "90 06 00 0a 02 01 01 00", WMQ_ERR_MALFORMED, 0x81);
}

/* ---- UNSUBSCRIBE / UNSUBACK --------------------------------------------- */

TEST(unsubscribe_both_versions)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	const char *h311 = "a2 0a 00 0b 00 01 61 00 03 62 2f 63";
	const char *h5 = "a2 0b 00 0b 00 00 01 61 00 03 62 2f 63";
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, h311, &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_UNSUBSCRIBE);
	ASSERT_EQ(pkt.u.unsubscribe.packet_id, 11);
	ASSERT_EQ(pkt.u.unsubscribe.count, 2);
	struct wmq_bytes f;
	size_t pos = 0;
	ASSERT(wmq_unsubscribe_next(&pkt.u.unsubscribe, &pos, &f));
	ASSERT(bytes_is(f, "a"));
	ASSERT(wmq_unsubscribe_next(&pkt.u.unsubscribe, &pos, &f));
	ASSERT(bytes_is(f, "b/c"));
	ASSERT(!wmq_unsubscribe_next(&pkt.u.unsubscribe, &pos, &f));
	expect_enc(WMQ_V311, &pkt, h311);
	expect_enc(WMQ_V5, &pkt, h5);
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, h5, &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.unsubscribe.count, 2);
	expect_enc(WMQ_V311, &pkt, h311);
}

TEST(unsubscribe_errors)
{
	/* [MQTT-3.10.3-2] no filters */
	expect_fail(WMQ_V311, false, "a2 02 00 0b", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "a2 03 00 0b 00", WMQ_ERR_PROTOCOL, 0x82);
	/* [MQTT-3.10.3-1] filter not UTF-8; truncated filter */
	expect_fail(WMQ_V311, false, "a2 05 00 0b 00 01 c3", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, false, "a2 05 00 0b 00 02 61", WMQ_ERR_MALFORMED, 0x81);
	/* flags must be 0x2 */
	expect_fail(WMQ_V311, false, "a0 05 00 0b 00 01 61", WMQ_ERR_MALFORMED, 0x81);
	/* packet id 0 */
	expect_fail(WMQ_V311, false, "a2 05 00 00 00 01 61", WMQ_ERR_PROTOCOL, 0x82);
	/* subscription identifier is not an UNSUBSCRIBE property */
	expect_fail(WMQ_V5, false, "a2 08 00 0b 02 0b 01 00 01 61", WMQ_ERR_MALFORMED, 0x81);
	/* from the server */
	expect_fail(WMQ_V5, true, "a2 06 00 0b 00 00 01 61", WMQ_ERR_PROTOCOL, 0x82);
}

TEST(unsuback_both_versions)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, true, &v, "b0 02 00 0b", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_UNSUBACK);
	ASSERT_EQ(pkt.u.suback.packet_id, 11);
	ASSERT_EQ(pkt.u.suback.count, 0);
	expect_fail(WMQ_V311, true, "b0 03 00 0b 00", WMQ_ERR_MALFORMED, 0x81);
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, "b0 05 00 0b 00 00 11", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.suback.count, 2);
	ASSERT_EQ(pkt.u.suback.rcs[0], 0);
	ASSERT_EQ(pkt.u.suback.rcs[1], 0x11);
	expect_enc(WMQ_V5, &pkt, "b0 05 00 0b 00 00 11");
	/* 3.1.1 UNSUBACK carries no payload */
	expect_enc(WMQ_V311, &pkt, "b0 02 00 0b");
	/* codes outside the UNSUBACK table */
	expect_fail(WMQ_V5, true, "b0 04 00 0b 00 01", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "b0 04 00 0b 00 97", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "b0 03 00 0b 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "b0 04 00 0b 00 00", WMQ_ERR_PROTOCOL, 0x82);
}

/* ---- PINGREQ, PINGRESP, DISCONNECT, AUTH -------------------------------- */

TEST(ping)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, "c0 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_PINGREQ);
	expect_enc(WMQ_V5, &pkt, "c0 00");
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, "d0 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_PINGRESP);
	expect_enc(WMQ_V311, &pkt, "d0 00");
	expect_fail(WMQ_V311, false, "c0 01 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, false, "c1 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, true, "c0 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V311, false, "d0 00", WMQ_ERR_PROTOCOL, 0x82);
}

TEST(disconnect_v311)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V311, false, &v, "e0 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_DISCONNECT);
	ASSERT_EQ(pkt.u.disconnect.rc, 0);
	/* in 3.1.1 the remaining length must be 0 */
	expect_fail(WMQ_V311, false, "e0 01 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, false, "e0 02 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* a reason code is dropped when encoding for 3.1.1 */
	pkt.u.disconnect.rc = WMQ_RC_SERVER_SHUTTING_DOWN;
	expect_enc(WMQ_V311, &pkt, "e0 00");
}

TEST(disconnect_v5)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, "e0 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.disconnect.rc, 0);
	expect_enc(WMQ_V5, &pkt, "e0 00");
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, "e0 01 04", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.disconnect.rc, 4);
	expect_enc(WMQ_V5, &pkt, "e0 01 04");
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, "e0 06 8e 04 1f 00 01 78", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.disconnect.rc, 0x8e);
	ASSERT(bytes_is(pkt.u.disconnect.props.reason_string, "x"));
	pkt_raw_only(&pkt);
	expect_enc(WMQ_V5, &pkt, "e0 06 8e 04 1f 00 01 78");
	/* client sets a session expiry on disconnect; rc 0 kept with props */
	struct wmq_pkt e = {.type = WMQ_DISCONNECT};
	e.u.disconnect.props.present = WMQ_PROP_BIT(WMQ_PROP_SESSION_EXPIRY);
	e.u.disconnect.props.session_expiry = 1;
	expect_enc(WMQ_V5, &e, "e0 07 00 05 11 00 00 00 01");
	expect_ok(WMQ_V5, false, "e0 07 00 05 11 00 00 00 01");
	/* [MQTT-3.14.2-2] the server may not send it */
	expect_fail(WMQ_V5, true, "e0 07 00 05 11 00 00 00 01", WMQ_ERR_PROTOCOL, 0x82);
	/* server reference from the server */
	expect_ok(WMQ_V5, true, "e0 06 9c 04 1c 00 01 68");
	/* flags */
	expect_fail(WMQ_V5, false, "e1 00", WMQ_ERR_MALFORMED, 0x81);
}

TEST(disconnect_v5_reason_directions)
{
	/* 0x04 only from the client, the server-only codes only from the server */
	expect_fail(WMQ_V5, true, "e0 01 04", WMQ_ERR_PROTOCOL, 0x82);
	static const uint8_t server_only[] = {0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x9a, 0x9b,
					      0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(server_only); i++) {
		char hex[16];
		snprintf(hex, sizeof hex, "e0 01 %02x", server_only[i]);
		expect_ok(WMQ_V5, true, hex);
		expect_fail(WMQ_V5, false, hex, WMQ_ERR_PROTOCOL, 0x82);
	}
	static const uint8_t both[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93,
				       0x94, 0x95, 0x96, 0x97, 0x98, 0x99};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(both); i++) {
		char hex[16];
		snprintf(hex, sizeof hex, "e0 01 %02x", both[i]);
		expect_ok(WMQ_V5, true, hex);
		expect_ok(WMQ_V5, false, hex);
	}
	/* not DISCONNECT codes at all */
	expect_fail(WMQ_V5, false, "e0 01 01", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "e0 01 84", WMQ_ERR_PROTOCOL, 0x82);
}

TEST(auth_v5)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, "f0 00", &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.type, WMQ_AUTH);
	ASSERT_EQ(pkt.u.auth.rc, 0);
	expect_enc(WMQ_V5, &pkt, "f0 00");
	const char *h = "f0 0c 18 0a 15 00 01 6d 16 00 03 01 02 03";
	ASSERT_EQ(dec_hex(WMQ_V5, false, &v, h, &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.auth.rc, 0x18);
	ASSERT(bytes_is(pkt.u.auth.props.auth_method, "m"));
	ASSERT_EQ(pkt.u.auth.props.auth_data.len, 3);
	ASSERT_EQ(pkt.u.auth.props.auth_data.p[2], 3);
	/* fields form: clear raw and encode from the parsed values */
	pkt.u.auth.props.raw = (struct wmq_bytes){NULL, 0};
	expect_enc(WMQ_V5, &pkt, h);
	/* AUTH does not exist before MQTT 5 */
	expect_fail(WMQ_V311, false, "f0 00", WMQ_ERR_MALFORMED, 0x81);
	struct wmq_pkt a = {.type = WMQ_AUTH};
	uint8_t buf[8];
	struct wmq_wr w = wmq_wr_make(buf, sizeof buf);
	ASSERT_EQ(wmq_mqtt_encode(&w, WMQ_V311, &a), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_mqtt_encoded_len(WMQ_V311, &a), 0);
	/* [MQTT-3.15.2-1] codes and their senders */
	expect_ok(WMQ_V5, false, "f0 01 19");
	expect_fail(WMQ_V5, true, "f0 01 19", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "f0 01 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "f0 01 87", WMQ_ERR_PROTOCOL, 0x82);
	/* flags, and a property AUTH may not carry */
	expect_fail(WMQ_V5, false, "f1 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V5, false, "f0 04 18 02 17 01", WMQ_ERR_MALFORMED, 0x81);
}

/* ---- fixed header rules across all types -------------------------------- */

TEST(fixed_header_flags)
{
	/* one valid body per type (v5), decoded with every wrong flag nibble */
	static const struct {
		uint8_t type;
		bool from_server;
		const char *body;
	} cases[] = {
		{WMQ_CONNACK, true, "03 00 00 00"},
		{WMQ_PUBACK, false, "02 00 01"},
		{WMQ_PUBREC, false, "02 00 01"},
		{WMQ_PUBREL, false, "02 00 01"},
		{WMQ_PUBCOMP, false, "02 00 01"},
		{WMQ_SUBSCRIBE, false, "07 00 01 00 00 01 61 00"},
		{WMQ_SUBACK, true, "04 00 01 00 00"},
		{WMQ_UNSUBSCRIBE, false, "06 00 01 00 00 01 61"},
		{WMQ_UNSUBACK, true, "04 00 01 00 00"},
		{WMQ_PINGREQ, false, "00"},
		{WMQ_PINGRESP, true, "00"},
		{WMQ_DISCONNECT, false, "00"},
		{WMQ_AUTH, false, "00"},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		uint8_t good = (cases[i].type == WMQ_PUBREL || cases[i].type == WMQ_SUBSCRIBE ||
				cases[i].type == WMQ_UNSUBSCRIBE)
				       ? 2
				       : 0;
		for (uint8_t fl = 0; fl < 16; fl++) {
			char hex[64];
			snprintf(hex, sizeof hex, "%x%x %s", cases[i].type, fl, cases[i].body);
			if (fl == good)
				expect_ok(WMQ_V5, cases[i].from_server, hex);
			else
				expect_fail(WMQ_V5, cases[i].from_server, hex, WMQ_ERR_MALFORMED,
					    0x81);
		}
	}
	/* CONNECT too */
	expect_fail(0, false, "11 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", WMQ_ERR_MALFORMED, 0x81);
	/* type 0 is reserved */
	expect_fail(WMQ_V5, false, "00 00", WMQ_ERR_MALFORMED, 0x81);
	expect_fail(WMQ_V311, true, "00 00", WMQ_ERR_MALFORMED, 0x81);
}

TEST(direction_rules)
{
	/* client -> server only */
	expect_fail(0, true, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "82 07 00 01 00 00 01 61 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "a2 06 00 01 00 00 01 61", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, true, "c0 00", WMQ_ERR_PROTOCOL, 0x82);
	/* server -> client only */
	expect_fail(WMQ_V5, false, "20 03 00 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "90 04 00 01 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "b0 04 00 01 00 00", WMQ_ERR_PROTOCOL, 0x82);
	expect_fail(WMQ_V5, false, "d0 00", WMQ_ERR_PROTOCOL, 0x82);
	/* both directions */
	expect_ok(WMQ_V5, true, "30 04 00 01 61 00");
	expect_ok(WMQ_V5, false, "30 04 00 01 61 00");
	expect_ok(WMQ_V5, true, "e0 00");
	expect_ok(WMQ_V5, false, "e0 00");
}

/* ---- properties --------------------------------------------------------- */

/* Decode a bare property block (length prefix included). */
static wmq_err props_hex(const char *hex, int ptype, bool from_server, struct vec *v,
			 struct wmq_props *p, uint8_t *rc)
{
	vec_hex(v, hex);
	struct wmq_rd r = wmq_rd_make(v->b, v->n);
	wmq_err e = wmq_props_decode(&r, ptype, from_server, p, rc);
	if (e == WMQ_OK)
		ASSERT_EQ(wmq_rd_left(&r), 0);
	return e;
}

TEST(props_every_id_right_and_wrong_packet)
{
	static const struct {
		uint8_t id;
		const char *value;
		int good, bad;
	} cases[] = {
		{0x01, "01", WMQ_PUBLISH, WMQ_CONNECT},
		{0x02, "00 00 00 0a", WMQ_PTYPE_WILL, WMQ_SUBSCRIBE},
		{0x03, "00 01 61", WMQ_PUBLISH, WMQ_CONNACK},
		{0x08, "00 01 61", WMQ_PTYPE_WILL, WMQ_PUBACK},
		{0x09, "00 01 00", WMQ_PUBLISH, WMQ_AUTH},
		{0x0b, "05", WMQ_SUBSCRIBE, WMQ_UNSUBSCRIBE},
		{0x11, "00 00 00 01", WMQ_DISCONNECT, WMQ_PUBLISH},
		{0x12, "00 01 61", WMQ_CONNACK, WMQ_CONNECT},
		{0x13, "00 0a", WMQ_CONNACK, WMQ_CONNECT},
		{0x15, "00 01 61", WMQ_AUTH, WMQ_PUBLISH},
		{0x16, "00 01 ff", WMQ_CONNACK, WMQ_PTYPE_WILL},
		{0x17, "01", WMQ_CONNECT, WMQ_CONNACK},
		{0x18, "00 00 00 05", WMQ_PTYPE_WILL, WMQ_CONNECT},
		{0x19, "01", WMQ_CONNECT, WMQ_PTYPE_WILL},
		{0x1a, "00 01 61", WMQ_CONNACK, WMQ_CONNECT},
		{0x1c, "00 01 61", WMQ_DISCONNECT, WMQ_CONNECT},
		{0x1f, "00 01 61", WMQ_PUBREL, WMQ_PUBLISH},
		{0x21, "00 05", WMQ_CONNECT, WMQ_PUBLISH},
		{0x22, "00 05", WMQ_CONNACK, WMQ_DISCONNECT},
		{0x23, "00 05", WMQ_PUBLISH, WMQ_PTYPE_WILL},
		{0x24, "01", WMQ_CONNACK, WMQ_CONNECT},
		{0x25, "01", WMQ_CONNACK, WMQ_CONNECT},
		{0x26, "00 01 61 00 01 62", WMQ_UNSUBSCRIBE, WMQ_PINGREQ},
		{0x27, "00 00 01 00", WMQ_CONNECT, WMQ_PUBLISH},
		{0x28, "01", WMQ_CONNACK, WMQ_CONNECT},
		{0x29, "00", WMQ_CONNACK, WMQ_SUBSCRIBE},
		{0x2a, "01", WMQ_CONNACK, WMQ_DISCONNECT},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		char hex[64];
		struct vec v;
		struct wmq_props p;
		uint8_t rc = 0xff;
		size_t vlen = strlen(cases[i].value);
		snprintf(hex, sizeof hex, "%02x %02x %s", (unsigned)(1 + (vlen + 1) / 3),
			 cases[i].id, cases[i].value);
		if (props_hex(hex, cases[i].good, false, &v, &p, &rc) != WMQ_OK || rc != 0)
			TEST_FAIL_("id 0x%02x rejected in its packet (rc 0x%02x)", cases[i].id, rc);
		ASSERT_EQ(p.present, WMQ_PROP_BIT(cases[i].id));
		ASSERT_EQ(p.raw.len, v.n - 1);
		/* the value landed in its field: re-encode from the fields */
		uint8_t out[64];
		struct wmq_wr w = wmq_wr_make(out, sizeof out);
		if (cases[i].id != WMQ_PROP_USER && cases[i].id != WMQ_PROP_SUB_ID)
			p.raw = (struct wmq_bytes){NULL, 0};
		else
			p.present = 0, p.n_user = 0, p.n_sub_ids = 0;
		wmq_props_encode(&w, &p);
		ASSERT_EQ(wmq_wr_finish(&w), WMQ_OK);
		ASSERT_EQ(w.pos, v.n);
		ASSERT_EQ(wmq_props_len(&p) + 1, v.n);
		ASSERT_MEMEQ(out, v.b, v.n);
		/* §2.2.2.2 wrong packet type: Malformed */
		rc = 0;
		ASSERT_EQ(props_hex(hex, cases[i].bad, false, &v, &p, &rc), WMQ_ERR_MALFORMED);
		ASSERT_EQ(rc, 0x81);
	}
}

TEST(props_unknown_ids)
{
	static const char *const hex[] = {
		"02 00 00", /* 0 is not an identifier */
		"02 04 00", "02 05 00", "02 0a 00", "02 14 00", "02 1b 00",
		"02 20 00", "02 2b 00", "02 3f 00", "02 7f 00",
		"03 80 01 00", /* multi-byte identifier 128 */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(hex); i++) {
		struct vec v;
		struct wmq_props p;
		uint8_t rc = 0;
		ASSERT_EQ(props_hex(hex[i], WMQ_PUBLISH, true, &v, &p, &rc), WMQ_ERR_MALFORMED);
		ASSERT_EQ(rc, 0x81);
	}
}

TEST(props_duplicates)
{
	static const struct {
		const char *hex;
		int ptype;
		bool from_server;
		wmq_err want;
	} cases[] = {
		{"04 01 01 01 01", WMQ_PUBLISH, true, WMQ_ERR_PROTOCOL},
		{"0a 02 00 00 00 01 02 00 00 00 01", WMQ_PTYPE_WILL, false, WMQ_ERR_PROTOCOL},
		{"08 03 00 01 61 03 00 01 61", WMQ_PUBLISH, false, WMQ_ERR_PROTOCOL},
		{"0a 11 00 00 00 01 11 00 00 00 01", WMQ_CONNECT, false, WMQ_ERR_PROTOCOL},
		{"06 13 00 01 13 00 01", WMQ_CONNACK, true, WMQ_ERR_PROTOCOL},
		{"08 15 00 01 61 15 00 01 61", WMQ_AUTH, false, WMQ_ERR_PROTOCOL},
		{"08 16 00 01 61 16 00 01 61", WMQ_CONNECT, false, WMQ_ERR_PROTOCOL},
		{"08 1f 00 01 61 1f 00 01 61", WMQ_PUBACK, false, WMQ_ERR_PROTOCOL},
		{"06 21 00 01 21 00 01", WMQ_CONNECT, false, WMQ_ERR_PROTOCOL},
		{"06 23 00 01 23 00 02", WMQ_PUBLISH, true, WMQ_ERR_PROTOCOL},
		{"04 24 00 24 00", WMQ_CONNACK, true, WMQ_ERR_PROTOCOL},
		{"0a 27 00 00 01 00 27 00 00 01 00", WMQ_CONNACK, true, WMQ_ERR_PROTOCOL},
		{"0a 18 00 00 00 01 18 00 00 00 01", WMQ_PTYPE_WILL, false, WMQ_ERR_PROTOCOL},
		/* subscription identifier: once in SUBSCRIBE, repeatable in a
		 * PUBLISH from the server (§3.3.2.3.8) */
		{"04 0b 01 0b 02", WMQ_SUBSCRIBE, false, WMQ_ERR_PROTOCOL},
		{"04 0b 01 0b 02", WMQ_PUBLISH, false, WMQ_ERR_PROTOCOL},
		{"04 0b 01 0b 02", WMQ_PUBLISH, true, WMQ_OK},
		/* user properties repeat anywhere, same key included */
		{"0e 26 00 01 61 00 01 62 26 00 01 61 00 01 63", WMQ_CONNECT, false, WMQ_OK},
		{"0e 26 00 01 61 00 01 62 26 00 01 61 00 01 63", WMQ_DISCONNECT, true, WMQ_OK},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		struct vec v;
		struct wmq_props p;
		uint8_t rc = 0xff;
		wmq_err e = props_hex(cases[i].hex, cases[i].ptype, cases[i].from_server, &v, &p, &rc);
		if (e != cases[i].want)
			TEST_FAIL_("%s: err %d want %d", cases[i].hex, (int)e, (int)cases[i].want);
		ASSERT_EQ(rc, cases[i].want == WMQ_OK ? 0 : 0x82);
	}
	/* the accepted repeats are counted and iterable */
	struct vec v;
	struct wmq_props p;
	uint8_t rc;
	ASSERT_EQ(props_hex("0e 26 00 01 61 00 01 62 26 00 01 61 00 01 63", WMQ_CONNECT, false, &v,
			    &p, &rc),
		  WMQ_OK);
	ASSERT_EQ(p.n_user, 2);
	size_t pos = 0, n = 0;
	struct wmq_bytes k, val;
	const char *want[] = {"b", "c"};
	while (n < 3 && wmq_props_next_user(&p, &pos, &k, &val)) {
		ASSERT(n < 2);
		ASSERT(bytes_is(k, "a"));
		ASSERT(bytes_is(val, want[n]));
		n++;
	}
	ASSERT_EQ(n, 2);
}

TEST(props_value_ranges)
{
	static const struct {
		const char *hex;
		int ptype;
	} bad[] = {
		{"02 01 02", WMQ_PUBLISH},         /* payload format 2 */
		{"02 17 02", WMQ_CONNECT},         /* request problem info 2 */
		{"02 19 ff", WMQ_CONNECT},         /* request response info */
		{"02 24 02", WMQ_CONNACK},         /* maximum QoS 2 */
		{"02 25 02", WMQ_CONNACK},         /* retain available */
		{"02 28 02", WMQ_CONNACK},         /* wildcard available */
		{"02 29 02", WMQ_CONNACK},         /* sub id available */
		{"02 2a 02", WMQ_CONNACK},         /* shared available */
		{"03 21 00 00", WMQ_CONNECT},      /* receive maximum 0 */
		{"03 21 00 00", WMQ_CONNACK},      /* receive maximum 0 */
		{"05 27 00 00 00 00", WMQ_CONNECT}, /* maximum packet size 0 */
		{"02 0b 00", WMQ_SUBSCRIBE},       /* subscription identifier 0 */
		{"03 0b 80 00", WMQ_PUBLISH},      /* ... also written long */
		{"06 08 00 03 61 2f 2b", WMQ_PUBLISH}, /* [MQTT-3.3.2-14] wildcard */
		{"04 08 00 01 23", WMQ_PTYPE_WILL},    /* response topic "#" */
		{"03 08 00 00", WMQ_PUBLISH},          /* empty response topic */
		{"04 16 00 01 61", WMQ_CONNECT},       /* auth data without method */
		{"04 16 00 01 61", WMQ_AUTH},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(bad); i++) {
		struct vec v;
		struct wmq_props p;
		uint8_t rc = 0;
		wmq_err e = props_hex(bad[i].hex, bad[i].ptype, true, &v, &p, &rc);
		if (e != WMQ_ERR_PROTOCOL || rc != 0x82)
			TEST_FAIL_("%s: err %d rc 0x%02x", bad[i].hex, (int)e, rc);
	}
	/* the edges that are allowed */
	static const struct {
		const char *hex;
		int ptype;
	} good[] = {
		{"02 01 00", WMQ_PUBLISH},
		/* topic alias 0 decodes: the broker answers it with 0x94 */
		{"03 23 00 00", WMQ_PUBLISH},
		{"02 24 00", WMQ_CONNACK},
		{"03 21 ff ff", WMQ_CONNACK},
		{"05 0b ff ff ff 7f", WMQ_SUBSCRIBE}, /* 268435455 */
		{"05 27 ff ff ff ff", WMQ_CONNECT},
		{"03 23 ff ff", WMQ_PUBLISH},
		{"03 13 00 00", WMQ_CONNACK}, /* server keep alive 0 */
		{"05 02 00 00 00 00", WMQ_PUBLISH},
		{"08 15 00 01 6d 16 00 01 61", WMQ_AUTH},
		{"08 16 00 01 61 15 00 01 6d", WMQ_CONNECT}, /* order does not matter */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(good); i++) {
		struct vec v;
		struct wmq_props p;
		uint8_t rc = 0xff;
		if (props_hex(good[i].hex, good[i].ptype, true, &v, &p, &rc) != WMQ_OK)
			TEST_FAIL_("%s rejected", good[i].hex);
	}
	struct vec v;
	struct wmq_props p;
	uint8_t rc;
	ASSERT_EQ(props_hex("05 0b ff ff ff 7f", WMQ_SUBSCRIBE, false, &v, &p, &rc), WMQ_OK);
	ASSERT_EQ(p.sub_id, 268435455u);
}

TEST(props_malformed_blocks)
{
	static const char *const hex[] = {
		"05 01 01",             /* length past the end */
		"01 02",                /* u32 value truncated */
		"03 02 00 00",          /* u32 value truncated */
		"02 03 00",             /* string length truncated */
		"04 03 00 05 61 62",    /* string shorter than its length */
		"04 03 00 01 ff 00",    /* bad UTF-8 (and leftover) */
		"04 03 00 01 00",       /* U+0000 in a string */
		"05 0b 80 80 80 80",    /* varint never ends */
		"06 0b 80 80 80 80 01", /* five-byte varint */
		"06 26 00 01 61 00 01", /* user property value truncated */
		"08 26 00 01 61 00 01 c0 80", /* over-long UTF-8 in value */
		"80",                   /* length varint truncated */
		"",                     /* no length at all */
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(hex); i++) {
		struct vec v;
		struct wmq_props p;
		uint8_t rc = 0;
		wmq_err e = props_hex(hex[i], WMQ_PUBLISH, true, &v, &p, &rc);
		if (e != WMQ_ERR_MALFORMED || rc != 0x81)
			TEST_FAIL_("\"%s\": err %d rc 0x%02x", hex[i], (int)e, rc);
	}
	/* correlation data is binary: any bytes */
	struct vec v;
	struct wmq_props p;
	uint8_t rc;
	ASSERT_EQ(props_hex("05 09 00 02 00 ff", WMQ_PUBLISH, false, &v, &p, &rc), WMQ_OK);
	ASSERT_EQ(p.correlation_data.p[1], 0xff);
	/* an empty block */
	ASSERT_EQ(props_hex("00", WMQ_PINGREQ, false, &v, &p, &rc), WMQ_OK);
	ASSERT_EQ(p.present, 0);
	ASSERT_EQ(p.raw.len, 0);
}

TEST(props_encode_decode_all_fields)
{
	const struct wmq_user_prop up[] = {
		{WMQ_BYTES_STR("k1"), WMQ_BYTES_STR("v1")},
		{WMQ_BYTES_STR("k2"), WMQ_BYTES_STR("")},
	};
	struct wmq_props in = {0};
	in.present = WMQ_PROP_BIT(WMQ_PROP_SESSION_EXPIRY) | WMQ_PROP_BIT(WMQ_PROP_AUTH_METHOD) |
		     WMQ_PROP_BIT(WMQ_PROP_AUTH_DATA) | WMQ_PROP_BIT(WMQ_PROP_REQUEST_PROBLEM_INFO) |
		     WMQ_PROP_BIT(WMQ_PROP_REQUEST_RESPONSE_INFO) |
		     WMQ_PROP_BIT(WMQ_PROP_RECEIVE_MAX) | WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS_MAX) |
		     WMQ_PROP_BIT(WMQ_PROP_MAX_PACKET_SIZE);
	in.session_expiry = 0xfffffffe;
	in.auth_method = WMQ_BYTES_STR("SCRAM-SHA-256");
	in.auth_data = WMQ_BYTES_STR("n,,n=user,r=abc");
	in.request_problem_info = 0;
	in.request_response_info = 1;
	in.receive_max = 65535;
	in.topic_alias_max = 7;
	in.max_packet_size = 1u << 20;
	in.user = up;
	in.n_user = 2;
	uint8_t buf[256];
	struct wmq_wr w = wmq_wr_make(buf, sizeof buf);
	wmq_props_encode(&w, &in);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_OK);
	ASSERT_EQ(w.pos, 1 + wmq_props_len(&in));
	struct wmq_rd r = wmq_rd_make(buf, w.pos);
	struct wmq_props out;
	uint8_t rc;
	ASSERT_EQ(wmq_props_decode(&r, WMQ_CONNECT, false, &out, &rc), WMQ_OK);
	ASSERT_EQ(wmq_rd_left(&r), 0);
	ASSERT_EQ(out.present, in.present | WMQ_PROP_BIT(WMQ_PROP_USER));
	ASSERT_EQ(out.session_expiry, in.session_expiry);
	ASSERT(wmq_bytes_eq(out.auth_method, in.auth_method));
	ASSERT(wmq_bytes_eq(out.auth_data, in.auth_data));
	ASSERT_EQ(out.request_problem_info, 0);
	ASSERT_EQ(out.request_response_info, 1);
	ASSERT_EQ(out.receive_max, 65535);
	ASSERT_EQ(out.topic_alias_max, 7);
	ASSERT_EQ(out.max_packet_size, 1u << 20);
	ASSERT_EQ(out.n_user, 2);
	size_t pos = 0, n = 0;
	struct wmq_bytes k, v;
	while (n < 3 && wmq_props_next_user(&out, &pos, &k, &v)) {
		ASSERT(n < 2);
		ASSERT(wmq_bytes_eq(k, up[n].key));
		ASSERT(wmq_bytes_eq(v, up[n].value));
		n++;
	}
	ASSERT_EQ(n, 2);
	/* too small a buffer: sticky overflow */
	w = wmq_wr_make(buf, 10);
	wmq_props_encode(&w, &in);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_ERR_LIMIT);
}

TEST(props_filter_and_raw_forward)
{
	struct vec v;
	struct wmq_pkt pkt;
	uint8_t rc;
	ASSERT_EQ(dec_hex(WMQ_V5, true, &v, V5_PUBLISH, &pkt, &rc), WMQ_OK);
	struct wmq_bytes raw = pkt.u.publish.props.raw;
	uint64_t drop = WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS) | WMQ_PROP_BIT(WMQ_PROP_SUB_ID);
	/* without a writer: the size only */
	size_t n = wmq_props_filter(raw, drop, NULL);
	ASSERT_EQ(n, raw.len - 3 - 2 - 3);
	uint8_t out[64];
	struct wmq_wr w = wmq_wr_make(out, sizeof out);
	ASSERT_EQ(wmq_props_filter(raw, drop, &w), n);
	ASSERT_EQ(wmq_wr_finish(&w), WMQ_OK);
	ASSERT_EQ(w.pos, n);
	struct vec want;
	vec_hex(&want, "01 01 02 00 00 00 3c 03 00 04 6a 73 6f 6e 08 00 03 72 2f 73 09 00 02 01 02"
		       " 26 00 01 61 00 01 62");
	ASSERT_EQ(n, want.n);
	ASSERT_MEMEQ(out, want.b, n);
	/* nothing dropped: identical */
	ASSERT_EQ(wmq_props_filter(raw, 0, NULL), raw.len);
	/* forward the filtered block as raw properties of a new PUBLISH */
	struct wmq_pkt fwd = {.type = WMQ_PUBLISH};
	fwd.u.publish.qos = 1;
	fwd.u.publish.packet_id = 2;
	fwd.u.publish.topic = WMQ_BYTES_STR("t");
	fwd.u.publish.props.raw = (struct wmq_bytes){out, n};
	fwd.u.publish.props.present = WMQ_PROP_BIT(WMQ_PROP_TOPIC_ALIAS);
	fwd.u.publish.props.topic_alias = 9;
	uint8_t buf[128];
	w = wmq_wr_make(buf, sizeof buf);
	ASSERT_EQ(wmq_mqtt_encode(&w, WMQ_V5, &fwd), WMQ_OK);
	ASSERT_EQ(w.pos, wmq_mqtt_encoded_len(WMQ_V5, &fwd));
	struct vec got;
	memcpy(got.b, buf, w.pos);
	got.n = w.pos;
	ASSERT_EQ(dec(WMQ_V5, false, &got, &pkt, &rc), WMQ_OK);
	ASSERT_EQ(pkt.u.publish.props.topic_alias, 9);
	ASSERT_EQ(pkt.u.publish.props.n_sub_ids, 0);
	ASSERT_EQ(pkt.u.publish.props.n_user, 1);
	ASSERT(bytes_is(pkt.u.publish.props.content_type, "json"));
}

/* ---- round trips -------------------------------------------------------- */

TEST(roundtrip_all_vectors)
{
	static const struct {
		uint8_t ver;
		bool from_server;
		const char *hex;
	} cases[] = {
		{WMQ_V311, false, V311_CONNECT},
		{WMQ_V5, false, V5_CONNECT},
		{WMQ_V31, false, V31_CONNECT},
		{WMQ_V5, true, V5_CONNACK},
		{WMQ_V311, true, "20 02 01 00"},
		{WMQ_V5, true, V5_PUBLISH},
		{WMQ_V311, false, "3b 09 00 03 61 2f 62 12 34 68 69"},
		{WMQ_V5, false, "30 06 00 00 03 23 00 05"},
		{WMQ_V5, false, "40 02 00 01"},
		{WMQ_V5, false, "50 03 00 02 10"},
		{WMQ_V5, false, "62 09 00 03 00 05 1f 00 02 6f 6b"},
		{WMQ_V5, true, "70 08 00 09 92 04 1f 00 01 78"},
		{WMQ_V311, false, "62 02 00 ff"},
		{WMQ_V5, false, V5_SUBSCRIBE},
		{WMQ_V311, false, "82 0c 00 0a 00 03 61 2f 62 01 00 01 23 02"},
		{WMQ_V5, true, "90 07 00 0a 00 01 02 80 a2"},
		{WMQ_V311, true, "90 04 00 0a 01 80"},
		{WMQ_V5, false, "a2 0b 00 0b 00 00 01 61 00 03 62 2f 63"},
		{WMQ_V5, true, "b0 05 00 0b 00 00 11"},
		{WMQ_V311, true, "b0 02 00 0b"},
		{WMQ_V5, false, "c0 00"},
		{WMQ_V5, true, "d0 00"},
		{WMQ_V5, true, "e0 06 8e 04 1f 00 01 78"},
		{WMQ_V311, false, "e0 00"},
		{WMQ_V5, false, "f0 0c 18 0a 15 00 01 6d 16 00 03 01 02 03"},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		struct vec v;
		struct wmq_pkt pkt;
		uint8_t rc;
		if (dec_hex(cases[i].ver, cases[i].from_server, &v, cases[i].hex, &pkt, &rc) !=
		    WMQ_OK)
			TEST_FAIL_("decode %s", cases[i].hex);
		pkt_raw_only(&pkt);
		uint8_t ver = pkt.type == WMQ_CONNECT ? pkt.u.connect.version : cases[i].ver;
		expect_enc(ver, &pkt, cases[i].hex);
		/* a writer one byte short reports LIMIT */
		uint8_t small[1024];
		struct wmq_wr w = wmq_wr_make(small, v.n - 1);
		ASSERT_EQ(wmq_mqtt_encode(&w, ver, &pkt), WMQ_ERR_LIMIT);
	}
}

/* ---- topics ------------------------------------------------------------- */

TEST(topic_name_valid)
{
	static const struct {
		const char *t;
		bool ok;
	} cases[] = {
		{"a", true},       {"a/b", true},  {"/", true},       {"//", true},
		{"$SYS/x", true},  {"a b", true},  {"\xc3\xbc", true}, {"", false},
		{"a/+", false},    {"#", false},   {"a/#", false},     {"a+b", false},
		{"sport#", false},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++)
		if (wmq_topic_name_valid(wmq_bytes_cstr(cases[i].t)) != cases[i].ok)
			TEST_FAIL_("name \"%s\"", cases[i].t);
	static uint8_t big[65536];
	memset(big, 'a', sizeof big);
	ASSERT(wmq_topic_name_valid((struct wmq_bytes){big, 65535}));
	ASSERT(!wmq_topic_name_valid((struct wmq_bytes){big, 65536}));
	ASSERT(!wmq_topic_filter_valid((struct wmq_bytes){big, 65536}));
	static const uint8_t nul[] = {'a', 0, 'b'};
	ASSERT(!wmq_topic_name_valid((struct wmq_bytes){nul, 3}));
}

TEST(topic_filter_valid)
{
	static const struct {
		const char *f;
		bool ok;
	} cases[] = {
		{"#", true},
		{"+", true},
		{"sport/#", true},
		{"sport/tennis/player1/#", true},
		{"+/tennis/#", true},
		{"sport/+/player1", true},
		{"+/+", true},
		{"/+", true},
		{"/", true},
		{"//", true},
		{"$SYS/#", true},
		{"a/b/c", true},
		{"", false},
		{"sport/tennis#", false},
		{"sport/tennis/#/ranking", false},
		{"sport+", false},
		{"a/#/", false},
		{"#/", false},
		{"##", false},
		{"++", false},
		{"a/++/b", false},
		{"a/+b", false},
		{"a/b+", false},
		{"+a", false},
		{"$share/g/#", true},
		{"$share/g/a/+", true},
		{"$share/group1/sport/#", true},
		{"$share//a", false},
		{"$share/g", false},
		{"$share/g/", false},
		{"$share/", false},
		{"$share/g+/a", false},
		{"$share/#/a", false},
		{"$share/g/a#", false},
		{"$share/g/a/#/b", false},
		{"$share", true},
		{"$sharex/a", true},
		{"$SHARE/g/a", true},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++)
		if (wmq_topic_filter_valid(wmq_bytes_cstr(cases[i].f)) != cases[i].ok)
			TEST_FAIL_("filter \"%s\" want %d", cases[i].f, cases[i].ok);
}

TEST(topic_match_table)
{
	static const struct {
		const char *f, *n;
		bool m;
	} cases[] = {
		{"sport/tennis/player1/#", "sport/tennis/player1", true},
		{"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
		{"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
		{"sport/#", "sport", true},
		{"sport/tennis/#", "sport/tennis", true},
		{"#", "sport", true},
		{"#", "/", true},
		{"#", "a/b/c", true},
		{"#", "/finance", true},
		{"sport/tennis/+", "sport/tennis/player1", true},
		{"sport/tennis/+", "sport/tennis/player1/ranking", false},
		{"sport/tennis/+", "sport/tennis", false},
		{"sport/+", "sport", false},
		{"sport/+", "sport/", true},
		{"+", "sport", true},
		{"+", "/finance", false},
		{"+/+", "/finance", true},
		{"/+", "/finance", true},
		{"+/#", "/finance", true},
		{"+/+", "/", true},
		{"+/+/+", "a/b/c", true},
		{"+/+/+", "a/b", false},
		{"+/tennis/#", "sport/tennis", true},
		{"#", "$SYS/broker", false},
		{"#", "$", false},
		{"+", "$SYS", false},
		{"+/monitor/Clients", "$SYS/monitor/Clients", false},
		{"$SYS/#", "$SYS/monitor/Clients", true},
		{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
		{"$SYS/#", "$SYS", true},
		{"a/$SYS", "a/$SYS", true},
		{"a/+", "a/$x", true},
		{"a/#", "a/$x/y", true},
		{"a/b", "a/b", true},
		{"a/b", "a/b/", false},
		{"a/b/", "a/b/", true},
		{"a/b/", "a/b", false},
		{"a//b", "a//b", true},
		{"a/+/b", "a//b", true},
		{"a/+/b", "a/x/b", true},
		{"a/+/b", "a/x/y/b", false},
		{"a/#", "a", true},
		{"a/#", "a/", true},
		{"a/#", "ab", false},
		{"a/b/#", "a/bc", false},
		{"a/b/#", "a/b/c/d/e", true},
		{"a", "A", false},
		{"ACCOUNTS", "Accounts", false},
		{"/", "/", true},
		{"//", "/", false},
		{"/", "//", false},
		{"/#", "/", true},
		{"/#", "a", false},
		{"a/b/c", "a/b", false},
		{"a/b", "a/b/c", false},
		{"sport", "sport/", false},
		{"\xc3\xbc/+", "\xc3\xbc/x", true},
		{"\xc3\xbc/+", "\xc3\xbd/x", false},
		{"a/b/#/c", "a/b/x/c", false}, /* invalid filter never matches */
		{"", "a", false},
		{"a", "", false},
	};
	ASSERT(WMQ_ARRAY_LEN(cases) >= 40);
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++)
		if (wmq_topic_match(wmq_bytes_cstr(cases[i].f), wmq_bytes_cstr(cases[i].n)) !=
		    cases[i].m)
			TEST_FAIL_("match(\"%s\", \"%s\") want %d", cases[i].f, cases[i].n,
				   cases[i].m);
}

TEST(topic_match_long_is_linear)
{
	/* 30000 levels of "+/": a backtracking matcher would blow up here */
	static uint8_t f[60002], n[60002];
	size_t fl = 0, nl = 0;
	for (size_t i = 0; i < 30000; i++) {
		f[fl++] = '+';
		f[fl++] = '/';
		n[nl++] = 'x';
		n[nl++] = '/';
	}
	f[fl++] = '#';
	n[nl++] = 'y';
	ASSERT(wmq_topic_match((struct wmq_bytes){f, fl}, (struct wmq_bytes){n, nl}));
	f[fl - 1] = 'z';
	ASSERT(!wmq_topic_match((struct wmq_bytes){f, fl}, (struct wmq_bytes){n, nl}));
	ASSERT(wmq_topic_filter_valid((struct wmq_bytes){f, fl}));
	ASSERT_EQ(wmq_topic_levels((struct wmq_bytes){n, nl}), 30001);
}

TEST(topic_shared_split)
{
	struct wmq_bytes g = {NULL, 0}, f = {NULL, 0};
	ASSERT(wmq_topic_shared_split(WMQ_BYTES_STR("$share/grp/a/b"), &g, &f));
	ASSERT(bytes_is(g, "grp"));
	ASSERT(bytes_is(f, "a/b"));
	ASSERT(wmq_topic_shared_split(WMQ_BYTES_STR("$share/g/#"), &g, &f));
	ASSERT(bytes_is(g, "g"));
	ASSERT(bytes_is(f, "#"));
	ASSERT(wmq_topic_shared_split(WMQ_BYTES_STR("$share//x"), &g, &f));
	ASSERT_EQ(g.len, 0);
	ASSERT(bytes_is(f, "x"));
	/* not shared: outputs untouched */
	struct wmq_bytes g0 = WMQ_BYTES_STR("keep"), f0 = WMQ_BYTES_STR("keep");
	g = g0;
	f = f0;
	ASSERT(!wmq_topic_shared_split(WMQ_BYTES_STR("$share/g"), &g, &f));
	ASSERT(!wmq_topic_shared_split(WMQ_BYTES_STR("$share/"), &g, &f));
	ASSERT(!wmq_topic_shared_split(WMQ_BYTES_STR("$share"), &g, &f));
	ASSERT(!wmq_topic_shared_split(WMQ_BYTES_STR("a/b"), &g, &f));
	ASSERT(!wmq_topic_shared_split(WMQ_BYTES_STR("$SHARE/g/a"), &g, &f));
	ASSERT(g.p == g0.p && f.p == f0.p);
}

TEST(topic_levels)
{
	static const struct {
		const char *t;
		size_t n;
		const char *levels[5];
	} cases[] = {
		{"a/b", 2, {"a", "b"}},
		{"", 1, {""}},
		{"/", 2, {"", ""}},
		{"a//b", 3, {"a", "", "b"}},
		{"/a/", 3, {"", "a", ""}},
		{"sport/tennis/player1/#", 4, {"sport", "tennis", "player1", "#"}},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		struct wmq_bytes t = wmq_bytes_cstr(cases[i].t), lev;
		ASSERT_EQ(wmq_topic_levels(t), cases[i].n);
		size_t pos = 0, k = 0;
		while (k < 6 && wmq_topic_next_level(t, &pos, &lev)) {
			ASSERT(k < cases[i].n);
			if (!bytes_is(lev, cases[i].levels[k]))
				TEST_FAIL_("\"%s\" level %zu", cases[i].t, k);
			k++;
		}
		ASSERT_EQ(k, cases[i].n);
		ASSERT(!wmq_topic_next_level(t, &pos, &lev));
	}
}

/* ---- reason codes ------------------------------------------------------- */

TEST(rc_names_and_v311_mapping)
{
	ASSERT_STREQ(wmq_rc_str(0x00), "success");
	ASSERT_STREQ(wmq_rc_str(0x87), "not authorized");
	ASSERT_STREQ(wmq_rc_str(0x84), "unsupported protocol version");
	ASSERT_STREQ(wmq_rc_str(0xa2), "wildcard subscriptions not supported");
	ASSERT_STREQ(wmq_rc_str(0x03), "unknown reason code");
	ASSERT_STREQ(wmq_rc_str(0xff), "unknown reason code");
	for (unsigned rc = 0; rc < 256; rc++)
		ASSERT(wmq_rc_str((uint8_t)rc) != NULL);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x00), 0);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x84), 1);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x85), 2);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x88), 3);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x89), 3);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x86), 4);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x8c), 4);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x87), 5);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x8a), 5);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x80), 3);
	ASSERT_EQ(wmq_rc_to_v311_connack(0x9c), 3);
	for (unsigned rc = 0; rc < 256; rc++)
		ASSERT(wmq_rc_to_v311_connack((uint8_t)rc) <= 5);
}

TEST(encode_unknown_type)
{
	struct wmq_pkt pkt = {.type = 0};
	uint8_t buf[8];
	struct wmq_wr w = wmq_wr_make(buf, sizeof buf);
	ASSERT_EQ(wmq_mqtt_encode(&w, WMQ_V5, &pkt), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_mqtt_encoded_len(WMQ_V5, &pkt), 0);
	pkt.type = 16;
	ASSERT_EQ(wmq_mqtt_encode(&w, WMQ_V5, &pkt), WMQ_ERR_INVAL);
	ASSERT_EQ(w.pos, 0);
	/* a string longer than 65535 cannot be encoded */
	static uint8_t big[70000];
	struct wmq_pkt p = {.type = WMQ_PUBLISH};
	p.u.publish.topic = (struct wmq_bytes){big, sizeof big};
	static uint8_t out[80000];
	w = wmq_wr_make(out, sizeof out);
	ASSERT_EQ(wmq_mqtt_encode(&w, WMQ_V311, &p), WMQ_ERR_LIMIT);
}

static const struct wmq_test tests[] = {
	{"frame_remaining_length_sizes", frame_remaining_length_sizes},
	{"frame_partial_is_again", frame_partial_is_again},
	{"frame_fifth_byte_malformed", frame_fifth_byte_malformed},
	{"frame_stream_of_packets", frame_stream_of_packets},
	{"large_remaining_length_roundtrip", large_remaining_length_roundtrip},
	{"connect_v311_decode", connect_v311_decode},
	{"connect_v311_encode", connect_v311_encode},
	{"connect_v5_decode", connect_v5_decode},
	{"connect_v5_encode", connect_v5_encode},
	{"connect_v31_roundtrip", connect_v31_roundtrip},
	{"connect_minimal_v5_encode", connect_minimal_v5_encode},
	{"connect_bad_protocol", connect_bad_protocol},
	{"connect_reserved_flag", connect_reserved_flag},
	{"connect_will_flags", connect_will_flags},
	{"connect_password_without_username", connect_password_without_username},
	{"connect_strings_utf8", connect_strings_utf8},
	{"connect_will_topic_rules", connect_will_topic_rules},
	{"connect_empty_client_id", connect_empty_client_id},
	{"connect_trailing_and_truncated", connect_trailing_and_truncated},
	{"connack_v311", connack_v311},
	{"connack_v5_decode", connack_v5_decode},
	{"connack_v5_encode", connack_v5_encode},
	{"connack_errors", connack_errors},
	{"publish_v311_qos0", publish_v311_qos0},
	{"publish_v311_qos1_dup_retain", publish_v311_qos1_dup_retain},
	{"publish_v5_from_server", publish_v5_from_server},
	{"publish_v5_encode", publish_v5_encode},
	{"publish_errors", publish_errors},
	{"acks_v311", acks_v311},
	{"acks_v5_forms", acks_v5_forms},
	{"acks_v5_reason_codes", acks_v5_reason_codes},
	{"subscribe_v311", subscribe_v311},
	{"subscribe_v5", subscribe_v5},
	{"subscribe_encode", subscribe_encode},
	{"subscribe_v5_option_errors", subscribe_v5_option_errors},
	{"subscribe_v311_option_errors", subscribe_v311_option_errors},
	{"subscribe_empty", subscribe_empty},
	{"suback_both_versions", suback_both_versions},
	{"suback_errors", suback_errors},
	{"unsubscribe_both_versions", unsubscribe_both_versions},
	{"unsubscribe_errors", unsubscribe_errors},
	{"unsuback_both_versions", unsuback_both_versions},
	{"ping", ping},
	{"disconnect_v311", disconnect_v311},
	{"disconnect_v5", disconnect_v5},
	{"disconnect_v5_reason_directions", disconnect_v5_reason_directions},
	{"auth_v5", auth_v5},
	{"fixed_header_flags", fixed_header_flags},
	{"direction_rules", direction_rules},
	{"props_every_id_right_and_wrong_packet", props_every_id_right_and_wrong_packet},
	{"props_unknown_ids", props_unknown_ids},
	{"props_duplicates", props_duplicates},
	{"props_value_ranges", props_value_ranges},
	{"props_malformed_blocks", props_malformed_blocks},
	{"props_encode_decode_all_fields", props_encode_decode_all_fields},
	{"props_filter_and_raw_forward", props_filter_and_raw_forward},
	{"roundtrip_all_vectors", roundtrip_all_vectors},
	{"topic_name_valid", topic_name_valid},
	{"topic_filter_valid", topic_filter_valid},
	{"topic_match_table", topic_match_table},
	{"topic_match_long_is_linear", topic_match_long_is_linear},
	{"topic_shared_split", topic_shared_split},
	{"topic_levels", topic_levels},
	{"rc_names_and_v311_mapping", rc_names_and_v311_mapping},
	{"encode_unknown_type", encode_unknown_type},
};

WMQ_TEST_MAIN(tests)
