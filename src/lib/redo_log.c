/*
 * redo_log.c — the operations a worker acknowledged and has not committed
 * yet, each recorded with its exact inputs and results, in shared memory
 * that outlives the process writing it (claimfsd --supervise: a memfd the
 * supervisor holds, mapped by each worker). A new worker replays what a dead
 * one left, so acknowledged changes survive the worker's death.
 *
 * Layout: a header (magic, capacity, used) and then records, each a head
 * (payload length, CRC-32 of the rest of the head and the payload, batch
 * sequence, operation type) and the payload, padded to 8 bytes.
 * Invariants:
 *   - `used` covers whole records only: a record is written first and then
 *     `used` moves past it (release order), so a writer killed in the middle
 *     of an append leaves a log whose last covered record is whole;
 *   - each record carries its checksum as well, so a reader also stops at a
 *     record damaged in any other way rather than replaying garbage;
 *   - `armed` is set once a writer logs into it: an empty log that is not
 *     armed says nothing (the previous writer may have been a binary that
 *     does not log), an empty armed log says nothing was uncommitted;
 *   - a record with a payload leaves room for one empty record after it, so
 *     a writer can always mark that something did not fit;
 *   - one writer at a time (the store lock in the worker; workers of one
 *     supervisor never overlap); readers run before the next writer starts.
 * The payload's format is the writer's (the store's redo records); this file
 * only frames, checks and returns it.
 */
#include "redo_log.h"

#include "shared_map.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define REDO_LOG_MAGIC 0x63667272u /* "cfrr" */
#define REDO_LOG_ALIGN 8u

struct redo_shared {
	uint32_t magic;
	_Atomic uint32_t armed; /* a writer has logged into it (redo_log_arm) */
	uint64_t capacity;
	_Atomic uint64_t used;
	uint64_t reserved[5]; /* the records start on a 64-byte line */
	unsigned char records[];
};

struct redo_head {
	uint32_t len;
	uint32_t crc; /* over the head from batch_seq on, then the payload */
	uint64_t batch_seq;
	uint32_t type;
	uint32_t pad;
};

struct redo_log {
	struct redo_shared *shared;
	size_t map_size;
};

static size_t redo_log_map_size(void)
{
	return sizeof(struct redo_shared) + REDO_LOG_CAPACITY;
}

static size_t redo_log_padded(size_t len)
{
	return (len + REDO_LOG_ALIGN - 1) & ~(size_t)(REDO_LOG_ALIGN - 1);
}

int redo_log_create(void)
{
	struct redo_shared header = { .magic = REDO_LOG_MAGIC, .capacity = REDO_LOG_CAPACITY };

	return shared_map_create("claimfs-redo", redo_log_map_size(), &header, sizeof(header));
}

int redo_log_open(int fd, struct redo_log **ret_log)
{
	struct redo_log *log = calloc(1, sizeof(*log));
	void *map;
	int r;

	if (!log)
		return -ENOMEM;
	log->map_size = redo_log_map_size();
	r = shared_map_open(fd, log->map_size, &map);
	if (r < 0) {
		free(log);
		return r;
	}
	log->shared = map;
	if (log->shared->magic != REDO_LOG_MAGIC || log->shared->capacity != REDO_LOG_CAPACITY) {
		redo_log_close(log);
		return -EBADMSG;
	}
	*ret_log = log;
	return 0;
}

void redo_log_close(struct redo_log *log)
{
	if (!log)
		return;
	munmap(log->shared, log->map_size);
	free(log);
}

/* The checksum of a head (from batch_seq on) and its payload. */
static uint32_t redo_log_crc(const struct redo_head *head, const struct iovec *parts, int nparts)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, (const Bytef *)&head->batch_seq,
		    (uInt)(sizeof(*head) - offsetof(struct redo_head, batch_seq)));
	for (int i = 0; i < nparts; i++)
		crc = crc32(crc, parts[i].iov_base, (uInt)parts[i].iov_len);
	return (uint32_t)crc;
}

bool redo_log_append(struct redo_log *log, uint64_t batch_seq, uint32_t type, const struct iovec *parts,
		     int nparts)
{
	struct redo_shared *sh = log->shared;
	uint64_t used = atomic_load_explicit(&sh->used, memory_order_relaxed);
	size_t len = 0;

	for (int i = 0; i < nparts; i++) {
		if (parts[i].iov_len > REDO_LOG_CAPACITY - len)
			return false;
		len += parts[i].iov_len;
	}
	size_t need = sizeof(struct redo_head) + redo_log_padded(len);
	/* Room for one empty record is kept for the end: a writer whose record
	 * did not fit can still say so (an empty marker). */
	size_t reserve = len > 0 ? sizeof(struct redo_head) : 0;
	if (need + reserve > sh->capacity - used)
		return false;
	struct redo_head head = { .len = (uint32_t)len, .batch_seq = batch_seq, .type = type };
	head.crc = redo_log_crc(&head, parts, nparts);
	unsigned char *at = sh->records + used;
	memcpy(at, &head, sizeof(head));
	at += sizeof(head);
	for (int i = 0; i < nparts; i++) {
		memcpy(at, parts[i].iov_base, parts[i].iov_len);
		at += parts[i].iov_len;
	}
	atomic_store_explicit(&sh->used, used + need, memory_order_release);
	return true;
}

uint64_t redo_log_mark(const struct redo_log *log)
{
	return atomic_load_explicit(&log->shared->used, memory_order_relaxed);
}

void redo_log_truncate(struct redo_log *log, uint64_t mark)
{
	if (mark < atomic_load_explicit(&log->shared->used, memory_order_relaxed))
		atomic_store_explicit(&log->shared->used, mark, memory_order_release);
}

void redo_log_arm(struct redo_log *log)
{
	atomic_store_explicit(&log->shared->armed, 1, memory_order_release);
}

bool redo_log_armed(const struct redo_log *log)
{
	return atomic_load_explicit(&log->shared->armed, memory_order_acquire) != 0;
}

void redo_log_reset(struct redo_log *log)
{
	atomic_store_explicit(&log->shared->used, 0, memory_order_release);
}

int redo_log_next(struct redo_log *log, size_t *cursor, struct redo_record *ret_rec)
{
	struct redo_shared *sh = log->shared;
	uint64_t used = atomic_load_explicit(&sh->used, memory_order_acquire);
	struct redo_head head;
	size_t at = *cursor;

	if (used > sh->capacity)
		return -EBADMSG;
	if (at >= used)
		return 0;
	if (used - at < sizeof(head))
		return -EBADMSG;
	memcpy(&head, sh->records + at, sizeof(head));
	if (redo_log_padded(head.len) > used - at - sizeof(head))
		return -EBADMSG;
	const void *payload = sh->records + at + sizeof(head);
	struct iovec part = { .iov_base = (void *)payload, .iov_len = head.len };
	if (redo_log_crc(&head, &part, 1) != head.crc)
		return -EBADMSG;
	*ret_rec = (struct redo_record){ .batch_seq = head.batch_seq, .type = head.type, .len = head.len,
					 .payload = payload };
	*cursor = at + sizeof(head) + redo_log_padded(head.len);
	return 1;
}
