/* SPDX-License-Identifier: MIT
 * client_test.c - libwardmq and the tools' shared code.
 *
 * Pure parts: reconnect back-off, public property lists, topic helpers,
 * -L URL parsing, -F rendering, option parsing, CONNACK strings.
 * State machine: the client against a scripted fake server on 127.0.0.1
 * in the same thread. Server packets are hand-written hex fixtures (not our
 * encoder); what the client sends is decoded with the codec and asserted.
 * Covers Receive Maximum, DUP redelivery and PUBREL resend after an
 * automatic reconnect, incoming topic aliases, QoS 2 de-duplication,
 * outgoing topic aliases, enhanced authentication and re-authentication,
 * keepalive timeout, server DISCONNECT, refused CONNACK; and the WebSocket
 * transport: frame headers and masking, the upgrade request and response
 * checks, fragmented / coalesced frames, ping, close, protocol errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_int.h"
#include "common/time.h"
#include "test.h"
#include "tool.h"

/* ---- back-off ------------------------------------------------------------- */

TEST(backoff_bounds)
{
	/* attempt 0 is the minimum whatever the randomness */
	ASSERT_EQ(wmq_backoff_delay_ms(1000, 60000, 0, 0), 1000);
	ASSERT_EQ(wmq_backoff_delay_ms(1000, 60000, 0, UINT32_MAX), 1000);
	/* attempt 3: base 8000, equal jitter in [4000, 8000] */
	ASSERT_EQ(wmq_backoff_delay_ms(1000, 60000, 3, 0), 4000);
	ASSERT_EQ(wmq_backoff_delay_ms(1000, 60000, 3, 4000), 8000);
	ASSERT_EQ(wmq_backoff_delay_ms(1000, 60000, 3, 4001), 4000);
	/* capped at the maximum, also for huge attempt numbers */
	for (uint32_t a = 6; a < 200; a += 7) {
		uint32_t d = wmq_backoff_delay_ms(1000, 60000, a, a * 7919u);
		ASSERT(d >= 30000 && d <= 60000);
	}
	ASSERT_EQ(wmq_backoff_delay_ms(1000, 60000, 1000, 30000), 60000);
	/* never below the minimum, max < min is treated as max = min */
	ASSERT_EQ(wmq_backoff_delay_ms(500, 100, 4, 12345), 500);
	ASSERT_EQ(wmq_backoff_delay_ms(0, 0, 0, 0), 1);
	/* no overflow near UINT32_MAX */
	uint32_t d = wmq_backoff_delay_ms(UINT32_MAX / 2, UINT32_MAX, 10, UINT32_MAX);
	ASSERT(d >= UINT32_MAX / 2);
}

/* ---- properties ------------------------------------------------------------ */

TEST(props_build_and_read)
{
	wmq_properties *p = wmq_properties_new();
	uint32_t v;
	const void *b;
	size_t bl;
	const char *k, *val;
	size_t kl, vl;
	ASSERT(p != NULL);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL, 60), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL, 61), WMQ_E_OK);
	ASSERT(wmq_properties_get_int(p, WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL, &v));
	ASSERT_EQ(v, 61);
	ASSERT_EQ(wmq_properties_count(p, WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL), 1);
	/* ranges */
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_PAYLOAD_FORMAT_INDICATOR, 2), WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_RECEIVE_MAXIMUM, 0), WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_RECEIVE_MAXIMUM, 65536), WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER, 268435456),
		  WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_CONTENT_TYPE, 1), WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_string(p, WMQ_PROPERTY_CORRELATION_DATA, "x"), WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_string(p, WMQ_PROPERTY_CONTENT_TYPE, "\xff"), WMQ_E_INVAL);
	ASSERT_EQ(wmq_properties_add_string(p, WMQ_PROPERTY_CONTENT_TYPE, "text/plain"), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_binary(p, WMQ_PROPERTY_CORRELATION_DATA, "\0\1", 2), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_user(p, "a", "1"), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_user(p, "a", "2"), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_count(p, WMQ_PROPERTY_USER_PROPERTY), 2);
	ASSERT(wmq_properties_get_bytes(p, WMQ_PROPERTY_CONTENT_TYPE, &b, &bl));
	ASSERT_EQ(bl, 10);
	ASSERT_MEMEQ(b, "text/plain", 10);
	ASSERT(wmq_properties_get_bytes(p, WMQ_PROPERTY_CORRELATION_DATA, &b, &bl));
	ASSERT_EQ(bl, 2);
	ASSERT_MEMEQ(b, "\0\1", 2);
	ASSERT(wmq_properties_get_user(p, 1, &k, &kl, &val, &vl));
	ASSERT_EQ(kl, 1);
	ASSERT_MEMEQ(val, "2", 1);
	ASSERT(!wmq_properties_get_user(p, 2, &k, &kl, &val, &vl));

	/* copy is deep and equal; remove works on the original only */
	wmq_properties *q = NULL;
	ASSERT_EQ(wmq_properties_copy(p, &q), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_remove(p, WMQ_PROPERTY_USER_PROPERTY), 2);
	ASSERT_EQ(wmq_properties_remove(p, WMQ_PROPERTY_CONTENT_TYPE), 1);
	ASSERT(!wmq_properties_has(p, WMQ_PROPERTY_CONTENT_TYPE));
	ASSERT_EQ(wmq_properties_count(q, WMQ_PROPERTY_USER_PROPERTY), 2);
	ASSERT(wmq_properties_get_bytes(q, WMQ_PROPERTY_CONTENT_TYPE, &b, &bl));
	ASSERT_MEMEQ(b, "text/plain", 10);

	/* allowed-where checks */
	ASSERT_EQ(wmq_cprops_check(q, WMQ_CMD_PUBLISH), WMQ_E_OK);
	ASSERT_EQ(wmq_cprops_check(q, WMQ_CMD_CONNECT), WMQ_E_INVAL);
	wmq_properties_clear(q);
	ASSERT_EQ(wmq_properties_add_int(q, WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER, 5), WMQ_E_OK);
	ASSERT_EQ(wmq_cprops_check(q, WMQ_CMD_SUBSCRIBE), WMQ_E_OK);
	ASSERT_EQ(wmq_cprops_check(q, WMQ_CMD_PUBLISH), WMQ_E_INVAL);
	wmq_properties_free(p);
	wmq_properties_free(q);
}

TEST(props_view_of_decoded_block)
{
	/* PUBLISH properties: sub id 3, user (k,v), sub id 9, content type "t" */
	uint8_t raw[64];
	size_t n = test_hex("0f 0b 03 26 00 01 6b 00 01 76 0b 09 03 00 01 74", raw, sizeof raw);
	struct wmq_rd r = wmq_rd_make(raw, n);
	struct wmq_props dec;
	uint8_t rc;
	memset(&dec, 0, sizeof dec);
	ASSERT_EQ(wmq_props_decode(&r, WMQ_PUBLISH, true, &dec, &rc), WMQ_OK);
	struct wmq_properties view;
	wmq_cprops_view(&view, &dec);
	uint32_t id = 0;
	ASSERT_EQ(wmq_properties_count(&view, WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER), 2);
	ASSERT(wmq_properties_get_sub_id(&view, 0, &id));
	ASSERT_EQ(id, 3);
	ASSERT(wmq_properties_get_sub_id(&view, 1, &id));
	ASSERT_EQ(id, 9);
	ASSERT(!wmq_properties_get_sub_id(&view, 2, &id));
	const char *k, *v;
	size_t kl, vl;
	ASSERT(wmq_properties_get_user(&view, 0, &k, &kl, &v, &vl));
	ASSERT_EQ(kl, 1);
	ASSERT_EQ(k[0], 'k');
	ASSERT_EQ(v[0], 'v');
	/* a copy of a view is an owned list with the same content */
	wmq_properties *c = NULL;
	ASSERT_EQ(wmq_properties_copy(&view, &c), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_count(c, WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER), 2);
	ASSERT(wmq_properties_get_sub_id(c, 1, &id));
	ASSERT_EQ(id, 9);
	/* views refuse modification */
	ASSERT_EQ(wmq_properties_add_int(&view, WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL, 1),
		  WMQ_E_INVAL);
	wmq_properties_free(c);
}

TEST(property_names)
{
	ASSERT_EQ(wmq_property_from_name("message-expiry-interval"), 0x02);
	ASSERT_EQ(wmq_property_from_name("user-property"), 0x26);
	ASSERT_EQ(wmq_property_from_name("no-such"), -1);
	ASSERT_STREQ(wmq_property_name(0x23), "topic-alias");
	ASSERT_EQ(wmq_property_type_of(0x0B), WMQ_PROPTYPE_VARINT);
	ASSERT(wmq_property_allowed(0x11, WMQ_CMD_DISCONNECT));
	ASSERT(!wmq_property_allowed(0x23, WMQ_CMD_CONNECT));
	ASSERT_EQ(wmq_command_from_name("will"), WMQ_CMD_WILL);
	ASSERT_EQ(wmq_command_from_name("publsh"), -1);
	ASSERT_STREQ(wmq_reason_string(0x87), "Not authorized");
	ASSERT_STREQ(wmq_reason_string(0x03), "Unknown reason");
	ASSERT_STREQ(wmq_strerror(WMQ_E_QUEUE_FULL), "queue full");
}

TEST(topic_helpers)
{
	ASSERT(wmq_topic_name_is_valid("a/b"));
	ASSERT(!wmq_topic_name_is_valid("a/+"));
	ASSERT(!wmq_topic_name_is_valid(""));
	ASSERT(wmq_topic_filter_is_valid("a/+/#"));
	ASSERT(!wmq_topic_filter_is_valid("a/#/b"));
	ASSERT(wmq_topic_matches("a/+/c", "a/b/c"));
	ASSERT(!wmq_topic_matches("a/+", "a/b/c"));
	ASSERT(wmq_topic_matches("#", "a/b"));
	ASSERT(!wmq_topic_matches("#", "$SYS/x"));
}

/* ---- URL --------------------------------------------------------------------- */

TEST(url_parse)
{
	struct wmq_tool_url u;
	char e[128];
	ASSERT_EQ(wmq_tool_url_parse("mqtt://user:pa:ss@host.example:1884/a/b", &u, e, sizeof e), 0);
	ASSERT_STREQ(u.username, "user");
	ASSERT_STREQ(u.password, "pa:ss");
	ASSERT_STREQ(u.host, "host.example");
	ASSERT_EQ(u.port, 1884);
	ASSERT_STREQ(u.topic, "a/b");
	wmq_tool_url_cleanup(&u);

	ASSERT_EQ(wmq_tool_url_parse("mqtt://h/t", &u, e, sizeof e), 0);
	ASSERT(u.username == NULL && u.password == NULL);
	ASSERT_EQ(u.port, 0);
	ASSERT_STREQ(u.topic, "t");
	wmq_tool_url_cleanup(&u);

	ASSERT_EQ(wmq_tool_url_parse("mqtt://me@[::1]:99/x", &u, e, sizeof e), 0);
	ASSERT_STREQ(u.username, "me");
	ASSERT_STREQ(u.host, "::1");
	ASSERT_EQ(u.port, 99);
	wmq_tool_url_cleanup(&u);

	ASSERT_EQ(wmq_tool_url_parse("mqtt://host:1883/", &u, e, sizeof e), -1);
	ASSERT_STREQ(e, "Invalid URL for -L argument specified - topic missing.");
	ASSERT_EQ(wmq_tool_url_parse("mqtt://host:0/t", &u, e, sizeof e), -1);
	ASSERT_EQ(wmq_tool_url_parse("mqtt://host:99999/t", &u, e, sizeof e), -1);
	ASSERT_EQ(wmq_tool_url_parse("mqtt://host:12a/t", &u, e, sizeof e), -1);
	ASSERT_EQ(wmq_tool_url_parse("mqtt://:1883/t", &u, e, sizeof e), -1);
	ASSERT_EQ(wmq_tool_url_parse("http://h/t", &u, e, sizeof e), -1);
	ASSERT_STREQ(e, "Unsupported URL scheme.");

	/* ws:// and wss://: the path is the upgrade's, no topic */
	ASSERT_EQ(wmq_tool_url_parse("ws://h/t", &u, e, sizeof e), 0);
	ASSERT(u.ws && !u.tls);
	ASSERT_STREQ(u.path, "/t");
	ASSERT(u.topic == NULL);
	wmq_tool_url_cleanup(&u);
	ASSERT_EQ(wmq_tool_url_parse("wss://u:p@[::1]:9443", &u, e, sizeof e), 0);
	ASSERT(u.ws && u.tls);
	ASSERT(u.path == NULL);
	ASSERT_STREQ(u.host, "::1");
	ASSERT_EQ(u.port, 9443);
	ASSERT_STREQ(u.username, "u");
	wmq_tool_url_cleanup(&u);
	ASSERT_EQ(wmq_tool_url_parse("ws://h:80/a b", &u, e, sizeof e), -1);
	ASSERT_STREQ(e, "Invalid URL for -L argument specified - bad path.");

	/* mqtts:// is TLS; the port is left to the caller (8883) */
	ASSERT_EQ(wmq_tool_url_parse("mqtts://h.example/t/1", &u, e, sizeof e), 0);
	ASSERT(u.tls);
	ASSERT_STREQ(u.host, "h.example");
	ASSERT_EQ(u.port, 0);
	ASSERT_STREQ(u.topic, "t/1");
	wmq_tool_url_cleanup(&u);
	ASSERT_EQ(wmq_tool_url_parse("mqtts://a:b@[::1]:8884/x", &u, e, sizeof e), 0);
	ASSERT(u.tls);
	ASSERT_STREQ(u.username, "a");
	ASSERT_STREQ(u.password, "b");
	ASSERT_STREQ(u.host, "::1");
	ASSERT_EQ(u.port, 8884);
	wmq_tool_url_cleanup(&u);
	ASSERT_EQ(wmq_tool_url_parse("mqtt://h/t", &u, e, sizeof e), 0);
	ASSERT(!u.tls);
	wmq_tool_url_cleanup(&u);
	ASSERT_EQ(wmq_tool_url_parse("mqtts://h:0/t", &u, e, sizeof e), -1);
	ASSERT_EQ(wmq_tool_url_parse("mqtts://h", &u, e, sizeof e), -1);
}

/* ---- -F rendering ------------------------------------------------------------- */

static char fmtbuf[4096];

static const char *render(const char *fmt, const struct wmq_tool_msg *m, bool eol)
{
	struct wmq_dbuf b;
	struct timespec now = {1700000000, 123456789};
	wmq_dbuf_init(&b, sizeof fmtbuf - 1);
	if (wmq_tool_format(&b, fmt, m, &now, eol) != WMQ_OK)
		TEST_FAIL_("render failed");
	memcpy(fmtbuf, b.p, b.len);
	fmtbuf[b.len] = '\0';
	wmq_dbuf_cleanup(&b);
	return fmtbuf;
}

TEST(format_render)
{
	setenv("TZ", "UTC", 1);
	tzset();
	struct wmq_tool_msg m = {"a/b", (const uint8_t *)"hello", 5, 1, true, 42, NULL};
	ASSERT_STREQ(render("%t %p %q %r %l %m %%", &m, true), "a/b hello 1 1 5 42 %\n");
	ASSERT_STREQ(render("%x|%X", &m, false), "68656c6c6f|68656C6C6F");
	ASSERT_STREQ(render("[%6t][%-6t][%.1t][%04l][%-4l|][%3q]", &m, false),
		     "[   a/b][a/b   ][a][0005][5   |][1]");
	/* mosquitto_sub: a width truncates the payload; hex uses half of it */
	ASSERT_STREQ(render("[%3p][%8p][%-8p][%08p][%6x]", &m, false),
		     "[hel][   hello][hello   ][000hello][  6865]");
	ASSERT_STREQ(render("\\t\\\\\\n@@%I|%U|@Y@m@d@N", &m, false),
		     "\t\\\n@2023-11-14T22:13:20+0000|1700000000.123456789|20231114123456789");
	/* v5 properties; absent ones render blank with the width */
	wmq_properties *p = wmq_properties_new();
	ASSERT_EQ(wmq_properties_add_user(p, "k", "v"), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_user(p, "k2", "v2"), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_string(p, WMQ_PROPERTY_CONTENT_TYPE, "ct"), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_int(p, WMQ_PROPERTY_MESSAGE_EXPIRY_INTERVAL, 9), WMQ_E_OK);
	ASSERT_EQ(wmq_properties_add_binary(p, WMQ_PROPERTY_CORRELATION_DATA, "cd", 2), WMQ_E_OK);
	m.props = p;
	ASSERT_STREQ(render("%P|%C|%4C|%E|%03E|%F|%3F|%R|%D|%S", &m, false),
		     "k:v k2:v2|ct|  ct|9|009||   ||cd|");
	wmq_properties_free(p);
	/* empty payload */
	struct wmq_tool_msg e = {"t", NULL, 0, 0, false, 0, NULL};
	ASSERT_STREQ(render("%l:%p:%x", &e, true), "0::\n");
}

TEST(format_default_and_check)
{
	char err[128];
	struct wmq_dbuf b;
	struct wmq_tool_msg m = {"t/x", (const uint8_t *)"pl", 2, 0, false, 0, NULL};
	struct wmq_tool_msg e = {"t/x", NULL, 0, 0, false, 0, NULL};
	wmq_dbuf_init(&b, 1024);
	ASSERT_EQ(wmq_tool_format_default(&b, &m, true, true), WMQ_OK);
	ASSERT_EQ(wmq_tool_format_default(&b, &e, true, true), WMQ_OK);
	ASSERT_EQ(wmq_tool_format_default(&b, &e, true, false), WMQ_OK); /* nothing */
	ASSERT_EQ(wmq_tool_format_default(&b, &e, false, true), WMQ_OK); /* nothing */
	ASSERT_EQ(wmq_tool_format_default(&b, &m, false, false), WMQ_OK);
	const char *want = "t/x pl\nt/x (null)\npl";
	ASSERT_EQ(b.len, strlen(want));
	ASSERT_MEMEQ(b.p, want, b.len);
	wmq_dbuf_cleanup(&b);

	ASSERT_EQ(wmq_tool_format_check("%t %-08.3p @Y \\n", err, sizeof err), 0);
	ASSERT_EQ(wmq_tool_format_check("%z", err, sizeof err), -1);
	ASSERT_STREQ(err, "Invalid format specifier 'z'.");
	ASSERT_EQ(wmq_tool_format_check("abc%", err, sizeof err), -1);
	ASSERT_STREQ(err, "Incomplete format specifier.");
	ASSERT_EQ(wmq_tool_format_check("%10", err, sizeof err), -1);
	ASSERT_EQ(wmq_tool_format_check("x@", err, sizeof err), -1);
	ASSERT_EQ(wmq_tool_format_check("\\q", err, sizeof err), -1);
	ASSERT_STREQ(err, "Invalid escape specifier 'q'.");
	ASSERT_EQ(wmq_tool_format_check("x\\", err, sizeof err), -1);
	ASSERT_STREQ(err, "Incomplete escape specifier.");
}

/* ---- option parsing ---------------------------------------------------------- */

static char errtext[2048];

static int parse(struct wmq_tool_cfg *cfg, int kind, const char *line)
{
	char copy[512], *argv[64];
	int argc = 0;
	snprintf(copy, sizeof copy, "prog %s", line);
	for (char *t = strtok(copy, " "); t && argc < 63; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	FILE *f = fmemopen(errtext, sizeof errtext - 1, "w");
	memset(errtext, 0, sizeof errtext);
	int rc = wmq_tool_parse(cfg, kind, argc, argv, f);
	fclose(f);
	return rc;
}

TEST(options_pub)
{
	struct wmq_tool_cfg c;
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB,
			"-h h1 -p 1884 -t a/b -m hi -q 2 -r -V 5 -i me -k 30 -c -x 100 -u u -P pw "
			"--will-topic w --will-payload wp --will-qos 1 --will-retain "
			"-D publish content-type txt -D connect user-property a b --repeat 3 "
			"--repeat-delay 0.5 -M 7 -d --quiet --nodelay"),
		  WMQ_TOOL_RUN);
	ASSERT_STREQ(c.host, "h1");
	ASSERT_EQ(c.port, 1884);
	ASSERT_STREQ(c.topic, "a/b");
	ASSERT_EQ(c.src, WMQ_SRC_MESSAGE);
	ASSERT_STREQ(c.message, "hi");
	ASSERT_EQ(c.qos, 2);
	ASSERT(c.retain && !c.clean && c.debug && c.quiet && c.nodelay && c.will_retain);
	ASSERT_EQ(c.version, 5);
	ASSERT_EQ(c.keepalive, 30);
	ASSERT_EQ(c.session_expiry, 100);
	ASSERT_EQ(c.will_qos, 1);
	ASSERT_EQ(c.repeat, 3);
	ASSERT(c.repeat_delay > 0.49 && c.repeat_delay < 0.51);
	ASSERT_EQ(c.max_inflight, 7);
	ASSERT(wmq_properties_has(c.props[WMQ_CMD_PUBLISH], WMQ_PROPERTY_CONTENT_TYPE));
	ASSERT_EQ(wmq_properties_count(c.props[WMQ_CMD_CONNECT], WMQ_PROPERTY_USER_PROPERTY), 1);
	wmq_connect_opts o;
	char idbuf[64];
	wmq_tool_connect_opts(&c, &o, idbuf, sizeof idbuf);
	ASSERT_EQ(o.port, 1884);
	ASSERT_EQ(o.session_expiry_interval, 100);
	ASSERT_STREQ(o.will_topic, "w");
	ASSERT_EQ(o.will_payload_len, 2);
	ASSERT(!o.clean_start);
	wmq_tool_cfg_cleanup(&c);

	/* -L fills host/port/credentials/topic; -c with -V 5 needs an id */
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-L mqtt://u:p@h:7/t/x -n"), WMQ_TOOL_RUN);
	ASSERT_STREQ(c.host, "h");
	ASSERT_EQ(c.port, 7);
	ASSERT_STREQ(c.username, "u");
	ASSERT_STREQ(c.password, "p");
	ASSERT_STREQ(c.topic, "t/x");
	ASSERT_EQ(c.src, WMQ_SRC_NULL);
	wmq_tool_cfg_cleanup(&c);

	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -l"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Only one type of message can be sent at once."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a/# -m x"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Error: Invalid publish topic 'a/#', does it contain '+' or '#'?\n"));
	ASSERT(strstr(errtext, "Use 'wardmq_pub --help' to see usage."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -c"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "You must provide a client id if you are using the -c option."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -V 5 -c"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "infinite session expiry interval"));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -h"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Error: -h argument given but no host specified."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -D publish topic-alias"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "not enough arguments"));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -D connect topic-alias 3"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "topic-alias property not allowed for connect in --property argument."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -D publish message-expiry-interval -5"),
		  WMQ_TOOL_ERROR);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x -C 3"), WMQ_TOOL_ERROR); /* sub only */
	ASSERT(strstr(errtext, "Error: Unknown option '-C'."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "--help"), WMQ_TOOL_HELP);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "--version"), WMQ_TOOL_VERSION);
	wmq_tool_cfg_cleanup(&c);
}

TEST(options_tls)
{
	struct wmq_tool_cfg c;
	wmq_connect_opts o;
	char idbuf[64];

	/* no TLS flag: plain TCP on 1883 */
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --insecure"), WMQ_TOOL_RUN);
	ASSERT(!c.use_tls);
	wmq_tool_connect_opts(&c, &o, idbuf, sizeof idbuf);
	ASSERT(o.tls == NULL);
	ASSERT_EQ(o.port, 1883);
	wmq_tool_cfg_cleanup(&c);

	/* --cafile turns TLS on, default port 8883 */
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB,
			"-t a -m x --cafile ca.crt --cert c.crt --key c.key --insecure "
			"--tls-version tlsv1.3 --ciphers HIGH --tls-alpn mqtt"),
		  WMQ_TOOL_RUN);
	ASSERT(c.use_tls);
	wmq_tool_connect_opts(&c, &o, idbuf, sizeof idbuf);
	ASSERT(o.tls != NULL);
	ASSERT_EQ(o.port, 8883);
	ASSERT_STREQ(o.tls->cafile, "ca.crt");
	ASSERT_STREQ(o.tls->certfile, "c.crt");
	ASSERT_STREQ(o.tls->keyfile, "c.key");
	ASSERT(o.tls->insecure);
	ASSERT_STREQ(o.tls->tls_version, "tlsv1.3");
	ASSERT_STREQ(o.tls->ciphers, "HIGH");
	ASSERT_STREQ(o.tls->alpn, "mqtt");
	ASSERT(o.tls->psk == NULL && o.tls->capath == NULL);
	wmq_tool_cfg_cleanup(&c);

	/* an explicit port wins */
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -p 9999 --capath /etc/ssl/certs"), WMQ_TOOL_RUN);
	ASSERT(c.use_tls);
	ASSERT_EQ(c.port, 9999);
	wmq_tool_cfg_cleanup(&c);

	/* PSK */
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a --psk DEADbeef01 --psk-identity dev1"), WMQ_TOOL_RUN);
	ASSERT(c.use_tls);
	ASSERT_EQ(c.port, 8883);
	ASSERT_STREQ(c.tls_opts.psk, "DEADbeef01");
	ASSERT_STREQ(c.tls_opts.psk_identity, "dev1");
	wmq_tool_cfg_cleanup(&c);

	/* mqtts:// URL: TLS, 8883, system CAs */
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-L mqtts://u:p@broker.example/t/x -m x"), WMQ_TOOL_RUN);
	ASSERT(c.use_tls);
	ASSERT_EQ(c.port, 8883);
	ASSERT_STREQ(c.host, "broker.example");
	ASSERT_STREQ(c.topic, "t/x");
	ASSERT(c.tls_opts.cafile == NULL);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-L mqtts://h:1234/t --cafile ca"), WMQ_TOOL_RUN);
	ASSERT_EQ(c.port, 1234);
	ASSERT_STREQ(c.tls_opts.cafile, "ca");
	wmq_tool_cfg_cleanup(&c);

	/* errors, in mosquitto's words where it has them */
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --cafile ca --cert c.crt"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Both certfile and keyfile must be provided") != NULL);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --cafile ca --psk 00 --psk-identity i"),
		  WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Only one of --psk or --cafile/--capath may be used at once.") != NULL);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --psk 00"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "--psk-identity required if --psk used.") != NULL);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --psk 0x12 --psk-identity i"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "hexadecimal") != NULL);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --cafile ca --tls-version tlsv9"),
		  WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Invalid TLS version 'tlsv9'") != NULL);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --cafile"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "--cafile argument given but no certificate authority file specified.") !=
	       NULL);
	wmq_tool_cfg_cleanup(&c);
}

TEST(tls_library_options)
{
	uint8_t k[8];
	ASSERT_EQ(wmq_tls_psk_decode("deadBEEF", k, sizeof k), 4);
	ASSERT(k[0] == 0xde && k[1] == 0xad && k[2] == 0xbe && k[3] == 0xef);
	ASSERT_EQ(wmq_tls_psk_decode("abc", k, sizeof k), 2); /* leading zero assumed */
	ASSERT(k[0] == 0x0a && k[1] == 0xbc);
	ASSERT_EQ(wmq_tls_psk_decode("", k, sizeof k), 0);
	ASSERT_EQ(wmq_tls_psk_decode("zz", k, sizeof k), 0);
	ASSERT_EQ(wmq_tls_psk_decode("000102030405060708", k, sizeof k), 0); /* too long */

	struct wmq_tls_cfg g;
	wmq_tls_opts t;
	wmq_tls_opts_init(&t);
	ASSERT_EQ(wmq_tls_cfg_copy(&g, &t), WMQ_E_OK);
	ASSERT(g.on && !g.insecure && g.cafile == NULL && g.psk == NULL);
	wmq_tls_cfg_free(&g);
	t.certfile = "c.crt"; /* without keyfile */
	ASSERT_EQ(wmq_tls_cfg_copy(&g, &t), WMQ_E_INVAL);
	t.keyfile = "c.key";
	t.tls_version = "tlsv1.0";
	ASSERT_EQ(wmq_tls_cfg_copy(&g, &t), WMQ_E_INVAL);
	t.tls_version = "tlsv1.3";
	t.psk = "0102";
	ASSERT_EQ(wmq_tls_cfg_copy(&g, &t), WMQ_E_INVAL); /* no identity */
	t.psk_identity = "id";
	ASSERT_EQ(wmq_tls_cfg_copy(&g, &t), WMQ_E_OK);
	ASSERT_EQ(g.psk_len, 2);
	ASSERT_STREQ(g.psk_identity, "id");
	ASSERT_STREQ(g.certfile, "c.crt");
	wmq_tls_cfg_free(&g);
	t.psk = "xyz";
	ASSERT_EQ(wmq_tls_cfg_copy(&g, &t), WMQ_E_INVAL);

	/* bad options fail the connect call itself; a missing CA file too,
	 * with the reason in wmq_client_tls_error() */
	wmq_client *c = wmq_client_new(NULL);
	ASSERT(c != NULL);
	wmq_connect_opts o;
	wmq_connect_opts_init(&o);
	o.host = "127.0.0.1";
	o.port = 1;
	ASSERT(o.tls == NULL);
	o.tls = &t;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_INVAL);
	wmq_tls_opts_init(&t);
	t.cafile = "/nonexistent/ca.crt";
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_TLS);
	ASSERT(strstr(wmq_client_tls_error(c), "cannot load the CA certificates") != NULL);
	ASSERT_STREQ(wmq_strerror(WMQ_E_TLS), "TLS error");
	wmq_client_destroy(c);
}

TEST(options_sub)
{
	struct wmq_tool_cfg c;
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB,
			"-t a/# -t b/+ -T a/x -U z -C 5 -W 9 -v -N -R -E -F %t:%p -q 1 -V mqttv311"),
		  WMQ_TOOL_RUN);
	ASSERT_EQ(c.n_topics, 2);
	ASSERT_STREQ(c.topics[1], "b/+");
	ASSERT_EQ(c.n_filter_outs, 1);
	ASSERT_EQ(c.n_unsub_topics, 1);
	ASSERT_EQ(c.msg_count, 5);
	ASSERT_EQ(c.timeout, 9);
	ASSERT(c.verbose && !c.eol && c.no_retain && c.exit_after_sub);
	ASSERT_STREQ(c.format, "%t:%p");
	ASSERT_STREQ(c.host, "localhost");
	ASSERT_EQ(c.version, 4);
	wmq_tool_cfg_cleanup(&c);

	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-q 1"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "You must specify a topic to subscribe to (-t) or unsubscribe from (-U)."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -C 0"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Error: Invalid message count \"0\"."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -F %y"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Error: Invalid format specifier 'y'."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -R --retained-only"), WMQ_TOOL_ERROR);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -V 7"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Error: Invalid protocol version argument given."));
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -m x"), WMQ_TOOL_ERROR); /* pub only */
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-t a -x -1 -V 5 -i me"), WMQ_TOOL_RUN);
	ASSERT_EQ(c.session_expiry, UINT32_MAX);
	wmq_tool_cfg_cleanup(&c);
}

TEST(connack_strings)
{
	ASSERT_STREQ(wmq_tool_connack_string(4, 0x87), "Connection Refused: not authorised.");
	ASSERT_EQ(wmq_tool_connack_exit(4, 0x87), 5);
	ASSERT_EQ(wmq_tool_connack_exit(4, 0x86), 4);
	ASSERT_EQ(wmq_tool_connack_exit(4, 0x85), 2);
	ASSERT_EQ(wmq_tool_connack_exit(4, 0x84), 1);
	ASSERT_EQ(wmq_tool_connack_exit(4, 0x89), 3);
	ASSERT_STREQ(wmq_tool_connack_string(5, 0x87), "Not authorized");
	ASSERT_EQ(wmq_tool_connack_exit(5, 0x87), 135);
}

/* ---- fake server ------------------------------------------------------------ */

struct fake {
	int lfd, fd;
	uint16_t port;
	uint8_t version;
	uint8_t in[1 << 16];
	size_t in_len;
	uint8_t pkt[1 << 16];
};

static void fake_listen(struct fake *f, uint8_t version)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	memset(f, 0, sizeof *f);
	f->fd = -1;
	f->version = version;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT(f->lfd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_EQ(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
	ASSERT_EQ(listen(f->lfd, 4), 0);
	ASSERT_EQ(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
}

static void fake_close(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->lfd >= 0)
		close(f->lfd);
	f->fd = f->lfd = -1;
}

/* One short round of client work (never a busy spin). */
static void pump1(wmq_client *c)
{
	if (wmq_client_loop(c, 2) == WMQ_E_NO_CONN)
		(void)poll(NULL, 0, 2);
}

#define PUMP_UNTIL(c, cond)                                                                        \
	do {                                                                                       \
		for (int i_ = 0; i_ < 1500 && !(cond); i_++)                                       \
			pump1(c);                                                                  \
		if (!(cond))                                                                       \
			TEST_FAIL_("timed out waiting for %s", #cond);                             \
	} while (0)

static void fake_accept(struct fake *f, wmq_client *c)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->in_len = 0;
	for (int i = 0; i < 1500; i++) {
		int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			f->fd = fd;
			return;
		}
		pump1(c);
	}
	TEST_FAIL_("client did not connect");
}

static void fake_send(struct fake *f, const char *hex)
{
	uint8_t b[512];
	size_t n = test_hex(hex, b, sizeof b);
	ASSERT_EQ(write(f->fd, b, n), (ssize_t)n);
}

/* The next packet the client sends, decoded (borrowing f->pkt). */
static void fake_recv(struct fake *f, wmq_client *c, struct wmq_pkt *p)
{
	for (int i = 0; i < 1500; i++) {
		uint8_t first, rc = 0;
		uint32_t body;
		size_t hdr;
		if (f->in_len && wmq_mqtt_frame(f->in, f->in_len, &first, &body, &hdr) == WMQ_OK &&
		    f->in_len >= hdr + body) {
			size_t tot = hdr + body;
			memcpy(f->pkt, f->in, tot);
			memmove(f->in, f->in + tot, f->in_len - tot);
			f->in_len -= tot;
			memset(p, 0, sizeof *p);
			if (wmq_mqtt_decode(f->version, false, first, f->pkt + hdr, body, p, &rc) !=
			    WMQ_OK)
				TEST_FAIL_("client sent an invalid packet (type %d, rc 0x%02x)",
					   first >> 4, rc);
			return;
		}
		ssize_t n = read(f->fd, f->in + f->in_len, sizeof f->in - f->in_len);
		if (n == 0)
			TEST_FAIL_("client closed the connection");
		if (n > 0) {
			f->in_len += (size_t)n;
			continue;
		}
		pump1(c);
	}
	TEST_FAIL_("no packet from the client");
}

static void fake_expect(struct fake *f, wmq_client *c, uint8_t type, struct wmq_pkt *p)
{
	fake_recv(f, c, p);
	if (p->type != type)
		TEST_FAIL_("expected packet type %d, got %d", type, p->type);
}

/* Nothing arrives from the client for |ms|. */
static void fake_quiet(struct fake *f, wmq_client *c, int ms)
{
	uint64_t end = wmq_now_ms() + (uint64_t)ms;
	while (wmq_now_ms() < end) {
		ssize_t n = read(f->fd, f->in + f->in_len, sizeof f->in - f->in_len);
		if (n > 0)
			TEST_FAIL_("unexpected %zd bytes from the client (first 0x%02x)", n,
				   f->in[f->in_len]);
		pump1(c);
	}
}

/* The client closes the connection (EOF), skipping what it sent before. */
static void fake_wait_eof(struct fake *f, wmq_client *c)
{
	for (int i = 0; i < 1500; i++) {
		ssize_t n = read(f->fd, f->in, sizeof f->in);
		if (n == 0)
			return;
		if (n < 0 && errno == ECONNRESET)
			return;
		pump1(c);
	}
	TEST_FAIL_("client did not close");
}

/* ---- recording callbacks -------------------------------------------------------- */

struct rec {
	int connects, connack_rc;
	bool session_present;
	int messages;
	char topics[8][32];
	char payloads[8][32];
	int qos[8];
	int published;
	uint16_t pub_mid[16];
	int pub_rc[16];
	int disconnects;
	int disc_error, disc_reason;
	bool disc_by_server, disc_reconnect;
	char disc_reason_string[32];
	int subacks;
	int suback_codes[4];
	int auth_calls;
	char auth_in[4][16];
	int auth_rc[4];
	const char *auth_reply[4];
	bool stop_on_connect;
};

static void r_connect(wmq_client *c, void *ud, int rc, bool sp, const wmq_properties *p)
{
	struct rec *r = ud;
	(void)p;
	r->connects++;
	r->connack_rc = rc;
	r->session_present = sp;
	if (r->stop_on_connect)
		wmq_client_loop_stop(c);
}

static void r_message(wmq_client *c, void *ud, const wmq_message *m)
{
	struct rec *r = ud;
	(void)c;
	if (r->messages < 8) {
		snprintf(r->topics[r->messages], 32, "%s", m->topic);
		snprintf(r->payloads[r->messages], 32, "%.*s", (int)m->payload_len,
			 m->payload ? (const char *)m->payload : "");
		r->qos[r->messages] = m->qos;
	}
	r->messages++;
}

static void r_publish(wmq_client *c, void *ud, uint16_t mid, int rc, const wmq_properties *p)
{
	struct rec *r = ud;
	(void)c;
	(void)p;
	if (r->published < 16) {
		r->pub_mid[r->published] = mid;
		r->pub_rc[r->published] = rc;
	}
	r->published++;
}

static void r_disconnect(wmq_client *c, void *ud, const wmq_disconnect_info *i)
{
	struct rec *r = ud;
	const void *s;
	size_t sl;
	(void)c;
	r->disconnects++;
	r->disc_error = i->error;
	r->disc_reason = i->reason_code;
	r->disc_by_server = i->by_server;
	r->disc_reconnect = i->will_reconnect;
	r->disc_reason_string[0] = '\0';
	if (i->props && wmq_properties_get_bytes(i->props, WMQ_PROPERTY_REASON_STRING, &s, &sl))
		snprintf(r->disc_reason_string, 32, "%.*s", (int)sl, (const char *)s);
}

static void r_subscribe(wmq_client *c, void *ud, uint16_t mid, size_t n, const int *codes,
			const wmq_properties *p)
{
	struct rec *r = ud;
	(void)c;
	(void)mid;
	(void)p;
	for (size_t i = 0; i < n && i < 4; i++)
		r->suback_codes[i] = codes[i];
	r->subacks++;
}

static int r_auth(wmq_client *c, void *ud, const wmq_auth_step *s, wmq_auth_reply *reply)
{
	struct rec *r = ud;
	(void)c;
	int i = r->auth_calls++;
	if (i >= 4)
		return 0x80;
	ASSERT_STREQ(s->method, "TEST");
	snprintf(r->auth_in[i], 16, "%.*s", (int)s->data_len, s->data ? (const char *)s->data : "");
	r->auth_rc[i] = s->reason_code;
	if (r->auth_reply[i]) {
		reply->len = strlen(r->auth_reply[i]);
		memcpy(reply->data, r->auth_reply[i], reply->len);
	}
	return 0;
}

static wmq_client *new_client(struct rec *r)
{
	memset(r, 0, sizeof *r);
	wmq_client *c = wmq_client_new(r);
	ASSERT(c != NULL);
	wmq_client_on_connect(c, r_connect);
	wmq_client_on_message(c, r_message);
	wmq_client_on_publish(c, r_publish);
	wmq_client_on_disconnect(c, r_disconnect);
	wmq_client_on_subscribe(c, r_subscribe);
	wmq_client_on_auth(c, r_auth);
	return c;
}

static void opts_for(wmq_connect_opts *o, const struct fake *f, int version)
{
	wmq_connect_opts_init(o);
	o->host = "127.0.0.1";
	o->port = f->port;
	o->protocol_version = version;
}

/* CONNACK v5: assigned id "srv-1", receive maximum 2, topic alias maximum 5 */
#define CONNACK_V5_LIMITS "20 11 00 00 0e 12 00 05 73 72 76 2d 31 21 00 02 22 00 05"
#define CONNACK_V5_PLAIN "20 03 00 00 00"

TEST(fake_connect_assigned_id_and_receive_max)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	opts_for(&o, &f, 5);
	o.receive_maximum = 10;
	o.keepalive = 0;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	ASSERT_EQ(p.u.connect.version, 5);
	ASSERT(p.u.connect.clean);
	ASSERT_EQ(p.u.connect.client_id.len, 0);
	ASSERT(wmq_props_has(&p.u.connect.props, WMQ_PROP_RECEIVE_MAX));
	ASSERT_EQ(p.u.connect.props.receive_max, 10);
	/* QoS 1 published before CONNACK waits in the session queue */
	uint16_t m1, m2, m3;
	ASSERT_EQ(wmq_client_publish(c, &m1, "q/1", "one", 3, 1, false, NULL), WMQ_E_OK);
	ASSERT_EQ(wmq_client_publish(c, NULL, "q/0", "x", 1, 0, false, NULL), WMQ_E_NO_CONN);
	fake_send(&f, CONNACK_V5_LIMITS);
	PUMP_UNTIL(c, r.connects == 1);
	ASSERT_EQ(r.connack_rc, 0);
	ASSERT_STREQ(wmq_client_id(c), "srv-1");
	ASSERT(wmq_client_is_connected(c));
	ASSERT_EQ(wmq_client_publish(c, &m2, "q/2", "two", 3, 1, false, NULL), WMQ_E_OK);
	ASSERT_EQ(wmq_client_publish(c, &m3, "q/3", "three", 5, 2, false, NULL), WMQ_E_OK);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.packet_id, m1);
	ASSERT(!p.u.publish.dup);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.packet_id, m2);
	/* [MQTT-4.9.0-2] the server's Receive Maximum (2) holds the third back */
	fake_quiet(&f, c, 60);
	ASSERT_EQ(wmq_client_pending_count(c), 3);
	fake_send(&f, "40 02 00 01"); /* PUBACK m1 */
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.packet_id, m3);
	ASSERT_EQ(p.u.publish.qos, 2);
	ASSERT_EQ(r.published, 1);
	ASSERT_EQ(r.pub_mid[0], m1);
	ASSERT_EQ(r.pub_rc[0], 0);
	/* PUBACK with a failure reason completes with that reason */
	fake_send(&f, "40 03 00 02 87");
	PUMP_UNTIL(c, r.published == 2);
	ASSERT_EQ(r.pub_rc[1], 0x87);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(fake_redelivery_after_reconnect)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	ASSERT_EQ(wmq_client_set_option(c, WMQ_OPT_RECONNECT, 1), WMQ_E_OK);
	ASSERT_EQ(wmq_client_set_option(c, WMQ_OPT_RECONNECT_MIN_MS, 20), WMQ_E_OK);
	ASSERT_EQ(wmq_client_set_option(c, WMQ_OPT_RECONNECT_MAX_MS, 40), WMQ_E_OK);
	opts_for(&o, &f, 5);
	o.session_expiry_interval = 60;
	o.keepalive = 0;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	ASSERT(p.u.connect.clean);
	ASSERT_EQ(p.u.connect.props.session_expiry, 60);
	fake_send(&f, CONNACK_V5_LIMITS);
	PUMP_UNTIL(c, r.connects == 1);
	uint16_t m1, m2;
	ASSERT_EQ(wmq_client_publish(c, &m1, "r/1", "a", 1, 1, false, NULL), WMQ_E_OK);
	ASSERT_EQ(wmq_client_publish(c, &m2, "r/2", "b", 1, 2, true, NULL), WMQ_E_OK);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.packet_id, m2);
	fake_send(&f, "50 02 00 02"); /* PUBREC m2 */
	fake_expect(&f, c, WMQ_PUBREL, &p);
	ASSERT_EQ(p.u.ack.packet_id, m2);

	/* the server goes away: the client reconnects on its own */
	close(f.fd);
	f.fd = -1;
	PUMP_UNTIL(c, r.disconnects == 1);
	ASSERT_EQ(r.disc_error, WMQ_E_CONN_LOST);
	ASSERT(r.disc_reconnect);
	ASSERT(!wmq_client_is_connected(c));
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	/* resume: clean start 0 and the server-assigned id */
	ASSERT(!p.u.connect.clean);
	ASSERT(wmq_bytes_eq_cstr(p.u.connect.client_id, "srv-1"));
	fake_send(&f, "20 03 01 00 00"); /* CONNACK session present */
	PUMP_UNTIL(c, r.connects == 2);
	ASSERT(r.session_present);
	/* [MQTT-4.4.0-1] unacknowledged PUBLISH again with DUP, then PUBREL */
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.packet_id, m1);
	ASSERT(p.u.publish.dup);
	ASSERT(wmq_bytes_eq_cstr(p.u.publish.topic, "r/1"));
	fake_expect(&f, c, WMQ_PUBREL, &p);
	ASSERT_EQ(p.u.ack.packet_id, m2);
	fake_send(&f, "40 02 00 01 70 02 00 02"); /* PUBACK m1, PUBCOMP m2 */
	PUMP_UNTIL(c, r.published == 2);
	ASSERT_EQ(wmq_client_pending_count(c), 0);

	/* a lost session: QoS 1 goes again as a new message (DUP 0) */
	ASSERT_EQ(wmq_client_publish(c, &m1, "r/3", "c", 1, 1, false, NULL), WMQ_E_OK);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	close(f.fd);
	f.fd = -1;
	PUMP_UNTIL(c, r.disconnects == 2);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	fake_send(&f, "20 03 00 00 00"); /* session not present */
	PUMP_UNTIL(c, r.connects == 3);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.packet_id, m1);
	ASSERT(!p.u.publish.dup);

	/* a graceful disconnect stops reconnecting */
	ASSERT_EQ(wmq_client_disconnect(c, 0, NULL), WMQ_E_OK);
	fake_expect(&f, c, WMQ_DISCONNECT, &p);
	close(f.fd);
	f.fd = -1;
	PUMP_UNTIL(c, r.disconnects == 3);
	ASSERT_EQ(r.disc_error, WMQ_E_OK);
	ASSERT(!r.disc_reconnect);
	ASSERT_EQ(wmq_client_loop(c, 0), WMQ_E_NO_CONN);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(fake_incoming_alias_and_qos2)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	opts_for(&o, &f, 5);
	o.topic_alias_maximum = 5;
	o.keepalive = 0;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	ASSERT_EQ(p.u.connect.props.topic_alias_max, 5);
	fake_send(&f, CONNACK_V5_PLAIN);
	PUMP_UNTIL(c, r.connects == 1);
	/* alias 1 set with "a/b", then used with an empty topic */
	fake_send(&f, "30 0a 00 03 61 2f 62 03 23 00 01 78");
	fake_send(&f, "30 07 00 00 03 23 00 01 79");
	PUMP_UNTIL(c, r.messages == 2);
	ASSERT_STREQ(r.topics[0], "a/b");
	ASSERT_STREQ(r.topics[1], "a/b");
	ASSERT_STREQ(r.payloads[1], "y");
	/* QoS 2 id 7 twice (DUP resend): one delivery, PUBREC each time */
	fake_send(&f, "34 07 00 01 71 00 07 00 7a");
	fake_expect(&f, c, WMQ_PUBREC, &p);
	ASSERT_EQ(p.u.ack.packet_id, 7);
	fake_send(&f, "3c 07 00 01 71 00 07 00 7a");
	fake_expect(&f, c, WMQ_PUBREC, &p);
	ASSERT_EQ(r.messages, 3);
	ASSERT_EQ(r.qos[2], 2);
	fake_send(&f, "62 02 00 07");
	fake_expect(&f, c, WMQ_PUBCOMP, &p);
	ASSERT_EQ(p.u.ack.rc, 0);
	/* PUBREL for an unknown id: PUBCOMP "packet identifier not found" */
	fake_send(&f, "62 02 00 08");
	fake_expect(&f, c, WMQ_PUBCOMP, &p);
	ASSERT_EQ(p.u.ack.rc, 0x92);
	/* QoS 1 is acknowledged after delivery */
	fake_send(&f, "32 07 00 01 71 00 09 00 31");
	fake_expect(&f, c, WMQ_PUBACK, &p);
	ASSERT_EQ(p.u.ack.packet_id, 9);
	ASSERT_EQ(r.messages, 4);
	/* an alias above our maximum: DISCONNECT 0x94 and close */
	fake_send(&f, "30 07 00 00 03 23 00 09 79");
	fake_expect(&f, c, WMQ_DISCONNECT, &p);
	ASSERT_EQ(p.u.disconnect.rc, 0x94);
	PUMP_UNTIL(c, r.disconnects == 1);
	ASSERT_EQ(r.disc_error, WMQ_E_PROTOCOL);
	ASSERT_EQ(r.messages, 4);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(fake_outgoing_alias_and_subscribe)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	ASSERT_EQ(wmq_client_set_option(c, WMQ_OPT_TOPIC_ALIAS_OUT, 1), WMQ_E_OK);
	opts_for(&o, &f, 5);
	o.keepalive = 0;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	fake_send(&f, CONNACK_V5_LIMITS); /* topic alias maximum 5 */
	PUMP_UNTIL(c, r.connects == 1);
	ASSERT_EQ(wmq_client_publish(c, NULL, "t/1", "a", 1, 0, false, NULL), WMQ_E_OK);
	ASSERT_EQ(wmq_client_publish(c, NULL, "t/1", "b", 1, 0, false, NULL), WMQ_E_OK);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT(wmq_bytes_eq_cstr(p.u.publish.topic, "t/1"));
	ASSERT_EQ(p.u.publish.props.topic_alias, 1);
	fake_expect(&f, c, WMQ_PUBLISH, &p);
	ASSERT_EQ(p.u.publish.topic.len, 0);
	ASSERT_EQ(p.u.publish.props.topic_alias, 1);
	ASSERT(wmq_bytes_eq_cstr(p.u.publish.payload, "b"));
	/* SUBSCRIBE with v5 options and a subscription identifier */
	wmq_subscription subs[2] = {{"s/#", 1, true, true, 2}, {"x", 2, false, false, 0}};
	wmq_properties *sp = wmq_properties_new();
	ASSERT_EQ(wmq_properties_add_int(sp, WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER, 77), WMQ_E_OK);
	uint16_t mid;
	ASSERT_EQ(wmq_client_subscribe_many(c, &mid, subs, 2, sp), WMQ_E_OK);
	wmq_properties_free(sp);
	fake_expect(&f, c, WMQ_SUBSCRIBE, &p);
	ASSERT_EQ(p.u.subscribe.count, 2);
	ASSERT_EQ(p.u.subscribe.props.sub_id, 77);
	size_t pos = 0;
	struct wmq_bytes flt;
	struct wmq_subopts so;
	ASSERT(wmq_subscribe_next(&p.u.subscribe, &pos, &flt, &so));
	ASSERT(wmq_bytes_eq_cstr(flt, "s/#"));
	ASSERT(so.no_local && so.retain_as_published);
	ASSERT_EQ(so.retain_handling, 2);
	ASSERT_EQ(so.qos, 1);
	char hex[64];
	snprintf(hex, sizeof hex, "90 05 %02x %02x 00 01 87", mid >> 8, mid & 0xff);
	fake_send(&f, hex);
	PUMP_UNTIL(c, r.subacks == 1);
	ASSERT_EQ(r.suback_codes[0], 1);
	ASSERT_EQ(r.suback_codes[1], 0x87);
	/* invalid arguments never reach the wire */
	ASSERT_EQ(wmq_client_publish(c, NULL, "a/+", "x", 1, 0, false, NULL), WMQ_E_INVAL);
	ASSERT_EQ(wmq_client_publish(c, NULL, "a", "x", 1, 3, false, NULL), WMQ_E_INVAL);
	ASSERT_EQ(wmq_client_subscribe(c, NULL, "a/#/b", 0, NULL), WMQ_E_INVAL);
	wmq_properties *bad = wmq_properties_new();
	ASSERT_EQ(wmq_properties_add_int(bad, WMQ_PROPERTY_SESSION_EXPIRY_INTERVAL, 1), WMQ_E_OK);
	ASSERT_EQ(wmq_client_publish(c, NULL, "a", "x", 1, 0, false, bad), WMQ_E_INVAL);
	wmq_properties_free(bad);
	fake_quiet(&f, c, 30);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(fake_enhanced_auth)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	r.auth_reply[0] = "c2";
	r.auth_reply[2] = "";
	opts_for(&o, &f, 5);
	o.auth_method = "TEST";
	o.auth_data = "c1";
	o.auth_data_len = 2;
	o.keepalive = 0;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	ASSERT(wmq_bytes_eq_cstr(p.u.connect.props.auth_method, "TEST"));
	ASSERT(wmq_bytes_eq_cstr(p.u.connect.props.auth_data, "c1"));
	/* AUTH 0x18 "s1" -> handler -> AUTH 0x18 "c2" */
	fake_send(&f, "f0 0e 18 0c 15 00 04 54 45 53 54 16 00 02 73 31");
	fake_expect(&f, c, WMQ_AUTH, &p);
	ASSERT_EQ(p.u.auth.rc, 0x18);
	ASSERT(wmq_bytes_eq_cstr(p.u.auth.props.auth_method, "TEST"));
	ASSERT(wmq_bytes_eq_cstr(p.u.auth.props.auth_data, "c2"));
	ASSERT_EQ(r.auth_calls, 1);
	ASSERT_STREQ(r.auth_in[0], "s1");
	ASSERT_EQ(r.auth_rc[0], 0x18);
	/* CONNACK with the server's final data: verified by the handler */
	fake_send(&f, "20 12 00 00 0f 15 00 04 54 45 53 54 16 00 05 66 69 6e 61 6c");
	PUMP_UNTIL(c, r.connects == 1);
	ASSERT_EQ(r.auth_calls, 2);
	ASSERT_STREQ(r.auth_in[1], "final");
	ASSERT_EQ(r.auth_rc[1], 0);
	/* re-authentication: AUTH 0x19 out, AUTH 0x00 back */
	ASSERT_EQ(wmq_client_reauthenticate(c, "r1", 2, NULL), WMQ_E_OK);
	ASSERT_EQ(wmq_client_reauthenticate(c, "r1", 2, NULL), WMQ_E_STATE);
	fake_expect(&f, c, WMQ_AUTH, &p);
	ASSERT_EQ(p.u.auth.rc, 0x19);
	ASSERT(wmq_bytes_eq_cstr(p.u.auth.props.auth_data, "r1"));
	fake_send(&f, "f0 09 00 07 15 00 04 54 45 53 54");
	PUMP_UNTIL(c, r.auth_calls == 3);
	ASSERT_EQ(r.auth_rc[2], 0);
	ASSERT(wmq_client_is_connected(c));
	/* an AUTH naming another method is a protocol error */
	fake_send(&f, "f0 09 18 07 15 00 04 4e 4f 50 45");
	fake_expect(&f, c, WMQ_DISCONNECT, &p);
	ASSERT_EQ(p.u.disconnect.rc, 0x82);
	PUMP_UNTIL(c, r.disconnects == 1);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(fake_keepalive_timeout)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V311);
	wmq_client *c = new_client(&r);
	opts_for(&o, &f, 4);
	o.keepalive = 1;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	ASSERT_EQ(p.u.connect.keepalive, 1);
	fake_send(&f, "20 02 00 00");
	PUMP_UNTIL(c, r.connects == 1);
	uint64_t t0 = wmq_now_ms();
	fake_expect(&f, c, WMQ_PINGREQ, &p);
	uint64_t dt = wmq_now_ms() - t0;
	ASSERT(dt >= 800 && dt <= 1600);
	fake_send(&f, "d0 00");
	fake_expect(&f, c, WMQ_PINGREQ, &p);
	/* no PINGRESP this time: the client gives up after one more period */
	t0 = wmq_now_ms();
	PUMP_UNTIL(c, r.disconnects == 1);
	dt = wmq_now_ms() - t0;
	ASSERT_EQ(r.disc_error, WMQ_E_KEEPALIVE);
	ASSERT(dt >= 800 && dt <= 1600);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(fake_server_disconnect_and_refusal)
{
	struct fake f;
	struct rec r;
	struct wmq_pkt p;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	opts_for(&o, &f, 5);
	o.keepalive = 0;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	/* loop_forever returns when a callback asks it to */
	fake_send(&f, CONNACK_V5_PLAIN);
	r.stop_on_connect = true;
	ASSERT_EQ(wmq_client_loop_forever(c), WMQ_E_OK);
	ASSERT_EQ(r.connects, 1);
	fake_send(&f, "e0 08 8e 06 1f 00 03 62 79 65");
	PUMP_UNTIL(c, r.disconnects == 1);
	ASSERT_EQ(r.disc_error, WMQ_E_SERVER_DISCONNECT);
	ASSERT_EQ(r.disc_reason, 0x8E);
	ASSERT(r.disc_by_server);
	ASSERT_STREQ(r.disc_reason_string, "bye");
	wmq_client_destroy(c);
	fake_close(&f);

	/* 3.1.1 CONNACK 5 = v5 0x87; no automatic retry for it */
	fake_listen(&f, WMQ_V311);
	c = new_client(&r);
	ASSERT_EQ(wmq_client_set_option(c, WMQ_OPT_RECONNECT, 1), WMQ_E_OK);
	opts_for(&o, &f, 4);
	o.client_id = "me";
	o.username = "u";
	o.password = "secret";
	o.password_len = 6;
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	fake_expect(&f, c, WMQ_CONNECT, &p);
	ASSERT(wmq_bytes_eq_cstr(p.u.connect.username, "u"));
	ASSERT(wmq_bytes_eq_cstr(p.u.connect.password, "secret"));
	fake_send(&f, "20 02 00 05");
	PUMP_UNTIL(c, r.disconnects == 1);
	ASSERT_EQ(r.connects, 1);
	ASSERT_EQ(r.connack_rc, 0x87);
	ASSERT_EQ(r.disc_error, WMQ_E_CONN_REFUSED);
	ASSERT(!r.disc_reconnect);
	fake_wait_eof(&f, c);
	/* option validation */
	o.client_id = "";
	o.clean_start = false; /* 3.1.1: empty id needs clean session */
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_INVAL);
	opts_for(&o, &f, 4);
	o.password = "x";
	o.password_len = 1; /* 3.1.1: no password without user name */
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_INVAL);
	opts_for(&o, &f, 3); /* 3.1 needs a client id */
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_INVAL);
	opts_for(&o, &f, 4);
	o.will_topic = "w/#";
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_INVAL);
	wmq_client_destroy(c);
	fake_close(&f);
}

TEST(connect_failure_reported)
{
	struct fake f;
	struct rec r;
	wmq_connect_opts o;
	fake_listen(&f, WMQ_V311);
	uint16_t port = f.port;
	fake_close(&f); /* nothing listens there any more */
	wmq_client *c = new_client(&r);
	wmq_connect_opts_init(&o);
	o.host = "127.0.0.1";
	o.port = port;
	int reason = -1;
	int rc = wmq_client_connect_blocking(c, &o, 3000, &reason);
	ASSERT_EQ(rc, WMQ_E_CONNECT_FAILED);
	ASSERT_EQ(wmq_client_sys_errno(c), ECONNREFUSED);
	ASSERT_EQ(reason, 0);
	ASSERT(!wmq_client_is_connected(c));
	ASSERT_EQ(r.disconnects, 1);
	ASSERT_EQ(r.disc_error, WMQ_E_CONNECT_FAILED);
	wmq_client_destroy(c);
}

/* ---- WebSockets --------------------------------------------------------------- */

TEST(ws_framing)
{
	uint8_t h[WMQ_WSC_HDR_MAX], m[4] = {0x37, 0xfa, 0x21, 0x3d};
	struct wmq_wsc_hdr d;
	/* the length forms of RFC 6455 §5.2 at their edges */
	static const struct {
		uint64_t len;
		size_t hl;
	} cases[] = {{0, 6}, {125, 6}, {126, 8}, {65535, 8}, {65536, 14}, {300000, 14}};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(cases); i++) {
		size_t n = wmq_wsc_frame_header(h, 0x2, true, cases[i].len, m);
		ASSERT_EQ(n, cases[i].hl);
		ASSERT_EQ(h[0], 0x82);
		ASSERT(h[1] & 0x80); /* masked: RFC 6455 §5.3 */
		ASSERT_EQ(wmq_wsc_parse_header(h, n, &d), WMQ_OK);
		ASSERT_EQ(d.len, cases[i].len);
		ASSERT_EQ(d.hdr_len, n);
		ASSERT(d.masked && d.fin);
		ASSERT_MEMEQ(d.mask, m, 4);
		/* every shorter prefix is incomplete */
		for (size_t k = 0; k < n; k++)
			ASSERT_EQ(wmq_wsc_parse_header(h, k, &d), WMQ_ERR_AGAIN);
	}
	ASSERT_EQ(wmq_wsc_frame_header(h, 0x2, true, 126, m), 8);
	ASSERT_EQ(h[1], 0x80 | 126);
	ASSERT_EQ(h[2], 0);
	ASSERT_EQ(h[3], 126);
	ASSERT_EQ(wmq_wsc_frame_header(h, 0x2, true, 65536, NULL), 10);
	ASSERT_MEMEQ(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	/* RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d */
	uint8_t hello[5] = {'H', 'e', 'l', 'l', 'o'};
	wmq_wsc_mask(hello, 5, m, 0);
	ASSERT_MEMEQ(hello, "\x7f\x9f\x4d\x51\x58", 5);
	/* masking in pieces at an offset equals masking at once */
	uint8_t a[7] = "abcdefg", b[7] = "abcdefg";
	wmq_wsc_mask(a, 7, m, 0);
	wmq_wsc_mask(b, 3, m, 0);
	wmq_wsc_mask(b + 3, 4, m, 3);
	ASSERT_MEMEQ(a, b, 7);
	/* reserved bits and a 64-bit length with its top bit set */
	ASSERT_EQ(wmq_wsc_parse_header((const uint8_t *)"\xc2\x00", 2, &d), WMQ_ERR_PROTOCOL);
	ASSERT_EQ(wmq_wsc_parse_header((const uint8_t *)"\x82\x7f\x80\0\0\0\0\0\0\0", 10, &d),
		  WMQ_ERR_PROTOCOL);
	/* RFC 6455 §1.3 example key */
	char acc[32];
	ASSERT(wmq_wsc_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc));
	ASSERT_STREQ(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ws_response_check)
{
	const char *acc = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
	char why[200];
	size_t head = 0;
#define RESP(x) (const uint8_t *)(x), strlen(x)
	const char *good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
			   "Connection: keep-alive, Upgrade\r\n"
			   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			   "Sec-WebSocket-Protocol: mqtt\r\n\r\n\x82\x02";
	ASSERT_EQ(wmq_wsc_check_response(RESP(good), acc, &head, why, sizeof why), WMQ_OK);
	ASSERT_EQ(head, strlen(good) - 2);
	ASSERT_EQ(wmq_wsc_check_response((const uint8_t *)good, 40, acc, &head, why, sizeof why),
		  WMQ_ERR_AGAIN);
	ASSERT_EQ(wmq_wsc_check_response(RESP("HTTP/1.1 404 Not Found\r\n\r\n"), acc, &head, why,
					sizeof why),
		  WMQ_ERR_PROTOCOL);
	ASSERT(strstr(why, "404 Not Found"));
	ASSERT_EQ(wmq_wsc_check_response(
			  RESP("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
			       "Sec-WebSocket-Accept: AAAAPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			       "Sec-WebSocket-Protocol: mqtt\r\n\r\n"),
			  acc, &head, why, sizeof why),
		  WMQ_ERR_PROTOCOL);
	ASSERT(strstr(why, "Sec-WebSocket-Accept"));
	ASSERT_EQ(wmq_wsc_check_response(
			  RESP("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
			       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
			  acc, &head, why, sizeof why),
		  WMQ_ERR_PROTOCOL);
	ASSERT(strstr(why, "subprotocol"));
#undef RESP
}

TEST(options_ws)
{
	struct wmq_tool_cfg c;
	wmq_connect_opts o;
	char idbuf[64];
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --ws"), WMQ_TOOL_RUN);
	wmq_tool_connect_opts(&c, &o, idbuf, sizeof idbuf);
	ASSERT(o.websocket && o.tls == NULL && o.ws_path == NULL);
	ASSERT_EQ(o.port, 80);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_SUB, "-L wss://h:8443/ws -t a --cafile ca"), WMQ_TOOL_RUN);
	wmq_tool_connect_opts(&c, &o, idbuf, sizeof idbuf);
	ASSERT(o.websocket && o.tls != NULL);
	ASSERT_STREQ(o.ws_path, "/ws");
	ASSERT_EQ(o.port, 8443);
	ASSERT_EQ(c.n_topics, 1);
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --ws-path /p --cafile ca"), WMQ_TOOL_RUN);
	wmq_tool_connect_opts(&c, &o, idbuf, sizeof idbuf);
	ASSERT(o.websocket && o.tls != NULL);
	ASSERT_EQ(o.port, 443);
	ASSERT_STREQ(o.ws_path, "/p");
	wmq_tool_cfg_cleanup(&c);
	ASSERT_EQ(parse(&c, WMQ_TOOL_PUB, "-t a -m x --ws-path p"), WMQ_TOOL_ERROR);
	ASSERT(strstr(errtext, "Invalid WebSocket path"));
	wmq_tool_cfg_cleanup(&c);
	/* the library refuses a path that cannot go in a request line */
	wmq_client *cl = wmq_client_new(NULL);
	wmq_connect_opts_init(&o);
	o.websocket = true;
	o.ws_path = "/a b";
	ASSERT_EQ(wmq_client_connect(cl, &o), WMQ_E_INVAL);
	wmq_client_destroy(cl);
}

/* Fake WebSocket server: one frame to the client (unmasked). */
static void ws_send_frame(struct fake *f, uint8_t b0, const void *p, size_t n)
{
	uint8_t buf[300];
	size_t hl = wmq_wsc_frame_header(buf, b0 & 0x0F, (b0 & 0x80) != 0, n, NULL);
	memcpy(buf + hl, p, n);
	ASSERT_EQ(write(f->fd, buf, hl + n), (ssize_t)(hl + n));
}

/* The next frame from the client: asserted masked, unmasked into |out|. */
static size_t ws_recv_frame(struct fake *f, wmq_client *c, uint8_t *opcode, uint8_t *out,
			    size_t cap)
{
	for (int i = 0; i < 1500; i++) {
		struct wmq_wsc_hdr h;
		if (wmq_wsc_parse_header(f->in, f->in_len, &h) == WMQ_OK &&
		    f->in_len >= h.hdr_len + h.len) {
			ASSERT(h.masked); /* RFC 6455 §5.3: every client frame */
			ASSERT(h.fin);
			ASSERT(h.len <= cap);
			size_t n = (size_t)h.len;
			memcpy(out, f->in + h.hdr_len, n);
			wmq_wsc_mask(out, n, h.mask, 0);
			memmove(f->in, f->in + h.hdr_len + n, f->in_len - h.hdr_len - n);
			f->in_len -= h.hdr_len + n;
			*opcode = h.opcode;
			return n;
		}
		ssize_t r = read(f->fd, f->in + f->in_len, sizeof f->in - f->in_len);
		if (r == 0)
			TEST_FAIL_("client closed the connection");
		if (r > 0) {
			f->in_len += (size_t)r;
			continue;
		}
		pump1(c);
	}
	TEST_FAIL_("no frame from the client");
}

TEST(fake_ws_stream)
{
	struct fake f;
	struct rec r;
	wmq_connect_opts o;
	uint8_t op, buf[512];
	fake_listen(&f, WMQ_V311);
	wmq_client *c = new_client(&r);
	opts_for(&o, &f, WMQ_PROTOCOL_V311);
	o.websocket = true;
	o.ws_path = "/x/mqtt";
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	/* the upgrade request */
	char *end = NULL;
	for (int i = 0; i < 1500 && !end; i++) {
		ssize_t n = read(f.fd, f.in + f.in_len, sizeof f.in - f.in_len - 1);
		if (n > 0) {
			f.in_len += (size_t)n;
			f.in[f.in_len] = 0;
			end = strstr((char *)f.in, "\r\n\r\n");
		} else {
			pump1(c);
		}
	}
	ASSERT(end != NULL);
	const char *req = (const char *)f.in;
	ASSERT(!strncmp(req, "GET /x/mqtt HTTP/1.1\r\n", 22));
	ASSERT(strstr(req, "\r\nSec-WebSocket-Protocol: mqtt\r\n"));
	ASSERT(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n"));
	ASSERT(strstr(req, "\r\nUpgrade: websocket\r\n"));
	char want[64];
	snprintf(want, sizeof want, "\r\nHost: 127.0.0.1:%u\r\n", f.port);
	ASSERT(strstr(req, want));
	const char *k = strstr(req, "Sec-WebSocket-Key: ");
	ASSERT(k != NULL);
	char key[25];
	memcpy(key, k + 19, 24);
	key[24] = 0;
	ASSERT_EQ(key[22], '='); /* 16 bytes in base64 */
	char acc[32];
	ASSERT(wmq_wsc_accept_for(key, acc));
	f.in_len = 0;
	/* 101, with the first CONNACK fragment in the same write */
	char resp[512];
	int rl = snprintf(resp, sizeof resp,
			  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
			  "Sec-WebSocket-Protocol: mqtt\r\n\r\n\x02\x01\x20",
			  acc);
	ASSERT_EQ(write(f.fd, resp, (size_t)rl), rl);
	size_t n = ws_recv_frame(&f, c, &op, buf, sizeof buf);
	ASSERT_EQ(op, 0x2);
	ASSERT_EQ(buf[0], 0x10); /* CONNECT in a binary frame */
	ASSERT_EQ(n, (size_t)buf[1] + 2);
	/* the rest of CONNACK: a ping between fragments (RFC 6455 §5.4),
	 * then two continuations */
	ws_send_frame(&f, 0x00, "\x02", 1);
	ws_send_frame(&f, 0x89, "hi", 2);
	ws_send_frame(&f, 0x80, "\x00\x00", 2);
	PUMP_UNTIL(c, r.connects == 1);
	ASSERT_EQ(r.connack_rc, 0);
	n = ws_recv_frame(&f, c, &op, buf, sizeof buf);
	ASSERT_EQ(op, 0xA); /* pong with the ping's data */
	ASSERT_EQ(n, 2);
	ASSERT_MEMEQ(buf, "hi", 2);
	/* two PUBLISH in one frame plus the start of a third, whose rest
	 * comes in the next message */
	static const uint8_t pubs[] = {0x30, 0x04, 0x00, 0x01, 'a', '1', 0x30, 0x04, 0x00, 0x01,
				       'b',  '2',  0x30, 0x04, 0x00, 0x01, 'c', '3'};
	ws_send_frame(&f, 0x82, pubs, 14);
	ws_send_frame(&f, 0x82, pubs + 14, 4);
	PUMP_UNTIL(c, r.messages == 3);
	ASSERT_STREQ(r.topics[0], "a");
	ASSERT_STREQ(r.payloads[1], "2");
	ASSERT_STREQ(r.topics[2], "c");
	ASSERT_STREQ(r.payloads[2], "3");
	/* a frame (16-bit length form) arriving one byte at a time */
	{
		uint8_t big[300 + 8], fr[320];
		big[0] = 0x30;
		big[1] = 0xAF; /* remaining length 303 = 0xAF 0x02 */
		big[2] = 0x02;
		big[3] = 0x00;
		big[4] = 0x01;
		big[5] = 'd';
		memset(big + 6, 'p', 300);
		size_t fl = wmq_wsc_frame_header(fr, 0x2, true, 306, NULL);
		ASSERT_EQ(fl, 4);
		memcpy(fr + fl, big, 306);
		for (size_t i = 0; i < fl + 306; i++) {
			ASSERT_EQ(write(f.fd, fr + i, 1), 1);
			if (i % 37 == 0)
				pump1(c);
		}
		PUMP_UNTIL(c, r.messages == 4);
		ASSERT_STREQ(r.topics[3], "d");
		ASSERT_EQ(r.payloads[3][0], 'p');
	}
	/* a publish from us: one masked binary frame */
	ASSERT_EQ(wmq_client_publish(c, NULL, "t", "xyz", 3, 0, false, NULL), WMQ_E_OK);
	n = ws_recv_frame(&f, c, &op, buf, sizeof buf);
	ASSERT_EQ(op, 0x2);
	ASSERT_MEMEQ(buf, "\x30\x06\x00\x01txyz", 8);
	/* a masked frame from the server is a protocol error: close 1002 */
	ws_send_frame(&f, 0x82, "", 0);
	ASSERT_EQ(write(f.fd, "\x82\x80\x01\x02\x03\x04", 6), 6);
	PUMP_UNTIL(c, r.disconnects == 1);
	ASSERT_EQ(r.disc_error, WMQ_E_PROTOCOL);
	ASSERT(strstr(wmq_client_tls_error(c), "masked frame"));
	n = ws_recv_frame(&f, c, &op, buf, sizeof buf);
	ASSERT_EQ(op, 0x8);
	ASSERT_EQ(n, 2);
	ASSERT_MEMEQ(buf, "\x03\xea", 2);
	fake_close(&f);
	wmq_client_destroy(c);
}

TEST(fake_ws_refused_and_closed)
{
	struct fake f;
	struct rec r;
	wmq_connect_opts o;
	uint8_t op, buf[64];
	fake_listen(&f, WMQ_V5);
	wmq_client *c = new_client(&r);
	opts_for(&o, &f, WMQ_PROTOCOL_V5);
	o.websocket = true;
	/* an HTTP error status ends the attempt with a readable reason */
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	ssize_t got = 0;
	/* (not PUMP_UNTIL: its condition is evaluated twice) */
	for (int i = 0; i < 1500 && got <= 0; i++)
		if ((got = read(f.fd, f.in, sizeof f.in)) <= 0)
			pump1(c);
	ASSERT(got > 0);
	const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	ASSERT_EQ(write(f.fd, nf, strlen(nf)), (ssize_t)strlen(nf));
	PUMP_UNTIL(c, r.disconnects == 1);
	ASSERT_EQ(r.disc_error, WMQ_E_PROTOCOL);
	ASSERT(strstr(wmq_client_tls_error(c), "404 Not Found"));

	/* a close frame from the server is answered and ends the connection */
	ASSERT_EQ(wmq_client_connect(c, &o), WMQ_E_OK);
	fake_accept(&f, c);
	char *end = NULL;
	f.in_len = 0;
	for (int i = 0; i < 1500 && !end; i++) {
		ssize_t n = read(f.fd, f.in + f.in_len, sizeof f.in - f.in_len - 1);
		if (n > 0) {
			f.in_len += (size_t)n;
			f.in[f.in_len] = 0;
			end = strstr((char *)f.in, "\r\n\r\n");
		} else {
			pump1(c);
		}
	}
	ASSERT(end != NULL);
	const char *k = strstr((char *)f.in, "Sec-WebSocket-Key: ");
	ASSERT(k != NULL);
	char key[25], acc[32], resp[300];
	memcpy(key, k + 19, 24);
	key[24] = 0;
	ASSERT(wmq_wsc_accept_for(key, acc));
	f.in_len = 0;
	int rl = snprintf(resp, sizeof resp,
			  "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
			  "connection: upgrade\r\nsec-websocket-accept: %s\r\n"
			  "sec-websocket-protocol: mqtt\r\n\r\n",
			  acc);
	ASSERT_EQ(write(f.fd, resp, (size_t)rl), rl);
	size_t n = ws_recv_frame(&f, c, &op, buf, sizeof buf);
	ASSERT_EQ(op, 0x2);
	ws_send_frame(&f, 0x82, "\x20\x03\x00\x00\x00", 5);
	PUMP_UNTIL(c, r.connects == 1);
	ws_send_frame(&f, 0x88, "\x03\xe9", 2);
	PUMP_UNTIL(c, r.disconnects == 2);
	ASSERT_EQ(r.disc_error, WMQ_E_CONN_LOST);
	n = ws_recv_frame(&f, c, &op, buf, sizeof buf);
	ASSERT_EQ(op, 0x8); /* the echo, RFC 6455 §5.5.1 */
	ASSERT_EQ(n, 2);
	ASSERT_MEMEQ(buf, "\x03\xe9", 2);
	fake_close(&f);
	wmq_client_destroy(c);
}

static const struct wmq_test tests[] = {
	{"backoff_bounds", backoff_bounds},
	{"props_build_and_read", props_build_and_read},
	{"props_view_of_decoded_block", props_view_of_decoded_block},
	{"property_names", property_names},
	{"topic_helpers", topic_helpers},
	{"url_parse", url_parse},
	{"format_render", format_render},
	{"format_default_and_check", format_default_and_check},
	{"options_pub", options_pub},
	{"options_sub", options_sub},
	{"options_tls", options_tls},
	{"tls_library_options", tls_library_options},
	{"connack_strings", connack_strings},
	{"fake_connect_assigned_id_and_receive_max", fake_connect_assigned_id_and_receive_max},
	{"fake_redelivery_after_reconnect", fake_redelivery_after_reconnect},
	{"fake_incoming_alias_and_qos2", fake_incoming_alias_and_qos2},
	{"fake_outgoing_alias_and_subscribe", fake_outgoing_alias_and_subscribe},
	{"fake_enhanced_auth", fake_enhanced_auth},
	{"fake_keepalive_timeout", fake_keepalive_timeout},
	{"fake_server_disconnect_and_refusal", fake_server_disconnect_and_refusal},
	{"connect_failure_reported", connect_failure_reported},
	{"ws_framing", ws_framing},
	{"ws_response_check", ws_response_check},
	{"options_ws", options_ws},
	{"fake_ws_stream", fake_ws_stream},
	{"fake_ws_refused_and_closed", fake_ws_refused_and_closed},
};

WMQ_TEST_MAIN(tests)
