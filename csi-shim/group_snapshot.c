/*
 * group_snapshot.c — the CSI GroupController service (plugin capability
 * GROUP_CONTROLLER_SERVICE, RPC CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT):
 * VolumeGroupSnapshots taken by claimfsd in one store operation, so the
 * members are one instant of all the claims (crash-consistent across them,
 * e.g. every claim of a StatefulSet).
 *
 * Mapping: a group snapshot of volumes in namespace ns is one POST of a
 * VolumeSnapshotList to claimfsd (its group-snapshot extension); each member
 * is an ordinary VolumeSnapshot "<group>-<volume id>" (DNS-1123, shortened
 * with a hash when needed) annotated with the group name and its source
 * volume id, so members restore and delete like any snapshot.
 * group_snapshot_id = "<ns>/<group>", the group being the CSI name as a
 * DNS-1123 name; a member's snapshot_id is "<ns>/<member>".
 *
 * Rules: the same name with the same volumes is the same group (OK); with
 * other volumes ALREADY_EXISTS; an unknown volume NOT_FOUND; volumes of
 * several namespaces, duplicates, missing fields or unknown parameters
 * INVALID_ARGUMENT. Get of an unknown group is NOT_FOUND, Delete of one OK.
 * snapshot_ids (REQUIRED in Delete, checked in Get when given) must name
 * every member and nothing outside the group, else INVALID_ARGUMENT (the
 * spec's "Snapshot list mismatch") and nothing is deleted; a Delete retried
 * after some members went may still name those.
 */
#include "csi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

struct group_members {
	struct mapping_snapshot *items;
	size_t count;
	json_t *all; /* every snapshot of the namespace (borrowed from the call), or NULL */
};

static bool group_empty(const char *text)
{
	return text == NULL || text[0] == '\0';
}

/* The members of group in ns (from claimfsd), in the arena. */
static int group_find(struct csi_call *call, const char *ns, const char *group,
		      struct group_members *ret)
{
	struct daemon_client_error err;
	struct mapping_snapshot s;
	json_t *items = NULL, *item;
	char msg[256];
	size_t i;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = daemon_client_snapshot_list(&call->driver->api, ns, &items, &err);
	if (r == -ENOENT || r == -EINVAL)
		return 0; /* no such namespace: no members */
	if (r < 0)
		return csi_fail_api(call, r, &err, "listing snapshots");
	if (csi_keep_json(call, items) < 0)
		return -1;
	ret->all = items;
	ret->items = arena_alloc(call->arena, (json_array_size(items) + 1) * sizeof(*ret->items));
	if (ret->items == NULL)
		return csi_fail_oom(call);
	json_array_foreach(items, i, item)
		if (mapping_snapshot_parse(item, &s, msg, sizeof(msg)) == 0 && s.group != NULL &&
		    strcmp(s.group, group) == 0)
			ret->items[ret->count++] = s;
	return 0;
}

/* The VolumeGroupSnapshot message of members. */
static Csi__V1__VolumeGroupSnapshot *group_message(struct csi_call *call, const char *ns,
						   const char *group,
						   const struct group_members *m)
{
	Csi__V1__VolumeGroupSnapshot *g = csi_new(call, &csi__v1__volume_group_snapshot__descriptor);
	Google__Protobuf__Timestamp *created = csi_new(call, &google__protobuf__timestamp__descriptor);

	if (g == NULL || created == NULL || (g->snapshots = csi_array(call, m->count)) == NULL ||
	    (g->group_snapshot_id = arena_printf(call->arena, "%s/%s", ns, group)) == NULL)
		return NULL;
	g->ready_to_use = true;
	for (size_t i = 0; i < m->count; i++) {
		if ((g->snapshots[i] = snapshot_message(call, &m->items[i], NULL)) == NULL)
			return NULL;
		g->ready_to_use = g->ready_to_use && m->items[i].ready;
		if (created->seconds == 0 || m->items[i].created_seconds < created->seconds)
			created->seconds = m->items[i].created_seconds;
	}
	g->n_snapshots = m->count;
	g->creation_time = created;
	return g;
}

/* Do the members hold exactly these source volumes? */
static bool group_same_sources(const struct group_members *m, const struct mapping_claim *claims,
			       size_t count)
{
	if (m->count != count)
		return false;
	for (size_t i = 0; i < count; i++) {
		bool found = false;

		for (size_t j = 0; j < m->count && !found; j++)
			found = m->items[j].source_volume_id != NULL &&
				strcmp(m->items[j].source_volume_id, claims[i].volume_id) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* ---- CreateVolumeGroupSnapshot ------------------------------------------------------ */

/* Check the request and find its claims (one namespace, no duplicates). */
static int group_claims(struct csi_call *call, const Csi__V1__CreateVolumeGroupSnapshotRequest *req,
			struct mapping_claim **ret_claims)
{
	struct mapping_claim *claims;

	if (group_empty(req->name))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "name missing");
	if (req->n_source_volume_ids == 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "source_volume_ids missing");
	for (size_t i = 0; i < req->n_parameters; i++)
		if (strncmp(req->parameters[i]->key, MAPPING_PARAM_PREFIX,
			    strlen(MAPPING_PARAM_PREFIX)) != 0)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"unknown parameter \"%s\" (claimfs takes none)",
					req->parameters[i]->key);
	claims = arena_alloc(call->arena, req->n_source_volume_ids * sizeof(*claims));
	if (claims == NULL)
		return csi_fail_oom(call);
	for (size_t i = 0; i < req->n_source_volume_ids; i++) {
		const char *id = req->source_volume_ids[i];

		if (group_empty(id))
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"source_volume_ids[%zu] is empty", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->source_volume_ids[j], id) == 0)
				return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
						"volume %s is named twice", id);
		if (csi_lookup_volume(call, id, 0, NULL, &claims[i]) < 0)
			return -1;
		if (strcmp(claims[i].namespace_name, claims[0].namespace_name) != 0)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"the volumes of a group snapshot are claims of one "
					"namespace: %s is in %s, %s in %s",
					claims[0].volume_id, claims[0].namespace_name, id,
					claims[i].namespace_name);
	}
	*ret_claims = claims;
	return 0;
}

/* The VolumeSnapshotList claimfsd takes as one group snapshot. */
static json_t *group_body(struct csi_call *call, const char *group,
			  const struct mapping_claim *claims, size_t count)
{
	json_t *items = json_array(), *item;
	char member[NAMES_SUBDOMAIN_MAX + 1];
	char *wanted;
	int r = items != NULL ? 0 : -1;

	for (size_t i = 0; r == 0 && i < count; i++) {
		wanted = arena_printf(call->arena, "%s-%s", group, claims[i].volume_id);
		if (wanted == NULL || mapping_object_name(wanted, member, sizeof(member)) < 0) {
			r = -1;
			break;
		}
		item = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s}}, s:{s:{s:s}}}", "apiVersion",
				 "snapshot.storage.k8s.io/v1", "kind", "VolumeSnapshot", "metadata",
				 "name", member, "annotations", MAPPING_ANNOTATION_GROUP, group,
				 MAPPING_ANNOTATION_SOURCE_VOLUME, claims[i].volume_id, "spec",
				 "source", "persistentVolumeClaimName", claims[i].name);
		r = json_array_append_new(items, item);
	}
	if (r < 0) {
		json_decref(items);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o}", "apiVersion", "snapshot.storage.k8s.io/v1", "kind",
			 "VolumeSnapshotList", "items", items);
}

/* Answer with the members of group, or ALREADY_EXISTS when they are of
 * other volumes. 1: answered, 0: no such group yet, -1: failed. */
static int group_existing(struct csi_call *call, const char *group,
			  const struct mapping_claim *claims, size_t count,
			  Csi__V1__CreateVolumeGroupSnapshotResponse *res)
{
	const char *ns = claims[0].namespace_name;
	struct group_members m;

	if (group_find(call, ns, group, &m) < 0)
		return -1;
	if (m.count == 0)
		return 0;
	if (!group_same_sources(&m, claims, count))
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"group snapshot %s/%s already exists of other volumes", ns, group);
	res->group_snapshot = group_message(call, ns, group, &m);
	return res->group_snapshot != NULL ? 1 : csi_fail_oom(call);
}

/* CreateVolumeGroupSnapshot. */
int group_snapshot_create(struct csi_call *call, const ProtobufCMessage *request,
			  ProtobufCMessage **ret_response)
{
	const Csi__V1__CreateVolumeGroupSnapshotRequest *req =
		(const Csi__V1__CreateVolumeGroupSnapshotRequest *)request;
	Csi__V1__CreateVolumeGroupSnapshotResponse *res =
		csi_new(call, &csi__v1__create_volume_group_snapshot_response__descriptor);
	char group[NAMES_SUBDOMAIN_MAX + 1];
	struct daemon_client_error err;
	struct mapping_claim *claims = NULL;
	json_t *body, *answer = NULL;
	int r;

	if (res == NULL)
		return csi_fail_oom(call);
	if (group_claims(call, req, &claims) < 0)
		return -1;
	if (mapping_object_name(req->name, group, sizeof(group)) < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "name \"%s\" is not usable",
				req->name);
	r = group_existing(call, group, claims, req->n_source_volume_ids, res);
	if (r == 0) {
		body = group_body(call, group, claims, req->n_source_volume_ids);
		if (body == NULL)
			return csi_fail_oom(call);
		r = daemon_client_snapshot_create(&call->driver->api, claims[0].namespace_name, body,
						  &answer, &err);
		json_decref(body);
		json_decref(answer);
		/* 409: a racing call of the same name made it first; answer with it. */
		if (r < 0 && r != -EEXIST)
			return csi_fail_api(call, r, &err, "taking the group snapshot");
		r = group_existing(call, group, claims, req->n_source_volume_ids, res);
		if (r == 0)
			return csi_fail(call, GRPC_STATUS_INTERNAL,
					"claimfsd took group snapshot %s but lists no member", group);
	}
	if (r < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}

/* ---- GetVolumeGroupSnapshot / DeleteVolumeGroupSnapshot -------------------------------- */

/* The members of group_snapshot_id; *ret_found false when it is not a group. */
static int group_by_id(struct csi_call *call, const char *id, char *ns, size_t ns_size,
		       char *group, size_t group_size, struct group_members *ret, bool *ret_found)
{
	*ret_found = false;
	if (group_empty(id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "group_snapshot_id missing");
	if (mapping_snapshot_id_split(id, ns, ns_size, group, group_size) < 0)
		return 0; /* not an id we issue: no such group */
	if (group_find(call, ns, group, ret) < 0)
		return -1;
	*ret_found = ret->count > 0;
	return 0;
}

/* Is id the snapshot_id of member (of a group in ns)? */
static bool group_is_member(const char *ns, const struct mapping_snapshot *member, const char *id)
{
	size_t len = strlen(ns);

	return strncmp(id, ns, len) == 0 && id[len] == '/' && strcmp(id + len + 1, member->name) == 0;
}

/* Does a snapshot named name exist in the namespace (in or out of the group)? */
static bool group_snapshot_exists(const struct group_members *m, const char *name)
{
	const json_t *item;
	size_t i;

	json_array_foreach(m->all, i, item)
		if (strcmp(json_string_value(json_object_get(json_object_get(item, "metadata"), "name"))
				   ?: "", name) == 0)
			return true;
	return false;
}

/* The spec's snapshot_ids check ("Snapshot list mismatch": INVALID_ARGUMENT):
 * every member of the group must be named. Each id named must be a member,
 * or (gone_ok, for a Delete retried after part of it was done) no snapshot
 * at all any more; a snapshot of another group, or of none, never. */
static int group_check_ids(struct csi_call *call, const char *ns, const struct group_members *m,
			   char *const *ids, size_t n_ids, bool gone_ok)
{
	char id_ns[NAMES_LABEL_MAX + 1], id_name[NAMES_SUBDOMAIN_MAX + 1];
	bool named;

	for (size_t i = 0; i < m->count; i++) {
		named = false;
		for (size_t j = 0; j < n_ids && !named; j++)
			named = group_is_member(ns, &m->items[i], ids[j]);
		if (!named)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"snapshot_ids does not match the group snapshot: member %s/%s "
					"is not named",
					ns, m->items[i].name);
	}
	for (size_t j = 0; j < n_ids; j++) {
		named = false;
		for (size_t i = 0; i < m->count && !named; i++)
			named = group_is_member(ns, &m->items[i], ids[j]);
		if (named)
			continue;
		if (!gone_ok || mapping_snapshot_id_split(ids[j], id_ns, sizeof(id_ns), id_name,
							  sizeof(id_name)) < 0 ||
		    strcmp(id_ns, ns) != 0 || group_snapshot_exists(m, id_name))
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"snapshot_ids does not match the group snapshot: %s is not one "
					"of its members",
					ids[j]);
	}
	return 0;
}

/* GetVolumeGroupSnapshot. */
int group_snapshot_get(struct csi_call *call, const ProtobufCMessage *request,
		       ProtobufCMessage **ret_response)
{
	const Csi__V1__GetVolumeGroupSnapshotRequest *req =
		(const Csi__V1__GetVolumeGroupSnapshotRequest *)request;
	Csi__V1__GetVolumeGroupSnapshotResponse *res =
		csi_new(call, &csi__v1__get_volume_group_snapshot_response__descriptor);
	char ns[NAMES_LABEL_MAX + 1], group[NAMES_SUBDOMAIN_MAX + 1];
	struct group_members m;
	bool found;

	if (res == NULL)
		return csi_fail_oom(call);
	if (group_by_id(call, req->group_snapshot_id, ns, sizeof(ns), group, sizeof(group), &m,
			&found) < 0)
		return -1;
	if (!found)
		return csi_fail(call, GRPC_STATUS_NOT_FOUND, "group snapshot %s does not exist",
				req->group_snapshot_id);
	/* snapshot_ids is optional here: checked when given. */
	if (req->n_snapshot_ids > 0 &&
	    group_check_ids(call, ns, &m, req->snapshot_ids, req->n_snapshot_ids, false) < 0)
		return -1;
	res->group_snapshot = group_message(call, ns, group, &m);
	if (res->group_snapshot == NULL)
		return csi_fail_oom(call);
	*ret_response = &res->base;
	return 0;
}

/* DeleteVolumeGroupSnapshot: every member, once snapshot_ids names them all
 * (group_check_ids); a group that is gone is OK whatever the ids. */
int group_snapshot_delete(struct csi_call *call, const ProtobufCMessage *request,
			  ProtobufCMessage **ret_response)
{
	const Csi__V1__DeleteVolumeGroupSnapshotRequest *req =
		(const Csi__V1__DeleteVolumeGroupSnapshotRequest *)request;
	Csi__V1__DeleteVolumeGroupSnapshotResponse *res =
		csi_new(call, &csi__v1__delete_volume_group_snapshot_response__descriptor);
	char ns[NAMES_LABEL_MAX + 1], group[NAMES_SUBDOMAIN_MAX + 1];
	struct daemon_client_error err;
	struct group_members m;
	bool found;
	int r;

	if (res == NULL)
		return csi_fail_oom(call);
	if (group_by_id(call, req->group_snapshot_id, ns, sizeof(ns), group, sizeof(group), &m,
			&found) < 0)
		return -1;
	if (found && req->n_snapshot_ids == 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"snapshot_ids missing: name the %zu member(s) of %s", m.count,
				req->group_snapshot_id);
	if (found && group_check_ids(call, ns, &m, req->snapshot_ids, req->n_snapshot_ids, true) < 0)
		return -1;
	for (size_t i = 0; found && i < m.count; i++) {
		r = daemon_client_snapshot_delete(&call->driver->api, ns, m.items[i].name, &err);
		if (r < 0 && r != -ENOENT)
			return csi_fail_api(call, r, &err, "deleting a member of the group snapshot");
	}
	*ret_response = &res->base;
	return 0;
}

/* ---- GroupControllerGetCapabilities ----------------------------------------------------- */

int group_get_capabilities(struct csi_call *call, const ProtobufCMessage *request,
			   ProtobufCMessage **ret_response)
{
	Csi__V1__GroupControllerGetCapabilitiesResponse *res =
		csi_new(call, &csi__v1__group_controller_get_capabilities_response__descriptor);
	Csi__V1__GroupControllerServiceCapability *cap =
		csi_new(call, &csi__v1__group_controller_service_capability__descriptor);
	Csi__V1__GroupControllerServiceCapability__RPC *rpc =
		csi_new(call, &csi__v1__group_controller_service_capability__rpc__descriptor);

	(void)request;
	if (res == NULL || cap == NULL || rpc == NULL ||
	    (res->capabilities = csi_array(call, 1)) == NULL)
		return csi_fail_oom(call);
	rpc->type =
		CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT;
	cap->type_case = CSI__V1__GROUP_CONTROLLER_SERVICE_CAPABILITY__TYPE_RPC;
	cap->rpc = rpc;
	res->capabilities[0] = cap;
	res->n_capabilities = 1;
	*ret_response = &res->base;
	return 0;
}
