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
 * Deleting the snapshot deletes its volume. A group snapshot
 * (model_snapshot_group_create: several VolumeSnapshots posted together,
 * each annotated with the group's name) copies all its sources in one store
 * operation (store_volume_clone_group), so the members are one instant of
 * all the claims, crash-consistent across them; each member's
 * status.volumeGroupSnapshotName names the group. The spec is immutable; a
 * source that does not exist or is not bound is refused (422) instead of
 * waiting, so that callers (the CSI driver) get an answer at once.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "store.h"

/* The source claim of a new snapshot (bound, in ns), as a new reference. */
static int model_snapshot_source(struct model_txn *t, const json_t *obj, json_t **ret_claim,
				 struct model_error *err)
{
	const char *ns = model_path_string(obj, "metadata.namespace");
	const char *source = model_path_string(obj, "spec.source.persistentVolumeClaimName");
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
	if (r < 0) {
		json_decref(claim);
		return r;
	}
	*ret_claim = claim;
	return 0;
}

/* The status of a snapshot whose copy of claim is the store volume
 * content; group: the VolumeGroupSnapshot it belongs to, or NULL. */
static int model_snapshot_status(struct model_txn *t, json_t *obj, const json_t *claim,
				 const char *content, const char *group)
{
	json_t *status;
	char now[32];

	model_timestamp(t->now, now);
	status = json_pack("{s:s, s:s, s:b, s:s}", "boundVolumeSnapshotContentName", content,
			   "creationTime", now, "readyToUse", 1, "restoreSize",
			   model_path_string(claim, "status.capacity.storage") ?: "0");
	if (status != NULL && group != NULL &&
	    json_object_set_new(status, "volumeGroupSnapshotName", json_string(group)) < 0) {
		json_decref(status);
		status = NULL;
	}
	if (status == NULL)
		return -ENOMEM;
	return model_path_set(obj, "status", status);
}

/* Copy the source claim's volume; fill status. */
static int model_snapshot_take(struct model_txn *t, json_t *obj, struct model_error *err)
{
	const char *uid = model_path_string(obj, "metadata.uid");
	char content[NAMES_SUBDOMAIN_MAX + 1];
	struct store_volume src, copy;
	json_t *claim = NULL;
	int r;

	r = model_snapshot_source(t, obj, &claim, err);
	if (r < 0)
		return r;
	r = store_volume_get(t->model->store, model_path_string(claim, "spec.volumeName"), &src);
	snprintf(content, sizeof(content), "snapcontent-%s", uid);
	if (r == 0)
		r = store_volume_clone(t->model->store, src.name, content, src.capacity, &copy);
	if (r == 0)
		r = model_snapshot_status(t, obj, claim, content, NULL);
	if (r == 0)
		r = model_txn_log(t, "snapshot %s/%s of %s taken as %s",
				  model_path_string(obj, "metadata.namespace"),
				  model_path_string(obj, "metadata.name"),
				  model_path_string(obj, "spec.source.persistentVolumeClaimName"),
				  content);
	json_decref(claim);
	return r;
}

/* A new snapshot object from body: metadata, checked spec, finalizers;
 * no status yet. */
static int model_snapshot_new(struct model_txn *t, const char *ns, const json_t *body,
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
					  "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"))) < 0)
		goto out;
	*ret_obj = obj;
	obj = NULL;
out:
	json_decref(old);
	json_decref(obj);
	return r;
}

static int model_snapshot_create(struct model_txn *t, const char *ns, const json_t *body,
				 json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = model_snapshot_new(t, ns, body, &obj, err);
	if (r == 0 && (r = model_snapshot_take(t, obj, err)) == 0 &&
	    (r = model_obj_put(t, MODEL_SNAPSHOT, obj, true, 0, NULL)) == 0)
		r = model_reconcile(t);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* ---- group snapshots ---------------------------------------------------------------- */

/* The group a member names (the same for every item). */
static const char *model_snapshot_group_of(const json_t *body)
{
	return json_string_value(json_object_get(
		json_object_get(json_object_get(body, "metadata"), "annotations"),
		MODEL_SNAPSHOT_GROUP_ANNOTATION));
}

/* New member objects (into members) and their claims; one store operation
 * copies every source volume, then each member gets its status. */
static int model_snapshot_group_take(struct model_txn *t, const char *ns, const json_t *items,
				     json_t *members, struct model_error *err)
{
	size_t n = json_array_size(items);
	struct store_clone clones[MODEL_SNAPSHOT_GROUP_MAX];
	char contents[MODEL_SNAPSHOT_GROUP_MAX][NAMES_SUBDOMAIN_MAX + 1];
	const char *group = model_snapshot_group_of(json_array_get(items, 0));
	json_t *claims = json_array(), *obj, *claim;
	struct store_volume src;
	int r = claims != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		const char *mine = model_snapshot_group_of(json_array_get(items, i));

		if (group == NULL || mine == NULL || strcmp(mine, group) != 0) {
			names_field_error_add(&err->fields, NAMES_FIELD_INVALID,
					      "metadata.annotations", mine,
					      "every item names the same group in "
					      MODEL_SNAPSHOT_GROUP_ANNOTATION);
			r = -EINVAL;
			break;
		}
		obj = claim = NULL;
		r = model_snapshot_new(t, ns, json_array_get(items, i), &obj, err);
		if (r == 0 && (r = json_array_append_new(members, obj) < 0 ? -ENOMEM : 0) == 0)
			r = model_snapshot_source(t, obj, &claim, err);
		if (r == 0 && (r = json_array_append_new(claims, claim) < 0 ? -ENOMEM : 0) == 0)
			r = store_volume_get(t->model->store,
					     model_path_string(claim, "spec.volumeName"), &src);
		if (r < 0)
			break;
		snprintf(contents[i], sizeof(contents[i]), "snapcontent-%s",
			 model_path_string(obj, "metadata.uid"));
		clones[i] = (struct store_clone){ model_path_string(claim, "spec.volumeName"),
						  contents[i], src.capacity };
	}
	/* The one instant: no write lands between two members. */
	if (r == 0)
		r = store_volume_clone_group(t->model->store, clones, n, NULL);
	for (size_t i = 0; r == 0 && i < n; i++) {
		obj = json_array_get(members, i);
		r = model_snapshot_status(t, obj, json_array_get(claims, i), contents[i], group);
		if (r == 0)
			r = model_obj_put(t, MODEL_SNAPSHOT, obj, true, 0, NULL);
	}
	if (r == 0)
		r = model_txn_log(t, "group snapshot %s/%s of %zu claims taken", ns, group, n);
	json_decref(claims);
	return r;
}

int model_snapshot_group_create(struct model *model, const char *ns, const json_t *items,
				const struct model_write_options *opts, json_t **ret_items,
				struct model_error *err)
{
	const char *first = model_path_string(json_array_get(items, 0), "metadata.name");
	json_t *members = json_array(), *obj;
	struct model_txn t;
	size_t i;
	int r;

	if (members == NULL)
		return -ENOMEM;
	r = model_write_begin(model, MODEL_SNAPSHOT, first, opts, &t, err);
	if (r < 0) {
		json_decref(members);
		return r;
	}
	if (json_array_size(items) == 0 || json_array_size(items) > MODEL_SNAPSHOT_GROUP_MAX)
		r = model_fail(err, -EINVAL, "a group snapshot has 1 to %d members, not %zu",
			       MODEL_SNAPSHOT_GROUP_MAX, json_array_size(items));
	if (r == 0)
		r = model_namespace_admit(&t, MODEL_SNAPSHOT, ns, first, err);
	if (r == 0)
		r = model_snapshot_group_take(&t, ns, items, members, err);
	if (r == 0)
		r = model_reconcile(&t);
	r = model_txn_end(&t, r, err);
	if (r < 0) {
		json_decref(members);
		return r;
	}
	/* A dry run wrote nothing: no version to show. */
	json_array_foreach(members, i, obj)
		if (t.dry_run)
			json_object_del(json_object_get(obj, "metadata"), "resourceVersion");
	*ret_items = members;
	return 0;
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
