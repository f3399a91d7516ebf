/*
 * store_inode.c — the namespace: inode lifetime and reclaim, lookups and
 * directory listings, creating, linking and removing names. Renames are
 * store_rename.c, attribute changes store_setattr.c (both build on this).
 *
 * Invariants (checked by the consistency checker of issue 6):
 *   - an inode's nlink equals the number of dentries naming it, plus 1 for a
 *     directory's own "." and 1 for each subdirectory's "..";
 *   - directories have exactly one dentry; inodes.parent names its directory;
 *   - a dentry and its inode are in the same volume (volume 0 = the root and
 *     the namespace directories, which only the volume functions change);
 *   - an inode with nlink 0 exists only while the kernel holds lookup
 *     references (orphans map); store_inode_release_if_unused() is the one
 *     place that deletes it, store_orphans_reclaim() cleans up after a crash.
 */
#include "store_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* ---- inode lifetime --------------------------------------------------------- */

/* Delete an inode and everything it owns, and give its space back. */
/* Delete a loaded inode with its data and xattrs, and uncharge its volume. */
static int store_inode_destroy_loaded(struct store *s, const struct store_inode *inode)
{
	uint64_t ino = inode->attr.ino;
	sqlite3_stmt *st;
	int r;

	assert(store_lock_held(s));
	r = store_data_drop(s, ino);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_XATTR_DELETE_ALL);
	store_bind_int64(s, st, 1, (int64_t)ino);
	r = store_step_done(s, st, "delete xattrs");
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_INODE_DELETE);
	store_bind_int64(s, st, 1, (int64_t)ino);
	r = store_step_done(s, st, "delete inode");
	if (r < 0)
		return r;
	if (inode->attr.volume_id != 0)
		r = store_volume_charge(s, (int64_t)inode->attr.volume_id, -(int64_t)inode->alloc, -1);
	store_inomap_add(&s->orphans, ino, -1, NULL);
	return r;
}

int store_inode_destroy(struct store *s, uint64_t ino)
{
	struct store_inode inode;
	int r = store_inode_load(s, ino, &inode);

	return r < 0 ? r : store_inode_destroy_loaded(s, &inode);
}

/* Whether the kernel may hold ino: a lookup reference this process gave
 * out, or, in a worker resuming a connection, an inode an earlier worker
 * may have given out and the kernel has not forgotten since. */
static bool store_inode_held(struct store *s, uint64_t ino)
{
	if (store_inomap_get(&s->lookups, ino) > 0)
		return true;
	return !s->replaying && s->adopt_orphans && ino < s->adopt_below_ino &&
	       store_inomap_get(&s->forgotten, ino) == 0;
}

/* store_inode_release_if_unused for an inode loaded (or saved) in this operation. */
static int store_inode_release_loaded(struct store *s, const struct store_inode *inode)
{
	uint64_t ino = inode->attr.ino;

	if (inode->attr.nlink > 0)
		return 0;
	if (store_inode_held(s, ino))
		return store_inomap_get(&s->orphans, ino) ? 0 : store_inomap_add(&s->orphans, ino, 1, NULL);
	if (inode->alloc > STORE_RECLAIM_INLINE_BYTES) {
		/* Deleted in chunks once the current operation ends. */
		store_inomap_add(&s->orphans, ino, -1, NULL);
		return store_inomap_get(&s->reclaim, ino) ? 0 : store_inomap_add(&s->reclaim, ino, 1, NULL);
	}
	return store_inode_destroy_loaded(s, inode);
}

/* Called when an inode's nlink may have dropped to 0: delete it now if the
 * kernel holds no reference, else remember it as an orphan. */
int store_inode_release_if_unused(struct store *s, uint64_t ino)
{
	struct store_inode inode;
	int r = store_inode_load(s, ino, &inode);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return store_inode_release_loaded(s, &inode);
}

/* One chunk of a queued deletion: drop up to STORE_RECLAIM_CHUNK_BLOCKS
 * blocks of ino, or the inode itself once it has none. Returns 1 while
 * more remains, 0 when done, negative errno on failure. */
static int store_reclaim_chunk(struct store *s, uint64_t ino)
{
	struct store_inode inode;
	sqlite3_stmt *st;
	int64_t usage = 0, rows = 0;
	int rc, r;

	assert(store_lock_held(s));
	r = store_inode_load(s, ino, &inode);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* A rolled-back transaction may have brought a name back; a new
	 * kernel reference makes it an ordinary orphan again. */
	if (inode.attr.nlink > 0)
		return 0;
	if (store_inode_held(s, ino)) {
		store_inomap_add(&s->orphans, ino, 1, NULL);
		return 0;
	}
	st = store_stmt(s, STMT_BLOCK_CHUNK_USAGE);
	store_bind_int64(s, st, 1, store_block_id(ino, 0));
	store_bind_int64(s, st, 2, store_block_id(ino, STORE_BLOCK_MAX_INDEX));
	store_bind_int64(s, st, 3, STORE_RECLAIM_CHUNK_BLOCKS);
	rc = store_step(s, st);
	if (rc == SQLITE_ROW) {
		usage = sqlite3_column_int64(st, 0);
		rows = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_errno(s, rc, "reclaim usage");
	if (rows < STORE_RECLAIM_CHUNK_BLOCKS) {
		r = store_inode_destroy(s, ino);
		return r < 0 ? r : 0;
	}
	st = store_stmt(s, STMT_BLOCK_CHUNK_DELETE);
	store_bind_int64(s, st, 1, store_block_id(ino, 0));
	store_bind_int64(s, st, 2, store_block_id(ino, STORE_BLOCK_MAX_INDEX));
	store_bind_int64(s, st, 3, STORE_RECLAIM_CHUNK_BLOCKS);
	r = store_step_done(s, st, "reclaim blocks");
	if (r < 0)
		return r;
	inode.alloc = inode.alloc > (uint64_t)usage ? inode.alloc - (uint64_t)usage : 0;
	r = store_inode_save(s, &inode);
	if (r == 0 && inode.attr.volume_id != 0)
		r = store_volume_charge(s, (int64_t)inode.attr.volume_id, -usage, 0);
	return r < 0 ? r : 1;
}

/* Run the queued chunked deletions (called when no operation is open). */
void store_reclaim_pending(struct store *s)
{
	store_lock(s);
	if (s->reclaiming || s->op_depth > 0) {
		store_unlock(s);
		return;
	}
	s->reclaiming = true;
	for (;;) {
		uint64_t ino = 0;
		for (size_t i = 0; i < s->reclaim.capacity && !ino; i++)
			if (s->reclaim.keys[i] != 0 && s->reclaim.keys[i] != UINT64_MAX)
				ino = s->reclaim.keys[i];
		if (!ino)
			break;
		int r;
		do {
			r = store_op_begin(s);
			if (r < 0)
				break;
			r = store_reclaim_chunk(s, ino);
			if (r >= 0)
				store_redo_reclaim(s, ino);
			r = store_op_end(s, r);
			/* Let other operations in between chunks: a 1 GiB file is
			 * 1,024 of them, and this thread would otherwise hold the
			 * store for the whole deletion. reclaiming keeps other
			 * threads out of this loop meanwhile. */
			if (r == 1) {
				store_unlock(s);
				sched_yield();
				store_lock(s);
			}
		} while (r == 1);
		if (r < 0)
			log_warn("store: deleting inode %llu: %s; the next start finishes it",
				 (unsigned long long)ino, strerror(-r));
		store_inomap_add(&s->reclaim, ino, -1, NULL);
	}
	s->reclaiming = false;
	store_unlock(s);
}

int store_orphans_reclaim(struct store *s)
{
	uint64_t *inos = NULL;
	size_t count = 0;
	int r;

	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_collect_inos(s, store_stmt(s, STMT_INODE_ORPHANS), "list orphans", &inos, &count);
	for (size_t i = 0; r == 0 && i < count; i++)
		if (store_inomap_get(&s->lookups, inos[i]) == 0)
			r = store_inomap_add(&s->reclaim, inos[i], 1, NULL);
	if (r == 0 && count > 0)
		log_info("store: reclaiming %zu inode(s) unlinked while open", count);
	free(inos);
	return store_op_end(s, r); /* runs the queued deletions */
}

/* Orphans the kernel may still reference (a worker resuming a connection):
 * each waits in s->orphans until its FORGET (store_forget). */
int store_orphans_adopt(struct store *s)
{
	uint64_t *inos = NULL;
	size_t count = 0;
	int r;

	store_lock(s);
	r = store_collect_inos(s, store_stmt(s, STMT_INODE_ORPHANS), "list orphans", &inos, &count);
	for (size_t i = 0; r == 0 && i < count; i++)
		if (store_inomap_get(&s->orphans, inos[i]) == 0)
			r = store_inomap_add(&s->orphans, inos[i], 1, NULL);
	store_unlock(s);
	if (r == 0 && count > 0)
		log_info("store: %zu inode(s) unlinked while open wait for the kernel to forget them", count);
	free(inos);
	return r;
}

void store_forget(struct store *s, uint64_t ino, uint64_t nlookup)
{
	uint64_t left;
	int r;

	/* Most forgets only drop a count: no transaction for those. */
	store_lock(s);
	r = store_inomap_add(&s->lookups, ino, -(int64_t)nlookup, &left);
	/* The kernel holds no reference left, whatever an earlier worker gave. */
	if (r == 0 && left == 0 && s->adopt_orphans && ino < s->adopt_below_ino &&
	    store_inomap_get(&s->forgotten, ino) == 0)
		r = store_inomap_add(&s->forgotten, ino, 1, NULL);
	if (r == 0 && left == 0 && store_inomap_get(&s->orphans, ino)) {
		r = store_op_begin(s);
		/* Re-check nlink: a rolled-back transaction may have brought a name back. */
		if (r == 0) {
			r = store_inode_release_if_unused(s, ino);
			if (r == 0)
				store_redo_release(s, ino);
			r = store_op_end(s, r);
		}
	}
	if (r < 0 && r != -ENOENT)
		log_warn("store: forget of inode %llu: %s", (unsigned long long)ino, strerror(-r));
	store_unlock(s);
}

/* Take a kernel lookup reference for a reply that is about to be sent. */
static int store_ref(struct store *s, uint64_t ino)
{
	return store_inomap_add(&s->lookups, ino, 1, NULL);
}

/* ---- checks shared by the operations -------------------------------------- */

int store_check_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -ENOENT;
	if (len > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	if (strchr(name, '/'))
		return -EINVAL;
	return 0;
}

/* Load a directory that users may change entries in (inside a volume). */
int store_load_user_dir(struct store *s, uint64_t ino, struct store_inode *ret_dir)
{
	struct store_volume volume;
	int r = store_inode_load(s, ino, ret_dir);

	if (r < 0)
		return r;
	if (!S_ISDIR(ret_dir->attr.mode))
		return -ENOTDIR;
	if (ret_dir->attr.volume_id == 0)
		return -EPERM; /* the root and namespace levels belong to provisioning */
	if (ret_dir->attr.nlink == 0)
		return -ENOENT; /* removed directory */
	r = store_volume_by_id(s, (int64_t)ret_dir->attr.volume_id, &volume);
	if (r < 0)
		return r;
	if (volume.read_only)
		return -EROFS;
	return 0;
}

/* A directory's entries changed (also noted for fsync of the directory). */
void store_touch_dir(struct store *s, struct store_inode *dir, const struct timespec *now)
{
	dir->attr.mtime = *now;
	dir->attr.ctime = *now;
	store_note_changed(s, dir->attr.ino);
}

/* ---- read-only operations ------------------------------------------------ */

int store_getattr(struct store *s, uint64_t ino, struct store_attr *ret_attr)
{
	struct store_inode inode;
	int r;

	store_lock_read(s);
	r = store_inode_load(s, ino, &inode);
	if (r == 0)
		*ret_attr = inode.attr;
	store_unlock(s);
	return r;
}

int store_lookup(struct store *s, uint64_t parent, const char *name, struct store_attr *ret_attr)
{
	struct store_inode dir, inode;
	uint64_t ino;
	int r;

	if (strlen(name) > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	store_lock_read(s);
	/* Only directories have entries: a name found needs no look at its
	 * parent. "." and "..", and the errors, do. */
	bool dots = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
	r = dots ? -ENOENT : store_dentry_find(s, parent, name, NULL, &ino);
	if (r == -ENOENT) {
		int d = store_inode_load(s, parent, &dir);
		if (d < 0 || !S_ISDIR(dir.attr.mode)) {
			r = d < 0 ? d : -ENOTDIR;
			goto out;
		}
		if (dots) {
			ino = name[1] == '\0' ? parent : dir.parent ? dir.parent : STORE_ROOT_INO;
			r = 0;
		}
	}
	if (r < 0)
		goto out;
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		goto out;
	r = store_ref(s, ino);
	if (r == 0)
		*ret_attr = inode.attr;
out:
	store_unlock(s);
	return r;
}

int store_check_writable(struct store *s, uint64_t ino)
{
	struct store_inode inode;
	struct store_volume volume;
	int r;

	store_lock_read(s);
	r = store_inode_load(s, ino, &inode);
	if (r == 0 && inode.attr.volume_id != 0) {
		r = store_volume_by_id(s, (int64_t)inode.attr.volume_id, &volume);
		if (r == 0 && volume.read_only)
			r = -EROFS;
	}
	store_unlock(s);
	return r;
}

int store_readlink(struct store *s, uint64_t ino, char *buf, size_t size)
{
	sqlite3_stmt *st;
	int rc, r, len;

	store_lock_read(s);
	st = store_stmt(s, STMT_INODE_TARGET);
	store_bind_int64(s, st, 1, (int64_t)ino);
	rc = store_step(s, st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(s, rc, "readlink");
		goto out;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		r = -EINVAL;
		goto out;
	}
	len = sqlite3_column_bytes(st, 0);
	memcpy(buf, sqlite3_column_blob(st, 0), (size_t)len < size ? (size_t)len : size);
	r = len;
out:
	sqlite3_reset(st);
	store_unlock(s);
	return r;
}

int store_readdir(struct store *s, uint64_t ino, uint64_t cursor, bool plus, store_dirent_cb cb,
		  void *ud)
{
	struct store_inode dir, dot;
	sqlite3_stmt *st = NULL;
	int rc, r;

	store_lock_read(s);
	r = store_inode_load(s, ino, &dir);
	if (r < 0)
		goto out;
	if (!S_ISDIR(dir.attr.mode)) {
		r = -ENOTDIR;
		goto out;
	}
	/* Cursor 0 = ".", 1 = "..", otherwise 2 + the last dentry id returned. */
	if (cursor == 0) {
		if (cb(ud, ".", &dir.attr, 1))
			goto out;
		cursor = 1;
	}
	if (cursor == 1) {
		r = store_inode_load(s, dir.parent ? dir.parent : STORE_ROOT_INO, &dot);
		if (r < 0)
			goto out;
		if (cb(ud, "..", &dot.attr, 2))
			goto out;
		cursor = 2;
	}
	st = store_stmt(s, STMT_DENTRY_LIST);
	store_bind_int64(s, st, 1, (int64_t)ino);
	store_bind_int64(s, st, 2, (int64_t)(cursor - 2));
	while ((rc = store_step(s, st)) == SQLITE_ROW) {
		struct store_inode child;
		char name[STORE_NAME_MAX + 1];
		int64_t id = sqlite3_column_int64(st, 0);
		int len = sqlite3_column_bytes(st, 1);

		if (len > STORE_NAME_MAX)
			len = STORE_NAME_MAX;
		memcpy(name, sqlite3_column_blob(st, 1), (size_t)len);
		name[len] = '\0';
		store_inode_from_row(st, 2, &child);
		if (cb(ud, name, &child.attr, (uint64_t)id + 2))
			break;
		if (plus) {
			r = store_ref(s, child.attr.ino);
			if (r < 0)
				break;
		}
	}
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_errno(s, rc, "readdir");
out:
	if (st)
		sqlite3_reset(st);
	store_unlock(s);
	return r;
}

/* ---- creating ---------------------------------------------------------------- */

/* Create an inode of any type in a user directory (lock and op held). */
static int store_create_inode(struct store *s, uint64_t parent, const char *name, uint32_t mode,
			      uint64_t rdev, const char *target, const struct store_caller *caller,
			      struct store_attr *ret_attr)
{
	struct store_inode dir, inode = { 0 };
	struct store_volume volume;
	struct timespec now;
	int r;

	r = store_check_name(name);
	if (r < 0)
		return r;
	r = store_load_user_dir(s, parent, &dir);
	if (r < 0)
		return r;
	r = store_dentry_find(s, parent, name, NULL, NULL);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	r = store_volume_by_id(s, (int64_t)dir.attr.volume_id, &volume);
	if (r < 0)
		return r;
	if (volume.used_inodes >= volume.max_inodes)
		return -ENOSPC;
	store_redo_now(s, &now);
	inode.attr.volume_id = dir.attr.volume_id;
	inode.attr.mode = mode;
	inode.attr.uid = caller->uid;
	inode.attr.gid = caller->gid;
	if (dir.attr.mode & S_ISGID) {
		/* BSD group semantics in setgid directories, as ext4 does. */
		inode.attr.gid = dir.attr.gid;
		if (S_ISDIR(mode))
			inode.attr.mode |= S_ISGID;
	}
	inode.attr.nlink = S_ISDIR(mode) ? 2 : 1;
	inode.attr.size = S_ISDIR(mode) ? 4096 : target ? strlen(target) : 0;
	inode.attr.rdev = rdev;
	inode.attr.atime = inode.attr.mtime = inode.attr.ctime = now;
	inode.parent = S_ISDIR(mode) ? parent : 0;
	r = store_inode_insert(s, &inode, target);
	if (r < 0)
		return r;
	r = store_dentry_add(s, parent, name, inode.attr.ino);
	if (r < 0)
		return r;
	if (S_ISDIR(mode))
		dir.attr.nlink++;
	store_touch_dir(s, &dir, &now);
	r = store_inode_save(s, &dir);
	if (r < 0)
		return r;
	r = store_volume_charge(s, (int64_t)volume.id, 0, 1);
	if (r < 0)
		return r;
	r = store_ref(s, inode.attr.ino);
	if (r < 0)
		return r;
	store_redo_create(s, parent, name, &inode.attr, target);
	*ret_attr = inode.attr;
	return 0;
}

int store_mknod(struct store *s, uint64_t parent, const char *name, uint32_t mode, uint64_t rdev,
		const struct store_caller *caller, struct store_attr *ret_attr)
{
	int r;

	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	case 0:
		mode |= S_IFREG;
		break;
	default:
		return -EINVAL;
	}
	if (!S_ISCHR(mode) && !S_ISBLK(mode))
		rdev = 0;
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_create_inode(s, parent, name, mode, rdev, NULL, caller, ret_attr);
	return store_op_end(s, r);
}

int store_symlink(struct store *s, uint64_t parent, const char *name, const char *target,
		  const struct store_caller *caller, struct store_attr *ret_attr)
{
	size_t len = strlen(target);
	int r;

	if (len == 0)
		return -ENOENT;
	if (len > STORE_SYMLINK_MAX)
		return -ENAMETOOLONG;
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_create_inode(s, parent, name, S_IFLNK | 0777, 0, target, caller, ret_attr);
	return store_op_end(s, r);
}

static int store_do_link(struct store *s, uint64_t ino, uint64_t new_parent, const char *new_name,
			 struct store_attr *ret_attr)
{
	struct store_inode inode, dir;
	struct timespec now;
	int r;

	assert(store_lock_held(s));
	r = store_check_name(new_name);
	if (r < 0)
		return r;
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		return r;
	if (S_ISDIR(inode.attr.mode))
		return -EPERM;
	if (inode.attr.volume_id == 0)
		return -EPERM;
	r = store_load_user_dir(s, new_parent, &dir);
	if (r < 0)
		return r;
	if (dir.attr.volume_id != inode.attr.volume_id)
		return -EXDEV; /* claims are separate volumes */
	if (inode.attr.nlink == 0)
		return -ENOENT;
	if (inode.attr.nlink >= STORE_LINK_MAX)
		return -EMLINK;
	r = store_dentry_find(s, new_parent, new_name, NULL, NULL);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	r = store_dentry_add(s, new_parent, new_name, ino);
	if (r < 0)
		return r;
	store_redo_now(s, &now);
	inode.attr.nlink++;
	inode.attr.ctime = now;
	r = store_inode_save(s, &inode);
	if (r < 0)
		return r;
	store_touch_dir(s, &dir, &now);
	r = store_inode_save(s, &dir);
	if (r < 0)
		return r;
	r = store_ref(s, ino);
	if (r < 0)
		return r;
	store_redo_link(s, ino, new_parent, new_name, &now);
	*ret_attr = inode.attr;
	return 0;
}

int store_link(struct store *s, uint64_t ino, uint64_t new_parent, const char *new_name,
	       struct store_attr *ret_attr)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_link(s, ino, new_parent, new_name, ret_attr);
	return store_op_end(s, r);
}

/* ---- removing -------------------------------------------------------------- */

/* Drop one name of child (already removed from dir's entries). */
int store_drop_name(struct store *s, struct store_inode *dir, struct store_inode *child,
		    const struct timespec *now)
{
	int r;

	if (S_ISDIR(child->attr.mode)) {
		child->attr.nlink = 0;
		dir->attr.nlink--;
	} else {
		child->attr.nlink--;
	}
	child->attr.ctime = *now;
	r = store_inode_save(s, child);
	if (r < 0)
		return r;
	return store_inode_release_loaded(s, child);
}

static int store_do_remove(struct store *s, uint64_t parent, const char *name, bool want_dir)
{
	struct store_inode dir, child;
	struct timespec now;
	uint64_t ino;
	int64_t id;
	int r;

	assert(store_lock_held(s));
	if (strlen(name) > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	r = store_load_user_dir(s, parent, &dir);
	if (r < 0)
		return r;
	if (want_dir && strcmp(name, ".") == 0)
		return -EINVAL;
	if (want_dir && strcmp(name, "..") == 0)
		return -ENOTEMPTY;
	r = store_dentry_find(s, parent, name, &id, &ino);
	if (r < 0)
		return r;
	r = store_inode_load(s, ino, &child);
	if (r < 0)
		return r;
	if (want_dir && !S_ISDIR(child.attr.mode))
		return -ENOTDIR;
	if (!want_dir && S_ISDIR(child.attr.mode))
		return -EISDIR;
	if (want_dir) {
		r = store_dir_is_empty(s, ino);
		if (r < 0)
			return r;
		if (r == 0)
			return -ENOTEMPTY;
	}
	r = store_dentry_remove(s, id);
	if (r < 0)
		return r;
	store_redo_now(s, &now);
	store_touch_dir(s, &dir, &now);
	r = store_drop_name(s, &dir, &child, &now);
	if (r < 0)
		return r;
	r = store_inode_save(s, &dir);
	if (r == 0)
		store_redo_remove(s, parent, name, want_dir, ino, &now);
	return r;
}

int store_unlink(struct store *s, uint64_t parent, const char *name)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_remove(s, parent, name, false);
	return store_op_end(s, r);
}

int store_rmdir(struct store *s, uint64_t parent, const char *name)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_remove(s, parent, name, true);
	return store_op_end(s, r);
}
