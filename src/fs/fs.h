/*
 * fs.h — the FUSE layer: libfuse3 lowlevel operations over the store.
 *
 * Each operation is a thin wrapper that sends exactly one reply, around a
 * worker that returns a negative errno. The FUSE layer never issues SQL and
 * never parses JSON; it calls store_* only.
 */
#ifndef CLAIMFS_FS_H
#define CLAIMFS_FS_H

#include <stdbool.h>

struct store;
struct fs;

struct fs_config {
	const char *mountpoint;
	const char *fsname;   /* shown in /proc/mounts, e.g. "claimfs:/var/lib/claimfs/claimfs.db" */
	unsigned max_threads; /* FUSE worker threads; 0: libfuse default */
	bool debug;           /* libfuse request tracing */
};

/* Detach a stale claimfs mount (left by a daemon that died) at mountpoint.
 * -EBUSY if a live filesystem is mounted there. */
int fs_clear_stale_mount(const char *mountpoint);
/* Create the session and mount it. The store must outlive the fs. */
int fs_mount(struct store *store, const struct fs_config *config, struct fs **ret_fs);
/* Serve requests until fs_exit() or the mount goes away (blocks). The caller
 * handles signals: after fs_exit() it must interrupt the calling thread with
 * a signal whose handler does nothing (no SA_RESTART) so the loop notices. */
int fs_run(struct fs *fs);
/* Ask fs_run to return. */
void fs_exit(struct fs *fs);
/* Unmount and free. Accepts NULL. */
void fs_unmount(struct fs *fs);

#endif
