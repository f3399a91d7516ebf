/*
 * api_openapi.c — OpenAPI documents: /openapi/v3 (index and one document
 * per group-version).
 *
 * Owns: hand-written schemas of the kinds claimfs serves (the fields it
 * reads and keeps; pod templates are left open with
 * x-kubernetes-preserve-unknown-fields) and the operations of their paths.
 * Every PATCH operation carries x-kubernetes-group-version-kind and the
 * fieldValidation query parameter: that is how kubectl (1.27+) learns that
 * the server validates fields itself, so `kubectl apply` and `create` need
 * no --validate=false. The PATCH request bodies list JSON patch, merge
 * patch and apply patch but not strategic merge patch, so client-side
 * apply computes its patches from kubectl's built-in types (whose list
 * merge keys patch.c mirrors) rather than from these schemas.
 *
 * Descriptions (what `kubectl explain` prints) come from the generated
 * schema table (api_schema_table.c): every type a kind reaches is written
 * from it, keeping the hand-written group-version-kind and required
 * fields. There is no /openapi/v2 (api.c answers 404).
 */
#include "api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define API_META "io.k8s.apimachinery.pkg.apis.meta.v1."
#define API_REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"
#define API_STR "{\"type\":\"string\"}"
#define API_INT "{\"type\":\"integer\",\"format\":\"int32\"}"
#define API_BOOL "{\"type\":\"boolean\"}"
#define API_MAP "{\"type\":\"object\",\"additionalProperties\":" API_STR "}"
#define API_STRS "{\"type\":\"array\",\"items\":" API_STR "}"
#define API_OPEN "{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}"
#define API_QTY API_REF("io.k8s.apimachinery.pkg.api.resource.Quantity")
#define API_GVK(g, v, k) "\"x-kubernetes-group-version-kind\":[{\"group\":\"" g "\",\"kind\":\"" k "\",\"version\":\"" v "\"}]"
#define API_OBJECT_HEAD \
	"\"type\":\"object\",\"properties\":{\"apiVersion\":" API_STR ",\"kind\":" API_STR \
	",\"metadata\":" API_REF(API_META "ObjectMeta")
#define API_LIST(item, g, v, k)                                                                   \
	"{\"type\":\"object\",\"required\":[\"items\"],\"properties\":{\"apiVersion\":" API_STR \
	",\"kind\":" API_STR ",\"metadata\":" API_REF(API_META "ListMeta") ",\"items\":{\"type\":" \
	"\"array\",\"items\":" API_REF(item) "}}," API_GVK(g, v, k) "}"

#define API_TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define API_OBJECT_REFERENCE \
	"{\"type\":\"object\",\"properties\":{\"apiVersion\":" API_STR ",\"kind\":" API_STR \
	",\"namespace\":" API_STR ",\"name\":" API_STR ",\"uid\":" API_STR \
	",\"resourceVersion\":" API_STR ",\"fieldPath\":" API_STR "}}"
#define API_EVENT_SERIES \
	"{\"type\":\"object\",\"properties\":{\"count\":" API_INT ",\"lastObservedTime\":" \
	API_TIME "}}"

/* Schemas every document carries. */
static const char api_meta_schemas[] =
	"{\"io.k8s.apimachinery.pkg.api.resource.Quantity\":{\"type\":\"string\",\"description\":"
	"\"Quantity: 1Mi, 1.5Gi, 500M, plain bytes\"},"
	"\"" API_META "ObjectMeta\":{\"type\":\"object\",\"properties\":{"
	"\"name\":" API_STR ",\"generateName\":" API_STR ",\"namespace\":" API_STR
	",\"uid\":" API_STR ",\"resourceVersion\":" API_STR ",\"generation\":{\"type\":\"integer\","
	"\"format\":\"int64\"},\"creationTimestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
	"\"deletionTimestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
	"\"deletionGracePeriodSeconds\":{\"type\":\"integer\",\"format\":\"int64\"},"
	"\"labels\":" API_MAP ",\"annotations\":" API_MAP ",\"finalizers\":" API_STRS
	",\"ownerReferences\":{\"type\":\"array\",\"items\":" API_OPEN "},\"managedFields\":"
	"{\"type\":\"array\",\"items\":" API_OPEN "},\"selfLink\":" API_STR "}},"
	"\"" API_META "ListMeta\":{\"type\":\"object\",\"properties\":{\"resourceVersion\":" API_STR
	",\"continue\":" API_STR ",\"remainingItemCount\":{\"type\":\"integer\"}}},"
	"\"" API_META "LabelSelector\":{\"type\":\"object\",\"properties\":{\"matchLabels\":" API_MAP
	",\"matchExpressions\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":"
	"[\"key\",\"operator\"],\"properties\":{\"key\":" API_STR ",\"operator\":" API_STR
	",\"values\":" API_STRS "}}}}},"
	"\"" API_META "Status\":{\"type\":\"object\",\"properties\":{\"apiVersion\":" API_STR
	",\"kind\":" API_STR ",\"code\":" API_INT ",\"message\":" API_STR ",\"reason\":" API_STR
	",\"status\":" API_STR ",\"details\":" API_OPEN ",\"metadata\":" API_OPEN "}},"
	"\"" API_META "Patch\":{\"type\":\"object\",\"description\":\"Patch is provided to give a "
	"concrete name and type to the Kubernetes PATCH request body.\"}}";

static const char api_core_schemas[] =
	"{\"io.k8s.api.core.v1.PersistentVolumeClaim\":{" API_OBJECT_HEAD
	",\"spec\":" API_REF("io.k8s.api.core.v1.PersistentVolumeClaimSpec")
	",\"status\":" API_REF("io.k8s.api.core.v1.PersistentVolumeClaimStatus") "},"
	API_GVK("", "v1", "PersistentVolumeClaim") "},"
	"\"io.k8s.api.core.v1.PersistentVolumeClaimSpec\":{\"type\":\"object\",\"properties\":{"
	"\"accessModes\":" API_STRS ",\"resources\":{\"type\":\"object\",\"properties\":{"
	"\"requests\":{\"type\":\"object\",\"additionalProperties\":" API_QTY "},\"limits\":"
	"{\"type\":\"object\",\"additionalProperties\":" API_QTY "}}},\"storageClassName\":" API_STR
	",\"volumeMode\":" API_STR ",\"volumeName\":" API_STR ",\"selector\":"
	API_REF(API_META "LabelSelector") ",\"dataSource\":" API_OPEN ",\"dataSourceRef\":" API_OPEN
	",\"volumeAttributesClassName\":" API_STR "}},"
	"\"io.k8s.api.core.v1.PersistentVolumeClaimStatus\":{\"type\":\"object\",\"properties\":{"
	"\"phase\":" API_STR ",\"accessModes\":" API_STRS ",\"capacity\":{\"type\":\"object\","
	"\"additionalProperties\":" API_QTY "},\"conditions\":{\"type\":\"array\",\"items\":" API_OPEN
	"}}},"
	"\"io.k8s.api.core.v1.PersistentVolumeClaimList\":"
	API_LIST("io.k8s.api.core.v1.PersistentVolumeClaim", "", "v1", "PersistentVolumeClaimList") ","
	"\"io.k8s.api.core.v1.PersistentVolume\":{" API_OBJECT_HEAD
	",\"spec\":" API_REF("io.k8s.api.core.v1.PersistentVolumeSpec")
	",\"status\":{\"type\":\"object\",\"properties\":{\"phase\":" API_STR ",\"message\":" API_STR
	",\"reason\":" API_STR ",\"lastPhaseTransitionTime\":" API_STR "}}},"
	API_GVK("", "v1", "PersistentVolume") "},"
	"\"io.k8s.api.core.v1.PersistentVolumeSpec\":{\"type\":\"object\",\"properties\":{"
	"\"accessModes\":" API_STRS ",\"capacity\":{\"type\":\"object\",\"additionalProperties\":"
	API_QTY "},\"claimRef\":{\"type\":\"object\",\"properties\":{\"apiVersion\":" API_STR
	",\"kind\":" API_STR ",\"namespace\":" API_STR ",\"name\":" API_STR ",\"uid\":" API_STR
	",\"resourceVersion\":" API_STR ",\"fieldPath\":" API_STR "}},\"csi\":" API_OPEN
	",\"persistentVolumeReclaimPolicy\":" API_STR ",\"storageClassName\":" API_STR
	",\"volumeMode\":" API_STR ",\"mountOptions\":" API_STRS ",\"nodeAffinity\":" API_OPEN
	",\"volumeAttributesClassName\":" API_STR "}},"
	"\"io.k8s.api.core.v1.PersistentVolumeList\":"
	API_LIST("io.k8s.api.core.v1.PersistentVolume", "", "v1", "PersistentVolumeList") ","
	"\"io.k8s.api.core.v1.Namespace\":{" API_OBJECT_HEAD
	",\"spec\":{\"type\":\"object\",\"properties\":{\"finalizers\":" API_STRS "}},"
	"\"status\":{\"type\":\"object\",\"properties\":{\"phase\":" API_STR ",\"conditions\":"
	"{\"type\":\"array\",\"items\":" API_OPEN "}}}}," API_GVK("", "v1", "Namespace") "},"
	"\"io.k8s.api.core.v1.NamespaceList\":"
	API_LIST("io.k8s.api.core.v1.Namespace", "", "v1", "NamespaceList") ","
	"\"io.k8s.api.core.v1.ObjectReference\":" API_OBJECT_REFERENCE ","
	"\"io.k8s.api.core.v1.Event\":{\"required\":[\"metadata\",\"involvedObject\"],"
	API_OBJECT_HEAD ",\"involvedObject\":" API_REF("io.k8s.api.core.v1.ObjectReference")
	",\"related\":" API_REF("io.k8s.api.core.v1.ObjectReference") ",\"reason\":" API_STR
	",\"message\":" API_STR ",\"type\":" API_STR ",\"action\":" API_STR ",\"source\":"
	"{\"type\":\"object\",\"properties\":{\"component\":" API_STR ",\"host\":" API_STR "}},"
	"\"firstTimestamp\":" API_TIME ",\"lastTimestamp\":" API_TIME ",\"eventTime\":" API_TIME
	",\"count\":" API_INT ",\"series\":" API_EVENT_SERIES ",\"reportingComponent\":" API_STR
	",\"reportingInstance\":" API_STR "}," API_GVK("", "v1", "Event") "},"
	"\"io.k8s.api.core.v1.EventList\":"
	API_LIST("io.k8s.api.core.v1.Event", "", "v1", "EventList") "}";

static const char api_events_schemas[] =
	"{\"io.k8s.api.core.v1.ObjectReference\":" API_OBJECT_REFERENCE ","
	"\"io.k8s.api.events.v1.Event\":{\"required\":[\"eventTime\"]," API_OBJECT_HEAD
	",\"regarding\":" API_REF("io.k8s.api.core.v1.ObjectReference")
	",\"related\":" API_REF("io.k8s.api.core.v1.ObjectReference") ",\"reason\":" API_STR
	",\"note\":" API_STR ",\"type\":" API_STR ",\"action\":" API_STR ",\"eventTime\":"
	API_TIME ",\"series\":" API_EVENT_SERIES ",\"reportingController\":" API_STR
	",\"reportingInstance\":" API_STR ",\"deprecatedSource\":{\"type\":\"object\","
	"\"properties\":{\"component\":" API_STR ",\"host\":" API_STR "}},"
	"\"deprecatedFirstTimestamp\":" API_TIME ",\"deprecatedLastTimestamp\":" API_TIME
	",\"deprecatedCount\":" API_INT "}," API_GVK("events.k8s.io", "v1", "Event") "},"
	"\"io.k8s.api.events.v1.EventList\":"
	API_LIST("io.k8s.api.events.v1.Event", "events.k8s.io", "v1", "EventList") "}";

static const char api_storage_schemas[] =
	"{\"io.k8s.api.storage.v1.StorageClass\":{\"required\":[\"provisioner\"]," API_OBJECT_HEAD
	",\"provisioner\":" API_STR ",\"parameters\":" API_MAP ",\"reclaimPolicy\":" API_STR
	",\"mountOptions\":" API_STRS ",\"allowVolumeExpansion\":" API_BOOL
	",\"volumeBindingMode\":" API_STR ",\"allowedTopologies\":{\"type\":\"array\",\"items\":"
	API_OPEN "}}," API_GVK("storage.k8s.io", "v1", "StorageClass") "},"
	"\"io.k8s.api.storage.v1.StorageClassList\":"
	API_LIST("io.k8s.api.storage.v1.StorageClass", "storage.k8s.io", "v1", "StorageClassList") ","
	"\"io.k8s.api.storage.v1.VolumeAttributesClass\":{\"required\":[\"driverName\"],"
	API_OBJECT_HEAD ",\"driverName\":" API_STR ",\"parameters\":" API_MAP "},"
	API_GVK("storage.k8s.io", "v1", "VolumeAttributesClass") "},"
	"\"io.k8s.api.storage.v1.VolumeAttributesClassList\":"
	API_LIST("io.k8s.api.storage.v1.VolumeAttributesClass", "storage.k8s.io", "v1",
		 "VolumeAttributesClassList") "}";

static const char api_apps_schemas[] =
	"{\"io.k8s.api.apps.v1.StatefulSet\":{" API_OBJECT_HEAD
	",\"spec\":" API_REF("io.k8s.api.apps.v1.StatefulSetSpec")
	",\"status\":" API_REF("io.k8s.api.apps.v1.StatefulSetStatus") "},"
	API_GVK("apps", "v1", "StatefulSet") "},"
	"\"io.k8s.api.apps.v1.StatefulSetSpec\":{\"type\":\"object\",\"required\":[\"selector\","
	"\"template\"],\"properties\":{\"replicas\":" API_INT ",\"selector\":"
	API_REF(API_META "LabelSelector") ",\"template\":{\"type\":\"object\",\"properties\":{"
	"\"metadata\":" API_REF(API_META "ObjectMeta") ",\"spec\":" API_OPEN "}},"
	"\"volumeClaimTemplates\":{\"type\":\"array\",\"items\":"
	API_REF("io.k8s.api.core.v1.PersistentVolumeClaim") "},\"serviceName\":" API_STR
	",\"podManagementPolicy\":" API_STR ",\"updateStrategy\":{\"type\":\"object\","
	"\"properties\":{\"type\":" API_STR ",\"rollingUpdate\":{\"type\":\"object\",\"properties\":{"
	"\"partition\":" API_INT ",\"maxUnavailable\":{\"x-kubernetes-int-or-string\":true}}}}},"
	"\"revisionHistoryLimit\":" API_INT ",\"minReadySeconds\":" API_INT
	",\"persistentVolumeClaimRetentionPolicy\":{\"type\":\"object\",\"properties\":{"
	"\"whenDeleted\":" API_STR ",\"whenScaled\":" API_STR "}},\"ordinals\":{\"type\":\"object\","
	"\"properties\":{\"start\":" API_INT "}}}},"
	"\"io.k8s.api.apps.v1.StatefulSetStatus\":{\"type\":\"object\",\"properties\":{"
	"\"observedGeneration\":{\"type\":\"integer\",\"format\":\"int64\"},\"replicas\":" API_INT
	",\"readyReplicas\":" API_INT ",\"currentReplicas\":" API_INT ",\"updatedReplicas\":" API_INT
	",\"availableReplicas\":" API_INT ",\"currentRevision\":" API_STR ",\"updateRevision\":"
	API_STR ",\"collisionCount\":" API_INT "}},"
	"\"io.k8s.api.apps.v1.StatefulSetList\":"
	API_LIST("io.k8s.api.apps.v1.StatefulSet", "apps", "v1", "StatefulSetList") ","
	"\"io.k8s.api.apps.v1.ControllerRevision\":{\"required\":[\"revision\"]," API_OBJECT_HEAD
	",\"data\":" API_OPEN ",\"revision\":{\"type\":\"integer\",\"format\":\"int64\"}},"
	API_GVK("apps", "v1", "ControllerRevision") "},"
	"\"io.k8s.api.apps.v1.ControllerRevisionList\":"
	API_LIST("io.k8s.api.apps.v1.ControllerRevision", "apps", "v1", "ControllerRevisionList") ","
	"\"io.k8s.api.core.v1.PersistentVolumeClaim\":" API_OPEN ","
	"\"io.k8s.api.autoscaling.v1.Scale\":{" API_OBJECT_HEAD
	",\"spec\":{\"type\":\"object\",\"properties\":{\"replicas\":" API_INT "}},\"status\":"
	"{\"type\":\"object\",\"properties\":{\"replicas\":" API_INT ",\"selector\":" API_STR "}}},"
	API_GVK("autoscaling", "v1", "Scale") "}}";

static const char api_snapshot_schemas[] =
	"{\"io.k8s.api.snapshot.v1.VolumeSnapshot\":{\"required\":[\"spec\"]," API_OBJECT_HEAD
	",\"spec\":{\"type\":\"object\",\"required\":[\"source\"],\"properties\":{\"source\":{"
	"\"type\":\"object\",\"properties\":{\"persistentVolumeClaimName\":" API_STR
	",\"volumeSnapshotContentName\":" API_STR "}},\"volumeSnapshotClassName\":" API_STR "}},"
	"\"status\":{\"type\":\"object\",\"properties\":{\"boundVolumeSnapshotContentName\":" API_STR
	",\"creationTime\":" API_STR ",\"readyToUse\":" API_BOOL ",\"restoreSize\":" API_STR
	",\"error\":" API_OPEN "}}},"
	API_GVK("snapshot.storage.k8s.io", "v1", "VolumeSnapshot") "},"
	"\"io.k8s.api.snapshot.v1.VolumeSnapshotList\":"
	API_LIST("io.k8s.api.snapshot.v1.VolumeSnapshot", "snapshot.storage.k8s.io", "v1",
		 "VolumeSnapshotList") "}";

/* The reviews: only their group-version-kinds and required fields are
 * written by hand, the rest comes from the schema table. */
static const char api_authorization_schemas[] =
	"{\"io.k8s.api.authorization.v1.SelfSubjectAccessReview\":{\"required\":[\"spec\"],"
	API_GVK("authorization.k8s.io", "v1", "SelfSubjectAccessReview") "},"
	"\"io.k8s.api.authorization.v1.SelfSubjectRulesReview\":{\"required\":[\"spec\"],"
	API_GVK("authorization.k8s.io", "v1", "SelfSubjectRulesReview") "}}";

static const char api_authentication_schemas[] =
	"{\"io.k8s.api.authentication.v1.SelfSubjectReview\":{"
	API_GVK("authentication.k8s.io", "v1", "SelfSubjectReview") "}}";

/* One document's paths. */
struct api_openapi_doc {
	const char *path;    /* "api/v1" */
	const char *group;   /* "" */
	const char *schemas; /* its own schemas */
	const char *schema_prefix; /* "io.k8s.api.core.v1." */
};

static const struct api_openapi_doc api_docs[] = {
	{ "api/v1", "", api_core_schemas, "io.k8s.api.core.v1." },
	{ "apis/apps/v1", "apps", api_apps_schemas, "io.k8s.api.apps.v1." },
	{ "apis/storage.k8s.io/v1", "storage.k8s.io", api_storage_schemas, "io.k8s.api.storage.v1." },
	{ "apis/snapshot.storage.k8s.io/v1", "snapshot.storage.k8s.io", api_snapshot_schemas,
	  "io.k8s.api.snapshot.v1." },
	{ "apis/events.k8s.io/v1", "events.k8s.io", api_events_schemas, "io.k8s.api.events.v1." },
	{ "apis/authorization.k8s.io/v1", "authorization.k8s.io", api_authorization_schemas,
	  "io.k8s.api.authorization.v1." },
	{ "apis/authentication.k8s.io/v1", "authentication.k8s.io", api_authentication_schemas,
	  "io.k8s.api.authentication.v1." },
};
#define API_DOC_COUNT (sizeof(api_docs) / sizeof(api_docs[0]))

json_t *api_openapi_document(const char *path);

/* A hash of the document's text for serverRelativeURL (clients cache by it). */
static unsigned long long api_doc_hash(const struct api_openapi_doc *doc)
{
	json_t *whole = api_openapi_document(doc->path);
	char *text = whole != NULL ? json_dumps(whole, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	unsigned long long h = 1469598103934665603ull;

	for (const char *p = text != NULL ? text : doc->schemas; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	free(text);
	json_decref(whole);
	return h;
}

json_t *api_openapi_index(void)
{
	json_t *paths = json_object();
	char url[160];

	for (size_t i = 0; paths != NULL && i < API_DOC_COUNT; i++) {
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%016llX", api_docs[i].path,
			 api_doc_hash(&api_docs[i]));
		if (json_object_set_new(paths, api_docs[i].path,
					json_pack("{s:s}", "serverRelativeURL", url)) < 0) {
			json_decref(paths);
			return NULL;
		}
	}
	return json_pack("{s:o}", "paths", paths);
}

/* The query parameters of a write. */
static json_t *api_write_params(bool patch)
{
	json_t *params = json_pack("[{s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}}, {s:s, s:s, s:{s:s}}]",
				   "name", "dryRun", "in", "query", "schema", "type", "string",
				   "name", "fieldManager", "in", "query", "schema", "type", "string",
				   "name", "fieldValidation", "in", "query", "schema", "type",
				   "string");

	if (params != NULL && patch &&
	    json_array_append_new(params, json_pack("{s:s, s:s, s:{s:s}}", "name", "force", "in",
						    "query", "schema", "type", "boolean")) < 0) {
		json_decref(params);
		return NULL;
	}
	return params;
}

/* One operation. body_ref: schema of a PUT/POST body; patch: a PATCH. */
static json_t *api_operation(const char *action, const char *group, const char *version,
			     const char *kind, const char *ref, bool body, bool patch)
{
	json_t *op = json_pack("{s:s, s:{s:{s:s, s:{s:{s:{s:s}}}}}, s:s, s:{s:s, s:s, s:s}}",
			       "operationId", action, "responses", "200", "description", "OK",
			       "content", "application/json", "schema", "$ref", ref,
			       "x-kubernetes-action", action, "x-kubernetes-group-version-kind",
			       "group", group, "version", version, "kind", kind);
	json_t *content;

	if (op == NULL)
		return NULL;
	if (body || patch) {
		if (patch)
			content = json_pack("{s:{s:{s:s}}, s:{s:{s:s}}, s:{s:{s:s}}}",
					    "application/json-patch+json", "schema", "$ref",
					    "#/components/schemas/" API_META "Patch",
					    "application/merge-patch+json", "schema", "$ref",
					    "#/components/schemas/" API_META "Patch",
					    "application/apply-patch+yaml", "schema", "$ref",
					    "#/components/schemas/" API_META "Patch");
		else
			content = json_pack("{s:{s:{s:s}}, s:{s:{s:s}}}", "application/json", "schema",
					    "$ref", ref, "application/yaml", "schema", "$ref", ref);
		if (json_object_set_new(op, "requestBody",
					json_pack("{s:o, s:b}", "content", content, "required", 1)) < 0 ||
		    json_object_set_new(op, "parameters", api_write_params(patch)) < 0) {
			json_decref(op);
			return NULL;
		}
	}
	return op;
}

/* The paths of one kind (and the scale subresource of StatefulSets). */
static int api_kind_paths(json_t *paths, enum model_kind kind, const char *prefix)
{
	const struct model_kind_info *info = model_kind_info(kind);
	char base[256], item[300], ref[256], list_ref[256];
	const char *v = info->version, *g = info->group, *k = info->kind;

	snprintf(ref, sizeof(ref), "#/components/schemas/%s%s", prefix, k);
	snprintf(list_ref, sizeof(list_ref), "#/components/schemas/%s%s", prefix, info->list_kind);
	if (g[0] != '\0')
		snprintf(base, sizeof(base), "/apis/%s/%s%s", g, v,
			 info->namespaced ? "/namespaces/{namespace}" : "");
	else
		snprintf(base, sizeof(base), "/api/%s%s", v,
			 info->namespaced ? "/namespaces/{namespace}" : "");
	snprintf(item, sizeof(item), "%s/%s/{name}", base, info->resource);
	if (json_object_set_new(paths, item,
				json_pack("{s:o, s:o, s:o, s:o}", "get",
					  api_operation("get", g, v, k, ref, false, false), "put",
					  api_operation("put", g, v, k, ref, true, false), "patch",
					  api_operation("patch", g, v, k, ref, false, true), "delete",
					  api_operation("delete", g, v, k, ref, false, false))) < 0)
		return -ENOMEM;
	snprintf(item, sizeof(item), "%s/%s", base, info->resource);
	if (json_object_set_new(paths, item,
				json_pack("{s:o, s:o}", "get",
					  api_operation("list", g, v, k, list_ref, false, false), "post",
					  api_operation("post", g, v, k, ref, true, false))) < 0)
		return -ENOMEM;
	if (kind == MODEL_STS) {
		const char *scale = "#/components/schemas/io.k8s.api.autoscaling.v1.Scale";

		snprintf(item, sizeof(item), "%s/%s/{name}/scale", base, info->resource);
		if (json_object_set_new(paths, item,
					json_pack("{s:o, s:o, s:o}", "get",
						  api_operation("get", "autoscaling", "v1", "Scale",
								scale, false, false),
						  "put",
						  api_operation("put", "autoscaling", "v1", "Scale",
								scale, true, false),
						  "patch",
						  api_operation("patch", "autoscaling", "v1", "Scale",
								scale, false, true))) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The path of a review: POST only (nothing is stored to read back). */
static int api_review_paths(json_t *paths, const struct api_discovery_review *review,
			    const char *prefix)
{
	char item[160], ref[256];

	snprintf(ref, sizeof(ref), "#/components/schemas/%s%s", prefix, review->kind);
	snprintf(item, sizeof(item), "/apis/%s/v1/%s", review->group, review->resource);
	if (json_object_set_new(paths, item,
				json_pack("{s:o}", "post",
					  api_operation("create", review->group, "v1", review->kind,
							ref, true, false))) < 0)
		return -ENOMEM;
	return 0;
}

/* The schema of a field's value (or of an array's or map's elements when
 * kind is the element kind); described when description is not NULL. */
static json_t *api_openapi_value(int kind, int elem, int type, const char *description)
{
	static const char *const scalar[][2] = {
		[API_SCHEMA_STRING] = { "string", NULL },   [API_SCHEMA_INTEGER] = { "integer", "int64" },
		[API_SCHEMA_NUMBER] = { "number", "double" }, [API_SCHEMA_BOOLEAN] = { "boolean", NULL },
		[API_SCHEMA_TIME] = { "string", "date-time" },
	};
	char ref[256];
	json_t *schema;

	if (kind == API_SCHEMA_OBJECT) {
		snprintf(ref, sizeof(ref), "#/components/schemas/%s", api_schema_types[type].name);
		schema = description != NULL ? json_pack("{s:[{s:s}]}", "allOf", "$ref", ref)
					     : json_pack("{s:s}", "$ref", ref);
	} else if (kind == API_SCHEMA_ARRAY || kind == API_SCHEMA_MAP) {
		schema = json_pack("{s:s, s:o}", "type", kind == API_SCHEMA_ARRAY ? "array" : "object",
				   kind == API_SCHEMA_ARRAY ? "items" : "additionalProperties",
				   api_openapi_value(elem, API_SCHEMA_NONE, type, NULL));
	} else if (kind >= API_SCHEMA_STRING && kind <= API_SCHEMA_TIME) {
		schema = scalar[kind][1] != NULL
				 ? json_pack("{s:s, s:s}", "type", scalar[kind][0], "format", scalar[kind][1])
				 : json_pack("{s:s}", "type", scalar[kind][0]);
	} else {
		schema = json_pack("{s:b}", "x-kubernetes-preserve-unknown-fields", 1);
	}
	if (schema != NULL && description != NULL && description[0] != '\0' &&
	    json_object_set_new(schema, "description", json_string(description)) < 0) {
		json_decref(schema);
		return NULL;
	}
	return schema;
}

/* Put the described schema of table type (and of every type it reaches)
 * into schemas, keeping what a hand-written one adds (the group-version-kind,
 * required fields). */
static int api_openapi_described(json_t *schemas, int type, unsigned depth)
{
	const struct api_schema_type *t = &api_schema_types[type];
	json_t *schema, *properties, *old;
	const char *key;
	json_t *value;

	old = json_object_get(schemas, t->name);
	if ((old != NULL && json_object_get(old, "x-claimfs-described") != NULL) || depth > 64)
		return 0;
	schema = json_pack("{s:s, s:s, s:{}, s:b}", "type", "object", "description", t->description,
			   "properties", "x-claimfs-described", 1);
	if (schema == NULL)
		return -ENOMEM;
	properties = json_object_get(schema, "properties");
	for (unsigned i = 0; i < t->count; i++)
		if (json_object_set_new(properties, t->fields[i].name,
					api_openapi_value(t->fields[i].kind, t->fields[i].elem,
							  t->fields[i].type,
							  t->fields[i].description)) < 0) {
			json_decref(schema);
			return -ENOMEM;
		}
	json_object_foreach(old, key, value)
		if ((strcmp(key, "x-kubernetes-group-version-kind") == 0 ||
		     strcmp(key, "required") == 0) &&
		    json_object_set(schema, key, value) < 0) {
			json_decref(schema);
			return -ENOMEM;
		}
	if (json_object_set_new(schemas, t->name, schema) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < t->count; i++)
		if (t->fields[i].type >= 0 &&
		    api_openapi_described(schemas, t->fields[i].type, depth + 1) < 0)
			return -ENOMEM;
	return 0;
}

/* Described schemas for the kinds of group (the reviews of theirs, and
 * Scale for apps). */
static int api_openapi_describe_group(json_t *schemas, const char *group)
{
	int type;

	for (int k = 0; k < MODEL_KIND_COUNT; k++) {
		const struct model_kind_info *info = model_kind_info((enum model_kind)k);

		type = api_schema_kind_type(info->group, info->kind);
		if (strcmp(info->group, group) == 0 && type >= 0 &&
		    api_openapi_described(schemas, type, 0) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < API_DISCOVERY_REVIEW_COUNT; i++) {
		type = api_schema_kind_type(api_discovery_reviews[i].group,
					    api_discovery_reviews[i].kind);
		if (strcmp(api_discovery_reviews[i].group, group) == 0 && type >= 0 &&
		    api_openapi_described(schemas, type, 0) < 0)
			return -ENOMEM;
	}
	type = api_schema_kind_type("autoscaling", "Scale");
	if (strcmp(group, "apps") == 0 && type >= 0 && api_openapi_described(schemas, type, 0) < 0)
		return -ENOMEM;
	return 0;
}

/* Drop the marker api_openapi_described leaves on what it wrote. */
static void api_openapi_unmark(json_t *schemas)
{
	const char *key;
	json_t *value;

	json_object_foreach(schemas, key, value)
		json_object_del(value, "x-claimfs-described");
}

json_t *api_openapi_document(const char *path)
{
	const struct api_openapi_doc *doc = NULL;
	json_t *schemas = NULL, *own = NULL, *paths = NULL, *result = NULL;

	for (size_t i = 0; i < API_DOC_COUNT; i++)
		if (strcmp(api_docs[i].path, path) == 0)
			doc = &api_docs[i];
	if (doc == NULL)
		return NULL;
	schemas = json_loads(api_meta_schemas, 0, NULL);
	own = json_loads(doc->schemas, 0, NULL);
	paths = json_object();
	if (schemas == NULL || own == NULL || paths == NULL || json_object_update(schemas, own) < 0 ||
	    api_openapi_describe_group(schemas, doc->group) < 0)
		goto out;
	api_openapi_unmark(schemas);
	for (int k = 0; k < MODEL_KIND_COUNT; k++)
		if (strcmp(model_kind_info((enum model_kind)k)->group, doc->group) == 0 &&
		    api_kind_paths(paths, (enum model_kind)k, doc->schema_prefix) < 0)
			goto out;
	for (size_t i = 0; i < API_DISCOVERY_REVIEW_COUNT; i++)
		if (strcmp(api_discovery_reviews[i].group, doc->group) == 0 &&
		    api_review_paths(paths, &api_discovery_reviews[i], doc->schema_prefix) < 0)
			goto out;
	result = json_pack("{s:s, s:{s:s, s:s}, s:O, s:{s:O}}", "openapi", "3.0.0", "info", "title",
			   "Kubernetes", "version", "v1.32.0", "paths", paths, "components",
			   "schemas", schemas);
out:
	json_decref(schemas);
	json_decref(own);
	json_decref(paths);
	return result;
}
