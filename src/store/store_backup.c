/*
 * store_backup.c — an online backup of the whole store (`claimfsd --backup`)
 * while a daemon may be serving it.
 *
 * Owns: the backup's two SQLite connections (the source, opened read-only
 * beside the daemon's, and the copy being written) for the length of one
 * call, and the copy's file until it is renamed into place.
 *
 * How it stays consistent without stopping the daemon: the source
 * connection opens one read transaction before the first page is copied
 * and keeps it to the last (BEGIN + a read), so every sqlite3_backup_step
 * copies from the same WAL snapshot: the last commit before the backup
 * began. Writers go on committing into the WAL meanwhile (a WAL reader
 * never blocks them); the checkpointer just cannot fold the WAL past the
 * snapshot until the backup ends. So every write acknowledged durable
 * (fsync) or crash-safe (close) before the backup began is in the copy,
 * and nothing half-done is.
 *
 * State transitions of the copy: <dest>.partial is written page by page
 * (store_backup_copy), closed (SQLite syncs it at the backup's commit),
 * opened as a store read-only and checked as `claimfsd --check` does
 * (store_backup_verify), and only then renamed to dest and its directory
 * synced. Any failure removes <dest>.partial; dest is never a copy that
 * was not checked.
 */
#include "store_internal.h"

#include "files.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Pages per step: small enough for frequent progress, large enough that the
 * per-step overhead stays negligible (4 MiB with 4 KiB pages). */
#define STORE_BACKUP_STEP_PAGES 1024

/* An SQLite failure of the backup as -errno (store_errno's mapping),
 * logged with what failed. */
static int store_backup_fail(sqlite3 *db, int rc, const char *what)
{
	log_error("backup: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return store_errno(NULL, rc, what);
}

/* Open the source read-only and pin one snapshot (the read transaction). */
static int store_backup_open_source(const char *store_path, sqlite3 **ret_db)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(store_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	int r = 0;

	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(db, 5000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = store_backup_fail(db, rc, "cannot open the store");
		sqlite3_close(db);
		return r;
	}
	*ret_db = db;
	return 0;
}

/* Copy the pinned snapshot into the file at partial, step by step. */
static int store_backup_copy(sqlite3 *src, const char *partial,
			     const struct store_backup_options *opts)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *backup;
	int rc, r = 0;

	rc = sqlite3_open_v2(partial, &dst,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = store_backup_fail(dst, rc, "cannot create the copy");
		goto out;
	}
	backup = sqlite3_backup_init(dst, "main", src, "main");
	if (backup == NULL) {
		r = store_backup_fail(dst, sqlite3_errcode(dst), "cannot start");
		goto out;
	}
	do {
		rc = sqlite3_backup_step(backup, STORE_BACKUP_STEP_PAGES);
		if (opts != NULL && opts->progress != NULL && (rc == SQLITE_OK || rc == SQLITE_DONE))
			opts->progress(opts->ud,
				       (uint64_t)(sqlite3_backup_pagecount(backup) -
						  sqlite3_backup_remaining(backup)),
				       (uint64_t)sqlite3_backup_pagecount(backup));
	} while (rc == SQLITE_OK);
	/* finish commits the copy (synced: synchronous=FULL by default). */
	if (sqlite3_backup_finish(backup) != SQLITE_OK || rc != SQLITE_DONE) {
		r = store_backup_fail(dst, rc != SQLITE_DONE ? rc : sqlite3_errcode(dst), "copying");
		goto out;
	}
	/* The copy carries the store's WAL mode in its header: make it one
	 * self-contained file (no -wal, -shm beside it) until a daemon opens
	 * it, which turns WAL on again. */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		r = store_backup_fail(dst, rc, "leaving WAL mode");
out:
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && r == 0)
		r = store_backup_fail(NULL, SQLITE_IOERR, "closing the copy");
	return r;
}

/* Open the copy as a store and check it; -EUCLEAN if it has problems. */
static int store_backup_verify(const char *partial, const struct store_backup_options *opts,
			       struct store_check_result *ret_check)
{
	struct store *copy = NULL;
	int r = store_open(partial, STORE_OPEN_READONLY | STORE_OPEN_NO_RECLAIM, &copy);

	if (r < 0)
		return r;
	r = store_check(copy, false, opts != NULL ? opts->report : NULL,
			opts != NULL ? opts->ud : NULL, ret_check);
	store_close(copy);
	if (r == 0 && ret_check->problems > 0)
		r = -EUCLEAN;
	return r;
}

int store_backup(const char *store_path, const char *dest_path,
		 const struct store_backup_options *opts, struct store_check_result *ret_check)
{
	char partial[PATH_MAX];
	struct store_check_result check = { 0 };
	sqlite3 *src = NULL;
	int r;

	if (snprintf(partial, sizeof(partial), "%s.partial", dest_path) >= (int)sizeof(partial))
		return -ENAMETOOLONG;
	if (unlink(partial) < 0 && errno != ENOENT)
		return -errno;
	r = store_backup_open_source(store_path, &src);
	if (r < 0)
		return r;
	r = store_backup_copy(src, partial, opts);
	/* The snapshot is copied: let the checkpointer move on. A read
	 * transaction has nothing to commit; a failure only means the close
	 * below ends it. */
	if (sqlite3_exec(src, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		log_debug("backup: ending the read transaction: %s", sqlite3_errmsg(src));
	if (sqlite3_close(src) != SQLITE_OK)
		log_warn("backup: closing the store: %s", sqlite3_errmsg(src));
	if (r == 0)
		r = store_backup_verify(partial, opts, &check);
	if (r == 0 && rename(partial, dest_path) < 0)
		r = -errno;
	if (r == 0)
		r = files_sync_parent_dir(dest_path); /* the rename, durable */
	if (r < 0) {
		unlink(partial);
		return r;
	}
	*ret_check = check;
	return 0;
}

int store_backup_to_fd(struct store *s, const struct store_backup_options *opts,
		       struct store_check_result *ret_check, int *ret_fd)
{
	static atomic_uint counter;
	char dest[PATH_MAX];
	struct store_check_result check;
	int fd, r;

	/* Beside the store (same filesystem, a directory root can write), a
	 * name of its own per call: API backups may run at the same time. */
	if (snprintf(dest, sizeof(dest), "%s.backup-%ld-%u", s->path, (long)getpid(),
		     atomic_fetch_add(&counter, 1)) >= (int)sizeof(dest))
		return -ENAMETOOLONG;
	/* Its own connections: the store lock is never taken, so the
	 * daemon's writers go on while the copy is made. */
	r = store_backup(s->path, dest, opts, &check);
	if (r < 0)
		return r;
	fd = open(dest, O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	unlink(dest); /* the descriptor keeps the copy until the caller closes it */
	if (r < 0)
		return r;
	*ret_check = check;
	*ret_fd = fd;
	return 0;
}
