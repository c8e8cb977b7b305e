/* SPDX-License-Identifier: MIT
 * replay_main.c - run a fuzz target over a committed corpus without libFuzzer.
 *
 * Role: linked with one fuzz_T.c into replay_T, so every build (gcc included)
 * replays fuzz/corpus/T under ASan+UBSan. Usage: replay_T DIR|FILE...
 * Each regular file is read into a buffer of exactly its size (so an
 * over-read is caught by ASan) and passed to LLVMFuzzerTestOneInput once:
 * one "pass" per file. A crash aborts the process (sanitizers make the exit
 * status non-zero). Prints "N passed, M failed" like tests/support/test.h;
 * M counts only files that could not be read. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "%s: unreadable or too large\n", path);
		fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	/* exact size; one byte for an empty file so the pointer is valid */
	uint8_t *buf = wmq_malloc(n ? n : 1);
	if (!buf) {
		fclose(f);
		return -1;
	}
	size_t got = n ? fread(buf, 1, n, f) : 0;
	fclose(f);
	if (got != n) {
		fprintf(stderr, "%s: short read\n", path);
		wmq_free(buf);
		return -1;
	}
	(void)LLVMFuzzerTestOneInput(buf, n);
	wmq_free(buf);
	return 0;
}

static void run_path(const char *path, int *pass, int *fail)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		(*fail)++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (run_file(path) == 0)
			(*pass)++;
		else
			(*fail)++;
		return;
	}
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		(*fail)++;
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char full[4096];
		struct stat fst;
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= sizeof full)
			continue;
		if (stat(full, &fst) != 0 || !S_ISREG(fst.st_mode))
			continue;
		if (run_file(full) == 0)
			(*pass)++;
		else
			(*fail)++;
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		run_path(argv[i], &pass, &fail);
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
