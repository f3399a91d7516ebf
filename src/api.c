/*
 * api.c — the HTTP API as a route table: method + path pattern -> handler.
 *
 * Owns: routing, request body decoding (content type, JSON), and the one
 * mapping from negative errno to HTTP status, Kubernetes Status reason and
 * message (api_status_for / api_error_body).
 *
 * Invariants:
 *   - api_handle always fills the response: handlers return 0 with a body or
 *     a negative errno with call->err filled; only api_finish turns either
 *     into status + body, so every failure becomes a Status object.
 *   - Handlers call the model only; no store, no inodes.
 *   - Nothing here keeps state between requests: api_handle may run on
 *     several threads at once.
 */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "claim.h"
#include "log.h"
#include "model.h"

#define API_SEGMENTS_MAX 8
#define API_PATH_MAX 4096

static const char api_json_type[] = "application/json";
static const char api_text_type[] = "text/plain; charset=utf-8";

/* One request being handled: inputs, captured path parameters, outputs. */
struct api_call {
	struct model *model;
	const struct api_request *req;
	const char *param[API_SEGMENTS_MAX]; /* the "{}" segments, in order */
	unsigned status;                     /* success: HTTP status */
	json_t *body;                        /* success: JSON answer (owned) */
	const char *text;                    /* success: plain-text answer instead */
	struct model_error err;              /* failure: what went wrong */
};

typedef int (*api_handler)(struct api_call *call);

/* One route: method, '/'-separated pattern ("{}" captures a segment), handler. */
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
	{ EINVAL, 422, "Invalid" },
	{ EEXIST, 409, "AlreadyExists" },
	{ ESTALE, 409, "Conflict" },
	{ ENOENT, 404, "NotFound" },
	{ EOPNOTSUPP, 405, "MethodNotAllowed" },
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

/* The Kubernetes Status object for a failure. */
static json_t *api_error_body(int errnum, const struct model_error *err)
{
	struct api_errno_status row = api_status_for(errnum);
	char message[4096], name[NAMES_SUBDOMAIN_MAX + 1];
	json_t *details, *text;

	api_printable(err->name, name, sizeof(name));
	if (err->message[0] != '\0')
		snprintf(message, sizeof(message), "%s", err->message);
	else if (errnum == EINVAL && err->fields.count > 0)
		names_field_errors_message(&err->fields, err->kind ? err->kind : "object", err->name,
					   message, sizeof(message));
	else if ((errnum == EEXIST || errnum == ENOENT) && err->resource != NULL)
		snprintf(message, sizeof(message), "%s \"%s\" %s", err->resource, name,
			 errnum == EEXIST ? "already exists" : "not found");
	else if (errnum == ENOENT)
		snprintf(message, sizeof(message), "the server could not find the requested resource");
	else if (errnum == EOPNOTSUPP)
		snprintf(message, sizeof(message),
			 "the server does not allow this method on the requested resource");
	else if (errnum == ESTALE && err->resource != NULL)
		snprintf(message, sizeof(message),
			 "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
			 "please apply your changes to the latest version and try again",
			 err->resource, name);
	else if (row.code == 500)
		snprintf(message, sizeof(message), "Internal error occurred: %s", strerror(errnum));
	else
		snprintf(message, sizeof(message), "%s", strerror(errnum));

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

	model_error_init(&err);
	if (message != NULL)
		snprintf(err.message, sizeof(err.message), "%s", message);
	api_set_json(ret_response, api_status_for(errnum).code, api_error_body(errnum, &err));
}

/* ---- request bodies ---------------------------------------------------------------- */

/* True if the Content-Type's media type (before any ';') is application/json. */
static bool api_is_json(const char *content_type)
{
	size_t len;

	if (content_type == NULL)
		return false;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	len = strcspn(content_type, "; \t");
	return len == strlen(api_json_type) && strncasecmp(content_type, api_json_type, len) == 0;
}

/* Decode the request body as JSON into *ret_body (a new reference). */
static int api_decode_body(struct api_call *call, json_t **ret_body)
{
	const struct api_request *req = call->req;
	json_error_t error;

	if (!api_is_json(req->content_type)) {
		snprintf(call->err.message, sizeof(call->err.message),
			 "the body of the request was in an unknown format - accepted media types "
			 "include: %s",
			 api_json_type);
		return -EMEDIUMTYPE;
	}
	if (req->body == NULL || req->body_len == 0) {
		snprintf(call->err.message, sizeof(call->err.message), "the request body is empty");
		return -EBADMSG;
	}
	*ret_body = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &error);
	if (*ret_body == NULL) {
		snprintf(call->err.message, sizeof(call->err.message),
			 "json parse error: %s at line %d, column %d", error.text, error.line,
			 error.column);
		return -EBADMSG;
	}
	return 0;
}

/* ---- handlers --------------------------------------------------------------------- */

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

/* POST /api/v1/namespaces/{ns}/persistentvolumeclaims */
static int api_claim_create(struct api_call *call)
{
	json_t *body = NULL;
	int r;

	r = api_decode_body(call, &body);
	if (r < 0)
		return r;
	r = model_claim_create(call->model, call->param[0], body, &call->body, &call->err);
	json_decref(body);
	call->status = 201;
	return r;
}

/* GET /api/v1/namespaces/{ns}/persistentvolumeclaims/{name} */
static int api_claim_get(struct api_call *call)
{
	call->status = 200;
	return model_claim_get(call->model, call->param[0], call->param[1], &call->body,
			       &call->err);
}

/* GET /api/v1/namespaces/{ns}/persistentvolumeclaims */
static int api_claim_list(struct api_call *call)
{
	call->status = 200;
	return model_claim_list(call->model, call->param[0], &call->body, &call->err);
}

/* GET /api/v1/persistentvolumeclaims */
static int api_claim_list_all(struct api_call *call)
{
	call->status = 200;
	return model_claim_list(call->model, NULL, &call->body, &call->err);
}

/* DELETE /api/v1/namespaces/{ns}/persistentvolumeclaims/{name} */
static int api_claim_delete(struct api_call *call)
{
	call->status = 200;
	return model_claim_delete(call->model, call->param[0], call->param[1], &call->body,
				  &call->err);
}

static const struct api_route api_routes[] = {
	{ "GET", "healthz", api_health },
	{ "GET", "livez", api_health },
	{ "GET", "readyz", api_ready },
	{ "GET", "api/v1/persistentvolumeclaims", api_claim_list_all },
	{ "GET", "api/v1/namespaces/{}/persistentvolumeclaims", api_claim_list },
	{ "POST", "api/v1/namespaces/{}/persistentvolumeclaims", api_claim_create },
	{ "GET", "api/v1/namespaces/{}/persistentvolumeclaims/{}", api_claim_get },
	{ "DELETE", "api/v1/namespaces/{}/persistentvolumeclaims/{}", api_claim_delete },
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

/* Find the handler; -ENOENT: no such path, -EOPNOTSUPP: not with this method. */
static int api_route(struct api_call *call, char *path, api_handler *ret_handler)
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
		if (strcmp(api_routes[i].method, method) == 0) {
			*ret_handler = api_routes[i].handler;
			return 0;
		}
	}
	return path_known ? -EOPNOTSUPP : -ENOENT;
}

/* Turn the handler's result into the response. */
static void api_finish(struct api_call *call, int r, struct api_response *res)
{
	if (r < 0) {
		json_decref(call->body);
		api_set_json(res, api_status_for(-r).code, api_error_body(-r, &call->err));
		if (res->status >= 500)
			log_warn("%s %s: %s", call->req->method, call->req->path,
				 call->err.message[0] ? call->err.message : strerror(-r));
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
	api_handler handler = NULL;
	char *path = NULL;
	int r;

	model_error_init(&call.err);
	memset(ret_response, 0, sizeof(*ret_response));
	if (req->path == NULL || req->method == NULL || strlen(req->path) > API_PATH_MAX) {
		r = -ENOENT;
		goto out;
	}
	path = strdup(req->path);
	if (path == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = api_route(&call, path, &handler);
	if (r == 0)
		r = handler(&call);
out:
	api_finish(&call, r, ret_response);
	log_debug("%s %s -> %u", req->method ? req->method : "?", req->path ? req->path : "?",
		  ret_response->status);
	free(path);
}
