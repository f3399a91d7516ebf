/*
 * unit_model.c — a fresh store and model per test, removed afterwards.
 */
#include "unit_model.h"

#include "log.h"
#include "model.h"
#include "store.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void unit_model_open(struct unit_model *u, const char *name)
{
	u->baseline_errors = log_error_count();
	snprintf(u->dir, sizeof(u->dir), "/tmp/claimfs-%s-unit-XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(u->dir));
	snprintf(u->path, sizeof(u->path), "%s/store.db", u->dir);
	ck_assert_int_eq(store_open(u->path, 0, &u->store), 0);
	ck_assert_int_eq(model_open(u->store, &u->model), 0);
}

void unit_model_close(struct unit_model *u)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal", "-reserve" };
	char file[160];

	model_close(u->model);
	store_close(u->store);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", u->path, suffixes[i]);
		unlink(file);
	}
	rmdir(u->dir);
	ck_assert_uint_eq(log_error_count(), u->baseline_errors);
}
