/* SPDX-License-Identifier: MIT
 * password_test.c - Argon2id verifiers, mosquitto_passwd formats (against a
 * file written by the real mosquitto_passwd 2.0.11), upgrade, equal work for
 * unknown users, the keyed verification cache.
 * Argon2id runs with m = 64 KiB here except one test with the OWASP
 * defaults, to keep the suite fast on shared cores. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "security/password.h"
#include "test.h"

#define B(s) wmq_bytes_cstr(s)

static void small_params(struct wmq_pw_params *p)
{
	wmq_pw_params_default(p);
	p->m_kib = 64;
	p->t_cost = 1;
}

static struct wmq_pw_ctx *small_ctx(size_t cache_entries)
{
	struct wmq_pw_ctx_opts o;
	wmq_pw_ctx_opts_default(&o);
	small_params(&o.params);
	o.cache_entries = cache_entries;
	o.cache_ttl_ms = 1000;
	struct wmq_pw_ctx *c = NULL;
	ASSERT_EQ(wmq_pw_ctx_new(&o, &c), WMQ_OK);
	return c;
}

static void make(const struct wmq_pw_params *p, const char *pw, struct wmq_pw_verifier *v)
{
	ASSERT_EQ(wmq_pw_verifier_create(p, B(pw), v), WMQ_OK);
}

TEST(argon2id_verifier_roundtrip)
{
	struct wmq_pw_params p;
	small_params(&p);
	struct wmq_pw_verifier v, w;
	make(&p, "s3cret", &v);
	ASSERT_EQ(v.scheme, WMQ_PW_ARGON2ID);
	char enc[WMQ_PW_ENCODED_MAX];
	ASSERT_EQ(wmq_pw_verifier_encode(&v, enc, sizeof enc), WMQ_OK);
	ASSERT(strncmp(enc, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0);
	ASSERT_EQ(wmq_pw_verifier_parse(enc, strlen(enc), &w), WMQ_OK);
	ASSERT_EQ(w.salt_len, 16);
	ASSERT_EQ(w.hash_len, 32);
	ASSERT_MEMEQ(w.hash, v.hash, 32);
	bool ok = false;
	ASSERT_EQ(wmq_pw_verifier_verify(&w, B("s3cret"), &ok), WMQ_OK);
	ASSERT(ok);
	ASSERT_EQ(wmq_pw_verifier_verify(&w, B("s3creT"), &ok), WMQ_OK);
	ASSERT(!ok);
	ASSERT_EQ(wmq_pw_verifier_verify(&w, B(""), &ok), WMQ_OK);
	ASSERT(!ok);
	/* binary passwords (MQTT passwords are binary data) */
	uint8_t bin[] = {0, 1, 2, 0xff, 0};
	struct wmq_bytes bb = {bin, sizeof bin};
	ASSERT_EQ(wmq_pw_verifier_create(&p, bb, &v), WMQ_OK);
	ASSERT_EQ(wmq_pw_verifier_verify(&v, bb, &ok), WMQ_OK);
	ASSERT(ok);
	bb.len--;
	ASSERT_EQ(wmq_pw_verifier_verify(&v, bb, &ok), WMQ_OK);
	ASSERT(!ok);
	/* two verifiers of one password differ (random salt) */
	make(&p, "s3cret", &v);
	make(&p, "s3cret", &w);
	ASSERT(memcmp(v.salt, w.salt, 16) != 0);
	/* upgrade policy: only weaker-than-configured parameters */
	ASSERT(!wmq_pw_verifier_needs_upgrade(&v, &p));
	struct wmq_pw_params stronger = p;
	stronger.m_kib = 128;
	ASSERT(wmq_pw_verifier_needs_upgrade(&v, &stronger));
	stronger = p;
	stronger.t_cost = 2;
	ASSERT(wmq_pw_verifier_needs_upgrade(&v, &stronger));
	struct wmq_pw_params weaker = p;
	weaker.m_kib = 32;
	ASSERT(!wmq_pw_verifier_needs_upgrade(&v, &weaker));
	wmq_pw_verifier_wipe(&v);
	wmq_pw_verifier_wipe(&w);
	/* bad parameters */
	struct wmq_pw_params bad = p;
	bad.salt_len = 4;
	ASSERT_EQ(wmq_pw_params_check(&bad), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_pw_verifier_create(&bad, B("x"), &v), WMQ_ERR_INVAL);
	bad = p;
	bad.tag_len = 8;
	ASSERT_EQ(wmq_pw_params_check(&bad), WMQ_ERR_INVAL);
}

/* The one test with the OWASP defaults: m=19456 KiB, t=2, p=1. */
TEST(argon2id_owasp_defaults)
{
	struct wmq_pw_params p;
	wmq_pw_params_default(&p);
	ASSERT_EQ(p.m_kib, 19456);
	ASSERT_EQ(p.t_cost, 2);
	ASSERT_EQ(p.parallelism, 1);
	struct wmq_pw_verifier v;
	make(&p, "correct horse battery staple", &v);
	char enc[WMQ_PW_ENCODED_MAX];
	ASSERT_EQ(wmq_pw_verifier_encode(&v, enc, sizeof enc), WMQ_OK);
	ASSERT(strncmp(enc, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	/* 16-byte salt = 22 chars, 32-byte tag = 43 chars, no padding */
	ASSERT_EQ(strlen(enc), 31 + 22 + 1 + 43);
	bool ok = false;
	ASSERT_EQ(wmq_pw_verifier_verify(&v, B("correct horse battery staple"), &ok), WMQ_OK);
	ASSERT(ok);
	ASSERT(!wmq_pw_verifier_needs_upgrade(&v, &p));
}

struct imported {
	char user[8][32];
	struct wmq_pw_verifier v[8];
	size_t n;
	char reports[8][160];
	size_t nreports;
};

static wmq_err on_user(void *arg, const char *username, const struct wmq_pw_verifier *v)
{
	struct imported *im = arg;
	if (im->n >= 8)
		return WMQ_ERR_LIMIT;
	snprintf(im->user[im->n], sizeof im->user[0], "%s", username);
	im->v[im->n++] = *v;
	return WMQ_OK;
}

static void on_report(void *arg, const char *msg)
{
	struct imported *im = arg;
	if (im->nreports < 8)
		snprintf(im->reports[im->nreports++], sizeof im->reports[0], "%s", msg);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		TEST_FAIL_("cannot open %s", path);
	static char buf[8192];
	*len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[*len] = 0;
	return buf;
}

/* tests/fixtures/mosquitto_passwd.txt was written by
 *   mosquitto_passwd -c -b F alice 'correct horse'          ($7$, 2.0.11)
 *   mosquitto_passwd -b F 'bob smith' 'p@ss:w0rd$'          ($7$)
 *   mosquitto_passwd -H sha512 -b F carol hunter2           ($6$)
 *   mosquitto_passwd -b F dave 'ünïcødé'                    ($7$, UTF-8) */
TEST(mosquitto_passwd_file)
{
	size_t len;
	char *text = slurp(WMQ_TEST_FIXTURES "/mosquitto_passwd.txt", &len);
	struct imported im;
	memset(&im, 0, sizeof im);
	size_t nimp = 0, nskip = 9;
	ASSERT_EQ(wmq_pw_import_mosquitto(text, len, "mosquitto_passwd.txt", on_user, on_report, &im, &nimp,
					  &nskip),
		  WMQ_OK);
	ASSERT_EQ(nimp, 4);
	ASSERT_EQ(nskip, 0);
	static const struct {
		const char *user, *pw;
		enum wmq_pw_scheme scheme;
	} want[] = {
		{"alice", "correct horse", WMQ_PW_MOSQ_PBKDF2},
		{"bob smith", "p@ss:w0rd$", WMQ_PW_MOSQ_PBKDF2},
		{"carol", "hunter2", WMQ_PW_MOSQ_SHA512},
		{"dave", "ünïcødé", WMQ_PW_MOSQ_PBKDF2},
	};
	struct wmq_pw_params p;
	small_params(&p);
	char enc[WMQ_PW_ENCODED_MAX];
	for (size_t i = 0; i < 4; i++) {
		ASSERT_STREQ(im.user[i], want[i].user);
		ASSERT_EQ(im.v[i].scheme, want[i].scheme);
		ASSERT_EQ(im.v[i].salt_len, 12);
		ASSERT_EQ(im.v[i].hash_len, 64);
		if (want[i].scheme == WMQ_PW_MOSQ_PBKDF2)
			ASSERT_EQ(im.v[i].iterations, 101);
		bool ok = false;
		ASSERT_EQ(wmq_pw_verifier_verify(&im.v[i], B(want[i].pw), &ok), WMQ_OK);
		ASSERT(ok);
		ASSERT_EQ(wmq_pw_verifier_verify(&im.v[i], B("hunter3"), &ok), WMQ_OK);
		ASSERT(!ok);
		ASSERT(wmq_pw_verifier_needs_upgrade(&im.v[i], &p));
		/* re-encoding gives back the file's text */
		ASSERT_EQ(wmq_pw_verifier_encode(&im.v[i], enc, sizeof enc), WMQ_OK);
		ASSERT(strstr(text, enc) != NULL);
	}
}

TEST(mosquitto_passwd_bad_lines)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"plain:secret\n"                                        /* 3: plain text */
		"nocolon\n"                                             /* 4 */
		":$6$c8W+4mP7C8XbRzmQ$yfki49e+zDRHstAm+5+DuGv0RLLozUgFoW3N3fX0iweorBchIKw9ULOMOhUWlv20nKPV/cSONp5cFgz9Z7UX1g==\n" /* 5: empty user */
		"x:$6$c8W+4mP7C8XbRzmQ$yfki49e+zDRH\n"                  /* 6: short hash */
		"y:$7$0$c8W+4mP7C8XbRzmQ$yfki49e+zDRHstAm+5+DuGv0RLLozUgFoW3N3fX0iweorBchIKw9ULOMOhUWlv20nKPV/cSONp5cFgz9Z7UX1g==\n" /* 7: 0 iterations */
		"z:$7$99999999$c8W+4mP7C8XbRzmQ$yfki49e+zDRHstAm+5+DuGv0RLLozUgFoW3N3fX0iweorBchIKw9ULOMOhUWlv20nKPV/cSONp5cFgz9Z7UX1g==\n" /* 8: too many */
		"w:$5$abc$def\n"                                        /* 9: unknown scheme */
		"carol:$6$c8W+4mP7C8XbRzmQ$yfki49e+zDRHstAm+5+DuGv0RLLozUgFoW3N3fX0iweorBchIKw9ULOMOhUWlv20nKPV/cSONp5cFgz9Z7UX1g==\r\n"; /* 10: good, CRLF */
	struct imported im;
	memset(&im, 0, sizeof im);
	size_t nimp = 0, nskip = 0;
	ASSERT_EQ(wmq_pw_import_mosquitto(text, sizeof text - 1, "pw.txt", on_user, on_report, &im, &nimp, &nskip),
		  WMQ_OK);
	ASSERT_EQ(nimp, 1);
	ASSERT_STREQ(im.user[0], "carol");
	bool ok = false;
	ASSERT_EQ(wmq_pw_verifier_verify(&im.v[0], B("hunter2"), &ok), WMQ_OK);
	ASSERT(ok);
	ASSERT_EQ(nskip, 7);
	ASSERT(strncmp(im.reports[0], "pw.txt:3: not a hashed password", 31) == 0);
	ASSERT(strncmp(im.reports[1], "pw.txt:4: ", 10) == 0);
	ASSERT(strncmp(im.reports[2], "pw.txt:5: ", 10) == 0);
	ASSERT(strncmp(im.reports[3], "pw.txt:6: ", 10) == 0);
	ASSERT(strncmp(im.reports[4], "pw.txt:7: unsupported", 21) == 0);
	ASSERT(strncmp(im.reports[5], "pw.txt:8: unsupported", 21) == 0);
	ASSERT(strncmp(im.reports[6], "pw.txt:9: ", 10) == 0);
}

static void check(struct wmq_pw_ctx *c, const char *user, const struct wmq_pw_verifier *v, const char *pw,
		  uint64_t now, struct wmq_pw_outcome *o)
{
	ASSERT_EQ(wmq_pw_check(c, B(user), v, B(pw), now, o), WMQ_OK);
}

/* Unknown user, wrong password (Argon2id), wrong password (legacy): one
 * Argon2id computation each, counted, not timed. */
TEST(equal_work_unknown_user)
{
	struct wmq_pw_ctx *c = small_ctx(0);
	struct wmq_pw_params p;
	small_params(&p);
	struct wmq_pw_verifier v, legacy;
	make(&p, "right", &v);
	static const char mosq[] = "$7$101$dSJPxYnRn6LY1sQT$qkEQIrL2tLNrVw1td+5aDJPuxXr//1/UnBKIP1nhcxQBZRFdMX8QzWdb2Xn/yr6f/hP68Tz3VZX7CgqQ1qsaPA==";
	ASSERT_EQ(wmq_pw_verifier_parse(mosq, sizeof mosq - 1, &legacy), WMQ_OK);
	struct wmq_pw_outcome o;
	struct wmq_pw_stats s0, s1, s2, s3;
	wmq_pw_get_stats(c, &s0);
	check(c, "alice", &v, "wrong", 0, &o);
	ASSERT(!o.ok);
	wmq_pw_get_stats(c, &s1);
	check(c, "mallory", NULL, "wrong", 0, &o);
	ASSERT(!o.ok);
	ASSERT(!o.needs_upgrade);
	wmq_pw_get_stats(c, &s2);
	check(c, "alice", &legacy, "wrong", 0, &o);
	ASSERT(!o.ok);
	wmq_pw_get_stats(c, &s3);
	ASSERT_EQ(s1.argon2_runs - s0.argon2_runs, 1);
	ASSERT_EQ(s2.argon2_runs - s1.argon2_runs, 1);
	ASSERT_EQ(s3.argon2_runs - s2.argon2_runs, 1);
	ASSERT_EQ(s2.dummy_runs - s1.dummy_runs, 1);
	ASSERT_EQ(s3.legacy_runs - s2.legacy_runs, 1);
	ASSERT_EQ(s3.checks, 3);
	/* an unknown user never gets a cache entry, even with caching on */
	wmq_pw_ctx_free(c);
	c = small_ctx(16);
	for (int i = 0; i < 3; i++) {
		check(c, "mallory", NULL, "same", 0, &o);
		ASSERT(!o.ok);
		ASSERT(!o.cache_hit);
	}
	wmq_pw_get_stats(c, &s1);
	ASSERT_EQ(s1.dummy_runs, 3);
	ASSERT_EQ(s1.argon2_runs, 3);
	ASSERT_EQ(s1.cache_entries, 0);
	wmq_pw_ctx_free(c);
}

TEST(upgrade_on_login)
{
	struct wmq_pw_ctx *c = small_ctx(16);
	struct wmq_pw_verifier legacy;
	static const char mosq[] = "$6$W205P5sAUr+y/aar$S15EZaM9rtfXnCARY2FVpMIbzZFihkwLdE0EFgXvPz88Ij1QyGmY8F6Hwo8v2Gk+lPrBu05gGpf9CXYIFU9COA==";
	ASSERT_EQ(wmq_pw_verifier_parse(mosq, sizeof mosq - 1, &legacy), WMQ_OK);
	struct wmq_pw_outcome o;
	check(c, "carol", &legacy, "hunter2", 0, &o);
	ASSERT(o.ok);
	ASSERT(o.needs_upgrade);
	ASSERT(o.upgraded);
	ASSERT_EQ(o.upgrade.scheme, WMQ_PW_ARGON2ID);
	bool ok = false;
	ASSERT_EQ(wmq_pw_verifier_verify(&o.upgrade, B("hunter2"), &ok), WMQ_OK);
	ASSERT(ok);
	struct wmq_pw_verifier upgraded = o.upgrade;
	/* the legacy verifier itself is never cached */
	check(c, "carol", &legacy, "hunter2", 0, &o);
	ASSERT(o.ok && !o.cache_hit && o.upgraded);
	/* the upgraded one was cached when it was made */
	check(c, "carol", &upgraded, "hunter2", 0, &o);
	ASSERT(o.ok && o.cache_hit && !o.needs_upgrade);
	wmq_pw_ctx_free(c);
}

TEST(cache_hits_and_invalidation)
{
	struct wmq_pw_ctx *c = small_ctx(2);
	struct wmq_pw_params p;
	small_params(&p);
	struct wmq_pw_verifier va, vb, vc, va2;
	make(&p, "pa", &va);
	make(&p, "pb", &vb);
	make(&p, "pc", &vc);
	struct wmq_pw_outcome o;
	struct wmq_pw_stats s;
	check(c, "a", &va, "pa", 0, &o);
	ASSERT(o.ok && !o.cache_hit);
	check(c, "a", &va, "pa", 10, &o);
	ASSERT(o.ok && o.cache_hit);
	wmq_pw_get_stats(c, &s);
	ASSERT_EQ(s.argon2_runs, 1);
	ASSERT_EQ(s.cache_hits, 1);
	/* a wrong password is a miss and a full verification */
	check(c, "a", &va, "pA", 20, &o);
	ASSERT(!o.ok && !o.cache_hit);
	/* same password under another user name: miss */
	check(c, "b", &va, "pa", 20, &o);
	ASSERT(!o.cache_hit);
	/* password changed: new verifier, the old entry cannot match */
	make(&p, "pa", &va2);
	check(c, "a", &va2, "pa", 30, &o);
	ASSERT(o.ok && !o.cache_hit);
	check(c, "a", &va2, "pa", 40, &o);
	ASSERT(o.cache_hit);
	/* explicit invalidation per user */
	wmq_pw_forget_user(c, B("a"));
	check(c, "a", &va2, "pa", 50, &o);
	ASSERT(o.ok && !o.cache_hit);
	/* TTL (1000 ms in small_ctx) counts from the verification */
	check(c, "a", &va2, "pa", 1049, &o);
	ASSERT(o.cache_hit);
	check(c, "a", &va2, "pa", 1050, &o);
	ASSERT(o.ok && !o.cache_hit);
	/* LRU bound of 2 entries */
	check(c, "b", &vb, "pb", 1100, &o);
	check(c, "c", &vc, "pc", 1100, &o);
	wmq_pw_get_stats(c, &s);
	ASSERT_EQ(s.cache_entries, 2);
	check(c, "a", &va2, "pa", 1101, &o); /* a was evicted */
	ASSERT(o.ok && !o.cache_hit);
	check(c, "c", &vc, "pc", 1102, &o);
	ASSERT(o.cache_hit);
	wmq_pw_forget_all(c);
	wmq_pw_get_stats(c, &s);
	ASSERT_EQ(s.cache_entries, 0);
	wmq_pw_ctx_free(c);
	/* cache disabled */
	c = small_ctx(0);
	check(c, "a", &va, "pa", 0, &o);
	check(c, "a", &va, "pa", 0, &o);
	ASSERT(o.ok && !o.cache_hit);
	wmq_pw_ctx_free(c);
}

/* Every allocation failure in create/check is reported or absorbed, never
 * a crash or leak (ASan). */
TEST(oom_paths)
{
	struct wmq_pw_params p;
	small_params(&p);
	struct wmq_pw_verifier v;
	make(&p, "x", &v);
	for (long n = 1; n < 40; n++) {
		struct wmq_pw_ctx_opts o;
		wmq_pw_ctx_opts_default(&o);
		o.params = p;
		struct wmq_pw_ctx *c = NULL;
		wmq_alloc_fail_after(n);
		wmq_err rc = wmq_pw_ctx_new(&o, &c);
		if (rc == WMQ_OK) {
			struct wmq_pw_outcome out;
			rc = wmq_pw_check(c, B("u"), &v, B("x"), 0, &out);
			if (rc == WMQ_OK && out.ok) {
				rc = wmq_pw_check(c, B("u"), &v, B("x"), 0, &out);
				ASSERT(rc != WMQ_OK || out.ok);
			}
		}
		wmq_alloc_fail_after(0);
		wmq_pw_ctx_free(c);
	}
}

static const struct wmq_test tests[] = {
	{"argon2id_verifier_roundtrip", argon2id_verifier_roundtrip},
	{"argon2id_owasp_defaults", argon2id_owasp_defaults},
	{"mosquitto_passwd_file", mosquitto_passwd_file},
	{"mosquitto_passwd_bad_lines", mosquitto_passwd_bad_lines},
	{"equal_work_unknown_user", equal_work_unknown_user},
	{"upgrade_on_login", upgrade_on_login},
	{"cache_hits_and_invalidation", cache_hits_and_invalidation},
	{"oom_paths", oom_paths},
};
WMQ_TEST_MAIN(tests)
