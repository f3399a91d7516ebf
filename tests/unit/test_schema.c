/*
 * test_schema.c — the generated field table (api_schema_table.c) and the
 * checks fieldValidation runs on it: the table knows the fields a
 * StatefulSet's pod template holds, the JSON scanner reports unknown and
 * duplicate fields with their paths in document order, the tree walk
 * reports in sorted order and prunes, and apply names fields as
 * server-side apply does.
 */
#include <stdlib.h>
#include <string.h>

#include "api_schema.h"
#include "unit.h"

/* The field at a dotted path ("[]" steps into an array's elements). */
static const struct api_schema_field *field_at(int type, const char *path)
{
	const struct api_schema_field *f = NULL;
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *step = strtok_r(copy, ".", &save); step != NULL; step = strtok_r(NULL, ".", &save)) {
		char *brackets = strstr(step, "[]");

		if (brackets != NULL)
			*brackets = '\0';
		f = api_schema_field(type, step);
		if (f == NULL)
			return NULL;
		type = f->type;
	}
	return f;
}

/* The problems joined with " | ". */
static void joined(const struct api_schema_problems *p, char *buf, size_t size)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < p->count; i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? " | " : "", p->text[i]);
}

START_TEST(test_table_knows_the_pod_template)
{
	int sts = api_schema_kind_type("apps", "StatefulSet");
	const struct api_schema_field *f;

	ck_assert_int_ge(sts, 0);
	f = field_at(sts, "spec.template.spec.containers[].image");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->kind, API_SCHEMA_STRING);
	ck_assert_ptr_nonnull(strstr(f->description, "image name"));
	f = field_at(sts, "spec.template.spec.containers");
	ck_assert_int_eq(f->kind, API_SCHEMA_ARRAY);
	ck_assert_int_eq(f->elem, API_SCHEMA_OBJECT);
	ck_assert_ptr_nonnull(field_at(sts, "spec.volumeClaimTemplates[].spec.storageClassName"));
	ck_assert_ptr_nonnull(field_at(sts, "spec.persistentVolumeClaimRetentionPolicy.whenScaled"));
	ck_assert_ptr_nonnull(field_at(sts, "spec.template.spec.initContainers[].restartPolicy"));
	ck_assert_ptr_null(field_at(sts, "spec.volumeClaimTemplate"));
	ck_assert_ptr_null(field_at(api_schema_kind_type("", "PersistentVolumeClaim"),
				    "spec.storageClass"));
	ck_assert_ptr_null(field_at(api_schema_kind_type("", "PersistentVolumeClaim"),
				    "metadata.clusterName"));
	ck_assert_int_eq(field_at(sts, "metadata.managedFields[].fieldsV1")->kind, API_SCHEMA_RAW);
	ck_assert_int_ge(api_schema_kind_type("snapshot.storage.k8s.io", "VolumeSnapshot"), 0);
	ck_assert_int_ge(api_schema_kind_type("autoscaling", "Scale"), 0);
	ck_assert_int_ge(api_schema_kind_type("", "Namespace"), 0);
	ck_assert_int_ge(api_schema_kind_type("", "Event"), 0);
	ck_assert_int_ge(api_schema_kind_type("events.k8s.io", "Event"), 0);
	ck_assert_int_eq(api_schema_kind_type("apps", "Deployment"), -1);
}
END_TEST

START_TEST(test_scan_json)
{
	static const char text[] =
		"{\"metadata\":{\"name\":\"a\",\"name\":\"b\",\"x\\u0079\":1,\"labels\":{\"k\":\"1\",\"k\":\"2\"}},"
		"\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\"},{\"bogus\":[1,{\"a\":1,\"a\":2}],"
		"\"bogus\":2}]}},\"replicas\":1,\"replicas\":2},"
		"\"status\":{\"conditions\":[{\"type\":\"x\",\"message\":\"\\\"}{\"}]}}";
	struct api_schema_problems p = { 0 };
	char buf[2048];

	ck_assert_int_eq(api_schema_scan_json(text, strlen(text),
					      api_schema_kind_type("apps", "StatefulSet"), &p), 0);
	joined(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "duplicate field \"metadata.name\" | unknown field \"metadata.xy\" | "
			      "duplicate field \"metadata.labels.k\" | "
			      "unknown field \"spec.template.spec.containers[1].bogus\" | "
			      "duplicate field \"spec.replicas\"");
	api_schema_problems_clear(&p);
	/* No schema: duplicates anywhere. */
	ck_assert_int_eq(api_schema_scan_json(text, strlen(text), -1, &p), 0);
	joined(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "duplicate field \"metadata.name\" | duplicate field \"metadata.labels.k\" | "
			      "duplicate field \"spec.template.spec.containers[1].bogus[1].a\" | "
			      "duplicate field \"spec.template.spec.containers[1].bogus\" | "
			      "duplicate field \"spec.replicas\"");
	api_schema_problems_clear(&p);
}
END_TEST

START_TEST(test_walk_and_prune)
{
	json_t *obj = json_loads("{\"spec\":{\"zz\":1,\"storageClassName\":\"x\",\"aa\":{\"b\":1},"
				 "\"$patch\":\"replace\",\"resources\":{\"requests\":{\"storage\":\"1\"},"
				 "\"bogus\":1}},\"metadata\":{\"annotations\":{\"any\":\"thing\"}}}",
				 0, NULL);
	int pvc = api_schema_kind_type("", "PersistentVolumeClaim");
	struct api_schema_problems p = { 0 };
	char buf[1024];

	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(api_schema_walk(obj, pvc, true, true, &p), 0);
	joined(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "unknown field \"spec.aa\" | unknown field \"spec.resources.bogus\" | "
			      "unknown field \"spec.zz\"");
	api_schema_problems_clear(&p);
	ck_assert_ptr_null(json_object_get(json_object_get(obj, "spec"), "zz"));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(obj, "spec"), "$patch"));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(obj, "spec"), "storageClassName"));
	ck_assert_int_eq(api_schema_walk(obj, pvc, false, false, &p), 0);
	joined(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "unknown field \"spec.$patch\"");
	api_schema_problems_clear(&p);
	json_decref(obj);
}
END_TEST

START_TEST(test_apply_paths)
{
	json_t *obj = json_loads("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
				 "\"imagePulPolicy\":\"x\",\"zz\":1}]}},\"bogus\":1}}", 0, NULL);
	struct api_schema_problems p = { 0 };
	char buf[1024];

	ck_assert_int_eq(api_schema_apply_check(obj, api_schema_kind_type("apps", "StatefulSet"), &p), 0);
	joined(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, ".spec.bogus: field not declared in schema");
	api_schema_problems_clear(&p);
	json_object_del(json_object_get(obj, "spec"), "bogus");
	ck_assert_int_eq(api_schema_apply_check(obj, api_schema_kind_type("apps", "StatefulSet"), &p), 0);
	joined(&p, buf, sizeof(buf));
	ck_assert_str_eq(buf, ".spec.template.spec.containers[name=\"web\"].imagePulPolicy: "
			      "field not declared in schema");
	api_schema_problems_clear(&p);
	json_decref(obj);
}
END_TEST

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_table_knows_the_pod_template);
	tcase_add_test(tc, test_scan_json);
	tcase_add_test(tc, test_walk_and_prune);
	tcase_add_test(tc, test_apply_paths);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(schema_suite());
}
