/*
 * model_metrics.c — /metrics in the Prometheus text exposition format.
 *
 * Owns: metric names and help texts. Reads the store's volumes (per claim
 * capacity and use), the capacity policy's promised and takeable bytes,
 * the store's commit statistics, and the process-wide histograms of
 * metrics.h (FUSE operations, API requests, commits).
 * metrics_histogram buckets are stored per bucket (not cumulative);
 * Prometheus wants cumulative counts, summed here.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "store.h"

struct model_metrics_buf {
	char **buf;
	size_t *len, *cap;
	int r;
};

/* Append formatted text (records -ENOMEM once). */
__attribute__((format(printf, 2, 3))) static void model_metrics_printf(struct model_metrics_buf *b,
								       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->r < 0)
		return;
	for (;;) {
		size_t room = *b->cap - *b->len;

		va_start(ap, fmt);
		n = vsnprintf(*b->buf != NULL ? *b->buf + *b->len : NULL, *b->buf != NULL ? room : 0,
			      fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->r = -EINVAL;
			return;
		}
		if (*b->buf != NULL && (size_t)n < room) {
			*b->len += (size_t)n;
			return;
		}
		size_t cap = *b->cap > 0 ? *b->cap * 2 : 16384;
		while (cap - *b->len <= (size_t)n)
			cap *= 2;
		char *grown = realloc(*b->buf, cap);
		if (grown == NULL) {
			b->r = -ENOMEM;
			return;
		}
		*b->buf = grown;
		*b->cap = cap;
	}
}

/* One histogram series with labels (e.g. `op="read"`). */
static void model_metrics_histogram(struct model_metrics_buf *b, const char *name,
				    const char *labels, struct metrics_histogram *h)
{
	uint64_t cumulative = 0;

	for (int i = 0; i < METRICS_BUCKETS; i++) {
		cumulative += atomic_load(&h->buckets[i]);
		model_metrics_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
				     metrics_bucket_bounds[i], (unsigned long long)cumulative);
	}
	cumulative += atomic_load(&h->buckets[METRICS_BUCKETS]);
	model_metrics_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
			     (unsigned long long)cumulative);
	model_metrics_printf(b, "%s_sum{%s} %.9f\n", name, labels,
			     (double)atomic_load(&h->sum_ns) / 1e9);
	model_metrics_printf(b, "%s_count{%s} %llu\n", name, labels,
			     (unsigned long long)atomic_load(&h->count));
}

/* HELP and TYPE lines. */
static void model_metrics_head(struct model_metrics_buf *b, const char *name, const char *type,
			       const char *help)
{
	model_metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum { MODEL_METRICS_CAPACITY, MODEL_METRICS_USED, MODEL_METRICS_INODES,
       MODEL_METRICS_INODES_MAX, MODEL_METRICS_PASSES };

/* One gauge per pass over the volumes, in enum order. */
static const char *const model_metrics_volume_names[MODEL_METRICS_PASSES] = {
	"claimfs_volume_capacity_bytes",
	"claimfs_volume_used_bytes",
	"claimfs_volume_used_inodes",
	"claimfs_volume_inodes_limit",
};

static const char *const model_metrics_volume_help[MODEL_METRICS_PASSES] = {
	"Capacity of the volume (its claim's storage request)",
	"Bytes of data allocated in the volume",
	"Inodes in use in the volume, its root included",
	"Inodes the volume may hold",
};

struct model_metrics_volumes {
	struct model_metrics_buf *b;
	int pass;
};

/* One volume's sample of the current pass. */
static int model_metrics_volume(void *ud, const struct store_volume *v)
{
	struct model_metrics_volumes *m = ud;
	uint64_t values[] = { v->capacity, v->used_bytes, v->used_inodes, v->max_inodes };

	model_metrics_printf(m->b, "%s{volume=\"%s\",namespace=\"%s\",claim=\"%s\"} %llu\n",
			     model_metrics_volume_names[m->pass], v->name, v->bound_namespace,
			     v->bound_claim, (unsigned long long)values[m->pass]);
	return m->b->r;
}

/* The per-volume gauges: one pass over the store's volumes for each, as
 * the format wants a metric's samples together under its HELP. */
static int model_metrics_volumes(struct model *model, struct model_metrics_buf *b)
{
	struct model_metrics_volumes m = { b, 0 };
	int r;

	for (m.pass = 0; m.pass < MODEL_METRICS_PASSES; m.pass++) {
		model_metrics_head(b, model_metrics_volume_names[m.pass], "gauge",
				   model_metrics_volume_help[m.pass]);
		r = store_volume_list(model->store, model_metrics_volume, &m);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Latency histograms and error counters of FUSE and API requests. */
/* One family of request metrics: a latency histogram and an error counter
 * per label value (FUSE operations, HTTP methods). */
static void model_metrics_request_family(struct model_metrics_buf *b, const char *prefix,
					 const char *label, const char *const *names,
					 struct metrics_histogram *hists, int count,
					 const char *latency_help, const char *errors_help)
{
	char name[96], labels[64];

	snprintf(name, sizeof(name), "%s_request_duration_seconds", prefix);
	model_metrics_head(b, name, "histogram", latency_help);
	for (int i = 0; i < count; i++) {
		snprintf(labels, sizeof(labels), "%s=\"%s\"", label, names[i]);
		model_metrics_histogram(b, name, labels, &hists[i]);
	}
	snprintf(name, sizeof(name), "%s_request_errors_total", prefix);
	model_metrics_head(b, name, "counter", errors_help);
	for (int i = 0; i < count; i++)
		model_metrics_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
				     (unsigned long long)atomic_load(&hists[i].errors));
}

static void model_metrics_requests(struct model_metrics_buf *b)
{
	model_metrics_request_family(b, "claimfs_fuse", "op", metrics_fs_op_names, metrics_fs,
				     METRICS_FS_OP_COUNT, "Latency of FUSE requests by operation",
				     "FUSE requests answered with an error, by operation");
	model_metrics_request_family(b, "claimfs_api", "method", metrics_api_method_names,
				     metrics_api, METRICS_API_METHOD_COUNT,
				     "Latency of API requests by HTTP method",
				     "API requests answered with a 4xx or 5xx status, by HTTP method");
}

/* A series with no labels and one value, with its HELP and TYPE lines. */
static void model_metrics_single(struct model_metrics_buf *b, const char *name, const char *type,
				 const char *help, uint64_t value)
{
	model_metrics_head(b, name, type, help);
	model_metrics_printf(b, "%s %llu\n", name, (unsigned long long)value);
}

/* Free pages and what the background vacuum gave back (store_vacuum.c). */
static void model_metrics_space(struct model *model, struct model_metrics_buf *b)
{
	struct store_space_stats space;

	store_get_space_stats(model->store, &space);
	model_metrics_single(b, "claimfs_store_free_pages", "gauge",
			     "Free pages inside the store file at the background vacuum's last look",
			     space.free_pages);
	model_metrics_single(b, "claimfs_store_page_size_bytes", "gauge", "Bytes per page of the store file",
			     space.page_size);
	model_metrics_single(b, "claimfs_store_vacuumed_bytes_total", "counter",
			     "Bytes of free pages the background vacuum cut from the store file (given back to the host)",
			     space.vacuumed_bytes);
	model_metrics_single(b, "claimfs_store_incremental_vacuum", "gauge",
			     "1 if deleted space goes back to the host; 0 for a store made before (claimfsd --compact)",
			     space.incremental_vacuum ? 1 : 0);
}

/* Commit latencies and the store's own counters. */
static void model_metrics_store(struct model *model, struct model_metrics_buf *b)
{
	struct store_stats stats;

	model_metrics_head(b, "claimfs_store_commit_duration_seconds", "histogram",
			   "Latency of store commits (durable: with fsync of the WAL)");
	model_metrics_histogram(b, "claimfs_store_commit_duration_seconds", "durable=\"false\"",
				&metrics_commit);
	model_metrics_histogram(b, "claimfs_store_commit_duration_seconds", "durable=\"true\"",
				&metrics_durable_sync);
	store_get_stats(model->store, &stats);
	model_metrics_head(b, "claimfs_store_commits_total", "counter",
			   "Transactions committed by the store");
	model_metrics_printf(b, "claimfs_store_commits_total %llu\n",
			     (unsigned long long)stats.commits);
	model_metrics_head(b, "claimfs_store_wal_frames", "gauge",
			   "Frames in the WAL since it last started over");
	model_metrics_printf(b, "claimfs_store_wal_frames %llu\n", (unsigned long long)stats.wal_frames);
	model_metrics_head(b, "claimfs_store_wal_frames_max", "gauge",
			   "The most frames the WAL has held since the daemon started");
	model_metrics_printf(b, "claimfs_store_wal_frames_max %llu\n",
			     (unsigned long long)stats.wal_frames_max);
	model_metrics_head(b, "claimfs_store_checkpoint_pending", "gauge",
			   "1 while the checkpointer holds back for a stream of writes, copies its WAL, or the WAL is past its restart length");
	model_metrics_printf(b, "claimfs_store_checkpoint_pending %d\n", stats.checkpoint_pending ? 1 : 0);
	model_metrics_head(b, "claimfs_store_checkpoint_deferred_total", "counter",
			   "Checkpointer passes held back while file data streamed in");
	model_metrics_printf(b, "claimfs_store_checkpoint_deferred_total %llu\n",
			     (unsigned long long)stats.checkpoint_deferred);
	model_metrics_head(b, "claimfs_store_durable_commits_total", "counter",
			   "Commits made durable (synchronous=FULL)");
	model_metrics_printf(b, "claimfs_store_durable_commits_total %llu\n",
			     (unsigned long long)stats.durable_commits);
	model_metrics_head(b, "claimfs_store_commit_seconds_total", "counter",
			   "Time spent committing");
	model_metrics_printf(b, "claimfs_store_commit_seconds_total %.9f\n",
			     (double)stats.commit_ns_total / 1e9);
	model_metrics_space(model, b);
	model_metrics_head(b, "claimfs_store_resource_version", "gauge",
			   "Newest resourceVersion handed out");
	model_metrics_printf(b, "claimfs_store_resource_version %lld\n",
			     (long long)store_current_version(model->store));
}

/* The capacity policy's two sides (README "Capacity"). */
static int model_metrics_capacity(struct model *model, struct model_metrics_buf *b)
{
	uint64_t promised, takeable;
	double overcommit;
	int r = model_capacity_get(model, &promised, &takeable, &overcommit);

	if (r < 0)
		return r;
	model_metrics_head(b, "claimfs_store_promised_bytes", "gauge",
			   "Bytes bound claims may still write (capacity less use, summed)");
	model_metrics_printf(b, "claimfs_store_promised_bytes %llu\n", (unsigned long long)promised);
	model_metrics_head(b, "claimfs_store_takeable_bytes", "gauge",
			   "Bytes the store can still take: host free space and free pages, less the reserve");
	model_metrics_printf(b, "claimfs_store_takeable_bytes %llu\n", (unsigned long long)takeable);
	model_metrics_head(b, "claimfs_store_overcommit_ratio", "gauge",
			   "Promised bytes may reach this times the takeable bytes (--overcommit)");
	model_metrics_printf(b, "claimfs_store_overcommit_ratio %g\n", overcommit);
	return 0;
}

int model_metrics(struct model *model, char **buf, size_t *len, size_t *cap)
{
	struct model_metrics_buf b = { buf, len, cap, 0 };
	int r;

	r = model_metrics_volumes(model, &b);
	if (r == 0)
		r = model_metrics_capacity(model, &b);
	if (r < 0)
		return r;
	model_metrics_requests(&b);
	model_metrics_store(model, &b);
	return b.r;
}
