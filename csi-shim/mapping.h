/*
 * mapping.h — how CSI concepts map onto claimfsd claims, as pure functions
 * (no I/O, no gRPC) so the rules live in one place and are unit-testable:
 *
 *   CSI volume          = one claimfsd PersistentVolumeClaim <ns>/<name>;
 *   volume_id           = the claim's spec.volumeName ("pvc-<uuid>"), unique
 *                         for the life of the store and never reused;
 *   snapshot_id         = "<ns>/<snapshot name>" of a claimfsd VolumeSnapshot;
 *   access modes        = SINGLE_NODE_WRITER / SINGLE_NODE_MULTI_WRITER ->
 *                         ReadWriteOnce, SINGLE_NODE_SINGLE_WRITER ->
 *                         ReadWriteOncePod, *_READER_ONLY -> ReadOnlyMany,
 *                         MULTI_NODE_*_WRITER -> ReadWriteMany;
 *   capacity            = required_bytes, else min(default, limit_bytes),
 *                         else the source's size, else the default (1Gi);
 *   list page tokens    = "after:<last id returned>" (opaque to the CO).
 */
#ifndef CLAIMFS_CSI_MAPPING_H
#define CLAIMFS_CSI_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Kubernetes access modes as bits (a claim may have several). */
enum mapping_k8s_mode {
	MAPPING_RWO = 1u << 0,  /* ReadWriteOnce */
	MAPPING_ROX = 1u << 1,  /* ReadOnlyMany */
	MAPPING_RWX = 1u << 2,  /* ReadWriteMany */
	MAPPING_RWOP = 1u << 3, /* ReadWriteOncePod */
};

/* The CSI access mode enum values (csi.proto VolumeCapability.AccessMode.Mode). */
enum mapping_csi_mode {
	MAPPING_CSI_UNKNOWN = 0,
	MAPPING_CSI_SINGLE_NODE_WRITER = 1,
	MAPPING_CSI_SINGLE_NODE_READER_ONLY = 2,
	MAPPING_CSI_MULTI_NODE_READER_ONLY = 3,
	MAPPING_CSI_MULTI_NODE_SINGLE_WRITER = 4,
	MAPPING_CSI_MULTI_NODE_MULTI_WRITER = 5,
	MAPPING_CSI_SINGLE_NODE_SINGLE_WRITER = 6,
	MAPPING_CSI_SINGLE_NODE_MULTI_WRITER = 7,
};

#define MAPPING_DEFAULT_CAPACITY (UINT64_C(1) << 30) /* 1Gi when the CO names none */
#define MAPPING_DEFAULT_NAMESPACE "csi" /* claims of COs that pass no PVC namespace */
#define MAPPING_TOKEN_PREFIX "after:"

/* Annotations claimfs-csi keeps on the claims and snapshots it creates. */
#define MAPPING_ANNOTATION_VOLUME_NAME "csi.claimfs.io/volume-name"
#define MAPPING_ANNOTATION_CONTENT_SOURCE "csi.claimfs.io/content-source"
#define MAPPING_ANNOTATION_SNAPSHOT_NAME "csi.claimfs.io/snapshot-name"
#define MAPPING_ANNOTATION_SOURCE_VOLUME "csi.claimfs.io/source-volume-id"
/* ControllerPublishVolume's record: JSON {"<node id>": {"accessMode": N,
 * "readonly": bool}, ...} of the nodes the volume is published to. */
#define MAPPING_ANNOTATION_ATTACHMENTS "csi.claimfs.io/attachments"
/* claimfsd's group snapshot annotation (its MODEL_SNAPSHOT_GROUP_ANNOTATION):
 * the members of one group snapshot carry the group's name. */
#define MAPPING_ANNOTATION_GROUP "snapshot.claimfs.io/volume-group-snapshot"

/* The parameter keys external-provisioner adds with --extra-create-metadata. */
#define MAPPING_PARAM_PREFIX "csi.storage.k8s.io/"
#define MAPPING_PARAM_PVC_NAME "csi.storage.k8s.io/pvc/name"
#define MAPPING_PARAM_PVC_NAMESPACE "csi.storage.k8s.io/pvc/namespace"

/* The Kubernetes mode bit of a CSI mode; 0 for UNKNOWN or out of range. */
unsigned mapping_k8s_mode(int csi_mode);
/* "ReadWriteOnce" etc. for one bit; NULL for anything else. */
const char *mapping_k8s_mode_name(unsigned bit);
/* The bit of a Kubernetes mode name; 0 if unknown. */
unsigned mapping_k8s_mode_parse(const char *name);
/* Is the mode read-only (bind mount must be MS_RDONLY)? */
bool mapping_mode_read_only(int csi_mode);
/* May a volume published with this mode be published at a second target
 * path on the same node (CSI NodePublishVolume table with the
 * SINGLE_NODE_MULTI_WRITER capability)? */
bool mapping_mode_multi_target(int csi_mode);

/* Resolve a CSI capacity_range (0 = unspecified) against the default and
 * the size of a content source (0: none) into bytes.
 * -EINVAL: negative values or limit below required;
 * -ERANGE: the source does not fit the range (OUT_OF_RANGE). */
int mapping_capacity(int64_t required, int64_t limit, uint64_t default_bytes,
		     uint64_t source_bytes, uint64_t *ret_bytes);
/* Does an existing size satisfy the range (idempotent CreateVolume)? */
bool mapping_capacity_fits(uint64_t bytes, int64_t required, int64_t limit);

/* A DNS-1123 name for a CSI name: lower-cased, other characters turned to
 * '-', trimmed; when anything changed (or it was too long) a hash of the
 * original is appended so two CSI names never map to one claim.
 * -ENAMETOOLONG if size is too small; buf holds at most 253 characters. */
int mapping_object_name(const char *csi_name, char *buf, size_t size);

/* What claimfs-csi reads from a claim's JSON; the strings point into the
 * json_t and live as long as it does. */
struct mapping_claim {
	const char *namespace_name;
	const char *name;
	const char *volume_id; /* spec.volumeName */
	uint64_t capacity;     /* status.capacity.storage, else the request */
	unsigned modes;        /* MAPPING_* bits of spec.accessModes */
	const char *csi_name;  /* MAPPING_ANNOTATION_VOLUME_NAME or NULL */
	const char *content_source; /* MAPPING_ANNOTATION_CONTENT_SOURCE or NULL */
	const char *attachments;    /* MAPPING_ANNOTATION_ATTACHMENTS or NULL */
	const char *resource_version; /* metadata.resourceVersion or NULL */
};

/* Read a claim. -EINVAL (message in msg) if a field we need is missing or
 * malformed, e.g. a claim that is not bound yet. */
int mapping_claim_parse(const json_t *claim, struct mapping_claim *ret_claim, char *msg,
			size_t msg_size);

/* What claimfs-csi reads from a VolumeSnapshot. */
struct mapping_snapshot {
	const char *namespace_name;
	const char *name;
	const char *source_claim;     /* spec.source.persistentVolumeClaimName */
	const char *source_volume_id; /* MAPPING_ANNOTATION_SOURCE_VOLUME or NULL */
	const char *csi_name;         /* MAPPING_ANNOTATION_SNAPSHOT_NAME or NULL */
	uint64_t size;                /* status.restoreSize, 0 if unknown */
	bool ready;                   /* status.readyToUse */
	int64_t created_seconds;      /* status.creationTime (else metadata's), 0 if none */
	const char *group;            /* status.volumeGroupSnapshotName or NULL */
};

/* Read a snapshot; -EINVAL with a message when it lacks names. */
int mapping_snapshot_parse(const json_t *snapshot, struct mapping_snapshot *ret_snapshot,
			   char *msg, size_t msg_size);

/* Split a snapshot_id "<ns>/<name>" into buffers; -EINVAL unless both parts
 * are valid Kubernetes names. */
int mapping_snapshot_id_split(const char *snapshot_id, char *ns, size_t ns_size, char *name,
			      size_t name_size);

/* Parse a page token: the id after which the page starts ("" for an empty
 * token). -EINVAL if it is not one we handed out (the CO must restart:
 * ABORTED). id_valid says whether the embedded id is well-formed. */
int mapping_token_parse(const char *token, bool (*id_valid)(const char *id),
			const char **ret_after);
/* Is id shaped like a volume id claimfsd hands out (a DNS-1123 subdomain)? */
bool mapping_volume_id_valid(const char *id);
/* Is id shaped like one of our snapshot ids? */
bool mapping_snapshot_id_valid(const char *id);

/* Parse an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (fraction allowed) to
 * seconds since the epoch; -EINVAL if malformed. */
int mapping_time_parse(const char *text, int64_t *ret_seconds);

#endif
