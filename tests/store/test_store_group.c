/*
 * test_store_group.c — store_volume_clone_group on a real SQLite file: the
 * copies of a group are one instant of all sources while a writer keeps two
 * volumes in lockstep from another thread, and a failing member leaves no
 * copy. Check, TAP on stdout.
 */
#include "store.h"
#include "store_fixture.h"
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GROUP_ROUNDS 25
#define GROUP_STAMP 12 /* bytes of one counter value, "%011u\n" */

#define GROUP_TEMPLATE P_tmpdir "/claimfs-store-group-XXXXXX"
static char test_dir[] = GROUP_TEMPLATE;
static struct store *st;
static const struct store_caller root_caller = { 0, 0 };

static void setup(void)
{
	char path[600];

	store_fixture_open(test_dir, path, sizeof(path), &st);
}

static void teardown(void)
{
	store_fixture_close(test_dir, GROUP_TEMPLATE, &st);
}

/* A bound volume with one empty file "f"; returns the file's inode. */
static uint64_t group_volume(const char *name)
{
	struct store_volume v;
	struct store_attr a;

	ck_assert_int_eq(store_volume_create(st, name, 16 << 20, 0777, &v), 0);
	ck_assert_int_eq(store_volume_bind(st, name, "default", name), 0);
	ck_assert_int_eq(store_mknod(st, v.root_ino, "f", S_IFREG | 0644, 0, &root_caller, &a), 0);
	return a.ino;
}

/* The counter in a copy's file "f" (0 when it was still empty). */
static unsigned group_read(const struct store_volume *copy)
{
	char text[GROUP_STAMP + 1] = "";
	struct store_attr a;

	ck_assert_int_eq(store_lookup(st, copy->root_ino, "f", &a), 0);
	if (store_read(st, a.ino, 0, GROUP_STAMP, text) != GROUP_STAMP)
		return 0;
	return (unsigned)strtoul(text, NULL, 10);
}

struct group_writer {
	uint64_t a, b;
	atomic_bool stop;
	atomic_uint last; /* the last n written to both */
};

/* Write n to A, then n to B, n = 1, 2, ...: B never runs ahead of A, and
 * A is at most one ahead of B. */
static void *group_write(void *arg)
{
	struct group_writer *w = arg;
	char text[GROUP_STAMP + 1];

	for (unsigned n = 1; !atomic_load(&w->stop); n++) {
		snprintf(text, sizeof(text), "%011u\n", n);
		if (store_write(st, w->a, 0, text, GROUP_STAMP) != GROUP_STAMP ||
		    store_write(st, w->b, 0, text, GROUP_STAMP) != GROUP_STAMP)
			break;
		atomic_store(&w->last, n);
	}
	return NULL;
}

START_TEST(test_group_is_one_instant)
{
	struct group_writer w = { .a = group_volume("a"), .b = group_volume("b") };
	struct store_volume copies[2];
	unsigned seen_moving = 0, prev_a = 0;
	pthread_t writer;
	char names[2][32];

	ck_assert_int_eq(pthread_create(&writer, NULL, group_write, &w), 0);
	for (int i = 0; i < GROUP_ROUNDS; i++) {
		struct store_clone group[2] = {
			{ "a", names[0], 16 << 20 },
			{ "b", names[1], 16 << 20 },
		};
		unsigned in_a, in_b;

		snprintf(names[0], sizeof(names[0]), "a-copy-%d", i);
		snprintf(names[1], sizeof(names[1]), "b-copy-%d", i);
		ck_assert_int_eq(store_volume_clone_group(st, group, 2, copies), 0);
		in_a = group_read(&copies[0]);
		in_b = group_read(&copies[1]);
		/* Written A then B: one instant holds A == B or A == B + 1. */
		ck_assert_msg(in_a == in_b || in_a == in_b + 1,
			      "round %d: copy of A holds %u, copy of B %u", i, in_a, in_b);
		seen_moving += in_a != prev_a;
		prev_a = in_a;
		/* The store lock is not fair: let the writer through between rounds. */
		for (unsigned want = atomic_load(&w.last) + 2; atomic_load(&w.last) < want;)
			sched_yield();
	}
	atomic_store(&w.stop, true);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	/* The writer really ran between the rounds, or the check proved nothing. */
	ck_assert_uint_gt(seen_moving, GROUP_ROUNDS / 2);
	ck_assert_uint_gt(atomic_load(&w.last), 0);
}
END_TEST

START_TEST(test_failing_member_leaves_nothing)
{
	struct store_clone group[3] = {
		{ "a", "a-copy", 16 << 20 },
		{ "b", "b-copy", 16 << 20 },
		{ "missing", "c-copy", 16 << 20 },
	};
	struct store_volume copies[3], v;

	group_volume("a");
	group_volume("b");
	memset(copies, 0x5a, sizeof(copies));
	ck_assert_int_eq(store_volume_clone_group(st, group, 3, copies), -ENOENT);
	ck_assert_int_eq(store_volume_get(st, "a-copy", &v), -ENOENT);
	ck_assert_int_eq(store_volume_get(st, "b-copy", &v), -ENOENT);
	ck_assert_uint_eq(((unsigned char *)copies)[0], 0x5a); /* untouched on failure */
	group[2].src_name = "a";
	group[2].name = "a-copy"; /* the same name twice: -EEXIST, again nothing */
	ck_assert_int_eq(store_volume_clone_group(st, group, 3, NULL), -EEXIST);
	ck_assert_int_eq(store_volume_get(st, "b-copy", &v), -ENOENT);
	group[2].name = "c-copy";
	ck_assert_int_eq(store_volume_clone_group(st, group, 3, copies), 0);
	ck_assert_int_eq(store_volume_get(st, "c-copy", &v), 0);
	ck_assert_uint_eq(copies[2].id, v.id);
	ck_assert_int_eq(store_volume_clone_group(st, group, 0, NULL), -EINVAL);
}
END_TEST

static Suite *store_group_suite(void)
{
	Suite *s = suite_create("store_group");
	TCase *tc = tcase_create("clone_group");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_group_is_one_instant);
	tcase_add_test(tc, test_failing_member_leaves_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(store_group_suite());
}
