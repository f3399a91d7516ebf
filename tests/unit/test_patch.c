/*
 * test_patch.c — the pure request-processing parts: YAML bodies to JSON,
 * JSON merge patch, strategic merge patch, JSON patch, label and field
 * selectors, and kubectl's age format.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "patch.h"
#include "selector.h"
#include "unit.h"
#include "yaml_body.h"

/* Parse JSON text (must succeed). */
static json_t *js(const char *text)
{
	json_error_t error;
	json_t *value = json_loads(text, JSON_DECODE_ANY, &error);

	ck_assert_msg(value != NULL, "bad test JSON %s: %s", text, error.text);
	return value;
}

/* Assert value equals the JSON text; consumes value. */
static void expect_json(json_t *value, const char *text)
{
	json_t *want = js(text);
	char *got = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	ck_assert_msg(json_equal(value, want), "got %s want %s", got, text);
	free(got);
	json_decref(want);
	json_decref(value);
}

/* YAML text to JSON (must succeed). */
static json_t *yaml(const char *text)
{
	char msg[256];
	json_t *value = NULL;

	ck_assert_msg(yaml_body_parse(text, strlen(text), &value, msg, sizeof(msg)) == 0, "%s: %s",
		      text, msg);
	return value;
}

START_TEST(test_yaml_scalars)
{
	expect_json(yaml("a: 1\nb: -2\nc: 1.5\nd: true\ne: no\nf: ~\ng:\nh: '3'\ni: \"true\"\n"
			 "j: 1Mi\nk: 0x10\nl: 0755\nm: 1e3\nn: y\n"),
		    "{\"a\":1,\"b\":-2,\"c\":1.5,\"d\":true,\"e\":false,\"f\":null,\"g\":null,"
		    "\"h\":\"3\",\"i\":\"true\",\"j\":\"1Mi\",\"k\":16,\"l\":493,\"m\":1000.0,"
		    "\"n\":\"y\"}");
	expect_json(yaml("{\"replicas\":3,\"name\":\"x\",\"list\":[1,\"2\",{\"a\":null}]}"),
		    "{\"replicas\":3,\"name\":\"x\",\"list\":[1,\"2\",{\"a\":null}]}");
	expect_json(yaml("base: &b {x: 1}\nuse: *b\nblock: |\n  two\n  lines\n"),
		    "{\"base\":{\"x\":1},\"use\":{\"x\":1},\"block\":\"two\\nlines\\n\"}");
	expect_json(yaml("- a\n- [b, c]\n"), "[\"a\",[\"b\",\"c\"]]");
}
END_TEST

START_TEST(test_yaml_errors)
{
	static const char *const bad[] = {
		"", "a: [1, 2", "a: b\n---\nc: d\n", "{[1]: x}", "a: .inf\n", "<<: {a: 1}\n",
		"a:\n\tb: 1\n",
	};
	char msg[256];
	json_t *value;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		value = NULL;
		msg[0] = '\0';
		ck_assert_msg(yaml_body_parse(bad[i], strlen(bad[i]), &value, msg, sizeof(msg)) ==
				      -EBADMSG,
			      "%s parsed", bad[i]);
		ck_assert_ptr_null(value);
		ck_assert_msg(msg[0] != '\0', "%s: no message", bad[i]);
	}
	/* nesting is bounded */
	{
		char deep[400];

		memset(deep, '[', 300);
		deep[300] = '\0';
		ck_assert_int_eq(yaml_body_parse(deep, strlen(deep), &value, msg, sizeof(msg)), -EBADMSG);
	}
}
END_TEST

START_TEST(test_merge_patch)
{
	json_t *target = js("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},\"l\":[1,2]}");
	json_t *patch = js("{\"a\":\"z\",\"c\":{\"f\":null},\"l\":[3],\"n\":{\"m\":1}}");

	expect_json(patch_merge(target, patch),
		    "{\"a\":\"z\",\"c\":{\"d\":\"e\"},\"l\":[3],\"n\":{\"m\":1}}");
	/* the target is untouched */
	expect_json(json_incref(target), "{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},\"l\":[1,2]}");
	json_decref(patch);
	patch = js("[1]");
	expect_json(patch_merge(target, patch), "[1]");
	json_decref(patch);
	json_decref(target);
}
END_TEST

/* Strategic merge of target and patch texts. */
static json_t *smp(const char *target, const char *patch, int want_rc)
{
	json_t *t = js(target), *p = js(patch), *result = NULL;
	char msg[256];
	int r = patch_strategic(t, p, &result, msg, sizeof(msg));

	ck_assert_msg(r == want_rc, "rc %d (%s)", r, msg);
	json_decref(t);
	json_decref(p);
	return result;
}

START_TEST(test_strategic_merge)
{
	static const char sts[] =
		"{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"template\":{\"spec\":{"
		"\"containers\":[{\"name\":\"app\",\"image\":\"v1\",\"env\":[{\"name\":\"A\","
		"\"value\":\"1\"}]},{\"name\":\"side\",\"image\":\"s1\"}]}},"
		"\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"}},{\"metadata\":"
		"{\"name\":\"www\"}}]}}";

	/* containers merge by name; env by name; untouched containers stay */
	expect_json(smp(sts,
			"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\","
			"\"image\":\"v2\",\"env\":[{\"name\":\"B\",\"value\":\"2\"}]}]}}}}",
			0),
		    "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"template\":{\"spec\":{"
		    "\"containers\":[{\"name\":\"app\",\"image\":\"v2\",\"env\":[{\"name\":\"A\","
		    "\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]},{\"name\":\"side\","
		    "\"image\":\"s1\"}]}},\"volumeClaimTemplates\":[{\"metadata\":{\"name\":"
		    "\"data\"}},{\"metadata\":{\"name\":\"www\"}}]}}");
	/* volumeClaimTemplates has no patch strategy in Kubernetes: replaced */
	expect_json(smp(sts, "{\"spec\":{\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"x\"}}]}}",
			0),
		    "{\"metadata\":{\"finalizers\":[\"a\"]},\"spec\":{\"template\":{\"spec\":{"
		    "\"containers\":[{\"name\":\"app\",\"image\":\"v1\",\"env\":[{\"name\":\"A\","
		    "\"value\":\"1\"}]},{\"name\":\"side\",\"image\":\"s1\"}]}},"
		    "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"x\"}}]}}");
	/* $patch: delete of a list element, finalizers as a set, null deletes */
	expect_json(smp(sts,
			"{\"metadata\":{\"finalizers\":[\"b\",\"a\"]},\"spec\":{\"template\":{"
			"\"spec\":{\"containers\":[{\"name\":\"side\",\"$patch\":\"delete\"}]}},"
			"\"volumeClaimTemplates\":null}}",
			0),
		    "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]},\"spec\":{\"template\":{\"spec\":{"
		    "\"containers\":[{\"name\":\"app\",\"image\":\"v1\",\"env\":[{\"name\":\"A\","
		    "\"value\":\"1\"}]}]}}}}");
	/* $setElementOrder, $deleteFromPrimitiveList, $retainKeys, $patch: replace */
	expect_json(smp("{\"c\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"f\":[\"x\",\"y\"],"
			"\"m\":{\"k\":1,\"l\":2}}",
			"{\"$setElementOrder/c\":[{\"name\":\"b\"},{\"name\":\"a\"}],"
			"\"$deleteFromPrimitiveList/f\":[\"x\"],\"m\":{\"$retainKeys\":[\"l\"],"
			"\"l\":3}}",
			0),
		    "{\"c\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"f\":[\"y\"],\"m\":{\"l\":3}}");
	expect_json(smp("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\"},"
			"{\"name\":\"a\"}]}}}}",
			"{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":"
			"[{\"name\":\"a\"},{\"name\":\"b\"}]}}}}",
			0),
		    "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},"
		    "{\"name\":\"b\"}]}}}}");
	expect_json(smp("{\"m\":{\"k\":1}}", "{\"m\":{\"$patch\":\"replace\",\"z\":2}}", 0),
		    "{\"m\":{\"z\":2}}");
	/* errors: unknown directive, element without its merge key */
	ck_assert_ptr_null(smp("{}", "{\"$weird\":1}", -EINVAL));
	ck_assert_ptr_null(smp(sts, "{\"spec\":{\"template\":{\"spec\":{\"containers\":"
				    "[{\"image\":\"x\"}]}}}}",
			       -EINVAL));
	ck_assert_ptr_null(smp("{}", "[]", -EINVAL));
	ck_assert_ptr_nonnull(patch_strategy_for("spec.template.spec.volumes"));
	ck_assert_ptr_null(patch_strategy_for("spec.volumeClaimTemplates"));
}
END_TEST

/* JSON patch of target and ops texts. */
static json_t *jp(const char *target, const char *ops, int want_rc)
{
	json_t *t = js(target), *o = js(ops), *result = NULL;
	char msg[256];
	int r = patch_json(t, o, &result, msg, sizeof(msg));

	ck_assert_msg(r == want_rc, "%s: rc %d (%s)", ops, r, msg);
	if (r < 0)
		ck_assert(msg[0] != '\0');
	json_decref(t);
	json_decref(o);
	return result;
}

START_TEST(test_json_patch)
{
	expect_json(jp("{\"a\":{\"b\":1},\"l\":[1,2]}",
		       "[{\"op\":\"add\",\"path\":\"/a/c\",\"value\":2},"
		       "{\"op\":\"remove\",\"path\":\"/a/b\"},"
		       "{\"op\":\"add\",\"path\":\"/l/-\",\"value\":3},"
		       "{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0},"
		       "{\"op\":\"replace\",\"path\":\"/l/1\",\"value\":9},"
		       "{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/d\"},"
		       "{\"op\":\"move\",\"from\":\"/d/c\",\"path\":\"/e~1f\"},"
		       "{\"op\":\"test\",\"path\":\"/e~1f\",\"value\":2}]",
		       0),
		    "{\"a\":{\"c\":2},\"l\":[0,9,2,3],\"d\":{},\"e/f\":2}");
	ck_assert_ptr_null(jp("{}", "[{\"op\":\"remove\",\"path\":\"/x\"}]", -EINVAL));
	ck_assert_ptr_null(jp("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", -EINVAL));
	ck_assert_ptr_null(jp("{}", "[{\"op\":\"jump\",\"path\":\"/a\"}]", -EINVAL));
	ck_assert_ptr_null(jp("{}", "{}", -EINVAL));
	ck_assert_ptr_null(jp("{\"l\":[]}", "[{\"op\":\"add\",\"path\":\"/l/5\",\"value\":1}]", -EINVAL));
}
END_TEST

START_TEST(test_selectors)
{
	json_t *labels = js("{\"app\":\"web\",\"tier\":\"data\"}");
	json_t *obj = js("{\"metadata\":{\"name\":\"x\",\"namespace\":\"default\"},"
			 "\"status\":{\"phase\":\"Bound\"}}");
	struct selector sel;
	char msg[256];
	bool match;

	static const struct {
		const char *text;
		bool match;
	} label_cases[] = {
		{ "", true },
		{ "app=web", true },
		{ "app==web,tier=data", true },
		{ "app!=web", false },
		{ "app in (web, api)", true },
		{ "app notin (web)", false },
		{ "tier", true },
		{ "!tier", false },
		{ "missing!=x", true },
		{ "missing in (x)", false },
	};
	for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]); i++) {
		ck_assert_int_eq(selector_parse_labels(label_cases[i].text, &sel, msg, sizeof(msg)), 0);
		ck_assert_msg(selector_match_labels(&sel, labels) == label_cases[i].match, "%s",
			      label_cases[i].text);
	}
	ck_assert_int_eq(selector_parse_labels("app in (web", &sel, msg, sizeof(msg)), -EINVAL);
	ck_assert_int_eq(selector_parse_labels("a=b,,", &sel, msg, sizeof(msg)), -EINVAL);
	ck_assert_int_eq(selector_parse_fields("metadata.name=x", &sel, msg, sizeof(msg)), 0);
	ck_assert(selector_match_fields(&sel, obj));
	ck_assert_int_eq(selector_parse_fields("metadata.name!=x,status.phase=Bound", &sel, msg,
					       sizeof(msg)),
			 0);
	ck_assert(!selector_match_fields(&sel, obj));
	ck_assert_int_eq(selector_parse_fields("metadata.name in (x)", &sel, msg, sizeof(msg)),
			 -EINVAL);
	/* LabelSelector objects */
	json_t *ls = js("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
			"\"operator\":\"In\",\"values\":[\"data\"]},{\"key\":\"x\",\"operator\":"
			"\"DoesNotExist\"}]}");
	ck_assert_int_eq(selector_match_object(ls, labels, &match), 0);
	ck_assert(match);
	json_decref(ls);
	ls = js("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"data\"]}]}");
	ck_assert_int_eq(selector_match_object(ls, labels, &match), 0);
	ck_assert(!match);
	json_decref(ls);
	ls = js("{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Maybe\"}]}");
	ck_assert_int_eq(selector_match_object(ls, labels, &match), -EINVAL);
	json_decref(ls);
	json_decref(labels);
	json_decref(obj);
}
END_TEST

START_TEST(test_age)
{
	static const struct {
		long long seconds;
		const char *text;
	} cases[] = {
		{ -5, "<invalid>" }, { -1, "0s" },     { 0, "0s" },         { 119, "119s" },
		{ 120, "2m" },       { 185, "3m5s" },  { 600, "10m" },      { 179 * 60, "179m" },
		{ 3 * 3600, "3h" },  { 3 * 3600 + 60, "3h1m" }, { 47 * 3600, "47h" },
		{ 49 * 3600, "2d1h" }, { 8 * 86400, "8d" }, { 800 * 86400, "2y70d" },
		{ 3000 * 86400, "8y" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		api_table_age(cases[i].seconds, buf, sizeof(buf));
		ck_assert_msg(strcmp(buf, cases[i].text) == 0, "%lld: %s want %s", cases[i].seconds,
			      buf, cases[i].text);
	}
}
END_TEST

START_TEST(test_table_rows)
{
	json_t *pv = js("{\"metadata\":{\"name\":\"pv1\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\"},"
			"\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\","
			"\"ReadOnlyMany\"],\"persistentVolumeReclaimPolicy\":\"Retain\",\"claimRef\":"
			"{\"namespace\":\"ns\",\"name\":\"c\"},\"storageClassName\":\"claimfs\","
			"\"volumeMode\":\"Filesystem\"},\"status\":{\"phase\":\"Released\"}}");
	json_t *table = api_table(MODEL_PV, pv, false, API_INCLUDE_NONE, "meta.k8s.io/v1",
				  1767225600LL + 180);

	expect_json(json_incref(json_object_get(json_array_get(json_object_get(table, "rows"), 0),
						"cells")),
		    "[\"pv1\",\"1Gi\",\"RWO,ROX\",\"Retain\",\"Released\",\"ns/c\",\"claimfs\","
		    "\"3m\",\"Filesystem\"]");
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(table, "rows"), 0),
					   "object"));
	json_decref(table);
	json_decref(pv);
}
END_TEST

static Suite *patch_suite(void)
{
	Suite *s = suite_create("patch");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_yaml_scalars);
	tcase_add_test(tc, test_yaml_errors);
	tcase_add_test(tc, test_merge_patch);
	tcase_add_test(tc, test_strategic_merge);
	tcase_add_test(tc, test_json_patch);
	tcase_add_test(tc, test_selectors);
	tcase_add_test(tc, test_age);
	tcase_add_test(tc, test_table_rows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(patch_suite());
}
