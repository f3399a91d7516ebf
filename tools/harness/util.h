/*
 * util.h — small shared helpers of claimfs-harness: clocks, a seeded random
 * generator, the process-wide interrupt flag, file and mount helpers, and the
 * one place that writes human-readable lines to stderr.
 *
 * Invariants: util_interrupted() becomes true once SIGINT/SIGTERM/SIGHUP
 * arrived and never goes back; every wait loop in the harness polls it so a
 * Ctrl-C reaches the cleanup path within a few milliseconds.
 */
#ifndef CLAIMFS_HARNESS_UTIL_H
#define CLAIMFS_HARNESS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Monotonic clock in nanoseconds / seconds. */
uint64_t util_now_ns(void);
double util_now_s(void);
/* Sleep MS milliseconds (returns early on nothing; EINTR is retried). */
void util_sleep_ms(unsigned ms);

/* splitmix64: tiny, seedable, good enough for choosing victims. */
struct util_rng {
	uint64_t state;
};
void util_rng_seed(struct util_rng *rng, uint64_t seed);
uint64_t util_rng_next(struct util_rng *rng);
/* Uniform in [0, bound) (bound > 0). */
uint64_t util_rng_below(struct util_rng *rng, uint64_t bound);

/* Install the SIGINT/SIGTERM/SIGHUP handlers that set the interrupt flag,
 * and ignore SIGPIPE. Returns 0 or -errno. */
int util_signals_install(void);
bool util_interrupted(void);
/* The signal that interrupted us (0 if none). */
int util_interrupt_signal(void);
/* Block the interrupt signals in the calling thread (worker threads). */
void util_signals_block_in_thread(void);

/* stderr output: serialised so the progress line and event lines never
 * interleave. util_say() clears an active progress line first. */
void util_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void util_vsay(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Replace the single progress line (tty) or print it as a line. */
void util_progress_line(const char *text, bool tty);
/* Forget the progress line (after the final newline). */
void util_progress_end(void);

struct http_endpoint;
/* Make endpoint announce the harness (User-Agent) and accept any answer an
 * app may give (Accept). */
void util_endpoint_harness(struct http_endpoint *endpoint);
/* 127.0.0.1:PORT, announcing the harness. */
void util_endpoint_loopback(unsigned port, struct http_endpoint *ret_endpoint);
/* IP:PORT (an IPv4 text address), announcing the harness. */
void util_endpoint_ip(const char *ip, unsigned port, struct http_endpoint *ret_endpoint);

/* Read at most CAP-1 bytes of PATH into BUF, NUL-terminated.
 * Returns the length or -errno. */
long util_read_small_file(const char *path, char *buf, size_t cap);
/* Print the last LINES lines of PATH to stderr, each prefixed with PREFIX. */
void util_print_tail(const char *path, unsigned lines, const char *prefix);

/* Parse a decimal unsigned integer in [0, max]; 0 or -EINVAL. */
int util_parse_ulong(const char *text, unsigned long max, unsigned long *ret_value);

/* True if some mount point equals PATH or lies below it (per /proc/self/mounts). */
bool util_mounted_under(const char *path);
/* Detach (MNT_DETACH) every mount at or below PATH, deepest first.
 * Returns the number detached or -errno. */
int util_detach_under(const char *path);
/* Remove the tree at PATH without crossing into other file systems.
 * Returns 0 or -errno (the first error). */
int util_remove_tree(const char *path);
/* Copy the regular file SRC to DST (created or truncated). 0 or -errno. */
int util_copy_file(const char *src, const char *dst);

/* Copy SRC into DST (capacity CAP); -ENAMETOOLONG when it does not fit. */
int util_copy(char *dst, size_t cap, const char *src);
/* snprintf into DST that reports truncation as -ENAMETOOLONG. */
int util_format(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
