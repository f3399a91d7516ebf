/*
 * store_vfs.c — an SQLite VFS shim that gathers small contiguous WAL writes.
 *
 * SQLite writes a WAL frame as two calls (a 24-byte header, then the page),
 * so a 1 MiB file write cost over 500 pwrite(2) calls in the committing
 * thread (strace, bench/RESULTS.md). This shim keeps each WAL file's
 * contiguous writes in a buffer of up to STORE_VFS_BUFFER bytes and hands
 * them to the real VFS in 64 KiB calls.
 *
 * When buffered bytes reach the real file (and errors reach SQLite):
 *   - the page that completes a WAL commit frame (a frame header whose
 *     "database size after commit" field is not zero): the write of that page
 *     returns only after the whole buffer is written, so a commit is in the
 *     operating system before SQLite publishes it in the wal-index, exactly as
 *     without the shim, and a failed write fails the commit;
 *   - xSync, xTruncate, xFileSize, xClose, a read that overlaps the buffer, a
 *     write that does not continue it, a full buffer;
 *   - xShmBarrier/xShmLock on a database file flush the buffers of its WAL
 *     files (a second guard: SQLite publishes frames only after a barrier).
 * Database files are not gathered: a checkpoint that stops short of the end
 * of the WAL records its progress without syncing (readers then read the
 * copied pages from the database file), so its writes must be in the file
 * when each write returns. Other files pass straight through too.
 *
 * Concurrency: SQLite uses a file from one thread at a time, but the store
 * fsyncs the WAL from another thread (store_sync_wal) and any connection's
 * barrier may flush a WAL buffer, so each file's buffer has a mutex.
 */
#include "store_internal.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_VFS_BUFFER (256 * 1024)
/* The unix VFS writes at most 128 KiB - 1 bytes per call (seekAndWriteFd
 * masks the length with 0x1ffff), so a flush goes out in pieces of this. */
#define STORE_VFS_CHUNK (64 * 1024)
#define STORE_VFS_MAX 2 /* shims: over the default VFS and over the fault VFS */
#define WAL_HEADER_BYTES 32
#define WAL_FRAME_HEADER_BYTES 24

struct store_vfs_file {
	sqlite3_file base;
	sqlite3_file *real;   /* follows this struct in the same allocation */
	const char *name;     /* SQLite keeps it valid while the file is open */
	bool gather;          /* a WAL file: writes are gathered */
	bool wal;             /* a WAL file (gather follows it) */
	pthread_mutex_t lock; /* protects the fields below */
	char *buf;            /* STORE_VFS_BUFFER bytes, allocated at the first write */
	sqlite3_int64 buf_offset;
	int buf_len;
	bool commit_pending;  /* the last write was the header of a commit frame */
	struct store_vfs_file *next_wal; /* registry of open WAL files */
};

struct store_vfs {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;
	char name[64];
};

static struct store_vfs store_vfs_list[STORE_VFS_MAX];
static sqlite3_io_methods store_vfs_methods;
static pthread_mutex_t store_vfs_lock = PTHREAD_MUTEX_INITIALIZER; /* registry and list */
static struct store_vfs_file *store_vfs_wals;


static sqlite3_file *store_vfs_real(sqlite3_file *file)
{
	return ((struct store_vfs_file *)file)->real;
}

/* Write the buffer out (f->lock held). The buffer is empty afterwards even
 * when the write failed: SQLite treats a failed write as a failed
 * transaction or checkpoint and writes the pages again if it needs them. */
static int store_vfs_flush_locked(struct store_vfs_file *f)
{
	int rc = SQLITE_OK;

	for (int done = 0; done < f->buf_len && rc == SQLITE_OK; done += STORE_VFS_CHUNK) {
		int piece = f->buf_len - done < STORE_VFS_CHUNK ? f->buf_len - done : STORE_VFS_CHUNK;
		rc = f->real->pMethods->xWrite(f->real, f->buf + done, piece, f->buf_offset + done);
	}
	f->buf_len = 0;
	return rc;
}

static int store_vfs_flush(struct store_vfs_file *f)
{
	pthread_mutex_lock(&f->lock);
	int rc = store_vfs_flush_locked(f);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static uint32_t store_vfs_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int store_vfs_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset)
{
	struct store_vfs_file *f = (struct store_vfs_file *)file;
	int rc = SQLITE_OK;

	if (!f->gather)
		return f->real->pMethods->xWrite(f->real, data, amount, offset);
	pthread_mutex_lock(&f->lock);
	bool commit = false;
	if (f->wal) {
		/* A frame header: bytes 4..7 are the database size after a commit, else 0. */
		commit = f->commit_pending;
		f->commit_pending = amount == WAL_FRAME_HEADER_BYTES && offset >= WAL_HEADER_BYTES &&
				    store_vfs_be32((const unsigned char *)data + 4) != 0;
	}
	sqlite3_int64 end = f->buf_offset + f->buf_len;
	if (f->buf_len > 0 && offset >= f->buf_offset && offset + amount <= end) {
		memcpy(f->buf + (offset - f->buf_offset), data, (size_t)amount); /* rewrite inside */
	} else if (f->buf_len > 0 && offset == end && f->buf_len + amount <= STORE_VFS_BUFFER) {
		memcpy(f->buf + f->buf_len, data, (size_t)amount); /* append */
		f->buf_len += amount;
	} else if (f->wal && amount == WAL_FRAME_HEADER_BYTES && f->buf_len > 0 && offset < f->buf_offset) {
		/* A frame header rewritten behind the buffer (walRewriteChecksums
		 * after a spill): straight to the file, its error to SQLite. */
		rc = store_vfs_flush_locked(f);
		if (rc == SQLITE_OK)
			rc = f->real->pMethods->xWrite(f->real, data, amount, offset);
		f->commit_pending = false;
	} else {
		rc = store_vfs_flush_locked(f);
		if (rc == SQLITE_OK && !f->buf)
			f->buf = malloc(STORE_VFS_BUFFER);
		if (rc == SQLITE_OK && (amount > STORE_VFS_CHUNK || !f->buf)) {
			rc = f->real->pMethods->xWrite(f->real, data, amount, offset);
		} else if (rc == SQLITE_OK) {
			memcpy(f->buf, data, (size_t)amount);
			f->buf_offset = offset;
			f->buf_len = amount;
		}
	}
	if (rc == SQLITE_OK && commit)
		rc = store_vfs_flush_locked(f);
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static int store_vfs_read(sqlite3_file *file, void *data, int amount, sqlite3_int64 offset)
{
	struct store_vfs_file *f = (struct store_vfs_file *)file;

	if (f->gather) {
		pthread_mutex_lock(&f->lock);
		int rc = SQLITE_OK;
		if (f->buf_len > 0 && offset < f->buf_offset + f->buf_len && offset + amount > f->buf_offset)
			rc = store_vfs_flush_locked(f);
		pthread_mutex_unlock(&f->lock);
		if (rc != SQLITE_OK)
			return rc;
	}
	return f->real->pMethods->xRead(f->real, data, amount, offset);
}

/* Calls that need the file as the operating system sees it flush first. */
#define VFS_FLUSH_FIRST(name, sig, args)                                         \
	static int store_vfs_##name sig                                          \
	{                                                                        \
		struct store_vfs_file *f = (struct store_vfs_file *)file;       \
		int rc = f->gather ? store_vfs_flush(f) : SQLITE_OK;             \
		return rc != SQLITE_OK ? rc : f->real->pMethods->x##name args;   \
	}

VFS_FLUSH_FIRST(Sync, (sqlite3_file * file, int flags), (f->real, flags))
VFS_FLUSH_FIRST(Truncate, (sqlite3_file * file, sqlite3_int64 size), (f->real, size))
VFS_FLUSH_FIRST(FileSize, (sqlite3_file * file, sqlite3_int64 *size), (f->real, size))

static int store_vfs_close(sqlite3_file *file)
{
	struct store_vfs_file *f = (struct store_vfs_file *)file;
	int rc = SQLITE_OK;

	if (f->gather) {
		rc = store_vfs_flush(f);
		if (f->wal) {
			pthread_mutex_lock(&store_vfs_lock);
			for (struct store_vfs_file **p = &store_vfs_wals; *p; p = &(*p)->next_wal) {
				if (*p == f) {
					*p = f->next_wal;
					break;
				}
			}
			pthread_mutex_unlock(&store_vfs_lock);
		}
		free(f->buf);
		f->buf = NULL;
		pthread_mutex_destroy(&f->lock);
	}
	int close_rc = f->real->pMethods->xClose(f->real);
	return rc != SQLITE_OK ? rc : close_rc;
}

/* Flush the WAL buffers of the database file db_name (any connection). */
static int store_vfs_flush_wals_of(const char *db_name)
{
	size_t len = strlen(db_name);
	int rc = SQLITE_OK;

	pthread_mutex_lock(&store_vfs_lock);
	for (struct store_vfs_file *w = store_vfs_wals; w; w = w->next_wal) {
		if (strncmp(w->name, db_name, len) == 0 && strcmp(w->name + len, "-wal") == 0) {
			int r = store_vfs_flush(w);
			if (rc == SQLITE_OK)
				rc = r;
		}
	}
	pthread_mutex_unlock(&store_vfs_lock);
	return rc;
}

static void store_vfs_ShmBarrier(sqlite3_file *file)
{
	struct store_vfs_file *f = (struct store_vfs_file *)file;

	if (!f->wal && f->name && store_vfs_flush_wals_of(f->name) != SQLITE_OK)
		log_error("store: writing the WAL at a wal-index barrier failed");
	f->real->pMethods->xShmBarrier(f->real);
}

static int store_vfs_ShmLock(sqlite3_file *file, int offset, int n, int flags)
{
	struct store_vfs_file *f = (struct store_vfs_file *)file;

	if (!f->wal && f->name) {
		int rc = store_vfs_flush_wals_of(f->name);
		if (rc != SQLITE_OK)
			return rc;
	}
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

#define VFS_PASS(name, sig, args)                                     \
	static int store_vfs_##name sig                               \
	{                                                             \
		sqlite3_file *real = store_vfs_real(file);            \
		return real->pMethods->x##name args;                  \
	}

VFS_PASS(Lock, (sqlite3_file * file, int lock), (real, lock))
VFS_PASS(Unlock, (sqlite3_file * file, int lock), (real, lock))
VFS_PASS(CheckReservedLock, (sqlite3_file * file, int *out), (real, out))
VFS_PASS(FileControl, (sqlite3_file * file, int op, void *arg), (real, op, arg))
VFS_PASS(SectorSize, (sqlite3_file * file), (real))
VFS_PASS(DeviceCharacteristics, (sqlite3_file * file), (real))
VFS_PASS(ShmMap, (sqlite3_file * file, int region, int size, int extend, void volatile **out),
	 (real, region, size, extend, out))
VFS_PASS(ShmUnmap, (sqlite3_file * file, int delete_flag), (real, delete_flag))

static int store_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
			  int *out_flags)
{
	struct store_vfs *v = vfs->pAppData;
	struct store_vfs_file *f = (struct store_vfs_file *)file;

	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	int rc = v->real->xOpen(v->real, name, f->real, flags, out_flags);
	if (!f->real->pMethods)
		return rc;
	f->base.pMethods = &store_vfs_methods;
	f->name = name;
	f->wal = (flags & SQLITE_OPEN_WAL) != 0 && name != NULL;
	f->gather = f->wal;
	if (f->gather) {
		pthread_mutex_init(&f->lock, NULL);
		if (f->wal) {
			pthread_mutex_lock(&store_vfs_lock);
			f->next_wal = store_vfs_wals;
			store_vfs_wals = f;
			pthread_mutex_unlock(&store_vfs_lock);
		}
	}
	return rc;
}

#define VFS_FORWARD(name, sig, args)                                   \
	static int store_vfs_##name sig                                \
	{                                                              \
		struct store_vfs *v = vfs->pAppData;                   \
		return v->real->x##name args;                          \
	}

VFS_FORWARD(Delete, (sqlite3_vfs * vfs, const char *name, int sync_dir), (v->real, name, sync_dir))
VFS_FORWARD(Access, (sqlite3_vfs * vfs, const char *name, int flags, int *out),
	    (v->real, name, flags, out))
VFS_FORWARD(FullPathname, (sqlite3_vfs * vfs, const char *name, int size, char *out),
	    (v->real, name, size, out))

const char *store_vfs_name(const char *base, int *ret_error)
{
	sqlite3_vfs *real = sqlite3_vfs_find(base);
	const char *result = NULL;

	*ret_error = 0;
	if (!real) {
		*ret_error = -EIO;
		return NULL;
	}
	pthread_mutex_lock(&store_vfs_lock);
	struct store_vfs *slot = NULL;
	for (size_t i = 0; i < STORE_VFS_MAX; i++) {
		if (store_vfs_list[i].real == real) {
			result = store_vfs_list[i].name;
			goto out;
		}
		if (!slot && !store_vfs_list[i].real)
			slot = &store_vfs_list[i];
	}
	if (!slot) {
		*ret_error = -ENOMEM;
		goto out;
	}
	store_vfs_methods = (sqlite3_io_methods){
		.iVersion = 2, /* no xFetch: every read comes through xRead */
		.xClose = store_vfs_close,
		.xRead = store_vfs_read,
		.xWrite = store_vfs_write,
		.xTruncate = store_vfs_Truncate,
		.xSync = store_vfs_Sync,
		.xFileSize = store_vfs_FileSize,
		.xLock = store_vfs_Lock,
		.xUnlock = store_vfs_Unlock,
		.xCheckReservedLock = store_vfs_CheckReservedLock,
		.xFileControl = store_vfs_FileControl,
		.xSectorSize = store_vfs_SectorSize,
		.xDeviceCharacteristics = store_vfs_DeviceCharacteristics,
		.xShmMap = store_vfs_ShmMap,
		.xShmLock = store_vfs_ShmLock,
		.xShmBarrier = store_vfs_ShmBarrier,
		.xShmUnmap = store_vfs_ShmUnmap,
	};
	snprintf(slot->name, sizeof(slot->name), "claimfs-gather-%s", real->zName);
	slot->vfs = *real;
	slot->vfs.iVersion = real->iVersion < 3 ? real->iVersion : 3;
	slot->vfs.zName = slot->name;
	slot->vfs.szOsFile = (int)sizeof(struct store_vfs_file) + real->szOsFile;
	slot->vfs.pNext = NULL;
	slot->vfs.pAppData = slot;
	slot->vfs.xOpen = store_vfs_open;
	slot->vfs.xDelete = store_vfs_Delete;
	slot->vfs.xAccess = store_vfs_Access;
	slot->vfs.xFullPathname = store_vfs_FullPathname;
	slot->real = real;
	if (sqlite3_vfs_register(&slot->vfs, 0) != SQLITE_OK) {
		slot->real = NULL;
		*ret_error = -EIO;
		goto out;
	}
	result = slot->name;
out:
	pthread_mutex_unlock(&store_vfs_lock);
	return result;
}
