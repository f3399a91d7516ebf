/*
 * model_tar_snapshot.c — export of one VolumeSnapshot's content as a tar
 * stream (README "Backup"), beside a claim's export.
 *
 * Owns: the binding that makes a snapshot's content reachable on the mount.
 * A snapshot's content is a store volume "snapcontent-<uid>" that is
 * normally unbound (model_snapshot.c), so it has no directory. For an
 * export it is bound, read-only, at <mount>/.snapshot-exports/<content>
 * (a namespace name no Kubernetes namespace can have: it starts with a
 * dot) and model_tar.c walks it through the mount as it walks a claim.
 *
 * Invariants:
 *   - A content volume is bound there exactly while at least one export of
 *     it runs: model_tar_bindings counts them; the first export binds
 *     (model_tar_snapshot_hold), the end of the last one unbinds
 *     (model_tar_snapshot_done, on the export thread).
 *   - It is read-only from its first export on (store_volume_update): the
 *     export sees the snapshot as it was taken, and nothing written through
 *     the mount can change a snapshot. Nothing else writes a content
 *     volume, and clones (restores) do not inherit the flag.
 *   - A daemon that dies mid-export leaves the binding in the store; the
 *     next model_open unbinds everything under .snapshot-exports
 *     (model_tar_snapshot_recover) before anything is served.
 *   - model_close waits (model_tar_snapshot_quiesce) until no export
 *     thread can touch the model; an export still running after the wait
 *     forgets its model and leaves its binding to the next start.
 *   - Lock order: model_tar_snapshot_lock -> model->write_lock. The
 *     registry lock is held across the bind/unbind transactions so that a
 *     hold and a done of one volume never interleave.
 */
#include "model_internal.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

/* The mount's directory of snapshots being exported (a store namespace
 * whose volumes --check expects no claim for). */
#define MODEL_TAR_SNAPSHOT_DIR STORE_EXPORT_NAMESPACE
/* How long model_close waits for running snapshot exports. */
#define MODEL_TAR_QUIESCE_S 10

/* One content volume bound for export. */
struct model_tar_binding {
	struct model *model; /* NULL once the model closed */
	char content[STORE_VOLUME_NAME_MAX + 1];
	unsigned exports; /* running exports of it, >= 1 while listed */
	struct model_tar_binding *next;
};

static pthread_mutex_t model_tar_snapshot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t model_tar_snapshot_idle = PTHREAD_COND_INITIALIZER;
/* Every binding of every model in the process, under model_tar_snapshot_lock. */
static struct model_tar_binding *model_tar_bindings;

/* The content volume of a snapshot that can be exported, into content. */
static int model_tar_snapshot_content(struct model *model, const char *ns, const char *name,
				      char content[STORE_VOLUME_NAME_MAX + 1],
				      struct model_error *err)
{
	json_t *snapshot = NULL;
	const char *volume;
	int r = model_get(model, MODEL_SNAPSHOT, ns, name, &snapshot, err);

	if (r < 0)
		return r;
	volume = model_path_string(snapshot, "status.boundVolumeSnapshotContentName");
	if (model_path(snapshot, "metadata.deletionTimestamp") != NULL)
		r = model_fail(err, -ESTALE, "the VolumeSnapshot %s/%s is being deleted", ns, name);
	else if (volume == NULL || !json_is_true(model_path(snapshot, "status.readyToUse")))
		r = model_fail(err, -ESTALE, "the VolumeSnapshot %s/%s is not ready to use yet",
			       ns, name);
	else if (snprintf(content, STORE_VOLUME_NAME_MAX + 1, "%s", volume) > STORE_VOLUME_NAME_MAX)
		r = model_fail(err, -EIO, "the VolumeSnapshot %s/%s names a bad content volume",
			       ns, name);
	json_decref(snapshot);
	return r;
}

/* Bind content read-only under MODEL_TAR_SNAPSHOT_DIR (model_tar_snapshot_lock held). */
static int model_tar_snapshot_bind(struct model *model, const char *content,
				   struct model_error *err)
{
	struct store_volume volume;
	struct model_txn t;
	int r = model_txn_begin(model, false, &t);

	if (r < 0)
		return r;
	r = store_volume_get(model->store, content, &volume);
	if (r == 0 && volume.bound_claim[0] != '\0')
		r = -EBUSY; /* model_tar_snapshot_recover unbinds what a dead daemon left */
	if (r == 0)
		r = store_volume_update(model->store, content, volume.capacity, true);
	if (r == 0)
		r = store_volume_bind(model->store, content, MODEL_TAR_SNAPSHOT_DIR, content);
	if (r == -ENOENT)
		r = model_fail(err, -ESTALE, "the snapshot's content %s is gone (being deleted)",
			       content);
	return model_txn_end(&t, r, err);
}

/* Unbind content if it is bound for export (model_tar_snapshot_lock held,
 * or the model not serving yet). A deleted snapshot took its volume along. */
static int model_tar_snapshot_unbind(struct model *model, const char *content)
{
	struct model_error err;
	struct store_volume volume;
	struct model_txn t;
	int r = model_txn_begin(model, false, &t);

	if (r < 0)
		return r;
	model_error_init(&err);
	r = store_volume_get(model->store, content, &volume);
	if (r == 0 && strcmp(volume.bound_namespace, MODEL_TAR_SNAPSHOT_DIR) == 0)
		r = store_volume_unbind(model->store, content);
	if (r == -ENOENT)
		r = 0;
	return model_txn_end(&t, r, &err);
}

/* Count one more export of content, binding it for the first. */
static int model_tar_snapshot_hold(struct model *model, const char *content,
				   struct model_tar_binding **ret_binding, struct model_error *err)
{
	struct model_tar_binding *b;
	int r = 0;

	for (b = model_tar_bindings; b != NULL; b = b->next)
		if (b->model == model && strcmp(b->content, content) == 0)
			break;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return -ENOMEM;
		b->model = model;
		snprintf(b->content, sizeof(b->content), "%s", content);
		r = model_tar_snapshot_bind(model, content, err);
		if (r < 0) {
			free(b);
			return r;
		}
		b->next = model_tar_bindings;
		model_tar_bindings = b;
	}
	b->exports++;
	*ret_binding = b;
	return 0;
}

/* An export ended (on its thread): the last one of a volume unbinds it. */
static void model_tar_snapshot_done(void *ud, int result)
{
	struct model_tar_binding *b = ud, **p;
	int r;

	(void)result; /* model_tar.c logged it; the stream ended short for the client */
	pthread_mutex_lock(&model_tar_snapshot_lock);
	if (--b->exports == 0) {
		if (b->model != NULL && (r = model_tar_snapshot_unbind(b->model, b->content)) < 0)
			log_warn("cannot unbind the snapshot content %s after its export: %s",
				 b->content, strerror(-r));
		for (p = &model_tar_bindings; *p != b; p = &(*p)->next)
			;
		*p = b->next;
		free(b);
		pthread_cond_broadcast(&model_tar_snapshot_idle);
	}
	pthread_mutex_unlock(&model_tar_snapshot_lock);
}

int model_snapshot_export(struct model *model, const char *ns, const char *name, int *ret_fd,
			  struct model_error *err)
{
	struct model_tar_binding *b = NULL;
	char content[STORE_VOLUME_NAME_MAX + 1], root[PATH_MAX];
	int r;

	model_error_init(err);
	r = model_tar_snapshot_content(model, ns, name, content, err);
	if (r < 0)
		return r;
	if (model->mountpoint == NULL)
		return model_fail(err, -EOPNOTSUPP, "this server has no mount to read snapshots from");
	if (snprintf(root, sizeof(root), "%s/%s/%s", model->mountpoint, MODEL_TAR_SNAPSHOT_DIR,
		     content) >= (int)sizeof(root))
		return model_fail(err, -ENAMETOOLONG, "the snapshot's path is too long");
	pthread_mutex_lock(&model_tar_snapshot_lock);
	r = model_tar_snapshot_hold(model, content, &b, err);
	pthread_mutex_unlock(&model_tar_snapshot_lock);
	if (r < 0)
		return r;
	r = model_tar_export_dir(root, model_tar_snapshot_done, b, ret_fd, err);
	if (r < 0)
		model_tar_snapshot_done(b, r); /* the thread never started */
	return r;
}

/* Collect the content volumes bound under MODEL_TAR_SNAPSHOT_DIR. */
static int model_tar_snapshot_stale(void *ud, const struct store_volume *volume)
{
	json_t *names = ud;

	if (strcmp(volume->bound_namespace, MODEL_TAR_SNAPSHOT_DIR) != 0)
		return 0;
	return json_array_append_new(names, json_string(volume->name)) == 0 ? 0 : -ENOMEM;
}

/* See model_internal.h. */
int model_tar_snapshot_recover(struct model *model)
{
	json_t *names = json_array(), *name;
	size_t i;
	int r = names != NULL ? 0 : -ENOMEM;

	if (r == 0)
		r = store_volume_list(model->store, model_tar_snapshot_stale, names);
	json_array_foreach(names, i, name) {
		if (r < 0)
			break;
		r = model_tar_snapshot_unbind(model, json_string_value(name));
		if (r == 0)
			log_info("unbound the snapshot content %s an interrupted export left on the "
				 "mount", json_string_value(name));
	}
	json_decref(names);
	return r;
}

/* See model_internal.h. */
void model_tar_snapshot_quiesce(struct model *model)
{
	struct model_tar_binding *b;
	struct timespec deadline;
	bool busy = true;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += MODEL_TAR_QUIESCE_S;
	pthread_mutex_lock(&model_tar_snapshot_lock);
	while (busy) {
		busy = false;
		for (b = model_tar_bindings; b != NULL; b = b->next)
			busy = busy || b->model == model;
		if (busy && pthread_cond_timedwait(&model_tar_snapshot_idle, &model_tar_snapshot_lock,
						   &deadline) == ETIMEDOUT)
			break;
	}
	for (b = model_tar_bindings; b != NULL; b = b->next)
		if (b->model == model) {
			log_warn("the export of snapshot content %s still runs at shutdown; its "
				 "binding is undone at the next start", b->content);
			b->model = NULL;
		}
	pthread_mutex_unlock(&model_tar_snapshot_lock);
}
