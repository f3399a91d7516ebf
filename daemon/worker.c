/*
 * worker.c — the worker's side of claimfsd --supervise (supervisor.c is the
 * other): the descriptors inherited from the supervisor, the worker record
 * (API port, readiness), the record of acknowledged but uncommitted
 * changes, kept up to date by the store's batch hooks, and the redo log.
 *
 * Durability across a worker's death: a change is acknowledged when the
 * FUSE reply goes out, committed when its batch commits (every 100 ms, at
 * fsync, at close). Before the reply, the store has logged the operation in
 * the redo log (store_redo.c) and noted the changed inode in the record of
 * uncommitted changes (uncommitted_note), both in shared memory the
 * supervisor holds; the commit empties both. A new worker first replays the
 * log (store_redo_attach); if that is exact, nothing was lost and the record
 * is cleared. Otherwise the files the record lists lost acknowledged
 * changes, and their next fsync or close returns EIO once (store_mark_lost)
 * — as Linux reports a writeback error — so a loss is never silent.
 * (Committing before every reply would avoid both, at a cost measured too
 * high; see README.md.)
 */
#include "worker.h"

#include "fs.h"
#include "log.h"
#include "redo_log.h"
#include "store.h"
#include "supervisor.h"
#include "uncommitted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool worker_from_environment(struct worker *ret_worker)
{
	const char *env = getenv(SUPERVISOR_ENV);
	struct worker w = { .redo_fd = -1 };

	/* Four descriptors from a supervisor that predates the redo log (an
	 * upgrade re-executes only the worker). */
	int n = env ? sscanf(env, "%d,%d,%d,%d,%d", &w.fuse_fd, &w.record_fd, &w.worker_fd, &w.uncommitted_fd,
			     &w.redo_fd)
		    : 0;
	if (n != 4 && n != 5)
		return false;
	unsetenv(SUPERVISOR_ENV);
	/* Not for the worker's own children. */
	int fds[5] = { w.fuse_fd, w.record_fd, w.worker_fd, w.uncommitted_fd, w.redo_fd };
	for (int i = 0; i < n; i++)
		if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
			return false;
	*ret_worker = w;
	return true;
}

unsigned worker_earlier_port(const struct worker *w)
{
	struct supervisor_record rec;

	supervisor_record_read(w->worker_fd, &rec);
	return rec.port;
}

int worker_announce_ready(const struct worker *w, unsigned port)
{
	struct supervisor_record rec = { .magic = SUPERVISOR_RECORD_MAGIC, .port = port, .ready = 1 };

	return pwrite(w->worker_fd, &rec, sizeof(rec), 0) == (ssize_t)sizeof(rec) ? 0 : -errno;
}

static bool worker_changed(void *ud, uint64_t ino)
{
	return uncommitted_note(ud, ino);
}

static void worker_committed(void *ud)
{
	uncommitted_committed(ud);
}

static void worker_naming(void *ud)
{
	(void)ud;
	fs_note_request_applied();
}

static void worker_reported(void *ud, uint64_t ino)
{
	uncommitted_reported(ud, ino);
}

/* Replay the dead worker's acknowledged operations; true if none is lost
 * (the record of uncommitted changes then has nothing to report). */
static bool worker_replay(struct worker *w, struct store *store)
{
	size_t replayed = 0;
	int r;

	if (w->redo_fd < 0)
		return false;
	r = redo_log_open(w->redo_fd, &w->redo);
	if (r < 0) {
		log_error("cannot map the redo log: %s", strerror(-r));
		return false;
	}
	/* A log no worker armed (the dead one predates it) proves nothing. */
	bool armed = redo_log_armed(w->redo);
	r = store_redo_attach(store, w->redo, &replayed);
	if (r < 0) {
		log_error("the previous worker's acknowledged changes could not be replayed exactly (%s): "
			  "reporting them lost instead",
			  strerror(-r));
		return false;
	}
	if (replayed > 0)
		log_info("replayed %zu acknowledged operation(s) the previous worker had not committed", replayed);
	return armed;
}

int worker_watch_store(struct worker *w, struct store *store)
{
	const uint64_t *lost;
	int r = uncommitted_open(w->uncommitted_fd, &w->uncommitted);

	if (r < 0) {
		log_error("cannot map the record of uncommitted changes: %s", strerror(-r));
		return r;
	}
	if (worker_replay(w, store))
		uncommitted_committed(w->uncommitted);
	size_t count = uncommitted_take_over(w->uncommitted, &lost);
	for (size_t i = 0; i < count; i++) {
		r = store_mark_lost(store, lost[i]);
		if (r < 0)
			return r;
	}
	if (count > 0)
		log_error("%zu file(s) lost changes that were acknowledged but not committed when the previous "
			  "worker died: the next fsync or close of each returns EIO",
			  count);
	const struct store_batch_hooks hooks = { .changed = worker_changed, .committed = worker_committed,
						 .reported = worker_reported, .naming = worker_naming,
						 .ud = w->uncommitted };
	store_set_batch_hooks(store, &hooks);
	return 0;
}

void worker_unwatch_store(struct worker *w)
{
	uncommitted_close(w->uncommitted);
	w->uncommitted = NULL;
	redo_log_close(w->redo);
	w->redo = NULL;
}
