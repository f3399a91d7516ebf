/*
 * node.c — the CSI Node service: publish a claim's directory at the
 * kubelet's target path (a bind mount of <mount>/<ns>/<claim>), unpublish,
 * statistics, expansion, capabilities and node info.
 *
 * Staging (node_stage.c): a publication with a staging_target_path binds
 * the volume's staging mount instead of the claim's directory; without one
 * (a CO that does not stage) it binds the directory itself.
 *
 * Publication rules (CSI NodePublishVolume tables, with the
 * SINGLE_NODE_MULTI_WRITER capability):
 *   same target, same arguments            -> OK (idempotent)
 *   same target, other arguments or volume -> ALREADY_EXISTS
 *   second target, both modes multi-target -> OK (another bind mount)
 *   second target otherwise                -> FAILED_PRECONDITION
 * A publication whose mount died with claimfsd (ENOTCONN) is mounted again
 * by a repeated NodePublishVolume; a NodeUnpublishVolume removes it.
 *
 * Lock order: node_state lock only; HTTP lookups happen before taking it
 * except in NodeUnpublishVolume's rare "nothing was there" path.
 */
#include "csi.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "node.h"

/* Is volume_path where this volume is available (a publication of it, or
 * the claim directory itself)? NOT_FOUND otherwise. The caller checked it is
 * not empty (INVALID_ARGUMENT); a relative or over-long path cannot be where
 * a volume is published, so it is NOT_FOUND as the spec wants, and it is
 * never resolved against our working directory. */
static int node_check_volume_path(struct csi_call *call, const struct mapping_claim *claim,
				  const char *volume_path)
{
	char dir[PATH_MAX], real_dir[PATH_MAX], real_path[PATH_MAX];
	struct node_mount mount;

	if (volume_path[0] != '/' || strlen(volume_path) >= NODE_TARGET_MAX)
		return csi_fail(call, GRPC_STATUS_NOT_FOUND,
				"volume %s is not available at %s (not an absolute path)",
				claim->volume_id, volume_path);
	if (node_mount_find(volume_path, &mount) == 1 && node_mount_is_claim(&mount, claim))
		return 0;
	if (node_claim_dir(call, claim, dir, sizeof(dir)) < 0)
		return -1;
	if (realpath(dir, real_dir) != NULL && realpath(volume_path, real_path) != NULL &&
	    strcmp(real_dir, real_path) == 0)
		return 0;
	return csi_fail(call, GRPC_STATUS_NOT_FOUND, "volume %s is not available at %s",
			claim->volume_id, volume_path);
}

/* ---- NodePublishVolume ------------------------------------------------------------ */

/* Other live targets of the same volume: allowed only for multi-target modes. */
static int node_publish_others(struct csi_call *call, const struct node_publication *pub)
{
	struct node_state *state = call->driver->node;
	struct node_mount mount;

	for (size_t i = 0; i < node_state_count(state); i++) {
		const struct node_publication *other = node_state_at(state, i);

		if (other->staged || strcmp(other->volume_id, pub->volume_id) != 0 ||
		    strcmp(other->target, pub->target) == 0 ||
		    node_mount_find(other->target, &mount) != 1)
			continue;
		if (!mapping_mode_multi_target(other->mode) || !mapping_mode_multi_target(pub->mode))
			return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
					"volume %s is already published at %s and its access mode "
					"allows a single target",
					pub->volume_id, other->target);
	}
	return 0;
}

/* The locked part of NodePublishVolume. */
static int node_publish_locked(struct csi_call *call, const struct node_publication *pub,
			       const struct mapping_claim *claim, const char *claim_dir)
{
	char staged[NODE_TARGET_MAX];
	const char *source = claim_dir;
	bool created;
	int r;

	r = node_target_check(call, pub, claim);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (pub->staging[0] != '\0') {
		if (node_stage_source(call, pub->staging, claim, staged, sizeof(staged)) < 0)
			return -1;
		source = staged;
	}
	if (node_publish_others(call, pub) < 0 || node_make_target(call, pub->target, &created) < 0)
		return -1;
	r = node_mount_bind(source, pub->target, pub->readonly, pub->mount_flags);
	if (r < 0) {
		if (created)
			rmdir(pub->target);
		return csi_fail(call, GRPC_STATUS_INTERNAL, "bind mount of %s on %s: %s", source,
				pub->target, strerror(-r));
	}
	r = node_state_add(call->driver->node, pub);
	if (r < 0) {
		node_mount_unbind(pub->target);
		if (created)
			rmdir(pub->target);
		return csi_fail(call, GRPC_STATUS_INTERNAL, "recording the publication: %s",
				strerror(-r));
	}
	log_info("published %s (%s/%s) at %s%s", pub->volume_id, pub->namespace_name,
		     pub->claim, pub->target, pub->readonly ? " read-only" : "");
	return 0;
}

/* NodePublishVolume. */
int node_publish_volume(struct csi_call *call, const ProtobufCMessage *request,
			ProtobufCMessage **ret_response)
{
	const Csi__V1__NodePublishVolumeRequest *req =
		(const Csi__V1__NodePublishVolumeRequest *)request;
	Csi__V1__NodePublishVolumeResponse *res =
		csi_new(call, &csi__v1__node_publish_volume_response__descriptor);
	const Csi__V1__VolumeCapability *cap = req->volume_capability;
	struct node_publication *pub = arena_alloc(call->arena, sizeof(*pub));
	char source[PATH_MAX];
	struct mapping_claim claim;
	int r;

	if (res == NULL || pub == NULL)
		return csi_fail_oom(call);
	if (node_request_fill(call, req->volume_id, req->target_path, "target_path", cap,
			      req->n_volume_context, (const void *const *)req->volume_context, pub,
			      &claim, source, sizeof(source)) < 0)
		return -1;
	/* Without staging_target_path (a CO that does not stage) the target
	 * binds the claim's directory itself. */
	if (!node_empty(req->staging_target_path) &&
	    node_check_path(call, req->staging_target_path, "staging_target_path") < 0)
		return -1;
	snprintf(pub->staging, sizeof(pub->staging), "%s",
		 req->staging_target_path != NULL ? req->staging_target_path : "");
	pub->readonly = req->readonly || mapping_mode_read_only(pub->mode) ||
			(pub->mount_flags & MS_RDONLY) != 0 ||
			controller_published_read_only(call->driver, &claim);
	pub->mount_flags &= ~(unsigned long)MS_RDONLY; /* carried by readonly */

	node_state_lock(call->driver->node);
	r = node_publish_locked(call, pub, &claim, source);
	node_state_unlock(call->driver->node);
	if (r < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}

/* ---- NodeUnpublishVolume ------------------------------------------------------------- */

/* After the unmount: the spec wants the target gone; kubelet may have made
 * it, we may have. */
static int node_unpublish_rmdir(struct csi_call *call, const char *target)
{
	if (rmdir(target) < 0 && errno != ENOENT)
		return csi_fail(call, errno == ENOTDIR ? GRPC_STATUS_INVALID_ARGUMENT :
							 GRPC_STATUS_INTERNAL,
				"removing %s: %s", target, strerror(errno));
	return 0;
}

/* NodeUnpublishVolume: idempotent; NOT_FOUND for an unknown volume with
 * nothing to undo. */
int node_unpublish_volume(struct csi_call *call, const ProtobufCMessage *request,
			  ProtobufCMessage **ret_response)
{
	const Csi__V1__NodeUnpublishVolumeRequest *req =
		(const Csi__V1__NodeUnpublishVolumeRequest *)request;
	Csi__V1__NodeUnpublishVolumeResponse *res =
		csi_new(call, &csi__v1__node_unpublish_volume_response__descriptor);

	if (res == NULL)
		return csi_fail_oom(call);
	if (node_target_undo(call, req->volume_id, req->target_path, "target_path", false, NULL,
			     node_unpublish_rmdir) < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}

/* ---- NodeGetVolumeStats ---------------------------------------------------------------- */

/* One VolumeUsage entry. */
static Csi__V1__VolumeUsage *node_usage(struct csi_call *call, Csi__V1__VolumeUsage__Unit unit,
					uint64_t total, uint64_t available, uint64_t used)
{
	Csi__V1__VolumeUsage *usage = csi_new(call, &csi__v1__volume_usage__descriptor);

	if (usage != NULL) {
		usage->unit = unit;
		usage->total = (int64_t)total;
		usage->available = (int64_t)available;
		usage->used = (int64_t)used;
	}
	return usage;
}

/* NodeGetVolumeStats: statfs of the claim, which claimfsd answers per claim. */
int node_get_volume_stats(struct csi_call *call, const ProtobufCMessage *request,
			  ProtobufCMessage **ret_response)
{
	const Csi__V1__NodeGetVolumeStatsRequest *req =
		(const Csi__V1__NodeGetVolumeStatsRequest *)request;
	Csi__V1__NodeGetVolumeStatsResponse *res =
		csi_new(call, &csi__v1__node_get_volume_stats_response__descriptor);
	struct mapping_claim claim;
	struct statvfs st;
	uint64_t frsize;

	if (res == NULL || (res->usage = csi_array(call, 2)) == NULL)
		return csi_fail_oom(call);
	if (node_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (node_empty(req->volume_path))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume_path missing");
	if (csi_lookup_volume(call, req->volume_id, 0, NULL, &claim) < 0 ||
	    node_check_volume_path(call, &claim, req->volume_path) < 0)
		return -1;
	if (statvfs(req->volume_path, &st) < 0)
		return csi_fail(call, GRPC_STATUS_UNAVAILABLE, "statfs %s: %s", req->volume_path,
				strerror(errno));
	frsize = st.f_frsize;
	res->usage[0] = node_usage(call, CSI__V1__VOLUME_USAGE__UNIT__BYTES, st.f_blocks * frsize,
				   st.f_bavail * frsize, (st.f_blocks - st.f_bfree) * frsize);
	res->usage[1] = node_usage(call, CSI__V1__VOLUME_USAGE__UNIT__INODES, st.f_files,
				   st.f_ffree, st.f_files - st.f_ffree);
	if (res->usage[0] == NULL || res->usage[1] == NULL)
		return csi_fail_oom(call);
	res->n_usage = 2;
	*ret_response = &res->base;
	return 0;
}

/* ---- NodeExpandVolume -------------------------------------------------------------------- */

/* NodeExpandVolume: nothing to resize on the node; report the claim's size. */
int node_expand_volume(struct csi_call *call, const ProtobufCMessage *request,
		       ProtobufCMessage **ret_response)
{
	const Csi__V1__NodeExpandVolumeRequest *req =
		(const Csi__V1__NodeExpandVolumeRequest *)request;
	Csi__V1__NodeExpandVolumeResponse *res =
		csi_new(call, &csi__v1__node_expand_volume_response__descriptor);
	int64_t required = 0, limit = 0;
	struct mapping_claim claim;

	if (res == NULL)
		return csi_fail_oom(call);
	if (node_empty(req->volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (node_empty(req->volume_path))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume_path missing");
	if (req->capacity_range != NULL) {
		required = req->capacity_range->required_bytes;
		limit = req->capacity_range->limit_bytes;
	}
	if (required < 0 || limit < 0 || (limit > 0 && required > limit))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"invalid capacity range [%lld, %lld]", (long long)required,
				(long long)limit);
	if (req->volume_capability != NULL && csi_capability_check(call, req->volume_capability) < 0)
		return -1;
	if (csi_lookup_volume(call, req->volume_id, 0, NULL, &claim) < 0 ||
	    node_check_volume_path(call, &claim, req->volume_path) < 0)
		return -1;
	if (required > 0 && claim.capacity < (uint64_t)required)
		return csi_fail(call, GRPC_STATUS_OUT_OF_RANGE,
				"volume %s holds %llu bytes; ControllerExpandVolume must grow it to "
				"%lld first",
				req->volume_id, (unsigned long long)claim.capacity, (long long)required);
	res->capacity_bytes = (int64_t)claim.capacity;
	*ret_response = &res->base;
	return 0;
}

/* ---- capabilities and info ----------------------------------------------------------------- */

static const Csi__V1__NodeServiceCapability__RPC__Type node_capabilities[] = {
	CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__GET_VOLUME_STATS,
	CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__SINGLE_NODE_MULTI_WRITER,
	/* Nothing to resize on the node (claimfsd grows the claim's quota
	 * online), but COs and csi-sanity call it only when it is advertised. */
	CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__EXPAND_VOLUME,
	CSI__V1__NODE_SERVICE_CAPABILITY__RPC__TYPE__STAGE_UNSTAGE_VOLUME,
};

/* NodeGetCapabilities: stats, the single-node multi-writer modes, expansion,
 * staging (node_stage.c). */
int node_get_capabilities(struct csi_call *call, const ProtobufCMessage *request,
			  ProtobufCMessage **ret_response)
{
	const size_t n = sizeof(node_capabilities) / sizeof(node_capabilities[0]);
	Csi__V1__NodeGetCapabilitiesResponse *res =
		csi_new(call, &csi__v1__node_get_capabilities_response__descriptor);

	(void)request;
	if (res == NULL || (res->capabilities = csi_array(call, n)) == NULL)
		return csi_fail_oom(call);
	for (size_t i = 0; i < n; i++) {
		Csi__V1__NodeServiceCapability *cap =
			csi_new(call, &csi__v1__node_service_capability__descriptor);
		Csi__V1__NodeServiceCapability__RPC *rpc =
			csi_new(call, &csi__v1__node_service_capability__rpc__descriptor);

		if (cap == NULL || rpc == NULL)
			return csi_fail_oom(call);
		rpc->type = node_capabilities[i];
		cap->type_case = CSI__V1__NODE_SERVICE_CAPABILITY__TYPE_RPC;
		cap->rpc = rpc;
		res->capabilities[i] = cap;
	}
	res->n_capabilities = n;
	*ret_response = &res->base;
	return 0;
}

/* NodeGetInfo: node id, volume limit, topology. */
int node_get_info(struct csi_call *call, const ProtobufCMessage *request,
		  ProtobufCMessage **ret_response)
{
	Csi__V1__NodeGetInfoResponse *res =
		csi_new(call, &csi__v1__node_get_info_response__descriptor);

	(void)request;
	if (res == NULL)
		return csi_fail_oom(call);
	res->node_id = (char *)call->driver->node_id;
	res->max_volumes_per_node = call->driver->max_volumes_per_node;
	res->accessible_topology = csi_topology_new(call);
	if (res->accessible_topology == NULL)
		return csi_fail_oom(call);
	*ret_response = &res->base;
	return 0;
}
