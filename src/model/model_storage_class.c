/*
 * model_storage_class.c — StorageClasses (storage.k8s.io/v1).
 *
 * Owns: class validation and defaults (reclaimPolicy Delete,
 * volumeBindingMode Immediate), what may change on update (labels,
 * annotations, allowVolumeExpansion — provisioner, parameters,
 * reclaimPolicy and volumeBindingMode are immutable as in Kubernetes), the
 * default class (annotation storageclass.kubernetes.io/is-default-class:
 * "true"; when several are default, the newest wins, as the admission
 * plugin picks it) and the class `claimfs` created on a store that never
 * had classes (marked by a "ClaimfsDefaults" row so that deleting every
 * class is respected across restarts).
 *
 * claimfs binds at once in every class: WaitForFirstConsumer is accepted
 * and kept, but claimfs runs no pods to wait for.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "log.h"
#include "store.h"

#define MODEL_STORAGE_CLASS_DEFAULT_ANNOTATION "storageclass.kubernetes.io/is-default-class"
#define MODEL_STORAGE_CLASS_MARKER_KIND "ClaimfsDefaults"

/* Is the class annotated as the default? */
static bool model_storage_class_is_default(const json_t *class)
{
	const json_t *notes = model_path(class, "metadata.annotations");
	const char *value = json_string_value(
		json_object_get(notes, MODEL_STORAGE_CLASS_DEFAULT_ANNOTATION));

	if (value == NULL)
		value = json_string_value(
			json_object_get(notes, "storageclass.beta.kubernetes.io/is-default-class"));
	return value != NULL && strcmp(value, "true") == 0;
}

/* Pick the newest default class (ties: the name first in order). */
static int model_storage_class_pick_default(void *ud, json_t *class)
{
	json_t **best = ud;

	if (!model_storage_class_is_default(class))
		return 0;
	if (*best != NULL &&
	    strcmp(model_path_string(*best, "metadata.creationTimestamp") ?: "",
		   model_path_string(class, "metadata.creationTimestamp") ?: "") >= 0)
		return 0;
	json_decref(*best);
	*best = json_incref(class);
	return 0;
}

int model_storage_class_find(struct model *model, const char *name, json_t **ret_class)
{
	json_t *best = NULL;
	int r;

	if (name != NULL)
		return model_obj_get(model, MODEL_SC, NULL, name, ret_class);
	r = model_obj_list(model, MODEL_SC, NULL, model_storage_class_pick_default, &best);
	if (r < 0) {
		json_decref(best);
		return r;
	}
	if (best == NULL)
		return -ENOENT;
	*ret_class = best;
	return 0;
}

int model_storage_class_get(struct model *model, const char *name, json_t **ret_class,
			    struct model_error *err)
{
	model_error_init(err);
	model_error_name(err, MODEL_SC, name != NULL ? name : "");
	return model_storage_class_find(model, name, ret_class);
}

/* Validate and default a class object (modified in place). */
static int model_storage_class_check(json_t *obj, struct model_error *err)
{
	const json_t *provisioner = json_object_get(obj, "provisioner");
	const json_t *policy = json_object_get(obj, "reclaimPolicy");
	const json_t *binding = json_object_get(obj, "volumeBindingMode");
	const json_t *expansion = json_object_get(obj, "allowVolumeExpansion");
	const json_t *params = json_object_get(obj, "parameters"), *value;
	struct names_field_errors *e = &err->fields;
	const char *key;

	if (!json_is_string(provisioner) || json_string_length(provisioner) == 0)
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "provisioner", NULL, "%s", "");
	if (policy == NULL || json_is_null(policy))
		policy = NULL;
	else if (!json_is_string(policy) || (strcmp(json_string_value(policy), "Delete") != 0 &&
					     strcmp(json_string_value(policy), "Retain") != 0))
		names_field_error_add(e, NAMES_FIELD_NOT_SUPPORTED, "reclaimPolicy",
				      json_string_value(policy),
				      "supported values: \"Delete\", \"Retain\"");
	if (binding == NULL || json_is_null(binding))
		binding = NULL;
	else if (!json_is_string(binding) ||
		 (strcmp(json_string_value(binding), "Immediate") != 0 &&
		  strcmp(json_string_value(binding), "WaitForFirstConsumer") != 0))
		names_field_error_add(e, NAMES_FIELD_NOT_SUPPORTED, "volumeBindingMode",
				      json_string_value(binding),
				      "supported values: \"Immediate\", \"WaitForFirstConsumer\"");
	if (expansion != NULL && !json_is_null(expansion) && !json_is_boolean(expansion))
		return model_fail(err, -EBADMSG, "allowVolumeExpansion must be a boolean");
	if (params != NULL && !json_is_object(params))
		return model_fail(err, -EBADMSG, "parameters must be a map of strings");
	json_object_foreach((json_t *)params, key, value)
		if (!json_is_string(value))
			return model_fail(err, -EBADMSG, "parameters must be a map of strings");
	if (e->count > 0)
		return -EINVAL;
	if ((policy == NULL &&
	     json_object_set_new(obj, "reclaimPolicy", json_string("Delete")) < 0) ||
	    (binding == NULL &&
	     json_object_set_new(obj, "volumeBindingMode", json_string("Immediate")) < 0))
		return -ENOMEM;
	return 0;
}

static int model_storage_class_create(struct model_txn *t, const char *ns, const json_t *body,
				      json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = model_new_metadata(t, MODEL_SC, NULL, body, &obj, err);
	if (r == 0)
		r = model_storage_class_check(obj, err);
	if (r == 0)
		r = model_obj_put(t, MODEL_SC, obj, true, 0, NULL);
	/* Claims waiting for this class (or for any default) may bind now. */
	if (r == 0)
		r = model_reconcile(t);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_storage_class_update(struct model_txn *t, const json_t *old, const json_t *body,
				      json_t **ret_obj, struct model_error *err)
{
	static const char *const immutable[] = { "provisioner", "parameters", "reclaimPolicy",
						 "volumeBindingMode" };
	json_t *obj = json_deep_copy(body);
	const json_t *expansion;
	int r;

	if (obj == NULL)
		return -ENOMEM;
	r = model_update_metadata(MODEL_SC, old, body, obj, err);
	if (r == 0)
		r = model_storage_class_check(obj, err);
	if (r == 0)
		r = model_check_immutable(old, obj, immutable, sizeof(immutable) / sizeof(immutable[0]),
					  err);
	if (r == 0) {
		/* Only these are taken from the request; the rest stays. */
		json_t *res = json_deep_copy(old);

		expansion = json_object_get(obj, "allowVolumeExpansion");
		if (res == NULL ||
		    json_object_set(res, "metadata", json_object_get(obj, "metadata")) < 0)
			r = -ENOMEM;
		else if (expansion != NULL && !json_is_null(expansion))
			r = json_object_set(res, "allowVolumeExpansion", (json_t *)expansion) < 0
				    ? -ENOMEM
				    : 0;
		else
			json_object_del(res, "allowVolumeExpansion");
		json_decref(obj);
		obj = res;
	}
	if (r == 0)
		r = model_obj_update(t, MODEL_SC, old, obj);
	if (r == 0 && model_storage_class_is_default(obj) && !model_storage_class_is_default(old))
		r = model_reconcile(t);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_storage_class_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
				      struct model_error *err)
{
	json_t *obj = json_deep_copy(old);
	char now[32];
	int r;

	if (obj == NULL)
		return -ENOMEM;
	model_timestamp(t->now, now);
	r = model_path_set(obj, "metadata.deletionTimestamp", json_string(now));
	if (r == 0)
		r = model_obj_delete(t, MODEL_SC, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_storage_class_defaults(struct model *model)
{
	static const char default_class[] =
		"{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\","
		"\"metadata\":{\"name\":\"" CLAIM_DEFAULT_STORAGE_CLASS "\",\"annotations\":{\""
		MODEL_STORAGE_CLASS_DEFAULT_ANNOTATION "\":\"true\"}},"
		"\"provisioner\":\"" CLAIM_PROVISIONER "\",\"reclaimPolicy\":\"Delete\","
		"\"volumeBindingMode\":\"Immediate\",\"allowVolumeExpansion\":true}";
	struct model_error err;
	struct model_txn t;
	json_t *body = NULL, *obj = NULL;
	char *marker = NULL;
	int64_t version;
	int r;

	r = store_object_get(model->store, MODEL_STORAGE_CLASS_MARKER_KIND, "", "storageclasses",
			     &marker, &version);
	free(marker);
	if (r != -ENOENT)
		return r;
	body = json_loads(default_class, 0, NULL);
	if (body == NULL)
		return -ENOMEM;
	model_error_init(&err);
	r = model_txn_begin(model, false, &t);
	if (r < 0) {
		json_decref(body);
		return r;
	}
	r = store_object_put(model->store, MODEL_STORAGE_CLASS_MARKER_KIND, "", "storageclasses",
			     "{}", NULL, true, 0, &version);
	if (r == 0) {
		r = model_obj_get(model, MODEL_SC, NULL, CLAIM_DEFAULT_STORAGE_CLASS, &obj);
		if (r == -ENOENT)
			r = model_storage_class_create(&t, NULL, body, &obj, &err);
	}
	r = model_txn_end(&t, r, &err);
	json_decref(body);
	json_decref(obj);
	if (r == 0)
		log_info("created the default storage class %s", CLAIM_DEFAULT_STORAGE_CLASS);
	return r;
}

const struct model_kind_ops model_storage_class_ops = {
	.create = model_storage_class_create,
	.update = model_storage_class_update,
	.remove = model_storage_class_remove,
};
