/*
 * daemon_ctl.h — the claimfsd that the harness starts, SIGKILLs and
 * restarts on a private store and mount.
 */
#ifndef CLAIMFS_HARNESS_DAEMON_CTL_H
#define CLAIMFS_HARNESS_DAEMON_CTL_H

#include "http_client.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct daemon_ctl {
	char binary[PATH_MAX];
	char store[PATH_MAX];
	char mount[PATH_MAX];
	char port_file[PATH_MAX];
	char log_path[PATH_MAX];
	char plugin_socket[PATH_MAX]; /* the volume plugin's socket, or "none" */
	bool supervise;          /* claimfsd --supervise: pid is the supervisor */
	pid_t pid;               /* 0 when not running */
	struct http_endpoint api; /* valid while running */
	unsigned starts;
	unsigned worker_kills;
	pid_t worker;            /* --supervise: the worker we last saw (0: unknown) */
};

/* Locate the daemon: OPTION_PATH, $CLAIMFSD, ../../daemon/claimfsd and
 * ./claimfsd next to SELF_EXE, then PATH. 0 or -ENOENT. */
int daemon_ctl_find_binary(const char *option_path, const char *self_exe, char *ret_path,
			   size_t cap);

/* Prepare paths below WORKDIR (store.db, mnt/, port, daemon.log, and
 * plugin.sock when PLUGIN: the volume plugin's socket; else none).
 * SUPERVISE runs claimfsd --supervise. */
int daemon_ctl_init(struct daemon_ctl *d, const char *binary, const char *workdir, bool plugin,
		    bool supervise);

/* Start the daemon and wait until /readyz answers 200. On failure the
 * process is gone and the log tail printed. 0 or -errno (-EINTR when
 * interrupted). */
int daemon_ctl_start(struct daemon_ctl *d, unsigned timeout_ms);

/* Reap the daemon if it exited on its own: 1 (status in *ret_status) or 0. */
int daemon_ctl_poll(struct daemon_ctl *d, int *ret_status);

/* SIGKILL and reap; the dead mount stays (the next start detaches it). */
int daemon_ctl_kill(struct daemon_ctl *d);

/* --supervise: SIGKILL the supervisor's worker (never the supervisor) and
 * wait until a new worker answers /readyz. The pid of the killed worker in
 * *ret_worker. 0 or -errno (-ESRCH: no worker; -ECHILD: the supervisor died). */
int daemon_ctl_kill_worker(struct daemon_ctl *d, unsigned timeout_ms, pid_t *ret_worker);

/* --supervise: has the worker been replaced since we last looked, other than
 * by daemon_ctl_kill_worker (it died on its own)? 1 (its pid in
 * *ret_worker), or 0. */
int daemon_ctl_worker_replaced(struct daemon_ctl *d, pid_t *ret_worker);

/* SIGTERM, wait up to GRACE_MS, SIGKILL if needed; then make sure nothing
 * is mounted at or below the mount point. 0 or -errno. */
int daemon_ctl_stop(struct daemon_ctl *d, unsigned grace_ms);

#endif
