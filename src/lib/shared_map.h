/*
 * shared_map.h — a memfd a supervisor holds and its workers map: created
 * at a fixed size with a header written, and mapped only when the file is
 * as long as the mapping (a shorter one would SIGBUS on first touch).
 * Used by the record of uncommitted changes and the redo log.
 */
#ifndef CLAIMFS_SHARED_MAP_H
#define CLAIMFS_SHARED_MAP_H

#include <stddef.h>

/* A memfd (close-on-exec) named name of size bytes (unwritten pages stay
 * unallocated) starting with header_len bytes of header; the descriptor,
 * or -errno. */
int shared_map_create(const char *name, size_t size, const void *header, size_t header_len);
/* mmap size bytes of fd read-write and shared; -EBADMSG if fd is shorter. */
int shared_map_open(int fd, size_t size, void **ret_map);

#endif
