/*
 * event.c — core/v1 Event <-> events.k8s.io/v1 Event.
 *
 * The apiserver keeps one Event object and serves it in both groups; the
 * fields map one to one (the table below, as the events.k8s.io/v1
 * conversion does): involvedObject is regarding, message is note, the
 * core's count and first/last timestamps are the deprecated* fields.
 * Metadata is shared unchanged, so a resourceVersion or uid seen in one
 * group is valid in the other.
 */
#include "event.h"

#include <stdbool.h>
#include <stddef.h>

static const char *const event_fields[][2] = {
	/* core/v1             events.k8s.io/v1 */
	{ "metadata", "metadata" },
	{ "eventTime", "eventTime" },
	{ "series", "series" },
	{ "reportingComponent", "reportingController" },
	{ "reportingInstance", "reportingInstance" },
	{ "action", "action" },
	{ "reason", "reason" },
	{ "involvedObject", "regarding" },
	{ "related", "related" },
	{ "message", "note" },
	{ "type", "type" },
	{ "source", "deprecatedSource" },
	{ "firstTimestamp", "deprecatedFirstTimestamp" },
	{ "lastTimestamp", "deprecatedLastTimestamp" },
	{ "count", "deprecatedCount" },
};

/* Copy every mapped member of src (column from) into a new object (column to). */
static json_t *event_convert(const json_t *src, int from, const char *api_version)
{
	json_t *dst = json_pack("{s:s, s:s}", "apiVersion", api_version, "kind", "Event");

	for (size_t i = 0; dst != NULL && i < sizeof(event_fields) / sizeof(event_fields[0]); i++) {
		json_t *value = json_object_get(src, event_fields[i][from]);

		if (value == NULL)
			continue;
		if (json_object_set_new(dst, event_fields[i][1 - from], json_deep_copy(value)) < 0) {
			json_decref(dst);
			return NULL;
		}
	}
	return dst;
}

json_t *event_to_v1(const json_t *core)
{
	return event_convert(core, 0, "events.k8s.io/v1");
}

json_t *event_from_v1(const json_t *v1)
{
	return event_convert(v1, 1, "v1");
}
