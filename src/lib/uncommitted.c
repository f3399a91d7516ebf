/*
 * uncommitted.c — which files had acknowledged changes that were not
 * committed yet, in shared memory that outlives the process writing it
 * (claimfsd --supervise: a memfd the supervisor holds, mapped by each worker).
 *
 * Two lists of inode numbers:
 *   pending  the inodes the open batch changed (uncommitted_note, before the
 *            FUSE reply), emptied when the batch commits (uncommitted_committed);
 *   lost     what a dead worker's pending list held: changes the processes
 *            were told succeeded but that never reached the store. The next
 *            worker moves pending to lost (uncommitted_take_over) and each
 *            entry leaves lost when a fsync or close has reported EIO for it
 *            (uncommitted_reported), so a chain of deaths loses no report.
 * Each list is an array and a count; an entry is written before the count
 * that covers it (release order), so a process killed at any instruction
 * leaves whole entries. One writer at a time: the store lock in the worker;
 * workers of one supervisor never overlap.
 */
#include "uncommitted.h"

#include "shared_map.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNCOMMITTED_MAGIC 0x63667375u /* "cfsu" */

struct uncommitted_list {
	_Atomic uint32_t count;
	uint32_t pad;
	uint64_t inos[UNCOMMITTED_CAPACITY];
};

struct uncommitted_shared {
	uint32_t magic;
	uint32_t capacity;
	struct uncommitted_list pending, lost;
};

struct uncommitted {
	struct uncommitted_shared *shared;
};

int uncommitted_create(void)
{
	struct uncommitted_shared header = { .magic = UNCOMMITTED_MAGIC, .capacity = UNCOMMITTED_CAPACITY };

	/* The pages stay unallocated until entries land in them. */
	return shared_map_create("claimfs-uncommitted", sizeof(struct uncommitted_shared), &header,
				 offsetof(struct uncommitted_shared, pending));
}

int uncommitted_open(int fd, struct uncommitted **ret_u)
{
	struct uncommitted *u = calloc(1, sizeof(*u));
	void *map;
	int r;

	if (!u)
		return -ENOMEM;
	r = shared_map_open(fd, sizeof(struct uncommitted_shared), &map);
	if (r < 0) {
		free(u);
		return r;
	}
	u->shared = map;
	if (u->shared->magic != UNCOMMITTED_MAGIC || u->shared->capacity != UNCOMMITTED_CAPACITY) {
		uncommitted_close(u);
		return -EBADMSG;
	}
	*ret_u = u;
	return 0;
}

void uncommitted_close(struct uncommitted *u)
{
	if (!u)
		return;
	munmap(u->shared, sizeof(*u->shared));
	free(u);
}

/* Append ino to list; false when full. */
static bool uncommitted_append(struct uncommitted_list *list, uint64_t ino)
{
	uint32_t count = atomic_load_explicit(&list->count, memory_order_relaxed);

	if (count >= UNCOMMITTED_CAPACITY)
		return false;
	list->inos[count] = ino;
	atomic_store_explicit(&list->count, count + 1, memory_order_release);
	return true;
}

bool uncommitted_note(struct uncommitted *u, uint64_t ino)
{
	return uncommitted_append(&u->shared->pending, ino);
}

void uncommitted_committed(struct uncommitted *u)
{
	atomic_store_explicit(&u->shared->pending.count, 0, memory_order_release);
}

size_t uncommitted_take_over(struct uncommitted *u, const uint64_t **ret_lost)
{
	struct uncommitted_list *pending = &u->shared->pending, *lost = &u->shared->lost;
	uint32_t count = atomic_load_explicit(&pending->count, memory_order_acquire);

	/* A full lost list keeps the oldest reports; the rest still get their
	 * EIO from this worker's memory (the caller marks every entry). */
	for (uint32_t i = 0; i < count; i++)
		if (!uncommitted_append(lost, pending->inos[i]))
			break;
	atomic_store_explicit(&pending->count, 0, memory_order_release);
	*ret_lost = lost->inos;
	return atomic_load_explicit(&lost->count, memory_order_acquire);
}

void uncommitted_reported(struct uncommitted *u, uint64_t ino)
{
	struct uncommitted_list *lost = &u->shared->lost;
	uint32_t count = atomic_load_explicit(&lost->count, memory_order_acquire);

	/* Swap the last entry into each matching slot, then shorten: a death
	 * in between leaves a duplicate of the last entry, never a gap. */
	for (uint32_t i = 0; i < count;) {
		if (lost->inos[i] != ino) {
			i++;
			continue;
		}
		lost->inos[i] = lost->inos[count - 1];
		count--;
		atomic_store_explicit(&lost->count, count, memory_order_release);
	}
}
