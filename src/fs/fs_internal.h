/*
 * fs_internal.h — what the FUSE layer's files share: the mounted session
 * (struct fs), open-file handles, and the operations table.
 *
 * Call order inside the layer (files only call downwards):
 *   fs_session.c     mount, serve, unmount: owns struct fs's lifetime
 *   fs.c             the operations (fs_ops), one reply per request
 *   fs_killpriv.c    KILLPRIV_V2 on the /dev/fuse channel
 *   fs_resume.c      INIT saved/replayed across workers, FUSE_NOTIFY_RESEND
 *   fs_resent.c      a resent request that finds its effect committed
 *   fs_conn.c        the supervisor's mount; mount options; empty mount point
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
#include <sys/types.h>
#include <sys/uio.h>

struct store_attr;

struct fs {
	struct store *store;
	struct fuse_session *session;
	char *mountpoint;
	unsigned max_threads;
	bool mounted;
	bool attached; /* serves a supervisor's connection (fs_config.attach) */
	int fuse_fd;   /* attached: the descriptor, for FUSE_NOTIFY_RESEND */
};

/* File handles are values, not pointers, so that a worker honours the
 * handles a previous worker gave out: fi->fh is FS_FH_OPEN, plus
 * FS_FH_WRITABLE for a handle that may change the file (its close commits
 * the file's pending changes, store_flush). */
#define FS_FH_OPEN 1u
#define FS_FH_WRITABLE 2u

/* The lowlevel operations, each timed into metrics_fs[] (fs.c). */
extern const struct fuse_lowlevel_ops fs_ops;
/* fs_resume.c: the session's read and writev go through these (from
 * fs_killpriv.c's hooks). */
ssize_t fs_resume_read(int fd, void *buf, size_t size);
ssize_t fs_resume_writev(int fd, const struct iovec *iov, int count);
/* Load the connection record (record_fd stays the caller's); *ret_resumed:
 * a worker answered INIT before, so this one must replay it. */
int fs_resume_attach(int record_fd, bool *ret_resumed);
/* Resumed: feed the saved INIT to the session; -EPROTO if this binary
 * answers it differently. 0 when there is nothing to replay. */
int fs_resume_replay_init(struct fuse_session *se);
/* Ask the kernel to resend the requests a dead worker had read. */
int fs_resume_request_resend(int fd);
/* The request this thread handles was resent (FUSE_UNIQUE_RESEND). */
bool fs_resume_request_resent(void);
/* The request this thread handles changed the store (before its reply). */
void fs_resume_note_applied(void);
/* It is a resend of a request a dead worker had applied (maybe not
 * committed: fs_resent.c checks the store). */
bool fs_resume_request_applied(void);
/* Test-only: CLAIMFS_TEST_OTHER_INIT names a file whose existence makes
 * this worker answer INIT differently (as another binary would). */
bool fs_resume_test_other_init(void);
/* fs_resent.c: the result r of a request that creates name in parent (an
 * object of type S_IF*; with ino != 0, that inode): noted as applied if 0;
 * if it is -EEXIST for a resent request that a dead worker applied and the
 * name holds what it made, 0 and *ret_attr (a lookup reference taken);
 * otherwise r. */
int fs_resent_created(struct store *s, uint64_t parent, const char *name, uint32_t type, uint64_t ino,
		      int r, struct store_attr *ret_attr);
/* fs_resent.c: a resent request the dead worker applied, and the store
 * holds everything that worker applied (committed or replayed). */
bool fs_resent_in_store(struct store *s);
/* The result r of a request that removes something: noted as applied if
 * 0; 0 if it is -gone (ENOENT, ENODATA) for a resent request a dead worker
 * applied; otherwise r. */
int fs_resent_removed(int r, int gone);
/* The libfuse arguments for claimfs' mount options (fs_conn.c); argv and
 * options are the caller's storage. */
struct fuse_args fs_mount_args(const struct fs_config *config, char *options, size_t size, char **argv);
/* Store hook: a claim or namespace entry went away behind the kernel's back
 * (called with no store lock held); ud is the struct fs. */
void fs_invalidate_entry(void *ud, uint64_t parent, const char *name);

#endif
