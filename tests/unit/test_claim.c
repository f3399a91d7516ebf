/*
 * test_claim.c — claim requests (validation as the API server does it),
 * binding, and the JSON mapping: claim_to_json / claim_from_stored round
 * trip and the PersistentVolume rendering.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "unit.h"

#define SPEC_OK                                                                \
	"\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":" \
	"{\"storage\":\"1Mi\"}}}"
#define UID "0b6a4d8e-5f0e-4a39-9c7e-8c1d2b3a4f50"
#define T0 1795255200 /* 2026-11-21T10:00:00Z */

/* Parse a JSON text (the test's own literal: it must be valid). */
static json_t *load(const char *text)
{
	json_error_t error;
	json_t *value = json_loads(text, JSON_DECODE_ANY, &error);

	ck_assert_msg(value != NULL, "test JSON: %s: %s", error.text, text);
	return value;
}

/* claim_from_request on a JSON text; returns rc and leaves the claim in *c. */
static int parse(const char *text, const char *ns, struct claim *c, char *bad, size_t bad_size,
		 struct names_field_errors *errs)
{
	json_t *body = load(text);
	int r = claim_from_request(body, ns, "x2z4q", c, bad, bad_size, errs);

	json_decref(body);
	return r;
}

START_TEST(test_request_minimal)
{
	struct names_field_errors errs;
	struct claim c;
	char bad[512];

	ck_assert_int_eq(parse("{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\","
			       "\"metadata\":{\"name\":\"data-app-python-0\"}," SPEC_OK "}",
			       "default", &c, bad, sizeof(bad), &errs),
			 0);
	ck_assert_str_eq(c.name, "data-app-python-0");
	ck_assert_str_eq(c.namespace_name, "default");
	ck_assert_uint_eq(c.access_modes, CLAIM_READ_WRITE_ONCE);
	ck_assert_uint_eq(c.storage, 1048576);
	ck_assert_int_eq(c.storage_format, QUANTITY_BINARY_SI);
	/* no class asked for: the model fills in the default class */
	ck_assert(!c.class_set);
	ck_assert_str_eq(c.storage_class, "");
	ck_assert_str_eq(c.uid, "");
	ck_assert_int_eq(c.phase, CLAIM_PENDING);
	ck_assert(!claim_is_read_only(&c));
	claim_release(&c);
	claim_release(NULL);
}
END_TEST

START_TEST(test_request_variants)
{
	struct names_field_errors errs;
	struct claim c;
	char bad[512];

	/* no kind/apiVersion, a JSON number as quantity, the namespace repeated, ROX only */
	ck_assert_int_eq(parse("{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns1\","
			       "\"labels\":{\"app\":\"web\"},\"annotations\":{\"k\":\"v\"}},"
			       "\"spec\":{\"accessModes\":[\"ReadOnlyMany\"],\"storageClassName\":\"\","
			       "\"volumeMode\":\"Filesystem\",\"volumeName\":\"\","
			       "\"resources\":{\"requests\":{\"storage\":1048576}}}}",
			       "ns1", &c, bad, sizeof(bad), &errs),
			 0);
	ck_assert_uint_eq(c.storage, 1048576);
	ck_assert_int_eq(c.storage_format, QUANTITY_DECIMAL_SI);
	ck_assert_str_eq(c.storage_class, "");
	ck_assert(claim_is_read_only(&c));
	ck_assert_str_eq(json_string_value(json_object_get(c.labels, "app")), "web");
	claim_release(&c);

	/* generateName: prefix + the caller's 5 random characters */
	ck_assert_int_eq(parse("{\"metadata\":{\"generateName\":\"data-\"}," SPEC_OK "}", "default",
			       &c, bad, sizeof(bad), &errs),
			 0);
	ck_assert_str_eq(c.name, "data-x2z4q");
	ck_assert_str_eq(c.generate_name, "data-");
	claim_release(&c);
}
END_TEST

struct bad_case {
	const char *body;
	const char *ns;
	int rc;
	const char *field;  /* first field error (422) */
	const char *needle; /* in the 400 message, or in the first error's body (422) */
};

#define META_OK "\"metadata\":{\"name\":\"ok\"}"
#define A50 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME_254 A50 A50 A50 A50 A50 "aaaa"
#define NS_64 A50 "aaaaaaaaaaaaaa"
#define STORAGE(q)                                                             \
	"\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":" \
	"{\"storage\":" q "}}}"
#define MODES(m) \
	"\"spec\":{\"accessModes\":" m ",\"resources\":{\"requests\":{\"storage\":\"1Mi\"}}}"
#define SPEC_WITH(x)                                                           \
	"\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":" \
	"{\"storage\":\"1Mi\"}}," x "}"

static const struct bad_case bad_cases[] = {
	{ "[]", "default", -EBADMSG, NULL, "cannot unmarshal array" },
	{ "\"x\"", "default", -EBADMSG, NULL, "cannot unmarshal string" },
	{ "{\"apiVersion\":\"v2\"," META_OK "," SPEC_OK "}", "default", -EBADMSG, NULL,
	  "the API version in the data (v2) does not match the expected API version (v1)" },
	{ "{\"apiVersion\":1," META_OK "," SPEC_OK "}", "default", -EBADMSG, NULL,
	  "cannot unmarshal number into field apiVersion of type string" },
	{ "{\"kind\":\"Pod\"," META_OK "," SPEC_OK "}", "default", -EBADMSG, NULL,
	  "the kind in the data (Pod)" },
	{ "{\"metadata\":[]," SPEC_OK "}", "default", -EBADMSG, NULL, "field metadata of type object" },
	{ "{\"metadata\":{\"name\":5}," SPEC_OK "}", "default", -EBADMSG, NULL,
	  "cannot unmarshal number into field metadata.name of type string" },
	{ "{\"metadata\":{\"name\":\"a\",\"namespace\":\"other\"}," SPEC_OK "}", "default", -EBADMSG,
	  NULL, "the namespace of the provided object does not match the namespace sent on the request" },
	{ "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"7\"}," SPEC_OK "}", "default",
	  -EBADMSG, NULL, "resourceVersion should not be set on objects to be created" },
	{ "{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":1}}," SPEC_OK "}", "default", -EBADMSG,
	  NULL, "metadata.labels" },
	{ "{\"metadata\":{\"name\":\"a\",\"finalizers\":\"x\"}," SPEC_OK "}", "default", -EBADMSG,
	  NULL, "metadata.finalizers" },
	{ "{" META_OK ",\"spec\":[]}", "default", -EBADMSG, NULL, "field spec of type object" },
	{ "{" META_OK "," MODES("\"ReadWriteOnce\"") "}", "default", -EBADMSG, NULL,
	  "spec.accessModes" },
	{ "{" META_OK "," MODES("[1]") "}", "default", -EBADMSG, NULL, "spec.accessModes" },
	{ "{" META_OK "," STORAGE("true") "}", "default", -EBADMSG, NULL, "Quantity" },
	{ "{" META_OK ",\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":5}}", "default",
	  -EBADMSG, NULL, "spec.resources" },
	/* 422 Invalid */
	{ "{" SPEC_OK "}", "default", -EINVAL, "metadata.name",
	  "Required value: name or generateName is required" },
	{ "{\"metadata\":{\"name\":\"\"}," SPEC_OK "}", "default", -EINVAL, "metadata.name",
	  "Required value" },
	{ "{\"metadata\":{\"name\":\"../x\"}," SPEC_OK "}", "default", -EINVAL, "metadata.name",
	  "Invalid value: \"../x\": a lowercase RFC 1123 subdomain must consist of" },
	{ "{\"metadata\":{\"name\":\"a/b\"}," SPEC_OK "}", "default", -EINVAL, "metadata.name",
	  "a lowercase RFC 1123 subdomain" },
	{ "{\"metadata\":{\"name\":\"Data\"}," SPEC_OK "}", "default", -EINVAL, "metadata.name",
	  "a lowercase RFC 1123 subdomain" },
	{ "{\"metadata\":{\"name\":\"" NAME_254 "\"}," SPEC_OK "}", "default", -EINVAL,
	  "metadata.name", "must be no more than 253 characters" },
	{ "{\"metadata\":{\"generateName\":\"Bad-\"}," SPEC_OK "}", "default", -EINVAL,
	  "metadata.generateName", "a lowercase RFC 1123 subdomain" },
	{ "{" META_OK "," SPEC_OK "}", NS_64, -EINVAL, "metadata.namespace",
	  "must be no more than 63 characters" },
	{ "{" META_OK "," SPEC_OK "}", "Default", -EINVAL, "metadata.namespace",
	  "a lowercase RFC 1123 label must consist of" },
	{ "{" META_OK "," SPEC_OK "}", "a.b", -EINVAL, "metadata.namespace", "RFC 1123 label" },
	{ "{" META_OK "}", "default", -EINVAL, "spec.accessModes",
	  "Required value: at least 1 access mode is required" },
	{ "{" META_OK "," MODES("[]") "}", "default", -EINVAL, "spec.accessModes", "Required value" },
	{ "{" META_OK "," MODES("[\"ReadWriteSometimes\"]") "}", "default", -EINVAL,
	  "spec.accessModes",
	  "Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\"" },
	{ "{" META_OK "," MODES("[\"ReadWriteOncePod\",\"ReadWriteOnce\"]") "}", "default", -EINVAL,
	  "spec.accessModes", "Forbidden: may not use ReadWriteOncePod with other access modes" },
	{ "{" META_OK ",\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]}}", "default", -EINVAL,
	  "spec.resources[storage]", "Required value" },
	{ "{" META_OK "," STORAGE("\"1 Mi\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "Invalid value: \"1 Mi\": quantities must match the regular expression" },
	{ "{" META_OK "," STORAGE("\"1mi\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "quantities must match" },
	{ "{" META_OK "," STORAGE("\"Mi\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "quantities must match" },
	{ "{" META_OK "," STORAGE("\"1.2.3\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "quantities must match" },
	{ "{" META_OK "," STORAGE("\"0\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "Invalid value: \"0\": must be greater than zero" },
	{ "{" META_OK "," STORAGE("\"-1Mi\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "must be greater than zero" },
	{ "{" META_OK "," STORAGE("-5") "}", "default", -EINVAL, "spec.resources[storage]",
	  "must be greater than zero" },
	{ "{" META_OK "," STORAGE("\"16Ei\"") "}", "default", -EINVAL, "spec.resources[storage]",
	  "must be less than 16Ei" },
	{ "{" META_OK "," SPEC_WITH("\"volumeMode\":\"Block\"") "}", "default", -EINVAL,
	  "spec.volumeMode", "Unsupported value: \"Block\": supported values: \"Filesystem\"" },
	{ "{" META_OK "," SPEC_WITH("\"volumeName\":\"Bad_Volume\"") "}", "default", -EINVAL,
	  "spec.volumeName", "Invalid value: \"Bad_Volume\"" },
	{ "{" META_OK "," SPEC_WITH("\"storageClassName\":\"Fast_SSD\"") "}", "default", -EINVAL,
	  "spec.storageClassName", "Invalid value: \"Fast_SSD\"" },
	{ "{" META_OK "," SPEC_WITH("\"selector\":{\"matchExpressions\":[{\"key\":\"a\","
				    "\"operator\":\"Sometimes\"}]}") "}",
	  "default", -EINVAL, "spec.selector", "not a valid label selector" },
	{ "{" META_OK "," SPEC_WITH("\"dataSource\":{\"kind\":\"PersistentVolumeClaim\"}") "}",
	  "default", -EINVAL, "spec.dataSource.name", "Required value" },
	{ "{" META_OK "," SPEC_WITH("\"dataSource\":{\"kind\":\"Pod\",\"name\":\"p\"}") "}",
	  "default", -EINVAL, "spec.dataSource.kind", "Unsupported value: \"Pod\"" },
	{ "{" META_OK "," SPEC_WITH("\"dataSource\":{\"kind\":\"VolumeSnapshot\",\"name\":\"s\"}") "}",
	  "default", -EINVAL, "spec.dataSource.kind", "snapshot.storage.k8s.io/VolumeSnapshot" },
};

START_TEST(test_request_invalid)
{
	const struct bad_case *bc = &bad_cases[_i];
	struct names_field_errors errs;
	char bad[1024], body[1024];
	struct claim c;
	int r;

	r = parse(bc->body, bc->ns, &c, bad, sizeof(bad), &errs);
	ck_assert_msg(r == bc->rc, "%s: rc %d want %d (%s)", bc->body, r, bc->rc, bad);
	/* the claim is released on failure */
	ck_assert_ptr_null(c.labels);
	ck_assert_str_eq(c.name, "");
	if (r == -EBADMSG) {
		ck_assert_msg(strstr(bad, bc->needle) != NULL, "%s: message %s", bc->body, bad);
		return;
	}
	ck_assert_uint_ge(errs.count, 1);
	ck_assert_str_eq(errs.error[0].field, bc->field);
	names_field_error_body(&errs.error[0], body, sizeof(body));
	ck_assert_msg(strstr(body, bc->needle) != NULL, "%s: error %s", bc->body, body);
}
END_TEST

START_TEST(test_request_collects_every_error)
{
	struct names_field_errors errs;
	struct claim c;
	char bad[512], msg[4096];

	ck_assert_int_eq(parse("{\"metadata\":{\"name\":\"A\"},\"spec\":{\"volumeMode\":\"Block\"}}",
			       "default", &c, bad, sizeof(bad), &errs),
			 -EINVAL);
	ck_assert_uint_eq(errs.count, 4);
	ck_assert_str_eq(errs.error[0].field, "metadata.name");
	ck_assert_str_eq(errs.error[1].field, "spec.accessModes");
	ck_assert_str_eq(errs.error[2].field, "spec.resources[storage]");
	ck_assert_str_eq(errs.error[3].field, "spec.volumeMode");
	names_field_errors_message(&errs, CLAIM_KIND, "A", msg, sizeof(msg));
	ck_assert_msg(strstr(msg, "PersistentVolumeClaim \"A\" is invalid: [metadata.name: Invalid "
				  "value: \"A\": ") == msg, "%s", msg);
}
END_TEST

/* A bound claim built from a request, with fixed uid and time. */
static void make_bound(struct claim *c, const char *request)
{
	struct names_field_errors errs;
	char bad[512];

	ck_assert_int_eq(parse(request, "team-a", c, bad, sizeof(bad), &errs), 0);
	if (!c->class_set) {
		/* what the model's DefaultStorageClass admission does */
		snprintf(c->storage_class, sizeof(c->storage_class), "%s", CLAIM_DEFAULT_STORAGE_CLASS);
		c->class_set = true;
	}
	ck_assert_int_eq(claim_bind(c, UID, T0), 0);
}

START_TEST(test_bind_and_render)
{
	const char *api_version, *kind, *name, *ns, *uid, *version, *created, *storage, *class_name;
	const char *mode, *volume_mode, *volume_name, *phase, *status_mode, *capacity, *finalizer;
	const char *bind_completed, *provisioner, *label;
	struct claim c;
	json_t *obj;

	make_bound(&c, "{\"metadata\":{\"name\":\"www\",\"labels\":{\"app\":\"nginx\"}},"
		       "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
		       "\"resources\":{\"requests\":{\"storage\":\"1.5Gi\"}}}}");
	ck_assert_str_eq(c.volume_name, "pvc-" UID);
	ck_assert_int_eq(c.phase, CLAIM_BOUND);
	c.resource_version = 42;
	obj = claim_to_json(&c);
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(json_unpack(obj,
				     "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s, s:s},"
				     " s:[s]}, s:{s:[s], s:{s:{s:s}}, s:s, s:s, s:s},"
				     " s:{s:s, s:[s], s:{s:s}}}",
				     "apiVersion", &api_version, "kind", &kind, "metadata", "name", &name,
				     "namespace", &ns, "uid", &uid, "resourceVersion", &version,
				     "creationTimestamp", &created, "labels", "app", &label,
				     "annotations", "pv.kubernetes.io/bind-completed", &bind_completed,
				     "volume.kubernetes.io/storage-provisioner", &provisioner,
				     "finalizers", &finalizer, "spec", "accessModes", &mode,
				     "resources", "requests", "storage", &storage, "storageClassName",
				     &class_name, "volumeMode", &volume_mode, "volumeName", &volume_name,
				     "status", "phase", &phase, "accessModes", &status_mode, "capacity",
				     "storage", &capacity),
			 0);
	ck_assert_str_eq(api_version, "v1");
	ck_assert_str_eq(kind, "PersistentVolumeClaim");
	ck_assert_str_eq(name, "www");
	ck_assert_str_eq(ns, "team-a");
	ck_assert_str_eq(uid, UID);
	ck_assert_str_eq(version, "42");
	ck_assert_str_eq(created, "2026-11-21T10:00:00Z");
	ck_assert_str_eq(label, "nginx");
	ck_assert_str_eq(bind_completed, "yes");
	ck_assert_str_eq(provisioner, CLAIM_PROVISIONER);
	ck_assert_str_eq(finalizer, "kubernetes.io/pvc-protection");
	ck_assert_str_eq(mode, "ReadWriteOnce");
	ck_assert_str_eq(storage, "1536Mi"); /* canonical, as Kubernetes shows 1.5Gi */
	ck_assert_str_eq(class_name, "claimfs");
	ck_assert_str_eq(volume_mode, "Filesystem");
	ck_assert_str_eq(volume_name, "pvc-" UID);
	ck_assert_str_eq(phase, "Bound");
	ck_assert_str_eq(status_mode, "ReadWriteOnce");
	ck_assert_str_eq(capacity, "1536Mi");
	json_decref(obj);
	claim_release(&c);
}
END_TEST

START_TEST(test_stored_round_trip)
{
	struct claim c, back;
	json_t *first, *second;
	char *text;

	make_bound(&c, "{\"metadata\":{\"generateName\":\"data-\",\"annotations\":{\"a\":\"b\"},"
		       "\"finalizers\":[\"example.com/keep\"]},"
		       "\"spec\":{\"accessModes\":[\"ReadWriteMany\",\"ReadOnlyMany\"],"
		       "\"storageClassName\":\"fast\","
		       "\"resources\":{\"requests\":{\"storage\":\"1e3\"}}}}");
	first = claim_to_json(&c); /* resource_version 0: the stored form */
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(json_object_get(json_object_get(first, "metadata"), "resourceVersion"));
	ck_assert_int_eq(claim_from_stored(first, &back), 0);
	ck_assert_str_eq(back.name, "data-x2z4q");
	ck_assert_int_eq(back.creation_time, T0);
	ck_assert_uint_eq(back.access_modes, CLAIM_READ_WRITE_MANY | CLAIM_READ_ONLY_MANY);
	ck_assert(!claim_is_read_only(&back));
	second = claim_to_json(&back);
	text = json_dumps(second, JSON_COMPACT);
	ck_assert_msg(json_equal(first, second), "round trip differs: %s", text);
	/* the user's finalizer is kept next to the protection finalizer */
	ck_assert_ptr_nonnull(strstr(text, "\"finalizers\":[\"example.com/keep\","
					   "\"kubernetes.io/pvc-protection\"]"));
	ck_assert_ptr_nonnull(strstr(text, "\"storage\":\"1e3\""));
	free(text);
	json_decref(first);
	json_decref(second);
	claim_release(&back);
	claim_release(&c);
}
END_TEST

/* spec.volumeAttributesClassName and the status claimfsd keeps about it
 * (current class, modifyVolumeStatus) read back as they were written. */
START_TEST(test_stored_attributes_class)
{
	struct claim c, back;
	json_t *first, *second;
	char *text;

	make_bound(&c, "{\"metadata\":{\"name\":\"data\"},"
		       "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
		       "\"volumeAttributesClassName\":\"gold\","
		       "\"resources\":{\"requests\":{\"storage\":\"1Mi\"}}}}");
	ck_assert(c.attributes_class_set);
	ck_assert_str_eq(c.attributes_class, "gold");
	c.current_attributes_class_set = true;
	strcpy(c.current_attributes_class, "silver");
	strcpy(c.modify_target, "gold");
	strcpy(c.modify_status, "Infeasible");
	first = claim_to_json(&c);
	ck_assert_ptr_nonnull(first);
	ck_assert_int_eq(claim_from_stored(first, &back), 0);
	ck_assert_str_eq(back.current_attributes_class, "silver");
	ck_assert_str_eq(back.modify_status, "Infeasible");
	second = claim_to_json(&back);
	text = json_dumps(second, JSON_COMPACT);
	ck_assert_msg(json_equal(first, second), "round trip differs: %s", text);
	ck_assert_ptr_nonnull(strstr(text, "\"currentVolumeAttributesClassName\":\"silver\""));
	ck_assert_ptr_nonnull(strstr(text, "\"modifyVolumeStatus\":{\"targetVolumeAttributesClassName\":"
					   "\"gold\",\"status\":\"Infeasible\"}"));
	free(text);
	/* A finished modification leaves no modifyVolumeStatus behind, even in
	 * a status kept from the stored object. */
	back.modify_status[0] = '\0';
	ck_assert_int_eq(claim_attributes_status_put(&back, first), 0);
	ck_assert_ptr_null(json_object_get(json_object_get(first, "status"), "modifyVolumeStatus"));
	json_decref(first);
	json_decref(second);
	claim_release(&back);
	claim_release(&c);
}
END_TEST

START_TEST(test_stored_rejects_garbage)
{
	static const char *const garbage[] = {
		"{}",
		"[]",
		"{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
		"\"spec\":{\"accessModes\":[],\"resources\":{\"requests\":{\"storage\":\"1\"}},"
		"\"storageClassName\":\"c\"}}",
		"{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"},"
		"\"spec\":{\"accessModes\":[],\"resources\":{\"requests\":{\"storage\":\"x\"}},"
		"\"storageClassName\":\"c\"}}",
		"{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\","
		"\"creationTimestamp\":\"yesterday\"},\"spec\":{\"accessModes\":[],"
		"\"resources\":{\"requests\":{\"storage\":\"1\"}},\"storageClassName\":\"c\"}}",
		"{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"a\",\"namespace\":\"b\","
		"\"labels\":[]},\"spec\":{\"accessModes\":[],"
		"\"resources\":{\"requests\":{\"storage\":\"1\"}},\"storageClassName\":\"c\"}}",
	};
	struct claim c;

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		json_t *obj = load(garbage[i]);

		ck_assert_msg(claim_from_stored(obj, &c) == -EINVAL, "accepted %s", garbage[i]);
		ck_assert_ptr_null(c.labels);
		json_decref(obj);
	}
}
END_TEST

START_TEST(test_volume_render)
{
	const char *kind, *name, *uid, *policy, *phase, *ref_ns, *ref_name, *ref_uid, *capacity;
	const char *class_name, *driver, *handle;
	struct claim c;
	json_t *pv;

	make_bound(&c, "{\"metadata\":{\"name\":\"data\"},\"spec\":{\"accessModes\":[\"ReadOnlyMany\"],"
		       "\"resources\":{\"requests\":{\"storage\":\"100k\"}}}}");
	pv = claim_volume_to_json(&c, "11111111-2222-3333-4444-555555555555", "Delete");
	ck_assert_ptr_nonnull(pv);
	ck_assert_int_eq(json_unpack(pv,
				     "{s:s, s:{s:s, s:s}, s:{s:{s:s}, s:{s:s, s:s, s:s}, s:s, s:s,"
				     " s:{s:s, s:s}}, s:{s:s}}",
				     "kind", &kind, "metadata", "name", &name, "uid", &uid, "spec",
				     "capacity", "storage", &capacity, "claimRef", "namespace", &ref_ns,
				     "name", &ref_name, "uid", &ref_uid,
				     "persistentVolumeReclaimPolicy", &policy, "storageClassName",
				     &class_name, "csi", "driver", &driver, "volumeHandle", &handle,
				     "status", "phase", &phase),
			 0);
	ck_assert_str_eq(kind, "PersistentVolume");
	ck_assert_str_eq(name, "pvc-" UID);
	ck_assert_str_eq(uid, "11111111-2222-3333-4444-555555555555");
	ck_assert_str_eq(capacity, "100k");
	ck_assert_str_eq(ref_ns, "team-a");
	ck_assert_str_eq(ref_name, "data");
	ck_assert_str_eq(ref_uid, UID);
	ck_assert_str_eq(policy, "Delete");
	ck_assert_str_eq(class_name, "claimfs");
	ck_assert_str_eq(driver, CLAIM_PROVISIONER);
	ck_assert_str_eq(handle, "pvc-" UID);
	ck_assert_str_eq(phase, "Bound");
	json_decref(pv);
	/* an unbound claim has no volume */
	c.volume_name[0] = '\0';
	ck_assert_ptr_null(claim_volume_to_json(&c, "x", "Delete"));
	claim_release(&c);
}
END_TEST

START_TEST(test_time)
{
	int64_t t;
	char buf[32];

	ck_assert_int_eq(claim_format_time(T0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "2026-11-21T10:00:00Z");
	ck_assert_int_eq(claim_parse_time(buf, &t), 0);
	ck_assert_int_eq(t, T0);
	ck_assert_int_eq(claim_parse_time("2026-11-21T10:00:00", &t), -EINVAL);
	ck_assert_int_eq(claim_parse_time("2026-11-21T10:00:00Zjunk", &t), -EINVAL);
	ck_assert_int_eq(claim_parse_time("", &t), -EINVAL);
	ck_assert_int_eq(claim_format_time(T0, buf, 5), -ERANGE);
}
END_TEST

/* Check suite of the claim module. */
static Suite *claim_suite(void)
{
	Suite *s = suite_create("claim");
	TCase *tc = tcase_create("request");

	tcase_add_test(tc, test_request_minimal);
	tcase_add_test(tc, test_request_variants);
	tcase_add_loop_test(tc, test_request_invalid, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_request_collects_every_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_test(tc, test_bind_and_render);
	tcase_add_test(tc, test_stored_round_trip);
	tcase_add_test(tc, test_stored_attributes_class);
	tcase_add_test(tc, test_stored_rejects_garbage);
	tcase_add_test(tc, test_volume_render);
	tcase_add_test(tc, test_time);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(claim_suite());
}
