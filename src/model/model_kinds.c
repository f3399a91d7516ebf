/*
 * model_kinds.c — the top of the model: the table of kinds and their
 * operations, and model_open/model_close, which build the core around it.
 *
 * This is the one file that names every kind's operations. The core and
 * model_ops.c reach a kind only through the table (struct model_kind_ops in
 * model->kinds); a change of one kind that lets objects of another kind
 * progress (a new StorageClass, PersistentVolume or VolumeSnapshot a
 * Pending claim waits for) calls model_reconcile, which runs the
 * reconcile hooks of this table.
 */
#include "model_internal.h"

#include <string.h>

#include "log.h"

static const struct model_kind_ops *const model_kind_table[MODEL_KIND_COUNT] = {
	[MODEL_PVC] = &model_claim_ops,
	[MODEL_PV] = &model_volume_ops,
	[MODEL_SC] = &model_storage_class_ops,
	[MODEL_STS] = &model_stateful_set_ops,
	[MODEL_SNAPSHOT] = &model_snapshot_ops,
	[MODEL_NS] = &model_namespace_ops,
	[MODEL_EVENT] = &model_event_ops,
	[MODEL_EVENT_V1] = &model_event_v1_ops,
	[MODEL_CONTROLLER_REVISION] = &model_controller_revision_ops,
	[MODEL_VAC] = &model_attributes_class_ops,
};

int model_open(struct store *store, struct model **ret_model)
{
	struct model *model = NULL;
	int r;

	r = model_core_open(store, model_kind_table, &model);
	if (r < 0)
		return r;
	r = model_storage_class_defaults(model);
	if (r < 0) {
		log_error("cannot create the default storage class: %s", strerror(-r));
		model_core_close(model);
		return r;
	}
	r = model_namespace_defaults(model);
	if (r < 0) {
		log_error("cannot create the namespaces in use: %s", strerror(-r));
		model_core_close(model);
		return r;
	}
	r = model_tar_snapshot_recover(model);
	if (r < 0) {
		log_error("cannot undo an interrupted snapshot export: %s", strerror(-r));
		model_core_close(model);
		return r;
	}
	*ret_model = model;
	return 0;
}

void model_close(struct model *model)
{
	if (model == NULL)
		return;
	model_tar_snapshot_quiesce(model);
	model_events_stop(model);
	model_core_close(model);
}
