/*
 * names.c — DNS-1123 name checks, label and annotation checks, and
 * Kubernetes field error lists.
 *
 * Owns: the exact wording of validation messages (copied from
 * k8s.io/apimachinery so clients and people see what a real cluster says).
 * A label or annotation check adds one field error per rule broken, as
 * apimachinery's IsQualifiedName / IsValidLabelValue return one message per
 * rule, so a key can be both too long and badly formed.
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

/* Lower-case letter or digit; any letter when fold (annotation keys are
 * checked lower-cased, ValidateAnnotations' strings.ToLower). */
static bool names_is_alnum(char c, bool fold)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (fold && c >= 'A' && c <= 'Z');
}

/* One label of [a-z0-9]([-a-z0-9]*[a-z0-9])? spanning text[0..len). */
static bool names_label_matches(const char *text, size_t len, bool fold)
{
	if (len == 0 || !names_is_alnum(text[0], fold) || !names_is_alnum(text[len - 1], fold))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!names_is_alnum(text[i], fold) && text[i] != '-')
			return false;
	return true;
}

/* Dot-separated labels spanning text[0..len): the subdomain pattern. */
static bool names_subdomain_matches(const char *text, size_t len, bool fold)
{
	const char *end = text + len, *dot;

	if (len == 0)
		return false;
	for (;;) {
		dot = memchr(text, '.', (size_t)(end - text));
		if (!names_label_matches(text, dot != NULL ? (size_t)(dot - text) : (size_t)(end - text),
					 fold))
			return false;
		if (dot == NULL)
			return true;
		text = dot + 1;
	}
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
	if (!names_label_matches(name, len, false))
		return names_fail(msg, msg_size, names_label_message);
	return 0;
}

int names_check_subdomain(const char *name, char *msg, size_t msg_size)
{
	size_t len = strnlen(name, NAMES_SUBDOMAIN_MAX + 1);

	if (len > NAMES_SUBDOMAIN_MAX)
		return names_fail_length(msg, msg_size, NAMES_SUBDOMAIN_MAX);
	if (!names_subdomain_matches(name, len, false))
		return names_fail(msg, msg_size, names_subdomain_message);
	return 0;
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
	case NAMES_FIELD_TOO_LONG:
		return "FieldValueTooLong";
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
	case NAMES_FIELD_TOO_LONG:
		return "Too long";
	case NAMES_FIELD_INVALID:
	default:
		return "Invalid value";
	}
}

int names_field_error_body(const struct names_field_error *e, char *buf, size_t size)
{
	/* Required, Forbidden and Too long never show the value (field.Error.ErrorBody). */
	bool show_value = e->has_value && e->type != NAMES_FIELD_REQUIRED &&
			  e->type != NAMES_FIELD_FORBIDDEN && e->type != NAMES_FIELD_TOO_LONG;
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

/* ---- labels and annotations ------------------------------------------------ */

/* The pattern of a qualified name's name part and of a label value
 * (apimachinery's qualifiedNameFmt), and RegexError's wording around it. */
#define NAMES_QUALIFIED_RULE                                                             \
	"consist of alphanumeric characters, '-', '_' or '.', and must start and end with an " \
	"alphanumeric character"
#define NAMES_QUALIFIED_REGEX "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define NAMES_QUALIFIED_EXAMPLES \
	" (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '"

static const char names_qualified_message[] =
	"must " NAMES_QUALIFIED_RULE NAMES_QUALIFIED_EXAMPLES NAMES_QUALIFIED_REGEX "')";

static const char names_label_value_message[] =
	"a valid label must be an empty string or " NAMES_QUALIFIED_RULE
	" (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
	"'(" NAMES_QUALIFIED_REGEX ")?')";

/* Letter (either case) or digit. */
static bool names_is_qualified_end(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* text[0..len) matches ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]. */
static bool names_qualified_matches(const char *text, size_t len)
{
	if (len == 0 || !names_is_qualified_end(text[0]) || !names_is_qualified_end(text[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!names_is_qualified_end(text[i]) && text[i] != '-' && text[i] != '_' &&
		    text[i] != '.')
			return false;
	return true;
}

/* IsQualifiedName on key (prefix checked case-folded when fold); every
 * message is added as an Invalid error showing key. */
static int names_check_qualified(const char *key, bool fold, const char *field,
				 struct names_field_errors *errs)
{
	const char *slash = strchr(key, '/'), *name = key;
	unsigned before = errs->count + errs->dropped;
	size_t prefix_len, name_len;

	if (slash != NULL && strchr(slash + 1, '/') != NULL) {
		names_field_error_add(errs, NAMES_FIELD_INVALID, field, key,
				      "a qualified name %s with an optional DNS subdomain prefix and "
				      "'/' (e.g. 'example.com/MyName')",
				      names_qualified_message);
		return -EINVAL;
	}
	if (slash != NULL) {
		prefix_len = (size_t)(slash - key);
		name = slash + 1;
		if (prefix_len == 0)
			names_field_error_add(errs, NAMES_FIELD_INVALID, field, key,
					      "prefix part must be non-empty");
		if (prefix_len > NAMES_SUBDOMAIN_MAX)
			names_field_error_add(errs, NAMES_FIELD_INVALID, field, key,
					      "prefix part must be no more than %u characters",
					      NAMES_SUBDOMAIN_MAX);
		if (prefix_len > 0 && !names_subdomain_matches(key, prefix_len, fold))
			names_field_error_add(errs, NAMES_FIELD_INVALID, field, key,
					      "prefix part %s", names_subdomain_message);
	}
	name_len = strlen(name);
	if (name_len == 0)
		names_field_error_add(errs, NAMES_FIELD_INVALID, field, key,
				      "name part must be non-empty");
	else if (name_len > NAMES_QUALIFIED_NAME_MAX)
		names_field_error_add(errs, NAMES_FIELD_INVALID, field, key,
				      "name part must be no more than %u characters",
				      NAMES_QUALIFIED_NAME_MAX);
	if (!names_qualified_matches(name, name_len))
		names_field_error_add(errs, NAMES_FIELD_INVALID, field, key, "name part %s",
				      names_qualified_message);
	return errs->count + errs->dropped > before ? -EINVAL : 0;
}

int names_check_label_key(const char *key, const char *field, struct names_field_errors *errs)
{
	return names_check_qualified(key, false, field, errs);
}

int names_check_label_value(const char *value, const char *field,
			    struct names_field_errors *errs)
{
	size_t len = strlen(value);
	int r = 0;

	if (len > NAMES_LABEL_VALUE_MAX) {
		names_field_error_add(errs, NAMES_FIELD_INVALID, field, value,
				      "must be no more than %u characters", NAMES_LABEL_VALUE_MAX);
		r = -EINVAL;
	}
	if (len > 0 && !names_qualified_matches(value, len)) {
		names_field_error_add(errs, NAMES_FIELD_INVALID, field, value, "%s",
				      names_label_value_message);
		r = -EINVAL;
	}
	return r;
}

int names_check_annotation_key(const char *key, const char *field,
			       struct names_field_errors *errs)
{
	return names_check_qualified(key, true, field, errs);
}

int names_check_annotations_size(size_t total, const char *field,
				 struct names_field_errors *errs)
{
	if (total <= NAMES_ANNOTATIONS_SIZE_MAX)
		return 0;
	names_field_error_add(errs, NAMES_FIELD_TOO_LONG, field, NULL,
			      "must have at most %u bytes", NAMES_ANNOTATIONS_SIZE_MAX);
	return -EINVAL;
}

int names_check_metadata(const json_t *meta, struct names_field_errors *errs)
{
	const json_t *labels = json_object_get(meta, "labels");
	const json_t *annotations = json_object_get(meta, "annotations");
	unsigned before = errs->count + errs->dropped;
	size_t total = 0;
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)labels, key, value) {
		names_check_label_key(key, "metadata.labels", errs);
		if (json_is_string(value))
			names_check_label_value(json_string_value(value), "metadata.labels", errs);
	}
	json_object_foreach((json_t *)annotations, key, value) {
		names_check_annotation_key(key, "metadata.annotations", errs);
		total += strlen(key) + json_string_length(value);
	}
	names_check_annotations_size(total, "metadata.annotations", errs);
	return errs->count + errs->dropped > before ? -EINVAL : 0;
}
