/* SPDX-License-Identifier: MIT
 * backoff.c - reconnect delays: exponential back-off with equal jitter.
 * Role: pure arithmetic, unit-tested; client.c feeds it kernel randomness.
 * Threading: reentrant. */
#include "client_int.h"

uint32_t wmq_backoff_delay_ms(uint32_t min_ms, uint32_t max_ms, uint32_t attempt, uint32_t rnd)
{
	if (min_ms == 0)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	uint32_t base = min_ms;
	/* bounded: at most 32 doublings before the cap is reached */
	for (uint32_t i = 0; i < attempt && i < 32 && base < max_ms; i++)
		base = base > max_ms / 2 ? max_ms : base * 2;
	if (base > max_ms)
		base = max_ms;
	/* equal jitter: half fixed, half random, so a crowd of clients that
	 * lost the same server spreads out instead of reconnecting together */
	uint32_t half = base / 2;
	uint32_t d = half + rnd % (base - half + 1);
	return d < min_ms ? min_ms : d;
}
