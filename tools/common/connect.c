/* SPDX-License-Identifier: MIT
 * connect.c - from a parsed tool configuration to a connected client:
 * connect options, -d logging, CONNACK error reporting in mosquitto's words
 * and exit codes. Threading: none. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

#define CONNECT_TIMEOUT_MS 60000

const char *wmq_tool_connack_string(int version, int reason)
{
	if (version == WMQ_PROTOCOL_V5)
		return wmq_reason_string(reason);
	switch (wmq_tool_connack_exit(version, reason)) {
	case 0:
		return "Connection Accepted.";
	case 1:
		return "Connection Refused: unacceptable protocol version.";
	case 2:
		return "Connection Refused: identifier rejected.";
	case 3:
		return "Connection Refused: broker unavailable.";
	case 4:
		return "Connection Refused: bad user name or password.";
	case 5:
		return "Connection Refused: not authorised.";
	default:
		return "Connection Refused: unknown reason.";
	}
}

int wmq_tool_connack_exit(int version, int reason)
{
	if (version == WMQ_PROTOCOL_V5)
		return reason;
	/* the library reports MQTT 5 codes; mosquitto exits with 3.1.1's */
	switch (reason) {
	case 0:
		return 0;
	case WMQ_REASON_UNSUPPORTED_VERSION:
		return 1;
	case WMQ_REASON_CLIENT_ID_INVALID:
		return 2;
	case WMQ_REASON_BAD_USERNAME_OR_PASSWORD:
	case WMQ_REASON_BAD_AUTH_METHOD:
		return 4;
	case WMQ_REASON_NOT_AUTHORIZED:
	case WMQ_REASON_BANNED:
		return 5;
	default:
		return 3;
	}
}

void wmq_tool_connect_opts(const struct wmq_tool_cfg *cfg, wmq_connect_opts *o, char *idbuf,
			   size_t idcap)
{
	const char *prog = cfg->kind == WMQ_TOOL_PUB ? "wardmq_pub_" : "wardmq_sub_";
	wmq_connect_opts_init(o);
	o->host = cfg->host;
	o->port = (uint16_t)(cfg->port ? cfg->port : 1883);
	o->protocol_version = cfg->version;
	o->client_id = cfg->id;
	if (cfg->id_prefix) {
		snprintf(idbuf, idcap, "%s%d", cfg->id_prefix, (int)getpid());
		o->client_id = idbuf;
	} else if (!cfg->id && cfg->version == WMQ_PROTOCOL_V31) {
		/* MQTT 3.1 has no server-assigned identifiers */
		snprintf(idbuf, idcap, "%s%d", prog, (int)getpid());
		o->client_id = idbuf;
	}
	if (cfg->use_tls)
		o->tls = &cfg->tls_opts;
	o->websocket = cfg->ws;
	o->ws_path = cfg->ws_path;
	o->clean_start = cfg->clean;
	o->keepalive = (uint16_t)cfg->keepalive;
	o->username = cfg->username;
	if (cfg->password) {
		o->password = cfg->password;
		o->password_len = strlen(cfg->password);
	}
	if (cfg->will_topic) {
		o->will_topic = cfg->will_topic;
		o->will_payload = cfg->will_payload;
		o->will_payload_len = cfg->will_payload ? strlen(cfg->will_payload) : 0;
		o->will_qos = cfg->will_qos;
		o->will_retain = cfg->will_retain;
		o->will_props = cfg->props[WMQ_CMD_WILL];
	}
	if (cfg->version == WMQ_PROTOCOL_V5) {
		if (cfg->session_expiry > 0)
			o->session_expiry_interval = (uint32_t)cfg->session_expiry;
		o->props = cfg->props[WMQ_CMD_CONNECT];
	}
}

static void log_cb(wmq_client *c, void *ud, int level, const char *line)
{
	(void)c;
	(void)ud;
	(void)level;
	printf("%s\n", line);
	fflush(stdout);
}

int wmq_tool_connect(const struct wmq_tool_cfg *cfg, void *userdata,
		     void (*setup)(wmq_client *c, void *userdata), wmq_client **out)
{
	wmq_connect_opts o;
	char idbuf[128];
	int reason = 0;
	*out = NULL;
	wmq_client *c = wmq_client_new(userdata);
	if (!c) {
		if (!cfg->quiet)
			fprintf(stderr, "Error: Out of memory.\n");
		return 1;
	}
	if (cfg->debug) {
		wmq_client_on_log(c, log_cb);
		(void)wmq_client_set_option(c, WMQ_OPT_LOG_LEVEL, WMQ_LL_DEBUG);
	}
	(void)wmq_client_set_option(c, WMQ_OPT_TCP_NODELAY, cfg->nodelay ? 1 : 0);
	(void)wmq_client_set_option(c, WMQ_OPT_MAX_INFLIGHT, cfg->max_inflight);
	if (setup)
		setup(c, userdata);
	wmq_tool_connect_opts(cfg, &o, idbuf, sizeof idbuf);
	int rc = wmq_client_connect_blocking(c, &o, CONNECT_TIMEOUT_MS, &reason);
	if (rc == WMQ_E_OK) {
		*out = c;
		return 0;
	}
	int code = 1;
	if (!cfg->quiet) {
		switch (rc) {
		case WMQ_E_CONN_REFUSED:
			if (cfg->version == WMQ_PROTOCOL_V5 && reason == WMQ_REASON_UNSUPPORTED_VERSION)
				fprintf(stderr,
					"Connection error: %s. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n",
					wmq_tool_connack_string(cfg->version, reason));
			else
				fprintf(stderr, "Connection error: %s\n",
					wmq_tool_connack_string(cfg->version, reason));
			break;
		case WMQ_E_SERVER_DISCONNECT:
			fprintf(stderr, "Connection error: %s\n", wmq_reason_string(reason));
			break;
		case WMQ_E_CONNECT_FAILED:
		case WMQ_E_IO:
			fprintf(stderr, "Error: %s\n",
				strerror(wmq_client_sys_errno(c) ? wmq_client_sys_errno(c) : EIO));
			break;
		case WMQ_E_LOOKUP:
			fprintf(stderr, "Error: Unable to resolve host '%s'.\n", cfg->host);
			break;
		case WMQ_E_INVAL:
			fprintf(stderr, "Error: Invalid connection options.\n");
			break;
		case WMQ_E_PROTOCOL:
			/* a WebSocket failure has its detail in the transport text */
			if (wmq_client_tls_error(c)[0])
				fprintf(stderr, "Error: %s\n", wmq_client_tls_error(c));
			else
				fprintf(stderr, "Error: %s\n", wmq_strerror(rc));
			break;
		case WMQ_E_TLS:
			/* mosquitto prints the OpenSSL error, then its summary */
			fprintf(stderr, "OpenSSL Error: %s\nError: A TLS error occurred.\n",
				wmq_client_tls_error(c));
			break;
		default:
			fprintf(stderr, "Error: %s\n", wmq_strerror(rc));
			break;
		}
	}
	if (rc == WMQ_E_CONN_REFUSED) {
		code = wmq_tool_connack_exit(cfg->version, reason);
		if (code == 0)
			code = 1;
	}
	wmq_client_destroy(c);
	return code;
}
