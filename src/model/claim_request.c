/*
 * claim_request.c — a PersistentVolumeClaim request (create, or the whole
 * object of an update) decoded and validated into a struct claim.
 *
 * Owns: what a valid claim request is (the subset of the API server's
 * decoding and ValidatePersistentVolumeClaim that claimfs supports). Type
 * errors (a number where a string belongs) are HTTP 400 (-EBADMSG) with one
 * message, like the API server's decoder; rule violations are collected,
 * all of them, as field errors for one HTTP 422 (-EINVAL). Calls claim.c
 * for the claim's storage and access-mode names, never the reverse.
 */
#include "claim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "selector.h"

/* How validation failures are reported back to claim_from_request's caller. */
struct claim_parse {
	char *bad_request;
	size_t bad_request_size;
	struct names_field_errors *errs;
};

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
		claim_copy_text(c->generate_name, sizeof(c->generate_name), generate_name);
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
	claim_copy_text(c->name, sizeof(c->name), name);
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
		names_check_metadata(meta, p->errs);
	}
	if (names_check_label(namespace_name, msg, sizeof(msg)) < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "metadata.namespace",
				      namespace_name, "%s", msg);
	else
		claim_copy_text(c->namespace_name, sizeof(c->namespace_name), namespace_name);
	claim_parse_name(p, name, generate_name, random_suffix, c);
	return 0;
}

/* spec.accessModes: a non-empty list of known modes; ReadWriteOncePod alone. */
static int claim_parse_access_modes(struct claim_parse *p, const json_t *spec, struct claim *c)
{
	const json_t *modes = spec != NULL ? json_object_get(spec, "accessModes") : NULL, *mode;
	unsigned bit;
	size_t i;

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
		bit = claim_access_mode_bit(json_string_value(mode));
		if (bit == 0) {
			names_field_error_add(p->errs, NAMES_FIELD_NOT_SUPPORTED, "spec.accessModes",
					      json_string_value(mode),
					      "supported values: \"ReadOnlyMany\", \"ReadWriteMany\", "
					      "\"ReadWriteOnce\", \"ReadWriteOncePod\"");
			continue;
		}
		c->access_modes |= bit;
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
	const char *class_name, *volume_mode, *volume_name, *attributes_class;
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
	    (r = claim_get_object(p, spec, "dataSourceRef", "spec.dataSourceRef", &source_ref)) < 0 ||
	    (r = claim_get_string(p, spec, "volumeAttributesClassName",
				  "spec.volumeAttributesClassName", &attributes_class)) < 0)
		return r;
	c->attributes_class_set = attributes_class != NULL;
	/* "" names no class, as for storageClassName. */
	if (attributes_class != NULL && attributes_class[0] != '\0' &&
	    names_check_subdomain(attributes_class, msg, sizeof(msg)) < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec.volumeAttributesClassName",
				      attributes_class, "%s", msg);
	else if (attributes_class != NULL)
		claim_copy_text(c->attributes_class, sizeof(c->attributes_class), attributes_class);
	c->class_set = class_name != NULL;
	if (class_name != NULL && class_name[0] != '\0' &&
	    names_check_subdomain(class_name, msg, sizeof(msg)) < 0)
		names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec.storageClassName",
				      class_name, "%s", msg);
	else if (class_name != NULL)
		claim_copy_text(c->storage_class, sizeof(c->storage_class), class_name);
	if (volume_mode != NULL && strcmp(volume_mode, "Filesystem") != 0)
		names_field_error_add(p->errs, NAMES_FIELD_NOT_SUPPORTED, "spec.volumeMode",
				      volume_mode, "supported values: \"Filesystem\"");
	if (volume_name != NULL && volume_name[0] != '\0') {
		if (names_check_subdomain(volume_name, msg, sizeof(msg)) < 0)
			names_field_error_add(p->errs, NAMES_FIELD_INVALID, "spec.volumeName",
					      volume_name, "%s", msg);
		else
			claim_copy_text(c->volume_name, sizeof(c->volume_name), volume_name);
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
