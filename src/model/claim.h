/*
 * claim.h — PersistentVolumeClaims as C structs and as Kubernetes JSON.
 *
 * Pure mapping, no store and no clock: requests are parsed and validated
 * into a struct claim the way the API server's decoder and validation do;
 * claim_bind() fills in what the provisioner adds; claim_to_json() renders
 * the object as `kubectl get pvc -o json` shows it once bound, and
 * claim_volume_to_json() the PersistentVolume bound to it.
 *
 * Stored objects are claim_to_json() output without metadata.resourceVersion
 * (the store keeps the version); claim_from_stored() reads them back so that
 * claim_to_json(claim_from_stored(x)) == x.
 */
#ifndef CLAIMFS_CLAIM_H
#define CLAIMFS_CLAIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "quantity.h"

#define CLAIM_KIND "PersistentVolumeClaim"
#define CLAIM_LIST_KIND "PersistentVolumeClaimList"
#define CLAIM_RESOURCE "persistentvolumeclaims"
#define CLAIM_VOLUME_KIND "PersistentVolume"
#define CLAIM_VOLUME_RESOURCE "persistentvolumes"
#define CLAIM_DEFAULT_STORAGE_CLASS "claimfs"
/* The provisioner (and, later, CSI driver) name claims are annotated with. */
#define CLAIM_PROVISIONER "claimfs.csi.claimfs.io"
#define CLAIM_PROTECTION_FINALIZER "kubernetes.io/pvc-protection"
#define CLAIM_VOLUME_PROTECTION_FINALIZER "kubernetes.io/pv-protection"
#define CLAIM_SNAPSHOT_KIND "VolumeSnapshot"
#define CLAIM_SNAPSHOT_GROUP "snapshot.storage.k8s.io"

#define CLAIM_UID_MAX 36 /* textual UUID */
/* generateName + 5 random characters, as the API server does it. */
#define CLAIM_GENERATE_SUFFIX_LEN 5
#define CLAIM_GENERATE_PREFIX_MAX (NAMES_LABEL_MAX - CLAIM_GENERATE_SUFFIX_LEN)

enum claim_access_mode {
	CLAIM_READ_WRITE_ONCE = 1 << 0,
	CLAIM_READ_ONLY_MANY = 1 << 1,
	CLAIM_READ_WRITE_MANY = 1 << 2,
	CLAIM_READ_WRITE_ONCE_POD = 1 << 3,
};

enum claim_phase { CLAIM_PENDING = 0, CLAIM_BOUND, CLAIM_LOST };

struct claim {
	char namespace_name[NAMES_LABEL_MAX + 1];
	char name[NAMES_SUBDOMAIN_MAX + 1];
	char generate_name[NAMES_SUBDOMAIN_MAX + 1]; /* as requested, may be empty */
	char uid[CLAIM_UID_MAX + 1];                 /* empty until bound */
	int64_t resource_version;                    /* 0: not stored */
	int64_t creation_time;                       /* seconds since the epoch, UTC */
	json_t *labels;      /* object of strings, or NULL; owned */
	json_t *annotations; /* object of strings, or NULL; owned */
	json_t *finalizers;  /* array of strings, or NULL; owned */
	json_t *owner_references; /* array of objects, or NULL; owned */
	unsigned access_modes; /* enum claim_access_mode bits */
	uint64_t storage;      /* requested bytes */
	enum quantity_format storage_format;
	bool class_set; /* false: no storageClassName (the default class fills it in) */
	char storage_class[NAMES_SUBDOMAIN_MAX + 1];
	char volume_name[NAMES_SUBDOMAIN_MAX + 1];
	json_t *selector;        /* LabelSelector object, or NULL; owned */
	json_t *data_source;     /* {apiGroup?, kind, name}, or NULL; owned */
	json_t *data_source_ref; /* as requested, or NULL; owned */
	/* spec.volumeAttributesClassName: set when present ("" names no class). */
	bool attributes_class_set;
	char attributes_class[NAMES_SUBDOMAIN_MAX + 1];
	/* status */
	enum claim_phase phase;
	uint64_t capacity;
	unsigned status_access_modes;
	/* status.currentVolumeAttributesClassName: the class whose parameters
	 * the volume has; status.modifyVolumeStatus: a change to modify_target
	 * not applied yet (modify_status "Pending" or "Infeasible"; "": none). */
	bool current_attributes_class_set;
	char current_attributes_class[NAMES_SUBDOMAIN_MAX + 1];
	char modify_target[NAMES_SUBDOMAIN_MAX + 1];
	char modify_status[16];
};

/* Zero a claim (no allocations). */
void claim_init(struct claim *c);
/* Copy text into a fixed field of size bytes; false (dst untouched) if it
 * does not fit. */
bool claim_copy_text(char *dst, size_t size, const char *text);
/* The bit of an access mode's API spelling ("ReadWriteOnce"); 0 if unknown. */
unsigned claim_access_mode_bit(const char *name);
/* Free what a claim owns and zero it. Accepts NULL. */
void claim_release(struct claim *c);

/* Parse and validate a create request posted to namespace_name.
 * random_suffix: CLAIM_GENERATE_SUFFIX_LEN characters used when the request
 * only has metadata.generateName. Returns 0; -EBADMSG (HTTP 400) with a
 * message in bad_request; or -EINVAL (HTTP 422) with errs filled. On success
 * *ret_claim owns its JSON members; on failure it is left released. */
int claim_from_request(const json_t *body, const char *namespace_name, const char *random_suffix,
		       struct claim *ret_claim, char *bad_request, size_t bad_request_size,
		       struct names_field_errors *errs);

/* Parse the full object of an update (PUT, or a patch already applied):
 * like claim_from_request, but metadata.resourceVersion, uid and the rest
 * the server set are allowed (the caller compares them with the stored claim). */
int claim_from_update(const json_t *body, const char *namespace_name, struct claim *ret_claim,
		      char *bad_request, size_t bad_request_size, struct names_field_errors *errs);

/* What admission adds to a new claim: uid, creation time, the
 * pvc-protection finalizer. The claim is Pending until claim_set_bound. */
int claim_admit(struct claim *c, const char *uid, int64_t now);
/* Bind to volume_name with that capacity and those access modes: binding
 * annotations (provisioned: also the storage-provisioner ones), phase Bound. */
int claim_set_bound(struct claim *c, const char *volume_name, uint64_t capacity,
		    unsigned access_modes, bool provisioned);
/* claim_admit, then claim_set_bound to a new volume "pvc-<uid>" with the
 * requested size and modes (dynamic provisioning). */
int claim_bind(struct claim *c, const char *uid, int64_t now);

/* Access mode bits <-> JSON array of names (unknown names are ignored). */
json_t *claim_access_modes_to_json(unsigned bits);
unsigned claim_access_modes_from_json(const json_t *array);
/* "RWO,ROX" as kubectl prints access modes. */
void claim_access_modes_short(unsigned bits, char *buf, size_t size);

/* Read back a stored object (trusted, but checked: -EINVAL if it is not one). */
int claim_from_stored(const json_t *obj, struct claim *ret_claim);

/* The claim as the API shows it (resourceVersion included when non-zero).
 * NULL if out of memory. */
json_t *claim_to_json(const struct claim *c);
/* Make obj's status carry exactly c's attribute-class members (the current
 * class, modifyVolumeStatus): a status kept from the stored object must not
 * bring back a modification that has finished. */
int claim_attributes_status_put(const struct claim *c, json_t *obj);
/* The PersistentVolume dynamically provisioned for a bound claim, with its
 * own uid and the reclaim policy of the claim's class ("Delete"/"Retain"). */
json_t *claim_volume_to_json(const struct claim *c, const char *volume_uid,
			     const char *reclaim_policy);

/* The read-only rule of the store volume: every requested mode is read-only. */
bool claim_is_read_only(const struct claim *c);

/* "2026-11-21T10:00:00Z" <-> seconds; format returns -ERANGE if buf is too small. */
int claim_format_time(int64_t seconds, char *buf, size_t size);
int claim_parse_time(const char *text, int64_t *ret_seconds);

#endif
