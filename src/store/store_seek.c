/*
 * store_seek.c — lseek(SEEK_DATA / SEEK_HOLE) over a file's block rows.
 *
 * A block row that holds bytes is data. A missing row (never written, or
 * punched) and a NULL row (fallocated and never written: an unwritten
 * extent, which ext4 and tmpfs also report as a hole) are holes; so is the
 * end of the file. The answers are at block granularity (STORE_BLOCK_SIZE):
 * POSIX lets a filesystem report part of a hole as data, never data as a
 * hole, and a block row holds data anywhere in its 16 KiB.
 *
 * Reads only, under the read lock: the open batch is seen, as by read.
 */
#include "store_internal.h"

#include <assert.h>
#include <errno.h>
#include <sys/stat.h>

/* The first data offset >= offset, or the first hole offset >= offset
 * (end: the size). Lock held; offset < size. */
static int store_seek_blocks(struct store *s, uint64_t ino, uint64_t offset, uint64_t size,
			     bool data, uint64_t *ret_pos)
{
	uint64_t index = offset / STORE_BLOCK_SIZE;
	uint64_t expect = index; /* SEEK_HOLE: the next block that must be data */
	uint64_t pos = size;
	bool found = false;
	int rc, r = 0;

	assert(store_lock_held(s));
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_DATA_FROM);
	store_bind_int64(s, st, 1, store_block_id(ino, index));
	store_bind_int64(s, st, 2, store_block_id(ino, (size - 1) / STORE_BLOCK_SIZE));
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		uint64_t at = (uint64_t)sqlite3_column_int64(st, 0) & STORE_BLOCK_MAX_INDEX;

		if (data) {
			/* The first block with bytes; offset itself if it is in it. */
			pos = at == index ? offset : at * STORE_BLOCK_SIZE;
			found = true;
			break;
		}
		if (at != expect)
			break; /* a hole starts at block expect */
		expect++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_errno(s, rc, "seek");
	sqlite3_reset(st);
	if (r < 0)
		return r;
	if (data) {
		if (!found)
			return -ENXIO; /* only holes up to the end */
	} else {
		uint64_t hole = expect * STORE_BLOCK_SIZE;

		pos = expect == index ? offset : hole < size ? hole : size;
	}
	*ret_pos = pos;
	return 0;
}

int store_seek(struct store *s, uint64_t ino, uint64_t offset, bool data, uint64_t *ret_pos)
{
	struct store_inode inode;
	int r;

	store_lock_read(s);
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		goto out;
	if (!S_ISREG(inode.attr.mode)) {
		r = S_ISDIR(inode.attr.mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	/* At or past the end there is neither data nor a hole to find. */
	if (offset >= inode.attr.size) {
		r = -ENXIO;
		goto out;
	}
	r = store_seek_blocks(s, ino, offset, inode.attr.size, data, ret_pos);
out:
	store_unlock(s);
	return r;
}
