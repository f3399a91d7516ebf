/*
 * store_open.c — lifetime of a store: store_open runs the steps that turn a path
 * into a ready store (lock the file, open the connection, configure,
 * migrate, prepare, load state, start the writer's side), store_close undoes
 * them in reverse. The top of the store's files: it may call any of them, and
 * none calls it.
 *
 * Invariant: store_close accepts a store that any step of store_open left
 * half made (every field it frees starts as NULL or -1).
 */
#include "store_internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* What the store keeps in memory about its file: the next inode number,
 * the page size and whether any inode may hold security.capability. */
static int store_load_state(struct store *s)
{
	int64_t value = 0;
	int r;

	r = store_query_int(s, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'inodes'), 0),"
			       " coalesce((SELECT max(ino) FROM inodes), 0))", &value);
	if (r < 0)
		return r;
	s->next_ino = (uint64_t)value + 1;
	if (store_query_int(s, "PRAGMA page_size", &value) < 0 || value <= 0 || value > INT_MAX)
		value = 4096;
	s->page_size = (int)value;
	/* Unknown (the query failed) counts as "may have": the flag only lets
	 * getxattr skip the lookup. */
	if (store_query_int(s, "SELECT EXISTS (SELECT 1 FROM xattrs WHERE name = "
			       "CAST('security.capability' AS BLOB))", &value) < 0)
		value = 1;
	atomic_store(&s->capability_xattrs, value != 0);
	return 0;
}

static int store_lock_file(struct store *s, const char *path)
{
	s->lock_fd = open(path, (s->read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		int r = -errno;
		log_error("store: cannot open %s: %s", path, strerror(errno));
		return r;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_error("store: %s is locked by another claimfsd (%s)", path, strerror(errno));
		return r;
	}
	return 0;
}

static int store_open_checkpointer(struct store *s)
{
	int rc = sqlite3_open_v2(s->path, &s->checkpoint_db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, s->vfs);

	if (rc != SQLITE_OK)
		return store_errno(s, rc, "open checkpoint connection");
	rc = sqlite3_busy_timeout(s->checkpoint_db, 0);
	if (rc != SQLITE_OK)
		return store_errno(s, rc, "busy timeout");
	/* A connection that never read the database has not opened the WAL, and
	 * its checkpoints would silently do nothing. */
	rc = sqlite3_exec(s->checkpoint_db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_errno(s, rc, "checkpoint connection");
	return 0;
}

/* Process-wide SQLite settings, before SQLite initializes. Memory
 * statistics off: with them every sqlite3_malloc and sqlite3_free takes a
 * global mutex to keep counters nobody here reads (the statement journal of
 * an operation's savepoint alone makes ~30 allocations per unlink). */
static void store_sqlite_config(void)
{
	int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

	if (rc != SQLITE_OK)
		log_debug("store: SQLite was initialized before the store: memory statistics stay on");
	/* Sub-journals open straight through the VFS (store_memvfs.c keeps
	 * them in one reused buffer) instead of SQLite's chunked memory
	 * journal. */
	rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 0);
	if (rc != SQLITE_OK)
		log_debug("store: SQLite was initialized before the store: sub-journals start in SQLite's memory");
}

/* The SQL copies of the block layout must match the C constants. */
static int store_check_constants(void)
{
	if (strtoull(STORE_BLOCK_SIZE_SQL, NULL, 10) != STORE_BLOCK_SIZE ||
	    strtoull(STORE_BLOCK_BITS_SQL, NULL, 10) != STORE_BLOCK_BITS ||
	    strtoull(STORE_BLOCK_MASK_SQL, NULL, 10) != STORE_BLOCK_MAX_INDEX ||
	    strtoll(STORE_WAL_KEEP_BYTES_SQL, NULL, 10) != STORE_WAL_KEEP_BYTES) {
		log_error("store: built with SQL and C copies of a constant that differ");
		return -EINVAL;
	}
	return 0;
}

/* A zeroed store with its locks made: nothing opened yet. */
static int store_new(const char *path, unsigned flags, struct store **ret_store)
{
	pthread_mutexattr_t attr;
	struct store *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->path = strdup(path);
	if (!s->path) {
		free(s);
		return -ENOMEM;
	}
	s->lock_fd = -1;
	atomic_store(&s->stream_rate, (uint64_t)STORE_STREAM_DEFAULT_MIB_PER_S << 20);
	s->read_only = flags & STORE_OPEN_READONLY;
	s->no_reclaim = flags & STORE_OPEN_NO_RECLAIM;
	s->keep_orphans = flags & STORE_OPEN_KEEP_ORPHANS;
	s->adopt_orphans = flags & STORE_OPEN_ADOPT_ORPHANS;
	/* The transaction layer runs big deletions after an operation
	 * through this pointer, so that it does not call up into the
	 * namespace (store_inode.c). */
	s->reclaim_pending = store_reclaim_pending;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&s->sync_lock, NULL);
	*ret_store = s;
	return 0;
}

/* Open the main connection through the store's VFS stack. */
static int store_open_db(struct store *s)
{
	int rc, r = 0;

	s->vfs = store_fault_vfs_name(&r);
	if (r < 0)
		return r;
	s->vfs = store_memvfs_name(s->vfs, &r);
	if (r < 0)
		return r;
	rc = sqlite3_open_v2(s->path, &s->db,
			     (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
				     SQLITE_OPEN_NOMUTEX,
			     s->vfs);
	if (rc != SQLITE_OK) {
		r = store_errno(s, rc, "open");
		log_error("store: cannot open %s: %s", s->path, s->db ? sqlite3_errmsg(s->db) : "?");
		return r;
	}
	sqlite3_extended_result_codes(s->db, 1);
	rc = sqlite3_busy_timeout(s->db, 5000);
	if (rc != SQLITE_OK)
		return store_errno(s, rc, "busy timeout");
	return 0;
}

/* The writer's side of a store just opened: the checkpoint connection,
 * files unlinked while open before a crash, a durable start, the reserve. */
static int store_start_writer(struct store *s)
{
	int r = store_open_checkpointer(s);

	if (r < 0)
		return r;
	if (s->adopt_orphans) {
		s->adopt_below_ino = s->next_ino; /* raised by a replay (store_redo_attach) */
		r = store_orphans_adopt(s);
	}
	else if (!s->no_reclaim)
		r = store_orphans_reclaim(s);
	if (r < 0)
		return r;
	r = store_sync(s, true);
	if (r < 0)
		return r;
	store_disk_reserve_make(s);
	return 0;
}

int store_open(const char *path, unsigned flags, struct store **ret_store)
{
	static pthread_once_t config_once = PTHREAD_ONCE_INIT;
	struct store *s = NULL;
	int r;

	pthread_once(&config_once, store_sqlite_config);
	r = store_check_constants();
	if (r < 0)
		return r;
	r = store_new(path, flags, &s);
	if (r < 0)
		return r;
	r = store_lock_file(s, path);
	if (r == 0)
		r = store_open_db(s);
	if (r == 0)
		r = store_schema_configure(s);
	/* After configure: PRAGMA wal_autocheckpoint replaces the WAL hook. */
	if (r == 0 && !s->read_only)
		store_txn_watch_wal(s);
	if (r == 0)
		r = store_schema_migrate(s);
	if (r == 0)
		r = store_schema_prepare(s);
	if (r == 0)
		r = store_load_state(s);
	if (r == 0)
		r = store_vacuum_load(s);
	if (r == 0 && !s->read_only)
		r = store_start_writer(s);
	if (r < 0)
		goto fail;
	*ret_store = s;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db && !s->read_only && s->stmt[STMT_COMMIT]) {
		/* Unmounted: the kernel holds no inode any more, so files unlinked
		 * while open are gone for good. */
		if (!s->no_reclaim && !s->keep_orphans && store_orphans_reclaim(s) < 0)
			log_error("store: reclaiming unlinked files at close failed");
		store_lock(s);
		if (s->in_txn && store_commit(s) < 0)
			log_error("store: final commit failed");
		store_unlock(s);
	}
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->checkpoint_db) {
		/* Fold the WAL into the database so the file is self-contained. */
		sqlite3_wal_checkpoint_v2(s->checkpoint_db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close(s->checkpoint_db);
	}
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_error("store: close: %s", sqlite3_errmsg(s->db));
	/* Only now: closing any descriptor of the file would drop SQLite's locks. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	store_inomap_free(&s->lookups);
	store_inomap_free(&s->orphans);
	store_inomap_free(&s->reclaim);
	store_inomap_free(&s->forgotten);
	free(s->invalidations);
	store_inomap_free(&s->txn_inodes);
	store_inomap_free(&s->lost_inodes);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->sync_lock);
	free(s->path);
	free(s);
}
