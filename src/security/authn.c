/* SPDX-License-Identifier: MIT
 * authn.c - registry of authentication mechanisms. */
#include "security/authn.h"

#include <string.h>

void wmq_authn_registry_init(struct wmq_authn_registry *r)
{
	memset(r, 0, sizeof *r);
}

wmq_err wmq_authn_register(struct wmq_authn_registry *r, const struct wmq_authn_mech *m)
{
	WMQ_ENSURE(r->n < WMQ_AUTHN_MAX_MECHS, WMQ_ERR_LIMIT);
	WMQ_ENSURE(wmq_authn_find(r, (const uint8_t *)m->name, strlen(m->name)) == NULL,
		   WMQ_ERR_INVAL);
	r->mechs[r->n++] = m;
	return WMQ_OK;
}

const struct wmq_authn_mech *wmq_authn_find(const struct wmq_authn_registry *r,
					    const uint8_t *name, size_t len)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->mechs[i]->name) == len && memcmp(r->mechs[i]->name, name, len) == 0)
			return r->mechs[i];
	return NULL;
}
