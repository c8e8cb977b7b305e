/* SPDX-License-Identifier: MIT
 * utf8.h - UTF-8 validation by the MQTT rules.
 * Spec: MQTT 5.0 §1.5.4, MQTT 3.1.1 §1.5.3: well-formed UTF-8 (RFC 3629: no
 * over-long forms, nothing above U+10FFFF), no surrogates U+D800..U+DFFF
 * [MQTT-1.5.4-1], no U+0000 [MQTT-1.5.4-2]. */
#ifndef WMQ_COMMON_UTF8_H
#define WMQ_COMMON_UTF8_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool wmq_utf8_valid(const uint8_t *p, size_t len);

#endif
