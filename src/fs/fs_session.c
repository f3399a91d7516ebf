/*
 * fs_session.c — the FUSE session's lifetime: mount with claimfs' options,
 * serve on libfuse's worker threads, unmount.
 *
 * Owns struct fs from fs_mount to fs_unmount. The store's invalidate hook
 * points at this session only while it is mounted; handles the kernel never
 * released are freed once the session is destroyed, when no request can
 * touch them any more.
 */
#include "fs_internal.h"

#include "fs_killpriv.h"
#include "log.h"
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fs_mount(struct store *store, const struct fs_config *config, struct fs **ret_fs)
{
	char options[PATH_MAX + 128];
	struct fs *fs;
	int r;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->store = store;
	fs->max_threads = config->max_threads;
	pthread_mutex_init(&fs->handles_lock, NULL);
	fs->mountpoint = strdup(config->mountpoint);
	if (!fs->mountpoint) {
		r = -ENOMEM;
		goto fail;
	}
	/* fsname must not contain commas: they separate mount options. */
	char fsname[PATH_MAX];
	snprintf(fsname, sizeof(fsname), "%s", config->fsname ? config->fsname : "claimfs");
	for (char *p = fsname; *p; p++)
		if (*p == ',')
			*p = '_';
	snprintf(options, sizeof(options),
		 "allow_other,default_permissions,subtype=claimfs,fsname=%s", fsname);
	char *argv[] = { "claimfsd", "-o", options, config->debug ? "-d" : NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(config->debug ? 4 : 3, argv);
	fs->session = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
	fuse_opt_free_args(&args);
	if (!fs->session) {
		log_error("fs: cannot create the FUSE session");
		r = -EIO;
		goto fail;
	}
	if (fuse_session_mount(fs->session, fs->mountpoint) != 0) {
		log_error("fs: cannot mount at %s", fs->mountpoint);
		r = -EIO;
		goto fail;
	}
	fs->mounted = true;
	r = fs_killpriv_install(fs->session);
	if (r < 0) {
		log_error("fs: cannot hook the FUSE channel: %s", strerror(-r));
		goto fail;
	}
	store_set_invalidate_hook(store, fs_invalidate_entry, fs);
	*ret_fs = fs;
	return 0;
fail:
	fs_unmount(fs);
	return r;
}

int fs_run(struct fs *fs)
{
	struct fuse_loop_config *config = fuse_loop_cfg_create();
	int r;

	if (!config)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(config, 1);
	if (fs->max_threads)
		fuse_loop_cfg_set_max_threads(config, fs->max_threads);
	r = fuse_session_loop_mt(fs->session, config);
	fuse_loop_cfg_destroy(config);
	return r < 0 ? r : r > 0 ? -EINTR : 0;
}

void fs_exit(struct fs *fs)
{
	if (fs && fs->session)
		fuse_session_exit(fs->session);
}

void fs_unmount(struct fs *fs)
{
	if (!fs)
		return;
	if (fs->mounted)
		store_set_invalidate_hook(fs->store, NULL, NULL);
	if (fs->session) {
		if (fs->mounted)
			fuse_session_unmount(fs->session);
		fuse_session_destroy(fs->session);
	}
	/* The session is gone: no request can touch a handle any more. */
	while (fs->handles)
		fs_free_handle(fs, fs->handles);
	pthread_mutex_destroy(&fs->handles_lock);
	free(fs->mountpoint);
	free(fs);
}
