/*
 * selector.c — label and field selectors (selector.h).
 *
 * Owns: the selector grammar and matching rules. Pure: no allocation; the
 * bounds (SELECTOR_REQUIREMENTS_MAX requirements, SELECTOR_VALUES_MAX
 * values each, key and value lengths) turn oversized selectors into
 * -EINVAL instead of work.
 */
#include "selector.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Characters a label key or value may hold (validation of the exact
 * DNS/label rules is left to writes; selectors only need to tokenise). */
static bool selector_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '/';
}

/* Skip blanks. */
static const char *selector_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read a word into buf; returns the position after it or NULL if too long/empty. */
static const char *selector_word(const char *p, char *buf, size_t size, bool allow_empty)
{
	size_t n = 0;

	p = selector_skip(p);
	while (selector_word_char(*p)) {
		if (n + 1 >= size)
			return NULL;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	if (n == 0 && !allow_empty)
		return NULL;
	return selector_skip(p);
}

/* "(a, b)" value set of an in/notin requirement. */
static const char *selector_values(const char *p, struct selector_requirement *req)
{
	p = selector_skip(p);
	if (*p != '(')
		return NULL;
	p++;
	for (;;) {
		if (req->value_count == SELECTOR_VALUES_MAX)
			return NULL;
		p = selector_word(p, req->value[req->value_count], sizeof(req->value[0]), true);
		if (p == NULL)
			return NULL;
		req->value_count++;
		if (*p == ')')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

/* Does word at p equal kw followed by a non-word character? */
static bool selector_keyword(const char *p, const char *kw)
{
	size_t len = strlen(kw);

	return strncmp(p, kw, len) == 0 && !selector_word_char(p[len]);
}

/* One requirement starting at p; returns the position after it or NULL. */
static const char *selector_requirement(const char *p, struct selector_requirement *req,
					bool fields_only)
{
	memset(req, 0, sizeof(*req));
	p = selector_skip(p);
	if (*p == '!' && !fields_only) {
		req->op = SELECTOR_NOT_EXISTS;
		return selector_word(p + 1, req->key, sizeof(req->key), false);
	}
	p = selector_word(p, req->key, sizeof(req->key), false);
	if (p == NULL)
		return NULL;
	if (*p == '\0' || *p == ',') {
		if (fields_only)
			return NULL;
		req->op = SELECTOR_EXISTS;
		return p;
	}
	if (p[0] == '!' && p[1] == '=') {
		req->op = SELECTOR_NOT_EQUALS;
		p += 2;
	} else if (p[0] == '=' && p[1] == '=') {
		req->op = SELECTOR_EQUALS;
		p += 2;
	} else if (p[0] == '=') {
		req->op = SELECTOR_EQUALS;
		p += 1;
	} else if (!fields_only && selector_keyword(p, "in")) {
		req->op = SELECTOR_IN;
		return selector_values(p + 2, req);
	} else if (!fields_only && selector_keyword(p, "notin")) {
		req->op = SELECTOR_NOT_IN;
		return selector_values(p + 5, req);
	} else {
		return NULL;
	}
	req->value_count = 1;
	return selector_word(p, req->value[0], sizeof(req->value[0]), true);
}

/* Parse a comma-separated list of requirements. */
static int selector_parse(const char *text, bool fields_only, struct selector *ret, char *msg,
			  size_t msg_size)
{
	const char *p = text;

	memset(ret, 0, sizeof(*ret));
	if (text == NULL || *selector_skip(text) == '\0')
		return 0;
	for (;;) {
		if (ret->count == SELECTOR_REQUIREMENTS_MAX) {
			snprintf(msg, msg_size, "too many requirements in the selector");
			return -EINVAL;
		}
		p = selector_requirement(p, &ret->req[ret->count], fields_only);
		if (p == NULL) {
			snprintf(msg, msg_size, "unable to parse requirement: %.200s", text);
			return -EINVAL;
		}
		ret->count++;
		p = selector_skip(p);
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			snprintf(msg, msg_size, "unable to parse requirement: %.200s", text);
			return -EINVAL;
		}
		p++;
	}
}

int selector_parse_labels(const char *text, struct selector *ret, char *msg, size_t msg_size)
{
	return selector_parse(text, false, ret, msg, msg_size);
}

int selector_parse_fields(const char *text, struct selector *ret, char *msg, size_t msg_size)
{
	return selector_parse(text, true, ret, msg, msg_size);
}

/* Is value one of the requirement's values? */
static bool selector_has_value(const struct selector_requirement *req, const char *value)
{
	for (unsigned i = 0; i < req->value_count; i++)
		if (strcmp(req->value[i], value) == 0)
			return true;
	return false;
}

/* One requirement against a value (NULL: the key is absent). */
static bool selector_match_one(const struct selector_requirement *req, const char *value)
{
	switch (req->op) {
	case SELECTOR_EXISTS:
		return value != NULL;
	case SELECTOR_NOT_EXISTS:
		return value == NULL;
	case SELECTOR_EQUALS:
	case SELECTOR_IN:
		return value != NULL && selector_has_value(req, value);
	case SELECTOR_NOT_EQUALS:
	case SELECTOR_NOT_IN:
		return value == NULL || !selector_has_value(req, value);
	}
	return false;
}

bool selector_match_labels(const struct selector *sel, const json_t *labels)
{
	for (unsigned i = 0; i < sel->count; i++)
		if (!selector_match_one(&sel->req[i],
					json_string_value(json_object_get(labels, sel->req[i].key))))
			return false;
	return true;
}

json_t *selector_path(const json_t *obj, const char *path)
{
	char key[128];

	while (obj != NULL) {
		size_t len = strcspn(path, ".");

		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		obj = json_object_get(obj, key);
		if (path[len] == '\0')
			return (json_t *)obj;
		path += len + 1;
	}
	return NULL;
}

const char *selector_path_string(const json_t *obj, const char *path)
{
	return json_string_value(selector_path(obj, path));
}

bool selector_match_fields(const struct selector *sel, const json_t *obj)
{
	for (unsigned i = 0; i < sel->count; i++) {
		const char *value = selector_path_string(obj, sel->req[i].key);

		if (!selector_match_one(&sel->req[i], value != NULL ? value : ""))
			return false;
	}
	return true;
}

/* One matchExpressions entry. */
static int selector_match_expression(const json_t *expr, const json_t *labels, bool *ret_match)
{
	const char *key = json_string_value(json_object_get(expr, "key"));
	const char *op = json_string_value(json_object_get(expr, "operator"));
	const json_t *values = json_object_get(expr, "values"), *v;
	const char *have;
	bool found = false;
	size_t i;

	if (key == NULL || op == NULL || (values != NULL && !json_is_array(values)))
		return -EINVAL;
	have = json_string_value(json_object_get(labels, key));
	json_array_foreach(values, i, v)
		found = found || (have != NULL && json_is_string(v) &&
				  strcmp(json_string_value(v), have) == 0);
	if (strcmp(op, "In") == 0)
		*ret_match = found;
	else if (strcmp(op, "NotIn") == 0)
		*ret_match = !found;
	else if (strcmp(op, "Exists") == 0)
		*ret_match = have != NULL;
	else if (strcmp(op, "DoesNotExist") == 0)
		*ret_match = have == NULL;
	else
		return -EINVAL;
	return 0;
}

int selector_match_object(const json_t *selector, const json_t *labels, bool *ret_match)
{
	const json_t *match_labels, *exprs, *value;
	const char *key;
	size_t i;
	int r;

	*ret_match = true;
	if (selector == NULL || json_is_null(selector))
		return 0;
	if (!json_is_object(selector))
		return -EINVAL;
	match_labels = json_object_get(selector, "matchLabels");
	exprs = json_object_get(selector, "matchExpressions");
	if ((match_labels != NULL && !json_is_object(match_labels)) ||
	    (exprs != NULL && !json_is_array(exprs)))
		return -EINVAL;
	json_object_foreach((json_t *)match_labels, key, value) {
		const char *have = json_string_value(json_object_get(labels, key));

		if (!json_is_string(value))
			return -EINVAL;
		if (have == NULL || strcmp(have, json_string_value(value)) != 0)
			*ret_match = false;
	}
	json_array_foreach(exprs, i, value) {
		bool match;

		r = selector_match_expression(value, labels, &match);
		if (r < 0)
			return r;
		if (!match)
			*ret_match = false;
	}
	return 0;
}
