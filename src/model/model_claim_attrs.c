/*
 * model_claim_attrs.c — a claim's mutable volume attributes (CSI
 * MODIFY_VOLUME): the inode limit and the I/O class of its store volume,
 * from two sources, applied online (store_volume_modify):
 *   - the VolumeAttributesClass its spec.volumeAttributesClassName names
 *     (model_attributes_class.c), as external-resizer applies it in a
 *     cluster: status.currentVolumeAttributesClassName is the class the
 *     volume has; a change to a class that does not exist yet waits
 *     (status.modifyVolumeStatus Pending, retried when the class appears);
 *     one claimfs cannot apply (another driver's, a parameter it does not
 *     take) is Infeasible and changes nothing; pointing the claim back at
 *     its current class cancels either;
 *   - the annotations claimfs.io/inode-limit and claimfs.io/io-class, which
 *     the CSI driver's ControllerModifyVolume (or kubectl annotate) sets.
 *     An annotation wins over the class for its key.
 * A key neither gives is the default: the limit derived from the capacity,
 * the standard class. model_claim.c calls this when a claim is created,
 * updated or bound; it calls the store, the class file and the reports.
 *
 * A clone or a restore starts with its source's attributes for every key its
 * own annotations and class leave out (model_claim_attributes_inherit): the
 * CSI spec and Kubernetes have a new volume's mutable attributes come from
 * its own VolumeAttributesClass (CreateVolume's mutable_parameters) and say
 * nothing of the data source's, which leaves the rest to the driver; claimfs
 * keeps the source's, because the copied data may need the raised inode
 * limit (a copy over its limit could not create a file) and a durable class
 * is a promise about that data. They become the claim's annotations, so
 * the claim shows them and later updates keep them.
 *
 * Invariants: a claim whose annotations are invalid is refused (422) and
 * changes nothing; a bound claim's store volume has exactly the attributes
 * its annotations and current class name (a current class deleted since:
 * the volume keeps what it had); a Pending claim naming a class is
 * provisioned only once that class resolves, and starts with it as its
 * current class.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "store.h"
#include "volume_attrs.h"

#define MODEL_CLAIM_ATTRS_PENDING "Pending"
#define MODEL_CLAIM_ATTRS_INFEASIBLE "Infeasible"

static const char *model_claim_annotation(const struct claim *c, const char *key)
{
	json_t *v = c->annotations ? json_object_get(c->annotations, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The attributes c's annotations give; -EINVAL with field errors. */
static int model_claim_attrs_annotated(const struct claim *c, struct volume_attrs *ret_attrs,
				       struct model_error *err)
{
	const char *limit_text = model_claim_annotation(c, MODEL_ANNOTATION_INODE_LIMIT);
	const char *class_text = model_claim_annotation(c, MODEL_ANNOTATION_IO_CLASS);
	struct volume_attrs attrs = { 0 };
	int r = 0;

	if (limit_text != NULL) {
		attrs.inode_limit_set = true;
		if (volume_attrs_parse_inode_limit(limit_text, &attrs.inode_limit) < 0) {
			names_field_error_add(&err->fields, NAMES_FIELD_INVALID,
					      "metadata.annotations[" MODEL_ANNOTATION_INODE_LIMIT "]",
					      limit_text, "must be a whole number of inodes from 1 to %llu",
					      (unsigned long long)VOLUME_ATTRS_INODE_LIMIT_MAX);
			r = -EINVAL;
		}
	}
	if (class_text != NULL) {
		attrs.io_class_set = true;
		if (volume_attrs_parse_io_class(class_text, &attrs.io_class) < 0) {
			names_field_error_add(&err->fields, NAMES_FIELD_NOT_SUPPORTED,
					      "metadata.annotations[" MODEL_ANNOTATION_IO_CLASS "]",
					      class_text, "supported values: \"standard\", \"durable\"");
			r = -EINVAL;
		}
	}
	if (r == 0)
		*ret_attrs = attrs;
	return r;
}

/* Record on c's PersistentVolume the class it now has, as external-resizer
 * does after a modification. */
static int model_claim_attrs_volume_class(struct model_txn *t, const struct claim *c)
{
	json_t *pv = NULL, *updated = NULL;
	int r = model_obj_get(t->model, MODEL_PV, NULL, c->volume_name, &pv);

	if (r == -ENOENT)
		return 0; /* a bare store volume: nothing to record */
	if (r == 0) {
		updated = json_deep_copy(pv);
		r = updated == NULL ? -ENOMEM
				    : model_path_set(updated, "spec.volumeAttributesClassName",
						     json_string(c->current_attributes_class));
	}
	if (r == 0)
		r = model_obj_update(t, MODEL_PV, pv, updated);
	json_decref(pv);
	json_decref(updated);
	return r;
}

/* A requested class change that cannot be applied now: note it in
 * modifyVolumeStatus (reported once, when it becomes Infeasible). */
static int model_claim_attrs_unapplied(struct model_txn *t, struct claim *c, const char *status,
				       const char *why)
{
	bool news = strcmp(c->modify_status, status) != 0 ||
		    strcmp(c->modify_target, c->attributes_class) != 0;
	char message[640];

	snprintf(c->modify_target, sizeof(c->modify_target), "%s", c->attributes_class);
	snprintf(c->modify_status, sizeof(c->modify_status), "%s", status);
	if (!news || strcmp(status, MODEL_CLAIM_ATTRS_INFEASIBLE) != 0)
		return 0;
	snprintf(message, sizeof(message), "%s", why);
	return model_claim_event(t, c, MODEL_EVENT_RESIZER, "Warning", "VolumeModifyFailed", message);
}

/* Move c's current class towards the one its spec names, and say which
 * class's attributes its volume takes: *ret_attrs (keys a class leaves out
 * unset), or *ret_keep when they are unknown (a current class deleted
 * since it was applied). */
static int model_claim_attrs_class(struct model_txn *t, struct claim *c,
				   struct volume_attrs *ret_attrs, bool *ret_keep)
{
	const char *target = c->attributes_class_set ? c->attributes_class : "";
	const char *current = c->current_attributes_class_set ? c->current_attributes_class : "";
	char why[512], message[1024];
	int r;

	if (strcmp(target, current) != 0 && target[0] != '\0') {
		r = model_attributes_class_resolve(t->model, target, ret_attrs, why, sizeof(why));
		if (r == -ENOENT)
			r = model_claim_attrs_unapplied(t, c, MODEL_CLAIM_ATTRS_PENDING, why);
		else if (r == -EINVAL)
			r = model_claim_attrs_unapplied(t, c, MODEL_CLAIM_ATTRS_INFEASIBLE, why);
		else if (r == 0) {
			c->current_attributes_class_set = true;
			snprintf(c->current_attributes_class, sizeof(c->current_attributes_class),
				 "%s", target);
			c->modify_status[0] = c->modify_target[0] = '\0';
			snprintf(message, sizeof(message),
				 "external resizer modified volume %s with vac %s successfully",
				 c->volume_name, target);
			r = model_claim_attrs_volume_class(t, c);
			if (r == 0)
				r = model_claim_event(t, c, MODEL_EVENT_RESIZER, "Normal",
						      "VolumeModifySuccessful", message);
			return r;
		}
		if (r < 0)
			return r;
	} else {
		/* Nothing to change (or the change is cancelled). */
		c->modify_status[0] = c->modify_target[0] = '\0';
	}
	*ret_keep = false;
	if (current[0] == '\0')
		return 0;
	r = model_attributes_class_resolve(t->model, current, ret_attrs, why, sizeof(why));
	if (r == -ENOENT || r == -EINVAL) {
		*ret_keep = true;
		r = 0;
	}
	return r;
}

int model_claim_attributes(struct model_txn *t, struct claim *c, struct model_error *err)
{
	struct volume_attrs annotated, from_class = { 0 };
	struct store_volume volume;
	bool keep = false;
	uint64_t limit = 0;
	int io_class = STORE_IO_STANDARD;
	int r;

	r = model_claim_attrs_annotated(c, &annotated, err);
	if (r < 0 || c->phase != CLAIM_BOUND || c->volume_name[0] == '\0')
		return r;
	r = model_claim_attrs_class(t, c, &from_class, &keep);
	if (r == 0)
		r = store_volume_get(t->model->store, c->volume_name, &volume);
	if (r < 0)
		return r;
	if (keep) {
		limit = volume.inode_limit;
		io_class = (int)volume.io_class;
	}
	if (from_class.inode_limit_set)
		limit = from_class.inode_limit;
	if (from_class.io_class_set)
		io_class = (int)from_class.io_class;
	if (annotated.inode_limit_set)
		limit = annotated.inode_limit;
	if (annotated.io_class_set)
		io_class = (int)annotated.io_class;
	if (volume.inode_limit == limit && (int)volume.io_class == io_class)
		return 0; /* unchanged: every other update of the claim */
	r = store_volume_modify(t->model->store, c->volume_name, limit,
				(enum store_io_class)io_class);
	if (r == 0)
		r = model_txn_log(t, "modified %s/%s: inode limit %llu%s, I/O class %s",
				  c->namespace_name, c->name, (unsigned long long)limit,
				  limit == 0 ? " (derived from capacity)" : "",
				  io_class == STORE_IO_DURABLE ? "durable" : "standard");
	return r;
}

int model_claim_attributes_inherit(struct model_txn *t, struct claim *c, uint64_t inode_limit,
				   int io_class)
{
	struct volume_attrs own = { 0 };
	char why[512], limit_text[24];
	int r = 0;

	if (c->attributes_class_set && c->attributes_class[0] != '\0' &&
	    model_attributes_class_resolve(t->model, c->attributes_class, &own, why, sizeof(why)) < 0)
		own = (struct volume_attrs){ 0 }; /* checked before provisioning: not expected */
	if (c->annotations == NULL && (c->annotations = json_object()) == NULL)
		return -ENOMEM;
	snprintf(limit_text, sizeof(limit_text), "%llu", (unsigned long long)inode_limit);
	if (inode_limit != 0 && !own.inode_limit_set &&
	    model_claim_annotation(c, MODEL_ANNOTATION_INODE_LIMIT) == NULL)
		r = json_object_set_new(c->annotations, MODEL_ANNOTATION_INODE_LIMIT,
					json_string(limit_text));
	if (r == 0 && io_class == STORE_IO_DURABLE && !own.io_class_set &&
	    model_claim_annotation(c, MODEL_ANNOTATION_IO_CLASS) == NULL)
		r = json_object_set_new(c->annotations, MODEL_ANNOTATION_IO_CLASS,
					json_string("durable"));
	if (r == 0 && json_object_size(c->annotations) == 0) {
		json_decref(c->annotations); /* none before, none added */
		c->annotations = NULL;
	}
	return r == 0 ? 0 : -ENOMEM;
}

int model_claim_attributes_merge(struct claim *res, const struct claim *req,
				 struct model_error *err)
{
	const char *field = "spec.volumeAttributesClassName", *why = NULL;

	if (req->attributes_class_set == res->attributes_class_set &&
	    strcmp(req->attributes_class, res->attributes_class) == 0)
		return 0;
	if (res->phase != CLAIM_BOUND)
		why = "spec is immutable after creation except resources.requests and "
		      "volumeAttributesClassName for bound claims";
	else if (res->attributes_class_set && !req->attributes_class_set &&
		 res->current_attributes_class_set)
		why = "update to nil is forbidden when status.currentVolumeAttributesClassName "
		      "is not nil";
	else if (res->attributes_class_set && req->attributes_class_set &&
		 req->attributes_class[0] == '\0')
		why = "update from non-nil value to an empty string is forbidden";
	if (why != NULL) {
		names_field_error_add(&err->fields, NAMES_FIELD_FORBIDDEN,
				      res->phase != CLAIM_BOUND ? "spec" : field, NULL, "%s", why);
		return -EINVAL;
	}
	res->attributes_class_set = req->attributes_class_set;
	snprintf(res->attributes_class, sizeof(res->attributes_class), "%s", req->attributes_class);
	return 0;
}

int model_claim_attributes_provisionable(struct model_txn *t, const struct claim *c)
{
	struct volume_attrs attrs;
	char why[512], message[1024];
	int r;

	if (!c->attributes_class_set || c->attributes_class[0] == '\0')
		return 0;
	r = model_attributes_class_resolve(t->model, c->attributes_class, &attrs, why, sizeof(why));
	if (r != -ENOENT && r != -EINVAL)
		return r;
	snprintf(message, sizeof(message), "failed to provision volume with StorageClass \"%s\": %s",
		 c->storage_class, why);
	r = model_claim_event(t, c, CLAIM_PROVISIONER, "Warning", "ProvisioningFailed", message);
	return r < 0 ? r : 1;
}

void model_claim_attributes_take(struct claim *c)
{
	if (!c->attributes_class_set || c->attributes_class[0] == '\0')
		return;
	c->current_attributes_class_set = true;
	snprintf(c->current_attributes_class, sizeof(c->current_attributes_class), "%s",
		 c->attributes_class);
}

int model_claim_attributes_waiting(void *ud, json_t *obj)
{
	if (strcmp(model_path_string(obj, "status.modifyVolumeStatus.status") ?: "",
		   MODEL_CLAIM_ATTRS_PENDING) != 0)
		return 0;
	return json_array_append(ud, obj) == 0 ? 0 : -ENOMEM;
}

int model_claim_attributes_retry(struct model_txn *t, struct claim *c)
{
	struct model_error err = { 0 };
	int r = model_claim_attributes(t, c, &err);

	return r == -EINVAL ? 0 : r; /* annotations stored before: left as they are */
}
