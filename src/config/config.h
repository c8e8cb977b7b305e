/* SPDX-License-Identifier: MIT
 * config.h - the broker's configuration: one table of options, a parser for
 * mosquitto-style files, and the documentation generated from the table.
 *
 * Role: every option has a name, type, range, default, scope (global and/or
 * listener), and flags (reloadable on SIGHUP, secret = never logged,
 * repeatable). Option names follow mosquitto wherever an equivalent exists.
 * The file format is "key value" lines; '#' starts a comment line; blank
 * lines are ignored; "listener PORT [ADDRESS]" starts a listener section and
 * listener-scoped options that follow apply to it. Options given at global
 * scope before any listener set defaults inherited by every listener.
 * Unknown keys, bad values, out-of-range numbers, duplicates of
 * non-repeatable options: an error naming the file and line.
 * Threading: plain data; the broker owns one instance and swaps it on reload.
 * Ownership: wmq_config_cleanup() frees everything the config owns. */
#ifndef WMQ_CONFIG_CONFIG_H
#define WMQ_CONFIG_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

enum wmq_durability {
	WMQ_DURABILITY_STRICT = 0,
	WMQ_DURABILITY_BATCHED = 1,
	WMQ_DURABILITY_NONE = 2,
};

enum wmq_listener_proto {
	WMQ_LISTENER_MQTT = 0,
	WMQ_LISTENER_WEBSOCKETS = 1,
};

/* Minimum TLS version of a listener (order = the words tlsv1.2, tlsv1.3,
 * and = enum wmq_tls_version in net/tls.h). */
enum wmq_tls_min_version {
	WMQ_TLS_MIN_V1_2 = 0,
	WMQ_TLS_MIN_V1_3 = 1,
};

/* Which client-certificate field is the identity (order = the words cn,
 * subject, san_dns, san_email, san_uri, and = enum wmq_tls_identity). */
enum wmq_identity_source {
	WMQ_IDSRC_CN = 0,
	WMQ_IDSRC_SUBJECT = 1,
	WMQ_IDSRC_SAN_DNS = 2,
	WMQ_IDSRC_SAN_EMAIL = 3,
	WMQ_IDSRC_SAN_URI = 4,
};

/* What happens to a client an authorization rule denies (order = the words
 * reason_code, disconnect). */
enum wmq_deny_action {
	WMQ_DENY_REASON_CODE = 0, /* v5: 0x87 in the ack; 3.1.1: SUBACK 0x80, ack-and-drop */
	WMQ_DENY_DISCONNECT = 1,  /* v5: DISCONNECT 0x87; 3.1.1: close */
};

/* Whether the store's ACL rules are enforced (order = the words auto,
 * rules, off). */
enum wmq_authorization {
	WMQ_AUTHZ_AUTO = 0,  /* once the store holds a rule */
	WMQ_AUTHZ_RULES = 1, /* always; no rule at start is an error */
	WMQ_AUTHZ_OFF = 2,   /* never */
};

struct wmq_listener_cfg {
	uint16_t port;          /* 0 = ephemeral (tests) */
	char *address;          /* NULL = all interfaces ("0.0.0.0" and "::") */
	enum wmq_listener_proto protocol;
	bool allow_anonymous;   /* inherited from global, default false with a file */
	long max_connections;   /* -1 = unlimited */
	char *mount_point;      /* NULL = none (reserved for later) */
	int line;               /* line of the "listener" statement, for messages */

	/* TLS: the listener speaks TLS when certfile (with keyfile) or psk_hint
	 * is set (wmq_listener_is_tls()). Paths are owned strings, NULL = unset.
	 * Checked at parse time: certfile and keyfile together; require_certificate,
	 * crlfile and use_identity_as_username need cafile or capath (the last
	 * one psk_hint instead); TLS-only options need a TLS listener. */
	char *certfile;         /* PEM server certificate (chain) */
	char *keyfile;          /* PEM private key, unencrypted */
	char *cafile;           /* PEM CAs for client certificates */
	char *capath;           /* directory of hashed CA certificates */
	char *crlfile;          /* PEM CRL(s), checked for the whole chain */
	enum wmq_tls_min_version tls_version;
	char *ciphers;          /* TLS 1.2 cipher list, NULL = OpenSSL default */
	char *ciphers_tls13;    /* TLS 1.3 ciphersuites, NULL = default */
	bool require_certificate;
	bool use_identity_as_username; /* certificate / PSK identity is the username */
	enum wmq_identity_source identity_source;
	char *psk_hint;         /* enables TLS-PSK (keys from the store) */
	bool crl_disconnect;    /* on reload, drop live sessions the new CRL revokes */
	enum wmq_deny_action deny_action; /* authorization denials */

	/* protocol websockets only (checked at parse time) */
	char *ws_path;          /* accepted request path, "*" = any */
	char *ws_origins;       /* space-separated Origin allow-list, NULL = any */
	bool ws_trust_forwarded; /* client address from X-Forwarded-For */
};

/* Whether |l| is a TLS listener (certificate or PSK). */
static inline bool wmq_listener_is_tls(const struct wmq_listener_cfg *l)
{
	return l->certfile != NULL || l->psk_hint != NULL;
}

struct wmq_config {
	char *path; /* file it was read from, NULL for the built-in default */

	/* listeners */
	struct wmq_listener_cfg *listeners;
	size_t n_listeners;
	bool allow_anonymous;            /* default for listeners (top-level value) */
	size_t websockets_headers_size;  /* upgrade request limit, 0 = default */

	/* connection limits (applied before authentication where possible) */
	long max_connections;            /* global, -1 unlimited */
	uint32_t connect_timeout_ms;     /* CONNECT must arrive within this */
	uint32_t max_packet_size;        /* bytes, after CONNECT has completed */
	uint32_t max_packet_size_pre_connect; /* bytes, until CONNECT completed */
	uint16_t max_keepalive;          /* seconds; v5 gets Server Keep Alive */
	uint16_t max_inflight_messages;  /* outgoing QoS 1/2 window, and our Receive Maximum */
	uint32_t max_queued_messages;    /* per session, QoS 1/2 (and QoS 0 if queued) */
	uint64_t max_queued_bytes;       /* per session, 0 = unlimited */
	bool queue_qos0_messages;        /* queue QoS 0 for offline persistent sessions */
	uint32_t max_write_buffer;       /* bytes pending on a socket before QoS 0 drops */
	uint16_t max_topic_alias;        /* our Topic Alias Maximum (client -> broker) */
	uint32_t max_topic_length;       /* bytes */
	uint32_t max_topic_levels;
	uint32_t max_subscriptions_per_client; /* 0 = unlimited */
	uint32_t max_user_properties;    /* per packet */
	uint8_t max_qos;                 /* 0..2 */
	bool retain_available;
	bool allow_zero_length_clientid;
	char *auto_id_prefix;            /* prefix of server-assigned client ids */
	int64_t persistent_client_expiration; /* seconds, -1 = never; 3.1.1 persistent sessions */
	uint32_t sys_interval;           /* seconds between $SYS updates, 0 = off */
	bool set_tcp_nodelay;

	/* brute-force defence (security/defence.h; docs/SECURITY.md) */
	uint32_t max_connection_rate;    /* new connections per address per second, 0 = no limit */
	uint32_t connection_burst;       /* token bucket size */
	uint32_t auth_backoff_free;      /* failures per (address, username) without delay */
	uint32_t auth_backoff_base_ms;
	uint32_t auth_backoff_max_ms;
	uint32_t auth_lockout_after;     /* 0 = never */
	uint32_t auth_lockout_ms;
	uint32_t auth_addr_backoff_free; /* same, per address */
	uint32_t auth_addr_backoff_base_ms;
	uint32_t auth_addr_backoff_max_ms;
	uint32_t auth_addr_lockout_after;
	uint32_t auth_addr_lockout_ms;
	uint32_t auth_failure_decay_ms;  /* one failure forgotten per quiet period */
	uint32_t auth_max_hold_ms;       /* longest back-off a CONNECT is held for */

	/* persistence (issue: durable state) */
	bool persistence;                /* false = memory only */
	char *persistence_file;          /* SQLite database path */
	enum wmq_durability durability;
	uint32_t durability_interval_ms; /* batched mode commit interval */
	char *admin_socket;              /* wardmq_ctl's online channel, NULL = none */

	/* logging */
	int log_level;                   /* enum wmq_log_level */
	char *log_dest;                  /* "stderr", "stdout", "none" or "file:PATH" */
	bool log_timestamp;
	char *audit_file;                /* tamper-evident audit log, NULL = none */
	enum wmq_authorization authorization; /* ACL rules of the store */
	uint32_t auth_threads;           /* auth pool threads, 0 = CPUs - 1 (at least 2) */
	bool db_from_cli;                /* --db FILE set persistence (kept on SIGHUP) */
};

/* Fill |cfg| with the built-in defaults: no file, one listener on
 * 127.0.0.1:1883 with anonymous access allowed. */
WMQ_MUST_USE wmq_err wmq_config_default(struct wmq_config *cfg);

/* Parse |path| into |cfg| (which is initialised here). On error returns
 * WMQ_ERR_INVAL (or NOMEM / IO) and writes "FILE:LINE: message" into errbuf.
 * A file with no listener gets one on port 1883 (all interfaces) with the
 * global allow_anonymous (default false). */
WMQ_MUST_USE wmq_err wmq_config_load(const char *path, struct wmq_config *cfg, char *errbuf,
				     size_t errlen);
/* Same, from a memory buffer; |name| is used in messages. */
WMQ_MUST_USE wmq_err wmq_config_parse(const char *name, const char *text, size_t len,
				      struct wmq_config *cfg, char *errbuf, size_t errlen);

/* Apply "-p PORT" from the command line: replaces the listeners with one on
 * PORT (all interfaces when a file was given, 127.0.0.1 otherwise), keeping
 * the other settings. */
WMQ_MUST_USE wmq_err wmq_config_set_port(struct wmq_config *cfg, uint16_t port);

/* Options that differ between |old| and |new_cfg| and cannot be reloaded:
 * writes their names (comma separated) into buf; returns the count. */
size_t wmq_config_nonreloadable_changes(const struct wmq_config *old,
					const struct wmq_config *new_cfg, char *buf, size_t len);

void wmq_config_cleanup(struct wmq_config *cfg);

/* Write the configuration reference (Markdown) generated from the table. */
void wmq_config_write_doc(FILE *out);
/* Write the effective configuration, secrets redacted, one "key value" per
 * line (for --test-config -v and the startup log). */
void wmq_config_dump(const struct wmq_config *cfg, FILE *out);

/* The option table, for tests and tooling: the number of options and the
 * name of option |i| (NULL when i is out of range). */
size_t wmq_config_option_count(void);
const char *wmq_config_option_name(size_t i);

#endif
