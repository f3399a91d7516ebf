/*
 * unit_model.h — the fixture of the unit tests that need a real store and
 * model (test_api.c, test_model.c); linked only into those.
 */
#ifndef CLAIMFS_TEST_UNIT_MODEL_H
#define CLAIMFS_TEST_UNIT_MODEL_H

struct store;
struct model;

/* A fresh store and model in a new directory /tmp/claimfs-NAME-unit-XXXXXX,
 * for a Check fixture: unit_model_open in setup, unit_model_close in
 * teardown, which removes the store's files and the directory and fails the
 * test if anything was logged at error level in between. */
struct unit_model {
	char dir[64];
	char path[128];
	struct store *store;
	struct model *model;
	unsigned baseline_errors; /* error-level log messages before (tests may share a process) */
};

void unit_model_open(struct unit_model *u, const char *name);
void unit_model_close(struct unit_model *u);

#endif
