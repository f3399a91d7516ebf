/*
 * posix_falloc.c — fallocate(2) punching holes and zeroing ranges, checked
 * step by step against a tmpfs of the running kernel.
 *
 * One file of FALLOC_FILE bytes of a pattern is made in the claim and in a
 * tmpfs this program mounts; each step of falloc_steps runs on both, and
 * the result (success or errno), the size, every byte and the direction in
 * which st_blocks moved (down, same, up) must agree. The steps' ranges are
 * chosen so that whole 16 KiB claimfs blocks and whole 4 KiB tmpfs pages
 * are freed or kept alike. tmpfs has no FALLOC_FL_ZERO_RANGE: its reference
 * is what fallocate(2) defines the mode as, a punch and then an allocation
 * of the range (keeping the size if KEEP_SIZE is given).
 * Then a big punch must give the space back to the claim (statvfs, i.e. df).
 *
 * Invariants: the tmpfs is unmounted and both files removed before
 * posix_falloc returns.
 */
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define FALLOC_FILE (256 * KiB)

/* 18 steps: the ranges and modes a database or VM image uses, then refusals. */
static const struct {
	const char *what;
	int mode;
	off_t offset;
	off_t len;
} falloc_steps[] = {
	{ "punch four whole blocks", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * KiB, 64 * KiB },
	{ "punch from an unaligned offset across blocks", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5000,
	  120000 },
	{ "punch 100 bytes inside one page", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 140000, 100 },
	{ "punch the file's last block and past its end", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	  240 * KiB, 64 * KiB },
	{ "punch wholly past the end", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 512 * KiB, 64 * KiB },
	{ "punch a hole already punched", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 64 * KiB, 32 * KiB },
	{ "zero a range inside the file, KEEP_SIZE", FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 3000, 50000 },
	{ "zero a range inside the file", FALLOC_FL_ZERO_RANGE, 160 * KiB, 16 * KiB },
	{ "zero a range past the end, KEEP_SIZE", FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 250 * KiB,
	  20 * KiB },
	{ "zero a range growing the file", FALLOC_FL_ZERO_RANGE, 250 * KiB, 30 * KiB },
	{ "punch from inside the file to the largest offset", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	  200 * KiB, LLONG_MAX - 200 * KiB },
	{ "punch without KEEP_SIZE", FALLOC_FL_PUNCH_HOLE, 0, 4096 },
	{ "punch and zero at once", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 4096 },
	{ "collapse a range", FALLOC_FL_COLLAPSE_RANGE, 0, 16 * KiB },
	{ "insert a range", FALLOC_FL_INSERT_RANGE, 0, 16 * KiB },
	{ "punch at a negative offset", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, -4096, 4096 },
	{ "punch zero bytes", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 0 },
	{ "zero a range whose end overflows", FALLOC_FL_ZERO_RANGE, LLONG_MAX - 4096, 8192 },
};

/* What one step left behind in one file. */
struct falloc_state {
	int result; /* 0 or -errno */
	struct stat st;
	unsigned char *bytes; /* st.st_size bytes, read back */
};

/* fallocate on the reference: tmpfs lacks ZERO_RANGE, so do what
 * fallocate(2) says it means there (a punch, then an allocation). */
static int falloc_reference(int fd, int mode, off_t offset, off_t len)
{
	if (fallocate(fd, mode, offset, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP || (mode & ~FALLOC_FL_KEEP_SIZE) != FALLOC_FL_ZERO_RANGE)
		return -errno;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len) < 0 ||
	    fallocate(fd, mode & FALLOC_FL_KEEP_SIZE, offset, len) < 0)
		return -errno;
	return 0;
}

/* Run step i on fd (the reference if ref) and record what it left. */
static void falloc_run(int fd, bool ref, size_t i, struct falloc_state *ret)
{
	free(ret->bytes);
	memset(ret, 0, sizeof(*ret));
	if (ref)
		ret->result = falloc_reference(fd, falloc_steps[i].mode, falloc_steps[i].offset, falloc_steps[i].len);
	else if (fallocate(fd, falloc_steps[i].mode, falloc_steps[i].offset, falloc_steps[i].len) < 0)
		ret->result = -errno;
	if (fstat(fd, &ret->st) < 0)
		return;
	ret->bytes = calloc(1, (size_t)ret->st.st_size + 1);
	if (ret->bytes && read_all(fd, ret->bytes, (size_t)ret->st.st_size, 0) < 0)
		memset(ret->bytes, 0xee, (size_t)ret->st.st_size);
}

static int falloc_direction(blkcnt_t before, blkcnt_t after)
{
	return (after > before) - (after < before);
}

/* Compare one step's outcome on both; one TAP line. */
static void falloc_compare(size_t i, const struct falloc_state *want, const struct falloc_state *got,
			   blkcnt_t want_before, blkcnt_t got_before)
{
	bool same_bytes = want->st.st_size == got->st.st_size && want->bytes && got->bytes &&
			  memcmp(want->bytes, got->bytes, (size_t)want->st.st_size) == 0;
	int want_dir = falloc_direction(want_before, want->st.st_blocks);
	int got_dir = falloc_direction(got_before, got->st.st_blocks);

	if (tap_ok(want->result == got->result && same_bytes && want_dir == got_dir, "fallocate: %s, as on tmpfs",
		   falloc_steps[i].what))
		return;
	tap_diag("tmpfs: %s size %lld st_blocks %lld -> %lld; claimfs: %s size %lld st_blocks %lld -> %lld%s",
		 errno_name(-want->result), (long long)want->st.st_size, (long long)want_before,
		 (long long)want->st.st_blocks, errno_name(-got->result), (long long)got->st.st_size,
		 (long long)got_before, (long long)got->st.st_blocks, same_bytes ? "" : "; the bytes differ");
}

/* A big punch gives the space back: st_blocks and the claim's free space (df). */
static void falloc_frees_space(void)
{
	const int64_t len = 4 * MiB;
	struct statvfs before, after;
	struct stat st;
	int fd;

	if (!expect_ok(write_file(wp("punch-big"), 0644, len, 31), "write a 4 MiB file to punch"))
		return;
	fd = open(wp("punch-big"), O_RDWR);
	expect_ok(fd, "open it");
	expect_ok(fsync(fd), "fsync it");
	expect_ok(statvfs(wp("punch-big"), &before), "statvfs before the punch");
	expect_ok(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, len), "punch the whole file");
	expect_ok(fstat(fd, &st), "fstat after the punch");
	expect_eq(st.st_size, len, "the punch keeps the size");
	if (!tap_ok(st.st_blocks == 0, "the punched file holds no blocks"))
		tap_diag("st_blocks %lld", (long long)st.st_blocks);
	expect_ok(statvfs(wp("punch-big"), &after), "statvfs after the punch");
	if (!tap_ok((int64_t)(after.f_bfree - before.f_bfree) * (int64_t)after.f_frsize >= len - 64 * KiB,
		    "the claim's free space (df) grows by the punched 4 MiB"))
		tap_diag("f_bfree %llu -> %llu of %lu bytes", (unsigned long long)before.f_bfree,
			 (unsigned long long)after.f_bfree, after.f_frsize);
	unsigned char buf[4096];
	expect_ok(read_all(fd, buf, sizeof(buf), len - 4096), "read the punched range");
	expect_true(all_zero(buf, sizeof(buf)), "the punched range reads zeros");
	close(fd);
	unlink(wp("punch-big"));
}

void posix_falloc(void)
{
	struct falloc_state want = { 0 }, got = { 0 };
	char ref[64];
	int rfd = -1, cfd = -1;

	tap_section("fallocate: punching holes and zeroing ranges, against tmpfs");
	if (!expect_ok(posix_tmpfs_mount(ref, sizeof(ref)), "mount the reference tmpfs"))
		return;
	if (!expect_ok(write_file(pj(ref, "f"), 0644, FALLOC_FILE, 29), "file on tmpfs") ||
	    !expect_ok(write_file(wp("falloc"), 0644, FALLOC_FILE, 29), "file in the claim"))
		goto out;
	rfd = open(pj(ref, "f"), O_RDWR);
	cfd = open(wp("falloc"), O_RDWR);
	if (!expect_true(rfd >= 0 && cfd >= 0, "open both"))
		goto out;
	if (fstat(rfd, &want.st) < 0 || fstat(cfd, &got.st) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(falloc_steps) / sizeof(falloc_steps[0]); i++) {
		blkcnt_t want_before = want.st.st_blocks, got_before = got.st.st_blocks;

		falloc_run(rfd, true, i, &want);
		falloc_run(cfd, false, i, &got);
		falloc_compare(i, &want, &got, want_before, got_before);
	}
	/* What a new open reads, after the handle that changed it is closed. */
	close(cfd);
	cfd = -1;
	unsigned char *back = calloc(1, (size_t)want.st.st_size + 1);
	int fd = open(wp("falloc"), O_RDONLY);
	expect_true(back && want.bytes && fd >= 0 && read_all(fd, back, (size_t)want.st.st_size, 0) == 0 &&
			    memcmp(back, want.bytes, (size_t)want.st.st_size) == 0,
		    "the claim's file read after reopening matches tmpfs");
	if (fd >= 0)
		close(fd);
	free(back);
	falloc_frees_space();
out:
	free(want.bytes);
	free(got.bytes);
	if (rfd >= 0)
		close(rfd);
	if (cfd >= 0)
		close(cfd);
	unlink(pj(ref, "f"));
	unlink(wp("falloc"));
	posix_tmpfs_unmount(ref);
}
