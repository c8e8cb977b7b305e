/* SPDX-License-Identifier: MIT
 * sys.c - $SYS/broker/... statistics, published retained every
 * sys_interval seconds through the normal routing path, with mosquitto's
 * topic names so that existing dashboards work. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "common/time.h"

static void sys_put(struct wmq_broker *b, const char *topic, const char *value, uint64_t now)
{
	struct wmq_msg *m = NULL;
	if (wmq_msg_new(wmq_bytes_cstr(topic), wmq_bytes_cstr(value), NULL, 0, true, NULL, NULL, now,
			wmq_broker_next_id(b), &m) != WMQ_OK)
		return;
	(void)wmq_broker_publish(b, m);
	wmq_msg_unref(m);
}

static void sys_u64(struct wmq_broker *b, const char *topic, uint64_t v, uint64_t now)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	sys_put(b, topic, buf, now);
}

void wmq_sys_publish(struct wmq_broker *b, uint64_t now)
{
	char buf[64];
	const struct wmq_stats *st = &b->stats;
	snprintf(buf, sizeof buf, "wardmq version %s", WMQ_VERSION);
	sys_put(b, "$SYS/broker/version", buf, now);
	snprintf(buf, sizeof buf, "%" PRIu64 " seconds", (now - b->started_at) / 1000u);
	sys_put(b, "$SYS/broker/uptime", buf, now);
	/* Brute-force defence (docs/SECURITY.md); before the retained count, so
	 * that the first round counts these topics too. */
	sys_u64(b, "$SYS/broker/defence/refused/rate", st->refused_rate, now);
	sys_u64(b, "$SYS/broker/defence/refused/banned", st->refused_banned, now);
	sys_u64(b, "$SYS/broker/defence/lockouts", st->lockouts, now);
	sys_u64(b, "$SYS/broker/defence/backoff/held", st->backoff_held, now);
	sys_u64(b, "$SYS/broker/defence/backoff/refused", st->backoff_refused, now);
	sys_u64(b, "$SYS/broker/defence/ban_disconnects", st->ban_disconnects, now);
	if (b->defence) {
		struct wmq_defence_stats ds;
		wmq_defence_get_stats(b->defence, &ds);
		sys_u64(b, "$SYS/broker/defence/bans", ds.bans, now);
	}
	sys_u64(b, "$SYS/broker/clients/connected", b->nconnected, now);
	sys_u64(b, "$SYS/broker/clients/total", b->sessions.n, now);
	sys_u64(b, "$SYS/broker/clients/disconnected",
		b->sessions.n >= b->nconnected ? b->sessions.n - b->nconnected : 0, now);
	sys_u64(b, "$SYS/broker/messages/received", st->msgs_received, now);
	sys_u64(b, "$SYS/broker/messages/sent", st->msgs_sent, now);
	sys_u64(b, "$SYS/broker/messages/dropped", st->msgs_dropped, now);
	sys_u64(b, "$SYS/broker/publish/messages/received", st->pub_received, now);
	sys_u64(b, "$SYS/broker/publish/messages/sent", st->pub_sent, now);
	sys_u64(b, "$SYS/broker/subscriptions/count", b->router.count, now);
	sys_u64(b, "$SYS/broker/retained messages/count", b->retained.count, now);
	sys_u64(b, "$SYS/broker/bytes/received", st->bytes_received, now);
	sys_u64(b, "$SYS/broker/bytes/sent", st->bytes_sent, now);
	if (b->authpool) {
		/* Every password CONNECT costs one verification, whether the
		 * user exists or not (the dummy verifier): tests compare these. */
		struct wmq_authpool_stats as;
		wmq_authpool_get_stats(b->authpool, &as);
		sys_u64(b, "$SYS/broker/auth/verifications", as.pw.argon2_runs + as.pw.legacy_runs, now);
		sys_u64(b, "$SYS/broker/auth/checks", as.pw.checks, now);
		sys_u64(b, "$SYS/broker/auth/cache_hits", as.pw.cache_hits, now);
		sys_u64(b, "$SYS/broker/auth/accepted", as.accepted, now);
		sys_u64(b, "$SYS/broker/auth/refused", st->auth_refused, now);
		sys_u64(b, "$SYS/broker/authz/denied", st->authz_denied, now);
		sys_u64(b, "$SYS/broker/authz/receive_denied", st->receive_denied, now);
		sys_u64(b, "$SYS/broker/authz/subscriptions_revoked", st->subs_revoked, now);
		sys_u64(b, "$SYS/broker/auth/clients_revoked", st->clients_revoked, now);
	}
}
