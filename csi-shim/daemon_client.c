/*
 * daemon_client.c — claimfsd's HTTP API as C calls (see daemon_client.h).
 *
 * Invariants: every path segment we send is a validated Kubernetes name
 * (daemon_client_segment_ok), so no escaping is ever needed and no CO-supplied
 * string can reach another route; a 2xx answer always yields JSON (or an
 * -EPROTO error), never a half-parsed value; the HTTP -> errno mapping lives
 * in daemon_client_errno_for_status only.
 */
#include "daemon_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "names.h"

#define DAEMON_CLIENT_PATH_MAX 1024

/* ---- set-up -------------------------------------------------------------------- */

/* Parse the URL and read the token. */
int daemon_client_init(struct daemon_client *client, const char *url, const char *token_file,
		       char *msg, size_t msg_size)
{
	int r;

	memset(client, 0, sizeof(*client));
	r = http_endpoint_parse(url, &client->endpoint);
	if (r < 0) {
		snprintf(msg, msg_size,
			 "--api %s: expected http://HOST:PORT or unix:///PATH/TO/SOCKET", url);
		return r;
	}
	client->endpoint.user_agent = "claimfs-csi";
	if (token_file != NULL) {
		r = files_read_token(token_file, client->endpoint.token, sizeof(client->endpoint.token));
		if (r < 0) {
			snprintf(msg, msg_size, "--token-file %s: %s", token_file,
				 r == -ENODATA ? "empty" : strerror(-r));
			return r;
		}
	}
	return 0;
}

/* ---- requests ------------------------------------------------------------------- */

/* The one HTTP status -> errno mapping. */
static int daemon_client_errno_for_status(unsigned status)
{
	switch (status) {
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 400:
	case 413:
	case 415:
	case 422:
		return -EINVAL;
	case 405:
		return -EOPNOTSUPP;
	case 401:
	case 403:
		return -EACCES;
	case 503:
		return -EAGAIN;
	case 507:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/* Is a CO-supplied value safe to use as one path segment? */
static bool daemon_client_segment_ok(const char *segment)
{
	char msg[256];

	return segment != NULL && names_check_subdomain(segment, msg, sizeof(msg)) == 0;
}

/* Fill err for a failed request. */
__attribute__((format(printf, 4, 5))) static void
daemon_client_fail(struct daemon_client_error *err, unsigned status, bool transport,
		   const char *fmt, ...)
{
	va_list ap;

	err->http_status = status;
	err->transport = transport;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* One request with an optional JSON body; on 2xx *ret_json gets the decoded
 * answer (if ret_json is not NULL). */
static int daemon_client_call(const struct daemon_client *client, const char *method,
			      const char *path, const char *content_type, const json_t *body,
			      json_t **ret_json, struct daemon_client_error *err)
{
	struct http_request request = { .method = method, .path = path, .content_type = content_type };
	struct http_response res = { 0 };
	char *text = NULL;
	json_t *answer = NULL;
	json_error_t jerr;
	int r;

	memset(err, 0, sizeof(*err));
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL)
			return -ENOMEM;
	}
	request.body = text;
	request.body_len = text != NULL ? strlen(text) : 0;
	r = http_exchange(&client->endpoint, &request, &res, NULL);
	free(text);
	if (r < 0) {
		/* A missing socket file is "claimfsd is not there", not a missing claim. */
		if (r == -ENOENT)
			r = -ECONNREFUSED;
		daemon_client_fail(err, 0, true, "claimfsd API unreachable (%s: %s)", path,
				   strerror(-r));
		return r;
	}
	/* Parse what we need: the answer we asked for, or a Status to quote. */
	if (res.body_len > 0 && (ret_json != NULL || res.status < 200 || res.status > 299))
		answer = json_loadb(res.body, res.body_len, 0, &jerr);
	if (res.status < 200 || res.status > 299) {
		const char *message = json_string_value(json_object_get(answer, "message"));

		daemon_client_fail(err, res.status, false, "%.300s (claimfsd answered HTTP %u)",
				   message != NULL ? message : "no message", res.status);
		r = daemon_client_errno_for_status(res.status);
		goto out;
	}
	if (ret_json != NULL && res.body_len > 0 && answer == NULL) {
		daemon_client_fail(err, res.status, true,
				   "claimfsd answered %s with invalid JSON: %s", path, jerr.text);
		r = -EPROTO;
		goto out;
	}
	if (ret_json != NULL) {
		*ret_json = answer;
		answer = NULL;
	}
	r = 0;
out:
	json_decref(answer);
	http_response_free(&res);
	return r;
}

/* printf a path into buf; -ENAMETOOLONG if it does not fit. */
__attribute__((format(printf, 2, 3))) static int daemon_client_path(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, DAEMON_CLIENT_PATH_MAX, fmt, ap);
	va_end(ap);
	return (n < 0 || n >= DAEMON_CLIENT_PATH_MAX) ? -ENAMETOOLONG : 0;
}

/* Check the names that go into a path (name may be NULL), filling err. */
static int daemon_client_names_ok(const char *ns, const char *name, struct daemon_client_error *err)
{
	memset(err, 0, sizeof(*err));
	if (!daemon_client_segment_ok(ns) || (name != NULL && !daemon_client_segment_ok(name))) {
		daemon_client_fail(err, 0, false, "invalid object name %s%s%s", ns ? ns : "",
				   name ? "/" : "", name ? name : "");
		return -EINVAL;
	}
	return 0;
}

/* Take the "items" array out of a list answer. */
static int daemon_client_items(json_t *list, json_t **ret_items, struct daemon_client_error *err)
{
	json_t *items = json_object_get(list, "items");

	if (items == NULL || json_is_null(items)) {
		items = json_array();
		if (items == NULL)
			return -ENOMEM;
	} else if (json_is_array(items)) {
		json_incref(items);
	} else {
		daemon_client_fail(err, 200, true, "claimfsd answered a list without items");
		return -EPROTO;
	}
	*ret_items = items;
	return 0;
}

/* ---- health ------------------------------------------------------------------------ */

/* GET /readyz. */
int daemon_client_ready(const struct daemon_client *client, struct daemon_client_error *err)
{
	int r = daemon_client_call(client, "GET", "/readyz", NULL, NULL, NULL, err);

	if (r == 0)
		return 1;
	return err->transport ? r : 0;
}

/* ---- claims -------------------------------------------------------------------------- */

/* GET one claim. */
int daemon_client_claim_get(const struct daemon_client *client, const char *ns, const char *name,
			    json_t **ret_claim, struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(ns, name, err);

	if (r == 0)
		r = daemon_client_path(path, "/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns,
				       name);
	return r < 0 ? r : daemon_client_call(client, "GET", path, NULL, NULL, ret_claim, err);
}

/* POST a claim into a namespace. */
int daemon_client_claim_create(const struct daemon_client *client, const char *ns, json_t *claim,
			       json_t **ret_claim, struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(ns, NULL, err);

	if (r == 0)
		r = daemon_client_path(path, "/api/v1/namespaces/%s/persistentvolumeclaims", ns);
	return r < 0 ? r :
		       daemon_client_call(client, "POST", path, "application/json", claim,
					  ret_claim, err);
}

/* DELETE one claim (and, by its reclaim policy, its volume). */
int daemon_client_claim_delete(const struct daemon_client *client, const char *ns, const char *name,
			       struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(ns, name, err);

	if (r == 0)
		r = daemon_client_path(path, "/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns,
				       name);
	return r < 0 ? r : daemon_client_call(client, "DELETE", path, NULL, NULL, NULL, err);
}

/* GET the cluster-wide claim list. */
int daemon_client_claim_list(const struct daemon_client *client, json_t **ret_items,
			     struct daemon_client_error *err)
{
	json_t *list = NULL;
	int r;

	r = daemon_client_call(client, "GET", "/api/v1/persistentvolumeclaims", NULL, NULL, &list,
			       err);
	if (r == 0)
		r = daemon_client_items(list, ret_items, err);
	json_decref(list);
	return r;
}

/* PATCH a claim with a merge patch (consumed). */
static int daemon_client_claim_patch(const struct daemon_client *client, const char *ns,
				     const char *name, json_t *patch, json_t **ret_claim,
				     struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r;

	r = daemon_client_names_ok(ns, name, err);
	if (r == 0)
		r = daemon_client_path(path, "/api/v1/namespaces/%s/persistentvolumeclaims/%s", ns,
				       name);
	if (r == 0 && patch == NULL)
		r = -ENOMEM;
	if (r == 0)
		r = daemon_client_call(client, "PATCH", path, "application/merge-patch+json", patch,
				       ret_claim, err);
	json_decref(patch);
	return r;
}

/* PATCH spec.resources.requests.storage. */
int daemon_client_claim_expand(const struct daemon_client *client, const char *ns, const char *name,
			       uint64_t bytes, json_t **ret_claim, struct daemon_client_error *err)
{
	char storage[32];

	snprintf(storage, sizeof(storage), "%llu", (unsigned long long)bytes);
	return daemon_client_claim_patch(
		client, ns, name,
		json_pack("{s:{s:{s:{s:s}}}}", "spec", "resources", "requests", "storage", storage),
		ret_claim, err);
}

/* PATCH one annotation, conditional on the resourceVersion. */
int daemon_client_claim_annotate(const struct daemon_client *client, const char *ns,
				 const char *name, const char *resource_version, const char *key,
				 const char *value, json_t **ret_claim,
				 struct daemon_client_error *err)
{
	/* A null value deletes the key in a merge patch. */
	json_t *patch = json_pack("{s:{s:{s:o}}}", "metadata", "annotations", key,
				  value != NULL ? json_string(value) : json_null());

	if (patch != NULL && resource_version != NULL &&
	    json_object_set_new(json_object_get(patch, "metadata"), "resourceVersion",
				json_string(resource_version)) < 0) {
		json_decref(patch);
		patch = NULL;
	}
	return daemon_client_claim_patch(client, ns, name, patch, ret_claim, err);
}

/* PATCH several annotations at once (takes annotations, even on failure). */
int daemon_client_claim_patch_annotations(const struct daemon_client *client, const char *ns,
					  const char *name, json_t *annotations,
					  json_t **ret_claim, struct daemon_client_error *err)
{
	json_t *patch = annotations != NULL ? json_pack("{s:{s:o}}", "metadata", "annotations",
							 annotations)
					    : NULL;

	return daemon_client_claim_patch(client, ns, name, patch, ret_claim, err);
}

/* DELETE one PersistentVolume. */
int daemon_client_volume_delete(const struct daemon_client *client, const char *name,
				struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(name, NULL, err);

	if (r == 0)
		r = daemon_client_path(path, "/api/v1/persistentvolumes/%s", name);
	return r < 0 ? r : daemon_client_call(client, "DELETE", path, NULL, NULL, NULL, err);
}

/* ---- snapshots ------------------------------------------------------------------------- */

/* GET one VolumeSnapshot. */
int daemon_client_snapshot_get(const struct daemon_client *client, const char *ns, const char *name,
			       json_t **ret_snapshot, struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(ns, name, err);

	if (r == 0)
		r = daemon_client_path(path,
				       DAEMON_CLIENT_SNAPSHOT_API "/namespaces/%s/volumesnapshots/%s", ns, name);
	return r < 0 ? r : daemon_client_call(client, "GET", path, NULL, NULL, ret_snapshot, err);
}

/* POST a VolumeSnapshot into a namespace. */
int daemon_client_snapshot_create(const struct daemon_client *client, const char *ns,
				  json_t *snapshot, json_t **ret_snapshot,
				  struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(ns, NULL, err);

	if (r == 0)
		r = daemon_client_path(path,
				       DAEMON_CLIENT_SNAPSHOT_API "/namespaces/%s/volumesnapshots",
				       ns);
	return r < 0 ? r :
		       daemon_client_call(client, "POST", path, "application/json", snapshot,
					  ret_snapshot, err);
}

/* DELETE one VolumeSnapshot. */
int daemon_client_snapshot_delete(const struct daemon_client *client, const char *ns,
				  const char *name, struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	int r = daemon_client_names_ok(ns, name, err);

	if (r == 0)
		r = daemon_client_path(path,
				       DAEMON_CLIENT_SNAPSHOT_API "/namespaces/%s/volumesnapshots/%s", ns, name);
	return r < 0 ? r : daemon_client_call(client, "DELETE", path, NULL, NULL, NULL, err);
}

/* GET the VolumeSnapshots of a namespace, or of all. */
int daemon_client_snapshot_list(const struct daemon_client *client, const char *ns,
				json_t **ret_items, struct daemon_client_error *err)
{
	char path[DAEMON_CLIENT_PATH_MAX];
	json_t *list = NULL;
	int r;

	if (ns == NULL) {
		memset(err, 0, sizeof(*err));
		r = daemon_client_path(path, "%s", DAEMON_CLIENT_SNAPSHOT_API "/volumesnapshots");
	} else {
		r = daemon_client_names_ok(ns, NULL, err);
		if (r == 0)
			r = daemon_client_path(path,
					       DAEMON_CLIENT_SNAPSHOT_API "/namespaces/%s/volumesnapshots", ns);
	}
	if (r == 0)
		r = daemon_client_call(client, "GET", path, NULL, NULL, &list, err);
	if (r == 0)
		r = daemon_client_items(list, ret_items, err);
	json_decref(list);
	return r;
}
