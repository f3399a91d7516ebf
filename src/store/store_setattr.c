/*
 * store_setattr.c — changing an inode's attributes (mode, owner, size,
 * times) and statfs, per volume. A truncation that frees more than
 * STORE_RECLAIM_INLINE_BYTES runs in chunks, each its own operation, like a
 * big deletion (store_truncate_in_chunks). A volume's statfs reports free
 * space no larger than what the host can take (store_disk_takeable).
 *
 * Invariant: a size change goes through store_data_truncate, which keeps
 * inodes.alloc and the volume's used_bytes equal to the blocks kept.
 */
#include "store_internal.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

static int store_do_setattr(struct store *s, uint64_t ino, const struct store_setattr_request *req,
			    struct store_attr *ret_attr)
{
	struct store_inode inode;
	struct store_volume volume;
	struct timespec now;
	int r;

	assert(store_lock_held(s));
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		return r;
	if (inode.attr.volume_id == 0)
		return -EPERM;
	r = store_volume_by_id(s, (int64_t)inode.attr.volume_id, &volume);
	if (r < 0)
		return r;
	if (volume.read_only)
		return -EROFS;
	store_redo_now(s, &now);
	if (req->flags & STORE_SET_SIZE) {
		if (S_ISDIR(inode.attr.mode))
			return -EISDIR;
		if (!S_ISREG(inode.attr.mode))
			return -EINVAL;
		r = store_data_truncate(s, &inode, req->size);
		if (r < 0)
			return r;
		inode.attr.mtime = now;
	}
	if (req->flags & STORE_SET_MODE)
		inode.attr.mode = (inode.attr.mode & S_IFMT) | (req->mode & 07777);
	/* A truncate or chown drops privileges as on ext4 and tmpfs: a chown
	 * those of every type but a directory, judged on the group the file
	 * had before (the VFS's setattr_should_drop_sgid). */
	bool owner = req->caller_uid == inode.attr.uid || req->caller_fowner;
	bool chown = (req->flags & (STORE_SET_UID | STORE_SET_GID)) != 0 ||
		     ((req->flags & STORE_SET_OWNER_KEPT) && owner);
	/* chown(-1, -1) by someone else: the implied mode change is the
	 * owner's to make (the VFS's setattr_prepare on tmpfs). */
	if ((req->flags & STORE_SET_OWNER_KEPT) && req->caller_chown && !owner && req->kill &&
	    store_kill_mode(inode.attr.mode, inode.attr.gid, req->kill) != inode.attr.mode)
		return -EPERM;
	if ((S_ISREG(inode.attr.mode) && ((req->flags & STORE_SET_SIZE) || chown || req->kill)) ||
	    (chown && !S_ISDIR(inode.attr.mode))) {
		r = store_kill_priv(s, &inode, req->kill);
		if (r < 0)
			return r;
	}
	if (req->flags & STORE_SET_UID)
		inode.attr.uid = req->uid;
	if (req->flags & STORE_SET_GID)
		inode.attr.gid = req->gid;
	if (req->flags & STORE_SET_ATIME_NOW)
		inode.attr.atime = now;
	else if (req->flags & STORE_SET_ATIME)
		inode.attr.atime = req->atime;
	if (req->flags & STORE_SET_MTIME_NOW)
		inode.attr.mtime = now;
	else if (req->flags & STORE_SET_MTIME)
		inode.attr.mtime = req->mtime;
	inode.attr.ctime = req->flags & STORE_SET_CTIME ? req->ctime : now;
	r = store_inode_save(s, &inode);
	if (r < 0)
		return r;
	/* Dropping set-id bits depended on the caller: the log keeps the mode left. */
	store_redo_setattr(s, ino, req, &now, inode.attr.mode);
	*ret_attr = inode.attr;
	return 0;
}

/* Shrink a big file towards `size` a chunk at a time, each its own
 * operation, so the final truncate frees at most STORE_RECLAIM_INLINE_BYTES
 * (no savepoint journal holds a whole file). Returns 0 or negative errno. */
static int store_truncate_in_chunks(struct store *s, uint64_t ino, uint64_t size)
{
	const uint64_t step = (uint64_t)STORE_RECLAIM_CHUNK_BLOCKS * STORE_BLOCK_SIZE;

	for (;;) {
		struct store_inode inode;
		int r = store_op_begin(s);

		if (r < 0)
			return r;
		struct store_volume volume;
		r = store_inode_load(s, ino, &inode);
		if (r == 0)
			r = store_volume_by_id(s, (int64_t)inode.attr.volume_id, &volume);
		if (r < 0 || volume.read_only || !S_ISREG(inode.attr.mode) || inode.attr.size <= size ||
		    inode.alloc <= STORE_RECLAIM_INLINE_BYTES || inode.attr.size - size <= step) {
			store_op_end(s, 0);
			return 0; /* errors are the final setattr's to report */
		}
		uint64_t next = (inode.attr.size - step) / STORE_BLOCK_SIZE * STORE_BLOCK_SIZE;
		next = next < size ? size : next;
		r = store_data_truncate(s, &inode, next);
		if (r == 0)
			r = store_inode_save(s, &inode);
		if (r == 0)
			store_redo_truncate_chunk(s, ino, next);
		r = store_op_end(s, r);
		if (r < 0)
			return r;
	}
}

int store_setattr(struct store *s, uint64_t ino, const struct store_setattr_request *req,
		  struct store_attr *ret_attr)
{
	int r;

	if (req->flags & STORE_SET_SIZE) {
		r = store_truncate_in_chunks(s, ino, req->size);
		if (r < 0)
			return r;
	}
	r = store_op_begin(s);
	if (r < 0)
		return r;
	r = store_do_setattr(s, ino, req, ret_attr);
	return store_op_end(s, r);
}

int store_statfs(struct store *s, uint64_t ino, struct statvfs *ret_stat)
{
	struct store_inode inode;
	struct store_volume volume;
	int r;

	store_lock_read(s);
	r = store_inode_load(s, ino, &inode);
	if (r < 0)
		goto out;
	if (inode.attr.volume_id == 0) {
		/* Top levels: the host filesystem that holds the store. */
		if (statvfs(s->path, ret_stat) < 0)
			r = -errno;
		else
			ret_stat->f_namemax = STORE_NAME_MAX;
		goto out;
	}
	r = store_volume_by_id(s, (int64_t)inode.attr.volume_id, &volume);
	if (r < 0)
		goto out;
	memset(ret_stat, 0, sizeof(*ret_stat));
	ret_stat->f_bsize = STORE_BLOCK_SIZE;
	ret_stat->f_frsize = STORE_ALLOC_UNIT;
	ret_stat->f_blocks = (volume.capacity + STORE_ALLOC_UNIT - 1) / STORE_ALLOC_UNIT;
	/* Free is what the claim may still write, but never more than the
	 * host can take: a claim promised more than the disk (overcommit, or
	 * a full disk) must not show room that writes would not get. */
	uint64_t room = volume.capacity > volume.used_bytes ? volume.capacity - volume.used_bytes : 0;
	uint64_t takeable = store_disk_takeable(s);
	ret_stat->f_bfree = (room < takeable ? room : takeable) / STORE_ALLOC_UNIT;
	ret_stat->f_bavail = ret_stat->f_bfree;
	ret_stat->f_files = volume.max_inodes;
	ret_stat->f_ffree = volume.max_inodes > volume.used_inodes ? volume.max_inodes - volume.used_inodes : 0;
	ret_stat->f_favail = ret_stat->f_ffree;
	ret_stat->f_fsid = (unsigned long)volume.id;
	ret_stat->f_namemax = STORE_NAME_MAX;
	if (volume.read_only)
		ret_stat->f_flag |= ST_RDONLY;
out:
	store_unlock(s);
	return r;
}
