/* SPDX-License-Identifier: MIT
 * wardmq/wardmq.h - umbrella header of libwardmq, the WardMQ MQTT client
 * library. Include this one; link with `pkg-config --libs wardmq`.
 *
 *   err.h      WMQ_API, public error codes, wmq_strerror()
 *   version.h  WMQ_LIB_VERSION_*, wmq_lib_version()
 *   reason.h   MQTT 5 reason codes, wmq_reason_string()
 *   props.h    MQTT 5 property lists
 *   topic.h    topic name/filter validation and matching
 *   client.h   the client handle: connect, publish, subscribe, callbacks,
 *              event-loop and blocking APIs
 * See docs/CLIENT.md for a guide and a complete example. */
#ifndef WARDMQ_WARDMQ_H
#define WARDMQ_WARDMQ_H

#include "wardmq/err.h"
#include "wardmq/version.h"
#include "wardmq/reason.h"
#include "wardmq/props.h"
#include "wardmq/topic.h"
#include "wardmq/client.h"

#endif
