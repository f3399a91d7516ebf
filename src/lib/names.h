/*
 * names.h — Kubernetes validation primitives: DNS-1123 names, label and
 * annotation keys and values, and the field error lists that validation
 * failures are reported with.
 *
 * These mirror k8s.io/apimachinery/pkg/util/validation (IsDNS1123Label,
 * IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue),
 * .../api/validation (ValidateAnnotations) and .../validation/field
 * (ErrorList), including their
 * message wording, so that clients see the same text a real API server gives.
 * Everything here is pure: no allocation, no I/O.
 */
#ifndef CLAIMFS_NAMES_H
#define CLAIMFS_NAMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define NAMES_LABEL_MAX 63      /* namespaces */
#define NAMES_SUBDOMAIN_MAX 253 /* object names */
#define NAMES_QUALIFIED_NAME_MAX 63 /* the name part of a label or annotation key */
#define NAMES_LABEL_VALUE_MAX 63
#define NAMES_ANNOTATIONS_SIZE_MAX 262144 /* keys and values of one object, in bytes */

/* Check name as a DNS-1123 label (namespaces). 0, or -EINVAL with the
 * Kubernetes message for the first rule it breaks written to msg. */
int names_check_label(const char *name, char *msg, size_t msg_size);
/* Check name as a DNS-1123 subdomain (claim and volume names). */
int names_check_subdomain(const char *name, char *msg, size_t msg_size);

/* ---- field errors (HTTP 422 Invalid) -------------------------------------- */

enum names_field_error_type {
	NAMES_FIELD_REQUIRED,      /* "Required value" */
	NAMES_FIELD_INVALID,       /* "Invalid value" */
	NAMES_FIELD_NOT_SUPPORTED, /* "Unsupported value" */
	NAMES_FIELD_FORBIDDEN,     /* "Forbidden" */
	NAMES_FIELD_DUPLICATE,     /* "Duplicate value" */
	NAMES_FIELD_TOO_LONG,      /* "Too long" (never shows the value) */
};

#define NAMES_FIELD_ERRORS_MAX 8
#define NAMES_FIELD_PATH_MAX 128
/* Bad values are quoted into messages; longer ones are cut (hostile 10 kB names). */
#define NAMES_FIELD_VALUE_MAX 300
#define NAMES_FIELD_DETAIL_MAX 400

struct names_field_error {
	enum names_field_error_type type;
	char field[NAMES_FIELD_PATH_MAX];   /* "metadata.name" */
	bool has_value;
	char value[NAMES_FIELD_VALUE_MAX]; /* already quoted: "\"Foo\"" */
	char detail[NAMES_FIELD_DETAIL_MAX];
};

/* Errors beyond NAMES_FIELD_ERRORS_MAX are counted in dropped, not kept. */
struct names_field_errors {
	unsigned count;
	unsigned dropped;
	struct names_field_error error[NAMES_FIELD_ERRORS_MAX];
};

/* Append one error. value NULL: the error shows no value. detail is printf-style. */
void names_field_error_add(struct names_field_errors *errs, enum names_field_error_type type,
			   const char *field, const char *value, const char *detail_fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* StatusCause.reason of an error type: "FieldValueInvalid", ... */
const char *names_field_error_reason(enum names_field_error_type type);
/* The cause message without the field: "Invalid value: \"X\": detail". Returns length. */
int names_field_error_body(const struct names_field_error *e, char *buf, size_t size);
/* The Status message: `PersistentVolumeClaim "x" is invalid: <error>` or `... [e1, e2]`. */
int names_field_errors_message(const struct names_field_errors *errs, const char *kind,
			       const char *name, char *buf, size_t size);

/* ---- labels and annotations (metadata.labels, metadata.annotations) --------- */

/* Each check adds one Invalid error at field (e.g. "metadata.labels") per rule
 * broken, showing the key or value as the API server does, and returns
 * -EINVAL if it added any, else 0. */
/* A label key: a qualified name, [DNS-1123 subdomain '/'] name of <= 63. */
int names_check_label_key(const char *key, const char *field, struct names_field_errors *errs);
/* A label value: empty, or <= 63 characters of the qualified name pattern. */
int names_check_label_value(const char *value, const char *field,
			    struct names_field_errors *errs);
/* An annotation key: a qualified name, the prefix checked case-insensitively. */
int names_check_annotation_key(const char *key, const char *field,
			       struct names_field_errors *errs);
/* total: the bytes of all annotation keys and values; over 256 KiB is "Too long". */
int names_check_annotations_size(size_t total, const char *field,
				 struct names_field_errors *errs);
/* metadata.labels and metadata.annotations of meta (an object's metadata, or
 * NULL) with the checks above, as the API server's ValidateObjectMeta does
 * for every kind. Members that are not maps of strings are skipped: the
 * decoder reports those. Returns -EINVAL if it added any error, else 0. */
int names_check_metadata(const json_t *meta, struct names_field_errors *errs);

#endif
