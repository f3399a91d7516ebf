/*
 * model.h — the provisioning model: Kubernetes-shaped objects mapped onto
 * store volumes. PersistentVolumeClaims, PersistentVolumes, StorageClasses,
 * StatefulSets (the storage half of their controller) and VolumeSnapshots.
 *
 * The model validates and renders JSON (jansson); it calls store_* for state
 * and never touches inodes or FUSE. HTTP handlers (api.c) call the model.
 *
 * Every call returns 0 or a negative errno and, on failure, fills *err with
 * what the API needs for a Kubernetes Status:
 *   -EPERM       refused by admission (403 Forbidden), err->message
 *   -EBADMSG     the request cannot be decoded (400 BadRequest), err->message
 *   -EINVAL      the request breaks a rule (422 Invalid), err->fields or message
 *   -EEXIST      the name is taken (409 AlreadyExists), err->resource/name
 *   -ESTALE      stale resourceVersion (409 Conflict)
 *   -ENOENT      no such object (404 NotFound), err->resource/name
 *   -EKEYEXPIRED a watch from a version older than the history (410 Expired)
 *   -ETIMEDOUT   a watch from a version the store did not reach in time
 *                (504 Timeout; model_watch_next, model_watch_failure)
 *   other        store failure (500), err->message may say more
 * Successful calls hand over a new JSON reference in *ret_*. Safe to call
 * from several threads at once: changes are serialised inside the model.
 */
#ifndef CLAIMFS_MODEL_H
#define CLAIMFS_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "names.h"

struct store;
struct model;
struct selector;

int model_open(struct store *store, struct model **ret_model);
void model_close(struct model *model);

struct model_error {
	const char *kind;     /* "PersistentVolumeClaim" (details.kind of a 422) */
	const char *resource; /* "persistentvolumeclaims" (details.kind of a 404/409) */
	char name[NAMES_SUBDOMAIN_MAX + 1];
	char message[1024]; /* empty: the API derives it from the errno */
	struct names_field_errors fields;
	/* Set: the apiserver's "the server rejected our request" failure, this
	 * its one cause (a JSON patch that does not apply says which op failed). */
	char cause[512];
};

/* Reset err to "nothing known". */
void model_error_init(struct model_error *err);

/* ---- kinds --------------------------------------------------------------------- */

enum model_kind {
	MODEL_PVC,
	MODEL_PV,
	MODEL_SC,
	MODEL_STS,
	MODEL_SNAPSHOT,
	MODEL_NS,        /* v1 Namespaces */
	MODEL_EVENT,     /* core/v1 Events */
	MODEL_EVENT_V1,  /* events.k8s.io/v1 Events: the same objects in that group's shape */
	MODEL_CONTROLLER_REVISION, /* apps/v1 ControllerRevisions: StatefulSets' history */
	MODEL_VAC,       /* storage.k8s.io/v1 VolumeAttributesClasses: claims' mutable attributes */
	MODEL_KIND_COUNT
};

struct model_kind_info {
	const char *kind;        /* "PersistentVolumeClaim" */
	const char *list_kind;   /* "PersistentVolumeClaimList" */
	const char *resource;    /* "persistentvolumeclaims" */
	const char *singular;    /* "persistentvolumeclaim" */
	const char *group;       /* "" for the core group */
	const char *version;     /* "v1" */
	const char *api_version; /* "v1", "apps/v1" */
	const char *short_name;  /* "pvc", or NULL */
	bool namespaced;
	bool status_subresource; /* <resource>/status is served (model_status_update) */
};

const struct model_kind_info *model_kind_info(enum model_kind kind);
/* The kind served at group/version/resource; -ENOENT if none. */
int model_kind_find(const char *group, const char *version, const char *resource,
		    enum model_kind *ret_kind);

/* Borrowed member at a dotted path of obj ("spec.volumeName"), or NULL. */
json_t *model_path(const json_t *obj, const char *path);
const char *model_path_string(const json_t *obj, const char *path);
/* Name a not-found / already-exists / conflict error after an object. */
void model_error_name(struct model_error *err, enum model_kind kind, const char *name);
/* Put a message in err->message; returns r. */
int model_fail(struct model_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- reads and writes ------------------------------------------------------------ */

/* The StorageClass a claim naming class name gets (NULL: the default
 * class, as admission picks it); -ENOENT when there is none. */
int model_storage_class_get(struct model *model, const char *name, json_t **ret_class,
			    struct model_error *err);

struct model_write_options {
	bool dry_run; /* validate and answer, change nothing (?dryRun=All) */
	/* PATCH: called with the object a patch produced, before the kind's
	 * rules see it; may change it (the API prunes unknown fields there) or
	 * fail the call. NULL: none. */
	int (*check_patched)(void *ud, json_t *obj, struct model_error *err);
	void *check_ud;
};

struct model_list_options {
	const struct selector *labels; /* NULL: everything */
	const struct selector *fields; /* NULL: everything */
};

enum model_patch_type {
	MODEL_PATCH_MERGE,     /* application/merge-patch+json */
	MODEL_PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
	MODEL_PATCH_JSON,      /* application/json-patch+json */
	MODEL_PATCH_APPLY,     /* application/apply-patch+yaml (server-side apply) */
};

/* The annotation every member of a group snapshot carries: the group's name. */
#define MODEL_SNAPSHOT_GROUP_ANNOTATION "snapshot.claimfs.io/volume-group-snapshot"
#define MODEL_SNAPSHOT_GROUP_MAX 64
/* Create the VolumeSnapshots items (a JSON array of bodies, all in ns and
 * annotated with the same group name) as one change whose copies are one
 * instant of all their claims. The created objects in *ret_items. */
int model_snapshot_group_create(struct model *model, const char *ns, const json_t *items,
				const struct model_write_options *opts, json_t **ret_items,
				struct model_error *err);

/* ns: the namespace for namespaced kinds, ignored (may be NULL) otherwise. */
int model_create(struct model *model, enum model_kind kind, const char *ns, const json_t *body,
		 const struct model_write_options *opts, json_t **ret_obj,
		 struct model_error *err);
int model_get(struct model *model, enum model_kind kind, const char *ns, const char *name,
	      json_t **ret_obj, struct model_error *err);
/* ns NULL: every namespace. A <Kind>List ordered by namespace, then name. */
int model_list(struct model *model, enum model_kind kind, const char *ns,
	       const struct model_list_options *opts, json_t **ret_list,
	       struct model_error *err);
/* PUT: body is the whole new object. Of a missing object of a kind whose
 * updates may create (Events, as the apiserver's AllowCreateOnUpdate), a
 * create through the namespace's admission (*ret_created true). */
int model_replace(struct model *model, enum model_kind kind, const char *ns, const char *name,
		  const json_t *body, const struct model_write_options *opts, json_t **ret_obj,
		  bool *ret_created, struct model_error *err);
/* PATCH. MODEL_PATCH_APPLY creates the object when it does not exist
 * (*ret_created true). */
int model_patch(struct model *model, enum model_kind kind, const char *ns, const char *name,
		enum model_patch_type type, const json_t *patch,
		const struct model_write_options *opts, json_t **ret_obj, bool *ret_created,
		struct model_error *err);
/* DELETE; preconditions: optional DeleteOptions.preconditions. *ret_obj:
 * the object as it was, with metadata.deletionTimestamp set. */
int model_delete(struct model *model, enum model_kind kind, const char *ns, const char *name,
		 const json_t *preconditions, const struct model_write_options *opts,
		 json_t **ret_obj, struct model_error *err);

/* PUT (type < 0) or PATCH of the status subresource: only .status changes
 * (spec and metadata changes in body are ignored, as the apiserver's status
 * strategies do), and of it only what the kind does not decide itself (a
 * claim's phase, capacity and access modes are the controller's). */
int model_status_update(struct model *model, enum model_kind kind, const char *ns,
			const char *name, int type, const json_t *body,
			const struct model_write_options *opts, json_t **ret_obj,
			struct model_error *err);

/* DELETE of a collection: every object of kind in ns (NULL: every
 * namespace) that passes filter, listed, then deleted one by one as
 * model_delete does (each with preconditions, in a transaction of its own),
 * as kube-apiserver does: the first failure is returned and the objects
 * deleted before it stay deleted. *ret_list: a <Kind>List of the objects
 * as they were listed. */
int model_delete_collection(struct model *model, enum model_kind kind, const char *ns,
			    const struct model_list_options *filter, const json_t *preconditions,
			    const struct model_write_options *opts, json_t **ret_list,
			    struct model_error *err);

/* The scale subresource of a StatefulSet (autoscaling/v1 Scale). */
int model_scale_get(struct model *model, const char *ns, const char *name, json_t **ret_scale,
		    struct model_error *err);
/* PUT (type < 0) or PATCH of the Scale; only spec.replicas changes. */
int model_scale_update(struct model *model, const char *ns, const char *name, int type,
		       const json_t *body, const struct model_write_options *opts,
		       json_t **ret_scale, struct model_error *err);

/* ---- watch ---------------------------------------------------------------------------- */

struct model_watch;

struct model_watch_options {
	const struct selector *labels;
	const struct selector *fields;
	/* "" or "0": start with ADDED for every current object; a version:
	 * replay what happened after it (-EKEYEXPIRED if no longer known). */
	const char *resource_version;
	bool send_initial_events; /* sendInitialEvents=true: ADDED for all, then a bookmark */
};

/* How a consumer that cannot block is told that events arrived. Both are
 * called with the hub's lock held: they must not call back into the model. */
struct model_watch_notify {
	void (*suspend)(void *ud); /* nothing to read: the consumer goes idle */
	void (*resume)(void *ud);  /* the consumer went idle and there is news */
	void *ud;
};

int model_watch_open(struct model *model, enum model_kind kind, const char *ns,
		     const struct model_watch_options *opts, struct model_watch **ret_watch,
		     struct model_error *err);
/* Take the next event: 0 with *ret_type ("ADDED", "MODIFIED", "DELETED",
 * "BOOKMARK") and a new reference in *ret_object; -EAGAIN if none (with
 * notify given: notify->suspend was called, notify->resume will follow);
 * -EPIPE if the consumer fell too far behind (the stream must end);
 * -ETIMEDOUT if the watch started from a version newer than the store's
 * and it did not appear within MODEL_WATCH_AWAIT_MS (the stream ends with
 * model_watch_failure's Status). */
int model_watch_next(struct model_watch *w, const char **ret_type, json_t **ret_object,
		     const struct model_watch_notify *notify);
/* How long a watch from a resourceVersion the store has not reached waits
 * for it, as kube-apiserver's watch cache does (3 s) before it answers
 * "Too large resource version". */
#define MODEL_WATCH_AWAIT_MS 3000
/* Whether w waits for its start version past its deadline at now_ns
 * (metrics_now_ns clock): its consumer must be woken to end it. */
bool model_watch_due(struct model_watch *w, unsigned long long now_ns);
/* The failure that ended w (model_watch_next's -ETIMEDOUT) into err:
 * -ETIMEDOUT with the apiserver's message. */
int model_watch_failure(struct model_watch *w, struct model_error *err);
/* Wake a suspended consumer once (timers, shutdown); harmless otherwise. */
void model_watch_kick(struct model_watch *w);
/* The newest resourceVersion the watch has seen or could report. */
int64_t model_watch_version(struct model_watch *w);
void model_watch_close(struct model_watch *w);

/* ---- events ---------------------------------------------------------------------------- */

/* Events expire ttl_s seconds after they were last recorded (the apiserver's
 * --event-ttl), and beyond MODEL_EVENT_MAX stored events the oldest go: a
 * thread of the model sweeps them in small transactions, so writers wait
 * for at most one of them. Call once after model_open; model_close stops it. */
#define MODEL_EVENT_MAX 4096
int model_events_expire(struct model *model, int64_t ttl_s);
/* One sweep now (what the thread does periodically); *ret_deleted: how many went. */
int model_events_sweep(struct model *model, int64_t now, unsigned *ret_deleted);
/* ---- capacity (README "Capacity") ---------------------------------------------------- */

/* Thin provisioning: the bytes promised to claims may reach ratio times
 * what the store can take (default 1). -EINVAL unless ratio >= 1. Set
 * before serving. */
int model_set_overcommit(struct model *model, double ratio);
/* The policy's figures now: bytes promised to bound claims, bytes the store
 * can still take, and the overcommit ratio (/metrics). */
int model_capacity_get(struct model *model, uint64_t *ret_promised, uint64_t *ret_takeable,
		       double *ret_overcommit);
/* Periodic work, from a timer thread (any period up to ~1 s): claims that
 * wait for space bind, and expansions that wait grow, once it is there.
 * Returns at once when nothing waits. */
void model_tick(struct model *model);

/* ---- backup ----------------------------------------------------------------------------- */

/* A consistent, checked copy of the whole store (README "Backup") as a
 * descriptor of an unlinked file (the caller closes it). -EUCLEAN: the
 * copy failed its check (err->message says how many problems). */
int model_backup(struct model *model, int *ret_fd, struct model_error *err);

/* ---- claim export and import (tar, README "Backup") ---------------------------------- */

/* Where the daemon's FUSE mount is (absolute): a claim's files are under
 * <mountpoint>/<namespace>/<claim>; export and import work through it. */
int model_set_mountpoint(struct model *model, const char *mountpoint);
/* A pax tar of the claim's files, streamed by a thread into the pipe whose
 * read end is *ret_fd (the caller reads and closes it). */
int model_claim_export(struct model *model, const char *ns, const char *name, int *ret_fd,
		       struct model_error *err);
/* Extract the tar in body (len bytes), or in the file at fd (>= 0: read
 * from its start; body is ignored), into the claim, which must exist and be
 * empty (-EEXIST otherwise). A refused or failed import leaves it empty. */
int model_claim_import(struct model *model, const char *ns, const char *name, const void *body,
		       size_t len, int fd, struct model_error *err);
/* A pax tar of the VolumeSnapshot ns/name's content (its files as they were
 * when it was taken), streamed as model_claim_export does. -ENOENT: no such
 * snapshot; -ESTALE: it is not ready to use (or being deleted). */
int model_snapshot_export(struct model *model, const char *ns, const char *name, int *ret_fd,
			  struct model_error *err);

/* ---- metrics ---------------------------------------------------------------------------- */

/* Per-volume and store figures in Prometheus text format, appended to *buf
 * (malloc'd, grown as needed). */
int model_metrics(struct model *model, char **buf, size_t *len, size_t *cap);

#endif
