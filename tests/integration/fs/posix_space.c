/*
 * posix_space.c — space accounting: statfs on a claim (capacity, free
 * space, inodes), the hard capacity limit (ENOSPC on write, fallocate and
 * truncate, existing data intact, space back after delete), and files of
 * several GiB (opt-in with --big).
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* statvfs of the work directory; zeroed on failure. */
static int statfs_work(struct statvfs *ret)
{
	if (statvfs(posix_workdir(), ret) < 0) {
		int err = errno;

		memset(ret, 0, sizeof(*ret));
		return -err;
	}
	return 0;
}

/* statvfs once files deleted by earlier checks are gone: the kernel tells
 * the daemon that an unlinked inode is unused (FORGET) asynchronously, so
 * its blocks and inode come back a moment after unlink(2) returns. Waits
 * until two readings 200 ms apart agree (at most 5 s). */
static int statfs_settled(struct statvfs *ret)
{
	struct statvfs again;
	int r = statfs_work(ret);

	for (int i = 0; r == 0 && i < 25; i++) {
		sleep_ms(200);
		r = statfs_work(&again);
		if (r == 0 && again.f_bfree == ret->f_bfree && again.f_ffree == ret->f_ffree)
			break;
		*ret = again;
	}
	return r;
}

/* Free bytes as an unprivileged user sees them. */
static int64_t avail_bytes(const struct statvfs *sv)
{
	return (int64_t)sv->f_bavail * (int64_t)sv->f_frsize;
}

/* Free bytes of SV (f_bfree). */
static int64_t free_bytes(const struct statvfs *sv)
{
	return (int64_t)sv->f_bfree * (int64_t)sv->f_frsize;
}

/* Check that free space returns to within 64 KiB of BEFORE's, waiting up to
 * MS milliseconds (deleting a file frees its blocks a moment after unlink). */
static bool expect_free_back(const struct statvfs *before, long ms, const char *desc)
{
	struct statvfs now = { 0 };

	for (long waited = 0; waited < ms; waited += 100) {
		if (statfs_work(&now) == 0 && free_bytes(&now) + 64 * KiB >= free_bytes(before))
			break;
		sleep_ms(100);
	}
	if (tap_ok(free_bytes(&now) + 64 * KiB >= free_bytes(before), "%s", desc))
		return true;
	tap_diag("free before %lld after delete %lld bytes", (long long)free_bytes(before),
		 (long long)free_bytes(&now));
	return false;
}

/* Check that f_blocks * f_frsize is the capacity the run was given. */
static void expect_capacity(const struct statvfs *sv)
{
	if (posix_cfg.capacity <= 0) {
		tap_skip("capacity not given", "f_blocks * f_frsize equals the claim capacity");
		return;
	}
	if (!tap_ok((int64_t)sv->f_blocks * (int64_t)sv->f_frsize == posix_cfg.capacity,
		    "f_blocks * f_frsize equals the claim capacity"))
		tap_diag("expected %lld got %llu * %lu", (long long)posix_cfg.capacity,
			 (unsigned long long)sv->f_blocks, sv->f_frsize);
}

/* statfs reports the claim's capacity and use. */
void posix_statfs(void)
{
	struct statvfs sv, after;
	int64_t used;

	tap_section("statfs");
	expect_ok(statfs_settled(&sv), "statvfs on the claim");
	expect_capacity(&sv);
	expect_true(sv.f_bsize > 0 && sv.f_frsize > 0, "block sizes are positive");
	expect_true(sv.f_bfree <= sv.f_blocks && sv.f_bavail <= sv.f_bfree, "bavail <= bfree <= blocks");
	expect_true(sv.f_files > 0 && sv.f_ffree <= sv.f_files, "0 < ffree <= files");
	expect_eq((long long)sv.f_namemax, 255, "f_namemax is 255");

	expect_ok(write_file(wp("df"), 0644, 256 * KiB, 70), "write 256 KiB");
	int fd = open(wp("df"), O_RDONLY);
	expect_ok(fsync(fd), "fsync 256 KiB file");
	close(fd);
	expect_ok(statfs_work(&after), "statvfs after writing");
	used = ((int64_t)sv.f_bfree - (int64_t)after.f_bfree) * (int64_t)sv.f_frsize;
	if (!tap_ok(used >= 256 * KiB, "free space drops by at least 256 KiB after writing 256 KiB"))
		tap_diag("expected >= 262144 got %lld", (long long)used);
	if (!tap_ok(used <= 256 * KiB + 2 * MiB, "free space drops by at most 256 KiB plus slack"))
		tap_diag("expected <= %lld got %lld", (long long)(256 * KiB + 2 * MiB), (long long)used);

	bool created = true;
	for (int i = 0; i < 10 && created; i++)
		created = write_file(wp("ino%d", i), 0644, 0, 0) == 0;
	expect_true(created, "create 10 empty files");
	expect_ok(statfs_work(&after), "statvfs after creating files");
	if (!tap_ok(sv.f_ffree >= after.f_ffree + 10, "f_ffree drops by at least 10 after 10 creates"))
		tap_diag("before %llu after %llu", (unsigned long long)sv.f_ffree,
			 (unsigned long long)after.f_ffree);
	for (int i = 0; i < 10; i++)
		unlink(wp("ino%d", i));
	expect_ok(unlink(wp("df")), "delete the 256 KiB file");
	expect_free_back(&sv, 5000, "free space comes back after deleting");
}

/* Write pattern SEED to FD in 64 KiB chunks up to LIMIT bytes; stop at the first error.
 * Returns 0 or -errno; *ret_written gets the bytes the kernel accepted. */
static int fill_until_error(int fd, int64_t limit, uint32_t seed, int64_t *ret_written)
{
	unsigned char buf[64 * 1024];
	int64_t off = 0;
	int r = 0;

	while (off < limit) {
		ssize_t n;

		pattern_fill(buf, sizeof(buf), off, seed);
		n = pwrite(fd, buf, sizeof(buf), off);
		if (n < 0) {
			r = -errno;
			break;
		}
		off += n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	*ret_written = off;
	return r;
}

/* Check FD's first LEN bytes are pattern SEED. */
static bool prefix_intact(int fd, int64_t len, uint32_t seed)
{
	unsigned char got[64 * 1024], want[64 * 1024];

	for (int64_t off = 0; off < len; off += (int64_t)sizeof(got)) {
		size_t n = (size_t)(len - off < (int64_t)sizeof(got) ? len - off : (int64_t)sizeof(got));

		if (read_all(fd, got, n, off) < 0)
			return false;
		pattern_fill(want, n, off, seed);
		if (memcmp(got, want, n) != 0)
			return false;
	}
	return true;
}

/* Capacity is a hard limit: ENOSPC on write, fallocate, truncate; data intact. */
void posix_enospc(void)
{
	const int64_t cap = posix_cfg.capacity;
	struct statvfs sv0, sv;
	struct stat st;
	int64_t written = 0;
	int fd, r;

	tap_section("capacity limit (ENOSPC)");
	if (cap <= 0 || cap > 64 * MiB) {
		expect_ok(-1, "--enospc needs the claim capacity (<= 64 MiB) as third argument");
		return;
	}
	expect_ok(statfs_work(&sv0), "statvfs on the small claim");
	if (!tap_ok((int64_t)sv0.f_blocks * (int64_t)sv0.f_frsize == cap,
		    "f_blocks * f_frsize equals the claim capacity"))
		tap_diag("expected %lld got %llu * %lu", (long long)cap,
			 (unsigned long long)sv0.f_blocks, sv0.f_frsize);
	expect_ok(write_file(wp("keep"), 0644, 100 * KiB, 80), "write 100 KiB that must survive");
	fd = open(wp("keep"), O_RDONLY);
	expect_ok(fsync(fd), "fsync the 100 KiB file");
	close(fd);

	fd = open(wp("big"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	r = fill_until_error(fd, 2 * cap, 81, &written);
	if (!tap_ok(r == -ENOSPC, "writing twice the capacity fails with ENOSPC"))
		tap_diag("expected ENOSPC got %s after %lld bytes", errno_name(-r), (long long)written);
	tap_diag("accepted %lld bytes of %lld capacity with 100 KiB in use", (long long)written,
		 (long long)cap);
	if (!tap_ok(written >= cap - 100 * KiB - 256 * KiB, "nearly all the free space was usable"))
		tap_diag("expected >= %lld got %lld", (long long)(cap - 356 * KiB), (long long)written);
	if (!tap_ok(written <= cap - 100 * KiB, "no more than the free space was accepted"))
		tap_diag("capacity %lld, accepted %lld after 100 KiB in use", (long long)cap,
			 (long long)written);
	expect_ok(fstat(fd, &st), "fstat the file that hit ENOSPC");
	expect_eq(st.st_size, written, "its size is what was accepted");
	expect_true(prefix_intact(fd, written, 81), "the accepted part reads back intact");
	expect_ok(verify_file(wp("keep"), 100 * KiB, 80), "existing file intact after ENOSPC");
	expect_ok(statfs_work(&sv), "statvfs when full");
	if (!tap_ok(avail_bytes(&sv) < 64 * KiB, "claim reports (almost) no free space when full"))
		tap_diag("f_bavail*f_frsize = %lld", (long long)avail_bytes(&sv));
	expect_ok(close(fd), "close the full file");

	fd = open(wp("fa"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect_ok(fd, "create a file in the full claim");
	expect_errno(fallocate(fd, 0, 0, 2 * cap), ENOSPC, "fallocate beyond the capacity -> ENOSPC");
	expect_ok(fstat(fd, &st), "fstat after failed fallocate");
	expect_eq(st.st_size, 0, "failed fallocate leaves the size at 0");
	if (posix_cfg.plain) {
		tap_skip("not claimfs", "ftruncate beyond the capacity -> ENOSPC");
		tap_skip("not claimfs", "failed ftruncate leaves the size at 0");
	} else {
		expect_errno(ftruncate(fd, 2 * cap), ENOSPC, "ftruncate beyond the capacity -> ENOSPC");
		expect_ok(fstat(fd, &st), "fstat after failed ftruncate");
		expect_eq(st.st_size, 0, "failed ftruncate leaves the size at 0");
	}
	close(fd);
	unlink(wp("fa"));

	expect_ok(unlink(wp("big")), "delete the full file");
	for (int i = 0; i < 50; i++) {
		if (statfs_work(&sv) == 0 && avail_bytes(&sv) >= cap / 2)
			break;
		sleep_ms(100);
	}
	if (!tap_ok(avail_bytes(&sv) >= cap - 100 * KiB - 128 * KiB, "space is back after deleting"))
		tap_diag("available %lld of %lld", (long long)avail_bytes(&sv), (long long)cap);
	expect_ok(write_file(wp("again"), 0644, cap / 2, 82), "writing half the capacity works again");
	expect_ok(verify_file(wp("again"), cap / 2, 82), "and reads back");
	expect_ok(verify_file(wp("keep"), 100 * KiB, 80), "existing file still intact");
	unlink(wp("again"));

	/* Inode limit: creating beyond f_ffree fails with ENOSPC. */
	expect_ok(statfs_work(&sv), "statvfs before the inode test");
	if (sv.f_ffree == 0 || sv.f_ffree > 20000) {
		tap_skip("inode limit too large to exhaust quickly", "creating beyond f_ffree -> ENOSPC");
	} else {
		unsigned long made = 0;
		r = 0;
		expect_ok(mkdir(wp("inodes"), 0755), "mkdir for the inode test");
		while (made < sv.f_ffree + 10) {
			int f = open(wp("inodes/%lu", made), O_CREAT | O_WRONLY | O_EXCL, 0644);
			if (f < 0) {
				r = -errno;
				break;
			}
			close(f);
			made++;
		}
		if (!tap_ok(r == -ENOSPC && made + 1 >= sv.f_ffree && made <= sv.f_ffree,
			    "creating files stops with ENOSPC at the inode limit"))
			tap_diag("f_ffree was %llu; created %lu then got %s",
				 (unsigned long long)sv.f_ffree, made, errno_name(-r));
		expect_ok(posix_remove_tree(wp("inodes")), "remove the inode test files");
	}
	unlink(wp("keep"));
}

/* FNV-1a 64 over LEN bytes, continuing from HASH. */
static uint64_t fnv1a(uint64_t hash, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ull;
	}
	return hash;
}

/* Drop the page cache of FD so reads go to the filesystem. */
static void drop_cache(int fd)
{
	int dc;

	if (fsync(fd) < 0)
		tap_diag("fsync before dropping caches: %s", strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (dc >= 0) {
		if (write(dc, "1", 1) != 1)
			tap_diag("drop_caches: %s", strerror(errno));
		close(dc);
	}
}

/* Check that free space dropped from BEFORE to NOW by LOW..HIGH bytes. */
static void expect_used(const struct statvfs *before, const struct statvfs *now, int64_t low,
			int64_t high, const char *desc)
{
	int64_t used = free_bytes(before) - free_bytes(now);

	if (!tap_ok(used >= low && used <= high, "%s", desc))
		tap_diag("free space dropped by %lld bytes, expected %lld..%lld", (long long)used,
			 (long long)low, (long long)high);
}

/* Files past 4 GiB in a claim of >= 5 GiB: a 4.5 GiB sparse file written at
 * 10 offsets (across 2^31 and 2^32) whose holes read zeros, and a streamed
 * file of posix_cfg.big_stream bytes (1.5 GiB unless --big=BYTES) read back
 * by checksum; statfs counts only what was written, and gives it back. The
 * sparse file costs 10 MiB whatever its size, so the reduced run (a smaller
 * stream) keeps every offset of the full one. */
void posix_big(void)
{
	const size_t chunk = (size_t)MiB;
	const int64_t sparse_size = 4 * GiB + GiB / 2, stream_size = posix_cfg.big_stream;
	static const int64_t spots[] = {
		0, 256 * MiB, 1 * GiB - 512 * KiB, 2 * GiB - 512 * KiB - 1, 2 * GiB + 4095,
		5 * GiB / 2, 3 * GiB - MiB, 4 * GiB - 512 * KiB - 1, 4 * GiB + 4095, 4 * GiB + GiB / 2 - MiB,
	};
	const size_t nspots = sizeof(spots) / sizeof(spots[0]);
	unsigned char *buf = malloc(chunk), *want = malloc(chunk);
	uint64_t wrote_hash = 0xcbf29ce484222325ull, read_hash = 0xcbf29ce484222325ull;
	struct statvfs empty, sparse_done, now;
	struct stat st;
	bool ok = true;
	int fd;

	tap_section("files past 4 GiB");
	if (!buf || !want) {
		expect_ok(-1, "allocate buffers");
		goto out;
	}
	expect_ok(statfs_settled(&empty), "statvfs before the big files");
	expect_capacity(&empty);
	fd = open(wp("sparse"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect_ok(fd, "create the 4.5 GiB sparse file");
	for (size_t i = 0; i < nspots && ok; i++) {
		pattern_fill(want, chunk, spots[i], 90);
		ok = write_all(fd, want, chunk, spots[i]) == 0;
		if (!ok)
			tap_diag("pwrite 1 MiB at %lld: %s", (long long)spots[i], strerror(errno));
	}
	expect_true(ok, "write 1 MiB at 10 offsets up to 4.5 GiB (across 2^31 and 2^32)");
	expect_ok(fstat(fd, &st), "fstat the 4.5 GiB file");
	expect_eq(st.st_size, sparse_size, "size is 4.5 GiB");
	if (!tap_ok(st.st_blocks * 512 < 64 * MiB, "4.5 GiB sparse file allocates only what was written"))
		tap_diag("st_blocks*512 = %lld", (long long)st.st_blocks * 512);
	drop_cache(fd);
	expect_ok(statfs_work(&sparse_done), "statvfs after the sparse file");
	/* Two pairs of spots overlap by about half a MiB each. */
	expect_used(&empty, &sparse_done, (int64_t)(nspots - 2) * MiB, 64 * MiB,
		    "statfs: the sparse file uses what was written, not its size");
	ok = true;
	for (size_t i = 0; i < nspots && ok; i++) {
		pattern_fill(want, chunk, spots[i], 90);
		ok = read_all(fd, buf, chunk, spots[i]) == 0 && memcmp(buf, want, chunk) == 0;
		if (!ok)
			tap_diag("1 MiB at %lld differs after reread", (long long)spots[i]);
	}
	expect_true(ok, "all 10 chunks read back intact");
	ok = true;
	for (int64_t hole = 64 * MiB; hole < sparse_size && ok; hole += 384 * MiB) {
		ok = read_all(fd, buf, chunk, hole) == 0 && all_zero(buf, chunk);
		if (!ok)
			tap_diag("hole at %lld does not read zeros", (long long)hole);
	}
	expect_true(ok, "holes of the 4.5 GiB file read zeros (past 4 GiB too)");
	close(fd);

	fd = open(wp("stream"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect_ok(fd, "create the streamed file");
	ok = true;
	for (int64_t off = 0; off < stream_size && ok; off += (int64_t)chunk) {
		pattern_fill(want, chunk, off, 91);
		wrote_hash = fnv1a(wrote_hash, want, chunk);
		ok = write(fd, want, chunk) == (ssize_t)chunk;
		if (!ok)
			tap_diag("write at %lld: %s", (long long)off, strerror(errno));
	}
	if (!tap_ok(ok, "stream %lld MiB with 1 MiB writes", (long long)(stream_size / MiB)))
		goto close_stream;
	expect_ok(fsync(fd), "fsync the streamed file");
	expect_ok(fstat(fd, &st), "fstat the streamed file");
	expect_eq(st.st_size, stream_size, "size is what was streamed");
	expect_true(st.st_blocks * 512 >= stream_size, "st_blocks covers the streamed size");
	expect_ok(statfs_work(&now), "statvfs after streaming");
	expect_used(&sparse_done, &now, stream_size, stream_size + 16 * MiB,
		    "statfs: free space drops by the streamed size");
	drop_cache(fd);
	ok = lseek(fd, 0, SEEK_SET) == 0;
	for (int64_t off = 0; off < stream_size && ok; off += (int64_t)chunk) {
		ok = read_all(fd, buf, chunk, off) == 0;
		read_hash = fnv1a(read_hash, buf, chunk);
	}
	expect_true(ok, "read the streamed file back");
	if (!tap_ok(read_hash == wrote_hash, "the streamed file's checksum matches"))
		tap_diag("wrote %016llx read %016llx", (unsigned long long)wrote_hash,
			 (unsigned long long)read_hash);
close_stream:
	close(fd);
	expect_ok(unlink(wp("stream")), "delete the streamed file");
	expect_ok(unlink(wp("sparse")), "delete the 4.5 GiB file");
	expect_free_back(&empty, 60000, "statfs: the space of both files comes back");
out:
	free(buf);
	free(want);
}
