/*
 * api.c — the HTTP API: fixed routes (health, discovery, OpenAPI, metrics)
 * in a table, and one generic router for every served kind at
 * /api/v1/... and /apis/<group>/<version>/... .
 *
 * Owns: routing, query parameters, request body decoding (content types,
 * JSON and YAML), response shapes (objects, lists, Tables, watch streams)
 * and the one mapping from negative errno to HTTP status, Kubernetes Status
 * reason and message (api_status_for / api_error_body).
 *
 * Invariants:
 *   - api_handle always fills the response: handlers return 0 with a body
 *     (or a stream) or a negative errno with call->err filled; only
 *     api_finish turns either into status + body, so every failure becomes
 *     a Status object.
 *   - Handlers call the model only; no store, no inodes.
 *   - Nothing here keeps state between requests: api_handle may run on
 *     several threads at once.
 */
#include "api_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "yaml_body.h"

#define API_PATH_MAX 4096

static const char api_json_type[] = "application/json";
static const char api_text_type[] = "text/plain; charset=utf-8";

typedef int (*api_handler)(struct api_call *call);

/* One fixed route: method, '/'-separated pattern ("{}" captures a segment), handler. */
struct api_route {
	const char *method;
	const char *pattern;
	api_handler handler;
};

/* ---- errors ----------------------------------------------------------------- */

/* errno -> HTTP status and Status.reason: the one place this mapping lives. */
struct api_errno_status {
	int errnum;
	unsigned code;
	const char *reason;
};

static const struct api_errno_status api_errno_statuses[] = {
	{ EBADMSG, 400, "BadRequest" },
	{ EACCES, 401, "Unauthorized" },
	{ EINVAL, 422, "Invalid" },
	{ EEXIST, 409, "AlreadyExists" },
	{ ESTALE, 409, "Conflict" },
	{ ENOENT, 404, "NotFound" },
	{ EOPNOTSUPP, 405, "MethodNotAllowed" },
	{ ENOTSUP, 406, "NotAcceptable" },
	{ EKEYEXPIRED, 410, "Expired" },
	{ EMSGSIZE, 413, "RequestEntityTooLarge" },
	{ EMEDIUMTYPE, 415, "UnsupportedMediaType" },
};

/* The row for errnum; unknown errors are 500 InternalError. */
static struct api_errno_status api_status_for(int errnum)
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

/* The Kubernetes Status object for a failure. */
static json_t *api_error_body(int errnum, const struct model_error *err)
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
	if (errnum == EINVAL && err->kind != NULL)
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

/* ---- responses ----------------------------------------------------------------- */

/* Serialise obj (consumed) as the response body; a last-resort body if that fails. */
static void api_set_json(struct api_response *res, unsigned status, json_t *obj)
{
	static const char fallback[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"out of memory\",\"reason\":\"InternalError\",\"code\":500}\n";
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(obj);
	res->content_type = api_json_type;
	if (text == NULL) {
		res->status = 500;
		res->body = strdup(fallback);
		return;
	}
	/* End with a newline, as the API server does. */
	len = strlen(text);
	res->body = realloc(text, len + 2);
	if (res->body == NULL) {
		res->body = text;
	} else {
		res->body[len] = '\n';
		res->body[len + 1] = '\0';
	}
	res->status = status;
}

void api_error_response(int errnum, const char *message, struct api_response *ret_response)
{
	struct model_error err;

	memset(ret_response, 0, sizeof(*ret_response));
	model_error_init(&err);
	if (message != NULL)
		snprintf(err.message, sizeof(err.message), "%s", message);
	api_set_json(ret_response, api_status_for(errnum).code, api_error_body(errnum, &err));
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

/* Split the raw query string into decoded key/value pairs. */
static int api_parse_query(struct api_call *call)
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
	const char *value = api_query(call, key);

	return value != NULL && (strcmp(value, "true") == 0 || strcmp(value, "1") == 0);
}

/* ---- request bodies ---------------------------------------------------------------- */

/* The media type of a Content-Type (before any ';'), compared case-insensitively. */
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

/* Decode the request body (JSON, or YAML when yaml) into *ret_body. */
static int api_decode_as(struct api_call *call, bool yaml, json_t **ret_body)
{
	const struct api_request *req = call->req;
	json_error_t error;

	if (req->body == NULL || req->body_len == 0)
		return model_fail(&call->err, -EBADMSG, "the request body is empty");
	if (yaml)
		return yaml_body_parse(req->body, req->body_len, ret_body, call->err.message,
				       sizeof(call->err.message));
	*ret_body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &error);
	if (*ret_body == NULL)
		return model_fail(&call->err, -EBADMSG, "json parse error: %s at line %d, column %d",
				  error.text, error.line, error.column);
	return 0;
}

/* The body of a POST or PUT: JSON or YAML. */
int api_decode_body(struct api_call *call, json_t **ret_body)
{
	const char *type = call->req->content_type;

	if (api_media_is(type, api_json_type))
		return api_decode_as(call, false, ret_body);
	if (api_media_is(type, "application/yaml"))
		return api_decode_as(call, true, ret_body);
	return model_fail(&call->err, -EMEDIUMTYPE,
			  "the body of the request was in an unknown format - accepted media types "
			  "include: application/json, application/yaml");
}

/* The body and type of a PATCH. */
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

/* ---- fixed handlers ------------------------------------------------------------------- */

/* GET /healthz, /livez: the process answers. */
static int api_health(struct api_call *call)
{
	call->status = 200;
	call->text = "ok";
	return 0;
}

/* GET /readyz: ready once the mount is live. */
static int api_ready(struct api_call *call)
{
	call->status = call->req->ready ? 200 : 503;
	call->text = call->req->ready ? "ok" : "not ready: the filesystem is not mounted yet";
	return 0;
}

/* Hand a discovery document to the response (NULL: not served). */
static int api_document(struct api_call *call, json_t *doc)
{
	if (doc == NULL)
		return -ENOENT;
	call->status = 200;
	call->body = doc;
	return 0;
}

static int api_version(struct api_call *call)
{
	return api_document(call, api_discovery_version());
}

static int api_core_versions(struct api_call *call)
{
	return api_document(call, api_discovery_core_versions());
}

static int api_groups(struct api_call *call)
{
	return api_document(call, api_discovery_groups());
}

static int api_group(struct api_call *call)
{
	return api_document(call, api_discovery_group(call->param[0]));
}

static int api_core_resources(struct api_call *call)
{
	return api_document(call, api_discovery_resources("", "v1"));
}

static int api_group_resources(struct api_call *call)
{
	return api_document(call, api_discovery_resources(call->param[0], call->param[1]));
}

/* GET /openapi/v2: protobuf when asked for (kubectl), JSON otherwise. */
static int api_openapi2(struct api_call *call)
{
	size_t len;
	int r;

	if (call->req->accept == NULL || strstr(call->req->accept, "protobuf") == NULL)
		return api_document(call, json_pack("{s:s, s:{s:s, s:s}, s:{}, s:{}}", "swagger",
						    "2.0", "info", "title", "claimfs", "version",
						    "v1.32.0", "paths", "definitions"));
	r = api_openapi_v2(&call->owned_text, &len);
	if (r < 0)
		return r;
	call->owned_len = len;
	call->status = 200;
	call->text_type = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
	return 0;
}

static int api_openapi3(struct api_call *call)
{
	return api_document(call, api_openapi_index());
}

/* GET /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>. */
static int api_openapi3_core(struct api_call *call)
{
	return api_document(call, api_openapi_document("api/v1"));
}

static int api_openapi3_group(struct api_call *call)
{
	char path[256];

	snprintf(path, sizeof(path), "apis/%s/%s", call->param[0], call->param[1]);
	return api_document(call, api_openapi_document(path));
}

/* GET /metrics: Prometheus text format. */
static int api_metrics(struct api_call *call)
{
	size_t len = 0, cap = 0;
	int r;

	r = model_metrics(call->model, &call->owned_text, &len, &cap);
	if (r < 0)
		return r;
	call->status = 200;
	call->text_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

static const struct api_route api_routes[] = {
	{ "GET", "healthz", api_health },
	{ "GET", "livez", api_health },
	{ "GET", "readyz", api_ready },
	{ "GET", "version", api_version },
	{ "GET", "metrics", api_metrics },
	{ "GET", "api", api_core_versions },
	{ "GET", "api/v1", api_core_resources },
	{ "GET", "apis", api_groups },
	{ "GET", "apis/{}", api_group },
	{ "GET", "apis/{}/{}", api_group_resources },
	{ "GET", "openapi/v2", api_openapi2 },
	{ "GET", "openapi/v3", api_openapi3 },
	{ "GET", "openapi/v3/api/v1", api_openapi3_core },
	{ "GET", "openapi/v3/apis/{}/{}", api_openapi3_group },
};

/* ---- routing ------------------------------------------------------------------------ */

/* Split path (modified in place) into non-empty segments; -ENOENT if it
 * cannot match any route (too many segments, empty segment). */
static int api_split(char *path, char *segment[API_SEGMENTS_MAX], unsigned *ret_count)
{
	unsigned count = 0;
	char *p = path;

	if (*p != '/')
		return -ENOENT;
	p++;
	while (*p != '\0') {
		char *slash = strchr(p, '/');

		if (count == API_SEGMENTS_MAX)
			return -ENOENT;
		segment[count++] = p;
		if (slash == NULL)
			break;
		*slash = '\0';
		p = slash + 1;
		if (*p == '\0' || *p == '/')
			return -ENOENT; /* "a//b" or a trailing slash */
	}
	*ret_count = count;
	return 0;
}

/* Does the pattern match the segments? Captures "{}" segments into param. */
static bool api_match(const char *pattern, char *const segment[], unsigned count,
		      const char *param[API_SEGMENTS_MAX])
{
	unsigned i = 0, n = 0;

	for (const char *p = pattern; *p != '\0'; i++) {
		size_t len = strcspn(p, "/");

		if (i >= count)
			return false;
		if (len == 2 && p[0] == '{' && p[1] == '}')
			param[n++] = segment[i];
		else if (strlen(segment[i]) != len || strncmp(p, segment[i], len) != 0)
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return i == count;
}

/* Route and run the request. */
static int api_dispatch(struct api_call *call, char *path)
{
	const char *method = strcmp(call->req->method, "HEAD") == 0 ? "GET" : call->req->method;
	char *segment[API_SEGMENTS_MAX];
	bool path_known = false;
	unsigned count;
	int r;

	r = api_split(path, segment, &count);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		if (!api_match(api_routes[i].pattern, segment, count, call->param))
			continue;
		path_known = true;
		if (strcmp(api_routes[i].method, method) == 0)
			return api_routes[i].handler(call);
	}
	if (path_known)
		return -EOPNOTSUPP;
	return api_resource(call, segment, count, method);
}

/* Turn the handler's result into the response. */
static void api_finish(struct api_call *call, int r, struct api_response *res)
{
	if (r < 0) {
		json_decref(call->body);
		free(call->owned_text);
		if (call->watch != NULL)
			api_watch_free(call->watch);
		api_set_json(res, api_status_for(-r).code, api_error_body(-r, &call->err));
		if (res->status >= 500)
			log_warn("%s %s: %s", call->req->method, call->req->path,
				 call->err.message[0] ? call->err.message : strerror(-r));
		return;
	}
	if (call->watch != NULL) {
		res->status = 200;
		res->content_type = api_json_type;
		res->watch = call->watch;
		return;
	}
	if (call->owned_text != NULL) {
		res->status = call->status;
		res->content_type = call->text_type;
		res->body = call->owned_text;
		res->body_len = call->owned_len;
		return;
	}
	if (call->text != NULL) {
		size_t len = strlen(call->text);

		res->status = call->status;
		res->content_type = api_text_type;
		res->body = malloc(len + 2);
		if (res->body != NULL) {
			memcpy(res->body, call->text, len);
			memcpy(res->body + len, "\n", 2);
		}
		return;
	}
	api_set_json(res, call->status, call->body);
}

void api_handle(struct model *model, const struct api_request *req,
		struct api_response *ret_response)
{
	struct api_call call = { .model = model, .req = req };
	char *path = NULL;
	int r;

	model_error_init(&call.err);
	memset(ret_response, 0, sizeof(*ret_response));
	if (req->path == NULL || req->method == NULL || strlen(req->path) > API_PATH_MAX) {
		r = -ENOENT;
		goto out;
	}
	r = api_parse_query(&call);
	if (r == -EBADMSG)
		model_fail(&call.err, r, "too many query parameters");
	if (r < 0)
		goto out;
	path = strdup(req->path);
	if (path == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = api_dispatch(&call, path);
out:
	api_finish(&call, r, ret_response);
	log_debug("%s %s -> %u", req->method ? req->method : "?", req->path ? req->path : "?",
		  ret_response->status);
	for (unsigned i = 0; i < call.query_count; i++) {
		free(call.query_key[i]);
		free(call.query_value[i]);
	}
	free(path);
}
