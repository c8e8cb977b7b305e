/* SPDX-License-Identifier: MIT
 * authpool.c - the authentication thread pool (see authpool.h).
 *
 * Two queues under one mutex: pending (a condition variable wakes the
 * threads) and done (an eventfd wakes the worker). A thread holds the mutex
 * only to move a job between queues, never while it hashes or reads the
 * store. Counters are updated under the same mutex. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/time.h"
#include "crypto/crypto.h"
#include "security/authpool.h"
#include "store/identity.h"

struct wmq_authpool;

struct pool_thread {
	struct wmq_authpool *pool;
	pthread_t tid;
	bool started;
	struct wmq_store_id *h;
};

struct wmq_authpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct wmq_authpool_job *pend_head, *pend_tail;
	struct wmq_authpool_job *done_head, *done_tail;
	int efd;
	struct wmq_pw_ctx *pw;
	const struct wmq_log *log;
	struct pool_thread th[WMQ_AUTHPOOL_MAX_THREADS];
	size_t nthreads;
	uint64_t submitted, completed, accepted, refused;
};

static char *dup_n(const uint8_t *p, size_t n)
{
	char *s = wmq_malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

struct wmq_authpool_job *wmq_authpool_job_new(uint64_t token, const char *username, struct wmq_bytes password,
					      bool has_password, const char *client_id, bool anonymous)
{
	struct wmq_authpool_job *j = wmq_calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->token = token;
	j->anonymous = anonymous;
	j->client_id = wmq_strdup(client_id ? client_id : "");
	if (!j->client_id)
		goto fail;
	if (username && !(j->username = wmq_strdup(username)))
		goto fail;
	if (has_password) {
		j->password = (uint8_t *)dup_n(password.p, password.len);
		if (!j->password)
			goto fail;
		j->password_len = password.len;
	}
	return j;
fail:
	wmq_authpool_job_free(j);
	return NULL;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wmq_free(v[i]);
	wmq_free(v);
}

void wmq_authpool_job_free(struct wmq_authpool_job *j)
{
	if (!j)
		return;
	if (j->password) {
		wmq_crypto_wipe(j->password, j->password_len);
		wmq_free(j->password);
	}
	wmq_free(j->username);
	wmq_free(j->client_id);
	free_list(j->groups, j->ngroups);
	free_list(j->roles, j->nroles);
	wmq_free(j);
}

/* First 8 bytes of SHA-256 of the stored verifier text: changes when the
 * password changes (a new salt), never 0 for a verifier. */
static uint64_t cred_tag(const char *verifier)
{
	uint8_t h[WMQ_SHA256_LEN];
	uint64_t t = 0;
	if (!verifier || wmq_crypto_sha256(verifier, strlen(verifier), h) != WMQ_OK)
		return 0;
	for (size_t i = 0; i < 8; i++)
		t = t << 8 | h[i];
	return t ? t : 1;
}

/* The verdict for one job, on a pool thread. */
static void run_job(struct pool_thread *t, struct wmq_authpool_job *j)
{
	struct wmq_authpool *p = t->pool;
	struct wmq_store_id_auth a;
	struct wmq_pw_verifier v;
	const struct wmq_pw_verifier *stored = NULL;
	struct wmq_pw_outcome out;
	bool looked_up = false;

	memset(&a, 0, sizeof a);
	memset(&out, 0, sizeof out);
	memset(&v, 0, sizeof v);
	j->ok = false;
	if (!t->h || wmq_store_id_auth_lookup(t->h, j->username, j->client_id, &a) != WMQ_OK) {
		j->failed = true;
	} else {
		looked_up = true;
	}
	if (j->anonymous) {
		/* no password: anonymous, or a username the TLS handshake
		 * proved; a disabled user and a foreign binding still refuse */
		j->bound_elsewhere = a.bound_user && (!j->username || strcmp(a.bound_user, j->username) != 0);
		j->ok = looked_up && !j->bound_elsewhere && !(a.user_exists && a.user_disabled) &&
			(!j->need_user || a.user_exists);
		j->cred_tag = looked_up && a.user_exists ? cred_tag(a.verifier) : 0;
		goto done;
	}
	if (looked_up && a.user_exists && !a.user_disabled && a.verifier &&
	    wmq_pw_verifier_parse(a.verifier, strlen(a.verifier), &v) == WMQ_OK)
		stored = &v;
	j->unknown_user = stored == NULL;
	/* The same work whatever was found: a missing user, a disabled user,
	 * an unreadable verifier or a store failure all run the dummy. */
	struct wmq_bytes user = wmq_bytes_cstr(j->username ? j->username : "");
	struct wmq_bytes pw = {j->password, j->password_len};
	if (wmq_pw_check(p->pw, user, stored, pw, wmq_now_ms(), &out) != WMQ_OK)
		out.ok = false;
	/* A client id bound to a user may be used by that user only. */
	if (a.bound_user && (!j->username || strcmp(a.bound_user, j->username) != 0))
		j->bound_elsewhere = true;
	j->ok = looked_up && stored && out.ok && !j->bound_elsewhere;
	if (j->ok)
		j->cred_tag = cred_tag(a.verifier);
	if (j->ok && out.upgraded) {
		char enc[WMQ_PW_ENCODED_MAX];
		bool replaced = false;
		if (wmq_pw_verifier_encode(&out.upgrade, enc, sizeof enc) == WMQ_OK &&
		    wmq_store_id_user_upgrade_verifier(t->h, j->username, a.verifier, enc, &replaced) == WMQ_OK) {
			j->upgraded = replaced;
			if (replaced)
				j->cred_tag = cred_tag(enc);
		}
		wmq_crypto_wipe(enc, sizeof enc);
	}
done:
	if (j->ok) {
		j->groups = a.groups;
		j->ngroups = a.ngroups;
		j->roles = a.roles;
		j->nroles = a.nroles;
		a.groups = a.roles = NULL;
		a.ngroups = a.nroles = 0;
	}
	wmq_pw_verifier_wipe(&v);
	wmq_pw_verifier_wipe(&out.upgrade);
	wmq_store_id_auth_cleanup(&a);
	if (j->password) { /* not needed any more */
		wmq_crypto_wipe(j->password, j->password_len);
		wmq_free(j->password);
		j->password = NULL;
		j->password_len = 0;
	}
}

static void *thread_main(void *arg)
{
	struct pool_thread *t = arg;
	struct wmq_authpool *p = t->pool;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && !p->pend_head)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop)
			break;
		struct wmq_authpool_job *j = p->pend_head;
		p->pend_head = j->next;
		if (!p->pend_head)
			p->pend_tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&p->mu);
		run_job(t, j);
		pthread_mutex_lock(&p->mu);
		p->completed++;
		if (!j->recheck) /* a connected client re-examined is not a login */
			*(j->ok ? &p->accepted : &p->refused) += 1;
		if (p->done_tail)
			p->done_tail->next = j;
		else
			p->done_head = j;
		p->done_tail = j;
		uint64_t one = 1;
		ssize_t w = write(p->efd, &one, sizeof one);
		(void)w; /* EAGAIN: the counter is already non-zero */
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

wmq_err wmq_authpool_new(const char *db_path, const struct wmq_pw_ctx_opts *pw, size_t nthreads,
			 const struct wmq_log *log, struct wmq_authpool **out)
{
	struct wmq_authpool *p;
	wmq_err rc = WMQ_OK;
	*out = NULL;
	WMQ_ENSURE(db_path != NULL, WMQ_ERR_INVAL);
	WMQ_ENSURE(nthreads >= 1 && nthreads <= WMQ_AUTHPOOL_MAX_THREADS, WMQ_ERR_INVAL);
	p = wmq_calloc(1, sizeof *p);
	WMQ_ENSURE(p != NULL, WMQ_ERR_NOMEM);
	p->efd = -1;
	p->log = log;
	p->nthreads = nthreads;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		wmq_free(p);
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		wmq_free(p);
		WMQ_BAIL(WMQ_ERR_INTERNAL);
	}
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		rc = WMQ_ERR_IO;
		goto fail;
	}
	if ((rc = wmq_pw_ctx_new(pw, &p->pw)) != WMQ_OK)
		goto fail;
	for (size_t i = 0; i < p->nthreads; i++) {
		struct wmq_store_id_opts o = {.flags = 0, .busy_timeout_ms = 5000, .log = log};
		struct pool_thread *t = &p->th[i];
		t->pool = p;
		rc = wmq_store_id_open(db_path, &o, &t->h);
		if (rc != WMQ_OK) {
			if (log)
				WMQ_LOG(log, WMQ_LOG_ERROR, "auth pool: %s", wmq_store_id_errmsg(t->h));
			goto fail;
		}
	}
	for (size_t i = 0; i < p->nthreads; i++) {
		if (pthread_create(&p->th[i].tid, NULL, thread_main, &p->th[i]) != 0) {
			rc = WMQ_ERR_INTERNAL;
			goto fail;
		}
		p->th[i].started = true;
	}
	*out = p;
	return WMQ_OK;
fail:
	wmq_authpool_free(p);
	return rc;
}

static void free_jobs(struct wmq_authpool_job *j)
{
	while (j) {
		struct wmq_authpool_job *n = j->next;
		wmq_authpool_job_free(j);
		j = n;
	}
}

void wmq_authpool_free(struct wmq_authpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nthreads; i++) {
		if (p->th[i].started)
			pthread_join(p->th[i].tid, NULL);
		wmq_store_id_close(p->th[i].h);
	}
	free_jobs(p->pend_head);
	free_jobs(p->done_head);
	wmq_pw_ctx_free(p->pw);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	wmq_free(p);
}

int wmq_authpool_fd(const struct wmq_authpool *p)
{
	return p->efd;
}

void wmq_authpool_submit(struct wmq_authpool *p, struct wmq_authpool_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->pend_tail)
		p->pend_tail->next = j;
	else
		p->pend_head = j;
	p->pend_tail = j;
	p->submitted++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct wmq_authpool_job *wmq_authpool_take(struct wmq_authpool *p)
{
	uint64_t n;
	ssize_t r = read(p->efd, &n, sizeof n);
	(void)r; /* EAGAIN: nothing signalled; the list says what is there */
	pthread_mutex_lock(&p->mu);
	struct wmq_authpool_job *j = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	return j;
}

void wmq_authpool_get_stats(struct wmq_authpool *p, struct wmq_authpool_stats *st)
{
	memset(st, 0, sizeof *st);
	pthread_mutex_lock(&p->mu);
	st->submitted = p->submitted;
	st->completed = p->completed;
	st->accepted = p->accepted;
	st->refused = p->refused;
	pthread_mutex_unlock(&p->mu);
	wmq_pw_get_stats(p->pw, &st->pw);
}

void wmq_authpool_forget_all(struct wmq_authpool *p)
{
	wmq_pw_forget_all(p->pw);
}
