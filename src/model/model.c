/*
 * model.c — the model's core, under every kind's rules: kinds' names, write
 * transactions, stored objects, the metadata rules common to all kinds and
 * patches.
 *
 * Owns: struct model and its write lock (see model_internal.h for the write
 * path), the table of kinds' names, the mapping between API objects and store
 * object rows (stored bodies omit metadata.resourceVersion; the row's
 * version is put back on every read), and the metadata rules common to all
 * kinds (names, uid, creationTimestamp, labels, annotations, finalizers,
 * resourceVersion preconditions).
 *
 * Kind-specific rules live in model_claim.c, model_volume.c,
 * model_storage_class.c, model_stateful_set.c and model_snapshot.c, above
 * this file: the core reaches them only through model->kinds
 * (model_reconcile). Watch events go down to model_hub.c.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "log.h"
#include "patch.h"
#include "store.h"

static const struct model_kind_info model_kinds[MODEL_KIND_COUNT] = {
	[MODEL_PVC] = { "PersistentVolumeClaim", "PersistentVolumeClaimList",
			"persistentvolumeclaims", "persistentvolumeclaim", "", "v1", "v1", "pvc",
			true, true },
	[MODEL_PV] = { "PersistentVolume", "PersistentVolumeList", "persistentvolumes",
		       "persistentvolume", "", "v1", "v1", "pv", false, true },
	[MODEL_SC] = { "StorageClass", "StorageClassList", "storageclasses", "storageclass",
		       "storage.k8s.io", "v1", "storage.k8s.io/v1", "sc", false },
	[MODEL_STS] = { "StatefulSet", "StatefulSetList", "statefulsets", "statefulset", "apps",
			"v1", "apps/v1", "sts", true, true },
	[MODEL_SNAPSHOT] = { "VolumeSnapshot", "VolumeSnapshotList", "volumesnapshots",
			     "volumesnapshot", "snapshot.storage.k8s.io", "v1",
			     "snapshot.storage.k8s.io/v1", "vs", true },
	[MODEL_NS] = { "Namespace", "NamespaceList", "namespaces", "namespace", "", "v1", "v1",
		       "ns", false },
	[MODEL_EVENT] = { "Event", "EventList", "events", "event", "", "v1", "v1", "ev", true },
	/* Stored as core Events (the same store kind "Event"): model_obj_view. */
	[MODEL_EVENT_V1] = { "Event", "EventList", "events", "event", "events.k8s.io", "v1",
			     "events.k8s.io/v1", "ev", true },
	[MODEL_CONTROLLER_REVISION] = { "ControllerRevision", "ControllerRevisionList",
					"controllerrevisions", "controllerrevision", "apps", "v1",
					"apps/v1", NULL, true },
	[MODEL_VAC] = { "VolumeAttributesClass", "VolumeAttributesClassList",
			"volumeattributesclasses", "volumeattributesclass", "storage.k8s.io", "v1",
			"storage.k8s.io/v1", "vac", false },
};


const struct model_kind_info *model_kind_info(enum model_kind kind)
{
	return &model_kinds[kind];
}

int model_kind_find(const char *group, const char *version, const char *resource,
		    enum model_kind *ret_kind)
{
	for (int i = 0; i < MODEL_KIND_COUNT; i++)
		if (strcmp(model_kinds[i].group, group) == 0 &&
		    strcmp(model_kinds[i].version, version) == 0 &&
		    strcmp(model_kinds[i].resource, resource) == 0) {
			*ret_kind = (enum model_kind)i;
			return 0;
		}
	return -ENOENT;
}

const char *model_store_kind(enum model_kind kind)
{
	return model_kinds[kind].kind;
}

/* ---- lifetime --------------------------------------------------------------------- */

int model_core_open(struct store *store, const struct model_kind_ops *const kinds[MODEL_KIND_COUNT],
		    struct model **ret_model)
{
	struct model *model = calloc(1, sizeof(*model));
	int r;

	if (model == NULL)
		return -ENOMEM;
	model->store = store;
	model->kinds = kinds;
	model->capacity.overcommit = 1.0;
	/* Claims may wait for space since before a restart: the first tick
	 * that finds any room retries them all (model_capacity.c). */
	atomic_init(&model->capacity.provision_wait, 1);
	atomic_init(&model->capacity.resize_wait, 1);
	r = pthread_mutex_init(&model->write_lock, NULL);
	if (r != 0) {
		free(model);
		return -r;
	}
	r = model_hub_open(store_current_version(store), &model->hub);
	if (r < 0) {
		pthread_mutex_destroy(&model->write_lock);
		free(model);
		return r;
	}
	*ret_model = model;
	return 0;
}

void model_core_close(struct model *model)
{
	if (model == NULL)
		return;
	model_hub_close(model->hub);
	pthread_mutex_destroy(&model->write_lock);
	free(model->mountpoint);
	free(model);
}

void model_error_init(struct model_error *err)
{
	memset(err, 0, sizeof(*err));
}

/* ---- transactions ---------------------------------------------------------------------- */

int model_txn_begin(struct model *model, bool dry_run, struct model_txn *t)
{
	int r;

	*t = (struct model_txn){ .model = model, .dry_run = dry_run, .now = (int64_t)time(NULL) };
	t->events = json_array();
	t->logs = json_array();
	if (t->events == NULL || t->logs == NULL) {
		json_decref(t->events);
		json_decref(t->logs);
		t->events = t->logs = NULL;
		return -ENOMEM;
	}
	pthread_mutex_lock(&model->write_lock);
	r = store_batch_begin(model->store);
	if (r < 0) {
		pthread_mutex_unlock(&model->write_lock);
		json_decref(t->events);
		json_decref(t->logs);
		t->events = t->logs = NULL;
	}
	return r;
}

int model_write_begin(struct model *model, enum model_kind kind, const char *name,
		      const struct model_write_options *opts, struct model_txn *t,
		      struct model_error *err)
{
	model_error_init(err);
	model_error_name(err, kind, name);
	return model_txn_begin(model, opts != NULL && opts->dry_run, t);
}

/* Queue one watch event (object and old copied). */
static int model_txn_queue(struct model_txn *t, const char *type, enum model_kind kind,
			   const json_t *object, const json_t *old)
{
	json_t *event = json_pack("{s:s, s:i, s:O, s:O*}", "type", type, "kind", (int)kind,
				  "object", object, "old", old);

	if (event == NULL || json_array_append_new(t->events, event) < 0)
		return -ENOMEM;
	return 0;
}

int model_txn_event(struct model_txn *t, const char *type, enum model_kind kind,
		    const json_t *object, const json_t *old)
{
	json_t *view = NULL, *view_old = NULL;
	int r;

	r = model_txn_queue(t, type, kind, object, old);
	if (r < 0 || kind != MODEL_EVENT)
		return r;
	/* Watchers of events.k8s.io see the same change in their shape. */
	view = event_to_v1(object);
	view_old = old != NULL ? event_to_v1(old) : NULL;
	if (view == NULL || (old != NULL && view_old == NULL))
		r = -ENOMEM;
	else
		r = model_txn_queue(t, type, MODEL_EVENT_V1, view, view_old);
	json_decref(view);
	json_decref(view_old);
	return r;
}

int model_txn_log(struct model_txn *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return json_array_append_new(t->logs, json_string(line)) == 0 ? 0 : -ENOMEM;
}

int model_txn_end(struct model_txn *t, int r, struct model_error *err)
{
	struct model *model = t->model;
	const json_t *event;
	size_t i;
	int end;

	/* A dry run ends like a failure: nothing it did stays. */
	end = store_batch_end(model->store, r < 0 ? r : t->dry_run ? -ECANCELED : 0);
	if (r == 0 && !t->dry_run && end < 0)
		r = end;
	if (r == 0 && !t->dry_run) {
		json_array_foreach(t->events, i, event) {
			json_t *object = json_object_get(event, "object");

			model_hub_publish(model->hub,
					  (enum model_kind)json_integer_value(json_object_get(event, "kind")),
					  json_string_value(json_object_get(event, "type")), object,
					  json_object_get(event, "old"), model_obj_version(object));
		}
	}
	pthread_mutex_unlock(&model->write_lock);
	json_decref(t->events);
	t->events = NULL;
	if (r == 0 && !t->dry_run)
		json_array_foreach(t->logs, i, event)
			log_info("%s", json_string_value(event));
	json_decref(t->logs);
	t->logs = NULL;
	if (r == 0 && !t->dry_run) {
		/* A 200/201 promises the change survives power loss. */
		int s = store_sync(model->store, true);

		if (s < 0) {
			snprintf(err->message, sizeof(err->message),
				 "the change was made but could not be committed durably: %s",
				 strerror(-s));
			r = s;
		}
	}
	return r;
}

int model_reconcile(struct model_txn *t)
{
	int r = 0;

	/* Through the table model_kinds.c filled in: the core names no kind's
	 * file, and a kind reaches the kinds that react to it only through here. */
	for (int i = 0; r == 0 && i < MODEL_KIND_COUNT; i++)
		if (t->model->kinds[i]->reconcile != NULL)
			r = t->model->kinds[i]->reconcile(t);
	return r;
}

/* ---- stored objects ---------------------------------------------------------------------- */

int64_t model_obj_version(const json_t *obj)
{
	const char *text = model_path_string(obj, "metadata.resourceVersion");

	return text != NULL ? strtoll(text, NULL, 10) : 0;
}

/* Set metadata.resourceVersion. */
static int model_obj_set_version(json_t *obj, int64_t version)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", (long long)version);
	return model_path_set(obj, "metadata.resourceVersion", json_string(text));
}

/* A stored body back into an object of kind with its version. A kind that
 * is another's view (events.k8s.io Events over core Events: the same store
 * kind) gets the stored object in its own shape. */
static int model_obj_decode(enum model_kind kind, const char *body, int64_t version,
			    json_t **ret_obj)
{
	json_t *obj = json_loads(body, 0, NULL), *view;

	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		return -EIO; /* the store holds what we wrote: unreadable text is corruption */
	}
	if (model_obj_set_version(obj, version) < 0) {
		json_decref(obj);
		return -ENOMEM;
	}
	if (kind == MODEL_EVENT_V1) {
		view = event_to_v1(obj);
		json_decref(obj);
		if (view == NULL)
			return -ENOMEM;
		obj = view;
	}
	*ret_obj = obj;
	return 0;
}

int model_obj_get(struct model *model, enum model_kind kind, const char *ns, const char *name,
		  json_t **ret_obj)
{
	char *body = NULL;
	int64_t version;
	int r;

	r = store_object_get(model->store, model_store_kind(kind),
			     model_kinds[kind].namespaced ? ns : "", name, &body, &version);
	if (r < 0)
		return r;
	r = model_obj_decode(kind, body, version, ret_obj);
	free(body);
	return r;
}

int model_obj_put(struct model_txn *t, enum model_kind kind, json_t *obj, bool create,
		  int64_t expected_version, const json_t *old)
{
	const char *ns = model_path_string(obj, "metadata.namespace");
	const char *name = model_path_string(obj, "metadata.name");
	json_t *meta = json_object_get(obj, "metadata");
	int64_t version;
	char *text;
	int r;

	/* A view's objects are written as the kind they are views of. */
	if (name == NULL || meta == NULL || kind == MODEL_EVENT_V1)
		return -EINVAL;
	json_object_del(meta, "resourceVersion");
	text = json_dumps(obj, JSON_COMPACT);
	if (text == NULL)
		return -ENOMEM;
	/* The store indexes status.phase for model_obj_list_phase. */
	r = store_object_put(t->model->store, model_store_kind(kind),
			     model_kinds[kind].namespaced && ns != NULL ? ns : "", name, text,
			     model_path_string(obj, "status.phase"), create, expected_version, &version);
	free(text);
	if (r < 0)
		return r;
	r = model_obj_set_version(obj, version);
	if (r < 0)
		return r;
	return model_txn_event(t, create ? "ADDED" : "MODIFIED", kind, obj, old);
}

int model_obj_delete(struct model_txn *t, enum model_kind kind, json_t *obj)
{
	const char *ns = model_path_string(obj, "metadata.namespace");
	const char *name = model_path_string(obj, "metadata.name");
	int r;

	if (name == NULL || kind == MODEL_EVENT_V1)
		return -EINVAL;
	r = store_object_delete(t->model->store, model_store_kind(kind),
				model_kinds[kind].namespaced && ns != NULL ? ns : "", name);
	if (r < 0)
		return r;
	/* The deletion spent a version: watchers see it on the DELETED object. */
	r = model_obj_set_version(obj, store_current_version(t->model->store));
	if (r < 0)
		return r;
	return model_txn_event(t, "DELETED", kind, obj, NULL);
}

int model_obj_remove(struct model_txn *t, enum model_kind kind, const json_t *old,
		     json_t **ret_obj)
{
	json_t *obj = json_deep_copy(old);
	int r;

	if (obj == NULL)
		return -ENOMEM;
	r = model_obj_delete(t, kind, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_obj_update(struct model_txn *t, enum model_kind kind, const json_t *old, json_t *obj)
{
	json_t *a = json_deep_copy(old), *b = json_deep_copy(obj);
	bool same;

	if (a == NULL || b == NULL) {
		json_decref(a);
		json_decref(b);
		return -ENOMEM;
	}
	json_object_del(json_object_get(a, "metadata"), "resourceVersion");
	json_object_del(json_object_get(b, "metadata"), "resourceVersion");
	same = json_equal(a, b);
	json_decref(a);
	json_decref(b);
	if (same)
		return model_path_set(obj, "metadata.resourceVersion",
				      json_string(model_path_string(old, "metadata.resourceVersion")));
	return model_obj_put(t, kind, obj, false, model_obj_version(old), old);
}

struct model_list_walk {
	enum model_kind kind;
	model_obj_cb cb;
	void *ud;
};

/* store_object_list callback: decode, hand to the caller's callback. */
static int model_obj_list_row(void *ud, const char *ns, const char *name, const char *body,
			      int64_t version)
{
	struct model_list_walk *walk = ud;
	json_t *obj;
	int r;

	r = model_obj_decode(walk->kind, body, version, &obj);
	if (r < 0) {
		log_error("stored object %s/%s is unreadable", ns, name);
		return r;
	}
	r = walk->cb(walk->ud, obj);
	json_decref(obj);
	return r;
}

int model_obj_list(struct model *model, enum model_kind kind, const char *ns, model_obj_cb cb,
		   void *ud)
{
	struct model_list_walk walk = { kind, cb, ud };

	return store_object_list(model->store, model_store_kind(kind),
				 model_kinds[kind].namespaced ? ns : NULL, model_obj_list_row, &walk);
}

int model_obj_list_phase(struct model *model, enum model_kind kind, const char *phase,
			 model_obj_cb cb, void *ud)
{
	struct model_list_walk walk = { kind, cb, ud };

	return store_object_list_phase(model->store, model_store_kind(kind), phase,
				       model_obj_list_row, &walk);
}

void model_error_name(struct model_error *err, enum model_kind kind, const char *name)
{
	err->kind = model_kinds[kind].kind;
	err->resource = model_kinds[kind].resource;
	snprintf(err->name, sizeof(err->name), "%s", name != NULL ? name : "");
}

int model_fail(struct model_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return r;
}

int model_check_type(enum model_kind kind, const json_t *body, struct model_error *err)
{
	const json_t *api_version = json_object_get(body, "apiVersion");
	const json_t *kind_name = json_object_get(body, "kind");
	const json_t *meta = json_object_get(body, "metadata");

	if (!json_is_object(body))
		return model_fail(err, -EBADMSG, "the request body must be a %s object",
				  model_kinds[kind].kind);
	if (api_version != NULL && !json_is_null(api_version) &&
	    (!json_is_string(api_version) ||
	     strcmp(json_string_value(api_version), model_kinds[kind].api_version) != 0))
		return model_fail(err, -EBADMSG,
				  "the API version in the data (%.100s) does not match the expected "
				  "API version (%s)",
				  json_is_string(api_version) ? json_string_value(api_version) : "?",
				  model_kinds[kind].api_version);
	if (kind_name != NULL && !json_is_null(kind_name) &&
	    (!json_is_string(kind_name) ||
	     strcmp(json_string_value(kind_name), model_kinds[kind].kind) != 0))
		return model_fail(err, -EBADMSG,
				  "the kind in the data (%.100s) does not match the expected kind (%s)",
				  json_is_string(kind_name) ? json_string_value(kind_name) : "?",
				  model_kinds[kind].kind);
	if (meta != NULL && !json_is_null(meta) && !json_is_object(meta))
		return model_fail(err, -EBADMSG, "%s in version \"%s\" cannot be handled as a %s: "
				  "metadata must be an object",
				  model_kinds[kind].kind, model_kinds[kind].version,
				  model_kinds[kind].kind);
	return 0;
}

/* Labels and annotations are maps of strings; finalizers a list of strings. */
static int model_check_meta_types(enum model_kind kind, const json_t *meta,
				  struct model_error *err)
{
	static const char *const maps[] = { "labels", "annotations" };
	const json_t *value, *finalizers = json_object_get(meta, "finalizers");
	const char *key;
	size_t i;

	for (size_t m = 0; m < 2; m++) {
		const json_t *map = json_object_get(meta, maps[m]);

		if (map == NULL || json_is_null(map))
			continue;
		if (!json_is_object(map))
			return model_fail(err, -EBADMSG, "metadata.%s must be a map of strings",
					  maps[m]);
		json_object_foreach((json_t *)map, key, value)
			if (!json_is_string(value))
				return model_fail(err, -EBADMSG,
						  "%s: metadata.%s.%.100s must be a string",
						  model_kinds[kind].kind, maps[m], key);
	}
	if (finalizers != NULL && !json_is_null(finalizers)) {
		if (!json_is_array(finalizers))
			return model_fail(err, -EBADMSG, "metadata.finalizers must be a list of strings");
		json_array_foreach(finalizers, i, value)
			if (!json_is_string(value))
				return model_fail(err, -EBADMSG,
						  "metadata.finalizers must be a list of strings");
	}
	return 0;
}

int model_new_metadata(struct model_txn *t, enum model_kind kind, const char *ns,
		       const json_t *body, json_t **ret_obj, struct model_error *err)
{
	const json_t *meta = json_object_get(body, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *generate = json_string_value(json_object_get(meta, "generateName"));
	const char *body_ns = json_string_value(json_object_get(meta, "namespace"));
	const char *version = json_string_value(json_object_get(meta, "resourceVersion"));
	char msg[NAMES_FIELD_DETAIL_MAX], generated[NAMES_SUBDOMAIN_MAX + 1], uid[37], now[32];
	char suffix[6];
	json_t *obj, *new_meta;
	int r;

	r = model_check_type(kind, body, err);
	if (r == 0)
		r = model_check_meta_types(kind, meta, err);
	if (r < 0)
		return r;
	if (model_kinds[kind].namespaced && body_ns != NULL && body_ns[0] != '\0' &&
	    strcmp(body_ns, ns) != 0)
		return model_fail(err, -EBADMSG,
				  "the namespace of the provided object does not match the namespace "
				  "sent on the request");
	if (version != NULL && version[0] != '\0')
		return model_fail(err, -EBADMSG,
				  "resourceVersion should not be set on objects to be created");
	if ((name == NULL || name[0] == '\0') && generate != NULL && generate[0] != '\0') {
		model_random_suffix(suffix);
		snprintf(generated, sizeof(generated), "%.58s%s", generate, suffix);
		name = generated;
	}
	model_error_name(err, kind, name);
	if (name == NULL || name[0] == '\0') {
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, "metadata.name", NULL,
				      "name or generateName is required");
	} else if (names_check_subdomain(name, msg, sizeof(msg)) < 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "metadata.name", name,
				      "%s", msg);
	}
	if (model_kinds[kind].namespaced && names_check_label(ns, msg, sizeof(msg)) < 0)
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "metadata.namespace", ns,
				      "%s", msg);
	names_check_metadata(meta, &err->fields);
	if (err->fields.count > 0)
		return -EINVAL;
	obj = json_deep_copy(body);
	if (obj == NULL)
		return -ENOMEM;
	model_new_uid(uid);
	model_timestamp(t->now, now);
	new_meta = json_object_get(obj, "metadata");
	if (new_meta == NULL || !json_is_object(new_meta)) {
		new_meta = json_object();
		if (json_object_set_new(obj, "metadata", new_meta) < 0)
			goto nomem;
	}
	json_object_del(new_meta, "managedFields");
	json_object_del(new_meta, "deletionTimestamp");
	json_object_del(new_meta, "selfLink");
	if (json_object_set_new(obj, "apiVersion", json_string(model_kinds[kind].api_version)) < 0 ||
	    json_object_set_new(obj, "kind", json_string(model_kinds[kind].kind)) < 0 ||
	    json_object_set_new(new_meta, "name", json_string(name)) < 0 ||
	    (model_kinds[kind].namespaced &&
	     json_object_set_new(new_meta, "namespace", json_string(ns)) < 0) ||
	    json_object_set_new(new_meta, "uid", json_string(uid)) < 0 ||
	    json_object_set_new(new_meta, "creationTimestamp", json_string(now)) < 0)
		goto nomem;
	if (!model_kinds[kind].namespaced)
		json_object_del(new_meta, "namespace");
	*ret_obj = obj;
	return 0;
nomem:
	json_decref(obj);
	return -ENOMEM;
}

int model_update_metadata(enum model_kind kind, const json_t *old, const json_t *body,
			  json_t *new_obj, struct model_error *err)
{
	static const char *const taken[] = { "labels", "annotations", "finalizers",
					     "ownerReferences" };
	const json_t *body_meta = json_object_get(body, "metadata");
	const char *name = json_string_value(json_object_get(body_meta, "name"));
	const char *ns = json_string_value(json_object_get(body_meta, "namespace"));
	const char *version = json_string_value(json_object_get(body_meta, "resourceVersion"));
	const char *old_name = model_path_string(old, "metadata.name");
	const char *old_ns = model_path_string(old, "metadata.namespace");
	json_t *meta;
	int r;

	r = model_check_type(kind, body, err);
	if (r == 0)
		r = model_check_meta_types(kind, body_meta, err);
	if (r < 0)
		return r;
	if (name != NULL && name[0] != '\0' && strcmp(name, old_name) != 0)
		return model_fail(err, -EBADMSG,
				  "the name of the object (%.253s) does not match the name on the URL "
				  "(%.253s)",
				  name, old_name);
	if (model_kinds[kind].namespaced && ns != NULL && ns[0] != '\0' && old_ns != NULL &&
	    strcmp(ns, old_ns) != 0)
		return model_fail(err, -EBADMSG,
				  "the namespace of the provided object does not match the namespace "
				  "sent on the request");
	if (version != NULL && version[0] != '\0' &&
	    strcmp(version, model_path_string(old, "metadata.resourceVersion")) != 0)
		return -ESTALE;
	/* The new labels and annotations, whichever verb brought them. */
	if (names_check_metadata(body_meta, &err->fields) < 0)
		return -EINVAL;
	meta = json_deep_copy(json_object_get(old, "metadata"));
	if (meta == NULL || json_object_set_new(new_obj, "metadata", meta) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		const json_t *value = json_object_get(body_meta, taken[i]);

		if (value == NULL || json_is_null(value) ||
		    (json_is_object(value) && json_object_size(value) == 0) ||
		    (json_is_array(value) && json_array_size(value) == 0))
			json_object_del(meta, taken[i]);
		else if (json_object_set_new(meta, taken[i], json_deep_copy(value)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int model_update_body(enum model_kind kind, const json_t *old, const json_t *body,
		      json_t **ret_obj, struct model_error *err)
{
	json_t *obj = json_deep_copy(body);
	int r;

	if (obj == NULL)
		return -ENOMEM;
	r = json_is_object(obj) ? model_update_metadata(kind, old, body, obj, err)
				: model_check_type(kind, body, err);
	if (r == 0 &&
	    (json_object_set_new(obj, "apiVersion", json_string(model_kinds[kind].api_version)) < 0 ||
	     json_object_set_new(obj, "kind", json_string(model_kinds[kind].kind)) < 0))
		r = -ENOMEM;
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

int model_status_keep(const json_t *old, json_t *obj)
{
	json_t *old_status = json_object_get(old, "status"), *status, *value;
	const char *key;

	if (!json_is_object(old_status) || json_object_size(old_status) == 0)
		return 0;
	status = json_object_get(obj, "status");
	if (!json_is_object(status)) {
		if (json_object_set_new(obj, "status", json_object()) < 0)
			return -ENOMEM;
		status = json_object_get(obj, "status");
	}
	json_object_foreach(old_status, key, value)
		if (json_object_get(status, key) == NULL &&
		    json_object_set_new(status, key, json_deep_copy(value)) < 0)
			return -ENOMEM;
	return 0;
}

int model_apply_patch(enum model_kind kind, const json_t *old, enum model_patch_type type,
		      const json_t *patch, json_t **ret_body, struct model_error *err)
{
	int r;

	switch (type) {
	case MODEL_PATCH_MERGE:
		if (!json_is_object(patch))
			return model_fail(err, -EBADMSG, "a merge patch must be a JSON object");
		*ret_body = patch_merge(old, patch);
		return *ret_body != NULL ? 0 : -ENOMEM;
	case MODEL_PATCH_JSON:
		/* The apiserver answers a JSON patch that does not apply with a
		 * generic 422 whose one cause is the patch library's message. */
		r = patch_json(old, patch, ret_body, err->cause, sizeof(err->cause));
		if (r == -EINVAL)
			model_fail(err, r, "the server rejected our request due to an error in our "
				   "request");
		else
			err->cause[0] = '\0';
		return r;
	case MODEL_PATCH_STRATEGIC:
	case MODEL_PATCH_APPLY:
		if (type == MODEL_PATCH_APPLY) {
			r = model_check_type(kind, patch, err);
			if (r < 0)
				return r;
		}
		r = patch_strategic(old, patch, ret_body, err->message, sizeof(err->message));
		return r == -EINVAL ? -EBADMSG : r;
	}
	return -EINVAL;
}
