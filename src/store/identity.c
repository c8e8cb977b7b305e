/* SPDX-License-Identifier: MIT
 * identity.c - the identity repository (identity.h): users, groups, roles,
 * rules, client-id bindings, bans, PSK identities and the policy version,
 * on a synchronous connection of its own.
 *
 * Role: a thin, checked layer of prepared statements. The handle wraps an
 * inline struct wmq_store (open.c) so that opening runs exactly the same
 * checks and migrations as the broker's store and reports problems through
 * the same messages; the identity statements (schema.c, ID_*) are prepared
 * on that connection. The store's own statements and thread are not used.
 *
 * Write calls: wbegin() starts BEGIN IMMEDIATE, or a SAVEPOINT inside a
 * caller's transaction, so that a failed call undoes only itself; the
 * policy version is bumped in the same unit; wend() commits or undoes.
 * Logical failures are decided before or by a single statement: existence
 * checks give NOTFOUND with the missing object's name, a PRIMARY KEY
 * conflict gives DENIED, a CHECK failure INVAL.
 * Threading: every call holds h->mu (recursive, so that a transaction opened
 * by wmq_store_id_begin keeps other threads out until commit/rollback).
 * Ownership: see identity.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/time.h"
#include "common/utf8.h"
#include "store/identity.h"
#include "store/identity_int.h"
#include "store/store_int.h"

#define NAME_MAX_BYTES 65535u /* an MQTT UTF-8 string */

struct wmq_store_id {
	struct wmq_store *st;              /* inline store owning the connection */
	sqlite3 *db;                       /* st->db, borrowed */
	sqlite3_stmt *stmt[ID_STMT__COUNT];
	pthread_mutex_t mu;                /* recursive; see the file comment */
	bool mu_ready;
	bool txn;                          /* wmq_store_id_begin() is open (under mu) */
	bool txn_broken;                   /* SQLite rolled it back after an error */
	char msg[160];                     /* errmsg when there is no store yet */
};

static const char *const KIND_STR[] = {"all", "anonymous", "user", "group", "role"};
static const char *const BAN_STR[] = {"clientid", "username", "address"};

const char *wmq_store_id_kind_str(enum wmq_store_id_kind k)
{
	return (unsigned)k < WMQ_ARRAY_LEN(KIND_STR) ? KIND_STR[k] : NULL;
}

const char *wmq_store_id_ban_kind_str(enum wmq_store_id_ban_kind k)
{
	return (unsigned)k < WMQ_ARRAY_LEN(BAN_STR) ? BAN_STR[k] : NULL;
}

/* Index of |s| in |tab|, or -1. */
static int lookup(const char *const *tab, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(tab[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- Locking, messages, statements -------------------------------------- */

static void lock(struct wmq_store_id *h)
{
	pthread_mutex_lock(&h->mu);
}

static void unlock(struct wmq_store_id *h)
{
	pthread_mutex_unlock(&h->mu);
}

#define SETMSG(h, ...) wmq_store__setmsg((h)->st, __VA_ARGS__)

static wmq_err sqlfail(struct wmq_store_id *h, int rc, const char *what)
{
	return wmq_store__sqlerr(h->st, rc, what);
}

/* A name: non-empty, UTF-8, at most 65535 bytes. */
static wmq_err check_name(struct wmq_store_id *h, const char *what, const char *s)
{
	if (!s || !*s) {
		SETMSG(h, "%s is empty", what);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	size_t n = strlen(s);
	if (n > NAME_MAX_BYTES || !wmq_utf8_valid((const uint8_t *)s, n)) {
		SETMSG(h, "%s is not a valid UTF-8 string of at most 65535 bytes", what);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	return WMQ_OK;
}

/* Bind helpers: the first failure sticks in b->rc. */
struct binder {
	sqlite3_stmt *s;
	int rc;
};

static struct binder binder(struct wmq_store_id *h, enum wmq_store_id_stmt id)
{
	return (struct binder){h->stmt[id], SQLITE_OK};
}

static void b_text(struct binder *b, int i, const char *v)
{
	if (b->rc == SQLITE_OK)
		b->rc = v ? sqlite3_bind_text(b->s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(b->s, i);
}

static void b_int(struct binder *b, int i, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->s, i, v);
}

static void b_blob(struct binder *b, int i, const void *p, size_t n)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_blob(b->s, i, p, (int)n, SQLITE_STATIC);
}

/* Run a bound statement that returns no rows. DENIED on a PRIMARY KEY or
 * UNIQUE conflict, NOTFOUND on a foreign key failure, INVAL on a CHECK or
 * NOT NULL failure (messages are generic: callers refine them), else the
 * SQLite error. *changes (may be NULL) = rows changed. */
static wmq_err run(struct wmq_store_id *h, struct binder *b, const char *what, int *changes)
{
	int rc = b->rc;
	if (changes)
		*changes = 0;
	if (rc != SQLITE_OK) {
		(void)sqlite3_reset(b->s);
		(void)sqlite3_clear_bindings(b->s);
		return sqlfail(h, rc, what);
	}
	rc = wmq_store__step_done(h->st, b->s);
	if (rc == SQLITE_DONE) {
		if (changes)
			*changes = sqlite3_changes(h->db);
		return WMQ_OK;
	}
	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		SETMSG(h, "%s: already exists", what);
		WMQ_BAIL(WMQ_ERR_DENIED);
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		SETMSG(h, "%s: refers to something that does not exist", what);
		WMQ_BAIL(WMQ_ERR_NOTFOUND);
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		SETMSG(h, "%s: invalid value (%s)", what, sqlite3_errmsg(h->db));
		WMQ_BAIL(WMQ_ERR_INVAL);
	default:
		return sqlfail(h, rc, what);
	}
}

/* Run a bound single-row query: *found says whether a row came; |row|
 * (may be NULL) reads it before the statement is reset. */
typedef wmq_err (*row_fn)(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx);

static wmq_err query(struct wmq_store_id *h, struct binder *b, const char *what, row_fn row, void *ctx,
		     size_t *nrows)
{
	wmq_err e = WMQ_OK;
	size_t n = 0;
	int rc = b->rc;
	if (rc == SQLITE_OK) {
		/* bounded by the rows of the table */
		while ((rc = sqlite3_step(b->s)) == SQLITE_ROW) {
			n++;
			if (row && (e = row(h, b->s, ctx)) != WMQ_OK)
				break;
		}
		h->st->sys_errno = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : errno;
	}
	(void)sqlite3_reset(b->s);
	(void)sqlite3_clear_bindings(b->s);
	if (e == WMQ_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = sqlfail(h, rc, what);
	if (nrows)
		*nrows = n;
	return e;
}

static wmq_err exists(struct wmq_store_id *h, enum wmq_store_id_stmt id, const char *name, bool *yes)
{
	size_t n = 0;
	struct binder b = binder(h, id);
	b_text(&b, 1, name);
	WMQ_TRY(query(h, &b, "looking up a name", NULL, NULL, &n));
	*yes = n > 0;
	return WMQ_OK;
}

/* NOTFOUND with "no <what> "<name>"" unless it exists. */
static wmq_err need(struct wmq_store_id *h, enum wmq_store_id_stmt id, const char *what, const char *name)
{
	bool yes = false;
	WMQ_TRY(exists(h, id, name, &yes));
	if (!yes) {
		SETMSG(h, "no %s \"%s\"", what, name);
		WMQ_BAIL(WMQ_ERR_NOTFOUND);
	}
	return WMQ_OK;
}

/* Text column; NULL only for a NULL value (an out-of-memory NULL is NOMEM). */
static wmq_err col_text(struct wmq_store_id *h, sqlite3_stmt *s, int i, const char **out)
{
	*out = (const char *)sqlite3_column_text(s, i);
	if (!*out && sqlite3_column_type(s, i) != SQLITE_NULL)
		return sqlfail(h, SQLITE_NOMEM, "reading a row");
	return WMQ_OK;
}

/* Text column of a NOT NULL column. */
static wmq_err col_req(struct wmq_store_id *h, sqlite3_stmt *s, int i, const char **out)
{
	WMQ_TRY(col_text(h, s, i, out));
	if (!*out)
		return sqlfail(h, SQLITE_NOMEM, "reading a row");
	return WMQ_OK;
}

static wmq_err step_simple(struct wmq_store_id *h, enum wmq_store_id_stmt id, const char *what)
{
	int rc = wmq_store__step_done(h->st, h->stmt[id]);
	if (rc != SQLITE_DONE)
		return sqlfail(h, rc, what);
	return WMQ_OK;
}

/* ---- Units of work ------------------------------------------------------- */

enum unit { U_NONE, U_OWN, U_SAVEPOINT };

/* Start a write unit: a transaction of its own, or a savepoint inside the
 * caller's transaction. Caller holds mu. */
static wmq_err wbegin(struct wmq_store_id *h, enum unit *u)
{
	*u = U_NONE;
	if (h->txn) {
		if (h->txn_broken) {
			SETMSG(h, "store %s: the transaction was rolled back after an earlier error: "
				  "roll back and start again", h->st->path);
			WMQ_BAIL(WMQ_ERR_STORE);
		}
		WMQ_TRY(step_simple(h, ID_SAVEPOINT, "starting a savepoint"));
		*u = U_SAVEPOINT;
		return WMQ_OK;
	}
	WMQ_TRY(step_simple(h, ID_BEGIN_W, "starting a write transaction"));
	*u = U_OWN;
	return WMQ_OK;
}

static void undo_quietly(struct wmq_store_id *h, enum wmq_store_id_stmt id)
{
	/* best effort after a failure that is already being reported */
	(void)wmq_store__step_done(h->st, h->stmt[id]);
}

/* Finish a write unit: keep it if e == OK, else undo it. Returns e, or the
 * commit's error. */
static wmq_err wend(struct wmq_store_id *h, enum unit u, wmq_err e)
{
	if (u == U_OWN) {
		if (e == WMQ_OK) {
			e = step_simple(h, ID_COMMIT, "committing");
			if (e != WMQ_OK && !sqlite3_get_autocommit(h->db))
				undo_quietly(h, ID_ROLLBACK);
		} else if (!sqlite3_get_autocommit(h->db)) {
			undo_quietly(h, ID_ROLLBACK);
		}
	} else if (u == U_SAVEPOINT) {
		if (sqlite3_get_autocommit(h->db)) {
			/* SQLite rolled the whole transaction back (I/O error, full
			 * disk, out of memory): nothing of it survives */
			h->txn_broken = true;
			return e != WMQ_OK ? e : wmq_err_note(WMQ_ERR_STORE, __FILE__, __LINE__);
		}
		if (e == WMQ_OK) {
			e = step_simple(h, ID_RELEASE, "releasing a savepoint");
		} else {
			undo_quietly(h, ID_ROLLBACK_TO);
			undo_quietly(h, ID_RELEASE);
		}
		if (sqlite3_get_autocommit(h->db))
			h->txn_broken = true;
	}
	return e;
}

/* A consistent snapshot for multi-statement reads (inside the caller's
 * transaction: nothing to do). */
static wmq_err rbegin(struct wmq_store_id *h, enum unit *u)
{
	*u = U_NONE;
	if (h->txn)
		return WMQ_OK;
	WMQ_TRY(step_simple(h, ID_BEGIN_R, "starting a read transaction"));
	*u = U_OWN;
	return WMQ_OK;
}

static wmq_err rend(struct wmq_store_id *h, enum unit u, wmq_err e)
{
	if (u == U_OWN && !sqlite3_get_autocommit(h->db)) {
		wmq_err c = step_simple(h, ID_COMMIT, "ending a read transaction");
		if (c != WMQ_OK && !sqlite3_get_autocommit(h->db))
			undo_quietly(h, ID_ROLLBACK);
		if (e == WMQ_OK)
			e = c;
	}
	return e;
}

static wmq_err bump(struct wmq_store_id *h)
{
	struct binder b = binder(h, ID_VERSION_BUMP);
	b_int(&b, 1, wmq_wall_s());
	int n = 0;
	WMQ_TRY(run(h, &b, "bumping the policy version", &n));
	if (n != 1) {
		SETMSG(h, "store %s: the policy_version row is missing: the database was edited by hand",
		       h->st->path);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	return WMQ_OK;
}

/* ---- Open, close, transactions ------------------------------------------ */

wmq_err wmq_store_id_open(const char *path, const struct wmq_store_id_opts *opts, struct wmq_store_id **out)
{
	struct wmq_store_id *h = NULL;
	pthread_mutexattr_t ma;
	wmq_err rc = WMQ_OK;

	WMQ_ENSURE(out, WMQ_ERR_INVAL);
	*out = NULL;
	WMQ_ENSURE(path && *path, WMQ_ERR_INVAL);
	h = wmq_calloc(1, sizeof *h);
	WMQ_ENSURE(h, WMQ_ERR_NOMEM);
	if (pthread_mutexattr_init(&ma) != 0) {
		wmq_free(h);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	int r = pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	if (r == 0)
		r = pthread_mutex_init(&h->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	if (r != 0) {
		wmq_free(h);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	h->mu_ready = true;
	*out = h; /* from here on the caller closes it, also on failure */

	unsigned flags = opts ? opts->flags : WMQ_STORE_CREATE;
	struct wmq_store_opts so = {
		.flags = (flags & (WMQ_STORE_CREATE | WMQ_STORE_READONLY | WMQ_STORE_BATCHED | WMQ_STORE_NOSYNC)) |
			 WMQ_STORE_INLINE,
		.busy_timeout_ms = opts ? opts->busy_timeout_ms : 0,
		.log = opts ? opts->log : NULL,
	};
	if ((rc = wmq_store_open(path, &so, &h->st)) != WMQ_OK) {
		if (!h->st)
			snprintf(h->msg, sizeof h->msg, "store %s: %s", path, wmq_err_str(rc));
		goto out;
	}
	h->db = h->st->db;
	for (size_t i = 0; i < ID_STMT__COUNT; i++) {
		int src = sqlite3_prepare_v3(h->db, wmq_store_id_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					     &h->stmt[i], NULL);
		if (src != SQLITE_OK) {
			rc = sqlfail(h, src, "preparing the identity statements");
			goto out;
		}
	}
out:
	return rc;
}

void wmq_store_id_close(struct wmq_store_id *h)
{
	if (!h)
		return;
	if (h->db && !sqlite3_get_autocommit(h->db))
		undo_quietly(h, ID_ROLLBACK);
	for (size_t i = 0; i < ID_STMT__COUNT; i++)
		(void)sqlite3_finalize(h->stmt[i]); /* returns the last step's error, already handled */
	wmq_store_close(h->st);
	if (h->mu_ready)
		pthread_mutex_destroy(&h->mu);
	wmq_free(h);
}

const char *wmq_store_id_errmsg(struct wmq_store_id *h)
{
	if (!h)
		return "";
	if (!h->st)
		return h->msg;
	return wmq_store_errmsg(h->st);
}

wmq_err wmq_store_id_begin(struct wmq_store_id *h)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	lock(h);
	if (h->txn) {
		unlock(h);
		SETMSG(h, "a transaction is already open");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	wmq_err e = step_simple(h, ID_BEGIN_W, "starting a write transaction");
	if (e != WMQ_OK) {
		unlock(h);
		return e;
	}
	h->txn = true;
	h->txn_broken = false;
	return WMQ_OK; /* mu stays held until commit or rollback */
}

wmq_err wmq_store_id_commit(struct wmq_store_id *h)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	lock(h);
	if (!h->txn) {
		unlock(h);
		SETMSG(h, "no transaction is open");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	wmq_err e = WMQ_OK;
	if (h->txn_broken || sqlite3_get_autocommit(h->db)) {
		SETMSG(h, "store %s: the transaction was rolled back after an error: nothing was written",
		       h->st->path);
		e = wmq_err_note(WMQ_ERR_STORE, __FILE__, __LINE__);
	} else if ((e = step_simple(h, ID_COMMIT, "committing")) != WMQ_OK && !sqlite3_get_autocommit(h->db)) {
		undo_quietly(h, ID_ROLLBACK);
	}
	h->txn = false;
	h->txn_broken = false;
	unlock(h); /* the call's own lock */
	unlock(h); /* the one taken by begin */
	return e;
}

void wmq_store_id_rollback(struct wmq_store_id *h)
{
	if (!h || !h->db)
		return;
	lock(h);
	if (!h->txn) {
		unlock(h);
		return;
	}
	if (!sqlite3_get_autocommit(h->db))
		undo_quietly(h, ID_ROLLBACK);
	h->txn = false;
	h->txn_broken = false;
	unlock(h);
	unlock(h);
}

wmq_err wmq_store_id_policy_version(struct wmq_store_id *h, uint64_t *out)
{
	WMQ_ENSURE(h && h->db && out, WMQ_ERR_INVAL);
	lock(h);
	struct binder b = binder(h, ID_VERSION_GET);
	int64_t v = 0;
	int rc = sqlite3_step(b.s);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(b.s, 0);
	(void)sqlite3_reset(b.s);
	wmq_err e = WMQ_OK;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = sqlfail(h, rc, "reading the policy version");
	else if (v < 1) {
		SETMSG(h, "store %s: the policy_version row is missing: the database was edited by hand",
		       h->st->path);
		e = wmq_err_note(WMQ_ERR_STORE, __FILE__, __LINE__);
	}
	unlock(h);
	*out = (uint64_t)v;
	return e;
}

/* ---- A generic write ------------------------------------------------------ */

/* One write statement in its own unit, then a version bump if it changed a
 * row. *changes (may be NULL) = rows changed. The caller refines the
 * message of DENIED / NOTFOUND. */
static wmq_err write1(struct wmq_store_id *h, struct binder *b, const char *what, int *changes)
{
	enum unit u;
	int n = 0;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK)
		e = run(h, b, what, &n);
	else {
		(void)sqlite3_clear_bindings(b->s);
	}
	if (e == WMQ_OK && n > 0)
		e = bump(h);
	e = wend(h, u, e);
	if (changes)
		*changes = e == WMQ_OK ? n : 0;
	return e;
}

/* A delete/update that must hit a row: NOTFOUND "no <what> "<name>"". */
static wmq_err write_existing(struct wmq_store_id *h, struct binder *b, const char *doing, const char *what,
			      const char *name)
{
	int n = 0;
	WMQ_TRY(write1(h, b, doing, &n));
	if (n == 0) {
		SETMSG(h, "no %s \"%s\"", what, name);
		WMQ_BAIL(WMQ_ERR_NOTFOUND);
	}
	return WMQ_OK;
}

/* ---- Users -------------------------------------------------------------- */

wmq_err wmq_store_id_user_add(struct wmq_store_id *h, const char *name, const char *verifier, bool disabled)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the user name", name));
	if (verifier)
		WMQ_TRY(check_name(h, "the verifier", verifier));
	lock(h);
	struct binder b = binder(h, ID_USER_ADD);
	b_text(&b, 1, name);
	b_text(&b, 2, verifier);
	b_int(&b, 3, disabled);
	b_int(&b, 4, wmq_wall_s());
	wmq_err e = write1(h, &b, "adding a user", NULL);
	if (e == WMQ_ERR_DENIED)
		SETMSG(h, "user \"%s\" exists", name);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_user_del(struct wmq_store_id *h, const char *name)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the user name", name));
	lock(h);
	struct binder b = binder(h, ID_USER_DEL);
	b_text(&b, 1, name);
	wmq_err e = write_existing(h, &b, "deleting a user", "user", name);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_user_set_verifier(struct wmq_store_id *h, const char *name, const char *verifier)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the user name", name));
	if (verifier)
		WMQ_TRY(check_name(h, "the verifier", verifier));
	lock(h);
	struct binder b = binder(h, ID_USER_SET_VERIFIER);
	b_text(&b, 1, name);
	b_text(&b, 2, verifier);
	b_int(&b, 3, wmq_wall_s());
	wmq_err e = write_existing(h, &b, "changing a password", "user", name);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_user_upgrade_verifier(struct wmq_store_id *h, const char *name, const char *old_verifier,
					   const char *new_verifier, bool *replaced)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	if (replaced)
		*replaced = false;
	WMQ_TRY(check_name(h, "the user name", name));
	WMQ_TRY(check_name(h, "the old verifier", old_verifier));
	WMQ_TRY(check_name(h, "the new verifier", new_verifier));
	lock(h);
	enum unit u;
	int n = 0;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK) {
		struct binder b = binder(h, ID_USER_UPGRADE);
		b_text(&b, 1, name);
		b_text(&b, 2, old_verifier);
		b_text(&b, 3, new_verifier);
		b_int(&b, 4, wmq_wall_s());
		e = run(h, &b, "upgrading a password verifier", &n);
	}
	/* no bump: the same password, nobody's rights changed */
	e = wend(h, u, e);
	if (e == WMQ_OK && replaced)
		*replaced = n > 0;
	unlock(h);
	return e;
}

wmq_err wmq_store_id_user_set_disabled(struct wmq_store_id *h, const char *name, bool disabled)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the user name", name));
	lock(h);
	struct binder b = binder(h, ID_USER_SET_DISABLED);
	b_text(&b, 1, name);
	b_int(&b, 2, disabled);
	b_int(&b, 3, wmq_wall_s());
	wmq_err e = write_existing(h, &b, disabled ? "disabling a user" : "enabling a user", "user", name);
	unlock(h);
	return e;
}

static wmq_err user_row(struct wmq_store_id *h, sqlite3_stmt *s, struct wmq_store_id_user *u)
{
	memset(u, 0, sizeof *u);
	WMQ_TRY(col_req(h, s, 0, &u->name));
	WMQ_TRY(col_text(h, s, 1, &u->verifier));
	u->disabled = sqlite3_column_int(s, 2) != 0;
	u->created_at = sqlite3_column_int64(s, 3);
	u->updated_at = sqlite3_column_int64(s, 4);
	return WMQ_OK;
}

static wmq_err user_get_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct wmq_store_id_user *out = ctx, u;
	WMQ_TRY(user_row(h, s, &u));
	out->name = wmq_strdup(u.name);
	out->verifier = u.verifier ? wmq_strdup(u.verifier) : NULL;
	out->disabled = u.disabled;
	out->created_at = u.created_at;
	out->updated_at = u.updated_at;
	if (!out->name || (u.verifier && !out->verifier)) {
		wmq_store_id_user_cleanup(out);
		SETMSG(h, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	return WMQ_OK;
}

wmq_err wmq_store_id_user_get(struct wmq_store_id *h, const char *name, struct wmq_store_id_user *out)
{
	WMQ_ENSURE(h && h->db && out, WMQ_ERR_INVAL);
	memset(out, 0, sizeof *out);
	WMQ_TRY(check_name(h, "the user name", name));
	lock(h);
	size_t n = 0;
	struct binder b = binder(h, ID_USER_GET);
	b_text(&b, 1, name);
	wmq_err e = query(h, &b, "reading a user", user_get_row, out, &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "no user \"%s\"", name);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	if (e != WMQ_OK)
		wmq_store_id_user_cleanup(out);
	return e;
}

void wmq_store_id_user_cleanup(struct wmq_store_id_user *u)
{
	if (!u)
		return;
	wmq_free((void *)u->name);
	wmq_free((void *)u->verifier);
	memset(u, 0, sizeof *u);
}

/* A caller's visitor: fn is cast back to its real type before the call. */
typedef void (*any_fn)(void);
struct visit {
	any_fn fn;
	void *arg;
};

static wmq_err user_list_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	struct wmq_store_id_user u;
	WMQ_TRY(user_row(h, s, &u));
	return ((wmq_store_id_user_fn)v->fn)(v->arg, &u);
}

wmq_err wmq_store_id_user_list(struct wmq_store_id *h, wmq_store_id_user_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	struct visit v = {(any_fn)fn, arg};
	struct binder b = binder(h, ID_USER_LIST);
	wmq_err e = query(h, &b, "listing users", user_list_row, &v, NULL);
	unlock(h);
	return e;
}

/* ---- Groups and roles ----------------------------------------------------- */

static wmq_err named_add(struct wmq_store_id *h, enum wmq_store_id_stmt id, const char *what, const char *name)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	char label[32];
	snprintf(label, sizeof label, "the %s name", what);
	WMQ_TRY(check_name(h, label, name));
	lock(h);
	struct binder b = binder(h, id);
	b_text(&b, 1, name);
	b_int(&b, 2, wmq_wall_s());
	wmq_err e = write1(h, &b, "adding a name", NULL);
	if (e == WMQ_ERR_DENIED)
		SETMSG(h, "%s \"%s\" exists", what, name);
	unlock(h);
	return e;
}

static wmq_err named_del(struct wmq_store_id *h, enum wmq_store_id_stmt id, const char *what, const char *name)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	char label[32];
	snprintf(label, sizeof label, "the %s name", what);
	WMQ_TRY(check_name(h, label, name));
	lock(h);
	struct binder b = binder(h, id);
	b_text(&b, 1, name);
	wmq_err e = write_existing(h, &b, "deleting a name", what, name);
	unlock(h);
	return e;
}

static wmq_err entry_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	const char *name;
	WMQ_TRY(col_req(h, s, 0, &name));
	int64_t count = sqlite3_column_int64(s, 2);
	return ((wmq_store_id_entry_fn)v->fn)(v->arg, name, sqlite3_column_int64(s, 1),
					       count > 0 ? (uint64_t)count : 0);
}

static wmq_err entry_list(struct wmq_store_id *h, enum wmq_store_id_stmt id, wmq_store_id_entry_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	struct visit v = {(any_fn)fn, arg};
	struct binder b = binder(h, id);
	wmq_err e = query(h, &b, "listing names", entry_row, &v, NULL);
	unlock(h);
	return e;
}

static wmq_err name_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	const char *name;
	WMQ_TRY(col_req(h, s, 0, &name));
	return ((wmq_store_id_name_fn)v->fn)(v->arg, name);
}

/* Names from |list| (bound to |key|) after checking that |key| exists. */
static wmq_err names_of(struct wmq_store_id *h, enum wmq_store_id_stmt exists_id, const char *what,
			enum wmq_store_id_stmt list, const char *key, wmq_store_id_name_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	char label[32];
	snprintf(label, sizeof label, "the %s name", what);
	WMQ_TRY(check_name(h, label, key));
	lock(h);
	enum unit u;
	wmq_err e = rbegin(h, &u);
	if (e == WMQ_OK)
		e = need(h, exists_id, what, key);
	if (e == WMQ_OK) {
		struct visit v = {(any_fn)fn, arg};
		struct binder b = binder(h, list);
		b_text(&b, 1, key);
		e = query(h, &b, "listing names", name_row, &v, NULL);
	}
	e = rend(h, u, e);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_group_add(struct wmq_store_id *h, const char *name)
{
	return named_add(h, ID_GROUP_ADD, "group", name);
}

wmq_err wmq_store_id_group_del(struct wmq_store_id *h, const char *name)
{
	return named_del(h, ID_GROUP_DEL, "group", name);
}

wmq_err wmq_store_id_group_list(struct wmq_store_id *h, wmq_store_id_entry_fn fn, void *arg)
{
	return entry_list(h, ID_GROUP_LIST, fn, arg);
}

wmq_err wmq_store_id_group_members(struct wmq_store_id *h, const char *group, wmq_store_id_name_fn fn, void *arg)
{
	return names_of(h, ID_GROUP_EXISTS, "group", ID_GROUP_MEMBERS, group, fn, arg);
}

wmq_err wmq_store_id_group_roles(struct wmq_store_id *h, const char *group, wmq_store_id_name_fn fn, void *arg)
{
	return names_of(h, ID_GROUP_EXISTS, "group", ID_GROUP_ROLES, group, fn, arg);
}

/* Insert a link row (membership, grant) after checking both ends exist. */
static wmq_err link_add(struct wmq_store_id *h, enum wmq_store_id_stmt id, enum wmq_store_id_stmt e1,
			const char *w1, const char *n1, enum wmq_store_id_stmt e2, const char *w2, const char *n2,
			const char *relation)
{
	lock(h);
	enum unit u;
	int n = 0;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK)
		e = need(h, e1, w1, n1);
	if (e == WMQ_OK)
		e = need(h, e2, w2, n2);
	if (e == WMQ_OK) {
		struct binder b = binder(h, id);
		b_text(&b, 1, n1);
		b_text(&b, 2, n2);
		b_int(&b, 3, wmq_wall_s());
		e = run(h, &b, "adding a link", &n);
		if (e == WMQ_ERR_DENIED)
			SETMSG(h, "%s \"%s\" is already %s %s \"%s\"", w1, n1, relation, w2, n2);
	}
	if (e == WMQ_OK && n > 0)
		e = bump(h);
	e = wend(h, u, e);
	unlock(h);
	return e;
}

static wmq_err link_del(struct wmq_store_id *h, enum wmq_store_id_stmt id, const char *w1, const char *n1,
			const char *w2, const char *n2, const char *relation)
{
	lock(h);
	struct binder b = binder(h, id);
	b_text(&b, 1, n1);
	b_text(&b, 2, n2);
	int n = 0;
	wmq_err e = write1(h, &b, "removing a link", &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "%s \"%s\" is not %s %s \"%s\"", w1, n1, relation, w2, n2);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	return e;
}

wmq_err wmq_store_id_group_member_add(struct wmq_store_id *h, const char *group, const char *user)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the user name", user));
	WMQ_TRY(check_name(h, "the group name", group));
	/* statement order: ?1 user, ?2 group */
	return link_add(h, ID_MEMBER_ADD, ID_USER_EXISTS, "user", user, ID_GROUP_EXISTS, "group", group, "in");
}

wmq_err wmq_store_id_group_member_del(struct wmq_store_id *h, const char *group, const char *user)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the user name", user));
	WMQ_TRY(check_name(h, "the group name", group));
	return link_del(h, ID_MEMBER_DEL, "user", user, "group", group, "in");
}

wmq_err wmq_store_id_role_add(struct wmq_store_id *h, const char *name)
{
	return named_add(h, ID_ROLE_ADD, "role", name);
}

wmq_err wmq_store_id_role_del(struct wmq_store_id *h, const char *name)
{
	return named_del(h, ID_ROLE_DEL, "role", name);
}

wmq_err wmq_store_id_role_list(struct wmq_store_id *h, wmq_store_id_entry_fn fn, void *arg)
{
	return entry_list(h, ID_ROLE_LIST, fn, arg);
}

wmq_err wmq_store_id_role_grant(struct wmq_store_id *h, const char *role, enum wmq_store_id_grantee kind,
				const char *name)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_ENSURE(kind == WMQ_STORE_ID_GRANT_USER || kind == WMQ_STORE_ID_GRANT_GROUP, WMQ_ERR_INVAL);
	bool user = kind == WMQ_STORE_ID_GRANT_USER;
	WMQ_TRY(check_name(h, "the role name", role));
	WMQ_TRY(check_name(h, user ? "the user name" : "the group name", name));
	/* statement order: ?1 role, ?2 grantee */
	return link_add(h, user ? ID_GRANT_USER : ID_GRANT_GROUP, ID_ROLE_EXISTS, "role", role,
			user ? ID_USER_EXISTS : ID_GROUP_EXISTS, user ? "user" : "group", name, "granted to");
}

wmq_err wmq_store_id_role_revoke(struct wmq_store_id *h, const char *role, enum wmq_store_id_grantee kind,
				 const char *name)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_ENSURE(kind == WMQ_STORE_ID_GRANT_USER || kind == WMQ_STORE_ID_GRANT_GROUP, WMQ_ERR_INVAL);
	bool user = kind == WMQ_STORE_ID_GRANT_USER;
	WMQ_TRY(check_name(h, "the role name", role));
	WMQ_TRY(check_name(h, user ? "the user name" : "the group name", name));
	return link_del(h, user ? ID_REVOKE_USER : ID_REVOKE_GROUP, "role", role, user ? "user" : "group", name,
			"granted to");
}

static wmq_err holder_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	const char *name;
	WMQ_TRY(col_req(h, s, 1, &name));
	enum wmq_store_id_grantee k = sqlite3_column_int(s, 0) == 0 ? WMQ_STORE_ID_GRANT_USER : WMQ_STORE_ID_GRANT_GROUP;
	return ((wmq_store_id_holder_fn)v->fn)(v->arg, k, name);
}

wmq_err wmq_store_id_role_holders(struct wmq_store_id *h, const char *role, wmq_store_id_holder_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the role name", role));
	lock(h);
	enum unit u;
	wmq_err e = rbegin(h, &u);
	if (e == WMQ_OK)
		e = need(h, ID_ROLE_EXISTS, "role", role);
	if (e == WMQ_OK) {
		struct visit v = {(any_fn)fn, arg};
		struct binder b = binder(h, ID_ROLE_HOLDERS);
		b_text(&b, 1, role);
		e = query(h, &b, "listing role holders", holder_row, &v, NULL);
	}
	e = rend(h, u, e);
	unlock(h);
	return e;
}

/* ---- The principal of a connection ---------------------------------------- */

struct strv {
	char **v;
	size_t n, cap;
};

static wmq_err strv_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct strv *sv = ctx;
	const char *name;
	WMQ_TRY(col_req(h, s, 0, &name));
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 4;
		char **v = wmq_reallocarray(sv->v, cap, sizeof *v);
		if (!v) {
			SETMSG(h, "out of memory");
			WMQ_BAIL(WMQ_ERR_NOMEM);
		}
		sv->v = v;
		sv->cap = cap;
	}
	if (!(sv->v[sv->n] = wmq_strdup(name))) {
		SETMSG(h, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	sv->n++;
	return WMQ_OK;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wmq_free(v[i]);
	wmq_free(v);
}

static wmq_err auth_user_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct wmq_store_id_auth *a = ctx;
	struct wmq_store_id_user u;
	WMQ_TRY(user_row(h, s, &u));
	a->user_exists = true;
	a->user_disabled = u.disabled;
	if (u.verifier && !(a->verifier = wmq_strdup(u.verifier))) {
		SETMSG(h, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	return WMQ_OK;
}

static wmq_err first_text_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	char **out = ctx;
	const char *t;
	WMQ_TRY(col_req(h, s, 0, &t));
	if (!(*out = wmq_strdup(t))) {
		SETMSG(h, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	return WMQ_OK;
}

static wmq_err version_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	WMQ_UNUSED(h);
	int64_t v = sqlite3_column_int64(s, 0);
	*(uint64_t *)ctx = v > 0 ? (uint64_t)v : 0;
	return WMQ_OK;
}

static wmq_err read_version(struct wmq_store_id *h, uint64_t *out)
{
	*out = 0;
	struct binder b = binder(h, ID_VERSION_GET);
	WMQ_TRY(query(h, &b, "reading the policy version", version_row, out, NULL));
	if (*out == 0) {
		SETMSG(h, "store %s: the policy_version row is missing: the database was edited by hand",
		       h->st->path);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	return WMQ_OK;
}

wmq_err wmq_store_id_auth_lookup(struct wmq_store_id *h, const char *username, const char *client_id,
				 struct wmq_store_id_auth *out)
{
	WMQ_ENSURE(h && h->db && out, WMQ_ERR_INVAL);
	memset(out, 0, sizeof *out);
	if (username)
		WMQ_TRY(check_name(h, "the user name", username));
	lock(h);
	struct strv groups = {0}, roles = {0};
	enum unit u;
	wmq_err e = rbegin(h, &u);
	if (e == WMQ_OK && username) {
		struct binder b = binder(h, ID_USER_GET);
		b_text(&b, 1, username);
		e = query(h, &b, "reading a user", auth_user_row, out, NULL);
		if (e == WMQ_OK && out->user_exists) {
			b = binder(h, ID_USER_GROUPS);
			b_text(&b, 1, username);
			e = query(h, &b, "reading a user's groups", strv_row, &groups, NULL);
		}
		if (e == WMQ_OK && out->user_exists) {
			b = binder(h, ID_USER_ROLES);
			b_text(&b, 1, username);
			e = query(h, &b, "reading a user's roles", strv_row, &roles, NULL);
		}
	}
	if (e == WMQ_OK && client_id && *client_id) {
		struct binder b = binder(h, ID_CLIENT_GET);
		b_text(&b, 1, client_id);
		e = query(h, &b, "reading a client binding", first_text_row, &out->bound_user, NULL);
	}
	if (e == WMQ_OK)
		e = read_version(h, &out->policy_version);
	e = rend(h, u, e);
	unlock(h);
	out->groups = groups.v;
	out->ngroups = groups.n;
	out->roles = roles.v;
	out->nroles = roles.n;
	if (e != WMQ_OK)
		wmq_store_id_auth_cleanup(out);
	return e;
}

void wmq_store_id_auth_cleanup(struct wmq_store_id_auth *a)
{
	if (!a)
		return;
	wmq_free(a->verifier);
	strv_free(a->groups, a->ngroups);
	strv_free(a->roles, a->nroles);
	wmq_free(a->bound_user);
	memset(a, 0, sizeof *a);
}

/* ---- Rules ---------------------------------------------------------------- */

static bool rule_ok(const struct wmq_store_id_rule *r)
{
	bool named = r->kind == WMQ_STORE_ID_USER || r->kind == WMQ_STORE_ID_GROUP || r->kind == WMQ_STORE_ID_ROLE;
	return wmq_store_id_kind_str(r->kind) && (named == (r->name != NULL)) && r->actions >= 1 &&
	       r->actions <= 15 && r->filter && *r->filter && r->max_qos >= -1 && r->max_qos <= 2;
}

wmq_err wmq_store_id_rule_add(struct wmq_store_id *h, const struct wmq_store_id_rule *r, uint64_t *id)
{
	WMQ_ENSURE(h && h->db && r, WMQ_ERR_INVAL);
	if (id)
		*id = 0;
	if (!rule_ok(r)) {
		SETMSG(h, "invalid rule (principal kind and name, actions 1..15, filter, max_qos -1..2)");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (r->name)
		WMQ_TRY(check_name(h, "the principal name", r->name));
	WMQ_TRY(check_name(h, "the topic filter", r->filter));
	if (r->origin)
		WMQ_TRY(check_name(h, "the rule origin", r->origin));
	lock(h);
	struct binder b = binder(h, ID_RULE_ADD);
	b_text(&b, 1, wmq_store_id_kind_str(r->kind));
	b_text(&b, 2, r->name);
	b_text(&b, 3, r->allow ? "allow" : "deny");
	b_int(&b, 4, r->actions);
	b_text(&b, 5, r->filter);
	if (r->max_qos >= 0)
		b_int(&b, 6, r->max_qos);
	b_int(&b, 7, r->priority);
	b_int(&b, 8, r->subst);
	b_text(&b, 9, r->origin);
	b_int(&b, 10, wmq_wall_s());
	enum unit u;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK) {
		e = run(h, &b, "adding a rule", NULL);
		if (e == WMQ_OK && id)
			*id = (uint64_t)sqlite3_last_insert_rowid(h->db);
		if (e == WMQ_OK)
			e = bump(h);
	} else {
		(void)sqlite3_clear_bindings(b.s);
	}
	e = wend(h, u, e);
	if (e != WMQ_OK && id)
		*id = 0;
	unlock(h);
	return e;
}

wmq_err wmq_store_id_rule_del(struct wmq_store_id *h, uint64_t id)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	lock(h);
	struct binder b = binder(h, ID_RULE_DEL);
	b_int(&b, 1, id > INT64_MAX ? -1 : (int64_t)id);
	int n = 0;
	wmq_err e = write1(h, &b, "deleting a rule", &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "no rule #%llu", (unsigned long long)id);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	return e;
}

wmq_err wmq_store_id_rule_del_all(struct wmq_store_id *h, uint64_t *count)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	lock(h);
	struct binder b = binder(h, ID_RULE_DEL_ALL);
	int n = 0;
	wmq_err e = write1(h, &b, "deleting all rules", &n);
	unlock(h);
	if (count)
		*count = n > 0 ? (uint64_t)n : 0;
	return e;
}

static wmq_err rule_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	struct wmq_store_id_rule r;
	const char *kind, *effect;
	memset(&r, 0, sizeof r);
	r.id = (uint64_t)sqlite3_column_int64(s, 0);
	WMQ_TRY(col_req(h, s, 1, &kind));
	WMQ_TRY(col_text(h, s, 2, &r.name));
	WMQ_TRY(col_req(h, s, 3, &effect));
	int64_t actions = sqlite3_column_int64(s, 4);
	WMQ_TRY(col_req(h, s, 5, &r.filter));
	r.max_qos = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 6);
	int64_t prio = sqlite3_column_int64(s, 7);
	r.subst = sqlite3_column_int(s, 8) != 0;
	WMQ_TRY(col_text(h, s, 9, &r.origin));
	r.created_at = sqlite3_column_int64(s, 10);
	int k = lookup(KIND_STR, WMQ_ARRAY_LEN(KIND_STR), kind);
	if (k < 0 || actions < 1 || actions > 15 || prio < INT32_MIN || prio > INT32_MAX || r.max_qos > 2 ||
	    (strcmp(effect, "allow") != 0 && strcmp(effect, "deny") != 0)) {
		SETMSG(h, "store %s: rule #%llu is invalid: the database was edited by hand", h->st->path,
		       (unsigned long long)r.id);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	r.kind = (enum wmq_store_id_kind)k;
	r.allow = effect[0] == 'a';
	r.actions = (unsigned)actions;
	r.priority = (int32_t)prio;
	return ((wmq_store_id_rule_fn)v->fn)(v->arg, &r);
}

wmq_err wmq_store_id_rule_get(struct wmq_store_id *h, uint64_t id, wmq_store_id_rule_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	struct visit v = {(any_fn)fn, arg};
	struct binder b = binder(h, ID_RULE_GET);
	b_int(&b, 1, id > INT64_MAX ? -1 : (int64_t)id);
	size_t n = 0;
	wmq_err e = query(h, &b, "reading a rule", rule_row, &v, &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "no rule #%llu", (unsigned long long)id);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	return e;
}

wmq_err wmq_store_id_rules(struct wmq_store_id *h, wmq_store_id_rule_fn fn, void *arg, uint64_t *version)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	uint64_t ver = 0;
	enum unit u;
	wmq_err e = rbegin(h, &u);
	if (e == WMQ_OK)
		e = read_version(h, &ver);
	if (version)
		*version = ver; /* before the first callback: a loader can size its policy */
	if (e == WMQ_OK) {
		struct visit v = {(any_fn)fn, arg};
		struct binder b = binder(h, ID_RULE_LIST);
		e = query(h, &b, "reading the rules", rule_row, &v, NULL);
	}
	e = rend(h, u, e);
	unlock(h);
	if (version && e != WMQ_OK)
		*version = 0;
	return e;
}

/* ---- Client-id bindings ----------------------------------------------------- */

wmq_err wmq_store_id_client_bind(struct wmq_store_id *h, const char *client_id, const char *user)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the client id", client_id));
	WMQ_TRY(check_name(h, "the user name", user));
	lock(h);
	enum unit u;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK)
		e = need(h, ID_USER_EXISTS, "user", user);
	if (e == WMQ_OK) {
		struct binder b = binder(h, ID_CLIENT_BIND);
		b_text(&b, 1, client_id);
		b_text(&b, 2, user);
		b_int(&b, 3, wmq_wall_s());
		e = run(h, &b, "binding a client id", NULL);
		if (e == WMQ_ERR_DENIED)
			SETMSG(h, "client id \"%s\" is bound already (unbind it first)", client_id);
	}
	if (e == WMQ_OK)
		e = bump(h);
	e = wend(h, u, e);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_client_unbind(struct wmq_store_id *h, const char *client_id)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the client id", client_id));
	lock(h);
	struct binder b = binder(h, ID_CLIENT_UNBIND);
	b_text(&b, 1, client_id);
	wmq_err e = write_existing(h, &b, "unbinding a client id", "binding for client id", client_id);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_client_get(struct wmq_store_id *h, const char *client_id, char **user)
{
	WMQ_ENSURE(h && h->db && user, WMQ_ERR_INVAL);
	*user = NULL;
	WMQ_TRY(check_name(h, "the client id", client_id));
	lock(h);
	struct binder b = binder(h, ID_CLIENT_GET);
	b_text(&b, 1, client_id);
	size_t n = 0;
	wmq_err e = query(h, &b, "reading a client binding", first_text_row, user, &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "client id \"%s\" is not bound", client_id);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	if (e != WMQ_OK) {
		wmq_free(*user);
		*user = NULL;
	}
	return e;
}

static wmq_err binding_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	const char *cid, *user;
	WMQ_TRY(col_req(h, s, 0, &cid));
	WMQ_TRY(col_text(h, s, 1, &user));
	return ((wmq_store_id_binding_fn)v->fn)(v->arg, cid, user, sqlite3_column_int64(s, 2));
}

wmq_err wmq_store_id_client_list(struct wmq_store_id *h, const char *user, wmq_store_id_binding_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	struct visit v = {(any_fn)fn, arg};
	struct binder b = binder(h, user ? ID_CLIENT_LIST_USER : ID_CLIENT_LIST);
	if (user)
		b_text(&b, 1, user);
	wmq_err e = query(h, &b, "listing client bindings", binding_row, &v, NULL);
	unlock(h);
	return e;
}

/* ---- Bans ----------------------------------------------------------------- */

wmq_err wmq_store_id_ban_add(struct wmq_store_id *h, const struct wmq_store_id_ban *ban, bool *replaced)
{
	WMQ_ENSURE(h && h->db && ban, WMQ_ERR_INVAL);
	if (replaced)
		*replaced = false;
	const char *kind = wmq_store_id_ban_kind_str(ban->kind);
	if (!kind || ban->expires_at < 0) {
		SETMSG(h, "invalid ban kind or expiry");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	WMQ_TRY(check_name(h, "the banned value", ban->value));
	if (ban->reason)
		WMQ_TRY(check_name(h, "the ban reason", ban->reason));
	lock(h);
	enum unit u;
	bool had = false;
	size_t n = 0;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK) {
		struct binder b = binder(h, ID_BAN_GET);
		b_text(&b, 1, kind);
		b_text(&b, 2, ban->value);
		e = query(h, &b, "reading a ban", NULL, NULL, &n);
		had = n > 0;
	}
	if (e == WMQ_OK) {
		struct binder b = binder(h, ID_BAN_PUT);
		b_text(&b, 1, kind);
		b_text(&b, 2, ban->value);
		if (ban->expires_at > 0)
			b_int(&b, 3, ban->expires_at);
		b_text(&b, 4, ban->reason);
		b_int(&b, 5, wmq_wall_s());
		e = run(h, &b, "adding a ban", NULL);
	}
	if (e == WMQ_OK)
		e = bump(h);
	e = wend(h, u, e);
	if (e == WMQ_OK && replaced)
		*replaced = had;
	unlock(h);
	return e;
}

wmq_err wmq_store_id_ban_del(struct wmq_store_id *h, enum wmq_store_id_ban_kind kind, const char *value)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	const char *k = wmq_store_id_ban_kind_str(kind);
	if (!k) {
		SETMSG(h, "invalid ban kind");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	WMQ_TRY(check_name(h, "the banned value", value));
	lock(h);
	struct binder b = binder(h, ID_BAN_DEL);
	b_text(&b, 1, k);
	b_text(&b, 2, value);
	int n = 0;
	wmq_err e = write1(h, &b, "removing a ban", &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "no %s ban \"%s\"", k, value);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	return e;
}

static wmq_err ban_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct visit *v = ctx;
	struct wmq_store_id_ban ban;
	const char *kind;
	memset(&ban, 0, sizeof ban);
	WMQ_TRY(col_req(h, s, 0, &kind));
	WMQ_TRY(col_req(h, s, 1, &ban.value));
	ban.expires_at = sqlite3_column_type(s, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 2);
	WMQ_TRY(col_text(h, s, 3, &ban.reason));
	ban.created_at = sqlite3_column_int64(s, 4);
	int k = lookup(BAN_STR, WMQ_ARRAY_LEN(BAN_STR), kind);
	if (k < 0) {
		SETMSG(h, "store %s: a ban has an unknown kind: the database was edited by hand", h->st->path);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	ban.kind = (enum wmq_store_id_ban_kind)k;
	return ((wmq_store_id_ban_fn)v->fn)(v->arg, &ban);
}

wmq_err wmq_store_id_ban_list(struct wmq_store_id *h, int64_t now, wmq_store_id_ban_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	struct visit v = {(any_fn)fn, arg};
	struct binder b = binder(h, ID_BAN_LIST);
	b_int(&b, 1, now);
	wmq_err e = query(h, &b, "listing bans", ban_row, &v, NULL);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_ban_purge(struct wmq_store_id *h, int64_t now, uint64_t *count)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	lock(h);
	struct binder b = binder(h, ID_BAN_PURGE);
	b_int(&b, 1, now);
	int n = 0;
	wmq_err e = write1(h, &b, "purging expired bans", &n);
	unlock(h);
	if (count)
		*count = n > 0 ? (uint64_t)n : 0;
	return e;
}

/* ---- TLS PSK identities ------------------------------------------------------ */

wmq_err wmq_store_id_psk_add(struct wmq_store_id *h, const char *identity, const uint8_t *key, size_t key_len,
			     const char *user)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the PSK identity", identity));
	if (!key || key_len < 1 || key_len > WMQ_STORE_ID_PSK_MAX) {
		SETMSG(h, "a PSK key has 1 to %u bytes", WMQ_STORE_ID_PSK_MAX);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (user)
		WMQ_TRY(check_name(h, "the user name", user));
	lock(h);
	enum unit u;
	wmq_err e = wbegin(h, &u);
	if (e == WMQ_OK && user)
		e = need(h, ID_USER_EXISTS, "user", user);
	if (e == WMQ_OK) {
		struct binder b = binder(h, ID_PSK_ADD);
		b_text(&b, 1, identity);
		b_blob(&b, 2, key, key_len);
		b_text(&b, 3, user);
		b_int(&b, 4, wmq_wall_s());
		e = run(h, &b, "adding a PSK identity", NULL);
		if (e == WMQ_ERR_DENIED)
			SETMSG(h, "PSK identity \"%s\" exists", identity);
	}
	if (e == WMQ_OK)
		e = bump(h);
	e = wend(h, u, e);
	unlock(h);
	return e;
}

wmq_err wmq_store_id_psk_del(struct wmq_store_id *h, const char *identity)
{
	WMQ_ENSURE(h && h->db, WMQ_ERR_INVAL);
	WMQ_TRY(check_name(h, "the PSK identity", identity));
	lock(h);
	struct binder b = binder(h, ID_PSK_DEL);
	b_text(&b, 1, identity);
	wmq_err e = write_existing(h, &b, "deleting a PSK identity", "PSK identity", identity);
	unlock(h);
	return e;
}

static wmq_err psk_row(struct wmq_store_id *h, sqlite3_stmt *s, void *ctx)
{
	struct wmq_store_id_psk *p = ctx;
	const char *id, *user;
	WMQ_TRY(col_req(h, s, 0, &id));
	const void *key = sqlite3_column_blob(s, 1);
	int klen = sqlite3_column_bytes(s, 1);
	WMQ_TRY(col_text(h, s, 2, &user));
	if (!key || klen < 1 || klen > (int)WMQ_STORE_ID_PSK_MAX) {
		if (!key && sqlite3_errcode(h->db) == SQLITE_NOMEM)
			return sqlfail(h, SQLITE_NOMEM, "reading a PSK identity");
		SETMSG(h, "store %s: PSK identity \"%s\" has an invalid key: the database was edited by hand",
		       h->st->path, id);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	p->identity = wmq_strdup(id);
	p->key = wmq_memdup(key, (size_t)klen);
	p->key_len = (size_t)klen;
	p->username = user ? wmq_strdup(user) : NULL;
	p->created_at = sqlite3_column_int64(s, 3);
	if (!p->identity || !p->key || (user && !p->username)) {
		wmq_store_id_psk_cleanup(p);
		SETMSG(h, "out of memory");
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	return WMQ_OK;
}

wmq_err wmq_store_id_psk_get(struct wmq_store_id *h, const char *identity, struct wmq_store_id_psk *out)
{
	WMQ_ENSURE(h && h->db && out, WMQ_ERR_INVAL);
	memset(out, 0, sizeof *out);
	WMQ_TRY(check_name(h, "the PSK identity", identity));
	lock(h);
	struct binder b = binder(h, ID_PSK_GET);
	b_text(&b, 1, identity);
	size_t n = 0;
	wmq_err e = query(h, &b, "reading a PSK identity", psk_row, out, &n);
	if (e == WMQ_OK && n == 0) {
		SETMSG(h, "no PSK identity \"%s\"", identity);
		e = wmq_err_note(WMQ_ERR_NOTFOUND, __FILE__, __LINE__);
	}
	unlock(h);
	if (e != WMQ_OK)
		wmq_store_id_psk_cleanup(out);
	return e;
}

void wmq_store_id_psk_cleanup(struct wmq_store_id_psk *p)
{
	if (!p)
		return;
	if (p->key)
		explicit_bzero(p->key, p->key_len);
	wmq_free(p->key);
	wmq_free(p->identity);
	wmq_free(p->username);
	memset(p, 0, sizeof *p);
}

wmq_err wmq_store_id_psk_list(struct wmq_store_id *h, wmq_store_id_binding_fn fn, void *arg)
{
	WMQ_ENSURE(h && h->db && fn, WMQ_ERR_INVAL);
	lock(h);
	struct visit v = {(any_fn)fn, arg};
	struct binder b = binder(h, ID_PSK_LIST);
	wmq_err e = query(h, &b, "listing PSK identities", binding_row, &v, NULL);
	unlock(h);
	return e;
}
