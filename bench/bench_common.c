/*
 * bench_common.c — clock, histograms, data patterns, parsing and JSON output
 * for the bench programs (see bench_common.h).
 *
 * Histogram invariant: count == sum of buckets; min_ns/max_ns are exact,
 * percentiles are bucket midpoints clamped to [min_ns, max_ns].
 */
#include "bench_common.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *bench_program = "bench";

/* Monotonic time; the clock cannot fail for CLOCK_MONOTONIC on Linux. */
uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Empty histogram. */
void bench_hist_init(struct bench_hist *hist)
{
	memset(hist, 0, sizeof(*hist));
	hist->min_ns = UINT64_MAX;
}

/* Bucket of a value: identity below 64, then 32 sub-buckets per octave. */
static unsigned bench_hist_bucket(uint64_t ns)
{
	unsigned exponent, sub;

	if (ns < 64)
		return (unsigned)ns;
	exponent = 63u - (unsigned)__builtin_clzll(ns); /* >= 6 */
	sub = (unsigned)(ns >> (exponent - 5)) & 31u;
	return 64u + (exponent - 6u) * 32u + sub;
}

/* Midpoint of a bucket's value range (inverse of bench_hist_bucket). */
static uint64_t bench_hist_bucket_mid(unsigned bucket)
{
	unsigned exponent, sub;
	uint64_t low, width;

	if (bucket < 64)
		return bucket;
	exponent = (bucket - 64u) / 32u + 6u;
	sub = (bucket - 64u) % 32u;
	low = (uint64_t)(32u + sub) << (exponent - 5u);
	width = (uint64_t)1 << (exponent - 5u);
	return low + width / 2;
}

/* Count one sample. */
void bench_hist_record(struct bench_hist *hist, uint64_t ns)
{
	hist->buckets[bench_hist_bucket(ns)]++;
	hist->count++;
	hist->sum_ns += ns;
	if (ns < hist->min_ns)
		hist->min_ns = ns;
	if (ns > hist->max_ns)
		hist->max_ns = ns;
}

/* into += from. */
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->min_ns < into->min_ns)
		into->min_ns = from->min_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

/* Nearest-rank percentile at bucket precision. */
uint64_t bench_hist_percentile(const struct bench_hist *hist, double pct)
{
	uint64_t rank, seen = 0, value;

	if (hist->count == 0)
		return 0;
	rank = (uint64_t)ceil(pct / 100.0 * (double)hist->count);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += hist->buckets[i];
		if (seen >= rank) {
			value = bench_hist_bucket_mid(i);
			if (value < hist->min_ns)
				value = hist->min_ns;
			if (value > hist->max_ns)
				value = hist->max_ns;
			return value;
		}
	}
	return hist->max_ns;
}

/* splitmix64 finaliser. */
uint64_t bench_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

/* Word w of a file holds mix64(seed * K ^ w): position-dependent, so a block
 * written at the wrong offset or a stale block is detected. */
static uint64_t bench_pattern_word(uint64_t word_index, uint64_t seed)
{
	return bench_mix64((seed * 0xd6e8feb86659fd93u) ^ word_index);
}

/* Fill buf with the pattern for file bytes [offset, offset + len). */
void bench_pattern_fill(void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	unsigned char *bytes = buf;
	uint64_t first = offset / 8;

	for (size_t i = 0; i < len / 8; i++) {
		uint64_t word = bench_pattern_word(first + i, seed);

		memcpy(bytes + i * 8, &word, 8);
	}
}

/* Check buf against the pattern; len when it matches. */
size_t bench_pattern_check(const void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	const unsigned char *bytes = buf;
	uint64_t first = offset / 8;

	for (size_t i = 0; i < len / 8; i++) {
		uint64_t word;

		memcpy(&word, bytes + i * 8, 8);
		if (word != bench_pattern_word(first + i, seed))
			return i * 8;
	}
	return len;
}

/* Unsigned decimal, no sign, no trailing garbage. */
int bench_parse_u64(const char *text, uint64_t *ret_value)
{
	char *end;
	unsigned long long value;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret_value = value;
	return 0;
}

/* Decimal with an optional binary suffix k/K, m/M, g/G. */
int bench_parse_size(const char *text, uint64_t *ret_size)
{
	char *end;
	unsigned long long value;
	unsigned shift = 0;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret_size = (uint64_t)value << shift;
	return 0;
}

/* Positive decimal seconds, e.g. "0.5". */
int bench_parse_seconds(const char *text, double *ret_seconds)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || *end || !(value > 0.0) || value > 86400.0)
		return -EINVAL;
	*ret_seconds = value;
	return 0;
}

/* Set the error prefix. */
void bench_set_program(const char *name)
{
	bench_program = name;
}

/* "<program>: <message>\n" on stderr. */
void bench_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* read() until len bytes arrived; EOF before that is -EIO. */
int bench_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* write() until len bytes are taken. */
int bench_write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* pread() until len bytes arrived; EOF before that is -EIO. */
int bench_pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)offset);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* pwrite() until len bytes are taken. */
int bench_pwrite_full(int fd, const void *buf, size_t len, uint64_t offset)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

/* Start the object. */
void bench_json_begin(struct bench_json *json, FILE *out)
{
	json->out = out;
	json->first = true;
	fputc('{', out);
}

/* Separator and key; keys never need escaping (identifiers we choose). */
static void bench_json_key(struct bench_json *json, const char *key)
{
	fprintf(json->out, "%s\"%s\":", json->first ? "" : ",", key);
	json->first = false;
}

/* "key": integer. */
void bench_json_int(struct bench_json *json, const char *key, int64_t value)
{
	bench_json_key(json, key);
	fprintf(json->out, "%" PRId64, value);
}

/* "key": number; non-finite values become null. */
void bench_json_double(struct bench_json *json, const char *key, double value)
{
	bench_json_key(json, key);
	if (isfinite(value))
		fprintf(json->out, "%.9g", value);
	else
		fputs("null", json->out);
}

/* "key": string, escaping quotes, backslashes and control characters. */
void bench_json_string(struct bench_json *json, const char *key, const char *value)
{
	bench_json_key(json, key);
	fputc('"', json->out);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(json->out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(json->out, "\\u%04x", *p);
		else
			fputc(*p, json->out);
	}
	fputc('"', json->out);
}

/* Latency summary of a histogram under a key prefix, in microseconds. */
void bench_json_hist(struct bench_json *json, const char *prefix, const struct bench_hist *hist)
{
	char key[64];
	double mean = hist->count ? (double)hist->sum_ns / (double)hist->count : 0.0;

	snprintf(key, sizeof(key), "%s_count", prefix);
	bench_json_int(json, key, (int64_t)hist->count);
	snprintf(key, sizeof(key), "%s_p50_us", prefix);
	bench_json_double(json, key, (double)bench_hist_percentile(hist, 50.0) / 1e3);
	snprintf(key, sizeof(key), "%s_p99_us", prefix);
	bench_json_double(json, key, (double)bench_hist_percentile(hist, 99.0) / 1e3);
	snprintf(key, sizeof(key), "%s_max_us", prefix);
	bench_json_double(json, key, (double)(hist->count ? hist->max_ns : 0) / 1e3);
	snprintf(key, sizeof(key), "%s_mean_us", prefix);
	bench_json_double(json, key, mean / 1e3);
}

/* Close the object and flush. */
int bench_json_end(struct bench_json *json)
{
	fputs("}\n", json->out);
	if (fflush(json->out) != 0 || ferror(json->out))
		return -EIO;
	return 0;
}

/* See bench_common.h. */
int bench_endpoint(const char *host, unsigned port, struct http_endpoint *ret_endpoint)
{
	struct http_endpoint endpoint;
	char url[128];
	int n = snprintf(url, sizeof(url), "http://%s:%u", host, port), r;

	if (n < 0 || (size_t)n >= sizeof(url) || port == 0 || port > 65535)
		return -EINVAL;
	r = http_endpoint_parse(url, &endpoint);
	if (r == 0)
		r = http_endpoint_resolve(&endpoint);
	if (r < 0)
		return -EINVAL;
	endpoint.timeout_ms = 0;
	*ret_endpoint = endpoint;
	return 0;
}
