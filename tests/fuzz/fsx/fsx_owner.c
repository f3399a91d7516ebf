/*
 * fsx_owner.c — who runs each fsx operation, and the operations about
 * ownership: chown/lchown/fchown, mknod of every special type, fallocate in
 * every mode; after each operation, the mode (set-id bits included), owner
 * and group of what it touched must agree on both sides.
 *
 * A caller is drawn per operation: root (half the time) or one of two users
 * with supplementary groups. A user is entered with setgroups, setfsgid and
 * setfsuid, not setuid: a non-zero fsuid drops the filesystem capabilities
 * (CAP_CHOWN, CAP_FOWNER, CAP_FSETID, CAP_DAC_OVERRIDE, CAP_MKNOD...) from the
 * effective set, so the kernel and claimfs (which reads CapEff) see an
 * unprivileged caller, and fsuid 0 gives them back. fsx is single-threaded,
 * so the process-wide setgroups is the caller's.
 *
 * Invariant: outside fsx_caller_enter/fsx_caller_leave the process is root
 * with no supplementary groups (comparisons read everything).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsx.h"

static const struct {
	const char *name;
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t groups[2];
} fsx_callers[] = {
	{ "root", 0, 0, 0, { 0 } },
	{ "root", 0, 0, 0, { 0 } },
	{ "user 1000 (groups 1000, 100)", 1000, 1000, 2, { 1000, 100 } },
	{ "user 1001 (group 100)", 1001, 100, 1, { 100 } },
};

void fsx_caller_enter(struct fsx *f)
{
	size_t i = (size_t)fsx_below(f, sizeof(fsx_callers) / sizeof(fsx_callers[0]));

	f->caller = fsx_callers[i].name;
	if (fsx_callers[i].uid == 0)
		return;
	/* Failing here would make every later comparison meaningless. */
	if (setgroups(fsx_callers[i].ngroups, fsx_callers[i].groups) < 0) {
		perror("fsx: setgroups");
		_exit(2);
	}
	setfsgid(fsx_callers[i].gid);
	setfsuid(fsx_callers[i].uid);
	if ((uid_t)setfsuid((uid_t)-1) != fsx_callers[i].uid) {
		fprintf(stderr, "fsx: setfsuid(%u) did not take\n", fsx_callers[i].uid);
		_exit(2);
	}
}

void fsx_caller_leave(struct fsx *f)
{
	(void)f;
	setfsuid(0);
	setfsgid(0);
	if (setgroups(0, NULL) < 0 || (uid_t)setfsuid((uid_t)-1) != 0) {
		perror("fsx: back to root");
		_exit(2);
	}
}

bool fsx_check_owner(struct fsx *f)
{
	struct stat st[2];
	int r[2], err[2];

	if (f->dry)
		return true;
	for (int s = 0; s < 2; s++) {
		char p[4200];

		errno = 0;
		if (f->touched_slot >= 0 && f->slot[f->touched_slot].fd[s] >= 0)
			r[s] = fstat(f->slot[f->touched_slot].fd[s], &st[s]);
		else if (f->touched[0])
			r[s] = lstat(fsx_path(f, s, f->touched, p, sizeof(p)), &st[s]);
		else
			return true;
		err[s] = errno;
	}
	if (r[0] < 0 && r[1] < 0 && err[0] == err[1])
		return true; /* gone on both sides alike */
	if (r[0] < 0 || r[1] < 0)
		return fsx_same(f, r[0], err[0], r[1], err[1]);
	if (st[0].st_mode != st[1].st_mode || st[0].st_uid != st[1].st_uid || st[0].st_gid != st[1].st_gid)
		return fsx_fail(f, "after the operation, %s: mode %06o %u:%u, reference %06o %u:%u",
				f->touched_slot >= 0 ? f->slot[f->touched_slot].rel : f->touched,
				(unsigned)st[0].st_mode, st[0].st_uid, st[0].st_gid, (unsigned)st[1].st_mode,
				st[1].st_uid, st[1].st_gid);
	return true;
}

/* chown, lchown or fchown (through a slot) to ids drawn from root, the users and group 100. */
bool fsx_op_chown(struct fsx *f)
{
	static const uid_t uids[] = { (uid_t)-1, (uid_t)-1, 0, 1000, 1001 };
	static const gid_t gids[] = { (gid_t)-1, 0, 100, 1000, 1000 };
	uid_t uid = uids[fsx_below(f, sizeof(uids) / sizeof(uids[0]))];
	gid_t gid = gids[fsx_below(f, sizeof(gids) / sizeof(gids[0]))];

	unsigned how = (unsigned)fsx_below(f, 3);
	char rel[64], p[2][4200];

	if (how == 2) {
		int i = fsx_pick_slot(f);
		if (i < 0)
			return true;
		fsx_format(f->desc, sizeof(f->desc), "fchown slot%d(%s) %d:%d", i, f->slot[i].rel, (int)uid,
			   (int)gid);
		FSX_BOTH(f, fchown(f->slot[i].fd[0], uid, gid), fchown(f->slot[i].fd[1], uid, gid));
		return true;
	}
	fsx_pick_path(f, rel, sizeof(rel));
	for (int s = 0; s < 2; s++)
		fsx_path(f, s, rel, p[s], sizeof(p[s]));
	fsx_format(f->desc, sizeof(f->desc), "%s %s %d:%d", how ? "lchown" : "chown", rel, (int)uid, (int)gid);
	if (how)
		FSX_BOTH(f, lchown(p[0], uid, gid), lchown(p[1], uid, gid));
	else
		FSX_BOTH(f, chown(p[0], uid, gid), chown(p[1], uid, gid));
	return true;
}

/* mknod of a FIFO, socket, device node or regular file, set-id bits often on. */
bool fsx_op_mknod(struct fsx *f)
{
	static const mode_t types[] = { S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK, S_IFREG };
	static const mode_t perms[] = { 0644, 06755, 02745, 04555, 06777 };
	mode_t mode = types[fsx_below(f, 5)] | perms[fsx_below(f, 5)];
	dev_t dev = S_ISCHR(mode) ? makedev(1, 3) : S_ISBLK(mode) ? makedev(7, 0) : 0;
	char rel[64], p[2][4200];

	fsx_pick_path(f, rel, sizeof(rel));
	for (int s = 0; s < 2; s++)
		fsx_path(f, s, rel, p[s], sizeof(p[s]));
	fsx_format(f->desc, sizeof(f->desc), "mknod %s mode=%o", rel, (unsigned)mode);
	FSX_BOTH(f, mknod(p[0], mode, dev), mknod(p[1], mode, dev));
	return true;
}

/* fallocate on the reference: tmpfs has no FALLOC_FL_ZERO_RANGE, so it gets
 * what fallocate(2) defines the mode as, a punch and then an allocation. */
static int fsx_ref_fallocate(int fd, int mode, off_t off, off_t len)
{
	if (fallocate(fd, mode, off, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP || (mode & ~FALLOC_FL_KEEP_SIZE) != FALLOC_FL_ZERO_RANGE)
		return -1;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0)
		return -1;
	return fallocate(fd, mode & FALLOC_FL_KEEP_SIZE, off, len);
}

bool fsx_op_fallocate(struct fsx *f)
{
	static const int modes[] = {
		0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_COLLAPSE_RANGE,
	};
	int i = fsx_pick_slot(f);
	int mode = modes[fsx_below(f, sizeof(modes) / sizeof(modes[0]))];
	off_t off = fsx_offset(f);
	off_t len = (off_t)fsx_below(f, FSX_MAX_IO) + (fsx_below(f, 8) ? 1 : 0);

	if (i < 0)
		return true;
	fsx_format(f->desc, sizeof(f->desc), "fallocate slot%d(%s) mode=%#x off=%lld len=%lld", i,
		   f->slot[i].rel, mode, (long long)off, (long long)len);
	FSX_BOTH(f, fallocate(f->slot[i].fd[0], mode, off, len), fsx_ref_fallocate(f->slot[i].fd[1], mode, off, len));
	return true;
}
