/*
 * crash.h — the crash-loop writer (crashwriter): shared types and helpers.
 *
 * One crashwriter process runs one workload ("kind") in its own directory
 * inside a claim, and keeps a log OUTSIDE the mount of what it was promised:
 *
 *   try <op>    written before the operation's first syscall
 *   ack <op>    written (and fdatasync'ed) after the operation's durability
 *               point returned 0: fsync/fdatasync, or close(2) where the
 *               durability contract says close is enough
 *   base <st>   the state found on disk at start-up and adopted
 *   run         a new run begins (after verification)
 *   abandon     the in-flight operation is closed; the resolution that
 *               follows (its own try/ack) decides its objects' state
 *
 * Invariants of the log: a "try" is always followed by its "ack" before the
 * next "try", except for the last "try" of a run (the operation in flight
 * when the daemon was killed). At start-up the writer verifies the directory
 * against the log — every acknowledged operation must be there, exactly;
 * the one in-flight operation may be absent, complete, or (where the kind
 * says so) partly applied — then resolves the in-flight operation (adopts or
 * undoes it, logged as its own try/ack) so that the directory equals the
 * log's state again, and only then starts new operations.
 *
 * Writers stop at the first failing syscall: ENOTCONN/ECONNABORTED (the
 * daemon was killed) is the expected end of a run, anything else is a bug.
 */
#ifndef CLAIMFS_CRASH_H
#define CLAIMFS_CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

enum crash_exit {
	CRASH_EXIT_OK = 0,         /* verified; stopped by the daemon's death or the deadline */
	CRASH_EXIT_LOST = 1,       /* acknowledged data missing or wrong */
	CRASH_EXIT_UNEXPECTED = 2, /* a syscall failed while it should not have */
	CRASH_EXIT_USAGE = 3,      /* bad arguments or an unreadable log */
};

struct crash_writer;

struct crash_kind {
	const char *name;
	/* Compare the directory with the log (crash_lost() for each loss); if
	 * resolve, bring the directory back to the log's state. 0 or -errno. */
	int (*verify)(struct crash_writer *w, bool resolve);
	/* One operation: try, syscalls, ack. 0 or -errno (crash_failed()). */
	int (*step)(struct crash_writer *w);
	/* Free the kind's state. */
	void (*destroy)(struct crash_writer *w);
};

struct crash_writer {
	const struct crash_kind *kind;
	int variant;  /* kind-specific flavour (e.g. pwrite vs O_TRUNC) */
	char dir[4096];
	uint64_t seed;
	uint64_t rng;
	int log_fd;
	char **lines; /* the log as read at start-up */
	size_t nlines;
	unsigned long acks;    /* "ack" lines in the log at start-up */
	unsigned long objects; /* files/directories compared during verification */
	unsigned long lost;    /* verification failures */
	const char *failed_call; /* set by crash_failed() */
	void *state;
};

extern const struct crash_kind crash_kind_counter;
extern const struct crash_kind crash_kind_append;
extern const struct crash_kind crash_kind_rename;
extern const struct crash_kind crash_kind_trunc;
extern const struct crash_kind crash_kind_seq;
extern const struct crash_kind crash_kind_link;
extern const struct crash_kind crash_kind_tree;

/* ---- content and randomness (crash_util.c) ------------------------------ */

uint64_t crash_mix(uint64_t x);
/* A per-writer key for object n of this writer. */
uint64_t crash_key(const struct crash_writer *w, uint64_t n);
/* Uniform in [lo, hi] from the writer's generator. */
uint64_t crash_rand(struct crash_writer *w, uint64_t lo, uint64_t hi);
/* The deterministic bytes [off, off+len) of content key. */
void crash_fill(uint64_t key, uint64_t off, void *buf, size_t len);
#define CRASH_FNV_INIT 0xcbf29ce484222325ULL
uint64_t crash_fnv(uint64_t h, const void *buf, size_t len);

/* ---- log ------------------------------------------------------------------ */

int crash_log_open(struct crash_writer *w, const char *path);
void crash_log_close(struct crash_writer *w);
/* Append one line; durable: fdatasync before returning. 0 or -errno. */
int crash_log_put(struct crash_writer *w, bool durable, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- reporting -------------------------------------------------------------- */

/* Record one verification failure (printed to stderr as "LOST ..."). */
void crash_lost(struct crash_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Note which call failed (errno preserved) and return -errno. */
int crash_failed(struct crash_writer *w, const char *call);
/* The log is not what a writer writes: report and return -EPROTO. */
int crash_log_corrupt(struct crash_writer *w, size_t line);

/* ---- files ----------------------------------------------------------------- */

/* "<dir>/<name>" into buf (names are short; truncation aborts). */
void crash_path(const struct crash_writer *w, const char *name, char *buf, size_t size);
/* "<a>/<b>" into buf (truncation aborts). */
void crash_join(char *buf, size_t size, const char *a, const char *b);
int crash_write_all(int fd, const void *buf, size_t len);
int crash_pwrite_all(int fd, const void *buf, size_t len, off_t off);
/* Write content (key, 0..size) to fd in chunks of random size in [1, max_chunk]. */
int crash_write_content(struct crash_writer *w, int fd, uint64_t key, uint64_t size,
			size_t max_chunk);
/* fsync a directory by path. */
int crash_fsync_dir(const char *path);
/* Whole file into a malloc'd buffer (*ret_buf may be NULL for size 0). -errno on failure. */
int crash_read_file(const char *path, uint8_t **ret_buf, size_t *ret_len);

enum crash_match {
	CRASH_MATCH = 0,   /* exactly the expected content */
	CRASH_PARTIAL,     /* not longer, every byte right or zero (allowed in flight only) */
	CRASH_MISMATCH,    /* anything else */
};
/* Compare regular file path with content (key, size); *ret_st filled when it exists.
 * Returns enum crash_match or -errno (-ENOENT: absent). why gets a description. */
int crash_file_compare(const char *path, uint64_t key, uint64_t size, struct stat *ret_st,
		       char *why, size_t why_size);
/* rm -rf path (ENOENT is success). */
int crash_remove_tree(const char *path);
/* Is errno the daemon going away (ENOTCONN, ECONNABORTED)? */
bool crash_errno_is_transport(int err);
bool crash_mount_is_dead(const char *path);

#endif
