/*
 * store_schema.c — the schema: the migrations that build it, the text of
 * every prepared statement (store_sql, indexed by enum store_stmt), and the
 * connection settings (PRAGMAs) a store is opened with.
 *
 * Invariants: user_version is the number of migrations applied; migrations
 * run all at once in one transaction (store_migrate), never edited once
 * released, only appended; every statement in store_sql is prepared once
 * (SQLITE_PREPARE_PERSISTENT) after the migrations and finalized by
 * store_close. Calls only store_txn.c (store_errno) and store_memvfs.c.
 */
#include "store_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* 3 -> 4: the phase the model finds objects by is a column the model
	 * sets with every put (store_object_put), so the store no longer
	 * reads the model's JSON to index it. Filled once from the bodies,
	 * with the value the old index held; no declared type, so a value
	 * compares exactly as the json_extract it replaces did. */
	"ALTER TABLE objects ADD COLUMN phase;"
	"UPDATE objects SET phase = json_extract(body, '$.status.phase');"
	"DROP INDEX objects_phase;"
	"CREATE INDEX objects_phase ON objects(kind, phase);",
	/* 4 -> 5: the mutable per-volume attributes (store_modify.c): an inode
	 * limit that overrides the one derived from the capacity (0: derived)
	 * and the I/O class (0: standard batching, 1: durable). Old volumes
	 * keep what they had: 0 and 0. */
	"ALTER TABLE volumes ADD COLUMN inode_limit INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE volumes ADD COLUMN io_class INTEGER NOT NULL DEFAULT 0;",
};

#define STORE_SCHEMA_VERSION ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

#define INODE_COLUMNS "ino, volume, parent, mode, uid, gid, nlink, size, alloc, rdev, atime, mtime, ctime"
#define VOLUME_COLUMNS \
	"id, name, capacity, used_bytes, used_inodes, read_only, root_ino, bound_namespace, bound_claim," \
	" inode_limit, io_class"
#define BLOCK_USAGE_SQL STORE_BLOCK_USAGE_SQL("data")

static const char *const store_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT op",
	[STMT_RELEASE] = "RELEASE op",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO op",
	[STMT_INODE_GET] = "SELECT " INODE_COLUMNS " FROM inodes WHERE ino = ?1",
	/* ?2..?11 as in STMT_INODE_UPDATE (store_bind_inode). */
	[STMT_INODE_INSERT] = "INSERT INTO inodes(ino, volume, parent, mode, uid, gid, nlink, size,"
			      " alloc, rdev, atime, mtime, ctime, target)"
			      " VALUES (?1, ?12, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?13, ?9, ?10, ?11, ?14)",
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
	[STMT_BLOCK_DATA_FROM] = "SELECT id FROM blocks WHERE id BETWEEN ?1 AND ?2"
				 " AND data IS NOT NULL ORDER BY id",
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
	[STMT_VOLUME_MODIFY] = "UPDATE volumes SET inode_limit = ?2, io_class = ?3 WHERE id = ?1",
	[STMT_INODE_IO_CLASS] = "SELECT v.io_class FROM inodes i JOIN volumes v ON v.id = i.volume"
				" WHERE i.ino = ?1",
	[STMT_VOLUME_BIND] = "UPDATE volumes SET bound_namespace = ?2, bound_claim = ?3 WHERE id = ?1",
	[STMT_VOLUME_DELETE] = "DELETE FROM volumes WHERE id = ?1",
	[STMT_OBJECT_GET] = "SELECT body, version FROM objects WHERE kind = ?1 AND namespace = ?2"
			    " AND name = ?3",
	[STMT_OBJECT_PUT] = "INSERT INTO objects(kind, namespace, name, version, body, phase)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(kind, namespace, name)"
			    " DO UPDATE SET version = excluded.version, body = excluded.body,"
			    " phase = excluded.phase",
	[STMT_OBJECT_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
	[STMT_OBJECT_LIST_ALL] = "SELECT namespace, name, body, version FROM objects WHERE kind = ?1"
				 " ORDER BY namespace, name",
	/* INDEXED BY: without statistics the planner prefers the primary key
	 * (it yields the ORDER BY) and reads every object of the kind. The phase
	 * index holds the key columns, so its rows come out in that order too. */
	[STMT_OBJECT_LIST_PHASE] = "SELECT namespace, name, body, version FROM objects"
				   " INDEXED BY objects_phase WHERE kind = ?1"
				   " AND phase = ?2 ORDER BY namespace, name",
	[STMT_OBJECT_LIST_NS] = "SELECT namespace, name, body, version FROM objects WHERE kind = ?1"
				" AND namespace = ?2 ORDER BY name",
	[STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[STMT_META_SET] = "UPDATE meta SET value = ?2 WHERE key = ?1",
	/* Free pages count as room to grow (store_disk.c). */
	[STMT_FREE_PAGE_BYTES] = "SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size",
	/* What bound, writable volumes may still write (store_capacity_get). */
	[STMT_VOLUME_PROMISED] = "SELECT capacity, used_bytes FROM volumes"
				 " WHERE bound_claim <> '' AND read_only = 0",
	/* The background vacuum (store_vacuum.c): the incremental vacuum
	 * answers one row per page it removed, so its caller stops when it
	 * likes. */
	[STMT_FREELIST_COUNT] = "PRAGMA freelist_count",
	[STMT_INCREMENTAL_VACUUM] = "PRAGMA incremental_vacuum",
};

int store_schema_version(void)
{
	return STORE_SCHEMA_VERSION;
}

/* Run a PRAGMA (or any one-shot statement) once; with expect, check the text
 * of its first column. */
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

/* The integer a one-row PRAGMA (or query) gives. One-shot: open and
 * migration only, so prepared and finalized here rather than in the table. */
int store_query_int(struct store *s, const char *sql, int64_t *ret_value)
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
	*ret_value = sqlite3_column_int64(st, 0);
out:
	sqlite3_finalize(st);
	return r;
}

/* Run one statement of a rare operation (a clone, a repair by the checker),
 * binding up to two integers. Prepared for this one run: these statements
 * name temporary tables that do not exist when the store opens, or run once
 * per check. */
int store_exec_once(struct store *s, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	assert(store_lock_held(s));
	if (rc == SQLITE_OK) {
		if (sqlite3_bind_parameter_count(st) >= 1)
			store_bind_int64(s, st, 1, a);
		if (sqlite3_bind_parameter_count(st) >= 2)
			store_bind_int64(s, st, 2, b);
		rc = store_step(s, st);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : store_errno(s, rc, sql);
}

/* Bring the schema to STORE_SCHEMA_VERSION in one transaction. */
static int store_migrate(struct store *s)
{
	char sql[64];
	char *err = NULL;
	int64_t version = 0;
	int rc, r;

	r = store_query_int(s, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	if (version > STORE_SCHEMA_VERSION) {
		log_error("store: %s has schema version %" PRId64 ", newer than this claimfsd (%d)", s->path,
			  version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (s->read_only) {
		log_error("store: %s needs migration from version %" PRId64, s->path, version);
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
	for (int v = (int)version; v < STORE_SCHEMA_VERSION; v++) {
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

/* Prepare every statement of store_sql once, for the life of the store. */
int store_schema_prepare(struct store *s)
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

/* Settings of the main connection, in order, before the schema is touched. */
static const struct store_pragma_setting {
	const char *sql;
	const char *expect;  /* the value the PRAGMA must report, or NULL */
	bool writable_only;  /* skipped for a read-only store */
} store_pragmas[] = {
	/* Before anything writes the first page: a new store gets 8 KiB pages
	 * (SQLite's default is 4 KiB). A 16 KiB block row is then a leaf cell
	 * and two overflow pages instead of four, so a block write walks,
	 * journals, checksums and copies half as many WAL frames (one
	 * pwrite pair each, and a pread and pwrite at checkpoint): measured
	 * over 5 alternating pairs against 4 KiB pages, dd bs=8k conv=fsync
	 * 0.82x the time, bs=128k 0.89x, 8 KiB pwrite + fdatasync 0.83x,
	 * SQLite WAL synchronous=FULL transactions 0.47x (noisy) at about
	 * the same daemon CPU, for ~37% more WAL bytes per small commit.
	 * 16 KiB pages did better on streams but doubled the bytes of every
	 * small commit. An existing store keeps its page size: SQLite ignores
	 * this on a file that has pages, and a WAL database cannot change it
	 * even by VACUUM (store_compact). Every size the store computes from
	 * pages reads PRAGMA page_size (store_load_state). */
	{ "PRAGMA page_size = 8192", NULL, true },
	/* First: a new file takes it only before anything writes its first
	 * page (journal_mode = WAL does). Free pages can then go back to the
	 * host (store_vacuum.c). An existing store made without it keeps
	 * auto_vacuum = NONE (SQLite ignores the setting) until a VACUUM
	 * applies it: store_compact. */
	{ "PRAGMA auto_vacuum = INCREMENTAL", NULL, true },
	{ "PRAGMA journal_mode = WAL", "wal", true },
	{ "PRAGMA synchronous = NORMAL", NULL, true },
	/* Checkpoints run on the timer's connection, not in the committing thread. */
	{ "PRAGMA wal_autocheckpoint = 0", NULL, true },
	{ "PRAGMA journal_size_limit = " STORE_WAL_KEEP_BYTES_SQL, NULL, true },
	/* Debian builds SQLite with SQLITE_SECURE_DELETE: every page a
	 * deletion frees was zero-filled and written, so deleting a 1 GiB
	 * file wrote 1 GiB of zeros to the WAL and then to the database,
	 * competing with whatever came next. FAST zeroes deleted content
	 * only where the page is written anyway; freed pages are
	 * overwritten when reused, and SQL never reads a free page. */
	{ "PRAGMA secure_delete = FAST", NULL, true },
	{ "PRAGMA cache_size = -16384", NULL, false },
	/* Temporary files (the sub-journal behind each operation's savepoint)
	 * go through the VFS, which keeps them in memory (store_memvfs.c), so
	 * an operation never fails for want of space in a temporary directory.
	 * Except during a migration, which rewrites whole tables in one
	 * transaction: its statement journal (every page the DROP of the old
	 * table frees) took 2.2 GiB of RSS for a 2 GiB store; for that one-time
	 * step it goes to a temporary file ($SQLITE_TMPDIR, $TMPDIR, /var/tmp)
	 * (store_schema_migrate). */
	{ "PRAGMA temp_store = FILE", NULL, false },
};

int store_schema_configure(struct store *s)
{
	for (size_t i = 0; i < sizeof(store_pragmas) / sizeof(store_pragmas[0]); i++) {
		const struct store_pragma_setting *p = &store_pragmas[i];
		if (p->writable_only && s->read_only)
			continue;
		int r = store_pragma(s, p->sql, p->expect);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Bring the schema up to date, spilling temporary files to disk meanwhile
 * (see store_schema_configure). */
int store_schema_migrate(struct store *s)
{
	store_memvfs_spill_to_disk(true);
	int r = store_migrate(s);
	store_memvfs_spill_to_disk(false);
	return r;
}
