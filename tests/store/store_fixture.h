/*
 * store_fixture.h — the per-test store of the store tests: a fresh
 * directory from a mkdtemp template with <dir>/store.db opened in it, and
 * its removal (Check fixtures; failures are Check assertions).
 */
#ifndef CLAIMFS_TESTS_STORE_FIXTURE_H
#define CLAIMFS_TESTS_STORE_FIXTURE_H

#include <stddef.h>

#include "store.h"

/* mkdtemp(dir), then store_open("<dir>/store.db") into *ret_store; the
 * file's path goes to path. */
void store_fixture_open(char *dir, char *path, size_t path_size, struct store **ret_store);
/* Close *store (NULL after), remove dir and put template back into it. */
void store_fixture_close(char *dir, const char *template, struct store **store);

#endif
