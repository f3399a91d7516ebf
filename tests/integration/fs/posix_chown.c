/*
 * posix_chown.c — set-id bits after chown, checked against the running
 * kernel's own tmpfs rather than a table of expected modes.
 *
 * For every file type (regular, directory, symlink, FIFO, socket, character
 * and block device), every way of changing the group (chown by path, chown
 * keeping the owner's own uid, chown through a symlink, chown naming neither
 * id, lchown, fchownat on an O_PATH descriptor; and a write(2) to a regular
 * file) and four callers (root; the owner, not in the file's old group; the
 * owner, in it; a user who does not own it, for chown naming neither id and
 * the write, which reach claimfs as the same empty SETATTR), each starting mode in
 * chown_modes is set on one object in the claim and one in a tmpfs this
 * program mounts, the same call runs on both, and the outcome (result,
 * mode, owner, group) must be the same.
 *
 * Invariants: the tmpfs (posix_tmpfs_mount) is unmounted before
 * posix_chown_setid returns; every object is removed after its comparison.
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The gids the cases use: the file's old group when the caller is not in
 * it (root's), the old group the caller is in (a supplementary group), and
 * the group root moves a file to. */
#define CHOWN_GID_FOREIGN 0
#define CHOWN_GID_SHARED 100
#define CHOWN_GID_ROOT_TARGET 4321

/* Starting modes: both bits with group execute (the 06555), each
 * bit alone, and S_ISGID without group execute (a mandatory-lock mark). */
static const mode_t chown_modes[] = { 06555, 06745, 02745, 04755, 02755, 06777 };

struct chown_type {
	const char *name;
	mode_t type;
};

static const struct chown_type chown_types[] = {
	{ "regular file", S_IFREG }, { "directory", S_IFDIR }, { "symlink", S_IFLNK },
	{ "FIFO", S_IFIFO },         { "socket", S_IFSOCK },   { "character device", S_IFCHR },
	{ "block device", S_IFBLK },
};

/* Who changes the group, the file's owner and old group before, and the new
 * group. A caller who is not the owner runs only the operations marked for
 * one (changing an id is plain EPERM for it, checked in posix_attrs.c). */
struct chown_who {
	const char *name;
	struct posix_caller caller;
	uid_t owner;
	gid_t old_gid;
	gid_t new_gid;
	bool not_owner;
};

static const struct chown_who chown_callers[] = {
	{ "root", { 0, 0, 0, { 0 } }, 0, CHOWN_GID_FOREIGN, CHOWN_GID_ROOT_TARGET, false },
	{ "the owner outside the old group",
	  { POSIX_NOBODY_UID, POSIX_NOBODY_GID, 1, { POSIX_NOBODY_GID } },
	  POSIX_NOBODY_UID, CHOWN_GID_FOREIGN, POSIX_NOBODY_GID, false },
	{ "the owner in the old group",
	  { POSIX_NOBODY_UID, POSIX_NOBODY_GID, 2, { POSIX_NOBODY_GID, CHOWN_GID_SHARED } },
	  POSIX_NOBODY_UID, CHOWN_GID_SHARED, POSIX_NOBODY_GID, false },
	{ "a user who does not own it",
	  { POSIX_NOBODY_UID, POSIX_NOBODY_GID, 1, { POSIX_NOBODY_GID } },
	  0, CHOWN_GID_FOREIGN, POSIX_NOBODY_GID, true },
};

/* The current case's owner and new group, read by the operations in the
 * forked child (fork copies them). */
static uid_t chown_owner;
static gid_t chown_new_gid;

/* ---- the operations: A is the object, B a symlink to it; 0 or -errno ---- */

static int chown_op_path(const char *a, const char *b)
{
	(void)b;
	return chown(a, (uid_t)-1, chown_new_gid) < 0 ? -errno : 0;
}

static int chown_op_own_uid(const char *a, const char *b)
{
	(void)b;
	return chown(a, chown_owner, chown_new_gid) < 0 ? -errno : 0;
}

/* Neither id: what a chown implies happens alone. */
static int chown_op_no_ids(const char *a, const char *b)
{
	(void)b;
	return chown(a, (uid_t)-1, (gid_t)-1) < 0 ? -errno : 0;
}

static int chown_op_symlink(const char *a, const char *b)
{
	(void)a;
	return chown(b, (uid_t)-1, chown_new_gid) < 0 ? -errno : 0;
}

static int chown_op_lchown(const char *a, const char *b)
{
	(void)b;
	return lchown(a, chown_owner, chown_new_gid) < 0 ? -errno : 0;
}

static int chown_op_fd(const char *a, const char *b)
{
	int fd = open(a, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int r = 0;

	(void)b;
	if (fd < 0)
		return -errno;
	if (fchownat(fd, "", (uid_t)-1, chown_new_gid, AT_EMPTY_PATH) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A write(2) by the caller: the kernel sends claimfs the same empty SETATTR
 * before it as for chown(path, -1, -1), and there it must succeed. */
static int chown_op_write(const char *a, const char *b)
{
	int fd = open(a, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	int r = 0;

	(void)b;
	if (fd < 0)
		return -errno;
	if (write(fd, "x", 1) < 0)
		r = -errno;
	close(fd);
	return r;
}

static const struct {
	const char *name;
	nobody_fn fn;
	bool by_not_owner;  /* also run by a caller who is not the owner */
	bool regular_only;
} chown_ops[] = {
	{ "chown(path, -1, gid)", chown_op_path, false, false },
	{ "chown(path, own uid, gid)", chown_op_own_uid, false, false },
	{ "chown through a symlink", chown_op_symlink, false, false },
	{ "chown(path, -1, -1)", chown_op_no_ids, true, false },
	{ "lchown(path, own uid, gid)", chown_op_lchown, false, false },
	{ "fchownat(O_PATH fd, \"\", AT_EMPTY_PATH)", chown_op_fd, false, false },
	{ "write(2)", chown_op_write, true, true },
};

/* What one run left: the call's result and the object's lstat. */
struct chown_outcome {
	int result;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Create the object `name` of type in dir with owner, group and mode
 * (a symlink keeps 0777: Linux has no mode for it), plus `name`.link
 * pointing at it. 0 or -errno. */
static int chown_make(const char *dir, const char *name, mode_t type, const struct chown_who *who,
		      mode_t mode)
{
	const char *path = pj(dir, "%s", name);
	int r;

	if (type == S_IFDIR)
		r = mkdir(path, 0700);
	else if (type == S_IFLNK)
		r = symlink("dangling-target", path);
	else
		r = mknod(path, type | 0600, type == S_IFCHR ? makedev(1, 3) : type == S_IFBLK ? makedev(7, 0) : 0);
	if (r < 0)
		return -errno;
	if (lchown(path, who->owner, who->old_gid) < 0)
		return -errno;
	if (type != S_IFLNK && chmod(path, mode) < 0)
		return -errno;
	if (symlink(name, pj(dir, "%s.link", name)) < 0)
		return -errno;
	return 0;
}

/* Remove the object and its link. */
static void chown_remove(const char *dir, const char *name, mode_t type)
{
	unlink(pj(dir, "%s.link", name));
	if (type == S_IFDIR)
		rmdir(pj(dir, "%s", name));
	else
		unlink(pj(dir, "%s", name));
}

/* One case in one directory; the outcome's result is -errno if setting up failed. */
static void chown_run_in(const char *dir, size_t t, size_t w, size_t o, mode_t mode,
			 struct chown_outcome *ret)
{
	const struct chown_who *who = &chown_callers[w];
	const char *name = "chown-case";
	struct stat st;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = chown_make(dir, name, chown_types[t].type, who, mode);
	if (r < 0) {
		tap_diag("setting up in %s: %s", dir, errno_name(-r));
		ret->result = -EIO;
		chown_remove(dir, name, chown_types[t].type);
		return;
	}
	chown_owner = who->owner;
	chown_new_gid = who->new_gid;
	ret->result = as_caller(&who->caller, chown_ops[o].fn, pj(dir, "%s", name), pj(dir, "%s.link", name));
	if (lstat(pj(dir, "%s", name), &st) == 0) {
		ret->mode = st.st_mode;
		ret->uid = st.st_uid;
		ret->gid = st.st_gid;
	}
	chown_remove(dir, name, chown_types[t].type);
}

/* All starting modes of one (type, caller, operation): one TAP line. */
static void chown_compare(const char *ref, size_t t, size_t w, size_t o)
{
	bool same = true;

	for (size_t m = 0; m < sizeof(chown_modes) / sizeof(chown_modes[0]); m++) {
		struct chown_outcome want, got;

		chown_run_in(ref, t, w, o, chown_modes[m], &want);
		chown_run_in(posix_workdir(), t, w, o, chown_modes[m], &got);
		if (want.result == got.result && want.mode == got.mode && want.uid == got.uid &&
		    want.gid == got.gid)
			continue;
		if (same)
			tap_diag("%s, %s, %s:", chown_types[t].name, chown_callers[w].name, chown_ops[o].name);
		same = false;
		tap_diag("  from %04o tmpfs: %s mode %06o %u:%u, claimfs: %s mode %06o %u:%u",
			 (unsigned)chown_modes[m], errno_name(-want.result), (unsigned)want.mode, want.uid,
			 want.gid, errno_name(-got.result), (unsigned)got.mode, got.uid, got.gid);
	}
	tap_ok(same, "%s by %s, %s: set-id bits as on tmpfs", chown_ops[o].name, chown_callers[w].name,
	       chown_types[t].name);
}

void posix_chown_setid(void)
{
	char ref[64];

	tap_section("set-id bits after chown, every file type, against tmpfs");
	if (!expect_ok(posix_tmpfs_mount(ref, sizeof(ref)), "mount the reference tmpfs"))
		return;
	for (size_t t = 0; t < sizeof(chown_types) / sizeof(chown_types[0]); t++)
		for (size_t w = 0; w < sizeof(chown_callers) / sizeof(chown_callers[0]); w++)
			for (size_t o = 0; o < sizeof(chown_ops) / sizeof(chown_ops[0]); o++)
				if ((!chown_callers[w].not_owner || chown_ops[o].by_not_owner) &&
				    (!chown_ops[o].regular_only || chown_types[t].type == S_IFREG))
					chown_compare(ref, t, w, o);
	posix_tmpfs_unmount(ref);
}
