/*
 * metrics.c — storage for the process-wide counters declared in metrics.h.
 * Recording is wait-free (relaxed atomics): readers may see a histogram
 * whose count and buckets differ by an event in flight, which Prometheus
 * tolerates.
 */
#include "metrics.h"

#include <time.h>

const double metrics_bucket_bounds[METRICS_BUCKETS] = {
	0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
};

const char *const metrics_fs_op_names[METRICS_FS_OP_COUNT] = {
	"lookup", "forget", "getattr", "setattr", "readlink", "mknod", "mkdir", "unlink",
	"rmdir", "symlink", "rename", "link", "open", "create", "read", "write",
	"flush", "release", "fsync", "readdir", "statfs", "xattr", "fallocate", "getxattr", "lseek",
};

const char *const metrics_api_method_names[METRICS_API_METHOD_COUNT] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "other",
};

struct metrics_histogram metrics_fs[METRICS_FS_OP_COUNT];
struct metrics_histogram metrics_api[METRICS_API_METHOD_COUNT];
struct metrics_histogram metrics_commit;
struct metrics_histogram metrics_durable_sync;

uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void metrics_record(struct metrics_histogram *h, uint64_t start_ns, int failed)
{
	uint64_t elapsed = metrics_now_ns() - start_ns;
	double seconds = (double)elapsed / 1e9;
	unsigned i = 0;

	while (i < METRICS_BUCKETS && seconds > metrics_bucket_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, elapsed, memory_order_relaxed);
	if (failed)
		atomic_fetch_add_explicit(&h->errors, 1, memory_order_relaxed);
}
