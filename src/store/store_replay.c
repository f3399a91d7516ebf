/*
 * store_replay.c — a new worker's start on a store whose previous worker
 * died: replay the redo log's records of batches the store never committed
 * (SQLite rolled them back), exactly as they were acknowledged, then start
 * logging (store_redo.c writes the records).
 *
 * Invariants:
 *   - all or nothing: the log is checked whole first (checksums, record
 *     types and lengths, an opaque marker), then applied in one batch
 *     through the store's own operations with the recorded results forced:
 *     the time (s->redo_now, read by store_redo_now), the inode number a
 *     creation hands out (s->next_ino), the set-id bits a caller's kill
 *     left (a kill whose answer is the logged mode), whether a dropped inode
 *     stayed as an orphan (a lookup reference held around the operation);
 *     a result that differs from the logged one (inode number, mode, owner)
 *     or an operation that fails declines the replay, and the caller
 *     reports the files concerned lost (EIO once) instead;
 *   - a replay holds no kernel lookup reference outside its operations
 *     (creations drop the one they take): the new worker starts with none,
 *     and orphans wait in s->orphans for a FORGET as adopted ones do;
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

/* A name of len bytes at payload + at as a C string in buf. -EBADMSG unless
 * it is a name the store could have taken (1..max bytes, no NUL). */
static int store_replay_name(const struct redo_record *rec, size_t at, size_t len, size_t max, char *buf)
{
	if (len == 0 || len > max || at > rec->len || len > rec->len - at)
		return -EBADMSG;
	memcpy(buf, (const char *)rec->payload + at, len);
	buf[len] = '\0';
	return strlen(buf) == len ? 0 : -EBADMSG;
}

/* The kernel references the replayed operation must see on victim: as
 * many as make it stay an orphan (1) or go (0), as it did when logged.
 * Replayed creations drop the reference they take, so outside the
 * operations of a replay no inode has one (the new worker starts with none). */
static int store_replay_hold(struct store *s, uint64_t victim, bool orphan)
{
	return victim != 0 && orphan ? store_inomap_add(&s->lookups, victim, 1, NULL) : 0;
}

/* After the operation (err its result): the reference goes again. */
static int store_replay_unhold(struct store *s, uint64_t victim, bool orphan, int err)
{
	int r = 0;

	if (victim != 0 && orphan)
		r = store_inomap_add(&s->lookups, victim, -1, NULL);
	/* Not held then, so never again (it has no name to be looked up by):
	 * its deletion goes on after the replay (store_inode_held). */
	else if (victim != 0 && store_inomap_get(&s->forgotten, victim) == 0)
		r = store_inomap_add(&s->forgotten, victim, 1, NULL);
	return err < 0 ? err : r;
}

/* Whether a caller's kill may keep S_ISGID: the logged outcome says. */
static bool store_replay_kept_sgid(void *ud, uint32_t gid)
{
	(void)gid;
	return (*(const uint32_t *)ud & S_ISGID) != 0;
}

/* The mode a write or setattr left must be the logged one. */
static int store_replay_check_mode(struct store *s, uint64_t ino, uint32_t mode)
{
	struct store_attr attr;
	int r = store_getattr(s, ino, &attr);

	return r < 0 ? r : attr.mode == mode ? 0 : -EBADMSG;
}

/* One write record, at the time it was made. */
static int store_replay_write(struct store *s, const struct redo_record *rec)
{
	struct store_redo_write_head head;
	struct timespec mtime;

	memcpy(&head, rec->payload, sizeof(head));
	size_t size = rec->len - sizeof(head);
	const struct store_kill_suidgid kill = { .in_group = store_replay_kept_sgid, .ud = &head.mode };
	store_ns_to_ts(head.mtime_ns, &mtime);
	s->redo_now = &mtime;
	ssize_t n = store_write_kill(s, head.ino, head.offset, (const char *)rec->payload + sizeof(head), size,
				     head.killed ? &kill : NULL);
	s->redo_now = NULL;
	if (n == (ssize_t)size)
		return head.killed ? store_replay_check_mode(s, head.ino, head.mode) : 0;
	return n < 0 ? (int)n : -EIO;
}

/* One setattr record, with the times it used. */
static int store_replay_setattr(struct store *s, const struct redo_record *rec)
{
	struct store_redo_setattr r;
	struct store_attr attr;
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	const struct store_kill_suidgid kill = { .in_group = store_replay_kept_sgid, .ud = &r.mode_after };
	/* Without .caller_chown: it only refuses (EPERM), and a logged setattr
	 * was not refused. */
	struct store_setattr_request req = { .flags = r.flags, .mode = r.mode, .uid = r.uid, .gid = r.gid,
					     .size = r.size, .caller_uid = r.caller_uid,
					     .caller_fowner = r.caller_fowner != 0, .kill = r.killed ? &kill : NULL };
	store_ns_to_ts(r.atime_ns, &req.atime);
	store_ns_to_ts(r.mtime_ns, &req.mtime);
	store_ns_to_ts(r.ctime_ns, &req.ctime);
	store_ns_to_ts(r.now_ns, &now);
	s->redo_now = &now;
	int err = store_setattr(s, r.ino, &req, &attr);
	s->redo_now = NULL;
	return err < 0 ? err : attr.mode == r.mode_after ? 0 : -EBADMSG;
}

/* mknod, mkdir, symlink: the same inode number, owner and mode. */
static int store_replay_create(struct store *s, const struct redo_record *rec)
{
	struct store_redo_create r;
	char name[STORE_NAME_MAX + 1], target[STORE_SYMLINK_MAX + 1];
	struct store_attr attr;
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	int err = store_replay_name(rec, sizeof(r), r.name_len, STORE_NAME_MAX, name);
	size_t target_at = sizeof(r) + r.name_len;
	bool symlink = S_ISLNK(r.mode);
	if (err == 0 && symlink)
		err = store_replay_name(rec, target_at, rec->len - target_at, STORE_SYMLINK_MAX, target);
	else if (err == 0 && rec->len != target_at)
		err = -EBADMSG;
	/* Numbers only grow: one below next_ino was handed out already. */
	if (err == 0 && r.ino < s->next_ino)
		err = -EBADMSG;
	if (err < 0)
		return err;
	const struct store_caller caller = { .uid = r.uid, .gid = r.gid };
	store_ns_to_ts(r.now_ns, &now);
	s->next_ino = r.ino;
	s->redo_now = &now;
	err = symlink ? store_symlink(s, r.parent, name, target, &caller, &attr)
		      : store_mknod(s, r.parent, name, r.mode, r.rdev, &caller, &attr);
	s->redo_now = NULL;
	if (err == 0)
		err = store_inomap_add(&s->lookups, attr.ino, -1, NULL);
	if (err < 0)
		return err;
	return attr.ino == r.ino && attr.mode == r.mode && attr.uid == r.uid && attr.gid == r.gid ? 0 : -EBADMSG;
}

static int store_replay_link(struct store *s, const struct redo_record *rec)
{
	struct store_redo_link r;
	char name[STORE_NAME_MAX + 1];
	struct store_attr attr;
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	int err = store_replay_name(rec, sizeof(r), r.name_len, STORE_NAME_MAX, name);
	if (err == 0 && rec->len != sizeof(r) + r.name_len)
		err = -EBADMSG;
	if (err < 0)
		return err;
	store_ns_to_ts(r.now_ns, &now);
	s->redo_now = &now;
	err = store_link(s, r.ino, r.parent, name, &attr);
	s->redo_now = NULL;
	if (err == 0)
		err = store_inomap_add(&s->lookups, r.ino, -1, NULL);
	return err;
}

static int store_replay_remove(struct store *s, const struct redo_record *rec)
{
	struct store_redo_remove r;
	char name[STORE_NAME_MAX + 1];
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	int err = store_replay_name(rec, sizeof(r), rec->len - sizeof(r), STORE_NAME_MAX, name);
	if (err < 0)
		return err;
	store_ns_to_ts(r.now_ns, &now);
	err = store_replay_hold(s, r.victim, r.orphan);
	if (err < 0)
		return err;
	s->redo_now = &now;
	err = r.dir ? store_rmdir(s, r.parent, name) : store_unlink(s, r.parent, name);
	s->redo_now = NULL;
	return store_replay_unhold(s, r.victim, r.orphan, err);
}

static int store_replay_rename(struct store *s, const struct redo_record *rec)
{
	struct store_redo_rename r;
	char name[STORE_NAME_MAX + 1], new_name[STORE_NAME_MAX + 1];
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	size_t new_at = sizeof(r) + r.name_len;
	int err = store_replay_name(rec, sizeof(r), r.name_len, STORE_NAME_MAX, name);
	if (err == 0)
		err = store_replay_name(rec, new_at, rec->len - new_at, STORE_NAME_MAX, new_name);
	if (err < 0)
		return err;
	store_ns_to_ts(r.now_ns, &now);
	err = store_replay_hold(s, r.victim, r.orphan);
	if (err < 0)
		return err;
	s->redo_now = &now;
	err = store_rename(s, r.parent, name, r.new_parent, new_name, r.flags);
	s->redo_now = NULL;
	return store_replay_unhold(s, r.victim, r.orphan, err);
}

/* The kernel forgot an orphan: it goes as it went then (no reference). */
static int store_replay_release(struct store *s, const struct redo_record *rec)
{
	struct store_redo_inode r;

	memcpy(&r, rec->payload, sizeof(r));
	int err = store_op_begin(s);
	if (err < 0)
		return err;
	return store_op_end(s, store_inode_release_if_unused(s, r.ino));
}

/* A chunk of a queued deletion went: queue the deletion again; it runs
 * when the replay's batch ends and finishes what the dead worker began. */
static int store_replay_reclaim(struct store *s, const struct redo_record *rec)
{
	struct store_redo_inode r;

	memcpy(&r, rec->payload, sizeof(r));
	if (store_inomap_get(&s->forgotten, r.ino) == 0 && store_inomap_add(&s->forgotten, r.ino, 1, NULL) < 0)
		return -ENOMEM;
	if (store_inomap_get(&s->reclaim, r.ino))
		return 0;
	return store_inomap_add(&s->reclaim, r.ino, 1, NULL);
}

static int store_replay_fallocate(struct store *s, const struct redo_record *rec)
{
	struct store_redo_fallocate r;
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	store_ns_to_ts(r.now_ns, &now);
	s->redo_now = &now;
	int err = store_fallocate(s, r.ino, r.mode, r.offset, r.length);
	s->redo_now = NULL;
	return err;
}

static int store_replay_punch_chunk(struct store *s, const struct redo_record *rec)
{
	struct store_redo_range r;

	memcpy(&r, rec->payload, sizeof(r));
	int err = store_falloc_punch_chunk(s, r.ino, r.first, r.last);
	return err < 0 ? err : 0;
}

/* A chunk of a big truncate: the file cut to the logged size. */
static int store_replay_truncate_chunk(struct store *s, const struct redo_record *rec)
{
	struct store_redo_range r;
	struct store_inode inode;

	memcpy(&r, rec->payload, sizeof(r));
	int err = store_op_begin(s);
	if (err < 0)
		return err;
	err = store_inode_load(s, r.ino, &inode);
	if (err == 0 && (!S_ISREG(inode.attr.mode) || r.first > inode.attr.size))
		err = -EBADMSG;
	if (err == 0)
		err = store_data_truncate(s, &inode, r.first);
	if (err == 0)
		err = store_inode_save(s, &inode);
	return store_op_end(s, err);
}

static int store_replay_xattr(struct store *s, const struct redo_record *rec)
{
	struct store_redo_xattr r;
	char name[STORE_XATTR_NAME_MAX + 1];
	struct timespec now;

	memcpy(&r, rec->payload, sizeof(r));
	bool set = rec->type == STORE_REDO_SETXATTR;
	size_t value_at = sizeof(r) + r.name_len;
	int err = store_replay_name(rec, sizeof(r), r.name_len, STORE_XATTR_NAME_MAX, name);
	if (err == 0 && !set && rec->len != value_at)
		err = -EBADMSG;
	if (err < 0)
		return err;
	store_ns_to_ts(r.now_ns, &now);
	s->redo_now = &now;
	err = set ? store_setxattr(s, r.ino, name, (const char *)rec->payload + value_at, rec->len - value_at,
				   r.flags)
		  : store_removexattr(s, r.ino, name);
	s->redo_now = NULL;
	return err;
}

/* Every record type a replay knows: its fixed part and how to apply it. */
static const struct store_replay_kind {
	uint32_t type;
	const char *name;
	size_t fixed;
	bool variable; /* names, bytes or a value follow the fixed part */
	int (*apply)(struct store *s, const struct redo_record *rec);
} store_replay_kinds[] = {
	{ STORE_REDO_WRITE, "write", sizeof(struct store_redo_write_head), true, store_replay_write },
	{ STORE_REDO_SETATTR, "setattr", sizeof(struct store_redo_setattr), false, store_replay_setattr },
	{ STORE_REDO_CREATE, "create", sizeof(struct store_redo_create), true, store_replay_create },
	{ STORE_REDO_LINK, "link", sizeof(struct store_redo_link), true, store_replay_link },
	{ STORE_REDO_REMOVE, "remove", sizeof(struct store_redo_remove), true, store_replay_remove },
	{ STORE_REDO_RENAME, "rename", sizeof(struct store_redo_rename), true, store_replay_rename },
	{ STORE_REDO_RELEASE, "release", sizeof(struct store_redo_inode), false, store_replay_release },
	{ STORE_REDO_RECLAIM, "reclaim", sizeof(struct store_redo_inode), false, store_replay_reclaim },
	{ STORE_REDO_FALLOCATE, "fallocate", sizeof(struct store_redo_fallocate), false, store_replay_fallocate },
	{ STORE_REDO_PUNCH_CHUNK, "punch", sizeof(struct store_redo_range), false, store_replay_punch_chunk },
	{ STORE_REDO_TRUNCATE_CHUNK, "truncate", sizeof(struct store_redo_range), false,
	  store_replay_truncate_chunk },
	{ STORE_REDO_SETXATTR, "setxattr", sizeof(struct store_redo_xattr), true, store_replay_xattr },
	{ STORE_REDO_REMOVEXATTR, "removexattr", sizeof(struct store_redo_xattr), true, store_replay_xattr },
};

/* The kind of a record whose length fits it; NULL for anything else (an
 * opaque marker, another binary's layout, a wrong length). */
static const struct store_replay_kind *store_replay_kind_of(const struct redo_record *rec)
{
	for (size_t i = 0; i < sizeof(store_replay_kinds) / sizeof(store_replay_kinds[0]); i++) {
		const struct store_replay_kind *k = &store_replay_kinds[i];
		if (k->type == rec->type)
			return rec->len == k->fixed || (k->variable && rec->len > k->fixed) ? k : NULL;
	}
	return NULL;
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
		if (!store_replay_kind_of(&rec))
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

/* Apply the checked records in one batch (lock held by the caller's batch). */
static int store_replay_apply(struct store *s, struct redo_log *log, uint64_t committed)
{
	struct redo_record rec;
	size_t cursor = 0;
	int r;

	while ((r = redo_log_next(log, &cursor, &rec)) == 1) {
		if (rec.batch_seq <= committed)
			continue;
		const struct store_replay_kind *kind = store_replay_kind_of(&rec);
		r = kind->apply(s, &rec);
		if (r < 0) {
			log_error("store: replaying a %s record (batch %" PRIu64 ") failed: %s", kind->name,
				  rec.batch_seq, strerror(-r));
			return r;
		}
	}
	return r;
}

bool store_redo_nothing_lost(struct store *s)
{
	return atomic_load(&s->redo_nothing_lost);
}

int store_redo_attach(struct store *s, struct redo_log *log, size_t *ret_replayed)
{
	uint64_t committed = 0, last = 0;
	size_t count = 0;
	/* Only a log some worker armed describes everything it left. */
	bool armed = redo_log_armed(log);
	int r = store_replay_committed(s, &committed);

	if (r < 0)
		return r;
	r = store_replay_check(log, committed, &count, &last);
	if (r == 0 && count > 0) {
		r = store_batch_begin(s);
		if (r == 0) {
			s->replaying = true;
			r = store_replay_apply(s, log, committed);
			s->replaying = false;
			r = store_batch_end(s, r);
		}
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
	atomic_store(&s->redo_nothing_lost, r == 0 && armed);
	/* The kernel may hold what the dead worker created, replayed or not. */
	if (s->adopt_orphans && s->adopt_below_ino < s->next_ino)
		s->adopt_below_ino = s->next_ino;
	store_unlock(s);
	if (r == 0)
		*ret_replayed = count;
	return r;
}
