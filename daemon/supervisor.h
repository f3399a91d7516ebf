/*
 * supervisor.h — claimfsd --supervise: a process that keeps the FUSE
 * connection while worker processes (the daemon proper) come and go
 * (see supervisor.c).
 */
#ifndef CLAIMFS_SUPERVISOR_H
#define CLAIMFS_SUPERVISOR_H

#include <stdbool.h>

struct supervisor_config {
	const char *mountpoint;
	const char *fsname;
	bool debug;
};

/* The descriptors a worker inherits from its supervisor. */
struct supervisor_worker {
	int fuse_fd;   /* the connection's /dev/fuse descriptor */
	int record_fd; /* the connection record (fs_conn_record_create) */
	int worker_fd; /* the worker record (port, readiness) */
};

/* Mount and run workers (this binary, argv) until SIGTERM/SIGINT; the exit
 * status for main. */
int supervisor_run(const struct supervisor_config *config, char **argv);
/* Whether this process is a supervisor's worker; fills *ret_worker. */
bool supervisor_worker(struct supervisor_worker *ret_worker);
/* The API port an earlier worker bound (0: none yet), to bind it again. */
unsigned supervisor_worker_port(const struct supervisor_worker *w);
/* Tell the supervisor this worker is ready, serving the API on port. */
int supervisor_worker_ready(const struct supervisor_worker *w, unsigned port);

#endif
