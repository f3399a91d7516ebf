/*
 * test_replay.c — the store's redo log across a process death: a child
 * process opens the store, attaches the log, writes without committing and
 * dies (_exit, no commit: SQLite rolls its batch back); the parent reopens
 * the store and attaches the same log. Checked: the writes come back with
 * the bytes and mtime the child saw, truncates, chmod and utimes with the
 * attributes and times it saw; a batch sealed by its commit is not
 * replayed again (a death between COMMIT and emptying the log); a batch
 * with a change the log does not describe, or a damaged record, is declined
 * whole (-EBADMSG) and nothing of it applied.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "redo_log.h"
#include "store.h"
#include "unit.h"

static char dir[64];
static char path[128];
static uint64_t file_ino, dir_ino;

/* A store with one committed empty file (file_ino) in a fresh directory. */
static void setup(void)
{
	const struct store_caller root = { 0, 0 };
	struct store_volume volume;
	struct store_attr attr;
	struct store *s;

	snprintf(dir, sizeof(dir), "/tmp/claimfs-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
	ck_assert_int_eq(store_open(path, 0, &s), 0);
	ck_assert_int_eq(store_volume_create(s, "pvc-redo", 1 << 20, 0777, &volume), 0);
	ck_assert_int_eq(store_mknod(s, volume.root_ino, "file", S_IFREG | 0644, 0, &root, &attr), 0);
	file_ino = attr.ino;
	dir_ino = volume.root_ino;
	store_close(s);
}

static void teardown(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char file[160];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		unlink(file);
	}
	rmdir(dir);
}

enum child_plan {
	CHILD_WRITES, /* two writes, then die */
	CHILD_COMMITS, /* a write, commit, and hand the parent the log as it was before */
	CHILD_CREATES, /* a write and a create, then die */
	CHILD_SETATTRS, /* a write, a truncate, a chmod and utimes, then die */
};

/* The child's life: open, attach log_fd, act, die without committing
 * (except CHILD_COMMITS). Reports the file's mtime on out_fd. */
static void child_run(int log_fd, enum child_plan plan, int out_fd, void *saved)
{
	const struct store_caller root = { 0, 0 };
	struct redo_log *log;
	struct store_attr attr;
	struct store *s;
	size_t replayed;

	if (store_open(path, 0, &s) < 0 || redo_log_open(log_fd, &log) < 0 ||
	    store_redo_attach(s, log, &replayed) < 0 || store_write(s, file_ino, 0, "hello", 5) != 5)
		_exit(2);
	if (plan == CHILD_WRITES && store_write(s, file_ino, 100, "world", 5) != 5)
		_exit(3);
	if (plan == CHILD_CREATES && store_mknod(s, dir_ino, "new", S_IFREG | 0644, 0, &root, &attr) < 0)
		_exit(4);
	if (plan == CHILD_SETATTRS) {
		struct store_setattr_request req = { .flags = STORE_SET_SIZE | STORE_SET_MTIME_NOW, .size = 3 };
		if (store_setattr(s, file_ino, &req, &attr) < 0)
			_exit(7);
		req = (struct store_setattr_request){ .flags = STORE_SET_MODE | STORE_SET_ATIME, .mode = 0600,
						      .atime = { 12345, 678 } };
		if (store_setattr(s, file_ino, &req, &attr) < 0)
			_exit(8);
	}
	if (store_getattr(s, file_ino, &attr) < 0 || write(out_fd, &attr.mtime, sizeof(attr.mtime)) < 0 ||
	    write(out_fd, &attr.ctime, sizeof(attr.ctime)) < 0)
		_exit(5);
	if (plan == CHILD_COMMITS) {
		memcpy(saved, mmap(NULL, 1 << 16, PROT_READ, MAP_SHARED, log_fd, 0), 1 << 16);
		if (store_sync(s, false) < 0)
			_exit(6);
	}
	_exit(0); /* the death: no store_close, no commit */
}

static struct timespec child_ctime;

/* Run the child; its reported mtime (and ctime in child_ctime). */
static struct timespec child(int log_fd, enum child_plan plan, void *saved)
{
	struct timespec mtime = { 0 };
	int status, fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_run(log_fd, plan, fds[1], saved);
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(read(fds[0], &mtime, sizeof(mtime)), (ssize_t)sizeof(mtime));
	ck_assert_int_eq(read(fds[0], &child_ctime, sizeof(child_ctime)), (ssize_t)sizeof(child_ctime));
	close(fds[0]);
	return mtime;
}

static void open_with_log(int log_fd, struct store **ret_s, struct redo_log **ret_log)
{
	ck_assert_int_eq(store_open(path, 0, ret_s), 0);
	ck_assert_int_eq(redo_log_open(log_fd, ret_log), 0);
}

START_TEST(test_writes_replayed_exactly)
{
	int log_fd = redo_log_create();
	struct redo_log *log;
	struct store_attr attr;
	struct store *s;
	size_t replayed = 0;
	char buf[110] = { 0 };

	ck_assert_int_ge(log_fd, 0);
	struct timespec mtime = child(log_fd, CHILD_WRITES, NULL);
	open_with_log(log_fd, &s, &log);
	ck_assert_int_eq(store_getattr(s, file_ino, &attr), 0);
	ck_assert_uint_eq(attr.size, 0); /* SQLite rolled the batch back */
	ck_assert(redo_log_armed(log)); /* the child logged into it */
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_eq(replayed, 2);
	ck_assert_int_eq(store_read(s, file_ino, 0, sizeof(buf), buf), 105);
	ck_assert(memcmp(buf, "hello", 5) == 0 && memcmp(buf + 100, "world", 5) == 0);
	ck_assert_int_eq(store_getattr(s, file_ino, &attr), 0);
	ck_assert_int_eq(attr.mtime.tv_sec, mtime.tv_sec);
	ck_assert_int_eq(attr.mtime.tv_nsec, mtime.tv_nsec);
	store_close(s);
	redo_log_close(log);
	/* committed now: a second attach finds nothing to replay */
	open_with_log(log_fd, &s, &log);
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_eq(replayed, 0);
	store_close(s);
	redo_log_close(log);
	close(log_fd);
}
END_TEST

START_TEST(test_setattrs_replayed_exactly)
{
	int log_fd = redo_log_create();
	struct redo_log *log;
	struct store_attr attr;
	struct store *s;
	size_t replayed = 0;
	char buf[16] = { 0 };

	ck_assert_int_ge(log_fd, 0);
	struct timespec mtime = child(log_fd, CHILD_SETATTRS, NULL);
	open_with_log(log_fd, &s, &log);
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_eq(replayed, 3);
	ck_assert_int_eq(store_getattr(s, file_ino, &attr), 0);
	ck_assert_uint_eq(attr.size, 3);
	ck_assert_int_eq(store_read(s, file_ino, 0, sizeof(buf), buf), 3);
	ck_assert(memcmp(buf, "hel", 3) == 0);
	ck_assert_uint_eq(attr.mode & 07777, 0600);
	ck_assert_int_eq(attr.atime.tv_sec, 12345);
	ck_assert_int_eq(attr.mtime.tv_sec, mtime.tv_sec);
	ck_assert_int_eq(attr.mtime.tv_nsec, mtime.tv_nsec);
	ck_assert_int_eq(attr.ctime.tv_sec, child_ctime.tv_sec);
	ck_assert_int_eq(attr.ctime.tv_nsec, child_ctime.tv_nsec);
	store_close(s);
	redo_log_close(log);
	close(log_fd);
}
END_TEST

START_TEST(test_sealed_batch_not_replayed)
{
	int log_fd = redo_log_create();
	char *saved = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct redo_log *log;
	struct store *s;
	size_t replayed = 99;

	ck_assert_int_ge(log_fd, 0);
	ck_assert_ptr_ne(saved, MAP_FAILED);
	child(log_fd, CHILD_COMMITS, saved);
	/* The child died after its COMMIT, before emptying the log. */
	ck_assert_int_eq(pwrite(log_fd, saved, 1 << 16, 0), 1 << 16);
	open_with_log(log_fd, &s, &log);
	size_t cursor = 0;
	struct redo_record rec;
	ck_assert_int_eq(redo_log_next(log, &cursor, &rec), 1); /* the record is there */
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), 0);
	ck_assert_uint_eq(replayed, 0); /* ... and its batch is sealed */
	store_close(s);
	redo_log_close(log);
	close(log_fd);
	munmap(saved, 1 << 16);
}
END_TEST

/* Attach after a child of plan whose log damage() changes; the replay is
 * declined and the file is as committed (empty). */
static void expect_declined(enum child_plan plan, bool damage)
{
	int log_fd = redo_log_create();
	struct redo_log *log;
	struct store_attr attr;
	struct store *s;
	size_t replayed = 99;

	ck_assert_int_ge(log_fd, 0);
	child(log_fd, plan, NULL);
	if (damage) {
		size_t size = 1 << 16;
		char *raw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, log_fd, 0);
		ck_assert_ptr_ne(raw, MAP_FAILED);
		char *hit = memmem(raw, size, "world", 5);
		ck_assert_ptr_nonnull(hit);
		hit[0] = 'W';
		munmap(raw, size);
	}
	open_with_log(log_fd, &s, &log);
	ck_assert_int_eq(store_redo_attach(s, log, &replayed), -EBADMSG);
	ck_assert_uint_eq(replayed, 99); /* untouched on failure */
	ck_assert_int_eq(store_getattr(s, file_ino, &attr), 0);
	ck_assert_uint_eq(attr.size, 0);
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

START_TEST(test_undescribed_change_declines_batch)
{
	expect_declined(CHILD_CREATES, false);
}
END_TEST

START_TEST(test_damaged_record_declines_batch)
{
	expect_declined(CHILD_WRITES, true);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_writes_replayed_exactly);
	tcase_add_test(tc, test_setattrs_replayed_exactly);
	tcase_add_test(tc, test_sealed_batch_not_replayed);
	tcase_add_test(tc, test_undescribed_change_declines_batch);
	tcase_add_test(tc, test_damaged_record_declines_batch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(replay_suite());
}
