/*
 * seqio.c — bench-seqio: sequential write and read of one large file.
 *
 *   bench-seqio write FILE --size S [--block B] [--seed N] [--no-fsync]
 *   bench-seqio read  FILE --size S [--block B] [--seed N]
 *
 * write: create/truncate FILE, write S bytes in B-byte blocks, fsync, close.
 * read:  open FILE, read it to the end in B-byte blocks, close.
 * Every byte is the position-dependent pattern of bench_pattern_fill(), so
 * read checks each block and fails on the first wrong byte or wrong size.
 *
 * Timing covers open..close, minus the time spent making or checking the
 * pattern (measured per block and subtracted), so the figure is the file
 * system's and not the bench's CPU.
 */
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct seqio_options {
	bool write;
	const char *path;
	uint64_t size;
	uint64_t block;
	uint64_t seed;
	bool fsync;
};

struct seqio_result {
	uint64_t io_ns;    /* open..close minus pattern time */
	uint64_t fsync_ns; /* part of io_ns spent in fsync */
};

/* Write the file; fills *ret. */
static int seqio_write(const struct seqio_options *o, void *buf, struct seqio_result *ret)
{
	uint64_t t0, pattern_ns = 0, offset = 0, t_fsync = 0;
	int fd, r = 0;

	t0 = bench_now_ns();
	fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		bench_error("open %s: %s", o->path, strerror(-r));
		return r;
	}
	while (offset < o->size) {
		size_t len = (size_t)(o->size - offset < o->block ? o->size - offset : o->block);
		uint64_t p0 = bench_now_ns();

		bench_pattern_fill(buf, len, offset, o->seed);
		pattern_ns += bench_now_ns() - p0;
		r = bench_write_full(fd, buf, len);
		if (r < 0) {
			bench_error("write %s at %" PRIu64 ": %s", o->path, offset, strerror(-r));
			goto out;
		}
		offset += len;
	}
	if (o->fsync) {
		t_fsync = bench_now_ns();
		if (fsync(fd) < 0) {
			r = -errno;
			bench_error("fsync %s: %s", o->path, strerror(-r));
			goto out;
		}
		t_fsync = bench_now_ns() - t_fsync;
	}
out:
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		bench_error("close %s: %s", o->path, strerror(-r));
	}
	ret->io_ns = bench_now_ns() - t0 - pattern_ns;
	ret->fsync_ns = t_fsync;
	return r;
}

/* Read the file back, checking every block and the size. */
static int seqio_read(const struct seqio_options *o, void *buf, struct seqio_result *ret)
{
	uint64_t t0, check_ns = 0, offset = 0;
	int fd, r = 0;

	t0 = bench_now_ns();
	fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		bench_error("open %s: %s", o->path, strerror(-r));
		return r;
	}
	for (;;) {
		ssize_t n = read(fd, buf, o->block);
		uint64_t c0;
		size_t bad;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			bench_error("read %s at %" PRIu64 ": %s", o->path, offset, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		if (offset + (uint64_t)n > o->size || (n % 8) != 0) {
			r = -EIO;
			bench_error("%s: read %zd bytes at %" PRIu64 " (size %" PRIu64 ")", o->path, n,
				    offset, o->size);
			goto out;
		}
		c0 = bench_now_ns();
		bad = bench_pattern_check(buf, (size_t)n, offset, o->seed);
		check_ns += bench_now_ns() - c0;
		if (bad != (size_t)n) {
			r = -EIO;
			bench_error("%s: wrong data at offset %" PRIu64, o->path, offset + bad);
			goto out;
		}
		offset += (uint64_t)n;
	}
	if (offset != o->size) {
		r = -EIO;
		bench_error("%s: read %" PRIu64 " bytes, expected %" PRIu64, o->path, offset, o->size);
	}
out:
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		bench_error("close %s: %s", o->path, strerror(-r));
	}
	ret->io_ns = bench_now_ns() - t0 - check_ns;
	ret->fsync_ns = 0;
	return r;
}

/* Parse "write|read FILE options". */
static int seqio_parse_args(int argc, char **argv, struct seqio_options *o)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "block", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "no-fsync", no_argument, NULL, 'n' },
		{ 0 },
	};
	int c;

	*o = (struct seqio_options){ .block = 1u << 20, .seed = 1, .fsync = true };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (bench_parse_size(optarg, &o->size) < 0)
				return -EINVAL;
			break;
		case 'b':
			if (bench_parse_size(optarg, &o->block) < 0)
				return -EINVAL;
			break;
		case 'S':
			if (bench_parse_u64(optarg, &o->seed) < 0)
				return -EINVAL;
			break;
		case 'n':
			o->fsync = false;
			break;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2 || o->size == 0 || o->size % 8 || o->block == 0 || o->block % 8 ||
	    o->block > (1u << 30))
		return -EINVAL;
	if (strcmp(argv[optind], "write") == 0)
		o->write = true;
	else if (strcmp(argv[optind], "read") != 0)
		return -EINVAL;
	o->path = argv[optind + 1];
	return 0;
}

/* Run one direction and print its JSON line. */
int main(int argc, char **argv)
{
	struct seqio_options o;
	struct seqio_result res = { 0 };
	struct bench_json json;
	void *buf = NULL;
	double seconds;
	int r;

	bench_set_program("bench-seqio");
	if (seqio_parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-seqio write|read FILE --size S [--block B] [--seed N] "
				"[--no-fsync]\n");
		return 2;
	}
	r = posix_memalign(&buf, 4096, (size_t)o.block);
	if (r != 0) {
		bench_error("posix_memalign: %s", strerror(r));
		return 1;
	}
	r = o.write ? seqio_write(&o, buf, &res) : seqio_read(&o, buf, &res);
	free(buf);
	if (r < 0)
		return 1;
	seconds = (double)res.io_ns / 1e9;
	bench_json_begin(&json, stdout);
	bench_json_string(&json, "workload", o.write ? "seq-write" : "seq-read");
	bench_json_int(&json, "bytes", (int64_t)o.size);
	bench_json_int(&json, "block", (int64_t)o.block);
	bench_json_double(&json, "seconds", seconds);
	bench_json_double(&json, "fsync_seconds", (double)res.fsync_ns / 1e9);
	bench_json_double(&json, "mib_per_s", (double)o.size / 1048576.0 / seconds);
	return bench_json_end(&json) < 0 ? 1 : 0;
}
