/*
 * api_volume_plugin.c — the Docker/Podman volume plugin protocol: the same
 * claims the Kubernetes API serves, through a container engine's door.
 *
 * Owns: the protocol's routes (POST /Plugin.Activate and /VolumeDriver.*,
 * one row each in api_volume_routes), the translation of a Create's options
 * into a PersistentVolumeClaim, and the per-container mount table.
 *
 * A volume is the claim of that name in the plugin's namespace, its
 * directory <mount>/<namespace>/<claim>. Every change goes through the model
 * (model_create / model_delete), so kubectl sees what `podman volume create`
 * made and the engine sees claims kubectl made; every failure answers the
 * HTTP status the Kubernetes API would and {"Err": <the API's message>}.
 *
 * Invariants:
 *   - the mount table (plugin->mounts) holds one row per (claim, claim uid,
 *     container ID) with a count >= 1; rows of a claim uid that no longer
 *     exists are stale and dropped by the next Mount or Remove of the name;
 *   - a ReadWriteOncePod claim has rows of at most one container (a second
 *     Mount is refused, as the kubelet refuses a second pod); ReadWriteOnce
 *     allows every container, since they all run on this one node;
 *   - the table lives in memory: a restarted daemon starts empty, so
 *     Unmount of a row it does not hold succeeds (the container is gone
 *     either way), and ReadWriteOncePod holds only among Mounts since;
 *   - Remove refuses a claim with rows; it and Mount hold plugin->lock from
 *     their check to their change, so neither can slip between the other's.
 *
 * Lock order: plugin->lock, then the model's locks (the model never calls
 * back here). Nothing else takes plugin->lock.
 */
#include "api_internal.h"
#include "api_volume_plugin.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "names.h"

#define API_VOLUME_TYPE "application/vnd.docker.plugins.v1+json"
#define API_VOLUME_ID_MAX 128       /* container IDs are 64 hex digits */
#define API_VOLUME_MOUNTS_MAX 1024  /* rows of the mount table */
#define API_VOLUME_UID_MAX 64

/* One container's use of one claim. */
struct api_volume_mount {
	char name[NAMES_SUBDOMAIN_MAX + 1];
	char uid[API_VOLUME_UID_MAX]; /* the claim's metadata.uid at Mount */
	char id[API_VOLUME_ID_MAX + 1];
	unsigned count;               /* Mounts not yet Unmounted */
};

struct api_volume_plugin {
	struct model *model;
	char *namespace_name;
	char *mountpoint;
	pthread_mutex_t lock; /* protects mounts, mount_count (see the lock order above) */
	struct api_volume_mount mounts[API_VOLUME_MOUNTS_MAX];
	size_t mount_count;
};

/* One request being answered. */
struct api_volume_call {
	struct api_volume_plugin *plugin;
	json_t *body;     /* the decoded request: an object */
	const char *name; /* body.Name, checked as a claim name (routes that take one) */
	json_t *answer;   /* success: the response object (owned) */
	struct model_error err;
};

/* ---- helpers ------------------------------------------------------------------ */

/* The claim's directory into buf (PATH_MAX). */
static int api_volume_path(const struct api_volume_plugin *plugin, const char *name, char *buf)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s/%s", plugin->mountpoint, plugin->namespace_name,
			 name);

	return n > 0 && n < PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* Is the claim object Bound (its directory exists)? */
static bool api_volume_bound(const json_t *claim)
{
	const char *phase = model_path_string(claim, "status.phase");

	return phase != NULL && strcmp(phase, "Bound") == 0;
}

/* Does the claim ask for mode among its spec.accessModes? */
static bool api_volume_has_mode(const json_t *claim, const char *mode)
{
	const json_t *modes = model_path(claim, "spec.accessModes"), *value;
	size_t i;

	json_array_foreach(modes, i, value)
		if (json_is_string(value) && strcmp(json_string_value(value), mode) == 0)
			return true;
	return false;
}

/* A string member of the request, or NULL if absent; -EBADMSG if not a string. */
static int api_volume_string(struct api_volume_call *call, const char *key, bool required,
			     const char **ret)
{
	const json_t *value = json_object_get(call->body, key);

	if ((value == NULL || json_is_null(value)) && !required) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(value) || (required && json_string_length(value) == 0))
		return model_fail(&call->err, -EBADMSG, "the request needs %s: a non-empty string",
				  key);
	*ret = json_string_value(value);
	return 0;
}

/* The claim the request names, fetched (-ENOENT: not found, named as the API names it). */
static int api_volume_claim(struct api_volume_call *call, json_t **ret_claim)
{
	return model_get(call->plugin->model, MODEL_PVC, call->plugin->namespace_name, call->name,
			 ret_claim, &call->err);
}

/* The volume object of Get and List: Name, Mountpoint (once Bound), CreatedAt. */
static json_t *api_volume_object(const struct api_volume_plugin *plugin, const json_t *claim)
{
	const char *name = model_path_string(claim, "metadata.name");
	const char *created = model_path_string(claim, "metadata.creationTimestamp");
	char path[PATH_MAX];
	json_t *volume = json_pack("{s:s}", "Name", name != NULL ? name : "");

	if (volume == NULL)
		return NULL;
	if (name != NULL && api_volume_bound(claim) && api_volume_path(plugin, name, path) == 0 &&
	    json_object_set_new(volume, "Mountpoint", json_string(path)) < 0)
		goto fail;
	if (created != NULL && json_object_set_new(volume, "CreatedAt", json_string(created)) < 0)
		goto fail;
	return volume;
fail:
	json_decref(volume);
	return NULL;
}

/* Answer {key: value, "Err": ""} (value consumed; key NULL: {"Err": ""}). */
static int api_volume_answer(struct api_volume_call *call, const char *key, json_t *value)
{
	call->answer = json_pack("{s:s}", "Err", "");
	if (call->answer == NULL) {
		json_decref(value);
		return -ENOMEM;
	}
	if (key != NULL && json_object_set_new(call->answer, key, value) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- the mount table (plugin->lock held) --------------------------------------------- */

/* Drop the rows of name that belong to another claim of that name than uid
 * (the claim was deleted and made again through the API); count the rest
 * into *ret_rows, and the containers other than id into *ret_others. */
static void api_volume_mounts_scan(struct api_volume_plugin *plugin, const char *name,
				   const char *uid, const char *id, size_t *ret_rows,
				   size_t *ret_others, const char **ret_other_id)
{
	size_t rows = 0, others = 0;

	*ret_other_id = NULL;
	for (size_t i = 0; i < plugin->mount_count;) {
		struct api_volume_mount *m = &plugin->mounts[i];

		if (strcmp(m->name, name) != 0) {
			i++;
			continue;
		}
		if (strcmp(m->uid, uid) != 0) {
			*m = plugin->mounts[--plugin->mount_count];
			continue;
		}
		rows++;
		if (id == NULL || strcmp(m->id, id) != 0) {
			others++;
			*ret_other_id = m->id;
		}
		i++;
	}
	*ret_rows = rows;
	*ret_others = others;
}

/* The row of (name, id), or NULL. */
static struct api_volume_mount *api_volume_mounts_find(struct api_volume_plugin *plugin,
						       const char *name, const char *id)
{
	for (size_t i = 0; i < plugin->mount_count; i++)
		if (strcmp(plugin->mounts[i].name, name) == 0 && strcmp(plugin->mounts[i].id, id) == 0)
			return &plugin->mounts[i];
	return NULL;
}

/* ---- routes ----------------------------------------------------------------------------- */

static int api_volume_activate(struct api_volume_call *call)
{
	call->answer = json_pack("{s:[s]}", "Implements", "VolumeDriver"); /* no Err: not a driver call */
	return call->answer != NULL ? 0 : -ENOMEM;
}

static int api_volume_capabilities(struct api_volume_call *call)
{
	/* local: a volume lives on this machine's store, not cluster-wide. */
	call->answer = json_pack("{s:{s:s}}", "Capabilities", "Scope", "local");
	return call->answer != NULL ? 0 : -ENOMEM;
}

/* Create: the options into a claim (api_volume_create.c), then the model. */
static int api_volume_create(struct api_volume_call *call)
{
	int r = api_volume_create_claim(call->plugin->model, call->plugin->namespace_name,
					call->plugin->mountpoint, call->name,
					json_object_get(call->body, "Opts"), &call->err);

	return r < 0 ? r : api_volume_answer(call, NULL, NULL);
}

static int api_volume_remove(struct api_volume_call *call)
{
	struct api_volume_plugin *plugin = call->plugin;
	const char *uid, *other_id;
	size_t rows, others;
	json_t *claim = NULL, *gone = NULL;
	int r;

	pthread_mutex_lock(&plugin->lock);
	r = api_volume_claim(call, &claim);
	if (r < 0)
		goto out;
	uid = model_path_string(claim, "metadata.uid");
	api_volume_mounts_scan(plugin, call->name, uid != NULL ? uid : "", NULL, &rows, &others,
			       &other_id);
	if (rows > 0) {
		r = model_fail(&call->err, -EBUSY,
			       "volume \"%s\" is in use: mounted by %zu container(s), %.12s first; "
			       "stop them before removing it",
			       call->name, rows, other_id);
		goto out;
	}
	/* The claim's reclaim policy decides what happens to the data. */
	r = model_delete(plugin->model, MODEL_PVC, plugin->namespace_name, call->name, NULL, NULL,
			 &gone, &call->err);
	if (r == 0)
		r = api_volume_answer(call, NULL, NULL);
out:
	pthread_mutex_unlock(&plugin->lock);
	json_decref(gone);
	json_decref(claim);
	return r;
}

/* The Mountpoint answer of Mount and Path for a Bound claim. */
static int api_volume_mountpoint(struct api_volume_call *call, const json_t *claim)
{
	char path[PATH_MAX];
	int r;

	if (!api_volume_bound(claim)) {
		const char *phase = model_path_string(claim, "status.phase");

		return model_fail(&call->err, -EAGAIN,
				  "volume \"%s\" has no storage yet: its claim is %s (see kubectl "
				  "describe pvc %s)",
				  call->name, phase != NULL ? phase : "not bound", call->name);
	}
	r = api_volume_path(call->plugin, call->name, path);
	if (r < 0)
		return r;
	return api_volume_answer(call, "Mountpoint", json_string(path));
}

static int api_volume_mount(struct api_volume_call *call)
{
	struct api_volume_plugin *plugin = call->plugin;
	struct api_volume_mount *m;
	const char *id, *uid, *other_id;
	size_t rows, others;
	json_t *claim = NULL;
	int r = api_volume_string(call, "ID", true, &id);

	if (r < 0)
		return r;
	if (strlen(id) > API_VOLUME_ID_MAX)
		return model_fail(&call->err, -EBADMSG, "the container ID is longer than %d bytes",
				  API_VOLUME_ID_MAX);
	pthread_mutex_lock(&plugin->lock);
	r = api_volume_claim(call, &claim);
	if (r < 0)
		goto out;
	r = api_volume_mountpoint(call, claim);
	if (r < 0)
		goto out;
	uid = model_path_string(claim, "metadata.uid");
	uid = uid != NULL ? uid : "";
	api_volume_mounts_scan(plugin, call->name, uid, id, &rows, &others, &other_id);
	if (others > 0 && api_volume_has_mode(claim, "ReadWriteOncePod")) {
		r = model_fail(&call->err, -EBUSY,
			       "volume \"%s\" is ReadWriteOncePod and already mounted by container "
			       "%.64s: only one container may use it at a time",
			       call->name, other_id);
		goto out;
	}
	m = api_volume_mounts_find(plugin, call->name, id);
	if (m == NULL) {
		if (plugin->mount_count == API_VOLUME_MOUNTS_MAX) {
			r = model_fail(&call->err, -EBUSY, "too many mounted volumes (%d)",
				       API_VOLUME_MOUNTS_MAX);
			goto out;
		}
		m = &plugin->mounts[plugin->mount_count++];
		*m = (struct api_volume_mount){ .count = 0 };
		snprintf(m->name, sizeof(m->name), "%s", call->name);
		snprintf(m->uid, sizeof(m->uid), "%s", uid);
		snprintf(m->id, sizeof(m->id), "%s", id);
	}
	m->count++;
out:
	if (r < 0) {
		json_decref(call->answer);
		call->answer = NULL;
	}
	pthread_mutex_unlock(&plugin->lock);
	json_decref(claim);
	return r;
}

static int api_volume_unmount(struct api_volume_call *call)
{
	struct api_volume_plugin *plugin = call->plugin;
	struct api_volume_mount *m;
	const char *id;
	int r = api_volume_string(call, "ID", true, &id);

	if (r < 0)
		return r;
	/* No claim lookup: a claim deleted through the API must still let
	 * its containers go. A container the table does not know is already
	 * let go (the table is memory: a daemon restarted under a running
	 * container forgets it), and like CSI's NodeUnpublishVolume that is
	 * success, or the engine could never stop the container. */
	pthread_mutex_lock(&plugin->lock);
	m = api_volume_mounts_find(plugin, call->name, id);
	if (m == NULL)
		log_debug("volume plugin: Unmount of %s by %.64s, which has not mounted it",
			  call->name, id);
	else if (--m->count == 0)
		*m = plugin->mounts[--plugin->mount_count];
	pthread_mutex_unlock(&plugin->lock);
	return r < 0 ? r : api_volume_answer(call, NULL, NULL);
}

static int api_volume_path_route(struct api_volume_call *call)
{
	json_t *claim = NULL;
	int r = api_volume_claim(call, &claim);

	if (r == 0)
		r = api_volume_mountpoint(call, claim);
	json_decref(claim);
	return r;
}

/* Get: the volume, and in Status what the claim says (phase, capacity,
 * class, access modes) and how many containers have it mounted. */
static int api_volume_get(struct api_volume_call *call)
{
	struct api_volume_plugin *plugin = call->plugin;
	const char *uid, *other_id;
	size_t rows, others;
	json_t *claim = NULL, *volume = NULL, *status;
	int r = api_volume_claim(call, &claim);

	if (r < 0)
		return r;
	uid = model_path_string(claim, "metadata.uid");
	pthread_mutex_lock(&plugin->lock);
	api_volume_mounts_scan(plugin, call->name, uid != NULL ? uid : "", NULL, &rows, &others,
			       &other_id);
	pthread_mutex_unlock(&plugin->lock);
	volume = api_volume_object(plugin, claim);
	status = json_pack("{s:s?, s:s?, s:s?, s:O?, s:I}", "phase",
			   model_path_string(claim, "status.phase"), "capacity",
			   model_path_string(claim, "status.capacity.storage"), "storageClass",
			   model_path_string(claim, "spec.storageClassName"), "accessModes",
			   model_path(claim, "spec.accessModes"), "mounts", (json_int_t)rows);
	if (volume == NULL)
		json_decref(status);
	if (volume == NULL || json_object_set_new(volume, "Status", status) < 0) {
		json_decref(volume);
		r = -ENOMEM;
	} else {
		r = api_volume_answer(call, "Volume", volume);
	}
	json_decref(claim);
	return r;
}

static int api_volume_list(struct api_volume_call *call)
{
	json_t *list = NULL, *volumes = json_array(), *claim;
	size_t i;
	int r = model_list(call->plugin->model, MODEL_PVC, call->plugin->namespace_name, NULL, &list,
			   &call->err);

	if (r == 0 && volumes == NULL)
		r = -ENOMEM;
	json_array_foreach(r == 0 ? json_object_get(list, "items") : NULL, i, claim)
		if (json_array_append_new(volumes, api_volume_object(call->plugin, claim)) < 0)
			r = -ENOMEM;
	if (r == 0) {
		r = api_volume_answer(call, "Volumes", volumes);
		volumes = NULL; /* now owned by the answer */
	}
	json_decref(volumes);
	json_decref(list);
	return r;
}

/* The protocol's routes (every one a POST). */
static const struct api_volume_route {
	const char *path;
	int (*handle)(struct api_volume_call *call);
	bool named; /* the request carries a volume Name */
} api_volume_routes[] = {
	{ "/Plugin.Activate", api_volume_activate, false },
	{ "/VolumeDriver.Capabilities", api_volume_capabilities, false },
	{ "/VolumeDriver.Create", api_volume_create, true },
	{ "/VolumeDriver.Remove", api_volume_remove, true },
	{ "/VolumeDriver.Mount", api_volume_mount, true },
	{ "/VolumeDriver.Unmount", api_volume_unmount, true },
	{ "/VolumeDriver.Path", api_volume_path_route, true },
	{ "/VolumeDriver.Get", api_volume_get, true },
	{ "/VolumeDriver.List", api_volume_list, false },
};

/* ---- requests ------------------------------------------------------------------------- */

/* The body as a JSON object (an empty body is {}: engines send none to
 * Activate and List), with the Kubernetes API's own decoding messages. */
static int api_volume_decode(struct api_volume_call *call, const struct api_request *req)
{
	struct api_request as_json = *req;
	struct api_call decode = { .model = call->plugin->model, .req = &as_json };
	int r;

	if (req->body == NULL || req->body_len == 0) {
		call->body = json_object();
		return call->body != NULL ? 0 : -ENOMEM;
	}
	/* Engines label the body application/vnd.docker.plugins.v1.x+json or
	 * send no type at all: it is JSON either way. */
	as_json.content_type = API_JSON_TYPE;
	model_error_init(&decode.err);
	r = api_decode_body(&decode, &call->body);
	call->err = decode.err;
	if (r == 0 && !json_is_object(call->body))
		r = model_fail(&call->err, -EBADMSG, "the request body must be a JSON object");
	return r;
}

/* Name: a claim name; malformed ones get the message a claim with that
 * metadata.name gets from the Kubernetes API. */
static int api_volume_name(struct api_volume_call *call)
{
	char detail[NAMES_FIELD_DETAIL_MAX];
	int r = api_volume_string(call, "Name", true, &call->name);

	if (r < 0)
		return r;
	if (names_check_subdomain(call->name, detail, sizeof(detail)) < 0) {
		call->err.kind = model_kind_info(MODEL_PVC)->kind;
		snprintf(call->err.name, sizeof(call->err.name), "%s", call->name);
		names_field_error_add(&call->err.fields, NAMES_FIELD_INVALID, "metadata.name",
				      call->name, "%s", detail);
		return -EINVAL;
	}
	return 0;
}

/* The response of a failure: the status the Kubernetes API answers for r
 * and {"Err": the message it gives}. */
static void api_volume_fail(int r, const struct model_error *err, struct api_response *res)
{
	json_t *status = api_error_body(-r, err);
	const char *message = json_string_value(json_object_get(status, "message"));
	json_t *answer = json_pack("{s:s}", "Err", message != NULL ? message : strerror(-r));

	res->status = api_status_for(-r).code;
	res->body = answer != NULL ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	json_decref(status);
}

void api_volume_plugin_handle(struct api_volume_plugin *plugin, const struct api_request *req,
			      struct api_response *ret_response)
{
	struct api_volume_call call = { .plugin = plugin };
	const struct api_volume_route *route = NULL;
	int r;

	*ret_response = (struct api_response){ .content_type = API_VOLUME_TYPE };
	model_error_init(&call.err);
	for (size_t i = 0; i < sizeof(api_volume_routes) / sizeof(api_volume_routes[0]); i++)
		if (strcmp(req->path, api_volume_routes[i].path) == 0)
			route = &api_volume_routes[i];
	if (route == NULL)
		r = model_fail(&call.err, -ENOENT,
			       "%.200s is not part of the volume plugin protocol", req->path);
	else if (strcmp(req->method, "POST") != 0)
		r = model_fail(&call.err, -EOPNOTSUPP, "the volume plugin protocol takes POST only");
	else
		r = api_volume_decode(&call, req);
	if (r == 0 && route->named)
		r = api_volume_name(&call);
	if (r == 0)
		r = route->handle(&call);
	if (r == 0) {
		ret_response->status = 200;
		ret_response->body = json_dumps(call.answer, JSON_COMPACT);
		r = ret_response->body != NULL ? 0 : -ENOMEM;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			model_error_init(&call.err);
		api_volume_fail(r, &call.err, ret_response);
	}
	json_decref(call.answer);
	json_decref(call.body);
}

int api_volume_plugin_new(struct model *model, const char *namespace_name,
			  const char *mountpoint, struct api_volume_plugin **ret_plugin)
{
	struct api_volume_plugin *plugin = calloc(1, sizeof(*plugin));

	if (plugin == NULL)
		return -ENOMEM;
	plugin->model = model;
	plugin->namespace_name = strdup(namespace_name);
	plugin->mountpoint = strdup(mountpoint);
	if (plugin->namespace_name == NULL || plugin->mountpoint == NULL ||
	    pthread_mutex_init(&plugin->lock, NULL) != 0) {
		free(plugin->namespace_name);
		free(plugin->mountpoint);
		free(plugin);
		return -ENOMEM;
	}
	*ret_plugin = plugin;
	return 0;
}

void api_volume_plugin_free(struct api_volume_plugin *plugin)
{
	if (plugin == NULL)
		return;
	pthread_mutex_destroy(&plugin->lock);
	free(plugin->namespace_name);
	free(plugin->mountpoint);
	free(plugin);
}
