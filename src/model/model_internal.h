/*
 * model_internal.h — what the model's files share: the model itself, write
 * transactions, stored-object helpers, the event hub, and each kind's
 * operations. Not for use outside src/model*.c.
 *
 * Files call only downwards, in this order (a file may call any file below
 * it, none above):
 *
 *   model_kinds.c         model_open/model_close; the table of kinds and
 *                         their operations: the one file naming every kind
 *   model_ops.c           generic create/get/list/replace/patch/delete,
 *                         through the table (model->kinds)
 *   model_watch.c         opening a watch: its initial state, under write_lock;
 *                         the Timeout of one that waited for a version in vain
 *   model_metrics.c       /metrics, from the store
 *   model_backup.c        GET /backup: the store's online backup, passed through
 *   model_tar_snapshot.c  a VolumeSnapshot's tar export: its content volume
 *                         bound read-only on the mount while exports run
 *   model_tar.c           a claim's tar export and import, through the mount
 *   model_namespace.c     Namespaces: implicit creation, admission (no new
 *                         content while Terminating), deletion of content
 *   model_stateful_set.c  StatefulSets: make and delete their claims
 *   model_controller_revision.c  ControllerRevisions: the history of each
 *                         set's template (rollout history), kept by the set
 *   model_claim.c         PersistentVolumeClaims: admission, binding (looks
 *                         up classes), updates, reclaim
 *   model_claim_provision.c  a claim's new volume (empty or a clone) and
 *                         its PV; growing a bound claim's volume
 *   model_claim_attrs.c   a claim's mutable attributes: annotations and its
 *                         VolumeAttributesClass applied to its volume
 *   model_claim_report.c  what the controllers report about a claim (Events)
 *   model_capacity.c      the capacity policy: may a claim be provisioned or
 *                         grown now; retrying those waiting for space
 *   model_storage_class.c  model_volume.c (PersistentVolumes)
 *   model_attributes_class.c  (VolumeAttributesClasses)
 *   model_snapshot.c      (VolumeSnapshots)
 *   model_event.c         Events (both groups), recorded by the kinds above
 *                         in their own transactions; expiry
 *   model.c               the core: kinds' names, errors, transactions,
 *                         stored objects, common metadata rules, patches
 *   model_hub.c           the event hub: history and watch queues
 *   model_json.c          dotted paths, timestamps, uids
 *   claim_request.c       claim requests decoded and validated
 *   claim.c               struct claim <-> JSON, binding, stored claims
 *   event.c               core/v1 Event <-> events.k8s.io/v1 Event
 *
 * The one way up is a kind's reconcile hook: a class, volume or snapshot
 * that appears calls model_reconcile (core), which runs the hooks of the
 * table model_kinds.c handed to the core (claims bind), as a callback.
 *
 * Write path (every change of any kind):
 *   model_txn_begin    takes model->write_lock, opens a store batch;
 *   kind operations    read and write objects and volumes through the
 *                      model_obj_* / store_volume_* calls, queueing one
 *                      watch event per object written (model_txn_event);
 *   model_txn_end      ends the batch (rolled back on error or dry run),
 *                      publishes the queued events in resourceVersion
 *                      order, drops the lock, and commits durably.
 * Because every writer holds write_lock from its first read to its
 * publish, events reach watchers in exactly the order of their versions
 * and a read-check-write (resourceVersion preconditions, binding) is atomic.
 */
#ifndef CLAIMFS_MODEL_INTERNAL_H
#define CLAIMFS_MODEL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "volume_attrs.h"

struct model_event_sweeper;
struct model_hub;
struct model_kind_ops;
struct selector;
struct store;

/* The capacity policy's state (model_capacity.c). */
struct model_capacity {
	double overcommit; /* promised may reach overcommit x takeable; >= 1, set before serving */
	/* The smallest request refused for lack of space since the last pass
	 * over the waiting claims (0: none waits): the tick retries once that
	 * much fits. Written under write_lock, read by the tick without it. */
	atomic_uint_fast64_t provision_wait;
	atomic_uint_fast64_t resize_wait; /* the same for expansions of bound claims */
	int64_t next_check_ms;            /* the tick's next look (the timer thread only) */
};

struct model {
	struct store *store;         /* not owned */
	/* Each kind's rules, indexed by enum model_kind (model_kinds.c). */
	const struct model_kind_ops *const *kinds;
	pthread_mutex_t write_lock;  /* serialises every change (see above) */
	struct model_hub *hub;       /* watch events; has its own lock */
	struct model_event_sweeper *sweeper; /* model_events_expire's thread, or NULL */
	struct model_capacity capacity;
	char *mountpoint;            /* model_set_mountpoint's, or NULL */
	/* A VolumeAttributesClass was created: the next claim reconcile looks
	 * at the bound claims whose modification waited for a class. */
	atomic_bool attributes_class_added;
	/* No VolumeAttributesClass is held Terminating by its use: claim and
	 * PV changes need not look (model_attributes_class_release). */
	atomic_bool attributes_class_settled;
};

/* One write transaction. */
struct model_txn {
	struct model *model;
	bool dry_run;
	int64_t now;   /* seconds since the epoch, for timestamps */
	json_t *events; /* queued: [{"type", "kind" (int), "object", "old"}] */
	json_t *logs;   /* queued info lines: said only once the change is committed */
};

/* The core of a model over store, with kinds' rules (a table that outlives
 * it); no kind's objects are created here (see model_open). */
int model_core_open(struct store *store, const struct model_kind_ops *const kinds[MODEL_KIND_COUNT],
		    struct model **ret_model);
void model_core_close(struct model *model);

int model_txn_begin(struct model *model, bool dry_run, struct model_txn *t);
/* model_txn_begin for a write request on the object (kind, name): resets err
 * to name that object; a dry run if opts say so. */
int model_write_begin(struct model *model, enum model_kind kind, const char *name,
		      const struct model_write_options *opts, struct model_txn *t,
		      struct model_error *err);
/* End with the result r of the work: commit and publish when r == 0. */
int model_txn_end(struct model_txn *t, int r, struct model_error *err);
/* Queue a watch event; object and old (may be NULL) are copied. */
int model_txn_event(struct model_txn *t, const char *type, enum model_kind kind,
		    const json_t *object, const json_t *old);
/* Queue an info-level line saying what t did ("provisioned ..."): it is
 * logged at commit, never for a dry run or a change that is rolled back. */
/* model_claim_attrs.c: a claim's mutable volume attributes (CSI MODIFY_VOLUME),
 * from its annotations and its VolumeAttributesClass, validated (-EINVAL
 * with a field error) and applied to its store volume once it is bound; the
 * claim's status.currentVolumeAttributesClassName and modifyVolumeStatus
 * say how far a class change got. */
#define MODEL_ANNOTATION_INODE_LIMIT VOLUME_ATTRS_ANNOTATION_INODE_LIMIT
#define MODEL_ANNOTATION_IO_CLASS VOLUME_ATTRS_ANNOTATION_IO_CLASS
struct claim;
int model_claim_attributes(struct model_txn *t, struct claim *c, struct model_error *err);
/* A claim bound now has the VolumeAttributesClass it names, if any, as its
 * current class: the PV it binds carries the same, a volume provisioned for
 * it is made with it (model_claim_attributes applies its parameters). */
void model_claim_attributes_take(struct claim *c);
/* The claim reconcile's pass after a new class (model_obj_cb collecting
 * into the json array ud): the bound claims whose change waits for a
 * class, and the step that applies it now. */
int model_claim_attributes_waiting(void *ud, json_t *obj);
int model_claim_attributes_retry(struct model_txn *t, struct claim *c);
/* A clone or restore c whose new volume got inode_limit and io_class (the
 * store's) from its source: record them as c's annotations for the keys
 * c's own annotations and class leave out (see model_claim_attrs.c). */
int model_claim_attributes_inherit(struct model_txn *t, struct claim *c, uint64_t inode_limit,
				   int io_class);
/* Take req's spec.volumeAttributesClassName into res (an update) by the
 * apiserver's rules: it changes only on a bound claim, never to "", and to
 * nothing (nil) only while no class has been applied. -EINVAL with a field
 * error otherwise. */
int model_claim_attributes_merge(struct claim *res, const struct claim *req,
				 struct model_error *err);
/* May claim c (Pending) be provisioned with the class it names? 0: yes (or
 * it names none); 1: it waits for the class, or the class is unusable
 * (reported as the provisioner does); negative errno. */
int model_claim_attributes_provisionable(struct model_txn *t, const struct claim *c);

/* model_attributes_class.c: what the VolumeAttributesClass name means for a
 * claimfs volume. -ENOENT: no such class; -EINVAL: not claimfs's, or a
 * parameter claimfs does not take (why says which); *ret_attrs untouched
 * on failure. */
struct volume_attrs;
int model_attributes_class_resolve(struct model *model, const char *name,
				   struct volume_attrs *ret_attrs, char *why, size_t why_size);
/* After a claim or PV stopped naming a class (changed or deleted): each
 * Terminating class nothing names now loses kubernetes.io/vac-protection
 * and goes, in t, as kube-controller-manager's vac-protection controller
 * lets it. Cheap while no class is held (model->attributes_class_settled). */
int model_attributes_class_release(struct model_txn *t);

int model_txn_log(struct model_txn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* model_tar.c: stream a pax tar of the directory root (on the daemon's own
 * mount) from a thread into a pipe whose read end is *ret_fd. done (may be
 * NULL) runs on that thread once the stream has ended, with 0 or the
 * failure; it does not run when this returns an error. */
typedef void (*model_tar_done_cb)(void *ud, int r);
int model_tar_export_dir(const char *root, model_tar_done_cb done, void *done_ud, int *ret_fd,
			 struct model_error *err);
/* model_tar_snapshot.c: unbind the content volumes a daemon that died left
 * bound for a snapshot export (model_open); wait for running snapshot
 * exports to let their volumes go (model_close). */
int model_tar_snapshot_recover(struct model *model);
void model_tar_snapshot_quiesce(struct model *model);
/* Run every kind's reconcile hook inside t: what a kind calls after a change
 * that may let objects of other kinds progress (a class, volume or snapshot
 * a Pending claim waits for). */
int model_reconcile(struct model_txn *t);

/* ---- stored objects --------------------------------------------------------- */

/* The store's kind string of a model kind. */
const char *model_store_kind(enum model_kind kind);
/* Read one object with metadata.resourceVersion filled in. -ENOENT if absent. */
int model_obj_get(struct model *model, enum model_kind kind, const char *ns, const char *name,
		  json_t **ret_obj);
/* Write obj (its resourceVersion is replaced by the new one). create: must
 * not exist (-EEXIST); otherwise expected_version > 0 must match (-ESTALE).
 * Queues ADDED or MODIFIED (old: the previous state, for selector moves). */
int model_obj_put(struct model_txn *t, enum model_kind kind, json_t *obj, bool create,
		  int64_t expected_version, const json_t *old);
/* Write obj as the new state of old, unless nothing changed (then obj
 * gets old's version and nothing is written or published). */
int model_obj_update(struct model_txn *t, enum model_kind kind, const json_t *old, json_t *obj);
/* Delete obj; queues DELETED with the deletion's version. */
int model_obj_delete(struct model_txn *t, enum model_kind kind, json_t *obj);
/* The remove of a kind with no rules of its own on deletion: delete old;
 * *ret_obj the object as it was (with the deletion's version). */
int model_obj_remove(struct model_txn *t, enum model_kind kind, const json_t *old,
		     json_t **ret_obj);
typedef int (*model_obj_cb)(void *ud, json_t *obj);
/* Each object of kind (ns NULL: all) with its resourceVersion; obj is borrowed. */
int model_obj_list(struct model *model, enum model_kind kind, const char *ns, model_obj_cb cb,
		   void *ud);
/* Objects of kind (every namespace) whose status.phase is phase; indexed, so
 * binding searches do not read every object. */
int model_obj_list_phase(struct model *model, enum model_kind kind, const char *phase,
			 model_obj_cb cb, void *ud);
/* metadata.resourceVersion as a number (0 if absent or malformed). */
int64_t model_obj_version(const json_t *obj);

/* ---- small JSON helpers (model_json.c) ---------------------------------------------- */

/* Set a member at a dotted path, creating objects on the way (value consumed). */
int model_path_set(json_t *obj, const char *path, json_t *value);
/* "2026-11-21T10:00:00Z" of now. */
void model_timestamp(int64_t now, char buf[32]);
/* New random UUID text. */
void model_new_uid(char uid[37]);
/* Five random characters for generateName. */
void model_random_suffix(char suffix[6]);
/* The apiServer's rule for top-level members that never change (a class's
 * parameters): -EINVAL with one Forbidden cause per member obj changes. */
int model_check_immutable(const json_t *old, const json_t *obj, const char *const *fields,
			  size_t count, struct model_error *err);
/* Check apiVersion/kind of a body against kind (absent is fine): -EBADMSG. */
int model_check_type(enum model_kind kind, const json_t *body, struct model_error *err);
/* Common metadata of a create: name or generateName (filled in), namespace
 * check, no resourceVersion, string maps. Returns the new object's name via
 * the body copy (*ret_obj: deep copy with name/namespace/uid/time set). */
int model_new_metadata(struct model_txn *t, enum model_kind kind, const char *ns,
		       const json_t *body, json_t **ret_obj, struct model_error *err);
/* Common metadata of an update: take labels/annotations/finalizers/
 * ownerReferences from body, keep the rest of old's metadata. -ESTALE on a
 * resourceVersion mismatch, -EBADMSG on a name/namespace mismatch. */
int model_update_metadata(enum model_kind kind, const json_t *old, const json_t *body,
			  json_t *new_obj, struct model_error *err);

/* The object an update of a kind without spec/status split makes of old:
 * body, with old's metadata kept as model_update_metadata does and the
 * kind's apiVersion and kind. The kind then checks and writes it. */
int model_update_body(enum model_kind kind, const json_t *old, const json_t *body,
		      json_t **ret_obj, struct model_error *err);

/* Keep in obj's status the members of old's status that obj's lacks: what
 * a status write put there survives a kind recomputing its own members. */
int model_status_keep(const json_t *old, json_t *obj);

/* The new full object that patch (of type) makes of old. */
int model_apply_patch(enum model_kind kind, const json_t *old, enum model_patch_type type,
		      const json_t *patch, json_t **ret_body, struct model_error *err);

/* ---- kinds -------------------------------------------------------------------------- */

struct model_kind_ops {
	/* Validate and create; *ret_obj: the stored object (with version). */
	int (*create)(struct model_txn *t, const char *ns, const json_t *body, json_t **ret_obj,
		      struct model_error *err);
	/* old: stored object; body: the requested full object. */
	int (*update)(struct model_txn *t, const json_t *old, const json_t *body, json_t **ret_obj,
		      struct model_error *err);
	/* Delete old (stored); *ret_obj: what DELETE answers. */
	int (*remove)(struct model_txn *t, json_t *old, json_t **ret_obj, struct model_error *err);
	/* After a change of any kind (model_reconcile): move this kind's
	 * objects on where they can now (bind Pending claims). NULL: nothing. */
	int (*reconcile)(struct model_txn *t);
	/* The members of status this kind's controller decides (NULL-ended): a
	 * write to the status subresource cannot change them. */
	const char *const *status_owned;
	/* An update (PUT) of a missing object creates it (the apiserver's
	 * AllowCreateOnUpdate: true for Events only). */
	bool create_on_update;
};

/* Each kind's operations, for model_kinds.c's table only. */
extern const struct model_kind_ops model_claim_ops, model_volume_ops, model_storage_class_ops,
	model_stateful_set_ops, model_snapshot_ops, model_namespace_ops, model_event_ops,
	model_event_v1_ops, model_controller_revision_ops, model_attributes_class_ops;

/* What ControllerRevisions offer StatefulSets (model_controller_revision.c). */

/* Record set's template (hash: the one its status names revisions by) as
 * its newest revision and prune its history to spec.revisionHistoryLimit. */
int model_controller_revision_sync(struct model_txn *t, const json_t *set, const char *hash,
				   struct model_error *err);
/* Delete every revision set controls (it is being deleted). */
int model_controller_revision_delete_owned(struct model_txn *t, const json_t *set);

/* What one kind's file offers to the kinds above it (see the order at the
 * top): claims to StatefulSets, classes to claims and model_kinds.c. */

/* Create the claim a StatefulSet template asks for unless it exists
 * (body: a full claim manifest); *ret_created: the new claim, or NULL when
 * it existed. */
int model_claim_ensure(struct model_txn *t, const char *ns, const json_t *body,
		       json_t **ret_created, struct model_error *err);
/* Delete a claim by name if it exists (StatefulSet retention). */
int model_claim_delete_if_exists(struct model_txn *t, const char *ns, const char *name,
				 struct model_error *err);

/* ---- a claim's volume made or grown (model_claim_provision.c; model_claim.c only) ---- */

struct claim;
/* Bytes of a {"storage": quantity} member of obj at path, or 0. */
uint64_t model_claim_bytes(const json_t *obj, const char *path);
/* The claim's StorageClass name ("" if none). */
const char *model_claim_class(const struct claim *c);
/* Dynamic provisioning of the Pending claim c in class: a new empty volume,
 * bound. 0 also when it must wait for space (then reported, c stays
 * Pending). */
int model_claim_provision(struct model_txn *t, struct claim *c, const json_t *class);
/* The same from c's dataSource: a point-in-time copy of the source volume;
 * 0 while the source is missing or not ready. err != NULL (the create
 * request): a size below the source is a 422 (-EINVAL). */
int model_claim_clone(struct model_txn *t, struct claim *c, const json_t *class,
		      struct model_error *err);
/* Grow bound claim c's volume and PV to its request (c->storage) when the
 * capacity policy lets the extra bytes in; otherwise the resize waits for
 * space (reported; model_claim.c's reconcile retries it). */
int model_claim_grow(struct model_txn *t, struct claim *c);

/* ---- what is reported about a claim (model_claim_report.c; model_claim.c only) ---- */

struct claim;
/* Record an event about claim c from component (see model_event_record). */
int model_claim_event(struct model_txn *t, const struct claim *c, const char *component,
		      const char *type, const char *reason, const char *message);
/* What the PV controller reports about a claim that stays Pending (class:
 * the claim's class or NULL; class_r: what looking it up returned). */
int model_claim_event_pending(struct model_txn *t, const struct claim *c, const json_t *class,
			      int class_r);
/* The provisioner's ProvisioningSucceeded for c's new volume. */
int model_claim_provisioned_event(struct model_txn *t, const struct claim *c, const char *volume);
/* The external resizer's Resizing and VolumeResizeSuccessful. */
int model_claim_expand_events(struct model_txn *t, const struct claim *c);
/* The capacity policy keeps c Pending: logged and ProvisioningFailed. */
int model_claim_provisioning_failed(struct model_txn *t, const struct claim *c,
				    const char *message);
/* The capacity policy keeps c's old capacity: logged and VolumeResizeFailed. */
int model_claim_resize_failed(struct model_txn *t, const struct claim *c, const char *message);
/* The class named name, or -ENOENT; the default class when name is NULL. */
int model_storage_class_find(struct model *model, const char *name, json_t **ret_class);
/* Create the default class on a store that never had classes. */
int model_storage_class_defaults(struct model *model);

/* Admission of a new object of kind in namespace ns (model_ops.c, for every
 * create: POST, a PUT or server-side apply that creates): -EPERM while ns is Terminating; a namespace never created is
 * created (Active), as claims may name any namespace. */
int model_namespace_admit(struct model_txn *t, enum model_kind kind, const char *ns,
			  const char *name, struct model_error *err);
/* Namespaces for "default" and every namespace objects already use (stores
 * from before namespaces were served). */
int model_namespace_defaults(struct model *model);

/* Record an Event about object (a stored object: apiVersion, kind,
 * metadata) inside t, as component's event recorder does: a repeat of the
 * same (object, component, type, reason, message) counts up the existing
 * event and moves its lastTimestamp. A dry run records nothing (t's store
 * batch is rolled back). type: "Normal" or "Warning". */
int model_event_record(struct model_txn *t, const json_t *object, const char *component,
		       const char *type, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* The components that report events (source.component). */
#define MODEL_EVENT_PV_CONTROLLER "persistentvolume-controller"
#define MODEL_EVENT_STS_CONTROLLER "statefulset-controller"
#define MODEL_EVENT_RESIZER "external-resizer claimfs.csi.claimfs.io"
/* Stop model_events_expire's thread (model_close). */
void model_events_stop(struct model *model);
/* ---- capacity policy (model_capacity.c) ------------------------------------------ */

/* Pure arithmetic of the policy: may `request` more bytes be promised when
 * `promised` are and the store can take `takeable`, at ratio overcommit? */
bool model_capacity_fits(uint64_t promised, uint64_t takeable, double overcommit,
			 uint64_t request);
/* 0 if `bytes` more may be promised now; -ENOSPC (the reason in message,
 * the request noted so that the tick retries once it fits; resize: an
 * expansion) otherwise; other errors from the store. */
int model_capacity_check(struct model_txn *t, uint64_t bytes, bool resize, char *message,
			 size_t size);
/* Start of a pass over the waiting claims (provisions or resizes): forget
 * the noted requests; those still refused note themselves again. */
void model_capacity_wait_reset(struct model *model, bool resize);
/* Whether a claim (resize: an expansion) waits for space. */
bool model_capacity_waiting(struct model *model, bool resize);

/* ---- event hub (model_hub.c) ------------------------------------------------------ */

int model_hub_open(int64_t floor, struct model_hub **ret_hub);
void model_hub_close(struct model_hub *hub);
/* Publish one event (object and old borrowed; the hub keeps copies). */
void model_hub_publish(struct model_hub *hub, enum model_kind kind, const char *type,
		       json_t *object, json_t *old, int64_t version);
/* A new watch of kind in namespace ns ("": every namespace; kept up to
 * NAMES_LABEL_MAX characters) with optional selectors (copied). It gets no
 * events before model_hub_watch_attach. */
int model_hub_watch_new(struct model_hub *hub, enum model_kind kind, const char *ns,
			const struct selector *labels, const struct selector *fields,
			struct model_watch **ret_watch);
/* Free a watch that was never attached (NULL is fine). */
void model_hub_watch_discard(struct model_watch *w);
/* A model_obj_cb (ud: the watch): queue ADDED for obj if it matches. */
int model_hub_watch_initial(void *ud, json_t *obj);
/* Queue the end of the initial events (sendInitialEvents' bookmark). */
int model_hub_watch_initial_end(struct model_watch *w);
/* Before attaching w: its start version is not published yet; it waits
 * for it until deadline_ns (metrics_now_ns clock), then fails. */
void model_hub_watch_await(struct model_watch *w, int64_t version, unsigned long long deadline_ns);
/* A watch's kind, the version it started from and the hub's newest version
 * (for model_watch_failure's message). */
void model_hub_watch_versions(struct model_watch *w, enum model_kind *ret_kind, int64_t *ret_start,
			      int64_t *ret_newest);
/* Start delivering events newer than start to w; replay: first those of the
 * history (-EKEYEXPIRED, with *ret_floor, when start is older than it). */
int model_hub_watch_attach(struct model_hub *hub, struct model_watch *w, int64_t start,
			   bool replay, int64_t *ret_floor);

#endif
