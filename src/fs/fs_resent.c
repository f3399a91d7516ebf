/*
 * fs_resent.c — a resent request (FUSE_NOTIFY_RESEND after a worker died)
 * may find its own effect already there: the dead worker's batch may have
 * committed it before the reply went out. Writes, truncates, attribute and
 * xattr sets do the same thing again; what would fail the second time is
 * checked against the committed state here.
 *
 * Only a request the dead worker had applied (fs_resume_request_applied:
 * its unique is in the connection record, noted before any reply) is
 * considered; whether what it applied was committed is read from the store.
 * That is exact because the kernel holds the parent directory locked
 * (i_rwsem, exclusive; both parents for rename) from the first send of a
 * create, mkdir, mknod, symlink, link, unlink, rmdir or rename until its
 * reply, and only this mount changes a volume: if an applied creation finds
 * its name taken by an object of the kind it creates, it is its own; if an
 * applied removal finds its name gone, it removed it. A RENAME_EXCHANGE
 * leaves nothing to check: it is answered without being applied again when
 * the store holds everything the dead worker applied (its redo log was
 * replayed whole, store_redo_nothing_lost); otherwise it is applied again,
 * which swaps the names back if its batch had committed.
 *
 * Owns nothing; called only while the request's reply has not been sent.
 */
#include "fs_internal.h"

#include "store.h"

#include <errno.h>
#include <sys/stat.h>

int fs_resent_created(struct store *s, uint64_t parent, const char *name, uint32_t type, uint64_t ino,
		      int r, struct store_attr *ret_attr)
{
	struct store_attr a;

	if (r == 0)
		fs_resume_note_applied();
	if (r != -EEXIST || !fs_resume_request_applied())
		return r;
	if (store_lookup(s, parent, name, &a) < 0)
		return r;
	if ((a.mode & S_IFMT) != type || (ino != 0 && a.ino != ino)) {
		store_forget(s, a.ino, 1);
		return r;
	}
	*ret_attr = a;
	return 0;
}

bool fs_resent_in_store(struct store *s)
{
	return fs_resume_request_applied() && store_redo_nothing_lost(s);
}

int fs_resent_removed(int r, int gone)
{
	if (r == 0)
		fs_resume_note_applied();
	return r == -gone && fs_resume_request_applied() ? 0 : r;
}
