/*
 * fsx.h — differential filesystem tester: shared state of fsx.c (operations)
 * and fsx_tree.c (whole-tree comparison and restart snapshots).
 *
 * One seeded stream of operations is applied twice, to the directory under
 * test (a claim) and to a reference directory (tmpfs); every return value,
 * errno and byte read must be equal. Open descriptors live in slots, each
 * holding one descriptor per side, opened by the same call.
 */
#ifndef CLAIMFS_FSX_H
#define CLAIMFS_FSX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FSX_SLOTS 8
#define FSX_MAX_IO (512 * 1024)
#define FSX_MAX_OFFSET (2 * 1024 * 1024)
#define FSX_HISTORY 24

struct fsx_slot {
	int fd[2]; /* [0] test, [1] reference; -1 when closed */
	char rel[64];
	int flags;
};

struct fsx {
	char root[2][4096]; /* [0] test, [1] reference */
	uint64_t seed;
	uint64_t rng;
	unsigned long long op;     /* number of the current operation */
	unsigned long long ops;    /* how many to run */
	unsigned long long restart_every;
	bool verbose;
	bool dry;         /* the current operation is skipped (--skip) */
	bool *skip;       /* skip[op]: from --skip FILE */
	size_t skip_len;
	struct fsx_slot slot[FSX_SLOTS];
	char desc[512];                        /* the current operation */
	char history[FSX_HISTORY][512];        /* the last operations, for reports */
	unsigned long long counts[32];         /* operations run, per kind */
	unsigned long long errors_equal;       /* operations that failed identically */
	uint8_t *buf[2];
	/* What the current operation named, for fsx_check_owner: a pool path
	 * (empty: none) and a slot (-1: none); a slot wins. */
	char touched[64];
	int touched_slot;
	const char *caller; /* who runs the current operation (fsx_owner.c) */
};

/* vsnprintf into buf; a cut (never expected: names are short) is cut silently,
 * without the compiler's truncation warnings for every path join. */
void fsx_format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Report a divergence (with the recent history) and return false. */
bool fsx_fail(struct fsx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Uniform in [0, n) from the seeded stream. */
uint64_t fsx_below(struct fsx *f, uint64_t n);
/* A random file offset: near the start, around block boundaries, or anywhere. */
off_t fsx_offset(struct fsx *f);
/* A random pool path into rel (and f->touched). */
void fsx_pick_path(struct fsx *f, char *rel, size_t size);
/* A random open slot (and f->touched_slot), or -1 if none is open. */
int fsx_pick_slot(struct fsx *f);
/* root[side]/rel into buf. */
const char *fsx_path(struct fsx *f, int side, const char *rel, char *buf, size_t size);
/* Compare (result, errno) of the two sides; false (reported) if they differ. */
bool fsx_same(struct fsx *f, long rt, int et, long rr, int er);

/* Run expression T on the test side and R on the reference side, compare;
 * returns false from the calling function on a divergence. */
#define FSX_BOTH(f, T, R)                                              \
	do {                                                           \
		if ((f)->dry)                                          \
			break;                                         \
		errno = 0;                                             \
		long rt_ = (long)(T);                                  \
		int et_ = errno;                                       \
		errno = 0;                                             \
		long rr_ = (long)(R);                                  \
		int er_ = errno;                                       \
		if (!fsx_same(f, rt_, et_, rr_, er_))                  \
			return false;                                  \
	} while (0)

/* ---- fsx_owner.c: callers, owners, set-id bits, special files ---- */
/* Run the next operation as a caller drawn from the stream (root, or a user
 * with groups and without capabilities: setgroups + setfsgid + setfsuid). */
void fsx_caller_enter(struct fsx *f);
/* Back to root for the comparisons. */
void fsx_caller_leave(struct fsx *f);
/* After every operation: the mode (set-id bits included), owner and group
 * of what it touched are the same on both sides. */
bool fsx_check_owner(struct fsx *f);
bool fsx_op_chown(struct fsx *f);
bool fsx_op_mknod(struct fsx *f);
/* fallocate through a slot, every mode the kernel passes to FUSE. */
bool fsx_op_fallocate(struct fsx *f);

/* Compare the two trees completely: names, types, modes, nlink, sizes,
 * contents, symlink targets, user.* xattrs. False (reported) on a difference. */
bool fsx_tree_compare(struct fsx *f);
/* Everything stat and read show about the test tree except atime (inode
 * numbers, mtime and ctime included), as one malloc'd text; NULL on error. */
char *fsx_tree_snapshot(struct fsx *f);

#endif
