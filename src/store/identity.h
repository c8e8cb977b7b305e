/* SPDX-License-Identifier: MIT
 * identity.h - users, groups, roles, ACL rules, client-id bindings, bans and
 * TLS PSK identities (schema version 3), on a connection of their own.
 *
 * Role: the repository behind authentication and authorization. Tools
 * (wardmq_ctl --db) and the broker's auth pool call it synchronously; it is
 * NOT part of the group-commit path of store.h. A handle is a second SQLite
 * connection on the broker's database file: WAL lets it read while the
 * store thread writes, and its writes wait (busy_timeout, default 5 s) for
 * the store thread's transaction instead of failing.
 *
 * Schema (migration 3, docs/STORE.md). Times are wall-clock seconds since
 * the epoch. Names are UTF-8, non-empty, at most 65535 bytes, no NUL (MQTT
 * strings). Every table except rules and policy_version is WITHOUT ROWID.
 *
 *   users           name TEXT PK | verifier TEXT|NULL (PHC $argon2id$ or a
 *                   mosquitto $6$/$7$ string; NULL = no password login) |
 *                   disabled 0/1 | created_at | updated_at
 *   groups          name TEXT PK | created_at
 *   roles           name TEXT PK | created_at
 *   user_groups     (username -> users, group_name -> groups) PK, CASCADE
 *   user_roles      (username -> users, role_name -> roles) PK, CASCADE
 *   group_roles     (group_name -> groups, role_name -> roles) PK, CASCADE
 *   rules           id INTEGER PK AUTOINCREMENT (ids are never reused, so an
 *                   audit line's "rule #7" keeps meaning one rule) |
 *                   kind 'all'|'anonymous'|'user'|'group'|'role' |
 *                   name TEXT (NULL exactly for all/anonymous) |
 *                   effect 'allow'|'deny' | actions INTEGER 1..15 (bit 0
 *                   publish, 1 subscribe, 2 receive, 3 retain: the bits of
 *                   security/policy.h WMQ_ACT_BIT) | filter TEXT |
 *                   max_qos 0..2|NULL | priority INTEGER (int32) |
 *                   subst 0/1 (%u/%c substituted) | origin TEXT|NULL
 *                   ("acl.txt:12" for imported rules) | created_at.
 *                   Rules name their principal; they are NOT foreign keys:
 *                   a rule for user:bob may exist before bob does (as in a
 *                   mosquitto acl_file) and survives bob's deletion.
 *   client_bindings client_id TEXT PK | username -> users CASCADE |
 *                   created_at: only that user may connect with the id
 *   bans            (kind 'clientid'|'username'|'address', value) PK |
 *                   expires_at|NULL (never) | reason|NULL | created_at;
 *                   address values are normalised CIDR text (the caller
 *                   normalises: security/defence.h wmq_cidr_parse)
 *   psk_identities  identity TEXT PK | key BLOB (1..256 bytes) |
 *                   username -> users CASCADE, or NULL | created_at
 *   policy_version  one row (id = 1): version | updated_at. Every change
 *                   made through this API bumps version (once per change),
 *                   except wmq_store_id_user_upgrade_verifier() (a login
 *                   re-hashing the same password changes nobody's rights).
 *                   A broker that polls it notices changes made offline.
 *
 * Errors: WMQ_OK; WMQ_ERR_INVAL (bad argument: empty or non-UTF-8 name,
 * actions 0, qos > 2, NULL required field); WMQ_ERR_NOTFOUND (the object, or
 * an object it refers to, does not exist: wmq_store_id_errmsg() names it);
 * WMQ_ERR_DENIED ("already exists": the name, membership, grant, binding or
 * PSK identity is taken; errmsg says which); WMQ_ERR_STORE (SQLite: locked
 * beyond the busy timeout, disk full, corrupt; errmsg says what to do);
 * WMQ_ERR_NOMEM.
 *
 * Transactions: every write call is one transaction (BEGIN IMMEDIATE) unless
 * the caller opened one with wmq_store_id_begin(); then calls join it and
 * nothing is written before wmq_store_id_commit() (imports are
 * all-or-nothing). A failed call inside a transaction undoes only itself.
 * Multi-row reads run in one read transaction (consistent snapshot).
 *
 * Threading: a handle may be shared by threads; calls are serialized by the
 * handle's (recursive) mutex, and a transaction opened with
 * wmq_store_id_begin() holds it until commit/rollback, so other threads
 * wait. For parallel lookups open one handle per auth-pool thread.
 * Callbacks run with the mutex held: they must not call the same handle.
 * Ownership: strings passed in are borrowed for the call. Records passed to
 * callbacks are borrowed for the callback only. Records filled by *_get /
 * auth_lookup are owned by the caller: release them with the matching
 * *_cleanup (NULL-safe, idempotent). */
#ifndef WMQ_STORE_IDENTITY_H
#define WMQ_STORE_IDENTITY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/log.h"
#include "store/store.h" /* WMQ_STORE_CREATE, WMQ_STORE_READONLY, ... */

struct wmq_store_id; /* opaque: one SQLite connection */

struct wmq_store_id_opts {
	unsigned flags;           /* WMQ_STORE_CREATE, WMQ_STORE_READONLY,
				     WMQ_STORE_BATCHED, WMQ_STORE_NOSYNC (store.h);
				     other bits are ignored */
	unsigned busy_timeout_ms; /* wait on a locked file (0 = default 5000) */
	const struct wmq_log *log; /* borrowed, may be NULL */
};

/* Open |path| like wmq_store_open() does (directory and file checks, WAL,
 * foreign keys, quick_check, application id, migrations up to
 * WMQ_STORE_SCHEMA_VERSION unless READONLY), then prepare the identity
 * statements. |opts| may be NULL (CREATE). A READONLY open of a database
 * older than version 3 fails and says how to upgrade.
 * Returns WMQ_OK, WMQ_ERR_STORE, WMQ_ERR_NOMEM, WMQ_ERR_INVAL.
 * Ownership: as wmq_store_open(): *out is set even on failure (NULL only
 * for INVAL or an early NOMEM) so that wmq_store_id_errmsg() can explain;
 * always wmq_store_id_close(*out). */
WMQ_MUST_USE wmq_err wmq_store_id_open(const char *path, const struct wmq_store_id_opts *opts,
				       struct wmq_store_id **out);
/* Roll back an open transaction, finalize, close. NULL-safe. */
void wmq_store_id_close(struct wmq_store_id *h);
/* The last problem as one line naming the file (and the object) and what to
 * do, or "". A copy valid until the next call from the same thread. */
const char *wmq_store_id_errmsg(struct wmq_store_id *h);

/* Group several write calls into one transaction (BEGIN IMMEDIATE). INVAL
 * if one is already open. commit: STORE if the commit failed (then it is
 * rolled back). rollback: NULL-safe no-op without a transaction. */
WMQ_MUST_USE wmq_err wmq_store_id_begin(struct wmq_store_id *h);
WMQ_MUST_USE wmq_err wmq_store_id_commit(struct wmq_store_id *h);
void wmq_store_id_rollback(struct wmq_store_id *h);

/* The policy version (>= 1), bumped by every change. */
WMQ_MUST_USE wmq_err wmq_store_id_policy_version(struct wmq_store_id *h, uint64_t *out);

/* ---- Users ------------------------------------------------------------ */

struct wmq_store_id_user {
	const char *name;
	const char *verifier; /* NULL: no password */
	bool disabled;
	int64_t created_at, updated_at;
};

/* DENIED if the name exists. |verifier| may be NULL (no password). */
WMQ_MUST_USE wmq_err wmq_store_id_user_add(struct wmq_store_id *h, const char *name, const char *verifier,
					   bool disabled);
/* Also removes the user's memberships, role grants, client bindings and PSK
 * identities (not the rules naming the user). NOTFOUND. */
WMQ_MUST_USE wmq_err wmq_store_id_user_del(struct wmq_store_id *h, const char *name);
/* Replace the verifier (NULL: remove password login). NOTFOUND. */
WMQ_MUST_USE wmq_err wmq_store_id_user_set_verifier(struct wmq_store_id *h, const char *name,
						    const char *verifier);
/* Upgrade on login (password.h needs_upgrade): store |new_verifier| only if
 * the stored verifier is still |old_verifier| (an administrator's change in
 * between wins). *replaced (may be NULL) tells which happened. Does not bump
 * the policy version. */
WMQ_MUST_USE wmq_err wmq_store_id_user_upgrade_verifier(struct wmq_store_id *h, const char *name,
							const char *old_verifier, const char *new_verifier,
							bool *replaced);
WMQ_MUST_USE wmq_err wmq_store_id_user_set_disabled(struct wmq_store_id *h, const char *name, bool disabled);
/* NOTFOUND. Ownership: *out to the caller, wmq_store_id_user_cleanup(). */
WMQ_MUST_USE wmq_err wmq_store_id_user_get(struct wmq_store_id *h, const char *name,
					   struct wmq_store_id_user *out);
void wmq_store_id_user_cleanup(struct wmq_store_id_user *u);

/* Visitors. A non-OK return from a callback stops the walk and is returned. */
typedef wmq_err (*wmq_store_id_user_fn)(void *arg, const struct wmq_store_id_user *u);
typedef wmq_err (*wmq_store_id_name_fn)(void *arg, const char *name);
/* Name, creation time and a count (group: members; role: users + groups
 * holding it). */
typedef wmq_err (*wmq_store_id_entry_fn)(void *arg, const char *name, int64_t created_at, uint64_t count);

/* Users by name. */
WMQ_MUST_USE wmq_err wmq_store_id_user_list(struct wmq_store_id *h, wmq_store_id_user_fn fn, void *arg);

/* ---- Groups and roles ------------------------------------------------- */

WMQ_MUST_USE wmq_err wmq_store_id_group_add(struct wmq_store_id *h, const char *name);  /* DENIED */
WMQ_MUST_USE wmq_err wmq_store_id_group_del(struct wmq_store_id *h, const char *name);  /* NOTFOUND */
WMQ_MUST_USE wmq_err wmq_store_id_group_list(struct wmq_store_id *h, wmq_store_id_entry_fn fn, void *arg);
/* NOTFOUND (user or group), DENIED (already a member). */
WMQ_MUST_USE wmq_err wmq_store_id_group_member_add(struct wmq_store_id *h, const char *group, const char *user);
/* NOTFOUND (not a member). */
WMQ_MUST_USE wmq_err wmq_store_id_group_member_del(struct wmq_store_id *h, const char *group, const char *user);
/* Members of |group| by name; NOTFOUND if the group does not exist. */
WMQ_MUST_USE wmq_err wmq_store_id_group_members(struct wmq_store_id *h, const char *group,
						wmq_store_id_name_fn fn, void *arg);
/* Roles granted to |group|; NOTFOUND if the group does not exist. */
WMQ_MUST_USE wmq_err wmq_store_id_group_roles(struct wmq_store_id *h, const char *group,
					      wmq_store_id_name_fn fn, void *arg);

enum wmq_store_id_grantee {
	WMQ_STORE_ID_GRANT_USER = 0,
	WMQ_STORE_ID_GRANT_GROUP = 1,
};

WMQ_MUST_USE wmq_err wmq_store_id_role_add(struct wmq_store_id *h, const char *name); /* DENIED */
WMQ_MUST_USE wmq_err wmq_store_id_role_del(struct wmq_store_id *h, const char *name); /* NOTFOUND */
WMQ_MUST_USE wmq_err wmq_store_id_role_list(struct wmq_store_id *h, wmq_store_id_entry_fn fn, void *arg);
/* NOTFOUND (role or grantee), DENIED (already granted). */
WMQ_MUST_USE wmq_err wmq_store_id_role_grant(struct wmq_store_id *h, const char *role,
					     enum wmq_store_id_grantee kind, const char *name);
/* NOTFOUND (not granted). */
WMQ_MUST_USE wmq_err wmq_store_id_role_revoke(struct wmq_store_id *h, const char *role,
					      enum wmq_store_id_grantee kind, const char *name);
typedef wmq_err (*wmq_store_id_holder_fn)(void *arg, enum wmq_store_id_grantee kind, const char *name);
/* Users, then groups holding |role| directly; NOTFOUND if no such role. */
WMQ_MUST_USE wmq_err wmq_store_id_role_holders(struct wmq_store_id *h, const char *role,
					       wmq_store_id_holder_fn fn, void *arg);

/* ---- The principal of a connection ------------------------------------ */

/* Everything the auth pool needs for one CONNECT, read in one snapshot. */
struct wmq_store_id_auth {
	bool user_exists;
	bool user_disabled;
	char *verifier;        /* NULL: unknown user or no password */
	char **groups;         /* the user's groups, sorted */
	size_t ngroups;
	char **roles;          /* granted to the user or to one of its groups,
				  sorted, without duplicates */
	size_t nroles;
	char *bound_user;      /* the user |client_id| is bound to, or NULL */
	uint64_t policy_version;
};

/* |username| NULL = anonymous (only the binding and version are read);
 * |client_id| NULL or "" = no binding lookup. An unknown user is not an
 * error (user_exists false): the caller runs the dummy verification.
 * Ownership: *out to the caller, wmq_store_id_auth_cleanup(). */
WMQ_MUST_USE wmq_err wmq_store_id_auth_lookup(struct wmq_store_id *h, const char *username,
					      const char *client_id, struct wmq_store_id_auth *out);
void wmq_store_id_auth_cleanup(struct wmq_store_id_auth *a);

/* ---- Rules ------------------------------------------------------------ */

enum wmq_store_id_kind { /* same values as security/policy.h wmq_policy_subject */
	WMQ_STORE_ID_ALL = 0,
	WMQ_STORE_ID_ANONYMOUS = 1,
	WMQ_STORE_ID_USER = 2,
	WMQ_STORE_ID_GROUP = 3,
	WMQ_STORE_ID_ROLE = 4,
};

struct wmq_store_id_rule {
	uint64_t id;             /* assigned by rule_add (ignored on input) */
	enum wmq_store_id_kind kind;
	const char *name;        /* USER/GROUP/ROLE: required; else NULL */
	bool allow;              /* effect */
	unsigned actions;        /* 1..15, bits as WMQ_ACT_BIT() */
	const char *filter;      /* not validated here: callers check it with
				    the policy engine (wmq_policy_add) first */
	bool subst;              /* %u / %c are substitutions */
	int max_qos;             /* -1: no cap; 0..2 */
	int32_t priority;
	const char *origin;      /* NULL, or where it came from ("acl.txt:12") */
	int64_t created_at;      /* set by rule_add */
};

/* *id (may be NULL) receives the new rule's id. INVAL on a bad record. */
WMQ_MUST_USE wmq_err wmq_store_id_rule_add(struct wmq_store_id *h, const struct wmq_store_id_rule *r,
					   uint64_t *id);
WMQ_MUST_USE wmq_err wmq_store_id_rule_del(struct wmq_store_id *h, uint64_t id); /* NOTFOUND */
/* Delete every rule; *n (may be NULL) = how many. */
WMQ_MUST_USE wmq_err wmq_store_id_rule_del_all(struct wmq_store_id *h, uint64_t *n);
typedef wmq_err (*wmq_store_id_rule_fn)(void *arg, const struct wmq_store_id_rule *r);
/* Rule |id| through |fn| (called once); NOTFOUND. */
WMQ_MUST_USE wmq_err wmq_store_id_rule_get(struct wmq_store_id *h, uint64_t id, wmq_store_id_rule_fn fn,
					   void *arg);
/* "Load the whole policy": every rule in id order and the policy version,
 * from one snapshot, so the version matches the rules. |version| may be
 * NULL; *version is written before the first call of |fn| (0 on failure).
 * Build a security/policy.h wmq_policy from the rows with
 * wmq_policy_new(*version) at the first row (or after the call when there
 * is none) + wmq_policy_add() per row (spec.id = row id, spec.origin = row
 * origin); tools/ctl/policy_load.c does exactly that. */
WMQ_MUST_USE wmq_err wmq_store_id_rules(struct wmq_store_id *h, wmq_store_id_rule_fn fn, void *arg,
					uint64_t *version);

/* ---- Client-id bindings ----------------------------------------------- */

/* NOTFOUND (user), DENIED (the client id is bound already: unbind first). */
WMQ_MUST_USE wmq_err wmq_store_id_client_bind(struct wmq_store_id *h, const char *client_id, const char *user);
WMQ_MUST_USE wmq_err wmq_store_id_client_unbind(struct wmq_store_id *h, const char *client_id); /* NOTFOUND */
/* NOTFOUND when unbound. Ownership: *user to the caller (wmq_free). */
WMQ_MUST_USE wmq_err wmq_store_id_client_get(struct wmq_store_id *h, const char *client_id, char **user);
typedef wmq_err (*wmq_store_id_binding_fn)(void *arg, const char *client_id, const char *user,
					   int64_t created_at);
/* Bindings by client id; |user| non-NULL: only that user's. */
WMQ_MUST_USE wmq_err wmq_store_id_client_list(struct wmq_store_id *h, const char *user,
					      wmq_store_id_binding_fn fn, void *arg);

/* ---- Bans ------------------------------------------------------------- */

enum wmq_store_id_ban_kind { /* same values as security/defence.h wmq_ban_kind */
	WMQ_STORE_ID_BAN_CLIENT_ID = 0,
	WMQ_STORE_ID_BAN_USERNAME = 1,
	WMQ_STORE_ID_BAN_ADDRESS = 2,
};

struct wmq_store_id_ban {
	enum wmq_store_id_ban_kind kind;
	const char *value;   /* client id, username, or normalised CIDR text */
	int64_t expires_at;  /* 0 = never */
	const char *reason;  /* NULL: none */
	int64_t created_at;  /* set by ban_add (kept when a ban is re-added) */
};

/* Add, or replace expiry and reason of an existing ban (as
 * wmq_defence_ban_add does); *replaced (may be NULL) says which. */
WMQ_MUST_USE wmq_err wmq_store_id_ban_add(struct wmq_store_id *h, const struct wmq_store_id_ban *b,
					  bool *replaced);
WMQ_MUST_USE wmq_err wmq_store_id_ban_del(struct wmq_store_id *h, enum wmq_store_id_ban_kind kind,
					  const char *value); /* NOTFOUND */
typedef wmq_err (*wmq_store_id_ban_fn)(void *arg, const struct wmq_store_id_ban *b);
/* Bans by (kind, value). |now| > 0: only those not expired at |now| (wall
 * s); 0: all, expired included. Load them into security/defence.h at start
 * with expires_ms = expires_at * 1000. */
WMQ_MUST_USE wmq_err wmq_store_id_ban_list(struct wmq_store_id *h, int64_t now, wmq_store_id_ban_fn fn,
					   void *arg);
/* Delete bans expired at |now|; *n (may be NULL) = how many. */
WMQ_MUST_USE wmq_err wmq_store_id_ban_purge(struct wmq_store_id *h, int64_t now, uint64_t *n);

/* ---- TLS PSK identities ----------------------------------------------- */

#define WMQ_STORE_ID_PSK_MAX 256 /* bytes of key */

struct wmq_store_id_psk {
	char *identity;
	uint8_t *key;        /* secret: wiped by cleanup */
	size_t key_len;
	char *username;      /* NULL: no user attached */
	int64_t created_at;
};

/* |user| may be NULL. NOTFOUND (user), DENIED (identity taken), INVAL (key
 * length not 1..WMQ_STORE_ID_PSK_MAX). */
WMQ_MUST_USE wmq_err wmq_store_id_psk_add(struct wmq_store_id *h, const char *identity, const uint8_t *key,
					  size_t key_len, const char *user);
WMQ_MUST_USE wmq_err wmq_store_id_psk_del(struct wmq_store_id *h, const char *identity); /* NOTFOUND */
/* NOTFOUND. Ownership: *out to the caller, wmq_store_id_psk_cleanup(). */
WMQ_MUST_USE wmq_err wmq_store_id_psk_get(struct wmq_store_id *h, const char *identity,
					  struct wmq_store_id_psk *out);
void wmq_store_id_psk_cleanup(struct wmq_store_id_psk *p);
/* Identities by name without their keys: fn(arg, identity, user|NULL, created_at). */
WMQ_MUST_USE wmq_err wmq_store_id_psk_list(struct wmq_store_id *h, wmq_store_id_binding_fn fn, void *arg);

/* Kind names as stored ("user", "clientid", ...); NULL if out of range. */
const char *wmq_store_id_kind_str(enum wmq_store_id_kind k);
const char *wmq_store_id_ban_kind_str(enum wmq_store_id_ban_kind k);

#endif
