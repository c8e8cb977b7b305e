/* SPDX-License-Identifier: MIT
 * import.c - `import-mosquitto` and `rule import`: read a mosquitto
 * password file, a mosquitto acl_file or a native policy file, translate it
 * locally, then apply it through the backend as ONE transaction.
 *
 * Role: migration from mosquitto without re-hashing (the $6$/$7$ hashes are
 * stored as they are and upgraded to Argon2id by the broker at each user's
 * next login) and with the acl_file semantics reproduced by priorities
 * (security/policy.h). Lines that cannot be translated are reported as
 * "file:line: why" and skipped; only hard errors fail the command: an
 * unreadable file, a database error, or an acl_file the policy engine
 * rejects as a whole (an untranslatable deny line, or nothing to import:
 * fail closed). All or nothing: a failure rolls the transaction back.
 * Existing users are kept unless --replace (then their verifiers are
 * replaced); --replace also deletes every existing rule first, so the
 * imported file becomes the policy.
 * Threading: single-threaded. Ownership: see ctl.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "ctl.h"
#include "security/password.h"
#include "security/policy.h"

#define IMPORT_MAX_BYTES (64u << 20) /* a 64 MiB password or ACL file is already absurd */
#define REPORT_MAX 1000              /* lines kept in the report; the rest are counted */

wmq_err ctl_read_file(const char *path, size_t max, char **out, size_t *len, char *why, size_t cap)
{
	struct stat sb;
	char *buf = NULL;
	size_t n = 0;
	wmq_err rc = WMQ_OK;
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, cap, "%s", strerror(errno));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(why, cap, "not a regular file");
		rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		snprintf(why, cap, "larger than %zu bytes", max);
		rc = wmq_err_note(WMQ_ERR_LIMIT, __FILE__, __LINE__);
		goto out;
	}
	size_t size = (size_t)sb.st_size;
	if (!(buf = wmq_malloc(size + 1))) {
		snprintf(why, cap, "out of memory");
		rc = wmq_err_note(WMQ_ERR_NOMEM, __FILE__, __LINE__);
		goto out;
	}
	while (n < size) { /* bounded by the size found above */
		ssize_t r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, cap, "%s", strerror(errno));
			rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
			goto out;
		}
		if (r == 0)
			break; /* shrank meanwhile */
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	wmq_free(buf);
	close(fd);
	return rc;
}

/* ---- Collected input ----------------------------------------------------- */

struct user_row {
	char *name;
	char *verifier;
};

struct import {
	struct user_row *users;
	size_t nusers, cap;
	struct ctl_val *report;  /* "file:line: why" strings */
	struct ctl_val *kept;    /* names of existing users left alone */
	size_t nreport;          /* lines reported, kept or not */
	bool oom;
};

static void report(struct import *im, const char *line)
{
	im->nreport++;
	if (im->nreport <= REPORT_MAX)
		ctl_push_str(im->report, line);
}

static void on_pw_report(void *arg, const char *where_and_why)
{
	report(arg, where_and_why);
}

static void on_acl_report(void *arg, const char *where_and_why)
{
	report(arg, where_and_why);
}

static wmq_err on_pw_user(void *arg, const char *username, const struct wmq_pw_verifier *v)
{
	struct import *im = arg;
	char enc[WMQ_PW_ENCODED_MAX];
	WMQ_TRY(wmq_pw_verifier_encode(v, enc, sizeof enc));
	if (im->nusers == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 64;
		struct user_row *u = wmq_reallocarray(im->users, cap, sizeof *u);
		WMQ_ENSURE(u, WMQ_ERR_NOMEM);
		im->users = u;
		im->cap = cap;
	}
	struct user_row *r = &im->users[im->nusers];
	r->name = wmq_strdup(username);
	r->verifier = wmq_strdup(enc);
	if (!r->name || !r->verifier) {
		wmq_free(r->name);
		wmq_free(r->verifier);
		WMQ_BAIL(WMQ_ERR_NOMEM);
	}
	im->nusers++;
	return WMQ_OK;
}

static void import_free(struct import *im)
{
	for (size_t i = 0; i < im->nusers; i++) {
		wmq_free(im->users[i].name);
		wmq_free(im->users[i].verifier);
	}
	wmq_free(im->users);
	ctl_val_free(im->report);
	ctl_val_free(im->kept);
}

/* ---- Applying ---------------------------------------------------------------- */

/* One request inside the transaction; on failure copy its message to
 * |res| and return false. */
static bool run(struct ctl_backend *b, const struct ctl_req *req, struct ctl_res *res)
{
	struct ctl_res r;
	ctl_res_init(&r);
	b->ops->exec(b, req, &r);
	bool ok = r.status == CTL_EXIT_OK;
	if (!ok)
		ctl_res_msg(res, r.status, "%s", r.msg);
	ctl_res_cleanup(&r);
	return ok;
}

static char *append(char *text, size_t *len, size_t *cap, const char *fmt, ...) WMQ_PRINTF(4, 5);

static char *append(char *text, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	if (!text)
		return NULL;
	for (int tries = 0; tries < 2; tries++) {
		va_start(ap, fmt);
		int n = vsnprintf(text + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return text;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return text;
		}
		size_t ncap = *cap + (size_t)n + 256;
		char *t = wmq_realloc(text, ncap);
		if (!t) {
			wmq_free(text);
			return NULL;
		}
		text = t;
		*cap = ncap;
	}
	return text;
}

void ctl_import(struct ctl_backend *b, const struct ctl_import_opts *o, struct ctl_res *res)
{
	struct import im = {.report = ctl_arr(), .kept = ctl_arr()};
	struct wmq_policy *p = NULL;
	char *pw_text = NULL, *acl_text = NULL, why[256], esc[512];
	size_t pw_len = 0, acl_len = 0, pw_skipped = 0, pw_imported = 0;
	struct wmq_policy_import_stats st = {0};
	const char *rules_file = o->acl ? o->acl : o->policy;
	size_t added = 0, replaced = 0, kept = 0, rules_added = 0;
	bool in_txn = false;

	/* 1. read and translate everything before touching the database */
	if (o->passwd) {
		ctl_escape(o->passwd, esc, sizeof esc);
		if (ctl_read_file(o->passwd, IMPORT_MAX_BYTES, &pw_text, &pw_len, why, sizeof why) != WMQ_OK) {
			ctl_res_msg(res, CTL_EXIT_ERROR, "%s: %s: nothing was imported", esc, why);
			goto out;
		}
		wmq_err rc = wmq_pw_import_mosquitto(pw_text, pw_len, o->passwd, on_pw_user, on_pw_report, &im,
						     &pw_imported, &pw_skipped);
		if (rc != WMQ_OK) {
			ctl_res_msg(res, CTL_EXIT_ERROR, "%s: %s: nothing was imported", esc, wmq_err_str(rc));
			goto out;
		}
	}
	if (rules_file) {
		ctl_escape(rules_file, esc, sizeof esc);
		if (ctl_read_file(rules_file, IMPORT_MAX_BYTES, &acl_text, &acl_len, why, sizeof why) != WMQ_OK) {
			ctl_res_msg(res, CTL_EXIT_ERROR, "%s: %s: nothing was imported", esc, why);
			goto out;
		}
		if (wmq_policy_new(1, &p) != WMQ_OK) {
			ctl_res_msg(res, CTL_EXIT_ERROR, "out of memory");
			goto out;
		}
		wmq_err rc;
		if (o->acl) {
			rc = wmq_policy_import_mosquitto(p, acl_text, acl_len, o->acl, on_acl_report, &im, &st);
			if (rc == WMQ_ERR_INVAL)
				snprintf(why, sizeof why, "rejected as a whole (fail closed: an untranslatable deny line, "
					 "or no rule at all)");
			else if (rc != WMQ_OK)
				snprintf(why, sizeof why, "%s", wmq_err_str(rc));
		} else {
			rc = wmq_policy_parse(p, acl_text, acl_len, o->policy, why, sizeof why);
			if (rc == WMQ_OK)
				st.rules = wmq_policy_count(p);
		}
		if (rc != WMQ_OK) {
			ctl_res_msg(res, CTL_EXIT_ERROR, "%s: %s: nothing was imported", o->acl ? esc : "", why);
			if (!o->acl) /* the parser's message names file and line already */
				ctl_res_msg(res, CTL_EXIT_ERROR, "%s: nothing was imported", why);
			goto out;
		}
	}

	/* 2. one transaction */
	struct ctl_req begin = {.op = CTL_OP_TXN_BEGIN};
	if (!run(b, &begin, res))
		goto out;
	in_txn = true;
	if (o->replace && rules_file) {
		struct ctl_req del = {.op = CTL_OP_RULE_DEL_ALL};
		if (!run(b, &del, res))
			goto out;
	}
	for (size_t i = 0; i < im.nusers; i++) {
		struct ctl_req r = {.op = CTL_OP_USER_IMPORT, .a = im.users[i].name, .verifier = im.users[i].verifier,
				    .flag = o->replace};
		struct ctl_res one;
		ctl_res_init(&one);
		b->ops->exec(b, &r, &one);
		if (one.status == CTL_EXIT_EXISTS) {
			ctl_push_str(im.kept, im.users[i].name);
			kept++;
		} else if (one.status != CTL_EXIT_OK) {
			ctl_res_msg(res, one.status, "%s", one.msg);
			ctl_res_cleanup(&one);
			goto out;
		} else if (strcmp(one.msg, "replaced") == 0) {
			replaced++;
		} else {
			added++;
		}
		ctl_res_cleanup(&one);
	}
	for (size_t i = 0; p && i < wmq_policy_count(p); i++) {
		struct ctl_req r = {.op = CTL_OP_RULE_ADD};
		wmq_policy_rule_to_store(wmq_policy_rule_at(p, i), &r.rule);
		if (!run(b, &r, res))
			goto out;
		rules_added++;
	}
	struct wmq_audit_field f[] = {
		{.key = "passwd_file", .str = o->passwd ? wmq_bytes_cstr(o->passwd) : (struct wmq_bytes){NULL, 0}},
		{.key = "rules_file", .str = rules_file ? wmq_bytes_cstr(rules_file) : (struct wmq_bytes){NULL, 0}},
		{.key = "users_added", .num = (int64_t)added, .is_num = true},
		{.key = "users_replaced", .num = (int64_t)replaced, .is_num = true},
		{.key = "users_kept", .num = (int64_t)kept, .is_num = true},
		{.key = "rules_added", .num = (int64_t)rules_added, .is_num = true},
		{.key = "rules_replaced", .num = o->replace && rules_file, .is_num = true},
		{.key = "not_translated", .num = (int64_t)im.nreport, .is_num = true},
	};
	struct ctl_req commit = {.op = CTL_OP_TXN_COMMIT, .audit_event = o->policy ? "rule.import" : "import.mosquitto",
				 .audit_fields = f, .naudit_fields = WMQ_ARRAY_LEN(f)};
	struct ctl_res cres;
	ctl_res_init(&cres);
	b->ops->exec(b, &commit, &cres);
	in_txn = false;
	if (cres.status != CTL_EXIT_OK) {
		ctl_res_msg(res, cres.status, "%s", cres.msg);
		bool committed = strncmp(cres.msg, "committed", 9) == 0;
		ctl_res_cleanup(&cres);
		if (!committed)
			goto out; /* nothing was written */
	} else {
		ctl_res_cleanup(&cres);
	}

	/* 3. the report */
	res->data = ctl_obj();
	ctl_set_str(res->data, "passwd_file", o->passwd);
	ctl_set_str(res->data, "rules_file", rules_file);
	ctl_set_int(res->data, "users_added", (int64_t)added);
	ctl_set_int(res->data, "users_replaced", (int64_t)replaced);
	ctl_set_int(res->data, "users_kept", (int64_t)kept);
	ctl_set_int(res->data, "rules_added", (int64_t)rules_added);
	ctl_set_bool(res->data, "rules_replaced", o->replace && rules_file);
	ctl_set_int(res->data, "not_translated_count", (int64_t)im.nreport);
	ctl_set(res->data, "not_translated", im.report);
	ctl_set(res->data, "kept_users", im.kept);
	im.report = NULL;
	im.kept = NULL;

	size_t len = 0, cap = 1024;
	char *text = wmq_malloc(cap);
	if (text)
		text[0] = '\0';
	if (o->passwd) {
		ctl_escape(o->passwd, esc, sizeof esc);
		text = append(text, &len, &cap, "%s: %zu users added, %zu replaced, %zu kept\n", esc, added, replaced,
			      kept);
	}
	if (rules_file) {
		ctl_escape(rules_file, esc, sizeof esc);
		text = append(text, &len, &cap, "%s: %zu rules added%s\n", esc, rules_added,
			      o->replace ? " (replacing every previous rule)" : "");
	}
	const struct ctl_val *rep = ctl_get(res->data, "not_translated");
	const struct ctl_val *kv = ctl_get(res->data, "kept_users");
	if (kv && kv->n) {
		text = append(text, &len, &cap, "existing users kept as they are (--replace overwrites):");
		for (size_t i = 0; i < kv->n; i++) {
			char name[512];
			ctl_escape(kv->items[i]->s, name, sizeof name);
			text = append(text, &len, &cap, "%s \"%s\"", i ? "," : "", name);
		}
		text = append(text, &len, &cap, "\n");
	}
	if (im.nreport == 0) {
		text = append(text, &len, &cap, "every line was translated\n");
	} else {
		text = append(text, &len, &cap, "%zu line(s) not translated:\n", im.nreport);
		for (size_t i = 0; rep && i < rep->n; i++) {
			char line[1024];
			ctl_escape(rep->items[i]->s, line, sizeof line);
			text = append(text, &len, &cap, "  %s\n", line);
		}
		if (im.nreport > REPORT_MAX)
			text = append(text, &len, &cap, "  ... and %zu more\n", im.nreport - REPORT_MAX);
	}
	res->text = text;
	if (!text)
		ctl_res_msg(res, CTL_EXIT_ERROR, "out of memory");
	else if (res->status == CTL_EXIT_OK)
		ctl_res_msg(res, CTL_EXIT_OK, "imported %zu users and %zu rules", added + replaced, rules_added);
out:
	if (in_txn) {
		struct ctl_req rb = {.op = CTL_OP_TXN_ROLLBACK};
		struct ctl_res r;
		ctl_res_init(&r);
		b->ops->exec(b, &rb, &r);
		ctl_res_cleanup(&r);
		/* keep the report of what was read: it often explains the failure */
		if (!res->data && im.nreport) {
			res->data = ctl_obj();
			ctl_set(res->data, "not_translated", im.report);
			im.report = NULL;
		}
	} else if (!res->data && im.nreport && res->status != CTL_EXIT_OK) {
		res->data = ctl_obj();
		ctl_set(res->data, "not_translated", im.report);
		im.report = NULL;
	}
	wmq_free(pw_text);
	wmq_free(acl_text);
	wmq_policy_unref(p);
	import_free(&im);
}
