/* SPDX-License-Identifier: MIT
 * config_int.h - the option table and its helpers, private to src/config/
 * (and to tests/unit/config_test.c, which checks the table itself).
 *
 * Role: one row per option (Redis static_configs[] style). A row says where
 * the value lives (offset and size in struct wmq_config and/or struct
 * wmq_listener_cfg), how it is spelled in a file, its range in file units,
 * its default in file syntax (parsed by the same code as a file, so a default
 * cannot escape its range), its flags and its documentation.
 * Threading: the table is const; everything here is reentrant.
 * Ownership: string fields of a config are owned by that config. */
#ifndef WMQ_CONFIG_CONFIG_INT_H
#define WMQ_CONFIG_CONFIG_INT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

enum wmq_opt_type {
	WMQ_OPT_BOOL,     /* true | false */
	WMQ_OPT_INT,      /* decimal integer, stored * unit */
	WMQ_OPT_SIZE,     /* decimal integer count of bytes */
	WMQ_OPT_SECONDS,  /* decimal integer of seconds, stored * unit */
	WMQ_OPT_MILLIS,   /* decimal integer of milliseconds */
	WMQ_OPT_DURATION, /* mosquitto duration N{s,h,d,w,m,y} or "never" (-1), seconds */
	WMQ_OPT_STRING,   /* rest of the line, valid UTF-8 */
	WMQ_OPT_PATH,     /* rest of the line */
	WMQ_OPT_ENUM,     /* one of words[]; stored as its index (an int) */
	WMQ_OPT_LOG_DEST, /* stderr | stdout | none | file PATH; stored "file:PATH" */
	WMQ_OPT_LISTENER, /* listener PORT [ADDRESS]: starts a section */
};

enum wmq_opt_scope {
	WMQ_SCOPE_GLOBAL = 1,   /* struct wmq_config only; allowed anywhere */
	WMQ_SCOPE_LISTENER = 2, /* struct wmq_listener_cfg only; after a listener line */
	WMQ_SCOPE_BOTH = 3,     /* top level: default for listeners; in a section: that listener */
};

#define WMQ_OPT_RELOADABLE 0x1u /* takes effect on SIGHUP without a restart */
#define WMQ_OPT_SECRET 0x2u     /* value never printed (dump shows <redacted>) */
#define WMQ_OPT_REPEATABLE 0x4u /* may appear more than once in one scope */

enum wmq_opt_group {
	WMQ_GROUP_LISTENERS,
	WMQ_GROUP_TLS,
	WMQ_GROUP_CONNECTIONS,
	WMQ_GROUP_PACKETS,
	WMQ_GROUP_TOPICS,
	WMQ_GROUP_SESSIONS,
	WMQ_GROUP_PERSISTENCE,
	WMQ_GROUP_LOGGING,
	WMQ_GROUP_DEFENCE,
	WMQ_GROUP__COUNT
};

struct wmq_opt {
	const char *name;
	enum wmq_opt_type type;
	enum wmq_opt_scope scope;
	unsigned flags;            /* WMQ_OPT_* */
	enum wmq_opt_group group;  /* heading in the generated reference */
	int64_t min, max;          /* numeric types: inclusive range, in file units */
	int64_t unit;              /* stored value = file value * unit (1 if 0) */
	const char *const *words;  /* ENUM: NULL-terminated list, value = index */
	const char *def;           /* default in file syntax; NULL = none */
	size_t goff, gsize;        /* field in struct wmq_config (GLOBAL, BOTH) */
	size_t loff, lsize;        /* field in struct wmq_listener_cfg (LISTENER, BOTH) */
	const char *mosquitto;     /* NULL: not in mosquitto; "": same name and meaning;
				    * otherwise how WardMQ differs */
	const char *doc;           /* one paragraph, Markdown */
};

/* A mosquitto key that WardMQ deliberately refuses, and what to do instead.
 * A key ending in '*' matches as a prefix. */
struct wmq_opt_unsupported {
	const char *key;
	const char *hint;
};

#define WMQ_CONFIG_N_OPTIONS 68
extern const struct wmq_opt wmq_config_options[WMQ_CONFIG_N_OPTIONS];
extern const char *const wmq_config_group_titles[WMQ_GROUP__COUNT];
extern const struct wmq_opt_unsupported wmq_config_unsupported[];
extern const size_t wmq_config_n_unsupported;

#define WMQ_CONFIG_MAX_LINE 4096            /* bytes per line, without the newline */
#define WMQ_CONFIG_MAX_FILE (1024 * 1024)   /* bytes per file */
#define WMQ_CONFIG_MAX_LISTENERS 256

/* The row named |name|, or NULL. */
const struct wmq_opt *wmq_config_find(const char *name);
/* The unsupported-mosquitto row matching |key|, or NULL. */
const struct wmq_opt_unsupported *wmq_config_find_unsupported(const char *key);

/* Integer field access by size and signedness (signed when o->min < 0 or the
 * option is an ENUM/DURATION). */
int64_t wmq_config_field_get(const struct wmq_opt *o, const void *field, size_t size);
void wmq_config_field_set(const struct wmq_opt *o, void *field, size_t size, int64_t v);

/* Parse |val| by the type of |o| into |field| (|size| bytes), as a file
 * line would. On error writes "OPTION: message" (values of SECRET options are
 * shown as <redacted>) and returns WMQ_ERR_INVAL or WMQ_ERR_NOMEM. A string
 * field must hold NULL or an owned string (it is replaced). */
WMQ_MUST_USE wmq_err wmq_config_set_value(const struct wmq_opt *o, void *field, size_t size,
					  const char *val, char *errbuf, size_t errlen);

/* Write option |o| of the object at |base| (a struct wmq_config when
 * |listener| is false, else a struct wmq_listener_cfg) as one "name value"
 * line in file syntax; SECRET values print as "<redacted>". Not for
 * WMQ_OPT_LISTENER. */
void wmq_config_dump_option(FILE *out, const struct wmq_opt *o, const void *base, bool listener);

#endif
