/*
 * test_mapping.c — the pure CSI <-> claim rules of claimfs-csi (mapping.c):
 * access modes, capacity ranges, object names, claim/snapshot parsing, page
 * tokens, snapshot ids, times.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "mapping.h"
#include "names.h"
#include "unit.h"

START_TEST(test_access_modes)
{
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_SINGLE_NODE_WRITER), MAPPING_RWO);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_SINGLE_NODE_MULTI_WRITER), MAPPING_RWO);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_SINGLE_NODE_SINGLE_WRITER), MAPPING_RWOP);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_SINGLE_NODE_READER_ONLY), MAPPING_ROX);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_MULTI_NODE_READER_ONLY), MAPPING_ROX);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_MULTI_NODE_SINGLE_WRITER), MAPPING_RWX);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_MULTI_NODE_MULTI_WRITER), MAPPING_RWX);
	ck_assert_uint_eq(mapping_k8s_mode(MAPPING_CSI_UNKNOWN), 0);
	ck_assert_uint_eq(mapping_k8s_mode(99), 0);
	ck_assert_str_eq(mapping_k8s_mode_name(MAPPING_RWOP), "ReadWriteOncePod");
	ck_assert_ptr_null(mapping_k8s_mode_name(MAPPING_RWO | MAPPING_RWX));
	ck_assert_uint_eq(mapping_k8s_mode_parse("ReadOnlyMany"), MAPPING_ROX);
	ck_assert_uint_eq(mapping_k8s_mode_parse("readonlymany"), 0);
	ck_assert(mapping_mode_read_only(MAPPING_CSI_MULTI_NODE_READER_ONLY));
	ck_assert(!mapping_mode_read_only(MAPPING_CSI_SINGLE_NODE_WRITER));
	/* The NodePublishVolume second-target table. */
	ck_assert(mapping_mode_multi_target(MAPPING_CSI_SINGLE_NODE_MULTI_WRITER));
	ck_assert(mapping_mode_multi_target(MAPPING_CSI_MULTI_NODE_MULTI_WRITER));
	ck_assert(!mapping_mode_multi_target(MAPPING_CSI_SINGLE_NODE_SINGLE_WRITER));
	ck_assert(!mapping_mode_multi_target(MAPPING_CSI_SINGLE_NODE_WRITER));
	ck_assert(!mapping_mode_multi_target(MAPPING_CSI_SINGLE_NODE_READER_ONLY));
}
END_TEST

START_TEST(test_capacity)
{
	const uint64_t gi = MAPPING_DEFAULT_CAPACITY, mi = 1u << 20;
	uint64_t bytes = 0;

	ck_assert_int_eq(mapping_capacity(0, 0, gi, 0, &bytes), 0);
	ck_assert_uint_eq(bytes, gi);
	ck_assert_int_eq(mapping_capacity((int64_t)mi, 0, gi, 0, &bytes), 0);
	ck_assert_uint_eq(bytes, mi);
	ck_assert_int_eq(mapping_capacity(0, (int64_t)(2 * mi), gi, 0, &bytes), 0);
	ck_assert_uint_eq(bytes, 2 * mi);
	ck_assert_int_eq(mapping_capacity(0, (int64_t)(4 * gi), gi, 0, &bytes), 0);
	ck_assert_uint_eq(bytes, gi);
	ck_assert_int_eq(mapping_capacity((int64_t)mi, (int64_t)mi, gi, 0, &bytes), 0);
	ck_assert_uint_eq(bytes, mi);
	/* sources: no range takes the source's size; too small is out of range */
	ck_assert_int_eq(mapping_capacity(0, 0, gi, 3 * mi, &bytes), 0);
	ck_assert_uint_eq(bytes, 3 * mi);
	ck_assert_int_eq(mapping_capacity((int64_t)(8 * mi), 0, gi, 3 * mi, &bytes), 0);
	ck_assert_uint_eq(bytes, 8 * mi);
	bytes = 7;
	ck_assert_int_eq(mapping_capacity((int64_t)mi, 0, gi, 3 * mi, &bytes), -ERANGE);
	ck_assert_int_eq(mapping_capacity(0, (int64_t)mi, gi, 3 * mi, &bytes), -ERANGE);
	ck_assert_uint_eq(bytes, 7); /* untouched on failure */
	ck_assert_int_eq(mapping_capacity(-1, 0, gi, 0, &bytes), -EINVAL);
	ck_assert_int_eq(mapping_capacity(0, -1, gi, 0, &bytes), -EINVAL);
	ck_assert_int_eq(mapping_capacity((int64_t)(2 * mi), (int64_t)mi, gi, 0, &bytes), -EINVAL);

	ck_assert(mapping_capacity_fits(mi, 0, 0));
	ck_assert(mapping_capacity_fits(mi, (int64_t)mi, (int64_t)mi));
	ck_assert(!mapping_capacity_fits(mi, (int64_t)(2 * mi), 0));
	ck_assert(!mapping_capacity_fits(2 * mi, 0, (int64_t)mi));
}
END_TEST

START_TEST(test_object_names)
{
	char buf[NAMES_SUBDOMAIN_MAX + 1], again[NAMES_SUBDOMAIN_MAX + 1], msg[256], longer[400];

	/* Valid names stay as they are. */
	ck_assert_int_eq(mapping_object_name("pvc-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab", buf,
					     sizeof(buf)), 0);
	ck_assert_str_eq(buf, "pvc-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab");
	/* Others are cleaned and fingerprinted, stably. */
	ck_assert_int_eq(mapping_object_name("Weird Volume_Name.1", buf, sizeof(buf)), 0);
	ck_assert_int_eq(strncmp(buf, "weird-volume-name-1-", 20), 0);
	ck_assert_uint_eq(strlen(buf), 28);
	ck_assert_int_eq(mapping_object_name("Weird Volume_Name.1", again, sizeof(again)), 0);
	ck_assert_str_eq(buf, again);
	ck_assert_int_eq(mapping_object_name("weird volume_name.1", again, sizeof(again)), 0);
	ck_assert_str_ne(buf, again); /* different CSI names, different claims */
	ck_assert_int_eq(mapping_object_name("---", buf, sizeof(buf)), 0);
	ck_assert_int_eq(strncmp(buf, "vol-", 4), 0);
	ck_assert_int_eq(names_check_subdomain(buf, msg, sizeof(msg)), 0);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ck_assert_int_eq(mapping_object_name(longer, buf, sizeof(buf)), 0);
	ck_assert_uint_le(strlen(buf), NAMES_SUBDOMAIN_MAX);
	ck_assert_int_eq(names_check_subdomain(buf, msg, sizeof(msg)), 0);
	ck_assert_int_eq(mapping_object_name("x", buf, 10), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_claim_parse)
{
	json_error_t jerr;
	json_t *claim = json_loads(
		"{\"metadata\":{\"name\":\"data-0\",\"namespace\":\"default\",\"annotations\":"
		"{\"csi.claimfs.io/volume-name\":\"pvc-1\",\"csi.claimfs.io/content-source\":"
		"\"snapshot:default/s\"}},\"spec\":{\"accessModes\":[\"ReadWriteOnce\","
		"\"ReadOnlyMany\",\"Bogus\"],\"resources\":{\"requests\":{\"storage\":\"1Mi\"}},"
		"\"volumeName\":\"pvc-abc\"},\"status\":{\"capacity\":{\"storage\":\"2Mi\"}}}",
		0, &jerr);
	json_t *unbound = json_loads("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
				     "\"spec\":{\"resources\":{\"requests\":{\"storage\":\"1Mi\"}}}}",
				     0, &jerr);
	json_t *pending = json_loads("{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
				     "\"spec\":{\"volumeName\":\"pvc-x\",\"resources\":{\"requests\":"
				     "{\"storage\":\"3Mi\"}}}}",
				     0, &jerr);
	struct mapping_claim c;
	char msg[256];

	ck_assert_ptr_nonnull(claim);
	ck_assert_int_eq(mapping_claim_parse(claim, &c, msg, sizeof(msg)), 0);
	ck_assert_str_eq(c.namespace_name, "default");
	ck_assert_str_eq(c.name, "data-0");
	ck_assert_str_eq(c.volume_id, "pvc-abc");
	ck_assert_uint_eq(c.capacity, 2u << 20); /* status wins over the request */
	ck_assert_uint_eq(c.modes, MAPPING_RWO | MAPPING_ROX);
	ck_assert_str_eq(c.csi_name, "pvc-1");
	ck_assert_str_eq(c.content_source, "snapshot:default/s");
	ck_assert_int_eq(mapping_claim_parse(unbound, &c, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "not bound"));
	ck_assert_int_eq(mapping_claim_parse(pending, &c, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(c.capacity, 3u << 20);
	ck_assert_ptr_null(c.csi_name);
	json_decref(claim);
	json_decref(unbound);
	json_decref(pending);
}
END_TEST

START_TEST(test_snapshot_parse)
{
	json_error_t jerr;
	json_t *snap = json_loads(
		"{\"metadata\":{\"name\":\"s1\",\"namespace\":\"ns\",\"creationTimestamp\":"
		"\"2024-01-02T03:04:05Z\",\"annotations\":{\"csi.claimfs.io/source-volume-id\":"
		"\"pvc-9\"}},\"spec\":{\"source\":{\"persistentVolumeClaimName\":\"data\"}},"
		"\"status\":{\"readyToUse\":true,\"restoreSize\":\"1Mi\",\"creationTime\":"
		"\"2024-01-02T03:04:06.5Z\"}}",
		0, &jerr);
	struct mapping_snapshot s;
	char msg[256];

	ck_assert_ptr_nonnull(snap);
	ck_assert_int_eq(mapping_snapshot_parse(snap, &s, msg, sizeof(msg)), 0);
	ck_assert_str_eq(s.namespace_name, "ns");
	ck_assert_str_eq(s.name, "s1");
	ck_assert_str_eq(s.source_claim, "data");
	ck_assert_str_eq(s.source_volume_id, "pvc-9");
	ck_assert_uint_eq(s.size, 1u << 20);
	ck_assert(s.ready);
	ck_assert_int_eq(s.created_seconds, 1704164646);
	json_decref(snap);
}
END_TEST

START_TEST(test_ids_and_tokens)
{
	char ns[NAMES_LABEL_MAX + 1], name[NAMES_SUBDOMAIN_MAX + 1];
	const char *after = "x";
	int64_t t;

	ck_assert_int_eq(mapping_snapshot_id_split("default/snap-1", ns, sizeof(ns), name,
						   sizeof(name)), 0);
	ck_assert_str_eq(ns, "default");
	ck_assert_str_eq(name, "snap-1");
	ck_assert_int_eq(mapping_snapshot_id_split("nope", ns, sizeof(ns), name, sizeof(name)),
			 -EINVAL);
	ck_assert_int_eq(mapping_snapshot_id_split("/x", ns, sizeof(ns), name, sizeof(name)),
			 -EINVAL);
	ck_assert_int_eq(mapping_snapshot_id_split("a/B", ns, sizeof(ns), name, sizeof(name)),
			 -EINVAL);
	ck_assert(mapping_snapshot_id_valid("a/b"));
	ck_assert(!mapping_snapshot_id_valid("a/b/c"));

	ck_assert_int_eq(mapping_token_parse("", mapping_volume_id_valid, &after), 0);
	ck_assert_ptr_null(after);
	ck_assert_int_eq(mapping_token_parse("after:pvc-1", mapping_volume_id_valid, &after), 0);
	ck_assert_str_eq(after, "pvc-1");
	ck_assert_int_eq(mapping_token_parse("invalid-token", mapping_volume_id_valid, &after),
			 -EINVAL);
	ck_assert_int_eq(mapping_token_parse("5", mapping_volume_id_valid, &after), -EINVAL);
	ck_assert_int_eq(mapping_token_parse("after:", mapping_volume_id_valid, &after), -EINVAL);
	ck_assert_int_eq(mapping_token_parse("after:ns/s", mapping_snapshot_id_valid, &after), 0);
	ck_assert_int_eq(mapping_token_parse("after:ns", mapping_snapshot_id_valid, &after), -EINVAL);

	ck_assert_int_eq(mapping_time_parse("1970-01-01T00:00:10Z", &t), 0);
	ck_assert_int_eq(t, 10);
	ck_assert_int_eq(mapping_time_parse("1970-01-01T00:00:10+02:00", &t), -EINVAL);
	ck_assert_int_eq(mapping_time_parse("yesterday", &t), -EINVAL);
}
END_TEST

static Suite *mapping_suite(void)
{
	Suite *s = suite_create("csi-mapping");
	TCase *tc = tcase_create("mapping");

	tcase_add_test(tc, test_access_modes);
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_object_names);
	tcase_add_test(tc, test_claim_parse);
	tcase_add_test(tc, test_snapshot_parse);
	tcase_add_test(tc, test_ids_and_tokens);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(mapping_suite());
}
