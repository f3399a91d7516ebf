/*
 * build.c — helpers that build CSI messages in the call's arena, plus the
 * capability check shared by Controller and Node.
 *
 * Invariant: every pointer stored into a message points into the call's
 * arena (or at a string literal / protobuf-c default), so packing the
 * response and destroying the arena is all the cleanup there is.
 */
#include "csi.h"

#include <stddef.h>
#include <string.h>

#include "node_mount.h"

/* All map<string,string> entries protobuf-c generates share this layout. */
struct csi_map_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

_Static_assert(offsetof(struct csi_map_entry, key) ==
		       offsetof(Csi__V1__Volume__VolumeContextEntry, key) &&
		       offsetof(struct csi_map_entry, value) ==
		       offsetof(Csi__V1__Volume__VolumeContextEntry, value) &&
		       sizeof(struct csi_map_entry) == sizeof(Csi__V1__Volume__VolumeContextEntry),
	       "protobuf-c map entry layout changed");

/* Allocate and initialise a message. */
void *csi_new(struct csi_call *call, const ProtobufCMessageDescriptor *descriptor)
{
	ProtobufCMessage *message = arena_alloc(call->arena, descriptor->sizeof_message);

	if (message != NULL)
		descriptor->message_init(message);
	return message;
}

/* Zeroed pointer array. */
void *csi_array(struct csi_call *call, size_t count)
{
	return arena_alloc(call->arena, (count > 0 ? count : 1) * sizeof(void *));
}

/* Look a key up in a map field. */
const char *csi_map_get(size_t count, const void *const *entries, const char *key)
{
	for (size_t i = 0; i < count; i++) {
		const struct csi_map_entry *e = entries[i];

		if (e != NULL && e->key != NULL && strcmp(e->key, key) == 0)
			return e->value;
	}
	return NULL;
}

/* Grow a map field by one entry (copying the pointer array). */
int csi_map_add(struct csi_call *call, const ProtobufCMessageDescriptor *entry_descriptor,
		size_t *count, void *entries, const char *key, const char *value)
{
	struct csi_map_entry **old, **grown, *entry;

	memcpy(&old, entries, sizeof(old));
	grown = csi_array(call, *count + 1);
	entry = csi_new(call, entry_descriptor);
	if (grown == NULL || entry == NULL)
		return -1;
	entry->key = arena_strdup(call->arena, key);
	entry->value = arena_strdup(call->arena, value);
	if (entry->key == NULL || entry->value == NULL)
		return -1;
	if (*count > 0)
		memcpy(grown, old, *count * sizeof(*grown));
	grown[(*count)++] = entry;
	memcpy(entries, &grown, sizeof(grown));
	return 0;
}

/* {topology.claimfs.io/node: <node id>} */
Csi__V1__Topology *csi_topology_new(struct csi_call *call)
{
	Csi__V1__Topology *topology = csi_new(call, &csi__v1__topology__descriptor);

	if (topology == NULL ||
	    csi_map_add(call, &csi__v1__topology__segments_entry__descriptor, &topology->n_segments,
			&topology->segments, CSI_TOPOLOGY_KEY, call->driver->node_id) < 0)
		return NULL;
	return topology;
}

/* A topology is ours when it names our node under our key. */
bool csi_topology_is_this_node(const struct csi_driver *driver, const Csi__V1__Topology *topology)
{
	const char *node;

	if (topology == NULL)
		return false;
	node = CSI_MAP_GET(topology->n_segments, topology->segments, CSI_TOPOLOGY_KEY);
	return node != NULL && strcmp(node, driver->node_id) == 0;
}

/* Volume message for a claim. */
Csi__V1__Volume *csi_volume_new(struct csi_call *call, const struct mapping_claim *claim,
				const Csi__V1__VolumeContentSource *source)
{
	Csi__V1__Volume *volume = csi_new(call, &csi__v1__volume__descriptor);
	const ProtobufCMessageDescriptor *ctx = &csi__v1__volume__volume_context_entry__descriptor;

	if (volume == NULL)
		return NULL;
	volume->capacity_bytes = (int64_t)claim->capacity;
	volume->volume_id = arena_strdup(call->arena, claim->volume_id);
	volume->accessible_topology = csi_array(call, 1);
	if (volume->volume_id == NULL || volume->accessible_topology == NULL)
		return NULL;
	volume->accessible_topology[0] = csi_topology_new(call);
	if (volume->accessible_topology[0] == NULL)
		return NULL;
	volume->n_accessible_topology = 1;
	if (csi_map_add(call, ctx, &volume->n_volume_context, &volume->volume_context,
			CSI_CONTEXT_NAMESPACE, claim->namespace_name) < 0 ||
	    csi_map_add(call, ctx, &volume->n_volume_context, &volume->volume_context,
			CSI_CONTEXT_CLAIM, claim->name) < 0)
		return NULL;
	/* The request's source message lives in the same arena: share it. */
	volume->content_source = (Csi__V1__VolumeContentSource *)source;
	return volume;
}

/* Mount access type, a known access mode and bind-mount-able flags. */
int csi_capability_check(struct csi_call *call, const Csi__V1__VolumeCapability *capability)
{
	unsigned long flags;
	char bad[128];

	if (capability == NULL)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "volume capability missing");
	switch (capability->access_type_case) {
	case CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_MOUNT:
		break;
	case CSI__V1__VOLUME_CAPABILITY__ACCESS_TYPE_BLOCK:
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"block access type is not supported: claimfs volumes are "
				"directories (use access type mount)");
	default:
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"volume capability has no access type (block or mount)");
	}
	if (capability->access_mode == NULL ||
	    mapping_k8s_mode(capability->access_mode->mode) == 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"volume capability has no known access mode");
	/* Mount options (StorageClass mountOptions) must make sense for a bind mount. */
	if (capability->mount != NULL &&
	    node_mount_flags_parse(capability->mount->n_mount_flags, capability->mount->mount_flags,
				   &flags, bad, sizeof(bad)) < 0)
		return csi_fail(call, GRPC_STATUS_INVALID_ARGUMENT,
				"mount flag \"%s\" is not supported for a claimfs bind mount", bad);
	return 0;
}
