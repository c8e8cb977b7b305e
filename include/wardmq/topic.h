/* SPDX-License-Identifier: MIT
 * wardmq/topic.h - MQTT topic name / filter checks and matching.
 * Threading: thread-safe (pure). Strings are NUL-terminated UTF-8. */
#ifndef WARDMQ_TOPIC_H
#define WARDMQ_TOPIC_H

#include <stdbool.h>

#include "wardmq/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A valid Topic Name for PUBLISH: 1..65535 bytes of valid UTF-8 without
 * '+' or '#' (MQTT 5.0 §4.7). */
WMQ_API bool wmq_topic_name_is_valid(const char *topic);
/* A valid Topic Filter for SUBSCRIBE: '#' only as the whole last level,
 * '+' only as a whole level; "$share/group/filter" accepted (§4.7, §4.8.2). */
WMQ_API bool wmq_topic_filter_is_valid(const char *filter);
/* Does the (non-shared) |filter| match the topic name |topic|? Wildcards at
 * the first level do not match topics beginning with '$' (§4.7.2). False
 * if either is invalid. */
WMQ_API bool wmq_topic_matches(const char *filter, const char *topic);

#ifdef __cplusplus
}
#endif
#endif
