/*
 * store_inomap.c — an open-addressing map from inode number to a count, used
 * for kernel lookup references, orphan and reclaim marks and the inodes a
 * transaction changed. Plain data structure: it knows nothing of the store or
 * its lock (the caller's lock protects each map, see struct store).
 *
 * Invariants: capacity is 0 or a power of two; key 0 is an empty slot and
 * UINT64_MAX a tombstone; used counts live keys plus tombstones and stays
 * below capacity, so every probe sequence ends at an empty slot.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define INOMAP_TOMBSTONE UINT64_MAX
#define INOMAP_MIN_CAPACITY 64

static size_t store_inomap_slot(const struct store_inomap *map, uint64_t ino)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull;

	return (size_t)(h >> 17) & (map->capacity - 1);
}

/* Value for ino, 0 if absent. */
uint64_t store_inomap_get(const struct store_inomap *map, uint64_t ino)
{
	if (map->capacity == 0)
		return 0;
	for (size_t i = store_inomap_slot(map, ino);; i = (i + 1) & (map->capacity - 1)) {
		if (map->keys[i] == ino)
			return map->values[i];
		if (map->keys[i] == 0)
			return 0;
	}
}

static int store_inomap_grow(struct store_inomap *map)
{
	size_t capacity = map->capacity ? map->capacity * 2 : INOMAP_MIN_CAPACITY;
	struct store_inomap bigger = { 0 };

	/* Only live keys move, so a map full of tombstones shrinks back. */
	size_t live = 0;
	for (size_t i = 0; i < map->capacity; i++)
		if (map->keys[i] != 0 && map->keys[i] != INOMAP_TOMBSTONE)
			live++;
	while (capacity > INOMAP_MIN_CAPACITY && live * 4 < capacity)
		capacity /= 2;
	bigger.keys = calloc(capacity, sizeof(*bigger.keys));
	bigger.values = calloc(capacity, sizeof(*bigger.values));
	if (!bigger.keys || !bigger.values) {
		free(bigger.keys);
		free(bigger.values);
		return -ENOMEM;
	}
	bigger.capacity = capacity;
	for (size_t i = 0; i < map->capacity; i++) {
		uint64_t key = map->keys[i];
		if (key == 0 || key == INOMAP_TOMBSTONE)
			continue;
		size_t j = store_inomap_slot(&bigger, key);
		while (bigger.keys[j] != 0)
			j = (j + 1) & (capacity - 1);
		bigger.keys[j] = key;
		bigger.values[j] = map->values[i];
		bigger.used++;
	}
	free(map->keys);
	free(map->values);
	*map = bigger;
	return 0;
}

/* Add delta to ino's value (absent = 0); a value reaching 0 removes the key. */
int store_inomap_add(struct store_inomap *map, uint64_t ino, int64_t delta, uint64_t *ret_value)
{
	size_t tomb = SIZE_MAX, i;
	int r;

	if ((map->used + 1) * 10 >= map->capacity * 7) {
		r = store_inomap_grow(map);
		if (r < 0)
			return r;
	}
	for (i = store_inomap_slot(map, ino);; i = (i + 1) & (map->capacity - 1)) {
		if (map->keys[i] == ino)
			break;
		if (map->keys[i] == INOMAP_TOMBSTONE && tomb == SIZE_MAX)
			tomb = i;
		if (map->keys[i] == 0) {
			if (delta <= 0) {
				if (ret_value)
					*ret_value = 0;
				return 0;
			}
			if (tomb != SIZE_MAX)
				i = tomb;
			else
				map->used++;
			map->keys[i] = ino;
			map->values[i] = 0;
			break;
		}
	}
	if (delta < 0 && map->values[i] < (uint64_t)-delta)
		map->values[i] = 0;
	else
		map->values[i] += (uint64_t)delta;
	if (ret_value)
		*ret_value = map->values[i];
	if (map->values[i] == 0)
		map->keys[i] = INOMAP_TOMBSTONE;
	return 0;
}

/* Drop every key. A map that is mostly empty gives its memory back instead
 * of being zeroed: the changed-inodes map is cleared at every commit, and a
 * commit after one close must not pay for the largest batch seen so far. */
void store_inomap_clear(struct store_inomap *map)
{
	if (map->used == 0)
		return;
	if (map->capacity > INOMAP_MIN_CAPACITY && map->used * 8 < map->capacity) {
		store_inomap_free(map);
		return;
	}
	memset(map->keys, 0, map->capacity * sizeof(*map->keys));
	memset(map->values, 0, map->capacity * sizeof(*map->values));
	map->used = 0;
}

void store_inomap_free(struct store_inomap *map)
{
	free(map->keys);
	free(map->values);
	memset(map, 0, sizeof(*map));
}
