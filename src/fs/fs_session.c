/*
 * fs_session.c — the FUSE session's lifetime: mount with claimfs' options,
 * serve on libfuse's worker threads, unmount.
 *
 * Owns struct fs from fs_mount to fs_unmount. The store's invalidate hook
 * points at this session only while it is mounted (or attached). An
 * attached session serves a connection a supervisor keeps (fs_conn.c): it
 * never mounts or unmounts, and a resumed one replays INIT and asks for the
 * resend of requests its predecessor left unanswered (fs_resume.c) before
 * the loop starts.
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

/* Attached: serve the supervisor's descriptor; a connection record with an
 * answered INIT means this worker resumes (replays it in fs_run). */
static int fs_attach(struct fs *fs, const struct fs_config *config)
{
	bool resumed;
	int r = fs_resume_attach(config->record_fd, &resumed);

	if (r < 0) {
		log_error("fs: unreadable connection record: %s", strerror(-r));
		return r;
	}
	fs->attached = true;
	fs->fuse_fd = config->fuse_fd;
	log_info("fs: %s the connection at %s kept by the supervisor",
		 resumed ? "resuming" : "starting", fs->mountpoint);
	r = fs_killpriv_install(fs->session, config->fuse_fd);
	if (r < 0)
		return r;
	/* Before the API says ready: a binary that would answer INIT
	 * differently fails its start-up here. */
	return fs_resume_replay_init(fs->session);
}

int fs_mount(struct store *store, const struct fs_config *config, struct fs **ret_fs)
{
	char options[PATH_MAX + 128];
	char *argv[5];
	struct fs *fs;
	int r;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->store = store;
	fs->max_threads = config->max_threads;
	fs->fuse_fd = -1;
	fs->mountpoint = strdup(config->mountpoint);
	if (!fs->mountpoint) {
		r = -ENOMEM;
		goto fail;
	}
	struct fuse_args args = fs_mount_args(config, options, sizeof(options), argv);
	fs->session = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
	fuse_opt_free_args(&args);
	if (!fs->session) {
		log_error("fs: cannot create the FUSE session");
		r = -EIO;
		goto fail;
	}
	if (config->attach) {
		r = fs_attach(fs, config);
		if (r < 0)
			goto fail;
	} else {
		if (fuse_session_mount(fs->session, fs->mountpoint) != 0) {
			log_error("fs: cannot mount at %s", fs->mountpoint);
			r = -EIO;
			goto fail;
		}
		fs->mounted = true;
		r = fs_killpriv_install(fs->session, fuse_session_fd(fs->session));
	}
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

/* An attached worker has the kernel resend what a previous worker left
 * unanswered (nothing, on a fresh connection). */
static void fs_resume(struct fs *fs)
{
	int r = fs_resume_request_resend(fs->fuse_fd);

	if (r < 0)
		log_debug("fs: FUSE_NOTIFY_RESEND: %s", strerror(-r));
}

int fs_run(struct fs *fs)
{
	struct fuse_loop_config *config = fuse_loop_cfg_create();
	int r;

	if (!config)
		return -ENOMEM;
	/* Attached: no clone_fd. Every thread reads the one descriptor the
	 * supervisor shares, so a worker's death releases no /dev/fuse file
	 * (releasing a clone ends the requests it had read with ECONNABORTED)
	 * and what it had read stays in the kernel's processing queue, to be
	 * resent. A daemon that mounted itself dies with its connection, so it
	 * may give each thread a clone; that measured no faster than one shared
	 * descriptor (the kernel has one input queue per connection; README.md,
	 * Restart model). */
	if (fs->attached)
		fs_resume(fs);
	else
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
	if (fs->mounted || fs->attached)
		store_set_invalidate_hook(fs->store, NULL, NULL);
	if (fs->session) {
		if (fs->mounted)
			fuse_session_unmount(fs->session);
		fuse_session_destroy(fs->session);
	}
	free(fs->mountpoint);
	free(fs);
}
