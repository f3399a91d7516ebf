/*
 * store_redo.h — the store's record types in the redo log, shared by the
 * writer (store_redo.c) and the replayer (store_replay.c) only.
 */
#ifndef CLAIMFS_STORE_REDO_H
#define CLAIMFS_STORE_REDO_H

#include <stdint.h>

/* Bumped with any change to a payload below: a new binary declines a log
 * written by another layout instead of misreading it. */
#define STORE_REDO_VERSION 1u
#define STORE_REDO_TYPE(n) ((STORE_REDO_VERSION << 16) | (n))

enum store_redo_type {
	/* A change the log does not describe: the batch is not replayable. */
	STORE_REDO_OPAQUE = STORE_REDO_TYPE(0),
	/* store_redo_write_head, then the bytes written. */
	STORE_REDO_WRITE = STORE_REDO_TYPE(1),
	/* store_redo_setattr. */
	STORE_REDO_SETATTR = STORE_REDO_TYPE(2),
};

struct store_redo_write_head {
	uint64_t ino;
	uint64_t offset;
	int64_t mtime_ns; /* the mtime and ctime the write set */
};

/* A setattr request as the caller made it (without its kill callback: only
 * logged where dropping set-id bits cannot depend on it) and the time the
 * store used for "now". */
struct store_redo_setattr {
	uint64_t ino;
	uint32_t flags, mode, uid, gid, caller_uid, caller_fowner;
	uint64_t size;
	int64_t atime_ns, mtime_ns, ctime_ns, now_ns;
};

#endif
