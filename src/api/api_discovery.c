/*
 * api_discovery.c — discovery documents as the API server serves them:
 * /version, /api (APIVersions), /apis (APIGroupList), /apis/<group>
 * (APIGroup), /api/v1 and /apis/<group>/<version> (APIResourceList).
 *
 * Owns: which groups and versions are served and the resource entries
 * (verbs, short names, categories, subresources) kubectl reads to map
 * `kubectl get pvc` or `kubectl scale sts` to URLs. Besides the model's
 * kinds, the core group lists pods as a read-only, always empty collection
 * (claimfs runs no pods; `kubectl describe` lists them), and the self
 * reviews of the authorization and authentication groups (api_auth.c).
 */
#include "api_internal.h"

#include <string.h>

/* The version we speak: the API surface of Kubernetes 1.32. */
#define API_KUBE_MAJOR "1"
#define API_KUBE_MINOR "32"

static const char *const api_groups_served[][2] = {
	{ "apps", "v1" },
	{ "storage.k8s.io", "v1" },
	{ "snapshot.storage.k8s.io", "v1" },
	{ "events.k8s.io", "v1" },
	{ "authorization.k8s.io", "v1" },
	{ "authentication.k8s.io", "v1" },
};
#define API_GROUP_COUNT (sizeof(api_groups_served) / sizeof(api_groups_served[0]))

const struct api_discovery_review api_discovery_reviews[API_DISCOVERY_REVIEW_COUNT] = {
	{ "authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews" },
	{ "authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews" },
	{ "authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews" },
};

json_t *api_discovery_version(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major",
			 API_KUBE_MAJOR, "minor", API_KUBE_MINOR, "emulationMajor", API_KUBE_MAJOR,
			 "emulationMinor", API_KUBE_MINOR, "gitVersion",
			 "v" API_KUBE_MAJOR "." API_KUBE_MINOR ".0", "gitCommit",
			 "claimfs-" CLAIMFS_VERSION, "gitTreeState", "clean", "goVersion", "none",
			 "compiler", "claimfs", "platform", "linux/amd64");
}

json_t *api_discovery_core_versions(void)
{
	return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
			 "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
			 "127.0.0.1:8080");
}

/* One APIGroup entry. */
static json_t *api_group_entry(const char *group, const char *version)
{
	char gv[128];

	snprintf(gv, sizeof(gv), "%s/%s", group, version);
	return json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", group, "versions",
			 "groupVersion", gv, "version", version, "preferredVersion", "groupVersion",
			 gv, "version", version);
}

json_t *api_discovery_groups(void)
{
	json_t *groups = json_array();

	for (size_t i = 0; groups != NULL && i < API_GROUP_COUNT; i++)
		if (json_array_append_new(groups, api_group_entry(api_groups_served[i][0],
								  api_groups_served[i][1])) < 0) {
			json_decref(groups);
			return NULL;
		}
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
			 groups);
}

json_t *api_discovery_group(const char *group)
{
	json_t *entry;

	for (size_t i = 0; i < API_GROUP_COUNT; i++)
		if (strcmp(api_groups_served[i][0], group) == 0) {
			entry = api_group_entry(group, api_groups_served[i][1]);
			if (entry != NULL &&
			    (json_object_set_new(entry, "kind", json_string("APIGroup")) < 0 ||
			     json_object_set_new(entry, "apiVersion", json_string("v1")) < 0)) {
				json_decref(entry);
				return NULL;
			}
			return entry;
		}
	return NULL;
}

bool api_discovery_served(const char *group, const char *version)
{
	if (group[0] == '\0')
		return strcmp(version, "v1") == 0;
	for (size_t i = 0; i < API_GROUP_COUNT; i++)
		if (strcmp(api_groups_served[i][0], group) == 0 &&
		    strcmp(api_groups_served[i][1], version) == 0)
			return true;
	return false;
}

/* The resource entry of a model kind. */
static json_t *api_resource_entry(enum model_kind kind)
{
	const struct model_kind_info *info = model_kind_info(kind);
	json_t *entry = json_pack("{s:s, s:s, s:b, s:s, s:[s, s, s, s, s, s, s, s]}", "name",
				  info->resource, "singularName", info->singular, "namespaced",
				  info->namespaced, "kind", info->kind, "verbs", "create", "delete",
				  "deletecollection", "get", "list", "patch", "update", "watch");

	if (entry != NULL && info->short_name != NULL &&
	    json_object_set_new(entry, "shortNames", json_pack("[s]", info->short_name)) < 0) {
		json_decref(entry);
		return NULL;
	}
	if (entry != NULL && kind == MODEL_STS &&
	    json_object_set_new(entry, "categories", json_pack("[s]", "all")) < 0) {
		json_decref(entry);
		return NULL;
	}
	return entry;
}

/* Append entry (consumed) to list; false on failure. */
static bool api_add(json_t *list, json_t *entry)
{
	return entry != NULL && json_array_append_new(list, entry) == 0;
}

json_t *api_discovery_resources(const char *group, const char *version)
{
	json_t *resources = json_array();
	char gv[128];
	bool ok = resources != NULL;

	if (!api_discovery_served(group, version)) {
		json_decref(resources);
		return NULL;
	}
	for (int k = 0; ok && k < MODEL_KIND_COUNT; k++) {
		const struct model_kind_info *info = model_kind_info((enum model_kind)k);

		if (strcmp(info->group, group) != 0 || strcmp(info->version, version) != 0)
			continue;
		ok = api_add(resources, api_resource_entry((enum model_kind)k));
		if (ok && k == MODEL_STS)
			ok = api_add(resources,
				     json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:[s, s, s]}", "name",
					       "statefulsets/scale", "singularName", "", "namespaced",
					       1, "group", "autoscaling", "version", "v1", "kind",
					       "Scale", "verbs", "get", "patch", "update"));
		if (ok && info->status_subresource) {
			char name[64];

			snprintf(name, sizeof(name), "%s/status", info->resource);
			ok = api_add(resources,
				     json_pack("{s:s, s:s, s:b, s:s, s:[s, s, s]}", "name", name,
					       "singularName", "", "namespaced", info->namespaced,
					       "kind", info->kind, "verbs", "get", "patch", "update"));
		}
	}
	for (size_t i = 0; ok && i < API_DISCOVERY_REVIEW_COUNT; i++) {
		const struct api_discovery_review *rv = &api_discovery_reviews[i];
		char singular[64];

		if (strcmp(rv->group, group) != 0)
			continue;
		/* "selfsubjectaccessreviews" -> "selfsubjectaccessreview" */
		snprintf(singular, sizeof(singular), "%.*s", (int)strlen(rv->resource) - 1,
			 rv->resource);
		ok = api_add(resources, json_pack("{s:s, s:s, s:b, s:s, s:[s]}", "name",
						  rv->resource, "singularName", singular,
						  "namespaced", 0, "kind", rv->kind, "verbs",
						  "create"));
	}
	if (ok && group[0] == '\0')
		ok = api_add(resources,
			     json_pack("{s:s, s:s, s:b, s:s, s:[s, s], s:[s], s:[s]}", "name", "pods",
				       "singularName", "pod", "namespaced", 1, "kind", "Pod", "verbs",
				       "list", "watch", "shortNames", "po", "categories", "all"));
	if (!ok) {
		json_decref(resources);
		return NULL;
	}
	snprintf(gv, sizeof(gv), "%s%s%s", group, group[0] != '\0' ? "/" : "", version);
	return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", gv, "resources", resources);
}
