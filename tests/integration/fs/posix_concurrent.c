/*
 * posix_concurrent.c — several processes at once on one claim (the daemon
 * runs a multi-threaded FUSE session): creates/renames/unlinks in one
 * shared directory, O_APPEND records into one file, and disjoint pwrites
 * into one file.  Every child reports its first failing errno as its exit
 * status; the parent then checks the combined result exactly.
 */
#include "posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CONC_CHILDREN = 4, CONC_FILES = 300, CONC_RECORDS = 500, CONC_RECORD = 100 };

typedef int (*child_fn)(int k);

/* Run FN(k) in CONC_CHILDREN processes; return how many failed (diagnosed). */
static int run_children(child_fn fn, const char *what)
{
	pid_t pids[CONC_CHILDREN];
	int failed = 0;

	fflush(stdout);
	for (int k = 0; k < CONC_CHILDREN; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			int r = fn(k);
			_exit(r < 0 ? (-r > 250 ? 250 : -r) : 0);
		}
	}
	for (int k = 0; k < CONC_CHILDREN; k++) {
		int status = 0;

		if (pids[k] < 0 || waitpid(pids[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			failed++;
			tap_diag("%s: child %d failed with %s", what, k,
				 pids[k] > 0 && WIFEXITED(status) ? errno_name(WEXITSTATUS(status))
								   : "a crash or fork error");
		}
	}
	return failed;
}

/* Child K: create, write, rename, and delete every third of its files; mkdir/rmdir churn. */
static int child_names(int k)
{
	unsigned char buf[1024];

	for (int i = 0; i < CONC_FILES; i++) {
		char tmp[64], done[64];
		int fd, r;

		snprintf(tmp, sizeof(tmp), "cc/c%d-%d.tmp", k, i);
		snprintf(done, sizeof(done), "cc/c%d-%d", k, i);
		fd = open(wp("%s", tmp), O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return -errno;
		pattern_fill(buf, sizeof(buf), 0, (uint32_t)(k * 1000 + i));
		r = write_all(fd, buf, sizeof(buf), 0);
		if (close(fd) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			return r;
		if (rename(wp("%s", tmp), wp("%s", done)) < 0)
			return -errno;
		if (i % 3 == 2 && unlink(wp("cc/c%d-%d", k, i - 1)) < 0)
			return -errno;
		if (mkdir(wp("cc/d%d", k), 0755) < 0 || rmdir(wp("cc/d%d", k)) < 0)
			return -errno;
	}
	return 0;
}

/* Child K: append CONC_RECORDS records of CONC_RECORD bytes. */
static int child_append(int k)
{
	int fd = open(wp("cc-append"), O_WRONLY | O_APPEND);

	if (fd < 0)
		return -errno;
	for (int i = 0; i < CONC_RECORDS; i++) {
		char rec[CONC_RECORD];

		memset(rec, 'a' + k, sizeof(rec));
		snprintf(rec, sizeof(rec), "%d:%05d:", k, i);
		rec[strlen(rec)] = 'a' + k;
		rec[CONC_RECORD - 1] = '\n';
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
			int err = errno ? errno : EIO;
			close(fd);
			return -err;
		}
	}
	return close(fd) < 0 ? -errno : 0;
}

/* Child K: fill its own 1 MiB region of a shared file in random-sized pieces. */
static int child_regions(int k)
{
	unsigned char *buf = malloc((size_t)MiB);
	uint64_t rng = 0x1234 + (uint64_t)k;
	int64_t base = k * MiB, done = 0;
	int fd = open(wp("cc-regions"), O_WRONLY), r = 0;

	if (!buf || fd < 0) {
		r = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	pattern_fill(buf, (size_t)MiB, base, 200);
	while (done < MiB && r == 0) {
		int64_t len = 1 + (int64_t)(rng_next(&rng) % (100 * 1024));

		if (len > MiB - done)
			len = MiB - done;
		r = write_all(fd, buf + done, (size_t)len, base + done);
		done += len;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

/* Check the shared directory holds exactly the files the children left, intact. */
static void check_names(void)
{
	int present = 0, strays = 0, bad = 0, expected = 0;
	DIR *d = opendir(wp("cc"));

	for (struct dirent *e; d && (e = readdir(d));) {
		int k, i;
		char tail;

		if (e->d_name[0] == '.')
			continue;
		if (sscanf(e->d_name, "c%d-%d%c", &k, &i, &tail) != 2 || k < 0 || k >= CONC_CHILDREN ||
		    i < 0 || i >= CONC_FILES || (i % 3 == 1 && i + 1 < CONC_FILES)) {
			strays++;
			tap_diag("unexpected entry %s", e->d_name);
			continue;
		}
		present++;
		if (verify_file(wp("cc/%s", e->d_name), 1024, (uint32_t)(k * 1000 + i)) < 0)
			bad++;
	}
	if (d)
		closedir(d);
	for (int i = 0; i < CONC_FILES; i++)
		expected += !(i % 3 == 1 && i + 1 < CONC_FILES);
	expect_eq(present, expected * CONC_CHILDREN, "every file the children kept is listed once");
	expect_eq(strays, 0, "no temporary, deleted or duplicate names remain");
	expect_eq(bad, 0, "every kept file has its own content");
}

/* Check the appended file: every record whole, each child's records in order. */
static void check_append(void)
{
	int next[CONC_CHILDREN] = { 0 }, torn = 0;
	char rec[CONC_RECORD + 1];
	struct stat st;
	int fd = open(wp("cc-append"), O_RDONLY);

	expect_ok(fstat(fd, &st), "fstat the appended file");
	expect_eq(st.st_size, (long long)CONC_CHILDREN * CONC_RECORDS * CONC_RECORD,
		  "concurrent O_APPEND writes: size is the sum of all records");
	for (int64_t off = 0; fd >= 0 && off + CONC_RECORD <= st.st_size; off += CONC_RECORD) {
		int k, i;

		if (read_all(fd, rec, CONC_RECORD, off) < 0 || sscanf(rec, "%d:%d:", &k, &i) != 2 ||
		    k < 0 || k >= CONC_CHILDREN || i != next[k] || rec[CONC_RECORD - 1] != '\n' ||
		    rec[CONC_RECORD - 2] != 'a' + k) {
			torn++;
			continue;
		}
		next[k]++;
	}
	if (fd >= 0)
		close(fd);
	expect_eq(torn, 0, "no appended record is torn, lost or out of order");
}

/* Several processes at once; see the file comment. */
void posix_concurrency(void)
{
	tap_section("concurrent processes");
	expect_ok(mkdir(wp("cc"), 0755), "mkdir shared directory");
	expect_eq(run_children(child_names, "names"), 0,
		  "4 processes create/rename/unlink/mkdir/rmdir in one directory");
	check_names();
	expect_ok(posix_remove_tree(wp("cc")), "remove the shared directory");

	expect_ok(write_file(wp("cc-append"), 0644, 0, 0), "create the shared append file");
	expect_eq(run_children(child_append, "append"), 0, "4 processes append 500 records each");
	check_append();
	unlink(wp("cc-append"));

	expect_ok(write_file(wp("cc-regions"), 0644, 0, 0), "create the shared region file");
	expect_eq(run_children(child_regions, "regions"), 0,
		  "4 processes pwrite disjoint 1 MiB regions of one file");
	expect_ok(verify_file(wp("cc-regions"), 4 * MiB, 200), "the shared file holds every region");
	unlink(wp("cc-regions"));
}
