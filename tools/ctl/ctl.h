/* SPDX-License-Identifier: MIT
 * ctl.h - wardmq_ctl internals: results as a small value tree (rendered as
 * human tables or JSON), requests, the backend seam, exit codes, and the
 * helpers shared by the command files.
 *
 * Structure (docs/CTL.md):
 *   main.c        global options, the command table, help, rendering
 *   cmds.c        one function per command: parse the arguments, read
 *                 secrets locally (passwords become Argon2id verifiers here,
 *                 so a password never leaves this process), build a
 *                 struct ctl_req, hand it to the backend
 *   import.c      import-mosquitto and rule import: parse files locally,
 *                 then a transaction of ordinary requests
 *   local.c       the offline backend: executes requests on the database
 *                 file (store/identity.h) and writes the audit lines
 *   (store rows -> policy: src/security/policy_load.c, shared with the broker)
 *   prompt.c      passwords and keys: no echo on a terminal, one line from
 *                 a pipe; never from argv
 *   val.c         the value tree, JSON and human rendering
 * Online mode (the lead's next step): a second struct ctl_backend whose
 * exec() sends the request over the broker's admin unix socket and turns
 * the reply back into a struct ctl_res; the broker side can run the same
 * executor on its own identity handle (ctl_local_attach) and then swap its
 * policy.
 * Nothing in cmds.c or import.c touches the database directly.
 *
 * Threading: single-threaded tool. Ownership: a struct ctl_res owns its
 * value tree and text (ctl_res_cleanup); requests borrow everything. */
#ifndef WMQ_TOOLS_CTL_H
#define WMQ_TOOLS_CTL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Render |v| as one line of JSON + newline into |fp|. NOMEM if the tree
 * is incomplete (oom flag), IO on a write error. */
WMQ_MUST_USE wmq_err ctl_render_json(const struct ctl_val *v, void *fp);
/* Human form: an OBJ prints "key: value" lines, and each member marked with
 * ctl_arr_columns() as an aligned table with upper-case headers (an OBJ
 * that holds just one table prints only the table); control
 * characters are shown escaped, null as "-", booleans as yes/no. */
WMQ_MUST_USE wmq_err ctl_render_human(const struct ctl_val *v, void *fp);
/* |s| with control characters escaped (\n, \xNN), for terminals. Into
 * |out| (always terminated, cut to fit). */
void ctl_escape(const char *s, char *out, size_t cap);

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
	CTL_OP_BAN_DEL,        /* kind, a */
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

/* ---- Policy glue ------------------------------------------------------------
 * Moved to src/security/policy_load.{h,c} (shared with the broker). */

/* ---- Secrets (prompt.c) --------------------------------------------------- */

#define CTL_SECRET_MAX 4096

/* Read a secret: from the terminal without echo when stdin is a terminal
 * (|prompt| on stderr; with |confirm| asked twice and compared), else one
 * line from stdin (trailing CR/LF removed). USAGE-type problems (empty,
 * too long, mismatch) give INVAL with |why|; a terminal signal restores the
 * terminal and re-raises. Ownership: |buf| is the caller's; wipe it. */
WMQ_MUST_USE wmq_err ctl_read_secret(const char *prompt, bool confirm, char *buf, size_t cap, size_t *len,
				     char *why, size_t whycap);

/* ---- Command line and command table (main.c, cmds.c) --------------------- */

/* Options after the command (bits of struct ctl_opts.seen). */
enum ctl_opt_bit {
	CTL_O_QOS = 1u << 0,
	CTL_O_PRIORITY = 1u << 1,
	CTL_O_LITERAL = 1u << 2,
	CTL_O_FOR = 1u << 3,
	CTL_O_REASON = 1u << 4,
	CTL_O_USER = 1u << 5,
	CTL_O_NO_PASSWORD = 1u << 6,
	CTL_O_DISABLED = 1u << 7,
	CTL_O_ALL = 1u << 8,
	CTL_O_PASSWD = 1u << 9,
	CTL_O_ACL = 1u << 10,
	CTL_O_REPLACE = 1u << 11,
	CTL_O_PREV = 1u << 12,
};

struct ctl_opts {
	/* global */
	const char *db;      /* --db or $WARDMQ_DB */
	const char *audit;   /* --audit */
	const char *socket;  /* --socket: online mode (reserved) */
	bool json;
	bool help;
	/* command options (validity per command: struct ctl_cmd.opts) */
	unsigned seen;
	const char *qos, *priority, *for_, *reason, *user, *passwd, *acl, *prev;
	bool literal, no_password, disabled, all, replace;
};

struct ctl_ctx {
	struct ctl_opts o;
	struct ctl_backend *b; /* NULL for local-only commands (audit verify) */
};

struct ctl_cmd {
	const char *group;   /* "user" */
	const char *name;    /* "add", "member add"; NULL for one-word commands */
	const char *args;    /* "NAME" (help) */
	int min, max;        /* positional arguments */
	unsigned opts;       /* accepted enum ctl_opt_bit */
	bool writes;         /* changes the database (opens it for writing, audits) */
	bool no_backend;     /* runs without the database */
	void (*run)(struct ctl_ctx *x, char **args, int nargs, struct ctl_res *res);
	const char *help;    /* one line */
};

extern const struct ctl_cmd ctl_cmds[];
extern const size_t ctl_ncmds;

/* ---- Small parsers (cmds.c) ----------------------------------------------- */

/* "90", "90s", "15m", "2h", "7d", "1w", "1h30m" -> seconds (> 0). */
WMQ_MUST_USE wmq_err ctl_parse_duration(const char *s, int64_t *out);
/* "publish,retain" / "read" / "write" / "all" -> WMQ_ACT_BIT mask. */
WMQ_MUST_USE wmq_err ctl_parse_actions(const char *s, unsigned *out);
/* The actions mask as text ("all", "read", "publish,retain"). */
void ctl_actions_str(unsigned actions, char *out, size_t cap);

/* ---- Import (import.c) ------------------------------------------------------ */

struct ctl_import_opts {
	const char *passwd;  /* mosquitto_passwd file or NULL */
	const char *acl;     /* mosquitto acl_file or NULL */
	const char *policy;  /* native policy text (rule import) or NULL */
	bool replace;        /* replace verifiers of existing users and every rule */
};

/* Run an import through |b|; fills |res| (data: report). */
void ctl_import(struct ctl_backend *b, const struct ctl_import_opts *o, struct ctl_res *res);

/* Read a whole file (at most |max| bytes) into a NUL-terminated buffer.
 * IO / LIMIT with |why|. Ownership: *out to the caller (wmq_free). */
WMQ_MUST_USE wmq_err ctl_read_file(const char *path, size_t max, char **out, size_t *len, char *why, size_t cap);

#endif
