/*
 * snapshot.c — CSI snapshots and volume content sources, on claimfsd's
 * VolumeSnapshot API (snapshot.storage.k8s.io/v1, namespaced like claims).
 *
 * A snapshot lives in the namespace of its source claim and is named after
 * the sanitised CSI snapshot name; snapshot_id = "<ns>/<name>". claimfsd
 * copies the claim's data at a point in time (one SQLite transaction), so a
 * snapshot is ready_to_use as soon as it exists. Restoring and cloning post
 * a claim with spec.dataSource in the source's namespace, as Kubernetes
 * itself requires.
 *
 * Idempotency: CreateSnapshot with a name that exists for the same source
 * is OK; for another source ALREADY_EXISTS. DeleteSnapshot of a missing
 * snapshot (or on a claimfsd without the snapshot API) is OK.
 */
#include "csi.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define SNAPSHOT_API_GROUP "snapshot.storage.k8s.io"

/* NULL and "" are both "unset" in proto3. */
static bool snapshot_empty(const char *text)
{
	return text == NULL || text[0] == '\0';
}

/* ---- content sources (CreateVolume) ------------------------------------------------ */

/* Resolve a volume content source for CreateVolume. */
int snapshot_content_source(struct csi_call *call, const Csi__V1__VolumeContentSource *source,
			    const char **ret_ns, uint64_t *ret_source_bytes,
			    json_t **ret_data_source, const char **ret_annotation)
{
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1], msg[256];
	struct mapping_snapshot snap;
	struct mapping_claim claim;
	struct daemon_client_error err;
	json_t *json = NULL, *data_source;
	const char *id;
	int r;

	switch (source->type_case) {
	case CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_VOLUME:
		id = source->volume != NULL ? source->volume->volume_id : NULL;
		if (snapshot_empty(id))
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "source volume id missing");
		if (csi_lookup_volume(call, id, 0, NULL, &claim) < 0)
			return -1;
		*ret_ns = claim.namespace_name;
		*ret_source_bytes = claim.capacity;
		data_source = json_pack("{s:s, s:s}", "kind", "PersistentVolumeClaim", "name",
					claim.name);
		*ret_annotation = arena_printf(call->arena, "volume:%s", id);
		break;
	case CSI__V1__VOLUME_CONTENT_SOURCE__TYPE_SNAPSHOT:
		id = source->snapshot != NULL ? source->snapshot->snapshot_id : NULL;
		if (snapshot_empty(id))
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "source snapshot id missing");
		if (mapping_snapshot_id_split(id, ns, sizeof(ns), name, sizeof(name)) < 0)
			return csi_fail(call, GRPC_STATUS_NOT_FOUND, "snapshot %s does not exist", id);
		r = daemon_client_snapshot_get(&call->driver->api, ns, name, &json, &err);
		if (r == -ENOENT || r == -EOPNOTSUPP)
			return csi_fail(call, GRPC_STATUS_NOT_FOUND, "snapshot %s does not exist", id);
		if (r < 0)
			return csi_fail_api(call, r, &err, "looking up the source snapshot");
		if (csi_keep_json(call, json) < 0)
			return -1;
		if (mapping_snapshot_parse(json, &snap, msg, sizeof(msg)) < 0)
			return csi_fail(call, GRPC_STATUS_INTERNAL, "%s", msg);
		if (!snap.ready)
			return csi_fail(call, GRPC_STATUS_UNAVAILABLE, "snapshot %s is not ready yet",
					id);
		*ret_ns = snap.namespace_name;
		*ret_source_bytes = snap.size;
		data_source = json_pack("{s:s, s:s, s:s}", "apiGroup", SNAPSHOT_API_GROUP, "kind",
					"VolumeSnapshot", "name", snap.name);
		*ret_annotation = arena_printf(call->arena, "snapshot:%s", id);
		break;
	default:
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"volume content source names neither a snapshot nor a volume");
	}
	if (data_source == NULL || *ret_annotation == NULL || csi_keep_json(call, data_source) < 0)
		return csi_fail_oom(call);
	*ret_data_source = data_source;
	return 0;
}

/* ---- the Snapshot message ---------------------------------------------------------- */

/* Build a Snapshot; source_volume_id when the snapshot does not record it. */
Csi__V1__Snapshot *snapshot_message(struct csi_call *call, const struct mapping_snapshot *s,
				    const char *source_volume_id)
{
	Csi__V1__Snapshot *snap = csi_new(call, &csi__v1__snapshot__descriptor);
	Google__Protobuf__Timestamp *created = csi_new(call, &google__protobuf__timestamp__descriptor);

	if (snap == NULL || created == NULL)
		return NULL;
	snap->size_bytes = (int64_t)s->size;
	snap->snapshot_id = arena_printf(call->arena, "%s/%s", s->namespace_name, s->name);
	if (s->source_volume_id != NULL)
		source_volume_id = s->source_volume_id;
	snap->source_volume_id = arena_strdup(call->arena, source_volume_id ? source_volume_id : "");
	created->seconds = s->created_seconds;
	snap->creation_time = created;
	snap->ready_to_use = s->ready;
	if (s->group != NULL &&
	    (snap->group_snapshot_id =
		     arena_printf(call->arena, "%s/%s", s->namespace_name, s->group)) == NULL)
		return NULL;
	if (snap->snapshot_id == NULL || snap->source_volume_id == NULL)
		return NULL;
	return snap;
}

/* ---- CreateSnapshot ------------------------------------------------------------------- */

/* Compare an existing snapshot with the request: 0 same, -1 ALREADY_EXISTS. */
static int snapshot_compare(struct csi_call *call, const struct mapping_snapshot *s,
			    const char *csi_name, const struct mapping_claim *source)
{
	if ((s->csi_name != NULL && strcmp(s->csi_name, csi_name) != 0) ||
	    s->source_claim == NULL || strcmp(s->source_claim, source->name) != 0 ||
	    (s->source_volume_id != NULL && strcmp(s->source_volume_id, source->volume_id) != 0))
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"snapshot \"%s\" already exists for another source (%s/%s)", csi_name,
				s->namespace_name, s->source_claim ? s->source_claim : "?");
	return 0;
}

/* GET the snapshot: 1 found and matching (in *ret), 0 absent, -1 failed. */
static int snapshot_existing(struct csi_call *call, const char *ns, const char *name,
			     const char *csi_name, const struct mapping_claim *source,
			     struct mapping_snapshot *ret)
{
	struct daemon_client_error err;
	json_t *json = NULL;
	char msg[256];
	int r;

	r = daemon_client_snapshot_get(&call->driver->api, ns, name, &json, &err);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	if (r < 0)
		return csi_fail_api(call, r, &err, "looking up the snapshot");
	if (csi_keep_json(call, json) < 0)
		return -1;
	if (mapping_snapshot_parse(json, ret, msg, sizeof(msg)) < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "%s", msg);
	return snapshot_compare(call, ret, csi_name, source) < 0 ? -1 : 1;
}

/* Answer CreateSnapshot. */
static int snapshot_answer(struct csi_call *call, const struct mapping_snapshot *s,
			   const char *source_volume_id, ProtobufCMessage **ret_response)
{
	Csi__V1__CreateSnapshotResponse *res =
		csi_new(call, &csi__v1__create_snapshot_response__descriptor);

	if (res == NULL || (res->snapshot = snapshot_message(call, s, source_volume_id)) == NULL)
		return csi_fail_oom(call);
	*ret_response = &res->base;
	return 0;
}

/* CreateSnapshot: a VolumeSnapshot of the source claim. */
int snapshot_create(struct csi_call *call, const ProtobufCMessage *request,
		    ProtobufCMessage **ret_response)
{
	const Csi__V1__CreateSnapshotRequest *req = (const Csi__V1__CreateSnapshotRequest *)request;
	char name[NAMES_SUBDOMAIN_MAX + 1], msg[256];
	struct mapping_snapshot snap;
	struct mapping_claim source;
	struct daemon_client_error err;
	json_t *body, *json = NULL;
	int r;

	if (snapshot_empty(req->name))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "snapshot name missing");
	if (snapshot_empty(req->source_volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "source volume id missing");
	for (size_t i = 0; i < req->n_parameters; i++)
		if (strncmp(req->parameters[i]->key, MAPPING_PARAM_PREFIX,
			    strlen(MAPPING_PARAM_PREFIX)) != 0)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"unknown parameter \"%s\": claimfs snapshots take no "
					"parameters",
					req->parameters[i]->key);
	if (csi_lookup_volume(call, req->source_volume_id, 0, NULL, &source) < 0)
		return -1;
	if (mapping_object_name(req->name, name, sizeof(name)) < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"snapshot name \"%s\" cannot be turned into an object name", req->name);
	r = snapshot_existing(call, source.namespace_name, name, req->name, &source, &snap);
	if (r != 0)
		return r < 0 ? -1 : snapshot_answer(call, &snap, source.volume_id, ret_response);

	body = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s}}, s:{s:{s:s}}}", "apiVersion",
			 SNAPSHOT_API_GROUP "/v1", "kind", "VolumeSnapshot", "metadata", "name", name,
			 "annotations", MAPPING_ANNOTATION_SNAPSHOT_NAME, req->name,
			 MAPPING_ANNOTATION_SOURCE_VOLUME, source.volume_id, "spec", "source",
			 "persistentVolumeClaimName", source.name);
	if (body == NULL)
		return csi_fail_oom(call);
	r = daemon_client_snapshot_create(&call->driver->api, source.namespace_name, body, &json,
					  &err);
	json_decref(body);
	if (r == -EEXIST) {
		r = snapshot_existing(call, source.namespace_name, name, req->name, &source, &snap);
		if (r == 0)
			return csi_fail(call, GRPC_STATUS_ABORTED,
					"snapshot %s appeared and vanished during creation", name);
		return r < 0 ? -1 : snapshot_answer(call, &snap, source.volume_id, ret_response);
	}
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return csi_fail(call, GRPC_STATUS_UNIMPLEMENTED,
				"this claimfsd has no snapshot API: %s", err.message);
	if (r < 0)
		return csi_fail_api(call, r, &err, "creating the snapshot");
	if (csi_keep_json(call, json) < 0)
		return -1;
	if (mapping_snapshot_parse(json, &snap, msg, sizeof(msg)) < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "%s", msg);
	return snapshot_answer(call, &snap, source.volume_id, ret_response);
}

/* ---- DeleteSnapshot --------------------------------------------------------------------- */

/* DeleteSnapshot: gone already is OK. */
int snapshot_delete(struct csi_call *call, const ProtobufCMessage *request,
		    ProtobufCMessage **ret_response)
{
	const Csi__V1__DeleteSnapshotRequest *req = (const Csi__V1__DeleteSnapshotRequest *)request;
	Csi__V1__DeleteSnapshotResponse *res =
		csi_new(call, &csi__v1__delete_snapshot_response__descriptor);
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1];
	struct daemon_client_error err;
	int r;

	if (res == NULL)
		return csi_fail_oom(call);
	if (snapshot_empty(req->snapshot_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "snapshot id missing");
	if (mapping_snapshot_id_split(req->snapshot_id, ns, sizeof(ns), name, sizeof(name)) == 0) {
		r = daemon_client_snapshot_delete(&call->driver->api, ns, name, &err);
		if (r < 0 && r != -ENOENT && r != -EOPNOTSUPP)
			return csi_fail_api(call, r, &err, "deleting the snapshot");
	}
	*ret_response = &res->base;
	return 0;
}

/* ---- ListSnapshots -------------------------------------------------------------------------- */

/* A growing list of parsed snapshots (in the arena). */
struct snapshot_set {
	struct mapping_snapshot *items;
	size_t count, cap;
};

/* Append the parsable snapshots of a list answer (kept by the arena). */
static int snapshot_set_add_items(struct csi_call *call, struct snapshot_set *set, json_t *items)
{
	json_t *item;
	char msg[256];
	size_t i;

	if (csi_keep_json(call, items) < 0)
		return -1;
	json_array_foreach(items, i, item) {
		if (set->count == set->cap) {
			size_t cap = set->cap ? set->cap * 2 : 16;
			struct mapping_snapshot *grown = arena_alloc(call->arena, cap * sizeof(*grown));

			if (grown == NULL)
				return csi_fail_oom(call);
			if (set->count > 0)
				memcpy(grown, set->items, set->count * sizeof(*grown));
			set->items = grown;
			set->cap = cap;
		}
		if (mapping_snapshot_parse(item, &set->items[set->count], msg, sizeof(msg)) == 0)
			set->count++;
	}
	return 0;
}

/* List one namespace; a namespace or API that is not there adds nothing. */
static int snapshot_list_namespace(struct csi_call *call, struct snapshot_set *set,
				   const char *ns)
{
	struct daemon_client_error err;
	json_t *items = NULL;
	int r;

	r = daemon_client_snapshot_list(&call->driver->api, ns, &items, &err);
	if (r == -ENOENT || r == -EOPNOTSUPP || r == -EINVAL)
		return 0;
	if (r < 0)
		return csi_fail_api(call, r, &err, "listing snapshots");
	return snapshot_set_add_items(call, set, items);
}

/* Every namespace that may hold snapshots when there is no cluster-wide
 * list: those of the claims and the namespace directories of the mount. */
static int snapshot_list_by_namespace(struct csi_call *call, struct snapshot_set *set)
{
	struct mapping_claim *claims;
	size_t count, n_names = 0;
	const char **names;
	struct dirent *entry;
	DIR *dir;

	if (csi_lookup_all_volumes(call, &claims, &count) < 0)
		return -1;
	names = arena_alloc(call->arena, (count + 1) * sizeof(*names));
	if (names == NULL)
		return csi_fail_oom(call);
	for (size_t i = 0; i < count; i++)
		names[n_names++] = claims[i].namespace_name;
	dir = opendir(call->driver->mount_dir);
	while (dir != NULL && (entry = readdir(dir)) != NULL) {
		const char **grown;

		if (entry->d_name[0] == '.')
			continue;
		grown = arena_alloc(call->arena, (n_names + 1) * sizeof(*grown));
		if (grown == NULL) {
			closedir(dir);
			return csi_fail_oom(call);
		}
		memcpy(grown, names, n_names * sizeof(*grown));
		grown[n_names] = arena_strdup(call->arena, entry->d_name);
		if (grown[n_names] == NULL) {
			closedir(dir);
			return csi_fail_oom(call);
		}
		names = grown;
		n_names++;
	}
	if (dir != NULL)
		closedir(dir);
	for (size_t i = 0; i < n_names; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(names[i], names[j]) == 0;
		if (!seen && snapshot_list_namespace(call, set, names[i]) < 0)
			return -1;
	}
	return 0;
}

/* All snapshots: the cluster-wide list, else namespace by namespace. */
static int snapshot_list_all(struct csi_call *call, struct snapshot_set *set)
{
	struct daemon_client_error err;
	json_t *items = NULL;
	int r;

	r = daemon_client_snapshot_list(&call->driver->api, NULL, &items, &err);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return snapshot_list_by_namespace(call, set);
	if (r < 0)
		return csi_fail_api(call, r, &err, "listing snapshots");
	return snapshot_set_add_items(call, set, items);
}

/* The set filtered to what the request asks for. */
static int snapshot_list_select(struct csi_call *call, const Csi__V1__ListSnapshotsRequest *req,
				struct snapshot_set *set, const struct mapping_claim **ret_source)
{
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1];
	static const struct mapping_claim none; /* "no such source": matches nothing */
	struct mapping_claim *source = arena_alloc(call->arena, sizeof(*source));
	bool found = false;

	*ret_source = NULL;
	if (source == NULL)
		return csi_fail_oom(call);
	if (!snapshot_empty(req->source_volume_id)) {
		if (csi_lookup_volume_maybe(call, req->source_volume_id, 0, NULL, source, &found) < 0)
			return -1;
		*ret_source = found ? source : &none;
		if (!found)
			return 0; /* "no such source volume" lists nothing */
	}
	if (!snapshot_empty(req->snapshot_id)) {
		if (mapping_snapshot_id_split(req->snapshot_id, ns, sizeof(ns), name, sizeof(name)) < 0)
			return 0;
		return snapshot_list_namespace(call, set, ns);
	}
	if (found)
		return snapshot_list_namespace(call, set, source->namespace_name);
	return snapshot_list_all(call, set);
}

/* Does snapshot s pass the request's filters? */
static bool snapshot_wanted(const Csi__V1__ListSnapshotsRequest *req,
			    const struct mapping_claim *source, const struct mapping_snapshot *s,
			    const char *id)
{
	if (!snapshot_empty(req->snapshot_id) && strcmp(req->snapshot_id, id) != 0)
		return false;
	if (source != NULL) {
		if (source->volume_id == NULL || strcmp(s->namespace_name, source->namespace_name) != 0 ||
		    s->source_claim == NULL || strcmp(s->source_claim, source->name) != 0)
			return false;
		if (s->source_volume_id != NULL && strcmp(s->source_volume_id, source->volume_id) != 0)
			return false;
	}
	return true;
}

/* Resolve the source volume of a snapshot that does not record it. */
static const char *snapshot_source_volume(const struct mapping_claim *claims, size_t count,
					  const struct mapping_snapshot *s)
{
	for (size_t i = 0; s->source_claim != NULL && i < count; i++)
		if (strcmp(claims[i].namespace_name, s->namespace_name) == 0 &&
		    strcmp(claims[i].name, s->source_claim) == 0)
			return claims[i].volume_id;
	return NULL;
}

/* qsort order: by snapshot id ("<ns>/<name>"). */
static int snapshot_compare_ids(const void *a, const void *b)
{
	const struct mapping_snapshot *x = a, *y = b;
	char id_x[NAMES_LABEL_MAX + NAMES_SUBDOMAIN_MAX + 2];
	char id_y[NAMES_LABEL_MAX + NAMES_SUBDOMAIN_MAX + 2];

	/* The same order the page tokens compare in: the whole id, bytewise. */
	snprintf(id_x, sizeof(id_x), "%s/%s", x->namespace_name, x->name);
	snprintf(id_y, sizeof(id_y), "%s/%s", y->namespace_name, y->name);
	return strcmp(id_x, id_y);
}

/* ListSnapshots: filtered, sorted by id, paged like ListVolumes. */
int snapshot_list(struct csi_call *call, const ProtobufCMessage *request,
		  ProtobufCMessage **ret_response)
{
	const Csi__V1__ListSnapshotsRequest *req = (const Csi__V1__ListSnapshotsRequest *)request;
	Csi__V1__ListSnapshotsResponse *res =
		csi_new(call, &csi__v1__list_snapshots_response__descriptor);
	struct snapshot_set set = { 0 };
	const struct mapping_claim *source;
	struct mapping_claim *claims = NULL;
	size_t n_claims = 0, n = 0;
	const char *after, *last = NULL;
	bool more = false;

	if (res == NULL)
		return csi_fail_oom(call);
	if (req->max_entries < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "max_entries is negative");
	if (mapping_token_parse(req->starting_token, mapping_snapshot_id_valid, &after) < 0)
		return csi_fail(call, GRPC_STATUS_ABORTED,
				"starting_token \"%s\" was not issued by this plugin; list again "
				"without one",
				req->starting_token);
	if (snapshot_list_select(call, req, &set, &source) < 0)
		return -1;
	if (set.count > 1)
		qsort(set.items, set.count, sizeof(*set.items), snapshot_compare_ids);
	res->entries = csi_array(call, set.count);
	if (res->entries == NULL)
		return csi_fail_oom(call);
	for (size_t i = 0; i < set.count; i++) {
		const struct mapping_snapshot *s = &set.items[i];
		const char *id = arena_printf(call->arena, "%s/%s", s->namespace_name, s->name);
		Csi__V1__ListSnapshotsResponse__Entry *e;
		const char *source_id;

		if (id == NULL)
			return csi_fail_oom(call);
		if ((after != NULL && strcmp(id, after) <= 0) || !snapshot_wanted(req, source, s, id))
			continue;
		if (req->max_entries > 0 && n == (size_t)req->max_entries) {
			more = true;
			break;
		}
		source_id = source != NULL ? source->volume_id : NULL;
		if (s->source_volume_id == NULL && source_id == NULL) {
			if (claims == NULL && csi_lookup_all_volumes(call, &claims, &n_claims) < 0)
				return -1;
			source_id = snapshot_source_volume(claims, n_claims, s);
		}
		e = csi_new(call, &csi__v1__list_snapshots_response__entry__descriptor);
		if (e == NULL || (e->snapshot = snapshot_message(call, s, source_id)) == NULL)
			return csi_fail_oom(call);
		res->entries[n++] = e;
		last = id;
	}
	res->n_entries = n;
	if (more && last != NULL &&
	    (res->next_token = arena_printf(call->arena, "%s%s", MAPPING_TOKEN_PREFIX, last)) == NULL)
		return csi_fail_oom(call);
	*ret_response = &res->base;
	return 0;
}
