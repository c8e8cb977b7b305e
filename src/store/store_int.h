/* SPDX-License-Identifier: MIT
 * store_int.h - private to src/store: the handle, the batch (op log), the
 * statement table and helpers shared by open.c, schema.c, batch.c, commit.c
 * and load.c. Nothing outside src/store includes this file.
 *
 * Locks (never held together in the other order):
 *   db_mu  serializes use of the SQLite connection (store thread commits,
 *          wmq_store_load, inline flush, test hooks);
 *   mu     guards the pending list, tickets, failed state, counters, errmsg.
 * The store thread takes db_mu, then mu only briefly to note results. */
#ifndef WMQ_STORE_STORE_INT_H
#define WMQ_STORE_STORE_INT_H
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "store/store.h"

/* Every statement the store runs after open, prepared once at open with
 * SQLITE_PREPARE_PERSISTENT (SQL text in schema.c, same order). A future
 * module (security: users, roles, rules, bans) appends its own. */
enum wmq_store_stmt {
	STMT_BEGIN,
	STMT_BEGIN_READ,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SESSION_PUT,
	STMT_SESSION_DEL,
	STMT_SESSION_EXPIRY,
	STMT_SUB_PUT,
	STMT_SUB_DEL,
	STMT_MSG_PUT,
	STMT_QUEUE_PUT,
	STMT_QUEUE_UPDATE,
	STMT_QUEUE_DEL,
	STMT_INFL_PUT,
	STMT_INFL_DEL,
	STMT_RET_PUT,
	STMT_RET_DEL,
	STMT_GC_CANDIDATES,
	STMT_GC_CLEAR,
	STMT_GC_ALL,
	STMT_DROP_SESSIONS,
	STMT_DROP_QUEUED,
	STMT_DROP_RETAINED,
	STMT_LOAD_MSGS,
	STMT_LOAD_SESSIONS,
	STMT_LOAD_SUBS,
	STMT_LOAD_QUEUE,
	STMT_LOAD_INFL,
	STMT_LOAD_RETAINED,
	STMT__COUNT
};

extern const char *const wmq_store_stmt_sql[STMT__COUNT];
/* Migration i takes user_version i to i+1 (schema.c). */
extern const char *const wmq_store_migrations[WMQ_STORE_SCHEMA_VERSION];
/* Per-connection TEMP table and triggers for message GC (schema.c). */
extern const char wmq_store_temp_sql[];
#define WMQ_STORE_APP_ID 0x574D5121 /* 'WMQ!' */

/* One bound parameter of an op. Slices are offsets into the batch arena so
 * that the arena may grow (realloc) while ops are added. */
enum { P_NULL, P_INT, P_TEXT, P_BLOB };
struct wmq_store_param {
	uint8_t type;  /* P_* */
	uint32_t len;  /* bytes, for P_TEXT/P_BLOB */
	int64_t v;     /* P_INT value, or arena offset for P_TEXT/P_BLOB */
};

/* One op: a statement and its parameters params[first .. first+n). */
struct wmq_store_op {
	uint16_t stmt;   /* enum wmq_store_stmt */
	uint16_t n;      /* parameter count */
	uint32_t first;  /* index of the first parameter */
};

struct wmq_store_batch {
	struct wmq_store *st;          /* owner store */
	struct wmq_store_batch *next;  /* pending list / free list link */
	uint64_t ticket;               /* assigned at submit */
	uint64_t submitted_ms;         /* monotonic, for the commit delay */
	struct wmq_store_op *ops;
	size_t nops, cap_ops;
	struct wmq_store_param *params;
	size_t nparams, cap_params;
	uint8_t *data;                 /* arena for copied bytes */
	size_t len, cap;
	/* op under construction: counts to roll back to on failure */
	size_t mark_params, mark_len;
	wmq_err op_err;                /* first failure inside the current op */
	wmq_err err;                   /* sticky: a failed op poisons the batch */
};

struct wmq_store {
	char *path;                    /* as given to open */
	unsigned flags;                /* enum wmq_store_flag */
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT__COUNT];
	const struct wmq_log *log;     /* borrowed, may be NULL */
	int efd;                       /* completion eventfd, -1 if none */
	int sys_errno;                 /* errno right after the last failed step
	                                  (under db_mu); 0 if none */

	pthread_mutex_t db_mu;
	pthread_mutex_t mu;
	pthread_cond_t wake;           /* store thread: work, flush, stop */
	pthread_cond_t done;           /* flush waiters: an attempt finished */
	bool locks_ready;              /* mutexes/conds initialized */
	bool thread_started;
	pthread_t thread;

	/* under mu */
	struct wmq_store_batch *head, *tail; /* pending, in ticket order */
	struct wmq_store_batch *free_list;   /* recycled batches */
	size_t nfree;
	uint64_t last_ticket;          /* last ticket assigned */
	uint64_t attempts;             /* commit attempts finished */
	bool stop;                     /* close requested */
	bool flush_req;                /* commit now: skip delay and back-off */
	unsigned delay_ms;             /* group-commit window */
	unsigned backoff_ms;           /* 0 when healthy */
	uint64_t retry_at_ms;          /* monotonic time of the next retry */
	struct wmq_store_stats stats;
	char errmsg[512];              /* last problem, "" if none */
	char errmsg_out[512];          /* owner's copy, see wmq_store_errmsg */

	atomic_uint_fast64_t completed; /* highest durable ticket */
	atomic_bool failed;
};

/* Record a SQLite failure |rc| during |what| as st->errmsg (naming the file
 * and what to do). Returns WMQ_ERR_NOMEM for SQLITE_NOMEM, else
 * WMQ_ERR_STORE. Takes mu. */
wmq_err wmq_store__sqlerr(struct wmq_store *st, int rc, const char *what);
/* Set st->errmsg from a format. Takes mu. */
void wmq_store__setmsg(struct wmq_store *st, const char *fmt, ...) WMQ_PRINTF(2, 3);

/* Run a prepared statement to completion (bound already; rows are
 * skipped after the first); resets it and clears its bindings. Returns the
 * SQLite result code (SQLITE_DONE on success); on failure remembers errno
 * in st->sys_errno before SQLite's clean-up can overwrite it. */
int wmq_store__step_done(struct wmq_store *st, sqlite3_stmt *s);

/* Apply |list| (linked by next) in one transaction. Caller holds db_mu and
 * not mu. Returns WMQ_OK or the error (message recorded). */
wmq_err wmq_store__commit_list(struct wmq_store *st, struct wmq_store_batch *list, uint64_t *nops,
			       uint64_t *rejected);

void wmq_store__batch_free(struct wmq_store_batch *b);
/* Reset a batch to empty, keeping (small) buffers. */
void wmq_store__batch_reset(struct wmq_store_batch *b);
size_t wmq_store__batch_bytes(const struct wmq_store_batch *b);

/* Store thread and inline commit (commit.c). */
wmq_err wmq_store__thread_start(struct wmq_store *st);
void wmq_store__thread_stop(struct wmq_store *st);

#endif
