/* SPDX-License-Identifier: MIT
 * admin.h - administration requests and their executor, shared by
 * wardmq_ctl (tools/ctl) and the broker's admin socket (src/broker/admin.c).
 *
 * Role: the request/result types of every administrative operation
 * (struct ctl_req, struct ctl_res with a small JSON-like value tree), the
 * executor that runs them on an identity store handle and writes the audit
 * lines (exec.c: ctl_local_open for wardmq_ctl's offline mode,
 * ctl_local_attach for the broker), and the wire codec of the admin socket
 * (wire.c): length-prefixed binary frames carrying a request one way and a
 * result (status, message, warnings, value tree) the other, so that the
 * client renders an online result exactly as an offline one.
 * Secrets: a request carries Argon2id verifiers, never passwords, except
 * USER_CHECK (the password to try; never logged, wiped after use).
 * Threading: no shared state; one backend per thread. Ownership: a struct
 * ctl_res owns its value tree and text (ctl_res_cleanup); requests borrow
 * everything (a decoded request owns copies: struct ctl_wire_req). */
#ifndef WMQ_ADMIN_ADMIN_H
#define WMQ_ADMIN_ADMIN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "security/audit.h"
#include "security/policy_load.h"
#include "store/identity.h"

/* ---- Exit codes (documented in docs/CTL.md and --help) ------------------ */

enum ctl_exit {
	CTL_EXIT_OK = 0,       /* done; acl explain: allow; audit verify: intact */
	CTL_EXIT_NO = 1,       /* acl explain: deny; audit verify: chain broken */
	CTL_EXIT_USAGE = 2,    /* bad command line or invalid value */
	CTL_EXIT_NOTFOUND = 3, /* the user/group/role/rule/... does not exist */
	CTL_EXIT_EXISTS = 4,   /* it exists already */
	CTL_EXIT_STORE = 5,    /* the database cannot be opened, read or written */
	CTL_EXIT_ERROR = 6,    /* anything else: file I/O, audit log, rejected input file, memory */
};

/* wmq_err of a store call -> exit code. */
int ctl_exit_of(wmq_err e);

/* ---- Values -------------------------------------------------------------- */

enum ctl_vt { CTL_V_NULL, CTL_V_STR, CTL_V_INT, CTL_V_BOOL, CTL_V_ARR, CTL_V_OBJ };

/* A JSON-like value. Builders never fail loudly: an allocation failure sets
 * the sticky |oom| flag on the container, and rendering a tree with a flag
 * anywhere fails with NOMEM (the wmq_wr overflow idea). */
struct ctl_val {
	enum ctl_vt t;
	bool oom;
	char *s;                   /* STR */
	int64_t i;                 /* INT */
	bool b;                    /* BOOL */
	char **keys;               /* OBJ: keys[i] names items[i] */
	struct ctl_val **items;    /* ARR, OBJ */
	size_t n, cap;
	const char *const *cols;   /* ARR of OBJ: NULL-terminated keys shown as
				      table columns in human output (NULL: not
				      a table) */
	char **owned_cols;         /* cols when they were decoded (owned) */
};

struct ctl_val *ctl_obj(void);
struct ctl_val *ctl_arr(void);
void ctl_val_free(struct ctl_val *v); /* NULL-safe */
/* OBJ members (|s| NULL -> null). */
void ctl_set(struct ctl_val *o, const char *key, struct ctl_val *child); /* takes child */
void ctl_set_str(struct ctl_val *o, const char *key, const char *s);
void ctl_set_int(struct ctl_val *o, const char *key, int64_t i);
void ctl_set_bool(struct ctl_val *o, const char *key, bool b);
/* Wall-clock seconds as "2024-05-01T12:00:00Z"; 0 -> null. */
void ctl_set_time(struct ctl_val *o, const char *key, int64_t t);
/* ARR members. */
void ctl_push(struct ctl_val *a, struct ctl_val *child); /* takes child */
void ctl_push_str(struct ctl_val *a, const char *s);
/* Render |a| (an ARR of OBJ) as a table of these keys in human output
 * (NULL-terminated, borrowed: use a static array). */
void ctl_arr_columns(struct ctl_val *a, const char *const *cols);
/* Member |key| of |o|, or NULL. */
const struct ctl_val *ctl_get(const struct ctl_val *o, const char *key);


/* ---- Requests and results ---------------------------------------------- */

enum ctl_op {
	CTL_OP_USER_ADD,       /* a = name, verifier (NULL: none), flag = disabled */
	CTL_OP_USER_IMPORT,    /* a = name, verifier, flag = replace an existing one */
	CTL_OP_USER_DEL,       /* a */
	CTL_OP_USER_PASSWD,    /* a, verifier (NULL: remove password login) */
	CTL_OP_USER_DISABLE,   /* a, flag = disabled (false: enable) */
	CTL_OP_USER_LIST,
	CTL_OP_USER_SHOW,      /* a */
	CTL_OP_USER_CHECK,     /* a, secret/secret_len = the password to try */
	CTL_OP_GROUP_ADD,      /* a */
	CTL_OP_GROUP_DEL,      /* a */
	CTL_OP_GROUP_LIST,
	CTL_OP_GROUP_SHOW,     /* a */
	CTL_OP_MEMBER_ADD,     /* a = group, b = user */
	CTL_OP_MEMBER_DEL,     /* a = group, b = user */
	CTL_OP_ROLE_ADD,       /* a */
	CTL_OP_ROLE_DEL,       /* a */
	CTL_OP_ROLE_LIST,
	CTL_OP_ROLE_SHOW,      /* a */
	CTL_OP_ROLE_GRANT,     /* a = role, kind = enum wmq_store_id_grantee, b = name */
	CTL_OP_ROLE_REVOKE,    /* same */
	CTL_OP_RULE_ADD,       /* rule */
	CTL_OP_RULE_DEL,       /* id */
	CTL_OP_RULE_DEL_ALL,
	CTL_OP_RULE_LIST,      /* kind = -1 (all) or enum wmq_store_id_kind, a = name or NULL */
	CTL_OP_BAN_ADD,        /* kind = enum wmq_store_id_ban_kind, a = value (normalised),
				  expires_at (0 = never), reason */
	CTL_OP_BAN_DEL,        /* kind, a; kind CTL_BAN_LOCKOUT (online only): a = address,
				  b = username (NULL: the address lock-out) */
	CTL_OP_BAN_LIST,       /* flag = include expired */
	CTL_OP_BAN_PURGE,
	CTL_OP_CLIENT_BIND,    /* a = client id, b = user */
	CTL_OP_CLIENT_UNBIND,  /* a */
	CTL_OP_CLIENT_LIST,    /* a = user or NULL */
	CTL_OP_PSK_ADD,        /* a = identity, key/key_len, b = user or NULL */
	CTL_OP_PSK_DEL,        /* a */
	CTL_OP_PSK_LIST,
	CTL_OP_ACL_EXPLAIN,    /* a = user (NULL: anonymous), b = client id, action, topic, qos */
	CTL_OP_POLICY_VERSION,
	CTL_OP_TXN_BEGIN,      /* later requests are one transaction */
	CTL_OP_TXN_COMMIT,     /* audit_event / audit_fields: one summary line */
	CTL_OP_TXN_ROLLBACK,
	CTL_OP__COUNT
};

struct ctl_req {
	enum ctl_op op;
	const char *a, *b;
	int kind;
	bool flag;
	const char *verifier;             /* encoded verifier string, never a password */
	const char *secret;               /* USER_CHECK only: the password to try */
	size_t secret_len;
	struct wmq_store_id_rule rule;
	uint64_t id;
	int64_t expires_at;
	const char *reason;
	const uint8_t *key;
	size_t key_len;
	int action;                       /* enum wmq_policy_action */
	const char *topic;
	int qos;
	const char *audit_event;          /* TXN_COMMIT */
	const struct wmq_audit_field *audit_fields;
	size_t naudit_fields;
};

#define CTL_MAX_WARN 4

struct ctl_res {
	int status;                       /* enum ctl_exit */
	char msg[1024];                   /* one line: what happened / what went wrong */
	struct ctl_val *data;             /* JSON result, may be NULL */
	char *text;                       /* human output instead of data, may be NULL */
	char warn[CTL_MAX_WARN][256];     /* notes for stderr */
	size_t nwarn;
};

void ctl_res_init(struct ctl_res *r);
void ctl_res_cleanup(struct ctl_res *r);
void ctl_res_msg(struct ctl_res *r, int status, const char *fmt, ...) WMQ_PRINTF(3, 4);
void ctl_res_warn(struct ctl_res *r, const char *fmt, ...) WMQ_PRINTF(2, 3);

/* ---- Backends ------------------------------------------------------------- */

struct ctl_backend;
struct ctl_backend_ops {
	const char *name; /* "offline", "online" */
	/* Execute one request; always fills |res| (status, msg, data). */
	void (*exec)(struct ctl_backend *b, const struct ctl_req *req, struct ctl_res *res);
	void (*close)(struct ctl_backend *b);
};
struct ctl_backend {
	const struct ctl_backend_ops *ops;
};

struct ctl_local_opts {
	const char *db;        /* database file */
	const char *audit;     /* audit log to append to, or NULL */
	bool write;            /* open for changes (creates the file) */
};

/* CTL_OP_BAN_DEL of an automatic lock-out (brute-force defence), which
 * lives in the running broker's memory, not in the store: a value beyond
 * the store's ban kinds (enum wmq_store_id_ban_kind). */
#define CTL_BAN_LOCKOUT 8

/* The running broker, for the requests that reach past the store (admin
 * socket only; NULL offline): BAN_LIST adds the lock-outs in force, BAN_DEL
 * kind CTL_BAN_LOCKOUT lifts one. Borrowed; must outlive the backend. */
struct wmq_defence;
struct ctl_live {
	struct wmq_defence *defence; /* thread-safe (security/defence.h) */
};

/* The offline backend. On failure |res| says why (status and msg) and *out
 * is NULL. */
void ctl_local_open(const struct ctl_local_opts *o, struct ctl_backend **out, struct ctl_res *res);
/* The same executor over a handle and audit log someone else owns (the
 * broker answering its admin socket): |h| and |audit| (may be NULL) are
 * borrowed until close; |actor| and |via| ("socket") go into the audit
 * lines. *out is NULL when out of memory. After a request that changed
 * something, the host reloads its policy (wmq_policy_load). */
void ctl_local_attach(struct wmq_store_id *h, struct wmq_audit *audit, const char *actor, const char *via,
		      struct ctl_backend **out);
/* Give an attached backend the running broker (|live| borrowed, may be
 * NULL). Without it, lock-out requests are refused as offline. */
void ctl_local_set_live(struct ctl_backend *b, const struct ctl_live *live);

/* The actions mask as text ("all", "read", "publish,retain"). */
void ctl_actions_str(unsigned actions, char *out, size_t cap);

/* What a request may have changed (for the broker: which caches to
 * rebuild): a mask of enum ctl_change; 0 for read-only requests. */
enum ctl_change {
	CTL_CHG_USERS = 1u << 0,  /* users, passwords, disabled flags, client id bindings */
	CTL_CHG_POLICY = 1u << 1, /* groups, roles, members, grants, rules */
	CTL_CHG_BANS = 1u << 2,
	CTL_CHG_PSK = 1u << 3,
};
unsigned ctl_op_changes(enum ctl_op op);
/* INVAL (with |why|) unless |q| has every field its op needs and its
 * enumerations are in range (address bans: a valid CIDR). The executor
 * runs it first, since an admin-socket request comes from another
 * process. */
WMQ_MUST_USE wmq_err ctl_req_check(const struct ctl_req *q, char *why, size_t cap);
/* "user.add" style name of an op (logs, errors), "?" if unknown. */
const char *ctl_op_name(int op);

/* ---- Wire format (wire.c; docs/CTL.md "Admin socket protocol") ---------------
 * Frame: u32 big-endian body length (at most CTL_WIRE_MAX), then the body.
 * Request body: u8 version (1), u8 op, then fields as (u8 tag, value)
 * until the end of the body; each tag at most once. Reply body: u8 version,
 * u8 status, str msg, u8 nwarn + str each, u8 has-data + value, u8 has-text
 * + str. Strings are u32 length + bytes (no NUL inside). */
#define CTL_WIRE_VERSION 1
#define CTL_WIRE_MAX (1u << 20)
#define CTL_WIRE_MAX_DEPTH 16
#define CTL_WIRE_MAX_ITEMS 100000
#define CTL_WIRE_SECRET_MAX 4096 /* USER_CHECK password, PSK key */

/* Encode |req| as one frame (length prefix included) into |out|. */
WMQ_MUST_USE wmq_err ctl_wire_req_encode(const struct ctl_req *req, struct wmq_dbuf *out);
/* Decode a request body (without the length prefix) into |out|. Every
 * string, the secret and the key are copied into out->strs (wiped and
 * freed by ctl_wire_req_cleanup, which must be called after success and
 * failure alike), so |body| may go at once. MALFORMED (or NOMEM) with a
 * message in |why|. */
struct ctl_wire_req {
	struct ctl_req req;
	struct wmq_audit_field fields[WMQ_AUDIT_MAX_FIELDS];
	char *strs;   /* NUL-terminated copies of every string and the secret (owned, wiped) */
	size_t strs_cap;
};
WMQ_MUST_USE wmq_err ctl_wire_req_decode(const uint8_t *body, size_t len, struct ctl_wire_req *out, char *why,
					 size_t whycap);
void ctl_wire_req_cleanup(struct ctl_wire_req *r);
/* Encode |res| as one frame into |out|. */
WMQ_MUST_USE wmq_err ctl_wire_res_encode(const struct ctl_res *res, struct wmq_dbuf *out);
/* Decode a reply body into |res| (initialised by the caller; on failure it
 * may hold part of the reply: ctl_res_cleanup it). MALFORMED (or NOMEM)
 * with a message in |why|. */
WMQ_MUST_USE wmq_err ctl_wire_res_decode(const uint8_t *body, size_t len, struct ctl_res *res, char *why,
					 size_t whycap);

#endif
