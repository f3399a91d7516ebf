/*
 * claim.c — PersistentVolumeClaim <-> JSON, and request validation.
 *
 * Owns: what a valid claim request is (the subset of the API server's
 * decoding and ValidatePersistentVolumeClaim that claimfs supports), and the
 * exact JSON shape of claims and of their PersistentVolumes.
 *
 * Invariants:
 *   - A struct claim owns its json_t members (labels, annotations,
 *     finalizers); claim_release() drops them. Parsers leave *ret_claim
 *     released on failure, so callers release exactly once either way.
 *   - Type errors in a request (a number where a string belongs) are HTTP 400
 *     (-EBADMSG), like the API server's decoder; rule violations are
 *     collected, all of them, as field errors for one HTTP 422 (-EINVAL).
 *   - claim_to_json() output read back by claim_from_stored() renders the
 *     same JSON again (the unit tests hold this round trip).
 */
#include "claim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "selector.h"

/* One access mode: its API spelling and its bit. Table order is render order. */
struct claim_access_mode_name {
	const char *name;
	unsigned bit;
};

static const struct claim_access_mode_name claim_access_mode_names[] = {
	{ "ReadWriteOnce", CLAIM_READ_WRITE_ONCE },
	{ "ReadOnlyMany", CLAIM_READ_ONLY_MANY },
	{ "ReadWriteMany", CLAIM_READ_WRITE_MANY },
	{ "ReadWriteOncePod", CLAIM_READ_WRITE_ONCE_POD },
};
#define CLAIM_ACCESS_MODE_COUNT \
	(sizeof(claim_access_mode_names) / sizeof(claim_access_mode_names[0]))

/* How validation failures are reported back to claim_from_request's caller. */
struct claim_parse {
	char *bad_request;
	size_t bad_request_size;
	struct names_field_errors *errs;
};

void claim_init(struct claim *c)
{
	memset(c, 0, sizeof(*c));
}

void claim_release(struct claim *c)
{
	if (c == NULL)
		return;
	json_decref(c->labels);
	json_decref(c->annotations);
	json_decref(c->finalizers);
	json_decref(c->owner_references);
	json_decref(c->selector);
	json_decref(c->data_source);
	json_decref(c->data_source_ref);
	claim_init(c);
}

/* ---- time ---------------------------------------------------------------- */

int claim_format_time(int64_t seconds, char *buf, size_t size)
{
	time_t t = (time_t)seconds;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -ERANGE;
	return 0;
}

int claim_parse_time(const char *text, int64_t *ret_seconds)
{
	struct tm tm = { 0 };
	int consumed = 0;
	time_t t;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
	    consumed == 0 || text[consumed] != '\0')
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret_seconds = (int64_t)t;
	return 0;
}

/* ---- request parsing --------------------------------------------------------- */

/* JSON type name as Go's encoding/json reports it. */
static const char *claim_json_type_name(const json_t *value)
{
	if (value == NULL)
		return "null";
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_NULL:
	default:
		return "null";
	}
}

/* A value of the wrong JSON type: the decoder's HTTP 400. */
static int claim_type_error(struct claim_parse *p, const char *field, const json_t *value,
			    const char *want)
{
	snprintf(p->bad_request, p->bad_request_size,
		 "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal %s into "
		 "field %s of type %s",
		 CLAIM_KIND, CLAIM_KIND, claim_json_type_name(value), field, want);
	return -EBADMSG;
}

/* Optional string member: *ret NULL when missing or null. */
static int claim_get_string(struct claim_parse *p, const json_t *obj, const char *key,
			    const char *field, const char **ret)
{
	const json_t *value = obj != NULL ? json_object_get(obj, key) : NULL;

	*ret = NULL;
	if (value == NULL || json_is_null(value))
		return 0;
	if (!json_is_string(value))
		return claim_type_error(p, field, value, "string");
	*ret = json_string_value(value);
	return 0;
}

/* Optional object member: *ret NULL when missing or null. */
static int claim_get_object(struct claim_parse *p, const json_t *obj, const char *key,
			    const char *field, const json_t **ret)
{
	const json_t *value = obj != NULL ? json_object_get(obj, key) : NULL;

	*ret = NULL;
	if (value == NULL || json_is_null(value))
		return 0;
	if (!json_is_object(value))
		return claim_type_error(p, field, value, "object");
	*ret = value;
	return 0;
}

/* Copy a map[string]string member (labels, annotations) into *ret (NULL if absent). */
static int claim_copy_string_map(struct claim_parse *p, const json_t *obj, const char *key,
				 const char *field, json_t **ret)
{
	const json_t *map, *value;
	const char *k;
	int r;

	r = claim_get_object(p, obj, key, field, &map);
	if (r < 0 || map == NULL)
		return r;
	json_object_foreach((json_t *)map, k, value)
		if (!json_is_string(value))
			return claim_type_error(p, field, value, "string");
	*ret = json_deep_copy(map);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* Copy an array member whose items must all be of type item (finalizers:
 * strings, ownerReferences: objects) into *ret (NULL if absent); item_name is
 * the Kubernetes type named in errors. */
static int claim_copy_array(struct claim_parse *p, const json_t *obj, const char *key,
			    const char *field, json_type item, const char *item_name, json_t **ret)
{
	const json_t *array = json_object_get(obj, key), *value;
	char array_name[64];
	size_t i;

	if (array == NULL || json_is_null(array))
		return 0;
	snprintf(array_name, sizeof(array_name), "[]%s", item_name);
	if (!json_is_array(array))
		return claim_type_error(p, field, array, array_name);
	json_array_foreach(array, i, value)
		if (json_typeof(value) != item)
			return claim_type_error(p, field, value, item_name);
	*ret = json_deep_copy(array);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* Copy text into a fixed field; false if it does not fit. */
static bool claim_copy(char *dst, size_t size, const char *text)
{
	size_t len = strlen(text);

	if (len >= size)
		return false;
	memcpy(dst, text, len + 1);
	return true;
}

/* metadata.name / metadata.generateName, generating the name when asked. */
static void claim_parse_name(struct claim_parse *p, const char *name, const char *generate_name,
			     const char *random_suffix, struct claim *c)
{
	char msg[NAMES_FIELD_DETAIL_MAX], masked[NAMES_SUBDOMAIN_MAX + 2];
	size_t len;

	if ((name == NULL || name[0] == '\0') && generate_name != NULL && generate_name[0] != '\0') {
		/* Like the API server: a prefix may end in '-' (masked for the check),
		 * is cut to leave room for the suffix, and the result is a name. */
		snprintf(masked, sizeof(masked), "%s", generate_name);
		len = strlen(masked);
		if (len > 1 && masked[len - 1] == '-')
			masked[len - 1] = 'a';
		if (names_check_subdomain(masked, msg, sizeof(msg)) < 0) {
			names_field_error_add(p->errs, NAMES_FIELD_INVALID, "metadata.generateName",
					      generate_name, "%s", msg);
			return;
		}
		claim_copy(c->generate_name, sizeof(c->generate_name), generate_name);
		snprintf(c->name, sizeof(c->name), "%.*s%.*s", (int)CLAIM_GENERATE_PREFIX_MAX,
			 generate_name, CLAIM_GENERATE_SUFFIX_LEN, random_suffix);
		name = c->name;
	}
	if (name == NULL || name[0] == '\0') {
		names_field_error_add(p->errs, NAMES_FIELD_REQUIRED, "metadata.name", NULL,
				      "name or generateName is required");
		return;
	}
	if (names_check_subdomain(name, msg, sizeof(msg)) < 0) {
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "metadata.name", name, "%s", msg);
		c->name[0] = '\0';
		return;
	}
	claim_copy(c->name, sizeof(c->name), name);
}

/* The metadata of a create request. */
static int claim_parse_metadata(struct claim_parse *p, const json_t *body,
				const char *namespace_name, const char *random_suffix,
				bool update, struct claim *c)
{
	const char *name, *generate_name, *ns, *version;
	const json_t *meta;
	char msg[NAMES_FIELD_DETAIL_MAX];
	int r;

	r = claim_get_object(p, body, "metadata", "metadata", &meta);
	if (r < 0)
		return r;
	if ((r = claim_get_string(p, meta, "name", "metadata.name", &name)) < 0 ||
	    (r = claim_get_string(p, meta, "generateName", "metadata.generateName",
				  &generate_name)) < 0 ||
	    (r = claim_get_string(p, meta, "namespace", "metadata.namespace", &ns)) < 0 ||
	    (r = claim_get_string(p, meta, "resourceVersion", "metadata.resourceVersion",
				  &version)) < 0)
		return r;
	if (ns != NULL && ns[0] != '\0' && strcmp(ns, namespace_name) != 0) {
		snprintf(p->bad_request, p->bad_request_size,
			 "the namespace of the provided object does not match the namespace sent "
			 "on the request");
		return -EBADMSG;
	}
	if (!update && version != NULL && version[0] != '\0') {
		snprintf(p->bad_request, p->bad_request_size,
			 "resourceVersion should not be set on objects to be created");
		return -EBADMSG;
	}
	if (meta != NULL) {
		if ((r = claim_copy_string_map(p, meta, "labels", "metadata.labels", &c->labels)) < 0 ||
		    (r = claim_copy_string_map(p, meta, "annotations", "metadata.annotations",
					       &c->annotations)) < 0 ||
		    (r = claim_copy_array(p, meta, "finalizers", "metadata.finalizers", JSON_STRING,
					  "string", &c->finalizers)) < 0 ||
		    (r = claim_copy_array(p, meta, "ownerReferences", "metadata.ownerReferences",
					  JSON_OBJECT, "OwnerReference", &c->owner_references)) < 0)
			return r;
	}
	if (names_check_label(namespace_name, msg, sizeof(msg)) < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "metadata.namespace",
				      namespace_name, "%s", msg);
	else
		claim_copy(c->namespace_name, sizeof(c->namespace_name), namespace_name);
	claim_parse_name(p, name, generate_name, random_suffix, c);
	return 0;
}

/* spec.accessModes: a non-empty list of known modes; ReadWriteOncePod alone. */
static int claim_parse_access_modes(struct claim_parse *p, const json_t *spec, struct claim *c)
{
	const json_t *modes = spec != NULL ? json_object_get(spec, "accessModes") : NULL, *mode;
	size_t i, k;

	if (modes != NULL && !json_is_null(modes) && !json_is_array(modes))
		return claim_type_error(p, "spec.accessModes", modes, "[]PersistentVolumeAccessMode");
	if (modes == NULL || json_array_size(modes) == 0) {
		names_field_error_add(p->errs, NAMES_FIELD_REQUIRED, "spec.accessModes", NULL,
				      "at least 1 access mode is required");
		return 0;
	}
	json_array_foreach(modes, i, mode) {
		if (!json_is_string(mode))
			return claim_type_error(p, "spec.accessModes", mode, "string");
		for (k = 0; k < CLAIM_ACCESS_MODE_COUNT; k++)
			if (strcmp(json_string_value(mode), claim_access_mode_names[k].name) == 0)
				break;
		if (k == CLAIM_ACCESS_MODE_COUNT) {
			names_field_error_add(p->errs, NAMES_FIELD_NOT_SUPPORTED, "spec.accessModes",
					      json_string_value(mode),
					      "supported values: \"ReadOnlyMany\", \"ReadWriteMany\", "
					      "\"ReadWriteOnce\", \"ReadWriteOncePod\"");
			continue;
		}
		c->access_modes |= claim_access_mode_names[k].bit;
	}
	if ((c->access_modes & CLAIM_READ_WRITE_ONCE_POD) &&
	    (c->access_modes & ~(unsigned)CLAIM_READ_WRITE_ONCE_POD))
		names_field_error_add(p->errs, NAMES_FIELD_FORBIDDEN, "spec.accessModes", NULL,
				      "may not use ReadWriteOncePod with other access modes");
	return 0;
}

/* spec.resources.requests.storage: a quantity (string, or a JSON number) > 0. */
static int claim_parse_storage(struct claim_parse *p, const json_t *spec, struct claim *c)
{
	static const char field[] = "spec.resources[storage]";
	const json_t *resources, *requests, *storage;
	char text[QUANTITY_INPUT_MAX + 2];
	int r;

	if ((r = claim_get_object(p, spec, "resources", "spec.resources", &resources)) < 0 ||
	    (r = claim_get_object(p, resources, "requests", "spec.resources.requests",
				  &requests)) < 0)
		return r;
	storage = requests != NULL ? json_object_get(requests, "storage") : NULL;
	if (storage == NULL || json_is_null(storage)) {
		names_field_error_add(p->errs, NAMES_FIELD_REQUIRED, field, NULL, "%s", "");
		return 0;
	}
	if (json_is_string(storage))
		snprintf(text, sizeof(text), "%s", json_string_value(storage));
	else if (json_is_integer(storage))
		snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(storage));
	else if (json_is_real(storage))
		snprintf(text, sizeof(text), "%.17g", json_real_value(storage));
	else
		return claim_type_error(p, "spec.resources.requests", storage, "Quantity");
	r = quantity_parse(text, &c->storage, &c->storage_format);
	if (r == -ERANGE && text[0] == '-')
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, field, text,
				      "must be greater than zero");
	else if (r == -ERANGE)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, field, text,
				      "must be less than 16Ei");
	else if (r < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, field,
				      json_is_string(storage) ? json_string_value(storage) : text,
				      "quantities must match the regular expression "
				      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
	else if (c->storage == 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, field, text,
				      "must be greater than zero");
	return 0;
}

/* spec.dataSource / spec.dataSourceRef: a claim or a VolumeSnapshot to copy. */
static void claim_check_source(struct claim_parse *p, const json_t *source, const char *field)
{
	const char *group = json_string_value(json_object_get(source, "apiGroup"));
	const char *kind = json_string_value(json_object_get(source, "kind"));
	const char *name = json_string_value(json_object_get(source, "name"));
	char path[64];

	snprintf(path, sizeof(path), "%s.name", field);
	if (name == NULL || name[0] == '\0')
		names_field_error_add(p->errs, NAMES_FIELD_REQUIRED, path, NULL, "%s", "");
	snprintf(path, sizeof(path), "%s.kind", field);
	if (kind == NULL || kind[0] == '\0')
		names_field_error_add(p->errs, NAMES_FIELD_REQUIRED, path, NULL, "%s", "");
	else if (!((strcmp(kind, CLAIM_KIND) == 0 && (group == NULL || group[0] == '\0')) ||
		   (strcmp(kind, CLAIM_SNAPSHOT_KIND) == 0 && group != NULL &&
		    strcmp(group, CLAIM_SNAPSHOT_GROUP) == 0)))
		names_field_error_add(p->errs, NAMES_FIELD_NOT_SUPPORTED, path, kind,
				      "supported values: \"PersistentVolumeClaim\", \"%s/%s\"",
				      CLAIM_SNAPSHOT_GROUP, CLAIM_SNAPSHOT_KIND);
}

/* Copy an optional object member into *ret. */
static int claim_keep_object(const json_t *value, json_t **ret)
{
	if (value == NULL)
		return 0;
	*ret = json_deep_copy(value);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* The rest of spec: class, volume mode, binding to a named volume, selector, source. */
static int claim_parse_spec_rest(struct claim_parse *p, const json_t *spec, struct claim *c)
{
	const char *class_name, *volume_mode, *volume_name;
	const json_t *selector, *source, *source_ref;
	char msg[NAMES_FIELD_DETAIL_MAX];
	bool match;
	int r;

	if ((r = claim_get_string(p, spec, "storageClassName", "spec.storageClassName",
				  &class_name)) < 0 ||
	    (r = claim_get_string(p, spec, "volumeMode", "spec.volumeMode", &volume_mode)) < 0 ||
	    (r = claim_get_string(p, spec, "volumeName", "spec.volumeName", &volume_name)) < 0 ||
	    (r = claim_get_object(p, spec, "selector", "spec.selector", &selector)) < 0 ||
	    (r = claim_get_object(p, spec, "dataSource", "spec.dataSource", &source)) < 0 ||
	    (r = claim_get_object(p, spec, "dataSourceRef", "spec.dataSourceRef", &source_ref)) < 0)
		return r;
	c->class_set = class_name != NULL;
	if (class_name != NULL && class_name[0] != '\0' &&
	    names_check_subdomain(class_name, msg, sizeof(msg)) < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec.storageClassName",
				      class_name, "%s", msg);
	else if (class_name != NULL)
		claim_copy(c->storage_class, sizeof(c->storage_class), class_name);
	if (volume_mode != NULL && strcmp(volume_mode, "Filesystem") != 0)
		names_field_error_add(p->errs, NAMES_FIELD_NOT_SUPPORTED, "spec.volumeMode",
				      volume_mode, "supported values: \"Filesystem\"");
	if (volume_name != NULL && volume_name[0] != '\0') {
		if (names_check_subdomain(volume_name, msg, sizeof(msg)) < 0)
			names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec.volumeName",
					      volume_name, "%s", msg);
		else
			claim_copy(c->volume_name, sizeof(c->volume_name), volume_name);
	}
	if (selector != NULL && selector_match_object(selector, NULL, &match) < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec.selector", NULL,
				      "not a valid label selector");
	if (source != NULL)
		claim_check_source(p, source, "spec.dataSource");
	if (source_ref != NULL)
		claim_check_source(p, source_ref, "spec.dataSourceRef");
	if (source != NULL && source_ref != NULL && !json_equal(source, source_ref))
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec", NULL,
				      "must not set both dataSource and dataSourceRef unless they match");
	/* As the API server does: either one fills in the other. */
	if ((r = claim_keep_object(selector, &c->selector)) < 0 ||
	    (r = claim_keep_object(source != NULL ? source : source_ref, &c->data_source)) < 0 ||
	    (r = claim_keep_object(source_ref != NULL ? source_ref : source, &c->data_source_ref)) < 0)
		return r;
	return 0;
}

/* Parse a create (update=false) or update request into *ret_claim. */
static int claim_parse(const json_t *body, const char *namespace_name, const char *random_suffix,
		       bool update, struct claim *ret_claim, char *bad_request,
		       size_t bad_request_size, struct names_field_errors *errs);

int claim_from_request(const json_t *body, const char *namespace_name, const char *random_suffix,
		       struct claim *ret_claim, char *bad_request, size_t bad_request_size,
		       struct names_field_errors *errs)
{
	return claim_parse(body, namespace_name, random_suffix, false, ret_claim, bad_request,
			   bad_request_size, errs);
}

int claim_from_update(const json_t *body, const char *namespace_name, struct claim *ret_claim,
		      char *bad_request, size_t bad_request_size, struct names_field_errors *errs)
{
	return claim_parse(body, namespace_name, "xxxxx", true, ret_claim, bad_request,
			   bad_request_size, errs);
}

static int claim_parse(const json_t *body, const char *namespace_name, const char *random_suffix,
		       bool update, struct claim *ret_claim, char *bad_request,
		       size_t bad_request_size, struct names_field_errors *errs)
{
	struct claim_parse p = { bad_request, bad_request_size, errs };
	const char *api_version, *kind;
	const json_t *spec;
	int r;

	claim_init(ret_claim);
	errs->count = errs->dropped = 0;
	bad_request[0] = '\0';
	if (!json_is_object(body)) {
		r = claim_type_error(&p, "the request body", body, CLAIM_KIND);
		goto out;
	}
	if ((r = claim_get_string(&p, body, "apiVersion", "apiVersion", &api_version)) < 0 ||
	    (r = claim_get_string(&p, body, "kind", "kind", &kind)) < 0)
		goto out;
	if (api_version != NULL && strcmp(api_version, "v1") != 0) {
		snprintf(bad_request, bad_request_size,
			 "the API version in the data (%.100s) does not match the expected API "
			 "version (v1)",
			 api_version);
		r = -EBADMSG;
		goto out;
	}
	if (kind != NULL && strcmp(kind, CLAIM_KIND) != 0) {
		snprintf(bad_request, bad_request_size,
			 "the kind in the data (%.100s) does not match the expected kind (%s)", kind,
			 CLAIM_KIND);
		r = -EBADMSG;
		goto out;
	}
	if ((r = claim_parse_metadata(&p, body, namespace_name, random_suffix, update,
				      ret_claim)) < 0 ||
	    (r = claim_get_object(&p, body, "spec", "spec", &spec)) < 0 ||
	    (r = claim_parse_access_modes(&p, spec, ret_claim)) < 0 ||
	    (r = claim_parse_storage(&p, spec, ret_claim)) < 0 ||
	    (r = claim_parse_spec_rest(&p, spec, ret_claim)) < 0)
		goto out;
	r = errs->count > 0 ? -EINVAL : 0;
out:
	if (r < 0)
		claim_release(ret_claim);
	return r;
}

/* ---- binding ----------------------------------------------------------------- */

/* Set a string member of *obj, creating the object if needed. */
static int claim_set_member(json_t **obj, const char *key, const char *value)
{
	if (*obj == NULL && (*obj = json_object()) == NULL)
		return -ENOMEM;
	return json_object_set_new(*obj, key, json_string(value)) == 0 ? 0 : -ENOMEM;
}

/* Append a finalizer unless it is there already. */
static int claim_add_finalizer(json_t **array, const char *finalizer)
{
	const json_t *value;
	size_t i;

	if (*array == NULL && (*array = json_array()) == NULL)
		return -ENOMEM;
	json_array_foreach(*array, i, value)
		if (strcmp(json_string_value(value), finalizer) == 0)
			return 0;
	return json_array_append_new(*array, json_string(finalizer)) == 0 ? 0 : -ENOMEM;
}

int claim_admit(struct claim *c, const char *uid, int64_t now)
{
	if (!claim_copy(c->uid, sizeof(c->uid), uid))
		return -EINVAL;
	c->creation_time = now;
	return claim_add_finalizer(&c->finalizers, CLAIM_PROTECTION_FINALIZER);
}

int claim_set_bound(struct claim *c, const char *volume_name, uint64_t capacity,
		    unsigned access_modes, bool provisioned)
{
	int r;

	if (!claim_copy(c->volume_name, sizeof(c->volume_name), volume_name))
		return -EINVAL;
	if ((r = claim_set_member(&c->annotations, "pv.kubernetes.io/bind-completed", "yes")) < 0 ||
	    (r = claim_set_member(&c->annotations, "pv.kubernetes.io/bound-by-controller", "yes")) <
		    0)
		return r;
	if (provisioned &&
	    ((r = claim_set_member(&c->annotations, "volume.beta.kubernetes.io/storage-provisioner",
				   CLAIM_PROVISIONER)) < 0 ||
	     (r = claim_set_member(&c->annotations, "volume.kubernetes.io/storage-provisioner",
				   CLAIM_PROVISIONER)) < 0))
		return r;
	c->phase = CLAIM_BOUND;
	c->capacity = capacity;
	c->status_access_modes = access_modes;
	return 0;
}

int claim_bind(struct claim *c, const char *uid, int64_t now)
{
	char volume_name[NAMES_SUBDOMAIN_MAX + 1];
	int r;

	r = claim_admit(c, uid, now);
	if (r < 0)
		return r;
	snprintf(volume_name, sizeof(volume_name), "pvc-%s", uid);
	return claim_set_bound(c, volume_name, c->storage, c->access_modes, true);
}

bool claim_is_read_only(const struct claim *c)
{
	return c->access_modes == CLAIM_READ_ONLY_MANY;
}

/* ---- rendering ------------------------------------------------------------------ */

/* JSON array of the modes in bits, in table order. */
json_t *claim_access_modes_to_json(unsigned bits)
{
	json_t *array = json_array();

	for (size_t i = 0; array != NULL && i < CLAIM_ACCESS_MODE_COUNT; i++)
		if ((bits & claim_access_mode_names[i].bit) &&
		    json_array_append_new(array, json_string(claim_access_mode_names[i].name)) < 0) {
			json_decref(array);
			return NULL;
		}
	return array;
}

void claim_access_modes_short(unsigned bits, char *buf, size_t size)
{
	static const char *const shorts[] = { "RWO", "ROX", "RWX", "RWOP" };
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < CLAIM_ACCESS_MODE_COUNT; i++)
		if (bits & claim_access_mode_names[i].bit)
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
					      n > 0 ? "," : "", shorts[i]);
}

/* Bits of a JSON array of mode names (unknown names are ignored). */
unsigned claim_access_modes_from_json(const json_t *array)
{
	const json_t *value;
	unsigned bits = 0;
	size_t i;

	json_array_foreach(array, i, value)
		for (size_t k = 0; k < CLAIM_ACCESS_MODE_COUNT; k++)
			if (json_is_string(value) &&
			    strcmp(json_string_value(value), claim_access_mode_names[k].name) == 0)
				bits |= claim_access_mode_names[k].bit;
	return bits;
}

static const char *const claim_phase_names[] = { "Pending", "Bound", "Lost" };

/* {"storage": "<canonical quantity>"} */
static json_t *claim_storage_to_json(uint64_t bytes, enum quantity_format format)
{
	char text[QUANTITY_TEXT_MAX];

	if (quantity_format(bytes, format, text, sizeof(text)) < 0)
		return NULL;
	return json_pack("{s:s}", "storage", text);
}

/* Copy of an optional map or list, or NULL when absent or empty (json_pack
 * "o*" then omits it, as the API server omits empty maps and lists). */
static json_t *claim_copy_or_null(const json_t *value)
{
	if (value == NULL || (json_is_object(value) && json_object_size(value) == 0) ||
	    (json_is_array(value) && json_array_size(value) == 0))
		return NULL;
	return json_deep_copy(value);
}

/* metadata of a claim. */
static json_t *claim_metadata_to_json(const struct claim *c)
{
	char created[32] = "", version[24] = "";

	if (c->creation_time != 0 && claim_format_time(c->creation_time, created, sizeof(created)) < 0)
		return NULL;
	if (c->resource_version > 0)
		snprintf(version, sizeof(version), "%lld", (long long)c->resource_version);
	return json_pack("{s:s, s:s*, s:s, s:s*, s:s*, s:s*, s:o*, s:o*, s:o*}", "name", c->name,
			 "generateName", c->generate_name[0] != '\0' ? c->generate_name : NULL,
			 "namespace", c->namespace_name, "uid", c->uid[0] != '\0' ? c->uid : NULL,
			 "resourceVersion", version[0] != '\0' ? version : NULL,
			 "creationTimestamp", created[0] != '\0' ? created : NULL, "labels",
			 claim_copy_or_null(c->labels), "annotations",
			 claim_copy_or_null(c->annotations), "finalizers",
			 claim_copy_or_null(c->finalizers));
}

/* status of a claim: only the phase until it is bound. */
static json_t *claim_status_to_json(const struct claim *c)
{
	if (c->phase != CLAIM_BOUND)
		return json_pack("{s:s}", "phase", claim_phase_names[c->phase]);
	return json_pack("{s:s, s:o, s:o}", "phase", claim_phase_names[c->phase], "accessModes",
			 claim_access_modes_to_json(c->status_access_modes), "capacity",
			 claim_storage_to_json(c->capacity, c->storage_format));
}

/* Set key to a copy of value unless value is NULL (absent). */
static int claim_put_copy(json_t *obj, const char *key, const json_t *value)
{
	if (value == NULL)
		return 0;
	return json_object_set_new(obj, key, json_deep_copy(value)) == 0 ? 0 : -ENOMEM;
}

/* spec of a claim. */
static json_t *claim_spec_to_json(const struct claim *c)
{
	json_t *spec = json_pack("{s:o, s:{s:o}}", "accessModes",
				 claim_access_modes_to_json(c->access_modes), "resources",
				 "requests", claim_storage_to_json(c->storage, c->storage_format));

	if (spec == NULL ||
	    (c->class_set && json_object_set_new(spec, "storageClassName",
						 json_string(c->storage_class)) < 0) ||
	    json_object_set_new(spec, "volumeMode", json_string("Filesystem")) < 0 ||
	    (c->volume_name[0] != '\0' &&
	     json_object_set_new(spec, "volumeName", json_string(c->volume_name)) < 0) ||
	    claim_put_copy(spec, "selector", c->selector) < 0 ||
	    claim_put_copy(spec, "dataSource", c->data_source) < 0 ||
	    claim_put_copy(spec, "dataSourceRef", c->data_source_ref) < 0) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

json_t *claim_to_json(const struct claim *c)
{
	json_t *meta = claim_metadata_to_json(c);

	if (meta != NULL && c->owner_references != NULL && json_array_size(c->owner_references) > 0 &&
	    json_object_set_new(meta, "ownerReferences", json_deep_copy(c->owner_references)) < 0) {
		json_decref(meta);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", "v1", "kind", CLAIM_KIND,
			 "metadata", meta, "spec", claim_spec_to_json(c), "status",
			 claim_status_to_json(c));
}

json_t *claim_volume_to_json(const struct claim *c, const char *volume_uid,
			     const char *reclaim_policy)
{
	char created[32];

	if (c->volume_name[0] == '\0' || claim_format_time(c->creation_time, created, sizeof(created)) < 0)
		return NULL;
	return json_pack("{s:s, s:s,"
			 " s:{s:s, s:s, s:s, s:{s:s}, s:[s]},"
			 " s:{s:o, s:o, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s},"
			 "    s:s, s:s, s:s},"
			 " s:{s:s}}",
			 "apiVersion", "v1", "kind", CLAIM_VOLUME_KIND,
			 "metadata", "name", c->volume_name, "uid", volume_uid, "creationTimestamp",
			 created, "annotations", "pv.kubernetes.io/provisioned-by", CLAIM_PROVISIONER,
			 "finalizers", CLAIM_VOLUME_PROTECTION_FINALIZER,
			 "spec", "accessModes", claim_access_modes_to_json(c->access_modes),
			 "capacity", claim_storage_to_json(c->capacity, c->storage_format),
			 "claimRef", "apiVersion", "v1", "kind", CLAIM_KIND, "namespace",
			 c->namespace_name, "name", c->name, "uid", c->uid,
			 "csi", "driver", CLAIM_PROVISIONER, "volumeHandle", c->volume_name,
			 "persistentVolumeReclaimPolicy", reclaim_policy, "storageClassName",
			 c->storage_class, "volumeMode", "Filesystem",
			 "status", "phase", "Bound");
}

/* ---- stored objects ------------------------------------------------------------- */

/* Copy an optional JSON member of the stored object into *ret. */
static int claim_stored_member(const json_t *obj, const char *key, int (*is_type)(const json_t *),
			       json_t **ret)
{
	const json_t *value = json_object_get(obj, key);

	if (value == NULL)
		return 0;
	if (!is_type(value))
		return -EINVAL;
	*ret = json_deep_copy(value);
	return *ret != NULL ? 0 : -ENOMEM;
}

/* jansson's type tests are macros; these wrap them for claim_stored_member. */
static int claim_is_object(const json_t *value) { return json_is_object(value); }
static int claim_is_array(const json_t *value) { return json_is_array(value); }

int claim_from_stored(const json_t *obj, struct claim *ret_claim)
{
	const char *kind, *name, *ns, *uid = "", *generate_name = "", *created = NULL;
	const char *storage, *class_name = NULL, *volume_name = "", *phase = "Pending";
	const char *capacity = NULL;
	json_t *meta, *modes, *status_modes = NULL;
	enum quantity_format format;
	int r;

	claim_init(ret_claim);
	/* json_unpack only reads, but is declared without const. */
	if (json_unpack((json_t *)obj, "{s:s, s:o, s:{s:o, s:{s:{s:s}}, s?s, s?s}, s?{s?s, s?o, s?{s?s}}}",
			"kind", &kind, "metadata", &meta, "spec", "accessModes", &modes,
			"resources", "requests", "storage", &storage, "storageClassName",
			&class_name, "volumeName", &volume_name, "status", "phase", &phase,
			"accessModes", &status_modes, "capacity", "storage", &capacity) < 0 ||
	    json_unpack(meta, "{s:s, s:s, s?s, s?s, s?s}", "name", &name, "namespace", &ns, "uid",
			&uid, "generateName", &generate_name, "creationTimestamp", &created) < 0 ||
	    strcmp(kind, CLAIM_KIND) != 0 || !json_is_array(modes)) {
		r = -EINVAL;
		goto out;
	}
	if (!claim_copy(ret_claim->name, sizeof(ret_claim->name), name) ||
	    !claim_copy(ret_claim->namespace_name, sizeof(ret_claim->namespace_name), ns) ||
	    !claim_copy(ret_claim->uid, sizeof(ret_claim->uid), uid) ||
	    !claim_copy(ret_claim->generate_name, sizeof(ret_claim->generate_name), generate_name) ||
	    (class_name != NULL &&
	     !claim_copy(ret_claim->storage_class, sizeof(ret_claim->storage_class), class_name)) ||
	    !claim_copy(ret_claim->volume_name, sizeof(ret_claim->volume_name), volume_name)) {
		r = -EINVAL;
		goto out;
	}
	if ((created != NULL && (r = claim_parse_time(created, &ret_claim->creation_time)) < 0) ||
	    (r = quantity_parse(storage, &ret_claim->storage, &ret_claim->storage_format)) < 0 ||
	    (capacity != NULL && (r = quantity_parse(capacity, &ret_claim->capacity, &format)) < 0) ||
	    (r = claim_stored_member(meta, "labels", claim_is_object, &ret_claim->labels)) < 0 ||
	    (r = claim_stored_member(meta, "annotations", claim_is_object,
				     &ret_claim->annotations)) < 0 ||
	    (r = claim_stored_member(meta, "finalizers", claim_is_array, &ret_claim->finalizers)) < 0 ||
	    (r = claim_stored_member(meta, "ownerReferences", claim_is_array,
				     &ret_claim->owner_references)) < 0 ||
	    (r = claim_stored_member(json_object_get(obj, "spec"), "selector", claim_is_object,
				     &ret_claim->selector)) < 0 ||
	    (r = claim_stored_member(json_object_get(obj, "spec"), "dataSource", claim_is_object,
				     &ret_claim->data_source)) < 0 ||
	    (r = claim_stored_member(json_object_get(obj, "spec"), "dataSourceRef", claim_is_object,
				     &ret_claim->data_source_ref)) < 0)
		goto out;
	ret_claim->class_set = class_name != NULL;
	ret_claim->access_modes = claim_access_modes_from_json(modes);
	ret_claim->status_access_modes =
		status_modes != NULL ? claim_access_modes_from_json(status_modes) : 0;
	ret_claim->phase = CLAIM_PENDING;
	for (size_t i = 0; i < sizeof(claim_phase_names) / sizeof(claim_phase_names[0]); i++)
		if (strcmp(phase, claim_phase_names[i]) == 0)
			ret_claim->phase = (enum claim_phase)i;
	r = 0;
out:
	if (r < 0)
		claim_release(ret_claim);
	return r;
}
