/*
 * verdict.h — is every replica's file consistent with what its clients saw?
 *
 * Per replica, with d = count on disk − count before the run:
 *   acked ≤ d ≤ acked + unacknowledged in flight (at kill or failed),
 *   the highest count the app ever answered ≤ the count on disk,
 *   nobody but the replica itself wrote its file (the built-in apps sign it
 *   "COUNT POD"), and while the run went on the file never held more visits
 *   than had been sent to that replica,
 *   with --scale-cycle: the ordinal came back to exactly the data it left,
 *   with --supervise (the replicas are never restarted for a daemon kill):
 *   the replica saw no error at all — no failed system call logged by its
 *   app (syscall_errors) and no visit answered with an error or not at all.
 */
#ifndef CLAIMFS_HARNESS_VERDICT_H
#define CLAIMFS_HARNESS_VERDICT_H

#include "replica.h"

#include <stdbool.h>
#include <stddef.h>

/* Read "COUNT[ WRITER]" from PATH. A missing file reads as count 0 and
 * returns -ENOENT; unparseable content -EBADMSG; else 0 or -errno. */
int verdict_read_visits(const char *path, long *ret_count, char *writer, size_t writer_cap);

/* Check every running replica's file now (controller thread, daemon up). */
void verdict_sample(struct replica *replicas, unsigned count);

/* Read the final files and fill ok/verdict of each replica (NO_ERRORS: the
 * --supervise rule). Returns the number of replicas that failed. */
unsigned verdict_judge(struct replica *replicas, unsigned count, bool scale_cycle, bool no_errors);

#endif
