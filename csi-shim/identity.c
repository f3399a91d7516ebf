/*
 * identity.c — the CSI Identity service: who we are, what we offer, and
 * whether we can work right now.
 *
 * Probe is ready only while claimfsd answers /readyz with 200 AND its FUSE
 * mount is visible at --mount from this process (in a pod the mount reaches
 * us through mount propagation, which can be misconfigured). claimfsd not
 * answering at all is FAILED_PRECONDITION (a missing dependency, per spec);
 * answering "not ready" is ready=false.
 */
#include "csi.h"

#include <errno.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>

#include "log.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

/* GetPluginInfo: name and version. */
int identity_get_plugin_info(struct csi_call *call, const ProtobufCMessage *request,
			     ProtobufCMessage **ret_response)
{
	Csi__V1__GetPluginInfoResponse *res =
		csi_new(call, &csi__v1__get_plugin_info_response__descriptor);

	(void)request;
	if (res == NULL)
		return csi_fail_oom(call);
	res->name = CSI_DRIVER_NAME;
	res->vendor_version = CLAIMFS_VERSION;
	*ret_response = &res->base;
	return 0;
}

/* One PluginCapability.Service entry. */
static Csi__V1__PluginCapability *identity_service(struct csi_call *call,
						   Csi__V1__PluginCapability__Service__Type type)
{
	Csi__V1__PluginCapability *cap = csi_new(call, &csi__v1__plugin_capability__descriptor);
	Csi__V1__PluginCapability__Service *service =
		csi_new(call, &csi__v1__plugin_capability__service__descriptor);

	if (cap == NULL || service == NULL)
		return NULL;
	service->type = type;
	cap->type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_SERVICE;
	cap->service = service;
	return cap;
}

/* GetPluginCapabilities: controller, topology, online expansion. */
int identity_get_plugin_capabilities(struct csi_call *call, const ProtobufCMessage *request,
				     ProtobufCMessage **ret_response)
{
	Csi__V1__GetPluginCapabilitiesResponse *res =
		csi_new(call, &csi__v1__get_plugin_capabilities_response__descriptor);
	Csi__V1__PluginCapability *expansion =
		csi_new(call, &csi__v1__plugin_capability__descriptor);
	Csi__V1__PluginCapability__VolumeExpansion *online =
		csi_new(call, &csi__v1__plugin_capability__volume_expansion__descriptor);

	(void)request;
	if (res == NULL || expansion == NULL || online == NULL)
		return csi_fail_oom(call);
	res->capabilities = csi_array(call, 4);
	if (res->capabilities == NULL)
		return csi_fail_oom(call);
	res->capabilities[0] = identity_service(
		call, CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__CONTROLLER_SERVICE);
	res->capabilities[1] = identity_service(
		call, CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__VOLUME_ACCESSIBILITY_CONSTRAINTS);
	/* group_snapshot.c: one instant of several claims. */
	res->capabilities[2] = identity_service(
		call, CSI__V1__PLUGIN_CAPABILITY__SERVICE__TYPE__GROUP_CONTROLLER_SERVICE);
	/* Claims grow while mounted: claimfsd raises the quota, statfs shows it at once. */
	online->type = CSI__V1__PLUGIN_CAPABILITY__VOLUME_EXPANSION__TYPE__ONLINE;
	expansion->type_case = CSI__V1__PLUGIN_CAPABILITY__TYPE_VOLUME_EXPANSION;
	expansion->volume_expansion = online;
	res->capabilities[3] = expansion;
	if (res->capabilities[0] == NULL || res->capabilities[1] == NULL ||
	    res->capabilities[2] == NULL)
		return csi_fail_oom(call);
	res->n_capabilities = 4;
	*ret_response = &res->base;
	return 0;
}

/* Is the claimfs FUSE mount visible at mount_dir? */
static bool identity_mount_visible(const char *mount_dir)
{
	struct statfs st;

	return statfs(mount_dir, &st) == 0 && st.f_type == FUSE_SUPER_MAGIC;
}

/* Probe: ready while claimfsd is ready and its mount is visible here. */
int identity_probe(struct csi_call *call, const ProtobufCMessage *request,
		   ProtobufCMessage **ret_response)
{
	Csi__V1__ProbeResponse *res = csi_new(call, &csi__v1__probe_response__descriptor);
	Google__Protobuf__BoolValue *ready = csi_new(call, &google__protobuf__bool_value__descriptor);
	struct daemon_client_error err;
	int r;

	(void)request;
	if (res == NULL || ready == NULL)
		return csi_fail_oom(call);
	r = daemon_client_ready(&call->driver->api, &err);
	if (r < 0)
		return csi_fail(call, GRPC_STATUS_FAILED_PRECONDITION, "claimfsd is not running: %s",
				err.message);
	ready->value = r == 1 && identity_mount_visible(call->driver->mount_dir);
	if (r == 1 && !ready->value)
		log_warn("probe: claimfsd is ready but %s is not a FUSE mount here (check the "
			     "mount propagation of the volume holding it)",
			     call->driver->mount_dir);
	res->ready = ready;
	*ret_response = &res->base;
	return 0;
}
