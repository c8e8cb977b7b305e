/* SPDX-License-Identifier: MIT
 * config_doc.c - output generated from the option table: the effective
 * configuration in file syntax (wmq_config_dump) and the Markdown reference
 * (wmq_config_write_doc, committed as docs/CONFIG.md).
 *
 * Role: the dump prints every option, secrets as "<redacted>", in a form the
 * parser reads back to an equal configuration (tested). The reference is
 * deterministic: the same table always gives the same bytes, so a unit test
 * can compare it with the committed file.
 * Threading: reentrant. Ownership: borrows everything; writes to |out|. */
#include <inttypes.h>
#include <string.h>

#include "config/config_int.h"

static void put_duration(FILE *out, int64_t secs)
{
	static const struct {
		char c;
		int64_t mult;
	} units[] = {{'y', 365 * 86400}, {'m', 30 * 86400}, {'w', 7 * 86400},
		     {'d', 86400},       {'h', 3600},        {'s', 1}};
	if (secs < 0) {
		fputs("never", out);
		return;
	}
	for (size_t i = 0; i < WMQ_ARRAY_LEN(units); i++) {
		if (secs > 0 && secs % units[i].mult == 0) {
			fprintf(out, "%" PRId64 "%c", secs / units[i].mult, units[i].c);
			return;
		}
	}
	fputs("0s", out);
}

void wmq_config_dump_option(FILE *out, const struct wmq_opt *o, const void *base, bool listener)
{
	const char *field = (const char *)base + (listener ? o->loff : o->goff);
	size_t size = listener ? o->lsize : o->gsize;
	if (o->type == WMQ_OPT_LISTENER)
		return;
	if (o->flags & WMQ_OPT_SECRET) {
		fprintf(out, "%s <redacted>\n", o->name);
		return;
	}
	switch (o->type) {
	case WMQ_OPT_BOOL: {
		bool b;
		memcpy(&b, field, sizeof b);
		fprintf(out, "%s %s\n", o->name, b ? "true" : "false");
		break;
	}
	case WMQ_OPT_INT:
	case WMQ_OPT_SIZE:
	case WMQ_OPT_SECONDS:
	case WMQ_OPT_MILLIS: {
		int64_t unit = o->unit > 0 ? o->unit : 1;
		fprintf(out, "%s %" PRId64 "\n", o->name, wmq_config_field_get(o, field, size) / unit);
		break;
	}
	case WMQ_OPT_DURATION:
		fprintf(out, "%s ", o->name);
		put_duration(out, wmq_config_field_get(o, field, size));
		fputc('\n', out);
		break;
	case WMQ_OPT_ENUM: {
		int64_t v = wmq_config_field_get(o, field, size);
		const char *w = NULL;
		for (int64_t i = 0; o->words[i]; i++)
			if (i == v)
				w = o->words[i];
		if (w)
			fprintf(out, "%s %s\n", o->name, w);
		else
			fprintf(out, "# %s has the invalid value %" PRId64 "\n", o->name, v);
		break;
	}
	case WMQ_OPT_STRING:
	case WMQ_OPT_PATH:
	case WMQ_OPT_LOG_DEST: {
		const char *s;
		memcpy(&s, field, sizeof s);
		if (!s)
			fprintf(out, "# %s is not set\n", o->name);
		else if (o->type == WMQ_OPT_LOG_DEST && strncmp(s, "file:", 5) == 0)
			fprintf(out, "%s file %s\n", o->name, s + 5);
		else
			fprintf(out, "%s %s\n", o->name, s);
		break;
	}
	case WMQ_OPT_LISTENER:
		break;
	}
}

void wmq_config_dump(const struct wmq_config *cfg, FILE *out)
{
	fprintf(out, "# effective configuration (%s)\n",
		cfg->path ? cfg->path : "built-in defaults");
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if (o->scope & WMQ_SCOPE_GLOBAL)
			wmq_config_dump_option(out, o, cfg, false);
	}
	for (size_t k = 0; k < cfg->n_listeners; k++) {
		const struct wmq_listener_cfg *l = &cfg->listeners[k];
		fprintf(out, "\nlistener %u%s%s\n", (unsigned)l->port, l->address ? " " : "",
			l->address ? l->address : "");
		for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
			const struct wmq_opt *o = &wmq_config_options[i];
			if (o->scope & WMQ_SCOPE_LISTENER)
				wmq_config_dump_option(out, o, l, true);
		}
	}
}

/* ---- reference documentation ---- */

static void put_type(FILE *out, const struct wmq_opt *o)
{
	switch (o->type) {
	case WMQ_OPT_BOOL:
		fputs("boolean: `true` or `false`", out);
		break;
	case WMQ_OPT_INT:
		fputs("integer", out);
		break;
	case WMQ_OPT_SIZE:
		fputs("integer, bytes", out);
		break;
	case WMQ_OPT_SECONDS:
		fputs("integer, seconds", out);
		break;
	case WMQ_OPT_MILLIS:
		fputs("integer, milliseconds", out);
		break;
	case WMQ_OPT_DURATION:
		fputs("duration: an integer and a unit (`s`, `h`, `d`, `w`, `m` = 30 days, "
		      "`y` = 365 days), or `never`",
		      out);
		break;
	case WMQ_OPT_STRING:
		fputs("string (UTF-8, to the end of the line)", out);
		break;
	case WMQ_OPT_PATH:
		fputs("path (to the end of the line)", out);
		break;
	case WMQ_OPT_ENUM:
		if (o->words[0] && o->words[1] && o->words[2])
			fputs("one of ", out);
		for (size_t i = 0; o->words[i]; i++)
			fprintf(out, "%s`%s`", i == 0 ? "" : o->words[i + 1] ? ", " : " or ",
				o->words[i]);
		break;
	case WMQ_OPT_LOG_DEST:
		fputs("`stderr`, `stdout`, `none` or `file PATH`", out);
		break;
	case WMQ_OPT_LISTENER:
		fputs("`PORT [ADDRESS]`", out);
		break;
	}
}

static bool is_numeric(const struct wmq_opt *o)
{
	return o->type == WMQ_OPT_INT || o->type == WMQ_OPT_SIZE || o->type == WMQ_OPT_SECONDS ||
	       o->type == WMQ_OPT_MILLIS;
}

static void put_range(FILE *out, const struct wmq_opt *o)
{
	if (is_numeric(o) || o->type == WMQ_OPT_LISTENER)
		fprintf(out, "%" PRId64 " .. %" PRId64, o->min, o->max);
	else if (o->type == WMQ_OPT_DURATION)
		fputs("at least 1 s, or `never`", out);
	else
		fputs("-", out);
}

static void put_default(FILE *out, const struct wmq_opt *o)
{
	if (o->type == WMQ_OPT_LISTENER)
		fputs("one listener on port 1883, every interface", out);
	else if (o->def)
		fprintf(out, "`%s`", o->def);
	else
		fputs("none", out);
}

static const char *scope_text(const struct wmq_opt *o)
{
	if (o->type == WMQ_OPT_LISTENER)
		return "top level, repeatable: each line starts a listener section";
	switch (o->scope) {
	case WMQ_SCOPE_GLOBAL:
		return "global (allowed anywhere)";
	case WMQ_SCOPE_LISTENER:
		return "listener (after a `listener` line)";
	case WMQ_SCOPE_BOTH:
		return "global and listener (top level: default for every listener)";
	}
	return "?";
}

static const char *reload_text(const struct wmq_opt *o)
{
	return (o->flags & WMQ_OPT_RELOADABLE) ? "yes" : "no, restart needed";
}

static void put_summary(FILE *out)
{
	fputs("## Summary\n\n"
	      "| Option | Type | Default | Scope | Reload |\n"
	      "| --- | --- | --- | --- | --- |\n",
	      out);
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		const char *scope = o->type == WMQ_OPT_LISTENER     ? "section"
				    : o->scope == WMQ_SCOPE_GLOBAL  ? "global"
				    : o->scope == WMQ_SCOPE_LISTENER ? "listener"
								     : "global, listener";
		const char *type = o->type == WMQ_OPT_BOOL       ? "boolean"
				   : o->type == WMQ_OPT_SIZE     ? "bytes"
				   : o->type == WMQ_OPT_SECONDS  ? "seconds"
				   : o->type == WMQ_OPT_MILLIS   ? "milliseconds"
				   : o->type == WMQ_OPT_DURATION ? "duration"
				   : o->type == WMQ_OPT_STRING   ? "string"
				   : o->type == WMQ_OPT_PATH     ? "path"
				   : o->type == WMQ_OPT_ENUM     ? "word"
				   : o->type == WMQ_OPT_LOG_DEST ? "destination"
				   : o->type == WMQ_OPT_LISTENER ? "port, address"
								 : "integer";
		fprintf(out, "| [`%s`](#%s) | %s | ", o->name, o->name, type);
		if (o->type == WMQ_OPT_LISTENER)
			fputs("1883", out);
		else
			put_default(out, o);
		fprintf(out, " | %s | %s |\n", scope, (o->flags & WMQ_OPT_RELOADABLE) ? "yes" : "no");
	}
	fputs("\n", out);
}

static void put_option(FILE *out, const struct wmq_opt *o)
{
	fprintf(out, "### `%s`\n\n", o->name);
	fputs("| | |\n| --- | --- |\n", out);
	fputs("| Type | ", out);
	put_type(out, o);
	fputs(" |\n| Default | ", out);
	put_default(out, o);
	fputs(" |\n| Range | ", out);
	put_range(out, o);
	fprintf(out, " |\n| Scope | %s |\n| Reloadable | %s |\n", scope_text(o), reload_text(o));
	if (o->flags & WMQ_OPT_SECRET)
		fputs("| Secret | yes: never logged or shown by `--test-config -v` |\n", out);
	if (!o->mosquitto)
		fputs("| mosquitto | WardMQ only |\n", out);
	else if (!o->mosquitto[0])
		fputs("| mosquitto | same name and meaning |\n", out);
	else
		fprintf(out, "| mosquitto | %s |\n", o->mosquitto);
	fprintf(out, "\n%s\n\n", o->doc);
}

static void put_migration(FILE *out)
{
	bool first = true;
	fputs("## Migrating from mosquitto\n\n"
	      "WardMQ reads the same `key value` format as mosquitto and uses mosquitto's option "
	      "names where it has the same feature, so a small mosquitto configuration often works "
	      "unchanged. Every difference is an error at start-up rather than a silent change: an "
	      "option WardMQ does not implement is refused with a message naming the line and what "
	      "to use instead. Listener options always apply per listener (as with mosquitto's "
	      "`per_listener_settings true`), and options given at top level before the first "
	      "`listener` line are the defaults for every listener.\n\n"
	      "### Options that map 1:1\n\n"
	      "Same name, same syntax, same meaning:\n\n",
	      out);
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if (o->mosquitto && !o->mosquitto[0]) {
			fprintf(out, "%s`%s`", first ? "" : ", ", o->name);
			first = false;
		}
	}
	fputs(".\n\n### Same name, with differences\n\n", out);
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if (o->mosquitto && o->mosquitto[0])
			fprintf(out, "- `%s`: %s.\n", o->name, o->mosquitto);
	}
	fputs("\n### mosquitto options WardMQ refuses\n\n"
	      "A trailing `*` matches any option starting with that prefix.\n\n"
	      "| mosquitto option | what to do instead |\n| --- | --- |\n",
	      out);
	for (size_t i = 0; i < wmq_config_n_unsupported; i++)
		fprintf(out, "| `%s` | %s |\n", wmq_config_unsupported[i].key,
			wmq_config_unsupported[i].hint);
	fputs("\n### WardMQ options with no mosquitto equivalent\n\n", out);
	first = true;
	for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
		const struct wmq_opt *o = &wmq_config_options[i];
		if (!o->mosquitto) {
			fprintf(out, "%s`%s`", first ? "" : ", ", o->name);
			first = false;
		}
	}
	fputs(".\n", out);
}

void wmq_config_write_doc(FILE *out)
{
	fputs("# WardMQ configuration reference\n\n"
	      "<!-- Generated from the option table (src/config/config_table.c) by\n"
	      "     wmq_config_write_doc(), as printed by `wardmq --config-doc`. Do not edit:\n"
	      "     the config unit test fails when this file and the table differ. -->\n\n"
	      "The broker reads one configuration file, given with `wardmq -c FILE`. Without `-c` "
	      "it uses a built-in configuration: one listener on 127.0.0.1:1883 that allows "
	      "anonymous clients, and the defaults below for everything else. `-p PORT` replaces "
	      "the listeners with one on PORT (on every interface when a file was given, on "
	      "127.0.0.1 otherwise). `wardmq --test-config -c FILE` checks a file and exits.\n\n"
	      "## File format\n\n"
	      "Each line is `key value`: an option name, one or more spaces or tabs, and the value, "
	      "which runs to the end of the line; trailing whitespace is removed. A line whose first "
	      "character other than spaces and tabs is `#` is a comment (a `#` later in a line is "
	      "part of the value), and blank lines are ignored. Option names are case-sensitive. "
	      "Booleans are `true` or `false`. Numbers are plain decimal integers: no `+`, no digit "
	      "separators, no unit suffixes, and they must lie in the range given for the option. "
	      "A line may be at most 4096 bytes long and the file at most 1 MiB. A NUL byte "
	      "anywhere is an error, and so is any other control character except tab outside "
	      "comments; a UTF-8 byte order mark at the start and CR-LF line ends are accepted.\n\n"
	      "Every mistake is an error that names the file and line, in the form "
	      "`FILE:LINE: message`: an unknown option, a missing or malformed value, a number out "
	      "of range, an option given twice in the same scope, a listener option before the "
	      "first `listener` line, or two listeners on the same port and address. The broker "
	      "does not start with such a file, and a reload (SIGHUP) with one keeps the running "
	      "configuration.\n\n"
	      "## Sections and scope\n\n"
	      "`listener PORT [ADDRESS]` starts a listener section, which runs to the next "
	      "`listener` line or the end of the file. Each option has one of three scopes:\n\n"
	      "- **global**: applies to the whole broker. It may appear anywhere, also inside a "
	      "listener section (as in mosquitto), but only once in the file.\n"
	      "- **listener**: applies to the listener whose section it is in, and is an error "
	      "before the first `listener` line.\n"
	      "- **global and listener**: at top level, before the first `listener` line, it sets "
	      "the default for every listener (including the one created when the file has no "
	      "`listener` line); inside a section it applies to that listener only. It may be given "
	      "once at top level and once per section.\n\n"
	      "A file without a `listener` line gets one on port 1883 on every interface. With a "
	      "file, `allow_anonymous` defaults to `false`: a listener accepts anonymous clients "
	      "only if the file says so.\n\n"
	      "## Reloading\n\n"
	      "On SIGHUP the broker reads the file again. If it has an error, nothing changes. "
	      "Otherwise options marked reloadable take effect without a restart, and changes to "
	      "the others (listeners and persistence) are reported in the log and wait for a "
	      "restart.\n\n",
	      out);
	put_summary(out);
	for (int g = 0; g < WMQ_GROUP__COUNT; g++) {
		bool any = false;
		for (size_t i = 0; i < WMQ_CONFIG_N_OPTIONS; i++) {
			const struct wmq_opt *o = &wmq_config_options[i];
			if ((int)o->group != g)
				continue;
			if (!any)
				fprintf(out, "## %s\n\n", wmq_config_group_titles[g]);
			any = true;
			put_option(out, o);
		}
	}
	put_migration(out);
}
