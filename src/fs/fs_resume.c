/*
 * fs_resume.c — one FUSE connection served by successive worker processes:
 * the connection record, the replay of FUSE_INIT and FUSE_NOTIFY_RESEND.
 *
 * The kernel sends FUSE_INIT once per connection. The first worker answers
 * it and writes the request and its reply into the connection record, a
 * memfd the supervisor creates and holds (fs_conn_record_create), so it
 * outlives every worker. A later worker (fs_resume_attach found a record)
 * starts as already initialised: fs_resume_replay_init feeds the saved
 * request to libfuse through the session's read hook, and the writev hook
 * swallows libfuse's reply after comparing it with the saved one; a reply
 * that differs (a binary that would negotiate other flags) makes the worker
 * refuse to serve, and the connection stays as it was for the next worker.
 *
 * Requests a dead worker had read but not answered stay in the kernel's
 * processing queue; FUSE_NOTIFY_RESEND (Linux 6.9) moves them back to the
 * pending queue with FS_UNIQUE_RESEND set in their unique, and the new worker
 * serves them. The kernel says it can at INIT (FS_HAS_RESEND in flags2); the
 * record keeps that, so the supervisor knows whether a worker that died
 * uncleanly can be replaced on the same connection (fs_conn_record_can_resend).
 *
 * Record layout (host byte order; written only by workers, one at a time):
 *   struct fs_resume_header, then init_len bytes of the INIT request, then
 *   reply_len bytes of the reply (fuse_out_header + fuse_init_out); at
 *   FS_RESUME_APPLIED_OFFSET, the uniques of the last requests that changed
 *   the store (fs_resume_note_applied, before their reply), so that a
 *   resent request knows whether a dead worker applied it (fs_resent.c).
 * The header is written last, in one pwrite, so a worker killed while
 * writing leaves either no record or a whole one.
 *
 * State: the fs_resume_* globals belong to the one connection a process
 * serves; fs_resume_lock protects them where libfuse's threads meet (only the
 * INIT exchange, which happens before the multi-threaded loop starts).
 */
#include "fs_internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

/* Linux 6.9 protocol 7.40; Debian 12's <linux/fuse.h> (7.38) predates them. */
#define FS_NOTIFY_RESEND 7
#define FS_HAS_RESEND (1ULL << 39)
#define FS_UNIQUE_RESEND (1ULL << 63)

#define FS_RESUME_MAGIC 0x63667331u /* "cfs1" */
#define FS_RESUME_MAX_MESSAGE 4096

struct fs_resume_header {
	uint32_t magic;
	uint32_t init_len;
	uint32_t reply_len;
	uint32_t can_resend;
};

static pthread_mutex_t fs_resume_lock = PTHREAD_MUTEX_INITIALIZER;
static int fs_resume_record_fd = -1;
/* The INIT request: replayed (resumed) or as the kernel sent it (fresh). */
static char fs_resume_init[FS_RESUME_MAX_MESSAGE];
static size_t fs_resume_init_len;
static char fs_resume_reply[FS_RESUME_MAX_MESSAGE];
static size_t fs_resume_reply_len;
static bool fs_resume_resumed;      /* a record existed at attach */
static atomic_bool fs_resume_replay_due; /* the next read returns fs_resume_init */
static _Atomic uint64_t fs_resume_init_unique; /* INIT read, its reply not yet written; 0: none */
static bool fs_resume_mismatch;     /* this binary answered INIT differently */
static _Thread_local bool fs_resume_resent;
static _Thread_local uint64_t fs_resume_unique; /* of the request this thread serves, resend bit cleared */
static _Thread_local uint32_t fs_resume_opcode;

/* Test-only: with CLAIMFS_TEST_STALL_OPCODE=N in the environment, every
 * request of opcode N that is not a resend is held for FS_RESUME_STALL_S,
 * so that a test can kill the worker in the middle of serving it: right
 * after it was read (the kernel counts it as in flight), or, with
 * CLAIMFS_TEST_STALL_AT=applied, after it changed the store and before its
 * reply (the commit timer commits it meanwhile), or, with
 * CLAIMFS_TEST_STALL_AT=stored, after the store applied (and logged) it and
 * before this layer notes it as applied. */
#define FS_RESUME_STALL_S 3
enum fs_resume_point { FS_RESUME_AT_READ, FS_RESUME_AT_STORED, FS_RESUME_AT_APPLIED };
static long fs_resume_stall_opcode = -1;
static enum fs_resume_point fs_resume_stall_at = FS_RESUME_AT_READ;

static void fs_resume_stall_init(void)
{
	const char *text = getenv("CLAIMFS_TEST_STALL_OPCODE");
	const char *at = getenv("CLAIMFS_TEST_STALL_AT");

	if (text)
		fs_resume_stall_opcode = strtol(text, NULL, 10);
	if (at && strcmp(at, "applied") == 0)
		fs_resume_stall_at = FS_RESUME_AT_APPLIED;
	if (at && strcmp(at, "stored") == 0)
		fs_resume_stall_at = FS_RESUME_AT_STORED;
}

static void fs_resume_test_stall(enum fs_resume_point point)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, fs_resume_stall_init);
	if (fs_resume_stall_opcode >= 0 && fs_resume_opcode == (uint32_t)fs_resume_stall_opcode &&
	    point == fs_resume_stall_at && !fs_resume_resent) {
		log_warn("fs: test hook: holding request %llu (opcode %u) for %d s",
			 (unsigned long long)fs_resume_unique, fs_resume_opcode, FS_RESUME_STALL_S);
		sleep(FS_RESUME_STALL_S);
	}
}

bool fs_resume_test_other_init(void)
{
	const char *path = getenv("CLAIMFS_TEST_OTHER_INIT");

	return path && access(path, F_OK) == 0;
}

/* Which requests changed the store (fs_resume_note_applied): one slot per
 * unique modulo FS_RESUME_APPLIED_SLOTS, after the INIT exchange. Requests
 * in flight at once are far fewer than the slots (one per FUSE thread). */
#define FS_RESUME_APPLIED_SLOTS 1024u
#define FS_RESUME_APPLIED_OFFSET (sizeof(struct fs_resume_header) + 2 * FS_RESUME_MAX_MESSAGE)

static off_t fs_resume_applied_slot(uint64_t unique)
{
	return (off_t)(FS_RESUME_APPLIED_OFFSET + ((unique >> 1) % FS_RESUME_APPLIED_SLOTS) * sizeof(uint64_t));
}

void fs_note_request_applied(void)
{
	if (fs_resume_record_fd < 0 || fs_resume_unique == 0)
		return;
	if (pwrite(fs_resume_record_fd, &fs_resume_unique, sizeof(fs_resume_unique),
		   fs_resume_applied_slot(fs_resume_unique)) != (ssize_t)sizeof(fs_resume_unique))
		log_warn("fs: cannot note request %llu as applied: %s", (unsigned long long)fs_resume_unique,
			 strerror(errno));
}

void fs_resume_note_applied(void)
{
	fs_resume_test_stall(FS_RESUME_AT_STORED);
	fs_note_request_applied();
	fs_resume_test_stall(FS_RESUME_AT_APPLIED);
}

bool fs_resume_request_applied(void)
{
	uint64_t slot = 0;

	if (!fs_resume_resent || fs_resume_record_fd < 0)
		return false;
	if (pread(fs_resume_record_fd, &slot, sizeof(slot), fs_resume_applied_slot(fs_resume_unique)) !=
	    (ssize_t)sizeof(slot))
		return false;
	return slot == fs_resume_unique;
}

int fs_conn_record_create(void)
{
	int fd = memfd_create("claimfs-connection", MFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Read the record's header; 1 if there is a whole record, 0 if none. */
static int fs_resume_read_header(int record_fd, struct fs_resume_header *ret_header)
{
	struct fs_resume_header h = { 0 };
	ssize_t n = pread(record_fd, &h, sizeof(h), 0);

	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(h) || h.magic != FS_RESUME_MAGIC)
		return 0;
	if (h.init_len == 0 || h.init_len > FS_RESUME_MAX_MESSAGE || h.reply_len > FS_RESUME_MAX_MESSAGE)
		return -EBADMSG;
	*ret_header = h;
	return 1;
}

int fs_conn_record_can_resend(int record_fd)
{
	struct fs_resume_header h = { 0 };
	int r = fs_resume_read_header(record_fd, &h);

	return r <= 0 ? r : h.can_resend ? 1 : 0;
}

int fs_resume_attach(int record_fd, bool *ret_resumed)
{
	struct fs_resume_header h = { 0 };
	int r = fs_resume_read_header(record_fd, &h);

	if (r < 0)
		return r;
	fs_resume_record_fd = record_fd;
	fs_resume_resumed = r == 1;
	if (fs_resume_resumed) {
		if (pread(record_fd, fs_resume_init, h.init_len, sizeof(h)) != (ssize_t)h.init_len ||
		    pread(record_fd, fs_resume_reply, h.reply_len, sizeof(h) + h.init_len) !=
			    (ssize_t)h.reply_len)
			return -EBADMSG;
		fs_resume_init_len = h.init_len;
		fs_resume_reply_len = h.reply_len;
		atomic_store(&fs_resume_replay_due, true);
	}
	*ret_resumed = fs_resume_resumed;
	return 0;
}

/* Whether the kernel that sent this INIT can resend requests. A test can
 * pretend it cannot (CLAIMFS_TEST_NO_RESEND), to exercise the fallback. */
static bool fs_resume_init_offers_resend(const char *buf, size_t len)
{
	struct fuse_init_in init;

	if (len < sizeof(struct fuse_in_header) + offsetof(struct fuse_init_in, unused))
		return false;
	memcpy(&init, buf + sizeof(struct fuse_in_header), offsetof(struct fuse_init_in, unused));
	if (!(init.flags & FUSE_INIT_EXT))
		return false;
	if (getenv("CLAIMFS_TEST_NO_RESEND") != NULL)
		return false;
	return ((uint64_t)init.flags2 << 32 & FS_HAS_RESEND) != 0;
}

/* Write the record of a fresh connection once its INIT was answered. */
static void fs_resume_save(void)
{
	struct fs_resume_header h = { .magic = FS_RESUME_MAGIC, .init_len = (uint32_t)fs_resume_init_len,
				      .reply_len = (uint32_t)fs_resume_reply_len };

	h.can_resend = fs_resume_init_offers_resend(fs_resume_init, fs_resume_init_len);
	if (pwrite(fs_resume_record_fd, fs_resume_init, fs_resume_init_len, sizeof(h)) !=
		    (ssize_t)fs_resume_init_len ||
	    pwrite(fs_resume_record_fd, fs_resume_reply, fs_resume_reply_len, sizeof(h) + fs_resume_init_len) !=
		    (ssize_t)fs_resume_reply_len ||
	    pwrite(fs_resume_record_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		log_error("fs: cannot save the connection record (%s): a restarted worker will not be "
			  "able to serve this mount", strerror(errno));
		return;
	}
	if (!h.can_resend)
		log_warn("fs: the kernel cannot resend requests (FUSE_NOTIFY_RESEND needs Linux 6.9): "
			 "if this worker dies, processes using the mount get ENOTCONN");
}

/* A resumed worker reads INIT again: the first worker died after saving
 * the record and before its reply reached the kernel, and the resend
 * brought the request back. Answer it as the record says. */
static void fs_resume_answer_init(int fd, uint64_t unique)
{
	char reply[FS_RESUME_MAX_MESSAGE];
	struct fuse_out_header out;

	pthread_mutex_lock(&fs_resume_lock);
	size_t len = fs_resume_reply_len;
	memcpy(reply, fs_resume_reply, len);
	pthread_mutex_unlock(&fs_resume_lock);
	if (len < sizeof(out))
		return;
	memcpy(&out, reply, sizeof(out));
	out.unique = unique;
	memcpy(reply, &out, sizeof(out));
	if (write(fd, reply, len) != (ssize_t)len)
		log_error("fs: cannot answer the resent FUSE_INIT: %s", strerror(errno));
	else
		log_warn("fs: answered the FUSE_INIT the first worker died answering");
}

ssize_t fs_resume_read(int fd, void *buf, size_t size)
{
	struct fuse_in_header in;
	ssize_t res;

	/* Only the first read of a resumed worker, before the loop's threads
	 * exist: no lock on every request's path. */
	if (atomic_load(&fs_resume_replay_due) && size >= fs_resume_init_len) {
		atomic_store(&fs_resume_replay_due, false);
		memcpy(buf, fs_resume_init, fs_resume_init_len);
		memcpy(&in, fs_resume_init, sizeof(in));
		atomic_store(&fs_resume_init_unique, in.unique);
		fs_resume_resent = false;
		fs_resume_unique = 0;
		return (ssize_t)fs_resume_init_len;
	}
again:
	res = read(fd, buf, size);
	fs_resume_resent = false;
	fs_resume_unique = 0;
	if (res < (ssize_t)sizeof(in))
		return res;
	memcpy(&in, buf, sizeof(in));
	if (in.opcode == FUSE_INIT && fs_resume_resumed) {
		fs_resume_answer_init(fd, in.unique);
		goto again;
	}
	fs_resume_resent = (in.unique & FS_UNIQUE_RESEND) != 0;
	fs_resume_unique = in.unique & ~FS_UNIQUE_RESEND;
	fs_resume_opcode = in.opcode;
	fs_resume_test_stall(FS_RESUME_AT_READ);
	if (in.opcode == FUSE_INIT && fs_resume_record_fd >= 0 && (size_t)res <= FS_RESUME_MAX_MESSAGE) {
		pthread_mutex_lock(&fs_resume_lock);
		memcpy(fs_resume_init, buf, (size_t)res);
		fs_resume_init_len = (size_t)res;
		atomic_store(&fs_resume_init_unique, in.unique);
		pthread_mutex_unlock(&fs_resume_lock);
	}
	return res;
}

/* Flatten iov into out (at most size bytes); the byte count, or -EMSGSIZE. */
static ssize_t fs_resume_gather(const struct iovec *iov, int count, char *out, size_t size)
{
	size_t used = 0;

	for (int i = 0; i < count; i++) {
		if (iov[i].iov_len > size - used)
			return -EMSGSIZE;
		memcpy(out + used, iov[i].iov_base, iov[i].iov_len);
		used += iov[i].iov_len;
	}
	return (ssize_t)used;
}

ssize_t fs_resume_writev(int fd, const struct iovec *iov, int count)
{
	struct fuse_out_header out;
	char reply[FS_RESUME_MAX_MESSAGE];
	uint64_t init_unique = atomic_load(&fs_resume_init_unique);
	ssize_t len, res;

	/* Every reply but INIT's goes straight through, without the lock. */
	if (init_unique == 0 || count < 1 || iov[0].iov_len < sizeof(out))
		return writev(fd, iov, count);
	memcpy(&out, iov[0].iov_base, sizeof(out));
	if (out.unique != init_unique)
		return writev(fd, iov, count);
	pthread_mutex_lock(&fs_resume_lock);
	atomic_store(&fs_resume_init_unique, 0);
	len = fs_resume_gather(iov, count, reply, sizeof(reply));
	if (fs_resume_resumed) {
		/* The kernel has had its answer since the first worker: check
		 * that this binary would have said the same, and say nothing. */
		fs_resume_mismatch = len < 0 || (size_t)len != fs_resume_reply_len ||
				     memcmp(reply, fs_resume_reply, (size_t)len) != 0;
		pthread_mutex_unlock(&fs_resume_lock);
		return len < 0 ? (ssize_t)out.len : len;
	}
	/* Saved before the kernel sees the reply: a worker that dies in
	 * between leaves a record, and the next one answers the INIT the
	 * kernel then resends (fs_resume_answer_init). Saved after, the next
	 * one could not tell what the kernel was told. */
	if (len > 0 && fs_resume_record_fd >= 0) {
		memcpy(fs_resume_reply, reply, (size_t)len);
		fs_resume_reply_len = (size_t)len;
		fs_resume_save();
	}
	res = writev(fd, iov, count);
	pthread_mutex_unlock(&fs_resume_lock);
	return res;
}

int fs_resume_replay_init(struct fuse_session *se)
{
	struct fuse_buf buf = { .mem = NULL };
	int r;

	if (!fs_resume_resumed)
		return 0;
	r = fuse_session_receive_buf(se, &buf);
	if (r <= 0) {
		free(buf.mem);
		return r < 0 ? r : -EIO;
	}
	fuse_session_process_buf(se, &buf);
	free(buf.mem);
	pthread_mutex_lock(&fs_resume_lock);
	bool mismatch = fs_resume_mismatch || atomic_load(&fs_resume_replay_due);
	pthread_mutex_unlock(&fs_resume_lock);
	if (mismatch) {
		log_error("fs: this claimfsd answers the kernel's FUSE_INIT differently from the worker that "
			  "set up the connection (other protocol flags or limits): refusing to serve it; "
			  "the connection stays open for a worker that matches");
		return -EPROTO;
	}
	return 0;
}

int fs_resume_request_resend(int fd)
{
	struct fuse_out_header out = { .len = sizeof(out), .error = FS_NOTIFY_RESEND, .unique = 0 };
	ssize_t res = write(fd, &out, sizeof(out));

	if (res < 0)
		return -errno;
	return res == (ssize_t)sizeof(out) ? 0 : -EIO;
}

int fs_conn_record_present(int record_fd)
{
	struct fs_resume_header h = { 0 };

	return fs_resume_read_header(record_fd, &h);
}
