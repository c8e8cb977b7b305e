/* SPDX-License-Identifier: MIT
 * store.h - durable sessions, queues, in-flight QoS state and retained
 * messages on SQLite (WAL), written by group commit on a store thread.
 *
 * Role: the only module that talks to SQLite (see docs/STORE.md). The broker
 * keeps its state in memory and mirrors every change that must survive a
 * restart into a batch; one batch per event-loop tick is submitted and the
 * store thread commits everything pending in ONE transaction, then reports
 * the highest committed ticket through an eventfd. Acks that promise
 * durability are released only when their ticket is <= wmq_store_completed().
 *
 * Threading:
 *   - wmq_store_open/close/load/flush: the owning thread (the broker's main
 *     thread); load and flush block, so call them at start-up, shutdown or in
 *     tools, never from a running event loop.
 *   - batches: a batch is owned by the thread that called wmq_store_begin()
 *     until wmq_store_submit() or wmq_store_abort(); ops never block.
 *   - wmq_store_submit/completed/failed/completion_fd/stats/set_commit_delay:
 *     any thread; they take a mutex for a few instructions and never wait for
 *     disk. Only the store thread (or, with WMQ_STORE_INLINE, the caller of
 *     wmq_store_flush) touches SQLite while the store is open.
 * Ownership: records passed to ops are borrowed and copied into the batch;
 * records passed to load callbacks are borrowed and valid only during the
 * callback (copy what you keep).
 *
 * Schema (user_version 3, application_id 0x574D5121 'WMQ!'); every table
 * except messages is WITHOUT ROWID. Times are wall-clock seconds since the
 * epoch. "bytes" columns may be NULL (absent) or zero-length (present, empty):
 *
 *   sessions        one row per persistent session
 *   ---------------+-------------+-------------------------------------------
 *   client_id       TEXT PK
 *   protocol        INTEGER      3, 4 or 5 (CONNECT protocol level)
 *   expiry_interval INTEGER      seconds; 4294967295 = never (v3.1.1 durable)
 *   expiry_at       INTEGER|NULL deadline once disconnected; NULL while
 *                                connected (or never expiring)
 *   will_topic      TEXT|NULL    NULL = no will
 *   will_payload    BLOB|NULL
 *   will_props      BLOB|NULL    encoded MQTT 5 will properties
 *   will_qos        INTEGER      0..2
 *   will_retain     INTEGER      0/1
 *   will_delay      INTEGER      seconds
 *   created_at      INTEGER      kept across session_put updates
 *   updated_at      INTEGER
 *   username        TEXT|NULL    owner identity for re-checks (v2)
 *
 *   subscriptions   PK (client_id, share, filter); client_id -> sessions CASCADE
 *   ---------------+-------------+-------------------------------------------
 *   share           TEXT         shared-subscription group, '' = not shared
 *   filter          TEXT         topic filter without "$share/<group>/"
 *   options         INTEGER      MQTT 5 subscription options byte
 *                                (bits 0-1 qos, 2 no-local, 3 rap, 4-5 rh)
 *   sub_id          INTEGER      subscription identifier, 0 = none
 *
 *   messages        one row per distinct message; garbage-collected (below)
 *   ---------------+-------------+-------------------------------------------
 *   id              INTEGER PK   broker message id (u64 stored as i64 bits)
 *   topic           TEXT
 *   payload         BLOB
 *   props           BLOB|NULL    encoded MQTT 5 properties minus per-delivery
 *   qos             INTEGER      0..2 as published
 *   retain          INTEGER      0/1 as published
 *   received_at     INTEGER
 *   expiry_at       INTEGER|NULL message expiry deadline
 *   publisher_id    TEXT|NULL    publisher client id (v2)
 *   publisher_user  TEXT|NULL    publisher username (v2)
 *
 *   queue           PK (client_id, seq); client_id -> sessions CASCADE,
 *                   msg_id -> messages (index queue_msg)
 *   ---------------+-------------+-------------------------------------------
 *   seq             INTEGER      per-session order, broker-assigned, < 2^63
 *   msg_id          INTEGER
 *   qos             INTEGER      delivery QoS 0..2
 *   state           INTEGER      enum wmq_store_qstate
 *   packet_id       INTEGER      0 = none assigned yet
 *   dup             INTEGER      0/1: next send carries DUP
 *   retain          INTEGER      0/1: retain flag as delivered (rap)
 *   props           BLOB|NULL    per-delivery properties (subscription ids)
 *
 *   inflight_in     PK (client_id, packet_id); client_id -> sessions CASCADE
 *                   inbound QoS 2: PUBREC sent, PUBREL not yet received
 *
 *   retained        topic TEXT PK -> msg_id (index retained_msg)
 *
 * Message garbage collection: a message row lives exactly as long as a queue
 * or retained row references it. Temporary triggers record every message id
 * whose reference went away (queue delete/update, retained delete/update,
 * cascades from session deletes) or that was just inserted; before each
 * COMMIT the unreferenced ones among them are deleted. Rule for the broker:
 * every batch that adds a reference (queue_put, retained_put) to a message
 * also puts the message (msg_put, idempotent on the id, once per batch is
 * enough), before the references: foreign keys are checked per statement,
 * and an earlier commit may already have collected the message.
 *
 * Identities and policy (users, groups, roles, rules, client-id bindings,
 * bans, PSK identities, policy version: migration 3) are read and written
 * through a connection of their own: store/identity.h.
 *
 * Migrations: an ordered const array of SQL steps (schema.c); step i takes
 * user_version i to i+1 in its own transaction. A database with a newer
 * user_version than this build knows is refused. */
#ifndef WMQ_STORE_STORE_H
#define WMQ_STORE_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"

struct wmq_store;       /* opaque handle */
struct wmq_store_batch; /* opaque op log of one tick */

/* Schema version this build writes (PRAGMA user_version). */
#define WMQ_STORE_SCHEMA_VERSION 3
/* Session expiry interval meaning "never expires" (MQTT 5 §3.1.2.11.2). */
#define WMQ_STORE_EXPIRY_NEVER UINT32_MAX

enum wmq_store_flag {
	WMQ_STORE_CREATE = 1u << 0,   /* create the file if missing (not its directory) */
	WMQ_STORE_BATCHED = 1u << 1,  /* PRAGMA synchronous=NORMAL (durability batched) */
	WMQ_STORE_INLINE = 1u << 2,   /* no store thread: wmq_store_flush() commits */
	WMQ_STORE_READONLY = 1u << 3, /* inspect only (tools); no migration, no writes */
	WMQ_STORE_NOSYNC = 1u << 4,   /* PRAGMA synchronous=OFF (durability none) */
};

struct wmq_store_opts {
	unsigned flags;              /* enum wmq_store_flag bits */
	unsigned busy_timeout_ms;    /* wait on a locked file (0 = default 5000) */
	unsigned commit_delay_ms;    /* collect batches this long before a commit
	                                (durability_interval in batched mode; 0 =
	                                commit as soon as there is work) */
	const struct wmq_log *log;   /* borrowed, may be NULL; used from the store thread */
};

/* Delivery state of a queue entry (outbound QoS flow, MQTT 5 §4.3). */
enum wmq_store_qstate {
	WMQ_STORE_Q_QUEUED = 0,       /* not sent yet */
	WMQ_STORE_Q_WAIT_PUBACK = 1,  /* QoS 1 PUBLISH sent, awaiting PUBACK */
	WMQ_STORE_Q_WAIT_PUBREC = 2,  /* QoS 2 PUBLISH sent, awaiting PUBREC */
	WMQ_STORE_Q_WAIT_PUBCOMP = 3, /* PUBREL sent, awaiting PUBCOMP */
};

/* All records: a wmq_bytes with p == NULL is stored as SQL NULL ("absent");
 * p != NULL with len 0 is present and empty. Strings are UTF-8 (MQTT rules
 * already checked by the broker) and carry no terminator. */

struct wmq_store_will {
	struct wmq_bytes topic;   /* p == NULL: the session has no will */
	struct wmq_bytes payload;
	struct wmq_bytes props;   /* encoded MQTT 5 will properties, or absent */
	uint8_t qos;              /* 0..2 */
	bool retain;
	uint32_t delay;           /* will delay interval, seconds */
};

struct wmq_store_session {
	struct wmq_bytes client_id; /* required, the key */
	uint8_t protocol;           /* 3, 4 or 5 */
	uint32_t expiry_interval;   /* seconds, WMQ_STORE_EXPIRY_NEVER = never */
	int64_t expiry_at;          /* wall s deadline once disconnected; 0 = none
	                               (connected, or never expiring) */
	struct wmq_bytes username;  /* owner identity, absent = anonymous */
	struct wmq_store_will will;
	int64_t created_at;         /* wall s; kept from the first put */
	int64_t updated_at;         /* wall s */
};

struct wmq_store_sub {
	struct wmq_bytes client_id; /* required */
	struct wmq_bytes share;     /* group of "$share/<group>/..."; absent or
	                               empty = not shared */
	struct wmq_bytes filter;    /* required, without the $share prefix */
	uint8_t options;            /* subscription options byte */
	uint32_t sub_id;            /* subscription identifier, 0 = none */
};

struct wmq_store_msg {
	uint64_t id;                  /* broker message id, unique per broker life
	                                 and across restarts (continue after the
	                                 max_msg_id that load reports) */
	struct wmq_bytes topic;       /* required */
	struct wmq_bytes payload;     /* absent is stored as empty */
	struct wmq_bytes props;       /* encoded MQTT 5 properties, or absent */
	uint8_t qos;                  /* 0..2 */
	bool retain;
	int64_t received_at;          /* wall s */
	int64_t expiry_at;            /* wall s, 0 = never */
	struct wmq_bytes publisher_id;   /* absent = unknown (e.g. $SYS) */
	struct wmq_bytes publisher_user; /* absent = anonymous */
};

struct wmq_store_qentry {
	struct wmq_bytes client_id; /* required */
	uint64_t seq;               /* order within the session, < 2^63 */
	uint64_t msg_id;
	uint8_t qos;                /* delivery QoS */
	uint8_t state;              /* enum wmq_store_qstate */
	uint16_t packet_id;         /* 0 = not assigned */
	bool dup;
	bool retain;                /* retain flag as delivered */
	struct wmq_bytes props;     /* per-delivery properties, or absent */
};

/* Counters, for metrics and for tests (group commit is asserted through
 * commits, not through timing). */
struct wmq_store_stats {
	uint64_t commits;         /* transactions committed */
	uint64_t commit_failures; /* transactions rolled back (to be retried) */
	uint64_t batches;         /* batches committed */
	uint64_t ops;             /* ops applied */
	uint64_t ops_rejected;    /* ops refused by a constraint (broker bug) */
	uint64_t pending_batches; /* submitted, not yet committed */
	uint64_t pending_bytes;   /* memory held by pending batches */
};

/* Open (or with WMQ_STORE_CREATE create) the database |path|: WAL mode,
 * synchronous FULL (NORMAL with WMQ_STORE_BATCHED, OFF with
 * WMQ_STORE_NOSYNC), foreign keys on,
 * quick_check, migrations to WMQ_STORE_SCHEMA_VERSION, statements prepared,
 * store thread started (unless WMQ_STORE_INLINE). The directory must exist.
 * |opts| may be NULL (CREATE, strict, thread).
 * Returns WMQ_OK; WMQ_ERR_STORE (missing directory/file, read-only, locked,
 * corrupt, not a WardMQ database, newer schema, disk full while migrating);
 * WMQ_ERR_NOMEM; WMQ_ERR_INVAL.
 * Ownership: like sqlite3_open(), *out is set even on failure (except INVAL,
 * or NOMEM before the handle existed: then NULL) so that wmq_store_errmsg()
 * can say what went wrong and what to do; always wmq_store_close(*out). */
WMQ_MUST_USE wmq_err wmq_store_open(const char *path, const struct wmq_store_opts *opts,
				    struct wmq_store **out);

/* Stop the store thread (after the transaction in progress, without waiting
 * for pending batches: call wmq_store_flush() first), free pending batches,
 * close the database (checkpointing the WAL). NULL-safe. */
void wmq_store_close(struct wmq_store *st);

/* The last problem, as one line naming the file and what to do, or "".
 * Threading: call from one thread (the owner); the string is a copy valid
 * until the next call. */
const char *wmq_store_errmsg(struct wmq_store *st);
/* The database path given to wmq_store_open (borrowed). */
const char *wmq_store_path(const struct wmq_store *st);

/* ---- Group commit ------------------------------------------------------ */

/* Start a batch (reuses a recycled one when possible).
 * Returns WMQ_OK, WMQ_ERR_NOMEM. Ownership: *out to caller until submit/abort. */
WMQ_MUST_USE wmq_err wmq_store_begin(struct wmq_store *st, struct wmq_store_batch **out);

/* Ops append to the batch; they copy every byte they are given, never block
 * and never touch SQLite. Within a batch, ops apply in call order. An op that
 * fails (NOMEM, INVAL for a bad record, LIMIT over 2 GiB) leaves nothing
 * behind and makes the batch fail at submit (sticky), so a tick is durable
 * as a whole or not at all. */
WMQ_MUST_USE wmq_err wmq_store_session_put(struct wmq_store_batch *b, const struct wmq_store_session *s);
/* Deletes the session with its subscriptions, queue and inbound QoS 2 ids. */
WMQ_MUST_USE wmq_err wmq_store_session_del(struct wmq_store_batch *b, struct wmq_bytes client_id);
/* expiry_at: deadline (wall s) on disconnect, 0 on reconnect. No-op if the
 * session is not stored. */
WMQ_MUST_USE wmq_err wmq_store_session_set_expiry(struct wmq_store_batch *b, struct wmq_bytes client_id,
						  int64_t expiry_at, int64_t now);
/* Insert or replace (options, sub_id) of (client_id, share, filter). The
 * session must be stored (earlier in this batch or before), else rejected. */
WMQ_MUST_USE wmq_err wmq_store_sub_put(struct wmq_store_batch *b, const struct wmq_store_sub *s);
WMQ_MUST_USE wmq_err wmq_store_sub_del(struct wmq_store_batch *b, struct wmq_bytes client_id,
				       struct wmq_bytes share, struct wmq_bytes filter);
/* Insert the message unless its id is already stored (then a no-op). */
WMQ_MUST_USE wmq_err wmq_store_msg_put(struct wmq_store_batch *b, const struct wmq_store_msg *m);
/* Insert or replace the entry (client_id, seq). Session and message must
 * exist by the time the op applies, else it is rejected. */
WMQ_MUST_USE wmq_err wmq_store_queue_put(struct wmq_store_batch *b, const struct wmq_store_qentry *q);
WMQ_MUST_USE wmq_err wmq_store_queue_update_state(struct wmq_store_batch *b, struct wmq_bytes client_id,
						  uint64_t seq, enum wmq_store_qstate state,
						  uint16_t packet_id, bool dup);
WMQ_MUST_USE wmq_err wmq_store_queue_del(struct wmq_store_batch *b, struct wmq_bytes client_id, uint64_t seq);
/* Inbound QoS 2: PUBREC sent for packet_id (put), PUBREL received (del). */
WMQ_MUST_USE wmq_err wmq_store_inflight_in_put(struct wmq_store_batch *b, struct wmq_bytes client_id,
					       uint16_t packet_id);
WMQ_MUST_USE wmq_err wmq_store_inflight_in_del(struct wmq_store_batch *b, struct wmq_bytes client_id,
					       uint16_t packet_id);
WMQ_MUST_USE wmq_err wmq_store_retained_put(struct wmq_store_batch *b, struct wmq_bytes topic, uint64_t msg_id);
WMQ_MUST_USE wmq_err wmq_store_retained_del(struct wmq_store_batch *b, struct wmq_bytes topic);
/* Full sweep of unreferenced messages (normally unnecessary: see above). */
WMQ_MUST_USE wmq_err wmq_store_msg_gc(struct wmq_store_batch *b);

/* Hand the batch to the store; *ticket is its sequence number (1, 2, ...,
 * strictly increasing per store). Never blocks on I/O.
 * Returns WMQ_OK or the batch's sticky error (then nothing of it will be
 * written and *ticket is 0). Ownership: the batch moves to the store either
 * way. */
WMQ_MUST_USE wmq_err wmq_store_submit(struct wmq_store_batch *b, uint64_t *ticket);
/* Discard a batch without writing anything. NULL-safe. */
void wmq_store_abort(struct wmq_store_batch *b);

/* An eventfd (non-blocking) that becomes readable after each commit and
 * whenever the failed state changes; add it to the broker's epoll. */
int wmq_store_completion_fd(const struct wmq_store *st);
/* Highest ticket T such that every ticket <= T is committed (durable).
 * Also drains the completion fd. A committed ticket may contain ops that a
 * constraint rejected (counted in stats.ops_rejected, logged): that is a
 * broker bug (e.g. queue_put without msg_put), not a durability failure. */
uint64_t wmq_store_completed(struct wmq_store *st);
/* True from a failed commit until the next successful one. While true, the
 * store retries with back-off (10 ms doubling to 2 s); pending batches are
 * kept in order and committed together once the disk works again. */
bool wmq_store_failed(const struct wmq_store *st);
void wmq_store_stats(struct wmq_store *st, struct wmq_store_stats *out);
/* Change the group-commit window (durability_interval on SIGHUP). */
void wmq_store_set_commit_delay(struct wmq_store *st, unsigned ms);

/* Make everything submitted so far durable, waiting at most |timeout_ms|:
 * with a store thread it asks for an immediate commit (skipping the commit
 * delay and back-off) and waits; with WMQ_STORE_INLINE it commits on the
 * calling thread. Blocks: shutdown, tools and tests only.
 * Returns WMQ_OK; WMQ_ERR_STORE if a commit attempt failed (see errmsg);
 * WMQ_ERR_AGAIN on timeout. */
WMQ_MUST_USE wmq_err wmq_store_flush(struct wmq_store *st, unsigned timeout_ms);

/* ---- Loading at start-up ----------------------------------------------- */

/* Callbacks, any may be NULL. A non-OK return aborts the load and is
 * returned by wmq_store_load(). Records are borrowed for the call. */
struct wmq_store_loader {
	void *arg;
	/* 1. every stored message (each once), before anything refers to it */
	wmq_err (*msg)(void *arg, const struct wmq_store_msg *m);
	/* 2. per session (client_id order): the session, then its
	 * subscriptions, queue entries in seq order, inbound QoS 2 ids. A
	 * session with expiry_at == 0 was connected when the broker stopped:
	 * treat it as disconnected now (start its expiry and will delay). */
	wmq_err (*session)(void *arg, const struct wmq_store_session *s);
	wmq_err (*sub)(void *arg, const struct wmq_store_sub *s);
	wmq_err (*queued)(void *arg, const struct wmq_store_qentry *q);
	wmq_err (*inflight_in)(void *arg, struct wmq_bytes client_id, uint16_t packet_id);
	/* 3. retained messages (topic order) */
	wmq_err (*retained)(void *arg, struct wmq_bytes topic, uint64_t msg_id);
};

struct wmq_store_load_stats {
	uint64_t sessions, subs, queued, inflight_in, messages, retained;
	uint64_t max_msg_id;       /* continue message ids above this */
	uint64_t dropped_sessions; /* expired sessions deleted */
	uint64_t dropped_queued;   /* not-yet-sent entries of expired messages */
	uint64_t dropped_retained; /* expired retained messages */
	uint64_t dropped_messages; /* messages collected after the drops */
};

/* Delete what expired by |now| (wall s): sessions whose expiry_at <= now,
 * queued (never sent) entries and retained rows of messages whose
 * expiry_at <= now, then unreferenced messages, in one transaction; then
 * report the rest through |cb| from one consistent snapshot. In-flight
 * entries (sent, awaiting PUBACK/PUBREC/PUBCOMP) are kept even if their
 * message expired: the QoS flow must complete. With WMQ_STORE_READONLY
 * nothing is deleted. Call before the broker submits anything.
 * Returns WMQ_OK, WMQ_ERR_STORE, WMQ_ERR_NOMEM, or a callback's error.
 * |stats| may be NULL. */
WMQ_MUST_USE wmq_err wmq_store_load(struct wmq_store *st, int64_t now, const struct wmq_store_loader *cb,
				    struct wmq_store_load_stats *stats);

#endif
