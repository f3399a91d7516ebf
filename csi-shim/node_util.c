/*
 * node_util.c — the helpers node.c and node_stage.c share (see node.h):
 * field checks, the claim directory behind a volume, whether a mount is the
 * claim's, making a target directory. No state; only stat/mkdir and the
 * parsed mount-table entry the caller passes.
 */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* NULL and "" are both "unset" in proto3. */
bool node_empty(const char *text)
{
	return text == NULL || text[0] == '\0';
}

/* An absolute path of sane length. */
int node_check_path(struct csi_call *call, const char *path, const char *field)
{
	if (node_empty(path))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s missing", field);
	if (path[0] != '/' || strlen(path) >= NODE_TARGET_MAX)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"%s must be an absolute path shorter than %d bytes", field,
				NODE_TARGET_MAX);
	return 0;
}

/* <mount>/<ns>/<claim> into buf, checked to be a live directory. */
int node_claim_dir(struct csi_call *call, const struct mapping_claim *claim, char *buf,
		   size_t size)
{
	struct stat st;

	if ((size_t)snprintf(buf, size, "%s/%s/%s", call->driver->mount_dir, claim->namespace_name,
			     claim->name) >= size)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "claim path too long");
	if (stat(buf, &st) < 0) {
		if (errno == ENOENT)
			return csi_fail(call, GRPC_STATUS_NOT_FOUND,
					"volume %s has no directory %s (claimfsd mount not live?)",
					claim->volume_id, buf);
		return csi_fail(call, GRPC_STATUS_UNAVAILABLE, "claim directory %s: %s", buf,
				strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return csi_fail(call, GRPC_STATUS_INTERNAL, "%s is not a directory", buf);
	return 0;
}

/* Does the mount at path show this claim's directory? */
bool node_mount_is_claim(const struct node_mount *mount, const struct mapping_claim *claim)
{
	char root[NODE_MOUNT_PATH_MAX];

	snprintf(root, sizeof(root), "/%s/%s", claim->namespace_name, claim->name);
	return strncmp(mount->fstype, "fuse", 4) == 0 && strcmp(mount->root, root) == 0;
}

/* mkdir target; an existing directory is fine. Sets *ret_created. */
int node_make_target(struct csi_call *call, const char *target, bool *ret_created)
{
	struct stat st;

	*ret_created = false;
	if (mkdir(target, 0750) == 0) {
		*ret_created = true;
		return 0;
	}
	if (errno != EEXIST)
		return csi_fail(call, GRPC_STATUS_INTERNAL, "creating %s: %s", target,
				strerror(errno));
	if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"%s exists and is not a directory", target);
	return 0;
}

/* A mount we have no record of may be undone only when it is this volume's. */
int node_unrecorded_mount_check(struct csi_call *call, const char *volume_id, const char *target,
				const struct node_mount *mount)
{
	struct mapping_claim claim;
	bool found;

	if (csi_lookup_volume_maybe(call, volume_id, 0, NULL, &claim, &found) < 0)
		return -1;
	if (!found || !node_mount_is_claim(mount, &claim))
		return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION,
				"%s is a mount point claimfs-csi did not create for volume %s", target,
				volume_id);
	return 0;
}

/* The shared part of NodePublishVolume and NodeStageVolume requests. */
int node_request_fill(struct csi_call *call, const char *volume_id, const char *path,
		      const char *field, const Csi__V1__VolumeCapability *cap, size_t n_context,
		      const void *const *context, struct node_publication *pub,
		      struct mapping_claim *ret_claim, char *claim_dir, size_t dir_size)
{
	char bad[128];

	if (node_empty(volume_id))
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	if (node_check_path(call, path, field) < 0 || csi_capability_check(call, cap) < 0)
		return -1;
	memset(pub, 0, sizeof(*pub));
	if (node_mount_flags_parse(cap->mount->n_mount_flags, cap->mount->mount_flags,
				   &pub->mount_flags, bad, sizeof(bad)) < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"mount flag \"%s\" is not supported for a claimfs bind mount", bad);
	if (csi_lookup_volume(call, volume_id, n_context, context, ret_claim) < 0 ||
	    node_claim_dir(call, ret_claim, claim_dir, dir_size) < 0)
		return -1;
	snprintf(pub->volume_id, sizeof(pub->volume_id), "%s", volume_id);
	snprintf(pub->target, sizeof(pub->target), "%s", path);
	snprintf(pub->namespace_name, sizeof(pub->namespace_name), "%s", ret_claim->namespace_name);
	snprintf(pub->claim, sizeof(pub->claim), "%s", ret_claim->name);
	pub->mode = cap->access_mode->mode;
	return 0;
}
