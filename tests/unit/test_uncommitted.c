/*
 * test_uncommitted.c — the shared record of acknowledged but uncommitted
 * changes: a batch's inodes are pending until it commits, a dead writer's
 * pending inodes become lost on take-over and stay lost until reported,
 * across several take-overs; the record is shared through its descriptor.
 */
#include <errno.h>
#include <unistd.h>

#include "uncommitted.h"
#include "unit.h"

/* A fresh record and a second mapping of it, as the next worker would have. */
static void open_pair(int *ret_fd, struct uncommitted **ret_a, struct uncommitted **ret_b)
{
	int fd = uncommitted_create();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(uncommitted_open(fd, ret_a), 0);
	ck_assert_int_eq(uncommitted_open(fd, ret_b), 0);
	*ret_fd = fd;
}

START_TEST(test_committed_batch_leaves_nothing)
{
	struct uncommitted *a, *b;
	const uint64_t *lost;
	int fd;

	open_pair(&fd, &a, &b);
	ck_assert(uncommitted_note(a, 5));
	ck_assert(uncommitted_note(a, 7));
	uncommitted_committed(a);
	ck_assert_uint_eq(uncommitted_take_over(b, &lost), 0);
	uncommitted_close(a);
	uncommitted_close(b);
	close(fd);
}
END_TEST

START_TEST(test_pending_becomes_lost_until_reported)
{
	struct uncommitted *a, *b, *c;
	const uint64_t *lost;
	int fd;

	open_pair(&fd, &a, &b);
	ck_assert(uncommitted_note(a, 5));
	ck_assert(uncommitted_note(a, 7));
	ck_assert(uncommitted_note(a, 9));
	/* a dies; b takes over: all three are lost */
	ck_assert_uint_eq(uncommitted_take_over(b, &lost), 3);
	ck_assert_uint_eq(lost[0], 5);
	ck_assert_uint_eq(lost[1], 7);
	ck_assert_uint_eq(lost[2], 9);
	uncommitted_reported(b, 7);
	ck_assert(uncommitted_note(b, 11));
	/* b dies before reporting 5 and 9: c still knows them, and 11 */
	ck_assert_int_eq(uncommitted_open(fd, &c), 0);
	size_t n = uncommitted_take_over(c, &lost);
	ck_assert_uint_eq(n, 3);
	int seen5 = 0, seen9 = 0, seen11 = 0;
	for (size_t i = 0; i < n; i++) {
		seen5 += lost[i] == 5;
		seen9 += lost[i] == 9;
		seen11 += lost[i] == 11;
	}
	ck_assert(seen5 == 1 && seen9 == 1 && seen11 == 1);
	uncommitted_reported(c, 5);
	uncommitted_reported(c, 9);
	uncommitted_reported(c, 11);
	ck_assert_uint_eq(uncommitted_take_over(c, &lost), 0);
	uncommitted_close(a);
	uncommitted_close(b);
	uncommitted_close(c);
	close(fd);
}
END_TEST

START_TEST(test_full_list_says_so)
{
	struct uncommitted *a, *b;
	int fd;

	open_pair(&fd, &a, &b);
	for (uint64_t ino = 1; ino <= UNCOMMITTED_CAPACITY; ino++)
		ck_assert(uncommitted_note(a, ino));
	ck_assert(!uncommitted_note(a, UNCOMMITTED_CAPACITY + 1));
	uncommitted_committed(a);
	ck_assert(uncommitted_note(a, 1));
	uncommitted_close(a);
	uncommitted_close(b);
	close(fd);
}
END_TEST

START_TEST(test_not_a_record)
{
	struct uncommitted *u = (struct uncommitted *)&u;
	int pipefd[2];

	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_lt(uncommitted_open(pipefd[0], &u), 0);
	ck_assert_ptr_eq(u, (struct uncommitted *)&u); /* untouched on failure */
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

static Suite *uncommitted_suite(void)
{
	Suite *s = suite_create("uncommitted");
	TCase *tc = tcase_create("record");

	tcase_add_test(tc, test_committed_batch_leaves_nothing);
	tcase_add_test(tc, test_pending_becomes_lost_until_reported);
	tcase_add_test(tc, test_full_list_says_so);
	tcase_add_test(tc, test_not_a_record);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(uncommitted_suite());
}
