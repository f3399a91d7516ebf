/*
 * fsx.c — seeded differential random-operation tester (in the spirit of
 * fsx): the same stream of create/open/write/pwrite/read/truncate/fallocate
 * (every mode, punch and zero-range included)/rename/link/symlink/unlink/
 * mkdir/rmdir/mknod/chmod/chown/utimensat/xattr/stat/readdir operations runs
 * on a claim directory and on a reference directory (tmpfs), each as a caller
 * drawn from the stream (root, or a user without capabilities: fsx_owner.c);
 * every return value and errno, every byte read, the mode (set-id bits
 * included), owner and group of what each operation touched, and finally
 * the whole trees must be equal.
 *
 *   fsx --test DIR --ref DIR --seed N --ops N [--restart-every K] [--verbose]
 *
 * Paths come from a small pool ("a", "x/b", "x/y/c", ...) so operations
 * collide often: names exist, do not exist, are directories, are symlinks.
 *
 * With --restart-every K, every K operations fsx closes every descriptor,
 * compares the trees, snapshots the test tree (inode numbers and times
 * included), prints "RESTART <op>" and waits for a line on stdin: the
 * orchestrator (fsx_run.py) restarts the daemon cleanly meanwhile. Then the
 * snapshot must be unchanged and the run goes on.
 *
 * Exit: 0 when both sides agreed to the end, 1 on the first divergence
 * (reported with the seed, the operation number and the last operations;
 * `--ops <that number>` replays up to it), 2 on usage or set-up errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fsx.h"

enum fsx_op_kind {
	OP_OPEN, OP_CLOSE, OP_WRITE, OP_PWRITE, OP_READ, OP_PREAD, OP_FTRUNCATE, OP_TRUNCATE,
	OP_FALLOCATE, OP_FSYNC, OP_RENAME, OP_LINK, OP_SYMLINK, OP_UNLINK, OP_MKDIR, OP_RMDIR,
	OP_CHMOD, OP_UTIMENS, OP_SETXATTR, OP_GETXATTR, OP_LISTXATTR, OP_REMOVEXATTR, OP_STAT,
	OP_READDIR, OP_CHOWN, OP_MKNOD, OP_COUNT
};

static const char *const fsx_op_names[OP_COUNT] = {
	"open", "close", "write", "pwrite", "read", "pread", "ftruncate", "truncate",
	"fallocate", "fsync", "rename", "link", "symlink", "unlink", "mkdir", "rmdir",
	"chmod", "utimensat", "setxattr", "getxattr", "listxattr", "removexattr", "stat",
	"readdir", "chown", "mknod",
};

/* Relative weights: data operations dominate, every kind runs. */
static const unsigned fsx_op_weights[OP_COUNT] = {
	10, 6, 10, 10, 5, 5, 4, 2, 5, 2, 5, 3, 2, 4, 4, 3, 3, 3, 3, 2, 1, 1, 3, 2, 3, 2,
};

/* splitmix64. */
static uint64_t fsx_next(struct fsx *f)
{
	uint64_t x = (f->rng += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Uniform in [0, n). */
uint64_t fsx_below(struct fsx *f, uint64_t n)
{
	return n ? fsx_next(f) % n : 0;
}

/* Report a divergence and the operations that led to it. */
bool fsx_fail(struct fsx *f, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fsx: DIVERGENCE at op %llu (seed %llu, as %s): ", f->op, (unsigned long long)f->seed,
		f->caller ? f->caller : "root");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfsx: last operations (replay with --seed %llu --ops %llu):\n",
		(unsigned long long)f->seed, f->op);
	for (unsigned long long i = f->op > FSX_HISTORY ? f->op - FSX_HISTORY + 1 : 1; i < f->op; i++)
		fprintf(stderr, "  %s\n", f->history[i % FSX_HISTORY]);
	fprintf(stderr, "  #%llu %s   <-- here\n", f->op, f->desc);
	return false;
}

/* A pool path: 1..3 components, intermediate ones from {x,y}, leaves from {a,b,c,x,y}.
 * The last one picked is the one fsx_check_owner looks at after the operation. */
void fsx_pick_path(struct fsx *f, char *rel, size_t size)
{
	static const char *const dirs[] = { "x", "y" };
	static const char *const leaves[] = { "a", "b", "c", "x", "y" };
	unsigned depth = 1 + (unsigned)fsx_below(f, 3);
	size_t used = 0;

	rel[0] = '\0';
	for (unsigned i = 1; i < depth; i++)
		used += (size_t)snprintf(rel + used, size - used, "%s/", dirs[fsx_below(f, 2)]);
	snprintf(rel + used, size - used, "%s", leaves[fsx_below(f, 5)]);
	fsx_format(f->touched, sizeof(f->touched), "%s", rel);
}

/* root[side]/rel into buf. */
const char *fsx_path(struct fsx *f, int side, const char *rel, char *buf, size_t size)
{
	fsx_format(buf, size, "%s/%s", f->root[side], rel);
	return buf;
}

/* Compare (result, errno) of the two sides. */
bool fsx_same(struct fsx *f, long rt, int et, long rr, int er)
{
	if (rt < 0 && rr < 0) {
		if (et == er) {
			f->errors_equal++;
			return true;
		}
		return fsx_fail(f, "both failed, test errno %d (%s), reference errno %d (%s)", et,
				strerror(et), er, strerror(er));
	}
	if (rt != rr)
		return fsx_fail(f, "test returned %ld%s%s, reference %ld%s%s", rt, rt < 0 ? " " : "",
				rt < 0 ? strerror(et) : "", rr, rr < 0 ? " " : "",
				rr < 0 ? strerror(er) : "");
	return true;
}

/* Deterministic data for a write: op number and offset. */
static void fsx_fill(struct fsx *f, uint8_t *buf, size_t len)
{
	uint64_t key = fsx_next(f);

	for (size_t i = 0; i < len; i++) {
		if ((i & 7) == 0)
			key = key * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(key >> (8 * (i & 7)));
	}
}

/* Random I/O length: mostly small, sometimes large. */
static size_t fsx_io_len(struct fsx *f)
{
	switch (fsx_below(f, 4)) {
	case 0: return (size_t)fsx_below(f, 17);
	case 1: return (size_t)fsx_below(f, 8193);
	case 2: return (size_t)fsx_below(f, 131073);
	default: return (size_t)fsx_below(f, FSX_MAX_IO + 1);
	}
}

/* Random offset: near the start, around block boundaries, or anywhere. */
off_t fsx_offset(struct fsx *f)
{
	switch (fsx_below(f, 3)) {
	case 0: return (off_t)fsx_below(f, 8192);
	case 1: {
		/* A block boundary, or one byte either side of it. */
		off_t at = (off_t)(fsx_below(f, 64) * 4096 + fsx_below(f, 3));
		return at > 0 ? at - 1 : 0;
	}
	default: return (off_t)fsx_below(f, FSX_MAX_OFFSET);
	}
}

/* Close slot i on both sides (closing never diverges in a way we check). */
static bool fsx_close_slot(struct fsx *f, int i)
{
	struct fsx_slot *s = &f->slot[i];

	if (s->fd[0] < 0 || f->dry)
		return true;
	FSX_BOTH(f, close(s->fd[0]), close(s->fd[1]));
	s->fd[0] = s->fd[1] = -1;
	return true;
}

/* open/creat into a random slot. */
static bool fsx_op_open(struct fsx *f)
{
	static const int access_modes[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR };
	static const mode_t modes[] = { 0644, 0600, 0755, 0444 };
	int i = (int)fsx_below(f, FSX_SLOTS);
	/* O_NONBLOCK: a FIFO from mknod must not block the run (no effect on files). */
	int flags = access_modes[fsx_below(f, 4)] | O_CLOEXEC | O_NONBLOCK;
	mode_t mode = modes[fsx_below(f, 4)];
	char rel[64], p[2][4200];

	fsx_pick_path(f, rel, sizeof(rel));
	if (fsx_below(f, 2))
		flags |= O_CREAT;
	if ((flags & O_CREAT) && fsx_below(f, 3) == 0)
		flags |= O_EXCL;
	if ((flags & O_ACCMODE) != O_RDONLY && fsx_below(f, 4) == 0)
		flags |= O_TRUNC;
	if ((flags & O_ACCMODE) != O_RDONLY && fsx_below(f, 5) == 0)
		flags |= O_APPEND;
	fsx_format(f->desc, sizeof(f->desc), "open slot%d %s flags=%#o mode=%o", i, rel, flags, mode);
	if (f->dry)
		return true;
	if (!fsx_close_slot(f, i))
		return false;
	errno = 0;
	int ft = open(fsx_path(f, 0, rel, p[0], sizeof(p[0])), flags, mode);
	int et = errno;
	errno = 0;
	int fr = open(fsx_path(f, 1, rel, p[1], sizeof(p[1])), flags, mode);
	int er = errno;
	if ((ft < 0) != (fr < 0) || (ft < 0 && et != er)) {
		if (ft >= 0)
			close(ft);
		if (fr >= 0)
			close(fr);
		return fsx_same(f, ft < 0 ? -1 : 0, et, fr < 0 ? -1 : 0, er);
	}
	if (ft < 0) {
		f->errors_equal++;
		return true;
	}
	f->slot[i].fd[0] = ft;
	f->slot[i].fd[1] = fr;
	f->slot[i].flags = flags;
	fsx_format(f->slot[i].rel, sizeof(f->slot[i].rel), "%s", rel);
	return true;
}

/* A random open slot, or -1 (the operation then becomes a no-op). The
 * slot picked is the one fsx_check_owner looks at after the operation. */
int fsx_pick_slot(struct fsx *f)
{
	int start = (int)fsx_below(f, FSX_SLOTS);

	for (int k = 0; k < FSX_SLOTS; k++) {
		int i = (start + k) % FSX_SLOTS;
		if (f->slot[i].fd[0] >= 0) {
			f->touched_slot = i;
			return i;
		}
	}
	return -1;
}

/* write/pwrite through a slot. */
static bool fsx_op_write(struct fsx *f, bool positional)
{
	int i = fsx_pick_slot(f);
	size_t len = fsx_io_len(f);
	off_t off = fsx_offset(f);

	if (i < 0)
		return true;
	fsx_format(f->desc, sizeof(f->desc), "%s slot%d(%s) off=%lld len=%zu", positional ? "pwrite" : "write",
		 i, f->slot[i].rel, (long long)off, len);
	fsx_fill(f, f->buf[0], len);
	if (positional)
		FSX_BOTH(f, pwrite(f->slot[i].fd[0], f->buf[0], len, off),
			 pwrite(f->slot[i].fd[1], f->buf[0], len, off));
	else
		FSX_BOTH(f, write(f->slot[i].fd[0], f->buf[0], len), write(f->slot[i].fd[1], f->buf[0], len));
	return true;
}

/* read/pread through a slot; the bytes must be equal too. */
static bool fsx_op_read(struct fsx *f, bool positional)
{
	int i = fsx_pick_slot(f);
	size_t len = fsx_io_len(f);
	off_t off = fsx_offset(f);

	if (i < 0)
		return true;
	fsx_format(f->desc, sizeof(f->desc), "%s slot%d(%s) off=%lld len=%zu", positional ? "pread" : "read",
		 i, f->slot[i].rel, (long long)off, len);
	if (f->dry)
		return true;
	errno = 0;
	ssize_t rt = positional ? pread(f->slot[i].fd[0], f->buf[0], len, off)
				: read(f->slot[i].fd[0], f->buf[0], len);
	int et = errno;
	errno = 0;
	ssize_t rr = positional ? pread(f->slot[i].fd[1], f->buf[1], len, off)
				: read(f->slot[i].fd[1], f->buf[1], len);
	int er = errno;
	if (!fsx_same(f, rt, et, rr, er))
		return false;
	if (rt > 0 && memcmp(f->buf[0], f->buf[1], (size_t)rt) != 0) {
		ssize_t k = 0;
		while (f->buf[0][k] == f->buf[1][k])
			k++;
		return fsx_fail(f, "read returned different bytes from offset %zd of the read", k);
	}
	return true;
}

/* ftruncate through a slot, truncate by path. */
static bool fsx_op_truncate(struct fsx *f, bool by_fd)
{
	off_t size = fsx_below(f, 4) ? fsx_offset(f) : 0;
	char rel[64], p[2][4200];

	if (by_fd) {
		int i = fsx_pick_slot(f);
		if (i < 0)
			return true;
		fsx_format(f->desc, sizeof(f->desc), "ftruncate slot%d(%s) size=%lld", i, f->slot[i].rel,
			 (long long)size);
		FSX_BOTH(f, ftruncate(f->slot[i].fd[0], size), ftruncate(f->slot[i].fd[1], size));
		return true;
	}
	fsx_pick_path(f, rel, sizeof(rel));
	fsx_format(f->desc, sizeof(f->desc), "truncate %s size=%lld", rel, (long long)size);
	FSX_BOTH(f, truncate(fsx_path(f, 0, rel, p[0], sizeof(p[0])), size),
		 truncate(fsx_path(f, 1, rel, p[1], sizeof(p[1])), size));
	return true;
}

/* fsync or fdatasync through a slot. */
static bool fsx_op_fsync(struct fsx *f)
{
	int i = fsx_pick_slot(f);
	bool data = fsx_below(f, 2);

	if (i < 0)
		return true;
	fsx_format(f->desc, sizeof(f->desc), "%s slot%d(%s)", data ? "fdatasync" : "fsync", i,
		 f->slot[i].rel);
	if (data)
		FSX_BOTH(f, fdatasync(f->slot[i].fd[0]), fdatasync(f->slot[i].fd[1]));
	else
		FSX_BOTH(f, fsync(f->slot[i].fd[0]), fsync(f->slot[i].fd[1]));
	return true;
}

/* Path operations taking two pool paths: rename (3 flavours), link. */
static bool fsx_op_two_paths(struct fsx *f, enum fsx_op_kind kind)
{
	static const unsigned rename_flags[] = { 0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE };
	char a[64], b[64], pa[2][4200], pb[2][4200];
	unsigned flags = rename_flags[fsx_below(f, 4)];

	fsx_pick_path(f, a, sizeof(a));
	fsx_pick_path(f, b, sizeof(b));
	for (int s = 0; s < 2; s++) {
		fsx_path(f, s, a, pa[s], sizeof(pa[s]));
		fsx_path(f, s, b, pb[s], sizeof(pb[s]));
	}
	if (kind == OP_RENAME) {
		fsx_format(f->desc, sizeof(f->desc), "rename %s %s flags=%u", a, b, flags);
		FSX_BOTH(f, renameat2(AT_FDCWD, pa[0], AT_FDCWD, pb[0], flags),
			 renameat2(AT_FDCWD, pa[1], AT_FDCWD, pb[1], flags));
	} else {
		fsx_format(f->desc, sizeof(f->desc), "link %s %s", a, b);
		FSX_BOTH(f, link(pa[0], pb[0]), link(pa[1], pb[1]));
	}
	return true;
}

/* Path operations on one pool path. */
static bool fsx_op_path(struct fsx *f, enum fsx_op_kind kind)
{
	static const mode_t modes[] = { 0644, 0600, 0755, 0700, 0444, 01777, 02755, 0,
					04755, 06755, 02745, 06777, 0777, 03777 };
	char rel[64], p[2][4200], target[64];
	mode_t mode = modes[fsx_below(f, sizeof(modes) / sizeof(modes[0]))];

	fsx_pick_path(f, rel, sizeof(rel));
	for (int s = 0; s < 2; s++)
		fsx_path(f, s, rel, p[s], sizeof(p[s]));
	switch (kind) {
	case OP_SYMLINK:
		/* Relative targets inside the pool, or dangling. */
		fsx_pick_path(f, target, sizeof(target));
		if (fsx_below(f, 4) == 0)
			fsx_format(target, sizeof(target), "nowhere");
		fsx_format(f->desc, sizeof(f->desc), "symlink %s -> %s", rel, target);
		FSX_BOTH(f, symlink(target, p[0]), symlink(target, p[1]));
		break;
	case OP_UNLINK:
		fsx_format(f->desc, sizeof(f->desc), "unlink %s", rel);
		FSX_BOTH(f, unlink(p[0]), unlink(p[1]));
		break;
	case OP_MKDIR:
		fsx_format(f->desc, sizeof(f->desc), "mkdir %s mode=%o", rel, mode | 0700);
		FSX_BOTH(f, mkdir(p[0], mode | 0700), mkdir(p[1], mode | 0700));
		break;
	case OP_RMDIR:
		fsx_format(f->desc, sizeof(f->desc), "rmdir %s", rel);
		FSX_BOTH(f, rmdir(p[0]), rmdir(p[1]));
		break;
	default: /* OP_CHMOD */
		fsx_format(f->desc, sizeof(f->desc), "chmod %s mode=%o", rel, mode);
		FSX_BOTH(f, chmod(p[0], mode), chmod(p[1], mode));
		break;
	}
	return true;
}

/* utimensat with explicit, UTIME_NOW or UTIME_OMIT times; explicit ones must read back equal. */
static bool fsx_op_utimens(struct fsx *f)
{
	struct timespec ts[2];
	char rel[64], p[2][4200];
	int flags = fsx_below(f, 4) == 0 ? AT_SYMLINK_NOFOLLOW : 0;

	fsx_pick_path(f, rel, sizeof(rel));
	for (int k = 0; k < 2; k++) {
		unsigned how = (unsigned)fsx_below(f, 5);
		ts[k].tv_sec = (time_t)fsx_below(f, 4000000000ULL);
		ts[k].tv_nsec = (long)fsx_below(f, 1000000000);
		if (how == 3)
			ts[k].tv_nsec = UTIME_NOW;
		else if (how == 4)
			ts[k].tv_nsec = UTIME_OMIT;
	}
	fsx_format(f->desc, sizeof(f->desc), "utimensat %s atime=%lld.%ld mtime=%lld.%ld flags=%d", rel,
		 (long long)ts[0].tv_sec, ts[0].tv_nsec, (long long)ts[1].tv_sec, ts[1].tv_nsec, flags);
	if (f->dry)
		return true;
	errno = 0;
	long rt = utimensat(AT_FDCWD, fsx_path(f, 0, rel, p[0], sizeof(p[0])), ts, flags);
	int et = errno;
	errno = 0;
	long rr = utimensat(AT_FDCWD, fsx_path(f, 1, rel, p[1], sizeof(p[1])), ts, flags);
	int er = errno;
	if (!fsx_same(f, rt, et, rr, er))
		return false;
	struct stat st[2];
	if (rt < 0 || fstatat(AT_FDCWD, p[0], &st[0], flags) < 0 || fstatat(AT_FDCWD, p[1], &st[1], flags) < 0)
		return true; /* failed alike on both sides (a user may not set times) */
	if (ts[0].tv_nsec != UTIME_NOW && ts[0].tv_nsec != UTIME_OMIT &&
	    (st[0].st_atim.tv_sec != ts[0].tv_sec || st[0].st_atim.tv_nsec != ts[0].tv_nsec))
		return fsx_fail(f, "atime reads back %lld.%09ld", (long long)st[0].st_atim.tv_sec,
				st[0].st_atim.tv_nsec);
	if (ts[1].tv_nsec != UTIME_NOW && ts[1].tv_nsec != UTIME_OMIT &&
	    (st[0].st_mtim.tv_sec != st[1].st_mtim.tv_sec || st[0].st_mtim.tv_nsec != st[1].st_mtim.tv_nsec))
		return fsx_fail(f, "mtime reads back %lld.%09ld, reference %lld.%09ld",
				(long long)st[0].st_mtim.tv_sec, st[0].st_mtim.tv_nsec,
				(long long)st[1].st_mtim.tv_sec, st[1].st_mtim.tv_nsec);
	return true;
}

/* setxattr/getxattr/listxattr/removexattr on a pool path (following symlinks). */
static bool fsx_op_xattr(struct fsx *f, enum fsx_op_kind kind)
{
	static const char *const names[] = { "user.a", "user.b", "user.long.name.for.claimfs" };
	static const int flags_choice[] = { 0, 0, XATTR_CREATE, XATTR_REPLACE };
	const char *name = names[fsx_below(f, 3)];
	char rel[64], p[2][4200];
	size_t len = (size_t)fsx_below(f, 257);
	size_t cap = fsx_below(f, 4) == 0 ? (size_t)fsx_below(f, 300) : 4096;
	int flags = flags_choice[fsx_below(f, 4)];

	fsx_pick_path(f, rel, sizeof(rel));
	for (int s = 0; s < 2; s++)
		fsx_path(f, s, rel, p[s], sizeof(p[s]));
	switch (kind) {
	case OP_SETXATTR:
		fsx_fill(f, f->buf[0], len);
		fsx_format(f->desc, sizeof(f->desc), "setxattr %s %s len=%zu flags=%d", rel, name, len, flags);
		FSX_BOTH(f, setxattr(p[0], name, f->buf[0], len, flags),
			 setxattr(p[1], name, f->buf[0], len, flags));
		return true;
	case OP_REMOVEXATTR:
		fsx_format(f->desc, sizeof(f->desc), "removexattr %s %s", rel, name);
		FSX_BOTH(f, removexattr(p[0], name), removexattr(p[1], name));
		return true;
	case OP_LISTXATTR: {
		char l[2][4096];
		fsx_format(f->desc, sizeof(f->desc), "listxattr %s size=%zu", rel, cap);
		if (f->dry)
			return true;
		errno = 0;
		ssize_t rt = listxattr(p[0], l[0], cap);
		int et = errno;
		errno = 0;
		ssize_t rr = listxattr(p[1], l[1], cap);
		int er = errno;
		/* The order of names is the filesystem's; the length and errno are not. */
		if (!fsx_same(f, rt, et, rr, er))
			return false;
		return true;
	}
	default: {
		fsx_format(f->desc, sizeof(f->desc), "getxattr %s %s size=%zu", rel, name, cap);
		if (f->dry)
			return true;
		errno = 0;
		ssize_t rt = getxattr(p[0], name, f->buf[0], cap);
		int et = errno;
		errno = 0;
		ssize_t rr = getxattr(p[1], name, f->buf[1], cap);
		int er = errno;
		if (!fsx_same(f, rt, et, rr, er))
			return false;
		if (rt > 0 && cap > 0 && memcmp(f->buf[0], f->buf[1], (size_t)rt) != 0)
			return fsx_fail(f, "getxattr values differ");
		return true;
	}
	}
}

/* lstat/stat a pool path: type, mode, nlink, size (not of directories), owner. */
static bool fsx_op_stat(struct fsx *f)
{
	char rel[64], p[2][4200];
	struct stat st[2];
	bool follow = fsx_below(f, 2);

	fsx_pick_path(f, rel, sizeof(rel));
	fsx_format(f->desc, sizeof(f->desc), "%s %s", follow ? "stat" : "lstat", rel);
	for (int s = 0; s < 2; s++)
		fsx_path(f, s, rel, p[s], sizeof(p[s]));
	FSX_BOTH(f, follow ? stat(p[0], &st[0]) : lstat(p[0], &st[0]),
		 follow ? stat(p[1], &st[1]) : lstat(p[1], &st[1]));
	if (f->dry || (follow ? stat(p[0], &st[0]) < 0 : lstat(p[0], &st[0]) < 0))
		return true;
	if (st[0].st_mode != st[1].st_mode || st[0].st_nlink != st[1].st_nlink ||
	    st[0].st_uid != st[1].st_uid || st[0].st_gid != st[1].st_gid ||
	    (!S_ISDIR(st[0].st_mode) && st[0].st_size != st[1].st_size))
		return fsx_fail(f, "stat: mode %o/%o nlink %lu/%lu size %lld/%lld (test/reference)",
				(unsigned)st[0].st_mode, (unsigned)st[1].st_mode,
				(unsigned long)st[0].st_nlink, (unsigned long)st[1].st_nlink,
				(long long)st[0].st_size, (long long)st[1].st_size);
	return true;
}

/* Compare the trees now (a readdir + stat of everything). */
static bool fsx_op_readdir(struct fsx *f)
{
	fsx_format(f->desc, sizeof(f->desc), "compare trees");
	return f->dry || fsx_tree_compare(f);
}

/* Is operation op listed in --skip (reduction: its random draws happen, its syscalls do not)? */
static bool fsx_skipped(const struct fsx *f, unsigned long long op)
{
	return op < f->skip_len && f->skip[op];
}

/* Pick and run one operation. */
static bool fsx_step(struct fsx *f)
{
	unsigned total = 0, pick;
	int kind = 0;

	for (int k = 0; k < OP_COUNT; k++)
		total += fsx_op_weights[k];
	pick = (unsigned)fsx_below(f, total);
	while (pick >= fsx_op_weights[kind])
		pick -= fsx_op_weights[kind++];
	f->counts[kind]++;
	f->dry = fsx_skipped(f, f->op);
	f->touched[0] = '\0';
	f->touched_slot = -1;
	fsx_caller_enter(f);
	fsx_format(f->desc, sizeof(f->desc), "%s (no open slot)", fsx_op_names[kind]);
	bool ok;
	switch (kind) {
	case OP_OPEN: ok = fsx_op_open(f); break;
	case OP_CLOSE: {
		int i = fsx_pick_slot(f);
		if (i >= 0)
			fsx_format(f->desc, sizeof(f->desc), "close slot%d(%s)", i, f->slot[i].rel);
		ok = i < 0 || fsx_close_slot(f, i);
		break;
	}
	case OP_WRITE: ok = fsx_op_write(f, false); break;
	case OP_PWRITE: ok = fsx_op_write(f, true); break;
	case OP_READ: ok = fsx_op_read(f, false); break;
	case OP_PREAD: ok = fsx_op_read(f, true); break;
	case OP_FTRUNCATE: ok = fsx_op_truncate(f, true); break;
	case OP_TRUNCATE: ok = fsx_op_truncate(f, false); break;
	case OP_FALLOCATE: ok = fsx_op_fallocate(f); break;
	case OP_FSYNC: ok = fsx_op_fsync(f); break;
	case OP_RENAME:
	case OP_LINK: ok = fsx_op_two_paths(f, (enum fsx_op_kind)kind); break;
	case OP_UTIMENS: ok = fsx_op_utimens(f); break;
	case OP_SETXATTR:
	case OP_GETXATTR:
	case OP_LISTXATTR:
	case OP_REMOVEXATTR: ok = fsx_op_xattr(f, (enum fsx_op_kind)kind); break;
	case OP_STAT: ok = fsx_op_stat(f); break;
	case OP_READDIR:
		/* The comparison reads everything: as root. */
		fsx_caller_leave(f);
		f->caller = "root";
		ok = fsx_op_readdir(f);
		break;
	case OP_CHOWN: ok = fsx_op_chown(f); break;
	case OP_MKNOD: ok = fsx_op_mknod(f); break;
	default: ok = fsx_op_path(f, (enum fsx_op_kind)kind); break;
	}
	fsx_caller_leave(f);
	if (f->caller[0] != 'r') {
		size_t used = strlen(f->desc);
		fsx_format(f->desc + used, sizeof(f->desc) - used, " as %s", f->caller);
	}
	if (ok && kind != OP_READDIR && kind != OP_CLOSE)
		ok = fsx_check_owner(f);
	fsx_format(f->history[f->op % FSX_HISTORY], sizeof(f->history[0]), "#%llu %s%s", f->op,
		   f->dry ? "(skipped) " : "", f->desc);
	if (f->verbose && !f->dry)
		fprintf(stderr, "#%llu %s\n", f->op, f->desc);
	f->dry = false;
	return ok;
}

/* Close everything, compare, snapshot, let the orchestrator restart the daemon, compare again. */
static bool fsx_restart(struct fsx *f)
{
	char line[64], *before, *after;
	bool ok;

	for (int i = 0; i < FSX_SLOTS; i++)
		if (!fsx_close_slot(f, i))
			return false;
	fsx_format(f->desc, sizeof(f->desc), "restart: compare before");
	if (!fsx_tree_compare(f))
		return false;
	before = fsx_tree_snapshot(f);
	if (!before)
		return fsx_fail(f, "cannot snapshot the test tree: %s", strerror(errno));
	printf("RESTART %llu\n", f->op);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || strncmp(line, "GO", 2) != 0) {
		free(before);
		return fsx_fail(f, "orchestrator did not answer GO");
	}
	after = fsx_tree_snapshot(f);
	fsx_format(f->desc, sizeof(f->desc), "restart: compare after");
	ok = after && strcmp(before, after) == 0;
	if (!ok) {
		const char *b = before, *a = after ? after : "";
		while (*b && *b == *a) {
			b++;
			a++;
		}
		while (b > before && b[-1] != '\n') {
			b--;
			a--;
		}
		fsx_fail(f, "the test tree changed across the restart:\n  before: %.300s\n  after:  %.300s", b,
			 a);
	}
	free(before);
	free(after);
	return ok && fsx_tree_compare(f);
}

/* Read the operations to skip: numbers separated by white space. */
static int fsx_load_skip(struct fsx *f, const char *path)
{
	FILE *in = fopen(path, "r");
	unsigned long long n;

	if (!in)
		return -errno;
	while (fscanf(in, "%llu", &n) == 1) {
		if (n >= f->skip_len) {
			size_t len = (size_t)n * 2 + 1024;
			bool *grown = realloc(f->skip, len * sizeof(*grown));
			if (!grown) {
				fclose(in);
				return -ENOMEM;
			}
			memset(grown + f->skip_len, 0, (len - f->skip_len) * sizeof(*grown));
			f->skip = grown;
			f->skip_len = len;
		}
		f->skip[n] = true;
	}
	fclose(in);
	return 0;
}

/* Usage text. */
static void fsx_usage(FILE *out)
{
	fprintf(out, "usage: fsx --test DIR --ref DIR [--seed N] [--ops N] [--restart-every K] [--verbose]\n"
		     "           [--skip FILE]   (operation numbers whose syscalls are skipped: reduction)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "test", required_argument, NULL, 't' },  { "ref", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },  { "ops", required_argument, NULL, 'n' },
		{ "restart-every", required_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },     { "help", no_argument, NULL, 'h' },
		{ "skip", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	static struct fsx f;
	const char *test = NULL, *ref = NULL;
	int c, rc = 2;

	f.seed = 1;
	f.ops = 10000;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 't': test = optarg; break;
		case 'r': ref = optarg; break;
		case 's': f.seed = strtoull(optarg, NULL, 0); break;
		case 'n': f.ops = strtoull(optarg, NULL, 0); break;
		case 'k': f.restart_every = strtoull(optarg, NULL, 0); break;
		case 'v': f.verbose = true; break;
		case 'x':
			if (fsx_load_skip(&f, optarg) < 0) {
				fprintf(stderr, "fsx: cannot read skip list %s\n", optarg);
				return 2;
			}
			break;
		case 'h': fsx_usage(stdout); return 0;
		default: fsx_usage(stderr); return 2;
		}
	}
	if (!test || !ref || optind != argc) {
		fsx_usage(stderr);
		return 2;
	}
	fsx_format(f.root[0], sizeof(f.root[0]), "%s", test);
	fsx_format(f.root[1], sizeof(f.root[1]), "%s", ref);
	f.rng = f.seed;
	for (int i = 0; i < FSX_SLOTS; i++)
		f.slot[i].fd[0] = f.slot[i].fd[1] = -1;
	f.buf[0] = malloc(4 * FSX_MAX_OFFSET + FSX_MAX_IO);
	f.buf[1] = malloc(4 * FSX_MAX_OFFSET + FSX_MAX_IO);
	if (!f.buf[0] || !f.buf[1])
		goto out;
	umask(022);
	/* Both roots open to every caller, so users create and own files too. */
	if (chmod(f.root[0], 0777) < 0 || chmod(f.root[1], 0777) < 0) {
		fprintf(stderr, "fsx: chmod of the roots: %s\n", strerror(errno));
		goto out;
	}
	rc = 1;
	for (f.op = 1; f.op <= f.ops; f.op++) {
		if (!fsx_step(&f))
			goto out;
		if (f.restart_every && f.op % f.restart_every == 0 && f.op < f.ops && !fsx_restart(&f))
			goto out;
	}
	f.op = f.ops;
	for (int i = 0; i < FSX_SLOTS; i++)
		if (!fsx_close_slot(&f, i))
			goto out;
	fsx_format(f.desc, sizeof(f.desc), "final compare");
	if (!fsx_tree_compare(&f))
		goto out;
	printf("fsx: seed %llu: %llu operations agreed (%llu failed identically on both sides):",
	       (unsigned long long)f.seed, f.ops, f.errors_equal);
	for (int k = 0; k < OP_COUNT; k++)
		printf(" %s=%llu", fsx_op_names[k], f.counts[k]);
	printf("\n");
	rc = 0;
out:
	for (int i = 0; i < FSX_SLOTS; i++) {
		if (f.slot[i].fd[0] >= 0)
			close(f.slot[i].fd[0]);
		if (f.slot[i].fd[1] >= 0)
			close(f.slot[i].fd[1]);
	}
	free(f.buf[0]);
	free(f.buf[1]);
	free(f.skip);
	return rc;
}
