/*
 * model_claim.c — PersistentVolumeClaims: admission, binding, expansion,
 * reclaim. This file plays the parts of the API server's claim strategy,
 * the DefaultStorageClass admission plugin, the PV binder controller and
 * the provisioner.
 *
 * Invariants (each kept inside one model transaction):
 *   - a Bound claim names its PersistentVolume in spec.volumeName; the PV's
 *     spec.claimRef names the claim (with its uid) and the PV's store volume
 *     is linked as <mount>/<ns>/<claim> with the claim's read-only rule
 *     (ReadOnlyMany alone => read-only);
 *   - a Pending claim has no store link. It binds (model_claim_try_bind) as
 *     soon as it can: to the PV it names, else to the smallest Available PV
 *     that fits (class, modes, size, selector), else — without a selector,
 *     in a class whose provisioner is claimfs — to a new volume
 *     "pvc-<claim uid>" (a clone when spec.dataSource names a claim or a
 *     VolumeSnapshot). Classes, PVs and snapshots appearing later trigger
 *     model_reconcile (this file's model_claim_reconcile).
 *   - deleting a Bound claim applies its PV's reclaim policy: Delete removes
 *     the PV and the data; Retain unlinks the volume and leaves the PV
 *     Released with its claimRef (data kept).
 *   - a new volume, and an expansion, must fit the capacity policy
 *     (model_capacity.c): otherwise the claim stays Pending, or keeps its
 *     capacity, with the reason reported (model_claim_provisioning_failed,
 *     model_claim_resize_failed), and is retried as space appears.
 * Making and growing the volumes themselves is model_claim_provision.c's.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "log.h"
#include "quantity.h"
#include "selector.h"
#include "store.h"

/* A stored claim object into a struct claim. */
static int model_claim_decode(const json_t *obj, struct claim *c)
{
	int r = claim_from_stored(obj, c);

	if (r == -EINVAL)
		return -EIO; /* we wrote it: unreadable is corruption */
	if (r == 0)
		c->resource_version = model_obj_version(obj);
	return r;
}

/* Does PV pv satisfy claim c (phase, reservation, class, modes, size, selector)? */
static bool model_claim_fits(const json_t *pv, const struct claim *c)
{
	const json_t *ref = model_path(pv, "spec.claimRef");
	const char *phase = model_path_string(pv, "status.phase");
	const char *pv_class = model_path_string(pv, "spec.storageClassName");
	const char *ref_uid = json_string_value(json_object_get(ref, "uid"));
	unsigned modes = claim_access_modes_from_json(model_path(pv, "spec.accessModes"));
	bool match = true;

	if (phase == NULL || strcmp(phase, "Available") != 0 ||
	    model_path(pv, "metadata.deletionTimestamp") != NULL)
		return false;
	if (ref != NULL && !json_is_null(ref) &&
	    (strcmp(json_string_value(json_object_get(ref, "namespace")) ?: "",
		    c->namespace_name) != 0 ||
	     strcmp(json_string_value(json_object_get(ref, "name")) ?: "", c->name) != 0 ||
	     (ref_uid != NULL && ref_uid[0] != '\0' && strcmp(ref_uid, c->uid) != 0)))
		return false;
	if (strcmp(pv_class != NULL ? pv_class : "", model_claim_class(c)) != 0)
		return false;
	/* The PV binder's rule: the same VolumeAttributesClass, or none on both. */
	if (strcmp(model_path_string(pv, "spec.volumeAttributesClassName") ?: "",
		   c->attributes_class_set ? c->attributes_class : "") != 0)
		return false;
	if ((modes & c->access_modes) != c->access_modes)
		return false;
	if (model_claim_bytes(pv, "spec.capacity.storage") < c->storage)
		return false;
	if (c->selector != NULL &&
	    (selector_match_object(c->selector, model_path(pv, "metadata.labels"), &match) < 0 ||
	     !match))
		return false;
	return true;
}

struct model_claim_search {
	const struct claim *claim;
	json_t *best; /* owned */
	bool best_reserved;
};

/* PV list callback: keep the best fit (reserved for this claim first, then smallest). */
static int model_claim_search_pv(void *ud, json_t *pv)
{
	struct model_claim_search *s = ud;
	const json_t *ref = model_path(pv, "spec.claimRef");
	bool reserved = ref != NULL && !json_is_null(ref);

	if (!model_claim_fits(pv, s->claim))
		return 0;
	if (s->best != NULL &&
	    (s->best_reserved > reserved ||
	     (s->best_reserved == reserved &&
	      model_claim_bytes(s->best, "spec.capacity.storage") <=
		      model_claim_bytes(pv, "spec.capacity.storage"))))
		return 0;
	json_decref(s->best);
	s->best = json_incref(pv);
	s->best_reserved = reserved;
	return 0;
}

/* Bind c to the existing PV pv (store link, PV claimRef and phase). */
static int model_claim_bind_existing(struct model_txn *t, struct claim *c, const json_t *pv)
{
	struct store *store = t->model->store;
	const char *name = model_path_string(pv, "metadata.name");
	uint64_t capacity = model_claim_bytes(pv, "spec.capacity.storage");
	unsigned modes = claim_access_modes_from_json(model_path(pv, "spec.accessModes"));
	const json_t *ref = model_path(pv, "spec.claimRef");
	json_t *new_pv;
	int r;

	r = store_volume_bind(store, name, c->namespace_name, c->name);
	if (r == 0)
		r = store_volume_update(store, name, capacity, claim_is_read_only(c));
	if (r < 0)
		return r;
	new_pv = json_deep_copy(pv);
	if (new_pv == NULL)
		return -ENOMEM;
	if (ref == NULL || json_is_null(ref)) {
		json_t *notes = model_path(new_pv, "metadata.annotations");

		if (!json_is_object(notes) &&
		    ((r = model_path_set(new_pv, "metadata.annotations", json_object())) < 0 ||
		     (notes = model_path(new_pv, "metadata.annotations")) == NULL))
			goto out;
		r = json_object_set_new(notes, "pv.kubernetes.io/bound-by-controller",
					json_string("yes")) == 0 ? 0 : -ENOMEM;
		if (r < 0)
			goto out;
	}
	r = model_path_set(new_pv, "spec.claimRef",
			   json_pack("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", "v1", "kind",
				     CLAIM_KIND, "namespace", c->namespace_name, "name", c->name,
				     "uid", c->uid));
	if (r == 0)
		r = model_path_set(new_pv, "status.phase", json_string("Bound"));
	if (r == 0)
		r = model_obj_update(t, MODEL_PV, pv, new_pv);
	if (r == 0)
		r = claim_set_bound(c, name, capacity, modes, false);
	if (r == 0)
		model_claim_attributes_take(c);
	if (r == 0)
		r = model_txn_log(t, "bound %s/%s to the existing volume %s", c->namespace_name,
				  c->name, name);
out:
	json_decref(new_pv);
	return r;
}

/* Bind a Pending claim if anything can bind it now (see the file comment).
 * err: the create request's error (422s for bad sources), or NULL. */
static int model_claim_try_bind(struct model_txn *t, struct claim *c, struct model_error *err)
{
	struct model_claim_search search = { .claim = c };
	json_t *class = NULL, *pv = NULL;
	const char *provisioner;
	int r, class_r;

	if (c->phase == CLAIM_BOUND)
		return 0;
	r = class_r = model_storage_class_find(t->model, c->class_set ? c->storage_class : NULL,
					       &class);
	if (r < 0 && r != -ENOENT)
		return r;
	if (!c->class_set && class != NULL) {
		/* What the DefaultStorageClass admission plugin does. */
		snprintf(c->storage_class, sizeof(c->storage_class), "%s",
			 model_path_string(class, "metadata.name"));
		c->class_set = true;
	}
	if (c->class_set && c->storage_class[0] == '\0') {
		json_decref(class);
		class = NULL;
	}
	provisioner = model_path_string(class, "provisioner");
	if (c->volume_name[0] != '\0') {
		r = model_obj_get(t->model, MODEL_PV, NULL, c->volume_name, &pv);
		if (r == 0 && model_claim_fits(pv, c))
			r = model_claim_bind_existing(t, c, pv);
		else if (r == -ENOENT)
			r = 0;
		goto out;
	}
	/* Only Available volumes can fit (model_claim_fits). */
	r = model_obj_list_phase(t->model, MODEL_PV, "Available", model_claim_search_pv, &search);
	if (r < 0)
		goto out;
	if (search.best != NULL)
		r = model_claim_bind_existing(t, c, search.best);
	else if (provisioner == NULL || strcmp(provisioner, CLAIM_PROVISIONER) != 0)
		r = model_claim_event_pending(t, c, class, class_r); /* waits for a volume or a class */
	else if (c->data_source == NULL && c->selector != NULL)
		r = 0; /* a selector binds existing volumes only */
	else if ((r = model_claim_attributes_provisionable(t, c)) != 0)
		r = r > 0 ? 0 : r; /* waits for its VolumeAttributesClass */
	else {
		/* The new volume starts with the class the claim names. */
		model_claim_attributes_take(c);
		r = c->data_source != NULL ? model_claim_clone(t, c, class, err)
					   : model_claim_provision(t, c, class);
		if (c->phase != CLAIM_BOUND)
			c->current_attributes_class_set = false; /* nothing was provisioned */
	}
out:
	json_decref(search.best);
	json_decref(class);
	json_decref(pv);
	return r;
}

/* ---- create ------------------------------------------------------------------------- */

/* Validate, admit, bind if possible and store a new claim. */
static int model_claim_create(struct model_txn *t, const char *ns, const json_t *body,
			      json_t **ret_obj, struct model_error *err)
{
	char suffix[6], uid[37];
	json_t *obj = NULL;
	struct claim c;
	int r;

	model_random_suffix(suffix);
	r = claim_from_request(body, ns, suffix, &c, err->message, sizeof(err->message),
			       &err->fields);
	if (r < 0)
		return r;
	model_error_name(err, MODEL_PVC, c.name);
	r = model_obj_get(t->model, MODEL_PVC, ns, c.name, &obj);
	if (r == 0) {
		r = -EEXIST;
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	model_new_uid(uid);
	r = claim_admit(&c, uid, t->now);
	if (r == 0)
		r = model_claim_try_bind(t, &c, err);
	if (r == 0)
		r = model_claim_attributes(t, &c, err);
	if (r < 0)
		goto out;
	obj = claim_to_json(&c);
	if (obj == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = model_obj_put(t, MODEL_PVC, obj, true, 0, NULL);
	if (r < 0)
		goto out;
	*ret_obj = obj;
	obj = NULL;
out:
	json_decref(obj);
	claim_release(&c);
	return r;
}

int model_claim_ensure(struct model_txn *t, const char *ns, const json_t *body,
		       json_t **ret_created, struct model_error *err)
{
	const char *name = model_path_string(body, "metadata.name");
	json_t *obj = NULL;
	int r;

	*ret_created = NULL;
	r = model_obj_get(t->model, MODEL_PVC, ns, name != NULL ? name : "", &obj);
	json_decref(obj);
	if (r != -ENOENT)
		return r; /* 0: it exists and is reused, as the StatefulSet controller does */
	obj = NULL;
	r = model_claim_create(t, ns, body, &obj, err);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_created = obj;
	return 0;
}

/* ---- reconcile ---------------------------------------------------------------------- */

/* Collect the Pending claims. */
static int model_claim_collect_pending(void *ud, json_t *obj)
{
	if (strcmp(model_path_string(obj, "status.phase") ?: "", "Pending") != 0)
		return 0;
	return json_array_append(ud, obj) == 0 ? 0 : -ENOMEM;
}

/* Collect the Bound claims whose expansion waits (request above capacity). */
static int model_claim_collect_growing(void *ud, json_t *obj)
{
	if (model_claim_bytes(obj, "spec.resources.requests.storage") <=
	    model_claim_bytes(obj, "status.capacity.storage"))
		return 0;
	return json_array_append(ud, obj) == 0 ? 0 : -ENOMEM;
}

/* Run step on every claim of phase that collect picks, and store what it
 * changed: the passes of the reconcile hook. */
static int model_claim_each(struct model_txn *t, const char *phase, model_obj_cb collect,
			    int (*step)(struct model_txn *t, struct claim *c))
{
	json_t *picked = json_array(), *obj;
	size_t i;
	int r;

	if (picked == NULL)
		return -ENOMEM;
	r = model_obj_list_phase(t->model, MODEL_PVC, phase, collect, picked);
	json_array_foreach(picked, i, obj) {
		struct claim c;
		json_t *updated;

		if (r < 0)
			break;
		r = model_claim_decode(obj, &c);
		if (r < 0)
			break;
		r = step(t, &c);
		updated = r == 0 ? claim_to_json(&c) : NULL;
		if (r == 0 && updated == NULL)
			r = -ENOMEM;
		if (r == 0)
			r = model_status_keep(obj, updated);
		if (r == 0)
			r = claim_attributes_status_put(&c, updated);
		if (r == 0)
			r = model_obj_update(t, MODEL_PVC, obj, updated);
		json_decref(updated);
		claim_release(&c);
	}
	json_decref(picked);
	return r;
}

/* A Pending claim's step: bind it if anything can bind it now. */
static int model_claim_bind_now(struct model_txn *t, struct claim *c)
{
	struct model_error err = { 0 };
	int r = model_claim_try_bind(t, c, NULL);

	/* Bound now: its volume takes the attributes the claim was admitted
	 * with (checked then, so -EINVAL only for a claim stored before). */
	int a = r == 0 ? model_claim_attributes(t, c, &err) : 0;

	if (a == -EINVAL)
		log_warn("claim %s/%s: volume attributes not applied: invalid annotations",
			 c->namespace_name, c->name);
	return a < 0 && a != -EINVAL ? a : r;
}

/* Bind every Pending claim that can be bound now, and grow the claims whose
 * expansion waited for space where it fits now (the kind's reconcile hook). */
static int model_claim_reconcile(struct model_txn *t)
{
	int r;

	model_capacity_wait_reset(t->model, false);
	r = model_claim_each(t, "Pending", model_claim_collect_pending, model_claim_bind_now);
	if (r == 0 && atomic_exchange(&t->model->attributes_class_added, false))
		r = model_claim_each(t, "Bound", model_claim_attributes_waiting,
				     model_claim_attributes_retry);
	/* A class change applied now leaves the old class to go, if deleted. */
	if (r == 0)
		r = model_attributes_class_release(t);
	if (r < 0 || !model_capacity_waiting(t->model, true))
		return r;
	model_capacity_wait_reset(t->model, true);
	return model_claim_each(t, "Bound", model_claim_collect_growing, model_claim_grow);
}

/* ---- update ------------------------------------------------------------------------------ */

/* Grow a bound claim's volume to bytes (the claim's class must allow it). */
static int model_claim_expand(struct model_txn *t, struct claim *c, uint64_t bytes,
			      enum quantity_format format, struct model_error *err)
{
	const char *field = "spec.resources.requests.storage";
	json_t *class = NULL;
	int r;

	if (c->phase != CLAIM_BOUND) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, "spec", NULL,
				      "spec is immutable after creation except resources.requests "
				      "and volumeAttributesClassName for bound claims");
		return -EINVAL;
	}
	if (bytes < c->storage) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, field, NULL,
				      "field can not be less than previous value");
		return -EINVAL;
	}
	r = model_storage_class_find(t->model, c->storage_class, &class);
	if ((r < 0 && r != -ENOENT) ||
	    (r == 0 && !json_is_true(json_object_get(class, "allowVolumeExpansion")))) {
		json_decref(class);
		if (r < 0 && r != -ENOENT)
			return r;
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, field, NULL,
				      "only dynamically provisioned pvc can be resized and the "
				      "storageclass that provisions the pvc must support resize");
		return -EINVAL;
	}
	if (r == -ENOENT) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, field, NULL,
				      "only dynamically provisioned pvc can be resized and the "
				      "storageclass that provisions the pvc must support resize");
		return -EINVAL;
	}
	json_decref(class);
	c->storage = bytes;
	c->storage_format = format;
	return model_claim_grow(t, c);
}

/* What may change in a claim's spec: the class and volume while unset, the
 * requested size of a bound claim (upwards). Everything else is immutable. */
static int model_claim_merge_spec(struct model_txn *t, struct claim *res, const struct claim *req,
				  struct model_error *err)
{
	bool immutable =
		req->access_modes != res->access_modes ||
		(res->class_set &&
		 (!req->class_set || strcmp(req->storage_class, res->storage_class) != 0)) ||
		(res->volume_name[0] != '\0' && strcmp(req->volume_name, res->volume_name) != 0) ||
		!json_equal(req->selector ?: json_null(), res->selector ?: json_null()) ||
		!json_equal(req->data_source ?: json_null(), res->data_source ?: json_null());

	if (immutable) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, "spec", NULL,
				      "spec is immutable after creation except resources.requests "
				      "and volumeAttributesClassName for bound claims");
		return -EINVAL;
	}
	if (!res->class_set && req->class_set) {
		res->class_set = true;
		snprintf(res->storage_class, sizeof(res->storage_class), "%s", req->storage_class);
	}
	if (res->volume_name[0] == '\0' && req->volume_name[0] != '\0')
		snprintf(res->volume_name, sizeof(res->volume_name), "%s", req->volume_name);
	if (model_claim_attributes_merge(res, req, err) < 0)
		return -EINVAL;
	if (req->storage != res->storage)
		return model_claim_expand(t, res, req->storage, req->storage_format, err);
	return 0;
}

/* Swap in a copy of src's json member. */
static int model_claim_take(json_t **dst, const json_t *src)
{
	json_decref(*dst);
	*dst = src != NULL ? json_deep_copy(src) : NULL;
	return src == NULL || *dst != NULL ? 0 : -ENOMEM;
}

static int model_claim_update(struct model_txn *t, const json_t *old, const json_t *body,
			      json_t **ret_obj, struct model_error *err)
{
	struct claim res, req;
	json_t *merged = json_deep_copy(body), *obj = NULL;
	int r;

	claim_init(&res);
	claim_init(&req);
	if (merged == NULL)
		return -ENOMEM;
	r = model_update_metadata(MODEL_PVC, old, body, merged, err);
	if (r == 0)
		r = model_claim_decode(old, &res);
	if (r == 0)
		r = claim_from_update(merged, res.namespace_name, &req, err->message,
				      sizeof(err->message), &err->fields);
	if (r < 0)
		goto out;
	if ((r = model_claim_take(&res.labels, req.labels)) < 0 ||
	    (r = model_claim_take(&res.annotations, req.annotations)) < 0 ||
	    (r = model_claim_take(&res.finalizers, req.finalizers)) < 0 ||
	    (r = model_claim_take(&res.owner_references, req.owner_references)) < 0 ||
	    (r = model_claim_merge_spec(t, &res, &req, err)) < 0 ||
	    (r = model_claim_try_bind(t, &res, NULL)) < 0 ||
	    (r = model_claim_attributes(t, &res, err)) < 0)
		goto out;
	obj = claim_to_json(&res);
	if (obj == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = model_status_keep(old, obj);
	if (r == 0)
		r = claim_attributes_status_put(&res, obj);
	if (r == 0)
		r = model_obj_update(t, MODEL_PVC, old, obj);
	if (r == 0)
		r = model_attributes_class_release(t); /* it may have named another class */
	if (r == 0) {
		*ret_obj = obj;
		obj = NULL;
	}
out:
	json_decref(merged);
	json_decref(obj);
	claim_release(&res);
	claim_release(&req);
	return r;
}

/* ---- delete ---------------------------------------------------------------------------- */

/* Apply the reclaim policy of the claim's PV once the claim goes. */
static int model_claim_reclaim(struct model_txn *t, const struct claim *c)
{
	const char *policy;
	json_t *pv = NULL, *new_pv = NULL;
	int r;

	r = model_obj_get(t->model, MODEL_PV, NULL, c->volume_name, &pv);
	if (r == -ENOENT) {
		log_warn("claim %s/%s had no PersistentVolume %s", c->namespace_name, c->name,
			 c->volume_name);
		r = store_volume_delete(t->model->store, c->volume_name);
		return r == -ENOENT ? 0 : r;
	}
	if (r < 0)
		return r;
	policy = model_path_string(pv, "spec.persistentVolumeReclaimPolicy");
	if (policy != NULL && strcmp(policy, "Retain") == 0 &&
	    model_path(pv, "metadata.deletionTimestamp") == NULL) {
		r = store_volume_unbind(t->model->store, c->volume_name);
		if (r == 0 && (new_pv = json_deep_copy(pv)) == NULL)
			r = -ENOMEM;
		if (r == 0)
			r = model_path_set(new_pv, "status.phase", json_string("Released"));
		if (r == 0)
			r = model_obj_update(t, MODEL_PV, pv, new_pv);
		if (r == 0)
			r = model_txn_log(t, "released %s (Retain): the data of %s/%s is kept",
					  c->volume_name, c->namespace_name, c->name);
	} else {
		r = store_volume_delete(t->model->store, c->volume_name);
		if (r == -ENOENT)
			r = 0;
		if (r == 0)
			r = model_obj_delete(t, MODEL_PV, pv);
		if (r == 0)
			r = model_txn_log(t, "deleted %s/%s and its volume %s", c->namespace_name,
					  c->name, c->volume_name);
	}
	json_decref(pv);
	json_decref(new_pv);
	return r;
}

/* A deleted claim gave its room back: retry what waits for space now, as
 * an external provisioner would on its next pass. */
static int model_claim_retry_after_delete(struct model_txn *t)
{
	bool waiting = model_capacity_waiting(t->model, false) ||
		       model_capacity_waiting(t->model, true);

	return waiting ? model_reconcile(t) : 0;
}

/* Mark obj as being deleted now (what DELETE answers and DELETED carries). */
static int model_claim_mark_deleted(struct model_txn *t, json_t *obj)
{
	char now[32];

	model_timestamp(t->now, now);
	if (model_path_set(obj, "metadata.deletionTimestamp", json_string(now)) < 0 ||
	    model_path_set(obj, "metadata.deletionGracePeriodSeconds", json_integer(0)) < 0)
		return -ENOMEM;
	return 0;
}

static int model_claim_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
			      struct model_error *err)
{
	struct claim c;
	json_t *obj;
	int r;

	r = model_claim_decode(old, &c);
	if (r < 0)
		return r;
	if (c.phase == CLAIM_BOUND && c.volume_name[0] != '\0')
		r = model_claim_reclaim(t, &c);
	claim_release(&c);
	if (r < 0)
		return r;
	obj = json_deep_copy(old);
	if (obj == NULL)
		return -ENOMEM;
	r = model_claim_mark_deleted(t, obj);
	if (r == 0)
		r = model_obj_delete(t, MODEL_PVC, obj);
	if (r == 0)
		r = model_claim_retry_after_delete(t);
	if (r == 0)
		r = model_attributes_class_release(t); /* it and its PV named no class now */
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_claim_delete_if_exists(struct model_txn *t, const char *ns, const char *name,
				 struct model_error *err)
{
	json_t *old = NULL, *obj = NULL;
	int r;

	r = model_obj_get(t->model, MODEL_PVC, ns, name, &old);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = model_claim_remove(t, old, &obj, err);
	json_decref(old);
	json_decref(obj);
	return r;
}

/* Binding decides these; a status write that changed them would make the
 * claim lie about its volume. */
static const char *const model_claim_status_owned[] = { "phase", "accessModes", "capacity",
							 "currentVolumeAttributesClassName",
							 "modifyVolumeStatus", NULL };

const struct model_kind_ops model_claim_ops = {
	.create = model_claim_create,
	.update = model_claim_update,
	.remove = model_claim_remove,
	.reconcile = model_claim_reconcile,
	.status_owned = model_claim_status_owned,
};
