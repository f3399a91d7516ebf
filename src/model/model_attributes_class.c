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
	int r;

	r = model_update_body(MODEL_VAC, old, body, &obj, err);
	if (r == 0)
		r = model_attributes_class_check(obj, err);
	if (r == 0)
		r = model_check_immutable(old, obj, immutable, sizeof(immutable) / sizeof(immutable[0]),
					  err);
	if (r == 0)
		r = model_obj_update(t, MODEL_VAC, old, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_attributes_class_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
					 struct model_error *err)
{
	(void)err;
	return model_obj_remove(t, MODEL_VAC, old, ret_obj);
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
