/*
 * posix_names.c — the namespace inside a claim: directories and their link
 * counts, unlink/rmdir/mkdir errors, symlinks, hard links, FIFOs and sockets,
 * name length limits, and readdir (exact listings, d_ino/d_type, stable
 * telldir/seekdir cursors, deleting while listing).
 */
#include "posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* nlink of PATH, or -errno. */
static long long nlink_of(const char *path)
{
	struct stat st;
	int r = lstat_e(path, &st);

	return r < 0 ? r : (long long)st.st_nlink;
}

/* mkdir/rmdir, directory link counts, and the classic errors. */
void posix_dirs(void)
{
	struct stat st;

	tap_section("directories");
	expect_ok(mkdir(wp("d"), 0777), "mkdir");
	expect_ok(stat(wp("d"), &st), "stat new directory");
	expect_eq(st.st_mode, S_IFDIR | 0755, "new directory mode is 0777 & ~umask");
	expect_eq(st.st_nlink, 2, "new directory has nlink 2");
	expect_eq(nlink_of(posix_workdir()), 3, "parent nlink grows by one per subdirectory");
	expect_ok(mkdir(wp("d/s1"), 0755), "mkdir subdirectory");
	expect_ok(mkdir(wp("d/s2"), 0755), "mkdir second subdirectory");
	expect_eq(nlink_of(wp("d")), 4, "directory with two subdirectories has nlink 4");
	expect_ok(write_file(wp("d/file"), 0644, 1, 0), "create file in directory");
	expect_eq(nlink_of(wp("d")), 4, "a file does not change the directory's nlink");
	expect_errno(mkdir(wp("d"), 0755), EEXIST, "mkdir existing -> EEXIST");
	expect_errno(mkdir(wp("d/file"), 0755), EEXIST, "mkdir over a file -> EEXIST");
	expect_errno(mkdir(wp("nope/x"), 0755), ENOENT, "mkdir in missing parent -> ENOENT");
	expect_errno(mkdir(wp("d/file/x"), 0755), ENOTDIR, "mkdir under a file -> ENOTDIR");
	expect_errno(rmdir(wp("d")), ENOTEMPTY, "rmdir non-empty -> ENOTEMPTY");
	expect_errno(rmdir(wp("d/file")), ENOTDIR, "rmdir a file -> ENOTDIR");
	expect_errno(unlink(wp("d")), EISDIR, "unlink a directory -> EISDIR");
	expect_errno(unlink(wp("d/missing")), ENOENT, "unlink missing -> ENOENT");
	expect_errno(rmdir(wp("d/missing")), ENOENT, "rmdir missing -> ENOENT");
	expect_errno(rmdir(wp("d/s1/.")), EINVAL, "rmdir dir/. -> EINVAL");
	expect_errno(unlink(wp("d/file/x")), ENOTDIR, "unlink file/x -> ENOTDIR");
	expect_ok(rmdir(wp("d/s1")), "rmdir empty subdirectory");
	expect_eq(nlink_of(wp("d")), 3, "rmdir drops the parent's nlink");
	expect_errno(lstat_e(wp("d/s1"), &st), ENOENT, "removed directory is gone");
	expect_ok(unlink(wp("d/file")), "unlink file");
	expect_ok(rmdir(wp("d/s2")), "rmdir second subdirectory");
	expect_ok(rmdir(wp("d")), "rmdir now-empty directory");
	expect_eq(nlink_of(posix_workdir()), 2, "work directory back to nlink 2");

	int fd = open(posix_workdir(), O_RDONLY | O_DIRECTORY);
	expect_ok(fd, "open directory");
	expect_ok(fsync(fd), "fsync a directory");
	close(fd);
	expect_ok(mkdir(wp("deep"), 0755), "mkdir deep");
	char rel[PATH_MAX] = "deep";
	bool deep_ok = true;
	for (int i = 0; i < 40 && deep_ok; i++) {
		strcat(rel, "/d");
		deep_ok = mkdir(wp("%s", rel), 0755) == 0;
	}
	expect_true(deep_ok, "40 nested directories");
	expect_ok(write_file(wp("%s/leaf", rel), 0644, 3, 9), "file at depth 40");
	expect_ok(verify_file(wp("%s/leaf", rel), 3, 9), "file at depth 40 reads back");
	expect_ok(posix_remove_tree(wp("deep")), "remove nested tree");
}

/* Hard links and symlinks. */
void posix_links(void)
{
	char target[PATH_MAX + 1], buf[PATH_MAX + 1];
	struct stat st, st2;
	ssize_t n;

	tap_section("links");
	expect_ok(write_file(wp("h"), 0644, 100, 12), "create file for links");
	expect_ok(link(wp("h"), wp("h2")), "link");
	expect_ok(link(wp("h"), wp("h3")), "second link");
	expect_eq(nlink_of(wp("h")), 3, "nlink is 3 with three names");
	expect_ok(stat(wp("h"), &st), "stat first name");
	expect_ok(stat(wp("h3"), &st2), "stat third name");
	expect_eq(st.st_ino, st2.st_ino, "hard links share the inode number");
	expect_ok(verify_file(wp("h2"), 100, 12), "content through the second name");
	expect_errno(link(wp("h"), wp("h2")), EEXIST, "link onto an existing name -> EEXIST");
	expect_errno(link(wp("missing"), wp("h4")), ENOENT, "link from a missing file -> ENOENT");
	expect_ok(mkdir(wp("ld"), 0755), "mkdir for link test");
	expect_errno(link(wp("ld"), wp("ld2")), EPERM, "link to a directory -> EPERM");
	bool linked = true;
	for (int i = 0; i < 1000 && linked; i++)
		linked = link(wp("h"), wp("ld/many%d", i)) == 0;
	expect_true(linked, "1000 more hard links to one file");
	expect_eq(nlink_of(wp("h")), 1003, "nlink counts 1003 names");
	bool unlinked = true;
	for (int i = 0; i < 1000 && unlinked; i++)
		unlinked = unlink(wp("ld/many%d", i)) == 0;
	expect_true(unlinked, "unlink the 1000 extra links");
	expect_eq(nlink_of(wp("h")), 3, "nlink back to 3");
	expect_ok(unlink(wp("h")), "unlink first name");
	expect_eq(nlink_of(wp("h2")), 2, "nlink drops to 2");
	expect_ok(verify_file(wp("h3"), 100, 12), "content intact through the remaining names");
	expect_ok(unlink(wp("h2")), "unlink second name");
	expect_ok(unlink(wp("h3")), "unlink last name");

	expect_ok(write_file(wp("s-target"), 0644, 5, 13), "create symlink target");
	expect_ok(symlink("s-target", wp("s")), "symlink");
	expect_ok(lstat(wp("s"), &st), "lstat symlink");
	expect_true(S_ISLNK(st.st_mode), "lstat says S_IFLNK");
	expect_eq(st.st_mode & 07777, 0777, "symlink mode is 0777");
	expect_eq(st.st_size, 8, "symlink size is the target length");
	n = readlink(wp("s"), buf, sizeof(buf));
	expect_true(n == 8 && memcmp(buf, "s-target", 8) == 0, "readlink returns the target");
	expect_ok(stat(wp("s"), &st), "stat follows the symlink");
	expect_true(S_ISREG(st.st_mode) && st.st_size == 5, "stat of symlink describes the target");
	expect_ok(verify_file(wp("s"), 5, 13), "open through the symlink");
	expect_errno(readlink(wp("s-target"), buf, sizeof(buf)), EINVAL, "readlink on a file -> EINVAL");
	expect_errno(symlink("x", wp("s")), EEXIST, "symlink onto existing name -> EEXIST");
	expect_ok(symlink("does-not-exist", wp("dangling")), "dangling symlink");
	expect_errno(stat(wp("dangling"), &st), ENOENT, "stat of dangling symlink -> ENOENT");
	expect_ok(lstat(wp("dangling"), &st), "lstat of dangling symlink works");
	expect_ok(symlink("loop2", wp("loop1")), "symlink loop part 1");
	expect_ok(symlink("loop1", wp("loop2")), "symlink loop part 2");
	expect_errno(open(wp("loop1"), O_RDONLY), ELOOP, "open a symlink loop -> ELOOP");
	expect_errno(open(wp("s"), O_RDONLY | O_NOFOLLOW), ELOOP, "O_NOFOLLOW on a symlink -> ELOOP");
	expect_ok(symlink("/etc/hostname/../absolute target", wp("abs")), "symlink with absolute target");
	n = readlink(wp("abs"), buf, sizeof(buf));
	expect_true(n == 32 && memcmp(buf, "/etc/hostname/../absolute target", 32) == 0,
		    "absolute target with spaces round-trips");

	memset(target, 'a', 4095);
	for (int i = 100; i < 4095; i += 100)
		target[i] = '/';
	target[4095] = '\0';
	expect_ok(symlink(target, wp("long")), "symlink with a 4095-byte target");
	n = readlink(wp("long"), buf, sizeof(buf));
	expect_true(n == 4095 && memcmp(buf, target, 4095) == 0, "4095-byte target round-trips");
	expect_ok(lstat(wp("long"), &st), "lstat long symlink");
	expect_eq(st.st_size, 4095, "long symlink size is 4095");
	memset(target, 'b', sizeof(target) - 1);
	target[PATH_MAX] = '\0';
	expect_errno(symlink(target, wp("toolong")), ENAMETOOLONG, "symlink target of 4096 bytes -> ENAMETOOLONG");

	expect_ok(link(wp("s"), wp("s-hard")), "hard link to a symlink");
	expect_ok(lstat(wp("s-hard"), &st), "lstat hard link of symlink");
	expect_true(S_ISLNK(st.st_mode) && st.st_nlink == 2, "hard link to symlink is the symlink, nlink 2");
	const char *names[] = { "s", "s-hard", "s-target", "dangling", "loop1", "loop2", "abs", "long" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(wp("%s", names[i]));
	rmdir(wp("ld"));
}

/* mknod FIFO/socket, mkfifo, and a bound AF_UNIX socket inside the claim. */
void posix_special(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	char buf[16];
	int rfd, wfd, srv, cli, conn, cwd;

	tap_section("special files");
	expect_ok(mknod(wp("fifo"), S_IFIFO | 0644, 0), "mknod S_IFIFO");
	expect_ok(lstat(wp("fifo"), &st), "lstat FIFO");
	expect_true(S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0644, "FIFO type and mode");
	rfd = open(wp("fifo"), O_RDONLY | O_NONBLOCK);
	wfd = open(wp("fifo"), O_WRONLY | O_NONBLOCK);
	expect_true(rfd >= 0 && wfd >= 0, "open both ends of the FIFO");
	expect_eq(write(wfd, "pipe", 4), 4, "write into the FIFO");
	expect_eq(read(rfd, buf, sizeof(buf)), 4, "read from the FIFO");
	expect_true(memcmp(buf, "pipe", 4) == 0, "FIFO passes data");
	close(rfd);
	close(wfd);
	expect_ok(mkfifo(wp("fifo2"), 0600), "mkfifo");
	expect_ok(mknod(wp("sock"), S_IFSOCK | 0600, 0), "mknod S_IFSOCK");
	expect_ok(lstat(wp("sock"), &st), "lstat socket node");
	expect_true(S_ISSOCK(st.st_mode), "socket node type");
	expect_ok(mknod(wp("reg"), S_IFREG | 0600, 0), "mknod S_IFREG");
	expect_ok(lstat(wp("reg"), &st), "lstat mknod regular file");
	expect_true(S_ISREG(st.st_mode) && st.st_size == 0, "mknod regular file is an empty file");
	expect_ok(mknod(wp("chr"), S_IFCHR | 0600, makedev(1, 3)), "mknod character device (as root)");
	expect_ok(lstat(wp("chr"), &st), "lstat character device");
	expect_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3), "device node keeps its rdev");
	expect_errno(mknod(wp("fifo"), S_IFIFO | 0644, 0), EEXIST, "mknod existing -> EEXIST");

	/* Bind through a relative name so a long claim path never overflows sun_path. */
	cwd = open(".", O_RDONLY | O_DIRECTORY);
	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "bound.sock");
	if (chdir(posix_workdir()) < 0) {
		expect_ok(-1, "chdir into the claim");
	} else {
		expect_ok(bind(srv, (struct sockaddr *)&addr, sizeof(addr)), "bind AF_UNIX socket in the claim");
		expect_ok(listen(srv, 1), "listen");
		expect_ok(connect(cli, (struct sockaddr *)&addr, sizeof(addr)), "connect to it");
		conn = accept(srv, NULL, NULL);
		expect_ok(conn, "accept");
		expect_eq(write(cli, "sock", 4), 4, "send over the socket");
		expect_eq(read(conn, buf, sizeof(buf)), 4, "receive over the socket");
		if (conn >= 0)
			close(conn);
		expect_ok(lstat("bound.sock", &st), "lstat bound socket");
		expect_true(S_ISSOCK(st.st_mode), "bound socket is S_IFSOCK");
	}
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			tap_diag("fchdir back failed: %s", strerror(errno));
		close(cwd);
	}
	close(srv);
	close(cli);
	const char *names[] = { "fifo", "fifo2", "sock", "reg", "chr", "bound.sock" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		expect_ok(unlink(wp("%s", names[i])), "unlink special file");
}

/* 255-byte names work everywhere; 256 bytes is ENAMETOOLONG. */
void posix_names(void)
{
	char name[300], other[300];
	struct stat st;
	bool listed = false;

	tap_section("name lengths");
	memset(name, 'n', 255);
	name[255] = '\0';
	memset(other, 'o', 255);
	other[255] = '\0';
	expect_ok(write_file(wp("%s", name), 0644, 3, 14), "create file with a 255-byte name");
	expect_ok(stat(wp("%s", name), &st), "stat 255-byte name");
	DIR *d = opendir(posix_workdir());
	for (struct dirent *e; d && (e = readdir(d));)
		listed |= strcmp(e->d_name, name) == 0;
	if (d)
		closedir(d);
	expect_true(listed, "readdir lists the 255-byte name");
	expect_ok(rename(wp("%s", name), wp("%s", other)), "rename to another 255-byte name");
	expect_ok(verify_file(wp("%s", other), 3, 14), "content through the renamed 255-byte name");
	expect_ok(link(wp("%s", other), wp("%s", name)), "link with a 255-byte name");
	expect_ok(unlink(wp("%s", name)), "unlink 255-byte name");
	expect_ok(unlink(wp("%s", other)), "unlink other 255-byte name");
	expect_ok(mkdir(wp("%s", name), 0755), "mkdir with a 255-byte name");
	expect_ok(rmdir(wp("%s", name)), "rmdir 255-byte name");
	expect_ok(symlink("t", wp("%s", name)), "symlink with a 255-byte name");
	expect_ok(unlink(wp("%s", name)), "unlink 255-byte symlink");

	name[255] = 'n';
	name[256] = '\0';
	expect_errno(open(wp("%s", name), O_CREAT | O_WRONLY, 0644), ENAMETOOLONG,
		     "create with a 256-byte name -> ENAMETOOLONG");
	expect_errno(mkdir(wp("%s", name), 0755), ENAMETOOLONG, "mkdir with a 256-byte name -> ENAMETOOLONG");
	expect_errno(stat(wp("%s", name), &st), ENAMETOOLONG, "stat a 256-byte name -> ENAMETOOLONG");
	expect_ok(write_file(wp("short"), 0644, 1, 0), "create file to rename");
	expect_errno(rename(wp("short"), wp("%s", name)), ENAMETOOLONG,
		     "rename to a 256-byte name -> ENAMETOOLONG");
	expect_errno(symlink("t", wp("%s", name)), ENAMETOOLONG, "symlink with a 256-byte name -> ENAMETOOLONG");
	unlink(wp("short"));

	const char *odd = "sp ace\ttab\x01ctl-\xc3\xa9-utf8-\xff-bad-utf8";
	expect_ok(write_file(wp("%s", odd), 0644, 1, 0), "name with spaces, control bytes and non-UTF-8");
	expect_ok(stat(wp("%s", odd), &st), "stat the odd name");
	expect_ok(unlink(wp("%s", odd)), "unlink the odd name");
}

/* Index of NAME in the expected set, or -1. */
static int name_index(const char *name, int count)
{
	char *end;
	long i;

	if (strncmp(name, "e", 1) != 0)
		return -1;
	i = strtol(name + 1, &end, 10);
	return (*end == '\0' && i >= 0 && i < count) ? (int)i : -1;
}

/* readdir: exact sets, d_ino/d_type, telldir/seekdir, delete while listing. */
void posix_readdir(void)
{
	enum { N = 1000 };
	static unsigned char seen[N];
	char names_a[10][NAME_MAX + 1], names_b[10][NAME_MAX + 1];
	int present = 0, dups = 0, strays = 0, dots = 0, bad_ino = 0, bad_type = 0;
	bool ok = true;
	DIR *d;

	tap_section("readdir");
	expect_ok(mkdir(wp("rd"), 0755), "mkdir for readdir");
	for (int i = 0; i < N && ok; i++) {
		int fd = open(wp("rd/e%d", i), O_CREAT | O_WRONLY | O_EXCL, 0644);
		ok = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	expect_true(ok, "create 1000 files");
	for (int i = 0; i < N && ok; i += 3)
		ok = unlink(wp("rd/e%d", i)) == 0;
	expect_true(ok, "unlink every third file");
	for (int i = 0; i < N && ok; i += 3)
		ok = mkdir(wp("rd/e%d", i), 0755) == 0;
	expect_true(ok, "recreate them as directories");
	for (int i = 1; i < N && ok; i += 3)
		ok = unlink(wp("rd/e%d", i)) == 0;
	expect_true(ok, "unlink another third");

	memset(seen, 0, sizeof(seen));
	d = opendir(wp("rd"));
	expect_true(d != NULL, "opendir");
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
			dots++;
			continue;
		}
		int i = name_index(e->d_name, N);
		if (i < 0 || i % 3 == 1) {
			strays++;
			continue;
		}
		if (seen[i]++)
			dups++;
		present++;
		struct stat st;
		if (lstat(wp("rd/%s", e->d_name), &st) < 0 || st.st_ino != e->d_ino)
			bad_ino++;
		unsigned char want = i % 3 == 0 ? DT_DIR : DT_REG;
		if (e->d_type != DT_UNKNOWN && e->d_type != want)
			bad_type++;
	}
	if (d)
		closedir(d);
	expect_eq(dots, 2, "readdir returns . and .. once each");
	expect_eq(present, N - (N + 1) / 3, "readdir returns exactly the live entries (667)");
	expect_eq(dups, 0, "no entry returned twice");
	expect_eq(strays, 0, "no deleted or unknown entry returned");
	expect_eq(bad_ino, 0, "d_ino equals st_ino for every entry");
	expect_eq(bad_type, 0, "d_type matches the file type");
	expect_eq(nlink_of(wp("rd")), 2 + (N + 2) / 3, "directory nlink counts 334 subdirectories");

	/* telldir/seekdir: going back to a cursor replays the same names. */
	d = opendir(wp("rd"));
	long pos = -1;
	ok = d != NULL;
	for (int i = 0; ok && i < 100; i++)
		ok = readdir(d) != NULL;
	if (ok)
		pos = telldir(d);
	for (int i = 0; ok && i < 10; i++) {
		struct dirent *e = readdir(d);
		ok = e != NULL;
		if (ok)
			snprintf(names_a[i], sizeof(names_a[i]), "%s", e->d_name);
	}
	if (ok)
		seekdir(d, pos);
	for (int i = 0; ok && i < 10; i++) {
		struct dirent *e = readdir(d);
		ok = e != NULL;
		if (ok)
			snprintf(names_b[i], sizeof(names_b[i]), "%s", e->d_name);
	}
	for (int i = 0; ok && i < 10; i++)
		ok = strcmp(names_a[i], names_b[i]) == 0;
	expect_true(ok, "seekdir to a telldir position replays the same entries");
	if (d) {
		rewinddir(d);
		int count = 0;
		while (readdir(d))
			count++;
		expect_eq(count, present + 2, "rewinddir lists everything again");
		closedir(d);
	}

	/* rm -rf style: unlink each entry as it is returned; nothing may be skipped. */
	int removed = 0, errors = 0;
	for (int pass = 0; pass < 3; pass++) {
		d = opendir(wp("rd"));
		for (struct dirent *e; d && (e = readdir(d));) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			int i = name_index(e->d_name, N);
			int r = (i >= 0 && i % 3 == 0) ? rmdir(wp("rd/%s", e->d_name)) : unlink(wp("rd/%s", e->d_name));
			if (r == 0)
				removed++;
			else
				errors++;
		}
		if (d)
			closedir(d);
		if (pass == 0)
			expect_eq(removed, present, "one pass of readdir+unlink removes every entry");
	}
	expect_eq(errors, 0, "no entry is returned after it was removed");
	expect_ok(rmdir(wp("rd")), "directory is empty after the deletions");
}
