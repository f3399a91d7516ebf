/*
 * test_store.c — the store's schema from an empty file, reopening, the
 * exclusive lock, and the object/volume calls the provisioning model relies
 * on (create-only puts, versions, ordered lists, bind conflicts).
 *
 * Every test works in its own temporary directory and removes it; the log
 * must stay free of error-level messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "unit.h"

static char dir[64];
static char path[128];
/* Error-level log messages before the test (tests may share a process
 * under CK_FORK=no) and those the test provoked on purpose. */
static unsigned baseline_errors;
static unsigned expected_errors;

/* A fresh directory per test; the store file path inside it. */
static void setup(void)
{
	baseline_errors = log_error_count();
	expected_errors = 0;
	snprintf(dir, sizeof(dir), "/tmp/claimfs-unit-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/store.db", dir);
}

/* Remove the directory and whatever SQLite left in it. */
static void teardown(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char file[160];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		unlink(file);
	}
	rmdir(dir);
	ck_assert_uint_eq(log_error_count(), baseline_errors + expected_errors);
}

START_TEST(test_schema_from_nothing)
{
	struct store *s = NULL;

	ck_assert_int_gt(store_schema_version(), 0);
	ck_assert_int_eq(store_open(path, 0, &s), 0);
	store_close(s);
	/* reopening finds the schema in place */
	ck_assert_int_eq(store_open(path, 0, &s), 0);
	store_close(s);
	/* and read-only opening (--check) works on it */
	ck_assert_int_eq(store_open(path, STORE_OPEN_READONLY, &s), 0);
	store_close(s);
	store_close(NULL);
}
END_TEST

START_TEST(test_schema_from_empty_file)
{
	struct store *s = NULL;
	struct store_attr root;
	int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(store_open(path, 0, &s), 0);
	ck_assert_int_eq(store_getattr(s, STORE_ROOT_INO, &root), 0);
	ck_assert(S_ISDIR(root.mode));
	store_close(s);
}
END_TEST

START_TEST(test_second_opener_is_refused)
{
	struct store *s = NULL, *other = NULL;

	ck_assert_int_eq(store_open(path, 0, &s), 0);
	ck_assert_int_eq(store_open(path, 0, &other), -EBUSY);
	ck_assert_ptr_null(other);
	expected_errors = log_error_count() - baseline_errors; /* the store may report it */
	ck_assert_uint_le(expected_errors, 1);
	store_close(s);
}
END_TEST

struct collected {
	char text[512];
	int count;
};

/* store_object_list callback: "ns/name;" for each object. */
static int collect(void *ud, const char *namespace_name, const char *name, const char *body,
		   int64_t version)
{
	struct collected *c = ud;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s/%s;", namespace_name, name);
	c->count++;
	return 0;
}

START_TEST(test_objects)
{
	struct collected all = { "", 0 }, one = { "", 0 };
	struct store *s = NULL;
	int64_t v1 = 0, v2 = 0, v;
	char *body = NULL;

	ck_assert_int_eq(store_open(path, 0, &s), 0);
	ck_assert_int_eq(store_object_put(s, "K", "b", "x", "{\"n\":1}", NULL, true, 0, &v1), 0);
	ck_assert_int_eq(store_object_put(s, "K", "a", "y", "{\"n\":2}", NULL, true, 0, &v2), 0);
	ck_assert_int_gt(v2, v1);
	ck_assert_int_ge(store_current_version(s), v2);
	ck_assert_int_eq(store_object_put(s, "K", "b", "x", "{}", NULL, true, 0, &v), -EEXIST);
	ck_assert_int_eq(store_object_put(s, "PV", "", "x", "{}", NULL, true, 0, &v), 0);
	ck_assert_int_eq(store_object_get(s, "K", "b", "x", &body, &v), 0);
	ck_assert_str_eq(body, "{\"n\":1}");
	ck_assert_int_eq(v, v1);
	free(body);
	ck_assert_int_eq(store_object_get(s, "K", "b", "nope", &body, &v), -ENOENT);
	ck_assert_int_eq(store_object_list(s, "K", NULL, collect, &all), 0);
	ck_assert_str_eq(all.text, "a/y;b/x;"); /* by namespace, then name; other kinds apart */
	ck_assert_int_eq(store_object_list(s, "K", "b", collect, &one), 0);
	ck_assert_str_eq(one.text, "b/x;");
	ck_assert_int_eq(store_object_delete(s, "K", "b", "x"), 0);
	ck_assert_int_eq(store_object_delete(s, "K", "b", "x"), -ENOENT);
	store_close(s);
}
END_TEST

START_TEST(test_volumes_and_batches)
{
	struct store *s = NULL;
	struct store_volume volume;
	struct store_attr ns_dir, claim_dir;
	int r;

	ck_assert_int_eq(store_open(path, 0, &s), 0);
	ck_assert_int_eq(store_volume_create(s, "pvc-1", 1048576, 0777, &volume), 0);
	ck_assert_uint_eq(volume.capacity, 1048576);
	ck_assert_int_eq(store_volume_bind(s, "pvc-1", "default", "data"), 0);
	ck_assert_int_eq(store_lookup(s, STORE_ROOT_INO, "default", &ns_dir), 0);
	ck_assert_int_eq(store_lookup(s, ns_dir.ino, "data", &claim_dir), 0);
	ck_assert_uint_eq(claim_dir.mode & 07777, 0777);
	ck_assert_int_eq(store_volume_create(s, "pvc-2", 1048576, 0777, &volume), 0);
	ck_assert_int_eq(store_volume_bind(s, "pvc-2", "default", "data"), -EEXIST);

	/* A failed batch leaves nothing behind. */
	ck_assert_int_eq(store_batch_begin(s), 0);
	r = store_volume_create(s, "pvc-3", 4096, 0777, &volume);
	ck_assert_int_eq(r, 0);
	r = store_object_put(s, "K", "default", "z", "{}", NULL, true, 0, NULL);
	ck_assert_int_eq(store_batch_end(s, -EIO), -EIO);
	ck_assert_int_eq(store_volume_get(s, "pvc-3", &volume), -ENOENT);
	ck_assert_int_eq(store_object_get(s, "K", "default", "z", NULL, NULL), -ENOENT);

	ck_assert_int_eq(store_volume_delete(s, "pvc-1"), 0);
	ck_assert_int_eq(store_lookup(s, ns_dir.ino, "data", &claim_dir), -ENOENT);
	ck_assert_int_eq(store_sync(s, true), 0);
	store_close(s);
}
END_TEST

/* Check suite of the store's schema and the calls the model uses. */
static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("schema");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_schema_from_nothing);
	tcase_add_test(tc, test_schema_from_empty_file);
	tcase_add_test(tc, test_second_opener_is_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("model_calls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_objects);
	tcase_add_test(tc, test_volumes_and_batches);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_set_level(LOG_LEVEL_WARN);
	return unit_run(store_suite());
}
