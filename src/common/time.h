/* SPDX-License-Identifier: MIT
 * time.h - clocks. Monotonic milliseconds for timers and keepalive; wall
 * clock seconds for expiry that must survive restarts. */
#ifndef WMQ_COMMON_TIME_H
#define WMQ_COMMON_TIME_H
#include <stdint.h>

uint64_t wmq_now_ms(void);  /* CLOCK_MONOTONIC */
uint64_t wmq_now_us(void);  /* CLOCK_MONOTONIC, microseconds */
int64_t wmq_wall_s(void);   /* CLOCK_REALTIME seconds since the epoch */
int64_t wmq_wall_ms(void);  /* CLOCK_REALTIME milliseconds since the epoch */

#endif
