/* SPDX-License-Identifier: MIT
 * props.c - the -D / --property COMMAND NAME VALUE [VALUE2] option: the
 * names are mosquitto's (the MQTT 5 property names in lower case with
 * dashes) and are resolved through the library's property table.
 * Threading: none. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

int wmq_tool_property_add(struct wmq_tool_cfg *cfg, const char *cmd, const char *name,
			  const char *value, const char *value2, char *errbuf, size_t errcap)
{
	int c = wmq_command_from_name(cmd);
	if (c < 0 || c >= WMQ_TOOL_NPROPS) {
		snprintf(errbuf, errcap, "Invalid command given in --property argument.");
		return -1;
	}
	int id = wmq_property_from_name(name);
	if (id < 0) {
		snprintf(errbuf, errcap, "Invalid property name given in --property argument.");
		return -1;
	}
	if (!wmq_property_allowed(id, c) || (id == WMQ_PROPERTY_SUBSCRIPTION_IDENTIFIER &&
					     c == WMQ_CMD_PUBLISH)) {
		snprintf(errbuf, errcap, "%s property not allowed for %s in --property argument.",
			 name, cmd);
		return -1;
	}
	if (!cfg->props[c] && !(cfg->props[c] = wmq_properties_new())) {
		snprintf(errbuf, errcap, "Out of memory.");
		return -1;
	}
	wmq_properties *p = cfg->props[c];
	int rc;
	switch (wmq_property_type_of(id)) {
	case WMQ_PROPTYPE_BYTE:
	case WMQ_PROPTYPE_U16:
	case WMQ_PROPTYPE_U32:
	case WMQ_PROPTYPE_VARINT: {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || v > UINT32_MAX) {
			rc = WMQ_E_INVAL;
			break;
		}
		rc = wmq_properties_add_int(p, id, (uint32_t)v);
		break;
	}
	case WMQ_PROPTYPE_STRING:
		rc = wmq_properties_add_string(p, id, value);
		break;
	case WMQ_PROPTYPE_BINARY:
		rc = wmq_properties_add_binary(p, id, value, strlen(value));
		break;
	case WMQ_PROPTYPE_STRING_PAIR:
		rc = value2 ? wmq_properties_add_user(p, value, value2) : WMQ_E_INVAL;
		break;
	default:
		rc = WMQ_E_INVAL;
		break;
	}
	if (rc != WMQ_E_OK) {
		snprintf(errbuf, errcap, "Invalid value for %s property in --property argument.",
			 name);
		return -1;
	}
	return 0;
}
