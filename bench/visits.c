/*
 * visits.c — bench-visits: the visits demo's inner loop, N replicas at once.
 *
 *   bench-visits [--mode trunc|pwrite] [--no-fsync] [--seconds S] DIR...
 *
 * One child process per DIR, each owning DIR/visits.txt: open, read the
 * integer, add one, write it back, fsync (unless --no-fsync), close.
 *   trunc:  read through one open, rewrite through open(O_WRONLY|O_TRUNC)
 *           (what most applications do);
 *   pwrite: one open(O_RDWR), pread, pwrite in place (the number never
 *           gets shorter, so no truncate is needed).
 *
 * Invariants checked: every file starts at 0 (written and fsynced by the
 * parent before the clock starts) and ends at exactly the number of
 * increments its child counted, read back by the child and again by the
 * parent through a fresh open; any malformed read fails the run.
 *
 * Timing: children wait on a pipe; the parent stamps the start, closes the
 * pipe and every child runs until start + S (at least one increment each).
 * Throughput is all increments over (last child's end - start); latency is
 * one whole increment.
 */
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define VISITS_FILE "visits.txt"
#define VISITS_MAX_PROCS 256
#define VISITS_TEXT_MAX 32

enum visits_mode { VISITS_TRUNC, VISITS_PWRITE };

struct visits_options {
	enum visits_mode mode;
	bool fsync;
	double seconds;
};

/* One per child, in shared memory; written by the child, read by the parent
 * only after waitpid(). */
struct visits_slot {
	uint64_t count;
	uint64_t end_ns;
	int status; /* 0 ok, else a negative errno / -EIO for a wrong value */
	struct bench_hist hist;
};

/* Written by the parent before the start pipe closes. */
struct visits_shared {
	uint64_t start_ns;
	uint64_t deadline_ns;
	struct visits_slot slots[];
};

/* "<decimal>\n" from buf[0..len) into *ret_value; -EIO if malformed. */
static int visits_parse(const char *buf, size_t len, int64_t *ret_value)
{
	int64_t value = 0;
	size_t i = 0;

	if (len == 0)
		return -EIO;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		if (value > (INT64_MAX - 9) / 10)
			return -EIO;
		value = value * 10 + (buf[i] - '0');
		i++;
	}
	if (i == 0 || i + 1 != len || buf[i] != '\n')
		return -EIO;
	*ret_value = value;
	return 0;
}

/* Read the whole (small) file at the current offset; *ret_len its size. */
static int visits_read_text(int fd, char *buf, size_t cap, size_t *ret_len)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap)
			return -EIO;
	}
	*ret_len = len;
	return 0;
}

/* Current value of path through a fresh open. */
static int visits_read_value(const char *path, int64_t *ret_value)
{
	char buf[VISITS_TEXT_MAX];
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = visits_read_text(fd, buf, sizeof(buf), &len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		r = visits_parse(buf, len, ret_value);
	return r;
}

/* Replace the file with "value\n" (O_TRUNC), fsync if asked, close. */
static int visits_write_trunc(const char *path, int64_t value, bool do_fsync)
{
	char buf[VISITS_TEXT_MAX];
	int fd, len, r;

	len = snprintf(buf, sizeof(buf), "%" PRId64 "\n", value);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = bench_write_full(fd, buf, (size_t)len);
	if (r == 0 && do_fsync && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* One increment, rewrite variant; *ret_value is the value written. */
static int visits_increment_trunc(const char *path, bool do_fsync, int64_t *ret_value)
{
	int64_t value;
	int r;

	r = visits_read_value(path, &value);
	if (r < 0)
		return r;
	r = visits_write_trunc(path, value + 1, do_fsync);
	if (r == 0)
		*ret_value = value + 1;
	return r;
}

/* One increment, in-place variant. */
static int visits_increment_pwrite(const char *path, bool do_fsync, int64_t *ret_value)
{
	char buf[VISITS_TEXT_MAX];
	int64_t value;
	ssize_t n;
	int fd, len, r;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = pread(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	r = visits_parse(buf, (size_t)n, &value);
	if (r < 0)
		goto out;
	len = snprintf(buf, sizeof(buf), "%" PRId64 "\n", value + 1);
	r = bench_pwrite_full(fd, buf, (size_t)len, 0);
	if (r == 0 && do_fsync && fsync(fd) < 0)
		r = -errno;
	if (r == 0)
		*ret_value = value + 1;
out:
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Child body: wait for the start, loop until the deadline, check the file. */
static int visits_child(const char *dir, int go_fd, const struct visits_options *o,
			struct visits_shared *shared, struct visits_slot *slot)
{
	char path[PATH_MAX], c;
	int64_t value = 0, final;
	ssize_t n;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, VISITS_FILE);
	do
		n = read(go_fd, &c, 1); /* returns 0 when the parent closes it */
	while (n < 0 && errno == EINTR);
	if (n != 0)
		return -EPROTO;
	/* At least one increment, however late this child was scheduled. */
	do {
		uint64_t t0 = bench_now_ns();

		if (o->mode == VISITS_TRUNC)
			r = visits_increment_trunc(path, o->fsync, &value);
		else
			r = visits_increment_pwrite(path, o->fsync, &value);
		if (r < 0) {
			bench_error("%s: increment %" PRIu64 ": %s", path, slot->count + 1, strerror(-r));
			return r;
		}
		bench_hist_record(&slot->hist, bench_now_ns() - t0);
		slot->count++;
		if ((uint64_t)value != slot->count) {
			bench_error("%s: wrote %" PRId64 " after %" PRIu64 " increments", path, value,
				    slot->count);
			return -EIO;
		}
	} while (bench_now_ns() < shared->deadline_ns);
	slot->end_ns = bench_now_ns();
	r = visits_read_value(path, &final);
	if (r < 0) {
		bench_error("%s: final read: %s", path, strerror(-r));
		return r;
	}
	if ((uint64_t)final != slot->count) {
		bench_error("%s: holds %" PRId64 ", expected %" PRIu64, path, final, slot->count);
		return -EIO;
	}
	return 0;
}

/* Parse the command line; returns the index of the first DIR or -1. */
static int visits_parse_args(int argc, char **argv, struct visits_options *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "no-fsync", no_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ 0 },
	};
	int c;

	*o = (struct visits_options){ .mode = VISITS_TRUNC, .fsync = true, .seconds = 2.0 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "trunc") == 0)
				o->mode = VISITS_TRUNC;
			else if (strcmp(optarg, "pwrite") == 0)
				o->mode = VISITS_PWRITE;
			else
				return -1;
			break;
		case 'n':
			o->fsync = false;
			break;
		case 's':
			if (bench_parse_seconds(optarg, &o->seconds) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind >= argc || argc - optind > VISITS_MAX_PROCS)
		return -1;
	return optind;
}

/* Start every child, run the clock, reap, check and report. */
/* Every process's counter file, "DIR/visits.txt", into path. */
static void visits_path(char *const dirs[], int i, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dirs[i], VISITS_FILE);
}

/* Shared counters for procs processes, and every counter file at 0. */
static int visits_prepare(char *const dirs[], int procs, struct visits_shared **ret_shared,
			  size_t *ret_size)
{
	size_t size = sizeof(struct visits_shared) + (size_t)procs * sizeof(struct visits_slot);
	struct visits_shared *shared;

	shared = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		bench_error("mmap: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < procs; i++) {
		char path[PATH_MAX];
		int r;

		bench_hist_init(&shared->slots[i].hist);
		visits_path(dirs, i, path, sizeof(path));
		r = visits_write_trunc(path, 0, true);
		if (r < 0) {
			bench_error("%s: %s", path, strerror(-r));
			munmap(shared, size);
			return -1;
		}
	}
	*ret_shared = shared;
	*ret_size = size;
	return 0;
}

/* Fork one child per directory, each waiting on go[0]; *started counts the
 * children forked, also on failure. */
static int visits_start(char *const dirs[], int procs, const struct visits_options *o,
			struct visits_shared *shared, const int go[2], pid_t *pids, int *started)
{
	for (; *started < procs; (*started)++) {
		pid_t pid = fork();

		if (pid < 0) {
			bench_error("fork: %s", strerror(errno));
			return -1;
		}
		if (pid == 0) {
			struct visits_slot *slot = &shared->slots[*started];

			close(go[1]);
			slot->status = visits_child(dirs[*started], go[0], o, shared, slot);
			_exit(slot->status == 0 ? 0 : 1);
		}
		pids[*started] = pid;
	}
	shared->start_ns = bench_now_ns();
	shared->deadline_ns = shared->start_ns + (uint64_t)(o->seconds * 1e9);
	return 0;
}

/* Reap the children; -1 if any failed or could not be reaped. */
static int visits_wait(const pid_t *pids, int started)
{
	int failed = 0;

	for (int i = 0; i < started; i++) {
		int status;

		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				bench_error("waitpid: %s", strerror(errno));
				return -1;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}

/* The totals of a run, once every file holds its process's count. */
struct visits_totals {
	uint64_t increments, end_ns, min_count, max_count;
	struct bench_hist latency;
};

/* Check that every counter file holds what its process counted, and sum. */
static int visits_verify(char *const dirs[], int procs, const struct visits_options *o,
			 const struct visits_shared *shared, struct visits_totals *ret)
{
	int failed = 0;

	memset(ret, 0, sizeof(*ret));
	ret->min_count = UINT64_MAX;
	bench_hist_init(&ret->latency);
	for (int i = 0; i < procs; i++) {
		const struct visits_slot *slot = &shared->slots[i];
		char path[PATH_MAX];
		int64_t value;
		int r;

		visits_path(dirs, i, path, sizeof(path));
		r = visits_read_value(path, &value);
		if (r < 0 || (uint64_t)value != slot->count) {
			bench_error("%s: after exit holds %" PRId64 ", expected %" PRIu64 " (%s)", path,
				    r < 0 ? (int64_t)-1 : value, slot->count, r < 0 ? strerror(-r) : "ok");
			failed = 1;
		}
		if (slot->count == 0) {
			bench_error("%s: no increment finished in %.3f s", path, o->seconds);
			failed = 1;
		}
		ret->increments += slot->count;
		if (slot->count < ret->min_count)
			ret->min_count = slot->count;
		if (slot->count > ret->max_count)
			ret->max_count = slot->count;
		if (slot->end_ns > ret->end_ns)
			ret->end_ns = slot->end_ns;
		bench_hist_merge(&ret->latency, &slot->hist);
	}
	return failed ? -1 : 0;
}

/* One JSON object on stdout for bench/run.py. */
static int visits_report(const struct visits_options *o, int procs, uint64_t start_ns,
			 const struct visits_totals *t)
{
	double elapsed = (double)(t->end_ns - start_ns) / 1e9;
	struct bench_json json;

	bench_json_begin(&json, stdout);
	bench_json_string(&json, "workload", "visits");
	bench_json_string(&json, "mode", o->mode == VISITS_TRUNC ? "trunc" : "pwrite");
	bench_json_int(&json, "fsync", o->fsync);
	bench_json_int(&json, "procs", procs);
	bench_json_int(&json, "increments", (int64_t)t->increments);
	bench_json_int(&json, "min_per_proc", (int64_t)t->min_count);
	bench_json_int(&json, "max_per_proc", (int64_t)t->max_count);
	bench_json_double(&json, "seconds", elapsed);
	bench_json_double(&json, "increments_per_s", (double)t->increments / elapsed);
	bench_json_hist(&json, "latency", &t->latency);
	return bench_json_end(&json) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct visits_options o;
	struct visits_shared *shared = NULL;
	struct visits_totals totals;
	pid_t pids[VISITS_MAX_PROCS];
	int go[2] = { -1, -1 };
	int first, procs, started = 0, failed = 0;
	size_t shared_size = 0;

	bench_set_program("bench-visits");
	first = visits_parse_args(argc, argv, &o);
	if (first < 0) {
		fprintf(stderr, "usage: bench-visits [--mode trunc|pwrite] [--no-fsync] "
				"[--seconds S] DIR...\n");
		return 2;
	}
	procs = argc - first;
	if (visits_prepare(argv + first, procs, &shared, &shared_size) < 0)
		return 1;
	if (pipe2(go, O_CLOEXEC) < 0) {
		bench_error("pipe: %s", strerror(errno));
		failed = 1;
	} else if (visits_start(argv + first, procs, &o, shared, go, pids, &started) < 0) {
		failed = 1;
	}
	/* The start signal; after a failed start (deadline 0) each child stops
	 * after one increment. */
	if (go[1] >= 0)
		close(go[1]);
	if (go[0] >= 0)
		close(go[0]);
	if (visits_wait(pids, started) < 0)
		failed = 1;
	if (!failed && (visits_verify(argv + first, procs, &o, shared, &totals) < 0 ||
			visits_report(&o, procs, shared->start_ns, &totals) < 0))
		failed = 1;
	munmap(shared, shared_size);
	return failed ? 1 : 0;
}
