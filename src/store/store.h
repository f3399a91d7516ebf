/*
 * store.h — the claimfs store: every byte and every piece of metadata, in one
 * SQLite file. This is the only module that includes sqlite3.h or holds SQL.
 *
 * Three layers of state live in the store:
 *   - the inode table (inodes, directory entries, data blocks, xattrs) that the
 *     FUSE layer (fs.c) serves. Inode numbers are SQLite rowids and are never
 *     reused (AUTOINCREMENT); the root directory is inode 1.
 *   - volumes: a volume is a directory tree with a capacity. Its root directory
 *     is linked as <mount>/<namespace>/<claim> while it is bound to a claim.
 *   - API objects: opaque JSON text per (kind, namespace, name) with a
 *     store-wide resourceVersion. Only the model layer interprets the text.
 *
 * Every function returns 0 (or a non-negative count) on success and a negative
 * errno on failure; SQLITE_* codes are mapped to errno in one place (store_errno,
 * store_txn.c).
 * Every public function takes the store's one lock; it is recursive, so a
 * caller may wrap several calls in store_batch_begin/store_batch_end to make
 * them one atomic change.
 *
 * Durability contract (see README): changes are batched into one open SQLite
 * transaction and committed (a) by store_sync(durable=true) with
 * synchronous=FULL — fsync, fsyncdir; (b) by store_sync(durable=false) —
 * close of a written file and a background timer; (c) when the batch grows
 * large. A SIGKILL loses at most what was never committed; it never leaves the
 * database inconsistent.
 */
#ifndef CLAIMFS_STORE_H
#define CLAIMFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/statvfs.h>
#include <time.h>

#define STORE_ROOT_INO 1
#define STORE_NAME_MAX 255
#define STORE_SYMLINK_MAX 4095
#define STORE_XATTR_NAME_MAX 255
#define STORE_XATTR_VALUE_MAX 65536
/* Bytes of xattr names + values one inode may hold (like ext4's one block, but larger). */
#define STORE_XATTR_TOTAL_MAX 65536

struct store;

/* Attributes of one inode, as the FUSE layer reports them. */
struct store_attr {
	uint64_t ino;
	uint64_t volume_id; /* 0 for the root and the namespace directories */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink;
	uint64_t size;
	uint64_t blocks; /* 512-byte units actually allocated */
	uint64_t rdev;
	struct timespec atime;
	struct timespec mtime;
	struct timespec ctime;
};

/* Which fields of struct store_setattr_request to apply. */
enum store_setattr_flags {
	STORE_SET_MODE = 1 << 0,
	STORE_SET_UID = 1 << 1,
	STORE_SET_GID = 1 << 2,
	STORE_SET_SIZE = 1 << 3,
	STORE_SET_ATIME = 1 << 4, /* to .atime */
	STORE_SET_ATIME_NOW = 1 << 5,
	STORE_SET_MTIME = 1 << 6, /* to .mtime */
	STORE_SET_MTIME_NOW = 1 << 7,
	STORE_SET_CTIME = 1 << 8, /* to .ctime */
	/* A SETATTR with nothing to set: a chown naming neither id
	 * (chown(path, -1, -1)), whose implied clearing of set-id bits the
	 * kernel's FUSE module leaves out of the request, or the kernel
	 * dropping privileges before a write or fallocate (followed by a
	 * request that asks for it itself). The store clears them (with
	 * .kill) as for a chown when the caller owns the file (.caller_uid) or
	 * has CAP_FOWNER (.caller_fowner). For anyone else the request itself
	 * cannot be told from the second kind: when the caller is known to be
	 * in a chown (.caller_chown) and set-id bits would go, it is EPERM as
	 * on tmpfs; otherwise nothing changes. */
	STORE_SET_OWNER_KEPT = 1 << 9,
};

/* A change by a caller without CAP_FSETID, as the kernel reports it: a
 * write or truncate also clears S_ISUID, and S_ISGID when the file is
 * group-executable or the caller is outside the file's group (as the VFS
 * does for ext4); a chown clears them the same way. */
struct store_kill_suidgid {
	/* Whether the caller may keep an S_ISGID without group execute
	 * permission on a file of group `gid` (the group before a chown): it
	 * is in that group (fsgid or supplementary), or, for a chown, has
	 * CAP_FSETID. NULL: such an S_ISGID stays. */
	bool (*in_group)(void *ud, uint32_t gid);
	void *ud;
};

struct store_setattr_request {
	unsigned flags;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	struct timespec atime;
	struct timespec mtime;
	struct timespec ctime;
	const struct store_kill_suidgid *kill; /* NULL: the caller may keep set-id bits */
	uint32_t caller_uid; /* STORE_SET_OWNER_KEPT only */
	bool caller_fowner;
	bool caller_chown;
};

/* Who creates an inode: ownership of new inodes follows the caller (and setgid dirs). */
struct store_caller {
	uint32_t uid;
	uint32_t gid;
};

enum store_open_flags {
	STORE_OPEN_READONLY = 1 << 0,   /* never writes, never migrates */
	STORE_OPEN_NO_RECLAIM = 1 << 1, /* keep orphans (--check reports them) */
	/* A worker on a FUSE connection that outlives it: the kernel may still
	 * use files unlinked while open, so orphans are not reclaimed at close
	 * (KEEP_ORPHANS), nor at open when an earlier worker served the same
	 * connection (ADOPT_ORPHANS: each is reclaimed when the kernel forgets it). */
	STORE_OPEN_KEEP_ORPHANS = 1 << 2,
	STORE_OPEN_ADOPT_ORPHANS = 1 << 3,
};

/* ---- lifetime ---------------------------------------------------------- */

/* Open (creating and migrating if needed) the store at path. Takes an
 * exclusive lock on the file: a second opener gets -EBUSY. Reclaims orphan
 * inodes (nlink 0) left by a daemon that died with files open. */
int store_open(const char *path, unsigned flags, struct store **ret_store);
/* Commit what is pending and close. Accepts NULL. */
void store_close(struct store *s);
/* Schema version this build writes (PRAGMA user_version). */
int store_schema_version(void);

/* Commit the pending transaction. durable=true: synchronous=FULL (survives
 * power loss); false: survives SIGKILL of the daemon. No-op if nothing changed
 * since the last commit of at least that strength. */
int store_sync(struct store *s, bool durable);
/* Commit if the pending transaction is older than max_age_ms (timer thread). */
int store_sync_if_older(struct store *s, unsigned max_age_ms);
/* One pass of the WAL checkpointer, for a background thread every ~50 ms
 * (its own connection: no store lock held while it copies). While large
 * writes stream in (store_set_stream_rate) it holds back, so the stream's bytes
 * are written once (to the WAL) while it lasts and copied after it; at most
 * STORE_WAL_DEFER_MAX_BYTES of WAL, and only when the disk has room. */
void store_checkpoint_tick(struct store *s);
#define STORE_STREAM_DEFAULT_MIB_PER_S 32u
/* One pass of the background vacuum, for the checkpointer's thread after
 * store_checkpoint_tick: once free pages pass 16 MiB, hands them back to
 * the host in slices that hold the store lock for at most 2 ms each
 * (README, "Space"). Nothing on a store without auto_vacuum = INCREMENTAL
 * (made before it; store_compact switches it on). */
void store_vacuum_tick(struct store *s);
/* claimfsd --compact: rewrite the store (VACUUM) with no free pages and
 * auto_vacuum = INCREMENTAL, with the WAL folded in. Open the store
 * first: with a daemon holding it, that fails with -EBUSY. Needs free disk
 * space about the size of the store; without it -ENOSPC and the store is
 * unchanged. Bytes of the file and its WAL before and after. */
int store_compact(struct store *s, uint64_t *ret_before, uint64_t *ret_after);
/* store_compact of the store at path, opened (not created: -ENOENT if
 * missing; -EBUSY while a daemon holds it) and closed here. */
int store_compact_file(const char *path, uint64_t *ret_before, uint64_t *ret_after);
/* The rate of large writes (128 KiB or more each) that starts a stream,
 * bytes per second; 0: never defer. */
void store_set_stream_rate(struct store *s, uint64_t bytes_per_s);

/* Group several calls into one atomic change (recursive). rc < 0 at the end
 * rolls every change since the matching begin back. */
int store_batch_begin(struct store *s);
int store_batch_end(struct store *s, int rc);

/* ---- inode table (used by fs.c) ---------------------------------------- */

/* Kernel lookup references: every successful store_lookup/store_create/
 * store_link reply adds one; store_forget drops n. An inode with nlink 0 and
 * no references is deleted. */
void store_forget(struct store *s, uint64_t ino, uint64_t nlookup);

int store_getattr(struct store *s, uint64_t ino, struct store_attr *ret_attr);
int store_lookup(struct store *s, uint64_t parent, const char *name, struct store_attr *ret_attr);
/* Create a regular file, directory, fifo, socket or device node (by mode). */
int store_mknod(struct store *s, uint64_t parent, const char *name, uint32_t mode, uint64_t rdev,
		const struct store_caller *caller, struct store_attr *ret_attr);
int store_symlink(struct store *s, uint64_t parent, const char *name, const char *target,
		  const struct store_caller *caller, struct store_attr *ret_attr);
int store_link(struct store *s, uint64_t ino, uint64_t new_parent, const char *new_name,
	       struct store_attr *ret_attr);
int store_unlink(struct store *s, uint64_t parent, const char *name);
int store_rmdir(struct store *s, uint64_t parent, const char *name);
/* flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE */
int store_rename(struct store *s, uint64_t parent, const char *name, uint64_t new_parent,
		 const char *new_name, unsigned flags);
/* Returns the target length; copies at most size bytes (no NUL added). */
/* 0 if the inode's volume takes changes, -EROFS if it is read-only (ROX claims). */
int store_check_writable(struct store *s, uint64_t ino);
int store_readlink(struct store *s, uint64_t ino, char *buf, size_t size);
int store_setattr(struct store *s, uint64_t ino, const struct store_setattr_request *req,
		  struct store_attr *ret_attr);

/* Returns bytes read (short at end of file); updates atime as relatime does. */
ssize_t store_read(struct store *s, uint64_t ino, uint64_t offset, size_t size, char *buf);
/* Returns bytes written (all or error: -ENOSPC leaves the file unchanged).
 * Like any write on Linux it drops the file's security.capability. */
ssize_t store_write(struct store *s, uint64_t ino, uint64_t offset, const char *buf, size_t size);
/* store_write by a caller who may have to drop set-id bits (kill: NULL if not). */
ssize_t store_write_kill(struct store *s, uint64_t ino, uint64_t offset, const char *buf,
			 size_t size, const struct store_kill_suidgid *kill);
/* mode 0 or FALLOC_FL_KEEP_SIZE (reserve), FALLOC_FL_PUNCH_HOLE |
 * FALLOC_FL_KEEP_SIZE (free the range), FALLOC_FL_ZERO_RANGE with or
 * without KEEP_SIZE; anything else -EOPNOTSUPP (see store_falloc.c). */
int store_fallocate(struct store *s, uint64_t ino, int mode, uint64_t offset, uint64_t length);
/* lseek(SEEK_DATA) (data true) or lseek(SEEK_HOLE) from offset: the
 * position in *ret_pos; -ENXIO at or past the end (and for SEEK_DATA when
 * only holes follow), -EISDIR / -EINVAL for a file that is not regular.
 * Block granular (store_seek.c). */
int store_seek(struct store *s, uint64_t ino, uint64_t offset, bool data, uint64_t *ret_pos);
/* fsync of one inode: durable commit if the inode changed since the last one. */
int store_fsync(struct store *s, uint64_t ino, bool datasync);
/* A file handle that wrote was closed: commit (SIGKILL-durable) if the open
 * batch holds changes of ino (every inode row change is noted there). */
int store_flush(struct store *s, uint64_t ino);

/* Directory listing. cursor is 0 at the start; the callback gets the cursor of
 * the entry after this one. Entries "." and ".." are included. Returning
 * non-zero from the callback stops the listing (the entry was not taken). */
typedef int (*store_dirent_cb)(void *ud, const char *name, const struct store_attr *attr,
			       uint64_t next_cursor);
/* plus=true: the callback's attr is complete and a lookup reference is taken
 * for every entry the callback accepts (except "." and ".."). */
int store_readdir(struct store *s, uint64_t ino, uint64_t cursor, bool plus, store_dirent_cb cb,
		  void *ud);

/* statfs: a volume's capacity and use for inodes inside a volume; the host
 * filesystem of the store for the top levels. */
int store_statfs(struct store *s, uint64_t ino, struct statvfs *ret_stat);

/* flags: 0, XATTR_CREATE or XATTR_REPLACE */
int store_setxattr(struct store *s, uint64_t ino, const char *name, const void *value,
		   size_t size, int flags);
/* size 0: returns the needed size; otherwise copies or -ERANGE. */
ssize_t store_getxattr(struct store *s, uint64_t ino, const char *name, void *buf, size_t size);
ssize_t store_listxattr(struct store *s, uint64_t ino, char *buf, size_t size);
int store_removexattr(struct store *s, uint64_t ino, const char *name);

/* The root and namespace levels change behind the kernel's back when claims
 * are bound and unbound. The store calls this hook with (directory, name) of
 * every such entry after the change is made, with no store lock held, so the
 * FUSE layer can drop the kernel's cached entry. */
typedef void (*store_invalidate_cb)(void *ud, uint64_t parent, const char *name);
void store_set_invalidate_hook(struct store *s, store_invalidate_cb cb, void *ud);

/* Observers of the batch transaction, so that a record outside this process
 * (claimfsd --supervise) knows which files have acknowledged changes that a
 * death of the process would lose. Called under the store lock, before the
 * operation returns (so before the caller acknowledges it):
 *   changed(ud, ino)   ino got its first change of the open batch; false if
 *                      the record is full (the batch then commits at the end
 *                      of the operation, emptying it);
 *   committed(ud)      the batch is committed: nothing is pending;
 *   reported(ud, ino)  a fsync or close reported the loss of ino's changes
 *                      (store_mark_lost) with EIO;
 *   naming(ud)         the running operation is about to log a change of
 *                      names (create, link, remove, rename) in the redo log,
 *                      on the caller's thread: a next worker will replay it,
 *                      so the request counts as applied from here on. */
struct store_batch_hooks {
	bool (*changed)(void *ud, uint64_t ino);
	void (*committed)(void *ud);
	void (*reported)(void *ud, uint64_t ino);
	void (*naming)(void *ud);
	void *ud;
};
/* Install (or, with NULL, remove) the observers; nothing else may run. */
void store_set_batch_hooks(struct store *s, const struct store_batch_hooks *hooks);
/* Replay what the redo log (redo_log.h) holds of batches the store never
 * committed — the acknowledged operations of a process that died — commit
 * them, then record every operation in it until store_close. Call once,
 * before serving. 0 and *ret_replayed (records applied); -EBADMSG if the log
 * held something that cannot be replayed exactly (torn, not described, or
 * failing): nothing of it is applied and the caller reports the files
 * concerned lost (store_mark_lost). The log is attached (and armed,
 * redo_log_arm) either way, except on an error of the store itself. */
struct redo_log;
int store_redo_attach(struct store *s, struct redo_log *log, size_t *ret_replayed);
/* Whether store_redo_attach found everything the previous process
 * acknowledged committed or replayed it: an operation it applied is then
 * in the store, whether its batch committed or not. False without a redo
 * log, after a declined replay, or with a log no process armed. */
bool store_redo_nothing_lost(struct store *s);
/* Changes to ino were acknowledged and then lost (an earlier process died
 * before committing them): its next fsync or close returns EIO, once. */
int store_mark_lost(struct store *s, uint64_t ino);
/* False when no inode can have this xattr, so a lookup can be skipped (the
 * kernel asks for security.capability before every write). */
bool store_may_have_xattr(struct store *s, const char *name);

/* ---- volumes (used by model.c) ----------------------------------------- */

#define STORE_NAMESPACE_MAX 63
/* The namespace directory of volumes bound only while they are exported (a
 * snapshot's content, model_tar_snapshot.c): a name no Kubernetes namespace
 * can have, so no claim object is expected for the volumes in it (--check). */
#define STORE_EXPORT_NAMESPACE ".snapshot-exports"
#define STORE_CLAIM_NAME_MAX 253
#define STORE_VOLUME_NAME_MAX 253

/* How a volume's writes are committed (README, durability contract). */
enum store_io_class {
	STORE_IO_STANDARD = 0, /* batched: close commits, fsync makes durable */
	STORE_IO_DURABLE = 1,  /* every write and close committed durably, as O_SYNC */
};

struct store_volume {
	int64_t id;
	char name[STORE_VOLUME_NAME_MAX + 1];
	uint64_t capacity;    /* bytes */
	uint64_t used_bytes;  /* allocated data bytes */
	uint64_t used_inodes; /* inodes including the root directory */
	uint64_t max_inodes;  /* inode_limit if set, else derived from capacity */
	uint64_t inode_limit; /* stored override, 0: none (store_volume_modify) */
	enum store_io_class io_class;
	bool read_only;
	uint64_t root_ino;
	/* Where the root is linked; both empty while unbound. */
	char bound_namespace[STORE_NAMESPACE_MAX + 1];
	char bound_claim[STORE_CLAIM_NAME_MAX + 1];
};

/* Inode limit the store gives a volume of this capacity. */
uint64_t store_volume_inode_limit(uint64_t capacity);

/* Create an unbound volume with an empty root directory (mode, owner root). */
int store_volume_create(struct store *s, const char *name, uint64_t capacity, uint32_t root_mode,
			struct store_volume *ret_volume);
/* Link the volume's root as <namespace>/<claim>, creating the namespace
 * directory if needed. -EEXIST: that claim name is taken; -EBUSY: bound. */
int store_volume_bind(struct store *s, const char *name, const char *namespace_name,
		      const char *claim_name);
/* Unlink the root from its namespace directory (removed when empty); the data stays. */
int store_volume_unbind(struct store *s, const char *name);
/* Unbind and delete every inode, block and xattr of the volume. */
int store_volume_delete(struct store *s, const char *name);
/* A new unbound volume `name` holding a point-in-time copy of src_name's
 * tree (files, links, xattrs, times, owners) and its mutable attributes
 * (inode limit, I/O class); used for clones and snapshots, so a restore
 * starts with what the source had when the snapshot was taken.
 * -ENOSPC if capacity is below what the source uses. */
int store_volume_clone(struct store *s, const char *src_name, const char *name, uint64_t capacity,
		       struct store_volume *ret_volume);
/* One member of store_volume_clone_group. */
struct store_clone {
	const char *src_name;
	const char *name;
	uint64_t capacity;
};
/* store_volume_clone of n members as one operation: no write lands between
 * two members, so the copies are one instant of all sources (a group
 * snapshot crash-consistent across volumes), and a member that fails
 * (-ENOSPC, -EEXIST, -ENOENT, ...) leaves no copy at all. ret_volumes (n
 * entries, may be NULL) is filled only on success. */
int store_volume_clone_group(struct store *s, const struct store_clone *clones, size_t n,
			     struct store_volume *ret_volumes);
int store_volume_get(struct store *s, const char *name, struct store_volume *ret_volume);
/* Change capacity (any value >= 1) and the read-only flag. */
int store_volume_update(struct store *s, const char *name, uint64_t capacity, bool read_only);
/* Set a volume's mutable attributes, online: inode_limit (0: derived from the
 * capacity; creating beyond it is -ENOSPC) and io_class. -ENOENT: no such
 * volume; -EINVAL: io_class out of range. */
int store_volume_modify(struct store *s, const char *name, uint64_t inode_limit,
			enum store_io_class io_class);
/* After a write or a close on ino: if its volume has the durable I/O class,
 * commit durably now (as store_fsync); otherwise nothing. */
int store_io_class_commit(struct store *s, uint64_t ino);
/* store_write_kill that also gives the I/O class of ino's volume as the write
 * found it (*ret_class, set only on success), so a caller that commits by
 * I/O class after each write (the FUSE layer) needs no second lookup. */
ssize_t store_write_class(struct store *s, uint64_t ino, uint64_t offset, const char *buf,
			  size_t size, const struct store_kill_suidgid *kill,
			  enum store_io_class *ret_class);
typedef int (*store_volume_cb)(void *ud, const struct store_volume *volume);
int store_volume_list(struct store *s, store_volume_cb cb, void *ud);

/* What the store has promised and what it can still take, in bytes (the
 * model's capacity policy; README "Capacity"). */
struct store_capacity {
	/* Sum over bound, writable volumes of capacity - used (what they may
	 * still write; saturates at UINT64_MAX). */
	uint64_t promised;
	/* Free space of the host filesystem under the store plus the
	 * database's free pages, less the low-space margin writes keep: what
	 * writes can still add before they get ENOSPC. Sampled now. */
	uint64_t takeable;
};
int store_capacity_get(struct store *s, struct store_capacity *ret_capacity);

/* ---- API objects (used by model.c) -------------------------------------- */

#define STORE_KIND_MAX 63

/* Create or replace an object. phase (NULL: none) is what
 * store_object_list_phase finds it by; the store never reads it from body.
 * create_only: -EEXIST if it exists.
 * expected_version > 0: -ESTALE unless the stored version matches; replacing
 * a missing object with expected_version > 0 is -ENOENT. The new
 * resourceVersion (store-wide, strictly increasing) goes to ret_version. */
int store_object_put(struct store *s, const char *kind, const char *namespace_name,
		     const char *name, const char *body, const char *phase, bool create_only,
		     int64_t expected_version, int64_t *ret_version);
/* *ret_body is malloc'd; the caller frees it. */
int store_object_get(struct store *s, const char *kind, const char *namespace_name,
		     const char *name, char **ret_body, int64_t *ret_version);
int store_object_delete(struct store *s, const char *kind, const char *namespace_name,
			const char *name);
/* namespace_name NULL: every namespace. Ordered by namespace, name. */
typedef int (*store_object_cb)(void *ud, const char *namespace_name, const char *name,
			       const char *body, int64_t version);
int store_object_list(struct store *s, const char *kind, const char *namespace_name,
		      store_object_cb cb, void *ud);
/* Every namespace's objects of kind last put with this phase (an indexed
 * lookup: the model's binding searches must not read every object). */
int store_object_list_phase(struct store *s, const char *kind, const char *phase,
			    store_object_cb cb, void *ud);
/* Next resourceVersion that would be handed out minus one (for list metadata). */
int64_t store_current_version(struct store *s);

/* ---- consistency check (claimfsd --check) ---------------------------------- */
typedef void (*store_report_cb)(void *ud, const char *problem, bool repaired);
struct store_check_result {
	unsigned problems; /* invariants broken */
	unsigned repaired; /* of those, fixed by --repair */
	unsigned notes;    /* expected leftovers of a crash (orphans), not problems */
};
/* Verify integrity_check and the store's own invariants (daemon stopped);
 * repair=true fixes what is safe (orphans, counters, dangling rows). Each
 * problem is reported through the callback. */
int store_check(struct store *s, bool repair, store_report_cb report, void *ud,
		struct store_check_result *ret_result);

/* ---- online backup (claimfsd --backup) ------------------------------------ */
struct store_backup_options {
	/* Called after every step with pages copied and pages in all (NULL: none). */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	store_report_cb report; /* problems the check of the copy finds (NULL: none) */
	void *ud;
};
/* A consistent copy of the store at store_path, written to dest_path while
 * a daemon may serve the store: the last commit before the call (every
 * write fsynced or closed before it), checked as --check does before it
 * is renamed into place. -EUCLEAN: the copy failed its check (dest_path
 * untouched); *ret_check: the check's figures. */
int store_backup(const char *store_path, const char *dest_path,
		 const struct store_backup_options *opts, struct store_check_result *ret_check);
/* store_backup of the open store s (the daemon's API) into a file beside
 * it that is unlinked once checked: *ret_fd reads the copy (the caller
 * closes it; the space goes with the descriptor). */
int store_backup_to_fd(struct store *s, const struct store_backup_options *opts,
		       struct store_check_result *ret_check, int *ret_fd);

/* ---- statistics (metrics) ----------------------------------------------- */
struct store_stats {
	uint64_t wal_frames;          /* frames in the WAL since its last restart */
	uint64_t wal_frames_max;      /* the longest the WAL has been since the store opened */
	uint64_t checkpoint_deferred; /* checkpointer ticks held back for a stream */
	bool checkpoint_pending;      /* deferring, copying a deferred WAL, or a WAL past its restart length */
	uint64_t commits;
	uint64_t durable_commits;
	uint64_t commit_ns_total;
};
void store_get_stats(struct store *s, struct store_stats *ret_stats);
struct store_space_stats {
	uint64_t page_size;
	uint64_t free_pages;      /* on the freelist at the vacuum's last look */
	uint64_t vacuumed_bytes;  /* cut from the end of the file by the vacuum since open */
	bool incremental_vacuum;  /* false: a store from before; --compact switches it on */
};
void store_get_space_stats(struct store *s, struct store_space_stats *ret_stats);
/* Faults injected by the test-only fault VFS (CLAIMFS_FAULT, see store_fault.c). */
uint64_t store_fault_injected(void);

#endif
