/*
 * controller_publish.c — ControllerPublishVolume / ControllerUnpublishVolume
 * (Controller capability PUBLISH_UNPUBLISH_VOLUME): which nodes a volume is
 * published to, recorded in claimfsd (the claim's annotation
 * csi.claimfs.io/attachments, JSON {"<node>": {"accessMode": N,
 * "readonly": b}}) through its HTTP API, so the record lives in the store
 * with the volume and survives restarts of claimfs-csi and of claimfsd.
 *
 * Rules (CSI spec, ControllerPublishVolume errors):
 *   same node, same access mode and read-only flag  -> OK (idempotent)
 *   same node, other access mode or read-only flag  -> ALREADY_EXISTS
 *   another node, unless this and every recorded publication are
 *       MULTI_NODE_* on a ReadWriteMany/ReadOnlyMany volume
 *       (so ReadWriteOnce and ReadWriteOncePod hold across nodes) -> FAILED_PRECONDITION
 *   --max-volumes-per-node reached on that node     -> RESOURCE_EXHAUSTED
 *   unknown volume / node (neither --node-id nor in --peer-nodes) -> NOT_FOUND
 * Unpublish is idempotent: an unknown volume or node, or nothing recorded,
 * is OK (the spec: safely regarded as unpublished); no node id means every node.
 *
 * Concurrency: the record is rewritten with a merge patch conditional on the
 * claim's resourceVersion; a 409 (someone changed the claim since we read
 * it) reads it again and decides again, so two publishers of one volume
 * can never both win.
 */
#include "csi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CPUB_ATTEMPTS 8

/* One change of the record: 0 (with *ret_dirty when rec was changed) or -1. */
typedef int cpub_change(struct csi_call *call, const struct mapping_claim *claim, json_t *rec,
			const void *arg, bool *ret_dirty);

static bool cpub_empty(const char *text)
{
	return text == NULL || text[0] == '\0';
}

/* Is id this node or one of --peer-nodes? */
static bool cpub_node_known(const struct csi_driver *driver, const char *id)
{
	size_t len = strlen(id);
	const char *p = driver->peer_nodes;

	if (strcmp(id, driver->node_id) == 0)
		return true;
	while (p != NULL && *p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (n == len && strncmp(p, id, len) == 0)
			return true;
		p = comma != NULL ? comma + 1 : NULL;
	}
	return false;
}

/* The claim's record (a new reference; {} when there is none), or NULL
 * with FAILED_PRECONDITION when someone wrote garbage into it. */
static json_t *cpub_record(struct csi_call *call, const struct mapping_claim *claim)
{
	json_t *rec;

	if (claim->attachments == NULL)
		rec = json_object();
	else
		rec = json_loads(claim->attachments, 0, NULL);
	if (json_is_object(rec))
		return rec;
	json_decref(rec);
	csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
		 "claim %s/%s: annotation " MAPPING_ANNOTATION_ATTACHMENTS
		 " is not a JSON object; fix or remove it",
		 claim->namespace_name, claim->name);
	return NULL;
}

/* Read the claim, change its record, write it back if changed; again on a conflict. */
static int cpub_update(struct csi_call *call, const char *volume_id, size_t n_context,
		       const void *const *context, bool missing_ok, cpub_change *change,
		       const void *arg)
{
	for (int attempt = 0; attempt < CPUB_ATTEMPTS; attempt++) {
		struct daemon_client_error err;
		struct mapping_claim claim;
		bool found = true, dirty = false;
		char *text = NULL;
		json_t *rec;
		int r;

		r = missing_ok ? csi_lookup_volume_maybe(call, volume_id, n_context, context, &claim,
							 &found) :
				 csi_lookup_volume(call, volume_id, n_context, context, &claim);
		if (r < 0 || !found)
			return r;
		rec = cpub_record(call, &claim);
		if (rec == NULL)
			return -1;
		r = change(call, &claim, rec, arg, &dirty);
		if (r == 0 && dirty && json_object_size(rec) > 0 &&
		    (text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
			r = csi_fail_oom(call);
		json_decref(rec);
		if (r < 0 || !dirty)
			return r;
		r = daemon_client_claim_annotate(&call->driver->api, claim.namespace_name,
						 claim.name, claim.resource_version,
						 MAPPING_ANNOTATION_ATTACHMENTS, text, NULL, &err);
		free(text);
		if (r == -EEXIST)
			continue; /* the claim changed since we read it: decide again */
		if (r < 0)
			return csi_fail_api(call, r, &err, "recording the publication");
		return 0;
	}
	return csi_fail(call, GRPC_STATUS_ABORTED,
			"volume %s changed under every attempt to record it; try again", volume_id);
}

/* ---- ControllerPublishVolume ---------------------------------------------------------- */

struct cpub_publish {
	const char *node;
	int mode;
	bool readonly;
};

/* May this volume be on several nodes in this mode? */
static bool cpub_multi_node(const struct mapping_claim *claim, int mode)
{
	unsigned bit = mapping_k8s_mode(mode);

	return (bit == MAPPING_RWX || bit == MAPPING_ROX) && (claim->modes & bit) != 0;
}

/* Publications recorded for node on every volume (for --max-volumes-per-node). */
static int cpub_count_on_node(struct csi_call *call, const char *node, int64_t *ret_count)
{
	struct mapping_claim *claims;
	size_t count;
	int64_t n = 0;

	if (csi_lookup_all_volumes(call, &claims, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		json_t *rec = claims[i].attachments != NULL ?
				      json_loads(claims[i].attachments, 0, NULL) :
				      NULL;

		if (json_object_get(rec, node) != NULL)
			n++;
		json_decref(rec);
	}
	*ret_count = n;
	return 0;
}

/* Add p's node to the record, or refuse. */
static int cpub_publish_change(struct csi_call *call, const struct mapping_claim *claim,
			       json_t *rec, const void *arg, bool *ret_dirty)
{
	const struct cpub_publish *p = arg;
	const json_t *mine = json_object_get(rec, p->node), *entry;
	int64_t limit = call->driver->max_volumes_per_node, on_node;
	const char *node;

	if (mine != NULL) {
		if (json_integer_value(json_object_get(mine, "accessMode")) == p->mode &&
		    json_is_true(json_object_get(mine, "readonly")) == p->readonly)
			return 0;
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"volume %s is published to node %s with another access mode or "
				"read-only flag",
				claim->volume_id, p->node);
	}
	json_object_foreach((json_t *)rec, node, entry) {
		int mode = (int)json_integer_value(json_object_get(entry, "accessMode"));

		if (!cpub_multi_node(claim, p->mode) || !cpub_multi_node(claim, mode))
			return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
					"volume %s is published to node %s and is not a "
					"MULTI_NODE volume",
					claim->volume_id, node);
	}
	if (limit > 0) {
		if (cpub_count_on_node(call, p->node, &on_node) < 0)
			return -1;
		if (on_node >= limit)
			return csi_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
					"node %s already has %lld volumes (--max-volumes-per-node)",
					p->node, (long long)on_node);
	}
	if (json_object_set_new(rec, p->node,
				json_pack("{s:i, s:b}", "accessMode", p->mode, "readonly",
					  p->readonly)) < 0)
		return csi_fail_oom(call);
	*ret_dirty = true;
	return 0;
}

/* ControllerPublishVolume. */
int controller_publish_volume(struct csi_call *call, const ProtobufCMessage *request,
			      ProtobufCMessage **ret_response)
{
	const Csi__V1__ControllerPublishVolumeRequest *req =
		(const Csi__V1__ControllerPublishVolumeRequest *)request;
	Csi__V1__ControllerPublishVolumeResponse *res =
		csi_new(call, &csi__v1__controller_publish_volume_response__descriptor);
	struct cpub_publish p;

	if (res == NULL)
		return csi_fail_oom(call);
	if (cpub_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (cpub_empty(req->node_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "node id missing");
	if (csi_capability_check(call, req->volume_capability) < 0)
		return -1;
	p.node = req->node_id;
	p.mode = req->volume_capability->access_mode->mode;
	p.readonly = req->readonly;
	if (!cpub_node_known(call->driver, req->node_id)) {
		struct mapping_claim claim;

		/* An unknown volume is NOT_FOUND too, but say which is missing. */
		if (csi_lookup_volume(call, req->volume_id, req->n_volume_context,
				      (const void *const *)req->volume_context, &claim) < 0)
			return -1;
		return csi_fail(call, GRPC_STATUS_NOT_FOUND,
				"node %s does not reach this claimfsd (not --node-id or "
				"--peer-nodes)",
				req->node_id);
	}
	if (cpub_update(call, req->volume_id, req->n_volume_context,
			(const void *const *)req->volume_context, false, cpub_publish_change,
			&p) < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}

/* Did ControllerPublishVolume publish the claim to this node read-only? */
bool controller_published_read_only(const struct csi_driver *driver,
				    const struct mapping_claim *claim)
{
	json_t *rec = claim->attachments != NULL ? json_loads(claim->attachments, 0, NULL) : NULL;
	bool read_only = json_is_true(json_object_get(json_object_get(rec, driver->node_id),
						      "readonly"));

	json_decref(rec);
	return read_only;
}

/* ListVolumes' status of a claim: the nodes of its record (sorted by the
 * record's keys), for LIST_VOLUMES_PUBLISHED_NODES. NULL when out of memory. */
Csi__V1__ListVolumesResponse__VolumeStatus *controller_published_status(
	struct csi_call *call, const struct mapping_claim *claim)
{
	Csi__V1__ListVolumesResponse__VolumeStatus *status =
		csi_new(call, &csi__v1__list_volumes_response__volume_status__descriptor);
	json_t *rec = claim->attachments != NULL ? json_loads(claim->attachments, 0, NULL) : NULL;
	const char *node;
	json_t *entry;
	size_t n = 0;

	if (status == NULL ||
	    (status->published_node_ids = csi_array(call, json_object_size(rec) + 1)) == NULL) {
		json_decref(rec);
		return NULL;
	}
	json_object_foreach(rec, node, entry) {
		(void)entry;
		if ((status->published_node_ids[n++] = arena_strdup(call->arena, node)) == NULL) {
			json_decref(rec);
			return NULL;
		}
	}
	status->n_published_node_ids = n;
	json_decref(rec);
	return status;
}

/* ---- ControllerUnpublishVolume ---------------------------------------------------------- */

/* Drop one node (or all: node "") from the record. */
static int cpub_unpublish_change(struct csi_call *call, const struct mapping_claim *claim,
				 json_t *rec, const void *arg, bool *ret_dirty)
{
	const char *node = arg;

	(void)call;
	(void)claim;
	if (node[0] == '\0') {
		*ret_dirty = json_object_size(rec) > 0;
		json_object_clear(rec);
		return 0;
	}
	*ret_dirty = json_object_del(rec, node) == 0;
	return 0;
}

/* ControllerUnpublishVolume: idempotent, OK for what is already gone. */
int controller_unpublish_volume(struct csi_call *call, const ProtobufCMessage *request,
				ProtobufCMessage **ret_response)
{
	const Csi__V1__ControllerUnpublishVolumeRequest *req =
		(const Csi__V1__ControllerUnpublishVolumeRequest *)request;
	Csi__V1__ControllerUnpublishVolumeResponse *res =
		csi_new(call, &csi__v1__controller_unpublish_volume_response__descriptor);

	if (res == NULL)
		return csi_fail_oom(call);
	if (cpub_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (cpub_update(call, req->volume_id, 0, NULL, true, cpub_unpublish_change,
			req->node_id != NULL ? req->node_id : "") < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}
