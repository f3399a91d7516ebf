/*
 * model_hub.c — the event hub behind ?watch=true.
 *
 * Owns: a ring of the last MODEL_HUB_HISTORY events (for "watch from
 * resourceVersion X") and the set of open watches, each with a bounded
 * queue of events that passed its filters.
 *
 * Invariants (all under hub->lock):
 *   - events enter in strictly increasing version (model_txn_end publishes
 *     under the model's write lock); hub->floor is the newest version that
 *     is NOT in the ring: a watch from X >= floor can be replayed exactly,
 *     an older X gets -EKEYEXPIRED (410 Gone: the client lists again);
 *   - a watch never queues an event of version <= its start version;
 *   - a watch opened from a version not yet published waits for it
 *     (w->awaited, cleared by the first event at or past it); if its
 *     deadline passes first, model_watch_next answers -ETIMEDOUT;
 *   - a watch whose queue passes MODEL_WATCH_QUEUE_MAX is marked overrun;
 *     its consumer gets -EPIPE and ends the stream (the client re-watches);
 *   - w->suspended is true only between a notify->suspend and the matching
 *     notify->resume, both called under the lock, so a consumer is never
 *     resumed twice nor left asleep with events queued; w->kicked makes the
 *     next model_watch_next return -EAGAIN without suspending (timers, stop).
 * Selector moves: when a MODIFIED object stops matching a label or field
 * selector the watch sees DELETED, when it starts matching ADDED, as the
 * API server's watch cache does.
 *
 * A watch's life: model_hub_watch_new, its initial ADDED events
 * (model_hub_watch_initial), model_hub_watch_attach (from then on it gets
 * published events), model_watch_next/kick/version, model_watch_close. One
 * that never got attached goes with model_hub_watch_discard.
 *
 * The hub sits below the model's core: model_txn_end publishes into it and
 * model_watch.c opens watches on it; it calls only model_json.c and never
 * back into the model.
 */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "selector.h"

#define MODEL_HUB_HISTORY 1024
#define MODEL_WATCH_QUEUE_MAX 4096

struct model_hub_event {
	int64_t version;
	enum model_kind kind;
	const char *type; /* static string */
	json_t *object;   /* owned */
	json_t *old;      /* owned, or NULL */
};

struct model_hub {
	pthread_mutex_t lock;
	int64_t floor;
	int64_t newest; /* the newest version published (or the store's at open) */
	size_t head, count; /* ring: oldest at head */
	struct model_hub_event ring[MODEL_HUB_HISTORY];
	struct model_watch *watches; /* doubly linked */
};

struct model_watch {
	struct model_hub *hub;
	enum model_kind kind;
	char ns[NAMES_LABEL_MAX + 1]; /* "" = every namespace */
	bool has_labels, has_fields;
	struct selector labels, fields;
	int64_t start;   /* events <= start are not delivered */
	int64_t latest;  /* newest version seen (for bookmarks) */
	/* A start version the store had not reached when the watch opened:
	 * until a version >= awaited is published (then 0) the watch waits,
	 * and past awaited_deadline_ns it ends with -ETIMEDOUT. */
	int64_t awaited;
	unsigned long long awaited_deadline_ns;
	json_t *queue;   /* [[type, object], ...] */
	size_t queue_pos; /* next to deliver */
	bool overrun, suspended, kicked;
	struct model_watch_notify notify;
	struct model_watch *prev, *next;
};

int model_hub_open(int64_t floor, struct model_hub **ret_hub)
{
	struct model_hub *hub = calloc(1, sizeof(*hub));
	int r;

	if (hub == NULL)
		return -ENOMEM;
	r = pthread_mutex_init(&hub->lock, NULL);
	if (r != 0) {
		free(hub);
		return -r;
	}
	hub->floor = floor;
	hub->newest = floor;
	*ret_hub = hub;
	return 0;
}

void model_hub_close(struct model_hub *hub)
{
	if (hub == NULL)
		return;
	for (size_t i = 0; i < hub->count; i++) {
		struct model_hub_event *e = &hub->ring[(hub->head + i) % MODEL_HUB_HISTORY];

		json_decref(e->object);
		json_decref(e->old);
	}
	/* Watches outlive nothing: the API closes them before the model. */
	pthread_mutex_destroy(&hub->lock);
	free(hub);
}

/* Does obj pass w's namespace and selectors? */
static bool model_watch_matches(const struct model_watch *w, const json_t *obj)
{
	const char *ns;

	if (obj == NULL)
		return false;
	ns = model_path_string(obj, "metadata.namespace");
	if (w->ns[0] != '\0' && (ns == NULL || strcmp(ns, w->ns) != 0))
		return false;
	if (w->has_labels && !selector_match_labels(&w->labels, model_path(obj, "metadata.labels")))
		return false;
	if (w->has_fields && !selector_match_fields(&w->fields, obj))
		return false;
	return true;
}

/* Queue one event for w (caller holds the lock). */
static void model_watch_push(struct model_watch *w, const char *type, json_t *object)
{
	if (w->overrun)
		return;
	if (json_array_size(w->queue) - w->queue_pos >= MODEL_WATCH_QUEUE_MAX ||
	    json_array_append_new(w->queue, json_pack("[s, O]", type, object)) < 0) {
		w->overrun = true;
	}
	if (w->suspended) {
		w->suspended = false;
		w->notify.resume(w->notify.ud);
	}
}

/* Offer an event to w: filters, selector moves, start version. */
static void model_watch_offer(struct model_watch *w, const struct model_hub_event *e)
{
	bool now, before;

	if (w->awaited != 0 && e->version >= w->awaited)
		w->awaited = 0; /* the version it waited for exists now */
	if (e->kind != w->kind || e->version <= w->start)
		return;
	w->latest = e->version;
	now = model_watch_matches(w, e->object);
	before = e->old != NULL ? model_watch_matches(w, e->old) : now;
	if (strcmp(e->type, "MODIFIED") == 0 && now && !before)
		model_watch_push(w, "ADDED", e->object);
	else if (strcmp(e->type, "MODIFIED") == 0 && !now && before)
		model_watch_push(w, "DELETED", e->object);
	else if (now)
		model_watch_push(w, e->type, e->object);
}

void model_hub_publish(struct model_hub *hub, enum model_kind kind, const char *type,
		       json_t *object, json_t *old, int64_t version)
{
	static const char *const types[] = { "ADDED", "MODIFIED", "DELETED" };
	struct model_hub_event e = { version, kind, types[0], object, old };

	for (size_t i = 0; i < 3; i++)
		if (strcmp(type, types[i]) == 0)
			e.type = types[i];
	pthread_mutex_lock(&hub->lock);
	hub->newest = version;
	if (hub->count == MODEL_HUB_HISTORY) {
		struct model_hub_event *oldest = &hub->ring[hub->head];

		hub->floor = oldest->version;
		json_decref(oldest->object);
		json_decref(oldest->old);
		hub->head = (hub->head + 1) % MODEL_HUB_HISTORY;
		hub->count--;
	}
	e.object = json_deep_copy(object);
	e.old = old != NULL ? json_deep_copy(old) : NULL;
	if (e.object != NULL) {
		hub->ring[(hub->head + hub->count) % MODEL_HUB_HISTORY] = e;
		hub->count++;
		for (struct model_watch *w = hub->watches; w != NULL; w = w->next)
			model_watch_offer(w, &e);
	} else {
		/* Out of memory: nobody can be told; make everyone start over. */
		json_decref(e.old);
		for (struct model_watch *w = hub->watches; w != NULL; w = w->next) {
			w->overrun = true;
			if (w->suspended) {
				w->suspended = false;
				w->notify.resume(w->notify.ud);
			}
		}
	}
	pthread_mutex_unlock(&hub->lock);
}

int model_hub_watch_new(struct model_hub *hub, enum model_kind kind, const char *ns,
			const struct selector *labels, const struct selector *fields,
			struct model_watch **ret_watch)
{
	struct model_watch *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return -ENOMEM;
	w->hub = hub;
	w->kind = kind;
	w->queue = json_array();
	if (w->queue == NULL) {
		free(w);
		return -ENOMEM;
	}
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	if (labels != NULL) {
		w->labels = *labels;
		w->has_labels = true;
	}
	if (fields != NULL) {
		w->fields = *fields;
		w->has_fields = true;
	}
	*ret_watch = w;
	return 0;
}

void model_hub_watch_discard(struct model_watch *w)
{
	if (w == NULL)
		return;
	json_decref(w->queue);
	free(w);
}

int model_hub_watch_initial(void *ud, json_t *obj)
{
	struct model_watch *w = ud;

	if (model_watch_matches(w, obj) &&
	    json_array_append_new(w->queue, json_pack("[s, O]", "ADDED", obj)) < 0)
		return -ENOMEM;
	return 0;
}

int model_hub_watch_initial_end(struct model_watch *w)
{
	return json_array_append_new(w->queue, json_pack("[s, n]", "INITIAL-END")) == 0 ? 0
											   : -ENOMEM;
}

void model_hub_watch_await(struct model_watch *w, int64_t version, unsigned long long deadline_ns)
{
	/* Not attached yet: nobody else sees w. */
	w->awaited = version;
	w->awaited_deadline_ns = deadline_ns;
}

int model_hub_watch_attach(struct model_hub *hub, struct model_watch *w, int64_t start,
			   bool replay, int64_t *ret_floor)
{
	int r = 0;

	pthread_mutex_lock(&hub->lock);
	if (replay && start < hub->floor) {
		*ret_floor = hub->floor;
		r = -EKEYEXPIRED;
	} else {
		w->start = start;
		for (size_t i = 0; replay && i < hub->count; i++)
			model_watch_offer(w, &hub->ring[(hub->head + i) % MODEL_HUB_HISTORY]);
	}
	w->latest = w->start;
	if (r == 0) {
		w->next = hub->watches;
		if (hub->watches != NULL)
			hub->watches->prev = w;
		hub->watches = w;
	}
	pthread_mutex_unlock(&hub->lock);
	return r;
}

int model_watch_next(struct model_watch *w, const char **ret_type, json_t **ret_object,
		     const struct model_watch_notify *notify)
{
	struct model_hub *hub = w->hub;
	json_t *event;
	int r;

	pthread_mutex_lock(&hub->lock);
	if (w->overrun) {
		r = -EPIPE;
	} else if (w->queue_pos < json_array_size(w->queue)) {
		static const char *const types[] = { "ADDED", "MODIFIED", "DELETED",
						     "INITIAL-END" };
		const char *type;

		event = json_array_get(w->queue, w->queue_pos++);
		type = json_string_value(json_array_get(event, 0));
		*ret_type = types[0];
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcmp(type, types[i]) == 0)
				*ret_type = types[i];
		*ret_object = json_incref(json_array_get(event, 1));
		if (w->queue_pos == json_array_size(w->queue)) {
			json_array_clear(w->queue);
			w->queue_pos = 0;
		}
		r = 0;
	} else if (w->awaited != 0 && metrics_now_ns() >= w->awaited_deadline_ns) {
		r = -ETIMEDOUT;
	} else if (w->kicked) {
		w->kicked = false;
		r = -EAGAIN;
	} else {
		if (notify != NULL) {
			w->notify = *notify;
			w->suspended = true;
			notify->suspend(notify->ud);
		}
		r = -EAGAIN;
	}
	pthread_mutex_unlock(&hub->lock);
	return r;
}

void model_watch_kick(struct model_watch *w)
{
	pthread_mutex_lock(&w->hub->lock);
	if (w->suspended) {
		w->suspended = false;
		w->notify.resume(w->notify.ud);
	} else {
		w->kicked = true;
	}
	pthread_mutex_unlock(&w->hub->lock);
}

bool model_watch_due(struct model_watch *w, unsigned long long now_ns)
{
	bool due;

	pthread_mutex_lock(&w->hub->lock);
	due = w->awaited != 0 && now_ns >= w->awaited_deadline_ns;
	pthread_mutex_unlock(&w->hub->lock);
	return due;
}

void model_hub_watch_versions(struct model_watch *w, enum model_kind *ret_kind, int64_t *ret_start,
			      int64_t *ret_newest)
{
	pthread_mutex_lock(&w->hub->lock);
	*ret_newest = w->hub->newest;
	pthread_mutex_unlock(&w->hub->lock);
	*ret_kind = w->kind;
	*ret_start = w->start;
}

int64_t model_watch_version(struct model_watch *w)
{
	int64_t version;

	pthread_mutex_lock(&w->hub->lock);
	version = w->latest;
	pthread_mutex_unlock(&w->hub->lock);
	return version;
}

void model_watch_close(struct model_watch *w)
{
	struct model_hub *hub;

	if (w == NULL)
		return;
	hub = w->hub;
	pthread_mutex_lock(&hub->lock);
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		hub->watches = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	pthread_mutex_unlock(&hub->lock);
	json_decref(w->queue);
	free(w);
}
