/*
 * model_ops.c — the generic create/get/list/replace/patch/delete every kind
 * goes through: one write transaction per call (model_txn_begin/end), the
 * stored object read under the write lock, the patch applied to it, and
 * the kind's own rules (struct model_kind_ops) deciding what is stored.
 * The rules are reached through model->kinds, the table model_kinds.c
 * hands to the core, so this file names no kind.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selector.h"
#include "store.h"

/* ---- generic operations ------------------------------------------------------------------ */

/* The resourceVersion a dry run answers: the apiserver's dry run never
 * reaches storage, so a created object has none and a changed one keeps
 * old's (kubectl diff compares it with the live object). r: the call's
 * result, returned. */
static int model_dry_version(const struct model_txn *t, int r, const json_t *old, json_t *obj)
{
	if (r < 0 || !t->dry_run || obj == NULL)
		return r;
	if (old == NULL) {
		json_object_del(json_object_get(obj, "metadata"), "resourceVersion");
		return 0;
	}
	return model_path_set(obj, "metadata.resourceVersion",
			      json_string(model_path_string(old, "metadata.resourceVersion")));
}

int model_create(struct model *model, enum model_kind kind, const char *ns, const json_t *body,
		 const struct model_write_options *opts, json_t **ret_obj,
		 struct model_error *err)
{
	struct model_txn t;
	json_t *obj = NULL;
	int r;

	r = model_write_begin(model, kind, model_path_string(body, "metadata.name"), opts, &t, err);
	if (r < 0)
		return r;
	r = model_namespace_admit(&t, kind, ns, model_path_string(body, "metadata.name"), err);
	if (r == 0)
		r = model->kinds[kind]->create(&t, ns, body, &obj, err);
	r = model_dry_version(&t, model_txn_end(&t, r, err), NULL, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_get(struct model *model, enum model_kind kind, const char *ns, const char *name,
	      json_t **ret_obj, struct model_error *err)
{
	model_error_init(err);
	model_error_name(err, kind, name);
	return model_obj_get(model, kind, ns, name, ret_obj);
}

struct model_list_filter {
	const struct model_list_options *opts;
	json_t *items;
};

/* Keep the objects that pass the selectors. */
static int model_list_item(void *ud, json_t *obj)
{
	struct model_list_filter *f = ud;

	if (f->opts != NULL && f->opts->labels != NULL &&
	    !selector_match_labels(f->opts->labels, model_path(obj, "metadata.labels")))
		return 0;
	if (f->opts != NULL && f->opts->fields != NULL &&
	    !selector_match_fields(f->opts->fields, obj))
		return 0;
	return json_array_append(f->items, obj) == 0 ? 0 : -ENOMEM;
}

/* The <Kind>List of items at version. */
static json_t *model_list_of(enum model_kind kind, int64_t version, json_t *items)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)version);
	return json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", model_kind_info(kind)->list_kind,
			 "apiVersion", model_kind_info(kind)->api_version, "metadata",
			 "resourceVersion", text, "items", items);
}

int model_list(struct model *model, enum model_kind kind, const char *ns,
	       const struct model_list_options *opts, json_t **ret_list,
	       struct model_error *err)
{
	struct model_list_filter f = { opts, json_array() };
	json_t *list = NULL;
	int64_t version;
	int r;

	model_error_init(err);
	model_error_name(err, kind, "");
	if (f.items == NULL)
		return -ENOMEM;
	/* Read the version first: the list is at least as new as it says. */
	version = store_current_version(model->store);
	r = model_obj_list(model, kind, ns, model_list_item, &f);
	if (r < 0)
		goto out;
	list = model_list_of(kind, version, f.items);
	if (list == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*ret_list = list;
out:
	json_decref(f.items);
	return r;
}

/* Update old to body (a full object) inside t; *ret_obj the result. An
 * update that changes nothing writes nothing (same resourceVersion). */
static int model_update_in(struct model_txn *t, enum model_kind kind, json_t *old,
			   const json_t *body, json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = t->model->kinds[kind]->update(t, old, body, &obj, err);
	if (r < 0)
		return r;
	*ret_obj = obj;
	return 0;
}

/* Create the object the URL names (ns, name) from body inside t, as an
 * update or apply of a missing object does: body's name, if any, must be
 * the URL's; the namespace admits it first, as for a POST. */
static int model_create_named(struct model_txn *t, enum model_kind kind, const char *ns,
			      const char *name, const json_t *body, json_t **ret_obj,
			      struct model_error *err)
{
	const char *body_name = model_path_string(body, "metadata.name");
	json_t *copy;
	int r;

	if (body_name != NULL && body_name[0] != '\0' && strcmp(body_name, name) != 0)
		return model_fail(err, -EBADMSG,
				  "the name of the object (%.253s) does not match the name on the URL "
				  "(%.253s)",
				  body_name, name);
	copy = json_deep_copy(body);
	if (copy == NULL || !json_is_object(copy) ||
	    model_path_set(copy, "metadata.name", json_string(name)) < 0) {
		json_decref(copy);
		return json_is_object(body) ? -ENOMEM : model_check_type(kind, body, err);
	}
	r = model_namespace_admit(t, kind, ns, name, err);
	if (r == 0)
		r = t->model->kinds[kind]->create(t, ns, copy, ret_obj, err);
	json_decref(copy);
	return r;
}

int model_replace(struct model *model, enum model_kind kind, const char *ns, const char *name,
		  const json_t *body, const struct model_write_options *opts, json_t **ret_obj,
		  bool *ret_created, struct model_error *err)
{
	const char *version = model_path_string(body, "metadata.resourceVersion");
	bool created = false;
	struct model_txn t;
	json_t *old = NULL, *obj = NULL;
	int r;

	r = model_write_begin(model, kind, name, opts, &t, err);
	if (r < 0)
		return r;
	r = model_obj_get(model, kind, ns, name, &old);
	/* A kind the apiserver lets an update create (AllowCreateOnUpdate:
	 * Events): a PUT of a missing object creates it, unless the body names
	 * a version of it (then it is the object that is gone). */
	if (r == -ENOENT && model->kinds[kind]->create_on_update &&
	    (version == NULL || version[0] == '\0')) {
		r = model_create_named(&t, kind, ns, name, body, &obj, err);
		created = r == 0;
	} else if (r == 0) {
		r = model_update_in(&t, kind, old, body, &obj, err);
	}
	r = model_dry_version(&t, model_txn_end(&t, r, err), old, obj);
	json_decref(old);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	*ret_created = created;
	return 0;
}

int model_patch(struct model *model, enum model_kind kind, const char *ns, const char *name,
		enum model_patch_type type, const json_t *patch,
		const struct model_write_options *opts, json_t **ret_obj, bool *ret_created,
		struct model_error *err)
{
	struct model_txn t;
	json_t *old = NULL, *body = NULL, *obj = NULL;
	int r;

	*ret_created = false;
	r = model_write_begin(model, kind, name, opts, &t, err);
	if (r < 0)
		return r;
	r = model_obj_get(model, kind, ns, name, &old);
	if (r == -ENOENT && type == MODEL_PATCH_APPLY) {
		/* Server-side apply of a new object is a create. */
		r = model_create_named(&t, kind, ns, name, patch, &obj, err);
		*ret_created = r == 0;
	} else if (r == 0) {
		r = model_apply_patch(kind, old, type, patch, &body, err);
		if (r == 0 && opts != NULL && opts->check_patched != NULL)
			r = opts->check_patched(opts->check_ud, body, err);
		if (r == 0)
			r = model_update_in(&t, kind, old, body, &obj, err);
	}
	r = model_dry_version(&t, model_txn_end(&t, r, err), *ret_created ? NULL : old, obj);
	json_decref(old);
	json_decref(body);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* The object a status write of req makes of old: old with req's status,
 * except the members the kind's controller decides. */
static int model_status_merge(struct model *model, enum model_kind kind, const json_t *old,
			      const json_t *req, json_t **ret_obj, struct model_error *err)
{
	const char *const *owned = model->kinds[kind]->status_owned;
	const char *version = model_path_string(req, "metadata.resourceVersion");
	const char *name = model_path_string(req, "metadata.name");
	const json_t *req_status = json_object_get(req, "status");
	json_t *obj, *status;
	int r;

	r = model_check_type(kind, req, err);
	if (r < 0)
		return r;
	if (name != NULL && name[0] != '\0' &&
	    strcmp(name, model_path_string(old, "metadata.name")) != 0)
		return model_fail(err, -EBADMSG,
				  "the name of the object (%.253s) does not match the name on the URL "
				  "(%.253s)",
				  name, model_path_string(old, "metadata.name"));
	if (version != NULL && version[0] != '\0' &&
	    strcmp(version, model_path_string(old, "metadata.resourceVersion")) != 0)
		return -ESTALE;
	if (req_status != NULL && !json_is_null(req_status) && !json_is_object(req_status))
		return model_fail(err, -EBADMSG, "status must be an object");
	obj = json_deep_copy(old);
	status = json_is_object(req_status) ? json_deep_copy(req_status) : json_object();
	if (obj == NULL || status == NULL || json_object_set_new(obj, "status", status) < 0)
		goto nomem;
	for (size_t i = 0; owned != NULL && owned[i] != NULL; i++) {
		json_t *kept = json_object_get(json_object_get(old, "status"), owned[i]);

		if (kept == NULL)
			json_object_del(status, owned[i]);
		else if (json_object_set_new(status, owned[i], json_deep_copy(kept)) < 0)
			goto nomem;
	}
	*ret_obj = obj;
	return 0;
nomem:
	json_decref(obj);
	return -ENOMEM;
}

int model_status_update(struct model *model, enum model_kind kind, const char *ns,
			const char *name, int type, const json_t *body,
			const struct model_write_options *opts, json_t **ret_obj,
			struct model_error *err)
{
	struct model_txn t;
	json_t *old = NULL, *req = NULL, *obj = NULL;
	int r;

	r = model_write_begin(model, kind, name, opts, &t, err);
	if (r < 0)
		return r;
	r = model_obj_get(model, kind, ns, name, &old);
	if (r == 0 && type < 0)
		req = json_incref((json_t *)body);
	else if (r == 0)
		r = model_apply_patch(kind, old, (enum model_patch_type)type, body, &req, err);
	if (r == 0 && type >= 0 && opts != NULL && opts->check_patched != NULL)
		r = opts->check_patched(opts->check_ud, req, err);
	if (r == 0)
		r = model_status_merge(model, kind, old, req, &obj, err);
	if (r == 0)
		r = model_obj_update(&t, kind, old, obj);
	r = model_dry_version(&t, model_txn_end(&t, r, err), old, obj);
	json_decref(old);
	json_decref(req);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* One DELETE, in a transaction of its own: preconditions (may be NULL)
 * checked against the stored object first. */
int model_delete(struct model *model, enum model_kind kind, const char *ns, const char *name,
		 const json_t *preconditions, const struct model_write_options *opts,
		 json_t **ret_obj, struct model_error *err)
{
	const char *want_version = json_string_value(json_object_get(preconditions, "resourceVersion"));
	const char *want_uid = json_string_value(json_object_get(preconditions, "uid"));
	struct model_txn t;
	json_t *old = NULL, *obj = NULL;
	int r;

	r = model_write_begin(model, kind, name, opts, &t, err);
	if (r < 0)
		return r;
	r = model_obj_get(model, kind, ns, name, &old);
	if (r == 0 && want_version != NULL &&
	    strcmp(want_version, model_path_string(old, "metadata.resourceVersion")) != 0)
		r = -ESTALE;
	if (r == 0 && want_uid != NULL &&
	    strcmp(want_uid, model_path_string(old, "metadata.uid")) != 0)
		r = model_fail(err, -ESTALE,
			       "Precondition failed: UID in precondition: %.40s, UID in object "
			       "meta: %.40s",
			       want_uid, model_path_string(old, "metadata.uid"));
	if (r == 0)
		r = model->kinds[kind]->remove(&t, old, &obj, err);
	r = model_txn_end(&t, r, err);
	json_decref(old);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_delete_collection(struct model *model, enum model_kind kind, const char *ns,
			    const struct model_list_options *filter, const json_t *preconditions,
			    const struct model_write_options *opts, json_t **ret_list,
			    struct model_error *err)
{
	json_t *list = NULL, *item;
	size_t i;
	int r;

	r = model_list(model, kind, ns, filter, &list, err);
	/* One DELETE per item, in list order, as the apiserver's single
	 * delete-collection worker does: the first failure ends the call and
	 * what was deleted before it stays deleted. An item already gone
	 * (removing one object may remove another) is no failure. */
	json_array_foreach(json_object_get(list, "items"), i, item) {
		json_t *gone = NULL;

		if (r < 0)
			break;
		r = model_delete(model, kind, model_path_string(item, "metadata.namespace"),
				 model_path_string(item, "metadata.name"), preconditions, opts, &gone,
				 err);
		json_decref(gone);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*ret_list = list;
	return 0;
}
