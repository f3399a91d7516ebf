/*
 * store_fixture.c — a fresh store per test and its removal (see
 * store_fixture.h).
 */
#include "store_fixture.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void store_fixture_open(char *dir, char *path, size_t path_size, struct store **ret_store)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, path_size, "%s/store.db", dir);
	ck_assert_int_eq(store_open(path, 0, ret_store), 0);
}

void store_fixture_close(char *dir, const char *template, struct store **store)
{
	char cmd[600];

	store_close(*store);
	*store = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, template);
}
