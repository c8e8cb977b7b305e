/* SPDX-License-Identifier: MIT
 * hist.c - the log-linear latency histogram (see hist.h). */
#include "hist.h"

#include "common/alloc.h"

struct wmq_bench_hist *wmq_bench_hist_new(void)
{
	return wmq_calloc(1, sizeof(struct wmq_bench_hist));
}

void wmq_bench_hist_free(struct wmq_bench_hist *h)
{
	wmq_free(h);
}

static unsigned bucket_of(uint64_t v)
{
	if (v < WMQ_BENCH_HIST_LINEAR)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 9 */
	unsigned shift = msb - 8u;
	unsigned sub = (unsigned)(v >> shift) - WMQ_BENCH_HIST_SUB; /* 0..255 */
	return WMQ_BENCH_HIST_LINEAR + (msb - 9u) * WMQ_BENCH_HIST_SUB + sub;
}

/* Middle of bucket |i|. */
static uint64_t value_of(unsigned i)
{
	if (i < WMQ_BENCH_HIST_LINEAR)
		return i;
	unsigned k = i - WMQ_BENCH_HIST_LINEAR;
	unsigned msb = k / WMQ_BENCH_HIST_SUB + 9u;
	uint64_t sub = k % WMQ_BENCH_HIST_SUB;
	uint64_t lo = (WMQ_BENCH_HIST_SUB + sub) << (msb - 8u);
	return lo + (((uint64_t)1 << (msb - 8u)) >> 1);
}

void wmq_bench_hist_add(struct wmq_bench_hist *h, uint64_t v)
{
	unsigned i = bucket_of(v);
	if (i >= WMQ_BENCH_HIST_N)
		i = WMQ_BENCH_HIST_N - 1u;
	h->b[i]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

void wmq_bench_hist_merge(struct wmq_bench_hist *dst, const struct wmq_bench_hist *src)
{
	for (unsigned i = 0; i < WMQ_BENCH_HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t wmq_bench_hist_pct(const struct wmq_bench_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	double want = p / 100.0 * (double)h->count;
	uint64_t target = (uint64_t)want;
	if ((double)target < want)
		target++;
	if (target == 0)
		target = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < WMQ_BENCH_HIST_N; i++) {
		seen += h->b[i];
		if (seen >= target) {
			uint64_t v = value_of(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
