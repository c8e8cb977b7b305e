/* SPDX-License-Identifier: MIT
 * store_test.c - the durable store: round trips of every record, queue
 * order, expiry on load, message GC, group commit (asserted through the
 * commit counter), completion signalling, reopen, migrations, refusal of
 * newer/foreign/corrupt/read-only files, disk full and locked files with
 * recovery, out-of-memory injection on open and load.
 *
 * Loaded state is rendered as text lines (one per callback) so that tests
 * compare whole snapshots and a mismatch prints both sides. Fault tests that
 * change process-wide state (uid, RLIMIT_FSIZE) run in a forked child. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "store/store.h"
#include "store/testing.h"
#include "test.h"
#define SCRATCH_PREFIX "store"
#include "scratch.h"

/* ---- Scratch directory (one per test; the previous one is removed) ------ */

/* scratch_path() / scratch_clear(): tests/support/scratch.h */

/* ---- Records ------------------------------------------------------------ */

static struct wmq_bytes B(const char *s)
{
	return (struct wmq_bytes){(const uint8_t *)s, strlen(s)};
}

#define NUL ((struct wmq_bytes){NULL, 0})

static struct wmq_store_session ses(const char *cid)
{
	return (struct wmq_store_session){
		.client_id = B(cid), .protocol = 5, .expiry_interval = 3600, .created_at = 100, .updated_at = 100};
}

static struct wmq_store_msg msg(uint64_t id, const char *topic, const char *payload)
{
	return (struct wmq_store_msg){.id = id, .topic = B(topic), .payload = B(payload), .qos = 1, .received_at = 100};
}

static struct wmq_store_qentry qe(const char *cid, uint64_t seq, uint64_t msg_id)
{
	return (struct wmq_store_qentry){.client_id = B(cid), .seq = seq, .msg_id = msg_id, .qos = 1};
}

static struct wmq_store_sub sub(const char *cid, const char *share, const char *filter, uint8_t opt, uint32_t id)
{
	return (struct wmq_store_sub){.client_id = B(cid), .share = share ? B(share) : NUL, .filter = B(filter),
				      .options = opt, .sub_id = id};
}

/* ---- Opening and committing ---------------------------------------------- */

static struct wmq_store *open_flags(const char *path, unsigned flags)
{
	struct wmq_store_opts o = {.flags = flags};
	struct wmq_store *st = NULL;
	wmq_err e = wmq_store_open(path, &o, &st);
	if (e != WMQ_OK)
		TEST_FAIL_("open %s: %s: %s", path, wmq_err_str(e), wmq_store_errmsg(st));
	return st;
}

static struct wmq_store *open_inline(const char *path)
{
	return open_flags(path, WMQ_STORE_CREATE | WMQ_STORE_INLINE);
}

/* Expect open to fail with WMQ_ERR_STORE; returns the message (static copy). */
static const char *open_fails(const char *path, unsigned flags)
{
	static char msgbuf[600];
	struct wmq_store_opts o = {.flags = flags};
	struct wmq_store *st = NULL;
	wmq_err e = wmq_store_open(path, &o, &st);
	snprintf(msgbuf, sizeof msgbuf, "%s", wmq_store_errmsg(st));
	wmq_store_close(st);
	if (e != WMQ_ERR_STORE)
		TEST_FAIL_("open %s: expected store error, got %s (%s)", path, wmq_err_str(e), msgbuf);
	return msgbuf;
}

#define ASSERT_HAS(hay, needle)                                                      \
	do {                                                                         \
		const char *h_ = (hay), *n_ = (needle);                              \
		if (!strstr(h_, n_))                                                 \
			TEST_FAIL_("\"%s\" does not contain \"%s\"", h_, n_);        \
	} while (0)

static struct wmq_store_batch *begin(struct wmq_store *st)
{
	struct wmq_store_batch *b = NULL;
	ASSERT_EQ(wmq_store_begin(st, &b), WMQ_OK);
	return b;
}

static uint64_t submit(struct wmq_store_batch *b)
{
	uint64_t t = 0;
	ASSERT_EQ(wmq_store_submit(b, &t), WMQ_OK);
	ASSERT(t > 0);
	return t;
}

static void flush_ok(struct wmq_store *st)
{
	wmq_err e = wmq_store_flush(st, 10000);
	if (e != WMQ_OK)
		TEST_FAIL_("flush: %s: %s", wmq_err_str(e), wmq_store_errmsg(st));
}

static int64_t q64(struct wmq_store *st, const char *sql)
{
	int64_t v = -1;
	ASSERT_EQ(wmq_store_test_query_i64(st, sql, &v), WMQ_OK);
	return v;
}

/* ---- Loading into text ---------------------------------------------------- */

struct dump {
	char s[1 << 16];
	size_t n;
	int fail_session_at; /* return LIMIT from the n-th session callback (1-based) */
	int sessions;
	bool alloc;          /* copy every record with wmq_malloc (OOM tests) */
};

static void ap(struct dump *d, const char *fmt, ...) WMQ_PRINTF(2, 3);
static void ap(struct dump *d, const char *fmt, ...)
{
	va_list a;
	va_start(a, fmt);
	int n = vsnprintf(d->s + d->n, sizeof d->s - d->n, fmt, a);
	va_end(a);
	if (n > 0 && (size_t)n < sizeof d->s - d->n)
		d->n += (size_t)n;
}

static void ap_text(struct dump *d, struct wmq_bytes b)
{
	if (!b.p)
		ap(d, "-");
	else
		ap(d, "%.*s", (int)b.len, (const char *)b.p);
}

static void ap_hex(struct dump *d, struct wmq_bytes b)
{
	if (!b.p) {
		ap(d, "-");
		return;
	}
	size_t n = b.len;
	if (n > 16) {
		ap(d, "%zub:", b.len);
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		ap(d, "%02x", b.p[i]);
}

static wmq_err copy_check(struct dump *d, struct wmq_bytes b)
{
	if (!d->alloc)
		return WMQ_OK;
	void *p = wmq_memdup(b.p ? b.p : (const uint8_t *)"", b.len);
	if (!p)
		return WMQ_ERR_NOMEM;
	wmq_free(p);
	return WMQ_OK;
}

static wmq_err cb_msg(void *arg, const struct wmq_store_msg *m)
{
	struct dump *d = arg;
	ap(d, "M %llu t=", (unsigned long long)m->id);
	ap_text(d, m->topic);
	ap(d, " p=");
	ap_hex(d, m->payload);
	ap(d, " pr=");
	ap_hex(d, m->props);
	ap(d, " q=%u r=%d rx=%lld ex=%lld pid=", m->qos, m->retain, (long long)m->received_at,
	   (long long)m->expiry_at);
	ap_text(d, m->publisher_id);
	ap(d, " pu=");
	ap_text(d, m->publisher_user);
	ap(d, "\n");
	return copy_check(d, m->payload);
}

static wmq_err cb_session(void *arg, const struct wmq_store_session *s)
{
	struct dump *d = arg;
	if (++d->sessions == d->fail_session_at)
		return WMQ_ERR_LIMIT;
	ap(d, "S ");
	ap_text(d, s->client_id);
	ap(d, " v=%u ei=%u ea=%lld u=", s->protocol, s->expiry_interval, (long long)s->expiry_at);
	ap_text(d, s->username);
	ap(d, " c=%lld up=%lld", (long long)s->created_at, (long long)s->updated_at);
	if (s->will.topic.p) {
		ap(d, " w=");
		ap_text(d, s->will.topic);
		ap(d, ",");
		ap_hex(d, s->will.payload);
		ap(d, ",");
		ap_hex(d, s->will.props);
		ap(d, ",%u,%d,%u", s->will.qos, s->will.retain, s->will.delay);
	}
	ap(d, "\n");
	return copy_check(d, s->client_id);
}

static wmq_err cb_sub(void *arg, const struct wmq_store_sub *s)
{
	struct dump *d = arg;
	ap(d, "B ");
	ap_text(d, s->client_id);
	ap(d, " s=");
	ap_text(d, s->share);
	ap(d, " f=");
	ap_text(d, s->filter);
	ap(d, " o=%u id=%u\n", s->options, s->sub_id);
	return copy_check(d, s->filter);
}

static wmq_err cb_queued(void *arg, const struct wmq_store_qentry *q)
{
	struct dump *d = arg;
	ap(d, "Q ");
	ap_text(d, q->client_id);
	ap(d, " %llu m=%llu q=%u st=%u pk=%u d=%d r=%d pr=", (unsigned long long)q->seq,
	   (unsigned long long)q->msg_id, q->qos, q->state, q->packet_id, q->dup, q->retain);
	ap_hex(d, q->props);
	ap(d, "\n");
	return copy_check(d, q->client_id);
}

static wmq_err cb_infl(void *arg, struct wmq_bytes cid, uint16_t pid)
{
	struct dump *d = arg;
	ap(d, "I ");
	ap_text(d, cid);
	ap(d, " %u\n", pid);
	return copy_check(d, cid);
}

static wmq_err cb_retained(void *arg, struct wmq_bytes topic, uint64_t id)
{
	struct dump *d = arg;
	ap(d, "R ");
	ap_text(d, topic);
	ap(d, " %llu\n", (unsigned long long)id);
	return copy_check(d, topic);
}

static struct wmq_store_loader loader(struct dump *d)
{
	return (struct wmq_store_loader){d, cb_msg, cb_session, cb_sub, cb_queued, cb_infl, cb_retained};
}

static struct dump dumpbuf;

/* Load at |now| and return the text (static buffer). */
static const char *dump_at(struct wmq_store *st, int64_t now, struct wmq_store_load_stats *ls)
{
	memset(&dumpbuf, 0, sizeof dumpbuf);
	struct wmq_store_loader l = loader(&dumpbuf);
	wmq_err e = wmq_store_load(st, now, &l, ls);
	if (e != WMQ_OK)
		TEST_FAIL_("load: %s: %s", wmq_err_str(e), wmq_store_errmsg(st));
	return dumpbuf.s;
}

static const char *dump(struct wmq_store *st)
{
	return dump_at(st, 150, NULL);
}

/* ---- Opening ----------------------------------------------------------- */

TEST(open_fresh_pragmas)
{
	char p[300];
	struct wmq_store *st = open_flags(scratch_path(p, sizeof p, "a.db"), WMQ_STORE_CREATE);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	ASSERT_EQ(q64(st, "PRAGMA user_version"), WMQ_STORE_SCHEMA_VERSION);
	ASSERT_EQ(q64(st, "PRAGMA application_id"), 0x574D5121);
	ASSERT_EQ(q64(st, "PRAGMA foreign_keys"), 1);
	ASSERT_EQ(q64(st, "PRAGMA synchronous"), 2); /* FULL */
	ASSERT(wmq_store_completion_fd(st) >= 0);
	ASSERT_STREQ(wmq_store_path(st), p);
	ASSERT_STREQ(wmq_store_errmsg(st), "");
	ASSERT(!wmq_store_failed(st));
	wmq_store_close(st);
	scratch_clear();
}

TEST(open_batched_and_nosync_modes)
{
	char p[300];
	struct wmq_store *st = open_flags(scratch_path(p, sizeof p, "a.db"), WMQ_STORE_CREATE | WMQ_STORE_BATCHED);
	ASSERT_EQ(q64(st, "PRAGMA synchronous"), 1); /* NORMAL */
	wmq_store_close(st);
	st = open_flags(p, WMQ_STORE_NOSYNC);
	ASSERT_EQ(q64(st, "PRAGMA synchronous"), 0); /* OFF */
	ASSERT_EQ(q64(st, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	wmq_store_close(st);
	scratch_clear();
}

TEST(open_missing_directory)
{
	char p[300];
	scratch_path(p, sizeof p, "nodir/sub/a.db");
	const char *m = open_fails(p, WMQ_STORE_CREATE);
	ASSERT_HAS(m, p);
	ASSERT_HAS(m, "mkdir -p");
	scratch_clear();
}

TEST(open_missing_file_without_create)
{
	char p[300];
	const char *m = open_fails(scratch_path(p, sizeof p, "none.db"), WMQ_STORE_INLINE);
	ASSERT_HAS(m, p);
	ASSERT_HAS(m, "No such file");
	scratch_clear();
}

TEST(open_invalid_arguments)
{
	struct wmq_store *st = (struct wmq_store *)1;
	ASSERT_EQ(wmq_store_open("", NULL, &st), WMQ_ERR_INVAL);
	ASSERT(st == NULL);
	ASSERT_EQ(wmq_store_test_open_version("/tmp/x.db", 0, &st), WMQ_ERR_INVAL);
	wmq_store_close(NULL); /* NULL-safe */
}

/* ---- Round trips --------------------------------------------------------- */

TEST(session_roundtrip)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("dev-1");
	a.protocol = 4;
	a.expiry_interval = WMQ_STORE_EXPIRY_NEVER;
	a.expiry_at = 0;
	a.username = B("alice");
	a.will = (struct wmq_store_will){.topic = B("dev/1/status"), .payload = B("gone"),
					 .props = {(const uint8_t *)"\x01\x01", 2}, .qos = 2, .retain = true,
					 .delay = 30};
	struct wmq_store_session b2 = ses("dev-2");
	b2.expiry_at = 5000;
	b2.will = (struct wmq_store_will){.topic = B("t"), .payload = B(""), .props = B(""), .qos = 0};
	struct wmq_store_session c = ses("dev-3"); /* no will, anonymous */
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &b2), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &c), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "S dev-1 v=4 ei=4294967295 ea=0 u=alice c=100 up=100 w=dev/1/status,676f6e65,0101,2,1,30\n"
			       "S dev-2 v=5 ei=3600 ea=5000 u=- c=100 up=100 w=t,,,0,0,0\n"
			       "S dev-3 v=5 ei=3600 ea=0 u=- c=100 up=100\n");
	wmq_store_close(st);
	scratch_clear();
}

TEST(session_update_keeps_created_and_children)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_sub s = sub("c1", NULL, "a/#", 1, 0);
	struct wmq_store_msg m = msg(1, "a/b", "x");
	struct wmq_store_qentry q = qe("c1", 1, 1);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
	submit(b);
	a.created_at = 999;
	a.updated_at = 200;
	a.username = B("bob");
	b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK); /* upsert, not delete+insert */
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "M 1 t=a/b p=78 pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
			       "S c1 v=5 ei=3600 ea=0 u=bob c=100 up=200\n"
			       "B c1 s=- f=a/# o=1 id=0\n"
			       "Q c1 1 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n");
	wmq_store_close(st);
	scratch_clear();
}

TEST(session_set_expiry)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_session_set_expiry(b, B("c1"), 5000, 300), WMQ_OK); /* disconnect */
	ASSERT_EQ(wmq_store_session_set_expiry(b, B("nobody"), 5000, 300), WMQ_OK); /* no-op */
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "S c1 v=5 ei=3600 ea=5000 u=- c=100 up=300\n");
	b = begin(st);
	ASSERT_EQ(wmq_store_session_set_expiry(b, B("c1"), 0, 400), WMQ_OK); /* reconnect */
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "S c1 v=5 ei=3600 ea=0 u=- c=100 up=400\n");
	ASSERT_EQ(q64(st, "SELECT count(*) FROM sessions WHERE expiry_at IS NULL"), 1);
	wmq_store_close(st);
	scratch_clear();
}

TEST(session_del_cascades_and_collects)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1"), z = ses("c2");
	struct wmq_store_sub s = sub("c1", NULL, "x", 0, 0);
	struct wmq_store_msg m1 = msg(1, "x", "1"), m2 = msg(2, "x", "2");
	struct wmq_store_qentry q1 = qe("c1", 1, 1), q2 = qe("c1", 2, 2), q3 = qe("c2", 1, 2);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &z), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m1), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m2), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q1), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q2), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q3), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 9), WMQ_OK);
	submit(b);
	flush_ok(st);
	b = begin(st);
	ASSERT_EQ(wmq_store_session_del(b, B("c1")), WMQ_OK);
	submit(b);
	flush_ok(st);
	/* m1 was only c1's: collected; m2 still queued for c2 */
	ASSERT_STREQ(dump(st), "M 2 t=x p=32 pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
			       "S c2 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
			       "Q c2 1 m=2 q=1 st=0 pk=0 d=0 r=0 pr=-\n");
	ASSERT_EQ(q64(st, "SELECT count(*) FROM subscriptions"), 0);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM inflight_in"), 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(subscription_roundtrip_shared_and_update)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_sub s1 = sub("c1", NULL, "a/#", 0x01, 0), s2 = sub("c1", "g1", "a/#", 0x02, 7),
			     s3 = sub("c1", "g2", "a/#", 0x2e, 268435455), s4 = sub("c1", "", "b/+", 0x04, 3);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s1), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s2), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s3), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s4), WMQ_OK);
	s1.options = 0x12; /* re-subscribe replaces options and identifier */
	s1.sub_id = 42;
	ASSERT_EQ(wmq_store_sub_put(b, &s1), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
			       "B c1 s=- f=a/# o=18 id=42\n"
			       "B c1 s=- f=b/+ o=4 id=3\n"
			       "B c1 s=g1 f=a/# o=2 id=7\n"
			       "B c1 s=g2 f=a/# o=46 id=268435455\n");
	wmq_store_close(st);
	scratch_clear();
}

TEST(subscription_del)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_sub s1 = sub("c1", NULL, "a/#", 1, 0), s2 = sub("c1", "g1", "a/#", 1, 0);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s1), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s2), WMQ_OK);
	submit(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_sub_del(b, B("c1"), B("g1"), B("a/#")), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_del(b, B("c1"), NUL, B("nothing")), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
			       "B c1 s=- f=a/# o=1 id=0\n");
	b = begin(st);
	ASSERT_EQ(wmq_store_sub_del(b, B("c1"), NUL, B("a/#")), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM subscriptions"), 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(message_roundtrip_all_fields)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	static const uint8_t bin[] = {0x00, 0xff, 0x00, 0x7f};
	struct wmq_store_msg m1 = {.id = UINT64_MAX - 1, .topic = B("bin/ary"), .payload = {bin, sizeof bin},
				   .props = {(const uint8_t *)"\x03\x00\x01z", 4}, .qos = 2, .retain = true,
				   .received_at = 1700000000, .expiry_at = 1800000000,
				   .publisher_id = B("pub-1"), .publisher_user = B("carol")};
	struct wmq_store_msg m2 = {.id = 5, .topic = B("e"), .payload = NUL, .props = B(""), .qos = 0,
				   .received_at = 1};
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_msg_put(b, &m1), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m2), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("bin/ary"), m1.id), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("e"), m2.id), WMQ_OK);
	submit(b);
	flush_ok(st);
	struct wmq_store_load_stats ls;
	/* ids are stored as signed 64-bit: the high one sorts first */
	ASSERT_STREQ(dump_at(st, 150, &ls),
		     "M 18446744073709551614 t=bin/ary p=00ff007f pr=0300017a q=2 r=1 rx=1700000000 ex=1800000000 pid=pub-1 pu=carol\n"
		     "M 5 t=e p= pr= q=0 r=0 rx=1 ex=0 pid=- pu=-\n"
		     "R bin/ary 18446744073709551614\n"
		     "R e 5\n");
	ASSERT_EQ(ls.max_msg_id == UINT64_MAX - 1, 1);
	ASSERT_EQ(ls.messages, 2);
	ASSERT_EQ(ls.retained, 2);
	wmq_store_close(st);
	scratch_clear();
}

TEST(message_put_is_idempotent)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_msg m = msg(9, "t", "first"), again = msg(9, "t", "second");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("t"), 9), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &again), WMQ_OK);
	submit(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_msg_put(b, &again), WMQ_OK); /* a later batch re-puts it */
	ASSERT_EQ(wmq_store_retained_put(b, B("t2"), 9), WMQ_OK);
	submit(b);
	flush_ok(st);
	struct wmq_store_stats s;
	wmq_store_stats(st, &s);
	ASSERT_EQ(s.ops_rejected, 0);
	ASSERT_STREQ(dump(st), "M 9 t=t p=6669727374 pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
			       "R t 9\nR t2 9\n");
	wmq_store_close(st);
	scratch_clear();
}

TEST(queue_order_per_session)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1"), z = ses("c0");
	struct wmq_store_msg m = msg(1, "t", "");
	static const uint64_t seqs[] = {5, 1, 1000000000000ull, 3, 2, 4};
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &z), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	for (size_t i = 0; i < WMQ_ARRAY_LEN(seqs); i++) {
		struct wmq_store_qentry q = qe("c1", seqs[i], 1);
		ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
	}
	struct wmq_store_qentry x = qe("c0", 2, 1), y = qe("c0", 1, 1);
	x.props = B("\x0b\x07"); /* subscription identifier 7 */
	y.retain = true;
	ASSERT_EQ(wmq_store_queue_put(b, &x), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &y), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "M 1 t=t p= pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
			       "S c0 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
			       "Q c0 1 m=1 q=1 st=0 pk=0 d=0 r=1 pr=-\n"
			       "Q c0 2 m=1 q=1 st=0 pk=0 d=0 r=0 pr=0b07\n"
			       "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
			       "Q c1 1 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
			       "Q c1 2 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
			       "Q c1 3 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
			       "Q c1 4 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
			       "Q c1 5 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
			       "Q c1 1000000000000 m=1 q=1 st=0 pk=0 d=0 r=0 pr=-\n");
	wmq_store_close(st);
	scratch_clear();
}

TEST(queue_update_state_flow)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_msg m = msg(1, "t", "x");
	struct wmq_store_qentry q1 = qe("c1", 1, 1), q2 = qe("c1", 2, 1);
	q2.qos = 2;
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q1), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q2), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_update_state(b, B("c1"), 1, WMQ_STORE_Q_WAIT_PUBACK, 17, false), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_update_state(b, B("c1"), 2, WMQ_STORE_Q_WAIT_PUBREC, 18, false), WMQ_OK);
	submit(b);
	b = begin(st);
	/* reconnect: resend with DUP; QoS 2 moves on to PUBREL */
	ASSERT_EQ(wmq_store_queue_update_state(b, B("c1"), 1, WMQ_STORE_Q_WAIT_PUBACK, 17, true), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_update_state(b, B("c1"), 2, WMQ_STORE_Q_WAIT_PUBCOMP, 18, false), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "M 1 t=t p=78 pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
			       "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
			       "Q c1 1 m=1 q=1 st=1 pk=17 d=1 r=0 pr=-\n"
			       "Q c1 2 m=1 q=2 st=3 pk=18 d=0 r=0 pr=-\n");
	wmq_store_close(st);
	scratch_clear();
}

TEST(queue_del_collects_last_reference)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1"), z = ses("c2");
	struct wmq_store_msg m = msg(1, "t", "x");
	struct wmq_store_qentry q1 = qe("c1", 1, 1), q2 = qe("c2", 1, 1);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &z), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q1), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q2), WMQ_OK);
	submit(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_queue_del(b, B("c1"), 1), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 1);
	b = begin(st);
	ASSERT_EQ(wmq_store_queue_del(b, B("c2"), 1), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_del(b, B("c2"), 99), WMQ_OK); /* absent: no-op */
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 0);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM temp.gc_cand"), 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(retained_replace_and_delete_collect)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_msg m1 = msg(1, "r/t", "old"), m2 = msg(2, "r/t", "new");
	m1.retain = m2.retain = true;
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_msg_put(b, &m1), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("r/t"), 1), WMQ_OK);
	submit(b);
	flush_ok(st);
	b = begin(st);
	ASSERT_EQ(wmq_store_msg_put(b, &m2), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("r/t"), 2), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "M 2 t=r/t p=6e6577 pr=- q=1 r=1 rx=100 ex=0 pid=- pu=-\nR r/t 2\n");
	b = begin(st);
	ASSERT_EQ(wmq_store_retained_del(b, B("r/t")), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "");
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(message_shared_by_queue_and_retained)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_msg m = msg(3, "s", "v");
	struct wmq_store_qentry q = qe("c1", 1, 3);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("s"), 3), WMQ_OK);
	submit(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_queue_del(b, B("c1"), 1), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 1);
	b = begin(st);
	ASSERT_EQ(wmq_store_retained_del(b, B("s")), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(unreferenced_message_collected_at_commit)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_msg m = msg(1, "t", "nobody wants me"), k = msg(2, "t", "kept");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &k), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("t"), 2), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 1);
	ASSERT_EQ(q64(st, "SELECT id FROM messages"), 2);
	/* the full sweep finds nothing more to do */
	b = begin(st);
	ASSERT_EQ(wmq_store_msg_gc(b), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 1);
	wmq_store_close(st);
	scratch_clear();
}

TEST(inflight_in_roundtrip)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 65535), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 7), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 1), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 7), WMQ_OK); /* duplicate PUBLISH: no-op */
	submit(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_inflight_in_del(b, B("c1"), 7), WMQ_OK); /* PUBREL */
	submit(b);
	flush_ok(st);
	ASSERT_STREQ(dump(st), "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\nI c1 1\nI c1 65535\n");
	struct wmq_store_stats s;
	wmq_store_stats(st, &s);
	ASSERT_EQ(s.ops_rejected, 0);
	wmq_store_close(st);
	scratch_clear();
}

/* ---- Expiry on load ------------------------------------------------------ */

TEST(load_drops_expired_sessions)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session s1 = ses("gone"), s2 = ses("later"), s3 = ses("was-connected");
	s1.expiry_at = 200;
	s2.expiry_at = 201;
	struct wmq_store_msg m = msg(1, "t", "x");
	struct wmq_store_qentry q = qe("gone", 1, 1);
	struct wmq_store_sub s = sub("gone", NULL, "t", 1, 0);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &s1), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &s2), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &s3), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("gone"), 3), WMQ_OK);
	submit(b);
	flush_ok(st);
	struct wmq_store_load_stats ls;
	const char *want = "S later v=5 ei=3600 ea=201 u=- c=100 up=100\n"
			   "S was-connected v=5 ei=3600 ea=0 u=- c=100 up=100\n";
	ASSERT_STREQ(dump_at(st, 200, &ls), want);
	ASSERT_EQ(ls.dropped_sessions, 1);
	ASSERT_EQ(ls.dropped_messages, 1);
	ASSERT_EQ(ls.sessions, 2);
	wmq_store_close(st);
	/* the drop was written, not just filtered */
	st = open_inline(p);
	ASSERT_STREQ(dump_at(st, 0, &ls), want);
	ASSERT_EQ(ls.dropped_sessions, 0);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM inflight_in"), 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(load_drops_expired_messages_keeps_inflight)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_msg m1 = msg(1, "t", "old"), m2 = msg(2, "t", "new"), m3 = msg(3, "t", "dead");
	m1.expiry_at = 150;
	m3.expiry_at = 199;
	struct wmq_store_qentry q1 = qe("c1", 1, 1), q2 = qe("c1", 2, 1), q3 = qe("c1", 3, 2), q4 = qe("c1", 4, 3);
	q2.state = WMQ_STORE_Q_WAIT_PUBACK;
	q2.packet_id = 5;
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m1), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m2), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m3), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q1), WMQ_OK); /* queued, expired: dropped */
	ASSERT_EQ(wmq_store_queue_put(b, &q2), WMQ_OK); /* in flight, expired: kept */
	ASSERT_EQ(wmq_store_queue_put(b, &q3), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q4), WMQ_OK); /* queued, expired: dropped, m3 collected */
	ASSERT_EQ(wmq_store_retained_put(b, B("r1"), 1), WMQ_OK); /* expired: dropped */
	ASSERT_EQ(wmq_store_retained_put(b, B("r2"), 2), WMQ_OK);
	submit(b);
	flush_ok(st);
	struct wmq_store_load_stats ls;
	ASSERT_STREQ(dump_at(st, 200, &ls), "M 1 t=t p=6f6c64 pr=- q=1 r=0 rx=100 ex=150 pid=- pu=-\n"
					    "M 2 t=t p=6e6577 pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
					    "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\n"
					    "Q c1 2 m=1 q=1 st=1 pk=5 d=0 r=0 pr=-\n"
					    "Q c1 3 m=2 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
					    "R r2 2\n");
	ASSERT_EQ(ls.dropped_queued, 2);
	ASSERT_EQ(ls.dropped_retained, 1);
	ASSERT_EQ(ls.dropped_messages, 1);
	ASSERT_EQ(ls.queued, 2);
	ASSERT_EQ(ls.max_msg_id, 2);
	/* not yet expired at 149: load at an earlier time drops nothing more */
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages"), 2);
	wmq_store_close(st);
	scratch_clear();
}

TEST(load_callback_error_aborts_and_store_stays_usable)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("a"), z = ses("b");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_session_put(b, &z), WMQ_OK);
	submit(b);
	flush_ok(st);
	memset(&dumpbuf, 0, sizeof dumpbuf);
	dumpbuf.fail_session_at = 2;
	struct wmq_store_loader l = loader(&dumpbuf);
	ASSERT_EQ(wmq_store_load(st, 0, &l, NULL), WMQ_ERR_LIMIT);
	ASSERT_STREQ(dumpbuf.s, "S a v=5 ei=3600 ea=0 u=- c=100 up=100\n");
	/* the read transaction was ended: writes and loads still work */
	struct wmq_store_session c = ses("c");
	b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &c), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM sessions"), 3);
	ASSERT_EQ(wmq_store_load(st, 0, NULL, NULL), WMQ_OK);
	wmq_store_close(st);
	scratch_clear();
}

/* ---- Group commit and completion ----------------------------------------- */

TEST(group_commit_inline_one_transaction)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_stats s0, s1;
	wmq_store_stats(st, &s0);
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	uint64_t last = submit(b);
	for (uint64_t i = 0; i < 100; i++) {
		b = begin(st);
		for (uint64_t j = 0; j < 10; j++) {
			uint64_t id = i * 10 + j + 1;
			struct wmq_store_msg m = msg(id, "t", "payload");
			struct wmq_store_qentry q = qe("c1", id, id);
			ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
			ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
		}
		uint64_t t = submit(b);
		ASSERT_EQ(t, last + 1);
		last = t;
	}
	ASSERT_EQ(wmq_store_completed(st), 0);
	wmq_store_stats(st, &s1);
	ASSERT_EQ(s1.pending_batches, 101);
	ASSERT(s1.pending_bytes > 0);
	flush_ok(st);
	wmq_store_stats(st, &s1);
	ASSERT_EQ(s1.commits - s0.commits, 1);
	ASSERT_EQ(s1.batches - s0.batches, 101);
	ASSERT_EQ(s1.ops - s0.ops, 2001);
	ASSERT_EQ(s1.pending_batches, 0);
	ASSERT_EQ(s1.pending_bytes, 0);
	ASSERT_EQ(wmq_store_completed(st), last);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM queue"), 1000);
	/* nothing pending: flush is a no-op without a transaction */
	flush_ok(st);
	wmq_store_stats(st, &s0);
	ASSERT_EQ(s0.commits, s1.commits);
	wmq_store_close(st);
	scratch_clear();
}

TEST(group_commit_thread_with_delay)
{
	char p[300];
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE, .commit_delay_ms = 60000};
	struct wmq_store *st = NULL;
	ASSERT_EQ(wmq_store_open(scratch_path(p, sizeof p, "a.db"), &o, &st), WMQ_OK);
	uint64_t t = 0;
	for (int i = 0; i < 50; i++) {
		char cid[16];
		snprintf(cid, sizeof cid, "c%02d", i);
		struct wmq_store_session a = ses(cid);
		struct wmq_store_batch *b = begin(st);
		ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
		t = submit(b);
	}
	struct wmq_store_stats s;
	wmq_store_stats(st, &s);
	ASSERT_EQ(s.commits, 0); /* held by the 60 s window */
	ASSERT_EQ(wmq_store_completed(st), 0);
	flush_ok(st); /* asks for the commit now */
	wmq_store_stats(st, &s);
	ASSERT_EQ(s.commits, 1);
	ASSERT_EQ(s.batches, 50);
	ASSERT_EQ(wmq_store_completed(st), t);
	ASSERT_EQ(t, 50);
	/* shrinking the window at run time commits without a flush */
	struct wmq_store_session z = ses("late");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &z), WMQ_OK);
	t = submit(b);
	wmq_store_set_commit_delay(st, 0);
	struct pollfd pfd = {.fd = wmq_store_completion_fd(st), .events = POLLIN};
	for (int i = 0; i < 50 && wmq_store_completed(st) < t; i++)
		(void)poll(&pfd, 1, 100);
	ASSERT_EQ(wmq_store_completed(st), t);
	wmq_store_close(st);
	scratch_clear();
}

TEST(completion_fd_signals_commit)
{
	char p[300];
	struct wmq_store *st = open_flags(scratch_path(p, sizeof p, "a.db"), WMQ_STORE_CREATE);
	int fd = wmq_store_completion_fd(st);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ASSERT_EQ(poll(&pfd, 1, 0), 0); /* nothing yet */
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	uint64_t t = submit(b);
	ASSERT_EQ(poll(&pfd, 1, 5000), 1);
	ASSERT(pfd.revents & POLLIN);
	ASSERT_EQ(wmq_store_completed(st), t); /* and drains the fd */
	ASSERT_EQ(poll(&pfd, 1, 0), 0);
	ASSERT(!wmq_store_failed(st));
	/* tickets keep increasing; an empty batch completes too */
	b = begin(st);
	uint64_t t2 = submit(b);
	ASSERT_EQ(t2, t + 1);
	flush_ok(st);
	ASSERT_EQ(wmq_store_completed(st), t2);
	wmq_store_close(st);
	scratch_clear();
}

TEST(batch_invalid_op_poisons_batch)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_qentry bad = qe("c1", 1, 1);
	bad.qos = 3;
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &bad), WMQ_ERR_INVAL);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_ERR_INVAL); /* sticky */
	uint64_t t = 77;
	ASSERT_EQ(wmq_store_submit(b, &t), WMQ_ERR_INVAL);
	ASSERT_EQ(t, 0);
	/* other invalid records */
	struct wmq_store_session nocid = ses("x");
	nocid.client_id = NUL;
	b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &nocid), WMQ_ERR_INVAL);
	wmq_store_abort(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 0), WMQ_ERR_INVAL);
	wmq_store_abort(b);
	b = begin(st);
	ASSERT_EQ(wmq_store_queue_update_state(b, B("c1"), 1, (enum wmq_store_qstate)9, 1, false), WMQ_ERR_INVAL);
	wmq_store_abort(b);
	flush_ok(st);
	ASSERT_EQ(wmq_store_completed(st), 0);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM sessions"), 0);
	/* the next batch is fine */
	b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	t = submit(b);
	ASSERT_EQ(t, 1);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM sessions"), 1);
	wmq_store_close(st);
	scratch_clear();
}

TEST(abort_discards_batch)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	for (int i = 0; i < 20; i++) { /* recycled batches come back empty */
		struct wmq_store_batch *b = begin(st);
		ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
		wmq_store_abort(b);
	}
	wmq_store_abort(NULL);
	struct wmq_store_batch *b = begin(st);
	uint64_t t = submit(b);
	flush_ok(st);
	ASSERT_EQ(wmq_store_completed(st), t);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM sessions"), 0);
	struct wmq_store_stats s;
	wmq_store_stats(st, &s);
	ASSERT_EQ(s.ops, 0);
	wmq_store_close(st);
	scratch_clear();
}

TEST(constraint_rejects_only_the_op)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	struct wmq_store_session a = ses("c1");
	struct wmq_store_qentry orphan = qe("c1", 1, 404); /* message never put */
	struct wmq_store_sub nosession = sub("ghost", NULL, "t", 0, 0);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &orphan), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &nosession), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 4), WMQ_OK);
	uint64_t t = submit(b);
	flush_ok(st);
	ASSERT_EQ(wmq_store_completed(st), t);
	ASSERT(!wmq_store_failed(st));
	struct wmq_store_stats s;
	wmq_store_stats(st, &s);
	ASSERT_EQ(s.ops_rejected, 2);
	ASSERT_EQ(s.ops, 2);
	ASSERT_HAS(wmq_store_errmsg(st), "constraint");
	ASSERT_STREQ(dump(st), "S c1 v=5 ei=3600 ea=0 u=- c=100 up=100\nI c1 4\n");
	wmq_store_close(st);
	scratch_clear();
}

/* ---- Restarts and migrations --------------------------------------------- */

TEST(reopen_after_close_keeps_everything)
{
	char p[300];
	struct wmq_store *st = open_flags(scratch_path(p, sizeof p, "a.db"), WMQ_STORE_CREATE);
	struct wmq_store_session a = ses("c1");
	a.username = B("u");
	struct wmq_store_sub s = sub("c1", NULL, "t/#", 2, 1);
	struct wmq_store_msg m = msg(10, "t/x", "hello");
	struct wmq_store_qentry q = qe("c1", 1, 10);
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_sub_put(b, &s), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
	ASSERT_EQ(wmq_store_inflight_in_put(b, B("c1"), 2), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("t/x"), 10), WMQ_OK);
	submit(b);
	flush_ok(st);
	wmq_store_close(st);
	const char *want = "M 10 t=t/x p=68656c6c6f pr=- q=1 r=0 rx=100 ex=0 pid=- pu=-\n"
			   "S c1 v=5 ei=3600 ea=0 u=u c=100 up=100\n"
			   "B c1 s=- f=t/# o=2 id=1\n"
			   "Q c1 1 m=10 q=1 st=0 pk=0 d=0 r=0 pr=-\n"
			   "I c1 2\n"
			   "R t/x 10\n";
	for (int i = 0; i < 2; i++) {
		st = open_flags(p, WMQ_STORE_CREATE);
		ASSERT_STREQ(dump(st), want);
		wmq_store_close(st);
	}
	/* read-only inspection (tools) sees the same and writes nothing */
	st = open_flags(p, WMQ_STORE_READONLY);
	ASSERT_STREQ(dump(st), want);
	b = begin(st);
	ASSERT_EQ(wmq_store_session_del(b, B("c1")), WMQ_OK);
	submit(b);
	ASSERT_EQ(wmq_store_flush(st, 1000), WMQ_ERR_STORE);
	ASSERT_HAS(wmq_store_errmsg(st), "read");
	wmq_store_close(st);
	scratch_clear();
}

TEST(close_with_pending_batches_does_not_leak)
{
	char p[300];
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE, .commit_delay_ms = 60000};
	struct wmq_store *st = NULL;
	ASSERT_EQ(wmq_store_open(scratch_path(p, sizeof p, "a.db"), &o, &st), WMQ_OK);
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	submit(b);
	ASSERT_EQ(wmq_store_flush(st, 0), WMQ_ERR_AGAIN); /* zero timeout: not yet */
	wmq_store_close(st); /* the batch may or may not have made it; no leak */
	scratch_clear();
}

TEST(newer_schema_is_refused)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	ASSERT_EQ(wmq_store_test_exec(st, "PRAGMA user_version = 99"), WMQ_OK);
	wmq_store_close(st);
	const char *m = open_fails(p, WMQ_STORE_CREATE);
	ASSERT_HAS(m, p);
	ASSERT_HAS(m, "newer WardMQ");
	ASSERT_HAS(m, "schema version 99");
	scratch_clear();
}

TEST(foreign_database_is_refused)
{
	char p[300];
	struct wmq_store *st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(scratch_path(p, sizeof p, "a.db"), 1, &st), WMQ_OK);
	ASSERT_EQ(wmq_store_test_exec(st, "PRAGMA application_id = 42"), WMQ_OK);
	wmq_store_close(st);
	const char *m = open_fails(p, WMQ_STORE_CREATE);
	ASSERT_HAS(m, "not a WardMQ database");
	/* an unrelated SQLite file with tables but no id at all */
	st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(scratch_path(p, sizeof p, "b.db"), 1, &st), WMQ_OK);
	ASSERT_EQ(wmq_store_test_exec(st, "PRAGMA application_id = 0; PRAGMA user_version = 0"), WMQ_OK);
	wmq_store_close(st);
	m = open_fails(p, WMQ_STORE_CREATE);
	ASSERT_HAS(m, "not a WardMQ database");
	scratch_clear();
}

TEST(migration_from_version_1)
{
	char p[300];
	struct wmq_store *st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(scratch_path(p, sizeof p, "old.db"), 1, &st), WMQ_OK);
	ASSERT_EQ(q64(st, "PRAGMA user_version"), 1);
	/* what a version-1 broker wrote (no owner or publisher columns yet) */
	ASSERT_EQ(wmq_store_test_exec(st,
		"INSERT INTO sessions (client_id, protocol, expiry_interval, expiry_at, will_topic, will_payload, "
		"  will_qos, created_at, updated_at) VALUES ('old-1', 4, 4294967295, NULL, 'w', x'6279', 1, 10, 20);"
		"INSERT INTO subscriptions (client_id, filter, options, sub_id) VALUES ('old-1', 'a/+', 1, 0);"
		"INSERT INTO messages (id, topic, payload, qos, retain, received_at) VALUES (7, 'a/b', x'6869', 1, 0, 5);"
		"INSERT INTO queue (client_id, seq, msg_id, qos, state, packet_id) VALUES ('old-1', 1, 7, 1, 1, 3);"
		"INSERT INTO inflight_in (client_id, packet_id) VALUES ('old-1', 11);"
		"INSERT INTO retained (topic, msg_id) VALUES ('a/b', 7);"), WMQ_OK);
	/* version 1 has no username column */
	ASSERT_EQ(wmq_store_test_exec(st, "SELECT username FROM sessions"), WMQ_ERR_STORE);
	wmq_store_close(st);

	st = open_inline(p);
	ASSERT_EQ(q64(st, "PRAGMA user_version"), WMQ_STORE_SCHEMA_VERSION);
	ASSERT_EQ(q64(st, "PRAGMA foreign_key_check"), 0);
	ASSERT_STREQ(dump_at(st, 1000, NULL), "M 7 t=a/b p=6869 pr=- q=1 r=0 rx=5 ex=0 pid=- pu=-\n"
					      "S old-1 v=4 ei=4294967295 ea=0 u=- c=10 up=20 w=w,6279,-,1,0,0\n"
					      "B old-1 s=- f=a/+ o=1 id=0\n"
					      "Q old-1 1 m=7 q=1 st=1 pk=3 d=0 r=0 pr=-\n"
					      "I old-1 11\n"
					      "R a/b 7\n");
	/* the upgraded columns are writable through the current API */
	struct wmq_store_session a = ses("old-1");
	a.username = B("dave");
	struct wmq_store_msg m = msg(8, "a/c", "x");
	m.publisher_id = B("old-1");
	m.publisher_user = B("dave");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
	ASSERT_EQ(wmq_store_retained_put(b, B("a/c"), 8), WMQ_OK);
	submit(b);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM sessions WHERE username = 'dave' AND created_at = 10"), 1);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM messages WHERE publisher_user = 'dave'"), 1);
	wmq_store_close(st);
	/* a read-only open of an old schema asks for an upgrade instead */
	st = NULL;
	ASSERT_EQ(wmq_store_test_open_version(scratch_path(p, sizeof p, "old2.db"), 1, &st), WMQ_OK);
	wmq_store_close(st);
	ASSERT_HAS(open_fails(p, WMQ_STORE_READONLY), "older");
	scratch_clear();
}

/* ---- Damaged files ------------------------------------------------------- */

static void write_file_at(const char *path, off_t off, uint8_t byte, size_t n, int trunc)
{
	int fd = open(path, O_WRONLY | O_CREAT | (trunc ? O_TRUNC : 0), 0644);
	ASSERT(fd >= 0);
	uint8_t buf[4096];
	memset(buf, byte, sizeof buf);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof buf ? n - done : sizeof buf;
		for (size_t i = 0; i < k; i++)
			buf[i] = (uint8_t)(byte ^ (uint8_t)((done + i) * 131u));
		ssize_t w = pwrite(fd, buf, k, off + (off_t)done);
		ASSERT_EQ(w, (ssize_t)k);
		done += k;
	}
	close(fd);
}

TEST(corrupt_garbage_file)
{
	char p[300];
	write_file_at(scratch_path(p, sizeof p, "junk.db"), 0, 0x5a, 16384, 1);
	const char *m = open_fails(p, WMQ_STORE_CREATE);
	ASSERT_HAS(m, p);
	ASSERT_HAS(m, "corrupt");
	ASSERT_HAS(m, "move the file aside");
	scratch_clear();
}

TEST(corrupt_pages_in_a_copy)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "good.db"));
	struct wmq_store_session a = ses("c1");
	char payload[600];
	memset(payload, 'p', sizeof payload - 1);
	payload[sizeof payload - 1] = '\0';
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	for (uint64_t i = 1; i <= 200; i++) {
		struct wmq_store_msg m = msg(i, "t", payload);
		struct wmq_store_qentry q = qe("c1", i, i);
		ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
		ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
	}
	submit(b);
	flush_ok(st);
	wmq_store_close(st); /* checkpoints: everything is in the main file */
	struct stat sb;
	ASSERT_EQ(stat(p, &sb), 0);
	ASSERT(sb.st_size > 8 * 4096);
	/* copy, then overwrite pages 3.. (page 1 with the header stays) */
	char c[300];
	scratch_path(c, sizeof c, "bad.db");
	{
		int in = open(p, O_RDONLY);
		ASSERT(in >= 0);
		static uint8_t buf[1 << 20];
		ssize_t n = read(in, buf, sizeof buf);
		close(in);
		ASSERT_EQ(n, sb.st_size);
		int out = open(c, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ASSERT(out >= 0);
		ASSERT_EQ(write(out, buf, (size_t)n), n);
		close(out);
	}
	write_file_at(c, 2 * 4096, 0xa5, (size_t)sb.st_size - 3 * 4096, 0);
	const char *m = open_fails(c, WMQ_STORE_CREATE);
	ASSERT_HAS(m, c);
	ASSERT_HAS(m, "corrupt");
	/* the original is untouched */
	st = open_inline(p);
	struct wmq_store_load_stats ls;
	(void)dump_at(st, 0, &ls);
	ASSERT_EQ(ls.queued, 200);
	wmq_store_close(st);
	scratch_clear();
}

/* ---- Read-only, disk full, locked (children for process-wide state) ----- */

#define CHECK(c)                                                                     \
	do {                                                                         \
		if (!(c)) {                                                          \
			fprintf(stderr, "  child %s:%d: %s\n", __FILE__, __LINE__, #c); \
			return 1;                                                    \
		}                                                                    \
	} while (0)

static int run_child(int (*fn)(const char *), const char *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(arg)); /* _exit: no leak report for the parent's objects */
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int child_readonly(const char *path)
{
	/* root ignores file modes: become nobody so that 0444 applies */
	if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
		return 77;
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE | WMQ_STORE_INLINE};
	struct wmq_store *st = NULL;
	wmq_err e = wmq_store_open(path, &o, &st);
	const char *m = wmq_store_errmsg(st);
	fprintf(stderr, "  (read-only open: %s)\n", m);
	CHECK(e == WMQ_ERR_STORE);
	CHECK(strstr(m, path) != NULL);
	CHECK(strstr(m, "read-only") != NULL);
	wmq_store_close(st);
	return 0;
}

TEST(read_only_file_is_refused)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "ro.db"));
	wmq_store_close(st);
	ASSERT_EQ(chmod(p, 0444), 0);
	ASSERT_EQ(chmod(scratch_dir, 0755), 0);
	int r = run_child(child_readonly, p);
	if (r == 77)
		printf("  (skipped: cannot drop root privileges)\n");
	else
		ASSERT_EQ(r, 0);
	scratch_clear();
}

static int child_disk_full(const char *path)
{
	signal(SIGXFSZ, SIG_IGN); /* get EFBIG instead of being killed */
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE};
	struct wmq_store *st = NULL;
	CHECK(wmq_store_open(path, &o, &st) == WMQ_OK);
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = NULL;
	uint64_t t1 = 0, t2 = 0;
	CHECK(wmq_store_begin(st, &b) == WMQ_OK);
	CHECK(wmq_store_session_put(b, &a) == WMQ_OK);
	CHECK(wmq_store_submit(b, &t1) == WMQ_OK);
	CHECK(wmq_store_flush(st, 10000) == WMQ_OK);

	struct rlimit old, lim;
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = 256 * 1024;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);

	size_t big = 1u << 20;
	uint8_t *payload = wmq_calloc(1, big);
	CHECK(payload);
	struct wmq_store_msg m = msg(1, "big", "");
	m.payload = (struct wmq_bytes){payload, big};
	struct wmq_store_qentry q = qe("c1", 1, 1);
	CHECK(wmq_store_begin(st, &b) == WMQ_OK);
	CHECK(wmq_store_msg_put(b, &m) == WMQ_OK);
	CHECK(wmq_store_queue_put(b, &q) == WMQ_OK);
	CHECK(wmq_store_submit(b, &t2) == WMQ_OK);
	wmq_free(payload);
	CHECK(wmq_store_flush(st, 10000) == WMQ_ERR_STORE);
	CHECK(wmq_store_failed(st));
	CHECK(wmq_store_completed(st) == t1); /* nothing of t2 reported durable */
	const char *msgtxt = wmq_store_errmsg(st);
	fprintf(stderr, "  (disk full: %s)\n", msgtxt);
	CHECK(strstr(msgtxt, path) != NULL);
	CHECK(strstr(msgtxt, "full") != NULL);
	struct wmq_store_stats s;
	wmq_store_stats(st, &s);
	CHECK(s.commit_failures >= 1);
	CHECK(s.pending_batches == 1);

	/* space comes back: the store recovers by itself (the flush only
	 * skips the back-off wait) */
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	struct pollfd pfd = {.fd = wmq_store_completion_fd(st), .events = POLLIN};
	for (int i = 0; i < 60 && wmq_store_completed(st) < t2; i++)
		(void)poll(&pfd, 1, 100);
	CHECK(wmq_store_completed(st) == t2);
	CHECK(!wmq_store_failed(st));
	wmq_store_close(st);

	st = NULL;
	o.flags = WMQ_STORE_INLINE;
	CHECK(wmq_store_open(path, &o, &st) == WMQ_OK);
	struct wmq_store_load_stats ls;
	CHECK(wmq_store_load(st, 0, NULL, &ls) == WMQ_OK);
	CHECK(ls.messages == 1 && ls.queued == 1 && ls.sessions == 1);
	wmq_store_close(st);
	return 0;
}

TEST(disk_full_fails_then_recovers)
{
	char p[300];
	ASSERT_EQ(run_child(child_disk_full, scratch_path(p, sizeof p, "full.db")), 0);
	scratch_clear();
}

static int child_disk_full_at_open(const char *path)
{
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim;
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim = old;
	lim.rlim_cur = 0;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	struct wmq_store *st = NULL;
	wmq_err e = wmq_store_open(path, NULL, &st);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0); /* stderr may be a file */
	const char *m = wmq_store_errmsg(st);
	fprintf(stderr, "  (disk full at open: %s)\n", m);
	CHECK(e == WMQ_ERR_STORE);
	CHECK(strstr(m, path) != NULL);
	CHECK(strstr(m, "full") != NULL);
	wmq_store_close(st);
	return 0;
}

TEST(disk_full_at_creation)
{
	char p[300];
	ASSERT_EQ(run_child(child_disk_full_at_open, scratch_path(p, sizeof p, "full0.db")), 0);
	scratch_clear();
}

TEST(locked_database_fails_then_recovers)
{
	char p[300];
	struct wmq_store *holder = open_inline(scratch_path(p, sizeof p, "lock.db"));
	struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE, .busy_timeout_ms = 50};
	struct wmq_store *st = NULL;
	ASSERT_EQ(wmq_store_open(p, &o, &st), WMQ_OK);
	ASSERT_EQ(wmq_store_test_exec(holder, "BEGIN IMMEDIATE"), WMQ_OK); /* another writer */
	struct wmq_store_session a = ses("c1");
	struct wmq_store_batch *b = begin(st);
	ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
	uint64_t t = submit(b);
	ASSERT_EQ(wmq_store_flush(st, 5000), WMQ_ERR_STORE);
	ASSERT(wmq_store_failed(st));
	struct pollfd pfd = {.fd = wmq_store_completion_fd(st), .events = POLLIN};
	ASSERT_EQ(poll(&pfd, 1, 0), 1); /* the failed state was signalled */
	ASSERT_EQ(wmq_store_completed(st), 0);
	ASSERT_HAS(wmq_store_errmsg(st), "locked");
	ASSERT_HAS(wmq_store_errmsg(st), p);
	ASSERT_EQ(wmq_store_test_exec(holder, "COMMIT"), WMQ_OK);
	flush_ok(st);
	ASSERT(!wmq_store_failed(st));
	ASSERT_EQ(wmq_store_completed(st), t);
	wmq_store_close(st);
	wmq_store_close(holder);
	scratch_clear();
}

/* ---- Out of memory -------------------------------------------------------- */

static void populate(const char *path)
{
	struct wmq_store *st = open_inline(path);
	struct wmq_store_batch *b = begin(st);
	for (int i = 0; i < 3; i++) {
		char cid[16];
		snprintf(cid, sizeof cid, "c%d", i);
		struct wmq_store_session a = ses(cid);
		a.will.topic = B("w");
		a.will.payload = B("bye");
		struct wmq_store_sub s = sub(cid, i ? "g" : NULL, "t/#", 1, 2);
		struct wmq_store_msg m = msg((uint64_t)i + 1, "t/x", "payload");
		struct wmq_store_qentry q = qe(cid, 1, (uint64_t)i + 1);
		ASSERT_EQ(wmq_store_session_put(b, &a), WMQ_OK);
		ASSERT_EQ(wmq_store_sub_put(b, &s), WMQ_OK);
		ASSERT_EQ(wmq_store_msg_put(b, &m), WMQ_OK);
		ASSERT_EQ(wmq_store_queue_put(b, &q), WMQ_OK);
		ASSERT_EQ(wmq_store_inflight_in_put(b, B(cid), 5), WMQ_OK);
		ASSERT_EQ(wmq_store_retained_put(b, B(cid), (uint64_t)i + 1), WMQ_OK);
	}
	submit(b);
	flush_ok(st);
	wmq_store_close(st);
}

TEST(oom_on_open_and_load)
{
	char p[300];
	populate(scratch_path(p, sizeof p, "oom.db"));
	struct wmq_store *st = open_inline(p);
	char want[4096];
	snprintf(want, sizeof want, "%s", dump(st));
	wmq_store_close(st);

	int failures = 0, ok_run = 0;
	/* every allocation up to 200, then a growing stride (keeps it short) */
	for (long n = 1; n < 20000 && ok_run < 5; n += n < 200 ? 1 : n / 25) {
		struct wmq_store_opts o = {.flags = WMQ_STORE_INLINE};
		st = NULL;
		memset(&dumpbuf, 0, sizeof dumpbuf);
		dumpbuf.alloc = true;
		struct wmq_store_loader l = loader(&dumpbuf);
		wmq_alloc_fail_after(n);
		wmq_err e = wmq_store_open(p, &o, &st);
		if (e == WMQ_OK)
			e = wmq_store_load(st, 150, &l, NULL);
		wmq_alloc_fail_after(0);
		if (e != WMQ_OK && e != WMQ_ERR_NOMEM)
			TEST_FAIL_("n=%ld: %s: %s", n, wmq_err_str(e), wmq_store_errmsg(st));
		if (e == WMQ_OK) {
			ASSERT_STREQ(dumpbuf.s, want);
			ok_run++;
		} else {
			failures++;
			ok_run = 0;
		}
		wmq_store_close(st);
	}
	ASSERT(failures > 100);
	ASSERT_EQ(ok_run, 5);
	/* the file is intact */
	st = open_inline(p);
	ASSERT_STREQ(dump(st), want);
	wmq_store_close(st);
	scratch_clear();
}

TEST(oom_on_create)
{
	char p[300];
	int failures = 0, ok_run = 0;
	long last_n = 0;
	for (long n = 1; n < 20000 && ok_run < 5; n += n < 50 ? 1 : n / 10) {
		char name[32];
		snprintf(name, sizeof name, "c%ld.db", n);
		/* batched: no fsync per commit, keeps the loop fast */
		struct wmq_store_opts o = {.flags = WMQ_STORE_CREATE | WMQ_STORE_INLINE | WMQ_STORE_BATCHED};
		struct wmq_store *st = NULL;
		wmq_alloc_fail_after(n);
		wmq_err e = wmq_store_open(scratch_path(p, sizeof p, name), &o, &st);
		wmq_alloc_fail_after(0);
		if (e != WMQ_OK && e != WMQ_ERR_NOMEM)
			TEST_FAIL_("n=%ld: %s: %s", n, wmq_err_str(e), wmq_store_errmsg(st));
		wmq_store_close(st);
		last_n = n;
		if (e == WMQ_OK) {
			ok_run++;
		} else {
			failures++;
			ok_run = 0;
		}
		/* whatever a failed creation left behind opens cleanly now */
		st = open_flags(p, WMQ_STORE_CREATE | WMQ_STORE_INLINE | WMQ_STORE_BATCHED);
		ASSERT_EQ(q64(st, "PRAGMA user_version"), WMQ_STORE_SCHEMA_VERSION);
		wmq_store_close(st);
		remove(p);
	}
	if (getenv("WMQ_TEST_VERBOSE"))
		printf("  oom_on_create: %d failures, last n=%ld\n", failures, last_n);
	ASSERT(failures > 50);
	ASSERT_EQ(ok_run, 5);
	scratch_clear();
}

TEST(oom_in_batch_ops)
{
	char p[300];
	struct wmq_store *st = open_inline(scratch_path(p, sizeof p, "a.db"));
	char big[3000];
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	int nomem = 0;
	for (long n = 1; n <= 12; n++) {
		struct wmq_store_batch *b = begin(st);
		struct wmq_store_session a = ses("c1");
		struct wmq_store_msg m = msg(1, "t", big);
		struct wmq_store_qentry q = qe("c1", 1, 1);
		wmq_alloc_fail_after(n);
		wmq_err e = wmq_store_session_put(b, &a);
		if (e == WMQ_OK)
			e = wmq_store_msg_put(b, &m);
		if (e == WMQ_OK)
			e = wmq_store_queue_put(b, &q);
		wmq_alloc_fail_after(0);
		uint64_t t = 0;
		wmq_err se = wmq_store_submit(b, &t);
		ASSERT_EQ(se, e); /* a failed op fails the whole batch */
		if (e == WMQ_ERR_NOMEM)
			nomem++;
		else
			ASSERT_EQ(e, WMQ_OK);
	}
	ASSERT(nomem >= 3);
	flush_ok(st);
	ASSERT_EQ(q64(st, "SELECT count(*) FROM queue"), 1);
	wmq_store_close(st);
	scratch_clear();
}

static const struct wmq_test tests[] = {
	{"open_fresh_pragmas", open_fresh_pragmas},
	{"open_batched_and_nosync_modes", open_batched_and_nosync_modes},
	{"open_missing_directory", open_missing_directory},
	{"open_missing_file_without_create", open_missing_file_without_create},
	{"open_invalid_arguments", open_invalid_arguments},
	{"session_roundtrip", session_roundtrip},
	{"session_update_keeps_created_and_children", session_update_keeps_created_and_children},
	{"session_set_expiry", session_set_expiry},
	{"session_del_cascades_and_collects", session_del_cascades_and_collects},
	{"subscription_roundtrip_shared_and_update", subscription_roundtrip_shared_and_update},
	{"subscription_del", subscription_del},
	{"message_roundtrip_all_fields", message_roundtrip_all_fields},
	{"message_put_is_idempotent", message_put_is_idempotent},
	{"queue_order_per_session", queue_order_per_session},
	{"queue_update_state_flow", queue_update_state_flow},
	{"queue_del_collects_last_reference", queue_del_collects_last_reference},
	{"retained_replace_and_delete_collect", retained_replace_and_delete_collect},
	{"message_shared_by_queue_and_retained", message_shared_by_queue_and_retained},
	{"unreferenced_message_collected_at_commit", unreferenced_message_collected_at_commit},
	{"inflight_in_roundtrip", inflight_in_roundtrip},
	{"load_drops_expired_sessions", load_drops_expired_sessions},
	{"load_drops_expired_messages_keeps_inflight", load_drops_expired_messages_keeps_inflight},
	{"load_callback_error_aborts_and_store_stays_usable", load_callback_error_aborts_and_store_stays_usable},
	{"group_commit_inline_one_transaction", group_commit_inline_one_transaction},
	{"group_commit_thread_with_delay", group_commit_thread_with_delay},
	{"completion_fd_signals_commit", completion_fd_signals_commit},
	{"batch_invalid_op_poisons_batch", batch_invalid_op_poisons_batch},
	{"abort_discards_batch", abort_discards_batch},
	{"constraint_rejects_only_the_op", constraint_rejects_only_the_op},
	{"reopen_after_close_keeps_everything", reopen_after_close_keeps_everything},
	{"close_with_pending_batches_does_not_leak", close_with_pending_batches_does_not_leak},
	{"newer_schema_is_refused", newer_schema_is_refused},
	{"foreign_database_is_refused", foreign_database_is_refused},
	{"migration_from_version_1", migration_from_version_1},
	{"corrupt_garbage_file", corrupt_garbage_file},
	{"corrupt_pages_in_a_copy", corrupt_pages_in_a_copy},
	{"read_only_file_is_refused", read_only_file_is_refused},
	{"disk_full_fails_then_recovers", disk_full_fails_then_recovers},
	{"disk_full_at_creation", disk_full_at_creation},
	{"locked_database_fails_then_recovers", locked_database_fails_then_recovers},
	{"oom_on_open_and_load", oom_on_open_and_load},
	{"oom_on_create", oom_on_create},
	{"oom_in_batch_ops", oom_in_batch_ops},
};

WMQ_TEST_MAIN(tests)
