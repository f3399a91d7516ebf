/*
 * store_vacuum.c — giving space back to the host: the background
 * incremental vacuum (store_vacuum_tick) and the offline compaction of a
 * stopped store (store_compact, `claimfsd --compact`).
 *
 * A deletion puts the store's pages on SQLite's freelist: later writes
 * reuse them, but the file keeps its length. A store created with
 * auto_vacuum = INCREMENTAL (every store this build creates,
 * store_schema_configure) can hand free pages back: `PRAGMA
 * incremental_vacuum` moves live pages from the end of the file into free
 * slots and cuts the end off, and the next checkpoint that copies the
 * whole WAL truncates the database file to that length. A store made
 * before that setting existed needs one VACUUM to switch it on, which
 * rewrites the whole file and needs free space as large as it: that is
 * store_compact, run with the daemon stopped, never a surprise at start-up.
 *
 * States of the background vacuum (checkpointer thread only):
 *   idle --free pages >= STORE_VACUUM_START_BYTES--> reclaiming
 *   reclaiming --slice, free pages still > STORE_VACUUM_KEEP_BYTES--> reclaiming
 *   reclaiming --free pages <= STORE_VACUUM_KEEP_BYTES--> idle, after a
 *     TRUNCATE checkpoint that shortens the database and the WAL on disk
 *     (store_vacuum_finish)
 * Each slice (store_vacuum_slice) is one store operation: it holds the
 * store lock for at most STORE_VACUUM_SLICE_NS and runs inside SAVEPOINT op
 * of the batch transaction; a tick runs slices for up to
 * STORE_VACUUM_TICK_NS, letting writers in between, and commits once at
 * its end (SIGKILL-durable, like any commit; a kill before the commit rolls
 * the slices back, and a slice only moves pages and shortens the freelist,
 * so nothing committed is touched either way). Writers wait at most one
 * slice. Never on a (nearly) full disk (low_space), nor while a stream
 * defers checkpoints (ckpt_deferring, ckpt_draining).
 *
 * Invariant: the vacuum never runs on a read-only store or one without
 * auto_vacuum = INCREMENTAL (s->incremental_vacuum false).
 */
#include "store_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Start reclaiming once this much of the file is free pages... */
#define STORE_VACUUM_START_BYTES (16ll << 20)
/* ... and stop once no more than this is left: a store that deletes and
 * writes in turn keeps some room without growing the file each time. */
#define STORE_VACUUM_KEEP_BYTES (4ll << 20)
/* Longest a slice holds the store lock. */
#define STORE_VACUUM_SLICE_NS (2 * 1000 * 1000)
/* Time one tick spends in slices, and the pause between two slices that
 * lets waiting writers take the lock. A store in use (others took the lock
 * more than STORE_VACUUM_BUSY_LOCKS times since the last tick; the commit
 * timer alone takes it a few times per tick) gets the shorter budget: the
 * slices move pages other requests may be reading, and write the WAL that
 * their commits and the checkpointer write too (after a 1 GiB deletion,
 * the full budget cut random 4 KiB reads running meanwhile to a fifth). */
#define STORE_VACUUM_TICK_NS (20 * 1000 * 1000)
#define STORE_VACUUM_BUSY_TICK_NS (4 * 1000 * 1000)
#define STORE_VACUUM_BUSY_LOCKS 8
#define STORE_VACUUM_PAUSE_NS (500 * 1000)
/* While idle, the free-page count is sampled every this many ticks. */
#define STORE_VACUUM_SAMPLE_TICKS 20

static int64_t store_vacuum_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Free pages in the database as the open batch sees it (lock held). */
static int store_vacuum_free_pages(struct store *s, int64_t *ret_pages)
{
	sqlite3_stmt *st = store_stmt(s, STMT_FREELIST_COUNT);
	int rc = store_step(s, st), r = 0;

	if (rc == SQLITE_ROW)
		*ret_pages = sqlite3_column_int64(st, 0);
	else
		r = store_errno(s, rc, "freelist count");
	sqlite3_reset(st);
	return r;
}

/* Move pages from the end of the file into free slots until `pages` are
 * gone, the free pages are used up or the slice's time is up (lock held,
 * inside an operation). Counts the pages removed into *ret_done. */
static int store_vacuum_steps(struct store *s, int64_t pages, int64_t *ret_done)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INCREMENTAL_VACUUM);
	int64_t deadline = store_vacuum_now_ns() + STORE_VACUUM_SLICE_NS;
	int64_t done = 0;
	int rc = SQLITE_ROW;

	assert(store_lock_held(s));
	/* The pragma answers one row per page it removed; stopping early
	 * keeps the pages already moved (they belong to the operation's
	 * savepoint, released by the caller). */
	while (done < pages && rc == SQLITE_ROW && store_vacuum_now_ns() < deadline) {
		rc = store_step(s, st);
		if (rc == SQLITE_ROW)
			done++;
	}
	sqlite3_reset(st);
	*ret_done = done;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_errno(s, rc, "incremental vacuum");
	return 0;
}

/* One slice: a store operation that removes free pages down to the keep
 * level for at most STORE_VACUUM_SLICE_NS, left in the batch transaction
 * (store_vacuum_tick commits). Sets *ret_free to the free pages left
 * (unchanged on failure). */
static int store_vacuum_slice(struct store *s, int64_t *ret_free)
{
	int64_t keep_pages = STORE_VACUUM_KEEP_BYTES / s->page_size, free_pages = 0, done = 0;
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_vacuum_free_pages(s, &free_pages);
	if (r == 0 && free_pages > keep_pages)
		r = store_vacuum_steps(s, free_pages - keep_pages, &done);
	r = store_op_end(s, r);
	if (r < 0)
		return r;
	atomic_fetch_add(&s->vacuum_pages, (uint64_t)done);
	*ret_free = free_pages - done;
	return 0;
}

/* Reclaiming is over: copy the whole WAL into the database and cut both
 * files to their length, so the host gets the space back now rather than
 * at the next restart of a long WAL (lock held briefly). */
static void store_vacuum_finish(struct store *s)
{
	int r;

	/* Copy what it can without the store lock first, so that the
	 * truncating checkpoint below, which writers wait for, copies little. */
	if (sqlite3_wal_checkpoint_v2(s->checkpoint_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
	    SQLITE_OK)
		log_debug("store: checkpoint before truncating: %s", sqlite3_errmsg(s->checkpoint_db));
	store_lock(s);
	r = s->op_depth == 0 ? store_commit(s) : -EBUSY;
	if (r == 0) {
		int rc = sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (rc == SQLITE_OK)
			s->wal_frames = 0;
		else
			r = rc == SQLITE_BUSY ? -EBUSY : store_errno(s, rc, "truncating checkpoint");
	}
	store_unlock(s);
	if (r < 0)
		log_debug("store: the truncating checkpoint after a vacuum waits for a later one: %s",
			  strerror(-r));
}

/* Whether the store is (still) worth vacuuming: samples the free pages
 * while idle, every STORE_VACUUM_SAMPLE_TICKS ticks (checkpointer thread). */
static bool store_vacuum_wanted(struct store *s)
{
	int64_t free_pages = 0;
	int r;

	if (s->vacuum_reclaiming)
		return true;
	if (++s->vacuum_idle_ticks < STORE_VACUUM_SAMPLE_TICKS)
		return false;
	s->vacuum_idle_ticks = 0;
	store_lock(s);
	r = store_vacuum_free_pages(s, &free_pages);
	store_unlock(s);
	if (r < 0)
		return false;
	atomic_store(&s->vacuum_free_pages, (uint64_t)free_pages);
	s->vacuum_reclaiming = free_pages * s->page_size >= STORE_VACUUM_START_BYTES;
	return s->vacuum_reclaiming;
}

void store_vacuum_tick(struct store *s)
{
	int64_t free_pages = (int64_t)atomic_load(&s->vacuum_free_pages);
	uint64_t taken = atomic_load_explicit(&s->lock_taken, memory_order_relaxed);
	bool busy = taken - s->vacuum_seen_taken > STORE_VACUUM_BUSY_LOCKS;
	int64_t end = store_vacuum_now_ns() + (busy ? STORE_VACUUM_BUSY_TICK_NS : STORE_VACUUM_TICK_NS);
	const struct timespec pause = { 0, STORE_VACUUM_PAUSE_NS };
	int r;

	/* Not on a (nearly) full disk: the slices write to the WAL first, and
	 * an ENOSPC there would release the reserve kept for deletions. Not
	 * while a stream of writes holds the checkpointer back or its long WAL
	 * is being copied (store_checkpoint_tick): the stream takes free pages
	 * anyway, and the truncating checkpoint at the end would copy that
	 * whole WAL with the store lock held. */
	if (s->read_only || !s->incremental_vacuum || !s->checkpoint_db || atomic_load(&s->low_space) ||
	    atomic_load(&s->ckpt_deferring) || atomic_load(&s->ckpt_draining) || !store_vacuum_wanted(s)) {
		s->vacuum_seen_taken = taken;
		return;
	}
	do {
		r = store_vacuum_slice(s, &free_pages);
		if (r < 0)
			break;
		atomic_store(&s->vacuum_free_pages, (uint64_t)free_pages);
		if (free_pages * s->page_size <= STORE_VACUUM_KEEP_BYTES)
			break;
		nanosleep(&pause, NULL);
	} while (store_vacuum_now_ns() < end);
	/* One commit per tick for the slices (SIGKILL-durable, as any commit):
	 * committing each would commit the writers' batch every slice too. */
	if (r == 0)
		r = store_sync(s, false);
	/* The lock taken by the slices is not somebody else's use. */
	s->vacuum_seen_taken = atomic_load_explicit(&s->lock_taken, memory_order_relaxed);
	if (r < 0) {
		/* Tried again at the next sample; the pages stay free meanwhile. */
		log_warn("store: giving free pages back to the host failed: %s", strerror(-r));
		s->vacuum_reclaiming = false;
		return;
	}
	if (free_pages * s->page_size > STORE_VACUUM_KEEP_BYTES)
		return;
	s->vacuum_reclaiming = false;
	store_vacuum_finish(s);
}

void store_get_space_stats(struct store *s, struct store_space_stats *ret_stats)
{
	ret_stats->page_size = (uint64_t)s->page_size;
	ret_stats->free_pages = atomic_load(&s->vacuum_free_pages);
	ret_stats->vacuumed_bytes = atomic_load(&s->vacuum_pages) * (uint64_t)s->page_size;
	ret_stats->incremental_vacuum = s->incremental_vacuum;
}

/* Read auto_vacuum at open: whether the background vacuum can run
 * (store_open; the daemon tells the operator when it cannot). */
int store_vacuum_load(struct store *s)
{
	int64_t mode = 0;
	int r = store_query_int(s, "PRAGMA auto_vacuum", &mode);

	if (r < 0)
		return r;
	/* 2 is INCREMENTAL (1 FULL, never set here). */
	s->incremental_vacuum = mode == 2;
	return 0;
}

/* Bytes of the file at path plus its WAL (0 for a missing file). */
static uint64_t store_vacuum_file_bytes(const char *path)
{
	char wal[PATH_MAX + 8];
	struct stat st;
	uint64_t total = 0;

	if (stat(path, &st) == 0)
		total += (uint64_t)st.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &st) == 0)
		total += (uint64_t)st.st_size;
	return total;
}

int store_compact(struct store *s, uint64_t *ret_before, uint64_t *ret_after)
{
	uint64_t before = store_vacuum_file_bytes(s->path);
	int r;

	if (s->read_only)
		return -EROFS;
	store_lock(s);
	r = store_commit(s);
	if (r == 0) {
		/* VACUUM builds the new database in a temporary file as large as
		 * the store: on disk, not in memory (store_memvfs.c). It applies
		 * auto_vacuum = INCREMENTAL, set by store_schema_configure. */
		store_memvfs_spill_to_disk(true);
		r = store_exec_once(s, "VACUUM", 0, 0);
		store_memvfs_spill_to_disk(false);
	}
	if (r == 0) {
		int rc = sqlite3_wal_checkpoint_v2(s->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if (rc == SQLITE_OK)
			s->wal_frames = 0;
		else
			r = store_errno(s, rc, "checkpoint after VACUUM");
	}
	if (r == 0) {
		int64_t mode = 0;
		r = store_query_int(s, "PRAGMA auto_vacuum", &mode);
		s->incremental_vacuum = r == 0 && mode == 2;
		if (r == 0 && !s->incremental_vacuum) {
			log_error("store: VACUUM left auto_vacuum at %" PRId64 ", not incremental", mode);
			r = -EIO;
		}
	}
	store_unlock(s);
	if (r < 0)
		return r;
	*ret_before = before;
	*ret_after = store_vacuum_file_bytes(s->path);
	return 0;
}
