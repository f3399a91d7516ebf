/*
 * daemon_client.h — claimfs-csi's only way to change claimfsd: its HTTP API
 * (house rule 1: the shim never touches the store). Each function is one
 * request; JSON answers are returned as jansson values the caller releases.
 *
 * Errors are negative errno, one mapping from HTTP status in daemon_client.c:
 *   404 -ENOENT, 409 -EEXIST, 400/413/415/422 -EINVAL, 405 -EOPNOTSUPP
 *   (route or method not there yet), 401/403 -EACCES, 503 -EAGAIN,
 *   507 -ENOSPC, other -EIO; transport failures keep their errno
 *   (-ECONNREFUSED, -ENOENT of a missing unix socket is reported as
 *   -ECONNREFUSED so it cannot be mistaken for a missing object, -ETIMEDOUT).
 * The Status message claimfsd sent (or a transport description) is copied
 * into err so handlers can pass it on to the CO.
 *
 * Thread safety: a struct daemon_client is read-only after daemon_client_init.
 */
#ifndef CLAIMFS_CSI_DAEMON_CLIENT_H
#define CLAIMFS_CSI_DAEMON_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "http_client.h"

#define DAEMON_CLIENT_SNAPSHOT_API "/apis/snapshot.storage.k8s.io/v1"

struct daemon_client {
	struct http_endpoint endpoint;
};

struct daemon_client_error {
	unsigned http_status; /* 0 when the request never got an answer */
	bool transport;       /* claimfsd unreachable / answer unreadable */
	char message[512];
};

/* Set up from an API URL and an optional bearer token file (NULL: none).
 * -EINVAL bad URL; file errors as -errno. msg says what was wrong. */
int daemon_client_init(struct daemon_client *client, const char *url, const char *token_file,
		       char *msg, size_t msg_size);

/* 1 if /readyz answers 200, 0 if it answers anything else, or a negative
 * errno (with err) when claimfsd cannot be reached. */
int daemon_client_ready(const struct daemon_client *client, struct daemon_client_error *err);

int daemon_client_claim_get(const struct daemon_client *client, const char *ns, const char *name,
			    json_t **ret_claim, struct daemon_client_error *err);
int daemon_client_claim_create(const struct daemon_client *client, const char *ns, json_t *claim,
			       json_t **ret_claim, struct daemon_client_error *err);
int daemon_client_claim_delete(const struct daemon_client *client, const char *ns, const char *name,
			       struct daemon_client_error *err);
/* Every claim of every namespace: the list's "items" array (a new reference). */
int daemon_client_claim_list(const struct daemon_client *client, json_t **ret_items,
			     struct daemon_client_error *err);
/* Raise spec.resources.requests.storage to bytes (merge patch). */
int daemon_client_claim_expand(const struct daemon_client *client, const char *ns, const char *name,
			       uint64_t bytes, json_t **ret_claim, struct daemon_client_error *err);
/* Set (value) or remove (value NULL) one annotation of a claim (merge
 * patch), only if the claim is still at resource_version (NULL: any):
 * -EEXIST (409 Conflict) when it changed since. */
int daemon_client_claim_annotate(const struct daemon_client *client, const char *ns,
				 const char *name, const char *resource_version, const char *key,
				 const char *value, json_t **ret_claim,
				 struct daemon_client_error *err);
/* Set several annotations of a claim in one merge patch; takes the
 * reference to annotations. */
int daemon_client_claim_patch_annotations(const struct daemon_client *client, const char *ns,
					  const char *name, json_t *annotations,
					  json_t **ret_claim, struct daemon_client_error *err);
/* DELETE /api/v1/persistentvolumes/{name}. */
int daemon_client_volume_delete(const struct daemon_client *client, const char *name,
				struct daemon_client_error *err);

int daemon_client_snapshot_get(const struct daemon_client *client, const char *ns, const char *name,
			       json_t **ret_snapshot, struct daemon_client_error *err);
int daemon_client_snapshot_create(const struct daemon_client *client, const char *ns,
				  json_t *snapshot, json_t **ret_snapshot,
				  struct daemon_client_error *err);
int daemon_client_snapshot_delete(const struct daemon_client *client, const char *ns,
				  const char *name, struct daemon_client_error *err);
/* The snapshots of one namespace, or of all namespaces when ns is NULL:
 * the list's "items" array (a new reference). */
int daemon_client_snapshot_list(const struct daemon_client *client, const char *ns,
				json_t **ret_items, struct daemon_client_error *err);

#endif
