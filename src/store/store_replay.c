/*
 * store_replay.c — a new worker's start on a store whose previous worker
 * died: replay the redo log's records of batches the store never committed
 * (SQLite rolled them back), exactly as they were acknowledged, then start
 * logging (store_redo.c writes the records).
 *
 * Invariants:
 *   - all or nothing: the log is checked whole first (checksums, record
 *     types, an opaque marker), then applied in one batch with the recorded
 *     results forced (timestamps); any doubt declines the replay, and the
 *     caller reports the files concerned lost (EIO once) instead;
 *   - the replayed batch commits with its sequence sealed in meta before the
 *     log is emptied, so a death in between replays nothing twice;
 *   - runs before the worker serves anything: no other operation interleaves.
 */
#include "store_internal.h"
#include "store_redo.h"

#include "log.h"
#include "redo_log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* The committed batch sequence, creating its meta row on a first use. */
static int store_replay_committed(struct store *s, uint64_t *ret_seq)
{
	int r = store_op_begin(s);

	if (r < 0)
		return r;
	r = store_exec_once(s, "INSERT OR IGNORE INTO meta(key, value) VALUES ('" STORE_REDO_META_KEY "', ?1)", 0,
			    0);
	if (r == 0) {
		sqlite3_stmt *st = store_stmt(s, STMT_META_GET);
		store_bind_text(s, st, 1, STORE_REDO_META_KEY);
		int rc = store_step(s, st);
		if (rc == SQLITE_ROW)
			*ret_seq = (uint64_t)sqlite3_column_int64(st, 0);
		else
			r = store_errno(s, rc, "read the redo batch");
		sqlite3_reset(st);
	}
	r = store_op_end(s, r);
	if (r == 0) {
		store_lock(s);
		r = store_commit(s);
		store_unlock(s);
	}
	return r;
}

/* Check every record newer than committed; *ret_count of them, *ret_last the
 * newest batch. -EBADMSG if any cannot be replayed exactly. */
static int store_replay_check(struct redo_log *log, uint64_t committed, size_t *ret_count, uint64_t *ret_last)
{
	struct redo_record rec;
	size_t cursor = 0, count = 0;
	uint64_t last = committed;
	int r;

	while ((r = redo_log_next(log, &cursor, &rec)) == 1) {
		if (rec.batch_seq <= committed)
			continue;
		bool known = (rec.type == STORE_REDO_WRITE && rec.len >= sizeof(struct store_redo_write_head)) ||
			     (rec.type == STORE_REDO_SETATTR && rec.len == sizeof(struct store_redo_setattr));
		if (!known)
			return -EBADMSG;
		count++;
		if (rec.batch_seq > last)
			last = rec.batch_seq;
	}
	if (r < 0)
		return r;
	*ret_count = count;
	*ret_last = last;
	return 0;
}

/* One write record, at the time it was made. */
static int store_replay_write(struct store *s, const struct redo_record *rec)
{
	struct store_redo_write_head head;
	struct timespec mtime;

	memcpy(&head, rec->payload, sizeof(head));
	size_t size = rec->len - sizeof(head);
	store_ns_to_ts(head.mtime_ns, &mtime);
	s->redo_now = &mtime;
	ssize_t n = store_write(s, head.ino, head.offset, (const char *)rec->payload + sizeof(head), size);
	s->redo_now = NULL;
	if (n == (ssize_t)size)
		return 0;
	log_error("store: replaying a write of %zu bytes to inode %" PRIu64 " failed: %s", size, head.ino,
		  n < 0 ? strerror((int)-n) : "short write");
	return n < 0 ? (int)n : -EIO;
}

/* One setattr record, with the times it used. */
static int store_replay_setattr(struct store *s, const struct redo_record *rec)
{
	struct store_redo_setattr r;
	struct store_attr attr;
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	struct store_setattr_request req = { .flags = r.flags, .mode = r.mode, .uid = r.uid, .gid = r.gid,
					     .size = r.size, .caller_uid = r.caller_uid,
					     .caller_fowner = r.caller_fowner != 0 };
	store_ns_to_ts(r.atime_ns, &req.atime);
	store_ns_to_ts(r.mtime_ns, &req.mtime);
	store_ns_to_ts(r.ctime_ns, &req.ctime);
	store_ns_to_ts(r.now_ns, &now);
	s->redo_now = &now;
	int err = store_setattr(s, r.ino, &req, &attr);
	s->redo_now = NULL;
	if (err < 0)
		log_error("store: replaying a setattr of inode %" PRIu64 " failed: %s", r.ino, strerror(-err));
	return err;
}

/* Apply the checked records in one batch (lock held by the caller's batch). */
static int store_replay_apply(struct store *s, struct redo_log *log, uint64_t committed)
{
	struct redo_record rec;
	size_t cursor = 0;
	int r;

	while ((r = redo_log_next(log, &cursor, &rec)) == 1) {
		if (rec.batch_seq <= committed)
			continue;
		r = rec.type == STORE_REDO_WRITE ? store_replay_write(s, &rec) : store_replay_setattr(s, &rec);
		if (r < 0)
			return r;
	}
	return r;
}

int store_redo_attach(struct store *s, struct redo_log *log, size_t *ret_replayed)
{
	uint64_t committed = 0, last = 0;
	size_t count = 0;
	int r = store_replay_committed(s, &committed);

	if (r < 0)
		return r;
	r = store_replay_check(log, committed, &count, &last);
	if (r == 0 && count > 0) {
		r = store_batch_begin(s);
		if (r == 0)
			r = store_batch_end(s, store_replay_apply(s, log, committed));
	}
	store_lock(s);
	s->redo = log;
	redo_log_arm(log);
	s->redo_batch = r == 0 ? last : (last > committed ? last : committed) + 1;
	if (r == 0 && count > 0)
		r = store_commit(s); /* seals `last`, empties the log */
	else
		redo_log_reset(log);
	if (r == 0 && count == 0)
		s->redo_batch++;
	store_unlock(s);
	if (r == 0)
		*ret_replayed = count;
	return r;
}
