/*
 * model_snapshot.c — VolumeSnapshots (snapshot.storage.k8s.io/v1), the part
 * of the external snapshotter claimfs plays itself.
 *
 * A snapshot of a bound claim is a point-in-time copy of the claim's store
 * volume (store_volume_clone) into an unbound volume
 * "snapcontent-<snapshot uid>", made while the request is served: the
 * answer already says readyToUse: true, with restoreSize (the claim's
 * capacity), creationTime and boundVolumeSnapshotContentName. Claims with a
 * spec.dataSource naming the snapshot get their own copy of that volume.
 * Deleting the snapshot deletes its volume. The spec is immutable; a
 * source that does not exist or is not bound is refused (422) instead of
 * waiting, so that callers (the CSI driver) get an answer at once.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "store.h"

/* Copy the source claim's volume; fill status. */
static int model_snapshot_take(struct model_txn *t, json_t *obj, struct model_error *err)
{
	const char *ns = model_path_string(obj, "metadata.namespace");
	const char *source = model_path_string(obj, "spec.source.persistentVolumeClaimName");
	const char *uid = model_path_string(obj, "metadata.uid");
	char content[NAMES_SUBDOMAIN_MAX + 1], now[32];
	struct store_volume src, copy;
	json_t *claim = NULL;
	int r;

	r = model_obj_get(t->model, MODEL_PVC, ns, source, &claim);
	if (r == 0 && strcmp(model_path_string(claim, "status.phase") ?: "", "Bound") != 0)
		r = -ENOENT;
	if (r == -ENOENT) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID,
				      "spec.source.persistentVolumeClaimName", source,
				      "no bound PersistentVolumeClaim of that name in namespace %s", ns);
		r = -EINVAL;
	}
	if (r == 0)
		r = store_volume_get(t->model->store, model_path_string(claim, "spec.volumeName"), &src);
	snprintf(content, sizeof(content), "snapcontent-%s", uid);
	if (r == 0)
		r = store_volume_clone(t->model->store, src.name, content, src.capacity, &copy);
	model_timestamp(t->now, now);
	if (r == 0)
		r = model_path_set(obj, "status",
				   json_pack("{s:s, s:s, s:b, s:s}", "boundVolumeSnapshotContentName",
					     content, "creationTime", now, "readyToUse", 1,
					     "restoreSize",
					     model_path_string(claim, "status.capacity.storage") ?: "0"));
	if (r == 0)
		r = model_txn_log(t, "snapshot %s/%s of %s taken as %s", ns,
				  model_path_string(obj, "metadata.name"), source, content);
	json_decref(claim);
	return r;
}

static int model_snapshot_create(struct model_txn *t, const char *ns, const json_t *body,
				 json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL, *old = NULL;
	const json_t *source;
	const char *claim;
	int r;

	r = model_new_metadata(t, MODEL_SNAPSHOT, ns, body, &obj, err);
	if (r < 0)
		return r;
	source = model_path(obj, "spec.source");
	claim = json_string_value(json_object_get(source, "persistentVolumeClaimName"));
	if (json_object_get(source, "volumeSnapshotContentName") != NULL)
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN,
				      "spec.source.volumeSnapshotContentName", NULL,
				      "claimfs takes snapshots of claims only");
	else if (claim == NULL || claim[0] == '\0')
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED,
				      "spec.source.persistentVolumeClaimName", NULL, "%s", "");
	if (err->fields.count > 0) {
		r = -EINVAL;
		goto out;
	}
	if (model_obj_get(t->model, MODEL_SNAPSHOT, ns, model_path_string(obj, "metadata.name"),
			  &old) == 0) {
		r = -EEXIST;
		goto out;
	}
	json_object_del(obj, "status");
	if ((r = model_path_set(obj, "metadata.generation", json_integer(1))) < 0 ||
	    (r = model_path_set(obj, "metadata.finalizers",
				json_pack("[s, s]",
					  "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection",
					  "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"))) < 0 ||
	    (r = model_snapshot_take(t, obj, err)) < 0 ||
	    (r = model_obj_put(t, MODEL_SNAPSHOT, obj, true, 0, NULL)) < 0 ||
	    (r = model_reconcile(t)) < 0)
		goto out;
	*ret_obj = obj;
	obj = NULL;
out:
	json_decref(old);
	json_decref(obj);
	return r;
}

static int model_snapshot_update(struct model_txn *t, const json_t *old, const json_t *body,
				 json_t **ret_obj, struct model_error *err)
{
	json_t *obj = json_deep_copy(old);
	int r;

	if (obj == NULL)
		return -ENOMEM;
	r = model_update_metadata(MODEL_SNAPSHOT, old, body, obj, err);
	if (r == 0 && !json_equal(json_object_get(body, "spec") ?: json_null(),
				  json_object_get(old, "spec"))) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, "spec", NULL,
				      "spec is immutable after creation");
		r = -EINVAL;
	}
	if (r == 0)
		r = model_obj_update(t, MODEL_SNAPSHOT, old, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_snapshot_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
				 struct model_error *err)
{
	const char *content = model_path_string(old, "status.boundVolumeSnapshotContentName");
	json_t *obj = json_deep_copy(old);
	char now[32];
	int r = 0;

	if (obj == NULL)
		return -ENOMEM;
	if (content != NULL) {
		r = store_volume_delete(t->model->store, content);
		if (r == -ENOENT)
			r = 0;
	}
	model_timestamp(t->now, now);
	if (r == 0)
		r = model_path_set(obj, "metadata.deletionTimestamp", json_string(now));
	if (r == 0)
		r = model_obj_delete(t, MODEL_SNAPSHOT, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

const struct model_kind_ops model_snapshot_ops = {
	.create = model_snapshot_create,
	.update = model_snapshot_update,
	.remove = model_snapshot_remove,
};
