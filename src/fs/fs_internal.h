/*
 * fs_internal.h — what the FUSE layer's files share: the mounted session
 * (struct fs), open-file handles, and the operations table.
 *
 * Call order inside the layer (files only call downwards):
 *   fs_session.c     mount, serve, unmount: owns struct fs's lifetime
 *   fs.c             the operations (fs_ops), one reply per request
 *   fs_killpriv.c    KILLPRIV_V2 on the /dev/fuse channel
 *   fs_mountpoint.c  /proc/self/mountinfo, stale mounts
 * Not for use outside src/fs.
 */
#ifndef CLAIMFS_FS_INTERNAL_H
#define CLAIMFS_FS_INTERNAL_H

#include "fs.h"

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct fs {
	struct store *store;
	struct fuse_session *session;
	char *mountpoint;
	unsigned max_threads;
	bool mounted;
	/* Open handles, so the ones the kernel never released (it sends RELEASE
	 * asynchronously after close) are freed at unmount. */
	pthread_mutex_t handles_lock;
	struct fs_handle *handles; /* protected by handles_lock */
};

struct fs_handle {
	atomic_bool dirty; /* written or truncated through this handle since the last flush */
	struct fs_handle *prev, *next; /* protected by fs->handles_lock */
};

/* The lowlevel operations, each timed into metrics_fs[] (fs.c). */
extern const struct fuse_lowlevel_ops fs_ops;
/* Unlink h from fs's list of open handles and free it. Accepts NULL. */
void fs_free_handle(struct fs *fs, struct fs_handle *h);
/* Store hook: a claim or namespace entry went away behind the kernel's back
 * (called with no store lock held); ud is the struct fs. */
void fs_invalidate_entry(void *ud, uint64_t parent, const char *name);

#endif
