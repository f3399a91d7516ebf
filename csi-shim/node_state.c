/*
 * node_state.c — publications of this node and their file (see node_state.h).
 *
 * Invariants: `items` holds `count` publications with distinct targets;
 * every change goes through node_state_save before it is visible in memory
 * (build the new array, save it, then swap), so memory and file never
 * disagree after a failed write. File format:
 *   {"version": 1, "publications": [{"volumeId": ..., "targetPath": ...,
 *    "namespace": ..., "claim": ..., "accessMode": 7, "readonly": false,
 *    "mountFlags": 0, "staged": false, "stagingPath": ""}, ...]}
 * A staging mount is an entry with "staged": true whose targetPath is the
 * staging path; a publication bound from one names it in "stagingPath".
 */
#include "node_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "node_mount.h"

#define NODE_STATE_FILE "publications.json"
#define NODE_STATE_VERSION 1

struct node_state {
	pthread_mutex_t lock;
	char *dir;
	char *path;                     /* dir/publications.json */
	struct node_publication *items; /* protected by lock */
	size_t count;                   /* protected by lock */
};

/* ---- file ------------------------------------------------------------------------ */

/* Copy a string member into buf; false if missing or too long. */
static bool node_state_string(const json_t *obj, const char *key, char *buf, size_t size)
{
	const char *text = json_string_value(json_object_get(obj, key));

	return text != NULL && (size_t)snprintf(buf, size, "%s", text) < size;
}

/* Decode one record entry. */
static bool node_state_decode(const json_t *obj, struct node_publication *p)
{
	memset(p, 0, sizeof(*p));
	if (!node_state_string(obj, "volumeId", p->volume_id, sizeof(p->volume_id)) ||
	    !node_state_string(obj, "targetPath", p->target, sizeof(p->target)) ||
	    !node_state_string(obj, "namespace", p->namespace_name, sizeof(p->namespace_name)) ||
	    !node_state_string(obj, "claim", p->claim, sizeof(p->claim)) ||
	    !json_is_integer(json_object_get(obj, "accessMode")))
		return false;
	p->mode = (int)json_integer_value(json_object_get(obj, "accessMode"));
	p->readonly = json_is_true(json_object_get(obj, "readonly"));
	p->mount_flags = (unsigned long)json_integer_value(json_object_get(obj, "mountFlags"));
	p->staged = json_is_true(json_object_get(obj, "staged"));
	/* Both absent in records written before staging existed. */
	return json_object_get(obj, "stagingPath") == NULL ||
	       node_state_string(obj, "stagingPath", p->staging, sizeof(p->staging));
}

/* Read the file into items; a missing file is an empty record. */
static int node_state_load(struct node_state *state, char *msg, size_t msg_size)
{
	json_t *root, *list, *entry;
	json_error_t jerr;
	size_t i;

	if (access(state->path, F_OK) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(msg, msg_size, "%s: %s", state->path, strerror(errno));
		return -errno;
	}
	root = json_load_file(state->path, 0, &jerr);
	if (root == NULL) {
		snprintf(msg, msg_size, "%s: %s (line %d)", state->path, jerr.text, jerr.line);
		return -EINVAL;
	}
	list = json_object_get(root, "publications");
	state->items = calloc(json_array_size(list) + 1, sizeof(*state->items));
	if (state->items == NULL) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(list, i, entry) {
		if (node_state_decode(entry, &state->items[state->count]))
			state->count++;
		else
			log_warn("%s: ignoring malformed publication #%zu", state->path, i);
	}
	json_decref(root);
	return 0;
}

/* Encode items[0..count) as the file's JSON. */
static json_t *node_state_encode(const struct node_publication *items, size_t count)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < count; i++) {
		const struct node_publication *p = &items[i];

		if (json_array_append_new(
			    list, json_pack("{s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:b, s:s}",
					    "volumeId", p->volume_id, "targetPath", p->target,
					    "namespace", p->namespace_name, "claim", p->claim,
					    "accessMode", p->mode, "readonly", p->readonly,
					    "mountFlags", (json_int_t)p->mount_flags, "staged",
					    p->staged, "stagingPath", p->staging)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list == NULL ? NULL :
			      json_pack("{s:i, s:o}", "version", NODE_STATE_VERSION,
					"publications", list);
}

/* Write items durably: temp file, fsync, rename, fsync dir. */
static int node_state_save(struct node_state *state, const struct node_publication *items,
			   size_t count)
{
	char tmp[PATH_MAX];
	json_t *root = node_state_encode(items, count);
	char *text = NULL;
	int fd = -1, dir_fd = -1, r = 0;
	size_t len, done = 0;

	if (root == NULL)
		return -ENOMEM;
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto out;
	}
	r = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (r < 0)
		goto out;
	if (rename(tmp, state->path) < 0) {
		r = -errno;
		goto out;
	}
	dir_fd = open(state->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || fsync(dir_fd) < 0)
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	if (r < 0)
		unlink(tmp);
	free(text);
	return r;
}

/* ---- life cycle --------------------------------------------------------------------- */

/* Open the state directory and load the record. */
int node_state_open(const char *state_dir, struct node_state **ret_state, char *msg,
		    size_t msg_size)
{
	struct node_state *state = calloc(1, sizeof(*state));
	int r;

	if (state == NULL)
		return -ENOMEM;
	pthread_mutex_init(&state->lock, NULL);
	state->dir = strdup(state_dir);
	if (state->dir == NULL || asprintf(&state->path, "%s/%s", state_dir, NODE_STATE_FILE) < 0) {
		state->path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	if (strlen(state->path) + 5 > PATH_MAX) {
		snprintf(msg, msg_size, "--state-dir %s: path too long", state_dir);
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(msg, msg_size, "--state-dir %s: %s", state_dir, strerror(-r));
		goto fail;
	}
	r = node_state_load(state, msg, msg_size);
	if (r < 0)
		goto fail;
	*ret_state = state;
	return 0;
fail:
	node_state_close(state);
	return r;
}

/* Free memory; the file stays for the next start. */
void node_state_close(struct node_state *state)
{
	if (state == NULL)
		return;
	pthread_mutex_destroy(&state->lock);
	free(state->items);
	free(state->path);
	free(state->dir);
	free(state);
}

/* Take the publications lock. */
void node_state_lock(struct node_state *state)
{
	pthread_mutex_lock(&state->lock);
}

/* Release the publications lock. */
void node_state_unlock(struct node_state *state)
{
	pthread_mutex_unlock(&state->lock);
}

/* ---- queries and changes (lock held) ------------------------------------------------------ */

/* Lock held: linear search by target (a node has few publications). */
const struct node_publication *node_state_find(struct node_state *state, const char *target)
{
	for (size_t i = 0; i < state->count; i++)
		if (strcmp(state->items[i].target, target) == 0)
			return &state->items[i];
	return NULL;
}

/* Lock held: how many publications. */
size_t node_state_count(struct node_state *state)
{
	return state->count;
}

/* Lock held: the i-th publication, NULL past the end. */
const struct node_publication *node_state_at(struct node_state *state, size_t i)
{
	return i < state->count ? &state->items[i] : NULL;
}

/* Add or replace by target; save first, then swap arrays. */
int node_state_add(struct node_state *state, const struct node_publication *publication)
{
	struct node_publication *items = calloc(state->count + 1, sizeof(*items));
	size_t n = 0;
	int r;

	if (items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < state->count; i++)
		if (strcmp(state->items[i].target, publication->target) != 0)
			items[n++] = state->items[i];
	items[n++] = *publication;
	r = node_state_save(state, items, n);
	if (r < 0) {
		free(items);
		return r;
	}
	free(state->items);
	state->items = items;
	state->count = n;
	return 0;
}

/* Remove by target; save first, then swap arrays. */
int node_state_remove(struct node_state *state, const char *target)
{
	struct node_publication *items;
	size_t n = 0;
	int r;

	if (node_state_find(state, target) == NULL)
		return 0;
	items = calloc(state->count, sizeof(*items));
	if (items == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < state->count; i++)
		if (strcmp(state->items[i].target, target) != 0)
			items[n++] = state->items[i];
	r = node_state_save(state, items, n);
	if (r < 0) {
		free(items);
		return r;
	}
	free(state->items);
	state->items = items;
	state->count = n;
	return 0;
}

/* Published somewhere (recorded and still mounted)? */
bool node_state_volume_target(struct node_state *state, const char *volume_id, char *ret_target,
			      size_t size)
{
	struct node_mount mount;
	bool found = false;

	node_state_lock(state);
	for (size_t i = 0; i < state->count && !found; i++) {
		if (strcmp(state->items[i].volume_id, volume_id) != 0)
			continue;
		if (node_mount_find(state->items[i].target, &mount) == 1) {
			snprintf(ret_target, size, "%s", state->items[i].target);
			found = true;
		}
	}
	node_state_unlock(state);
	return found;
}
