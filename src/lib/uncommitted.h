/*
 * uncommitted.h — files with acknowledged but uncommitted changes, in shared
 * memory that survives the worker process (see uncommitted.c).
 */
#ifndef CLAIMFS_LIB_UNCOMMITTED_H
#define CLAIMFS_LIB_UNCOMMITTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries per list: more inodes than one batch can change (the store
 * commits a batch early when the list is full, see store_set_batch_hooks). */
#define UNCOMMITTED_CAPACITY 65536u

struct uncommitted;

/* A new, empty record (a memfd, close-on-exec), for the supervisor: fd or -errno. */
int uncommitted_create(void);
/* Map the record fd (the fd stays the caller's). -EBADMSG if it is not one. */
int uncommitted_open(int fd, struct uncommitted **ret_u);
/* Unmap and free. Accepts NULL. */
void uncommitted_close(struct uncommitted *u);
/* ino has changes in the open batch; false when the list is full. */
bool uncommitted_note(struct uncommitted *u, uint64_t ino);
/* The open batch committed: nothing is pending any more. */
void uncommitted_committed(struct uncommitted *u);
/* At the start of a worker: what the previous one left pending is lost.
 * *ret_lost: every lost inode not yet reported (may repeat one); the count. */
size_t uncommitted_take_over(struct uncommitted *u, const uint64_t **ret_lost);
/* EIO was reported for ino: it leaves the lost list. */
void uncommitted_reported(struct uncommitted *u, uint64_t ino);

#endif
