/*
 * store_redo.c — what the store writes into the redo log (src/lib/redo_log.c)
 * so that a new worker can replay the acknowledged operations of a batch the
 * dead one never committed (store_replay.c reads them back).
 *
 * Invariants:
 *   - a record is appended under the store lock, after the operation has
 *     made its change and before it returns (so before the FUSE reply);
 *   - every operation of the batch that changed an inode either appended a
 *     record or is followed by an opaque marker (store_redo_op_done), so a
 *     replayer never reproduces a batch with a change missing: it declines
 *     the batch and the files concerned report EIO once instead;
 *   - a record that does not fit makes the batch commit at the end of the
 *     operation (txn_commit_due), before the reply, so nothing acknowledged
 *     is ever outside both the store and the log.
 * Record payloads are host-endian structs: writer and reader are the same
 * binary on the same machine (an upgrade re-execs the installed binary, so
 * the layout is versioned by STORE_REDO_VERSION in every record type).
 */
#include "store_internal.h"
#include "store_redo.h"

#include "redo_log.h"

#include <assert.h>
#include <string.h>

/* An opaque marker, or a record that did not fit: the batch is not replayable. */
static void store_redo_append(struct store *s, uint32_t type, const struct iovec *parts, int nparts)
{
	if (!redo_log_append(s->redo, s->redo_batch, type, parts, nparts)) {
		s->txn_commit_due = true;
		/* The commit comes before the reply; until then the batch
		 * cannot be replayed, so say so if there is room left. */
		redo_log_append(s->redo, s->redo_batch, STORE_REDO_OPAQUE, NULL, 0);
	}
}

/* Append one record of the running operation (lock held): nothing without
 * a log or during a replay of it. */
static void store_redo_record(struct store *s, uint32_t type, const struct iovec *parts, int nparts)
{
	assert(store_lock_held(s));
	if (!s->redo || s->redo_now)
		return;
	/* Noted before the record, never after: a death in between leaves a
	 * request noted but not replayed, which its resend simply applies. */
	if (s->batch_hooks.naming && (type == STORE_REDO_CREATE || type == STORE_REDO_LINK ||
				      type == STORE_REDO_REMOVE || type == STORE_REDO_RENAME))
		s->batch_hooks.naming(s->batch_hooks.ud);
	store_redo_append(s, type, parts, nparts);
	s->redo_op_logged = true;
}

void store_redo_write(struct store *s, uint64_t ino, uint64_t offset, const char *buf, size_t size,
		      const struct timespec *mtime, bool killed, uint32_t mode)
{
	struct store_redo_write_head head = { .ino = ino, .offset = offset, .mtime_ns = store_ts_to_ns(mtime),
					      .killed = killed, .mode = mode };
	struct iovec parts[2] = { { &head, sizeof(head) }, { (void *)buf, size } };
	store_redo_record(s, STORE_REDO_WRITE, parts, 2);
}

void store_redo_setattr(struct store *s, uint64_t ino, const struct store_setattr_request *req,
			const struct timespec *now, uint32_t mode_after)
{
	struct store_redo_setattr rec = {
		.ino = ino, .flags = req->flags, .mode = req->mode, .uid = req->uid, .gid = req->gid,
		.caller_uid = req->caller_uid, .caller_fowner = req->caller_fowner, .size = req->size,
		.atime_ns = store_ts_to_ns(&req->atime), .mtime_ns = store_ts_to_ns(&req->mtime),
		.ctime_ns = store_ts_to_ns(&req->ctime), .now_ns = store_ts_to_ns(now),
		.killed = req->kill != NULL, .mode_after = mode_after,
	};
	struct iovec part = { &rec, sizeof(rec) };
	store_redo_record(s, STORE_REDO_SETATTR, &part, 1);
}

void store_redo_create(struct store *s, uint64_t parent, const char *name, const struct store_attr *attr,
		       const char *target)
{
	struct store_redo_create rec = { .parent = parent, .ino = attr->ino, .rdev = attr->rdev,
					 .now_ns = store_ts_to_ns(&attr->ctime), .mode = attr->mode,
					 .uid = attr->uid, .gid = attr->gid, .name_len = (uint32_t)strlen(name) };
	struct iovec parts[3] = { { &rec, sizeof(rec) }, { (void *)name, rec.name_len },
				  { (void *)(target ? target : ""), target ? strlen(target) : 0 } };
	store_redo_record(s, STORE_REDO_CREATE, parts, 3);
}

void store_redo_link(struct store *s, uint64_t ino, uint64_t parent, const char *name, const struct timespec *now)
{
	struct store_redo_link rec = { .ino = ino, .parent = parent, .now_ns = store_ts_to_ns(now),
				       .name_len = (uint32_t)strlen(name) };
	struct iovec parts[2] = { { &rec, sizeof(rec) }, { (void *)name, rec.name_len } };
	store_redo_record(s, STORE_REDO_LINK, parts, 2);
}

/* Whether victim, dropped by the running operation, stayed as an orphan. */
static bool store_redo_orphaned(struct store *s, uint64_t victim)
{
	return victim != 0 && store_inomap_get(&s->orphans, victim) != 0;
}

void store_redo_remove(struct store *s, uint64_t parent, const char *name, bool dir, uint64_t victim,
		       const struct timespec *now)
{
	struct store_redo_remove rec = { .parent = parent, .victim = victim, .now_ns = store_ts_to_ns(now),
					 .dir = dir, .orphan = store_redo_orphaned(s, victim) };
	struct iovec parts[2] = { { &rec, sizeof(rec) }, { (void *)name, strlen(name) } };
	store_redo_record(s, STORE_REDO_REMOVE, parts, 2);
}

void store_redo_rename(struct store *s, uint64_t parent, const char *name, uint64_t new_parent,
		       const char *new_name, unsigned flags, uint64_t victim, const struct timespec *now)
{
	struct store_redo_rename rec = { .parent = parent, .new_parent = new_parent, .victim = victim,
					 .now_ns = store_ts_to_ns(now), .flags = flags,
					 .orphan = store_redo_orphaned(s, victim), .name_len = (uint32_t)strlen(name) };
	struct iovec parts[3] = { { &rec, sizeof(rec) }, { (void *)name, rec.name_len },
				  { (void *)new_name, strlen(new_name) } };
	store_redo_record(s, STORE_REDO_RENAME, parts, 3);
}

static void store_redo_inode(struct store *s, uint32_t type, uint64_t ino)
{
	struct store_redo_inode rec = { .ino = ino };
	struct iovec part = { &rec, sizeof(rec) };
	store_redo_record(s, type, &part, 1);
}

void store_redo_release(struct store *s, uint64_t ino)
{
	store_redo_inode(s, STORE_REDO_RELEASE, ino);
}

void store_redo_reclaim(struct store *s, uint64_t ino)
{
	store_redo_inode(s, STORE_REDO_RECLAIM, ino);
}

void store_redo_fallocate(struct store *s, uint64_t ino, int mode, uint64_t offset, uint64_t length,
			  const struct timespec *now)
{
	struct store_redo_fallocate rec = { .ino = ino, .offset = offset, .length = length,
					    .now_ns = store_ts_to_ns(now), .mode = mode };
	struct iovec part = { &rec, sizeof(rec) };
	store_redo_record(s, STORE_REDO_FALLOCATE, &part, 1);
}

static void store_redo_range(struct store *s, uint32_t type, uint64_t ino, uint64_t first, uint64_t last)
{
	struct store_redo_range rec = { .ino = ino, .first = first, .last = last };
	struct iovec part = { &rec, sizeof(rec) };
	store_redo_record(s, type, &part, 1);
}

void store_redo_punch_chunk(struct store *s, uint64_t ino, uint64_t first, uint64_t last)
{
	store_redo_range(s, STORE_REDO_PUNCH_CHUNK, ino, first, last);
}

void store_redo_truncate_chunk(struct store *s, uint64_t ino, uint64_t size)
{
	store_redo_range(s, STORE_REDO_TRUNCATE_CHUNK, ino, size, 0);
}

void store_redo_setxattr(struct store *s, uint64_t ino, const char *name, const void *value, size_t size,
			 int flags, const struct timespec *now)
{
	struct store_redo_xattr rec = { .ino = ino, .now_ns = store_ts_to_ns(now), .flags = flags,
					.name_len = (uint32_t)strlen(name) };
	struct iovec parts[3] = { { &rec, sizeof(rec) }, { (void *)name, rec.name_len }, { (void *)(size ? value : ""), size } };
	store_redo_record(s, STORE_REDO_SETXATTR, parts, 3);
}

void store_redo_removexattr(struct store *s, uint64_t ino, const char *name, const struct timespec *now)
{
	struct store_redo_xattr rec = { .ino = ino, .now_ns = store_ts_to_ns(now),
					.name_len = (uint32_t)strlen(name) };
	struct iovec parts[2] = { { &rec, sizeof(rec) }, { (void *)name, rec.name_len } };
	store_redo_record(s, STORE_REDO_REMOVEXATTR, parts, 2);
}

void store_redo_now(struct store *s, struct timespec *ret_now)
{
	if (s->redo_now)
		*ret_now = *s->redo_now;
	else
		store_now(ret_now);
}

void store_redo_op_done(struct store *s)
{
	assert(store_lock_held(s));
	if (s->redo && !s->redo_now && s->redo_op_changed && !s->redo_op_logged)
		store_redo_append(s, STORE_REDO_OPAQUE, NULL, 0);
	s->redo_op_changed = false;
	s->redo_op_logged = false;
}

void store_redo_rolled_back(struct store *s)
{
	assert(store_lock_held(s));
	if (!s->redo || s->redo_now)
		return;
	if (s->op_depth == 1)
		redo_log_truncate(s->redo, s->redo_mark);
	else if (redo_log_mark(s->redo) != s->redo_mark)
		/* Records of the rolled-back part cannot be told apart from
		 * the batch's others: the batch is not replayable. */
		store_redo_append(s, STORE_REDO_OPAQUE, NULL, 0);
	s->redo_op_changed = false;
	s->redo_op_logged = false;
}
