/*
 * node_stage.c — NodeStageVolume and NodeUnstageVolume (Node capability
 * STAGE_UNSTAGE_VOLUME), and the staged source of a publication.
 *
 * Staging is one bind mount of the claim's directory per node and volume,
 * at the CO's staging path (kubelet's global mount); NodePublishVolume with
 * a staging_target_path then bind-mounts the staging mount at each pod's
 * target (node_stage_source). A staging mount is recorded in node_state as
 * an entry with `staged` set, so it survives restarts of claimfs-csi and
 * DeleteVolume sees a staged volume as in use.
 *
 * Rules (CSI NodeStageVolume / NodeUnstageVolume):
 *   stage, same volume and access mode at the same path -> OK (idempotent; a
 *       staging mount that died with claimfsd is mounted again)
 *   stage, other volume or access mode at that path     -> ALREADY_EXISTS
 *   stage, volume already staged at another path        -> FAILED_PRECONDITION
 *   unstage while a publication from it is mounted       -> FAILED_PRECONDITION
 *       (the CO must unpublish every target first)
 *   unstage of nothing: OK for a known volume, NOT_FOUND for an unknown one
 *   publish from a path where the volume is not staged  -> FAILED_PRECONDITION
 * The staging directory belongs to the CO: created when missing, never
 * removed. Mount flags and read-only apply per publication, so the staging
 * mount is always read-write.
 *
 * Lock order: node_state lock only; claim lookups happen before taking it
 * except in NodeUnstageVolume's "mounted but not recorded" path.
 */
#include "node.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Bind the claim's directory at the staging path (read-write, no flags). */
static int node_stage_mount(struct csi_call *call, const struct mapping_claim *claim,
			    const char *staging_path)
{
	char dir[PATH_MAX];
	int r;

	if (node_claim_dir(call, claim, dir, sizeof(dir)) < 0)
		return -1;
	r = node_mount_bind(dir, staging_path, false, 0);
	if (r < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "bind mount of %s on %s: %s", dir,
				staging_path, strerror(-r));
	return 0;
}

/* One staging mount per volume and node. */
static int node_stage_elsewhere(struct csi_call *call, const struct node_publication *pub)
{
	struct node_state *state = call->driver->node;
	struct node_mount mount;

	for (size_t i = 0; i < node_state_count(state); i++) {
		const struct node_publication *other = node_state_at(state, i);

		if (other->staged && strcmp(other->volume_id, pub->volume_id) == 0 &&
		    strcmp(other->target, pub->target) != 0 &&
		    node_mount_find(other->target, &mount) == 1)
			return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
					"volume %s is already staged at %s on this node",
					pub->volume_id, other->target);
	}
	return 0;
}

/* The locked part of NodeStageVolume. */
static int node_stage_locked(struct csi_call *call, const struct node_publication *pub,
			     const struct mapping_claim *claim)
{
	bool created;
	int r;

	r = node_target_check(call, pub, claim);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (node_stage_elsewhere(call, pub) < 0 || node_make_target(call, pub->target, &created) < 0)
		return -1;
	if (node_stage_mount(call, claim, pub->target) < 0)
		goto fail;
	r = node_state_add(call->driver->node, pub);
	if (r < 0) {
		node_mount_unbind(pub->target);
		csi_fail(call, GRPC_STATUS_INTERNAL, "recording the staging: %s", strerror(-r));
		goto fail;
	}
	log_info("staged %s (%s/%s) at %s", pub->volume_id, pub->namespace_name, pub->claim,
		 pub->target);
	return 0;
fail:
	if (created)
		rmdir(pub->target);
	return -1;
}

/* NodeStageVolume. */
int node_stage_volume(struct csi_call *call, const ProtobufCMessage *request,
		      ProtobufCMessage **ret_response)
{
	const Csi__V1__NodeStageVolumeRequest *req =
		(const Csi__V1__NodeStageVolumeRequest *)request;
	Csi__V1__NodeStageVolumeResponse *res =
		csi_new(call, &csi__v1__node_stage_volume_response__descriptor);
	const Csi__V1__VolumeCapability *cap = req->volume_capability;
	struct node_publication *pub = arena_alloc(call->arena, sizeof(*pub));
	char source[PATH_MAX];
	struct mapping_claim claim;
	int r;

	if (res == NULL || pub == NULL)
		return csi_fail_oom(call);
	if (node_request_fill(call, req->volume_id, req->staging_target_path,
			      "staging_target_path", cap, req->n_volume_context,
			      (const void *const *)req->volume_context, pub, &claim, source,
			      sizeof(source)) < 0)
		return -1;
	/* Checked like a publication's, but they apply per publication. */
	pub->mount_flags = 0;
	pub->staged = true;

	node_state_lock(call->driver->node);
	r = node_stage_locked(call, pub, &claim);
	node_state_unlock(call->driver->node);
	if (r < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}

/* Lock held: the staging mount a publication binds, healed if it died. */
int node_stage_source(struct csi_call *call, const char *staging_path,
		      const struct mapping_claim *claim, char *source, size_t size)
{
	const struct node_publication *staged = node_state_find(call->driver->node, staging_path);
	struct node_mount mount;
	int m, r;

	if (staged == NULL || !staged->staged || strcmp(staged->volume_id, claim->volume_id) != 0)
		return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
				"volume %s is not staged at %s (NodeStageVolume first)",
				claim->volume_id, staging_path);
	if ((size_t)snprintf(source, size, "%s", staging_path) >= size)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "staging path too long");
	m = node_mount_find(staging_path, &mount);
	if (m < 0)
		return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION, "staging path %s: %s",
				staging_path, strerror(-m));
	if (m == 1 && !node_mount_dead(staging_path))
		return 0;
	/* claimfsd died (or someone unmounted it): the record says it is ours. */
	log_info("%s: staging %s at %s again before publishing", call->method, claim->volume_id,
		 staging_path);
	if (m == 1 && (r = node_mount_unbind(staging_path)) < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "unmounting dead %s: %s", staging_path,
				strerror(-r));
	return node_stage_mount(call, claim, staging_path);
}

/* ---- NodeUnstageVolume ------------------------------------------------------------------ */

/* Before the unmount: publications bound from the staging path that are
 * still mounted refuse it. */
static int node_unstage_published(struct csi_call *call, const char *staging_path)
{
	struct node_state *state = call->driver->node;
	struct node_mount mount;

	for (size_t i = 0; i < node_state_count(state); i++) {
		const struct node_publication *pub = node_state_at(state, i);

		if (!pub->staged && strcmp(pub->staging, staging_path) == 0 &&
		    node_mount_find(pub->target, &mount) == 1)
			return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
					"volume %s is still published at %s from %s "
					"(NodeUnpublishVolume first)",
					pub->volume_id, pub->target, staging_path);
	}
	return 0;
}

/* NodeUnstageVolume: idempotent; NOT_FOUND for an unknown volume with
 * nothing to undo; the staging directory stays (the CO's). */
int node_unstage_volume(struct csi_call *call, const ProtobufCMessage *request,
			ProtobufCMessage **ret_response)
{
	const Csi__V1__NodeUnstageVolumeRequest *req =
		(const Csi__V1__NodeUnstageVolumeRequest *)request;
	Csi__V1__NodeUnstageVolumeResponse *res =
		csi_new(call, &csi__v1__node_unstage_volume_response__descriptor);

	if (res == NULL)
		return csi_fail_oom(call);
	if (node_target_undo(call, req->volume_id, req->staging_target_path,
			     "staging_target_path", true, node_unstage_published, NULL) < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}
