/*
 * posix_files.c — regular files: create/open flags, I/O at odd offsets,
 * st_blocks, truncate, sparse files, fallocate, mmap, random I/O against an
 * in-memory reference, and unlinked-but-open files.
 *
 * Expectations are what ext4 does; the claimfs-specific ones (skipped with
 * --plain) are that fallocate's COLLAPSE_RANGE and INSERT_RANGE fail with
 * EOPNOTSUPP and that writes or truncates far past the capacity fail.
 */
#include "posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Compare a timespec: negative, zero or positive like strcmp. */
static int ts_cmp(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

/* open(O_CREAT|O_EXCL), modes under umask, O_APPEND, O_TRUNC, EOF reads, open errors. */
static void files_open_flags(void)
{
	char buf[64];
	struct stat st;
	int fd;

	fd = open(wp("f"), O_RDWR | O_CREAT | O_EXCL, 0666);
	expect_ok(fd, "open O_CREAT|O_EXCL creates a file");
	expect_ok(fstat(fd, &st), "fstat new file");
	expect_eq(st.st_mode, S_IFREG | 0644, "new file mode is 0666 & ~umask 022");
	expect_eq(st.st_size, 0, "new file is empty");
	expect_eq(st.st_nlink, 1, "new file has nlink 1");
	expect_eq(st.st_uid, getuid(), "new file owned by creator uid");
	expect_eq(st.st_blocks, 0, "empty file has st_blocks 0");
	expect_eq(write(fd, "hello", 5), 5, "write 5 bytes");
	expect_eq(pread(fd, buf, sizeof(buf), 0), 5, "pread returns the 5 bytes");
	expect_true(memcmp(buf, "hello", 5) == 0, "pread content matches");
	expect_eq(pread(fd, buf, sizeof(buf), 5), 0, "pread at EOF returns 0");
	expect_eq(pread(fd, buf, sizeof(buf), 1000), 0, "pread past EOF returns 0");
	expect_eq(pread(fd, buf, sizeof(buf), 3), 2, "short read at EOF");
	expect_ok(fsync(fd), "fsync file");
	expect_ok(fdatasync(fd), "fdatasync file");
	expect_ok(close(fd), "close file");

	expect_errno(open(wp("f"), O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST,
		     "open O_CREAT|O_EXCL on existing file -> EEXIST");
	expect_errno(open(wp("missing"), O_RDONLY), ENOENT, "open missing file -> ENOENT");
	expect_errno(open(wp("f/x"), O_RDONLY | O_CREAT, 0644), ENOTDIR,
		     "open file/x -> ENOTDIR");
	expect_errno(open(posix_workdir(), O_WRONLY), EISDIR, "open directory for writing -> EISDIR");
	expect_errno(open(wp("f"), O_RDONLY | O_DIRECTORY), ENOTDIR,
		     "open file with O_DIRECTORY -> ENOTDIR");

	fd = open(wp("f"), O_WRONLY | O_APPEND);
	expect_ok(fd, "open O_APPEND");
	expect_ok(pwrite(fd, " world", 6, 0) == 6 ? 0 : -1, "O_APPEND write");
	expect_ok(close(fd), "close O_APPEND fd");
	expect_ok(stat(wp("f"), &st), "stat after append");
	expect_eq(st.st_size, 11, "O_APPEND write went to the end (size 11)");
	fd = open(wp("f"), O_RDONLY);
	memset(buf, 0, sizeof(buf));
	expect_eq(read(fd, buf, sizeof(buf)), 11, "read appended file");
	expect_true(memcmp(buf, "hello world", 11) == 0, "appended content is 'hello world'");
	close(fd);

	fd = open(wp("f"), O_WRONLY | O_TRUNC);
	expect_ok(fd, "open O_TRUNC");
	expect_ok(fstat(fd, &st), "fstat O_TRUNC fd");
	expect_eq(st.st_size, 0, "O_TRUNC empties the file (fstat)");
	close(fd);
	expect_ok(stat(wp("f"), &st), "stat after O_TRUNC");
	expect_eq(st.st_size, 0, "O_TRUNC empties the file (stat)");
	fd = open(wp("f"), O_RDONLY);
	expect_eq(read(fd, buf, sizeof(buf)), 0, "read after O_TRUNC returns nothing");
	close(fd);

	fd = open(wp("f"), O_RDWR);
	int fd2 = open(wp("f"), O_RDONLY);
	expect_eq(pwrite(fd, "shared", 6, 0), 6, "write through one fd");
	memset(buf, 0, sizeof(buf));
	expect_eq(pread(fd2, buf, 6, 0), 6, "read through another fd");
	expect_true(memcmp(buf, "shared", 6) == 0, "second fd sees the write");
	close(fd2);
	close(fd);
}

/* mtime/ctime move on write; st_blocks reflects use. */
static void files_times_and_blocks(void)
{
	struct stat before, after;
	int fd = open(wp("t"), O_RDWR | O_CREAT, 0644);

	expect_ok(fd, "create file for mtime test");
	expect_ok(fstat(fd, &before), "fstat before write");
	sleep_ms(30);
	expect_eq(pwrite(fd, "x", 1, 0), 1, "write one byte");
	expect_ok(fstat(fd, &after), "fstat after write");
	expect_true(ts_cmp(after.st_mtim, before.st_mtim) > 0, "mtime changes on write");
	expect_true(ts_cmp(after.st_ctim, before.st_ctim) > 0, "ctime changes on write");
	expect_ok(stat(wp("t"), &after), "stat after write");
	expect_true(ts_cmp(after.st_mtim, before.st_mtim) > 0, "mtime via stat changes on write");
	expect_true(after.st_blocks >= 1, "1-byte file has st_blocks >= 1");
	close(fd);

	int r = write_file(wp("mib"), 0644, MiB, 7);
	expect_ok(r, "write a 1 MiB file");
	fd = open(wp("mib"), O_RDONLY);
	expect_ok(fsync(fd), "fsync 1 MiB file");
	expect_ok(fstat(fd, &after), "fstat 1 MiB file");
	close(fd);
	if (!tap_ok(after.st_blocks >= 2048, "1 MiB file has st_blocks >= 2048"))
		tap_diag("expected >= 2048 got %lld", (long long)after.st_blocks);
	if (!tap_ok(after.st_blocks <= 4096, "1 MiB file has st_blocks <= 4096 (no wild overcount)"))
		tap_diag("expected <= 4096 got %lld", (long long)after.st_blocks);
	expect_ok(verify_file(wp("mib"), MiB, 7), "1 MiB file reads back");
	expect_ok(truncate(wp("mib"), 0), "truncate 1 MiB file to 0");
	expect_ok(stat(wp("mib"), &after), "stat truncated file");
	expect_eq(after.st_blocks, 0, "file truncated to 0 has st_blocks 0");
	unlink(wp("mib"));
}

/* Writes and reads at fixed odd offsets and sizes, compared with a reference. */
static void files_odd_offsets(void)
{
	static const struct {
		int64_t off;
		size_t len;
	} ops[] = {
		{ 4095, 1 },	  { 4094, 4 },	      { 0, 1 },		  { 511, 513 },
		{ 65535, 2 },	  { 65535, 10000 },   { 131071, 131075 }, { 1048575, 3 },
		{ 12345, 77777 }, { 1000000, 200001 }, { 4096, 4096 },	  { 1, 65536 * 3 + 1 },
	};
	const size_t total = 2 * (size_t)MiB;
	unsigned char *ref = calloc(1, total), *buf = malloc(total);
	int64_t size = 0;
	bool ok = true;
	int fd = open(wp("odd"), O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (!ref || !buf || fd < 0) {
		expect_ok(-1, "set up odd-offset test");
		goto out;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]) && ok; i++) {
		pattern_fill(ref + ops[i].off, ops[i].len, ops[i].off, (uint32_t)i + 100);
		if (write_all(fd, ref + ops[i].off, ops[i].len, ops[i].off) < 0) {
			tap_diag("pwrite(%lld, %zu): %s", (long long)ops[i].off, ops[i].len,
				 strerror(errno));
			ok = false;
		}
		if (ops[i].off + (int64_t)ops[i].len > size)
			size = ops[i].off + (int64_t)ops[i].len;
		if (ok && (read_all(fd, buf, ops[i].len, ops[i].off) < 0 ||
			   memcmp(buf, ref + ops[i].off, ops[i].len) != 0)) {
			tap_diag("read back of pwrite(%lld, %zu) differs", (long long)ops[i].off,
				 ops[i].len);
			ok = false;
		}
	}
	expect_true(ok, "pwrite/pread at odd offsets and sizes across block boundaries");
	ok = read_all(fd, buf, (size_t)size, 0) == 0 && memcmp(buf, ref, (size_t)size) == 0;
	expect_true(ok, "whole file after odd-offset writes equals the reference (gaps are zero)");
out:
	if (fd >= 0)
		close(fd);
	unlink(wp("odd"));
	free(ref);
	free(buf);
}

/* truncate down and up; the region past a truncate-down reads zeros when grown again. */
static void files_truncate(void)
{
	unsigned char buf[20000], want[5000];
	struct stat st;
	int fd;

	expect_ok(write_file(wp("tr"), 0644, 10000, 3), "write 10000 bytes");
	expect_ok(truncate(wp("tr"), 5000), "truncate down to 5000");
	expect_ok(stat(wp("tr"), &st), "stat after truncate down");
	expect_eq(st.st_size, 5000, "size is 5000 after truncate down");
	expect_ok(truncate(wp("tr"), 20000), "truncate up to 20000");
	expect_ok(stat(wp("tr"), &st), "stat after truncate up");
	expect_eq(st.st_size, 20000, "size is 20000 after truncate up");
	fd = open(wp("tr"), O_RDWR);
	expect_ok(read_all(fd, buf, sizeof(buf), 0), "read truncated file");
	pattern_fill(want, sizeof(want), 0, 3);
	expect_true(memcmp(buf, want, 5000) == 0, "first 5000 bytes survive truncate");
	expect_true(all_zero(buf + 5000, 15000), "bytes past the old end read zeros after truncate up");
	expect_ok(ftruncate(fd, 1), "ftruncate to 1 byte");
	expect_ok(ftruncate(fd, 8192 + 17), "ftruncate up to 8209");
	expect_ok(read_all(fd, buf, 8192 + 17, 0), "read after ftruncate");
	expect_true(buf[0] == want[0] && all_zero(buf + 1, 8192 + 16),
		    "ftruncate down then up: tail reads zeros");
	expect_errno(ftruncate(fd, -1), EINVAL, "ftruncate to negative size -> EINVAL");
	close(fd);
	expect_errno(truncate(posix_workdir(), 0), EISDIR, "truncate a directory -> EISDIR");
	unlink(wp("tr"));
}

/* A write at 10 MiB leaves a hole that reads zeros and allocates nothing. */
static void files_sparse(void)
{
	const size_t chunk = (size_t)MiB;
	unsigned char *buf = malloc(chunk), tail[4096], want[4096];
	struct stat st;
	bool zeros = true;
	int fd = open(wp("sparse"), O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (!buf || fd < 0) {
		expect_ok(-1, "set up sparse file");
		goto out;
	}
	pattern_fill(want, sizeof(want), 10 * MiB, 11);
	expect_ok(write_all(fd, want, sizeof(want), 10 * MiB), "pwrite 4 KiB at offset 10 MiB");
	expect_ok(fsync(fd), "fsync sparse file");
	expect_ok(fstat(fd, &st), "fstat sparse file");
	expect_eq(st.st_size, 10 * MiB + 4096, "sparse file size is 10 MiB + 4 KiB");
	if (!tap_ok(st.st_blocks * 512 < MiB, "sparse file allocates far less than its size"))
		tap_diag("expected st_blocks*512 < 1 MiB got %lld bytes",
			 (long long)st.st_blocks * 512);
	for (int64_t off = 0; off < 10 * MiB; off += (int64_t)chunk) {
		if (read_all(fd, buf, chunk, off) < 0 || !all_zero(buf, chunk)) {
			tap_diag("hole at %lld does not read zeros", (long long)off);
			zeros = false;
			break;
		}
	}
	expect_true(zeros, "the 10 MiB hole reads zeros");
	expect_ok(read_all(fd, tail, sizeof(tail), 10 * MiB), "read data after the hole");
	expect_true(memcmp(tail, want, sizeof(tail)) == 0, "data after the hole is intact");
out:
	if (fd >= 0)
		close(fd);
	unlink(wp("sparse"));
	free(buf);
}

/* fallocate mode 0 and KEEP_SIZE; COLLAPSE_RANGE and INSERT_RANGE EOPNOTSUPP on claimfs. */
static void files_fallocate(void)
{
	unsigned char buf[4096];
	struct stat st, st0;
	int fd = open(wp("fa"), O_RDWR | O_CREAT | O_TRUNC, 0644);

	expect_ok(fd, "create file for fallocate");
	expect_ok(fallocate(fd, 0, 0, MiB), "fallocate mode 0, 1 MiB");
	expect_ok(fstat(fd, &st), "fstat after fallocate");
	expect_eq(st.st_size, MiB, "fallocate mode 0 grows size to 1 MiB");
	if (!tap_ok(st.st_blocks >= 2048, "fallocate mode 0 grows st_blocks to >= 2048"))
		tap_diag("expected >= 2048 got %lld", (long long)st.st_blocks);
	expect_ok(read_all(fd, buf, sizeof(buf), MiB - 4096), "read fallocated range");
	expect_true(all_zero(buf, sizeof(buf)), "fallocated range reads zeros");
	expect_ok(fallocate(fd, 0, 2 * MiB, 64 * KiB), "fallocate mode 0 past EOF");
	expect_ok(fstat(fd, &st), "fstat after fallocate past EOF");
	expect_eq(st.st_size, 2 * MiB + 64 * KiB, "size is offset+len after fallocate past EOF");
	expect_ok(fallocate(fd, 0, 0, 4096), "fallocate inside the file");
	expect_ok(fstat(fd, &st0), "fstat after fallocate inside");
	expect_eq(st0.st_size, st.st_size, "fallocate inside the file keeps the size");
	close(fd);

	fd = open(wp("fk"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	pattern_fill(buf, 100, 0, 5);
	expect_eq(pwrite(fd, buf, 100, 0), 100, "write 100 bytes");
	expect_ok(fstat(fd, &st0), "fstat before KEEP_SIZE");
	expect_ok(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, MiB), "fallocate KEEP_SIZE 1 MiB");
	expect_ok(fstat(fd, &st), "fstat after KEEP_SIZE");
	expect_eq(st.st_size, 100, "fallocate KEEP_SIZE leaves the size at 100");
	expect_true(st.st_blocks >= st0.st_blocks, "fallocate KEEP_SIZE does not shrink st_blocks");
	/* PUNCH_HOLE and ZERO_RANGE: posix_falloc.c. */
	if (posix_cfg.plain) {
		tap_skip("not claimfs", "fallocate COLLAPSE_RANGE -> EOPNOTSUPP");
		tap_skip("not claimfs", "fallocate INSERT_RANGE -> EOPNOTSUPP");
	} else {
		expect_errno(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 16 * KiB), EOPNOTSUPP,
			     "fallocate COLLAPSE_RANGE -> EOPNOTSUPP");
		expect_errno(fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 16 * KiB), EOPNOTSUPP,
			     "fallocate INSERT_RANGE -> EOPNOTSUPP");
	}
	unsigned char back[100];
	expect_eq(pread(fd, back, 100, 0), 100, "read after fallocate calls");
	expect_true(memcmp(back, buf, 100) == 0, "data intact after fallocate calls");
	expect_errno(fallocate(fd, 0, 0, 0), EINVAL, "fallocate len 0 -> EINVAL");
	close(fd);
	unlink(wp("fa"));
	unlink(wp("fk"));
}

/* Shared writable mmap reaches the file; mmap reads see written data. */
static void files_mmap(void)
{
	const size_t len = 64 * KiB;
	unsigned char want[64 * 1024], got[64 * 1024];
	unsigned char *map;
	int fd;

	expect_ok(write_file(wp("mm"), 0644, (int64_t)len, 21), "write file for mmap");
	fd = open(wp("mm"), O_RDWR);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!expect_true(map != MAP_FAILED, "mmap MAP_SHARED read/write")) {
		close(fd);
		return;
	}
	pattern_fill(want, len, 0, 21);
	expect_true(memcmp(map, want, len) == 0, "mmap sees file content");
	memset(map + 4000, 0xAB, 10000);
	memset(want + 4000, 0xAB, 10000);
	expect_ok(msync(map, len, MS_SYNC), "msync");
	expect_ok(munmap(map, len), "munmap");
	expect_ok(read_all(fd, got, len, 0), "pread after mmap write");
	expect_true(memcmp(got, want, len) == 0, "pread sees the mmap write");
	close(fd);
	unlink(wp("mm"));
}

/* O_DIRECT I/O with aligned buffers, record locks, and writes far past the capacity. */
static void files_direct_locks_limits(void)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	unsigned char *abuf = NULL, *back = NULL;
	struct stat st;
	int fd;

	if (posix_memalign((void **)&abuf, 4096, 8192) != 0 ||
	    posix_memalign((void **)&back, 4096, 8192) != 0) {
		expect_ok(-1, "allocate aligned buffers");
		goto out;
	}
	pattern_fill(abuf, 8192, 0, 15);
	fd = open(wp("direct"), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	expect_ok(fd, "open O_DIRECT");
	expect_eq(pwrite(fd, abuf, 8192, 4096), 8192, "aligned O_DIRECT write of 8 KiB at 4 KiB");
	expect_eq(pread(fd, back, 8192, 4096), 8192, "aligned O_DIRECT read");
	expect_true(memcmp(abuf, back, 8192) == 0, "O_DIRECT data round-trips");
	if (fd >= 0)
		close(fd);
	fd = open(wp("direct"), O_RDONLY);
	expect_ok(fstat(fd, &st), "fstat O_DIRECT file through a buffered fd");
	expect_eq(st.st_size, 12288, "O_DIRECT file size is 12 KiB");
	expect_true(fd >= 0 && pread(fd, back, 8192, 4096) == 8192 && memcmp(abuf, back, 8192) == 0,
		    "buffered read sees the O_DIRECT write");
	if (fd >= 0)
		close(fd);

	fd = open(wp("direct"), O_RDWR);
	expect_ok(fcntl(fd, F_SETLK, &lk), "fcntl F_SETLK write lock");
	lk.l_type = F_UNLCK;
	expect_ok(fcntl(fd, F_SETLK, &lk), "fcntl unlock");
	expect_ok(flock(fd, LOCK_EX | LOCK_NB), "flock LOCK_EX");
	expect_ok(flock(fd, LOCK_UN), "flock LOCK_UN");
	if (posix_cfg.plain) {
		tap_skip("not claimfs", "pwrite at 1 TiB in a small claim -> ENOSPC or EFBIG");
		tap_skip("not claimfs", "pwrite at 2^62 -> ENOSPC or EFBIG (no overflow)");
		tap_skip("not claimfs", "ftruncate to 2^62 -> ENOSPC or EFBIG");
	} else {
		expect_errno2(pwrite(fd, "x", 1, 1024 * GiB), ENOSPC, EFBIG,
			      "pwrite at 1 TiB in a small claim -> ENOSPC or EFBIG");
		expect_errno2(pwrite(fd, "x", 1, INT64_C(1) << 62), ENOSPC, EFBIG,
			      "pwrite at 2^62 -> ENOSPC or EFBIG (no overflow)");
		expect_errno2(ftruncate(fd, INT64_C(1) << 62), ENOSPC, EFBIG,
			      "ftruncate to 2^62 -> ENOSPC or EFBIG");
	}
	expect_ok(fstat(fd, &st), "fstat after refused writes");
	expect_eq(st.st_size, 12288, "refused writes leave the size alone");
	if (fd >= 0)
		close(fd);
	unlink(wp("direct"));
out:
	free(abuf);
	free(back);
}

/* Regular files: see the file comment. */
void posix_files(void)
{
	tap_section("regular files");
	files_open_flags();
	files_times_and_blocks();
	files_odd_offsets();
	files_truncate();
	files_sparse();
	files_fallocate();
	files_mmap();
	files_direct_locks_limits();
	unlink(wp("f"));
	unlink(wp("t"));
}

/* 200 random pwrite/pread (up to 300 KiB each, within 8 MiB), seeded, against a reference. */
void posix_random_io(void)
{
	const size_t span = 8 * (size_t)MiB, maxlen = 300 * (size_t)KiB;
	unsigned char *ref = calloc(1, span), *buf = malloc(span);
	uint64_t rng = 0x5eed1234abcdull;
	int64_t size = 0;
	int writes = 0, reads = 0;
	bool ok = true;
	int fd = open(wp("random"), O_RDWR | O_CREAT | O_TRUNC, 0644);

	tap_section("random I/O");
	if (!ref || !buf || fd < 0) {
		expect_ok(-1, "set up random I/O");
		goto out;
	}
	for (int i = 0; i < 200 && ok; i++) {
		size_t len = 1 + (size_t)(rng_next(&rng) % maxlen);
		int64_t off = (int64_t)(rng_next(&rng) % (span - len));
		bool is_write = (rng_next(&rng) % 3) != 0 || size == 0;

		if (is_write) {
			pattern_fill(ref + off, len, off, (uint32_t)i);
			if (write_all(fd, ref + off, len, off) < 0) {
				tap_diag("op %d pwrite(%lld, %zu): %s", i, (long long)off, len,
					 strerror(errno));
				ok = false;
			}
			if (off + (int64_t)len > size)
				size = off + (int64_t)len;
			writes++;
		} else {
			ssize_t want = off >= size ? 0 : (off + (int64_t)len > size ? size - off : (ssize_t)len);
			ssize_t n = pread(fd, buf, len, off);

			if (n != want || memcmp(buf, ref + off, (size_t)want) != 0) {
				tap_diag("op %d pread(%lld, %zu) returned %zd (want %zd) or differs", i,
					 (long long)off, len, n, want);
				ok = false;
			}
			reads++;
		}
	}
	if (!tap_ok(ok, "200 random pwrite/pread match the in-memory reference"))
		tap_diag("%d writes, %d reads before the first mismatch", writes, reads);
	expect_ok(fsync(fd), "fsync random file");
	close(fd);
	fd = open(wp("random"), O_RDONLY);
	struct stat st;
	expect_ok(fstat(fd, &st), "fstat random file");
	expect_eq(st.st_size, size, "random file size is the highest written end");
	ok = read_all(fd, buf, (size_t)size, 0) == 0 && memcmp(buf, ref, (size_t)size) == 0;
	expect_true(ok, "random file reread after close equals the reference");
out:
	if (fd >= 0)
		close(fd);
	unlink(wp("random"));
	free(ref);
	free(buf);
}

/* Free bytes of the file system holding PATH, or -1. */
static int64_t free_bytes(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return -1;
	return (int64_t)sv.f_bfree * (int64_t)sv.f_frsize;
}

/* An unlinked file stays usable until its last close; its space comes back then. */
void posix_unlinked_open(void)
{
	unsigned char want[68 * 1024], got[68 * 1024];
	struct stat st;
	int fd, fd2, r;
	int64_t free_open, free_closed;
	bool listed = false;

	tap_section("unlinked but open");
	expect_ok(write_file(wp("orphan"), 0644, 64 * KiB, 31), "write 64 KiB file");
	fd = open(wp("orphan"), O_RDWR);
	fd2 = open(wp("orphan"), O_RDONLY);
	expect_true(fd >= 0 && fd2 >= 0, "open the file twice");
	expect_ok(unlink(wp("orphan")), "unlink the open file");
	r = lstat_e(wp("orphan"), &st);
	expect_eq(r, -ENOENT, "unlinked name is gone (lstat -> ENOENT)");
	expect_ok(fstat(fd, &st), "fstat unlinked file");
	expect_eq(st.st_nlink, 0, "fstat of unlinked open file has nlink 0");
	pattern_fill(want, 64 * KiB, 0, 31);
	expect_ok(read_all(fd, got, 64 * KiB, 0), "read unlinked file");
	expect_true(memcmp(got, want, 64 * KiB) == 0, "unlinked file content intact");
	pattern_fill(want + 64 * KiB, 4 * KiB, 64 * KiB, 32);
	expect_ok(write_all(fd, want + 64 * KiB, 4 * KiB, 64 * KiB), "write to unlinked file");
	expect_ok(fstat(fd, &st), "fstat after writing unlinked file");
	expect_eq(st.st_size, 68 * KiB, "unlinked file grew to 68 KiB");
	expect_ok(read_all(fd2, got, 68 * KiB, 0), "read unlinked file through second fd");
	expect_true(memcmp(got, want, 68 * KiB) == 0, "second fd sees all data");
	expect_ok(fchmod(fd, 0600), "fchmod unlinked file");
	expect_ok(fsync(fd), "fsync unlinked file");
	DIR *d = opendir(posix_workdir());
	for (struct dirent *e; d && (e = readdir(d));)
		listed |= strcmp(e->d_name, "orphan") == 0;
	if (d)
		closedir(d);
	expect_true(!listed, "unlinked file not listed by readdir");
	expect_ok(close(fd), "close first fd");
	expect_ok(read_all(fd2, got, 68 * KiB, 0), "read through the last fd after first close");
	expect_true(memcmp(got, want, 68 * KiB) == 0, "content intact after first close");
	expect_ok(close(fd2), "close last fd");

	/* Space is released at the last close. */
	fd = open(wp("orphan2"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect_ok(fd, "create 2 MiB file for space release");
	expect_ok(write_file(wp("orphan2"), 0644, 2 * MiB, 33), "write 2 MiB");
	expect_ok(fsync(fd), "fsync 2 MiB file");
	expect_ok(unlink(wp("orphan2")), "unlink 2 MiB open file");
	free_open = free_bytes(posix_workdir());
	expect_true(free_open >= 0, "statfs while the orphan is open");
	expect_ok(close(fd), "close the 2 MiB orphan");
	free_closed = -1;
	for (int i = 0; i < 50; i++) {
		free_closed = free_bytes(posix_workdir());
		if (free_closed >= free_open + 2 * MiB - 64 * KiB)
			break;
		sleep_ms(100);
	}
	if (!tap_ok(free_closed >= free_open + 2 * MiB - 64 * KiB,
		    "space of an unlinked file comes back at its last close"))
		tap_diag("free while open %lld, after close %lld", (long long)free_open,
			 (long long)free_closed);
}
