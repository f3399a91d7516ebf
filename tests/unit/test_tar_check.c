/*
 * test_tar_check.c — the completeness check of a tar stream: a whole tar
 * passes (read in pieces of any size, every byte handed on once); one cut
 * between two entries (no end block), cut inside an entry's data, garbage
 * and an empty stream are -EBADMSG with a reason; the reader's own error
 * comes back as it was.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tar_check.h"
#include "unit.h"

#define TAR_MAX (256 * 1024)

struct feed {
	const char *data;
	size_t len, pos;
	size_t piece; /* the most read hands over at once */
	int fail_at;  /* > 0: fail with -EIO once pos reaches it */
};

static ssize_t feed_read(void *ud, void *buf, size_t size)
{
	struct feed *f = ud;
	size_t n = f->len - f->pos;

	if (f->fail_at > 0 && f->pos >= (size_t)f->fail_at)
		return -EIO;
	n = n < size ? n : size;
	n = n < f->piece ? n : f->piece;
	memcpy(buf, f->data + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

/* A pax tar of a directory and two files (the second 5000 bytes), with no
 * padding to a record size: it ends with exactly the 1024-byte end blocks. */
static size_t make_tar(char *out)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	static char data[5000];
	size_t used = 0;

	memset(data, 'x', sizeof(data));
	ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_memory(a, out, TAR_MAX, &used), ARCHIVE_OK);
	archive_entry_set_pathname(e, "dir");
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0755);
	ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
	for (int i = 0; i < 2; i++) {
		size_t size = i == 0 ? 6 : sizeof(data);

		archive_entry_clear(e);
		archive_entry_set_pathname(e, i == 0 ? "dir/a" : "dir/b");
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		ck_assert_int_eq(archive_write_data(a, i == 0 ? "hello\n" : data, size), (la_ssize_t)size);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(a);
	return used;
}

static int check(const char *data, size_t len, size_t piece, int fail_at,
		 struct tar_check_result *result, char *why, size_t why_size, size_t *ret_read)
{
	struct feed f = { .data = data, .len = len, .piece = piece, .fail_at = fail_at };
	int r = tar_check_stream(feed_read, &f, result, why, why_size);

	*ret_read = f.pos;
	return r;
}

START_TEST(test_whole_tar_passes)
{
	static char tar[TAR_MAX];
	static const size_t pieces[] = { 1, 7, 512, 100000 };
	size_t len = make_tar(tar), got;
	char why[256];

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct tar_check_result result = { 0 };

		ck_assert_int_eq(check(tar, len, pieces[i], 0, &result, why, sizeof(why), &got), 0);
		ck_assert_uint_eq(result.entries, 3);
		ck_assert_uint_eq(result.bytes, len);
		ck_assert_uint_eq(got, len); /* every byte went through read */
	}
}
END_TEST

START_TEST(test_cut_tars_fail)
{
	static char tar[TAR_MAX];
	size_t len = make_tar(tar), got;
	struct tar_check_result result = { 0 };
	char why[256];

	/* Cut between the last entry and the end blocks: libarchive alone takes it. */
	ck_assert_int_eq(check(tar, len - 1024, 4096, 0, &result, why, sizeof(why), &got), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "without its end block"));
	/* Cut inside the second file's data. */
	ck_assert_int_eq(check(tar, len - 1024 - 3000, 4096, 0, &result, why, sizeof(why), &got),
			 -EBADMSG);
	ck_assert_ptr_nonnull(strstr(why, "damaged"));
	ck_assert_int_eq(check("not a tar at all, not at all", 28, 4096, 0, &result, why,
			       sizeof(why), &got),
			 -EBADMSG);
	ck_assert_int_eq(check("", 0, 4096, 0, &result, why, sizeof(why), &got), -EBADMSG);
	ck_assert_uint_eq(result.entries, 0); /* untouched on failure */
}
END_TEST

START_TEST(test_read_error_comes_back)
{
	static char tar[TAR_MAX];
	size_t len = make_tar(tar), got;
	struct tar_check_result result = { 0 };
	char why[256];

	ck_assert_int_eq(check(tar, len, 512, 2048, &result, why, sizeof(why), &got), -EIO);
	ck_assert_ptr_nonnull(strstr(why, strerror(EIO)));
}
END_TEST

static Suite *tar_check_suite(void)
{
	Suite *s = suite_create("tar_check");
	TCase *tc = tcase_create("stream");

	tcase_add_test(tc, test_whole_tar_passes);
	tcase_add_test(tc, test_cut_tars_fail);
	tcase_add_test(tc, test_read_error_comes_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(tar_check_suite());
}
