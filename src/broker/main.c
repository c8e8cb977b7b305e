/* SPDX-License-Identifier: MIT
 * main.c - the wardmq command line (mosquitto's conventions). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "common/alloc.h"

/* -d, first half: fork; the parent waits on a pipe until the child says it
 * started (listeners bound, store open, threads running) and exits 0, or 1
 * when the child failed or died, so start-up errors still reach the
 * terminal and the exit status. Everything that starts threads runs in the
 * child only: threads do not survive a fork (daemon(3) after start-up
 * would leave the store, auth-pool and admin threads behind). Returns the
 * pipe's write end in the child, -1 on failure. */
static int daemon_fork(void)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		char c = 0;
		ssize_t n;
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == 'k' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0) {
		close(p[1]);
		return -1;
	}
	return p[1];
}

/* -d, second half: detach from the terminal and release the parent. */
static void daemon_ready(int fd)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		(void)dup2(nul, STDIN_FILENO);
		(void)dup2(nul, STDOUT_FILENO);
		(void)dup2(nul, STDERR_FILENO);
		if (nul > STDERR_FILENO)
			close(nul);
	}
	ssize_t w = write(fd, "k", 1);
	(void)w; /* the parent gone: nothing to tell */
	close(fd);
}

static void usage(FILE *out)
{
	fprintf(out,
		"wardmq %s - a secure MQTT 3.1.1 and 5.0 broker\n"
		"\n"
		"Usage: wardmq [-c FILE] [-p PORT] [--db FILE] [--admin-socket PATH] [-v] [-d]\n"
		"       wardmq --test-config -c FILE\n"
		"       wardmq --config-doc\n"
		"\n"
		"  -c, --config-file FILE  read the configuration from FILE. Without it the\n"
		"                          broker listens on 127.0.0.1:1883 and allows\n"
		"                          anonymous clients; with it, anonymous access is\n"
		"                          off unless a listener sets allow_anonymous true.\n"
		"  -p, --port PORT         listen on PORT instead of the configured listeners\n"
		"                          (127.0.0.1 without a file, all interfaces with one).\n"
		"      --db FILE           keep sessions, queued and retained messages in the\n"
		"                          SQLite database FILE (sets persistence true and\n"
		"                          persistence_file FILE; durability as configured,\n"
		"                          strict by default). Users and rules managed with\n"
		"                          wardmq_ctl --db FILE live there too.\n"
		"      --admin-socket PATH serve wardmq_ctl --socket PATH on this unix socket\n"
		"                          (sets admin_socket; needs the store).\n"
		"  -v, --verbose           log everything (log_level debug).\n"
		"  -d, --daemon            run in the background.\n"
		"      --test-config       check the configuration file and exit: 0 if valid,\n"
		"                          1 with FILE:LINE: message otherwise.\n"
		"      --config-doc        print the configuration reference (Markdown).\n"
		"  -h, --help              this text.    --version  print the version.\n"
		"\n"
		"Signals: SIGHUP reloads the configuration file (the old one stays in force\n"
		"if the new one is invalid); SIGTERM and SIGINT stop the broker cleanly.\n"
		"Documentation: README.md and docs/ in the source tree.\n",
		WMQ_VERSION);
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *db = NULL, *admin_sock = NULL;
	bool test_config = false, verbose = false, daemonize = false, have_port = false;
	uint16_t port = 0;
	char err[1024];
	struct wmq_config cfg;
	struct wmq_broker *b = NULL;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-c") || !strcmp(a, "--config-file")) && i + 1 < argc) {
			file = argv[++i];
		} else if ((!strcmp(a, "-p") || !strcmp(a, "--port")) && i + 1 < argc) {
			if (parse_port(argv[++i], &port) != 0) {
				fprintf(stderr, "wardmq: invalid port '%s'\n", argv[i]);
				return 1;
			}
			have_port = true;
		} else if (!strcmp(a, "--db") && i + 1 < argc) {
			db = argv[++i];
		} else if (!strcmp(a, "--admin-socket") && i + 1 < argc) {
			admin_sock = argv[++i];
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose = true;
		} else if (!strcmp(a, "-d") || !strcmp(a, "--daemon")) {
			daemonize = true;
		} else if (!strcmp(a, "--test-config")) {
			test_config = true;
		} else if (!strcmp(a, "--config-doc")) {
			wmq_config_write_doc(stdout);
			return 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("wardmq %s\n", WMQ_VERSION);
			return 0;
		} else {
			fprintf(stderr, "wardmq: unknown or incomplete option '%s'\n\n", a);
			usage(stderr);
			return 1;
		}
	}
	if (file) {
		if (wmq_config_load(file, &cfg, err, sizeof err) != WMQ_OK) {
			fprintf(stderr, "wardmq: %s\n", err);
			return 1;
		}
	} else if (test_config) {
		fprintf(stderr, "wardmq: --test-config needs -c FILE\n");
		return 1;
	} else if (wmq_config_default(&cfg) != WMQ_OK) {
		fprintf(stderr, "wardmq: out of memory\n");
		return 1;
	}
	if (test_config) {
		printf("%s: configuration is valid\n", file);
		if (verbose)
			wmq_config_dump(&cfg, stdout);
		wmq_config_cleanup(&cfg);
		return 0;
	}
	if (have_port && wmq_config_set_port(&cfg, port) != WMQ_OK) {
		fprintf(stderr, "wardmq: cannot set port %u\n", port);
		wmq_config_cleanup(&cfg);
		return 1;
	}
	if (verbose)
		cfg.log_level = WMQ_LOG_DEBUG;
	if (db) {
		char *copy = wmq_strdup(db);
		if (!copy) {
			fprintf(stderr, "wardmq: out of memory\n");
			wmq_config_cleanup(&cfg);
			return 1;
		}
		wmq_free(cfg.persistence_file);
		cfg.persistence_file = copy;
		cfg.persistence = true;
		cfg.db_from_cli = true;
		if (cfg.durability == WMQ_DURABILITY_NONE)
			cfg.durability = WMQ_DURABILITY_STRICT;
	}
	if (admin_sock) {
		char *copy = wmq_strdup(admin_sock);
		if (!copy) {
			fprintf(stderr, "wardmq: out of memory\n");
			wmq_config_cleanup(&cfg);
			return 1;
		}
		wmq_free(cfg.admin_socket);
		cfg.admin_socket = copy;
	}
	int ready_fd = -1;
	if (daemonize && (ready_fd = daemon_fork()) < 0) {
		fprintf(stderr, "wardmq: cannot daemonize: %s\n", strerror(errno));
		wmq_config_cleanup(&cfg);
		return 1;
	}
	if (wmq_broker_new(&cfg, &b) != WMQ_OK) {
		fprintf(stderr, "wardmq: cannot initialise the broker\n");
		wmq_config_cleanup(&cfg);
		return 1; /* the parent sees the pipe close: exit 1 */
	}
	if (wmq_broker_start(b) != WMQ_OK)
		goto out;
	if (ready_fd >= 0)
		daemon_ready(ready_fd);
	if (wmq_broker_run(b) == WMQ_OK)
		status = 0;
out:
	wmq_broker_free(b);
	return status;
}
