/*
 * arena.c — bump allocator in a chain of blocks (see arena.h).
 *
 * Invariants: every block in the chain was malloc'd by this file and is
 * freed only by arena_destroy; `used` never exceeds `size`; returned
 * pointers are aligned to max_align_t. Requests bigger than a default block
 * get a block of their own, so one large string never wastes a chain.
 */
#include "arena.h"

#include <errno.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN alignof(max_align_t)

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes in data */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *pointer);
	void *pointer;
};

struct arena {
	struct arena_block *head;       /* the block allocations come from first */
	struct arena_cleanup *cleanups; /* run by arena_destroy, newest first */
};

/* An empty arena; blocks come on first use. */
struct arena *arena_create(void)
{
	return calloc(1, sizeof(struct arena));
}

/* Run the cleanups, free every block, then the arena. */
void arena_destroy(struct arena *arena)
{
	struct arena_block *block, *next;
	struct arena_cleanup *cleanup;

	if (arena == NULL)
		return;
	/* Cleanup records live in the blocks: run them all before freeing any. */
	for (cleanup = arena->cleanups; cleanup != NULL; cleanup = cleanup->next)
		cleanup->fn(cleanup->pointer);
	for (block = arena->head; block != NULL; block = next) {
		next = block->next;
		free(block);
	}
	free(arena);
}

/* Chain a block with at least size usable bytes after the head. */
static struct arena_block *arena_grow(struct arena *arena, size_t size)
{
	size_t usable = size > ARENA_BLOCK_SIZE ? size : ARENA_BLOCK_SIZE;
	struct arena_block *block;

	if (usable > SIZE_MAX - sizeof(*block))
		return NULL;
	block = malloc(sizeof(*block) + usable);
	if (block == NULL)
		return NULL;
	block->size = usable;
	block->used = 0;
	if (size > ARENA_BLOCK_SIZE && arena->head != NULL) {
		/* A one-off big block: keep the current head for small requests. */
		block->next = arena->head->next;
		arena->head->next = block;
	} else {
		block->next = arena->head;
		arena->head = block;
	}
	return block;
}

/* Zeroed, aligned memory from the arena. */
void *arena_alloc(struct arena *arena, size_t size)
{
	struct arena_block *block = arena->head;
	size_t rounded;
	void *p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	rounded = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (block == NULL || block->size - block->used < rounded) {
		block = arena_grow(arena, rounded);
		if (block == NULL)
			return NULL;
	}
	p = block->data + block->used;
	block->used += rounded;
	memset(p, 0, rounded);
	return p;
}

/* Copy text into the arena. */
char *arena_strdup(struct arena *arena, const char *text)
{
	size_t len;
	char *copy;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	copy = arena_alloc(arena, len + 1);
	if (copy != NULL)
		memcpy(copy, text, len + 1);
	return copy;
}

/* Format into the arena (measure first, then write). */
char *arena_printf(struct arena *arena, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return NULL;
	text = arena_alloc(arena, (size_t)len + 1);
	if (text == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(text, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return text;
}

/* Record a cleanup in the arena itself. */
int arena_defer(struct arena *arena, void (*fn)(void *pointer), void *pointer)
{
	struct arena_cleanup *cleanup = arena_alloc(arena, sizeof(*cleanup));

	if (cleanup == NULL)
		return -ENOMEM;
	cleanup->fn = fn;
	cleanup->pointer = pointer;
	cleanup->next = arena->cleanups;
	arena->cleanups = cleanup;
	return 0;
}

/* protobuf-c allocation hook. */
static void *arena_protobuf_alloc(void *data, size_t size)
{
	return arena_alloc(data, size);
}

/* protobuf-c free hook: the arena frees everything at once, later. */
static void arena_protobuf_free(void *data, void *pointer)
{
	(void)data;
	(void)pointer;
}

/* Fill in an allocator bound to arena. */
void arena_protobuf_allocator(struct arena *arena, ProtobufCAllocator *ret_allocator)
{
	ret_allocator->alloc = arena_protobuf_alloc;
	ret_allocator->free = arena_protobuf_free;
	ret_allocator->allocator_data = arena;
}
