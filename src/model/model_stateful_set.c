/*
 * model_stateful_set.c — StatefulSets (apps/v1): the storage half of the StatefulSet
 * controller, and the scale subresource.
 *
 * claimfs runs no pods. For each ordinal 0..replicas-1 and each
 * volumeClaimTemplate it makes sure claim <template>-<set>-<ordinal> exists
 * (an existing one is reused, as Kubernetes does), labelled with the
 * template's labels and the selector's matchLabels.
 * persistentVolumeClaimRetentionPolicy decides what scaling down
 * (whenScaled) and deleting the set (whenDeleted) do to claims: Retain
 * (default) keeps them, Delete deletes them with their data (per their PV's
 * reclaim policy).
 *
 * Status: with no pods, "ready" means "its storage is provisioned":
 * status.replicas, readyReplicas, currentReplicas, updatedReplicas and
 * availableReplicas all report the number of ordinals whose claims exist,
 * which is spec.replicas once a write has returned.
 *
 * History: every template the set had is a ControllerRevision named after
 * the hash status.currentRevision/updateRevision carry
 * (model_controller_revision.c keeps them; `kubectl rollout history`).
 * updateStrategy OnDelete: a pod takes a new template only when it is
 * deleted, and claimfs deletes none, so a template change moves
 * updateRevision only; currentRevision stays the one the pods run (and
 * updatedReplicas 0) until the strategy is RollingUpdate again.
 *
 * Updates follow the API server: only replicas, template, updateStrategy,
 * persistentVolumeClaimRetentionPolicy, minReadySeconds and ordinals may
 * change; metadata.generation counts spec changes.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "selector.h"

/* Replicas of a set (defaulted, so always present once stored). */
static json_int_t model_stateful_set_replicas(const json_t *obj)
{
	return json_integer_value(model_path(obj, "spec.replicas"));
}

/* A retention policy value ("Retain" unless "Delete"). */
static bool model_stateful_set_deletes(const json_t *obj, const char *when)
{
	char path[96];

	snprintf(path, sizeof(path), "spec.persistentVolumeClaimRetentionPolicy.%s", when);
	return strcmp(model_path_string(obj, path) ?: "Retain", "Delete") == 0;
}

/* Is the set's update strategy OnDelete? */
static bool model_stateful_set_on_delete(const json_t *obj)
{
	return strcmp(model_path_string(obj, "spec.updateStrategy.type") ?: "", "OnDelete") == 0;
}

/* Set key of obj to value unless present (value consumed). */
static int model_stateful_set_default(json_t *obj, const char *key, json_t *value)
{
	if (json_object_get(obj, key) != NULL && !json_is_null(json_object_get(obj, key))) {
		json_decref(value);
		return 0;
	}
	return json_object_set_new(obj, key, value) == 0 ? 0 : -ENOMEM;
}

/* Check an enum-valued string member (may be absent). */
static void model_stateful_set_enum(struct names_field_errors *e, const json_t *obj,
				    const char *key, const char *field, const char *a,
				    const char *b)
{
	const char *value = json_string_value(json_object_get(obj, key));

	if (json_object_get(obj, key) == NULL)
		return;
	if (value == NULL || (strcmp(value, a) != 0 && strcmp(value, b) != 0))
		names_field_error_add(e, NAMES_FIELD_NOT_SUPPORTED, field, value,
				      "supported values: \"%s\", \"%s\"", a, b);
}

/* The containers of the pod template: at least one, each with name and image. */
static void model_stateful_set_check_template(struct names_field_errors *e, const json_t *template)
{
	const json_t *containers = model_path(template, "spec.containers"), *c;
	size_t i;

	if (!json_is_array(containers) || json_array_size(containers) == 0) {
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "spec.template.spec.containers",
				      NULL, "%s", "");
		return;
	}
	json_array_foreach(containers, i, c) {
		char field[96];

		snprintf(field, sizeof(field), "spec.template.spec.containers[%zu].name", i);
		if (!json_is_string(json_object_get(c, "name")))
			names_field_error_add(e, NAMES_FIELD_REQUIRED, field, NULL, "%s", "");
		snprintf(field, sizeof(field), "spec.template.spec.containers[%zu].image", i);
		if (!json_is_string(json_object_get(c, "image")))
			names_field_error_add(e, NAMES_FIELD_REQUIRED, field, NULL, "%s", "");
	}
}

/* Validate one volumeClaimTemplate as the claim of the highest ordinal, and default it. */
static int model_stateful_set_check_claim_template(json_t *tmpl, size_t index, const char *set,
						   json_int_t replicas, const char *ns,
						   struct model_error *err)
{
	const char *name = model_path_string(tmpl, "metadata.name");
	char claim_name[NAMES_SUBDOMAIN_MAX + 32], field[96], msg[NAMES_FIELD_DETAIL_MAX];
	struct names_field_errors errs = { 0 };
	json_t *probe;
	struct claim c;
	int r;

	snprintf(field, sizeof(field), "spec.volumeClaimTemplates[%zu].metadata.name", index);
	if (name == NULL || name[0] == '\0') {
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, field, NULL, "%s", "");
		return 0;
	}
	snprintf(claim_name, sizeof(claim_name), "%s-%s-%lld", name, set,
		 (long long)(replicas > 0 ? replicas - 1 : 0));
	if (names_check_subdomain(claim_name, msg, sizeof(msg)) < 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, field, name,
				      "claim name %.100s: %s", claim_name, msg);
		return 0;
	}
	probe = json_deep_copy(tmpl);
	if (probe == NULL || model_path_set(probe, "metadata.name", json_string(claim_name)) < 0) {
		json_decref(probe);
		return -ENOMEM;
	}
	json_object_del(probe, "status");
	json_object_del(json_object_get(probe, "metadata"), "namespace");
	r = claim_from_request(probe, ns, "xxxxx", &c, err->message, sizeof(err->message), &errs);
	json_decref(probe);
	claim_release(&c);
	for (unsigned i = 0; i < errs.count; i++) {
		snprintf(field, sizeof(field), "spec.volumeClaimTemplates[%zu].%.60s", index,
			 errs.error[i].field);
		names_field_error_add(&err->fields, errs.error[i].type, field, NULL, "%s",
				      errs.error[i].detail);
	}
	if (r == -EBADMSG)
		return r;
	if ((r = model_stateful_set_default(tmpl, "apiVersion", json_string("v1"))) < 0 ||
	    (r = model_stateful_set_default(tmpl, "kind", json_string(CLAIM_KIND))) < 0 ||
	    (r = model_path_set(tmpl, "spec.volumeMode", json_string("Filesystem"))) < 0 ||
	    (r = model_path_set(tmpl, "status", json_pack("{s:s}", "phase", "Pending"))) < 0)
		return r;
	return 0;
}

/* Validate spec and fill in the API server's defaults. */
static int model_stateful_set_check(json_t *obj, struct model_error *err)
{
	struct names_field_errors *e = &err->fields;
	json_t *spec = json_object_get(obj, "spec"), *replicas, *vcts, *tmpl, *policy;
	const json_t *selector, *strategy;
	const char *set = model_path_string(obj, "metadata.name"), *ns;
	bool match = false;
	size_t i;
	int r;

	if (!json_is_object(spec)) {
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "spec", NULL, "%s", "");
		return -EINVAL;
	}
	ns = model_path_string(obj, "metadata.namespace");
	if ((r = model_stateful_set_default(spec, "replicas", json_integer(1))) < 0 ||
	    (r = model_stateful_set_default(spec, "podManagementPolicy",
					    json_string("OrderedReady"))) < 0 ||
	    (r = model_stateful_set_default(spec, "revisionHistoryLimit", json_integer(10))) < 0 ||
	    (r = model_stateful_set_default(spec, "updateStrategy",
					    json_pack("{s:s, s:{s:i}}", "type", "RollingUpdate",
						      "rollingUpdate", "partition", 0))) < 0 ||
	    (r = model_stateful_set_default(spec, "persistentVolumeClaimRetentionPolicy",
					    json_object())) < 0)
		return r;
	policy = json_object_get(spec, "persistentVolumeClaimRetentionPolicy");
	if (!json_is_object(policy))
		return model_fail(err, -EBADMSG,
				  "persistentVolumeClaimRetentionPolicy must be an object");
	if ((r = model_stateful_set_default(policy, "whenDeleted", json_string("Retain"))) < 0 ||
	    (r = model_stateful_set_default(policy, "whenScaled", json_string("Retain"))) < 0)
		return r;
	replicas = json_object_get(spec, "replicas");
	if (!json_is_integer(replicas))
		return model_fail(err, -EBADMSG, "spec.replicas must be an integer");
	if (json_integer_value(replicas) < 0 || json_integer_value(replicas) > 10000)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.replicas", NULL,
				      "must be between 0 and 10000");
	selector = json_object_get(spec, "selector");
	tmpl = json_object_get(spec, "template");
	if (!json_is_object(tmpl))
		names_field_error_add(e, NAMES_FIELD_REQUIRED, "spec.template", NULL, "%s", "");
	else
		model_stateful_set_check_template(e, tmpl);
	if (!json_is_object(selector) || json_object_size(selector) == 0)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.selector", NULL,
				      "empty selector is invalid for statefulset");
	else if (selector_match_object(selector, model_path(tmpl, "metadata.labels"), &match) < 0)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.selector", NULL,
				      "not a valid label selector");
	else if (!match)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.template.metadata.labels", NULL,
				      "`selector` does not match template `labels`");
	model_stateful_set_enum(e, spec, "podManagementPolicy", "spec.podManagementPolicy",
				"OrderedReady", "Parallel");
	strategy = json_object_get(spec, "updateStrategy");
	model_stateful_set_enum(e, strategy, "type", "spec.updateStrategy.type", "RollingUpdate",
				"OnDelete");
	if (model_stateful_set_on_delete(obj) && json_object_get(strategy, "rollingUpdate") != NULL)
		names_field_error_add(e, NAMES_FIELD_INVALID, "spec.updateStrategy.rollingUpdate",
				      NULL, "only allowed for updateStrategy 'RollingUpdate'");
	model_stateful_set_enum(e, policy, "whenDeleted",
				"spec.persistentVolumeClaimRetentionPolicy.whenDeleted", "Retain",
				"Delete");
	model_stateful_set_enum(e, policy, "whenScaled",
				"spec.persistentVolumeClaimRetentionPolicy.whenScaled", "Retain",
				"Delete");
	vcts = json_object_get(spec, "volumeClaimTemplates");
	if (vcts != NULL && !json_is_array(vcts))
		return model_fail(err, -EBADMSG, "spec.volumeClaimTemplates must be a list");
	json_array_foreach(vcts, i, tmpl) {
		if (!json_is_object(tmpl))
			return model_fail(err, -EBADMSG, "a volumeClaimTemplate must be an object");
		r = model_stateful_set_check_claim_template(tmpl, i, set,
							    json_integer_value(replicas), ns, err);
		if (r < 0)
			return r;
	}
	return e->count > 0 ? -EINVAL : 0;
}

/* The claim manifest of template tmpl for ordinal. */
static json_t *model_stateful_set_claim_body(const json_t *set, const json_t *tmpl,
					     json_int_t ordinal)
{
	const char *name = model_path_string(set, "metadata.name");
	char claim_name[NAMES_SUBDOMAIN_MAX + 32];
	const json_t *match = model_path(set, "spec.selector.matchLabels"), *value;
	json_t *body = json_deep_copy(tmpl), *labels;
	const char *key;

	if (body == NULL)
		return NULL;
	snprintf(claim_name, sizeof(claim_name), "%s-%s-%lld",
		 model_path_string(tmpl, "metadata.name"), name, (long long)ordinal);
	json_object_del(body, "status");
	labels = model_path(body, "metadata.labels");
	if (!json_is_object(labels) &&
	    (model_path_set(body, "metadata.labels", json_object()) < 0 ||
	     (labels = model_path(body, "metadata.labels")) == NULL))
		goto fail;
	json_object_foreach((json_t *)match, key, value)
		if (json_object_set(labels, key, (json_t *)value) < 0)
			goto fail;
	if (json_object_size(labels) == 0)
		json_object_del(json_object_get(body, "metadata"), "labels");
	if (model_path_set(body, "metadata.name", json_string(claim_name)) < 0)
		goto fail;
	json_object_del(json_object_get(body, "metadata"), "namespace");
	if (model_stateful_set_deletes(set, "whenDeleted") &&
	    model_path_set(body, "metadata.ownerReferences",
			   json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", "apps/v1",
				     "kind", "StatefulSet", "name", name, "uid",
				     model_path_string(set, "metadata.uid"), "controller", 1,
				     "blockOwnerDeletion", 1)) < 0)
		goto fail;
	return body;
fail:
	json_decref(body);
	return NULL;
}

/* Make sure every claim of ordinals [0, replicas) exists. */
static int model_stateful_set_ensure_claims(struct model_txn *t, const json_t *set,
					    struct model_error *err)
{
	const json_t *vcts = model_path(set, "spec.volumeClaimTemplates"), *tmpl;
	const char *ns = model_path_string(set, "metadata.namespace");
	json_int_t replicas = model_stateful_set_replicas(set);
	size_t i;
	int r;

	for (json_int_t ordinal = 0; ordinal < replicas; ordinal++)
		json_array_foreach(vcts, i, tmpl) {
			json_t *body = model_stateful_set_claim_body(set, tmpl, ordinal), *created;

			if (body == NULL)
				return -ENOMEM;
			r = model_claim_ensure(t, ns, body, &created, err);
			json_decref(body);
			/* What the StatefulSet controller reports for a claim it made. */
			if (r == 0 && created != NULL)
				r = model_event_record(t, set, MODEL_EVENT_STS_CONTROLLER, "Normal",
						       "SuccessfulCreate",
						       "create Claim %s Pod %s-%lld in StatefulSet %s "
						       "success",
						       model_path_string(created, "metadata.name"),
						       model_path_string(set, "metadata.name"),
						       (long long)ordinal,
						       model_path_string(set, "metadata.name"));
			json_decref(created);
			if (r < 0)
				return r;
		}
	return 0;
}

/* Is name "<prefix><digits>"? The digits' value goes to *ret_ordinal. */
static bool model_stateful_set_claim_ordinal(const char *name, const char *prefix,
					     long long *ret_ordinal)
{
	size_t len = strlen(prefix);
	char *end;

	if (strncmp(name, prefix, len) != 0 || name[len] < '0' || name[len] > '9')
		return false;
	*ret_ordinal = strtoll(name + len, &end, 10);
	return *end == '\0';
}

struct model_stateful_set_condemned {
	const json_t *set;
	long long from; /* ordinals >= from are condemned */
	json_t *names;
};

/* Claim list callback: collect claims of this set's templates with ordinal >= from. */
static int model_stateful_set_collect(void *ud, json_t *claim)
{
	struct model_stateful_set_condemned *c = ud;
	const json_t *vcts = model_path(c->set, "spec.volumeClaimTemplates"), *tmpl;
	const char *name = model_path_string(claim, "metadata.name");
	char prefix[NAMES_SUBDOMAIN_MAX + 8];
	long long ordinal;
	size_t i;

	json_array_foreach(vcts, i, tmpl) {
		snprintf(prefix, sizeof(prefix), "%s-%s-", model_path_string(tmpl, "metadata.name"),
			 model_path_string(c->set, "metadata.name"));
		if (model_stateful_set_claim_ordinal(name, prefix, &ordinal) && ordinal >= c->from)
			return json_array_append_new(c->names, json_string(name)) == 0
				       ? 0
				       : -ENOMEM;
	}
	return 0;
}

/* Delete the set's claims of ordinals >= from. */
static int model_stateful_set_delete_claims(struct model_txn *t, const json_t *set, long long from,
					    struct model_error *err)
{
	struct model_stateful_set_condemned c = { set, from, json_array() };
	const char *ns = model_path_string(set, "metadata.namespace");
	const json_t *name;
	size_t i;
	int r;

	if (c.names == NULL)
		return -ENOMEM;
	r = model_obj_list(t->model, MODEL_PVC, ns, model_stateful_set_collect, &c);
	json_array_foreach(c.names, i, name) {
		if (r < 0)
			break;
		r = model_claim_delete_if_exists(t, ns, json_string_value(name), err);
		if (r == 0)
			r = model_txn_log(t, "deleted claim %s/%s of StatefulSet %s (retention "
					  "policy Delete)", ns, json_string_value(name),
					  model_path_string(set, "metadata.name"));
	}
	json_decref(c.names);
	return r;
}

/* The hash of the set's template that names its revision (status and
 * ControllerRevision): ten characters of the alphabet the controller's
 * SafeEncodeString uses. */
static int model_stateful_set_hash(const json_t *obj, char hash[11])
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	char *text = json_dumps(model_path(obj, "spec.template"), JSON_COMPACT | JSON_SORT_KEYS);
	uint32_t h = 2166136261u;

	if (text == NULL)
		return -ENOMEM;
	for (const char *p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	free(text);
	for (int i = 0; i < 10; i++) {
		hash[i] = alphabet[h % (sizeof(alphabet) - 1)];
		h = h / (sizeof(alphabet) - 1) + (uint32_t)i * 7919u;
	}
	hash[10] = '\0';
	return 0;
}

/* status as described in the file comment, and the template's revision in
 * the set's history (model_controller_revision.c); OLD is the set before an
 * update (NULL on create). */
static int model_stateful_set_status(struct model_txn *t, const json_t *old, json_t *obj,
				     struct model_error *err)
{
	char revision[NAMES_SUBDOMAIN_MAX + 16], hash[11];
	const char *current = NULL;
	json_int_t replicas = model_stateful_set_replicas(obj);
	int r;

	r = model_stateful_set_hash(obj, hash);
	if (r == 0)
		r = model_controller_revision_sync(t, obj, hash, err);
	if (r < 0)
		return r;
	/* The name model_controller_revision_sync gives the revision. */
	snprintf(revision, sizeof(revision), "%.223s-%s", model_path_string(obj, "metadata.name"),
		 hash);
	/* OnDelete: no pod was deleted, so none runs the new template. */
	if (old != NULL && model_stateful_set_on_delete(obj))
		current = model_path_string(old, "status.currentRevision");
	if (current == NULL)
		current = revision;
	return model_path_set(obj, "status",
			      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:i}",
					"observedGeneration",
					json_integer_value(model_path(obj, "metadata.generation")),
					"replicas", replicas, "readyReplicas", replicas,
					"currentReplicas", replicas, "updatedReplicas",
					strcmp(current, revision) == 0 ? replicas : 0,
					"availableReplicas", replicas, "currentRevision", current,
					"updateRevision", revision, "collisionCount", 0));
}

static int model_stateful_set_create(struct model_txn *t, const char *ns, const json_t *body,
				     json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL, *old = NULL;
	int r;

	r = model_new_metadata(t, MODEL_STS, ns, body, &obj, err);
	if (r == 0)
		r = model_stateful_set_check(obj, err);
	if (r == 0 && model_obj_get(t->model, MODEL_STS, ns,
				    model_path_string(obj, "metadata.name"), &old) == 0)
		r = -EEXIST;
	if (r == 0)
		r = model_path_set(obj, "metadata.generation", json_integer(1));
	if (r == 0)
		r = model_stateful_set_ensure_claims(t, obj, err);
	if (r == 0)
		r = model_stateful_set_status(t, NULL, obj, err);
	if (r == 0)
		r = model_obj_put(t, MODEL_STS, obj, true, 0, NULL);
	json_decref(old);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_stateful_set_update(struct model_txn *t, const json_t *old, const json_t *body,
				     json_t **ret_obj, struct model_error *err)
{
	static const char *const fixed[] = { "selector", "serviceName", "volumeClaimTemplates",
					     "podManagementPolicy", "revisionHistoryLimit" };
	json_t *obj = json_deep_copy(body);
	json_int_t before = model_stateful_set_replicas(old), after;
	int r;

	if (obj == NULL)
		return -ENOMEM;
	json_object_del(obj, "status");
	r = model_update_metadata(MODEL_STS, old, body, obj, err);
	if (r == 0)
		r = model_stateful_set_check(obj, err);
	for (size_t i = 0; r == 0 && i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "spec.%s", fixed[i]);
		if (!json_equal(model_path(obj, path) ?: json_null(),
				model_path(old, path) ?: json_null())) {
			names_field_error_add(
				&err->fields, NAMES_FIELD_FORBIDDEN, "spec", NULL,
				"updates to statefulset spec for fields other than "
				"'replicas', 'ordinals', 'template', 'updateStrategy', "
				"'persistentVolumeClaimRetentionPolicy' and "
				"'minReadySeconds' are forbidden");
			r = -EINVAL;
		}
	}
	if (r == 0 && !json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec")))
		r = model_path_set(obj, "metadata.generation",
				   json_integer(json_integer_value(
							model_path(old, "metadata.generation")) + 1));
	after = model_stateful_set_replicas(obj);
	if (r == 0 && after < before && model_stateful_set_deletes(obj, "whenScaled"))
		r = model_stateful_set_delete_claims(t, obj, after, err);
	if (r == 0)
		r = model_stateful_set_ensure_claims(t, obj, err);
	if (r == 0)
		r = model_stateful_set_status(t, old, obj, err);
	if (r == 0)
		r = model_status_keep(old, obj);
	if (r == 0)
		r = model_obj_update(t, MODEL_STS, old, obj);
	if (r == 0 && after != before)
		r = model_txn_log(t, "scaled StatefulSet %s/%s from %lld to %lld",
				  model_path_string(old, "metadata.namespace"),
				  model_path_string(old, "metadata.name"), (long long)before,
				  (long long)after);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_stateful_set_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
				     struct model_error *err)
{
	json_t *obj = json_deep_copy(old);
	char now[32];
	int r = 0;

	if (obj == NULL)
		return -ENOMEM;
	if (model_stateful_set_deletes(old, "whenDeleted"))
		r = model_stateful_set_delete_claims(t, old, 0, err);
	/* Its history goes with it, as the garbage collector's cascade does. */
	if (r == 0)
		r = model_controller_revision_delete_owned(t, old);
	model_timestamp(t->now, now);
	if (r == 0)
		r = model_path_set(obj, "metadata.deletionTimestamp", json_string(now));
	if (r == 0)
		r = model_obj_delete(t, MODEL_STS, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* What model_stateful_set_status computes. */
static const char *const model_stateful_set_status_owned[] = {
	"observedGeneration", "replicas", "readyReplicas", "currentReplicas", "updatedReplicas",
	"availableReplicas", "currentRevision", "updateRevision", "collisionCount", NULL
};

const struct model_kind_ops model_stateful_set_ops = {
	.create = model_stateful_set_create,
	.update = model_stateful_set_update,
	.remove = model_stateful_set_remove,
	.status_owned = model_stateful_set_status_owned,
};

/* ---- scale subresource -------------------------------------------------------------- */

/* The autoscaling/v1 Scale of a set. */
static json_t *model_stateful_set_scale(const json_t *set)
{
	const json_t *match = model_path(set, "spec.selector.matchLabels"), *value;
	char selector[1024] = "";
	const char *key;
	size_t n = 0;

	json_object_foreach((json_t *)match, key, value)
		n += (size_t)snprintf(selector + n, n < sizeof(selector) ? sizeof(selector) - n : 0,
				      "%s%s=%s", n > 0 ? "," : "", key, json_string_value(value));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:I}, s:{s:I, s:s}}", "kind",
			 "Scale", "apiVersion", "autoscaling/v1", "metadata", "name",
			 model_path_string(set, "metadata.name"), "namespace",
			 model_path_string(set, "metadata.namespace"), "uid",
			 model_path_string(set, "metadata.uid"), "resourceVersion",
			 model_path_string(set, "metadata.resourceVersion"), "creationTimestamp",
			 model_path_string(set, "metadata.creationTimestamp"), "spec", "replicas",
			 model_stateful_set_replicas(set), "status", "replicas",
			 json_integer_value(model_path(set, "status.replicas")), "selector",
			 selector);
}

int model_scale_get(struct model *model, const char *ns, const char *name, json_t **ret_scale,
		    struct model_error *err)
{
	json_t *set = NULL;
	int r;

	model_error_init(err);
	model_error_name(err, MODEL_STS, name);
	r = model_obj_get(model, MODEL_STS, ns, name, &set);
	if (r < 0)
		return r;
	*ret_scale = model_stateful_set_scale(set);
	json_decref(set);
	return *ret_scale != NULL ? 0 : -ENOMEM;
}

/* The new replicas a Scale update asks for, with its version precondition. */
static int model_scale_replicas(const json_t *old_set, const json_t *scale, json_int_t *ret,
				struct model_error *err)
{
	const json_t *replicas = model_path(scale, "spec.replicas");
	const char *version = model_path_string(scale, "metadata.resourceVersion");

	if (!json_is_object(scale))
		return model_fail(err, -EBADMSG, "the body must be a Scale object");
	if (version != NULL && version[0] != '\0' &&
	    strcmp(version, model_path_string(old_set, "metadata.resourceVersion")) != 0)
		return -ESTALE;
	if (!json_is_integer(replicas) || json_integer_value(replicas) < 0) {
		err->kind = "Scale";
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "spec.replicas", NULL,
				      "must be greater than or equal to 0");
		return -EINVAL;
	}
	*ret = json_integer_value(replicas);
	return 0;
}

int model_scale_update(struct model *model, const char *ns, const char *name, int type,
		       const json_t *body, const struct model_write_options *opts,
		       json_t **ret_scale, struct model_error *err)
{
	json_t *old = NULL, *scale = NULL, *patched = NULL, *set_body = NULL, *set = NULL;
	json_int_t replicas = 0;
	struct model_txn t;
	int r;

	r = model_write_begin(model, MODEL_STS, name, opts, &t, err);
	if (r < 0)
		return r;
	r = model_obj_get(model, MODEL_STS, ns, name, &old);
	if (r == 0 && (scale = model_stateful_set_scale(old)) == NULL)
		r = -ENOMEM;
	if (r == 0 && type >= 0)
		r = model_apply_patch(MODEL_STS, scale, (enum model_patch_type)type, body, &patched,
				      err);
	if (r == 0 && type >= 0 && opts != NULL && opts->check_patched != NULL)
		r = opts->check_patched(opts->check_ud, patched, err);
	if (r == 0)
		r = model_scale_replicas(old, type >= 0 ? patched : body, &replicas, err);
	if (r == 0 && ((set_body = json_deep_copy(old)) == NULL ||
		       model_path_set(set_body, "spec.replicas", json_integer(replicas)) < 0))
		r = -ENOMEM;
	if (r == 0)
		r = model_stateful_set_update(&t, old, set_body, &set, err);
	r = model_txn_end(&t, r, err);
	if (r == 0 && (*ret_scale = model_stateful_set_scale(set)) == NULL)
		r = -ENOMEM;
	json_decref(old);
	json_decref(scale);
	json_decref(patched);
	json_decref(set_body);
	json_decref(set);
	return r;
}
