/*
 * node.h — what the Node service files share (node.c: publish, unpublish,
 * stats, expansion, capabilities; node_stage.c: stage, unstage and the
 * staged source of a publication), implemented in node_util.c: field
 * checks, the claim directory behind a volume, and "is this mount ours".
 *
 * node_target.c: what is at a target or staging path, and undoing it.
 *
 * Call order: node.c -> node_stage.c -> node_target.c -> node_util.c
 * (never back).
 */
#ifndef CLAIMFS_CSI_NODE_H
#define CLAIMFS_CSI_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "csi.h"
#include "node_mount.h"
#include "node_state.h"

/* NULL and "" are both "unset" in proto3. */
bool node_empty(const char *text);

/* A path the caller wants us to mount on: set, absolute, of sane length;
 * INVALID_ARGUMENT otherwise. */
int node_check_path(struct csi_call *call, const char *path, const char *field);

/* <mount>/<ns>/<claim> into buf, checked to be a live directory: NOT_FOUND
 * when it is missing, UNAVAILABLE when claimfsd's mount does not answer. */
int node_claim_dir(struct csi_call *call, const struct mapping_claim *claim, char *buf,
		   size_t size);

/* Does the mount show this claim's directory of a claimfsd FUSE mount (a
 * bind of the claim, or a bind of such a bind)? */
bool node_mount_is_claim(const struct node_mount *mount, const struct mapping_claim *claim);

/* mkdir target (0750); an existing directory is fine, anything else at the
 * path is INVALID_ARGUMENT. *ret_created tells whether we made it. */
int node_make_target(struct csi_call *call, const char *target, bool *ret_created);

/* A mount at target that is not in our record (state lost): 0 when it is
 * volume_id's claim and may be unmounted, else FAILED_PRECONDITION. */
int node_unrecorded_mount_check(struct csi_call *call, const char *volume_id, const char *target,
				const struct node_mount *mount);

/* NodePublishVolume / NodeStageVolume: check volume_id, the path (field
 * names it), the capability and its mount flags (INVALID_ARGUMENT), find
 * the claim (NOT_FOUND) and its directory, and fill pub (zeroed first)
 * with volume, path, claim, access mode and mount flags. */
int node_request_fill(struct csi_call *call, const char *volume_id, const char *path,
		      const char *field, const Csi__V1__VolumeCapability *cap, size_t n_context,
		      const void *const *context, struct node_publication *pub,
		      struct mapping_claim *ret_claim, char *claim_dir, size_t dir_size);

/* ---- node_target.c ---- */

/* Lock held: what is at pub->target before mounting pub there: 1 = pub
 * itself, alive (nothing to do); 0 = free (a dead or stale one was
 * cleared); -1 = refused (ALREADY_EXISTS, FAILED_PRECONDITION, INTERNAL). */
int node_target_check(struct csi_call *call, const struct node_publication *pub,
		      const struct mapping_claim *claim);

/* Runs under the node_state lock around the undo; 0 or -1 (status set). */
typedef int node_target_undo_hook(struct csi_call *call, const char *path);

/* Unmount and forget a publication (staged false) or staging mount (true)
 * of volume_id at path, running before/after (may be NULL) under the same
 * lock: INVALID_ARGUMENT for missing fields or a path holding another
 * volume or kind, NOT_FOUND for an unknown volume with nothing to undo. */
int node_target_undo(struct csi_call *call, const char *volume_id, const char *path,
		     const char *field, bool staged, node_target_undo_hook *before,
		     node_target_undo_hook *after);

/* ---- node_stage.c ---- */

/* Lock held: the source a publication from staging_path binds (the staging
 * mount of pub's volume, mounted again from the claim if it died with
 * claimfsd) into source. FAILED_PRECONDITION when the volume is not staged
 * there. */
int node_stage_source(struct csi_call *call, const char *staging_path,
		      const struct mapping_claim *claim, char *source, size_t size);

#endif
