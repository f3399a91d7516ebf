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

void store_redo_write(struct store *s, uint64_t ino, uint64_t offset, const char *buf, size_t size,
		      const struct timespec *mtime, bool exact)
{
	assert(store_lock_held(s));
	if (!s->redo || s->redo_now)
		return; /* no log, or a replay of it */
	if (!exact)
		return; /* store_redo_op_done marks the operation opaque */
	struct store_redo_write_head head = { .ino = ino, .offset = offset, .mtime_ns = store_ts_to_ns(mtime) };
	struct iovec parts[2] = { { &head, sizeof(head) }, { (void *)buf, size } };
	store_redo_append(s, STORE_REDO_WRITE, parts, 2);
	s->redo_op_logged = true;
}

void store_redo_setattr(struct store *s, uint64_t ino, const struct store_setattr_request *req,
			const struct timespec *now, bool exact)
{
	assert(store_lock_held(s));
	if (!s->redo || s->redo_now || !exact)
		return;
	struct store_redo_setattr rec = {
		.ino = ino, .flags = req->flags, .mode = req->mode, .uid = req->uid, .gid = req->gid,
		.caller_uid = req->caller_uid, .caller_fowner = req->caller_fowner, .size = req->size,
		.atime_ns = store_ts_to_ns(&req->atime), .mtime_ns = store_ts_to_ns(&req->mtime),
		.ctime_ns = store_ts_to_ns(&req->ctime), .now_ns = store_ts_to_ns(now),
	};
	struct iovec part = { &rec, sizeof(rec) };
	store_redo_append(s, STORE_REDO_SETATTR, &part, 1);
	s->redo_op_logged = true;
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
