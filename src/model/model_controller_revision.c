/*
 * model_controller_revision.c — ControllerRevisions (apps/v1): the history
 * of each StatefulSet's pod template, as the StatefulSet controller keeps
 * it (what `kubectl rollout history` and `rollout undo` read).
 *
 * Owns: the kind's own rules (clients may create, update, patch and delete
 * revisions as the apiserver lets them: data is required and immutable,
 * revision is a non-negative integer) and the controller's bookkeeping,
 * called by model_stateful_set.c inside the set's write transaction:
 *
 *   model_controller_revision_sync    after every create or update of a
 *       set: the revision <set>-<hash> of its template exists, owned by the
 *       set, and holds the newest revision number (a template that comes
 *       back gets its old revision renumbered, as the controller does);
 *       beyond spec.revisionHistoryLimit the oldest others are deleted.
 *   model_controller_revision_delete_owned  when the set goes: its
 *       revisions go with it (the garbage collector's cascading delete).
 *
 * Invariants: a set's revisions are the objects in its namespace whose
 * controller ownerReference carries its uid; their revision numbers are
 * distinct and the set's current template has the highest. Everything
 * happens in the caller's transaction, so a dry run leaves no revision.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_REVISION_HASH_LABEL "controller.kubernetes.io/hash"

/* ---- the kind's rules ------------------------------------------------------------- */

/* The rules of ValidateControllerRevision: data present, revision >= 0. */
static int model_controller_revision_check(const json_t *obj, struct model_error *err)
{
	const json_t *data = json_object_get(obj, "data");
	const json_t *revision = json_object_get(obj, "revision");

	if (revision != NULL && !json_is_null(revision) && !json_is_integer(revision))
		return model_fail(err, -EBADMSG,
				  "ControllerRevision in version \"v1\" cannot be handled as a "
				  "ControllerRevision: revision must be an integer");
	if (data == NULL || json_is_null(data))
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, "data", NULL,
				      "data is mandatory");
	if (json_integer_value(revision) < 0)
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "revision", NULL,
				      "must be greater than or equal to 0");
	return err->fields.count > 0 ? -EINVAL : 0;
}

static int model_controller_revision_create(struct model_txn *t, const char *ns,
					    const json_t *body, json_t **ret_obj,
					    struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = model_new_metadata(t, MODEL_CONTROLLER_REVISION, ns, body, &obj, err);
	if (r == 0)
		r = model_controller_revision_check(obj, err);
	if (r == 0 && json_object_get(obj, "revision") == NULL)
		r = json_object_set_new(obj, "revision", json_integer(0)) == 0 ? 0 : -ENOMEM;
	if (r == 0)
		r = model_obj_put(t, MODEL_CONTROLLER_REVISION, obj, true, 0, NULL);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_controller_revision_update(struct model_txn *t, const json_t *old,
					    const json_t *body, json_t **ret_obj,
					    struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = model_update_body(MODEL_CONTROLLER_REVISION, old, body, &obj, err);
	if (r < 0)
		return r;
	r = model_controller_revision_check(obj, err);
	if (r == 0 && !json_equal(json_object_get(obj, "data"), json_object_get(old, "data"))) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "data", NULL,
				      "field is immutable");
		r = -EINVAL;
	}
	if (r == 0 && json_object_get(obj, "revision") == NULL)
		r = json_object_set_new(obj, "revision", json_integer(0)) == 0 ? 0 : -ENOMEM;
	if (r == 0)
		r = model_obj_update(t, MODEL_CONTROLLER_REVISION, old, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_controller_revision_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
					    struct model_error *err)
{
	(void)err;
	return model_obj_remove(t, MODEL_CONTROLLER_REVISION, old, ret_obj);
}

const struct model_kind_ops model_controller_revision_ops = {
	.create = model_controller_revision_create,
	.update = model_controller_revision_update,
	.remove = model_controller_revision_remove,
};

/* ---- the StatefulSet controller's history ------------------------------------------ */

/* Is obj controlled by the object with uid (its controller ownerReference)? */
static bool model_controller_revision_owned(const json_t *obj, const char *uid)
{
	const json_t *ref;
	size_t i;

	json_array_foreach(model_path(obj, "metadata.ownerReferences"), i, ref)
		if (json_is_true(json_object_get(ref, "controller")))
			return uid != NULL &&
			       strcmp(json_string_value(json_object_get(ref, "uid")) ?: "", uid) == 0;
	return false;
}

struct model_controller_revision_owned_list {
	const char *uid;
	json_t *items; /* the set's revisions */
};

/* model_obj_cb: keep the revisions the set controls. */
static int model_controller_revision_collect(void *ud, json_t *obj)
{
	struct model_controller_revision_owned_list *l = ud;

	if (!model_controller_revision_owned(obj, l->uid))
		return 0;
	return json_array_append(l->items, obj) == 0 ? 0 : -ENOMEM;
}

/* The revisions set controls, into *ret_items (a new array). */
static int model_controller_revision_list(struct model_txn *t, const json_t *set,
					  json_t **ret_items)
{
	struct model_controller_revision_owned_list l = {
		model_path_string(set, "metadata.uid"), json_array()
	};
	int r;

	if (l.items == NULL)
		return -ENOMEM;
	r = model_obj_list(t->model, MODEL_CONTROLLER_REVISION,
			   model_path_string(set, "metadata.namespace"),
			   model_controller_revision_collect, &l);
	if (r < 0) {
		json_decref(l.items);
		return r;
	}
	*ret_items = l.items;
	return 0;
}

/* The revision object the controller writes for set's template (name and
 * hash as in the set's status). */
static json_t *model_controller_revision_new(struct model_txn *t, const json_t *set,
					     const char *name, const char *hash,
					     json_int_t revision)
{
	json_t *labels = json_deep_copy(model_path(set, "spec.template.metadata.labels"));
	json_t *annotations = json_deep_copy(model_path(set, "metadata.annotations"));
	json_t *template = json_deep_copy(model_path(set, "spec.template"));
	char uid[37], now[32];
	json_t *obj = NULL;

	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}
	if (labels == NULL || template == NULL ||
	    json_object_set_new(labels, MODEL_REVISION_HASH_LABEL, json_string(hash)) < 0 ||
	    json_object_set_new(template, "$patch", json_string("replace")) < 0)
		goto out;
	model_new_uid(uid);
	model_timestamp(t->now, now);
	/* The controller copies the set's annotations (change-cause among them). */
	obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:O, s:[{s:s, s:s, s:s, s:s, s:b, s:b}]},"
			" s:{s:{s:O}}, s:I}",
			"apiVersion", "apps/v1", "kind", "ControllerRevision", "metadata", "name", name,
			"namespace", model_path_string(set, "metadata.namespace"), "uid", uid,
			"creationTimestamp", now, "labels", labels, "ownerReferences", "apiVersion",
			"apps/v1", "kind", "StatefulSet", "name", model_path_string(set, "metadata.name"),
			"uid", model_path_string(set, "metadata.uid"), "controller", 1,
			"blockOwnerDeletion", 1, "data", "spec", "template", template, "revision",
			revision);
	if (obj != NULL && json_is_object(annotations) && json_object_size(annotations) > 0 &&
	    model_path_set(obj, "metadata.annotations", json_incref(annotations)) < 0) {
		json_decref(obj);
		obj = NULL;
	}
out:
	json_decref(labels);
	json_decref(annotations);
	json_decref(template);
	return obj;
}

static int model_controller_revision_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "revision"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "revision"));

	return x < y ? -1 : x > y;
}

/* Delete the oldest revisions of items but keep, beyond the one named
 * live, at most limit of them (the controller's truncateHistory). */
static int model_controller_revision_prune(struct model_txn *t, json_t *items, const char *live,
					   json_int_t limit)
{
	size_t count = json_array_size(items), old = 0;
	json_t **sorted = calloc(count > 0 ? count : 1, sizeof(*sorted));
	int r = 0;

	if (sorted == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_array_get(items, i);

		if (strcmp(model_path_string(item, "metadata.name") ?: "", live) != 0)
			sorted[old++] = item;
	}
	qsort(sorted, old, sizeof(*sorted), model_controller_revision_cmp);
	for (size_t i = 0; r == 0 && limit >= 0 && (json_int_t)(old - i) > limit; i++) {
		json_t *gone = json_deep_copy(sorted[i]);

		r = gone != NULL ? model_obj_delete(t, MODEL_CONTROLLER_REVISION, gone) : -ENOMEM;
		json_decref(gone);
	}
	free(sorted);
	return r;
}

int model_controller_revision_sync(struct model_txn *t, const json_t *set, const char *hash,
				   struct model_error *err)
{
	char name[NAMES_SUBDOMAIN_MAX + 1];
	json_t *items = NULL, *existing = NULL, *obj = NULL, *item;
	json_int_t newest = 0;
	size_t i;
	int r;

	(void)err;
	/* ControllerRevisionName: the set's name cut to 223 characters. */
	snprintf(name, sizeof(name), "%.223s-%s", model_path_string(set, "metadata.name"), hash);
	r = model_controller_revision_list(t, set, &items);
	if (r < 0)
		return r;
	json_array_foreach(items, i, item) {
		json_int_t revision = json_integer_value(json_object_get(item, "revision"));

		if (revision > newest)
			newest = revision;
		if (strcmp(model_path_string(item, "metadata.name") ?: "", name) == 0)
			existing = item;
	}
	if (existing != NULL &&
	    json_integer_value(json_object_get(existing, "revision")) != newest) {
		/* The template came back: its revision becomes the newest. */
		obj = json_deep_copy(existing);
		r = obj != NULL && json_object_set_new(obj, "revision", json_integer(newest + 1)) == 0
			    ? model_obj_update(t, MODEL_CONTROLLER_REVISION, existing, obj)
			    : -ENOMEM;
	} else if (existing == NULL) {
		json_t *stale = NULL;

		/* A revision of that name the set does not control (left by a
		 * set of the same name): the new set's history replaces it. */
		if (model_obj_get(t->model, MODEL_CONTROLLER_REVISION,
				  model_path_string(set, "metadata.namespace"), name, &stale) == 0)
			r = model_obj_delete(t, MODEL_CONTROLLER_REVISION, stale);
		json_decref(stale);
		obj = r == 0 ? model_controller_revision_new(t, set, name, hash, newest + 1) : NULL;
		if (r == 0)
			r = obj != NULL ? model_obj_put(t, MODEL_CONTROLLER_REVISION, obj, true, 0, NULL)
					: -ENOMEM;
	}
	if (r == 0)
		r = model_controller_revision_prune(
			t, items, name,
			json_integer_value(model_path(set, "spec.revisionHistoryLimit")));
	json_decref(obj);
	json_decref(items);
	return r;
}

int model_controller_revision_delete_owned(struct model_txn *t, const json_t *set)
{
	json_t *items = NULL, *item;
	size_t i;
	int r;

	r = model_controller_revision_list(t, set, &items);
	json_array_foreach(items, i, item) {
		if (r < 0)
			break;
		r = model_obj_delete(t, MODEL_CONTROLLER_REVISION, item);
	}
	json_decref(items);
	return r;
}
