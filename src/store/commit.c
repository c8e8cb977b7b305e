/* SPDX-License-Identifier: MIT
 * commit.c - group commit: tickets, the pending list, the store thread,
 * completion signalling, failure back-off.
 *
 * Role: the broker thread submits one batch per tick and gets a ticket; the
 * store thread takes EVERY pending batch, applies them in ticket order in one
 * transaction (BEGIN IMMEDIATE ... COMMIT, fsync with synchronous=FULL),
 * publishes the last ticket as completed and writes the eventfd. Batches that
 * arrive while a commit runs wait for the next one, so the number of fsyncs
 * adapts to the disk: one per tick when it is fast, fewer and larger when it
 * is slow. An optional commit delay (durability batched) holds the first
 * pending batch that long to collect more.
 *
 * Failure: a transaction that fails for I/O reasons (disk full, read-only,
 * locked, I/O error, out of memory) is rolled back and its batches go back
 * to the front of the pending list in order; the store is "failed" and
 * retries after 10 ms, doubling to 2 s, until a commit succeeds. Nothing
 * is reported completed meanwhile. An op rejected by a constraint (foreign
 * key to a missing session or message, CHECK) is a broker bug: only that
 * statement is undone (SQLite's statement rollback), it is counted in
 * ops_rejected and logged, and the rest of the transaction commits.
 *
 * Threading: see store_int.h for the two locks. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/time.h"
#include "store/store_int.h"

#define BACKOFF_MIN_MS 10u
#define BACKOFF_MAX_MS 2000u
#define FREE_LIST_MAX 8u
#define RECYCLE_MAX_BYTES ((size_t)1 << 20)

/* ---- Applying batches ---------------------------------------------------- */

static int bind_op(sqlite3_stmt *s, const struct wmq_store_batch *b, const struct wmq_store_op *op)
{
	for (uint16_t i = 0; i < op->n; i++) {
		const struct wmq_store_param *p = &b->params[op->first + i];
		const char *ptr = (p->type == P_TEXT || p->type == P_BLOB) && b->data
					  ? (const char *)b->data + p->v
					  : "";
		int col = i + 1, rc;
		switch (p->type) {
		case P_INT:
			rc = sqlite3_bind_int64(s, col, p->v);
			break;
		case P_TEXT:
			rc = sqlite3_bind_text(s, col, ptr, (int)p->len, SQLITE_STATIC);
			break;
		case P_BLOB:
			/* a zero-length blob from a NULL pointer would bind NULL */
			rc = p->len ? sqlite3_bind_blob(s, col, ptr, (int)p->len, SQLITE_STATIC)
				    : sqlite3_bind_zeroblob(s, col, 0);
			break;
		default:
			rc = sqlite3_bind_null(s, col);
			break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static bool is_rejection(int rc)
{
	int prim = rc & 0xff;
	return prim == SQLITE_CONSTRAINT || prim == SQLITE_MISMATCH || prim == SQLITE_TOOBIG ||
	       prim == SQLITE_RANGE;
}

wmq_err wmq_store__commit_list(struct wmq_store *st, struct wmq_store_batch *list, uint64_t *nops,
			       uint64_t *rejected)
{
	wmq_err e = WMQ_OK;
	int rc = wmq_store__step_done(st, st->stmt[STMT_BEGIN]);
	if (rc != SQLITE_DONE)
		return wmq_store__sqlerr(st, rc, "starting a transaction");
	for (struct wmq_store_batch *b = list; b; b = b->next) {
		for (size_t i = 0; i < b->nops; i++) {
			const struct wmq_store_op *op = &b->ops[i];
			sqlite3_stmt *s = st->stmt[op->stmt];
			rc = bind_op(s, b, op);
			if (rc == SQLITE_OK)
				rc = wmq_store__step_done(st, s);
			else
				(void)sqlite3_clear_bindings(s); /* always SQLITE_OK */
			if (rc == SQLITE_DONE) {
				(*nops)++;
			} else if (is_rejection(rc)) {
				(*rejected)++;
				(void)wmq_store__sqlerr(st, rc, "applying an op");
				WMQ_LOG(st->log, WMQ_LOG_ERROR, "store %s: op rejected (ticket %llu, %s): %s",
					st->path, (unsigned long long)b->ticket, wmq_store_stmt_sql[op->stmt],
					sqlite3_errmsg(st->db));
			} else {
				e = wmq_store__sqlerr(st, rc, "writing a batch");
				goto fail;
			}
		}
	}
	rc = wmq_store__step_done(st, st->stmt[STMT_GC_CANDIDATES]);
	if (rc == SQLITE_DONE)
		rc = wmq_store__step_done(st, st->stmt[STMT_GC_CLEAR]);
	if (rc != SQLITE_DONE) {
		e = wmq_store__sqlerr(st, rc, "collecting messages");
		goto fail;
	}
	rc = wmq_store__step_done(st, st->stmt[STMT_COMMIT]);
	if (rc != SQLITE_DONE) {
		e = wmq_store__sqlerr(st, rc, "committing");
		goto fail;
	}
	return WMQ_OK;
fail:
	/* After some I/O errors SQLite has already rolled back. */
	if (!sqlite3_get_autocommit(st->db)) {
		rc = wmq_store__step_done(st, st->stmt[STMT_ROLLBACK]);
		if (rc != SQLITE_DONE)
			WMQ_LOG(st->log, WMQ_LOG_ERROR, "store %s: rollback failed: %s", st->path,
				sqlite3_errstr(rc));
	}
	return e;
}

/* ---- Pending list, attempts ---------------------------------------------- */

static void signal_fd(struct wmq_store *st)
{
	uint64_t one = 1;
	if (st->efd >= 0 && write(st->efd, &one, sizeof one) != (ssize_t)sizeof one) {
		/* EAGAIN: the counter is saturated, the fd is readable anyway */
	}
}

/* Keep a few small batches for reuse; free the rest. Caller holds mu. */
static void recycle_locked(struct wmq_store *st, struct wmq_store_batch *b)
{
	if (st->nfree < FREE_LIST_MAX && wmq_store__batch_bytes(b) <= RECYCLE_MAX_BYTES) {
		wmq_store__batch_reset(b);
		b->next = st->free_list;
		st->free_list = b;
		st->nfree++;
	} else {
		wmq_store__batch_free(b);
	}
}

/* One commit attempt of everything pending. Called and returns with mu
 * held; drops it while SQLite works. */
static wmq_err attempt_locked(struct wmq_store *st)
{
	struct wmq_store_batch *list = st->head, *last = st->tail;
	uint64_t nops = 0, rejected = 0;
	wmq_err rc;

	if (!list)
		return WMQ_OK;
	st->head = st->tail = NULL;
	st->flush_req = false;
	pthread_mutex_unlock(&st->mu);

	pthread_mutex_lock(&st->db_mu);
	rc = wmq_store__commit_list(st, list, &nops, &rejected);
	pthread_mutex_unlock(&st->db_mu);

	pthread_mutex_lock(&st->mu);
	st->attempts++;
	bool was_failed = atomic_load(&st->failed);
	if (rc == WMQ_OK) {
		uint64_t done = last->ticket; /* read before recycling */
		for (struct wmq_store_batch *b = list, *n; b; b = n) {
			n = b->next;
			st->stats.batches++;
			st->stats.pending_batches--;
			st->stats.pending_bytes -= wmq_store__batch_bytes(b);
			recycle_locked(st, b);
		}
		st->stats.commits++;
		st->stats.ops += nops;
		st->stats.ops_rejected += rejected;
		st->backoff_ms = 0;
		atomic_store(&st->completed, done);
		atomic_store(&st->failed, false);
		if (was_failed)
			WMQ_LOG(st->log, WMQ_LOG_NOTICE, "store %s: commits work again", st->path);
		signal_fd(st);
	} else {
		last->next = st->head; /* back to the front, order kept */
		st->head = list;
		if (!st->tail)
			st->tail = last;
		st->stats.commit_failures++;
		st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (st->backoff_ms > BACKOFF_MAX_MS)
			st->backoff_ms = BACKOFF_MAX_MS;
		st->retry_at_ms = wmq_now_ms() + st->backoff_ms;
		atomic_store(&st->failed, true);
		if (!was_failed) {
			WMQ_LOG(st->log, WMQ_LOG_ERROR, "%s (retrying)", st->errmsg);
			signal_fd(st);
		}
	}
	pthread_cond_broadcast(&st->done);
	return rc;
}

/* Wait on |cv| for at most |ms| (monotonic clock, see init_locks). */
static void cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000u);
	ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(cv, mu, &ts); /* ETIMEDOUT is expected */
}

static void *store_main(void *arg)
{
	struct wmq_store *st = arg;
	pthread_mutex_lock(&st->mu);
	while (!st->stop) {
		if (!st->head) {
			pthread_cond_wait(&st->wake, &st->mu);
			continue;
		}
		if (!st->flush_req) {
			uint64_t now = wmq_now_ms();
			uint64_t due = st->head->submitted_ms + st->delay_ms;
			if (st->backoff_ms && st->retry_at_ms > due)
				due = st->retry_at_ms;
			if (now < due) {
				cond_wait_ms(&st->wake, &st->mu, due - now);
				continue;
			}
		}
		(void)attempt_locked(st); /* outcome recorded in st */
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

wmq_err wmq_store__thread_start(struct wmq_store *st)
{
	int r = pthread_create(&st->thread, NULL, store_main, st);
	if (r != 0) {
		wmq_store__setmsg(st, "store %s: cannot start the store thread: %s", st->path, strerror(r));
		WMQ_BAIL(r == EAGAIN ? WMQ_ERR_NOMEM : WMQ_ERR_INTERNAL);
	}
	st->thread_started = true;
	return WMQ_OK;
}

void wmq_store__thread_stop(struct wmq_store *st)
{
	pthread_mutex_lock(&st->mu);
	st->stop = true;
	pthread_cond_broadcast(&st->wake);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thread, NULL);
	st->thread_started = false;
}

/* ---- Public API ---------------------------------------------------------- */

wmq_err wmq_store_begin(struct wmq_store *st, struct wmq_store_batch **out)
{
	struct wmq_store_batch *b;
	*out = NULL;
	pthread_mutex_lock(&st->mu);
	b = st->free_list;
	if (b) {
		st->free_list = b->next;
		st->nfree--;
		b->next = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	if (!b) {
		b = wmq_calloc(1, sizeof *b);
		WMQ_ENSURE(b, WMQ_ERR_NOMEM);
	}
	b->st = st;
	*out = b;
	return WMQ_OK;
}

void wmq_store_abort(struct wmq_store_batch *b)
{
	if (!b)
		return;
	struct wmq_store *st = b->st;
	pthread_mutex_lock(&st->mu);
	recycle_locked(st, b);
	pthread_mutex_unlock(&st->mu);
}

wmq_err wmq_store_submit(struct wmq_store_batch *b, uint64_t *ticket)
{
	struct wmq_store *st = b->st;
	*ticket = 0;
	if (b->err) {
		wmq_err e = b->err;
		wmq_store_abort(b);
		WMQ_BAIL(e);
	}
	b->next = NULL;
	b->submitted_ms = wmq_now_ms();
	pthread_mutex_lock(&st->mu);
	b->ticket = ++st->last_ticket;
	if (st->tail)
		st->tail->next = b;
	else
		st->head = b;
	st->tail = b;
	st->stats.pending_batches++;
	st->stats.pending_bytes += wmq_store__batch_bytes(b);
	*ticket = b->ticket;
	if (b == st->head)
		pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
	return WMQ_OK;
}

int wmq_store_completion_fd(const struct wmq_store *st)
{
	return st->efd;
}

uint64_t wmq_store_completed(struct wmq_store *st)
{
	uint64_t v;
	if (st->efd >= 0 && read(st->efd, &v, sizeof v) < 0 && errno != EAGAIN) {
		/* nothing else can fail on a valid eventfd */
	}
	return atomic_load(&st->completed);
}

bool wmq_store_failed(const struct wmq_store *st)
{
	return atomic_load(&st->failed);
}

void wmq_store_stats(struct wmq_store *st, struct wmq_store_stats *out)
{
	pthread_mutex_lock(&st->mu);
	*out = st->stats;
	pthread_mutex_unlock(&st->mu);
}

void wmq_store_set_commit_delay(struct wmq_store *st, unsigned ms)
{
	pthread_mutex_lock(&st->mu);
	st->delay_ms = ms;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
}

wmq_err wmq_store_flush(struct wmq_store *st, unsigned timeout_ms)
{
	wmq_err rc = WMQ_OK;
	pthread_mutex_lock(&st->mu);
	uint64_t target = st->last_ticket;
	if (st->flags & WMQ_STORE_INLINE) {
		rc = attempt_locked(st);
	} else if (atomic_load(&st->completed) < target) {
		uint64_t start = st->attempts;
		uint64_t deadline = wmq_now_ms() + timeout_ms;
		st->flush_req = true;
		pthread_cond_signal(&st->wake);
		while (atomic_load(&st->completed) < target) {
			uint64_t now = wmq_now_ms();
			if (st->attempts != start && atomic_load(&st->failed)) {
				rc = wmq_err_note(WMQ_ERR_STORE, __FILE__, __LINE__);
				break;
			}
			if (now >= deadline) {
				rc = wmq_err_note(WMQ_ERR_AGAIN, __FILE__, __LINE__);
				break;
			}
			cond_wait_ms(&st->done, &st->mu, deadline - now);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}
