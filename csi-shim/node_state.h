/*
 * node_state.h — the publications and staging mounts of this node (which
 * volume is bind-mounted at which target or staging path, with which access
 * mode, read-only flag, mount flags and staging path), kept in <state-dir>/publications.json so they survive restarts of
 * claimfs-csi. The mount table tells whether something is mounted at a
 * target; only this record knows the arguments it was published with, which
 * NodePublishVolume needs to tell "the same call again" (OK) from "other
 * arguments" (ALREADY_EXISTS) and a second target of a single-writer volume
 * (FAILED_PRECONDITION).
 *
 * Locking: one mutex. Node handlers hold it (node_state_lock) across the
 * whole check-mount-record sequence, so publications of this node are
 * serialised; the find/add/remove/at functions require it held. Only
 * node_state_volume_target takes it itself.
 *
 * Persistence: every change rewrites the file (temp file, fsync, rename,
 * fsync of the directory) before the call returns; a crash leaves either the
 * old or the new record, never a torn one.
 */
#ifndef CLAIMFS_CSI_NODE_STATE_H
#define CLAIMFS_CSI_NODE_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "names.h"

#define NODE_TARGET_MAX 4096

struct node_publication {
	char volume_id[NAMES_SUBDOMAIN_MAX + 1];
	char target[NODE_TARGET_MAX];
	char namespace_name[NAMES_LABEL_MAX + 1];
	char claim[NAMES_SUBDOMAIN_MAX + 1];
	int mode;                  /* CSI access mode */
	bool readonly;             /* as requested */
	unsigned long mount_flags; /* MS_* from mount_flags */
	/* A staging mount (NodeStageVolume: target is the staging path, one per
	 * volume) rather than a publication. */
	bool staged;
	/* A publication's staging path ("" when bound straight from the claim). */
	char staging[NODE_TARGET_MAX];
};

struct node_state;

/* Load (or start) the record in state_dir, creating the directory. 0, or
 * -errno with a message. */
int node_state_open(const char *state_dir, struct node_state **ret_state, char *msg,
		    size_t msg_size);
/* Free the in-memory record (the file stays). NULL is a no-op. */
void node_state_close(struct node_state *state);

void node_state_lock(struct node_state *state);
void node_state_unlock(struct node_state *state);

/* Lock held: the publication at target, or NULL. */
const struct node_publication *node_state_find(struct node_state *state, const char *target);
/* Lock held: number of publications and the i-th one. */
size_t node_state_count(struct node_state *state);
const struct node_publication *node_state_at(struct node_state *state, size_t i);
/* Lock held: record a publication (replacing one at the same target) and
 * persist. 0 or -errno (the in-memory record is unchanged on failure). */
int node_state_add(struct node_state *state, const struct node_publication *publication);
/* Lock held: forget the publication at target (if any) and persist. */
int node_state_remove(struct node_state *state, const char *target);

/* Takes the lock: is volume_id published (recorded and mounted) at some
 * target? Copies the first such target into ret_target. */
bool node_state_volume_target(struct node_state *state, const char *volume_id, char *ret_target,
			      size_t size);

#endif
