/*
 * controller.c — the CSI Controller service for volumes: create, delete,
 * validate, list, capacity, capabilities, expansion. (Snapshots and volume
 * content sources are in snapshot.c.)
 *
 * A CSI volume is a claimfsd claim (mapping.h). CreateVolume names the claim
 * after the Kubernetes PVC when external-provisioner passes its name and
 * namespace (--extra-create-metadata), else "csi/<sanitised CSI name>", and
 * records the CSI name in an annotation: that annotation, not the claim
 * name, is what makes a repeated CreateVolume "the same volume".
 *
 * Idempotency rules (CSI spec, CreateVolume/DeleteVolume):
 *   - same name, capacity within the range, access modes and content source
 *     covered -> OK with the existing volume; otherwise ALREADY_EXISTS;
 *   - two racing creates: claimfsd answers the loser 409 and it re-reads;
 *   - deleting a volume that is gone -> OK.
 */
#include "csi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "names.h"
#include "node_mount.h"
#include "node_state.h"

/* NULL and "" are both "unset" in proto3. */
static bool controller_empty(const char *text)
{
	return text == NULL || text[0] == '\0';
}

/* Only the keys the sidecars add are accepted: claimfs has no parameters. */
static int controller_check_parameters(struct csi_call *call, size_t count,
				       const void *const *entries)
{
	for (size_t i = 0; i < count; i++) {
		const Csi__V1__CreateVolumeRequest__ParametersEntry *e = entries[i];

		if (strncmp(e->key, MAPPING_PARAM_PREFIX, strlen(MAPPING_PARAM_PREFIX)) != 0)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"unknown parameter \"%s\": the claimfs StorageClass takes "
					"no parameters",
					e->key);
	}
	return 0;
}

/* ---- CreateVolume ------------------------------------------------------------- */

/* What CreateVolume asks for, validated. */
struct controller_create {
	const Csi__V1__CreateVolumeRequest *req;
	int64_t required, limit;
	unsigned modes;
	char ns[NAMES_LABEL_MAX + 1];
	char name[NAMES_SUBDOMAIN_MAX + 1];
	uint64_t bytes;
	uint64_t source_bytes;
	json_t *data_source;        /* spec.dataSource to post, or NULL (arena-owned) */
	const char *source_tag;     /* content-source annotation, or NULL */
	const char *source_ns;      /* namespace of the source, or NULL */
	json_t *mutable;            /* annotations of mutable_parameters (arena-owned) */
};

/* Name, capabilities, parameters, topology. */
static int controller_create_validate(struct csi_call *call, struct controller_create *c)
{
	const Csi__V1__CreateVolumeRequest *req = c->req;
	const Csi__V1__TopologyRequirement *topo = req->accessibility_requirements;

	if (controller_empty(req->name))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume name missing");
	if (req->n_volume_capabilities == 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume capabilities missing");
	for (size_t i = 0; i < req->n_volume_capabilities; i++) {
		if (csi_capability_check(call, req->volume_capabilities[i]) < 0)
			return -1;
		c->modes |= mapping_k8s_mode(req->volume_capabilities[i]->access_mode->mode);
	}
	if (controller_check_parameters(call, req->n_parameters,
					(const void *const *)req->parameters) < 0)
		return -1;
	/* MODIFY_VOLUME: the class's attributes from the start. */
	c->mutable = json_object();
	if (c->mutable == NULL || csi_keep_json(call, c->mutable) < 0)
		return c->mutable == NULL ? csi_fail_oom(call) : -1;
	if (controller_modify_annotations(call, req->n_mutable_parameters,
					  (const void *const *)req->mutable_parameters,
					  c->mutable) < 0)
		return -1;
	if (req->capacity_range != NULL) {
		c->required = req->capacity_range->required_bytes;
		c->limit = req->capacity_range->limit_bytes;
	}
	if (topo != NULL && topo->n_requisite > 0) {
		bool ours = false;

		for (size_t i = 0; i < topo->n_requisite && !ours; i++)
			ours = csi_topology_is_this_node(call->driver, topo->requisite[i]);
		if (!ours)
			return csi_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
					"claimfs volumes live on the node that provisions them (%s "
					"\"%s\"); no requisite topology names it",
					CSI_TOPOLOGY_KEY, call->driver->node_id);
	}
	return 0;
}

/* Pick namespace and claim name. */
static int controller_create_name(struct csi_call *call, struct controller_create *c)
{
	const Csi__V1__CreateVolumeRequest *req = c->req;
	const char *pvc_ns = CSI_MAP_GET(req->n_parameters, req->parameters,
					 MAPPING_PARAM_PVC_NAMESPACE);
	const char *pvc_name = CSI_MAP_GET(req->n_parameters, req->parameters,
					   MAPPING_PARAM_PVC_NAME);
	char msg[256];

	if ((pvc_ns == NULL) != (pvc_name == NULL))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"parameters %s and %s come together", MAPPING_PARAM_PVC_NAME,
				MAPPING_PARAM_PVC_NAMESPACE);
	if (pvc_ns != NULL) {
		if (names_check_label(pvc_ns, msg, sizeof(msg)) < 0 ||
		    names_check_subdomain(pvc_name, msg, sizeof(msg)) < 0)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"invalid claim name %s/%s: %s", pvc_ns, pvc_name, msg);
		snprintf(c->ns, sizeof(c->ns), "%s", pvc_ns);
		snprintf(c->name, sizeof(c->name), "%s", pvc_name);
		if (c->source_ns != NULL && strcmp(c->source_ns, c->ns) != 0)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"claimfs copies data only within a namespace: the source "
					"is in \"%s\", the claim in \"%s\"",
					c->source_ns, c->ns);
		return 0;
	}
	/* No PVC metadata: a CO other than Kubernetes (or no --extra-create-metadata). */
	snprintf(c->ns, sizeof(c->ns), "%s",
		 c->source_ns != NULL ? c->source_ns : MAPPING_DEFAULT_NAMESPACE);
	if (mapping_object_name(req->name, c->name, sizeof(c->name)) < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"volume name \"%s\" cannot be turned into a claim name", req->name);
	return 0;
}

/* Does an existing claim satisfy this request? OK or ALREADY_EXISTS. */
static int controller_create_compare(struct csi_call *call, const struct controller_create *c,
				     const struct mapping_claim *claim)
{
	const char *want_source = c->source_tag != NULL ? c->source_tag : "";
	const char *have_source = claim->content_source != NULL ? claim->content_source : "";

	if (claim->csi_name == NULL || strcmp(claim->csi_name, c->req->name) != 0)
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"claim %s/%s already exists and belongs to %s%s%s", claim->namespace_name,
				claim->name, claim->csi_name ? "CSI volume \"" : "no CSI volume",
				claim->csi_name ? claim->csi_name : "", claim->csi_name ? "\"" : "");
	if (!mapping_capacity_fits(claim->capacity, c->required, c->limit))
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"volume \"%s\" exists with %llu bytes, outside the requested range "
				"[%lld, %lld]",
				c->req->name, (unsigned long long)claim->capacity,
				(long long)c->required, (long long)c->limit);
	if ((c->modes & ~claim->modes) != 0)
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"volume \"%s\" exists with other access modes", c->req->name);
	if (strcmp(want_source, have_source) != 0)
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"volume \"%s\" exists with another content source", c->req->name);
	return 0;
}

/* The claim we post. */
static json_t *controller_claim_body(const struct controller_create *c)
{
	json_t *modes = json_array(), *annotations, *spec, *body;
	char storage[32];

	for (unsigned bit = 1; modes != NULL && bit <= MAPPING_RWOP; bit <<= 1)
		if ((c->modes & bit) != 0 &&
		    json_array_append_new(modes, json_string(mapping_k8s_mode_name(bit))) < 0) {
			json_decref(modes);
			modes = NULL;
		}
	snprintf(storage, sizeof(storage), "%llu", (unsigned long long)c->bytes);
	annotations = json_pack("{s:s}", MAPPING_ANNOTATION_VOLUME_NAME, c->req->name);
	if (annotations != NULL && c->source_tag != NULL &&
	    json_object_set_new(annotations, MAPPING_ANNOTATION_CONTENT_SOURCE,
				json_string(c->source_tag)) < 0) {
		json_decref(annotations);
		annotations = NULL;
	}
	if (annotations != NULL && c->mutable != NULL && json_object_update(annotations, c->mutable) < 0) {
		json_decref(annotations);
		annotations = NULL;
	}
	spec = json_pack("{s:o, s:{s:{s:s}}}", "accessModes", modes, "resources", "requests",
			 "storage", storage);
	if (spec != NULL && c->data_source != NULL &&
	    json_object_set(spec, "dataSource", c->data_source) < 0) {
		json_decref(spec);
		spec = NULL;
	}
	body = json_pack("{s:s, s:s, s:{s:s, s:o, s:{s:s}}, s:o}", "apiVersion", "v1", "kind",
			 "PersistentVolumeClaim", "metadata", "name", c->name, "annotations",
			 annotations, "labels", "app.kubernetes.io/managed-by", "claimfs-csi",
			 "spec", spec);
	return body;
}

/* Answer with a claim that satisfies the request. */
static int controller_create_answer(struct csi_call *call, const struct controller_create *c,
				    const struct mapping_claim *claim,
				    ProtobufCMessage **ret_response)
{
	Csi__V1__CreateVolumeResponse *res =
		csi_new(call, &csi__v1__create_volume_response__descriptor);

	if (res == NULL)
		return csi_fail_oom(call);
	res->volume = csi_volume_new(call, claim, c->req->volume_content_source);
	if (res->volume == NULL)
		return csi_fail_oom(call);
	*ret_response = &res->base;
	return 0;
}

/* GET the claim; 1 found (compared), 0 absent, -1 failed. */
static int controller_create_existing(struct csi_call *call, const struct controller_create *c,
				      struct mapping_claim *ret_claim)
{
	struct daemon_client_error err;
	json_t *json = NULL;
	char msg[256];
	int r;

	r = daemon_client_claim_get(&call->driver->api, c->ns, c->name, &json, &err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return csi_fail_api(call, r, &err, "looking up the claim");
	if (csi_keep_json(call, json) < 0)
		return -1;
	if (mapping_claim_parse(json, ret_claim, msg, sizeof(msg)) < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "%s", msg);
	return controller_create_compare(call, c, ret_claim) < 0 ? -1 : 1;
}

/* CreateVolume. */
int controller_create_volume(struct csi_call *call, const ProtobufCMessage *request,
			     ProtobufCMessage **ret_response)
{
	struct controller_create c = { .req = (const Csi__V1__CreateVolumeRequest *)request };
	struct mapping_claim claim;
	struct daemon_client_error err;
	json_t *body, *json = NULL;
	char msg[256];
	int r;

	if (controller_create_validate(call, &c) < 0)
		return -1;
	if (c.req->volume_content_source != NULL &&
	    snapshot_content_source(call, c.req->volume_content_source, &c.source_ns,
				    &c.source_bytes, &c.data_source, &c.source_tag) < 0)
		return -1;
	if (controller_create_name(call, &c) < 0)
		return -1;
	r = mapping_capacity(c.required, c.limit, call->driver->default_capacity, c.source_bytes,
			     &c.bytes);
	if (r == -EINVAL)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"invalid capacity range [%lld, %lld]", (long long)c.required,
				(long long)c.limit);
	if (r < 0)
		return csi_fail(call, GRPC_STATUS_OUT_OF_RANGE,
				"capacity range [%lld, %lld] cannot hold the %llu bytes of the source",
				(long long)c.required, (long long)c.limit,
				(unsigned long long)c.source_bytes);

	r = controller_create_existing(call, &c, &claim);
	if (r != 0)
		return r < 0 ? -1 : controller_create_answer(call, &c, &claim, ret_response);

	body = controller_claim_body(&c);
	if (body == NULL)
		return csi_fail_oom(call);
	r = daemon_client_claim_create(&call->driver->api, c.ns, body, &json, &err);
	json_decref(body);
	if (r == -EEXIST) {
		/* Lost a race with a retry of the same CreateVolume: compare. */
		r = controller_create_existing(call, &c, &claim);
		if (r == 0)
			return csi_fail(call, GRPC_STATUS_ABORTED,
					"claim %s/%s appeared and vanished during creation", c.ns,
					c.name);
		return r < 0 ? -1 : controller_create_answer(call, &c, &claim, ret_response);
	}
	if (r < 0)
		return csi_fail_api(call, r, &err, "creating the claim");
	if (csi_keep_json(call, json) < 0)
		return -1;
	if (mapping_claim_parse(json, &claim, msg, sizeof(msg)) < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "%s", msg);
	return controller_create_answer(call, &c, &claim, ret_response);
}

/* ---- DeleteVolume -------------------------------------------------------------- */

/* DeleteVolume: idempotent; FAILED_PRECONDITION while published here. */
int controller_delete_volume(struct csi_call *call, const ProtobufCMessage *request,
			     ProtobufCMessage **ret_response)
{
	const Csi__V1__DeleteVolumeRequest *req = (const Csi__V1__DeleteVolumeRequest *)request;
	Csi__V1__DeleteVolumeResponse *res =
		csi_new(call, &csi__v1__delete_volume_response__descriptor);
	struct daemon_client_error err;
	struct mapping_claim claim;
	char target[NODE_TARGET_MAX];
	bool found;
	int r;

	if (res == NULL)
		return csi_fail_oom(call);
	if (controller_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (csi_lookup_volume_maybe(call, req->volume_id, 0, NULL, &claim, &found) < 0)
		return -1;
	if (found) {
		if (node_state_volume_target(call->driver->node, req->volume_id, target,
					     sizeof(target)))
			return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
					"volume %s is still published at %s", req->volume_id,
					target);
		r = daemon_client_claim_delete(&call->driver->api, claim.namespace_name, claim.name,
					       &err);
		if (r < 0 && r != -ENOENT)
			return csi_fail_api(call, r, &err, "deleting the claim");
	}
	/* A Retain class leaves the volume behind its deleted claim: remove it too.
	 * "No such volume" and "no volume API" both mean nothing is left. */
	r = mapping_volume_id_valid(req->volume_id) ?
		    daemon_client_volume_delete(&call->driver->api, req->volume_id, &err) :
		    -ENOENT;
	if (r < 0 && r != -ENOENT && r != -EOPNOTSUPP)
		return csi_fail_api(call, r, &err, "deleting the volume");
	*ret_response = &res->base;
	return 0;
}

/* ---- ValidateVolumeCapabilities ---------------------------------------------------- */

/* Why the volume cannot be used with one capability, or NULL if it can. */
static const char *controller_unsupported(const struct mapping_claim *claim,
					  const Csi__V1__VolumeCapability *cap)
{
	unsigned long flags;
	char bad[128];

	if (cap->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK)
		return "block access is not supported";
	if (cap->mount != NULL && node_mount_flags_parse(cap->mount->n_mount_flags,
							 cap->mount->mount_flags, &flags, bad,
							 sizeof(bad)) < 0)
		return "a mount flag is not supported for a claimfs bind mount";
	if ((mapping_k8s_mode(cap->access_mode->mode) & claim->modes) == 0)
		return "the volume was not provisioned for this access mode";
	return NULL;
}

/* Rebuild a map field of the answer from the request's entries. */
static int controller_copy_map(struct csi_call *call, const ProtobufCMessageDescriptor *desc,
			       size_t *count, void *entries, size_t n, const void *const *from)
{
	for (size_t i = 0; i < n; i++) {
		const Csi__V1__ValidateVolumeCapabilitiesRequest__ParametersEntry *e = from[i];

		if (csi_map_add(call, desc, count, entries, e->key, e->value) < 0)
			return -1;
	}
	return 0;
}

/* ValidateVolumeCapabilities: confirmed only when every capability fits. */
int controller_validate_volume_capabilities(struct csi_call *call, const ProtobufCMessage *request,
					    ProtobufCMessage **ret_response)
{
	const Csi__V1__ValidateVolumeCapabilitiesRequest *req =
		(const Csi__V1__ValidateVolumeCapabilitiesRequest *)request;
	Csi__V1__ValidateVolumeCapabilitiesResponse *res =
		csi_new(call, &csi__v1__validate_volume_capabilities_response__descriptor);
	Csi__V1__ValidateVolumeCapabilitiesResponse__Confirmed *ok =
		csi_new(call, &csi__v1__validate_volume_capabilities_response__confirmed__descriptor);
	const char *ctx_ns, *ctx_claim, *why = NULL;
	struct mapping_claim claim;

	if (res == NULL || ok == NULL)
		return csi_fail_oom(call);
	if (controller_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (req->n_volume_capabilities == 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume capabilities missing");
	for (size_t i = 0; i < req->n_volume_capabilities; i++) {
		const Csi__V1__VolumeCapability *cap = req->volume_capabilities[i];

		if (cap == NULL || cap->access_mode == NULL ||
		    cap->access_type_case == CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE__NOT_SET)
			return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
					"volume capability %zu lacks access type or mode", i);
	}
	if (csi_lookup_volume(call, req->volume_id, req->n_volume_context,
			      (const void *const *)req->volume_context, &claim) < 0)
		return -1;
	ctx_ns = CSI_MAP_GET(req->n_volume_context, req->volume_context, CSI_CONTEXT_NAMESPACE);
	ctx_claim = CSI_MAP_GET(req->n_volume_context, req->volume_context, CSI_CONTEXT_CLAIM);
	if ((ctx_ns != NULL && strcmp(ctx_ns, claim.namespace_name) != 0) ||
	    (ctx_claim != NULL && strcmp(ctx_claim, claim.name) != 0))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"volume_context names claim %s/%s, volume %s is %s/%s",
				ctx_ns ? ctx_ns : "?", ctx_claim ? ctx_claim : "?", req->volume_id,
				claim.namespace_name, claim.name);
	for (size_t i = 0; i < req->n_volume_capabilities && why == NULL; i++)
		why = controller_unsupported(&claim, req->volume_capabilities[i]);
	for (size_t i = 0; i < req->n_parameters && why == NULL; i++)
		if (strncmp(req->parameters[i]->key, MAPPING_PARAM_PREFIX,
			    strlen(MAPPING_PARAM_PREFIX)) != 0)
			why = "claimfs takes no StorageClass parameters";
	if (why != NULL) {
		res->message = arena_strdup(call->arena, why);
		if (res->message == NULL)
			return csi_fail_oom(call);
		*ret_response = &res->base;
		return 0;
	}
	ok->n_volume_capabilities = req->n_volume_capabilities;
	ok->volume_capabilities = req->volume_capabilities;
	if (controller_copy_map(
		    call,
		    &csi__v1__validate_volume_capabilities_response__confirmed__volume_context_entry__descriptor,
		    &ok->n_volume_context, &ok->volume_context, req->n_volume_context,
		    (const void *const *)req->volume_context) < 0 ||
	    controller_copy_map(
		    call,
		    &csi__v1__validate_volume_capabilities_response__confirmed__parameters_entry__descriptor,
		    &ok->n_parameters, &ok->parameters, req->n_parameters,
		    (const void *const *)req->parameters) < 0)
		return csi_fail_oom(call);
	res->confirmed = ok;
	*ret_response = &res->base;
	return 0;
}

/* ---- ListVolumes ------------------------------------------------------------------- */

/* ListVolumes: sorted by volume id, pages of max_entries. */
int controller_list_volumes(struct csi_call *call, const ProtobufCMessage *request,
			    ProtobufCMessage **ret_response)
{
	const Csi__V1__ListVolumesRequest *req = (const Csi__V1__ListVolumesRequest *)request;
	Csi__V1__ListVolumesResponse *res =
		csi_new(call, &csi__v1__list_volumes_response__descriptor);
	struct mapping_claim *claims;
	const char *after;
	size_t count, first = 0, n;

	if (res == NULL)
		return csi_fail_oom(call);
	if (req->max_entries < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "max_entries is negative");
	if (mapping_token_parse(req->starting_token, mapping_volume_id_valid, &after) < 0)
		return csi_fail(call, GRPC_STATUS_ABORTED,
				"starting_token \"%s\" was not issued by this plugin; list again "
				"without one",
				req->starting_token);
	if (csi_lookup_all_volumes(call, &claims, &count) < 0)
		return -1;
	while (after != NULL && first < count && strcmp(claims[first].volume_id, after) <= 0)
		first++;
	n = count - first;
	if (req->max_entries > 0 && n > (size_t)req->max_entries)
		n = (size_t)req->max_entries;
	res->entries = csi_array(call, n);
	if (res->entries == NULL)
		return csi_fail_oom(call);
	for (size_t i = 0; i < n; i++) {
		Csi__V1__ListVolumesResponse__Entry *e =
			csi_new(call, &csi__v1__list_volumes_response__entry__descriptor);

		if (e == NULL)
			return csi_fail_oom(call);
		e->volume = csi_volume_new(call, &claims[first + i], NULL);
		e->status = controller_published_status(call, &claims[first + i]);
		if (e->volume == NULL || e->status == NULL)
			return csi_fail_oom(call);
		res->entries[i] = e;
	}
	res->n_entries = n;
	if (first + n < count) {
		res->next_token = arena_printf(call->arena, "%s%s", MAPPING_TOKEN_PREFIX,
					       claims[first + n - 1].volume_id);
		if (res->next_token == NULL)
			return csi_fail_oom(call);
	}
	*ret_response = &res->base;
	return 0;
}

/* ---- GetCapacity ---------------------------------------------------------------------- */

/* GetCapacity: free space of the store, 0 for other nodes or block volumes. */
int controller_get_capacity(struct csi_call *call, const ProtobufCMessage *request,
			    ProtobufCMessage **ret_response)
{
	const Csi__V1__GetCapacityRequest *req = (const Csi__V1__GetCapacityRequest *)request;
	Csi__V1__GetCapacityResponse *res =
		csi_new(call, &csi__v1__get_capacity_response__descriptor);
	Google__Protobuf__Int64Value *max = csi_new(call, &google__protobuf__int64_value__descriptor);
	bool usable = true;
	struct statvfs st;

	if (res == NULL || max == NULL)
		return csi_fail_oom(call);
	if (controller_check_parameters(call, req->n_parameters,
					(const void *const *)req->parameters) < 0)
		return -1;
	for (size_t i = 0; i < req->n_volume_capabilities; i++)
		if (req->volume_capabilities[i]->access_type_case ==
		    CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK)
			usable = false;
	if (req->accessible_topology != NULL &&
	    !csi_topology_is_this_node(call->driver, req->accessible_topology))
		usable = false;
	if (usable) {
		/* statfs of the mount root reports the store's free space. */
		if (statvfs(call->driver->mount_dir, &st) < 0)
			return csi_fail(call, GRPC_STATUS_UNAVAILABLE,
					"claimfs mount %s unavailable: %s", call->driver->mount_dir,
					strerror(errno));
		res->available_capacity = (int64_t)((uint64_t)st.f_bavail * st.f_frsize);
		max->value = res->available_capacity;
		res->maximum_volume_size = max;
	}
	*ret_response = &res->base;
	return 0;
}

/* ---- ControllerGetCapabilities ---------------------------------------------------------- */

static const Csi__V1__ControllerServiceCapability__RPC__Type controller_capabilities[] = {
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_VOLUME,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__LIST_VOLUMES,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__GET_CAPACITY,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CREATE_DELETE_SNAPSHOT,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__LIST_SNAPSHOTS,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__CLONE_VOLUME,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__EXPAND_VOLUME,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__MODIFY_VOLUME,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__SINGLE_NODE_MULTI_WRITER,
	/* controller_publish.c; PUBLISH_READONLY too: the flag is recorded and
	 * a publication with the other value is ALREADY_EXISTS. */
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__PUBLISH_UNPUBLISH_VOLUME,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__PUBLISH_READONLY,
	CSI__V1__CONTROLLER_SERVICE_CAPABILITY__RPC__TYPE__LIST_VOLUMES_PUBLISHED_NODES,
};

/* ControllerGetCapabilities: the table above. */
int controller_get_capabilities(struct csi_call *call, const ProtobufCMessage *request,
				ProtobufCMessage **ret_response)
{
	const size_t n = sizeof(controller_capabilities) / sizeof(controller_capabilities[0]);
	Csi__V1__ControllerGetCapabilitiesResponse *res =
		csi_new(call, &csi__v1__controller_get_capabilities_response__descriptor);

	(void)request;
	if (res == NULL || (res->capabilities = csi_array(call, n)) == NULL)
		return csi_fail_oom(call);
	for (size_t i = 0; i < n; i++) {
		Csi__V1__ControllerServiceCapability *cap =
			csi_new(call, &csi__v1__controller_service_capability__descriptor);
		Csi__V1__ControllerServiceCapability__RPC *rpc =
			csi_new(call, &csi__v1__controller_service_capability__rpc__descriptor);

		if (cap == NULL || rpc == NULL)
			return csi_fail_oom(call);
		rpc->type = controller_capabilities[i];
		cap->type_case = CSI__V1__CONTROLLER_SERVICE_CAPABILITY__TYPE_RPC;
		cap->rpc = rpc;
		res->capabilities[i] = cap;
	}
	res->n_capabilities = n;
	*ret_response = &res->base;
	return 0;
}

/* ---- ControllerExpandVolume ------------------------------------------------------------- */

/* ControllerExpandVolume: raise the claim's request; online, no node step. */
int controller_expand_volume(struct csi_call *call, const ProtobufCMessage *request,
			     ProtobufCMessage **ret_response)
{
	const Csi__V1__ControllerExpandVolumeRequest *req =
		(const Csi__V1__ControllerExpandVolumeRequest *)request;
	Csi__V1__ControllerExpandVolumeResponse *res =
		csi_new(call, &csi__v1__controller_expand_volume_response__descriptor);
	struct mapping_claim claim, grown;
	struct daemon_client_error err;
	int64_t required, limit;
	json_t *json = NULL;
	uint64_t target;
	char msg[256];
	int r;

	if (res == NULL)
		return csi_fail_oom(call);
	if (controller_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (req->capacity_range == NULL)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "capacity range missing");
	required = req->capacity_range->required_bytes;
	limit = req->capacity_range->limit_bytes;
	if (required < 0 || limit < 0 || (limit > 0 && required > limit) ||
	    (required == 0 && limit == 0))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"invalid capacity range [%lld, %lld]", (long long)required,
				(long long)limit);
	if (req->volume_capability != NULL && csi_capability_check(call, req->volume_capability) < 0)
		return -1;
	if (csi_lookup_volume(call, req->volume_id, 0, NULL, &claim) < 0)
		return -1;
	target = (uint64_t)(required > 0 ? required : limit);
	if (claim.capacity >= target) {
		/* Already that big (a retry, or a smaller ask): nothing to do. */
		res->capacity_bytes = (int64_t)claim.capacity;
		*ret_response = &res->base;
		return 0;
	}
	r = daemon_client_claim_expand(&call->driver->api, claim.namespace_name, claim.name, target,
				       &json, &err);
	if (r == -EINVAL)
		return csi_fail(call, GRPC_STATUS_OUT_OF_RANGE, "claimfsd refused %llu bytes: %s",
				(unsigned long long)target, err.message);
	if (r == -EOPNOTSUPP)
		return csi_fail(call, GRPC_STATUS_UNIMPLEMENTED,
				"this claimfsd cannot expand claims: %s", err.message);
	if (r < 0)
		return csi_fail_api(call, r, &err, "expanding the claim");
	if (csi_keep_json(call, json) < 0)
		return -1;
	if (mapping_claim_parse(json, &grown, msg, sizeof(msg)) < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "%s", msg);
	res->capacity_bytes = (int64_t)grown.capacity;
	/* A directory quota needs no file system resize on the node. */
	res->node_expansion_required = false;
	*ret_response = &res->base;
	return 0;
}
