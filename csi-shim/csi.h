/*
 * csi.h — what the CSI handlers of claimfs-csi share: the driver (process
 * configuration), the per-call context, the handler signature of the method
 * table, and the helpers every service uses (errors, message builders,
 * finding a claim by volume id).
 *
 * Handler contract: a handler gets the unpacked request and either stores a
 * response message in *ret_response and returns 0, or returns -1 after
 * csi_fail() put the gRPC status code and a human-readable message in the
 * call. Everything a handler allocates comes from call->arena (strings,
 * messages, arrays) or is registered there (arena_defer), so no handler frees
 * anything on any path.
 */
#ifndef CLAIMFS_CSI_CSI_H
#define CLAIMFS_CSI_CSI_H

#include <stdbool.h>
#include <stdint.h>

#include <grpc/status.h>
#include <jansson.h>

#include "arena.h"
#include "daemon_client.h"
#include "csi.pb-c.h"
#include "mapping.h"

#define CSI_DRIVER_NAME "claimfs.csi.claimfs.io"
#define CSI_TOPOLOGY_KEY "topology.claimfs.io/node"
/* volume_context keys: where the claim lives (a hint; the id decides). */
#define CSI_CONTEXT_NAMESPACE "claimfs.io/namespace"
#define CSI_CONTEXT_CLAIM "claimfs.io/claim"
#define CSI_MESSAGE_MAX 1024

struct node_state;

/* Process-wide configuration and clients; read-only while serving except
 * for node (which has its own lock). */
struct csi_driver {
	const char *node_id;
	const char *peer_nodes; /* --peer-nodes "a,b" or NULL */
	const char *mount_dir; /* claimfsd's --mount, as this process sees it */
	uint64_t default_capacity;
	int64_t max_volumes_per_node;
	struct daemon_client api;
	struct node_state *node;
};

/* One RPC in progress (one worker thread). */
struct csi_call {
	struct csi_driver *driver;
	struct arena *arena;
	const char *method; /* "/csi.v1.Node/NodePublishVolume", for logs */
	grpc_status_code code;
	char message[CSI_MESSAGE_MAX];
};

typedef int csi_handler(struct csi_call *call, const ProtobufCMessage *request,
			ProtobufCMessage **ret_response);

/* One row of the method table. */
struct csi_method {
	const char *path; /* "/<package>.<Service>/<Method>" as gRPC sends it */
	const ProtobufCMessageDescriptor *request;
	csi_handler *handler;
};

/* ---- dispatch.c: the method table and errors ------------------------------ */

/* The table row for a method path, or NULL (UNIMPLEMENTED). */
const struct csi_method *csi_method_find(const char *path);

/* Record a failure; always returns -1 so handlers can `return csi_fail(...)`. */
int csi_fail(struct csi_call *call, grpc_status_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The one negative-errno -> gRPC code mapping. */
grpc_status_code csi_code_for_errno(int r);
/* Fail with the code for a claimfsd error, prefixed with what we were doing. */
int csi_fail_api(struct csi_call *call, int r, const struct daemon_client_error *err,
		 const char *what);
/* Fail with RESOURCE_EXHAUSTED "out of memory". */
int csi_fail_oom(struct csi_call *call);

/* ---- build.c: response helpers ---------------------------------------------- */

/* A new message of descriptor's type, initialised, in the call's arena. */
void *csi_new(struct csi_call *call, const ProtobufCMessageDescriptor *descriptor);
/* Array of count pointers in the arena (for repeated fields). */
void *csi_array(struct csi_call *call, size_t count);
/* Value of key in a map<string,string> field, or NULL. */
const char *csi_map_get(size_t count, const void *const *entries, const char *key);
/* Append key=value to a map<string,string> field (entries points at the
 * field, e.g. &volume->volume_context). -1 when out of memory. */
int csi_map_add(struct csi_call *call, const ProtobufCMessageDescriptor *entry_descriptor,
		size_t *count, void *entries, const char *key, const char *value);
#define CSI_MAP_GET(count, entries, key) csi_map_get((count), (const void *const *)(entries), (key))

/* This node's topology segment {topology.claimfs.io/node: node_id}. */
Csi__V1__Topology *csi_topology_new(struct csi_call *call);
/* Does a topology name this node? */
bool csi_topology_is_this_node(const struct csi_driver *driver, const Csi__V1__Topology *topology);
/* The CSI Volume of a claim, with context, topology and (optional) source. */
Csi__V1__Volume *csi_volume_new(struct csi_call *call, const struct mapping_claim *claim,
				const Csi__V1__VolumeContentSource *source);

/* Check one volume capability: mount access type, a known access mode and
 * mount flags a bind mount can take. Returns 0, or -1 with INVALID_ARGUMENT
 * (block, missing fields, unsupported flags). */
int csi_capability_check(struct csi_call *call, const Csi__V1__VolumeCapability *capability);

/* ---- lookup.c: claims by volume id -------------------------------------------- */

/* Find the claim behind volume_id; the context (may be NULL) is only a
 * hint. 0 with the parsed claim (its JSON is released with the call), or -1:
 * NOT_FOUND, UNAVAILABLE (claimfsd down), INTERNAL. */
int csi_lookup_volume(struct csi_call *call, const char *volume_id, size_t n_context,
		      const void *const *context,
		      struct mapping_claim *ret_claim);
/* Like csi_lookup_volume but a missing volume is not an error: returns 0
 * with *ret_found false. */
int csi_lookup_volume_maybe(struct csi_call *call, const char *volume_id, size_t n_context,
			    const void *const *context,
			    struct mapping_claim *ret_claim, bool *ret_found);
/* All bound claims (of this claimfsd), sorted by volume id, in the arena. */
int csi_lookup_all_volumes(struct csi_call *call, struct mapping_claim **ret_claims,
			   size_t *ret_count);
/* Let the arena drop a JSON reference when the call ends. -1 (OOM) after
 * releasing it at once. */
int csi_keep_json(struct csi_call *call, json_t *json);

/* ---- the services --------------------------------------------------------------- */

csi_handler identity_get_plugin_info, identity_get_plugin_capabilities, identity_probe;
csi_handler controller_create_volume, controller_delete_volume,
	controller_validate_volume_capabilities, controller_list_volumes, controller_get_capacity,
	controller_get_capabilities, controller_expand_volume, controller_modify_volume;
/* controller_modify.c: check CSI mutable_parameters (count entries of any
 * map<string,string>) and add their claim annotations; -1 after csi_fail. */
int controller_modify_annotations(struct csi_call *call, size_t count, const void *const *entries,
				  json_t *annotations);
csi_handler snapshot_create, snapshot_delete, snapshot_list;
csi_handler group_get_capabilities, group_snapshot_create, group_snapshot_delete,
	group_snapshot_get;
/* The CSI Snapshot of a VolumeSnapshot (snapshot.c); source_volume_id when
 * the snapshot does not record it. NULL when out of memory. */
Csi__V1__Snapshot *snapshot_message(struct csi_call *call, const struct mapping_snapshot *s,
				    const char *source_volume_id);
csi_handler node_publish_volume, node_unpublish_volume, node_get_volume_stats,
	node_expand_volume, node_get_capabilities, node_get_info;
csi_handler node_stage_volume, node_unstage_volume;
csi_handler controller_publish_volume, controller_unpublish_volume;

/* Did ControllerPublishVolume publish the volume to this node read-only
 * (NodePublishVolume then mounts it read-only whatever it is asked)?
 * Lives in controller_publish.c with the record it reads. */
bool controller_published_read_only(const struct csi_driver *driver,
				    const struct mapping_claim *claim);

/* ListVolumes' VolumeStatus of a claim: the nodes it is published to
 * (controller_publish.c). NULL when out of memory. */
Csi__V1__ListVolumesResponse__VolumeStatus *controller_published_status(
	struct csi_call *call, const struct mapping_claim *claim);

/* CreateVolume with a content source: resolve the source (NOT_FOUND if it
 * is gone) into its namespace, its size, the claim dataSource to post and
 * the content-source annotation. Lives in snapshot.c with the rest of the
 * copy logic. */
int snapshot_content_source(struct csi_call *call, const Csi__V1__VolumeContentSource *source,
			    const char **ret_ns, uint64_t *ret_source_bytes,
			    json_t **ret_data_source, const char **ret_annotation);

#endif
