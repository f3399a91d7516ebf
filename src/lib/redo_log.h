/*
 * redo_log.h — a log of acknowledged but uncommitted store operations, in
 * shared memory that survives the worker process (see redo_log.c).
 */
#ifndef CLAIMFS_LIB_REDO_LOG_H
#define CLAIMFS_LIB_REDO_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Bytes of records the log holds: a full batch of written data
 * (STORE_TXN_MAX_BYTES, 4 MiB) and its operations fit many times over; a
 * writer that finds it full commits its batch before replying. The memfd is
 * sparse: pages are only allocated when records reach them. */
#define REDO_LOG_CAPACITY (32u << 20)

struct redo_log;

/* One record as read back: payload points into the shared mapping and is
 * valid until the log is reset or closed. */
struct redo_record {
	uint64_t batch_seq; /* the batch the operation belonged to */
	uint32_t type; /* the writer's operation code */
	uint32_t len; /* payload bytes */
	const void *payload;
};

/* A new, empty log (a memfd, close-on-exec), for the supervisor: fd or -errno. */
int redo_log_create(void);
/* Map the log fd (the fd stays the caller's). -EBADMSG if it is not one. */
int redo_log_open(int fd, struct redo_log **ret_log);
/* Unmap and free. Accepts NULL. */
void redo_log_close(struct redo_log *log);
/* Append one record whose payload is the concatenation of parts[0..nparts).
 * false (and nothing appended) if it does not fit; a record with an empty
 * payload always fits once after the last one with a payload. */
bool redo_log_append(struct redo_log *log, uint64_t batch_seq, uint32_t type, const struct iovec *parts,
		     int nparts);
/* The end of the log now, to go back to (redo_log_truncate). */
uint64_t redo_log_mark(const struct redo_log *log);
/* Forget the records appended since mark (an operation rolled back). */
void redo_log_truncate(struct redo_log *log, uint64_t mark);
/* From now on every acknowledged operation is logged (or marked opaque). */
void redo_log_arm(struct redo_log *log);
/* Whether a writer armed the log: only then does its content (even empty)
 * describe everything a dead writer left uncommitted. */
bool redo_log_armed(const struct redo_log *log);
/* Every record is committed: empty the log. */
void redo_log_reset(struct redo_log *log);
/* Read the record at *cursor (start with 0) and advance *cursor past it.
 * 1 and *ret_rec filled; 0 at the end; -EBADMSG at a record that is torn or
 * corrupt (its checksum or length is wrong): nothing from there on is valid. */
int redo_log_next(struct redo_log *log, size_t *cursor, struct redo_record *ret_rec);

#endif
