/*
 * yaml_body.c — YAML request bodies to JSON (see yaml_body.h).
 *
 * Owns: the scalar typing rules (YAML 1.1 as go-yaml v2 applies them) and
 * the bounds on what a hostile document may make us build: nesting depth
 * (YAML_BODY_DEPTH_MAX) and the number of JSON values produced
 * (YAML_BODY_VALUES_MAX, so aliases cannot expand exponentially).
 *
 * libyaml's document loader resolves aliases to node indexes; the
 * conversion walks that node table recursively.
 */
#include "yaml_body.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define YAML_BODY_VALUES_MAX 200000

struct yaml_body_walk {
	yaml_document_t *doc;
	size_t values;
	char *msg;
	size_t msg_size;
	yaml_body_duplicate_fn on_duplicate; /* or NULL */
	void *ud;
};

/* One of the spellings in a NULL-terminated list? */
static bool yaml_body_is_one_of(const char *text, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(text, *list) == 0)
			return true;
	return false;
}

/* An integer in YAML 1.1 spelling (optional sign, decimal/0x/0o/0b, '_' ignored). */
static bool yaml_body_integer(const char *text, json_int_t *ret)
{
	char digits[72];
	size_t n = 0;
	const char *p = text;
	int base = 10;
	char *end;
	long long value;

	if (*p == '+' || *p == '-')
		digits[n++] = *p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8; /* YAML 1.1: a leading 0 is octal */
		p += 1;
	}
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(digits))
			return false;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	errno = 0;
	value = strtoll(digits, &end, base);
	if (errno != 0 || *end != '\0' || end == digits || digits[n - 1] == '-' ||
	    digits[n - 1] == '+')
		return false;
	*ret = (json_int_t)value;
	return true;
}

/* A float in YAML 1.1 spelling: digits with '.' and/or an exponent. */
static bool yaml_body_real(const char *text, double *ret)
{
	const char *p = text;
	bool digit = false, dot = false;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	for (; *p != '\0' && *p != 'e' && *p != 'E'; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (*p == '.' && !dot)
			dot = true;
		else
			return false;
	}
	if (!digit)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != '\0')
			return false;
	} else if (!dot) {
		return false;
	}
	*ret = strtod(text, &end);
	return *end == '\0' && isfinite(*ret);
}

/* A scalar node as JSON: typed when plain, a string otherwise. */
static json_t *yaml_body_scalar(const yaml_node_t *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					     "on", "On", "ON", "y", "Y", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO",
					      "off", "Off", "OFF", "n", "N", NULL };
	const char *text = (const char *)node->data.scalar.value;
	json_int_t integer;
	double real;

	/* libyaml's loader tags every untagged scalar !!str, so the tag cannot
	 * tell "!!str 3" from "3": plain scalars are always resolved. */
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(text, node->data.scalar.length);
	/* The 'y'/'n' forms are booleans only in YAML 1.1 resolvers that go-yaml
	 * v2 does not use for keys or values; keep them strings. */
	if (yaml_body_is_one_of(text, nulls))
		return json_null();
	if (yaml_body_is_one_of(text, trues) && strcasecmp(text, "y") != 0)
		return json_true();
	if (yaml_body_is_one_of(text, falses) && strcasecmp(text, "n") != 0)
		return json_false();
	if (yaml_body_integer(text, &integer))
		return json_integer(integer);
	if (yaml_body_real(text, &real))
		return json_real(real);
	if (strcmp(text, ".inf") == 0 || strcmp(text, ".nan") == 0)
		return NULL; /* JSON has no infinities */
	return json_stringn(text, node->data.scalar.length);
}

static json_t *yaml_body_node(struct yaml_body_walk *w, int index, unsigned depth);

/* A mapping node as a JSON object (keys must be scalars). */
static json_t *yaml_body_mapping(struct yaml_body_walk *w, yaml_node_t *node, unsigned depth)
{
	json_t *obj = json_object();

	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     obj != NULL && pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
		json_t *value;
		char *name;

		if (key == NULL || key->type != YAML_SCALAR_NODE) {
			snprintf(w->msg, w->msg_size, "yaml: mapping keys must be scalars (line %lu)",
				 (unsigned long)node->start_mark.line + 1);
			goto fail;
		}
		if (strcmp((const char *)key->data.scalar.value, "<<") == 0 &&
		    key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
			snprintf(w->msg, w->msg_size, "yaml: merge keys (<<) are not supported (line %lu)",
				 (unsigned long)key->start_mark.line + 1);
			goto fail;
		}
		name = strndup((const char *)key->data.scalar.value, key->data.scalar.length);
		/* A repeated key keeps its last value, as go-yaml's non-strict
		 * decoding does; strict callers hear of it. */
		if (name != NULL && w->on_duplicate != NULL && json_object_get(obj, name) != NULL &&
		    w->on_duplicate(w->ud, (unsigned long)key->start_mark.line + 1, name) < 0) {
			free(name);
			goto fail;
		}
		value = name != NULL ? yaml_body_node(w, pair->value, depth + 1) : NULL;
		if (value == NULL || json_object_set_new(obj, name, value) < 0) {
			free(name);
			goto fail;
		}
		free(name);
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

/* Convert node index (1-based) into JSON; NULL with w->msg set on failure. */
static json_t *yaml_body_node(struct yaml_body_walk *w, int index, unsigned depth)
{
	yaml_node_t *node = yaml_document_get_node(w->doc, index);
	json_t *value = NULL;

	if (node == NULL)
		return NULL;
	if (depth > YAML_BODY_DEPTH_MAX || ++w->values > YAML_BODY_VALUES_MAX) {
		snprintf(w->msg, w->msg_size, "yaml: the document is too deeply nested or too large");
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE:
		value = yaml_body_scalar(node);
		if (value == NULL && w->msg[0] == '\0')
			snprintf(w->msg, w->msg_size,
				 "yaml: line %lu: the value cannot be represented in JSON",
				 (unsigned long)node->start_mark.line + 1);
		return value;
	case YAML_SEQUENCE_NODE:
		value = json_array();
		for (yaml_node_item_t *item = node->data.sequence.items.start;
		     value != NULL && item < node->data.sequence.items.top; item++) {
			json_t *element = yaml_body_node(w, *item, depth + 1);

			if (element == NULL || json_array_append_new(value, element) < 0) {
				json_decref(value);
				return NULL;
			}
		}
		return value;
	case YAML_MAPPING_NODE:
		return yaml_body_mapping(w, node, depth);
	case YAML_NO_NODE:
	default:
		return NULL;
	}
}

int yaml_body_parse(const char *text, size_t len, json_t **ret, char *msg, size_t msg_size)
{
	return yaml_body_parse_checked(text, len, NULL, NULL, ret, msg, msg_size);
}

int yaml_body_parse_checked(const char *text, size_t len, yaml_body_duplicate_fn on_duplicate,
			    void *ud, json_t **ret, char *msg, size_t msg_size)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct yaml_body_walk w = { .doc = &doc, .msg = msg, .msg_size = msg_size,
				    .on_duplicate = on_duplicate, .ud = ud };
	json_t *value = NULL;
	int r = -EBADMSG;

	msg[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(msg, msg_size, "yaml: line %lu: %s",
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem != NULL ? parser.problem : "cannot parse");
		yaml_parser_delete(&parser);
		return -EBADMSG;
	}
	if (yaml_document_get_root_node(&doc) == NULL) {
		snprintf(msg, msg_size, "the request body is empty");
		goto out;
	}
	value = yaml_body_node(&w, 1, 0);
	if (value == NULL) {
		if (msg[0] == '\0')
			snprintf(msg, msg_size, "yaml: out of memory");
		goto out;
	}
	/* Exactly one document. */
	if (!yaml_parser_load(&parser, &extra)) {
		snprintf(msg, msg_size, "yaml: line %lu: %s",
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem != NULL ? parser.problem : "cannot parse");
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		yaml_document_delete(&extra);
		snprintf(msg, msg_size, "yaml: the body holds more than one document");
		goto out;
	}
	yaml_document_delete(&extra);
	*ret = value;
	value = NULL;
	r = 0;
out:
	json_decref(value);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}
