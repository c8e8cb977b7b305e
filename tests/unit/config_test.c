/* SPDX-License-Identifier: MIT
 * config_test.c - the configuration module: defaults, every value type and
 * its errors (with the exact "FILE:LINE:" prefix), listener sections and
 * inheritance, duplicates, -p, reload classification, file loading, the
 * dump round trip, allocation failures, and the generated reference, which
 * must match the committed docs/CONFIG.md byte for byte. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "config/config.h"
#include "config/config_int.h"
#include "test.h"

#define ERRLEN 512

static wmq_err parse_str(const char *text, struct wmq_config *cfg, char *err)
{
	return wmq_config_parse("t.conf", text, strlen(text), cfg, err, ERRLEN);
}

/* Parse |text|, which must succeed. */
static void parse_ok(const char *text, struct wmq_config *cfg)
{
	char err[ERRLEN];
	wmq_err rc = parse_str(text, cfg, err);
	if (rc != WMQ_OK)
		TEST_FAIL_("parse failed (%s): %s", wmq_err_str(rc), err);
}

/* Parse |text|, which must fail with INVAL and exactly the message |want|;
 * the config must be left empty. */
static void expect_err(const char *text, const char *want)
{
	struct wmq_config cfg;
	char err[ERRLEN];
	wmq_err rc = parse_str(text, &cfg, err);
	if (rc == WMQ_OK)
		wmq_config_cleanup(&cfg);
	ASSERT_EQ(rc, WMQ_ERR_INVAL);
	ASSERT_STREQ(err, want);
	ASSERT(cfg.listeners == NULL);
	ASSERT(cfg.path == NULL);
	ASSERT_EQ(cfg.n_listeners, 0);
}

/* Everything |fn| writes to a stream, as a malloc'd string. */
static char *capture_doc(void)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	ASSERT(f != NULL);
	wmq_config_write_doc(f);
	ASSERT_EQ(fclose(f), 0);
	return s;
}

static char *capture_dump(const struct wmq_config *cfg)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	ASSERT(f != NULL);
	wmq_config_dump(cfg, f);
	ASSERT_EQ(fclose(f), 0);
	return s;
}

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		TEST_FAIL_("cannot open %s: %s", path, strerror(errno));
	char *buf = malloc(2 * 1024 * 1024);
	ASSERT(buf != NULL);
	*len = fread(buf, 1, 2 * 1024 * 1024 - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static const char complex_conf[] =
	"# a broker\n"
	"allow_anonymous true\n"
	"max_connections 500\n"
	"connect_timeout 5\n"
	"max_qos 1\n"
	"persistent_client_expiration 2w\n"
	"auto_id_prefix gen-\n"
	"log_dest file /var/log/wardmq/broker.log\n"
	"durability batched\n"
	"durability_interval 50\n"
	"max_queued_bytes 10000000000\n"
	"\n"
	"listener 1883\n"
	"listener 8083 127.0.0.1\n"
	"protocol websockets\n"
	"allow_anonymous false\n"
	"max_connections 20\n"
	"log_level debug\n"
	"listener 0 ::1\n";

TEST(builtin_default)
{
	struct wmq_config c;
	ASSERT_EQ(wmq_config_default(&c), WMQ_OK);
	ASSERT(c.path == NULL);
	ASSERT_EQ(c.n_listeners, 1);
	ASSERT_EQ(c.listeners[0].port, 1883);
	ASSERT_STREQ(c.listeners[0].address, "127.0.0.1");
	ASSERT_EQ(c.listeners[0].allow_anonymous, true);
	ASSERT_EQ(c.listeners[0].max_connections, -1);
	ASSERT_EQ(c.listeners[0].protocol, WMQ_LISTENER_MQTT);
	ASSERT_EQ(c.allow_anonymous, true);
	ASSERT_EQ(c.connect_timeout_ms, 10000);
	ASSERT_EQ(c.max_packet_size, 4194304);
	ASSERT_EQ(c.max_packet_size_pre_connect, 262144);
	ASSERT_EQ(c.max_keepalive, 65535);
	ASSERT_EQ(c.max_inflight_messages, 20);
	ASSERT_EQ(c.max_queued_messages, 1000);
	ASSERT_EQ(c.max_queued_bytes, 0);
	ASSERT_EQ(c.queue_qos0_messages, false);
	ASSERT_EQ(c.max_write_buffer, 1048576);
	ASSERT_EQ(c.max_topic_alias, 10);
	ASSERT_EQ(c.max_topic_length, 65535);
	ASSERT_EQ(c.max_topic_levels, 128);
	ASSERT_EQ(c.max_subscriptions_per_client, 0);
	ASSERT_EQ(c.max_user_properties, 64);
	ASSERT_EQ(c.max_qos, 2);
	ASSERT_EQ(c.retain_available, true);
	ASSERT_EQ(c.allow_zero_length_clientid, true);
	ASSERT_STREQ(c.auto_id_prefix, "auto-");
	ASSERT_EQ(c.persistent_client_expiration, -1);
	ASSERT_EQ(c.sys_interval, 10);
	ASSERT_EQ(c.set_tcp_nodelay, true);
	ASSERT_EQ(c.persistence, false);
	ASSERT_STREQ(c.persistence_file, "wardmq.db");
	ASSERT_EQ(c.durability, WMQ_DURABILITY_STRICT);
	ASSERT_EQ(c.durability_interval_ms, 10);
	ASSERT_EQ(c.log_level, WMQ_LOG_NOTICE);
	ASSERT_STREQ(c.log_dest, "stderr");
	ASSERT_EQ(c.log_timestamp, true);
	wmq_config_cleanup(&c);
	ASSERT(c.listeners == NULL);
}

TEST(empty_file_defaults)
{
	struct wmq_config c;
	parse_ok("", &c);
	ASSERT_STREQ(c.path, "t.conf");
	ASSERT_EQ(c.n_listeners, 1);
	ASSERT_EQ(c.listeners[0].port, 1883);
	ASSERT(c.listeners[0].address == NULL);
	ASSERT_EQ(c.listeners[0].allow_anonymous, false); /* a file: no anonymous */
	ASSERT_EQ(c.allow_anonymous, false);
	ASSERT_EQ(c.listeners[0].line, 0);
	ASSERT_EQ(c.connect_timeout_ms, 10000);
	ASSERT_STREQ(c.persistence_file, "wardmq.db");
	wmq_config_cleanup(&c);
}

TEST(table_is_consistent)
{
	ASSERT_EQ(wmq_config_option_count(), WMQ_CONFIG_N_OPTIONS);
	ASSERT(wmq_config_option_name(wmq_config_option_count()) == NULL);
	for (size_t i = 0; i < wmq_config_option_count(); i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		ASSERT_STREQ(wmq_config_option_name(i), o->name);
		ASSERT(o->doc && strlen(o->doc) > 20);
		ASSERT(wmq_config_find(o->name) == o); /* names are unique */
		ASSERT(wmq_config_find_unsupported(o->name) == NULL);
		ASSERT(o->min <= o->max);
		if ((o->scope & WMQ_SCOPE_GLOBAL) && o->type != WMQ_OPT_LISTENER)
			ASSERT(o->gsize > 0);
		if (o->scope & WMQ_SCOPE_LISTENER)
			ASSERT(o->lsize > 0);
		if (o->type == WMQ_OPT_ENUM)
			ASSERT(o->words && o->words[0]);
	}
	/* every name the brief lists is in the table */
	static const char *const names[] = {
		"listener", "protocol", "allow_anonymous", "max_connections", "connect_timeout",
		"max_packet_size", "max_packet_size_pre_connect", "max_keepalive",
		"max_inflight_messages", "max_queued_messages", "max_queued_bytes",
		"queue_qos0_messages", "max_write_buffer", "max_topic_alias", "max_topic_length",
		"max_topic_levels", "max_subscriptions_per_client", "max_user_properties", "max_qos",
		"retain_available", "allow_zero_length_clientid", "auto_id_prefix",
		"persistent_client_expiration", "sys_interval", "set_tcp_nodelay", "persistence",
		"persistence_file", "durability", "durability_interval", "log_level", "log_dest",
		"log_timestamp", "certfile", "keyfile", "cafile", "capath", "crlfile", "tls_version",
		"ciphers", "ciphers_tls1.3", "require_certificate", "use_identity_as_username",
		"identity_source", "psk_hint", "crl_disconnect", "deny_action", "audit_file",
		"authorization", "auth_threads",
		"websockets_path", "websockets_origin", "websockets_trust_forwarded",
		"websockets_headers_size", "admin_socket",

		/* brute-force defence */
		"max_connection_rate", "connection_burst", "auth_backoff_free", "auth_backoff_base_ms",
		"auth_backoff_max_ms", "auth_lockout_after", "auth_lockout_seconds",
		"auth_addr_backoff_free", "auth_addr_backoff_base_ms", "auth_addr_backoff_max_ms",
		"auth_addr_lockout_after", "auth_addr_lockout_seconds", "auth_failure_decay",
		"auth_max_hold_ms"};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(names); i++)
		if (!wmq_config_find(names[i]))
			TEST_FAIL_("option %s missing from the table", names[i]);
	ASSERT_EQ(WMQ_ARRAY_LEN(names), WMQ_CONFIG_N_OPTIONS);
}

TEST(log_level_words_match_enum)
{
	const struct wmq_opt *o = wmq_config_find("log_level");
	ASSERT(o != NULL);
	size_t i = 0;
	for (; o->words[i]; i++)
		ASSERT_EQ(wmq_log_level_parse(o->words[i]), (int)i);
	ASSERT_EQ(i, 5);
	struct wmq_config c;
	parse_ok("log_level warning\n", &c);
	ASSERT_EQ(c.log_level, WMQ_LOG_WARNING);
	wmq_config_cleanup(&c);
}

TEST(bool_values)
{
	struct wmq_config c;
	parse_ok("retain_available false\nqueue_qos0_messages true\n", &c);
	ASSERT_EQ(c.retain_available, false);
	ASSERT_EQ(c.queue_qos0_messages, true);
	wmq_config_cleanup(&c);
	expect_err("retain_available yes\n",
		   "t.conf:1: retain_available: 'yes' is not a boolean (true or false)");
	expect_err("\nretain_available 1\n",
		   "t.conf:2: retain_available: '1' is not a boolean (true or false)");
	expect_err("retain_available True\n",
		   "t.conf:1: retain_available: 'True' is not a boolean (true or false)");
	expect_err("retain_available true false\n",
		   "t.conf:1: retain_available: 'true false' is not a boolean (true or false)");
}

TEST(int_values_and_junk)
{
	struct wmq_config c;
	parse_ok("max_inflight_messages 100\nmax_topic_alias 0\nmax_keepalive 010\n", &c);
	ASSERT_EQ(c.max_inflight_messages, 100);
	ASSERT_EQ(c.max_topic_alias, 0);
	ASSERT_EQ(c.max_keepalive, 10);
	wmq_config_cleanup(&c);
	expect_err("max_inflight_messages 12x\n",
		   "t.conf:1: max_inflight_messages: '12x' is not an integer");
	expect_err("max_inflight_messages 0x10\n",
		   "t.conf:1: max_inflight_messages: '0x10' is not an integer");
	expect_err("max_inflight_messages +5\n",
		   "t.conf:1: max_inflight_messages: '+5' is not an integer");
	expect_err("max_inflight_messages 1 2\n",
		   "t.conf:1: max_inflight_messages: '1 2' is not an integer");
	expect_err("max_inflight_messages -\n",
		   "t.conf:1: max_inflight_messages: '-' is not an integer");
	expect_err("max_inflight_messages 1.5\n",
		   "t.conf:1: max_inflight_messages: '1.5' is not an integer");
}

TEST(int_range_and_overflow)
{
	expect_err("# c\n\nmax_qos 3\n", "t.conf:3: max_qos: '3' is out of range 0..2");
	expect_err("max_qos -1\n", "t.conf:1: max_qos: '-1' is out of range 0..2");
	expect_err("max_inflight_messages 0\n",
		   "t.conf:1: max_inflight_messages: '0' is out of range 1..65535");
	expect_err("max_inflight_messages 65536\n",
		   "t.conf:1: max_inflight_messages: '65536' is out of range 1..65535");
	expect_err("max_packet_size 19\n",
		   "t.conf:1: max_packet_size: '19' is out of range 20..268435455");
	expect_err("max_packet_size 268435456\n",
		   "t.conf:1: max_packet_size: '268435456' is out of range 20..268435455");
	expect_err("max_queued_messages 99999999999999999999999\n",
		   "t.conf:1: max_queued_messages: '99999999999999999999999' is out of range "
		   "0..4294967295");
	expect_err("max_queued_bytes 9223372036854775808\n",
		   "t.conf:1: max_queued_bytes: '9223372036854775808' is out of range "
		   "0..9223372036854775807");
	expect_err("max_write_buffer 4095\n",
		   "t.conf:1: max_write_buffer: '4095' is out of range 4096..4294967295");
	expect_err("max_keepalive 9\n", "t.conf:1: max_keepalive: '9' is out of range 10..65535");
}

TEST(max_connections_signed)
{
	struct wmq_config c;
	parse_ok("max_connections -1\n", &c);
	ASSERT_EQ(c.max_connections, -1);
	wmq_config_cleanup(&c);
	parse_ok("max_connections 2147483647\n", &c);
	ASSERT_EQ(c.max_connections, 2147483647L);
	ASSERT_EQ(c.listeners[0].max_connections, 2147483647L);
	wmq_config_cleanup(&c);
	expect_err("max_connections -2\n",
		   "t.conf:1: max_connections: '-2' is out of range -1..2147483647");
	expect_err("max_connections -9223372036854775809\n",
		   "t.conf:1: max_connections: '-9223372036854775809' is out of range "
		   "-1..2147483647");
}

TEST(size_above_32_bits)
{
	struct wmq_config c;
	parse_ok("max_queued_bytes 10000000000\nmax_queued_messages 4294967295\n", &c);
	ASSERT_EQ(c.max_queued_bytes, 10000000000LL);
	ASSERT_EQ(c.max_queued_messages, 4294967295LL);
	wmq_config_cleanup(&c);
}

TEST(seconds_stored_as_ms)
{
	struct wmq_config c;
	parse_ok("connect_timeout 30\nsys_interval 0\n", &c);
	ASSERT_EQ(c.connect_timeout_ms, 30000);
	ASSERT_EQ(c.sys_interval, 0);
	wmq_config_cleanup(&c);
	parse_ok("connect_timeout 3600\n", &c);
	ASSERT_EQ(c.connect_timeout_ms, 3600000);
	wmq_config_cleanup(&c);
	expect_err("connect_timeout 0\n", "t.conf:1: connect_timeout: '0' is out of range 1..3600");
	expect_err("connect_timeout 3601\n",
		   "t.conf:1: connect_timeout: '3601' is out of range 1..3600");
	expect_err("connect_timeout 10s\n", "t.conf:1: connect_timeout: '10s' is not an integer");
}

TEST(milliseconds)
{
	struct wmq_config c;
	parse_ok("durability_interval 250\n", &c);
	ASSERT_EQ(c.durability_interval_ms, 250);
	wmq_config_cleanup(&c);
	expect_err("durability_interval 0\n",
		   "t.conf:1: durability_interval: '0' is out of range 1..10000");
	expect_err("durability_interval 10001\n",
		   "t.conf:1: durability_interval: '10001' is out of range 1..10000");
}

TEST(mosquitto_duration_syntax)
{
	static const struct {
		const char *v;
		int64_t secs;
	} ok[] = {
		{"14d", 14 * 86400}, {"1w", 7 * 86400},   {"2h", 7200},  {"2m", 60 * 86400},
		{"30m", 30 * 30 * 86400LL}, {"1y", 365 * 86400}, {"90s", 90}, {"never", -1},
	};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(ok); i++) {
		char text[128];
		struct wmq_config c;
		snprintf(text, sizeof text, "persistent_client_expiration %s\n", ok[i].v);
		parse_ok(text, &c);
		ASSERT_EQ(c.persistent_client_expiration, ok[i].secs);
		wmq_config_cleanup(&c);
	}
	expect_err("persistent_client_expiration 14\n",
		   "t.conf:1: persistent_client_expiration: '14' needs a unit: an integer followed "
		   "by s, h, d, w, m (30 days) or y, or 'never'");
	expect_err("persistent_client_expiration 14x\n",
		   "t.conf:1: persistent_client_expiration: '14x' needs a unit: an integer followed "
		   "by s, h, d, w, m (30 days) or y, or 'never'");
	expect_err("persistent_client_expiration d\n",
		   "t.conf:1: persistent_client_expiration: 'd' is not a duration (an integer "
		   "followed by s, h, d, w, m or y)");
	expect_err("persistent_client_expiration -1d\n",
		   "t.conf:1: persistent_client_expiration: '-1d' is not a duration (an integer "
		   "followed by s, h, d, w, m or y)");
	expect_err("persistent_client_expiration 1 d\n",
		   "t.conf:1: persistent_client_expiration: '1 d' is not a duration (an integer "
		   "followed by s, h, d, w, m or y)");
	expect_err("persistent_client_expiration 0d\n",
		   "t.conf:1: persistent_client_expiration: '0d' is out of range (1s up to about "
		   "292 billion years)");
	expect_err("persistent_client_expiration 300000000000y\n",
		   "t.conf:1: persistent_client_expiration: '300000000000y' is out of range (1s up "
		   "to about 292 billion years)");
}

TEST(enum_values)
{
	struct wmq_config c;
	parse_ok("durability none\nlistener 9001\nprotocol websockets\n", &c);
	ASSERT_EQ(c.durability, WMQ_DURABILITY_NONE);
	ASSERT_EQ(c.listeners[0].protocol, WMQ_LISTENER_WEBSOCKETS);
	wmq_config_cleanup(&c);
	expect_err("durability fast\n",
		   "t.conf:1: durability: 'fast' is not one of strict, batched, none");
	expect_err("log_level verbose\n",
		   "t.conf:1: log_level: 'verbose' is not one of error, warning, notice, info, debug");
	expect_err("listener 1\nprotocol ws\n",
		   "t.conf:2: protocol: 'ws' is not one of mqtt, websockets");
}

TEST(log_dest_forms)
{
	struct wmq_config c;
	parse_ok("log_dest stdout\n", &c);
	ASSERT_STREQ(c.log_dest, "stdout");
	wmq_config_cleanup(&c);
	parse_ok("log_dest none\n", &c);
	ASSERT_STREQ(c.log_dest, "none");
	wmq_config_cleanup(&c);
	parse_ok("log_dest file   /var/log/My Logs/wardmq.log  \n", &c);
	ASSERT_STREQ(c.log_dest, "file:/var/log/My Logs/wardmq.log");
	wmq_config_cleanup(&c);
	expect_err("log_dest file\n", "t.conf:1: log_dest file needs a path: 'log_dest file PATH'");
	expect_err("log_dest syslog\n",
		   "t.conf:1: log_dest syslog is a mosquitto destination not supported by WardMQ: "
		   "use stderr, stdout, none or file PATH");
	expect_err("log_dest topic\n",
		   "t.conf:1: log_dest topic is a mosquitto destination not supported by WardMQ: "
		   "use stderr, stdout, none or file PATH");
	expect_err("log_dest stderr now\n",
		   "t.conf:1: log_dest: 'stderr now' is not one of stderr, stdout, none, file PATH");
	expect_err("log_dest files /x\n",
		   "t.conf:1: log_dest: 'files /x' is not one of stderr, stdout, none, file PATH");
}

TEST(string_and_path)
{
	struct wmq_config c;
	parse_ok("auto_id_prefix gen-\npersistence_file /var/lib/wardmq/db one.sqlite\n", &c);
	ASSERT_STREQ(c.auto_id_prefix, "gen-");
	ASSERT_STREQ(c.persistence_file, "/var/lib/wardmq/db one.sqlite");
	wmq_config_cleanup(&c);
	parse_ok("auto_id_prefix caf\xc3\xa9-\n", &c);
	ASSERT_STREQ(c.auto_id_prefix, "caf\xc3\xa9-");
	wmq_config_cleanup(&c);
	expect_err("auto_id_prefix a\xff\n", "t.conf:1: auto_id_prefix: value is not valid UTF-8");
	expect_err("auto_id_prefix \xed\xa0\x80\n",
		   "t.conf:1: auto_id_prefix: value is not valid UTF-8");
}

TEST(listener_sections)
{
	struct wmq_config c;
	parse_ok(complex_conf, &c);
	ASSERT_EQ(c.n_listeners, 3);
	ASSERT_EQ(c.listeners[0].port, 1883);
	ASSERT(c.listeners[0].address == NULL);
	ASSERT_EQ(c.listeners[0].protocol, WMQ_LISTENER_MQTT);
	ASSERT_EQ(c.listeners[0].allow_anonymous, true); /* inherited */
	ASSERT_EQ(c.listeners[0].max_connections, 500);  /* inherited */
	ASSERT_EQ(c.listeners[0].line, 13);
	ASSERT_EQ(c.listeners[1].port, 8083);
	ASSERT_STREQ(c.listeners[1].address, "127.0.0.1");
	ASSERT_EQ(c.listeners[1].protocol, WMQ_LISTENER_WEBSOCKETS);
	ASSERT_EQ(c.listeners[1].allow_anonymous, false);
	ASSERT_EQ(c.listeners[1].max_connections, 20);
	ASSERT_EQ(c.listeners[1].line, 14);
	ASSERT_EQ(c.listeners[2].port, 0);
	ASSERT_STREQ(c.listeners[2].address, "::1");
	ASSERT_EQ(c.listeners[2].allow_anonymous, true);
	ASSERT_EQ(c.listeners[2].protocol, WMQ_LISTENER_MQTT);
	/* the global values are not changed by listener sections */
	ASSERT_EQ(c.allow_anonymous, true);
	ASSERT_EQ(c.max_connections, 500);
	/* a global option inside a listener section is global */
	ASSERT_EQ(c.log_level, WMQ_LOG_DEBUG);
	ASSERT_EQ(c.persistent_client_expiration, 14 * 86400);
	ASSERT_STREQ(c.log_dest, "file:/var/log/wardmq/broker.log");
	wmq_config_cleanup(&c);
}

TEST(implicit_listener_inherits)
{
	struct wmq_config c;
	parse_ok("allow_anonymous true\nmax_connections 7\n", &c);
	ASSERT_EQ(c.n_listeners, 1);
	ASSERT_EQ(c.listeners[0].port, 1883);
	ASSERT(c.listeners[0].address == NULL);
	ASSERT_EQ(c.listeners[0].allow_anonymous, true);
	ASSERT_EQ(c.listeners[0].max_connections, 7);
	wmq_config_cleanup(&c);
}

TEST(listener_option_scope)
{
	expect_err("protocol websockets\nlistener 1883\n",
		   "t.conf:1: 'protocol' is a listener option: it must follow a 'listener PORT' "
		   "line");
	/* a BOTH option after a listener applies to it only, later listeners
	 * inherit the top-level value */
	struct wmq_config c;
	parse_ok("listener 1\nallow_anonymous true\nlistener 2\n", &c);
	ASSERT_EQ(c.listeners[0].allow_anonymous, true);
	ASSERT_EQ(c.listeners[1].allow_anonymous, false);
	ASSERT_EQ(c.allow_anonymous, false);
	wmq_config_cleanup(&c);
}

TEST(listener_values)
{
	struct wmq_config c;
	parse_ok("listener 0\nlistener 0\nlistener 65535 broker.example.com\n"
		 "listener 1884 fe80::1\nlistener 1885 localhost.\n",
		 &c);
	ASSERT_EQ(c.n_listeners, 5); /* port 0 (ephemeral) may repeat */
	ASSERT_EQ(c.listeners[2].port, 65535);
	ASSERT_STREQ(c.listeners[2].address, "broker.example.com");
	ASSERT_STREQ(c.listeners[3].address, "fe80::1");
	wmq_config_cleanup(&c);
	expect_err("listener 65536\n", "t.conf:1: listener: port '65536' is out of range 0..65535");
	expect_err("listener -1\n", "t.conf:1: listener: port '-1' is out of range 0..65535");
	expect_err("listener abc\n", "t.conf:1: listener: port 'abc' is not an integer");
	expect_err("listener\n", "t.conf:1: option 'listener' needs a value");
	expect_err("listener 1883 127.0.0.1 extra\n",
		   "t.conf:1: listener: too many values; expected 'listener PORT [ADDRESS]'");
	expect_err("listener 1883 bad_host!\n",
		   "t.conf:1: listener: 'bad_host!' is not an IPv4 or IPv6 address or a host name");
	expect_err("listener 1883 1.2.3\n",
		   "t.conf:1: listener: '1.2.3' is not an IPv4 or IPv6 address or a host name");
	expect_err("listener 1883 -host\n",
		   "t.conf:1: listener: '-host' is not an IPv4 or IPv6 address or a host name");
	expect_err("listener 1883 [::1]\n",
		   "t.conf:1: listener: '[::1]' is not an IPv4 or IPv6 address or a host name");
}

TEST(duplicate_listener)
{
	expect_err("listener 1883\nmax_connections 5\nlistener 1883\n",
		   "t.conf:3: listener 1883 duplicates the listener on line 1");
	expect_err("listener 1883 10.0.0.1\n\nlistener 1883 10.0.0.1\n",
		   "t.conf:3: listener 1883 10.0.0.1 duplicates the listener on line 1");
	expect_err("listener 1883 Host.Example\nlistener 1883 host.example\n",
		   "t.conf:2: listener 1883 host.example duplicates the listener on line 1");
	expect_err("listener 1883\nlistener 1883 10.0.0.1\n",
		   "t.conf:2: listener 1883 10.0.0.1 conflicts with the listener on line 1 (same "
		   "port, one of them on every interface)");
	struct wmq_config c;
	parse_ok("listener 1883 10.0.0.1\nlistener 1883 10.0.0.2\nlistener 1884 10.0.0.1\n", &c);
	ASSERT_EQ(c.n_listeners, 3);
	wmq_config_cleanup(&c);
}

TEST(too_many_listeners)
{
	char *text = malloc(20 * 300);
	ASSERT(text != NULL);
	size_t n = 0;
	for (int i = 0; i < 257; i++)
		n += (size_t)snprintf(text + n, 20, "listener %d\n", 1000 + i);
	struct wmq_config c;
	char err[ERRLEN];
	ASSERT_EQ(wmq_config_parse("t.conf", text, n, &c, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "t.conf:257: more than 256 listeners");
	free(text);
}

TEST(duplicate_options)
{
	expect_err("max_qos 1\n# again\nmax_qos 2\n",
		   "t.conf:3: 'max_qos' given twice in the same scope (first on line 1)");
	/* a global option inside a listener section is still the global scope */
	expect_err("log_level info\nlistener 1883\nlog_level debug\n",
		   "t.conf:3: 'log_level' given twice in the same scope (first on line 1)");
	expect_err("listener 1883\nprotocol mqtt\nprotocol websockets\n",
		   "t.conf:3: 'protocol' given twice in the same listener section (first on line 2)");
	expect_err("allow_anonymous true\nallow_anonymous false\n",
		   "t.conf:2: 'allow_anonymous' given twice in the same scope (first on line 1)");
	/* once at top level and once per listener is fine */
	struct wmq_config c;
	parse_ok("allow_anonymous true\nlistener 1\nallow_anonymous false\nprotocol mqtt\n"
		 "listener 2\nallow_anonymous false\nprotocol websockets\n",
		 &c);
	ASSERT_EQ(c.allow_anonymous, true);
	ASSERT_EQ(c.listeners[0].allow_anonymous, false);
	ASSERT_EQ(c.listeners[1].allow_anonymous, false);
	ASSERT_EQ(c.listeners[1].protocol, WMQ_LISTENER_WEBSOCKETS);
	wmq_config_cleanup(&c);
}

TEST(set_port_override)
{
	struct wmq_config c;
	parse_ok(complex_conf, &c);
	ASSERT_EQ(wmq_config_set_port(&c, 1999), WMQ_OK);
	ASSERT_EQ(c.n_listeners, 1);
	ASSERT_EQ(c.listeners[0].port, 1999);
	ASSERT(c.listeners[0].address == NULL); /* a file: every interface */
	ASSERT_EQ(c.listeners[0].allow_anonymous, true); /* the top-level value */
	ASSERT_EQ(c.listeners[0].max_connections, 500);
	ASSERT_EQ(c.listeners[0].protocol, WMQ_LISTENER_MQTT);
	ASSERT_EQ(c.max_qos, 1); /* other settings kept */
	ASSERT_STREQ(c.auto_id_prefix, "gen-");
	wmq_config_cleanup(&c);

	ASSERT_EQ(wmq_config_default(&c), WMQ_OK);
	ASSERT_EQ(wmq_config_set_port(&c, 0), WMQ_OK);
	ASSERT_EQ(c.n_listeners, 1);
	ASSERT_EQ(c.listeners[0].port, 0);
	ASSERT_STREQ(c.listeners[0].address, "127.0.0.1"); /* no file: loopback */
	ASSERT_EQ(c.listeners[0].allow_anonymous, true);
	wmq_config_cleanup(&c);
}

TEST(set_port_nomem_keeps_config)
{
	struct wmq_config c;
	parse_ok(complex_conf, &c);
	wmq_alloc_fail_after(1);
	wmq_err rc = wmq_config_set_port(&c, 1999);
	wmq_alloc_fail_after(0);
	ASSERT_EQ(rc, WMQ_ERR_NOMEM);
	ASSERT_EQ(c.n_listeners, 3);
	ASSERT_EQ(c.listeners[1].port, 8083);
	wmq_config_cleanup(&c);
}

TEST(reload_classification)
{
	struct wmq_config a, b;
	char buf[256];
	parse_ok("listener 1883\nmax_qos 2\nlog_level info\n", &a);

	parse_ok("listener 1883\nmax_qos 1\nlog_level debug\nmax_keepalive 60\n"
		 "allow_anonymous true\nmax_connections 3\n",
		 &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 0);
	ASSERT_STREQ(buf, "");
	wmq_config_cleanup(&b);

	parse_ok("listener 1884\nmax_qos 2\nlog_level info\npersistence true\n", &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 2);
	ASSERT_STREQ(buf, "listener, persistence");
	wmq_config_cleanup(&b);

	parse_ok("listener 1883\nprotocol websockets\npersistence_file /x.db\ndurability none\n"
		 "durability_interval 20\n",
		 &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 4);
	ASSERT_STREQ(buf, "protocol, persistence_file, durability, durability_interval");
	/* a small buffer is truncated at a name boundary but the count is whole */
	char small[12];
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, small, sizeof small), 4);
	ASSERT_STREQ(small, "protocol");
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, NULL, 0), 4);
	wmq_config_cleanup(&b);

	parse_ok("listener 1883\nlistener 1884\n", &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 1);
	ASSERT_STREQ(buf, "listener");
	wmq_config_cleanup(&b);

	parse_ok("listener 1883 127.0.0.1\n", &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 1);
	ASSERT_STREQ(buf, "listener");
	wmq_config_cleanup(&b);
	wmq_config_cleanup(&a);

	/* every option the table marks non-reloadable is reported */
	size_t nonreload = 0;
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++)
		if (!(wmq_config_options[i].flags & WMQ_OPT_RELOADABLE))
			nonreload++;
	/* listener, protocol, 4 persistence options, admin_socket, audit_file, 4 websockets,
	 * auth_threads */
	ASSERT_EQ(nonreload, 13);
}

TEST(comments_blank_lines_whitespace)
{
	struct wmq_config c;
	parse_ok("# comment\n"
		 "   # indented comment with max_qos 0\n"
		 "\t#tab comment\n"
		 "\n"
		 "   \t \n"
		 "  max_qos\t 1 \t \r\n"
		 "auto_id_prefix x#y \n"
		 "retain_available false", /* no final newline */
		 &c);
	ASSERT_EQ(c.max_qos, 1);
	ASSERT_STREQ(c.auto_id_prefix, "x#y"); /* '#' inside a value is data */
	ASSERT_EQ(c.retain_available, false);
	wmq_config_cleanup(&c);
	parse_ok("\xef\xbb\xbfmax_qos 0\n", &c); /* UTF-8 BOM */
	ASSERT_EQ(c.max_qos, 0);
	wmq_config_cleanup(&c);
	expect_err("max_qos 1 # one\n", "t.conf:1: max_qos: '1 # one' is not an integer");
	expect_err("\n\nmax\vqos 1\n", "t.conf:3: control character 0x0b in line");
	expect_err("max_qos 1\rmax_qos 2\n", "t.conf:1: control character 0x0d in line");
}

TEST(long_line)
{
	char *text = malloc(3 * 4200);
	ASSERT(text != NULL);
	/* exactly 4096 bytes (a comment) is fine */
	memset(text, '#', 4096);
	memcpy(text + 4096, "\nmax_qos 1\n", 12);
	struct wmq_config c;
	parse_ok(text, &c);
	ASSERT_EQ(c.max_qos, 1);
	wmq_config_cleanup(&c);
	/* 4097 bytes on line 2 is an error, also inside a value */
	memcpy(text, "max_qos 1\n", 10);
	memcpy(text + 10, "auto_id_prefix ", 15);
	memset(text + 25, 'a', 4097 - 15);
	memcpy(text + 10 + 4097, "\n", 2);
	expect_err(text, "t.conf:2: line longer than 4096 bytes");
	free(text);
}

TEST(nul_byte)
{
	static const char text[] = "max_qos 1\nauto_id_prefix a\0b\n";
	struct wmq_config c;
	char err[ERRLEN];
	ASSERT_EQ(wmq_config_parse("t.conf", text, sizeof text - 1, &c, err, sizeof err),
		  WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "t.conf:2: NUL byte in line");
	ASSERT(c.path == NULL);
	/* a NUL in a comment is an error too */
	static const char text2[] = "# x\0y\n";
	ASSERT_EQ(wmq_config_parse("t.conf", text2, sizeof text2 - 1, &c, err, sizeof err),
		  WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "t.conf:1: NUL byte in line");
}

TEST(unknown_and_missing)
{
	expect_err("max_qos 1\nmax_qoss 1\n", "t.conf:2: unknown option 'max_qoss'");
	expect_err("MAX_QOS 1\n", "t.conf:1: unknown option 'MAX_QOS'");
	expect_err("bogus\n", "t.conf:1: unknown option 'bogus'");
	expect_err("max_qos\n", "t.conf:1: option 'max_qos' needs a value");
	expect_err("max_qos   \t\n", "t.conf:1: option 'max_qos' needs a value");
	expect_err("auto_id_prefix\n", "t.conf:1: option 'auto_id_prefix' needs a value");
	expect_err("k\xff\"y 1\n", "t.conf:1: unknown option 'k\\xff\\x22y'");
}

TEST(mosquitto_only_keys)
{
	expect_err("log_type all\n",
		   "t.conf:1: mosquitto option 'log_type' is not supported by WardMQ: use "
		   "'log_level' (one of error, warning, notice, info, debug)");
	expect_err("port 1883\n",
		   "t.conf:1: mosquitto option 'port' is not supported by WardMQ: use 'listener PORT'");
	expect_err("listener 1883\nmount_point a/\n",
		   "t.conf:2: mosquitto option 'mount_point' is not supported by WardMQ: topic mount "
		   "points are not supported yet");
	expect_err("plugin_opt_foo bar\n",
		   "t.conf:1: mosquitto option 'plugin_opt_foo' is not supported by WardMQ: plugins "
		   "are not supported: authentication mechanisms are built in");
	/* the hint is given even without a value */
	expect_err("password_file\n",
		   "t.conf:1: mosquitto option 'password_file' is not supported by WardMQ: users and "
		   "credentials live in the store; manage them with wardmq_ctl");
}

TEST(error_buffer_edge_cases)
{
	struct wmq_config c;
	char tiny[8];
	ASSERT_EQ(parse_str("", &c, NULL), WMQ_OK); /* errbuf untouched on success */
	wmq_config_cleanup(&c);
	ASSERT_EQ(wmq_config_parse("t.conf", "bogus 1", 7, &c, NULL, 0), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_config_parse("t.conf", "bogus 1", 7, &c, tiny, sizeof tiny), WMQ_ERR_INVAL);
	ASSERT_STREQ(tiny, "t.conf:");
	ASSERT_EQ(wmq_config_parse("a-very-long-file-name.conf", "bogus 1", 7, &c, tiny, sizeof tiny),
		  WMQ_ERR_INVAL);
	ASSERT_EQ(strlen(tiny), 7);
	ASSERT_EQ(wmq_config_parse("t.conf", NULL, 0, &c, tiny, sizeof tiny), WMQ_OK);
	wmq_config_cleanup(&c);
	wmq_config_cleanup(NULL);
}

TEST(load_errors)
{
	struct wmq_config c;
	char err[ERRLEN];
	ASSERT_EQ(wmq_config_load("/nonexistent/wardmq.conf", &c, err, sizeof err), WMQ_ERR_IO);
	ASSERT_STREQ(err, "/nonexistent/wardmq.conf: cannot open: No such file or directory");
	ASSERT(c.listeners == NULL);
	ASSERT_EQ(wmq_config_load("/", &c, err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "/: is a directory");
}

TEST(load_file_and_size_cap)
{
	char path[] = "/tmp/wmq_config_test_XXXXXX";
	int fd = mkstemp(path);
	ASSERT(fd >= 0);
	FILE *f = fdopen(fd, "w");
	ASSERT(f != NULL);
	fputs("max_qos 1\nlistener 1884\n", f);
	ASSERT_EQ(fclose(f), 0);
	struct wmq_config c;
	char err[ERRLEN];
	ASSERT_EQ(wmq_config_load(path, &c, err, sizeof err), WMQ_OK);
	ASSERT_STREQ(c.path, path);
	ASSERT_EQ(c.max_qos, 1);
	ASSERT_EQ(c.listeners[0].port, 1884);
	wmq_config_cleanup(&c);

	/* an error names the file and line */
	f = fopen(path, "w");
	ASSERT(f != NULL);
	fputs("retain_available true\n\nmax_qos 9\n", f);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_EQ(wmq_config_load(path, &c, err, sizeof err), WMQ_ERR_INVAL);
	char want[256];
	snprintf(want, sizeof want, "%s:3: max_qos: '9' is out of range 0..2", path);
	ASSERT_STREQ(err, want);

	/* exactly 1 MiB loads, one byte more does not */
	static char line[64];
	memset(line, '#', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (int extra = 0; extra <= 1; extra++) {
		f = fopen(path, "w");
		ASSERT(f != NULL);
		for (int i = 0; i < (1024 * 1024) / 64; i++)
			ASSERT_EQ(fwrite(line, 1, sizeof line, f), sizeof line);
		if (extra)
			fputc('\n', f);
		ASSERT_EQ(fclose(f), 0);
		wmq_err rc = wmq_config_load(path, &c, err, sizeof err);
		if (!extra) {
			ASSERT_EQ(rc, WMQ_OK);
			wmq_config_cleanup(&c);
		} else {
			ASSERT_EQ(rc, WMQ_ERR_INVAL);
			snprintf(want, sizeof want, "%s: larger than 1048576 bytes", path);
			ASSERT_STREQ(err, want);
		}
	}
	unlink(path);
}

TEST(dump_shows_defaults_in_file_syntax)
{
	struct wmq_config c;
	parse_ok("", &c);
	char *d = capture_dump(&c);
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		char want[256];
		if (!o->def)
			continue;
		snprintf(want, sizeof want, "\n%s %s\n", o->name, o->def);
		if (!strstr(d, want))
			TEST_FAIL_("dump lacks \"%s %s\":\n%s", o->name, o->def, d);
	}
	ASSERT(strstr(d, "\nlistener 1883\n") != NULL);
	free(d);
	wmq_config_cleanup(&c);
}

TEST(dump_round_trip)
{
	struct wmq_config a, b;
	parse_ok(complex_conf, &a);
	char *d1 = capture_dump(&a);
	ASSERT(strstr(d1, "\nlog_dest file /var/log/wardmq/broker.log\n") != NULL);
	ASSERT(strstr(d1, "\npersistent_client_expiration 2w\n") != NULL);
	ASSERT(strstr(d1, "\nconnect_timeout 5\n") != NULL);
	ASSERT(strstr(d1, "\nlistener 8083 127.0.0.1\nprotocol websockets\n") != NULL);
	parse_ok(d1, &b);
	char *d2 = capture_dump(&b);
	/* the first line names the source, the rest must be identical */
	ASSERT_STREQ(strchr(d1, '\n'), strchr(d2, '\n'));
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, NULL, 0), 0);
	ASSERT_EQ(b.max_queued_bytes, 10000000000LL);
	ASSERT_EQ(b.listeners[1].max_connections, 20);
	free(d1);
	free(d2);
	wmq_config_cleanup(&a);
	wmq_config_cleanup(&b);

	ASSERT_EQ(wmq_config_default(&a), WMQ_OK);
	d1 = capture_dump(&a);
	ASSERT(strstr(d1, "# effective configuration (built-in defaults)\n") == d1);
	parse_ok(d1, &b);
	ASSERT_EQ(b.listeners[0].allow_anonymous, true);
	ASSERT_STREQ(b.listeners[0].address, "127.0.0.1");
	free(d1);
	wmq_config_cleanup(&a);
	wmq_config_cleanup(&b);
}

TEST(table_extremes_stored_exactly)
{
	/* the minimum and maximum of every numeric option survive the trip
	 * through its field (width and signedness) and back out of the dump */
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if (o->type != WMQ_OPT_INT && o->type != WMQ_OPT_SIZE &&
		    o->type != WMQ_OPT_SECONDS && o->type != WMQ_OPT_MILLIS)
			continue;
		for (int k = 0; k < 2; k++) {
			int64_t v = k ? o->max : o->min;
			bool lst = (o->scope & WMQ_SCOPE_LISTENER) != 0;
			char text[160];
			struct wmq_config c;
			snprintf(text, sizeof text, "%s%s %" PRId64 "\n", lst ? "listener 1\n" : "",
				 o->name, v);
			parse_ok(text, &c);
			const char *base = lst ? (const char *)&c.listeners[0] : (const char *)&c;
			int64_t unit = o->unit > 0 ? o->unit : 1;
			int64_t got = wmq_config_field_get(o, base + (lst ? o->loff : o->goff),
							   lst ? o->lsize : o->gsize);
			if (got != v * unit)
				TEST_FAIL_("%s %" PRId64 " stored as %" PRId64, o->name, v, got);
			char *d = capture_dump(&c);
			snprintf(text, sizeof text, "\n%s %" PRId64 "\n", o->name, v);
			if (!strstr(d, text))
				TEST_FAIL_("dump lacks%s", text);
			free(d);
			wmq_config_cleanup(&c);
		}
	}
}

TEST(secret_redacted)
{
	/* no option is secret yet: dump one through a secret copy of a row */
	struct wmq_opt o = *wmq_config_find("auto_id_prefix");
	o.flags |= WMQ_OPT_SECRET;
	struct wmq_config c;
	parse_ok("auto_id_prefix hunter2\n", &c);
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	ASSERT(f != NULL);
	wmq_config_dump_option(f, &o, &c, false);
	wmq_config_dump_option(f, wmq_config_find("auto_id_prefix"), &c, false);
	ASSERT_EQ(fclose(f), 0);
	ASSERT_STREQ(s, "auto_id_prefix <redacted>\nauto_id_prefix hunter2\n");
	free(s);
	wmq_config_cleanup(&c);
}

TEST(secret_values_not_in_errors)
{
	struct wmq_opt o = *wmq_config_find("max_qos");
	uint8_t v = 0;
	char err[ERRLEN];
	ASSERT_EQ(wmq_config_set_value(&o, &v, sizeof v, "hunter2", err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "max_qos: 'hunter2' is not an integer");
	o.flags |= WMQ_OPT_SECRET;
	ASSERT_EQ(wmq_config_set_value(&o, &v, sizeof v, "hunter2", err, sizeof err), WMQ_ERR_INVAL);
	ASSERT_STREQ(err, "max_qos: '<redacted>' is not an integer");
	ASSERT_EQ(wmq_config_set_value(&o, &v, sizeof v, "7", err, sizeof err), WMQ_ERR_INVAL);
	ASSERT(strstr(err, "'7'") == NULL);
	ASSERT_EQ(wmq_config_set_value(&o, &v, sizeof v, "1", err, sizeof err), WMQ_OK);
	ASSERT_EQ(v, 1);
}

TEST(allocation_failures)
{
	/* fail the 1st, 2nd, ... allocation: every path returns NOMEM with
	 * an empty config (ASan reports any leak) until the parse succeeds */
	int n;
	for (n = 1; n < 500; n++) {
		struct wmq_config c;
		char err[ERRLEN];
		wmq_alloc_fail_after(n);
		wmq_err rc = parse_str(complex_conf, &c, err);
		wmq_alloc_fail_after(0);
		if (rc == WMQ_OK) {
			wmq_config_cleanup(&c);
			break;
		}
		ASSERT_EQ(rc, WMQ_ERR_NOMEM);
		ASSERT_STREQ(err, "t.conf: out of memory");
		ASSERT(c.listeners == NULL && c.path == NULL && c.auto_id_prefix == NULL);
	}
	ASSERT(n > 10 && n < 500);
	for (n = 1; n < 100; n++) {
		struct wmq_config c;
		wmq_alloc_fail_after(n);
		wmq_err rc = wmq_config_default(&c);
		wmq_alloc_fail_after(0);
		if (rc == WMQ_OK) {
			wmq_config_cleanup(&c);
			break;
		}
		ASSERT_EQ(rc, WMQ_ERR_NOMEM);
		ASSERT(c.listeners == NULL);
	}
	ASSERT(n > 3 && n < 100);
}

TEST(doc_mentions_every_option)
{
	char *doc = capture_doc();
	for (size_t i = 0; i < wmq_config_option_count(); i++) {
		char want[128];
		snprintf(want, sizeof want, "\n### `%s`\n", wmq_config_option_name(i));
		if (!strstr(doc, want))
			TEST_FAIL_("doc lacks a section for %s", wmq_config_option_name(i));
		snprintf(want, sizeof want, "| [`%s`](#%s) |", wmq_config_option_name(i),
			 wmq_config_option_name(i));
		if (!strstr(doc, want))
			TEST_FAIL_("summary lacks %s", wmq_config_option_name(i));
	}
	ASSERT(strstr(doc, "\n## Migrating from mosquitto\n") != NULL);
	ASSERT(strstr(doc, "| `log_type` | use 'log_level'") != NULL);
	ASSERT(strstr(doc, "| Reloadable | no, restart needed |") != NULL);
	ASSERT(strstr(doc, "| Range | 0 .. 2 |") != NULL);
	free(doc);
}

TEST(doc_matches_committed_file)
{
	size_t len;
	char *want = read_whole(WMQ_SOURCE_DIR "/docs/CONFIG.md", &len);
	char *got = capture_doc();
	size_t glen = strlen(got), i = 0;
	while (i < len && i < glen && want[i] == got[i])
		i++;
	free(want);
	free(got);
	if (i != len || i != glen)
		TEST_FAIL_("docs/CONFIG.md differs from wmq_config_write_doc() at byte %zu (file "
			   "%zu bytes, generated %zu): regenerate it (wardmq --config-doc)",
			   i, len, glen);
}

TEST(example_file_loads)
{
	struct wmq_config c;
	char err[ERRLEN];
	wmq_err rc = wmq_config_load(WMQ_SOURCE_DIR "/wardmq.conf.example", &c, err, sizeof err);
	if (rc != WMQ_OK)
		TEST_FAIL_("%s", err);
	ASSERT_EQ(c.n_listeners, 1);
	ASSERT_EQ(c.listeners[0].port, 1883);
	ASSERT(c.listeners[0].address == NULL);
	ASSERT_EQ(c.listeners[0].allow_anonymous, false);
	ASSERT_EQ(c.persistent_client_expiration, 14 * 86400);
	wmq_config_cleanup(&c);
}

TEST(example_file_commented_options_parse)
{
	/* every "#option value" line shows a valid value: uncomment them all
	 * and the file must still parse, with the commented listeners added */
	size_t len;
	char *text = read_whole(WMQ_SOURCE_DIR "/wardmq.conf.example", &len);
	size_t uncommented = 0;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		char key[64];
		size_t k = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_");
		if (line[0] == '#' && k > 0 && k < sizeof key && line[1 + k] == ' ') {
			memcpy(key, line + 1, k);
			key[k] = '\0';
			if (wmq_config_find(key)) {
				line[0] = ' ';
				uncommented++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	ASSERT(uncommented > 25);
	struct wmq_config c;
	char err[ERRLEN];
	wmq_err rc = wmq_config_parse("example", text, len, &c, err, sizeof err);
	if (rc != WMQ_OK)
		TEST_FAIL_("%s", err);
	ASSERT_EQ(c.n_listeners, 3);
	ASSERT_EQ(c.listeners[1].protocol, WMQ_LISTENER_WEBSOCKETS);
	ASSERT_EQ(c.listeners[1].max_connections, 1000);
	ASSERT_EQ(c.listeners[2].allow_anonymous, true);
	ASSERT_STREQ(c.log_dest, "file:/var/log/wardmq/wardmq.log");
	wmq_config_cleanup(&c);
	free(text);
}

static const char tls_conf[] =
	"listener 1883\n"
	"listener 8883\n"
	"certfile /etc/wardmq/server.crt\n"
	"keyfile /etc/wardmq/server.key\n"
	"cafile /etc/wardmq/ca.crt\n"
	"capath /etc/ssl/certs\n"
	"crlfile /etc/wardmq/crl.pem\n"
	"tls_version tlsv1.3\n"
	"ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\n"
	"ciphers_tls1.3 TLS_AES_256_GCM_SHA384\n"
	"require_certificate true\n"
	"use_identity_as_username true\n"
	"identity_source san_uri\n"
	"crl_disconnect true\n"
	"listener 8884 127.0.0.1\n"
	"psk_hint wardmq devices\n"
	"use_identity_as_username true\n";

TEST(tls_listener_options)
{
	struct wmq_config c, d;
	parse_ok(tls_conf, &c);
	ASSERT_EQ(c.n_listeners, 3);
	const struct wmq_listener_cfg *plain = &c.listeners[0], *l = &c.listeners[1],
				      *psk = &c.listeners[2];
	ASSERT(!wmq_listener_is_tls(plain));
	ASSERT(plain->certfile == NULL && plain->cafile == NULL && plain->psk_hint == NULL);
	ASSERT_EQ(plain->tls_version, WMQ_TLS_MIN_V1_2);
	ASSERT_EQ(plain->identity_source, WMQ_IDSRC_CN);
	ASSERT_EQ(plain->require_certificate, false);
	ASSERT(wmq_listener_is_tls(l));
	ASSERT_STREQ(l->certfile, "/etc/wardmq/server.crt");
	ASSERT_STREQ(l->keyfile, "/etc/wardmq/server.key");
	ASSERT_STREQ(l->cafile, "/etc/wardmq/ca.crt");
	ASSERT_STREQ(l->capath, "/etc/ssl/certs");
	ASSERT_STREQ(l->crlfile, "/etc/wardmq/crl.pem");
	ASSERT_EQ(l->tls_version, WMQ_TLS_MIN_V1_3);
	ASSERT_STREQ(l->ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
	ASSERT_STREQ(l->ciphers_tls13, "TLS_AES_256_GCM_SHA384");
	ASSERT_EQ(l->require_certificate, true);
	ASSERT_EQ(l->use_identity_as_username, true);
	ASSERT_EQ(l->identity_source, WMQ_IDSRC_SAN_URI);
	ASSERT_EQ(l->crl_disconnect, true);
	ASSERT(l->psk_hint == NULL);
	ASSERT(wmq_listener_is_tls(psk));
	ASSERT_STREQ(psk->psk_hint, "wardmq devices");
	ASSERT(psk->certfile == NULL);
	ASSERT_EQ(psk->use_identity_as_username, true);

	/* the dump shows them (nothing here is secret) and reads back equal */
	char *d1 = capture_dump(&c);
	ASSERT(strstr(d1, "\nlistener 8883\n") != NULL);
	ASSERT(strstr(d1, "\ncertfile /etc/wardmq/server.crt\nkeyfile /etc/wardmq/server.key\n") !=
	       NULL);
	ASSERT(strstr(d1, "\nciphers_tls1.3 TLS_AES_256_GCM_SHA384\n") != NULL);
	ASSERT(strstr(d1, "\nidentity_source san_uri\n") != NULL);
	ASSERT(strstr(d1, "\ntls_version tlsv1.3\n") != NULL);
	ASSERT(strstr(d1, "\npsk_hint wardmq devices\n") != NULL);
	ASSERT(strstr(d1, "# certfile is not set\n") != NULL);
	ASSERT(strstr(d1, "<redacted>") == NULL);
	parse_ok(d1, &d);
	char *d2 = capture_dump(&d);
	ASSERT_STREQ(strchr(d1, '\n'), strchr(d2, '\n'));
	free(d1);
	free(d2);
	wmq_config_cleanup(&d);
	wmq_config_cleanup(&c);

	/* every identity_source word, psk_hint together with certfile */
	static const char *const words[] = {"cn", "subject", "san_dns", "san_email", "san_uri"};
	for (size_t i = 0; i < WMQ_ARRAY_LEN(words); i++) {
		char text[256];
		snprintf(text, sizeof text,
			 "listener 8883\ncertfile c\nkeyfile k\npsk_hint h\nidentity_source %s\n",
			 words[i]);
		parse_ok(text, &c);
		ASSERT_EQ(c.listeners[0].identity_source, (int)i);
		ASSERT_STREQ(c.listeners[0].psk_hint, "h");
		wmq_config_cleanup(&c);
	}

	/* allocation failures anywhere leave nothing behind (ASan checks) */
	int n;
	for (n = 1; n < 500; n++) {
		char err[ERRLEN];
		wmq_alloc_fail_after(n);
		wmq_err rc = parse_str(tls_conf, &c, err);
		wmq_alloc_fail_after(0);
		if (rc == WMQ_OK) {
			wmq_config_cleanup(&c);
			break;
		}
		ASSERT_EQ(rc, WMQ_ERR_NOMEM);
		ASSERT(c.listeners == NULL);
	}
	if (n < 15 || n >= 500)
		TEST_FAIL_("parse succeeded after %d allocations", n);
}

TEST(tls_listener_errors)
{
	expect_err("listener 8883\ncertfile /a.crt\n",
		   "t.conf:1: listener 8883: certfile is set without keyfile: give both certfile and "
		   "keyfile");
	expect_err("max_qos 1\nlistener 8883\nkeyfile /a.key\nlistener 1883\n",
		   "t.conf:2: listener 8883: keyfile is set without certfile: give both certfile and "
		   "keyfile");
	expect_err("listener 8883\ncertfile c\nkeyfile k\nrequire_certificate true\n",
		   "t.conf:1: listener 8883: require_certificate needs cafile or capath");
	expect_err("listener 8883\ncertfile c\nkeyfile k\ncrlfile crl.pem\n",
		   "t.conf:1: listener 8883: crlfile needs cafile or capath");
	expect_err("listener 8883\ncertfile c\nkeyfile k\nuse_identity_as_username true\n",
		   "t.conf:1: listener 8883: use_identity_as_username needs cafile or capath (to "
		   "verify client certificates) or psk_hint");
	expect_err("listener 1883\n\ncafile /ca.crt\n",
		   "t.conf:1: listener 1883: cafile is set but the listener does not use TLS: give "
		   "certfile and keyfile, or psk_hint");
	expect_err("listener 1883\ntls_version tlsv1.3\n",
		   "t.conf:1: listener 1883: tls_version is set but the listener does not use TLS: "
		   "give certfile and keyfile, or psk_hint");
	expect_err("listener 8883\ntls_version tlsv1.1\n",
		   "t.conf:2: tls_version: 'tlsv1.1' is not one of tlsv1.2, tlsv1.3");
	expect_err("listener 8883\nidentity_source ou\n",
		   "t.conf:2: identity_source: 'ou' is not one of cn, subject, san_dns, san_email, "
		   "san_uri");
	expect_err("certfile /a.crt\n",
		   "t.conf:1: 'certfile' is a listener option: it must follow a 'listener PORT' line");
	expect_err("listener 8883\ncertfile a\ncertfile b\n",
		   "t.conf:3: 'certfile' given twice in the same listener section (first on line 2)");
	expect_err("listener 8883\nuse_subject_as_username true\n",
		   "t.conf:2: mosquitto option 'use_subject_as_username' is not supported by WardMQ: "
		   "use 'use_identity_as_username true' with 'identity_source subject'");
	expect_err("listener 8883\npsk_hint \xff\n", "t.conf:2: psk_hint: value is not valid UTF-8");

	/* fine: require_certificate with capath only, use_identity with PSK */
	struct wmq_config c;
	parse_ok("listener 8883\ncertfile c\nkeyfile k\ncapath /d\nrequire_certificate true\n"
		 "listener 8884\npsk_hint h\nuse_identity_as_username true\n",
		 &c);
	wmq_config_cleanup(&c);
}

TEST(tls_reload_classification)
{
	struct wmq_config a, b;
	char buf[256];
	parse_ok("listener 8883\ncertfile /a.crt\nkeyfile /a.key\ncafile /ca\n", &a);
	/* new certificate, CA, CRL, versions, ciphers, identity: all reloadable */
	parse_ok("listener 8883\ncertfile /b.crt\nkeyfile /b.key\ncafile /ca2\ncrlfile /crl\n"
		 "tls_version tlsv1.3\nciphers HIGH\nciphers_tls1.3 TLS_AES_128_GCM_SHA256\n"
		 "require_certificate true\nuse_identity_as_username true\nidentity_source subject\n"
		 "psk_hint h\ncrl_disconnect true\n",
		 &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 0);
	wmq_config_cleanup(&b);
	/* turning TLS off (or on) changes what the port speaks: restart */
	parse_ok("listener 8883\n", &b);
	ASSERT_EQ(wmq_config_nonreloadable_changes(&a, &b, buf, sizeof buf), 1);
	ASSERT_STREQ(buf, "listener");
	ASSERT_EQ(wmq_config_nonreloadable_changes(&b, &a, buf, sizeof buf), 1);
	wmq_config_cleanup(&b);
	wmq_config_cleanup(&a);
}

TEST(websockets_options)
{
	struct wmq_config c;
	parse_ok("websockets_headers_size 16384\n"
		 "listener 1883\n"
		 "listener 8083\nprotocol websockets\n"
		 "websockets_origin https://a.example\n"
		 "websockets_origin http://b.example:8080 https://c.example\n"
		 "websockets_trust_forwarded true\n"
		 "listener 8084\nprotocol websockets\nwebsockets_path *\n",
		 &c);
	ASSERT_EQ(c.websockets_headers_size, 16384);
	ASSERT_EQ(c.n_listeners, 3);
	ASSERT_STREQ(c.listeners[0].ws_path, "/mqtt"); /* default everywhere */
	ASSERT(c.listeners[0].ws_origins == NULL);
	ASSERT_EQ(c.listeners[1].protocol, WMQ_LISTENER_WEBSOCKETS);
	/* a repeated websockets_origin appends */
	ASSERT_STREQ(c.listeners[1].ws_origins,
		     "https://a.example http://b.example:8080 https://c.example");
	ASSERT_EQ(c.listeners[1].ws_trust_forwarded, true);
	ASSERT_STREQ(c.listeners[2].ws_path, "*");
	ASSERT_EQ(c.listeners[2].ws_trust_forwarded, false);
	wmq_config_cleanup(&c);
	parse_ok("max_qos 1\n", &c);
	ASSERT_EQ(c.websockets_headers_size, 8192);
	wmq_config_cleanup(&c);
	expect_err("listener 1883\nwebsockets_origin https://a.example\n",
		   "t.conf:1: listener 1883: websockets_origin is set but the listener is not "
		   "'protocol websockets'");
	expect_err("listener 1883\nwebsockets_path /x\n",
		   "t.conf:1: listener 1883: websockets_path is set but the listener is not "
		   "'protocol websockets'");
	expect_err("listener 1883\nprotocol websockets\nwebsockets_path mqtt\n",
		   "t.conf:1: listener 1883: websockets_path must be '*' or start with '/' "
		   "(no spaces, '?' or '#')");
	expect_err("listener 1883\nprotocol websockets\nwebsockets_origin example.com\n",
		   "t.conf:1: listener 1883: websockets_origin 'example.com' is not an http:// or "
		   "https:// origin");
	expect_err("websockets_headers_size 70000\n",
		   "t.conf:1: websockets_headers_size: '70000' is out of range 0..65536");
	expect_err("websockets_trust_forwarded true\n",
		   "t.conf:1: 'websockets_trust_forwarded' is a listener option: it must follow a "
		   "'listener PORT' line");
}

static const struct wmq_test tests[] = {
	{"builtin_default", builtin_default},
	{"tls_listener_options", tls_listener_options},
	{"tls_listener_errors", tls_listener_errors},
	{"tls_reload_classification", tls_reload_classification},
	{"empty_file_defaults", empty_file_defaults},
	{"table_is_consistent", table_is_consistent},
	{"log_level_words_match_enum", log_level_words_match_enum},
	{"bool_values", bool_values},
	{"int_values_and_junk", int_values_and_junk},
	{"int_range_and_overflow", int_range_and_overflow},
	{"max_connections_signed", max_connections_signed},
	{"size_above_32_bits", size_above_32_bits},
	{"seconds_stored_as_ms", seconds_stored_as_ms},
	{"milliseconds", milliseconds},
	{"mosquitto_duration_syntax", mosquitto_duration_syntax},
	{"enum_values", enum_values},
	{"log_dest_forms", log_dest_forms},
	{"string_and_path", string_and_path},
	{"listener_sections", listener_sections},
	{"implicit_listener_inherits", implicit_listener_inherits},
	{"listener_option_scope", listener_option_scope},
	{"listener_values", listener_values},
	{"duplicate_listener", duplicate_listener},
	{"too_many_listeners", too_many_listeners},
	{"duplicate_options", duplicate_options},
	{"set_port_override", set_port_override},
	{"set_port_nomem_keeps_config", set_port_nomem_keeps_config},
	{"reload_classification", reload_classification},
	{"websockets_options", websockets_options},
	{"comments_blank_lines_whitespace", comments_blank_lines_whitespace},
	{"long_line", long_line},
	{"nul_byte", nul_byte},
	{"unknown_and_missing", unknown_and_missing},
	{"mosquitto_only_keys", mosquitto_only_keys},
	{"error_buffer_edge_cases", error_buffer_edge_cases},
	{"load_errors", load_errors},
	{"load_file_and_size_cap", load_file_and_size_cap},
	{"dump_shows_defaults_in_file_syntax", dump_shows_defaults_in_file_syntax},
	{"dump_round_trip", dump_round_trip},
	{"table_extremes_stored_exactly", table_extremes_stored_exactly},
	{"secret_redacted", secret_redacted},
	{"secret_values_not_in_errors", secret_values_not_in_errors},
	{"allocation_failures", allocation_failures},
	{"doc_mentions_every_option", doc_mentions_every_option},
	{"doc_matches_committed_file", doc_matches_committed_file},
	{"example_file_loads", example_file_loads},
	{"example_file_commented_options_parse", example_file_commented_options_parse},
};

WMQ_TEST_MAIN(tests)
