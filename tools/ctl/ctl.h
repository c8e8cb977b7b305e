/* SPDX-License-Identifier: MIT
 * ctl.h - wardmq_ctl internals: the command table, options, secrets,
 * rendering and the helpers shared by the command files. Requests,
 * results, the value tree and the executor are in src/admin/admin.h
 * (shared with the broker's admin socket).
 *
 * Structure (docs/CTL.md):
 *   main.c        global options, the command table, help, backend choice,
 *                 rendering of results
 *   cmds.c        one function per command: parse the arguments, read
 *                 secrets locally (passwords become Argon2id verifiers here,
 *                 so a password never leaves this process), build a
 *                 struct ctl_req, hand it to the backend
 *   import.c      import-mosquitto and rule import: parse files locally,
 *                 then a transaction of ordinary requests
 *   online.c      the online backend: each request goes over the broker's
 *                 admin unix socket (--socket) and the reply comes back as
 *                 a struct ctl_res
 *   src/admin     the offline backend (exec.c: requests executed on the
 *                 database file) and the wire codec
 *   prompt.c      passwords and keys: no echo on a terminal, one line from
 *                 a pipe; never from argv
 *   render.c      JSON and human rendering of the value tree
 * Nothing in cmds.c or import.c touches the database directly.
 *
 * Threading: single-threaded tool. Ownership: see admin/admin.h. */
#ifndef WMQ_TOOLS_CTL_H
#define WMQ_TOOLS_CTL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin/admin.h"
#include "common/err.h"

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

/* The online backend: connect to the broker's admin socket |path|. On
 * failure |res| says why and *out is NULL. */
void ctl_online_open(const char *path, struct ctl_backend **out, struct ctl_res *res);

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
	CTL_O_GENERATE = 1u << 13,
};

struct ctl_opts {
	/* global */
	const char *db;      /* --db or $WARDMQ_DB */
	const char *audit;   /* --audit */
	const char *socket;  /* --socket or $WARDMQ_SOCKET: online mode */
	bool json;
	bool help;
	/* command options (validity per command: struct ctl_cmd.opts) */
	unsigned seen;
	const char *qos, *priority, *for_, *reason, *user, *passwd, *acl, *prev;
	bool literal, no_password, disabled, all, replace, generate;
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
