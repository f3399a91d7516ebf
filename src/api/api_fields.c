/*
 * api_fields.c — fieldValidation (Strict, Warn, Ignore) of create, update,
 * patch and apply bodies, the way the API server does it:
 *
 *   - create and update: the body is decoded and checked (JSON in document
 *     order; YAML's repeated keys first, then unknown fields in sorted
 *     order); Strict answers 400 "<Kind> in version "v1" cannot be handled
 *     as a <Kind>: strict decoding error: ...", Warn adds one Warning
 *     header per problem, and unknown fields are dropped before the model
 *     sees the object (the server prunes them).
 *   - merge, strategic merge and JSON patches: repeated keys of the patch
 *     (and unknown keys of JSON patch operations) now, unknown fields of the
 *     patched object when the model has applied the patch (the model calls
 *     api_fields_check_patched); Strict answers 400 "strict decoding error:
 *     ...".
 *   - server-side apply: repeated keys per the directive; an unknown field
 *     always fails ("failed to create typed patch object ...: .spec.x:
 *     field not declared in schema"), as apply checks its configuration
 *     against the schema whatever the directive.
 *
 * Without ?fieldValidation the directive is Warn (the API server's default
 * since 1.23). Kinds without a schema in the table are not checked.
 */
#include "api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define API_FIELDS_PREFIX_MAX 256

int api_fields_type(enum model_kind kind)
{
	const struct model_kind_info *info = model_kind_info(kind);

	return api_schema_kind_type(info->group, info->kind);
}

int api_fields_directive(struct api_call *call, const char *options_kind,
			 enum api_field_validation *ret)
{
	const char *value = api_query(call, "fieldValidation");

	if (value == NULL || value[0] == '\0' || strcmp(value, "Warn") == 0)
		*ret = API_FIELDS_WARN;
	else if (strcmp(value, "Strict") == 0)
		*ret = API_FIELDS_STRICT;
	else if (strcmp(value, "Ignore") == 0)
		*ret = API_FIELDS_IGNORE;
	else
		return model_fail(&call->err, -EINVAL,
				  "%s.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: "
				  "\"%.100s\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"",
				  options_kind, value);
	return 0;
}

void api_fields_warn(struct api_call *call, const char *text)
{
	size_t used = strlen(call->warnings), n = 0;
	char quoted[1024];

	/* Go quotes the text (strconv.Quote): backslash and quote escaped. */
	for (const char *p = text; *p != '\0' && n + 3 < sizeof(quoted); p++) {
		if (*p == '"' || *p == '\\')
			quoted[n++] = '\\';
		quoted[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	}
	quoted[n] = '\0';
	/* Dropped when the headers would grow past the buffer. */
	if (used + n + 12 < sizeof(call->warnings))
		snprintf(call->warnings + used, sizeof(call->warnings) - used, "299 - \"%s\"\n",
			 quoted);
}

/* The problems joined as the API server joins a strict decoding error: ", "
 * between them, a run of YAML duplicate keys as one "yaml: unmarshal
 * errors:" block with one line each. */
static void api_fields_join(const struct api_schema_problems *p, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->count && n < size; i++) {
		bool run = p->yaml[i] && i > 0 && p->yaml[i - 1];
		const char *sep = i == 0 || run ? "" : ", ";
		int w;

		if (p->yaml[i])
			w = snprintf(buf + n, size - n, "%s%s\n  %s", sep,
				     run ? "" : "yaml: unmarshal errors:", p->text[i]);
		else
			w = snprintf(buf + n, size - n, "%s%s", sep, p->text[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* Tell what was found as the directive asks, and forget it: Strict fails
 * with prefix + the joined problems (400), Warn adds Warning headers. */
static int api_fields_report(struct api_call *call, enum api_field_validation directive,
			     const char *prefix)
{
	struct api_schema_problems *p = &call->problems;
	char joined[sizeof(call->err.message)];
	int r = 0;

	if (p->count > 0 && directive == API_FIELDS_STRICT) {
		api_fields_join(p, joined, sizeof(joined));
		r = model_fail(&call->err, -EBADMSG, "%s%s", prefix, joined);
	} else if (directive == API_FIELDS_WARN) {
		for (unsigned i = 0; i < p->count; i++)
			api_fields_warn(call, p->text[i]);
	}
	api_schema_problems_clear(p);
	return r;
}

/* "<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding
 * error: ", from the type's OpenAPI name ("io.k8s.api.apps.v1.StatefulSet"). */
static void api_fields_decode_prefix(int type, char *buf, size_t size)
{
	const char *name = api_schema_types[type].name;
	const char *kind = strrchr(name, '.');
	const char *version = kind;

	while (version > name && version[-1] != '.')
		version--;
	snprintf(buf, size, "%s in version \"%.*s\" cannot be handled as a %s: strict decoding error: ",
		 kind + 1, (int)(kind - version), version, kind + 1);
}

int api_fields_body(struct api_call *call, int type, enum api_field_validation directive,
		    json_t **ret_body)
{
	const struct api_request *req = call->req;
	char prefix[API_FIELDS_PREFIX_MAX];
	json_t *body = NULL;
	int r;

	r = api_decode_body(call, &body);
	if (r < 0 || type < 0)
		goto out;
	if (directive != API_FIELDS_IGNORE)
		r = api_media_is(req->content_type, API_JSON_TYPE)
			    ? api_schema_scan_json(req->body, req->body_len, type, &call->problems)
			    : api_schema_walk(body, type, false, false, &call->problems);
	if (r == 0)
		r = api_schema_walk(body, type, true, false, NULL);
	api_fields_decode_prefix(type, prefix, sizeof(prefix));
	if (r == 0)
		r = api_fields_report(call, directive, prefix);
out:
	if (r < 0) {
		json_decref(body);
		return r;
	}
	*ret_body = body;
	return 0;
}

int api_fields_object(struct api_call *call, int type, enum api_field_validation directive,
		      json_t *obj)
{
	char prefix[API_FIELDS_PREFIX_MAX];
	int r = 0;

	if (directive != API_FIELDS_IGNORE)
		r = api_schema_walk(obj, type, false, false, &call->problems);
	if (r == 0)
		r = api_schema_walk(obj, type, true, false, NULL);
	api_fields_decode_prefix(type, prefix, sizeof(prefix));
	if (r == 0)
		r = api_fields_report(call, directive, prefix);
	return r;
}

/* A JSON patch's operations: keys other than op, path, value and from, and
 * repeated keys ("json patch unknown field "[0].foo""). */
static int api_fields_json_patch(struct api_call *call, const json_t *ops)
{
	static const char *const allowed[] = { "from", "op", "path", "value" };
	struct api_schema_problems repeated = { 0 };
	const json_t *op;
	const char *key;
	json_t *unused;
	size_t i;
	int r = 0;

	json_array_foreach(ops, i, op) {
		json_object_foreach((json_t *)op, key, unused) {
			bool known = false;

			for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
				known = known || strcmp(key, allowed[k]) == 0;
			if (!known && r == 0)
				r = api_schema_problem(&call->problems, false,
						       "json patch unknown field \"[%zu].%s\"", i, key);
		}
	}
	if (r == 0)
		r = api_schema_scan_json(call->req->body, call->req->body_len, -1, &repeated);
	for (unsigned k = 0; r == 0 && k < repeated.count; k++)
		r = api_schema_problem(&call->problems, false, "json patch %s", repeated.text[k]);
	api_schema_problems_clear(&repeated);
	return r;
}

/* Server-side apply of body to kind/name: unknown fields always fail. */
static int api_fields_apply(struct api_call *call, enum model_kind kind, int type,
			    const char *ns, const char *name, const json_t *body)
{
	const struct model_kind_info *info = model_kind_info(kind);
	struct api_schema_problems *p = &call->problems;
	char errors[sizeof(call->err.message)];
	size_t n = 0;
	int r;

	r = api_schema_apply_check(body, type, p);
	if (r < 0 || p->count == 0)
		return r;
	errors[0] = '\0';
	for (unsigned i = 0; i < p->count && n < sizeof(errors); i++) {
		int w = snprintf(errors + n, sizeof(errors) - n, "%s%s%s",
				 i == 0 && p->count > 1 ? "errors:" : "", p->count > 1 ? "\n  " : "",
				 p->text[i]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	api_schema_problems_clear(p);
	/* The API server answers 500 here (an error of the field manager). */
	return model_fail(&call->err, -EPROTO,
			  "failed to create typed patch object (%.63s/%.253s; %s/%s, Kind=%s): %s",
			  info->namespaced && ns != NULL ? ns : "", name, info->group, info->version,
			  info->kind, errors);
}

/* The model's hook: the object a merge, strategic or JSON patch produced. */
static int api_fields_check_patched(void *ud, json_t *obj, struct model_error *err)
{
	struct api_fields_patch *ctx = ud;
	bool report = ctx->directive != API_FIELDS_IGNORE;
	int r;

	(void)err; /* the same as ctx->call->err */
	r = api_schema_walk(obj, ctx->type, true, ctx->strategic,
			    report ? &ctx->call->problems : NULL);
	if (r < 0)
		return r;
	return api_fields_report(ctx->call, ctx->directive, "strict decoding error: ");
}

int api_fields_patch(struct api_call *call, enum model_kind kind, int type,
		     enum api_field_validation directive, const char *ns, const char *name,
		     struct api_fields_patch *ctx, enum model_patch_type *ret_type,
		     json_t **ret_body, struct model_write_options *options)
{
	json_t *body = NULL;
	int r;

	r = api_decode_patch(call, ret_type, &body);
	if (r < 0 || type < 0)
		goto out;
	if (directive != API_FIELDS_IGNORE && *ret_type == MODEL_PATCH_JSON)
		r = api_fields_json_patch(call, body);
	else if (directive != API_FIELDS_IGNORE && *ret_type != MODEL_PATCH_APPLY)
		r = api_schema_scan_json(call->req->body, call->req->body_len, -1, &call->problems);
	if (r < 0)
		goto out;
	if (*ret_type == MODEL_PATCH_APPLY) {
		r = api_fields_report(call, directive,
				      "error strict decoding YAML: error converting YAML to JSON: ");
		if (r == 0)
			r = api_fields_apply(call, kind, type, ns, name, body);
		goto out;
	}
	*ctx = (struct api_fields_patch){ call, type, directive, *ret_type == MODEL_PATCH_STRATEGIC };
	options->check_patched = api_fields_check_patched;
	options->check_ud = ctx;
out:
	if (r < 0) {
		json_decref(body);
		return r;
	}
	*ret_body = body;
	return 0;
}
