/* SPDX-License-Identifier: MIT
 * rand.h - kernel randomness (getrandom). For keys and nonces the crypto
 * module uses OpenSSL's DRBG; this is for ids and jitter. */
#ifndef WMQ_COMMON_RAND_H
#define WMQ_COMMON_RAND_H
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

WMQ_MUST_USE wmq_err wmq_rand_bytes(void *out, size_t n);
/* Uniform-ish value in [0, bound) for jitter; bound > 0. */
uint32_t wmq_rand_below(uint32_t bound);

#endif
