/* SPDX-License-Identifier: MIT
 * hist.h - a log-linear latency histogram for wardmq_bench.
 * Values (nanoseconds) below 512 are counted exactly; above, every power of
 * two is split into 256 buckets, so a percentile is within 0.4 % of the
 * true value. The maximum is kept exactly. Fixed size, no allocation after
 * wmq_bench_hist_new().
 * Threading: one writer; merge after the writers stopped. */
#ifndef WMQ_BENCH_HIST_H
#define WMQ_BENCH_HIST_H
#include <stdint.h>

#define WMQ_BENCH_HIST_LINEAR 512u
#define WMQ_BENCH_HIST_SUB 256u
#define WMQ_BENCH_HIST_N (WMQ_BENCH_HIST_LINEAR + 55u * WMQ_BENCH_HIST_SUB)

struct wmq_bench_hist {
	uint64_t count;
	uint64_t max;
	uint64_t b[WMQ_BENCH_HIST_N];
};

/* A zeroed histogram or NULL. Ownership: caller, wmq_bench_hist_free(). */
struct wmq_bench_hist *wmq_bench_hist_new(void);
void wmq_bench_hist_free(struct wmq_bench_hist *h); /* NULL-safe */
void wmq_bench_hist_add(struct wmq_bench_hist *h, uint64_t v);
/* dst += src */
void wmq_bench_hist_merge(struct wmq_bench_hist *dst, const struct wmq_bench_hist *src);
/* The value at percentile |p| (0 < p <= 100); 0 when empty. */
uint64_t wmq_bench_hist_pct(const struct wmq_bench_hist *h, double p);

#endif
