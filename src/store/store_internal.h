/*
 * store_internal.h — state shared by the store's files.
 *
 * Files, from the bottom up. A file calls only files above it in this list
 * (never one below), and the public functions of a file are declared in its
 * block at the end of this header:
 *   store_inomap.c  inode-number -> count maps (no store state)
 *   store_disk.c    room on the host disk, the reserve file
 *   store_fault.c, store_memvfs.c  the VFS stack under SQLite
 *   store_redo.c    records of acknowledged operations in the redo log
 *                   (no SQL; the log is src/lib/redo_log.c)
 *   store_txn.c     the lock, statements, SQLITE_* -> errno, the batched
 *                   transaction, commits, WAL fsync, the checkpointer
 *   store_schema.c  migrations, statement text, PRAGMAs
 *   store_record.c  inode and directory-entry rows
 *   store_space.c   volume rows: lookup, charging space and inodes
 *   store_data.c    file contents and xattrs
 *   store_falloc.c  fallocate: reserving, punching holes, zeroing ranges
 *   store_seek.c    lseek SEEK_DATA / SEEK_HOLE over the block rows
 *   store_inode.c   the namespace: inode lifetime and reclaim, lookup,
 *                   readdir, create, link, remove
 *   store_rename.c  rename
 *   store_setattr.c setattr, statfs
 *   store_volume.c  volumes as directories: create, bind, delete, clone
 *   store_object.c  the API object table
 *   store_modify.c  a volume's mutable attributes (MODIFY_VOLUME): the
 *                   inode limit, the I/O class and its commits
 *   store_check.c   the consistency checker
 *   store_vacuum.c  free pages back to the host: the background
 *                   incremental vacuum, --compact
 *   store_replay.c  replaying a dead worker's redo log at the next start
 *   store_open.c    store_open / store_close
 *   store_compact.c --compact of the store at a path (opens and closes it)
 *   store_backup.c  the online backup (opens and checks its copy as a store)
 * The one call that would go upwards, store_op_end running the big deletions
 * an operation queued (store_reclaim_pending, store_inode.c), goes through
 * the s->reclaim_pending pointer that store_open sets.
 *
 * Locking: every field of struct store below "protected by lock" is read and
 * written only with store->lock held. The lock is recursive so batches
 * (store_batch_begin) can call public functions. Lock order: lock, then
 * sync_lock is never taken while holding lock (store_sync drops lock before
 * fsyncing the WAL).
 *
 * Transactions: one SQLite write transaction stays open across operations
 * (in_txn). Each mutating operation runs inside SAVEPOINT "op" so a failure
 * rolls back exactly that operation (store_op_begin / store_op_end).
 * change_seq counts completed mutating operations; committed_seq is the
 * change_seq of the last COMMIT; durable_seq the last one made durable by an
 * fsync of the WAL. durable_seq <= committed_seq <= change_seq.
 */
#ifndef CLAIMFS_STORE_INTERNAL_H
#define CLAIMFS_STORE_INTERNAL_H

#include "store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <time.h>

/* File contents are kept in blocks of this size; a block row holds up to
 * STORE_BLOCK_SIZE bytes (shorter at the end of the data, NULL for a block
 * allocated by fallocate that was never written). Holes store nothing.
 * 16 KiB (schema 3; 64 KiB before) was chosen by measurement with 4 KiB
 * pages (bench/RESULTS.md): a block is a leaf cell plus a short overflow
 * chain, so a 4 KiB write in the middle of a file walks and dirties a few
 * pages instead of sixteen, while sequential I/O keeps few rows per MiB. */
#define STORE_BLOCK_SIZE 16384u
/* Block rows are keyed by ino << STORE_BLOCK_BITS | index. */
#define STORE_BLOCK_BITS 26
/* The same three numbers as SQL text, for the statements that compute on ids
 * and usage (store_check.c, the clone in store_volume.c, STORE_BLOCK_USAGE_SQL);
 * store_open checks that they agree with the ones above. */
#define STORE_BLOCK_SIZE_SQL "16384"
#define STORE_BLOCK_BITS_SQL "26"
#define STORE_BLOCK_MASK_SQL "67108863"
/* Bytes a block row accounts for, in SQL over its data column: a NULL
 * (fallocated) block is a whole block (store_row_usage in C). */
#define STORE_BLOCK_USAGE_SQL(data) \
	"CASE WHEN " data " IS NULL THEN " STORE_BLOCK_SIZE_SQL " ELSE (length(" data ") + 4095) / 4096 * 4096 END"
#define STORE_BLOCK_MAX_INDEX ((1ull << STORE_BLOCK_BITS) - 1)
#define STORE_FILE_MAX ((uint64_t)(STORE_BLOCK_MAX_INDEX + 1) * STORE_BLOCK_SIZE)
/* Space is accounted in units of this many bytes (st_blocks, statfs). */
#define STORE_ALLOC_UNIT 4096u
#define STORE_LINK_MAX 65000u
/* Past this many bytes of WAL frames (8,192 frames of 4 KiB pages, the
 * page size stores had before 8 KiB), the committing thread restarts the WAL
 * after its commit (the background checkpointer has copied most frames by
 * then). In frames: store_wal_restart_frames. */
#define STORE_WAL_RESTART_BYTES (32ll << 20)
/* A restarted WAL keeps this much of its file (PRAGMA journal_size_limit), so
 * the next frames overwrite pages the page cache likely holds. A WAL longer
 * than this (a stream's) is truncated to nothing when it restarts instead:
 * its pages are cold by then, and a frame (24-byte header + page) written
 * over a cold page of the file makes the kernel read that page from disk
 * first, while a frame appended past the end needs no read. */
#define STORE_WAL_KEEP_BYTES (64ll << 20)
#define STORE_WAL_KEEP_BYTES_SQL "67108864"
/* Large writes (STORE_STREAM_MIN_WRITE bytes or more in one request) coming
 * faster than stream_rate (bytes per second, measured between checkpointer
 * ticks; STORE_STREAM_DEFAULT_MIB_PER_S) start a stream, which lasts while
 * they stay above a quarter of it, or dip below it for less than
 * STORE_STREAM_GRACE_MS (a writer descheduled on a busy machine for a tick
 * or two has not stopped streaming): its WAL is not checkpointed while it
 * lasts (store_checkpoint_tick), up to STORE_WAL_DEFER_MAX_BYTES of WAL, and
 * only while the disk has room for the WAL and its copy (twice that, plus
 * STORE_LOW_SPACE_BYTES). Small writes never count: 4 KiB random writes
 * rewrite the same pages, which one checkpoint copies once. */
#define STORE_STREAM_MIN_WRITE (128u << 10)
#define STORE_STREAM_GRACE_MS 500
#define STORE_WAL_DEFER_MAX_BYTES (1536ll << 20)
/* Files holding more than this are deleted in chunks of
 * STORE_RECLAIM_CHUNK_BLOCKS blocks, each its own operation, so no
 * savepoint journal ever holds a whole file (a 1 GiB unlink would
 * otherwise need 1 GiB of memory). */
#define STORE_RECLAIM_INLINE_BYTES (4u << 20)
#define STORE_RECLAIM_CHUNK_BLOCKS 64
/* Spare disk space kept beside the store for deletions on a full disk. */
#define STORE_RESERVE_BYTES (4 << 20)
/* Writes that grow data need this much host space left over. */
#define STORE_LOW_SPACE_BYTES (8 << 20)
/* Commit the batched transaction after this many operations. */
#define STORE_TXN_MAX_OPS 4096u
/* ... or once its operations wrote this many bytes of file data: a batch
 * larger than the page cache spills pages to the WAL mid-transaction, and a
 * spilled page changed again makes SQLite re-read and re-checksum every frame
 * after it at COMMIT (walRewriteChecksums): O(batch) extra I/O per commit. */
#define STORE_TXN_MAX_BYTES (4u << 20)

static inline int64_t store_block_id(uint64_t ino, uint64_t index)
{
	return (int64_t)((ino << STORE_BLOCK_BITS) | index);
}

static inline uint64_t store_alloc_bytes(uint64_t len)
{
	return (len + STORE_ALLOC_UNIT - 1) / STORE_ALLOC_UNIT * STORE_ALLOC_UNIT;
}

enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_INODE_GET,
	STMT_INODE_INSERT,
	STMT_INODE_UPDATE,
	STMT_INODE_DELETE,
	STMT_INODE_TARGET,
	STMT_INODE_ORPHANS,
	STMT_INODE_OF_VOLUME,
	STMT_INODE_TOUCH_ATIME,
	STMT_DENTRY_LOOKUP,
	STMT_DENTRY_INSERT,
	STMT_DENTRY_DELETE,
	STMT_DENTRY_MOVE,
	STMT_DENTRY_SET_INO,
	STMT_DENTRY_ANY,
	STMT_DENTRY_LIST,
	STMT_DENTRY_DELETE_DIR,
	STMT_BLOCK_GET,
	STMT_BLOCK_RANGE,
	STMT_BLOCK_DATA_FROM,
	STMT_BLOCK_PUT,
	STMT_BLOCK_USAGE,
	STMT_BLOCK_DELETE_RANGE,
	STMT_BLOCK_CHUNK_USAGE,
	STMT_BLOCK_CHUNK_DELETE,
	STMT_VOLUME_ORPHAN_INODES,
	STMT_BLOCK_TRIM,
	STMT_BLOCK_INSERT_NULL,
	STMT_BLOCK_PAD,
	STMT_XATTR_GET,
	STMT_XATTR_PUT,
	STMT_XATTR_DELETE,
	STMT_XATTR_LIST,
	STMT_XATTR_TOTAL,
	STMT_XATTR_DELETE_ALL,
	STMT_VOLUME_BY_ID,
	STMT_VOLUME_BY_NAME,
	STMT_VOLUME_LIST,
	STMT_VOLUME_INSERT,
	STMT_VOLUME_SET_ROOT,
	STMT_VOLUME_USAGE,
	STMT_VOLUME_UPDATE,
	STMT_VOLUME_MODIFY,
	STMT_INODE_IO_CLASS,
	STMT_VOLUME_BIND,
	STMT_VOLUME_DELETE,
	STMT_OBJECT_GET,
	STMT_OBJECT_PUT,
	STMT_OBJECT_DELETE,
	STMT_OBJECT_LIST_ALL,
	STMT_OBJECT_LIST_NS,
	STMT_OBJECT_LIST_PHASE,
	STMT_META_GET,
	STMT_META_SET,
	STMT_FREE_PAGE_BYTES,
	STMT_VOLUME_PROMISED,
	STMT_FREELIST_COUNT,
	STMT_INCREMENTAL_VACUUM,
	STMT_COUNT
};

/* Open-addressing map from inode number to a count (kernel lookup
 * references, orphan marks). Key 0 is empty; tombstones are UINT64_MAX. */
struct store_inomap {
	uint64_t *keys;
	uint64_t *values;
	size_t capacity; /* power of two */
	size_t used;     /* live keys + tombstones */
};

struct store {
	pthread_mutex_t lock; /* recursive */
	/* The thread holding lock (its store_lock_token), NULL while free, and
	 * how many times it holds it: store_lock_held(). Written only by the
	 * holder, with lock held; read by any thread (hence atomic). */
	_Atomic(const char *) lock_owner;
	unsigned lock_owner_depth;
	sqlite3 *db;          /* protected by lock */
	sqlite3 *checkpoint_db; /* used only by store_checkpoint_tick (own mutex) */
	int ckpt_synced_frames; /* WAL frames backfilled and synced to the database file (same) */
	/* Streaming detection, store_checkpoint_tick only. */
	uint64_t ckpt_last_bytes;
	struct timespec ckpt_last_time;
	struct timespec ckpt_stream_seen; /* last tick that saw a stream's rate */
	/* The checkpointer holds back while a stream of writes lasts, or is
	 * copying the long WAL one left: the commit path then leaves the WAL
	 * alone up to STORE_WAL_DEFER_MAX_BYTES. */
	atomic_bool ckpt_deferring;
	atomic_uint_fast64_t stream_rate; /* bytes/s that start a stream; 0: never */
	atomic_bool ckpt_draining;
	int page_size;
	sqlite3_stmt *stmt[STMT_COUNT]; /* protected by lock */
	/* The first failed store_bind_* since the last store_step, and the
	 * statement it was for (protected by lock; SQLITE_OK whenever the lock
	 * is free; see store_txn.c). */
	int bind_rc;
	sqlite3_stmt *bind_stmt;
	int lock_fd;          /* flock'd store file; owned */
	char *path;
	bool read_only;
	bool no_reclaim; /* STORE_OPEN_NO_RECLAIM: leave orphans for the checker */
	bool keep_orphans;  /* STORE_OPEN_KEEP_ORPHANS: none reclaimed at close */
	bool adopt_orphans; /* STORE_OPEN_ADOPT_ORPHANS: orphans wait for FORGET */

	/* protected by lock */
	bool in_txn;
	unsigned op_depth;  /* nested store_op_begin calls (batches) */
	unsigned txn_ops;
	uint64_t txn_bytes; /* file data written by the open batch */
	struct timespec txn_started;
	struct store_inomap lookups; /* ino -> kernel lookup count */
	struct store_inomap orphans; /* ino -> 1 while nlink == 0 and still referenced */
	struct store_inomap reclaim; /* ino -> 1: nlink 0, unreferenced, data still to delete */
	/* A worker resuming a connection (adopt_orphans) cannot know which
	 * inodes an earlier worker handed to the kernel: every inode below
	 * adopt_below_ino (next_ino when it started serving) may be held,
	 * unless the kernel has forgotten it since (forgotten: ino -> 1).
	 * A replay (replaying) goes by the logged outcomes instead. */
	uint64_t adopt_below_ino;
	struct store_inomap forgotten;
	bool replaying;
	bool reclaiming;             /* store_reclaim_pending is running (lock held) */
	/* store_reclaim_pending, called by store_op_end (see the top of this file). */
	void (*reclaim_pending)(struct store *s);
	/* Entries of the top levels changed by the open operation, delivered to
	 * invalidate_cb once no store lock is held (store_op_end). */
	struct store_invalidation *invalidations; /* protected by lock */
	size_t invalidation_count, invalidation_capacity;
	store_invalidate_cb invalidate_cb;
	void *invalidate_ud;
	atomic_bool capability_xattrs; /* some inode may have security.capability */
	/* Inodes the open transaction changed (created, written, truncated,
	 * allocated, any attribute saved; directories whose entries changed):
	 * a close commits only if its inode is here (store_flush). If the
	 * transaction is lost (a failed COMMIT rolls it back) they move to
	 * lost_inodes, and the next fsync or close of each reports EIO once
	 * instead of acknowledging what is gone (as Linux reports writeback
	 * errors; a lost atime update is not reported). */
	struct store_inomap txn_inodes;
	bool txn_untracked; /* an inode of the open batch could not be noted (no memory) */
	struct store_inomap lost_inodes;
	struct store_batch_hooks batch_hooks; /* all NULL: none (store_set_batch_hooks) */
	bool txn_commit_due; /* batch_hooks.changed was full: commit at the operation's end */
	/* The redo log (store_redo.c): every change of the open batch is there
	 * as a record tagged redo_batch, or an opaque marker says it is not;
	 * each commit writes redo_batch into meta and empties the log. */
	struct redo_log *redo; /* NULL: none */
	uint64_t redo_batch;
	uint64_t redo_mark; /* the log's end when the outermost operation began */
	bool redo_op_changed; /* the running operation noted a change */
	bool redo_op_logged; /* ... and wrote its record */
	const struct timespec *redo_now; /* replay: the time the operation used */
	/* store_redo_attach replayed an armed log whole (store_redo_nothing_lost);
	 * written once before serving, read by any thread. */
	atomic_bool redo_nothing_lost;
	/* Next inode number to hand out. Only grows, even when a failed commit
	 * rolls inserts back, so the kernel never sees one number twice. */
	uint64_t next_ino;
	const char *vfs; /* the memory-temp VFS over SQLite's default or the fault VFS */
	atomic_int wal_frames; /* frames in the WAL after the last commit (wal hook; written under lock) */
	atomic_int wal_frames_max; /* the largest wal_frames since open (same) */
	atomic_bool low_space;        /* the host disk is (nearly) full; cleared by the timer */
	int64_t space_free;           /* last sample of store_space_free (lock held) */
	struct timespec space_sampled;
	atomic_bool reserve_released; /* the reserve file is gone */

	atomic_uint_fast64_t change_seq;
	atomic_uint_fast64_t committed_seq;
	atomic_uint_fast64_t durable_seq;
	pthread_mutex_t sync_lock; /* serialises WAL fsyncs (group commit) */

	/* Giving free pages back (store_vacuum.c). incremental_vacuum: the
	 * file has auto_vacuum = INCREMENTAL (set at open and by
	 * store_compact, before any other thread runs). vacuum_reclaiming and
	 * vacuum_idle_ticks: the checkpointer thread only. */
	bool incremental_vacuum;
	bool vacuum_reclaiming;
	unsigned vacuum_idle_ticks;
	uint64_t vacuum_seen_taken; /* lock_taken at the end of the last tick */
	/* Times the lock was taken (outermost store_lock), ever: how busy the
	 * store is, which paces the vacuum. */
	atomic_uint_fast64_t lock_taken;
	atomic_uint_fast64_t vacuum_free_pages; /* last sample of the freelist */
	atomic_uint_fast64_t vacuum_pages;      /* pages removed from the file, ever */

	atomic_uint_fast64_t stat_stream_bytes; /* bytes of large writes, ever (streaming detection) */
	atomic_uint_fast64_t stat_ckpt_deferred; /* checkpointer ticks held back for a stream */
	atomic_uint_fast64_t stat_commits;
	atomic_uint_fast64_t stat_durable_commits;
	atomic_uint_fast64_t stat_commit_ns;
};

/* STORE_WAL_RESTART_BYTES in frames of this store's page size. */
static inline int store_wal_restart_frames(const struct store *s)
{
	return (int)(STORE_WAL_RESTART_BYTES / s->page_size);
}

struct store_invalidation {
	uint64_t parent;
	char name[STORE_CLAIM_NAME_MAX + 1];
};

/* Internal inode record: struct store_attr plus what only the store needs. */
struct store_inode {
	struct store_attr attr;
	uint64_t parent; /* directories: the containing directory; else 0 */
	uint64_t alloc;  /* bytes allocated (sum of block usage) */
};

/* Whether this thread holds s->lock. Functions that touch statements or
 * the fields "protected by lock" assert it, as SQLite asserts
 * sqlite3_mutex_held(). store_lock_token (store_txn.c) is one byte per
 * thread whose address names the thread. */
extern _Thread_local const char store_lock_token;

static inline bool store_lock_held(struct store *s)
{
	return atomic_load(&s->lock_owner) == &store_lock_token;
}

/* store_inomap.c */
uint64_t store_inomap_get(const struct store_inomap *map, uint64_t ino);
int store_inomap_add(struct store_inomap *map, uint64_t ino, int64_t delta, uint64_t *ret_value);
void store_inomap_free(struct store_inomap *map);
void store_inomap_clear(struct store_inomap *map);

/* store_disk.c */
void store_disk_exhausted(struct store *s);
int store_disk_check(struct store *s, uint64_t bytes);
void store_disk_recheck(struct store *s);
void store_disk_reserve_make(struct store *s);
uint64_t store_disk_takeable(struct store *s);

/* store_fault.c */
const char *store_fault_vfs_name(int *ret_error);

/* store_memvfs.c */
const char *store_memvfs_name(const char *base, int *ret_error);
void store_memvfs_spill_to_disk(bool on);

/* store_txn.c */
int store_errno(struct store *s, int rc, const char *what);
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt which);
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);
void store_bind_int64(struct store *s, sqlite3_stmt *st, int index, int64_t value);
void store_bind_text(struct store *s, sqlite3_stmt *st, int index, const char *text);
void store_bind_blob(struct store *s, sqlite3_stmt *st, int index, const void *data, size_t len);
void store_bind_null(struct store *s, sqlite3_stmt *st, int index);
int store_step(struct store *s, sqlite3_stmt *st);
int store_op_begin(struct store *s);
int store_op_end(struct store *s, int rc);
int store_commit(struct store *s);
void store_lock(struct store *s);
/* store_lock, then join the batch transaction (reads share its snapshot). */
void store_lock_read(struct store *s);
void store_count_change(struct store *s);
void store_unlock(struct store *s);
void store_queue_invalidation(struct store *s, uint64_t parent, const char *name);
/* Note that the open transaction changed ino (lock held). */
void store_note_changed(struct store *s, uint64_t ino);
int store_take_lost(struct store *s, uint64_t ino);
void store_txn_watch_wal(struct store *s);

/* store_redo.c */
#define STORE_REDO_META_KEY "redo_batch"
/* Records of operations that succeeded (lock held, inside the operation,
 * after its change): what they did and what they computed (store_redo.h).
 * A write of size bytes of buf at offset of ino, the mtime it set; killed:
 * the caller dropped set-id bits (store_kill_priv with a kill), leaving mode. */
void store_redo_write(struct store *s, uint64_t ino, uint64_t offset, const char *buf, size_t size,
		      const struct timespec *mtime, bool killed, uint32_t mode);
/* A setattr of ino by req, now the time it used, mode_after the mode left. */
void store_redo_setattr(struct store *s, uint64_t ino, const struct store_setattr_request *req,
			const struct timespec *now, uint32_t mode_after);
/* An inode created as attr (its ctime the time used) named name in parent. */
void store_redo_create(struct store *s, uint64_t parent, const char *name, const struct store_attr *attr,
		       const char *target);
void store_redo_link(struct store *s, uint64_t ino, uint64_t parent, const char *name, const struct timespec *now);
/* A name removed, dropping a link of victim (orphaned or not: read from s->orphans). */
void store_redo_remove(struct store *s, uint64_t parent, const char *name, bool dir, uint64_t victim,
		       const struct timespec *now);
/* A rename; victim: the inode whose name it replaced (0: none). */
void store_redo_rename(struct store *s, uint64_t parent, const char *name, uint64_t new_parent,
		       const char *new_name, unsigned flags, uint64_t victim, const struct timespec *now);
/* The kernel forgot the orphan ino and it was released. */
void store_redo_release(struct store *s, uint64_t ino);
/* A chunk of ino's queued deletion went. */
void store_redo_reclaim(struct store *s, uint64_t ino);
void store_redo_fallocate(struct store *s, uint64_t ino, int mode, uint64_t offset, uint64_t length,
			  const struct timespec *now);
/* A chunk of a big punch (block indexes first..last) or truncate (to size). */
void store_redo_punch_chunk(struct store *s, uint64_t ino, uint64_t first, uint64_t last);
void store_redo_truncate_chunk(struct store *s, uint64_t ino, uint64_t size);
void store_redo_setxattr(struct store *s, uint64_t ino, const char *name, const void *value, size_t size,
			 int flags, const struct timespec *now);
void store_redo_removexattr(struct store *s, uint64_t ino, const char *name, const struct timespec *now);
/* The time an operation sets: the recorded one in a replay, else now. */
void store_redo_now(struct store *s, struct timespec *ret_now);
/* An operation ended well (store_count_change): mark it opaque if it
 * changed something it did not log. */
void store_redo_op_done(struct store *s);
/* The running operation rolled back (op_depth not yet decremented): its
 * records go, or, inside a batch, the batch is marked opaque. */
void store_redo_rolled_back(struct store *s);

/* store_schema.c */
int store_schema_configure(struct store *s);
int store_schema_migrate(struct store *s);
int store_schema_prepare(struct store *s);
int store_query_int(struct store *s, const char *sql, int64_t *ret_value);
int store_exec_once(struct store *s, const char *sql, int64_t a, int64_t b);

/* store_record.c */
/* Times: the wall clock, and nanoseconds since the epoch as stored. Inline,
 * so that every store file can use them without an edge to another file. */
static inline void store_now(struct timespec *ret_now)
{
	clock_gettime(CLOCK_REALTIME, ret_now);
}

static inline int64_t store_ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static inline void store_ns_to_ts(int64_t ns, struct timespec *ret_ts)
{
	ret_ts->tv_sec = (time_t)(ns / 1000000000);
	ret_ts->tv_nsec = (long)(ns % 1000000000);
	if (ret_ts->tv_nsec < 0) {
		ret_ts->tv_nsec += 1000000000;
		ret_ts->tv_sec -= 1;
	}
}
void store_inode_from_row(sqlite3_stmt *st, int col, struct store_inode *ret_inode);
/* -ENOENT without a row; -EIO for an inode the kernel holds whose creation a
 * rolled-back batch took away (store_record.c). */
int store_inode_load(struct store *s, uint64_t ino, struct store_inode *ret_inode);
/* Step st to its end, collecting its first column (inode numbers) into an
 * array the caller frees; what names the query in an error. st is reset
 * either way; *ret_inos and *ret_count are set only on success. */
int store_collect_inos(struct store *s, sqlite3_stmt *st, const char *what, uint64_t **ret_inos,
		       size_t *ret_count);
int store_inode_save(struct store *s, const struct store_inode *inode);
int store_inode_insert(struct store *s, struct store_inode *inode, const char *target);
int store_dentry_find(struct store *s, uint64_t parent, const char *name, int64_t *ret_id,
		      uint64_t *ret_ino);
int store_dentry_add(struct store *s, uint64_t parent, const char *name, uint64_t ino);
int store_dentry_remove(struct store *s, int64_t id);
int store_dir_is_empty(struct store *s, uint64_t dir);

/* store_space.c */
void store_volume_from_row(sqlite3_stmt *st, struct store_volume *ret_volume);
int store_volume_by_id(struct store *s, int64_t id, struct store_volume *ret_volume);
int store_volume_by_name(struct store *s, const char *name, struct store_volume *ret_volume);
int store_volume_charge(struct store *s, int64_t volume_id, int64_t bytes, int64_t inodes);

/* store_data.c */
int store_data_truncate(struct store *s, struct store_inode *inode, uint64_t size);
int store_data_drop(struct store *s, uint64_t ino);
int store_kill_priv(struct store *s, struct store_inode *inode, const struct store_kill_suidgid *kill);
/* The mode a kill (not NULL) leaves of mode on a file of group gid. */
uint32_t store_kill_mode(uint32_t mode, uint32_t gid, const struct store_kill_suidgid *kill);
/* May bytes be written at [offset, end) of a file in volume? -EFBIG past
 * the largest file (or on overflow), -ENOSPC past the volume's capacity or
 * when the disk under the store is nearly full. */
int store_check_range(struct store *s, const struct store_volume *volume, uint64_t offset, uint64_t end,
		      uint64_t bytes);
/* Load a regular file inside a writable volume for a data change. */
int store_load_writable_file(struct store *s, uint64_t ino, struct store_inode *ret_inode,
			     struct store_volume *ret_volume);
/* Sum of row usage for block indexes [first, last] of ino. */
int store_usage_range(struct store *s, uint64_t ino, uint64_t first, uint64_t last, uint64_t *ret_usage);
/* Delete the rows of block indexes [first, last] of ino (holes). */
int store_delete_range(struct store *s, uint64_t ino, uint64_t first, uint64_t last);
/* State of one block row: absent (-ENOENT), NULL, or data of *ret_len bytes. */
int store_block_state(struct store *s, int64_t id, bool *ret_null, uint64_t *ret_len);
/* Overwrite len bytes at offset inside an existing data row of at least offset + len bytes. */
int store_block_patch(struct store *s, int64_t id, const void *data, size_t len, uint64_t offset);

/* store_falloc.c */
/* One chunk of a big punch of ino's block indexes [first, last], as its own
 * operation: 1 if a chunk went, 0 if none is left, -errno. */
int store_falloc_punch_chunk(struct store *s, uint64_t ino, uint64_t first, uint64_t last);

/* store_inode.c */
int store_check_name(const char *name);
int store_load_user_dir(struct store *s, uint64_t ino, struct store_inode *ret_dir);
void store_touch_dir(struct store *s, struct store_inode *dir, const struct timespec *now);
int store_drop_name(struct store *s, struct store_inode *dir, struct store_inode *child,
		    const struct timespec *now);
int store_inode_release_if_unused(struct store *s, uint64_t ino);
int store_inode_destroy(struct store *s, uint64_t ino);
void store_reclaim_pending(struct store *s);
int store_orphans_reclaim(struct store *s);
int store_orphans_adopt(struct store *s);

/* store_vacuum.c */
int store_vacuum_load(struct store *s);

#endif
