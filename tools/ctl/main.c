/* SPDX-License-Identifier: MIT
 * main.c - wardmq_ctl: command line, help, backend selection, output.
 *
 * Role: parse "wardmq_ctl [global options] GROUP [SUBCOMMAND] ARGS
 * [options]" (options may appear anywhere before "--"), find the command in
 * ctl_cmds[], open the backend it needs (offline: the database file given
 * by --db or $WARDMQ_DB; online: the broker's admin socket given by --socket
 * or $WARDMQ_SOCKET), run it and
 * render the result: human text on stdout and errors/warnings on stderr, or
 * exactly one JSON object on stdout with --json. The exit status is the
 * result's (enum ctl_exit, listed in --help and docs/CTL.md).
 * Threading: single-threaded. Ownership: everything lives until exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "ctl.h"

#ifndef WMQ_VERSION
#define WMQ_VERSION "0"
#endif

enum opt_id { O_DB, O_AUDIT, O_SOCKET, O_JSON, O_HELP, O_VERSION, O_CMD };

struct opt {
	const char *name;
	bool arg;
	enum opt_id id;
	unsigned bit;     /* command options: enum ctl_opt_bit */
	const char *help; /* synopsis form */
};

static const struct opt OPTS[] = {
	{"--db", true, O_DB, 0, "--db FILE"},
	{"--audit", true, O_AUDIT, 0, "--audit FILE"},
	{"--socket", true, O_SOCKET, 0, "--socket PATH"},
	{"--json", false, O_JSON, 0, "--json"},
	{"--help", false, O_HELP, 0, "--help"},
	{"-h", false, O_HELP, 0, "-h"},
	{"--version", false, O_VERSION, 0, "--version"},
	{"--qos", true, O_CMD, CTL_O_QOS, "--qos N"},
	{"--priority", true, O_CMD, CTL_O_PRIORITY, "--priority N"},
	{"--literal", false, O_CMD, CTL_O_LITERAL, "--literal"},
	{"--for", true, O_CMD, CTL_O_FOR, "--for DURATION"},
	{"--reason", true, O_CMD, CTL_O_REASON, "--reason TEXT"},
	{"--user", true, O_CMD, CTL_O_USER, "--user NAME"},
	{"--no-password", false, O_CMD, CTL_O_NO_PASSWORD, "--no-password"},
	{"--disabled", false, O_CMD, CTL_O_DISABLED, "--disabled"},
	{"--all", false, O_CMD, CTL_O_ALL, "--all"},
	{"--passwd", true, O_CMD, CTL_O_PASSWD, "--passwd FILE"},
	{"--acl", true, O_CMD, CTL_O_ACL, "--acl FILE"},
	{"--replace", false, O_CMD, CTL_O_REPLACE, "--replace"},
	{"--prev", true, O_CMD, CTL_O_PREV, "--prev HEX"},
	{"--generate", false, O_CMD, CTL_O_GENERATE, "--generate"},
};

static void set_cmd_opt(struct ctl_opts *o, unsigned bit, const char *v)
{
	o->seen |= bit;
	switch (bit) {
	case CTL_O_QOS: o->qos = v; break;
	case CTL_O_PRIORITY: o->priority = v; break;
	case CTL_O_LITERAL: o->literal = true; break;
	case CTL_O_FOR: o->for_ = v; break;
	case CTL_O_REASON: o->reason = v; break;
	case CTL_O_USER: o->user = v; break;
	case CTL_O_NO_PASSWORD: o->no_password = true; break;
	case CTL_O_DISABLED: o->disabled = true; break;
	case CTL_O_ALL: o->all = true; break;
	case CTL_O_PASSWD: o->passwd = v; break;
	case CTL_O_ACL: o->acl = v; break;
	case CTL_O_REPLACE: o->replace = true; break;
	case CTL_O_PREV: o->prev = v; break;
	case CTL_O_GENERATE: o->generate = true; break;
	default: break;
	}
}

/* ---- Help ------------------------------------------------------------------- */

static void synopsis(FILE *fp, const struct ctl_cmd *c)
{
	fprintf(fp, "  %s%s%s%s%s", c->group, c->name ? " " : "", c->name ? c->name : "", *c->args ? " " : "",
		c->args);
	for (size_t i = 0; i < WMQ_ARRAY_LEN(OPTS); i++)
		if (OPTS[i].bit & c->opts)
			fprintf(fp, " [%s]", OPTS[i].help);
	fputc('\n', fp);
}

static void help_group(FILE *fp, const char *group)
{
	for (size_t i = 0; i < ctl_ncmds; i++) {
		if (strcmp(ctl_cmds[i].group, group) != 0)
			continue;
		synopsis(fp, &ctl_cmds[i]);
		fprintf(fp, "      %s\n", ctl_cmds[i].help);
	}
}

static void help_all(FILE *fp)
{
	fputs("Usage: wardmq_ctl [--db FILE [--audit FILE] | --socket PATH] [--json] COMMAND [ARGS] [OPTIONS]\n"
	      "\n"
	      "Administers WardMQ users, groups, roles, ACL rules, bans, client id bindings and\n"
	      "TLS PSK identities: online through a running broker's admin socket (changes take\n"
	      "effect at once), or offline in the broker's database file.\n"
	      "\n"
	      "Global options:\n"
	      "  --db FILE      the database (the broker's persistence_file); default $WARDMQ_DB\n"
	      "  --audit FILE   offline: append one audit line per change to FILE (audit log format)\n"
	      "  --json         machine-readable output: one JSON object on stdout\n"
	      "  --socket PATH  online mode: the running broker's admin_socket; default $WARDMQ_SOCKET\n"
	      "                 (when --db is not given); the broker audits the changes itself\n"
	      "  -h, --help     this text; \"wardmq_ctl GROUP --help\" for one command group\n"
	      "  --version      print the version\n"
	      "\n"
	      "Commands:\n",
	      fp);
	const char *last = "";
	for (size_t i = 0; i < ctl_ncmds; i++) {
		if (strcmp(ctl_cmds[i].group, last) != 0 && *last)
			fputc('\n', fp);
		last = ctl_cmds[i].group;
		synopsis(fp, &ctl_cmds[i]);
	}
	fputs("\n"
	      "Passwords and PSK keys are read from the terminal without echo, or as one line\n"
	      "from stdin when it is not a terminal; never from the command line.\n"
	      "\n"
	      "Automatic lock-outs after failed logins live in the running broker's memory:\n"
	      "only online (--socket) does \"ban list\" show them (SOURCE lockout) and\n"
	      "\"ban del lockout ADDRESS [USERNAME]\" lift one; offline the latter exits 2.\n"
	      "\n"
	      "Exit status:\n"
	      "  0  done (acl explain: allow; audit verify: intact)\n"
	      "  1  acl explain: deny; audit verify: the chain is broken\n"
	      "  2  usage error or invalid value\n"
	      "  3  not found (user, group, role, rule, ban, lock-out, binding, PSK identity)\n"
	      "  4  already exists\n"
	      "  5  database error (cannot open, locked, corrupt, newer schema)\n"
	      "  6  other error (file I/O, audit log, rejected input file, out of memory,\n"
	      "     admin socket unreachable or refused)\n"
	      "\n"
	      "See docs/CTL.md for every command with examples.\n",
	      fp);
}

static bool group_exists(const char *g)
{
	for (size_t i = 0; i < ctl_ncmds; i++)
		if (strcmp(ctl_cmds[i].group, g) == 0)
			return true;
	return false;
}

/* Text for a terminal: control characters other than newlines escaped, so
 * that names and topics from the database cannot drive the terminal. */
static void put_text(const char *s, FILE *fp)
{
	char line[4096];
	while (*s) { /* bounded: each round consumes at least one byte */
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char *tmp = wmq_strndup(s, n);
		if (!tmp) {
			fputs("?\n", fp);
			return;
		}
		ctl_escape(tmp, line, sizeof line);
		wmq_free(tmp);
		fprintf(fp, "%s\n", line);
		s += n + (nl ? 1 : 0);
	}
}

/* ---- Output ------------------------------------------------------------------ */

static int finish(const struct ctl_ctx *x, struct ctl_res *res)
{
	bool err = res->status != CTL_EXIT_OK && res->status != CTL_EXIT_NO;
	char msg[sizeof res->msg * 2];
	ctl_escape(res->msg, msg, sizeof msg);
	if (x->o.json) {
		struct ctl_val *o = NULL;
		const struct ctl_val *v = res->data;
		if (err) {
			o = ctl_obj();
			ctl_set_str(o, "error", res->msg);
			ctl_set_int(o, "exit", res->status);
			if (res->data) {
				ctl_set(o, "details", res->data);
				res->data = NULL;
			}
			v = o;
		} else if (!v) {
			o = ctl_obj();
			ctl_set_str(o, "message", res->msg);
			v = o;
		}
		if (ctl_render_json(v, stdout) != WMQ_OK) {
			fprintf(stderr, "wardmq_ctl: cannot write the result\n");
			if (!err)
				res->status = CTL_EXIT_ERROR;
		}
		ctl_val_free(o);
	} else {
		wmq_err rc = WMQ_OK;
		if (res->text)
			put_text(res->text, stdout);
		else if (res->msg[0] && !err)
			printf("%s\n", msg);
		else if (res->data)
			rc = ctl_render_human(res->data, stdout);
		if (rc != WMQ_OK && !err) {
			fprintf(stderr, "wardmq_ctl: cannot write the result: %s\n", wmq_err_str(rc));
			res->status = CTL_EXIT_ERROR;
		}
		if (err)
			fprintf(stderr, "wardmq_ctl: %s\n", msg);
	}
	for (size_t i = 0; i < res->nwarn; i++) {
		char w[sizeof res->warn[0] * 2];
		ctl_escape(res->warn[i], w, sizeof w);
		fprintf(stderr, "wardmq_ctl: warning: %s\n", w);
	}
	if (fflush(stdout) != 0 && res->status == CTL_EXIT_OK)
		res->status = CTL_EXIT_ERROR;
	return res->status;
}

/* ---- main --------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct ctl_ctx x;
	struct ctl_res res;
	char **pos_base = wmq_calloc((size_t)argc + 1, sizeof *pos_base);
	char **pos = pos_base;
	int npos = 0;
	bool version = false, dashdash = false;

	memset(&x, 0, sizeof x);
	ctl_res_init(&res);
	if (!pos_base) {
		fprintf(stderr, "wardmq_ctl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (dashdash || a[0] != '-' || strcmp(a, "-") == 0) {
			pos[npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = true;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		const struct opt *o = NULL;
		for (size_t k = 0; k < WMQ_ARRAY_LEN(OPTS); k++)
			if (strlen(OPTS[k].name) == nlen && strncmp(OPTS[k].name, a, nlen) == 0)
				o = &OPTS[k];
		if (!o) {
			ctl_res_msg(&res, CTL_EXIT_USAGE, "unknown option %.*s (wardmq_ctl --help)", (int)nlen, a);
			goto done;
		}
		const char *val = NULL;
		if (o->arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				ctl_res_msg(&res, CTL_EXIT_USAGE, "%s needs a value", o->name);
				goto done;
			}
		} else if (eq) {
			ctl_res_msg(&res, CTL_EXIT_USAGE, "%s takes no value", o->name);
			goto done;
		}
		switch (o->id) {
		case O_DB: x.o.db = val; break;
		case O_AUDIT: x.o.audit = val; break;
		case O_SOCKET: x.o.socket = val; break;
		case O_JSON: x.o.json = true; break;
		case O_HELP: x.o.help = true; break;
		case O_VERSION: version = true; break;
		case O_CMD: set_cmd_opt(&x.o, o->bit, val); break;
		}
	}
	if (version) {
		printf("wardmq_ctl %s\n", WMQ_VERSION);
		wmq_free(pos_base);
		return CTL_EXIT_OK;
	}
	if (npos > 0 && strcmp(pos[0], "help") == 0) {
		x.o.help = true;
		pos++;
		npos--;
	}
	if (npos == 0) {
		help_all(x.o.help ? stdout : stderr);
		wmq_free(pos_base);
		return x.o.help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}

	/* find the command: GROUP, GROUP NAME or GROUP WORD NAME ("group member add") */
	const struct ctl_cmd *cmd = NULL;
	int used = 0;
	for (size_t i = 0; i < ctl_ncmds && !cmd; i++) {
		const struct ctl_cmd *c = &ctl_cmds[i];
		if (strcmp(c->group, pos[0]) != 0)
			continue;
		if (!c->name) {
			cmd = c;
			used = 1;
		} else if (npos >= 2 && strcmp(c->name, pos[1]) == 0) {
			cmd = c;
			used = 2;
		} else if (npos >= 3 && strchr(c->name, ' ')) {
			char two[64];
			snprintf(two, sizeof two, "%s %s", pos[1], pos[2]);
			if (strcmp(c->name, two) == 0) {
				cmd = c;
				used = 3;
			}
		}
	}
	if (!cmd) {
		if (group_exists(pos[0])) {
			if (x.o.help) {
				help_group(stdout, pos[0]);
				wmq_free(pos_base);
				return CTL_EXIT_OK;
			}
			char esc[128];
			ctl_escape(npos > 1 ? pos[1] : "", esc, sizeof esc);
			fprintf(stderr, "wardmq_ctl: %s: unknown or missing subcommand \"%s\"; one of:\n", pos[0], esc);
			help_group(stderr, pos[0]);
			wmq_free(pos_base);
			return CTL_EXIT_USAGE;
		}
		char esc[128];
		ctl_escape(pos[0], esc, sizeof esc);
		ctl_res_msg(&res, CTL_EXIT_USAGE, "unknown command \"%s\" (wardmq_ctl --help)", esc);
		goto done;
	}
	if (x.o.help) {
		synopsis(stdout, cmd);
		printf("      %s\n", cmd->help);
		wmq_free(pos_base);
		return CTL_EXIT_OK;
	}
	char **args = pos + used;
	int nargs = npos - used;
	if (nargs < cmd->min || nargs > cmd->max) {
		fprintf(stderr, "wardmq_ctl: wrong number of arguments; usage:\n");
		synopsis(stderr, cmd);
		wmq_free(pos_base);
		return CTL_EXIT_USAGE;
	}
	if (x.o.seen & ~cmd->opts) {
		for (size_t k = 0; k < WMQ_ARRAY_LEN(OPTS); k++)
			if (OPTS[k].bit & x.o.seen & ~cmd->opts) {
				ctl_res_msg(&res, CTL_EXIT_USAGE, "%s does not apply to %s%s%s", OPTS[k].name, cmd->group,
					    cmd->name ? " " : "", cmd->name ? cmd->name : "");
				break;
			}
		goto done;
	}

	if (!cmd->no_backend) {
		/* --socket, else --db, else $WARDMQ_SOCKET, else $WARDMQ_DB */
		if (x.o.socket && x.o.db) {
			ctl_res_msg(&res, CTL_EXIT_USAGE, "give either --socket (online) or --db (offline), not both");
			goto done;
		}
		if (!x.o.socket && (!x.o.db || !*x.o.db)) {
			const char *env = getenv("WARDMQ_SOCKET");
			if (env && *env)
				x.o.socket = env;
		}
		if (x.o.socket) {
			if (x.o.audit) {
				ctl_res_msg(&res, CTL_EXIT_USAGE, "--audit applies to offline mode only: online, the "
					    "broker writes the audit lines to its audit_file");
				goto done;
			}
			ctl_online_open(x.o.socket, &x.b, &res);
			if (!x.b)
				goto done;
			cmd->run(&x, args, nargs, &res);
			goto done;
		}
		if (!x.o.db || !*x.o.db)
			x.o.db = getenv("WARDMQ_DB");
		if (!x.o.db || !*x.o.db) {
			ctl_res_msg(&res, CTL_EXIT_USAGE, "no database: give --db FILE (the broker's persistence_file) "
				    "or --socket PATH (the broker's admin_socket), or set WARDMQ_DB or WARDMQ_SOCKET");
			goto done;
		}
		struct ctl_local_opts lo = {.db = x.o.db, .audit = x.o.audit, .write = cmd->writes};
		ctl_local_open(&lo, &x.b, &res);
		if (!x.b)
			goto done;
	}
	cmd->run(&x, args, nargs, &res);
done:
	if (x.b)
		x.b->ops->close(x.b);
	int status = finish(&x, &res);
	ctl_res_cleanup(&res);
	wmq_free(pos_base);
	return status;
}
