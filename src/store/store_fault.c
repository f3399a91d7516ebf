/*
 * store_fault.c — a test-only SQLite VFS that fails chosen I/O calls.
 *
 * It wraps the default unix VFS and is registered only when the environment
 * asks for it, so a production daemon never runs through it:
 *   CLAIMFS_FAULT=OP:NTH[:ERR[:COUNT]]   fail the NTH call (1-based) of OP
 *   CLAIMFS_FAULT_FILE=PATH              the same spec, re-read whenever the
 *                                        file changes; empty or missing = off
 * OP is read, write, sync, open or any; ERR is EIO (default) or ENOSPC;
 * COUNT is how many calls fail from the NTH on (default 1; 0 = every call
 * until the spec changes). Counting restarts whenever the spec changes.
 * Each injected fault is logged at warn level and counted
 * (store_fault_injected) so tests can tell that the fault really fired.
 *
 * Concurrency: the spec and counters are protected by store_fault_lock;
 * SQLite calls the VFS from any thread that uses a connection.
 */
#include "store_internal.h"

#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum store_fault_op { FAULT_READ, FAULT_WRITE, FAULT_SYNC, FAULT_OPEN, FAULT_ANY, FAULT_NONE };

struct store_fault_spec {
	enum store_fault_op op;
	uint64_t nth;
	uint64_t count; /* 0 = persistent */
	int err;        /* EIO or ENOSPC */
};

struct store_fault_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static pthread_mutex_t store_fault_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store_fault_spec store_fault_spec = { .op = FAULT_NONE };
static uint64_t store_fault_calls; /* matching calls since the spec was set */
static uint64_t store_fault_total;  /* faults injected since start */
static const char *store_fault_path;
static struct timespec store_fault_mtime;
static off_t store_fault_size = -1;
static sqlite3_vfs *store_fault_real;
static sqlite3_vfs store_fault_vfs;
static sqlite3_io_methods store_fault_methods;

static const char *const store_fault_op_names[] = { "read", "write", "sync", "open", "any" };

/* Parse "OP:NTH[:ERR[:COUNT]]"; an empty text disables injection. */
static int store_fault_parse(const char *text, struct store_fault_spec *ret_spec)
{
	char op[16], err[16] = "EIO";
	unsigned long long nth = 0, count = 1;
	struct store_fault_spec spec = { .op = FAULT_NONE };

	while (*text == ' ' || *text == '\n')
		text++;
	if (!*text) {
		*ret_spec = spec;
		return 0;
	}
	int n = sscanf(text, "%15[a-z]:%llu:%15[A-Z]:%llu", op, &nth, err, &count);
	if (n < 2 || nth == 0)
		return -EINVAL;
	spec.op = FAULT_NONE;
	for (int i = 0; i < FAULT_NONE; i++)
		if (strcmp(op, store_fault_op_names[i]) == 0)
			spec.op = (enum store_fault_op)i;
	if (spec.op == FAULT_NONE)
		return -EINVAL;
	if (strcmp(err, "EIO") == 0)
		spec.err = EIO;
	else if (strcmp(err, "ENOSPC") == 0)
		spec.err = ENOSPC;
	else
		return -EINVAL;
	spec.nth = nth;
	spec.count = count;
	*ret_spec = spec;
	return 0;
}

static void store_fault_set(const struct store_fault_spec *spec)
{
	store_fault_spec = *spec;
	store_fault_calls = 0;
	if (spec->op != FAULT_NONE)
		log_warn("fault injection: %s call #%llu fails with %s, %llu time(s)%s",
			 store_fault_op_names[spec->op], (unsigned long long)spec->nth,
			 spec->err == ENOSPC ? "ENOSPC" : "EIO", (unsigned long long)spec->count,
			 spec->count == 0 ? " (persistent)" : "");
	else
		log_warn("fault injection: off");
}

/* Re-read the control file if it changed (lock held). */
static void store_fault_reload(void)
{
	struct store_fault_spec spec;
	struct stat st;
	char text[128] = "";

	if (!store_fault_path)
		return;
	if (stat(store_fault_path, &st) < 0) {
		if (store_fault_size != -1) {
			store_fault_size = -1;
			spec = (struct store_fault_spec){ .op = FAULT_NONE };
			store_fault_set(&spec);
		}
		return;
	}
	if (st.st_size == store_fault_size && st.st_mtim.tv_sec == store_fault_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == store_fault_mtime.tv_nsec)
		return;
	store_fault_size = st.st_size;
	store_fault_mtime = st.st_mtim;
	FILE *f = fopen(store_fault_path, "re");
	if (f) {
		if (!fgets(text, sizeof(text), f))
			text[0] = '\0';
		fclose(f);
	}
	if (store_fault_parse(text, &spec) < 0) {
		log_error("fault injection: cannot parse \"%s\" in %s", text, store_fault_path);
		return;
	}
	store_fault_set(&spec);
}

/* Should this call fail? Returns 0 or the errno to inject. */
static int store_fault_check(enum store_fault_op op)
{
	int err = 0;

	pthread_mutex_lock(&store_fault_lock);
	store_fault_reload();
	const struct store_fault_spec *spec = &store_fault_spec;
	if (spec->op == FAULT_NONE || (spec->op != FAULT_ANY && spec->op != op))
		goto out;
	uint64_t call = ++store_fault_calls;
	if (call >= spec->nth && (spec->count == 0 || call < spec->nth + spec->count)) {
		err = spec->err;
		store_fault_total++;
		log_warn("fault injection: failing %s call #%llu with %s", store_fault_op_names[op],
			 (unsigned long long)call, err == ENOSPC ? "ENOSPC" : "EIO");
	}
out:
	pthread_mutex_unlock(&store_fault_lock);
	return err;
}

static int store_fault_rc(int err, int ioerr)
{
	return err == ENOSPC ? SQLITE_FULL : ioerr;
}

static sqlite3_file *store_fault_real_file(sqlite3_file *file)
{
	return ((struct store_fault_file *)file)->real;
}

static int store_fault_close(sqlite3_file *file)
{
	sqlite3_file *real = store_fault_real_file(file);

	return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}

static int store_fault_read(sqlite3_file *file, void *buf, int amount, sqlite3_int64 offset)
{
	int err = store_fault_check(FAULT_READ);
	sqlite3_file *real = store_fault_real_file(file);

	if (err)
		return store_fault_rc(err, SQLITE_IOERR_READ);
	return real->pMethods->xRead(real, buf, amount, offset);
}

static int store_fault_write(sqlite3_file *file, const void *buf, int amount, sqlite3_int64 offset)
{
	int err = store_fault_check(FAULT_WRITE);
	sqlite3_file *real = store_fault_real_file(file);

	if (err)
		return store_fault_rc(err, SQLITE_IOERR_WRITE);
	return real->pMethods->xWrite(real, buf, amount, offset);
}

static int store_fault_sync(sqlite3_file *file, int flags)
{
	int err = store_fault_check(FAULT_SYNC);
	sqlite3_file *real = store_fault_real_file(file);

	if (err)
		return store_fault_rc(err, SQLITE_IOERR_FSYNC);
	return real->pMethods->xSync(real, flags);
}

#define FAULT_PASS(name, sig, args)                                      \
	static int store_fault_##name sig                                \
	{                                                                \
		sqlite3_file *real = store_fault_real_file(file);        \
		return real->pMethods->x##name args;                     \
	}

FAULT_PASS(Truncate, (sqlite3_file * file, sqlite3_int64 size), (real, size))
FAULT_PASS(FileSize, (sqlite3_file * file, sqlite3_int64 *size), (real, size))
FAULT_PASS(Lock, (sqlite3_file * file, int lock), (real, lock))
FAULT_PASS(Unlock, (sqlite3_file * file, int lock), (real, lock))
FAULT_PASS(CheckReservedLock, (sqlite3_file * file, int *out), (real, out))
FAULT_PASS(FileControl, (sqlite3_file * file, int op, void *arg), (real, op, arg))
FAULT_PASS(SectorSize, (sqlite3_file * file), (real))
FAULT_PASS(DeviceCharacteristics, (sqlite3_file * file), (real))
FAULT_PASS(ShmMap, (sqlite3_file * file, int region, int size, int extend, void volatile **out),
	   (real, region, size, extend, out))
FAULT_PASS(ShmLock, (sqlite3_file * file, int offset, int n, int flags), (real, offset, n, flags))
FAULT_PASS(ShmUnmap, (sqlite3_file * file, int delete_flag), (real, delete_flag))
FAULT_PASS(Fetch, (sqlite3_file * file, sqlite3_int64 offset, int amount, void **out),
	   (real, offset, amount, out))
FAULT_PASS(Unfetch, (sqlite3_file * file, sqlite3_int64 offset, void *p), (real, offset, p))

static void store_fault_ShmBarrier(sqlite3_file *file)
{
	sqlite3_file *real = store_fault_real_file(file);

	real->pMethods->xShmBarrier(real);
}

static int store_fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
			    int *out_flags)
{
	struct store_fault_file *f = (struct store_fault_file *)file;
	int err = store_fault_check(FAULT_OPEN), rc;

	(void)vfs;
	f->base.pMethods = NULL;
	f->real = (sqlite3_file *)(f + 1);
	if (err)
		return err == ENOSPC ? SQLITE_FULL : SQLITE_CANTOPEN;
	rc = store_fault_real->xOpen(store_fault_real, name, f->real, flags, out_flags);
	if (f->real->pMethods)
		f->base.pMethods = &store_fault_methods;
	return rc;
}

static int store_fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return store_fault_real->xDelete(store_fault_real, name, sync_dir);
}

static int store_fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return store_fault_real->xAccess(store_fault_real, name, flags, out);
}

static int store_fault_fullpath(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
	(void)vfs;
	return store_fault_real->xFullPathname(store_fault_real, name, size, out);
}

/* Register the fault VFS if the environment asks for it. Returns its name,
 * NULL when fault injection is off, or NULL with *ret_error < 0 on a bad spec. */
const char *store_fault_vfs_name(int *ret_error)
{
	const char *spec_text = getenv("CLAIMFS_FAULT");
	struct store_fault_spec spec;

	*ret_error = 0;
	store_fault_path = getenv("CLAIMFS_FAULT_FILE");
	if (!spec_text && !store_fault_path)
		return NULL;
	if (store_fault_real)
		return store_fault_vfs.zName;
	if (spec_text) {
		if (store_fault_parse(spec_text, &spec) < 0) {
			log_error("fault injection: cannot parse CLAIMFS_FAULT=\"%s\"", spec_text);
			*ret_error = -EINVAL;
			return NULL;
		}
		store_fault_set(&spec);
	}
	store_fault_real = sqlite3_vfs_find(NULL);
	if (!store_fault_real) {
		*ret_error = -EIO;
		return NULL;
	}
	store_fault_methods = (sqlite3_io_methods){
		.iVersion = 3,
		.xClose = store_fault_close,
		.xRead = store_fault_read,
		.xWrite = store_fault_write,
		.xTruncate = store_fault_Truncate,
		.xSync = store_fault_sync,
		.xFileSize = store_fault_FileSize,
		.xLock = store_fault_Lock,
		.xUnlock = store_fault_Unlock,
		.xCheckReservedLock = store_fault_CheckReservedLock,
		.xFileControl = store_fault_FileControl,
		.xSectorSize = store_fault_SectorSize,
		.xDeviceCharacteristics = store_fault_DeviceCharacteristics,
		.xShmMap = store_fault_ShmMap,
		.xShmLock = store_fault_ShmLock,
		.xShmBarrier = store_fault_ShmBarrier,
		.xShmUnmap = store_fault_ShmUnmap,
		.xFetch = store_fault_Fetch,
		.xUnfetch = store_fault_Unfetch,
	};
	store_fault_vfs = *store_fault_real;
	store_fault_vfs.zName = "claimfs-fault";
	store_fault_vfs.szOsFile = (int)sizeof(struct store_fault_file) + store_fault_real->szOsFile;
	store_fault_vfs.xOpen = store_fault_open;
	store_fault_vfs.xDelete = store_fault_delete;
	store_fault_vfs.xAccess = store_fault_access;
	store_fault_vfs.xFullPathname = store_fault_fullpath;
	store_fault_vfs.pAppData = NULL;
	int rc = sqlite3_vfs_register(&store_fault_vfs, 0);
	if (rc != SQLITE_OK) {
		store_fault_real = NULL;
		*ret_error = -EIO;
		return NULL;
	}
	log_warn("fault injection VFS active (test only)");
	return store_fault_vfs.zName;
}

uint64_t store_fault_injected(void)
{
	pthread_mutex_lock(&store_fault_lock);
	uint64_t total = store_fault_total;
	pthread_mutex_unlock(&store_fault_lock);
	return total;
}
