/*
 * test_volume_plugin.c — api_volume_plugin_handle in process, on a real
 * store and model (no FUSE, no socket): the protocol's answers and status
 * codes, the mount table's rules (per-container counts, ReadWriteOncePod,
 * Remove of a mounted volume, the table's limit) and bad requests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_volume_plugin.h"
#include "model.h"
#include "unit.h"
#include "unit_model.h"

#define MOUNT_DIR "/srv/claimfs"

static struct unit_model fixture;
static struct api_volume_plugin *plugin;

static void setup(void)
{
	unit_model_open(&fixture, "plugin");
	ck_assert_int_eq(api_volume_plugin_new(fixture.model, "default", MOUNT_DIR, &plugin), 0);
}

static void teardown(void)
{
	api_volume_plugin_free(plugin);
	plugin = NULL;
	unit_model_close(&fixture);
}

/* One POST (method NULL) to endpoint; the decoded answer and its status. */
static json_t *call_method(const char *method, const char *endpoint, const char *body,
			   unsigned *ret_status)
{
	struct api_request req = { .method = method != NULL ? method : "POST", .path = endpoint,
				   .content_type = "application/vnd.docker.plugins.v1.2+json",
				   .body = body, .body_len = body != NULL ? strlen(body) : 0 };
	struct api_response res;
	json_t *answer;

	api_volume_plugin_handle(plugin, &req, &res);
	ck_assert_ptr_nonnull(res.body);
	ck_assert_str_eq(res.content_type, "application/vnd.docker.plugins.v1+json");
	answer = json_loads(res.body, 0, NULL);
	ck_assert_msg(answer != NULL, "not JSON: %s", res.body);
	free(res.body);
	*ret_status = res.status;
	return answer;
}

static json_t *call(const char *endpoint, const char *body, unsigned *ret_status)
{
	return call_method(NULL, endpoint, body, ret_status);
}

/* The call's Err ("" on success); the answer is freed. */
static char *err_of(const char *endpoint, const char *body, unsigned *ret_status)
{
	json_t *answer = call(endpoint, body, ret_status);
	char *err = strdup(json_string_value(json_object_get(answer, "Err")) ?: "(no Err)");

	json_decref(answer);
	return err;
}

/* Expect status and an Err containing words ("" for success). */
static void expect(const char *endpoint, const char *body, unsigned status, const char *words)
{
	unsigned got;
	char *err = err_of(endpoint, body, &got);

	ck_assert_msg(got == status, "%s %s: %u, not %u (%s)", endpoint, body, got, status, err);
	if (words[0] == '\0')
		ck_assert_str_eq(err, "");
	else
		ck_assert_msg(strstr(err, words) != NULL, "%s: '%s' lacks '%s'", endpoint, err, words);
	free(err);
}

START_TEST(test_activate_capabilities_bad_requests)
{
	unsigned status;
	json_t *answer = call("/Plugin.Activate", NULL, &status);

	ck_assert_uint_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(answer, "Implements"), 0)),
			 "VolumeDriver");
	json_decref(answer);
	answer = call("/VolumeDriver.Capabilities", "{}", &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(answer, "Capabilities"),
							     "Scope")),
			 "local");
	json_decref(answer);
	expect("/VolumeDriver.Create", "{\"Name\":", 400, "json parse error");
	expect("/VolumeDriver.Create", "[]", 400, "must be a JSON object");
	expect("/VolumeDriver.Create", "{\"Name\":1}", 400, "Name");
	expect("/VolumeDriver.Create", "{\"Name\":\"x\",\"Opts\":[]}", 400, "Opts");
	expect("/VolumeDriver.Create", "{\"Name\":\"x\",\"Opts\":{\"size\":1}}", 400,
	       "must be a string");
	expect("/VolumeDriver.Get", "{\"Name\":\"../../etc\"}", 422,
	       "PersistentVolumeClaim \"../../etc\" is invalid: metadata.name: Invalid value");
	expect("/VolumeDriver.Snapshot", "{}", 404, "not part of the volume plugin protocol");
	answer = call_method("GET", "/VolumeDriver.List", NULL, &status);
	ck_assert_uint_eq(status, 405);
	json_decref(answer);
}
END_TEST

START_TEST(test_create_and_mount_rules)
{
	unsigned status;
	json_t *answer;

	expect("/VolumeDriver.Create", "{\"Name\":\"data\",\"Opts\":{\"size\":\"1Mi\"}}", 200, "");
	answer = call("/VolumeDriver.Get", "{\"Name\":\"data\"}", &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(answer, "Volume"),
							     "Mountpoint")),
			 MOUNT_DIR "/default/data");
	json_decref(answer);
	answer = call("/VolumeDriver.List", NULL, &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(answer, "Volumes")), 1);
	json_decref(answer);
	answer = call("/VolumeDriver.Path", "{\"Name\":\"data\"}", &status);
	ck_assert_str_eq(json_string_value(json_object_get(answer, "Mountpoint")),
			 MOUNT_DIR "/default/data");
	json_decref(answer);
	expect("/VolumeDriver.Create", "{\"Name\":\"data\",\"Opts\":{\"size\":\"1Mi\"}}", 409,
	       "persistentvolumeclaims \"data\" already exists");
	expect("/VolumeDriver.Create", "{\"Name\":\"nosize\"}", 422, "no size given");
	expect("/VolumeDriver.Create", "{\"Name\":\"o\",\"Opts\":{\"o\":\"size\"}}", 422,
	       "is not KEY=VALUE");
	expect("/VolumeDriver.Create", "{\"Name\":\"o\",\"Opts\":{\"o\":\"o=size=1\"}}", 422,
	       "cannot hold another o");

	/* The mount table's rules. */
	expect("/VolumeDriver.Create",
	       "{\"Name\":\"solo\",\"Opts\":{\"size\":\"1Mi\",\"accessMode\":\"RWOP\"}}", 200, "");
	expect("/VolumeDriver.Create", "{\"Name\":\"shared\",\"Opts\":{\"size\":\"1Mi\"}}", 200, "");
	expect("/VolumeDriver.Mount", "{\"Name\":\"solo\",\"ID\":\"a\"}", 200, "");
	expect("/VolumeDriver.Mount", "{\"Name\":\"solo\",\"ID\":\"a\"}", 200, "");
	expect("/VolumeDriver.Mount", "{\"Name\":\"solo\",\"ID\":\"b\"}", 500, "ReadWriteOncePod");
	expect("/VolumeDriver.Mount", "{\"Name\":\"shared\",\"ID\":\"a\"}", 200, "");
	expect("/VolumeDriver.Mount", "{\"Name\":\"shared\",\"ID\":\"b\"}", 200, "");
	expect("/VolumeDriver.Remove", "{\"Name\":\"solo\"}", 500, "is in use");
	expect("/VolumeDriver.Unmount", "{\"Name\":\"solo\",\"ID\":\"a\"}", 200, "");
	expect("/VolumeDriver.Remove", "{\"Name\":\"solo\"}", 500, "is in use");
	expect("/VolumeDriver.Unmount", "{\"Name\":\"solo\",\"ID\":\"a\"}", 200, "");
	/* Not (or no longer) mounted: already let go (a restarted daemon). */
	expect("/VolumeDriver.Unmount", "{\"Name\":\"solo\",\"ID\":\"a\"}", 200, "");
	expect("/VolumeDriver.Remove", "{\"Name\":\"solo\"}", 200, "");
	expect("/VolumeDriver.Mount", "{\"Name\":\"solo\",\"ID\":\"a\"}", 404, "not found");
	expect("/VolumeDriver.Mount", "{\"Name\":\"shared\"}", 400, "ID");
}
END_TEST

/* The table is bounded: a container beyond the limit is refused, not stored. */
START_TEST(test_mount_table_limit)
{
	char body[128];
	unsigned i;

	expect("/VolumeDriver.Create", "{\"Name\":\"many\",\"Opts\":{\"size\":\"1Mi\"}}", 200, "");
	for (i = 0;; i++) {
		unsigned status;
		char *err;

		snprintf(body, sizeof(body), "{\"Name\":\"many\",\"ID\":\"c%u\"}", i);
		err = err_of("/VolumeDriver.Mount", body, &status);
		if (status != 200) {
			ck_assert_msg(strstr(err, "too many mounted volumes") != NULL, "%s", err);
			free(err);
			break;
		}
		free(err);
		ck_assert_uint_lt(i, 100000);
	}
	ck_assert_uint_eq(i, 1024);
	expect("/VolumeDriver.Unmount", "{\"Name\":\"many\",\"ID\":\"c0\"}", 200, "");
	snprintf(body, sizeof(body), "{\"Name\":\"many\",\"ID\":\"c%u\"}", i);
	expect("/VolumeDriver.Mount", body, 200, "");
}
END_TEST

static Suite *volume_plugin_suite(void)
{
	Suite *s = suite_create("volume_plugin");
	TCase *tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_activate_capabilities_bad_requests);
	tcase_add_test(tc, test_create_and_mount_rules);
	tcase_add_test(tc, test_mount_table_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(volume_plugin_suite());
}
