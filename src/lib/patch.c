/*
 * patch.c — JSON merge patch, strategic merge patch, JSON patch (patch.h).
 *
 * Owns: the table of list merge strategies (patch_list_rules, a copy of the
 * patchStrategy/patchMergeKey tags Kubernetes puts on the fields of the
 * kinds claimfs serves) and the three patch algorithms.
 *
 * Invariants: inputs are read only (deep copies are taken before anything
 * changes); every function returns a fresh tree or an error, never a half
 * patched tree.
 */
#include "patch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATCH_PATH_MAX 512
#define PATCH_DEPTH_MAX 64

/* Lists that merge. Pod-template paths cover containers, initContainers
 * and ephemeralContainers alike. */
static const struct patch_list_rule patch_list_rules[] = {
	{ "metadata.finalizers", NULL },
	{ "metadata.ownerReferences", "uid" },
	{ "spec.template.metadata.finalizers", NULL },
	{ "spec.template.metadata.ownerReferences", "uid" },
	{ "spec.template.spec.containers", "name" },
	{ "spec.template.spec.initContainers", "name" },
	{ "spec.template.spec.ephemeralContainers", "name" },
	{ "spec.template.spec.containers.ports", "containerPort" },
	{ "spec.template.spec.initContainers.ports", "containerPort" },
	{ "spec.template.spec.containers.env", "name" },
	{ "spec.template.spec.initContainers.env", "name" },
	{ "spec.template.spec.containers.volumeMounts", "mountPath" },
	{ "spec.template.spec.initContainers.volumeMounts", "mountPath" },
	{ "spec.template.spec.containers.volumeDevices", "devicePath" },
	{ "spec.template.spec.initContainers.volumeDevices", "devicePath" },
	{ "spec.template.spec.volumes", "name" },
	{ "spec.template.spec.imagePullSecrets", "name" },
	{ "spec.template.spec.hostAliases", "ip" },
	{ "spec.template.spec.schedulingGates", "name" },
	{ "spec.template.spec.topologySpreadConstraints", "topologyKey" },
	{ "status.conditions", "type" },
};

const struct patch_list_rule *patch_strategy_for(const char *path)
{
	for (size_t i = 0; i < sizeof(patch_list_rules) / sizeof(patch_list_rules[0]); i++)
		if (strcmp(patch_list_rules[i].path, path) == 0)
			return &patch_list_rules[i];
	return NULL;
}

/* ---- RFC 7386 ---------------------------------------------------------------- */

json_t *patch_merge(const json_t *target, const json_t *patch)
{
	const char *key;
	json_t *result, *value;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	result = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (result == NULL)
		return NULL;
	json_object_foreach((json_t *)patch, key, value) {
		if (json_is_null(value)) {
			json_object_del(result, key);
			continue;
		}
		json_t *merged = patch_merge(json_object_get(result, key), value);

		if (merged == NULL || json_object_set_new(result, key, merged) < 0) {
			json_decref(result);
			return NULL;
		}
	}
	return result;
}

/* ---- strategic merge patch ------------------------------------------------------------ */

struct patch_smp {
	char *msg;
	size_t msg_size;
};

/* Record an error; returns -EINVAL. */
__attribute__((format(printf, 2, 3))) static int patch_fail(struct patch_smp *p, const char *fmt,
							    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, p->msg_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}


/* path + "." + key into buf ("" + key = key). */
static void patch_join(char *buf, size_t size, const char *path, const char *key)
{
	snprintf(buf, size, "%s%s%s", path, path[0] != '\0' ? "." : "", key);
}

/* Index of the element of list whose member key equals value, or -1. */
static long patch_find(const json_t *list, const char *key, const json_t *value)
{
	const json_t *element;
	size_t i;

	json_array_foreach(list, i, element)
		if (json_is_object(element) && json_equal(json_object_get(element, key), value))
			return (long)i;
	return -1;
}

static int patch_smp_object(struct patch_smp *p, json_t *target, const json_t *patch,
			    const char *path, unsigned depth);

/* Merge a list of objects by key: patch elements update, add or delete. */
static int patch_smp_keyed_list(struct patch_smp *p, json_t *list, const json_t *patch,
				const char *key, const char *path, unsigned depth)
{
	const json_t *element;
	size_t i;
	int r;

	json_array_foreach(patch, i, element) {
		const json_t *value = json_object_get(element, key);
		const char *directive = json_string_value(json_object_get(element, "$patch"));
		long at;

		if (!json_is_object(element))
			return patch_fail(p, "the list %s holds a value that is not an object", path);
		if (directive != NULL && strcmp(directive, "replace") == 0)
			continue; /* handled by the caller */
		if (value == NULL)
			return patch_fail(p, "map: %s does not contain the patch merge key", path);
		at = patch_find(list, key, value);
		if (directive != NULL && strcmp(directive, "delete") == 0) {
			if (at >= 0 && json_array_remove(list, (size_t)at) < 0)
				return -ENOMEM;
			continue;
		}
		if (directive != NULL && strcmp(directive, "merge") != 0)
			return patch_fail(p, "unknown $patch directive in %s", path);
		if (at < 0) {
			json_t *added = json_object();

			if (added == NULL || json_array_append_new(list, added) < 0)
				return -ENOMEM;
			at = (long)json_array_size(list) - 1;
		}
		r = patch_smp_object(p, json_array_get(list, (size_t)at), element, path, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reorder list by the $setElementOrder list: named elements first, in that
 * order, then the others as they were. */
static int patch_smp_order(json_t *list, const json_t *order, const char *key)
{
	json_t *sorted = json_array(), *copy = json_copy(list);
	const json_t *want;
	size_t i;

	if (sorted == NULL || copy == NULL)
		goto fail;
	json_array_foreach(order, i, want) {
		const json_t *wanted = key != NULL ? json_object_get(want, key) : want;
		long at = -1;

		for (size_t k = 0; at < 0 && k < json_array_size(copy); k++) {
			const json_t *element = json_array_get(copy, k);

			if (json_equal(key != NULL ? json_object_get(element, key) : element, wanted))
				at = (long)k;
		}
		if (at < 0)
			continue;
		if (json_array_append(sorted, json_array_get(copy, (size_t)at)) < 0 ||
		    json_array_remove(copy, (size_t)at) < 0)
			goto fail;
	}
	if (json_array_extend(sorted, copy) < 0 || json_array_clear(list) < 0 ||
	    json_array_extend(list, sorted) < 0)
		goto fail;
	json_decref(sorted);
	json_decref(copy);
	return 0;
fail:
	json_decref(sorted);
	json_decref(copy);
	return -ENOMEM;
}

/* The list under key of target, patched: merged by the rule for its path, or replaced. */
static int patch_smp_list(struct patch_smp *p, json_t *target, const char *name,
			  const json_t *patch, const char *path, unsigned depth)
{
	const struct patch_list_rule *rule = patch_strategy_for(path);
	json_t *list = json_object_get(target, name), *merged;
	const json_t *element;
	size_t i;

	/* A {"$patch": "replace"} element replaces the whole list with the rest. */
	json_array_foreach(patch, i, element) {
		const char *directive = json_string_value(json_object_get(element, "$patch"));

		if (rule != NULL && directive != NULL && strcmp(directive, "replace") == 0)
			rule = NULL;
	}
	if (rule == NULL) {
		merged = json_array();
		if (merged == NULL)
			return -ENOMEM;
		json_array_foreach(patch, i, element) {
			if (json_is_object(element) && json_object_get(element, "$patch") != NULL)
				continue;
			if (json_array_append_new(merged, json_deep_copy(element)) < 0) {
				json_decref(merged);
				return -ENOMEM;
			}
		}
		return json_object_set_new(target, name, merged) == 0 ? 0 : -ENOMEM;
	}
	if (!json_is_array(list)) {
		if (json_object_set_new(target, name, json_array()) < 0)
			return -ENOMEM;
		list = json_object_get(target, name);
	}
	if (rule->merge_key == NULL) {
		json_array_foreach(patch, i, element) {
			bool present = false;
			const json_t *have;
			size_t k;

			json_array_foreach(list, k, have)
				present = present || json_equal(have, element);
			if (!present && json_array_append_new(list, json_deep_copy(element)) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	return patch_smp_keyed_list(p, list, patch, rule->merge_key, path, depth);
}

/* Remove the values of the $deleteFromPrimitiveList/<name> directive. */
static int patch_smp_delete_from(json_t *target, const char *name, const json_t *values)
{
	json_t *list = json_object_get(target, name);
	const json_t *value;
	size_t i;

	if (!json_is_array(list))
		return 0;
	json_array_foreach(values, i, value)
		for (size_t k = json_array_size(list); k-- > 0;)
			if (json_equal(json_array_get(list, k), value) && json_array_remove(list, k) < 0)
				return -ENOMEM;
	return 0;
}

/* One member of a patch object applied to target. */
static int patch_smp_member(struct patch_smp *p, json_t *target, const char *key,
			    const json_t *value, const char *path, unsigned depth)
{
	char sub[PATCH_PATH_MAX];
	json_t *have;

	patch_join(sub, sizeof(sub), path, key);
	if (json_is_null(value)) {
		json_object_del(target, key);
		return 0;
	}
	if (json_is_array(value))
		return patch_smp_list(p, target, key, value, sub, depth);
	if (json_is_object(value)) {
		const char *directive = json_string_value(json_object_get(value, "$patch"));

		if (directive != NULL && strcmp(directive, "delete") == 0) {
			json_object_del(target, key);
			return 0;
		}
		have = json_object_get(target, key);
		if (!json_is_object(have) || (directive != NULL && strcmp(directive, "replace") == 0)) {
			if (json_object_set_new(target, key, json_object()) < 0)
				return -ENOMEM;
			have = json_object_get(target, key);
		}
		return patch_smp_object(p, have, value, sub, depth + 1);
	}
	return json_object_set_new(target, key, json_deep_copy(value)) == 0 ? 0 : -ENOMEM;
}

/* Apply patch (an object) to target (an object) in place. */
static int patch_smp_object(struct patch_smp *p, json_t *target, const json_t *patch,
			    const char *path, unsigned depth)
{
	static const char order_prefix[] = "$setElementOrder/";
	static const char delete_prefix[] = "$deleteFromPrimitiveList/";
	const json_t *retain = json_object_get(patch, "$retainKeys"), *value;
	const char *key;
	int r;

	if (depth > PATCH_DEPTH_MAX)
		return patch_fail(p, "the patch is nested too deeply");
	json_object_foreach((json_t *)patch, key, value) {
		if (key[0] != '$') {
			r = patch_smp_member(p, target, key, value, path, depth);
			if (r < 0)
				return r;
		} else if (strcmp(key, "$patch") != 0 && strcmp(key, "$retainKeys") != 0 &&
			   strncmp(key, order_prefix, sizeof(order_prefix) - 1) != 0 &&
			   strncmp(key, delete_prefix, sizeof(delete_prefix) - 1) != 0) {
			return patch_fail(p, "unknown strategic merge patch directive %s", key);
		}
	}
	json_object_foreach((json_t *)patch, key, value) {
		char sub[PATCH_PATH_MAX];
		const struct patch_list_rule *rule;

		if (strncmp(key, delete_prefix, sizeof(delete_prefix) - 1) == 0 && json_is_array(value)) {
			r = patch_smp_delete_from(target, key + sizeof(delete_prefix) - 1, value);
			if (r < 0)
				return r;
		}
		if (strncmp(key, order_prefix, sizeof(order_prefix) - 1) != 0 || !json_is_array(value))
			continue;
		/* key itself drives the iteration: never move it. */
		const char *list = key + sizeof(order_prefix) - 1;

		patch_join(sub, sizeof(sub), path, list);
		rule = patch_strategy_for(sub);
		if (rule != NULL && json_is_array(json_object_get(target, list))) {
			r = patch_smp_order(json_object_get(target, list), value, rule->merge_key);
			if (r < 0)
				return r;
		}
	}
	if (json_is_array(retain)) {
		void *iter = json_object_iter(target);

		while (iter != NULL) {
			const char *name = json_object_iter_key(iter);
			bool keep = false;
			size_t i;

			json_array_foreach(retain, i, value)
				keep = keep || (json_is_string(value) &&
						strcmp(json_string_value(value), name) == 0);
			iter = json_object_iter_next(target, iter);
			if (!keep)
				json_object_del(target, name);
		}
	}
	return 0;
}

int patch_strategic(const json_t *target, const json_t *patch, json_t **ret, char *msg,
		    size_t msg_size)
{
	struct patch_smp p = { msg, msg_size };
	json_t *result;
	int r;

	msg[0] = '\0';
	if (!json_is_object(patch)) {
		snprintf(msg, msg_size, "a strategic merge patch must be a JSON object");
		return -EINVAL;
	}
	result = json_is_object(target) ? json_deep_copy(target) : json_object();
	if (result == NULL)
		return -ENOMEM;
	r = patch_smp_object(&p, result, patch, "", 0);
	if (r < 0) {
		json_decref(result);
		return r;
	}
	*ret = result;
	return 0;
}

/* ---- RFC 6902 ------------------------------------------------------------------ */

/* Unescape one reference token (~1 -> /, ~0 -> ~) into buf. */
static int patch_token(const char *start, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = start[i];

		if (c == '~') {
			if (i + 1 >= len || (start[i + 1] != '0' && start[i + 1] != '1'))
				return -EINVAL;
			c = start[++i] == '0' ? '~' : '/';
		}
		if (n + 1 >= size)
			return -EINVAL;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

/* Array index of a token ("-" = end when allow_end). */
static int patch_index(const char *token, size_t size, bool allow_end, size_t *ret)
{
	char *end;
	unsigned long value;

	if (allow_end && strcmp(token, "-") == 0) {
		*ret = size;
		return 0;
	}
	if (token[0] < '0' || token[0] > '9' || (token[0] == '0' && token[1] != '\0'))
		return -EINVAL;
	value = strtoul(token, &end, 10);
	if (*end != '\0' || value > size || (!allow_end && value == size))
		return -EINVAL;
	*ret = value;
	return 0;
}

/* Resolve pointer to its parent container and last token. */
static int patch_resolve(json_t *doc, const char *pointer, json_t **ret_parent, char *last,
			 size_t last_size)
{
	json_t *node = doc;
	const char *p = pointer;

	if (p[0] != '/')
		return -EINVAL;
	for (;;) {
		const char *slash = strchr(p + 1, '/');
		size_t len = slash != NULL ? (size_t)(slash - p - 1) : strlen(p + 1);
		char token[PATCH_PATH_MAX];
		size_t index;

		if (patch_token(p + 1, len, token, sizeof(token)) < 0)
			return -EINVAL;
		if (slash == NULL) {
			*ret_parent = node;
			snprintf(last, last_size, "%s", token);
			return 0;
		}
		if (json_is_object(node))
			node = json_object_get(node, token);
		else if (json_is_array(node) &&
			 patch_index(token, json_array_size(node), false, &index) == 0)
			node = json_array_get(node, index);
		else
			node = NULL;
		if (node == NULL)
			return -ENOENT;
		p = slash;
	}
}

/* The value at pointer ("" = the whole document), borrowed. */
static json_t *patch_get(json_t *doc, const char *pointer)
{
	char last[PATCH_PATH_MAX];
	json_t *parent;
	size_t index;

	if (pointer[0] == '\0')
		return doc;
	if (patch_resolve(doc, pointer, &parent, last, sizeof(last)) < 0)
		return NULL;
	if (json_is_object(parent))
		return json_object_get(parent, last);
	if (json_is_array(parent) && patch_index(last, json_array_size(parent), false, &index) == 0)
		return json_array_get(parent, index);
	return NULL;
}

/* add (value consumed). */
static int patch_add(json_t **doc, const char *pointer, json_t *value)
{
	char last[PATCH_PATH_MAX];
	json_t *parent;
	size_t index;

	if (pointer[0] == '\0') {
		json_decref(*doc);
		*doc = value;
		return 0;
	}
	if (patch_resolve(*doc, pointer, &parent, last, sizeof(last)) < 0)
		goto fail;
	if (json_is_object(parent))
		return json_object_set_new(parent, last, value) == 0 ? 0 : -ENOMEM;
	if (json_is_array(parent) && patch_index(last, json_array_size(parent), true, &index) == 0)
		return json_array_insert_new(parent, index, value) == 0 ? 0 : -ENOMEM;
fail:
	json_decref(value);
	return -ENOENT;
}

/* remove; *ret_value (optional) gets the removed value. */
static int patch_remove(json_t *doc, const char *pointer, json_t **ret_value)
{
	char last[PATCH_PATH_MAX];
	json_t *parent, *value;
	size_t index;

	if (patch_resolve(doc, pointer, &parent, last, sizeof(last)) < 0)
		return -ENOENT;
	if (json_is_object(parent) && (value = json_object_get(parent, last)) != NULL) {
		if (ret_value != NULL)
			*ret_value = json_incref(value);
		return json_object_del(parent, last) == 0 ? 0 : -ENOENT;
	}
	if (json_is_array(parent) && patch_index(last, json_array_size(parent), false, &index) == 0) {
		if (ret_value != NULL)
			*ret_value = json_incref(json_array_get(parent, index));
		return json_array_remove(parent, index) == 0 ? 0 : -ENOENT;
	}
	return -ENOENT;
}

/* One operation of a JSON patch applied to *doc. */
static int patch_json_op(json_t **doc, const json_t *op, char *msg, size_t msg_size)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	const json_t *value = json_object_get(op, "value");
	json_t *moved = NULL, *current;
	int r;

	if (name == NULL || path == NULL) {
		snprintf(msg, msg_size, "a JSON patch operation needs \"op\" and \"path\"");
		return -EINVAL;
	}
	if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0 || strcmp(name, "test") == 0) {
		if (value == NULL) {
			snprintf(msg, msg_size, "the %s operation needs a value", name);
			return -EINVAL;
		}
	}
	if (strcmp(name, "add") == 0) {
		r = patch_add(doc, path, json_deep_copy(value));
	} else if (strcmp(name, "remove") == 0) {
		r = patch_remove(*doc, path, NULL);
	} else if (strcmp(name, "replace") == 0) {
		r = path[0] == '\0' ? 0 : patch_remove(*doc, path, NULL);
		if (r == 0)
			r = patch_add(doc, path, json_deep_copy(value));
	} else if (strcmp(name, "test") == 0) {
		current = patch_get(*doc, path);
		if (current == NULL || !json_equal(current, value)) {
			snprintf(msg, msg_size, "testing value %.200s failed: test failed", path);
			return -EINVAL;
		}
		r = 0;
	} else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
		if (from == NULL) {
			snprintf(msg, msg_size, "the %s operation needs \"from\"", name);
			return -EINVAL;
		}
		if (strcmp(name, "move") == 0) {
			r = patch_remove(*doc, from, &moved);
		} else {
			current = patch_get(*doc, from);
			moved = current != NULL ? json_deep_copy(current) : NULL;
			r = current != NULL ? 0 : -ENOENT;
		}
		if (r == 0)
			r = patch_add(doc, path, moved);
	} else {
		snprintf(msg, msg_size, "unknown JSON patch operation \"%.40s\"", name);
		return -EINVAL;
	}
	if (r == -ENOENT) {
		snprintf(msg, msg_size, "the path %.200s does not exist", from != NULL ? from : path);
		return -EINVAL;
	}
	return r;
}

int patch_json(const json_t *target, const json_t *ops, json_t **ret, char *msg, size_t msg_size)
{
	const json_t *op;
	json_t *doc;
	size_t i;
	int r;

	msg[0] = '\0';
	if (!json_is_array(ops)) {
		snprintf(msg, msg_size, "a JSON patch must be a list of operations");
		return -EINVAL;
	}
	doc = json_deep_copy(target);
	if (doc == NULL)
		return -ENOMEM;
	json_array_foreach(ops, i, op) {
		if (!json_is_object(op)) {
			snprintf(msg, msg_size, "a JSON patch operation must be an object");
			json_decref(doc);
			return -EINVAL;
		}
		r = patch_json_op(&doc, op, msg, msg_size);
		if (r < 0) {
			json_decref(doc);
			return r;
		}
	}
	*ret = doc;
	return 0;
}
