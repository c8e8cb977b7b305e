/* SPDX-License-Identifier: MIT
 * policy_text.c - the native policy text format (parse and format) and the
 * mosquitto acl_file translator. See policy.h for both grammars.
 * Both parsers work into a scratch policy and copy it into the target only
 * when the whole input was accepted (all-or-nothing, fail closed).
 * Threading: reentrant; the target policy must not be published yet. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "protocol/mqtt.h"
#include "security/policy.h"
#include "security/policy_int.h"

static const char *const ACT_NAMES[WMQ_ACT__COUNT] = {"publish", "subscribe", "receive", "retain"};
static const char *const SUBJ_NAMES[] = {"all", "anonymous", "user", "group", "role"};

/* ---- formatting ---------------------------------------------------------- */

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '"' || *s == '\\' || *s == '\r' || *s == '\n')
			return true;
	return false;
}

struct out {
	char *p;
	size_t cap, len;
	bool over;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->over || o->cap - o->len <= n) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_token(struct out *o, const char *s)
{
	if (!needs_quotes(s)) {
		puts_(o, s);
		return;
	}
	put(o, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(o, "\\", 1);
		put(o, s, 1);
	}
	put(o, "\"", 1);
}

wmq_err wmq_policy_rule_format(const struct wmq_policy_rule *r, char *buf, size_t cap)
{
	WMQ_ENSURE(r != NULL && buf != NULL && cap > 0, WMQ_ERR_INVAL);
	struct out o = {buf, cap, 0, false};
	buf[0] = '\0';
	puts_(&o, r->effect == WMQ_POLICY_ALLOW ? "allow " : "deny ");
	if (r->actions == WMQ_ACT_ALL) {
		puts_(&o, "all");
	} else {
		bool first = true;
		for (int a = 0; a < WMQ_ACT__COUNT; a++) {
			if (!(r->actions & WMQ_ACT_BIT(a)))
				continue;
			if (!first)
				puts_(&o, ",");
			puts_(&o, ACT_NAMES[a]);
			first = false;
		}
	}
	puts_(&o, " ");
	puts_(&o, SUBJ_NAMES[r->subject]);
	if (r->subject_name) {
		puts_(&o, ":");
		put_token(&o, r->subject_name);
	}
	puts_(&o, " ");
	put_token(&o, r->filter);
	char num[48];
	if (r->max_qos >= 0) {
		snprintf(num, sizeof num, " qos=%d", r->max_qos);
		puts_(&o, num);
	}
	if (r->priority != 0) {
		snprintf(num, sizeof num, " priority=%" PRId32, r->priority);
		puts_(&o, num);
	}
	if (!r->subst && strchr(r->filter, '%'))
		puts_(&o, " literal");
	WMQ_ENSURE(!o.over, WMQ_ERR_LIMIT);
	return WMQ_OK;
}

/* ---- shared helpers ------------------------------------------------------ */

static void set_err(char *err, size_t cap, const char *source, size_t line, const char *msg, const char *arg)
{
	if (!err || !cap)
		return;
	if (arg)
		snprintf(err, cap, "%s:%zu: %s \"%.80s\"", source, line, msg, arg);
	else
		snprintf(err, cap, "%s:%zu: %s", source, line, msg);
}

/* Next line of text: [*pos, ...) without CR/LF; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *llen)
{
	if (*pos >= len)
		return false;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	*line = s;
	*llen = n;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy |src| into the target policy rule by rule. */
static wmq_err merge(struct wmq_policy *dst, const struct wmq_policy *src)
{
	wmq_err rc = WMQ_OK;
	size_t n0 = wmq_policy_count(dst);
	for (size_t i = 0; i < wmq_policy_count(src); i++) {
		const struct wmq_policy_rule *r = wmq_policy_rule_at(src, i);
		const struct rule_int *ri = (const struct rule_int *)(const void *)r;
		struct wmq_policy_rule_spec s = {
			.effect = r->effect, .actions = r->actions, .subject = r->subject,
			.subject_name = r->subject_name, .filter = r->filter, .subst = r->subst,
			.max_qos = r->max_qos, .priority = r->priority, .id = ri->id_explicit ? r->id : 0,
			.origin = r->origin,
		};
		if ((rc = wmq_policy_add(dst, &s, NULL)) != WMQ_OK) {
			wmq_policy_truncate_int(dst, n0); /* all or nothing */
			break;
		}
	}
	return rc;
}

/* ---- native format ------------------------------------------------------- */

#define MAX_TOKENS 12

/* Split a line into tokens (unquoted into |buf|, NUL-separated). Returns the
 * token count, or -1 on an unterminated quote / bad escape. */
static int tokenize(const char *line, size_t len, char *buf, char **tok, int max)
{
	size_t i = 0, o = 0;
	int n = 0;
	for (;;) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i >= len)
			return n;
		if (n == max)
			return max + 1;
		tok[n++] = buf + o;
		while (i < len && !is_blank(line[i])) {
			if (line[i] == '"') {
				i++;
				while (i < len && line[i] != '"') {
					if (line[i] == '\\') {
						if (i + 1 >= len || (line[i + 1] != '"' && line[i + 1] != '\\'))
							return -1;
						i++;
					}
					buf[o++] = line[i++];
				}
				if (i >= len)
					return -1;
				i++; /* closing quote */
			} else {
				buf[o++] = line[i++];
			}
		}
		buf[o++] = '\0';
	}
}

static bool parse_actions(char *s, unsigned *mask)
{
	*mask = 0;
	char *save = NULL;
	for (char *a = strtok_r(s, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		unsigned m = 0;
		for (int k = 0; k < WMQ_ACT__COUNT; k++)
			if (strcmp(a, ACT_NAMES[k]) == 0)
				m = WMQ_ACT_BIT(k);
		if (strcmp(a, "read") == 0)
			m = WMQ_ACT_BIT(WMQ_ACT_SUBSCRIBE) | WMQ_ACT_BIT(WMQ_ACT_RECEIVE);
		else if (strcmp(a, "write") == 0)
			m = WMQ_ACT_BIT(WMQ_ACT_PUBLISH);
		else if (strcmp(a, "all") == 0)
			m = WMQ_ACT_ALL;
		if (!m)
			return false;
		*mask |= m;
	}
	return *mask != 0;
}

static bool parse_subject(const char *s, enum wmq_policy_subject *subj, const char **name)
{
	*name = NULL;
	if (strcmp(s, "all") == 0) {
		*subj = WMQ_SUBJ_ALL;
		return true;
	}
	if (strcmp(s, "anonymous") == 0) {
		*subj = WMQ_SUBJ_ANONYMOUS;
		return true;
	}
	for (int k = WMQ_SUBJ_USER; k <= WMQ_SUBJ_ROLE; k++) {
		size_t n = strlen(SUBJ_NAMES[k]);
		if (strncmp(s, SUBJ_NAMES[k], n) == 0 && s[n] == ':' && s[n + 1]) {
			*subj = (enum wmq_policy_subject)k;
			*name = s + n + 1;
			return true;
		}
	}
	return false;
}

static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end = NULL;
	if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* One native rule line into |p|. Returns WMQ_OK or INVAL/LIMIT/NOMEM with
 * |err| set. */
static wmq_err parse_rule(struct wmq_policy *p, const char *line, size_t llen, const char *source, size_t lineno,
			  char *err, size_t errcap)
{
	wmq_err rc = WMQ_ERR_INVAL;
	char *tok[MAX_TOKENS];
	char *buf = wmq_malloc(2 * llen + 2);
	char origin[300];
	WMQ_ENSURE(buf != NULL, WMQ_ERR_NOMEM);
	int n = tokenize(line, llen, buf, tok, MAX_TOKENS);
	if (n < 0) {
		set_err(err, errcap, source, lineno, "unterminated quote or bad escape", NULL);
		goto out;
	}
	if (n > MAX_TOKENS || n < 4) {
		set_err(err, errcap, source, lineno,
			"expected: allow|deny ACTIONS SUBJECT FILTER [qos=N] [priority=N] [id=N] [literal]", NULL);
		goto out;
	}
	struct wmq_policy_rule_spec s = {.max_qos = -1, .subst = true};
	if (strcmp(tok[0], "allow") == 0) {
		s.effect = WMQ_POLICY_ALLOW;
	} else if (strcmp(tok[0], "deny") == 0) {
		s.effect = WMQ_POLICY_DENY;
	} else {
		set_err(err, errcap, source, lineno, "expected allow or deny, got", tok[0]);
		goto out;
	}
	char actions[64];
	snprintf(actions, sizeof actions, "%s", tok[1]);
	if (strlen(tok[1]) >= sizeof actions || !parse_actions(actions, &s.actions)) {
		set_err(err, errcap, source, lineno,
			"unknown action (publish, subscribe, receive, retain, read, write, all) in", tok[1]);
		goto out;
	}
	if (!parse_subject(tok[2], &s.subject, &s.subject_name)) {
		set_err(err, errcap, source, lineno,
			"unknown subject (all, anonymous, user:NAME, group:NAME, role:NAME)", tok[2]);
		goto out;
	}
	s.filter = tok[3];
	for (int i = 4; i < n; i++) {
		long long v;
		if (strncmp(tok[i], "qos=", 4) == 0 && parse_int(tok[i] + 4, 0, 2, &v)) {
			s.max_qos = (int)v;
		} else if (strncmp(tok[i], "priority=", 9) == 0 && parse_int(tok[i] + 9, INT32_MIN, INT32_MAX, &v)) {
			s.priority = (int32_t)v;
		} else if (strncmp(tok[i], "id=", 3) == 0 && parse_int(tok[i] + 3, 1, INT64_MAX, &v)) {
			s.id = (uint64_t)v;
		} else if (strcmp(tok[i], "literal") == 0) {
			s.subst = false;
		} else {
			set_err(err, errcap, source, lineno, "unknown option", tok[i]);
			goto out;
		}
	}
	struct wmq_bytes fb = wmq_bytes_cstr(s.filter), g, sub;
	if (!wmq_topic_filter_valid(fb)) {
		set_err(err, errcap, source, lineno, "invalid topic filter", s.filter);
		goto out;
	}
	if (wmq_topic_shared_split(fb, &g, &sub)) {
		set_err(err, errcap, source, lineno, "rules name the filter, not \"$share/...\":", s.filter);
		goto out;
	}
	snprintf(origin, sizeof origin, "%s:%zu", source, lineno);
	s.origin = origin;
	rc = wmq_policy_add(p, &s, NULL);
	if (rc == WMQ_ERR_LIMIT)
		set_err(err, errcap, source, lineno, "too many levels in filter", s.filter);
	else if (rc == WMQ_ERR_INVAL)
		set_err(err, errcap, source, lineno, "invalid rule (duplicate id?)", NULL);
	else if (rc == WMQ_ERR_NOMEM)
		set_err(err, errcap, source, lineno, "out of memory", NULL);
out:
	wmq_free(buf);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

wmq_err wmq_policy_parse(struct wmq_policy *p, const char *text, size_t len, const char *source, char *err,
			 size_t errcap)
{
	struct wmq_policy *tmp = NULL;
	wmq_err rc;
	const char *line;
	size_t llen, pos = 0, lineno = 0;
	if (err && errcap)
		err[0] = '\0';
	if (!source)
		source = "policy";
	WMQ_ENSURE(p != NULL && (text != NULL || len == 0), WMQ_ERR_INVAL);
	WMQ_TRY(wmq_policy_new(0, &tmp));
	rc = WMQ_OK;
	while (rc == WMQ_OK && next_line(text, len, &pos, &line, &llen)) {
		lineno++;
		size_t i = 0;
		while (i < llen && is_blank(line[i]))
			i++;
		if (i == llen || line[i] == '#')
			continue;
		if (memchr(line, '\0', llen)) {
			set_err(err, errcap, source, lineno, "NUL byte in line", NULL);
			rc = WMQ_ERR_INVAL;
			break;
		}
		rc = parse_rule(tmp, line + i, llen - i, source, lineno, err, errcap);
	}
	if (rc == WMQ_OK && wmq_policy_count(tmp) == 0) {
		/* CVE-2018-12550: an empty policy must never mean "allow all" */
		set_err(err, errcap, source, lineno, "policy has no rules", NULL);
		rc = WMQ_ERR_INVAL;
	}
	if (rc == WMQ_OK && (rc = merge(p, tmp)) != WMQ_OK)
		set_err(err, errcap, source, lineno,
			rc == WMQ_ERR_NOMEM ? "out of memory" : "a rule id is already in the policy", NULL);
	wmq_policy_unref(tmp);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}

/* ---- mosquitto acl_file ---------------------------------------------------- */

#define MOSQ_PRIO_USER_DENY 300
#define MOSQ_PRIO_USER_ALLOW 200
#define MOSQ_PRIO_PATTERN_DENY 100
#define MOSQ_PRIO_PATTERN_ALLOW 0

static void report_line(wmq_policy_report_fn report, void *arg, const char *source, size_t line, const char *msg,
			const char *what, size_t wlen)
{
	char buf[512];
	if (!report)
		return;
	if (what)
		snprintf(buf, sizeof buf, "%s:%zu: %s: \"%.*s\"", source, line, msg, (int)(wlen > 200 ? 200 : wlen),
			 what);
	else
		snprintf(buf, sizeof buf, "%s:%zu: %s", source, line, msg);
	report(arg, buf);
}

wmq_err wmq_policy_import_mosquitto(struct wmq_policy *p, const char *text, size_t len, const char *source,
				    wmq_policy_report_fn report, void *arg, struct wmq_policy_import_stats *stats)
{
	struct wmq_policy *tmp = NULL;
	struct wmq_policy_import_stats st = {0, 0, 0};
	char *user = NULL; /* current "user" section; NULL = anonymous */
	char *topic = NULL;
	bool lost_deny = false;
	wmq_err rc;
	const char *line;
	size_t llen, pos = 0;
	if (!source)
		source = "acl_file";
	WMQ_ENSURE(p != NULL && (text != NULL || len == 0), WMQ_ERR_INVAL);
	WMQ_TRY(wmq_policy_new(0, &tmp));
	rc = WMQ_OK;
	while (rc == WMQ_OK && next_line(text, len, &pos, &line, &llen)) {
		st.lines++;
		size_t i = 0;
		while (i < llen && is_blank(line[i]))
			i++;
		if (i == llen || line[i] == '#')
			continue;
		if (memchr(line, '\0', llen)) {
			report_line(report, arg, source, st.lines, "NUL byte in line", NULL, 0);
			st.skipped++;
			continue;
		}
		/* directive */
		size_t ds = i;
		while (i < llen && !is_blank(line[i]))
			i++;
		size_t dlen = i - ds;
		while (i < llen && is_blank(line[i]))
			i++;
		const char *rest = line + i;
		size_t rlen = llen - i;
		while (rlen && is_blank(rest[rlen - 1]))
			rlen--;
		bool is_topic = dlen == 5 && memcmp(line + ds, "topic", 5) == 0;
		bool is_pattern = dlen == 7 && memcmp(line + ds, "pattern", 7) == 0;
		if (dlen == 4 && memcmp(line + ds, "user", 4) == 0) {
			wmq_free(user);
			user = NULL;
			if (rlen == 0) {
				/* mosquitto refuses such a file, and so do we: the
				 * lines after it would land on the wrong principal */
				report_line(report, arg, source, st.lines, "\"user\" without a name", NULL, 0);
				st.skipped++;
				rc = WMQ_ERR_INVAL;
				break;
			}
			if (!(user = wmq_strndup(rest, rlen)))
				rc = WMQ_ERR_NOMEM;
			continue;
		}
		if (!is_topic && !is_pattern) {
			report_line(report, arg, source, st.lines, "unsupported directive", line + ds, dlen);
			st.skipped++;
			continue;
		}
		if (rlen == 0) {
			report_line(report, arg, source, st.lines, "missing topic", NULL, 0);
			st.skipped++;
			continue;
		}
		/* "topic [ACCESS] FILTER": mosquitto takes the first word as the
		 * access type only if something follows it */
		const char *acc = rest, *f = rest;
		size_t alen = 0, flen = rlen;
		const char *sp = rest;
		while (sp < rest + rlen && !is_blank(*sp))
			sp++;
		if (sp < rest + rlen) {
			alen = (size_t)(sp - rest);
			f = sp;
			while (f < rest + rlen && is_blank(*f))
				f++;
			flen = (size_t)(rest + rlen - f);
		}
		unsigned actions = WMQ_ACT_ALL;
		bool is_deny = false;
		if (alen) {
			if (alen == 4 && memcmp(acc, "read", 4) == 0) {
				actions = WMQ_ACT_BIT(WMQ_ACT_SUBSCRIBE) | WMQ_ACT_BIT(WMQ_ACT_RECEIVE);
			} else if (alen == 5 && memcmp(acc, "write", 5) == 0) {
				actions = WMQ_ACT_BIT(WMQ_ACT_PUBLISH) | WMQ_ACT_BIT(WMQ_ACT_RETAIN);
			} else if (alen == 9 && memcmp(acc, "readwrite", 9) == 0) {
				actions = WMQ_ACT_ALL;
			} else if (alen == 4 && memcmp(acc, "deny", 4) == 0) {
				is_deny = true;
			} else {
				report_line(report, arg, source, st.lines, "invalid access type", acc, alen);
				st.skipped++;
				continue;
			}
		}
		wmq_free(topic);
		if (!(topic = wmq_strndup(f, flen))) {
			rc = WMQ_ERR_NOMEM;
			break;
		}
		struct wmq_bytes fb = {(const uint8_t *)topic, flen}, g, sub;
		if (!wmq_topic_filter_valid(fb) || wmq_topic_shared_split(fb, &g, &sub) ||
		    wmq_topic_levels(fb) > WMQ_POLICY_MAX_LEVELS) {
			report_line(report, arg, source, st.lines,
				    is_deny ? "invalid topic filter in a deny line (refusing the file)"
					    : "invalid topic filter",
				    f, flen);
			st.skipped++;
			lost_deny |= is_deny;
			continue;
		}
		char origin[300];
		snprintf(origin, sizeof origin, "%s:%zu", source, st.lines);
		struct wmq_policy_rule_spec s = {
			.effect = is_deny ? WMQ_POLICY_DENY : WMQ_POLICY_ALLOW,
			.actions = actions,
			.subject = is_pattern ? WMQ_SUBJ_ALL : user ? WMQ_SUBJ_USER : WMQ_SUBJ_ANONYMOUS,
			.subject_name = is_pattern ? NULL : user,
			.filter = topic,
			.subst = is_pattern,
			.max_qos = -1,
			.priority = is_pattern ? (is_deny ? MOSQ_PRIO_PATTERN_DENY : MOSQ_PRIO_PATTERN_ALLOW)
					       : (is_deny ? MOSQ_PRIO_USER_DENY : MOSQ_PRIO_USER_ALLOW),
			.origin = origin,
		};
		rc = wmq_policy_add(tmp, &s, NULL);
		if (rc == WMQ_OK)
			st.rules++;
	}
	if (rc == WMQ_OK && lost_deny)
		rc = WMQ_ERR_INVAL;
	if (rc == WMQ_OK && st.rules == 0) {
		report_line(report, arg, source, st.lines, "no rules in the ACL file (an empty policy is an error)",
			    NULL, 0);
		rc = WMQ_ERR_INVAL;
	}
	if (rc == WMQ_OK)
		rc = merge(p, tmp);
	if (stats)
		*stats = st;
	wmq_free(user);
	wmq_free(topic);
	wmq_policy_unref(tmp);
	if (rc != WMQ_OK)
		wmq_err_note(rc, __FILE__, __LINE__);
	return rc;
}
