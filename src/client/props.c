/* SPDX-License-Identifier: MIT
 * props.c - public MQTT 5 property lists (wardmq/props.h) on top of the
 * codec's struct wmq_props.
 *
 * Role: a wmq_properties is either a borrowed view of a decoded block
 * (|view| set: zero-copy, used for everything handed to callbacks) or an
 * owned list (|own| holds heap copies of strings; user properties and
 * subscription identifiers live in the |users| / |subids| arrays that
 * |own.user| / |own.sub_ids| point at). The owned form is directly what the
 * encoder takes, so sending needs no conversion.
 * One table (MQTT 5.0 §2.2.2.2 Table 2-4) gives each property its name,
 * type, place in struct wmq_props and the packets it may appear in.
 * Threading: none; one owner per object. */
#include <stddef.h>
#include <string.h>

#include "client_int.h"
#include "common/alloc.h"
#include "common/utf8.h"

#define W(t) ((uint32_t)1 << (t))
#define OFF(f) ((uint16_t)offsetof(struct wmq_props, f))
#define W_PUB_WILL (W(WMQ_CMD_PUBLISH) | W(WMQ_CMD_WILL))
#define W_ACKS (W(WMQ_CMD_PUBACK) | W(WMQ_CMD_PUBREC) | W(WMQ_CMD_PUBREL) | W(WMQ_CMD_PUBCOMP))
#define W_ALL                                                                                      \
	(W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK) | W_PUB_WILL | W_ACKS | W(WMQ_CMD_SUBSCRIBE) |    \
	 W(WMQ_CMD_SUBACK) | W(WMQ_CMD_UNSUBSCRIBE) | W(WMQ_CMD_UNSUBACK) |                        \
	 W(WMQ_CMD_DISCONNECT) | W(WMQ_CMD_AUTH))

enum range { R_ANY = 0, R_BOOL, R_NONZERO };

struct pdef {
	const char *name;
	uint8_t type;  /* enum wmq_property_type */
	uint8_t range; /* enum range */
	uint16_t off;  /* value in struct wmq_props (unused for pairs) */
	uint32_t where;
};

static const struct pdef defs[64] = {
	[0x01] = {"payload-format-indicator", WMQ_PROPTYPE_BYTE, R_BOOL, OFF(payload_format),
		  W_PUB_WILL},
	[0x02] = {"message-expiry-interval", WMQ_PROPTYPE_U32, R_ANY, OFF(message_expiry), W_PUB_WILL},
	[0x03] = {"content-type", WMQ_PROPTYPE_STRING, R_ANY, OFF(content_type), W_PUB_WILL},
	[0x08] = {"response-topic", WMQ_PROPTYPE_STRING, R_ANY, OFF(response_topic), W_PUB_WILL},
	[0x09] = {"correlation-data", WMQ_PROPTYPE_BINARY, R_ANY, OFF(correlation_data), W_PUB_WILL},
	[0x0B] = {"subscription-identifier", WMQ_PROPTYPE_VARINT, R_NONZERO, OFF(sub_id),
		  W(WMQ_CMD_PUBLISH) | W(WMQ_CMD_SUBSCRIBE)},
	[0x11] = {"session-expiry-interval", WMQ_PROPTYPE_U32, R_ANY, OFF(session_expiry),
		  W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK) | W(WMQ_CMD_DISCONNECT)},
	[0x12] = {"assigned-client-identifier", WMQ_PROPTYPE_STRING, R_ANY, OFF(assigned_client_id),
		  W(WMQ_CMD_CONNACK)},
	[0x13] = {"server-keep-alive", WMQ_PROPTYPE_U16, R_ANY, OFF(server_keep_alive),
		  W(WMQ_CMD_CONNACK)},
	[0x15] = {"authentication-method", WMQ_PROPTYPE_STRING, R_ANY, OFF(auth_method),
		  W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK) | W(WMQ_CMD_AUTH)},
	[0x16] = {"authentication-data", WMQ_PROPTYPE_BINARY, R_ANY, OFF(auth_data),
		  W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK) | W(WMQ_CMD_AUTH)},
	[0x17] = {"request-problem-information", WMQ_PROPTYPE_BYTE, R_BOOL,
		  OFF(request_problem_info), W(WMQ_CMD_CONNECT)},
	[0x18] = {"will-delay-interval", WMQ_PROPTYPE_U32, R_ANY, OFF(will_delay), W(WMQ_CMD_WILL)},
	[0x19] = {"request-response-information", WMQ_PROPTYPE_BYTE, R_BOOL,
		  OFF(request_response_info), W(WMQ_CMD_CONNECT)},
	[0x1A] = {"response-information", WMQ_PROPTYPE_STRING, R_ANY, OFF(response_info),
		  W(WMQ_CMD_CONNACK)},
	[0x1C] = {"server-reference", WMQ_PROPTYPE_STRING, R_ANY, OFF(server_reference),
		  W(WMQ_CMD_CONNACK) | W(WMQ_CMD_DISCONNECT)},
	[0x1F] = {"reason-string", WMQ_PROPTYPE_STRING, R_ANY, OFF(reason_string),
		  W(WMQ_CMD_CONNACK) | W_ACKS | W(WMQ_CMD_SUBACK) | W(WMQ_CMD_UNSUBACK) |
			  W(WMQ_CMD_DISCONNECT) | W(WMQ_CMD_AUTH)},
	[0x21] = {"receive-maximum", WMQ_PROPTYPE_U16, R_NONZERO, OFF(receive_max),
		  W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK)},
	[0x22] = {"topic-alias-maximum", WMQ_PROPTYPE_U16, R_ANY, OFF(topic_alias_max),
		  W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK)},
	[0x23] = {"topic-alias", WMQ_PROPTYPE_U16, R_NONZERO, OFF(topic_alias), W(WMQ_CMD_PUBLISH)},
	[0x24] = {"maximum-qos", WMQ_PROPTYPE_BYTE, R_BOOL, OFF(max_qos), W(WMQ_CMD_CONNACK)},
	[0x25] = {"retain-available", WMQ_PROPTYPE_BYTE, R_BOOL, OFF(retain_available),
		  W(WMQ_CMD_CONNACK)},
	[0x26] = {"user-property", WMQ_PROPTYPE_STRING_PAIR, R_ANY, 0, W_ALL},
	[0x27] = {"maximum-packet-size", WMQ_PROPTYPE_U32, R_NONZERO, OFF(max_packet_size),
		  W(WMQ_CMD_CONNECT) | W(WMQ_CMD_CONNACK)},
	[0x28] = {"wildcard-subscription-available", WMQ_PROPTYPE_BYTE, R_BOOL,
		  OFF(wildcard_sub_available), W(WMQ_CMD_CONNACK)},
	[0x29] = {"subscription-identifier-available", WMQ_PROPTYPE_BYTE, R_BOOL,
		  OFF(sub_id_available), W(WMQ_CMD_CONNACK)},
	[0x2A] = {"shared-subscription-available", WMQ_PROPTYPE_BYTE, R_BOOL,
		  OFF(shared_sub_available), W(WMQ_CMD_CONNACK)},
};

static const struct pdef *def_of(int id)
{
	if (id <= 0 || id >= (int)WMQ_ARRAY_LEN(defs) || !defs[id].name)
		return NULL;
	return &defs[id];
}

static const struct {
	const char *name;
	int cmd;
} commands[] = {
	{"connect", WMQ_CMD_CONNECT},       {"publish", WMQ_CMD_PUBLISH},
	{"puback", WMQ_CMD_PUBACK},         {"pubrec", WMQ_CMD_PUBREC},
	{"pubrel", WMQ_CMD_PUBREL},         {"pubcomp", WMQ_CMD_PUBCOMP},
	{"subscribe", WMQ_CMD_SUBSCRIBE},   {"unsubscribe", WMQ_CMD_UNSUBSCRIBE},
	{"disconnect", WMQ_CMD_DISCONNECT}, {"auth", WMQ_CMD_AUTH},
	{"will", WMQ_CMD_WILL},
};

int wmq_property_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int id = 1; id < (int)WMQ_ARRAY_LEN(defs); id++)
		if (defs[id].name && strcmp(defs[id].name, name) == 0)
			return id;
	return -1;
}

const char *wmq_property_name(int id)
{
	const struct pdef *d = def_of(id);
	return d ? d->name : NULL;
}

enum wmq_property_type wmq_property_type_of(int id)
{
	const struct pdef *d = def_of(id);
	return d ? (enum wmq_property_type)d->type : WMQ_PROPTYPE_INVALID;
}

bool wmq_property_allowed(int id, int cmd)
{
	const struct pdef *d = def_of(id);
	if (!d || cmd < 0 || cmd > WMQ_CMD_WILL)
		return false;
	return (d->where & W(cmd)) != 0;
}

int wmq_command_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < WMQ_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].cmd;
	return -1;
}

/* ---- lifetime ------------------------------------------------------------ */

wmq_properties *wmq_properties_new(void)
{
	return wmq_calloc(1, sizeof(struct wmq_properties));
}

static void free_bytes(struct wmq_bytes *b)
{
	wmq_free((void *)(uintptr_t)b->p);
	b->p = NULL;
	b->len = 0;
}

static struct wmq_bytes *bytes_field(struct wmq_props *p, const struct pdef *d)
{
	return (struct wmq_bytes *)(void *)((unsigned char *)p + d->off);
}

static void clear_own(struct wmq_properties *p)
{
	for (int id = 1; id < (int)WMQ_ARRAY_LEN(defs); id++) {
		const struct pdef *d = &defs[id];
		if (!d->name || !(p->own.present & WMQ_PROP_BIT(id)))
			continue;
		if (d->type == WMQ_PROPTYPE_STRING || d->type == WMQ_PROPTYPE_BINARY)
			free_bytes(bytes_field(&p->own, d));
	}
	for (size_t i = 0; i < p->own.n_user; i++) {
		free_bytes(&p->users[i].key);
		free_bytes(&p->users[i].value);
	}
	struct wmq_user_prop *users = p->users;
	uint32_t *subids = p->subids;
	memset(&p->own, 0, sizeof p->own);
	p->own.user = users;
	p->own.sub_ids = subids;
}

void wmq_properties_clear(wmq_properties *p)
{
	if (!p || p->view)
		return;
	clear_own(p);
}

void wmq_properties_free(wmq_properties *p)
{
	if (!p || p->view)
		return;
	clear_own(p);
	wmq_free(p->users);
	wmq_free(p->subids);
	wmq_free(p);
}

void wmq_cprops_view(struct wmq_properties *p, const struct wmq_props *dec)
{
	static const struct wmq_props empty;
	memset(p, 0, sizeof *p);
	p->view = dec ? dec : &empty;
}

/* The block the values are read from. */
static const struct wmq_props *src_of(const wmq_properties *p)
{
	return p->view ? p->view : &p->own;
}

/* ---- building ------------------------------------------------------------ */

static bool range_ok(const struct pdef *d, uint32_t v)
{
	switch (d->type) {
	case WMQ_PROPTYPE_BYTE:
		if (v > 0xff)
			return false;
		break;
	case WMQ_PROPTYPE_U16:
		if (v > 0xffff)
			return false;
		break;
	case WMQ_PROPTYPE_VARINT:
		if (v > 268435455u)
			return false;
		break;
	default:
		break;
	}
	if (d->range == R_BOOL && v > 1)
		return false;
	if (d->range == R_NONZERO && v == 0)
		return false;
	return true;
}

static int push_sub_id(struct wmq_properties *p, uint32_t v)
{
	if (p->own.n_sub_ids == UINT16_MAX)
		return WMQ_E_INVAL;
	if (p->own.n_sub_ids == p->subids_cap) {
		size_t cap = p->subids_cap ? p->subids_cap * 2 : 4;
		uint32_t *n = wmq_reallocarray(p->subids, cap, sizeof *n);
		if (!n)
			return WMQ_E_NOMEM;
		p->subids = n;
		p->subids_cap = cap;
		p->own.sub_ids = n;
	}
	p->subids[p->own.n_sub_ids++] = v;
	p->own.present |= WMQ_PROP_BIT(WMQ_PROP_SUB_ID);
	return WMQ_E_OK;
}

int wmq_properties_add_int(wmq_properties *p, int id, uint32_t value)
{
	const struct pdef *d = def_of(id);
	if (!p || p->view || !d)
		return WMQ_E_INVAL;
	if (d->type != WMQ_PROPTYPE_BYTE && d->type != WMQ_PROPTYPE_U16 &&
	    d->type != WMQ_PROPTYPE_U32 && d->type != WMQ_PROPTYPE_VARINT)
		return WMQ_E_INVAL;
	if (!range_ok(d, value))
		return WMQ_E_INVAL;
	if (id == WMQ_PROP_SUB_ID)
		return push_sub_id(p, value);
	unsigned char *f = (unsigned char *)&p->own + d->off;
	if (d->type == WMQ_PROPTYPE_BYTE) {
		uint8_t v = (uint8_t)value;
		memcpy(f, &v, sizeof v);
	} else if (d->type == WMQ_PROPTYPE_U16) {
		uint16_t v = (uint16_t)value;
		memcpy(f, &v, sizeof v);
	} else {
		memcpy(f, &value, sizeof value);
	}
	p->own.present |= WMQ_PROP_BIT(id);
	return WMQ_E_OK;
}

static int set_bytes(struct wmq_properties *p, const struct pdef *d, int id, const void *data,
		     size_t len)
{
	if (len > 65535 || (len && !data))
		return WMQ_E_INVAL;
	char *copy = wmq_strndup(data ? data : "", len);
	if (!copy)
		return WMQ_E_NOMEM;
	struct wmq_bytes *f = bytes_field(&p->own, d);
	if (p->own.present & WMQ_PROP_BIT(id))
		free_bytes(f);
	f->p = (const uint8_t *)copy;
	f->len = len;
	p->own.present |= WMQ_PROP_BIT(id);
	return WMQ_E_OK;
}

int wmq_properties_add_string(wmq_properties *p, int id, const char *s)
{
	const struct pdef *d = def_of(id);
	if (!p || p->view || !d || !s || d->type != WMQ_PROPTYPE_STRING)
		return WMQ_E_INVAL;
	size_t len = strlen(s);
	if (!wmq_utf8_valid((const uint8_t *)s, len))
		return WMQ_E_INVAL;
	return set_bytes(p, d, id, s, len);
}

int wmq_properties_add_binary(wmq_properties *p, int id, const void *data, size_t len)
{
	const struct pdef *d = def_of(id);
	if (!p || p->view || !d || d->type != WMQ_PROPTYPE_BINARY)
		return WMQ_E_INVAL;
	return set_bytes(p, d, id, data, len);
}

static int push_user(struct wmq_properties *p, const void *k, size_t klen, const void *v,
		     size_t vlen)
{
	if (klen > 65535 || vlen > 65535 || p->own.n_user == UINT16_MAX)
		return WMQ_E_INVAL;
	if (p->own.n_user == p->users_cap) {
		size_t cap = p->users_cap ? p->users_cap * 2 : 4;
		struct wmq_user_prop *n = wmq_reallocarray(p->users, cap, sizeof *n);
		if (!n)
			return WMQ_E_NOMEM;
		p->users = n;
		p->users_cap = cap;
		p->own.user = n;
	}
	char *kc = wmq_strndup(klen ? k : "", klen);
	char *vc = wmq_strndup(vlen ? v : "", vlen);
	if (!kc || !vc) {
		wmq_free(kc);
		wmq_free(vc);
		return WMQ_E_NOMEM;
	}
	struct wmq_user_prop *u = &p->users[p->own.n_user++];
	u->key = (struct wmq_bytes){(const uint8_t *)kc, klen};
	u->value = (struct wmq_bytes){(const uint8_t *)vc, vlen};
	p->own.present |= WMQ_PROP_BIT(WMQ_PROP_USER);
	return WMQ_E_OK;
}

int wmq_properties_add_user(wmq_properties *p, const char *name, const char *value)
{
	if (!p || p->view || !name || !value)
		return WMQ_E_INVAL;
	size_t kl = strlen(name), vl = strlen(value);
	if (!wmq_utf8_valid((const uint8_t *)name, kl) ||
	    !wmq_utf8_valid((const uint8_t *)value, vl))
		return WMQ_E_INVAL;
	return push_user(p, name, kl, value, vl);
}

size_t wmq_properties_remove(wmq_properties *p, int id)
{
	const struct pdef *d = def_of(id);
	size_t n = 0;
	if (!p || p->view || !d)
		return 0;
	if (id == WMQ_PROP_USER) {
		n = p->own.n_user;
		for (size_t i = 0; i < n; i++) {
			free_bytes(&p->users[i].key);
			free_bytes(&p->users[i].value);
		}
		p->own.n_user = 0;
	} else if (id == WMQ_PROP_SUB_ID) {
		n = p->own.n_sub_ids;
		p->own.n_sub_ids = 0;
	} else if (p->own.present & WMQ_PROP_BIT(id)) {
		if (d->type == WMQ_PROPTYPE_STRING || d->type == WMQ_PROPTYPE_BINARY)
			free_bytes(bytes_field(&p->own, d));
		n = 1;
	}
	p->own.present &= ~WMQ_PROP_BIT(id);
	return n;
}

/* ---- reading ------------------------------------------------------------- */

size_t wmq_properties_count(const wmq_properties *p, int id)
{
	if (!p || !def_of(id))
		return 0;
	const struct wmq_props *s = src_of(p);
	if (id == WMQ_PROP_USER)
		return s->n_user;
	if (id == WMQ_PROP_SUB_ID)
		return s->n_sub_ids;
	return (s->present & WMQ_PROP_BIT(id)) ? 1 : 0;
}

bool wmq_properties_has(const wmq_properties *p, int id)
{
	return wmq_properties_count(p, id) > 0;
}

bool wmq_properties_get_int(const wmq_properties *p, int id, uint32_t *value)
{
	const struct pdef *d = def_of(id);
	if (!p || !d || !wmq_properties_has(p, id))
		return false;
	if (id == WMQ_PROP_SUB_ID)
		return wmq_properties_get_sub_id(p, 0, value);
	const unsigned char *f = (const unsigned char *)src_of(p) + d->off;
	switch (d->type) {
	case WMQ_PROPTYPE_BYTE: {
		uint8_t v;
		memcpy(&v, f, sizeof v);
		*value = v;
		return true;
	}
	case WMQ_PROPTYPE_U16: {
		uint16_t v;
		memcpy(&v, f, sizeof v);
		*value = v;
		return true;
	}
	case WMQ_PROPTYPE_U32:
	case WMQ_PROPTYPE_VARINT:
		memcpy(value, f, sizeof *value);
		return true;
	default:
		return false;
	}
}

bool wmq_properties_get_bytes(const wmq_properties *p, int id, const void **data, size_t *len)
{
	const struct pdef *d = def_of(id);
	if (!p || !d || (d->type != WMQ_PROPTYPE_STRING && d->type != WMQ_PROPTYPE_BINARY))
		return false;
	const struct wmq_props *s = src_of(p);
	if (!(s->present & WMQ_PROP_BIT(id)))
		return false;
	struct wmq_bytes b;
	memcpy(&b, (const unsigned char *)s + d->off, sizeof b);
	*data = b.len ? b.p : (const void *)"";
	*len = b.len;
	return true;
}

bool wmq_properties_get_user(const wmq_properties *p, size_t index, const char **name,
			     size_t *name_len, const char **value, size_t *value_len)
{
	if (!p)
		return false;
	const struct wmq_props *s = src_of(p);
	struct wmq_bytes k, v;
	if (index >= s->n_user)
		return false;
	if (s->user) {
		k = s->user[index].key;
		v = s->user[index].value;
	} else {
		size_t pos = 0, i = 0;
		bool ok;
		/* bounded by n_user iterations (each step consumes input) */
		while ((ok = wmq_props_next_user(s, &pos, &k, &v)) && i < index)
			i++;
		if (!ok)
			return false;
	}
	if (name)
		*name = k.len ? (const char *)k.p : "";
	if (name_len)
		*name_len = k.len;
	if (value)
		*value = v.len ? (const char *)v.p : "";
	if (value_len)
		*value_len = v.len;
	return true;
}

bool wmq_properties_get_sub_id(const wmq_properties *p, size_t index, uint32_t *id)
{
	if (!p)
		return false;
	const struct wmq_props *s = src_of(p);
	if (index >= s->n_sub_ids)
		return false;
	if (s->sub_ids) {
		*id = s->sub_ids[index];
		return true;
	}
	size_t pos = 0, i = 0;
	uint32_t v = 0;
	while (wmq_props_next_sub_id(s, &pos, &v)) {
		if (i++ == index) {
			*id = v;
			return true;
		}
	}
	return false;
}

int wmq_properties_copy(const wmq_properties *src, wmq_properties **out)
{
	int rc = WMQ_E_OK;
	wmq_properties *p = NULL;
	if (!src || !out)
		return WMQ_E_INVAL;
	p = wmq_properties_new();
	if (!p)
		return WMQ_E_NOMEM;
	const struct wmq_props *s = src_of(src);
	for (int id = 1; id < (int)WMQ_ARRAY_LEN(defs) && rc == WMQ_E_OK; id++) {
		const struct pdef *d = &defs[id];
		if (!d->name || !(s->present & WMQ_PROP_BIT(id)))
			continue;
		if (id == WMQ_PROP_USER) {
			const char *k, *v;
			size_t kl, vl;
			for (size_t i = 0; rc == WMQ_E_OK && i < s->n_user; i++) {
				if (!wmq_properties_get_user(src, i, &k, &kl, &v, &vl)) {
					rc = WMQ_E_INVAL;
					break;
				}
				rc = push_user(p, k, kl, v, vl);
			}
		} else if (id == WMQ_PROP_SUB_ID) {
			uint32_t v;
			for (size_t i = 0; rc == WMQ_E_OK && i < s->n_sub_ids; i++) {
				if (!wmq_properties_get_sub_id(src, i, &v)) {
					rc = WMQ_E_INVAL;
					break;
				}
				rc = push_sub_id(p, v);
			}
		} else if (d->type == WMQ_PROPTYPE_STRING || d->type == WMQ_PROPTYPE_BINARY) {
			const void *b;
			size_t l;
			if (wmq_properties_get_bytes(src, id, &b, &l))
				rc = set_bytes(p, d, id, b, l);
		} else {
			uint32_t v;
			if (wmq_properties_get_int(src, id, &v)) {
				/* a decoded value is in range already */
				rc = wmq_properties_add_int(p, id, v);
			}
		}
	}
	if (rc != WMQ_E_OK)
		goto out;
	*out = p;
	p = NULL;
out:
	wmq_properties_free(p);
	return rc;
}

/* ---- internal ------------------------------------------------------------ */

int wmq_cprops_check(const wmq_properties *p, int cmd)
{
	if (!p)
		return WMQ_E_OK;
	const struct wmq_props *s = src_of(p);
	for (int id = 1; id < 64; id++) {
		if (!(s->present & WMQ_PROP_BIT(id)))
			continue;
		if (id == WMQ_PROP_USER && s->n_user == 0)
			continue;
		if (id == WMQ_PROP_SUB_ID && s->n_sub_ids == 0)
			continue;
		if (!wmq_property_allowed(id, cmd))
			return WMQ_E_INVAL;
		/* [MQTT-3.3.4-6] a client never sends a Subscription Identifier
		 * in PUBLISH; SUBSCRIBE carries at most one (§3.8.2.1.2) */
		if (id == WMQ_PROP_SUB_ID && (cmd == WMQ_CMD_PUBLISH || s->n_sub_ids > 1))
			return WMQ_E_INVAL;
	}
	return WMQ_E_OK;
}

const struct wmq_props *wmq_cprops_wire(const wmq_properties *p)
{
	static const struct wmq_props empty;
	if (!p)
		return &empty;
	return src_of(p);
}
