/*
 * api_resource.c — the generic router for every served kind:
 * /api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]] and the
 * same under /apis/<group>/<version>.
 *
 * Owns: what each verb means on a collection (list, watch, create) and on
 * one object (get, replace, patch, delete; the scale subresource of
 * StatefulSets), query parameters (labelSelector, fieldSelector, watch,
 * resourceVersion, timeoutSeconds, allowWatchBookmarks, sendInitialEvents,
 * includeObject, dryRun) and Table answers (Accept: ...;as=Table).
 * pods are served as an always-empty list (claimfs runs no pods;
 * `kubectl describe` lists them).
 */
#include "api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "selector.h"

#define API_WATCH_TIMEOUT_DEFAULT_S 1800

/* ---- resources ---------------------------------------------------------------------- */

/* A request for a resource, from its path. kind < 0 for pods. */
struct api_target {
	int kind;
	const char *resource; /* as in the path */
	const char *ns;       /* NULL: cluster scope or every namespace */
	const char *name;     /* NULL: the collection */
	const char *sub;      /* subresource, or NULL */
};

/* Parse /api/v1/... or /apis/<g>/<v>/... segments into a target. -ENOENT if
 * the path names nothing served. */
static int api_target_parse(char *const segment[], unsigned count, struct api_target *t)
{
	const char *group, *version;
	unsigned i;
	enum model_kind kind;

	memset(t, 0, sizeof(*t));
	if (count >= 3 && strcmp(segment[0], "api") == 0 && strcmp(segment[1], "v1") == 0) {
		group = "";
		version = "v1";
		i = 2;
	} else if (count >= 4 && strcmp(segment[0], "apis") == 0) {
		group = segment[1];
		version = segment[2];
		i = 3;
	} else {
		return -ENOENT;
	}
	if (count - i >= 3 && strcmp(segment[i], "namespaces") == 0) {
		t->ns = segment[i + 1];
		i += 2;
	}
	t->resource = segment[i++];
	if (i < count)
		t->name = segment[i++];
	if (i < count)
		t->sub = segment[i++];
	if (i < count)
		return -ENOENT;
	if (model_kind_find(group, version, t->resource, &kind) == 0) {
		t->kind = (int)kind;
		if (!model_kind_info(kind)->namespaced && t->ns != NULL)
			return -ENOENT;
		return 0;
	}
	if (group[0] == '\0' && strcmp(t->resource, "pods") == 0) {
		t->kind = -1;
		return 0;
	}
	return -ENOENT;
}

/* Table version requested in Accept (as=Table), or NULL. */
static const char *api_table_version(const struct api_call *call)
{
	const char *accept = call->req->accept;

	if (accept == NULL || strstr(accept, "as=Table") == NULL)
		return NULL;
	/* The first Table the client lists decides the version. */
	const char *v1 = strstr(accept, "as=Table;v=v1;");
	const char *beta = strstr(accept, "as=Table;v=v1beta1");

	if (v1 == NULL && beta == NULL)
		return "meta.k8s.io/v1";
	if (v1 == NULL || (beta != NULL && beta < v1))
		return "meta.k8s.io/v1beta1";
	return "meta.k8s.io/v1";
}

static enum api_include_object api_include(const struct api_call *call)
{
	const char *value = api_query(call, "includeObject");

	if (value != NULL && strcmp(value, "None") == 0)
		return API_INCLUDE_NONE;
	if (value != NULL && strcmp(value, "Object") == 0)
		return API_INCLUDE_OBJECT;
	return API_INCLUDE_METADATA;
}

/* Answer obj (consumed) as itself or as a Table. */
static int api_answer(struct api_call *call, int kind, json_t *obj, bool is_list, unsigned status)
{
	const char *table = api_table_version(call);

	call->status = status;
	if (table == NULL || kind < 0) {
		call->body = obj;
		return 0;
	}
	call->body = api_table((enum model_kind)kind, obj, is_list, api_include(call), table,
			       (long long)time(NULL));
	json_decref(obj);
	return call->body != NULL ? 0 : -ENOMEM;
}

/* The field labels supported beyond metadata.name and metadata.namespace,
 * by kind. */
static const struct {
	int kind;
	const char *field;
} api_field_labels[] = {
	{ MODEL_PVC, "status.phase" }, { MODEL_PVC, "spec.volumeName" },
	{ MODEL_PVC, "spec.storageClassName" }, { MODEL_PV, "status.phase" },
	{ MODEL_PV, "spec.storageClassName" }, { MODEL_NS, "status.phase" },
	{ MODEL_EVENT, "involvedObject.kind" }, { MODEL_EVENT, "involvedObject.namespace" },
	{ MODEL_EVENT, "involvedObject.name" }, { MODEL_EVENT, "involvedObject.uid" },
	{ MODEL_EVENT, "involvedObject.apiVersion" },
	{ MODEL_EVENT, "involvedObject.resourceVersion" },
	{ MODEL_EVENT, "involvedObject.fieldPath" }, { MODEL_EVENT, "reason" },
	{ MODEL_EVENT, "reportingComponent" }, { MODEL_EVENT, "source" }, { MODEL_EVENT, "type" },
	{ MODEL_EVENT_V1, "regarding.kind" }, { MODEL_EVENT_V1, "regarding.namespace" },
	{ MODEL_EVENT_V1, "regarding.name" }, { MODEL_EVENT_V1, "regarding.uid" },
	{ MODEL_EVENT_V1, "regarding.apiVersion" }, { MODEL_EVENT_V1, "regarding.resourceVersion" },
	{ MODEL_EVENT_V1, "regarding.fieldPath" }, { MODEL_EVENT_V1, "reason" },
	{ MODEL_EVENT_V1, "reportingController" }, { MODEL_EVENT_V1, "type" },
};

static bool api_field_supported(int kind, const char *field)
{
	if (strcmp(field, "metadata.name") == 0 || strcmp(field, "metadata.namespace") == 0)
		return true;
	for (size_t k = 0; k < sizeof(api_field_labels) / sizeof(api_field_labels[0]); k++)
		if (api_field_labels[k].kind == kind &&
		    strcmp(field, api_field_labels[k].field) == 0)
			return true;
	return false;
}

/* Selectors of a list or watch; fields limited to what the API server supports. */
static int api_selectors(struct api_call *call, int kind, struct selector *labels,
			 struct selector *fields, bool *has_labels, bool *has_fields)
{
	const char *text;

	*has_labels = *has_fields = false;
	text = api_query(call, "labelSelector");
	if (text != NULL && text[0] != '\0') {
		if (selector_parse_labels(text, labels, call->err.message, sizeof(call->err.message)) < 0)
			return -EBADMSG;
		*has_labels = true;
	}
	text = api_query(call, "fieldSelector");
	if (text != NULL && text[0] != '\0') {
		if (selector_parse_fields(text, fields, call->err.message, sizeof(call->err.message)) < 0)
			return -EBADMSG;
		for (unsigned i = 0; i < fields->count; i++) {
			if (!api_field_supported(kind, fields->req[i].key))
				return model_fail(&call->err, -EBADMSG,
						  "field label not supported: %.100s", fields->req[i].key);
		}
		*has_fields = true;
	}
	return 0;
}

/* An empty list of an unserved kind (pods). */
static json_t *api_empty_list(void)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "PodList", "apiVersion", "v1",
			 "metadata", "resourceVersion", "0", "items");
}

/* GET of a collection: list or watch. */
static int api_list(struct api_call *call, const struct api_target *t)
{
	struct selector labels, fields;
	bool has_labels, has_fields, watch = api_query_true(call, "watch");
	const char *timeout = api_query(call, "timeoutSeconds");
	struct model_watch *mw = NULL;
	json_t *list = NULL;
	int r;

	r = api_selectors(call, t->kind, &labels, &fields, &has_labels, &has_fields);
	if (r < 0)
		return r;
	if (watch) {
		struct model_watch_options wo = {
			.labels = has_labels ? &labels : NULL,
			.fields = has_fields ? &fields : NULL,
			.resource_version = api_query(call, "resourceVersion"),
			.send_initial_events = api_query_true(call, "sendInitialEvents"),
		};
		struct api_watch_options ao = {
			.kind = t->kind >= 0 ? (enum model_kind)t->kind : MODEL_PVC,
			.table = api_table_version(call) != NULL && t->kind >= 0,
			.table_version = api_table_version(call),
			.include = api_include(call),
			.bookmarks = api_query_true(call, "allowWatchBookmarks"),
			.timeout_s = timeout != NULL ? (unsigned)strtoul(timeout, NULL, 10)
						     : API_WATCH_TIMEOUT_DEFAULT_S,
		};

		if (ao.timeout_s == 0)
			ao.timeout_s = API_WATCH_TIMEOUT_DEFAULT_S;
		if (t->kind >= 0) {
			r = model_watch_open(call->model, (enum model_kind)t->kind, t->ns, &wo, &mw,
					     &call->err);
			if (r == -EKEYEXPIRED) {
				/* As the apiserver's watch cache: a stream that says
				 * why in an ERROR event (informers relist on it). */
				ao.kind = (enum model_kind)-1;
				ao.error = api_error_body(-r, &call->err);
				if (ao.error == NULL)
					return -ENOMEM;
			} else if (r < 0) {
				return r;
			}
		} else {
			ao.kind = (enum model_kind)-1;
		}
		r = api_watch_new(mw, &ao, &call->watch);
		if (r < 0) {
			model_watch_close(mw);
			json_decref(ao.error);
		}
		call->status = 200;
		return r;
	}
	if (t->kind < 0) {
		const char *table = api_table_version(call);

		call->status = 200;
		call->body = table != NULL ? api_table_empty(table, "0") : api_empty_list();
		return call->body != NULL ? 0 : -ENOMEM;
	}
	struct model_list_options lo = { has_labels ? &labels : NULL, has_fields ? &fields : NULL };

	r = model_list(call->model, (enum model_kind)t->kind, t->ns, &lo, &list, &call->err);
	if (r < 0)
		return r;
	return api_answer(call, t->kind, list, true, 200);
}

/* One dryRun directive: "All" is the only one the apiserver knows; any other
 * is refused before the request is processed, never taken as "not a dry
 * run". options_kind names the options type in the message, as the
 * apiserver does ("DeleteOptions", "CreateOptions", ...). */
static int api_dry_run_value(struct api_call *call, const char *options_kind, const char *value)
{
	if (strcmp(value, "All") == 0)
		return 0;
	return model_fail(&call->err, -EINVAL,
			  "%s.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: "
			  "[]string{\"%s\"}: supported values: \"All\"",
			  options_kind, value);
}

/* The write options of a request: ?dryRun=All in the query, and for a
 * DELETE also the DeleteOptions body's dryRun list (kubectl and client-go
 * send it there). Either one makes the call a dry run. */
static int api_write_options(struct api_call *call, const char *options_kind,
			     const json_t *options_body, struct model_write_options *ret_options)
{
	const char *query = api_query(call, "dryRun");
	const json_t *list = json_object_get(options_body, "dryRun");
	struct model_write_options wo = { .dry_run = false };
	size_t i;
	json_t *value;
	int r;

	if (query != NULL) {
		r = api_dry_run_value(call, options_kind, query);
		if (r < 0)
			return r;
		wo.dry_run = true;
	}
	if (list != NULL && !json_is_null(list)) {
		if (!json_is_array(list))
			return model_fail(&call->err, -EBADMSG,
					  "json: cannot unmarshal %s into Go struct field "
					  "%s.dryRun of type []string",
					  json_is_string(list) ? "string" : "value", options_kind);
		json_array_foreach(list, i, value) {
			if (!json_is_string(value))
				return model_fail(&call->err, -EBADMSG,
						  "json: cannot unmarshal value into Go struct field "
						  "%s.dryRun of type string", options_kind);
			r = api_dry_run_value(call, options_kind, json_string_value(value));
			if (r < 0)
				return r;
			wo.dry_run = true;
		}
	}
	*ret_options = wo;
	return 0;
}

/* A claimfs extension: a VolumeSnapshotList POSTed to volumesnapshots is a
 * group snapshot, all items created as one instant of their claims
 * (model_snapshot_group_create); answers the VolumeSnapshotList created.
 * *ret_handled false: the body is something else, for api_create. */
static int api_create_snapshot_group(struct api_call *call, const struct api_target *t,
				     bool *ret_handled)
{
	const struct model_kind_info *info = model_kind_info(MODEL_SNAPSHOT);
	struct model_write_options wo;
	enum api_field_validation fv;
	json_t *body = NULL, *items = NULL, *item;
	size_t i;
	int r;

	*ret_handled = false;
	if (t->kind != MODEL_SNAPSHOT || api_decode_body(call, &body) < 0)
		return 0; /* api_create reports an unreadable body */
	if (strcmp(json_string_value(json_object_get(body, "kind")) ?: "", info->list_kind) != 0) {
		json_decref(body);
		return 0;
	}
	*ret_handled = true;
	r = api_write_options(call, "CreateOptions", NULL, &wo);
	if (r == 0)
		r = api_fields_directive(call, "CreateOptions", &fv);
	json_array_foreach(json_object_get(body, "items"), i, item)
		if (r == 0)
			r = api_fields_object(call, api_fields_type(MODEL_SNAPSHOT), fv, item);
	if (r == 0)
		r = model_snapshot_group_create(call->model, t->ns, json_object_get(body, "items"),
						&wo, &items, &call->err);
	json_decref(body);
	if (r < 0)
		return r;
	body = json_pack("{s:s, s:s, s:{}, s:o}", "apiVersion", info->api_version, "kind",
			 info->list_kind, "metadata", "items", items);
	return body != NULL ? api_answer(call, t->kind, body, true, 201) : -ENOMEM;
}

/* POST to a collection. */
static int api_create(struct api_call *call, const struct api_target *t)
{
	struct model_write_options wo;
	json_t *body = NULL, *obj = NULL;
	bool group;
	int r;

	enum api_field_validation fv;

	r = api_create_snapshot_group(call, t, &group);
	if (r < 0 || group)
		return r;
	r = api_write_options(call, "CreateOptions", NULL, &wo);
	if (r == 0)
		r = api_fields_directive(call, "CreateOptions", &fv);
	if (r == 0)
		r = api_fields_body(call, api_fields_type((enum model_kind)t->kind), fv, &body);
	if (r < 0)
		return r;
	r = model_create(call->model, (enum model_kind)t->kind, t->ns, body, &wo, &obj, &call->err);
	json_decref(body);
	if (r < 0)
		return r;
	return api_answer(call, t->kind, obj, false, 201);
}

/* DELETE of a collection (deletecollection): the selectors of a list, the
 * DeleteOptions of a delete; answers the <Kind>List of what was deleted. */
static int api_delete_collection(struct api_call *call, const struct api_target *t)
{
	struct selector labels, fields;
	struct model_write_options wo;
	bool has_labels, has_fields;
	json_t *body = NULL, *list = NULL;
	int r;

	r = api_selectors(call, t->kind, &labels, &fields, &has_labels, &has_fields);
	if (r < 0)
		return r;
	/* As for one DELETE: an unreadable body is refused, never ignored. */
	r = call->req->body_len > 0 ? api_decode_body(call, &body) : 0;
	if (r == 0)
		r = api_write_options(call, "DeleteOptions", body, &wo);
	if (r < 0) {
		json_decref(body);
		return r;
	}
	struct model_list_options lo = { has_labels ? &labels : NULL, has_fields ? &fields : NULL };

	/* The DeleteOptions hold for each item's delete, preconditions too. */
	r = model_delete_collection(call->model, (enum model_kind)t->kind, t->ns, &lo,
				    json_object_get(body, "preconditions"), &wo, &list, &call->err);
	json_decref(body);
	if (r < 0)
		return r;
	return api_answer(call, t->kind, list, true, 200);
}

/* The scale subresource. */
static int api_scale(struct api_call *call, const struct api_target *t, const char *method)
{
	struct api_fields_patch fields;
	enum api_field_validation fv;
	struct model_write_options wo;
	enum model_patch_type type;
	json_t *body = NULL, *obj = NULL;
	int r;

	if (strcmp(method, "GET") == 0) {
		r = model_scale_get(call->model, t->ns, t->name, &obj, &call->err);
	} else if (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
		const char *options = strcmp(method, "PUT") == 0 ? "UpdateOptions" : "PatchOptions";
		int scale = api_schema_kind_type("autoscaling", "Scale");

		r = api_write_options(call, options, NULL, &wo);
		if (r == 0)
			r = api_fields_directive(call, options, &fv);
		if (r == 0)
			r = strcmp(method, "PUT") == 0
				    ? api_fields_body(call, scale, fv, &body)
				    : api_fields_patch(call, MODEL_STS, scale, fv, t->ns, t->name,
						       &fields, &type, &body, &wo);
		if (r < 0)
			return r;
		r = model_scale_update(call->model, t->ns, t->name,
				       strcmp(method, "PUT") == 0 ? -1 : (int)type, body, &wo, &obj,
				       &call->err);
		json_decref(body);
	} else {
		return -EOPNOTSUPP;
	}
	if (r < 0)
		return r;
	call->status = 200;
	call->body = obj;
	return 0;
}

/* The status subresource of a kind that has one: GET, PUT, PATCH. */
static int api_status(struct api_call *call, const struct api_target *t, const char *method)
{
	enum model_kind kind = (enum model_kind)t->kind;
	const char *options = strcmp(method, "PUT") == 0 ? "UpdateOptions" : "PatchOptions";
	struct api_fields_patch fields;
	enum api_field_validation fv;
	struct model_write_options wo;
	enum model_patch_type type;
	json_t *body = NULL, *obj = NULL;
	bool put = strcmp(method, "PUT") == 0;
	int r;

	if (strcmp(method, "GET") == 0) {
		r = model_get(call->model, (enum model_kind)t->kind, t->ns, t->name, &obj,
			      &call->err);
		return r < 0 ? r : api_answer(call, t->kind, obj, false, 200);
	}
	if (!put && strcmp(method, "PATCH") != 0)
		return -EOPNOTSUPP;
	r = api_write_options(call, options, NULL, &wo);
	if (r == 0)
		r = api_fields_directive(call, options, &fv);
	if (r == 0)
		r = put ? api_fields_body(call, api_fields_type(kind), fv, &body)
			: api_fields_patch(call, kind, api_fields_type(kind), fv, t->ns, t->name,
					   &fields, &type, &body, &wo);
	if (r == 0)
		r = model_status_update(call->model, kind, t->ns, t->name,
					put ? -1 : (int)type, body, &wo, &obj, &call->err);
	json_decref(body);
	if (r < 0)
		return r;
	return api_answer(call, t->kind, obj, false, 200);
}

/* Requests for one named object. */
static int api_item(struct api_call *call, const struct api_target *t, const char *method)
{
	struct api_fields_patch fields;
	enum api_field_validation fv;
	struct model_write_options wo;
	enum model_kind kind = (enum model_kind)t->kind;
	enum model_patch_type type;
	json_t *body = NULL, *obj = NULL;
	bool created = false;
	int r;

	if (strcmp(method, "GET") == 0) {
		r = model_get(call->model, kind, t->ns, t->name, &obj, &call->err);
		return r < 0 ? r : api_answer(call, t->kind, obj, false, 200);
	}
	if (strcmp(method, "PUT") == 0) {
		r = api_write_options(call, "UpdateOptions", NULL, &wo);
		if (r == 0)
			r = api_fields_directive(call, "UpdateOptions", &fv);
		if (r == 0)
			r = api_fields_body(call, api_fields_type(kind), fv, &body);
		if (r == 0)
			r = model_replace(call->model, kind, t->ns, t->name, body, &wo, &obj,
					  &created, &call->err);
	} else if (strcmp(method, "PATCH") == 0) {
		r = api_write_options(call, "PatchOptions", NULL, &wo);
		if (r == 0)
			r = api_fields_directive(call, "PatchOptions", &fv);
		if (r == 0)
			r = api_fields_patch(call, kind, api_fields_type(kind), fv, t->ns, t->name,
					     &fields, &type, &body, &wo);
		if (r == 0)
			r = model_patch(call->model, kind, t->ns, t->name, type, body, &wo, &obj,
					&created, &call->err);
	} else if (strcmp(method, "DELETE") == 0) {
		/* DeleteOptions (optional): its dryRun and preconditions. A body
		 * that cannot be read is refused: ignoring it would turn a dry
		 * run into a real deletion. */
		r = call->req->body_len > 0 ? api_decode_body(call, &body) : 0;
		if (r == 0)
			r = api_write_options(call, "DeleteOptions", body, &wo);
		if (r == 0)
			r = model_delete(call->model, kind, t->ns, t->name,
					 json_object_get(body, "preconditions"), &wo, &obj,
					 &call->err);
	} else {
		return -EOPNOTSUPP;
	}
	json_decref(body);
	if (r < 0)
		return r;
	return api_answer(call, t->kind, obj, false, created ? 201 : 200);
}

/* Every request under /api/v1 and /apis/<g>/<v> that is not discovery. */
int api_resource(struct api_call *call, char *const segment[], unsigned count,
		 const char *method)
{
	struct api_target t;
	int r;

	r = api_target_parse(segment, count, &t);
	if (r < 0)
		return r;
	if (t.kind >= 0)
		model_error_name(&call->err, (enum model_kind)t.kind, t.name != NULL ? t.name : "");
	if (t.name == NULL) {
		if (strcmp(method, "GET") == 0)
			return api_list(call, &t);
		if (t.kind < 0 ||
		    (t.ns == NULL && model_kind_info((enum model_kind)t.kind)->namespaced))
			return -EOPNOTSUPP;
		if (strcmp(method, "POST") == 0)
			return api_create(call, &t);
		if (strcmp(method, "DELETE") == 0)
			return api_delete_collection(call, &t);
		return -EOPNOTSUPP;
	}
	if (t.kind < 0)
		return strcmp(method, "GET") == 0 ? -ENOENT : -EOPNOTSUPP;
	if (t.ns == NULL && model_kind_info((enum model_kind)t.kind)->namespaced)
		return -ENOENT;
	if (t.sub == NULL)
		return api_item(call, &t, method);
	if (strcmp(t.sub, "scale") == 0 && t.kind == MODEL_STS)
		return api_scale(call, &t, method);
	if (strcmp(t.sub, "status") == 0 && model_kind_info((enum model_kind)t.kind)->status_subresource)
		return api_status(call, &t, method);
	if (strcmp(t.sub, "status") == 0 && strcmp(method, "GET") == 0)
		return api_item(call, &t, method);
	if (t.kind == MODEL_PVC && (strcmp(t.sub, "export") == 0 || strcmp(t.sub, "import") == 0))
		return api_claim_tar(call, t.ns, t.name, t.sub, method);
	if (t.kind == MODEL_SNAPSHOT && strcmp(t.sub, "export") == 0)
		return api_snapshot_export(call, t.ns, t.name, method);
	return -ENOENT;
}

