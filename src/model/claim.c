/*
 * claim.c — a PersistentVolumeClaim in memory: binding, the exact JSON
 * shape of claims and of their PersistentVolumes, and reading stored claims
 * back. Requests are decoded and validated in claim_request.c, above this.
 *
 * Owns: struct claim's lifetime, the access-mode and phase names.
 *
 * Invariants:
 *   - A struct claim owns its json_t members (labels, annotations,
 *     finalizers); claim_release() drops them. Parsers leave *ret_claim
 *     released on failure, so callers release exactly once either way.
 *   - claim_to_json() output read back by claim_from_stored() renders the
 *     same JSON again (the unit tests hold this round trip).
 */
#include "claim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


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

/* Copy text into a fixed field; false if it does not fit. */
bool claim_copy_text(char *dst, size_t size, const char *text)
{
	size_t len = strlen(text);

	if (len >= size)
		return false;
	memcpy(dst, text, len + 1);
	return true;
}

unsigned claim_access_mode_bit(const char *name)
{
	for (size_t k = 0; k < CLAIM_ACCESS_MODE_COUNT; k++)
		if (strcmp(name, claim_access_mode_names[k].name) == 0)
			return claim_access_mode_names[k].bit;
	return 0;
}

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
	if (!claim_copy_text(c->uid, sizeof(c->uid), uid))
		return -EINVAL;
	c->creation_time = now;
	return claim_add_finalizer(&c->finalizers, CLAIM_PROTECTION_FINALIZER);
}

int claim_set_bound(struct claim *c, const char *volume_name, uint64_t capacity,
		    unsigned access_modes, bool provisioned)
{
	int r;

	if (!claim_copy_text(c->volume_name, sizeof(c->volume_name), volume_name))
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
		if (json_is_string(value))
			bits |= claim_access_mode_bit(json_string_value(value));
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

int claim_attributes_status_put(const struct claim *c, json_t *obj)
{
	json_t *status = json_object_get(obj, "status");

	if (!json_is_object(status))
		return -EINVAL;
	json_object_del(status, "currentVolumeAttributesClassName");
	json_object_del(status, "modifyVolumeStatus");
	if (c->current_attributes_class_set &&
	    json_object_set_new(status, "currentVolumeAttributesClassName",
				json_string(c->current_attributes_class)) < 0)
		return -ENOMEM;
	if (c->modify_status[0] != '\0' &&
	    json_object_set_new(status, "modifyVolumeStatus",
				json_pack("{s:s, s:s}", "targetVolumeAttributesClassName",
					  c->modify_target, "status", c->modify_status)) < 0)
		return -ENOMEM;
	return 0;
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
	    claim_put_copy(spec, "dataSourceRef", c->data_source_ref) < 0 ||
	    (c->attributes_class_set &&
	     json_object_set_new(spec, "volumeAttributesClassName",
				 json_string(c->attributes_class)) < 0)) {
		json_decref(spec);
		return NULL;
	}
	return spec;
}

json_t *claim_to_json(const struct claim *c)
{
	json_t *meta = claim_metadata_to_json(c), *obj;

	if (meta != NULL && c->owner_references != NULL && json_array_size(c->owner_references) > 0 &&
	    json_object_set_new(meta, "ownerReferences", json_deep_copy(c->owner_references)) < 0) {
		json_decref(meta);
		return NULL;
	}
	obj = json_pack("{s:s, s:s, s:o, s:o, s:o}", "apiVersion", "v1", "kind", CLAIM_KIND,
			"metadata", meta, "spec", claim_spec_to_json(c), "status",
			claim_status_to_json(c));
	if (obj != NULL && claim_attributes_status_put(c, obj) < 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *claim_volume_to_json(const struct claim *c, const char *volume_uid,
			     const char *reclaim_policy)
{
	char created[32];
	json_t *pv;

	if (c->volume_name[0] == '\0' || claim_format_time(c->creation_time, created, sizeof(created)) < 0)
		return NULL;
	pv = json_pack("{s:s, s:s,"
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
	/* The class it was provisioned with, as external-provisioner records it. */
	if (pv != NULL && c->current_attributes_class_set && c->current_attributes_class[0] != '\0' &&
	    json_object_set_new(json_object_get(pv, "spec"), "volumeAttributesClassName",
				json_string(c->current_attributes_class)) < 0) {
		json_decref(pv);
		return NULL;
	}
	return pv;
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

/* A stored text member at obj.key into a fixed field; *ret_set whether present. */
static int claim_stored_text(const json_t *obj, const char *key, char *dst, size_t size,
			     bool *ret_set)
{
	const json_t *value = json_object_get(obj, key);

	if (value == NULL)
		return 0;
	if (!json_is_string(value) || !claim_copy_text(dst, size, json_string_value(value)))
		return -EINVAL;
	if (ret_set != NULL)
		*ret_set = true;
	return 0;
}

/* The attribute-class members of a stored claim (spec and status). */
static int claim_attributes_from_stored(const json_t *obj, struct claim *c)
{
	const json_t *status = json_object_get(obj, "status");
	const json_t *modify = json_object_get(status, "modifyVolumeStatus");
	int r;

	if ((r = claim_stored_text(json_object_get(obj, "spec"), "volumeAttributesClassName",
				   c->attributes_class, sizeof(c->attributes_class),
				   &c->attributes_class_set)) < 0 ||
	    (r = claim_stored_text(status, "currentVolumeAttributesClassName",
				   c->current_attributes_class, sizeof(c->current_attributes_class),
				   &c->current_attributes_class_set)) < 0 ||
	    (r = claim_stored_text(modify, "targetVolumeAttributesClassName", c->modify_target,
				   sizeof(c->modify_target), NULL)) < 0 ||
	    (r = claim_stored_text(modify, "status", c->modify_status, sizeof(c->modify_status),
				   NULL)) < 0)
		return r;
	return 0;
}

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
	if (!claim_copy_text(ret_claim->name, sizeof(ret_claim->name), name) ||
	    !claim_copy_text(ret_claim->namespace_name, sizeof(ret_claim->namespace_name), ns) ||
	    !claim_copy_text(ret_claim->uid, sizeof(ret_claim->uid), uid) ||
	    !claim_copy_text(ret_claim->generate_name, sizeof(ret_claim->generate_name), generate_name) ||
	    (class_name != NULL &&
	     !claim_copy_text(ret_claim->storage_class, sizeof(ret_claim->storage_class), class_name)) ||
	    !claim_copy_text(ret_claim->volume_name, sizeof(ret_claim->volume_name), volume_name)) {
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
	r = claim_attributes_from_stored(obj, ret_claim);
	if (r < 0)
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
