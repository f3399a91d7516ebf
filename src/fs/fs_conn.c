/*
 * fs_conn.c — the FUSE connection as the supervisor keeps it: mounted with
 * claimfs' options, its /dev/fuse descriptor held while workers come and go,
 * detached at the end. No request is ever read here.
 *
 * Owns struct fs_conn from fs_conn_mount to fs_conn_unmount. The libfuse
 * session exists only to mount and unmount; its operations table is empty.
 * Also the mount options shared with fs_session.c (fs_mount_args) and the
 * empty-mount-point rule (fs_check_mountpoint_empty).
 */
#include "fs_internal.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fs_conn {
	struct fuse_session *session;
	char *mountpoint;
};

struct fuse_args fs_mount_args(const struct fs_config *config, char *options, size_t size, char **argv)
{
	char fsname[PATH_MAX];

	/* fsname must not contain commas: they separate mount options. */
	snprintf(fsname, sizeof(fsname), "%s", config->fsname ? config->fsname : "claimfs");
	for (char *p = fsname; *p; p++)
		if (*p == ',')
			*p = '_';
	snprintf(options, size, "allow_other,default_permissions,subtype=claimfs,fsname=%s", fsname);
	argv[0] = "claimfsd";
	argv[1] = "-o";
	argv[2] = options;
	argv[3] = config->debug ? "-d" : NULL;
	argv[4] = NULL;
	return (struct fuse_args)FUSE_ARGS_INIT(config->debug ? 4 : 3, argv);
}

int fs_check_mountpoint_empty(const char *mountpoint)
{
	DIR *dir = opendir(mountpoint);
	struct dirent *entry;
	int r = 0;

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	errno = 0;
	while ((entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
			log_error("fs: the mount point %s is not empty (it holds '%s'): files there would "
				  "hide under the mount; move them away first",
				  mountpoint, entry->d_name);
			r = -ENOTEMPTY;
			break;
		}
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(dir);
	return r;
}

int fs_conn_mount(const struct fs_config *config, struct fs_conn **ret_conn)
{
	static const struct fuse_lowlevel_ops no_ops;
	char options[PATH_MAX + 128];
	char *argv[5];
	struct fs_conn *conn = calloc(1, sizeof(*conn));
	int r;

	if (!conn)
		return -ENOMEM;
	conn->mountpoint = strdup(config->mountpoint);
	if (!conn->mountpoint) {
		r = -ENOMEM;
		goto fail;
	}
	struct fuse_args args = fs_mount_args(config, options, sizeof(options), argv);
	conn->session = fuse_session_new(&args, &no_ops, sizeof(no_ops), NULL);
	fuse_opt_free_args(&args);
	if (!conn->session) {
		log_error("fs: cannot create the FUSE session");
		r = -EIO;
		goto fail;
	}
	if (fuse_session_mount(conn->session, conn->mountpoint) != 0) {
		log_error("fs: cannot mount at %s", conn->mountpoint);
		fuse_session_destroy(conn->session);
		conn->session = NULL;
		r = -EIO;
		goto fail;
	}
	*ret_conn = conn;
	return 0;
fail:
	fs_conn_unmount(conn);
	return r;
}

int fs_conn_fd(const struct fs_conn *conn)
{
	return fuse_session_fd(conn->session);
}

void fs_conn_unmount(struct fs_conn *conn)
{
	if (!conn)
		return;
	if (conn->session) {
		fuse_session_unmount(conn->session); /* lazy detach, closes the descriptor */
		fuse_session_destroy(conn->session);
	}
	free(conn->mountpoint);
	free(conn);
}
