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
};

/* vsnprintf into buf; a cut (never expected: names are short) is cut silently,
 * without the compiler's truncation warnings for every path join. */
void fsx_format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Report a divergence (with the recent history) and return false. */
bool fsx_fail(struct fsx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Compare the two trees completely: names, types, modes, nlink, sizes,
 * contents, symlink targets, user.* xattrs. False (reported) on a difference. */
bool fsx_tree_compare(struct fsx *f);
/* Everything stat and read show about the test tree except atime (inode
 * numbers, mtime and ctime included), as one malloc'd text; NULL on error. */
char *fsx_tree_snapshot(struct fsx *f);

#endif
