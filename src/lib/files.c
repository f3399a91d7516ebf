/*
 * files.c — small file chores shared by claimfsd, claimfs-csi and
 * claimfs-harness (see files.h).
 *
 * Invariants: every descriptor is opened close-on-exec (the harness forks
 * while these run) and closed before returning; buffers are bounded by the
 * caller's max or PATH_MAX.
 */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* See files.h. */
int files_read(const char *path, size_t max, char **ret_text)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL, *grown;
	size_t len = 0, cap = 0, n;
	int r = 0;

	if (f == NULL)
		return -errno;
	do {
		if (len + 4096 + 1 > cap) {
			cap = len + 8192;
			if (cap > max + 8192) {
				r = -EFBIG;
				goto out;
			}
			grown = realloc(buf, cap);
			if (grown == NULL) {
				r = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	if (ferror(f))
		r = -EIO;
	else if (len > max)
		r = -EFBIG;
out:
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret_text = buf;
	return 0;
}

/* See files.h. */
int files_read_token(const char *path, char *buf, size_t size)
{
	char line[4096];
	FILE *f = fopen(path, "re");
	size_t len;

	if (f == NULL)
		return -errno;
	if (fgets(line, (int)sizeof(line), f) == NULL) {
		fclose(f);
		return -ENODATA;
	}
	fclose(f);
	len = strcspn(line, "\r\n");
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0 || line[0] == ' ' || line[0] == '\t')
		return -ENODATA;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return 0;
}

/* See files.h. */
int files_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* See files.h. */
int files_make_parent_dirs(const char *file, mode_t mode)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", file);
	char *slash;

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	slash = strrchr(buf, '/');
	if (slash == NULL || slash == buf)
		return 0;
	*slash = '\0';
	return files_mkdirs(buf, mode);
}

/* See files.h. */
int files_sync_parent_dir(const char *file)
{
	char buf[PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "%s", file), fd, r = 0;
	char *slash;

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	slash = strrchr(buf, '/');
	if (slash == NULL)
		snprintf(buf, sizeof(buf), ".");
	else
		slash[slash == buf ? 1 : 0] = '\0';
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* See files.h. */
int files_write_all(int fd, const void *data, size_t size)
{
	const char *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* See files.h. */
int files_write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	FILE *f;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path), r = 0;

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (f == NULL)
		return -errno;
	if (fputs(text, f) == EOF)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	return r;
}
