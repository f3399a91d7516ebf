/*
 * store.c — lifetime of the store, its schema and migrations, the batched
 * transaction and the durability points.
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

#include "log.h"
#include "metrics.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- schema ------------------------------------------------------------ */

/* Migration N brings user_version from N to N + 1. Append, never edit. */
static const char *const store_migrations[] = {
	/* 0 -> 1: the initial schema */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta(key, value) VALUES ('resource_version', 0);"
	"CREATE TABLE inodes ("
	"  ino INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  volume INTEGER NOT NULL,"
	"  parent INTEGER NOT NULL,"
	"  mode INTEGER NOT NULL, uid INTEGER NOT NULL, gid INTEGER NOT NULL,"
	"  nlink INTEGER NOT NULL, size INTEGER NOT NULL, alloc INTEGER NOT NULL,"
	"  rdev INTEGER NOT NULL,"
	"  atime INTEGER NOT NULL, mtime INTEGER NOT NULL, ctime INTEGER NOT NULL,"
	"  target BLOB);"
	"CREATE INDEX inodes_volume ON inodes(volume);"
	"CREATE INDEX inodes_orphans ON inodes(nlink) WHERE nlink = 0;"
	"CREATE TABLE dentries (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL,"
	"  name BLOB NOT NULL, ino INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX dentries_name ON dentries(parent, name);"
	"CREATE INDEX dentries_parent ON dentries(parent);"
	"CREATE TABLE blocks (id INTEGER PRIMARY KEY, data BLOB);"
	"CREATE TABLE xattrs (ino INTEGER NOT NULL, name BLOB NOT NULL, value BLOB NOT NULL,"
	"  PRIMARY KEY (ino, name)) WITHOUT ROWID;"
	"CREATE TABLE volumes (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,"
	"  capacity INTEGER NOT NULL, used_bytes INTEGER NOT NULL, used_inodes INTEGER NOT NULL,"
	"  read_only INTEGER NOT NULL, root_ino INTEGER NOT NULL,"
	"  bound_namespace TEXT NOT NULL, bound_claim TEXT NOT NULL);"
	"CREATE TABLE objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,"
	"  version INTEGER NOT NULL, body TEXT NOT NULL,"
	"  PRIMARY KEY (kind, namespace, name)) WITHOUT ROWID;"
	/* the root directory, inode 1 */
	"INSERT INTO inodes(ino, volume, parent, mode, uid, gid, nlink, size, alloc, rdev,"
	"  atime, mtime, ctime) VALUES (1, 0, 1, 16877, 0, 0, 2, 4096, 0, 0,"
	"  CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000,"
	"  CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000,"
	"  CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000);",
	/* 1 -> 2: the model finds Available volumes and Pending claims without
	 * reading every object (store_object_list_phase). */
	"CREATE INDEX objects_phase ON objects(kind, json_extract(body, '$.status.phase'));",
	/* 2 -> 3: 16 KiB blocks keyed by ino << 26 | index (were 64 KiB blocks,
	 * ino << 24 | index): each row becomes up to four rows, a NULL
	 * (fallocated) block four NULL rows; usage is unchanged since 16 KiB is a
	 * multiple of the 4 KiB allocation unit. CROSS JOIN keeps blocks as the
	 * outer loop, so the new ids come out in ascending order without a sort
	 * (an ORDER BY here sorted every block in memory: 2.1 GiB of RSS and
	 * ~60 s to migrate a 2 GiB store). Same result as before the change. */
	"CREATE TABLE blocks_v3 (id INTEGER PRIMARY KEY, data BLOB);"
	"INSERT INTO blocks_v3(id, data)"
	"  SELECT ((b.id >> 24) << 26) + (b.id & 16777215) * 4 + k.k,"
	"    CASE WHEN b.data IS NULL THEN NULL ELSE substr(b.data, k.k * 16384 + 1, 16384) END"
	"  FROM blocks b CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) k"
	"  WHERE b.data IS NULL OR k.k = 0 OR length(b.data) > k.k * 16384;"
	"DROP TABLE blocks;"
	"ALTER TABLE blocks_v3 RENAME TO blocks;",
};

#define STORE_SCHEMA_VERSION ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

#define INODE_COLUMNS "ino, volume, parent, mode, uid, gid, nlink, size, alloc, rdev, atime, mtime, ctime"
#define VOLUME_COLUMNS \
	"id, name, capacity, used_bytes, used_inodes, read_only, root_ino, bound_namespace, bound_claim"
#define BLOCK_USAGE_SQL STORE_BLOCK_USAGE_SQL("data")

static const char *const store_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT op",
	[STMT_RELEASE] = "RELEASE op",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO op",
	[STMT_INODE_GET] = "SELECT " INODE_COLUMNS " FROM inodes WHERE ino = ?1",
	[STMT_INODE_INSERT] = "INSERT INTO inodes(ino, volume, parent, mode, uid, gid, nlink, size,"
			      " alloc, rdev, atime, mtime, ctime, target)"
			      " VALUES (?14, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[STMT_INODE_UPDATE] = "UPDATE inodes SET parent = ?2, mode = ?3, uid = ?4, gid = ?5,"
			      " nlink = ?6, size = ?7, alloc = ?8, atime = ?9, mtime = ?10,"
			      " ctime = ?11 WHERE ino = ?1",
	[STMT_INODE_DELETE] = "DELETE FROM inodes WHERE ino = ?1",
	[STMT_INODE_TARGET] = "SELECT target FROM inodes WHERE ino = ?1",
	[STMT_INODE_ORPHANS] = "SELECT ino FROM inodes WHERE nlink = 0",
	[STMT_INODE_OF_VOLUME] = "SELECT ino FROM inodes WHERE volume = ?1",
	[STMT_INODE_TOUCH_ATIME] = "UPDATE inodes SET atime = ?2 WHERE ino = ?1 AND NOT"
				   " (SELECT read_only FROM volumes WHERE id = inodes.volume)",
	[STMT_DENTRY_LOOKUP] = "SELECT id, ino FROM dentries WHERE parent = ?1 AND name = ?2",
	[STMT_DENTRY_INSERT] = "INSERT INTO dentries(parent, name, ino) VALUES (?1, ?2, ?3)",
	[STMT_DENTRY_DELETE] = "DELETE FROM dentries WHERE id = ?1",
	[STMT_DENTRY_MOVE] = "UPDATE dentries SET parent = ?2, name = ?3 WHERE id = ?1",
	[STMT_DENTRY_SET_INO] = "UPDATE dentries SET ino = ?2 WHERE id = ?1",
	[STMT_DENTRY_ANY] = "SELECT 1 FROM dentries WHERE parent = ?1 LIMIT 1",
	[STMT_DENTRY_LIST] = "SELECT d.id, d.name, i.ino, i.volume, i.parent, i.mode, i.uid, i.gid,"
			     " i.nlink, i.size, i.alloc, i.rdev, i.atime, i.mtime, i.ctime"
			     " FROM dentries d JOIN inodes i ON i.ino = d.ino"
			     " WHERE d.parent = ?1 AND d.id > ?2 ORDER BY d.id",
	[STMT_DENTRY_DELETE_DIR] = "DELETE FROM dentries WHERE parent = ?1",
	[STMT_BLOCK_GET] = "SELECT data IS NULL, length(data) FROM blocks WHERE id = ?1",
	[STMT_BLOCK_RANGE] = "SELECT id, data FROM blocks WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
	[STMT_BLOCK_PUT] = "INSERT INTO blocks(id, data) VALUES (?1, ?2)"
			   " ON CONFLICT(id) DO UPDATE SET data = excluded.data",
	[STMT_BLOCK_USAGE] = "SELECT coalesce(sum(" BLOCK_USAGE_SQL "), 0) FROM blocks"
			     " WHERE id BETWEEN ?1 AND ?2",
	[STMT_BLOCK_DELETE_RANGE] = "DELETE FROM blocks WHERE id BETWEEN ?1 AND ?2",
	[STMT_BLOCK_CHUNK_USAGE] = "SELECT coalesce(sum(" BLOCK_USAGE_SQL "), 0), count(*) FROM"
				   " (SELECT data FROM blocks WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT ?3)",
	[STMT_BLOCK_CHUNK_DELETE] = "DELETE FROM blocks WHERE id IN (SELECT id FROM blocks"
				    " WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT ?3)",
	[STMT_VOLUME_ORPHAN_INODES] = "UPDATE inodes SET nlink = 0 WHERE volume = ?1",
	[STMT_BLOCK_TRIM] = "UPDATE blocks SET data = substr(data, 1, ?2) WHERE id = ?1"
			    " AND length(data) > ?2",
	[STMT_BLOCK_INSERT_NULL] = "INSERT OR IGNORE INTO blocks(id, data) VALUES (?1, NULL)",
	[STMT_BLOCK_PAD] = "UPDATE blocks SET data = CAST(data || zeroblob(?2 - length(data)) AS BLOB)"
			   " WHERE id = ?1 AND length(data) < ?2",
	[STMT_XATTR_GET] = "SELECT value FROM xattrs WHERE ino = ?1 AND name = ?2",
	[STMT_XATTR_PUT] = "INSERT INTO xattrs(ino, name, value) VALUES (?1, ?2, ?3)"
			   " ON CONFLICT(ino, name) DO UPDATE SET value = excluded.value",
	[STMT_XATTR_DELETE] = "DELETE FROM xattrs WHERE ino = ?1 AND name = ?2",
	[STMT_XATTR_LIST] = "SELECT name FROM xattrs WHERE ino = ?1 ORDER BY name",
	[STMT_XATTR_TOTAL] = "SELECT coalesce(sum(length(name) + length(value)), 0) FROM xattrs"
			     " WHERE ino = ?1 AND name <> ?2",
	[STMT_XATTR_DELETE_ALL] = "DELETE FROM xattrs WHERE ino = ?1",
	[STMT_VOLUME_BY_ID] = "SELECT " VOLUME_COLUMNS " FROM volumes WHERE id = ?1",
	[STMT_VOLUME_BY_NAME] = "SELECT " VOLUME_COLUMNS " FROM volumes WHERE name = ?1",
	[STMT_VOLUME_LIST] = "SELECT " VOLUME_COLUMNS " FROM volumes ORDER BY name",
	[STMT_VOLUME_INSERT] = "INSERT INTO volumes(name, capacity, used_bytes, used_inodes,"
			       " read_only, root_ino, bound_namespace, bound_claim)"
			       " VALUES (?1, ?2, 0, 0, 0, 0, '', '')",
	[STMT_VOLUME_SET_ROOT] = "UPDATE volumes SET root_ino = ?2 WHERE id = ?1",
	[STMT_VOLUME_USAGE] = "UPDATE volumes SET used_bytes = used_bytes + ?2,"
			      " used_inodes = used_inodes + ?3 WHERE id = ?1",
	[STMT_VOLUME_UPDATE] = "UPDATE volumes SET capacity = ?2, read_only = ?3 WHERE id = ?1",
	[STMT_VOLUME_BIND] = "UPDATE volumes SET bound_namespace = ?2, bound_claim = ?3 WHERE id = ?1",
	[STMT_VOLUME_DELETE] = "DELETE FROM volumes WHERE id = ?1",
	[STMT_OBJECT_GET] = "SELECT body, version FROM objects WHERE kind = ?1 AND namespace = ?2"
			    " AND name = ?3",
	[STMT_OBJECT_PUT] = "INSERT INTO objects(kind, namespace, name, version, body)"
			    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(kind, namespace, name)"
			    " DO UPDATE SET version = excluded.version, body = excluded.body",
	[STMT_OBJECT_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
	[STMT_OBJECT_LIST_ALL] = "SELECT namespace, name, body, version FROM objects WHERE kind = ?1"
				 " ORDER BY namespace, name",
	/* INDEXED BY: without statistics the planner prefers the primary key
	 * (it yields the ORDER BY) and reads every object of the kind. The phase
	 * index holds the key columns, so its rows come out in that order too. */
	[STMT_OBJECT_LIST_PHASE] = "SELECT namespace, name, body, version FROM objects"
				   " INDEXED BY objects_phase WHERE kind = ?1"
				   " AND json_extract(body, '$.status.phase') = ?2 ORDER BY namespace, name",
	[STMT_OBJECT_LIST_NS] = "SELECT namespace, name, body, version FROM objects WHERE kind = ?1"
				" AND namespace = ?2 ORDER BY name",
	[STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[STMT_META_SET] = "UPDATE meta SET value = ?2 WHERE key = ?1",
};

int store_schema_version(void)
{
	return STORE_SCHEMA_VERSION;
}

/* ---- small helpers ----------------------------------------------------- */

/* Map an SQLite result code to a negative errno (the one place that does). */
/* ---- host disk space ------------------------------------------------------ *
 *
 * SQLite needs room to commit even a deletion, so the store keeps a reserve
 * file of STORE_RESERVE_BYTES next to the database. When the host disk is
 * full (a commit fails with ENOSPC) the reserve is released, and from then on
 * writes that grow data are refused with ENOSPC while less than
 * STORE_LOW_SPACE_BYTES is free (host free space plus the database's free
 * pages), so users can still delete to make room. The reserve comes back once
 * the disk has room again (store_space_recheck, from the timer).
 */

static void store_reserve_path(const struct store *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s-reserve", s->path);
}

static void store_reserve_make(struct store *s)
{
	char path[PATH_MAX];
	int fd;

	store_reserve_path(s, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int r = posix_fallocate(fd, 0, STORE_RESERVE_BYTES);
	close(fd);
	if (r != 0) {
		unlink(path);
		return;
	}
	atomic_store(&s->reserve_released, false);
}

/* A commit ran out of host disk: free the reserve so deletions can commit. */
void store_space_exhausted(struct store *s)
{
	char path[PATH_MAX];

	atomic_store(&s->low_space, true);
	if (atomic_exchange(&s->reserve_released, true))
		return;
	store_reserve_path(s, path, sizeof(path));
	if (unlink(path) == 0)
		log_warn("store: the disk holding %s is full: released the %d MiB reserve so files can be "
			 "deleted; writes that need space get ENOSPC until there is room again",
			 s->path, STORE_RESERVE_BYTES >> 20);
}

/* Bytes the store can still grow by: host free space plus free pages. */
static int64_t store_space_free(struct store *s)
{
	struct statvfs sv;
	int64_t free_bytes = 0;
	sqlite3_stmt *st = NULL;

	if (statvfs(s->path, &sv) == 0)
		free_bytes = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	if (sqlite3_prepare_v2(s->db, "SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		free_bytes += sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return free_bytes;
}

/* 0, or -ENOSPC when a write that needs `bytes` more must be refused (lock
 * held). The disk is never filled by data: writes stop while less than
 * STORE_LOW_SPACE_BYTES (plus twice the write: WAL and database) would be
 * left, so commits, deletions and checkpoints always have room. Host free
 * space is sampled at most every 50 ms while it is plentiful. */
int store_space_check(struct store *s, uint64_t bytes)
{
	struct timespec now;
	int64_t need = (int64_t)STORE_LOW_SPACE_BYTES + 2 * (int64_t)bytes;

	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t age_ms = (now.tv_sec - s->space_sampled.tv_sec) * 1000 +
			 (now.tv_nsec - s->space_sampled.tv_nsec) / 1000000;
	if (s->space_free >= 4 * need && age_ms < 50 && !atomic_load(&s->low_space)) {
		s->space_free -= 2 * (int64_t)bytes;
		return 0;
	}
	s->space_free = store_space_free(s);
	s->space_sampled = now;
	if (s->space_free < need) {
		if (!atomic_exchange(&s->low_space, true))
			log_warn("store: the disk holding %s is nearly full: writes that need space get ENOSPC",
				 s->path);
		return -ENOSPC;
	}
	return 0;
}

/* Leave low-space mode and take the reserve back once there is room (timer). */
static void store_space_recheck(struct store *s)
{
	struct statvfs sv;

	if (!atomic_load(&s->low_space))
		return;
	if (statvfs(s->path, &sv) != 0)
		return;
	if ((int64_t)sv.f_bavail * (int64_t)sv.f_frsize < 2 * (int64_t)STORE_LOW_SPACE_BYTES)
		return;
	store_reserve_make(s);
	if (!atomic_load(&s->reserve_released)) {
		atomic_store(&s->low_space, false);
		log_info("store: the disk has room again; reserve restored");
	}
}

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
		store_space_exhausted(s);
	if (err == -ENOSPC || err == -EIO || err == -EBUSY)
		log_error("store: %s: %s (sqlite %d)", what,
			  s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
	return err;
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt which)
{
	return s->stmt[which];
}

/* Step a statement that returns no rows and reset it. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_errno(s, rc, what);
	return 0;
}

/* How deep this thread holds the (recursive) store lock. */
static _Thread_local unsigned store_lock_depth;

void store_lock(struct store *s)
{
	int rc = pthread_mutex_lock(&s->lock);

	assert(rc == 0);
	(void)rc;
	store_lock_depth++;
}

/* Open the batch transaction (lock held) so the statements that follow share
 * one read snapshot and one set of SQLite locks: in autocommit mode every
 * statement takes and drops the WAL read lock itself (two fcntl calls). */
static int store_txn_open(struct store *s)
{
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
	store_lock_depth--;
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

void store_now(struct timespec *ret_now)
{
	clock_gettime(CLOCK_REALTIME, ret_now);
}

int64_t store_ts_to_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

void store_ns_to_ts(int64_t ns, struct timespec *ret_ts)
{
	ret_ts->tv_sec = (time_t)(ns / 1000000000);
	ret_ts->tv_nsec = (long)(ns % 1000000000);
	if (ret_ts->tv_nsec < 0) {
		ret_ts->tv_nsec += 1000000000;
		ret_ts->tv_sec -= 1;
	}
}

/* ---- inode map ----------------------------------------------------------- */

#define INOMAP_TOMBSTONE UINT64_MAX
#define INOMAP_MIN_CAPACITY 64

static size_t store_inomap_slot(const struct store_inomap *map, uint64_t ino)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 17) & (map->capacity - 1);
}

/* Value for ino, 0 if absent. */
uint64_t store_inomap_get(const struct store_inomap *map, uint64_t ino)
{
	if (map->capacity == 0)
		return 0;
	for (size_t i = store_inomap_slot(map, ino);; i = (i + 1) & (map->capacity - 1)) {
		if (map->keys[i] == ino)
			return map->values[i];
		if (map->keys[i] == 0)
			return 0;
	}
}

static int store_inomap_grow(struct store_inomap *map)
{
	size_t capacity = map->capacity ? map->capacity * 2 : INOMAP_MIN_CAPACITY;
	struct store_inomap bigger = { 0 };

	/* Only live keys move, so a map full of tombstones shrinks back. */
	size_t live = 0;
	for (size_t i = 0; i < map->capacity; i++)
		if (map->keys[i] != 0 && map->keys[i] != INOMAP_TOMBSTONE)
			live++;
	while (capacity > INOMAP_MIN_CAPACITY && live * 4 < capacity)
		capacity /= 2;
	bigger.keys = calloc(capacity, sizeof(*bigger.keys));
	bigger.values = calloc(capacity, sizeof(*bigger.values));
	if (!bigger.keys || !bigger.values) {
		free(bigger.keys);
		free(bigger.values);
		return -ENOMEM;
	}
	bigger.capacity = capacity;
	for (size_t i = 0; i < map->capacity; i++) {
		uint64_t key = map->keys[i];
		if (key == 0 || key == INOMAP_TOMBSTONE)
			continue;
		size_t j = store_inomap_slot(&bigger, key);
		while (bigger.keys[j] != 0)
			j = (j + 1) & (capacity - 1);
		bigger.keys[j] = key;
		bigger.values[j] = map->values[i];
		bigger.used++;
	}
	free(map->keys);
	free(map->values);
	*map = bigger;
	return 0;
}

/* Add delta to ino's value (absent = 0); a value reaching 0 removes the key. */
int store_inomap_add(struct store_inomap *map, uint64_t ino, int64_t delta, uint64_t *ret_value)
{
	size_t tomb = SIZE_MAX, i;
	int r;

	if ((map->used + 1) * 10 >= map->capacity * 7) {
		r = store_inomap_grow(map);
		if (r < 0)
			return r;
	}
	for (i = store_inomap_slot(map, ino);; i = (i + 1) & (map->capacity - 1)) {
		if (map->keys[i] == ino)
			break;
		if (map->keys[i] == INOMAP_TOMBSTONE && tomb == SIZE_MAX)
			tomb = i;
		if (map->keys[i] == 0) {
			if (delta <= 0) {
				if (ret_value)
					*ret_value = 0;
				return 0;
			}
			if (tomb != SIZE_MAX)
				i = tomb;
			else
				map->used++;
			map->keys[i] = ino;
			map->values[i] = 0;
			break;
		}
	}
	if (delta < 0 && map->values[i] < (uint64_t)-delta)
		map->values[i] = 0;
	else
		map->values[i] += (uint64_t)delta;
	if (ret_value)
		*ret_value = map->values[i];
	if (map->values[i] == 0)
		map->keys[i] = INOMAP_TOMBSTONE;
	return 0;
}

/* Drop every key. A map that is mostly empty gives its memory back instead
 * of being zeroed: the changed-inodes map is cleared at every commit, and a
 * commit after one close must not pay for the largest batch seen so far. */
void store_inomap_clear(struct store_inomap *map)
{
	if (map->used == 0)
		return;
	if (map->capacity > INOMAP_MIN_CAPACITY && map->used * 8 < map->capacity) {
		store_inomap_free(map);
		return;
	}
	memset(map->keys, 0, map->capacity * sizeof(*map->keys));
	memset(map->values, 0, map->capacity * sizeof(*map->values));
	map->used = 0;
}

void store_note_changed(struct store *s, uint64_t ino)
{
	if (store_inomap_get(&s->txn_inodes, ino) == 0 &&
	    store_inomap_add(&s->txn_inodes, ino, 1, NULL) < 0) {
		/* Every close now commits until the batch does (store_flush). */
		s->txn_untracked = true;
		log_warn("store: out of memory tracking changed inodes");
	}
}

/* The open transaction was rolled back as a whole: remember whose changes
 * were lost so their fsync/close can say so. */
static void store_note_lost(struct store *s)
{
	for (size_t i = 0; i < s->txn_inodes.capacity; i++) {
		uint64_t ino = s->txn_inodes.keys[i];
		if (ino != 0 && ino != UINT64_MAX && store_inomap_get(&s->lost_inodes, ino) == 0)
			store_inomap_add(&s->lost_inodes, ino, 1, NULL);
	}
	store_inomap_clear(&s->txn_inodes);
}

/* -EIO once if changes to ino were lost by a rolled-back transaction. */
int store_take_lost(struct store *s, uint64_t ino)
{
	int r = 0;

	store_lock(s);
	if (store_inomap_get(&s->lost_inodes, ino)) {
		store_inomap_add(&s->lost_inodes, ino, -1, NULL);
		r = -EIO;
	}
	store_unlock(s);
	return r;
}

void store_inomap_free(struct store_inomap *map)
{
	free(map->keys);
	free(map->values);
	memset(map, 0, sizeof(*map));
}

/* ---- transactions -------------------------------------------------------- */

static int store_exec_stmt(struct store *s, enum store_stmt which)
{
	return store_step_done(s, s->stmt[which], store_sql[which]);
}

/* Records the WAL's length after every commit of the main connection. */
static int store_wal_hook(void *ud, sqlite3 *db, const char *schema, int frames)
{
	struct store *s = ud;

	(void)db;
	(void)schema;
	s->wal_frames = frames;
	return SQLITE_OK;
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

/* COMMIT the open transaction (lock held). */
static int store_commit(struct store *s)
{
	struct timespec start, end;
	int r;

	assert(s->op_depth == 0);
	if (store_txn_vanished(s) || !s->in_txn)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint64_t metrics_start = metrics_now_ns();
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
	atomic_store(&s->committed_seq, atomic_load(&s->change_seq));
	/* Short on disk: restart the WAL early so it reuses its space. A
	 * stream's long WAL is left to the checkpointer (store_checkpoint_tick):
	 * restarting it here would copy it all inside this commit. */
	int restart_frames = STORE_WAL_RESTART_FRAMES;
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
	assert(s->in_txn);
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
	s->op_depth++;
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
	}
	r = store_exec_stmt(s, STMT_RELEASE);
	s->op_depth--;
	if (r < 0 && rc >= 0)
		rc = r;
	if (rc >= 0 && s->op_depth == 0) {
		store_count_change(s);
		if (s->txn_ops >= STORE_TXN_MAX_OPS || s->txn_bytes >= STORE_TXN_MAX_BYTES) {
			r = store_commit(s);
			if (r < 0)
				log_warn("store: batch commit failed: %s", strerror(-r));
		}
	}
	bool outermost = s->op_depth == 0;
	store_unlock(s);
	/* Big deletions queued by this operation run now, chunk by chunk. */
	if (outermost && s->reclaim.used > 0)
		store_reclaim_pending(s);
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
	store_space_recheck(s);
	return r;
}

void store_set_stream_rate(struct store *s, uint64_t bytes_per_s)
{
	atomic_store(&s->stream_rate, bytes_per_s);
}

/* Whether file data streams in now (stream_rate since the last
 * tick; a quarter of that keeps a stream going) and the WAL may still grow
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
	if (start == 0 || rate < (double)start / (atomic_load(&s->ckpt_deferring) ? 4 : 1))
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
		atomic_store(&s->ckpt_draining, atomic_load(&s->wal_frames) > 4 * STORE_WAL_RESTART_FRAMES);
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
	if (rc == SQLITE_OK && done_frames > STORE_WAL_RESTART_FRAMES / 2) {
		store_lock(s);
		if (s->op_depth == 0 && s->wal_frames > STORE_WAL_RESTART_FRAMES / 2 &&
		    store_commit(s) == 0 && s->wal_frames > 0)
			store_wal_restart(s);
		store_unlock(s);
	}
	atomic_store(&s->ckpt_draining, false);
}

/* ---- open / close -------------------------------------------------------- */

static int store_pragma(struct store *s, const char *sql, const char *expect)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = store_errno(s, rc, sql);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = store_errno(s, rc, sql);
		goto out;
	}
	if (expect && (rc != SQLITE_ROW ||
		       strcmp((const char *)sqlite3_column_text(st, 0) ?: "", expect) != 0)) {
		log_error("store: %s did not give %s", sql, expect);
		r = -EIO;
	}
out:
	sqlite3_finalize(st);
	return r;
}

/* The integer a one-row PRAGMA (or query) gives. */
static int store_pragma_int(struct store *s, const char *sql, int *ret_value)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = store_errno(s, rc, sql);
		goto out;
	}
	*ret_value = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	return r;
}

/* Bring the schema to STORE_SCHEMA_VERSION in one transaction. */
static int store_migrate(struct store *s)
{
	char sql[64];
	char *err = NULL;
	int version = 0, rc, r;

	r = store_pragma_int(s, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	if (version > STORE_SCHEMA_VERSION) {
		log_error("store: %s has schema version %d, newer than this claimfsd (%d)", s->path,
			  version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (s->read_only) {
		log_error("store: %s needs migration from version %d", s->path, version);
		return -EPROTO;
	}
	if (version >= 1 && version < 3) {
		/* 2 -> 3 gives block ids two more index bits, taken from the inode number. */
		sqlite3_stmt *st = NULL;
		rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(ino), 0) FROM inodes", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
		    (uint64_t)sqlite3_column_int64(st, 0) >> (63 - STORE_BLOCK_BITS) != 0) {
			log_error("store: %s has inode numbers too large for schema 3", s->path);
			sqlite3_finalize(st);
			return -EOVERFLOW;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_OK)
			return store_errno(s, rc, "migration check");
	}
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &err);
	if (rc != SQLITE_OK)
		goto fail;
	for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
		log_info("store: migrating schema %d -> %d", v, v + 1);
		rc = sqlite3_exec(s->db, store_migrations[v], NULL, NULL, &err);
		if (rc != SQLITE_OK)
			goto rollback;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	rc = sqlite3_exec(s->db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		goto rollback;
	rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, &err);
	if (rc != SQLITE_OK)
		goto rollback;
	return 0;
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
fail:
	log_error("store: migration failed: %s", err ? err : sqlite3_errmsg(s->db));
	sqlite3_free(err);
	return store_errno(s, rc, "migration");
}

static int store_prepare_all(struct store *s)
{
	for (int i = 0; i < STMT_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					    &s->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			log_error("store: cannot prepare \"%s\": %s", store_sql[i], sqlite3_errmsg(s->db));
			return store_errno(s, rc, "prepare");
		}
	}
	return 0;
}

static int store_load_next_ino(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(s->db,
				"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'inodes'), 0),"
				" coalesce((SELECT max(ino) FROM inodes), 0))",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		s->next_ino = (uint64_t)sqlite3_column_int64(st, 0) + 1;
	else
		r = store_errno(s, rc, "next inode");
	sqlite3_finalize(st);
	return r;
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

int store_open(const char *path, unsigned flags, struct store **ret_store)
{
	static pthread_once_t config_once = PTHREAD_ONCE_INIT;
	pthread_mutexattr_t attr;
	struct store *s;
	int rc, r;

	pthread_once(&config_once, store_sqlite_config);

	/* The SQL copies of the block layout must match the C constants. */
	if (strtoull(STORE_BLOCK_SIZE_SQL, NULL, 10) != STORE_BLOCK_SIZE ||
	    strtoull(STORE_BLOCK_BITS_SQL, NULL, 10) != STORE_BLOCK_BITS ||
	    strtoull(STORE_BLOCK_MASK_SQL, NULL, 10) != STORE_BLOCK_MAX_INDEX ||
	    strtoll(STORE_WAL_KEEP_BYTES_SQL, NULL, 10) != STORE_WAL_KEEP_BYTES) {
		log_error("store: built with SQL and C copies of a constant that differ");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	atomic_store(&s->stream_rate, (uint64_t)STORE_STREAM_DEFAULT_MIB_PER_S << 20);
	s->read_only = flags & STORE_OPEN_READONLY;
	s->no_reclaim = flags & STORE_OPEN_NO_RECLAIM;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutex_init(&s->sync_lock, NULL);
	s->path = strdup(path);
	if (!s->path) {
		r = -ENOMEM;
		goto fail;
	}
	r = store_lock_file(s, path);
	if (r < 0)
		goto fail;
	s->vfs = store_fault_vfs_name(&r);
	if (r < 0)
		goto fail;
	s->vfs = store_memvfs_name(s->vfs, &r);
	if (r < 0)
		goto fail;
	rc = sqlite3_open_v2(path, &s->db,
			     (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
				     SQLITE_OPEN_NOMUTEX,
			     s->vfs);
	if (rc != SQLITE_OK) {
		r = store_errno(s, rc, "open");
		log_error("store: cannot open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "?");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	rc = sqlite3_busy_timeout(s->db, 5000);
	if (rc != SQLITE_OK) {
		r = store_errno(s, rc, "busy timeout");
		goto fail;
	}
	if (!s->read_only) {
		r = store_pragma(s, "PRAGMA journal_mode = WAL", "wal");
		if (r < 0)
			goto fail;
		r = store_pragma(s, "PRAGMA synchronous = NORMAL", NULL);
		if (r < 0)
			goto fail;
		/* Checkpoints run on the timer's connection, not in the committing thread. */
		r = store_pragma(s, "PRAGMA wal_autocheckpoint = 0", NULL);
		if (r < 0)
			goto fail;
		r = store_pragma(s, "PRAGMA journal_size_limit = " STORE_WAL_KEEP_BYTES_SQL, NULL);
		if (r < 0)
			goto fail;
		/* Debian builds SQLite with SQLITE_SECURE_DELETE: every page a
		 * deletion frees was zero-filled and written, so deleting a 1 GiB
		 * file wrote 1 GiB of zeros to the WAL and then to the database,
		 * competing with whatever came next. FAST zeroes deleted content
		 * only where the page is written anyway; freed pages are
		 * overwritten when reused, and SQL never reads a free page. */
		r = store_pragma(s, "PRAGMA secure_delete = FAST", NULL);
		if (r < 0)
			goto fail;
		sqlite3_wal_hook(s->db, store_wal_hook, s);
	}
	r = store_pragma(s, "PRAGMA cache_size = -16384", NULL);
	if (r < 0)
		goto fail;
	/* Temporary files (the sub-journal behind each operation's savepoint)
	 * go through the VFS, which keeps them in memory (store_memvfs.c), so
	 * an operation never fails for want of space in a temporary directory.
	 * Except during a migration, which rewrites whole tables in one
	 * transaction: its statement journal (every page the DROP of the old
	 * table frees) took 2.2 GiB of RSS for a 2 GiB store; for that one-time
	 * step it goes to a temporary file ($SQLITE_TMPDIR, $TMPDIR, /var/tmp). */
	r = store_pragma(s, "PRAGMA temp_store = FILE", NULL);
	if (r < 0)
		goto fail;
	store_memvfs_spill_to_disk(true);
	r = store_migrate(s);
	store_memvfs_spill_to_disk(false);
	if (r < 0)
		goto fail;
	r = store_prepare_all(s);
	if (r < 0)
		goto fail;
	r = store_load_next_ino(s);
	if (r < 0)
		goto fail;
	if (store_pragma_int(s, "PRAGMA page_size", &s->page_size) < 0 || s->page_size <= 0)
		s->page_size = 4096;
	{
		sqlite3_stmt *cap = NULL;
		rc = sqlite3_prepare_v2(s->db, "SELECT EXISTS (SELECT 1 FROM xattrs WHERE name = "
					"CAST('security.capability' AS BLOB))", -1, &cap, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(cap);
		atomic_store(&s->capability_xattrs, rc != SQLITE_ROW || sqlite3_column_int(cap, 0) != 0);
		sqlite3_finalize(cap);
	}
	if (!s->read_only) {
		r = store_open_checkpointer(s);
		if (r < 0)
			goto fail;
		if (!s->no_reclaim) {
			r = store_orphans_reclaim(s);
			if (r < 0)
				goto fail;
		}
		r = store_sync(s, true);
		if (r < 0)
			goto fail;
	}
	if (!s->read_only)
		store_reserve_make(s);
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
		if (!s->no_reclaim && store_orphans_reclaim(s) < 0)
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
	free(s->invalidations);
	store_inomap_free(&s->txn_inodes);
	store_inomap_free(&s->lost_inodes);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->sync_lock);
	free(s->path);
	free(s);
}

void store_get_stats(struct store *s, struct store_stats *ret_stats)
{
	ret_stats->wal_frames = (uint64_t)atomic_load(&s->wal_frames);
	ret_stats->checkpoint_deferred = atomic_load(&s->stat_ckpt_deferred);
	ret_stats->checkpoint_pending = atomic_load(&s->ckpt_deferring) || atomic_load(&s->ckpt_draining) ||
					atomic_load(&s->wal_frames) > STORE_WAL_RESTART_FRAMES;
	ret_stats->commits = atomic_load(&s->stat_commits);
	ret_stats->durable_commits = atomic_load(&s->stat_durable_commits);
	ret_stats->commit_ns_total = atomic_load(&s->stat_commit_ns);
}
