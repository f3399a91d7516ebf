/*
 * model_event.c — Events: core/v1 objects clients may post, list and watch,
 * the ones the model records itself (model_event_record: what the PV
 * controller, the external provisioner and the StatefulSet controller
 * would report), the events.k8s.io/v1 view of the same objects, and their
 * expiry.
 *
 * Storage: every Event is stored once, in core/v1 shape, under the store
 * kind "Event"; the events.k8s.io/v1 kind reads the same rows through
 * model_obj_* (model.c converts them, event.c maps the fields) and its
 * writes are converted here and done as core writes.
 *
 * Recording: an event's name is the involved object's name and a hash of
 * (object uid, component, type, reason, message), so a repeat finds its
 * predecessor by name and counts it up (count, lastTimestamp; and the
 * events.k8s.io/v1 series: count, lastObservedTime), as the recorders'
 * aggregation does, without a scan. Events are written in the
 * transaction of the change they report: a dry run or a failed change
 * leaves none.
 *
 * Expiry (model_events_expire): a thread deletes events last seen more than
 * the TTL ago and, beyond MODEL_EVENT_MAX, the oldest ones; it deletes at
 * most MODEL_EVENT_SWEEP_BATCH per transaction so writers wait little.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "claim.h"
#include "event.h"
#include "log.h"

#define MODEL_EVENT_SWEEP_BATCH 64
#define MODEL_EVENT_MESSAGE_MAX 1024

struct model_event_sweeper {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	int64_t ttl; /* seconds */
};

/* ---- core/v1 ---------------------------------------------------------------------- */

/* The rule the apiserver checks on every Event: it lives in the namespace of
 * the object it is about. */
static int model_event_check(const json_t *obj, struct model_error *err)
{
	const char *ns = model_path_string(obj, "metadata.namespace");
	const char *involved = model_path_string(obj, "involvedObject.namespace");
	const json_t *ref = json_object_get(obj, "involvedObject");

	if (ref != NULL && !json_is_object(ref))
		return model_fail(err, -EBADMSG, "Event.involvedObject must be an object");
	if (involved != NULL && involved[0] != '\0' && ns != NULL && strcmp(involved, ns) != 0) {
		names_field_error_add(&err->fields, NAMES_FIELD_INVALID, "involvedObject.namespace",
				      involved, "does not match event.namespace");
		return -EINVAL;
	}
	return 0;
}

static int model_event_create(struct model_txn *t, const char *ns, const json_t *body,
			      json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = model_new_metadata(t, MODEL_EVENT, ns, body, &obj, err);
	if (r == 0)
		r = model_event_check(obj, err);
	if (r == 0)
		r = model_obj_put(t, MODEL_EVENT, obj, true, 0, NULL);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

/* Everything but metadata comes from body: an Event has no status. */
static int model_event_update(struct model_txn *t, const json_t *old, const json_t *body,
			      json_t **ret_obj, struct model_error *err)
{
	json_t *obj = NULL;
	int r;

	r = model_update_body(MODEL_EVENT, old, body, &obj, err);
	if (r < 0)
		return r;
	r = model_event_check(obj, err);
	if (r == 0)
		r = model_obj_update(t, MODEL_EVENT, old, obj);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	*ret_obj = obj;
	return 0;
}

static int model_event_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
			      struct model_error *err)
{
	(void)err;
	return model_obj_remove(t, MODEL_EVENT, old, ret_obj);
}

const struct model_kind_ops model_event_ops = {
	.create = model_event_create,
	.update = model_event_update,
	.remove = model_event_remove,
	.create_on_update = true,
};

/* ---- events.k8s.io/v1: the same objects, converted ---------------------------------- */

/* *ret_obj (a core Event, consumed) as events.k8s.io/v1; r passed through. */
static int model_event_answer_v1(int r, json_t *core, json_t **ret_obj)
{
	json_t *view;

	if (r < 0)
		return r;
	view = event_to_v1(core);
	json_decref(core);
	if (view == NULL)
		return -ENOMEM;
	*ret_obj = view;
	return 0;
}

static int model_event_v1_create(struct model_txn *t, const char *ns, const json_t *body,
				 json_t **ret_obj, struct model_error *err)
{
	json_t *core = NULL, *obj = NULL;
	int r;

	r = model_check_type(MODEL_EVENT_V1, body, err);
	if (r < 0)
		return r;
	/* events.k8s.io/v1 requires the time of the occurrence. */
	if (json_object_get(body, "eventTime") == NULL ||
	    json_is_null(json_object_get(body, "eventTime"))) {
		model_error_name(err, MODEL_EVENT_V1, model_path_string(body, "metadata.name"));
		names_field_error_add(&err->fields, NAMES_FIELD_REQUIRED, "eventTime", NULL, "%s",
				      "");
		return -EINVAL;
	}
	core = event_from_v1(body);
	if (core == NULL)
		return -ENOMEM;
	r = model_event_create(t, ns, core, &obj, err);
	json_decref(core);
	return model_event_answer_v1(r, obj, ret_obj);
}

static int model_event_v1_update(struct model_txn *t, const json_t *old, const json_t *body,
				 json_t **ret_obj, struct model_error *err)
{
	json_t *core_old = event_from_v1(old), *core = NULL, *obj = NULL;
	int r;

	r = model_check_type(MODEL_EVENT_V1, body, err);
	if (r == 0 && (core_old == NULL || (core = event_from_v1(body)) == NULL))
		r = -ENOMEM;
	if (r == 0)
		r = model_event_update(t, core_old, core, &obj, err);
	json_decref(core_old);
	json_decref(core);
	return model_event_answer_v1(r, obj, ret_obj);
}

static int model_event_v1_remove(struct model_txn *t, json_t *old, json_t **ret_obj,
				 struct model_error *err)
{
	json_t *core = event_from_v1(old), *obj = NULL;
	int r;

	r = core != NULL ? model_event_remove(t, core, &obj, err) : -ENOMEM;
	json_decref(core);
	return model_event_answer_v1(r, obj, ret_obj);
}

const struct model_kind_ops model_event_v1_ops = {
	.create = model_event_v1_create,
	.update = model_event_v1_update,
	.remove = model_event_v1_remove,
	.create_on_update = true,
};

/* ---- recording ------------------------------------------------------------------------- */

/* FNV-1a over the parts that make two events "the same" for aggregation. */
static unsigned long long model_event_key(const char *const parts[], size_t count)
{
	unsigned long long h = 1469598103934665603ull;

	for (size_t i = 0; i < count; i++) {
		for (const char *p = parts[i] != NULL ? parts[i] : ""; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull; /* separator: ("ab","c") != ("a","bc") */
	}
	return h;
}

/* A new Event about object, ready to store. */
static json_t *model_event_new(struct model_txn *t, const json_t *object, const char *ns,
			       const char *name, const char *component, const char *type,
			       const char *reason, const char *message)
{
	char uid[37], now[32];
	json_t *ref, *obj;

	model_new_uid(uid);
	model_timestamp(t->now, now);
	ref = json_pack("{s:s*, s:s*, s:s*, s:s*, s:s*, s:s*}", "kind",
			model_path_string(object, "kind"), "namespace",
			model_path_string(object, "metadata.namespace"), "name",
			model_path_string(object, "metadata.name"), "uid",
			model_path_string(object, "metadata.uid"), "apiVersion",
			model_path_string(object, "apiVersion"), "resourceVersion",
			model_path_string(object, "metadata.resourceVersion"));
	obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:o, s:s, s:s, s:{s:s}, s:s, s:s, "
			"s:i, s:s, s:n, s:s, s:s}",
			"apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace",
			ns, "uid", uid, "creationTimestamp", now, "involvedObject", ref, "reason",
			reason, "message", message, "source", "component", component,
			"firstTimestamp", now, "lastTimestamp", now, "count", 1, "type", type,
			"eventTime", "reportingComponent", component, "reportingInstance", "");
	return obj;
}

/* A repeat of the stored event old: both recorders' bookkeeping, so each
 * group reads it as its own recorder would have written it. core/v1's
 * count and lastTimestamp count up; events.k8s.io/v1's series (count and
 * lastObservedTime, a MicroTime) appears with the first repeat at count 2,
 * as client-go's events recorder starts it, and follows the same count. */
static int model_event_repeat(struct model_txn *t, const json_t *old)
{
	json_int_t count = json_integer_value(json_object_get(old, "count"));
	char now[32], micro[40];
	json_t *obj = json_deep_copy(old);
	int r;

	model_timestamp(t->now, now);
	snprintf(micro, sizeof(micro), "%.19s.000000Z", now);
	/* An event stored without a count (a client's) has been seen once. */
	count = (count > 0 ? count : 1) + 1;
	if (obj == NULL || json_object_set_new(obj, "count", json_integer(count)) < 0 ||
	    json_object_set_new(obj, "lastTimestamp", json_string(now)) < 0 ||
	    json_object_set_new(obj, "series", json_pack("{s:I, s:s}", "count", count,
							 "lastObservedTime", micro)) < 0)
		r = -ENOMEM;
	else
		r = model_obj_update(t, MODEL_EVENT, old, obj);
	json_decref(obj);
	return r;
}

int model_event_record(struct model_txn *t, const json_t *object, const char *component,
		       const char *type, const char *reason, const char *fmt, ...)
{
	const char *object_ns = model_path_string(object, "metadata.namespace");
	const char *object_name = model_path_string(object, "metadata.name");
	char message[MODEL_EVENT_MESSAGE_MAX], name[NAMES_SUBDOMAIN_MAX + 1];
	const char *ns = object_ns != NULL && object_ns[0] != '\0' ? object_ns : "default";
	json_t *old = NULL, *obj = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	const char *parts[] = { model_path_string(object, "kind"), object_ns, object_name,
				model_path_string(object, "metadata.uid"), component, type, reason,
				message };
	/* 236 + "." + 16 hex digits stays a valid name of at most 253. */
	snprintf(name, sizeof(name), "%.236s.%016llx", object_name != NULL ? object_name : "",
		 model_event_key(parts, sizeof(parts) / sizeof(parts[0])));
	r = model_obj_get(t->model, MODEL_EVENT, ns, name, &old);
	if (r == 0) {
		r = model_event_repeat(t, old);
	} else if (r == -ENOENT) {
		obj = model_event_new(t, object, ns, name, component, type, reason, message);
		r = obj != NULL ? model_obj_put(t, MODEL_EVENT, obj, true, 0, NULL) : -ENOMEM;
	}
	json_decref(old);
	json_decref(obj);
	return r;
}

/* ---- expiry -------------------------------------------------------------------------------- */

/* When an event was last seen: the newest of its timestamps (whole seconds). */
static int64_t model_event_last_seen(const json_t *obj)
{
	static const char *const paths[] = { "metadata.creationTimestamp", "firstTimestamp",
					     "lastTimestamp", "eventTime",
					     "series.lastObservedTime" };
	int64_t newest = 0, t;
	char text[32];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *value = model_path_string(obj, paths[i]);

		if (value == NULL || strlen(value) < 19)
			continue;
		/* MicroTime has a fraction: the seconds decide here. */
		snprintf(text, sizeof(text), "%.19sZ", value);
		if (claim_parse_time(text, &t) == 0 && t > newest)
			newest = t;
	}
	return newest;
}

/* Collect [namespace, name, last seen] of every event. */
static int model_event_collect(void *ud, json_t *obj)
{
	json_t *row = json_pack("[s?, s?, I]", model_path_string(obj, "metadata.namespace"),
				model_path_string(obj, "metadata.name"),
				(json_int_t)model_event_last_seen(obj));

	return row != NULL && json_array_append_new(ud, row) == 0 ? 0 : -ENOMEM;
}

static int model_event_row_cmp(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_array_get(*(json_t *const *)a, 2));
	json_int_t y = json_integer_value(json_array_get(*(json_t *const *)b, 2));

	return x < y ? -1 : x > y;
}

/* Delete rows [from, to) of the sorted candidates in one transaction; an
 * event refreshed since it was collected stays unless it is over the count. */
static int model_event_sweep_batch(struct model *model, json_t *const rows[], size_t from,
				   size_t to, size_t over, int64_t cutoff, unsigned *deleted)
{
	struct model_error err;
	struct model_txn t;
	int r;

	model_error_init(&err);
	r = model_txn_begin(model, false, &t);
	if (r < 0)
		return r;
	for (size_t i = from; r == 0 && i < to; i++) {
		json_t *obj = NULL;

		r = model_obj_get(model, MODEL_EVENT, json_string_value(json_array_get(rows[i], 0)),
				  json_string_value(json_array_get(rows[i], 1)), &obj);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r == 0 && (i < over || model_event_last_seen(obj) <= cutoff)) {
			r = model_obj_delete(&t, MODEL_EVENT, obj);
			*deleted += r == 0;
		}
		json_decref(obj);
	}
	return model_txn_end(&t, r, &err);
}

int model_events_sweep(struct model *model, int64_t now, unsigned *ret_deleted)
{
	struct model_event_sweeper *s = model->sweeper;
	int64_t cutoff = s != NULL && s->ttl > 0 ? now - s->ttl : INT64_MIN;
	json_t *rows = json_array();
	json_t **sorted = NULL;
	size_t count, over, end = 0, i;
	unsigned deleted = 0;
	int r;

	if (rows == NULL)
		return -ENOMEM;
	r = model_obj_list(model, MODEL_EVENT, NULL, model_event_collect, rows);
	count = json_array_size(rows);
	if (r == 0 && count > 0 && (sorted = calloc(count, sizeof(*sorted))) == NULL)
		r = -ENOMEM;
	if (r < 0)
		goto out;
	for (i = 0; i < count; i++)
		sorted[i] = json_array_get(rows, i);
	qsort(sorted, count, sizeof(*sorted), model_event_row_cmp);
	over = count > MODEL_EVENT_MAX ? count - MODEL_EVENT_MAX : 0;
	/* Oldest first: the candidates are a prefix. */
	while (end < count && (end < over || json_integer_value(json_array_get(sorted[end], 2)) <= cutoff))
		end++;
	for (i = 0; r == 0 && i < end; i += MODEL_EVENT_SWEEP_BATCH)
		r = model_event_sweep_batch(model, sorted, i,
					    i + MODEL_EVENT_SWEEP_BATCH < end ? i + MODEL_EVENT_SWEEP_BATCH : end,
					    over, cutoff, &deleted);
	if (r == 0 && ret_deleted != NULL)
		*ret_deleted = deleted;
out:
	free(sorted);
	json_decref(rows);
	return r;
}

static void *model_event_sweeper_run(void *arg)
{
	struct model *model = arg;
	struct model_event_sweeper *s = model->sweeper;
	/* Often enough that an event outlives its TTL by at most a quarter of it
	 * (or a minute), rarely enough that an idle daemon stays idle. */
	int64_t pause = s->ttl / 4 < 1 ? 1 : s->ttl / 4 > 60 ? 60 : s->ttl / 4;
	struct timespec until;
	unsigned deleted;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)pause;
		pthread_cond_timedwait(&s->wake, &s->lock, &until);
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		deleted = 0;
		int r = model_events_sweep(model, (int64_t)time(NULL), &deleted);

		if (r < 0)
			log_warn("cannot expire events: %s", strerror(-r));
		else if (deleted > 0)
			log_debug("expired %u events", deleted);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int model_events_expire(struct model *model, int64_t ttl_s)
{
	struct model_event_sweeper *s;
	int r;

	if (ttl_s <= 0 || model->sweeper != NULL)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->ttl = ttl_s;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	model->sweeper = s;
	r = pthread_create(&s->thread, NULL, model_event_sweeper_run, model);
	if (r != 0) {
		model->sweeper = NULL;
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return -r;
	}
	return 0;
}

void model_events_stop(struct model *model)
{
	struct model_event_sweeper *s = model->sweeper;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	model->sweeper = NULL;
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
