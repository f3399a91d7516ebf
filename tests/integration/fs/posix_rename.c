/*
 * posix_rename.c — rename(2) and renameat2(2): plain, over files and
 * directories, across directories (link counts, ".."), the error cases
 * ext4 gives, RENAME_NOREPLACE and RENAME_EXCHANGE.
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* nlink of PATH, or -errno. */
static long long links(const char *path)
{
	struct stat st;
	int r = lstat_e(path, &st);

	return r < 0 ? r : (long long)st.st_nlink;
}

/* inode of PATH (following symlinks), or 0. */
static ino_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? 0 : st.st_ino;
}

/* Files: plain, over an existing (open) file, same-inode, ctime. */
static void rename_files(void)
{
	struct stat st, before;
	unsigned char buf[100], want[100];
	ino_t ino;
	int fd;

	expect_ok(write_file(wp("r/a"), 0644, 100, 40), "create file a");
	ino = ino_of(wp("r/a"));
	expect_ok(stat(wp("r/a"), &before), "stat a");
	sleep_ms(30);
	expect_ok(rename(wp("r/a"), wp("r/b")), "rename a -> b");
	expect_errno(lstat_e(wp("r/a"), &st), ENOENT, "old name gone after rename");
	expect_eq(ino_of(wp("r/b")), ino, "renamed file keeps its inode");
	expect_ok(verify_file(wp("r/b"), 100, 40), "renamed file content intact");
	expect_ok(stat(wp("r/b"), &st), "stat b");
	expect_true(st.st_ctim.tv_sec > before.st_ctim.tv_sec ||
			    (st.st_ctim.tv_sec == before.st_ctim.tv_sec &&
			     st.st_ctim.tv_nsec > before.st_ctim.tv_nsec),
		    "rename updates the file's ctime");

	expect_ok(write_file(wp("r/c"), 0644, 100, 41), "create file c");
	fd = open(wp("r/c"), O_RDONLY);
	expect_ok(rename(wp("r/b"), wp("r/c")), "rename b over existing c");
	expect_ok(verify_file(wp("r/c"), 100, 40), "c now has b's content");
	expect_errno(lstat_e(wp("r/b"), &st), ENOENT, "b is gone");
	expect_ok(fstat(fd, &st), "fstat replaced c through an open fd");
	expect_eq(st.st_nlink, 0, "replaced file has nlink 0");
	pattern_fill(want, sizeof(want), 0, 41);
	expect_true(pread(fd, buf, sizeof(buf), 0) == 100 && memcmp(buf, want, 100) == 0,
		    "replaced file still readable through the open fd");
	close(fd);

	expect_ok(rename(wp("r/c"), wp("r/c")), "rename a file onto itself");
	expect_ok(verify_file(wp("r/c"), 100, 40), "file intact after rename onto itself");
	expect_ok(link(wp("r/c"), wp("r/c2")), "second link");
	expect_ok(rename(wp("r/c"), wp("r/c2")), "rename between two links of one inode");
	expect_true(links(wp("r/c")) == 2 && links(wp("r/c2")) == 2,
		    "rename between links of one inode does nothing (both names stay)");
	unlink(wp("r/c2"));
	expect_errno(rename(wp("r/missing"), wp("r/x")), ENOENT, "rename missing source -> ENOENT");
	expect_errno(rename(wp("r/c"), wp("r/nodir/x")), ENOENT, "rename into missing directory -> ENOENT");
	expect_ok(symlink("c", wp("r/sl")), "symlink to rename");
	expect_ok(rename(wp("r/sl"), wp("r/sl2")), "rename a symlink");
	expect_ok(verify_file(wp("r/sl2"), 100, 40), "renamed symlink still resolves");
	unlink(wp("r/sl2"));
}

/* Directories: over empty/non-empty dirs, type mismatches, into itself, across parents. */
static void rename_dirs(void)
{
	struct stat st;

	expect_ok(mkdir(wp("r/d1"), 0755), "mkdir d1");
	expect_ok(write_file(wp("r/d1/inside"), 0644, 10, 42), "file in d1");
	expect_ok(mkdir(wp("r/empty"), 0755), "mkdir empty");
	expect_ok(mkdir(wp("r/full"), 0755), "mkdir full");
	expect_ok(write_file(wp("r/full/x"), 0644, 1, 0), "file in full");
	expect_eq(links(wp("r")), 5, "parent nlink 5 with three subdirectories");
	expect_errno(rename(wp("r/d1"), wp("r/full")), ENOTEMPTY, "dir over non-empty dir -> ENOTEMPTY");
	expect_errno(rename(wp("r/c"), wp("r/empty")), EISDIR, "file over dir -> EISDIR");
	expect_errno(rename(wp("r/empty"), wp("r/c")), ENOTDIR, "dir over file -> ENOTDIR");
	expect_ok(mkdir(wp("r/d1/sub"), 0755), "mkdir d1/sub");
	expect_errno(rename(wp("r/d1"), wp("r/d1/sub/d1")), EINVAL, "rename dir into its own subdir -> EINVAL");
	expect_errno(rename(wp("r/d1"), wp("r/d1/d1")), EINVAL, "rename dir into itself -> EINVAL");
	expect_ok(rename(wp("r/d1"), wp("r/empty")), "dir over empty dir");
	expect_errno(lstat_e(wp("r/d1"), &st), ENOENT, "source dir name gone");
	expect_ok(verify_file(wp("r/empty/inside"), 10, 42), "contents visible under the new name");
	expect_eq(links(wp("r")), 4, "parent nlink drops by one after replacing a dir");

	expect_ok(mkdir(wp("r/p1"), 0755), "mkdir p1");
	expect_ok(mkdir(wp("r/p2"), 0755), "mkdir p2");
	expect_ok(mkdir(wp("r/p1/mv"), 0755), "mkdir p1/mv");
	expect_ok(write_file(wp("r/p1/mv/f"), 0644, 5, 43), "file in p1/mv");
	expect_ok(rename(wp("r/p1/mv"), wp("r/p2/mv")), "move a directory to another parent");
	expect_eq(links(wp("r/p1")), 2, "old parent nlink drops to 2");
	expect_eq(links(wp("r/p2")), 3, "new parent nlink grows to 3");
	expect_eq(ino_of(wp("r/p2/mv/..")), ino_of(wp("r/p2")), ".. of the moved dir is the new parent");
	expect_ok(verify_file(wp("r/p2/mv/f"), 5, 43), "moved directory's file intact");
	expect_ok(rename(wp("r/p2/mv/f"), wp("r/p1/f")), "move a file to another parent");
	expect_ok(verify_file(wp("r/p1/f"), 5, 43), "moved file intact");
	expect_errno(rename(wp("r/p2"), wp("r/p1")), ENOTEMPTY, "dir over non-empty dir (file inside) -> ENOTEMPTY");
	posix_remove_tree(wp("r/p1"));
	posix_remove_tree(wp("r/p2"));
	posix_remove_tree(wp("r/empty"));
	posix_remove_tree(wp("r/full"));
}

/* renameat2 flags. */
static void rename_flags(void)
{
	unsigned char buf[100], want[100];
	struct stat st;

	expect_ok(write_file(wp("r/n1"), 0644, 10, 44), "create n1");
	expect_ok(write_file(wp("r/n2"), 0644, 10, 45), "create n2");
	expect_errno(renameat2(AT_FDCWD, wp("r/n1"), AT_FDCWD, wp("r/n2"), RENAME_NOREPLACE), EEXIST,
		     "RENAME_NOREPLACE onto an existing name -> EEXIST");
	expect_ok(verify_file(wp("r/n2"), 10, 45), "target untouched after RENAME_NOREPLACE failure");
	expect_ok(renameat2(AT_FDCWD, wp("r/n1"), AT_FDCWD, wp("r/n3"), RENAME_NOREPLACE),
		  "RENAME_NOREPLACE onto a free name");
	expect_ok(verify_file(wp("r/n3"), 10, 44), "RENAME_NOREPLACE moved the file");
	expect_ok(renameat2(AT_FDCWD, wp("r/n2"), AT_FDCWD, wp("r/n3"), RENAME_EXCHANGE),
		  "RENAME_EXCHANGE two files");
	expect_ok(verify_file(wp("r/n2"), 10, 44), "first name has the second file");
	expect_ok(verify_file(wp("r/n3"), 10, 45), "second name has the first file");
	expect_errno(renameat2(AT_FDCWD, wp("r/n2"), AT_FDCWD, wp("r/none"), RENAME_EXCHANGE), ENOENT,
		     "RENAME_EXCHANGE with a missing target -> ENOENT");
	expect_errno(renameat2(AT_FDCWD, wp("r/n2"), AT_FDCWD, wp("r/n3"),
			       RENAME_EXCHANGE | RENAME_NOREPLACE),
		     EINVAL, "RENAME_EXCHANGE|RENAME_NOREPLACE -> EINVAL");

	/* file <-> dir swap across two parents */
	expect_ok(mkdir(wp("r/pa"), 0755), "mkdir pa");
	expect_ok(mkdir(wp("r/pb"), 0755), "mkdir pb");
	expect_ok(write_file(wp("r/pa/f"), 0644, 100, 46), "file pa/f");
	expect_ok(mkdir(wp("r/pb/d"), 0755), "dir pb/d");
	expect_ok(write_file(wp("r/pb/d/inner"), 0644, 7, 47), "file pb/d/inner");
	expect_ok(renameat2(AT_FDCWD, wp("r/pa/f"), AT_FDCWD, wp("r/pb/d"), RENAME_EXCHANGE),
		  "RENAME_EXCHANGE file <-> dir across parents");
	expect_ok(lstat(wp("r/pa/f"), &st), "lstat pa/f after exchange");
	expect_true(S_ISDIR(st.st_mode), "pa/f is now the directory");
	expect_ok(verify_file(wp("r/pa/f/inner"), 7, 47), "directory contents moved with it");
	expect_ok(lstat(wp("r/pb/d"), &st), "lstat pb/d after exchange");
	expect_true(S_ISREG(st.st_mode), "pb/d is now the file");
	pattern_fill(want, sizeof(want), 0, 46);
	int fd = open(wp("r/pb/d"), O_RDONLY);
	expect_true(fd >= 0 && pread(fd, buf, 100, 0) == 100 && memcmp(buf, want, 100) == 0,
		    "file content moved with it");
	if (fd >= 0)
		close(fd);
	expect_eq(links(wp("r/pa")), 3, "parent gaining the dir has nlink 3");
	expect_eq(links(wp("r/pb")), 2, "parent losing the dir has nlink 2");
	expect_eq(ino_of(wp("r/pa/f/..")), ino_of(wp("r/pa")), ".. of the exchanged dir is its new parent");
	expect_ok(renameat2(AT_FDCWD, wp("r/pa/f"), AT_FDCWD, wp("r/pb/d"), RENAME_EXCHANGE),
		  "RENAME_EXCHANGE back");
	expect_true(links(wp("r/pa")) == 2 && links(wp("r/pb")) == 3, "link counts restored after swapping back");
	expect_errno(renameat2(AT_FDCWD, wp("r/pb"), AT_FDCWD, wp("r/pb/d/inner"), RENAME_EXCHANGE), EINVAL,
		     "RENAME_EXCHANGE of a dir with its own descendant -> EINVAL");
	posix_remove_tree(wp("r/pa"));
	posix_remove_tree(wp("r/pb"));
	unlink(wp("r/n2"));
	unlink(wp("r/n3"));
}

/* rename and renameat2; see the file comment. */
void posix_rename(void)
{
	tap_section("rename");
	if (!expect_ok(mkdir(wp("r"), 0755), "mkdir for rename tests"))
		return;
	rename_files();
	rename_dirs();
	rename_flags();
	expect_ok(posix_remove_tree(wp("r")), "remove rename test tree");
}
