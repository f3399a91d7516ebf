/*
 * tar_check.c — the completeness check of a tar stream (see tar_check.h).
 *
 * How the end block is told from a stream cut between entries: each entry's
 * data is skipped to its end (archive_read_data_skip consumes the data and
 * its padding), so the next header starts exactly at the consumed position;
 * libarchive consumes the 512-byte zero block when it finds the end and
 * consumes nothing when the stream simply stops. So the final
 * archive_read_next_header must move the consumed position by at least one
 * block.
 */
#include "tar_check.h"

#include <archive.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAR_CHECK_BLOCK 512
#define TAR_CHECK_BUFFER (64 * 1024)

struct tar_check {
	tar_check_read_fn read;
	void *ud;
	int read_error; /* the reader's own failure, 0: none */
	uint64_t bytes;
	char buf[TAR_CHECK_BUFFER];
};

/* libarchive's read callback: the next bytes of the stream. */
static la_ssize_t tar_check_pull(struct archive *archive, void *ud, const void **ret_buf)
{
	struct tar_check *c = ud;
	ssize_t n = c->read(c->ud, c->buf, sizeof(c->buf));

	if (n < 0) {
		c->read_error = (int)n;
		archive_set_error(archive, (int)-n, "%s", strerror((int)-n));
		return -1;
	}
	c->bytes += (uint64_t)n;
	*ret_buf = c->buf;
	return n;
}

__attribute__((format(printf, 4, 5))) static int tar_check_fail(char *why, size_t why_size, int r,
								 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
	return r;
}

/* Every entry, each skipped to its end; then the end block. */
static int tar_check_entries(struct tar_check *c, struct archive *archive, uint64_t *ret_entries,
			     char *why, size_t why_size)
{
	struct archive_entry *entry;
	uint64_t entries = 0;
	la_int64_t before;
	int s;

	for (;;) {
		before = archive_filter_bytes(archive, 0);
		s = archive_read_next_header(archive, &entry);
		if (s == ARCHIVE_EOF)
			break;
		if (s >= ARCHIVE_WARN && archive_read_data_skip(archive) >= ARCHIVE_WARN) {
			entries++;
			continue;
		}
		if (c->read_error != 0)
			return tar_check_fail(why, why_size, c->read_error,
					      "reading the stream failed after %llu entries: %s",
					      (unsigned long long)entries, strerror(-c->read_error));
		return tar_check_fail(why, why_size, -EBADMSG,
				      "the tar is damaged after %llu entries: %s",
				      (unsigned long long)entries,
				      archive_error_string(archive) ?: "read error");
	}
	if (entries == 0)
		return tar_check_fail(why, why_size, -EBADMSG, "the stream holds no tar entry");
	if (archive_filter_bytes(archive, 0) - before < TAR_CHECK_BLOCK)
		return tar_check_fail(why, why_size, -EBADMSG,
				      "the tar ends after %llu entries without its end block: "
				      "the stream was cut short",
				      (unsigned long long)entries);
	*ret_entries = entries;
	return 0;
}

/* See tar_check.h. */
int tar_check_stream(tar_check_read_fn read, void *ud, struct tar_check_result *ret_result,
		     char *why, size_t why_size)
{
	struct tar_check *c = calloc(1, sizeof(*c));
	struct archive *archive = archive_read_new();
	uint64_t entries = 0;
	ssize_t n;
	int r = -ENOMEM;

	if (c == NULL || archive == NULL)
		goto out;
	c->read = read;
	c->ud = ud;
	if (archive_read_support_format_tar(archive) != ARCHIVE_OK ||
	    archive_read_open(archive, c, NULL, tar_check_pull, NULL) != ARCHIVE_OK) {
		r = tar_check_fail(why, why_size, c->read_error ?: -EBADMSG, "not a tar: %s",
				   archive_error_string(archive) ?: "unknown format");
		goto out;
	}
	r = tar_check_entries(c, archive, &entries, why, why_size);
	/* The rest of the stream (the record's padding) still goes through read. */
	while (r == 0 && (n = read(ud, c->buf, sizeof(c->buf))) != 0) {
		if (n < 0)
			r = tar_check_fail(why, why_size, (int)n, "%s", strerror((int)-n));
		else
			c->bytes += (uint64_t)n;
	}
	if (r == 0)
		*ret_result = (struct tar_check_result){ .entries = entries, .bytes = c->bytes };
out:
	archive_read_free(archive);
	free(c);
	return r;
}
