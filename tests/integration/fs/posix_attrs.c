/*
 * posix_attrs.c — inode attributes: chmod, chown (and the set-id bits it
 * clears), utimensat with nanoseconds, UTIME_NOW and UTIME_OMIT, ctime
 * updates, and user.* extended attributes with XATTR_CREATE/XATTR_REPLACE.
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* True if A is strictly later than B. */
static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* Check one timestamp equals an expected value exactly. */
static void expect_ts(struct timespec got, struct timespec want, const char *desc)
{
	if (!tap_ok(got.tv_sec == want.tv_sec && got.tv_nsec == want.tv_nsec, "%s", desc))
		tap_diag("expected %lld.%09ld got %lld.%09ld", (long long)want.tv_sec, want.tv_nsec,
			 (long long)got.tv_sec, got.tv_nsec);
}

/* chmod/chown and ctime. */
static void attrs_mode_owner(void)
{
	struct stat st, before;

	expect_ok(write_file(wp("a"), 0644, 10, 1), "create file for chmod");
	expect_ok(stat(wp("a"), &before), "stat before chmod");
	sleep_ms(30);
	expect_ok(chmod(wp("a"), 0600), "chmod 0600");
	expect_ok(stat(wp("a"), &st), "stat after chmod");
	expect_eq(st.st_mode & 07777, 0600, "mode is 0600");
	expect_true(ts_after(st.st_ctim, before.st_ctim), "ctime changes on chmod");
	expect_ok(chmod(wp("a"), 07777), "chmod 07777");
	expect_ok(stat(wp("a"), &st), "stat after chmod 07777");
	expect_eq(st.st_mode, S_IFREG | 07777, "mode is 07777 with the file type kept");

	expect_ok(stat(wp("a"), &before), "stat before chown");
	sleep_ms(30);
	expect_ok(chown(wp("a"), 1234, 5678), "chown 1234:5678");
	expect_ok(stat(wp("a"), &st), "stat after chown");
	expect_eq(st.st_uid, 1234, "uid is 1234");
	expect_eq(st.st_gid, 5678, "gid is 5678");
	expect_true(ts_after(st.st_ctim, before.st_ctim), "ctime changes on chown");
	expect_eq(st.st_mode & (S_ISUID | S_ISGID), 0,
		  "chown clears setuid and setgid (group-executable) like ext4");
	expect_ok(chown(wp("a"), (uid_t)-1, 42), "chown -1:42");
	expect_ok(stat(wp("a"), &st), "stat after chown -1:42");
	expect_eq(st.st_uid, 1234, "chown -1 keeps the uid");
	expect_eq(st.st_gid, 42, "gid is 42");
	expect_ok(chown(wp("a"), 0, 0), "chown back to root");

	expect_ok(symlink("a", wp("alink")), "create symlink for lchown");
	expect_ok(lchown(wp("alink"), 4321, 8765), "lchown symlink");
	expect_ok(lstat(wp("alink"), &st), "lstat symlink");
	expect_eq(st.st_uid, 4321, "lchown changed the link's uid");
	expect_ok(stat(wp("a"), &st), "stat symlink target");
	expect_eq(st.st_uid, 0, "lchown left the target's uid alone");

	expect_ok(stat(wp("a"), &before), "stat before link");
	sleep_ms(30);
	expect_ok(link(wp("a"), wp("a2")), "link for ctime");
	expect_ok(stat(wp("a"), &st), "stat after link");
	expect_true(ts_after(st.st_ctim, before.st_ctim), "ctime changes on link");
	expect_eq(st.st_nlink, 2, "nlink is 2 after link");
	sleep_ms(30);
	before = st;
	expect_ok(unlink(wp("a2")), "unlink second name");
	expect_ok(stat(wp("a"), &st), "stat after unlink of second name");
	expect_true(ts_after(st.st_ctim, before.st_ctim), "ctime changes on unlink of another name");
	expect_ok(stat(posix_workdir(), &before), "stat directory");
	sleep_ms(30);
	expect_ok(write_file(wp("a3"), 0644, 0, 0), "create file in directory");
	expect_ok(stat(posix_workdir(), &st), "stat directory after create");
	expect_true(ts_after(st.st_mtim, before.st_mtim), "directory mtime changes on create");
	expect_true(ts_after(st.st_ctim, before.st_ctim), "directory ctime changes on create");
	unlink(wp("a3"));
	unlink(wp("alink"));
}

/* utimensat: exact nanoseconds, UTIME_OMIT, UTIME_NOW, symlinks. */
static void attrs_times(void)
{
	struct timespec times[2], now0, now1;
	struct stat st, before;
	int fd;

	expect_ok(write_file(wp("tm"), 0644, 1, 2), "create file for utimensat");
	times[0] = (struct timespec){ 1234567890, 123456789 };
	times[1] = (struct timespec){ 1000000000, 987654321 };
	expect_ok(utimensat(AT_FDCWD, wp("tm"), times, 0), "utimensat with nanoseconds");
	expect_ok(stat(wp("tm"), &st), "stat after utimensat");
	expect_ts(st.st_atim, times[0], "atime kept to the nanosecond");
	expect_ts(st.st_mtim, times[1], "mtime kept to the nanosecond");

	times[0] = (struct timespec){ 0, UTIME_OMIT };
	times[1] = (struct timespec){ 1500000000, 1 };
	expect_ok(utimensat(AT_FDCWD, wp("tm"), times, 0), "utimensat atime UTIME_OMIT");
	expect_ok(stat(wp("tm"), &st), "stat after UTIME_OMIT");
	expect_ts(st.st_atim, ((struct timespec){ 1234567890, 123456789 }), "UTIME_OMIT keeps atime");
	expect_ts(st.st_mtim, times[1], "mtime set alongside UTIME_OMIT");

	times[0] = (struct timespec){ 0, UTIME_NOW };
	times[1] = (struct timespec){ 0, UTIME_OMIT };
	clock_gettime(CLOCK_REALTIME, &now0);
	expect_ok(utimensat(AT_FDCWD, wp("tm"), times, 0), "utimensat atime UTIME_NOW, mtime UTIME_OMIT");
	clock_gettime(CLOCK_REALTIME, &now1);
	expect_ok(stat(wp("tm"), &st), "stat after UTIME_NOW");
	if (!tap_ok(st.st_atim.tv_sec >= now0.tv_sec - 1 && st.st_atim.tv_sec <= now1.tv_sec + 1,
		    "UTIME_NOW sets atime to now"))
		tap_diag("expected about %lld got %lld", (long long)now0.tv_sec,
			 (long long)st.st_atim.tv_sec);
	expect_ts(st.st_mtim, ((struct timespec){ 1500000000, 1 }), "UTIME_OMIT keeps mtime");

	fd = open(wp("tm"), O_RDWR);
	expect_ok(futimens(fd, NULL), "futimens(NULL) sets both to now");
	expect_ok(fstat(fd, &st), "fstat after futimens");
	expect_true(st.st_mtim.tv_sec >= now0.tv_sec - 1, "futimens(NULL) moved mtime to now");
	close(fd);

	times[0] = (struct timespec){ -86400, 500 };
	times[1] = (struct timespec){ 4102444800, 999999999 };
	expect_ok(utimensat(AT_FDCWD, wp("tm"), times, 0), "utimensat before 1970 and after 2038");
	expect_ok(stat(wp("tm"), &st), "stat after extreme times");
	expect_ts(st.st_atim, times[0], "atime before 1970 kept");
	expect_ts(st.st_mtim, times[1], "mtime after 2038 kept");

	times[1] = (struct timespec){ 0, 1000000000 };
	times[0] = (struct timespec){ 0, 0 };
	expect_errno(utimensat(AT_FDCWD, wp("tm"), times, 0), EINVAL, "utimensat tv_nsec 1e9 -> EINVAL");

	expect_ok(symlink("tm", wp("tmlink")), "create symlink for utimensat");
	expect_ok(stat(wp("tm"), &before), "stat target before link utimensat");
	times[0] = (struct timespec){ 1111111111, 111 };
	times[1] = (struct timespec){ 1222222222, 222 };
	expect_ok(utimensat(AT_FDCWD, wp("tmlink"), times, AT_SYMLINK_NOFOLLOW),
		  "utimensat AT_SYMLINK_NOFOLLOW on a symlink");
	expect_ok(lstat(wp("tmlink"), &st), "lstat symlink after utimensat");
	expect_ts(st.st_mtim, times[1], "symlink's own mtime set");
	expect_ok(stat(wp("tm"), &st), "stat target after link utimensat");
	expect_ts(st.st_mtim, before.st_mtim, "target mtime untouched by AT_SYMLINK_NOFOLLOW");

	clock_gettime(CLOCK_REALTIME, &now0);
	expect_ok(truncate(wp("tm"), 100), "truncate for mtime");
	expect_ok(stat(wp("tm"), &st), "stat after truncate");
	if (!tap_ok(st.st_mtim.tv_sec >= now0.tv_sec - 1 && st.st_mtim.tv_sec <= now0.tv_sec + 2,
		    "truncate sets mtime to now"))
		tap_diag("expected about %lld got %lld", (long long)now0.tv_sec,
			 (long long)st.st_mtim.tv_sec);
	unlink(wp("tmlink"));
	unlink(wp("tm"));
}

/* Sum of user.* names in a listxattr buffer, checked against an expected set. */
static bool xattr_list_is(const char *path, const char *const *names, size_t count)
{
	char list[4096];
	ssize_t n = listxattr(path, list, sizeof(list));
	size_t found = 0, seen = 0;

	if (n < 0) {
		tap_diag("listxattr: %s", strerror(errno));
		return false;
	}
	for (ssize_t off = 0; off < n; off += (ssize_t)strlen(list + off) + 1) {
		if (strncmp(list + off, "user.", 5) != 0)
			continue;
		seen++;
		for (size_t i = 0; i < count; i++)
			found += strcmp(list + off, names[i]) == 0;
	}
	if (found != count || seen != count) {
		tap_diag("listxattr returned %zd bytes, %zu user.* names, %zu of %zu expected", n, seen,
			 found, count);
		return false;
	}
	return true;
}

/* user.* xattrs on files and directories. */
void posix_xattrs(void)
{
	static const char *const two[] = { "user.a", "user.b" };
	static const char *const one[] = { "user.b" };
	char buf[8192], small[2];
	unsigned char bin[4000];
	ssize_t n;

	tap_section("extended attributes");
	expect_ok(write_file(wp("x"), 0644, 10, 4), "create file for xattrs");
	expect_ok(setxattr(wp("x"), "user.a", "v1", 2, XATTR_CREATE), "setxattr XATTR_CREATE new");
	expect_errno(setxattr(wp("x"), "user.a", "v2", 2, XATTR_CREATE), EEXIST,
		     "setxattr XATTR_CREATE existing -> EEXIST");
	expect_errno(setxattr(wp("x"), "user.b", "v", 1, XATTR_REPLACE), ENODATA,
		     "setxattr XATTR_REPLACE missing -> ENODATA");
	expect_ok(setxattr(wp("x"), "user.a", "value-2", 7, XATTR_REPLACE), "setxattr XATTR_REPLACE existing");
	expect_ok(setxattr(wp("x"), "user.b", "", 0, 0), "setxattr empty value");
	n = getxattr(wp("x"), "user.a", NULL, 0);
	expect_eq(n, 7, "getxattr size query returns 7");
	n = getxattr(wp("x"), "user.a", buf, sizeof(buf));
	expect_true(n == 7 && memcmp(buf, "value-2", 7) == 0, "getxattr returns the replaced value");
	expect_errno(getxattr(wp("x"), "user.a", small, sizeof(small)), ERANGE,
		     "getxattr with too small buffer -> ERANGE");
	expect_eq(getxattr(wp("x"), "user.b", buf, sizeof(buf)), 0, "empty xattr value has length 0");
	expect_errno(getxattr(wp("x"), "user.none", buf, sizeof(buf)), ENODATA,
		     "getxattr missing -> ENODATA");
	expect_true(xattr_list_is(wp("x"), two, 2), "listxattr lists user.a and user.b");
	n = listxattr(wp("x"), NULL, 0);
	expect_true(n >= 14, "listxattr size query covers both names");
	expect_errno(listxattr(wp("x"), small, sizeof(small)), ERANGE,
		     "listxattr with too small buffer -> ERANGE");
	expect_ok(removexattr(wp("x"), "user.a"), "removexattr");
	expect_errno(getxattr(wp("x"), "user.a", buf, sizeof(buf)), ENODATA,
		     "getxattr after removexattr -> ENODATA");
	expect_errno(removexattr(wp("x"), "user.a"), ENODATA, "removexattr missing -> ENODATA");
	expect_true(xattr_list_is(wp("x"), one, 1), "listxattr after remove lists only user.b");

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);
	bin[0] = 0;
	expect_ok(setxattr(wp("x"), "user.bin", bin, sizeof(bin), 0), "setxattr 4000-byte binary value");
	n = getxattr(wp("x"), "user.bin", buf, sizeof(buf));
	expect_true(n == (ssize_t)sizeof(bin) && memcmp(buf, bin, sizeof(bin)) == 0,
		    "binary value with NUL bytes round-trips");

	char longname[300];
	memcpy(longname, "user.", 5);
	memset(longname + 5, 'n', 260);
	longname[265] = '\0';
	expect_errno(setxattr(wp("x"), longname, "v", 1, 0), ERANGE, "xattr name over 255 bytes -> ERANGE");

	/* The per-inode budget (64 KiB on claimfs, one block on ext4) ends in ENOSPC/E2BIG. */
	char *big = calloc(1, 16 * 1024);
	int r = 0, stored = 0;
	for (int i = 0; big && !posix_cfg.plain && i < 64 && r == 0; i++) {
		char name[32];
		snprintf(name, sizeof(name), "user.fill%d", i);
		r = setxattr(wp("x"), name, big, 16 * 1024, 0) < 0 ? -errno : 0;
		stored += r == 0;
	}
	if (posix_cfg.plain)
		tap_skip("not claimfs (tmpfs has no per-inode budget)",
			 "filling an inode with xattrs ends in ENOSPC or E2BIG");
	else if (!tap_ok(r == -ENOSPC || r == -E2BIG, "filling an inode with xattrs ends in ENOSPC or E2BIG"))
		tap_diag("expected ENOSPC/E2BIG got %s after %d values", errno_name(-r), stored);
	n = getxattr(wp("x"), "user.bin", buf, sizeof(buf));
	expect_true(n == (ssize_t)sizeof(bin), "earlier xattrs intact after the budget is exhausted");
	free(big);

	expect_ok(mkdir(wp("xd"), 0755), "mkdir for xattrs");
	expect_ok(setxattr(wp("xd"), "user.dir", "d", 1, 0), "setxattr on a directory");
	expect_eq(getxattr(wp("xd"), "user.dir", buf, sizeof(buf)), 1, "getxattr on a directory");
	expect_ok(symlink("x", wp("xl")), "symlink for xattrs");
	expect_errno(lsetxattr(wp("xl"), "user.l", "v", 1, 0), EPERM,
		     "user.* xattr on a symlink -> EPERM");
	expect_eq(getxattr(wp("xl"), "user.b", buf, sizeof(buf)), 0, "getxattr follows the symlink");
	unlink(wp("xl"));
	rmdir(wp("xd"));
	unlink(wp("x"));
}

/* chmod/chown/utimensat; see the file comment. */
void posix_attrs(void)
{
	tap_section("attributes");
	attrs_mode_owner();
	attrs_times();
	unlink(wp("a"));
}
