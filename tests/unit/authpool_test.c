/* SPDX-License-Identifier: MIT
 * authpool_test.c - the authentication pool over a real identity store:
 * verdicts (right, wrong, unknown, disabled, bound client id, anonymous),
 * equal work for unknown users, the legacy-verifier upgrade, results
 * through the eventfd, and freeing with jobs still queued. Cheap Argon2id
 * parameters keep it fast; the pool's context uses the same ones so that
 * stored verifiers are up to date. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "security/authpool.h"
#include "security/password.h"
#include "store/identity.h"
#include "test.h"
#define SCRATCH_PREFIX "authpool"
#include "scratch.h"

/* scratch_path() / scratch_clear(): tests/support/scratch.h */

static void cheap(struct wmq_pw_ctx_opts *o)
{
	wmq_pw_ctx_opts_default(o);
	o->params.m_kib = 64;
	o->params.t_cost = 1;
}

static void add_user(struct wmq_store_id *h, const struct wmq_pw_ctx_opts *o, const char *name, const char *pw,
		     bool disabled)
{
	struct wmq_pw_verifier v;
	char enc[WMQ_PW_ENCODED_MAX];
	ASSERT_EQ(wmq_pw_verifier_create(&o->params, wmq_bytes_cstr(pw), &v), WMQ_OK);
	ASSERT_EQ(wmq_pw_verifier_encode(&v, enc, sizeof enc), WMQ_OK);
	ASSERT_EQ(wmq_store_id_user_add(h, name, enc, disabled), WMQ_OK);
}

/* Submit one job and wait for it through the eventfd. */
static struct wmq_authpool_job *run(struct wmq_authpool *p, const char *user, const char *pw, const char *cid,
				    bool anonymous)
{
	struct wmq_authpool_job *j = wmq_authpool_job_new(7, user, wmq_bytes_cstr(pw ? pw : ""), pw != NULL,
							  cid, anonymous);
	ASSERT(j != NULL);
	wmq_authpool_submit(p, j);
	struct pollfd pfd = {.fd = wmq_authpool_fd(p), .events = POLLIN};
	for (int i = 0; i < 100; i++) {
		if (poll(&pfd, 1, 100) > 0) {
			struct wmq_authpool_job *got = wmq_authpool_take(p);
			if (got) {
				ASSERT(got->next == NULL);
				ASSERT_EQ(got->token, 7u);
				return got;
			}
		}
	}
	TEST_FAIL_("no verdict within 10 s");
	return NULL;
}

static bool verdict(struct wmq_authpool *p, const char *user, const char *pw, const char *cid, bool anon)
{
	struct wmq_authpool_job *j = run(p, user, pw, cid, anon);
	bool ok = j->ok;
	ASSERT(!j->failed);
	wmq_authpool_job_free(j);
	return ok;
}

TEST(verdicts)
{
	char path[300];
	struct wmq_pw_ctx_opts o;
	struct wmq_store_id *h = NULL;
	struct wmq_authpool *p = NULL;
	struct wmq_authpool_stats st;

	scratch_path(path, sizeof path, "id.db");
	cheap(&o);
	ASSERT_EQ(wmq_store_id_open(path, NULL, &h), WMQ_OK);
	add_user(h, &o, "alice", "alice-pw", false);
	add_user(h, &o, "dis", "dis-pw", true);
	ASSERT_EQ(wmq_store_id_group_add(h, "ops"), WMQ_OK);
	ASSERT_EQ(wmq_store_id_group_member_add(h, "ops", "alice"), WMQ_OK);
	ASSERT_EQ(wmq_store_id_client_bind(h, "dev-1", "alice"), WMQ_OK);
	ASSERT_EQ(wmq_authpool_new(path, &o, 2, NULL, &p), WMQ_OK);

	struct wmq_authpool_job *j = run(p, "alice", "alice-pw", "c", false);
	ASSERT(j->ok);
	ASSERT_EQ(j->ngroups, 1u);
	ASSERT_STREQ(j->groups[0], "ops");
	ASSERT(j->password == NULL); /* wiped and dropped once used */
	wmq_authpool_job_free(j);

	wmq_authpool_get_stats(p, &st);
	uint64_t runs = st.pw.argon2_runs;
	ASSERT(!verdict(p, "alice", "wrong", "c", false));
	wmq_authpool_get_stats(p, &st);
	ASSERT_EQ(st.pw.argon2_runs, runs + 1);
	ASSERT(!verdict(p, "nobody", "wrong", "c", false)); /* the dummy: same work */
	wmq_authpool_get_stats(p, &st);
	ASSERT_EQ(st.pw.argon2_runs, runs + 2);
	ASSERT_EQ(st.pw.dummy_runs, 1u);
	ASSERT(!verdict(p, "dis", "dis-pw", "c", false)); /* disabled */
	ASSERT(!verdict(p, "alice", NULL, "c", false));    /* no password */
	ASSERT(!verdict(p, NULL, "alice-pw", "c", false)); /* password only */

	/* client-id binding */
	ASSERT(verdict(p, "alice", "alice-pw", "dev-1", false));
	add_user(h, &o, "bob", "bob-pw", false);
	ASSERT(!verdict(p, "bob", "bob-pw", "dev-1", false));
	ASSERT(verdict(p, "bob", "bob-pw", "dev-2", false));
	ASSERT(!verdict(p, NULL, NULL, "dev-1", true)); /* anonymous */
	ASSERT(verdict(p, NULL, NULL, "dev-2", true));

	wmq_authpool_get_stats(p, &st);
	ASSERT_EQ(st.submitted, st.completed);
	wmq_authpool_free(p);
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(legacy_verifier_upgraded_at_login)
{
	char path[300];
	struct wmq_pw_ctx_opts o;
	struct wmq_store_id *h = NULL;
	struct wmq_authpool *p = NULL;
	struct wmq_store_id_user u;

	scratch_path(path, sizeof path, "id.db");
	cheap(&o);
	ASSERT_EQ(wmq_store_id_open(path, NULL, &h), WMQ_OK);
	/* mosquitto_passwd -H sha512: carol / hunter2 (tests/fixtures) */
	ASSERT_EQ(wmq_store_id_user_add(h, "carol",
					"$6$W205P5sAUr+y/aar$S15EZaM9rtfXnCARY2FVpMIbzZFihkwLdE0EFgXvPz88Ij1QyGmY8F6Hwo8v2Gk+lPrBu05gGpf9CXYIFU9COA==",
					false),
		  WMQ_OK);
	ASSERT_EQ(wmq_authpool_new(path, &o, 2, NULL, &p), WMQ_OK);
	struct wmq_authpool_job *j = run(p, "carol", "hunter2", "c", false);
	ASSERT(j->ok);
	ASSERT(j->upgraded);
	wmq_authpool_job_free(j);
	memset(&u, 0, sizeof u);
	ASSERT_EQ(wmq_store_id_user_get(h, "carol", &u), WMQ_OK);
	ASSERT(u.verifier && strncmp(u.verifier, "$argon2id$", 10) == 0);
	wmq_store_id_user_cleanup(&u);
	ASSERT(verdict(p, "carol", "hunter2", "c", false)); /* the new verifier works */
	wmq_authpool_free(p);
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(free_with_jobs_queued)
{
	char path[300];
	struct wmq_pw_ctx_opts o;
	struct wmq_store_id *h = NULL;
	struct wmq_authpool *p = NULL;

	scratch_path(path, sizeof path, "id.db");
	cheap(&o);
	ASSERT_EQ(wmq_store_id_open(path, NULL, &h), WMQ_OK);
	ASSERT_EQ(wmq_authpool_new(path, &o, 2, NULL, &p), WMQ_OK);
	for (int i = 0; i < 20; i++) {
		struct wmq_authpool_job *j =
			wmq_authpool_job_new((uint64_t)i, "x", wmq_bytes_cstr("y"), true, "c", false);
		ASSERT(j != NULL);
		wmq_authpool_submit(p, j);
	}
	wmq_authpool_free(p); /* joins; queued and finished jobs freed (ASan checks) */
	wmq_store_id_close(h);
	scratch_clear();
}

TEST(missing_database_fails)
{
	struct wmq_pw_ctx_opts o;
	struct wmq_authpool *p = NULL;
	cheap(&o);
	ASSERT(wmq_authpool_new("/nonexistent-dir/none.db", &o, 2, NULL, &p) != WMQ_OK);
	ASSERT(p == NULL);
	/* the thread count is bounded */
	ASSERT_EQ(wmq_authpool_new("/nonexistent-dir/none.db", &o, 0, NULL, &p), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_authpool_new("/nonexistent-dir/none.db", &o, WMQ_AUTHPOOL_MAX_THREADS + 1, NULL, &p),
		  WMQ_ERR_INVAL);
	ASSERT(p == NULL);
}

static const struct wmq_test tests[] = {
	{"verdicts", verdicts},
	{"legacy_verifier_upgraded_at_login", legacy_verifier_upgraded_at_login},
	{"free_with_jobs_queued", free_with_jobs_queued},
	{"missing_database_fails", missing_database_fails},
};

WMQ_TEST_MAIN(tests)
