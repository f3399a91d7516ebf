/*
 * test_store_modify.c — a volume's mutable attributes on a real SQLite file:
 * the stored inode limit (statfs, ENOSPC beyond it, back to the derived one),
 * the durable I/O class (a write and a close commit durably, the standard
 * class does not), and the 4 -> 5 migration of a store written before the
 * attributes existed. Check, TAP on stdout.
 */
#include "store.h"
#include "store_fixture.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define MODIFY_TEMPLATE P_tmpdir "/claimfs-store-modify-XXXXXX"
static char test_dir[] = MODIFY_TEMPLATE;
static char test_path[600];
static struct store *st;
static const struct store_caller root_caller = { 0, 0 };

static void setup(void)
{
	store_fixture_open(test_dir, test_path, sizeof(test_path), &st);
}

static void teardown(void)
{
	store_fixture_close(test_dir, MODIFY_TEMPLATE, &st);
}

static struct store_volume modify_volume(const char *name)
{
	struct store_volume v;

	ck_assert_int_eq(store_volume_create(st, name, 16 << 20, 0777, &v), 0);
	ck_assert_int_eq(store_volume_bind(st, name, "default", name), 0);
	return v;
}

static int modify_mknod(uint64_t dir, const char *name, struct store_attr *ret_attr)
{
	return store_mknod(st, dir, name, S_IFREG | 0644, 0, &root_caller, ret_attr);
}

START_TEST(test_inode_limit_override)
{
	struct store_volume v = modify_volume("v"), got;
	struct store_attr a;
	struct statvfs sv;
	char name[16];

	ck_assert_uint_eq(v.max_inodes, store_volume_inode_limit(16 << 20));
	ck_assert_int_eq(store_volume_modify(st, "v", 5, STORE_IO_STANDARD), 0);
	ck_assert_int_eq(store_statfs(st, v.root_ino, &sv), 0);
	ck_assert_uint_eq(sv.f_files, 5);
	ck_assert_uint_eq(sv.f_ffree, 4); /* the root directory counts */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ck_assert_int_eq(modify_mknod(v.root_ino, name, &a), 0);
	}
	ck_assert_int_eq(modify_mknod(v.root_ino, "over", &a), -ENOSPC);
	ck_assert_int_eq(store_statfs(st, v.root_ino, &sv), 0);
	ck_assert_uint_eq(sv.f_ffree, 0);
	/* A limit below what is used keeps every file; creating still fails. */
	ck_assert_int_eq(store_volume_modify(st, "v", 2, STORE_IO_STANDARD), 0);
	ck_assert_int_eq(store_lookup(st, v.root_ino, "f3", &a), 0);
	ck_assert_int_eq(modify_mknod(v.root_ino, "over", &a), -ENOSPC);
	/* 0: the limit derived from the capacity again. */
	ck_assert_int_eq(store_volume_modify(st, "v", 0, STORE_IO_STANDARD), 0);
	ck_assert_int_eq(store_volume_get(st, "v", &got), 0);
	ck_assert_uint_eq(got.inode_limit, 0);
	ck_assert_uint_eq(got.max_inodes, store_volume_inode_limit(16 << 20));
	ck_assert_int_eq(modify_mknod(v.root_ino, "over", &a), 0);
}
END_TEST

START_TEST(test_modify_refuses_bad_input)
{
	struct store_volume v = modify_volume("v"), got;

	ck_assert_int_eq(store_volume_modify(st, "nope", 5, STORE_IO_STANDARD), -ENOENT);
	ck_assert_int_eq(store_volume_modify(st, "v", 5, (enum store_io_class)7), -EINVAL);
	ck_assert_int_eq(store_volume_modify(st, "v", UINT64_MAX, STORE_IO_STANDARD), -EINVAL);
	ck_assert_int_eq(store_volume_get(st, "v", &got), 0);
	ck_assert_uint_eq(got.inode_limit, 0);
	ck_assert_int_eq(got.io_class, STORE_IO_STANDARD);
	ck_assert_uint_eq(got.max_inodes, v.max_inodes);
}
END_TEST

static uint64_t modify_durable_commits(void)
{
	struct store_stats stats;

	store_get_stats(st, &stats);
	return stats.durable_commits;
}

START_TEST(test_io_class_durable_commits)
{
	struct store_volume fast = modify_volume("fast"), safe = modify_volume("safe"), got;
	struct store_attr fa, sa;
	uint64_t before;

	ck_assert_int_eq(modify_mknod(fast.root_ino, "f", &fa), 0);
	ck_assert_int_eq(modify_mknod(safe.root_ino, "f", &sa), 0);
	ck_assert_int_eq(store_volume_modify(st, "safe", 0, STORE_IO_DURABLE), 0);
	ck_assert_int_eq(store_volume_get(st, "safe", &got), 0);
	ck_assert_int_eq(got.io_class, STORE_IO_DURABLE);
	ck_assert_int_eq(store_sync(st, true), 0);

	/* Standard: a write leaves the batch open, no durable commit. */
	before = modify_durable_commits();
	ck_assert_int_eq(store_write(st, fa.ino, 0, "abc", 3), 3);
	ck_assert_int_eq(store_io_class_commit(st, fa.ino), 0);
	ck_assert_uint_eq(modify_durable_commits(), before);
	/* Durable: the same write is committed durably at once. */
	ck_assert_int_eq(store_write(st, sa.ino, 0, "abc", 3), 3);
	ck_assert_int_eq(store_io_class_commit(st, sa.ino), 0);
	ck_assert_uint_eq(modify_durable_commits(), before + 1);
	/* An inode gone meanwhile has nothing to commit. */
	ck_assert_int_eq(store_io_class_commit(st, 1u << 30), 0);
}
END_TEST

static void modify_run_sql(const char *sql)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "sqlite3 %s \"%s\"", test_path, sql);
	ck_assert_int_eq(system(cmd), 0);
}

/* A store written by schema 4 (no attribute columns) opens as schema 5 with
 * every volume at the derived limit and the standard class, and takes
 * attributes afterwards. */
START_TEST(test_migration_from_schema_4)
{
	struct store_volume v = modify_volume("old"), got;
	struct store_attr a;

	ck_assert_int_eq(modify_mknod(v.root_ino, "kept", &a), 0);
	store_close(st);
	st = NULL;
	modify_run_sql("ALTER TABLE volumes DROP COLUMN inode_limit;"
		       " ALTER TABLE volumes DROP COLUMN io_class; PRAGMA user_version = 4;");
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_int_eq(store_volume_get(st, "old", &got), 0);
	ck_assert_uint_eq(got.inode_limit, 0);
	ck_assert_int_eq(got.io_class, STORE_IO_STANDARD);
	ck_assert_uint_eq(got.max_inodes, store_volume_inode_limit(16 << 20));
	ck_assert_uint_eq(got.used_inodes, 2);
	ck_assert_int_eq(store_lookup(st, got.root_ino, "kept", &a), 0);
	ck_assert_int_eq(store_volume_modify(st, "old", 2, STORE_IO_DURABLE), 0);
	ck_assert_int_eq(modify_mknod(got.root_ino, "over", &a), -ENOSPC);
	store_close(st);
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_int_eq(store_volume_get(st, "old", &got), 0);
	ck_assert_uint_eq(got.max_inodes, 2);
	ck_assert_int_eq(got.io_class, STORE_IO_DURABLE);
}
END_TEST

/* A clone (and a snapshot, which is one) carries its source's attributes. */
START_TEST(test_clone_keeps_attributes)
{
	struct store_volume v = modify_volume("src"), copy;

	(void)v;
	ck_assert_int_eq(store_volume_modify(st, "src", 77, STORE_IO_DURABLE), 0);
	ck_assert_int_eq(store_volume_clone(st, "src", "copy", 32 << 20, &copy), 0);
	ck_assert_uint_eq(copy.inode_limit, 77);
	ck_assert_uint_eq(copy.max_inodes, 77);
	ck_assert_int_eq(copy.io_class, STORE_IO_DURABLE);
	/* Independent afterwards. */
	ck_assert_int_eq(store_volume_modify(st, "src", 0, STORE_IO_STANDARD), 0);
	ck_assert_int_eq(store_volume_get(st, "copy", &copy), 0);
	ck_assert_uint_eq(copy.inode_limit, 77);
	ck_assert_int_eq(copy.io_class, STORE_IO_DURABLE);
}
END_TEST

/* store_check reports of the attributes, each line once. */
static unsigned attrs_reports;
static void attrs_report(void *ud, const char *problem, bool repaired)
{
	(void)ud;
	(void)repaired;
	if (strstr(problem, "attributes:") != NULL)
		attrs_reports++;
}

static unsigned attrs_check(bool repair)
{
	struct store_check_result result;

	attrs_reports = 0;
	ck_assert_int_eq(store_check(st, repair, attrs_report, NULL, &result), 0);
	return attrs_reports;
}

/* claimfsd --check: the columns of schema 5 are in range, and a bound
 * volume has what its claim asks for (its annotation wins over its current
 * class's parameter); --repair puts both right. */
START_TEST(test_check_attributes)
{
	static const char claim[] =
		"{\"metadata\":{\"name\":\"v\",\"namespace\":\"default\",\"annotations\":"
		"{\"claimfs.io/io-class\":\"durable\"}},\"spec\":{\"volumeName\":\"v\"},"
		"\"status\":{\"phase\":\"Bound\",\"currentVolumeAttributesClassName\":\"gold\"}}";
	static const char gold[] = "{\"driverName\":\"claimfs.csi.claimfs.io\","
				   "\"parameters\":{\"inodeLimit\":\"40\",\"ioClass\":\"standard\"}}";
	struct store_volume got;
	int64_t version;

	(void)modify_volume("v");
	ck_assert_int_eq(store_object_put(st, "PersistentVolumeClaim", "default", "v", claim, "Bound",
					  true, 0, &version), 0);
	ck_assert_int_eq(store_object_put(st, "VolumeAttributesClass", "", "gold", gold, NULL, true, 0,
					  &version), 0);
	ck_assert_uint_eq(attrs_check(false), 1); /* the volume still has the defaults */
	ck_assert_int_eq(store_volume_modify(st, "v", 40, STORE_IO_DURABLE), 0);
	ck_assert_uint_eq(attrs_check(false), 0);
	store_close(st);
	st = NULL;
	modify_run_sql("UPDATE volumes SET inode_limit = -5, io_class = 7");
	ck_assert_int_eq(store_open(test_path, 0, &st), 0);
	ck_assert_uint_eq(attrs_check(false), 2); /* out of range, and not the claim's */
	ck_assert_uint_eq(attrs_check(true), 2);
	ck_assert_uint_eq(attrs_check(false), 0);
	ck_assert_int_eq(store_volume_get(st, "v", &got), 0);
	ck_assert_uint_eq(got.inode_limit, 40);
	ck_assert_int_eq(got.io_class, STORE_IO_DURABLE);
	/* A current class that is gone: the volume keeps what it had. */
	ck_assert_int_eq(store_object_delete(st, "VolumeAttributesClass", "", "gold"), 0);
	ck_assert_uint_eq(attrs_check(false), 0);
}
END_TEST

static Suite *store_modify_suite(void)
{
	Suite *s = suite_create("store_modify");
	TCase *tc = tcase_create("modify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_inode_limit_override);
	tcase_add_test(tc, test_modify_refuses_bad_input);
	tcase_add_test(tc, test_io_class_durable_commits);
	tcase_add_test(tc, test_migration_from_schema_4);
	tcase_add_test(tc, test_clone_keeps_attributes);
	tcase_add_test(tc, test_check_attributes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(store_modify_suite());
}
