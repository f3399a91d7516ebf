/*
 * randio.c — bench-randio: 4 KiB random I/O at queue depth 1 in one file.
 *
 *   bench-randio prepare FILE --size S
 *   bench-randio write   FILE --size S --seconds T [--fsync-every K] [--seed N]
 *   bench-randio read    FILE --size S --seconds T [--seed N]
 *
 * Every 4 KiB block describes itself: word 0 a magic number, word 1 its
 * block index, word 2 its generation, the rest a function of (index,
 * generation). prepare writes generation 0 everywhere; write gives each
 * write a new generation (seed << 32 | write number) and remembers the last
 * generation of every block it wrote, then re-opens the file and checks
 * those blocks; read checks every block it reads against itself, so stale,
 * misplaced or torn blocks fail the run whatever wrote them.
 *
 * Timing: the sum of the pwrite/fsync (or pread) calls only; making and
 * checking block contents is outside the clock. write with --fsync-every K
 * fsyncs after every K-th write (the final partial batch is not timed).
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

#define RANDIO_BLOCK 4096u
#define RANDIO_WORDS (RANDIO_BLOCK / 8u)
#define RANDIO_MAGIC UINT64_C(0x636c61696d667342) /* "claimfsB" */
#define RANDIO_PREPARE_CHUNK 256u                /* blocks per prepare write (1 MiB) */

enum randio_command { RANDIO_PREPARE, RANDIO_WRITE, RANDIO_READ };

struct randio_options {
	enum randio_command command;
	const char *path;
	uint64_t size;
	double seconds;
	uint64_t fsync_every;
	uint64_t seed;
};

/* Fill one block for (index, generation). */
static void randio_block_fill(uint64_t *words, uint64_t index, uint64_t generation)
{
	uint64_t key = bench_mix64(index * 0x9e3779b97f4a7c15u ^ generation);

	words[0] = RANDIO_MAGIC;
	words[1] = index;
	words[2] = generation;
	for (unsigned i = 3; i < RANDIO_WORDS; i++)
		words[i] = bench_mix64(key + i);
}

/* Check a block read at index; its generation in *ret_generation. */
static int randio_block_check(const uint64_t *words, uint64_t index, uint64_t *ret_generation)
{
	uint64_t key;

	if (words[0] != RANDIO_MAGIC || words[1] != index)
		return -EIO;
	key = bench_mix64(index * 0x9e3779b97f4a7c15u ^ words[2]);
	for (unsigned i = 3; i < RANDIO_WORDS; i++)
		if (words[i] != bench_mix64(key + i))
			return -EIO;
	*ret_generation = words[2];
	return 0;
}

/* xorshift64*: the block sequence, reproducible from the seed. */
static uint64_t randio_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1du;
}

/* Write generation 0 to every block, then fsync. */
static int randio_prepare(const struct randio_options *o, struct bench_json *json)
{
	uint64_t blocks = o->size / RANDIO_BLOCK, t0 = bench_now_ns();
	uint64_t *buf;
	int fd, r = 0;

	buf = malloc((size_t)RANDIO_PREPARE_CHUNK * RANDIO_BLOCK);
	if (!buf)
		return -ENOMEM;
	fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		bench_error("open %s: %s", o->path, strerror(-r));
		goto out_free;
	}
	for (uint64_t b = 0; b < blocks; b += RANDIO_PREPARE_CHUNK) {
		uint64_t n = blocks - b < RANDIO_PREPARE_CHUNK ? blocks - b : RANDIO_PREPARE_CHUNK;

		for (uint64_t i = 0; i < n; i++)
			randio_block_fill(buf + i * RANDIO_WORDS, b + i, 0);
		r = bench_write_full(fd, buf, (size_t)(n * RANDIO_BLOCK));
		if (r < 0) {
			bench_error("write %s: %s", o->path, strerror(-r));
			goto out_close;
		}
	}
	if (fsync(fd) < 0) {
		r = -errno;
		bench_error("fsync %s: %s", o->path, strerror(-r));
	}
out_close:
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		bench_error("close %s: %s", o->path, strerror(-r));
	}
out_free:
	free(buf);
	if (r == 0) {
		bench_json_string(json, "workload", "rand-prepare");
		bench_json_double(json, "seconds", (double)(bench_now_ns() - t0) / 1e9);
	}
	return r;
}

/* Open FILE and check it has the expected size. */
static int randio_open(const struct randio_options *o, int flags, int *ret_fd)
{
	struct stat st;
	int fd, r;

	fd = open(o->path, flags | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		bench_error("open %s: %s (run prepare first)", o->path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		bench_error("fstat %s: %s", o->path, strerror(-r));
		close(fd);
		return r;
	}
	if ((uint64_t)st.st_size != o->size) {
		bench_error("%s: size %jd, expected %" PRIu64, o->path, (intmax_t)st.st_size, o->size);
		close(fd);
		return -EIO;
	}
	*ret_fd = fd;
	return 0;
}

/* Re-open the file and check the last generation of every block written. */
static int randio_verify_written(const struct randio_options *o, const uint64_t *generations)
{
	uint64_t blocks = o->size / RANDIO_BLOCK, words[RANDIO_WORDS], generation;
	int fd, r;

	r = randio_open(o, O_RDONLY, &fd);
	if (r < 0)
		return r;
	for (uint64_t b = 0; b < blocks && r == 0; b++) {
		if (generations[b] == 0)
			continue;
		r = bench_pread_full(fd, words, RANDIO_BLOCK, b * RANDIO_BLOCK);
		if (r < 0) {
			bench_error("verify read %s block %" PRIu64 ": %s", o->path, b, strerror(-r));
			break;
		}
		if (randio_block_check(words, b, &generation) < 0 || generation != generations[b]) {
			bench_error("%s: block %" PRIu64 " is wrong after re-open", o->path, b);
			r = -EIO;
		}
	}
	close(fd);
	return r;
}

/* Timed random writes until the I/O time reaches --seconds. */
static int randio_write(const struct randio_options *o, struct bench_json *json)
{
	uint64_t blocks = o->size / RANDIO_BLOCK, state = bench_mix64(o->seed) | 1;
	uint64_t words[RANDIO_WORDS], io_ns = 0, writes = 0;
	uint64_t budget = (uint64_t)(o->seconds * 1e9), wall_end;
	struct bench_hist write_hist, fsync_hist;
	uint64_t *generations;
	int fd, r;

	generations = calloc((size_t)blocks, sizeof(*generations));
	if (!generations)
		return -ENOMEM;
	bench_hist_init(&write_hist);
	bench_hist_init(&fsync_hist);
	r = randio_open(o, O_RDWR, &fd);
	if (r < 0)
		goto out_free;
	wall_end = bench_now_ns() + 3 * budget + 1000000000u;
	while (io_ns < budget && bench_now_ns() < wall_end) {
		uint64_t b = randio_next(&state) % blocks, t0, dt;
		uint64_t generation = (o->seed << 32) | (writes + 1);

		randio_block_fill(words, b, generation);
		t0 = bench_now_ns();
		r = bench_pwrite_full(fd, words, RANDIO_BLOCK, b * RANDIO_BLOCK);
		dt = bench_now_ns() - t0;
		if (r < 0) {
			bench_error("pwrite %s block %" PRIu64 ": %s", o->path, b, strerror(-r));
			goto out_close;
		}
		bench_hist_record(&write_hist, dt);
		io_ns += dt;
		generations[b] = generation;
		writes++;
		if (o->fsync_every && writes % o->fsync_every == 0) {
			t0 = bench_now_ns();
			if (fsync(fd) < 0) {
				r = -errno;
				bench_error("fsync %s: %s", o->path, strerror(-r));
				goto out_close;
			}
			dt = bench_now_ns() - t0;
			bench_hist_record(&fsync_hist, dt);
			io_ns += dt;
		}
	}
	if (fsync(fd) < 0) {
		r = -errno;
		bench_error("final fsync %s: %s", o->path, strerror(-r));
	}
out_close:
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		bench_error("close %s: %s", o->path, strerror(-r));
	}
	if (r == 0)
		r = randio_verify_written(o, generations);
	if (r == 0) {
		bench_json_string(json, "workload", "rand-write");
		bench_json_int(json, "fsync_every", (int64_t)o->fsync_every);
		bench_json_int(json, "ops", (int64_t)writes);
		bench_json_double(json, "seconds", (double)io_ns / 1e9);
		bench_json_double(json, "iops", (double)writes / ((double)io_ns / 1e9));
		bench_json_double(json, "mib_per_s",
				  (double)writes * RANDIO_BLOCK / 1048576.0 / ((double)io_ns / 1e9));
		bench_json_hist(json, "write", &write_hist);
		bench_json_hist(json, "fsync", &fsync_hist);
	}
out_free:
	free(generations);
	return r;
}

/* Timed random reads, each block checked, until the I/O time reaches --seconds. */
static int randio_read(const struct randio_options *o, struct bench_json *json)
{
	uint64_t blocks = o->size / RANDIO_BLOCK, state = bench_mix64(o->seed ^ 0x5eed) | 1;
	uint64_t words[RANDIO_WORDS], io_ns = 0, reads = 0, generation;
	uint64_t budget = (uint64_t)(o->seconds * 1e9), wall_end;
	struct bench_hist read_hist;
	int fd, r;

	bench_hist_init(&read_hist);
	r = randio_open(o, O_RDONLY, &fd);
	if (r < 0)
		return r;
	wall_end = bench_now_ns() + 3 * budget + 1000000000u;
	while (io_ns < budget && bench_now_ns() < wall_end) {
		uint64_t b = randio_next(&state) % blocks, t0, dt;

		t0 = bench_now_ns();
		r = bench_pread_full(fd, words, RANDIO_BLOCK, b * RANDIO_BLOCK);
		dt = bench_now_ns() - t0;
		if (r < 0) {
			bench_error("pread %s block %" PRIu64 ": %s", o->path, b, strerror(-r));
			break;
		}
		if (randio_block_check(words, b, &generation) < 0) {
			bench_error("%s: block %" PRIu64 " is corrupt", o->path, b);
			r = -EIO;
			break;
		}
		bench_hist_record(&read_hist, dt);
		io_ns += dt;
		reads++;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0) {
		bench_json_string(json, "workload", "rand-read");
		bench_json_int(json, "ops", (int64_t)reads);
		bench_json_double(json, "seconds", (double)io_ns / 1e9);
		bench_json_double(json, "iops", (double)reads / ((double)io_ns / 1e9));
		bench_json_hist(json, "read", &read_hist);
	}
	return r;
}

/* Parse "prepare|write|read FILE options". */
static int randio_parse_args(int argc, char **argv, struct randio_options *o)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "fsync-every", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 'S' },
		{ 0 },
	};
	int c;

	*o = (struct randio_options){ .seconds = 2.0, .seed = 1 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (bench_parse_size(optarg, &o->size) < 0)
				return -EINVAL;
			break;
		case 't':
			if (bench_parse_seconds(optarg, &o->seconds) < 0)
				return -EINVAL;
			break;
		case 'f':
			if (bench_parse_u64(optarg, &o->fsync_every) < 0)
				return -EINVAL;
			break;
		case 'S':
			/* generations are seed << 32 | n and must never be 0 */
			if (bench_parse_u64(optarg, &o->seed) < 0 || o->seed == 0 ||
			    o->seed > UINT32_MAX)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2 || o->size < RANDIO_BLOCK || o->size % RANDIO_BLOCK)
		return -EINVAL;
	if (strcmp(argv[optind], "prepare") == 0)
		o->command = RANDIO_PREPARE;
	else if (strcmp(argv[optind], "write") == 0)
		o->command = RANDIO_WRITE;
	else if (strcmp(argv[optind], "read") == 0)
		o->command = RANDIO_READ;
	else
		return -EINVAL;
	o->path = argv[optind + 1];
	return 0;
}

/* Run one command and print its JSON line. */
int main(int argc, char **argv)
{
	struct randio_options o;
	struct bench_json json;
	int r;

	bench_set_program("bench-randio");
	if (randio_parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: bench-randio prepare|write|read FILE --size S [--seconds T] "
				"[--fsync-every K] [--seed N]\n");
		return 2;
	}
	bench_json_begin(&json, stdout);
	switch (o.command) {
	case RANDIO_PREPARE:
		r = randio_prepare(&o, &json);
		break;
	case RANDIO_WRITE:
		r = randio_write(&o, &json);
		break;
	default:
		r = randio_read(&o, &json);
		break;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			bench_error("out of memory");
		return 1;
	}
	return bench_json_end(&json) < 0 ? 1 : 0;
}
