/*
 * model_volume.c — PersistentVolumes as first-class objects.
 *
 * Owns: the rules for PVs created by hand (a new empty store volume of the
 * PV's name), for updates (claimRef removal makes a Released PV Available;
 * a reclaim policy change; capacity changes resize the store volume) and
 * for deletion (the data goes with the PV; a PV still bound to a claim is
 * only marked, as the pv-protection finalizer does, and goes with its claim).
 *
 * Invariants: a PV's store volume has the PV's name and capacity; phases
 * are Available (no claim, or reserved by claimRef without a bound claim),
 * Bound (its claim is bound to it), Released (its claim was deleted under
 * Retain: data kept, claimRef kept until someone removes it).
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "quantity.h"
#include "store.h"

/* Validate the spec of a PV request; fill defaults into spec (modified). */
static int model_volume_check_spec(json_t *spec, const char *name, struct model_error *err,
				   uint64_t *ret_bytes)
{
	static const char *const foreign[] = { "hostPath", "local", "nfs", "iscsi", "rbd",
					       "cephfs", "fc", "flexVolume", "glusterfs" };
	const json_t *modes = json_object_get(spec, "accessModes"),
		     *csi = json_object_get(spec, "csi");
	const char *capacity = model_path_string(spec, "capacity.storage");
	const char *policy = json_string_value(
		json_object_get(spec, "persistentVolumeReclaimPolicy"));
	const char *mode = json_string_value(json_object_get(spec, "volumeMode"));
	const char *class_name = json_string_value(json_object_get(spec, "storageClassName"));
	const char *driver = model_path_string(csi, "driver");
	char msg[NAMES_FIELD_DETAIL_MAX];
	struct names_field_errors *e = &err->fields;

	if (capacity == NULL)
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "spec.capacity", NULL, "%s", "");
	else if (quantity_parse(capacity, ret_bytes, NULL) < 0 || *ret_bytes == 0)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.capacity[storage]", capacity,
				      "must be a positive quantity");
	if (!json_is_array(modes) || json_array_size(modes) == 0 ||
	    claim_access_modes_from_json(modes) == 0)
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "spec.accessModes", NULL,
				      "at least 1 access mode is required");
	if (policy == NULL)
		policy = "Retain"; /* the API server's default for PVs */
	if (strcmp(policy, "Retain") != 0 && strcmp(policy, "Delete") != 0)
		names_field_error_add(e, NAMES_FIELD_NOT_SUPPORTED,
				      "spec.persistentVolumeReclaimPolicy", policy,
				      "supported values: \"Delete\", \"Retain\"");
	if (mode != NULL && strcmp(mode, "Filesystem") != 0)
		names_field_error_add(e, NAMES_FIELD_NOT_SUPPORTED, "spec.volumeMode", mode,
				      "supported values: \"Filesystem\"");
	if (class_name != NULL && class_name[0] != '\0' &&
	    names_check_subdomain(class_name, msg, sizeof(msg)) < 0)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.storageClassName", class_name,
				      "%s", msg);
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		if (json_object_get(spec, foreign[i]) != NULL)
			names_field_error_add(
				e, NAMES_FIELD_FORBIDDEN, "spec", NULL,
				"claimfs serves only volumes of its own CSI driver %s",
				CLAIM_PROVISIONER);
	if (csi != NULL && (driver == NULL || strcmp(driver, CLAIM_PROVISIONER) != 0))
		names_field_error_add(e, NAMES_FIELD_NOT_SUPPORTED, "spec.csi.driver", driver,
				      "supported values: \"%s\"", CLAIM_PROVISIONER);
	if (e->count > 0)
		return -EINVAL;
	if (json_object_set_new(spec, "persistentVolumeReclaimPolicy", json_string(policy)) < 0 ||
	    json_object_set_new(spec, "volumeMode", json_string("Filesystem")) < 0 ||
	    json_object_set_new(spec, "csi", json_pack("{s:s, s:s}", "driver", CLAIM_PROVISIONER,
						       "volumeHandle", name)) < 0)
		return -ENOMEM;
	return 0;
}

/* Add the pv-protection finalizer unless present. */
static int model_volume_finalizer(json_t *obj)
{
	json_t *list = model_path(obj, "metadata.finalizers"), *value;
	size_t i;

	if (!json_is_array(list)) {
		if (model_path_set(obj, "metadata.finalizers", json_array()) < 0)
			return -ENOMEM;
		list = model_path(obj, "metadata.finalizers");
	}
	json_array_foreach(list, i, value)
		if (strcmp(json_string_value(value) ?: "", CLAIM_VOLUME_PROTECTION_FINALIZER) == 0)
			return 0;
	return json_array_append_new(list, json_string(CLAIM_VOLUME_PROTECTION_FINALIZER)) == 0
		       ? 0
		       : -ENOMEM;
}

static int model_volume_create(struct model_txn *t, const char *ns, const json_t *body,
			       json_t **ret_obj, struct model_error *err)
{
	struct store_volume volume;
	json_t *obj = NULL, *spec, *ref;
	uint64_t bytes = 0;
	const char *name;
	int r;

	r = model_new_metadata(t, MODEL_PV, NULL, body, &obj, err);
	if (r < 0)
		return r;
	name = model_path_string(obj, "metadata.name");
	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, "spec", NULL, "%s", "");
		r = -EINVAL;
		goto out;
	}
	r = model_volume_check_spec(spec, name, err, &bytes);
	if (r < 0)
		goto out;
	ref = json_object_get(spec, "claimRef");
	if (ref != NULL && (!json_is_object(ref) || json_object_get(ref, "name") == NULL ||
			    json_object_get(ref, "namespace") == NULL)) {
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, "spec.claimRef.name",
				      NULL, "a claimRef names the claim's namespace and name");
		r = -EINVAL;
		goto out;
	}
	if ((r = model_volume_finalizer(obj)) < 0 ||
	    (r = model_path_set(obj, "status", json_pack("{s:s}", "phase", "Available"))) < 0)
		goto out;
	r = store_volume_create(t->model->store, name, bytes, 0777, &volume);
	if (r < 0)
		goto out;
	r = model_obj_put(t, MODEL_PV, obj, true, 0, NULL);
	if (r == 0)
		r = model_reconcile(t);
	if (r < 0)
		goto out;
	json_decref(obj);
	/* Binding may have changed it: answer with what is stored. */
	r = model_obj_get(t->model, MODEL_PV, NULL, name, ret_obj);
	return r;
out:
	json_decref(obj);
	return r;
}

/* Refuse changes to what a PV's data source is (driver, class, modes) and
 * unknown reclaim policies; take a new policy into new_obj. */
static int model_volume_update_policy(const json_t *old, const json_t *spec, json_t *new_obj,
				      struct model_error *err)
{
	const char *policy = json_string_value(
		json_object_get(spec, "persistentVolumeReclaimPolicy"));

	if (!json_equal(json_object_get(spec, "csi") ?: json_null(),
			model_path(old, "spec.csi") ?: json_null()) ||
	    !json_equal(json_object_get(spec, "storageClassName") ?: json_null(),
			model_path(old, "spec.storageClassName") ?: json_null()) ||
	    !json_equal(json_object_get(spec, "accessModes") ?: json_null(),
			model_path(old, "spec.accessModes") ?: json_null())) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN,
				      "spec.persistentvolumesource", NULL,
				      "spec.persistentvolumesource is immutable after creation");
		return -EINVAL;
	}
	if (policy != NULL && strcmp(policy, "Retain") != 0 && strcmp(policy, "Delete") != 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_NOT_SUPPORTED,
				      "spec.persistentVolumeReclaimPolicy", policy,
				      "supported values: \"Delete\", \"Retain\"");
		return -EINVAL;
	}
	if (policy == NULL)
		return 0;
	return model_path_set(new_obj, "spec.persistentVolumeReclaimPolicy", json_string(policy));
}

/* A new spec.capacity resizes the store volume at once. */
static int model_volume_update_capacity(struct model_txn *t, const json_t *old,
					const json_t *spec, json_t *new_obj,
					struct model_error *err)
{
	const char *capacity = model_path_string(spec, "capacity.storage");
	const char *name = model_path_string(old, "metadata.name");
	uint64_t bytes = 0, old_bytes = 0;
	struct store_volume volume;
	int r;

	if (capacity == NULL)
		return 0;
	if (quantity_parse(capacity, &bytes, NULL) < 0 || bytes == 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "spec.capacity[storage]",
				      capacity, "must be a positive quantity");
		return -EINVAL;
	}
	/* We stored it; were it unreadable, any size counts as a change. */
	if (quantity_parse(model_path_string(old, "spec.capacity.storage") ?: "0", &old_bytes,
			   NULL) < 0)
		old_bytes = 0;
	if (bytes == old_bytes)
		return 0;
	r = store_volume_get(t->model->store, name, &volume);
	if (r == 0)
		r = store_volume_update(t->model->store, name, bytes, volume.read_only);
	if (r == 0)
		r = model_path_set(new_obj, "spec.capacity.storage", json_string(capacity));
	return r;
}

/* claimRef: removing it frees a Released volume; a Bound one keeps its
 * claim (the binder would put it back at once). *ret_available: the PV
 * may now bind a claim. */
static int model_volume_update_claim_ref(const json_t *old, const json_t *spec, json_t *new_obj,
					 bool *ret_available, struct model_error *err)
{
	const char *phase = model_path_string(old, "status.phase") ?: "";
	const json_t *ref = json_object_get(spec, "claimRef");
	const json_t *old_ref = model_path(old, "spec.claimRef");

	if (strcmp(phase, "Bound") == 0)
		return 0;
	if (ref == NULL || json_is_null(ref)) {
		json_object_del(json_object_get(new_obj, "spec"), "claimRef");
		if (strcmp(phase, "Released") == 0 || old_ref != NULL) {
			*ret_available = true;
			return model_path_set(new_obj, "status.phase", json_string("Available"));
		}
		return 0;
	}
	if (!json_is_object(ref) || json_object_get(ref, "name") == NULL) {
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, "spec.claimRef.name",
				      NULL, "a claimRef names the claim's namespace and name");
		return -EINVAL;
	}
	if (!json_equal(ref, old_ref ?: json_null())) {
		*ret_available = strcmp(phase, "Released") != 0;
		return model_path_set(new_obj, "spec.claimRef", json_deep_copy(ref));
	}
	return 0;
}

/* Apply the mutable parts of body's spec to new_obj (a copy of old), in
 * this order: reclaim policy, capacity, mount options and node affinity,
 * claimRef. */
static int model_volume_update_spec(struct model_txn *t, const json_t *old, const json_t *body,
				    json_t *new_obj, bool *ret_available, struct model_error *err)
{
	const json_t *spec = json_object_get(body, "spec");
	int r;

	*ret_available = false;
	if (!json_is_object(spec))
		return model_fail(err, -EBADMSG, "a PersistentVolume needs its spec");
	r = model_volume_update_policy(old, spec, new_obj, err);
	if (r == 0)
		r = model_volume_update_capacity(t, old, spec, new_obj, err);
	if (r < 0)
		return r;
	for (const char *const *key = (const char *const[]){ "mountOptions", "nodeAffinity", NULL };
	     *key != NULL; key++) {
		const json_t *value = json_object_get(spec, *key);

		if (value == NULL)
			json_object_del(json_object_get(new_obj, "spec"), *key);
		else if (model_path_set(json_object_get(new_obj, "spec"), *key,
					json_deep_copy(value)) < 0)
			return -ENOMEM;
	}
	return model_volume_update_claim_ref(old, spec, new_obj, ret_available, err);
}

static int model_volume_update(struct model_txn *t, const json_t *old, const json_t *body,
			       json_t **ret_obj, struct model_error *err)
{
	json_t *obj = json_deep_copy(old);
	bool available = false;
	int r;

	if (obj == NULL)
		return -ENOMEM;
	r = model_update_metadata(MODEL_PV, old, body, obj, err);
	if (r == 0)
		r = model_volume_update_spec(t, old, body, obj, &available, err);
	if (r == 0)
		r = model_obj_update(t, MODEL_PV, old, obj);
	if (r == 0 && available) {
		r = model_txn_log(t, "volume %s is Available", model_path_string(old, "metadata.name"));
		if (r == 0)
			r = model_reconcile(t);
		json_decref(obj);
		obj = NULL;
		if (r == 0)
			r = model_obj_get(t->model, MODEL_PV, NULL,
					  model_path_string(old, "metadata.name"), &obj);
	}
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_volume_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
			       struct model_error *err)
{
	const char *phase = model_path_string(old, "status.phase") ?: "";
	const char *name = model_path_string(old, "metadata.name");
	json_t *obj = json_deep_copy(old);
	char now[32];
	int r;

	if (obj == NULL)
		return -ENOMEM;
	model_timestamp(t->now, now);
	r = model_path_set(obj, "metadata.deletionTimestamp", json_string(now));
	if (r == 0 && strcmp(phase, "Bound") == 0) {
		/* pv-protection: it goes when its claim goes. */
		r = model_path_set(obj, "metadata.deletionGracePeriodSeconds", json_integer(0));
		if (r == 0 && model_path(old, "metadata.deletionTimestamp") == NULL)
			r = model_obj_put(t, MODEL_PV, obj, false, model_obj_version(old), old);
	} else if (r == 0) {
		r = store_volume_delete(t->model->store, name);
		if (r == -ENOENT)
			r = 0;
		if (r == 0)
			r = model_obj_delete(t, MODEL_PV, obj);
		if (r == 0)
			r = model_txn_log(t, "deleted the volume %s and its data", name);
		if (r == 0)
			r = model_attributes_class_release(t); /* it named one no more */
	}
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* The phase follows binding and reclaim. */
static const char *const model_volume_status_owned[] = { "phase", NULL };

const struct model_kind_ops model_volume_ops = {
	.create = model_volume_create,
	.update = model_volume_update,
	.remove = model_volume_remove,
	.status_owned = model_volume_status_owned,
};
