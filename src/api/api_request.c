/*
 * api_request.c — the bottom of the API layer: what a request says and how
 * a failure is told. Query parameters (percent-decoded pairs), request
 * bodies (content types, JSON and YAML, the four patch types), and the one
 * mapping from negative errno to HTTP status, Kubernetes Status reason and
 * message (api_status_for / api_error_body).
 *
 * Calls only the lib layer and model_fail; the router (api.c) and the
 * resource handlers (api_resource.c) above call it.
 */
#include "api_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yaml_body.h"

/* ---- errors ----------------------------------------------------------------- */

static const struct api_errno_status api_errno_statuses[] = {
	{ EBADMSG, 400, "BadRequest" },
	{ EACCES, 401, "Unauthorized" },
	{ EPERM, 403, "Forbidden" },
	{ EINVAL, 422, "Invalid" },
	{ EEXIST, 409, "AlreadyExists" },
	{ ESTALE, 409, "Conflict" },
	{ ENOENT, 404, "NotFound" },
	{ EOPNOTSUPP, 405, "MethodNotAllowed" },
	{ ENOTSUP, 406, "NotAcceptable" },
	{ EKEYEXPIRED, 410, "Expired" },
	{ ETIMEDOUT, 504, "Timeout" },
	{ EMSGSIZE, 413, "RequestEntityTooLarge" },
	{ EMEDIUMTYPE, 415, "UnsupportedMediaType" },
};

/* errno -> HTTP status and Status.reason: the one place this mapping lives. */
struct api_errno_status api_status_for(int errnum)
{
	static const struct api_errno_status internal = { 0, 500, "InternalError" };

	for (size_t i = 0; i < sizeof(api_errno_statuses) / sizeof(api_errno_statuses[0]); i++)
		if (api_errno_statuses[i].errnum == errnum)
			return api_errno_statuses[i];
	return internal;
}

/* Copy text keeping printable ASCII (path names may be any bytes; JSON needs
 * UTF-8). buf may be text itself. */
static void api_printable(const char *text, char *buf, size_t size)
{
	size_t n = 0;

	for (; text != NULL && text[n] != '\0' && n + 1 < size; n++)
		buf[n] = (text[n] >= 0x20 && text[n] < 0x7f) ? text[n] : '?';
	buf[n] = '\0';
}

/* Status.details.causes for field errors. */
static json_t *api_causes(const struct names_field_errors *fields)
{
	char body[NAMES_FIELD_VALUE_MAX + NAMES_FIELD_DETAIL_MAX + 64];
	json_t *causes = json_array();

	for (unsigned i = 0; causes != NULL && i < fields->count; i++) {
		names_field_error_body(&fields->error[i], body, sizeof(body));
		if (json_array_append_new(causes,
					  json_pack("{s:s, s:s, s:s}", "reason",
						    names_field_error_reason(fields->error[i].type),
						    "message", body, "field",
						    fields->error[i].field)) < 0) {
			json_decref(causes);
			return NULL;
		}
	}
	return causes;
}

/* The human message of a failure. */
static void api_error_message(int errnum, const struct model_error *err, const char *name,
			      char *message, size_t size)
{
	struct api_errno_status row = api_status_for(errnum);

	if (err->message[0] != '\0' && !(errnum == EINVAL && err->fields.count > 0))
		snprintf(message, size, "%s", err->message);
	else if (errnum == EINVAL && err->fields.count > 0)
		names_field_errors_message(&err->fields, err->kind ? err->kind : "object", err->name,
					   message, size);
	else if ((errnum == EEXIST || errnum == ENOENT) && err->resource != NULL)
		snprintf(message, size, "%s \"%s\" %s", err->resource, name,
			 errnum == EEXIST ? "already exists" : "not found");
	else if (errnum == ENOENT)
		snprintf(message, size, "the server could not find the requested resource");
	else if (errnum == EOPNOTSUPP)
		snprintf(message, size, "the server does not allow this method on the requested resource");
	else if (errnum == EACCES)
		snprintf(message, size, "Unauthorized");
	else if (errnum == ESTALE && err->resource != NULL)
		snprintf(message, size,
			 "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
			 "please apply your changes to the latest version and try again",
			 err->resource, name);
	else if (row.code == 500)
		snprintf(message, size, "Internal error occurred: %s", strerror(errnum));
	else
		snprintf(message, size, "%s", strerror(errnum));
}

json_t *api_error_body(int errnum, const struct model_error *err)
{
	struct api_errno_status row = api_status_for(errnum);
	char message[4096], name[NAMES_SUBDOMAIN_MAX + 1];
	json_t *details, *text;

	api_printable(err->name, name, sizeof(name));
	api_error_message(errnum, err, name, message, sizeof(message));
	/* Messages may quote request text cut mid-character; JSON needs UTF-8. */
	text = json_string(message);
	if (text == NULL) {
		api_printable(message, message, sizeof(message));
		text = json_string(message);
	}
	if (err->cause[0] != '\0')
		details = json_pack("{s:[{s:s, s:s}]}", "causes", "reason", "UnexpectedServerResponse",
				    "message", err->cause);
	else if (errnum == ETIMEDOUT)
		/* Only a watch from a too new resourceVersion times out; client-go
		 * knows it by this cause and retries after a second. */
		details = json_pack("{s:[{s:s, s:s}], s:i}", "causes", "reason",
				    "ResourceVersionTooLarge", "message", "Too large resource version",
				    "retryAfterSeconds", 1);
	else if (errnum == EINVAL && err->kind != NULL)
		details = json_pack("{s:s, s:s, s:o}", "name", name, "kind", err->kind, "causes",
				    api_causes(&err->fields));
	else if ((errnum == EEXIST || errnum == ENOENT || errnum == ESTALE) &&
		 err->resource != NULL)
		details = json_pack("{s:s, s:s}", "name", name, "kind", err->resource);
	else
		details = NULL;
	return json_pack("{s:s, s:s, s:{}, s:s, s:o, s:s, s:o*, s:I}", "kind", "Status",
			 "apiVersion", "v1", "metadata", "status", "Failure", "message", text,
			 "reason", row.reason, "details", details, "code", (json_int_t)row.code);
}

/* ---- query --------------------------------------------------------------------------- */

/* Percent-decode (and '+' -> ' ') len bytes of text into a new string. */
static char *api_unescape(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '%' && i + 2 < len && isxdigit((unsigned char)text[i + 1]) &&
		    isxdigit((unsigned char)text[i + 2])) {
			char hex[3] = { text[i + 1], text[i + 2], '\0' };

			out[n++] = (char)strtoul(hex, NULL, 16);
			i += 2;
		} else {
			out[n++] = text[i] == '+' ? ' ' : text[i];
		}
	}
	out[n] = '\0';
	return out;
}

int api_parse_query(struct api_call *call)
{
	const char *p = call->req->query;

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t key_len = eq != NULL ? (size_t)(eq - p) : len;

		if (len > 0) {
			if (call->query_count == API_QUERY_MAX)
				return -EBADMSG;
			call->query_key[call->query_count] = api_unescape(p, key_len);
			call->query_value[call->query_count] =
				eq != NULL ? api_unescape(eq + 1, len - key_len - 1) : strdup("");
			if (call->query_key[call->query_count] == NULL ||
			    call->query_value[call->query_count] == NULL) {
				call->query_count++;
				return -ENOMEM;
			}
			call->query_count++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

const char *api_query(const struct api_call *call, const char *key)
{
	for (unsigned i = 0; i < call->query_count; i++)
		if (strcmp(call->query_key[i], key) == 0)
			return call->query_value[i];
	return NULL;
}

bool api_query_true(const struct api_call *call, const char *key)
{
	/* What Go's strconv.ParseBool takes as true: the Python client sends
	 * watch=True. */
	static const char *const truths[] = { "true", "1", "t", "T", "TRUE", "True" };
	const char *value = api_query(call, key);

	for (size_t i = 0; value != NULL && i < sizeof(truths) / sizeof(truths[0]); i++)
		if (strcmp(value, truths[i]) == 0)
			return true;
	return false;
}

/* ---- request bodies ---------------------------------------------------------------- */

bool api_media_is(const char *content_type, const char *type)
{
	size_t len;

	if (content_type == NULL)
		return false;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	len = strcspn(content_type, "; \t");
	return len == strlen(type) && strncasecmp(content_type, type, len) == 0;
}

/* A repeated key of a YAML body, in go-yaml's words (fieldValidation decides
 * whether it matters). */
static int api_yaml_duplicate(void *ud, unsigned long line, const char *key)
{
	struct api_call *call = ud;

	return api_schema_problem(&call->problems, true, "line %lu: key \"%.200s\" already set in map",
				  line, key);
}

/* Decode the request body (JSON, or YAML when yaml) into *ret_body. */
static int api_decode_as(struct api_call *call, bool yaml, json_t **ret_body)
{
	const struct api_request *req = call->req;
	json_error_t error;

	if (req->body == NULL || req->body_len == 0)
		return model_fail(&call->err, -EBADMSG, "the request body is empty");
	if (yaml)
		return yaml_body_parse_checked(req->body, req->body_len, api_yaml_duplicate, call,
					       ret_body, call->err.message,
					       sizeof(call->err.message));
	*ret_body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &error);
	if (*ret_body == NULL)
		return model_fail(&call->err, -EBADMSG, "json parse error: %s at line %d, column %d",
				  error.text, error.line, error.column);
	return 0;
}

int api_decode_body(struct api_call *call, json_t **ret_body)
{
	const char *type = call->req->content_type;

	if (api_media_is(type, API_JSON_TYPE))
		return api_decode_as(call, false, ret_body);
	if (api_media_is(type, "application/yaml"))
		return api_decode_as(call, true, ret_body);
	if (api_media_is(type, "application/vnd.kubernetes.protobuf"))
		return api_protobuf_decode(call->req->body, call->req->body_len, ret_body,
					   call->err.message, sizeof(call->err.message));
	return model_fail(&call->err, -EMEDIUMTYPE,
			  "the body of the request was in an unknown format - accepted media types "
			  "include: application/json, application/yaml");
}

int api_decode_patch(struct api_call *call, enum model_patch_type *ret_type,
		     json_t **ret_body)
{
	static const struct {
		const char *media;
		enum model_patch_type type;
		bool yaml;
	} types[] = {
		{ "application/merge-patch+json", MODEL_PATCH_MERGE, false },
		{ "application/strategic-merge-patch+json", MODEL_PATCH_STRATEGIC, false },
		{ "application/json-patch+json", MODEL_PATCH_JSON, false },
		{ "application/apply-patch+yaml", MODEL_PATCH_APPLY, true },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (api_media_is(call->req->content_type, types[i].media)) {
			*ret_type = types[i].type;
			return api_decode_as(call, types[i].yaml, ret_body);
		}
	return model_fail(&call->err, -EMEDIUMTYPE,
			  "the body of the request was in an unknown format - accepted media types "
			  "include: application/json-patch+json, application/merge-patch+json, "
			  "application/apply-patch+yaml, application/strategic-merge-patch+json");
}
