/*
 * api_schema.c — unknown and duplicate fields of request bodies, checked
 * against the generated table (api_schema_table.c).
 *
 * Three checks, because the API server reports in three orders:
 *   - api_schema_scan_json reads JSON text once, in document order, as the
 *     strict JSON decoder of create and update does; it is the only place
 *     that sees duplicate keys of a JSON body (the parsed tree keeps the
 *     last value of a repeated key, as Go does).
 *   - api_schema_walk visits a decoded tree in sorted key order, as the
 *     server does for YAML bodies and patched objects (both go through a
 *     map first), and prunes what it reports.
 *   - api_schema_apply_check names fields as server-side apply does.
 * Inside "raw" fields (int-or-string, RawExtension, fieldsV1) nothing is
 * checked, as x-kubernetes-preserve-unknown-fields would have it.
 */
#include "api_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting scanned; jansson's parser allows more, deeper is skipped. */
#define API_SCHEMA_DEPTH_MAX 256

int api_schema_find(const char *name)
{
	for (unsigned i = 0; i < api_schema_type_count; i++)
		if (strcmp(api_schema_types[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* OpenAPI package of each group's types in the table. */
static const struct {
	const char *group;
	const char *package;
} api_schema_packages[] = {
	{ "", "io.k8s.api.core.v1." },
	{ "apps", "io.k8s.api.apps.v1." },
	{ "autoscaling", "io.k8s.api.autoscaling.v1." },
	{ "storage.k8s.io", "io.k8s.api.storage.v1." },
	{ "snapshot.storage.k8s.io", "io.k8s.api.snapshot.v1." },
	{ "events.k8s.io", "io.k8s.api.events.v1." },
	{ "authorization.k8s.io", "io.k8s.api.authorization.v1." },
	{ "authentication.k8s.io", "io.k8s.api.authentication.v1." },
};

int api_schema_kind_type(const char *group, const char *kind)
{
	char name[160];

	for (size_t i = 0; i < sizeof(api_schema_packages) / sizeof(api_schema_packages[0]); i++)
		if (strcmp(api_schema_packages[i].group, group) == 0) {
			snprintf(name, sizeof(name), "%s%s", api_schema_packages[i].package, kind);
			return api_schema_find(name);
		}
	return -1;
}

const struct api_schema_field *api_schema_field(int type, const char *name)
{
	const struct api_schema_type *t;
	unsigned lo = 0, hi;

	if (type < 0 || (unsigned)type >= api_schema_type_count)
		return NULL;
	t = &api_schema_types[type];
	hi = t->count;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int c = strcmp(name, t->fields[mid].name);

		if (c == 0)
			return &t->fields[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- problems ------------------------------------------------------------------ */

int api_schema_problem(struct api_schema_problems *p, bool yaml, const char *format, ...)
{
	va_list ap;
	char *text;
	int n;

	if (p->count == API_SCHEMA_PROBLEMS_MAX) {
		p->truncated = true;
		return 0;
	}
	va_start(ap, format);
	n = vasprintf(&text, format, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	p->yaml[p->count] = yaml;
	p->text[p->count++] = text;
	return 0;
}

void api_schema_problems_clear(struct api_schema_problems *p)
{
	for (unsigned i = 0; i < p->count; i++)
		free(p->text[i]);
	p->count = 0;
	p->truncated = false;
}

/* path + "." + name (or just name at the top), cut to the buffer. */
static void api_schema_join(char *buf, size_t size, const char *path, const char *name)
{
	snprintf(buf, size, "%s%s%s", path, path[0] != '\0' ? "." : "", name);
}

/* ---- the JSON scanner ------------------------------------------------------------ */

/* What the value at the scan position is expected to be. */
struct api_schema_expect {
	int kind; /* enum api_schema_kind; API_SCHEMA_NONE: no schema (duplicates only) */
	int elem;
	int type;
};

struct api_schema_scan {
	const char *p, *end;
	struct api_schema_problems *out;
	bool schemaless; /* duplicates anywhere, no unknown fields */
};

static void api_schema_skip_space(struct api_schema_scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* A string at s->p (the opening quote), decoded into a new reference. */
static json_t *api_schema_string(struct api_schema_scan *s)
{
	const char *start = s->p;
	bool escaped = false;
	json_t *value;

	for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
		if (*s->p == '\\') {
			escaped = true;
			s->p++;
		}
	s->p++;
	if (s->p > s->end)
		return NULL;
	if (escaped)
		return json_loadb(start, (size_t)(s->p - start), JSON_DECODE_ANY, NULL);
	value = json_stringn_nocheck(start + 1, (size_t)(s->p - start - 2));
	return value;
}

static int api_schema_scan_value(struct api_schema_scan *s, struct api_schema_expect e,
				 const char *path, unsigned depth);

/* What a member of an object expected as e is expected to be; *known false
 * when the object's type has no such field. */
static struct api_schema_expect api_schema_member(struct api_schema_expect e, const char *name,
						  bool *known)
{
	struct api_schema_expect none = { API_SCHEMA_NONE, API_SCHEMA_NONE, -1 };
	struct api_schema_expect raw = { API_SCHEMA_RAW, API_SCHEMA_NONE, -1 };
	const struct api_schema_field *f;

	*known = true;
	if (e.kind == API_SCHEMA_MAP)
		return (struct api_schema_expect){ e.elem, API_SCHEMA_NONE, e.type };
	if (e.kind != API_SCHEMA_OBJECT)
		return e.kind == API_SCHEMA_NONE ? none : raw;
	f = api_schema_field(e.type, name);
	if (f == NULL) {
		*known = false;
		return raw;
	}
	return (struct api_schema_expect){ f->kind, f->elem, f->type };
}

/* An object at s->p ('{'). */
static int api_schema_scan_object(struct api_schema_scan *s, struct api_schema_expect e,
				  const char *path, unsigned depth)
{
	bool check = e.kind == API_SCHEMA_OBJECT || e.kind == API_SCHEMA_MAP || s->schemaless;
	json_t *seen = check ? json_object() : NULL;
	char child[API_SCHEMA_PATH_MAX];
	int r = 0;

	if (check && seen == NULL)
		return -ENOMEM;
	s->p++;
	for (;;) {
		struct api_schema_expect member;
		json_t *key;
		bool known;

		api_schema_skip_space(s);
		if (s->p >= s->end || *s->p == '}')
			break;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		key = api_schema_string(s);
		if (key == NULL) {
			r = -ENOMEM;
			break;
		}
		member = api_schema_member(e, json_string_value(key), &known);
		api_schema_join(child, sizeof(child), path, json_string_value(key));
		if (check && !known && !s->schemaless) {
			if (json_object_get(seen, json_string_value(key)) == NULL)
				r = api_schema_problem(s->out, false, "unknown field \"%s\"", child);
		} else if (check && json_object_get(seen, json_string_value(key)) != NULL) {
			r = api_schema_problem(s->out, false, "duplicate field \"%s\"", child);
		}
		if (r == 0 && check && json_object_set(seen, json_string_value(key), json_true()) < 0)
			r = -ENOMEM;
		json_decref(key);
		api_schema_skip_space(s);
		if (r < 0 || s->p >= s->end || *s->p != ':')
			break;
		s->p++;
		r = api_schema_scan_value(s, member, child, depth + 1);
		if (r < 0)
			break;
	}
	s->p++;
	json_decref(seen);
	return r;
}

/* An array at s->p ('['). */
static int api_schema_scan_array(struct api_schema_scan *s, struct api_schema_expect e,
				 const char *path, unsigned depth)
{
	struct api_schema_expect element = { API_SCHEMA_RAW, API_SCHEMA_NONE, -1 };
	char child[API_SCHEMA_PATH_MAX];
	unsigned index = 0;
	int r = 0;

	if (e.kind == API_SCHEMA_ARRAY)
		element = (struct api_schema_expect){ e.elem, API_SCHEMA_NONE, e.type };
	else if (s->schemaless)
		element.kind = API_SCHEMA_NONE;
	s->p++;
	for (;;) {
		api_schema_skip_space(s);
		if (s->p >= s->end || *s->p == ']')
			break;
		if (*s->p == ',') {
			s->p++;
			continue;
		}
		snprintf(child, sizeof(child), "%s[%u]", path, index++);
		r = api_schema_scan_value(s, element, child, depth + 1);
		if (r < 0)
			break;
	}
	s->p++;
	return r;
}

/* Any value at s->p. */
static int api_schema_scan_value(struct api_schema_scan *s, struct api_schema_expect e,
				 const char *path, unsigned depth)
{
	api_schema_skip_space(s);
	if (s->p >= s->end)
		return 0;
	if (depth > API_SCHEMA_DEPTH_MAX)
		e.kind = API_SCHEMA_RAW;
	switch (*s->p) {
	case '{':
		if (depth > API_SCHEMA_DEPTH_MAX)
			break;
		return api_schema_scan_object(s, e, path, depth);
	case '[':
		if (depth > API_SCHEMA_DEPTH_MAX)
			break;
		return api_schema_scan_array(s, e, path, depth);
	case '"': {
		json_t *value = api_schema_string(s);

		json_decref(value);
		return value != NULL ? 0 : -ENOMEM;
	}
	default:
		while (s->p < s->end && strchr(",}] \t\r\n", *s->p) == NULL)
			s->p++;
		return 0;
	}
	/* Too deep to look into: skip it whole, counting brackets outside strings. */
	for (unsigned level = 0; s->p < s->end; s->p++) {
		if (*s->p == '"') {
			json_decref(api_schema_string(s));
			s->p--;
		} else if (*s->p == '{' || *s->p == '[') {
			level++;
		} else if ((*s->p == '}' || *s->p == ']') && --level == 0) {
			s->p++;
			break;
		}
	}
	return 0;
}

int api_schema_scan_json(const char *text, size_t len, int type, struct api_schema_problems *out)
{
	struct api_schema_scan s = { text, text + len, out, type < 0 };
	struct api_schema_expect e = { type < 0 ? API_SCHEMA_NONE : API_SCHEMA_OBJECT,
				       API_SCHEMA_NONE, type };

	return api_schema_scan_value(&s, e, "", 0);
}

/* ---- the tree walk ----------------------------------------------------------------- */

static int api_schema_walk_at(json_t *value, struct api_schema_expect e, bool prune,
			      bool skip_directives, struct api_schema_problems *out,
			      const char *path, unsigned depth);

/* Keys of obj in sorted order (a new array of strings). */
static json_t *api_schema_sorted_keys(const json_t *obj)
{
	json_t *keys = json_array(), *unused;
	const char *key;
	size_t n;

	if (keys == NULL)
		return NULL;
	json_object_foreach((json_t *)obj, key, unused)
		if (json_array_append_new(keys, json_string_nocheck(key)) < 0) {
			json_decref(keys);
			return NULL;
		}
	n = json_array_size(keys);
	/* Insertion sort: objects here hold tens of keys. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(keys, j - 1)),
						   json_string_value(json_array_get(keys, j))) > 0; j--) {
			json_t *a = json_incref(json_array_get(keys, j - 1));

			json_array_set(keys, j - 1, json_array_get(keys, j));
			json_array_set_new(keys, j, a);
		}
	return keys;
}

static int api_schema_walk_object(json_t *obj, struct api_schema_expect e, bool prune,
				  bool skip_directives, struct api_schema_problems *out,
				  const char *path, unsigned depth)
{
	json_t *keys = api_schema_sorted_keys(obj), *key;
	char child[API_SCHEMA_PATH_MAX];
	size_t i;
	int r = 0;

	if (keys == NULL)
		return -ENOMEM;
	json_array_foreach(keys, i, key) {
		const char *name = json_string_value(key);
		struct api_schema_expect member;
		bool known;

		if (skip_directives && name[0] == '$')
			continue;
		member = api_schema_member(e, name, &known);
		api_schema_join(child, sizeof(child), path, name);
		if (!known) {
			if (out != NULL)
				r = api_schema_problem(out, false, "unknown field \"%s\"", child);
			if (r == 0 && prune)
				json_object_del(obj, name);
		} else {
			r = api_schema_walk_at(json_object_get(obj, name), member, prune,
					       skip_directives, out, child, depth + 1);
		}
		if (r < 0)
			break;
	}
	json_decref(keys);
	return r;
}

static int api_schema_walk_at(json_t *value, struct api_schema_expect e, bool prune,
			      bool skip_directives, struct api_schema_problems *out,
			      const char *path, unsigned depth)
{
	char child[API_SCHEMA_PATH_MAX];
	json_t *element;
	size_t i;
	int r;

	if (depth > API_SCHEMA_DEPTH_MAX)
		return 0;
	if (json_is_object(value) && (e.kind == API_SCHEMA_OBJECT || e.kind == API_SCHEMA_MAP))
		return api_schema_walk_object(value, e, prune, skip_directives, out, path, depth);
	if (json_is_array(value) && e.kind == API_SCHEMA_ARRAY &&
	    (e.elem == API_SCHEMA_OBJECT || e.elem == API_SCHEMA_ARRAY || e.elem == API_SCHEMA_MAP))
		json_array_foreach(value, i, element) {
			snprintf(child, sizeof(child), "%s[%zu]", path, i);
			r = api_schema_walk_at(element,
					       (struct api_schema_expect){ e.elem, API_SCHEMA_NONE,
									   e.type },
					       prune, skip_directives, out, child, depth + 1);
			if (r < 0)
				return r;
		}
	return 0;
}

int api_schema_walk(json_t *value, int type, bool prune, bool skip_directives,
		    struct api_schema_problems *out)
{
	struct api_schema_expect e = { API_SCHEMA_OBJECT, API_SCHEMA_NONE, type };

	if (type < 0)
		return 0;
	return api_schema_walk_at(value, e, prune, skip_directives, out, "", 0);
}

/* ---- server-side apply ------------------------------------------------------------- */

/* The keys of list elements server-side apply names them by (the merge keys
 * of the lists a claimfs object can hold); other lists go by index. */
static const struct {
	const char *list;
	const char *key;
} api_schema_list_keys[] = {
	{ "containers", "name" },     { "initContainers", "name" }, { "ephemeralContainers", "name" },
	{ "volumes", "name" },        { "env", "name" },            { "imagePullSecrets", "name" },
	{ "volumeMounts", "mountPath" }, { "volumeDevices", "devicePath" }, { "conditions", "type" },
};

/* The path element of element i of the list called list. */
static void api_schema_apply_element(char *buf, size_t size, const char *path, const char *list,
				     const json_t *element, size_t i)
{
	for (size_t k = 0; k < sizeof(api_schema_list_keys) / sizeof(api_schema_list_keys[0]); k++) {
		const char *value = json_string_value(json_object_get(element, api_schema_list_keys[k].key));

		if (strcmp(list, api_schema_list_keys[k].list) == 0 && value != NULL) {
			snprintf(buf, size, "%s[%s=\"%s\"]", path, api_schema_list_keys[k].key, value);
			return;
		}
	}
	snprintf(buf, size, "%s[%zu]", path, i);
}

static int api_schema_apply_at(const json_t *value, struct api_schema_expect e, const char *name,
			       struct api_schema_problems *out, const char *path, unsigned depth)
{
	char child[API_SCHEMA_PATH_MAX];
	const json_t *element;
	json_t *keys, *key;
	size_t i;
	int r = 0;

	if (depth > API_SCHEMA_DEPTH_MAX)
		return 0;
	if (json_is_array(value) && e.kind == API_SCHEMA_ARRAY) {
		json_array_foreach(value, i, element) {
			api_schema_apply_element(child, sizeof(child), path, name, element, i);
			r = api_schema_apply_at(element,
						(struct api_schema_expect){ e.elem, API_SCHEMA_NONE,
									    e.type },
						"", out, child, depth + 1);
			if (r < 0)
				break;
		}
		return r;
	}
	if (!json_is_object(value) || (e.kind != API_SCHEMA_OBJECT && e.kind != API_SCHEMA_MAP))
		return 0;
	keys = api_schema_sorted_keys(value);
	if (keys == NULL)
		return -ENOMEM;
	json_array_foreach(keys, i, key) {
		struct api_schema_expect member;
		bool known;

		member = api_schema_member(e, json_string_value(key), &known);
		snprintf(child, sizeof(child), "%s.%s", path, json_string_value(key));
		if (!known) {
			/* The walk of this object stops at its first unknown field. */
			r = api_schema_problem(out, false, "%s: field not declared in schema", child);
			break;
		}
		r = api_schema_apply_at(json_object_get(value, json_string_value(key)), member,
					json_string_value(key), out, child, depth + 1);
		if (r < 0)
			break;
	}
	json_decref(keys);
	return r;
}

int api_schema_apply_check(const json_t *value, int type, struct api_schema_problems *out)
{
	struct api_schema_expect e = { API_SCHEMA_OBJECT, API_SCHEMA_NONE, type };

	if (type < 0)
		return 0;
	return api_schema_apply_at(value, e, "", out, "", 0);
}
