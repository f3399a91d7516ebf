/*
 * arena.h — per-call memory for claimfs-csi: every request message, every
 * response message and every string a handler builds come from the call's
 * arena and are released together when the call ends.
 *
 * That is what makes protobuf-c responses safe to build in C: nothing in a
 * message has its own owner, so handlers never free fields one by one and an
 * error path cannot leak or double-free. An arena belongs to one call, and a
 * call is served by one worker thread: no locking.
 */
#ifndef CLAIMFS_CSI_ARENA_H
#define CLAIMFS_CSI_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena;

/* A new empty arena, or NULL when out of memory. */
struct arena *arena_create(void);
/* Free the arena and everything allocated from it. NULL is a no-op. */
void arena_destroy(struct arena *arena);

/* size zeroed bytes aligned for any type; NULL when out of memory. */
void *arena_alloc(struct arena *arena, size_t size);
/* Copy of text into the arena; NULL when text is NULL or out of memory. */
char *arena_strdup(struct arena *arena, const char *text);
/* printf into the arena. */
char *arena_printf(struct arena *arena, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Run fn(pointer) when the arena is destroyed (latest first): for objects
 * owned elsewhere, e.g. JSON references. -ENOMEM if it cannot be recorded
 * (fn is then NOT run; the caller still owns pointer). */
int arena_defer(struct arena *arena, void (*fn)(void *pointer), void *pointer);

/* An allocator protobuf-c unpacks into: alloc from the arena, free nothing. */
void arena_protobuf_allocator(struct arena *arena, ProtobufCAllocator *ret_allocator);

#endif
