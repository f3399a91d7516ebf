/*
 * worker.h — the worker's side of claimfsd --supervise: the descriptors it
 * inherits, the worker record, the record of uncommitted changes wired to
 * the store (see worker.c).
 */
#ifndef CLAIMFS_WORKER_H
#define CLAIMFS_WORKER_H

#include <stdbool.h>

struct store;
struct uncommitted;
struct redo_log;

struct worker {
	int fuse_fd;        /* the connection's /dev/fuse descriptor */
	int record_fd;      /* the connection record (fs_conn_record_create) */
	int worker_fd;      /* the worker record (struct supervisor_record) */
	int uncommitted_fd; /* the record of uncommitted changes (uncommitted.h) */
	int redo_fd; /* the redo log (redo_log.h); -1 from a supervisor without one */
	struct uncommitted *uncommitted; /* mapped by worker_watch_store */
	struct redo_log *redo; /* mapped by worker_watch_store */
};

/* Whether this process is a supervisor's worker; fills *ret_worker. */
bool worker_from_environment(struct worker *ret_worker);
/* The API port an earlier worker bound (0: none yet), to bind it again. */
unsigned worker_earlier_port(const struct worker *w);
/* Tell the supervisor this worker is ready, serving the API on port. */
int worker_announce_ready(const struct worker *w, unsigned port);
/* Right after the store opened: the acknowledged changes an earlier
 * worker's death left uncommitted are replayed from the redo log; where
 * that cannot be done exactly, the files concerned get EIO at their next
 * fsync/close. From now on the store logs and records what is uncommitted. */
int worker_watch_store(struct worker *w, struct store *store);
/* After the store closed (its final commit still reports to the record). */
void worker_unwatch_store(struct worker *w);

#endif
