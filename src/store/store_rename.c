/*
 * store_rename.c — rename(2) and renameat2(2) flags (RENAME_NOREPLACE,
 * RENAME_EXCHANGE) over the namespace of store_inode.c, in one operation.
 *
 * Invariants kept (see store_inode.c): a directory never moves below
 * itself (store_check_not_ancestor); nlink and inodes.parent follow the
 * entries that move; a name replaced by the move drops its inode's link
 * like an unlink (store_drop_name); entries never cross volumes (-EXDEV).
 */
#include "store_internal.h"

#include <assert.h>
#include <errno.h>
#include <linux/fs.h>
#include <string.h>

/* -EINVAL if dir is ancestor or the same as start (moving a directory into itself). */
static int store_check_not_ancestor(struct store *s, uint64_t dir, uint64_t start)
{
	struct store_inode cur;
	uint64_t ino = start;
	int r;

	for (unsigned depth = 0; ino != 0 && ino != STORE_ROOT_INO; depth++) {
		if (ino == dir)
			return -EINVAL;
		if (depth > 100000)
			return -ELOOP;
		r = store_inode_load(s, ino, &cur);
		if (r < 0)
			return r;
		if (cur.attr.volume_id == 0)
			break;
		ino = cur.parent;
	}
	return 0;
}

/* 0, or -EINVAL if moved is a directory that would move (from one
 * directory to another) below itself. */
static int store_check_dir_move(struct store *s, const struct store_inode *moved, uint64_t from,
				uint64_t to)
{
	if (!S_ISDIR(moved->attr.mode) || from == to)
		return 0;
	return store_check_not_ancestor(s, moved->attr.ino, to);
}

struct store_rename_ctx {
	struct store_inode old_dir, new_dir_storage;
	struct store_inode *new_dir; /* == &old_dir when both are the same directory */
	struct store_inode src, dst;
	int64_t src_id, dst_id;
	bool dst_exists;
	struct timespec now;
};

static int store_rename_exchange(struct store *s, struct store_rename_ctx *c, uint64_t old_parent,
				 uint64_t new_parent)
{
	sqlite3_stmt *st;
	bool src_dir = S_ISDIR(c->src.attr.mode), dst_dir = S_ISDIR(c->dst.attr.mode);
	int r;

	assert(store_lock_held(s));
	r = store_check_dir_move(s, &c->src, old_parent, new_parent);
	if (r < 0)
		return r;
	r = store_check_dir_move(s, &c->dst, new_parent, old_parent);
	if (r < 0)
		return r;
	st = store_stmt(s, STMT_DENTRY_SET_INO);
	store_bind_int64(s, st, 1, c->src_id);
	store_bind_int64(s, st, 2, (int64_t)c->dst.attr.ino);
	r = store_step_done(s, st, "exchange");
	if (r < 0)
		return r;
	store_bind_int64(s, st, 1, c->dst_id);
	store_bind_int64(s, st, 2, (int64_t)c->src.attr.ino);
	r = store_step_done(s, st, "exchange");
	if (r < 0)
		return r;
	if (src_dir) {
		c->src.parent = new_parent;
		c->old_dir.attr.nlink--;
		c->new_dir->attr.nlink++;
	}
	if (dst_dir) {
		c->dst.parent = old_parent;
		c->new_dir->attr.nlink--;
		c->old_dir.attr.nlink++;
	}
	c->src.attr.ctime = c->now;
	c->dst.attr.ctime = c->now;
	r = store_inode_save(s, &c->src);
	if (r < 0)
		return r;
	return store_inode_save(s, &c->dst);
}

static int store_rename_move(struct store *s, struct store_rename_ctx *c, uint64_t old_parent,
			     uint64_t new_parent, const char *new_name)
{
	sqlite3_stmt *st;
	bool src_dir = S_ISDIR(c->src.attr.mode);
	int r;

	assert(store_lock_held(s));
	r = store_check_dir_move(s, &c->src, old_parent, new_parent);
	if (r < 0)
		return r;
	if (c->dst_exists) {
		if (src_dir) {
			if (!S_ISDIR(c->dst.attr.mode))
				return -ENOTDIR;
			r = store_dir_is_empty(s, c->dst.attr.ino);
			if (r < 0)
				return r;
			if (r == 0)
				return -ENOTEMPTY;
		} else if (S_ISDIR(c->dst.attr.mode)) {
			return -EISDIR;
		}
		r = store_dentry_remove(s, c->dst_id);
		if (r < 0)
			return r;
		r = store_drop_name(s, c->new_dir, &c->dst, &c->now);
		if (r < 0)
			return r;
	}
	st = store_stmt(s, STMT_DENTRY_MOVE);
	store_bind_int64(s, st, 1, c->src_id);
	store_bind_int64(s, st, 2, (int64_t)new_parent);
	store_bind_blob(s, st, 3, new_name, strlen(new_name));
	r = store_step_done(s, st, "move dentry");
	if (r < 0)
		return r;
	if (src_dir && old_parent != new_parent) {
		c->src.parent = new_parent;
		c->old_dir.attr.nlink--;
		c->new_dir->attr.nlink++;
	}
	c->src.attr.ctime = c->now;
	return store_inode_save(s, &c->src);
}

static int store_do_rename(struct store *s, uint64_t old_parent, const char *name,
			   uint64_t new_parent, const char *new_name, unsigned flags)
{
	struct store_rename_ctx c = { 0 };
	uint64_t src_ino, dst_ino = 0;
	int r;

	assert(store_lock_held(s));
	if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) ||
	    (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE))
		return -EINVAL;
	r = store_check_name(name);
	if (r == 0)
		r = store_check_name(new_name);
	if (r < 0)
		return r;
	r = store_load_user_dir(s, old_parent, &c.old_dir);
	if (r < 0)
		return r;
	if (new_parent == old_parent) {
		c.new_dir = &c.old_dir;
	} else {
		r = store_load_user_dir(s, new_parent, &c.new_dir_storage);
		if (r < 0)
			return r;
		c.new_dir = &c.new_dir_storage;
		if (c.new_dir->attr.volume_id != c.old_dir.attr.volume_id)
			return -EXDEV;
	}
	r = store_dentry_find(s, old_parent, name, &c.src_id, &src_ino);
	if (r < 0)
		return r;
	r = store_inode_load(s, src_ino, &c.src);
	if (r < 0)
		return r;
	r = store_dentry_find(s, new_parent, new_name, &c.dst_id, &dst_ino);
	if (r < 0 && r != -ENOENT)
		return r;
	c.dst_exists = r == 0;
	if (c.dst_exists) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (c.dst_id == c.src_id || dst_ino == src_ino)
			return 0; /* same entry or two links to one inode: nothing to do */
		r = store_inode_load(s, dst_ino, &c.dst);
		if (r < 0)
			return r;
	} else if (flags & RENAME_EXCHANGE) {
		return -ENOENT;
	}
	store_redo_now(s, &c.now);
	if (flags & RENAME_EXCHANGE)
		r = store_rename_exchange(s, &c, old_parent, new_parent);
	else
		r = store_rename_move(s, &c, old_parent, new_parent, new_name);
	if (r < 0)
		return r;
	store_touch_dir(s, &c.old_dir, &c.now);
	store_touch_dir(s, c.new_dir, &c.now);
	r = store_inode_save(s, &c.old_dir);
	if (r == 0 && c.new_dir != &c.old_dir)
		r = store_inode_save(s, c.new_dir);
	if (r == 0)
		store_redo_rename(s, old_parent, name, new_parent, new_name, flags,
				  c.dst_exists && !(flags & RENAME_EXCHANGE) ? c.dst.attr.ino : 0, &c.now);
	return r;
}

int store_rename(struct store *s, uint64_t parent, const char *name, uint64_t new_parent,
		 const char *new_name, unsigned flags)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_do_rename(s, parent, name, new_parent, new_name, flags);
	return store_op_end(s, r);
}
