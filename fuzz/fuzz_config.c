/* SPDX-License-Identifier: MIT
 * fuzz_config.c - libFuzzer target for the configuration parser.
 * Role: feeds arbitrary bytes to wmq_config_parse(). On success it also
 * checks the dump round trip: the dump of the parsed configuration must
 * parse again and dump to the same text (so the dump is always a valid
 * configuration that means the same thing). Any difference aborts.
 * Threading: single-threaded. Ownership: everything is freed per input.
 * Corpus: fuzz/corpus/config/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(const struct wmq_config *cfg, size_t *len)
{
	char *s = NULL;
	FILE *f = open_memstream(&s, len);
	if (!f)
		abort();
	wmq_config_dump(cfg, f);
	if (fclose(f) != 0)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wmq_config a, b;
	char err[512];
	if (wmq_config_parse("fuzz.conf", (const char *)data, size, &a, err, sizeof err) != WMQ_OK)
		return 0; /* a is cleaned up on error */
	size_t n1 = 0, n2 = 0;
	char *d1 = dump(&a, &n1);
	if (wmq_config_parse("fuzz.conf", d1, n1, &b, err, sizeof err) != WMQ_OK) {
		fprintf(stderr, "dump does not parse: %s\n%s", err, d1);
		abort();
	}
	char *d2 = dump(&b, &n2);
	if (n1 != n2 || memcmp(d1, d2, n1) != 0 ||
	    wmq_config_nonreloadable_changes(&a, &b, NULL, 0) != 0) {
		fprintf(stderr, "dump round trip differs:\n%s\n----\n%s", d1, d2);
		abort();
	}
	free(d1);
	free(d2);
	wmq_config_cleanup(&a);
	wmq_config_cleanup(&b);
	return 0;
}
