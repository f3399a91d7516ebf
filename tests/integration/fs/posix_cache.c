/*
 * posix_cache.c — behaviour that only shows once the kernel forgets inodes:
 * after /proc/sys/vm/drop_caches the kernel sends FORGET for every inode it
 * let go, and later lookups must find the same inodes again (lookup counts
 * exact, no inode freed while still open or still linked).  Also many open
 * files at once, and ctime on xattr changes.
 */
#include "posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Ask the kernel to drop dentries and inodes (and page cache): FORGETs follow. */
static bool drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	bool ok;

	sync();
	if (fd < 0)
		return false;
	ok = write(fd, "3", 1) == 1;
	close(fd);
	return ok;
}

/* Stat N files named prefix<i>; return how many were missing or had the wrong inode. */
static int stat_all(int n, const ino_t *inos)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct stat st;

		if (lstat(wp("fc/f%d", i), &st) < 0 || (inos && st.st_ino != inos[i]))
			bad++;
	}
	return bad;
}

/* Inodes survive the kernel forgetting them; open and unlinked files stay usable. */
void posix_cache(void)
{
	enum { N = 2000, OPEN = 500 };
	ino_t *inos = calloc(N, sizeof(*inos));
	int *fds = calloc(OPEN, sizeof(*fds));
	unsigned char buf[4096], want[4096];
	struct stat st, before;
	bool ok = true;
	int fd;

	tap_section("kernel cache eviction (FORGET)");
	if (!inos || !fds || !drop_caches()) {
		tap_skip("cannot write /proc/sys/vm/drop_caches", "inodes survive FORGET");
		goto out;
	}
	expect_ok(mkdir(wp("fc"), 0755), "mkdir for cache tests");
	for (int i = 0; i < N && ok; i++) {
		fd = open(wp("fc/f%d", i), O_CREAT | O_WRONLY | O_EXCL, 0644);
		ok = fd >= 0 && fstat(fd, &st) == 0;
		if (ok)
			inos[i] = st.st_ino;
		if (fd >= 0)
			close(fd);
	}
	expect_true(ok, "create 2000 files");
	expect_true(drop_caches(), "drop kernel caches (FORGET every inode)");
	expect_eq(stat_all(N, inos), 0, "every file found again with the same inode after FORGET");
	DIR *d = opendir(wp("fc"));
	int listed = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		listed += e->d_name[0] != '.';
	if (d)
		closedir(d);
	expect_eq(listed, N, "readdir lists all 2000 after FORGET");
	expect_true(drop_caches(), "drop caches after readdir (readdirplus lookups forgotten)");
	expect_eq(stat_all(N, inos), 0, "files still found after readdirplus + FORGET");
	expect_ok(posix_remove_tree(wp("fc")), "remove 2000 files");

	/* An open, unlinked file and a hard-linked file across FORGET. */
	expect_ok(write_file(wp("keep-a"), 0644, 4096, 120), "create file a");
	expect_ok(link(wp("keep-a"), wp("keep-b")), "link b to a");
	fd = open(wp("keep-a"), O_RDWR);
	expect_ok(unlink(wp("keep-a")), "unlink a while open");
	expect_true(drop_caches(), "drop caches with the file open");
	pattern_fill(want, sizeof(want), 0, 120);
	expect_true(fd >= 0 && pread(fd, buf, sizeof(buf), 0) == 4096 && memcmp(buf, want, 4096) == 0,
		    "open fd still reads after FORGET of its name");
	expect_ok(verify_file(wp("keep-b"), 4096, 120), "the other hard link still reads after FORGET");
	expect_eq(lstat_e(wp("keep-b"), &st) == 0 ? (long long)st.st_nlink : -1, 1, "nlink is 1");
	if (fd >= 0)
		close(fd);
	expect_true(drop_caches(), "drop caches after the last close");
	expect_ok(verify_file(wp("keep-b"), 4096, 120), "remaining link intact");
	unlink(wp("keep-b"));

	/* Many files open at once. */
	ok = true;
	for (int i = 0; i < OPEN; i++)
		fds[i] = -1;
	for (int i = 0; i < OPEN && ok; i++) {
		fds[i] = open(wp("open%d", i), O_RDWR | O_CREAT | O_TRUNC, 0644);
		ok = fds[i] >= 0 && pwrite(fds[i], &i, sizeof(i), 0) == (ssize_t)sizeof(i);
	}
	expect_true(ok, "500 files open and written at once");
	for (int i = 0; i < OPEN && ok; i++) {
		int v = -1;
		ok = pread(fds[i], &v, sizeof(v), 0) == (ssize_t)sizeof(v) && v == i;
	}
	expect_true(ok, "each of the 500 open files reads its own data");
	for (int i = 0; i < OPEN; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		unlink(wp("open%d", i));
	}

	/* setxattr and removexattr are inode changes: ctime moves (ext4 does this). */
	expect_ok(write_file(wp("xc"), 0644, 1, 0), "file for xattr ctime");
	expect_ok(lstat(wp("xc"), &before), "stat before setxattr");
	sleep_ms(30);
	expect_ok(setxattr(wp("xc"), "user.t", "1", 1, 0), "setxattr");
	expect_ok(lstat(wp("xc"), &st), "stat after setxattr");
	expect_true(st.st_ctim.tv_sec > before.st_ctim.tv_sec ||
			    (st.st_ctim.tv_sec == before.st_ctim.tv_sec &&
			     st.st_ctim.tv_nsec > before.st_ctim.tv_nsec),
		    "setxattr changes ctime");
	unlink(wp("xc"));
out:
	free(inos);
	free(fds);
}
