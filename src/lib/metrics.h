/*
 * metrics.h — process-wide counters and latency histograms (lock-free).
 *
 * The FUSE layer and the HTTP API record into fixed tables indexed by an
 * operation number; /metrics renders them in Prometheus text format. All
 * fields are atomics: recording never blocks and never allocates.
 */
#ifndef CLAIMFS_METRICS_H
#define CLAIMFS_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

/* Upper bounds of the latency buckets, in seconds (Prometheus "le"). */
#define METRICS_BUCKETS 12
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

struct metrics_histogram {
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t errors;
	atomic_uint_fast64_t sum_ns;
	atomic_uint_fast64_t buckets[METRICS_BUCKETS + 1]; /* last: +Inf */
};

enum metrics_fs_op {
	METRICS_FS_LOOKUP, METRICS_FS_FORGET, METRICS_FS_GETATTR, METRICS_FS_SETATTR,
	METRICS_FS_READLINK, METRICS_FS_MKNOD, METRICS_FS_MKDIR, METRICS_FS_UNLINK,
	METRICS_FS_RMDIR, METRICS_FS_SYMLINK, METRICS_FS_RENAME, METRICS_FS_LINK,
	METRICS_FS_OPEN, METRICS_FS_CREATE, METRICS_FS_READ, METRICS_FS_WRITE,
	METRICS_FS_FLUSH, METRICS_FS_RELEASE, METRICS_FS_FSYNC, METRICS_FS_READDIR,
	METRICS_FS_STATFS, METRICS_FS_XATTR, METRICS_FS_FALLOCATE,
	/* Apart from the other xattr requests: the kernel's security.capability
	 * probe after an attribute refresh (fs_op_getxattr) lands here. */
	METRICS_FS_GETXATTR,
	METRICS_FS_LSEEK, /* SEEK_DATA / SEEK_HOLE (the kernel answers the others) */
	METRICS_FS_OP_COUNT
};

extern const char *const metrics_fs_op_names[METRICS_FS_OP_COUNT];
extern struct metrics_histogram metrics_fs[METRICS_FS_OP_COUNT];
/* API requests by HTTP method (GET, POST, PUT, PATCH, DELETE, other). */
enum { METRICS_API_GET, METRICS_API_POST, METRICS_API_PUT, METRICS_API_PATCH, METRICS_API_DELETE,
       METRICS_API_OTHER, METRICS_API_METHOD_COUNT };
extern const char *const metrics_api_method_names[METRICS_API_METHOD_COUNT];
extern struct metrics_histogram metrics_api[METRICS_API_METHOD_COUNT];
/* Store commits (plain and durable), recorded by the store. */
extern struct metrics_histogram metrics_commit;
extern struct metrics_histogram metrics_durable_sync;

/* Monotonic nanoseconds, for start/stop pairs. */
uint64_t metrics_now_ns(void);
/* Record one event that started at start_ns; failed counts it as an error. */
void metrics_record(struct metrics_histogram *h, uint64_t start_ns, int failed);

#endif
