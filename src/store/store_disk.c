/*
 * store_disk.c — room on the host disk that holds the store file.
 *
 * SQLite needs room to commit even a deletion, so the store keeps a reserve
 * file of STORE_RESERVE_BYTES next to the database. When the host disk is
 * full (a commit fails with ENOSPC) the reserve is released, and from then on
 * writes that grow data are refused with ENOSPC while less than
 * STORE_LOW_SPACE_BYTES is free (host free space plus the database's free
 * pages), so users can still delete to make room. The reserve comes back once
 * the disk has room again (store_disk_recheck, from the timer).
 *
 * What the store can still take (store_disk_takeable) is the same room less
 * STORE_LOW_SPACE_BYTES: the bytes writes can add before they are refused.
 * It bounds what a claim's statfs reports and what claims may be promised
 * (store_capacity_get, the model's capacity policy).
 *
 * Calls nothing else in the store (the bottom layer with store_inomap.c):
 * store_errno reports a full disk here.
 */
#include "store_internal.h"

#include "log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void store_disk_reserve_path(const struct store *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s-reserve", s->path);
}

void store_disk_reserve_make(struct store *s)
{
	char path[PATH_MAX];
	int fd;

	store_disk_reserve_path(s, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int r = posix_fallocate(fd, 0, STORE_RESERVE_BYTES);
	close(fd);
	if (r != 0) {
		unlink(path);
		return;
	}
	atomic_store(&s->reserve_released, false);
}

/* A commit ran out of host disk: free the reserve so deletions can commit. */
void store_disk_exhausted(struct store *s)
{
	char path[PATH_MAX];

	atomic_store(&s->low_space, true);
	if (atomic_exchange(&s->reserve_released, true))
		return;
	store_disk_reserve_path(s, path, sizeof(path));
	if (unlink(path) == 0)
		log_warn("store: the disk holding %s is full: released the %d MiB reserve so files can be "
			 "deleted; writes that need space get ENOSPC until there is room again",
			 s->path, STORE_RESERVE_BYTES >> 20);
}

/* Bytes the store can still grow by: host free space plus free pages. */
static int64_t store_disk_free(struct store *s)
{
	struct statvfs sv;
	int64_t free_bytes = 0;
	/* The prepared statement is used directly: this file sits below the
	 * transaction layer's helpers, and the lock is held (store_disk_check). */
	sqlite3_stmt *st = s->stmt[STMT_FREE_PAGE_BYTES];

	assert(store_lock_held(s));
	if (statvfs(s->path, &sv) == 0)
		free_bytes = (int64_t)sv.f_bavail * (int64_t)sv.f_frsize;
	/* No free-page count (an error) just leaves the host's free space. */
	if (sqlite3_step(st) == SQLITE_ROW)
		free_bytes += sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return free_bytes;
}

/* Bytes writes can still add before they are refused: the room less the
 * low-space margin, never below 0 (lock held). Samples the disk afresh. */
uint64_t store_disk_takeable(struct store *s)
{
	int64_t room = store_disk_free(s) - (int64_t)STORE_LOW_SPACE_BYTES;

	assert(store_lock_held(s));
	return room > 0 ? (uint64_t)room : 0;
}

/* 0, or -ENOSPC when a write that needs `bytes` more must be refused (lock
 * held). The disk is never filled by data: writes stop while less than
 * STORE_LOW_SPACE_BYTES (plus twice the write: WAL and database) would be
 * left, so commits, deletions and checkpoints always have room. Host free
 * space is sampled at most every 50 ms while it is plentiful. */
int store_disk_check(struct store *s, uint64_t bytes)
{
	struct timespec now;
	int64_t need = (int64_t)STORE_LOW_SPACE_BYTES + 2 * (int64_t)bytes;

	assert(store_lock_held(s));
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t age_ms = (now.tv_sec - s->space_sampled.tv_sec) * 1000 +
			 (now.tv_nsec - s->space_sampled.tv_nsec) / 1000000;
	if (s->space_free >= 4 * need && age_ms < 50 && !atomic_load(&s->low_space)) {
		s->space_free -= 2 * (int64_t)bytes;
		return 0;
	}
	s->space_free = store_disk_free(s);
	s->space_sampled = now;
	if (s->space_free < need) {
		if (!atomic_exchange(&s->low_space, true))
			log_warn("store: the disk holding %s is nearly full: writes that need space get ENOSPC",
				 s->path);
		return -ENOSPC;
	}
	return 0;
}

/* Leave low-space mode and take the reserve back once there is room (timer). */
void store_disk_recheck(struct store *s)
{
	struct statvfs sv;

	if (!atomic_load(&s->low_space))
		return;
	if (statvfs(s->path, &sv) != 0)
		return;
	if ((int64_t)sv.f_bavail * (int64_t)sv.f_frsize < 2 * (int64_t)STORE_LOW_SPACE_BYTES)
		return;
	store_disk_reserve_make(s);
	if (!atomic_load(&s->reserve_released)) {
		atomic_store(&s->low_space, false);
		log_info("store: the disk has room again; reserve restored");
	}
}
