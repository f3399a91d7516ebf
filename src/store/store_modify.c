/*
 * store_modify.c — a volume's mutable attributes (CSI MODIFY_VOLUME): the
 * stored inode limit that overrides the one derived from the capacity, and
 * the I/O class. store_volume_modify sets them in one operation; the
 * namespace (store_inode.c) enforces the limit through the volume row
 * (store_space.c fills max_inodes) and the FUSE layer asks
 * store_io_class_commit after every write and close. Calls only the
 * transaction layer (store_txn.c) and store_space.c.
 *
 * Invariants: inode_limit 0 means "derived from the capacity"; io_class is
 * STORE_IO_STANDARD or STORE_IO_DURABLE, nothing else is ever stored. A limit
 * below what the volume already uses is kept: nothing is removed, creating
 * fails with ENOSPC until enough is deleted (as a lowered quota does).
 */
#include "store_internal.h"

#include <errno.h>

int store_volume_modify(struct store *s, const char *name, uint64_t inode_limit,
			enum store_io_class io_class)
{
	struct store_volume volume;
	sqlite3_stmt *st;
	int r;

	if (io_class != STORE_IO_STANDARD && io_class != STORE_IO_DURABLE)
		return -EINVAL;
	if (inode_limit > INT64_MAX)
		return -EINVAL;
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_volume_by_name(s, name, &volume);
	if (r == 0) {
		st = store_stmt(s, STMT_VOLUME_MODIFY);
		store_bind_int64(s, st, 1, volume.id);
		store_bind_int64(s, st, 2, (int64_t)inode_limit);
		store_bind_int64(s, st, 3, (int64_t)io_class);
		r = store_step_done(s, st, "modify volume");
	}
	/* Committed with the batch, or with the caller's operation (the
	 * model's transaction commits an API change before answering). */
	return store_op_end(s, r);
}

/* The I/O class of ino's volume; -ENOENT if ino is gone. */
static int store_inode_io_class(struct store *s, uint64_t ino, enum store_io_class *ret_class)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	store_lock_read(s);
	st = store_stmt(s, STMT_INODE_IO_CLASS);
	store_bind_int64(s, st, 1, (int64_t)ino);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW)
		*ret_class = sqlite3_column_int(st, 0) == STORE_IO_DURABLE ? STORE_IO_DURABLE
									   : STORE_IO_STANDARD;
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(s, rc, "inode I/O class");
	sqlite3_reset(st);
	store_unlock(s);
	return r;
}

int store_io_class_commit(struct store *s, uint64_t ino)
{
	enum store_io_class io_class = STORE_IO_STANDARD;
	int r = store_inode_io_class(s, ino, &io_class);

	/* An inode unlinked and reclaimed meanwhile has nothing left to commit. */
	if (r == -ENOENT)
		return 0;
	if (r < 0 || io_class != STORE_IO_DURABLE)
		return r;
	return store_fsync(s, ino, false);
}
