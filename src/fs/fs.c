/*
 * fs.c — libfuse3 lowlevel operations over the store (the table fs_ops;
 * fs_session.c mounts and serves it).
 *
 * Every operation is a wrapper that sends exactly one reply around a store
 * call that returns a negative errno. Nothing here holds a lock across a
 * fuse_reply_* call: the store takes and drops its own lock inside each call.
 *
 * Kernel caching: entries and attributes are cached for FS_CACHE_TIMEOUT
 * seconds. Inside volumes only this daemon changes them, always through the
 * kernel. The root and namespace levels change behind the kernel's back when
 * claims are unbound or deleted: the store reports each such entry through
 * its invalidate hook and fs_invalidate_entry drops it from the kernel's
 * cache (new entries need nothing: failed lookups are not cached).
 *
 * Page cache: kept across opens (keep_cache), since no file changes except
 * through this mount; volumes are never modified behind the kernel's back
 * except by deletion, which makes their inodes unreachable.
 *
 * File handles: fi->fh is a value (FS_FH_*, fs_internal.h), never a pointer,
 * so a worker started on the connection of one that died honours every
 * handle the kernel holds. close(2) of a writable handle (flush) commits the
 * file only when it has changes in the open batch (store_flush decides).
 */
#include "fs_internal.h"

#include "fs_killpriv.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define FS_CACHE_TIMEOUT 1.0
#define FS_READDIR_MAX (128 * 1024)

/* Set by fs_reply_err when the operation on this thread failed (metrics). */
static _Thread_local int fs_op_failed;

static void fs_reply_err(fuse_req_t req, int err)
{
	if (err)
		fs_op_failed = 1;
	fuse_reply_err(req, err);
}

static struct store *fs_store(fuse_req_t req)
{
	return ((struct fs *)fuse_req_userdata(req))->store;
}

static void fs_attr_to_stat(const struct store_attr *a, struct stat *ret_stat)
{
	memset(ret_stat, 0, sizeof(*ret_stat));
	ret_stat->st_ino = a->ino;
	ret_stat->st_mode = a->mode;
	ret_stat->st_nlink = a->nlink;
	ret_stat->st_uid = a->uid;
	ret_stat->st_gid = a->gid;
	ret_stat->st_size = (off_t)a->size;
	ret_stat->st_blocks = (blkcnt_t)a->blocks;
	ret_stat->st_blksize = 65536;
	ret_stat->st_rdev = (dev_t)a->rdev;
	ret_stat->st_atim = a->atime;
	ret_stat->st_mtim = a->mtime;
	ret_stat->st_ctim = a->ctime;
}

static void fs_fill_entry(const struct store_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = 1;
	fs_attr_to_stat(a, &e->attr);
	e->attr_timeout = FS_CACHE_TIMEOUT;
	e->entry_timeout = FS_CACHE_TIMEOUT;
}

/* Store hook: a claim or namespace entry went away behind the kernel's back
 * (called with no store lock held). */
void fs_invalidate_entry(void *ud, uint64_t parent, const char *name)
{
	struct fs *fs = ud;
	int r = fuse_lowlevel_notify_inval_entry(fs->session, parent, name, strlen(name));

	if (r < 0 && r != -ENOENT)
		log_debug("fs: invalidating %s in %llu: %s", name, (unsigned long long)parent, strerror(-r));
}

static void fs_reply_entry_or_err(fuse_req_t req, int r, const struct store_attr *a)
{
	struct fuse_entry_param e;

	if (r < 0) {
		fs_reply_err(req, -r);
		return;
	}
	fs_fill_entry(a, &e);
	fuse_reply_entry(req, &e);
}

static void fs_caller(fuse_req_t req, struct store_caller *ret_caller)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	ret_caller->uid = ctx->uid;
	ret_caller->gid = ctx->gid;
}

/* Whether the caller of req is in group gid (its fsgid or a supplementary
 * group), for store_kill_suidgid. */
static bool fs_caller_in_group(void *ud, uint32_t gid)
{
	fuse_req_t req = ud;
	gid_t few[32], *list = few;
	bool found = false;

	if (fuse_req_ctx(req)->gid == gid)
		return true;
	int n = fuse_req_getgroups(req, 32, few);
	if (n > 32) {
		list = malloc((size_t)n * sizeof(*list));
		if (!list)
			return false;
		int m = fuse_req_getgroups(req, n, list);
		n = m < n ? m : n;
	}
	for (int i = 0; i < n && !found; i++)
		found = list[i] == gid;
	if (list != few)
		free(list);
	return found;
}

/* For a chown, which the kernel asks to drop set-id bits without checking
 * the caller's CAP_FSETID: whether the caller may keep an S_ISGID without
 * group execute (it has CAP_FSETID or is in the file's old group). */
static bool fs_caller_keeps_sgid(void *ud, uint32_t gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(ud);

	return fs_killpriv_caller_has_cap(ctx->pid, ctx->uid, CAP_FSETID) || fs_caller_in_group(ud, gid);
}

/* The set-id drop the kernel asks of this request (fs_killpriv.c), in *storage,
 * or NULL. in_group: fs_caller_in_group (write, truncate: the kernel asks
 * only callers without CAP_FSETID) or fs_caller_keeps_sgid (chown). */
static const struct store_kill_suidgid *fs_kill_request(fuse_req_t req, bool (*in_group)(void *, uint32_t),
							 struct store_kill_suidgid *storage)
{
	if (!fs_killpriv_requested())
		return NULL;
	storage->in_group = in_group;
	storage->ud = req;
	return storage;
}

/* A SETATTR with nothing to set is a chown(-1, -1): see STORE_SET_OWNER_KEPT. */
static void fs_owner_kept(fuse_req_t req, struct store_setattr_request *sr, struct store_kill_suidgid *kill)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	kill->in_group = fs_caller_keeps_sgid;
	kill->ud = req;
	sr->kill = kill;
	sr->flags = STORE_SET_OWNER_KEPT;
	sr->caller_uid = ctx->uid;
	sr->caller_fowner = fs_killpriv_caller_has_cap(ctx->pid, ctx->uid, CAP_FOWNER);
	sr->caller_chown = fs_killpriv_caller_in_chown(ctx->pid);
}

/* ---- lifetime ------------------------------------------------------------ */

static void fs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* Not KILLPRIV (v1): the kernel would stop clearing set-id bits without
	 * telling us who lacks CAP_FSETID. fs_killpriv.c negotiates KILLPRIV_V2,
	 * which does tell; without it the kernel clears them itself. */
	conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
	/* Writes go to the store as they come: ENOSPC must reach write(2). */
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	/* File data changes only through this mount, so the kernel's page
	 * cache is never stale. With AUTO_INVAL_DATA the kernel drops a file's
	 * pages whenever a refreshed mtime differs from its cached one, which
	 * after every write(2) through the kernel itself: the next read went
	 * back to the store. One exception, as on Linux after a writeback
	 * error: when a commit fails, the lost batch's writes stay in the page
	 * cache while the file's next fsync or close reports EIO (README,
	 * durability point 6). */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	conn->max_write = 1024 * 1024;
	/* Test-only: a binary that negotiates differently (fs_resume.c). */
	if (fs_resume_test_other_init())
		conn->max_write /= 2;
	conn->time_gran = 1;
}

/* ---- lookups and attributes ------------------------------------------------ */

static void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct store_attr a;
	struct fuse_entry_param e;
	int r;

	r = store_lookup(fs_store(req), parent, name, &a);
	if (r < 0) {
		fs_reply_err(req, -r);
		return;
	}
	fs_fill_entry(&a, &e);
	if (fuse_reply_entry(req, &e) != 0)
		store_forget(fs_store(req), a.ino, 1);
}

static void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	store_forget(fs_store(req), ino, nlookup);
	fuse_reply_none(req);
}

static void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		store_forget(fs_store(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_reply_attr(fuse_req_t req, int r, const struct store_attr *a)
{
	struct stat st;

	if (r < 0) {
		fs_reply_err(req, -r);
		return;
	}
	fs_attr_to_stat(a, &st);
	fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT);
}

static void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct store_attr a;
	int r = store_getattr(fs_store(req), ino, &a);

	(void)fi;
	fs_reply_attr(req, r, &a);
}

static void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	struct store_setattr_request sr = { 0 };
	struct store_attr a;
	int r;

	if (to_set & FUSE_SET_ATTR_MODE) {
		sr.flags |= STORE_SET_MODE;
		sr.mode = attr->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sr.flags |= STORE_SET_UID;
		sr.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sr.flags |= STORE_SET_GID;
		sr.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		sr.flags |= STORE_SET_SIZE;
		sr.size = (uint64_t)attr->st_size;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		sr.flags |= STORE_SET_ATIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME) {
		sr.flags |= STORE_SET_ATIME;
		sr.atime = attr->st_atim;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		sr.flags |= STORE_SET_MTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME) {
		sr.flags |= STORE_SET_MTIME;
		sr.mtime = attr->st_mtim;
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		sr.flags |= STORE_SET_CTIME;
		sr.ctime = attr->st_ctim;
	}
	/* The kernel asks for a truncate by a caller without CAP_FSETID, and
	 * for every chown of a non-directory, whoever the caller. */
	struct store_kill_suidgid kill;
	sr.kill = fs_kill_request(req, (to_set & FUSE_SET_ATTR_SIZE) ? fs_caller_in_group : fs_caller_keeps_sgid,
				  &kill);
	(void)fi;
	if (sr.flags == 0)
		fs_owner_kept(req, &sr, &kill);
	r = store_setattr(fs_store(req), ino, &sr, &a);
	fs_reply_attr(req, r, &a);
}

static void fs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char target[STORE_SYMLINK_MAX + 1];
	int r = store_readlink(fs_store(req), ino, target, sizeof(target) - 1);

	if (r < 0) {
		fs_reply_err(req, -r);
		return;
	}
	target[r] = '\0';
	fuse_reply_readlink(req, target);
}

/* ---- creating and removing -------------------------------------------------- */

static void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			dev_t rdev)
{
	struct store_caller caller;
	struct store_attr a;
	int r;

	fs_caller(req, &caller);
	r = store_mknod(fs_store(req), parent, name, mode, rdev, &caller, &a);
	r = fs_resent_created(fs_store(req), parent, name, mode & S_IFMT, 0, r, &a);
	fs_reply_entry_or_err(req, r, &a);
}

static void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	fs_op_mknod(req, parent, name, S_IFDIR | (mode & 07777), 0);
}

static void fs_op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	struct store_caller caller;
	struct store_attr a;
	int r;

	fs_caller(req, &caller);
	r = store_symlink(fs_store(req), parent, name, target, &caller, &a);
	r = fs_resent_created(fs_store(req), parent, name, S_IFLNK, 0, r, &a);
	fs_reply_entry_or_err(req, r, &a);
}

static void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char *new_name)
{
	struct store_attr a;
	int r = store_link(fs_store(req), ino, new_parent, new_name, &a);

	/* The type is the linked inode's own (0, matching nothing, if unknown). */
	uint32_t type = r == 0 || (r == -EEXIST && store_getattr(fs_store(req), ino, &a) == 0) ? a.mode & S_IFMT : 0;
	r = fs_resent_created(fs_store(req), new_parent, new_name, type, ino, r, &a);
	fs_reply_entry_or_err(req, r, &a);
}

static void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_reply_err(req, -fs_resent_removed(store_unlink(fs_store(req), parent, name), ENOENT));
}

static void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs_reply_err(req, -fs_resent_removed(store_rmdir(fs_store(req), parent, name), ENOENT));
}

static void fs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t new_parent,
			 const char *new_name, unsigned int flags)
{
	/* An exchange done once already would swap the names back. */
	if ((flags & RENAME_EXCHANGE) && fs_resent_in_store(fs_store(req))) {
		fs_reply_err(req, 0);
		return;
	}
	int r = store_rename(fs_store(req), parent, name, new_parent, new_name, flags);

	fs_reply_err(req, -fs_resent_removed(r, ENOENT));
}

/* ---- files ------------------------------------------------------------------ */

/* Fill in the handle of an open file: a value (see the top of this file). */
static void fs_new_handle(struct fuse_file_info *fi)
{
	bool writable = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);

	fi->fh = FS_FH_OPEN | (writable ? FS_FH_WRITABLE : 0);
	/* Every change to a file's data passes through this mount's page cache
	 * (writes are write-through, truncates go through setattr), so what the
	 * kernel cached is still right at the next open: keep it. */
	fi->keep_cache = 1;
	/* Closing a handle that cannot have written anything needs no FLUSH
	 * round trip: there is nothing to commit, and POSIX locks are the
	 * kernel's own (no lock operations here). */
	if (!writable)
		fi->noflush = 1;
}

static int fs_do_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct store *s = fs_store(req);
	int r;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		r = store_check_writable(s, ino);
		if (r < 0)
			return r;
	}
	if (fi->flags & O_TRUNC) {
		struct store_setattr_request sr = { .flags = STORE_SET_SIZE | STORE_SET_MTIME_NOW, .size = 0 };
		struct store_kill_suidgid kill;
		sr.kill = fs_kill_request(req, fs_caller_in_group, &kill);
		struct store_attr a;
		r = store_setattr(s, ino, &sr, &a);
		if (r < 0)
			return r;
	}
	fs_new_handle(fi);
	return 0;
}

static void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r = fs_do_open(req, ino, fi);

	if (r < 0) {
		fs_reply_err(req, -r);
		return;
	}
	fuse_reply_open(req, fi);
}

static void fs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	struct store *s = fs_store(req);
	struct store_caller caller;
	struct fuse_entry_param e;
	struct store_attr a;
	int r;

	fs_caller(req, &caller);
	r = store_mknod(s, parent, name, S_IFREG | (mode & 07777), 0, &caller, &a);
	r = fs_resent_created(s, parent, name, S_IFREG, 0, r, &a);
	if (r < 0) {
		fs_reply_err(req, -r);
		return;
	}
	fs_new_handle(fi);
	fs_fill_entry(&a, &e);
	if (fuse_reply_create(req, &e, fi) != 0)
		store_forget(s, a.ino, 1);
}

static void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char *buf = malloc(size ? size : 1);
	ssize_t r;

	(void)fi;
	if (!buf) {
		fs_reply_err(req, ENOMEM);
		return;
	}
	r = store_read(fs_store(req), ino, (uint64_t)off, size, buf);
	if (r < 0)
		fs_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void fs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct store_kill_suidgid kill;
	enum store_io_class io_class = STORE_IO_STANDARD;
	ssize_t r = store_write_class(fs_store(req), ino, (uint64_t)off, buf, size,
				      fs_kill_request(req, fs_caller_in_group, &kill), &io_class);

	(void)fi;
	if (r >= 0 && io_class == STORE_IO_DURABLE) {
		/* A claim of the durable I/O class: the write is committed durably
		 * before it is acknowledged, as with O_SYNC. The class came with
		 * the write, so a standard claim's write costs no second lookup. */
		int c = store_fsync(fs_store(req), ino, false);

		if (c < 0)
			r = c;
	}
	if (r < 0) {
		fs_reply_err(req, (int)-r);
		return;
	}
	fuse_reply_write(req, (size_t)r);
}

/* close(2) of one descriptor: what the handle changed is committed (durable
 * against SIGKILL of the daemon, see the durability contract). */
static void fs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r = 0;

	if (fi->fh & FS_FH_WRITABLE) {
		r = store_flush(fs_store(req), ino);
		/* The durable I/O class: close commits durably, as fsync. */
		if (r == 0)
			r = store_io_class_commit(fs_store(req), ino);
	}
	fs_reply_err(req, -r);
}

static void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (fi->fh & FS_FH_WRITABLE) {
		int r = store_flush(fs_store(req), ino);
		if (r < 0)
			log_warn("fs: commit at release of inode %lu: %s", (unsigned long)ino, strerror(-r));
	}
	fs_reply_err(req, 0);
}

static void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)fi;
	fs_reply_err(req, -store_fsync(fs_store(req), ino, datasync != 0));
}

static void fs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)fi;
	fs_reply_err(req, -store_fsync(fs_store(req), ino, datasync != 0));
}

static void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			    struct fuse_file_info *fi)
{
	int r;

	if (offset < 0 || length <= 0) {
		fs_reply_err(req, EINVAL);
		return;
	}
	(void)fi;
	r = store_fallocate(fs_store(req), ino, mode, (uint64_t)offset, (uint64_t)length);
	fs_reply_err(req, -r);
}

/* Only SEEK_DATA and SEEK_HOLE reach here; the kernel moves the offset for
 * the others itself. */
static void fs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	uint64_t pos;
	int r;

	(void)fi;
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fs_reply_err(req, EINVAL);
		return;
	}
	r = off < 0 ? -ENXIO : store_seek(fs_store(req), ino, (uint64_t)off, whence == SEEK_DATA, &pos);
	if (r < 0)
		fs_reply_err(req, -r);
	else
		fuse_reply_lseek(req, (off_t)pos);
}

/* ---- directories ---------------------------------------------------------------- */

struct fs_readdir_ctx {
	fuse_req_t req;
	char *buf;
	size_t size;
	size_t used;
	bool plus;
};

static int fs_readdir_add(void *ud, const char *name, const struct store_attr *a, uint64_t next)
{
	struct fs_readdir_ctx *c = ud;
	size_t len;

	if (c->plus) {
		struct fuse_entry_param e;
		bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;

		fs_fill_entry(a, &e);
		if (dot) {
			/* No lookup reference is taken for "." and "..". */
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = a->ino;
			e.attr.st_mode = a->mode & S_IFMT;
		}
		len = fuse_add_direntry_plus(c->req, c->buf + c->used, c->size - c->used, name, &e,
					     (off_t)next);
	} else {
		struct stat st = { .st_ino = a->ino, .st_mode = a->mode & S_IFMT };
		len = fuse_add_direntry(c->req, c->buf + c->used, c->size - c->used, name, &st, (off_t)next);
	}
	if (len > c->size - c->used)
		return 1; /* does not fit: stop; the entry is not taken */
	c->used += len;
	return 0;
}

static void fs_do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
	struct fs_readdir_ctx c = { .req = req, .plus = plus };
	int r;

	if (size > FS_READDIR_MAX)
		size = FS_READDIR_MAX;
	c.size = size;
	c.buf = malloc(size);
	if (!c.buf) {
		fs_reply_err(req, ENOMEM);
		return;
	}
	r = store_readdir(fs_store(req), ino, (uint64_t)off, plus, fs_readdir_add, &c);
	if (r < 0)
		fs_reply_err(req, -r);
	else
		fuse_reply_buf(req, c.buf, c.used);
	free(c.buf);
}

static void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)fi;
	fs_do_readdir(req, ino, size, off, false);
}

static void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	(void)fi;
	fs_do_readdir(req, ino, size, off, true);
}

static void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;
	int r = store_statfs(fs_store(req), ino, &st);

	if (r < 0)
		fs_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &st);
}

/* ---- extended attributes --------------------------------------------------------- */

static void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			   size_t size, int flags)
{
	int r = store_setxattr(fs_store(req), ino, name, value, size, flags);

	/* XATTR_CREATE applied before the worker died (the kernel holds the
	 * inode locked for the whole request). */
	if (r == 0)
		fs_resume_note_applied();
	fs_reply_err(req, -(r == -EEXIST && fs_resume_request_applied() ? 0 : r));
}

static void fs_reply_xattr_buf(fuse_req_t req, ssize_t r, size_t size, const char *buf)
{
	if (r < 0)
		fs_reply_err(req, (int)-r);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
}

/* getxattr. "No such attribute" (ENODATA) is an answer, not a failure, and
 * is not counted as an error: the kernel asks for security.capability
 * before the first write after every attribute refresh of a file (the
 * commoncap LSM's killpriv check; under KILLPRIV_V2 the answer marks the
 * inode S_NOSEC until the next refresh clears it). The round trip cannot be
 * avoided without ENOSYS, which would switch getxattr off for every name on
 * the whole mount; the answer is made without the store lock when no file
 * has a capability. */
static void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *buf;
	ssize_t r;

	if (!store_may_have_xattr(fs_store(req), name)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fs_reply_err(req, ENOMEM);
		return;
	}
	r = store_getxattr(fs_store(req), ino, name, buf, size);
	if (r == -ENODATA)
		fuse_reply_err(req, ENODATA);
	else
		fs_reply_xattr_buf(req, r, size, buf);
	free(buf);
}

static void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = size ? malloc(size) : NULL;
	ssize_t r;

	if (size && !buf) {
		fs_reply_err(req, ENOMEM);
		return;
	}
	r = store_listxattr(fs_store(req), ino, buf, size);
	fs_reply_xattr_buf(req, r, size, buf);
	free(buf);
}

static void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fs_reply_err(req, -fs_resent_removed(store_removexattr(fs_store(req), ino, name), ENODATA));
}

/* Every operation is timed into metrics_fs[] (counts, errors, latency). The
 * wrapper touches nothing of the request after the operation replied. */
#define FS_TIMED(op, metric, params, args)                                        \
	static void fs_timed_##op params                                          \
	{                                                                         \
		uint64_t start = metrics_now_ns();                                \
		fs_op_failed = 0;                                                 \
		fs_op_##op args;                                                  \
		metrics_record(&metrics_fs[METRICS_FS_##metric], start, fs_op_failed); \
	}

FS_TIMED(lookup, LOOKUP, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))
FS_TIMED(forget, FORGET, (fuse_req_t req, fuse_ino_t ino, uint64_t nlookup), (req, ino, nlookup))
FS_TIMED(forget_multi, FORGET, (fuse_req_t req, size_t count, struct fuse_forget_data *forgets), (req, count, forgets))
FS_TIMED(getattr, GETATTR, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FS_TIMED(setattr, SETATTR, (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi), (req, ino, attr, to_set, fi))
FS_TIMED(readlink, READLINK, (fuse_req_t req, fuse_ino_t ino), (req, ino))
FS_TIMED(mknod, MKNOD, (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev), (req, parent, name, mode, rdev))
FS_TIMED(mkdir, MKDIR, (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode), (req, parent, name, mode))
FS_TIMED(unlink, UNLINK, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))
FS_TIMED(rmdir, RMDIR, (fuse_req_t req, fuse_ino_t parent, const char *name), (req, parent, name))
FS_TIMED(symlink, SYMLINK, (fuse_req_t req, const char *target, fuse_ino_t parent, const char *name), (req, target, parent, name))
FS_TIMED(rename, RENAME, (fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t new_parent, const char *new_name, unsigned int flags), (req, parent, name, new_parent, new_name, flags))
FS_TIMED(link, LINK, (fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char *new_name), (req, ino, new_parent, new_name))
FS_TIMED(open, OPEN, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FS_TIMED(create, CREATE, (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi), (req, parent, name, mode, fi))
FS_TIMED(read, READ, (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi), (req, ino, size, off, fi))
FS_TIMED(write, WRITE, (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi), (req, ino, buf, size, off, fi))
FS_TIMED(flush, FLUSH, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FS_TIMED(release, RELEASE, (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi), (req, ino, fi))
FS_TIMED(fsync, FSYNC, (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi), (req, ino, datasync, fi))
FS_TIMED(fsyncdir, FSYNC, (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi), (req, ino, datasync, fi))
FS_TIMED(readdir, READDIR, (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi), (req, ino, size, off, fi))
FS_TIMED(readdirplus, READDIR, (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi), (req, ino, size, off, fi))
FS_TIMED(statfs, STATFS, (fuse_req_t req, fuse_ino_t ino), (req, ino))
FS_TIMED(setxattr, XATTR, (fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags), (req, ino, name, value, size, flags))
FS_TIMED(getxattr, GETXATTR, (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size), (req, ino, name, size))
FS_TIMED(listxattr, XATTR, (fuse_req_t req, fuse_ino_t ino, size_t size), (req, ino, size))
FS_TIMED(removexattr, XATTR, (fuse_req_t req, fuse_ino_t ino, const char *name), (req, ino, name))
FS_TIMED(fallocate, FALLOCATE, (fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length, struct fuse_file_info *fi), (req, ino, mode, offset, length, fi))
FS_TIMED(lseek, LSEEK, (fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi), (req, ino, off, whence, fi))

const struct fuse_lowlevel_ops fs_ops = {
	.init = fs_op_init,
	.lookup = fs_timed_lookup,
	.forget = fs_timed_forget,
	.forget_multi = fs_timed_forget_multi,
	.getattr = fs_timed_getattr,
	.setattr = fs_timed_setattr,
	.readlink = fs_timed_readlink,
	.mknod = fs_timed_mknod,
	.mkdir = fs_timed_mkdir,
	.unlink = fs_timed_unlink,
	.rmdir = fs_timed_rmdir,
	.symlink = fs_timed_symlink,
	.rename = fs_timed_rename,
	.link = fs_timed_link,
	.open = fs_timed_open,
	.create = fs_timed_create,
	.read = fs_timed_read,
	.write = fs_timed_write,
	.flush = fs_timed_flush,
	.release = fs_timed_release,
	.fsync = fs_timed_fsync,
	.fsyncdir = fs_timed_fsyncdir,
	.readdir = fs_timed_readdir,
	.readdirplus = fs_timed_readdirplus,
	.statfs = fs_timed_statfs,
	.setxattr = fs_timed_setxattr,
	.getxattr = fs_timed_getxattr,
	.listxattr = fs_timed_listxattr,
	.removexattr = fs_timed_removexattr,
	.fallocate = fs_timed_fallocate,
	.lseek = fs_timed_lseek,
};
