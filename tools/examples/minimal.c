/* SPDX-License-Identifier: MIT
 * minimal.c - the libwardmq example from docs/CLIENT.md: connect, subscribe,
 * publish a QoS 1 message to ourselves, print it when it comes back, and
 * disconnect. Built against the shared library, so it also proves that
 * the public symbols are exported.
 * Usage: wardmq_example_minimal [HOST [PORT]] */
#include <stdio.h>
#include <stdlib.h>

#include <wardmq/wardmq.h>

struct app {
	int received;
	int acked;
};

static void on_message(wmq_client *c, void *ud, const wmq_message *m)
{
	struct app *app = ud;
	(void)c;
	printf("%s %.*s (qos %d)\n", m->topic, (int)m->payload_len, (const char *)m->payload,
	       m->qos);
	app->received++;
}

static void on_publish(wmq_client *c, void *ud, uint16_t mid, int reason,
		       const wmq_properties *props)
{
	struct app *app = ud;
	(void)c;
	(void)props;
	printf("message %u acknowledged: %s\n", mid, wmq_reason_string(reason));
	app->acked++;
}

int main(int argc, char **argv)
{
	struct app app = {0, 0};
	wmq_connect_opts opts;
	int reason = 0, rc;

	wmq_client *c = wmq_client_new(&app);
	if (!c)
		return 1;
	wmq_client_on_message(c, on_message);
	wmq_client_on_publish(c, on_publish);

	wmq_connect_opts_init(&opts);
	opts.host = argc > 1 ? argv[1] : "localhost";
	opts.port = (uint16_t)(argc > 2 ? atoi(argv[2]) : 1883);
	opts.protocol_version = WMQ_PROTOCOL_V5;
	rc = wmq_client_connect_blocking(c, &opts, 10000, &reason);
	if (rc != WMQ_E_OK) {
		fprintf(stderr, "connect: %s (reason %s)\n", wmq_strerror(rc),
			wmq_reason_string(reason));
		wmq_client_destroy(c);
		return 1;
	}
	printf("connected as %s\n", wmq_client_id(c));

	rc = wmq_client_subscribe(c, NULL, "example/#", 1, NULL);
	if (rc == WMQ_E_OK) {
		wmq_properties *props = wmq_properties_new();
		wmq_properties_add_string(props, WMQ_PROPERTY_CONTENT_TYPE, "text/plain");
		rc = wmq_client_publish(c, NULL, "example/hello", "hi there", 8, 1, false, props);
		wmq_properties_free(props);
	}
	/* serve the connection until both the ack and the echo arrived */
	for (int i = 0; rc == WMQ_E_OK && i < 100 && (app.received < 1 || app.acked < 1); i++)
		rc = wmq_client_loop(c, 100);

	wmq_client_disconnect_blocking(c, WMQ_REASON_SUCCESS, NULL, 5000);
	wmq_client_destroy(c);
	return (app.received == 1 && app.acked == 1) ? 0 : 1;
}
