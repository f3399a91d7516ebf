/*
 * tar_check.h — is a byte stream one complete tar? claimfsd --export checks
 * every export with it as it streams, before reporting it done.
 *
 * libarchive reads the stream (any tar format), every entry's data to its
 * end; on top of what libarchive checks, the end-of-archive block must be
 * there: a claim's export that fails midway ends the stream short, and a
 * stream cut exactly between two entries is otherwise a valid-looking tar
 * (libarchive accepts one without the end block, as some writers omit it;
 * claimfsd's never does).
 */
#ifndef CLAIMFS_LIB_TAR_CHECK_H
#define CLAIMFS_LIB_TAR_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Up to size bytes of the stream into buf: how many, 0 at its end, or a
 * negative errno. */
typedef ssize_t (*tar_check_read_fn)(void *ud, void *buf, size_t size);

struct tar_check_result {
	uint64_t entries; /* headers read, the root "." included */
	uint64_t bytes;   /* of the whole stream */
};

/* Read the stream through read to its very end (bytes after the end block
 * too), each byte once and in order, so read may copy it elsewhere as it
 * goes. 0 with ret_result if it is one complete tar; -EBADMSG with a
 * message in why (why_size bytes) if not; read's own errors as it
 * returned them (why says so too); -ENOMEM. */
int tar_check_stream(tar_check_read_fn read, void *ud, struct tar_check_result *ret_result,
		     char *why, size_t why_size);

#endif
