/*
 * api_watch.c — one ?watch=true response stream: model events serialised
 * as newline-separated WatchEvent JSON ({"type": ..., "object": ...}), the
 * objects as Tables when the client asked for as=Table, BOOKMARK events
 * when allowed (every API_WATCH_BOOKMARK_S and after sendInitialEvents),
 * and the end of the stream at timeoutSeconds.
 *
 * Threads: api_watch_read runs on the connection's HTTP thread only;
 * api_watch_tick and api_watch_stop may run on any thread and touch only
 * atomics, the model watch (which has its own lock) and, for streams
 * without a model watch (pods: nothing ever happens), w->lock.
 */
#include "api_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

#define API_WATCH_BOOKMARK_S 30

struct api_watch {
	struct model_watch *mw; /* owned; NULL for kinds without objects */
	struct api_watch_options opts;
	char *pending; /* serialised events not yet handed out */
	size_t len, off;
	unsigned long long deadline_ns;
	atomic_ullong next_bookmark_ns;
	atomic_bool stopped;
	bool ended; /* the ERROR event of opts.error went out (HTTP thread only) */
	/* Only for mw == NULL: an idle stream waits for its timeout. */
	pthread_mutex_t lock;
	bool suspended, kicked;
	struct model_watch_notify notify;
};

int api_watch_new(struct model_watch *mw, const struct api_watch_options *opts,
		  struct api_watch **ret)
{
	struct api_watch *w = calloc(1, sizeof(*w));
	unsigned long long now = metrics_now_ns();

	if (w == NULL)
		return -ENOMEM;
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return -ENOMEM;
	}
	w->mw = mw;
	w->opts = *opts;
	w->deadline_ns = now + (unsigned long long)opts->timeout_s * 1000000000ull;
	atomic_store(&w->next_bookmark_ns, now + API_WATCH_BOOKMARK_S * 1000000000ull);
	*ret = w;
	return 0;
}

void api_watch_free(struct api_watch *w)
{
	if (w == NULL)
		return;
	model_watch_close(w->mw);
	json_decref(w->opts.error);
	pthread_mutex_destroy(&w->lock);
	free(w->pending);
	free(w);
}

/* Queue one event's line. */
static int api_watch_emit(struct api_watch *w, const char *type, json_t *object)
{
	json_t *event = json_pack("{s:s, s:o}", "type", type, "object", object);
	char *text = event != NULL ? json_dumps(event, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(event);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	free(w->pending);
	w->pending = realloc(text, len + 2);
	if (w->pending == NULL) {
		free(text);
		return -ENOMEM;
	}
	w->pending[len] = '\n';
	w->pending[len + 1] = '\0';
	w->len = len + 1;
	w->off = 0;
	return 0;
}

/* A BOOKMARK at the newest version the watch knows. */
static int api_watch_bookmark(struct api_watch *w, bool initial_end)
{
	const struct model_kind_info *info = model_kind_info(w->opts.kind);
	char version[24];
	json_t *object;

	snprintf(version, sizeof(version), "%lld",
		 w->mw != NULL ? (long long)model_watch_version(w->mw) : 0LL);
	object = json_pack("{s:s, s:s, s:{s:s}}", "kind", info->kind, "apiVersion",
			   info->api_version, "metadata", "resourceVersion", version);
	if (object != NULL && initial_end &&
	    json_object_set_new(json_object_get(object, "metadata"), "annotations",
				json_pack("{s:s}", "k8s.io/initial-events-end", "true")) < 0) {
		json_decref(object);
		return -ENOMEM;
	}
	if (object == NULL)
		return -ENOMEM;
	return api_watch_emit(w, "BOOKMARK", object);
}

/* Wait for the timeout on a stream with no model watch. */
static int api_watch_idle(struct api_watch *w, const struct model_watch_notify *notify)
{
	pthread_mutex_lock(&w->lock);
	if (w->kicked) {
		w->kicked = false;
	} else if (notify != NULL) {
		w->notify = *notify;
		w->suspended = true;
		notify->suspend(notify->ud);
	}
	pthread_mutex_unlock(&w->lock);
	return -EAGAIN;
}

/* Make the next line ready in w->pending: 0, -EAGAIN (nothing), -EPIPE (end). */
static int api_watch_fill(struct api_watch *w, const struct model_watch_notify *notify)
{
	unsigned long long now = metrics_now_ns();
	const char *type;
	json_t *object;
	int r;

	if (atomic_load(&w->stopped) || now >= w->deadline_ns || w->ended)
		return -EPIPE;
	if (w->opts.error != NULL) {
		object = w->opts.error;
		w->opts.error = NULL;
		w->ended = true;
		return api_watch_emit(w, "ERROR", object);
	}
	if (w->opts.bookmarks && now >= atomic_load(&w->next_bookmark_ns)) {
		atomic_store(&w->next_bookmark_ns, now + API_WATCH_BOOKMARK_S * 1000000000ull);
		return api_watch_bookmark(w, false);
	}
	if (w->mw == NULL)
		return api_watch_idle(w, notify);
	r = model_watch_next(w->mw, &type, &object, notify);
	if (r == -ETIMEDOUT) {
		/* The start version never came: the apiserver's ERROR event. */
		struct model_error err;

		model_watch_failure(w->mw, &err);
		w->ended = true;
		object = api_error_body(ETIMEDOUT, &err);
		return object != NULL ? api_watch_emit(w, "ERROR", object) : -ENOMEM;
	}
	if (r < 0)
		return r;
	if (strcmp(type, "INITIAL-END") == 0) {
		json_decref(object);
		return api_watch_bookmark(w, true);
	}
	if (w->opts.table) {
		json_t *table = api_table(w->opts.kind, object, false, w->opts.include,
					  w->opts.table_version, (long long)time(NULL));

		json_decref(object);
		if (table == NULL)
			return -ENOMEM;
		object = table;
	}
	return api_watch_emit(w, type, object);
}

ssize_t api_watch_read(struct api_watch *w, char *buf, size_t size,
		       const struct model_watch_notify *notify)
{
	size_t n;
	int r;

	if (w->off == w->len) {
		r = api_watch_fill(w, notify);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return -1;
	}
	n = w->len - w->off < size ? w->len - w->off : size;
	memcpy(buf, w->pending + w->off, n);
	w->off += n;
	return (ssize_t)n;
}

/* Wake the consumer once. */
static void api_watch_wake(struct api_watch *w)
{
	if (w->mw != NULL) {
		model_watch_kick(w->mw);
		return;
	}
	pthread_mutex_lock(&w->lock);
	if (w->suspended) {
		w->suspended = false;
		w->notify.resume(w->notify.ud);
	} else {
		w->kicked = true;
	}
	pthread_mutex_unlock(&w->lock);
}

bool api_watch_tick(struct api_watch *w, unsigned long long now_ns)
{
	if (now_ns < w->deadline_ns &&
	    (!w->opts.bookmarks || now_ns < atomic_load(&w->next_bookmark_ns)) &&
	    (w->mw == NULL || !model_watch_due(w->mw, now_ns)))
		return false;
	api_watch_wake(w);
	return true;
}

void api_watch_stop(struct api_watch *w)
{
	atomic_store(&w->stopped, true);
	api_watch_wake(w);
}
