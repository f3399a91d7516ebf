/*
 * store_record.c — rows of the inode and directory-entry tables, one row at a
 * time: load, save and insert an inode, find, add and remove an entry. The
 * namespace operations (store_inode.c), file data (store_data.c) and volumes
 * (store_volume.c) build on these; this file calls only the transaction
 * layer (store_txn.c).
 *
 * Invariants: inode numbers come from s->next_ino, which only grows (a
 * rolled-back insert never gives its number out again); every inode saved or
 * inserted is noted as changed by the open transaction (store_note_changed),
 * which is what lets a close skip the commit for untouched files.
 * Timestamps are stored as nanoseconds since the epoch.
 */
#include "store_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

/* Fill ret_inode from INODE_COLUMNS at column col of a row. */
void store_inode_from_row(sqlite3_stmt *st, int col, struct store_inode *ret_inode)
{
	struct store_attr *a = &ret_inode->attr;

	a->ino = (uint64_t)sqlite3_column_int64(st, col + 0);
	a->volume_id = (uint64_t)sqlite3_column_int64(st, col + 1);
	ret_inode->parent = (uint64_t)sqlite3_column_int64(st, col + 2);
	a->mode = (uint32_t)sqlite3_column_int64(st, col + 3);
	a->uid = (uint32_t)sqlite3_column_int64(st, col + 4);
	a->gid = (uint32_t)sqlite3_column_int64(st, col + 5);
	a->nlink = (uint32_t)sqlite3_column_int64(st, col + 6);
	a->size = (uint64_t)sqlite3_column_int64(st, col + 7);
	ret_inode->alloc = (uint64_t)sqlite3_column_int64(st, col + 8);
	a->blocks = ret_inode->alloc / 512;
	a->rdev = (uint64_t)sqlite3_column_int64(st, col + 9);
	store_ns_to_ts(sqlite3_column_int64(st, col + 10), &a->atime);
	store_ns_to_ts(sqlite3_column_int64(st, col + 11), &a->mtime);
	store_ns_to_ts(sqlite3_column_int64(st, col + 12), &a->ctime);
}

/* Whether ino, which has no row, is one the kernel still holds. Unlinked
 * inodes stay as orphans while referenced (store_inode_release_if_unused,
 * store_volume_delete), so only a rolled-back batch that created it takes
 * the row of a referenced inode away: its data was lost, which the
 * durability contract reports as EIO, never as ENOENT. */
static bool store_inode_vanished(struct store *s, uint64_t ino)
{
	assert(store_lock_held(s));
	return store_inomap_get(&s->lookups, ino) > 0;
}

/* Load an inode's row: -ENOENT if there is none, -EIO if the kernel holds
 * the inode and a rolled-back batch took the row (store_inode_vanished). */
int store_inode_load(struct store *s, uint64_t ino, struct store_inode *ret_inode)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INODE_GET);
	int rc, r = 0;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, (int64_t)ino);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW)
		store_inode_from_row(st, 0, ret_inode);
	else if (rc == SQLITE_DONE)
		r = store_inode_vanished(s, ino) ? -EIO : -ENOENT;
	else
		r = store_errno(s, rc, "load inode");
	sqlite3_reset(st);
	return r;
}

/* Bind ?2..?11 of STMT_INODE_UPDATE and STMT_INODE_INSERT, the columns
 * both write (numbered alike in the two statements). */
static void store_bind_inode(struct store *s, sqlite3_stmt *st, const struct store_inode *inode)
{
	const struct store_attr *a = &inode->attr;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 2, (int64_t)inode->parent);
	store_bind_int64(s, st, 3, a->mode);
	store_bind_int64(s, st, 4, a->uid);
	store_bind_int64(s, st, 5, a->gid);
	store_bind_int64(s, st, 6, a->nlink);
	store_bind_int64(s, st, 7, (int64_t)a->size);
	store_bind_int64(s, st, 8, (int64_t)inode->alloc);
	store_bind_int64(s, st, 9, store_ts_to_ns(&a->atime));
	store_bind_int64(s, st, 10, store_ts_to_ns(&a->mtime));
	store_bind_int64(s, st, 11, store_ts_to_ns(&a->ctime));
}

int store_inode_save(struct store *s, const struct store_inode *inode)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INODE_UPDATE);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, (int64_t)inode->attr.ino);
	store_bind_inode(s, st, inode);
	int r = store_step_done(s, st, "save inode");
	if (r == 0)
		store_note_changed(s, inode->attr.ino);
	return r;
}

/* Insert a new inode; fills inode->attr.ino. */
int store_inode_insert(struct store *s, struct store_inode *inode, const char *target)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INODE_INSERT);
	struct store_attr *a = &inode->attr;
	int r;

	assert(store_lock_held(s));
	if (s->next_ino >> (63 - STORE_BLOCK_BITS) != 0)
		return -ENOSPC; /* inode numbers exhausted (block ids must stay positive) */
	store_bind_int64(s, st, 1, (int64_t)s->next_ino);
	store_bind_inode(s, st, inode);
	store_bind_int64(s, st, 12, (int64_t)a->volume_id);
	store_bind_int64(s, st, 13, (int64_t)a->rdev);
	if (target)
		store_bind_blob(s, st, 14, target, strlen(target));
	else
		store_bind_null(s, st, 14);
	r = store_step_done(s, st, "insert inode");
	sqlite3_clear_bindings(st);
	if (r < 0)
		return r;
	a->ino = s->next_ino++;
	store_note_changed(s, a->ino);
	return 0;
}

int store_dentry_find(struct store *s, uint64_t parent, const char *name, int64_t *ret_id,
		      uint64_t *ret_ino)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DENTRY_LOOKUP);
	int rc, r = 0;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, (int64_t)parent);
	store_bind_blob(s, st, 2, name, strlen(name));
	rc = store_step(s, st);
	if (rc == SQLITE_ROW) {
		if (ret_id)
			*ret_id = sqlite3_column_int64(st, 0);
		if (ret_ino)
			*ret_ino = (uint64_t)sqlite3_column_int64(st, 1);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(s, rc, "lookup");
	}
	sqlite3_reset(st);
	return r;
}

int store_dentry_add(struct store *s, uint64_t parent, const char *name, uint64_t ino)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DENTRY_INSERT);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, (int64_t)parent);
	store_bind_blob(s, st, 2, name, strlen(name));
	store_bind_int64(s, st, 3, (int64_t)ino);
	return store_step_done(s, st, "insert dentry");
}

int store_dentry_remove(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DENTRY_DELETE);

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, id);
	return store_step_done(s, st, "delete dentry");
}

/* 1 if the directory has no entries, 0 if it has, negative errno on error. */
int store_dir_is_empty(struct store *s, uint64_t dir)
{
	sqlite3_stmt *st = store_stmt(s, STMT_DENTRY_ANY);
	int rc;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, (int64_t)dir);
	rc = store_step(s, st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return store_errno(s, rc, "dir empty");
}

int store_collect_inos(struct store *s, sqlite3_stmt *st, const char *what, uint64_t **ret_inos,
		       size_t *ret_count)
{
	uint64_t *inos = NULL;
	size_t count = 0, capacity = 0;
	int rc, r = 0;

	assert(store_lock_held(s));
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		if (count == capacity) {
			size_t bigger = capacity ? capacity * 2 : 64;
			uint64_t *grown = realloc(inos, bigger * sizeof(*inos));

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			inos = grown;
			capacity = bigger;
		}
		inos[count++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(s, rc, what);
	if (r < 0) {
		free(inos);
		return r;
	}
	*ret_inos = inos;
	*ret_count = count;
	return 0;
}
