/*
 * api_protobuf.c — request bodies in application/vnd.kubernetes.protobuf, as
 * far as stock kubectl sends them: its typed create commands (`kubectl
 * create namespace x`) post protobuf whatever the server's discovery says.
 *
 * Owns: the protobuf envelope ("k8s\0" + runtime.Unknown{typeMeta, raw})
 * and the messages of the kinds it knows: ObjectMeta's client-set fields,
 * Namespace (metadata, spec.finalizers), and the self reviews `kubectl auth
 * can-i` and `whoami` post (their specs, described by field tables; the
 * numbers are those of k8s.io/api's generated.proto). A body of any other kind is
 * 415, as for any format we cannot read; the answer is JSON, which the
 * client accepts too.
 */
#include "api_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A read position in a protobuf message. */
struct api_pb {
	const unsigned char *p, *end;
};

static int api_pb_varint(struct api_pb *b, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (b->p >= b->end)
			return -EBADMSG;
		v |= (uint64_t)(*b->p & 0x7f) << shift;
		if ((*b->p++ & 0x80) == 0) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

/* The next field: its number, and for length-delimited ones the bytes. */
static int api_pb_field(struct api_pb *b, unsigned *ret_number, struct api_pb *ret_bytes)
{
	uint64_t key, len;
	int r;

	r = api_pb_varint(b, &key);
	if (r < 0)
		return r;
	*ret_number = (unsigned)(key >> 3);
	memset(ret_bytes, 0, sizeof(*ret_bytes));
	switch (key & 7) {
	case 0:
		return api_pb_varint(b, &len);
	case 1:
		len = 8;
		break;
	case 5:
		len = 4;
		break;
	case 2:
		r = api_pb_varint(b, &len);
		if (r < 0)
			return r;
		ret_bytes->p = b->p;
		ret_bytes->end = b->p + len;
		break;
	default:
		return -EBADMSG;
	}
	if (len > (uint64_t)(b->end - b->p))
		return -EBADMSG;
	b->p += len;
	return 0;
}

static json_t *api_pb_string(const struct api_pb *s)
{
	return json_stringn((const char *)s->p, (size_t)(s->end - s->p));
}

/* A map<string,string> entry {1: key, 2: value} into map. */
static int api_pb_map_entry(struct api_pb entry, json_t *map)
{
	struct api_pb bytes, key = { NULL, NULL }, value = { NULL, NULL };
	char name[512];
	unsigned n;
	int r;

	while (entry.p < entry.end) {
		r = api_pb_field(&entry, &n, &bytes);
		if (r < 0)
			return r;
		if (n == 1)
			key = bytes;
		else if (n == 2)
			value = bytes;
	}
	if (key.p == NULL || (size_t)(key.end - key.p) >= sizeof(name))
		return -EBADMSG;
	memcpy(name, key.p, (size_t)(key.end - key.p));
	name[key.end - key.p] = '\0';
	return json_object_set_new(map, name, value.p != NULL ? api_pb_string(&value)
							      : json_string("")) == 0
		       ? 0
		       : -EBADMSG;
}

/* Append a string to the array at obj[key]. */
static int api_pb_append(json_t *obj, const char *key, const struct api_pb *s)
{
	json_t *list = json_object_get(obj, key);

	if (list == NULL && json_object_set_new(obj, key, list = json_array()) < 0)
		return -ENOMEM;
	return json_array_append_new(list, api_pb_string(s)) == 0 ? 0 : -EBADMSG;
}

/* ObjectMeta: the fields a client sets on create. */
static int api_pb_meta(struct api_pb b, json_t *meta)
{
	static const char *const strings[] = { [1] = "name", [2] = "generateName",
					       [3] = "namespace", [6] = "resourceVersion" };
	struct api_pb bytes;
	unsigned n;
	int r = 0;

	while (r == 0 && b.p < b.end) {
		r = api_pb_field(&b, &n, &bytes);
		if (r < 0)
			break;
		/* proto3 sends empty strings for unset fields: they stay unset. */
		if (n < sizeof(strings) / sizeof(strings[0]) && strings[n] != NULL && bytes.p != NULL &&
		    bytes.p < bytes.end)
			r = json_object_set_new(meta, strings[n], api_pb_string(&bytes)) == 0 ? 0
											     : -EBADMSG;
		else if ((n == 11 || n == 12) && bytes.p != NULL) {
			const char *key = n == 11 ? "labels" : "annotations";

			if (json_object_get(meta, key) == NULL)
				json_object_set_new(meta, key, json_object());
			r = api_pb_map_entry(bytes, json_object_get(meta, key));
		} else if (n == 14 && bytes.p != NULL)
			r = api_pb_append(meta, "finalizers", &bytes);
	}
	return r;
}

/* A Namespace {1: metadata, 2: spec {1: finalizers}}. */
static int api_pb_namespace(struct api_pb b, json_t *obj)
{
	struct api_pb bytes, spec_field;
	json_t *meta = json_object(), *spec = json_object();
	unsigned n, m;
	int r = meta != NULL && spec != NULL ? 0 : -ENOMEM;

	if (r == 0 && (json_object_set(obj, "metadata", meta) < 0 ||
		       json_object_set(obj, "spec", spec) < 0))
		r = -ENOMEM;
	while (r == 0 && b.p < b.end) {
		r = api_pb_field(&b, &n, &bytes);
		if (r == 0 && n == 1 && bytes.p != NULL)
			r = api_pb_meta(bytes, meta);
		while (r == 0 && n == 2 && bytes.p != NULL && bytes.p < bytes.end) {
			r = api_pb_field(&bytes, &m, &spec_field);
			if (r == 0 && m == 1 && spec_field.p != NULL)
				r = api_pb_append(spec, "finalizers", &spec_field);
		}
	}
	json_decref(meta);
	json_decref(spec);
	return r;
}

/* One field of a message read by api_pb_message. */
enum api_pb_type { API_PB_END, API_PB_STRING, API_PB_MESSAGE, API_PB_META };

struct api_pb_desc {
	unsigned number;
	enum api_pb_type type;
	const char *name;              /* its JSON name */
	const struct api_pb_desc *sub; /* API_PB_MESSAGE: its fields */
};

/* authorization/v1 ResourceAttributes, NonResourceAttributes and the specs. */
static const struct api_pb_desc api_pb_resource_attributes[] = {
	{ 1, API_PB_STRING, "namespace", NULL }, { 2, API_PB_STRING, "verb", NULL },
	{ 3, API_PB_STRING, "group", NULL },     { 4, API_PB_STRING, "version", NULL },
	{ 5, API_PB_STRING, "resource", NULL },  { 6, API_PB_STRING, "subresource", NULL },
	{ 7, API_PB_STRING, "name", NULL },      { 0, API_PB_END, NULL, NULL },
};
static const struct api_pb_desc api_pb_non_resource_attributes[] = {
	{ 1, API_PB_STRING, "path", NULL },
	{ 2, API_PB_STRING, "verb", NULL },
	{ 0, API_PB_END, NULL, NULL },
};
static const struct api_pb_desc api_pb_access_spec[] = {
	{ 1, API_PB_MESSAGE, "resourceAttributes", api_pb_resource_attributes },
	{ 2, API_PB_MESSAGE, "nonResourceAttributes", api_pb_non_resource_attributes },
	{ 0, API_PB_END, NULL, NULL },
};
static const struct api_pb_desc api_pb_rules_spec[] = {
	{ 1, API_PB_STRING, "namespace", NULL },
	{ 0, API_PB_END, NULL, NULL },
};
/* The reviews themselves: metadata 1, spec 2 (status is the server's). */
static const struct api_pb_desc api_pb_access_review[] = {
	{ 1, API_PB_META, "metadata", NULL },
	{ 2, API_PB_MESSAGE, "spec", api_pb_access_spec },
	{ 0, API_PB_END, NULL, NULL },
};
static const struct api_pb_desc api_pb_rules_review[] = {
	{ 1, API_PB_META, "metadata", NULL },
	{ 2, API_PB_MESSAGE, "spec", api_pb_rules_spec },
	{ 0, API_PB_END, NULL, NULL },
};
static const struct api_pb_desc api_pb_self_review[] = {
	{ 1, API_PB_META, "metadata", NULL },
	{ 0, API_PB_END, NULL, NULL },
};

/* The object at obj[key], made empty if absent; NULL: out of memory. */
static json_t *api_pb_child(json_t *obj, const char *key)
{
	json_t *child = json_object_get(obj, key);

	if (child == NULL && json_object_set_new(obj, key, child = json_object()) < 0)
		return NULL;
	return child;
}

/* The fields of desc in message b into obj; unknown fields are skipped (a
 * newer client's additions), a message present but empty stays present
 * (resourceAttributes: {} differs from none). */
static int api_pb_message(struct api_pb b, json_t *obj, const struct api_pb_desc *desc)
{
	struct api_pb bytes;
	unsigned n;
	int r = 0;

	while (r == 0 && b.p < b.end) {
		const struct api_pb_desc *d = desc;
		json_t *child;

		r = api_pb_field(&b, &n, &bytes);
		while (r == 0 && d->type != API_PB_END && d->number != n)
			d++;
		if (r < 0 || d->type == API_PB_END || bytes.p == NULL)
			continue;
		if (d->type == API_PB_STRING) {
			/* Unset strings arrive empty: they stay unset. */
			if (bytes.p < bytes.end &&
			    json_object_set_new(obj, d->name, api_pb_string(&bytes)) < 0)
				r = -EBADMSG;
			continue;
		}
		child = api_pb_child(obj, d->name);
		if (child == NULL)
			r = -ENOMEM;
		else
			r = d->type == API_PB_META ? api_pb_meta(bytes, child)
						   : api_pb_message(bytes, child, d->sub);
	}
	return r;
}

/* The kinds a protobuf body may hold: a field table, or for a Namespace its
 * own reader. */
static const struct {
	const char *api_version;
	const char *kind;
	const struct api_pb_desc *desc;
} api_pb_kinds[] = {
	{ "v1", "Namespace", NULL },
	{ "authorization.k8s.io/v1", "SelfSubjectAccessReview", api_pb_access_review },
	{ "authorization.k8s.io/v1", "SelfSubjectRulesReview", api_pb_rules_review },
	{ "authentication.k8s.io/v1", "SelfSubjectReview", api_pb_self_review },
};

int api_protobuf_decode(const char *data, size_t len, json_t **ret_body, char *msg, size_t size)
{
	struct api_pb b = { (const unsigned char *)data, (const unsigned char *)data + len };
	struct api_pb bytes, raw = { NULL, NULL }, tm;
	char api_version[64] = "", kind[64] = "";
	size_t k = sizeof(api_pb_kinds) / sizeof(api_pb_kinds[0]);
	json_t *obj;
	unsigned n;
	int r = 0;

	if (len < 4 || memcmp(data, "k8s\0", 4) != 0)
		goto unknown; /* not the envelope: not protobuf we could read */
	b.p += 4;
	while (b.p < b.end) {
		if (api_pb_field(&b, &n, &bytes) < 0)
			goto bad;
		if (n == 2 && bytes.p != NULL)
			raw = bytes;
		while (n == 1 && bytes.p != NULL && bytes.p < bytes.end) {
			unsigned m;

			if (api_pb_field(&bytes, &m, &tm) < 0)
				goto bad;
			if ((m == 1 || m == 2) && tm.p != NULL)
				snprintf(m == 1 ? api_version : kind, sizeof(kind), "%.*s",
					 (int)(tm.end - tm.p), (const char *)tm.p);
		}
	}
	for (size_t i = 0; i < sizeof(api_pb_kinds) / sizeof(api_pb_kinds[0]); i++)
		if (strcmp(api_pb_kinds[i].kind, kind) == 0 &&
		    strcmp(api_pb_kinds[i].api_version, api_version) == 0)
			k = i;
	if (k == sizeof(api_pb_kinds) / sizeof(api_pb_kinds[0]) || raw.p == NULL)
		goto unknown;
	obj = json_pack("{s:s, s:s}", "apiVersion", api_version, "kind", kind);
	if (obj == NULL)
		return -ENOMEM;
	r = api_pb_kinds[k].desc != NULL ? api_pb_message(raw, obj, api_pb_kinds[k].desc)
					 : api_pb_namespace(raw, obj);
	if (r < 0) {
		json_decref(obj);
		goto bad;
	}
	*ret_body = obj;
	return 0;
bad:
	snprintf(msg, size, "the protobuf body of the request cannot be decoded");
	return -EBADMSG;
unknown:
	snprintf(msg, size, "the body of the request was in an unknown format - accepted media "
		 "types include: application/json, application/yaml");
	return -EMEDIUMTYPE;
}
