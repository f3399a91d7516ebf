/*
 * dispatch.c — the method table of claimfs-csi (one const row per RPC: gRPC
 * method path -> request type -> handler) and the failure helpers.
 *
 * Invariants: a path missing from the table is answered UNIMPLEMENTED by the
 * server (so anything newer than us is refused the way the spec prescribes); the negative-errno -> gRPC
 * status mapping exists only in csi_code_for_errno.
 */
#include "csi.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define CSI_ROW(service, method, type, handler)                                  \
	{ "/csi.v1." service "/" method, &csi__v1__##type##_request__descriptor, \
	  handler }

static const struct csi_method csi_methods[] = {
	CSI_ROW("Identity", "GetPluginInfo", get_plugin_info, identity_get_plugin_info),
	CSI_ROW("Identity", "GetPluginCapabilities", get_plugin_capabilities,
		identity_get_plugin_capabilities),
	CSI_ROW("Identity", "Probe", probe, identity_probe),

	CSI_ROW("Controller", "CreateVolume", create_volume, controller_create_volume),
	CSI_ROW("Controller", "DeleteVolume", delete_volume, controller_delete_volume),
	CSI_ROW("Controller", "ValidateVolumeCapabilities", validate_volume_capabilities,
		controller_validate_volume_capabilities),
	CSI_ROW("Controller", "ListVolumes", list_volumes, controller_list_volumes),
	CSI_ROW("Controller", "GetCapacity", get_capacity, controller_get_capacity),
	CSI_ROW("Controller", "ControllerGetCapabilities", controller_get_capabilities,
		controller_get_capabilities),
	CSI_ROW("Controller", "ControllerExpandVolume", controller_expand_volume,
		controller_expand_volume),
	CSI_ROW("Controller", "ControllerModifyVolume", controller_modify_volume,
		controller_modify_volume),
	CSI_ROW("Controller", "ControllerPublishVolume", controller_publish_volume,
		controller_publish_volume),
	CSI_ROW("Controller", "ControllerUnpublishVolume", controller_unpublish_volume,
		controller_unpublish_volume),
	CSI_ROW("Controller", "CreateSnapshot", create_snapshot, snapshot_create),
	CSI_ROW("Controller", "DeleteSnapshot", delete_snapshot, snapshot_delete),
	CSI_ROW("Controller", "ListSnapshots", list_snapshots, snapshot_list),

	CSI_ROW("GroupController", "GroupControllerGetCapabilities",
		group_controller_get_capabilities, group_get_capabilities),
	CSI_ROW("GroupController", "CreateVolumeGroupSnapshot", create_volume_group_snapshot,
		group_snapshot_create),
	CSI_ROW("GroupController", "DeleteVolumeGroupSnapshot", delete_volume_group_snapshot,
		group_snapshot_delete),
	CSI_ROW("GroupController", "GetVolumeGroupSnapshot", get_volume_group_snapshot,
		group_snapshot_get),

	CSI_ROW("Node", "NodeStageVolume", node_stage_volume, node_stage_volume),
	CSI_ROW("Node", "NodeUnstageVolume", node_unstage_volume, node_unstage_volume),
	CSI_ROW("Node", "NodePublishVolume", node_publish_volume, node_publish_volume),
	CSI_ROW("Node", "NodeUnpublishVolume", node_unpublish_volume, node_unpublish_volume),
	CSI_ROW("Node", "NodeGetVolumeStats", node_get_volume_stats, node_get_volume_stats),
	CSI_ROW("Node", "NodeExpandVolume", node_expand_volume, node_expand_volume),
	CSI_ROW("Node", "NodeGetCapabilities", node_get_capabilities, node_get_capabilities),
	CSI_ROW("Node", "NodeGetInfo", node_get_info, node_get_info),
};

/* Linear search: a few dozen rows, compared once per call. */
const struct csi_method *csi_method_find(const char *path)
{
	for (size_t i = 0; i < sizeof(csi_methods) / sizeof(csi_methods[0]); i++)
		if (strcmp(csi_methods[i].path, path) == 0)
			return &csi_methods[i];
	return NULL;
}

/* Set the status of the call. */
int csi_fail(struct csi_call *call, grpc_status_code code, const char *fmt, ...)
{
	va_list ap;

	call->code = code;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* errno -> gRPC code (the only copy of this table). */
grpc_status_code csi_code_for_errno(int r)
{
	switch (-r) {
	case ENOENT:
		return GRPC_STATUS_NOT_FOUND;
	case EEXIST:
		return GRPC_STATUS_ALREADY_EXISTS;
	case EINVAL:
	case ENAMETOOLONG:
		return GRPC_STATUS_INVALID_ARGUMENT;
	case EOPNOTSUPP:
		return GRPC_STATUS_UNIMPLEMENTED;
	case EACCES:
	case EPERM:
		return GRPC_STATUS_PERMISSION_DENIED;
	case EAGAIN:
	case ECONNREFUSED:
	case ECONNRESET:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENOTCONN:
	case EPIPE:
		return GRPC_STATUS_UNAVAILABLE;
	case ENOSPC:
	case EDQUOT:
	case ENOMEM:
		return GRPC_STATUS_RESOURCE_EXHAUSTED;
	case ERANGE:
		return GRPC_STATUS_OUT_OF_RANGE;
	case EBUSY:
		return GRPC_STATUS_FAILED_PRECONDITION;
	default:
		return GRPC_STATUS_INTERNAL;
	}
}

/* Fail with claimfsd's own words. */
int csi_fail_api(struct csi_call *call, int r, const struct daemon_client_error *err,
		 const char *what)
{
	grpc_status_code code = err->transport ? GRPC_STATUS_UNAVAILABLE : csi_code_for_errno(r);

	if (code == GRPC_STATUS_UNAVAILABLE || code == GRPC_STATUS_INTERNAL)
		log_warn("%s: %s: %s", call->method, what, err->message);
	return csi_fail(call, code, "%s: %s", what,
			err->message[0] != '\0' ? err->message : strerror(-r));
}

/* Out of memory while building an answer. */
int csi_fail_oom(struct csi_call *call)
{
	return csi_fail(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "claimfs-csi is out of memory");
}
