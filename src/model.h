/*
 * model.h — the provisioning model: Kubernetes-shaped objects (claims, and
 * later volumes, classes, stateful sets) mapped onto store volumes.
 *
 * The model validates and renders JSON (jansson); it calls store_* for state
 * and never touches inodes or FUSE. HTTP handlers (api.c) call the model.
 */
#ifndef CLAIMFS_MODEL_H
#define CLAIMFS_MODEL_H

struct store;
struct model;

int model_open(struct store *store, struct model **ret_model);
void model_close(struct model *model);

/* The rest of the model API is declared below by the API module's owner. */

/* ---- claims (PersistentVolumeClaims) --------------------------------------
 *
 * Every call returns 0 or a negative errno and, on failure, fills *err with
 * what the API needs for a Kubernetes Status:
 *   -EBADMSG  the request cannot be decoded (400 BadRequest), err->message
 *   -EINVAL   the request breaks a rule (422 Invalid), err->fields
 *   -EEXIST   the name is taken (409 AlreadyExists), err->resource/name
 *   -ENOENT   no such object (404 NotFound), err->resource/name
 *   other     store failure (500), err->message may say more
 * Successful calls hand over a new JSON reference in *ret_*. Safe to call
 * from several threads at once: the model keeps no mutable state of its own
 * and every change is one store batch.
 */
#include <jansson.h>

#include "names.h"

struct model_error {
	const char *kind;     /* "PersistentVolumeClaim" (details.kind of a 422) */
	const char *resource; /* "persistentvolumeclaims" (details.kind of a 404/409) */
	char name[NAMES_SUBDOMAIN_MAX + 1];
	char message[1024]; /* empty: the API derives it from the errno */
	struct names_field_errors fields;
};

/* Reset err to "nothing known". */
void model_error_init(struct model_error *err);

/* Provision: validate the request body (already decoded), create the volume,
 * bind it as <namespace>/<name>, store the claim and its PersistentVolume in
 * one batch and commit durably. *ret_claim: the bound claim. */
int model_claim_create(struct model *model, const char *namespace_name, const json_t *body,
		       json_t **ret_claim, struct model_error *err);
int model_claim_get(struct model *model, const char *namespace_name, const char *name,
		    json_t **ret_claim, struct model_error *err);
/* namespace_name NULL: every namespace. A PersistentVolumeClaimList ordered
 * by namespace, then name. */
int model_claim_list(struct model *model, const char *namespace_name, json_t **ret_list,
		     struct model_error *err);
/* Delete the claim, its PersistentVolume and the volume's data (reclaim
 * policy Delete) in one batch, committed durably. *ret_claim: the claim as
 * it was, with metadata.deletionTimestamp set (what the API server answers). */
int model_claim_delete(struct model *model, const char *namespace_name, const char *name,
		       json_t **ret_claim, struct model_error *err);

#endif
