/*
 * model_attributes_class.c — VolumeAttributesClasses (storage.k8s.io/v1,
 * cluster-scoped): named sets of mutable volume attributes a claim selects
 * with spec.volumeAttributesClassName.
 *
 * Owns: the apiserver's validation of a class (driverName a qualified name,
 * parameters one to 512 non-empty keys of at most 256 KiB in all; both
 * immutable, as in Kubernetes: a change of attributes is a new class that
 * claims switch to), and what a class means for a claimfs volume
 * (model_attributes_class_resolve): its parameters read with the CSI
 * driver's own parser (volume_attrs_parse_param), so a class the driver
 * would refuse is refused here in the same words.
 *
 * A new class may let claims waiting for it progress: Pending claims that
 * name it provision, bound claims whose modification waited for it
 * (modifyVolumeStatus Pending) take its parameters. Its create raises
 * model->attributes_class_added and runs model_reconcile.
 *
 * Parameters are opaque to the apiserver: a class with a key claimfs does
 * not take is stored; a claim naming it gets modifyVolumeStatus Infeasible,
 * as a CSI driver's INVALID_ARGUMENT gives in a cluster.
 *
 * Deletion protection, as kube-controller-manager's vac-protection
 * controller keeps it: every class not being deleted carries the finalizer
 * kubernetes.io/vac-protection (added at create, put back by an update that
 * drops it). A class is used while a claim names it (spec.
 * volumeAttributesClassName, status.currentVolumeAttributesClassName or
 * status.modifyVolumeStatus.targetVolumeAttributesClassName) or a PV does
 * (spec.volumeAttributesClassName). Deleting a used class only sets its
 * deletionTimestamp (Terminating: still readable, still applied); deleting
 * an unused one removes it at once. The controller's work on claims and PVs
 * that stop naming a class is model_attributes_class_release, which the
 * claim and PV files call after such changes: a Terminating class nothing
 * uses loses the finalizer and goes (DELETED), in the same transaction.
 * A class whose finalizers a client empties goes then, used or not, as with
 * the apiserver.
 */
#include "model_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "volume_attrs.h"

#define MODEL_ATTRIBUTES_CLASS_PARAMS_MAX 512
#define MODEL_ATTRIBUTES_CLASS_PARAMS_BYTES (256 * 1024)
#define MODEL_ATTRIBUTES_CLASS_FINALIZER "kubernetes.io/vac-protection"

/* driverName: required, a qualified name (checked in lower case, as the
 * apiserver does). */
static void model_attributes_class_check_driver(const json_t *driver, struct names_field_errors *e)
{
	char lower[NAMES_SUBDOMAIN_MAX + NAMES_LABEL_MAX + 2];
	const char *text = json_string_value(driver);
	size_t len = text != NULL ? strlen(text) : 0;

	if (len == 0) {
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "driverName", NULL, "%s", "");
		return;
	}
	if (len >= sizeof(lower)) {
		names_field_error_add(e, NAMES_FIELD_INVALID, "driverName", text,
				      "%s", "name part must be no more than 63 characters");
		return;
	}
	for (size_t i = 0; i <= len; i++)
		lower[i] = (char)tolower((unsigned char)text[i]);
	names_check_label_key(lower, "driverName", e);
}

/* Validate a class object (apiVersion, kind and metadata already done). */
static int model_attributes_class_check(const json_t *obj, struct model_error *err)
{
	const json_t *driver = json_object_get(obj, "driverName");
	const json_t *params = json_object_get(obj, "parameters"), *value;
	struct names_field_errors *e = &err->fields;
	size_t bytes = 0;
	const char *key;

	if (driver != NULL && !json_is_null(driver) && !json_is_string(driver))
		return model_fail(err, -EBADMSG, "driverName must be a string");
	if (params != NULL && !json_is_null(params) && !json_is_object(params))
		return model_fail(err, -EBADMSG, "parameters must be a map of strings");
	json_object_foreach((json_t *)params, key, value) {
		if (!json_is_string(value))
			return model_fail(err, -EBADMSG, "parameters must be a map of strings");
		if (key[0] == '\0')
			names_field_error_add(e, NAMES_FIELD_INVALID, "parameters", "", "%s",
					      "field can not be empty.");
		bytes += strlen(key) + json_string_length(value);
	}
	model_attributes_class_check_driver(driver, e);
	if (json_object_size(params) > MODEL_ATTRIBUTES_CLASS_PARAMS_MAX)
		names_field_error_add(e, NAMES_FIELD_TOO_LONG, "parameters", NULL,
				      "must have at most %d items", MODEL_ATTRIBUTES_CLASS_PARAMS_MAX);
	else if (bytes > MODEL_ATTRIBUTES_CLASS_PARAMS_BYTES)
		names_field_error_add(e, NAMES_FIELD_TOO_LONG, "parameters", NULL,
				      "may not be more than %d bytes",
				      MODEL_ATTRIBUTES_CLASS_PARAMS_BYTES);
	if (json_object_size(params) == 0)
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "parameters", NULL, "%s",
				      "must contain at least one key/value pair");
	return e->count > 0 ? -EINVAL : 0;
}

/* ---- deletion protection ---------------------------------------------------------------- */

/* Index of the protection finalizer in obj's metadata.finalizers, or -1. */
static int model_attributes_class_finalizer_at(const json_t *obj)
{
	const json_t *value;
	size_t i;

	json_array_foreach(model_path(obj, "metadata.finalizers"), i, value)
		if (strcmp(json_string_value(value) ?: "", MODEL_ATTRIBUTES_CLASS_FINALIZER) == 0)
			return (int)i;
	return -1;
}

/* Give obj the protection finalizer unless it has it. */
static int model_attributes_class_protect(json_t *obj)
{
	json_t *list = model_path(obj, "metadata.finalizers");

	if (model_attributes_class_finalizer_at(obj) >= 0)
		return 0;
	if (!json_is_array(list)) {
		if (model_path_set(obj, "metadata.finalizers", json_array()) < 0)
			return -ENOMEM;
		list = model_path(obj, "metadata.finalizers");
	}
	return json_array_append_new(list, json_string(MODEL_ATTRIBUTES_CLASS_FINALIZER)) == 0
		       ? 0
		       : -ENOMEM;
}

struct model_attributes_class_use {
	const char *name;
	bool used;
};

/* model_obj_cb over claims and PVs: does obj name the class? (The paths the
 * vac-protection controller indexes; a PV has only the first.) */
static int model_attributes_class_note_use(void *ud, json_t *obj)
{
	static const char *const paths[] = {
		"spec.volumeAttributesClassName",
		"status.currentVolumeAttributesClassName",
		"status.modifyVolumeStatus.targetVolumeAttributesClassName",
	};
	struct model_attributes_class_use *use = ud;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (strcmp(model_path_string(obj, paths[i]) ?: "", use->name) == 0)
			use->used = true;
	return 0;
}

/* Does any claim (any namespace) or PV name class name? */
static int model_attributes_class_in_use(struct model *model, const char *name, bool *ret_used)
{
	struct model_attributes_class_use use = { .name = name };
	int r;

	r = model_obj_list(model, MODEL_PVC, NULL, model_attributes_class_note_use, &use);
	if (r == 0 && !use.used)
		r = model_obj_list(model, MODEL_PV, NULL, model_attributes_class_note_use, &use);
	if (r == 0)
		*ret_used = use.used;
	return r;
}

/* Store obj, the new state of old: a Terminating class with no finalizer
 * left is deleted (DELETED), as the apiserver does. */
static int model_attributes_class_store(struct model_txn *t, const json_t *old, json_t *obj)
{
	int r;

	if (model_path(obj, "metadata.deletionTimestamp") == NULL ||
	    json_array_size(model_path(obj, "metadata.finalizers")) > 0)
		return model_obj_update(t, MODEL_VAC, old, obj);
	r = model_obj_delete(t, MODEL_VAC, obj);
	if (r == 0)
		r = model_txn_log(t, "VolumeAttributesClass %s is gone",
				  model_path_string(obj, "metadata.name"));
	return r;
}

/* The controller's step on one class: a Terminating class nothing uses
 * loses the protection finalizer (and goes if that was the last one).
 * *ret_held: it stays Terminating, held by its use. */
static int model_attributes_class_settle(struct model_txn *t, const json_t *old, json_t *obj,
					 bool *ret_held)
{
	int at = model_attributes_class_finalizer_at(obj);
	bool used = false;
	int r = 0;

	if (model_path(obj, "metadata.deletionTimestamp") != NULL && at >= 0) {
		r = model_attributes_class_in_use(t->model, model_path_string(obj, "metadata.name"),
						  &used);
		if (r == 0 && !used &&
		    json_array_remove(model_path(obj, "metadata.finalizers"), (size_t)at) < 0)
			r = -ENOMEM;
		if (r == 0 && json_array_size(model_path(obj, "metadata.finalizers")) == 0)
			json_object_del(json_object_get(obj, "metadata"), "finalizers");
	}
	if (r == 0)
		r = model_attributes_class_store(t, old, obj);
	if (r == 0)
		*ret_held = used;
	return r;
}

/* model_obj_cb: collect the Terminating classes the protection holds (into
 * the json array ud). */
static int model_attributes_class_collect_terminating(void *ud, json_t *obj)
{
	if (model_path(obj, "metadata.deletionTimestamp") == NULL ||
	    model_attributes_class_finalizer_at(obj) < 0)
		return 0;
	return json_array_append(ud, obj) == 0 ? 0 : -ENOMEM;
}

int model_attributes_class_release(struct model_txn *t)
{
	json_t *picked, *old;
	size_t i;
	int r;

	if (atomic_load(&t->model->attributes_class_settled))
		return 0;
	picked = json_array();
	if (picked == NULL)
		return -ENOMEM;
	r = model_obj_list(t->model, MODEL_VAC, NULL, model_attributes_class_collect_terminating,
			   picked);
	json_array_foreach(picked, i, old) {
		json_t *obj = r == 0 ? json_deep_copy(old) : NULL;
		bool held = false;

		if (r == 0 && obj == NULL)
			r = -ENOMEM;
		if (r == 0)
			r = model_attributes_class_settle(t, old, obj, &held);
		json_decref(obj);
	}
	/* Only a pass that found nothing held may say so: one that deleted a
	 * class could still be rolled back. */
	if (r == 0 && json_array_size(picked) == 0)
		atomic_store(&t->model->attributes_class_settled, true);
	json_decref(picked);
	return r;
}

static int model_attributes_class_create(struct model_txn *t, const char *ns, const json_t *body,
					 json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	(void)ns;
	r = model_new_metadata(t, MODEL_VAC, NULL, body, &obj, err);
	if (r == 0)
		r = model_attributes_class_check(obj, err);
	if (r == 0)
		r = model_attributes_class_protect(obj);
	if (r == 0)
		r = model_obj_put(t, MODEL_VAC, obj, true, 0, NULL);
	/* Claims that name this class may provision or be modified now. */
	if (r == 0) {
		atomic_store(&t->model->attributes_class_added, true);
		r = model_reconcile(t);
	}
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_attributes_class_update(struct model_txn *t, const json_t *old,
					 const json_t *body, json_t **ret_obj,
					 struct model_error *err)
{
	static const char *const immutable[] = { "driverName", "parameters" };
	json_t *obj = NULL;
	bool held = false;
	int r;

	r = model_update_body(MODEL_VAC, old, body, &obj, err);
	if (r == 0)
		r = model_attributes_class_check(obj, err);
	if (r == 0)
		r = model_check_immutable(old, obj, immutable, sizeof(immutable) / sizeof(immutable[0]),
					  err);
	/* The controller puts the finalizer back on a live class at once; on
	 * a Terminating one it decides as on any other change. */
	if (r == 0 && model_path(obj, "metadata.deletionTimestamp") == NULL)
		r = model_attributes_class_protect(obj);
	if (r == 0)
		r = model_attributes_class_settle(t, old, obj, &held);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* DELETE: a used class turns Terminating (held by the finalizer, which a
 * class stored before the protection existed gets now, as the controller
 * gives it on start); an unused one goes at once. Deleting a Terminating
 * class again changes nothing. */
static int model_attributes_class_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
					 struct model_error *err)
{
	json_t *obj = json_deep_copy(old);
	bool held = false;
	char now[32];
	int r = 0;

	(void)err;
	if (obj == NULL)
		return -ENOMEM;
	if (model_path(old, "metadata.deletionTimestamp") != NULL)
		goto out;
	model_timestamp(t->now, now);
	if (model_attributes_class_protect(obj) < 0 ||
	    model_path_set(obj, "metadata.deletionTimestamp", json_string(now)) < 0 ||
	    model_path_set(obj, "metadata.deletionGracePeriodSeconds", json_integer(0)) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = model_attributes_class_settle(t, old, obj, &held);
	if (r == 0 && held) {
		atomic_store(&t->model->attributes_class_settled, false);
		r = model_txn_log(t, "VolumeAttributesClass %s is in use: kept until released",
				  model_path_string(old, "metadata.name"));
	}
out:
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_attributes_class_resolve(struct model *model, const char *name,
				   struct volume_attrs *ret_attrs, char *why, size_t why_size)
{
	struct volume_attrs attrs = { 0 };
	json_t *class = NULL, *value;
	const char *driver, *key;
	int r;

	r = model_obj_get(model, MODEL_VAC, NULL, name, &class);
	if (r == -ENOENT)
		snprintf(why, why_size, "VolumeAttributesClass \"%s\" not found", name);
	if (r < 0)
		return r;
	driver = json_string_value(json_object_get(class, "driverName")) ?: "";
	if (strcmp(driver, CLAIM_PROVISIONER) != 0) {
		snprintf(why, why_size,
			 "VolumeAttributesClass \"%s\" is for driver %s, not " CLAIM_PROVISIONER,
			 name, driver);
		r = -EINVAL;
	}
	json_object_foreach(json_object_get(class, "parameters"), key, value)
		if (r == 0 && volume_attrs_parse_param(key, json_string_value(value) ?: "", &attrs,
						       why, why_size) < 0)
			r = -EINVAL;
	json_decref(class);
	if (r == 0)
		*ret_attrs = attrs;
	return r;
}

const struct model_kind_ops model_attributes_class_ops = {
	.create = model_attributes_class_create,
	.update = model_attributes_class_update,
	.remove = model_attributes_class_remove,
};
