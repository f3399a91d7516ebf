/*
 * node_mount.h — the mount-table side of NodePublishVolume: reading
 * /proc/self/mountinfo, bind-mounting a claim directory onto a target path
 * (read-only and with extra flags when asked), and undoing it.
 *
 * mountinfo is the truth about what is mounted; it survives our restarts and
 * also shows mounts that died with claimfsd (their FUSE connection is gone:
 * stat() on them fails with ENOTCONN). Pure syscalls, no state of its own.
 */
#ifndef CLAIMFS_CSI_NODE_MOUNT_H
#define CLAIMFS_CSI_NODE_MOUNT_H

#include <stdbool.h>
#include <stddef.h>

#define NODE_MOUNT_PATH_MAX 4096

struct node_mount {
	char root[NODE_MOUNT_PATH_MAX]; /* the mounted directory inside its fs: "/ns/claim" */
	char fstype[64];                /* "fuse.claimfsd", "fuse", ... */
	bool read_only;                 /* per-mount ro flag */
};

/* The topmost mount whose mount point is path. 1 found (ret filled), 0 not
 * a mount point, or -errno (mountinfo unreadable, parent missing). */
int node_mount_find(const char *path, struct node_mount *ret_mount);

/* Parse CSI mount_flags for a bind mount: ro, rw, nosuid, nodev, noexec,
 * noatime, nodiratime, relatime, strictatime, bind, defaults. Sets MS_*
 * bits in *ret_flags; -EINVAL with the offending flag copied to bad. */
int node_mount_flags_parse(size_t count, char *const *flags, unsigned long *ret_flags,
			   char *bad, size_t bad_size);

/* Bind source onto target (an existing directory), then remount read-only
 * and/or with flags when asked, keeping the source mount's own
 * nosuid/nodev/noexec. On failure nothing stays mounted. 0 or -errno. */
int node_mount_bind(const char *source, const char *target, bool read_only, unsigned long flags);

/* Unmount target (lazily when it is busy or its FUSE connection is dead).
 * 0, or -errno; not mounted is -EINVAL. */
int node_mount_unbind(const char *target);

/* Is the mount at path dead (its FUSE daemon gone)? */
bool node_mount_dead(const char *path);

#endif
