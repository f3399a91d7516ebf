/*
 * store_txn.c — the store lock, the batched write transaction, the durability
 * points and the background checkpointer; the one SQLITE_* -> errno mapping
 * (store_errno).
 *
 * State transitions of the write transaction (all under store->lock):
 *   idle --store_op_begin--> in_txn (BEGIN IMMEDIATE, then SAVEPOINT op)
 *   idle --store_lock_read--> in_txn (BEGIN IMMEDIATE; reads join the batch)
 *   in_txn --store_op_end(ok)--> in_txn (RELEASE op; change_seq++)
 *   in_txn --store_op_end(err)--> in_txn (ROLLBACK TO op; RELEASE op)
 *   in_txn --store_commit--> idle (COMMIT; committed_seq = change_seq)
 * Durability: store_sync(durable) commits and then fsyncs the WAL outside the
 * lock, under sync_lock, so concurrent fsync(2) callers share one WAL fsync
 * (group commit). The database runs with synchronous=NORMAL: a COMMIT
 * reaches the WAL (survives SIGKILL); the WAL fsync makes it survive power
 * loss.
 *
 * Invariant: no statement is left un-reset after a public function returns;
 * every public function leaves op_depth as it found it.
 */
#include "store_internal.h"
#include "store_redo.h"

#include "log.h"
#include "metrics.h"
#include "redo_log.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* Map an SQLite result code to a negative errno (the one place that does). */
int store_errno(struct store *s, int rc, const char *what)
{
	int err;

	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		err = -ENOSPC;
		break;
	case SQLITE_NOMEM:
		err = -ENOMEM;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		err = -EBUSY;
		break;
	case SQLITE_READONLY:
		err = -EROFS;
		break;
	case SQLITE_CONSTRAINT:
		err = -EEXIST;
		break;
	case SQLITE_TOOBIG:
		err = -EFBIG;
		break;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		err = -EACCES;
		break;
	case SQLITE_CANTOPEN:
		err = -ENOENT;
		break;
	default:
		err = -EIO;
		break;
	}
	/* An I/O error that was the host disk filling up is ENOSPC to users. */
	if (err == -EIO && s && s->db) {
		int sys = sqlite3_system_errno(s->db);
		if (sys == ENOSPC || sys == EDQUOT)
			err = -ENOSPC;
	}
	if (err == -ENOSPC && s)
		store_disk_exhausted(s);
	if (err == -ENOSPC || err == -EIO || err == -EBUSY)
		log_error("store: %s: %s (sqlite %d)", what,
			  s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
	return err;
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt which)
{
	assert(store_lock_held(s));
	return s->stmt[which];
}

/* ---- binding and stepping ------------------------------------------------
 *
 * A statement's parameters are bound one after the other and the statement
 * is then stepped. Each store_bind_* keeps the first failure in the store
 * (lock held: the statements and this error are shared state) and
 * store_step returns it instead of running the statement, so every bind is
 * checked once, and its SQLITE_* code takes the caller's existing path to
 * store_errno. Text and blobs are bound SQLITE_STATIC: the caller keeps them
 * alive until the statement is reset.
 */

static void store_bind_result(struct store *s, sqlite3_stmt *st, int rc)
{
	assert(store_lock_held(s));
	if (rc != SQLITE_OK && s->bind_rc == SQLITE_OK) {
		s->bind_rc = rc;
		s->bind_stmt = st;
	}
}

void store_bind_int64(struct store *s, sqlite3_stmt *st, int index, int64_t value)
{
	store_bind_result(s, st, sqlite3_bind_int64(st, index, value));
}

void store_bind_text(struct store *s, sqlite3_stmt *st, int index, const char *text)
{
	store_bind_result(s, st, sqlite3_bind_text(st, index, text, -1, SQLITE_STATIC));
}

void store_bind_blob(struct store *s, sqlite3_stmt *st, int index, const void *data, size_t len)
{
	if (len > INT_MAX) {
		store_bind_result(s, st, SQLITE_TOOBIG);
		return;
	}
	store_bind_result(s, st, sqlite3_bind_blob(st, index, data, (int)len, SQLITE_STATIC));
}

void store_bind_null(struct store *s, sqlite3_stmt *st, int index)
{
	store_bind_result(s, st, sqlite3_bind_null(st, index));
}

/* Forget a failed bind whose statement was never stepped (an early return
 * between bind and step): its error is no business of the next statement. */
static void store_bind_abandon(struct store *s)
{
	log_error("store: binding \"%s\" failed (sqlite %d) and it never ran", sqlite3_sql(s->bind_stmt),
		  s->bind_rc);
	s->bind_rc = SQLITE_OK;
	s->bind_stmt = NULL;
}

/* sqlite3_step, or the SQLITE_* code of the first of st's binds that failed. */
int store_step(struct store *s, sqlite3_stmt *st)
{
	int rc = s->bind_rc;

	assert(store_lock_held(s));
	if (rc == SQLITE_OK)
		return sqlite3_step(st);
	if (s->bind_stmt != st) {
		store_bind_abandon(s);
		return sqlite3_step(st);
	}
	s->bind_rc = SQLITE_OK;
	s->bind_stmt = NULL;
	return rc;
}

/* Step a statement that returns no rows and reset it. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = store_step(s, st);

	assert(store_lock_held(s));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_errno(s, rc, what);
	return 0;
}

/* How deep this thread holds the (recursive) store lock. */
static _Thread_local unsigned store_lock_depth;

_Thread_local const char store_lock_token;

void store_lock(struct store *s)
{
	int rc = pthread_mutex_lock(&s->lock);

	assert(rc == 0);
	(void)rc;
	store_lock_depth++;
	if (s->lock_owner_depth++ == 0) {
		atomic_store(&s->lock_owner, &store_lock_token);
		atomic_fetch_add_explicit(&s->lock_taken, 1, memory_order_relaxed);
	}
}

/* Open the batch transaction (lock held) so the statements that follow share
 * one read snapshot and one set of SQLite locks: in autocommit mode every
 * statement takes and drops the WAL read lock itself (two fcntl calls). */
static int store_txn_open(struct store *s)
{
	assert(store_lock_held(s));
	if (s->in_txn)
		return 0;
	int r = store_step_done(s, s->stmt[STMT_BEGIN], "BEGIN");
	if (r < 0)
		return r;
	s->in_txn = true;
	clock_gettime(CLOCK_MONOTONIC, &s->txn_started);
	return 0;
}

void store_lock_read(struct store *s)
{
	store_lock(s);
	if (!s->read_only && store_txn_open(s) < 0)
		log_debug("store: reading without the batch transaction: %s", sqlite3_errmsg(s->db));
}

void store_unlock(struct store *s)
{
	assert(store_lock_depth > 0);
	assert(store_lock_held(s));
	store_lock_depth--;
	if (--s->lock_owner_depth == 0) {
		/* Invariant: no bind error outlives the lock that covered it. */
		if (s->bind_rc != SQLITE_OK)
			store_bind_abandon(s);
		atomic_store(&s->lock_owner, NULL);
	}
	int rc = pthread_mutex_unlock(&s->lock);

	assert(rc == 0);
	(void)rc;
}

void store_set_invalidate_hook(struct store *s, store_invalidate_cb cb, void *ud)
{
	store_lock(s);
	s->invalidate_cb = cb;
	s->invalidate_ud = ud;
	store_unlock(s);
}

/* Remember a top-level entry that changed (lock held). */
void store_queue_invalidation(struct store *s, uint64_t parent, const char *name)
{
	assert(store_lock_held(s));
	if (!s->invalidate_cb)
		return;
	if (s->invalidation_count == s->invalidation_capacity) {
		size_t bigger = s->invalidation_capacity ? s->invalidation_capacity * 2 : 8;
		struct store_invalidation *grown = realloc(s->invalidations, bigger * sizeof(*grown));
		if (!grown) {
			log_warn("store: out of memory queueing a cache invalidation for %s", name);
			return;
		}
		s->invalidations = grown;
		s->invalidation_capacity = bigger;
	}
	struct store_invalidation *inv = &s->invalidations[s->invalidation_count++];
	inv->parent = parent;
	snprintf(inv->name, sizeof(inv->name), "%s", name);
}

/* Hand queued invalidations to the hook, only when this thread holds no
 * store lock: the kernel may wait for a directory lock held by a request
 * that waits for ours. */
static void store_deliver_invalidations(struct store *s)
{
	struct store_invalidation *batch;
	size_t count;

	if (store_lock_depth > 0)
		return;
	store_lock(s);
	batch = s->invalidations;
	count = s->invalidation_count;
	store_invalidate_cb cb = s->invalidate_cb;
	void *ud = s->invalidate_ud;
	s->invalidations = NULL;
	s->invalidation_count = s->invalidation_capacity = 0;
	store_unlock(s);
	for (size_t i = 0; cb && i < count; i++)
		cb(ud, batch[i].parent, batch[i].name);
	free(batch);
}

bool store_may_have_xattr(struct store *s, const char *name)
{
	if (strcmp(name, "security.capability") == 0)
		return atomic_load(&s->capability_xattrs);
	return true;
}

void store_set_batch_hooks(struct store *s, const struct store_batch_hooks *hooks)
{
	store_lock(s);
	s->batch_hooks = hooks ? *hooks : (struct store_batch_hooks){ 0 };
	store_unlock(s);
}

void store_note_changed(struct store *s, uint64_t ino)
{
	assert(store_lock_held(s));
	s->redo_op_changed = true;
	if (store_inomap_get(&s->txn_inodes, ino) != 0)
		return;
	if (s->batch_hooks.changed && !s->batch_hooks.changed(s->batch_hooks.ud, ino))
		s->txn_commit_due = true;
	if (store_inomap_add(&s->txn_inodes, ino, 1, NULL) < 0) {
		/* Every close now commits until the batch does (store_flush). */
		s->txn_untracked = true;
		log_warn("store: out of memory tracking changed inodes");
	}
}

/* The open transaction was rolled back as a whole: remember whose changes
 * were lost so their fsync/close can say so. */
static void store_note_lost(struct store *s)
{
	assert(store_lock_held(s));
	for (size_t i = 0; i < s->txn_inodes.capacity; i++) {
		uint64_t ino = s->txn_inodes.keys[i];
		if (ino != 0 && ino != UINT64_MAX && store_inomap_get(&s->lost_inodes, ino) == 0)
			store_inomap_add(&s->lost_inodes, ino, 1, NULL);
	}
	store_inomap_clear(&s->txn_inodes);
	/* Not replayable: a later worker reports these lost as well (its
	 * record of uncommitted changes still lists them). */
	if (s->redo) {
		redo_log_append(s->redo, s->redo_batch, STORE_REDO_OPAQUE, NULL, 0);
		s->redo_batch++;
	}
}

/* -EIO once if changes to ino were lost by a rolled-back transaction (or
 * by an earlier process, store_mark_lost). */
int store_take_lost(struct store *s, uint64_t ino)
{
	int r = 0;

	store_lock(s);
	if (store_inomap_get(&s->lost_inodes, ino)) {
		store_inomap_add(&s->lost_inodes, ino, -1, NULL);
		if (s->batch_hooks.reported)
			s->batch_hooks.reported(s->batch_hooks.ud, ino);
		r = -EIO;
	}
	store_unlock(s);
	return r;
}

int store_mark_lost(struct store *s, uint64_t ino)
{
	int r = 0;

	store_lock(s);
	/* A lost creation's number is still the kernel's name for a file: were
	 * it handed out again, that file's descriptors and cached names would
	 * reach the new one, in this claim or another. */
	if (ino >= s->next_ino)
		s->next_ino = ino + 1;
	if (store_inomap_get(&s->lost_inodes, ino) == 0)
		r = store_inomap_add(&s->lost_inodes, ino, 1, NULL);
	store_unlock(s);
	return r;
}


/* ---- transactions -------------------------------------------------------- */

static int store_exec_stmt(struct store *s, enum store_stmt which)
{
	assert(store_lock_held(s));
	return store_step_done(s, s->stmt[which], sqlite3_sql(s->stmt[which]));
}

/* Records the WAL's length after every commit of the main connection. */
static int store_wal_hook(void *ud, sqlite3 *db, const char *schema, int frames)
{
	struct store *s = ud;

	(void)db;
	(void)schema;
	s->wal_frames = frames;
	if (frames > atomic_load(&s->wal_frames_max))
		atomic_store(&s->wal_frames_max, frames);
	return SQLITE_OK;
}

/* Count WAL frames after every commit of the main connection (writable stores). */
void store_txn_watch_wal(struct store *s)
{
	sqlite3_wal_hook(s->db, store_wal_hook, s);
}

/* Copy what is left of the WAL into the database and start it over, so it
 * does not grow while the batch transaction keeps the checkpointer from
 * resetting it (lock held, no transaction open). */
static void store_wal_restart(struct store *s)
{
	int log_frames = 0, done = 0;
	/* Short on disk, also give the WAL file's space back: a restarted WAL
	 * keeps its size (up to journal_size_limit), and on a small disk that
	 * is room the deletions that just committed cannot free. After a
	 * stream, start from an empty file too (STORE_WAL_KEEP_BYTES). */
	bool truncate = atomic_load(&s->low_space) ||
			(int64_t)s->wal_frames * s->page_size > STORE_WAL_KEEP_BYTES;
	int rc = sqlite3_wal_checkpoint_v2(s->db, "main",
					   truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_RESTART,
					   &log_frames, &done);

	assert(store_lock_held(s));
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("store: WAL restart: %s", sqlite3_errmsg(s->db));
	else
		log_debug("store: WAL %s after %d frames (%d copied now)%s",
			  truncate ? "truncation" : "restart", (int)s->wal_frames, done,
			  rc == SQLITE_BUSY ? ", busy" : "");
	/* Busy (the checkpointer holds its lock: SQLite returns at once), the
	 * WAL keeps its length and the next commit tries again. */
	if (rc == SQLITE_OK)
		s->wal_frames = 0;
}

/* Whether SQLite ended the batch transaction by itself (lock held). A
 * statement that fails with SQLITE_FULL or an I/O error and has no
 * statement journal of its own (a one-row UPDATE, say) makes SQLite roll
 * back the whole transaction, savepoints included: every change of the
 * batch is gone and later statements would each commit on their own. Treat
 * it as a failed commit: the batch's inodes get EIO at their next fsync or
 * close, and the next operation opens a new transaction. */
static bool store_txn_vanished(struct store *s)
{
	assert(store_lock_held(s));
	if (!s->in_txn || !sqlite3_get_autocommit(s->db))
		return false;
	log_error("store: SQLite rolled the batch transaction back: %d uncommitted operations lost",
		  s->txn_ops);
	s->in_txn = false;
	s->txn_ops = 0;
	s->txn_bytes = 0;
	store_note_lost(s);
	return true;
}

/* Before COMMIT: the batch's sequence goes into meta in the same
 * transaction, so a replayer skips the log's records of a committed batch
 * even if the process dies before it empties the log. */
static int store_redo_seal(struct store *s)
{
	if (!s->redo || s->txn_ops == 0)
		return 0;
	sqlite3_stmt *st = store_stmt(s, STMT_META_SET);
	store_bind_text(s, st, 1, STORE_REDO_META_KEY);
	store_bind_int64(s, st, 2, (int64_t)s->redo_batch);
	return store_step_done(s, st, "seal the redo batch");
}

/* COMMIT the open transaction (lock held). */
int store_commit(struct store *s)
{
	struct timespec start, end;
	int r;

	assert(store_lock_held(s));
	assert(s->op_depth == 0);
	if (store_txn_vanished(s) || !s->in_txn)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint64_t metrics_start = metrics_now_ns();
	r = store_redo_seal(s);
	if (r < 0)
		return r;
	r = store_exec_stmt(s, STMT_COMMIT);
	metrics_record(&metrics_commit, metrics_start, r < 0);
	if (r < 0) {
		/* A failed COMMIT may have rolled the transaction back itself. */
		if (sqlite3_get_autocommit(s->db)) {
			s->in_txn = false;
			store_note_lost(s);
			log_error("store: commit failed and rolled back: %d uncommitted operations lost",
				  s->txn_ops);
		}
		return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	bool wrote = s->txn_ops > 0;
	s->in_txn = false;
	s->txn_ops = 0;
	s->txn_bytes = 0;
	store_inomap_clear(&s->txn_inodes);
	s->txn_untracked = false;
	s->txn_commit_due = false;
	if (s->redo) {
		redo_log_reset(s->redo);
		s->redo_batch++;
	}
	if (s->batch_hooks.committed)
		s->batch_hooks.committed(s->batch_hooks.ud);
	atomic_store(&s->committed_seq, atomic_load(&s->change_seq));
	/* Short on disk: restart the WAL early so it reuses its space. A
	 * stream's long WAL is left to the checkpointer (store_checkpoint_tick):
	 * restarting it here would copy it all inside this commit. */
	int restart_frames = store_wal_restart_frames(s);
	if (atomic_load(&s->ckpt_deferring) || atomic_load(&s->ckpt_draining))
		restart_frames = (int)(STORE_WAL_DEFER_MAX_BYTES / s->page_size);
	if (s->wal_frames > restart_frames || (atomic_load(&s->low_space) && s->wal_frames > 0))
		store_wal_restart(s);
	if (!wrote)
		return 0; /* a read-only batch (store_lock_read) */
	atomic_fetch_add(&s->stat_commits, 1);
	atomic_fetch_add(&s->stat_commit_ns,
			 (uint64_t)((end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec)));
	return 0;
}

/* Count one change of the batch transaction (lock held, in_txn): an
 * operation that ended well, or a single statement run without a savepoint
 * of its own (a single statement is atomic). */
void store_count_change(struct store *s)
{
	assert(store_lock_held(s));
	assert(s->in_txn);
	store_redo_op_done(s);
	atomic_fetch_add(&s->change_seq, 1);
	s->txn_ops++;
}

/* Start a mutating operation: take the lock, open the batch transaction if
 * needed and set a savepoint. On failure the lock is released. */
int store_op_begin(struct store *s)
{
	int r;

	store_lock(s);
	if (s->read_only) {
		r = -EROFS;
		goto fail;
	}
	r = store_txn_open(s);
	if (r < 0)
		goto fail;
	r = store_exec_stmt(s, STMT_SAVEPOINT);
	if (r < 0)
		goto fail;
	if (s->op_depth++ == 0 && s->redo) {
		s->redo_mark = redo_log_mark(s->redo);
		s->redo_op_changed = s->redo_op_logged = false;
	}
	return 0;
fail:
	store_unlock(s);
	return r;
}

/* Finish a mutating operation started by store_op_begin: keep its changes
 * (rc >= 0) or roll them back; releases the lock. Returns rc, or the error of
 * the savepoint release. */
int store_op_end(struct store *s, int rc)
{
	int r;

	assert(s->op_depth > 0);
	if (store_txn_vanished(s) || !s->in_txn) {
		/* No savepoint left to roll back or release; this operation's
		 * changes went with the transaction. */
		s->op_depth--;
		if (rc >= 0)
			rc = -EIO;
		store_unlock(s);
		return rc;
	}
	if (rc < 0) {
		r = store_exec_stmt(s, STMT_ROLLBACK_TO);
		if (r < 0)
			log_error("store: rollback to savepoint failed");
		store_redo_rolled_back(s);
	} else if (s->op_depth > 1) {
		store_redo_op_done(s); /* an inner operation of a batch */
	}
	r = store_exec_stmt(s, STMT_RELEASE);
	s->op_depth--;
	if (r < 0 && rc >= 0)
		rc = r;
	if (rc >= 0 && s->op_depth == 0) {
		store_count_change(s);
		if (s->txn_ops >= STORE_TXN_MAX_OPS || s->txn_bytes >= STORE_TXN_MAX_BYTES ||
		    s->txn_commit_due) {
			r = store_commit(s);
			if (r < 0)
				log_warn("store: batch commit failed: %s", strerror(-r));
		}
	}
	bool outermost = s->op_depth == 0;
	store_unlock(s);
	/* Big deletions queued by this operation run now, chunk by chunk. */
	if (outermost && s->reclaim.used > 0)
		s->reclaim_pending(s);
	if (outermost && s->invalidation_count > 0)
		store_deliver_invalidations(s);
	return rc;
}

int store_batch_begin(struct store *s)
{
	return store_op_begin(s);
}

int store_batch_end(struct store *s, int rc)
{
	return store_op_end(s, rc);
}

/* fsync the WAL file (not under the store lock). */
static int store_sync_wal(struct store *s, uint64_t target)
{
	sqlite3_file *wal = NULL;
	int rc, r = 0;

	pthread_mutex_lock(&s->sync_lock);
	if (atomic_load(&s->durable_seq) >= target)
		goto out; /* another caller's fsync covered our commit */
	/* Everything committed up to now is covered by this fsync. */
	uint64_t covered = atomic_load(&s->committed_seq);
	store_lock(s);
	rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
	store_unlock(s);
	if (rc != SQLITE_OK || !wal || !wal->pMethods) {
		r = rc != SQLITE_OK ? store_errno(s, rc, "journal pointer") : -EIO;
		goto out;
	}
	uint64_t metrics_start = metrics_now_ns();
	rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
	metrics_record(&metrics_durable_sync, metrics_start, rc != SQLITE_OK);
	if (rc != SQLITE_OK) {
		r = store_errno(NULL, rc, "fsync of the WAL");
		goto out;
	}
	atomic_fetch_add(&s->stat_durable_commits, 1);
	if (atomic_load(&s->durable_seq) < covered)
		atomic_store(&s->durable_seq, covered);
out:
	pthread_mutex_unlock(&s->sync_lock);
	return r;
}

int store_sync(struct store *s, bool durable)
{
	uint64_t target;
	int r = 0;

	store_lock(s);
	if (s->read_only)
		goto unlock;
	/* Inside a batch the caller's batch_end decides; nothing to do yet. */
	if (s->op_depth > 0)
		goto unlock;
	if (atomic_load(&s->committed_seq) != atomic_load(&s->change_seq) || s->in_txn) {
		r = store_commit(s);
		if (r < 0)
			goto unlock;
	}
	target = atomic_load(&s->committed_seq);
	store_unlock(s);
	if (!durable || atomic_load(&s->durable_seq) >= target)
		return 0;
	return store_sync_wal(s, target);
unlock:
	store_unlock(s);
	return r;
}

int store_sync_if_older(struct store *s, unsigned max_age_ms)
{
	struct timespec now;
	int64_t age_ms;
	int r = 0;

	store_lock(s);
	if (s->in_txn && s->op_depth == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		age_ms = (now.tv_sec - s->txn_started.tv_sec) * 1000 +
			 (now.tv_nsec - s->txn_started.tv_nsec) / 1000000;
		if (age_ms >= (int64_t)max_age_ms)
			r = store_commit(s);
	}
	store_unlock(s);
	store_disk_recheck(s);
	return r;
}

void store_set_stream_rate(struct store *s, uint64_t bytes_per_s)
{
	atomic_store(&s->stream_rate, bytes_per_s);
}

/* Whether file data streams in now (stream_rate since the last
 * tick; a quarter of that keeps a stream going, and a stream survives
 * quieter ticks for STORE_STREAM_GRACE_MS) and the WAL may still grow
 * (checkpointer thread). */
static bool store_checkpoint_defer(struct store *s)
{
	struct timespec now;
	struct statvfs sv;

	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t bytes = atomic_load(&s->stat_stream_bytes);
	int64_t dt_ns = (now.tv_sec - s->ckpt_last_time.tv_sec) * 1000000000LL +
			(now.tv_nsec - s->ckpt_last_time.tv_nsec);
	uint64_t delta = bytes - s->ckpt_last_bytes;
	s->ckpt_last_bytes = bytes;
	s->ckpt_last_time = now;
	double rate = dt_ns > 0 ? (double)delta * 1e9 / (double)dt_ns : 0;
	uint64_t start = atomic_load(&s->stream_rate);
	bool deferring = atomic_load(&s->ckpt_deferring);
	if (start == 0)
		return false;
	int64_t quiet_ms = (now.tv_sec - s->ckpt_stream_seen.tv_sec) * 1000LL +
			   (now.tv_nsec - s->ckpt_stream_seen.tv_nsec) / 1000000;
	if (rate >= (double)start / (deferring ? 4 : 1))
		s->ckpt_stream_seen = now;
	else if (!deferring || quiet_ms >= STORE_STREAM_GRACE_MS)
		return false;
	if (atomic_load(&s->low_space) ||
	    (int64_t)atomic_load(&s->wal_frames) * s->page_size >= STORE_WAL_DEFER_MAX_BYTES)
		return false;
	/* Room for the longest WAL and for its copy into the database. */
	if (statvfs(s->path, &sv) != 0 ||
	    (int64_t)sv.f_bavail * (int64_t)sv.f_frsize < 2 * STORE_WAL_DEFER_MAX_BYTES + STORE_LOW_SPACE_BYTES)
		return false;
	return true;
}

void store_checkpoint_tick(struct store *s)
{
	if (!s->checkpoint_db)
		return;
	bool defer = store_checkpoint_defer(s);
	/* A stream's long WAL takes a while to copy: keep the commit path
	 * from restarting it (a full copy under the store lock) in case it
	 * gets the checkpoint lock first. Set before deferring ends, so that
	 * checkpoint_pending never reads false in between. */
	if (!defer)
		atomic_store(&s->ckpt_draining, atomic_load(&s->wal_frames) > 4 * store_wal_restart_frames(s));
	atomic_store(&s->ckpt_deferring, defer);
	if (defer) {
		atomic_fetch_add(&s->stat_ckpt_deferred, 1);
		return;
	}
	/* Checkpoint on a second connection: no store lock, off the FUSE path. */
	int log_frames = 0, done_frames = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->checkpoint_db, "main", SQLITE_CHECKPOINT_PASSIVE,
					   &log_frames, &done_frames);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("store: checkpoint: %s", sqlite3_errmsg(s->checkpoint_db));
	/* A PASSIVE checkpoint that cannot reach the end of the WAL (writes
	 * keep coming) copies pages into the database file without syncing it;
	 * the WAL restart in store_commit then has to sync all of them, under
	 * the store lock and in some fsync(2)'s latency (6-60 ms every 8,192
	 * frames in the random-write bench). Sync what was copied here, off
	 * the FUSE path, so that restart finds the file nearly clean. */
	if (rc == SQLITE_OK && done_frames > s->ckpt_synced_frames) {
		sqlite3_file *db_file = NULL;
		if (sqlite3_file_control(s->checkpoint_db, "main", SQLITE_FCNTL_FILE_POINTER, &db_file) ==
			    SQLITE_OK &&
		    db_file && db_file->pMethods &&
		    db_file->pMethods->xSync(db_file, SQLITE_SYNC_NORMAL) != SQLITE_OK)
			log_warn("store: sync of the checkpointed database file failed");
	}
	/* The WAL starts over after a restart: count from its new start. */
	s->ckpt_synced_frames = done_frames > 0 ? done_frames : 0;
	/* Restart a long WAL now, right after the pass that copied and synced
	 * most of it, rather than in the commit that crosses the limit (inside
	 * somebody's fsync). Not in the middle of an operation. */
	if (rc == SQLITE_OK && done_frames > store_wal_restart_frames(s) / 2) {
		store_lock(s);
		if (s->op_depth == 0 && s->wal_frames > store_wal_restart_frames(s) / 2 &&
		    store_commit(s) == 0 && s->wal_frames > 0)
			store_wal_restart(s);
		store_unlock(s);
	}
	atomic_store(&s->ckpt_draining, false);
}

void store_get_stats(struct store *s, struct store_stats *ret_stats)
{
	ret_stats->wal_frames = (uint64_t)atomic_load(&s->wal_frames);
	ret_stats->wal_frames_max = (uint64_t)atomic_load(&s->wal_frames_max);
	ret_stats->checkpoint_deferred = atomic_load(&s->stat_ckpt_deferred);
	ret_stats->checkpoint_pending = atomic_load(&s->ckpt_deferring) || atomic_load(&s->ckpt_draining) ||
					atomic_load(&s->wal_frames) > store_wal_restart_frames(s);
	ret_stats->commits = atomic_load(&s->stat_commits);
	ret_stats->durable_commits = atomic_load(&s->stat_durable_commits);
	ret_stats->commit_ns_total = atomic_load(&s->stat_commit_ns);
}
