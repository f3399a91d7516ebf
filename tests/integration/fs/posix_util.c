/*
 * posix_util.c — TAP output, path helpers, pattern files and the "run as
 * nobody" fork helper of the conformance program.
 *
 * Invariants: tap_count is the number of result lines printed so far and
 * tap_failed the number of "not ok" among them; stdout is line-buffered so
 * results interleave correctly with children's output.
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int tap_count;
static int tap_failed;
static char posix_work[PATH_MAX];

/* Print the description of a result, escaping '#' so TAP parsers keep it whole. */
static void tap_print_desc(const char *fmt, va_list ap)
{
	char desc[512];

	vsnprintf(desc, sizeof(desc), fmt, ap);
	for (char *p = desc; *p; p++) {
		if (*p == '#' || *p == '\n')
			*p = ' ';
	}
	fputs(desc, stdout);
}

/* Record one result. */
bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	tap_print_desc(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

/* Print a diagnostic line. */
void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Record a skipped check. */
void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %d - ", tap_count);
	va_start(ap, fmt);
	tap_print_desc(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
}

/* Announce a group of checks. */
void tap_section(const char *name)
{
	printf("# --- %s ---\n", name);
}

/* Print the plan; return the exit status. */
int tap_finish(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d checks failed\n", tap_failed, tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

/* "ENOENT" for ENOENT. */
const char *errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ 0, "success" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EIO, "EIO" },
		{ EBADF, "EBADF" }, { EACCES, "EACCES" }, { EEXIST, "EEXIST" }, { EXDEV, "EXDEV" },
		{ ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EINVAL, "EINVAL" }, { EFBIG, "EFBIG" },
		{ ENOSPC, "ENOSPC" }, { EROFS, "EROFS" }, { EMLINK, "EMLINK" }, { ERANGE, "ERANGE" },
		{ ENAMETOOLONG, "ENAMETOOLONG" }, { ENOSYS, "ENOSYS" }, { ENOTEMPTY, "ENOTEMPTY" },
		{ ELOOP, "ELOOP" }, { ENODATA, "ENODATA" }, { EOPNOTSUPP, "EOPNOTSUPP" },
		{ EDQUOT, "EDQUOT" }, { ENXIO, "ENXIO" }, { EBUSY, "EBUSY" }, { ECHILD, "ECHILD" },
		{ E2BIG, "E2BIG" }, { ENOTCONN, "ENOTCONN" }, { EFAULT, "EFAULT" },
	};
	static char unknown[32];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].err == err)
			return names[i].name;
	}
	snprintf(unknown, sizeof(unknown), "errno %d", err);
	return unknown;
}

/* Pass if the syscall result R is not negative. */
bool expect_ok(long r, const char *desc)
{
	int err = errno;

	if (tap_ok(r >= 0, "%s", desc))
		return true;
	tap_diag("expected success got %s (%s)", errno_name(err), strerror(err));
	return false;
}

/* Pass if the syscall failed with EXPECTED. */
bool expect_errno(long r, int expected, const char *desc)
{
	int err = errno;

	if (tap_ok(r < 0 && err == expected, "%s", desc))
		return true;
	tap_diag("expected %s got %s", errno_name(expected), r < 0 ? errno_name(err) : "success");
	return false;
}

/* Pass if the syscall failed with either error (POSIX allows both). */
bool expect_errno2(long r, int expected1, int expected2, const char *desc)
{
	int err = errno;

	if (tap_ok(r < 0 && (err == expected1 || err == expected2), "%s", desc))
		return true;
	tap_diag("expected %s or %s got %s", errno_name(expected1), errno_name(expected2),
		 r < 0 ? errno_name(err) : "success");
	return false;
}

/* Pass if GOT equals EXPECTED. */
bool expect_eq(long long got, long long expected, const char *desc)
{
	if (tap_ok(got == expected, "%s", desc))
		return true;
	tap_diag("expected %lld got %lld", expected, got);
	return false;
}

/* Pass if COND holds. */
bool expect_true(bool cond, const char *desc)
{
	return tap_ok(cond, "%s", desc);
}

/* Format into one of a ring of static buffers. */
static const char *path_vformat(const char *base, const char *fmt, va_list ap)
{
	static char ring[16][PATH_MAX];
	static unsigned next;
	char *buf = ring[next++ % 16];
	int n = snprintf(buf, PATH_MAX, "%s/", base);

	if (n < 0 || n >= PATH_MAX) {
		buf[0] = '\0';
		return buf;
	}
	vsnprintf(buf + n, (size_t)(PATH_MAX - n), fmt, ap);
	return buf;
}

/* A path under the work directory. */
const char *wp(const char *fmt, ...)
{
	va_list ap;
	const char *r;

	va_start(ap, fmt);
	r = path_vformat(posix_work, fmt, ap);
	va_end(ap);
	return r;
}

/* A path under BASE. */
const char *pj(const char *base, const char *fmt, ...)
{
	va_list ap;
	const char *r;

	va_start(ap, fmt);
	r = path_vformat(base, fmt, ap);
	va_end(ap);
	return r;
}

/* The per-run work directory. */
const char *posix_workdir(void)
{
	return posix_work;
}

/* Create the per-run work directory under BASE (mode 0777 so nobody can use it). */
int posix_make_workdir(const char *base, char *ret_path, size_t size)
{
	int n = snprintf(posix_work, sizeof(posix_work), "%s/posix-work.%ld", base, (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(posix_work))
		return -ENAMETOOLONG;
	if (mkdir(posix_work, 0777) < 0)
		return -errno;
	if (chmod(posix_work, 0777) < 0)
		return -errno;
	if (ret_path)
		snprintf(ret_path, size, "%s", posix_work);
	return 0;
}

/* nftw callback: remove one entry (children come first with FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

/* rm -rf PATH. */
int posix_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return -errno;
	return 0;
}

/* Byte at OFFSET of the pattern SEED: changes every byte and never repeats per 4 KiB. */
static unsigned char pattern_byte(int64_t offset, uint32_t seed)
{
	uint64_t x = (uint64_t)offset * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;

	x ^= x >> 29;
	return (unsigned char)(x ^ (x >> 8) ^ ((uint64_t)offset >> 12));
}

/* Fill BUF with the pattern bytes of [OFFSET, OFFSET+LEN). */
void pattern_fill(unsigned char *buf, size_t len, int64_t offset, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(offset + (int64_t)i, seed);
}

/* pwrite everything; 0 or -errno (-EIO on a zero-length write). */
int write_all(int fd, const void *buf, size_t len, int64_t offset)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, offset);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

/* pread exactly LEN bytes; 0, -errno, or -ENODATA on early EOF. */
int read_all(int fd, void *buf, size_t len, int64_t offset)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, offset);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

/* True if LEN bytes at BUF are all zero. */
bool all_zero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i])
			return false;
	}
	return true;
}

/* Create PATH (truncating) with LEN bytes of pattern SEED. */
int write_file(const char *path, mode_t mode, int64_t len, uint32_t seed)
{
	unsigned char *buf = malloc(256 * KiB);
	int fd = -1, r = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (int64_t off = 0; off < len; off += 256 * KiB) {
		size_t n = (size_t)(len - off < 256 * KiB ? len - off : 256 * KiB);

		pattern_fill(buf, n, off, seed);
		r = write_all(fd, buf, n, off);
		if (r < 0)
			goto out;
	}
out:
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	free(buf);
	return r;
}

/* Verify PATH holds exactly LEN bytes of pattern SEED. */
int verify_file(const char *path, int64_t len, uint32_t seed)
{
	unsigned char *buf = malloc(256 * KiB), *want = malloc(256 * KiB);
	struct stat st;
	int fd = -1, r = 0;

	if (!buf || !want) {
		r = -ENOMEM;
		goto out;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size != len) {
		tap_diag("%s: size %lld, expected %lld", path, (long long)st.st_size, (long long)len);
		r = -EIO;
		goto out;
	}
	for (int64_t off = 0; off < len; off += 256 * KiB) {
		size_t n = (size_t)(len - off < 256 * KiB ? len - off : 256 * KiB);

		r = read_all(fd, buf, n, off);
		if (r < 0)
			goto out;
		pattern_fill(want, n, off, seed);
		if (memcmp(buf, want, n) != 0) {
			tap_diag("%s: content differs in [%lld, %lld)", path, (long long)off,
				 (long long)(off + (int64_t)n));
			r = -EIO;
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(want);
	return r;
}

/* lstat returning -errno; RET is zeroed on failure so callers can compare safely. */
int lstat_e(const char *path, struct stat *ret)
{
	if (lstat(path, ret) < 0) {
		int err = errno;

		memset(ret, 0, sizeof(*ret));
		return -err;
	}
	return 0;
}

/* Sleep MS milliseconds (so coarse timestamps move). */
void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* xorshift64*. */
uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Mount a reference tmpfs on a fresh directory; see posix.h. */
int posix_tmpfs_mount(char *ret_dir, size_t size)
{
	int n = snprintf(ret_dir, size, "/tmp/claimfs-posix-tmpfs.XXXXXX");

	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (!mkdtemp(ret_dir))
		return -errno;
	if (mount("tmpfs", ret_dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=0777") < 0) {
		int err = errno;

		rmdir(ret_dir);
		return -err;
	}
	return 0;
}

/* Unmount and remove what posix_tmpfs_mount made (lazily if still busy). */
void posix_tmpfs_unmount(const char *dir)
{
	if (umount(dir) < 0)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* Fork and run FN as nobody; see posix.h. */
int as_nobody(nobody_fn fn, const char *a, const char *b)
{
	static const struct posix_caller nobody = { POSIX_NOBODY_UID, POSIX_NOBODY_GID, 0, { 0 } };

	return as_caller(&nobody, fn, a, b);
}

/* Fork and run FN as CALLER; see posix.h. */
int as_caller(const struct posix_caller *caller, nobody_fn fn, const char *a, const char *b)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int r;

		if (setgroups(caller->ngroups, caller->groups) < 0 || setgid(caller->gid) < 0 ||
		    setuid(caller->uid) < 0)
			_exit(250);
		umask(022);
		r = fn(a, b);
		_exit(r < 0 ? (-r > 249 ? 249 : -r) : 0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 250)
		return -ECHILD;
	return -WEXITSTATUS(status);
}
