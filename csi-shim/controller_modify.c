/*
 * controller_modify.c — MODIFY_VOLUME: ControllerModifyVolume and the
 * mutable_parameters of CreateVolume (what a VolumeAttributesClass names).
 * The parameters become claim annotations (volume_attrs.h) that claimfsd
 * validates again and applies to the claim's store volume online: the inode
 * limit (df -i, ENOSPC beyond it) and the I/O class.
 *
 * Invariants: an unknown key or a bad value is INVALID_ARGUMENT before
 * anything is sent; one merge patch carries every parameter of a request,
 * so a modification is applied whole or not at all; a key not named keeps
 * its value; repeating a request changes nothing (idempotent).
 */
#include "csi.h"

#include <errno.h>
#include <string.h>

#include "volume_attrs.h"

/* Same layout for every map<string,string> entry protoc-c generates. */
typedef Csi__V1__ControllerModifyVolumeRequest__MutableParametersEntry controller_modify_entry;

static const struct {
	const char *param;
	const char *annotation;
} controller_modify_keys[] = {
	{ VOLUME_ATTRS_PARAM_INODE_LIMIT, VOLUME_ATTRS_ANNOTATION_INODE_LIMIT },
	{ VOLUME_ATTRS_PARAM_IO_CLASS, VOLUME_ATTRS_ANNOTATION_IO_CLASS },
};

/* One parameter checked; its annotation key, or NULL after csi_fail. */
static const char *controller_modify_check(struct csi_call *call, const controller_modify_entry *e)
{
	struct volume_attrs attrs = { 0 };
	char why[256];

	if (volume_attrs_parse_param(e->key, e->value, &attrs, why, sizeof(why)) < 0) {
		csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", why);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(controller_modify_keys) / sizeof(controller_modify_keys[0]); i++)
		if (strcmp(e->key, controller_modify_keys[i].param) == 0)
			return controller_modify_keys[i].annotation;
	csi_fail(call, GRPC_STATUS_INTERNAL, "mutable parameter %s has no annotation", e->key);
	return NULL;
}

int controller_modify_annotations(struct csi_call *call, size_t count, const void *const *entries,
				  json_t *annotations)
{
	for (size_t i = 0; i < count; i++) {
		const controller_modify_entry *e = entries[i];
		const char *key = controller_modify_check(call, e);

		if (key == NULL)
			return -1;
		if (json_object_set_new(annotations, key, json_string(e->value)) < 0)
			return csi_fail_oom(call);
	}
	return 0;
}

/* ControllerModifyVolume: validate, then one patch of the claim's annotations. */
int controller_modify_volume(struct csi_call *call, const ProtobufCMessage *request,
			     ProtobufCMessage **ret_response)
{
	const Csi__V1__ControllerModifyVolumeRequest *req =
		(const Csi__V1__ControllerModifyVolumeRequest *)request;
	Csi__V1__ControllerModifyVolumeResponse *res =
		csi_new(call, &csi__v1__controller_modify_volume_response__descriptor);
	struct mapping_claim claim;
	struct daemon_client_error err;
	json_t *annotations, *json = NULL;
	int r;

	if (res == NULL)
		return csi_fail_oom(call);
	if (req->volume_id == NULL || req->volume_id[0] == '\0')
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume id missing");
	annotations = json_object();
	if (annotations == NULL)
		return csi_fail_oom(call);
	if (controller_modify_annotations(call, req->n_mutable_parameters,
					  (const void *const *)req->mutable_parameters,
					  annotations) < 0 ||
	    csi_lookup_volume(call, req->volume_id, 0, NULL, &claim) < 0) {
		json_decref(annotations);
		return -1;
	}
	if (json_object_size(annotations) == 0) {
		/* Nothing to change: the volume exists, that is the answer. */
		json_decref(annotations);
		*ret_response = &res->base;
		return 0;
	}
	r = daemon_client_claim_patch_annotations(&call->driver->api, claim.namespace_name,
						  claim.name, annotations, &json, &err);
	if (r == -EINVAL)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "claimfsd refused: %s",
				err.message);
	if (r < 0)
		return csi_fail_api(call, r, &err, "modifying the claim");
	if (csi_keep_json(call, json) < 0)
		return -1;
	*ret_response = &res->base;
	return 0;
}
