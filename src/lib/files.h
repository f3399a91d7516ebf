/*
 * files.h — the few file chores the programs share: reading a small file or
 * a token, creating directories, replacing a file atomically. None is any
 * program's own concern; all return 0 or a negative errno and leave their
 * ret_* outputs untouched on failure.
 */
#ifndef CLAIMFS_LIB_FILES_H
#define CLAIMFS_LIB_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* The whole of path, at most max bytes (-EFBIG beyond), as a malloc'd
 * NUL-terminated string in *ret_text. */
int files_read(const char *path, size_t max, char **ret_text);

/* A bearer token: the first line of path without its trailing blanks, into
 * buf of size. -ENODATA if the line is empty or starts with a blank. */
int files_read_token(const char *path, char *buf, size_t size);

/* mkdir -p: every missing directory of path, with mode. */
int files_mkdirs(const char *path, mode_t mode);

/* files_mkdirs() of the directory holding file ("" and "/" need none). */
int files_make_parent_dirs(const char *file, mode_t mode);

/* fsync the directory holding file, so that a rename or create in it
 * survives power loss. */
int files_sync_parent_dir(const char *file);

/* Write all size bytes of data to fd (short writes and EINTR continued). */
int files_write_all(int fd, const void *data, size_t size);

/* Replace path with text: write "path.tmp", then rename it over path, so a
 * reader sees the old file or the whole new one. */
int files_write_atomic(const char *path, const char *text);

#endif
