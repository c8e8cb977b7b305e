/* SPDX-License-Identifier: MIT
 * prompt.c - reading passwords and keys for wardmq_ctl: from the terminal
 * with echo off when stdin is a terminal, else exactly one line from stdin.
 * A secret is never taken from argv (it would show in ps and shell history).
 *
 * Terminal handling: echo is switched off with termios; SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT and SIGTSTP are blocked for the duration and watched
 * through a signalfd next to stdin, so that Ctrl-C first restores the
 * terminal and then re-raises the signal (no global flag, no handler).
 * Pipes: the line is read byte by byte with read(2) so that nothing after
 * it is consumed; CR/LF is stripped; an empty line is refused.
 * Threading: single-threaded tool. Ownership: the caller's buffer; the
 * caller wipes it (wmq_crypto_wipe) as soon as the secret is used. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "ctl.h"

/* One line from a pipe or file. */
static wmq_err read_line_fd(int fd, char *buf, size_t cap, size_t *len, char *why, size_t whycap)
{
	size_t n = 0;
	bool nl = false, over = false;
	for (;;) { /* bounded: every iteration consumes a byte or ends */
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whycap, "reading stdin: %s", strerror(errno));
			WMQ_BAIL(WMQ_ERR_IO);
		}
		if (r == 0)
			break;
		if (c == '\n') {
			nl = true;
			break;
		}
		if (n + 1 < cap)
			buf[n++] = c;
		else
			over = true;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (over) {
		wmq_crypto_wipe(buf, cap);
		snprintf(why, whycap, "the secret is longer than %zu bytes", cap - 1);
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	if (n == 0) {
		snprintf(why, whycap, nl ? "the secret is empty" : "no secret on stdin (one line expected)");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	*len = n;
	return WMQ_OK;
}

/* One line from the terminal on stdin, echo off, signals watched. */
static wmq_err read_tty(const char *prompt, char *buf, size_t cap, size_t *len, char *why, size_t whycap)
{
	struct termios old, quiet;
	sigset_t set, oldmask;
	int sfd = -1;
	wmq_err rc = WMQ_OK;
	size_t n = 0;
	bool nl = false, over = false;
	int sig = 0;

	if (tcgetattr(STDIN_FILENO, &old) != 0) {
		snprintf(why, whycap, "terminal: %s", strerror(errno));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTSTP);
	if (sigprocmask(SIG_BLOCK, &set, &oldmask) != 0) {
		snprintf(why, whycap, "sigprocmask: %s", strerror(errno));
		WMQ_BAIL(WMQ_ERR_IO);
	}
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	quiet = old;
	quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK);
	quiet.c_lflag |= ECHONL | ICANON;
	if (sfd < 0 || tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
		snprintf(why, whycap, "terminal: %s", strerror(errno));
		rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
		goto out_mask;
	}
	fputs(prompt, stderr);
	fflush(stderr);
	while (!nl && rc == WMQ_OK) { /* bounded: each round reads input, a signal or ends */
		struct pollfd pf[2] = {{STDIN_FILENO, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whycap, "poll: %s", strerror(errno));
			rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
			break;
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				sig = (int)si.ssi_signo;
			snprintf(why, whycap, "interrupted");
			rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
			break;
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		char chunk[256];
		ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whycap, "reading the terminal: %s", strerror(errno));
			rc = wmq_err_note(WMQ_ERR_IO, __FILE__, __LINE__);
			break;
		}
		if (r == 0) { /* Ctrl-D */
			fputc('\n', stderr);
			break;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (chunk[i] == '\n') {
				nl = true;
				break;
			}
			if (n + 1 < cap)
				buf[n++] = chunk[i];
			else
				over = true;
		}
		wmq_crypto_wipe(chunk, sizeof chunk);
	}
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
out_mask:
	if (sfd >= 0)
		close(sfd);
	(void)sigprocmask(SIG_SETMASK, &oldmask, NULL);
	buf[n] = '\0';
	if (sig != 0) {
		wmq_crypto_wipe(buf, cap);
		fputc('\n', stderr);
		raise(sig); /* the terminal is restored: now let the signal act */
		return rc;
	}
	if (rc != WMQ_OK) {
		wmq_crypto_wipe(buf, cap);
		return rc;
	}
	if (over || n == 0) {
		wmq_crypto_wipe(buf, cap);
		if (over)
			snprintf(why, whycap, "the secret is longer than %zu bytes", cap - 1);
		else
			snprintf(why, whycap, "the secret is empty");
		WMQ_BAIL(WMQ_ERR_INVAL);
	}
	*len = n;
	return WMQ_OK;
}

wmq_err ctl_read_secret(const char *prompt, bool confirm, char *buf, size_t cap, size_t *len, char *why,
			size_t whycap)
{
	WMQ_ENSURE(buf && cap > 1 && len, WMQ_ERR_INVAL);
	*len = 0;
	buf[0] = '\0';
	if (!isatty(STDIN_FILENO))
		return read_line_fd(STDIN_FILENO, buf, cap, len, why, whycap);
	WMQ_TRY(read_tty(prompt, buf, cap, len, why, whycap));
	if (!confirm)
		return WMQ_OK;
	char again[CTL_SECRET_MAX + 1];
	size_t alen = 0;
	wmq_err rc = read_tty("Retype: ", again, sizeof again, &alen, why, whycap);
	if (rc == WMQ_OK && (alen != *len || !wmq_crypto_memeq(again, buf, alen))) {
		snprintf(why, whycap, "the two entries differ");
		rc = wmq_err_note(WMQ_ERR_INVAL, __FILE__, __LINE__);
	}
	wmq_crypto_wipe(again, sizeof again);
	if (rc != WMQ_OK) {
		wmq_crypto_wipe(buf, cap);
		*len = 0;
	}
	return rc;
}
