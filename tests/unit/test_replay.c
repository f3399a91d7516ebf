/*
 * test_replay.c — the store's redo log across a process death: a child
 * process opens the store, attaches the log, runs one plan of operations
 * without committing, takes a fingerprint of the volume and dies (_exit, no
 * commit: SQLite rolls its batch back); the parent reopens the store,
 * attaches the same log and must find the same fingerprint: every inode
 * number, directory cursor, mode, owner, link count, size, allocation, time
 * (but atime, which reads move), content, symlink target and xattr, the
 * volume's byte and inode counters, and the inodes the child's "kernel"
 * held (lookup references) after their names went. One plan per kind of
 * record: creations, links and removals with orphans, renames with their
 * flags, fallocate, xattrs, the chunked truncate and deletion of big files,
 * writes and setattrs that drop set-id bits for their caller.
 * Also: a batch sealed by its commit is not replayed again; a batch with a
 * change the log does not describe (a volume made by the API), a damaged
 * record or a record of another binary's layout is declined whole
 * (-EBADMSG) and nothing of it applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "redo_log.h"
#include "store.h"
#include "unit.h"

#define VOLUME "pvc-redo"
#define FINGERPRINT_MAX (1 << 16)
#define BIG ((4u << 20) + (512u << 10)) /* past the store's inline deletion limit (4 MiB) */

static char dir[64];
static char path[128];
static char template_dir[64], template_path[128];
static uint64_t file_ino, root_ino;

/* What the child leaves the parent (a MAP_SHARED page set up before fork). */
struct shared {
	uint64_t held[8]; /* inodes the child looked up and still references */
	size_t nheld;
	size_t len;
	char fingerprint[FINGERPRINT_MAX];
};
static struct shared *shared;

static const struct store_caller root = { 0, 0 };

/* Once for all tests (made once: valgrind makes a store's creation slow): a
 * store with one committed file "file" holding "committed" in a volume large
 * enough for the big files; closed, so it is one file. */
static void template_setup(void)
{
	struct store_volume volume;
	struct store_attr attr;
	struct store *s;

	snprintf(template_dir, sizeof(template_dir), "/tmp/claimfs-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(template_dir));
	snprintf(template_path, sizeof(template_path), "%s/store.db", template_dir);
	ck_assert_int_eq(store_open(template_path, 0, &s), 0);
	ck_assert_int_eq(store_volume_create(s, VOLUME, 64 << 20, 0777, &volume), 0);
	ck_assert_int_eq(store_mknod(s, volume.root_ino, "file", S_IFREG | 0644, 0, &root, &attr), 0);
	ck_assert_int_eq(store_write(s, attr.ino, 0, "committed", 9), 9);
	file_ino = attr.ino;
	root_ino = volume.root_ino;
	store_close(s);
}

static void template_teardown(void)
{
	char file[160];

	snprintf(file, sizeof(file), "%s-reserve", template_path);
	unlink(file);
	unlink(template_path);
	rmdir(template_dir);
}

/* Each test: a copy of the template in a fresh directory. */
static void setup(void)
{
	static char buf[1 << 16];
	ssize_t n;

	snprintf(dir, sizeof(dir), "/tmp/claimfs-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	int in = open(template_path, O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(shared, MAP_FAILED);
}

static void teardown(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", "-reserve" };
	char file[160];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		unlink(file);
	}
	rmdir(dir);
	munmap(shared, sizeof(*shared));
}

/* ---- the fingerprint ---------------------------------------------------- */

struct fp {
	char *buf;
	size_t len;
	struct store *s;
};

static void fp_add(struct fp *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(f->buf + f->len, FINGERPRINT_MAX - f->len, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && f->len + (size_t)n < FINGERPRINT_MAX);
	f->len += (size_t)n;
}

static void fp_attr(struct fp *f, const struct store_attr *a)
{
	fp_add(f, " ino=%llu mode=%o uid=%u gid=%u nlink=%u size=%llu blocks=%llu rdev=%llu m=%lld.%09ld c=%lld.%09ld",
	       (unsigned long long)a->ino, a->mode, a->uid, a->gid, a->nlink, (unsigned long long)a->size,
	       (unsigned long long)a->blocks, (unsigned long long)a->rdev, (long long)a->mtime.tv_sec,
	       a->mtime.tv_nsec, (long long)a->ctime.tv_sec, a->ctime.tv_nsec);
}

/* Content (a hash), symlink target and xattrs of an inode. */
static void fp_inode(struct fp *f, const struct store_attr *a)
{
	char list[1024], value[256];

	fp_attr(f, a);
	if (S_ISREG(a->mode)) {
		static char data[1 << 16];
		uint64_t hash = 1469598103934665603ull;
		for (uint64_t off = 0; off < a->size; off += sizeof(data)) {
			ssize_t n = store_read(f->s, a->ino, off, sizeof(data), data);
			ck_assert_int_gt(n, 0);
			for (ssize_t i = 0; i < n; i++)
				hash = (hash ^ (unsigned char)data[i]) * 1099511628211ull;
		}
		fp_add(f, " data=%016llx", (unsigned long long)hash);
	}
	if (S_ISLNK(a->mode)) {
		int n = store_readlink(f->s, a->ino, value, sizeof(value));
		ck_assert_int_gt(n, 0);
		fp_add(f, " target=%.*s", n, value);
	}
	ssize_t n = store_listxattr(f->s, a->ino, list, sizeof(list));
	ck_assert_int_ge(n, 0);
	for (ssize_t at = 0; at < n; at += (ssize_t)strlen(list + at) + 1) {
		ssize_t v = store_getxattr(f->s, a->ino, list + at, value, sizeof(value));
		ck_assert_int_ge(v, 0);
		fp_add(f, " xattr:%s=%.*s", list + at, (int)v, value);
	}
	fp_add(f, "\n");
}

struct fp_entry {
	char name[STORE_NAME_MAX + 1];
	struct store_attr attr;
	uint64_t cursor;
};

struct fp_dir {
	struct fp_entry entries[64];
	size_t count;
};

static int fp_collect(void *ud, const char *name, const struct store_attr *attr, uint64_t next_cursor)
{
	struct fp_dir *d = ud;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	ck_assert_uint_lt(d->count, 64);
	snprintf(d->entries[d->count].name, sizeof(d->entries[0].name), "%s", name);
	d->entries[d->count].attr = *attr;
	d->entries[d->count].cursor = next_cursor;
	d->count++;
	return 0;
}

/* Every entry below ino with the cursor after it (readdir offsets the
 * kernel may hold), then the entries' inodes, depth first. */
static void fp_tree(struct fp *f, uint64_t ino, const char *prefix)
{
	struct fp_dir *d = calloc(1, sizeof(*d));
	char sub[512];

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(store_readdir(f->s, ino, 0, false, fp_collect, d), 0);
	for (size_t i = 0; i < d->count; i++) {
		fp_add(f, "%s/%s @%llu", prefix, d->entries[i].name, (unsigned long long)d->entries[i].cursor);
		fp_inode(f, &d->entries[i].attr);
		if (S_ISDIR(d->entries[i].attr.mode)) {
			snprintf(sub, sizeof(sub), "%s/%s", prefix, d->entries[i].name);
			fp_tree(f, d->entries[i].attr.ino, sub);
		}
	}
	free(d);
}

static void fingerprint(struct store *s, char *buf, size_t *ret_len)
{
	struct fp f = { .buf = buf, .len = 0, .s = s };
	struct store_volume volume;
	struct store_attr a;

	ck_assert_int_eq(store_volume_get(s, VOLUME, &volume), 0);
	fp_add(&f, "volume used_bytes=%llu used_inodes=%llu\n", (unsigned long long)volume.used_bytes,
	       (unsigned long long)volume.used_inodes);
	ck_assert_int_eq(store_getattr(s, root_ino, &a), 0);
	fp_add(&f, "/");
	fp_inode(&f, &a);
	fp_tree(&f, root_ino, "");
	for (size_t i = 0; i < shared->nheld; i++) {
		int r = store_getattr(s, shared->held[i], &a);
		fp_add(&f, "held %llu:", (unsigned long long)shared->held[i]);
		if (r == 0)
			fp_inode(&f, &a);
		else
			fp_add(&f, " %s\n", strerror(-r));
	}
	*ret_len = f.len;
}

/* ---- the plans ------------------------------------------------------------ */

/* Each returns 0, or the line that failed (the child's exit status). */
typedef int (*plan_fn)(struct store *s);

#define TRY(call)                           \
	do {                                \
		if ((call) < 0)             \
			return __LINE__ % 200 + 20; \
	} while (0)

static uint64_t ino_of(struct store *s, uint64_t parent, const char *name)
{
	struct store_attr a;

	/* A lookup reference, like the kernel's after a reply. */
	if (store_lookup(s, parent, name, &a) < 0)
		return 0;
	return a.ino;
}

/* The kernel holds ino (a lookup reference) past the end of the plan. */
static void hold(uint64_t ino)
{
	shared->held[shared->nheld++] = ino;
}

static int plan_creates(struct store *s)
{
	const struct store_caller user = { 1000, 1000 };
	struct store_attr a, d;

	TRY(store_mknod(s, root_ino, "new", S_IFREG | 0640, 0, &user, &a));
	TRY(store_write(s, a.ino, 0, "fresh", 5));
	TRY(store_mknod(s, root_ino, "sgid", S_IFDIR | 02775, 0, &user, &d));
	TRY(store_mknod(s, d.ino, "inner", S_IFDIR | 0700, 0, &root, &a)); /* gets sgid and group 1000 */
	TRY(store_mknod(s, d.ino, "fifo", S_IFIFO | 0600, 0, &root, &a));
	TRY(store_mknod(s, d.ino, "dev", S_IFCHR | 0600, 0x0103, &root, &a));
	TRY(store_symlink(s, d.ino, "link", "../new", &user, &a));
	/* A failed creation in between changes nothing. */
	if (store_mknod(s, root_ino, "new", S_IFREG | 0600, 0, &root, &a) != -EEXIST)
		return 10;
	TRY(store_mknod(s, root_ino, "last", 0600, 0, &root, &a));
	return 0;
}

static int plan_links_removes(struct store *s)
{
	struct store_attr a;

	TRY(store_link(s, file_ino, root_ino, "hard", &a));
	TRY(store_mknod(s, root_ino, "d", S_IFDIR | 0755, 0, &root, &a));
	uint64_t d = a.ino;
	TRY(store_mknod(s, d, "x", S_IFREG | 0644, 0, &root, &a));
	TRY(store_link(s, a.ino, root_ino, "x-too", &a));
	TRY(store_unlink(s, root_ino, "x-too"));
	store_forget(s, a.ino, 2); /* the kernel forgot it: its removal deletes it */
	TRY(store_unlink(s, d, "x"));
	store_forget(s, d, 1);
	TRY(store_rmdir(s, root_ino, "d"));
	/* Unlinked while open: kept as an orphan the kernel may still use. */
	TRY(store_mknod(s, root_ino, "open", S_IFREG | 0644, 0, &root, &a));
	TRY(store_write(s, a.ino, 0, "still readable", 14));
	hold(a.ino);
	TRY(store_unlink(s, root_ino, "open"));
	/* Another one the kernel forgets afterwards: it goes then (a release). */
	TRY(store_mknod(s, root_ino, "brief", S_IFREG | 0644, 0, &root, &a));
	TRY(store_write(s, a.ino, 0, "gone soon", 9));
	TRY(store_unlink(s, root_ino, "brief"));
	store_forget(s, a.ino, 1);
	hold(a.ino); /* to see it gone */
	/* The committed file, held and unlinked through its first name. */
	hold(file_ino);
	TRY(ino_of(s, root_ino, "file") ? 0 : -1);
	TRY(store_unlink(s, root_ino, "file"));
	TRY(store_unlink(s, root_ino, "hard")); /* its last name: an orphan */
	return 0;
}

static int plan_renames(struct store *s)
{
	struct store_attr a, d1, d2;

	TRY(store_mknod(s, root_ino, "d1", S_IFDIR | 0755, 0, &root, &d1));
	TRY(store_mknod(s, root_ino, "d2", S_IFDIR | 0755, 0, &root, &d2));
	TRY(store_mknod(s, d1.ino, "a", S_IFREG | 0644, 0, &root, &a));
	TRY(store_write(s, a.ino, 0, "aaa", 3));
	TRY(store_mknod(s, d2.ino, "b", S_IFREG | 0644, 0, &root, &a));
	TRY(store_write(s, a.ino, 0, "bbbb", 4));
	TRY(store_rename(s, root_ino, "file", d1.ino, "moved", 0));
	TRY(store_rename(s, d1.ino, "a", d2.ino, "a2", RENAME_NOREPLACE));
	if (store_rename(s, d2.ino, "a2", d2.ino, "b", RENAME_NOREPLACE) != -EEXIST)
		return 11;
	TRY(store_rename(s, d2.ino, "a2", d1.ino, "moved", RENAME_EXCHANGE));
	/* Over an existing name, held by the kernel: an orphan. */
	uint64_t b = ino_of(s, d2.ino, "b");
	hold(b);
	TRY(store_rename(s, d2.ino, "a2", d2.ino, "b", 0));
	/* A directory moves into another one. */
	TRY(store_mknod(s, d1.ino, "sub", S_IFDIR | 0755, 0, &root, &a));
	TRY(store_rename(s, d1.ino, "sub", d2.ino, "sub", 0));
	TRY(store_rename(s, root_ino, "d1", d2.ino, "sub2", 0));
	return 0;
}

static int plan_fallocate(struct store *s)
{
	static char block[64 << 10];
	struct store_attr a;

	memset(block, 'z', sizeof(block));
	TRY(store_fallocate(s, file_ino, 0, 0, 100000));
	TRY(store_fallocate(s, file_ino, FALLOC_FL_KEEP_SIZE, 100000, 50000));
	TRY(store_write(s, file_ino, 20000, block, sizeof(block)));
	TRY(store_fallocate(s, file_ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 30000, 20000));
	TRY(store_fallocate(s, file_ino, FALLOC_FL_ZERO_RANGE, 70000, 40000));
	/* A punch of 2 MiB of data goes in chunks, each its own operation. */
	TRY(store_mknod(s, root_ino, "big", S_IFREG | 0644, 0, &root, &a));
	for (uint64_t off = 0; off < (2u << 20); off += sizeof(block))
		TRY(store_write(s, a.ino, off, block, sizeof(block)));
	TRY(store_fallocate(s, a.ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, (2u << 20) - 8192));
	return 0;
}

static int plan_xattrs(struct store *s)
{
	TRY(store_setxattr(s, file_ino, "user.a", "one", 3, XATTR_CREATE));
	TRY(store_setxattr(s, file_ino, "user.b", "two", 3, 0));
	TRY(store_setxattr(s, file_ino, "user.a", "uno", 3, XATTR_REPLACE));
	TRY(store_setxattr(s, root_ino, "user.empty", "", 0, 0));
	TRY(store_removexattr(s, file_ino, "user.b"));
	return 0;
}

/* Big files: a truncate and a deletion each go a chunk per operation. The
 * data is committed first (a batch commits past 4 MiB of writes). */
static int plan_big(struct store *s)
{
	static char block[256 << 10];
	struct store_attr a, b;

	memset(block, 'q', sizeof(block));
	TRY(store_mknod(s, root_ino, "shrink", S_IFREG | 0644, 0, &root, &a));
	TRY(store_mknod(s, root_ino, "delete", S_IFREG | 0644, 0, &root, &b));
	for (uint64_t off = 0; off < BIG; off += sizeof(block)) {
		TRY(store_write(s, a.ino, off, block, sizeof(block)));
		TRY(store_write(s, b.ino, off, block, sizeof(block)));
	}
	TRY(store_sync(s, false));
	store_forget(s, a.ino, 1);
	store_forget(s, b.ino, 1);
	struct store_setattr_request req = { .flags = STORE_SET_SIZE, .size = 1000 };
	TRY(store_setattr(s, a.ino, &req, &a));
	TRY(store_unlink(s, root_ino, "delete"));
	return 0;
}

/* The caller's membership of any group: *ud. */
static bool in_group_answer(void *ud, uint32_t gid)
{
	(void)gid;
	return *(const bool *)ud;
}

/* Writes and setattrs by callers without CAP_FSETID: what they drop
 * depends on the caller's groups, which the replay does not have. */
static int plan_kill(struct store *s)
{
	static bool yes = true, no = false;
	const struct store_kill_suidgid member = { .in_group = in_group_answer, .ud = &yes },
					stranger = { .in_group = in_group_answer, .ud = &no };
	struct store_attr a;

	TRY(store_mknod(s, root_ino, "member", S_IFREG | 06644, 0, &root, &a));
	TRY(store_write_kill(s, a.ino, 0, "m", 1, &member)); /* keeps S_ISGID */
	TRY(store_mknod(s, root_ino, "stranger", S_IFREG | 06644, 0, &root, &a));
	TRY(store_write_kill(s, a.ino, 0, "s", 1, &stranger)); /* drops both */
	struct store_setattr_request req = { .flags = STORE_SET_MODE, .mode = 06644 };
	TRY(store_setattr(s, file_ino, &req, &a));
	req = (struct store_setattr_request){ .flags = STORE_SET_SIZE | STORE_SET_MTIME_NOW, .size = 4,
					      .kill = &member };
	TRY(store_setattr(s, file_ino, &req, &a));
	return 0;
}

/* Writes and setattrs (truncate, chmod, utimes) of the committed file. */
static int plan_writes_setattrs(struct store *s)
{
	struct store_attr a;

	TRY(store_write(s, file_ino, 0, "hello", 5));
	TRY(store_write(s, file_ino, 100, "world", 5));
	struct store_setattr_request req = { .flags = STORE_SET_SIZE | STORE_SET_MTIME_NOW, .size = 103 };
	TRY(store_setattr(s, file_ino, &req, &a));
	req = (struct store_setattr_request){ .flags = STORE_SET_MODE | STORE_SET_ATIME, .mode = 0600,
					      .atime = { 12345, 678 } };
	TRY(store_setattr(s, file_ino, &req, &a));
	return 0;
}

/* A change the log does not describe: a volume made by the API. */
static int plan_undescribed(struct store *s)
{
	struct store_volume volume;

	TRY(store_write(s, file_ino, 0, "world", 5));
	TRY(store_volume_create(s, "pvc-other", 1 << 20, 0755, &volume));
	return 0;
}

static int child_log_fd;

/* A write, then the child commits and hands the parent the log as it was
 * before the commit emptied it (a death between the two). */
static int plan_commit(struct store *s)
{
	TRY(store_write(s, file_ino, 0, "hello", 5));
	void *raw = mmap(NULL, sizeof(shared->fingerprint), PROT_READ, MAP_SHARED, child_log_fd, 0);
	if (raw == MAP_FAILED)
		return 12;
	memcpy(shared->fingerprint, raw, sizeof(shared->fingerprint));
	munmap(raw, sizeof(shared->fingerprint));
	TRY(store_sync(s, false));
	return 0;
}

/* ---- the death and the replay ------------------------------------------- */

static void child_run(int log_fd, plan_fn plan)
{
	struct redo_log *log;
	struct store *s;
	size_t replayed;

	if (store_open(path, 0, &s) < 0 || redo_log_open(log_fd, &log) < 0 || store_redo_attach(s, log, &replayed) < 0)
		_exit(2);
	int r = plan(s);
	if (r != 0)
		_exit(r);
	if (plan != plan_commit)
		fingerprint(s, shared->fingerprint, &shared->len);
	_exit(0); /* the death: no store_close, no commit */
}

/* Run plan in a child that dies without committing. */
static void child(int log_fd, plan_fn plan)
{
	int status;

	shared->nheld = 0;
	shared->len = 0;
	child_log_fd = log_fd;
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_run(log_fd, plan);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

static void open_with_log(int log_fd, struct store **ret_s, struct redo_log **ret_log)
{
	ck_assert_int_eq(store_open(path, 0, ret_s), 0);
	ck_assert_int_eq(redo_log_open(log_fd, ret_log), 0);
}

/* The fingerprints are equal; if not, both go to the log whole. */
static void expect_same(const char *seen, const char *want)
{
	if (strcmp(seen, want) != 0)
		fprintf(stderr, "# the child saw:\n%s# after the replay:\n%s", want, seen);
	ck_assert_str_eq(seen, want);
}

/* The child's plan, replayed: the parent sees what the child saw, and
 * still after a reopen (committed); held orphans go when forgotten. */
static void expect_replayed(plan_fn plan)
{
	static char seen[FINGERPRINT_MAX];
	int log_fd = redo_log_create();
	struct redo_log *log;
	struct store *s;
	size_t replayed = 0, len = 0;

	ck_assert_int_ge(log_fd, 0);
	child(log_fd, plan);
	/* As a worker does: the kernel may still hold files unlinked while open. */
	ck_assert_int_eq(store_open(path, STORE_OPEN_KEEP_ORPHANS | STORE_OPEN_ADOPT_ORPHANS, &s), 0);
	ck_assert_int_eq(redo_log_open(log_fd, &log), 0);
	ck_assert(redo_log_armed(log)); /* the child logged into it */
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_gt(replayed, 0);
	fingerprint(s, seen, &len);
	expect_same(seen, shared->fingerprint);
	store_close(s);
	redo_log_close(log);
	/* Committed: the next start replays nothing and sees the same. */
	ck_assert_int_eq(store_open(path, STORE_OPEN_KEEP_ORPHANS | STORE_OPEN_ADOPT_ORPHANS, &s), 0);
	ck_assert_int_eq(redo_log_open(log_fd, &log), 0);
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_eq(replayed, 0);
	fingerprint(s, seen, &len);
	expect_same(seen, shared->fingerprint);
	/* The orphans the child's kernel held wait for it to forget them. */
	for (size_t i = 0; i < shared->nheld; i++) {
		struct store_attr a;
		if (store_getattr(s, shared->held[i], &a) == 0 && a.nlink == 0) {
			store_forget(s, shared->held[i], 1);
			ck_assert_int_eq(store_getattr(s, shared->held[i], &a), -ENOENT);
		}
	}
	store_close(s);
	redo_log_close(log);
	close(log_fd);
}

START_TEST(test_writes_setattrs)
{
	expect_replayed(plan_writes_setattrs);
}
END_TEST

START_TEST(test_creates)
{
	expect_replayed(plan_creates);
}
END_TEST

START_TEST(test_links_removes_orphans)
{
	expect_replayed(plan_links_removes);
}
END_TEST

START_TEST(test_renames)
{
	expect_replayed(plan_renames);
}
END_TEST

START_TEST(test_fallocate)
{
	expect_replayed(plan_fallocate);
}
END_TEST

START_TEST(test_xattrs)
{
	expect_replayed(plan_xattrs);
}
END_TEST

START_TEST(test_big_truncate_and_delete)
{
	expect_replayed(plan_big);
}
END_TEST

START_TEST(test_kill_outcome)
{
	expect_replayed(plan_kill);
}
END_TEST

START_TEST(test_sealed_batch_not_replayed)
{
	int log_fd = redo_log_create();
	struct redo_log *log;
	struct store *s;
	size_t replayed = 99;
	char buf[16];

	ck_assert_int_ge(log_fd, 0);
	child(log_fd, plan_commit);
	/* The child died after its COMMIT, before emptying the log. */
	ck_assert_int_eq(pwrite(log_fd, shared->fingerprint, sizeof(shared->fingerprint), 0),
			 (ssize_t)sizeof(shared->fingerprint));
	open_with_log(log_fd, &s, &log);
	size_t cursor = 0;
	struct redo_record rec;
	ck_assert_int_eq(redo_log_next(log, &cursor, &rec), 1); /* the record is there */
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_eq(replayed, 0); /* ... and its batch is sealed */
	ck_assert_int_eq(store_read(s, file_ino, 0, sizeof(buf), buf), 9);
	ck_assert(memcmp(buf, "hellotted", 9) == 0);
	store_close(s);
	redo_log_close(log);
	close(log_fd);
}
END_TEST

/* Attach after a child of plan (whose log damage changes): the replay is
 * declined and the file is as committed. */
static void expect_declined(plan_fn plan, void (*damage)(int log_fd))
{
	int log_fd = redo_log_create();
	struct redo_log *log;
	struct store_attr attr;
	struct store *s;
	size_t replayed = 99;
	char buf[16];

	ck_assert_int_ge(log_fd, 0);
	child(log_fd, plan);
	if (damage)
		damage(log_fd);
	open_with_log(log_fd, &s, &log);
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), -EBADMSG);
	ck_assert_uint_eq(replayed, 99); /* untouched on failure */
	ck_assert_int_eq(store_getattr(s, file_ino, &attr), 0);
	ck_assert_uint_eq(attr.size, 9);
	ck_assert_int_eq(store_read(s, file_ino, 0, sizeof(buf), buf), 9);
	ck_assert(memcmp(buf, "committed", 9) == 0);
	/* the log is attached and empty: new writes are logged from here */
	size_t cursor = 0;
	struct redo_record rec;
	ck_assert_int_eq(redo_log_next(log, &cursor, &rec), 0);
	ck_assert_int_eq(store_write(s, file_ino, 0, "x", 1), 1);
	ck_assert_int_eq(redo_log_next(log, &cursor, &rec), 1);
	store_close(s);
	redo_log_close(log);
	close(log_fd);
}

static void damage_world(int log_fd)
{
	size_t size = 1 << 16;
	char *raw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, log_fd, 0);
	ck_assert_ptr_ne(raw, MAP_FAILED);
	char *hit = memmem(raw, size, "world", 5);
	ck_assert_ptr_nonnull(hit);
	hit[0] = 'W';
	munmap(raw, size);
}

/* A record of the layout before this one (version 1 of the write record),
 * as a worker of the previous binary would have left it. */
static void older_binary_record(int log_fd)
{
	struct redo_log *log;
	struct {
		uint64_t ino, offset;
		int64_t mtime_ns;
	} head = { file_ino, 0, 0 };
	struct iovec parts[2] = { { &head, sizeof(head) }, { "older", 5 } };

	ck_assert_int_eq(redo_log_open(log_fd, &log), 0);
	redo_log_reset(log);
	ck_assert(redo_log_append(log, UINT64_MAX / 2, (1u << 16) | 1, parts, 2));
	redo_log_close(log);
}

START_TEST(test_undescribed_change_declines_batch)
{
	expect_declined(plan_undescribed, NULL);
}
END_TEST

START_TEST(test_damaged_record_declines_batch)
{
	expect_declined(plan_writes_setattrs, damage_world);
}
END_TEST

START_TEST(test_older_binary_record_declined)
{
	expect_declined(plan_xattrs, older_binary_record);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");

	tcase_add_unchecked_fixture(tc, template_setup, template_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_writes_setattrs);
	tcase_add_test(tc, test_creates);
	tcase_add_test(tc, test_links_removes_orphans);
	tcase_add_test(tc, test_renames);
	tcase_add_test(tc, test_fallocate);
	tcase_add_test(tc, test_xattrs);
	tcase_add_test(tc, test_big_truncate_and_delete);
	tcase_add_test(tc, test_kill_outcome);
	tcase_add_test(tc, test_sealed_batch_not_replayed);
	tcase_add_test(tc, test_undescribed_change_declines_batch);
	tcase_add_test(tc, test_damaged_record_declines_batch);
	tcase_add_test(tc, test_older_binary_record_declined);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(replay_suite());
}
