/*
 * store_compact.c — `claimfsd --compact`: open the store at a path (never
 * create one), compact it (store_compact, store_vacuum.c), close it. Apart
 * from store_vacuum.c because it opens a store, and store_open.c sits above
 * the vacuum (it loads the vacuum's state).
 */
#include "store_internal.h"

#include <errno.h>
#include <unistd.h>

int store_compact_file(const char *path, uint64_t *ret_before, uint64_t *ret_after)
{
	struct store *s = NULL;
	int r;

	/* store_open would create a missing store. */
	if (access(path, F_OK) < 0)
		return -errno;
	r = store_open(path, 0, &s);
	if (r < 0)
		return r;
	r = store_compact(s, ret_before, ret_after);
	store_close(s);
	return r;
}
