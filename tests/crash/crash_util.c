/*
 * crash_util.c — content generator, log file and file helpers shared by every
 * crashwriter kind.
 *
 * Content is a pure function of (key, offset), so a verifier needs only the
 * key and the size a log line names to know every byte of a file. The log is
 * append-only: lines are written with one write(2) on an O_APPEND descriptor,
 * acknowledgements are fdatasync'ed before the writer goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "crash.h"

/* splitmix64 finaliser: a good 64-bit mixer. */
uint64_t crash_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Content key of object n of writer w: distinct per writer seed and object. */
uint64_t crash_key(const struct crash_writer *w, uint64_t n)
{
	return crash_mix(w->seed * 0x100000001b3ULL ^ crash_mix(n + 1));
}

/* Uniform-enough integer in [lo, hi]. */
uint64_t crash_rand(struct crash_writer *w, uint64_t lo, uint64_t hi)
{
	w->rng = crash_mix(w->rng);
	return lo + w->rng % (hi - lo + 1);
}

/* Bytes [off, off+len) of the content named key: 8 bytes per mixed word. */
void crash_fill(uint64_t key, uint64_t off, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t i = 0;

	while (i < len) {
		uint64_t pos = off + i;
		uint64_t word = crash_mix(key ^ (pos >> 3));
		unsigned shift = (unsigned)(pos & 7);

		for (; shift < 8 && i < len; shift++, i++)
			out[i] = (uint8_t)(word >> (8 * shift));
	}
}

/* FNV-1a 64 over buf, continuing from h. */
uint64_t crash_fnv(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Open (creating) the log and read every line it already holds. */
int crash_log_open(struct crash_writer *w, const char *path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	w->log_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (w->log_fd < 0)
		return -errno;
	r = crash_read_file(path, &text, &len);
	if (r < 0)
		goto out;
	for (size_t start = 0; start < len;) {
		uint8_t *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		char **grown;

		if (!nl) /* a torn last line cannot be an ack: fdatasync came after the newline */
			break;
		grown = realloc(w->lines, (w->nlines + 1) * sizeof(*grown));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		w->lines = grown;
		w->lines[w->nlines] = strndup((char *)text + start, end - start);
		if (!w->lines[w->nlines]) {
			r = -ENOMEM;
			goto out;
		}
		if (strncmp(w->lines[w->nlines], "ack ", 4) == 0)
			w->acks++;
		w->nlines++;
		start = end + 1;
	}
	r = 0;
out:
	free(text);
	return r;
}

/* Close the log and free its lines. */
void crash_log_close(struct crash_writer *w)
{
	for (size_t i = 0; i < w->nlines; i++)
		free(w->lines[i]);
	free(w->lines);
	w->lines = NULL;
	w->nlines = 0;
	if (w->log_fd >= 0)
		close(w->log_fd);
	w->log_fd = -1;
}

/* Append one formatted line, durably if asked. */
int crash_log_put(struct crash_writer *w, bool durable, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -EOVERFLOW;
	line[n++] = '\n';
	if (crash_write_all(w->log_fd, line, (size_t)n) < 0)
		return -errno;
	if (durable && fdatasync(w->log_fd) < 0)
		return -errno;
	return 0;
}

/* One verification failure. */
void crash_lost(struct crash_writer *w, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "LOST %s %s: ", w->kind->name, w->dir);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	w->lost++;
}

/* Remember the failing call; errno is the reason. */
int crash_failed(struct crash_writer *w, const char *call)
{
	int err = errno ? errno : EIO;

	w->failed_call = call;
	errno = err;
	return -err;
}

/* A log line that breaks the try/ack protocol. */
int crash_log_corrupt(struct crash_writer *w, size_t line)
{
	fprintf(stderr, "crashwriter %s %s: log line %zu breaks the protocol: '%s'\n",
		w->kind->name, w->dir, line + 1, line < w->nlines ? w->lines[line] : "");
	w->failed_call = "log";
	return -EPROTO;
}

/* dir/name. */
void crash_path(const struct crash_writer *w, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", w->dir, name);

	if (n < 0 || (size_t)n >= size)
		abort();
}

/* a/b. */
void crash_join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= size)
		abort();
}

/* write(2) until done; -1 with errno on failure. */
int crash_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* pwrite(2) until done; -1 with errno on failure. */
int crash_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Stream content (key) of length size to fd in random-sized chunks. */
int crash_write_content(struct crash_writer *w, int fd, uint64_t key, uint64_t size,
			size_t max_chunk)
{
	uint8_t *buf = malloc(max_chunk);
	uint64_t off = 0;
	int r = 0;

	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	while (off < size) {
		size_t n = (size_t)crash_rand(w, 1, max_chunk);

		if (n > size - off)
			n = (size_t)(size - off);
		crash_fill(key, off, buf, n);
		if (crash_write_all(fd, buf, n) < 0) {
			r = -1;
			break;
		}
		off += n;
	}
	int saved = errno;
	free(buf);
	errno = saved;
	return r;
}

/* fsync the directory at path. */
int crash_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -1;
	if (fsync(fd) < 0)
		r = -1;
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* Read a whole file. */
int crash_read_file(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 65536) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *grown = realloc(buf, ncap);

			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			buf = grown;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

/* Compare a file with generated content. */
int crash_file_compare(const char *path, uint64_t key, uint64_t size, struct stat *ret_st,
		       char *why, size_t why_size)
{
	uint8_t *data = NULL, *want = NULL;
	size_t len = 0;
	int r;

	if (lstat(path, ret_st) < 0)
		return -errno;
	if (!S_ISREG(ret_st->st_mode)) {
		snprintf(why, why_size, "not a regular file (mode %o)", (unsigned)ret_st->st_mode);
		return CRASH_MISMATCH;
	}
	r = crash_read_file(path, &data, &len);
	if (r < 0)
		return r;
	if ((uint64_t)ret_st->st_size != len) {
		snprintf(why, why_size, "stat size %lld but read %zu bytes",
			 (long long)ret_st->st_size, len);
		r = CRASH_MISMATCH;
		goto out;
	}
	want = malloc(len ? len : 1);
	if (!want) {
		r = -ENOMEM;
		goto out;
	}
	crash_fill(key, 0, want, len);
	if (len == size && memcmp(data, want, len) == 0) {
		r = CRASH_MATCH;
		goto out;
	}
	r = len <= size ? CRASH_PARTIAL : CRASH_MISMATCH;
	size_t first_bad = len;
	for (size_t i = 0; i < len; i++) {
		if (data[i] != want[i]) {
			if (first_bad == len)
				first_bad = i;
			if (data[i] != 0) {
				r = CRASH_MISMATCH;
				first_bad = i;
				break;
			}
		}
	}
	snprintf(why, why_size, "size %zu (expected %llu), first differing byte at %zu", len,
		 (unsigned long long)size, first_bad);
out:
	free(data);
	free(want);
	return r;
}

/* nftw callback: remove one entry (children first). */
static int crash_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf. */
int crash_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, crash_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* Has the FUSE daemon behind path died? statfs always asks the daemon. */
bool crash_mount_is_dead(const char *path)
{
	struct statvfs sv;

	return statvfs(path, &sv) < 0 && crash_errno_is_transport(errno);
}

/* The errors a process sees once the FUSE daemon died. */
bool crash_errno_is_transport(int err)
{
	return err == ENOTCONN || err == ECONNABORTED;
}
