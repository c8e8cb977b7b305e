/* SPDX-License-Identifier: MIT
 * schema.c - the numbered migrations and the text of every statement.
 *
 * Role: the one place where the store's SQL lives. SQL is never built at
 * run time and never contains data: values are always bound parameters.
 *
 * Adding a migration: append one string to wmq_store_migrations and bump
 * WMQ_STORE_SCHEMA_VERSION in store.h. Never edit a released step. Each step
 * runs in its own transaction together with "PRAGMA user_version = i+1", so
 * a crash mid-upgrade leaves the database at the previous version. Steps run
 * with foreign_keys ON; a step that must rebuild a table follows SQLite's
 * 12-step ALTER procedure (create new, copy, drop, rename) and must keep
 * every foreign key satisfied.
 * Threading: constant data. */
#include "store/identity_int.h"
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

	/* 2 -> 3: identities and policy (identity.h has the column meanings):
	 * users, groups, roles and their memberships, ACL rules, client-id
	 * bindings, bans, TLS PSK identities, and the policy version. Rules
	 * name their principal without a foreign key (a rule may precede the
	 * user it names, as in a mosquitto acl_file). */
	"CREATE TABLE users (\n"
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) > 0),\n"
	"  verifier TEXT,\n"
	"  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),\n"
	"  created_at INTEGER NOT NULL,\n"
	"  updated_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE groups (\n"
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) > 0),\n"
	"  created_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE roles (\n"
	"  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) > 0),\n"
	"  created_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE user_groups (\n"
	"  username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,\n"
	"  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (username, group_name)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX user_groups_group ON user_groups(group_name);\n"
	"CREATE TABLE user_roles (\n"
	"  username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,\n"
	"  role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (username, role_name)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX user_roles_role ON user_roles(role_name);\n"
	"CREATE TABLE group_roles (\n"
	"  group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,\n"
	"  role_name TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (group_name, role_name)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX group_roles_role ON group_roles(role_name);\n"
	"CREATE TABLE rules (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('all', 'anonymous', 'user', 'group', 'role')),\n"
	"  name TEXT CHECK ((kind IN ('all', 'anonymous')) = (name IS NULL) AND\n"
	"                   (name IS NULL OR length(name) > 0)),\n"
	"  effect TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),\n"
	"  actions INTEGER NOT NULL CHECK (actions BETWEEN 1 AND 15),\n"
	"  filter TEXT NOT NULL CHECK (length(filter) > 0),\n"
	"  max_qos INTEGER CHECK (max_qos BETWEEN 0 AND 2),\n"
	"  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN -2147483648 AND 2147483647),\n"
	"  subst INTEGER NOT NULL DEFAULT 1 CHECK (subst IN (0, 1)),\n"
	"  origin TEXT,\n"
	"  created_at INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX rules_principal ON rules(kind, name);\n"
	"CREATE TABLE client_bindings (\n"
	"  client_id TEXT PRIMARY KEY NOT NULL,\n"
	"  username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,\n"
	"  created_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX client_bindings_user ON client_bindings(username);\n"
	"CREATE TABLE bans (\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('clientid', 'username', 'address')),\n"
	"  value TEXT NOT NULL CHECK (length(value) > 0),\n"
	"  expires_at INTEGER,\n"
	"  reason TEXT,\n"
	"  created_at INTEGER NOT NULL,\n"
	"  PRIMARY KEY (kind, value)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE psk_identities (\n"
	"  identity TEXT PRIMARY KEY NOT NULL CHECK (length(identity) > 0),\n"
	"  key BLOB NOT NULL CHECK (length(key) BETWEEN 1 AND 256),\n"
	"  username TEXT REFERENCES users(name) ON DELETE CASCADE,\n"
	"  created_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX psk_identities_user ON psk_identities(username);\n"
	"CREATE TABLE policy_version (\n"
	"  id INTEGER PRIMARY KEY CHECK (id = 1),\n"
	"  version INTEGER NOT NULL CHECK (version >= 1),\n"
	"  updated_at INTEGER\n"
	");\n"
	"INSERT INTO policy_version (id, version, updated_at) VALUES (1, 1, NULL);\n",
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

/* ---- Identity statements (identity.c, enum in identity_int.h) ----------- */

#define USER_COLS "name, verifier, disabled, created_at, updated_at"
#define RULE_COLS                                                                    \
	"id, kind, name, effect, actions, filter, max_qos, priority, subst, origin, created_at"

const char *const wmq_store_id_sql[ID_STMT__COUNT] = {
	[ID_BEGIN_W] = "BEGIN IMMEDIATE",
	[ID_BEGIN_R] = "BEGIN DEFERRED",
	[ID_COMMIT] = "COMMIT",
	[ID_ROLLBACK] = "ROLLBACK",
	[ID_SAVEPOINT] = "SAVEPOINT wmq_id_op",
	[ID_RELEASE] = "RELEASE wmq_id_op",
	[ID_ROLLBACK_TO] = "ROLLBACK TO wmq_id_op",
	[ID_VERSION_GET] = "SELECT version FROM policy_version WHERE id = 1",
	[ID_VERSION_BUMP] = "UPDATE policy_version SET version = version + 1, updated_at = ?1 WHERE id = 1",

	[ID_USER_ADD] = "INSERT INTO users (" USER_COLS ") VALUES (?1, ?2, ?3, ?4, ?4)",
	[ID_USER_DEL] = "DELETE FROM users WHERE name = ?1",
	[ID_USER_SET_VERIFIER] = "UPDATE users SET verifier = ?2, updated_at = ?3 WHERE name = ?1",
	[ID_USER_UPGRADE] = "UPDATE users SET verifier = ?3, updated_at = ?4 WHERE name = ?1 AND verifier = ?2",
	[ID_USER_SET_DISABLED] = "UPDATE users SET disabled = ?2, updated_at = ?3 WHERE name = ?1",
	[ID_USER_GET] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
	[ID_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
	[ID_USER_EXISTS] = "SELECT 1 FROM users WHERE name = ?1",
	[ID_USER_GROUPS] = "SELECT group_name FROM user_groups WHERE username = ?1 ORDER BY group_name",
	[ID_USER_ROLES] = "SELECT role_name FROM user_roles WHERE username = ?1 "
			  "UNION SELECT gr.role_name FROM group_roles gr JOIN user_groups ug "
			  "ON ug.group_name = gr.group_name WHERE ug.username = ?1 ORDER BY 1",

	[ID_GROUP_ADD] = "INSERT INTO groups (name, created_at) VALUES (?1, ?2)",
	[ID_GROUP_DEL] = "DELETE FROM groups WHERE name = ?1",
	[ID_GROUP_EXISTS] = "SELECT 1 FROM groups WHERE name = ?1",
	[ID_GROUP_LIST] = "SELECT g.name, g.created_at, (SELECT count(*) FROM user_groups u "
			  "WHERE u.group_name = g.name) FROM groups g ORDER BY g.name",
	[ID_MEMBER_ADD] = "INSERT INTO user_groups (username, group_name, created_at) VALUES (?1, ?2, ?3)",
	[ID_MEMBER_DEL] = "DELETE FROM user_groups WHERE username = ?1 AND group_name = ?2",
	[ID_GROUP_MEMBERS] = "SELECT username FROM user_groups WHERE group_name = ?1 ORDER BY username",
	[ID_GROUP_ROLES] = "SELECT role_name FROM group_roles WHERE group_name = ?1 ORDER BY role_name",

	[ID_ROLE_ADD] = "INSERT INTO roles (name, created_at) VALUES (?1, ?2)",
	[ID_ROLE_DEL] = "DELETE FROM roles WHERE name = ?1",
	[ID_ROLE_EXISTS] = "SELECT 1 FROM roles WHERE name = ?1",
	[ID_ROLE_LIST] = "SELECT r.name, r.created_at, "
			 "(SELECT count(*) FROM user_roles u WHERE u.role_name = r.name) + "
			 "(SELECT count(*) FROM group_roles g WHERE g.role_name = r.name) "
			 "FROM roles r ORDER BY r.name",
	[ID_GRANT_USER] = "INSERT INTO user_roles (username, role_name, created_at) VALUES (?2, ?1, ?3)",
	[ID_GRANT_GROUP] = "INSERT INTO group_roles (group_name, role_name, created_at) VALUES (?2, ?1, ?3)",
	[ID_REVOKE_USER] = "DELETE FROM user_roles WHERE role_name = ?1 AND username = ?2",
	[ID_REVOKE_GROUP] = "DELETE FROM group_roles WHERE role_name = ?1 AND group_name = ?2",
	[ID_ROLE_HOLDERS] = "SELECT 0, username FROM user_roles WHERE role_name = ?1 "
			    "UNION ALL SELECT 1, group_name FROM group_roles WHERE role_name = ?1 "
			    "ORDER BY 1, 2",

	[ID_RULE_ADD] = "INSERT INTO rules (kind, name, effect, actions, filter, max_qos, priority, subst, "
			"origin, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ID_RULE_DEL] = "DELETE FROM rules WHERE id = ?1",
	[ID_RULE_DEL_ALL] = "DELETE FROM rules",
	[ID_RULE_GET] = "SELECT " RULE_COLS " FROM rules WHERE id = ?1",
	[ID_RULE_LIST] = "SELECT " RULE_COLS " FROM rules ORDER BY id",

	[ID_CLIENT_BIND] = "INSERT INTO client_bindings (client_id, username, created_at) VALUES (?1, ?2, ?3)",
	[ID_CLIENT_UNBIND] = "DELETE FROM client_bindings WHERE client_id = ?1",
	[ID_CLIENT_GET] = "SELECT username FROM client_bindings WHERE client_id = ?1",
	[ID_CLIENT_LIST] = "SELECT client_id, username, created_at FROM client_bindings ORDER BY client_id",
	[ID_CLIENT_LIST_USER] = "SELECT client_id, username, created_at FROM client_bindings "
				"WHERE username = ?1 ORDER BY client_id",

	[ID_BAN_GET] = "SELECT 1 FROM bans WHERE kind = ?1 AND value = ?2",
	[ID_BAN_PUT] = "INSERT INTO bans (kind, value, expires_at, reason, created_at) "
		       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kind, value) DO UPDATE SET "
		       "expires_at = excluded.expires_at, reason = excluded.reason",
	[ID_BAN_DEL] = "DELETE FROM bans WHERE kind = ?1 AND value = ?2",
	[ID_BAN_LIST] = "SELECT kind, value, expires_at, reason, created_at FROM bans "
			"WHERE ?1 <= 0 OR expires_at IS NULL OR expires_at > ?1 ORDER BY kind, value",
	[ID_BAN_PURGE] = "DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at <= ?1",

	[ID_PSK_ADD] = "INSERT INTO psk_identities (identity, key, username, created_at) "
		       "VALUES (?1, ?2, ?3, ?4)",
	[ID_PSK_DEL] = "DELETE FROM psk_identities WHERE identity = ?1",
	[ID_PSK_GET] = "SELECT identity, key, username, created_at FROM psk_identities WHERE identity = ?1",
	[ID_PSK_LIST] = "SELECT identity, username, created_at FROM psk_identities ORDER BY identity",
};
