/*
 * fuzz_names.c — libFuzzer target for DNS-1123 name validation and field
 * error messages.
 *
 * Properties: an accepted label is also an accepted subdomain; accepted
 * names are 1..max characters of [a-z0-9.-] (labels without '.'), begin and
 * end alphanumeric; a refusal always says why; label keys and values are
 * accepted exactly when they follow the qualified-name rules, and a refusal
 * adds a field error; field errors quoting hostile values (10 kB, NUL,
 * quotes) stay within their buffers and terminated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "names.h"

/* The DNS-1123 rules, written independently of names.c. */
static bool fuzz_names_valid(const char *s, size_t max, bool dots)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && !(dots && c == '.'))
			return false;
		if (c == '.' && (i == 0 || i == len - 1 || s[i - 1] == '.' || s[i - 1] == '-' ||
				 s[i + 1] == '-'))
			return false;
	}
	return ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) &&
	       ((s[len - 1] >= 'a' && s[len - 1] <= 'z') || (s[len - 1] >= '0' && s[len - 1] <= '9'));
}

/* len bytes of [A-Za-z0-9] at both ends and [-A-Za-z0-9_.] between, written
 * independently of names.c. */
static bool fuzz_names_qualified(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && ((i == 0 || i == len - 1) || (c != '-' && c != '_' && c != '.')))
			return false;
	}
	return len > 0;
}

/* A label key: [DNS-1123 subdomain '/'] qualified name part of <= 63. */
static bool fuzz_names_label_key(const char *s)
{
	const char *slash = strchr(s, '/'), *name = slash != NULL ? slash + 1 : s;
	char prefix[NAMES_SUBDOMAIN_MAX + 2];
	size_t prefix_len = slash != NULL ? (size_t)(slash - s) : 0;

	if (slash != NULL && (strchr(name, '/') != NULL || prefix_len > NAMES_SUBDOMAIN_MAX))
		return false;
	if (slash != NULL) {
		memcpy(prefix, s, prefix_len);
		prefix[prefix_len] = '\0';
		if (!fuzz_names_valid(prefix, NAMES_SUBDOMAIN_MAX, true))
			return false;
	}
	return strlen(name) <= NAMES_QUALIFIED_NAME_MAX && fuzz_names_qualified(name, strlen(name));
}

/* Label keys and values against the rules; a refusal adds an error. */
static void fuzz_names_labels(const char *name)
{
	struct names_field_errors *errs = calloc(1, sizeof(*errs));
	size_t len = strlen(name);
	bool value_ok = len == 0 || (len <= NAMES_LABEL_VALUE_MAX && fuzz_names_qualified(name, len));
	int r;

	if (!errs)
		return;
	r = names_check_label_key(name, "metadata.labels", errs);
	if ((r == 0) != fuzz_names_label_key(name) || (r != 0) != (errs->count > 0))
		fuzz_fail("names_check_label_key(\"%.64s\") = %d disagrees with the rules", name, r);
	errs->count = errs->dropped = 0;
	r = names_check_label_value(name, "metadata.labels", errs);
	if ((r == 0) != value_ok || (r != 0) != (errs->count > 0))
		fuzz_fail("names_check_label_value(\"%.64s\") = %d disagrees with the rules", name, r);
	free(errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_strndup(data, size);
	char msg[512];
	int label, subdomain;

	if (!name)
		return 0;
	msg[0] = '\0';
	label = names_check_label(name, msg, sizeof(msg));
	if (label != 0 && (label != -EINVAL || msg[0] == '\0'))
		fuzz_fail("names_check_label(\"%.64s\") = %d without a message", name, label);
	if ((label == 0) != fuzz_names_valid(name, NAMES_LABEL_MAX, false))
		fuzz_fail("names_check_label(\"%.64s\") = %d disagrees with the rules", name, label);
	msg[0] = '\0';
	subdomain = names_check_subdomain(name, msg, sizeof(msg));
	if (subdomain != 0 && (subdomain != -EINVAL || msg[0] == '\0'))
		fuzz_fail("names_check_subdomain(\"%.64s\") = %d without a message", name, subdomain);
	if ((subdomain == 0) != fuzz_names_valid(name, NAMES_SUBDOMAIN_MAX, true))
		fuzz_fail("names_check_subdomain(\"%.64s\") = %d disagrees with the rules", name,
			  subdomain);
	if (label == 0 && subdomain != 0)
		fuzz_fail("\"%.64s\" is a label but not a subdomain", name);

	fuzz_names_labels(name);

	/* Hostile values quoted into field errors and the Status message. */
	struct names_field_errors *errs = calloc(1, sizeof(*errs));
	if (errs) {
		char body[256], text[1024];
		for (int i = 0; i < NAMES_FIELD_ERRORS_MAX + 2; i++)
			names_field_error_add(errs, (enum names_field_error_type)(i % 5), "metadata.name",
					      name, "%s", msg);
		if (errs->count != NAMES_FIELD_ERRORS_MAX || errs->dropped != 2)
			fuzz_fail("field errors kept %u dropped %u", errs->count, errs->dropped);
		for (unsigned i = 0; i < errs->count; i++) {
			if (strnlen(errs->error[i].value, sizeof(errs->error[i].value)) ==
			    sizeof(errs->error[i].value))
				fuzz_fail("field error value not terminated");
			names_field_error_body(&errs->error[i], body, sizeof(body));
			if (strnlen(body, sizeof(body)) == sizeof(body))
				fuzz_fail("field error body not terminated");
		}
		names_field_errors_message(errs, "PersistentVolumeClaim", name, text, sizeof(text));
		if (strnlen(text, sizeof(text)) == sizeof(text))
			fuzz_fail("Status message not terminated");
		free(errs);
	}
	free(name);
	return 0;
}
