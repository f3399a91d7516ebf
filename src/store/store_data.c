/*
 * store_data.c — file contents (blocks) and extended attributes.
 *
 * A file's bytes live in rows of the blocks table keyed by
 * store_block_id(ino, index). A row holds the first length(data) bytes of its
 * block (the rest of the block reads as zeros), or NULL for a block that
 * fallocate reserved and nobody wrote (store_falloc.c). A missing row is a hole.
 *
 * Invariants:
 *   - bytes a row holds beyond the file size are zeros (truncate trims rows,
 *     so growing a file again exposes zeros);
 *   - inodes.alloc is the sum of the usage of the inode's rows (a NULL row
 *     counts as a whole block, a data row as its length rounded up to
 *     STORE_ALLOC_UNIT), and volumes.used_bytes the sum over its inodes;
 *   - used_bytes <= capacity after every operation that grows it (an
 *     operation that would pass capacity rolls back with -ENOSPC).
 */
#include "store_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

static uint64_t store_row_usage(bool is_null, uint64_t len)
{
	return is_null ? STORE_BLOCK_SIZE : store_alloc_bytes(len);
}

/* May bytes be written at [offset, end) of a file in volume? -EFBIG past
 * the largest file (or on overflow), -ENOSPC past the volume's capacity or
 * when the disk under the store is nearly full. */
int store_check_range(struct store *s, const struct store_volume *volume, uint64_t offset,
			     uint64_t end, uint64_t bytes)
{
	if (end < offset || end > STORE_FILE_MAX)
		return -EFBIG;
	if (end > volume->capacity)
		return -ENOSPC;
	return store_disk_check(s, bytes);
}

/* Load a regular file inside a writable volume for a data change. */
int store_load_writable_file(struct store *s, uint64_t ino, struct store_inode *ret_inode,
				    struct store_volume *ret_volume)
{
	int r = store_inode_load(s, ino, ret_inode);

	if (r < 0)
		return r;
	if (S_ISDIR(ret_inode->attr.mode))
		return -EISDIR;
	if (!S_ISREG(ret_inode->attr.mode))
		return -EINVAL;
	r = store_volume_by_id(s, (int64_t)ret_inode->attr.volume_id, ret_volume);
	if (r < 0)
		return r;
	if (ret_volume->read_only)
		return -EROFS;
	return 0;
}

/* Sum of row usage for block indexes [first, last] of ino. */
int store_usage_range(struct store *s, uint64_t ino, uint64_t first, uint64_t last,
			     uint64_t *ret_usage)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_USAGE);
	int rc, r = 0;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, store_block_id(ino, first));
	store_bind_int64(s, st, 2, store_block_id(ino, last));
	rc = store_step(s, st);
	if (rc == SQLITE_ROW)
		*ret_usage = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = store_errno(s, rc, "block usage");
	sqlite3_reset(st);
	return r;
}

int store_delete_range(struct store *s, uint64_t ino, uint64_t first, uint64_t last)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_DELETE_RANGE);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, store_block_id(ino, first));
	store_bind_int64(s, st, 2, store_block_id(ino, last));
	return store_step_done(s, st, "delete blocks");
}

int store_data_drop(struct store *s, uint64_t ino)
{
	return store_delete_range(s, ino, 0, STORE_BLOCK_MAX_INDEX);
}

/* State of one block row: absent (-ENOENT), NULL, or data of *ret_len bytes. */
int store_block_state(struct store *s, int64_t id, bool *ret_null, uint64_t *ret_len)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_GET);
	int rc, r = 0;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, id);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW) {
		*ret_null = sqlite3_column_int(st, 0) != 0;
		*ret_len = (uint64_t)sqlite3_column_int64(st, 1);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(s, rc, "block state");
	}
	sqlite3_reset(st);
	return r;
}

static int store_block_put(struct store *s, int64_t id, const void *data, size_t len)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_PUT);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, id);
	store_bind_blob(s, st, 2, data, len);
	int r = store_step_done(s, st, "write block");
	sqlite3_clear_bindings(st);
	return r;
}

/* Overwrite bytes inside an existing data row without rewriting the row. */
int store_block_patch(struct store *s, int64_t id, const void *data, size_t len,
			     uint64_t offset)
{
	sqlite3_blob *blob = NULL;
	int rc;

	rc = sqlite3_blob_open(s->db, "main", "blocks", "data", id, 1, &blob);
	if (rc == SQLITE_OK)
		rc = sqlite3_blob_write(blob, data, (int)len, (int)offset);
	if (blob)
		sqlite3_blob_close(blob);
	return rc == SQLITE_OK ? 0 : store_errno(s, rc, "patch block");
}

/* Copy the first len bytes of a data row (its length, from
 * store_block_state) into buf; the caller fills the rest. */
static int store_block_load(struct store *s, int64_t id, char *buf, uint64_t len)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_RANGE);
	int rc, r = 0;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, id);
	store_bind_int64(s, st, 2, id);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW) {
		const void *data = sqlite3_column_blob(st, 1);
		if ((uint64_t)sqlite3_column_bytes(st, 1) != len || (len > 0 && !data))
			r = -EIO; /* the row changed under the lock: cannot happen */
		else if (len > 0)
			memcpy(buf, data, (size_t)len);
	} else {
		r = rc == SQLITE_DONE ? -EIO : store_errno(s, rc, "load block");
	}
	sqlite3_reset(st);
	return r;
}

/* Write part of one block; adds the change in usage to *delta. Only the
 * bytes of the new row are assembled in scratch (old data, zeros up to the
 * write, the write, and for a reserved block zeros to its end), so an append
 * that starts a block stores its data without touching scratch at all. */
static int store_write_block(struct store *s, uint64_t ino, uint64_t index, uint64_t offset,
			     const char *data, size_t len, char *scratch, int64_t *delta)
{
	int64_t id = store_block_id(ino, index);
	bool is_null = false;
	uint64_t old_len = 0, new_len;
	int r;

	r = store_block_state(s, id, &is_null, &old_len);
	if (r < 0 && r != -ENOENT)
		return r;
	bool exists = r == 0;
	if (exists && !is_null && offset + len <= old_len)
		return store_block_patch(s, id, data, len, offset);
	/* A reserved block stays a whole block; otherwise keep just the data. */
	new_len = is_null ? STORE_BLOCK_SIZE : (old_len > offset + len ? old_len : offset + len);
	if (offset == 0 && len == new_len) {
		r = store_block_put(s, id, data, len);
	} else {
		uint64_t kept = exists && !is_null ? old_len : 0; /* < offset + len here */
		r = kept ? store_block_load(s, id, scratch, kept) : 0;
		if (r < 0)
			return r;
		if (offset > kept)
			memset(scratch + kept, 0, (size_t)(offset - kept));
		memcpy(scratch + offset, data, len);
		if (new_len > offset + len)
			memset(scratch + offset + len, 0, (size_t)(new_len - offset - len));
		r = store_block_put(s, id, scratch, new_len);
	}
	if (r < 0)
		return r;
	*delta += (int64_t)store_row_usage(false, new_len) -
		  (exists ? (int64_t)store_row_usage(is_null, old_len) : 0);
	return 0;
}

/* S_ISUID, and S_ISGID when group-executable or the caller may not keep
 * it, go from any non-directory (see struct store_kill_suidgid). */
uint32_t store_kill_mode(uint32_t mode, uint32_t gid, const struct store_kill_suidgid *kill)
{
	if (S_ISDIR(mode))
		return mode;
	mode &= ~(uint32_t)S_ISUID;
	if ((mode & S_ISGID) && ((mode & S_IXGRP) || (kill->in_group && !kill->in_group(kill->ud, gid))))
		mode &= ~(uint32_t)S_ISGID;
	return mode;
}

/* What a write, truncate or chown takes away, as the kernel's
 * file_remove_privs does on a local filesystem: the file's
 * security.capability, and when the kernel asks (kill != NULL) the set-id
 * bits (store_kill_mode). Changes inode->attr.mode; the caller saves the
 * inode. */
int store_kill_priv(struct store *s, struct store_inode *inode, const struct store_kill_suidgid *kill)
{
	assert(store_lock_held(s));
	static const char caps[] = "security.capability";
	uint32_t mode = inode->attr.mode;

	if (kill)
		inode->attr.mode = store_kill_mode(mode, inode->attr.gid, kill);
	if (!atomic_load(&s->capability_xattrs))
		return 0;
	sqlite3_stmt *st = store_stmt(s, STMT_XATTR_DELETE);
	store_bind_int64(s, st, 1, (int64_t)inode->attr.ino);
	store_bind_blob(s, st, 2, caps, strlen(caps));
	return store_step_done(s, st, "drop security.capability");
}

static ssize_t store_do_write(struct store *s, uint64_t ino, uint64_t offset, const char *buf,
			      size_t size, const struct store_kill_suidgid *kill, char *scratch,
			      enum store_io_class *ret_class)
{
	struct store_inode inode;
	struct store_volume volume;
	uint64_t end = offset + size;
	int64_t delta = 0;
	int r;

	assert(store_lock_held(s));
	r = store_load_writable_file(s, ino, &inode, &volume);
	if (r < 0)
		return r;
	*ret_class = volume.io_class;
	if (size == 0)
		return 0;
	r = store_check_range(s, &volume, offset, end, size);
	if (r < 0)
		return r;
	for (uint64_t pos = offset; pos < end;) {
		uint64_t index = pos / STORE_BLOCK_SIZE, in_block = pos % STORE_BLOCK_SIZE;
		size_t chunk = (size_t)(STORE_BLOCK_SIZE - in_block);
		if (chunk > end - pos)
			chunk = (size_t)(end - pos);
		r = store_write_block(s, ino, index, in_block, buf + (pos - offset), chunk, scratch, &delta);
		if (r < 0)
			return r;
		pos += chunk;
	}
	if (delta > 0 && volume.used_bytes + (uint64_t)delta > volume.capacity)
		return -ENOSPC;
	if (end > inode.attr.size)
		inode.attr.size = end;
	store_note_changed(s, ino);
	s->txn_bytes += size;
	if (size >= STORE_STREAM_MIN_WRITE)
		atomic_fetch_add(&s->stat_stream_bytes, size);
	inode.alloc = (uint64_t)((int64_t)inode.alloc + delta);
	store_redo_now(s, &inode.attr.mtime);
	inode.attr.ctime = inode.attr.mtime;
	r = store_kill_priv(s, &inode, kill);
	if (r < 0)
		return r;
	r = store_inode_save(s, &inode);
	if (r < 0)
		return r;
	if (delta != 0) {
		r = store_volume_charge(s, volume.id, delta, 0);
		if (r < 0)
			return r;
	}
	/* What dropping set-id bits left depends on the caller's groups:
	 * the log keeps the outcome. */
	store_redo_write(s, ino, offset, buf, size, &inode.attr.mtime, kill != NULL, inode.attr.mode);
	return (ssize_t)size;
}

ssize_t store_write(struct store *s, uint64_t ino, uint64_t offset, const char *buf, size_t size)
{
	return store_write_kill(s, ino, offset, buf, size, NULL);
}

ssize_t store_write_kill(struct store *s, uint64_t ino, uint64_t offset, const char *buf,
			 size_t size, const struct store_kill_suidgid *kill)
{
	enum store_io_class io_class;

	return store_write_class(s, ino, offset, buf, size, kill, &io_class);
}

ssize_t store_write_class(struct store *s, uint64_t ino, uint64_t offset, const char *buf,
			  size_t size, const struct store_kill_suidgid *kill,
			  enum store_io_class *ret_class)
{
	enum store_io_class io_class = STORE_IO_STANDARD;
	char *scratch = malloc(STORE_BLOCK_SIZE);
	ssize_t r;

	if (!scratch)
		return -ENOMEM;
	r = store_op_begin(s);
	if (r < 0)
		goto out;
	ssize_t written = store_do_write(s, ino, offset, buf, size, kill, scratch, &io_class);
	int end = store_op_end(s, written < 0 ? (int)written : 0);
	r = end < 0 ? end : written;
	if (r >= 0)
		*ret_class = io_class;
out:
	free(scratch);
	return r;
}

/* relatime: update atime when it is older than mtime/ctime or a day old. */
static bool store_atime_due(const struct store_attr *a, const struct timespec *now)
{
	int64_t atime = store_ts_to_ns(&a->atime);

	return atime <= store_ts_to_ns(&a->mtime) || atime <= store_ts_to_ns(&a->ctime) ||
	       store_ts_to_ns(now) - atime >= 86400LL * 1000000000;
}

/* Set atime by one statement (lock held, batch transaction open); inodes of
 * read-only volumes keep theirs. *ret_changed: whether a row changed. */
static int store_touch_atime(struct store *s, uint64_t ino, const struct timespec *now,
			     bool *ret_changed)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INODE_TOUCH_ATIME);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_int64(s, st, 2, store_ts_to_ns(now));
	int r = store_step_done(s, st, "touch atime");
	*ret_changed = r == 0 && sqlite3_changes(s->db) > 0;
	return r;
}

/* The same as an operation of its own, for a read outside the batch. */
static int store_update_atime(struct store *s, uint64_t ino, const struct timespec *now)
{
	bool changed;
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_touch_atime(s, ino, now, &changed);
	return store_op_end(s, r);
}

ssize_t store_read(struct store *s, uint64_t ino, uint64_t offset, size_t size, char *buf)
{
	struct store_inode inode;
	struct timespec now;
	sqlite3_stmt *st = NULL;
	bool atime_due = false;
	ssize_t r;
	int rc;

	store_lock_read(s);
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		goto out;
	if (S_ISDIR(inode.attr.mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(inode.attr.mode)) {
		r = -EINVAL;
		goto out;
	}
	store_now(&now);
	atime_due = inode.attr.volume_id != 0 && store_atime_due(&inode.attr, &now);
	if (offset >= inode.attr.size || size == 0) {
		r = 0;
		goto out;
	}
	if (size > inode.attr.size - offset)
		size = (size_t)(inode.attr.size - offset);
	memset(buf, 0, size);
	uint64_t end = offset + size;
	st = store_stmt(s, STMT_BLOCK_RANGE);
	store_bind_int64(s, st, 1, store_block_id(ino, offset / STORE_BLOCK_SIZE));
	store_bind_int64(s, st, 2, store_block_id(ino, (end - 1) / STORE_BLOCK_SIZE));
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		uint64_t index = (uint64_t)sqlite3_column_int64(st, 0) & STORE_BLOCK_MAX_INDEX;
		const char *data = sqlite3_column_blob(st, 1);
		uint64_t len = (uint64_t)sqlite3_column_bytes(st, 1);
		uint64_t block_start = index * STORE_BLOCK_SIZE;
		uint64_t from = offset > block_start ? offset : block_start;
		uint64_t to = block_start + len < end ? block_start + len : end;

		if (!data || to <= from)
			continue;
		memcpy(buf + (from - offset), data + (from - block_start), (size_t)(to - from));
	}
	r = rc == SQLITE_DONE ? (ssize_t)size : store_errno(s, rc, "read");
	sqlite3_reset(st);
	st = NULL;
	/* Inside the batch the atime update is one statement, no second load. */
	if (r >= 0 && atime_due && s->in_txn && s->op_depth == 0) {
		atime_due = false;
		bool changed;
		int ar = store_touch_atime(s, ino, &now, &changed);
		if (changed)
			store_count_change(s);
		if (ar < 0)
			log_debug("store: atime update of %llu: %s", (unsigned long long)ino, strerror(-ar));
	}
out:
	if (st)
		sqlite3_reset(st);
	store_unlock(s);
	if (r >= 0 && atime_due) {
		int ar = store_update_atime(s, ino, &now);
		if (ar < 0 && ar != -ENOENT)
			log_debug("store: atime update of %llu: %s", (unsigned long long)ino, strerror(-ar));
	}
	return r;
}

/* Change a file's size, freeing blocks past it (lock and op held). */
int store_data_truncate(struct store *s, struct store_inode *inode, uint64_t size)
{
	struct store_volume volume;
	uint64_t ino = inode->attr.ino, freed = 0, kept_before = 0, kept_after = 0;
	int r;

	assert(store_lock_held(s));
	if (size > STORE_FILE_MAX)
		return -EFBIG;
	r = store_volume_by_id(s, (int64_t)inode->attr.volume_id, &volume);
	if (r < 0)
		return r;
	if (size > volume.capacity && size > inode->attr.size)
		return -ENOSPC;
	if (size < inode->attr.size) {
		uint64_t first_dead = (size + STORE_BLOCK_SIZE - 1) / STORE_BLOCK_SIZE;
		r = store_usage_range(s, ino, first_dead, STORE_BLOCK_MAX_INDEX, &freed);
		if (r < 0)
			return r;
		r = store_delete_range(s, ino, first_dead, STORE_BLOCK_MAX_INDEX);
		if (r < 0)
			return r;
		if (size % STORE_BLOCK_SIZE) {
			uint64_t last = size / STORE_BLOCK_SIZE;
			sqlite3_stmt *st = store_stmt(s, STMT_BLOCK_TRIM);

			r = store_usage_range(s, ino, last, last, &kept_before);
			if (r < 0)
				return r;
			store_bind_int64(s, st, 1, store_block_id(ino, last));
			store_bind_int64(s, st, 2, (int64_t)(size % STORE_BLOCK_SIZE));
			r = store_step_done(s, st, "trim block");
			if (r < 0)
				return r;
			r = store_usage_range(s, ino, last, last, &kept_after);
			if (r < 0)
				return r;
			freed += kept_before - kept_after;
		}
	}
	inode->attr.size = size;
	store_note_changed(s, ino);
	if (freed) {
		inode->alloc -= freed;
		inode->attr.blocks = inode->alloc / 512;
		r = store_volume_charge(s, volume.id, -(int64_t)freed, 0);
	}
	return r;
}

int store_fsync(struct store *s, uint64_t ino, bool datasync)
{
	(void)datasync;
	/* One transaction holds every inode's changes: a durable commit covers them. */
	int r = store_sync(s, true);
	int lost = store_take_lost(s, ino);

	return r < 0 ? r : lost;
}

int store_flush(struct store *s, uint64_t ino)
{
	int r = 0;

	/* Only if ino has changes in the open batch: when closes come
	 * together, the first one's commit usually carries the others' writes
	 * too, and they need no commit of their own. */
	store_lock(s);
	bool pending = s->in_txn && (s->txn_untracked || store_inomap_get(&s->txn_inodes, ino) != 0);
	store_unlock(s);
	if (pending)
		r = store_sync(s, false);
	int lost = store_take_lost(s, ino);

	return r < 0 ? r : lost;
}

/* ---- extended attributes ------------------------------------------------------ */

static int store_check_xattr_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > STORE_XATTR_NAME_MAX)
		return -ERANGE;
	if (strncmp(name, "user.", 5) != 0 && strncmp(name, "trusted.", 8) != 0 &&
	    strncmp(name, "security.", 9) != 0)
		return -EOPNOTSUPP;
	return 0;
}

/* Load an inode whose xattrs may be read (any) or changed (inside a writable volume). */
static int store_xattr_inode(struct store *s, uint64_t ino, const char *name, bool write,
			     struct store_inode *ret_inode)
{
	struct store_volume volume;
	int r = store_inode_load(s, ino, ret_inode);

	if (r < 0)
		return r;
	/* ext4 allows user.* only on regular files and directories. */
	if (strncmp(name, "user.", 5) == 0 && !S_ISREG(ret_inode->attr.mode) &&
	    !S_ISDIR(ret_inode->attr.mode))
		return write ? -EPERM : -ENODATA;
	if (!write)
		return 0;
	if (ret_inode->attr.volume_id == 0)
		return -EPERM;
	r = store_volume_by_id(s, (int64_t)ret_inode->attr.volume_id, &volume);
	if (r < 0)
		return r;
	return volume.read_only ? -EROFS : 0;
}

static int store_do_setxattr(struct store *s, uint64_t ino, const char *name, const void *value,
			     size_t size, int flags)
{
	struct store_inode inode;
	sqlite3_stmt *st;
	int64_t others = 0;
	int r, rc;

	assert(store_lock_held(s));
	r = store_xattr_inode(s, ino, name, true, &inode);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_XATTR_GET);
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_blob(s, st, 2, name, strlen(name));
	rc = store_step(s, st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_errno(s, rc, "getxattr");
	if ((flags & XATTR_CREATE) && rc == SQLITE_ROW)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && rc == SQLITE_DONE)
		return -ENODATA;
	st = store_stmt(s, STMT_XATTR_TOTAL);
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_blob(s, st, 2, name, strlen(name));
	rc = store_step(s, st);
	if (rc == SQLITE_ROW)
		others = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_errno(s, rc, "xattr total");
	if ((uint64_t)others + strlen(name) + size > STORE_XATTR_TOTAL_MAX)
		return -ENOSPC;
	st = store_stmt(s, STMT_XATTR_PUT);
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_blob(s, st, 2, name, strlen(name));
	store_bind_blob(s, st, 3, size ? value : "", size);
	r = store_step_done(s, st, "setxattr");
	if (r < 0)
		return r;
	if (strcmp(name, "security.capability") == 0)
		atomic_store(&s->capability_xattrs, true);
	store_redo_now(s, &inode.attr.ctime);
	r = store_inode_save(s, &inode);
	if (r == 0)
		store_redo_setxattr(s, ino, name, value, size, flags, &inode.attr.ctime);
	return r;
}

int store_setxattr(struct store *s, uint64_t ino, const char *name, const void *value,
		   size_t size, int flags)
{
	int r = store_check_xattr_name(name);

	if (r < 0)
		return r;
	if (size > STORE_XATTR_VALUE_MAX)
		return -E2BIG;
	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return -EINVAL;
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_do_setxattr(s, ino, name, value, size, flags);
	return store_op_end(s, r);
}

ssize_t store_getxattr(struct store *s, uint64_t ino, const char *name, void *buf, size_t size)
{
	struct store_inode inode;
	sqlite3_stmt *st = NULL;
	ssize_t r = store_check_xattr_name(name);
	int rc;

	if (r < 0)
		return r;
	store_lock_read(s);
	r = store_xattr_inode(s, ino, name, false, &inode);
	if (r < 0)
		goto out;
	st = store_stmt(s, STMT_XATTR_GET);
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_blob(s, st, 2, name, strlen(name));
	rc = store_step(s, st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? -ENODATA : store_errno(s, rc, "getxattr");
		goto out;
	}
	r = sqlite3_column_bytes(st, 0);
	if (size > 0) {
		if ((size_t)r > size)
			r = -ERANGE;
		else if (r > 0)
			memcpy(buf, sqlite3_column_blob(st, 0), (size_t)r);
	}
out:
	if (st)
		sqlite3_reset(st);
	store_unlock(s);
	return r;
}

ssize_t store_listxattr(struct store *s, uint64_t ino, char *buf, size_t size)
{
	struct store_inode inode;
	sqlite3_stmt *st = NULL;
	size_t total = 0;
	ssize_t r;
	int rc;

	store_lock_read(s);
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		goto out;
	st = store_stmt(s, STMT_XATTR_LIST);
	store_bind_int64(s, st, 1, (int64_t)ino);
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		if (size > 0) {
			if (total + len + 1 > size) {
				r = -ERANGE;
				goto out;
			}
			memcpy(buf + total, sqlite3_column_blob(st, 0), len);
			buf[total + len] = '\0';
		}
		total += len + 1;
	}
	r = rc == SQLITE_DONE ? (ssize_t)total : store_errno(s, rc, "listxattr");
out:
	if (st)
		sqlite3_reset(st);
	store_unlock(s);
	return r;
}

static int store_do_removexattr(struct store *s, uint64_t ino, const char *name)
{
	struct store_inode inode;
	sqlite3_stmt *st;
	int r;

	assert(store_lock_held(s));
	r = store_xattr_inode(s, ino, name, true, &inode);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_XATTR_DELETE);
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_blob(s, st, 2, name, strlen(name));
	r = store_step_done(s, st, "removexattr");
	if (r < 0)
		return r;
	if (sqlite3_changes(s->db) == 0)
		return -ENODATA;
	store_redo_now(s, &inode.attr.ctime);
	r = store_inode_save(s, &inode);
	if (r == 0)
		store_redo_removexattr(s, ino, name, &inode.attr.ctime);
	return r;
}

int store_removexattr(struct store *s, uint64_t ino, const char *name)
{
	int r = store_check_xattr_name(name);

	if (r < 0)
		return r;
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_do_removexattr(s, ino, name);
	return store_op_end(s, r);
}
