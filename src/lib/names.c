/*
 * names.c — DNS-1123 name checks and Kubernetes field error lists.
 *
 * Owns: the exact wording of validation messages (copied from
 * k8s.io/apimachinery so clients and people see what a real cluster says).
 *
 * Invariants: every buffer written here is NUL-terminated and bounded; a
 * names_field_errors list never holds more than NAMES_FIELD_ERRORS_MAX entries.
 */
#include "names.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char names_label_message[] =
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
	"and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
	"regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

static const char names_subdomain_message[] =
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
	"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
	"regex used for validation is "
	"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/* Lower-case letter or digit. */
static bool names_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One label of [a-z0-9]([-a-z0-9]*[a-z0-9])? spanning text[0..len). */
static bool names_label_matches(const char *text, size_t len)
{
	if (len == 0 || !names_is_alnum(text[0]) || !names_is_alnum(text[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!names_is_alnum(text[i]) && text[i] != '-')
			return false;
	return true;
}

/* Copy a fixed message into msg (if any) and return -EINVAL. */
static int names_fail(char *msg, size_t msg_size, const char *text)
{
	if (msg != NULL && msg_size > 0)
		snprintf(msg, msg_size, "%s", text);
	return -EINVAL;
}

/* Length-limit message "must be no more than N characters". */
static int names_fail_length(char *msg, size_t msg_size, unsigned max)
{
	if (msg != NULL && msg_size > 0)
		snprintf(msg, msg_size, "must be no more than %u characters", max);
	return -EINVAL;
}

int names_check_label(const char *name, char *msg, size_t msg_size)
{
	size_t len = strnlen(name, NAMES_LABEL_MAX + 1);

	if (len > NAMES_LABEL_MAX)
		return names_fail_length(msg, msg_size, NAMES_LABEL_MAX);
	if (!names_label_matches(name, len))
		return names_fail(msg, msg_size, names_label_message);
	return 0;
}

int names_check_subdomain(const char *name, char *msg, size_t msg_size)
{
	size_t len = strnlen(name, NAMES_SUBDOMAIN_MAX + 1);
	const char *part = name, *dot;

	if (len > NAMES_SUBDOMAIN_MAX)
		return names_fail_length(msg, msg_size, NAMES_SUBDOMAIN_MAX);
	if (len == 0)
		return names_fail(msg, msg_size, names_subdomain_message);
	/* Dot-separated labels, each matching the label pattern. */
	for (;;) {
		dot = strchr(part, '.');
		if (!names_label_matches(part, dot != NULL ? (size_t)(dot - part) : strlen(part)))
			return names_fail(msg, msg_size, names_subdomain_message);
		if (dot == NULL)
			return 0;
		part = dot + 1;
	}
}

/* ---- field errors ---------------------------------------------------------- */

/* Quote value like Go's %q (ASCII subset) into buf, cutting long values with "...". */
static void names_quote(const char *value, char *buf, size_t size)
{
	size_t n = 0;
	/* Leave room for a worst-case escape (4), the cut marker (3), the quote and NUL. */
	const size_t limit = size - 9;

	buf[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		if (n >= limit) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		if (*p == '"' || *p == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)*p;
		} else if (*p == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else if (*p == '\t') {
			buf[n++] = '\\';
			buf[n++] = 't';
		} else if (*p < 0x20 || *p >= 0x7f) {
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", *p);
		} else {
			buf[n++] = (char)*p;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
}

void names_field_error_add(struct names_field_errors *errs, enum names_field_error_type type,
			   const char *field, const char *value, const char *detail_fmt, ...)
{
	struct names_field_error *e;
	va_list ap;

	if (errs->count >= NAMES_FIELD_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	e = &errs->error[errs->count++];
	e->type = type;
	snprintf(e->field, sizeof(e->field), "%s", field);
	e->has_value = value != NULL;
	e->value[0] = '\0';
	if (value != NULL)
		names_quote(value, e->value, sizeof(e->value));
	e->detail[0] = '\0';
	if (detail_fmt != NULL) {
		va_start(ap, detail_fmt);
		vsnprintf(e->detail, sizeof(e->detail), detail_fmt, ap);
		va_end(ap);
	}
}

const char *names_field_error_reason(enum names_field_error_type type)
{
	switch (type) {
	case NAMES_FIELD_REQUIRED:
		return "FieldValueRequired";
	case NAMES_FIELD_NOT_SUPPORTED:
		return "FieldValueNotSupported";
	case NAMES_FIELD_FORBIDDEN:
		return "FieldValueForbidden";
	case NAMES_FIELD_DUPLICATE:
		return "FieldValueDuplicate";
	case NAMES_FIELD_INVALID:
	default:
		return "FieldValueInvalid";
	}
}

/* The words Go's field.ErrorType.String() prints. */
static const char *names_field_error_words(enum names_field_error_type type)
{
	switch (type) {
	case NAMES_FIELD_REQUIRED:
		return "Required value";
	case NAMES_FIELD_NOT_SUPPORTED:
		return "Unsupported value";
	case NAMES_FIELD_FORBIDDEN:
		return "Forbidden";
	case NAMES_FIELD_DUPLICATE:
		return "Duplicate value";
	case NAMES_FIELD_INVALID:
	default:
		return "Invalid value";
	}
}

int names_field_error_body(const struct names_field_error *e, char *buf, size_t size)
{
	/* Required and Forbidden never show the value (field.Error.ErrorBody). */
	bool show_value = e->has_value && e->type != NAMES_FIELD_REQUIRED &&
			  e->type != NAMES_FIELD_FORBIDDEN;
	int n;

	n = snprintf(buf, size, "%s%s%s%s%s", names_field_error_words(e->type),
		     show_value ? ": " : "", show_value ? e->value : "",
		     e->detail[0] != '\0' ? ": " : "", e->detail);
	if (n < 0)
		return -EINVAL;
	return (size_t)n < size ? n : (int)size - 1;
}

/* Append text at *pos in buf, never past size; keeps buf NUL-terminated. */
static void names_append(char *buf, size_t size, size_t *pos, const char *text)
{
	int n;

	if (*pos + 1 >= size)
		return;
	n = snprintf(buf + *pos, size - *pos, "%s", text);
	if (n > 0)
		*pos += (size_t)n < size - *pos ? (size_t)n : size - *pos - 1;
}

int names_field_errors_message(const struct names_field_errors *errs, const char *kind,
			       const char *name, char *buf, size_t size)
{
	char quoted[NAMES_FIELD_VALUE_MAX], body[NAMES_FIELD_VALUE_MAX + NAMES_FIELD_DETAIL_MAX + 32];
	size_t pos = 0;
	bool many = errs->count + errs->dropped > 1;

	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	names_quote(name != NULL ? name : "", quoted, sizeof(quoted));
	names_append(buf, size, &pos, kind);
	names_append(buf, size, &pos, " ");
	names_append(buf, size, &pos, quoted);
	names_append(buf, size, &pos, " is invalid: ");
	if (many)
		names_append(buf, size, &pos, "[");
	for (unsigned i = 0; i < errs->count; i++) {
		if (i > 0)
			names_append(buf, size, &pos, ", ");
		names_append(buf, size, &pos, errs->error[i].field);
		names_append(buf, size, &pos, ": ");
		names_field_error_body(&errs->error[i], body, sizeof(body));
		names_append(buf, size, &pos, body);
	}
	if (errs->dropped > 0)
		names_append(buf, size, &pos, ", ...");
	if (many)
		names_append(buf, size, &pos, "]");
	return (int)pos;
}
