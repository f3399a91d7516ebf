/*
 * claims.c — StatefulSet / PVC provisioning through the claimfsd API
 * (see claims.h).
 *
 * The StatefulSet path is preferred: POST .../statefulsets; any answer but
 * 404/405 means the daemon has the API (201 created, 409 adopt it and set
 * the replica count). Without it we do the StatefulSet controller's storage
 * work ourselves: one PVC per ordinal named <template>-<sts>-<ordinal>,
 * labelled app=<sts>, 409 meaning "reuse", as Kubernetes does.
 */
#include "claims.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIMS_TIMEOUT_MS 10000
#define CLAIMS_JSON "application/json"
#define CLAIMS_MERGE_PATCH "application/merge-patch+json"

/* See claims.h. */
int claims_claim_name(const struct options *opts, unsigned ordinal, char *buf, size_t cap)
{
	return util_format(buf, cap, "%s-%s-%u", opts->claim_template, opts->statefulset, ordinal);
}

/* See claims.h. */
int claims_pod_name(const struct options *opts, unsigned ordinal, char *buf, size_t cap)
{
	return util_format(buf, cap, "%s-%u", opts->statefulset, ordinal);
}

/* Print "what: HTTP status message" using the Status body when there is one. */
static void claims_complain(const char *what, const struct http_response *resp)
{
	const char *message = NULL;
	json_t *root = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
	if (root)
		message = json_string_value(json_object_get(root, "message"));
	util_say("claimfs-harness: %s: HTTP %u%s%s", what, resp->status, message ? ": " : "",
		 message ? message : "");
	json_decref(root);
}

/* The PVC spec shared by the claim template and the direct PVCs. */
static json_t *claims_pvc_spec(const struct options *o)
{
	return json_pack("{s:[s], s:{s:{s:s}}}", "accessModes", "ReadWriteOnce", "resources",
			 "requests", "storage", o->storage);
}

/* spec.updateStrategy: a partition only belongs to RollingUpdate. */
static json_t *claims_update_strategy_json(const struct options *o)
{
	if (o->update_strategy == UPDATE_ON_DELETE)
		return json_pack("{s:s}", "type", "OnDelete");
	return json_pack("{s:s, s:{s:i}}", "type", "RollingUpdate", "rollingUpdate", "partition",
			 (int)o->partition);
}

/* The StatefulSet manifest the harness plays. */
static json_t *claims_statefulset_json(const struct options *o)
{
	json_t *spec = claims_pvc_spec(o), *strategy = claims_update_strategy_json(o);
	if (!spec || !strategy) {
		json_decref(spec);
		json_decref(strategy);
		return NULL;
	}
	return json_pack(
		"{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:i, s:s, s:s, s:{s:{s:s}},"
		" s:o, s:{s:{s:{s:s}}, s:{s:[{s:s, s:s, s:[{s:s, s:s}]}]}},"
		" s:[{s:{s:s, s:{s:s}}, s:o}]}}",
		"apiVersion", "apps/v1", "kind", "StatefulSet",
		"metadata", "name", o->statefulset, "labels", "app", o->statefulset,
		"spec", "replicas", (int)o->replicas, "serviceName", o->statefulset,
		"podManagementPolicy", o->pod_management == POD_MANAGEMENT_PARALLEL ? "Parallel" : "OrderedReady",
		"selector", "matchLabels", "app", o->statefulset,
		"updateStrategy", strategy,
		"template", "metadata", "labels", "app", o->statefulset,
		"spec", "containers", "name", "app", "image", "claimfs-harness/visits",
		"volumeMounts", "name", o->claim_template, "mountPath", o->mount_path,
		"volumeClaimTemplates", "metadata", "name", o->claim_template, "labels", "app", o->statefulset,
		"spec", spec);
}

/* POST BODY (a JSON object, consumed) to PATH; returns 0 with *ret_resp. */
static int claims_post(struct claims *c, const char *path, const char *content_type, json_t *body,
		       const char *method, struct http_response *ret_resp)
{
	if (!body)
		return -ENOMEM;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text)
		return -ENOMEM;
	const struct http_request request = { .method = method, .path = path,
					      .content_type = content_type, .body = text,
					      .body_len = strlen(text), .timeout_ms = CLAIMS_TIMEOUT_MS };
	int r = http_exchange(c->api, &request, ret_resp, NULL);
	free(text);
	if (r < 0)
		util_say("claimfs-harness: %s %s%s: %s", method, c->api->url, path, strerror(-r));
	return r;
}

static int claims_patch_replicas(struct claims *c, unsigned replicas);

/* Try the StatefulSet API. 1 = used, 0 = not available, <0 error. */
static int claims_try_statefulset(struct claims *c)
{
	const struct options *o = c->opts;
	char path[512], item[768];
	struct http_response resp = { 0 };
	if (util_format(path, sizeof(path), "/apis/apps/v1/namespaces/%s/statefulsets", o->namespace_name) < 0 ||
	    util_format(item, sizeof(item), "%s/%s", path, o->statefulset) < 0)
		return -ENAMETOOLONG;
	int r = claims_post(c, path, CLAIMS_JSON, claims_statefulset_json(o), "POST", &resp);
	if (r < 0)
		return r;
	unsigned status = resp.status;
	if (status == 404 || status == 405) {
		http_response_free(&resp);
		return 0;
	}
	if (status == 409) {
		http_response_free(&resp);
		r = claims_patch_replicas(c, o->replicas);
		return r < 0 ? r : 1;
	}
	if (status != 200 && status != 201) {
		claims_complain("creating the StatefulSet", &resp);
		http_response_free(&resp);
		return -EPROTO;
	}
	http_response_free(&resp);
	return 1;
}

/* Create claim ORDINAL directly (the StatefulSet controller's job). */
static int claims_create_pvc(struct claims *c, unsigned ordinal)
{
	const struct options *o = c->opts;
	char name[300], path[512];
	struct http_response resp = { 0 };
	if (claims_claim_name(o, ordinal, name, sizeof(name)) < 0 ||
	    util_format(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims", o->namespace_name) < 0)
		return -ENAMETOOLONG;
	json_t *spec = claims_pvc_spec(o);
	json_t *body = spec ? json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:o}", "apiVersion", "v1",
					"kind", "PersistentVolumeClaim", "metadata", "name", name,
					"labels", "app", o->statefulset, "spec", spec)
			    : NULL;
	int r = claims_post(c, path, CLAIMS_JSON, body, "POST", &resp);
	if (r < 0)
		return r;
	if (resp.status != 201 && resp.status != 200 && resp.status != 409) {
		char what[400];
		snprintf(what, sizeof(what), "creating claim %s", name);
		claims_complain(what, &resp);
		r = -EPROTO;
	}
	http_response_free(&resp);
	return r;
}

/* See claims.h. */
int claims_check_bound(struct claims *c, unsigned ordinal)
{
	const struct options *o = c->opts;
	char name[300], path[700];
	struct http_response resp = { 0 };
	if (claims_claim_name(o, ordinal, name, sizeof(name)) < 0 ||
	    util_format(path, sizeof(path), "/api/v1/namespaces/%s/persistentvolumeclaims/%s",
			o->namespace_name, name) < 0)
		return -ENAMETOOLONG;
	const struct http_request request = { .method = "GET", .path = path,
					      .timeout_ms = CLAIMS_TIMEOUT_MS };
	int r = http_exchange(c->api, &request, &resp, NULL);
	if (r < 0)
		return r;
	if (resp.status == 404) {
		r = -ENOENT;
	} else if (resp.status != 200) {
		r = -EPROTO;
	} else {
		json_t *root = json_loads(resp.body ? resp.body : "", 0, NULL);
		const char *phase = json_string_value(json_object_get(json_object_get(root, "status"), "phase"));
		r = phase && strcmp(phase, "Bound") == 0 ? 0 : -EAGAIN;
		json_decref(root);
	}
	http_response_free(&resp);
	return r;
}

/* Wait until every claim is Bound. */
static int claims_wait_bound(struct claims *c)
{
	for (unsigned i = 0; i < c->opts->replicas; i++) {
		uint64_t deadline = util_now_ns() + (uint64_t)CLAIMS_TIMEOUT_MS * 1000000u;
		int r;
		while ((r = claims_check_bound(c, i)) != 0) {
			if (util_interrupted())
				return -EINTR;
			if (util_now_ns() > deadline) {
				char name[300];
				claims_claim_name(c->opts, i, name, sizeof(name));
				util_say("claimfs-harness: claim %s is not Bound after %d s (%s)", name,
					 CLAIMS_TIMEOUT_MS / 1000, strerror(-r));
				return -ETIMEDOUT;
			}
			util_sleep_ms(20);
		}
	}
	return 0;
}

/* See claims.h. */
int claims_ensure(struct claims *c)
{
	int r = claims_try_statefulset(c);
	if (r < 0)
		return r;
	c->via_statefulset = r == 1;
	if (!c->via_statefulset) {
		for (unsigned i = 0; i < c->opts->replicas; i++) {
			r = claims_create_pvc(c, i);
			if (r < 0)
				return r;
		}
	}
	return claims_wait_bound(c);
}

/* Merge-PATCH the StatefulSet with PATCH (consumed); WHAT names it in a
 * complaint. */
static int claims_patch_set(struct claims *c, json_t *patch, const char *what)
{
	const struct options *o = c->opts;
	char path[700];
	struct http_response resp = { 0 };
	if (util_format(path, sizeof(path), "/apis/apps/v1/namespaces/%s/statefulsets/%s",
			o->namespace_name, o->statefulset) < 0) {
		json_decref(patch);
		return -ENAMETOOLONG;
	}
	int r = claims_post(c, path, CLAIMS_MERGE_PATCH, patch, "PATCH", &resp);
	if (r < 0)
		return r;
	if (resp.status != 200) {
		claims_complain(what, &resp);
		r = -EPROTO;
	}
	http_response_free(&resp);
	return r;
}

/* PATCH the StatefulSet's spec.replicas. */
static int claims_patch_replicas(struct claims *c, unsigned replicas)
{
	return claims_patch_set(c, json_pack("{s:{s:i}}", "spec", "replicas", (int)replicas),
				"scaling the StatefulSet");
}

/* See claims.h. */
int claims_set_revision(struct claims *c, unsigned revision)
{
	char value[16];
	if (!c->via_statefulset)
		return 0;
	snprintf(value, sizeof(value), "%u", revision);
	return claims_patch_set(c, json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template", "metadata",
					     "annotations", "claimfs-harness/revision", value),
				"changing the StatefulSet's template");
}

/* See claims.h. */
int claims_scale(struct claims *c, unsigned replicas)
{
	return c->via_statefulset ? claims_patch_replicas(c, replicas) : 0;
}
