/*
 * model.c — provisioning: PersistentVolumeClaims mapped onto store volumes.
 *
 * Owns: the link between a claim object, its PersistentVolume object and the
 * store volume that holds its data.
 *
 * Invariants (each kept by one store batch, so no other thread or a crash
 * ever sees half of it):
 *   - a stored claim <ns>/<name> is bound: its volume "pvc-<claim uid>"
 *     exists, is linked as <mount>/<ns>/<name>, has the claim's capacity and
 *     its read-only flag, and a PersistentVolume object of the same name
 *     (cluster-scoped: namespace "") records the binding;
 *   - model_claim_create and model_claim_delete commit durably before they
 *     return 0, so an HTTP 201/200 survives power loss.
 * Stored objects omit metadata.resourceVersion; the store's version of the
 * row is put back when they are read.
 *
 * Thread safety: struct model is immutable after model_open; the store
 * serialises everything else.
 */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "claim.h"
#include "log.h"
#include "store.h"

struct model {
	struct store *store; /* not owned */
};

int model_open(struct store *store, struct model **ret_model)
{
	struct model *model = calloc(1, sizeof(*model));

	if (model == NULL)
		return -ENOMEM;
	model->store = store;
	*ret_model = model;
	return 0;
}

void model_close(struct model *model)
{
	free(model);
}

void model_error_init(struct model_error *err)
{
	memset(err, 0, sizeof(*err));
}

/* Name a not-found / already-exists error after a claim. */
static void model_error_claim(struct model_error *err, const char *name)
{
	err->kind = CLAIM_KIND;
	err->resource = CLAIM_RESOURCE;
	snprintf(err->name, sizeof(err->name), "%s", name);
}

/* A random UUID in its lowercase text form. */
static void model_new_uid(char uid[CLAIM_UID_MAX + 1])
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, uid);
}

/* Five random characters from the alphabet the API server uses for generateName. */
static void model_random_suffix(char suffix[CLAIM_GENERATE_SUFFIX_LEN + 1])
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	uuid_t u;

	uuid_generate_random(u);
	for (int i = 0; i < CLAIM_GENERATE_SUFFIX_LEN; i++)
		suffix[i] = alphabet[u[i] % (sizeof(alphabet) - 1)];
	suffix[CLAIM_GENERATE_SUFFIX_LEN] = '\0';
}

/* The name a (possibly invalid) request asks for, for the error message. */
static void model_request_name(const json_t *body, char *buf, size_t size)
{
	const json_t *meta = json_is_object(body) ? json_object_get(body, "metadata") : NULL;
	const char *name = json_string_value(json_object_get(meta, "name"));

	if (name == NULL || name[0] == '\0')
		name = json_string_value(json_object_get(meta, "generateName"));
	snprintf(buf, size, "%s", name != NULL ? name : "");
}

/* Serialise a JSON object for the store. NULL if out of memory. */
static char *model_dump(const json_t *obj)
{
	return obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
}

/* Read one stored claim row into *ret_claim, restoring its resourceVersion. */
static int model_claim_from_row(const char *body, int64_t version, struct claim *ret_claim)
{
	json_t *obj = json_loads(body, 0, NULL);
	int r;

	if (obj == NULL) {
		claim_init(ret_claim);
		return -EIO; /* the store holds what we wrote: unreadable text is corruption */
	}
	r = claim_from_stored(obj, ret_claim);
	json_decref(obj);
	if (r == -EINVAL)
		r = -EIO;
	if (r == 0)
		ret_claim->resource_version = version;
	return r;
}

/* The store changes of a create, inside the caller's batch. */
static int model_claim_store(struct model *model, const struct claim *c, const char *claim_text,
			     const char *volume_text, int64_t *ret_version)
{
	struct store_volume volume;
	int64_t volume_version;
	int r;

	r = store_object_put(model->store, CLAIM_KIND, c->namespace_name, c->name, claim_text, true,
			     0, ret_version);
	if (r < 0)
		return r;
	r = store_volume_create(model->store, c->volume_name, c->storage, 0777, &volume);
	if (r < 0)
		return r == -EEXIST ? -EIO : r; /* a uid collision is no user error */
	r = store_volume_bind(model->store, c->volume_name, c->namespace_name, c->name);
	if (r < 0)
		return r;
	if (claim_is_read_only(c)) {
		r = store_volume_update(model->store, c->volume_name, c->storage, true);
		if (r < 0)
			return r;
	}
	r = store_object_put(model->store, CLAIM_VOLUME_KIND, "", c->volume_name, volume_text,
			     true, 0, &volume_version);
	return r == -EEXIST ? -EIO : r;
}

int model_claim_create(struct model *model, const char *namespace_name, const json_t *body,
		       json_t **ret_claim, struct model_error *err)
{
	char uid[CLAIM_UID_MAX + 1], volume_uid[CLAIM_UID_MAX + 1];
	char suffix[CLAIM_GENERATE_SUFFIX_LEN + 1];
	char *claim_text = NULL, *volume_text = NULL;
	json_t *volume_obj = NULL, *stored = NULL, *answer;
	struct claim c;
	int64_t version = 0;
	int r;

	model_error_init(err);
	model_random_suffix(suffix);
	r = claim_from_request(body, namespace_name, suffix, &c, err->message, sizeof(err->message),
			       &err->fields);
	if (r < 0) {
		err->kind = CLAIM_KIND;
		err->resource = CLAIM_RESOURCE;
		model_request_name(body, err->name, sizeof(err->name));
		return r;
	}
	model_error_claim(err, c.name);
	model_new_uid(uid);
	model_new_uid(volume_uid);
	r = claim_bind(&c, uid, (int64_t)time(NULL));
	if (r < 0)
		goto out;
	stored = claim_to_json(&c);
	volume_obj = claim_volume_to_json(&c, volume_uid);
	claim_text = model_dump(stored);
	volume_text = model_dump(volume_obj);
	if (claim_text == NULL || volume_text == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = store_batch_begin(model->store);
	if (r < 0)
		goto out;
	r = store_batch_end(model->store,
			    model_claim_store(model, &c, claim_text, volume_text, &version));
	if (r < 0)
		goto out;
	/* A 201 promises the claim survives power loss. */
	r = store_sync(model->store, true);
	if (r < 0) {
		snprintf(err->message, sizeof(err->message),
			 "the claim was created but could not be committed durably: %s",
			 strerror(-r));
		goto out;
	}
	c.resource_version = version;
	answer = claim_to_json(&c);
	if (answer == NULL) {
		r = -ENOMEM;
		goto out;
	}
	log_info("provisioned %s/%s as %s (%llu bytes)", c.namespace_name, c.name, c.volume_name,
		 (unsigned long long)c.storage);
	*ret_claim = answer;
out:
	free(claim_text);
	free(volume_text);
	json_decref(stored);
	json_decref(volume_obj);
	claim_release(&c);
	return r;
}

int model_claim_get(struct model *model, const char *namespace_name, const char *name,
		    json_t **ret_claim, struct model_error *err)
{
	struct claim c;
	char *body = NULL;
	int64_t version;
	json_t *answer;
	int r;

	model_error_init(err);
	model_error_claim(err, name);
	r = store_object_get(model->store, CLAIM_KIND, namespace_name, name, &body, &version);
	if (r < 0)
		return r;
	r = model_claim_from_row(body, version, &c);
	free(body);
	if (r < 0)
		return r;
	answer = claim_to_json(&c);
	claim_release(&c);
	if (answer == NULL)
		return -ENOMEM;
	*ret_claim = answer;
	return 0;
}

/* store_object_list callback: append each claim to the items array. */
static int model_claim_list_item(void *ud, const char *namespace_name, const char *name,
				 const char *body, int64_t version)
{
	json_t *items = ud, *item;
	struct claim c;
	int r;

	r = model_claim_from_row(body, version, &c);
	if (r < 0) {
		log_error("stored claim %s/%s is unreadable: %s", namespace_name, name, strerror(-r));
		return r;
	}
	item = claim_to_json(&c);
	claim_release(&c);
	if (item == NULL || json_array_append_new(items, item) < 0)
		return -ENOMEM;
	return 0;
}

int model_claim_list(struct model *model, const char *namespace_name, json_t **ret_list,
		     struct model_error *err)
{
	json_t *items = json_array(), *list = NULL;
	char version[24];
	int r;

	model_error_init(err);
	err->kind = CLAIM_KIND;
	err->resource = CLAIM_RESOURCE;
	if (items == NULL)
		return -ENOMEM;
	/* Read the version first: the list is at least as new as it says. */
	snprintf(version, sizeof(version), "%lld",
		 (long long)store_current_version(model->store));
	r = store_object_list(model->store, CLAIM_KIND, namespace_name, model_claim_list_item, items);
	if (r < 0)
		goto out;
	list = json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", CLAIM_LIST_KIND, "apiVersion", "v1",
			 "metadata", "resourceVersion", version, "items", items);
	if (list == NULL) {
		r = -ENOMEM;
		goto out;
	}
	*ret_list = list;
out:
	json_decref(items);
	return r;
}

/* The store changes of a delete, inside the caller's batch; *ret_claim gets
 * the claim as it was stored. */
static int model_claim_unstore(struct model *model, const char *namespace_name, const char *name,
			       struct claim *ret_claim)
{
	char *body = NULL;
	int64_t version;
	int r;

	claim_init(ret_claim);
	r = store_object_get(model->store, CLAIM_KIND, namespace_name, name, &body, &version);
	if (r < 0)
		return r;
	r = model_claim_from_row(body, version, ret_claim);
	free(body);
	if (r < 0)
		return r;
	r = store_object_delete(model->store, CLAIM_KIND, namespace_name, name);
	if (r < 0 || ret_claim->volume_name[0] == '\0')
		return r;
	r = store_object_delete(model->store, CLAIM_VOLUME_KIND, "", ret_claim->volume_name);
	if (r < 0 && r != -ENOENT)
		return r;
	r = store_volume_delete(model->store, ret_claim->volume_name);
	if (r == -ENOENT) {
		log_warn("claim %s/%s had no volume %s", namespace_name, name,
			 ret_claim->volume_name);
		r = 0;
	}
	return r;
}

int model_claim_delete(struct model *model, const char *namespace_name, const char *name,
		       json_t **ret_claim, struct model_error *err)
{
	char deleted_at[32];
	struct claim c;
	json_t *answer = NULL;
	int r;

	model_error_init(err);
	model_error_claim(err, name);
	claim_init(&c);
	r = store_batch_begin(model->store);
	if (r < 0)
		return r;
	r = store_batch_end(model->store, model_claim_unstore(model, namespace_name, name, &c));
	if (r < 0)
		goto out;
	r = store_sync(model->store, true);
	if (r < 0) {
		snprintf(err->message, sizeof(err->message),
			 "the claim was deleted but the deletion could not be committed durably: %s",
			 strerror(-r));
		goto out;
	}
	log_info("deleted %s/%s and its volume %s", namespace_name, name, c.volume_name);
	/* Answer as the API server does for an object it is finalizing. */
	answer = claim_to_json(&c);
	if (answer == NULL || claim_format_time((int64_t)time(NULL), deleted_at, sizeof(deleted_at)) < 0 ||
	    json_object_set_new(json_object_get(answer, "metadata"), "deletionTimestamp",
				json_string(deleted_at)) < 0 ||
	    json_object_set_new(json_object_get(answer, "metadata"), "deletionGracePeriodSeconds",
				json_integer(0)) < 0) {
		r = -ENOMEM;
		goto out;
	}
	*ret_claim = answer;
	answer = NULL;
out:
	json_decref(answer);
	claim_release(&c);
	return r;
}
