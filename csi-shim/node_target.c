/*
 * node_target.c — a mount point claimfs-csi manages, either a pod's target
 * (NodePublishVolume) or a staging path (NodeStageVolume, `staged` set in
 * the record): what is there now before mounting (node_target_check), and
 * undoing it (node_target_undo, the frame of NodeUnpublishVolume and
 * NodeUnstageVolume). Both kinds follow one rule set:
 *   recorded, same kind, volume and arguments, alive -> nothing to do (OK)
 *   recorded, same arguments, mount died with claimfsd -> unmount, mount again
 *   recorded otherwise (other volume, kind or arguments) -> ALREADY_EXISTS
 *   mounted, not recorded (state lost): adopted when it is plainly the
 *       claim's, else ALREADY_EXISTS
 *   recorded, not mounted: the stale record is dropped
 * and an undo is idempotent, NOT_FOUND only for an unknown volume with
 * nothing to undo. The node_state lock is held by the caller (check) or
 * taken here (undo).
 */
#include "node.h"

#include <errno.h>
#include <string.h>

#include "log.h"

/* Same arguments as a recorded entry (a staging entry has no read-only,
 * flags or staging path, so only its access mode counts)? */
static bool node_target_same_args(const struct node_publication *a,
				  const struct node_publication *b)
{
	return a->mode == b->mode && a->readonly == b->readonly &&
	       a->mount_flags == b->mount_flags && strcmp(a->staging, b->staging) == 0;
}

/* Lock held: 1 = pub is there and alive, 0 = free to mount, -1 = refused. */
int node_target_check(struct csi_call *call, const struct node_publication *pub,
		      const struct mapping_claim *claim)
{
	struct node_state *state = call->driver->node;
	const struct node_publication *existing = node_state_find(state, pub->target);
	struct node_mount mount;
	int m, r;

	m = node_mount_find(pub->target, &mount);
	if (m == -ENOENT)
		return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
				"the parent directory of %s does not exist", pub->target);
	if (m < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "reading the mount table: %s",
				strerror(-m));
	if (m == 0) {
		/* A record without a mount is stale (unmounted behind our back). */
		if (existing != NULL && (r = node_state_remove(state, pub->target)) < 0)
			return csi_fail(call, GRPC_STATUS_INTERNAL, "updating node state: %s",
					strerror(-r));
		return 0;
	}
	if (existing == NULL) {
		/* Mounted but not recorded (state lost): adopt it when it is plainly ours. */
		if (!node_mount_is_claim(&mount, claim) || mount.read_only != pub->readonly ||
		    node_mount_dead(pub->target))
			return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
					"%s is already a mount point (of %s)", pub->target,
					mount.root);
		r = node_state_add(state, pub);
		if (r < 0)
			return csi_fail(call, GRPC_STATUS_INTERNAL, "recording %s: %s", pub->target,
					strerror(-r));
		return 1;
	}
	if (strcmp(existing->volume_id, pub->volume_id) != 0 || existing->staged != pub->staged)
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS, "%s already holds volume %s%s",
				pub->target, existing->volume_id,
				existing->staged ? " (a staging mount)" : " (a publication)");
	if (!node_target_same_args(existing, pub))
		return csi_fail(call, GRPC_STATUS_ALREADY_EXISTS,
				"volume %s is already at %s with other arguments "
				"(access mode, read-only, mount flags or staging path)",
				pub->volume_id, pub->target);
	if (!node_mount_dead(pub->target))
		return 1;
	/* claimfsd died since: this bind mount leads nowhere. Mount it again. */
	log_info("%s: mounting %s at %s again: the old mount is dead", call->method,
		 pub->volume_id, pub->target);
	r = node_mount_unbind(pub->target);
	if (r < 0)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "unmounting dead %s: %s", pub->target,
				strerror(-r));
	return 0;
}

/* Lock held: unmount path and forget it; *ret_undone: anything was there. */
static int node_target_undo_locked(struct csi_call *call, const char *volume_id, const char *path,
				   bool staged, bool *ret_undone)
{
	struct node_state *state = call->driver->node;
	const struct node_publication *existing = node_state_find(state, path);
	struct node_mount mount;
	int m, r;

	m = node_mount_find(path, &mount);
	if (m < 0 && m != -ENOENT)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "reading the mount table: %s",
				strerror(-m));
	if (existing != NULL && strcmp(existing->volume_id, volume_id) != 0 && m == 1)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s holds volume %s, not %s",
				path, existing->volume_id, volume_id);
	if (existing != NULL && existing->staged != staged && m == 1)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s is %s", path,
				staged ? "a publication target, not a staging path" :
					 "a staging path (NodeUnstageVolume undoes it)");
	if (m == 1) {
		if (existing == NULL && node_unrecorded_mount_check(call, volume_id, path, &mount) < 0)
			return -1;
		r = node_mount_unbind(path);
		if (r < 0)
			return csi_fail(call, GRPC_STATUS_INTERNAL, "unmounting %s: %s", path,
					strerror(-r));
		*ret_undone = true;
	}
	if (existing != NULL) {
		r = node_state_remove(state, path);
		if (r < 0)
			return csi_fail(call, GRPC_STATUS_INTERNAL, "updating node state: %s",
					strerror(-r));
		*ret_undone = true;
	}
	return 0;
}

/* NodeUnpublishVolume / NodeUnstageVolume. */
int node_target_undo(struct csi_call *call, const char *volume_id, const char *path,
		     const char *field, bool staged, node_target_undo_hook *before,
		     node_target_undo_hook *after)
{
	struct mapping_claim claim;
	bool undone = false, found;
	int r;

	if (node_empty(volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (node_check_path(call, path, field) < 0)
		return -1;
	node_state_lock(call->driver->node);
	r = before != NULL ? before(call, path) : 0;
	if (r == 0)
		r = node_target_undo_locked(call, volume_id, path, staged, &undone);
	if (r == 0 && after != NULL)
		r = after(call, path);
	node_state_unlock(call->driver->node);
	if (r < 0)
		return -1;
	if (undone) {
		log_info("%s %s from %s", staged ? "unstaged" : "unpublished", volume_id, path);
		return 0;
	}
	if (csi_lookup_volume_maybe(call, volume_id, 0, NULL, &claim, &found) < 0)
		return -1;
	if (!found)
		return csi_fail(call, GRPC_STATUS_NOT_FOUND, "volume %s does not exist", volume_id);
	return 0;
}
