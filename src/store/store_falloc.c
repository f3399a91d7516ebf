/*
 * store_falloc.c — fallocate(2) on a file's block rows (layout: store_data.c).
 *
 * Modes, as fallocate(2) defines them:
 *   0, KEEP_SIZE           reserve: every block in the range gets a row; a
 *                          missing one becomes NULL (reserved, reads as
 *                          zeros), a short data row is padded to a whole
 *                          block. Without KEEP_SIZE the size grows to the
 *                          range's end.
 *   PUNCH_HOLE|KEEP_SIZE   blocks wholly inside the range lose their rows
 *                          (holes: their space goes back to the claim); in a
 *                          block the range covers in part, the data bytes
 *                          inside it become zeros, and a row whose data ends
 *                          inside the range is cut short there (its space
 *                          shrinks by whole STORE_ALLOC_UNITs).
 *   ZERO_RANGE[|KEEP_SIZE] punch, then reserve: the range reads as zeros and
 *                          its space is allocated.
 *   anything else          -EOPNOTSUPP: PUNCH_HOLE without KEEP_SIZE,
 *                          COLLAPSE_RANGE, INSERT_RANGE, UNSHARE_RANGE and
 *                          unknown bits (the kernel's FUSE module refuses
 *                          most of them before they reach us).
 *
 * Each call is one operation (savepoint) in the batch transaction, like a
 * write, so the durability contract (README) covers it unchanged. A punch
 * of more than STORE_RECLAIM_CHUNK_BLOCKS rows first deletes whole blocks a
 * chunk at a time, each its own operation, as a big truncate does, so no
 * savepoint journal holds a whole file; what a crash between chunks leaves
 * is a range partly punched, every byte in it old data or zeros. A zeroing
 * stays one operation: it may fail for room (-ENOSPC) and then changes
 * nothing.
 *
 * Invariants kept: store_data.c's (inodes.alloc and used_bytes are the
 * rows' usage; used_bytes <= capacity after an operation that grows it).
 */
#include "store_internal.h"

#include <assert.h>
#include <errno.h>
#include <linux/falloc.h>

/* The zeros a punch writes into a block it covers in part. */
static const char store_falloc_zeros[STORE_BLOCK_SIZE];

/* Give every block of [first, last] a row: NULL if absent, a whole block if short. */
static int store_falloc_reserve(struct store *s, uint64_t ino, uint64_t first, uint64_t last)
{
	assert(store_lock_held(s));
	for (uint64_t index = first; index <= last; index++) {
		sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_INSERT_NULL);

		store_bind_int64(s, st, 1, store_block_id(ino, index));
		int r = store_step_done(s, st, "reserve block");
		if (r < 0)
			return r;
		st = store_stmt(s, STMT_BLOCK_PAD);
		store_bind_int64(s, st, 1, store_block_id(ino, index));
		store_bind_int64(s, st, 2, STORE_BLOCK_SIZE);
		r = store_step_done(s, st, "pad block");
		if (r < 0)
			return r;
	}
	return 0;
}

/* Make bytes [from, to) of block index read as zeros (0 <= from < to <= block size). */
static int store_falloc_zero_bytes(struct store *s, uint64_t ino, uint64_t index, uint64_t from, uint64_t to)
{
	int64_t id = store_block_id(ino, index);
	bool is_null = false;
	uint64_t len = 0;
	int r = store_block_state(s, id, &is_null, &len);

	if (r == -ENOENT)
		return 0; /* a hole already */
	if (r < 0)
		return r;
	if (is_null || from >= len)
		return 0; /* reads as zeros already */
	if (to < len)
		return store_block_patch(s, id, store_falloc_zeros, (size_t)(to - from), from);
	if (from == 0)
		return store_delete_range(s, ino, index, index);
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_TRIM);
	store_bind_int64(s, st, 1, id);
	store_bind_int64(s, st, 2, (int64_t)from);
	return store_step_done(s, st, "trim block");
}

/* Punch [offset, end) out of ino's rows; the caller accounts for the usage. */
static int store_falloc_punch(struct store *s, uint64_t ino, uint64_t offset, uint64_t end)
{
	uint64_t first = offset / STORE_BLOCK_SIZE, last = (end - 1) / STORE_BLOCK_SIZE;
	uint64_t whole_first = (offset + STORE_BLOCK_SIZE - 1) / STORE_BLOCK_SIZE;
	uint64_t whole_end = end / STORE_BLOCK_SIZE; /* blocks [whole_first, whole_end) are covered */
	int r = 0;

	assert(store_lock_held(s));
	if (whole_first < whole_end)
		r = store_delete_range(s, ino, whole_first, whole_end - 1);
	if (r == 0 && offset % STORE_BLOCK_SIZE) {
		uint64_t to = first == last ? end - first * STORE_BLOCK_SIZE : STORE_BLOCK_SIZE;
		r = store_falloc_zero_bytes(s, ino, first, offset % STORE_BLOCK_SIZE, to);
	}
	if (r == 0 && end % STORE_BLOCK_SIZE && (first != last || offset % STORE_BLOCK_SIZE == 0))
		r = store_falloc_zero_bytes(s, ino, last, 0, end % STORE_BLOCK_SIZE);
	return r;
}

/* Usage and number of the first STORE_RECLAIM_CHUNK_BLOCKS rows of ino's
 * block indexes [first, last]. */
static int store_falloc_chunk_usage(struct store *s, uint64_t ino, uint64_t first, uint64_t last,
				    int64_t *ret_usage, int64_t *ret_rows)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_CHUNK_USAGE);
	int rc, r = 0;

	store_bind_int64(s, st, 1, store_block_id(ino, first));
	store_bind_int64(s, st, 2, store_block_id(ino, last));
	store_bind_int64(s, st, 3, STORE_RECLAIM_CHUNK_BLOCKS);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW) {
		*ret_usage = sqlite3_column_int64(st, 0);
		*ret_rows = sqlite3_column_int64(st, 1);
	} else {
		r = store_errno(s, rc, "punch usage");
	}
	sqlite3_reset(st);
	return r;
}

/* Delete STORE_RECLAIM_CHUNK_BLOCKS rows of ino's block indexes [first,
 * last] as one operation, charging their space back. 1 if a chunk went
 * (more may be left); 0 if fewer rows than a chunk are left, or the file
 * cannot be punched (the final operation takes the rest, or reports the
 * error); -errno if deleting failed. */
int store_falloc_punch_chunk(struct store *s, uint64_t ino, uint64_t first, uint64_t last)
{
	struct store_inode inode;
	struct store_volume volume;
	int64_t usage = 0, rows = 0;
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_load_writable_file(s, ino, &inode, &volume);
	if (r == 0)
		r = store_falloc_chunk_usage(s, ino, first, last, &usage, &rows);
	if (r < 0 || rows < STORE_RECLAIM_CHUNK_BLOCKS) {
		store_op_end(s, 0);
		return 0;
	}
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_CHUNK_DELETE);
	store_bind_int64(s, st, 1, store_block_id(ino, first));
	store_bind_int64(s, st, 2, store_block_id(ino, last));
	store_bind_int64(s, st, 3, STORE_RECLAIM_CHUNK_BLOCKS);
	r = store_step_done(s, st, "punch blocks");
	if (r == 0) {
		inode.alloc -= (uint64_t)usage;
		store_note_changed(s, ino);
		r = store_inode_save(s, &inode);
	}
	if (r == 0 && usage)
		r = store_volume_charge(s, volume.id, -usage, 0);
	if (r == 0)
		store_redo_punch_chunk(s, ino, first, last);
	r = store_op_end(s, r);
	return r < 0 ? r : 1;
}

/* Where a punch ending at end stops: nothing lies past the largest file, so
 * a punch "to the end of everything" (a length up to the kernel's limit, as
 * tmpfs takes it) covers up to there. */
static uint64_t store_falloc_punch_end(uint64_t end)
{
	return end > STORE_FILE_MAX ? STORE_FILE_MAX : end;
}

/* Reject what fallocate(2) or claimfs does not offer; which work a mode needs. */
static int store_falloc_mode(int mode, bool *ret_punch, bool *ret_reserve)
{
	switch (mode) {
	case 0:
	case FALLOC_FL_KEEP_SIZE:
		*ret_punch = false;
		*ret_reserve = true;
		return 0;
	case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
		*ret_punch = true;
		*ret_reserve = false;
		return 0;
	case FALLOC_FL_ZERO_RANGE:
	case FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE:
		*ret_punch = true;
		*ret_reserve = true;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int store_do_fallocate(struct store *s, uint64_t ino, int mode, uint64_t offset, uint64_t length)
{
	struct store_inode inode;
	struct store_volume volume;
	uint64_t end = offset + length, before = 0, after = 0;
	bool punch, reserve;
	int r;

	assert(store_lock_held(s));
	r = store_falloc_mode(mode, &punch, &reserve);
	if (r < 0)
		return r;
	if (length == 0)
		return -EINVAL;
	r = store_load_writable_file(s, ino, &inode, &volume);
	if (r < 0)
		return r;
	if (reserve)
		r = store_check_range(s, &volume, offset, end, length);
	else if (end < offset)
		r = -EFBIG;
	else
		end = store_falloc_punch_end(end); /* a punch frees: no room needed */
	if (r < 0)
		return r;
	if (offset < end) {
		uint64_t first = offset / STORE_BLOCK_SIZE, last = (end - 1) / STORE_BLOCK_SIZE;
		r = store_usage_range(s, ino, first, last, &before);
		if (r == 0 && punch)
			r = store_falloc_punch(s, ino, offset, end);
		if (r == 0 && reserve)
			r = store_falloc_reserve(s, ino, first, last);
		if (r == 0)
			r = store_usage_range(s, ino, first, last, &after);
		if (r < 0)
			return r;
	}
	int64_t delta = (int64_t)after - (int64_t)before;
	if (delta > 0 && volume.used_bytes + (uint64_t)delta > volume.capacity)
		return -ENOSPC;
	struct timespec now;
	store_redo_now(s, &now);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > inode.attr.size) {
		inode.attr.size = end;
		inode.attr.mtime = now;
	}
	if (punch)
		inode.attr.mtime = now; /* the bytes changed */
	inode.attr.ctime = now;
	inode.alloc = (uint64_t)((int64_t)inode.alloc + delta);
	store_note_changed(s, ino);
	r = store_inode_save(s, &inode);
	if (r == 0 && delta)
		r = store_volume_charge(s, volume.id, delta, 0);
	if (r == 0)
		store_redo_fallocate(s, ino, mode, offset, length, &now);
	return r;
}

int store_fallocate(struct store *s, uint64_t ino, int mode, uint64_t offset, uint64_t length)
{
	uint64_t end = offset + length < offset ? offset : store_falloc_punch_end(offset + length);
	int r = 0;

	/* A big punch frees whole blocks a chunk per operation first (not a
	 * zeroing, which may still fail for room and must then change nothing). */
	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) && end > offset) {
		uint64_t whole_first = (offset + STORE_BLOCK_SIZE - 1) / STORE_BLOCK_SIZE;
		uint64_t whole_end = end / STORE_BLOCK_SIZE;
		while (whole_first < whole_end && (r = store_falloc_punch_chunk(s, ino, whole_first, whole_end - 1)) > 0)
			;
		if (r < 0)
			return r;
	}
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_do_fallocate(s, ino, mode, offset, length);
	return store_op_end(s, r);
}
