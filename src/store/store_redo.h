/*
 * store_redo.h — the store's record types in the redo log, shared by the
 * writer (store_redo.c) and the replayer (store_replay.c) only.
 *
 * Each record holds what the operation computed, not only what was asked:
 * the time it used, the inode number it handed out, whether an inode it
 * dropped stayed as an orphan the kernel holds, the mode left after dropping
 * set-id bits for a caller. A replay on the same committed state therefore
 * needs no caller and no kernel, and reaches the same inodes, times, link
 * counts and volume counters. Names and values follow the fixed part.
 */
#ifndef CLAIMFS_STORE_REDO_H
#define CLAIMFS_STORE_REDO_H

#include <stdint.h>

/* Bumped with any change to a payload below: a new binary declines a log
 * written by another layout instead of misreading it. */
#define STORE_REDO_VERSION 2u
#define STORE_REDO_TYPE(n) ((STORE_REDO_VERSION << 16) | (n))

enum store_redo_type {
	/* A change the log does not describe: the batch is not replayable. */
	STORE_REDO_OPAQUE = STORE_REDO_TYPE(0),
	/* store_redo_write_head, then the bytes written. */
	STORE_REDO_WRITE = STORE_REDO_TYPE(1),
	/* store_redo_setattr. */
	STORE_REDO_SETATTR = STORE_REDO_TYPE(2),
	/* store_redo_create, the name, then a symlink's target. */
	STORE_REDO_CREATE = STORE_REDO_TYPE(3),
	/* store_redo_link, then the new name. */
	STORE_REDO_LINK = STORE_REDO_TYPE(4),
	/* store_redo_remove, then the name. */
	STORE_REDO_REMOVE = STORE_REDO_TYPE(5),
	/* store_redo_rename, the name, then the new name. */
	STORE_REDO_RENAME = STORE_REDO_TYPE(6),
	/* store_redo_inode: the kernel forgot an orphan, which went. */
	STORE_REDO_RELEASE = STORE_REDO_TYPE(7),
	/* store_redo_inode: a chunk of a big deletion went (replayed by
	 * queueing the deletion again: it ends the same). */
	STORE_REDO_RECLAIM = STORE_REDO_TYPE(8),
	/* store_redo_fallocate. */
	STORE_REDO_FALLOCATE = STORE_REDO_TYPE(9),
	/* store_redo_range: a chunk of a big punch, block indexes first..last. */
	STORE_REDO_PUNCH_CHUNK = STORE_REDO_TYPE(10),
	/* store_redo_range: a chunk of a big truncate, to size `first`. */
	STORE_REDO_TRUNCATE_CHUNK = STORE_REDO_TYPE(11),
	/* store_redo_xattr, the name, then the value. */
	STORE_REDO_SETXATTR = STORE_REDO_TYPE(12),
	/* store_redo_xattr (no value), then the name. */
	STORE_REDO_REMOVEXATTR = STORE_REDO_TYPE(13),
};

struct store_redo_write_head {
	uint64_t ino;
	uint64_t offset;
	int64_t mtime_ns; /* the mtime and ctime the write set */
	uint32_t killed; /* the caller's write dropped set-id bits (kill != NULL) ... */
	uint32_t mode; /* ... leaving this mode */
};

/* A setattr request as the caller made it, the time the store used for
 * "now", and, for a caller that drops set-id bits, the mode that left. */
struct store_redo_setattr {
	uint64_t ino;
	uint32_t flags, mode, uid, gid, caller_uid, caller_fowner;
	uint64_t size;
	int64_t atime_ns, mtime_ns, ctime_ns, now_ns;
	uint32_t killed, mode_after;
};

/* An inode made by mknod, mkdir or symlink: its number and attributes as
 * created (the replay checks it gets the same). */
struct store_redo_create {
	uint64_t parent, ino, rdev;
	int64_t now_ns;
	uint32_t mode, uid, gid, name_len;
};

struct store_redo_link {
	uint64_t ino, parent;
	int64_t now_ns;
	uint32_t name_len, pad;
};

/* unlink (dir 0) or rmdir (dir 1) of the inode victim, which stayed as an
 * orphan (orphan 1: the kernel held it) or went. */
struct store_redo_remove {
	uint64_t parent, victim;
	int64_t now_ns;
	uint32_t dir, orphan;
};

/* A rename; victim (0: none) is the inode a replaced name dropped. */
struct store_redo_rename {
	uint64_t parent, new_parent, victim;
	int64_t now_ns;
	uint32_t flags, orphan, name_len, pad;
};

struct store_redo_inode {
	uint64_t ino;
};

struct store_redo_fallocate {
	uint64_t ino, offset, length;
	int64_t now_ns;
	int32_t mode;
	uint32_t pad;
};

struct store_redo_range {
	uint64_t ino, first, last;
};

struct store_redo_xattr {
	uint64_t ino;
	int64_t now_ns;
	int32_t flags;
	uint32_t name_len;
};

#endif
