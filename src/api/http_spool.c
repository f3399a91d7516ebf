/*
 * http_spool.c — spool files for large request bodies (see http_spool.h).
 *
 * Owns: which requests spool, and the temporary files. A spool file is
 * created with O_TMPFILE, so it has no name and vanishes with its last
 * descriptor whatever happens to the daemon; http.c closes it when the
 * request is over.
 */
#include "http_spool.h"

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool http_spool_wanted(const char *method, const char *url)
{
	static const char suffix[] = "/import";
	size_t len = strlen(url);

	return strcmp(method, "POST") == 0 && strstr(url, "/persistentvolumeclaims/") != NULL &&
	       len > sizeof(suffix) - 1 && strcmp(url + len - (sizeof(suffix) - 1), suffix) == 0;
}

int http_spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir != NULL && dir[0] != '\0' ? dir : "/var/tmp",
		      O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd >= 0 ? fd : -errno;
}

int http_spool_write(int fd, const char *data, size_t size)
{
	return files_write_all(fd, data, size);
}
