/*
 * api_auth.c — who the caller is and what it may do, the way kubectl asks:
 * authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`) and
 * authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`)
 * and SelfSubjectRulesReview (`kubectl auth can-i --list`).
 *
 * claimfs knows one caller per daemon. With --token-file every request
 * carries the token (http.c refused the others), and its bearer is the user
 * API_AUTH_TOKEN_USER in the group system:authenticated; without a token
 * (loopback only) every caller is system:anonymous in system:unauthenticated.
 * Either may do everything claimfs serves and nothing else. The rules are
 * derived from the model's kinds (their verbs and subresources), the three
 * review resources and the paths api.c serves, and an access review is
 * answered by matching those same rules, so `can-i` and `can-i --list`
 * never disagree. Nothing here is stored: a review is answered and
 * forgotten, as the apiserver does.
 */
#include "api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define API_AUTH_TOKEN_USER "claimfs-admin"

/* The paths outside resources api.c serves ("/x/ *": everything below). */
static const char *const api_auth_paths[] = {
	"/api", "/api/*", "/apis", "/apis/*", "/backup", "/healthz", "/livez", "/metrics",
	"/openapi/*", "/readyz", "/version",
};
#define API_AUTH_PATH_COUNT (sizeof(api_auth_paths) / sizeof(api_auth_paths[0]))

/* ---- the rules ------------------------------------------------------------------- */

/* Append a ResourceRule for group/resource with the verbs of verbs (a JSON
 * array text); false on failure. */
static bool api_auth_rule(json_t *rules, const char *group, const char *resource,
			  const char *verbs)
{
	json_t *list = json_loads(verbs, 0, NULL);
	json_t *rule = list != NULL ? json_pack("{s:o, s:[s], s:[s]}", "verbs", list, "apiGroups",
						group, "resources", resource)
				    : NULL;

	return rule != NULL && json_array_append_new(rules, rule) == 0;
}

/* Every ResourceRule of the caller: each served kind with the verbs
 * discovery lists for it, its subresources, and the reviews. */
static json_t *api_auth_resource_rules(void)
{
	static const char all[] = "[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\","
				  "\"patch\",\"update\",\"watch\"]";
	static const char sub[] = "[\"get\",\"patch\",\"update\"]";
	json_t *rules = json_array();
	bool ok = rules != NULL;
	char name[96];

	for (int k = 0; ok && k < MODEL_KIND_COUNT; k++) {
		const struct model_kind_info *info = model_kind_info((enum model_kind)k);

		ok = api_auth_rule(rules, info->group, info->resource, all);
		snprintf(name, sizeof(name), "%s/status", info->resource);
		if (ok && info->status_subresource)
			ok = api_auth_rule(rules, info->group, name, sub);
		snprintf(name, sizeof(name), "%s/scale", info->resource);
		if (ok && k == MODEL_STS)
			ok = api_auth_rule(rules, info->group, name, sub);
	}
	for (size_t i = 0; ok && i < API_DISCOVERY_REVIEW_COUNT; i++)
		ok = api_auth_rule(rules, api_discovery_reviews[i].group, api_discovery_reviews[i].resource,
				   "[\"create\"]");
	if (!ok) {
		json_decref(rules);
		return NULL;
	}
	return rules;
}

/* The NonResourceRules: GET of every path api.c serves. */
static json_t *api_auth_path_rules(void)
{
	json_t *urls = json_array();

	for (size_t i = 0; urls != NULL && i < API_AUTH_PATH_COUNT; i++)
		if (json_array_append_new(urls, json_string(api_auth_paths[i])) < 0) {
			json_decref(urls);
			return NULL;
		}
	return urls != NULL ? json_pack("[{s:[s], s:o}]", "verbs", "get", "nonResourceURLs", urls)
			    : NULL;
}

/* Does the JSON array of strings list hold value (or "*")? */
static bool api_auth_lists(const json_t *list, const char *value)
{
	size_t i;
	json_t *item;

	json_array_foreach(list, i, item) {
		const char *s = json_string_value(item);

		if (s != NULL && (strcmp(s, value) == 0 || strcmp(s, "*") == 0))
			return true;
	}
	return false;
}

/* Is verb on group/resource (with "/subresource") allowed by a rule? A
 * verb of "*" asks for every verb: allowed where the resource is served,
 * since every verb it has is. */
static bool api_auth_resource_allowed(const json_t *rules, const char *group,
				      const char *resource, const char *verb)
{
	size_t i;
	json_t *rule;

	json_array_foreach(rules, i, rule)
		if (api_auth_lists(json_object_get(rule, "apiGroups"), group) &&
		    api_auth_lists(json_object_get(rule, "resources"), resource) &&
		    (strcmp(verb, "*") == 0 || api_auth_lists(json_object_get(rule, "verbs"), verb)))
			return true;
	return false;
}

/* Is verb on path allowed (RBAC's matching: exact, or a final "*")? */
static bool api_auth_path_allowed(const char *path, const char *verb)
{
	if (strcmp(verb, "get") != 0 && strcmp(verb, "head") != 0)
		return false;
	for (size_t i = 0; i < API_AUTH_PATH_COUNT; i++) {
		const char *rule = api_auth_paths[i];
		size_t len = strlen(rule);

		if (strcmp(rule, path) == 0 ||
		    (rule[len - 1] == '*' && strncmp(rule, path, len - 1) == 0))
			return true;
	}
	return false;
}

/* ---- reviews --------------------------------------------------------------------- */

/* The caller's UserInfo. */
static json_t *api_auth_user(const struct api_call *call)
{
	if (call->req->authenticated)
		return json_pack("{s:s, s:[s]}", "username", API_AUTH_TOKEN_USER, "groups",
				 "system:authenticated");
	return json_pack("{s:s, s:[s]}", "username", "system:anonymous", "groups",
			 "system:unauthenticated");
}

/* The body of a review's POST, checked as a create's (fieldValidation) and
 * for its type, with metadata as the apiserver answers it. */
static int api_auth_body(struct api_call *call, const struct api_discovery_review *review,
			 json_t **ret_body)
{
	char api_version[64];
	enum api_field_validation fv;
	json_t *body = NULL;
	const char *value;
	int r;

	snprintf(api_version, sizeof(api_version), "%s/v1", review->group);
	r = api_fields_directive(call, "CreateOptions", &fv);
	if (r == 0)
		r = api_fields_body(call, api_schema_kind_type(review->group, review->kind), fv, &body);
	if (r < 0)
		return r;
	r = -EBADMSG;
	if (!json_is_object(body)) {
		model_fail(&call->err, r, "the request body must be a %s object", review->kind);
		goto fail;
	}
	value = json_string_value(json_object_get(body, "apiVersion"));
	if (value != NULL && strcmp(value, api_version) != 0) {
		model_fail(&call->err, r, "the API version in the data (%.100s) does not match the "
			   "expected API version (%s)", value, api_version);
		goto fail;
	}
	value = json_string_value(json_object_get(body, "kind"));
	if (value != NULL && strcmp(value, review->kind) != 0) {
		model_fail(&call->err, r, "the kind in the data (%.100s) does not match the "
			   "expected kind (%s)", value, review->kind);
		goto fail;
	}
	/* The metadata the client sent comes back; nothing was stored, so no
	 * creation time. */
	r = -ENOMEM;
	if (!json_is_object(json_object_get(body, "metadata")) &&
	    json_object_set_new(body, "metadata", json_object()) < 0)
		goto fail;
	if (json_object_set_new(body, "apiVersion", json_string(api_version)) < 0 ||
	    json_object_set_new(body, "kind", json_string(review->kind)) < 0 ||
	    json_object_set_new(json_object_get(body, "metadata"), "creationTimestamp",
				json_null()) < 0)
		goto fail;
	*ret_body = body;
	return 0;
fail:
	json_decref(body);
	return r;
}

/* Answer body (consumed) with status (consumed) set: 201, as a create. */
static int api_auth_answer(struct api_call *call, json_t *body, json_t *status)
{
	if (status == NULL || json_object_set_new(body, "status", status) < 0) {
		json_decref(body);
		return -ENOMEM;
	}
	call->status = 201;
	call->body = body;
	return 0;
}

/* The verdict on spec.resourceAttributes: allowed, and why (or why not). */
static json_t *api_auth_resource_verdict(const struct api_call *call, const json_t *attrs)
{
	const char *group = json_string_value(json_object_get(attrs, "group"));
	const char *resource = json_string_value(json_object_get(attrs, "resource"));
	const char *sub = json_string_value(json_object_get(attrs, "subresource"));
	const char *verb = json_string_value(json_object_get(attrs, "verb"));
	json_t *rules = api_auth_resource_rules(), *verdict = NULL;
	char full[256], reason[400];
	bool allowed;

	if (rules == NULL)
		return NULL;
	group = group != NULL ? group : "";
	verb = verb != NULL ? verb : "";
	snprintf(full, sizeof(full), "%.120s%s%.120s", resource != NULL ? resource : "",
		 sub != NULL && sub[0] != '\0' ? "/" : "", sub != NULL ? sub : "");
	allowed = api_auth_resource_allowed(rules, group, full, verb);
	if (allowed)
		snprintf(reason, sizeof(reason), "claimfs: %s may do everything claimfs serves",
			 call->req->authenticated ? "the --token-file token's user"
						  : "every caller on loopback (no --token-file)");
	else if (api_auth_resource_allowed(rules, group, full, "*"))
		snprintf(reason, sizeof(reason), "claimfs does not serve the verb \"%.40s\" on %s%s%.60s",
			 verb, full, group[0] != '\0' ? "." : "", group);
	else
		snprintf(reason, sizeof(reason), "claimfs does not serve %s%s%.60s",
			 full[0] != '\0' ? full : "\"\"", group[0] != '\0' ? "." : "", group);
	verdict = json_pack("{s:b, s:s}", "allowed", allowed, "reason", reason);
	json_decref(rules);
	return verdict;
}

/* POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews. */
int api_auth_access_review(struct api_call *call)
{
	const json_t *spec, *res, *non;
	json_t *body = NULL, *status;
	const char *path, *verb;
	int r;

	r = api_auth_body(call, &api_discovery_reviews[0], &body);
	if (r < 0)
		return r;
	spec = json_object_get(body, "spec");
	res = json_object_get(spec, "resourceAttributes");
	non = json_object_get(spec, "nonResourceAttributes");
	call->err.kind = "SelfSubjectAccessReview.authorization.k8s.io";
	if (json_is_object(res) == json_is_object(non)) {
		names_field_error_add(&call->err.fields, NAMES_FIELD_INVALID,
				      res != NULL ? "spec.nonResourceAttributes"
						  : "spec.resourceAttributes",
				      res != NULL ? NULL : "null",
				      res != NULL ? "cannot be specified in combination with "
						    "resourceAttributes"
						  : "exactly one of nonResourceAttributes or "
						    "resourceAttributes must be specified");
		json_decref(body);
		return -EINVAL;
	}
	if (json_is_object(res)) {
		status = api_auth_resource_verdict(call, res);
	} else {
		path = json_string_value(json_object_get(non, "path"));
		verb = json_string_value(json_object_get(non, "verb"));
		bool allowed = api_auth_path_allowed(path != NULL ? path : "",
						     verb != NULL ? verb : "");

		status = json_pack("{s:b, s:s}", "allowed", allowed, "reason",
				   allowed ? "claimfs serves this path to every caller it admits"
					   : "claimfs does not serve this path or verb");
	}
	return api_auth_answer(call, body, status);
}

/* POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews: the rules of
 * every namespace are the same, so spec.namespace only has to be given. */
int api_auth_rules_review(struct api_call *call)
{
	json_t *body = NULL, *resource_rules, *path_rules, *status;
	const char *ns;
	int r;

	r = api_auth_body(call, &api_discovery_reviews[1], &body);
	if (r < 0)
		return r;
	ns = json_string_value(json_object_get(json_object_get(body, "spec"), "namespace"));
	if (ns == NULL || ns[0] == '\0') {
		json_decref(body);
		return model_fail(&call->err, -EBADMSG, "no namespace on request");
	}
	resource_rules = api_auth_resource_rules();
	path_rules = api_auth_path_rules();
	status = resource_rules != NULL && path_rules != NULL
			 ? json_pack("{s:O, s:O, s:b}", "resourceRules", resource_rules,
				     "nonResourceRules", path_rules, "incomplete", 0)
			 : NULL;
	json_decref(resource_rules);
	json_decref(path_rules);
	return api_auth_answer(call, body, status);
}

/* POST /apis/authentication.k8s.io/v1/selfsubjectreviews. */
int api_auth_self_review(struct api_call *call)
{
	json_t *body = NULL, *user;
	int r;

	r = api_auth_body(call, &api_discovery_reviews[2], &body);
	if (r < 0)
		return r;
	user = api_auth_user(call);
	return api_auth_answer(call, body,
			       user != NULL ? json_pack("{s:o}", "userInfo", user) : NULL);
}
