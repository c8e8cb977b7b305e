/* SPDX-License-Identifier: MIT
 * utf8.c - strict UTF-8 validation for MQTT strings. */
#include "common/utf8.h"

bool wmq_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		uint32_t cp;
		size_t n;
		if (c < 0x80) {
			if (c == 0) /* [MQTT-1.5.4-2] U+0000 is not allowed */
				return false;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			cp = c & 0x1fu;
			n = 1;
		} else if ((c & 0xf0) == 0xe0) {
			cp = c & 0x0fu;
			n = 2;
		} else if ((c & 0xf8) == 0xf0) {
			cp = c & 0x07u;
			n = 3;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			uint8_t d = p[i + k];
			if ((d & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (d & 0x3fu);
		}
		/* Over-long forms and out-of-range values are ill-formed. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		/* [MQTT-1.5.4-1] surrogate code points are not allowed */
		if (cp >= 0xd800 && cp <= 0xdfff)
			return false;
		i += n + 1;
	}
	return true;
}
