/* SPDX-License-Identifier: MIT
 * tool.h - shared code of wardmq_pub and wardmq_sub: the option table and
 * parser (mosquitto_pub/mosquitto_sub compatible flags), -L URL parsing, -D
 * property parsing, the -F output format renderer, and connection setup.
 *
 * Role: one implementation serves both tools; an option row says which
 * tool accepts it. Uses only the public libwardmq API and src/common.
 * Ownership: a struct wmq_tool_cfg owns every string and property list in
 * it; wmq_tool_cfg_cleanup() frees them. Threading: single-threaded tools. */
#ifndef WMQ_TOOLS_TOOL_H
#define WMQ_TOOLS_TOOL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/buf.h"
#include "wardmq/wardmq.h"

enum wmq_tool_kind {
	WMQ_TOOL_PUB = 1,
	WMQ_TOOL_SUB = 2,
};

/* Where wardmq_pub takes its message from. */
enum wmq_tool_msg_src {
	WMQ_SRC_NONE = 0,
	WMQ_SRC_MESSAGE, /* -m */
	WMQ_SRC_FILE,    /* -f */
	WMQ_SRC_LINES,   /* -l: one message per stdin line */
	WMQ_SRC_NULL,    /* -n: zero-length message */
	WMQ_SRC_STDIN,   /* -s: all of stdin as one message */
};

/* Parser outcome. */
enum wmq_tool_parse_rc {
	WMQ_TOOL_RUN = 0,    /* go ahead */
	WMQ_TOOL_ERROR = 1,  /* message printed; exit 1 */
	WMQ_TOOL_HELP = 2,   /* print usage; exit 0 */
	WMQ_TOOL_VERSION = 3 /* print version; exit 0 */
};

/* Commands -D may name, index into wmq_tool_cfg.props. */
#define WMQ_TOOL_NPROPS 17

struct wmq_tool_cfg {
	int kind; /* enum wmq_tool_kind */
	const char *prog;

	/* connection */
	char *host;
	int port;     /* 0 = default 1883 */
	int version;  /* 3, 4 or 5 */
	char *id;
	char *id_prefix;
	int keepalive;
	bool clean;              /* -c clears it */
	long long session_expiry; /* -x; -1 = not given */
	char *username;
	char *password;
	bool nodelay;
	int max_inflight; /* -M (pub) */
	bool debug;
	bool quiet;

	/* TLS (mosquitto's flags); on when any of cafile, capath, certfile,
	 * psk or an mqtts:// URL is given, and the default port is then 8883 */
	char *cafile;
	char *capath;
	char *certfile;
	char *keyfile;
	bool insecure;
	char *tls_version;
	char *ciphers;
	char *psk;
	char *psk_identity;
	char *alpn;
	bool url_tls;           /* -L mqtts:// or wss:// */
	bool ws;                /* --ws or -L ws[s]:// : MQTT over WebSockets */
	char *ws_path;          /* --ws-path or the URL's path; NULL = "/mqtt" */
	bool use_tls;           /* set by the parser's validation */
	wmq_tls_opts tls_opts;  /* filled by validation: pointers into this cfg */

	/* will */
	char *will_topic;
	char *will_payload;
	int will_qos;
	bool will_retain;

	/* MQTT 5 properties per packet (-D), NULL when none */
	wmq_properties *props[WMQ_TOOL_NPROPS];

	/* publish / subscribe common */
	int qos;

	/* wardmq_pub */
	char *topic; /* -t */
	int src;     /* enum wmq_tool_msg_src */
	char *message;
	char *file;
	bool retain;
	long repeat;          /* --repeat, default 1 */
	double repeat_delay;  /* --repeat-delay seconds */

	/* wardmq_sub */
	char **topics;
	size_t n_topics;
	char **filter_outs;
	size_t n_filter_outs;
	char **unsub_topics;
	size_t n_unsub_topics;
	long msg_count;    /* -C, 0 = unlimited */
	long timeout;      /* -W seconds, 0 = none */
	bool verbose;      /* -v */
	char *format;      /* -F */
	bool eol;          /* -N clears it */
	bool no_retain;    /* -R */
	bool exit_after_sub; /* -E */
	bool retained_only;
	bool remove_retained;
};

/* Parse |argv| for tool |kind| into |cfg| (initialised here). Errors are
 * printed to |err| mosquitto-style ("Error: ...\n") followed by the "Use
 * 'PROG --help' to see usage." hint. Returns enum wmq_tool_parse_rc. */
int wmq_tool_parse(struct wmq_tool_cfg *cfg, int kind, int argc, char **argv, FILE *err);
void wmq_tool_cfg_cleanup(struct wmq_tool_cfg *cfg);
/* Print the usage text of |kind| to |out|. */
void wmq_tool_usage(int kind, FILE *out);
/* The start of main(): parse (errors to stderr); --help prints the usage
 * and --version the version line to stdout. Returns -1 when the tool
 * should run (|cfg| is filled), else the exit status, with |cfg| already
 * cleaned up. */
int wmq_tool_start(struct wmq_tool_cfg *cfg, int kind, int argc, char **argv);

/* -L URL: mqtt[s]://[username[:password]@]host[:port]/topic or
 * ws[s]://[username[:password]@]host[:port][/path] (no topic). Fills the
 * out-parameters with heap strings (username/password NULL when absent,
 * *port 0 when absent; tls true for mqtts:// and wss://, ws for ws[s]://). Returns 0 or -1 with a
 * message in |errbuf|. */
struct wmq_tool_url {
	bool tls;
	bool ws;    /* ws:// or wss:// */
	char *path; /* ws[s]: the request path, NULL when absent */
	char *username;
	char *password;
	char *host;
	int port;
	char *topic;
};
int wmq_tool_url_parse(const char *url, struct wmq_tool_url *out, char *errbuf, size_t errcap);
void wmq_tool_url_cleanup(struct wmq_tool_url *u);

/* Parse one -D triple into |cfg| (|value2| for user-property). Returns 0
 * or -1 with a message in |errbuf|. */
int wmq_tool_property_add(struct wmq_tool_cfg *cfg, const char *cmd, const char *name,
			  const char *value, const char *value2, char *errbuf, size_t errcap);

/* Validate a -F format as mosquitto_sub does. Returns 0 or -1 with the
 * error text ("Invalid format specifier 'z'.") in |errbuf|. */
int wmq_tool_format_check(const char *fmt, char *errbuf, size_t errcap);

/* One message as the output code sees it. */
struct wmq_tool_msg {
	const char *topic;
	const uint8_t *payload;
	size_t payload_len;
	int qos;
	bool retain;
	int mid;
	const wmq_properties *props; /* may be NULL */
};

/* Render |m| with the -F |fmt| into |out| (appended), as mosquitto_sub's
 * formatted output; |now| is the receive time (for %I %U and @ codes,
 * rendered in local time). A trailing newline is added if |eol|. Returns
 * WMQ_OK or LIMIT/NOMEM from the buffer. */
WMQ_MUST_USE wmq_err wmq_tool_format(struct wmq_dbuf *out, const char *fmt,
				     const struct wmq_tool_msg *m, const struct timespec *now,
				     bool eol);
/* The default (no -F) rendering: payload[\n], or with -v "topic payload[\n]"
 * and "topic (null)\n" for an empty payload. */
WMQ_MUST_USE wmq_err wmq_tool_format_default(struct wmq_dbuf *out, const struct wmq_tool_msg *m,
					     bool verbose, bool eol);

/* Fill |o| from |cfg| (pointers into cfg; valid while cfg lives). Also
 * generates a client id for -I and for MQTT 3.1 (into |idbuf|). */
void wmq_tool_connect_opts(const struct wmq_tool_cfg *cfg, wmq_connect_opts *o, char *idbuf,
			   size_t idcap);
/* Create the client, install -d logging, connect and wait for CONNACK.
 * On failure prints "Connection error: ..." / "Error: ..." to stderr and
 * returns the process exit code (> 0) with *out NULL; on success 0 and
 * the client in *out (caller destroys). The callbacks in |setup| run
 * before connecting, so on_connect can subscribe. */
int wmq_tool_connect(const struct wmq_tool_cfg *cfg, void *userdata,
		     void (*setup)(wmq_client *c, void *userdata), wmq_client **out);
/* Text of a refused CONNACK as mosquitto prints it: 3.1.1 strings
 * ("Connection Refused: not authorised.") on 3.x, reason strings on 5. */
const char *wmq_tool_connack_string(int version, int reason);
/* The exit code mosquitto uses for a refused CONNACK: the 3.1.1 return
 * code (1..5) on 3.x, the reason code on 5. */
int wmq_tool_connack_exit(int version, int reason);

#endif
