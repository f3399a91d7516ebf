/*
 * bench_common.h — what every bench workload program shares: the clock,
 * latency histograms, deterministic data patterns (so every byte read back
 * can be checked), option parsing helpers and the one-line JSON result
 * each program prints on stdout for bench/run.py.
 *
 * Conventions: functions return 0 or a negative errno; the place that
 * detects a failure reports it once with bench_error(); a program exits 1
 * when any measurement could not be taken or any check failed, so a wrong
 * result never turns into a number in a table.
 */
#ifndef CLAIMFS_BENCH_COMMON_H
#define CLAIMFS_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http_client.h"

/* Log-linear buckets: exact below 64 ns, then 32 per power of two (~3%). */
#define BENCH_HIST_BUCKETS 2048

struct bench_hist {
	uint64_t buckets[BENCH_HIST_BUCKETS];
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* claimfsd's API at host (an IP literal) and port, for a keep-alive
 * http_connection: no timeout, like every bench request. -EINVAL if bad. */
int bench_endpoint(const char *host, unsigned port, struct http_endpoint *ret_endpoint);

void bench_hist_init(struct bench_hist *hist);
void bench_hist_record(struct bench_hist *hist, uint64_t ns);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* The value at percentile pct (0..100], bucket-midpoint precision; 0 if empty. */
uint64_t bench_hist_percentile(const struct bench_hist *hist, double pct);

/* splitmix64's finaliser: a cheap, well-mixed 64-bit hash. */
uint64_t bench_mix64(uint64_t x);
/* The pattern is a function of (absolute file offset, seed), so any block
 * can be checked on its own. offset and len must be multiples of 8. */
void bench_pattern_fill(void *buf, size_t len, uint64_t offset, uint64_t seed);
/* Offset within buf of the first wrong byte's word, or len if all match. */
size_t bench_pattern_check(const void *buf, size_t len, uint64_t offset, uint64_t seed);

/* "4096", "4k", "1M", "1G" (binary multiples) into bytes. */
int bench_parse_size(const char *text, uint64_t *ret_size);
int bench_parse_u64(const char *text, uint64_t *ret_value);
int bench_parse_seconds(const char *text, double *ret_seconds);

/* Name used as the prefix of every error message. */
void bench_set_program(const char *name);
void bench_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* read/write/pread/pwrite of the whole length (short transfers continued);
 * -EIO for an unexpected end of file. */
int bench_read_full(int fd, void *buf, size_t len);
int bench_write_full(int fd, const void *buf, size_t len);
int bench_pread_full(int fd, void *buf, size_t len, uint64_t offset);
int bench_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset);

/* One JSON object on one line; keys are plain identifiers chosen by us. */
struct bench_json {
	FILE *out;
	bool first;
};

void bench_json_begin(struct bench_json *json, FILE *out);
void bench_json_int(struct bench_json *json, const char *key, int64_t value);
void bench_json_double(struct bench_json *json, const char *key, double value);
void bench_json_string(struct bench_json *json, const char *key, const char *value);
/* <prefix>_count, _p50_us, _p99_us, _max_us, _mean_us. */
void bench_json_hist(struct bench_json *json, const char *prefix, const struct bench_hist *hist);
/* Closes the object; -EIO if the stream failed. */
int bench_json_end(struct bench_json *json);

#endif
