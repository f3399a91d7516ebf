/*
 * model_claim_provision.c — the provisioner's and the resizer's part of a
 * claim: making its new volume (empty, or a copy of the volume its
 * dataSource names), recording the PV for it, and growing a bound claim's
 * volume and PV to its request. model_claim.c decides when (binding,
 * updates, the reconcile); this file does it.
 *
 * Invariants (each kept inside the caller's model transaction):
 *   - a new volume is named "pvc-<claim uid>", is linked as the claim and
 *     has a PV naming the claim, or is not made at all;
 *   - nothing is made or grown past the capacity policy (model_capacity.c):
 *     the claim then stays Pending, or keeps its capacity, with the reason
 *     reported (model_claim_provisioning_failed, model_claim_resize_failed);
 *   - a clone starts with its source's attributes where the claim's own
 *     annotations and class leave them out (model_claim_attributes_inherit).
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "quantity.h"
#include "store.h"

/* Bytes of a {"storage": quantity} member at path, or 0. */
uint64_t model_claim_bytes(const json_t *obj, const char *path)
{
	const char *text = model_path_string(obj, path);
	uint64_t bytes = 0;

	if (text == NULL || quantity_parse(text, &bytes, NULL) < 0)
		return 0;
	return bytes;
}

/* The claim's class ("" if none). */
const char *model_claim_class(const struct claim *c)
{
	return c->class_set ? c->storage_class : "";
}

/* Link a freshly made volume "pvc-<uid>" as the claim and record its PV. */
static int model_claim_finish_new(struct model_txn *t, struct claim *c, const char *volume,
				  const json_t *class)
{
	const char *policy = model_path_string(class, "reclaimPolicy");
	char pv_uid[37];
	json_t *pv;
	int r;

	r = store_volume_bind(t->model->store, volume, c->namespace_name, c->name);
	if (r == 0 && claim_is_read_only(c))
		r = store_volume_update(t->model->store, volume, c->storage, true);
	if (r == 0)
		r = claim_set_bound(c, volume, c->storage, c->access_modes, true);
	if (r < 0)
		return r;
	model_new_uid(pv_uid);
	pv = claim_volume_to_json(c, pv_uid, policy != NULL ? policy : "Delete");
	if (pv == NULL)
		return -ENOMEM;
	r = model_obj_put(t, MODEL_PV, pv, true, 0, NULL);
	json_decref(pv);
	if (r == -EEXIST)
		return -EIO; /* a uid collision is no user error */
	if (r < 0)
		return r;
	return model_claim_provisioned_event(t, c, volume);
}

/* ---- capacity -------------------------------------------------------------------------- */

/* 0 if a new volume of bytes for c fits the capacity policy, 1 if it must
 * wait for space (reported), or a negative errno. */
static int model_claim_room(struct model_txn *t, const struct claim *c, uint64_t bytes)
{
	char why[512], message[NAMES_SUBDOMAIN_MAX + sizeof(why) + 64];
	int r = model_capacity_check(t, bytes, false, why, sizeof(why));

	if (r != -ENOSPC)
		return r;
	snprintf(message, sizeof(message), "failed to provision volume with StorageClass \"%s\": %s",
		 model_claim_class(c), why);
	r = model_claim_provisioning_failed(t, c, message);
	return r < 0 ? r : 1;
}

/* Grow a bound claim's volume and PV to its request (c->storage) when the
 * capacity policy lets the extra bytes in; otherwise the spec change stands,
 * the claim keeps its capacity and the resize waits for space
 * (model_claim_reconcile retries it), as with the external-resizer. */
int model_claim_grow(struct model_txn *t, struct claim *c)
{
	uint64_t capacity = c->storage > c->capacity ? c->storage : c->capacity;
	json_t *pv = NULL, *new_pv = NULL;
	char text[QUANTITY_TEXT_MAX], why[512];
	int r;

	if (capacity > c->capacity) {
		r = model_capacity_check(t, capacity - c->capacity, true, why, sizeof(why));
		if (r == -ENOSPC)
			return model_claim_resize_failed(t, c, why);
		if (r < 0)
			return r;
	}
	r = store_volume_update(t->model->store, c->volume_name, capacity, claim_is_read_only(c));
	if (r < 0)
		return r;
	r = model_obj_get(t->model, MODEL_PV, NULL, c->volume_name, &pv);
	if (r == 0 && (new_pv = json_deep_copy(pv)) == NULL)
		r = -ENOMEM;
	if (r == 0 && quantity_format(capacity, c->storage_format, text, sizeof(text)) < 0)
		r = -ERANGE;
	if (r == 0)
		r = model_path_set(new_pv, "spec.capacity.storage", json_string(text));
	if (r == 0)
		r = model_obj_update(t, MODEL_PV, pv, new_pv);
	json_decref(pv);
	json_decref(new_pv);
	if (r < 0)
		return r;
	r = model_txn_log(t, "expanded %s/%s to %llu bytes", c->namespace_name, c->name,
			  (unsigned long long)capacity);
	if (r < 0)
		return r;
	c->capacity = capacity;
	/* The resizer's events; the expansion is done online at once, so no
	 * Resizing or FileSystemResizePending condition outlives it. */
	return model_claim_expand_events(t, c);
}

/* The store volume and capacity a dataSource names; -ENOENT while it is
 * missing or not ready (the claim waits). */
static int model_claim_source(struct model_txn *t, const struct claim *c, char *volume,
			      size_t size, uint64_t *ret_capacity)
{
	const char *kind = model_path_string(c->data_source, "kind");
	const char *name = model_path_string(c->data_source, "name");
	json_t *src = NULL;
	const char *text = NULL;
	int r;

	if (kind == NULL || name == NULL)
		return -ENOENT;
	if (strcmp(kind, CLAIM_KIND) == 0) {
		r = model_obj_get(t->model, MODEL_PVC, c->namespace_name, name, &src);
		if (r == 0 && strcmp(model_path_string(src, "status.phase") ?: "", "Bound") != 0)
			r = -ENOENT;
		if (r == 0) {
			text = model_path_string(src, "spec.volumeName");
			*ret_capacity = model_claim_bytes(src, "status.capacity.storage");
		}
	} else {
		r = model_obj_get(t->model, MODEL_SNAPSHOT, c->namespace_name, name, &src);
		if (r == 0 && !json_is_true(model_path(src, "status.readyToUse")))
			r = -ENOENT;
		if (r == 0) {
			text = model_path_string(src, "status.boundVolumeSnapshotContentName");
			*ret_capacity = model_claim_bytes(src, "status.restoreSize");
		}
	}
	if (r == 0 && text == NULL)
		r = -ENOENT;
	if (r == 0)
		snprintf(volume, size, "%s", text);
	json_decref(src);
	return r;
}

/* Provision c from its dataSource: a point-in-time copy of the source volume.
 * err != NULL (the create request): a size below the source is a 422. */
int model_claim_clone(struct model_txn *t, struct claim *c, const json_t *class,
		      struct model_error *err)
{
	char source[NAMES_SUBDOMAIN_MAX + 1], volume[NAMES_SUBDOMAIN_MAX + 8];
	struct store_volume created;
	uint64_t capacity = 0;
	int r;

	r = model_claim_source(t, c, source, sizeof(source), &capacity);
	if (r == -ENOENT)
		return 0; /* waits for the source */
	if (r < 0)
		return r;
	if (c->storage < capacity) {
		if (err == NULL)
			return 0;
		names_field_error_add(
			&err->fields, NAMES_FIELD_INVALID, "spec.resources.requests.storage", NULL,
			"requested size %llu bytes is smaller than the size of the data "
			"source (%llu bytes)",
			(unsigned long long)c->storage, (unsigned long long)capacity);
		return -EINVAL;
	}
	r = model_claim_room(t, c, c->storage);
	if (r != 0)
		return r > 0 ? 0 : r;
	snprintf(volume, sizeof(volume), "pvc-%s", c->uid);
	r = store_volume_clone(t->model->store, source, volume, c->storage, &created);
	if (r == -ENOSPC && err != NULL) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID,
				      "spec.resources.requests.storage", NULL,
				      "the data source holds more than the requested size");
		return -EINVAL;
	}
	if (r < 0)
		return r == -EEXIST ? -EIO : r;
	r = model_claim_attributes_inherit(t, c, created.inode_limit, (int)created.io_class);
	if (r == 0)
		r = model_txn_log(t, "cloned %s into %s for %s/%s", source, volume,
				  c->namespace_name, c->name);
	return r < 0 ? r : model_claim_finish_new(t, c, volume, class);
}

/* Dynamic provisioning: a new empty volume. */
int model_claim_provision(struct model_txn *t, struct claim *c, const json_t *class)
{
	char volume[NAMES_SUBDOMAIN_MAX + 8];
	struct store_volume created;
	int r;

	r = model_claim_room(t, c, c->storage);
	if (r != 0)
		return r > 0 ? 0 : r;
	snprintf(volume, sizeof(volume), "pvc-%s", c->uid);
	r = store_volume_create(t->model->store, volume, c->storage, 0777, &created);
	if (r < 0)
		return r == -EEXIST ? -EIO : r;
	r = model_claim_finish_new(t, c, volume, class);
	if (r == 0)
		r = model_txn_log(t, "provisioned %s/%s as %s (%llu bytes)", c->namespace_name,
				  c->name, volume, (unsigned long long)c->storage);
	return r;
}
