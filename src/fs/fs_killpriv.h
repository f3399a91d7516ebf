/*
 * fs_killpriv.h — FUSE protocol features that libfuse 3.14 cannot negotiate,
 * added on the /dev/fuse channel itself (see fs_killpriv.c).
 */
#ifndef CLAIMFS_FS_KILLPRIV_H
#define CLAIMFS_FS_KILLPRIV_H

#include <stdbool.h>
#include <sys/types.h>

struct fuse_session;

/* Route the session's /dev/fuse reads and writes on fd (the session's own
 * after fuse_session_mount(), or one inherited from the supervisor) through
 * the hooks, before the loop runs. 0 or -errno. */
int fs_killpriv_install(struct fuse_session *se, int fd);
/* The request this thread is handling asks the server to clear S_ISUID and
 * S_ISGID (if group-executable): a WRITE with FUSE_WRITE_KILL_SUIDGID, a
 * SETATTR with FATTR_KILL_SUIDGID, an OPEN or CREATE with
 * FUSE_OPEN_KILL_SUIDGID. Only ever true under KILLPRIV_V2. */
bool fs_killpriv_requested(void);
/* Whether the process (thread) pid has capability cap (CAP_FSETID...) in
 * its effective set; when /proc does not show it, whether uid is 0. */
bool fs_killpriv_caller_has_cap(pid_t pid, uid_t uid, int cap);
/* Whether the thread pid is, as /proc shows it, inside a chown-family
 * system call (chown, fchown, lchown, fchownat): what tells a SETATTR with
 * nothing to set that comes from chown(path, -1, -1) from the identical one
 * the kernel sends before a write. false when /proc cannot say. */
bool fs_killpriv_caller_in_chown(pid_t pid);

#endif
