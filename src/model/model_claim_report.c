/*
 * model_claim_report.c — what the controllers of a cluster report about a
 * claim, as Events (and, for the capacity policy, a log line): the PV
 * controller (Pending: class not found, no class, another provisioner),
 * the external provisioner (provisioned, or no space), the external resizer
 * (resized, or no space).
 *
 * Every function records inside the claim's transaction t, so a dry run or
 * a rolled-back change reports nothing; model_claim.c calls down to here.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "log.h"

/* Record an event about claim c (see model_event_record). */
int model_claim_event(struct model_txn *t, const struct claim *c, const char *component,
			     const char *type, const char *reason, const char *message)
{
	json_t *ref = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
				CLAIM_KIND, "metadata", "name", c->name, "namespace",
				c->namespace_name, "uid", c->uid);
	int r;

	if (ref == NULL)
		return -ENOMEM;
	r = model_event_record(t, ref, component, type, reason, "%s", message);
	json_decref(ref);
	return r;
}

/* What the PV controller reports about a claim that stays Pending (class
 * is the claim's class or NULL, class_r what looking it up returned). */
int model_claim_event_pending(struct model_txn *t, const struct claim *c,
				     const json_t *class, int class_r)
{
	const char *provisioner = model_path_string(class, "provisioner");
	char message[512];

	if (class_r == -ENOENT && c->class_set && c->storage_class[0] != '\0') {
		snprintf(message, sizeof(message), "storageclass.storage.k8s.io \"%s\" not found",
			 c->storage_class);
		return model_claim_event(t, c, MODEL_EVENT_PV_CONTROLLER, "Warning",
					 "ProvisioningFailed", message);
	}
	if (class == NULL)
		return model_claim_event(t, c, MODEL_EVENT_PV_CONTROLLER, "Normal", "FailedBinding",
					 "no persistent volumes available for this claim and no "
					 "storage class is set");
	if (provisioner != NULL && strcmp(provisioner, CLAIM_PROVISIONER) != 0) {
		snprintf(message, sizeof(message),
			 "Waiting for a volume to be created either by the external provisioner "
			 "'%.200s' or manually by the system administrator. If volume creation is "
			 "delayed, please verify that the provisioner is running and correctly "
			 "registered.",
			 provisioner);
		return model_claim_event(t, c, MODEL_EVENT_PV_CONTROLLER, "Normal",
					 "ExternalProvisioning", message);
	}
	return 0;
}

/* What the external resizer reports for an expansion of c's volume. */
int model_claim_expand_events(struct model_txn *t, const struct claim *c)
{
	char message[NAMES_SUBDOMAIN_MAX + 64];
	int r;

	snprintf(message, sizeof(message), "External resizer is resizing volume %s",
		 c->volume_name);
	r = model_claim_event(t, c, MODEL_EVENT_RESIZER, "Normal", "Resizing", message);
	if (r == 0)
		r = model_claim_event(t, c, MODEL_EVENT_RESIZER, "Normal", "VolumeResizeSuccessful",
				      "Resize volume succeeded");
	return r;
}

/* The one place where a claim's failed provisioning is reported (the
 * external-provisioner's ProvisioningFailed); the claim stays Pending. */
int model_claim_provisioning_failed(struct model_txn *t, const struct claim *c,
					   const char *message)
{
	if (!t->dry_run)
		log_info("claim %s/%s stays Pending: %s", c->namespace_name, c->name, message);
	return model_claim_event(t, c, CLAIM_PROVISIONER, "Warning", "ProvisioningFailed", message);
}

/* The one place where a failed expansion is reported (the external-resizer's
 * VolumeResizeFailed); the claim keeps its capacity. */
int model_claim_resize_failed(struct model_txn *t, const struct claim *c,
				     const char *message)
{
	char text[NAMES_SUBDOMAIN_MAX + 1024];

	if (!t->dry_run)
		log_info("claim %s/%s keeps %llu bytes: resize failed: %s", c->namespace_name,
			 c->name, (unsigned long long)c->capacity, message);
	snprintf(text, sizeof(text), "resize volume %s failed: %s", c->volume_name, message);
	return model_claim_event(t, c, MODEL_EVENT_RESIZER, "Warning", "VolumeResizeFailed", text);
}

/* What the provisioner reports once c's new volume is made and bound. */
int model_claim_provisioned_event(struct model_txn *t, const struct claim *c, const char *volume)
{
	char message[NAMES_SUBDOMAIN_MAX + 64];

	snprintf(message, sizeof(message), "Successfully provisioned volume %s", volume);
	return model_claim_event(t, c, CLAIM_PROVISIONER, "Normal", "ProvisioningSucceeded",
				 message);
}
