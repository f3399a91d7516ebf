/*
 * selector.h — label and field selectors, as the API server parses them from
 * ?labelSelector= and ?fieldSelector= and as LabelSelector objects
 * (matchLabels / matchExpressions) in specs.
 *
 * Label selector grammar (k8s.io/apimachinery/pkg/labels): comma-separated
 * requirements `key`, `!key`, `key=value`, `key==value`, `key!=value`,
 * `key in (a,b)`, `key notin (a,b)`. Field selectors: `field=value`,
 * `field==value`, `field!=value`, comma-separated; the fields each kind
 * supports are checked by the caller (selector_field_names).
 */
#ifndef CLAIMFS_SELECTOR_H
#define CLAIMFS_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SELECTOR_REQUIREMENTS_MAX 16
#define SELECTOR_VALUES_MAX 16
#define SELECTOR_TEXT_MAX 317 /* prefix/name: 253 + 1 + 63 */

enum selector_op {
	SELECTOR_EXISTS,
	SELECTOR_NOT_EXISTS,
	SELECTOR_EQUALS,
	SELECTOR_NOT_EQUALS,
	SELECTOR_IN,
	SELECTOR_NOT_IN,
};

struct selector_requirement {
	enum selector_op op;
	char key[SELECTOR_TEXT_MAX + 1];
	unsigned value_count;
	char value[SELECTOR_VALUES_MAX][64];
};

struct selector {
	unsigned count;
	struct selector_requirement req[SELECTOR_REQUIREMENTS_MAX];
};

/* Parse a label selector (NULL or "" selects everything). -EINVAL with msg. */
int selector_parse_labels(const char *text, struct selector *ret, char *msg, size_t msg_size);
/* Parse a field selector: only =, == and != . -EINVAL with msg. */
int selector_parse_fields(const char *text, struct selector *ret, char *msg, size_t msg_size);

/* Does a labels object (or NULL: no labels) satisfy sel? */
bool selector_match_labels(const struct selector *sel, const json_t *labels);
/* Does obj satisfy a field selector? Field values are read by dotted path
 * ("metadata.name", "status.phase"); a missing field reads as "". */
bool selector_match_fields(const struct selector *sel, const json_t *obj);

/* A LabelSelector object ({matchLabels, matchExpressions}) against labels.
 * NULL selector or an empty one matches everything. -EINVAL: malformed. */
int selector_match_object(const json_t *selector, const json_t *labels, bool *ret_match);

/* The value at a dotted path of obj ("metadata.name"), or NULL; borrowed
 * from obj. Keys longer than 127 bytes are never found. */
json_t *selector_path(const json_t *obj, const char *path);
/* The string at a dotted path of obj, or NULL. */
const char *selector_path_string(const json_t *obj, const char *path);

#endif
