/*
 * api_table.c — server-side printing: meta.k8s.io Tables (Accept: ...;as=Table),
 * the columns `kubectl get` prints for each kind.
 *
 * Owns: the column definitions per kind (priority 1 columns appear with
 * -o wide) and how each cell is derived from an object. Cells follow the
 * API server's printers: phases become "Terminating" once
 * deletionTimestamp is set, access modes print as RWO/ROX/RWX/RWOP, ages as
 * kubectl's HumanDuration, the default class as "name (default)". Rows
 * carry the object as PartialObjectMetadata (kubectl reads namespaces and
 * labels from it) or whole with includeObject=Object.
 */
#include "api_internal.h"

#include <stdio.h>
#include <string.h>

#include "claim.h"
#include "event.h"

struct api_column {
	const char *name;
	const char *type;
	const char *format;
	int priority;
	const char *description;
};

#define API_COLUMNS_MAX 10

struct api_kind_table {
	unsigned count;
	struct api_column column[API_COLUMNS_MAX];
};

static const char api_name_help[] =
	"Name must be unique within a namespace. Cannot be updated. More info: "
	"https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
static const char api_age_help[] =
	"CreationTimestamp is a timestamp representing the server time when this object was "
	"created.";

/* The apiserver prints both groups' Events with the same columns. */
#define API_EVENT_COLUMNS { 10, { \
	{ "Last Seen", "string", "", 0, "The time at which the most recent occurrence of this event was recorded." }, \
	{ "Type", "string", "", 0, "Type of this event (Normal, Warning), new types could be added in the future" }, \
	{ "Reason", "string", "", 0, "This should be a short, machine understandable string that gives the reason for the transition into the object's current status." }, \
	{ "Object", "string", "", 0, "The object that this event is about." }, \
	{ "Subobject", "string", "", 1, "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement." }, \
	{ "Source", "string", "", 1, "The component reporting this event. Should be a short machine understandable string." }, \
	{ "Message", "string", "", 0, "A human-readable description of the status of this operation." }, \
	{ "First Seen", "string", "", 1, "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)" }, \
	{ "Count", "string", "", 1, "The number of times this event has occurred." }, \
	{ "Name", "string", "name", 1, api_name_help }, \
} }

static const struct api_kind_table api_tables[MODEL_KIND_COUNT] = {
	[MODEL_PVC] = { 8, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "Status", "string", "", 0, "Phase represents the current phase of PersistentVolumeClaim." },
		{ "Volume", "string", "", 0, "VolumeName is the binding reference to the PersistentVolume backing this claim." },
		{ "Capacity", "string", "", 0, "Capacity represents the actual resources of the underlying volume." },
		{ "Access Modes", "string", "", 0, "AccessModes contains the actual access modes the volume backing the PVC has." },
		{ "StorageClass", "string", "", 0, "StorageClassName is the name of the StorageClass required by the claim." },
		{ "Age", "string", "", 0, api_age_help },
		{ "VolumeMode", "string", "", 1, "volumeMode defines what type of volume is required by the claim." },
	} },
	[MODEL_PV] = { 9, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "Capacity", "string", "", 0, "capacity is the description of the persistent volume's resources and capacity." },
		{ "Access Modes", "string", "", 0, "accessModes contains all ways the volume can be mounted." },
		{ "Reclaim Policy", "string", "", 0, "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim." },
		{ "Status", "string", "", 0, "phase indicates if a volume is available, bound to a claim, or released by a claim." },
		{ "Claim", "string", "", 0, "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim." },
		{ "StorageClass", "string", "", 0, "storageClassName is the name of StorageClass to which this persistent volume belongs." },
		{ "Age", "string", "", 0, api_age_help },
		{ "VolumeMode", "string", "", 1, "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state." },
	} },
	[MODEL_SC] = { 6, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "Provisioner", "string", "", 0, "provisioner indicates the type of the provisioner." },
		{ "ReclaimPolicy", "string", "", 0, "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class." },
		{ "VolumeBindingMode", "string", "", 0, "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound." },
		{ "AllowVolumeExpansion", "string", "", 0, "allowVolumeExpansion shows whether the storage class allow volume expand." },
		{ "Age", "string", "", 0, api_age_help },
	} },
	[MODEL_VAC] = { 3, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "DriverName", "string", "", 0, "Name of the CSI driver This field is immutable." },
		{ "Age", "string", "", 0, api_age_help },
	} },
	[MODEL_STS] = { 5, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "Ready", "string", "", 0, "Number of the pod with ready state" },
		{ "Age", "string", "", 0, api_age_help },
		{ "Containers", "string", "", 1, "Names of each container in the template." },
		{ "Images", "string", "", 1, "Images referenced by each container in the template." },
	} },
	[MODEL_SNAPSHOT] = { 9, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "ReadyToUse", "boolean", "", 0, "Indicates if the snapshot is ready to be used to restore a volume." },
		{ "SourcePVC", "string", "", 0, "If a new snapshot needs to be created, this contains the name of the source PVC from which this snapshot was (or will be) created." },
		{ "SourceSnapshotContent", "string", "", 0, "If a snapshot already exists, this contains the name of the existing VolumeSnapshotContent object representing the existing snapshot." },
		{ "RestoreSize", "string", "", 0, "Represents the minimum size of volume required to rehydrate from this snapshot." },
		{ "SnapshotClass", "string", "", 0, "The name of the VolumeSnapshotClass requested by the VolumeSnapshot." },
		{ "SnapshotContent", "string", "", 0, "Name of the VolumeSnapshotContent object to which the VolumeSnapshot object intends to bind to. Please note that verification of binding actually requires checking both VolumeSnapshot and VolumeSnapshotContent to ensure both are pointing at each other. Binding MUST be verified prior to usage of this object." },
		{ "CreationTime", "date", "", 0, "Timestamp when the point-in-time snapshot was taken by the underlying storage system." },
		{ "Age", "date", "", 0, api_age_help },
	} },
	[MODEL_NS] = { 3, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "Status", "string", "", 0, "The status of the namespace" },
		{ "Age", "string", "", 0, api_age_help },
	} },
	[MODEL_EVENT] = API_EVENT_COLUMNS,
	[MODEL_EVENT_V1] = API_EVENT_COLUMNS,
	[MODEL_CONTROLLER_REVISION] = { 4, {
		{ "Name", "string", "name", 0, api_name_help },
		{ "Controller", "string", "", 0, "Controller of the object" },
		{ "Revision", "number", "", 0, "Revision indicates the revision of the state represented by Data." },
		{ "Age", "string", "", 0, api_age_help },
	} },
};

void api_table_age(long long seconds, char *buf, size_t size)
{
	long long minutes = seconds / 60, hours = seconds / 3600, days = hours / 24;

	if (seconds < -1)
		snprintf(buf, size, "<invalid>");
	else if (seconds < 0)
		snprintf(buf, size, "0s");
	else if (seconds < 120)
		snprintf(buf, size, "%llds", seconds);
	else if (minutes < 10 && seconds % 60 != 0)
		snprintf(buf, size, "%lldm%llds", minutes, seconds % 60);
	else if (minutes < 180)
		snprintf(buf, size, "%lldm", minutes);
	else if (hours < 8 && minutes % 60 != 0)
		snprintf(buf, size, "%lldh%lldm", hours, minutes % 60);
	else if (hours < 48)
		snprintf(buf, size, "%lldh", hours);
	else if (hours < 24 * 8 && hours % 24 != 0)
		snprintf(buf, size, "%lldd%lldh", days, hours % 24);
	else if (hours < 24 * 365 * 2)
		snprintf(buf, size, "%lldd", days);
	else if (hours < 24 * 365 * 8 && days % 365 != 0)
		snprintf(buf, size, "%lldy%lldd", days / 365, days % 365);
	else
		snprintf(buf, size, "%lldy", days / 365);
}

/* Age of a timestamp field relative to now ("<unknown>" if absent). */
static json_t *api_table_age_of(const json_t *obj, const char *path, long long now)
{
	const char *text = model_path_string(obj, path);
	char age[32], seconds[32];
	int64_t t;

	/* A MicroTime's fraction does not show in an age. */
	if (text != NULL && strlen(text) > 20 && text[19] == '.') {
		snprintf(seconds, sizeof(seconds), "%.19sZ", text);
		text = seconds;
	}
	if (text == NULL || claim_parse_time(text, &t) < 0)
		return json_string("<unknown>");
	api_table_age(now - (long long)t, age, sizeof(age));
	return json_string(age);
}

/* A string cell from a path ("" if absent). */
static json_t *api_cell(const json_t *obj, const char *path)
{
	const char *text = model_path_string(obj, path);

	return json_string(text != NULL ? text : "");
}

/* The phase, or Terminating once deletion started. */
static json_t *api_cell_phase(const json_t *obj)
{
	if (model_path(obj, "metadata.deletionTimestamp") != NULL)
		return json_string("Terminating");
	return api_cell(obj, "status.phase");
}

static json_t *api_cell_modes(const json_t *obj, const char *path)
{
	char text[32];

	claim_access_modes_short(claim_access_modes_from_json(model_path(obj, path)), text,
				 sizeof(text));
	return json_string(text);
}

/* ", "-joined member of every container of the pod template. */
static json_t *api_cell_containers(const json_t *obj, const char *member)
{
	const json_t *containers = model_path(obj, "spec.template.spec.containers"), *c;
	char text[1024] = "";
	size_t n = 0, i;

	json_array_foreach(containers, i, c)
		n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0, "%s%s",
				      n > 0 ? "," : "", json_string_value(json_object_get(c, member)) ?: "");
	return json_string(text);
}

/* The cells of a core/v1 Event, as the apiserver's event printer makes them. */
static json_t *api_cells_event(const json_t *obj, long long now)
{
	const json_t *series = json_object_get(obj, "series");
	const char *last = model_path_string(obj, "lastTimestamp") != NULL ? "lastTimestamp"
									 : "eventTime";
	const char *first = model_path_string(obj, "firstTimestamp") != NULL ? "firstTimestamp"
									   : "eventTime";
	json_int_t count = json_integer_value(json_object_get(obj, "count"));

	/* A series (events.k8s.io's repeats) decides last seen and count. */
	if (json_is_object(series)) {
		last = "series.lastObservedTime";
		count = json_integer_value(json_object_get(series, "count"));
	}
	if (count == 0)
		count = 1; /* a singleton of the new API has no count */
	json_t *last_age = api_table_age_of(obj, last, now), *first_age;
	char seen[96], object[NAMES_SUBDOMAIN_MAX + 64], source[NAMES_SUBDOMAIN_MAX + 8];
	const char *host = model_path_string(obj, "source.host");

	first_age = api_table_age_of(obj, first, now);
	if (last_age == NULL || first_age == NULL) {
		json_decref(last_age);
		json_decref(first_age);
		return NULL;
	}
	if (count > 1)
		snprintf(seen, sizeof(seen), "%s (x%lld over %s)", json_string_value(last_age),
			 (long long)count, json_string_value(first_age));
	else
		snprintf(seen, sizeof(seen), "%s", json_string_value(last_age));
	json_decref(last_age);
	snprintf(object, sizeof(object), "%s/%s", model_path_string(obj, "involvedObject.kind") ?: "",
		 model_path_string(obj, "involvedObject.name") ?: "");
	for (char *p = object; *p != '/' && *p != '\0'; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	snprintf(source, sizeof(source), "%s%s%s",
		 model_path_string(obj, "source.component") ?: model_path_string(obj, "reportingComponent") ?: "",
		 host != NULL && host[0] != '\0' ? ", " : "", host != NULL ? host : "");
	return json_pack("[s, o, o, s, o, s, o, o, I, o]", seen, api_cell(obj, "type"),
			 api_cell(obj, "reason"), object, api_cell(obj, "involvedObject.fieldPath"),
			 source, api_cell(obj, "message"), first_age, (json_int_t)count,
			 api_cell(obj, "metadata.name"));
}

/* A ControllerRevision's row: its controller as kubectl names it
 * ("statefulset.apps/web") or <none>. */
static json_t *api_cells_revision(const json_t *obj, long long now)
{
	char controller[NAMES_SUBDOMAIN_MAX + 160] = "<none>";
	const char *group;
	const json_t *ref;
	size_t i;

	json_array_foreach(model_path(obj, "metadata.ownerReferences"), i, ref) {
		const char *api_version = json_string_value(json_object_get(ref, "apiVersion")) ?: "";
		const char *slash = strchr(api_version, '/');

		if (!json_is_true(json_object_get(ref, "controller")))
			continue;
		group = slash != NULL ? api_version : "";
		snprintf(controller, sizeof(controller), "%.60s%s%.*s/%.253s",
			 json_string_value(json_object_get(ref, "kind")) ?: "",
			 slash != NULL ? "." : "", slash != NULL ? (int)(slash - group) : 0, group,
			 json_string_value(json_object_get(ref, "name")) ?: "");
		for (char *p = controller; *p != '/' && *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		break;
	}
	return json_pack("[o, s, I, o]", api_cell(obj, "metadata.name"), controller,
			 json_integer_value(json_object_get(obj, "revision")),
			 api_table_age_of(obj, "metadata.creationTimestamp", now));
}

/* The cells of one object. */
static json_t *api_cells(enum model_kind kind, const json_t *obj, long long now)
{
	json_t *core, *cells;

	char text[NAMES_SUBDOMAIN_MAX + NAMES_LABEL_MAX + 16];
	const json_t *ref;

	switch (kind) {
	case MODEL_PVC:
		return json_pack("[o, o, o, o, o, o, o, o]", api_cell(obj, "metadata.name"),
				 api_cell_phase(obj), api_cell(obj, "spec.volumeName"),
				 api_cell(obj, "status.capacity.storage"),
				 api_cell_modes(obj, "status.accessModes"),
				 api_cell(obj, "spec.storageClassName"),
				 api_table_age_of(obj, "metadata.creationTimestamp", now),
				 api_cell(obj, "spec.volumeMode"));
	case MODEL_PV:
		ref = model_path(obj, "spec.claimRef");
		text[0] = '\0';
		if (json_is_object(ref))
			snprintf(text, sizeof(text), "%s/%s",
				 json_string_value(json_object_get(ref, "namespace")) ?: "",
				 json_string_value(json_object_get(ref, "name")) ?: "");
		return json_pack("[o, o, o, o, o, s, o, o, o]", api_cell(obj, "metadata.name"),
				 api_cell(obj, "spec.capacity.storage"),
				 api_cell_modes(obj, "spec.accessModes"),
				 api_cell(obj, "spec.persistentVolumeReclaimPolicy"),
				 api_cell_phase(obj), text, api_cell(obj, "spec.storageClassName"),
				 api_table_age_of(obj, "metadata.creationTimestamp", now),
				 api_cell(obj, "spec.volumeMode"));
	case MODEL_SC:
		snprintf(text, sizeof(text), "%s%s", model_path_string(obj, "metadata.name"),
			 strcmp(json_string_value(json_object_get(
					model_path(obj, "metadata.annotations"),
					"storageclass.kubernetes.io/is-default-class")) ?: "",
				"true") == 0
				 ? " (default)"
				 : "");
		return json_pack("[s, o, o, o, s, o]", text, api_cell(obj, "provisioner"),
				 api_cell(obj, "reclaimPolicy"), api_cell(obj, "volumeBindingMode"),
				 json_is_true(json_object_get(obj, "allowVolumeExpansion")) ? "true"
											    : "false",
				 api_table_age_of(obj, "metadata.creationTimestamp", now));
	case MODEL_VAC:
		return json_pack("[o, o, o]", api_cell(obj, "metadata.name"),
				 api_cell(obj, "driverName"),
				 api_table_age_of(obj, "metadata.creationTimestamp", now));
	case MODEL_STS:
		snprintf(text, sizeof(text), "%lld/%lld",
			 (long long)json_integer_value(model_path(obj, "status.readyReplicas")),
			 (long long)json_integer_value(model_path(obj, "spec.replicas")));
		return json_pack("[o, s, o, o, o]", api_cell(obj, "metadata.name"), text,
				 api_table_age_of(obj, "metadata.creationTimestamp", now),
				 api_cell_containers(obj, "name"), api_cell_containers(obj, "image"));
	case MODEL_SNAPSHOT:
		return json_pack("[o, b, o, o, o, o, o, o, o]", api_cell(obj, "metadata.name"),
				 json_is_true(model_path(obj, "status.readyToUse")),
				 api_cell(obj, "spec.source.persistentVolumeClaimName"),
				 api_cell(obj, "spec.source.volumeSnapshotContentName"),
				 api_cell(obj, "status.restoreSize"),
				 api_cell(obj, "spec.volumeSnapshotClassName"),
				 api_cell(obj, "status.boundVolumeSnapshotContentName"),
				 api_table_age_of(obj, "status.creationTime", now),
				 api_table_age_of(obj, "metadata.creationTimestamp", now));
	case MODEL_NS:
		return json_pack("[o, o, o]", api_cell(obj, "metadata.name"), api_cell(obj, "status.phase"),
				 api_table_age_of(obj, "metadata.creationTimestamp", now));
	case MODEL_EVENT:
		return api_cells_event(obj, now);
	case MODEL_EVENT_V1:
		core = event_from_v1(obj);
		cells = core != NULL ? api_cells_event(core, now) : NULL;
		json_decref(core);
		return cells;
	case MODEL_CONTROLLER_REVISION:
		return api_cells_revision(obj, now);
	case MODEL_KIND_COUNT:
	default:
		return NULL;
	}
}

/* The row object as includeObject asks. */
static json_t *api_row_object(const json_t *obj, enum api_include_object include,
			      const char *api_version)
{
	if (include == API_INCLUDE_OBJECT)
		return json_deep_copy(obj);
	if (include == API_INCLUDE_NONE)
		return NULL;
	return json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion",
			 api_version, "metadata", json_object_get(obj, "metadata"));
}

/* Append the row of obj. */
static int api_table_row(json_t *rows, enum model_kind kind, const json_t *obj,
			 enum api_include_object include, const char *api_version, long long now)
{
	json_t *row = json_pack("{s:o, s:o*}", "cells", api_cells(kind, obj, now), "object",
				api_row_object(obj, include, api_version));

	return row != NULL && json_array_append_new(rows, row) == 0 ? 0 : -1;
}

/* The column definitions of kind. */
static json_t *api_columns(enum model_kind kind)
{
	const struct api_kind_table *t = &api_tables[kind];
	json_t *columns = json_array();

	for (unsigned i = 0; columns != NULL && i < t->count; i++)
		if (json_array_append_new(columns,
					  json_pack("{s:s, s:s, s:s, s:s, s:i}", "name",
						    t->column[i].name, "type", t->column[i].type,
						    "format", t->column[i].format, "description",
						    t->column[i].description, "priority",
						    t->column[i].priority)) < 0) {
			json_decref(columns);
			return NULL;
		}
	return columns;
}

json_t *api_table(enum model_kind kind, const json_t *obj, bool is_list,
		  enum api_include_object include, const char *api_version, long long now)
{
	json_t *rows = json_array(), *table, *meta;
	const json_t *item;
	size_t i;

	if (rows == NULL)
		return NULL;
	if (is_list) {
		json_array_foreach(json_object_get(obj, "items"), i, item)
			if (api_table_row(rows, kind, item, include, api_version, now) < 0)
				goto fail;
		meta = json_pack("{s:O*}", "resourceVersion", model_path(obj, "metadata.resourceVersion"));
	} else {
		if (api_table_row(rows, kind, obj, include, api_version, now) < 0)
			goto fail;
		meta = json_pack("{s:O*}", "resourceVersion", model_path(obj, "metadata.resourceVersion"));
	}
	table = json_pack("{s:s, s:s, s:o, s:o, s:o}", "kind", "Table", "apiVersion", api_version,
			  "metadata", meta, "columnDefinitions", api_columns(kind), "rows", rows);
	return table;
fail:
	json_decref(rows);
	return NULL;
}

json_t *api_table_empty(const char *api_version, const char *resource_version)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:s, s:s, s:i}], s:[]}", "kind", "Table",
			 "apiVersion", api_version, "metadata", "resourceVersion", resource_version,
			 "columnDefinitions", "name", "Name", "type", "string", "format", "name",
			 "description", api_name_help, "priority", 0, "rows");
}
