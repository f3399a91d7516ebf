/*
 * test_api.c — api_handle in process, on a real store in a temporary
 * directory (no FUSE, no network): routing, the errno -> Status mapping,
 * content types, and the model's create/get/list/delete with the store
 * volumes behind them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "claim.h"
#include "log.h"
#include "model.h"
#include "store.h"
#include "unit.h"
#include "unit_model.h"

#define PVCS "/api/v1/namespaces/default/persistentvolumeclaims"
#define CLAIM_JSON(name, storage)                                                                \
	"{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"" name \
	"\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":"          \
	"{\"storage\":\"" storage "\"}}}}"

static struct unit_model fixture;

/* A fresh store and model per test. */
static void setup(void)
{
	unit_model_open(&fixture, "api");
}

/* Close and remove everything; no error may have been logged. */
static void teardown(void)
{
	unit_model_close(&fixture);
}

/* One request; returns the decoded JSON answer (or NULL for text) and the status. */
static json_t *call(const char *method, const char *url, const char *content_type,
		    const char *body, unsigned *ret_status)
{
	char url_path[1024];
	const char *query = strchr(url, '?');
	struct api_request req = { .method = method, .path = url_path, .content_type = content_type,
				   .body = body, .body_len = body ? strlen(body) : 0,
				   .ready = true };
	struct api_response res;
	json_t *obj;

	snprintf(url_path, sizeof(url_path), "%.*s", query != NULL ? (int)(query - url) : (int)strlen(url),
		 url);
	req.query = query != NULL ? query + 1 : NULL;
	api_handle(fixture.model, &req, &res);
	ck_assert_ptr_nonnull(res.body);
	ck_assert_ptr_nonnull(res.content_type);
	*ret_status = res.status;
	obj = strncmp(res.content_type, "application/json", 16) == 0 ? json_loads(res.body, 0, NULL)
								       : NULL;
	if (strncmp(res.content_type, "application/json", 16) == 0)
		ck_assert_msg(obj != NULL, "answer is not JSON: %s", res.body);
	free(res.body);
	return obj;
}

/* Assert obj is a Status with code and reason; frees obj. */
static void assert_status(json_t *obj, unsigned status, unsigned code, const char *reason)
{
	const char *kind, *api_version, *state, *message, *got_reason;
	json_int_t got_code;

	ck_assert_uint_eq(status, code);
	ck_assert_int_eq(json_unpack(obj, "{s:s, s:s, s:{}, s:s, s:s, s:s, s:I}", "kind", &kind,
				     "apiVersion", &api_version, "metadata", "status", &state,
				     "message", &message, "reason", &got_reason, "code", &got_code),
			 0);
	ck_assert_str_eq(kind, "Status");
	ck_assert_str_eq(api_version, "v1");
	ck_assert_str_eq(state, "Failure");
	ck_assert_str_eq(got_reason, reason);
	ck_assert_int_eq(got_code, code);
	ck_assert_int_gt(strlen(message), 0);
	json_decref(obj);
}

/* One request that must fail with code and reason. */
static void expect(const char *method, const char *url, const char *content_type,
		   const char *body, unsigned code, const char *reason)
{
	unsigned status;
	json_t *obj = call(method, url, content_type, body, &status);

	assert_status(obj, status, code, reason);
}

START_TEST(test_health)
{
	struct api_request req = { .method = "GET", .path = "/readyz", .ready = false };
	struct api_response res;
	unsigned status;

	ck_assert_ptr_null(call("GET", "/healthz", NULL, NULL, &status));
	ck_assert_uint_eq(status, 200);
	ck_assert_ptr_null(call("HEAD", "/livez", NULL, NULL, &status));
	ck_assert_uint_eq(status, 200);
	api_handle(fixture.model, &req, &res);
	ck_assert_uint_eq(res.status, 503);
	free(res.body);
	req.ready = true;
	api_handle(fixture.model, &req, &res);
	ck_assert_uint_eq(res.status, 200);
	ck_assert_str_eq(res.body, "ok\n");
	free(res.body);
}
END_TEST

START_TEST(test_claim_life)
{
	struct store_volume volume;
	const char *volume_name, *phase;
	char url[512], volume_copy[64];
	unsigned status;
	json_t *obj;

	obj = call("POST", PVCS, "application/json", CLAIM_JSON("data", "1Mi"), &status);
	ck_assert_uint_eq(status, 201);
	ck_assert_int_eq(json_unpack(obj, "{s:{s:s}, s:{s:s}}", "spec", "volumeName", &volume_name,
				     "status", "phase", &phase),
			 0);
	ck_assert_str_eq(phase, "Bound");
	snprintf(volume_copy, sizeof(volume_copy), "%s", volume_name);
	json_decref(obj);
	/* the store volume exists, bound as default/data, with the capacity */
	ck_assert_int_eq(store_volume_get(fixture.store, volume_copy, &volume), 0);
	ck_assert_uint_eq(volume.capacity, 1048576);
	ck_assert_str_eq(volume.bound_namespace, "default");
	ck_assert_str_eq(volume.bound_claim, "data");
	ck_assert(!volume.read_only);

	obj = call("GET", PVCS "/data", NULL, NULL, &status);
	ck_assert_uint_eq(status, 200);
	json_decref(obj);
	obj = call("GET", "/api/v1/persistentvolumeclaims", NULL, NULL, &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(obj, "items")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "kind")), "PersistentVolumeClaimList");
	json_decref(obj);

	expect("POST", PVCS, "application/json", CLAIM_JSON("data", "2Mi"), 409, "AlreadyExists");
	obj = call("DELETE", PVCS "/data", NULL, NULL, &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"));
	json_decref(obj);
	ck_assert_int_eq(store_volume_get(fixture.store, volume_copy, &volume), -ENOENT);
	snprintf(url, sizeof(url), "%s/data", PVCS);
	expect("GET", url, NULL, NULL, 404, "NotFound");
	expect("DELETE", url, NULL, NULL, 404, "NotFound");
}
END_TEST

START_TEST(test_read_only_claim)
{
	struct store_volume volume;
	unsigned status;
	json_t *obj;

	obj = call("POST", PVCS, "application/json; charset=utf-8",
		   "{\"metadata\":{\"name\":\"ro\"},\"spec\":{\"accessModes\":[\"ReadOnlyMany\"],"
		   "\"resources\":{\"requests\":{\"storage\":\"1Ki\"}}}}",
		   &status);
	ck_assert_uint_eq(status, 201);
	ck_assert_int_eq(store_volume_get(fixture.store,
					  json_string_value(json_object_get(
						  json_object_get(obj, "spec"), "volumeName")),
					  &volume),
			 0);
	ck_assert(volume.read_only);
	json_decref(obj);
}
END_TEST

START_TEST(test_errors)
{
	expect("GET", "/nope", NULL, NULL, 404, "NotFound");
	expect("GET", "", NULL, NULL, 404, "NotFound");
	expect("GET", "/api/v1/namespaces//persistentvolumeclaims", NULL, NULL, 404, "NotFound");
	expect("GET", PVCS "/", NULL, NULL, 404, "NotFound");
	expect("GET", "/a/b/c/d/e/f/g/h/i/j/k", NULL, NULL, 404, "NotFound");
	expect("PUT", PVCS "/x", "application/json", "{}", 404, "NotFound");
	expect("DELETE", "/api/v1/persistentvolumeclaims", NULL, NULL, 405, "MethodNotAllowed");
	expect("POST", "/api/v1/persistentvolumeclaims", "application/json", "{}", 405,
	       "MethodNotAllowed");
	expect("PATCH", PVCS "/x", "application/json", "{}", 415, "UnsupportedMediaType");
	expect("GET", "/api/v1/namespaces/default/persistentvolumes", NULL, NULL, 404, "NotFound");
	expect("GET", "/apis/apps/v2/statefulsets", NULL, NULL, 404, "NotFound");
	expect("GET", PVCS "?fieldSelector=spec.foo%3Dx", NULL, NULL, 400, "BadRequest");
	expect("GET", PVCS "?labelSelector=a%20in%20(", NULL, NULL, 400, "BadRequest");
	expect("POST", PVCS, "text/plain", CLAIM_JSON("x", "1Mi"), 415, "UnsupportedMediaType");
	expect("POST", PVCS, NULL, CLAIM_JSON("x", "1Mi"), 415, "UnsupportedMediaType");
	expect("POST", PVCS, "application/json", "{bad", 400, "BadRequest");
	expect("POST", PVCS, "application/json", "", 400, "BadRequest");
	expect("POST", PVCS, "application/json", CLAIM_JSON("../x", "1Mi"), 422, "Invalid");
	expect("POST", PVCS, "application/json", CLAIM_JSON("x", "1 Mi"), 422, "Invalid");
	expect("POST", "/api/v1/namespaces/Bad/persistentvolumeclaims", "application/json",
	       CLAIM_JSON("x", "1Mi"), 422, "Invalid");
}
END_TEST

START_TEST(test_invalid_details)
{
	const char *name, *kind, *field, *reason;
	unsigned status;
	json_t *obj, *causes;

	obj = call("POST", PVCS, "application/json", CLAIM_JSON("Data", "0"), &status);
	ck_assert_uint_eq(status, 422);
	ck_assert_int_eq(json_unpack(obj, "{s:{s:s, s:s, s:o}}", "details", "name", &name, "kind",
				     &kind, "causes", &causes),
			 0);
	ck_assert_str_eq(name, "Data");
	ck_assert_str_eq(kind, "PersistentVolumeClaim");
	ck_assert_uint_eq(json_array_size(causes), 2);
	ck_assert_int_eq(json_unpack(json_array_get(causes, 1), "{s:s, s:s}", "field", &field,
				     "reason", &reason),
			 0);
	ck_assert_str_eq(field, "spec.resources[storage]");
	ck_assert_str_eq(reason, "FieldValueInvalid");
	assert_status(obj, status, 422, "Invalid");
}
END_TEST

START_TEST(test_error_response)
{
	struct api_response res;
	json_t *obj;

	api_error_response(EMSGSIZE, "too big", &res);
	ck_assert_uint_eq(res.status, 413);
	obj = json_loads(res.body, 0, NULL);
	free(res.body);
	ck_assert_str_eq(json_string_value(json_object_get(obj, "message")), "too big");
	assert_status(obj, 413, 413, "RequestEntityTooLarge");
	api_error_response(ENOSPC, NULL, &res);
	obj = json_loads(res.body, 0, NULL);
	free(res.body);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(obj, "message")),
				     "No space left on device"));
	assert_status(obj, res.status, 500, "InternalError");
}
END_TEST

/* Check suite of the API handlers (with the model and a real store). */
static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("handlers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_claim_life);
	tcase_add_test(tc, test_read_only_claim);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_invalid_details);
	suite_add_tcase(s, tc);
	tc = tcase_create("status");
	tcase_add_test(tc, test_error_response);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_set_level(LOG_LEVEL_WARN);
	return unit_run(api_suite());
}
