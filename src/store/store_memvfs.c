/*
 * store_memvfs.c — the store's SQLite VFS: the database, its WAL and its
 * shared-memory index go to the real VFS below; temporary files (opened with
 * no name: the sub-journal that holds every operation's savepoint, temporary
 * b-trees) live in one growable memory buffer each.
 *
 * Why: SQLite's own in-memory sub-journal (temp_store = MEMORY) keeps its
 * content in 1 KiB chunks that it allocates when a page is journaled and
 * frees when the savepoint is released. With 16 KiB pages that is ~16
 * malloc/free pairs per page an operation changes, ~80 per unlink. Its other
 * mode (temp_store = FILE) spills to a file in $TMPDIR after 64 KiB, and an
 * operation must not fail because a temporary directory is full. Here the
 * buffer grows by doubling, is overwritten in place by the next savepoint
 * (SQLite rewinds its write offset on release), and is handed to the next
 * transaction's sub-journal when the transaction ends, so a steady stream of
 * operations allocates nothing.
 *
 * store_memvfs_spill_to_disk(true) sends this thread's temporary files to the
 * real VFS instead (a schema migration's statement journal can be as large
 * as the store).
 *
 * Concurrency: a file is used by one connection, under that connection's
 * mutex; the spare buffer is guarded by store_memvfs_lock.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A spare buffer larger than this is freed, not kept for the next file. */
#define MEMVFS_KEEP_BYTES (1u << 20)
#define MEMVFS_MIN_BYTES (64u << 10)

struct memvfs_file {
	sqlite3_file base;
	unsigned char *buf;
	size_t size; /* bytes of content */
	size_t cap;  /* bytes allocated */
};

/* One VFS over SQLite's default VFS and one over the fault-injection VFS. */
struct memvfs {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;
	char name[48];
};

static pthread_mutex_t store_memvfs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memvfs store_memvfs[2];
static unsigned store_memvfs_count;
static unsigned char *memvfs_spare;
static size_t memvfs_spare_cap;
static _Thread_local bool memvfs_to_disk;
static const sqlite3_io_methods memvfs_methods;

void store_memvfs_spill_to_disk(bool on)
{
	memvfs_to_disk = on;
}

static int memvfs_close(sqlite3_file *file)
{
	struct memvfs_file *f = (struct memvfs_file *)file;

	pthread_mutex_lock(&store_memvfs_lock);
	if (f->buf && f->cap <= MEMVFS_KEEP_BYTES && f->cap > memvfs_spare_cap) {
		unsigned char *old = memvfs_spare;
		memvfs_spare = f->buf;
		memvfs_spare_cap = f->cap;
		f->buf = old;
	}
	pthread_mutex_unlock(&store_memvfs_lock);
	free(f->buf);
	f->buf = NULL;
	f->size = f->cap = 0;
	return SQLITE_OK;
}

static int memvfs_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset)
{
	struct memvfs_file *f = (struct memvfs_file *)file;
	size_t n = (size_t)amount, off = (size_t)offset;

	if (offset < 0 || amount < 0)
		return SQLITE_IOERR_READ;
	if (off >= f->size) {
		memset(out, 0, n);
		return SQLITE_IOERR_SHORT_READ;
	}
	size_t have = f->size - off;
	if (have >= n) {
		memcpy(out, f->buf + off, n);
		return SQLITE_OK;
	}
	memcpy(out, f->buf + off, have);
	memset((unsigned char *)out + have, 0, n - have);
	return SQLITE_IOERR_SHORT_READ;
}

static int memvfs_reserve(struct memvfs_file *f, size_t need)
{
	if (need <= f->cap)
		return SQLITE_OK;
	size_t cap = f->cap ? f->cap : MEMVFS_MIN_BYTES;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return SQLITE_NOMEM;
		cap *= 2;
	}
	unsigned char *buf = realloc(f->buf, cap);
	if (!buf)
		return SQLITE_NOMEM;
	f->buf = buf;
	f->cap = cap;
	return SQLITE_OK;
}

static int memvfs_write(sqlite3_file *file, const void *in, int amount, sqlite3_int64 offset)
{
	struct memvfs_file *f = (struct memvfs_file *)file;
	size_t n = (size_t)amount, off = (size_t)offset;

	if (offset < 0 || amount < 0 || off > SIZE_MAX - n)
		return SQLITE_IOERR_WRITE;
	int rc = memvfs_reserve(f, off + n);
	if (rc != SQLITE_OK)
		return rc;
	if (off > f->size)
		memset(f->buf + f->size, 0, off - f->size);
	memcpy(f->buf + off, in, n);
	if (off + n > f->size)
		f->size = off + n;
	return SQLITE_OK;
}

static int memvfs_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct memvfs_file *f = (struct memvfs_file *)file;

	if (size < 0)
		return SQLITE_IOERR_TRUNCATE;
	if ((size_t)size < f->size)
		f->size = (size_t)size;
	return SQLITE_OK;
}

static int memvfs_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	*size = (sqlite3_int64)((struct memvfs_file *)file)->size;
	return SQLITE_OK;
}

/* xSync, xLock, xUnlock: nothing to do for memory nobody else sees. */
static int memvfs_nop(sqlite3_file *file, int arg)
{
	(void)file;
	(void)arg;
	return SQLITE_OK;
}

static int memvfs_check_reserved(sqlite3_file *file, int *out)
{
	(void)file;
	*out = 0;
	return SQLITE_OK;
}

static int memvfs_file_control(sqlite3_file *file, int op, void *arg)
{
	(void)file;
	(void)op;
	(void)arg;
	return SQLITE_NOTFOUND;
}

static int memvfs_sector_size(sqlite3_file *file)
{
	(void)file;
	return 4096;
}

static int memvfs_device(sqlite3_file *file)
{
	(void)file;
	return SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL |
	       SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static const sqlite3_io_methods memvfs_methods = {
	.iVersion = 1,
	.xClose = memvfs_close,
	.xRead = memvfs_read,
	.xWrite = memvfs_write,
	.xTruncate = memvfs_truncate,
	.xSync = memvfs_nop,
	.xFileSize = memvfs_file_size,
	.xLock = memvfs_nop,
	.xUnlock = memvfs_nop,
	.xCheckReservedLock = memvfs_check_reserved,
	.xFileControl = memvfs_file_control,
	.xSectorSize = memvfs_sector_size,
	.xDeviceCharacteristics = memvfs_device,
};

static int memvfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	sqlite3_vfs *real = ((struct memvfs *)vfs->pAppData)->real;

	if (name || memvfs_to_disk)
		return real->xOpen(real, name, file, flags, out_flags);
	struct memvfs_file *f = (struct memvfs_file *)file;
	*f = (struct memvfs_file){ .base.pMethods = &memvfs_methods };
	pthread_mutex_lock(&store_memvfs_lock);
	f->buf = memvfs_spare;
	f->cap = memvfs_spare_cap;
	memvfs_spare = NULL;
	memvfs_spare_cap = 0;
	pthread_mutex_unlock(&store_memvfs_lock);
	if (out_flags)
		*out_flags = flags;
	return SQLITE_OK;
}

#define MEMVFS_PASS(name, sig, args)                                    \
	static int memvfs_##name sig                                    \
	{                                                               \
		sqlite3_vfs *real = ((struct memvfs *)vfs->pAppData)->real; \
		return real->x##name args;                              \
	}

MEMVFS_PASS(Delete, (sqlite3_vfs * vfs, const char *name, int sync_dir), (real, name, sync_dir))
MEMVFS_PASS(Access, (sqlite3_vfs * vfs, const char *name, int flags, int *out), (real, name, flags, out))
MEMVFS_PASS(FullPathname, (sqlite3_vfs * vfs, const char *name, int size, char *out), (real, name, size, out))

/* The memory-temp VFS over `base` (NULL: SQLite's default VFS), registered
 * once per base. Returns its name, or NULL with *ret_error < 0. */
const char *store_memvfs_name(const char *base, int *ret_error)
{
	const char *found = NULL;

	*ret_error = 0;
	pthread_mutex_lock(&store_memvfs_lock);
	sqlite3_vfs *real = sqlite3_vfs_find(base);
	if (!real) {
		*ret_error = -EIO;
		goto out;
	}
	for (unsigned i = 0; i < store_memvfs_count; i++)
		if (store_memvfs[i].real == real) {
			found = store_memvfs[i].name;
			goto out;
		}
	if (store_memvfs_count == sizeof(store_memvfs) / sizeof(store_memvfs[0])) {
		*ret_error = -ENOSPC;
		goto out;
	}
	struct memvfs *m = &store_memvfs[store_memvfs_count];
	m->real = real;
	snprintf(m->name, sizeof(m->name), "claimfs-memtemp-%s", real->zName);
	m->vfs = *real;
	m->vfs.szOsFile = real->szOsFile > (int)sizeof(struct memvfs_file) ? real->szOsFile
									  : (int)sizeof(struct memvfs_file);
	m->vfs.zName = m->name;
	m->vfs.pAppData = m;
	m->vfs.xOpen = memvfs_open;
	m->vfs.xDelete = memvfs_Delete;
	m->vfs.xAccess = memvfs_Access;
	m->vfs.xFullPathname = memvfs_FullPathname;
	if (sqlite3_vfs_register(&m->vfs, 0) != SQLITE_OK) {
		*ret_error = -EIO;
		goto out;
	}
	store_memvfs_count++;
	found = m->name;
out:
	pthread_mutex_unlock(&store_memvfs_lock);
	return found;
}
