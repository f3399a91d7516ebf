/*
 * posix.h — shared helpers of the syscall-level conformance program `posix`.
 *
 * The program runs real syscalls against a live claim directory and prints TAP.
 * Every check is one TAP line; a failed check is followed by "# expected ...
 * got ..." diagnostics.  Checks never abort the program: a failing step makes
 * the checks that depend on it fail too, but the run goes on.
 *
 * Invariants: tap_count counts printed results; posix_dir() paths live under
 * the per-run work directory (DIR/posix-work.<pid>), which main() removes at
 * the end, so a claim is left as it was found.
 */
#ifndef CLAIMFS_POSIX_H
#define CLAIMFS_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define POSIX_NOBODY_UID 65534
#define POSIX_NOBODY_GID 65534
#define KiB ((int64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

/* What the run targets and which groups of checks it runs. */
struct posix_config {
	const char *dir;        /* the claim directory (or a plain directory with --plain) */
	const char *other_dir;  /* a second claim, for EXDEV checks; may be NULL */
	int64_t capacity;       /* expected capacity in bytes; 0 = unknown */
	bool plain;             /* target is not claimfs: skip claimfs-only checks */
	bool enospc;            /* run only the capacity (ENOSPC) checks */
	bool big;               /* run only the multi-GiB checks */
	int64_t big_stream;     /* --big: bytes of the streamed file (--big=BYTES) */
};

extern struct posix_config posix_cfg;

/* ---- TAP output (posix_util.c) ---- */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(const char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_section(const char *name);
int tap_finish(void);
/* r is a syscall result read right after the call; errno is examined if r < 0. */
bool expect_ok(long r, const char *desc);
bool expect_errno(long r, int expected, const char *desc);
bool expect_errno2(long r, int expected1, int expected2, const char *desc);
bool expect_eq(long long got, long long expected, const char *desc);
bool expect_true(bool cond, const char *desc);
const char *errno_name(int err);

/* ---- paths and files ---- */
/* A path under the work directory, formatted; valid until 16 more calls. */
const char *wp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A path under an arbitrary base directory, same lifetime rules as wp(). */
const char *pj(const char *base, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *posix_workdir(void);
int posix_make_workdir(const char *base, char *ret_path, size_t size);
int posix_remove_tree(const char *path);
/* Create PATH with MODE holding LEN bytes of pattern SEED; 0 or -errno. */
int write_file(const char *path, mode_t mode, int64_t len, uint32_t seed);
/* Check PATH holds exactly LEN bytes of pattern SEED; 0 if so, -errno or -EIO. */
int verify_file(const char *path, int64_t len, uint32_t seed);
/* Deterministic content: byte at OFFSET of pattern SEED. */
void pattern_fill(unsigned char *buf, size_t len, int64_t offset, uint32_t seed);
int write_all(int fd, const void *buf, size_t len, int64_t offset);
int read_all(int fd, void *buf, size_t len, int64_t offset);
bool all_zero(const unsigned char *buf, size_t len);
/* lstat() that returns 0 or -errno and clears RET on failure. */
int lstat_e(const char *path, struct stat *ret);
void sleep_ms(long ms);
/* Seeded xorshift generator for reproducible random I/O. */
uint64_t rng_next(uint64_t *state);

/* A tmpfs of the running kernel to compare with: mounted on a new directory
 * under /tmp written to RET_DIR; 0 or -errno. posix_tmpfs_unmount removes it. */
int posix_tmpfs_mount(char *ret_dir, size_t size);
void posix_tmpfs_unmount(const char *dir);

/* ---- running a step as nobody ---- */
typedef int (*nobody_fn)(const char *a, const char *b);
/* Fork, drop to nobody:nogroup with no supplementary groups, run FN(A, B),
 * which returns 0 or -errno; returns that value (or -ECHILD if the child died). */
int as_nobody(nobody_fn fn, const char *a, const char *b);
/* Who as_caller runs a step as: uid, gid and supplementary groups. */
struct posix_caller {
	uid_t uid;
	gid_t gid;
	size_t ngroups;
	gid_t groups[4];
};
/* Fork, take CALLER's identity (uid 0 keeps root's capabilities), run FN(A, B);
 * returns what it returns (or -ECHILD if the child died). */
int as_caller(const struct posix_caller *caller, nobody_fn fn, const char *a, const char *b);

/* ---- check groups (one function per area) ---- */
void posix_files(void);       /* posix_files.c: regular files, I/O, truncate, sparse, fallocate */
void posix_random_io(void);
void posix_unlinked_open(void);
void posix_attrs(void);       /* posix_attrs.c: chmod/chown/times, xattrs */
void posix_xattrs(void);
void posix_dirs(void);        /* posix_names.c: dirs, links, special files, names, readdir */
void posix_links(void);
void posix_special(void);
void posix_names(void);
void posix_readdir(void);
void posix_rename(void);      /* posix_rename.c */
void posix_concurrency(void); /* posix_concurrent.c */
void posix_cache(void);       /* posix_cache.c */
void posix_access(void);      /* posix_access.c: permissions, setgid/sticky, top levels, EXDEV */
void posix_toplevel(void);
void posix_setid(void);        /* posix_access.c: set-id bits and capabilities on write/truncate/chown */
void posix_chown_setid(void); /* posix_chown.c: set-id bits after chown, every file type, against tmpfs */
void posix_falloc(void);      /* posix_falloc.c: punching holes and zeroing ranges, against tmpfs */
void posix_exdev(void);
void posix_statfs(void);      /* posix_space.c: statfs, ENOSPC, big files */
void posix_enospc(void);
void posix_big(void);

#endif
