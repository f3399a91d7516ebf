/*
 * model_json.c — small JSON and identity helpers under every other model
 * file: members at dotted paths ("spec.volumeName"), API timestamps, uids
 * and generateName suffixes.
 *
 * Calls nothing else in the model but claim.c's time format, so the event
 * hub and the core can both stand on it.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "claim.h"
#include "selector.h"

json_t *model_path(const json_t *obj, const char *path)
{
	return selector_path(obj, path);
}

const char *model_path_string(const json_t *obj, const char *path)
{
	return json_string_value(model_path(obj, path));
}

int model_path_set(json_t *obj, const char *path, json_t *value)
{
	char key[128];

	if (value == NULL)
		return -ENOMEM;
	for (;;) {
		size_t len = strcspn(path, ".");
		json_t *next;

		if (len >= sizeof(key) || !json_is_object(obj)) {
			json_decref(value);
			return -EINVAL;
		}
		memcpy(key, path, len);
		key[len] = '\0';
		if (path[len] == '\0')
			return json_object_set_new(obj, key, value) == 0 ? 0 : -ENOMEM;
		next = json_object_get(obj, key);
		if (!json_is_object(next)) {
			next = json_object();
			if (next == NULL || json_object_set_new(obj, key, next) < 0) {
				json_decref(value);
				return -ENOMEM;
			}
		}
		obj = next;
		path += len + 1;
	}
}

void model_timestamp(int64_t now, char buf[32])
{
	if (claim_format_time(now, buf, 32) < 0)
		snprintf(buf, 32, "1970-01-01T00:00:00Z");
}

void model_new_uid(char uid[37])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, uid);
}

void model_random_suffix(char suffix[6])
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	uuid_t u;

	uuid_generate_random(u);
	for (int i = 0; i < 5; i++)
		suffix[i] = alphabet[u[i] % (sizeof(alphabet) - 1)];
	suffix[5] = '\0';
}

int model_check_immutable(const json_t *old, const json_t *obj, const char *const *fields,
			  size_t count, struct model_error *err)
{
	int r = 0;

	for (size_t i = 0; i < count; i++)
		if (!json_equal(json_object_get(obj, fields[i]) ?: json_null(),
				json_object_get(old, fields[i]) ?: json_null())) {
			names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN, fields[i], NULL,
					      "updates to %s are forbidden.", fields[i]);
			r = -EINVAL;
		}
	return r;
}
