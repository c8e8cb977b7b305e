/* SPDX-License-Identifier: MIT
 * schema.c - the numbered migrations and the text of every statement.
 *
 * Role: the one place where the store's SQL lives. SQL is never built at
 * run time and never contains data: values are always bound parameters.
 *
 * Adding a migration (e.g. the security issue's users/groups/roles/rules/
 * bans tables): append one string to wmq_store_migrations and bump
 * WMQ_STORE_SCHEMA_VERSION in store.h. Never edit a released step. Each step
 * runs in its own transaction together with "PRAGMA user_version = i+1", so
 * a crash mid-upgrade leaves the database at the previous version. Steps run
 * with foreign_keys ON; a step that must rebuild a table follows SQLite's
 * 12-step ALTER procedure (create new, copy, drop, rename) and must keep
 * every foreign key satisfied.
 * Threading: constant data. */
#include "store/store_int.h"

const char *const wmq_store_migrations[WMQ_STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: durable sessions, subscriptions, messages, queues, inbound
	 * QoS 2 state, retained messages. */
	"PRAGMA application_id = 1464684833;\n" /* 0x574D5121 'WMQ!' */
	"CREATE TABLE sessions (\n"
	"  client_id TEXT PRIMARY KEY NOT NULL,\n"
	"  protocol INTEGER NOT NULL CHECK (protocol IN (3, 4, 5)),\n"
	"  expiry_interval INTEGER NOT NULL CHECK (expiry_interval BETWEEN 0 AND 4294967295),\n"
	"  expiry_at INTEGER,\n"
	"  will_topic TEXT,\n"
	"  will_payload BLOB,\n"
	"  will_props BLOB,\n"
	"  will_qos INTEGER NOT NULL DEFAULT 0 CHECK (will_qos BETWEEN 0 AND 2),\n"
	"  will_retain INTEGER NOT NULL DEFAULT 0 CHECK (will_retain IN (0, 1)),\n"
	"  will_delay INTEGER NOT NULL DEFAULT 0 CHECK (will_delay BETWEEN 0 AND 4294967295),\n"
	"  created_at INTEGER NOT NULL,\n"
	"  updated_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE subscriptions (\n"
	"  client_id TEXT NOT NULL REFERENCES sessions(client_id) ON DELETE CASCADE,\n"
	"  share TEXT NOT NULL DEFAULT '',\n"
	"  filter TEXT NOT NULL,\n"
	"  options INTEGER NOT NULL CHECK (options BETWEEN 0 AND 255),\n"
	"  sub_id INTEGER NOT NULL DEFAULT 0 CHECK (sub_id BETWEEN 0 AND 268435455),\n"
	"  PRIMARY KEY (client_id, share, filter)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE messages (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  topic TEXT NOT NULL,\n"
	"  payload BLOB NOT NULL,\n"
	"  props BLOB,\n"
	"  qos INTEGER NOT NULL CHECK (qos BETWEEN 0 AND 2),\n"
	"  retain INTEGER NOT NULL CHECK (retain IN (0, 1)),\n"
	"  received_at INTEGER NOT NULL,\n"
	"  expiry_at INTEGER\n"
	");\n"
	"CREATE TABLE queue (\n"
	"  client_id TEXT NOT NULL REFERENCES sessions(client_id) ON DELETE CASCADE,\n"
	"  seq INTEGER NOT NULL CHECK (seq >= 0),\n"
	"  msg_id INTEGER NOT NULL REFERENCES messages(id),\n"
	"  qos INTEGER NOT NULL CHECK (qos BETWEEN 0 AND 2),\n"
	"  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),\n"
	"  packet_id INTEGER NOT NULL DEFAULT 0 CHECK (packet_id BETWEEN 0 AND 65535),\n"
	"  dup INTEGER NOT NULL DEFAULT 0 CHECK (dup IN (0, 1)),\n"
	"  retain INTEGER NOT NULL DEFAULT 0 CHECK (retain IN (0, 1)),\n"
	"  props BLOB,\n"
	"  PRIMARY KEY (client_id, seq)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX queue_msg ON queue(msg_id);\n"
	"CREATE TABLE inflight_in (\n"
	"  client_id TEXT NOT NULL REFERENCES sessions(client_id) ON DELETE CASCADE,\n"
	"  packet_id INTEGER NOT NULL CHECK (packet_id BETWEEN 1 AND 65535),\n"
	"  PRIMARY KEY (client_id, packet_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE retained (\n"
	"  topic TEXT PRIMARY KEY NOT NULL,\n"
	"  msg_id INTEGER NOT NULL REFERENCES messages(id)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX retained_msg ON retained(msg_id);\n",

	/* 1 -> 2: identities for re-checks by the security issue: the owner of
	 * a session and the publisher of a message. Rows written by version 1
	 * get NULL (unknown), which the broker treats as anonymous. */
	"ALTER TABLE sessions ADD COLUMN username TEXT;\n"
	"ALTER TABLE messages ADD COLUMN publisher_id TEXT;\n"
	"ALTER TABLE messages ADD COLUMN publisher_user TEXT;\n",
};

/* Message GC bookkeeping, per connection (TEMP objects are not part of the
 * file and not versioned). Every id whose last reference may have gone, or
 * that was just inserted, lands in temp.gc_cand; STMT_GC_CANDIDATES runs
 * before each COMMIT. FK cascades from a session delete fire these triggers
 * too. */
const char wmq_store_temp_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS gc_cand (id INTEGER PRIMARY KEY);\n"
	"CREATE TEMP TRIGGER IF NOT EXISTS gc_queue_del AFTER DELETE ON main.queue\n"
	"  BEGIN INSERT OR IGNORE INTO gc_cand(id) VALUES (OLD.msg_id); END;\n"
	"CREATE TEMP TRIGGER IF NOT EXISTS gc_queue_upd AFTER UPDATE OF msg_id ON main.queue\n"
	"  BEGIN INSERT OR IGNORE INTO gc_cand(id) VALUES (OLD.msg_id); END;\n"
	"CREATE TEMP TRIGGER IF NOT EXISTS gc_ret_del AFTER DELETE ON main.retained\n"
	"  BEGIN INSERT OR IGNORE INTO gc_cand(id) VALUES (OLD.msg_id); END;\n"
	"CREATE TEMP TRIGGER IF NOT EXISTS gc_ret_upd AFTER UPDATE OF msg_id ON main.retained\n"
	"  BEGIN INSERT OR IGNORE INTO gc_cand(id) VALUES (OLD.msg_id); END;\n"
	"CREATE TEMP TRIGGER IF NOT EXISTS gc_msg_ins AFTER INSERT ON main.messages\n"
	"  BEGIN INSERT OR IGNORE INTO gc_cand(id) VALUES (NEW.id); END;\n";

#define UNREFERENCED                                                                 \
	"NOT EXISTS (SELECT 1 FROM main.queue q WHERE q.msg_id = messages.id) "      \
	"AND NOT EXISTS (SELECT 1 FROM main.retained r WHERE r.msg_id = messages.id)"

#define MSG_COLS                                                                     \
	"id, topic, payload, props, qos, retain, received_at, expiry_at, publisher_id, " \
	"publisher_user"

const char *const wmq_store_stmt_sql[STMT__COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_BEGIN_READ] = "BEGIN DEFERRED",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",

	[STMT_SESSION_PUT] =
		"INSERT INTO sessions (client_id, protocol, expiry_interval, expiry_at, will_topic, "
		"will_payload, will_props, will_qos, will_retain, will_delay, created_at, updated_at, "
		"username) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		"ON CONFLICT (client_id) DO UPDATE SET protocol = excluded.protocol, "
		"expiry_interval = excluded.expiry_interval, expiry_at = excluded.expiry_at, "
		"will_topic = excluded.will_topic, will_payload = excluded.will_payload, "
		"will_props = excluded.will_props, will_qos = excluded.will_qos, "
		"will_retain = excluded.will_retain, will_delay = excluded.will_delay, "
		"updated_at = excluded.updated_at, username = excluded.username",
	[STMT_SESSION_DEL] = "DELETE FROM sessions WHERE client_id = ?1",
	[STMT_SESSION_EXPIRY] =
		"UPDATE sessions SET expiry_at = ?2, updated_at = ?3 WHERE client_id = ?1",

	[STMT_SUB_PUT] =
		"INSERT INTO subscriptions (client_id, share, filter, options, sub_id) "
		"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (client_id, share, filter) "
		"DO UPDATE SET options = excluded.options, sub_id = excluded.sub_id",
	[STMT_SUB_DEL] =
		"DELETE FROM subscriptions WHERE client_id = ?1 AND share = ?2 AND filter = ?3",

	[STMT_MSG_PUT] = "INSERT INTO messages (" MSG_COLS ") "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			 "ON CONFLICT (id) DO NOTHING",

	[STMT_QUEUE_PUT] =
		"INSERT INTO queue (client_id, seq, msg_id, qos, state, packet_id, dup, retain, "
		"props) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (client_id, seq) "
		"DO UPDATE SET msg_id = excluded.msg_id, qos = excluded.qos, state = excluded.state, "
		"packet_id = excluded.packet_id, dup = excluded.dup, retain = excluded.retain, "
		"props = excluded.props",
	[STMT_QUEUE_UPDATE] = "UPDATE queue SET state = ?3, packet_id = ?4, dup = ?5 "
			      "WHERE client_id = ?1 AND seq = ?2",
	[STMT_QUEUE_DEL] = "DELETE FROM queue WHERE client_id = ?1 AND seq = ?2",

	[STMT_INFL_PUT] = "INSERT INTO inflight_in (client_id, packet_id) VALUES (?1, ?2) "
			  "ON CONFLICT (client_id, packet_id) DO NOTHING",
	[STMT_INFL_DEL] = "DELETE FROM inflight_in WHERE client_id = ?1 AND packet_id = ?2",

	[STMT_RET_PUT] = "INSERT INTO retained (topic, msg_id) VALUES (?1, ?2) "
			 "ON CONFLICT (topic) DO UPDATE SET msg_id = excluded.msg_id",
	[STMT_RET_DEL] = "DELETE FROM retained WHERE topic = ?1",

	[STMT_GC_CANDIDATES] = "DELETE FROM main.messages WHERE id IN (SELECT id FROM temp.gc_cand) "
			       "AND " UNREFERENCED,
	[STMT_GC_CLEAR] = "DELETE FROM temp.gc_cand",
	[STMT_GC_ALL] = "DELETE FROM main.messages WHERE " UNREFERENCED,

	[STMT_DROP_SESSIONS] =
		"DELETE FROM sessions WHERE expiry_at IS NOT NULL AND expiry_at <= ?1",
	[STMT_DROP_QUEUED] =
		"DELETE FROM queue WHERE state = 0 AND msg_id IN (SELECT id FROM messages "
		"WHERE expiry_at IS NOT NULL AND expiry_at <= ?1)",
	[STMT_DROP_RETAINED] =
		"DELETE FROM retained WHERE msg_id IN (SELECT id FROM messages "
		"WHERE expiry_at IS NOT NULL AND expiry_at <= ?1)",

	[STMT_LOAD_MSGS] = "SELECT " MSG_COLS " FROM messages ORDER BY id",
	[STMT_LOAD_SESSIONS] =
		"SELECT client_id, protocol, expiry_interval, expiry_at, will_topic, will_payload, "
		"will_props, will_qos, will_retain, will_delay, created_at, updated_at, username "
		"FROM sessions ORDER BY client_id",
	[STMT_LOAD_SUBS] = "SELECT share, filter, options, sub_id FROM subscriptions "
			   "WHERE client_id = ?1 ORDER BY share, filter",
	[STMT_LOAD_QUEUE] = "SELECT seq, msg_id, qos, state, packet_id, dup, retain, props "
			    "FROM queue WHERE client_id = ?1 ORDER BY seq",
	[STMT_LOAD_INFL] = "SELECT packet_id FROM inflight_in WHERE client_id = ?1 "
			   "ORDER BY packet_id",
	[STMT_LOAD_RETAINED] = "SELECT topic, msg_id FROM retained ORDER BY topic",
};
