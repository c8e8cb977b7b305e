/* SPDX-License-Identifier: MIT
 * authpool.h - the authentication thread pool (DESIGN.md §4 "Auth pool"):
 * password verification for CONNECT runs here, never on a worker.
 *
 * Role: a worker submits a job (username, password, client id); one of
 * the pool's threads (1..WMQ_AUTHPOOL_MAX_THREADS) reads the user from the identity store
 * (its own handle, opened on the broker's database file), runs
 * wmq_pw_check() (the dummy verifier for an unknown or disabled user, so
 * both cost the same and fail the same), stores an upgraded verifier with
 * the compare-and-swap call, checks the client-id binding, and queues the
 * finished job. The worker's event loop watches wmq_authpool_fd() (an
 * eventfd) and collects finished jobs with wmq_authpool_take(); the worker
 * never blocks on the pool.
 *
 * Verdict: ok only if the user exists, is enabled, the password matches
 * and the client id is not bound to another user. A job with anonymous
 * set skips the password: the client is anonymous (username NULL, the
 * caller allowed anonymous access) or the TLS handshake proved its
 * username (certificate identity); only the binding (and, for a named
 * user, that it is not disabled) is checked, and groups and roles are
 * read for the principal. With need_user as well (re-examining a client
 * that logged in with a password), the user must still exist; cred_tag
 * then tells the caller whether the password changed since.
 *
 * Threading: submit/take/stats from the owning worker; the pool threads
 * touch a job only between submit and take. Ownership: a job is allocated
 * by wmq_authpool_job_new(), owned by the pool between submit and take,
 * then by the caller again (wmq_authpool_job_free wipes the password). */
#ifndef WMQ_SECURITY_AUTHPOOL_H
#define WMQ_SECURITY_AUTHPOOL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "security/password.h"

#define WMQ_AUTHPOOL_MAX_THREADS 32

struct wmq_authpool_job {
	struct wmq_authpool_job *next;
	/* input */
	uint64_t token;     /* caller's: finds the connection again */
	char *username;     /* NULL: anonymous */
	uint8_t *password;  /* may be NULL */
	size_t password_len;
	char *client_id;    /* "" allowed */
	bool anonymous;     /* no password check (anonymous or certificate) */
	bool recheck;       /* caller's: a connected client re-examined after an
	                     * administrative change (set with anonymous) */
	bool need_user;     /* with anonymous: the user must still exist (it
	                     * logged in with a password) */
	/* result */
	bool ok;
	bool failed;        /* store or memory error (the verdict is "no") */
	bool unknown_user;  /* for statistics only: never shown to the client */
	bool bound_elsewhere;
	bool upgraded;      /* a new verifier was stored */
	uint64_t cred_tag;  /* fingerprint of the user's stored verifier (after
	                     * an upgrade: of the new one); 0 = none. A change
	                     * of password changes it (live revocation). */
	char **groups;      /* owned, on success */
	size_t ngroups;
	char **roles;
	size_t nroles;
};

/* A job with copies of the inputs (|username| NULL = anonymous). NULL when
 * out of memory. */
struct wmq_authpool_job *wmq_authpool_job_new(uint64_t token, const char *username, struct wmq_bytes password,
					      bool has_password, const char *client_id, bool anonymous);
void wmq_authpool_job_free(struct wmq_authpool_job *j); /* NULL-safe; wipes the password */

struct wmq_authpool; /* opaque */

/* Start |nthreads| threads (1..WMQ_AUTHPOOL_MAX_THREADS, else INVAL), each
 * with its own identity-store handle on |db_path| (which must exist and be
 * at schema 3: the broker opens its store first). |log| is borrowed for
 * the pool's lifetime. */
WMQ_MUST_USE wmq_err wmq_authpool_new(const char *db_path, const struct wmq_pw_ctx_opts *pw, size_t nthreads,
				      const struct wmq_log *log, struct wmq_authpool **out);
/* Stop and join the threads; unfinished and uncollected jobs are freed.
 * NULL-safe. */
void wmq_authpool_free(struct wmq_authpool *p);
/* The eventfd that becomes readable when finished jobs are waiting. */
int wmq_authpool_fd(const struct wmq_authpool *p);
/* Queue |j| (ownership to the pool). Never blocks on hashing. */
void wmq_authpool_submit(struct wmq_authpool *p, struct wmq_authpool_job *j);
/* Every finished job, oldest first (ownership to the caller); clears the
 * eventfd. NULL if none. */
struct wmq_authpool_job *wmq_authpool_take(struct wmq_authpool *p);

struct wmq_authpool_stats {
	uint64_t submitted, completed, accepted, refused;
	struct wmq_pw_stats pw; /* verifications: pw.argon2_runs etc. */
};
void wmq_authpool_get_stats(struct wmq_authpool *p, struct wmq_authpool_stats *st);
/* Drop cached verifications (policy/user change, SIGHUP). */
void wmq_authpool_forget_all(struct wmq_authpool *p);

#endif
