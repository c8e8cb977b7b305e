/* SPDX-License-Identifier: MIT
 * fuzz.h - what every libFuzzer target here shares: the entry point's
 * prototype and CHECK(), an oracle failure that libFuzzer (and the replay
 * twin, fuzz/replay_main.c) reports as a crash with the input saved.
 * Included by the fuzz_*.c files with a relative path (#include "fuzz.h"). */
#ifndef WMQ_FUZZ_H
#define WMQ_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#endif
