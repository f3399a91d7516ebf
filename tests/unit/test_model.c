/*
 * test_model.c — the Kubernetes-shaped model in process (api_handle on a
 * real store in a temporary directory; no FUSE, no network): the default
 * class, binding, Retain/Released/Available/rebind, expansion, updates
 * with resourceVersion preconditions, patches, server-side apply,
 * StatefulSets with scale and retention, snapshots and clones, pending
 * claims bound when their class appears, watch events, Tables, discovery,
 * OpenAPI and metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "model.h"
#include "store.h"
#include "unit.h"
#include "unit_model.h"

#define PVCS "/api/v1/namespaces/default/persistentvolumeclaims"
#define PVS "/api/v1/persistentvolumes"
#define SCS "/apis/storage.k8s.io/v1/storageclasses"
#define STSS "/apis/apps/v1/namespaces/default/statefulsets"
#define SNAPS "/apis/snapshot.storage.k8s.io/v1/namespaces/default/volumesnapshots"
#define JSON "application/json"
#define CLAIM(name, extra)                                                                     \
	"{\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"     \
	"\"resources\":{\"requests\":{\"storage\":\"1Mi\"}}" extra "}}"

static struct unit_model fixture;

static void setup(void)
{
	unit_model_open(&fixture, "model");
}

static void teardown(void)
{
	unit_model_close(&fixture);
}

/* One request with an Accept header; the decoded JSON answer (NULL for text). */
static json_t *send_accept(const char *method, const char *url, const char *type,
			   const char *body, const char *accept, unsigned *ret_status)
{
	char url_path[1024];
	const char *query = strchr(url, '?');
	struct api_request req = { .method = method, .path = url_path, .content_type = type,
				   .accept = accept, .body = body,
				   .body_len = body ? strlen(body) : 0, .ready = true };
	struct api_response res;
	json_t *obj = NULL;

	snprintf(url_path, sizeof(url_path), "%.*s",
		 query != NULL ? (int)(query - url) : (int)strlen(url), url);
	req.query = query != NULL ? query + 1 : NULL;
	api_handle(fixture.model, &req, &res);
	ck_assert_ptr_null(res.watch);
	ck_assert_ptr_nonnull(res.body);
	*ret_status = res.status;
	if (strncmp(res.content_type, JSON, strlen(JSON)) == 0) {
		obj = json_loads(res.body, 0, NULL);
		ck_assert_msg(obj != NULL, "not JSON: %s", res.body);
	}
	free(res.body);
	return obj;
}

static json_t *send(const char *method, const char *url, const char *type, const char *body,
		    unsigned *ret_status)
{
	return send_accept(method, url, type, body, NULL, ret_status);
}

/* A request that must answer want; returns the answer. */
static json_t *must(const char *method, const char *url, const char *type, const char *body,
		    unsigned want)
{
	unsigned status;
	json_t *obj = send(method, url, type, body, &status);
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;

	ck_assert_msg(status == want, "%s %s: %u, want %u: %s", method, url, status, want,
		      text != NULL ? text : "");
	free(text);
	return obj;
}

/* A string at a dotted path of obj ("" if absent). */
static const char *at(const json_t *obj, const char *path)
{
	const char *s = model_path_string(obj, path);

	return s != NULL ? s : "";
}

static void drop(json_t *obj)
{
	json_decref(obj);
}

START_TEST(test_default_class_and_binding)
{
	json_t *obj = must("GET", SCS "/claimfs", NULL, NULL, 200);
	char volume[128];

	ck_assert_str_eq(at(obj, "provisioner"), "claimfs.csi.claimfs.io");
	ck_assert_str_eq(at(obj, "reclaimPolicy"), "Delete");
	ck_assert_str_eq(at(obj, "volumeBindingMode"), "Immediate");
	ck_assert(json_is_true(json_object_get(obj, "allowVolumeExpansion")));
	drop(obj);
	obj = must("POST", PVCS, JSON, CLAIM("data", ""), 201);
	ck_assert_str_eq(at(obj, "spec.storageClassName"), "claimfs");
	ck_assert_str_eq(at(obj, "status.phase"), "Bound");
	snprintf(volume, sizeof(volume), "%s", at(obj, "spec.volumeName"));
	drop(obj);
	obj = must("GET", PVS "/", NULL, NULL, 404);
	drop(obj);
	{
		char url[256];

		snprintf(url, sizeof(url), PVS "/%s", volume);
		obj = must("GET", url, NULL, NULL, 200);
	}
	ck_assert_str_eq(at(obj, "spec.claimRef.name"), "data");
	ck_assert_str_eq(at(obj, "spec.claimRef.namespace"), "default");
	ck_assert_str_eq(at(obj, "status.phase"), "Bound");
	ck_assert_str_eq(at(obj, "spec.persistentVolumeReclaimPolicy"), "Delete");
	ck_assert_str_eq(at(obj, "spec.capacity.storage"), "1Mi");
	drop(obj);
	/* an explicit empty class binds only to volumes without a class: Pending */
	obj = must("POST", PVCS, JSON, CLAIM("noclass", ",\"storageClassName\":\"\""), 201);
	ck_assert_str_eq(at(obj, "status.phase"), "Pending");
	drop(obj);
}
END_TEST

START_TEST(test_pending_until_class_exists)
{
	struct store_volume v;
	json_t *obj;

	obj = must("POST", PVCS, JSON, CLAIM("later", ",\"storageClassName\":\"fast\""), 201);
	ck_assert_str_eq(at(obj, "status.phase"), "Pending");
	ck_assert_str_eq(at(obj, "spec.volumeName"), "");
	drop(obj);
	obj = must("POST", SCS, "application/yaml",
		   "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: fast\n"
		   "provisioner: claimfs.csi.claimfs.io\nreclaimPolicy: Retain\n",
		   201);
	ck_assert_str_eq(at(obj, "volumeBindingMode"), "Immediate");
	drop(obj);
	obj = must("GET", PVCS "/later", NULL, NULL, 200);
	ck_assert_str_eq(at(obj, "status.phase"), "Bound");
	ck_assert_int_eq(store_volume_get(fixture.store, at(obj, "spec.volumeName"), &v), 0);
	ck_assert_str_eq(v.bound_claim, "later");
	drop(obj);
	/* classes: immutable provisioner, bad policy */
	drop(must("PATCH", SCS "/fast", "application/merge-patch+json",
		  "{\"provisioner\":\"other\"}", 422));
	drop(must("POST", SCS, JSON,
		  "{\"metadata\":{\"name\":\"bad\"},\"provisioner\":\"x\",\"reclaimPolicy\":\"Recycle\"}",
		  422));
}
END_TEST

START_TEST(test_retain_release_rebind)
{
	struct store_volume v;
	char volume[128], url[256], body[512];
	json_t *obj;

	drop(must("POST", SCS, JSON,
		  "{\"metadata\":{\"name\":\"keep\"},\"provisioner\":\"claimfs.csi.claimfs.io\","
		  "\"reclaimPolicy\":\"Retain\"}",
		  201));
	obj = must("POST", PVCS, JSON, CLAIM("kept", ",\"storageClassName\":\"keep\""), 201);
	snprintf(volume, sizeof(volume), "%s", at(obj, "spec.volumeName"));
	drop(obj);
	drop(must("DELETE", PVCS "/kept", NULL, NULL, 200));
	snprintf(url, sizeof(url), PVS "/%s", volume);
	obj = must("GET", url, NULL, NULL, 200);
	ck_assert_str_eq(at(obj, "status.phase"), "Released");
	ck_assert_str_eq(at(obj, "spec.claimRef.name"), "kept");
	drop(obj);
	ck_assert_int_eq(store_volume_get(fixture.store, volume, &v), 0);
	ck_assert_str_eq(v.bound_claim, "");
	/* a Released volume does not bind new claims */
	obj = must("POST", PVCS, JSON,
		   CLAIM("again", ",\"storageClassName\":\"keep\",\"volumeName\":\"placeholder\""), 201);
	drop(obj);
	snprintf(body, sizeof(body), CLAIM("wants", ",\"storageClassName\":\"keep\",\"volumeName\":\"%s\""),
		 volume);
	obj = must("POST", PVCS, JSON, body, 201);
	ck_assert_str_eq(at(obj, "status.phase"), "Pending");
	drop(obj);
	/* removing claimRef makes it Available, and the waiting claim binds */
	obj = must("PATCH", url, "application/json-patch+json",
		   "[{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}]", 200);
	ck_assert_str_eq(at(obj, "status.phase"), "Bound");
	ck_assert_str_eq(at(obj, "spec.claimRef.name"), "wants");
	drop(obj);
	obj = must("GET", PVCS "/wants", NULL, NULL, 200);
	ck_assert_str_eq(at(obj, "status.phase"), "Bound");
	ck_assert_str_eq(at(obj, "spec.volumeName"), volume);
	drop(obj);
	ck_assert_int_eq(store_volume_get(fixture.store, volume, &v), 0);
	ck_assert_str_eq(v.bound_claim, "wants");
	/* a bound PV is only marked on delete; it goes with its claim */
	obj = must("DELETE", url, NULL, NULL, 200);
	ck_assert_str_ne(at(obj, "metadata.deletionTimestamp"), "");
	drop(obj);
	drop(must("GET", url, NULL, NULL, 200));
	drop(must("DELETE", PVCS "/wants", NULL, NULL, 200));
	drop(must("GET", url, NULL, NULL, 404));
	ck_assert_int_eq(store_volume_get(fixture.store, volume, &v), -ENOENT);
}
END_TEST

START_TEST(test_expand_and_update)
{
	struct store_volume v;
	char version[32], body[512];
	json_t *obj;

	obj = must("POST", PVCS, JSON, CLAIM("grow", ""), 201);
	snprintf(version, sizeof(version), "%s", at(obj, "metadata.resourceVersion"));
	drop(obj);
	obj = must("PATCH", PVCS "/grow", "application/strategic-merge-patch+json",
		   "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"3Mi\"}}}}", 200);
	ck_assert_str_eq(at(obj, "status.capacity.storage"), "3Mi");
	ck_assert_int_eq(store_volume_get(fixture.store, at(obj, "spec.volumeName"), &v), 0);
	ck_assert_uint_eq(v.capacity, 3 * 1048576);
	drop(obj);
	obj = must("PATCH", PVCS "/grow", "application/merge-patch+json",
		   "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Mi\"}}}}", 422);
	ck_assert_ptr_nonnull(strstr(at(obj, "message"), "field can not be less than previous value"));
	drop(obj);
	drop(must("PATCH", PVCS "/grow", "application/merge-patch+json",
		  "{\"spec\":{\"accessModes\":[\"ReadWriteMany\"]}}", 422));
	/* PUT with a stale resourceVersion: 409 Conflict */
	snprintf(body, sizeof(body),
		 "{\"metadata\":{\"name\":\"grow\",\"resourceVersion\":\"%s\",\"labels\":{\"a\":\"b\"}},"
		 "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":"
		 "{\"storage\":\"3Mi\"}}}}",
		 version);
	obj = must("PUT", PVCS "/grow", JSON, body, 409);
	ck_assert_str_eq(at(obj, "reason"), "Conflict");
	drop(obj);
	/* labels through a merge patch; a no-op patch keeps the version */
	obj = must("PATCH", PVCS "/grow", "application/merge-patch+json",
		   "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}", 200);
	ck_assert_str_eq(at(obj, "metadata.labels.app"), "web");
	snprintf(version, sizeof(version), "%s", at(obj, "metadata.resourceVersion"));
	drop(obj);
	obj = must("PATCH", PVCS "/grow", "application/merge-patch+json",
		   "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}", 200);
	ck_assert_str_eq(at(obj, "metadata.resourceVersion"), version);
	drop(obj);
	obj = must("GET", PVCS "?labelSelector=app%3Dweb", NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(obj, "items")), 1);
	drop(obj);
	obj = must("GET", PVCS "?labelSelector=app!%3Dweb", NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(obj, "items")), 0);
	drop(obj);
	obj = must("GET", "/api/v1/persistentvolumeclaims?fieldSelector=metadata.name%3Dgrow", NULL,
		   NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(obj, "items")), 1);
	drop(obj);
	/* server-side apply creates, then updates */
	obj = must("PATCH", PVCS "/applied?fieldManager=kubectl", "application/apply-patch+yaml",
		   "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: applied\nspec:\n"
		   "  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Mi\n",
		   201);
	drop(obj);
	obj = must("PATCH", PVCS "/applied", "application/apply-patch+yaml",
		   "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":"
		   "\"applied\",\"annotations\":{\"note\":\"x\"}},\"spec\":{\"accessModes\":"
		   "[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Mi\"}}}}",
		   200);
	ck_assert_str_eq(at(obj, "metadata.annotations.note"), "x");
	drop(obj);
	/* dry run changes nothing */
	drop(must("POST", PVCS "?dryRun=All", JSON, CLAIM("dry", ""), 201));
	drop(must("GET", PVCS "/dry", NULL, NULL, 404));
}
END_TEST

START_TEST(test_statefulset)
{
	static const char sts[] =
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n"
		"  serviceName: web\n  replicas: 2\n  podManagementPolicy: Parallel\n"
		"  persistentVolumeClaimRetentionPolicy:\n    whenScaled: Delete\n"
		"  selector:\n    matchLabels: {app: web}\n"
		"  template:\n    metadata:\n      labels: {app: web}\n    spec:\n"
		"      containers:\n      - name: nginx\n        image: nginx:1.27\n"
		"  volumeClaimTemplates:\n  - metadata:\n      name: www\n      labels: {tier: data}\n"
		"    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n"
		"        requests: {storage: 1Gi}\n";
	json_t *obj;

	obj = must("POST", STSS, "application/yaml", sts, 201);
	ck_assert_int_eq(json_integer_value(model_path(obj, "status.replicas")), 2);
	ck_assert_str_eq(at(obj, "spec.updateStrategy.type"), "RollingUpdate");
	drop(obj);
	obj = must("GET", PVCS "/www-web-1", NULL, NULL, 200);
	ck_assert_str_eq(at(obj, "metadata.labels.app"), "web");
	ck_assert_str_eq(at(obj, "metadata.labels.tier"), "data");
	ck_assert_str_eq(at(obj, "spec.resources.requests.storage"), "1Gi");
	drop(obj);
	drop(must("GET", PVCS "/www-web-2", NULL, NULL, 404));
	obj = must("PATCH", STSS "/web/scale", "application/merge-patch+json",
		   "{\"spec\":{\"replicas\":4}}", 200);
	ck_assert_str_eq(at(obj, "kind"), "Scale");
	ck_assert_int_eq(json_integer_value(model_path(obj, "spec.replicas")), 4);
	drop(obj);
	drop(must("GET", PVCS "/www-web-3", NULL, NULL, 200));
	obj = must("GET", STSS "/web/scale", NULL, NULL, 200);
	ck_assert_str_eq(at(obj, "status.selector"), "app=web");
	drop(obj);
	/* whenScaled: Delete removes the claims of ordinals scaled away */
	drop(must("PATCH", STSS "/web", "application/merge-patch+json", "{\"spec\":{\"replicas\":1}}",
		  200));
	drop(must("GET", PVCS "/www-web-0", NULL, NULL, 200));
	drop(must("GET", PVCS "/www-web-1", NULL, NULL, 404));
	drop(must("GET", PVCS "/www-web-3", NULL, NULL, 404));
	/* immutable fields */
	drop(must("PATCH", STSS "/web", "application/merge-patch+json",
		  "{\"spec\":{\"serviceName\":\"other\"}}", 422));
	/* invalid sets */
	drop(must("POST", STSS, JSON,
		  "{\"metadata\":{\"name\":\"bad\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
		  "\"template\":{\"metadata\":{\"labels\":{\"a\":\"c\"}},\"spec\":{\"containers\":"
		  "[{\"name\":\"x\",\"image\":\"y\"}]}}}}",
		  422));
	/* deleting with whenDeleted Retain keeps the claims */
	drop(must("DELETE", STSS "/web", JSON, "{\"propagationPolicy\":\"Background\"}", 200));
	drop(must("GET", PVCS "/www-web-0", NULL, NULL, 200));
}
END_TEST

#define REVISIONS "/apis/apps/v1/namespaces/default/controllerrevisions"
#define HISTORY_SET(limit, image)                                                              \
	"{\"metadata\":{\"name\":\"h\"},\"spec\":{\"revisionHistoryLimit\":" limit           \
	",\"selector\":{\"matchLabels\":{\"app\":\"h\"}},\"template\":{\"metadata\":"           \
	"{\"labels\":{\"app\":\"h\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"" \
	image "\"}]}}}}"
#define HISTORY_IMAGE(image)                                                                   \
	"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"" image \
	"\"}]}}}}"

/* The revision numbers of set h's history, by image: "a=1 b=2". */
static void history_is(const char *want)
{
	json_t *list = must("GET", REVISIONS, NULL, NULL, 200), *item;
	char got[256] = "", *images[16] = { 0 };
	long long numbers[16];
	size_t i, n = json_array_size(json_object_get(list, "items")), len = 0;

	ck_assert_uint_le(n, 16);
	json_array_foreach(json_object_get(list, "items"), i, item) {
		images[i] = (char *)json_string_value(json_object_get(
			json_array_get(model_path(item, "data.spec.template.spec.containers"), 0),
			"image")) ?: "?";
		numbers[i] = json_integer_value(json_object_get(item, "revision"));
	}
	/* In revision order. */
	for (long long r = 0; r < 64; r++)
		for (i = 0; i < n; i++)
			if (numbers[i] == r)
				len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s=%lld",
							len > 0 ? " " : "", images[i], r);
	ck_assert_str_eq(got, want);
	drop(list);
}

START_TEST(test_statefulset_history)
{
	const char *merge = "application/strategic-merge-patch+json";

	drop(must("POST", STSS, JSON, HISTORY_SET("10", "a"), 201));
	history_is("a=1");
	drop(must("PATCH", STSS "/h?dryRun=All", merge, HISTORY_IMAGE("b"), 200));
	history_is("a=1");
	drop(must("PATCH", STSS "/h", merge, HISTORY_IMAGE("b"), 200));
	history_is("a=1 b=2");
	/* A template that comes back takes the newest number. */
	drop(must("PATCH", STSS "/h", merge, HISTORY_IMAGE("a"), 200));
	history_is("b=2 a=3");
	drop(must("PATCH", STSS "/h/scale", "application/merge-patch+json",
		  "{\"spec\":{\"replicas\":3}}", 200));
	history_is("b=2 a=3");
	drop(must("DELETE", STSS "/h", NULL, NULL, 200));
	history_is("");
	/* revisionHistoryLimit 1: the live revision and one other. */
	drop(must("POST", STSS, JSON, HISTORY_SET("1", "a"), 201));
	drop(must("PATCH", STSS "/h", merge, HISTORY_IMAGE("b"), 200));
	drop(must("PATCH", STSS "/h", merge, HISTORY_IMAGE("c"), 200));
	history_is("b=2 c=3");
	drop(must("PATCH", STSS "/h", merge, HISTORY_IMAGE("a"), 200));
	history_is("c=3 a=4");
}
END_TEST

/* updateStrategy OnDelete: a template change moves updateRevision only (no
 * pod was deleted), rollingUpdate belongs to RollingUpdate alone, and going
 * back to RollingUpdate brings currentRevision along. */
START_TEST(test_statefulset_on_delete)
{
	const char *merge = "application/merge-patch+json";
	char first[128];
	json_t *obj;

	obj = must("POST", STSS, JSON,
		   "{\"metadata\":{\"name\":\"od\"},\"spec\":{\"replicas\":2,\"updateStrategy\":"
		   "{\"type\":\"OnDelete\"},\"selector\":{\"matchLabels\":{\"app\":\"od\"}},"
		   "\"template\":{\"metadata\":{\"labels\":{\"app\":\"od\"}},\"spec\":"
		   "{\"containers\":[{\"name\":\"c\",\"image\":\"a\"}]}}}}",
		   201);
	ck_assert_str_eq(at(obj, "spec.updateStrategy.type"), "OnDelete");
	ck_assert_ptr_null(model_path(obj, "spec.updateStrategy.rollingUpdate"));
	ck_assert_str_eq(at(obj, "status.currentRevision"), at(obj, "status.updateRevision"));
	snprintf(first, sizeof(first), "%s", at(obj, "status.currentRevision"));
	drop(obj);
	obj = must("PATCH", STSS "/od", merge, HISTORY_IMAGE("b"), 200);
	ck_assert_str_eq(at(obj, "status.currentRevision"), first);
	ck_assert_str_ne(at(obj, "status.updateRevision"), first);
	ck_assert_int_eq(json_integer_value(model_path(obj, "status.updatedReplicas")), 0);
	ck_assert_int_eq(json_integer_value(model_path(obj, "status.currentReplicas")), 2);
	drop(obj);
	obj = must("PATCH", STSS "/od", merge,
		   "{\"spec\":{\"updateStrategy\":{\"rollingUpdate\":{\"partition\":1}}}}", 422);
	ck_assert_msg(strstr(at(obj, "message"), "spec.updateStrategy.rollingUpdate: Invalid value") &&
			      strstr(at(obj, "message"), "only allowed for updateStrategy 'RollingUpdate'"),
		      "message: %s", at(obj, "message"));
	drop(obj);
	obj = must("PATCH", STSS "/od", merge, "{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\"}}}",
		   200);
	ck_assert_str_eq(at(obj, "status.currentRevision"), at(obj, "status.updateRevision"));
	ck_assert_str_ne(at(obj, "status.currentRevision"), first);
	ck_assert_int_eq(json_integer_value(model_path(obj, "status.updatedReplicas")), 2);
	drop(obj);
}
END_TEST

START_TEST(test_snapshot_and_clone)
{
	struct store_volume v;
	char content[128];
	json_t *obj;

	drop(must("POST", PVCS, JSON, CLAIM("src", ""), 201));
	obj = must("POST", SNAPS, JSON,
		   "{\"apiVersion\":\"snapshot.storage.k8s.io/v1\",\"kind\":\"VolumeSnapshot\","
		   "\"metadata\":{\"name\":\"s1\"},\"spec\":{\"source\":{\"persistentVolumeClaimName\":"
		   "\"src\"}}}",
		   201);
	ck_assert(json_is_true(model_path(obj, "status.readyToUse")));
	ck_assert_str_eq(at(obj, "status.restoreSize"), "1Mi");
	snprintf(content, sizeof(content), "%s", at(obj, "status.boundVolumeSnapshotContentName"));
	ck_assert_int_eq(strncmp(content, "snapcontent-", 12), 0);
	drop(obj);
	ck_assert_int_eq(store_volume_get(fixture.store, content, &v), 0);
	ck_assert_str_eq(v.bound_claim, "");
	obj = must("POST", PVCS, JSON,
		   CLAIM("fromsnap", ",\"dataSource\":{\"apiGroup\":\"snapshot.storage.k8s.io\","
				     "\"kind\":\"VolumeSnapshot\",\"name\":\"s1\"}"),
		   201);
	ck_assert_str_eq(at(obj, "status.phase"), "Bound");
	ck_assert_str_eq(at(obj, "spec.dataSourceRef.name"), "s1");
	drop(obj);
	obj = must("POST", PVCS, JSON,
		   "{\"metadata\":{\"name\":\"small\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
		   "\"resources\":{\"requests\":{\"storage\":\"1Ki\"}},\"dataSource\":{\"kind\":"
		   "\"PersistentVolumeClaim\",\"name\":\"src\"}}}",
		   422);
	drop(obj);
	drop(must("POST", PVCS, JSON,
		  CLAIM("clone", ",\"dataSource\":{\"kind\":\"PersistentVolumeClaim\",\"name\":\"src\"}"),
		  201));
	drop(must("POST", SNAPS, JSON,
		  "{\"metadata\":{\"name\":\"s2\"},\"spec\":{\"source\":{\"persistentVolumeClaimName\":"
		  "\"missing\"}}}",
		  422));
	obj = must("GET", "/apis/snapshot.storage.k8s.io/v1/volumesnapshots", NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(obj, "items")), 1);
	drop(obj);
	drop(must("DELETE", SNAPS "/s1", NULL, NULL, 200));
	ck_assert_int_eq(store_volume_get(fixture.store, content, &v), -ENOENT);
	drop(must("GET", PVCS "/fromsnap", NULL, NULL, 200));
}
END_TEST

/* A snapshot that is not ready to use is not exported (409); a content
 * volume a dead daemon left bound for an export is unbound by model_open. */
START_TEST(test_snapshot_export_states)
{
	struct store_volume v;
	char content[128], *body;
	json_t *obj;

	drop(must("POST", PVCS, JSON, CLAIM("src", ""), 201));
	obj = must("POST", SNAPS, JSON,
		   "{\"metadata\":{\"name\":\"s1\"},\"spec\":{\"source\":{"
		   "\"persistentVolumeClaimName\":\"src\"}}}",
		   201);
	snprintf(content, sizeof(content), "%s", at(obj, "status.boundVolumeSnapshotContentName"));
	/* As the external snapshotter leaves one that is still being cut. */
	ck_assert_int_eq(json_object_set_new(json_object_get(obj, "status"), "readyToUse", json_false()), 0);
	body = json_dumps(obj, JSON_COMPACT);
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(store_object_put(fixture.store, "VolumeSnapshot", "default", "s1", body,
					  NULL, false, 0, NULL),
			 0);
	free(body);
	drop(obj);
	obj = must("GET", SNAPS "/s1/export", NULL, NULL, 409);
	ck_assert_str_eq(at(obj, "reason"), "Conflict");
	ck_assert_str_eq(at(obj, "message"), "the VolumeSnapshot default/s1 is not ready to use yet");
	drop(obj);
	drop(must("GET", SNAPS "/none/export", NULL, NULL, 404));
	/* What a daemon killed mid-export leaves; the next start undoes it. */
	ck_assert_int_eq(store_volume_bind(fixture.store, content, ".snapshot-exports", content), 0);
	model_close(fixture.model);
	fixture.model = NULL;
	ck_assert_int_eq(model_open(fixture.store, &fixture.model), 0);
	ck_assert_int_eq(store_volume_get(fixture.store, content, &v), 0);
	ck_assert_str_eq(v.bound_claim, "");
	ck_assert_str_eq(v.bound_namespace, "");
}
END_TEST

START_TEST(test_watch_events)
{
	struct model_watch_options opts = { .resource_version = NULL };
	struct model_watch *w, *later;
	struct model_error err;
	const char *type;
	json_t *obj, *list;
	char version[32];
	unsigned status;

	drop(must("POST", PVCS, JSON, CLAIM("w1", ""), 201));
	/* "" : ADDED for what exists */
	ck_assert_int_eq(model_watch_open(fixture.model, MODEL_PVC, "default", &opts, &w, &err), 0);
	ck_assert_int_eq(model_watch_next(w, &type, &obj, NULL), 0);
	ck_assert_str_eq(type, "ADDED");
	ck_assert_str_eq(at(obj, "metadata.name"), "w1");
	drop(obj);
	ck_assert_int_eq(model_watch_next(w, &type, &obj, NULL), -EAGAIN);
	list = send("GET", PVCS, NULL, NULL, &status);
	snprintf(version, sizeof(version), "%s", at(list, "metadata.resourceVersion"));
	drop(list);
	opts.resource_version = version;
	ck_assert_int_eq(model_watch_open(fixture.model, MODEL_PVC, NULL, &opts, &later, &err), 0);
	drop(must("PATCH", PVCS "/w1", "application/merge-patch+json",
		  "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", 200));
	drop(must("DELETE", PVCS "/w1", NULL, NULL, 200));
	for (int i = 0; i < 2; i++) {
		struct model_watch *each = i == 0 ? w : later;

		ck_assert_int_eq(model_watch_next(each, &type, &obj, NULL), 0);
		ck_assert_str_eq(type, "MODIFIED");
		ck_assert_str_eq(at(obj, "metadata.labels.x"), "y");
		drop(obj);
		ck_assert_int_eq(model_watch_next(each, &type, &obj, NULL), 0);
		ck_assert_str_eq(type, "DELETED");
		drop(obj);
	}
	model_watch_close(w);
	model_watch_close(later);
	/* after a restart, versions before it are no longer known: 410 Gone */
	model_close(fixture.model);
	ck_assert_int_eq(model_open(fixture.store, &fixture.model), 0);
	opts.resource_version = "1";
	ck_assert_int_eq(model_watch_open(fixture.model, MODEL_PVC, NULL, &opts, &w, &err), -EKEYEXPIRED);
}
END_TEST

START_TEST(test_tables_and_discovery)
{
	static const char accept[] = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
	unsigned status;
	json_t *obj, *cols;

	drop(must("POST", PVCS, JSON, CLAIM("t1", ""), 201));
	obj = send_accept("GET", PVCS, NULL, NULL, accept, &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_str_eq(at(obj, "kind"), "Table");
	ck_assert_str_eq(at(obj, "apiVersion"), "meta.k8s.io/v1");
	cols = json_object_get(obj, "columnDefinitions");
	ck_assert_uint_eq(json_array_size(cols), 8);
	ck_assert_str_eq(at(json_array_get(cols, 4), "name"), "Access Modes");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_array_get(
				 json_object_get(obj, "rows"), 0), "cells"), 1)),
			 "Bound");
	ck_assert_str_eq(at(json_array_get(json_object_get(obj, "rows"), 0), "object.kind"),
			 "PartialObjectMetadata");
	drop(obj);
	obj = send_accept("GET", SCS, NULL, NULL, accept, &status);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_array_get(
				 json_object_get(obj, "rows"), 0), "cells"), 0)),
			 "claimfs (default)");
	drop(obj);
	obj = must("GET", "/apis/apps/v1", NULL, NULL, 200);
	ck_assert_str_eq(at(obj, "groupVersion"), "apps/v1");
	ck_assert_str_eq(at(json_array_get(json_object_get(obj, "resources"), 1), "name"),
			 "statefulsets/scale");
	drop(obj);
	obj = must("GET", "/openapi/v3", NULL, NULL, 200);
	ck_assert_ptr_nonnull(model_path(obj, "paths"));
	drop(obj);
	obj = must("GET", "/openapi/v3/apis/apps/v1", NULL, NULL, 200);
	ck_assert_ptr_nonnull(json_object_get(
		model_path(obj, "paths"), "/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"));
	drop(obj);
	drop(must("GET", "/api/v1/namespaces/default/pods", NULL, NULL, 200));
	obj = send("GET", "/metrics", NULL, NULL, &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_ptr_null(obj);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("kinds");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_default_class_and_binding);
	tcase_add_test(tc, test_pending_until_class_exists);
	tcase_add_test(tc, test_retain_release_rebind);
	tcase_add_test(tc, test_expand_and_update);
	tcase_add_test(tc, test_statefulset);
	tcase_add_test(tc, test_statefulset_history);
	tcase_add_test(tc, test_statefulset_on_delete);
	tcase_add_test(tc, test_snapshot_and_clone);
	tcase_add_test(tc, test_snapshot_export_states);
	tcase_add_test(tc, test_watch_events);
	tcase_add_test(tc, test_tables_and_discovery);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_set_level(LOG_LEVEL_WARN);
	return unit_run(model_suite());
}
