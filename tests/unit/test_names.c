/*
 * test_names.c — DNS-1123 label and subdomain checks, label and annotation
 * keys and values, with Kubernetes' messages, and the field error lists
 * behind HTTP 422 answers.
 */
#include <errno.h>
#include <string.h>

#include "names.h"
#include "unit.h"

static const char *const labels_valid[] = { "a", "0", "default", "kube-system", "123-abc",
					    "a-b-c", "x1" };
static const char *const labels_invalid[] = { "", "A", "Default", "a_b", "-a", "a-", "a.b",
					      "a b", "../x", "a/b", "\xc3\xbc", "a\n" };
static const char *const subdomains_valid[] = { "a", "example.com", "data-app-python-0", "a.b.c",
						"1.2", "0-0.0-0" };
static const char *const subdomains_invalid[] = { "", "A", "a..b", ".a", "a.", "-a", "a.-b",
						  "a-.b", "../x", "..", ".", "a/b", "a_b", "a b",
						  "Data", "x%2fy" };

/* A string of n copies of c (n < sizeof buf). */
static const char *repeat(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

START_TEST(test_label_valid)
{
	char msg[512] = "untouched";

	ck_assert_int_eq(names_check_label(labels_valid[_i], msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "untouched");
}
END_TEST

START_TEST(test_label_invalid)
{
	char msg[512] = "";

	ck_assert_msg(names_check_label(labels_invalid[_i], msg, sizeof(msg)) == -EINVAL,
		      "\"%s\" accepted", labels_invalid[_i]);
	ck_assert_msg(strncmp(msg, "a lowercase RFC 1123 label must consist of lower case "
				   "alphanumeric characters or '-'", 77) == 0, "%s", msg);
	ck_assert_ptr_nonnull(strstr(msg, "regex used for validation is "
					  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
}
END_TEST

START_TEST(test_label_length)
{
	char name[100], msg[512];

	ck_assert_int_eq(names_check_label(repeat(name, 'a', 63), msg, sizeof(msg)), 0);
	ck_assert_int_eq(names_check_label(repeat(name, 'a', 64), msg, sizeof(msg)), -EINVAL);
	ck_assert_str_eq(msg, "must be no more than 63 characters");
	/* msg is optional */
	ck_assert_int_eq(names_check_label("A", NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_subdomain_valid)
{
	char msg[512];

	ck_assert_int_eq(names_check_subdomain(subdomains_valid[_i], msg, sizeof(msg)), 0);
}
END_TEST

START_TEST(test_subdomain_invalid)
{
	char msg[512] = "";

	ck_assert_msg(names_check_subdomain(subdomains_invalid[_i], msg, sizeof(msg)) == -EINVAL,
		      "\"%s\" accepted", subdomains_invalid[_i]);
	ck_assert_msg(strstr(msg, "a lowercase RFC 1123 subdomain must consist of lower case "
				  "alphanumeric characters, '-' or '.'") == msg, "%s", msg);
}
END_TEST

START_TEST(test_subdomain_length)
{
	char name[300], msg[512];

	ck_assert_int_eq(names_check_subdomain(repeat(name, 'a', 253), msg, sizeof(msg)), 0);
	ck_assert_int_eq(names_check_subdomain(repeat(name, 'a', 254), msg, sizeof(msg)), -EINVAL);
	ck_assert_str_eq(msg, "must be no more than 253 characters");
	/* a short message buffer is cut, never overrun */
	ck_assert_int_eq(names_check_subdomain("A", msg, 5), -EINVAL);
	ck_assert_str_eq(msg, "a lo");
}
END_TEST

START_TEST(test_field_error_bodies)
{
	struct names_field_errors errs = { 0 };
	char body[1024];

	names_field_error_add(&errs, NAMES_FIELD_INVALID, "metadata.name", "Bad", "%s", "detail");
	names_field_error_add(&errs, NAMES_FIELD_REQUIRED, "spec.accessModes", NULL,
			      "at least 1 access mode is required");
	names_field_error_add(&errs, NAMES_FIELD_NOT_SUPPORTED, "spec.volumeMode", "Block",
			      "supported values: \"Filesystem\"");
	names_field_error_add(&errs, NAMES_FIELD_FORBIDDEN, "spec.x", "hidden", "no");
	names_field_error_add(&errs, NAMES_FIELD_REQUIRED, "spec.resources[storage]", NULL, "%s", "");
	ck_assert_uint_eq(errs.count, 5);

	names_field_error_body(&errs.error[0], body, sizeof(body));
	ck_assert_str_eq(body, "Invalid value: \"Bad\": detail");
	names_field_error_body(&errs.error[1], body, sizeof(body));
	ck_assert_str_eq(body, "Required value: at least 1 access mode is required");
	names_field_error_body(&errs.error[2], body, sizeof(body));
	ck_assert_str_eq(body, "Unsupported value: \"Block\": supported values: \"Filesystem\"");
	names_field_error_body(&errs.error[3], body, sizeof(body));
	ck_assert_str_eq(body, "Forbidden: no"); /* Forbidden never shows the value */
	names_field_error_body(&errs.error[4], body, sizeof(body));
	ck_assert_str_eq(body, "Required value");

	ck_assert_str_eq(names_field_error_reason(NAMES_FIELD_INVALID), "FieldValueInvalid");
	ck_assert_str_eq(names_field_error_reason(NAMES_FIELD_REQUIRED), "FieldValueRequired");
	ck_assert_str_eq(names_field_error_reason(NAMES_FIELD_NOT_SUPPORTED),
			 "FieldValueNotSupported");
	ck_assert_str_eq(names_field_error_reason(NAMES_FIELD_FORBIDDEN), "FieldValueForbidden");
	ck_assert_str_eq(names_field_error_reason(NAMES_FIELD_DUPLICATE), "FieldValueDuplicate");
}
END_TEST

START_TEST(test_field_error_quoting)
{
	struct names_field_errors errs = { 0 };
	char big[10001], body[1024];

	names_field_error_add(&errs, NAMES_FIELD_INVALID, "f", "a\"b\\c\n\t\x01\xc3\xbc", NULL);
	names_field_error_body(&errs.error[0], body, sizeof(body));
	ck_assert_str_eq(body, "Invalid value: \"a\\\"b\\\\c\\n\\t\\x01\\xc3\\xbc\"");

	/* A 10 kB value is cut, with a marker, and stays NUL-terminated. */
	names_field_error_add(&errs, NAMES_FIELD_INVALID, "f", repeat(big, 'x', 10000), "d");
	ck_assert_uint_lt(strlen(errs.error[1].value), NAMES_FIELD_VALUE_MAX);
	ck_assert_ptr_nonnull(strstr(errs.error[1].value, "xxx...\""));
	names_field_error_add(&errs, NAMES_FIELD_INVALID, "f", repeat(big, '\x01', 10000), "d");
	ck_assert_uint_lt(strlen(errs.error[2].value), NAMES_FIELD_VALUE_MAX);
}
END_TEST

START_TEST(test_field_errors_message)
{
	struct names_field_errors errs = { 0 };
	char msg[2048], tiny[16];

	names_field_error_add(&errs, NAMES_FIELD_INVALID, "metadata.name", "X", "bad name");
	names_field_errors_message(&errs, "PersistentVolumeClaim", "X", msg, sizeof(msg));
	ck_assert_str_eq(msg, "PersistentVolumeClaim \"X\" is invalid: metadata.name: Invalid value: "
			      "\"X\": bad name");

	names_field_error_add(&errs, NAMES_FIELD_REQUIRED, "spec.accessModes", NULL, "need one");
	names_field_errors_message(&errs, "PersistentVolumeClaim", "X", msg, sizeof(msg));
	ck_assert_str_eq(msg, "PersistentVolumeClaim \"X\" is invalid: [metadata.name: Invalid value: "
			      "\"X\": bad name, spec.accessModes: Required value: need one]");

	ck_assert_int_eq(names_field_errors_message(&errs, "K", "X", tiny, sizeof(tiny)),
			 (int)sizeof(tiny) - 1);
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
}
END_TEST

START_TEST(test_field_errors_overflow)
{
	struct names_field_errors errs = { 0 };
	char msg[8192];

	for (int i = 0; i < NAMES_FIELD_ERRORS_MAX + 3; i++)
		names_field_error_add(&errs, NAMES_FIELD_INVALID, "f", "v", "e%d", i);
	ck_assert_uint_eq(errs.count, NAMES_FIELD_ERRORS_MAX);
	ck_assert_uint_eq(errs.dropped, 3);
	names_field_errors_message(&errs, "K", "n", msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "e7, ...]"));
	ck_assert_ptr_null(strstr(msg, "e8"));
}
END_TEST

/* ---- labels and annotations ---- */

#define QUALIFIED_MESSAGE                                                                     \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end with " \
	"an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "   \
	"for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

static const char *const label_keys_valid[] = { "app", "a", "A_b.c-D", "app.kubernetes.io/name",
						"example.com/MyName", "1/2", "x.y/Z9" };
static const char *const label_values_valid[] = { "", "a", "MyValue", "my_value", "12345",
						  "v1.2-rc_3" };

/* The body ("Invalid value: ...") of error i of errs. */
static const char *body_of(const struct names_field_errors *errs, unsigned i)
{
	static char body[1024];

	names_field_error_body(&errs->error[i], body, sizeof(body));
	return body;
}

START_TEST(test_label_key_valid)
{
	struct names_field_errors errs = { 0 };

	ck_assert_int_eq(names_check_label_key(label_keys_valid[_i], "metadata.labels", &errs), 0);
	ck_assert_int_eq(names_check_annotation_key(label_keys_valid[_i], "m", &errs), 0);
	ck_assert_uint_eq(errs.count, 0);
}
END_TEST

START_TEST(test_label_value_valid)
{
	struct names_field_errors errs = { 0 };

	ck_assert_int_eq(names_check_label_value(label_values_valid[_i], "metadata.labels", &errs),
			 0);
	ck_assert_uint_eq(errs.count, 0);
}
END_TEST

START_TEST(test_label_key_invalid)
{
	struct names_field_errors errs = { 0 };
	char key[400], name[100];

	ck_assert_int_eq(names_check_label_key("bad key", "metadata.labels", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(errs.error[0].field, "metadata.labels");
	ck_assert_str_eq(body_of(&errs, 0), "Invalid value: \"bad key\": name part " QUALIFIED_MESSAGE);

	/* More than one '/': one message naming the whole rule. */
	errs.count = 0;
	ck_assert_int_eq(names_check_label_key("a/b/c", "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(body_of(&errs, 0),
			 "Invalid value: \"a/b/c\": a qualified name " QUALIFIED_MESSAGE
			 " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");

	/* An empty name part breaks two rules, as in apimachinery. */
	errs.count = 0;
	ck_assert_int_eq(names_check_label_key("example.com/", "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 2);
	ck_assert_str_eq(body_of(&errs, 0),
			 "Invalid value: \"example.com/\": name part must be non-empty");
	ck_assert_str_eq(body_of(&errs, 1),
			 "Invalid value: \"example.com/\": name part " QUALIFIED_MESSAGE);

	errs.count = 0;
	ck_assert_int_eq(names_check_label_key("/x", "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(body_of(&errs, 0), "Invalid value: \"/x\": prefix part must be non-empty");

	/* The prefix is a lower-case subdomain for labels, any case for annotations. */
	errs.count = 0;
	ck_assert_int_eq(names_check_label_key("Example.com/x", "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_ptr_nonnull(strstr(body_of(&errs, 0), "\"Example.com/x\": prefix part a lowercase "
							"RFC 1123 subdomain must consist of"));
	errs.count = 0;
	ck_assert_int_eq(names_check_annotation_key("Example.com/x", "f", &errs), 0);
	ck_assert_int_eq(names_check_annotation_key("bad annotation key!", "metadata.annotations",
						     &errs),
			 -EINVAL);
	ck_assert_str_eq(body_of(&errs, 0),
			 "Invalid value: \"bad annotation key!\": name part " QUALIFIED_MESSAGE);
	ck_assert_int_eq(names_check_annotation_key("a_b.com/x", "f", &errs), -EINVAL);

	/* Lengths: a name part of 63, a prefix of 253. */
	errs.count = 0;
	ck_assert_int_eq(names_check_label_key(repeat(name, 'a', 63), "f", &errs), 0);
	ck_assert_int_eq(names_check_label_key(repeat(name, 'a', 64), "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_ptr_nonnull(strstr(body_of(&errs, 0), ": name part must be no more than 63 "
							"characters"));
	errs.count = 0;
	repeat(key, 'p', 254);
	strcpy(key + 254, "/x");
	ck_assert_int_eq(names_check_label_key(key, "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_ptr_nonnull(strstr(body_of(&errs, 0), ": prefix part must be no more than 253 "
							"characters"));
	repeat(key, 'p', 253);
	strcpy(key + 253, "/x");
	errs.count = 0;
	ck_assert_int_eq(names_check_label_key(key, "f", &errs), 0);
}
END_TEST

START_TEST(test_label_value_invalid)
{
	struct names_field_errors errs = { 0 };
	char value[100];
	static const char value_message[] =
		"a valid label must be an empty string or consist of alphanumeric characters, '-', "
		"'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  "
		"or 'my_value',  or '12345', regex used for validation is "
		"'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

	ck_assert_int_eq(names_check_label_value("-bad value-", "metadata.labels", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(errs.error[0].field, "metadata.labels");
	ck_assert_str_eq(errs.error[0].detail, value_message);
	ck_assert_str_eq(errs.error[0].value, "\"-bad value-\"");

	/* 81 characters: only too long; 64 starting with '-': both. */
	errs.count = 0;
	ck_assert_int_eq(names_check_label_value(repeat(value, 'v', 81), "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(errs.error[0].detail, "must be no more than 63 characters");
	errs.count = 0;
	ck_assert_int_eq(names_check_label_value(repeat(value, 'v', 63), "f", &errs), 0);
	value[0] = '-';
	ck_assert_int_eq(names_check_label_value(value, "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	errs.count = 0;
	ck_assert_int_eq(names_check_label_value(repeat(value, '-', 64), "f", &errs), -EINVAL);
	ck_assert_uint_eq(errs.count, 2);
	ck_assert_int_eq(names_check_label_value("a\n", "f", &errs), -EINVAL);
}
END_TEST

START_TEST(test_annotations_size)
{
	struct names_field_errors errs = { 0 };
	char msg[512];

	ck_assert_int_eq(names_check_annotations_size(0, "metadata.annotations", &errs), 0);
	ck_assert_int_eq(names_check_annotations_size(262144, "metadata.annotations", &errs), 0);
	ck_assert_uint_eq(errs.count, 0);
	ck_assert_int_eq(names_check_annotations_size(262145, "metadata.annotations", &errs),
			 -EINVAL);
	ck_assert_uint_eq(errs.count, 1);
	ck_assert_str_eq(names_field_error_reason(errs.error[0].type), "FieldValueTooLong");
	ck_assert_str_eq(body_of(&errs, 0), "Too long: must have at most 262144 bytes");
	names_field_errors_message(&errs, "PersistentVolumeClaim", "x", msg, sizeof(msg));
	ck_assert_str_eq(msg, "PersistentVolumeClaim \"x\" is invalid: metadata.annotations: Too "
			      "long: must have at most 262144 bytes");
}
END_TEST

/* Check suite of the names module. */
static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("dns1123");

	tcase_add_loop_test(tc, test_label_valid, 0, sizeof(labels_valid) / sizeof(labels_valid[0]));
	tcase_add_loop_test(tc, test_label_invalid, 0,
			    sizeof(labels_invalid) / sizeof(labels_invalid[0]));
	tcase_add_test(tc, test_label_length);
	tcase_add_loop_test(tc, test_subdomain_valid, 0,
			    sizeof(subdomains_valid) / sizeof(subdomains_valid[0]));
	tcase_add_loop_test(tc, test_subdomain_invalid, 0,
			    sizeof(subdomains_invalid) / sizeof(subdomains_invalid[0]));
	tcase_add_test(tc, test_subdomain_length);
	suite_add_tcase(s, tc);
	tc = tcase_create("labels_annotations");
	tcase_add_loop_test(tc, test_label_key_valid, 0,
			    sizeof(label_keys_valid) / sizeof(label_keys_valid[0]));
	tcase_add_loop_test(tc, test_label_value_valid, 0,
			    sizeof(label_values_valid) / sizeof(label_values_valid[0]));
	tcase_add_test(tc, test_label_key_invalid);
	tcase_add_test(tc, test_label_value_invalid);
	tcase_add_test(tc, test_annotations_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("field_errors");
	tcase_add_test(tc, test_field_error_bodies);
	tcase_add_test(tc, test_field_error_quoting);
	tcase_add_test(tc, test_field_errors_message);
	tcase_add_test(tc, test_field_errors_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(names_suite());
}
