/*
 * fs_killpriv.c — FUSE_HANDLE_KILLPRIV_V2 on top of libfuse 3.14.
 *
 * Without it, the kernel asks the server for security.capability (a GETXATTR
 * round trip) before every write(2) to see whether privileges must be
 * dropped: for small writes that is half of all requests. With it (protocol
 * 7.33, Linux 5.11), the server clears the set-id bits itself on write,
 * truncate and chown when the kernel says so, and the kernel marks the
 * superblock SB_NOSEC: after one check an inode without privileges to drop
 * is flagged S_NOSEC and its writes go straight to WRITE (the VFS clears the
 * flag when set-id bits or a security.* xattr are set).
 *
 * libfuse 3.14 neither offers the flag in its INIT reply nor passes the
 * per-request KILL_SUIDGID flags to the handlers, so both are done here,
 * through fuse_session_custom_io():
 *   - read hook: record the INIT request (its unique and whether the kernel
 *     offers KILLPRIV_V2) and, for every request, whether it asks for the
 *     set-id bits to be cleared, in a thread-local flag (libfuse handles a
 *     request in the worker thread that read it);
 *   - writev hook: add FUSE_HANDLE_KILLPRIV_V2 to the reply to that INIT.
 * Both hooks go through fs_resume.c, which saves or replays the INIT of a
 * connection that outlives its worker processes.
 * If the kernel does not offer the flag nothing changes: it keeps clearing
 * the bits itself and the thread-local flag stays false.
 *
 * On chown the kernel asks for the kill without having looked at the
 * caller's capabilities (it does for write and truncate), so
 * fs_killpriv_caller_has_cap reads them from /proc for the rules that need
 * them: an S_ISGID without group execute stays for a caller with
 * CAP_FSETID, as in the VFS's setattr_should_drop_sgid, and chown(-1, -1)
 * may clear set-id bits only for the owner or a caller with CAP_FOWNER.
 *
 * chown(-1, -1) by anyone else: the VFS turns its kill into a mode change,
 * which tmpfs refuses with EPERM to a caller who neither owns the file nor
 * has CAP_FOWNER; the FUSE module drops that mode change and sends a SETATTR
 * with no valid bit at all, byte for byte the one it sends before such a
 * user's write (after which the WRITE carries FUSE_WRITE_KILL_SUIDGID; seen
 * on the channel: GETXATTR security.capability, SETATTR valid=0, in both
 * cases). The caller is blocked in its system call while we answer, so
 * fs_killpriv_caller_in_chown reads which one from /proc/<pid>/syscall
 * (the header's pid is the calling thread's): only a chown-family call is
 * refused; anything /proc cannot name keeps the write's behaviour.
 */
#include "fs_killpriv.h"

#include "fs_internal.h"
#include "log.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The INIT request: its unique (0: not seen yet) and whether the kernel offers the flag. */
static _Atomic uint64_t fs_killpriv_init_unique;
static atomic_bool fs_killpriv_init_offers_v2;
static _Thread_local bool fs_killpriv_kill;

bool fs_killpriv_requested(void)
{
	return fs_killpriv_kill;
}

bool fs_killpriv_caller_has_cap(pid_t pid, uid_t uid, int cap)
{
	char path[64], line[256];
	unsigned long long caps;
	bool found = false, has = false;
	FILE *f = NULL;

	if (pid > 0 && snprintf(path, sizeof(path), "/proc/%d/status", (int)pid) < (int)sizeof(path))
		f = fopen(path, "re");
	if (!f)
		return uid == 0; /* caller gone or outside our pid namespace: its uid says it */
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			found = true;
			has = (caps >> cap) & 1;
		}
	}
	fclose(f);
	return found ? has : uid == 0;
}

/* The system calls that change an owner (those the architecture has). */
static const long fs_killpriv_chown_calls[] = {
#ifdef SYS_chown
	SYS_chown,
#endif
#ifdef SYS_lchown
	SYS_lchown,
#endif
#ifdef SYS_chown32
	SYS_chown32,
	SYS_lchown32,
	SYS_fchown32,
#endif
	SYS_fchown,
	SYS_fchownat,
};

bool fs_killpriv_caller_in_chown(pid_t pid)
{
	char path[64], line[64];
	char *end = NULL;
	bool found = false;
	FILE *f = NULL;
	long nr;

	if (pid > 0 && snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid) < (int)sizeof(path))
		f = fopen(path, "re");
	if (!f)
		return false;
	/* "<nr> <args...>" while blocked in a call; "running" or "-1 ..." otherwise. */
	if (fgets(line, sizeof(line), f)) {
		nr = strtol(line, &end, 10);
		for (size_t i = 0; end != line && *end == ' ' &&
				   i < sizeof(fs_killpriv_chown_calls) / sizeof(fs_killpriv_chown_calls[0]);
		     i++)
			found = found || nr == fs_killpriv_chown_calls[i];
	}
	fclose(f);
	return found;
}

/* Where a request that may ask for the set-id bits to go says so: a 32-bit
 * field at `offset` in its argument, tested against `mask`. */
static const struct {
	uint32_t opcode;
	size_t offset;
	uint32_t mask;
} fs_killpriv_kill_fields[] = {
	{ FUSE_WRITE, offsetof(struct fuse_write_in, write_flags), FUSE_WRITE_KILL_SUIDGID },
	{ FUSE_SETATTR, offsetof(struct fuse_setattr_in, valid), FATTR_KILL_SUIDGID },
	{ FUSE_OPEN, offsetof(struct fuse_open_in, open_flags), FUSE_OPEN_KILL_SUIDGID },
	{ FUSE_CREATE, offsetof(struct fuse_create_in, open_flags), FUSE_OPEN_KILL_SUIDGID },
};

/* Whether the request in buf (len bytes, a whole request) asks to clear the set-id bits. */
static bool fs_killpriv_request_kills(const struct fuse_in_header *in, const char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(fs_killpriv_kill_fields) / sizeof(fs_killpriv_kill_fields[0]); i++) {
		uint32_t field;

		if (fs_killpriv_kill_fields[i].opcode != in->opcode)
			continue;
		if (len < sizeof(*in) + fs_killpriv_kill_fields[i].offset + sizeof(field))
			return false;
		memcpy(&field, buf + sizeof(*in) + fs_killpriv_kill_fields[i].offset, sizeof(field));
		return (field & fs_killpriv_kill_fields[i].mask) != 0;
	}
	return false;
}

static ssize_t fs_killpriv_read(int fd, void *buf, size_t size, void *userdata)
{
	ssize_t res = fs_resume_read(fd, buf, size);
	struct fuse_in_header in;

	(void)userdata;
	fs_killpriv_kill = false;
	if (res < (ssize_t)sizeof(in))
		return res;
	memcpy(&in, buf, sizeof(in));
	if (in.opcode == FUSE_INIT) {
		struct fuse_init_in init;
		if ((size_t)res >= sizeof(in) + offsetof(struct fuse_init_in, flags) + sizeof(init.flags)) {
			memcpy(&init.flags, (const char *)buf + sizeof(in) + offsetof(struct fuse_init_in, flags),
			       sizeof(init.flags));
			atomic_store(&fs_killpriv_init_offers_v2, (init.flags & FUSE_HANDLE_KILLPRIV_V2) != 0);
			atomic_store(&fs_killpriv_init_unique, in.unique);
		}
		return res;
	}
	fs_killpriv_kill = fs_killpriv_request_kills(&in, buf, (size_t)res);
	return res;
}

static ssize_t fs_killpriv_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct fuse_out_header out;
	uint64_t init_unique = atomic_load(&fs_killpriv_init_unique);

	(void)userdata;
	if (init_unique == 0 || count != 2 || iov[0].iov_len < sizeof(out) ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(uint32_t) ||
	    iov[1].iov_len > sizeof(struct fuse_init_out))
		return fs_resume_writev(fd, iov, count);
	memcpy(&out, iov[0].iov_base, sizeof(out));
	if (out.unique != init_unique || out.error != 0 || !atomic_load(&fs_killpriv_init_offers_v2))
		return fs_resume_writev(fd, iov, count);

	/* The reply to INIT: the same bytes with the flag added. */
	struct fuse_init_out init;
	struct iovec patched[2] = { iov[0], { .iov_base = &init, .iov_len = iov[1].iov_len } };
	memset(&init, 0, sizeof(init));
	memcpy(&init, iov[1].iov_base, iov[1].iov_len);
	init.flags |= FUSE_HANDLE_KILLPRIV_V2;
	init.flags &= ~(uint32_t)FUSE_HANDLE_KILLPRIV;
	ssize_t res = fs_resume_writev(fd, patched, 2);
	if (res >= 0)
		log_debug("fs: FUSE_HANDLE_KILLPRIV_V2 negotiated");
	atomic_store(&fs_killpriv_init_unique, 0);
	return res;
}

int fs_killpriv_install(struct fuse_session *se, int fd)
{
	static const struct fuse_custom_io io = {
		.read = fs_killpriv_read,
		.writev = fs_killpriv_writev,
	};

	atomic_store(&fs_killpriv_init_unique, 0);
	int r = fuse_session_custom_io(se, &io, fd);
	return r < 0 ? r : 0;
}
