/*
 * posix_access.c — permission checks as seen by an unprivileged user
 * (nobody:nogroup, no supplementary groups), sticky and setgid directories,
 * set-id bits and file capabilities dropped by writes, truncates and chown
 * (posix_setid), the read-only top levels of a
 * claimfs mount (mount root and namespace directories), and EXDEV between
 * two claims.
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/xattr.h>
#include <unistd.h>

/* ---- operations run as nobody: return 0 or -errno ---- */

/* open A for writing. */
static int op_open_write(const char *a, const char *b)
{
	int fd = open(a, O_WRONLY);

	(void)b;
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* open A for reading. */
static int op_open_read(const char *a, const char *b)
{
	int fd = open(a, O_RDONLY);

	(void)b;
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* create A (exclusive). */
static int op_create(const char *a, const char *b)
{
	int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);

	(void)b;
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* write one byte at the start of A. */
static int op_write_byte(const char *a, const char *b)
{
	int fd = open(a, O_WRONLY);
	int r = 0;

	(void)b;
	if (fd < 0)
		return -errno;
	if (pwrite(fd, "w", 1, 0) != 1)
		r = -errno;
	close(fd);
	return r;
}

/* mkdir A. */
static int op_mkdir(const char *a, const char *b)
{
	(void)b;
	return mkdir(a, 0755) < 0 ? -errno : 0;
}

/* unlink A. */
static int op_unlink(const char *a, const char *b)
{
	(void)b;
	return unlink(a) < 0 ? -errno : 0;
}

/* rmdir A. */
static int op_rmdir(const char *a, const char *b)
{
	(void)b;
	return rmdir(a) < 0 ? -errno : 0;
}

/* rename A to B. */
static int op_rename(const char *a, const char *b)
{
	return rename(a, b) < 0 ? -errno : 0;
}

/* chmod A 0777. */
static int op_chmod(const char *a, const char *b)
{
	(void)b;
	return chmod(a, 0777) < 0 ? -errno : 0;
}

/* chown A to nobody. */
static int op_chown(const char *a, const char *b)
{
	(void)b;
	return chown(a, POSIX_NOBODY_UID, POSIX_NOBODY_GID) < 0 ? -errno : 0;
}

/* utimensat A to now. */
static int op_touch_now(const char *a, const char *b)
{
	(void)b;
	return utimensat(AT_FDCWD, a, NULL, 0) < 0 ? -errno : 0;
}

/* utimensat A to explicit times. */
static int op_touch_explicit(const char *a, const char *b)
{
	struct timespec t[2] = { { 1, 0 }, { 1, 0 } };

	(void)b;
	return utimensat(AT_FDCWD, a, t, 0) < 0 ? -errno : 0;
}

/* truncate A to 0 by path. */
static int op_truncate(const char *a, const char *b)
{
	(void)b;
	return truncate(a, 0) < 0 ? -errno : 0;
}

/* open A for writing and ftruncate it to 0. */
static int op_ftruncate(const char *a, const char *b)
{
	int fd = open(a, O_WRONLY);
	int r = 0;

	(void)b;
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, 0) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* open A with O_WRONLY | O_TRUNC. */
static int op_open_trunc(const char *a, const char *b)
{
	int fd = open(a, O_WRONLY | O_TRUNC);

	(void)b;
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Expect OP(A, B) as nobody to give WANT (0 or a positive errno). */
static void nobody_expect(nobody_fn op, const char *a, const char *b, int want, const char *desc)
{
	int r = as_nobody(op, a, b);

	if (!tap_ok(r == -want, "%s", desc))
		tap_diag("expected %s got %s", errno_name(want),
			 r == -ECHILD ? "a dead child" : errno_name(-r));
}

/* Like nobody_expect but either of two errors passes. */
static void nobody_expect2(nobody_fn op, const char *a, const char *b, int want1, int want2,
			   const char *desc)
{
	int r = as_nobody(op, a, b);

	if (!tap_ok(r == -want1 || r == -want2, "%s", desc))
		tap_diag("expected %s or %s got %s", errno_name(want1), errno_name(want2),
			 errno_name(-r));
}

/* Permissions, sticky and setgid directories as nobody. */
void posix_access(void)
{
	struct stat st;

	tap_section("permissions as nobody");
	expect_ok(write_file(wp("root644"), 0644, 10, 50), "root creates a 0644 file");
	expect_ok(chmod(wp("root644"), 0644), "chmod 0644");
	nobody_expect(op_open_write, wp("root644"), NULL, EACCES, "nobody cannot write a 0644 root file (EACCES)");
	nobody_expect(op_open_read, wp("root644"), NULL, 0, "nobody can read a 0644 root file");
	expect_ok(write_file(wp("root600"), 0600, 10, 51), "root creates a 0600 file");
	expect_ok(chmod(wp("root600"), 0600), "chmod 0600");
	nobody_expect(op_open_read, wp("root600"), NULL, EACCES, "nobody cannot read a 0600 root file (EACCES)");
	nobody_expect(op_chmod, wp("root644"), NULL, EPERM, "nobody cannot chmod root's file (EPERM)");
	nobody_expect(op_chown, wp("root644"), NULL, EPERM, "nobody cannot chown root's file (EPERM)");
	nobody_expect(op_touch_explicit, wp("root644"), NULL, EPERM,
		      "nobody cannot set explicit times on root's file (EPERM)");
	nobody_expect(op_touch_now, wp("root644"), NULL, EACCES,
		      "nobody cannot touch a file it cannot write (EACCES)");
	expect_ok(write_file(wp("root666"), 0666, 1, 0), "root creates a 0666 file");
	expect_ok(chmod(wp("root666"), 0666), "chmod 0666");
	nobody_expect(op_touch_now, wp("root666"), NULL, 0, "nobody can touch (UTIME_NOW) a writable file");

	expect_ok(mkdir(wp("closed"), 0755), "root creates a 0755 directory");
	nobody_expect(op_create, wp("closed/n"), NULL, EACCES, "nobody cannot create in a 0755 root dir (EACCES)");
	nobody_expect(op_unlink, wp("root644"), NULL, 0,
		      "nobody can delete root's file in a 0777 non-sticky dir");
	expect_ok(mkdir(wp("open"), 0777), "root creates a directory");
	expect_ok(chmod(wp("open"), 0777), "chmod 0777");
	nobody_expect(op_create, wp("open/n"), NULL, 0, "nobody can create in a 0777 dir");
	expect_ok(lstat(wp("open/n"), &st), "stat nobody's file");
	expect_true(st.st_uid == POSIX_NOBODY_UID && st.st_gid == POSIX_NOBODY_GID,
		    "nobody's new file is owned by nobody:nogroup");
	nobody_expect(op_mkdir, wp("open/nd"), NULL, 0, "nobody can mkdir in a 0777 dir");
	expect_ok(lstat(wp("open/nd"), &st), "stat nobody's dir");
	expect_true(st.st_uid == POSIX_NOBODY_UID && (st.st_mode & 07777) == 0755,
		    "nobody's new dir is owned by nobody with mode 0755");
	nobody_expect(op_rename, wp("open/n"), wp("open/n2"), 0, "nobody can rename its own file");
	nobody_expect(op_rmdir, wp("open/nd"), NULL, 0, "nobody can remove its own dir");

	tap_section("sticky directory");
	expect_ok(mkdir(wp("sticky"), 0777), "mkdir sticky");
	expect_ok(chmod(wp("sticky"), 01777), "chmod 01777");
	expect_ok(lstat(wp("sticky"), &st), "stat sticky dir");
	expect_eq(st.st_mode & 07777, 01777, "sticky bit set");
	expect_ok(write_file(wp("sticky/rootf"), 0666, 1, 0), "root file in sticky dir");
	expect_ok(chmod(wp("sticky/rootf"), 0666), "chmod 0666 in sticky dir");
	nobody_expect2(op_unlink, wp("sticky/rootf"), NULL, EPERM, EACCES,
		       "nobody cannot delete root's file in a sticky dir");
	nobody_expect2(op_rename, wp("sticky/rootf"), wp("sticky/moved"), EPERM, EACCES,
		       "nobody cannot rename root's file in a sticky dir");
	nobody_expect(op_write_byte, wp("sticky/rootf"), NULL, 0, "nobody can still write the 0666 file");
	nobody_expect(op_create, wp("sticky/mine"), NULL, 0, "nobody can create in a sticky dir");
	nobody_expect(op_unlink, wp("sticky/mine"), NULL, 0, "nobody can delete its own file in a sticky dir");
	expect_ok(unlink(wp("sticky/rootf")), "root can delete its file in the sticky dir");

	tap_section("setgid directory");
	expect_ok(mkdir(wp("sgid"), 0777), "mkdir sgid");
	expect_ok(chown(wp("sgid"), 0, 4242), "chown sgid dir to group 4242");
	expect_ok(chmod(wp("sgid"), 02777), "chmod 02777");
	expect_ok(write_file(wp("sgid/rootf"), 0644, 1, 0), "root creates a file in the setgid dir");
	expect_ok(lstat(wp("sgid/rootf"), &st), "stat file in setgid dir");
	expect_eq(st.st_gid, 4242, "new file takes the setgid dir's group");
	expect_ok(mkdir(wp("sgid/sub"), 0755), "root creates a subdir in the setgid dir");
	expect_ok(lstat(wp("sgid/sub"), &st), "stat subdir of setgid dir");
	expect_eq(st.st_gid, 4242, "new subdir takes the setgid dir's group");
	expect_true((st.st_mode & S_ISGID) != 0, "new subdir inherits S_ISGID");
	nobody_expect(op_create, wp("sgid/nobodyf"), NULL, 0, "nobody creates a file in the setgid dir");
	expect_ok(lstat(wp("sgid/nobodyf"), &st), "stat nobody's file in setgid dir");
	expect_true(st.st_uid == POSIX_NOBODY_UID && st.st_gid == 4242,
		    "nobody's file gets uid nobody and the dir's group");
	nobody_expect(op_mkdir, wp("sgid/nobodyd"), NULL, 0, "nobody creates a subdir in the setgid dir");
	expect_ok(lstat(wp("sgid/nobodyd"), &st), "stat nobody's subdir in setgid dir");
	expect_true(st.st_gid == 4242 && (st.st_mode & S_ISGID), "nobody's subdir gets the group and S_ISGID");

	const char *names[] = { "root600", "root666" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(wp("%s", names[i]));
	posix_remove_tree(wp("closed"));
	posix_remove_tree(wp("open"));
	posix_remove_tree(wp("sticky"));
	posix_remove_tree(wp("sgid"));
}

/* The mount root and namespace directories are not writable by anyone. */
void posix_toplevel(void)
{
	char claim[PATH_MAX], ns[PATH_MAX], root[PATH_MAX], tmp[PATH_MAX];
	struct stat st;

	tap_section("top levels (mount root, namespace directory)");
	if (posix_cfg.plain) {
		tap_skip("not claimfs", "top-level directories are read-only");
		return;
	}
	if (!realpath(posix_cfg.dir, claim)) {
		expect_ok(-1, "resolve the claim directory");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", claim);
	snprintf(ns, sizeof(ns), "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", ns);
	snprintf(root, sizeof(root), "%s", dirname(tmp));

	expect_ok(lstat(ns, &st), "stat namespace dir");
	expect_true(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 && st.st_uid == 0,
		    "namespace dir is 0755 root-owned");
	expect_ok(lstat(root, &st), "stat mount root");
	expect_true(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 && st.st_uid == 0,
		    "mount root is 0755 root-owned");
	expect_ok(lstat(claim, &st), "stat claim dir");
	expect_true(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0777, "claim dir is mode 0777");

	expect_errno(mkdir(pj(root, "x"), 0755), EPERM, "root: mkdir at the mount root -> EPERM");
	expect_errno(open(pj(root, "x"), O_CREAT | O_WRONLY, 0644), EPERM, "root: create at the mount root -> EPERM");
	expect_errno(symlink("t", pj(root, "x")), EPERM, "root: symlink at the mount root -> EPERM");
	expect_errno(mknod(pj(root, "x"), S_IFIFO | 0644, 0), EPERM, "root: mknod at the mount root -> EPERM");
	expect_errno(mkdir(pj(ns, "x"), 0755), EPERM, "root: mkdir in a namespace dir -> EPERM");
	expect_errno(open(pj(ns, "x"), O_CREAT | O_WRONLY, 0644), EPERM,
		     "root: create in a namespace dir -> EPERM");
	expect_errno(rmdir(claim), EPERM, "root: rmdir a claim dir -> EPERM");
	expect_errno(rename(claim, pj(ns, "renamed-claim")), EPERM, "root: rename a claim dir -> EPERM");
	expect_errno(rmdir(ns), EPERM, "root: rmdir a namespace dir -> EPERM");
	expect_errno(rename(ns, pj(root, "renamed-ns")), EPERM, "root: rename a namespace dir -> EPERM");
	expect_ok(write_file(wp("tl"), 0644, 1, 0), "file inside the claim");
	expect_errno(link(wp("tl"), pj(ns, "x")), EPERM, "root: link into a namespace dir -> EPERM");
	expect_errno(rename(wp("tl"), pj(ns, "x")), EPERM, "root: rename a file into a namespace dir -> EPERM");
	expect_errno(rename(wp("tl"), pj(root, "x")), EPERM, "root: rename a file to the mount root -> EPERM");
	expect_ok(mkdir(wp("tld"), 0755), "dir inside the claim");
	expect_errno(rename(wp("tld"), pj(root, "x")), EPERM, "root: move a dir to the mount root -> EPERM");
	if (posix_cfg.other_dir)
		expect_errno2(rename(claim, pj(posix_cfg.other_dir, "claim-%ld", (long)getpid())), EPERM,
			      EXDEV, "root: move a claim dir into another claim is refused");
	unlink(wp("tl"));
	rmdir(wp("tld"));
	expect_ok(lstat(claim, &st), "claim dir still there after the refused operations");
	expect_eq(lstat_e(pj(ns, "renamed-claim"), &st), -ENOENT, "no renamed claim appeared");

	/* Kubernetes fsGroup handling chowns and chmods the volume root: it must work. */
	expect_ok(chown(claim, 0, 2000), "root: chown the claim root to group 2000 (fsGroup)");
	expect_ok(chmod(claim, 02775), "root: chmod the claim root 02775");
	expect_ok(lstat(claim, &st), "stat the claim root");
	expect_true(st.st_gid == 2000 && (st.st_mode & 07777) == 02775, "claim root has gid 2000, mode 02775");
	expect_ok(write_file(pj(claim, "fsgroup-%ld", (long)getpid()), 0644, 1, 0), "create in the claim root");
	expect_ok(lstat(pj(claim, "fsgroup-%ld", (long)getpid()), &st), "stat the new file");
	expect_eq(st.st_gid, 2000, "new file in the setgid claim root gets group 2000");
	unlink(pj(claim, "fsgroup-%ld", (long)getpid()));
	expect_ok(chmod(claim, 0777), "root: chmod the claim root back to 0777");
	expect_ok(chown(claim, 0, 0), "root: chown the claim root back to root");

	nobody_expect(op_mkdir, pj(root, "x"), NULL, EACCES, "nobody: mkdir at the mount root -> EACCES");
	nobody_expect(op_create, pj(root, "x"), NULL, EACCES, "nobody: create at the mount root -> EACCES");
	nobody_expect(op_mkdir, pj(ns, "x"), NULL, EACCES, "nobody: mkdir in a namespace dir -> EACCES");
	nobody_expect(op_create, pj(ns, "x"), NULL, EACCES, "nobody: create in a namespace dir -> EACCES");
	nobody_expect(op_rmdir, claim, NULL, EACCES, "nobody: rmdir a claim dir -> EACCES");
	nobody_expect(op_rename, claim, pj(ns, "x"), EACCES, "nobody: rename a claim dir -> EACCES");
	nobody_expect(op_create, pj(claim, "nobody-was-here"), NULL, 0, "nobody: create inside the 0777 claim dir");
	expect_ok(unlink(pj(claim, "nobody-was-here")), "remove nobody's file");
}

/* Hard links and renames between two claims fail with EXDEV. */
void posix_exdev(void)
{
	const char *other = posix_cfg.other_dir;
	struct stat st;

	tap_section("EXDEV across claims");
	if (!other) {
		tap_skip("no second claim given", "link/rename across claims -> EXDEV");
		return;
	}
	if (posix_cfg.plain) {
		struct stat a, b;

		if (stat(posix_workdir(), &a) < 0 || stat(other, &b) < 0 || a.st_dev == b.st_dev) {
			tap_skip("not claimfs and both directories on one filesystem",
				 "link/rename across claims -> EXDEV");
			return;
		}
	}
	expect_ok(write_file(wp("xf"), 0644, 10, 60), "file in the first claim");
	expect_ok(mkdir(wp("xd"), 0755), "dir in the first claim");
	expect_errno(link(wp("xf"), pj(other, "xf-%ld", (long)getpid())), EXDEV,
		     "link across claims -> EXDEV");
	expect_errno(rename(wp("xf"), pj(other, "xf-%ld", (long)getpid())), EXDEV,
		     "rename a file across claims -> EXDEV");
	expect_errno(rename(wp("xd"), pj(other, "xd-%ld", (long)getpid())), EXDEV,
		     "rename a dir across claims -> EXDEV");
	expect_ok(write_file(pj(other, "victim-%ld", (long)getpid()), 0644, 3, 61), "file in the second claim");
	expect_errno(rename(wp("xf"), pj(other, "victim-%ld", (long)getpid())), EXDEV,
		     "rename over a file in another claim -> EXDEV");
	expect_errno(renameat2(AT_FDCWD, wp("xf"), AT_FDCWD, pj(other, "victim-%ld", (long)getpid()),
			       RENAME_EXCHANGE),
		     EXDEV, "RENAME_EXCHANGE across claims -> EXDEV");
	expect_ok(verify_file(wp("xf"), 10, 60), "source intact after EXDEV");
	expect_ok(verify_file(pj(other, "victim-%ld", (long)getpid()), 3, 61), "target intact after EXDEV");
	expect_eq(lstat_e(pj(other, "xf-%ld", (long)getpid()), &st), -ENOENT, "nothing appeared in the other claim");
	unlink(pj(other, "victim-%ld", (long)getpid()));
	unlink(wp("xf"));
	rmdir(wp("xd"));
}

/* One set-id case: a file with mode `mode` gets `op` (as nobody, or as root
 * with CAP_FSETID), and must end with mode `want`, as on ext4. */
struct setid_case {
	const char *what;
	nobody_fn op;
	bool as_root;
	mode_t mode;
	mode_t want;
	bool nogroup; /* the file belongs to group nogroup (nobody's) */
};

static void setid_run(const struct setid_case *c, int i)
{
	const char *path = wp("setid%d", i);
	struct stat st;
	int r;

	if (write_file(path, 0777, 100, 7) < 0 ||
	    (c->nogroup && chown(path, 0, POSIX_NOBODY_GID) < 0) || chmod(path, c->mode) < 0) {
		expect_ok(-1, c->what);
		return;
	}
	r = c->as_root ? c->op(path, NULL) : as_nobody(c->op, path, NULL);
	if (r < 0) {
		if (!tap_ok(false, "%s", c->what))
			tap_diag("the operation failed: %s", errno_name(-r));
		unlink(path);
		return;
	}
	r = lstat_e(path, &st);
	if (!tap_ok(r == 0 && (st.st_mode & 07777) == c->want, "%s", c->what))
		tap_diag("expected mode %04o got %04o", (unsigned)c->want, (unsigned)(st.st_mode & 07777));
	unlink(path);
}

#define CAPS_XATTR "security.capability"

/* A valid version-2 file capability (cap_net_bind_service permitted). */
static int set_file_capability(const char *path)
{
	struct vfs_cap_data cap;

	memset(&cap, 0, sizeof(cap));
	cap.magic_etc = VFS_CAP_REVISION_2;
	cap.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
	return setxattr(path, CAPS_XATTR, &cap, XATTR_CAPS_SZ_2, 0) < 0 ? -errno : 0;
}

/* Which operations drop set-id bits and file capabilities: the kernel tells
 * claimfs (FUSE_HANDLE_KILLPRIV_V2) and the daemon clears them. */
void posix_setid(void)
{
	static const struct setid_case cases[] = {
		{ "nobody's write clears S_ISUID", op_write_byte, false, 04777, 0777, false },
		{ "nobody's write clears S_ISGID of a group-executable file", op_write_byte, false, 02777, 0777, false },
		{ "nobody's write clears S_ISGID without group execute (not in the file's group)",
		  op_write_byte, false, 02767, 0767, false },
		{ "nobody's write keeps S_ISGID without group execute in its own group", op_write_byte,
		  false, 02767, 02767, true },
		{ "nobody's write still clears S_ISUID in its own group", op_write_byte, false, 06767,
		  02767, true },
		{ "nobody's write clears both set-id bits", op_write_byte, false, 06777, 0777, false },
		{ "root's write keeps them (CAP_FSETID)", op_write_byte, true, 06777, 06777, false },
		{ "nobody's truncate(2) clears S_ISUID", op_truncate, false, 04777, 0777, false },
		{ "nobody's ftruncate(2) clears S_ISUID", op_ftruncate, false, 04777, 0777, false },
		{ "nobody's open(O_TRUNC) clears both set-id bits", op_open_trunc, false, 06777, 0777, false },
		{ "root's truncate(2) keeps them", op_truncate, true, 06777, 06777, false },
		{ "root's open(O_TRUNC) keeps them", op_open_trunc, true, 06777, 06777, false },
		{ "nobody's chmod-free open for writing keeps them", op_open_write, false, 06777, 06777, false },
	};
	struct stat st;
	char buf[64];

	tap_section("set-id bits and file capabilities");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		setid_run(&cases[i], (int)i);

	/* A file already written (the kernel skips the privilege check for it
	 * from then on) gets S_ISUID back: the next write must still clear it. */
	expect_ok(write_file(wp("again"), 0777, 10, 3), "create a file");
	expect_ok(chmod(wp("again"), 0777), "chmod 0777");
	nobody_expect(op_write_byte, wp("again"), NULL, 0, "nobody writes it");
	nobody_expect(op_write_byte, wp("again"), NULL, 0, "nobody writes it again");
	expect_ok(chmod(wp("again"), 04777), "chmod 04777");
	nobody_expect(op_write_byte, wp("again"), NULL, 0, "nobody writes it once more");
	expect_ok(lstat(wp("again"), &st), "stat");
	expect_eq(st.st_mode & 07777, 0777, "S_ISUID set after earlier writes is still cleared");

	/* security.capability goes away on write, truncate and chown, even root's. */
	const char *ops[] = { "write", "truncate", "chown" };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const char *path = wp("caps-%s", ops[i]);
		if (!expect_ok(write_file(path, 0755, 10, 4), "create a file for capabilities"))
			continue;
		int r = set_file_capability(path);
		if (r == -EOPNOTSUPP) {
			tap_skip("no security.capability here", "%s drops the file capability", ops[i]);
			unlink(path);
			continue;
		}
		expect_ok(r, "set security.capability");
		expect_true(getxattr(path, CAPS_XATTR, buf, sizeof(buf)) == XATTR_CAPS_SZ_2,
			    "the capability reads back");
		if (i == 0)
			r = op_write_byte(path, NULL);
		else if (i == 1)
			r = truncate(path, 5) < 0 ? -errno : 0;
		else
			r = chown(path, 1234, 1234) < 0 ? -errno : 0;
		expect_ok(r, ops[i]);
		expect_errno(getxattr(path, CAPS_XATTR, buf, sizeof(buf)), ENODATA,
			     i == 0   ? "root's write drops security.capability"
			     : i == 1 ? "root's truncate drops security.capability"
				      : "chown drops security.capability");
		unlink(path);
	}
	unlink(wp("again"));
}
