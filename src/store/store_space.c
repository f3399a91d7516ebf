/*
 * store_space.c — the volume rows that the layers above account space
 * against: a volume by id or by name, and store_volume_charge, which adds to
 * its bytes and inodes in use. File data (store_data.c), the namespace
 * (store_inode.c) and volumes (store_volume.c) call it; it calls only the
 * transaction layer (store_txn.c). Room on the host disk is store_disk.c.
 *
 * Invariants: used_bytes is the sum of inodes.alloc over the volume's inodes
 * and used_inodes their count (store_check verifies both); the operation
 * that charges past capacity or past max_inodes (the volume's inode_limit, else
 * store_volume_inode_limit(capacity))
 * checks before charging and rolls back with -ENOSPC.
 *
 * Capacity (store_capacity_get): a bound, writable volume has been promised
 * capacity - used_bytes more (what it may still write); unbound volumes
 * (snapshots, Released and Available volumes) and read-only ones may write
 * nothing, so they hold only what they use. The sum saturates at
 * UINT64_MAX: capacities up to 16 EiB are stored as int64 bit patterns.
 */
#include "store_internal.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

uint64_t store_volume_inode_limit(uint64_t capacity)
{
	uint64_t limit = capacity / 4096;

	return limit < 1024 ? 1024 : limit;
}

static void store_copy_text(char *dst, size_t size, const unsigned char *src)
{
	size_t len = src ? strnlen((const char *)src, size - 1) : 0;

	memcpy(dst, src ? (const char *)src : "", len);
	dst[len] = '\0';
}

/* Fill ret_volume from VOLUME_COLUMNS of a row. */
void store_volume_from_row(sqlite3_stmt *st, struct store_volume *ret_volume)
{
	memset(ret_volume, 0, sizeof(*ret_volume));
	ret_volume->id = sqlite3_column_int64(st, 0);
	store_copy_text(ret_volume->name, sizeof(ret_volume->name), sqlite3_column_text(st, 1));
	ret_volume->capacity = (uint64_t)sqlite3_column_int64(st, 2);
	ret_volume->used_bytes = (uint64_t)sqlite3_column_int64(st, 3);
	ret_volume->used_inodes = (uint64_t)sqlite3_column_int64(st, 4);
	ret_volume->read_only = sqlite3_column_int(st, 5) != 0;
	ret_volume->root_ino = (uint64_t)sqlite3_column_int64(st, 6);
	store_copy_text(ret_volume->bound_namespace, sizeof(ret_volume->bound_namespace),
			sqlite3_column_text(st, 7));
	store_copy_text(ret_volume->bound_claim, sizeof(ret_volume->bound_claim), sqlite3_column_text(st, 8));
	ret_volume->inode_limit = (uint64_t)sqlite3_column_int64(st, 9);
	ret_volume->io_class = sqlite3_column_int(st, 10) == STORE_IO_DURABLE ? STORE_IO_DURABLE
									       : STORE_IO_STANDARD;
	/* The override, when set (store_volume_modify), wins over the derived one. */
	ret_volume->max_inodes = ret_volume->inode_limit ? ret_volume->inode_limit
							 : store_volume_inode_limit(ret_volume->capacity);
}

static int store_volume_fetch(struct store *s, sqlite3_stmt *st, struct store_volume *ret_volume)
{
	int rc = store_step(s, st), r = 0;

	assert(store_lock_held(s));
	if (rc == SQLITE_ROW)
		store_volume_from_row(st, ret_volume);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(s, rc, "load volume");
	sqlite3_reset(st);
	return r;
}

int store_volume_by_id(struct store *s, int64_t id, struct store_volume *ret_volume)
{
	sqlite3_stmt *st = store_stmt(s, STMT_VOLUME_BY_ID);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, id);
	return store_volume_fetch(s, st, ret_volume);
}

int store_volume_by_name(struct store *s, const char *name, struct store_volume *ret_volume)
{
	sqlite3_stmt *st = store_stmt(s, STMT_VOLUME_BY_NAME);
	int r;

	assert(store_lock_held(s));
	store_bind_text(s, st, 1, name);
	r = store_volume_fetch(s, st, ret_volume);
	sqlite3_clear_bindings(st);
	return r;
}

/* Add to a volume's space and inode use. */
int store_volume_charge(struct store *s, int64_t volume_id, int64_t bytes, int64_t inodes)
{
	sqlite3_stmt *st = store_stmt(s, STMT_VOLUME_USAGE);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, volume_id);
	store_bind_int64(s, st, 2, bytes);
	store_bind_int64(s, st, 3, inodes);
	return store_step_done(s, st, "charge volume");
}

/* Sum over bound, writable volumes of what each may still write. */
static int store_volume_promised(struct store *s, uint64_t *ret_promised)
{
	sqlite3_stmt *st = store_stmt(s, STMT_VOLUME_PROMISED);
	uint64_t promised = 0;
	int rc, r = 0;

	assert(store_lock_held(s));
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		uint64_t capacity = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t used = (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t room = capacity > used ? capacity - used : 0;

		promised = promised > UINT64_MAX - room ? UINT64_MAX : promised + room;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(s, rc, "sum volume capacities");
	sqlite3_reset(st);
	if (r == 0)
		*ret_promised = promised;
	return r;
}

int store_capacity_get(struct store *s, struct store_capacity *ret_capacity)
{
	struct store_capacity capacity;
	int r;

	store_lock_read(s);
	r = store_volume_promised(s, &capacity.promised);
	if (r == 0) {
		capacity.takeable = store_disk_takeable(s);
		*ret_capacity = capacity;
	}
	store_unlock(s);
	return r;
}
