/* SPDX-License-Identifier: MIT
 * open.c - opening, checking, migrating and closing the database; error
 * messages that name the file and say what to do.
 *
 * Role: everything between a path and a ready handle. Order of open: the
 * directory exists -> sqlite3_open_v2 -> not silently read-only -> pragmas
 * (WAL, synchronous, foreign keys) -> quick_check -> it is ours
 * (application_id) and not newer (user_version) -> migrations, each in its
 * own transaction -> TEMP GC triggers -> statements prepared once
 * (SQLITE_PREPARE_PERSISTENT) -> store thread started.
 * SQLite's allocator is routed through wmq_malloc (once per process) so that
 * wmq_alloc_fail_after() also exercises SQLite's out-of-memory paths.
 * Threading: open/close on the owner thread. Ownership: see store.h. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/path.h"
#include "store/store_int.h"
#include "store/testing.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000u
#define JOURNAL_SIZE_LIMIT "67108864" /* truncate the WAL back to 64 MiB */

/* ---- SQLite allocations through wmq_malloc ------------------------------ */

/* Each block carries its size in front (SQLite needs xSize). */
#define HDR ((size_t)alignof(max_align_t))

static void *sq_malloc(int n)
{
	if (n < 0)
		return NULL;
	size_t sz = (size_t)n;
	unsigned char *p = wmq_malloc(sz + HDR);
	if (!p)
		return NULL;
	memcpy(p, &sz, sizeof sz);
	return p + HDR;
}

static void sq_free(void *p)
{
	if (p)
		wmq_free((unsigned char *)p - HDR);
}

static void *sq_realloc(void *p, int n)
{
	if (!p)
		return sq_malloc(n);
	if (n < 0)
		return NULL;
	size_t sz = (size_t)n;
	unsigned char *q = wmq_realloc((unsigned char *)p - HDR, sz + HDR);
	if (!q)
		return NULL;
	memcpy(q, &sz, sizeof sz);
	return q + HDR;
}

static int sq_size(void *p)
{
	size_t sz = 0;
	if (p)
		memcpy(&sz, (unsigned char *)p - HDR, sizeof sz);
	return (int)sz;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *arg)
{
	WMQ_UNUSED(arg);
	return SQLITE_OK;
}

static void sq_shutdown(void *arg)
{
	WMQ_UNUSED(arg);
}

static const sqlite3_mem_methods sq_mem = {
	sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL,
};

/* Process-wide, set once before SQLite initializes. If something else in
 * the process initialized SQLite first, sqlite3_config() refuses
 * (SQLITE_MISUSE) and SQLite keeps its own allocator: harmless, only the
 * fault injection then does not reach inside SQLite. */
static pthread_once_t sq_mem_once = PTHREAD_ONCE_INIT;

static void sq_mem_install(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &sq_mem);
}

/* ---- Error messages ----------------------------------------------------- */

void wmq_store__setmsg(struct wmq_store *st, const char *fmt, ...)
{
	va_list ap;
	if (st->locks_ready)
		pthread_mutex_lock(&st->mu);
	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
	va_end(ap);
	if (st->locks_ready)
		pthread_mutex_unlock(&st->mu);
}

static bool errno_is_full(int e)
{
	return e == ENOSPC || e == EFBIG || e == EDQUOT;
}

static bool prim_is_io(int rc)
{
	return (rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL;
}

wmq_err wmq_store__sqlerr(struct wmq_store *st, int rc, const char *what)
{
	int prim = rc & 0xff;
	int sys = st->db ? sqlite3_system_errno(st->db) : 0;
	/* SQLite notes errno when it records the error, after its own clean-up
	 * ran; the value taken right after the failed step is more reliable
	 * for telling "disk full" from other I/O errors. */
	if (prim_is_io(rc) && errno_is_full(st->sys_errno))
		sys = st->sys_errno;
	const char *detail = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
	const char *advice;
	wmq_err e = WMQ_ERR_STORE;

	if (prim == SQLITE_NOMEM || rc == SQLITE_IOERR_NOMEM) {
		advice = "out of memory";
		e = WMQ_ERR_NOMEM;
	} else if (prim == SQLITE_FULL || (prim == SQLITE_IOERR && errno_is_full(sys))) {
		advice = "the disk is full or a file-size limit was reached: free space on the "
			 "filesystem holding it (a running broker retries and recovers by itself)";
	} else if (prim == SQLITE_READONLY) {
		advice = "the database is read-only: make the file, its -wal and -shm "
			 "companions and its directory writable by the broker's user";
	} else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
		advice = "the database is locked by another process (a second broker or "
			 "wardmq_ctl on the same file?): stop it; the store retries";
	} else if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) {
		advice = "the file is corrupt or not a WardMQ database: stop the broker, move "
			 "the file aside and restore a backup or start with an empty store";
	} else if (prim == SQLITE_CANTOPEN) {
		advice = "cannot open the file: check that it and its directory exist and are "
			 "accessible to the broker's user";
	} else if (prim == SQLITE_IOERR) {
		advice = "i/o error: check the disk and the kernel log";
	} else if (prim == SQLITE_CONSTRAINT || prim == SQLITE_MISMATCH || prim == SQLITE_TOOBIG ||
		   prim == SQLITE_RANGE) {
		advice = "a write was rejected by a constraint (a broker bug): report it";
	} else {
		advice = "unexpected SQLite error";
	}
	/* errno means something only for I/O-type results; for others
	 * sqlite3_system_errno() still holds an older, unrelated value */
	if (!(prim_is_io(rc) || prim == SQLITE_CANTOPEN))
		sys = 0;
	if (sys != 0)
		wmq_store__setmsg(st, "store %s: %s failed: %s (%s; SQLite code %d): %s",
				  st->path ? st->path : "?", what, detail, strerror(sys), rc, advice);
	else
		wmq_store__setmsg(st, "store %s: %s failed: %s (SQLite code %d): %s",
				  st->path ? st->path : "?", what, detail, rc, advice);
	return wmq_err_note(e, __FILE__, __LINE__);
}

const char *wmq_store_errmsg(struct wmq_store *st)
{
	if (!st)
		return "";
	if (!st->locks_ready)
		return st->errmsg;
	pthread_mutex_lock(&st->mu);
	memcpy(st->errmsg_out, st->errmsg, sizeof st->errmsg_out);
	pthread_mutex_unlock(&st->mu);
	return st->errmsg_out;
}

const char *wmq_store_path(const struct wmq_store *st)
{
	return st->path;
}

/* ---- Small statement helpers (open-time, one-shot SQL) ------------------ */

int wmq_store__step_done(struct wmq_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	st->sys_errno = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : errno;
	/* reset repeats the step's error (already in rc) and keeps the
	 * connection's error message for wmq_store__sqlerr */
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

static wmq_err exec(struct wmq_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		st->sys_errno = errno;
		return wmq_store__sqlerr(st, rc, what);
	}
	return WMQ_OK;
}

/* First column of the first row as text into |out| (or "" if no row). */
static wmq_err query_text(struct wmq_store *st, const char *sql, char *out, size_t cap, const char *what)
{
	sqlite3_stmt *s = NULL;
	out[0] = '\0';
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(s, 0);
			if (t)
				snprintf(out, cap, "%s", (const char *)t);
			else if (sqlite3_errcode(st->db) == SQLITE_NOMEM)
				rc = SQLITE_NOMEM;
			if (rc == SQLITE_ROW)
				rc = SQLITE_DONE;
		}
	}
	if (rc != SQLITE_DONE) {
		st->sys_errno = errno;
		wmq_err e = wmq_store__sqlerr(st, rc, what);
		sqlite3_finalize(s);
		return e;
	}
	sqlite3_finalize(s);
	return WMQ_OK;
}

static wmq_err query_i64(struct wmq_store *st, const char *sql, int64_t *out, const char *what)
{
	sqlite3_stmt *s = NULL;
	*out = 0;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(s, 0);
			rc = SQLITE_DONE;
		}
	}
	if (rc != SQLITE_DONE) {
		st->sys_errno = errno;
		wmq_err e = wmq_store__sqlerr(st, rc, what);
		sqlite3_finalize(s);
		return e;
	}
	sqlite3_finalize(s);
	return WMQ_OK;
}

/* ---- Open --------------------------------------------------------------- */

static wmq_err check_paths(struct wmq_store *st)
{
	const char *path = st->path;
	char dir[PATH_MAX];
	struct stat sb;

	wmq_path_dir(path, dir, sizeof dir);
	if (stat(dir, &sb) != 0) {
		wmq_store__setmsg(st, "store %s: directory %s: %s: create it (mkdir -p %s) or change "
				  "persistence_file", path, dir, strerror(errno), dir);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	if (!S_ISDIR(sb.st_mode)) {
		wmq_store__setmsg(st, "store %s: %s is not a directory: change persistence_file", path, dir);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT && (st->flags & WMQ_STORE_CREATE))
			return WMQ_OK;
		wmq_store__setmsg(st, "store %s: %s: check the path (persistence_file)", path,
				  strerror(errno));
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	if (!S_ISREG(sb.st_mode)) {
		wmq_store__setmsg(st, "store %s: not a regular file: change persistence_file", path);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	return WMQ_OK;
}

static wmq_err set_pragmas(struct wmq_store *st, unsigned busy_ms)
{
	char mode[32];
	int64_t fk = 0;
	int rc = sqlite3_busy_timeout(st->db, (int)(busy_ms > INT_MAX ? INT_MAX : busy_ms));
	if (rc != SQLITE_OK)
		return wmq_store__sqlerr(st, rc, "setting busy_timeout");
	rc = sqlite3_extended_result_codes(st->db, 1);
	if (rc != SQLITE_OK)
		return wmq_store__sqlerr(st, rc, "enabling extended result codes");
	/* The first read of the file: a garbage file fails here (NOTADB). */
	if (!(st->flags & WMQ_STORE_READONLY)) {
		WMQ_TRY(query_text(st, "PRAGMA journal_mode=WAL", mode, sizeof mode, "switching to WAL"));
		if (strcmp(mode, "wal") != 0) {
			wmq_store__setmsg(st, "store %s: cannot switch to WAL mode (journal_mode is %s): "
					  "the filesystem must support shared memory maps (not NFS)",
					  st->path, mode);
			WMQ_BAIL(WMQ_ERR_STORE);
		}
	}
	/* FULL: each commit is fsynced (durability strict). NORMAL in WAL mode:
	 * a commit survives a process crash (kill -9) but the last commits
	 * before a power loss may roll back; the file stays consistent
	 * (durability batched). OFF: no fsync at all; a power loss may corrupt
	 * the file (durability none). */
	const char *sync = "PRAGMA synchronous=FULL";
	if (st->flags & WMQ_STORE_NOSYNC)
		sync = "PRAGMA synchronous=OFF";
	else if (st->flags & WMQ_STORE_BATCHED)
		sync = "PRAGMA synchronous=NORMAL";
	WMQ_TRY(exec(st, sync, "setting synchronous"));
	WMQ_TRY(exec(st, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
			 "PRAGMA journal_size_limit=" JOURNAL_SIZE_LIMIT,
		     "setting pragmas"));
	WMQ_TRY(query_i64(st, "PRAGMA foreign_keys", &fk, "checking foreign_keys"));
	if (fk != 1) {
		wmq_store__setmsg(st, "store %s: this SQLite library lacks foreign key support", st->path);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	return WMQ_OK;
}

static wmq_err check_integrity(struct wmq_store *st)
{
	char res[256];
	WMQ_TRY(query_text(st, "PRAGMA quick_check", res, sizeof res, "checking integrity (quick_check)"));
	if (strcmp(res, "ok") != 0) {
		wmq_store__setmsg(st, "store %s: the file is corrupt (quick_check: %s): stop the broker, "
				  "move the file aside and restore a backup or start with an empty store",
				  st->path, res);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	return WMQ_OK;
}

/* Bring user_version up to |target|, one transaction per step. */
static wmq_err migrate(struct wmq_store *st, int target)
{
	int64_t app = 0, ver = 0, objects = 0;
	WMQ_TRY(query_i64(st, "PRAGMA application_id", &app, "reading application_id"));
	WMQ_TRY(query_i64(st, "PRAGMA user_version", &ver, "reading user_version"));
	WMQ_TRY(query_i64(st, "SELECT count(*) FROM sqlite_schema", &objects, "reading the schema"));
	if (app != WMQ_STORE_APP_ID && !(app == 0 && ver == 0 && objects == 0)) {
		wmq_store__setmsg(st, "store %s: not a WardMQ database (application_id %lld): "
				  "choose another persistence_file", st->path, (long long)app);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	if (ver > WMQ_STORE_SCHEMA_VERSION) {
		wmq_store__setmsg(st, "store %s: created by a newer WardMQ (schema version %lld, this "
				  "build knows up to %d): upgrade WardMQ, or move the file aside",
				  st->path, (long long)ver, WMQ_STORE_SCHEMA_VERSION);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	if (ver >= target)
		return WMQ_OK;
	if (st->flags & WMQ_STORE_READONLY) {
		wmq_store__setmsg(st, "store %s: schema version %lld is older than this build's %d: "
				  "open it read-write once (start the broker) to upgrade it",
				  st->path, (long long)ver, target);
		WMQ_BAIL(WMQ_ERR_STORE);
	}
	for (int64_t v = ver; v < target; v++) {
		char what[128], setver[64];
		snprintf(what, sizeof what, "migrating the schema from version %lld to %lld", (long long)v,
			 (long long)v + 1);
		snprintf(setver, sizeof setver, "PRAGMA user_version=%lld", (long long)v + 1);
		wmq_err e = exec(st, "BEGIN IMMEDIATE", what);
		if (e == WMQ_OK)
			e = exec(st, wmq_store_migrations[v], what);
		if (e == WMQ_OK)
			e = exec(st, setver, what);
		if (e == WMQ_OK)
			e = exec(st, "COMMIT", what);
		if (e != WMQ_OK) {
			if (!sqlite3_get_autocommit(st->db))
				(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL); /* best effort; e says why */
			return e;
		}
	}
	return WMQ_OK;
}

static wmq_err prepare_all(struct wmq_store *st)
{
	for (size_t i = 0; i < STMT__COUNT; i++) {
		int rc = sqlite3_prepare_v3(st->db, wmq_store_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &st->stmt[i], NULL);
		if (rc != SQLITE_OK)
			return wmq_store__sqlerr(st, rc, "preparing statements");
	}
	return WMQ_OK;
}

static wmq_err init_locks(struct wmq_store *st)
{
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0)
		WMQ_BAIL(WMQ_ERR_NOMEM);
	int r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (r == 0 && (r = pthread_mutex_init(&st->mu, NULL)) == 0) {
		if ((r = pthread_mutex_init(&st->db_mu, NULL)) == 0) {
			if ((r = pthread_cond_init(&st->wake, &ca)) == 0) {
				if ((r = pthread_cond_init(&st->done, &ca)) == 0)
					st->locks_ready = true;
				else
					pthread_cond_destroy(&st->wake);
			}
			if (!st->locks_ready)
				pthread_mutex_destroy(&st->db_mu);
		}
		if (!st->locks_ready)
			pthread_mutex_destroy(&st->mu);
	}
	pthread_condattr_destroy(&ca);
	WMQ_ENSURE(r == 0, WMQ_ERR_NOMEM);
	return WMQ_OK;
}

/* Open with migrations up to |target|; |full| = prepare and start. */
static wmq_err open_impl(const char *path, const struct wmq_store_opts *opts, int target, bool full,
			 struct wmq_store **out)
{
	static const struct wmq_store_opts defaults = {.flags = WMQ_STORE_CREATE};
	struct wmq_store *st = NULL;
	wmq_err rc = WMQ_OK;
	int sflags;

	*out = NULL;
	WMQ_ENSURE(path && *path, WMQ_ERR_INVAL);
	if (!opts)
		opts = &defaults;
	pthread_once(&sq_mem_once, sq_mem_install);

	st = wmq_calloc(1, sizeof *st);
	WMQ_ENSURE(st, WMQ_ERR_NOMEM);
	st->efd = -1;
	st->flags = opts->flags;
	if (st->flags & WMQ_STORE_READONLY)
		st->flags |= WMQ_STORE_INLINE;
	st->log = opts->log;
	st->delay_ms = opts->commit_delay_ms;
	*out = st; /* from here on the caller closes it, also on failure */
	if ((rc = init_locks(st)) != WMQ_OK) {
		snprintf(st->errmsg, sizeof st->errmsg, "store %s: cannot create locks", path);
		goto out;
	}
	if (!(st->path = wmq_strdup(path))) {
		wmq_store__setmsg(st, "store %s: out of memory", path);
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	if ((rc = check_paths(st)) != WMQ_OK)
		goto out;

	sflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	if (st->flags & WMQ_STORE_READONLY)
		sflags |= SQLITE_OPEN_READONLY;
	else
		sflags |= SQLITE_OPEN_READWRITE | ((st->flags & WMQ_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
	int src = sqlite3_open_v2(path, &st->db, sflags, NULL);
	if (src != SQLITE_OK) {
		rc = wmq_store__sqlerr(st, src, "opening");
		goto out;
	}
	/* SQLite silently falls back to read-only when the file is not
	 * writable; a broker must not run like that. */
	if (!(st->flags & WMQ_STORE_READONLY) && sqlite3_db_readonly(st->db, "main") == 1) {
		wmq_store__setmsg(st, "store %s: the file is read-only (permissions, owner or a read-only "
				  "filesystem): make it and its directory writable by the broker's user",
				  path);
		rc = wmq_err_note(WMQ_ERR_STORE, __FILE__, __LINE__);
		goto out;
	}
	if ((rc = set_pragmas(st, opts->busy_timeout_ms ? opts->busy_timeout_ms : DEFAULT_BUSY_TIMEOUT_MS)) != WMQ_OK)
		goto out;
	if ((rc = check_integrity(st)) != WMQ_OK)
		goto out;
	if ((rc = migrate(st, target)) != WMQ_OK)
		goto out;
	if (!full)
		goto out;
	if ((rc = exec(st, wmq_store_temp_sql, "creating temporary GC triggers")) != WMQ_OK)
		goto out;
	if ((rc = prepare_all(st)) != WMQ_OK)
		goto out;
	st->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (st->efd < 0) {
		wmq_store__setmsg(st, "store %s: eventfd: %s", path, strerror(errno));
		rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
		goto out;
	}
	if (!(st->flags & WMQ_STORE_INLINE))
		rc = wmq_store__thread_start(st);
out:
	return rc;
}

wmq_err wmq_store_open(const char *path, const struct wmq_store_opts *opts, struct wmq_store **out)
{
	return open_impl(path, opts, WMQ_STORE_SCHEMA_VERSION, true, out);
}

void wmq_store_close(struct wmq_store *st)
{
	if (!st)
		return;
	if (st->thread_started)
		wmq_store__thread_stop(st);
	size_t lost = 0;
	uint64_t first = 0, last = 0;
	for (struct wmq_store_batch *b = st->head, *n; b; b = n) {
		n = b->next;
		if (!first)
			first = b->ticket;
		last = b->ticket;
		lost++;
		wmq_store__batch_free(b);
	}
	if (lost)
		WMQ_LOG(st->log, WMQ_LOG_ERROR, "store %s: closing with %zu batches not written (tickets %llu..%llu)",
			st->path, lost, (unsigned long long)first, (unsigned long long)last);
	for (struct wmq_store_batch *b = st->free_list, *n; b; b = n) {
		n = b->next;
		wmq_store__batch_free(b);
	}
	for (size_t i = 0; i < STMT__COUNT; i++)
		(void)sqlite3_finalize(st->stmt[i]); /* returns the last step error, already handled */
	if (st->db && sqlite3_close(st->db) != SQLITE_OK) {
		/* only if a statement leaked: let SQLite close when it is finalized */
		WMQ_LOG(st->log, WMQ_LOG_ERROR, "store %s: close: %s", st->path, sqlite3_errmsg(st->db));
		(void)sqlite3_close_v2(st->db);
	}
	if (st->efd >= 0)
		close(st->efd);
	if (st->locks_ready) {
		pthread_cond_destroy(&st->done);
		pthread_cond_destroy(&st->wake);
		pthread_mutex_destroy(&st->db_mu);
		pthread_mutex_destroy(&st->mu);
	}
	wmq_free(st->path);
	wmq_free(st);
}

/* ---- Test hooks (testing.h) --------------------------------------------- */

wmq_err wmq_store_test_open_version(const char *path, int version, struct wmq_store **out)
{
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE | WMQ_STORE_INLINE};
	*out = NULL;
	WMQ_ENSURE(version >= 1 && version <= WMQ_STORE_SCHEMA_VERSION, WMQ_ERR_INVAL);
	return open_impl(path, &o, version, false, out);
}

wmq_err wmq_store_test_exec(struct wmq_store *st, const char *sql)
{
	pthread_mutex_lock(&st->db_mu);
	wmq_err rc = exec(st, sql, "test exec");
	pthread_mutex_unlock(&st->db_mu);
	return rc;
}

wmq_err wmq_store_test_query_i64(struct wmq_store *st, const char *sql, int64_t *out)
{
	pthread_mutex_lock(&st->db_mu);
	wmq_err rc = query_i64(st, sql, out, "test query");
	pthread_mutex_unlock(&st->db_mu);
	return rc;
}
