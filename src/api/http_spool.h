/*
 * http_spool.h — request bodies too large to hold in memory: a tar for
 * POST .../persistentvolumeclaims/NAME/import is written to an unlinked
 * temporary file as it arrives (up to HTTP_SPOOL_MAX bytes) instead of the
 * max_body memory buffer every other request gets.
 */
#ifndef CLAIMFS_HTTP_SPOOL_H
#define CLAIMFS_HTTP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

/* The largest spooled body: a claim's tar. */
#define HTTP_SPOOL_MAX (1024ULL * 1024 * 1024 * 1024)

/* Does this request's body go to a spool file? */
bool http_spool_wanted(const char *method, const char *url);
/* An unlinked, read-write temporary file in $TMPDIR (or /var/tmp): its
 * descriptor, or a negative errno. */
int http_spool_open(void);
/* Append size bytes; a negative errno (ENOSPC: the host's disk is full). */
int http_spool_write(int fd, const char *data, size_t size);

#endif
