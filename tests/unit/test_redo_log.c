/*
 * test_redo_log.c — the shared redo log: records come back in order with
 * their batch sequence, type and exact payload through a second mapping (the
 * next worker's); a reset empties it; a full log refuses a record whole; a
 * torn or damaged record stops the reader with -EBADMSG and hides nothing
 * before it; a descriptor that is not a log is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "redo_log.h"
#include "unit.h"

static void open_pair(int *ret_fd, struct redo_log **ret_a, struct redo_log **ret_b)
{
	int fd = redo_log_create();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(redo_log_open(fd, ret_a), 0);
	ck_assert_int_eq(redo_log_open(fd, ret_b), 0);
	*ret_fd = fd;
}

static bool append_str(struct redo_log *log, uint64_t seq, uint32_t type, const char *a, const char *b)
{
	struct iovec parts[2] = { { (void *)a, strlen(a) }, { (void *)b, strlen(b) } };

	return redo_log_append(log, seq, type, parts, 2);
}

static void expect(struct redo_log *log, size_t *cursor, uint64_t seq, uint32_t type, const char *payload)
{
	struct redo_record rec;

	ck_assert_int_eq(redo_log_next(log, cursor, &rec), 1);
	ck_assert_uint_eq(rec.batch_seq, seq);
	ck_assert_uint_eq(rec.type, type);
	ck_assert_uint_eq(rec.len, strlen(payload));
	ck_assert(memcmp(rec.payload, payload, rec.len) == 0);
}

START_TEST(test_records_in_order_across_mappings)
{
	struct redo_log *a, *b;
	struct redo_record rec;
	size_t cursor = 0;
	int fd;

	open_pair(&fd, &a, &b);
	ck_assert(!redo_log_armed(b)); /* a new log vouches for nothing */
	redo_log_arm(a);
	ck_assert(redo_log_armed(b));
	ck_assert(append_str(a, 7, 1, "write:", "hello"));
	ck_assert(append_str(a, 7, 2, "", "")); /* an empty payload is a record too */
	ck_assert(append_str(a, 8, 3, "mkdir ", "dir"));
	expect(b, &cursor, 7, 1, "write:hello");
	expect(b, &cursor, 7, 2, "");
	expect(b, &cursor, 8, 3, "mkdir dir");
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 0);
	/* committed: the next worker finds nothing */
	redo_log_reset(a);
	cursor = 0;
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 0);
	ck_assert(append_str(a, 9, 1, "again", ""));
	expect(b, &cursor, 9, 1, "again");
	redo_log_close(a);
	redo_log_close(b);
	close(fd);
}
END_TEST

START_TEST(test_full_log_refuses_whole_record)
{
	struct redo_log *a, *b;
	struct redo_record rec;
	size_t chunk = 1u << 20, cursor = 0, n = 0;
	char *data = malloc(chunk);
	int fd;

	ck_assert_ptr_nonnull(data);
	memset(data, 'x', chunk);
	open_pair(&fd, &a, &b);
	struct iovec part = { data, chunk };
	while (redo_log_append(a, 1, 1, &part, 1))
		n++;
	ck_assert_uint_ge(n * chunk, 4u << 20); /* a full batch of data fits */
	ck_assert_uint_lt(n * chunk, REDO_LOG_CAPACITY);
	/* what fitted is all there, and nothing of the refused record */
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 1);
		ck_assert_uint_eq(rec.len, chunk);
	}
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 0);
	/* the log is as full as payloads can make it: a marker still fits */
	struct iovec byte = { data, 1 };
	while (redo_log_append(a, 1, 1, &byte, 1))
		ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 1);
	ck_assert(redo_log_append(a, 1, 2, NULL, 0));
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 1);
	ck_assert_uint_eq(rec.type, 2);
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), 0);
	/* a payload larger than the log is refused without overflowing */
	struct iovec huge[2] = { { data, REDO_LOG_CAPACITY }, { data, SIZE_MAX - REDO_LOG_CAPACITY } };
	redo_log_reset(a);
	ck_assert(!redo_log_append(a, 1, 1, huge, 2));
	redo_log_close(a);
	redo_log_close(b);
	close(fd);
	free(data);
}
END_TEST

/* The bytes of the log's shared memory, as a writer or a bit flip leaves them. */
static unsigned char *raw_map(int fd, size_t *ret_size)
{
	size_t size = (size_t)lseek(fd, 0, SEEK_END);
	unsigned char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ck_assert_ptr_ne(map, MAP_FAILED);
	*ret_size = size;
	return map;
}

START_TEST(test_torn_tail_stops_reader)
{
	struct redo_log *a, *b;
	struct redo_record rec;
	size_t cursor = 0, size;
	int fd;

	open_pair(&fd, &a, &b);
	ck_assert(append_str(a, 4, 1, "first", ""));
	ck_assert(append_str(a, 4, 1, "second", ""));
	unsigned char *raw = raw_map(fd, &size);
	/* damage the second record's payload, as a torn or stray write would */
	unsigned char *hit = memmem(raw, size, "second", 6);
	ck_assert_ptr_nonnull(hit);
	hit[0] ^= 0x20;
	expect(b, &cursor, 4, 1, "first");
	size_t torn_at = cursor;
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), -EBADMSG);
	ck_assert_uint_eq(cursor, torn_at); /* the reader stays at the bad record */
	hit[0] ^= 0x20;
	expect(b, &cursor, 4, 1, "second");
	/* a record whose length claims more than `used` covers is torn too */
	unsigned char *len_at = hit - 24; /* the head precedes the payload */
	uint32_t len = 4096;
	memcpy(len_at, &len, sizeof(len));
	cursor = torn_at;
	ck_assert_int_eq(redo_log_next(b, &cursor, &rec), -EBADMSG);
	munmap(raw, size);
	redo_log_close(a);
	redo_log_close(b);
	close(fd);
}
END_TEST

START_TEST(test_not_a_log)
{
	struct redo_log *log = (struct redo_log *)&log;
	int fd = memfd_create("not-a-log", MFD_CLOEXEC);
	int pipefd[2];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(redo_log_open(fd, &log), -EBADMSG); /* empty: would SIGBUS if mapped blindly */
	ck_assert_int_eq(ftruncate(fd, 64 << 20), 0);
	ck_assert_int_eq(redo_log_open(fd, &log), -EBADMSG); /* long enough, no magic */
	ck_assert_ptr_eq(log, (struct redo_log *)&log); /* untouched on failure */
	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_lt(redo_log_open(pipefd[0], &log), 0);
	ck_assert_ptr_eq(log, (struct redo_log *)&log);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
}
END_TEST

static Suite *redo_log_suite(void)
{
	Suite *s = suite_create("redo_log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_records_in_order_across_mappings);
	tcase_add_test(tc, test_full_log_refuses_whole_record);
	tcase_add_test(tc, test_torn_tail_stops_reader);
	tcase_add_test(tc, test_not_a_log);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(redo_log_suite());
}
