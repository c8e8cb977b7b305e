/* SPDX-License-Identifier: MIT
 * load.c - start-up: drop what expired while the broker was down, then
 * report everything else through callbacks from one read snapshot.
 *
 * Role: the only reader of the durable state. Phase 0 (write transaction):
 * expired sessions (cascading to their subscriptions, queue and inbound QoS 2
 * ids), never-sent queue entries and retained rows of expired messages, then
 * unreferenced messages. Phases 1-3 (read transaction): messages, sessions
 * with their children, retained topics. Records handed to callbacks point
 * into SQLite's row buffers: valid only during the call.
 * Threading: owner thread, before the broker submits anything; holds the
 * connection lock for the whole load. */
#include <string.h>

#include "store/store_int.h"

static const uint8_t empty[1];

/* A column as a slice: NULL -> {NULL, 0}; empty -> {"", 0}. */
static int col_bytes(sqlite3 *db, sqlite3_stmt *s, int i, struct wmq_bytes *out)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		*out = (struct wmq_bytes){NULL, 0};
		return SQLITE_OK;
	}
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);
	if (!p) {
		if (n != 0 || sqlite3_errcode(db) == SQLITE_NOMEM)
			return SQLITE_NOMEM;
		p = empty;
	}
	*out = (struct wmq_bytes){p, (size_t)n};
	return SQLITE_OK;
}

static int64_t col_i64(sqlite3_stmt *s, int i)
{
	return sqlite3_column_int64(s, i);
}

/* Run one DELETE bound to |now|; adds the rows it changed to *count. */
static int drop(struct wmq_store *st, enum wmq_store_stmt id, int64_t now, uint64_t *count)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = SQLITE_OK;
	if (sqlite3_bind_parameter_count(s) > 0)
		rc = sqlite3_bind_int64(s, 1, now);
	if (rc == SQLITE_OK)
		rc = wmq_store__step_done(st, s);
	if (rc == SQLITE_DONE)
		*count += (uint64_t)sqlite3_changes64(st->db);
	return rc;
}

static wmq_err drop_expired(struct wmq_store *st, int64_t now, struct wmq_store_load_stats *ls)
{
	uint64_t cand = 0;
	int rc = wmq_store__step_done(st, st->stmt[STMT_BEGIN]);
	if (rc == SQLITE_DONE)
		rc = drop(st, STMT_DROP_SESSIONS, now, &ls->dropped_sessions);
	if (rc == SQLITE_DONE)
		rc = drop(st, STMT_DROP_QUEUED, now, &ls->dropped_queued);
	if (rc == SQLITE_DONE)
		rc = drop(st, STMT_DROP_RETAINED, now, &ls->dropped_retained);
	if (rc == SQLITE_DONE)
		rc = drop(st, STMT_GC_ALL, now, &ls->dropped_messages);
	if (rc == SQLITE_DONE)
		rc = drop(st, STMT_GC_CLEAR, now, &cand);
	if (rc == SQLITE_DONE)
		rc = wmq_store__step_done(st, st->stmt[STMT_COMMIT]);
	if (rc != SQLITE_DONE) {
		wmq_err e = wmq_store__sqlerr(st, rc, "dropping expired state at start-up");
		if (!sqlite3_get_autocommit(st->db) &&
		    wmq_store__step_done(st, st->stmt[STMT_ROLLBACK]) != SQLITE_DONE)
			WMQ_LOG(st->log, WMQ_LOG_ERROR, "store %s: rollback failed", st->path);
		return e;
	}
	return WMQ_OK;
}

/* Iteration state: a failing SQLite call sets |rc|, a failing callback |cb|. */
struct it {
	struct wmq_store *st;
	int rc;      /* SQLite code, SQLITE_OK while fine */
	wmq_err cb;  /* callback error */
};

static bool step_row(struct it *it, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE)
		it->rc = rc;
	return false;
}

static void load_msgs(struct it *it, const struct wmq_store_loader *cb, struct wmq_store_load_stats *ls)
{
	sqlite3 *db = it->st->db;
	sqlite3_stmt *s = it->st->stmt[STMT_LOAD_MSGS];
	while (!it->rc && !it->cb && step_row(it, s)) {
		struct wmq_store_msg m = {0};
		m.id = (uint64_t)col_i64(s, 0);
		if ((it->rc = col_bytes(db, s, 1, &m.topic)) || (it->rc = col_bytes(db, s, 2, &m.payload)) ||
		    (it->rc = col_bytes(db, s, 3, &m.props)) || (it->rc = col_bytes(db, s, 8, &m.publisher_id)) ||
		    (it->rc = col_bytes(db, s, 9, &m.publisher_user)))
			break;
		m.qos = (uint8_t)col_i64(s, 4);
		m.retain = col_i64(s, 5) != 0;
		m.received_at = col_i64(s, 6);
		m.expiry_at = col_i64(s, 7); /* NULL reads as 0 = never */
		ls->messages++;
		if (m.id > ls->max_msg_id)
			ls->max_msg_id = m.id;
		if (cb->msg)
			it->cb = cb->msg(cb->arg, &m);
	}
	(void)sqlite3_reset(s); /* repeats an error already in it->rc */
}

/* Subscriptions, queue and inbound ids of one session. */
static void load_children(struct it *it, const struct wmq_store_loader *cb, struct wmq_store_load_stats *ls,
			  struct wmq_bytes cid)
{
	sqlite3 *db = it->st->db;
	sqlite3_stmt *s;
	int n = (int)cid.len;

	s = it->st->stmt[STMT_LOAD_SUBS];
	if ((it->rc = sqlite3_bind_text(s, 1, (const char *)cid.p, n, SQLITE_STATIC)))
		return;
	while (!it->rc && !it->cb && step_row(it, s)) {
		struct wmq_store_sub sub = {.client_id = cid};
		if ((it->rc = col_bytes(db, s, 0, &sub.share)) || (it->rc = col_bytes(db, s, 1, &sub.filter)))
			break;
		if (sub.share.len == 0)
			sub.share = (struct wmq_bytes){NULL, 0};
		sub.options = (uint8_t)col_i64(s, 2);
		sub.sub_id = (uint32_t)col_i64(s, 3);
		ls->subs++;
		if (cb->sub)
			it->cb = cb->sub(cb->arg, &sub);
	}
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	if (it->rc || it->cb)
		return;

	s = it->st->stmt[STMT_LOAD_QUEUE];
	if ((it->rc = sqlite3_bind_text(s, 1, (const char *)cid.p, n, SQLITE_STATIC)))
		return;
	while (!it->rc && !it->cb && step_row(it, s)) {
		struct wmq_store_qentry q = {.client_id = cid};
		q.seq = (uint64_t)col_i64(s, 0);
		q.msg_id = (uint64_t)col_i64(s, 1);
		q.qos = (uint8_t)col_i64(s, 2);
		q.state = (uint8_t)col_i64(s, 3);
		q.packet_id = (uint16_t)col_i64(s, 4);
		q.dup = col_i64(s, 5) != 0;
		q.retain = col_i64(s, 6) != 0;
		if ((it->rc = col_bytes(db, s, 7, &q.props)))
			break;
		ls->queued++;
		if (cb->queued)
			it->cb = cb->queued(cb->arg, &q);
	}
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	if (it->rc || it->cb)
		return;

	s = it->st->stmt[STMT_LOAD_INFL];
	if ((it->rc = sqlite3_bind_text(s, 1, (const char *)cid.p, n, SQLITE_STATIC)))
		return;
	while (!it->rc && !it->cb && step_row(it, s)) {
		ls->inflight_in++;
		if (cb->inflight_in)
			it->cb = cb->inflight_in(cb->arg, cid, (uint16_t)col_i64(s, 0));
	}
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
}

static void load_sessions(struct it *it, const struct wmq_store_loader *cb, struct wmq_store_load_stats *ls)
{
	sqlite3 *db = it->st->db;
	sqlite3_stmt *s = it->st->stmt[STMT_LOAD_SESSIONS];
	while (!it->rc && !it->cb && step_row(it, s)) {
		struct wmq_store_session ses = {0};
		if ((it->rc = col_bytes(db, s, 0, &ses.client_id)) ||
		    (it->rc = col_bytes(db, s, 4, &ses.will.topic)) ||
		    (it->rc = col_bytes(db, s, 5, &ses.will.payload)) ||
		    (it->rc = col_bytes(db, s, 6, &ses.will.props)) ||
		    (it->rc = col_bytes(db, s, 12, &ses.username)))
			break;
		ses.protocol = (uint8_t)col_i64(s, 1);
		ses.expiry_interval = (uint32_t)col_i64(s, 2);
		ses.expiry_at = col_i64(s, 3);
		ses.will.qos = (uint8_t)col_i64(s, 7);
		ses.will.retain = col_i64(s, 8) != 0;
		ses.will.delay = (uint32_t)col_i64(s, 9);
		ses.created_at = col_i64(s, 10);
		ses.updated_at = col_i64(s, 11);
		ls->sessions++;
		if (cb->session)
			it->cb = cb->session(cb->arg, &ses);
		if (!it->cb)
			load_children(it, cb, ls, ses.client_id);
	}
	(void)sqlite3_reset(s);
}

static void load_retained(struct it *it, const struct wmq_store_loader *cb, struct wmq_store_load_stats *ls)
{
	sqlite3_stmt *s = it->st->stmt[STMT_LOAD_RETAINED];
	while (!it->rc && !it->cb && step_row(it, s)) {
		struct wmq_bytes topic;
		if ((it->rc = col_bytes(it->st->db, s, 0, &topic)))
			break;
		ls->retained++;
		if (cb->retained)
			it->cb = cb->retained(cb->arg, topic, (uint64_t)col_i64(s, 1));
	}
	(void)sqlite3_reset(s);
}

wmq_err wmq_store_load(struct wmq_store *st, int64_t now, const struct wmq_store_loader *cb,
		       struct wmq_store_load_stats *stats)
{
	static const struct wmq_store_loader none = {0};
	struct wmq_store_load_stats ls = {0};
	struct it it = {.st = st, .rc = SQLITE_OK, .cb = WMQ_OK};
	wmq_err rc = WMQ_OK;

	if (!cb)
		cb = &none;
	pthread_mutex_lock(&st->db_mu);
	if (!(st->flags & WMQ_STORE_READONLY) && (rc = drop_expired(st, now, &ls)) != WMQ_OK)
		goto out;
	int src = wmq_store__step_done(st, st->stmt[STMT_BEGIN_READ]);
	if (src != SQLITE_DONE) {
		rc = wmq_store__sqlerr(st, src, "loading");
		goto out;
	}
	load_msgs(&it, cb, &ls);
	if (!it.rc && !it.cb)
		load_sessions(&it, cb, &ls);
	if (!it.rc && !it.cb)
		load_retained(&it, cb, &ls);
	if (it.rc)
		rc = wmq_store__sqlerr(st, it.rc, "loading");
	else if (it.cb)
		rc = wmq_err_note(it.cb, __FILE__, __LINE__);
	/* ends the read transaction; after a failed step SQLite may have ended it */
	if (!sqlite3_get_autocommit(st->db)) {
		src = wmq_store__step_done(st, st->stmt[rc == WMQ_OK ? STMT_COMMIT : STMT_ROLLBACK]);
		if (src != SQLITE_DONE && rc == WMQ_OK)
			rc = wmq_store__sqlerr(st, src, "ending the load transaction");
	}
out:
	pthread_mutex_unlock(&st->db_mu);
	if (stats)
		*stats = ls;
	return rc;
}
