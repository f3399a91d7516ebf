/*
 * store_volume.c — volumes as directories: create, bind into the mount as
 * <namespace>/<claim>, unbind, delete and clone a volume's tree. Builds on the
 * namespace (store_inode.c, store_record.c) and on store_space.c for the
 * volume rows; the API object table is store_object.c.
 *
 * Invariants:
 *   - a volume's root inode has volume = volume id; while bound it has one
 *     dentry in its namespace directory and inodes.parent = that directory,
 *     while unbound no dentry and parent 0;
 *   - a namespace directory (volume 0, child of the root) exists exactly
 *     while at least one volume is bound in it.
 */
#include "store_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int store_volume_set_binding(struct store *s, int64_t id, const char *namespace_name,
				    const char *claim)
{
	sqlite3_stmt *st = store_stmt(s, STMT_VOLUME_BIND);
	int r;

	assert(store_lock_held(s));
	store_bind_int64(s, st, 1, id);
	store_bind_text(s, st, 2, namespace_name);
	store_bind_text(s, st, 3, claim);
	r = store_step_done(s, st, "bind volume");
	sqlite3_clear_bindings(st);
	return r;
}

static int store_do_volume_create(struct store *s, const char *name, uint64_t capacity,
				  uint32_t root_mode, struct store_volume *ret_volume)
{
	struct store_inode root = { 0 };
	struct timespec now;
	sqlite3_stmt *st;
	int64_t id;
	int r;

	assert(store_lock_held(s));
	if (!name[0] || strlen(name) > STORE_VOLUME_NAME_MAX || capacity == 0)
		return -EINVAL;
	st = store_stmt(s, STMT_VOLUME_INSERT);
	store_bind_text(s, st, 1, name);
	store_bind_int64(s, st, 2, (int64_t)capacity);
	r = store_step_done(s, st, "insert volume");
	sqlite3_clear_bindings(st);
	if (r < 0)
		return r;
	id = sqlite3_last_insert_rowid(s->db);
	store_now(&now);
	root.attr.volume_id = (uint64_t)id;
	root.attr.mode = S_IFDIR | (root_mode & 07777);
	root.attr.nlink = 2;
	root.attr.size = 4096;
	root.attr.atime = root.attr.mtime = root.attr.ctime = now;
	r = store_inode_insert(s, &root, NULL);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_VOLUME_SET_ROOT);
	store_bind_int64(s, st, 1, id);
	store_bind_int64(s, st, 2, (int64_t)root.attr.ino);
	r = store_step_done(s, st, "volume root");
	if (r < 0)
		return r;
	r = store_volume_charge(s, id, 0, 1);
	if (r < 0)
		return r;
	return ret_volume ? store_volume_by_id(s, id, ret_volume) : 0;
}

int store_volume_create(struct store *s, const char *name, uint64_t capacity, uint32_t root_mode,
			struct store_volume *ret_volume)
{
	struct store_volume existing;
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_volume_by_name(s, name, &existing);
	if (r == 0)
		r = -EEXIST;
	else if (r == -ENOENT)
		r = store_do_volume_create(s, name, capacity, root_mode, ret_volume);
	return store_op_end(s, r);
}

/* Find or make the namespace directory under the root. */
static int store_namespace_dir(struct store *s, const char *namespace_name, bool create,
			       struct store_inode *ret_dir)
{
	struct store_inode root, dir = { 0 };
	struct timespec now;
	uint64_t ino;
	int r;

	r = store_dentry_find(s, STORE_ROOT_INO, namespace_name, NULL, &ino);
	if (r == 0)
		return store_inode_load(s, ino, ret_dir);
	if (r != -ENOENT || !create)
		return r;
	r = store_inode_load(s, STORE_ROOT_INO, &root);
	if (r < 0)
		return r;
	store_now(&now);
	dir.attr.mode = S_IFDIR | 0755;
	dir.attr.nlink = 2;
	dir.attr.size = 4096;
	dir.attr.atime = dir.attr.mtime = dir.attr.ctime = now;
	dir.parent = STORE_ROOT_INO;
	r = store_inode_insert(s, &dir, NULL);
	if (r < 0)
		return r;
	r = store_dentry_add(s, STORE_ROOT_INO, namespace_name, dir.attr.ino);
	if (r < 0)
		return r;
	root.attr.nlink++;
	root.attr.mtime = root.attr.ctime = now;
	r = store_inode_save(s, &root);
	if (r == 0)
		*ret_dir = dir;
	return r;
}

static int store_do_volume_bind(struct store *s, const char *name, const char *namespace_name,
				const char *claim)
{
	struct store_volume volume;
	struct store_inode dir, root;
	struct timespec now;
	int r;

	assert(store_lock_held(s));
	if (!namespace_name[0] || strlen(namespace_name) > STORE_NAMESPACE_MAX || strchr(namespace_name, '/') ||
	    !claim[0] || strlen(claim) > STORE_CLAIM_NAME_MAX || strchr(claim, '/') ||
	    strcmp(namespace_name, ".") == 0 || strcmp(namespace_name, "..") == 0 ||
	    strcmp(claim, ".") == 0 || strcmp(claim, "..") == 0)
		return -EINVAL;
	r = store_volume_by_name(s, name, &volume);
	if (r < 0)
		return r;
	if (volume.bound_claim[0])
		return -EBUSY;
	r = store_namespace_dir(s, namespace_name, true, &dir);
	if (r < 0)
		return r;
	r = store_dentry_find(s, dir.attr.ino, claim, NULL, NULL);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	r = store_dentry_add(s, dir.attr.ino, claim, volume.root_ino);
	if (r < 0)
		return r;
	store_now(&now);
	dir.attr.nlink++;
	dir.attr.mtime = dir.attr.ctime = now;
	r = store_inode_save(s, &dir);
	if (r < 0)
		return r;
	r = store_inode_load(s, volume.root_ino, &root);
	if (r < 0)
		return r;
	root.parent = dir.attr.ino;
	root.attr.ctime = now;
	r = store_inode_save(s, &root);
	if (r < 0)
		return r;
	return store_volume_set_binding(s, volume.id, namespace_name, claim);
}

int store_volume_bind(struct store *s, const char *name, const char *namespace_name,
		      const char *claim_name)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_volume_bind(s, name, namespace_name, claim_name);
	return store_op_end(s, r);
}

static int store_do_volume_unbind(struct store *s, struct store_volume *volume)
{
	struct store_inode dir, root, top;
	struct timespec now;
	int64_t id;
	int r;

	assert(store_lock_held(s));
	if (!volume->bound_claim[0])
		return 0;
	r = store_namespace_dir(s, volume->bound_namespace, false, &dir);
	if (r < 0)
		return r;
	r = store_dentry_find(s, dir.attr.ino, volume->bound_claim, &id, NULL);
	if (r < 0)
		return r;
	sqlite3_stmt *st = store_stmt(s, STMT_DENTRY_DELETE);
	store_bind_int64(s, st, 1, id);
	r = store_step_done(s, st, "unbind");
	if (r < 0)
		return r;
	store_queue_invalidation(s, dir.attr.ino, volume->bound_claim);
	store_now(&now);
	dir.attr.nlink--;
	dir.attr.mtime = dir.attr.ctime = now;
	r = store_inode_save(s, &dir);
	if (r < 0)
		return r;
	r = store_inode_load(s, volume->root_ino, &root);
	if (r < 0)
		return r;
	root.parent = 0;
	root.attr.ctime = now;
	r = store_inode_save(s, &root);
	if (r < 0)
		return r;
	r = store_volume_set_binding(s, volume->id, "", "");
	if (r < 0)
		return r;
	/* The namespace directory goes with its last claim. */
	r = store_dir_is_empty(s, dir.attr.ino);
	if (r <= 0)
		return r;
	r = store_dentry_find(s, STORE_ROOT_INO, volume->bound_namespace, &id, NULL);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_DENTRY_DELETE);
	store_bind_int64(s, st, 1, id);
	r = store_step_done(s, st, "remove namespace");
	if (r < 0)
		return r;
	store_queue_invalidation(s, STORE_ROOT_INO, volume->bound_namespace);
	r = store_inode_load(s, STORE_ROOT_INO, &top);
	if (r < 0)
		return r;
	top.attr.nlink--;
	top.attr.mtime = top.attr.ctime = now;
	r = store_inode_save(s, &top);
	if (r < 0)
		return r;
	dir.attr.nlink = 0;
	r = store_inode_save(s, &dir);
	if (r < 0)
		return r;
	return store_inode_release_if_unused(s, dir.attr.ino);
}

int store_volume_unbind(struct store *s, const char *name)
{
	struct store_volume volume;
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_volume_by_name(s, name, &volume);
	if (r == 0)
		r = store_do_volume_unbind(s, &volume);
	return store_op_end(s, r);
}

static int store_do_volume_delete(struct store *s, const char *name)
{
	struct store_volume volume;
	sqlite3_stmt *st;
	int r;

	assert(store_lock_held(s));
	r = store_volume_by_name(s, name, &volume);
	if (r < 0)
		return r;
	r = store_do_volume_unbind(s, &volume);
	if (r < 0)
		return r;
	/* Every inode of the volume loses its names now; their data goes in
	 * chunks after this operation (store_reclaim_pending), and a crash in
	 * between leaves orphans that the next start reclaims. */
	st = store_stmt(s, STMT_INODE_OF_VOLUME);
	store_bind_int64(s, st, 1, volume.id);
	uint64_t *inos = NULL;
	size_t count = 0;
	r = store_collect_inos(s, st, "volume inodes", &inos, &count);
	for (size_t i = 0; r == 0 && i < count; i++) {
		st = store_stmt(s, STMT_DENTRY_DELETE_DIR);
		store_bind_int64(s, st, 1, (int64_t)inos[i]);
		r = store_step_done(s, st, "volume dentries");
	}
	if (r == 0) {
		st = store_stmt(s, STMT_VOLUME_ORPHAN_INODES);
		store_bind_int64(s, st, 1, volume.id);
		r = store_step_done(s, st, "orphan volume inodes");
	}
	for (size_t i = 0; r == 0 && i < count; i++) {
		if (store_inomap_get(&s->lookups, inos[i]) > 0)
			r = store_inomap_add(&s->orphans, inos[i], 1, NULL);
		else
			r = store_inomap_add(&s->reclaim, inos[i], 1, NULL);
	}
	free(inos);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_VOLUME_DELETE);
	store_bind_int64(s, st, 1, volume.id);
	return store_step_done(s, st, "delete volume");
}

int store_volume_delete(struct store *s, const char *name)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_volume_delete(s, name);
	return store_op_end(s, r);
}

/* Give every live inode of the source volume a new number in temp.clone_map. */
static int store_clone_map(struct store *s, int64_t src_volume)
{
	sqlite3_stmt *select = NULL, *insert = NULL;
	int rc, r;

	assert(store_lock_held(s));
	r = store_exec_once(s, "CREATE TEMP TABLE clone_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)",
			    0, 0);
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT i.ino FROM inodes i WHERE i.volume = ?1 AND (i.nlink > 0 OR i.ino ="
				" (SELECT root_ino FROM volumes WHERE id = ?1)) ORDER BY i.ino",
				-1, &select, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "INSERT INTO temp.clone_map(old, new) VALUES (?1, ?2)", -1,
					&insert, NULL);
	if (rc != SQLITE_OK) {
		r = store_errno(s, rc, "clone map");
		goto out;
	}
	store_bind_int64(s, select, 1, src_volume);
	while ((rc = store_step(s, select)) == SQLITE_ROW) {
		store_bind_int64(s, insert, 1, sqlite3_column_int64(select, 0));
		store_bind_int64(s, insert, 2, (int64_t)s->next_ino++);
		r = store_step_done(s, insert, "clone map");
		if (r < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = store_errno(s, rc, "clone map");
out:
	sqlite3_finalize(select);
	sqlite3_finalize(insert);
	return r;
}

/* Copy the mapped inodes, entries, blocks and xattrs into volume new_id. */
static int store_clone_rows(struct store *s, int64_t new_id)
{
	assert(store_lock_held(s));
	static const char *const copies[] = {
		"INSERT INTO inodes(ino, volume, parent, mode, uid, gid, nlink, size, alloc, rdev, atime,"
		" mtime, ctime, target) SELECT m.new, ?1, coalesce(p.new, 0), i.mode, i.uid, i.gid, i.nlink,"
		" i.size, i.alloc, i.rdev, i.atime, i.mtime, i.ctime, i.target FROM inodes i"
		" JOIN temp.clone_map m ON m.old = i.ino LEFT JOIN temp.clone_map p ON p.old = i.parent",
		"INSERT INTO dentries(parent, name, ino) SELECT p.new, d.name, c.new FROM dentries d"
		" JOIN temp.clone_map p ON p.old = d.parent JOIN temp.clone_map c ON c.old = d.ino",
		"INSERT INTO blocks(id, data) SELECT (m.new << " STORE_BLOCK_BITS_SQL ") + (b.id & "
		STORE_BLOCK_MASK_SQL "), b.data FROM temp.clone_map m JOIN blocks b ON b.id BETWEEN"
		" (m.old << " STORE_BLOCK_BITS_SQL ") AND (m.old << " STORE_BLOCK_BITS_SQL ") + " STORE_BLOCK_MASK_SQL,
		"INSERT INTO xattrs(ino, name, value) SELECT m.new, x.name, x.value FROM xattrs x"
		" JOIN temp.clone_map m ON m.old = x.ino",
		"UPDATE volumes SET used_bytes = (SELECT coalesce(sum(alloc), 0) FROM inodes WHERE volume = ?1),"
		" used_inodes = (SELECT count(*) FROM inodes WHERE volume = ?1) WHERE id = ?1",
	};
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(copies) / sizeof(copies[0]); i++)
		r = store_exec_once(s, copies[i], new_id, 0);
	return r;
}

static int store_do_volume_clone(struct store *s, const char *src_name, const char *name,
				 uint64_t capacity, struct store_volume *ret_volume)
{
	struct store_volume src, existing;
	sqlite3_stmt *st;
	int64_t id;
	int r;

	assert(store_lock_held(s));
	if (!name[0] || strlen(name) > STORE_VOLUME_NAME_MAX || capacity == 0)
		return -EINVAL;
	r = store_volume_by_name(s, src_name, &src);
	if (r < 0)
		return r;
	r = store_volume_by_name(s, name, &existing);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	if (capacity < src.used_bytes)
		return -ENOSPC;
	st = store_stmt(s, STMT_VOLUME_INSERT);
	store_bind_text(s, st, 1, name);
	store_bind_int64(s, st, 2, (int64_t)capacity);
	r = store_step_done(s, st, "insert volume");
	sqlite3_clear_bindings(st);
	if (r < 0)
		return r;
	id = sqlite3_last_insert_rowid(s->db);
	r = store_clone_map(s, src.id);
	if (r == 0)
		r = store_clone_rows(s, id);
	if (r == 0)
		r = store_exec_once(s, "UPDATE volumes SET root_ino = (SELECT new FROM temp.clone_map"
				       " WHERE old = ?2) WHERE id = ?1",
				    id, (int64_t)src.root_ino);
	if (r == 0)
		r = store_exec_once(s, "UPDATE volumes SET (inode_limit, io_class) = (SELECT"
				       " inode_limit, io_class FROM volumes WHERE id = ?2) WHERE id = ?1",
				    id, src.id);
	int dropped = store_exec_once(s, "DROP TABLE IF EXISTS temp.clone_map", 0, 0);
	if (r == 0)
		r = dropped;
	if (r == 0 && ret_volume)
		r = store_volume_by_id(s, id, ret_volume);
	return r;
}

int store_volume_clone(struct store *s, const char *src_name, const char *name, uint64_t capacity,
		       struct store_volume *ret_volume)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_volume_clone(s, src_name, name, capacity, ret_volume);
	return store_op_end(s, r);
}

int store_volume_clone_group(struct store *s, const struct store_clone *clones, size_t n,
			     struct store_volume *ret_volumes)
{
	struct store_volume *copies = NULL;
	int r;

	if (n == 0)
		return -EINVAL;
	if (ret_volumes != NULL && (copies = calloc(n, sizeof(*copies))) == NULL)
		return -ENOMEM;
	/* One savepoint under the store lock for all members: FUSE writes wait
	 * for the lock, so none falls between two copies. */
	r = store_op_begin(s);
	if (r < 0)
		goto out;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = store_do_volume_clone(s, clones[i].src_name, clones[i].name, clones[i].capacity,
					  copies != NULL ? &copies[i] : NULL);
	r = store_op_end(s, r);
	if (r == 0 && ret_volumes != NULL)
		memcpy(ret_volumes, copies, n * sizeof(*copies));
out:
	free(copies);
	return r;
}

int store_volume_get(struct store *s, const char *name, struct store_volume *ret_volume)
{
	int r;

	store_lock_read(s);
	r = store_volume_by_name(s, name, ret_volume);
	store_unlock(s);
	return r;
}

int store_volume_update(struct store *s, const char *name, uint64_t capacity, bool read_only)
{
	struct store_volume volume;
	sqlite3_stmt *st;
	int r;

	if (capacity == 0)
		return -EINVAL;
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_volume_by_name(s, name, &volume);
	if (r == 0) {
		st = store_stmt(s, STMT_VOLUME_UPDATE);
		store_bind_int64(s, st, 1, volume.id);
		store_bind_int64(s, st, 2, (int64_t)capacity);
		store_bind_int64(s, st, 3, read_only ? 1 : 0);
		r = store_step_done(s, st, "update volume");
	}
	return store_op_end(s, r);
}

int store_volume_list(struct store *s, store_volume_cb cb, void *ud)
{
	struct store_volume volume;
	sqlite3_stmt *st;
	int rc, r = 0;

	store_lock_read(s);
	st = store_stmt(s, STMT_VOLUME_LIST);
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		store_volume_from_row(st, &volume);
		r = cb(ud, &volume);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(s, rc, "list volumes");
	sqlite3_reset(st);
	store_unlock(s);
	return r < 0 ? r : 0;
}
