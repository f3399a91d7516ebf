/*
 * test_store_write.c — the store's write path (store_data.c) against a model:
 * every write pattern the block code treats apart (a block started at 0, an
 * append that extends a row, a write past a row's end leaving a gap, an
 * overwrite inside a row, a write into a fallocated block, a write across
 * blocks) leaves the same bytes as a plain buffer would and usage that
 * store_check agrees with; store_write_class reports the claim's I/O
 * class; new stores get 8 KiB pages, old ones keep theirs. Real SQLite
 * files, no FUSE.
 */
#include "store.h"
#include "store_fixture.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_SIZE (256u << 10)

static char test_dir[] = "/tmp/claimfs-store-write-XXXXXX";
static char test_path[512];
static struct store *st;
static const struct store_caller root_caller = { 0, 0 };

static void setup(void)
{
	store_fixture_open(test_dir, test_path, sizeof(test_path), &st);
}

static void teardown(void)
{
	store_fixture_close(test_dir, "/tmp/claimfs-store-write-XXXXXX", &st);
}

static uint64_t make_file(const char *volume, enum store_io_class io_class)
{
	struct store_volume v;
	struct store_attr a;

	ck_assert_int_eq(store_volume_create(st, volume, 64 << 20, 0777, &v), 0);
	ck_assert_int_eq(store_volume_bind(st, volume, "default", volume), 0);
	ck_assert_int_eq(store_volume_modify(st, volume, 0, io_class), 0);
	ck_assert_int_eq(store_mknod(st, v.root_ino, "f", S_IFREG | 0644, 0, &root_caller, &a), 0);
	return a.ino;
}

/* store_check callback: count the problems (volumes made here have no
 * claim objects, which the checker notes and this test ignores). */
static void count_report(void *ud, const char *problem, bool repaired)
{
	(void)repaired;
	if (!strstr(problem, "no claim object"))
		(*(int *)ud)++;
}

/* The whole file equals model[0, size). */
static void assert_matches(uint64_t ino, const char *model, uint64_t size, const char *step)
{
	static char back[MODEL_SIZE];
	struct store_attr a;

	ck_assert_int_eq(store_getattr(st, ino, &a), 0);
	ck_assert_msg(a.size == size, "%s: size %llu, want %llu", step, (unsigned long long)a.size,
		      (unsigned long long)size);
	ck_assert_int_eq(store_read(st, ino, 0, MODEL_SIZE, back), (ssize_t)size);
	ck_assert_msg(memcmp(back, model, size) == 0, "%s: bytes differ", step);
}

/* The usage sums (inode alloc, volume used_bytes) agree with the rows. */
static void assert_consistent(void)
{
	struct store_check_result result;
	int reports = 0;

	ck_assert_int_eq(store_check(st, false, count_report, &reports, &result), 0);
	ck_assert_msg(reports == 0, "store_check reports %d problems", reports);
}

/* Write len bytes of seed's pattern at off, to the store and the model. */
static void write_both(uint64_t ino, char *model, uint64_t *size, uint64_t off, size_t len,
		       unsigned seed)
{
	char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(((off + i) * 7 + seed) | 1); /* never zero */
	ck_assert_int_eq(store_write(st, ino, off, buf, len), (ssize_t)len);
	memcpy(model + off, buf, len);
	if (off + len > *size)
		*size = off + len;
	free(buf);
}

/* store_write_class hands back the I/O class of the file's claim, and
 * nothing on failure. Part of the one test below: opening a store costs
 * seconds under valgrind. */
static void check_write_class_reports_the_claims_io_class(void)
{
	uint64_t standard = make_file("s", STORE_IO_STANDARD);
	uint64_t durable = make_file("d", STORE_IO_DURABLE);
	enum store_io_class io_class = (enum store_io_class)-1;

	ck_assert_int_eq(store_write_class(st, standard, 0, "abc", 3, NULL, &io_class), 3);
	ck_assert_int_eq(io_class, STORE_IO_STANDARD);
	ck_assert_int_eq(store_write_class(st, durable, 0, "abc", 3, NULL, &io_class), 3);
	ck_assert_int_eq(io_class, STORE_IO_DURABLE);
	/* A failed write leaves the output alone. */
	io_class = (enum store_io_class)-1;
	ck_assert_int_eq(store_write_class(st, 999999, 0, "abc", 3, NULL, &io_class), -ENOENT);
	ck_assert_int_eq(io_class, (enum store_io_class)-1);
}

START_TEST(test_write_path)
{
	static const struct {
		uint64_t off;
		size_t len;
		const char *what;
	} steps[] = {
		{ 0, 8192, "block started at 0 (stored as it came)" },
		{ 8192, 8192, "append that fills the block" },
		{ 16384, 100, "short start of the next block" },
		{ 16484, 3000, "append inside a row" },
		{ 30000, 10, "write past the row's end: a gap of zeros" },
		{ 16390, 50, "overwrite inside a row" },
		{ 20000, 12000, "write across two blocks" },
		{ 65536 + 5000, 700, "write into a fallocated block, at an offset" },
		{ 65536 + 16384, 16384, "whole fallocated block" },
		{ 3 * 65536 + 1, 1, "one byte far past the end" },
		{ 100, 40000, "long overwrite across three blocks" },
	};
	static char model[MODEL_SIZE];
	uint64_t ino = make_file("v", STORE_IO_STANDARD), size = 0;

	memset(model, 0, sizeof(model));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (i == 7) {
			/* Reserve two blocks past the end: rows of NULL. */
			ck_assert_int_eq(store_fallocate(st, ino, 0, 65536, 32768), 0);
			size = 65536 + 32768;
			assert_matches(ino, model, size, "fallocate");
		}
		write_both(ino, model, &size, steps[i].off, steps[i].len, (unsigned)i);
		assert_matches(ino, model, size, steps[i].what);
	}
	/* One check at the end (it reads every row; slow under valgrind):
	 * a wrong usage delta in any step leaves the sums off. */
	check_write_class_reports_the_claims_io_class();
	assert_consistent();
}
END_TEST

/* A new store has 8 KiB pages; a store made with 4 KiB pages keeps them
 * when this version opens it, and works. */
START_TEST(test_page_size_of_new_and_old_stores)
{
	struct store_space_stats space;
	char old_path[600], cmd[800], back[5];
	uint64_t ino;

	store_get_space_stats(st, &space);
	ck_assert_uint_eq(space.page_size, 8192);
	store_close(st);
	st = NULL;
	snprintf(old_path, sizeof(old_path), "%s/old.db", test_dir);
	snprintf(cmd, sizeof(cmd), "sqlite3 %s 'PRAGMA page_size = 4096; CREATE TABLE t(x); DROP TABLE t;'",
		 old_path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(store_open(old_path, 0, &st), 0);
	store_get_space_stats(st, &space);
	ck_assert_uint_eq(space.page_size, 4096);
	ino = make_file("old", STORE_IO_STANDARD);
	ck_assert_int_eq(store_write(st, ino, 20000, "hello", 5), 5);
	ck_assert_int_eq(store_sync(st, true), 0);
	ck_assert_int_eq(store_read(st, ino, 20000, 5, back), 5);
	ck_assert_mem_eq(back, "hello", 5);
	assert_consistent();
}
END_TEST

static Suite *store_write_suite(void)
{
	Suite *s = suite_create("store-write");
	TCase *tc = tcase_create("write");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_path);
	tcase_add_test(tc, test_page_size_of_new_and_old_stores);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(store_write_suite());
}
