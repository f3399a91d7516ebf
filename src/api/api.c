/*
 * api.c — the HTTP API: fixed routes (health, discovery, OpenAPI, metrics,
 * the self reviews of api_auth.c) in a table, and one generic router for every served kind at
 * /api/v1/... and /apis/<group>/<version>/... .
 *
 * Owns: routing and the response of every request (objects, lists, plain
 * text, watch streams, Status objects for failures). Query parameters,
 * request bodies and the errno -> Status mapping are api_request.c's.
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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define API_PATH_MAX 4096

static const char api_text_type[] = "text/plain; charset=utf-8";

typedef int (*api_handler)(struct api_call *call);

/* One fixed route: method, '/'-separated pattern ("{}" captures a segment), handler. */
struct api_route {
	const char *method;
	const char *pattern;
	api_handler handler;
};

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
	res->content_type = API_JSON_TYPE;
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

/* GET /openapi/v2: 404, as from an API server that serves only OpenAPI v3.
 * kubectl (explain, apply, validation) and client-go read v3 and treat a
 * missing v2 as "no v2 schema"; a hollow v2 document would claim a schema
 * that describes nothing. */
static int api_openapi2(struct api_call *call)
{
	(void)call;
	return -ENOENT;
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

/* GET /backup: a consistent copy of the whole store, checked as
 * `claimfsd --check` does before the first byte is sent (README "Backup"). */
static int api_backup(struct api_call *call)
{
	int r = model_backup(call->model, &call->file_fd, &call->err);

	if (r < 0)
		return r;
	call->status = 200;
	call->text_type = "application/vnd.sqlite3";
	return 0;
}

static const struct api_route api_routes[] = {
	{ "GET", "healthz", api_health },
	{ "GET", "livez", api_health },
	{ "GET", "readyz", api_ready },
	{ "GET", "version", api_version },
	{ "GET", "metrics", api_metrics },
	{ "GET", "backup", api_backup },
	{ "GET", "api", api_core_versions },
	{ "GET", "api/v1", api_core_resources },
	{ "GET", "apis", api_groups },
	{ "GET", "apis/{}", api_group },
	{ "GET", "apis/{}/{}", api_group_resources },
	{ "GET", "openapi/v2", api_openapi2 },
	{ "GET", "openapi/v3", api_openapi3 },
	{ "GET", "openapi/v3/api/v1", api_openapi3_core },
	{ "GET", "openapi/v3/apis/{}/{}", api_openapi3_group },
	{ "POST", "apis/authorization.k8s.io/v1/selfsubjectaccessreviews", api_auth_access_review },
	{ "POST", "apis/authorization.k8s.io/v1/selfsubjectrulesreviews", api_auth_rules_review },
	{ "POST", "apis/authentication.k8s.io/v1/selfsubjectreviews", api_auth_self_review },
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
		res->content_type = API_JSON_TYPE;
		res->watch = call->watch;
		return;
	}
	if (call->file_fd >= 0) {
		res->status = call->status;
		res->content_type = call->text_type;
		res->has_file = true;
		res->file_fd = call->file_fd;
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
	struct api_call call = { .model = model, .req = req, .file_fd = -1 };
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
	/* Warnings are told with failures too, as the API server's are. */
	memcpy(ret_response->warnings, call.warnings, sizeof(ret_response->warnings));
	api_schema_problems_clear(&call.problems);
	log_debug("%s %s -> %u", req->method ? req->method : "?", req->path ? req->path : "?",
		  ret_response->status);
	for (unsigned i = 0; i < call.query_count; i++) {
		free(call.query_key[i]);
		free(call.query_value[i]);
	}
	free(path);
}
