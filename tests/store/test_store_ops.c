/*
 * test_store_ops.c — the store's inode table, data, volumes, clone, checker
 * and fault injection, driven through store.h on real SQLite files (no FUSE).
 */
#include "store.h"
#include "store_fixture.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

static char test_dir[] = "/tmp/claimfs-store-test-XXXXXX";
static char test_path[512];
static struct store *st;
static const struct store_caller root_caller = { 0, 0 };

static void setup(void)
{
	store_fixture_open(test_dir, test_path, sizeof(test_path), &st);
}

static void teardown(void)
{
	store_fixture_close(test_dir, "/tmp/claimfs-store-test-XXXXXX", &st);
}

/* A bound volume "vol" of capacity bytes as default/claim; returns its root inode. */
static uint64_t make_volume(const char *name, const char *claim, uint64_t capacity)
{
	struct store_volume v;

	ck_assert_int_eq(store_volume_create(st, name, capacity, 0777, &v), 0);
	ck_assert_int_eq(store_volume_bind(st, name, "default", claim), 0);
	return v.root_ino;
}

static uint64_t make_file(uint64_t dir, const char *name)
{
	struct store_attr a;

	ck_assert_int_eq(store_mknod(st, dir, name, S_IFREG | 0644, 0, &root_caller, &a), 0);
	return a.ino;
}

static void fill_pattern(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 31 + seed) & 0xff);
}

START_TEST(test_write_read_across_blocks)
{
	uint64_t root = make_volume("v1", "c1", 64 << 20);
	uint64_t ino = make_file(root, "f");
	size_t len = 300000;
	char *buf = malloc(len), *back = malloc(len);
	struct store_attr a;

	fill_pattern(buf, len, 7);
	ck_assert_int_eq(store_write(st, ino, 1000, buf, len), (ssize_t)len);
	ck_assert_int_eq(store_read(st, ino, 1000, len, back), (ssize_t)len);
	ck_assert_mem_eq(buf, back, len);
	/* the hole before offset 1000 reads as zeros */
	ck_assert_int_eq(store_read(st, ino, 0, 1000, back), 1000);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(back[i], 0);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.size, 301000);
	ck_assert_uint_ge(a.blocks * 512, 301000);
	/* reads stop at the end of the file */
	ck_assert_int_eq(store_read(st, ino, 300500, 4096, back), 500);
	free(buf);
	free(back);
}
END_TEST

/* in_group answers for store_kill_suidgid: whether the test's caller is in the group. */
static bool in_group_yes(void *ud, uint32_t gid)
{
	(void)ud;
	(void)gid;
	return true;
}

static bool in_group_no(void *ud, uint32_t gid)
{
	(void)ud;
	(void)gid;
	return false;
}

/* Set mode, write one byte with kill, return the resulting mode bits. */
static unsigned mode_after_write(uint64_t ino, unsigned mode, const struct store_kill_suidgid *kill)
{
	struct store_setattr_request sr = { .flags = STORE_SET_MODE, .mode = mode };
	struct store_attr a;

	ck_assert_int_eq(store_setattr(st, ino, &sr, &a), 0);
	ck_assert_int_eq(store_write_kill(st, ino, 0, "w", 1, kill), 1);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	return a.mode & 07777;
}

START_TEST(test_writes_drop_privileges)
{
	uint64_t root = make_volume("vk", "k", 1 << 20);
	uint64_t ino = make_file(root, "f");
	struct store_kill_suidgid outsider = { in_group_no, NULL }, member = { in_group_yes, NULL };
	struct store_kill_suidgid chown_like = { NULL, NULL };
	struct store_setattr_request sr = { 0 };
	struct store_attr a;
	char buf[32];

	/* Without CAP_FSETID: S_ISUID goes; S_ISGID goes when group-executable
	 * or when the caller is outside the file's group. */
	ck_assert_uint_eq(mode_after_write(ino, 06777, &outsider), 0777);
	ck_assert_uint_eq(mode_after_write(ino, 06777, &member), 0777);
	ck_assert_uint_eq(mode_after_write(ino, 06767, &member), 02767);
	ck_assert_uint_eq(mode_after_write(ino, 06767, &outsider), 0767);
	ck_assert_uint_eq(mode_after_write(ino, 06767, &chown_like), 02767);
	/* A writer with CAP_FSETID keeps them. */
	ck_assert_uint_eq(mode_after_write(ino, 06777, NULL), 06777);

	/* A truncate by such a caller, through setattr. */
	sr.flags = STORE_SET_SIZE;
	sr.size = 0;
	sr.kill = &outsider;
	ck_assert_int_eq(store_setattr(st, ino, &sr, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 0777);

	/* security.capability goes with any write, truncate or chown. */
	static const char cap[20] = { 0, 0, 0, 2 };
	for (int how = 0; how < 3; how++) {
		ck_assert_int_eq(store_setxattr(st, ino, "security.capability", cap, sizeof(cap), 0), 0);
		ck_assert_int_eq(store_getxattr(st, ino, "security.capability", buf, sizeof(buf)),
				 (int)sizeof(cap));
		struct store_setattr_request chg = { 0 };
		if (how == 0) {
			ck_assert_int_eq(store_write(st, ino, 0, "c", 1), 1);
		} else {
			chg.flags = how == 1 ? STORE_SET_SIZE : STORE_SET_UID;
			ck_assert_int_eq(store_setattr(st, ino, &chg, &a), 0);
		}
		ck_assert_int_eq(store_getxattr(st, ino, "security.capability", buf, sizeof(buf)), -ENODATA);
	}
	/* Other xattrs stay. */
	ck_assert_int_eq(store_setxattr(st, ino, "user.keep", "v", 1, 0), 0);
	ck_assert_int_eq(store_write(st, ino, 0, "d", 1), 1);
	ck_assert_int_eq(store_getxattr(st, ino, "user.keep", buf, sizeof(buf)), 1);
}
END_TEST

/* in_group answer for a caller in group 100 only. */
static bool in_group_100(void *ud, uint32_t gid)
{
	(void)ud;
	return gid == 100;
}

/* chown (kill asked, as the kernel does for every non-directory) from
 * `mode` and group 100 to group 200; the resulting mode bits. */
static unsigned mode_after_chown(uint64_t ino, unsigned mode, const struct store_kill_suidgid *kill)
{
	struct store_setattr_request sr = { .flags = STORE_SET_MODE | STORE_SET_GID, .mode = mode, .gid = 100 };
	struct store_attr a;

	ck_assert_int_eq(store_setattr(st, ino, &sr, &a), 0);
	struct store_setattr_request chown = { .flags = STORE_SET_GID, .gid = 200, .kill = kill };
	ck_assert_int_eq(store_setattr(st, ino, &chown, &a), 0);
	ck_assert_uint_eq(a.gid, 200);
	return a.mode & 07777;
}

START_TEST(test_chown_drops_privileges_of_every_type)
{
	uint64_t root = make_volume("vc", "c", 1 << 20);
	struct store_kill_suidgid outsider = { in_group_no, NULL }, old_member = { in_group_100, NULL };
	static const uint32_t types[] = { S_IFREG, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK };
	struct store_attr a;
	char name[16];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(name, sizeof(name), "n%zu", i);
		ck_assert_int_eq(store_mknod(st, root, name, types[i] | 0644, 0, &root_caller, &a), 0);
		ck_assert_uint_eq(mode_after_chown(a.ino, 06555, &outsider), 0555);
		ck_assert_uint_eq(mode_after_chown(a.ino, 06745, &outsider), 0745);
		/* S_ISGID without group execute stays for a member of the old group. */
		ck_assert_uint_eq(mode_after_chown(a.ino, 06745, &old_member), 02745);
		ck_assert_uint_eq(mode_after_chown(a.ino, 06745, NULL), 06745);
	}
	/* Directories keep both (the kernel does not ask, but even if it did). */
	ck_assert_int_eq(store_mknod(st, root, "d", S_IFDIR | 0755, 0, &root_caller, &a), 0);
	ck_assert_uint_eq(mode_after_chown(a.ino, 06755, &outsider), 06755);
}
END_TEST

/* A SETATTR with nothing to set (STORE_SET_OWNER_KEPT) by a caller who
 * neither owns the file (owner root here) nor has CAP_FOWNER: EPERM when
 * it is known to be a chown and set-id bits would go, as tmpfs answers
 * chown(path, -1, -1); otherwise (the same request before a write) OK.
 * A caller with CAP_FOWNER clears the bits as the owner would. */
START_TEST(test_owner_kept_chown_by_others)
{
	uint64_t root = make_volume("vk", "c", 1 << 20);
	struct store_kill_suidgid outsider = { in_group_no, NULL };
	struct store_setattr_request mode = { .flags = STORE_SET_MODE, .mode = 06755 };
	struct store_setattr_request kept = { .flags = STORE_SET_OWNER_KEPT, .kill = &outsider,
					      .caller_uid = 65534, .caller_chown = true };
	struct store_attr a;

	ck_assert_int_eq(store_mknod(st, root, "f", S_IFREG | 0644, 0, &root_caller, &a), 0);
	ck_assert_int_eq(store_setattr(st, a.ino, &mode, &a), 0);
	ck_assert_int_eq(store_setattr(st, a.ino, &kept, &a), -EPERM);
	ck_assert_int_eq(store_getattr(st, a.ino, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 06755);
	/* The same request before a write: not refused, and the write's drop
	 * of the bits is done (the WRITE that follows asks for it too). */
	kept.caller_chown = false;
	ck_assert_int_eq(store_setattr(st, a.ino, &kept, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 0755);
	ck_assert_int_eq(store_setattr(st, a.ino, &mode, &a), 0);
	kept.caller_chown = true;
	kept.caller_fowner = true; /* CAP_FOWNER: as the owner */
	ck_assert_int_eq(store_setattr(st, a.ino, &kept, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 0755);
	/* Nothing to clear: nothing to refuse. */
	kept.caller_fowner = false;
	ck_assert_int_eq(store_setattr(st, a.ino, &kept, &a), 0);
	/* Directories keep their bits: no EPERM either. */
	ck_assert_int_eq(store_mknod(st, root, "d", S_IFDIR | 0755, 0, &root_caller, &a), 0);
	ck_assert_int_eq(store_setattr(st, a.ino, &mode, &a), 0);
	ck_assert_int_eq(store_setattr(st, a.ino, &kept, &a), 0);
	ck_assert_uint_eq(a.mode & 07777, 06755);
}
END_TEST

START_TEST(test_enospc_leaves_data)
{
	uint64_t root = make_volume("small", "c", 1 << 20);
	uint64_t ino = make_file(root, "f");
	char buf[4096], back[4096];
	char *big = calloc(1, 2 << 20);
	struct statvfs sv;

	fill_pattern(buf, sizeof(buf), 1);
	ck_assert_int_eq(store_write(st, ino, 0, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	ck_assert_int_eq(store_write(st, ino, 0, big, 2 << 20), -ENOSPC);
	ck_assert_int_eq(store_fallocate(st, ino, 0, 0, 2 << 20), -ENOSPC);
	struct store_setattr_request grow = { .flags = STORE_SET_SIZE, .size = 2 << 20 };
	struct store_attr a;
	ck_assert_int_eq(store_setattr(st, ino, &grow, &a), -ENOSPC);
	ck_assert_int_eq(store_read(st, ino, 0, sizeof(back), back), (ssize_t)sizeof(back));
	ck_assert_mem_eq(buf, back, sizeof(buf));
	ck_assert_int_eq(store_statfs(st, ino, &sv), 0);
	ck_assert_uint_eq(sv.f_blocks * sv.f_frsize, 1 << 20);
	ck_assert_uint_eq((sv.f_blocks - sv.f_bfree) * sv.f_frsize, 4096);
	free(big);
}
END_TEST

START_TEST(test_truncate_and_fallocate_usage)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	char *buf = calloc(1, 1 << 20);
	struct store_attr a;
	struct store_setattr_request shrink = { .flags = STORE_SET_SIZE, .size = 100 };
	char back[200];

	memset(buf, 'x', 1 << 20);
	ck_assert_int_eq(store_write(st, ino, 0, buf, 1 << 20), 1 << 20);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.blocks, 2048);
	ck_assert_int_eq(store_setattr(st, ino, &shrink, &a), 0);
	ck_assert_uint_eq(a.size, 100);
	ck_assert_uint_eq(a.blocks, 8);
	/* growing again exposes zeros, not the old bytes */
	struct store_setattr_request grow = { .flags = STORE_SET_SIZE, .size = 200 };
	ck_assert_int_eq(store_setattr(st, ino, &grow, &a), 0);
	ck_assert_int_eq(store_read(st, ino, 0, 200, back), 200);
	ck_assert_int_eq(back[99], 'x');
	ck_assert_int_eq(back[100], 0);
	ck_assert_int_eq(back[199], 0);
	/* KEEP_SIZE reserves space without changing the size */
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_KEEP_SIZE, 0, 1 << 20), 0);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.size, 200);
	ck_assert_uint_eq(a.blocks, 2048);
	ck_assert_int_eq(store_read(st, ino, 0, 200, back), 200);
	ck_assert_int_eq(back[99], 'x');
	ck_assert_int_eq(back[100], 0);
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_PUNCH_HOLE, 0, 4096), -EOPNOTSUPP);
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_COLLAPSE_RANGE, 0, 16384), -EOPNOTSUPP);
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_INSERT_RANGE, 0, 16384), -EOPNOTSUPP);
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE, 0, 4096),
			 -EOPNOTSUPP);
	free(buf);
}
END_TEST

/* The volume's used bytes. */
static uint64_t volume_used(const char *name)
{
	struct store_volume v;

	ck_assert_int_eq(store_volume_get(st, name, &v), 0);
	return v.used_bytes;
}

START_TEST(test_punch_and_zero_range)
{
	const uint64_t size = 4 << 20;
	uint64_t root = make_volume("vp", "p", 8 << 20);
	uint64_t ino = make_file(root, "f");
	char *buf = malloc(size), *back = malloc(size);
	struct store_attr a;
	struct store_check_result baseline, result;

	/* What the checker finds without the model (the claim object): no more at the end. */
	ck_assert_int_eq(store_check(st, false, NULL, NULL, &baseline), 0);
	memset(buf, 'x', size);
	ck_assert_int_eq(store_write(st, ino, 0, buf, size), (ssize_t)size);
	ck_assert_uint_eq(volume_used("vp"), size);
	/* 3 MiB from an unaligned offset: whole blocks go (in chunks), the
	 * partial ones are zeroed or cut short; the claim gets the space back. */
	const uint64_t off = 5000, len = 3 << 20;
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len), 0);
	memset(buf + off, 0, len);
	ck_assert_int_eq(store_read(st, ino, 0, size, back), (ssize_t)size);
	ck_assert_mem_eq(back, buf, size);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.size, size);
	ck_assert_uint_lt(volume_used("vp"), size - len + 32768);
	ck_assert_uint_eq(a.blocks * 512, volume_used("vp"));
	/* A punch inside one block only zeroes bytes; past the end changes nothing. */
	uint64_t used = volume_used("vp");
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, size - 100, 10), 0);
	memset(buf + size - 100, 0, 10);
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, size, 1 << 20), 0);
	ck_assert_uint_eq(volume_used("vp"), used);
	ck_assert_int_eq(store_read(st, ino, 0, size, back), (ssize_t)size);
	ck_assert_mem_eq(back, buf, size);
	/* ZERO_RANGE: zeros, space allocated, the size grows without KEEP_SIZE. */
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_ZERO_RANGE, size - 3000, 10000), 0);
	memset(buf + size - 3000, 0, 3000);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.size, size + 7000);
	ck_assert_int_eq(store_read(st, ino, 0, size, back), (ssize_t)size);
	ck_assert_mem_eq(back, buf, size);
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 1 << 20), 0);
	memset(buf, 0, 1 << 20);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.size, size + 7000);
	ck_assert_int_eq(store_read(st, ino, 0, 1 << 20, back), 1 << 20);
	ck_assert(back[0] == 0 && back[(1 << 20) - 1] == 0);
	ck_assert_uint_ge(volume_used("vp"), used + (1 << 20) - 32768);
	/* A punch to the kernel's largest offset (past the largest file) is taken. */
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, size - 4096,
					 INT64_MAX - size), 0);
	memset(buf + size - 4096, 0, 4096);
	ck_assert_int_eq(store_read(st, ino, 0, size, back), (ssize_t)size);
	ck_assert_mem_eq(back, buf, size);
	/* Zeroing past the capacity fails and changes nothing. */
	used = volume_used("vp");
	ck_assert_int_eq(store_fallocate(st, ino, FALLOC_FL_ZERO_RANGE, 0, 9 << 20), -ENOSPC);
	ck_assert_uint_eq(volume_used("vp"), used);
	ck_assert_int_eq(store_check(st, false, NULL, NULL, &result), 0);
	ck_assert_uint_eq(result.problems, baseline.problems);
	free(buf);
	free(back);
}
END_TEST

START_TEST(test_orphan_lives_until_forget)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f"); /* one lookup reference */
	struct store_attr a;
	char back[5];

	ck_assert_int_eq(store_write(st, ino, 0, "hello", 5), 5);
	ck_assert_int_eq(store_unlink(st, root, "f"), 0);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_int_eq(store_read(st, ino, 0, 5, back), 5);
	ck_assert_mem_eq(back, "hello", 5);
	store_forget(st, ino, 1);
	ck_assert_int_eq(store_getattr(st, ino, &a), -ENOENT);
}
END_TEST

START_TEST(test_orphan_reclaimed_at_open)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	struct store_volume v;

	ck_assert_int_eq(store_write(st, ino, 0, "data", 4), 4);
	ck_assert_int_eq(store_unlink(st, root, "f"), 0);
	ck_assert_int_eq(store_sync(st, true), 0);
	store_close(st); /* as if the daemon died with the file open */
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	struct store_attr a;
	ck_assert_int_eq(store_getattr(st, ino, &a), -ENOENT);
	ck_assert_int_eq(store_volume_get(st, "v", &v), 0);
	ck_assert_uint_eq(v.used_bytes, 0);
	ck_assert_uint_eq(v.used_inodes, 1);
}
END_TEST

START_TEST(test_rename_exchange_and_exdev)
{
	uint64_t r1 = make_volume("v1", "c1", 64 << 20), r2 = make_volume("v2", "c2", 64 << 20);
	struct store_attr d, e, f, a;

	ck_assert_int_eq(store_mknod(st, r1, "d", S_IFDIR | 0755, 0, &root_caller, &d), 0);
	ck_assert_int_eq(store_mknod(st, r1, "e", S_IFDIR | 0755, 0, &root_caller, &e), 0);
	ck_assert_int_eq(store_mknod(st, r1, "f", S_IFREG | 0644, 0, &root_caller, &f), 0);
	ck_assert_int_eq(store_mknod(st, d.ino, "sub", S_IFDIR | 0755, 0, &root_caller, &a), 0);
	ck_assert_int_eq(store_rename(st, r1, "f", d.ino, "g", 0), 0);
	/* a directory cannot move into itself, nor be swapped into itself */
	ck_assert_int_eq(store_rename(st, r1, "d", d.ino, "x", 0), -EINVAL);
	ck_assert_int_eq(store_rename(st, d.ino, "g", r1, "d", RENAME_EXCHANGE), -EINVAL);
	/* swap the file d/g with the directory e: e moves into d */
	ck_assert_int_eq(store_rename(st, r1, "e", d.ino, "g", RENAME_EXCHANGE), 0);
	ck_assert_int_eq(store_lookup(st, r1, "e", &a), 0);
	ck_assert_uint_eq(a.ino, f.ino);
	ck_assert_int_eq(store_lookup(st, d.ino, "g", &a), 0);
	ck_assert_uint_eq(a.ino, e.ino);
	ck_assert_int_eq(store_getattr(st, r1, &a), 0);
	ck_assert_uint_eq(a.nlink, 3); /* ".", its name, d's ".." */
	ck_assert_int_eq(store_getattr(st, d.ino, &a), 0);
	ck_assert_uint_eq(a.nlink, 4); /* ".", its name, sub's and g's ".." */
	ck_assert_int_eq(store_rename(st, r1, "d", r2, "d", 0), -EXDEV);
	ck_assert_int_eq(store_link(st, f.ino, r2, "l", &a), -EXDEV);
	ck_assert_int_eq(store_rename(st, r1, "e", d.ino, "sub", RENAME_NOREPLACE), -EEXIST);
	ck_assert_int_eq(store_rename(st, r1, "e", d.ino, "sub", 0), -EISDIR);
}
END_TEST

START_TEST(test_top_levels_are_protected)
{
	uint64_t root = make_volume("v", "c", 1 << 20);
	struct store_attr ns, a;

	ck_assert_int_eq(store_lookup(st, STORE_ROOT_INO, "default", &ns), 0);
	ck_assert_int_eq(store_mknod(st, STORE_ROOT_INO, "x", S_IFDIR | 0755, 0, &root_caller, &a), -EPERM);
	ck_assert_int_eq(store_mknod(st, ns.ino, "x", S_IFREG | 0644, 0, &root_caller, &a), -EPERM);
	ck_assert_int_eq(store_rmdir(st, ns.ino, "c"), -EPERM);
	ck_assert_int_eq(store_rename(st, ns.ino, "c", ns.ino, "d", 0), -EPERM);
	ck_assert_int_eq(store_lookup(st, ns.ino, "c", &a), 0);
	ck_assert_uint_eq(a.ino, root);
}
END_TEST

START_TEST(test_clone_is_independent)
{
	uint64_t root = make_volume("src", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	struct store_volume copy;
	struct store_attr a;
	char back[6];

	ck_assert_int_eq(store_write(st, ino, 0, "before", 6), 6);
	ck_assert_int_eq(store_setxattr(st, ino, "user.k", "v", 1, 0), 0);
	ck_assert_int_eq(store_volume_clone(st, "src", "copy", 64 << 20, &copy), 0);
	ck_assert_int_eq(store_volume_bind(st, "copy", "default", "copy"), 0);
	ck_assert_int_eq(store_write(st, ino, 0, "after!", 6), 6);
	ck_assert_int_eq(store_lookup(st, copy.root_ino, "f", &a), 0);
	ck_assert_uint_ne(a.ino, ino);
	ck_assert_int_eq(store_read(st, a.ino, 0, 6, back), 6);
	ck_assert_mem_eq(back, "before", 6);
	ck_assert_int_eq(store_getxattr(st, a.ino, "user.k", back, sizeof(back)), 1);
	ck_assert_int_eq(store_volume_clone(st, "src", "tiny", 1, NULL), -ENOSPC);
	ck_assert_int_eq(store_volume_clone(st, "src", "copy", 64 << 20, NULL), -EEXIST);
	struct store_check_result result;
	ck_assert_int_eq(store_check(st, false, NULL, NULL, &result), 0);
	/* only the missing claim objects (the model is not in this test) */
	ck_assert_uint_eq(result.problems, 2);
}
END_TEST

static unsigned reports;
static void count_report(void *ud, const char *problem, bool repaired)
{
	(void)ud;
	(void)repaired;
	if (!strstr(problem, "no claim object"))
		reports++;
}

/* store_check finds nothing wrong (missing claim objects aside). */
static void assert_store_consistent(void)
{
	struct store_check_result result;

	reports = 0;
	ck_assert_int_eq(store_check(st, false, count_report, NULL, &result), 0);
	ck_assert_uint_eq(reports, 0);
}

static void run_sql(const char *sql)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "sqlite3 %s \"%s\"", test_path, sql);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_check_finds_and_repairs)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	struct store_check_result result;
	char sql[256];

	ck_assert_int_eq(store_write(st, ino, 0, "12345", 5), 5);
	assert_store_consistent();
	store_close(st);
	snprintf(sql, sizeof(sql), "UPDATE inodes SET nlink = 7, alloc = 99 WHERE ino = %llu;"
		 " UPDATE volumes SET used_inodes = 40;", (unsigned long long)ino);
	run_sql(sql);
	ck_assert_int_eq(store_open(test_path, STORE_OPEN_NO_RECLAIM, &st), 0);
	reports = 0;
	ck_assert_int_eq(store_check(st, false, count_report, NULL, &result), 0);
	ck_assert_uint_eq(reports, 3); /* links, inode usage, volume usage */
	ck_assert_int_eq(store_check(st, true, NULL, NULL, &result), 0);
	ck_assert_uint_ge(result.repaired, 3);
	assert_store_consistent();
	struct store_attr a;
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.nlink, 1);
}
END_TEST

/* A schema-2 store (64 KiB blocks keyed ino << 24 | index) opens as schema 3
 * (16 KiB blocks, ino << 26 | index) with the same bytes, holes, fallocated
 * ranges and usage. */
/* SQL that puts the objects table back as schema 3 had it (no phase
 * column, the phase index over the JSON body), for the migration tests. */
#define SCHEMA_3_OBJECTS_SQL \
	" DROP INDEX objects_phase; ALTER TABLE objects DROP COLUMN phase;" \
	" CREATE INDEX objects_phase ON objects(kind, json_extract(body, '$.status.phase'));" \
	" ALTER TABLE volumes DROP COLUMN inode_limit; ALTER TABLE volumes DROP COLUMN io_class;"

/* store_object_list_phase callback: count the objects. */
static int count_object(void *ud, const char *namespace_name, const char *name, const char *body,
			int64_t version)
{
	(*(int *)ud)++;
	return 0;
}

/* Schema 3 -> 4 files every object under the phase its body holds. */
START_TEST(test_migration_fills_phase)
{
	int pending = 0, bound = 0;

	ck_assert_int_eq(store_object_put(st, "K", "ns", "a", "{\"status\":{\"phase\":\"Pending\"}}", NULL,
					  true, 0, NULL), 0);
	ck_assert_int_eq(store_object_put(st, "K", "ns", "b", "{\"status\":{\"phase\":\"Bound\"}}", NULL,
					  true, 0, NULL), 0);
	store_close(st);
	st = NULL;
	run_sql(SCHEMA_3_OBJECTS_SQL " PRAGMA user_version = 3;");
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_int_eq(store_object_list_phase(st, "K", "Pending", count_object, &pending), 0);
	ck_assert_int_eq(pending, 1);
	/* From now on the phase is what the caller passes, not the body's. */
	ck_assert_int_eq(store_object_put(st, "K", "ns", "b", "{}", "Pending", false, 0, NULL), 0);
	ck_assert_int_eq(store_object_list_phase(st, "K", "Bound", count_object, &bound), 0);
	ck_assert_int_eq(bound, 0);
	pending = 0;
	ck_assert_int_eq(store_object_list_phase(st, "K", "Pending", count_object, &pending), 0);
	ck_assert_int_eq(pending, 2);
}
END_TEST

START_TEST(test_migration_rechunks_blocks)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	const size_t size = 3 * 65536 + 20000;
	struct store_attr a;
	char sql[1024];
	char *back = malloc(size);

	store_close(st);
	st = NULL;
	snprintf(sql, sizeof(sql),
		 "DELETE FROM blocks; INSERT INTO blocks(id, data) VALUES"
		 " ((%llu << 24) + 0, CAST(printf('%%.65536c', 'a') AS BLOB)), ((%llu << 24) + 1, NULL),"
		 " ((%llu << 24) + 3, CAST(printf('%%.20000c', 'c') AS BLOB));"
		 " UPDATE inodes SET size = %zu, alloc = 151552 WHERE ino = %llu;"
		 " UPDATE volumes SET used_bytes = 151552;" SCHEMA_3_OBJECTS_SQL " PRAGMA user_version = 2;",
		 (unsigned long long)ino, (unsigned long long)ino, (unsigned long long)ino, size,
		 (unsigned long long)ino);
	run_sql(sql);
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_int_eq(store_read(st, ino, 0, size, back), (ssize_t)size);
	for (size_t i = 0; i < size; i++) {
		char want = i < 65536 ? 'a' : i < 3 * 65536 ? 0 : 'c';
		if (back[i] != want)
			ck_abort_msg("byte %zu is %d, not %d", i, back[i], want);
	}
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.blocks * 512, 151552);
	assert_store_consistent();
	/* the reserved range is still reserved: writing into it costs nothing more */
	ck_assert_int_eq(store_write(st, ino, 70000, "zz", 2), 2);
	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_uint_eq(a.blocks * 512, 151552);
	ck_assert_int_eq(store_read(st, ino, 69999, 4, back), 4);
	ck_assert_mem_eq(back, "\0zz\0", 4);
	free(back);
}
END_TEST

/* A commit (close(2) of a changed file, no fsync) is in the WAL file as soon
 * as it returns: another process reading the database sees it while the
 * store is still open (durability contract, point 2). */
START_TEST(test_commit_reaches_wal_before_it_returns)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	char cmd[1024], out[64] = "";

	ck_assert_int_eq(store_write(st, ino, 0, "visible", 7), 7);
	ck_assert_int_eq(store_flush(st, ino), 0);
	snprintf(cmd, sizeof(cmd),
		 "sqlite3 'file:%s?mode=ro' \"SELECT CAST(data AS TEXT) FROM blocks WHERE id >> 26 = %llu\"",
		 test_path, (unsigned long long)ino);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), p));
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_str_eq(out, "visible\n");
}
END_TEST

/* Deleting a big file writes about the pages it changes, not zeros over every
 * page it frees (Debian's SQLite defaults to secure_delete = ON), and the
 * freed pages then hold a new file's data correctly. */
START_TEST(test_big_delete_writes_no_zeros)
{
	const size_t size = 8u << 20;
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "big");
	struct store_stats before, after;
	struct store_space_stats space;
	struct store_attr a;
	char *buf = malloc(size), *back = malloc(size);

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(back);
	store_get_space_stats(st, &space);
	const uint64_t page = space.page_size;
	fill_pattern(buf, size, 7);
	ck_assert_int_eq(store_write(st, ino, 0, buf, size), (ssize_t)size);
	ck_assert_int_eq(store_sync(st, true), 0);
	store_get_stats(st, &before);
	ck_assert_uint_gt(before.wal_frames, size / page); /* no restart in between */
	ck_assert_int_eq(store_unlink(st, root, "big"), 0);
	store_forget(st, ino, 1); /* over STORE_RECLAIM_INLINE_BYTES: deleted in chunks */
	ck_assert_int_eq(store_sync(st, true), 0);
	ck_assert_int_eq(store_getattr(st, ino, &a), -ENOENT);
	store_get_stats(st, &after);
	ck_assert_uint_ge(after.wal_frames, before.wal_frames);
	/* size / page pages of data were freed; zeroing them would write them all. */
	ck_assert_uint_lt(after.wal_frames - before.wal_frames, size / page / 4);
	assert_store_consistent();

	ino = make_file(root, "again");
	fill_pattern(buf, size, 11);
	ck_assert_int_eq(store_write(st, ino, 0, buf, size), (ssize_t)size);
	ck_assert_int_eq(store_sync(st, true), 0);
	ck_assert_int_eq(store_read(st, ino, 0, size, back), (ssize_t)size);
	ck_assert_mem_eq(back, buf, size);
	assert_store_consistent();
	free(buf);
	free(back);
}
END_TEST

/* A close commits the batch only when it holds changes of that file: one
 * commit serves closes that come together, and a chmod counts as a change. */
START_TEST(test_flush_commits_only_pending_files)
{
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t a = make_file(root, "a"), b = make_file(root, "b");
	struct store_stats before, after;
	struct store_attr attr;

	ck_assert_int_eq(store_sync(st, false), 0);
	ck_assert_int_eq(store_write(st, a, 0, "aa", 2), 2);
	ck_assert_int_eq(store_write(st, b, 0, "bb", 2), 2);
	store_get_stats(st, &before);
	ck_assert_int_eq(store_flush(st, a), 0);
	ck_assert_int_eq(store_flush(st, b), 0);
	store_get_stats(st, &after);
	ck_assert_uint_eq(after.commits - before.commits, 1);
	/* b's write was committed with a's: nothing is pending any more */
	ck_assert_int_eq(store_flush(st, b), 0);
	store_get_stats(st, &before);
	ck_assert_uint_eq(before.commits, after.commits);
	struct store_setattr_request chmod = { .flags = STORE_SET_MODE, .mode = 0600 };
	ck_assert_int_eq(store_setattr(st, b, &chmod, &attr), 0);
	ck_assert_int_eq(store_flush(st, a), 0);
	store_get_stats(st, &after);
	ck_assert_uint_eq(after.commits, before.commits);
	ck_assert_int_eq(store_flush(st, b), 0);
	store_get_stats(st, &after);
	ck_assert_uint_eq(after.commits - before.commits, 1);
}
END_TEST

START_TEST(test_second_open_is_locked)
{
	struct store *other = NULL;

	ck_assert_int_eq(store_open(test_path, 0, &other), -EBUSY);
	ck_assert_ptr_null(other);
}
END_TEST

/* Reopen the store with the test-only fault VFS reading its faults from
 * <test_dir>/fault; that path in ret_fault. */
static void reopen_with_faults(char *ret_fault, size_t size)
{
	store_close(st);
	snprintf(ret_fault, size, "%s/fault", test_dir);
	setenv("CLAIMFS_FAULT_FILE", ret_fault, 1);
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
}

/* Arm the fault VFS with one spec line (op:call:errno:times). */
static void set_fault(const char *path, const char *spec)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", spec);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_fault_injection_rolls_back)
{
	char fault[600];
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f");
	char back[4];

	ck_assert_int_eq(store_write(st, ino, 0, "good", 4), 4);
	ck_assert_int_eq(store_sync(st, true), 0);
	reopen_with_faults(fault, sizeof(fault));
	set_fault(fault, "sync:1:EIO:1");
	ck_assert_int_eq(store_write(st, ino, 0, "bad!", 4), 4);
	ck_assert_int_eq(store_sync(st, true), -EIO);
	ck_assert_uint_ge(store_fault_injected(), 1);
	/* Unknown whether "bad!" made it (the commit or only the fsync failed),
	 * but what was committed before is never lost. */
	ck_assert_int_eq(store_read(st, ino, 0, 4, back), 4);
	ck_assert_msg(memcmp(back, "good", 4) == 0 || memcmp(back, "bad!", 4) == 0, "got %.4s", back);
	/* the fault cleared after one call: writes and fsync work again */
	ck_assert_int_eq(store_write(st, ino, 0, "next", 4), 4);
	ck_assert_int_eq(store_sync(st, true), 0);
	unlink(fault);
	store_close(st);
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_int_eq(store_read(st, ino, 0, 4, back), 4);
	ck_assert_mem_eq(back, "next", 4);
	assert_store_consistent();
}
END_TEST

/* A statement that fails with SQLITE_FULL mid-operation (here: the page
 * cache spills a 24 MiB write into the WAL on a "full disk") makes SQLite
 * roll back the whole batch transaction. The store must notice: the
 * operation fails, the batch's other changes are reported lost (EIO at
 * fsync), and nothing runs outside a transaction afterwards. */
START_TEST(test_sqlite_rollback_mid_operation)
{
	const size_t big = 24 << 20;
	char fault[600], back[4];
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t kept = make_file(root, "kept"), pending = make_file(root, "pending");
	uint64_t huge = make_file(root, "huge");
	char *buf = calloc(1, big);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(store_write(st, kept, 0, "good", 4), 4);
	ck_assert_int_eq(store_sync(st, true), 0);
	reopen_with_faults(fault, sizeof(fault));
	ck_assert_int_eq(store_write(st, pending, 0, "lost", 4), 4);
	set_fault(fault, "write:1:ENOSPC:0");
	ssize_t r = store_write(st, huge, 0, buf, big);
	ck_assert_msg(r == -ENOSPC || r == -EIO, "24 MiB write on a full disk: %zd", r);
	ck_assert_uint_ge(store_fault_injected(), 1);
	unlink(fault);
	/* A write after it lands in a new batch: its fsync succeeds (no false
	 * EIO), while the batch that held "lost" is gone and says so once. */
	uint64_t after = make_file(root, "after");
	ck_assert_int_eq(store_write(st, after, 0, "after", 5), 5);
	ck_assert_int_eq(store_fsync(st, after, false), 0);
	ck_assert_int_eq(store_fsync(st, pending, false), -EIO);
	ck_assert_int_eq(store_fsync(st, pending, false), 0);
	/* Work goes on in a real transaction: a write, then a failing
	 * operation whose savepoint rolls back only itself. */
	ck_assert_int_eq(store_write(st, kept, 0, "next", 4), 4);
	ck_assert_int_eq(store_unlink(st, root, "no-such-file"), -ENOENT);
	ck_assert_int_eq(store_sync(st, true), 0);
	store_close(st);
	unsetenv("CLAIMFS_FAULT_FILE");
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_int_eq(store_read(st, kept, 0, 4, back), 4);
	ck_assert_mem_eq(back, "next", 4);
	ck_assert_int_eq(store_read(st, after, 0, 4, back), 4);
	ck_assert_mem_eq(back, "afte", 4);
	assert_store_consistent();
	free(buf);
}
END_TEST

/* Every operation's savepoint journal stays in memory: with every file
 * open failing (no temporary file can be made), an operation that journals
 * megabytes of pages succeeds, and one that fails after rewriting them is
 * rolled back from that journal. */
START_TEST(test_savepoint_journal_needs_no_temp_file)
{
	char fault[600], back[4096];
	size_t size = 4 << 20;
	uint64_t root = make_volume("v", "c", 5 << 20);
	uint64_t ino = make_file(root, "f"), other = make_file(root, "g");
	char *a = malloc(size + (1 << 20)), *b = malloc(size);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	fill_pattern(a, size + (1 << 20), 1);
	fill_pattern(b, size, 2);
	ck_assert_int_eq(store_write(st, ino, 0, a, size), (ssize_t)size);
	ck_assert_int_eq(store_write(st, other, 0, a, 512 << 10), 512 << 10);
	ck_assert_int_eq(store_sync(st, true), 0);
	reopen_with_faults(fault, sizeof(fault));
	ck_assert_int_eq(store_read(st, ino, 0, 16, back), 16);
	set_fault(fault, "open:1:EIO:0");
	/* 4 MiB over existing blocks: every page goes to the sub-journal */
	ck_assert_int_eq(store_write(st, ino, 0, b, size), (ssize_t)size);
	/* 5 MiB over it: all blocks are rewritten before the volume (4.5 MiB
	 * used, 5 MiB capacity) turns out too small; the savepoint brings the
	 * 4 MiB back from its journal */
	ck_assert_int_eq(store_write(st, ino, 0, a, size + (1 << 20)), -ENOSPC);
	for (size_t off = 0; off < size; off += 512 << 10) {
		ck_assert_int_eq(store_read(st, ino, off, sizeof(back), back), (ssize_t)sizeof(back));
		ck_assert_mem_eq(back, b + off, sizeof(back));
	}
	ck_assert_int_eq(store_sync(st, true), 0);
	ck_assert_uint_eq(store_fault_injected(), 0);
	unlink(fault);
	store_close(st);
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	for (size_t off = 0; off < size; off += 512 << 10) {
		ck_assert_int_eq(store_read(st, ino, off, sizeof(back), back), (ssize_t)sizeof(back));
		ck_assert_mem_eq(back, b + off, sizeof(back));
	}
	struct store_attr attr;
	ck_assert_int_eq(store_getattr(st, ino, &attr), 0);
	ck_assert_uint_eq(attr.size, size);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_lost_commit_reports_eio)
{
	char fault[600];
	uint64_t root = make_volume("v", "c", 64 << 20);
	uint64_t ino = make_file(root, "f"), other = make_file(root, "g");
	char back[4];

	ck_assert_int_eq(store_write(st, ino, 0, "good", 4), 4);
	ck_assert_int_eq(store_sync(st, true), 0);
	reopen_with_faults(fault, sizeof(fault));
	ck_assert_int_eq(store_write(st, ino, 0, "lost", 4), 4);
	set_fault(fault, "write:1:EIO:1");
	/* the commit fails and rolls the transaction back: the write is gone,
	 * and fsync must say so instead of returning 0 */
	ck_assert_int_lt(store_sync(st, false), 0);
	unlink(fault);
	ck_assert_int_eq(store_fsync(st, ino, false), -EIO);
	ck_assert_int_eq(store_fsync(st, ino, false), 0); /* reported once, as Linux does */
	ck_assert_int_eq(store_fsync(st, other, false), 0);
	ck_assert_int_eq(store_read(st, ino, 0, 4, back), 4);
	ck_assert_mem_eq(back, "good", 4);
}
END_TEST

/* A file created in a batch whose commit fails: its row is gone, but the
 * kernel still has it open. What comes next through that open file (a
 * write, its fsync, a stat) must say EIO, as durability point 6 promises,
 * not ENOENT (the fault test saw ENOENT from a write+fsync when the batch
 * timer's commit failed between a create and its write). */
START_TEST(test_lost_create_reports_eio)
{
	char fault[600];
	uint64_t root = make_volume("v", "c", 64 << 20);
	struct store_attr attr;
	char back[4];

	ck_assert_int_eq(store_sync(st, true), 0);
	reopen_with_faults(fault, sizeof(fault));
	uint64_t ino = make_file(root, "created");
	set_fault(fault, "write:1:ENOSPC:1");
	/* the batch timer's commit, say: the create is rolled back */
	ck_assert_int_lt(store_sync(st, false), 0);
	ck_assert_uint_ge(store_fault_injected(), 1);
	unlink(fault);
	ck_assert_int_eq(store_lookup(st, root, "created", &attr), -ENOENT);
	ck_assert_int_eq(store_write(st, ino, 0, "data", 4), -EIO);
	ck_assert_int_eq(store_read(st, ino, 0, 4, back), -EIO);
	ck_assert_int_eq(store_getattr(st, ino, &attr), -EIO);
	ck_assert_int_eq(store_fsync(st, ino, false), -EIO);
	/* once the kernel forgets it, the number is simply unknown */
	store_forget(st, ino, 1);
	ck_assert_int_eq(store_getattr(st, ino, &attr), -ENOENT);
	/* work goes on: a new file gets a new number and commits */
	uint64_t next = make_file(root, "next");
	ck_assert_uint_ne(next, ino);
	ck_assert_int_eq(store_write(st, next, 0, "next", 4), 4);
	ck_assert_int_eq(store_fsync(st, next, false), 0);
	assert_store_consistent();
}
END_TEST

static Suite *store_ops_suite(void)
{
	Suite *s = suite_create("store_ops");
	TCase *tc = tcase_create("ops");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_read_across_blocks);
	tcase_add_test(tc, test_writes_drop_privileges);
	tcase_add_test(tc, test_chown_drops_privileges_of_every_type);
	tcase_add_test(tc, test_owner_kept_chown_by_others);
	tcase_add_test(tc, test_enospc_leaves_data);
	tcase_add_test(tc, test_truncate_and_fallocate_usage);
	tcase_add_test(tc, test_punch_and_zero_range);
	tcase_add_test(tc, test_orphan_lives_until_forget);
	tcase_add_test(tc, test_orphan_reclaimed_at_open);
	tcase_add_test(tc, test_big_delete_writes_no_zeros);
	tcase_add_test(tc, test_rename_exchange_and_exdev);
	tcase_add_test(tc, test_top_levels_are_protected);
	tcase_add_test(tc, test_clone_is_independent);
	tcase_add_test(tc, test_check_finds_and_repairs);
	tcase_add_test(tc, test_migration_rechunks_blocks);
	tcase_add_test(tc, test_migration_fills_phase);
	tcase_add_test(tc, test_commit_reaches_wal_before_it_returns);
	tcase_add_test(tc, test_second_open_is_locked);
	tcase_add_test(tc, test_flush_commits_only_pending_files);
	tcase_add_test(tc, test_fault_injection_rolls_back);
	tcase_add_test(tc, test_lost_commit_reports_eio);
	tcase_add_test(tc, test_lost_create_reports_eio);
	tcase_add_test(tc, test_sqlite_rollback_mid_operation);
	tcase_add_test(tc, test_savepoint_journal_needs_no_temp_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(store_ops_suite());
}
