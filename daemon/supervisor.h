/*
 * supervisor.h — claimfsd --supervise: a process that keeps the FUSE
 * connection while worker processes (the daemon proper) come and go
 * (supervisor.c), and what it shares with them (worker.c is their side).
 */
#ifndef CLAIMFS_SUPERVISOR_H
#define CLAIMFS_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

/* "FUSE,CONNECTION,WORKER,UNCOMMITTED": the inherited descriptors. */
#define SUPERVISOR_ENV "CLAIMFSD_WORKER"
#define SUPERVISOR_RECORD_MAGIC 0x63667377u /* "cfsw" */

struct supervisor_config {
	const char *mountpoint;
	const char *fsname;
	bool debug;
};

/* The worker record (a memfd): written by workers, read by the supervisor
 * and the next worker. */
struct supervisor_record {
	uint32_t magic;
	uint32_t port;  /* the API's TCP port, bound again by every later worker */
	uint32_t ready; /* the current worker announced ready */
};

/* Mount and run workers (this binary, argv) until SIGTERM/SIGINT; the exit
 * status for main. */
int supervisor_run(const struct supervisor_config *config, char **argv);
/* The worker record in fd, or an empty one if it holds none. */
void supervisor_record_read(int fd, struct supervisor_record *ret_record);

#endif
