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
	/* Serve a connection a supervisor mounted (fs_conn_mount) instead of
	 * mounting: fuse_fd is its /dev/fuse descriptor (the session takes it
	 * over), record_fd its connection record (fs_conn_record_create). */
	bool attach;
	int fuse_fd;
	int record_fd;
};

/* ---- a connection that outlives its workers (supervisor side) ---------- */

struct fs_conn;

/* Refuse a mount point that is a non-empty directory: files written there
 * while nothing was mounted would hide under the mount. -ENOTEMPTY (logged,
 * naming the path); 0 if empty or missing. */
int fs_check_mountpoint_empty(const char *mountpoint);
/* Mount config->mountpoint and keep the connection; serves no request. */
int fs_conn_mount(const struct fs_config *config, struct fs_conn **ret_conn);
/* The connection's /dev/fuse descriptor. */
int fs_conn_fd(const struct fs_conn *conn);
/* Detach the mount and close the descriptor (the kernel then ends the
 * connection). Accepts NULL. */
void fs_conn_unmount(struct fs_conn *conn);
/* A new, empty connection record (a memfd; close-on-exec). fd or -errno. */
int fs_conn_record_create(void);
/* Whether the record holds an answered INIT whose kernel can resend
 * requests (FUSE_NOTIFY_RESEND): 1 yes, 0 no or no INIT yet, -errno. */
int fs_conn_record_can_resend(int record_fd);
/* Whether the record holds an answered INIT (a worker served the
 * connection before): 1 yes, 0 no, -errno. */
int fs_conn_record_present(int record_fd);

/* Detach a stale claimfs mount (left by a daemon that died) at mountpoint.
 * -EBUSY if a live filesystem is mounted there. */
int fs_clear_stale_mount(const char *mountpoint);
/* The request this thread serves has changed the store, or is about to
 * log a change the next worker would replay: a resend of it after this
 * worker dies finds its effect (store_batch_hooks.naming). Nothing outside a
 * supervised worker's FUSE request. */
void fs_note_request_applied(void);
/* Create the session and mount it (or, with config->attach, take over a
 * supervisor's connection). The store must outlive the fs. */
int fs_mount(struct store *store, const struct fs_config *config, struct fs **ret_fs);
/* Serve requests until fs_exit() or the mount goes away (blocks). The caller
 * handles signals: after fs_exit() it must interrupt the calling thread with
 * a signal whose handler does nothing (no SA_RESTART) so the loop notices. */
int fs_run(struct fs *fs);
/* Ask fs_run to return. */
void fs_exit(struct fs *fs);
/* Unmount (an attached session only lets go of the descriptor) and free.
 * Accepts NULL. */
void fs_unmount(struct fs *fs);

#endif
