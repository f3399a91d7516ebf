/*
 * model_namespace.c — v1 Namespaces.
 *
 * A namespace exists once something is created in it (model_namespace_admit
 * creates it Active, as claims could always name any namespace) or once a
 * client creates it; "default" always exists (model_namespace_defaults).
 *
 * Deletion follows the apiserver and the namespace controller in one
 * transaction: the namespace gets its deletionTimestamp and phase
 * Terminating (what DELETE answers), its StatefulSets, claims (each by its
 * own rules, so a Retain volume keeps its data and a Delete volume goes),
 * snapshots and events are deleted, and the "kubernetes" finalizer is
 * dropped from spec.finalizers. The namespace is then gone unless a client
 * put its own finalizers in metadata.finalizers: it stays Terminating,
 * refusing new content with the apiserver's 403, until they are removed.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define MODEL_NS_FINALIZER "kubernetes"
#define MODEL_NS_NAME_LABEL "kubernetes.io/metadata.name"

/* Fill in what the apiserver keeps on every namespace: the name label, the
 * spec's finalizer (if spec_finalizer) and the phase. */
static int model_namespace_fill(json_t *obj, bool spec_finalizer, const char *phase)
{
	const char *name = model_path_string(obj, "metadata.name");
	json_t *labels = model_path(obj, "metadata.labels");

	/* The label's key has dots: set it in the map, not by a dotted path. */
	if (!json_is_object(labels) &&
	    model_path_set(obj, "metadata.labels", labels = json_object()) < 0)
		return -ENOMEM;
	if (json_object_set_new(labels, MODEL_NS_NAME_LABEL, json_string(name)) < 0 ||
	    model_path_set(obj, "status.phase", json_string(phase)) < 0)
		return -ENOMEM;
	if (spec_finalizer &&
	    model_path_set(obj, "spec.finalizers", json_pack("[s]", MODEL_NS_FINALIZER)) < 0)
		return -ENOMEM;
	return 0;
}

static int model_namespace_create(struct model_txn *t, const char *ns, const json_t *body,
				  json_t **ret_obj, struct model_error *err)
{
	char msg[NAMES_FIELD_DETAIL_MAX];
	const char *name;
	json_t *obj = NULL;
	int r;

	(void)ns;
	r = model_new_metadata(t, MODEL_NS, NULL, body, &obj, err);
	if (r < 0)
		return r;
	name = model_path_string(obj, "metadata.name");
	if (names_check_label(name, msg, sizeof(msg)) < 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "metadata.name", name, "%s",
				      msg);
		r = -EINVAL;
	}
	/* A new namespace is Active whatever the body says of its status. */
	json_object_del(obj, "status");
	if (r == 0)
		r = model_namespace_fill(obj, true, "Active");
	if (r == 0)
		r = model_obj_put(t, MODEL_NS, obj, true, 0, NULL);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* Whether a Terminating namespace has nothing left holding it. */
static bool model_namespace_finished(const json_t *obj)
{
	return model_path(obj, "metadata.deletionTimestamp") != NULL &&
	       json_array_size(model_path(obj, "metadata.finalizers")) == 0 &&
	       json_array_size(model_path(obj, "spec.finalizers")) == 0;
}

/* Write obj as the new state of old, or delete it once nothing holds it. */
static int model_namespace_store(struct model_txn *t, const json_t *old, json_t *obj)
{
	if (model_namespace_finished(obj)) {
		int r = model_txn_log(t, "namespace %s is gone", model_path_string(obj, "metadata.name"));

		return r < 0 ? r : model_obj_delete(t, MODEL_NS, obj);
	}
	return model_obj_update(t, MODEL_NS, old, obj);
}

/* Clients change metadata only (labels, annotations, finalizers): spec and
 * status are the namespace controller's. */
static int model_namespace_update(struct model_txn *t, const json_t *old, const json_t *body,
				  json_t **ret_obj, struct model_error *err)
{
	json_t *obj = json_pack("{s:s, s:s, s:O*, s:O*}", "apiVersion", "v1", "kind", "Namespace",
				"spec", json_object_get(old, "spec"), "status",
				json_object_get(old, "status"));
	int r;

	if (obj == NULL)
		return -ENOMEM;
	r = model_update_metadata(MODEL_NS, old, body, obj, err);
	if (r == 0)
		r = model_namespace_fill(obj, false, model_path_string(old, "status.phase") ?: "Active");
	if (r == 0)
		r = model_namespace_store(t, old, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* model_obj_cb: keep obj in the array ud. */
static int model_namespace_collect(void *ud, json_t *obj)
{
	return json_array_append(ud, obj) == 0 ? 0 : -ENOMEM;
}

/* Delete every object of kind in namespace ns by the kind's own rules. */
static int model_namespace_purge_kind(struct model_txn *t, enum model_kind kind, const char *ns,
				      struct model_error *err)
{
	json_t *objects = json_array(), *obj;
	size_t i;
	int r;

	if (objects == NULL)
		return -ENOMEM;
	r = model_obj_list(t->model, kind, ns, model_namespace_collect, objects);
	json_array_foreach(objects, i, obj) {
		json_t *gone = NULL;

		if (r < 0)
			break;
		r = t->model->kinds[kind]->remove(t, obj, &gone, err);
		json_decref(gone);
	}
	json_decref(objects);
	return r;
}

static int model_namespace_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
				  struct model_error *err)
{
	/* StatefulSets first: their claims go with the claims after them. */
	static const enum model_kind content[] = { MODEL_STS, MODEL_CONTROLLER_REVISION, MODEL_PVC,
						   MODEL_SNAPSHOT, MODEL_EVENT };
	const char *name = model_path_string(old, "metadata.name");
	json_t *obj = json_deep_copy(old), *done = NULL;
	char now[32];
	int r = 0;

	if (obj == NULL)
		return -ENOMEM;
	if (model_path(old, "metadata.deletionTimestamp") != NULL)
		goto out; /* already Terminating: held by client finalizers */
	model_timestamp(t->now, now);
	if (model_path_set(obj, "metadata.deletionTimestamp", json_string(now)) < 0 ||
	    model_path_set(obj, "metadata.deletionGracePeriodSeconds", json_integer(0)) < 0 ||
	    model_path_set(obj, "status.phase", json_string("Terminating")) < 0)
		r = -ENOMEM;
	if (r == 0)
		r = model_obj_update(t, MODEL_NS, old, obj);
	for (size_t i = 0; r == 0 && i < sizeof(content) / sizeof(content[0]); i++)
		r = model_namespace_purge_kind(t, content[i], name, err);
	if (r == 0 && (done = json_deep_copy(obj)) == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = model_path_set(done, "spec.finalizers", json_array());
	if (r == 0)
		r = model_namespace_store(t, obj, done);
	json_decref(done);
	/* The error names the namespace again (the content's rules renamed it). */
	model_error_name(err, MODEL_NS, name);
out:
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

const struct model_kind_ops model_namespace_ops = {
	.create = model_namespace_create,
	.update = model_namespace_update,
	.remove = model_namespace_remove,
};

/* Create namespace name (Active) unless it exists. */
static int model_namespace_ensure(struct model_txn *t, const char *name, json_t **ret_ns)
{
	char uid[37], now[32];
	json_t *obj = NULL;
	int r;

	r = model_obj_get(t->model, MODEL_NS, NULL, name, &obj);
	if (r != -ENOENT)
		goto out;
	model_new_uid(uid);
	model_timestamp(t->now, now);
	obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "Namespace",
			"metadata", "name", name, "uid", uid, "creationTimestamp", now);
	r = obj != NULL ? model_namespace_fill(obj, true, "Active") : -ENOMEM;
	if (r == 0)
		r = model_obj_put(t, MODEL_NS, obj, true, 0, NULL);
out:
	if (r == 0 && ret_ns != NULL)
		*ret_ns = obj;
	else
		json_decref(obj);
	return r;
}

int model_namespace_admit(struct model_txn *t, enum model_kind kind, const char *ns,
			  const char *name, struct model_error *err)
{
	const struct model_kind_info *info = model_kind_info(kind);
	json_t *obj = NULL;
	int r;

	if (!info->namespaced || kind == MODEL_NS)
		return 0;
	r = model_namespace_ensure(t, ns, &obj);
	if (r == 0 && model_path(obj, "metadata.deletionTimestamp") != NULL)
		r = model_fail(err, -EPERM,
			       "%s%s%s \"%.253s\" is forbidden: unable to create new content in "
			       "namespace %.63s because it is being terminated",
			       info->resource, info->group[0] != '\0' ? "." : "", info->group,
			       name != NULL ? name : "", ns);
	json_decref(obj);
	return r;
}

/* model_obj_cb: note the namespace of obj in the set ud. */
static int model_namespace_note(void *ud, json_t *obj)
{
	const char *ns = model_path_string(obj, "metadata.namespace");

	if (ns == NULL || ns[0] == '\0')
		return 0;
	return json_object_set_new(ud, ns, json_true()) == 0 ? 0 : -ENOMEM;
}

int model_namespace_defaults(struct model *model)
{
	static const enum model_kind users[] = { MODEL_PVC, MODEL_STS, MODEL_SNAPSHOT, MODEL_EVENT,
						 MODEL_CONTROLLER_REVISION };
	json_t *names = json_pack("{s:b}", "default", 1), *value;
	struct model_error err;
	struct model_txn t;
	const char *name;
	int r = names != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sizeof(users) / sizeof(users[0]); i++)
		r = model_obj_list(model, users[i], NULL, model_namespace_note, names);
	if (r == 0)
		r = model_txn_begin(model, false, &t);
	if (r < 0) {
		json_decref(names);
		return r;
	}
	model_error_init(&err);
	json_object_foreach(names, name, value)
		if (r == 0)
			r = model_namespace_ensure(&t, name, NULL);
	json_decref(names);
	return model_txn_end(&t, r, &err);
}
