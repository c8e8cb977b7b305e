/* SPDX-License-Identifier: MIT
 * config_table.c - the option table: every configuration option WardMQ
 * accepts, with its type, range, default, scope, flags and documentation.
 *
 * Role: the single source of truth for the parser (config.c), the dump and
 * the generated reference docs/CONFIG.md (config_doc.c). Adding an option
 * means adding a field to struct wmq_config or struct wmq_listener_cfg, a row
 * here, bumping WMQ_CONFIG_N_OPTIONS, and regenerating docs/CONFIG.md (the
 * unit test compares it byte for byte).
 * Threading: const data. Ownership: none. */
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "config/config_int.h"

/* Field locators: offset and size of a member. */
#define G(f) offsetof(struct wmq_config, f), sizeof(((struct wmq_config *)0)->f)
#define L(f) offsetof(struct wmq_listener_cfg, f), sizeof(((struct wmq_listener_cfg *)0)->f)
#define NOG 0, 0
#define NOL 0, 0

#define R WMQ_OPT_RELOADABLE
#define U32MAX ((int64_t)UINT32_MAX)

static const char *const proto_words[] = {"mqtt", "websockets", NULL};
static const char *const tls_version_words[] = {"tlsv1.2", "tlsv1.3", NULL};
/* Index = enum wmq_identity_source (and enum wmq_tls_identity). */
static const char *const identity_words[] = {"cn", "subject", "san_dns", "san_email", "san_uri",
					     NULL};
/* Index = enum wmq_deny_action. */
static const char *const deny_action_words[] = {"reason_code", "disconnect", NULL};
static const char *const durability_words[] = {"strict", "batched", "none", NULL};
/* Index = enum wmq_authorization. */
static const char *const authorization_words[] = {"auto", "rules", "off", NULL};
/* Index = enum wmq_log_level (the unit test checks wmq_log_level_parse). */
static const char *const log_level_words[] = {"error", "warning", "notice", "info", "debug", NULL};

const char *const wmq_config_group_titles[WMQ_GROUP__COUNT] = {
	[WMQ_GROUP_LISTENERS] = "Listeners",
	[WMQ_GROUP_TLS] = "TLS",
	[WMQ_GROUP_CONNECTIONS] = "Connections",
	[WMQ_GROUP_PACKETS] = "Packets, messages and queues",
	[WMQ_GROUP_TOPICS] = "Topics and subscriptions",
	[WMQ_GROUP_SESSIONS] = "Client identifiers and sessions",
	[WMQ_GROUP_PERSISTENCE] = "Persistence",
	[WMQ_GROUP_LOGGING] = "Logging",
	[WMQ_GROUP_DEFENCE] = "Brute-force defence",
};

/* clang-format off */
const struct wmq_opt wmq_config_options[] = {
	/* ---- listeners ---- */
	{"listener", WMQ_OPT_LISTENER, WMQ_SCOPE_GLOBAL, WMQ_OPT_REPEATABLE, WMQ_GROUP_LISTENERS,
	 0, 65535, 1, NULL, NULL, NOG, NOL, "",
	 "Starts a listener section: `listener PORT [ADDRESS]`. PORT is 0..65535 (0 asks the kernel "
	 "for an ephemeral port, for tests); ADDRESS is an IPv4 or IPv6 literal or a host name, and "
	 "without it the listener binds every interface. Listener options that follow, up to the next "
	 "`listener` line, apply to this listener only. Two listeners on the same port and address (or "
	 "one on every interface and one on a specific address of the same port) are an error. A file "
	 "without any `listener` line gets one on port 1883 on every interface; the built-in "
	 "configuration used when no file is given listens on 127.0.0.1:1883 only."},
	{"protocol", WMQ_OPT_ENUM, WMQ_SCOPE_LISTENER, 0, WMQ_GROUP_LISTENERS,
	 0, 0, 1, proto_words, "mqtt", NOG, L(protocol), "",
	 "Transport of the current listener: `mqtt` (MQTT over TCP, or TLS with `certfile`) or "
	 "`websockets` (MQTT over WebSocket, RFC 6455: `ws://`, or `wss://` with `certfile`, where "
	 "client certificates work as on an MQTT TLS listener). A WebSocket listener answers the "
	 "HTTP upgrade on `websockets_path` with the subprotocol `mqtt` (or `mqttv3.1`); MQTT "
	 "packets travel in binary frames, may span frames and share them. `connect_timeout` and "
	 "`max_packet_size_pre_connect` cover the HTTP handshake as they cover CONNECT."},
	{"allow_anonymous", WMQ_OPT_BOOL, WMQ_SCOPE_BOTH, R, WMQ_GROUP_LISTENERS,
	 0, 0, 1, NULL, "false", G(allow_anonymous), L(allow_anonymous), "",
	 "Whether clients that present no credentials may connect. With a configuration file the "
	 "default is `false`; the built-in configuration used when no file is given sets it to `true` "
	 "(and listens on loopback only), as mosquitto 2 does. At top level it sets the default for "
	 "every listener; inside a listener section it applies to that listener."},
	{"authorization", WMQ_OPT_ENUM, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_LISTENERS,
	 0, 0, 1, authorization_words, "auto", G(authorization), NOL, NULL,
	 "Whether the ACL rules of the store (`wardmq_ctl rule ...`) are enforced. `rules`: always; "
	 "the broker refuses to start when the store holds no rule (an empty policy is an error, "
	 "never allow-all), and a running broker whose rules are all deleted denies everything. "
	 "`auto`: enforced once the store holds a rule; before that every authenticated client may "
	 "do everything (logged as a warning at start); once enforced, deleting every rule denies "
	 "everything until a restart. `off`: nothing is checked (authentication still applies). "
	 "Needs a store (`persistence true` or `--db`) unless `off` or `auto`."},
	{"auth_threads", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_LISTENERS,
	 0, 32, 1, NULL, "0", G(auth_threads), NOL, NULL,
	 "Threads of the authentication pool, where passwords are verified (Argon2id costs tens of "
	 "milliseconds of CPU each, so this bounds the rate of fresh password logins; repeated "
	 "logins are answered from the verification cache). `0` (the default): the number of CPUs "
	 "minus one, at least 2, so that a storm of logins leaves a CPU to the worker. Each thread "
	 "holds its own database handle and, while hashing, the Argon2id memory (19 MiB with the "
	 "default parameters)."},
	{"deny_action", WMQ_OPT_ENUM, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_LISTENERS,
	 0, 0, 1, deny_action_words, "reason_code", NOG, L(deny_action), NULL,
	 "What the listener does when an authorization rule denies a client (see docs/SECURITY.md): "
	 "`reason_code` answers MQTT 5 clients with reason code 0x87 (Not authorized) in the "
	 "PUBACK, PUBREC or SUBACK (a denied QoS 0 PUBLISH is dropped) and MQTT 3.1.1 clients with "
	 "SUBACK 0x80 for a denied filter and an acknowledged but dropped PUBLISH; `disconnect` "
	 "closes the connection (MQTT 5: DISCONNECT 0x87 first). Rules exist only with persistence "
	 "(the identity store)."},
	{"max_connections", WMQ_OPT_INT, WMQ_SCOPE_BOTH, R, WMQ_GROUP_LISTENERS,
	 -1, INT32_MAX, 1, NULL, "-1", G(max_connections), L(max_connections), "",
	 "Maximum number of simultaneous client connections; `-1` means unlimited. At top level it "
	 "sets the default for every listener; inside a listener section it limits that listener. "
	 "Connections beyond the limit are closed before any byte of MQTT is read."},

	{"websockets_path", WMQ_OPT_STRING, WMQ_SCOPE_LISTENER, 0, WMQ_GROUP_LISTENERS,
	 0, 0, 1, NULL, "/mqtt", NOG, L(ws_path), NULL,
	 "Request path a `protocol websockets` listener accepts (the query string is ignored); "
	 "other paths are answered with HTTP 404. `*` accepts any path, as mosquitto does. The "
	 "default `/mqtt` is what MQTT.js, Paho JavaScript and most dashboards use."},
	{"websockets_origin", WMQ_OPT_STRING, WMQ_SCOPE_LISTENER, WMQ_OPT_REPEATABLE,
	 WMQ_GROUP_LISTENERS, 0, 0, 1, NULL, NULL, NOG, L(ws_origins), NULL,
	 "Allow-list of browser origins for a `protocol websockets` listener, for example "
	 "`websockets_origin https://app.example.com`. Repeat the line (or give several origins "
	 "separated by spaces) to allow more; each is `http://` or `https://` followed by a host "
	 "and optional port, compared case-insensitively with the request's `Origin` header. A "
	 "request with another Origin is answered with HTTP 403. Requests without an Origin header "
	 "(non-browser clients) are accepted. Unset: any origin."},
	{"websockets_trust_forwarded", WMQ_OPT_BOOL, WMQ_SCOPE_LISTENER, 0, WMQ_GROUP_LISTENERS,
	 0, 0, 1, NULL, "false", NOG, L(ws_trust_forwarded), NULL,
	 "For a `protocol websockets` listener behind a reverse proxy: take the client's address "
	 "from the first address of the `X-Forwarded-For` header of the upgrade request and use it "
	 "instead of the proxy's address in the log and the audit log (the proxy's address is "
	 "logged once when the upgrade completes). Only enable it when every connection to the "
	 "listener comes through a proxy you run: a client can write any X-Forwarded-For header."},
	{"websockets_headers_size", WMQ_OPT_SIZE, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_LISTENERS,
	 0, 65536, 1, NULL, "8192", G(websockets_headers_size), NOL,
	 "same meaning (the size limit of the HTTP upgrade request), but the default is 8192 bytes "
	 "(mosquitto: 1024) and 0 means that default",
	 "Largest HTTP upgrade request (request line and headers) a `protocol websockets` listener "
	 "reads, in bytes; a longer request is answered with HTTP 431 and the connection closed. "
	 "0 means the default, 8192. Browsers may send large Cookie headers: raise it if upgrades "
	 "from a browser are refused with 431."},

	/* ---- TLS (listener scope; see docs/TLS.md) ---- */
	{"certfile", WMQ_OPT_PATH, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(certfile), "",
	 "PEM file with the server certificate, optionally followed by intermediate CA certificates "
	 "(leaf first). Setting it (with `keyfile`) makes the listener a TLS listener (MQTT over "
	 "TLS). `certfile` and `keyfile` must be given "
	 "together. The file is read again on SIGHUP; a file that cannot be read or does not match "
	 "`keyfile` keeps the previous certificate in force and is logged. An expired or not yet "
	 "valid server certificate is accepted with a warning in the log."},
	{"keyfile", WMQ_OPT_PATH, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(keyfile),
	 "same meaning; encrypted (password-protected) keys are refused rather than prompted for",
	 "PEM file with the private key of `certfile` (RSA, EC or Ed25519, not encrypted). It must "
	 "match the certificate; a mismatch is an error naming both files. Only the path appears in "
	 "logs and in `--test-config -v`, never the key. Reloaded on SIGHUP with `certfile`."},
	{"cafile", WMQ_OPT_PATH, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(cafile), "",
	 "PEM file of the CA certificates that issue client certificates. With `cafile` or `capath` "
	 "the listener asks clients for a certificate and verifies any it gets (chain, validity "
	 "dates, extended key usage clientAuth, CRL); with `require_certificate true` a client "
	 "without a valid certificate is refused. Reloaded on SIGHUP for new connections."},
	{"capath", WMQ_OPT_PATH, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(capath), "",
	 "Directory of CA certificates named by subject hash (as made by `openssl rehash` or "
	 "`c_rehash`), used like `cafile`; both may be given."},
	{"crlfile", WMQ_OPT_PATH, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(crlfile),
	 "same meaning, but reloaded on SIGHUP (mosquitto needs a restart)",
	 "PEM file of certificate revocation lists. Every certificate of a client's chain is "
	 "checked, so the file must hold a current CRL from each CA that issues client or "
	 "intermediate certificates; a missing or expired CRL refuses those clients. Needs "
	 "`cafile` or `capath`. Read again on SIGHUP: a certificate the new CRL revokes is refused "
	 "at its next connection, and with `crl_disconnect true` its live sessions are dropped."},
	{"tls_version", WMQ_OPT_ENUM, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, tls_version_words, "tlsv1.2", NOG, L(tls_version),
	 "same meaning (the lowest version accepted); `tlsv1.1` is not accepted",
	 "Lowest TLS version the listener accepts: `tlsv1.2` (TLS 1.2 and 1.3) or `tlsv1.3` "
	 "(TLS 1.3 only)."},
	{"ciphers", WMQ_OPT_STRING, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(ciphers), "",
	 "TLS 1.2 cipher list in OpenSSL syntax, for example "
	 "`ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256`. Unset: the system's OpenSSL "
	 "default. A list that matches no cipher is an error. A PSK listener that must serve TLS 1.2 "
	 "clients needs PSK ciphers in it (OpenSSL's default list has them)."},
	{"ciphers_tls1.3", WMQ_OPT_STRING, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(ciphers_tls13), "",
	 "TLS 1.3 ciphersuites in OpenSSL syntax, for example "
	 "`TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256`. Unset: OpenSSL's default, except "
	 "that a listener with `psk_hint` puts the SHA-256 suites first, which TLS 1.3 PSK clients "
	 "need."},
	{"require_certificate", WMQ_OPT_BOOL, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, "false", NOG, L(require_certificate),
	 "same meaning; WardMQ also asks for (and verifies) an optional certificate whenever "
	 "`cafile` or `capath` is set",
	 "Refuse clients that do not present a valid certificate issued by `cafile`/`capath` (which "
	 "this option needs). When `false`, a client may connect without a certificate (and then "
	 "authenticates otherwise), but a certificate it does present must still be valid."},
	{"use_identity_as_username", WMQ_OPT_BOOL, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, "false", NOG, L(use_identity_as_username),
	 "same meaning; the certificate field is chosen by `identity_source` (CN by default, as in "
	 "mosquitto), and on a PSK connection the PSK identity is the username",
	 "Use the verified client certificate's identity (the field chosen by `identity_source`), "
	 "or the PSK identity on a PSK connection, as the client's username; a username in CONNECT "
	 "is then ignored. The identity must be valid UTF-8 without `+` or `#`, or the connection "
	 "is refused. Needs `cafile`/`capath` or `psk_hint`."},
	{"identity_source", WMQ_OPT_ENUM, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, identity_words, "cn", NOG, L(identity_source), NULL,
	 "Which field of the client certificate is the client's identity: `cn` (the subject common "
	 "name; a subject with more than one CN is refused), `subject` (the whole subject in RFC 2253 "
	 "form, `CN=dev1,O=Example`, as mosquitto's `use_subject_as_username`), `san_dns`, "
	 "`san_email` or `san_uri` (the first subject alternative name of that kind, for example a "
	 "SPIFFE id `spiffe://example.org/device/1`)."},
	{"psk_hint", WMQ_OPT_STRING, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, NULL, NOG, L(psk_hint),
	 "same meaning; the identities and keys live in the store (wardmq_ctl), there is no "
	 "`psk_file`",
	 "Turns on TLS-PSK (pre-shared keys, TLS 1.2 PSK ciphers and TLS 1.3 external PSKs) and is "
	 "sent to TLS 1.2 clients as the identity hint. May be combined with `certfile`: clients "
	 "then use either a PSK or the server certificate. The identities and keys come from the "
	 "identity store (`wardmq_ctl psk add`), read at start and on SIGHUP, so the listener needs "
	 "`persistence true` or `--db`."},
	{"crl_disconnect", WMQ_OPT_BOOL, WMQ_SCOPE_LISTENER, R, WMQ_GROUP_TLS,
	 0, 0, 1, NULL, "false", NOG, L(crl_disconnect), NULL,
	 "On SIGHUP, after a new `crlfile` is loaded, also disconnect the live sessions of this "
	 "listener whose client certificate the new CRL revokes. When `false`, a revoked client "
	 "keeps its current connection and is refused when it next connects."},

	/* ---- connections ---- */
	{"connect_timeout", WMQ_OPT_SECONDS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_CONNECTIONS,
	 1, 3600, 1000, NULL, "10", G(connect_timeout_ms), NOL, NULL,
	 "Seconds a new connection may take to send a complete CONNECT packet (and to finish an "
	 "enhanced authentication exchange) before it is closed. Keeps idle, unauthenticated "
	 "sockets from holding resources."},
	{"max_keepalive", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_CONNECTIONS,
	 10, 65535, 1, NULL, "65535", G(max_keepalive), NOL, "",
	 "Largest Keep Alive, in seconds, a client may ask for. An MQTT 5 client asking for more (or "
	 "for 0) is told this value in the CONNACK Server Keep Alive property; an MQTT 3.1.1 client "
	 "asking for more is refused."},
	{"set_tcp_nodelay", WMQ_OPT_BOOL, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_CONNECTIONS,
	 0, 0, 1, NULL, "true", G(set_tcp_nodelay), NOL,
	 "same meaning; the default is `true` here and `false` in mosquitto",
	 "Set TCP_NODELAY on client sockets (disable Nagle's algorithm), lowering latency of small "
	 "packets at the cost of more, smaller segments. Applies to connections accepted after a "
	 "reload."},
	{"max_write_buffer", WMQ_OPT_SIZE, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_CONNECTIONS,
	 4096, U32MAX, 1, NULL, "1048576", G(max_write_buffer), NOL, NULL,
	 "Bytes that may wait in a connection's outgoing buffer. Beyond it, QoS 0 messages to that "
	 "client are dropped and QoS 1/2 messages stay queued, so one slow reader cannot make the "
	 "broker grow without bound."},

	/* ---- packets, messages and queues ---- */
	{"max_packet_size", WMQ_OPT_SIZE, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 20, 268435455, 1, NULL, "4194304", G(max_packet_size), NOL,
	 "same meaning; mosquitto's default (and `0`) mean no limit, WardMQ requires 20..268435455",
	 "Largest MQTT packet, in bytes, accepted from a client once its CONNECT has completed; "
	 "announced to MQTT 5 clients as Maximum Packet Size. A larger packet closes the connection "
	 "(MQTT 5 reason 0x95). The length is checked from the fixed header before the body is read."},
	{"max_packet_size_pre_connect", WMQ_OPT_SIZE, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 20, 268435455, 1, NULL, "262144", G(max_packet_size_pre_connect), NOL, NULL,
	 "Largest packet, in bytes, accepted until CONNECT (including enhanced authentication) has "
	 "completed. A small limit here keeps unauthenticated peers from making the broker buffer "
	 "large packets."},
	{"max_inflight_messages", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 1, 65535, 1, NULL, "20", G(max_inflight_messages), NOL, "",
	 "Number of outgoing QoS 1 and 2 messages that may be unacknowledged per client at once, "
	 "and the Receive Maximum announced to MQTT 5 clients for their own QoS 1/2 publishes."},
	{"max_queued_messages", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 0, U32MAX, 1, NULL, "1000", G(max_queued_messages), NOL, "",
	 "Number of QoS 1 and 2 messages (and QoS 0 with `queue_qos0_messages`) held per session "
	 "beyond those in flight, for slow or offline clients; further messages are dropped. `0` "
	 "means no limit (not recommended)."},
	{"max_queued_bytes", WMQ_OPT_SIZE, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 0, INT64_MAX, 1, NULL, "0", G(max_queued_bytes), NOL, "",
	 "Total payload bytes held in one session's queue; further messages are dropped. `0` means "
	 "no byte limit (`max_queued_messages` still applies)."},
	{"queue_qos0_messages", WMQ_OPT_BOOL, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 0, 0, 1, NULL, "false", G(queue_qos0_messages), NOL, "",
	 "Also queue QoS 0 messages for offline clients with a persistent session (counted against "
	 "`max_queued_messages`)."},
	{"max_user_properties", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 0, 65535, 1, NULL, "64", G(max_user_properties), NOL, NULL,
	 "Largest number of User Property pairs accepted in one MQTT 5 packet; a packet with more is "
	 "refused with reason code 0x97 (Quota exceeded) in CONNACK or DISCONNECT. `0` accepts no "
	 "user properties."},
	{"max_qos", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 0, 2, 1, NULL, "2", G(max_qos), NOL, "",
	 "Highest QoS the broker supports, announced to MQTT 5 clients as Maximum QoS; subscriptions "
	 "are granted at most this QoS."},
	{"retain_available", WMQ_OPT_BOOL, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_PACKETS,
	 0, 0, 1, NULL, "true", G(retain_available), NOL, "",
	 "Whether retained messages are supported. When `false`, a PUBLISH with the retain flag is "
	 "refused (MQTT 5 reason 0x9A) and MQTT 5 clients are told so in CONNACK."},

	/* ---- topics and subscriptions ---- */
	{"max_topic_alias", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_TOPICS,
	 0, 65535, 1, NULL, "10", G(max_topic_alias), NOL, "",
	 "Topic Alias Maximum announced to MQTT 5 clients: how many topic aliases a client may set "
	 "up for its publishes to the broker. `0` disables topic aliases from clients."},
	{"max_topic_length", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_TOPICS,
	 1, 65535, 1, NULL, "65535", G(max_topic_length), NOL, NULL,
	 "Longest topic name or topic filter, in bytes, accepted in PUBLISH, SUBSCRIBE and wills."},
	{"max_topic_levels", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_TOPICS,
	 1, 65535, 1, NULL, "128", G(max_topic_levels), NOL, NULL,
	 "Largest number of `/`-separated levels in a topic name or filter; bounds the depth of the "
	 "subscription tree."},
	{"max_subscriptions_per_client", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_TOPICS,
	 0, U32MAX, 1, NULL, "0", G(max_subscriptions_per_client), NOL, NULL,
	 "Largest number of subscriptions one session may hold; a SUBSCRIBE beyond it is refused "
	 "for the extra filters (MQTT 5 reason 0x97). `0` means unlimited."},

	/* ---- client identifiers and sessions ---- */
	{"allow_zero_length_clientid", WMQ_OPT_BOOL, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_SESSIONS,
	 0, 0, 1, NULL, "true", G(allow_zero_length_clientid), NOL, "",
	 "Whether a client may connect with an empty client identifier (with Clean Start / clean "
	 "session), in which case the broker assigns one made of `auto_id_prefix` and random "
	 "characters."},
	{"auto_id_prefix", WMQ_OPT_STRING, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_SESSIONS,
	 0, 0, 1, NULL, "auto-", G(auto_id_prefix), NOL, "",
	 "Prefix of client identifiers assigned by the broker to clients that connect with an empty "
	 "one."},
	{"persistent_client_expiration", WMQ_OPT_DURATION, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_SESSIONS,
	 1, INT64_MAX, 1, NULL, "never", G(persistent_client_expiration), NOL,
	 "same syntax; WardMQ also accepts `never`",
	 "How long a persistent MQTT 3.1.1 session (clean session false) of a disconnected client is "
	 "kept before it is removed with its queued messages. Written as a positive integer followed "
	 "by a unit, as in mosquitto: `s` seconds, `h` hours, `d` days, `w` weeks, `m` months (30 "
	 "days; not minutes), `y` years (365 days), for example `14d` or `1y`; or `never`. MQTT 5 "
	 "sessions use the client's Session Expiry Interval instead."},
	{"sys_interval", WMQ_OPT_SECONDS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_SESSIONS,
	 0, 86400, 1, NULL, "10", G(sys_interval), NOL, "",
	 "Seconds between updates of the `$SYS/broker/...` statistics topics; `0` turns them off."},

	/* ---- persistence ---- */
	{"persistence", WMQ_OPT_BOOL, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_PERSISTENCE,
	 0, 0, 1, NULL, "false", G(persistence), NOL, "",
	 "Keep sessions, subscriptions, queued and retained messages in `persistence_file` so that "
	 "they survive a restart. When `false` everything is kept in memory only."},
	{"persistence_file", WMQ_OPT_PATH, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_PERSISTENCE,
	 0, 0, 1, NULL, "wardmq.db", G(persistence_file), NOL,
	 "same name, but the file is an SQLite database (mosquitto's format is not read) and there "
	 "is no `persistence_location`: give a full path here",
	 "Path of the SQLite database used when `persistence` is `true`. A relative path is taken "
	 "relative to the broker's working directory."},
	{"durability", WMQ_OPT_ENUM, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_PERSISTENCE,
	 0, 0, 1, durability_words, "strict", G(durability), NOL, NULL,
	 "When persisted state reaches the disk. `strict`: an acknowledgement that promises "
	 "durability (PUBACK/PUBREC for a message queued for a persistent session or retained) is "
	 "sent only after the transaction holding the message has committed; commits start as soon "
	 "as there is work and group everything that arrived meanwhile. `batched`: acknowledgements "
	 "do not wait and writes are committed every `durability_interval`, so a crash can lose the "
	 "last interval. `none`: no store at all, everything is kept in memory only (as with "
	 "`persistence false`)."},
	{"durability_interval", WMQ_OPT_MILLIS, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_PERSISTENCE,
	 1, 10000, 1, NULL, "10", G(durability_interval_ms), NOL, NULL,
	 "Milliseconds between group commits in `batched` mode. `strict` does not wait: a commit "
	 "starts as soon as there is work, and what arrives during it goes into the next one."},
	{"admin_socket", WMQ_OPT_PATH, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_PERSISTENCE,
	 0, 0, 1, NULL, NULL, G(admin_socket), NOL, NULL,
	 "Unix socket for `wardmq_ctl --socket PATH` (online administration: users, groups, roles, "
	 "rules, bans, client id bindings and PSK identities change at once, without a restart or "
	 "SIGHUP). Created with mode 0600; only the broker's user and root may use it (checked again "
	 "with SO_PEERCRED, refusals are audited). The directory must belong to the broker's user "
	 "and must not be writable by group or others; a stale socket left at the path is replaced, "
	 "anything else there stops the start. Needs the store (`persistence true` or `--db`): "
	 "without it the broker refuses to start. Not reloadable. Unset: no admin socket "
	 "(wardmq_ctl --db works offline on the database file)."},

	/* ---- logging ---- */
	{"log_level", WMQ_OPT_ENUM, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_LOGGING,
	 0, 0, 1, log_level_words, "notice", G(log_level), NOL, NULL,
	 "Least severe messages that are logged: `error`, `warning`, `notice`, `info` or `debug` "
	 "(each includes the ones before it). Replaces mosquitto's `log_type` lines."},
	{"log_dest", WMQ_OPT_LOG_DEST, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_LOGGING,
	 0, 0, 1, NULL, "stderr", G(log_dest), NOL,
	 "same syntax for `stderr`, `stdout`, `none` and `file PATH`; `syslog`, `topic` and `dlt` "
	 "are not supported, and only one `log_dest` line is allowed",
	 "Where log lines go: `stderr`, `stdout`, `none`, or `file PATH` (lines are appended "
	 "to the file)."},
	{"audit_file", WMQ_OPT_PATH, WMQ_SCOPE_GLOBAL, 0, WMQ_GROUP_LOGGING,
	 0, 0, 1, NULL, NULL, G(audit_file), NOL, NULL,
	 "Tamper-evident audit log (JSON lines, each carrying the hash of the previous one; "
	 "`wardmq_ctl audit verify FILE` checks the chain): one line per refused authentication "
	 "(including bans and failed-login back-off), per denied authorization, per connection "
	 "refused at accept (connection rate, address ban or lock-out), per lock-out started and per "
	 "connection closed by a new ban, rate-limited so that a flood cannot fill the disk. Created with "
	 "mode 0600 and appended to. Reopened on SIGHUP for log rotation: when the file was moved "
	 "away, a new one is created whose chain continues from the old file's head. Unset: no "
	 "audit log."},
	{"log_timestamp", WMQ_OPT_BOOL, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_LOGGING,
	 0, 0, 1, NULL, "true", G(log_timestamp), NOL, "",
	 "Prefix each log line with the time (ISO 8601, UTC)."},

	/* ---- brute-force defence (docs/SECURITY.md) ---- */
	{"max_connection_rate", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 1000000, 1, NULL, "0", G(max_connection_rate), NOL, NULL,
	 "New connections accepted per source address per second (a token bucket refilled at this "
	 "rate, holding `connection_burst` tokens), checked when the connection is accepted, before "
	 "anything is read. A connection over the rate is answered at CONNECT: MQTT 5 with CONNACK "
	 "0x9F (Connection rate exceeded), MQTT 3.1.1 (which has no such code) by closing without "
	 "CONNACK; on a TLS listener it is closed at once, before the handshake. IPv6 sources are "
	 "grouped by /64. `0` (the default) disables the limit: clients behind one NAT address, "
	 "test rigs and load generators would otherwise be refused; for a broker exposed to "
	 "untrusted networks a value such as `10` (with `connection_burst 20`) is a good start. "
	 "Like every option of this group, a change takes "
	 "effect on SIGHUP for what follows; counts and lock-outs already recorded are kept."},
	{"connection_burst", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 1, 1000000, 1, NULL, "20", G(connection_burst), NOL, NULL,
	 "Connections one source address may open at once before `max_connection_rate` applies "
	 "(the size of its token bucket)."},
	{"auth_backoff_free", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 1000, 1, NULL, "1", G(auth_backoff_free), NOL, NULL,
	 "Failed logins per (source address, username) that cost no delay. Each further failure "
	 "doubles the wait before the next attempt for that pair is verified, from "
	 "`auth_backoff_base_ms` up to `auth_backoff_max_ms`. The unknown-user and wrong-password "
	 "paths count the same. A successful login clears the pair."},
	{"auth_backoff_base_ms", WMQ_OPT_MILLIS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 3600000, 1, NULL, "1000", G(auth_backoff_base_ms), NOL, NULL,
	 "First back-off delay, in milliseconds, per (source address, username) after the free "
	 "failures. `0` disables the back-off (lock-outs still apply)."},
	{"auth_backoff_max_ms", WMQ_OPT_MILLIS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 86400000, 1, NULL, "60000", G(auth_backoff_max_ms), NOL, NULL,
	 "Largest back-off delay, in milliseconds, per (source address, username)."},
	{"auth_lockout_after", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 1000000, 1, NULL, "10", G(auth_lockout_after), NOL, NULL,
	 "Failed logins per (source address, username) after which that pair is locked out for "
	 "`auth_lockout_seconds`: every CONNECT of that user from that address is refused with "
	 "CONNACK 0x8A (Banned; 3.1.1: 0x05 Not authorized), even with the right password. Failures "
	 "decay (see `auth_failure_decay`). `0`: never. The start of a lock-out is logged and "
	 "written to the audit log."},
	{"auth_lockout_seconds", WMQ_OPT_SECONDS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 1, 2592000, 1000, NULL, "900", G(auth_lockout_ms), NOL, NULL,
	 "Length of a lock-out of one (source address, username) pair, in seconds."},
	{"auth_addr_backoff_free", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 1000000, 1, NULL, "5", G(auth_addr_backoff_free), NOL, NULL,
	 "Failed logins per source address, whatever the username, that cost no delay; beyond "
	 "them the address backs off as a whole (so that trying many usernames does not escape "
	 "the back-off). A successful login does not clear the address count."},
	{"auth_addr_backoff_base_ms", WMQ_OPT_MILLIS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 3600000, 1, NULL, "500", G(auth_addr_backoff_base_ms), NOL, NULL,
	 "First back-off delay per source address, in milliseconds; `0` disables it."},
	{"auth_addr_backoff_max_ms", WMQ_OPT_MILLIS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 86400000, 1, NULL, "30000", G(auth_addr_backoff_max_ms), NOL, NULL,
	 "Largest back-off delay per source address, in milliseconds."},
	{"auth_addr_lockout_after", WMQ_OPT_INT, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 1000000, 1, NULL, "50", G(auth_addr_lockout_after), NOL, NULL,
	 "Failed logins per source address after which the whole address is locked out for "
	 "`auth_addr_lockout_seconds` (new connections from it get CONNACK 0x8A / 0x05). `0`: "
	 "never."},
	{"auth_addr_lockout_seconds", WMQ_OPT_SECONDS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 1, 2592000, 1000, NULL, "3600", G(auth_addr_lockout_ms), NOL, NULL,
	 "Length of an address lock-out, in seconds."},
	{"auth_failure_decay", WMQ_OPT_SECONDS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 1, 86400, 1000, NULL, "60", G(auth_failure_decay_ms), NOL, NULL,
	 "One recorded login failure (per pair and per address) is forgotten per this many seconds "
	 "without a new failure."},
	{"auth_max_hold_ms", WMQ_OPT_MILLIS, WMQ_SCOPE_GLOBAL, R, WMQ_GROUP_DEFENCE,
	 0, 60000, 1, NULL, "5000", G(auth_max_hold_ms), NOL, NULL,
	 "A CONNECT that arrives during a back-off is held (no thread blocked) until the back-off "
	 "ends and then verified, when the wait is at most this many milliseconds (and shorter "
	 "than half of `connect_timeout`); a longer wait refuses it at once, without verifying the "
	 "password, with CONNACK 0x86 (Bad user name or password; 3.1.1: 0x04) and an audit line. "
	 "`0` refuses every attempt made during a back-off."},
};
/* clang-format on */

_Static_assert(WMQ_ARRAY_LEN(wmq_config_options) == WMQ_CONFIG_N_OPTIONS,
	       "update WMQ_CONFIG_N_OPTIONS in config_int.h");

/* mosquitto keys we refuse with a pointer to what to do instead. Keys that
 * are simply unknown to both get the plain "unknown option" message. */
const struct wmq_opt_unsupported wmq_config_unsupported[] = {
	{"log_type", "use 'log_level' (one of error, warning, notice, info, debug)"},
	{"port", "use 'listener PORT'"},
	{"bind_address", "use 'listener PORT ADDRESS'"},
	{"bind_interface", "use 'listener PORT ADDRESS' with the interface's address"},
	{"socket_domain", "give an IPv4 or IPv6 address in 'listener PORT ADDRESS'"},
	{"per_listener_settings",
	 "listener options always apply per listener; top-level values are the defaults"},
	{"mount_point", "topic mount points are not supported yet"},
	{"message_size_limit", "use 'max_packet_size'"},
	{"persistence_location", "give the full path in 'persistence_file'"},
	{"autosave_interval", "the store commits every 'durability_interval' milliseconds"},
	{"autosave_on_changes", "the store commits every 'durability_interval' milliseconds"},
	{"password_file", "users and credentials live in the store; manage them with wardmq_ctl"},
	{"acl_file", "access rules live in the store; manage them with wardmq_ctl"},
	{"psk_file", "pre-shared keys live in the store; manage them with wardmq_ctl"},
	{"auth_plugin", "plugins are not supported: authentication mechanisms are built in"},
	{"auth_opt_*", "plugins are not supported: authentication mechanisms are built in"},
	{"plugin", "plugins are not supported: authentication mechanisms are built in"},
	{"plugin_opt_*", "plugins are not supported: authentication mechanisms are built in"},
	{"global_plugin", "plugins are not supported: authentication mechanisms are built in"},
	{"use_subject_as_username", "use 'use_identity_as_username true' with 'identity_source subject'"},
	{"dhparamfile", "not needed: TLS 1.2 key exchange uses ECDHE, TLS 1.3 its own groups"},
	{"connection", "bridges are not supported"},
	{"address", "bridges are not supported ('address' belongs to a bridge section)"},
	{"topic", "bridges are not supported ('topic' belongs to a bridge section)"},
	{"bridge_*", "bridges are not supported"},
	{"include_dir", "configuration is one file"},
	{"pid_file", "not supported; run wardmq under a service manager"},
	{"user", "not supported; start wardmq as the unprivileged user"},
	{"memory_limit", "bound memory with max_queued_messages, max_queued_bytes and max_write_buffer"},
	{"max_inflight_bytes", "use 'max_inflight_messages' and 'max_queued_bytes'"},
	{"upgrade_outgoing_qos", "not supported"},
	{"check_retain_source", "not supported as an option"},
	{"clientid_prefixes", "not supported"},
	{"websockets_log_level", "use 'log_level'"},
	{"http_dir", "not supported"},
	{"use_username_as_clientid", "not supported"},
	{"accept_protocol_versions", "every listener accepts MQTT 3.1.1 and 5.0"},
	{"enable_control_api", "administration goes through wardmq_ctl and the admin HTTP API"},
	{"allow_duplicate_messages", "not supported (removed in mosquitto 2)"},
	{"retry_interval", "not supported (removed in mosquitto 2)"},
	{"log_facility", "syslog is not supported; use log_dest"},
	{"connection_messages", "use 'log_level'"},
};
const size_t wmq_config_n_unsupported = WMQ_ARRAY_LEN(wmq_config_unsupported);

const struct wmq_opt *wmq_config_find(const char *name)
{
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++)
		if (strcmp(wmq_config_options[i].name, name) == 0)
			return &wmq_config_options[i];
	return NULL;
}

const struct wmq_opt_unsupported *wmq_config_find_unsupported(const char *key)
{
	for (size_t i = 0; i < wmq_config_n_unsupported; i++) {
		const char *k = wmq_config_unsupported[i].key;
		size_t n = strlen(k);
		if (n > 0 && k[n - 1] == '*') {
			if (strncmp(key, k, n - 1) == 0)
				return &wmq_config_unsupported[i];
		} else if (strcmp(key, k) == 0) {
			return &wmq_config_unsupported[i];
		}
	}
	return NULL;
}

size_t wmq_config_option_count(void)
{
	return WMQ_CONFIG_N_OPTIONS;
}

const char *wmq_config_option_name(size_t i)
{
	return i < WMQ_CONFIG_N_OPTIONS ? wmq_config_options[i].name : NULL;
}
