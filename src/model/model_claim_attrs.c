/*
 * model_claim_attrs.c — a claim's mutable volume attributes (CSI
 * MODIFY_VOLUME): the annotations claimfs.io/inode-limit and
 * claimfs.io/io-class, which the CSI driver's ControllerModifyVolume (or a
 * user, with kubectl annotate) sets, validated here and applied to the
 * claim's store volume online (store_volume_modify). model_claim.c calls it
 * when a claim is created or updated; it calls only the store.
 *
 * Invariants: a claim whose annotations are invalid is refused (422) and
 * changes nothing; a bound claim's store volume has exactly the attributes
 * its annotations name (absent: the derived inode limit, the standard
 * class); an unbound claim's are checked and applied when an update finds
 * it bound.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "store.h"
#include "volume_attrs.h"

static const char *model_claim_annotation(const struct claim *c, const char *key)
{
	json_t *v = c->annotations ? json_object_get(c->annotations, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int model_claim_attributes(struct model_txn *t, const struct claim *c, struct model_error *err)
{
	const char *limit_text = model_claim_annotation(c, MODEL_ANNOTATION_INODE_LIMIT);
	const char *class_text = model_claim_annotation(c, MODEL_ANNOTATION_IO_CLASS);
	enum volume_attrs_io_class io_class = VOLUME_ATTRS_IO_STANDARD;
	struct store_volume volume;
	uint64_t limit = 0;
	int r = 0;

	if (limit_text != NULL && volume_attrs_parse_inode_limit(limit_text, &limit) < 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID,
				      "metadata.annotations[" MODEL_ANNOTATION_INODE_LIMIT "]",
				      limit_text, "must be a whole number of inodes from 1 to %llu",
				      (unsigned long long)VOLUME_ATTRS_INODE_LIMIT_MAX);
		r = -EINVAL;
	}
	if (class_text != NULL && volume_attrs_parse_io_class(class_text, &io_class) < 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_NOT_SUPPORTED,
				      "metadata.annotations[" MODEL_ANNOTATION_IO_CLASS "]",
				      class_text, "supported values: \"standard\", \"durable\"");
		r = -EINVAL;
	}
	if (r < 0 || c->phase != CLAIM_BOUND || c->volume_name[0] == '\0')
		return r;
	r = store_volume_get(t->model->store, c->volume_name, &volume);
	if (r < 0)
		return r;
	if (volume.inode_limit == limit && (int)volume.io_class == (int)io_class)
		return 0; /* unchanged: every other update of the claim */
	r = store_volume_modify(t->model->store, c->volume_name, limit,
				(enum store_io_class)io_class);
	if (r == 0)
		r = model_txn_log(t, "modified %s/%s: inode limit %s, I/O class %s",
				  c->namespace_name, c->name,
				  limit_text != NULL ? limit_text : "derived from capacity",
				  class_text != NULL ? class_text : "standard");
	return r;
}
