/*
 * test_store_vacuum.c — giving free pages back to the host (store_vacuum.c)
 * through store.h on real SQLite files: the background vacuum driven tick by
 * tick as the checkpointer thread drives it, and store_compact.
 */
#include "store.h"
#include "store_fixture.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VACUUM_TEMPLATE P_tmpdir "/claimfs-store-vacuum-XXXXXX"

static char test_dir[] = VACUUM_TEMPLATE;
static char test_path[512];
static struct store *st;
static const struct store_caller root_caller = { 0, 0 };

#define MiB (1u << 20)

static void setup(void)
{
	store_fixture_open(test_dir, test_path, sizeof(test_path), &st);
}

static void teardown(void)
{
	store_fixture_close(test_dir, VACUUM_TEMPLATE, &st);
}

/* Bytes of the store file and its WAL. */
static uint64_t store_file_bytes(void)
{
	char wal[600];
	struct stat sb;
	uint64_t total = 0;

	if (stat(test_path, &sb) == 0)
		total += (uint64_t)sb.st_size;
	snprintf(wal, sizeof(wal), "%s-wal", test_path);
	if (stat(wal, &sb) == 0)
		total += (uint64_t)sb.st_size;
	return total;
}

/* A file of size bytes of a pattern named by seed in directory root. */
static uint64_t write_file(uint64_t root, const char *name, size_t size, unsigned seed)
{
	struct store_attr a;
	char *buf = malloc(size);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < size; i++)
		buf[i] = (char)(i * 31 + seed);
	ck_assert_int_eq(store_mknod(st, root, name, S_IFREG | 0644, 0, &root_caller, &a), 0);
	ck_assert_int_eq(store_write(st, a.ino, 0, buf, size), (ssize_t)size);
	free(buf);
	return a.ino;
}

static void assert_file(uint64_t ino, size_t size, unsigned seed)
{
	char *buf = malloc(size);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(store_read(st, ino, 0, size, buf), (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		if (buf[i] != (char)(i * 31 + seed))
			ck_abort_msg("byte %zu of inode %llu differs", i, (unsigned long long)ino);
	free(buf);
}

static void print_problem(void *ud, const char *problem, bool repaired)
{
	(void)ud;
	(void)repaired;
	fprintf(stderr, "# check: %s\n", problem);
}

static void assert_consistent(void)
{
	struct store_check_result result = { 0 };

	ck_assert_int_eq(store_check(st, false, print_problem, NULL, &result), 0);
	ck_assert_uint_eq(result.problems, 0);
}

/* A volume to write in (unbound: the checker would want a claim object
 * for a binding, and the model is not part of these tests). */
static uint64_t make_claim(void)
{
	struct store_volume v;

	ck_assert_int_eq(store_volume_create(st, "v", 256 * MiB, 0777, &v), 0);
	return v.root_ino;
}

/* 20 MiB deleted in front of 1 MiB that stays: ticks move the live pages
 * down, cut the file and truncate the WAL; the data is intact. */
START_TEST(test_vacuum_gives_pages_back)
{
	uint64_t root = make_claim(), big, live;
	struct store_space_stats space;

	store_get_space_stats(st, &space);
	ck_assert(space.incremental_vacuum);
	big = write_file(root, "big", 20 * MiB, 1);
	live = write_file(root, "live", 1 * MiB, 2);
	ck_assert_int_eq(store_sync(st, true), 0);
	ck_assert_uint_ge(store_file_bytes(), 21 * MiB);
	ck_assert_int_eq(store_unlink(st, root, "big"), 0);
	store_forget(st, big, 1);
	ck_assert_int_eq(store_sync(st, true), 0);
	for (int i = 0; i < 2000; i++) {
		store_checkpoint_tick(st);
		store_vacuum_tick(st);
		store_get_space_stats(st, &space);
		if (space.vacuumed_bytes > 0 && space.free_pages * space.page_size <= 4 * MiB &&
		    store_file_bytes() < 8 * MiB)
			break;
	}
	ck_assert_uint_ge(space.vacuumed_bytes, 14 * MiB);
	ck_assert_uint_le(space.free_pages * space.page_size, 4 * MiB);
	ck_assert_uint_lt(store_file_bytes(), 8 * MiB);
	assert_file(live, 1 * MiB, 2);
	assert_consistent();
}
END_TEST

/* Below the start level nothing moves in the background; store_compact
 * takes the free pages out at once and keeps the data. */
START_TEST(test_compact_takes_free_pages_out)
{
	uint64_t root = make_claim(), big, live, before = 0, after = 0;
	struct store_space_stats space;

	live = write_file(root, "live", 1 * MiB, 3);
	big = write_file(root, "big", 8 * MiB, 4);
	ck_assert_int_eq(store_unlink(st, root, "big"), 0);
	store_forget(st, big, 1);
	ck_assert_int_eq(store_sync(st, true), 0);
	for (int i = 0; i < 40; i++)
		store_vacuum_tick(st);
	store_get_space_stats(st, &space);
	ck_assert_uint_eq(space.vacuumed_bytes, 0);
	ck_assert_uint_ge(space.free_pages * space.page_size, 6 * MiB);
	ck_assert_int_eq(store_compact(st, &before, &after), 0);
	ck_assert_uint_lt(after + 6 * MiB, before);
	ck_assert_uint_eq(after, store_file_bytes());
	store_get_space_stats(st, &space);
	ck_assert(space.incremental_vacuum);
	assert_file(live, 1 * MiB, 3);
	assert_consistent();
	/* The store goes on working after the rewrite. */
	uint64_t again = write_file(root, "again", 1 * MiB, 5);
	ck_assert_int_eq(store_sync(st, true), 0);
	assert_file(again, 1 * MiB, 5);
}
END_TEST

static Suite *store_vacuum_suite(void)
{
	Suite *s = suite_create("store_vacuum");
	TCase *tc = tcase_create("vacuum");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vacuum_gives_pages_back);
	tcase_add_test(tc, test_compact_takes_free_pages_out);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(store_vacuum_suite());
}
